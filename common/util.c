// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

int read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
	size_t len = 0, cap = 4096;
	char *buf = NULL, *p;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap || !buf) {
			if (buf)
				cap *= 2;
			p = realloc(buf, cap);
			if (!p) {
				r = -ENOMEM;
				goto cleanup;
			}
			buf = p;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto cleanup;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			r = -EFBIG;
			goto cleanup;
		}
	}
	buf[len] = '\0';
	*ret_buf = buf;
	if (ret_len)
		*ret_len = len;
	buf = NULL;
	r = 0;
cleanup:
	free(buf);
	close(fd);
	return r;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_open(const char *path, int flags, const void *buf,
		      size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | flags, 0600);
	int r;

	if (fd < 0)
		return -errno;
	r = write_all(fd, buf, len);
	if (close(fd) < 0 && !r)
		r = -errno;
	return r;
}

int write_file(const char *path, const void *buf, size_t len)
{
	return write_open(path, 0, buf, len);
}

/* Creates or truncates: for files where rename() is not available. */
int write_file_create(const char *path, const void *buf, size_t len)
{
	return write_open(path, O_CREAT | O_TRUNC, buf, len);
}

int copy_file(const char *from, const char *to, size_t max)
{
	size_t len;
	char *data;
	int r;

	r = read_file(from, max, &data, &len);
	if (r < 0)
		return r;
	r = write_file_atomic(to, data, len);
	free(data);
	return r;
}

int tmpfile_beside(const char *path, char *ret_tmp, size_t size)
{
	int fd;

	if (snprintf(ret_tmp, size, "%s.XXXXXX", path) >= (int)size)
		return -ENAMETOOLONG;
	/* O_EXCL under the hood: a planted file or link is never opened. */
	fd = mkostemp(ret_tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fd;
}

int write_file_atomic(const char *path, const void *buf, size_t len)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, dfd, r;

	if (strscpy(dir, path, sizeof(dir)) < 0)
		return -ENAMETOOLONG;
	fd = tmpfile_beside(path, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	r = write_all(fd, buf, len);
	if (!r && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r) {
		unlink(tmp);
		return r;
	}
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd) < 0)
			r = -errno;
		close(dfd);
	}
	return r;
}

int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	char *p;
	int r = strscpy(buf, path, sizeof(buf));

	if (r < 0)
		return r;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int type,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) < 0 ? -1 : 0;
	return unlink(path) < 0 ? -1 : 0;
}

int rm_rf(const char *path)
{
	if (access(path, F_OK) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return -errno;
	return 0;
}

/* nftw() passes no argument of the caller's: du_bytes() is not reentrant. */
static uint64_t tree_bytes;

static int add_bytes(const char *path, const struct stat *st, int type,
		     struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (type == FTW_F)
		tree_bytes += (uint64_t)st->st_size;
	return 0;
}

int du_bytes(const char *path, uint64_t *ret)
{
	tree_bytes = 0;
	if (nftw(path, add_bytes, 16, FTW_PHYS) < 0)
		return -errno;
	*ret = tree_bytes;
	return 0;
}

int strscpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (!size)
		return -ENAMETOOLONG;
	if (len >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -ENAMETOOLONG;
	}
	memcpy(dst, src, len + 1);
	return (int)len;
}

char *strstrip(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' ||
		     s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

bool startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int read_one_line(const char *path, char *buf, size_t size)
{
	char *content;
	char *nl;
	int r;

	r = read_file(path, 1 << 16, &content, NULL);
	if (r < 0)
		return r;
	nl = strchr(content, '\n');
	if (nl)
		*nl = '\0';
	r = strscpy(buf, strstrip(content), size);
	free(content);
	return r < 0 ? r : 0;
}

int wait_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return CHILD_KILLED + WTERMSIG(status);
	return -ECHILD;
}

const char *child_status_str(int status, char *buf, size_t size)
{
	if (status >= CHILD_KILLED)
		snprintf(buf, size, "killed by signal %d (%s)", status - CHILD_KILLED,
			 strsignal(status - CHILD_KILLED));
	else
		snprintf(buf, size, "exit status %d", status);
	return buf;
}

pid_t spawn(const char *const *argv, const char *log_path)
{
	pid_t pid;
	int fd = -1;

	if (log_path) {
		fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			  0600);
		if (fd < 0)
			return -errno;
	}
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		if (fd >= 0)
			close(fd);
		return r;
	}
	if (pid == 0) {
		sigset_t none;

		/*
		 * The caller decides about Ctrl-C, not the helper: leave the
		 * terminal's process group, and drop the caller's held signals.
		 */
		setpgid(0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot run %s: %m\n", argv[0]);
		_exit(127);
	}
	if (fd >= 0)
		close(fd);
	return pid;
}

