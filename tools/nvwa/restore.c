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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bpf/probes.h"
#include "common/fault.h"
#include "common/log.h"
#include "common/tsc.h"
#include "common/util.h"
#include "fastboot/caps.h"
#include "fastboot/cmdline.h"
#include "fastboot/fwmap.h"
#include "park/defer.h"
#include "tools/nvwa/criu.h"
#include "tools/nvwa/keep.h"
#include "tools/nvwa/nvwa.h"
#include "tools/nvwa/netsock.h"
#include "tools/nvwa/unit.h"

static void usage_restore(FILE *f)
{
	fprintf(f,
		"usage: nvwa restore [--retry] [--ignore-crc] [--lazy|--eager]\n"
		"                    [--store DEV] [--wait SECONDS] [--if-pending]\n"
		"\n"
		"Restores the applications that `nvwa update` checkpointed, in the new\n"
		"kernel, from the store named by nvwa.handover= on the command line.\n"
		"Runs from the early-boot hook or nvwa-restore.service; by hand only to\n"
		"retry.  The outcome is kept as the update's report (`nvwa report`).\n"
		"\n"
		"If the handover record is refused (bad checksum, version or field) or\n"
		"an application cannot be restored, the images stay in the store and\n"
		"the reason is printed and kept.  A stop (TERM, which\n"
		"nvwa-restore.service's start timeout sends; INT; HUP) kills the criu\n"
		"that runs, which may be why it takes so long, and tries no further\n"
		"application: the one being restored is failed (or still restoring\n"
		"if something runs as its PID: it may be half restored), the others\n"
		"say they were not tried, and their images are kept.  `nvwa status`\n"
		"says which.  Fix the cause, then:\n"
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
		"      --wait SECS    how long to wait for DEV to appear (default 30)\n"
		"      --if-pending   for every boot (the unit and the boot hook run it\n"
		"                     so): on a boot nvwa update started, the same as\n"
		"                     without it; on any other boot, restore only if the\n"
		"                     store holds an update never restored, because the\n"
		"                     kernel it went to crashed and this one booted\n"
		"                     instead; else do nothing, quietly\n");
}

/* --lazy/--eager, else what `nvwa update --lazy-restore` put on the command line. */
static int want_lazy(int option)
{
	char *cmdline, mode[16];
	int lazy = 0;

	if (option >= 0)
		return option;
	if (cmdline_read_running(&cmdline) == 0) {
		lazy = cmdline_get(cmdline, NVWA_RESTORE_PARAM, mode, sizeof(mode)) == 0 &&
		       !strcmp(mode, "lazy");
		free(cmdline);
	}
	return lazy;
}

/* Why the store is not there, as precisely as this boot can tell. */
static int store_missing(const char *dev, int seconds)
{
	char why[512] = "";
	char *cmdline;
	int r = -ENOENT;

	if (cmdline_read_running(&cmdline) == 0) {
		r = fwmap_check_cmdline(FWMAP_DIR, cmdline, why, sizeof(why));
		free(cmdline);
	}
	if (r < 0 && r != -ENOENT)
		return log_error_errno(-ENODEV, "Store %s did not appear within %d s: %s", dev, seconds, why);
	return log_error_errno(-ENODEV, "Store %s did not appear within %d s (are nd_e820 and nd_pmem loaded, and memmap= on the command line?)",
			       dev, seconds);
}

