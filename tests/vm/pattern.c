// SPDX-License-Identifier: GPL-2.0
/*
 * nvwa-pattern: keeps memory in a file by path, as programs that know
 * nothing of pinmem do (open, ftruncate, mmap MAP_SHARED), and checks it
 * byte for byte later, in another process or another kernel.
 *
 *   nvwa-pattern write PATH SIZE SEED    size the file, fill it
 *   nvwa-pattern verify PATH SIZE SEED   exit 0 if every byte is there
 *   nvwa-pattern hold PATH READY         map it, touch READY, wait for a
 *                                        signal (to test refusals while mapped)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/vm/pattern.h"

static void *map(const char *path, int flags, size_t size)
{
	void *p;
	int fd = open(path, flags | O_CLOEXEC, 0600);

	if (fd < 0) {
		fprintf(stderr, "nvwa-pattern: open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	if ((flags & O_CREAT) && ftruncate(fd, (off_t)size) < 0) {
		fprintf(stderr, "nvwa-pattern: ftruncate %s to %zu: %s\n", path,
			size, strerror(errno));
		exit(1);
	}
	if (!size) {
		struct stat st;

		if (fstat(fd, &st) < 0 || !st.st_size) {
			fprintf(stderr, "nvwa-pattern: %s is empty\n", path);
			exit(1);
		}
		size = (size_t)st.st_size;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "nvwa-pattern: mmap %s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(fd);
	return p;
}

int main(int argc, char **argv)
{
	uint64_t *w, seed, n, i;
	size_t size;
	double t;

	if (argc == 4 && !strcmp(argv[1], "hold")) {
		map(argv[2], O_RDWR, 0);
		if (close(open(argv[3], O_CREAT | O_WRONLY, 0600)) < 0)
			return 1;
		pause();
		return 0;
	}
	if (argc != 5 || (strcmp(argv[1], "write") && strcmp(argv[1], "verify"))) {
		fprintf(stderr, "usage: nvwa-pattern write|verify PATH SIZE SEED\n"
				"       nvwa-pattern hold PATH READY\n");
		return 2;
	}
	size = strtoull(argv[3], NULL, 0);
	seed = strtoull(argv[4], NULL, 0);
	n = size / sizeof(*w);
	t = pattern_now_ms() / 1e3;
	if (!strcmp(argv[1], "write")) {
		w = map(argv[2], O_RDWR | O_CREAT, size);
		for (i = 0; i < n; i++)
			w[i] = pattern_word(seed, i);
	} else {
		w = map(argv[2], O_RDWR, size);
		for (i = 0; i < n; i++)
			if (w[i] != pattern_word(seed, i)) {
				printf("mismatch at byte %llu of %s\n",
				       (unsigned long long)(i * sizeof(*w)), argv[2]);
				return 1;
			}
	}
	t = pattern_now_ms() / 1e3 - t;
	printf("%s %zu bytes of %s: %.0f MB/s\n",
	       argv[1][0] == 'w' ? "wrote" : "verified", size, argv[2],
	       (double)size / 1e6 / (t > 0 ? t : 1e-9));
	return 0;
}
