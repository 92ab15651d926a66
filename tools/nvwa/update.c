// SPDX-License-Identifier: GPL-2.0
/*
 * nvwa update: the whole update as seen from the old kernel.
 *
 *   check      everything that can be checked before an application is
 *              touched; the new kernel is loaded here, not after the freeze
 *   pre-dump   application memory copied to the store while it runs
 *   freeze     final dump of what changed since; downtime starts here
 *   sync       filesystems flushed
 *   quiesce    journald off /var, local filesystems frozen (quiesce.c),
 *              handover record written
 *   reboot     reboot(LINUX_REBOOT_CMD_KEXEC)
 *
 * Failure design: until the freeze nothing is stopped, so a failed step
 * only undoes its own work (kexec unloaded, images removed).  From the
 * freeze on, dumped applications are left stopped, not killed, so any
 * failure before the jump resumes them with SIGCONT and they run on in
 * this kernel as if nothing happened.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bpf/probes.h"
#include "bpf/shutdown.h"
#include "common/fault.h"
#include "common/log.h"
#include "common/tsc.h"
#include "common/util.h"
#include "fastboot/cmdline.h"
#include "fastboot/fwmap.h"
#include "fastboot/initrd.h"
#include "fastboot/kexec.h"
#include "fastboot/prepare.h"
#include "park/defer.h"
#include "park/parked.h"
#include "pinmem/lib/libpinmem.h"
#include "tools/nvwa/criu.h"
#include "tools/nvwa/keep.h"
#include "tools/nvwa/nvwa.h"
#include "tools/nvwa/netsock.h"
#include "tools/nvwa/unit.h"
#include "tools/nvwa/quiesce.h"

#define MAX_TREE 512
/* CRIU's -v4 log of one dump: a few MiB at most. */
#define CRIU_LOG_MAX (64u << 20)

/* Exit statuses of a failed update, for scripts (see --help). */
#define EXIT_UNTOUCHED 1
#define EXIT_RESUMED 3

struct app {
	pid_t pid;
	char comm[NVWA_COMM_MAX];
	unsigned long long rss;		/* bytes */
	char dir[PATH_MAX];		/* STORE/gen-N/PID */
	char unit[NVWA_UNIT_MAX];	/* its systemd service, or "" */
	char stdio[NVWA_WORD_MAX * 2];	/* its stdio sockets, FD:INODE */
	struct tcp_summary tcp;		/* its TCP sockets */
	bool stopped;			/* being dumped or dumped: maybe stopped */
	bool copy_memory;		/* --copy-memory=PID: CRIU copies its memory */
	struct nvwa_keep_take keep;	/* its pages kept in place, if any */
	uint64_t shared_pages;		/* shared anonymous memory CRIU copies */
	size_t ntree;			/* the process and its descendants */
	pid_t tree[MAX_TREE];
};

struct update {
	const char *image;
	const char *initrd;
	const char *append;
	const char *store_dev;
	bool dry_run;
	bool discard_unrestored;	/* delete images never restored */
	bool lazy_restore;
	bool no_prepare;
	bool file_load;
	bool purgatory_checks;
	bool no_quick;			/* --quick-kexec=no */
	bool no_memmap_bg;		/* --memmap-bg=no */
	bool memmap_bg_low;		/* --memmap-bg=low */
	bool no_park;			/* --park-cpus=no */
	bool quiet_boot;
	bool profile_boot;		/* initcall_debug in the new kernel */
	bool trace;			/* nvwa trace reboot: no applications */
	bool no_quiesce;
	bool copy_memory;		/* --copy-memory: CRIU copies, even here */
	uint64_t held;			/* frames kept for checkpoints, to hand over too */
	size_t ncopy;			/* --copy-memory=PID */
	pid_t copy_pids[NVWA_MAX_APPS];
	enum probe_mode probes;
	struct shutdown_probes *shutdown;
	long defer_cpus;		/* CPUs to boot with, 0: all */
	size_t napps;
	struct app apps[NVWA_MAX_APPS];
	size_t nunits;			/* --unit */
	const char *units[NVWA_MAX_APPS];

	char store[PATH_MAX];		/* mount point */
	char gendir[PATH_MAX];
	char record[PATH_MAX];		/* where the handover record will go */
	char cmdline[KERNEL_CMDLINE_MAX];
	struct kexec_plan plan;		/* how the kernel is loaded, and why */
	enum initrd_mode initrd_mode;	/* --initrd-prepared */
	struct initrd_boot initrd_boot;	/* what kexec gets as the initrd */
	const char *pids;		/* how the new boot keeps the PIDs free */
	bool kexec_loaded;		/* nvwa's image is loaded: unload it on failure */
	bool load_numbered;		/* load_seq is the number of nvwa's load */
	uint64_t load_seq;		/* its SEQ in /sys/kernel/nvwa/park */
	int keep_fd;			/* /dev/nvwa-keep: memory kept in place */
	uint64_t keep_head;		/* nvwa.keep= of the new kernel */
	char memory_why[256];		/* why memory is kept, or copied */
	int guard_fd;			/* write end of the guard's pipe, or -1 */
	struct quiesce quiesce;		/* filesystems frozen for the jump */
	struct nvwa_handover *h;
};

static void usage_update(FILE *f)
{
	fprintf(f,
		"usage: nvwa update --kernel IMAGE [--initrd FILE] [--append ARGS]\n"
		"                   [--initrd-prepared=auto|yes|no]\n"
		"                   [--app PID]... [--unit NAME.service]... [--store DEV]\n"
		"                   [--dry-run] [--lazy-restore] [--no-prepare] [--file-load]\n"
		"                   [--purgatory-checks] [--quick-kexec=auto|no]\n"
		"                   [--memmap-bg=auto|low|no] [--park-cpus=auto|no]\n"
		"                   [--quiet-boot] [--defer-cpus[=N]] [--profile-boot]\n"
		"                   [--probes=auto|kprobe|off]\n"
		"                   [--discard-unrestored] [--no-quiesce]\n"
		"                   [--copy-memory[=PID]]...\n"
		"\n"
		"Replaces the running kernel with IMAGE through kexec, keeping the\n"
		"applications: each PID (with its children) is checkpointed with CRIU\n"
		"into the store, memory that survives kexec, and restored in the new\n"
		"kernel by `nvwa restore` with the same PID, open files and memory.\n"
		"\n"
		"Steps, and what happens if one fails:\n"
		"  check     image, initrd, reservation, store space, PIDs, `criu check`;\n"
		"            when pinmem is in use, the new kernel's pinmem module and\n"
		"            its region format (`modinfo -k RELEASE pinmem`): without\n"
		"            it, applications with pinmem areas are refused and the\n"
		"            handover record goes to the store; a bzImage's payload is\n"
		"            decompressed into the ELF vmlinux it carries (cached, see\n"
		"            `nvwa prepare`); then the new kernel is loaded with `kexec -l`\n"
		"  pre-dump  memory is copied while the applications run\n"
		"  freeze    only what changed since is dumped: downtime starts\n"
		"  quiesce   journald leaves /var, local filesystems are frozen so the\n"
		"            new kernel mounts them clean (no journal replay)\n"
		"  reboot    handover record written, reboot into IMAGE\n"
		"A failure before the freeze leaves the applications untouched; a\n"
		"failure after it resumes them where they stopped and thaws the\n"
		"filesystems.  Either way the loaded kernel is unloaded and the images\n"
		"are removed.\n"
		"\n"
		"  -k, --kernel IMAGE   bzImage or ELF vmlinux to boot\n"
		"  -i, --initrd FILE    initramfs for the new kernel\n"
		"  -a, --append ARGS    extra kernel parameters; KEY=VALUE replaces the\n"
		"                       running kernel's KEY.  The running command line\n"
		"                       is carried over (memmap= reservations included)\n"
		"  -p, --app PID        an application to keep (repeatable, max %d)\n"
		"  -u, --unit NAME.service  a systemd service to keep: its main process\n"
		"                       and its children (repeatable).  --app of a\n"
		"                       service's main process means the same.  On the\n"
		"                       new kernel's boot systemd starts the service once,\n"
		"                       and that start restores it: same PID, in the\n"
		"                       unit's cgroup, as its main PID, stdout and\n"
		"                       stderr to the journal; `systemctl restart` later\n"
		"                       starts it afresh.  A service whose sandboxing gives\n"
		"                       it namespaces of its own is refused before anything\n"
		"                       is frozen (see `nvwa unit --help`)\n"
		"      --store DEV      the store device (default: $NVWA_STORE, else\n"
		"                       nvwa.handover= of this boot, else /dev/pmem0)\n"
		"  -n, --dry-run        check, load, pre-dump and dump for real, leaving\n"
		"                       the applications running (each is stopped for as\n"
		"                       long as its dump takes), then undo it all: what\n"
		"                       the real dump would refuse is found here\n"
		"      --discard-unrestored  delete the images of earlier updates that\n"
		"                       were never restored; without it nvwa refuses to\n"
		"                       start while the store holds any\n"
		"      --lazy-restore   in the new kernel, let the applications run before\n"
		"                       all their memory is back (CRIU lazy pages); see\n"
		"                       nvwa restore --help for when that pays\n"
		"      --no-prepare     boot the bzImage as it is: the new kernel then\n"
		"                       decompresses itself during the downtime\n"
		"      --initrd-prepared=WHEN  auto (the default), yes or no: decompress\n"
		"                       the initrd's compressed archives now, outside the\n"
		"                       downtime, so the new kernel's unpack only copies.\n"
		"                       Cached by the initrd's content in\n"
		"                       $NVWA_INITRD_CACHE (default /var/cache/nvwa/initrds);\n"
		"                       its sha256 is verified before kexec loads it, and a\n"
		"                       copy that does not verify is rebuilt, never booted.\n"
		"                       The result is larger, so kexec copies more at the\n"
		"                       jump: auto prepares only the compressors measured\n"
		"                       to pay: gzip, xz and zstd (Debian's default), not\n"
		"                       lz4, which the kernel unpacks as fast as it copies;\n"
		"                       bzip2, lzma and lzo are left to the kernel.  The\n"
		"                       report says which initrd was booted\n"
		"      --file-load      load with kexec_file_load(2), the only way when the\n"
		"                       kernel is locked down or UEFI secure boot is on\n"
		"                       (then chosen by itself): the signed bzImage is\n"
		"                       verified and decompressed by the kernel\n"
		"      --purgatory-checks  keep purgatory's SHA-256 pass over the loaded\n"
		"                       kernel at reboot; by default it is skipped when\n"
		"                       nvwa itself verified the prepared vmlinux\n"
		"      --quick-kexec=WHEN  auto (the default) or no.  On an nvwa kernel\n"
		"                       booted with nvwa.quick_kexec=SIZE (a region kept\n"
		"                       for the next kernel, carried over to it), the\n"
		"                       prepared vmlinux and the initrd are loaded where\n"
		"                       they will run, before the freeze, so the reboot\n"
		"                       copies nothing.  auto does it when they fit and\n"
		"                       says why not otherwise; `nvwa report` shows how\n"
		"                       many pages the jump copied\n"
		"      --memmap-bg=WHEN  auto (the default), low or no.  When the new\n"
		"                       kernel is an nvwa kernel with memmap-bg, auto\n"
		"                       boots it with deferred_page_init=async: /init\n"
		"                       and the restore start while the struct pages of\n"
		"                       the highest zone (the memory above 4 GiB on a\n"
		"                       larger machine) are still being initialised in\n"
		"                       the background.  low (a kernel with\n"
		"                       memmap-bg-low) defers those below 4 GiB too, so\n"
		"                       the time to /init no longer grows with memory;\n"
		"                       until the init has gone through them every\n"
		"                       allocation comes from below 4 GiB, which may\n"
		"                       leave none for 32-bit DMA devices.  A\n"
		"                       deferred_page_init= already on the command line\n"
		"                       or in --append is kept\n"
		"      --park-cpus=WHEN auto (the default) or no.  On an nvwa kernel\n"
		"                       booted with nvwa.park=ADDR, the secondary CPUs\n"
		"                       wait in that region across the kexec and an nvwa\n"
		"                       kernel wakes them with a store instead of\n"
		"                       INIT/SIPI; auto parks them when the new kernel\n"
		"                       reserves the region too.  no halts them the\n"
		"                       stock way (the region is still carried over)\n"
		"      --quiet-boot     add `quiet`: a serial console at 115200 baud costs\n"
		"                       the new kernel hundreds of ms (see `nvwa report`)\n"
		"      --defer-cpus[=N] boot the new kernel with N CPUs (default 1) and\n"
		"                       bring the others up once the applications run\n"
		"      --profile-boot   add initcall_debug: `nvwa report` then names the\n"
		"                       new kernel's slowest initcalls (the log costs time)\n"
		"      --probes=MODE    how the old kernel's shutdown is timed after the\n"
		"                       reboot call (kernel_kexec, each device's shutdown,\n"
		"                       ..., machine_kexec): eBPF fentry/fexit where the\n"
		"                       kernel's BTF has the function, else kprobes (auto,\n"
		"                       the default); kprobe; or off.  The probes write into\n"
		"                       a pinmem area, so they need the pinmem module with a\n"
		"                       reserved region; without it the shutdown is one\n"
		"                       phase, kexec-jump\n"
		"      --no-quiesce     do not freeze filesystems before the jump: they\n"
		"                       are only synced, and the new kernel replays their\n"
		"                       journals.  Writable local filesystems (ext4, xfs,\n"
		"                       btrfs, ...) are frozen by default, all but the\n"
		"                       store and those nvwa's own output goes to\n"
		"\n"
		"Exit status, when nvwa update returns at all: 0 after --dry-run,\n"
		"1 if it stopped before any application was frozen, 2 for bad usage,\n"
		"3 if it stopped after the freeze and resumed the applications.\n"
		"\n"
		"Memory an application keeps in pinmem areas (nvwa pinmem --help) is not\n"
		"copied at all: nvwa's CRIU plugin records the areas by name and the\n"
		"restore maps the same RAM again.  Ordinary anonymous memory is copied\n"
		"to the store, mostly by the pre-dump before the freeze, unless both\n"
		"kernels are nvwa kernels (pin-anon in `nvwa status` here, declared by\n"
		"IMAGE): then it stays where it is.  Each application is stopped\n"
		"(SIGSTOP), its private anonymous pages are taken out of its page\n"
		"tables, CRIU dumps what is left (no pre-dump), and the new kernel\n"
		"gives the same frames back to the restored process before it runs\n"
		"again; what is not one process's alone (pages shared after fork,\n"
		"shared anonymous memory) or read-only is still copied, and said.\n"
		"The record and `nvwa report` say which way each application's\n"
		"memory went.\n"
		"      --copy-memory[=PID]  copy anonymous memory through the store even\n"
		"                       where it could be kept in place: every\n"
		"                       application's, or with =PID (repeatable) that\n"
		"                       application's only\n"
		"\n"
		"The running kernel needs memmap=SIZE!START on its command line and a\n"
		"formatted store (`nvwa store format`).  After the update, `nvwa report`\n"
		"shows where the time went.\n", NVWA_MAX_APPS);
}

