// SPDX-License-Identifier: GPL-2.0
/*
 * nvwa-memtouch: asks for memory as an allocation-heavy program does, at
 * once, and checks that every page is its own.
 *
 *   nvwa-memtouch MIB SEED   map MIB MiB of anonymous memory, write a word
 *                            derived from SEED and its offset into every
 *                            64-byte line, then read them all back
 *
 * Prints how long each pass took and the first line that differs.  Exit
 * 0 when every line is as written, 1 when one is not, 2 on a usage or
 * mapping error.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "tests/vm/pattern.h"

#define LINE 64

int main(int argc, char **argv)
{
	uint64_t seed, lines, i;
	unsigned long mib;
	double t0, t1, t2;
	char *end;
	uint8_t *p;

	if (argc != 3) {
		fprintf(stderr, "usage: nvwa-memtouch MIB SEED\n");
		return 2;
	}
	errno = 0;
	mib = strtoul(argv[1], &end, 10);
	if (errno || *end || mib == 0) {
		fprintf(stderr, "nvwa-memtouch: bad size '%s'\n", argv[1]);
		return 2;
	}
	seed = strtoull(argv[2], &end, 0);
	if (*end) {
		fprintf(stderr, "nvwa-memtouch: bad seed '%s'\n", argv[2]);
		return 2;
	}
	lines = (uint64_t)mib << 20 >> 6;
	p = mmap(NULL, (size_t)mib << 20, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "nvwa-memtouch: mmap %lu MiB: %s\n", mib, strerror(errno));
		return 2;
	}
	t0 = pattern_now_ms();
	for (i = 0; i < lines; i++)
		*(uint64_t *)(p + i * LINE) = pattern_word(seed, i);
	t1 = pattern_now_ms();
	for (i = 0; i < lines; i++)
		if (*(uint64_t *)(p + i * LINE) != pattern_word(seed, i)) {
			fprintf(stderr, "nvwa-memtouch: line %llu at offset %#llx differs\n",
				(unsigned long long)i, (unsigned long long)(i * LINE));
			return 1;
		}
	t2 = pattern_now_ms();
	printf("touched %lu MiB in %.0f ms, verified in %.0f ms\n", mib, t1 - t0, t2 - t1);
	return 0;
}
