// SPDX-License-Identifier: GPL-2.0
/*
 * The new kernel's boot phases, from its own log.
 *
 * printk stamps each record with local_clock(), which on x86 runs off the
 * TSC.  Writing a marker to /dev/kmsg between two TSC reads ties that
 * clock to the TSC, so every boot message lands on the update's timeline
 * next to the old kernel's last reading.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/tsc.h"
#include "common/util.h"
#include "tools/nvwa/nvwa.h"

/* Log messages that open or close a phase, in boot order. */
enum mark {
	M_SMP_START,
	M_SMP_DONE,
	M_UNPACK_START,
	M_UNPACK_DONE,
	M_INITCALLS_DONE,
	M_RUN_INIT,
	M_DEFERRED_PAGES,
	M_MARKER,
	M_MAX,
};

static const char *const mark_text[M_MARKER] = {
	[M_SMP_START] = "smp: Bringing up secondary CPUs",
	[M_SMP_DONE] = "smp: Brought up",
	[M_UNPACK_START] = "Trying to unpack rootfs image as initramfs",
	[M_UNPACK_DONE] = "Freeing initrd memory",
	[M_INITCALLS_DONE] = "Freeing unused kernel image",
	[M_RUN_INIT] = "Run /init as init process",
	[M_DEFERRED_PAGES] = "node 0 deferred pages initialised in ",
};

#define SLOWEST_INITCALLS 10

struct initcall {
	char name[NVWA_ITEM_NAME_MAX];
	uint64_t end_us, usecs;
};

/*
 * initcall_debug's "initcall NAME+0x0/0x40 returned 0 after 123 usecs":
 * keeps the slowest SLOWEST_INITCALLS, slowest first.
 */
static void note_initcall(struct initcall *slow, const char *msg, uint64_t u)
{
	unsigned long long usecs;
	struct initcall c = { .end_us = u };
	const char *after;
	size_t len;
	int i;

	if (strncmp(msg, "initcall ", 9) || !(after = strstr(msg, " after ")) ||
	    sscanf(after, " after %llu usecs", &usecs) != 1)
		return;
	msg += 9;
	len = strcspn(msg, "+ ");
	if (!len)
		return;
	snprintf(c.name, sizeof(c.name), "%.*s", (int)len, msg);
	c.usecs = usecs;
	for (i = SLOWEST_INITCALLS - 1; i >= 0 && slow[i].usecs < c.usecs; i--)
		if (i + 1 < SLOWEST_INITCALLS)
			slow[i + 1] = slow[i];
	if (i + 1 < SLOWEST_INITCALLS)
		slow[i + 1] = c;
}

static void add(struct nvwa_timeline *tl, const char *name,
		enum nvwa_domain domain, uint64_t start, uint64_t end)
{
	if (start && end >= start)
		timeline_add(tl, name, domain, start, end);
}

