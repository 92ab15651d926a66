// SPDX-License-Identifier: GPL-2.0
/* The dashboard: every phase drawn with its figures, history, nothing external. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/nvwa/html.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

#define KHZ 1000000ull

static char *render(const struct nvwa_handover *h, const struct html_history *hist,
		    size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	html_write_report(f, h, hist, n);
	fclose(f);
	return buf;
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	for (; (s = strstr(s, what)); s++)
		n++;
	return n;
}

static void make(struct nvwa_handover *h)
{
	static const char *const names[] = { "check", "freeze", "kexec-jump",
					     "initcalls", "restore" };
	uint64_t t = 5 * KHZ;

	memset(h, 0, sizeof(*h));
	h->generation = 7;
	h->timeline.tsc_khz = KHZ;
	strcpy(h->old_kernel.release, "6.1.0-56-amd64");
	strcpy(h->new_kernel.release, "6.1.0-57-amd64");
	strcpy(h->new_kernel.loader, "kexec_load elf");
	strcpy(h->outcome, "restored");
	h->napps = 1;
	h->apps[0].pid = 42;
	strcpy(h->apps[0].comm, "a<b>&\"c");
	strcpy(h->apps[0].state, "restored");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		timeline_add(&h->timeline, names[i], (enum nvwa_domain)(i < 2 ? 0 : i < 4 ? 1 : 2),
			     t, t + 100 * KHZ);
		if (!strcmp(names[i], "freeze"))
			timeline_add(&h->timeline, "reboot", NVWA_DOMAIN_OLD, t + 100 * KHZ,
				     t + 100 * KHZ);
		t += 100 * KHZ;
	}
	timeline_add(&h->timeline, "app-running", NVWA_DOMAIN_NEW, t, t);
}

TEST(every_phase_is_a_bar_with_its_figures)
{
	static struct nvwa_handover h;
	char *html;

	make(&h);
	html = render(&h, NULL, 0);
	if (!CHECK(html))
		return;
	CHECK(!strncmp(html, "<!doctype html>", 15));
	for (uint32_t i = 0; i < h.timeline.nphases; i++) {
		char want[128];

		snprintf(want, sizeof(want), "data-name=\"%s\"", h.timeline.phases[i].name);
		CHECKF(strstr(html, want), "%s", want);
	}
	CHECK(strstr(html, "<title>restore (new): starts at 300.0 ms, lasts 100.0 ms</title>"));
	CHECK(strstr(html, "Downtime <b>400.0 ms</b>"));
	CHECK(strstr(html, "class=\"kexec\""));
	CHECK(strstr(html, "Loaded with kexec_load elf."));
	free(html);
}

TEST(text_from_the_record_is_escaped)
{
	static struct nvwa_handover h;
	char *html;

	make(&h);
	html = render(&h, NULL, 0);
	CHECK(strstr(html, "a&lt;b&gt;&amp;&quot;c"));
	CHECK(!strstr(html, "a<b>"));
	free(html);
}

TEST(history_has_a_bar_per_update)
{
	static struct nvwa_handover h;
	struct html_history hist[3] = {
		{ 5, 9000, "restored" }, { 6, -1, "failed" }, { 7, 8500, "restored" },
	};
	char *html;

	make(&h);
	html = render(&h, hist, 3);
	CHECK_EQ_INT(count(html, "class=\"hist\""), 3);
	CHECK(strstr(html, "update 6: failed"));
	free(html);
	html = render(&h, NULL, 0);
	CHECK(strstr(html, "No finished update recorded yet."));
	free(html);
}

TEST(the_page_is_self_contained)
{
	static struct nvwa_handover h;
	char *html;

	make(&h);
	html = render(&h, NULL, 0);
	CHECK(!strstr(html, "http"));
	CHECK(!strstr(html, "src="));
	CHECK(!strstr(html, "<link"));
	free(html);
}

TEST(devices_and_initcalls_are_bars_slowest_first)
{
	static struct nvwa_handover h;
	char *out;

	make(&h);
	strcpy(h.probes, "fentry/fexit");
	handover_add_item(&h, "device", "0000:00:02.0", "virtio-pci", 0, 2 * KHZ);
	handover_add_item(&h, "device", "serial8250", "", 2 * KHZ, 9 * KHZ);
	handover_add_item(&h, "initcall", "acpi_init", "", 0, 196 * KHZ);
	out = render(&h, NULL, 0);
	if (!CHECK(out))
		return;
	CHECK(strstr(out, "<svg class=\"devices\""));
	CHECK(strstr(out, "<svg class=\"initcalls\""));
	CHECK(strstr(out, "Timed by fentry/fexit."));
	CHECK(strstr(out, "2 recorded, 9.0 ms in all"));
	/* Slowest first, and hovering names the driver and the exact time. */
	CHECK(strstr(out, "serial8250") < strstr(out, "0000:00:02.0"));
	CHECK(strstr(out, "<title>0000:00:02.0 (virtio-pci): 2.000 ms</title>"));
	CHECK(strstr(out, "<title>acpi_init: 196.000 ms</title>"));
	free(out);
}