static void phase(struct update *u, const char *name, uint64_t start)
{
	uint64_t end = tsc_read();

	if (timeline_add(&u->h->timeline, name, NVWA_DOMAIN_OLD, start, end) < 0)
		log_warn("Timeline full; phase %s not recorded", name);
	log_info("  %s: %.0f ms", name, tsc_to_ms(end - start, u->h->timeline.tsc_khz));
}

/*
 * Whether the loaded image can still be nvwa's: where loads are numbered,
 * no load came after it (the guard's copy of the state has the number
 * too); elsewhere nothing tells.
 */
static bool still_ours(const struct update *u)
{
	struct park_state st;

	if (!u->load_numbered)
		return true;
	if (park_state_read(PARK_STATE_FILE, &st) < 0 || !st.has_seq || st.seq != u->load_seq) {
		log_warn("A kexec image was loaded (or a load attempted) after nvwa's: left loaded; `kexec -u` unloads it");
		return false;
	}
	return true;
}

/*
 * Undoes everything this update did; the applications run on.  Returns
 * the exit status that tells a script which: EXIT_UNTOUCHED if nothing
 * was ever stopped, EXIT_RESUMED if frozen applications were resumed.
 */
static int roll_back(struct update *u)
{
	size_t resumed = 0;
	int r;

	/* Pages taken from a stopped application go back before it runs. */
	if (u->keep_fd >= 0) {
		r = keep_abort(u->keep_fd);
		if (r < 0)
			log_error_errno(r, "Could not give the applications their kept pages back: %m");
	}

	/* First: a resumed application may write to them. */
	quiesce_undo(&u->quiesce);
	for (size_t i = 0; i < u->napps; i++) {
		struct app *a = &u->apps[i];

		if (!a->stopped)
			continue;
		/* CRIU stops the whole tree: every task of it needs resuming. */
		for (size_t t = 0; t < a->ntree; t++)
			if (kill(a->tree[t], SIGCONT) < 0 && errno != ESRCH)
				log_error_errno(-errno, "Failed to resume %d: %m; `kill -CONT %d` by hand",
						a->tree[t], a->tree[t]);
		resumed++;
		a->stopped = false;
	}
	if (u->kexec_loaded && still_ours(u))
		kexec_unload();
	shutdown_probes_stop(u->shutdown, 0);
	u->shutdown = NULL;
	if (u->gendir[0] && rm_rf(u->gendir) < 0)
		log_warn("Could not remove %s", u->gendir);
	if (resumed) {
		log_error("Update aborted: %zu application(s) resumed in the running kernel; nothing was kexec'd.",
			  resumed);
		return EXIT_RESUMED;
	}
	log_error("Update aborted before any application was frozen; they keep running untouched.");
	return EXIT_UNTOUCHED;
}

/* Whether the new kernel reserves the park region too (parked-cpus). */
static bool next_reserves_park(const struct update *u)
{
	return kcaps_image_has(&u->plan.image, KCAP_PARKED_CPUS);
}

static int check_image(struct update *u)
{
	const struct kimage_info *k = &u->plan.boot.info;
	struct kcaps caps;
	char *running, cpus[224];
	struct kexec_request req = {
		.image = u->image,
		.caps = &caps,
		.cache_dir = u->no_prepare ? NULL : kimage_cache_dir(),
		.file_load = u->file_load,
		.purgatory_checks = u->purgatory_checks,
		.no_quick = u->no_quick,
	};
	int r;

	kcaps_probe_running(&caps);
	r = kexec_plan(&req, &u->plan);
	if (r < 0)
		return r;
	if (u->plan.note[0])
		log_info("  %s", u->plan.note);
	if (k->format == KIMAGE_BZIMAGE)
		log_info("  kernel: %s, bzImage (boot protocol %u.%02u, %s payload)",
			 k->release[0] ? k->release : "unknown release",
			 k->boot_version >> 8, k->boot_version & 0xff, k->compression);
	log_info("  %s", u->plan.why);
	r = u->initrd ? initrd_check(u->initrd, u->initrd_mode, &u->initrd_boot) : 0;
	if (r < 0)
		return r;
	kexec_plan_quick(&req, u->initrd ? u->initrd_boot.path : NULL, NVWA_RUN_DIR, &u->plan);
	log_info("  quick kexec: %s", u->plan.quick_why);
	if (u->no_park) {
		log_info("  CPUs: halted at the jump, INIT/SIPI in the new kernel (--park-cpus=no)");
	} else if (cmdline_read_running(&running) == 0) {
		log_info("  CPUs: %s", park_at_jump(kcaps_has(&caps, KCAP_PARKED_CPUS), running,
						   next_reserves_park(u), u->plan.image.info.release,
						   cpus, sizeof(cpus)));
		free(running);
	}
	return 0;
}

/* Applications whose memory CRIU copies by --copy-memory=PID. */
static size_t apps_copied(const struct update *u)
{
	size_t n = 0;

	for (size_t i = 0; i < u->napps; i++)
		n += u->apps[i].copy_memory;
	return n;
}

/* Whether @a's anonymous memory stays in place across the kexec. */
static bool memory_kept(const struct update *u, const struct app *a)
{
	return u->keep_fd >= 0 && !a->copy_memory;
}

/* Frames this kernel keeps for checkpoints (`nvwa checkpoint --pin-memory`). */
static uint64_t held_frames(void)
{
	struct nvwa_keep_status st = { 0 };
	char why[128];
	int fd;

	/* After a kexec, the module learns what it holds when it loads. */
	if (!kcap_probe(KCAP_PIN_ANON, why, sizeof(why)))
		return 0;
	fd = keep_open(true, why, sizeof(why));
	if (fd < 0)
		return 0;
	if (keep_status(fd, &st) < 0)
		st.held = 0;
	close(fd);
	return st.held;
}

/*
 * Checkpoints' memory held here has no copy anywhere: an update that
 * cannot hand it over would lose it.
 */
static int held_stays(const struct update *u, const char *why)
{
	return log_error_errno(-EXDEV, "%" PRIu64 " MiB of anonymous memory is kept in place for checkpoints (nvwa checkpoint --pin-memory), and %s, so it would be lost: restore those checkpoints (nvwa restore-app) or free it (nvwa restore-app --drop-memory) first",
			       u->held >> 8, why);
}

/*
 * Whether the applications' anonymous memory stays in place across the
 * kexec: only when this kernel has pin-anon, the image that will boot
 * declares it (a kernel that does not know nvwa.keep= would hand the
 * frames out), and the module answers.  Anything less copies, as on a
 * stock kernel, and says why.  On the kept path the list's head is
 * allocated now: its address goes on the new kernel's command line.
 */
