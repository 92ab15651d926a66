// SPDX-License-Identifier: GPL-2.0
/* The zero-copy path's system calls and the checks around them (keep.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "tools/nvwa/keep.h"

#define KEEP_PID_MAX 4194304		/* the kernel's PID_MAX_LIMIT, 64-bit */

int keep_open(bool load, char *why, size_t whylen)
{
	const char *modprobe[] = { "modprobe", KEEP_MODULE, NULL };
	char out[256];
	int fd, r;

	fd = open(KEEP_DEV, O_RDWR | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT || !load)
		return fd >= 0 ? fd : set_why(why, whylen, -errno, "%s: %s", KEEP_DEV,
					      strerror(errno));
	r = run_capture(modprobe, out, sizeof(out));
	if (r != 0) {
		out[strcspn(out, "\n")] = '\0';
		return set_why(why, whylen, -ENODEV, "modprobe %s failed: %s", KEEP_MODULE,
			       r < 0 ? strerror(-r) : out);
	}
	fd = open(KEEP_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return set_why(why, whylen, -errno, "%s after modprobe %s: %s", KEEP_DEV,
			       KEEP_MODULE, strerror(errno));
	return fd;
}

static int keep_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

int keep_begin(int fd, uint64_t *ret_head)
{
	struct nvwa_keep_begin b = { 0 };
	int r = keep_ioctl(fd, NVWA_KEEP_IOC_BEGIN, &b);

	if (!r)
		*ret_head = b.head;
	return r;
}

int keep_check(int fd)
{
	return ioctl(fd, NVWA_KEEP_IOC_CHECK) < 0 ? -errno : 0;
}

int keep_take(int fd, pid_t pid, struct nvwa_keep_take *ret)
{
	*ret = (struct nvwa_keep_take){ .pid = (__u32)pid };
	return keep_ioctl(fd, NVWA_KEEP_IOC_TAKE, ret);
}

int keep_seal(int fd, struct nvwa_keep_seal *ret)
{
	*ret = (struct nvwa_keep_seal){ 0 };
	return keep_ioctl(fd, NVWA_KEEP_IOC_SEAL, ret);
}

int keep_abort(int fd)
{
	return ioctl(fd, NVWA_KEEP_IOC_ABORT) < 0 ? -errno : 0;
}

int keep_give(int fd, pid_t owner, pid_t pid, bool checkpoint, struct nvwa_keep_give *ret)
{
	*ret = (struct nvwa_keep_give){ .owner = (__u32)owner, .pid = (__u32)pid,
					.checkpoint = checkpoint };
	return keep_ioctl(fd, NVWA_KEEP_IOC_GIVE, ret);
}

int keep_hold(int fd, pid_t pid, struct nvwa_keep_take *ret)
{
	*ret = (struct nvwa_keep_take){ .pid = (__u32)pid };
	return keep_ioctl(fd, NVWA_KEEP_IOC_HOLD, ret);
}

int keep_drop(int fd, pid_t owner, uint64_t *ret_frames)
{
	struct nvwa_keep_owned o = { .owner = (__u32)owner };
	int r = keep_ioctl(fd, NVWA_KEEP_IOC_DROP, &o);

	*ret_frames = r ? 0 : o.frames;
	return r;
}

int keep_give_tree(int fd, const pid_t *tree, size_t n, bool checkpoint, struct keep_given *ret,
		   char *why, size_t whylen)
{
	struct nvwa_keep_give g;
	int r = 0;

	*ret = (struct keep_given){ 0 };
	for (size_t k = 0; k < n; k++) {
		r = keep_stopped(tree[k]);
		if (r == 0)
			return set_why(why, whylen, -EBUSY, "%d ran before its kept pages were back",
				       tree[k]);
		if (r < 0)
			return set_why(why, whylen, r, "%d is gone", tree[k]);
		r = keep_give(fd, tree[k], tree[k], checkpoint, &g);
		if (r == -ENODATA)
			return set_why(why, whylen, r, checkpoint ?
				       "this kernel keeps no memory for %d" :
				       "this kernel was handed no kept pages (was nvwa.keep= lost from its command line?)",
				       tree[k]);
		if (r < 0)
			return set_why(why, whylen, r, "%s refused %d's pages: %s", KEEP_DEV, tree[k],
				       strerror(-r));
		/* Counted even if some failed: those frames are spent. */
		ret->installed += g.installed;
		ret->huge += g.huge;
		ret->copied += g.copied;
		ret->replaced += g.replaced;
		ret->processes++;
		if (g.failed)
			return set_why(why, whylen, -EFAULT, "%llu of %d's kept pages could not go back (no mapping there, a memory cgroup at its limit, a poisoned frame: see the kernel log)",
				       (unsigned long long)g.failed, tree[k]);
		/* A tree: each process's share, so none goes unseen. */
		if (n > 1)
			log_info("    process %d: %llu pages back in place, %llu copied", tree[k],
				 (unsigned long long)g.installed, (unsigned long long)g.copied);
	}
	return 0;
}

int keep_held_parse(const char *buf, size_t len, struct keep_held *ret, char *why, size_t whylen)
{
	const char *p = buf, *end = buf + len;

	ret->n = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[64], *e;
		unsigned long long frames;
		long pid;

		if (!l) {
			p++;
			continue;
		}
		if (l >= sizeof(line) || ret->n == NVWA_KEEP_TREE_MAX)
			return set_why(why, whylen, -EBADMSG, "line %zu: too long, or too many",
				       ret->n + 1);
		memcpy(line, p, l);
		line[l] = '\0';
		p += l + 1;
		errno = 0;
		if (strncmp(line, "pid ", 4) || (pid = strtol(line + 4, &e, 10)) <= 0 ||
		    pid > KEEP_PID_MAX || strncmp(e, " frames ", 8) || !isdigit((unsigned char)e[8]) ||
		    ((frames = strtoull(e + 8, &e, 10)), errno) || *e || !frames)
			return set_why(why, whylen, -EBADMSG, "not \"pid P frames N\": \"%.40s\"",
				       line);
		ret->pid[ret->n] = (pid_t)pid;
		ret->frames[ret->n++] = frames;
	}
	return 0;
}

