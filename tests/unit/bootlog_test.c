// SPDX-License-Identifier: GPL-2.0
/*
 * The boot phases in a kernel log: a real 6.1 boot as /dev/kmsg gives it,
 * phases the log does not show, and records no kernel wrote.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tools/nvwa/bootlog.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

#define MARKER "nvwa: tsc marker 321-1a2b3c4d5e"

/* Records as one read() of /dev/kmsg returns them, Debian 6.1 in QEMU. */
static const char *const boot[] = {
	"5,0,0,-;Linux version 6.1.0-26-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.112-1 (2024-09-30)\n",
	"6,1,0,-;Command line: BOOT_IMAGE=/vmlinuz root=/dev/vda ro console=ttyS0 initcall_debug\n",
	"6,180,101234,-;smp: Bringing up secondary CPUs ...\n",
	"6,181,101502,-;x86: Booting SMP configuration:\n",
	"6,184,152000,-;smp: Brought up 1 node, 2 CPUs\n",
	"6,190,160000,-;node 0 deferred pages initialised in 4ms\n",
	"7,200,161000,-;calling  acpi_init+0x0/0x4c0 @ 1\n",
	"7,260,357000,-;initcall acpi_init+0x0/0x4c0 returned 0 after 196000 usecs\n",
	"6,300,360000,-;Trying to unpack rootfs image as initramfs...\n",
	"7,301,361000,-;initcall pci_iommu_init+0x0/0x3c returned 0 after 12 usecs\n",
	"3,420,700000,-;virtio_blk virtio1: [vda] 4194304 512-byte logical blocks (2.15 GB/2.00 GiB)\n SUBSYSTEM=virtio\n DEVICE=+virtio:virtio1\n",
	"6,430,900000,-;Freeing initrd memory: 34000K\n",
	"7,431,900100,-;initcall populate_rootfs+0x0/0x40 returned 0 after 540100 usecs\n",
	"6,500,1200000,-;Freeing unused kernel image (initmem) memory: 2912K\n",
	"6,510,1250000,-;Run /init as init process\n",
	"7,511,1250001,-;  with arguments:\n",
	"12,900,5000000,-;" MARKER "\n",
};

static bool feed(struct bootlog *b, const char *rec)
{
	return bootlog_feed(b, rec, strlen(rec));
}

static void feed_boot(struct bootlog *b)
{
	bootlog_init(b, MARKER);
	for (size_t i = 0; i < sizeof(boot) / sizeof(boot[0]); i++)
		CHECKF(feed(b, boot[i]) == (i + 1 == sizeof(boot) / sizeof(boot[0])),
		       "record %zu", i);
}

static const struct bootlog_phase *find(const struct bootlog_phases *p,
					const char *name)
{
	for (size_t i = 0; i < p->nphases; i++)
		if (!strcmp(p->phase[i].name, name))
			return &p->phase[i];
	return NULL;
}

#define CHECK_PHASE(p, n, s, e)						\
	do {								\
		const struct bootlog_phase *ph = find(p, n);		\
		if (CHECKF(ph, "%s missing", n)) {			\
			CHECK_EQ_INT(ph->start_us, s);			\
			CHECK_EQ_INT(ph->end_us, e);			\
		}							\
	} while (0)

TEST(a_real_boot_shows_every_phase_in_timeline_order)
{
	static const char *const order[] = { "kernel-early", "smp-bringup",
		"initcalls", "initramfs-unpack", "memmap-deferred", "init-start" };
	struct bootlog b;
	struct bootlog_phases p;

	feed_boot(&b);
	if (!CHECK(bootlog_phases(&b, &p) == 0))
		return;
	CHECK_EQ_INT(p.first_us, 0);
	CHECK_EQ_INT(p.marker_us, 5000000);
	CHECK_EQ_INT(p.nphases, 6);
	for (size_t i = 0; i < p.nphases && i < 6; i++)
		CHECK_STREQ(p.phase[i].name, order[i]);
	CHECK_PHASE(&p, "kernel-early", 0, 101234);
	CHECK_PHASE(&p, "smp-bringup", 101234, 152000);
	CHECK_PHASE(&p, "initcalls", 152000, 1200000);
	CHECK_PHASE(&p, "initramfs-unpack", 360000, 900000);
	CHECK_PHASE(&p, "memmap-deferred", 156000, 160000);
	CHECK_PHASE(&p, "init-start", 1250000, 1250000);
	CHECK(p.init_started);
	CHECK_EQ_INT(p.init_us, 1250000);
}

