/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The handover record: what the old kernel tells the new one about an
 * update in progress.
 *
 * It is a flattened device tree (libfdt), so it is versioned,
 * self-describing and readable with `dtc -I dtb`.  The same format is kept
 * afterwards as the update's report, with the new kernel's phases added.
 *
 *   / {
 *       compatible = "nvwa,handover";
 *       version = <5>;                 u32, NVWA_HANDOVER_VERSION; 1 to
 *                                      4 are read too (no probes, no
 *                                      items; no unit, stdio or TCP
 *                                      fields; no pids; no initrd)
 *       generation = <hi lo>;          u64, one more per update
 *       crc32 = <...>;                 zlib crc32 of the blob with this
 *                                      property's value set to zero
 *       tsc-khz = <hi lo>;             u64, non-zero
 *       store = "/dev/pmem0";          where the images are kept
 *       outcome = "pending";           pending | restored | failed
 *       old-kernel { release = "..."; cmdline = "..."; };
 *       new-kernel { release = "..."; cmdline = "..."; image = "...";
 *                    loader = "..."; };    how it was loaded, e.g.
 *                                          "kexec_load elf, purgatory checks
 *                                          skipped: sha256 verified"
 *                    initrd = "...";       v5: the initrd booted, e.g.
 *                                          "prepared cpio+zstd: ...",
 *                                          "original cpio: ..."; "" none
 *       apps {
 *           app@0 { pid = <u32>; comm = "..."; images = "...";
 *                   dump-mode = "..."; state = "..."; error = "...";
 *                   unit = "redis-server.service";   v3: the systemd
 *                                      service it is the main process of,
 *                                      restored by that unit, or ""
 *                   stdio = "1:4711 2:4711";        v3: its stdio fds that
 *                                      are sockets (the journal's), handed
 *                                      the restoring unit's own
 *                   tcp-established = <u32>;       v3: TCP connections kept
 *                   addresses = "10.0.2.15";       v3: the local addresses
 *                                      its sockets use, awaited at restore
 *                   tcp-endpoints = "10.0.2.15,7000";   v3: the local
 *                                      ends of its kept connections, whose
 *                                      packets the new kernel drops until
 *                                      they are restored
 *                   pids = "reserved"; };           v4: how the new boot
 *                                      keeps its PIDs free: "reserved"
 *                                      (nvwa.reserve_pids=, the nvwa
 *                                      kernel) or "lastpid" (nvwa.lastpid=)
 *                   memory = "kept";                 v4: its anonymous
 *                                      memory "kept" in place (pin-anon)
 *                                      or "copied" by CRIU, and in pages:
 *                   image-bytes = <hi lo>;  what the dump wrote
 *                   kept-pages = <hi lo>; left-pages = <hi lo>;
 *                   shared-pages = <hi lo>;  left to CRIU: private
 *                                      pages not the process's alone, and
 *                                      shared anonymous memory
 *                   moved-pages = <hi lo>; installed-pages = <hi lo>;
 *                   huge-pages = <hi lo>;   of those, in huge pages again
 *                   copied-pages = <hi lo>; };
 *       };
 *       timeline {
 *           phase@0 { label = "..."; domain = <u32>; start = <hi lo>;
 *                     end = <hi lo>; };
 *       };
 *       probes = "fentry/fexit";       v2: how the old kernel's shutdown
 *                                      was timed, or "off: why"
 *       items {                        v2: what a phase is made of
 *           item@0 { kind = "device"; name = "0000:00:03.0";
 *                    detail = "virtio-pci"; start = <hi lo>;
 *                    end = <hi lo>; };
 *       };
 *   };
 *
 * Every string property must be NUL-terminated inside its property and fit
 * its field below; every count must fit its array; a record that does not
 * check out is refused as a whole.
 */
#ifndef NVWA_HANDOVER_H
#define NVWA_HANDOVER_H

#include <stddef.h>
#include <stdint.h>

#include "common/timeline.h"

#define NVWA_HANDOVER_COMPATIBLE "nvwa,handover"
#define NVWA_HANDOVER_VERSION 5
#define NVWA_HANDOVER_VERSION_MIN 1
#define NVWA_HANDOVER_MAX_SIZE (1u << 20)
#define NVWA_MAX_APPS 32
#define NVWA_RELEASE_MAX 65	/* struct utsname's release, with the NUL */
#define NVWA_CMDLINE_MAX 4096
#define NVWA_PATH_MAX 256
#define NVWA_COMM_MAX 16	/* TASK_COMM_LEN */
#define NVWA_WORD_MAX 32
#define NVWA_UNIT_MAX 256	/* systemd's UNIT_NAME_MAX */
#define NVWA_ERROR_MAX 256
#define NVWA_LOADER_MAX 128
#define NVWA_MAX_ITEMS 512
#define NVWA_ITEM_NAME_MAX 48

/*
 * An application's state, kept in the record by name: restore marks each
 * one restoring before CRIU starts, so a retry never restores it twice.
 */
enum nvwa_app_state {
	NVWA_APP_DUMPED,
	NVWA_APP_RESTORING,
	NVWA_APP_RESTORED,
	NVWA_APP_FAILED,
	NVWA_APP_STATE_MAX,
};

/* The update's outcome, kept in the record by name. */
enum nvwa_outcome {
	NVWA_OUTCOME_PENDING,
	NVWA_OUTCOME_RESTORED,
	NVWA_OUTCOME_FAILED,
	NVWA_OUTCOME_MAX,
};

