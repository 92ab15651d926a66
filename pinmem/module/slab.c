// SPDX-License-Identifier: GPL-2.0
/*
 * The directory and the allocator of pinmem's region, and the API kernel
 * clients use.  The directory in the region is the only persistent state:
 * the page bitmap, the slabs and the name hash are rebuilt from it when the
 * module loads, after pinmem_check_dir() has accepted it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/err.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/stringhash.h>
#include <linux/vmalloc.h>

#include "../include/pinmem.h"
#include "internal.h"

static u32 name_hash(const char *name)
{
	return full_name_hash(NULL, name, strnlen(name, PINMEM_NAME_MAX));
}

static u64 page_of(u64 offset)
{
	return offset / PINMEM_PAGE_SIZE;
}

static unsigned int class_of(u16 shift)
{
	return shift - PINMEM_MIN_CLASS_SHIFT;
}

/* The smallest class holding @len bytes, or 0 for whole pages. */
static u16 shift_for(u64 len)
{
	u16 shift = PINMEM_MIN_CLASS_SHIFT;

	while (shift <= PINMEM_MAX_CLASS_SHIFT) {
		if (len <= (1ULL << shift))
			return shift;
		shift++;
	}
	return 0;
}

static void set_reason(struct pinmem *pm, const char *what, const char *why)
{
	snprintf(pm->reason, sizeof(pm->reason), "%s%s", what, why);
}

int pinmem_lookup(struct pinmem *pm, const char *name)
{
	struct pinmem_node *node;

	hash_for_each_possible(pm->names, node, hash, name_hash(name)) {
		u32 idx = node - pm->nodes;

		if (!strncmp(pm->dir[idx].name, name, PINMEM_NAME_MAX))
			return idx;
	}
	return -ENOENT;
}

static int extent_alloc(struct pinmem *pm, u64 bytes, u64 *ret_offset)
{
	unsigned long n = DIV_ROUND_UP(bytes, PINMEM_PAGE_SIZE);
	unsigned long first;

	first = bitmap_find_next_zero_area(pm->pages, pm->npages, 0, n, 0);
	if (first >= pm->npages)
		return -ENOSPC;
	bitmap_set(pm->pages, first, n);
	*ret_offset = (u64)first * PINMEM_PAGE_SIZE;
	return 0;
}

static void extent_free(struct pinmem *pm, u64 offset, u64 bytes)
{
	bitmap_clear(pm->pages, page_of(offset),
		     DIV_ROUND_UP(bytes, PINMEM_PAGE_SIZE));
}

static struct pinmem_slab *slab_new(struct pinmem *pm, u64 page, u16 shift)
{
	struct pinmem_slab *slab = kzalloc(sizeof(*slab), GFP_KERNEL);

	if (!slab)
		return NULL;
	slab->page = page;
	slab->shift = shift;
	INIT_LIST_HEAD(&slab->partial);
	if (xa_err(xa_store(&pm->slabs, page, slab, GFP_KERNEL))) {
		kfree(slab);
		return NULL;
	}
	return slab;
}

static unsigned int slab_slots(const struct pinmem_slab *slab)
{
	return PINMEM_PAGE_SIZE >> slab->shift;
}

static int small_alloc(struct pinmem *pm, u16 shift, u64 *ret_offset)
{
	struct list_head *list = &pm->partial[class_of(shift)];
	struct pinmem_slab *slab;
	unsigned int slot;
	u64 offset;
	int r;

	slab = list_first_entry_or_null(list, struct pinmem_slab, partial);
	if (!slab) {
		r = extent_alloc(pm, PINMEM_PAGE_SIZE, &offset);
		if (r)
			return r;
		slab = slab_new(pm, page_of(offset), shift);
		if (!slab) {
			extent_free(pm, offset, PINMEM_PAGE_SIZE);
			return -ENOMEM;
		}
		list_add(&slab->partial, list);
	}
	slot = find_first_zero_bit(slab->slots, slab_slots(slab));
	__set_bit(slot, slab->slots);
	if (++slab->used == slab_slots(slab))
		list_del_init(&slab->partial);
	*ret_offset = slab->page * PINMEM_PAGE_SIZE + ((u64)slot << shift);
	return 0;
}

