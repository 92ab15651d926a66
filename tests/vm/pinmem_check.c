// SPDX-License-Identifier: GPL-2.0
/*
 * nvwa-pinmem-check: what /dev/pinmem and the pinmem filesystem refuse,
 * run in the test VM against the real module.  Every request that must
 * fail is checked for its errno and for leaving no trace (the status and
 * the list are the same afterwards).  Prints one "ok"/"not ok" line per
 * check; exit status 1 if any failed.
 *
 *   nvwa-pinmem-check FSDIR     (FSDIR: where the pinmem fs is mounted)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pinmem/lib/libpinmem.h"
#include "pinmem/module/format.h"

static int failed;

__attribute__((format(printf, 2, 3)))
static void expect(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", cond ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failed |= !cond;
}

static int req(int fd, unsigned long cmd, const char *name, size_t namelen,
	       uint64_t length, uint32_t size, uint32_t flags)
{
	struct pinmem_area_req r = { .size = size, .flags = flags,
				     .length = length };

	memcpy(r.name, name, namelen < sizeof(r.name) ? namelen : sizeof(r.name));
	return ioctl(fd, cmd, &r) < 0 ? -errno : 0;
}

static int create(int fd, const char *name, uint64_t len)
{
	return req(fd, PINMEM_IOC_CREATE, name, strlen(name) + 1, len,
		   sizeof(struct pinmem_area_req), 0);
}

/* @cmd as a newer caller numbers it, its struct grown to @size bytes. */
static unsigned long grown(unsigned long cmd, size_t size)
{
	return _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), size);
}

/*
 * A newer caller's area request: ours followed by fields this module does
 * not know, @tail in the first of them.
 */
struct newer_area_req {
	struct pinmem_area_req req;
	uint64_t tail[2];
};

static int newer_req(int fd, unsigned long cmd, const char *name,
		     uint64_t length, uint64_t tail)
{
	struct newer_area_req n = {
		.req = { .size = sizeof(n), .length = length },
		.tail = { tail },
	};

	strcpy(n.req.name, name);
	return ioctl(fd, grown(cmd, sizeof(n)), &n) < 0 ? -errno : 0;
}

static struct pinmem_status status(int fd)
{
	struct pinmem_status st;

	if (pinmem_dev_status(fd, &st) < 0) {
		perror("status");
		exit(1);
	}
	return st;
}

static int same(const struct pinmem_status *a, const struct pinmem_status *b)
{
	return a->free_bytes == b->free_bytes && a->dir_used == b->dir_used &&
	       a->areas == b->areas && a->area_bytes == b->area_bytes;
}

/* Where the region's directory puts area @name. */
static uint64_t area_offset(int fd, const char *name)
{
	struct pinmem_entry *e = NULL;
	uint64_t off = UINT64_MAX;
	size_t n, i;

	if (pinmem_dev_list(fd, false, &e, &n) < 0)
		return off;
	for (i = 0; i < n; i++)
		if (!strcmp(e[i].name, name))
			off = e[i].offset;
	free(e);
	return off;
}

/* The length the region's directory gives area @name. */
static uint64_t area_length(int fd, const char *name)
{
	struct pinmem_entry *e = NULL;
	uint64_t len = UINT64_MAX;
	size_t n, i;

	if (pinmem_dev_list(fd, false, &e, &n) < 0)
		return len;
	for (i = 0; i < n; i++)
		if (!strcmp(e[i].name, name))
			len = e[i].length;
	free(e);
	return len;
}

static int open_file(const char *dir, const char *name, int flags)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return open(path, flags | O_CLOEXEC);
}

/* Writes @len bytes @c at @off of area @name, through its file. */
static int fill_file(const char *dir, const char *name, int c, size_t off,
		     size_t len)
{
	unsigned char *buf = malloc(len);
	int fd = open_file(dir, name, O_RDWR), ok;

	if (buf)
		memset(buf, c, len);
	ok = buf && fd >= 0 && pwrite(fd, buf, len, (off_t)off) == (ssize_t)len;
	if (fd >= 0)
		close(fd);
	free(buf);
	return ok;
}