TEST(initcalls_slowest_first_named_without_their_offset)
{
	struct bootlog b;
	struct bootlog_phases p;

	feed_boot(&b);
	if (!CHECK(bootlog_phases(&b, &p) == 0))
		return;
	CHECK_EQ_INT(p.ninitcalls, 3);
	CHECK_STREQ(p.initcall[0].name, "populate_rootfs");
	CHECK_EQ_INT(p.initcall[0].usecs, 540100);
	CHECK_EQ_INT(p.initcall[0].end_us, 900100);
	CHECK_STREQ(p.initcall[1].name, "acpi_init");
	CHECK_STREQ(p.initcall[2].name, "pci_iommu_init");
}

TEST(only_the_ten_slowest_initcalls_are_kept)
{
	struct bootlog b;
	struct bootlog_phases p;
	char rec[128];

	bootlog_init(&b, MARKER);
	/* 1..15 usecs, then a tie with the slowest: the first one stays first. */
	for (int i = 1; i <= 15; i++) {
		snprintf(rec, sizeof(rec),
			 "7,%d,%d,-;initcall f%d+0x0/0x10 returned 0 after %d usecs\n",
			 i, 1000 + i, i, i);
		feed(&b, rec);
	}
	feed(&b, "7,16,2000,-;initcall tie+0x0/0x10 returned 0 after 15 usecs\n");
	feed(&b, "7,17,2001,-;initcall nothing+0x0/0x10 returned 0 after 0 usecs\n");
	feed(&b, "12,18,3000,-;" MARKER "\n");
	if (!CHECK(bootlog_phases(&b, &p) == 0))
		return;
	CHECK_EQ_INT(p.ninitcalls, 10);
	CHECK_STREQ(p.initcall[0].name, "f15");
	CHECK_STREQ(p.initcall[1].name, "tie");
	for (size_t i = 2; i < p.ninitcalls; i++)
		CHECK_EQ_INT(p.initcall[i].usecs, 16 - i);
}

TEST(no_marker_no_phases)
{
	struct bootlog b;
	struct bootlog_phases p = { .nphases = 42 };

	bootlog_init(&b, MARKER);
	for (size_t i = 0; i + 1 < sizeof(boot) / sizeof(boot[0]); i++)
		CHECK(!feed(&b, boot[i]));
	CHECK_EQ_INT(bootlog_phases(&b, &p), -ENODATA);
	CHECK_EQ_INT(p.nphases, 42);
	/* Another run's marker is not ours. */
	CHECK(!feed(&b, "12,900,5000000,-;nvwa: tsc marker 322-1a2b3c4d5e\n"));
	CHECK_EQ_INT(bootlog_phases(&b, &p), -ENODATA);
}

TEST(phases_the_log_does_not_show_are_left_out)
{
	struct bootlog b;
	struct bootlog_phases p;

	bootlog_init(&b, MARKER);
	/* No "Bringing up": no kernel-early, no smp-bringup; no initramfs. */
	feed(&b, "6,3,500,-;Booting paravirtualized kernel on KVM\n");
	feed(&b, "6,184,152000,-;smp: Brought up 1 node, 1 CPU\n");
	feed(&b, "6,500,1200000,-;Freeing unused kernel image (initmem) memory: 2912K\n");
	CHECK(feed(&b, "12,900,5000000,-;" MARKER "\n"));
	if (!CHECK(bootlog_phases(&b, &p) == 0))
		return;
	CHECK_EQ_INT(p.first_us, 500);
	CHECK_EQ_INT(p.nphases, 1);
	CHECK_PHASE(&p, "initcalls", 152000, 1200000);
	CHECK(!p.init_started);
	CHECK_EQ_INT(p.ninitcalls, 0);

	/* The marker alone: the clock is tied, nothing else is known. */
	bootlog_init(&b, MARKER);
	CHECK(feed(&b, "12,900,5000000,-;" MARKER "\n"));
	if (!CHECK(bootlog_phases(&b, &p) == 0))
		return;
	CHECK_EQ_INT(p.nphases, 0);
	CHECK_EQ_INT(p.first_us, 5000000);
}

