// SPDX-License-Identifier: GPL-2.0
/*
 * An update's record rendered for people and scripts: the terminal table
 * and the JSON form, shared by nvwa report and nvwa handover show.
 *
 * The JSON form is the contract for scripts; its fields are documented in
 * tools/man/nvwa-report.8 and only ever added to within a "version".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/tsc.h"
#include "common/util.h"
#include "tools/nvwa/json.h"
#include "tools/nvwa/nvwa.h"
#include "tools/nvwa/render.h"

/* Milliseconds from the freeze (or the first phase) to @tsc. */
static double rel_ms(const struct nvwa_handover *h, uint64_t origin, uint64_t tsc)
{
	if (tsc >= origin)
		return tsc_to_ms(tsc - origin, h->timeline.tsc_khz);
	return -tsc_to_ms(origin - tsc, h->timeline.tsc_khz);
}

static uint64_t origin_of(const struct nvwa_handover *h)
{
	const struct nvwa_phase *freeze = timeline_find(&h->timeline, NVWA_PHASE_FREEZE);
	uint64_t min = UINT64_MAX;

	if (freeze)
		return freeze->start;
	for (uint32_t i = 0; i < h->timeline.nphases; i++)
		if (h->timeline.phases[i].start < min)
			min = h->timeline.phases[i].start;
	return min == UINT64_MAX ? 0 : min;
}

struct inner {
	const char *name, *detail;
	uint64_t cycles;
};

static int longer(const void *a, const void *b)
{
	const struct inner *x = a, *y = b;

	return x->cycles < y->cycles ? 1 : x->cycles > y->cycles ? -1 : 0;
}

/* What was measured inside @big (phases, devices, initcalls), slowest first. */
static size_t inner(const struct nvwa_handover *h, const struct nvwa_phase *big,
		    struct inner *in)
{
	const struct nvwa_timeline *tl = &h->timeline;
	size_t n = 0;

	for (uint32_t i = 0; i < tl->nphases; i++) {
		const struct nvwa_phase *p = &tl->phases[i];

		if (p != big && p->start >= big->start && p->end <= big->end && p->end > p->start)
			in[n++] = (struct inner){ p->name, "phase", p->end - p->start };
	}
	for (uint32_t i = 0; i < h->nitems; i++) {
		const struct nvwa_item *it = &h->items[i];

		if (it->start >= big->start && it->end <= big->end && it->end > it->start)
			in[n++] = (struct inner){ it->name, it->kind, it->end - it->start };
	}
	qsort(in, n, sizeof(in[0]), longer);
	return n;
}

/*
 * The biggest phase between @from and @to and the three slowest things
 * measured inside it: where to look first.  When nothing finer was measured
 * there, the biggest phase that has something inside follows.
 */
static void print_slowest(FILE *f, const struct nvwa_handover *h, uint64_t from,
			  uint64_t to)
{
	static struct inner in[NVWA_MAX_PHASES + NVWA_MAX_ITEMS];
	const struct nvwa_timeline *tl = &h->timeline;
	const struct nvwa_phase *big, *shown = NULL;
	uint64_t below = UINT64_MAX;
	size_t n;

	for (;;) {
		big = NULL;
		for (uint32_t i = 0; i < tl->nphases; i++) {
			const struct nvwa_phase *p = &tl->phases[i];
			uint64_t d = p->end - p->start;

			if (p->start >= from && p->end <= to && d < below &&
			    (!big || d > big->end - big->start))
				big = p;
		}
		if (!big)
			return;
		below = big->end - big->start;
		n = inner(h, big, in);
		if (!shown || n)
			fprintf(f, "  %s: %s, %.1f ms; ", shown ? "next biggest phase with something inside" : "biggest phase",
				big->name, tsc_to_ms(big->end - big->start, tl->tsc_khz));
		if (n)
			break;
		if (!shown)
			fprintf(f, "nothing finer was measured inside it\n");
		shown = big;
	}
	fprintf(f, "slowest inside it:\n");
	for (size_t i = 0; i < n && i < 3; i++)
		fprintf(f, "    %-40s %-14s %9.1f ms\n", in[i].name, in[i].detail,
			tsc_to_ms(in[i].cycles, tl->tsc_khz));
}

