// SPDX-License-Identifier: GPL-2.0
/* The shared helpers every command builds on: argument vectors, reasons. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
