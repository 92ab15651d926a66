// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "common/tsc.h"
#include "tools/nvwa/compare.h"
#include "tools/nvwa/json.h"

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

static double change_pct(double a, double b)
{
	return a > 0 ? 100.0 * (b - a) / a : 0;
}

static void row(FILE *f, const char *name, double a, double b, bool bad)
{
	fprintf(f, "  %-18s %11.1f %11.1f %+8.1f%%%s\n", name, a, b, change_pct(a, b),
		bad ? "  REGRESSED" : "");
}

/* A phase's row; the downtime's (@name NULL) has no name and no change. */
static struct json_object *json_row(const char *name, double a, double b, bool bad)
{
	struct json_object *o = json_object_new_object();

	if (name)
		json_object_object_add(o, "name", json_bytes(name));
	json_object_object_add(o, "a_ms", json_fixed(a, 3));
	json_object_object_add(o, "b_ms", json_fixed(b, 3));
	if (name)
		json_object_object_add(o, "change_pct", json_fixed(change_pct(a, b), 1));
	json_object_object_add(o, "regressed", json_object_new_boolean(bad));
	return o;
}

int compare_updates(FILE *f, const struct nvwa_handover *a,
		    const struct nvwa_handover *b, const struct compare_opts *o)
{
	double da = downtime(a), db = downtime(b);
	bool have_downtime = da >= 0 && db >= 0;
	struct json_object *root = NULL, *rows = NULL;
	int bad = 0;

	if (o->json) {
		root = json_object_new_object();
		rows = json_object_new_array();
		json_object_object_add(root, "a", json_object_new_uint64(a->generation));
		json_object_object_add(root, "b", json_object_new_uint64(b->generation));
		json_object_object_add(root, "phases", rows);
	} else {
		fprintf(f, "update %" PRIu64 " -> update %" PRIu64
			" (regressed: slower by more than %.0f%% and %.0f ms)\n\n"
			"  %-18s %11s %11s %9s\n", a->generation, b->generation,
			o->threshold * 100, o->min_ms, "phase", "A ms", "B ms", "change");
	}
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
		if (o->json)
			json_object_array_add(rows, json_row(pb->name, ma, mb, r));
		else
			row(f, pb->name, ma, mb, r);
	}
	if (have_downtime && regressed(da, db, o))
		bad++;
	if (o->json) {
		json_object_object_add(root, "downtime", have_downtime ?
				       json_row(NULL, da, db, regressed(da, db, o)) : NULL);
		json_object_object_add(root, "regressions", json_object_new_int(bad));
		json_write(f, root, JSON_LINES);
		return bad;
	}
	if (have_downtime) {
		fprintf(f, "\n");
		row(f, "downtime", da, db, regressed(da, db, o));
	}
	fprintf(f, "\n  %d regression(s)\n", bad);
	return bad;
}
