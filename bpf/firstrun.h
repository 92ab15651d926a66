/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The first system call of a restored application: the moment its own
 * code runs again.  Shared by firstrun.bpf.c and its loader.
 */
#ifndef NVWA_BPF_FIRSTRUN_H
#define NVWA_BPF_FIRSTRUN_H

#include <linux/types.h>

#define FIRSTRUN_MAX_APPS 64

/* Per restored process (key: its PID, the thread group id). */
struct firstrun_app {
	__u64 sigreturn_ns;	/* CRIU's restorer handed over (rt_sigreturn) */
	__u64 first_ns;		/* then the first call of the app's own; 0: none yet */
	__u32 nr;		/* which system call it was */
	__u32 tid;		/* and which thread made it */
};

#endif
