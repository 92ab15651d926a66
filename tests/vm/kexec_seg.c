// SPDX-License-Identifier: GPL-2.0
/*
 * nvwa-kexec-seg ADDR | -u | -r FILE | -n COUNT ADDR: loads, with
 * kexec_load(2), an image of one zeroed page whose only segment lies at
 * physical ADDR (never to be jumped to: a test of what the kernel makes of
 * a loaded image over a region of its own), or unloads whatever image is
 * loaded, or reads FILE from its start over and over through one
 * descriptor until killed (a reader of a file about the loaded image, as a
 * monitoring agent is), or loads and unloads COUNT times.
 *
 * -n keeps the rounds in one process: under QEMU's TCG every process
 * started anew maps its code at new addresses (ASLR) and gets code
 * translated anew, and hundreds of them left pages with thousands of
 * translations, which the next kernel's first writes to those pages
 * walked one by one (a boot crawling for a minute, once an RCU stall).
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kexec.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static char page[4096];
	struct kexec_segment seg = {
		.buf = page, .bufsz = sizeof(page), .memsz = sizeof(page),
	};
	unsigned long long addr;
	long r, i, count = 1;
	bool cycle = false;
	char *end;

	if (argc == 3 && !strcmp(argv[1], "-r")) {
		int fd = open(argv[2], O_RDONLY);

		if (fd < 0) {
			fprintf(stderr, "nvwa-kexec-seg: %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		while (pread(fd, page, sizeof(page), 0) >= 0)
			;
		fprintf(stderr, "nvwa-kexec-seg: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	if (argc == 4 && !strcmp(argv[1], "-n")) {
		errno = 0;
		count = strtol(argv[2], &end, 10);
		if (errno || *end || count < 1 || !strcmp(argv[3], "-u")) {
			fprintf(stderr, "usage: nvwa-kexec-seg -n COUNT ADDR (COUNT >= 1)\n");
			return 2;
		}
		cycle = true;
		argv += 2;
	} else if (argc != 2) {
		fprintf(stderr, "usage: nvwa-kexec-seg ADDR | -u | -r FILE | -n COUNT ADDR\n");
		return 2;
	}
	if (!strcmp(argv[1], "-u")) {
		r = syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0UL);
		if (r < 0) {
			perror("nvwa-kexec-seg: kexec_load (unload)");
			return 1;
		}
		return 0;
	}
	errno = 0;
	addr = strtoull(argv[1], &end, 0);
	if (errno || *end || addr % sizeof(page)) {
		fprintf(stderr, "nvwa-kexec-seg: %s: not a page-aligned address\n", argv[1]);
		return 2;
	}
	seg.mem = (void *)(unsigned long)addr;
	for (i = 1; i <= count; i++) {
		r = syscall(SYS_kexec_load, (unsigned long)addr, 1UL, &seg,
			    (unsigned long)KEXEC_ARCH_DEFAULT);
		if (r < 0) {
			fprintf(stderr, "nvwa-kexec-seg: kexec_load, round %ld: %s\n", i,
				strerror(errno));
			return 1;
		}
		if (cycle && syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0UL) < 0) {
			fprintf(stderr, "nvwa-kexec-seg: kexec_load (unload), round %ld: %s\n", i,
				strerror(errno));
			return 1;
		}
	}
	return 0;
}
