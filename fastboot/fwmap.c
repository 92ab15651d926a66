// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "fastboot/cmdline.h"
#include "fastboot/fwmap.h"

static int read_hex(const char *dir, const char *entry, const char *name, uint64_t *ret)
{
	char path[PATH_MAX], line[64], *end;

	if (xsnprintf(path, sizeof(path), "%s/%s/%s", dir, entry, name) < 0)
		return -ENAMETOOLONG;
	if (read_one_line(path, line, sizeof(line)) < 0)
		return -EIO;
	errno = 0;
	*ret = strtoull(line, &end, 16);
	return errno || end == line || *end ? -EINVAL : 0;
}

static int by_start(const void *a, const void *b)
{
	const struct fw_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int fwmap_read(const char *dir, struct fw_range *ret, size_t max, size_t *ret_n)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);
	int r = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct fw_range *f = &ret[n];
		char path[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		if (n == max) {
			r = -E2BIG;
			break;
		}
		if (read_hex(dir, de->d_name, "start", &f->start) < 0 ||
		    read_hex(dir, de->d_name, "end", &f->end) < 0 || f->end < f->start ||
		    xsnprintf(path, sizeof(path), "%s/%s/type", dir, de->d_name) < 0 ||
		    read_one_line(path, f->type, sizeof(f->type)) < 0) {
			r = -EINVAL;
			break;
		}
		n++;
	}
	closedir(d);
	if (r < 0)
		return r;
	qsort(ret, n, sizeof(*ret), by_start);
	*ret_n = n;
	return 0;
}

int fwmap_check(const struct fw_range *map, size_t n, uint64_t start, uint64_t size,
		char *why, size_t whylen)
{
	uint64_t last = start + size - 1;

	if (!size || last < start)
		return set_why(why, whylen, -ERANGE, "an empty or wrapping range");
	for (size_t i = 0; i < n; i++)
		if (!strcmp(map[i].type, "System RAM") && map[i].start <= start &&
		    last <= map[i].end)
			return 0;
	for (size_t i = 0; i < n; i++)
		if (map[i].start <= last && start <= map[i].end && strcmp(map[i].type, "System RAM"))
			return set_why(why, whylen, -ERANGE,
				       "0x%" PRIx64 "-0x%" PRIx64 " overlaps the firmware's \"%s\" range 0x%" PRIx64 "-0x%" PRIx64 ": pick a range inside one \"System RAM\" range of /sys/firmware/memmap",
				       start, last, map[i].type, map[i].start, map[i].end);
	return set_why(why, whylen, -ERANGE,
		       "0x%" PRIx64 "-0x%" PRIx64 " is not inside one \"System RAM\" range the firmware reports (see /sys/firmware/memmap)",
		       start, last);
}

int fwmap_check_aligned(uint64_t start, uint64_t size, char *why, size_t whylen)
{
	if (!(start % FWMAP_SECTION) && !(size % FWMAP_SECTION))
		return 0;
	return set_why(why, whylen, -EINVAL,
		       "0x%" PRIx64 "+%" PRIu64 " MiB does not start and end on a 128 MiB boundary: the kernel maps it by 128 MiB sections and may trim or refuse a section it shares with other memory",
		       start, size >> 20);
}

int fwmap_check_cmdline(const char *dir, const char *cmdline, char *why, size_t whylen)
{
	static const char types[] = { '!', '$' };
	struct fw_range map[FWMAP_MAX];
	size_t n;
	int r;

	r = fwmap_read(dir, map, FWMAP_MAX, &n);
	if (r < 0)
		return set_why(why, whylen, -ENOENT, "cannot read the firmware's memory map %s: %s",
			       dir, strerror(-r));
	for (size_t t = 0; t < sizeof(types); t++) {
		struct pmem_reservation res;

		for (int i = 0; cmdline_find_memmap(cmdline, types[t], i, &res) == 0; i++) {
			char detail[384];

			r = fwmap_check(map, n, res.start, res.size, detail, sizeof(detail));
			/* Only persistent memory is mapped by sections (nd_pmem). */
			if (r == 0 && types[t] == '!')
				r = fwmap_check_aligned(res.start, res.size, detail, sizeof(detail));
			if (r < 0)
				return set_why(why, whylen, r, "memmap=%lluM%c%lluM: %s",
					       res.size >> 20, types[t], res.start >> 20, detail);
		}
	}
	return 0;
}