static int wait_for_device(const char *dev, int seconds)
{
	struct timespec pause = { .tv_nsec = 20 * 1000 * 1000 };
	time_t deadline = time(NULL) + seconds;
	struct stat st;

	while (stat(dev, &st) < 0) {
		if (criu_stopped())
			return log_error_errno(-EINTR, "Stopped (SIG%s) while waiting for the store %s: nothing was restored",
					       sigabbrev_np(criu_stopped()), dev);
		if (time(NULL) >= deadline)
			return store_missing(dev, seconds);
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

/* How long a restore waits for the addresses an application's sockets use. */
#define NET_WAIT_S 60

/* This boot restored an update: a later run finding no record is no error. */
#define RESTORED_MARKER NVWA_RUN_DIR "/restored"

/* A lazy restore's page daemon, which must finish before images go. */
struct lazy {
	pid_t daemon;
	uint32_t app;
};

static int restore_one(const char *dir, struct nvwa_app *a, int eager,
		       struct lazy *lazy, uint32_t *nlazy, char *why, size_t whylen)
{
	const struct criu_extra x = { .stdio = a->stdio, .tcp_established = a->tcp > 0 };
	pid_t daemon;
	int r;

	if (!eager) {
		r = kcap_probe(KCAP_USERFAULTFD, why, whylen) ?
		    criu_restore_lazy(dir, &x, &daemon, why, whylen) : -EOPNOTSUPP;
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
	return criu_restore(dir, &x, why, whylen);
}

/*
 * Until CRIU has put an application's connections back, this kernel
 * would answer their peers with resets: their packets are dropped from
 * the start of the restore (before the boot configures the network, on
 * a systemd host) until then.
 */
static void lock_connections(const struct nvwa_handover *h)
{
	char why[512];

	for (uint32_t i = 0; i < h->napps; i++) {
		const struct nvwa_app *a = &h->apps[i];

		if (!a->endpoints[0] || handover_app_state(a) == NVWA_APP_RESTORED)
			continue;
		if (netlock_add(a->pid, a->endpoints, why, sizeof(why)) < 0)
			log_warn("The connections of %d (%s) are not shielded until its restore (%s): a peer that retransmits before may be reset",
				 a->pid, a->comm, why);
		else
			log_info("  %d (%s): packets to %s held back until its restore", a->pid,
				 a->comm, a->endpoints);
	}
}

static void unlock_connections(const struct nvwa_app *a)
{
	char why[512];

	if (a->endpoints[0] && netlock_remove(a->pid, why, sizeof(why)) < 0)
		log_warn("Could not lift the hold on %d's connections: %s; `nft delete table inet nvwa-%d` lifts it",
			 a->pid, why, a->pid);
}

/*
 * CRIU restores a process with its own PID, and fails ("Can't fork for
 * PID: File exists") when this boot gave it to another: say which one,
 * before CRIU runs.
 */
static int pid_free(pid_t pid, char *why, size_t whylen)
{
	char path[64], comm[NVWA_COMM_MAX] = "?", unit[NVWA_UNIT_MAX];

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 0;
	xsnprintf(path, sizeof(path), "/proc/%d/comm", pid);
	read_one_line(path, comm, sizeof(comm));
	if (unit_of_pid(pid, unit, sizeof(unit)) < 0)
		unit[0] = '\0';
	return set_why(why, whylen, -EEXIST,
		       "PID %d is taken in this boot by %s%s%s, so CRIU cannot give it back; stop that process (or free the PID), then `nvwa restore --retry`",
		       pid, comm, unit[0] ? " of " : "", unit);
}

/* How a stop (criu_stop_on()) is named: "SIGTERM". */
static const char *stop_name(char *buf, size_t size)
{
	xsnprintf(buf, size, "SIG%s", sigabbrev_np(criu_stopped()));
	return buf;
}

/* Stopped before @a's turn: it stays "dumped", and the record says why. */
static int stopped_before(const char *record, struct nvwa_handover *h, struct nvwa_app *a)
{
	char sig[16];

	xsnprintf(a->error, sizeof(a->error),
		  "not tried: nvwa was stopped (%s) before its turn; its images are kept: `nvwa restore --retry` restores it",
		  stop_name(sig, sizeof(sig)));
	log_error("Restore of %d (%s) not tried: nvwa was stopped (%s)", a->pid, a->comm, sig);
	record_save(record, h);
	return -EINTR;
}

/*
 * Whether something runs as @pid once a killed criu's tasks had time to
 * go (a zombie is dead, only not yet reaped).
 */
static bool pid_runs(pid_t pid)
{
	struct timespec pause = { .tv_nsec = 20 * 1000 * 1000 };
	char path[64], stat[1024];
	const char *end;

	xsnprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (int i = 0; i < 100; i++) {
		if (read_one_line(path, stat, sizeof(stat)) < 0)
			return false;
		/* "PID (COMM) STATE ...", and COMM may hold anything. */
		end = strrchr(stat, ')');
		if (end && !strncmp(end, ") Z", 3))
			return false;
		nanosleep(&pause, NULL);
	}
	return true;
}

/*
 * A stop (the unit's start timeout, most likely, on a criu that hung)
 * killed criu @ms into @a's restore.  Nothing running as its PID means
 * criu never let it go: it failed, and a retry restores it from the
 * images, which criu only reads.  Something running may be the
 * application, half restored or whole: it stays "restoring", never
 * restored twice, and the operator decides.
 */
static void stopped_during(struct nvwa_app *a, const char *dir, double ms)
{
	char sig[16];

	stop_name(sig, sizeof(sig));
	if (pid_runs(a->pid)) {
		xsnprintf(a->error, sizeof(a->error),
			  "stopped: criu was killed %.0f s into its restore (nvwa got %s) and PID %d runs, maybe half restored: if it is not the application, kill it, then `nvwa restore-app -D %s`",
			  ms / 1000, sig, a->pid, dir);
	} else {
		handover_set_app_state(a, NVWA_APP_FAILED);
		xsnprintf(a->error, sizeof(a->error),
			  "stopped: criu was killed %.0f s into its restore (nvwa got %s); nothing runs as PID %d, its images are kept: `nvwa restore --retry` restores it",
			  ms / 1000, sig, a->pid);
	}
	log_error("Restore of %d (%s) %s", a->pid, a->comm, a->error);
}

/*
 * The kept path (the record says memory "kept"): CRIU restored the tree
 * stopped, as it was dumped, without its private anonymous pages; the
 * frames the old kernel handed over become those pages again, at the
 * same addresses, and only then does it run.  A process found running,
 * or whose pages do not all go back, must not go on with holes in its
 * memory: the tree is killed and the application failed.
 */
static int give_memory(struct nvwa_handover *h, struct nvwa_app *a, char *why, size_t whylen)
{
	pid_t tree[NVWA_KEEP_TREE_MAX];
	struct keep_given g = { 0 };
	char name[NVWA_PHASE_NAME_MAX];
	uint64_t t = tsc_read();
	size_t n = 0, k;
	int fd, r;

	fd = keep_open(true, why, whylen);
	r = fd < 0 ? fd : proc_tree(a->pid, tree, NVWA_KEEP_TREE_MAX, &n);
	if (r < 0 && fd >= 0)
		set_why(why, whylen, r, "cannot list the processes of %d: %s", a->pid, strerror(-r));
	if (r >= 0)
		r = keep_give_tree(fd, tree, n, false, &g, why, whylen);
	a->installed_pages += g.installed;
	a->huge_pages += g.huge;
	a->copied_pages += g.copied;
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		for (k = 0; k < n; k++)
			kill(tree[k], SIGKILL);
		if (!n)
			kill(a->pid, SIGKILL);
		return r;
	}
	for (k = 0; k < n; k++)
		kill(tree[k], SIGCONT);
	xsnprintf(name, sizeof(name), NVWA_PHASE_KEEP_GIVE "/%d", a->pid);
	timeline_add(&h->timeline, name, NVWA_DOMAIN_NEW, t, tsc_read());
	log_info("  %d (%s): %llu pages back in place (%llu in huge pages, %llu replacing a page the restore had mapped), %llu copied, in %.0f ms",
		 a->pid, a->comm, (unsigned long long)a->installed_pages,
		 (unsigned long long)a->huge_pages, (unsigned long long)g.replaced,
		 (unsigned long long)a->copied_pages,
		 tsc_to_ms(tsc_read() - t, h->timeline.tsc_khz));
	return 0;
}

/*
 * An application whose memory was kept in place has none of it in its
 * images: the frames the old kernel handed over are that memory.  When
 * this boot was not handed them (the list failed the kernel's checks at
 * boot, nvwa.keep= was lost, a boot nvwa update did not start), or they
 * went into a process that was killed since, CRIU would bring it back
 * with that memory zeroed.  It is never restored then: 0 if its frames
 * are here, else -ENODATA with the reason (the kernel's own, from its log).
 */
static int kept_memory_here(const struct nvwa_app *a, char *why, size_t whylen)
{
	unsigned long long mib = (unsigned long long)a->kept_pages * 4096 >> 20;
	char cause[160], *cmdline;
	struct nvwa_keep_status st = { 0 };
	uint64_t frames = 0;
	int fd, r;

	if (strcmp(a->memory, "kept") || !a->kept_pages)
		return 0;
	if (a->installed_pages || a->copied_pages)
		return set_why(why, whylen, -ENODATA,
			       "its memory (%llu MiB, kept in place) went into a restored process killed when that restore failed: that memory is lost, its images hold none of it: never restored again (it would run with it zeroed)",
			       mib);
	fd = keep_open(true, cause, sizeof(cause));
	r = fd;
	if (fd >= 0) {
		r = keep_status(fd, &st);
		if (!r)
			r = keep_owned(fd, a->pid, false, &frames);
		/* A module from before OWNED: frames handed at all will do. */
		if (r == -ENOTTY) {
			frames = st.state == NVWA_KEEP_HANDED;
			r = 0;
		}
		if (r < 0)
			xsnprintf(cause, sizeof(cause), "%s cannot say: %s", KEEP_DEV, strerror(-r));
		close(fd);
	}
	if (r == 0 && frames)
		return 0;
	if (r == 0 && st.state == NVWA_KEEP_HANDED)
		xsnprintf(cause, sizeof(cause), "the list it was handed names no frame of PID %d",
			  a->pid);
	else if (r == 0 && kmsg_find("nvwa.keep: ", cause, sizeof(cause)) <= 0) {
		xsnprintf(cause, sizeof(cause), "the kernel log says nothing of nvwa.keep=");
		if (cmdline_read_running(&cmdline) == 0) {
			if (!cmdline_has(cmdline, NVWA_KEEP_PARAM))
				xsnprintf(cause, sizeof(cause), "%s= is not on its command line",
					  NVWA_KEEP_PARAM);
			free(cmdline);
		}
	}
	/* The record keeps NVWA_ERROR_MAX bytes of it: the cause first. */
	return set_why(why, whylen, -ENODATA,
		       "its memory (%llu MiB, kept in place) was not handed to this kernel: %s; that memory is lost, its images hold none of it: never restored (it would run with it zeroed)",
		       mib, cause);
}

/* Frames no restored process took (they were all given): back to the kernel. */
static void release_kept(void)
{
	uint64_t freed;
	char why[160];
	int fd, r;

	if (access(KEEP_DEV, F_OK) < 0)
		return;
	fd = keep_open(false, why, sizeof(why));
	if (fd < 0)
		return;
	r = keep_release(fd, &freed);
	if (r < 0)
		log_warn_errno(r, "Could not give the kept frames no process took back: %m");
	else if (freed)
		log_info("Gave %llu kept frames no process took back to the kernel",
			 (unsigned long long)freed);
	close(fd);
}

/*
 * Restores application @i of @h: 0 if it runs, else a negative errno
 * with the reason in the record.  Every state change is written down
 * before the next step, so a crash can never restore it twice.  A stop
 * (criu_stop_on()) kills the criu that runs and leaves the record saying
 * so: -EINTR.
 */
static int restore_app(const char *store, const char *record, struct nvwa_handover *h,
		       uint32_t i, int eager, struct lazy *lazy, uint32_t *nlazy)
{
	struct nvwa_app *a = &h->apps[i];
	char dir[PATH_MAX], why[CRIU_WHY_MAX], name[NVWA_PHASE_NAME_MAX];
	uint64_t t = tsc_read();
	uint32_t before = *nlazy;
	int r;

	r = store_path(store, a->images, dir, sizeof(dir));
	if (r < 0)
		return r;
	/*
	 * Left "restoring" by a restore that stopped while CRIU ran: it
	 * may be back, or back and gone since; nothing running can
	 * tell (a PID and a name prove nothing), so the record decides
	 * and it is never restored twice.  The operator, who can tell,
	 * restores it by hand if it is not running.
	 */
	if (handover_app_state(a) == NVWA_APP_RESTORING) {
		xsnprintf(a->error, sizeof(a->error),
			  "interrupted while CRIU restored it: not restored twice; if it is not running, `nvwa restore-app -D %s` restores it",
			  dir);
		log_error("%d (%s) was being restored when an earlier restore stopped: %s",
			  a->pid, a->comm, a->error);
		return -EALREADY;
	}
	if (criu_stopped())
		return stopped_before(record, h, a);
	r = kept_memory_here(a, why, sizeof(why));
	if (!r)
		r = pid_free(a->pid, why, sizeof(why));
	/* Its sockets' addresses first: a bind or a repaired connection needs them. */
	if (!r && a->addresses[0]) {
		uint64_t tw = tsc_read();

		r = tcp_wait_addresses(a->addresses, NET_WAIT_S, why, sizeof(why));
		xsnprintf(name, sizeof(name), "wait-net/%d", a->pid);
		if (tsc_to_ms(tsc_read() - tw, h->timeline.tsc_khz) >= 1)
			timeline_add(&h->timeline, name, NVWA_DOMAIN_NEW, tw, tsc_read());
	}
	if (r < 0) {
		log_error("Restore of %d (%s) not tried: %s", a->pid, a->comm, why);
		handover_set_app_state(a, NVWA_APP_FAILED);
		strscpy(a->error, why, sizeof(a->error));
		record_save(record, h);
		return r;
	}
	if (criu_stopped())
		return stopped_before(record, h, a);
	/* Written down first, so a crash now cannot restore it twice. */
	handover_set_app_state(a, NVWA_APP_RESTORING);
	if (record_save(record, h) < 0) {
		handover_set_app_state(a, NVWA_APP_FAILED);
		strscpy(a->error, "cannot update the handover record", sizeof(a->error));
		return -EIO;
	}
	log_info("  restoring %d (%s) from %s%s", a->pid, a->comm, dir,
		 eager ? "" : ", memory on demand");
	r = restore_one(dir, a, eager, lazy, nlazy, why, sizeof(why));
	/* The test build's stand-in for a restore killed half-way. */
	if (r == 0 && FAULT("restore-dies"))
		_exit(137);
	if (*nlazy > before)
		lazy[before].app = i;
	if (r == 0 && kill(a->pid, 0) < 0) {
		xsnprintf(why, sizeof(why), "CRIU succeeded but PID %d is not running", a->pid);
		r = -ESRCH;
	}
	if (r == 0 && !strcmp(a->memory, "kept"))
		r = give_memory(h, a, why, sizeof(why));
	xsnprintf(name, sizeof(name), NVWA_PHASE_RESTORE "/%d", a->pid);
	timeline_add(&h->timeline, name, NVWA_DOMAIN_NEW, t, tsc_read());
	unlock_connections(a);
	if (r == -EINTR && criu_stopped()) {
		stopped_during(a, dir, tsc_to_ms(tsc_read() - t, h->timeline.tsc_khz));
	} else if (r < 0) {
		log_error("Restore of %d (%s) failed: %s (log: %s/restore.log)",
			  a->pid, a->comm, why, dir);
		handover_set_app_state(a, NVWA_APP_FAILED);
		strscpy(a->error, why, sizeof(a->error));
	} else {
		handover_set_app_state(a, NVWA_APP_RESTORED);
		a->error[0] = '\0';
	}
	if (record_save(record, h) < 0)
		log_warn("The record no longer says how %d (%s) fared", a->pid, a->comm);
	return r;
}

/*
 * A service's process is restored by the service's own start (see
 * unit.h), on a systemd boot nvwa update started: its generator wrote
 * the drop-in that makes it so.
 */
static bool left_to_unit(const struct nvwa_app *a)
{
	return a->unit[0] && unit_systemd_booted();
}

/*
 * On a boot nvwa update did not start (the kernel it went to crashed),
 * the generator wrote no drop-in: the services to restore get the same
 * one, for this boot only (/run), before systemd can start them afresh.
 */
static int hand_to_units(const struct nvwa_handover *h)
{
	const char *reload[] = { "systemctl", "daemon-reload", NULL };
	char early[PATH_MAX];
	bool wrote = false;
	int r;
	for (uint32_t i = 0; i < h->napps; i++) {
		const struct nvwa_app *a = &h->apps[i];

		if (!left_to_unit(a) || handover_app_state(a) == NVWA_APP_RESTORED)
			continue;
		xsnprintf(early, sizeof(early), "/run/systemd/generator.early/%s.d/%s", a->unit,
			  UNIT_DROPIN);
		if (access(early, F_OK) == 0)
			continue;
		r = unit_write_dropin(UNIT_RUNTIME_DIR, a->unit);
		if (r < 0)
			return log_error_errno(r, "Cannot write %s's restoring drop-in: %m", a->unit);
		wrote = true;
	}
	if (!wrote)
		return 0;
	r = run(reload, NULL);
	return r ? log_error_errno(r < 0 ? r : -EIO, "systemctl daemon-reload failed") : 0;
}

/* Applications not yet back, that their units will restore. */
static uint32_t units_pending(const struct nvwa_handover *h)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < h->napps; i++)
		n += left_to_unit(&h->apps[i]) &&
		     handover_app_state(&h->apps[i]) != NVWA_APP_RESTORED &&
		     handover_app_state(&h->apps[i]) != NVWA_APP_FAILED;
	return n;
}

