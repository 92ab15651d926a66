// SPDX-License-Identifier: GPL-2.0
/* nvwa prepare: do the kernel's share of an update's preparation now. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "fastboot/initrd.h"
#include "fastboot/prepare.h"
#include "tools/nvwa/nvwa.h"

static void usage_prepare(FILE *f)
{
	fprintf(f,
		"usage: nvwa prepare [--initrd FILE [--initrd-prepared=auto|yes|no]] IMAGE\n"
		"\n"
		"Decompresses the payload of the bzImage IMAGE (gzip, xz, zstd or lz4)\n"
		"into the ELF vmlinux it carries, checks it, and caches it under the\n"
		"image's SHA-256 in $NVWA_KERNEL_CACHE (default /var/cache/nvwa/kernels).\n"
		"`nvwa update` does this itself, before anything is frozen; running it\n"
		"earlier only makes the update's check step shorter.  Booting the\n"
		"vmlinux skips the kernel's own decompression at reboot, inside the\n"
		"downtime.  Prints the file kexec will load.\n"
		"\n"
		"  --initrd FILE        prepare the initramfs FILE too, as `nvwa update\n"
		"                       --initrd FILE` will: its compressed archives\n"
		"                       decompressed and cached in $NVWA_INITRD_CACHE\n"
		"                       (default /var/cache/nvwa/initrds), where that pays\n"
		"                       (see nvwa update --help); prints the initrd kexec\n"
		"                       will load on a second line\n"
		"  --initrd-prepared=WHEN  auto (the default), yes or no, as nvwa update's\n");
}

static int cmd_prepare(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "initrd", required_argument, NULL, 'i' },
		{ "initrd-prepared", required_argument, NULL, 'I' },
		{}
	};
	enum initrd_mode mode = INITRD_PREPARE_AUTO;
	const char *initrd = NULL;
	struct initrd_boot ib;
	struct kimage_boot b;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "i:", opts, NULL)) != -1) {
		switch (c) {
		case 'i': initrd = optarg; break;
		case 'I':
			if (initrd_mode_parse(optarg, &mode) < 0) {
				log_error_errno(-EINVAL, "--initrd-prepared takes auto, yes or no, not '%s'", optarg);
				return 2;
			}
			break;
		default:
			usage_prepare(stderr);
			return 2;
		}
	}
	if (argc - optind != 1) {
		usage_prepare(stderr);
		return 2;
	}
	if (kimage_prepare(argv[optind], kimage_cache_dir(), &b) < 0)
		return 1;
	if (b.why[0])
		log_info("%s will boot as it is: %s", argv[optind], b.why);
	else
		log_info("%s: %s%s", argv[optind], b.cached ? "already prepared, " : "", b.path);
	if (initrd && initrd_check(initrd, mode, &ib) < 0)
		return 1;
	printf("%s\n", b.path);
	if (initrd)
		printf("%s\n", ib.path);
	return 0;
}

const struct nvwa_cmd nvwa_cmd_prepare = {
	.name = "prepare",
	.summary = "decompress and cache a kernel image ahead of an update",
	.run = cmd_prepare,
	.usage = usage_prepare,
};
