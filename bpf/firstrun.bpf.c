// SPDX-License-Identifier: GPL-2.0
/*
 * When does a restored application really run again?  CRIU's restorer
 * ends each thread with rt_sigreturn into the application's saved
 * registers; CRIU may still hold the thread under ptrace after that (to
 * unmap the restorer, with system calls it injects), so the first system
 * call made after the sigreturn by a thread nobody traces is the
 * application's own.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "bpf/firstrun.h"
#include "bpf/kernel.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 nr_rt_sigreturn;	/* set by the loader: it is per arch */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FIRSTRUN_MAX_APPS);
	__type(key, __u32);
	__type(value, struct firstrun_app);
} apps SEC(".maps");

/* Wakes the loader: the PID of each application seen running. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} running SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, nr = ctx->args[1];
	struct firstrun_app *app;
	struct task_struct *task;

	app = bpf_map_lookup_elem(&apps, &tgid);
	if (!app || app->first_ns)
		return 0;
	if (nr == nr_rt_sigreturn) {
		app->sigreturn_ns = bpf_ktime_get_ns();
		return 0;
	}
	task = (struct task_struct *)bpf_get_current_task();
	if (!app->sigreturn_ns || BPF_CORE_READ(task, ptrace))
		return 0;
	app->nr = nr;
	app->tid = (__u32)id;
	app->first_ns = bpf_ktime_get_ns();
	bpf_ringbuf_output(&running, &tgid, sizeof(tgid), 0);
	return 0;
}
