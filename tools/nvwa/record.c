// SPDX-License-Identifier: GPL-2.0
/* Reading and writing handover records, and the history of updates. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "nvwa.h"
#include "util.h"

const char *state_dir(void)
{
	const char *dir = getenv("NVWA_STATE_DIR");

	return dir && *dir ? dir : "/var/lib/nvwa";
}

int record_load(const char *path, unsigned int flags, struct nvwa_handover *ret,
		char *why, size_t whylen)
{
	size_t len;
	char *blob;
	int r;

	r = read_file(path, NVWA_HANDOVER_MAX_SIZE, &blob, &len);
	if (r == -EFBIG) {
		xsnprintf(why, whylen, "larger than %u bytes", NVWA_HANDOVER_MAX_SIZE);
		r = -EBADMSG;
	} else if (r < 0) {
		xsnprintf(why, whylen, "cannot read it: %s", strerror(-r));
	} else {
		r = handover_parse(blob, len, flags, ret, why, whylen);
		free(blob);
	}
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
	r = write_file_atomic(path, blob, len);
	free(blob);
	if (r < 0)
		return log_error_errno(r, "Failed to write %s: %m", path);
	return 0;
}

/* Generations of the reports kept, newest first via the callback's max. */
static uint64_t newest_generation(void)
{
	char dir[PATH_MAX];
	struct dirent *de;
	uint64_t max = 0;
	DIR *d;

	xsnprintf(dir, sizeof(dir), "%s/updates", state_dir());
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char *end;
		uint64_t g = strtoull(de->d_name, &end, 10);

		if (end != de->d_name && !strcmp(end, ".dtb") && g > max)
			max = g;
	}
	closedir(d);
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
