/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * /dev/nvwa-keep: a process's anonymous pages handed over across kexec in
 * place, on the nvwa kernel (CONFIG_NVWA_KEEP, "pin-anon" in
 * /sys/kernel/nvwa/features).  Root only (CAP_SYS_ADMIN, and the node is
 * 0600).
 *
 * Before the jump, in this order:
 *   BEGIN    a head page for the list; its address goes on the next
 *            kernel's command line as nvwa.keep=ADDR, so BEGIN comes
 *            before the kernel is loaded (kexec -l / kexec_file_load)
 *   CHECK    after the kernel is loaded: -EADDRINUSE if the head lies
 *            where the loaded kernel lands (ABORT, BEGIN, load again)
 *   TAKE     per process, frozen, after the kernel is loaded: its
 *            private anonymous pages are taken out of its page tables
 *            (held by the module), so a checkpoint (CRIU) sees them as
 *            never touched and writes none of them
 *   SEAL     writes the list; the reboot comes next.  -E2BIG: more runs
 *            than the next kernel can reserve, or too little memory left
 *            it to boot; -EXDEV: frames in memory a driver added after
 *            boot (virtio-mem, dax kmem); either way, ABORT
 *   ABORT    at any point before the reboot: every page taken is written
 *            back at its address (a copy), nothing is kept
 * After it, in the next kernel:
 *   GIVE     per restored process, stopped, before it runs: the frames
 *            listed for it become its anonymous pages at the same
 *            addresses; a page mapped there since the restore is
 *            replaced (only the kernel writes there then: rseq), and
 *            where that cannot be done the frame is copied
 *   RELEASE  frames no process took go back to the page allocator
 *   OWNED    before restoring a process whose pages were kept: how many
 *            frames this kernel was handed for it (0: none, when the
 *            list did not check out at boot, or nvwa.keep= was not given)
 *   STATUS   either side
 * A checkpoint that keeps memory in place (`nvwa checkpoint --pin-memory`),
 * any time no update is under way:
 *   HOLD     as TAKE, for a stopped process about to be checkpointed: its
 *            pages become frames kept for it (-EEXIST: some are already),
 *            in this kernel and, listed at every SEAL, across kexecs
 *   GIVE     (checkpoint = 1, owner: the checkpointed PID) into the
 *            restored process, or back into the same process after a
 *            failed dump; the frames are spent then, even in part.  An
 *            update's application with the same PID never gets them
 *   DROP     frees the frames kept for a checkpoint (-ENOENT: none)
 *   OWNED    (checkpoint = 1) counts them
 * GIVE of a checkpoint's frames and DROP wait while an update is under
 * way (-EBUSY): a seal lists the frames as they are.
 */
#ifndef _UAPI_NVWA_KEEP_H
#define _UAPI_NVWA_KEEP_H

#include <linux/ioctl.h>
#include <linux/types.h>

struct nvwa_keep_begin {
	__u64 head;		/* out: physical address for nvwa.keep= */
};

struct nvwa_keep_take {
	__u32 pid;		/* in: a frozen process */
	__u32 reserved;
	__u64 pages;		/* out: pages taken */
	/*
	 * out: present anonymous pages left mapped (shared after fork, in
	 * the swap cache, KSM, DMA-pinned, read-only): the checkpoint
	 * copies them
	 */
	__u64 left;
	/*
	 * out: pages copied to a frame of their own before they were taken:
	 * out of the loaded kernel's way, or to unshare a page only this
	 * process maps but that is not flagged its own (of a huge page)
	 */
	__u64 moved;
	/* out: of the pages taken, those of huge pages mapped by a PMD */
	__u64 huge;
};

struct nvwa_keep_seal {
	__u64 frames;		/* out: frames listed, the list's own included */
	__u64 runs;		/* contiguous in memory and in the process */
	/* contiguous in memory: the next kernel's reservations, at most 4096 */
	__u64 extents;
	__u64 list_pages;
	__u64 moved;		/* pages copied at seal (kernel reloaded) */
};

