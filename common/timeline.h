/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The update's timeline: named phases on the TSC clock, old kernel and new
 * kernel alike.  A phase whose end equals its start is a point event.
 *
 * Phase names are stable identifiers ("freeze", "kexec-load", ...) used by
 * the report and by scripts; the domain says which side of the kexec a
 * phase was measured on and by what.
 */
#ifndef NVWA_TIMELINE_H
#define NVWA_TIMELINE_H

#include <stdint.h>

#define NVWA_MAX_PHASES 64
#define NVWA_PHASE_NAME_MAX 48

/*
 * The phases' names, as the record and the report spell them.  Scripts
 * and older reports depend on these strings: rename none.
 */
/* Old kernel, measured by nvwa update. */
#define NVWA_PHASE_PROBES "probes"
#define NVWA_PHASE_CHECK "check"
#define NVWA_PHASE_KEXEC_LOAD "kexec-load"
#define NVWA_PHASE_PRE_DUMP "pre-dump"
/* check + kexec-load + pre-dump; older reports call it "prepare". */
#define NVWA_PHASE_STAGE "stage"
#define NVWA_PHASE_FREEZE "freeze"
#define NVWA_PHASE_SYNC "sync"
#define NVWA_PHASE_QUIESCE "quiesce"
/* The kept pages' list written (the nvwa kernel's zero-copy path). */
#define NVWA_PHASE_KEEP_SEAL "keep-seal"
#define NVWA_PHASE_REBOOT "reboot"
/* Old kernel after the reboot call, by eBPF (bpf/probebuf.c). */
#define NVWA_PHASE_KERNEL_KEXEC "kernel-kexec"
#define NVWA_PHASE_RESTART_PREPARE "restart-prepare"
#define NVWA_PHASE_DEVICE_SHUTDOWN "device-shutdown"
#define NVWA_PHASE_SYSCORE_SHUTDOWN "syscore-shutdown"
#define NVWA_PHASE_MACHINE_SHUTDOWN "machine-shutdown"
#define NVWA_PHASE_MACHINE_KEXEC "machine-kexec"
/* New kernel before userspace, from its log. */
#define NVWA_PHASE_KEXEC_JUMP "kexec-jump"
#define NVWA_PHASE_KERNEL_EARLY "kernel-early"
#define NVWA_PHASE_SMP_BRINGUP "smp-bringup"
#define NVWA_PHASE_INITCALLS "initcalls"
#define NVWA_PHASE_INITRAMFS_UNPACK "initramfs-unpack"
#define NVWA_PHASE_MEMMAP_DEFERRED "memmap-deferred"
#define NVWA_PHASE_INIT_START "init-start"
/* New kernel, measured by nvwa restore. */
/* /init to the restore when nothing finer is known (sdboot.c)... */
#define NVWA_PHASE_USERSPACE_EARLY "userspace-early"
/* ...else /init to systemd's start in the real root, and on from there. */
#define NVWA_PHASE_INITRAMFS "initramfs"
#define NVWA_PHASE_SWITCH_ROOT "switch-root"
#define NVWA_PHASE_SYSTEMD "systemd"
/* Loading the first-run eBPF probe, before CRIU starts. */
#define NVWA_PHASE_PROBE_LOAD "probe-load"
#define NVWA_PHASE_RESTORE "restore"		/* and "restore/PID" per app */
#define NVWA_PHASE_RESTORE_RETRY "restore-retry"
/* Kept pages put back into restored processes ("keep-give/PID"). */
#define NVWA_PHASE_KEEP_GIVE "keep-give"
#define NVWA_PHASE_APP_RUNNING "app-running"
#define NVWA_PHASE_LAZY_PAGES "lazy-pages"
#define NVWA_PHASE_FIRST_SYSCALL "first-syscall"
#define NVWA_PHASE_CPU_ONLINE "cpu-online"

enum nvwa_domain {
	NVWA_DOMAIN_OLD,	/* old kernel, measured by nvwa in userspace */
	NVWA_DOMAIN_BOOT,	/* new kernel before userspace, from its log */
	NVWA_DOMAIN_NEW,	/* new kernel, measured by nvwa in userspace */
	NVWA_DOMAIN_PROBE,	/* old kernel after the reboot call, by eBPF */
	NVWA_DOMAIN_MAX,
};

struct nvwa_phase {
	char name[NVWA_PHASE_NAME_MAX];
	uint32_t domain;	/* enum nvwa_domain */
	uint64_t start;		/* TSC */
	uint64_t end;		/* TSC, >= start */
};

struct nvwa_timeline {
	uint64_t tsc_khz;	/* cycles per millisecond */
	uint32_t nphases;
	struct nvwa_phase phases[NVWA_MAX_PHASES];
};

/* Appends a phase; -ENOSPC when full, -EINVAL for a bad name or end < start. */
int timeline_add(struct nvwa_timeline *tl, const char *name,
		 enum nvwa_domain domain, uint64_t start, uint64_t end);
/* The first phase with this name, or NULL. */
const struct nvwa_phase *timeline_find(const struct nvwa_timeline *tl,
				       const char *name);
const char *timeline_domain_name(enum nvwa_domain domain);
/*
 * The downtime: from the start of the freeze to the end of app-running,
 * when the applications run again.  Returns 0 and the two TSC readings,
 * or -ENODATA if the update did not get that far (or the two disagree).
 */
int timeline_downtime(const struct nvwa_timeline *tl, uint64_t *ret_start,
		      uint64_t *ret_end);
/* The same in milliseconds. */
int timeline_downtime_ms(const struct nvwa_timeline *tl, double *ret_ms);
/*
 * Copies the phases into @ret (NVWA_MAX_PHASES long) in the order a
 * reader wants them: by start; at the same start the old kernel first,
 * then the enclosing (longer) phase.  Returns how many.
 */
uint32_t timeline_sorted(const struct nvwa_timeline *tl, struct nvwa_phase *ret);

#endif
