// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/probebuf.h"
#include "bpf/shutdown.h"
#include "common/tsc.h"
#include "common/util.h"

/* The probes fire within seconds of nvwa's clock reading; 10 min is generous. */
#define MAX_SPAN_NS (600ull * 1000000000ull)

static const char *const event_name[EV_MAX] = {
	[EV_KERNEL_KEXEC] = "kernel_kexec",
	[EV_RESTART_PREPARE] = "kernel_restart_prepare",
	[EV_DEVICE_SHUTDOWN] = "device_shutdown",
	[EV_DEVICE_SHUTDOWN_RET] = "device_shutdown return",
	[EV_RESTART_PREPARE_RET] = "kernel_restart_prepare return",
	[EV_SYSCORE_SHUTDOWN] = "syscore_shutdown",
	[EV_SYSCORE_SHUTDOWN_RET] = "syscore_shutdown return",
	[EV_MACHINE_SHUTDOWN] = "machine_shutdown",
	[EV_MACHINE_SHUTDOWN_RET] = "machine_shutdown return",
	[EV_MACHINE_KEXEC] = "machine_kexec",
};

/* Phases built from a pair of events; a point when both are one. */
static const struct {
	const char *phase;
	enum shutdown_event from, to;
} spans[] = {
	{ NVWA_PHASE_KERNEL_KEXEC, EV_KERNEL_KEXEC, EV_MACHINE_KEXEC },
	{ NVWA_PHASE_RESTART_PREPARE, EV_RESTART_PREPARE, EV_RESTART_PREPARE_RET },
	{ NVWA_PHASE_DEVICE_SHUTDOWN, EV_DEVICE_SHUTDOWN, EV_DEVICE_SHUTDOWN_RET },
	{ NVWA_PHASE_SYSCORE_SHUTDOWN, EV_SYSCORE_SHUTDOWN, EV_SYSCORE_SHUTDOWN_RET },
	{ NVWA_PHASE_MACHINE_SHUTDOWN, EV_MACHINE_SHUTDOWN, EV_MACHINE_SHUTDOWN_RET },
	{ NVWA_PHASE_MACHINE_KEXEC, EV_MACHINE_KEXEC, EV_MACHINE_KEXEC },
};

static uint64_t to_tsc(const struct shutdown_buf *b, uint64_t khz, uint64_t ns)
{
	return b->clock_tsc + tsc_cycles(ns - b->clock_ns, khz);
}

static int check_time(const struct shutdown_buf *b, uint64_t ns,
		      const char *what, char *why, size_t whylen)
{
	if (ns < b->clock_ns || ns - b->clock_ns > MAX_SPAN_NS)
		return set_why(why, whylen, -EBADMSG,
			       "%s at %" PRIu64 " ns is not within 10 min after nvwa's clock reading (%" PRIu64 " ns)",
			       what, ns, (uint64_t)b->clock_ns);
	return 0;
}

static int check_header(const struct shutdown_buf *b, size_t len,
			char *why, size_t whylen)
{
	uint64_t last = 0;
	int r;

	if (len < sizeof(*b))
		return set_why(why, whylen, -EBADMSG,
			       "%zu bytes, the header alone is %zu", len, sizeof(*b));
	if (b->magic != SHUTDOWN_MAGIC)
		return set_why(why, whylen, -EBADMSG, "bad magic 0x%016" PRIx64,
			       (uint64_t)b->magic);
	if (b->version != SHUTDOWN_VERSION)
		return set_why(why, whylen, -EBADMSG,
			       "version %u, this nvwa reads version %u",
			       b->version, SHUTDOWN_VERSION);
	if (b->max_devs > SHUTDOWN_MAX_DEVS ||
	    SHUTDOWN_BUF_SIZE((size_t)b->max_devs) > len)
		return set_why(why, whylen, -EBADMSG,
			       "room for %u devices claimed, %zu bytes present",
			       b->max_devs, len);
	if (!b->clock_ns || !b->clock_tsc)
		return set_why(why, whylen, -EBADMSG,
			       "no clock reading: the update did not reach the reboot");
	for (int ev = 0; ev < EV_MAX; ev++) {
		if (!b->at_ns[ev])
			continue;
		r = check_time(b, b->at_ns[ev], event_name[ev], why, whylen);
		if (r < 0)
			return r;
		if (b->at_ns[ev] < last)
			return set_why(why, whylen, -EBADMSG,
				       "%s is earlier than the call before it", event_name[ev]);
		last = b->at_ns[ev];
	}
	if (!last)
		return set_why(why, whylen, -ENODATA, "no probe fired");
	return 0;
}