static void small_free(struct pinmem *pm, u64 offset, u16 shift)
{
	struct pinmem_slab *slab = xa_load(&pm->slabs, page_of(offset));
	unsigned int slot = (offset % PINMEM_PAGE_SIZE) >> shift;

	if (WARN_ON(!slab || !test_bit(slot, slab->slots)))
		return;
	__clear_bit(slot, slab->slots);
	if (slab->used-- == slab_slots(slab))
		list_add(&slab->partial, &pm->partial[class_of(shift)]);
	if (slab->used)
		return;
	list_del(&slab->partial);
	xa_erase(&pm->slabs, slab->page);
	extent_free(pm, slab->page * PINMEM_PAGE_SIZE, PINMEM_PAGE_SIZE);
	kfree(slab);
}

/* Takes the bytes of entry @idx out of the free space (load and create). */
static int claim(struct pinmem *pm, u32 idx)
{
	struct pinmem_dirent *e = &pm->dir[idx];
	struct pinmem_slab *slab;
	u64 page, npages;
	u32 slot;

	if (!e->length)
		return 0;
	if (xa_err(xa_store(&pm->objs, e->offset >> PINMEM_MIN_CLASS_SHIFT,
			    xa_mk_value(idx), GFP_KERNEL)))
		return -ENOMEM;
	pinmem_entry_claim(e, &page, &npages, &slot);
	if (!e->shift) {
		bitmap_set(pm->pages, page, npages);
		return 0;
	}
	slab = xa_load(&pm->slabs, page);
	if (!slab) {
		slab = slab_new(pm, page, e->shift);
		if (!slab)
			return -ENOMEM;
		bitmap_set(pm->pages, slab->page, 1);
	}
	__set_bit(slot, slab->slots);
	slab->used++;
	return 0;
}

static void node_link(struct pinmem *pm, u32 idx)
{
	struct pinmem_node *node = &pm->nodes[idx];

	node->gen = ++pm->next_gen;
	atomic_set(&node->maps, 0);
	atomic_set(&node->users, 0);
	hash_add(pm->names, &node->hash, name_hash(pm->dir[idx].name));
}

static void free_ram_state(struct pinmem *pm)
{
	struct pinmem_slab *slab;
	unsigned long page;
	unsigned int i;

	xa_for_each(&pm->slabs, page, slab)
		kfree(slab);
	xa_destroy(&pm->slabs);
	xa_destroy(&pm->objs);
	for (i = 0; i < PINMEM_NR_CLASSES; i++)
		INIT_LIST_HEAD(&pm->partial[i]);
	hash_init(pm->names);
	bitmap_free(pm->pages);
	pm->pages = NULL;
	vfree(pm->nodes);
	pm->nodes = NULL;
}

/* Builds the RAM state from a directory that passed its checks. */
static int rebuild(struct pinmem *pm)
{
	struct pinmem_super *sb = pm->sb;
	struct pinmem_slab *slab;
	unsigned long page;
	u32 i;
	int r;

	pm->dir = pm->base + sb->dir_offset;
	pm->npages = pm->size / PINMEM_PAGE_SIZE;
	pm->pages = bitmap_zalloc(pm->npages, GFP_KERNEL);
	pm->nodes = vzalloc(array_size(sb->dir_entries, sizeof(*pm->nodes)));
	if (!pm->pages || !pm->nodes) {
		r = -ENOMEM;
		goto fail;
	}
	pm->free_hint = 0;
	bitmap_set(pm->pages, 0, page_of(sb->data_offset));
	for (i = 0; i < sb->dir_entries; i++) {
		if (pm->dir[i].kind == PINMEM_KIND_FREE)
			continue;
		r = claim(pm, i);
		if (r)
			goto fail;
		node_link(pm, i);
	}
	xa_for_each(&pm->slabs, page, slab)
		if (slab->used < slab_slots(slab))
			list_add(&slab->partial,
				 &pm->partial[class_of(slab->shift)]);
	return 0;
fail:
	free_ram_state(pm);
	return r;
}

