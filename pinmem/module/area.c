// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/pinmem: create, resize, list and remove named areas, and map them.
 * Mappings are of the region's own pages (VM_PFNMAP), never copies; an
 * area cannot be resized or removed while anything maps it.  What each
 * request needs of the descriptor and the caller: uapi/pinmem.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "internal.h"

static void area_vm_open(struct vm_area_struct *vma)
{
	struct pinmem_node *node = vma->vm_private_data;

	atomic_inc(&node->maps);
}

static void area_vm_close(struct vm_area_struct *vma)
{
	struct pinmem_node *node = vma->vm_private_data;

	atomic_dec(&node->maps);
}

/* Splitting would leave a part counted twice or not at all: refuse. */
static int area_vm_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	return -EINVAL;
}

static const struct vm_operations_struct area_vm_ops = {
	.open = area_vm_open,
	.close = area_vm_close,
	.may_split = area_vm_may_split,
};

/*
 * Maps area @idx (which must still be generation @gen) into @vma, whose
 * page offset is into the area.  With @region_pgoff the mapping's page
 * offset becomes the region's afterwards (see dev_mmap()).
 */
int pinmem_mmap_area(struct pinmem *pm, u32 idx, u32 gen,
		     struct vm_area_struct *vma, bool region_pgoff)
{
	unsigned long len = vma->vm_end - vma->vm_start;
	struct pinmem_dirent *e;
	u64 avail;
	int r;

