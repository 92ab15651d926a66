// SPDX-License-Identifier: GPL-2.0
/*
 * The command-line composer on arbitrary input: it must never overflow,
 * and what it produces must be within the kernel's limit and stable (a
 * second composition of its own output changes nothing but order-free
 * duplicates).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fastboot/cmdline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char cur[KERNEL_CMDLINE_MAX * 2], add[256], out[KERNEL_CMDLINE_MAX];
	char again[KERNEL_CMDLINE_MAX], v[64];
	struct pmem_reservation res;
	size_t split = size ? data[0] % 64 : 0;
	int r;

	if (size < 1 || size - 1 >= sizeof(cur) || split > size - 1)
		return 0;
	memcpy(add, data + 1, split);
	add[split] = '\0';
	memcpy(cur, data + 1 + split, size - 1 - split);
	cur[size - 1 - split] = '\0';

	cmdline_find_pmem(cur, &res);
	cmdline_get(cur, "memmap", v, sizeof(v));
	r = cmdline_compose(cur, add, "nvwa.handover=/dev/pmem0", out, sizeof(out));
	if (r < 0)
		return 0;
	if ((size_t)r != strlen(out) || (size_t)r >= KERNEL_CMDLINE_MAX)
		abort();
	/* Composing its own output again with nothing to add is stable. */
	r = cmdline_compose(out, NULL, "nvwa.handover=/dev/pmem0", again, sizeof(again));
	if (r < 0 || strcmp(out, again))
		abort();
	return 0;
}
