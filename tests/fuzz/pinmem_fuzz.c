// SPDX-License-Identifier: GPL-2.0
/*
 * pinmem's superblock and directory checks on arbitrary bytes, as the
 * module runs them on a region found at boot.  The input is the region's
 * head (superblock page, then directory); the region is taken to be 64 MiB
 * at 1.5 GiB.  Whatever the checks accept must be safe to walk: every live
 * entry inside the region, after the metadata, and disjoint from the rest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pinmem/module/format.h"

#define START (1536ULL << 20)
#define SIZE (64ULL << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pinmem_super sb;
	struct pinmem_dirent *dir;
	struct pinmem_span *scratch;
	u32 bad, i, j;

	if (size < sizeof(sb))
		return 0;
	memcpy(&sb, data, sizeof(sb));
	/* Most inputs would fail the CRC: seal them so the checks go deeper. */
	if (data[size - 1] & 1)
		pinmem_seal_super(&sb);
	if (pinmem_check_super(&sb, START, SIZE))
		return 0;
	if (sb.dir_offset + (u64)sb.dir_entries * sizeof(*dir) > size)
		return 0;
	dir = malloc((size_t)sb.dir_entries * sizeof(*dir));
	scratch = malloc((size_t)sb.dir_entries * sizeof(*scratch));
	if (!dir || !scratch)
		abort();
	memcpy(dir, data + sb.dir_offset, (size_t)sb.dir_entries * sizeof(*dir));
	if (data[size - 1] & 2)
		for (i = 0; i < sb.dir_entries; i++)
			pinmem_seal_entry(&dir[i]);
	if (pinmem_check_dir(&sb, dir, scratch, &bad) == NULL) {
		for (i = 0; i < sb.dir_entries; i++) {
			const struct pinmem_dirent *a = &dir[i];
			u64 end = a->offset + pinmem_entry_span(a);

			if (a->kind == PINMEM_KIND_FREE || !a->length)
				continue;
			if (a->offset < sb.data_offset || end > SIZE ||
			    end < a->offset)
				abort();
			if (!memchr(a->name, 0, sizeof(a->name)))
				abort();
			for (j = i + 1; j < sb.dir_entries && j < i + 64; j++) {
				const struct pinmem_dirent *b = &dir[j];

				if (b->kind == PINMEM_KIND_FREE || !b->length)
					continue;
				if (b->offset < end &&
				    a->offset < b->offset + pinmem_entry_span(b))
					abort();
			}
		}
	}
	free(dir);
	free(scratch);
	return 0;
}
