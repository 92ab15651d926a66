// SPDX-License-Identifier: GPL-2.0
/*
 * handover_parse() on arbitrary bytes: it must not crash, and whatever it
 * accepts must survive a round trip (build it again, parse that, get the
 * same record), so that a report read by one nvwa and rewritten loses
 * nothing.  Inputs are parsed with the CRC check and without it, since
 * the CRC alone would keep mutated inputs away from the field checks.
 *
 * Seeds: build/tests/handover_test --write-seed DIR
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/handover.h"

static bool same_kernel(const struct nvwa_kernel *a,
			const struct nvwa_kernel *b)
{
	return !strcmp(a->release, b->release) &&
	       !strcmp(a->cmdline, b->cmdline) &&
	       !strcmp(a->image, b->image);
}

static bool same_app(const struct nvwa_app *a, const struct nvwa_app *b)
{
	return a->pid == b->pid && !strcmp(a->comm, b->comm) &&
	       !strcmp(a->images, b->images) &&
	       !strcmp(a->dump_mode, b->dump_mode) &&
	       !strcmp(a->state, b->state) && !strcmp(a->error, b->error);
}

static bool same_phase(const struct nvwa_phase *a, const struct nvwa_phase *b)
{
	return !strcmp(a->name, b->name) && a->domain == b->domain &&
	       a->start == b->start && a->end == b->end;
}

static bool same_item(const struct nvwa_item *a, const struct nvwa_item *b)
{
	return !strcmp(a->kind, b->kind) && !strcmp(a->name, b->name) &&
	       !strcmp(a->detail, b->detail) && a->start == b->start &&
	       a->end == b->end;
}

/* Field by field: padding and bytes past a string's NUL do not count. */
static bool same(const struct nvwa_handover *a, const struct nvwa_handover *b)
{
	uint32_t i;

	if (a->version != b->version || a->generation != b->generation ||
	    strcmp(a->store, b->store) || strcmp(a->outcome, b->outcome) ||
	    !same_kernel(&a->old_kernel, &b->old_kernel) ||
	    !same_kernel(&a->new_kernel, &b->new_kernel) ||
	    a->napps != b->napps ||
	    a->timeline.tsc_khz != b->timeline.tsc_khz ||
	    a->timeline.nphases != b->timeline.nphases ||
	    strcmp(a->probes, b->probes) || a->nitems != b->nitems)
		return false;
	for (i = 0; i < a->nitems; i++)
		if (!same_item(&a->items[i], &b->items[i]))
			return false;
	for (i = 0; i < a->napps; i++)
		if (!same_app(&a->apps[i], &b->apps[i]))
			return false;
	for (i = 0; i < a->timeline.nphases; i++)
		if (!same_phase(&a->timeline.phases[i], &b->timeline.phases[i]))
			return false;
	return true;
}

/* Parses into @first; on success checks the round trip.  Returns the parse. */
static int round_trip(const uint8_t *data, size_t size, unsigned int flags,
		      struct nvwa_handover *first)
{
	static struct nvwa_handover again;
	void *blob, *blob2;
	size_t bsize, bsize2;
	char why[256];
	int r;

	r = handover_parse(data, size, flags, first, why, sizeof(why));
	if (r < 0) {
		/* Refused, as documented, and with a reason. */
		if ((r != -EBADMSG && r != -EPROTONOSUPPORT) || !why[0])
			abort();
		return r;
	}

	/* Accepted means buildable: the two share one set of rules. */
	if (handover_build(first, &blob, &bsize) < 0)
		abort();
	if (handover_parse(blob, bsize, 0, &again, why, sizeof(why)) < 0)
		abort();
	if (!same(first, &again))
		abort();
	/* And writing what was read back changes no byte. */
	if (handover_build(&again, &blob2, &bsize2) < 0)
		abort();
	if (bsize != bsize2 || memcmp(blob, blob2, bsize))
		abort();
	free(blob2);
	free(blob);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Static: a record is tens of kilobytes, too much for each call. */
	static struct nvwa_handover checked, unchecked;
	int r;

	r = round_trip(data, size, 0, &checked);
	/* The override only skips the CRC: it accepts more, never less. */
	if (round_trip(data, size, HANDOVER_PARSE_IGNORE_CRC, &unchecked) < 0) {
		if (r == 0)
			abort();
	} else if (r == 0 && !same(&checked, &unchecked)) {
		abort();
	}
	return 0;
}