static int choose_memory(struct update *u)
{
	char why[192];
	int r;

	u->keep_fd = -1;
	u->held = held_frames();
	/* An empty list is no hand-over: the kernel would refuse to seal it. */
	if (!u->napps && !u->held)
		return 0;
	if (u->copy_memory || apps_copied(u) == u->napps) {
		xsnprintf(u->memory_why, sizeof(u->memory_why), "copied by CRIU: --copy-memory");
		if (!u->held)
			goto copied;
		/* The checkpoints' frames are handed over all the same. */
		for (size_t i = 0; i < u->napps; i++)
			u->apps[i].copy_memory = true;
	}
	if (!kcap_probe(KCAP_PIN_ANON, why, sizeof(why))) {
		xsnprintf(u->memory_why, sizeof(u->memory_why),
			  "copied by CRIU: this kernel cannot keep it (pin-anon %s)", why);
		goto copied;
	}
	if (!kcaps_image_has(&u->plan.image, KCAP_PIN_ANON)) {
		if (u->held)
			return held_stays(u, "the new kernel cannot take it over");
		xsnprintf(u->memory_why, sizeof(u->memory_why),
			  "copied by CRIU: the new kernel could not take it over (%s)",
			  u->plan.image.why);
		goto copied;
	}
	r = keep_open(true, why, sizeof(why));
	if (r < 0) {
		xsnprintf(u->memory_why, sizeof(u->memory_why), "copied by CRIU: %s", why);
		goto copied;
	}
	u->keep_fd = r;
	r = keep_begin(u->keep_fd, &u->keep_head);
	if (r < 0) {
		close(u->keep_fd);
		u->keep_fd = -1;
		if (u->held)
			return held_stays(u, "/dev/nvwa-keep would not begin a hand-over");
		xsnprintf(u->memory_why, sizeof(u->memory_why),
			  "copied by CRIU: %s would not begin a hand-over: %s", KEEP_DEV,
			  strerror(-r));
		goto copied;
	}
	if (!u->copy_memory && apps_copied(u) < u->napps)
		xsnprintf(u->memory_why, sizeof(u->memory_why),
			  "kept in place: pin-anon on both kernels (list head at %#" PRIx64 "); private pages only, CRIU copies what is shared (shared anonymous memory, pages shared after fork)",
			  u->keep_head);
	if (u->napps)
		log_info("  memory: %s", u->memory_why);
	if (u->held)
		log_info("  checkpoints' memory: %" PRIu64 " MiB kept in place, handed over too (list head at %#" PRIx64 ")",
			 u->held >> 8, u->keep_head);
	for (size_t i = 0; !u->copy_memory && i < u->napps; i++)
		if (u->apps[i].copy_memory)
			log_info("  memory of %d: copied by CRIU: --copy-memory=%d", u->apps[i].pid,
				 u->apps[i].pid);
	return 0;
copied:
	log_info("  memory: %s", u->memory_why);
	return 0;
}

/*
 * nvwa.keep= names the list's head.  A bzImage's decompressor would
 * choose where the kernel lands itself (KASLR), perhaps on a kept frame:
 * nokaslr keeps it inside the loaded image, whose place is checked.  The
 * marker nvwa.nokaslr says nvwa added it, so the next update drops it;
 * an operator's own nokaslr (@current has it, unmarked) stays theirs.
 */
static int append_keep_params(struct update *u, const char *current, char *own, size_t size)
{
	size_t len = strlen(own);
	bool theirs = cmdline_has(current, "nokaslr") && !cmdline_has(current, NVWA_NOKASLR_PARAM);
	int w;

	if (u->keep_fd < 0)
		return 0;
	w = snprintf(own + len, size - len, " %s=%#" PRIx64 "%s", NVWA_KEEP_PARAM, u->keep_head,
		     u->plan.boot.info.format != KIMAGE_BZIMAGE ? "" :
		     theirs ? " nokaslr" : " nokaslr " NVWA_NOKASLR_PARAM);
	return w < 0 || (size_t)w >= size - len ? -E2BIG : 0;
}

/*
 * nvwa.park= for the new kernel: this kernel's region with the token it
 * will leave there, so that the new kernel trusts the CPUs it finds
 * parked, and only those (park/parked.h).
 */
static int append_park_params(const char *current, char *own, size_t size)
{
	struct park_state st;
	size_t len = strlen(own);
	char param[96];
	int r, w;

	r = park_state_read(PARK_STATE_FILE, &st);
	r = park_next_param(current, r < 0 ? NULL : &st, param, sizeof(param));
	if (r < 0 || !param[0])
		return r;
	w = snprintf(own + len, size - len, " %s", param);
	return w < 0 || (size_t)w >= size - len ? -E2BIG : 0;
}

/*
 * deferred_page_init=async for a new kernel that has memmap-bg: its
 * /init, and the restore with it, then do not wait for the struct pages
 * of most of memory (fastboot/kernel/0002); async,low with --memmap-bg=low
 * where it has memmap-bg-low, so the memory below 4 GiB does not wait
 * either (0003: opt-in, since until its init went through DMA32 every
 * allocation is served from there).
 * The operator's own deferred_page_init=, carried over or appended, is
 * left as it is.
 */
static int append_memmap_params(const struct update *u, const char *current, char *own,
				size_t size)
{
	size_t len = strlen(own);
	const char *how;
	int w;

	if (!kcaps_image_has(&u->plan.image, KCAP_MEMMAP_BG))
		how = "before /init: the new kernel has no memmap-bg";
	else if (u->no_memmap_bg)
		how = "before /init (--memmap-bg=no)";
	else if (cmdline_has(current, MEMMAP_BG_PARAM) ||
		 (u->append && cmdline_has(u->append, MEMMAP_BG_PARAM)))
		how = "as " MEMMAP_BG_PARAM "= on the command line says";
	else
		how = NULL;
	if (how) {
		log_info("  memmap init: %s", how);
		return 0;
	}
	if (u->memmap_bg_low && kcaps_image_has(&u->plan.image, KCAP_MEMMAP_BG_LOW)) {
		log_info("  memmap init: in the background, after /init, below 4 GiB too ("
			 MEMMAP_BG_PARAM "=async,low)");
		w = snprintf(own + len, size - len, " " MEMMAP_BG_PARAM "=async,low");
	} else {
		log_info("  memmap init: in the background, after /init (" MEMMAP_BG_PARAM
			 "=async)%s", !u->memmap_bg_low ? "" :
			 "; not below 4 GiB: the new kernel has no memmap-bg-low");
		w = snprintf(own + len, size - len, " " MEMMAP_BG_PARAM "=async");
	}
	return w < 0 || (size_t)w >= size - len ? -E2BIG : 0;
}

