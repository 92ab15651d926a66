// SPDX-License-Identifier: GPL-2.0
/*
 * nvwa-pinmem-stress: read()s and write()s of pinmem's files racing
 * resizes, removes and creates through /dev/pinmem for a bounded time, run
 * in the test VM against the real module.  Each area has one writer, which
 * writes only its own byte: every byte an area holds must be that byte or
 * zero, so a copy that lands in pages the area no longer owns shows up as a
 * foreign byte in whichever area owns them now.  Short-lived "junk" areas
 * take the freed pages and must read back exactly what was written into
 * them; a canary area nothing resizes keeps its pattern.  Prints one
 * "ok"/"not ok" line per check; exit status 1 if any failed.
 *
 *   nvwa-pinmem-stress FSDIR SECONDS
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pinmem/lib/libpinmem.h"

#define AREAS		3
#define JUNKS		4
#define MAX_LEN		(2U << 20)
#define CHUNK		(256U << 10)
#define CANARY_LEN	(1U << 20)
#define JUNK_BYTE	0xee

static const char *fsdir;
static time_t deadline;
static uint64_t rng;

static void say(int ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Unbuffered: forked workers print their own verdicts. */
static void say(int ok, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	dprintf(STDOUT_FILENO, "%s\n", line);
}

static uint32_t rnd(uint32_t bound)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return bound ? (uint32_t)(rng % bound) : 0;
}

static int running(void)
{
	return time(NULL) < deadline;
}

static unsigned char tag(int i)
{
	return (unsigned char)(0x11 * (i + 1));
}

static void area_name(char *buf, size_t len, const char *kind, int i)
{
	snprintf(buf, len, "stress-%s%d", kind, i);
}

static int open_area(const char *name, int flags)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", fsdir, name);
	return open(path, flags | O_CLOEXEC);
}

static unsigned char canary_byte(size_t off)
{
	return (unsigned char)(off * 7 + 3);
}

/* Offset of the first byte of @buf that is neither 0 nor @want, or -1. */
static ssize_t foreign(const unsigned char *buf, size_t n, unsigned char want)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (buf[i] && buf[i] != want)
			return (ssize_t)i;
	return -1;
}

/* Writes its area's byte at random places until the time is up. */
static int writer(int i)
{
	static unsigned char buf[CHUNK];
	unsigned long writes = 0;
	char name[64];
	struct stat st;
	int fd = -1;

	area_name(name, sizeof(name), "", i);
	memset(buf, tag(i), sizeof(buf));
	while (running()) {
		if (fd < 0)
			fd = open_area(name, O_RDWR);
		if (fd < 0 || fstat(fd, &st) < 0) {
			usleep(1000);
			continue;
		}
		if (pwrite(fd, buf, 1 + rnd(CHUNK),
			   rnd((uint32_t)st.st_size + 1)) > 0)
			writes++;
		else if (errno == ENOENT) {
			close(fd);
			fd = -1;
		}
	}
	say(writes > 0, "writer of %s: %lu writes", name, writes);
	return writes > 0 ? 0 : 1;
}

/* Reads its area whole, again and again: zeros and its writer's byte. */
static int reader(int i)
{
	static unsigned char buf[CHUNK];
	unsigned long passes = 0;
	char name[64];
	ssize_t n, bad;
	off_t off;
	int fd;

	area_name(name, sizeof(name), "", i);
	while (running()) {
		fd = open_area(name, O_RDONLY);
		if (fd < 0) {
			usleep(1000);
			continue;
		}
		for (off = 0; (n = pread(fd, buf, sizeof(buf), off)) > 0; off += n) {
			bad = foreign(buf, (size_t)n, tag(i));
			if (bad >= 0) {
				say(0, "reader of %s: byte %#x at offset %lld, expected 0 or %#x",
				    name, buf[bad], (long long)(off + bad), tag(i));
				close(fd);
				return 1;
			}
		}
		close(fd);
		passes++;
		usleep(500);
	}
	say(passes > 0, "reader of %s: %lu passes, every byte zero or its writer's",
	    name, passes);
	return passes > 0 ? 0 : 1;
}

static int area_req(int fd, unsigned long cmd, const char *name, uint64_t len)
{
	struct pinmem_area_req req = { .size = sizeof(req), .length = len };

	snprintf(req.name, sizeof(req.name), "%s", name);
	return ioctl(fd, cmd, &req) < 0 ? -errno : 0;
}

