// SPDX-License-Identifier: GPL-2.0
/*
 * The zero-copy path's checks that need no nvwa kernel: whether a
 * process's threads are all stopped.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "tools/nvwa/keep.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

TEST(a_tree_is_stopped_with_every_thread_and_a_running_one_is_not)
{
	pid_t child = fork();
	int st;

	if (child == 0) {
		for (;;)
			pause();
	}
	CHECK(child > 0);
	CHECK_EQ_INT(keep_stopped(child), 0);
	CHECK_EQ_INT(keep_stop_tree(&child, 1, 5000), 0);
	CHECK_EQ_INT(keep_stopped(child), 1);
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	CHECK_EQ_INT(keep_stopped(child), -ESRCH);
}

TEST(a_checkpoints_list_of_kept_processes_reads_back_as_written)
{
	struct keep_held h = { .pid = { 412, 1 }, .frames = { 65677, 3 }, .n = 2 }, back;
	char text[256], why[128];
	size_t len = keep_held_format(&h, text, sizeof(text));

	CHECK_EQ_INT(keep_held_parse(text, len, &back, why, sizeof(why)), 0);
	CHECK_EQ_INT((int)back.n, 2);
	CHECK_EQ_INT(back.pid[0], 412);
	CHECK(back.frames[0] == 65677);
	CHECK_EQ_INT(back.pid[1], 1);
	CHECK(back.frames[1] == 3);
	/* Blank lines and a missing last newline are fine. */
	CHECK_EQ_INT(keep_held_parse("\npid 7 frames 9", 15, &back, why, sizeof(why)), 0);
	CHECK_EQ_INT((int)back.n, 1);
}

TEST(a_damaged_list_of_kept_processes_is_refused_naming_the_line)
{
	static const char *const bad[] = {
		"pid 0 frames 5\n", "pid -3 frames 5\n", "pid 12 frames 0\n", "pid 12 frames\n",
		"pid 12 frames 5x\n", "pid 99999999 frames 5\n", "pid 12 frame 5\n",
		"pid 12 frames 99999999999999999999999\n", "pid 12 frames -1\n",
		"pid 12 frames 5 and more, far too long for a line of this list\n",
	};
	struct keep_held back;
	char why[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ_INT(keep_held_parse(bad[i], strlen(bad[i]), &back, why, sizeof(why)),
			     -EBADMSG);
		CHECK(why[0] != '\0');
	}
}