/* The services the new kernel's boot restores as services (see unit.h). */
static int append_unit_params(struct update *u, char *own, size_t size)
{
	size_t len = strlen(own), n = 0;
	int w;

	for (size_t i = 0; i < u->napps; i++) {
		if (!u->apps[i].unit[0])
			continue;
		w = snprintf(own + len, size - len, "%s%s", n++ ? "," : " " NVWA_UNITS_PARAM "=",
			     u->apps[i].unit);
		if (w < 0 || (size_t)w >= size - len)
			return -E2BIG;
		len += (size_t)w;
	}
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/*
 * The PIDs the restore asks for, sorted: every process of each
 * application's tree and every thread of those, whose TIDs CRIU gives
 * back too.  -E2BIG when there are more than @max.
 */
static int restored_pids(const struct update *u, pid_t *pids, size_t max, size_t *ret_n)
{
	pid_t tree[MAX_TREE];
	size_t n = 0, ntree;
	struct dirent *de;
	char path[64];
	DIR *d;
	int r;

	for (size_t i = 0; i < u->napps; i++) {
		ntree = 0;
		r = proc_tree(u->apps[i].pid, tree, MAX_TREE, &ntree);
		if (r < 0)
			return r;
		for (size_t t = 0; t < ntree; t++) {
			xsnprintf(path, sizeof(path), "/proc/%d/task", tree[t]);
			d = opendir(path);
			if (!d)
				return -errno;
			while ((de = readdir(d)) && n < max)
				if (de->d_name[0] != '.')
					pids[n++] = (pid_t)atoi(de->d_name);
			r = de ? -E2BIG : 0;
			closedir(d);
			if (r < 0)
				return r;
		}
	}
	qsort(pids, n, sizeof(*pids), cmp_pid);
	*ret_n = n;
	return 0;
}

/*
 * How the new boot keeps the restored PIDs free.  Every kernel gets
 * nvwa.lastpid=, the highest of them, past which the restore moves the
 * PID counter before anything else: too late for a PID the boot's own
 * kernel threads and early processes took.  A kernel with pid-reserve
 * (the nvwa kernel) also gets nvwa.reserve_pids=, and holds them all free
 * from its first fork on.
 */
static int append_pid_params(struct update *u, char *own, size_t size)
{
	bool reserve = kcaps_image_has(&u->plan.image, KCAP_PID_RESERVE);
	pid_t pids[NVWA_RESERVE_PIDS_MAX], last = 0;
	size_t len = strlen(own), n = 0;
	int r, w;

	/* Threads and descendants too: CRIU gives each its own ID back. */
	for (size_t i = 0; i < u->napps; i++) {
		pid_t tid;

		if (proc_tree_last_tid(u->apps[i].pid, &tid) < 0)
			tid = u->apps[i].pid;
		last = tid > last ? tid : last;
	}
	if (!last)
		return 0;
	r = restored_pids(u, pids, ARRAY_SIZE(pids), &n);
	if (r == 0 && pids[n - 1] > last)
		last = pids[n - 1];
	w = snprintf(own + len, size - len, " %s=%d", NVWA_LASTPID_PARAM, (int)last);
	if (w < 0 || (size_t)w >= size - len)
		return -E2BIG;
	len += (size_t)w;
	u->pids = "lastpid";
	if (!reserve) {
		log_info("  PIDs: kept free by nvwa.lastpid=%d (%s)", (int)last, u->plan.image.why);
		return 0;
	}
	if (r < 0) {
		if (r == -E2BIG)
			log_warn("  PIDs: more than %d processes and threads: not reserved, only nvwa.lastpid=%d",
				 NVWA_RESERVE_PIDS_MAX, (int)last);
		else
			log_warn_errno(r, "  PIDs: not reserved, only nvwa.lastpid=%d: %m", (int)last);
		return 0;
	}
	for (size_t i = 0, j; i < n; i = j + 1) {
		for (j = i; j + 1 < n && pids[j + 1] == pids[j] + 1; j++)
			;
		w = snprintf(own + len, size - len, "%s%d", i ? "," : " " NVWA_RESERVE_PIDS_PARAM "=",
			     (int)pids[i]);
		if (w >= 0 && (size_t)w < size - len && j > i)
			w += snprintf(own + len + w, size - len - w, "-%d", (int)pids[j]);
		if (w < 0 || (size_t)w >= size - len)
			return -E2BIG;
		len += (size_t)w;
	}
	u->pids = "reserved";
	log_info("  PIDs: %zu held free by the new kernel from its first fork (%s)", n,
		 u->plan.image.why);
	return 0;
}

/*
 * --unit NAME becomes its main PID, and an --app that is a service's
 * main process is kept as that service: either way, before anything
 * else looks at the applications.
 */
static int resolve_units(struct update *u)
{
	bool systemd = unit_systemd_booted();
	pid_t main_pid;
	int r;

	for (size_t i = 0; i < u->nunits; i++) {
		const char *name = u->units[i];
		size_t j;

		if (!unit_name_valid(name))
			return log_error_errno(-EINVAL, "--unit takes a service's name (NAME.service), not '%s'", name);
		if (!systemd)
			return log_error_errno(-EOPNOTSUPP, "--unit %s: systemd is not running this system", name);
		r = unit_main_pid(name, &main_pid);
		if (r < 0)
			return r;
		for (j = 0; j < u->napps && u->apps[j].pid != main_pid; j++)
			;
		if (j == u->napps) {
			if (u->napps == NVWA_MAX_APPS)
				return log_error_errno(-E2BIG, "At most %d applications per update", NVWA_MAX_APPS);
			u->apps[u->napps++].pid = main_pid;
		}
	}
	if (!systemd)
		return 0;
	for (size_t i = 0; i < u->napps; i++) {
		struct app *a = &u->apps[i];

		r = unit_of_pid(a->pid, a->unit, sizeof(a->unit));
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return log_error_errno(r, "Application %d: cannot read its cgroup: %m (has it exited?)", a->pid);
		r = unit_main_pid(a->unit, &main_pid);
		if (r < 0)
			return r;
		if (main_pid != a->pid)
			return log_error_errno(-EINVAL, "PID %d belongs to %s, whose main process is %d: keep the whole service with --unit %s",
					       a->pid, a->unit, main_pid, a->unit);
		log_info("  app %d: main process of %s, restored by the unit", a->pid, a->unit);
	}
	return 0;
}

static int check_cmdline(struct update *u)
{
	struct pmem_reservation cur, next;
	char *current, own[1536];
	int r;

	r = cmdline_read_running(&current);
	if (r < 0)
		return log_error_errno(r, "Failed to read /proc/cmdline: %m");
	r = cmdline_find_pmem(current, &cur);
	if (r < 0) {
		free(current);
		if (r == -ENOENT)
			return log_error_errno(r, "No preserved-memory reservation on the kernel command line: add memmap=SIZE!START (e.g. memmap=512M!1G), reboot, and format the store with `nvwa store format`");
		return log_error_errno(r, "Malformed memmap=SIZE!START on the kernel command line");
	}
	r = fwmap_check_cmdline(FWMAP_DIR, current, own, sizeof(own));
	if (r < 0 && r != -ENOENT) {
		log_error_errno(r, "The reservation on this kernel's command line is wrong for this machine: %s. Fix memmap= and reboot; nothing was done",
				own);
		goto cleanup;
	}
	r = xsnprintf(own, sizeof(own), "%s=%s%s%s%s", NVWA_HANDOVER_PARAM,
		      u->store_dev, u->lazy_restore ? " " NVWA_RESTORE_PARAM "=lazy" : "",
		      u->quiet_boot ? " quiet" : "",
		      /* initcall_debug's lines would push the boot's first ones out. */
		      u->profile_boot ? " initcall_debug log_buf_len=4M" : "");
	if (r >= 0 && u->defer_cpus)
		r = park_defer_append_params(u->defer_cpus, own, sizeof(own));
	if (r >= 0)
		r = append_unit_params(u, own, sizeof(own));
	if (r >= 0)
		r = append_pid_params(u, own, sizeof(own));
	if (r >= 0)
		r = append_keep_params(u, current, own, sizeof(own));
	if (r >= 0)
		r = append_park_params(current, own, sizeof(own));
	if (r >= 0)
		r = append_memmap_params(u, current, own, sizeof(own));
	if (r >= 0)
		r = cmdline_compose(current, u->append, own, u->cmdline,
				    sizeof(u->cmdline));
	if (r < 0) {
		log_error_errno(r, "Cannot compose the new kernel's command line: %m");
		goto cleanup;
	}
	r = cmdline_find_pmem(u->cmdline, &next);
	if (r < 0 || next.size != cur.size || next.start != cur.start) {
		r = log_error_errno(-EINVAL, "The new command line would move the preserved memory (memmap=%lluM!%lluM now); the images would be lost",
				    cur.size >> 20, cur.start >> 20);
		goto cleanup;
	}
	r = strscpy(u->h->old_kernel.cmdline, current, NVWA_CMDLINE_MAX);
	if (r >= 0)
		r = strscpy(u->h->new_kernel.cmdline, u->cmdline, NVWA_CMDLINE_MAX);
	if (r < 0)
		goto cleanup;
	log_info("  command line: %s", u->cmdline);
	r = 0;
cleanup:
	free(current);
	return r;
}

/* RssAnon of /proc/PID/status in bytes; 0 if it cannot be read. */
static unsigned long long rss_anon(pid_t pid)
{
	char path[64], line[128];
	unsigned long long kb = 0;
	FILE *f;

	xsnprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb << 10;
}

/* Adds @pid and, through /proc/PID/task/TID/children, its descendants. */
static int collect_tree(pid_t pid, struct app *a)
{
	return proc_tree(pid, a->tree, MAX_TREE, &a->ntree);
}

static bool in_tree(const struct app *a, pid_t pid)
{
	for (size_t t = 0; t < a->ntree; t++)
		if (a->tree[t] == pid)
			return true;
	return false;
}

/* The name is the application's to choose: keep it printable. */
static void sanitise(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

/*
 * Images in the store that no pending record names belong to an update
 * that was never restored (its record lived in pinmem, which this boot
 * has not loaded, or nvwa died mid-update): they may be the only copy of
 * an application's state, so they go only when the operator says so.
 * The new generation is numbered past them either way.
 */
static int check_unrestored(struct update *u)
{
	char list[256] = "", dir[PATH_MAX + 32];
	uint64_t gens[16];
	size_t n, len = 0;
	int r;

	r = store_unrestored_generations(u->store, gens, ARRAY_SIZE(gens), &n);
	if (r < 0)
		return log_error_errno(r, "Failed to read the store %s: %m", u->store);
	u->h->generation = state_next_generation(u->store);
	log_info("  generation %" PRIu64, u->h->generation);
	if (!n)
		return 0;
	for (size_t i = 0; i < n && i < ARRAY_SIZE(gens); i++)
		len += (size_t)snprintf(list + len, len < sizeof(list) ? sizeof(list) - len : 0,
					"%s%" PRIu64, i ? ", " : "", gens[i]);
	if (!u->discard_unrestored)
		return log_error_errno(-EEXIST, "The store %s holds the images of %zu update(s) that were never restored (generation %s) and no record that names them. Nothing was frozen. To restore them, load what held their record (the pinmem module: `nvwa pinmem load`) and run `nvwa restore --retry`; to delete them, run this update again with --discard-unrestored.",
				       u->store, n, list);
	for (size_t i = 0; i < n && i < ARRAY_SIZE(gens); i++) {
		xsnprintf(dir, sizeof(dir), "%s/gen-%" PRIu64, u->store, gens[i]);
		log_warn("Deleting %s, the images of update %" PRIu64 " that was never restored (--discard-unrestored)",
			 dir, gens[i]);
		if (rm_rf(dir) < 0)
			return log_error_errno(-EIO, "Failed to delete %s", dir);
	}
	return n > ARRAY_SIZE(gens) ? check_unrestored(u) : 0;
}

/*
 * Established connections are kept (CRIU's TCP repair: the peer sees a
 * pause, not a reset); a connection still being set up cannot be, and
 * is refused here, before anything is frozen.
 */
static int check_tcp(struct app *a)
{
	int r = tcp_scan(a->tree, a->ntree, &a->tcp);

	if (r < 0)
		return log_error_errno(r, "Application %d (%s): cannot read its TCP sockets: %m",
				       a->pid, a->comm);
	if (a->tcp.refuse[0])
		return log_error_errno(-EBUSY, "Application %d (%s): %s. Nothing was frozen.",
				       a->pid, a->comm, a->tcp.refuse);
	if (a->tcp.connected)
		log_info("  app %d: %u TCP connection(s) kept (TCP repair)%s%s", a->pid,
			 a->tcp.connected, a->tcp.addresses[0] ? ", on " : "",
			 a->tcp.addresses);
	return 0;
}

static const struct criu_extra *app_extra(const struct app *a, struct criu_extra *x)
{
	x->stdio = a->stdio;
	x->tcp_established = a->tcp.connected > 0;
	return x;
}

static int check_apps(struct update *u)
{
	unsigned long long need = 16ull << 20;
	char path[64], record[PATH_MAX];
	struct statvfs sv;
	int r;

	for (size_t i = 0; i < u->napps; i++) {
		struct app *a = &u->apps[i];
		unsigned long long pages = 0, resident = 0;
		FILE *f;

		if (a->pid == 1 || a->pid == getpid())
			return log_error_errno(-EINVAL, "PID %d cannot be checkpointed by nvwa itself", a->pid);
		for (size_t j = 0; j < i; j++)
			if (u->apps[j].pid == a->pid)
				return log_error_errno(-EINVAL, "PID %d is given twice", a->pid);
		xsnprintf(path, sizeof(path), "/proc/%d/comm", a->pid);
		r = read_one_line(path, a->comm, sizeof(a->comm));
		if (r < 0)
			return log_error_errno(r, "Application %d: %m (has it exited?)", a->pid);
		sanitise(a->comm);
		if (a->unit[0]) {
			char why[1024], dropin[1024];

			r = unit_check_sandbox(a->unit, a->pid, why, sizeof(why), dropin, sizeof(dropin));
			if (r < 0 && dropin[0])
				return log_error_errno(r, "%s. Nothing was frozen. To keep it, turn those settings off with a drop-in (`nvwa unit dropin %s > /etc/systemd/system/%s.d/nvwa.conf`, after mkdir), then `systemctl daemon-reload` and `systemctl restart %s`; the drop-in:\n%s",
						       why, a->unit, a->unit, a->unit, dropin);
			if (r < 0)
				return log_error_errno(r, "%s. Nothing was frozen.", why);
			r = unit_stdio_sockets(a->pid, a->stdio, sizeof(a->stdio));
			if (r < 0)
				return log_error_errno(r, "Application %d (%s): cannot read its stdio: %m", a->pid, a->comm);
		}
		a->ntree = 0;
		r = collect_tree(a->pid, a);
		if (r < 0)
			return log_error_errno(r, "Application %d (%s): cannot list its processes: %m",
					       a->pid, a->comm);
		r = check_tcp(a);
		if (r < 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (in_tree(&u->apps[j], a->pid) || in_tree(a, u->apps[j].pid))
				return log_error_errno(-EINVAL, "PIDs %d and %d are in one process tree: give only its root, CRIU dumps the whole tree",
						       u->apps[j].pid, a->pid);
		xsnprintf(path, sizeof(path), "/proc/%d/statm", a->pid);
		f = fopen(path, "re");
		if (!f || fscanf(f, "%llu %llu", &pages, &resident) != 2) {
			if (f)
				fclose(f);
			return log_error_errno(-ESRCH, "Application %d (%s): cannot read its memory size", a->pid, a->comm);
		}
		fclose(f);
		a->rss = resident * (unsigned long long)sysconf(_SC_PAGESIZE);
		/*
		 * Kept in place, the anonymous memory needs no room in the
		 * store; what is shared after fork is still copied, so a
		 * little of it is counted.
		 */
		if (memory_kept(u, a)) {
			unsigned long long anon = rss_anon(a->pid);

			need += a->rss - (anon < a->rss ? anon : a->rss) + anon / 64 + (1 << 20);
		} else {
			need += a->rss + a->rss / 16;
		}
		log_info("  app %d (%s): %llu MiB resident", a->pid, a->comm, a->rss >> 20);
	}

	r = store_mount(u->store_dev, u->store, sizeof(u->store));
	if (r < 0)
		return r;
	if (record_find(u->store, record, sizeof(record)) < 0)
		return log_error_errno(-ENAMETOOLONG, "The store's mount point %s is too long", u->store);
	if (access(record, F_OK) == 0)
		return log_error_errno(-EEXIST, "An update that was not restored is pending (%s). Restore it with `nvwa restore --retry`, or erase it with `nvwa store format --yes` (and `rm %s`).",
				       record, record);
	/* Without a record, a refusal note or images are debris of a crash. */
	if (store_path(u->store, STORE_REFUSED, record, sizeof(record)) == 0)
		unlink(record);
	r = check_unrestored(u);
	if (r < 0)
		return r;
	/* Decided now, so the downtime window does not probe for pinmem. */
	if (record_path(u->store, u->record, sizeof(u->record)) < 0)
		return -ENAMETOOLONG;
	log_debug("Handover record: %s", u->record);
	if (statvfs(u->store, &sv) < 0)
		return log_error_errno(-errno, "statvfs %s: %m", u->store);
	if ((unsigned long long)sv.f_bavail * sv.f_frsize < need)
		return log_error_errno(-ENOSPC, "The store %s has %llu MiB free; the applications need about %llu MiB. Reserve more memory with memmap=.",
				       u->store_dev,
				       (unsigned long long)sv.f_bavail * sv.f_frsize >> 20,
				       need >> 20);
	log_info("  store: %s on %s, %llu MiB free, about %llu MiB needed",
		 u->store_dev, u->store,
		 (unsigned long long)sv.f_bavail * sv.f_frsize >> 20, need >> 20);

	if (u->napps) {
		char why[CRIU_WHY_MAX];

		r = criu_check(why, sizeof(why));
		if (r < 0)
			return log_error_errno(r, "CRIU cannot checkpoint on this kernel: %s", why);
	}
	return 0;
}

/* The first of the applications' processes that maps pinmem, or 0. */
static pid_t pinmem_user(const struct update *u, const struct app **ret_app)
{
	char path[64], line[PATH_MAX + 128];

	for (size_t i = 0; i < u->napps; i++)
		for (size_t t = 0; t < u->apps[i].ntree; t++) {
			pid_t pid = u->apps[i].tree[t];
			bool maps = false;
			FILE *f;

			xsnprintf(path, sizeof(path), "/proc/%d/maps", pid);
			f = fopen(path, "re");
			if (!f)
				continue;
			while (!maps && fgets(line, sizeof(line), f))
				maps = strstr(line, " /dev/pinmem\n") ||
				       strstr(line, " " PINMEM_MOUNT "/");
			fclose(f);
			if (maps) {
				*ret_app = &u->apps[i];
				return pid;
			}
		}
	return 0;
}

/*
 * Whether kernel @rel has a pinmem module that reads the running module's
 * region format; if not, why not, in @why.  A module that does not say its
 * format (older than the pinmem_format field) reads format 1.
 */
static int target_pinmem(const char *rel, char *why, size_t whylen)
{
	const char *argv[] = { "modinfo", "-k", rel, "pinmem", NULL };
	struct pinmem_status st = { 0 };
	char out[4096], *line, *save, *file = NULL;
	unsigned long format = 1;
	int fd, r;

	fd = pinmem_dev_open();
	if (fd < 0)
		return set_why(why, whylen, fd, "the running pinmem module does not answer: %s",
			       strerror(-fd));
	r = pinmem_dev_status(fd, &st);
	close(fd);
	if (r < 0)
		return set_why(why, whylen, r, "the running pinmem module does not say its format: %s",
			       strerror(-r));
	r = run_capture(argv, out, sizeof(out));
	if (r < 0)
		return set_why(why, whylen, r, "modinfo could not run: %s", strerror(-r));
	if (r > 0)
		return set_why(why, whylen, -ENOENT, "%s has no pinmem module (modinfo -k %s pinmem: %s)",
			       rel, rel, strstrip(strtok_r(out, "\n", &save) ?: out));
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (startswith(line, "filename:"))
			file = strstrip(line + strlen("filename:"));
		else if (startswith(line, "pinmem_format:"))
			format = strtoul(line + strlen("pinmem_format:"), NULL, 10);
	}
	if (format != st.version)
		return set_why(why, whylen, -EPROTO, "%s's pinmem module (%s) reads region format %lu, the running one's region is format %u",
			       rel, file ?: "pinmem", format, st.version);
	log_info("  pinmem: %s has a module for region format %u (%s)", rel, st.version,
		 file ?: "pinmem");
	return 0;
}

/*
 * The new kernel must read what pinmem hands it: the handover record,
 * when it goes to pinmem, and the applications' pinmem areas.  Without a
 * module that can, an application with areas cannot be kept, and the
 * record goes to the store instead.
 */
static int check_target_pinmem(struct update *u)
{
	const char *rel = u->plan.boot.info.release;
	const struct app *a = NULL;
	char why[512];
	pid_t user;
	int r;

	if (!startswith(u->record, PINMEM_MOUNT "/"))
		return 0;
	if (!rel[0]) {
		log_warn("The release of %s is unknown: not checked that it can load pinmem", u->image);
		return 0;
	}
	r = target_pinmem(rel, why, sizeof(why));
	if (!r)
		return 0;
	user = pinmem_user(u, &a);
	if (user)
		return log_error_errno(r, "Application %d (%s): process %d keeps memory in pinmem, but the new kernel cannot take it over: %s. Nothing was frozen. Install pinmem for %s (the nvwa-pinmem-dkms package builds it for every kernel whose headers are installed: apt-get install linux-headers-%s), then update again.",
				       a->pid, a->comm, user, why, rel, rel);
	if (store_path(u->store, STORE_RECORD, u->record, sizeof(u->record)) < 0)
		return -ENAMETOOLONG;
	log_warn("The new kernel cannot read pinmem (%s): the handover record goes to the store, %s. For pinmem in %s, install the nvwa-pinmem-dkms package and linux-headers-%s.",
		 why, u->record, rel, rel);
	return 0;
}

/*
 * A failed step's images are removed by the roll-back: CRIU's log, the
 * one thing that says why, is copied out first (the store and /run are
 * different filesystems: rename() cannot move it).
 */
static const char *keep_criu_log(const char *dir, const char *log, pid_t pid,
				 char *kept, size_t size)
{
	char from[PATH_MAX + 32];
	int r;

	xsnprintf(from, sizeof(from), "%s/%s", dir, log);
	if (xsnprintf(kept, size, "%s/%d-%s", NVWA_RUN_DIR, pid, log) < 0)
		r = -ENAMETOOLONG;
	else
		r = copy_file(from, kept, CRIU_LOG_MAX);
	if (r < 0)
		xsnprintf(kept, size, "%s, not kept: %s", from, strerror(-r));
	return kept;
}

static int pre_dump(struct update *u)
{
	char dir[PATH_MAX + 8], why[CRIU_WHY_MAX], kept[PATH_MAX];
	int r;

	for (size_t i = 0; i < u->napps; i++) {
		struct app *a = &u->apps[i];

		xsnprintf(a->dir, sizeof(a->dir), "%s/%d", u->gendir, a->pid);
		if (memory_kept(u, a)) {
			/* Its memory stays where it is: nothing to copy ahead. */
			r = mkdir_p(a->dir, 0700);
			if (r < 0)
				return log_error_errno(r, "Failed to create %s: %m", a->dir);
			log_info("  %d (%s), %llu MiB: no pre-dump, its memory is kept in place",
				 a->pid, a->comm, a->rss >> 20);
			/* Read here, while it runs: smaps is slow, the freeze is not for it. */
			if (keep_shared_pages(a->tree, a->ntree, &a->shared_pages) < 0)
				log_warn("Could not read how much shared anonymous memory %d (%s) maps",
					 a->pid, a->comm);
			continue;
		}
		xsnprintf(dir, sizeof(dir), "%s/pre", a->dir);
		r = mkdir_p(dir, 0700);
		if (r < 0)
			return log_error_errno(r, "Failed to create %s: %m", dir);
		log_info("  pre-dump %d (%s), %llu MiB", a->pid, a->comm, a->rss >> 20);
		r = criu_pre_dump(a->pid, dir, why, sizeof(why));
		if (r == 0 && FAULT("pre-dump"))
			r = set_why(why, sizeof(why), -EIO, "fault injected after the pre-dump");
		if (r < 0)
			return log_error_errno(r, "Pre-dump of %d (%s) failed: %s (log: %s)",
					       a->pid, a->comm, why,
					       keep_criu_log(dir, "pre-dump.log", a->pid,
							     kept, sizeof(kept)));
	}
	return 0;
}

/*
 * The kept path: the application's tree stops (SIGSTOP, every thread),
 * then each process's private anonymous pages leave its page tables for
 * the hand-over list.  CRIU dumps it stopped, so the restore brings it
 * back stopped, and resumes it once its pages are in place.
 */
static int take_memory(struct update *u, struct app *a, size_t i)
{
	struct nvwa_app *ra = &u->h->apps[i];
	struct nvwa_keep_take t;
	uint64_t start = tsc_read();
	size_t taken = 0;
	int r;

	r = keep_stop_tree(a->tree, a->ntree, 10000);
	if (r < 0)
		return log_error_errno(r, "Could not stop %d (%s) to take its memory: %m", a->pid,
				       a->comm);
	for (size_t k = 0; k < a->ntree; k++) {
		r = keep_take(u->keep_fd, a->tree[k], &t);
		if (r == -ESRCH)
			continue;	/* exited before it stopped */
		if (r < 0)
			return log_error_errno(r, "Could not take the memory of %d (%s): %m",
					       a->tree[k], a->comm);
		a->keep.pages += t.pages;
		a->keep.left += t.left;
		a->keep.moved += t.moved;
		a->keep.huge += t.huge;
		taken++;
	}
	ra->kept_pages = a->keep.pages;
	ra->left_pages = a->keep.left;
	ra->shared_pages = a->shared_pages;
	ra->moved_pages = a->keep.moved;
	log_info("  %d (%s): %llu MiB kept in place (%llu MiB of it in huge pages), from %zu process%s, %llu pages copied first (out of the new kernel's way, or unshared), in %.0f ms",
		 a->pid, a->comm, a->keep.pages * 4096 >> 20, a->keep.huge * 4096 >> 20, taken,
		 taken == 1 ? "" : "es", a->keep.moved,
		 tsc_to_ms(tsc_read() - start, u->h->timeline.tsc_khz));
	log_info("  %d (%s): left to CRIU, which copies it: %llu KiB of private pages not one process's alone (shared after fork, KSM, swap cache, DMA-pinned) or read-only, %" PRIu64 " KiB of shared anonymous memory (MAP_SHARED, SysV, memfd)",
		 a->pid, a->comm, a->keep.left * 4, a->shared_pages * 4);
	return 0;
}

/*
 * The images of an application whose memory is kept hold none of it: a
 * restore from them alone (`nvwa restore-app -D`) would give it zeroed
 * memory, so they say so.
 */
static void mark_kept(const char *dir, const struct nvwa_handover *h, const struct app *a)
{
	char path[PATH_MAX + 16], text[256];

	xsnprintf(path, sizeof(path), "%s/%s", dir, DUMP_KEPT);
	xsnprintf(text, sizeof(text),
		  "update %" PRIu64 ": %llu pages of %d's memory kept in place, not in these images\n",
		  h->generation, (unsigned long long)a->keep.pages, a->pid);
	if (write_file_atomic(path, text, strlen(text)) < 0)
		log_warn("Could not write %s: `nvwa restore-app` would not know these images lack its memory",
			 path);
}

/*
 * Dumps every application: CRIU_LEAVE_STOPPED for the freeze (the tree
 * stays stopped, for the kexec or a roll-back), CRIU_LEAVE_RUNNING for
 * --dry-run's dump, the real one with everything the real one is given
 * while the applications run on: what it would refuse after the freeze
 * (a socket, a namespace, a file) is found then, and nothing is lost.
 */
static int dump_apps(struct update *u, enum criu_after after)
{
	bool dry = after == CRIU_LEAVE_RUNNING;
	struct criu_extra x;
	char dir[PATH_MAX + 8], why[CRIU_WHY_MAX], kept[PATH_MAX];
	uint64_t t;
	int r;

	for (size_t i = 0; i < u->napps; i++) {
		struct app *a = &u->apps[i];

		xsnprintf(dir, sizeof(dir), "%s/dump", a->dir);
		r = mkdir_p(dir, 0700);
		if (r < 0)
			return log_error_errno(r, "Failed to create %s: %m", dir);
		if (!dry) {
			/*
			 * From here the tree may be stopped, whatever CRIU does
			 * next: list it as it is now, children forked since the
			 * check too.
			 */
			a->ntree = 0;
			if (collect_tree(a->pid, a) < 0)
				log_warn("Could not list every process of %d; a roll-back may miss some", a->pid);
			a->stopped = true;
		}
		t = tsc_read();
		r = !dry && memory_kept(u, a) ? take_memory(u, a, i) : 0;
		if (r < 0)
			return r;
		r = criu_dump(a->pid, dir, memory_kept(u, a) ? NULL : "../pre", after,
			      app_extra(a, &x), why, sizeof(why));
		if (r < 0)
			return log_error_errno(r, "%s of %d (%s) failed%s: %s (log: %s)",
					       dry ? "Dry run: the dump" : "Dump", a->pid, a->comm,
					       dry ? ", so the update would fail after the freeze" : "",
					       why, keep_criu_log(dir, "dump.log", a->pid, kept, sizeof(kept)));
		if (!dry && memory_kept(u, a))
			mark_kept(dir, u->h, a);
		/* Pre-dump and dump: what the store holds for it. */
		if (du_bytes(a->dir, &u->h->apps[i].image_bytes) < 0)
			log_warn("Could not add up the size of %s", a->dir);
		log_info("  %s %d (%s) %s %.0f ms, %" PRIu64 " KiB of images%s", dry ? "dump of" : "dumped",
			 a->pid, a->comm, dry ? "worked:" : "in",
			 tsc_to_ms(tsc_read() - t, u->h->timeline.tsc_khz),
			 u->h->apps[i].image_bytes >> 10, dry ? ", the application ran on" : "");
	}
	return 0;
}

/*
 * The record's "loader": how the kernel was loaded and, once it is, what
 * the jump will copy (the nvwa kernel says; a stock kernel does not).
 */
static int describe_loader(struct update *u)
{
	const struct kexec_plan *p = &u->plan;
	char copy[64] = "";

	if (p->copy_pages >= 0)
		xsnprintf(copy, sizeof(copy), ", %ld pages copied at the jump", p->copy_pages);
	return xsnprintf(u->h->new_kernel.loader, sizeof(u->h->new_kernel.loader), "%s%s%s%s",
			 p->name, p->quick ? " in place (quick kexec)" : "", copy,
			 p->skip_checks ? ", purgatory checks skipped: sha256 verified by nvwa" : "");
}

static int fill_record(struct update *u)
{
	struct nvwa_handover *h = u->h;
	struct utsname uts;
	int bad = 0;

	uname(&uts);
	h->version = NVWA_HANDOVER_VERSION;
	handover_set_outcome(h, NVWA_OUTCOME_PENDING);
	bad |= strscpy(h->store, u->store_dev, sizeof(h->store)) < 0;
	bad |= strscpy(h->old_kernel.release, uts.release,
		       sizeof(h->old_kernel.release)) < 0;
	bad |= strscpy(h->new_kernel.release, u->plan.boot.info.release,
		       sizeof(h->new_kernel.release)) < 0;
	bad |= strscpy(h->new_kernel.image, u->image,
		       sizeof(h->new_kernel.image)) < 0;
	bad |= describe_loader(u) < 0;
	if (u->initrd)
		initrd_describe(&u->initrd_boot, h->new_kernel.initrd, sizeof(h->new_kernel.initrd));
	h->napps = (uint32_t)u->napps;
	for (size_t i = 0; i < u->napps; i++) {
		struct nvwa_app *a = &h->apps[i];

		a->pid = u->apps[i].pid;
		bad |= strscpy(a->comm, u->apps[i].comm, sizeof(a->comm)) < 0;
		bad |= xsnprintf(a->images, sizeof(a->images),
				 "gen-%" PRIu64 "/%d/dump", h->generation,
				 a->pid) < 0;
		bad |= strscpy(a->dump_mode, memory_kept(u, &u->apps[i]) ? "dump" : "pre-dump+dump",
			       sizeof(a->dump_mode)) < 0;
		bad |= strscpy(a->memory, memory_kept(u, &u->apps[i]) ? "kept" : "copied",
			       sizeof(a->memory)) < 0;
		bad |= strscpy(a->unit, u->apps[i].unit, sizeof(a->unit)) < 0;
		bad |= strscpy(a->stdio, u->apps[i].stdio, sizeof(a->stdio)) < 0;
		a->tcp = u->apps[i].tcp.connected;
		bad |= strscpy(a->addresses, u->apps[i].tcp.addresses, sizeof(a->addresses)) < 0;
		bad |= strscpy(a->endpoints, u->apps[i].tcp.endpoints, sizeof(a->endpoints)) < 0;
		bad |= strscpy(a->pids, u->pids ? u->pids : "", sizeof(a->pids)) < 0;
		handover_set_app_state(a, NVWA_APP_DUMPED);
	}
	if (bad)
		return log_error_errno(-ENAMETOOLONG, "A name is too long for the handover record");
	return 0;
}

static int parse_args(struct update *u, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "initrd-prepared", required_argument, NULL, 'I' },
		{ "append", required_argument, NULL, 'a' },
		{ "app", required_argument, NULL, 'p' },
		{ "unit", required_argument, NULL, 'u' },
		{ "store", required_argument, NULL, 's' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "discard-unrestored", no_argument, NULL, 'X' },
		{ "lazy-restore", no_argument, NULL, 'L' },
		{ "copy-memory", optional_argument, NULL, 'M' },
		{ "no-prepare", no_argument, NULL, 'P' },
		{ "file-load", no_argument, NULL, 'F' },
		{ "purgatory-checks", no_argument, NULL, 'C' },
		{ "quick-kexec", required_argument, NULL, 'K' },
		{ "memmap-bg", required_argument, NULL, 'G' },
		{ "park-cpus", required_argument, NULL, 'W' },
		{ "quiet-boot", no_argument, NULL, 'Q' },
		{ "defer-cpus", optional_argument, NULL, 'D' },
		{ "profile-boot", no_argument, NULL, 'B' },
		{ "probes", required_argument, NULL, 'R' },
		{ "no-quiesce", no_argument, NULL, 'Z' },
		{}
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "k:i:a:p:u:n", opts, NULL)) != -1) {
		switch (c) {
		case 'k': u->image = optarg; break;
		case 'i': u->initrd = optarg; break;
		case 'I':
			if (initrd_mode_parse(optarg, &u->initrd_mode) < 0)
				return log_error_errno(-EINVAL, "--initrd-prepared takes auto, yes or no, not '%s'", optarg);
			break;
		case 'a': u->append = optarg; break;
		case 's': u->store_dev = optarg; break;
		case 'n': u->dry_run = true; break;
		case 'X': u->discard_unrestored = true; break;
		case 'L': u->lazy_restore = true; break;
		case 'M':
			if (!optarg) {
				u->copy_memory = true;
				break;
			}
			if (u->ncopy == NVWA_MAX_APPS || parse_pid(optarg, &u->copy_pids[u->ncopy]) < 0)
				return log_error_errno(-EINVAL, "--copy-memory= takes the PID of an --app, not '%s'", optarg);
			u->ncopy++;
			break;
		case 'P': u->no_prepare = true; break;
		case 'F': u->file_load = true; break;
		case 'C': u->purgatory_checks = true; break;
		case 'K':
			if (strcmp(optarg, "auto") && strcmp(optarg, "no"))
				return log_error_errno(-EINVAL, "--quick-kexec takes auto or no, not '%s'", optarg);
			u->no_quick = !strcmp(optarg, "no");
			break;
		case 'G':
			if (strcmp(optarg, "auto") && strcmp(optarg, "low") && strcmp(optarg, "no"))
				return log_error_errno(-EINVAL, "--memmap-bg takes auto, low or no, not '%s'", optarg);
			u->no_memmap_bg = !strcmp(optarg, "no");
			u->memmap_bg_low = !strcmp(optarg, "low");
			break;
		case 'W':
			if (strcmp(optarg, "auto") && strcmp(optarg, "no"))
				return log_error_errno(-EINVAL, "--park-cpus takes auto or no, not '%s'", optarg);
			u->no_park = !strcmp(optarg, "no");
			break;
		case 'Q': u->quiet_boot = true; break;
		case 'B': u->profile_boot = true; break;
		case 'Z': u->no_quiesce = true; break;
		case 'R':
			if (!strcmp(optarg, "auto"))
				u->probes = PROBE_AUTO;
			else if (!strcmp(optarg, "kprobe"))
				u->probes = PROBE_KPROBE;
			else if (!strcmp(optarg, "off"))
				u->probes = PROBE_OFF;
			else
				return log_error_errno(-EINVAL, "--probes takes auto, kprobe or off, not '%s'", optarg);
			break;
		case 'D':
			u->defer_cpus = optarg ? strtol(optarg, NULL, 10) : 1;
			if (u->defer_cpus < 1 || u->defer_cpus > PARK_DEFER_MAX_CPUS)
				return log_error_errno(-EINVAL, "--defer-cpus takes how many CPUs to boot with (1 or more)");
			break;
		case 'u':
			if (u->trace)
				return log_error_errno(-EINVAL, "nvwa trace reboot keeps no applications; use nvwa update --unit");
			if (u->nunits == NVWA_MAX_APPS)
				return log_error_errno(-E2BIG, "At most %d applications per update", NVWA_MAX_APPS);
			u->units[u->nunits++] = optarg;
			break;
		case 'p':
			if (u->trace)
				return log_error_errno(-EINVAL, "nvwa trace reboot keeps no applications; use nvwa update --app");
			if (u->napps == NVWA_MAX_APPS)
				return log_error_errno(-E2BIG, "At most %d applications per update", NVWA_MAX_APPS);
			if (parse_pid(optarg, &u->apps[u->napps].pid) < 0)
				return log_error_errno(-EINVAL, "--app takes a PID, not '%s'", optarg);
			u->napps++;
			break;
		default:
			usage_update(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc)
		return log_error_errno(-EINVAL, "Unexpected argument '%s'", argv[optind]);
	if (!u->image)
		return log_error_errno(-EINVAL, "--kernel IMAGE is required; see `nvwa update --help`");
	for (size_t k = 0; k < u->ncopy; k++) {
		size_t i;

		for (i = 0; i < u->napps && u->apps[i].pid != u->copy_pids[k]; i++)
			;
		if (i == u->napps)
			return log_error_errno(-EINVAL, "--copy-memory=%d: %d is not an --app of this update",
					       u->copy_pids[k], u->copy_pids[k]);
		u->apps[i].copy_memory = true;
	}
	u->store_dev = store_device(u->store_dev);
	return 0;
}

/*
 * Ctrl-C, a hang-up or a TERM is held until the next step boundary, where
 * the update stops and undoes itself: dying half-way would leave frozen
 * applications and a loaded kernel behind.
 */
static int interrupted(void)
{
	sigset_t pending;

	sigpending(&pending);
	if (sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM) ||
	    sigismember(&pending, SIGHUP) || sigismember(&pending, SIGQUIT))
		return log_error_errno(-EINTR, "Interrupted");
	return 0;
}

