// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>

#include "common/timeline.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

TEST(add_then_find)
{
	struct nvwa_timeline tl = { .tsc_khz = 2400000 };
	const struct nvwa_phase *p;

	CHECK_EQ_INT(timeline_add(&tl, "freeze", NVWA_DOMAIN_OLD, 100, 250), 0);
	CHECK_EQ_INT(timeline_add(&tl, "kernel-init", NVWA_DOMAIN_BOOT, 300,
				  900), 0);
	CHECK_EQ_INT(timeline_add(&tl, "restore", NVWA_DOMAIN_NEW, 1000, 1500),
		     0);
	CHECK_EQ_INT(tl.nphases, 3);

	p = timeline_find(&tl, "kernel-init");
	if (!CHECK(p))
		return;
	CHECK_STREQ(p->name, "kernel-init");
	CHECK_EQ_INT(p->domain, NVWA_DOMAIN_BOOT);
	CHECK_EQ_INT(p->start, 300);
	CHECK_EQ_INT(p->end, 900);
	CHECK(p == &tl.phases[1]);
	CHECK(timeline_find(&tl, "kexec-load") == NULL);
	CHECK(timeline_find(&tl, "") == NULL);
}

TEST(point_event_is_accepted)
{
	struct nvwa_timeline tl = { 0 };

	CHECK_EQ_INT(timeline_add(&tl, "kexec", NVWA_DOMAIN_OLD, 42, 42), 0);
	CHECK_EQ_INT(tl.nphases, 1);
}

TEST(find_returns_first_of_a_name)
{
	struct nvwa_timeline tl = { 0 };

	CHECK_EQ_INT(timeline_add(&tl, "retry", NVWA_DOMAIN_OLD, 1, 2), 0);
	CHECK_EQ_INT(timeline_add(&tl, "retry", NVWA_DOMAIN_NEW, 3, 4), 0);
	CHECK(timeline_find(&tl, "retry") == &tl.phases[0]);
}

TEST(longest_name_fits_exactly)
{
	struct nvwa_timeline tl = { 0 };
	char name[NVWA_PHASE_NAME_MAX];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	CHECK_EQ_INT(timeline_add(&tl, name, NVWA_DOMAIN_NEW, 0, 1), 0);
	CHECK_STREQ(tl.phases[0].name, name);
	CHECK(timeline_find(&tl, name) == &tl.phases[0]);
}

TEST(full_timeline_refuses_more)
{
	struct nvwa_timeline tl = { 0 };
	uint32_t i;

	for (i = 0; i < NVWA_MAX_PHASES; i++)
		CHECKF(!timeline_add(&tl, "step", NVWA_DOMAIN_OLD, i, i + 1),
		       "phase %u", i);
	CHECK_EQ_INT(tl.nphases, NVWA_MAX_PHASES);
	CHECK_EQ_INT(timeline_add(&tl, "step", NVWA_DOMAIN_OLD, 0, 1), -ENOSPC);
	CHECK_EQ_INT(tl.nphases, NVWA_MAX_PHASES);
}

TEST(invalid_phases_are_refused)
{
	struct nvwa_timeline tl = { 0 };
	char toolong[NVWA_PHASE_NAME_MAX + 1];

	memset(toolong, 'x', sizeof(toolong) - 1);
	toolong[sizeof(toolong) - 1] = '\0';

	CHECK_EQ_INT(timeline_add(&tl, "", NVWA_DOMAIN_OLD, 0, 1), -EINVAL);
	CHECK_EQ_INT(timeline_add(&tl, NULL, NVWA_DOMAIN_OLD, 0, 1), -EINVAL);
	CHECK_EQ_INT(timeline_add(&tl, toolong, NVWA_DOMAIN_OLD, 0, 1),
		     -EINVAL);
	CHECK_EQ_INT(timeline_add(&tl, "late", NVWA_DOMAIN_MAX, 0, 1),
		     -EINVAL);
	CHECK_EQ_INT(timeline_add(&tl, "late", (enum nvwa_domain)-1, 0, 1),
		     -EINVAL);
	CHECK_EQ_INT(timeline_add(&tl, "backwards", NVWA_DOMAIN_OLD, 10, 9),
		     -EINVAL);
	/* A refused phase leaves no trace. */
	CHECK_EQ_INT(tl.nphases, 0);
	CHECK(timeline_find(&tl, toolong) == NULL);
}

TEST(invalid_beats_full)
{
	struct nvwa_timeline tl = { .nphases = NVWA_MAX_PHASES };

	/* The caller's bug is reported, not masked by the lack of room. */
	CHECK_EQ_INT(timeline_add(&tl, "", NVWA_DOMAIN_OLD, 0, 1), -EINVAL);
}

TEST(domain_names)
{
	CHECK_STREQ(timeline_domain_name(NVWA_DOMAIN_OLD), "old");
	CHECK_STREQ(timeline_domain_name(NVWA_DOMAIN_BOOT), "boot");
	CHECK_STREQ(timeline_domain_name(NVWA_DOMAIN_NEW), "new");
	CHECK_STREQ(timeline_domain_name(NVWA_DOMAIN_MAX), "unknown");
}

TEST(downtime_is_freeze_to_app_running)
{
	struct nvwa_timeline tl = { .tsc_khz = 1000 };
	uint64_t start = 1, end = 2;
	double ms = -1;

	CHECK_EQ_INT(timeline_add(&tl, "freeze", NVWA_DOMAIN_OLD, 1000, 3000), 0);
	CHECK_EQ_INT(timeline_downtime(&tl, &start, &end), -ENODATA);
	CHECK_EQ_INT(timeline_downtime_ms(&tl, &ms), -ENODATA);
	/* Nothing is written when there is no downtime to tell. */
	CHECK(start == 1 && end == 2 && ms == -1);
	CHECK_EQ_INT(timeline_add(&tl, "app-running", NVWA_DOMAIN_NEW, 9000,
				  9500), 0);
	CHECK_EQ_INT(timeline_downtime(&tl, &start, &end), 0);
	CHECK(start == 1000 && end == 9500);
	CHECK_EQ_INT(timeline_downtime_ms(&tl, &ms), 0);
	CHECK(ms == 8.5);
}

TEST(downtime_needs_running_after_freeze)
{
	struct nvwa_timeline tl = { .tsc_khz = 1000 };
	double ms;

	CHECK_EQ_INT(timeline_add(&tl, "app-running", NVWA_DOMAIN_NEW, 500,
				  500), 0);
	CHECK_EQ_INT(timeline_downtime_ms(&tl, &ms), -ENODATA);
	CHECK_EQ_INT(timeline_add(&tl, "freeze", NVWA_DOMAIN_OLD, 1000, 3000), 0);
	CHECK_EQ_INT(timeline_downtime_ms(&tl, &ms), -ENODATA);
}
