// SPDX-License-Identifier: GPL-2.0
/*
 * The shutdown probes' buffer on arbitrary bytes, as the new kernel reads
 * a pinmem area the old one filled.  What it accepts must leave a record
 * that handover_build() accepts, and a refusal must leave it untouched.
 */
#include <stdlib.h>
#include <string.h>

#include "bpf/probebuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nvwa_handover h, before;
	char why[256];
	size_t len;
	void *blob, *copy = malloc(size ? size : 1);
	int r;

	/* The area is page-aligned memory: give the parser aligned bytes too. */
	memcpy(copy, data, size);
	memset(&h, 0, sizeof(h));
	h.version = NVWA_HANDOVER_VERSION;
	h.generation = 1;
	strcpy(h.outcome, "pending");
	h.timeline.tsc_khz = 2400000;
	before = h;
	r = probebuf_merge(copy, size, &h, why, sizeof(why));
	if (r < 0) {
		if (memcmp(&h, &before, sizeof(h)))
			abort();
	} else {
		if (handover_build(&h, &blob, &len))
			abort();
		free(blob);
	}
	free(copy);
	return 0;
}
