/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pinmem: the contract between the pinmem module and userspace.
 *
 * /dev/pinmem (root only) manages named areas of preserved RAM: memory that
 * keeps its contents across kexec.  Names are NUL-terminated, at most
 * PINMEM_NAME_MAX - 1 bytes of [A-Za-z0-9._-], not starting with '.'.
 *
 * Every request struct starts with its size, the caller's sizeof, so the
 * structs can grow without breaking binaries built against either side.
 * The module takes any size from the struct's first published one
 * (PINMEM_*_SIZE_VER0; smaller: EINVAL) up to PINMEM_PAGE_SIZE (larger:
 * E2BIG).  Fields an older, smaller struct lacks read as zero; fields of a
 * newer, larger struct that the module does not know must be zero (else
 * E2BIG), as with openat2() and clone3().  Replies are written up to the
 * smaller of the two sizes.  A request number encodes its struct's size
 * too; the module ignores that part, so a grown struct keeps its request.
 *
 * An area is also a file in the pinmem filesystem (mount -t pinmem none
 * /run/pinmem): programs that cannot issue ioctls open it by path, size it
 * with ftruncate() and map it with mmap(MAP_SHARED).
 *
 * Who may do what: opening /dev/pinmem takes root (mode 0600).  Requests
 * that change the region (CREATE, RESIZE, REMOVE, FORMAT) also take a
 * descriptor opened for writing (else EBADF) and CAP_SYS_ADMIN (else
 * EPERM), checked in that order at every call: a descriptor can outlive
 * the privileges it was opened with.  STATUS, LIST, ATTACH and ATTACHED
 * take any descriptor; a writable shared mapping takes one opened for
 * writing (EACCES), a read-only one any.
 *
 * Mapping through /dev/pinmem: after PINMEM_IOC_ATTACH the file offset is
 * into that area; without it, the offset is into the region and the range
 * must lie inside one area.  Either way the mapping's offset, as
 * /proc/PID/maps shows it, is the region offset: it names the area.
 */
#ifndef _UAPI_PINMEM_H
#define _UAPI_PINMEM_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define PINMEM_NAME_MAX		40
#define PINMEM_NR_CLASSES	8	/* kernel object classes 16..2048 bytes */
#define PINMEM_MIN_CLASS_SHIFT	4
#define PINMEM_FS_MAGIC		0x50696e4dU	/* "PinM" */
#define PINMEM_PAGE_SIZE	4096U		/* areas are multiples of it */

/* State of the region, as the module found it at load time. */
enum pinmem_state {
	PINMEM_STATE_VALID = 1,		/* adopted or freshly formatted */
	PINMEM_STATE_INVALID = 2,	/* not trusted; see reason, format */
};

/* Kinds of directory entries. */
enum pinmem_kind {
	PINMEM_KIND_FREE = 0,
	PINMEM_KIND_AREA = 1,		/* userspace area, page granular */
	PINMEM_KIND_KOBJ = 2,		/* kernel object, kmalloc-like */
	PINMEM_KIND_KBUF = 3,		/* kernel buffer, vmalloc-like */
};

/*
 * PINMEM_IOC_CREATE, _RESIZE, _REMOVE, _ATTACH; _ATTACHED fills in the
 * name and length of the area the file is attached to (ENODATA: none,
 * ENOENT: it was removed since).  RESIZE and REMOVE answer EBUSY while the
 * area is mapped or a read() or write() of its file is copying; what an
 * area was not written since it grew reads as zeros.
 */
struct pinmem_area_req {
	__u32 size;			/* the caller's sizeof(this struct) */
	__u32 flags;			/* must be 0 */
	char name[PINMEM_NAME_MAX];
	__u64 length;			/* bytes; CREATE, RESIZE */
};

#define PINMEM_AREA_REQ_SIZE_VER0	56

struct pinmem_class_stats {
	__u32 object_size;
	__u32 objects;			/* live objects */
	__u64 bytes;			/* bytes asked for by their owners */
	__u64 pages;			/* pages holding this class */
};

