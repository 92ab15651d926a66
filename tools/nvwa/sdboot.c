// SPDX-License-Identifier: GPL-2.0
/*
 * systemd's boot stamps, on the update's timeline (see sdboot.h).
 *
 * systemd records when it started in the initrd (InitRDTimestamp) and
 * when it started again in the real root after switch-root
 * (UserspaceTimestamp; without systemd in the initrd, its only start).
 * Both are CLOCK_MONOTONIC, which the TSC is tied to by one paired
 * reading, as the first-run probe's stamps are.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/tsc.h"
#include "common/util.h"
#include "tools/nvwa/sdboot.h"

/* The value of "@key=" on a line of @text, or -ENOENT. */
static int value_of(const char *text, const char *key, uint64_t *ret)
{
	size_t n = strlen(key);
	char num[24];

	for (const char *l = text; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		size_t len;

		if (strncmp(l, key, n) || l[n] != '=')
			continue;
		l += n + 1;
		len = strcspn(l, "\n");
		if (len >= sizeof(num))
			return -EINVAL;
		memcpy(num, l, len);
		num[len] = '\0';
		return parse_u64(strstrip(num), ret);
	}
	return -ENOENT;
}

int sdboot_parse(const char *text, struct sdboot_times *ret)
{
	struct sdboot_times t = { 0 };

	if (value_of(text, "UserspaceTimestampMonotonic", &t.userspace_us) < 0 ||
	    !t.userspace_us || t.userspace_us > UINT64_MAX / 1000)
		return -ENODATA;
	if (value_of(text, "InitRDTimestampMonotonic", &t.initrd_us) < 0 ||
	    t.initrd_us > UINT64_MAX / 1000)
		t.initrd_us = 0;
	*ret = t;
	return 0;
}

static void add(struct sdboot_phase *ret, size_t *n, const char *name,
		uint64_t start, uint64_t end)
{
	ret[(*n)++] = (struct sdboot_phase){ name, start, end };
}

size_t sdboot_split(const struct sdboot_times *t, uint64_t init_tsc,
		    uint64_t restore_tsc, uint64_t now_tsc, uint64_t now_ns,
		    uint64_t khz, struct sdboot_phase *ret)
{
	uint64_t us = t->userspace_us, ns, sw;
	size_t n = 0;

	if (!khz || !us || restore_tsc < init_tsc)
		return 0;
	/* Still in the initrd: systemd has not started in the real root. */
	if (t->initrd_us && us <= t->initrd_us) {
		add(ret, &n, NVWA_PHASE_INITRAMFS, init_tsc, restore_tsc);
		return n;
	}
	ns = us * 1000;
	if (ns > now_ns || tsc_cycles(now_ns - ns, khz) > now_tsc)
		return 0;
	sw = now_tsc - tsc_cycles(now_ns - ns, khz);
	/*
	 * The kernel log's clock and CLOCK_MONOTONIC are tied to the TSC
	 * apart, so a switch a hair before /init is at /init; a switch after
	 * the restore started means the restore ran before it (from the
	 * initramfs), and systemd says nothing about this span.
	 */
	if (sw > restore_tsc)
		return 0;
	if (sw < init_tsc)
		sw = init_tsc;
	add(ret, &n, NVWA_PHASE_INITRAMFS, init_tsc, sw);
	add(ret, &n, NVWA_PHASE_SWITCH_ROOT, sw, sw);
	add(ret, &n, NVWA_PHASE_SYSTEMD, sw, restore_tsc);
	return n;
}

/* PID 1's name: systemd, or anything else (busybox's init, a script). */
static bool pid1_is_systemd(void)
{
	char comm[32];

	return read_one_line("/proc/1/comm", comm, sizeof(comm)) == 0 &&
	       !strcmp(comm, "systemd");
}

static int read_times(struct sdboot_times *ret)
{
	static const char *const argv[] = {
		"systemctl", "show", "-p", "InitRDTimestampMonotonic",
		"-p", "UserspaceTimestampMonotonic", NULL
	};
	char out[512];
	int r;

	if (!pid1_is_systemd())
		return -ENOENT;
	r = run_capture(argv, out, sizeof(out));
	if (r != 0)
		return log_warn_errno(r < 0 ? r : -EIO, "systemctl show failed: the boot before the restore stays one phase");
	return sdboot_parse(out, ret);
}

void sdboot_add_phases(struct nvwa_timeline *tl, uint64_t init_tsc,
		       uint64_t restore_tsc)
{
	struct sdboot_phase p[SDBOOT_MAX_PHASES];
	struct sdboot_times t;
	uint64_t now_tsc, now_ns;
	size_t n = 0;

	if (read_times(&t) == 0) {
		tsc_mono_pair(&now_tsc, &now_ns);
		n = sdboot_split(&t, init_tsc, restore_tsc, now_tsc, now_ns,
				 tl->tsc_khz, p);
	}
	if (!n)
		p[n++] = (struct sdboot_phase){ NVWA_PHASE_USERSPACE_EARLY, init_tsc, restore_tsc };
	for (size_t i = 0; i < n; i++)
		timeline_add(tl, p[i].name, NVWA_DOMAIN_NEW, p[i].start, p[i].end);
}
