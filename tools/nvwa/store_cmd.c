// SPDX-License-Identifier: GPL-2.0
/* nvwa store: format or inspect the store (tools/nvwa/store.c mounts it). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "fastboot/cmdline.h"
#include "tools/nvwa/nvwa.h"

static void usage_store(FILE *f)
{
	fprintf(f,
		"usage: nvwa store format [--yes] [DEV]\n"
		"       nvwa store status [DEV]\n"
		"\n"
		"The store holds CRIU images and the handover record in memory that\n"
		"survives kexec.  On a stock kernel it is legacy persistent memory:\n"
		"add memmap=SIZE!START (e.g. memmap=512M!1G) to the kernel command line,\n"
		"load nd_e820 and nd_pmem, and /dev/pmem0 appears.  Its contents are\n"
		"lost on a cold boot, so format it once after each power-on:\n"
		"\n"
		"  format   make an ext4 filesystem (no journal, DAX-capable) on DEV;\n"
		"           refuses to erase an existing one without --yes\n"
		"  status   mount DEV if needed and show its size and free space\n"
		"\n"
		"DEV defaults to $NVWA_STORE, then nvwa.handover= on the kernel command\n"
		"line, then /dev/pmem0.\n");
}

static int store_format(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{}
	};
	const char *mkfs[] = { "mke2fs", "-q", "-F", "-t", "ext4",
			       "-O", "^has_journal", "-b", "4096",
			       "-L", "nvwa-store", NULL, NULL };
	const char *dev;
	char root[PATH_MAX];
	int yes = 0, c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "y", opts, NULL)) != -1) {
		if (c != 'y') {
			usage_store(stderr);
			return 2;
		}
		yes = 1;
	}
	dev = store_device(optind < argc ? argv[optind] : NULL);
	if (store_find_mount(dev, root, sizeof(root)) == 0) {
		/* nvwa's own mount is nvwa's to undo; anyone else's is not. */
		if (strcmp(root, STORE_MOUNTPOINT) || umount(root) < 0) {
			log_error("%s is mounted on %s; unmount it first", dev, root);
			return 1;
		}
	}
	r = store_has_fs(dev);
	if (r < 0) {
		log_error_errno(r, "Cannot read %s: %m", dev);
		return 1;
	}
	if (r > 0 && !yes) {
		log_error("%s already holds a filesystem, perhaps images of an update not yet restored. Pass --yes to erase it.",
			  dev);
		return 1;
	}
	mkfs[ARRAY_SIZE(mkfs) - 2] = dev;
	log_info("Formatting %s as the nvwa store (ext4, no journal, 4 KiB blocks for DAX)", dev);
	r = run(mkfs, NULL);
	if (r != 0) {
		log_error("mke2fs %s failed (%d)", dev, r);
		return 1;
	}
	return 0;
}

static int store_status(int argc, char **argv)
{
	char root[PATH_MAX];
	struct statvfs sv;
	const char *dev = store_device(argc > 1 ? argv[1] : NULL);

	if (store_mount(dev, root, sizeof(root)) < 0)
		return 1;
	if (statvfs(root, &sv) < 0) {
		log_error_errno(-errno, "statvfs %s: %m", root);
		return 1;
	}
	printf("store:   %s on %s\n", dev, root);
	printf("size:    %llu MiB, %llu MiB free\n",
	       (unsigned long long)sv.f_blocks * sv.f_frsize >> 20,
	       (unsigned long long)sv.f_bavail * sv.f_frsize >> 20);
	return 0;
}

static int cmd_store(int argc, char **argv)
{
	if (argc < 2) {
		usage_store(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "format"))
		return store_format(argc - 1, argv + 1);
	if (!strcmp(argv[1], "status"))
		return store_status(argc - 1, argv + 1);
	log_error("unknown store command '%s'", argv[1]);
	usage_store(stderr);
	return 2;
}

const struct nvwa_cmd nvwa_cmd_store = {
	.name = "store",
	.summary = "format or inspect the preserved-memory store",
	.run = cmd_store,
	.usage = usage_store,
};
