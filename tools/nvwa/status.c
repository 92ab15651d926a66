// SPDX-License-Identifier: GPL-2.0
/* nvwa status: is this machine ready for an update, and how did the last go. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "fastboot/caps.h"
#include "fastboot/cmdline.h"
#include "fastboot/kexec.h"
#include "fastboot/fwmap.h"
#include "park/parked.h"
#include "pinmem/lib/libpinmem.h"
#include "tools/nvwa/json.h"
#include "tools/nvwa/keep.h"
#include "tools/nvwa/nvwa.h"

struct status {
	struct utsname uts;
	struct kcaps caps;
	bool have_reservation;
	struct pmem_reservation res;
	int fw_verdict;			/* fwmap_check_cmdline()'s */
	char fw_why[512];
	bool kexec_loaded;
	const char *store_dev;
	char store_state[32];		/* missing | unusable | mounted */
	char store_root[PATH_MAX];
	unsigned long long store_free, store_size;	/* bytes */
	char pending_state[32];		/* none | valid | invalid */
	char pending_why[512];
	struct nvwa_handover *pending;
	bool have_last;
	struct nvwa_handover *last;
	bool have_pinmem;		/* the module is loaded */
	struct pinmem_status pinmem;
	bool have_keep;			/* /dev/nvwa-keep answers */
	struct nvwa_keep_status keep;
	bool have_parked;		/* PARK_PARKED_FILE read */
	struct park_parked parked;
	/* --image: what a kernel image would offer an update to it. */
	const char *image;
	int image_r;			/* kcaps_probe_image(), or a negative errno */
	char image_error[256];
	struct kcaps_image img;
};

static void usage_status(FILE *f)
{
	fprintf(f,
		"usage: nvwa status [--json] [--store DEV] [--image IMAGE]\n"
		"\n"
		"Shows the running kernel and its features (stock or nvwa kernel,\n"
		"signed kernels only, kexec_file_load, pinmem, BTF, userfaultfd, and\n"
		"how each was found), the preserved-memory reservation on its\n"
		"command line (checked against the firmware's memory map: inside\n"
		"RAM, persistent memory on 128 MiB boundaries), the store and its free space, whether a kernel is\n"
		"loaded for kexec, a pending (not yet restored) update, and the last\n"
		"update with its downtime and each application's state.  --json prints\n"
		"the same for scripts: kernel, features {nvwa_kernel, NAME: {have,\n"
		"why}...}, reservation {size, start, firmware_map: \"fits\" or what is\n"
		"wrong with memmap= against the firmware's memory map} or null,\n"
		"kexec_loaded, store {device, state, mountpoint, size, free}, pending\n"
		"{state, reason, generation, apps}, last_update {generation, outcome,\n"
		"downtime_ms, apps [{pid, comm, state, error}]} or null, pinmem {state,\n"
		"region_start, region_size, generation, free, reason} or null (module\n"
		"not loaded), kept {state, taken, kept, installed, copied, released}\n"
		"or null: anonymous memory kept in place across the kexec on the nvwa\n"
		"kernel (/dev/nvwa-keep): pages taken before the jump; after it, frames\n"
		"still waiting for their process, put back, copied, and given back to\n"
		"the kernel.  On the nvwa kernel booted with nvwa.park=, a line says\n"
		"how its secondary CPUs came up (woken from park or by INIT/SIPI, how\n"
		"long each took; /sys/kernel/nvwa/parked_cpus); --json: cpu_bringup\n"
		"{parked, parked_us_max, init, init_us_max, init_reason} or null.\n"
		"\n"
		"--image IMAGE also says what a kernel image (bzImage or vmlinux) would\n"
		"offer an update to it: its release and the nvwa-kernel features it\n"
		"declares, the names its /sys/kernel/nvwa/features will list, found in\n"
		"the image itself (a bzImage is decompressed to look); --json adds\n"
		"image {path, release, features {NAME: {have, why}}}.  An update takes\n"
		"a feature's path only when this kernel has it too.\n");
}

