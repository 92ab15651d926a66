/* SPDX-License-Identifier: GPL-2.0 */
/* What the nvwa subcommands share. */
#ifndef NVWA_NVWA_H
#define NVWA_NVWA_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

#include "common/handover.h"

/* Files inside the store (the preserved-memory filesystem). */
#define STORE_RECORD "handover.dtb"
#define PINMEM_MOUNT "/run/pinmem"
#define PINMEM_RECORD_AREA "nvwa.handover"
#define PINMEM_RECORD PINMEM_MOUNT "/" PINMEM_RECORD_AREA
#define STORE_REFUSED "restore-refused"	/* why the last restore failed */
/*
 * In an application's dump directory: its private anonymous memory was
 * kept in place across the kexec, not dumped; only `nvwa restore` on the
 * boot it was handed to can give it back.
 */
#define DUMP_KEPT "nvwa-kept"
#define NVWA_RUN_DIR "/run/nvwa"
#define STORE_MOUNTPOINT NVWA_RUN_DIR "/store"

struct nvwa_cmd {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
	void (*usage)(FILE *f);
};

/*
 * Every command file exports one descriptor per command; main.c lists
 * them.  Command files never call each other: what two commands share
 * lives in a file of its own (record.c, state.c, store.c, criu.c, ...).
 */
extern const struct nvwa_cmd nvwa_cmd_update;
extern const struct nvwa_cmd nvwa_cmd_trace;
extern const struct nvwa_cmd nvwa_cmd_prepare;
extern const struct nvwa_cmd nvwa_cmd_restore;
extern const struct nvwa_cmd nvwa_cmd_status;
extern const struct nvwa_cmd nvwa_cmd_report;
extern const struct nvwa_cmd nvwa_cmd_handover;
extern const struct nvwa_cmd nvwa_cmd_store;
extern const struct nvwa_cmd nvwa_cmd_pinmem;
extern const struct nvwa_cmd nvwa_cmd_checkpoint;
extern const struct nvwa_cmd nvwa_cmd_restore_app;
extern const struct nvwa_cmd nvwa_cmd_criu;
extern const struct nvwa_cmd nvwa_cmd_unit;
extern const struct nvwa_cmd nvwa_cmd_restore_unit;
extern const struct nvwa_cmd nvwa_cmd_generator;


/* store.c */
/* The store device: --store, else $NVWA_STORE, else nvwa.handover=, else /dev/pmem0. */
const char *store_device(const char *option);
/* Mounts @dev (DAX where it can) unless mounted; its mount point to @ret_root. */
int store_mount(const char *dev, char *ret_root, size_t size);
/*
 * Remounts the store at @root read-only or read-write, keeping nosuid,
 * nodev, noexec and noatime.  Returns 0 or a negative errno (not logged).
 */
int store_remount(const char *root, bool readonly);
/* 1 if @dev holds a filesystem a store could be, 0 if not, or -errno. */
int store_has_fs(const char *dev);
/* The mount point of @dev if mounted, else -ENOENT. */
int store_find_mount(const char *dev, char *ret_root, size_t size);

/* record.c */
/* @store/@name into @ret_path; -ENAMETOOLONG if it does not fit. */
int store_path(const char *store, const char *name, char *ret_path, size_t size);
int record_path(const char *store, char *ret_path, size_t size);
int record_find(const char *store, char *ret_path, size_t size);
/*
 * What a valid record means beyond its format: each application's images
 * are exactly gen-GENERATION/PID/dump (the restore joins them to the
 * store's path), its state is known, no PID twice.  -EBADMSG and @why.
 */
int record_check_semantics(const struct nvwa_handover *h, char *why, size_t whylen);
/* Reads and validates a record; logs and returns in @why why it is refused. */
int record_load(const char *path, unsigned int flags, struct nvwa_handover *ret,
		char *why, size_t whylen);
int record_save(const char *path, const struct nvwa_handover *h);
/* state.c */
/* Where reports and history live: $NVWA_STATE_DIR or /var/lib/nvwa. */
const char *state_dir(void);
/* One update or restore at a time: holds a lock until the fd is closed. */
int nvwa_lock(void);
/*
 * One more than the newest generation known: the reports in the state
 * directory and, when @store is given, the images kept in it.
 */
uint64_t state_next_generation(const char *store);
/*
 * The generations whose images are in @store (STORE/gen-N): the newest
 * @max at most into @gens, oldest first, how many into @ret_n.
 */
int store_unrestored_generations(const char *store, uint64_t *gens, size_t max,
				 size_t *ret_n);
/* The generations of the newest @max reports kept, oldest first. */
size_t state_list_generations(uint64_t *gens, size_t max);
/* Keeps a finished update's record as its report: STATE/updates/GEN.dtb. */
int state_save_report(const struct nvwa_handover *h);
/* The newest report (or generation @gen if non-zero) into @ret_path. */
int state_report_path(uint64_t gen, char *ret_path, size_t size);

/* kmsg.c */
/*
 * Adds the new kernel's boot phases, read from its log and tied to the
 * TSC with a marker, to @h's timeline, and the slowest initcalls (when
 * the kernel ran with initcall_debug) as items.  @kexec_tsc is the old
 * kernel's last reading (0 if unknown); @restore_tsc, when the restore
 * began, ends the userspace-early phase.  Returns the number of phases
 * added.
 */
int kmsg_add_boot_phases(struct nvwa_handover *h, uint64_t kexec_tsc,
			 uint64_t restore_tsc);
/*
 * "nvwa: @msg" in the kernel log at debug level, stamped by its clock:
 * what nvwa does between its last timeline mark and the kexec shows next
 * to the kernel's own steps (on the console with loglevel=8).  Best
 * effort: nothing depends on it.
 */
void kmsg_note(const char *msg);
/*
 * The kernel log's messages that start with @prefix ("nvwa.keep: "),
 * without it, joined by "; " into @out (cut to fit).  Returns how many
 * there were, or a negative errno.
 */
int kmsg_find(const char *prefix, char *out, size_t size);


#endif
