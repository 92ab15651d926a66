// SPDX-License-Identifier: GPL-2.0
/*
 * A checkpoint's list of the processes the kernel keeps memory for
 * (keep_held_parse()), read from an images directory anyone may have
 * written: never past the buffer, and what it accepts formats back to
 * text that parses to the same list.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/nvwa/keep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct keep_held h, again;
	static char text[NVWA_KEEP_TREE_MAX * 48];
	char why[128];
	size_t len;

	if (keep_held_parse((const char *)data, size, &h, why, sizeof(why)) < 0)
		return 0;
	len = keep_held_format(&h, text, sizeof(text));
	if (keep_held_parse(text, len, &again, why, sizeof(why)) < 0 || again.n != h.n ||
	    memcmp(again.pid, h.pid, h.n * sizeof(h.pid[0])) ||
	    memcmp(again.frames, h.frames, h.n * sizeof(h.frames[0])))
		abort();
	return 0;
}