/* Resizes, removes and creates the writers' areas through /dev/pinmem. */
static int resizer(int dev)
{
	unsigned long resized = 0, removed = 0, busy = 0;
	char name[64];
	int r;

	while (running()) {
		area_name(name, sizeof(name), "", (int)rnd(AREAS));
		if (rnd(8)) {
			r = area_req(dev, PINMEM_IOC_RESIZE, name, rnd(MAX_LEN));
			resized += !r;
		} else {
			r = area_req(dev, PINMEM_IOC_REMOVE, name, 0);
			removed += !r;
			if (!r)
				area_req(dev, PINMEM_IOC_CREATE, name, rnd(MAX_LEN));
		}
		busy += r == -EBUSY;
	}
	say(resized > 0 && removed > 0,
	    "resizer: %lu resizes, %lu removes and creates, %lu refused as busy",
	    resized, removed, busy);
	return resized > 0 && removed > 0 ? 0 : 1;
}

/*
 * Creates areas into the pages others left, fills them through the
 * filesystem and reads them back: nothing else writes them.
 */
static int junker(int dev)
{
	static unsigned char buf[MAX_LEN];
	unsigned long checked = 0;
	uint64_t len;
	char name[64];
	ssize_t bad;
	int fd, k = 0;

	while (running()) {
		area_name(name, sizeof(name), "junk", k);
		k = (k + 1) % JUNKS;
		len = 4096 + rnd(MAX_LEN - 4096);
		if (area_req(dev, PINMEM_IOC_CREATE, name, len))
			continue;
		fd = open_area(name, O_RDWR);
		if (fd < 0)
			goto remove;
		memset(buf, JUNK_BYTE, len);
		if (pwrite(fd, buf, len, 0) != (ssize_t)len) {
			close(fd);
			goto remove;
		}
		memset(buf, 0, len);
		if (pread(fd, buf, len, 0) == (ssize_t)len) {
			for (bad = 0; bad < (ssize_t)len; bad++)
				if (buf[bad] != JUNK_BYTE)
					break;
			if (bad < (ssize_t)len) {
				say(0, "%s: byte %#x at offset %zd, written %#x",
				    name, buf[bad], bad, JUNK_BYTE);
				close(fd);
				return 1;
			}
			checked++;
		}
		close(fd);
remove:
		while (area_req(dev, PINMEM_IOC_REMOVE, name, 0) == -EBUSY)
			;
	}
	say(checked > 0, "junk areas: %lu filled in freed pages and read back intact",
	    checked);
	return checked > 0 ? 0 : 1;
}

static int canary(int fd, int write)
{
	static unsigned char buf[CANARY_LEN];
	size_t i;

	if (write) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = canary_byte(i);
		return pwrite(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf);
	}
	if (pread(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
		return 0;
	for (i = 0; i < sizeof(buf); i++)
		if (buf[i] != canary_byte(i))
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	pid_t pids[2 * AREAS + 2];
	int dev, fd = -1, i, n = 0, status, failed = 0;
	char name[64];

	if (argc != 3) {
		fprintf(stderr, "usage: nvwa-pinmem-stress FSDIR SECONDS\n");
		return 2;
	}
	fsdir = argv[1];
	dev = pinmem_dev_open();
	if (dev < 0) {
		fprintf(stderr, "open %s: %s\n", PINMEM_DEV, strerror(-dev));
		return 1;
	}
	if (pinmem_dev_create(dev, "stress-canary", CANARY_LEN) < 0 ||
	    (fd = open_area("stress-canary", O_RDWR)) < 0 || !canary(fd, 1)) {
		say(0, "canary area written");
		return 1;
	}
	for (i = 0; i < AREAS; i++) {
		area_name(name, sizeof(name), "", i);
		pinmem_dev_create(dev, name, MAX_LEN / 2);
	}
	deadline = time(NULL) + atoi(argv[2]);
	for (i = 0; i < 2 * AREAS + 2; i++) {
		pids[n] = fork();
		if (pids[n] < 0) {
			perror("fork");
			break;
		}
		if (pids[n] == 0) {
			rng = 0x9e3779b97f4a7c15ull * (uint64_t)(getpid() + i);
			if (i < AREAS)
				_exit(writer(i));
			if (i < 2 * AREAS)
				_exit(reader(i - AREAS));
			_exit(i == 2 * AREAS ? resizer(dev) : junker(dev));
		}
		n++;
	}
	while (n--)
		if (waitpid(pids[n], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			failed = 1;
	say(canary(fd, 0), "the canary area kept its 1 MiB pattern");
	failed |= !canary(fd, 0);
	close(fd);
	for (i = 0; i < AREAS; i++) {
		area_name(name, sizeof(name), "", i);
		pinmem_dev_remove(dev, name);
	}
	for (i = 0; i < JUNKS; i++) {
		area_name(name, sizeof(name), "junk", i);
		pinmem_dev_remove(dev, name);
	}
	i = pinmem_dev_remove(dev, "stress-canary");
	say(!i, "the stress areas removed");
	close(dev);
	return failed || i;
}
