// SPDX-License-Identifier: GPL-2.0
/*
 * The initrd walk on arbitrary bytes, as `nvwa update --initrd` meets any
 * file it is given: cpio headers, padding, compressed streams of every
 * format.  The output is bounded, and what a walk prepared must walk
 * again as uncompressed cpio only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fastboot/decompress.h"
#include "fastboot/initrd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct growbuf out = { .max = 8u << 20 };
	struct initrd_layout l, again;
	char why[192];
	uint32_t n;

	initrd_scan(data, size, NULL, &l, why, sizeof(why));
	cpio_check(data, size, &n, why, sizeof(why));
	if (initrd_scan(data, size, &out, &l, why, sizeof(why)) == 0) {
		if (out.len > out.max)
			abort();
		if (initrd_scan(out.buf, out.len, NULL, &again, why, sizeof(why)) < 0)
			abort();
		/* Only what nvwa cannot decompress is left compressed. */
		for (size_t i = 0; i < again.n; i++)
			if (strcmp(again.seg[i].format, "cpio") &&
			    payload_supported(again.seg[i].format))
				abort();
	}
	free(out.buf);
	return 0;
}
