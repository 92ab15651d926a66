/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PINMEM_INTERNAL_H
#define PINMEM_INTERNAL_H

#include <linux/hashtable.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/xarray.h>

#include "format.h"

#define PINMEM_SLOTS_MAX (PINMEM_PAGE_SIZE >> PINMEM_MIN_CLASS_SHIFT)

/* RAM-side state of one directory slot; rebuilt at every load. */
struct pinmem_node {
	struct hlist_node hash;		/* in struct pinmem names, while live */
	atomic_t maps;			/* live mappings of an area */
	atomic_t users;			/* read()s and write()s copying */
	u32 gen;			/* identity: changes on reuse */
};

/* A data page cut into slots of one object class. */
struct pinmem_slab {
	struct list_head partial;	/* on its class's list while not full */
	u64 page;
	u16 shift;
	u16 used;
	DECLARE_BITMAP(slots, PINMEM_SLOTS_MAX);
};

struct pinmem {
	struct mutex lock;		/* everything below */
	phys_addr_t start;
	u64 size;
	void *base;			/* the region, mapped write-back */
	u32 state;			/* enum pinmem_state, 0 before load */
	char reason[128];
	struct pinmem_super *sb;	/* in the region */
	struct pinmem_dirent *dir;	/* in the region */
	struct pinmem_node *nodes;	/* sb->dir_entries of them */
	DECLARE_HASHTABLE(names, 12);
	unsigned long *pages;		/* bit set: page in use */
	u64 npages;
	struct xarray slabs;		/* page -> struct pinmem_slab */
	struct xarray objs;		/* offset >> min class -> index + 1 */
	struct list_head partial[PINMEM_NR_CLASSES];
	u32 next_gen;
	u32 free_hint;			/* lowest slot that may be free */
};

/*
 * The module serves one region, and this is it.  Only the entry points
 * that come without a context of their own name it: module init and exit,
 * the kernel API (include/pinmem.h), opening /dev/pinmem and mounting the
 * filesystem.  They hand a pointer down (struct dev_file, the superblock's
 * s_fs_info, debugfs' private data), and nothing below them reaches for
 * the global, so what a function touches is in its signature.
 */
extern struct pinmem pinmem;

/* slab.c: the directory, the allocator, the kernel API */
int pinmem_load(struct pinmem *pm, bool format_blank, u32 entries);
int pinmem_format(struct pinmem *pm, u32 entries);
void pinmem_unload(struct pinmem *pm);
int pinmem_lookup(struct pinmem *pm, const char *name);
int pinmem_create(struct pinmem *pm, const char *name, u16 kind, u64 len);
int pinmem_resize(struct pinmem *pm, u32 idx, u64 len);
int pinmem_remove(struct pinmem *pm, u32 idx);
void pinmem_fill_status(struct pinmem *pm, struct pinmem_status *st);
bool pinmem_area_live(struct pinmem *pm, u32 idx, u32 gen);
bool pinmem_area_busy(struct pinmem *pm, u32 idx);
int pinmem_area_at(struct pinmem *pm, u64 offset);

/* area.c: /dev/pinmem and mappings */
int pinmem_mmap_area(struct pinmem *pm, u32 idx, u32 gen,
		     struct vm_area_struct *vma, bool region_pgoff);
int pinmem_dev_init(void);
void pinmem_dev_exit(void);

/* fs.c: areas as files */
int pinmem_fs_init(void);
void pinmem_fs_exit(void);

#endif /* PINMEM_INTERNAL_H */
