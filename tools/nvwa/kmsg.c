// SPDX-License-Identifier: GPL-2.0
/*
 * The new kernel's boot phases, from its own log: read here, parsed by
 * bootlog.c.
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
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/tsc.h"
#include "common/util.h"
#include "tools/nvwa/bootlog.h"
#include "tools/nvwa/nvwa.h"
#include "tools/nvwa/sdboot.h"

void kmsg_note(const char *msg)
{
	char line[256];
	ssize_t n;
	int fd;

	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	/*
	 * Debug level (7): in the log, but not printed on a console at the
	 * default loglevel, which on a serial console would add
	 * milliseconds to the downtime.
	 */
	xsnprintf(line, sizeof(line), "<7>nvwa: %s\n", msg);
	n = write(fd, line, strlen(line));
	(void)n;
	close(fd);
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
	struct bootlog blog;
	struct bootlog_phases bp;
	uint64_t t0, t1, mid;
	char marker[BOOTLOG_MARKER_MAX], rec[8192];
	uint32_t before = tl->nphases;
	int fd;

#define AT(u) (mid - (bp.marker_us - (u)) * tl->tsc_khz / 1000)

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

	bootlog_init(&blog, marker);
	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec));

		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten while reading: skip */
		if (n <= 0 || bootlog_feed(&blog, rec, (size_t)n))
			break;
	}
	close(fd);
	if (bootlog_phases(&blog, &bp) < 0 || !tl->tsc_khz)
		return log_warn_errno(-ENODATA, "The kernel log did not show nvwa's marker: no boot phases in the report");

	/* Before the kernel's clock starts, its log is stamped 0. */
	if (kexec_tsc && AT(bp.first_us) > kexec_tsc)
		add(tl, NVWA_PHASE_KEXEC_JUMP, NVWA_DOMAIN_BOOT, kexec_tsc, AT(bp.first_us));
	for (size_t i = 0; i < bp.nphases; i++)
		add(tl, bp.phase[i].name, NVWA_DOMAIN_BOOT, AT(bp.phase[i].start_us),
		    AT(bp.phase[i].end_us));
	if (bp.init_started && restore_tsc >= AT(bp.init_us))
		sdboot_add_phases(tl, AT(bp.init_us), restore_tsc);
	for (size_t i = 0; i < bp.ninitcalls; i++)
		handover_add_item(h, "initcall", bp.initcall[i].name, "",
				  AT(bp.initcall[i].end_us - bp.initcall[i].usecs),
				  AT(bp.initcall[i].end_us));
	for (size_t i = 0; i < bp.ncpus; i++) {
		char name[16], why[BOOTLOG_CPU_WHY_MAX + 16];

		xsnprintf(name, sizeof(name), "CPU%" PRIu32, bp.cpu[i].cpu);
		xsnprintf(why, sizeof(why), "%s%s", bp.cpu[i].parked ? "park" : "INIT/SIPI: ",
			  bp.cpu[i].why);
		handover_add_item(h, "cpu", name, why,
				  AT(bp.cpu[i].end_us - bp.cpu[i].online_us),
				  AT(bp.cpu[i].end_us));
	}
	if (bp.ncpus)
		log_info("New kernel: %zu of %zu secondary CPUs woken from park", bp.ncpus_parked,
			 bp.ncpus);
#undef AT
	return (int)(tl->nphases - before);
}

int kmsg_find(const char *prefix, char *out, size_t size)
{
	char rec[8192], *msg, *end;
	size_t len = 0, plen = strlen(prefix);
	int fd, n = 0;

	if (size)
		out[0] = '\0';
	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t got = read(fd, rec, sizeof(rec) - 1);

		if (got < 0 && errno == EPIPE)
			continue;	/* overwritten while reading: skip */
		if (got <= 0)
			break;
		rec[got] = '\0';
		/* "PRIORITY,SEQ,USEC,FLAGS;MESSAGE\n" and continuation lines. */
		msg = strchr(rec, ';');
		if (!msg || strncmp(++msg, prefix, plen))
			continue;
		msg += plen;
		end = strchr(msg, '\n');
		if (end)
			*end = '\0';
		if (len < size) {
			int w = snprintf(out + len, size - len, "%s%s", n ? "; " : "", msg);

			len += w < 0 ? 0 : (size_t)w;
		}
		n++;
	}
	close(fd);
	return n;
}
