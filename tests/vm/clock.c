// SPDX-License-Identifier: GPL-2.0
/*
 * nvwa-clock: the TSC in milliseconds, the clock nvwa's timeline uses, for
 * the benchmark's baseline scripts.  kexec does not reset the TSC, so two
 * readings on either side of a reboot subtract.
 *
 * usage: nvwa-clock [KHZ]   prints "MS KHZ"; pass the KHZ printed by an
 * earlier call to read the same scale in another kernel.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/tsc.h"

int main(int argc, char **argv)
{
	uint64_t now = tsc_read();
	uint64_t khz = argc > 1 ? strtoull(argv[1], NULL, 10) : tsc_calibrate_khz();

	if (!khz)
		return 1;
	printf("%.3f %" PRIu64 "\n", (double)now / (double)khz, khz);
	return 0;
}
