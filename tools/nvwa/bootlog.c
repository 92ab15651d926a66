// SPDX-License-Identifier: GPL-2.0
/*
 * The boot phases in the new kernel's log.  Every record is bytes from
 * outside: lengths bound every read, numbers that do not fit are refused,
 * and a record that is not "LEVEL,SEQ,USEC...;MESSAGE" is skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tools/nvwa/bootlog.h"

static const char *const mark_text[BOOTLOG_MARKS] = {
	[BOOTLOG_SMP_START] = "smp: Bringing up secondary CPUs",
	[BOOTLOG_SMP_DONE] = "smp: Brought up",
	[BOOTLOG_UNPACK_START] = "Trying to unpack rootfs image as initramfs",
	[BOOTLOG_UNPACK_DONE] = "Freeing initrd memory",
	[BOOTLOG_INITCALLS_DONE] = "Freeing unused kernel image",
	[BOOTLOG_RUN_INIT] = "Run /init as init process",
	[BOOTLOG_DEFERRED_PAGES] = "node 0 deferred pages initialised in ",
};

/* The line from @s to @end: is it @prefix, then anything? */
static bool starts_with(const char *s, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);

	return (size_t)(end - s) >= n && !memcmp(s, prefix, n);
}

/* Decimal digits at *@p, at least one, up to UINT64_MAX; moves *@p past them. */
static bool parse_dec(const char **p, const char *end, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;

	if (s == end || *s < '0' || *s > '9')
		return false;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		unsigned int d = (unsigned int)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*p = s;
	*ret = v;
	return true;
}

/*
 * /dev/kmsg's "LEVEL,SEQ,USEC,FLAGS[,...];MESSAGE\n[ KEY=VALUE\n]...": the
 * stamp, and the message's first line (dictionary lines are not ours).
 */
static bool parse_record(const char *p, const char *end, uint64_t *ret_us,
			 const char **ret_msg, const char **ret_msg_end)
{
	const char *msg, *nl;
	uint64_t level, seq, us;

	if (!parse_dec(&p, end, &level) || p == end || *p++ != ',' ||
	    !parse_dec(&p, end, &seq) || p == end || *p++ != ',' ||
	    !parse_dec(&p, end, &us) || p == end || (*p != ',' && *p != ';'))
		return false;
	msg = memchr(p, ';', (size_t)(end - p));
	if (!msg)
		return false;
	msg++;
	nl = memchr(msg, '\n', (size_t)(end - msg));
	*ret_us = us;
	*ret_msg = msg;
	*ret_msg_end = nl ? nl : end;
	return true;
}

/* Keeps the slowest BOOTLOG_SLOWEST_INITCALLS initcalls, slowest first. */
static void note_initcall(struct bootlog *b, const char *msg, const char *end,
			  uint64_t u)
{
	static const char after_text[] = " after ";
	struct bootlog_initcall c = { .end_us = u };
	const char *after, *name, *p;
	int i;

	if (!starts_with(msg, end, "initcall "))
		return;
	after = memmem(msg, (size_t)(end - msg), after_text, strlen(after_text));
	if (!after)
		return;
	p = after + strlen(after_text);
	if (!parse_dec(&p, end, &c.usecs))
		return;
	name = msg + strlen("initcall ");
	for (p = name; p < end && *p != '+' && *p != ' '; p++)
		;
	if (p == name)
		return;
	snprintf(c.name, sizeof(c.name), "%.*s", (int)(p - name), name);
	for (i = BOOTLOG_SLOWEST_INITCALLS - 1; i >= 0 && b->slow[i].usecs < c.usecs; i--)
		if (i + 1 < BOOTLOG_SLOWEST_INITCALLS)
			b->slow[i + 1] = b->slow[i];
	if (i + 1 < BOOTLOG_SLOWEST_INITCALLS)
		b->slow[i + 1] = c;
}

/* "nvwa.park: CPU..." lines: how each secondary CPU came up (park/kernel/). */
static void note_cpu(struct bootlog *b, const char *msg, const char *end,
		     uint64_t u)
{
	static const char prefix[] = "nvwa.park: CPU", online[] = ", online after ";
	struct bootlog_cpu c = { .end_us = u };
	const char *p = msg + strlen(prefix), *w, *we;
	uint64_t cpu;

	if (b->ncpus == BOOTLOG_MAX_CPUS || !starts_with(msg, end, prefix) ||
	    !parse_dec(&p, end, &cpu) || cpu > UINT32_MAX)
		return;
	c.cpu = (uint32_t)cpu;
	if (memmem(p, (size_t)(end - p), " woken from park: ", 18)) {
		c.parked = true;
	} else {
		w = memmem(p, (size_t)(end - p), "started with INIT/SIPI (", 24);
		if (!w)
			return;
		w += 24;
		we = memchr(w, ')', (size_t)(end - w));
		if (!we)
			return;
		snprintf(c.why, sizeof(c.why), "%.*s", (int)(we - w), w);
	}
	p = memmem(p, (size_t)(end - p), online, strlen(online));
	if (!p)
		return;
	p += strlen(online);
	if (!parse_dec(&p, end, &c.online_us) || c.online_us > u)
		return;
	b->cpu[b->ncpus++] = c;
}