TEST(the_first_of_each_line_counts_and_nothing_after_the_marker)
{
	struct bootlog b;
	struct bootlog_phases p;

	bootlog_init(&b, MARKER);
	feed(&b, "6,1,100,-;smp: Bringing up secondary CPUs ...\n");
	feed(&b, "6,2,200,-;smp: Bringing up secondary CPUs ...\n");
	feed(&b, "6,3,300,-;smp: Brought up 1 node, 2 CPUs\n");
	CHECK(feed(&b, "12,4,400,-;" MARKER "\n"));
	CHECK(feed(&b, "6,5,50,-;Run /init as init process\n"));
	if (!CHECK(bootlog_phases(&b, &p) == 0))
		return;
	CHECK_PHASE(&p, "smp-bringup", 100, 300);
	CHECK_EQ_INT(p.first_us, 100);
	CHECK(!p.init_started);
}

TEST(records_no_kernel_wrote_are_skipped)
{
	static const char *const bad[] = {
		"",
		";smp: Brought up 1 node, 2 CPUs",
		"6,184;smp: Brought up 1 node, 2 CPUs\n",
		"6,184,;smp: Brought up 1 node, 2 CPUs\n",
		"6,184,152000 smp: Brought up 1 node, 2 CPUs\n",
		"-6,184,152000,-;smp: Brought up 1 node, 2 CPUs\n",
		" 6,184,152000,-;smp: Brought up 1 node, 2 CPUs\n",
		"6,184,-152000,-;smp: Brought up 1 node, 2 CPUs\n",
		"6,184,+152000,-;smp: Brought up 1 node, 2 CPUs\n",
		"6;184,152000,-;smp: Brought up 1 node, 2 CPUs\n",
		"six,184,152000,-;smp: Brought up 1 node, 2 CPUs\n",
		"6,184,0x100,-;smp: Brought up 1 node, 2 CPUs\n",
		"smp: Brought up 1 node, 2 CPUs\n",
		"6,900,5000000,-" MARKER "\n",
	};
	struct bootlog b, empty;

	bootlog_init(&b, MARKER);
	bootlog_init(&empty, MARKER);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECKF(!feed(&b, bad[i]), "record %zu", i);
	CHECK(!memcmp(&b, &empty, sizeof(b)));
}

TEST(a_record_ends_at_its_first_nul_and_its_message_at_its_first_newline)
{
	static const char nul_in_header[] = "6,1\0,2,-;smp: Brought up 1 node\n";
	static const char nul_in_msg[] = "6,1,2,-;smp: Brou\0ght up 1 node\n";
	static const char dict[] = "6,1,2,-;usb 1-1: new device\n initcall x+0x0/0x1 returned 0 after 9 usecs\n";
	struct bootlog b;
	struct bootlog_phases p;

	bootlog_init(&b, MARKER);
	feed(&b, "6,0,1,-;smp: Bringing up secondary CPUs");	/* no newline */
	bootlog_feed(&b, nul_in_header, sizeof(nul_in_header) - 1);
	bootlog_feed(&b, nul_in_msg, sizeof(nul_in_msg) - 1);
	bootlog_feed(&b, dict, sizeof(dict) - 1);
	feed(&b, "12,9,10,-;" MARKER);
	if (!CHECK(bootlog_phases(&b, &p) == 0))
		return;
	CHECK(b.seen[BOOTLOG_SMP_START]);
	CHECK(!b.seen[BOOTLOG_SMP_DONE]);
	CHECK_EQ_INT(p.ninitcalls, 0);
	CHECK_EQ_INT(p.first_us, 1);
}

