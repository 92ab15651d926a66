/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The update's timeline: named phases on the TSC clock, old kernel and new
 * kernel alike.  A phase whose end equals its start is a point event.
 *
 * Phase names are stable identifiers ("freeze", "kexec-load", ...) used by
 * the report and by scripts; the domain says which side of the kexec a
 * phase was measured on and by what.
 */
#ifndef NVWA_TIMELINE_H
#define NVWA_TIMELINE_H

#include <stdint.h>

#define NVWA_MAX_PHASES 64
#define NVWA_PHASE_NAME_MAX 48

enum nvwa_domain {
	NVWA_DOMAIN_OLD,	/* old kernel, measured by nvwa in userspace */
	NVWA_DOMAIN_BOOT,	/* new kernel before userspace, from its log */
	NVWA_DOMAIN_NEW,	/* new kernel, measured by nvwa in userspace */
	NVWA_DOMAIN_PROBE,	/* old kernel after the reboot call, by eBPF */
	NVWA_DOMAIN_MAX,
};

struct nvwa_phase {
	char name[NVWA_PHASE_NAME_MAX];
	uint32_t domain;	/* enum nvwa_domain */
	uint64_t start;		/* TSC */
	uint64_t end;		/* TSC, >= start */
};

struct nvwa_timeline {
	uint64_t tsc_khz;	/* cycles per millisecond */
	uint32_t nphases;
	struct nvwa_phase phases[NVWA_MAX_PHASES];
};

/* Appends a phase; -ENOSPC when full, -EINVAL for a bad name or end < start. */
int timeline_add(struct nvwa_timeline *tl, const char *name,
		 enum nvwa_domain domain, uint64_t start, uint64_t end);
/* The first phase with this name, or NULL. */
const struct nvwa_phase *timeline_find(const struct nvwa_timeline *tl,
				       const char *name);
const char *timeline_domain_name(enum nvwa_domain domain);
/*
 * Copies the phases into @out (NVWA_MAX_PHASES long) in the order a
 * reader wants them: by start; at the same start the old kernel first,
 * then the enclosing (longer) phase.  Returns how many.
 */
uint32_t timeline_sorted(const struct nvwa_timeline *tl, struct nvwa_phase *out);

#endif
