/* SPDX-License-Identifier: GPL-2.0 */
/* nvwa's side of the probes: load, attach, read. */
#ifndef NVWA_BPF_PROBES_H
#define NVWA_BPF_PROBES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum probe_mode {
	PROBE_AUTO,	/* fentry/fexit where the kernel's BTF has the function */
	PROBE_KPROBE,	/* kprobes everywhere */
	PROBE_OFF,
};

struct shutdown_probes;

/*
 * Loads the shutdown probes for this process's reboot call and gives them
 * a pinmem area (SHUTDOWN_AREA, made anew) to write into.  @how says
 * which attach types were used ("fentry/fexit", "kprobe/kretprobe", or a
 * mix naming the functions that needed kprobes).  On failure nothing is
 * left loaded or allocated and @how says why.
 */
int shutdown_probes_start(enum probe_mode mode, struct shutdown_probes **ret,
			  char *how, size_t howlen);
/* Right before the reboot call: the clock reading that anchors the times. */
void shutdown_probes_arm(struct shutdown_probes *p);
/* Detaches; removes the area too unless the kexec is under way. */
void shutdown_probes_stop(struct shutdown_probes *p, int keep_area);
struct nvwa_handover;
/*
 * In the next kernel: adds what the probes left in the area to @h (see
 * probebuf_merge(), whose return and @why it passes on) and removes the
 * area, read or refused.
 */
int shutdown_probes_collect(struct nvwa_handover *h, char *why, size_t whylen);

struct firstrun_probe;

int firstrun_start(struct firstrun_probe **ret, char *why, size_t whylen);
int firstrun_watch(struct firstrun_probe *f, pid_t pid);
/*
 * Waits up to @timeout_ms for @pid's first system call of its own; on
 * success *@ret_ns is its CLOCK_MONOTONIC time and *@ret_nr the call.
 * -ETIMEDOUT if it made none (an application asleep in a system call
 * that CRIU did not restart).
 */
int firstrun_wait(struct firstrun_probe *f, pid_t pid, int timeout_ms,
		  uint64_t *ret_ns, uint32_t *ret_nr);
void firstrun_stop(struct firstrun_probe *f);

#endif