int run(const char *const *argv, const char *log_path)
{
	pid_t pid = spawn(argv, log_path);

	return pid < 0 ? pid : wait_child(pid);
}

int run_capture(const char *const *argv, char *out, size_t size)
{
	size_t len = 0;
	int pfd[2], r;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return r;
	}
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot run %s: %m\n", argv[0]);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		char sink[512];
		ssize_t n;

		if (len + 1 < size)
			n = read(pfd[0], out + len, size - len - 1);
		else
			n = read(pfd[0], sink, sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len + 1 < size)
			len += (size_t)n;
	}
	if (size)
		out[len] = '\0';
	close(pfd[0]);
	return wait_child(pid);
}

int parse_size(const char *s, char **ret_end, unsigned long long *ret)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return -errno;
	switch (*end) {
	case 'T': case 't': shift = 40; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'K': case 'k': shift = 10; end++; break;
	}
	if (shift && v > (~0ull >> shift))
		return -ERANGE;
	if (!ret_end && *end)
		return -EINVAL;
	*ret = v << shift;
	if (ret_end)
		*ret_end = end;
	return 0;
}

int parse_pid(const char *s, pid_t *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT_MAX)
		return -EINVAL;
	*ret = (pid_t)v;
	return 0;
}

int xsnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	return (size_t)n >= size ? -ENAMETOOLONG : n;
}

int proc_tree(pid_t pid, pid_t *tree, size_t max, size_t *ret_n)
{
	char path[64], *children, *p, *end;
	struct dirent *de;
	int r = 0;
	DIR *d;

	if (*ret_n == max)
		return -E2BIG;
	tree[(*ret_n)++] = pid;
	xsnprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while (!r && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		xsnprintf(path, sizeof(path), "/proc/%d/task/%s/children", pid, de->d_name);
		if (read_file(path, 1 << 20, &children, NULL) < 0)
			continue;
		for (p = children; !r && *p; p = end) {
			long child = strtol(p, &end, 10);

			if (end == p)
				break;
			r = proc_tree((pid_t)child, tree, max, ret_n);
		}
		free(children);
	}
	closedir(d);
	return r;
}

int proc_tree_last_tid(pid_t pid, pid_t *ret)
{
	const size_t max = 4096;
	pid_t *tree = calloc(max, sizeof(*tree)), last = pid;
	char path[64];
	struct dirent *de;
	size_t n = 0;
	DIR *d;
	int r;

	if (!tree)
		return -ENOMEM;
	r = proc_tree(pid, tree, max, &n);
	for (size_t i = 0; !r && i < n; i++) {
		xsnprintf(path, sizeof(path), "/proc/%d/task", tree[i]);
		d = opendir(path);
		if (!d)
			continue;	/* gone since: its threads with it */
		while ((de = readdir(d))) {
			long tid = strtol(de->d_name, NULL, 10);

			if (tid > last)
				last = (pid_t)tid;
		}
		closedir(d);
	}
	free(tree);
	if (!r)
		*ret = last;
	return r;
}

double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int parse_u64(const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-')
		return -EINVAL;
	*ret = v;
	return 0;
}

int set_whyv(char *why, size_t whylen, int err, const char *fmt, va_list ap)
{
	if (why && whylen)
		vsnprintf(why, whylen, fmt, ap);
	return err;
}

int set_why(char *why, size_t whylen, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_whyv(why, whylen, err, fmt, ap);
	va_end(ap);
	return err;
}

/* Takes @s (allocated, or NULL when its allocation failed). */
static void argv_push(struct argv *a, char *s)
{
	if (!a->error && !s)
		a->error = -ENOMEM;
	if (a->error) {
		free(s);
		return;
	}
	/* One slot more than the arguments, for the terminating NULL. */
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		char **v = realloc(a->v, cap * sizeof(*v));

		if (!v) {
			a->error = -ENOMEM;
			free(s);
			return;
		}
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

void argv_addv(struct argv *a, ...)
{
	const char *s;
	va_list ap;

	va_start(ap, a);
	while ((s = va_arg(ap, const char *)))
		argv_push(a, strdup(s));
	va_end(ap);
}

void argv_addf(struct argv *a, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	argv_push(a, s);
}

int argv_error(const struct argv *a)
{
	return a->error;
}

const char *const *argv_get(const struct argv *a)
{
	static const char *const empty[] = { NULL };

	return a->v ? (const char *const *)a->v : empty;
}

void argv_free(struct argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	*a = ARGV_INIT;
}