TEST(huge_numbers_never_wrap)
{
	struct bootlog b;
	struct bootlog_phases p;

	bootlog_init(&b, MARKER);
	/* One past UINT64_MAX, and far past it: not a stamp. */
	CHECK(!feed(&b, "12,1,18446744073709551616,-;" MARKER "\n"));
	CHECK(!feed(&b, "12,1,999999999999999999999999999,-;" MARKER "\n"));
	CHECK(!feed(&b, "99999999999999999999,1,5,-;" MARKER "\n"));
	CHECK_EQ_INT(b.first_us, UINT64_MAX);
	/* A duration that does not fit is no duration; a later line counts. */
	feed(&b, "6,2,100,-;node 0 deferred pages initialised in 18446744073709551616ms\n");
	CHECK(!b.seen[BOOTLOG_DEFERRED_PAGES]);
	feed(&b, "6,3,200,-;node 0 deferred pages initialised in 18446744073709551615ms\n");
	CHECK(b.seen[BOOTLOG_DEFERRED_PAGES]);
	feed(&b, "7,4,300,-;initcall big+0x0/0x10 returned 0 after 18446744073709551616 usecs\n");
	feed(&b, "7,5,400,-;initcall longer_than_it_started+0x0/0x10 returned 0 after 18446744073709551615 usecs\n");
	CHECK(feed(&b, "12,6,18446744073709551615,-;" MARKER "\n"));
	if (!CHECK(bootlog_phases(&b, &p) == 0))
		return;
	CHECK_EQ_INT(p.marker_us, UINT64_MAX);
	/* 18446744073709551615 ms before 200 us is before the clock started. */
	CHECK(!find(&p, "memmap-deferred"));
	/* Said to have run longer than the clock has: not an initcall to show. */
	CHECK_EQ_INT(p.ninitcalls, 0);
	CHECK_EQ_INT(b.slow[0].usecs, UINT64_MAX);
	CHECK_STREQ(b.slow[0].name, "longer_than_it_started");
}

TEST(long_and_odd_initcall_names_are_cut_to_fit)
{
	char rec[512], want[NVWA_ITEM_NAME_MAX];
	struct bootlog b;
	struct bootlog_phases p;

	memset(want, 'x', sizeof(want) - 1);
	want[sizeof(want) - 1] = '\0';
	bootlog_init(&b, MARKER);
	snprintf(rec, sizeof(rec), "7,1,5000,-;initcall %s%s+0x0/0x1 returned 0 after 7 usecs\n",
		 want, "yyyyyyyyyy");
	feed(&b, rec);
	feed(&b, "7,2,5000,-;initcall +0x0/0x1 returned 0 after 9 usecs\n");
	feed(&b, "7,3,5000,-;initcall after 8 usecs\n");
	feed(&b, "7,4,5000,-;initcall returned 0 after lots usecs\n");
	feed(&b, "12,5,6000,-;" MARKER "\n");
	if (!CHECK(bootlog_phases(&b, &p) == 0))
		return;
	CHECK_EQ_INT(p.ninitcalls, 2);
	/* "initcall after 8": the name is what precedes the first space. */
	CHECK_STREQ(p.initcall[0].name, "after");
	CHECK_STREQ(p.initcall[1].name, want);
}

TEST(cpus_woken_from_park_or_by_init_with_their_times)
{
	struct bootlog b;
	struct bootlog_phases p;

	bootlog_init(&b, MARKER);
	feed(&b, "6,10,100000,-;nvwa.park: CPU1 (APIC 0x1) woken from park: handed over after 20 us, running after 40 us, online after 900 us\n");
	feed(&b, "6,11,103000,-;nvwa.park: CPU2 (APIC 0x2) started with INIT/SIPI (bad-magic): handed over after 50 us, running after 2100 us, online after 3000 us\n");
	feed(&b, "6,12,104000,-;nvwa.park: CPU3 (APIC 0x3) woken from park: handed over after 20 us, running after 40 us, online after lots us\n");
	feed(&b, "6,13,105000,-;nvwa.park: CPU4 (APIC 0x4) woken from park: handed over after 20 us, running after 1 us, online after 999999 us\n");
	feed(&b, "6,14,106000,-;nvwa.park: CPU5 (APIC 0x5) started with INIT/SIPI (no-answer: running after 1 us, online after 9 us\n");
	feed(&b, "12,20,200000,-;" MARKER "\n");
	if (!CHECK(bootlog_phases(&b, &p) == 0))
		return;
	/* A number that is not one, a time longer than the clock, no ')'. */
	CHECK_EQ_INT(p.ncpus, 2);
	CHECK_EQ_INT(p.ncpus_parked, 1);
	CHECK_EQ_INT(p.cpu[0].cpu, 1);
	CHECK(p.cpu[0].parked);
	CHECK_EQ_INT(p.cpu[0].online_us, 900);
	CHECK_EQ_INT(p.cpu[0].end_us, 100000);
	CHECK_STREQ(p.cpu[0].why, "");
	CHECK_EQ_INT(p.cpu[1].cpu, 2);
	CHECK(!p.cpu[1].parked);
	CHECK_STREQ(p.cpu[1].why, "bad-magic");
	CHECK_EQ_INT(p.cpu[1].online_us, 3000);
}