	/*
	 * VM_MAYSHARE, not VM_SHARED: the kernel takes VM_SHARED off a
	 * shared mapping of a file opened read-only, which can never write.
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	mutex_lock(&pm->lock);
	r = -ENOENT;
	if (!pinmem_area_live(pm, idx, gen))
		goto out;
	e = &pm->dir[idx];
	avail = DIV_ROUND_UP(e->length, PINMEM_PAGE_SIZE);
	r = -ENXIO;
	if (vma->vm_pgoff >= avail || len >> PAGE_SHIFT > avail - vma->vm_pgoff)
		goto out;
	r = remap_pfn_range(vma, vma->vm_start,
			    PHYS_PFN(pm->start + e->offset) + vma->vm_pgoff,
			    len, vma->vm_page_prot);
	if (r)
		goto out;
	if (region_pgoff)
		vma->vm_pgoff += PHYS_PFN(e->offset);
	vma->vm_private_data = &pm->nodes[idx];
	vma->vm_ops = &area_vm_ops;
	atomic_inc(&pm->nodes[idx].maps);
out:
	mutex_unlock(&pm->lock);
	return r;
}

/* An open /dev/pinmem: its region, and the area it is attached to if any. */
struct dev_file {
	struct pinmem *pm;
	bool attached;
	u32 idx;
	u32 gen;
};

static int dev_open(struct inode *inode, struct file *file)
{
	struct dev_file *df = kzalloc(sizeof(*df), GFP_KERNEL);

	if (!df)
		return -ENOMEM;
	/* Opening has no context of its own: the module serves one region. */
	df->pm = &pinmem;
	file->private_data = df;
	return 0;
}

static int dev_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

/* The caller's size of the struct at @ureq, bounded (see uapi/pinmem.h). */
static int get_size(const void __user *ureq, u32 ver0, u32 *ret_size)
{
	u32 usize;

	if (get_user(usize, (const u32 __user *)ureq))
		return -EFAULT;
	if (usize < ver0)
		return -EINVAL;
	if (usize > PINMEM_PAGE_SIZE)
		return -E2BIG;
	*ret_size = usize;
	return 0;
}

/*
 * Reads request struct @kreq of @ksize bytes, first published with @ver0,
 * from @ureq: an older, smaller struct is zero-extended, and a newer,
 * larger one must hold zeros past @ksize (-E2BIG).
 */
static int get_struct(void *kreq, size_t ksize, u32 ver0,
		      const void __user *ureq)
{
	u32 usize;
	int r;

	r = get_size(ureq, ver0, &usize);
	if (r)
		return r;
	return copy_struct_from_user(kreq, ksize, ureq, usize);
}

static int get_req(void __user *arg, struct pinmem_area_req *req)
{
	int r;

	r = get_struct(req, sizeof(*req), PINMEM_AREA_REQ_SIZE_VER0, arg);
	if (r)
		return r;
	if (req->flags)
		return -EINVAL;
	if (!pinmem_name_valid(req->name, sizeof(req->name)))
		return -EINVAL;
	return 0;
}

/*
 * A newer caller's request numbers encode the size of its larger structs:
 * requests are told apart by direction, type and number, and the size
 * that counts is the one in the struct.
 */
#define IOC_BASE(cmd)	((cmd) & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT))

static_assert(sizeof(struct pinmem_area_req) >= PINMEM_AREA_REQ_SIZE_VER0);
static_assert(sizeof(struct pinmem_status) >= PINMEM_STATUS_SIZE_VER0);
static_assert(sizeof(struct pinmem_list) >= PINMEM_LIST_SIZE_VER0);
static_assert(sizeof(struct pinmem_format) >= PINMEM_FORMAT_SIZE_VER0);
static_assert(sizeof(struct pinmem_status) <= PINMEM_PAGE_SIZE);

static long area_ioctl(struct file *file, unsigned int cmd, void __user *arg)
{
	struct dev_file *df = file->private_data;
	struct pinmem *pm = df->pm;
	struct pinmem_area_req req;
	int idx, r;

	r = get_req(arg, &req);
	if (r)
		return r;
	mutex_lock(&pm->lock);
	r = -ENODEV;
	if (pm->state != PINMEM_STATE_VALID)
		goto out;
	if (cmd == IOC_BASE(PINMEM_IOC_CREATE)) {
		r = pinmem_create(pm, req.name, PINMEM_KIND_AREA, req.length);
		goto out;
	}
	idx = pinmem_lookup(pm, req.name);
	r = -ENOENT;
	if (idx < 0 || pm->dir[idx].kind != PINMEM_KIND_AREA)
		goto out;
	switch (cmd) {
	case IOC_BASE(PINMEM_IOC_RESIZE):
		r = pinmem_resize(pm, idx, req.length);
		break;
	case IOC_BASE(PINMEM_IOC_REMOVE):
		r = pinmem_remove(pm, idx);
		break;
	case IOC_BASE(PINMEM_IOC_ATTACH):
		df->attached = true;
		df->idx = idx;
		df->gen = pm->nodes[idx].gen;
		r = 0;
		break;
	}
out:
	mutex_unlock(&pm->lock);
	return r < 0 ? r : 0;
}

/* PINMEM_IOC_ATTACHED: the name and length of the attached area. */
static long attached_ioctl(struct file *file, void __user *arg)
{
	struct dev_file *df = file->private_data;
	struct pinmem_area_req __user *ureq = arg;
	struct pinmem *pm = df->pm;
	struct pinmem_area_req req;
	int r;

	r = get_struct(&req, sizeof(req), PINMEM_AREA_REQ_SIZE_VER0, ureq);
	if (r)
		return r;
	if (req.flags)
		return -EINVAL;
	if (!df->attached)
		return -ENODATA;
	mutex_lock(&pm->lock);
	r = -ENOENT;
	if (pinmem_area_live(pm, df->idx, df->gen)) {
		memcpy(req.name, pm->dir[df->idx].name, sizeof(req.name));
		req.length = pm->dir[df->idx].length;
		r = 0;
	}
	mutex_unlock(&pm->lock);
	if (!r && copy_to_user(ureq, &req, min_t(u32, req.size, sizeof(req))))
		r = -EFAULT;
	return r;
}

static long list_ioctl(struct pinmem *pm, void __user *arg)
{
	struct pinmem_list __user *ulist = arg;
	struct pinmem_entry *buf = NULL;
	struct pinmem_list list;
	u32 i, n = 0, total = 0, cap = 0, want;
	int r;

	r = get_struct(&list, sizeof(list), PINMEM_LIST_SIZE_VER0, ulist);
	if (r)
		return r;
	if (list.flags & ~PINMEM_LIST_KERNEL)
		return -EINVAL;
	if (list.capacity > PINMEM_MAX_ENTRIES)
		return -EINVAL;
	/*
	 * No more room than the directory has entries, however much the
	 * caller offers: sized under the lock, allocated outside it, and
	 * sized again should a format have grown the directory meanwhile.
	 */
	for (;;) {
		mutex_lock(&pm->lock);
		if (pm->state != PINMEM_STATE_VALID) {
			r = -ENODEV;
			goto unlock;
		}
		want = min(list.capacity, pm->sb->dir_entries);
		if (want <= cap)
			break;
		mutex_unlock(&pm->lock);
		kvfree(buf);
		cap = want;
		buf = kvcalloc(cap, sizeof(*buf), GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
	}
	for (i = 0; i < pm->sb->dir_entries; i++) {
		const struct pinmem_dirent *e = &pm->dir[i];

		if (e->kind == PINMEM_KIND_FREE ||
		    (e->kind != PINMEM_KIND_AREA &&
		     !(list.flags & PINMEM_LIST_KERNEL)))
			continue;
		if (n < cap) {
			memcpy(buf[n].name, e->name, sizeof(buf[n].name));
			buf[n].kind = e->kind;
			buf[n].mapped = atomic_read(&pm->nodes[i].maps);
			buf[n].offset = e->offset;
			buf[n].length = e->length;
			n++;
		}
		total++;
	}
unlock:
	mutex_unlock(&pm->lock);
	if (!r && n && copy_to_user(u64_to_user_ptr(list.entries), buf,
				    array_size(n, sizeof(*buf))))
		r = -EFAULT;
	if (!r && put_user(total, &ulist->count))
		r = -EFAULT;
	kvfree(buf);
	return r;
}

/* Reads only the size: a newer caller's fields beyond ours become zero. */
static long status_ioctl(struct pinmem *pm, void __user *arg)
{
	struct pinmem_status *st;
	u32 usize;
	int r;

	r = get_size(arg, PINMEM_STATUS_SIZE_VER0, &usize);
	if (r)
		return r;
	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	mutex_lock(&pm->lock);
	pinmem_fill_status(pm, st);
	mutex_unlock(&pm->lock);
	st->size = min_t(u32, usize, sizeof(*st));
	if (copy_to_user(arg, st, st->size) ||
	    (usize > sizeof(*st) &&
	     clear_user(arg + sizeof(*st), usize - sizeof(*st))))
		r = -EFAULT;
	kfree(st);
	return r;
}

/* A read() or write() of an area's file is copying through its pages. */
static bool areas_in_use(struct pinmem *pm)
{
	u32 i;

	if (pm->state != PINMEM_STATE_VALID)
		return false;
	for (i = 0; i < pm->sb->dir_entries; i++)
		if (pm->dir[i].kind == PINMEM_KIND_AREA &&
		    pinmem_area_busy(pm, i))
			return true;
	return false;
}

static long format_ioctl(struct pinmem *pm, void __user *arg)
{
	struct pinmem_status *st;
	struct pinmem_format fmt;
	int r;

	r = get_struct(&fmt, sizeof(fmt), PINMEM_FORMAT_SIZE_VER0, arg);
	if (r)
		return r;
	if (fmt.reserved ||
	    fmt.flags & ~(PINMEM_FORMAT_DISCARD | PINMEM_FORMAT_UNTRUSTED))
		return -EINVAL;
	if (fmt.dir_entries && (fmt.dir_entries < PINMEM_MIN_ENTRIES ||
				fmt.dir_entries > PINMEM_MAX_ENTRIES))
		return -EINVAL;
	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	mutex_lock(&pm->lock);
	pinmem_fill_status(pm, st);
	/* Kernel clients hold pointers into the region: never pull it away. */
	r = -EBUSY;
	if (st->kobjs || st->kbufs || st->areas_mapped || areas_in_use(pm))
		goto out;
	r = -ENOTEMPTY;
	if (st->areas && !(fmt.flags & PINMEM_FORMAT_DISCARD))
		goto out;
	/* An untrusted region serves no areas, so the check above says nothing. */
	r = -EUCLEAN;
	if (pm->state == PINMEM_STATE_INVALID &&
	    pm->sb->magic == PINMEM_SB_MAGIC &&
	    !(fmt.flags & PINMEM_FORMAT_UNTRUSTED))
		goto out;
	if (pm->state == PINMEM_STATE_INVALID)
		pr_warn("formatting untrusted region %pa+%llu (was: %s)\n",
			&pm->start, pm->size, pm->reason);
	r = pinmem_format(pm, fmt.dir_entries);
out:
	mutex_unlock(&pm->lock);
	kfree(st);
	return r;
}

/*
 * Changing the region takes a descriptor opened for writing and
 * CAP_SYS_ADMIN.  Opening /dev/pinmem is root's alone, but a descriptor
 * outlives the privileges it was opened with: the CRIU plugin reopens one
 * for a restored application, which may have dropped root long before.
 */
static int may_change(struct file *file)
{
	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return 0;
}

static long dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct dev_file *df = file->private_data;
	void __user *uarg = (void __user *)arg;
	int r;

	cmd = IOC_BASE(cmd);
	switch (cmd) {
	case IOC_BASE(PINMEM_IOC_CREATE):
	case IOC_BASE(PINMEM_IOC_RESIZE):
	case IOC_BASE(PINMEM_IOC_REMOVE):
	case IOC_BASE(PINMEM_IOC_FORMAT):
		r = may_change(file);
		if (r)
			return r;
		break;
	}
	switch (cmd) {
	case IOC_BASE(PINMEM_IOC_STATUS):
		return status_ioctl(df->pm, uarg);
	case IOC_BASE(PINMEM_IOC_CREATE):
	case IOC_BASE(PINMEM_IOC_RESIZE):
	case IOC_BASE(PINMEM_IOC_REMOVE):
	case IOC_BASE(PINMEM_IOC_ATTACH):
		return area_ioctl(file, cmd, uarg);
	case IOC_BASE(PINMEM_IOC_ATTACHED):
		return attached_ioctl(file, uarg);
	case IOC_BASE(PINMEM_IOC_LIST):
		return list_ioctl(df->pm, uarg);
	case IOC_BASE(PINMEM_IOC_FORMAT):
		return format_ioctl(df->pm, uarg);
	}
	return -ENOTTY;
}

/*
 * An attached file maps its area from offset 0; an unattached one takes
 * offsets into the region, and the range must lie inside one area.  Either
 * way the mapping's page offset ends up the region's, as /proc/PID/maps
 * shows it, so a mapping names its area however it was made: CRIU records
 * that offset and the nvwa plugin maps the same area from it at restore.
 */
static int dev_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct dev_file *df = file->private_data;
	struct pinmem *pm = df->pm;
	u32 idx, gen;
	int r;

