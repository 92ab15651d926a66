// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "tools/nvwa/criu.h"

static const char *criu_bin(void)
{
	const char *bin = getenv("NVWA_CRIU");

	return bin && *bin ? bin : "criu";
}

const char *criu_plugin_dir(void)
{
	const char *dir = getenv("NVWA_CRIU_PLUGIN_DIR");

	return dir && *dir ? dir : CRIU_PLUGIN_DIR;
}

int criu_plugin_present(char *ret_path, size_t size)
{
	if (xsnprintf(ret_path, size, "%s/%s", criu_plugin_dir(), CRIU_PLUGIN_NAME) < 0)
		return -ENAMETOOLONG;
	return access(ret_path, R_OK) ? -ENOENT : 0;
}

/* -L DIR, so a criu run by nvwa loads nvwa's plugin (CRIU fails on a missing DIR). */
static void add_plugin_dir(struct argv *a)
{
	struct stat st;

	if (stat(criu_plugin_dir(), &st) == 0 && S_ISDIR(st.st_mode))
		argv_add(a, "-L", criu_plugin_dir());
}

/*
 * CRIU's error lines that never say why a dump or restore failed: the
 * feature probes it runs first (a tun device, a veth pair, a socket-diag
 * module this kernel lacks) and the summary it prints last.
 */
static const char *const criu_noise[] = {
	"kerndat",
	"Unable to create tun",
	"Unable to create a veth pair",
	"Can't create sock diag socket",
	"Restoring FAILED",
	"Dumping FAILED",
	"Pre-dumping FAILED",
};

static bool criu_noise_line(const char *msg)
{
	for (size_t i = 0; i < ARRAY_SIZE(criu_noise); i++)
		if (strstr(msg, criu_noise[i]))
			return true;
	return false;
}

/* Appends @msg to @why ("; " between); false once it is full. */
static bool add_reason(char *why, size_t whylen, size_t *used, const char *msg)
{
	if (*used + strlen(msg) + 3 >= whylen)
		return false;
	*used += (size_t)snprintf(why + *used, whylen - *used, "%s%s", *used ? "; " : "", msg);
	return true;
}

/*
 * Collects CRIU's "Error (...)" lines from @log into @why, the first one
 * that is not noise (above) first: CRIU stops at its first real error,
 * and what follows it are consequences.  Noise is given only when there
 * is nothing else.
 */
void criu_errors(const char *log, char *why, size_t whylen)
{
	char line[1024], noise[CRIU_WHY_MAX] = "";
	size_t used = 0, nused = 0;
	FILE *f;

	if (!whylen)
		return;
	why[0] = '\0';
	f = fopen(log, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *e = strstr(line, "Error (");
		char *msg;

		if (!e)
			continue;
		msg = strstr(e, "): ");
		msg = msg ? msg + 3 : e;
		strstrip(msg);
		if (criu_noise_line(msg))
			add_reason(noise, sizeof(noise), &nused, msg);
		else if (!add_reason(why, whylen, &used, msg))
			break;
	}
	fclose(f);
	if (!used && nused)
		xsnprintf(why, whylen, "%s", noise);
	else if (!used)
		xsnprintf(why, whylen, "no error line in %s", log);
}

/*
 * The criu running now, and the signal that stopped nvwa (criu_stop_on()).
 * spawn() gives criu a process group of its own: killing the group takes
 * the tasks it forked and has not yet given their own group, a half-made
 * restore, with it.
 */
static volatile pid_t criu_running;
static volatile sig_atomic_t criu_stop;

static void kill_criu(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
}

static void stop_criu(int sig)
{
	pid_t pid = criu_running;

	criu_stop = sig;
	if (pid > 0)
		kill_criu(pid);
}

void criu_stop_on(const int *sigs, size_t n)
{
	struct sigaction sa = { .sa_handler = stop_criu };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < n; i++)
		sigaction(sigs[i], &sa, NULL);
}

int criu_stopped(void)
{
	return criu_stop;
}

/* Runs criu (@argv) to its end, or until a stop kills it. */
static int criu_wait(const char *const *argv)
{
	pid_t pid;
	int r;

	if (criu_stop)
		return CHILD_KILLED + SIGKILL;
	pid = spawn(argv, NULL);
	if (pid < 0)
		return pid;
	criu_running = pid;
	/* A stop between the check above and here found no criu to kill. */
	if (criu_stop)
		kill_criu(pid);
	r = wait_child(pid);
	criu_running = 0;
	return r;
}

