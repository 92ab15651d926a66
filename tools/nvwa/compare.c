// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "common/tsc.h"
#include "common/util.h"
#include "tools/nvwa/compare.h"

static double duration(const struct nvwa_handover *h, const struct nvwa_phase *p)
{
	return tsc_to_ms(p->end - p->start, h->timeline.tsc_khz);
}

static bool regressed(double a, double b, const struct compare_opts *o)
{
	return b > a * (1.0 + o->threshold) && b - a > o->min_ms;
}

/* Freeze to app-running, or a negative value if the update did not get there. */
static double downtime(const struct nvwa_handover *h)
{
	double ms;

	if (timeline_downtime_ms(&h->timeline, &ms) < 0)
		return -1;
	return ms;
}

static void row(FILE *f, const struct compare_opts *o, bool first,
		const char *name, double a, double b, bool bad)
{
	double change = a > 0 ? 100.0 * (b - a) / a : 0;

	if (o->json) {
		fprintf(f, "%s\n    {\"name\": ", first ? "" : ",");
		json_str(f, name);
		fprintf(f, ", \"a_ms\": %.3f, \"b_ms\": %.3f, \"change_pct\": %.1f, \"regressed\": %s}",
			a, b, change, bad ? "true" : "false");
	} else {
		fprintf(f, "  %-18s %11.1f %11.1f %+8.1f%%%s\n", name, a, b, change,
			bad ? "  REGRESSED" : "");
	}
}

int compare_updates(FILE *f, const struct nvwa_handover *a,
		    const struct nvwa_handover *b, const struct compare_opts *o)
{
	double da = downtime(a), db = downtime(b);
	int bad = 0;
	bool first = true;

	if (o->json)
		fprintf(f, "{\n  \"a\": %" PRIu64 ",\n  \"b\": %" PRIu64 ",\n  \"phases\": [",
			a->generation, b->generation);
	else
		fprintf(f, "update %" PRIu64 " -> update %" PRIu64
			" (regressed: slower by more than %.0f%% and %.0f ms)\n\n"
			"  %-18s %11s %11s %9s\n", a->generation, b->generation,
			o->threshold * 100, o->min_ms, "phase", "A ms", "B ms", "change");
	for (uint32_t i = 0; i < b->timeline.nphases; i++) {
		const struct nvwa_phase *pb = &b->timeline.phases[i];
		const struct nvwa_phase *pa = timeline_find(&a->timeline, pb->name);
		double ma, mb;
		bool r;

		/* Points in time have no duration to compare. */
		if (!pa || pb->end == pb->start)
			continue;
		ma = duration(a, pa);
		mb = duration(b, pb);
		r = regressed(ma, mb, o);
		bad += r;
		row(f, o, first, pb->name, ma, mb, r);
		first = false;
	}
	if (o->json) {
		fprintf(f, "\n  ],\n  \"downtime\": ");
		if (da >= 0 && db >= 0)
			fprintf(f, "{\"a_ms\": %.3f, \"b_ms\": %.3f, \"regressed\": %s},\n",
				da, db, regressed(da, db, o) ? "true" : "false");
		else
			fprintf(f, "null,\n");
	} else if (da >= 0 && db >= 0) {
		fprintf(f, "\n");
		row(f, o, false, "downtime", da, db, regressed(da, db, o));
	}
	if (da >= 0 && db >= 0 && regressed(da, db, o))
		bad++;
	if (o->json)
		fprintf(f, "  \"regressions\": %d\n}\n", bad);
	else
		fprintf(f, "\n  %d regression(s)\n", bad);
	return bad;
}