size_t keep_held_format(const struct keep_held *h, char *buf, size_t size)
{
	size_t len = 0;

	for (size_t i = 0; i < h->n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "pid %d frames %" PRIu64 "\n",
					(int)h->pid[i], h->frames[i]);
	return len < size ? len : size;
}

int keep_release(int fd, uint64_t *ret_freed)
{
	__u64 freed = 0;
	int r = keep_ioctl(fd, NVWA_KEEP_IOC_RELEASE, &freed);

	*ret_freed = freed;
	return r;
}

int keep_status(int fd, struct nvwa_keep_status *ret)
{
	*ret = (struct nvwa_keep_status){ 0 };
	return keep_ioctl(fd, NVWA_KEEP_IOC_STATUS, ret);
}

int keep_owned(int fd, pid_t owner, bool checkpoint, uint64_t *ret_frames)
{
	struct nvwa_keep_owned o = { .owner = (__u32)owner, .checkpoint = checkpoint };
	int r = keep_ioctl(fd, NVWA_KEEP_IOC_OWNED, &o);

	if (!r)
		*ret_frames = o.frames;
	return r;
}

#ifdef NVWA_FAULTS
int keep_damage(const char *what)
{
	int r;

	if (access(KEEP_DAMAGE, F_OK) < 0 &&
	    mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL) < 0 && errno != EBUSY)
		return -errno;
	r = write_file(KEEP_DAMAGE_ALLOW, "1", 1);
	return r < 0 ? r : write_file(KEEP_DAMAGE, what, strlen(what));
}
#endif

