// SPDX-License-Identifier: GPL-2.0
/*
 * The CRIU plugin's image parser on arbitrary bytes, as a restore reads an
 * images directory anyone may have edited.  What it accepts must hold what
 * the plugin relies on: areas inside the region and disjoint, and a
 * formatted copy that parses back to the same records.
 */
#include <stdlib.h>
#include <string.h>

#include "criu-plugin/pinimg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pinimg img, back;
	char why[PINIMG_WHY_MAX], *text;
	size_t len;

	if (pinimg_parse((const char *)data, size, &img, why, sizeof(why)))
		return 0;
	for (size_t i = 0; i < img.nareas; i++) {
		const struct pinimg_area *a = &img.areas[i];

		if (!a->length || a->offset % 4096 ||
		    a->offset + a->length > img.region_size ||
		    pinimg_area_at(&img, a->offset) != a)
			abort();
	}
	if (pinimg_format(&img, &text, &len))
		abort();
	if (pinimg_parse(text, len, &back, why, sizeof(why)) ||
	    back.nareas != img.nareas || back.nfds != img.nfds ||
	    (img.nareas && memcmp(back.areas, img.areas, img.nareas * sizeof(*img.areas))) ||
	    (img.nfds && memcmp(back.fds, img.fds, img.nfds * sizeof(*img.fds))))
		abort();
	free(text);
	pinimg_free(&back);
	pinimg_free(&img);
	return 0;
}
