// SPDX-License-Identifier: GPL-2.0
/*
 * The boot-log parser on arbitrary bytes, one record per line, as
 * /dev/kmsg would hand them over.  Whatever comes in, the phases it gives
 * never end before they start, the initcalls are the slowest first and
 * their names are strings.
 */
#include <stdlib.h>
#include <string.h>

#include "tools/nvwa/bootlog.h"

#define MARKER "nvwa: tsc marker 1-2"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size, *nl;
	struct bootlog b;
	struct bootlog_phases ph;
	size_t len;
	void *rec;

	bootlog_init(&b, MARKER);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		/* A copy of its own, so reading past a record is caught. */
		rec = malloc(len);
		memcpy(rec, p, len);
		if (bootlog_feed(&b, rec, len) != b.seen_marker)
			abort();
		free(rec);
		p += len;
	}
	if (bootlog_phases(&b, &ph) < 0) {
		if (b.seen_marker)
			abort();
		return 0;
	}
	if (ph.nphases > BOOTLOG_MAX_PHASES ||
	    ph.ninitcalls > BOOTLOG_SLOWEST_INITCALLS ||
	    ph.first_us > ph.marker_us)
		abort();
	for (size_t i = 0; i < ph.nphases; i++)
		if (ph.phase[i].end_us < ph.phase[i].start_us)
			abort();
	for (size_t i = 0; i < ph.ninitcalls; i++) {
		const struct bootlog_initcall *c = &ph.initcall[i];

		if (!c->usecs || c->end_us < c->usecs ||
		    !memchr(c->name, '\0', sizeof(c->name)) || !c->name[0] ||
		    (i && c->usecs > ph.initcall[i - 1].usecs))
			abort();
	}
	return 0;
}