/* Timing the shutdown is worth having, never worth failing an update. */
static void start_probes(struct update *u)
{
	char *how = u->h->probes;
	uint64_t t = tsc_read();

	if (shutdown_probes_start(u->probes, &u->shutdown, how, NVWA_LOADER_MAX) < 0) {
		log_info("  shutdown probes %s", how);
		return;
	}
	phase(u, NVWA_PHASE_PROBES, t);
	log_info("  shutdown probes: %s, writing to pinmem area %s", how, SHUTDOWN_AREA);
}

/*
 * Arms parking for the image just loaded (a new image starts unarmed), if
 * the new kernel reserves the park region too: a kernel that does not know
 * the region may put its data there before it INITs the CPUs, and an NMI,
 * a machine check or an SMI resuming a parked CPU in between would run it.
 * @before, the region's state read before the load (NULL: none), numbers
 * the load, so that an image another tool loaded in between is never
 * armed (ESTALE: then the image loaded is not nvwa's, and the update
 * fails).  Then says whether the CPUs park, from the kernel's own state.
 * Any other failed arm costs the update only the parking: logged.
 */
static int arm_park(struct update *u, const struct park_state *before)
{
	struct park_state st;
	int r;

	if (park_state_read(PARK_STATE_FILE, &st) < 0)
		return 0;
	if (u->no_park) {
		log_info("  CPUs: parking not armed (%s, --park-cpus=no): halted at the jump, the new kernel INIT/SIPIs them",
			 st.state);
		return 0;
	}
	if (!next_reserves_park(u)) {
		log_info("  CPUs: parking not armed (%s): halted at the jump, the new kernel INIT/SIPIs them: %s does not reserve the park region",
			 st.state, u->plan.image.info.release[0] ? u->plan.image.info.release :
			 "the new kernel");
		return 0;
	}
	if (!strcmp(st.state, "unarmed")) {
		/* A kernel that numbers loads, but nvwa's load got none of its own. */
		if (before && before->has_seq && !u->load_numbered) {
			log_warn("  CPUs: parking not armed: nvwa's load has no number of its own (a load attempt the kernel refused took one); they halt at the jump and the new kernel starts them with INIT/SIPI");
			return 0;
		}
		r = before ? park_arm(PARK_STATE_FILE, before) : -ENODATA;
		if (r == -ESTALE) {
			/* Loaded since own_load(): the image is not nvwa's. */
			u->kexec_loaded = false;
			return log_error_errno(r, "Another kexec image was loaded after nvwa's, or another load attempted (nvwa's was load %" PRIu64 "): nvwa boots no image it cannot tell is its own; what is loaded stays loaded (`kexec -u` unloads it)",
					       u->load_seq);
		}
		if (r < 0)
			log_warn_errno(r, "  CPUs: could not arm parking in %s: %m; they halt at the jump and the new kernel starts them with INIT/SIPI",
				       PARK_STATE_FILE);
		if (r < 0 || park_state_read(PARK_STATE_FILE, &st) < 0)
			return 0;
	}
	if (!strcmp(st.state, "park"))
		log_info("  CPUs: parking armed; the loaded image leaves the park region at %#" PRIx64 " alone",
			 st.addr);
	else
		log_warn("  CPUs: will not park (%s): the loaded image or the region's state forbids it; they halt at the jump and the new kernel starts them with INIT/SIPI",
			 st.state);
	return 0;
}

