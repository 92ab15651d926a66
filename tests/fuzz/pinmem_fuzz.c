// SPDX-License-Identifier: GPL-2.0
/*
 * pinmem's superblock and directory checks on arbitrary bytes, as the
 * module runs them on a region found at boot.  The input is the region's
 * head (superblock page, then directory); the region is taken to be 64 MiB
 * at 1.5 GiB.  Whatever the checks accept must be safe to walk: every live
 * entry inside the region, after the metadata, and disjoint from the rest.
 * And the module rebuilds its allocator from it (page bitmap, slabs), each
 * entry through pinmem_entry_claim(), the same code in the module: the
 * rebuild must then be sound, every claim inside the data pages, no page
 * claimed whole twice or both whole and as a slab, one class per slab
 * page, no slot twice.  A directory that passes the checks but breaks one
 * of these would make the allocator hand out memory a kept object uses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pinmem/module/format.h"

#define START (1536ULL << 20)
#define SIZE (64ULL << 20)
#define NPAGES (SIZE / PINMEM_PAGE_SIZE)
#define WHOLE 0xffff		/* page_class[]: claimed as whole pages */

static uint16_t page_class[NPAGES];		/* 0 free, a shift, or WHOLE */
static uint8_t slots[NPAGES][PINMEM_PAGE_SIZE >> PINMEM_MIN_CLASS_SHIFT];

static void rebuild(const struct pinmem_super *sb, const struct pinmem_dirent *dir)
{
	u64 first_data = sb->data_offset / PINMEM_PAGE_SIZE;

	memset(page_class, 0, sizeof(page_class));
	for (u32 i = 0; i < sb->dir_entries; i++) {
		const struct pinmem_dirent *e = &dir[i];
		u64 page, npages;
		u32 slot;

		if (e->kind == PINMEM_KIND_FREE || !e->length)
			continue;
		pinmem_entry_claim(e, &page, &npages, &slot);
		if (page < first_data || npages > NPAGES || page > NPAGES - npages)
			abort();
		if (!e->shift) {
			for (u64 p = page; p < page + npages; p++) {
				if (page_class[p])
					abort();
				page_class[p] = WHOLE;
			}
			continue;
		}
		if (slot >= (PINMEM_PAGE_SIZE >> e->shift))
			abort();
		if (!page_class[page]) {
			page_class[page] = e->shift;
			memset(slots[page], 0, sizeof(slots[page]));
		} else if (page_class[page] != e->shift) {
			abort();	/* whole, or another class */
		}
		if (slots[page][slot])
			abort();
		slots[page][slot] = 1;
	}
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
		rebuild(&sb, dir);
	}
	free(dir);
	free(scratch);
	return 0;
}
