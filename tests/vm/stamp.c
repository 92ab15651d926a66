// SPDX-License-Identifier: GPL-2.0
/*
 * nvwa-stamp FIFO CONSOLE STAMPS: copies the VM's serial console from FIFO
 * to CONSOLE unchanged, and writes each line to STAMPS too, prefixed with
 * the host's CLOCK_MONOTONIC in seconds.  The host's clock is the outside
 * measurement the guest's own timeline is checked against.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char buf[65536], line[4096];
	size_t used = 0;
	FILE *console, *stamps;
	ssize_t n;
	int in;

	if (argc != 4) {
		fprintf(stderr, "usage: nvwa-stamp FIFO CONSOLE STAMPS\n");
		return 2;
	}
	in = open(argv[1], O_RDONLY);
	console = fopen(argv[2], "w");
	stamps = fopen(argv[3], "w");
	if (in < 0 || !console || !stamps) {
		perror("nvwa-stamp");
		return 1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		fwrite(buf, 1, n, console);
		fflush(console);
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n' && used < sizeof(line) - 1) {
				line[used++] = buf[i];
				continue;
			}
			if (buf[i] != '\n')
				continue;	/* an overlong line: its end is stamped */
			line[used] = '\0';
			fprintf(stamps, "%ld.%09ld %s\n", (long)ts.tv_sec, ts.tv_nsec, line);
			used = 0;
		}
		fflush(stamps);
	}
	return 0;
}
