// SPDX-License-Identifier: GPL-2.0
/*
 * nvwa restore: the update as seen from the new kernel.  Runs early in
 * boot (initramfs hook or nvwa-restore.service) when the command line has
 * nvwa.handover=DEV.
 *
 * A record that does not check out is never acted on: the reason is
 * printed and kept in the store next to the untouched images, and a later
 * `nvwa restore --retry` (after the cause is fixed) tries again.  An
 * application that fails to restore does not stop the others; the record
 * remembers which ones came back, so a retry restores only the rest.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmdline.h"
#include "criu.h"
#include "log.h"
#include "nvwa.h"
#include "tsc.h"
#include "util.h"

void usage_restore(FILE *f)
{
	fprintf(f,
		"usage: nvwa restore [--retry] [--ignore-crc] [--lazy|--eager]\n"
		"                    [--store DEV] [--wait SECONDS]\n"
		"\n"
		"Restores the applications that `nvwa update` checkpointed, in the new\n"
		"kernel, from the store named by nvwa.handover= on the command line.\n"
		"Runs from the early-boot hook or nvwa-restore.service; by hand only to\n"
		"retry.  The outcome is kept as the update's report (`nvwa report`).\n"
		"\n"
		"If the handover record is refused (bad checksum, version or field) or\n"
		"an application cannot be restored, the images stay in the store and\n"
		"the reason is printed and kept.  Fix the cause, then:\n"
		"\n"
		"      --retry        try again after a failed restore (applications\n"
		"                     already restored are left alone)\n"
		"      --ignore-crc   accept a record whose checksum does not match;\n"
		"                     every other check still applies\n"
		"      --lazy         let the applications run as soon as their state is\n"
		"                     back: a `criu lazy-pages` daemon serves their memory\n"
		"                     from the store on first touch (userfaultfd) and\n"
		"                     copies the rest in the background; nvwa restore\n"
		"                     returns once every page is back.  The default when\n"
		"                     the update was made with --lazy-restore\n"
		"      --eager        copy all memory back before they run (the default)\n"
		"      --store DEV    the store device (default: nvwa.handover=)\n"
		"      --wait SECS    how long to wait for DEV to appear (default 30)\n");
}

/* --lazy/--eager, else what `nvwa update --lazy-restore` put on the command line. */
static int want_lazy(int option)
{
	char *cmdline, mode[16];
	int lazy = 0;

	if (option >= 0)
		return option;
	if (read_file("/proc/cmdline", 1 << 16, &cmdline, NULL) == 0) {
		lazy = cmdline_get(cmdline, NVWA_RESTORE_PARAM, mode, sizeof(mode)) == 0 &&
		       !strcmp(mode, "lazy");
		free(cmdline);
	}
	return lazy;
}

static int wait_for_device(const char *dev, int seconds)
{
	struct timespec pause = { .tv_nsec = 20 * 1000 * 1000 };
	time_t deadline = time(NULL) + seconds;
	struct stat st;

	while (stat(dev, &st) < 0) {
		if (time(NULL) >= deadline)
			return log_error_errno(-ENODEV, "Store %s did not appear within %d s (are nd_e820 and nd_pmem loaded, and memmap= on the command line?)",
					       dev, seconds);
		nanosleep(&pause, NULL);
	}
	return 0;
}

static void keep_refusal(const char *store, const char *why)
{
	char path[PATH_MAX];

	xsnprintf(path, sizeof(path), "%s/%s", store, STORE_REFUSED);
	if (write_file_atomic(path, why, strlen(why)) < 0)
		log_warn("Could not record the failure in %s", path);
}

/* A lazy restore's page daemon, which must finish before images go. */
struct lazy {
	pid_t daemon;
	uint32_t app;
};

static int restore_one(const char *dir, struct nvwa_app *a, int eager,
		       struct lazy *lazy, uint32_t *nlazy, char *why, size_t whylen)
{
	pid_t daemon;
	int r;