struct nvwa_keep_give {
	__u32 owner;		/* in: the PID the pages were taken from */
	__u32 pid;		/* in: the restored process, stopped */
	__u64 installed;	/* out: frames installed, nothing copied */
	/*
	 * out: of those, frames that replaced a page the restore had mapped
	 * there since (the kernel's rseq fields in a TLS page): what the
	 * frame holds is the process's memory
	 */
	__u64 replaced;
	/* out: frames copied: the page there could not be replaced */
	__u64 copied;
	__u64 failed;		/* out: frames neither (no mapping there) */
	/* out: of those installed, frames that are huge pages again */
	__u64 huge;
	/* in: 1: a checkpoint's frames (HOLD); 0: an update's application's */
	__u32 checkpoint;
	__u32 reserved;
};

struct nvwa_keep_owned {
	__u32 owner;		/* in: a PID pages were taken from */
	__u32 checkpoint;	/* in: 1: a checkpoint's frames; 0: an update's */
	__u64 frames;		/* out: frames the list this boot read names for it */
};

enum nvwa_keep_state {
	NVWA_KEEP_IDLE,		/* nothing taken, nothing handed over */
	NVWA_KEEP_TAKING,	/* before the jump: BEGIN done */
	NVWA_KEEP_SEALED,	/* before the jump: list written */
	NVWA_KEEP_HANDED,	/* after the jump: frames waiting for GIVE */
};

struct nvwa_keep_status {
	__u32 state;		/* enum nvwa_keep_state */
	__u32 owners;		/* processes with frames taken or handed */
	__u64 head;		/* BEGIN's head, 0 if none */
	__u64 taken;		/* before the jump: pages taken */
	__u64 kept;		/* after it: frames still waiting */
	__u64 installed;	/* after it: frames installed by GIVE */
	__u64 copied;		/* after it: frames GIVE had to copy */
	__u64 released;		/* after it: frames RELEASE gave back */
	__u64 held;		/* checkpoints' frames kept (HOLD) */
	__u32 held_owners;	/* processes those are kept for */
	__u32 reserved;
};

#define NVWA_KEEP_IOC_MAGIC	0xb8
#define NVWA_KEEP_IOC_BEGIN	_IOR(NVWA_KEEP_IOC_MAGIC, 1, struct nvwa_keep_begin)
#define NVWA_KEEP_IOC_TAKE	_IOWR(NVWA_KEEP_IOC_MAGIC, 2, struct nvwa_keep_take)
#define NVWA_KEEP_IOC_SEAL	_IOR(NVWA_KEEP_IOC_MAGIC, 3, struct nvwa_keep_seal)
#define NVWA_KEEP_IOC_ABORT	_IO(NVWA_KEEP_IOC_MAGIC, 4)
#define NVWA_KEEP_IOC_GIVE	_IOWR(NVWA_KEEP_IOC_MAGIC, 5, struct nvwa_keep_give)
#define NVWA_KEEP_IOC_RELEASE	_IOR(NVWA_KEEP_IOC_MAGIC, 6, __u64)
#define NVWA_KEEP_IOC_STATUS	_IOR(NVWA_KEEP_IOC_MAGIC, 7, struct nvwa_keep_status)
#define NVWA_KEEP_IOC_CHECK	_IO(NVWA_KEEP_IOC_MAGIC, 8)
#define NVWA_KEEP_IOC_OWNED	_IOWR(NVWA_KEEP_IOC_MAGIC, 9, struct nvwa_keep_owned)
#define NVWA_KEEP_IOC_HOLD	_IOWR(NVWA_KEEP_IOC_MAGIC, 10, struct nvwa_keep_take)
#define NVWA_KEEP_IOC_DROP	_IOWR(NVWA_KEEP_IOC_MAGIC, 11, struct nvwa_keep_owned)

#endif /* _UAPI_NVWA_KEEP_H */
