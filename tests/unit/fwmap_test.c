// SPDX-License-Identifier: GPL-2.0
/* memmap= reservations against the firmware's memory map. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"
#include "fastboot/fwmap.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

/* A PC's map: low RAM, the BIOS area, RAM to 3 GiB, a reserved range, RAM above 4 GiB. */
static const struct fw_range vm[] = {
	{ 0x0, 0x9fbff, "System RAM" },
	{ 0x9fc00, 0xfffff, "Reserved" },
	{ 0x100000, 0xbfffffff, "System RAM" },
	{ 0xeec00000, 0xfebfffff, "Reserved" },
	{ 0x100000000, 0x13fffffff, "System RAM" },
};

TEST(a_range_inside_ram_fits)
{
	char why[256] = "";

	CHECK_EQ_INT(fwmap_check(vm, 5, 1ull << 30, 512ull << 20, why, sizeof(why)), 0);
	CHECK_EQ_INT(fwmap_check(vm, 5, 0x100000000, 1ull << 30, why, sizeof(why)), 0);
}

TEST(a_range_over_a_reserved_range_is_named)
{
	char why[512];

	CHECK_EQ_INT(fwmap_check(vm, 5, 0xe0000000, 512ull << 20, why, sizeof(why)), -ERANGE);
	CHECK(strstr(why, "\"Reserved\" range 0xeec00000-0xfebfffff") != NULL);
}

TEST(a_range_over_a_hole_or_across_two_ram_ranges)
{
	char why[512];

	/* 0xc0000000-0xeebfffff is in no range at all. */
	CHECK_EQ_INT(fwmap_check(vm, 5, 0xc0000000, 256ull << 20, why, sizeof(why)), -ERANGE);
	CHECK(strstr(why, "not inside one \"System RAM\" range") != NULL);
	CHECK_EQ_INT(fwmap_check(vm, 5, 0x0, 2ull << 20, why, sizeof(why)), -ERANGE);
}

TEST(empty_and_wrapping_ranges)
{
	char why[256];

	CHECK_EQ_INT(fwmap_check(vm, 5, 1ull << 30, 0, why, sizeof(why)), -ERANGE);
	CHECK_EQ_INT(fwmap_check(vm, 5, UINT64_MAX - 10, 100, why, sizeof(why)), -ERANGE);
}

TEST(sections)
{
	char why[256];

	CHECK_EQ_INT(fwmap_check_aligned(1ull << 30, 512ull << 20, why, sizeof(why)), 0);
	CHECK_EQ_INT(fwmap_check_aligned((1ull << 30) + (2 << 20), 512ull << 20, why, sizeof(why)),
		     -EINVAL);
	CHECK_EQ_INT(fwmap_check_aligned(1ull << 30, 100ull << 20, why, sizeof(why)), -EINVAL);
}

static void entry(const char *dir, int i, const char *start, const char *end, const char *type)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%d", dir, i);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%d/start", dir, i);
	CHECK_EQ_INT(write_file_create(path, start, strlen(start)), 0);
	snprintf(path, sizeof(path), "%s/%d/end", dir, i);
	CHECK_EQ_INT(write_file_create(path, end, strlen(end)), 0);
	snprintf(path, sizeof(path), "%s/%d/type", dir, i);
	CHECK_EQ_INT(write_file_create(path, type, strlen(type)), 0);
}

TEST(read_and_check_a_command_line)
{
	char dir[] = "/tmp/nvwa-fwmap-XXXXXX", why[512];
	struct fw_range map[FWMAP_MAX];
	size_t n = 0;

	if (!CHECK(mkdtemp(dir)))
		return;
	/* Out of order on purpose: the reader sorts. */
	entry(dir, 2, "0xeec00000\n", "0xfebfffff\n", "Reserved\n");
	entry(dir, 0, "0x0\n", "0x9fbff\n", "System RAM\n");
	entry(dir, 1, "0x100000\n", "0xbfffffff\n", "System RAM\n");
	CHECK_EQ_INT(fwmap_read(dir, map, FWMAP_MAX, &n), 0);
	CHECK_EQ_INT((int)n, 3);
	CHECK(map[0].start == 0 && map[2].start == 0xeec00000);
	CHECK_STREQ(map[1].type, "System RAM");
	CHECK_EQ_INT(fwmap_check_cmdline(dir, "ro memmap=512M!1G memmap=192M$1536M", why,
					 sizeof(why)), 0);
	CHECK_EQ_INT(fwmap_check_cmdline(dir, "memmap=512M!1G memmap=256M$3840M", why,
					 sizeof(why)), -ERANGE);
	CHECK(strstr(why, "memmap=256M$3840M") == why);
	CHECK_EQ_INT(fwmap_check_cmdline(dir, "memmap=500M!1G", why, sizeof(why)), -EINVAL);
	entry(dir, 3, "0xzz\n", "0x1\n", "System RAM\n");
	CHECK_EQ_INT(fwmap_read(dir, map, FWMAP_MAX, &n), -EINVAL);
	CHECK_EQ_INT(fwmap_check_cmdline("/nonexistent", "memmap=1G!1G", why, sizeof(why)), -ENOENT);
	rm_rf(dir);
}