static int restore_apps(const char *store, const char *record,
			struct nvwa_handover *h, int eager, struct lazy *lazy,
			uint32_t *nlazy)
{
	int failed = 0;

	for (uint32_t i = 0; i < h->napps; i++) {
		struct nvwa_app *a = &h->apps[i];

		if (handover_app_state(a) == NVWA_APP_RESTORED)
			continue;
		if (left_to_unit(a)) {
			log_info("  %d (%s): left to %s, whose start restores it", a->pid, a->comm,
				 a->unit);
			continue;
		}
		failed += restore_app(store, record, h, i, eager, lazy, nlazy) < 0;
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
		handover_set_app_state(a, NVWA_APP_FAILED);
		xsnprintf(a->error, sizeof(a->error), "lazy pages: %s", why);
		failed++;
	}
	if (nlazy)
		timeline_add(&h->timeline, NVWA_PHASE_LAZY_PAGES, NVWA_DOMAIN_NEW, t, tsc_read());
	return failed;
}

/*
 * Watches the applications' first system calls; best effort.  Loading
 * the probe is downtime (it must watch the PIDs before CRIU lets them
 * run), so it is a phase of its own: under load it takes seconds.
 */
static void watch_first_run(struct nvwa_handover *h, struct firstrun_probe **ret)
{
	uint64_t t = tsc_read();
	char why[128];
	int r;

	if (!h->napps)
		return;
	r = firstrun_start(ret, why, sizeof(why));
	timeline_add(&h->timeline, NVWA_PHASE_PROBE_LOAD, NVWA_DOMAIN_NEW, t, tsc_read());
	if (r < 0) {
		log_info("  first-run probe not loaded (%s): the report ends at CRIU's exit", why);
		return;
	}
	for (uint32_t i = 0; i < h->napps; i++)
		firstrun_watch(*ret, h->apps[i].pid);
}