/* PINMEM_IOC_STATUS: only size is read. */
struct pinmem_status {
	__u32 size;			/* in: caller's sizeof; out: bytes filled */
	__u32 state;			/* enum pinmem_state */
	__u32 version;			/* on-region format version */
	__u32 page_size;
	__u64 region_start;		/* physical address */
	__u64 region_size;
	__u64 generation;		/* boots this region has survived + 1 */
	__u64 metadata_bytes;		/* superblock + directory */
	__u64 data_bytes;		/* the rest: what can be allocated */
	__u64 free_bytes;
	__u64 largest_free;		/* biggest contiguous free extent */
	__u32 dir_entries;		/* directory capacity */
	__u32 dir_used;
	__u32 areas;
	__u32 areas_mapped;
	__u64 area_bytes;
	__u32 kobjs;
	__u32 kbufs;
	__u64 kobj_bytes;		/* bytes asked for, small objects */
	__u64 kbuf_bytes;
	struct pinmem_class_stats classes[PINMEM_NR_CLASSES];
	char reason[128];		/* why the region is INVALID */
};

#define PINMEM_STATUS_SIZE_VER0		440

struct pinmem_entry {
	char name[PINMEM_NAME_MAX];
	__u32 kind;			/* enum pinmem_kind */
	__u32 mapped;			/* live mappings (areas) */
	__u64 offset;			/* from the start of the region */
	__u64 length;
};

/* PINMEM_IOC_LIST: fills up to capacity entries, returns how many exist. */
struct pinmem_list {
	__u32 size;			/* the caller's sizeof(this struct) */
	__u32 capacity;			/* entries the buffer holds */
	__u32 count;			/* out: entries that exist */
	__u32 flags;			/* PINMEM_LIST_KERNEL: kernel objects too */
	__u64 entries;			/* pointer to struct pinmem_entry[] */
};

#define PINMEM_LIST_SIZE_VER0		24

#define PINMEM_LIST_KERNEL	0x1

/* PINMEM_IOC_FORMAT */
struct pinmem_format {
	__u32 size;			/* the caller's sizeof(this struct) */
	__u32 flags;			/* PINMEM_FORMAT_* */
	__u32 dir_entries;		/* 0: a default sized to the region */
	__u32 reserved;			/* must be 0 */
};

#define PINMEM_FORMAT_SIZE_VER0		16

/* Formatting a valid region that holds areas destroys them: say so. */
#define PINMEM_FORMAT_DISCARD	0x1
/*
 * A region whose pinmem superblock fails its checks may hold what its
 * owner needs in a form the module cannot read: formatting it answers
 * EUCLEAN unless the caller says it is erasing untrusted data.  A region
 * with no pinmem superblock at all needs no flag.
 */
#define PINMEM_FORMAT_UNTRUSTED	0x2

#define PINMEM_IOC_MAGIC	0xb7
#define PINMEM_IOC_STATUS	_IOWR(PINMEM_IOC_MAGIC, 1, struct pinmem_status)
#define PINMEM_IOC_CREATE	_IOW(PINMEM_IOC_MAGIC, 2, struct pinmem_area_req)
#define PINMEM_IOC_RESIZE	_IOW(PINMEM_IOC_MAGIC, 3, struct pinmem_area_req)
#define PINMEM_IOC_REMOVE	_IOW(PINMEM_IOC_MAGIC, 4, struct pinmem_area_req)
#define PINMEM_IOC_ATTACH	_IOW(PINMEM_IOC_MAGIC, 5, struct pinmem_area_req)
#define PINMEM_IOC_LIST		_IOWR(PINMEM_IOC_MAGIC, 6, struct pinmem_list)
#define PINMEM_IOC_FORMAT	_IOW(PINMEM_IOC_MAGIC, 7, struct pinmem_format)
#define PINMEM_IOC_ATTACHED	_IOWR(PINMEM_IOC_MAGIC, 8, struct pinmem_area_req)

#endif /* _UAPI_PINMEM_H */