	if (!eager) {
		r = criu_restore_lazy(dir, &daemon, why, whylen);
		if (r == 0) {
			lazy[*nlazy].daemon = daemon;
			(*nlazy)++;
			return 0;
		}
		if (r != -EOPNOTSUPP)
			return r;
		log_warn("Lazy pages unavailable for %d (%s); restoring its memory before it runs",
			 a->pid, why);
	}
	return criu_restore(dir, why, whylen);
}

static int restore_apps(const char *store, struct nvwa_handover *h, int eager,
			struct lazy *lazy, uint32_t *nlazy)
{
	struct nvwa_timeline *tl = &h->timeline;
	char dir[PATH_MAX], why[CRIU_WHY_MAX];
	int failed = 0;

	for (uint32_t i = 0; i < h->napps; i++) {
		struct nvwa_app *a = &h->apps[i];
		char name[NVWA_PHASE_NAME_MAX];
		uint64_t t = tsc_read();
		uint32_t before = *nlazy;
		int r;

		if (!strcmp(a->state, "restored"))
			continue;
		if (strstr(a->images, "..")) {
			xsnprintf(a->error, sizeof(a->error), "images path '%s' leaves the store", a->images);
			failed++;
			continue;
		}
		xsnprintf(dir, sizeof(dir), "%s/%s", store, a->images);
		log_info("  restoring %d (%s) from %s%s", a->pid, a->comm, dir,
			 eager ? "" : ", memory on demand");
		r = restore_one(dir, a, eager, lazy, nlazy, why, sizeof(why));
		if (*nlazy > before)
			lazy[before].app = i;
		if (r == 0 && kill(a->pid, 0) < 0) {
			xsnprintf(why, sizeof(why), "CRIU succeeded but PID %d is not running", a->pid);
			r = -ESRCH;
		}
		xsnprintf(name, sizeof(name), "restore/%d", a->pid);
		timeline_add(tl, name, NVWA_DOMAIN_NEW, t, tsc_read());
		if (r < 0) {
			log_error("Restore of %d (%s) failed: %s (log: %s/restore.log)",
				  a->pid, a->comm, why, dir);
			strscpy(a->state, "failed", sizeof(a->state));
			strscpy(a->error, why, sizeof(a->error));
			failed++;
			continue;
		}
		strscpy(a->state, "restored", sizeof(a->state));
		a->error[0] = '\0';
	}
	return failed;
}

/*
 * The applications already run; their remaining pages are still being
 * copied.  The images stay until every daemon is done.
 */
static int finish_lazy(const char *store, struct nvwa_handover *h,
		       const struct lazy *lazy, uint32_t nlazy)
{
	char dir[PATH_MAX], why[CRIU_WHY_MAX];
	uint64_t t = tsc_read();
	int failed = 0;

	for (uint32_t i = 0; i < nlazy; i++) {
		struct nvwa_app *a = &h->apps[lazy[i].app];

		xsnprintf(dir, sizeof(dir), "%s/%s", store, a->images);
		if (criu_lazy_wait(lazy[i].daemon, dir, why, sizeof(why)) == 0)
			continue;
		log_error("Copying the memory of %d (%s) failed: %s (log: %s/lazy-pages.log)",
			  a->pid, a->comm, why, dir);
		strscpy(a->state, "failed", sizeof(a->state));
		xsnprintf(a->error, sizeof(a->error), "lazy pages: %s", why);
		failed++;
	}
	if (nlazy)
		timeline_add(&h->timeline, "lazy-pages", NVWA_DOMAIN_NEW, t, tsc_read());
	return failed;
}