/*
 * The moment the last application ran code of its own again: one item per
 * application, and the first-syscall point at the last of them.
 */
static void first_run(struct nvwa_handover *h, struct firstrun_probe *fr)
{
	uint64_t last = 0, tsc, ns;
	char name[NVWA_ITEM_NAME_MAX], nr[NVWA_WORD_MAX];
	uint32_t call;

	if (!fr)
		return;
	for (uint32_t i = 0; i < h->napps; i++) {
		const struct nvwa_app *a = &h->apps[i];

		if (handover_app_state(a) != NVWA_APP_RESTORED)
			continue;
		if (firstrun_wait(fr, a->pid, 1000, &ns, &call) < 0) {
			log_info("  %d (%s) made no system call within 1 s of its restore",
				 a->pid, a->comm);
			continue;
		}
		tsc = tsc_from_mono(ns, h->timeline.tsc_khz);
		xsnprintf(name, sizeof(name), "%d (%s)", a->pid, a->comm);
		xsnprintf(nr, sizeof(nr), "system call %u", call);
		handover_add_item(h, "first-syscall", name, nr, tsc, tsc);
		last = tsc > last ? tsc : last;
	}
	firstrun_stop(fr);
	if (last)
		timeline_add(&h->timeline, NVWA_PHASE_FIRST_SYSCALL, NVWA_DOMAIN_NEW, last, last);
}

