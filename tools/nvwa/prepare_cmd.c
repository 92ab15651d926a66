// SPDX-License-Identifier: GPL-2.0
/* nvwa prepare: do the kernel's share of an update's preparation now. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "fastboot/prepare.h"
#include "tools/nvwa/nvwa.h"

static void usage_prepare(FILE *f)
{
	fprintf(f,
		"usage: nvwa prepare IMAGE\n"
		"\n"
		"Decompresses the payload of the bzImage IMAGE (gzip, xz, zstd or lz4)\n"
		"into the ELF vmlinux it carries, checks it, and caches it under the\n"
		"image's SHA-256 in $NVWA_KERNEL_CACHE (default /var/cache/nvwa/kernels).\n"
		"`nvwa update` does this itself, before anything is frozen; running it\n"
		"earlier only makes the update's check step shorter.  Booting the\n"
		"vmlinux skips the kernel's own decompression at reboot, inside the\n"
		"downtime.  Prints the file kexec will load.\n");
}

static int cmd_prepare(int argc, char **argv)
{
	struct kimage_boot b;

	if (argc != 2) {
		usage_prepare(stderr);
		return 2;
	}
	if (kimage_prepare(argv[1], kimage_cache_dir(), &b) < 0)
		return 1;
	if (b.why[0])
		log_info("%s will boot as it is: %s", argv[1], b.why);
	else
		log_info("%s: %s%s", argv[1], b.cached ? "already prepared, " : "", b.path);
	printf("%s\n", b.path);
	return 0;
}

const struct nvwa_cmd nvwa_cmd_prepare = {
	.name = "prepare",
	.summary = "decompress and cache a kernel image ahead of an update",
	.run = cmd_prepare,
	.usage = usage_prepare,
};
