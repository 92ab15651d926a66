// SPDX-License-Identifier: GPL-2.0
/*
 * The pinmem filesystem: every area is a file, so programs that cannot
 * issue ioctls keep memory in pinmem by path (QEMU's memory-backend-file,
 * or anything that opens, ftruncates and maps a file):
 *
 *	mount -t pinmem none /run/pinmem
 *	qemu-system-x86_64 -object memory-backend-file,id=m,size=4G,\
 *		mem-path=/run/pinmem/vm0,share=on ...
 *
 * Files are looked up in the region's directory every time, so areas made
 * or removed through /dev/pinmem show up here at once.  An inode names its
 * area by directory slot (i_ino) and slot generation (i_generation); an
 * inode whose area is gone fails with ENOENT and its dentry is dropped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/uio.h>

#include "internal.h"

#define INO_ROOT	1
#define INO_BASE	16

static const struct inode_operations file_iops;
static const struct file_operations file_fops;
static const struct dentry_operations dops;

static u32 inode_idx(const struct inode *inode)
{
	return inode->i_ino - INO_BASE;
}

/* The region a file of this filesystem is in: the superblock's key. */
static struct pinmem *inode_pinmem(const struct inode *inode)
{
	return inode->i_sb->s_fs_info;
}

static struct inode *area_inode(struct super_block *sb, u32 idx)
{
	struct pinmem *pm = sb->s_fs_info;
	struct inode *inode = new_inode(sb);

	if (!inode)
		return NULL;
	inode->i_ino = INO_BASE + idx;
	inode->i_generation = pm->nodes[idx].gen;
	inode->i_mode = S_IFREG | 0600;
	inode->i_uid = GLOBAL_ROOT_UID;
	inode->i_gid = GLOBAL_ROOT_GID;
	inode->i_size = pm->dir[idx].length;
	inode->i_mtime = current_time(inode);
	inode->i_atime = inode->i_mtime;
	inode->i_ctime = inode->i_mtime;
	inode->i_op = &file_iops;
	inode->i_fop = &file_fops;
	return inode;
}

/* The area behind @inode, locked; or a negative errno, unlocked. */
static int lock_area(struct inode *inode)
{
	struct pinmem *pm = inode_pinmem(inode);
	u32 idx = inode_idx(inode);

	mutex_lock(&pm->lock);
	if (pinmem_area_live(pm, idx, inode->i_generation))
		return idx;
	mutex_unlock(&pm->lock);
	return -ENOENT;
}

static struct dentry *dir_lookup(struct inode *dir, struct dentry *dentry,
				 unsigned int flags)
{
	struct pinmem *pm = inode_pinmem(dir);
	struct inode *inode = NULL;
	int idx;

	if (dentry->d_name.len >= PINMEM_NAME_MAX)
		return ERR_PTR(-ENAMETOOLONG);
	mutex_lock(&pm->lock);
	idx = pm->state == PINMEM_STATE_VALID ?
		pinmem_lookup(pm, dentry->d_name.name) : -ENOENT;
	if (idx >= 0 && pm->dir[idx].kind == PINMEM_KIND_AREA) {
		inode = area_inode(dir->i_sb, idx);
		if (!inode) {
			mutex_unlock(&pm->lock);
			return ERR_PTR(-ENOMEM);
		}
	}
	mutex_unlock(&pm->lock);
	return d_splice_alias(inode, dentry);
}

static int dir_create(struct user_namespace *ns, struct inode *dir,
		      struct dentry *dentry, umode_t mode, bool excl)
{
	struct pinmem *pm = inode_pinmem(dir);
	struct inode *inode;
	int idx;

	if (dentry->d_name.len >= PINMEM_NAME_MAX)
		return -ENAMETOOLONG;
	mutex_lock(&pm->lock);
	idx = pinmem_create(pm, dentry->d_name.name, PINMEM_KIND_AREA, 0);
	if (idx < 0) {
		mutex_unlock(&pm->lock);
		return idx == -EINVAL ? -EPERM : idx;
	}
	inode = area_inode(dir->i_sb, idx);
	if (!inode) {
		pinmem_remove(pm, idx);
		mutex_unlock(&pm->lock);
		return -ENOMEM;
	}
	mutex_unlock(&pm->lock);
	d_instantiate(dentry, inode);
	return 0;
}

static int dir_unlink(struct inode *dir, struct dentry *dentry)
{
	struct pinmem *pm = inode_pinmem(dir);
	struct inode *inode = d_inode(dentry);
	int idx, r;

	idx = lock_area(inode);
	if (idx < 0)
		return idx;
	r = pinmem_remove(pm, idx);
	mutex_unlock(&pm->lock);
	if (r)
		return r;
	clear_nlink(inode);
	d_drop(dentry);
	return 0;
}

