// SPDX-License-Identifier: GPL-2.0
/*
 * Which filesystems an update freezes at the jump, from mountinfo: the
 * test VM's own mounts, a systemd host's, and lines no kernel wrote.
 */
#include <errno.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "tools/nvwa/quiesce.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

/* The test VM: initramfs root, /disk with bind mounts, the store on pmem. */
static const char vm[] =
	"1 1 0:2 / / rw - rootfs rootfs rw\n"
	"20 1 0:20 / /proc rw,relatime - proc proc rw\n"
	"24 1 0:23 / /run rw,relatime - tmpfs tmpfs rw\n"
	"30 1 254:0 / /disk rw,relatime - ext4 /dev/vda rw\n"
	"31 1 254:0 /state/nvwa /var/lib/nvwa rw,relatime - ext4 /dev/vda rw\n"
	"32 1 254:0 /boot /boot rw,relatime - ext4 /dev/vda rw\n"
	"40 24 259:0 / /run/nvwa/store rw,nosuid,nodev,noexec,relatime - ext4 /dev/pmem0 rw,dax=always\n";

TEST(the_vm_freezes_its_disk_once_and_never_the_store)
{
	dev_t keep = makedev(259, 0);
	struct quiesce q;

	if (!CHECK(quiesce_parse_mountinfo(vm, &keep, 1, &q) == 0))
		return;
	if (!CHECK_EQ_INT(q.nfs, 1))
		return;
	CHECK_STREQ(q.fs[0].path, "/disk");
	CHECK_STREQ(q.fs[0].type, "ext4");
	CHECK(q.fs[0].dev == makedev(254, 0));
	CHECK(!q.fs[0].frozen);
	CHECK_EQ_INT(q.notify_fd, -1);
}

/* A systemd host: /, /var and /home, /boot/efi, a read-only /usr, NFS. */
static const char host[] =
	"22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw,errors=remount-ro\n"
	"23 22 0:21 / /sys rw,nosuid shared:2 - sysfs sysfs rw\n"
	"40 22 8:3 / /var rw,relatime shared:20 - xfs /dev/sda3 rw,attr2,inode64\n"
	"41 22 8:1 / /boot/efi rw,relatime shared:21 - vfat /dev/sda1 rw,fmask=0077\n"
	"42 22 0:45 /@home /home rw,relatime shared:22 - btrfs /dev/sdb1 rw,space_cache=v2\n"
	"43 22 8:4 / /usr ro,relatime shared:23 - ext4 /dev/sda4 ro\n"
	"44 22 0:50 / /mnt/nfs rw,relatime shared:24 - nfs4 srv:/x rw,vers=4.2\n"
	"45 40 8:5 / /var/lib/my\\040data rw shared:25 - ext4 /dev/sda5 rw\n";

TEST(deepest_first_local_block_filesystems_only)
{
	static const char *const order[] = { "/var/lib/my data", "/var", "/home", "/" };
	struct quiesce q;

	if (!CHECK(quiesce_parse_mountinfo(host, NULL, 0, &q) == 0))
		return;
	if (!CHECK_EQ_INT(q.nfs, 4))
		return;
	for (size_t i = 0; i < 4; i++)
		CHECK_STREQ(q.fs[i].path, order[i]);
	CHECK_STREQ(q.fs[1].type, "xfs");
	CHECK_STREQ(q.fs[2].type, "btrfs");
}

TEST(a_kept_device_is_left_out_wherever_it_is_mounted)
{
	dev_t keep[] = { makedev(8, 3), makedev(8, 2) };
	struct quiesce q;

	if (!CHECK(quiesce_parse_mountinfo(host, keep, 2, &q) == 0))
		return;
	if (!CHECK_EQ_INT(q.nfs, 2))
		return;
	CHECK_STREQ(q.fs[0].path, "/var/lib/my data");
	CHECK_STREQ(q.fs[1].path, "/home");
}

TEST(a_bind_mount_seen_first_is_renamed_by_the_real_one)
{
	static const char t[] =
		"31 1 254:0 /state /var/lib/nvwa rw - ext4 /dev/vda rw\n"
		"30 1 254:0 / /disk rw - ext4 /dev/vda rw\n";
	struct quiesce q;

	if (!CHECK(quiesce_parse_mountinfo(t, NULL, 0, &q) == 0) || !CHECK_EQ_INT(q.nfs, 1))
		return;
	CHECK_STREQ(q.fs[0].path, "/disk");
	CHECK_EQ_INT(q.fs[0].depth, 1);
}

TEST(lines_no_kernel_wrote_are_skipped)
{
	static const char t[] =
		"\n"
		"garbage\n"
		"1 2 x:0 / /a rw - ext4 /dev/a rw\n"
		"1 2 8:1 / /b rw ext4 /dev/b rw\n"
		"1 2 8:2 / /c rw -\n"
		"1 2 8:3 / /d rw - ext4 /dev/d\n"
		"1 2 99999:3 / /e rw - ext4 /dev/e rw\n"
		"1 2 8:6 / /ok rw - ext4 /dev/ok rw";
	struct quiesce q;

	if (!CHECK(quiesce_parse_mountinfo(t, NULL, 0, &q) == 0) || !CHECK_EQ_INT(q.nfs, 1))
		return;
	CHECK_STREQ(q.fs[0].path, "/ok");
}

TEST(more_filesystems_than_fit_plan_the_first_and_say_so)
{
	char t[QUIESCE_MAX_FS * 2 * 64], *p = t;
	struct quiesce q;

	for (int i = 0; i < QUIESCE_MAX_FS * 2; i++)
		p += sprintf(p, "%d 1 8:%d / /m%d rw - ext4 /dev/x rw\n", i, i, i);
	CHECK_EQ_INT(quiesce_parse_mountinfo(t, NULL, 0, &q), -E2BIG);
	CHECK_EQ_INT(q.nfs, QUIESCE_MAX_FS);
}

TEST(a_guard_learns_what_was_frozen_and_nothing_else)
{
	dev_t keep = makedev(259, 0);
	struct quiesce q;

	if (!CHECK(quiesce_parse_mountinfo(vm, &keep, 1, &q) == 0))
		return;
	CHECK_EQ_INT(quiesce_note(&q, 1), 0);
	CHECK(q.fs[0].frozen);
	CHECK_EQ_INT(quiesce_note(&q, QUIESCE_NOTE_JOURNAL), 0);
	CHECK(q.journal_relinquished);
	CHECK_EQ_INT(quiesce_note(&q, 0), -EINVAL);
	CHECK_EQ_INT(quiesce_note(&q, 2), -EINVAL);
	CHECK_EQ_INT(quiesce_note(&q, 'x'), -EINVAL);
}
