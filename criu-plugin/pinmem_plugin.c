// SPDX-License-Identifier: GPL-2.0
/*
 * nvwa_pinmem.so: a CRIU 3.17 plugin that checkpoints memory held in pinmem
 * areas by reference and maps the same memory back at restore.
 *
 * Dump.  A process maps an area through /dev/pinmem (or holds the device
 * open); CRIU cannot copy such VM_PFNMAP memory and asks plugins.  For each
 * mapping, HANDLE_DEVICE_VMA claims it, so CRIU records only the VMA (the
 * device's path, the address and the page offset, which pinmem makes the
 * region offset) and writes none of its pages.  The plugin writes
 * nvwa-pinmem.img: the region's areas at dump time, by name, and the area
 * each open descriptor was attached to (DUMP_EXT_FILE).
 *
 * Restore, in the same kernel or after kexec.  UPDATE_VMA_MAP translates
 * each recorded offset into the area's name and then into where that area
 * is now, and CRIU maps /dev/pinmem at the same address and that offset:
 * the same physical pages, no copy.  RESTORE_EXT_FILE reopens descriptors
 * and attaches them again.
 *
 * Areas mapped by path (/run/pinmem/NAME) need no plugin: CRIU keeps shared
 * file mappings by reference and reopens the file at restore.
 *
 * Without this plugin CRIU refuses to dump a /dev/pinmem mapping ("Can't
 * handle non-regular mapping"); it never silently copies or skips one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <criu/criu-plugin.h>

#include "criu-plugin/pinimg.h"
#include "pinmem/lib/libpinmem.h"

/* CRIU's logger: exported by the criu binary, declared in no usable header. */
extern void print_on_level(unsigned int loglevel, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
#define CRIU_LOG_ERROR 1
#define CRIU_LOG_INFO 3
/* "Error (where): what" is the shape CRIU's own errors have; nvwa shows them. */
#define err(fmt, ...) \
	print_on_level(CRIU_LOG_ERROR, "Error (nvwa-pinmem): " fmt "\n", ##__VA_ARGS__)
#define info(fmt, ...) \
	print_on_level(CRIU_LOG_INFO, "nvwa-pinmem: " fmt "\n", ##__VA_ARGS__)

/*
 * CRIU ignores a failing UPDATE_VMA_MAP and maps the old offset anyway,
 * which could be another area now.  A mapping that cannot be translated is
 * given this offset instead, past any region, which pinmem refuses (ENXIO):
 * the restore stops there.
 */
#define UNMAPPABLE_OFFSET (1ULL << 62)

static int stage = -1;
static dev_t pinmem_rdev;	/* 0: module not loaded */
static struct pinimg img;	/* dump: being recorded; restore: as recorded */
static int have_img;

static dev_t find_rdev(void)
{
	unsigned int maj, min;
	FILE *f = fopen("/sys/class/misc/pinmem/dev", "re");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "%u:%u", &maj, &min);
	fclose(f);
	return n == 2 ? makedev(maj, min) : 0;
}

static int is_pinmem(const struct stat *st)
{
	return pinmem_rdev && S_ISCHR(st->st_mode) && st->st_rdev == pinmem_rdev;
}

/* The region and its areas as they are now. */
static int snapshot(void)
{
	struct pinmem_entry *e = NULL;
	struct pinmem_status st;
	size_t n = 0;
	int fd, r;

	fd = pinmem_dev_open();
	if (fd < 0) {
		err("open %s: %s", PINMEM_DEV, strerror(-fd));
		return fd;
	}
	r = pinmem_dev_status(fd, &st);
	if (!r)
		r = pinmem_dev_list(fd, false, &e, &n);
	close(fd);
	if (r) {
		err("reading the pinmem directory: %s", strerror(-r));
		return r;
	}
	img.region_start = st.region_start;
	img.region_size = st.region_size;
	for (size_t i = 0; i < n && !r; i++)
		if (e[i].length)
			r = pinimg_add_area(&img, e[i].name, e[i].offset, e[i].length);
	free(e);
	if (r)
		err("recording %zu areas: %s", n, strerror(-r));
	return r;
}

/*
 * Writes the image whole, under a temporary name first.  Called after each
 * record, not once at the end: cr_plugin_fini() cannot fail a dump, a hook
 * can, so an image that cannot be written stops the dump instead of leaving
 * one that cannot be restored.
 */
static int save(void)
{
	int dir = criu_get_image_dir();
	char *text;
	size_t len;
	ssize_t w;
	int fd, r;

	r = pinimg_format(&img, &text, &len);
	if (r)
		return r;
	fd = openat(dir, PINIMG_FILE ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	w = write(fd, text, len);
	r = w == (ssize_t)len ? 0 : w < 0 ? -errno : -EIO;
	if (close(fd) && !r)
		r = -errno;
	if (!r && renameat(dir, PINIMG_FILE ".tmp", dir, PINIMG_FILE))
		r = -errno;
out:
	if (r)
		err("writing %s: %s", PINIMG_FILE, strerror(-r));
	free(text);
	return r;
}

/* At the first pinmem file of a dump: what the region holds. */
static int start_recording(void)
{
	int r;

	if (have_img)
		return 0;
	r = snapshot();
	if (r)
		return r;
	have_img = 1;
	return save();
}

static int load(void)
{
	char why[PINIMG_WHY_MAX], *buf;
	ssize_t n;
	int fd, r;

	fd = openat(criu_get_image_dir(), PINIMG_FILE, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	buf = malloc(PINIMG_MAX_BYTES + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, buf, PINIMG_MAX_BYTES + 1);
	r = n < 0 ? -errno : 0;
	close(fd);
	if (!r) {
		r = pinimg_parse(buf, (size_t)n, &img, why, sizeof(why));
		if (r == -EINVAL)
			err("%s", why);
	}
	free(buf);
	if (r)
		return r;
	have_img = 1;
	if (!pinmem_rdev) {
		err("the dump holds pinmem memory (%zu areas in %s) but the pinmem module is not loaded",
		    img.nareas, PINIMG_FILE);
		return -ENODEV;
	}
	info("%zu areas and %zu descriptors recorded", img.nareas, img.nfds);
	return 0;
}

/* Static: criu exports its own cr_plugin_init, which would interpose. */
static int nvwa_init(int s)
{
	stage = s;
	pinmem_rdev = find_rdev();
	if (s == CR_PLUGIN_STAGE__RESTORE && load() < 0)
		return -1;
	return 0;
}

static void nvwa_fini(int s, int ret)
{
	(void)s;
	(void)ret;
	pinimg_free(&img);
	have_img = 0;
}

static int handle_device_vma(int fd, const struct stat *st)
{
	(void)fd;
	if (!is_pinmem(st))
		return -ENOTSUP;
	/* A pre-dump copies no file-backed memory: nothing to record. */
	if (stage != CR_PLUGIN_STAGE__DUMP)
		return 0;
	return start_recording() ? -1 : 0;
}

static int dump_ext_file(int fd, int id)
{
	char name[PINMEM_NAME_MAX] = "";
	struct stat st;
	uint64_t len;
	int flags, r;

	if (fstat(fd, &st) || !is_pinmem(&st))
		return -ENOTSUP;
	if (start_recording())
		return -1;
	flags = fcntl(fd, F_GETFL);
	r = pinmem_dev_attached(fd, name, &len);
	if (r == -ENODATA)
		name[0] = '\0';
	else if (r) {
		err("descriptor %#x: the area it was attached to: %s", id, strerror(-r));
		return -1;
	}
	r = pinimg_add_fd(&img, (uint32_t)id, (uint32_t)flags & (O_ACCMODE | O_NONBLOCK), name);
	if (r) {
		err("recording descriptor %#x: %s", id, strerror(-r));
		return -1;
	}
	info("descriptor %#x attached to %s", id, name[0] ? name : "no area");
	return save() ? -1 : 0;
}

static int restore_ext_file(int id)
{
	const struct pinimg_fd *f = have_img ? pinimg_fd_find(&img, (uint32_t)id) : NULL;
	int fd, r;

	if (!f)
		return -ENOTSUP;
	fd = open(PINMEM_DEV, (int)f->flags);
	if (fd < 0) {
		err("descriptor %#x: open %s: %s", id, PINMEM_DEV, strerror(errno));
		return -1;
	}
	if (f->name[0]) {
		r = pinmem_dev_attach(fd, f->name);
		if (r) {
			err("descriptor %#x: area %s %s", id, f->name,
			    r == -ENOENT ? "no longer exists" : strerror(-r));
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* Where area @a is now, if it still exists and is at least as long. */
static int area_now(const struct pinimg_area *a, uint64_t *ret_offset)
{
	struct pinmem_entry *e = NULL;
	size_t n = 0;
	int fd, r;

	fd = pinmem_dev_open();
	if (fd < 0)
		return fd;
	r = pinmem_dev_list(fd, false, &e, &n);
	close(fd);
	if (r)
		return r;
	r = -ENOENT;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(e[i].name, a->name))
			continue;
		r = e[i].length < a->length ? -ERANGE : 0;
		*ret_offset = e[i].offset;
	}
	free(e);
	return r;
}

static int update_vma_map(const char *path, const uint64_t addr, const uint64_t old_off,
			  uint64_t *new_off, int *plugin_fd)
{
	const struct pinimg_area *a;
	struct stat st;
	uint64_t now;
	int r;

	(void)plugin_fd;	/* CRIU opens the path itself: no descriptor of ours leaks */
	if (stat(path, &st) || !is_pinmem(&st))
		return -ENOTSUP;
	*new_off = UNMAPPABLE_OFFSET;
	if (!have_img) {
		err("mapping at %#llx is pinmem memory but the dump has no %s",
		    (unsigned long long)addr, PINIMG_FILE);
		return 1;
	}
	a = pinimg_area_at(&img, old_off);
	if (!a) {
		err("mapping at %#llx: no recorded area held region offset %#llx",
		    (unsigned long long)addr, (unsigned long long)old_off);
		return 1;
	}
	r = area_now(a, &now);
	if (r) {
		err("mapping at %#llx needs area %s (%llu bytes), which %s; the images are kept",
		    (unsigned long long)addr, a->name, (unsigned long long)a->length,
		    r == -ENOENT ? "no longer exists" : r == -ERANGE ? "has shrunk" : strerror(-r));
		return 1;
	}
	*new_off = now + (old_off - a->offset);
	info("mapping at %#llx: area %s, region offset %#llx -> %#llx",
	     (unsigned long long)addr, a->name, (unsigned long long)old_off,
	     (unsigned long long)*new_off);
	return 1;
}

CR_PLUGIN_REGISTER("nvwa-pinmem", nvwa_init, nvwa_fini)
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__HANDLE_DEVICE_VMA, handle_device_vma)
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__DUMP_EXT_FILE, dump_ext_file)
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__RESTORE_EXT_FILE, restore_ext_file)
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__UPDATE_VMA_MAP, update_vma_map)
