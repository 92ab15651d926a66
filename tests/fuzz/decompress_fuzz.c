// SPDX-License-Identifier: GPL-2.0
/*
 * The decompression front end on arbitrary bytes: the first byte picks
 * the format.  Output is bounded, and whatever decodes is then checked as
 * a vmlinux, which must never read outside what it was given.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fastboot/decompress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const formats[] = { "gzip", "xz", "zstd", "lz4" };
	size_t out_len;
	char why[128];
	void *out;

	if (size < 1)
		return 0;
	if (payload_decompress(formats[data[0] % 4], data + 1, size - 1,
			       1u << 20, &out, &out_len, why, sizeof(why)) < 0) {
		vmlinux_check(data + 1, size - 1, why, sizeof(why));
		return 0;
	}
	if (out_len > 1u << 20)
		abort();
	vmlinux_check(out, out_len, why, sizeof(why));
	free(out);
	return 0;
}
