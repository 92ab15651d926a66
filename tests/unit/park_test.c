// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>

#include "park/defer.h"
#include "park/parked.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

struct seen {
	long cpus[16];
	int n;
	int stop_at;	/* fail on this CPU, -1 never */
};

static int record(long cpu, void *data)
{
	struct seen *s = data;

	if (cpu == s->stop_at)
		return -EIO;
	if (s->n < 16)
		s->cpus[s->n] = cpu;
	s->n++;
	return 0;
}

static int walk(const char *list, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	s->stop_at = -1;
	return park_cpulist_for_each(list, record, s);
}

TEST(cpulist_ranges_and_singles)
{
	struct seen s;

	CHECK_EQ_INT(walk("0-3,5,8-9", &s), 0);
	CHECK_EQ_INT(s.n, 7);
	CHECK_EQ_INT(s.cpus[0], 0);
	CHECK_EQ_INT(s.cpus[3], 3);
	CHECK_EQ_INT(s.cpus[4], 5);
	CHECK_EQ_INT(s.cpus[6], 9);
	/* sysfs ends the list with a newline when read raw. */
	CHECK_EQ_INT(walk("0-1\n", &s), 0);
	CHECK_EQ_INT(s.n, 2);
	CHECK_EQ_INT(walk("", &s), 0);
	CHECK_EQ_INT(s.n, 0);
}

TEST(cpulist_malformed_is_refused)
{
	static const char *const bad[] = {
		"a", "-1", "3-1", "0-", "0,,1", "0,", "1x", "0-99999", "99999",
		"0 1", "+1", "0-+3",
	};
	struct seen s;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(walk(bad[i], &s), -EINVAL);
}

TEST(cpulist_callback_error_stops_the_walk)
{
	struct seen s;

	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	CHECK_EQ_INT(park_cpulist_for_each("0-7", record, &s), -EIO);
	CHECK_EQ_INT(s.n, 2);
}

TEST(defer_params_append)
{
	char buf[64] = "nvwa.handover=/dev/pmem0";

	CHECK_EQ_INT(park_defer_append_params(2, buf, sizeof(buf)), 0);
	CHECK_STREQ(buf, "nvwa.handover=/dev/pmem0 maxcpus=2 nvwa.cpus=defer");
	CHECK(park_deferred(buf));
	CHECK(!park_deferred("maxcpus=2 nvwa.cpus=now"));
	CHECK(!park_deferred("quiet"));
}

TEST(defer_params_bounds)
{
	char small[20] = "quiet", buf[64] = "";

	CHECK_EQ_INT(park_defer_append_params(0, buf, sizeof(buf)), -EINVAL);
	CHECK_EQ_INT(park_defer_append_params(PARK_DEFER_MAX_CPUS + 1, buf,
					      sizeof(buf)), -EINVAL);
	CHECK_EQ_INT(park_defer_append_params(1, small, sizeof(small)), -E2BIG);
	CHECK_STREQ(small, "quiet");
}

TEST(parked_cpus_are_counted_with_their_times)
{
	struct park_parked p;

	CHECK_EQ_INT(park_parked_parse("1 park 20 40 900 -\n2 park 30 60 1100 -\n"
				       "3 init 70 2000 5000 bad-magic\n", &p), 0);
	CHECK_EQ_INT(p.parked, 2);
	CHECK_EQ_INT(p.parked_us_sum, 2000);
	CHECK_EQ_INT(p.parked_us_max, 1100);
	CHECK_EQ_INT(p.parked_handover_us_sum, 50);
	CHECK_EQ_INT(p.init_handover_us_sum, 70);
	CHECK_EQ_INT(p.init, 1);
	CHECK_EQ_INT(p.init_us_max, 5000);
	CHECK_STREQ(p.why, "bad-magic");
	CHECK_EQ_INT(park_parked_parse("", &p), 0);
	CHECK_EQ_INT(p.parked + p.init, 0);
}

TEST(a_parked_cpus_line_that_is_not_one_is_refused)
{
	struct park_parked p = { .parked = 7 };

	CHECK_EQ_INT(park_parked_parse("1 park 40 90 -\n", &p), -EINVAL);
	CHECK_EQ_INT(park_parked_parse("1 woke 10 40 90 -\n", &p), -EINVAL);
	CHECK_EQ_INT(park_parked_parse("1 park 10 40 90 - extra\n", &p), -EINVAL);
	CHECK_EQ_INT(p.parked, 7);
}

TEST(update_says_whether_the_cpus_park_at_the_jump)
{
	char buf[224];

	CHECK(strstr(park_at_jump(true, "ro nvwa.park=0x800000 quiet", true, "6.1.192-nvwa", buf,
				  sizeof(buf)),
		     "parked at the jump in nvwa.park=0x800000"));
	CHECK(strstr(park_at_jump(true, "ro quiet", true, "6.1.192-nvwa", buf, sizeof(buf)),
		     "halted at the jump"));
	CHECK(strstr(park_at_jump(false, "nvwa.park=0x800000", true, "6.1.192-nvwa", buf,
				  sizeof(buf)),
		     "cannot park them"));
}

/*
 * Parking is armed only for a new kernel that reserves the region too: a
 * stock one may put its data where the CPUs wait.  The output says so.
 */
TEST(update_does_not_park_for_a_kernel_without_the_region)
{
	char buf[224];

	CHECK(strstr(park_at_jump(true, "nvwa.park=0x800000", false, "6.1.0-28-amd64", buf,
				  sizeof(buf)),
		     "halted at the jump, the new kernel INIT/SIPIs them: 6.1.0-28-amd64 does not reserve the park region"));
	CHECK(strstr(park_at_jump(true, "nvwa.park=0x800000", false, "", buf, sizeof(buf)),
		     ": the new kernel does not reserve"));
	/* With no region here, that is the reason given, not the new kernel. */
	CHECK(strstr(park_at_jump(true, "ro quiet", false, "6.1.0-28-amd64", buf, sizeof(buf)),
		     "on the command line parks them"));
}