/* Where an application's memory went: what was kept, what CRIU copied. */
static void print_memory(FILE *f, const struct nvwa_app *a)
{
	if (!strcmp(a->memory, "kept"))
		fprintf(f, "    memory kept in place: %" PRIu64 " pages, %" PRIu64
			" back in place (%" PRIu64 " in huge pages), %" PRIu64
			" copied at the restore; left to CRIU: %" PRIu64
			" private pages not one process's alone, %" PRIu64
			" pages of shared anonymous memory; %" PRIu64 " KiB of images\n",
			a->kept_pages, a->installed_pages, a->huge_pages, a->copied_pages,
			a->left_pages, a->shared_pages, a->image_bytes >> 10);
	else if (a->memory[0])
		fprintf(f, "    memory copied by CRIU: %" PRIu64 " KiB of images\n",
			a->image_bytes >> 10);
}

void report_print_table(FILE *f, const struct nvwa_handover *h)
{
	struct nvwa_phase sorted[NVWA_MAX_PHASES];
	uint64_t origin = origin_of(h);
	double downtime = 0;
	int have_downtime = timeline_downtime_ms(&h->timeline, &downtime) == 0;
	uint32_t n = timeline_sorted(&h->timeline, sorted);
	const struct nvwa_phase *running = timeline_find(&h->timeline, NVWA_PHASE_APP_RUNNING);
	uint64_t running_end = running ? running->end : 0;

	fprintf(f, "update %" PRIu64 ": %s -> %s, %s, %u application(s)\n",
		h->generation, h->old_kernel.release,
		h->new_kernel.release[0] ? h->new_kernel.release : h->new_kernel.image,
		h->outcome, h->napps);
	if (h->new_kernel.loader[0])
		fprintf(f, "  loaded with %s\n", h->new_kernel.loader);
	if (h->new_kernel.initrd[0])
		fprintf(f, "  initrd: %s\n", h->new_kernel.initrd);
	for (uint32_t i = 0; i < h->napps; i++) {
		fprintf(f, "  app %d (%s)%s%s: %s%s%s\n", h->apps[i].pid, h->apps[i].comm,
			h->apps[i].unit[0] ? ", service " : "", h->apps[i].unit,
			h->apps[i].state, h->apps[i].error[0] ? ": " : "",
			h->apps[i].error);
		print_memory(f, &h->apps[i]);
	}
	fprintf(f, "\n  %-18s %-4s %11s %11s %8s\n", "phase", "side", "start ms",
		"duration ms", "downtime");
	for (uint32_t i = 0; i < n; i++) {
		const struct nvwa_phase *p = &sorted[i];
		double dur = tsc_to_ms(p->end - p->start, h->timeline.tsc_khz);
		char share[16] = "";

		/* Only what lies inside the downtime gets a share of it. */
		if (have_downtime && downtime > 0 && p->start >= origin &&
		    p->end > p->start && p->end <= running_end)
			xsnprintf(share, sizeof(share), "%.1f%%", 100.0 * dur / downtime);
		fprintf(f, "  %-18s %-4s %11.1f %11.1f %8s\n", p->name,
			timeline_domain_name(p->domain), rel_ms(h, origin, p->start),
			dur, share);
	}
	if (h->probes[0])
		fprintf(f, "\n  old kernel's shutdown timed by: %s\n", h->probes);
	if (have_downtime) {
		fprintf(f, "\n  downtime (freeze to application running): %.1f ms\n", downtime);
		print_slowest(f, h, origin, running_end);
	} else if (!h->napps && n) {
		/* nvwa trace reboot: no application, the whole reboot counts. */
		fprintf(f, "\n  no application: downtime does not apply\n");
		print_slowest(f, h, sorted[0].start, UINT64_MAX);
	} else
		fprintf(f, "\n  downtime: not known (%s)\n",
			handover_outcome(h) != NVWA_OUTCOME_RESTORED ? "the restore did not finish" :
			"no freeze or no app-running phase");
}


static struct json_object *json_kernel(const struct nvwa_kernel *k)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "release", json_bytes(k->release));
	json_object_object_add(o, "cmdline", json_bytes(k->cmdline));
	json_object_object_add(o, "image", json_bytes(k->image));
	json_object_object_add(o, "loader", json_bytes(k->loader));
	json_object_object_add(o, "initrd", json_bytes(k->initrd));
	return o;
}