int pinmem_format(struct pinmem *pm, u32 entries)
{
	struct pinmem_super sb;
	const char *why;
	int r;

	lockdep_assert_held(&pm->lock);
	if (!entries)
		entries = pinmem_default_entries(pm->size);
	why = pinmem_layout(pm->start, pm->size, entries, &sb);
	if (why) {
		/* FORMAT's dir_entries is the caller's: it must not flood. */
		pr_err_ratelimited("cannot format %pa+%llu: %s\n", &pm->start,
				   pm->size, why);
		return -EINVAL;
	}
	free_ram_state(pm);
	memset(pm->base + sb.dir_offset, 0, sb.data_offset - sb.dir_offset);
	memcpy(pm->sb, &sb, sizeof(sb));
	r = rebuild(pm);
	if (r) {
		pm->state = PINMEM_STATE_INVALID;
		set_reason(pm, "out of memory for the directory", "");
		return r;
	}
	pm->state = PINMEM_STATE_VALID;
	pm->reason[0] = '\0';
	pr_info("formatted %pa+%llu: %u directory entries, %llu data bytes\n",
		&pm->start, pm->size, entries, pm->size - sb.data_offset);
	return 0;
}

/*
 * Adopts the region's contents if they check out.  A region without a
 * pinmem superblock is formatted only when @format_blank says so; one with
 * a superblock that fails a check is never touched: its owner decides.
 */
int pinmem_load(struct pinmem *pm, bool format_blank, u32 entries)
{
	struct pinmem_span *scratch;
	const char *why;
	u32 bad = 0;
	int r;

	mutex_lock(&pm->lock);
	pm->sb = pm->base;
	why = pinmem_check_super(pm->sb, pm->start, pm->size);
	if (why && pm->sb->magic != PINMEM_SB_MAGIC && format_blank) {
		pr_info("no pinmem superblock in %pa+%llu, formatting\n",
			&pm->start, pm->size);
		r = pinmem_format(pm, entries);
		goto out;
	}
	if (why) {
		set_reason(pm, "superblock: ", why);
		goto invalid;
	}
	scratch = kvmalloc_array(pm->sb->dir_entries, sizeof(*scratch),
				 GFP_KERNEL);
	if (!scratch) {
		r = -ENOMEM;
		goto out;
	}
	why = pinmem_check_dir(pm->sb, pm->base + pm->sb->dir_offset,
			       scratch, &bad);
	kvfree(scratch);
	if (why) {
		snprintf(pm->reason, sizeof(pm->reason),
			 "directory entry %u: %s", bad, why);
		goto invalid;
	}
	r = rebuild(pm);
	if (r)
		goto out;
	pm->sb->generation++;
	pinmem_seal_super(pm->sb);
	pm->state = PINMEM_STATE_VALID;
	pr_info("adopted %pa+%llu, generation %llu\n", &pm->start, pm->size,
		pm->sb->generation);
	goto out;
invalid:
	pm->state = PINMEM_STATE_INVALID;
	pr_err("region %pa+%llu not trusted: %s; its contents are left as they are (format it with 'nvwa pinmem format' to reuse it)\n",
	       &pm->start, pm->size, pm->reason);
	r = 0;
out:
	mutex_unlock(&pm->lock);
	return r;
}

void pinmem_unload(struct pinmem *pm)
{
	mutex_lock(&pm->lock);
	free_ram_state(pm);
	pm->state = 0;
	mutex_unlock(&pm->lock);
}

/* No slot below free_hint is free: allocation does not rescan them. */
static int free_slot(struct pinmem *pm)
{
	u32 i;

	for (i = pm->free_hint; i < pm->sb->dir_entries; i++)
		if (pm->dir[i].kind == PINMEM_KIND_FREE) {
			/* Not i + 1: the caller may still fail to use it. */
			pm->free_hint = i;
			return i;
		}
	pm->free_hint = pm->sb->dir_entries;
	return -ENOSPC;
}

