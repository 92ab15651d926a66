// SPDX-License-Identifier: GPL-2.0
/* Kernel image recognition on arbitrary bytes: what it accepts is in bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fastboot/bzimage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kimage_info info;
	char why[128];

	if (kimage_parse(data, size, &info, why, sizeof(why)) < 0)
		return 0;
	if (info.format == KIMAGE_BZIMAGE &&
	    ((uint64_t)info.payload_offset + info.payload_length > size ||
	     info.setup_size > size || !info.payload_length))
		abort();
	if (strlen(info.release) >= sizeof(info.release))
		abort();
	return 0;
}