	if (df->attached)
		return pinmem_mmap_area(pm, df->idx, df->gen, vma, true);
	mutex_lock(&pm->lock);
	r = -ENODEV;
	if (pm->state == PINMEM_STATE_VALID) {
		r = -ENXIO;
		if (vma->vm_pgoff < PHYS_PFN(pm->size))
			r = pinmem_area_at(pm, (u64)vma->vm_pgoff << PAGE_SHIFT);
	}
	if (r >= 0) {
		idx = r;
		gen = pm->nodes[idx].gen;
		vma->vm_pgoff -= PHYS_PFN(pm->dir[idx].offset);
	}
	mutex_unlock(&pm->lock);
	if (r < 0)
		return r == -ENOENT ? -ENXIO : r;
	return pinmem_mmap_area(pm, idx, gen, vma, true);
}

static const struct file_operations dev_fops = {
	.owner = THIS_MODULE,
	.open = dev_open,
	.release = dev_release,
	.unlocked_ioctl = dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = dev_mmap,
	.llseek = noop_llseek,
};

static struct miscdevice dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "pinmem",
	.fops = &dev_fops,
	.mode = 0600,
};

int pinmem_dev_init(void)
{
	return misc_register(&dev);
}

void pinmem_dev_exit(void)
{
	misc_deregister(&dev);
}
