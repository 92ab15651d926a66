// SPDX-License-Identifier: GPL-2.0
/*
 * nvwa checkpoint, nvwa restore-app, nvwa criu: CRIU with memory kept in
 * pinmem areas by reference, for CRIU users who do not want a whole kernel
 * update.
 *
 * Memory in pinmem areas (mapped from /dev/pinmem or /run/pinmem/NAME) is
 * never copied: the images name the areas and the restore maps the same
 * pages again, in this kernel or after a kexec.  Ordinary anonymous memory
 * is copied into the images by CRIU, mostly by a pre-dump while the process
 * still runs, so the freeze copies only what changed since.
 */
#include <dirent.h>
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
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "criu-plugin/pinimg.h"
#include "fastboot/caps.h"
#include "pinmem/lib/libpinmem.h"
#include "tools/nvwa/criu.h"
#include "tools/nvwa/json.h"
#include "tools/nvwa/nvwa.h"

#define MAX_TREE 512

static const char memory_note[] =
	"Which memory is copied:\n"
	"  - pinmem areas (mapped from /dev/pinmem, or /run/pinmem/NAME by path)\n"
	"    are kept by reference: zero bytes written, and the restore maps the\n"
	"    very same RAM again, in this kernel or after a kexec.  Areas mapped\n"
	"    from /dev/pinmem need nvwa's CRIU plugin (" CRIU_PLUGIN_NAME " in\n"
	"    " CRIU_PLUGIN_DIR ", or NVWA_CRIU_PLUGIN_DIR); without it CRIU refuses\n"
	"    the dump rather than copy or skip them.\n"
	"  - ordinary anonymous memory is copied into the images: once by a\n"
	"    pre-dump while the process runs, then only the pages written since,\n"
	"    during the freeze.  Put DIR in preserved RAM (the store, or a pinmem\n"
	"    filesystem) for images that survive a kexec and never touch disk.\n";

static void usage_checkpoint(FILE *f)
{
	fprintf(f,
		"usage: nvwa checkpoint [--pin-memory] [--no-pre-dump] [--leave-running]\n"
		"                       [--json] PID -D DIR\n"
		"\n"
		"Checkpoints process PID and its descendants into DIR with CRIU.\n"
		"`nvwa restore-app -D DIR` brings them back.\n"
		"\n"
		"  -D, --images-dir DIR  where the images go (created; must not hold a\n"
		"                        checkpoint already)\n"
		"      --pin-memory      keep pinmem areas by reference (refused without\n"
		"                        it when PID maps any, so nothing is copied by\n"
		"                        surprise)\n"
		"      --no-pre-dump     copy all anonymous memory during the freeze\n"
		"      --leave-running   let the process go on after the dump (default:\n"
		"                        it exits, as with `criu dump`)\n"
		"      --json            print the result as JSON\n"
		"\n%s", memory_note);
}

static void usage_restore_app(FILE *f)
{
	fprintf(f,
		"usage: nvwa restore-app [--lazy] [--json] -D DIR\n"
		"\n"
		"Restores what `nvwa checkpoint` (or `criu dump` with nvwa's plugin) put\n"
		"in DIR, detached from this shell, and prints the restored PID.  pinmem\n"
		"areas are mapped again where they were, by name; an area that no\n"
		"longer exists stops the restore before the process runs.  DIR is never\n"
		"changed: after a failure, fix the cause and run the same command again.\n"
		"\n"
		"  -D, --images-dir DIR  the checkpoint\n"
		"      --lazy            let the process run as soon as its state is back;\n"
		"                        `criu lazy-pages` serves anonymous memory from DIR\n"
		"                        on first touch and copies the rest in the\n"
		"                        background (pinmem areas are mapped at once)\n"
		"      --json            print the result as JSON\n"
		"\n%s", memory_note);
}

static void usage_criu(FILE *f)
{
	fprintf(f,
		"usage: nvwa criu CRIU-ARGS...\n"
		"\n"
		"Runs the distribution's criu with CRIU-ARGS, accepting the --pin-memory\n"
		"option of openEuler's patched CRIU: it is replaced by -L with the\n"
		"directory holding nvwa's plugin, so scripts written for openEuler work\n"
		"unchanged.  Everything else goes to criu as it is.  Examples:\n"
		"\n"
		"  nvwa criu dump --pin-memory -t PID -D DIR\n"
		"  nvwa criu restore --pin-memory -D DIR --restore-detached\n"
		"\n%s", memory_note);
}

