// SPDX-License-Identifier: GPL-2.0
/*
 * The boot between /init and the restore, split by systemd's stamps:
 * systemd in the initrd or only in the real root, a restore that ran
 * before the switch, and output no systemctl wrote.
 */
#include <errno.h>
#include <string.h>

#include "tools/nvwa/sdboot.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

/* 1 MHz TSC (1000 cycles per ms): cycles are µs, easy to read. */
#define KHZ 1000
/* One paired reading: TSC 50,000,000 at CLOCK_MONOTONIC 40 s. */
#define NOW_TSC 50000000ull
#define NOW_NS 40000000000ull
/* TSC at CLOCK_MONOTONIC @us. */
#define TSC_AT(us) (NOW_TSC - (NOW_NS / 1000 - (us)))

/* Debian 12 with dracut-less initramfs-tools: systemd only in the real root. */
static const char real_root_only[] =
	"InitRDTimestampMonotonic=0\n"
	"UserspaceTimestampMonotonic=3500000\n";

TEST(systemctl_output_parses_in_any_order)
{
	static const char t[] =
		"UserspaceTimestampMonotonic=3500000\n"
		"Other=1\n"
		"InitRDTimestampMonotonic=1200000\n";
	struct sdboot_times s;

	if (!CHECK(sdboot_parse(t, &s) == 0))
		return;
	CHECK_EQ_INT(s.userspace_us, 3500000);
	CHECK_EQ_INT(s.initrd_us, 1200000);
	if (!CHECK(sdboot_parse(real_root_only, &s) == 0))
		return;
	CHECK_EQ_INT(s.initrd_us, 0);
}

TEST(output_no_systemctl_wrote_is_refused)
{
	static const char *const bad[] = {
		"",
		"UserspaceTimestampMonotonic=\n",
		"UserspaceTimestampMonotonic=0\n",
		"UserspaceTimestampMonotonic=-5\n",
		"UserspaceTimestampMonotonic=12abc\n",
		"UserspaceTimestampMonotonic=99999999999999999999999\n",
		"XUserspaceTimestampMonotonic=5\n",
		"UserspaceTimestampMonotonicX=5\n",
		"Failed to connect to bus: No such file or directory\n",
	};
	struct sdboot_times s = { 7, 7 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECKF(sdboot_parse(bad[i], &s) == -ENODATA, "case %zu", i);
		CHECK_EQ_INT(s.userspace_us, 7);
	}
	/* A bad InitRD stamp only loses the initrd. */
	if (CHECK(sdboot_parse("InitRDTimestampMonotonic=x\nUserspaceTimestampMonotonic=9\n", &s) == 0))
		CHECK_EQ_INT(s.initrd_us, 0);
}

TEST(systemd_in_the_real_root_splits_at_its_start)
{
	struct sdboot_times t = { .userspace_us = 3500000 };
	struct sdboot_phase p[SDBOOT_MAX_PHASES];
	uint64_t init = TSC_AT(2000000), restore = TSC_AT(9000000);

	if (!CHECK_EQ_INT(sdboot_split(&t, init, restore, NOW_TSC, NOW_NS, KHZ, p), 3))
		return;
	CHECK_STREQ(p[0].name, "initramfs");
	CHECK_EQ_INT(p[0].start, init);
	CHECK_EQ_INT(p[0].end, TSC_AT(3500000));
	CHECK_STREQ(p[1].name, "switch-root");
	CHECK_EQ_INT(p[1].start, TSC_AT(3500000));
	CHECK_EQ_INT(p[1].end, TSC_AT(3500000));
	CHECK_STREQ(p[2].name, "systemd");
	CHECK_EQ_INT(p[2].start, TSC_AT(3500000));
	CHECK_EQ_INT(p[2].end, restore);
}

TEST(systemd_in_the_initrd_too_splits_at_the_switch)
{
	struct sdboot_times t = { .initrd_us = 2000100, .userspace_us = 6000000 };
	struct sdboot_phase p[SDBOOT_MAX_PHASES];
	uint64_t init = TSC_AT(2000000), restore = TSC_AT(9000000);

	if (!CHECK_EQ_INT(sdboot_split(&t, init, restore, NOW_TSC, NOW_NS, KHZ, p), 3))
		return;
	CHECK_EQ_INT(p[0].end, TSC_AT(6000000));
	CHECK_EQ_INT(p[2].start, TSC_AT(6000000));
}

TEST(a_restore_inside_the_initrd_is_all_initramfs)
{
	/* In the initrd, systemd's userspace stamp is its initrd start. */
	struct sdboot_times t = { .initrd_us = 2000100, .userspace_us = 2000100 };
	struct sdboot_phase p[SDBOOT_MAX_PHASES];
	uint64_t init = TSC_AT(2000000), restore = TSC_AT(4000000);

	if (!CHECK_EQ_INT(sdboot_split(&t, init, restore, NOW_TSC, NOW_NS, KHZ, p), 1))
		return;
	CHECK_STREQ(p[0].name, "initramfs");
	CHECK_EQ_INT(p[0].start, init);
	CHECK_EQ_INT(p[0].end, restore);
}

TEST(a_switch_after_the_restore_started_says_nothing)
{
	/* The restore ran from the initramfs hook, systemd came later. */
	struct sdboot_times t = { .userspace_us = 5000000 };
	struct sdboot_phase p[SDBOOT_MAX_PHASES];

	CHECK_EQ_INT(sdboot_split(&t, TSC_AT(2000000), TSC_AT(4000000), NOW_TSC, NOW_NS,
				  KHZ, p), 0);
	/* A stamp in the future, or before the TSC started counting, is none. */
	t.userspace_us = NOW_NS / 1000 + 1;
	CHECK_EQ_INT(sdboot_split(&t, TSC_AT(2000000), NOW_TSC, NOW_TSC, NOW_NS, KHZ, p), 0);
	t.userspace_us = 1;
	CHECK_EQ_INT(sdboot_split(&t, 0, 1000, 1000, NOW_NS, KHZ, p), 0);
	t.userspace_us = 0;
	CHECK_EQ_INT(sdboot_split(&t, TSC_AT(2000000), TSC_AT(4000000), NOW_TSC, NOW_NS,
				  KHZ, p), 0);
}

TEST(a_switch_a_hair_before_init_is_at_init)
{
	/* The kernel log's clock and CLOCK_MONOTONIC, tied to the TSC apart. */
	struct sdboot_times t = { .userspace_us = 1999990 };
	struct sdboot_phase p[SDBOOT_MAX_PHASES];
	uint64_t init = TSC_AT(2000000), restore = TSC_AT(3000000);

	if (!CHECK_EQ_INT(sdboot_split(&t, init, restore, NOW_TSC, NOW_NS, KHZ, p), 3))
		return;
	CHECK_EQ_INT(p[0].start, init);
	CHECK_EQ_INT(p[0].end, init);
	CHECK_EQ_INT(p[2].start, init);
	CHECK_EQ_INT(p[2].end, restore);
}