/* Creates an entry of @len zeroed bytes; returns its index. */
int pinmem_create(struct pinmem *pm, const char *name, u16 kind, u64 len)
{
	struct pinmem_dirent *e;
	u64 offset = 0;
	u16 shift = 0;
	int idx, r;

	lockdep_assert_held(&pm->lock);
	if (pm->state != PINMEM_STATE_VALID)
		return -ENODEV;
	if (!pinmem_name_valid(name, PINMEM_NAME_MAX))
		return -EINVAL;
	if (len > pm->size)
		return -ENOSPC;
	if (pinmem_lookup(pm, name) >= 0)
		return -EEXIST;
	idx = free_slot(pm);
	if (idx < 0)
		return idx;
	if (kind == PINMEM_KIND_KOBJ)
		shift = shift_for(len);
	if (shift)
		r = small_alloc(pm, shift, &offset);
	else if (len)
		r = extent_alloc(pm, len, &offset);
	else
		r = 0;
	if (r)
		return r;

	e = &pm->dir[idx];
	memset(e, 0, sizeof(*e));
	strscpy(e->name, name, sizeof(e->name));
	e->kind = kind;
	e->shift = shift;
	e->offset = offset;
	e->length = len;
	if (len &&
	    xa_err(xa_store(&pm->objs, offset >> PINMEM_MIN_CLASS_SHIFT,
			    xa_mk_value(idx), GFP_KERNEL))) {
		if (shift)
			small_free(pm, offset, shift);
		else
			extent_free(pm, offset, len);
		memset(e, 0, sizeof(*e));
		pm->free_hint = min_t(u32, pm->free_hint, idx);
		return -ENOMEM;
	}
	memset(pm->base + offset, 0, pinmem_entry_span(e));
	pinmem_seal_entry(e);
	node_link(pm, idx);
	return idx;
}

int pinmem_remove(struct pinmem *pm, u32 idx)
{
	struct pinmem_dirent *e = &pm->dir[idx];

	lockdep_assert_held(&pm->lock);
	if (pinmem_area_busy(pm, idx))
		return -EBUSY;
	if (e->length) {
		xa_erase(&pm->objs, e->offset >> PINMEM_MIN_CLASS_SHIFT);
		if (e->shift)
			small_free(pm, e->offset, e->shift);
		else
			extent_free(pm, e->offset, e->length);
	}
	hash_del(&pm->nodes[idx].hash);
	pm->nodes[idx].gen = 0;
	memset(e, 0, sizeof(*e));
	pm->free_hint = min(pm->free_hint, idx);
	return 0;
}

/*
 * Resizes an unmapped area: in place when the pages after it are free,
 * else by moving it.  The directory entry is rewritten last, so the area is
 * never described by pages it does not own.
 */