/* What the shutdown probes left in preserved memory, into the report. */
static void read_shutdown(struct nvwa_handover *h)
{
	char why[256];
	int r;

	if (!h->probes[0] || !strncmp(h->probes, "off", 3))
		return;
	r = shutdown_probes_collect(h, why, sizeof(why));
	if (r < 0)
		log_warn("The old kernel's shutdown timings are lost: %s", why);
	else
		log_info("Old kernel's shutdown: %d phase(s) by %s%s%s", r, h->probes,
			 why[0] ? "; " : "", why);
}

/*
 * The one place the report's measurements are gathered, once the
 * applications run (the kernel log and the shutdown's timings keep, so
 * reading them never lengthens the downtime): the applications' first
 * system calls, the old kernel's shutdown from the probes' area, the new
 * kernel's boot from its log.  The jump starts where the probes saw the
 * old kernel last, else at the reboot call; @restore_tsc ends the boot.
 */
static void collect_timings(struct nvwa_handover *h, struct firstrun_probe *fr,
			    uint64_t restore_tsc)
{
	const struct nvwa_phase *reboot;

	first_run(h, fr);
	read_shutdown(h);
	reboot = timeline_find(&h->timeline, NVWA_PHASE_MACHINE_KEXEC);
	if (!reboot)
		reboot = timeline_find(&h->timeline, NVWA_PHASE_REBOOT);
	kmsg_add_boot_phases(h, reboot ? reboot->start : 0, restore_tsc);
}

struct restore {
	const char *dev;
	unsigned int flags;
	bool retry;
	bool if_pending;	/* --if-pending */
	bool fallback;		/* not the kernel the update booted */
	int lazy;		/* 1 lazy, 0 eager, -1 as the update asked */
	int wait_s;
	char store[PATH_MAX];
	char record[PATH_MAX + 16];
	struct nvwa_handover *h;
};

/* The store mounted and where the record would be; each step logs its cause. */
static int open_store(struct restore *rs)
{
	int r = wait_for_device(rs->dev, rs->wait_s);

	if (!r)
		r = store_mount(rs->dev, rs->store, sizeof(rs->store));
	if (!r && record_find(rs->store, rs->record, sizeof(rs->record)) < 0)
		r = log_error_errno(-ENAMETOOLONG, "The store's mount point %s is too long", rs->store);
	return r;
}

/*
 * Runs @fn under nvwa's lock with a record buffer: the command's exit
 * status.  A stop (TERM, INT, HUP: the unit's start timeout sends TERM to
 * nvwa alone) kills the criu that runs, which may be why the restore
 * takes so long, and ends the restore with the record saying where it
 * stopped, instead of leaving criu running and the record half-written.
 */
static int run_locked(struct restore *rs, int (*fn)(struct restore *rs, const char *arg),
		      const char *arg)
{
	static const int stops[] = { SIGTERM, SIGINT, SIGHUP };
	int lock, r;

	criu_stop_on(stops, ARRAY_SIZE(stops));
	rs->h = calloc(1, sizeof(*rs->h));
	if (!rs->h)
		return log_error_errno(-ENOMEM, "Out of memory"), 1;
	lock = nvwa_lock();
	r = lock < 0 ? lock : fn(rs, arg);
	if (lock >= 0)
		close(lock);
	free(rs->h);
	return r < 0 ? 1 : 0;
}

/* The update is over: keep its report, drop what only the restore needed. */
static void finish(struct restore *rs, uint64_t t_start, uint64_t t_end)
{
	struct nvwa_handover *h = rs->h;
	char gendir[PATH_MAX + 32], refused[PATH_MAX + 16], fallback[PATH_MAX + 32];

	double downtime;

	release_kept();
	if (timeline_downtime_ms(&h->timeline, &downtime) == 0)
		log_info("Restored %u application(s) in %.0f ms; downtime %.0f ms (freeze to running)",
			 h->napps, tsc_to_ms(t_end - t_start, h->timeline.tsc_khz), downtime);
	else
		log_info("Restored %u application(s) in %.0f ms", h->napps,
			 tsc_to_ms(t_end - t_start, h->timeline.tsc_khz));
	if (state_save_report(h) < 0) {
		/* The state directory may not be mounted yet this early in boot. */
		xsnprintf(fallback, sizeof(fallback), "%s/report-%" PRIu64 ".dtb",
			  rs->store, h->generation);
		if (record_save(fallback, h) == 0)
			log_warn("Kept the report in %s instead; `nvwa report %s` shows it",
				 fallback, fallback);
	}
	xsnprintf(gendir, sizeof(gendir), "%s/gen-%" PRIu64, rs->store, h->generation);
	store_path(rs->store, STORE_REFUSED, refused, sizeof(refused));
	unlink(rs->record);
	unlink(refused);
	if (rm_rf(gendir) < 0)
		log_warn("Could not remove %s", gendir);
	xsnprintf(gendir, sizeof(gendir), "%" PRIu64 "\n", h->generation);
	if (mkdir_p(NVWA_RUN_DIR, 0700) < 0 ||
	    write_file_atomic(RESTORED_MARKER, gendir, strlen(gendir)) < 0)
		log_warn("Could not note in %s that this boot restored update %" PRIu64,
			 RESTORED_MARKER, h->generation);
	sync();
}