/* Runs @a, the arguments of one criu command, and frees them. */
static int criu_run(struct argv *a, const char *dir, const char *logname,
		    char *why, size_t whylen)
{
	const char *const *argv = argv_get(a);
	char log[PATH_MAX];
	int r;

	r = argv_error(a);
	if (r < 0) {
		argv_free(a);
		return set_why(why, whylen, r, "cannot build criu's arguments: %s", strerror(-r));
	}
	xsnprintf(log, sizeof(log), "%s/%s", dir, logname);
	r = criu_wait(argv);
	/* Killed by the stop, or, in a unit's cgroup, by the same TERM. */
	if (r >= CHILD_KILLED && criu_stop) {
		set_why(why, whylen, 0, "%s %s was killed: nvwa got SIG%s", argv[0], argv[1],
			sigabbrev_np(criu_stop));
		r = -EINTR;
	} else if (r < 0) {
		xsnprintf(why, whylen, "cannot run %s: %s", argv[0], strerror(-r));
	} else if (r >= CHILD_KILLED) {
		char st[64], errs[CRIU_WHY_MAX];

		/* A crash says nothing in the log's error lines: say it first. */
		criu_errors(log, errs, sizeof(errs));
		set_why(why, whylen, 0, "%s %s was %s; %s", argv[0], argv[1],
			child_status_str(r, st, sizeof(st)), errs);
		r = -ECANCELED;
	} else if (r > 0) {
		criu_errors(log, why, whylen);
		log_debug("%s %s exited with %d, log %s", argv[0], argv[1], r, log);
		r = -ECANCELED;
	}
	argv_free(a);
	return r;
}

int criu_check(char *why, size_t whylen)
{
	const char *argv[] = { criu_bin(), "check", NULL };
	char out[1024];
	int r;

	r = run_capture(argv, out, sizeof(out));
	if (r == 0)
		return 0;
	if (r < 0)
		xsnprintf(why, whylen, "cannot run %s: %s", argv[0], strerror(-r));
	else
		xsnprintf(why, whylen, "`criu check` failed: %s", strstrip(out));
	return r < 0 ? r : -EOPNOTSUPP;
}

int criu_pre_dump(pid_t pid, const char *dir, char *why, size_t whylen)
{
	struct argv a = ARGV_INIT;

	argv_add(&a, criu_bin(), "pre-dump", "-t");
	argv_addf(&a, "%d", (int)pid);
	argv_add(&a, "-D", dir, "--track-mem", "-o", "pre-dump.log", "-v4");
	add_plugin_dir(&a);
	return criu_run(&a, dir, "pre-dump.log", why, whylen);
}

/*
 * Walks "FD:INODE" words (unit_stdio_sockets()); calls @fn for each
 * well-formed one.  -EINVAL for anything else.
 */
static int for_each_stdio(const char *stdio, struct argv *a,
			  void (*fn)(struct argv *a, unsigned int fd, unsigned long ino))
{
	const char *p = stdio;

	while (p && *p) {
		unsigned int fd;
		unsigned long ino;
		int n = 0;

		if (sscanf(p, "%u:%lu%n", &fd, &ino, &n) != 2 || fd > 2 || !ino)
			return -EINVAL;
		fn(a, fd, ino);
		p += n;
		p += strspn(p, " ");
	}
	return 0;
}

static void add_external(struct argv *a, unsigned int fd, unsigned long ino)
{
	(void)fd;
	argv_add(a, "--external");
	argv_addf(a, "unix[%lu]", ino);
}

static void add_inherit(struct argv *a, unsigned int fd, unsigned long ino)
{
	argv_add(a, "--inherit-fd");
	argv_addf(a, "fd[%u]:socket:[%lu]", fd, ino);
}

/* CRIU's network lock through libnftables: no iptables binaries needed. */
static void add_tcp(struct argv *a, const struct criu_extra *x)
{
	if (x && x->tcp_established)
		argv_add(a, "--tcp-established", "--network-lock", "nftables");
}

int criu_dump(pid_t pid, const char *dir, const char *parent,
	      enum criu_after after, const struct criu_extra *x, char *why, size_t whylen)
{
	const char *stdio = x ? x->stdio : NULL;
	struct argv a = ARGV_INIT;

	argv_add(&a, criu_bin(), "dump", "-t");
	argv_addf(&a, "%d", (int)pid);
	argv_add(&a, "-D", dir, "--track-mem", "-o", "dump.log", "-v4");
	if (after == CRIU_LEAVE_STOPPED)
		argv_add(&a, "--leave-stopped");
	else if (after == CRIU_LEAVE_RUNNING)
		argv_add(&a, "--leave-running");
	if (parent)
		argv_add(&a, "--prev-images-dir", parent);
	/*
	 * A connection still in a listening socket's accept queue was never
	 * seen by the application: CRIU cannot keep it, and its client gets
	 * a reset and connects again, to the restored server.
	 */
	argv_add(&a, "--skip-in-flight");
	if (for_each_stdio(stdio, &a, add_external) < 0) {
		argv_free(&a);
		return set_why(why, whylen, -EINVAL, "malformed stdio sockets '%s'", stdio);
	}
	add_tcp(&a, x);
	add_plugin_dir(&a);
	return criu_run(&a, dir, "dump.log", why, whylen);
}

