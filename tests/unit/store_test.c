// SPDX-License-Identifier: GPL-2.0
/*
 * The store's remounts around the jump keep its protections.  Mounts a
 * tmpfs (the test runner runs as root, like nvwa).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "tools/nvwa/nvwa.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

#define PROTECT (ST_NOSUID | ST_NODEV | ST_NOEXEC)

TEST(remounts_keep_nosuid_nodev_noexec)
{
	char dir[] = "/tmp/nvwa-store-test.XXXXXX";
	struct statvfs sv;

	if (!CHECK(mkdtemp(dir)))
		return;
	if (!CHECK_EQ_INT(mount("none", dir, "tmpfs",
				MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME, "size=1m"), 0))
		goto out;
	CHECK_EQ_INT(store_remount(dir, true), 0);
	CHECK_EQ_INT(statvfs(dir, &sv), 0);
	CHECK_EQ_INT(sv.f_flag & (PROTECT | ST_RDONLY), PROTECT | ST_RDONLY);
	CHECK_EQ_INT(store_remount(dir, false), 0);
	CHECK_EQ_INT(statvfs(dir, &sv), 0);
	CHECK_EQ_INT(sv.f_flag & (PROTECT | ST_RDONLY), PROTECT);
	CHECK_EQ_INT(umount(dir), 0);
out:
	rmdir(dir);
}

TEST(remount_of_a_non_mount_fails)
{
	CHECK(store_remount("/nonexistent-nvwa-store", false) < 0);
}
