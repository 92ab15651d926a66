// SPDX-License-Identifier: GPL-2.0
/*
 * Rendered here, in C, to inline SVG: the file opens anywhere, offline,
 * and every figure in it is one nvwa computed, not a script's.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/tsc.h"
#include "tools/nvwa/html.h"

#define WIDTH 960	/* chart area, px */
#define LABEL 170	/* phase names, px */
#define ROW 22

static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			fputc((unsigned char)*s < 0x20 ? '?' : *s, f);
		}
	}
}

static double ms(const struct nvwa_handover *h, uint64_t from, uint64_t to)
{
	return to >= from ? tsc_to_ms(to - from, h->timeline.tsc_khz) :
			    -tsc_to_ms(from - to, h->timeline.tsc_khz);
}

static void timeline_svg(FILE *f, const struct nvwa_handover *h)
{
	static const char *const colour[NVWA_DOMAIN_MAX] = {
		"#4c78a8", "#f58518", "#54a24b", "#b279a2" };
	struct nvwa_phase p[NVWA_MAX_PHASES];
	const struct nvwa_phase *freeze = timeline_find(&h->timeline, NVWA_PHASE_FREEZE);
	const struct nvwa_phase *reboot = timeline_find(&h->timeline, NVWA_PHASE_REBOOT);
	uint32_t n = timeline_sorted(&h->timeline, p);
	uint64_t lo = UINT64_MAX, hi = 0, down_start, down_end;
	double scale;

	for (uint32_t i = 0; i < n; i++) {
		lo = p[i].start < lo ? p[i].start : lo;
		hi = p[i].end > hi ? p[i].end : hi;
	}
	if (!n || hi <= lo)
		return;
	scale = WIDTH / ms(h, lo, hi);
#define X(t) (LABEL + ms(h, lo, (t)) * scale)
	fprintf(f, "<svg class=\"timeline\" width=\"%d\" height=\"%u\" role=\"img\">\n",
		LABEL + WIDTH + 10, (n + 2) * ROW);
	if (timeline_downtime(&h->timeline, &down_start, &down_end) == 0)
		fprintf(f, "<rect class=\"downtime\" x=\"%.1f\" y=\"0\" width=\"%.1f\" height=\"%u\">"
			"<title>downtime: %.1f ms, freeze to application running</title></rect>\n",
			X(down_start), X(down_end) - X(down_start), (n + 1) * ROW,
			ms(h, down_start, down_end));
	if (reboot)
		fprintf(f, "<line class=\"kexec\" x1=\"%.1f\" x2=\"%.1f\" y1=\"0\" y2=\"%u\"/>"
			"<text class=\"kexec\" x=\"%.1f\" y=\"%u\">kexec</text>\n",
			X(reboot->start), X(reboot->start), (n + 1) * ROW,
			X(reboot->start) + 3, (n + 1) * ROW + 14);
	for (uint32_t i = 0; i < n; i++) {
		double x = X(p[i].start), w = X(p[i].end) - x;

		fprintf(f, "<g class=\"phase\" data-name=\"");
		esc(f, p[i].name);
		fprintf(f, "\"><text x=\"4\" y=\"%u\">", i * ROW + 15);
		esc(f, p[i].name);
		fprintf(f, "</text><rect x=\"%.1f\" y=\"%u\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>",
			x, i * ROW + 3, w < 2 ? 2 : w, ROW - 6,
			colour[p[i].domain < NVWA_DOMAIN_MAX ? p[i].domain : 0]);
		esc(f, p[i].name);
		fprintf(f, " (%s): starts at %.1f ms, lasts %.1f ms</title></rect></g>\n",
			timeline_domain_name(p[i].domain),
			freeze ? ms(h, freeze->start, p[i].start) : ms(h, lo, p[i].start),
			ms(h, p[i].start, p[i].end));
	}
	fprintf(f, "</svg>\n");
#undef X
}

static int slower(const void *a, const void *b)
{
	const struct nvwa_item *x = *(const struct nvwa_item *const *)a;
	const struct nvwa_item *y = *(const struct nvwa_item *const *)b;
	uint64_t dx = x->end - x->start, dy = y->end - y->start;

	return dx < dy ? 1 : dx > dy ? -1 : 0;
}

