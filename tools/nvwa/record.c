// SPDX-License-Identifier: GPL-2.0
/* Reading and writing handover records, and the history of updates. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "tools/nvwa/nvwa.h"

const char *state_dir(void)
{
	const char *dir = getenv("NVWA_STATE_DIR");

	return dir && *dir ? dir : "/var/lib/nvwa";
}

int store_path(const char *store, const char *name, char *buf, size_t size)
{
	return xsnprintf(buf, size, "%s/%s", store, name) < 0 ? -ENAMETOOLONG : 0;
}

/*
 * Where a new handover record goes: into pinmem when the module serves a
 * trusted region (RAM kept across kexec with no filesystem to get stale),
 * else into the store.  The CRIU images stay in the store either way.
 */
int record_path(const char *store, char *buf, size_t size)
{
	if (pinmem_mount_default() == 0)
		return xsnprintf(buf, size, "%s", PINMEM_RECORD) < 0 ? -ENAMETOOLONG : 0;
	return store_path(store, STORE_RECORD, buf, size);
}

/* Where a pending record is: pinmem first, then the store. */
int record_find(const char *store, char *buf, size_t size)
{
	if (pinmem_mount_default() == 0 && access(PINMEM_RECORD, F_OK) == 0)
		return xsnprintf(buf, size, "%s", PINMEM_RECORD) < 0 ? -ENAMETOOLONG : 0;
	return store_path(store, STORE_RECORD, buf, size);
}

/*
 * What nvwa itself writes, beyond what the format allows: restore acts on
 * these fields, so a record that says anything else is refused.  Above
 * all, the images must be the directory nvwa made for that PID in that
 * generation, never a path elsewhere in (or out of) the store.
 */
static int check_semantics(const struct nvwa_handover *h, char *why, size_t whylen)
{
	for (uint32_t i = 0; i < h->napps; i++) {
		const struct nvwa_app *a = &h->apps[i];
		char expect[NVWA_PATH_MAX];

		xsnprintf(expect, sizeof(expect), "gen-%" PRIu64 "/%d/dump",
			  h->generation, a->pid);
		if (strcmp(a->images, expect)) {
			xsnprintf(why, whylen, "apps/app@%x: images '%s', expected '%s'",
				  i, a->images, expect);
			return -EBADMSG;
		}
		if (handover_app_state(a) < 0) {
			xsnprintf(why, whylen, "apps/app@%x: unknown state '%s'", i, a->state);
			return -EBADMSG;
		}
		for (uint32_t j = 0; j < i; j++)
			if (h->apps[j].pid == a->pid) {
				xsnprintf(why, whylen, "PID %d appears twice", a->pid);
				return -EBADMSG;
			}
	}
	return 0;
}

int record_load(const char *path, unsigned int flags, struct nvwa_handover *ret,
		char *why, size_t whylen)
{
	struct nvwa_handover *h = malloc(sizeof(*h));
	size_t len;
	char *blob;
	int r;

	if (!h)
		return log_error_errno(-ENOMEM, "Out of memory");
	r = read_file(path, NVWA_HANDOVER_MAX_SIZE, &blob, &len);
	if (r == -EFBIG) {
		xsnprintf(why, whylen, "larger than %u bytes", NVWA_HANDOVER_MAX_SIZE);
		r = -EBADMSG;
	} else if (r < 0) {
		xsnprintf(why, whylen, "cannot read it: %s", strerror(-r));
	} else {
		r = handover_parse(blob, len, flags, h, why, whylen);
		free(blob);
		if (r == 0)
			r = check_semantics(h, why, whylen);
	}
	if (r == 0)
		*ret = *h;
	free(h);
	if (r < 0)
		return log_error_errno(r, "Handover record %s refused: %s", path, why);
	return 0;
}

int record_save(const char *path, const struct nvwa_handover *h)
{
	size_t len;
	void *blob;
	int r;

	r = handover_build(h, &blob, &len);
	if (r < 0)
		return log_error_errno(r, "Failed to build the handover record: %m");
	/*
	 * A pinmem file is RAM: no rename (nor a dot file to rename from), no
	 * blocks to sync; a torn write is caught by the record's CRC.
	 */
	if (startswith(path, PINMEM_MOUNT "/"))
		r = write_file_create(path, blob, len);
	else
		r = write_file_atomic(path, blob, len);
	free(blob);
	if (r < 0)
		return log_error_errno(r, "Failed to write %s: %m", path);
	return 0;
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

uint64_t state_next_generation(void)
{
	return newest_generation() + 1;
}

int state_report_path(uint64_t gen, char *path, size_t size)
{
	if (!gen)
		gen = newest_generation();
	if (!gen)
		return -ENOENT;
	return xsnprintf(path, size, "%s/updates/%" PRIu64 ".dtb", state_dir(), gen) < 0 ?
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