const char *keep_state_name(uint32_t state)
{
	static const char *const names[] = {
		[NVWA_KEEP_IDLE] = "idle",
		[NVWA_KEEP_TAKING] = "taking",
		[NVWA_KEEP_SEALED] = "sealed",
		[NVWA_KEEP_HANDED] = "handed-over",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "unknown";
}

int keep_stopped(pid_t pid)
{
	char path[64], stat[512], *p;
	struct dirent *de;
	DIR *d;
	int all = 1;

	xsnprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -ESRCH;
	while (all && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		xsnprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid, de->d_name);
		if (read_one_line(path, stat, sizeof(stat)) < 0)
			continue;	/* the thread exited */
		/* "PID (comm) S ...": comm may hold spaces and parentheses. */
		p = strrchr(stat, ')');
		all = p && p[1] == ' ' && (p[2] == 'T' || p[2] == 't');
	}
	closedir(d);
	return all;
}

int keep_stop_tree(const pid_t *tree, size_t n, int timeout_ms)
{
	struct timespec pause = { .tv_nsec = 1000 * 1000 };
	size_t i;
	int r = 0;

	for (i = 0; i < n; i++)
		if (kill(tree[i], SIGSTOP) < 0 && errno != ESRCH)
			return -errno;
	for (int ms = 0; ms <= timeout_ms; ms++) {
		for (i = 0; i < n; i++) {
			r = keep_stopped(tree[i]);
			if (r == 0)
				break;
		}
		if (i == n)
			return 0;
		nanosleep(&pause, NULL);
	}
	return -ETIMEDOUT;
}

/* Shared anonymous memory: shmem no file on a mounted filesystem names. */
static bool shared_anon(const char *perms, const char *path)
{
	return perms[3] == 's' &&
	       (!strcmp(path, "/dev/zero (deleted)") || !strncmp(path, "/SYSV", 5) ||
		!strncmp(path, "/memfd:", 7));
}

struct shared_object {
	unsigned int major, minor;
	unsigned long inode;
	unsigned long kb;		/* the most any process has resident */
};

/* Adds @kb resident of object @o to @objs, at most @max of them. */
static void shared_note(struct shared_object *objs, size_t *n, size_t max,
			const struct shared_object *o)
{
	for (size_t i = 0; i < *n; i++)
		if (objs[i].major == o->major && objs[i].minor == o->minor &&
		    objs[i].inode == o->inode) {
			if (o->kb > objs[i].kb)
				objs[i].kb = o->kb;
			return;
		}
	if (*n < max)
		objs[(*n)++] = *o;
}

int keep_shared_pages(const pid_t *tree, size_t n, uint64_t *ret_pages)
{
	struct shared_object objs[256], cur = { 0 };
	char path[64], line[512], perms[8];
	size_t nobjs = 0, read_ok = 0;
	unsigned long kb;
	uint64_t pages = 0;
	bool in = false;
	int off;

	for (size_t k = 0; k < n; k++) {
		FILE *f;

		xsnprintf(path, sizeof(path), "/proc/%d/smaps", (int)tree[k]);
		f = fopen(path, "re");
		if (!f)
			continue;
		read_ok++;
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			/* A mapping's first line: "LO-HI PERMS OFFSET MAJ:MIN INODE PATH". */
			off = 0;
			if (sscanf(line, "%*x-%*x %7s %*x %x:%x %lu %n", perms, &cur.major,
				   &cur.minor, &cur.inode, &off) == 4 && off > 0) {
				in = strlen(perms) == 4 && shared_anon(perms, line + off);
				continue;
			}
			if (in && sscanf(line, "Rss: %lu kB", &kb) == 1) {
				cur.kb = kb;
				shared_note(objs, &nobjs, sizeof(objs) / sizeof(objs[0]), &cur);
				in = false;
			}
		}
		fclose(f);
	}
	if (n && !read_ok)
		return -ESRCH;
	for (size_t i = 0; i < nobjs; i++)
		pages += objs[i].kb * 1024 / (unsigned long)sysconf(_SC_PAGESIZE);
	*ret_pages = pages;
	return 0;
}

