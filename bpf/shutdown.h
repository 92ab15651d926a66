/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The old kernel's shutdown path, as the shutdown probes leave it in
 * preserved memory for the next kernel: the contract between
 * shutdown.bpf.c, which writes it, and common/probebuf.c, which checks
 * and reads it after the kexec.
 *
 * The buffer is a pinmem area that nvwa maps before the reboot.  The
 * probes run in nvwa's own context (the reboot syscall's), so they reach
 * the buffer through nvwa's mapping with bpf_probe_write_user(): the
 * same physical pages the next kernel finds by the area's name.  Fixed
 * sizes, little-endian, no pointers.  Times are the old kernel's
 * CLOCK_MONOTONIC (bpf_ktime_get_ns); nvwa writes one reading of it next
 * to one of the TSC just before the reboot, which puts them on the
 * update's timeline.
 */
#ifndef NVWA_BPF_SHUTDOWN_H
#define NVWA_BPF_SHUTDOWN_H

#include <linux/types.h>

#define SHUTDOWN_AREA "nvwa-shutdown"
#define SHUTDOWN_MAGIC 0x6e7677612d736864ULL	/* "nvwa-shd" */
#define SHUTDOWN_VERSION 1
#define SHUTDOWN_MAX_DEVS 1024
#define SHUTDOWN_DEV_NAME 40
#define SHUTDOWN_DRV_NAME 24

/* The kernel's calls after reboot(LINUX_REBOOT_CMD_KEXEC), in order. */
enum shutdown_event {
	EV_KERNEL_KEXEC,		/* entry; never returns on success */
	EV_RESTART_PREPARE,		/* kernel_restart_prepare entry */
	EV_DEVICE_SHUTDOWN,		/* device_shutdown entry, inside it */
	EV_DEVICE_SHUTDOWN_RET,
	EV_RESTART_PREPARE_RET,
	EV_SYSCORE_SHUTDOWN,		/* syscore_shutdown entry */
	EV_SYSCORE_SHUTDOWN_RET,
	EV_MACHINE_SHUTDOWN,		/* machine_shutdown entry */
	EV_MACHINE_SHUTDOWN_RET,
	EV_MACHINE_KEXEC,		/* entry; the last moment in the old kernel */
	EV_MAX,
};

/*
 * One device in device_shutdown()'s walk.  It starts when the walk
 * reaches it (pm_runtime_barrier(), called once per device before its
 * shutdown method) and ends where the next one starts, or where
 * device_shutdown() returns.
 */
struct shutdown_dev {
	__u64 start_ns;
	char name[SHUTDOWN_DEV_NAME];	/* dev_name() */
	char driver[SHUTDOWN_DRV_NAME];	/* driver, else bus, else "" */
};

struct shutdown_buf {
	__u64 magic;
	__u32 version;
	__u32 max_devs;			/* capacity of devs[] */
	__u64 clock_ns;			/* CLOCK_MONOTONIC ... */
	__u64 clock_tsc;		/* ... and the TSC, read together */
	__u64 at_ns[EV_MAX];		/* 0: not seen */
	__u32 ndevs;			/* devices walked, may exceed max_devs */
	__u32 write_errors;		/* failed writes before this one */
	struct shutdown_dev devs[];
};

#define SHUTDOWN_BUF_SIZE(n) \
	(sizeof(struct shutdown_buf) + (n) * sizeof(struct shutdown_dev))

#endif