static int dir_iterate(struct file *file, struct dir_context *ctx)
{
	struct pinmem *pm = inode_pinmem(file_inode(file));
	char name[PINMEM_NAME_MAX];
	u32 i;

	if (!dir_emit_dots(file, ctx))
		return 0;
	mutex_lock(&pm->lock);
	if (pm->state != PINMEM_STATE_VALID)
		goto out;
	for (i = ctx->pos - 2; i < pm->sb->dir_entries; i++) {
		const struct pinmem_dirent *e = &pm->dir[i];

		ctx->pos = i + 2;
		if (e->kind != PINMEM_KIND_AREA)
			continue;
		/* dir_emit() copies to userspace: never under the lock. */
		strscpy(name, e->name, sizeof(name));
		mutex_unlock(&pm->lock);
		if (!dir_emit(ctx, name, strlen(name), INO_BASE + i, DT_REG))
			return 0;
		mutex_lock(&pm->lock);
		if (pm->state != PINMEM_STATE_VALID)
			goto out;
	}
	ctx->pos = pm->sb->dir_entries + 2;
out:
	mutex_unlock(&pm->lock);
	return 0;
}

static int file_setattr(struct user_namespace *ns, struct dentry *dentry,
			struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);
	struct pinmem *pm = inode_pinmem(inode);
	int idx, r;

	r = setattr_prepare(&init_user_ns, dentry, attr);
	if (r)
		return r;
	if (attr->ia_valid & (ATTR_UID | ATTR_GID | ATTR_MODE))
		return -EPERM;
	if (attr->ia_valid & ATTR_SIZE) {
		if (attr->ia_size < 0)
			return -EINVAL;
		idx = lock_area(inode);
		if (idx < 0)
			return idx;
		r = pinmem_resize(pm, idx, attr->ia_size);
		mutex_unlock(&pm->lock);
		if (r)
			return r;
		i_size_write(inode, attr->ia_size);
	}
	setattr_copy(&init_user_ns, inode, attr);
	return 0;
}

static int file_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct inode *inode = file_inode(file);

	return pinmem_mmap_area(inode_pinmem(inode), inode_idx(inode),
				inode->i_generation, vma, false);
}

/*
 * read() and write() copy through the region's kernel mapping.  The copy
 * runs without pinmem's lock (it may fault on user memory, for as long as
 * that takes), so it counts as a user of the area: resize, remove and
 * format refuse (EBUSY) until it is done, as they do while it is mapped.
 */
static ssize_t file_rw(struct kiocb *iocb, struct iov_iter *iter, bool write)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	struct pinmem *pm = inode_pinmem(inode);
	size_t count = iov_iter_count(iter), done;
	loff_t pos = iocb->ki_pos;
	struct pinmem_node *node;
	void *addr;
	u64 len;
	int idx, r;

	if (!count)
		return 0;
	idx = lock_area(inode);
	if (idx < 0)
		return idx;
	len = pm->dir[idx].length;
	/* The area's length, not i_size: a resize by ioctl moves the end. */
	if (write && (iocb->ki_flags & IOCB_APPEND))
		pos = len;
	r = -EFBIG;
	if (write && (pos < 0 || count > pm->size || pos > pm->size - count))
		goto unlock;
	if (write && pos + count > len) {
		r = pinmem_resize(pm, idx, pos + count);
		if (r)
			goto unlock;
		len = pos + count;
	}
	if (write)
		i_size_write(inode, len);
	r = 0;
	if (pos < 0 || pos >= len)
		goto unlock;
	count = min_t(u64, count, len - pos);
	addr = pm->base + pm->dir[idx].offset + pos;
	node = &pm->nodes[idx];
	atomic_inc(&node->users);
	mutex_unlock(&pm->lock);
	done = write ? copy_from_iter(addr, count, iter) :
		       copy_to_iter(addr, count, iter);
	atomic_dec(&node->users);
	if (!done)
		return -EFAULT;
	iocb->ki_pos = pos + done;
	return done;
unlock:
	mutex_unlock(&pm->lock);
	return r;
}

static ssize_t file_read(struct kiocb *iocb, struct iov_iter *iter)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	ssize_t r;

	inode_lock_shared(inode);
	r = file_rw(iocb, iter, false);
	inode_unlock_shared(inode);
	return r;
}

