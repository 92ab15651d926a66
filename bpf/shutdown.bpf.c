// SPDX-License-Identifier: GPL-2.0
/*
 * The old kernel's last second: kernel_kexec() down to machine_kexec(),
 * and every device device_shutdown() walks.  Nobody in userspace is left
 * to read a map by then, so each timestamp goes straight into nvwa's
 * mapping of a pinmem area (see shutdown.h), which the next kernel keeps.
 *
 * Every program is built twice, as fentry/fexit and as kprobe/kretprobe;
 * the loader keeps one of each pair (fentry where the kernel's BTF has
 * the function).
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "bpf/kernel.h"
#include "bpf/shutdown.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load. */
const volatile __u32 target_tgid;	/* nvwa: the reboot syscall's caller */
const volatile __u64 buf_addr;		/* its mapping of the area */
const volatile __u32 max_devs;

__u32 ndevs;
__u32 write_errors;
__u32 in_walk;				/* inside device_shutdown() */

#define OFF(field) __builtin_offsetof(struct shutdown_buf, field)

static __always_inline int ours(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

static __always_inline void put(__u64 off, const void *src, __u32 len)
{
	if (!bpf_probe_write_user((void *)(buf_addr + off), src, len))
		return;
	write_errors++;
	bpf_probe_write_user((void *)(buf_addr + OFF(write_errors)),
			     &write_errors, sizeof(write_errors));
}

static __always_inline int mark(enum shutdown_event ev)
{
	__u64 now = bpf_ktime_get_ns();

	if (!ours())
		return 0;
	if (ev == EV_DEVICE_SHUTDOWN)
		in_walk = 1;
	else if (ev == EV_DEVICE_SHUTDOWN_RET)
		in_walk = 0;
	put(OFF(at_ns) + ev * sizeof(__u64), &now, sizeof(now));
	return 0;
}

static __always_inline int device(struct device *dev)
{
	struct shutdown_dev d = { .start_ns = bpf_ktime_get_ns() };
	const char *drv;
	__u32 i = ndevs;

	if (!ours() || !in_walk)
		return 0;
	ndevs = i + 1;
	put(OFF(ndevs), &ndevs, sizeof(ndevs));
	if (i >= max_devs)
		return 0;
	bpf_probe_read_kernel_str(d.name, sizeof(d.name),
				  BPF_CORE_READ(dev, kobj.name));
	drv = BPF_CORE_READ(dev, driver, name);
	if (!drv)
		drv = BPF_CORE_READ(dev, bus, name);
	if (drv)
		bpf_probe_read_kernel_str(d.driver, sizeof(d.driver), drv);
	put(OFF(devs) + (__u64)i * sizeof(d), &d, sizeof(d));
	return 0;
}

#define ENTRY(fn, ev)							\
SEC("fentry/" #fn) int BPF_PROG(fentry_##fn) { return mark(ev); }	\
SEC("kprobe/" #fn) int BPF_KPROBE(kprobe_##fn) { return mark(ev); }

#define EXIT(fn, ev)							\
SEC("fexit/" #fn) int BPF_PROG(fexit_##fn) { return mark(ev); }	\
SEC("kretprobe/" #fn) int BPF_KRETPROBE(kretprobe_##fn) { return mark(ev); }

ENTRY(kernel_kexec, EV_KERNEL_KEXEC)
ENTRY(kernel_restart_prepare, EV_RESTART_PREPARE)
EXIT(kernel_restart_prepare, EV_RESTART_PREPARE_RET)
ENTRY(device_shutdown, EV_DEVICE_SHUTDOWN)
EXIT(device_shutdown, EV_DEVICE_SHUTDOWN_RET)
ENTRY(syscore_shutdown, EV_SYSCORE_SHUTDOWN)
EXIT(syscore_shutdown, EV_SYSCORE_SHUTDOWN_RET)
ENTRY(machine_shutdown, EV_MACHINE_SHUTDOWN)
EXIT(machine_shutdown, EV_MACHINE_SHUTDOWN_RET)
ENTRY(machine_kexec, EV_MACHINE_KEXEC)

SEC("fentry/pm_runtime_barrier")
int BPF_PROG(fentry_pm_runtime_barrier, struct device *dev)
{
	return device(dev);
}

SEC("kprobe/pm_runtime_barrier")
int BPF_KPROBE(kprobe_pm_runtime_barrier, struct device *dev)
{
	return device(dev);
}
