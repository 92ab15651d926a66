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
int keep_give(int fd, pid_t owner, pid_t pid, struct nvwa_keep_give *ret);
int keep_release(int fd, uint64_t *ret_freed);
int keep_status(int fd, struct nvwa_keep_status *ret);
/*
 * After the jump: the frames this kernel was handed for @owner (0 when
 * the list did not check out at boot, or none was named).
 */
int keep_owned(int fd, pid_t owner, uint64_t *ret_frames);
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

/*
 * Whether the kernel image at @path (an ELF vmlinux, or a bzImage whose
 * payload is decompressed to look) declares pin-anon, the feature name
 * the nvwa kernel lists in /sys/kernel/nvwa/features: a kernel that does
 * not know nvwa.keep= would hand the frames out.  1, 0, or a negative
 * errno with @why.
 */
int keep_image_declares(const char *path, char *why, size_t whylen);

#endif