static ssize_t file_write(struct kiocb *iocb, struct iov_iter *iter)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	ssize_t r;

	inode_lock(inode);
	r = file_rw(iocb, iter, true);
	inode_unlock(inode);
	return r;
}

/* The size is the area's: a resize by ioctl does not pass through here. */
static int file_getattr(struct user_namespace *ns, const struct path *path,
			struct kstat *stat, u32 request_mask,
			unsigned int query_flags)
{
	struct inode *inode = d_inode(path->dentry);
	struct pinmem *pm = inode_pinmem(inode);
	int idx;

	generic_fillattr(&init_user_ns, inode, stat);
	idx = lock_area(inode);
	if (idx >= 0) {
		stat->size = pm->dir[idx].length;
		mutex_unlock(&pm->lock);
	}
	return 0;
}

static loff_t file_llseek(struct file *file, loff_t offset, int whence)
{
	struct inode *inode = file_inode(file);
	struct pinmem *pm = inode_pinmem(inode);
	u64 len;
	int idx;

	idx = lock_area(inode);
	if (idx < 0)
		return idx;
	len = pm->dir[idx].length;
	mutex_unlock(&pm->lock);
	return generic_file_llseek_size(file, offset, whence,
					inode->i_sb->s_maxbytes, len);
}

/* An area's bytes are RAM: there is nothing to sync. */
static int file_fsync(struct file *file, loff_t start, loff_t end,
		      int datasync)
{
	return 0;
}

static int dentry_revalidate(struct dentry *dentry, unsigned int flags)
{
	struct inode *inode;
	struct pinmem *pm;
	int idx;

	if (flags & LOOKUP_RCU)
		return -ECHILD;
	inode = d_inode(dentry);
	if (!inode)
		return 0;	/* an area of that name may exist by now */
	if (inode->i_ino == INO_ROOT)
		return 1;
	pm = inode_pinmem(inode);
	idx = lock_area(inode);
	if (idx < 0)
		return 0;
	i_size_write(inode, pm->dir[idx].length);
	mutex_unlock(&pm->lock);
	return 1;
}

static const struct dentry_operations dops = {
	.d_revalidate = dentry_revalidate,
};

static const struct inode_operations dir_iops = {
	.lookup = dir_lookup,
	.create = dir_create,
	.unlink = dir_unlink,
};

static const struct file_operations dir_fops = {
	.owner = THIS_MODULE,
	.iterate_shared = dir_iterate,
	.llseek = generic_file_llseek,
	.read = generic_read_dir,
};

static const struct inode_operations file_iops = {
	.setattr = file_setattr,
	.getattr = file_getattr,
};

static const struct file_operations file_fops = {
	.owner = THIS_MODULE,
	.mmap = file_mmap,
	.read_iter = file_read,
	.write_iter = file_write,
	.fsync = file_fsync,
	.llseek = file_llseek,
};

static const struct super_operations sops = {
	.statfs = simple_statfs,
	.drop_inode = generic_delete_inode,
};

static int fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct inode *root;

	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_blocksize = PAGE_SIZE;
	sb->s_blocksize_bits = PAGE_SHIFT;
	sb->s_magic = PINMEM_FS_MAGIC;
	sb->s_op = &sops;
	sb->s_d_op = &dops;
	sb->s_time_gran = 1;
	root = new_inode(sb);
	if (!root)
		return -ENOMEM;
	root->i_ino = INO_ROOT;
	root->i_mode = S_IFDIR | 0700;
	root->i_uid = GLOBAL_ROOT_UID;
	root->i_gid = GLOBAL_ROOT_GID;
	root->i_mtime = current_time(root);
	root->i_atime = root->i_mtime;
	root->i_ctime = root->i_mtime;
	root->i_op = &dir_iops;
	root->i_fop = &dir_fops;
	set_nlink(root, 2);
	sb->s_root = d_make_root(root);
	return sb->s_root ? 0 : -ENOMEM;
}

/* Mounting has no context of its own: the module's one region is the key. */
static int get_tree(struct fs_context *fc)
{
	return get_tree_keyed(fc, fill_super, &pinmem);
}

static const struct fs_context_operations fc_ops = {
	.get_tree = get_tree,
};

static int init_fs_context(struct fs_context *fc)
{
	fc->ops = &fc_ops;
	return 0;
}

static struct file_system_type fs_type = {
	.owner = THIS_MODULE,
	.name = "pinmem",
	.init_fs_context = init_fs_context,
	.kill_sb = kill_anon_super,
};

int pinmem_fs_init(void)
{
	return register_filesystem(&fs_type);
}

void pinmem_fs_exit(void)
{
	unregister_filesystem(&fs_type);
}
