// SPDX-License-Identifier: GPL-2.0
/*
 * pinmem: RAM that keeps its contents across kexec, owned by a module.
 *
 * The kernel command line reserves the region (memmap=SIZE$START: RAM the
 * kernel never uses) and every kernel in a kexec chain must get the same
 * reservation.  The module is told where it is with region=SIZE@START:
 * the command line is userspace's to read, and 'nvwa pinmem load' finds
 * the reservation there and passes it.  The module claims the region,
 * adopts what an earlier kernel left in it when that checks out, and
 * serves it to kernel code (include/pinmem.h), to processes (/dev/pinmem)
 * and to paths (the pinmem filesystem).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/stringify.h>

#include "internal.h"

static char *region;
module_param(region, charp, 0444);
MODULE_PARM_DESC(region,
		 "SIZE@START of the region the kernel command line reserves with memmap=SIZE$START (required; 'nvwa pinmem load' passes it)");

static bool format;
module_param(format, bool, 0444);
MODULE_PARM_DESC(format,
		 "format the region if it holds no pinmem superblock at all (one that fails its checks is never formatted at load)");

static uint dir_entries;
module_param(dir_entries, uint, 0444);
MODULE_PARM_DESC(dir_entries,
		 "directory slots when formatting (default: one per 32 KiB)");

struct pinmem pinmem = {
	.lock = __MUTEX_INITIALIZER(pinmem.lock),
};

static struct resource *claim;
static struct dentry *debugfs_dir;

static int parse_region(const char *s, u64 *ret_size, u64 *ret_start)
{
	char *end;
	u64 size, start;

	size = memparse(s, &end);
	if (end == s || *end != '@')
		return -EINVAL;
	s = end + 1;
	start = memparse(s, &end);
	/* The whole parameter, nothing after it: a typo must not load. */
	if (end == s || *end)
		return -EINVAL;
	*ret_size = size;
	*ret_start = start;
	return 0;
}

/* Advances @arg (the first byte not yet covered) over one reserved range. */
static int cover_reserved(struct resource *res, void *arg)
{
	u64 *next = arg;

	if (res->start > *next)
		return 1;	/* a gap: stop the walk */
	if (res->end + 1 > *next)
		*next = res->end + 1;
	return 0;
}

/*
 * Refuses anything but page-aligned memory that the kernel was told to
 * skip: no System RAM in it, and reserved ranges covering all of it with
 * no hole (region_intersects() alone accepts a range that is partly
 * reserved and partly nothing at all).
 */