TEST(park_state_is_parsed_or_refused)
{
	struct park_state st = { .addr = 7 };

	CHECK_EQ_INT(park_state_parse("0x0000000000800000 9f3ac1 park\n", &st), 0);
	CHECK_EQ_INT(st.addr, 0x800000);
	CHECK_EQ_INT(st.token, 0x9f3ac1);
	CHECK_STREQ(st.state, "park");
	CHECK_EQ_INT(park_state_parse("0x800000 1 image-over-region", &st), 0);
	CHECK_STREQ(st.state, "image-over-region");
	st.addr = 7;
	CHECK_EQ_INT(park_state_parse("0x800000 park\n", &st), -EINVAL);
	CHECK_EQ_INT(park_state_parse("0x800000 1 park extra\n", &st), -EINVAL);
	CHECK_EQ_INT(park_state_parse("", &st), -EINVAL);
	CHECK_EQ_INT(st.addr, 7);
}

/* The fourth field numbers the kexec image loads; a first-version kernel has none. */
TEST(park_state_seq_is_parsed_or_refused)
{
	struct park_state st = { .addr = 7 };

	CHECK_EQ_INT(park_state_parse("0x800000 9f3ac1 unarmed 12\n", &st), 0);
	CHECK_STREQ(st.state, "unarmed");
	CHECK(st.has_seq);
	CHECK_EQ_INT(st.seq, 12);
	CHECK_EQ_INT(park_state_parse("0x800000 1 no-image 0", &st), 0);
	CHECK(st.has_seq);
	CHECK_EQ_INT(st.seq, 0);
	CHECK_EQ_INT(park_state_parse("0x800000 1 park\n", &st), 0);
	CHECK(!st.has_seq);
	st.addr = 7;
	CHECK_EQ_INT(park_state_parse("0x800000 1 park -1\n", &st), -EINVAL);
	CHECK_EQ_INT(park_state_parse("0x800000 1 park 12x\n", &st), -EINVAL);
	CHECK_EQ_INT(park_state_parse("0x800000 1 park 12 13\n", &st), -EINVAL);
	CHECK_EQ_INT(park_state_parse("0x800000 1 park 12\n\n", &st), -EINVAL);
	CHECK_EQ_INT(st.addr, 7);
}

/*
 * nvwa arms the load after the state it read: any other load in between
 * makes the kernel refuse (ESTALE).  A kernel without SEQ takes the word.
 */
TEST(arm_names_the_load_after_the_one_read)
{
	struct park_state st = { .addr = 0x800000, .seq = 41, .has_seq = true };
	char buf[32];

	CHECK_EQ_INT(park_arm_text(&st, buf, sizeof(buf)), 0);
	CHECK_STREQ(buf, "arm 42\n");
	st.has_seq = false;
	CHECK_EQ_INT(park_arm_text(&st, buf, sizeof(buf)), 0);
	CHECK_STREQ(buf, "arm\n");
	st.has_seq = true;
	CHECK_EQ_INT(park_arm_text(&st, buf, 6), -E2BIG);
}

/*
 * The next kernel trusts parked CPUs only with the token of the kernel
 * that parked them: nvwa passes the running kernel's, and never carries
 * one over from a kernel that cannot park (it would vouch for CPUs that
 * kernel has reset).
 */
TEST(next_kernel_gets_the_running_kernels_token_only)
{
	struct park_state st = { .addr = 0x800000, .token = 0xabc123, .state = "park" };
	struct park_state other = { .addr = 0x900000, .token = 0xabc123, .state = "park" };
	char buf[64];

	CHECK_EQ_INT(park_next_param("ro nvwa.park=0x800000 quiet", &st, buf, sizeof(buf)), 0);
	CHECK_STREQ(buf, "nvwa.park=0x800000,abc123");
	/* The token this kernel was booted with is replaced by its own. */
	CHECK_EQ_INT(park_next_param("nvwa.park=0x800000,5555", &st, buf, sizeof(buf)), 0);
	CHECK_STREQ(buf, "nvwa.park=0x800000,abc123");
	/* A stock kernel (no state): the address alone, the old token dropped. */
	CHECK_EQ_INT(park_next_param("nvwa.park=0x800000,5555", NULL, buf, sizeof(buf)), 0);
	CHECK_STREQ(buf, "nvwa.park=0x800000");
	/* A state for another region vouches for nothing here. */
	CHECK_EQ_INT(park_next_param("nvwa.park=0x800000", &other, buf, sizeof(buf)), 0);
	CHECK_STREQ(buf, "nvwa.park=0x800000");
	CHECK_EQ_INT(park_next_param("ro quiet", &st, buf, sizeof(buf)), 0);
	CHECK_STREQ(buf, "");
	CHECK_EQ_INT(park_next_param("nvwa.park=junk", &st, buf, sizeof(buf)), -EINVAL);
	CHECK_EQ_INT(park_next_param("nvwa.park=0x800000", &st, buf, 12), -E2BIG);
}

TEST(update_names_the_region_not_the_token)
{
	char buf[224];

	CHECK(strstr(park_at_jump(true, "nvwa.park=0x800000,abc123", true, "6.1.192-nvwa", buf,
				  sizeof(buf)),
		     "parked at the jump in nvwa.park=0x800000;"));
}
