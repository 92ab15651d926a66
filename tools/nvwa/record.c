// SPDX-License-Identifier: GPL-2.0
/* Reading and writing handover records: where they live, load and save. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "pinmem/lib/libpinmem.h"
#include "tools/nvwa/nvwa.h"
#include "tools/nvwa/unit.h"

int store_path(const char *store, const char *name, char *ret_path, size_t size)
{
	return xsnprintf(ret_path, size, "%s/%s", store, name) < 0 ? -ENAMETOOLONG : 0;
}

/*
 * Where a new handover record goes: into pinmem when the module serves a
 * trusted region (RAM kept across kexec with no filesystem to get stale),
 * else into the store.  The CRIU images stay in the store either way.
 */
int record_path(const char *store, char *ret_path, size_t size)
{
	if (pinmem_fs_mount_trusted(PINMEM_MOUNT) == 0)
		return xsnprintf(ret_path, size, "%s", PINMEM_RECORD) < 0 ? -ENAMETOOLONG : 0;
	return store_path(store, STORE_RECORD, ret_path, size);
}

/* Where a pending record is: pinmem first, then the store. */
int record_find(const char *store, char *ret_path, size_t size)
{
	if (pinmem_fs_mount_trusted(PINMEM_MOUNT) == 0 && access(PINMEM_RECORD, F_OK) == 0)
		return xsnprintf(ret_path, size, "%s", PINMEM_RECORD) < 0 ? -ENAMETOOLONG : 0;
	return store_path(store, STORE_RECORD, ret_path, size);
}

/*
 * What nvwa itself writes, beyond what the format allows: restore acts on
 * these fields, so a record that says anything else is refused.  Above
 * all, the images must be the directory nvwa made for that PID in that
 * generation, never a path elsewhere in (or out of) the store.
 */
int record_check_semantics(const struct nvwa_handover *h, char *why, size_t whylen)
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
		/* The unit names a drop-in's path: nothing but a service's name. */
		if (a->unit[0] && !unit_name_valid(a->unit)) {
			xsnprintf(why, whylen, "apps/app@%x: unit '%s' is not a service's name", i,
				  a->unit);
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
			r = record_check_semantics(h, why, whylen);
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
