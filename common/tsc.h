/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cycle counter that carries the timeline across kexec.
 *
 * kexec does not reset the x86 TSC, so readings taken in the old kernel and
 * in the new one lie on one clock (verified in the test bed).  Only the
 * frequency has to be known; it is calibrated against CLOCK_MONOTONIC_RAW.
 */
#ifndef NVWA_TSC_H
#define NVWA_TSC_H

#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
static inline uint64_t tsc_read(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
#else
#error "nvwa's timeline needs a cycle counter that survives kexec on this architecture"
#endif

/* Cycles per millisecond, measured over about 20 ms. */
uint64_t tsc_calibrate_khz(void);

/*
 * One reading of CLOCK_MONOTONIC (what eBPF's bpf_ktime_get_ns() returns)
 * and the TSC at the same moment: the midpoint of two TSC reads around it.
 */
void tsc_mono_pair(uint64_t *ret_tsc, uint64_t *ret_ns);
/* The TSC at CLOCK_MONOTONIC time @ns of this boot (@ns in the past). */
uint64_t tsc_from_mono(uint64_t ns, uint64_t khz);

/* Cycles in @ns nanoseconds at @khz, without overflow for any u64 @ns. */
static inline uint64_t tsc_cycles(uint64_t ns, uint64_t khz)
{
	return (uint64_t)((unsigned __int128)ns * khz / 1000000u);
}

static inline double tsc_to_ms(uint64_t cycles, uint64_t khz)
{
	return khz ? (double)cycles / (double)khz : 0.0;
}

#endif