struct nvwa_kernel {
	char release[NVWA_RELEASE_MAX];
	char cmdline[NVWA_CMDLINE_MAX];
	char image[NVWA_PATH_MAX];	/* new kernel only; "" for the old */
	char loader[NVWA_LOADER_MAX];	/* new kernel only; "" for the old */
	char initrd[NVWA_LOADER_MAX];	/* new kernel only: which initrd, or "" */
};

struct nvwa_app {
	int32_t pid;				/* > 0 */
	char comm[NVWA_COMM_MAX];
	char images[NVWA_PATH_MAX];		/* relative to the store root */
	char dump_mode[NVWA_WORD_MAX];		/* e.g. "pre-dump+dump" */
	char state[NVWA_WORD_MAX];		/* enum nvwa_app_state's name */
	char error[NVWA_ERROR_MAX];		/* why it failed, or "" */
	char unit[NVWA_UNIT_MAX];		/* its systemd service, or "" */
	char stdio[NVWA_WORD_MAX * 2];		/* "FD:INODE ..." sockets */
	uint32_t tcp;				/* TCP connections kept */
	char addresses[NVWA_PATH_MAX];		/* local addresses they use */
	char endpoints[NVWA_PATH_MAX];		/* "ADDR,PORT ..." locked */
	char pids[NVWA_WORD_MAX];		/* "reserved", "lastpid" */
	/*
	 * Its anonymous memory: "kept" in place across the kexec (the nvwa
	 * kernel's pin-anon), or "copied" by CRIU to the store and back.
	 */
	char memory[NVWA_WORD_MAX];
	uint64_t image_bytes;			/* what the dump wrote */
	uint64_t kept_pages;			/* handed over in place */
	uint64_t left_pages;			/* not its alone, read-only: CRIU copied */
	/* MAP_SHARED anonymous, SysV, memfd: resident, CRIU copied them */
	uint64_t shared_pages;
	uint64_t moved_pages;			/* copied at the take (image, unshare) */
	uint64_t installed_pages;		/* restore: back in place, no copy */
	uint64_t huge_pages;			/* of those: in huge pages again */
	uint64_t copied_pages;			/* restore: copied (address taken) */
};

/*
 * One of the things a phase is made of: a device in the old kernel's
 * device_shutdown ("device", detail: its driver), an initcall of the new
 * kernel ("initcall", detail: "").  Times on the TSC, like phases.
 */
struct nvwa_item {
	char kind[NVWA_WORD_MAX];
	char name[NVWA_ITEM_NAME_MAX];
	char detail[NVWA_WORD_MAX];
	uint64_t start;
	uint64_t end;			/* >= start */
};

struct nvwa_handover {
	uint32_t version;
	uint64_t generation;
	char store[NVWA_PATH_MAX];
	char outcome[NVWA_WORD_MAX];		/* enum nvwa_outcome's name */
	struct nvwa_kernel old_kernel;
	struct nvwa_kernel new_kernel;
	uint32_t napps;
	struct nvwa_app apps[NVWA_MAX_APPS];
	struct nvwa_timeline timeline;		/* tsc_khz lives here */
	char probes[NVWA_LOADER_MAX];		/* "" when not recorded */
	uint32_t nitems;
	struct nvwa_item items[NVWA_MAX_ITEMS];
};

/* The name the record keeps for @state, or NULL out of range. */
const char *app_state_to_string(enum nvwa_app_state state);
/* The state named @name, or -EINVAL for none. */
int app_state_from_string(const char *name);
const char *outcome_to_string(enum nvwa_outcome outcome);
int outcome_from_string(const char *name);

/* @app's state, or -EINVAL if the record names none nvwa knows. */
int handover_app_state(const struct nvwa_app *app);
void handover_set_app_state(struct nvwa_app *app, enum nvwa_app_state state);
int handover_outcome(const struct nvwa_handover *h);
void handover_set_outcome(struct nvwa_handover *h, enum nvwa_outcome outcome);

/* Appends an item; -ENOSPC when full, -EINVAL for bad fields. */
int handover_add_item(struct nvwa_handover *h, const char *kind,
		      const char *name, const char *detail, uint64_t start,
		      uint64_t end);

/* Skip the CRC check (an operator's explicit override); bounds still hold. */
#define HANDOVER_PARSE_IGNORE_CRC (1u << 0)

/*
 * Serialises @h into a newly allocated blob (free() it).  Returns 0, or a
 * negative errno: -EINVAL if @h itself breaks a rule the parser enforces,
 * so that nothing unparseable is ever written.
 */
int handover_build(const struct nvwa_handover *h, void **ret_blob,
		   size_t *ret_size);

/*
 * Validates and parses @size bytes at @blob.  On success fills *@ret and
 * returns 0.  On failure returns a negative errno (-EBADMSG for a record
 * that does not check out, -EPROTONOSUPPORT for an unknown version),
 * leaves *@ret untouched, and writes the reason, e.g. "crc32 mismatch:
 * stored 0x1234abcd, computed 0x89ef0123", into @why (always
 * NUL-terminated when @whylen > 0).
 */
int handover_parse(const void *blob, size_t size, unsigned int flags,
		   struct nvwa_handover *ret, char *why, size_t whylen);

#endif
