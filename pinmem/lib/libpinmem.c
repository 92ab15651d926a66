// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "pinmem/lib/libpinmem.h"

int pinmem_dev_open(void)
{
	int fd = open(PINMEM_DEV, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

int pinmem_dev_status(int fd, struct pinmem_status *ret)
{
	struct pinmem_status st = { .size = sizeof(st) };
	int r = xioctl(fd, PINMEM_IOC_STATUS, &st);

	if (r == 0)
		*ret = st;
	return r;
}

static int area_req(int fd, unsigned long cmd, const char *name,
		    uint64_t length)
{
	struct pinmem_area_req req = { .size = sizeof(req), .length = length };

	if (strlen(name) >= sizeof(req.name))
		return -ENAMETOOLONG;
	strcpy(req.name, name);
	return xioctl(fd, cmd, &req);
}

int pinmem_dev_create(int fd, const char *name, uint64_t length)
{
	return area_req(fd, PINMEM_IOC_CREATE, name, length);
}

int pinmem_dev_resize(int fd, const char *name, uint64_t length)
{
	return area_req(fd, PINMEM_IOC_RESIZE, name, length);
}

int pinmem_dev_remove(int fd, const char *name)
{
	return area_req(fd, PINMEM_IOC_REMOVE, name, 0);
}

int pinmem_dev_attach(int fd, const char *name)
{
	return area_req(fd, PINMEM_IOC_ATTACH, name, 0);
}

int pinmem_dev_attached(int fd, char name[PINMEM_NAME_MAX], uint64_t *ret_len)
{
	struct pinmem_area_req req = { .size = sizeof(req) };
	int r = xioctl(fd, PINMEM_IOC_ATTACHED, &req);

	if (r < 0)
		return r;
	if (!memchr(req.name, '\0', sizeof(req.name)))
		return -EPROTO;
	memcpy(name, req.name, sizeof(req.name));
	*ret_len = req.length;
	return 0;
}

/* Entries can come and go between two calls: retry until they fit. */
int pinmem_dev_list(int fd, bool kernel, struct pinmem_entry **ret,
		    size_t *ret_n)
{
	struct pinmem_list list = {
		.size = sizeof(list),
		.flags = kernel ? PINMEM_LIST_KERNEL : 0,
	};
	struct pinmem_entry *buf = NULL;
	int r;

	for (;;) {
		r = xioctl(fd, PINMEM_IOC_LIST, &list);
		if (r < 0)
			goto fail;
		if (list.count <= list.capacity)
			break;
		free(buf);
		list.capacity = list.count + 16;
		buf = calloc(list.capacity, sizeof(*buf));
		if (!buf)
			return -ENOMEM;
		list.entries = (uintptr_t)buf;
	}
	*ret = buf;
	*ret_n = list.count;
	return 0;
fail:
	free(buf);
	return r;
}

int pinmem_dev_format(int fd, uint32_t flags, uint32_t dir_entries)
{
	struct pinmem_format fmt = {
		.size = sizeof(fmt),
		.flags = flags,
		.dir_entries = dir_entries,
	};

	return xioctl(fd, PINMEM_IOC_FORMAT, &fmt);
}

/* Maps all of area @name, shared; the mapping outlives the descriptor. */
int pinmem_dev_map(const char *name, void **ret_addr, size_t *ret_len)
{
	struct pinmem_entry *entries = NULL;
	size_t n, i, len = 0;
	void *addr;
	int fd, r;

	fd = pinmem_dev_open();
	if (fd < 0)
		return fd;
	r = pinmem_dev_list(fd, false, &entries, &n);
	if (r < 0)
		goto out;
	r = -ENOENT;
	for (i = 0; i < n; i++)
		if (!strncmp(entries[i].name, name, sizeof(entries[i].name))) {
			len = entries[i].length;
			r = 0;
		}
	if (r < 0)
		goto out;
	r = pinmem_dev_attach(fd, name);
	if (r < 0)
		goto out;
	r = -EINVAL;
	if (!len)
		goto out;
	addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (addr == MAP_FAILED) {
		r = -errno;
		goto out;
	}
	*ret_addr = addr;
	*ret_len = len;
	r = 0;
out:
	free(entries);
	close(fd);
	return r;
}

const char *pinmem_kind_name(uint32_t kind)
{
	switch (kind) {
	case PINMEM_KIND_AREA:
		return "area";
	case PINMEM_KIND_KOBJ:
		return "kobj";
	case PINMEM_KIND_KBUF:
		return "kbuf";
	}
	return "?";
}

const char *pinmem_state_name(uint32_t state)
{
	switch (state) {
	case PINMEM_STATE_VALID:
		return "valid";
	case PINMEM_STATE_INVALID:
		return "invalid";
	}
	return "not loaded";
}

int pinmem_fs_mount(const char *dir)
{
	struct statfs sfs;

	if (statfs(dir, &sfs) == 0 && sfs.f_type == PINMEM_FS_MAGIC)
		return 0;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (mount("none", dir, "pinmem", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	return 0;
}

int pinmem_fs_mount_trusted(const char *dir)
{
	struct pinmem_status st;
	int fd, r;

	fd = pinmem_dev_open();
	if (fd < 0)
		return fd;
	r = pinmem_dev_status(fd, &st);
	close(fd);
	if (r < 0)
		return r;
	if (st.state != PINMEM_STATE_VALID)
		return -ENODEV;
	return pinmem_fs_mount(dir);
}
