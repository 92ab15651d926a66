/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The layout pinmem keeps inside its region, and the checks that decide
 * whether a region found at boot can be trusted.  Compiled into the module
 * and into userspace (unit tests, fuzz target), so this file uses only
 * fixed-width types and no kernel API.
 *
 * Region:  [superblock, one page][directory][data pages ...]
 *
 * Everything that must survive a reboot lives in the region: the
 * superblock names the directory, the directory names every object with
 * its offset, so the allocator's state is rebuilt from the directory at
 * load.  Values are in the CPU's byte order: a region is read back by the
 * same machine that wrote it.
 */
#ifndef PINMEM_FORMAT_H
#define PINMEM_FORMAT_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include "../lib/ktypes.h"
#endif

#include "../lib/name.h"
#include "../uapi/pinmem.h"

#define PINMEM_SB_MAGIC		0x31304d454d4e4950ULL	/* "PINMEM01" */
#define PINMEM_FORMAT_VERSION	1
#define PINMEM_MAX_CLASS_SHIFT	(PINMEM_MIN_CLASS_SHIFT + PINMEM_NR_CLASSES - 1)
#define PINMEM_MIN_ENTRIES	64U
#define PINMEM_MAX_ENTRIES	0x100000U

struct pinmem_super {
	u64 magic;
	u32 version;
	u32 sb_size;		/* sizeof(struct pinmem_super) */
	u64 generation;		/* 1 when formatted, + 1 at every adoption */
	u64 region_start;	/* physical address it was formatted at */
	u64 region_size;
	u32 page_size;
	u32 dirent_size;	/* sizeof(struct pinmem_dirent) */
	u32 dir_entries;
	u32 reserved;
	u64 dir_offset;		/* one page in */
	u64 data_offset;	/* page aligned, after the directory */
	u32 pad;
	u32 crc;		/* CRC-32 of this struct with crc = 0 */
};

/*
 * A directory slot.  A small kernel object (kind KOBJ, shift 4..11) sits in
 * a slot of 1 << shift bytes in a page holding only that class; everything
 * else (areas, kernel buffers, kernel objects above 2 KiB: shift 0) is one
 * page-aligned extent of round_up(length, page) bytes.  An empty area has
 * length 0 and offset 0.
 */
struct pinmem_dirent {
	char name[PINMEM_NAME_MAX];
	u16 kind;		/* enum pinmem_kind */
	u16 shift;
	u32 crc;		/* CRC-32 of this entry with crc = 0 */
	u64 offset;		/* from the region start */
	u64 length;		/* bytes the owner asked for */
};

/* What the overlap check sorts: one per live entry. */
struct pinmem_span {
	u64 start;
	u64 end;
	const char *name;
	u32 index;
	u32 shift;
};

u32 pinmem_crc32(const void *buf, size_t len);
u64 pinmem_entry_span(const struct pinmem_dirent *e);
/*
 * What a live entry occupies once the allocator is rebuilt from the
 * directory at load (and when it is created): @ret_npages whole pages from
 * @ret_page when it has no class (e->shift 0), else the one slot @ret_slot
 * of the slab page @ret_page.  Shared with userspace, so the fuzz target
 * rebuilds from the same arithmetic the module does.
 */
void pinmem_entry_claim(const struct pinmem_dirent *e, u64 *ret_page,
			u64 *ret_npages, u32 *ret_slot);
u32 pinmem_default_entries(u64 region_size);
const char *pinmem_layout(u64 start, u64 size, u32 entries,
			  struct pinmem_super *ret_sb);
void pinmem_seal_super(struct pinmem_super *sb);
void pinmem_seal_entry(struct pinmem_dirent *e);
const char *pinmem_check_super(const struct pinmem_super *sb, u64 start,
			       u64 size);
const char *pinmem_check_entry(const struct pinmem_super *sb,
			       const struct pinmem_dirent *e);
const char *pinmem_check_dir(const struct pinmem_super *sb,
			     const struct pinmem_dirent *dir,
			     struct pinmem_span *scratch, u32 *ret_bad);

#endif /* PINMEM_FORMAT_H */