/* The @max slowest items of @kind, as bars on one scale. */
static void items_svg(FILE *f, const struct nvwa_handover *h, const char *kind,
		      const char *cls, size_t max)
{
	const struct nvwa_item *it[NVWA_MAX_ITEMS];
	uint64_t total = 0;
	size_t n = 0, shown;
	double scale, top;

	for (uint32_t i = 0; i < h->nitems; i++)
		if (!strcmp(h->items[i].kind, kind)) {
			it[n++] = &h->items[i];
			total += h->items[i].end - h->items[i].start;
		}
	if (!n) {
		fprintf(f, "<p>None recorded.</p>\n");
		return;
	}
	qsort(it, n, sizeof(it[0]), slower);
	shown = n < max ? n : max;
	top = ms(h, it[0]->start, it[0]->end);
	scale = top > 0 ? (WIDTH - 120) / top : 0;
	fprintf(f, "<p>%zu recorded, %.1f ms in all; the %zu slowest:</p>\n", n,
		tsc_to_ms(total, h->timeline.tsc_khz), shown);
	fprintf(f, "<svg class=\"%s\" width=\"%d\" height=\"%zu\" role=\"img\">\n",
		cls, LABEL + WIDTH + 10, shown * ROW + 4);
	for (size_t i = 0; i < shown; i++) {
		double d = ms(h, it[i]->start, it[i]->end), w = d * scale;

		fprintf(f, "<g class=\"item\" data-name=\"");
		esc(f, it[i]->name);
		fprintf(f, "\"><text x=\"4\" y=\"%zu\">", i * ROW + 15);
		esc(f, it[i]->name);
		fprintf(f, "</text><rect x=\"%d\" y=\"%zu\" width=\"%.1f\" height=\"%d\"><title>",
			LABEL, i * ROW + 3, w < 2 ? 2 : w, ROW - 6);
		esc(f, it[i]->name);
		if (it[i]->detail[0]) {
			fputs(" (", f);
			esc(f, it[i]->detail);
			fputs(")", f);
		}
		fprintf(f, ": %.3f ms</title></rect><text x=\"%.1f\" y=\"%zu\">%.2f ms</text></g>\n",
			d, LABEL + (w < 2 ? 2 : w) + 6, i * ROW + 15, d);
	}
	fprintf(f, "</svg>\n");
}

static void history_svg(FILE *f, const struct html_history *hist, size_t n)
{
	double max = 0;
	const int bw = 24, height = 160;

	for (size_t i = 0; i < n; i++)
		max = hist[i].downtime_ms > max ? hist[i].downtime_ms : max;
	if (!n || max <= 0) {
		fprintf(f, "<p>No finished update recorded yet.</p>\n");
		return;
	}
	fprintf(f, "<svg class=\"history\" width=\"%zu\" height=\"%d\" role=\"img\">\n",
		n * (bw + 6) + 10, height + 20);
	for (size_t i = 0; i < n; i++) {
		double hgt = hist[i].downtime_ms > 0 ? hist[i].downtime_ms / max * height : 0;

		fprintf(f, "<rect class=\"hist\" x=\"%zu\" y=\"%.1f\" width=\"%d\" height=\"%.1f\">"
			"<title>update %" PRIu64 ": %s, downtime %.1f ms</title></rect>"
			"<text x=\"%zu\" y=\"%d\">%" PRIu64 "</text>\n",
			i * (bw + 6) + 5, height - hgt, bw, hgt, hist[i].generation,
			hist[i].outcome, hist[i].downtime_ms, i * (bw + 6) + 8,
			height + 15, hist[i].generation);
	}
	fprintf(f, "</svg>\n");
}

