// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "criu.h"
#include "log.h"
#include "util.h"

static const char *criu_bin(void)
{
	const char *bin = getenv("NVWA_CRIU");

	return bin && *bin ? bin : "criu";
}

/*
 * Collects CRIU's "Error (...)" lines from @log into @why: they name the
 * resource it refused, which is what the operator needs to know.
 */
static void criu_errors(const char *log, char *why, size_t whylen)
{
	char line[1024];
	size_t used = 0;
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
		if (used + strlen(msg) + 3 >= whylen)
			break;
		used += (size_t)snprintf(why + used, whylen - used, "%s%s",
					 used ? "; " : "", msg);
	}
	fclose(f);
	if (!used)
		xsnprintf(why, whylen, "no error line in %s", log);
}

static int criu_run(const char *const *argv, const char *dir, const char *logname,
		    char *why, size_t whylen)
{
	char log[PATH_MAX];
	int r;

	xsnprintf(log, sizeof(log), "%s/%s", dir, logname);
	r = run(argv, NULL);
	if (r < 0) {
		xsnprintf(why, whylen, "cannot run %s: %s", argv[0], strerror(-r));
		return r;
	}
	if (r > 0) {
		criu_errors(log, why, whylen);
		log_debug("%s %s exited with %d, log %s", argv[0], argv[1], r, log);
		return -ECANCELED;
	}
	return 0;
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
	char spid[16];
	const char *argv[] = { criu_bin(), "pre-dump", "-t", spid, "-D", dir,
			       "--track-mem", "-o", "pre-dump.log", "-v4", NULL };

	xsnprintf(spid, sizeof(spid), "%d", (int)pid);
	return criu_run(argv, dir, "pre-dump.log", why, whylen);
}

int criu_dump(pid_t pid, const char *dir, const char *parent, char *why,
	      size_t whylen)
{
	char spid[16];
	const char *argv[16] = { criu_bin(), "dump", "-t", spid, "-D", dir,
				 "--track-mem", "--leave-stopped",
				 "-o", "dump.log", "-v4" };
	int argc = 11;

	xsnprintf(spid, sizeof(spid), "%d", (int)pid);
	if (parent) {
		argv[argc++] = "--prev-images-dir";
		argv[argc++] = parent;
	}
	argv[argc] = NULL;
	return criu_run(argv, dir, "dump.log", why, whylen);
}

int criu_restore(const char *dir, char *why, size_t whylen)
{
	const char *argv[] = { criu_bin(), "restore", "-D", dir,
			       "--restore-detached", "-o", "restore.log", "-v4",
			       NULL };

	return criu_run(argv, dir, "restore.log", why, whylen);
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

int criu_restore_lazy(const char *dir, pid_t *ret_daemon, char *why,
		      size_t whylen)
{
	const char *lazy[] = { criu_bin(), "lazy-pages", "-D", dir,
			       "-o", "lazy-pages.log", "-v4", NULL };
	const char *restore[] = { criu_bin(), "restore", "-D", dir,
				  "--restore-detached", "--lazy-pages",
				  "-o", "restore.log", "-v4", NULL };
	char sock[PATH_MAX], log[PATH_MAX];
	pid_t daemon;
	int r;

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
	r = criu_run(restore, dir, "restore.log", why, whylen);
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