int report_print_json(FILE *f, const struct nvwa_handover *h)
{
	const struct nvwa_timeline *tl = &h->timeline;
	uint64_t origin = origin_of(h);
	struct json_object *o = json_object_new_object();
	struct json_object *apps = json_object_new_array();
	struct json_object *phases = json_object_new_array();
	struct json_object *items = json_object_new_array();
	double downtime;

	for (uint32_t i = 0; i < h->napps; i++) {
		const struct nvwa_app *a = &h->apps[i];
		struct json_object *app = json_object_new_object();

		json_object_object_add(app, "pid", json_object_new_int(a->pid));
		json_object_object_add(app, "comm", json_bytes(a->comm));
		json_object_object_add(app, "state", json_bytes(a->state));
		json_object_object_add(app, "error", json_bytes(a->error));
		json_object_object_add(app, "images", json_bytes(a->images));
		json_object_object_add(app, "dump_mode", json_bytes(a->dump_mode));
		json_object_object_add(app, "unit", json_bytes(a->unit));
		json_object_object_add(app, "tcp_established", json_object_new_int64(a->tcp));
		json_object_object_add(app, "addresses", json_bytes(a->addresses));
		json_object_object_add(app, "pids", json_bytes(a->pids));
		json_object_object_add(app, "memory", json_bytes(a->memory));
		json_object_object_add(app, "image_bytes", json_object_new_uint64(a->image_bytes));
		json_object_object_add(app, "kept_pages", json_object_new_uint64(a->kept_pages));
		json_object_object_add(app, "left_pages", json_object_new_uint64(a->left_pages));
		json_object_object_add(app, "shared_pages", json_object_new_uint64(a->shared_pages));
		json_object_object_add(app, "moved_pages", json_object_new_uint64(a->moved_pages));
		json_object_object_add(app, "installed_pages",
				       json_object_new_uint64(a->installed_pages));
		json_object_object_add(app, "huge_pages", json_object_new_uint64(a->huge_pages));
		json_object_object_add(app, "copied_pages", json_object_new_uint64(a->copied_pages));
		json_object_array_add(apps, app);
	}
	for (uint32_t i = 0; i < tl->nphases; i++) {
		const struct nvwa_phase *p = &tl->phases[i];
		struct json_object *phase = json_object_new_object();

		json_object_object_add(phase, "name", json_bytes(p->name));
		json_object_object_add(phase, "side",
				       json_object_new_string(timeline_domain_name(p->domain)));
		json_object_object_add(phase, "start_ms", json_fixed(rel_ms(h, origin, p->start), 3));
		json_object_object_add(phase, "duration_ms",
				       json_fixed(tsc_to_ms(p->end - p->start, tl->tsc_khz), 3));
		json_object_object_add(phase, "start_tsc", json_object_new_uint64(p->start));
		json_object_object_add(phase, "end_tsc", json_object_new_uint64(p->end));
		json_object_array_add(phases, phase);
	}
	for (uint32_t i = 0; i < h->nitems; i++) {
		const struct nvwa_item *it = &h->items[i];
		struct json_object *item = json_object_new_object();

		json_object_object_add(item, "kind", json_bytes(it->kind));
		json_object_object_add(item, "name", json_bytes(it->name));
		json_object_object_add(item, "detail", json_bytes(it->detail));
		json_object_object_add(item, "start_ms", json_fixed(rel_ms(h, origin, it->start), 3));
		json_object_object_add(item, "duration_ms",
				       json_fixed(tsc_to_ms(it->end - it->start, tl->tsc_khz), 3));
		json_object_array_add(items, item);
	}
	json_object_object_add(o, "format", json_object_new_string("nvwa-report"));
	json_object_object_add(o, "version", json_object_new_int64(h->version));
	json_object_object_add(o, "generation", json_object_new_uint64(h->generation));
	json_object_object_add(o, "outcome", json_bytes(h->outcome));
	json_object_object_add(o, "store", json_bytes(h->store));
	json_object_object_add(o, "tsc_khz", json_object_new_uint64(tl->tsc_khz));
	json_object_object_add(o, "old_kernel", json_kernel(&h->old_kernel));
	json_object_object_add(o, "new_kernel", json_kernel(&h->new_kernel));
	json_object_object_add(o, "apps", apps);
	json_object_object_add(o, "phases", phases);
	json_object_object_add(o, "probes", json_bytes(h->probes));
	json_object_object_add(o, "items", items);
	json_object_object_add(o, "downtime_ms", timeline_downtime_ms(&h->timeline, &downtime) == 0 ?
			       json_fixed(downtime, 3) : NULL);
	return json_write(f, o, JSON_LINES);
}

int report_print_file(const char *path, bool json)
{
	struct nvwa_handover *h = calloc(1, sizeof(*h));
	char why[512];
	int r;

	if (!h)
		return log_error_errno(-ENOMEM, "Out of memory");
	r = record_load(path, 0, h, why, sizeof(why));
	if (r == 0 && json)
		r = report_print_json(stdout, h);
	else if (r == 0)
		report_print_table(stdout, h);
	free(h);
	return r;
}
