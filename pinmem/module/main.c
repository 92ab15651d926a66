// SPDX-License-Identifier: GPL-2.0
/*
 * pinmem: RAM that keeps its contents across kexec, owned by a module.
 *
 * The kernel command line reserves the region (memmap=SIZE$START: RAM the
 * kernel never uses) and every kernel in a kexec chain must get the same
 * reservation.  This module claims the region, adopts what an earlier
 * kernel left in it when that checks out, and serves it to kernel code
 * (include/pinmem.h), to processes (/dev/pinmem) and to paths (the pinmem
 * filesystem).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "../include/pinmem.h"
#include "internal.h"

static char *region;
module_param(region, charp, 0444);
MODULE_PARM_DESC(region,
		 "SIZE@START of the reserved region (default: the memmap=SIZE$START on the kernel command line)");

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

static int parse_region(const char *s, char sep, u64 *ret_size,
			u64 *ret_start)
{
	char *end;
	u64 size, start;

	size = memparse(s, &end);
	if (end == s || *end != sep)
		return -EINVAL;
	s = end + 1;
	start = memparse(s, &end);
	if (end == s || (*end && *end != ' ' && *end != '\n'))
		return -EINVAL;
	*ret_size = size;
	*ret_start = start;
	return 0;
}

/*
 * The kernel keeps its command line to itself (saved_command_line is not
 * exported), so read it where userspace does.  Exactly one memmap=SIZE$START
 * names the region; with several, the region parameter must choose.
 */
static int region_from_cmdline(u64 *ret_size, u64 *ret_start)
{
	struct file *f;
	char *buf, *p;
	int found = 0, r;
	ssize_t n;
	loff_t pos = 0;

	buf = kzalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	f = filp_open("/proc/cmdline", O_RDONLY, 0);
	if (IS_ERR(f)) {
		r = PTR_ERR(f);
		goto out;
	}
	n = kernel_read(f, buf, PAGE_SIZE - 1, &pos);
	filp_close(f, NULL);
	r = n < 0 ? n : 0;
	if (r)
		goto out;
	for (p = buf; (p = strstr(p, "memmap=")); p++) {
		if (p != buf && p[-1] != ' ')
			continue;
		if (!strchr(p, '$') || (strchr(p, ' ') &&
					strchr(p, '$') > strchr(p, ' ')))
			continue;
		if (parse_region(p + 7, '$', ret_size, ret_start) == 0)
			found++;
	}
	if (!found) {
		pr_err("no memmap=SIZE$START on the kernel command line and no region= parameter\n");
		r = -ENODEV;
	} else if (found > 1) {
		pr_err("several memmap=SIZE$START on the command line: choose one with region=SIZE@START\n");
		r = -EINVAL;
	}
out:
	kfree(buf);
	return r;
}

/* Refuses anything but page-aligned RAM that the kernel was told to skip. */
static int check_region(u64 start, u64 size)
{
	if (!size || start % PAGE_SIZE || size % PAGE_SIZE ||
	    start + size < start) {
		pr_err("region %#llx+%#llx is not page aligned\n", start, size);
		return -EINVAL;
	}
	if (region_intersects(start, size, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_DISJOINT) {
		pr_err("region %#llx+%#llx is System RAM in use by the kernel: reserve it with memmap=SIZE$START\n",
		       start, size);
		return -EINVAL;
	}
	if (region_intersects(start, size, IORESOURCE_MEM,
			      IORES_DESC_RESERVED) != REGION_INTERSECTS) {
		pr_err("region %#llx+%#llx is not (entirely) reserved RAM: reserve it with memmap=SIZE$START\n",
		       start, size);
		return -EINVAL;
	}
	return 0;
}

static int stats_show(struct seq_file *m, void *v)
{
	struct pinmem_status *st = kmalloc(sizeof(*st), GFP_KERNEL);
	int i;

	if (!st)
		return -ENOMEM;
	pinmem_get_status(st);
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
	u64 size, start;
	int r;

	xa_init(&pinmem.slabs);
	xa_init(&pinmem.objs);
	for (r = 0; r < PINMEM_NR_CLASSES; r++)
		INIT_LIST_HEAD(&pinmem.partial[r]);
	hash_init(pinmem.names);

	if (region) {
		r = parse_region(region, '@', &size, &start);
		if (r) {
			pr_err("region=%s: expected SIZE@START, as in 256M@1536M\n",
			       region);
			return r;
		}
	} else {
		r = region_from_cmdline(&size, &start);
		if (r)
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
	pinmem.start = start;
	pinmem.size = size;
	pinmem.base = memremap(start, size, MEMREMAP_WB);
	if (!pinmem.base) {
		pr_err("cannot map region %#llx+%#llx\n", start, size);
		r = -ENOMEM;
		goto release;
	}
	r = pinmem_load(&pinmem, format, dir_entries);
	if (r)
		goto unmap;
	r = pinmem_dev_init();
	if (r)
		goto unload;
	r = pinmem_fs_init();
	if (r)
		goto dev;
	debugfs_dir = debugfs_create_dir("pinmem", NULL);
	debugfs_create_file("stats", 0400, debugfs_dir, NULL, &stats_fops);
	return 0;
dev:
	pinmem_dev_exit();
unload:
	pinmem_unload(&pinmem);
unmap:
	memunmap(pinmem.base);
release:
	release_mem_region(start, size);
	return r;
}

static void __exit pinmem_exit(void)
{
	debugfs_remove_recursive(debugfs_dir);
	pinmem_fs_exit();
	pinmem_dev_exit();
	pinmem_unload(&pinmem);
	memunmap(pinmem.base);
	release_mem_region(pinmem.start, pinmem.size);
}

module_init(pinmem_init);
module_exit(pinmem_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("RAM preserved across kexec: kernel objects, named areas");
