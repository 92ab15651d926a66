/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The new kernel's boot phases, parsed from its log records (/dev/kmsg's
 * "LEVEL,SEQ,USEC,FLAGS;MESSAGE" form) in the kernel's own clock.  No I/O:
 * kmsg.c reads the records and ties that clock to the TSC.  Any bytes may
 * come in; what is not a record the parser knows is skipped.
 */
#ifndef NVWA_BOOTLOG_H
#define NVWA_BOOTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/handover.h"

#define BOOTLOG_MARKER_MAX 64
#define BOOTLOG_SLOWEST_INITCALLS 10
#define BOOTLOG_MAX_PHASES 6
#define BOOTLOG_MAX_CPUS 64
#define BOOTLOG_CPU_WHY_MAX 24

/* Log messages that open or close a phase, in boot order. */
enum bootlog_mark {
	BOOTLOG_SMP_START,
	BOOTLOG_SMP_DONE,
	BOOTLOG_UNPACK_START,
	BOOTLOG_UNPACK_DONE,
	BOOTLOG_INITCALLS_DONE,
	BOOTLOG_RUN_INIT,
	BOOTLOG_DEFERRED_PAGES,
	BOOTLOG_MARKS,
};

/* initcall_debug's "initcall NAME+0x0/0x40 returned 0 after USECS usecs". */
struct bootlog_initcall {
	char name[NVWA_ITEM_NAME_MAX];
	uint64_t end_us, usecs;
};

/* What the records fed so far said. */
/*
 * A secondary CPU the nvwa kernel brought up (park/kernel/): its line
 * "nvwa.park: CPUn (APIC x) woken from park: running after A us, online
 * after B us", or "started with INIT/SIPI (WHY): ..." when not from park.
 */
struct bootlog_cpu {
	uint32_t cpu;
	bool parked;
	char why[BOOTLOG_CPU_WHY_MAX];	/* "" when parked */
	uint64_t online_us;		/* bring-up until online */
	uint64_t end_us;		/* when it was online */
};

struct bootlog {
	char marker[BOOTLOG_MARKER_MAX];
	uint64_t first_us;		/* UINT64_MAX until a record is read */
	bool seen[BOOTLOG_MARKS];	/* the first of each counts */
	uint64_t usec[BOOTLOG_MARKS];
	uint64_t deferred_ms;		/* what the deferred-pages line says */
	bool seen_marker;
	uint64_t marker_us;
	struct bootlog_initcall slow[BOOTLOG_SLOWEST_INITCALLS]; /* slowest first */
	struct bootlog_cpu cpu[BOOTLOG_MAX_CPUS];	/* in bring-up order */
	size_t ncpus;
};

/* A stretch of the boot, in µs of the kernel's clock. */
struct bootlog_phase {
	const char *name;
	uint64_t start_us, end_us;
};

/* The phases a log shows, in the order the timeline has always had them. */
struct bootlog_phases {
	uint64_t first_us;		/* the oldest record: the clock's start */
	uint64_t marker_us;		/* nvwa's marker, tied to the TSC */
	struct bootlog_phase phase[BOOTLOG_MAX_PHASES];
	size_t nphases;
	bool init_started;		/* "Run /init": userspace begins */
	uint64_t init_us;
	struct bootlog_initcall initcall[BOOTLOG_SLOWEST_INITCALLS];
	size_t ninitcalls;		/* slowest first */
	struct bootlog_cpu cpu[BOOTLOG_MAX_CPUS];
	size_t ncpus;
	size_t ncpus_parked;		/* of ncpus, woken from park */
};

/* Starts a parse that ends at the record whose message begins with @marker. */
void bootlog_init(struct bootlog *b, const char *marker);

/*
 * Feeds one record of @len bytes (as one read() of /dev/kmsg returns it).
 * Returns true once it is nvwa's marker: later records are not the boot's.
 */
bool bootlog_feed(struct bootlog *b, const void *rec, size_t len);

/* The phases in @b; -ENODATA (and *@ret untouched) without the marker. */
int bootlog_phases(const struct bootlog *b, struct bootlog_phases *ret);

#endif