void bootlog_init(struct bootlog *b, const char *marker)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->marker, sizeof(b->marker), "%s", marker);
	b->first_us = UINT64_MAX;
}

bool bootlog_feed(struct bootlog *b, const void *rec, size_t len)
{
	/* A NUL ends the record, as it ends the C string the kernel wrote. */
	const char *p = rec, *end = p + strnlen(p, len), *msg, *msg_end;
	uint64_t u;

	if (b->seen_marker)
		return true;
	if (!parse_record(p, end, &u, &msg, &msg_end))
		return false;
	if (u < b->first_us)
		b->first_us = u;
	note_initcall(b, msg, msg_end, u);
	note_cpu(b, msg, msg_end, u);
	for (int m = 0; m < BOOTLOG_MARKS; m++) {
		const char *num;

		if (b->seen[m] || !starts_with(msg, msg_end, mark_text[m]))
			continue;
		num = msg + strlen(mark_text[m]);
		/* Deferred memmap init runs in a kthread; its line says how long. */
		if (m == BOOTLOG_DEFERRED_PAGES &&
		    !parse_dec(&num, msg_end, &b->deferred_ms))
			continue;
		b->seen[m] = true;
		b->usec[m] = u;
	}
	if (starts_with(msg, msg_end, b->marker)) {
		b->seen_marker = true;
		b->marker_us = u;
	}
	return b->seen_marker;
}

static void add(struct bootlog_phases *p, const char *name, uint64_t start,
		uint64_t end)
{
	if (end >= start && p->nphases < BOOTLOG_MAX_PHASES)
		p->phase[p->nphases++] = (struct bootlog_phase){ name, start, end };
}

int bootlog_phases(const struct bootlog *b, struct bootlog_phases *ret)
{
	const bool *seen = b->seen;
	const uint64_t *u = b->usec;
	struct bootlog_phases p = {
		.first_us = b->first_us,
		.marker_us = b->marker_us,
	};

	if (!b->seen_marker)
		return -ENODATA;
	if (seen[BOOTLOG_SMP_START])
		add(&p, NVWA_PHASE_KERNEL_EARLY, b->first_us, u[BOOTLOG_SMP_START]);
	if (seen[BOOTLOG_SMP_START] && seen[BOOTLOG_SMP_DONE])
		add(&p, NVWA_PHASE_SMP_BRINGUP, u[BOOTLOG_SMP_START], u[BOOTLOG_SMP_DONE]);
	if (seen[BOOTLOG_SMP_DONE] && seen[BOOTLOG_INITCALLS_DONE])
		add(&p, NVWA_PHASE_INITCALLS, u[BOOTLOG_SMP_DONE], u[BOOTLOG_INITCALLS_DONE]);
	if (seen[BOOTLOG_UNPACK_START] && seen[BOOTLOG_UNPACK_DONE])
		add(&p, NVWA_PHASE_INITRAMFS_UNPACK, u[BOOTLOG_UNPACK_START],
		    u[BOOTLOG_UNPACK_DONE]);
	/* Not "ms * 1000 <= us": a hostile ms must not wrap around. */
	if (seen[BOOTLOG_DEFERRED_PAGES] &&
	    b->deferred_ms <= u[BOOTLOG_DEFERRED_PAGES] / 1000)
		add(&p, NVWA_PHASE_MEMMAP_DEFERRED,
		    u[BOOTLOG_DEFERRED_PAGES] - b->deferred_ms * 1000,
		    u[BOOTLOG_DEFERRED_PAGES]);
	if (seen[BOOTLOG_RUN_INIT]) {
		add(&p, NVWA_PHASE_INIT_START, u[BOOTLOG_RUN_INIT], u[BOOTLOG_RUN_INIT]);
		p.init_started = true;
		p.init_us = u[BOOTLOG_RUN_INIT];
	}
	for (int i = 0; i < BOOTLOG_SLOWEST_INITCALLS && b->slow[i].usecs; i++)
		if (b->slow[i].end_us >= b->slow[i].usecs)
			p.initcall[p.ninitcalls++] = b->slow[i];
	for (size_t i = 0; i < b->ncpus; i++) {
		p.cpu[p.ncpus++] = b->cpu[i];
		p.ncpus_parked += b->cpu[i].parked;
	}
	*ret = p;
	return 0;
}
