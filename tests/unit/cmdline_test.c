// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>

#include "fastboot/cmdline.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

static char out[KERNEL_CMDLINE_MAX];

static int compose(const char *cur, const char *add, const char *dev)
{
	char own[128];

	if (dev)
		snprintf(own, sizeof(own), "nvwa.handover=%s", dev);
	return cmdline_compose(cur, add, dev ? own : NULL, out, sizeof(out));
}

#define COMPOSE(cur, add, dev) compose(cur, add, dev)

TEST(carries_everything_over_and_adds_handover)
{
	CHECK(COMPOSE("root=/dev/vda1 ro quiet memmap=512M!1G", NULL, "/dev/pmem0") > 0);
	CHECK_STREQ(out, "root=/dev/vda1 ro quiet memmap=512M!1G nvwa.handover=/dev/pmem0");
}

TEST(drops_one_shot_parameters)
{
	CHECK(COMPOSE("BOOT_IMAGE=/vmlinuz-6.1 initrd=/initrd.img root=LABEL=r "
		      "nvwa.handover=/dev/pmem1 elfcorehdr=0x1000 ro", NULL,
		      "/dev/pmem0") > 0);
	CHECK_STREQ(out, "root=LABEL=r ro nvwa.handover=/dev/pmem0");
}

TEST(drops_the_last_updates_units)
{
	CHECK(COMPOSE("ro nvwa.units=redis-server.service nvwa.lastpid=612 quiet", NULL,
		      "/dev/pmem0") > 0);
	CHECK_STREQ(out, "ro quiet nvwa.handover=/dev/pmem0");
}

TEST(drops_the_last_updates_reserved_pids)
{
	CHECK(COMPOSE("ro nvwa.lastpid=19 nvwa.reserve_pids=19,21-23 quiet", NULL,
		      "/dev/pmem0") > 0);
	CHECK_STREQ(out, "ro quiet nvwa.handover=/dev/pmem0");
}

TEST(drops_the_last_updates_kept_memory_and_the_nokaslr_nvwa_added)
{
	CHECK(COMPOSE("ro nvwa.keep=0x3dbd000 nokaslr nvwa.nokaslr quiet", NULL,
		      "/dev/pmem0") > 0);
	CHECK_STREQ(out, "ro quiet nvwa.handover=/dev/pmem0");
}

TEST(an_operators_own_nokaslr_stays)
{
	CHECK(COMPOSE("ro nokaslr nvwa.keep=0x3dbd000 quiet", NULL, "/dev/pmem0") > 0);
	CHECK_STREQ(out, "ro nokaslr quiet nvwa.handover=/dev/pmem0");
	CHECK(cmdline_has("ro nokaslr quiet", "nokaslr"));
	CHECK(!cmdline_has("ro nokaslr=1x quiet -- nvwa.nokaslr", "nvwa.nokaslr"));
	CHECK(cmdline_has("ro nvwa.nokaslr", "nvwa.nokaslr"));
}

TEST(one_shot_parameters_cannot_be_appended)
{
	CHECK(COMPOSE("ro nvwa.restore=lazy", "initrd=/x nvwa.handover=/dev/sda BOOT_IMAGE=y quiet",
		      "/dev/pmem0") > 0);
	CHECK_STREQ(out, "ro quiet nvwa.handover=/dev/pmem0");
}

TEST(no_handover_device)
{
	CHECK(COMPOSE("ro quiet", NULL, NULL) > 0);
	CHECK_STREQ(out, "ro quiet");
}

TEST(append_replaces_same_key)
{
	CHECK(COMPOSE("root=/dev/vda1 loglevel=7 quiet", "loglevel=3 mitigations=off", NULL) > 0);
	CHECK_STREQ(out, "root=/dev/vda1 quiet loglevel=3 mitigations=off");
}

TEST(repeatable_keys_are_deduplicated_not_replaced)
{
	CHECK(COMPOSE("console=tty0 console=ttyS0 memmap=512M!1G",
		      "console=ttyS0 memmap=64M$2G", NULL) > 0);
	CHECK_STREQ(out, "console=tty0 memmap=512M!1G console=ttyS0 memmap=64M$2G");
}

TEST(quoted_values_stay_whole)
{
	CHECK(COMPOSE("dyndbg=\"file foo.c +p\" ro", "acpi_osi=\"Windows 2020\"", NULL) > 0);
	CHECK_STREQ(out, "dyndbg=\"file foo.c +p\" ro acpi_osi=\"Windows 2020\"");
}

TEST(unbalanced_quote_is_refused)
{
	CHECK_EQ_INT(COMPOSE("dyndbg=\"file foo.c", NULL, NULL), -EINVAL);
	CHECK_STREQ(out, "");
	CHECK_EQ_INT(COMPOSE("ro", "x=\"y", NULL), -EINVAL);
}

TEST(init_arguments_stay_after_dashdash)
{
	CHECK(COMPOSE("ro quiet -- single --verbose", "loglevel=3", "/dev/pmem0") > 0);
	CHECK_STREQ(out, "ro quiet loglevel=3 nvwa.handover=/dev/pmem0 -- single --verbose");
	CHECK(COMPOSE("ro", "loglevel=3 -- emergency", NULL) > 0);
	CHECK_STREQ(out, "ro loglevel=3 -- emergency");
	CHECK(COMPOSE("ro -- a", "-- b", NULL) > 0);
	CHECK_STREQ(out, "ro -- a b");
}

