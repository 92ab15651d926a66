// SPDX-License-Identifier: GPL-2.0
/*
 * The shutdown probes' buffer as the new kernel finds it: what a good one
 * adds to the record, and every way a damaged one is refused whole.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/probebuf.h"
#include "bpf/shutdown.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

#define KHZ 2000000ull		/* 2 cycles per ns */
#define T0 1000000000ull	/* nvwa's clock reading, ns */
#define TSC0 5000000000ull

static struct shutdown_buf *good(size_t *len, uint32_t ndevs)
{
	struct shutdown_buf *b;

	*len = SHUTDOWN_BUF_SIZE(8);
	b = calloc(1, *len);
	b->magic = SHUTDOWN_MAGIC;
	b->version = SHUTDOWN_VERSION;
	b->max_devs = 8;
	b->clock_ns = T0;
	b->clock_tsc = TSC0;
	for (int ev = 0; ev < EV_MAX; ev++)
		b->at_ns[ev] = T0 + 1000 + ev * 100000ull;
	/* Devices between device_shutdown's entry (+201000) and return (+301000). */
	b->ndevs = ndevs;
	for (uint32_t i = 0; i < ndevs && i < 8; i++) {
		b->devs[i].start_ns = T0 + 210000 + i * 10000ull;
		snprintf(b->devs[i].name, sizeof(b->devs[i].name), "dev%u", i);
		strcpy(b->devs[i].driver, i % 2 ? "virtio-pci" : "");
	}
	return b;
}

static struct nvwa_handover *record(void)
{
	struct nvwa_handover *h = calloc(1, sizeof(*h));

	h->timeline.tsc_khz = KHZ;
	return h;
}

TEST(good_buffer_adds_phases_and_devices)
{
	size_t len;
	struct shutdown_buf *b = good(&len, 3);
	struct nvwa_handover *h = record();
	const struct nvwa_phase *p;
	char why[128];

	CHECK_EQ_INT(probebuf_merge(b, len, h, why, sizeof(why)), 6);
	CHECK_STREQ(why, "");
	p = timeline_find(&h->timeline, "device-shutdown");
	if (CHECK(p)) {
		CHECK_EQ_INT(p->domain, NVWA_DOMAIN_PROBE);
		CHECK_EQ_INT(p->start, TSC0 + 2 * 201000);
		CHECK_EQ_INT(p->end, TSC0 + 2 * 301000);
	}
	p = timeline_find(&h->timeline, "kernel-kexec");
	if (CHECK(p))
		CHECK_EQ_INT(p->end, TSC0 + 2 * (1000 + EV_MACHINE_KEXEC * 100000ull));
	p = timeline_find(&h->timeline, "machine-kexec");
	if (CHECK(p))
		CHECK_EQ_INT(p->start, p->end);
	if (CHECK_EQ_INT(h->nitems, 3)) {
		CHECK_STREQ(h->items[0].kind, "device");
		CHECK_STREQ(h->items[1].name, "dev1");
		CHECK_STREQ(h->items[1].detail, "virtio-pci");
		/* Each ends where the next starts; the last where the walk ends. */
		CHECK_EQ_INT(h->items[0].end, h->items[1].start);
		CHECK_EQ_INT(h->items[2].end, TSC0 + 2 * 301000);
	}
	free(b);
	free(h);
}

TEST(missing_calls_leave_their_phases_out)
{
	size_t len;
	struct shutdown_buf *b = good(&len, 0);
	struct nvwa_handover *h = record();
	char why[128];

	b->at_ns[EV_SYSCORE_SHUTDOWN_RET] = 0;
	b->at_ns[EV_MACHINE_KEXEC] = 0;
	CHECK_EQ_INT(probebuf_merge(b, len, h, why, sizeof(why)), 3);
	CHECK(!timeline_find(&h->timeline, "syscore-shutdown"));
	CHECK(!timeline_find(&h->timeline, "kernel-kexec"));
	free(b);
	free(h);
}

TEST(devices_beyond_the_buffer_are_counted)
{
	size_t len;
	struct shutdown_buf *b = good(&len, 11);
	struct nvwa_handover *h = record();
	char why[128];

	b->write_errors = 2;
	CHECK_EQ_INT(probebuf_merge(b, len, h, why, sizeof(why)), 6);
	CHECK_EQ_INT(h->nitems, 8);
	CHECK(strstr(why, "2 write(s) lost, 3 device(s) beyond the buffer"));
	free(b);
	free(h);
}

struct damage {
	const char *what;
	int err;
	const char *why;
};

static void damage(struct shutdown_buf *b, size_t *len, int i)
{
	switch (i) {
	case 0: b->magic ^= 1; break;
	case 1: b->version = SHUTDOWN_VERSION + 1; break;
	case 2: b->max_devs = 9; break;
	case 3: b->max_devs = SHUTDOWN_MAX_DEVS + 1; break;
	case 4: b->clock_ns = 0; break;
	case 5: b->at_ns[EV_SYSCORE_SHUTDOWN] = b->at_ns[EV_DEVICE_SHUTDOWN] - 1; break;
	case 6: b->at_ns[EV_RESTART_PREPARE] = T0 - 1; break;
	case 7: b->at_ns[EV_MACHINE_KEXEC] = T0 + 601000000000ull; break;
	case 8: memset(b->at_ns, 0, sizeof(b->at_ns)); break;
	case 9: memset(b->devs[1].name, 'x', sizeof(b->devs[1].name)); break;
	case 10: memset(b->devs[0].driver, 'x', sizeof(b->devs[0].driver)); break;
	case 11: b->devs[2].name[0] = '\0'; break;
	case 12: b->devs[2].start_ns = b->devs[1].start_ns - 1; break;
	case 13: b->devs[0].start_ns = b->at_ns[EV_DEVICE_SHUTDOWN] - 1; break;
	case 14: b->devs[2].start_ns = b->at_ns[EV_DEVICE_SHUTDOWN_RET] + 1; break;
	case 15: b->at_ns[EV_DEVICE_SHUTDOWN_RET] = 0; break;
	case 16: *len = sizeof(*b) - 1; break;
	case 17: *len = SHUTDOWN_BUF_SIZE(8) - 1; break;
	}
}