/* Whether the kernel command line says nvwa update started this boot. */
static bool started_by_update(void)
{
	char *cmdline, dev[PATH_MAX];
	bool named;

	if (cmdline_read_running(&cmdline) < 0)
		return false;
	named = cmdline_get(cmdline, NVWA_HANDOVER_PARAM, dev, sizeof(dev)) == 0;
	free(cmdline);
	return named;
}

/* nvwa.lastpid=: the PIDs the update restores stay free of this boot's processes. */
static void reserve_pids(void)
{
	char *cmdline, last[32];

	if (cmdline_read_running(&cmdline) < 0)
		return;
	if (cmdline_get(cmdline, NVWA_LASTPID_PARAM, last, sizeof(last)) == 0)
		keep_pids_free(last);
	free(cmdline);
}

/*
 * The same on a boot nvwa update did not start (the kernel it went to
 * crashed): the record keeps the command line the update gave that
 * kernel.  The services it keeps are restored by their own start, late
 * in the boot, when the boot's processes have come close to their IDs.
 */
static void reserve_record_pids(const struct nvwa_handover *h)
{
	char last[32];

	if (cmdline_get(h->new_kernel.cmdline, NVWA_LASTPID_PARAM, last, sizeof(last)) == 0)
		keep_pids_free(last);
}

/*
 * --if-pending on a boot nvwa update did not start: only a store that is
 * there and formatted can hold an update (its images are there even when
 * the record is in pinmem), so anything else means nothing to do, not an
 * error, and nothing is waited for.
 */
static bool store_may_hold_update(struct restore *rs)
{
	if (store_has_fs(rs->dev) != 1) {
		log_debug("No store on %s: no update to restore", rs->dev);
		return false;
	}
	rs->fallback = true;
	rs->wait_s = 0;
	return true;
}

/*
 * No record.  On a boot nvwa update started that is an error, unless
 * this boot restored it already: the record was lost or cannot be read,
 * and the images may still be there.
 */
static int no_record(struct restore *rs)
{
	char done[64];
	char *cmdline;
	bool pinmem;

	if (!started_by_update() || rs->fallback ||
	    read_one_line(RESTORED_MARKER, done, sizeof(done)) == 0) {
		log_info("No update to restore in %s", rs->dev);
		return 0;
	}
	pinmem = false;
	if (cmdline_read_running(&cmdline) == 0) {
		pinmem = strstr(cmdline, "memmap=") && strchr(cmdline, '$');
		free(cmdline);
	}
	if (pinmem && access(PINMEM_MOUNT, F_OK) < 0)
		return log_error_errno(-ENOENT, "This boot was started by nvwa update, but no handover record is in %s and pinmem, where it may be, is not loaded: run `nvwa pinmem load`, then `nvwa restore --retry`",
				       rs->dev);
	return log_error_errno(-ENOENT, "This boot was started by nvwa update, but neither %s nor pinmem holds a handover record: the update's applications were not restored. Their images, if any, are kept in %s",
			       rs->dev, rs->store);
}