static int check_region(u64 start, u64 size)
{
	u64 end, next = start;

	if (!size || !PAGE_ALIGNED(start) || !PAGE_ALIGNED(size)) {
		pr_err("region %#llx+%#llx is not page aligned (start and size: non-zero multiples of %lu)\n",
		       start, size, PAGE_SIZE);
		return -EINVAL;
	}
	if (check_add_overflow(start, size - 1, &end)) {
		pr_err("region %#llx+%#llx wraps around\n", start, size);
		return -EINVAL;
	}
	if (region_intersects(start, size, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_DISJOINT) {
		pr_err("region %#llx+%#llx is System RAM in use by the kernel: reserve it with memmap=SIZE$START\n",
		       start, size);
		return -EINVAL;
	}
	walk_iomem_res_desc(IORES_DESC_RESERVED, IORESOURCE_MEM, start, end,
			    &next, cover_reserved);
	if (next <= end) {
		pr_err("region %#llx+%#llx is not (entirely) reserved, nothing at %#llx: reserve it with memmap=SIZE$START\n",
		       start, size, next);
		return -EINVAL;
	}
	return 0;
}

static int stats_show(struct seq_file *m, void *v)
{
	struct pinmem_status *st = kmalloc(sizeof(*st), GFP_KERNEL);
	struct pinmem *pm = m->private;
	int i;

	if (!st)
		return -ENOMEM;
	mutex_lock(&pm->lock);
	pinmem_fill_status(pm, st);
	mutex_unlock(&pm->lock);
	seq_printf(m, "state %s\n", st->state == PINMEM_STATE_VALID ?
		   "valid" : "invalid");
	if (st->state != PINMEM_STATE_VALID) {
		seq_printf(m, "reason %s\n", st->reason);
		goto out;
	}
	seq_printf(m, "generation %llu\nregion_bytes %llu\nmetadata_bytes %llu\nfree_bytes %llu\nlargest_free %llu\n",
		   st->generation, st->region_size, st->metadata_bytes,
		   st->free_bytes, st->largest_free);
	seq_printf(m, "fragmentation_pct %llu\n", st->free_bytes ?
		   100 - div64_u64(st->largest_free * 100, st->free_bytes) :
		   0);
	seq_printf(m, "dir_entries %u\ndir_used %u\nareas %u\nareas_mapped %u\narea_bytes %llu\n",
		   st->dir_entries, st->dir_used, st->areas, st->areas_mapped,
		   st->area_bytes);
	seq_printf(m, "kbufs %u\nkbuf_bytes %llu\n", st->kbufs, st->kbuf_bytes);
	seq_puts(m, "class objects bytes pages\n");
	for (i = 0; i < PINMEM_NR_CLASSES; i++)
		seq_printf(m, "%u %u %llu %llu\n", st->classes[i].object_size,
			   st->classes[i].objects, st->classes[i].bytes,
			   st->classes[i].pages);
out:
	kfree(st);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

static int __init pinmem_init(void)
{
	struct pinmem *pm = &pinmem;
	u64 size, start;
	int r;

	xa_init(&pm->slabs);
	xa_init(&pm->objs);
	for (r = 0; r < PINMEM_NR_CLASSES; r++)
		INIT_LIST_HEAD(&pm->partial[r]);
	hash_init(pm->names);

	if (!region) {
		pr_err("no region=SIZE@START: pass the memmap=SIZE$START reservation of the kernel command line, as in region=256M@1536M ('nvwa pinmem load' does)\n");
		return -EINVAL;
	}
	r = parse_region(region, &size, &start);
	if (r) {
		pr_err("region=%s: expected SIZE@START, as in 256M@1536M\n",
		       region);
		return r;
	}
	r = check_region(start, size);
	if (r)
		return r;
	claim = request_mem_region(start, size, "pinmem");
	if (!claim) {
		pr_err("region %#llx+%#llx overlaps another claim (see /proc/iomem)\n",
		       start, size);
		return -EBUSY;
	}
	pm->start = start;
	pm->size = size;
	pm->base = memremap(start, size, MEMREMAP_WB);
	if (!pm->base) {
		pr_err("cannot map region %#llx+%#llx\n", start, size);
		r = -ENOMEM;
		goto release;
	}
	r = pinmem_load(pm, format, dir_entries);
	if (r)
		goto unmap;
	r = pinmem_dev_init();
	if (r)
		goto unload;
	r = pinmem_fs_init();
	if (r)
		goto dev;
	debugfs_dir = debugfs_create_dir("pinmem", NULL);
	debugfs_create_file("stats", 0400, debugfs_dir, pm, &stats_fops);
	return 0;
dev:
	pinmem_dev_exit();
unload:
	pinmem_unload(pm);
unmap:
	memunmap(pm->base);
release:
	release_mem_region(start, size);
	return r;
}

static void __exit pinmem_exit(void)
{
	struct pinmem *pm = &pinmem;

	debugfs_remove_recursive(debugfs_dir);
	pinmem_fs_exit();
	pinmem_dev_exit();
	pinmem_unload(pm);
	memunmap(pm->base);
	release_mem_region(pm->start, pm->size);
}

module_init(pinmem_init);
module_exit(pinmem_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("RAM preserved across kexec: kernel objects, named areas");
/*
 * The region format this build reads and writes, for userspace to compare
 * with the running module's before it hands a region to another kernel:
 * `modinfo -F pinmem_format pinmem`.
 */
MODULE_INFO(pinmem_format, __stringify(PINMEM_FORMAT_VERSION));