static void gather(struct status *st)
{
	char *cmdline, path[PATH_MAX + 16], why[512];
	struct statvfs sv;
	int fd;

	uname(&st->uts);
	kcaps_probe_running(&st->caps);
	st->have_parked = park_parked_read(PARK_PARKED_FILE, &st->parked) == 0 &&
			  st->parked.parked + st->parked.init > 0;
	if (st->image) {
		st->image_r = kcaps_probe_image(st->image, &st->img, st->image_error,
						sizeof(st->image_error));
		/* A bzImage's features are inside its payload. */
		if (st->image_r == 0 && st->img.info.format != KIMAGE_ELF)
			st->image_r = kcaps_read_features(st->image, &st->img);
		if (st->image_r < 0 && !st->image_error[0])
			strscpy(st->image_error, st->img.why, sizeof(st->image_error));
	}
	fd = pinmem_dev_open();
	if (fd >= 0) {
		st->have_pinmem = pinmem_dev_status(fd, &st->pinmem) == 0;
		close(fd);
	}
	fd = keep_open(false, why, sizeof(why));
	if (fd >= 0) {
		st->have_keep = keep_status(fd, &st->keep) == 0;
		close(fd);
	}
	if (cmdline_read_running(&cmdline) == 0) {
		st->have_reservation = cmdline_find_pmem(cmdline, &st->res) == 0;
		st->fw_verdict = fwmap_check_cmdline(FWMAP_DIR, cmdline, st->fw_why,
						     sizeof(st->fw_why));
		free(cmdline);
	}
	st->kexec_loaded = kexec_is_loaded();
	strscpy(st->pending_state, "none", sizeof(st->pending_state));
	if (access(st->store_dev, F_OK) < 0) {
		strscpy(st->store_state, "missing", sizeof(st->store_state));
	} else if (store_mount(st->store_dev, st->store_root, sizeof(st->store_root)) < 0 ||
		   statvfs(st->store_root, &sv) < 0) {
		strscpy(st->store_state, "unusable", sizeof(st->store_state));
	} else {
		strscpy(st->store_state, "mounted", sizeof(st->store_state));
		st->store_free = (unsigned long long)sv.f_bavail * sv.f_frsize;
		st->store_size = (unsigned long long)sv.f_blocks * sv.f_frsize;
		if (record_find(st->store_root, path, sizeof(path)) == 0 &&
		    access(path, F_OK) == 0)
			strscpy(st->pending_state,
				record_load(path, 0, st->pending, st->pending_why,
					    sizeof(st->pending_why)) == 0 ? "valid" : "invalid",
				sizeof(st->pending_state));
	}
	st->have_last = state_report_path(0, path, sizeof(path)) == 0 &&
			record_load(path, 0, st->last, why, sizeof(why)) == 0;
}