static int restore(struct restore *rs, const char *unused __attribute__((unused)))
{
	struct nvwa_handover *h = rs->h;
	struct lazy lazy[NVWA_MAX_APPS];
	uint64_t t_start = tsc_read(), t_end;
	char why[512], refused[PATH_MAX + 16], *previous = NULL, sig[16];
	struct firstrun_probe *fr = NULL;
	uint32_t nlazy = 0, pending;
	bool first;
	int failed, r;

	if (rs->if_pending && !started_by_update() && !store_may_hold_update(rs))
		return 0;
	reserve_pids();
	/* Each step logs its own cause; the cause is what is returned. */
	r = open_store(rs);
	if (!r && store_path(rs->store, STORE_REFUSED, refused, sizeof(refused)) < 0)
		r = log_error_errno(-ENAMETOOLONG, "The store's mount point %s is too long", rs->store);
	if (r < 0)
		return r;
	if (access(rs->record, F_OK) < 0)
		return no_record(rs);
	if (read_file(refused, 4096, &previous, NULL) == 0 && !rs->retry) {
		log_error("A restore from %s already failed: %s", rs->dev, strstrip(previous));
		free(previous);
		return log_error_errno(-EALREADY, "The images are kept. Fix the cause, then run `nvwa restore --retry`.");
	}
	free(previous);

	if (record_load(rs->record, rs->flags, h, why, sizeof(why)) < 0) {
		char msg[1024];

		xsnprintf(msg, sizeof(msg), "handover record refused: %s", why);
		keep_refusal(rs->store, msg);
		log_error("Nothing was restored; the images are kept in %s.", rs->store);
		return log_error_errno(-EBADMSG, "Fix or replace %s, then run `nvwa restore --retry` (or `--retry --ignore-crc` if only its checksum is wrong).",
				       rs->record);
	}
	if (rs->fallback) {
		struct utsname uts;

		uname(&uts);
		log_warn("This boot was not started by nvwa update, yet %s holds update %" PRIu64 ", never restored: the kernel it went to (%s) did not restore it, and may have crashed.  Restoring it in this one (%s).",
			 rs->dev, h->generation, h->new_kernel.release, uts.release);
		reserve_record_pids(h);
	}
	log_info("Handover record: %s", rs->record);
	log_info("Restoring update %" PRIu64 ": %s -> %s, %u application(s)",
		 h->generation, h->old_kernel.release, h->new_kernel.release, h->napps);

	/*
	 * The boot's measurements are read once, on the kexec'd boot: after
	 * a reset the TSC and the kernel log no longer tie to the update.
	 */
	first = !rs->fallback && !timeline_find(&h->timeline, NVWA_PHASE_KEXEC_JUMP) &&
		!timeline_find(&h->timeline, NVWA_PHASE_KERNEL_EARLY);
	if (first)
		watch_first_run(h, &fr);
	lock_connections(h);
	if (rs->fallback && hand_to_units(h) < 0)
		log_error("The services this update keeps may start afresh next to their restored copies");
	failed = restore_apps(rs->store, rs->record, h, !want_lazy(rs->lazy), lazy, &nlazy);
	t_end = tsc_read();
	pending = units_pending(h);
	if (!failed)
		log_info("Applications running: %u restored%s", h->napps - pending,
			 pending ? ", the others when systemd starts their services" : "");
	timeline_add(&h->timeline, timeline_find(&h->timeline, NVWA_PHASE_RESTORE) ?
		     NVWA_PHASE_RESTORE_RETRY : NVWA_PHASE_RESTORE, NVWA_DOMAIN_NEW, t_start, t_end);
	if (!failed && !pending && !timeline_find(&h->timeline, NVWA_PHASE_APP_RUNNING))
		timeline_add(&h->timeline, NVWA_PHASE_APP_RUNNING, NVWA_DOMAIN_NEW, t_end, t_end);
	if (first)
		collect_timings(h, fr, t_start);
	failed += finish_lazy(rs->store, h, lazy, nlazy);
	park_online_deferred(&h->timeline);
	if (pending && !failed) {
		/* The last service to restore ends the update (restore-unit). */
		if (record_save(rs->record, h) < 0)
			return log_error_errno(-EIO, "Cannot keep the record for the services' restore");
		return 0;
	}
	handover_set_outcome(h, failed ? NVWA_OUTCOME_FAILED : NVWA_OUTCOME_RESTORED);

	if (failed) {
		if (state_save_report(h) < 0)
			log_warn("The report for update %" PRIu64 " was not kept", h->generation);
		if (criu_stopped())
			xsnprintf(why, sizeof(why), "nvwa restore was stopped (%s: the restore unit's start timeout, or a stop): %d of %u application(s) not restored",
				  stop_name(sig, sizeof(sig)), failed, h->napps);
		else
			xsnprintf(why, sizeof(why), "%d of %u application(s) failed to restore", failed, h->napps);
		keep_refusal(rs->store, why);
		record_save(rs->record, h);
		return log_error_errno(-ECANCELED, "%s; their images are kept in %s. `nvwa status` says which and why; fix the cause, then run `nvwa restore --retry`.",
				       why, rs->store);
	}
	finish(rs, t_start, t_end);
	return 0;
}

static int cmd_restore(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "retry", no_argument, NULL, 'r' },
		{ "ignore-crc", no_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "wait", required_argument, NULL, 'w' },
		{ "lazy", no_argument, NULL, 'l' },
		{ "eager", no_argument, NULL, 'e' },
		{ "if-pending", no_argument, NULL, 'p' },
		{}
	};
	struct restore rs = { .lazy = -1, .wait_s = 30 };
	uint64_t v;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': rs.retry = true; break;
		case 'c': rs.flags |= HANDOVER_PARSE_IGNORE_CRC; break;
		case 's': rs.dev = optarg; break;
		case 'w':
			if (parse_u64(optarg, &v) < 0 || v > 3600) {
				log_error("--wait takes seconds (0 to 3600), not '%s'", optarg);
				return 2;
			}
			rs.wait_s = (int)v;
			break;
		case 'l': rs.lazy = 1; break;
		case 'e': rs.lazy = 0; break;
		case 'p': rs.if_pending = true; break;
		default: usage_restore(stderr); return 2;
		}
	}
	rs.dev = store_device(rs.dev);
	return run_locked(&rs, restore, NULL);
}

const struct nvwa_cmd nvwa_cmd_restore = {
	.name = "restore",
	.summary = "restore the applications after the kexec (early boot)",
	.run = cmd_restore,
	.usage = usage_restore,
};

static void usage_restore_unit(FILE *f)
{
	fprintf(f,
		"usage: nvwa restore-unit NAME.service\n"
		"\n"
		"Restores the process `nvwa update --unit NAME.service` kept, as that\n"
		"service's start: the ExecStart= of the drop-in nvwa's generator writes\n"
		"on the boot the update started.  systemd runs it in the unit's cgroup\n"
		"with the unit's journal stream on stdout and stderr; CRIU restores the\n"
		"process there, with its own PID, credentials and filters, its stdio\n"
		"connected to that stream, and nvwa writes its PID to the unit's\n"
		"PIDFile=, so systemd adopts it as the main process.  Once the unit is\n"
		"active a daemon-reload retires the drop-in: the next start is an\n"
		"ordinary one.  The service that restores last ends the update and\n"
		"keeps its report.\n"
		"\n"
		"If the restore fails the unit fails (its images stay in the store);\n"
		"`systemctl start NAME.service` tries again.  Not for use by hand.\n");
}

/*
 * A daemon-reload once @unit's start is over: the generator, which runs
 * again, no longer writes the restoring drop-in (the "done" marker).  A
 * transient unit ordered after @unit waits for its start job to end.
 */
