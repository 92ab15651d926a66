// SPDX-License-Identifier: GPL-2.0
/*
 * nvwa's own state: the history of updates (each finished update's record
 * kept as its report, STATE/updates/GEN.dtb) and the lock that lets one
 * update or restore run at a time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "tools/nvwa/nvwa.h"

const char *state_dir(void)
{
	const char *dir = getenv("NVWA_STATE_DIR");

	return dir && *dir ? dir : "/var/lib/nvwa";
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Calls @fn for each report kept (STATE/updates/GEN.dtb), in directory
 * order; the one place that knows how reports are named.
 */
static void for_each_generation(void (*fn)(uint64_t gen, void *data), void *data)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	xsnprintf(dir, sizeof(dir), "%s/updates", state_dir());
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char *end;
		uint64_t g = strtoull(de->d_name, &end, 10);

		if (end != de->d_name && !strcmp(end, ".dtb") && g)
			fn(g, data);
	}
	closedir(d);
}

struct gen_list {
	uint64_t *gens;
	size_t n, max;
};

static void keep_newest(uint64_t gen, void *data)
{
	struct gen_list *l = data;

	if (l->n < l->max) {
		l->gens[l->n++] = gen;
		return;
	}
	/* Full: the oldest gives way, so the newest are always listed. */
	qsort(l->gens, l->n, sizeof(*l->gens), cmp_u64);
	if (gen > l->gens[0])
		l->gens[0] = gen;
}

size_t state_list_generations(uint64_t *gens, size_t max)
{
	struct gen_list l = { .gens = gens, .max = max };

	for_each_generation(keep_newest, &l);
	qsort(gens, l.n, sizeof(*gens), cmp_u64);
	return l.n;
}

static void track_max(uint64_t gen, void *data)
{
	uint64_t *max = data;

	if (gen > *max)
		*max = gen;
}

/* The newest generation among the reports kept. */
static uint64_t newest_generation(void)
{
	uint64_t max = 0;

	for_each_generation(track_max, &max);
	return max;
}

/* Calls @fn for each generation whose images are in @store (STORE/gen-N). */
static int for_each_store_generation(const char *store,
				     void (*fn)(uint64_t gen, void *data), void *data)
{
	struct dirent *de;
	DIR *d;

	d = opendir(store);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		uint64_t g;

		if (strncmp(de->d_name, "gen-", 4) || de->d_name[4] < '0' || de->d_name[4] > '9')
			continue;
		g = strtoull(de->d_name + 4, &end, 10);
		if (!*end && g)
			fn(g, data);
	}
	closedir(d);
	return 0;
}

struct gen_count {
	struct gen_list list;
	size_t total;
};

static void keep_newest_counting(uint64_t gen, void *data)
{
	struct gen_count *c = data;

	keep_newest(gen, &c->list);
	c->total++;
}

int store_unrestored_generations(const char *store, uint64_t *gens, size_t max,
				 size_t *ret_n)
{
	struct gen_count c = { .list = { .gens = gens, .max = max } };
	int r;

	r = for_each_store_generation(store, keep_newest_counting, &c);
	if (r < 0)
		return r;
	qsort(gens, c.list.n, sizeof(*gens), cmp_u64);
	*ret_n = c.total;
	return 0;
}

uint64_t state_next_generation(const char *store)
{
	uint64_t max = newest_generation();

	/*
	 * Images of an update never restored have no report: a generation
	 * counted from the reports alone would reuse their directory.
	 */
	if (store)
		for_each_store_generation(store, track_max, &max);
	return max + 1;
}

int state_report_path(uint64_t gen, char *ret_path, size_t size)
{
	if (!gen)
		gen = newest_generation();
	if (!gen)
		return -ENOENT;
	return xsnprintf(ret_path, size, "%s/updates/%" PRIu64 ".dtb", state_dir(), gen) < 0 ?
	       -ENAMETOOLONG : 0;
}

int state_save_report(const struct nvwa_handover *h)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int r;

	xsnprintf(dir, sizeof(dir), "%s/updates", state_dir());
	r = mkdir_p(dir, 0755);
	if (r < 0)
		return log_error_errno(r, "Failed to create %s: %m", dir);
	xsnprintf(path, sizeof(path), "%s/%" PRIu64 ".dtb", dir, h->generation);
	return record_save(path, h);
}

int nvwa_lock(void)
{
	int fd, r;

	r = mkdir_p(NVWA_RUN_DIR, 0700);
	if (r < 0)
		return log_error_errno(r, "Failed to create %s: %m", NVWA_RUN_DIR);
	fd = open(NVWA_RUN_DIR "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return log_error_errno(-errno, "Failed to open %s/lock: %m", NVWA_RUN_DIR);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		close(fd);
		if (r == -EWOULDBLOCK)
			return log_error_errno(r, "Another nvwa update or restore is running");
		return log_error_errno(r, "Failed to lock %s/lock: %m", NVWA_RUN_DIR);
	}
	return fd;
}