/* Area @name holds @len bytes @c at @off, read through its file. */
static int file_holds(const char *dir, const char *name, int c, size_t off,
		      size_t len)
{
	unsigned char *buf = malloc(len);
	int fd = open_file(dir, name, O_RDONLY), ok;
	size_t i;

	ok = buf && fd >= 0 && pread(fd, buf, len, (off_t)off) == (ssize_t)len;
	for (i = 0; ok && i < len; i++)
		ok = buf[i] == c;
	if (fd >= 0)
		close(fd);
	free(buf);
	return ok;
}

/* syslog(2)'s actions: the kernel does not export their names. */
#define SYSLOG_ACTION_READ_ALL		3
#define SYSLOG_ACTION_SIZE_BUFFER	10

/* Lines of the kernel log that hold @what. */
static int klog_count(const char *what)
{
	int size = klogctl(SYSLOG_ACTION_SIZE_BUFFER, NULL, 0), len, n = 0;
	char *buf, *p;

	if (size <= 0 || !(buf = malloc((size_t)size + 1)))
		return -1;
	len = klogctl(SYSLOG_ACTION_READ_ALL, buf, size);
	if (len < 0) {
		free(buf);
		return -1;
	}
	buf[len] = '\0';
	for (p = buf; (p = strstr(p, what)); p++)
		n++;
	free(buf);
	return n;
}

/*
 * The largest vmalloc'd block the pinmem module holds right now, in bytes
 * (the region's own mapping is memremap()'s, not the module's).
 */
static unsigned long pinmem_vmalloc_bytes(void)
{
	unsigned long size, max = 0;
	char line[512];
	FILE *f = fopen("/proc/vmallocinfo", "re");

	if (!f)
		return ULONG_MAX;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[pinmem]") &&
		    sscanf(line, "%*s %lu", &size) == 1 && size > max)
			max = size;
	fclose(f);
	return max;
}

/*
 * For 3 s a child lists with room for the most entries a directory can
 * have, into a buffer of 16 (the region holds fewer areas), while this
 * process watches what the module allocates: the peak, or UINT64_MAX if
 * the child's lists failed.
 */
static uint64_t list_peak(int fd)
{
	uint64_t peak = 0, now;
	time_t end = time(NULL) + 3;
	pid_t pid;
	int r;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct pinmem_entry few[16];
		struct pinmem_list big = {
			.size = sizeof(big),
			.capacity = PINMEM_MAX_ENTRIES,
			.entries = (uintptr_t)few,
		};

		while (time(NULL) < end)
			if (ioctl(fd, PINMEM_IOC_LIST, &big) < 0)
				_exit(1);
		_exit(0);
	}
	while (time(NULL) < end) {
		now = pinmem_vmalloc_bytes();
		if (now > peak)
			peak = now;
	}
	if (pid < 0 || waitpid(pid, &r, 0) < 0 || !WIFEXITED(r) || WEXITSTATUS(r))
		return UINT64_MAX;
	return peak;
}

/* Takes CAP_SYS_ADMIN out of this process's effective and permitted sets. */
static int drop_sys_admin(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	uint32_t bit = 1U << (CAP_SYS_ADMIN % 32);

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	d[CAP_SYS_ADMIN / 32].effective &= ~bit;
	d[CAP_SYS_ADMIN / 32].permitted &= ~bit;
	d[CAP_SYS_ADMIN / 32].inheritable &= ~bit;
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

/* The file offset /proc/self/maps gives the mapping at @addr. */
static uint64_t map_offset(const void *addr)
{
	unsigned long long start, pgoff = UINT64_MAX;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return UINT64_MAX;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx-%*x %*s %llx", &start, &pgoff) == 2 &&
		    start == (uintptr_t)addr)
			break;
		else
			pgoff = UINT64_MAX;
	fclose(f);
	return pgoff;
}