int cmd_restore(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "retry", no_argument, NULL, 'r' },
		{ "ignore-crc", no_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "wait", required_argument, NULL, 'w' },
		{ "lazy", no_argument, NULL, 'l' },
		{ "eager", no_argument, NULL, 'e' },
		{}
	};
	char store[PATH_MAX], record[PATH_MAX + 16], refused[PATH_MAX + 16];
	char why[512], *previous = NULL, gendir[PATH_MAX + 32];
	const char *dev = NULL;
	const struct nvwa_phase *freeze, *reboot;
	uint64_t t_start = tsc_read(), t_end;
	unsigned int flags = 0;
	struct nvwa_handover *h;
	struct lazy lazy[NVWA_MAX_APPS];
	int retry = 0, lazy_opt = -1, wait_s = 30, c, failed, r = 1;
	uint32_t nlazy = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': retry = 1; break;
		case 'c': flags |= HANDOVER_PARSE_IGNORE_CRC; break;
		case 's': dev = optarg; break;
		case 'w': wait_s = atoi(optarg); break;
		case 'l': lazy_opt = 1; break;
		case 'e': lazy_opt = 0; break;
		default: usage_restore(stderr); return 2;
		}
	}
	dev = store_device(dev);
	h = calloc(1, sizeof(*h));
	if (!h)
		return 1;
	if (wait_for_device(dev, wait_s) < 0 ||
	    store_mount(dev, store, sizeof(store)) < 0)
		goto cleanup;
	xsnprintf(record, sizeof(record), "%s/%s", store, STORE_RECORD);
	xsnprintf(refused, sizeof(refused), "%s/%s", store, STORE_REFUSED);
	if (access(record, F_OK) < 0) {
		log_info("No update to restore in %s", dev);
		r = 0;
		goto cleanup;
	}
	if (read_file(refused, 4096, &previous, NULL) == 0 && !retry) {
		log_error("A restore from %s already failed: %s", dev, strstrip(previous));
		log_error("The images are kept. Fix the cause, then run `nvwa restore --retry`.");
		goto cleanup;
	}

	if (record_load(record, flags, h, why, sizeof(why)) < 0) {
		char msg[1024];

		xsnprintf(msg, sizeof(msg), "handover record refused: %s", why);
		keep_refusal(store, msg);
		log_error("Nothing was restored; the images are kept in %s.", store);
		log_error("Fix or replace %s, then run `nvwa restore --retry` (or `--retry --ignore-crc` if only its checksum is wrong).",
			  record);
		goto cleanup;
	}
	log_info("Restoring update %" PRIu64 ": %s -> %s, %u application(s)",
		 h->generation, h->old_kernel.release, h->new_kernel.release, h->napps);

	reboot = timeline_find(&h->timeline, "reboot");
	if (!timeline_find(&h->timeline, "kexec-jump") &&
	    !timeline_find(&h->timeline, "kernel-early"))
		kmsg_add_boot_phases(&h->timeline, reboot ? reboot->start : 0);

	failed = restore_apps(store, h, !want_lazy(lazy_opt), lazy, &nlazy);
	t_end = tsc_read();
	timeline_add(&h->timeline, "restore", NVWA_DOMAIN_NEW, t_start, t_end);
	if (!failed)
		timeline_add(&h->timeline, "app-running", NVWA_DOMAIN_NEW, t_end, t_end);
	failed += finish_lazy(store, h, lazy, nlazy);
	strscpy(h->outcome, failed ? "failed" : "restored", sizeof(h->outcome));

	if (state_save_report(h) < 0)
		log_warn("The report for update %" PRIu64 " was not kept", h->generation);
	if (failed) {
		xsnprintf(why, sizeof(why), "%d of %u application(s) failed to restore", failed, h->napps);
		keep_refusal(store, why);
		record_save(record, h);
		log_error("%s; their images are kept in %s. Fix the cause, then run `nvwa restore --retry`.",
			  why, store);
		goto cleanup;
	}

	freeze = timeline_find(&h->timeline, "freeze");
	if (freeze && t_end > freeze->start)
		log_info("Restored %u application(s) in %.0f ms; downtime %.0f ms (freeze to running)",
			 h->napps, tsc_to_ms(t_end - t_start, h->timeline.tsc_khz),
			 tsc_to_ms(t_end - freeze->start, h->timeline.tsc_khz));
	else
		log_info("Restored %u application(s) in %.0f ms", h->napps,
			 tsc_to_ms(t_end - t_start, h->timeline.tsc_khz));
	/* Done: the images have served their purpose. */
	xsnprintf(gendir, sizeof(gendir), "%s/gen-%" PRIu64, store, h->generation);
	unlink(record);
	unlink(refused);
	if (rm_rf(gendir) < 0)
		log_warn("Could not remove %s", gendir);
	sync();
	r = 0;
cleanup:
	free(previous);
	free(h);
	return r;
}