static void print_text(const struct status *st)
{
	double downtime;

	printf("kernel:       %s\n", st->uts.release);
	kcaps_print(stdout, &st->caps);
	if (st->have_reservation)
		printf("reservation:  memmap=%lluM!%lluM (legacy pmem)\n",
		       st->res.size >> 20, st->res.start >> 20);
	else
		printf("reservation:  none (add memmap=SIZE!START to the kernel command line)\n");
	if (st->fw_verdict < 0 && st->fw_verdict != -ENOENT)
		printf("              wrong for this machine: %s\n", st->fw_why);
	if (!st->have_pinmem)
		printf("pinmem:       module not loaded\n");
	else if (st->pinmem.state == PINMEM_STATE_VALID)
		printf("pinmem:       %llu MiB at %#llx, generation %llu, %llu MiB free\n",
		       (unsigned long long)st->pinmem.region_size >> 20,
		       (unsigned long long)st->pinmem.region_start,
		       (unsigned long long)st->pinmem.generation,
		       (unsigned long long)st->pinmem.free_bytes >> 20);
	else
		printf("pinmem:       region not trusted: %s\n", st->pinmem.reason);
	if (st->have_keep)
		printf("kept memory:  %s, %llu pages taken, %llu frames waiting, %llu put back, %llu copied, %llu released\n",
		       keep_state_name(st->keep.state), (unsigned long long)st->keep.taken,
		       (unsigned long long)st->keep.kept, (unsigned long long)st->keep.installed,
		       (unsigned long long)st->keep.copied, (unsigned long long)st->keep.released);
	else if (kcaps_has(&st->caps, KCAP_PIN_ANON))
		printf("kept memory:  module not loaded (modprobe %s; nvwa update loads it)\n",
		       KEEP_MODULE);
	if (st->have_keep && st->keep.held)
		printf("checkpoints:  %llu MiB of anonymous memory kept in place for %u process%s (nvwa restore-app brings it back)\n",
		       (unsigned long long)st->keep.held >> 8, st->keep.held_owners,
		       st->keep.held_owners == 1 ? "" : "es");
	if (st->have_parked) {
		const struct park_parked *pk = &st->parked;

		printf("CPU bring-up: %u woken from park", pk->parked);
		if (pk->parked)
			printf(" (handed over in %" PRIu64 " us, online in %" PRIu64
			       " us each on average, at most %" PRIu64 ")",
			       pk->parked_handover_us_sum / pk->parked,
			       pk->parked_us_sum / pk->parked, pk->parked_us_max);
		printf(", %u by INIT/SIPI", pk->init);
		if (pk->init)
			printf(" (handed over in %" PRIu64 " us, online in %" PRIu64
			       " us each on average; first reason: %s)",
			       pk->init_handover_us_sum / pk->init, pk->init_us_sum / pk->init,
			       pk->why);
		printf("\n");
	}
	if (st->image && st->image_r < 0)
		printf("image:        %s: %s\n", st->image, st->image_error);
	else if (st->image) {
		printf("image:        %s, release %s: %s\n", st->image,
		       st->img.info.release[0] ? st->img.info.release : "unknown", st->img.why);
		for (int cap = 0; cap < KCAP_MAX; cap++)
			if (kcap_is_nvwa(cap))
				printf("  %-16s %s\n", kcap_name(cap),
				       kcaps_image_has(&st->img, cap) ? "yes" : "no");
	}
	printf("kexec:        %s\n", st->kexec_loaded ? "a kernel is loaded" : "nothing loaded");
	if (!strcmp(st->store_state, "mounted"))
		printf("store:        %s on %s, %llu of %llu MiB free\n", st->store_dev,
		       st->store_root, st->store_free >> 20, st->store_size >> 20);
	else
		printf("store:        %s %s%s\n", st->store_dev, st->store_state,
		       strcmp(st->store_state, "missing") ? "" :
		       " (memmap=SIZE!START, then modprobe nd_e820 nd_pmem)");
	if (!strcmp(st->pending_state, "valid"))
		printf("pending:      update %" PRIu64 " (%s), %u application(s) not yet restored\n",
		       st->pending->generation, st->pending->outcome, st->pending->napps);
	else if (!strcmp(st->pending_state, "invalid"))
		printf("pending:      a record that does not check out: %s\n", st->pending_why);
	else
		printf("pending:      none\n");
	if (!st->have_last) {
		printf("last update:  none recorded in %s\n", state_dir());
		return;
	}
	printf("last update:  %" PRIu64 ", %s -> %s, %s", st->last->generation,
	       st->last->old_kernel.release, st->last->new_kernel.release,
	       st->last->outcome);
	if (timeline_downtime_ms(&st->last->timeline, &downtime) == 0)
		printf(", downtime %.0f ms", downtime);
	printf("\n");
	for (uint32_t i = 0; i < st->last->napps; i++) {
		const struct nvwa_app *a = &st->last->apps[i];

		printf("  app %d (%s): %s%s%s\n", a->pid, a->comm, a->state,
		       a->error[0] ? ": " : "", a->error);
	}
}

/* {"nvwa_kernel": B, "NAME": {"have": B, "why": S}, ...} */
static struct json_object *json_features(const struct kcaps *caps)
{
	struct json_object *o = json_object_new_object(), *v;

