/* SPDX-License-Identifier: GPL-2.0 */
/* Two updates side by side: which phases got slower. */
#ifndef NVWA_COMPARE_H
#define NVWA_COMPARE_H

#include <stdbool.h>
#include <stdio.h>

#include "common/handover.h"

struct compare_opts {
	double threshold;	/* a phase regressed if B > A * (1 + threshold) */
	double min_ms;		/* ... and by more than this many ms (noise) */
	bool json;
};

/*
 * Prints the phases @a and @b share, their durations and the change, and
 * the downtime of each; returns how many regressed (the downtime counts
 * as one more).
 */
int compare_updates(FILE *f, const struct nvwa_handover *a,
		    const struct nvwa_handover *b, const struct compare_opts *o);

#endif
