// SPDX-License-Identifier: GPL-2.0
/*
 * What nvwa makes of CRIU's log: the cause first, the probes' noise last;
 * and how a stop ends a criu that hangs.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tools/nvwa/criu.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

static void errors_of(const char *text, char *why, size_t whylen)
{
	char path[] = "/tmp/nvwa-criu-test-XXXXXX";
	int fd = mkstemp(path);

	if (!CHECK(fd >= 0))
		return;
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	criu_errors(path, why, whylen);
	unlink(path);
}

/* CRIU 3.17's restore when the PID is taken, probes failing first. */
static const char pid_taken[] =
	"(00.001000) Error (criu/tun.c:85): tun: Unable to create tun: No such device\n"
	"(00.002000) Error (criu/net.c:3741): Unable to create a veth pair: -95\n"
	"(00.002100) Error (criu/kerndat.c:1569): kerndat_link_nsid failed when initializing kerndat.\n"
	"(00.010000) Running pre-restore scripts\n"
	"(00.020000) Error (criu/cr-restore.c:1480): Can't fork for 20001: File exists\n"
	"(00.020500) Error (criu/cr-restore.c:2610): Restoring FAILED.\n";

TEST(the_cause_comes_first_and_probes_are_left_out)
{
	char why[CRIU_WHY_MAX];

	errors_of(pid_taken, why, sizeof(why));
	CHECK_STREQ(why, "Can't fork for 20001: File exists");
}

TEST(consequences_follow_the_cause)
{
	char why[CRIU_WHY_MAX];

	errors_of("(0.1) Error (criu/sk-unix.c:874): unix: External socket is used. Consider using --ext-unix-sk option.\n"
		  "(0.2) Error (criu/cr-dump.c:1700): Dump files (pid: 7) failed with -1\n"
		  "(0.3) Error (criu/cr-dump.c:2100): Dumping FAILED.\n", why, sizeof(why));
	CHECK_STREQ(why, "unix: External socket is used. Consider using --ext-unix-sk option.; "
		    "Dump files (pid: 7) failed with -1");
}

TEST(only_noise_is_still_said)
{
	char why[CRIU_WHY_MAX];

	errors_of("(0.1) Error (criu/tun.c:85): tun: Unable to create tun: No such device\n"
		  "(0.2) Error (criu/cr-restore.c:2610): Restoring FAILED.\n", why, sizeof(why));
	CHECK(strstr(why, "Unable to create tun") != NULL);
}

TEST(no_error_line)
{
	char why[CRIU_WHY_MAX];

	errors_of("(0.1) Dumping finished successfully\n", why, sizeof(why));
	CHECK(strstr(why, "no error line in") == why);
}

TEST(a_long_list_is_cut_at_a_line)
{
	char why[64];

	errors_of("(0.1) Error (a.c:1): first cause that is rather long\n"
		  "(0.2) Error (a.c:2): second line that does not fit in what is left\n", why, sizeof(why));
	CHECK_STREQ(why, "first cause that is rather long");
}

/* @pid exists and is no zombie (the one reaping it may be slow). */
static bool runs(pid_t pid)
{
	char path[64], stat[256] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(stat, sizeof(stat), f))
		stat[0] = '\0';
	fclose(f);
	return !strstr(strrchr(stat, ')') ?: stat, ") Z");
}

/*
 * nvwa restore's answer to its unit's start timeout: a stop kills the
 * criu that hangs (and what it forked), the caller hears -EINTR at once,
 * and no criu starts after it.
 */
TEST(a_stop_kills_a_hung_criu)
{
	char dir[] = "/tmp/nvwa-criu-stop-XXXXXX", fake[PATH_MAX], pidfile[PATH_MAX];
	char why[CRIU_WHY_MAX], line[32] = "";
	static const int stops[] = { SIGTERM };
	struct timespec t0, t1;
	pid_t stopper, hung;
	FILE *f;
	int r;

	if (!CHECK(mkdtemp(dir) != NULL))
		return;
	snprintf(fake, sizeof(fake), "%s/criu", dir);
	snprintf(pidfile, sizeof(pidfile), "%s/hung.pid", dir);
	f = fopen(fake, "w");
	if (!CHECK(f != NULL))
		return;
	/* criu and a child of its own, both hung. */
	fprintf(f, "#!/bin/sh\nsleep 1000 &\necho $! > %s\nexec sleep 1000\n", pidfile);
	fclose(f);
	chmod(fake, 0755);
	setenv("NVWA_CRIU", fake, 1);
	criu_stop_on(stops, 1);

	stopper = fork();
	if (stopper == 0) {
		usleep(300 * 1000);
		kill(getppid(), SIGTERM);
		_exit(0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = criu_restore(dir, NULL, why, sizeof(why));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	waitpid(stopper, NULL, 0);
	CHECK_EQ_INT(r, -EINTR);
	CHECK(strstr(why, "nvwa got SIGTERM") != NULL);
	CHECK_EQ_INT(criu_stopped(), SIGTERM);
	CHECK(t1.tv_sec - t0.tv_sec < 10);
	/* Its child went with it: it was in criu's process group. */
	f = fopen(pidfile, "r");
	if (CHECK(f != NULL)) {
		CHECK(fgets(line, sizeof(line), f) != NULL);
		fclose(f);
		hung = atoi(line);
		for (int i = 0; i < 100 && runs(hung); i++)
			usleep(10 * 1000);
		CHECK(hung > 0 && !runs(hung));
	}
	/* Nothing starts after a stop. */
	unlink(pidfile);
	CHECK_EQ_INT(criu_restore(dir, NULL, why, sizeof(why)), -EINTR);
	CHECK(access(pidfile, F_OK) < 0);

	unsetenv("NVWA_CRIU");
	snprintf(line, sizeof(line), "rm -rf %s", dir);
	CHECK(system(line) == 0);
}