static int check_devs(const struct shutdown_buf *b, uint32_t n,
		      char *why, size_t whylen)
{
	uint64_t lo = b->at_ns[EV_DEVICE_SHUTDOWN];
	uint64_t hi = b->at_ns[EV_DEVICE_SHUTDOWN_RET];

	if (n && (!lo || !hi))
		return set_why(why, whylen, -EBADMSG,
			       "%u devices, but device_shutdown was not seen entering and returning", n);
	for (uint32_t i = 0; i < n; i++) {
		const struct shutdown_dev *d = &b->devs[i];

		if (!memchr(d->name, '\0', sizeof(d->name)) ||
		    !memchr(d->driver, '\0', sizeof(d->driver)))
			return set_why(why, whylen, -EBADMSG,
				       "device %u: a name is not NUL-terminated", i);
		if (!d->name[0])
			return set_why(why, whylen, -EBADMSG, "device %u has no name", i);
		if (d->start_ns < lo || d->start_ns > hi ||
		    (i && d->start_ns < b->devs[i - 1].start_ns))
			return set_why(why, whylen, -EBADMSG,
				       "device %u (%s) starts out of order or outside device_shutdown",
				       i, d->name);
	}
	return 0;
}

int probebuf_merge(const void *buf, size_t len, struct nvwa_handover *h,
		   char *why, size_t whylen)
{
	const struct shutdown_buf *b = buf;
	uint64_t khz = h->timeline.tsc_khz;
	uint32_t n, nphases = 0;
	struct nvwa_handover *out;
	int r;

	r = check_header(b, len, why, whylen);
	if (r < 0)
		return r;
	n = b->ndevs < b->max_devs ? b->ndevs : b->max_devs;
	r = check_devs(b, n, why, whylen);
	if (r < 0)
		return r;
	if (!khz)
		return set_why(why, whylen, -EINVAL, "the record has no TSC frequency");

	/* Built on a copy: @h is left as it was if anything does not fit. */
	out = malloc(sizeof(*out));
	if (!out)
		return set_why(why, whylen, -ENOMEM, "out of memory");
	memcpy(out, h, sizeof(*out));
	for (size_t i = 0; i < sizeof(spans) / sizeof(spans[0]); i++) {
		uint64_t from = b->at_ns[spans[i].from], to = b->at_ns[spans[i].to];

		if (!from || !to)
			continue;
		r = timeline_add(&out->timeline, spans[i].phase, NVWA_DOMAIN_PROBE,
				 to_tsc(b, khz, from), to_tsc(b, khz, to));
		if (r < 0)
			goto full;
		nphases++;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint64_t end = i + 1 < n ? b->devs[i + 1].start_ns :
					   b->at_ns[EV_DEVICE_SHUTDOWN_RET];

		r = handover_add_item(out, "device", b->devs[i].name,
				      b->devs[i].driver,
				      to_tsc(b, khz, b->devs[i].start_ns),
				      to_tsc(b, khz, end));
		if (r < 0)
			goto full;
	}
	memcpy(h, out, sizeof(*h));
	free(out);
	if (b->write_errors || b->ndevs > n)
		set_why(why, whylen, 0, "%u write(s) lost, %u device(s) beyond the buffer",
			b->write_errors, b->ndevs - n);
	else if (why && whylen)
		why[0] = '\0';
	return (int)nphases;
full:
	free(out);
	return set_why(why, whylen, -ENOSPC,
		       "the record has no room for the shutdown's phases and %u devices", n);
}

int probebuf_merge_shared(const void *shared, size_t len, struct nvwa_handover *h,
			  char *why, size_t whylen)
{
	void *copy = malloc(len ? len : 1);
	int r;

	if (!copy)
		return set_why(why, whylen, -ENOMEM, "no memory for a copy of %zu bytes", len);
	memcpy(copy, shared, len);
	r = probebuf_merge(copy, len, h, why, whylen);
	free(copy);
	return r;
}