	json_object_object_add(o, "nvwa_kernel",
			       json_object_new_boolean(kcaps_nvwa_kernel(caps)));
	for (int cap = 0; cap < KCAP_MAX; cap++) {
		v = json_object_new_object();
		json_object_object_add(v, "have", json_object_new_boolean(kcaps_has(caps, cap)));
		json_object_object_add(v, "why", json_bytes(caps->why[cap]));
		json_object_object_add(o, kcap_name(cap), v);
	}
	return o;
}

/* [{pid, comm, state, error}]: what the text's "  app" lines say. */
static struct json_object *json_apps(const struct nvwa_handover *h)
{
	struct json_object *apps = json_object_new_array(), *app;

	for (uint32_t i = 0; i < h->napps; i++) {
		app = json_object_new_object();
		json_object_object_add(app, "pid", json_object_new_int(h->apps[i].pid));
		json_object_object_add(app, "comm", json_bytes(h->apps[i].comm));
		json_object_object_add(app, "state", json_bytes(h->apps[i].state));
		json_object_object_add(app, "error", json_bytes(h->apps[i].error));
		json_object_array_add(apps, app);
	}
	return apps;
}

static struct json_object *json_have(bool have, const char *why)
{
	struct json_object *v = json_object_new_object();

	json_object_object_add(v, "have", json_object_new_boolean(have));
	json_object_object_add(v, "why", json_bytes(why));
	return v;
}

/* {"path", "release", "error", "features": {"pid-reserve": {"have", "why"}, ...}}: every nvwa feature */
static struct json_object *json_image(const struct status *st)
{
	struct json_object *o = json_object_new_object(), *f = json_object_new_object();

	json_object_object_add(o, "path", json_bytes(st->image));
	json_object_object_add(o, "release", st->image_r < 0 ? NULL :
			       json_bytes(st->img.info.release));
	json_object_object_add(o, "error", st->image_r < 0 ? json_bytes(st->image_error) : NULL);
	if (st->image_r >= 0) {
		for (int cap = 0; cap < KCAP_MAX; cap++)
			if (kcap_is_nvwa(cap))
				json_object_object_add(f, kcap_name(cap),
						       json_have(kcaps_image_has(&st->img, cap),
								 st->img.why));
	}
	json_object_object_add(o, "features", f);
	return o;
}

