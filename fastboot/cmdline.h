/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The next kernel's command line: the running one's, with one-shot
 * parameters dropped, the operator's additions applied and nvwa's own
 * parameter (where the handover record is) added.  The reservations that
 * hold preserved memory must carry over unchanged, or the new kernel would
 * hand the preserved pages out as ordinary RAM.
 */
#ifndef NVWA_CMDLINE_H
#define NVWA_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

/* x86's COMMAND_LINE_SIZE, including the NUL. */
#define KERNEL_CMDLINE_MAX 2048

/* The parameter that tells the new kernel's userspace where to look. */
#define NVWA_HANDOVER_PARAM "nvwa.handover"
/* nvwa.restore=lazy: how nvwa restore brings memory back; one update only. */
#define NVWA_RESTORE_PARAM "nvwa.restore"
/*
 * nvwa.cpus=defer: nvwa added maxcpus= for this boot only, and nvwa
 * restore brings the other CPUs up once the applications run.  Both go
 * when the next command line is composed.
 */
#define NVWA_CPUS_PARAM "nvwa.cpus"
/*
 * nvwa.units=A.service,B.service: the system services this boot restores
 * as services (nvwa's systemd generator reads it); nvwa.lastpid=N: the
 * highest PID it restores, which the generator keeps free by moving the
 * boot's next PID past it.  One update only, like the others.
 * nvwa.reserve_pids=A,B-C: for the nvwa kernel (pid-reserve), which holds
 * those PIDs free from its first fork on; at most NVWA_RESERVE_PIDS_MAX.
 */
#define NVWA_UNITS_PARAM "nvwa.units"
#define NVWA_LASTPID_PARAM "nvwa.lastpid"
#define NVWA_RESERVE_PIDS_PARAM "nvwa.reserve_pids"
#define NVWA_RESERVE_PIDS_MAX 64
/*
 * nvwa.keep=ADDR: for the nvwa kernel (pin-anon), the list of the frames
 * the update handed over in place.  nvwa.nokaslr: nvwa added nokaslr for
 * this boot (a bzImage's decompressor must not land on a kept frame), so
 * the next command line drops it unless the operator asks for it.
 */
#define NVWA_KEEP_PARAM "nvwa.keep"
#define NVWA_NOKASLR_PARAM "nvwa.nokaslr"
/*
 * deferred_page_init=async|sync: for the nvwa kernel (memmap-bg), whether
 * /init waits for the struct pages of most of memory.  Not nvwa's own: an
 * operator's value is carried over like any other.
 */
#define MEMMAP_BG_PARAM "deferred_page_init"

/*
 * memmap=SIZE!START: legacy persistent memory (e820 type 12); or, found
 * with cmdline_find_memmap(), memmap=SIZE$START: reserved RAM (pinmem's).
 */
struct pmem_reservation {
	unsigned long long size;
	unsigned long long start;
};

/* The running kernel's command line, stripped (free() it). */
int cmdline_read_running(char **ret);

/*
 * Finds the first memmap=SIZE!START on @cmdline.  -ENOENT if there is
 * none, -EINVAL if one is malformed.
 */
int cmdline_find_pmem(const char *cmdline, struct pmem_reservation *ret);
/*
 * Finds the @n-th (from 0) memmap=SIZE<@type>START on @cmdline, @type
 * being '!' or '$'.  -ENOENT if there are not that many, -EINVAL if one
 * up to it is malformed.
 */
int cmdline_find_memmap(const char *cmdline, char type, unsigned int n,
			struct pmem_reservation *ret);

/*
 * The value of the last KEY=VALUE parameter before "--" (quotes removed),
 * as the kernel would see it.  -ENOENT if absent, -ENAMETOOLONG if it does
 * not fit.
 */
int cmdline_get(const char *cmdline, const char *key, char *out, size_t size);
/* Whether KEY or KEY=VALUE is there before "--". */
bool cmdline_has(const char *cmdline, const char *key);

/*
 * Composes the next command line into @out: the running kernel's
 * parameters less the one-shot ones, then the operator's @append, then
 * nvwa's @own (e.g. "nvwa.handover=/dev/pmem0").  KEY=VALUE parameters
 * of a later group replace an earlier group's of the same key, except
 * for keys that may repeat (memmap, console), which are only
 * de-duplicated; one-shot keys in @append are dropped, being nvwa's to
 * set.  @append and @own may be NULL.  Returns the length, -E2BIG if the
 * result would exceed KERNEL_CMDLINE_MAX or @size, -EINVAL for an
 * unbalanced quote; @out is then the empty string.
 */
int cmdline_compose(const char *current, const char *append,
		    const char *own, char *out, size_t size);

#endif
