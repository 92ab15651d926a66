// SPDX-License-Identifier: GPL-2.0
/*
 * The nvwa kernel's checks of the keep list (mm/nvwa_keep.c's
 * keep_head_ok() and keep_list_ok(), extracted from the pinmem series by
 * tests/fuzz/kernel/extract, compiled here as they are) on arbitrary
 * physical memory: the list the previous kernel left may have been
 * damaged by anything between the seal and this boot.  The checks must
 * never map memory they have not found to be RAM, and a list they accept
 * must be what the reservation relies on: its pages and runs inside RAM,
 * runs sorted and apart, and the head's counts true.
 *
 * Input: one byte of flags, then the contents of a small RAM (the head in
 * its first page).  Flag bit 0 has the harness write correct checksums
 * over what the rest made, so that the fuzzer gets past them to the
 * structure; without it, the checksums are the input's.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linux/nvwa_keep.h"

#define __init
#define __initdata
#define PAGE_SHIFT		12
#define PAGE_SIZE		4096UL
#define PAGE_ALIGNED(x)		(((x) & (PAGE_SIZE - 1)) == 0)
#define PFN_PHYS(x)		((phys_addr_t)(x) << PAGE_SHIFT)
#define PHYS_PFN(x)		((unsigned long)((x) >> PAGE_SHIFT))
#define PHYS_ADDR_MAX		(~(phys_addr_t)0)
#define E820_TYPE_RAM		1
#define pr_err(...)		((void)0)

#define RAM_BASE	0x1000000ULL
#define RAM_PAGES	12
#define RAM_END		(RAM_BASE + RAM_PAGES * PAGE_SIZE)
/* One page of it reserved before the list: a list using it is refused. */
#define RESERVED	(RAM_BASE + (RAM_PAGES - 1) * PAGE_SIZE)

static uint8_t ram[RAM_PAGES * PAGE_SIZE];

/* The kernel's crc32_le(), by table. */
static u32 crc32_le(u32 crc, const void *p, size_t len)
{
	static u32 table[256];
	const uint8_t *b = p;

	if (!table[1]) {
		for (u32 i = 0; i < 256; i++) {
			u32 c = i;

			for (int k = 0; k < 8; k++)
				c = (c >> 1) ^ (0xedb88320u & -(c & 1));
			table[i] = c;
		}
	}
	while (len--)
		crc = (crc >> 8) ^ table[(crc ^ *b++) & 0xff];
	return crc;
}

static bool e820__mapped_all(u64 start, u64 end, int type)
{
	return type == E820_TYPE_RAM && start >= RAM_BASE && end <= RAM_END;
}

static bool memblock_is_region_reserved(phys_addr_t base, phys_addr_t size)
{
	return base < RESERVED + PAGE_SIZE && base + size > RESERVED;
}

/* The checks map only what they found to be RAM: anything else is a bug. */
static void *early_memremap(phys_addr_t phys, unsigned long size)
{
	if (phys < RAM_BASE || phys + size > RAM_END || phys + size < phys)
		abort();
	return ram + (phys - RAM_BASE);
}

static void early_memunmap(void *p, unsigned long size)
{
	(void)p;
	(void)size;
}

#include "keeplist.inc"

/* What the seal would have written, over what the input made. */
static void fix_checksums(void)
{
	struct nvwa_keep_head *h = (void *)ram;

	for (size_t pg = 1; pg < RAM_PAGES; pg++) {
		struct nvwa_keep_page *p = (void *)(ram + pg * PAGE_SIZE);

		p->crc = keep_crc(p, PAGE_SIZE, offsetof(struct nvwa_keep_page, crc));
	}
	h->crc = keep_crc(h, sizeof(*h), offsetof(struct nvwa_keep_head, crc));
}

static bool in_ram(u64 start, u64 end)
{
	return start < end && start >= RAM_BASE && end <= RAM_END &&
	       !memblock_is_region_reserved(start, end - start);
}

/* An accepted list, walked again: what the reservation relies on. */
static void check_accepted(const struct nvwa_keep_head *h)
{
	u64 runs = 0, frames = 0, next_pfn = 0;

	if (keep_nr_list != h->nr_list_pages || !keep_nr_list)
		abort();
	for (u32 l = 0; l < keep_nr_list; l++) {
		const struct nvwa_keep_page *p;

		if (!PAGE_ALIGNED(keep_list[l]) || !in_ram(keep_list[l], keep_list[l] + PAGE_SIZE))
			abort();
		p = (const void *)(ram + (keep_list[l] - RAM_BASE));
		if (p->magic != NVWA_KEEP_LIST_MAGIC || p->nr_runs > NVWA_KEEP_RUNS_PER_PAGE)
			abort();
		for (u32 i = 0; i < p->nr_runs; i++) {
			const struct nvwa_keep_run *r = &p->run[i];

			if (!r->nr || r->pfn < next_pfn ||
			    !in_ram(PFN_PHYS(r->pfn), PFN_PHYS(r->pfn + r->nr)))
				abort();
			next_pfn = r->pfn + r->nr;
			frames += r->nr;
			runs++;
		}
	}
	if (runs != h->nr_runs || frames != h->nr_frames)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvwa_keep_head *h = (void *)ram;

	if (size < 1)
		return 0;
	memset(ram, 0, sizeof(ram));
	memcpy(ram, data + 1, size - 1 < sizeof(ram) ? size - 1 : sizeof(ram));
	if (data[0] & 1)
		fix_checksums();
	keep_nr_list = 0;
	if (keep_head_ok(h) && keep_list_ok(h))
		check_accepted(h);
	return 0;
}