static int print_json(const struct status *st)
{
	struct json_object *o = json_object_new_object(), *v;
	bool pending = !strcmp(st->pending_state, "valid");
	double downtime;

	json_object_object_add(o, "kernel", json_bytes(st->uts.release));
	json_object_object_add(o, "features", json_features(&st->caps));
	v = NULL;
	if (st->have_reservation) {
		v = json_object_new_object();
		json_object_object_add(v, "size", json_object_new_uint64(st->res.size));
		json_object_object_add(v, "start", json_object_new_uint64(st->res.start));
		json_object_object_add(v, "firmware_map",
				       st->fw_verdict == 0 ? json_object_new_string("fits") :
				       json_bytes(st->fw_why));
	}
	json_object_object_add(o, "reservation", v);
	json_object_object_add(o, "kexec_loaded", json_object_new_boolean(st->kexec_loaded));
	v = json_object_new_object();
	json_object_object_add(v, "device", json_bytes(st->store_dev));
	json_object_object_add(v, "state", json_bytes(st->store_state));
	json_object_object_add(v, "mountpoint", json_bytes(st->store_root));
	json_object_object_add(v, "size", json_object_new_uint64(st->store_size));
	json_object_object_add(v, "free", json_object_new_uint64(st->store_free));
	json_object_object_add(o, "store", v);
	v = json_object_new_object();
	json_object_object_add(v, "state", json_bytes(st->pending_state));
	json_object_object_add(v, "reason", json_bytes(st->pending_why));
	json_object_object_add(v, "generation",
			       pending ? json_object_new_uint64(st->pending->generation) : NULL);
	json_object_object_add(v, "apps", pending ? json_object_new_int64(st->pending->napps) : NULL);
	json_object_object_add(o, "pending", v);
	v = NULL;
	if (st->have_last) {
		v = json_object_new_object();
		json_object_object_add(v, "generation", json_object_new_uint64(st->last->generation));
		json_object_object_add(v, "outcome", json_bytes(st->last->outcome));
		json_object_object_add(v, "downtime_ms", timeline_downtime_ms(&st->last->timeline, &downtime) == 0 ?
				       json_fixed(downtime, 3) : NULL);
		json_object_object_add(v, "apps", json_apps(st->last));
	}
	json_object_object_add(o, "last_update", v);
	v = NULL;
	if (st->have_pinmem) {
		v = json_object_new_object();
		json_object_object_add(v, "state",
				       json_object_new_string(pinmem_state_name(st->pinmem.state)));
		json_object_object_add(v, "region_start", json_object_new_uint64(st->pinmem.region_start));
		json_object_object_add(v, "region_size", json_object_new_uint64(st->pinmem.region_size));
		json_object_object_add(v, "generation", json_object_new_uint64(st->pinmem.generation));
		json_object_object_add(v, "free", json_object_new_uint64(st->pinmem.free_bytes));
		json_object_object_add(v, "reason", json_bytes(st->pinmem.reason));
	}
	json_object_object_add(o, "pinmem", v);
	v = NULL;
	if (st->have_parked) {
		v = json_object_new_object();
		json_object_object_add(v, "parked", json_object_new_int64(st->parked.parked));
		json_object_object_add(v, "parked_us_max", json_object_new_uint64(st->parked.parked_us_max));
		json_object_object_add(v, "init", json_object_new_int64(st->parked.init));
		json_object_object_add(v, "init_us_max", json_object_new_uint64(st->parked.init_us_max));
		json_object_object_add(v, "init_reason", json_bytes(st->parked.why));
	}
	json_object_object_add(o, "cpu_bringup", v);
	v = NULL;
	if (st->have_keep) {
		v = json_object_new_object();
		json_object_object_add(v, "state",
				       json_object_new_string(keep_state_name(st->keep.state)));
		json_object_object_add(v, "taken", json_object_new_uint64(st->keep.taken));
		json_object_object_add(v, "kept", json_object_new_uint64(st->keep.kept));
		json_object_object_add(v, "installed", json_object_new_uint64(st->keep.installed));
		json_object_object_add(v, "copied", json_object_new_uint64(st->keep.copied));
		json_object_object_add(v, "released", json_object_new_uint64(st->keep.released));
		json_object_object_add(v, "held", json_object_new_uint64(st->keep.held));
		json_object_object_add(v, "held_processes", json_object_new_int64(st->keep.held_owners));
	}
	json_object_object_add(o, "kept", v);
	if (st->image)
		json_object_object_add(o, "image", json_image(st));
	return json_write(stdout, o, JSON_LINES);
}

static int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "store", required_argument, NULL, 's' },
		{ "image", required_argument, NULL, 'i' },
		{}
	};
	struct status st = { 0 };
	const char *dev = NULL;
	bool json = false;
	int c, r = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 's': dev = optarg; break;
		case 'i': st.image = optarg; break;
		default: usage_status(stderr); return 2;
		}
	}
	st.store_dev = store_device(dev);
	st.pending = calloc(1, sizeof(*st.pending));
	st.last = calloc(1, sizeof(*st.last));
	if (!st.pending || !st.last) {
		free(st.pending);
		free(st.last);
		log_error("Out of memory");
		return 1;
	}
	gather(&st);
	if (json)
		r = print_json(&st);
	else
		print_text(&st);
	free(st.pending);
	free(st.last);
	return r < 0 ? 1 : 0;
}

const struct nvwa_cmd nvwa_cmd_status = {
	.name = "status",
	.summary = "reservation, store, loaded kernel, pending and last update",
	.run = cmd_status,
	.usage = usage_status,
};