/* What a process tree keeps in pinmem areas. */
struct pinned {
	uint64_t bytes;
	unsigned int mappings;
};

static bool on_pinmem_fs(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && (uint32_t)sf.f_type == PINMEM_FS_MAGIC;
}

static int scan_maps(pid_t pid, struct pinned *p)
{
	char path[64], line[PATH_MAX + 128];
	unsigned long long start, end;
	FILE *f;
	int off;

	xsnprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *file;

		off = 0;
		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &start, &end, &off) < 2 || !off)
			continue;
		file = strstrip(line + off);
		if (file[0] != '/')
			continue;
		if (strcmp(file, PINMEM_DEV) && !on_pinmem_fs(file))
			continue;
		p->bytes += end - start;
		p->mappings++;
	}
	fclose(f);
	return 0;
}

/* Bytes of the regular files directly in @dir. */
static uint64_t dir_bytes(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	uint64_t sum = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (xsnprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= 0 &&
		    lstat(path, &st) == 0 && S_ISREG(st.st_mode))
			sum += (uint64_t)st.st_size;
	closedir(d);
	return sum;
}

static int plugin_needed(void)
{
	char path[PATH_MAX];

	if (criu_plugin_present(path, sizeof(path)) == 0)
		return 0;
	log_error("nvwa's CRIU plugin is not at %s: install it (make install) or point "
		  "NVWA_CRIU_PLUGIN_DIR at its directory", path);
	return -ENOENT;
}

struct checkpoint_opts {
	pid_t pid;
	const char *dir;
	bool pin, pre_dump, json;
	enum criu_after after;
};

static int parse_checkpoint(struct checkpoint_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "images-dir", required_argument, NULL, 'D' },
		{ "pin-memory", no_argument, NULL, 'p' },
		{ "no-pre-dump", no_argument, NULL, 'n' },
		{ "leave-running", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "tree", required_argument, NULL, 't' },
		{}
	};
	const char *spid = NULL;
	int c;

	*o = (struct checkpoint_opts){ .pre_dump = true, .after = CRIU_KILL };
	while ((c = getopt_long(argc, argv, "D:t:", opts, NULL)) != -1) {
		switch (c) {
		case 'D': o->dir = optarg; break;
		case 'p': o->pin = true; break;
		case 'n': o->pre_dump = false; break;
		case 'r': o->after = CRIU_LEAVE_RUNNING; break;
		case 'j': o->json = true; break;
		case 't': spid = optarg; break;
		default: usage_checkpoint(stderr); return -EINVAL;
		}
	}
	if (optind < argc && !spid)
		spid = argv[optind++];
	if (!spid || !o->dir || optind != argc) {
		usage_checkpoint(stderr);
		return -EINVAL;
	}
	if (parse_pid(spid, &o->pid) < 0 || kill(o->pid, 0) < 0)
		return log_error_errno(-ESRCH, "No process %s", spid);
	return 0;
}

