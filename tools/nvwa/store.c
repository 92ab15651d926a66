// SPDX-License-Identifier: GPL-2.0
/*
 * The store: where images and the handover record live across kexec.  On
 * a stock kernel it is an ext4 filesystem (no journal, DAX where the
 * kernel allows) on the legacy persistent memory that memmap=SIZE!START
 * carves out of RAM; its contents survive kexec because neither kernel
 * ever uses that RAM for anything else.
 */
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

#define STORE_MOUNT_FLAGS (MS_NOATIME | MS_NOSUID | MS_NODEV | MS_NOEXEC)

const char *store_device(const char *option)
{
	static char from_cmdline[PATH_MAX];
	const char *env = getenv("NVWA_STORE");
	char *cmdline;

	if (option)
		return option;
	if (env && *env)
		return env;
	if (cmdline_read_running(&cmdline) == 0) {
		int r = cmdline_get(cmdline, NVWA_HANDOVER_PARAM, from_cmdline,
				    sizeof(from_cmdline));

		free(cmdline);
		if (r == 0)
			return from_cmdline;
	}
	return "/dev/pmem0";
}

int store_find_mount(const char *dev, char *ret_root, size_t size)
{
	struct stat want, have;
	struct mntent *m;
	FILE *f;
	int r = -ENOENT;

	if (stat(dev, &want) < 0)
		return -errno;
	f = setmntent("/proc/self/mounts", "re");
	if (!f)
		return -errno;
	while ((m = getmntent(f))) {
		if (stat(m->mnt_fsname, &have) == 0 && S_ISBLK(have.st_mode) &&
		    have.st_rdev == want.st_rdev) {
			r = strscpy(ret_root, m->mnt_dir, size) < 0 ? -ENAMETOOLONG : 0;
			break;
		}
	}
	endmntent(f);
	return r;
}

int store_mount(const char *dev, char *ret_root, size_t size)
{
	struct stat st;
	int r;

	if (stat(dev, &st) < 0)
		return log_error_errno(-errno, "Store device %s: %m. Is memmap=SIZE!START on the kernel command line and the nd_pmem module loaded?",
				       dev);
	if (!S_ISBLK(st.st_mode))
		return log_error_errno(-ENOTBLK, "Store %s is not a block device", dev);
	r = store_find_mount(dev, ret_root, size);
	if (r != -ENOENT)
		return r;

	r = mkdir_p(STORE_MOUNTPOINT, 0700);
	if (r < 0)
		return log_error_errno(r, "Failed to create %s: %m", STORE_MOUNTPOINT);
	/*
	 * The store holds images restore feeds to CRIU as ret_root: nothing in it
	 * is ever executed, a device node or set-uid.
	 */
	if (mount(dev, STORE_MOUNTPOINT, "ext4", STORE_MOUNT_FLAGS, "dax") < 0) {
		int saved = errno;

		/* Without DAX the store still works, through the page cache. */
		if (mount(dev, STORE_MOUNTPOINT, "ext4", STORE_MOUNT_FLAGS, NULL) < 0)
			return log_error_errno(-errno, "Failed to mount the store %s (%s with dax): %m. Was it formatted with `nvwa store format %s`?",
					       dev, strerror(saved), dev);
		log_warn("Store %s mounted without DAX (%s): writes go through the page cache",
			 dev, strerror(saved));
	}
	log_debug("Mounted store %s on %s", dev, STORE_MOUNTPOINT);
	return strscpy(ret_root, STORE_MOUNTPOINT, size) < 0 ? -ENAMETOOLONG : 0;
}

int store_remount(const char *root, bool readonly)
{
	unsigned long flags = MS_REMOUNT | STORE_MOUNT_FLAGS;

	/* A remount replaces the flags: without them the store would allow
	 * set-uid files, devices and execution. */
	if (mount(NULL, root, NULL, flags | (readonly ? MS_RDONLY : 0), NULL) < 0)
		return -errno;
	return 0;
}

int store_has_fs(const char *dev)
{
	unsigned char magic[2];
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	/* ext4's superblock magic, 1080 bytes in. */
	n = pread(fd, magic, sizeof(magic), 1080);
	close(fd);
	return n == 2 && magic[0] == 0x53 && magic[1] == 0xef;
}
