// SPDX-License-Identifier: GPL-2.0
/*
 * The restore's checks of a record's meaning (record_check_semantics) on
 * whatever handover_parse() accepts from arbitrary bytes (CRC ignored, so
 * mutations reach the fields).  What it accepts, the restore acts on: each
 * application's images must then name a directory inside the store that
 * belongs to that application, and no PID may come twice.
 *
 * Seeds: build/tests/handover_test --write-seed DIR
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/handover.h"
#include "tools/nvwa/nvwa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nvwa_handover h;
	char why[512], expect[64];

	if (handover_parse(data, size, HANDOVER_PARSE_IGNORE_CRC, &h, NULL, 0) < 0)
		return 0;
	if (record_check_semantics(&h, why, sizeof(why)) < 0) {
		if (!why[0] || !memchr(why, '\0', sizeof(why)))
			abort();	/* a refusal always says why */
		return 0;
	}
	for (uint32_t i = 0; i < h.napps; i++) {
		const struct nvwa_app *a = &h.apps[i];

		snprintf(expect, sizeof(expect), "gen-%" PRIu64 "/%d/dump",
			 h.generation, a->pid);
		if (strcmp(a->images, expect) || strstr(a->images, "..") ||
		    a->images[0] == '/' || handover_app_state(a) < 0)
			abort();
		for (uint32_t j = 0; j < i; j++)
			if (h.apps[j].pid == a->pid)
				abort();
	}
	return 0;
}
