// SPDX-License-Identifier: GPL-2.0
/*
 * Building and checking pinmem's on-region layout.  Nothing here trusts
 * the region: every size, offset and name is checked against the region
 * the caller really has before anything else reads through it.
 */
#ifdef __KERNEL__
#include <linux/crc32.h>
#include <linux/sort.h>
#include <linux/string.h>
#define pm_sort(base, n, size, cmp) sort(base, n, size, cmp, NULL)
#else
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#define pm_sort(base, n, size, cmp) qsort(base, n, size, cmp)
#endif

#include "format.h"

u32 pinmem_crc32(const void *buf, size_t len)
{
#ifdef __KERNEL__
	return crc32_le(~0U, buf, len) ^ ~0U;
#else
	return (u32)crc32(0, buf, (unsigned int)len);
#endif
}

static u64 round_page(u64 v)
{
	return (v + PINMEM_PAGE_SIZE - 1) & ~(u64)(PINMEM_PAGE_SIZE - 1);
}

/* Bytes an entry occupies in the data pages. */
u64 pinmem_entry_span(const struct pinmem_dirent *e)
{
	if (e->kind == PINMEM_KIND_KOBJ && e->shift)
		return 1ULL << e->shift;
	return round_page(e->length);
}

void pinmem_entry_claim(const struct pinmem_dirent *e, u64 *ret_page,
			u64 *ret_npages, u32 *ret_slot)
{
	*ret_page = e->offset / PINMEM_PAGE_SIZE;
	if (!e->shift) {
		*ret_npages = round_page(e->length) / PINMEM_PAGE_SIZE;
		*ret_slot = 0;
		return;
	}
	*ret_npages = 1;
	*ret_slot = (u32)((e->offset % PINMEM_PAGE_SIZE) >> e->shift);
}

/* One directory slot per 32 KiB of region, within sane bounds. */
u32 pinmem_default_entries(u64 region_size)
{
	u64 n = region_size / (32 * 1024);

	if (n < PINMEM_MIN_ENTRIES)
		n = PINMEM_MIN_ENTRIES;
	if (n > PINMEM_MAX_ENTRIES)
		n = PINMEM_MAX_ENTRIES;
	return (u32)n;
}

const char *pinmem_layout(u64 start, u64 size, u32 entries,
			  struct pinmem_super *ret_sb)
{
	struct pinmem_super sb;
	u64 dir_bytes;

	if (start % PINMEM_PAGE_SIZE || size % PINMEM_PAGE_SIZE)
		return "region start and size must be page aligned";
	if (entries < PINMEM_MIN_ENTRIES || entries > PINMEM_MAX_ENTRIES)
		return "directory size out of range";
	dir_bytes = round_page((u64)entries * sizeof(struct pinmem_dirent));
	if (size < PINMEM_PAGE_SIZE + dir_bytes + PINMEM_PAGE_SIZE)
		return "region too small for its directory";

	memset(&sb, 0, sizeof(sb));
	sb.magic = PINMEM_SB_MAGIC;
	sb.version = PINMEM_FORMAT_VERSION;
	sb.sb_size = sizeof(sb);
	sb.generation = 1;
	sb.region_start = start;
	sb.region_size = size;
	sb.page_size = PINMEM_PAGE_SIZE;
	sb.dirent_size = sizeof(struct pinmem_dirent);
	sb.dir_entries = entries;
	sb.dir_offset = PINMEM_PAGE_SIZE;
	sb.data_offset = PINMEM_PAGE_SIZE + dir_bytes;
	pinmem_seal_super(&sb);
	*ret_sb = sb;
	return NULL;
}

void pinmem_seal_super(struct pinmem_super *sb)
{
	sb->crc = 0;
	sb->crc = pinmem_crc32(sb, sizeof(*sb));
}

void pinmem_seal_entry(struct pinmem_dirent *e)
{
	e->crc = 0;
	e->crc = pinmem_crc32(e, sizeof(*e));
}

const char *pinmem_check_super(const struct pinmem_super *sb, u64 start,
			       u64 size)
{
	struct pinmem_super copy;
	u64 dir_bytes;

	if (sb->magic != PINMEM_SB_MAGIC)
		return "no pinmem superblock (bad magic)";
	if (sb->version != PINMEM_FORMAT_VERSION)
		return "unsupported format version";
	if (sb->sb_size != sizeof(*sb) ||
	    sb->dirent_size != sizeof(struct pinmem_dirent) ||
	    sb->page_size != PINMEM_PAGE_SIZE)
		return "superblock describes another layout";
	copy = *sb;
	copy.crc = 0;
	if (pinmem_crc32(&copy, sizeof(copy)) != sb->crc)
		return "superblock CRC mismatch";
	if (sb->region_start != start)
		return "superblock was written for a region at another address";
	if (sb->region_size != size)
		return "superblock was written for a region of another size";
	if (sb->generation == 0)
		return "generation 0";
	if (sb->dir_entries < PINMEM_MIN_ENTRIES ||
	    sb->dir_entries > PINMEM_MAX_ENTRIES)
		return "directory size out of range";
	dir_bytes = round_page((u64)sb->dir_entries * sb->dirent_size);
	if (sb->dir_offset != PINMEM_PAGE_SIZE ||
	    sb->data_offset != sb->dir_offset + dir_bytes ||
	    sb->data_offset >= size)
		return "directory does not fit the region";
	return NULL;
}