static void schedule_settle(const char *unit, pid_t pid)
{
	char after[UNIT_NAME_MAX + 32], name[64];
	const char *argv[] = { "systemd-run", "--no-block", "--quiet", "--collect",
			       name, after, "systemctl", "daemon-reload", NULL };
	int r;

	xsnprintf(after, sizeof(after), "--property=After=%s", unit);
	xsnprintf(name, sizeof(name), "--unit=nvwa-settle-%d", (int)pid);
	r = run(argv, NULL);
	if (r)
		log_warn("Could not schedule the daemon-reload that retires %s's restoring drop-in (%s): run `systemctl daemon-reload` before restarting it",
			 unit, r < 0 ? strerror(-r) : "systemd-run failed");
}

/* What systemd needs to adopt the restored process, and to start afresh later. */
static int unit_adopt(const char *unit, pid_t pid)
{
	char path[PATH_MAX], text[32];
	int r;

	r = mkdir_p(UNIT_RUN_DIR, 0755);
	if (r < 0)
		return log_error_errno(r, "Cannot create %s: %m", UNIT_RUN_DIR);
	xsnprintf(text, sizeof(text), "%d\n", (int)pid);
	r = unit_run_path(unit, "pid", path, sizeof(path));
	if (!r)
		r = write_file_atomic(path, text, strlen(text));
	if (r < 0)
		return log_error_errno(r, "Cannot write %s's PID file: %m", unit);
	r = unit_run_path(unit, "done", path, sizeof(path));
	if (!r)
		r = write_file_atomic(path, text, strlen(text));
	if (r < 0)
		log_warn_errno(r, "Cannot mark %s restored (%m): its next start will try to restore it again, and fail", unit);
	if (xsnprintf(path, sizeof(path), "%s/%s.d/%s", UNIT_RUNTIME_DIR, unit, UNIT_DROPIN) >= 0)
		unlink(path);
	schedule_settle(unit, pid);
	return 0;
}

static uint32_t apps_failed(const struct nvwa_handover *h)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < h->napps; i++)
		n += handover_app_state(&h->apps[i]) == NVWA_APP_FAILED;
	return n;
}

static int restore_unit(struct restore *rs, const char *unit)
{
	struct nvwa_handover *h = rs->h;
	const struct nvwa_phase *early;
	uint64_t t_start = tsc_read(), t_end;
	char why[512], name[NVWA_PHASE_NAME_MAX];
	struct lazy lazy[1];
	uint32_t nlazy = 0, i, failed;
	int r;

	r = open_store(rs);
	if (r < 0)
		return r;
	if (access(rs->record, F_OK) < 0)
		return log_error_errno(-ENOENT, "No update is waiting for %s to restore it (no handover record in %s or pinmem); `systemctl daemon-reload` retires the restoring drop-in",
				       unit, rs->dev);
	if (record_load(rs->record, rs->flags, h, why, sizeof(why)) < 0)
		return log_error_errno(-EBADMSG, "handover record refused: %s; %s is not restored, its images are kept in %s",
				       why, unit, rs->store);
	for (i = 0; i < h->napps && strcmp(h->apps[i].unit, unit); i++)
		;
	if (i == h->napps)
		return log_error_errno(-ENOENT, "Update %" PRIu64 " keeps no process of %s", h->generation, unit);
	if (handover_app_state(&h->apps[i]) == NVWA_APP_RESTORED)
		return log_error_errno(-EALREADY, "%s's process %d was restored already in this boot; `systemctl daemon-reload` retires the restoring drop-in",
				       unit, h->apps[i].pid);
	log_info("Restoring %s: %d (%s) of update %" PRIu64, unit, h->apps[i].pid,
		 h->apps[i].comm, h->generation);
	/* From the boot's own restore to this unit's start: systemd's share. */
	early = timeline_find(&h->timeline, NVWA_PHASE_RESTORE);
	if (early && early->end < t_start) {
		xsnprintf(name, sizeof(name), "unit-start/%d", h->apps[i].pid);
		timeline_add(&h->timeline, name, NVWA_DOMAIN_NEW, early->end, t_start);
	}
	r = restore_app(rs->store, rs->record, h, i, 1, lazy, &nlazy);
	if (r == 0)
		r = unit_adopt(unit, h->apps[i].pid);
	t_end = tsc_read();
	if (units_pending(h)) {
		if (record_save(rs->record, h) < 0)
			log_warn("The record no longer says how %s fared", unit);
		return r;
	}
	/* The last of the update's applications: the update ends here. */
	failed = apps_failed(h);
	if (!failed && !timeline_find(&h->timeline, NVWA_PHASE_APP_RUNNING))
		timeline_add(&h->timeline, NVWA_PHASE_APP_RUNNING, NVWA_DOMAIN_NEW, t_end, t_end);
	handover_set_outcome(h, failed ? NVWA_OUTCOME_FAILED : NVWA_OUTCOME_RESTORED);
	if (failed) {
		if (state_save_report(h) < 0)
			log_warn("The report for update %" PRIu64 " was not kept", h->generation);
		xsnprintf(why, sizeof(why), "%u of %u application(s) failed to restore", failed,
			  h->napps);
		keep_refusal(rs->store, why);
		record_save(rs->record, h);
		return r < 0 ? r : 0;
	}
	finish(rs, t_start, t_end);
	return 0;
}

static int cmd_restore_unit(int argc, char **argv)
{
	struct restore rs = { .lazy = 0, .wait_s = 30 };

	if (argc != 2 || !unit_name_valid(argv[1])) {
		usage_restore_unit(stderr);
		return 2;
	}
	rs.dev = store_device(NULL);
	return run_locked(&rs, restore_unit, argv[1]);
}

const struct nvwa_cmd nvwa_cmd_restore_unit = {
	.name = "restore-unit",
	.summary = "restore a kept systemd service, as its start (generator's drop-in)",
	.run = cmd_restore_unit,
	.usage = usage_restore_unit,
};
