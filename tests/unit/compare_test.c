// SPDX-License-Identifier: GPL-2.0
/* nvwa report --compare: an injected slow phase is flagged, a clean pair is not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/nvwa/compare.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

#define KHZ 1000000ull	/* 1 ms = 1e6 cycles */

/* An update whose phases last the given ms; freeze..app-running spans them. */
static void make(struct nvwa_handover *h, uint64_t gen, double freeze_ms,
		 double boot_ms, double restore_ms)
{
	uint64_t t = 1000 * KHZ;

	memset(h, 0, sizeof(*h));
	h->generation = gen;
	h->timeline.tsc_khz = KHZ;
	timeline_add(&h->timeline, "freeze", NVWA_DOMAIN_OLD, t, t + (uint64_t)(freeze_ms * KHZ));
	t += (uint64_t)(freeze_ms * KHZ);
	timeline_add(&h->timeline, "reboot", NVWA_DOMAIN_OLD, t, t);
	timeline_add(&h->timeline, "kernel-early", NVWA_DOMAIN_BOOT, t, t + (uint64_t)(boot_ms * KHZ));
	t += (uint64_t)(boot_ms * KHZ);
	timeline_add(&h->timeline, "restore", NVWA_DOMAIN_NEW, t, t + (uint64_t)(restore_ms * KHZ));
	t += (uint64_t)(restore_ms * KHZ);
	timeline_add(&h->timeline, "app-running", NVWA_DOMAIN_NEW, t, t);
}

static char out[8192];

static int run_compare(const struct nvwa_handover *a, const struct nvwa_handover *b,
		       const struct compare_opts *o)
{
	FILE *f = fmemopen(out, sizeof(out), "w");
	int r = compare_updates(f, a, b, o);

	fclose(f);
	return r;
}

TEST(a_clean_pair_has_no_regression)
{
	static struct nvwa_handover a, b;
	struct compare_opts o = { .threshold = 0.10, .min_ms = 50 };

	make(&a, 1, 400, 3000, 3000);
	make(&b, 2, 420, 3100, 2900);	/* within 10 % */
	CHECK_EQ_INT(run_compare(&a, &b, &o), 0);
	CHECK(strstr(out, "0 regression(s)"));
	CHECK(!strstr(out, "REGRESSED"));
}

TEST(an_injected_slow_phase_is_flagged)
{
	static struct nvwa_handover a, b;
	struct compare_opts o = { .threshold = 0.10, .min_ms = 50 };

	make(&a, 1, 400, 3000, 3000);
	make(&b, 2, 400, 3000, 6000);	/* restore twice as slow */
	/* The restore and, through it, the downtime. */
	CHECK_EQ_INT(run_compare(&a, &b, &o), 2);
	CHECK(strstr(out, "restore"));
	CHECK(strstr(out, "REGRESSED"));
	CHECK(strstr(out, "+100.0%"));
}

TEST(small_absolute_changes_are_noise)
{
	static struct nvwa_handover a, b;
	struct compare_opts o = { .threshold = 0.10, .min_ms = 50 };

	make(&a, 1, 10, 3000, 3000);
	make(&b, 2, 40, 3000, 3000);	/* +300 % but only 30 ms */
	CHECK_EQ_INT(run_compare(&a, &b, &o), 0);
}

TEST(json_names_every_phase_and_the_verdict)
{
	static struct nvwa_handover a, b;
	struct compare_opts o = { .threshold = 0.10, .min_ms = 50, .json = 1 };

	make(&a, 1, 400, 3000, 3000);
	make(&b, 2, 400, 6000, 3000);
	CHECK_EQ_INT(run_compare(&a, &b, &o), 2);
	CHECK(strstr(out, "{\"name\": \"kernel-early\", \"a_ms\": 3000.000, \"b_ms\": 6000.000, \"change_pct\": 100.0, \"regressed\": true}"));
	CHECK(strstr(out, "\"regressions\": 2"));
	/* A point in time has no duration: not compared. */
	CHECK(!strstr(out, "\"reboot\""));
}

TEST(an_update_that_never_ran_has_no_downtime)
{
	static struct nvwa_handover a, b;
	struct compare_opts o = { .threshold = 0.10, .min_ms = 50, .json = 1 };

	make(&a, 1, 400, 3000, 3000);
	make(&b, 2, 400, 3000, 3000);
	b.timeline.nphases--;		/* no app-running */
	CHECK_EQ_INT(run_compare(&a, &b, &o), 0);
	CHECK(strstr(out, "\"downtime\": null"));
}