static int cmd_checkpoint(int argc, char **argv)
{
	char pre[PATH_MAX], path[PATH_MAX], why[CRIU_WHY_MAX];
	struct checkpoint_opts o;
	struct pinned pinned = {};
	pid_t tree[MAX_TREE];
	size_t ntree = 0;
	double t, pre_ms = 0, freeze_ms;
	uint64_t pre_bytes = 0, dump_bytes;
	int r;

	r = parse_checkpoint(&o, argc, argv);
	if (r < 0)
		return 2;
	r = proc_tree(o.pid, tree, MAX_TREE, &ntree);
	if (r < 0)
		return log_error_errno(r, "Cannot list the processes of %d: %m", o.pid), 1;
	for (size_t i = 0; i < ntree; i++)
		scan_maps(tree[i], &pinned);
	if (pinned.mappings && !o.pin) {
		log_error("%d maps %" PRIu64 " MiB of pinmem areas (%u mappings): add --pin-memory "
			  "to keep them by reference", o.pid, pinned.bytes >> 20, pinned.mappings);
		return 1;
	}
	if (o.pin && plugin_needed() < 0)
		return 1;
	if (xsnprintf(path, sizeof(path), "%s/inventory.img", o.dir) < 0 ||
	    xsnprintf(pre, sizeof(pre), "%s/pre", o.dir) < 0)
		return log_error_errno(-ENAMETOOLONG, "%s: %m", o.dir), 1;
	if (access(path, F_OK) == 0) {
		log_error("%s already holds a checkpoint; restore it or choose another directory",
			  o.dir);
		return 1;
	}
	r = mkdir_p(o.pre_dump ? pre : o.dir, 0700);
	if (r < 0)
		return log_error_errno(r, "Cannot create %s: %m", o.dir), 1;
	if (o.pre_dump) {
		log_info("pre-dump of %d while it runs", o.pid);
		t = mono_ms();
		r = criu_pre_dump(o.pid, pre, why, sizeof(why));
		if (r < 0) {
			log_error("Pre-dump of %d failed, it keeps running: %s (log: %s/pre-dump.log)",
				  o.pid, why, pre);
			return 1;
		}
		pre_ms = mono_ms() - t;
		pre_bytes = dir_bytes(pre);
	}
	log_info("dump of %d (frozen until it ends)", o.pid);
	t = mono_ms();
	r = criu_dump(o.pid, o.dir, o.pre_dump ? "pre" : NULL, o.after, NULL, why,
		      sizeof(why));
	freeze_ms = mono_ms() - t;
	if (r < 0) {
		/* CRIU resumes the tree when a dump fails. */
		log_error("Dump of %d failed, it keeps running: %s (log: %s/dump.log)", o.pid,
			  why, o.dir);
		return 1;
	}
	dump_bytes = dir_bytes(o.dir);
	if (o.json) {
		struct json_object *out = json_object_new_object();

		json_object_object_add(out, "pid", json_object_new_int(o.pid));
		json_object_object_add(out, "images_dir", json_bytes(o.dir));
		json_object_object_add(out, "pre_dump_ms", json_fixed(pre_ms, 1));
		json_object_object_add(out, "freeze_ms", json_fixed(freeze_ms, 1));
		json_object_object_add(out, "pre_dump_bytes", json_object_new_uint64(pre_bytes));
		json_object_object_add(out, "dump_bytes", json_object_new_uint64(dump_bytes));
		json_object_object_add(out, "pinned_bytes", json_object_new_uint64(pinned.bytes));
		json_object_object_add(out, "pinned_mappings", json_object_new_int64(pinned.mappings));
		json_object_object_add(out, "left_running",
				       json_object_new_boolean(o.after == CRIU_LEAVE_RUNNING));
		return json_write(stdout, out, JSON_LINE) < 0;
	}
	printf("checkpoint of %d in %s\n", o.pid, o.dir);
	if (o.pre_dump)
		printf("  pre-dump (running):  %8.0f ms  %10.1f MiB copied\n", pre_ms,
		       (double)pre_bytes / (1 << 20));
	printf("  dump (frozen):       %8.0f ms  %10.1f MiB copied\n", freeze_ms,
	       (double)dump_bytes / (1 << 20));
	printf("  pinmem by reference: %u mappings, %.1f MiB, 0 bytes copied\n",
	       pinned.mappings, (double)pinned.bytes / (1 << 20));
	printf("restore with: nvwa restore-app -D %s\n", o.dir);
	return 0;
}

/*
 * Checks what the plugin will need before criu starts anything: a damaged
 * image or a missing module is reported here, in nvwa's words, rather than
 * from inside a half-started restore.  The plugin parses the image again
 * in criu's process; it cannot be handed this copy.
 */
