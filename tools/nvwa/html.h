/* SPDX-License-Identifier: GPL-2.0 */
/* The self-contained HTML dashboard of an update (no network, no assets). */
#ifndef NVWA_HTML_H
#define NVWA_HTML_H

#include <stdint.h>
#include <stdio.h>

#include "common/handover.h"

/* One earlier update, for the history chart. */
struct html_history {
	uint64_t generation;
	double downtime_ms;		/* < 0: the update did not finish */
	char outcome[NVWA_WORD_MAX];
};

/*
 * Writes the dashboard of @h: a timeline spanning the kexec (every phase
 * a bar whose tooltip gives its exact figures), the phase table, and the
 * downtime of the @nhist updates in @hist.
 */
void html_write_report(FILE *f, const struct nvwa_handover *h,
		       const struct html_history *hist, size_t nhist);

#endif