int pinmem_resize(struct pinmem *pm, u32 idx, u64 len)
{
	struct pinmem_dirent *e = &pm->dir[idx];
	u64 old_pages = DIV_ROUND_UP(e->length, PINMEM_PAGE_SIZE);
	u64 new_pages = DIV_ROUND_UP(len, PINMEM_PAGE_SIZE);
	u64 offset = e->offset, first, kept = min(e->length, len);
	int r;

	lockdep_assert_held(&pm->lock);
	if (e->kind != PINMEM_KIND_AREA)
		return -EINVAL;
	if (pinmem_area_busy(pm, idx))
		return -EBUSY;
	if (len > pm->size)
		return -ENOSPC;
	if (new_pages == old_pages)
		goto done;
	if (new_pages < old_pages) {
		extent_free(pm, offset + new_pages * PINMEM_PAGE_SIZE,
			    (old_pages - new_pages) * PINMEM_PAGE_SIZE);
		goto done;
	}
	first = page_of(offset) + old_pages;
	if (old_pages && first + new_pages - old_pages <= pm->npages &&
	    find_next_bit(pm->pages, first + new_pages - old_pages, first) >=
	    first + new_pages - old_pages) {
		bitmap_set(pm->pages, first, new_pages - old_pages);
	} else {
		r = extent_alloc(pm, len, &offset);
		if (r)
			return r;
		r = xa_err(xa_store(&pm->objs, offset >> PINMEM_MIN_CLASS_SHIFT,
				    xa_mk_value(idx), GFP_KERNEL));
		if (r) {
			extent_free(pm, offset, len);
			return r;
		}
		if (old_pages) {
			memcpy(pm->base + offset, pm->base + e->offset,
			       e->length);
			xa_erase(&pm->objs,
				 e->offset >> PINMEM_MIN_CLASS_SHIFT);
			extent_free(pm, e->offset, e->length);
		}
	}
done:
	/*
	 * Past the bytes kept, up to the end of the last page, the area reads
	 * as zeros: a shrink's tail, which a later growth within the page
	 * would show again, the gap a move leaves after the old length, and
	 * pages that held another area or a kernel object.
	 */
	if (new_pages)
		memset(pm->base + offset + kept, 0,
		       new_pages * PINMEM_PAGE_SIZE - kept);
	if (!len && e->length)
		xa_erase(&pm->objs, offset >> PINMEM_MIN_CLASS_SHIFT);
	e->offset = len ? offset : 0;
	e->length = len;
	pinmem_seal_entry(e);
	return 0;
}

/* Mapped, or a read() or write() is copying: its pages must stay put. */
bool pinmem_area_busy(struct pinmem *pm, u32 idx)
{
	return atomic_read(&pm->nodes[idx].maps) ||
	       atomic_read(&pm->nodes[idx].users);
}

bool pinmem_area_live(struct pinmem *pm, u32 idx, u32 gen)
{
	return pm->state == PINMEM_STATE_VALID && idx < pm->sb->dir_entries &&
	       pm->dir[idx].kind == PINMEM_KIND_AREA &&
	       pm->nodes[idx].gen == gen;
}

/* The area whose pages hold region offset @offset, or -ENOENT. */
int pinmem_area_at(struct pinmem *pm, u64 offset)
{
	u32 i;

	for (i = 0; i < pm->sb->dir_entries; i++) {
		const struct pinmem_dirent *e = &pm->dir[i];

		if (e->kind == PINMEM_KIND_AREA && e->length &&
		    offset >= e->offset &&
		    offset - e->offset < round_up(e->length, PINMEM_PAGE_SIZE))
			return i;
	}
	return -ENOENT;
}

void pinmem_fill_status(struct pinmem *pm, struct pinmem_status *st)
{
	unsigned long bit, end, page;
	struct pinmem_slab *slab;
	u32 i;

	lockdep_assert_held(&pm->lock);
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	st->state = pm->state;
	st->version = PINMEM_FORMAT_VERSION;
	st->page_size = PINMEM_PAGE_SIZE;
	st->region_start = pm->start;
	st->region_size = pm->size;
	for (i = 0; i < PINMEM_NR_CLASSES; i++)
		st->classes[i].object_size = 1U << (i + PINMEM_MIN_CLASS_SHIFT);
	strscpy(st->reason, pm->reason, sizeof(st->reason));
	if (pm->state != PINMEM_STATE_VALID)
		return;

	st->generation = pm->sb->generation;
	st->metadata_bytes = pm->sb->data_offset;
	st->data_bytes = pm->size - pm->sb->data_offset;
	st->dir_entries = pm->sb->dir_entries;
	for (i = 0; i < pm->sb->dir_entries; i++) {
		const struct pinmem_dirent *e = &pm->dir[i];

		switch (e->kind) {
		case PINMEM_KIND_AREA:
			st->areas++;
			st->area_bytes += e->length;
			if (atomic_read(&pm->nodes[i].maps))
				st->areas_mapped++;
			break;
		case PINMEM_KIND_KBUF:
			st->kbufs++;
			st->kbuf_bytes += e->length;
			break;
		case PINMEM_KIND_KOBJ:
			if (!e->shift) {
				st->kbufs++;
				st->kbuf_bytes += e->length;
				break;
			}
			st->kobjs++;
			st->kobj_bytes += e->length;
			st->classes[class_of(e->shift)].objects++;
			st->classes[class_of(e->shift)].bytes += e->length;
			break;
		default:
			continue;
		}
		st->dir_used++;
	}
	xa_for_each(&pm->slabs, page, slab)
		st->classes[class_of(slab->shift)].pages++;
	for (bit = find_first_zero_bit(pm->pages, pm->npages);
	     bit < pm->npages;
	     bit = find_next_zero_bit(pm->pages, pm->npages, end)) {
		end = find_next_bit(pm->pages, pm->npages, bit);
		st->free_bytes += (u64)(end - bit) * PINMEM_PAGE_SIZE;
		st->largest_free = max_t(u64, st->largest_free,
					 (u64)(end - bit) * PINMEM_PAGE_SIZE);
	}
}