/*
 * Another tool loading an image at the worst moment (the test build's
 * NVWA_FAULT=foreign-load, foreign-load-early): kexec-tools loads the new
 * kernel again, with a command line nvwa did not write.
 */
static void load_foreign(const struct update *u)
{
	const char *argv[] = { "kexec", "-l", u->image, "--append=nvwa.test_foreign_load", NULL };

	if (run(argv, NVWA_RUN_DIR "/kexec-foreign.log") != 0)
		log_warn("The foreign load failed; see %s", NVWA_RUN_DIR "/kexec-foreign.log");
}

/*
 * Where the kernel numbers loads (/sys/kernel/nvwa/park's SEQ: the nvwa
 * kernel with a park region), remembers nvwa's, if it is nvwa's: the one
 * after the number read before the load (@before).  An image another tool
 * loaded in between is neither booted nor, by a roll-back, unloaded.  A
 * load that fell back to the usual way after the kernel refused the one in
 * place (two kexec runs) may have had a number taken by the refused
 * attempt: no number then, and nothing vouches for the image but
 * kexec-tools' success.
 */
static int own_load(struct update *u, const struct park_state *before, bool fell_back)
{
	struct park_state st;

	u->load_numbered = false;
	if (!before || !before->has_seq || fell_back ||
	    park_state_read(PARK_STATE_FILE, &st) < 0 || !st.has_seq)
		return 0;
	if (st.seq != before->seq + 1) {
		u->kexec_loaded = false;
		return log_error_errno(-ESTALE, "Another kexec image was loaded while nvwa loaded its own, or another load attempted (load %" PRIu64 ", nvwa's was %" PRIu64 "): nvwa boots no image it cannot tell is its own; what is loaded stays loaded (`kexec -u` unloads it)",
				       st.seq, before->seq + 1);
	}
	u->load_numbered = true;
	u->load_seq = st.seq;
	return 0;
}