void html_write_report(FILE *f, const struct nvwa_handover *h,
		       const struct html_history *hist, size_t nhist)
{
	const struct nvwa_phase *freeze = timeline_find(&h->timeline, NVWA_PHASE_FREEZE);
	struct nvwa_phase ps[NVWA_MAX_PHASES];
	uint32_t n = timeline_sorted(&h->timeline, ps);
	double downtime;

	fprintf(f, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		"<title>nvwa update %" PRIu64 "</title>\n<style>\n"
		"body{font:14px system-ui,sans-serif;margin:24px;color:#222}\n"
		"svg text{font-size:12px} rect.downtime{fill:#fbe3e3}\n"
		"line.kexec{stroke:#c00;stroke-dasharray:4 3} text.kexec{fill:#c00}\n"
		"rect.hist{fill:#4c78a8} table{border-collapse:collapse}\n"
		"svg.devices rect{fill:#b279a2} svg.initcalls rect{fill:#f58518}\n"
		"td,th{padding:2px 10px;text-align:right} td:first-child{text-align:left}\n"
		".legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}\n"
		"</style></head><body>\n<h1>nvwa update %" PRIu64 ": ",
		h->generation, h->generation);
	esc(f, h->old_kernel.release);
	fputs(" &rarr; ", f);
	esc(f, h->new_kernel.release[0] ? h->new_kernel.release : h->new_kernel.image);
	fprintf(f, ", %s</h1>\n<p class=\"downtime\">", h->outcome);
	if (timeline_downtime_ms(&h->timeline, &downtime) == 0)
		fprintf(f, "Downtime <b>%.1f ms</b>, freeze to application running.",
			downtime);
	else
		fputs("The update did not get the applications running again.", f);
	if (h->new_kernel.loader[0]) {
		fputs(" Loaded with ", f);
		esc(f, h->new_kernel.loader);
		fputs(".", f);
	}
	if (h->new_kernel.initrd[0]) {
		fputs(" Initrd: ", f);
		esc(f, h->new_kernel.initrd);
		fputs(".", f);
	}
	fprintf(f, "</p>\n<h2>Timeline across the kexec</h2>\n"
		"<p class=\"legend\"><span style=\"background:#4c78a8\"></span>old kernel"
		"<span style=\"background:#f58518\"></span>new kernel's boot (its log)"
		"<span style=\"background:#b279a2\"></span>old kernel after the reboot call (eBPF)"
		"<span style=\"background:#54a24b\"></span>new kernel's userspace"
		"<span style=\"background:#fbe3e3\"></span>downtime</p>\n");
	timeline_svg(f, h);
	fprintf(f, "<h2>Phases</h2>\n<table class=\"phases\"><tr><th>phase</th><th>side</th>"
		"<th>start ms</th><th>duration ms</th></tr>\n");
	for (uint32_t i = 0; i < n; i++) {
		const struct nvwa_phase *p = &ps[i];

		fputs("<tr><td>", f);
		esc(f, p->name);
		fprintf(f, "</td><td>%s</td><td>%.1f</td><td>%.1f</td></tr>\n",
			timeline_domain_name(p->domain),
			freeze ? ms(h, freeze->start, p->start) : 0.0, ms(h, p->start, p->end));
	}
	fputs("</table>\n<h2>Old kernel: device shutdown, device by device</h2>\n", f);
	if (h->probes[0]) {
		fputs("<p>Timed by ", f);
		esc(f, h->probes);
		fputs(".</p>\n", f);
	}
	items_svg(f, h, "device", "devices", 25);
	fputs("<h2>New kernel: slowest initcalls</h2>\n", f);
	items_svg(f, h, "initcall", "initcalls", 10);
	fprintf(f, "<h2>Applications</h2>\n<ul>\n");
	for (uint32_t i = 0; i < h->napps; i++) {
		fprintf(f, "<li>%d (", h->apps[i].pid);
		esc(f, h->apps[i].comm);
		fputs("): ", f);
		esc(f, h->apps[i].state);
		if (h->apps[i].error[0]) {
			fputs(": ", f);
			esc(f, h->apps[i].error);
		}
		fputs("</li>\n", f);
	}
	fprintf(f, "</ul>\n<h2>Every update on this machine</h2>\n");
	history_svg(f, hist, nhist);
	fprintf(f, "</body></html>\n");
}