int main(int argc, char **argv)
{
	struct pinmem_status before, st;
	struct pinmem_list list;
	struct stat sb;
	char path[256], longname[PINMEM_NAME_MAX], name[PINMEM_NAME_MAX];
	uint64_t len, off;
	unsigned n;
	void *p, *q;
	int fd, fd2, r, logged;
	pid_t pid;

	if (argc != 2) {
		fprintf(stderr, "usage: nvwa-pinmem-check FSDIR\n");
		return 2;
	}
	fd = pinmem_dev_open();
	if (fd < 0) {
		fprintf(stderr, "open %s: %s\n", PINMEM_DEV, strerror(-fd));
		return 1;
	}
	before = status(fd);
	expect(before.state == PINMEM_STATE_VALID, "region is valid");

	/* What a caller asks for sizes neither the kernel's log nor its memory. */
	logged = klog_count("cannot format");
	for (r = 0, n = 0; n < 50; n++)
		r |= pinmem_dev_format(fd, 0, PINMEM_MAX_ENTRIES) != -EINVAL;
	expect(!r, "format with a directory larger than the region: EINVAL, 50 times");
	logged = klog_count("cannot format") - logged;
	expect(logged <= 10, "the kernel log says so at most 10 times (%d)", logged);
	len = list_peak(fd);
	expect(len < (1 << 20),
	       "lists offering room for %u entries take no more memory than the directory's (saw %llu bytes)",
	       PINMEM_MAX_ENTRIES, (unsigned long long)len);

	/* Sizes, flags and names of the request itself. */
	expect(req(fd, PINMEM_IOC_CREATE, "a", 2, 4096, 8, 0) == -EINVAL,
	       "create with a short size field: EINVAL");
	expect(req(fd, PINMEM_IOC_CREATE, "a", 2, 4096,
		   sizeof(struct pinmem_area_req), 1) == -EINVAL,
	       "create with unknown flags: EINVAL");
	expect(create(fd, "", 4096) == -EINVAL, "empty name: EINVAL");
	expect(create(fd, ".hidden", 4096) == -EINVAL, "leading dot: EINVAL");
	expect(create(fd, "a/b", 4096) == -EINVAL, "slash in name: EINVAL");
	memset(longname, 'x', sizeof(longname));
	expect(req(fd, PINMEM_IOC_CREATE, longname, sizeof(longname), 4096,
		   sizeof(struct pinmem_area_req), 0) == -EINVAL,
	       "name without NUL: EINVAL");
	expect(ioctl(fd, PINMEM_IOC_CREATE, (void *)8) < 0 && errno == EFAULT,
	       "bad pointer: EFAULT");
	expect(ioctl(fd, _IO(PINMEM_IOC_MAGIC, 99), 0) < 0 && errno == ENOTTY,
	       "unknown ioctl: ENOTTY");
	{
		struct pinmem_status s = { .size = 4 };

		expect(ioctl(fd, PINMEM_IOC_STATUS, &s) < 0 && errno == EINVAL,
		       "status with a wrong size: EINVAL");
	}
	memset(&list, 0, sizeof(list));
	list.size = sizeof(list);
	list.capacity = 0x7fffffff;
	expect(ioctl(fd, PINMEM_IOC_LIST, &list) < 0 && errno == EINVAL,
	       "list with a huge capacity: EINVAL");
	list.capacity = 4;
	list.entries = 8;
	r = create(fd, "listed", 4096);
	expect(ioctl(fd, PINMEM_IOC_LIST, &list) < 0 && errno == EFAULT,
	       "list into a bad pointer: EFAULT");
	pinmem_dev_remove(fd, "listed");
	(void)r;

	/* Struct sizes: older ones refused, newer ones taken if they fit. */
	expect(req(fd, PINMEM_IOC_CREATE, "a", 2, 4096,
		   PINMEM_AREA_REQ_SIZE_VER0 - 1, 0) == -EINVAL,
	       "create one byte short of the first struct: EINVAL");
	expect(req(fd, PINMEM_IOC_CREATE, "a", 2, 4096,
		   PINMEM_PAGE_SIZE + 1, 0) == -E2BIG,
	       "create with a size past a page: E2BIG");
	expect(newer_req(fd, PINMEM_IOC_CREATE, "newer", 4096, 1) == -E2BIG,
	       "create with a newer struct, unknown field set: E2BIG");
	st = status(fd);
	expect(same(&before, &st), "the refused sizes left no trace");
	fd2 = pinmem_dev_open();
	expect(newer_req(fd, PINMEM_IOC_CREATE, "newer", 8192, 0) == 0 &&
	       newer_req(fd2, PINMEM_IOC_ATTACH, "newer", 0, 0) == 0,
	       "create and attach with a newer struct, unknown fields zero");
	{
		struct newer_area_req nr = {
			.req = { .size = sizeof(nr) },
		};

		expect(ioctl(fd2, grown(PINMEM_IOC_ATTACHED, sizeof(nr)), &nr) == 0 &&
		       !strcmp(nr.req.name, "newer") && nr.req.length == 8192 &&
		       nr.req.size == sizeof(nr) && !nr.tail[0] && !nr.tail[1],
		       "ATTACHED into a newer struct: name and length, the rest untouched");
		nr.tail[1] = 1;
		expect(ioctl(fd2, grown(PINMEM_IOC_ATTACHED, sizeof(nr)), &nr) < 0 &&
		       errno == E2BIG, "ATTACHED with an unknown field set: E2BIG");
	}
	close(fd2);
	expect(newer_req(fd, PINMEM_IOC_RESIZE, "newer", 4096, 1) == -E2BIG,
	       "resize with an unknown field set: E2BIG");
	expect(newer_req(fd, PINMEM_IOC_REMOVE, "newer", 0, 1) == -E2BIG,
	       "remove with an unknown field set: E2BIG");
	{
		struct {
			struct pinmem_format fmt;
			uint64_t tail;
		} f = { .fmt = { .size = sizeof(f) }, .tail = 1 };

		expect(ioctl(fd, grown(PINMEM_IOC_FORMAT, sizeof(f)), &f) < 0 &&
		       errno == E2BIG, "format with an unknown field set: E2BIG");
		f.tail = 0;
		expect(ioctl(fd, grown(PINMEM_IOC_FORMAT, sizeof(f)), &f) < 0 &&
		       errno == ENOTEMPTY,
		       "format with a newer struct gets to the areas: ENOTEMPTY");
	}
	{
		struct {
			struct pinmem_list list;
			uint64_t tail;
		} l = { .list = { .size = sizeof(l) }, .tail = 1 };

		expect(ioctl(fd, grown(PINMEM_IOC_LIST, sizeof(l)), &l) < 0 &&
		       errno == E2BIG, "list with an unknown field set: E2BIG");
		l.tail = 0;
		expect(ioctl(fd, grown(PINMEM_IOC_LIST, sizeof(l)), &l) == 0 &&
		       l.list.count == before.areas + 1,
		       "list with a newer struct counts the areas");
	}
	{
		struct {
			struct pinmem_status st;
			unsigned char tail[64];
		} s;

		memset(&s, 0xff, sizeof(s));
		s.st.size = sizeof(s);
		expect(ioctl(fd, grown(PINMEM_IOC_STATUS, sizeof(s)), &s) == 0 &&
		       s.st.size == sizeof(struct pinmem_status) &&
		       s.st.areas == before.areas + 1 &&
		       !memcmp(s.tail, (unsigned char[64]){ 0 }, sizeof(s.tail)),
		       "status into a newer struct: ours filled, its size given, the rest zeroed");
		memset(&s, 0, sizeof(s));
		s.st.size = PINMEM_STATUS_SIZE_VER0;
		expect(ioctl(fd, PINMEM_IOC_STATUS, &s) == 0 &&
		       s.st.size == PINMEM_STATUS_SIZE_VER0 &&
		       s.st.state == PINMEM_STATE_VALID,
		       "status of the first struct's size");
	}
	expect(newer_req(fd, PINMEM_IOC_REMOVE, "newer", 0, 0) == 0,
	       "remove with a newer struct, unknown fields zero");
	st = status(fd);
	expect(same(&before, &st), "the sized requests left no trace");

	/* Ranges and exhaustion leave nothing half-made. */
	expect(create(fd, "huge", before.region_size * 2) == -ENOSPC,
	       "area larger than the region: ENOSPC");
	expect(create(fd, "toobig", before.largest_free + 4096) == -ENOSPC,
	       "area larger than the largest free extent: ENOSPC");
	expect(create(fd, "huge", UINT64_MAX) == -ENOSPC,
	       "area of 2^64-1 bytes: ENOSPC");
	st = status(fd);
	expect(same(&before, &st), "refused creates left no trace");
	for (n = 0;; n++) {
		snprintf(path, sizeof(path), "fill-%u", n);
		r = create(fd, path, 4 << 20);
		if (r)
			break;
	}
	expect(r == -ENOSPC && n > 0, "filling with 4 MiB areas ends in ENOSPC (%u made)", n);
	st = status(fd);
	expect(st.areas == before.areas + n &&
	       st.area_bytes == before.area_bytes + ((uint64_t)n << 22),
	       "the refused area left nothing half-made");
	while (n--) {
		snprintf(path, sizeof(path), "fill-%u", n);
		if (pinmem_dev_remove(fd, path) < 0)
			break;
	}
	st = status(fd);
	expect(same(&before, &st), "removing them gives every byte back");

	/* Names that do not exist, names that do. */
	expect(pinmem_dev_remove(fd, "nosuch") == -ENOENT, "remove of a missing area: ENOENT");
	expect(pinmem_dev_resize(fd, "nosuch", 4096) == -ENOENT, "resize of a missing area: ENOENT");
	expect(create(fd, "dup", 4096) == 0, "create dup");
	expect(create(fd, "dup", 4096) == -EEXIST, "second create of dup: EEXIST");

	/* Mapping: only shared, only inside the area. */
	fd2 = pinmem_dev_open();
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd2, 0);
	expect(p == MAP_FAILED && errno == ENXIO,
	       "unattached mmap of the superblock (no area there): ENXIO");
	expect(pinmem_dev_attached(fd2, name, &len) == -ENODATA,
	       "ATTACHED before attach: ENODATA");
	expect(req(fd2, PINMEM_IOC_ATTACH, "dup", 4, 0,
		   sizeof(struct pinmem_area_req), 0) == 0, "attach dup");
	expect(pinmem_dev_attached(fd2, name, &len) == 0 &&
	       !strcmp(name, "dup") && len == 4096, "ATTACHED names dup, 4096 bytes");
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd2, 0);
	expect(p == MAP_FAILED && errno == EINVAL, "private mapping: EINVAL");
	p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd2, 0);
	expect(p == MAP_FAILED && errno == ENXIO, "mapping past the end: ENXIO");
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd2, 4096);
	expect(p == MAP_FAILED && errno == ENXIO, "mapping at an offset past the end: ENXIO");
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	expect(p != MAP_FAILED, "shared mapping of the area");
	off = area_offset(fd, "dup");
	expect(map_offset(p) == off,
	       "/proc/self/maps shows the region offset of dup (%#llx)",
	       (unsigned long long)off);
	close(fd2);
	fd2 = pinmem_dev_open();
	q = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, (off_t)off);
	expect(q != MAP_FAILED, "unattached mmap at dup's region offset");
	if (q != MAP_FAILED) {
		((volatile char *)p)[1] = 7;
		expect(((volatile char *)q)[1] == 7, "both mappings are the same memory");
		expect(map_offset(q) == off, "and it shows the same region offset");
		munmap(q, 4096);
	}
	q = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd2, (off_t)off);
	expect(q == MAP_FAILED && errno == ENXIO, "unattached mmap past the area: ENXIO");
	q = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd2, (off_t)1 << 62);
	expect(q == MAP_FAILED && errno == ENXIO, "unattached mmap past the region: ENXIO");
	close(fd2);
	expect(pinmem_dev_remove(fd, "dup") == -EBUSY, "remove while mapped: EBUSY");
	expect(pinmem_dev_resize(fd, "dup", 8192) == -EBUSY, "resize while mapped: EBUSY");
	expect(pinmem_dev_format(fd, PINMEM_FORMAT_DISCARD, 0) == -EBUSY, "format while mapped: EBUSY");
	st = status(fd);
	expect(st.areas_mapped == 1, "status counts the mapping");
	pid = fork();
	if (pid == 0) {
		((volatile char *)p)[0] = 42;
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	expect(((volatile char *)p)[0] == 42, "a forked child writes the same memory");
	munmap(p, 4096);
	expect(pinmem_dev_format(fd, 0, 0) == -ENOTEMPTY,
	       "format with areas, no --discard: ENOTEMPTY");
	fd2 = pinmem_dev_open();
	expect(pinmem_dev_attach(fd2, "dup") == 0, "attach dup again");
	expect(pinmem_dev_remove(fd, "dup") == 0, "remove after munmap");
	expect(pinmem_dev_attached(fd2, name, &len) == -ENOENT,
	       "ATTACHED once the area is removed: ENOENT");
	close(fd2);

	/* What was not written since an area grew reads as zeros. */
	expect(create(fd, "scrub", 8192) == 0 &&
	       fill_file(argv[1], "scrub", 0xab, 0, 8192), "scrub: 8 KiB written");
	expect(pinmem_dev_resize(fd, "scrub", 100) == 0 &&
	       pinmem_dev_resize(fd, "scrub", 4000) == 0 &&
	       file_holds(argv[1], "scrub", 0xab, 0, 100) &&
	       file_holds(argv[1], "scrub", 0, 100, 3900),
	       "shrunk to 100 bytes, grown within its page: the 100 kept, the rest zeros");
	expect(pinmem_dev_resize(fd, "scrub", 8192) == 0 &&
	       file_holds(argv[1], "scrub", 0, 100, 8092),
	       "grown to its old 8 KiB: zeros past the 100 bytes kept");
	expect(pinmem_dev_resize(fd, "scrub", 100) == 0 &&
	       create(fd, "wall", 4096) == 0 && create(fd, "junk", 16384) == 0 &&
	       fill_file(argv[1], "junk", 0xcd, 0, 16384),
	       "an area walled in by another, a third filled");
	off = area_offset(fd, "junk");
	expect(pinmem_dev_remove(fd, "junk") == 0 &&
	       pinmem_dev_resize(fd, "scrub", 12288) == 0 &&
	       area_offset(fd, "scrub") == off,
	       "growing it moves it into the pages the removed area left");
	expect(file_holds(argv[1], "scrub", 0xab, 0, 100) &&
	       file_holds(argv[1], "scrub", 0, 100, 12188),
	       "the move copied the 100 bytes; the rest reads as zeros, not the removed area's");
	pinmem_dev_remove(fd, "scrub");
	pinmem_dev_remove(fd, "wall");

	/* An open file follows a resize made through /dev/pinmem. */
	expect(create(fd, "append", 4096) == 0, "create append, 4 KiB");
	fd2 = open_file(argv[1], "append", O_WRONLY | O_APPEND);
	expect(fd2 >= 0 && pinmem_dev_resize(fd, "append", 8192) == 0,
	       "open it O_APPEND, resize it to 8 KiB by ioctl");
	expect(fstat(fd2, &sb) == 0 && sb.st_size == 8192,
	       "fstat of the open file: 8192 bytes");
	expect(lseek(fd2, 0, SEEK_END) == 8192, "lseek to its end: 8192");
	expect(write(fd2, "z", 1) == 1 && area_length(fd, "append") == 8193,
	       "an O_APPEND write lands at the new end: 8193 bytes");
	if (fd2 >= 0)
		close(fd2);
	pinmem_dev_remove(fd, "append");

	/* The filesystem: same rules by path. */
	snprintf(path, sizeof(path), "%s/byfile", argv[1]);
	fd2 = open(path, O_RDWR | O_CREAT, 0600);
	expect(fd2 >= 0, "create %s", path);
	expect(ftruncate(fd2, 1 << 20) == 0, "ftruncate to 1 MiB");
	expect(pinmem_dev_list(fd, false, &(struct pinmem_entry *){ NULL }, &(size_t){ 0 }) == 0,
	       "list works");
	p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	expect(p != MAP_FAILED, "mmap by path");
	expect(ftruncate(fd2, 2 << 20) < 0 && errno == EBUSY, "ftruncate while mapped: EBUSY");
	expect(unlink(path) < 0 && errno == EBUSY, "unlink while mapped: EBUSY");
	munmap(p, 1 << 20);
	expect(write(fd2, "x", 1) == 1, "write(2) to the file");
	close(fd2);
	expect(unlink(path) == 0, "unlink after munmap");
	snprintf(path, sizeof(path), "%s/bad name", argv[1]);
	expect(open(path, O_RDWR | O_CREAT, 0600) < 0, "a name pinmem refuses cannot be created");

	/*
	 * Changing the region takes a descriptor opened for writing and
	 * CAP_SYS_ADMIN; reading and attaching take neither.
	 */
	expect(create(fd, "perm", 4096) == 0, "create perm");
	fd2 = open(PINMEM_DEV, O_RDONLY | O_CLOEXEC);
	expect(fd2 >= 0 && create(fd2, "perm2", 4096) == -EBADF,
	       "create through a read-only descriptor: EBADF");
	expect(pinmem_dev_resize(fd2, "perm", 8192) == -EBADF,
	       "resize through a read-only descriptor: EBADF");
	expect(pinmem_dev_remove(fd2, "perm") == -EBADF,
	       "remove through a read-only descriptor: EBADF");
	expect(pinmem_dev_format(fd2, PINMEM_FORMAT_DISCARD, 0) == -EBADF,
	       "format through a read-only descriptor: EBADF");
	expect(pinmem_dev_status(fd2, &st) == 0 && pinmem_dev_attach(fd2, "perm") == 0,
	       "status and attach through a read-only descriptor");
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd2, 0);
	expect(p != MAP_FAILED, "it maps its area read-only");
	if (p != MAP_FAILED)
		munmap(p, 4096);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	expect(p == MAP_FAILED && errno == EACCES, "but not writable: EACCES");
	if (fd2 >= 0)
		close(fd2);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		expect(drop_sys_admin() == 0, "a child drops CAP_SYS_ADMIN");
		expect(create(fd, "perm2", 4096) == -EPERM,
		       "without CAP_SYS_ADMIN, create: EPERM");
		expect(pinmem_dev_resize(fd, "perm", 8192) == -EPERM,
		       "without CAP_SYS_ADMIN, resize: EPERM");
		expect(pinmem_dev_remove(fd, "perm") == -EPERM,
		       "without CAP_SYS_ADMIN, remove: EPERM");
		expect(pinmem_dev_format(fd, PINMEM_FORMAT_DISCARD, 0) == -EPERM,
		       "without CAP_SYS_ADMIN, format: EPERM");
		fd2 = pinmem_dev_open();
		expect(fd2 >= 0 && pinmem_dev_status(fd2, &st) == 0 &&
		       pinmem_dev_attach(fd2, "perm") == 0,
		       "without CAP_SYS_ADMIN, status and attach work");
		fflush(stdout);
		_exit(failed);
	}
	waitpid(pid, &r, 0);
	failed |= !WIFEXITED(r) || WEXITSTATUS(r);
	expect(area_length(fd, "perm") == 4096 && pinmem_dev_remove(fd, "perm") == 0,
	       "the refused requests left perm as it was");

	/* Root only. */
	pid = fork();
	if (pid == 0) {
		if (setuid(65534) < 0)
			_exit(2);
		_exit(open(PINMEM_DEV, O_RDWR) < 0 && errno == EACCES ? 0 : 1);
	}
	waitpid(pid, &r, 0);
	expect(WIFEXITED(r) && WEXITSTATUS(r) == 0, "/dev/pinmem refuses an unprivileged user");

	st = status(fd);
	expect(same(&before, &st), "everything given back at the end");
	close(fd);
	return failed;
}