/*
 * The last check before the record is written: the image loaded is still
 * nvwa's (its number, where loads are numbered; else that one is loaded
 * at all).  A load between this check and the reboot call is not seen.
 */
static int check_still_loaded(struct update *u)
{
	struct park_state st;

	if (FAULT("foreign-load"))
		load_foreign(u);
	if (!kexec_is_loaded()) {
		u->kexec_loaded = false;
		return log_error_errno(-ENOENT, "The new kernel is no longer loaded (`kexec -u` by another tool?)");
	}
	if (!u->load_numbered)
		return 0;
	if (park_state_read(PARK_STATE_FILE, &st) < 0 || !st.has_seq) {
		u->kexec_loaded = false;
		return log_error_errno(-ESTALE, "Cannot tell whether the loaded image is still nvwa's: %s is gone",
				       PARK_STATE_FILE);
	}
	if (st.seq != u->load_seq) {
		u->kexec_loaded = false;
		return log_error_errno(-ESTALE, "Another kexec image was loaded after nvwa's, or another load attempted (load %" PRIu64 ", nvwa's was %" PRIu64 "): nvwa boots no image it cannot tell is its own; what is loaded stays loaded (`kexec -u` unloads it)",
				       st.seq, u->load_seq);
	}
	return 0;
}

/* What the load did, in the output and the record. */
static int report_load(struct update *u, const struct park_state *park_before, bool fell_back)
{
	const struct kexec_plan *p = &u->plan;
	int r;

	r = own_load(u, park_before, fell_back);
	if (r < 0)
		return r;
	if (p->copy_pages >= 0)
		log_info("  kexec: %s; the jump will copy %ld pages (%.1f MiB)",
			 p->quick ? "loaded in place" : "loaded", p->copy_pages,
			 (double)p->copy_pages * 4096 / (1 << 20));
	if (p->covered)
		log_info("  kexec: the %" PRIu64 " KiB of holes between the vmlinux's segments loaded as zeros: the new kernel takes them as its image, so nothing kept in place may lie there",
			 p->covered >> 10);
	if (describe_loader(u) < 0)
		log_warn("  the loader's description is too long for the record");
	return arm_park(u, park_before);
}

/*
 * Loads the new kernel.  On the kept path the list's head, allocated
 * before anything was loaded, must not lie where the kernel lands: if it
 * does, a new head is taken (the image now loaded, it is out of its way)
 * and the kernel is loaded again with it.
 */
static int load_kernel(struct update *u)
{
	int r;

	for (int tries = 0;; tries++) {
		/* Numbers this load, to arm parking for its image only. */
		struct park_state park;
		bool have_park = park_state_read(PARK_STATE_FILE, &park) == 0;

		r = kexec_load_image(&u->plan, u->initrd ? u->initrd_boot.path : NULL, u->cmdline,
				     NVWA_RUN_DIR "/kexec.log");
		if (!r) {
			u->kexec_loaded = true;
			if (FAULT("foreign-load-early"))
				load_foreign(u);
			r = report_load(u, have_park ? &park : NULL, u->plan.load_runs > 1);
		}
		if (r < 0 || u->keep_fd < 0)
			return r;
		r = keep_check(u->keep_fd);
		if (r != -EADDRINUSE || tries == 2)
			break;
		log_info("  the kept pages' list head at %#" PRIx64 " lies where the new kernel lands; moving it",
			 u->keep_head);
		r = keep_abort(u->keep_fd);
		if (!r)
			r = keep_begin(u->keep_fd, &u->keep_head);
		if (!r)
			r = check_cmdline(u);
		if (r < 0)
			break;
	}
	if (r < 0)
		return log_error_errno(r, "Cannot place the kept pages' list out of the new kernel's way: %m; `--copy-memory` copies instead");
	return 0;
}

/*
 * Stages the update while the applications run: checks, loads the new
 * kernel and pre-dumps.  ("prepare" is the kernel image's own step, in
 * fastboot/prepare.c and `nvwa prepare`; this step includes it.)
 */
static int stage(struct update *u)
{
	struct nvwa_timeline *tl = &u->h->timeline;
	uint64_t t, t_all = tsc_read();
	int r;

	log_info("[1/4] Checking");
	t = tsc_read();
	r = check_image(u);
	if (!r)
		r = resolve_units(u);
	if (!r)
		r = choose_memory(u);
	if (!r)
		r = check_cmdline(u);
	if (!r)
		r = check_apps(u);
	if (!r)
		r = check_target_pinmem(u);
	if (!r)
		r = fill_record(u);
	if (r < 0)
		return r;
	phase(u, NVWA_PHASE_CHECK, t);

	t = tsc_read();
	r = mkdir_p(NVWA_RUN_DIR, 0700);
	if (!r && FAULT("kexec-load"))
		r = log_error_errno(-EIO, "kexec -l failed (fault injected)");
	if (!r)
		r = load_kernel(u);
	if (r < 0)
		return r;
	u->kexec_loaded = true;
	phase(u, NVWA_PHASE_KEXEC_LOAD, t);
	start_probes(u);

	r = interrupted();
	if (r < 0)
		return r;
	log_info("[2/4] Pre-dumping %zu application(s) while they run", u->napps);
	xsnprintf(u->gendir, sizeof(u->gendir), "%s/gen-%" PRIu64, u->store,
		  u->h->generation);
	t = tsc_read();
	r = pre_dump(u);
	if (r < 0)
		return r;
	/* Whatever is dirty now is flushed outside the downtime. */
	sync();
	phase(u, NVWA_PHASE_PRE_DUMP, t);
	timeline_add(tl, NVWA_PHASE_STAGE, NVWA_DOMAIN_OLD, t_all, tsc_read());
	return interrupted();
}

