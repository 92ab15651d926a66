/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The test bed's memory pattern: word @i of a region filled with @seed,
 * as nvwa-pattern and nvwa-memtouch write and verify it, and their clock.
 */
#ifndef NVWA_TEST_PATTERN_H
#define NVWA_TEST_PATTERN_H

#include <stdint.h>
#include <time.h>

static inline uint64_t pattern_word(uint64_t seed, uint64_t i)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + i;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	return x ^ (x >> 31);
}

static inline double pattern_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

#endif
