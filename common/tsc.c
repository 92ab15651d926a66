// SPDX-License-Identifier: GPL-2.0
#include <time.h>

#include "common/tsc.h"

static uint64_t mono_raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t tsc_calibrate_khz(void)
{
	struct timespec pause = { .tv_nsec = 20 * 1000 * 1000 };
	uint64_t t0, c0, t1, c1;

	t0 = mono_raw_ns();
	c0 = tsc_read();
	nanosleep(&pause, NULL);
	t1 = mono_raw_ns();
	c1 = tsc_read();
	if (t1 <= t0)
		return 0;
	return (c1 - c0) * 1000000ull / (t1 - t0);
}

void tsc_mono_pair(uint64_t *ret_tsc, uint64_t *ret_ns)
{
	struct timespec ts;
	uint64_t c0, c1;

	c0 = tsc_read();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	c1 = tsc_read();
	*ret_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	*ret_tsc = c0 + (c1 - c0) / 2;
}

uint64_t tsc_from_mono(uint64_t ns, uint64_t khz)
{
	uint64_t now_tsc, now_ns;

	tsc_mono_pair(&now_tsc, &now_ns);
	if (ns >= now_ns)
		return now_tsc;
	return now_tsc - tsc_cycles(now_ns - ns, khz);
}
