// SPDX-License-Identifier: GPL-2.0
/* What nvwa makes of CRIU's log: the cause first, the probes' noise last. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