/* The hand-over list, written last: nothing may change the pages after. */
static int seal_memory(struct update *u)
{
	struct nvwa_keep_seal s;
	uint64_t t = tsc_read();
	int r;

	r = keep_seal(u->keep_fd, &s);
	if (r == -EXDEV)
		return log_error_errno(r, "Some kept pages lie in memory a driver added after boot (virtio-mem, dax kmem), which the new kernel does not boot with (see the kernel log); `nvwa update --copy-memory` copies them instead");
	if (r == -E2BIG)
		return log_error_errno(r, "The kept pages are too scattered for the new kernel to reserve them at boot, or would leave it too little memory (see the kernel log); `nvwa update --copy-memory` copies them instead");
	if (r < 0)
		return log_error_errno(r, "Could not seal the list of kept pages: %m");
	log_info("  kept: %llu frames in %llu runs, %llu extents reserved at boot, %llu list pages, %llu moved at seal, in %.0f ms",
		 (unsigned long long)s.frames, (unsigned long long)s.runs,
		 (unsigned long long)s.extents, (unsigned long long)s.list_pages,
		 (unsigned long long)s.moved, tsc_to_ms(tsc_read() - t, u->h->timeline.tsc_khz));
	phase(u, NVWA_PHASE_KEEP_SEAL, t);
	return 0;
}

#ifdef NVWA_FAULTS
/*
 * The test build: the sealed list spoilt as the next kernel will read it
 * (NVWA_FAULT=keep-head-magic, keep-head-crc or keep-list-crc), so that
 * its own checks at boot are what refuse it.
 */
static int damage_list(void)
{
	static const char *const ways[] = { "head-magic", "head-crc", "list-crc" };
	char name[32];
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(ways); i++) {
		xsnprintf(name, sizeof(name), "keep-%s", ways[i]);
		if (!FAULT(name))
			continue;
		r = keep_damage(ways[i]);
		if (r < 0)
			return log_error_errno(r, "Could not damage the kept pages' list (%s): %m", ways[i]);
		log_warn("The kept pages' list is damaged (%s, fault injected): the new kernel must refuse it",
			 ways[i]);
	}
	return 0;
}
#else
static int damage_list(void)
{
	return 0;
}
#endif

/*
 * The reboot call failed after the record was written: the applications
 * will be resumed, so the record must go, or the next boot would restore
 * stale copies of them next to the live ones.  The store was remounted
 * read-only for the jump; if it cannot be made writable again, the
 * record stays and the operator is told exactly what to remove.
 */
static int withdraw_record(struct update *u, int cause)
{
	int r = store_remount(u->store, false);

	if (r < 0)
		log_error_errno(r, "Could not remount the store %s read-write: %m", u->store);
	if (unlink(u->record) < 0 && errno != ENOENT) {
		log_error_errno(-errno, "The handover record %s could not be removed (%m): remove it by hand (`mount -o remount,rw %s && rm %s`) before the next boot, or it will restore stale copies of the resumed applications",
				u->record, u->store, u->record);
		/* Keep the images: the record that names them is still there. */
		u->gendir[0] = '\0';
	}
	return cause;
}

/*
 * From the freeze to the reboot the applications are stopped and the new
 * kernel is loaded: if nvwa died there (SIGKILL, the OOM killer, a
 * crash), nothing would ever resume them.  A guard process outlives it:
 * forked before the freeze with a copy of what to undo, in a session of
 * its own, deaf to the terminal's signals, it waits on a pipe only nvwa
 * writes to.  nvwa's word ends it quietly; end-of-file without the word
 * means nvwa died, and the guard rolls back as nvwa would have.
 */
__attribute__((noreturn))
static void guard_run(struct update *u, int fd)
{
	ssize_t n;
	unsigned char c;

	setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	/* nvwa tells what it froze (quiesce_note()), then its word, 'x'. */
	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 1 && c == 'x')
			_exit(0);
		if (n != 1 || quiesce_note(&u->quiesce, c) < 0)
			break;
	}
	/* This copy predates the freeze: any application may be stopped now. */
	for (size_t i = 0; i < u->napps; i++)
		u->apps[i].stopped = true;
	withdraw_record(u, 0);
	roll_back(u);
	log_error("nvwa update died between the freeze and the reboot: its guard resumed the applications and undid the update");
	_exit(1);
}

static int guard_start(struct update *u)
{
	int pfd[2];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return log_error_errno(-errno, "Failed to create the guard's pipe: %m");
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return log_error_errno(-errno, "Failed to start the guard: %m");
	}
	if (pid == 0) {
		close(pfd[1]);
		guard_run(u, pfd[0]);
	}
	close(pfd[0]);
	u->guard_fd = pfd[1];
	return 0;
}

/* nvwa lives on to its end: the guard has nothing to do. */
static void guard_release(struct update *u)
{
	if (u->guard_fd < 0)
		return;
	if (write(u->guard_fd, "x", 1) != 1)
		log_warn_errno(-errno, "The guard did not get its release (%m); it may roll back what nvwa already did");
	close(u->guard_fd);
	u->guard_fd = -1;
	u->keep_fd = -1;
}

static int update(struct update *u)
{
	struct nvwa_timeline *tl = &u->h->timeline;
	uint64_t t;
	int r;

	tl->tsc_khz = tsc_calibrate_khz();
	if (geteuid() != 0)
		return log_error_errno(-EPERM, "nvwa update must run as root");
	r = stage(u);
	if (r < 0)
		return r;
	if (u->dry_run) {
		r = dump_apps(u, CRIU_LEAVE_RUNNING);
		if (r < 0)
			return r;
		log_info("Dry run: every check passed, the pre-dump and the dump worked; undoing it.");
		if (u->keep_fd >= 0)
			keep_abort(u->keep_fd);
		if (still_ours(u))
			kexec_unload();
		u->kexec_loaded = false;
		shutdown_probes_stop(u->shutdown, 0);
		u->shutdown = NULL;
		rm_rf(u->gendir);
		u->gendir[0] = '\0';
		return 0;
	}

	u->quiesce.notify_fd = -1;
	if (!u->no_quiesce && quiesce_plan(&u->quiesce, u->store) < 0)
		log_warn("Filesystems will only be synced before the jump");
	r = guard_start(u);
	if (r < 0)
		return r;
	u->quiesce.notify_fd = u->guard_fd;
	log_info("[3/4] Freezing and dumping (downtime starts)");
	t = tsc_read();
	r = dump_apps(u, CRIU_LEAVE_STOPPED);
	if (r < 0)
		return r;
	phase(u, NVWA_PHASE_FREEZE, t);

	log_info("[4/4] Writing the handover record and rebooting into %s",
		 u->plan.boot.info.release[0] ? u->plan.boot.info.release : u->image);
	t = tsc_read();
	sync();
	phase(u, NVWA_PHASE_SYNC, t);
	/* After this, anything writing to a frozen filesystem waits. */
	if (!u->no_quiesce) {
		t = tsc_read();
		quiesce_start(&u->quiesce, u->h);
		phase(u, NVWA_PHASE_QUIESCE, t);
	}
	/* The kept pages' list, last: nothing changes them from here. */
	if (u->keep_fd >= 0) {
		r = seal_memory(u);
		if (!r)
			r = damage_list();
		if (r < 0)
			return r;
	}
	fflush(NULL);
	t = tsc_read();
	timeline_add(tl, NVWA_PHASE_REBOOT, NVWA_DOMAIN_OLD, t, t);
	kmsg_note("update: the last mark; the handover record next, then the kexec");
	/* The record is fsync'ed; the last chance to back out is before it. */
	r = interrupted();
	if (!r)
		r = check_still_loaded(u);
	if (!r)
		r = FAULT("record-save") ?
		    log_error_errno(-EIO, "Failed to write %s (fault injected)", u->record) :
		    record_save(u->record, u->h);
	if (r < 0)
		return r;
	/*
	 * The record's fsync covers its own blocks, not the allocation
	 * bitmaps of a journal-less ext4: without this the next kernel finds
	 * the store's metadata stale.  Read-only also leaves it clean.
	 */
	r = store_remount(u->store, true);
	if (r < 0) {
		log_warn_errno(r, "Could not remount %s read-only (%m); syncing it instead", u->store);
		sync();
	}
	if (u->shutdown)
		shutdown_probes_arm(u->shutdown);
	/* The test build's stand-in for nvwa killed at the worst moment. */
	if (FAULT("hang-before-reboot"))
		for (;;)
			pause();
	kmsg_note("update: record written, store read-only: kexec now");
	r = FAULT("reboot") ? -EIO : kexec_jump();
	log_error_errno(r, "reboot(LINUX_REBOOT_CMD_KEXEC) failed: %m");
	return withdraw_record(u, r);
}

static int run_update(int argc, char **argv, bool trace)
{
	struct update *u = calloc(1, sizeof(*u));
	sigset_t held;
	int lock, r;

	if (!u || !(u->h = calloc(1, sizeof(*u->h)))) {
		free(u);
		log_error("Out of memory");
		return 1;
	}
	u->trace = trace;
	u->profile_boot = trace;
	r = parse_args(u, argc, argv);
	if (r < 0) {
		r = 2;
		goto cleanup;
	}
	lock = nvwa_lock();
	if (lock < 0) {
		r = 1;
		goto cleanup;
	}
	sigemptyset(&held);
	sigaddset(&held, SIGINT);
	sigaddset(&held, SIGTERM);
	sigaddset(&held, SIGHUP);
	sigaddset(&held, SIGQUIT);
	sigprocmask(SIG_BLOCK, &held, NULL);
	u->guard_fd = -1;
	r = update(u);
	if (r < 0)
		r = roll_back(u);
	guard_release(u);
	close(lock);
	sigprocmask(SIG_UNBLOCK, &held, NULL);
cleanup:
	free(u->h);
	free(u);
	return r;
}

static int cmd_update(int argc, char **argv)
{
	return run_update(argc, argv, false);
}

static void usage_trace(FILE *f)
{
	fprintf(f,
		"usage: nvwa trace reboot --kernel IMAGE [--initrd FILE] [--append ARGS]\n"
		"                         [--initrd-prepared=auto|yes|no]\n"
		"                         [--store DEV] [--probes=auto|kprobe|off]\n"
		"\n"
		"Profiles a plain kexec reboot into IMAGE, with no application kept:\n"
		"for kernel engineers tuning where a reboot's time goes.  It is an\n"
		"update without --app and with --profile-boot (initcall_debug), so the\n"
		"report after the reboot (`nvwa report`, `--html`) shows the old\n"
		"kernel's shutdown call by call and device by device, the jump, the new\n"
		"kernel's boot phases and its slowest initcalls.  The options are nvwa\n"
		"update's (see nvwa update --help); the same store and memmap= are\n"
		"needed, as the report travels in it.\n");
}

static int cmd_trace(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "reboot")) {
		usage_trace(stderr);
		return 2;
	}
	return run_update(argc - 1, argv + 1, true);
}

const struct nvwa_cmd nvwa_cmd_update = {
	.name = "update",
	.summary = "checkpoint applications, kexec a new kernel, restore them",
	.run = cmd_update,
	.usage = usage_update,
};

const struct nvwa_cmd nvwa_cmd_trace = {
	.name = "trace",
	.summary = "profile a plain kexec reboot: trace reboot --kernel IMAGE",
	.run = cmd_trace,
	.usage = usage_trace,
};