static int restore_preflight(const char *dir)
{
	char path[PATH_MAX], why[PINIMG_WHY_MAX], *buf;
	struct pinimg img;
	size_t len;
	int r;

	if (xsnprintf(path, sizeof(path), "%s/inventory.img", dir) < 0 || access(path, R_OK))
		return log_error_errno(-ENOENT, "%s holds no checkpoint (no inventory.img)", dir);
	xsnprintf(path, sizeof(path), "%s/%s", dir, DUMP_KEPT);
	if (access(path, F_OK) == 0)
		return log_error_errno(-ENODATA, "%s: nvwa update kept this application's memory in place instead of dumping it (%s): a restore from these images would give it zeroed memory; only `nvwa restore`, on the boot its memory was handed to, can bring it back",
				       dir, path);
	xsnprintf(path, sizeof(path), "%s/%s", dir, PINIMG_FILE);
	r = read_file(path, PINIMG_MAX_BYTES, &buf, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return log_error_errno(r, "Cannot read %s: %m", path);
	r = pinimg_parse(buf, len, &img, why, sizeof(why));
	free(buf);
	if (r < 0)
		return log_error_errno(r, "%s", why);
	log_info("the checkpoint keeps pinmem memory by reference (%zu areas, %zu descriptors)",
		 img.nareas, img.nfds);
	pinimg_free(&img);
	if (access(PINMEM_DEV, R_OK | W_OK))
		return log_error_errno(-ENODEV, "The checkpoint maps pinmem areas but %s is "
				       "missing: load the pinmem module", PINMEM_DEV);
	return plugin_needed();
}

static int cmd_restore_app(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "images-dir", required_argument, NULL, 'D' },
		{ "lazy", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{}
	};
	char why[CRIU_WHY_MAX];
	const char *dir = NULL;
	bool lazy = false, json = false;
	pid_t pid = 0, daemon = 0;
	double t, ms, all_ms;
	int c, r;

	while ((c = getopt_long(argc, argv, "D:", opts, NULL)) != -1) {
		switch (c) {
		case 'D': dir = optarg; break;
		case 'l': lazy = true; break;
		case 'j': json = true; break;
		default: usage_restore_app(stderr); return 2;
		}
	}
	if (!dir || optind != argc) {
		usage_restore_app(stderr);
		return 2;
	}
	if (restore_preflight(dir) < 0)
		return 1;
	t = mono_ms();
	if (lazy) {
		r = kcap_probe(KCAP_USERFAULTFD, why, sizeof(why)) ?
		    criu_restore_lazy(dir, NULL, &daemon, why, sizeof(why)) : -EOPNOTSUPP;
		if (r == -EOPNOTSUPP) {
			log_warn("Lazy pages unavailable (%s); copying memory before it runs", why);
			lazy = false;
		}
	}
	if (!lazy)
		r = criu_restore(dir, NULL, why, sizeof(why));
	ms = mono_ms() - t;
	if (r < 0) {
		log_error("Restore from %s failed: %s (log: %s/restore.log); the images are "
			  "untouched: fix the cause and run this again", dir, why, dir);
		return 1;
	}
	criu_restored_pid(dir, &pid);
	if (lazy) {
		r = criu_lazy_wait(daemon, dir, why, sizeof(why));
		if (r < 0)
			log_error("%d runs, but its lazy pages failed: %s", pid, why);
	}
	all_ms = mono_ms() - t;
	if (json) {
		struct json_object *out = json_object_new_object();

		json_object_object_add(out, "pid", json_object_new_int(pid));
		json_object_object_add(out, "images_dir", json_bytes(dir));
		json_object_object_add(out, "running_ms", json_fixed(ms, 1));
		json_object_object_add(out, "all_memory_ms", json_fixed(all_ms, 1));
		json_object_object_add(out, "lazy", json_object_new_boolean(lazy));
		if (json_write(stdout, out, JSON_LINE) < 0)
			r = -ENOMEM;
	} else {
		printf("restored %d from %s: running after %.0f ms", pid, dir, ms);
		if (lazy)
			printf(", all memory back after %.0f ms", all_ms);
		printf("\n");
	}
	return r < 0 ? 1 : 0;
}

static int cmd_criu(int argc, char **argv)
{
	const char *bin = getenv("NVWA_CRIU");
	struct argv args = ARGV_INIT;

	if (argc < 2) {
		usage_criu(stderr);
		return 2;
	}
	argv_add(&args, bin && *bin ? bin : "criu");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--pin-memory")) {
			argv_add(&args, argv[i]);
			continue;
		}
		if (plugin_needed() < 0) {
			argv_free(&args);
			return 1;
		}
		argv_add(&args, "-L", criu_plugin_dir());
	}
	if (argv_error(&args) < 0) {
		log_error_errno(argv_error(&args), "Cannot run criu: %m");
		argv_free(&args);
		return 1;
	}
	execvp(argv_get(&args)[0], (char *const *)argv_get(&args));
	log_error_errno(-errno, "Cannot run %s: %m", argv_get(&args)[0]);
	return 127;
}

const struct nvwa_cmd nvwa_cmd_checkpoint = {
	.name = "checkpoint",
	.summary = "checkpoint a process tree, pinmem areas by reference",
	.run = cmd_checkpoint,
	.usage = usage_checkpoint,
};

const struct nvwa_cmd nvwa_cmd_restore_app = {
	.name = "restore-app",
	.summary = "restore a checkpoint made by `nvwa checkpoint`",
	.run = cmd_restore_app,
	.usage = usage_restore_app,
};

const struct nvwa_cmd nvwa_cmd_criu = {
	.name = "criu",
	.summary = "run criu, accepting openEuler's --pin-memory",
	.run = cmd_criu,
	.usage = usage_criu,
};
