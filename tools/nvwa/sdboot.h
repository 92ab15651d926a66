/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The new kernel's userspace before the restore, split where systemd saw
 * it: from /init to systemd's start in the real root ("initramfs", ending
 * at the "switch-root" point), then systemd until the restore starts
 * ("systemd").  Without systemd as PID 1, or with times that do not fall
 * between /init and the restore, it stays one phase, "userspace-early".
 *
 * The parsing and the split are pure (sdboot_parse(), sdboot_split());
 * sdboot_add_phases() asks systemctl and adds the phases.
 */
#ifndef NVWA_SDBOOT_H
#define NVWA_SDBOOT_H

#include <stddef.h>
#include <stdint.h>

#include "common/timeline.h"

#define SDBOOT_MAX_PHASES 3

/* systemd's CLOCK_MONOTONIC stamps, µs; 0 when it did not set one. */
struct sdboot_times {
	uint64_t initrd_us;		/* systemd started in the initrd */
	uint64_t userspace_us;		/* systemd started in the real root */
};

struct sdboot_phase {
	const char *name;
	uint64_t start, end;		/* TSC */
};

/*
 * `systemctl show -p InitRDTimestampMonotonic -p UserspaceTimestampMonotonic`
 * ("KEY=VALUE" lines, any order, others ignored) into *@ret.  -ENODATA
 * (and *@ret untouched) without a usable UserspaceTimestampMonotonic.
 */
int sdboot_parse(const char *text, struct sdboot_times *ret);

/*
 * Splits /init (@init_tsc) to the restore (@restore_tsc) by @t; @now_tsc
 * and @now_ns are one moment on both clocks (tsc_mono_pair()), @khz the
 * TSC's rate.  Fills @ret (SDBOOT_MAX_PHASES) in timeline order and
 * returns how many; 0 when @t says nothing about that span.
 */
size_t sdboot_split(const struct sdboot_times *t, uint64_t init_tsc,
		    uint64_t restore_tsc, uint64_t now_tsc, uint64_t now_ns,
		    uint64_t khz, struct sdboot_phase *ret);

/* The phases from /init to the restore, as finely as this boot allows. */
void sdboot_add_phases(struct nvwa_timeline *tl, uint64_t init_tsc,
		       uint64_t restore_tsc);

#endif
