/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Filesystems made consistent at the jump, so the new kernel mounts them
 * clean: journald leaves /var, everything is synced, and every writable
 * local block-device filesystem is frozen (FIFREEZE).  On ext4 a freeze
 * flushes the journal and clears needs_recovery, so the next mount
 * replays nothing; unlike a read-only remount it works with files open
 * for writing.  A writer blocks until the jump, or until a roll-back
 * thaws it.
 *
 * The plan is made before the downtime: which filesystems, deepest mount
 * first, one entry per filesystem (bind mounts share it), leaving out the
 * store, the filesystems nvwa's own output goes to (it still logs after
 * the freeze), read-only ones, and pseudo and network filesystems.
 */
#ifndef NVWA_QUIESCE_H
#define NVWA_QUIESCE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/handover.h"

#define QUIESCE_MAX_FS 32
#define QUIESCE_TYPE_MAX 16
/* The byte that tells a guard journald was asked to leave /var. */
#define QUIESCE_NOTE_JOURNAL 'J'

struct quiesce_fs {
	char path[PATH_MAX];		/* a mount point of it */
	char type[QUIESCE_TYPE_MAX];
	dev_t dev;
	size_t depth;			/* '/'s in the mount point */
	bool whole;			/* the path mounts its root, not a bind */
	bool frozen;			/* by nvwa: thawed on roll-back */
};

struct quiesce {
	size_t nfs;
	struct quiesce_fs fs[QUIESCE_MAX_FS];	/* in freezing order */
	bool journal_relinquished;
	/* Where each step is told as it happens (a guard's pipe), or -1. */
	int notify_fd;
};

/*
 * Parses /proc/self/mountinfo's @text into the plan @ret: no I/O, any
 * bytes.  Devices in @keep (@nkeep of them) are left out.  Returns 0, or
 * -E2BIG (and a plan of the first QUIESCE_MAX_FS) when there are more.
 */
int quiesce_parse_mountinfo(const char *text, const dev_t *keep, size_t nkeep,
			    struct quiesce *ret);

/*
 * The plan for this machine: everything but @store's filesystem and those
 * nvwa's stdout and stderr write to (named in the log, with why).  Logs
 * what it will freeze.
 */
int quiesce_plan(struct quiesce *q, const char *store);

/*
 * journald off /var, sync, then every planned filesystem frozen, each
 * named in the log and as a "quiesce" item of @h.  A filesystem that
 * cannot be frozen is noted and left as it is (synced): never a reason
 * to abort the update.  Returns how many were frozen.
 */
int quiesce_start(struct quiesce *q, struct nvwa_handover *h);

/* A guard's side of notify_fd: records byte @c.  -EINVAL if not ours. */
int quiesce_note(struct quiesce *q, unsigned char c);

/*
 * Undoes quiesce_start(): thaws, in reverse order, what nvwa froze, and
 * lets journald back onto /var.  Safe to call twice; logs nothing while
 * a filesystem is still frozen.
 */
void quiesce_undo(struct quiesce *q);

#endif