/* The kernel API (include/pinmem.h). */

static void *alloc_named(const char *name, size_t size, u16 kind)
{
	struct pinmem *pm = &pinmem;
	void *ptr;
	int idx;

	if (!size)
		return ERR_PTR(-EINVAL);
	mutex_lock(&pm->lock);
	idx = pinmem_create(pm, name, kind, size);
	ptr = idx < 0 ? ERR_PTR(idx) : pm->base + pm->dir[idx].offset;
	mutex_unlock(&pm->lock);
	return ptr;
}

void *pinmem_kmalloc(const char *name, size_t size)
{
	return alloc_named(name, size, PINMEM_KIND_KOBJ);
}
EXPORT_SYMBOL_GPL(pinmem_kmalloc);

void *pinmem_vmalloc(const char *name, size_t size)
{
	return alloc_named(name, size, PINMEM_KIND_KBUF);
}
EXPORT_SYMBOL_GPL(pinmem_vmalloc);

void *pinmem_find(const char *name, size_t *ret_size)
{
	struct pinmem *pm = &pinmem;
	void *ptr = ERR_PTR(-ENODEV);
	int idx;

	mutex_lock(&pm->lock);
	if (pm->state != PINMEM_STATE_VALID)
		goto out;
	idx = pinmem_lookup(pm, name);
	if (idx < 0 || pm->dir[idx].kind == PINMEM_KIND_AREA) {
		ptr = ERR_PTR(-ENOENT);
		goto out;
	}
	ptr = pm->base + pm->dir[idx].offset;
	if (ret_size)
		*ret_size = pm->dir[idx].length;
out:
	mutex_unlock(&pm->lock);
	return ptr;
}
EXPORT_SYMBOL_GPL(pinmem_find);

void pinmem_free(const void *ptr)
{
	struct pinmem *pm = &pinmem;
	void *entry;
	u64 offset;

	if (!ptr)
		return;
	mutex_lock(&pm->lock);
	offset = (const u8 *)ptr - (const u8 *)pm->base;
	entry = pm->state == PINMEM_STATE_VALID && ptr >= pm->base &&
		offset < pm->size ?
		xa_load(&pm->objs, offset >> PINMEM_MIN_CLASS_SHIFT) : NULL;
	if (WARN(!entry || offset % (1U << PINMEM_MIN_CLASS_SHIFT) ||
		 pm->dir[xa_to_value(entry)].kind == PINMEM_KIND_AREA,
		 "%s: %p is not a pinmem kernel object\n", __func__, ptr))
		goto out;
	pinmem_remove(pm, xa_to_value(entry));
out:
	mutex_unlock(&pm->lock);
}
EXPORT_SYMBOL_GPL(pinmem_free);

int pinmem_get_status(struct pinmem_status *ret)
{
	struct pinmem *pm = &pinmem;

	mutex_lock(&pm->lock);
	pinmem_fill_status(pm, ret);
	mutex_unlock(&pm->lock);
	return ret->state == PINMEM_STATE_VALID ? 0 : -ENODEV;
}
EXPORT_SYMBOL_GPL(pinmem_get_status);