/* Checks one entry on its own; @sb has passed pinmem_check_super(). */
const char *pinmem_check_entry(const struct pinmem_super *sb,
			       const struct pinmem_dirent *e)
{
	struct pinmem_dirent copy;
	u64 span;

	if (e->kind == PINMEM_KIND_FREE)
		return NULL;
	copy = *e;
	copy.crc = 0;
	if (pinmem_crc32(&copy, sizeof(copy)) != e->crc)
		return "entry CRC mismatch";
	if (!pinmem_name_valid(e->name, sizeof(e->name)))
		return "invalid name";
	switch (e->kind) {
	case PINMEM_KIND_AREA:
	case PINMEM_KIND_KBUF:
		if (e->shift)
			return "page-granular entry with an object class";
		break;
	case PINMEM_KIND_KOBJ:
		if (e->shift && (e->shift < PINMEM_MIN_CLASS_SHIFT ||
				 e->shift > PINMEM_MAX_CLASS_SHIFT))
			return "unknown object class";
		if (e->shift && (e->length == 0 ||
				 e->length > (1ULL << e->shift)))
			return "object larger than its class";
		if (!e->shift && e->length <= (1U << PINMEM_MAX_CLASS_SHIFT))
			return "page-granular object small enough for a class";
		break;
	default:
		return "unknown kind";
	}
	if (e->length == 0) {
		if (e->kind != PINMEM_KIND_AREA || e->offset != 0)
			return "empty entry with an offset";
		return NULL;
	}
	if (e->length > sb->region_size)
		return "length beyond the region";
	span = pinmem_entry_span(e);
	if (e->offset % (e->shift ? span : PINMEM_PAGE_SIZE))
		return "misaligned offset";
	if (e->offset < sb->data_offset || e->offset >= sb->region_size ||
	    span > sb->region_size - e->offset)
		return "offset outside the data pages";
	return NULL;
}

static int span_by_start(const void *a, const void *b)
{
	const struct pinmem_span *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

static int span_by_name(const void *a, const void *b)
{
	const struct pinmem_span *x = a, *y = b;

	return strncmp(x->name, y->name, PINMEM_NAME_MAX);
}

/*
 * Checks every entry and the directory as a whole: no two entries share a
 * name or a byte, and a page holds small objects of one class only.
 * @scratch holds sb->dir_entries spans.  On failure *ret_bad names the
 * entry at fault.
 */
const char *pinmem_check_dir(const struct pinmem_super *sb,
			     const struct pinmem_dirent *dir,
			     struct pinmem_span *scratch, u32 *ret_bad)
{
	u64 page, last_page = 0;
	u32 i, n = 0, last_shift = 0;
	const char *why;

	for (i = 0; i < sb->dir_entries; i++) {
		const struct pinmem_dirent *e = &dir[i];

		why = pinmem_check_entry(sb, e);
		if (why) {
			*ret_bad = i;
			return why;
		}
		if (e->kind == PINMEM_KIND_FREE)
			continue;
		scratch[n].start = e->offset;
		scratch[n].end = e->length ? e->offset + pinmem_entry_span(e) :
					     0;
		scratch[n].name = e->name;
		scratch[n].index = i;
		scratch[n].shift = e->shift;
		n++;
	}

	pm_sort(scratch, n, sizeof(*scratch), span_by_start);
	for (i = 1; i < n; i++) {
		const struct pinmem_span *prev = &scratch[i - 1];
		const struct pinmem_span *cur = &scratch[i];

		if (prev->end && cur->start < prev->end) {
			*ret_bad = cur->index;
			return "entries overlap";
		}
	}
	for (i = 0; i < n; i++) {
		if (!scratch[i].shift)
			continue;
		page = scratch[i].start / PINMEM_PAGE_SIZE;
		if (last_shift && page == last_page &&
		    scratch[i].shift != last_shift) {
			*ret_bad = scratch[i].index;
			return "objects of two classes share a page";
		}
		last_page = page;
		last_shift = scratch[i].shift;
	}

	pm_sort(scratch, n, sizeof(*scratch), span_by_name);
	for (i = 1; i < n; i++) {
		if (!strncmp(scratch[i - 1].name, scratch[i].name,
			     PINMEM_NAME_MAX)) {
			*ret_bad = scratch[i].index;
			return "two entries share a name";
		}
	}
	return NULL;
}