TEST(damaged_buffers_are_refused_whole)
{
	static const struct damage d[] = {
		{ "magic", -EBADMSG, "bad magic" },
		{ "version", -EBADMSG, "version 2, this nvwa reads version 1" },
		{ "capacity", -EBADMSG, "room for 9 devices" },
		{ "capacity cap", -EBADMSG, "room for 1025 devices" },
		{ "clock", -EBADMSG, "no clock reading" },
		{ "order", -EBADMSG, "syscore_shutdown is earlier than the call before it" },
		{ "before clock", -EBADMSG, "kernel_restart_prepare at 999999999 ns" },
		{ "far", -EBADMSG, "machine_kexec at" },
		{ "none", -ENODATA, "no probe fired" },
		{ "name", -EBADMSG, "device 1: a name is not NUL-terminated" },
		{ "driver", -EBADMSG, "device 0: a name is not NUL-terminated" },
		{ "empty", -EBADMSG, "device 2 has no name" },
		{ "dev order", -EBADMSG, "device 2 (dev2) starts out of order" },
		{ "dev early", -EBADMSG, "device 0 (dev0) starts out of order or outside" },
		{ "dev late", -EBADMSG, "device 2 (dev2) starts out of order or outside" },
		{ "no walk end", -EBADMSG, "3 devices, but device_shutdown was not seen" },
		{ "short", -EBADMSG, "the header alone is" },
		{ "truncated", -EBADMSG, "room for 8 devices claimed" },
	};

	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		size_t len;
		struct shutdown_buf *b = good(&len, 3);
		struct nvwa_handover *h = record();
		char why[256] = "";

		damage(b, &len, (int)i);
		CHECKF(probebuf_merge(b, len, h, why, sizeof(why)) == d[i].err,
		       "%s: expected %d (%s)", d[i].what, d[i].err, why);
		CHECKF(strstr(why, d[i].why) != NULL, "%s: reason \"%s\" does not say \"%s\"",
		       d[i].what, why, d[i].why);
		CHECKF(h->timeline.nphases == 0 && h->nitems == 0, "%s: record touched", d[i].what);
		free(b);
		free(h);
	}
}

TEST(a_full_record_is_left_untouched)
{
	size_t len;
	struct shutdown_buf *b = good(&len, 3);
	struct nvwa_handover *h = record();
	char why[128];

	h->nitems = NVWA_MAX_ITEMS - 1;
	for (uint32_t i = 0; i < h->nitems; i++) {
		strcpy(h->items[i].kind, "initcall");
		strcpy(h->items[i].name, "x");
	}
	CHECK_EQ_INT(probebuf_merge(b, len, h, why, sizeof(why)), -ENOSPC);
	CHECK_EQ_INT(h->nitems, NVWA_MAX_ITEMS - 1);
	CHECK_EQ_INT(h->timeline.nphases, 0);
	free(b);
	free(h);
}

/*
 * The buffer lives in a pinmem area anyone holding /dev/pinmem can write
 * while the new kernel's nvwa reads it.  A writer flips the capacity
 * between the buffer's own and a huge one as fast as it can, with more
 * devices walked than either (which a good buffer may say): read in
 * place, a capacity checked against the length could be used after it
 * changed (ASan would catch the read past the end); read through a
 * private copy, every merge either adds the good buffer or refuses it.
 */
struct flipper {
	volatile uint32_t *max_devs;
	volatile int stop;
};

static void *flip(void *arg)
{
	struct flipper *f = arg;

	while (!f->stop) {
		*f->max_devs = 0x7fffffff;
		*f->max_devs = 8;
	}
	return NULL;
}

TEST(shared_buffer_changing_under_the_reader_is_never_trusted)
{
	size_t len;
	struct shutdown_buf *b = good(&len, 8);
	struct nvwa_handover *h = record();
	struct flipper f = { .max_devs = &b->max_devs };
	int bad = 0, accepted = 0;

	/* More devices walked than the buffer holds: allowed, and said. */
	b->ndevs = 0x7fffffff;
	pthread_t t;
	char why[128];

	if (!CHECK_EQ_INT(pthread_create(&t, NULL, flip, &f), 0))
		return;
	for (int i = 0; i < 20000; i++) {
		int r = probebuf_merge_shared(b, len, h, why, sizeof(why));

		if (r == 6)
			accepted++;
		else if (r != -EBADMSG)
			bad++;
		h->timeline.nphases = 0;
		h->nitems = 0;
	}
	f.stop = 1;
	pthread_join(t, NULL);
	CHECK_EQ_INT(bad, 0);
	CHECK(accepted > 0);
	free(b);
	free(h);
}
