// SPDX-License-Identifier: GPL-2.0
/* The shared helpers every command builds on: argument vectors, reasons. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

TEST(argv_keeps_order_and_is_null_terminated)
{
	struct argv a = ARGV_INIT;
	const char *const *v;

	argv_add(&a, "kexec", "-l");
	argv_add(&a, "/boot/vmlinuz");
	argv_addf(&a, "--command-line=%s %d", "root=/dev/vda", 42);
	if (!CHECK_EQ_INT(argv_error(&a), 0))
		goto cleanup;
	v = argv_get(&a);
	CHECK_STREQ(v[0], "kexec");
	CHECK_STREQ(v[1], "-l");
	CHECK_STREQ(v[2], "/boot/vmlinuz");
	CHECK_STREQ(v[3], "--command-line=root=/dev/vda 42");
	CHECK(v[4] == NULL);
cleanup:
	argv_free(&a);
}

TEST(argv_grows_past_any_fixed_size)
{
	struct argv a = ARGV_INIT;
	const char *const *v;
	int i;

	for (i = 0; i < 1000; i++)
		argv_addf(&a, "arg%d", i);
	if (!CHECK_EQ_INT(argv_error(&a), 0))
		goto cleanup;
	v = argv_get(&a);
	for (i = 0; i < 1000; i++) {
		char want[16];

		snprintf(want, sizeof(want), "arg%d", i);
		if (!CHECKF(v[i] && !strcmp(v[i], want), "argument %d", i))
			break;
	}
	CHECK(v[1000] == NULL);
cleanup:
	argv_free(&a);
}

TEST(argv_copies_its_strings)
{
	struct argv a = ARGV_INIT;
	char buf[] = "before";

	argv_add(&a, buf);
	argv_addf(&a, "%s", buf);
	strcpy(buf, "after!");
	CHECK_STREQ(argv_get(&a)[0], "before");
	CHECK_STREQ(argv_get(&a)[1], "before");
	argv_free(&a);
}

TEST(argv_first_failure_is_kept_and_later_adds_do_nothing)
{
	struct argv a = ARGV_INIT;

	argv_add(&a, "criu");
	a.error = -ENOMEM;
	argv_add(&a, "dump");
	argv_addf(&a, "-t%d", 1);
	CHECK_EQ_INT(argv_error(&a), -ENOMEM);
	CHECK_STREQ(argv_get(&a)[0], "criu");
	CHECK(argv_get(&a)[1] == NULL);
	argv_free(&a);
}

TEST(argv_empty_is_an_empty_vector)
{
	struct argv a = ARGV_INIT;

	CHECK_EQ_INT(argv_error(&a), 0);
	CHECK(argv_get(&a)[0] == NULL);
	argv_free(&a);
	CHECK(argv_get(&a)[0] == NULL);
}

TEST(argv_runs)
{
	struct argv a = ARGV_INIT;

	argv_add(&a, "sh", "-c");
	argv_addf(&a, "exit %d", 7);
	if (CHECK_EQ_INT(argv_error(&a), 0))
		CHECK_EQ_INT(run(argv_get(&a), "/dev/null"), 7);
	argv_free(&a);
}

TEST(set_why_formats_and_returns_the_error)
{
	char why[32];

	CHECK_EQ_INT(set_why(why, sizeof(why), -ENOEXEC, "bad %s at %u", "magic", 7u), -ENOEXEC);
	CHECK_STREQ(why, "bad magic at 7");
	CHECK_EQ_INT(set_why(why, sizeof(why), 0, "%s", "a reason longer than thirty-one bytes"), 0);
	CHECK_STREQ(why, "a reason longer than thirty-one");
}

TEST(set_why_without_a_buffer_only_returns)
{
	char why[4] = "xyz";

	CHECK_EQ_INT(set_why(NULL, 0, -EINVAL, "ignored %d", 1), -EINVAL);
	CHECK_EQ_INT(set_why(NULL, 64, -EBADMSG, "ignored"), -EBADMSG);
	CHECK_EQ_INT(set_why(why, 0, -EIO, "ignored"), -EIO);
	CHECK_STREQ(why, "xyz");
}

/* A child killed by a signal is said to be, never -ECHILD. */
TEST(a_killed_child_says_by_what)
{
	const char *const segv[] = { "sh", "-c", "kill -SEGV $$", NULL };
	const char *const three[] = { "sh", "-c", "exit 3", NULL };
	char st[64];
	int r;

	r = run(segv, "/dev/null");
	CHECK_EQ_INT(r, CHILD_KILLED + SIGSEGV);
	CHECK(strstr(child_status_str(r, st, sizeof(st)), "killed by signal 11") != NULL);
	r = run(three, "/dev/null");
	CHECK_EQ_INT(r, 3);
	CHECK_STREQ(child_status_str(r, st, sizeof(st)), "exit status 3");
}

TEST(copy_file_copies_whole)
{
	char dir[] = "/tmp/nvwa-copy-test.XXXXXX", from[64], to[64];
	size_t len;
	char *data;

	if (!CHECK(mkdtemp(dir)))
		return;
	snprintf(from, sizeof(from), "%s/a", dir);
	snprintf(to, sizeof(to), "%s/b", dir);
	CHECK_EQ_INT(write_file_atomic(from, "criu log\n", 9), 0);
	CHECK_EQ_INT(copy_file(from, to, 1 << 20), 0);
	if (CHECK_EQ_INT(read_file(to, 1 << 20, &data, &len), 0)) {
		CHECK_EQ_INT(len, 9);
		CHECK(!memcmp(data, "criu log\n", 9));
		free(data);
	}
	CHECK(copy_file("/nonexistent-nvwa-log", to, 1 << 20) < 0);
	unlink(from);
	unlink(to);
	rmdir(dir);
}

/* fd[0]: where it says its ID; fd[1]: what it waits on to end. */
static void *park(void *arg)
{
	int *fd = arg;
	char c;
	pid_t tid = gettid();

	if (write(fd[0], &tid, sizeof(tid)) != sizeof(tid))
		return NULL;
	if (read(fd[1], &c, 1) < 0)
		return NULL;
	return NULL;
}

/* The IDs a restore gives back: the tree's threads, not only its PIDs. */
TEST(last_tid_counts_threads_and_children)
{
	int said[2], end[2], parked[2];
	pthread_t thread;
	pid_t tid = 0, child, last = 0;
	char c;

	if (!CHECK(pipe(said) == 0 && pipe(end) == 0))
		return;
	child = fork();
	if (child == 0) {
		close(end[1]);
		if (read(end[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	/* A thread started after the child: its ID is the highest. */
	parked[0] = said[1];
	parked[1] = end[0];
	if (!CHECK(pthread_create(&thread, NULL, park, parked) == 0))
		return;
	CHECK(read(said[0], &tid, sizeof(tid)) == sizeof(tid));
	CHECK_EQ_INT(proc_tree_last_tid(getpid(), &last), 0);
	CHECK(last >= tid && last >= child && last > getpid());
	CHECK_EQ_INT(proc_tree_last_tid(child, &last), 0);
	CHECK_EQ_INT(last, child);
	close(end[1]);
	pthread_join(thread, NULL);
	waitpid(child, NULL, 0);
	close(end[0]);
	close(said[0]);
	close(said[1]);
}
