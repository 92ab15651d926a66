/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Anonymous memory kept in place across the kexec, on the nvwa kernel
 * (pinmem/uapi/nvwa_keep.h, the nvwa_keep module): the zero-copy path.
 *
 * Before the jump: keep_begin() (its head address goes on the new
 * kernel's command line), then the kernel is loaded, then per frozen
 * application keep_stop_tree() + keep_take() before CRIU dumps it (CRIU
 * finds the pages never touched and writes none), keep_seal() just
 * before the reboot; keep_abort() undoes it all (the pages are written
 * back) on any failure.  After it: keep_give() per restored process,
 * stopped, then keep_release() once every application is back.
 */
#ifndef NVWA_KEEP_H
#define NVWA_KEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pinmem/uapi/nvwa_keep.h"

#define KEEP_DEV "/dev/nvwa-keep"
#define KEEP_MODULE "nvwa_keep"
/* The test build's way to spoil a sealed list (keep_damage()). */
#define KEEP_DAMAGE "/sys/kernel/debug/nvwa_keep/damage"
#define KEEP_DAMAGE_ALLOW "/sys/module/nvwa_keep/parameters/test_damage"
/* Processes of one application's tree the restore gives pages to. */
#define NVWA_KEEP_TREE_MAX 512

/*
 * Opens /dev/nvwa-keep, loading the module (modprobe) when it is missing
 * and @load.  Returns the descriptor, or a negative errno with the reason
 * in @why.
 */
int keep_open(bool load, char *why, size_t whylen);

int keep_begin(int fd, uint64_t *ret_head);
/* -EADDRINUSE: the head lies where the loaded kernel lands. */
int keep_check(int fd);
int keep_take(int fd, pid_t pid, struct nvwa_keep_take *ret);
int keep_seal(int fd, struct nvwa_keep_seal *ret);
int keep_abort(int fd);
/* @checkpoint: a checkpoint's frames (HOLD), not an update's application's. */
int keep_give(int fd, pid_t owner, pid_t pid, bool checkpoint, struct nvwa_keep_give *ret);
int keep_release(int fd, uint64_t *ret_freed);

/*
 * A checkpoint's memory kept in place (`nvwa checkpoint --pin-memory`):
 * HOLD takes a stopped process's pages as TAKE does and keeps them for
 * its restore, in this kernel and across kexecs; DROP frees them.
 */
int keep_hold(int fd, pid_t pid, struct nvwa_keep_take *ret);
int keep_drop(int fd, pid_t owner, uint64_t *ret_frames);

/*
 * A checkpoint's list of the processes the kernel keeps memory for,
 * "pid P frames N" a line, in the images directory (nvwa checkpoint
 * writes it before the dump: images without it would restore zeroed
 * memory).
 */
#define KEEP_HELD_FILE "nvwa-held"
struct keep_held {
	pid_t pid[NVWA_KEEP_TREE_MAX];
	uint64_t frames[NVWA_KEEP_TREE_MAX];
	size_t n;
};

/* 0, or -EBADMSG with the offending line in @why; @ret holds what was read. */
int keep_held_parse(const char *buf, size_t len, struct keep_held *ret, char *why, size_t whylen);
/* The text keep_held_parse() reads, into @buf (NVWA_KEEP_TREE_MAX * 48 bytes do). */
size_t keep_held_format(const struct keep_held *h, char *buf, size_t size);

/* What keep_give_tree() put back, over a tree. */
struct keep_given {
	uint64_t installed;	/* frames back in place, nothing copied */
	uint64_t huge;		/* of those, in huge pages again */
	uint64_t copied;	/* frames copied: the address was taken */
	uint64_t replaced;	/* frames that replaced a page mapped since */
	size_t processes;
};

/*
 * The frames kept for each process of @tree (owner: its own PID, which
 * CRIU restores), all stopped, go back into it at the same addresses.
 * Neither resumes nor kills the tree: a process whose pages did not all
 * go back must not run, and the caller knows what to do with it.
 * 0, or -errno with the reason in @why (the first process that failed).
 */
int keep_give_tree(int fd, const pid_t *tree, size_t n, bool checkpoint, struct keep_given *ret,
		   char *why, size_t whylen);
int keep_status(int fd, struct nvwa_keep_status *ret);
/*
 * After the jump: the frames this kernel was handed for @owner (0 when
 * the list did not check out at boot, or none was named).
 */
int keep_owned(int fd, pid_t owner, bool checkpoint, uint64_t *ret_frames);
const char *keep_state_name(uint32_t state);
#ifdef NVWA_FAULTS
/*
 * The test build only: spoils the sealed list as the next kernel will
 * read it ("head-magic", "head-crc", "list-crc"), through the module's
 * debugfs file, so that the next kernel's own checks refuse it.
 */
int keep_damage(const char *what);
#endif

/*
 * Stops every process of @tree (SIGSTOP) and waits until each of their
 * threads is stopped, at most @timeout_ms.  The pages are taken only
 * from a process that cannot run; CRIU then dumps it stopped, restores
 * it stopped, and the restore resumes it once its pages are back.
 */
int keep_stop_tree(const pid_t *tree, size_t n, int timeout_ms);
/* Every thread of @pid stopped: 1; one running: 0; gone: -ESRCH. */
int keep_stopped(pid_t pid);

/*
 * Resident pages of the shared anonymous memory the processes of @tree
 * map (MAP_SHARED|MAP_ANONYMOUS, SysV shared memory, memfd): the kept
 * path leaves it mapped and CRIU copies it.  An object several of them
 * map is counted once, at the most any of them has resident.  0, or a
 * negative errno when no process of @tree could be read.
 */
int keep_shared_pages(const pid_t *tree, size_t n, uint64_t *ret_pages);

#endif
