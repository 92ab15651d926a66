/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel types the probes read, declared with only the fields
 * they use.  preserve_access_index makes every access a CO-RE
 * relocation: libbpf finds the real offsets in the running kernel's BTF
 * at load time, so one object runs on any kernel that has the fields,
 * with no vmlinux.h from the build machine's kernel.
 */
#ifndef NVWA_BPF_KERNEL_H
#define NVWA_BPF_KERNEL_H

#define __core __attribute__((preserve_access_index))

struct kobject {
	const char *name;
} __core;

struct device_driver {
	const char *name;
} __core;

struct bus_type {
	const char *name;
} __core;

struct device {
	struct kobject kobj;
	struct bus_type *bus;
	struct device_driver *driver;
} __core;

struct task_struct {
	unsigned int ptrace;
} __core;

#endif