int kmsg_add_boot_phases(struct nvwa_handover *h, uint64_t kexec_tsc,
			 uint64_t restore_tsc)
{
	struct nvwa_timeline *tl = &h->timeline;
	struct initcall slow[SLOWEST_INITCALLS] = { 0 };
	uint64_t usec[M_MAX] = { 0 }, first = UINT64_MAX, t0, t1, mid;
	int seen[M_MAX] = { 0 };
	unsigned long deferred_ms = 0;
	char marker[64], rec[8192];
	uint32_t before = tl->nphases;
	int fd;

#define AT(u) (mid - (usec[M_MARKER] - (u)) * tl->tsc_khz / 1000)

	fd = open("/dev/kmsg", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return log_warn_errno(-errno, "Cannot open /dev/kmsg (%m): no boot phases in the report");
	/*
	 * The newline matters: the kernel keeps a record without one open for
	 * continuation, and an open record cannot be read back yet.
	 */
	xsnprintf(marker, sizeof(marker), "nvwa: tsc marker %d-%" PRIx64 "\n",
		  getpid(), tsc_read());
	t0 = tsc_read();
	if (write(fd, marker, strlen(marker)) < 0) {
		close(fd);
		return log_warn_errno(-errno, "Cannot write to /dev/kmsg (%m): no boot phases in the report");
	}
	t1 = tsc_read();
	mid = t0 + (t1 - t0) / 2;
	marker[strlen(marker) - 1] = '\0';

	for (;;) {
		unsigned long long u;
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		char *msg;

		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten while reading: skip */
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		if (!msg || sscanf(rec, "%*u,%*u,%llu", &u) != 1)
			continue;
		msg++;
		if (u < first)
			first = u;
		note_initcall(slow, msg, u);
		for (int m = 0; m < M_MARKER; m++)
			if (!seen[m] && !strncmp(msg, mark_text[m], strlen(mark_text[m]))) {
				seen[m] = 1;
				usec[m] = u;
				if (m == M_DEFERRED_PAGES)
					deferred_ms = strtoul(msg + strlen(mark_text[m]), NULL, 10);
			}
		if (!strncmp(msg, marker, strlen(marker))) {
			seen[M_MARKER] = 1;
			usec[M_MARKER] = u;
			break;
		}
	}
	close(fd);
	if (!seen[M_MARKER] || first == UINT64_MAX || !tl->tsc_khz)
		return log_warn_errno(-ENODATA, "The kernel log did not show nvwa's marker: no boot phases in the report");

	/* Before the kernel's clock starts, its log is stamped 0. */
	if (kexec_tsc && AT(first) > kexec_tsc)
		add(tl, NVWA_PHASE_KEXEC_JUMP, NVWA_DOMAIN_BOOT, kexec_tsc, AT(first));
	if (seen[M_SMP_START])
		add(tl, NVWA_PHASE_KERNEL_EARLY, NVWA_DOMAIN_BOOT, AT(first), AT(usec[M_SMP_START]));
	if (seen[M_SMP_START] && seen[M_SMP_DONE])
		add(tl, NVWA_PHASE_SMP_BRINGUP, NVWA_DOMAIN_BOOT, AT(usec[M_SMP_START]), AT(usec[M_SMP_DONE]));
	if (seen[M_SMP_DONE] && seen[M_INITCALLS_DONE])
		add(tl, NVWA_PHASE_INITCALLS, NVWA_DOMAIN_BOOT, AT(usec[M_SMP_DONE]), AT(usec[M_INITCALLS_DONE]));
	if (seen[M_UNPACK_START] && seen[M_UNPACK_DONE])
		add(tl, NVWA_PHASE_INITRAMFS_UNPACK, NVWA_DOMAIN_BOOT, AT(usec[M_UNPACK_START]), AT(usec[M_UNPACK_DONE]));
	/* Deferred memmap init runs in a kthread; its log line says how long. */
	if (seen[M_DEFERRED_PAGES] && usec[M_DEFERRED_PAGES] >= deferred_ms * 1000)
		add(tl, NVWA_PHASE_MEMMAP_DEFERRED, NVWA_DOMAIN_BOOT,
		    AT(usec[M_DEFERRED_PAGES] - deferred_ms * 1000), AT(usec[M_DEFERRED_PAGES]));
	if (seen[M_RUN_INIT]) {
		add(tl, NVWA_PHASE_INIT_START, NVWA_DOMAIN_BOOT, AT(usec[M_RUN_INIT]), AT(usec[M_RUN_INIT]));
		add(tl, NVWA_PHASE_USERSPACE_EARLY, NVWA_DOMAIN_NEW, AT(usec[M_RUN_INIT]), restore_tsc);
	}
	for (int i = 0; i < SLOWEST_INITCALLS && slow[i].usecs; i++)
		if (slow[i].end_us >= slow[i].usecs)
			handover_add_item(h, "initcall", slow[i].name, "",
					  AT(slow[i].end_us - slow[i].usecs), AT(slow[i].end_us));
#undef AT
	return (int)(tl->nphases - before);
}
