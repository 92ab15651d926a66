// SPDX-License-Identifier: GPL-2.0
/*
 * nvwa report: one update as one timeline, old kernel and new, in
 * milliseconds from the freeze (the start of the downtime); the rendering
 * itself is render.c's.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/tsc.h"
#include "common/util.h"
#include "tools/nvwa/compare.h"
#include "tools/nvwa/html.h"
#include "tools/nvwa/json.h"
#include "tools/nvwa/nvwa.h"
#include "tools/nvwa/render.h"

static void usage_report(FILE *f)
{
	fprintf(f,
		"usage: nvwa report [--json] [--update N | FILE]\n"
		"       nvwa report --html FILE [--update N | RECORD]\n"
		"       nvwa report --compare [--json] [--threshold PCT] [--min-ms MS] A B\n"
		"\n"
		"Shows an update as one timeline across the kexec: the old kernel's\n"
		"phases (check, kexec-load, probes, pre-dump, freeze, sync, quiesce:\n"
		"filesystems frozen for the jump, reboot);\n"
		"its shutdown after the reboot call, timed by eBPF probes (side\n"
		"\"probe\": kernel-kexec, restart-prepare, device-shutdown,\n"
		"syscore-shutdown where the kernel calls it, machine-shutdown,\n"
		"machine-kexec); the jump and the new kernel's boot (kexec-jump,\n"
		"kernel-early, smp-bringup, initcalls, initramfs-unpack,\n"
		"memmap-deferred, init-start; from its log, tied to the TSC); the\n"
		"restore (userspace-early, split on a systemd host into initramfs,\n"
		"switch-root and systemd; restore, probe-load: loading the first-run\n"
		"probe, restore/PID, first-syscall: the first system call of the\n"
		"application's own code, app-running) and what follows it\n"
		"(lazy-pages, cpu-online).  Times are milliseconds from the freeze,\n"
		"when the downtime starts; the downtime ends when the applications\n"
		"run again.  The table ends with the biggest phase of the downtime\n"
		"and the three slowest things measured inside it.\n"
		"\n"
		"      --json       machine-readable, stable names: format\n"
		"                   (\"nvwa-report\"), version (of the record), generation,\n"
		"                   outcome, store, tsc_khz, old_kernel and new_kernel\n"
		"                   {release, cmdline, image, loader, initrd}, apps [{pid, comm,\n"
		"                   state, error, images, dump_mode, unit: the systemd\n"
		"                   service it was restored as, or \"\", tcp_established:\n"
		"                   connections kept, addresses: the local addresses\n"
		"                   its sockets use, pids: how the new boot kept its\n"
		"                   PIDs free, reserved (the nvwa kernel's pid-reserve)\n"
		"                   or lastpid, \"\" before version 4}], phases [{name,\n"
		"                   side: old|probe|boot|new, start_ms, duration_ms,\n"
		"                   start_tsc, end_tsc}], probes (how the shutdown was\n"
		"                   timed: fentry/fexit, kprobe/kretprobe, or off: why),\n"
		"                   items [{kind: device|initcall|first-syscall|quiesce,\n"
		"                   name, detail (driver, the system call, or what\n"
		"                   became of a filesystem: frozen, already frozen,\n"
		"                   synced), start_ms, duration_ms}], downtime_ms\n"
		"                   (null if not known)\n"
		"      --update N   generation N instead of the newest\n"
		"      FILE         a report or handover record file\n"
		"      --html FILE  a self-contained dashboard (no network, no external\n"
		"                   files): the timeline across the kexec, every phase a\n"
		"                   bar whose tooltip gives its figures, the phase table,\n"
		"                   the slowest devices of the old kernel's shutdown and\n"
		"                   the slowest initcalls of the new kernel's boot (with\n"
		"                   update --profile-boot or trace reboot), and the\n"
		"                   downtime of every update kept on the machine\n"
		"      --compare A B  two updates (generation numbers or files) side by\n"
		"                   side: every phase both have, and the downtime.  A\n"
		"                   phase regressed if B is slower by more than PCT %%\n"
		"                   (default 10) and MS ms (default 50).  Exit status 0:\n"
		"                   nothing regressed, 1: something did, 2: trouble\n"
		"\n"
		"Reports are kept in $NVWA_STATE_DIR/updates (default /var/lib/nvwa).\n");
}

static int report_html(const char *path, const char *out);
static int report_compare(const char *a, const char *b, const struct compare_opts *o);

static int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "update", required_argument, NULL, 'u' },
		{ "compare", no_argument, NULL, 'c' },
		{ "threshold", required_argument, NULL, 't' },
		{ "min-ms", required_argument, NULL, 'm' },
		{ "html", required_argument, NULL, 'H' },
		{}
	};
	const char *html = NULL;
	struct compare_opts co = { .threshold = 0.10, .min_ms = 50 };
	char path[PATH_MAX];
	uint64_t gen = 0, v;
	bool json = false, compare = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'u':
			if (parse_u64(optarg, &gen) < 0 || !gen) {
				log_error("--update takes a generation number (1, 2, ...), not '%s'", optarg);
				return 2;
			}
			break;
		case 'c': compare = true; break;
		case 'H': html = optarg; break;
		case 't':
		case 'm':
			if (parse_u64(optarg, &v) < 0) {
				log_error("--%s takes a whole number, not '%s'",
					  c == 't' ? "threshold" : "min-ms", optarg);
				return 2;
			}
			if (c == 't')
				co.threshold = (double)v / 100.0;
			else
				co.min_ms = (double)v;
			break;
		default: usage_report(stderr); return 2;
		}
	}
	if (compare) {
		co.json = json;
		if (argc - optind != 2) {
			log_error("--compare takes two updates: generation numbers or report files");
			return 2;
		}
		return report_compare(argv[optind], argv[optind + 1], &co);
	}
	if (optind < argc) {
		strscpy(path, argv[optind], sizeof(path));
	} else if (state_report_path(gen, path, sizeof(path)) < 0) {
		log_error("No update recorded in %s/updates yet", state_dir());
		return 1;
	}
	if (html)
		return report_html(path, html) < 0 ? 1 : 0;
	return report_print_file(path, json) < 0 ? 1 : 0;
}

#define HISTORY_MAX 500

/* The dashboard of the update at @path, with every update kept as history. */
static int report_html(const char *path, const char *out)
{
	struct nvwa_handover *h = calloc(1, sizeof(*h)), *old = calloc(1, sizeof(*old));
	struct html_history *hist = calloc(HISTORY_MAX, sizeof(*hist));
	uint64_t *gens = calloc(HISTORY_MAX, sizeof(*gens));
	char why[512], p[PATH_MAX], tmp[PATH_MAX + 8];
	size_t n = 0, ngens;
	int fd, r = -ENOMEM;
	FILE *f;

	if (!h || !old || !hist || !gens)
		goto cleanup;
	r = record_load(path, 0, h, why, sizeof(why));
	if (r < 0)
		goto cleanup;
	ngens = state_list_generations(gens, HISTORY_MAX);
	for (size_t i = 0; i < ngens; i++) {
		if (state_report_path(gens[i], p, sizeof(p)) < 0 ||
		    record_load(p, 0, old, why, sizeof(why)) < 0)
			continue;
		hist[n].generation = old->generation;
		if (timeline_downtime_ms(&old->timeline, &hist[n].downtime_ms) < 0)
			hist[n].downtime_ms = -1;
		strscpy(hist[n].outcome, old->outcome, sizeof(hist[n].outcome));
		n++;
	}
	/* Written whole or not at all, like every file nvwa writes. */
	fd = tmpfile_beside(out, tmp, sizeof(tmp));
	/* A page to open in a browser, not a secret: readable like any. */
	f = fd < 0 || fchmod(fd, 0644) < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		r = log_error_errno(fd < 0 ? fd : -errno, "Failed to create a file beside %s: %m", out);
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		goto cleanup;
	}
	html_write_report(f, h, hist, n);
	if (fclose(f) != 0 || rename(tmp, out) < 0) {
		r = log_error_errno(-errno, "Failed to write %s: %m", out);
		unlink(tmp);
		goto cleanup;
	}
	log_info("Wrote %s (update %" PRIu64 ", %zu update(s) of history)", out, h->generation, n);
	r = 0;