TEST(white_space_is_normalised)
{
	CHECK(COMPOSE("  ro \t quiet\n", "  ", NULL) > 0);
	CHECK_STREQ(out, "ro quiet");
}

TEST(too_long_is_refused)
{
	static char big[KERNEL_CMDLINE_MAX + 64];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ_INT(COMPOSE(big, NULL, NULL), -E2BIG);
	memset(big, 'a', KERNEL_CMDLINE_MAX - 10);
	big[KERNEL_CMDLINE_MAX - 10] = '\0';
	CHECK_EQ_INT(COMPOSE(big, NULL, "/dev/pmem0"), -E2BIG);
	CHECK(COMPOSE(big, NULL, NULL) > 0);
	CHECK_EQ_INT(cmdline_compose("ro", NULL, NULL, out, 2), -E2BIG);
}

TEST(finds_the_pmem_reservation)
{
	struct pmem_reservation r = { 0 };

	CHECK_EQ_INT(cmdline_find_pmem("ro memmap=32M$768M memmap=512M!1G", &r), 0);
	CHECK_EQ_INT(r.size, 512ull << 20);
	CHECK_EQ_INT(r.start, 1ull << 30);
	CHECK_EQ_INT(cmdline_find_pmem("memmap=0x10000000!0x40000000", &r), 0);
	CHECK_EQ_INT(r.size, 0x10000000);
	CHECK_EQ_INT(r.start, 0x40000000);
	CHECK_EQ_INT(cmdline_find_pmem("ro quiet memmap=32M$768M", &r), -ENOENT);
	CHECK_EQ_INT(cmdline_find_pmem("-- memmap=512M!1G", &r), -ENOENT);
	CHECK_EQ_INT(cmdline_find_pmem("memmap=512Q!1G", &r), -EINVAL);
	CHECK_EQ_INT(cmdline_find_pmem("memmap=512M!1Gx", &r), -EINVAL);
	CHECK_EQ_INT(cmdline_find_pmem("memmap=0!1G", &r), -EINVAL);
	CHECK_EQ_INT(cmdline_find_pmem("memmap=!1G", &r), -EINVAL);
}

TEST(finds_the_nth_reserved_ram_region)
{
	struct pmem_reservation r = { 0 };

	CHECK_EQ_INT(cmdline_find_memmap("ro memmap=512M!1G memmap=64M$1536M", '$', 0, &r), 0);
	CHECK_EQ_INT(r.size, 64ull << 20);
	CHECK_EQ_INT(r.start, 1536ull << 20);
	CHECK_EQ_INT(cmdline_find_memmap("ro memmap=512M!1G memmap=64M$1536M", '$', 1, &r), -ENOENT);
	CHECK_EQ_INT(cmdline_find_memmap("memmap=1M$2G memmap=2M$3G", '$', 1, &r), 0);
	CHECK_EQ_INT(r.size, 2ull << 20);
	CHECK_EQ_INT(r.start, 3ull << 30);
	CHECK_EQ_INT(cmdline_find_memmap("ro memmap=512M!1G", '$', 0, &r), -ENOENT);
	CHECK_EQ_INT(cmdline_find_memmap("-- memmap=64M$1536M", '$', 0, &r), -ENOENT);
	CHECK_EQ_INT(cmdline_find_memmap("memmap=64M$1536Mx", '$', 0, &r), -EINVAL);
	CHECK_EQ_INT(cmdline_find_memmap("memmap=1M$2G memmap=0$3G", '$', 1, &r), -EINVAL);
}

TEST(get_returns_the_last_value_unquoted)
{
	char v[64];

	CHECK_EQ_INT(cmdline_get("a=1 nvwa.handover=/dev/pmem0 a=2", "a", v, sizeof(v)), 0);
	CHECK_STREQ(v, "2");
	CHECK_EQ_INT(cmdline_get("x=\"a b\"", "x", v, sizeof(v)), 0);
	CHECK_STREQ(v, "a b");
	CHECK_EQ_INT(cmdline_get("ab=1", "a", v, sizeof(v)), -ENOENT);
	CHECK_EQ_INT(cmdline_get("a", "a", v, sizeof(v)), -ENOENT);
	CHECK_EQ_INT(cmdline_get("-- a=1", "a", v, sizeof(v)), -ENOENT);
	CHECK_EQ_INT(cmdline_get("a=0123456789", "a", v, 4), -ENAMETOOLONG);
}

TEST(nvwa_own_parameters_win_and_do_not_stick)
{
	/* Deferred CPUs: maxcpus= was nvwa's for one boot; it goes too. */
	CHECK(cmdline_compose("ro maxcpus=1 nvwa.cpus=defer nvwa.restore=lazy",
			      NULL, "nvwa.handover=/dev/pmem0", out, sizeof(out)) > 0);
	CHECK_STREQ(out, "ro nvwa.handover=/dev/pmem0");
	/* The operator's own maxcpus= stays when nvwa did not add it. */
	CHECK(cmdline_compose("ro maxcpus=2", NULL, NULL, out, sizeof(out)) > 0);
	CHECK_STREQ(out, "ro maxcpus=2");
	/* nvwa's parameters replace the same keys, whoever set them. */
	CHECK(cmdline_compose("ro maxcpus=2", "maxcpus=3 quiet",
			      "maxcpus=1 nvwa.cpus=defer", out, sizeof(out)) > 0);
	CHECK_STREQ(out, "ro quiet maxcpus=1 nvwa.cpus=defer");
}