#define CRIU_PIDFILE "restored.pid"

int criu_restored_pid(const char *dir, pid_t *ret)
{
	char path[PATH_MAX], line[32];
	int r;

	if (xsnprintf(path, sizeof(path), "%s/%s", dir, CRIU_PIDFILE) < 0)
		return -ENAMETOOLONG;
	r = read_one_line(path, line, sizeof(line));
	return r < 0 ? r : parse_pid(line, ret);
}

/*
 * Where criu is to write the root's PID: an absolute path (criu opens it
 * from its work directory) to a file that must not exist yet.
 */
static int pidfile_path(const char *dir, char *path, size_t size)
{
	char abs[PATH_MAX];

	if (!realpath(dir, abs))
		return -errno;
	if (xsnprintf(path, size, "%s/%s", abs, CRIU_PIDFILE) < 0)
		return -ENAMETOOLONG;
	unlink(path);
	return 0;
}

int criu_restore(const char *dir, const struct criu_extra *x, char *why, size_t whylen)
{
	const char *stdio = x ? x->stdio : NULL;
	struct argv a = ARGV_INIT;
	char pidfile[PATH_MAX];
	int r;

	r = pidfile_path(dir, pidfile, sizeof(pidfile));
	if (r < 0)
		return r;
	argv_add(&a, criu_bin(), "restore", "-D", dir, "--restore-detached",
		 "-o", "restore.log", "-v4", "--pidfile", pidfile);
	if (for_each_stdio(stdio, &a, add_inherit) < 0) {
		argv_free(&a);
		return set_why(why, whylen, -EINVAL, "malformed stdio sockets '%s'", stdio);
	}
	add_tcp(&a, x);
	add_plugin_dir(&a);
	return criu_run(&a, dir, "restore.log", why, whylen);
}

/*
 * The daemon is ready once its socket exists; it exits at once if it
 * cannot serve (no userfaultfd).  -EOPNOTSUPP means it exited and was
 * reaped here.
 */
static int wait_for_socket(pid_t daemon, const char *path)
{
	struct timespec pause = { .tv_nsec = 5 * 1000 * 1000 };
	struct stat st;
	int status;

	for (int i = 0; i < 2000; i++) {
		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		if (waitpid(daemon, &status, WNOHANG) == daemon)
			return -EOPNOTSUPP;
		nanosleep(&pause, NULL);
	}
	return -ETIMEDOUT;
}

static void stop_daemon(pid_t daemon)
{
	kill(daemon, SIGTERM);
	wait_child(daemon);
}

int criu_restore_lazy(const char *dir, const struct criu_extra *x, pid_t *ret_daemon,
		      char *why, size_t whylen)
{
	char sock[PATH_MAX], log[PATH_MAX], pidfile[PATH_MAX];
	const char *lazy[] = { criu_bin(), "lazy-pages", "-D", dir,
			       "-o", "lazy-pages.log", "-v4", NULL };
	struct argv restore = ARGV_INIT;
	pid_t daemon;
	int r;

	r = pidfile_path(dir, pidfile, sizeof(pidfile));
	if (r < 0)
		return r;
	if (xsnprintf(sock, sizeof(sock), "%s/lazy-pages.socket", dir) < 0 ||
	    xsnprintf(log, sizeof(log), "%s/lazy-pages.log", dir) < 0)
		return -ENAMETOOLONG;
	unlink(sock);
	daemon = spawn(lazy, NULL);
	if (daemon < 0) {
		xsnprintf(why, whylen, "cannot run %s: %s", lazy[0], strerror(-daemon));
		return daemon;
	}
	r = wait_for_socket(daemon, sock);
	if (r < 0) {
		if (r == -ETIMEDOUT)
			stop_daemon(daemon);
		criu_errors(log, why, whylen);
		return r;
	}
	argv_add(&restore, criu_bin(), "restore", "-D", dir, "--restore-detached",
		 "--lazy-pages", "-o", "restore.log", "-v4", "--pidfile", pidfile);
	if (x && for_each_stdio(x->stdio, &restore, add_inherit) < 0) {
		argv_free(&restore);
		stop_daemon(daemon);
		return set_why(why, whylen, -EINVAL, "malformed stdio sockets '%s'", x->stdio);
	}
	add_tcp(&restore, x);
	add_plugin_dir(&restore);
	r = criu_run(&restore, dir, "restore.log", why, whylen);
	if (r < 0) {
		stop_daemon(daemon);
		return r;
	}
	*ret_daemon = daemon;
	return 0;
}

int criu_lazy_wait(pid_t daemon, const char *dir, char *why, size_t whylen)
{
	char log[PATH_MAX];
	int r = wait_child(daemon);

	if (r == 0)
		return 0;
	xsnprintf(log, sizeof(log), "%s/lazy-pages.log", dir);
	criu_errors(log, why, whylen);
	return -EIO;
}