cleanup:
	free(h);
	free(old);
	free(hist);
	free(gens);
	return r;
}

/* A generation number names a kept report; anything else is a file. */
static int load_update(const char *which, struct nvwa_handover *h)
{
	char path[PATH_MAX], why[512];
	uint64_t gen;

	if (parse_u64(which, &gen) == 0 && gen) {
		if (state_report_path(gen, path, sizeof(path)) < 0)
			return log_error_errno(-ENAMETOOLONG, "Bad generation %s", which);
	} else if (strscpy(path, which, sizeof(path)) < 0) {
		return log_error_errno(-ENAMETOOLONG, "Path too long: %s", which);
	}
	return record_load(path, 0, h, why, sizeof(why));
}

/* Exit status as diff(1): 0 nothing regressed, 1 something did, 2 trouble. */
static int report_compare(const char *a, const char *b, const struct compare_opts *o)
{
	struct nvwa_handover *ha = calloc(1, sizeof(*ha)), *hb = calloc(1, sizeof(*hb));
	int r = 2;

	if (ha && hb && load_update(a, ha) == 0 && load_update(b, hb) == 0)
		r = compare_updates(stdout, ha, hb, o) ? 1 : 0;
	free(ha);
	free(hb);
	return r;
}

const struct nvwa_cmd nvwa_cmd_report = {
	.name = "report",
	.summary = "the last update's timeline and downtime",
	.run = cmd_report,
	.usage = usage_report,
};
