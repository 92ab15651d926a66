// SPDX-License-Identifier: GPL-2.0
/*
 * nvwa checkpoint, nvwa restore-app, nvwa criu: CRIU with memory kept in
 * pinmem areas by reference, for CRIU users who do not want a whole kernel
 * update.
 *
 * Memory in pinmem areas (mapped from /dev/pinmem or /run/pinmem/NAME) is
 * never copied: the images name the areas and the restore maps the same
 * pages again, in this kernel or after a kexec.  On the nvwa kernel
 * (pin-anon), --pin-memory keeps ordinary private anonymous memory in
 * place too: the stopped tree's pages leave its page tables for frames
 * the kernel keeps (/dev/nvwa-keep HOLD), CRIU dumps it without them, and
 * the restore puts the same frames back (GIVE).  Elsewhere CRIU copies it
 * into the images, mostly by a pre-dump while the process still runs.
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

#include "common/fault.h"
#include "common/log.h"
#include "common/util.h"
#include "criu-plugin/pinimg.h"
#include "fastboot/caps.h"
#include "pinmem/lib/libpinmem.h"
#include "tools/nvwa/criu.h"
#include "tools/nvwa/json.h"
#include "tools/nvwa/keep.h"
#include "tools/nvwa/nvwa.h"

#define MAX_TREE NVWA_KEEP_TREE_MAX

static const char memory_note[] =
	"Which memory is copied:\n"
	"  - pinmem areas (mapped from /dev/pinmem, or /run/pinmem/NAME by path)\n"
	"    are kept by reference: zero bytes written, and the restore maps the\n"
	"    very same RAM again, in this kernel or after a kexec.  Areas mapped\n"
	"    from /dev/pinmem need nvwa's CRIU plugin (" CRIU_PLUGIN_NAME " in\n"
	"    " CRIU_PLUGIN_DIR ", or NVWA_CRIU_PLUGIN_DIR); without it CRIU refuses\n"
	"    the dump rather than copy or skip them.\n"
	"  - private anonymous memory, with --pin-memory on the nvwa kernel\n"
	"    (pin-anon in `nvwa status`): kept in place.  The frames stay where\n"
	"    they are, held by the kernel for this checkpoint (in this kernel and\n"
	"    across `nvwa update` kexecs to nvwa kernels), and `restore-app` maps\n"
	"    them back at the same addresses, copying nothing; huge pages come\n"
	"    back huge.  Memory shared after fork, shared anonymous memory and\n"
	"    pages something else holds are copied by CRIU.\n"
	"  - otherwise anonymous memory is copied into the images: once by a\n"
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
		"                        surprise) and, on the nvwa kernel, private\n"
		"                        anonymous memory in place (no pre-dump then)\n"
		"      --no-pre-dump     copy all anonymous memory during the freeze\n"
		"      --leave-running   let the process go on after the dump (default:\n"
		"                        it exits, as with `criu dump`); its anonymous\n"
		"                        memory is copied then, being still its own\n"
		"      --json            print the result as JSON\n"
		"\n%s", memory_note);
}

static void usage_restore_app(FILE *f)
{
	fprintf(f,
		"usage: nvwa restore-app [--lazy] [--json] -D DIR\n"
		"       nvwa restore-app --drop-memory -D DIR\n"
		"\n"
		"Restores what `nvwa checkpoint` (or `criu dump` with nvwa's plugin) put\n"
		"in DIR, detached from this shell, and prints the restored PID.  pinmem\n"
		"areas are mapped again where they were, by name; an area that no\n"
		"longer exists stops the restore before the process runs.  Anonymous\n"
		"memory the kernel kept for the checkpoint goes back in place before\n"
		"the process runs; a kernel that does not hold it (a stock kernel, a\n"
		"boot not handed it, a checkpoint restored already) stops the restore\n"
		"first.  DIR is never changed: after a failure, fix the cause and run\n"
		"the same command again.\n"
		"\n"
		"  -D, --images-dir DIR  the checkpoint\n"
		"      --drop-memory     restore nothing: give the memory the kernel keeps\n"
		"                        for this checkpoint back to the system\n"
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

/* Where a checkpoint's private anonymous memory goes. */
struct anon_memory {
	int fd;				/* /dev/nvwa-keep: kept in place; -1: copied */
	char why[224];			/* which, and why */
	struct keep_held held;		/* processes whose pages the kernel keeps */
	uint64_t pages, huge, left;	/* over the tree */
};

/* Kept in place only with --pin-memory, on pin-anon, for a dump that ends the tree. */
static void choose_anon(const struct checkpoint_opts *o, struct anon_memory *m)
{
	char why[160];

	m->fd = -1;
	if (!o->pin) {
		xsnprintf(m->why, sizeof(m->why), "copied by CRIU (no --pin-memory)");
		return;
	}
	if (o->after == CRIU_LEAVE_RUNNING) {
		xsnprintf(m->why, sizeof(m->why),
			  "copied by CRIU: --leave-running, so it stays the running process's");
		return;
	}
	if (!kcap_probe(KCAP_PIN_ANON, why, sizeof(why))) {
		xsnprintf(m->why, sizeof(m->why),
			  "copied by CRIU: this kernel cannot keep it in place (pin-anon %s)", why);
		return;
	}
	m->fd = keep_open(true, why, sizeof(why));
	if (m->fd < 0) {
		xsnprintf(m->why, sizeof(m->why), "copied by CRIU: %s", why);
		return;
	}
	xsnprintf(m->why, sizeof(m->why),
		  "kept in place by the kernel (pin-anon); CRIU copies only what is shared or held elsewhere");
}

/*
 * After a failed dump: the pages go back into the still-stopped processes
 * they were taken from, in place, and the tree runs on.  A process whose
 * pages cannot all go back is left stopped rather than run with holes.
 */
static int give_back(struct anon_memory *m, const pid_t *tree, size_t ntree)
{
	struct keep_given g;
	char why[256];
	int r;

	r = keep_give_tree(m->fd, m->held.pid, m->held.n, true, &g, why, sizeof(why));
	if (r < 0) {
		log_error("Could not give %d's memory back: %s; the tree is left stopped", tree[0],
			  why);
		return r;
	}
	for (size_t i = 0; i < ntree; i++)
		kill(tree[i], SIGCONT);
	log_info("its memory went back in place (%" PRIu64 " pages, %" PRIu64 " copied), it runs on",
		 g.installed, g.copied);
	return 0;
}

/*
 * Stops the tree and has the kernel take and keep each process's private
 * anonymous pages.  On failure everything taken goes back and the tree
 * runs on.
 */
static int hold_tree(struct anon_memory *m, const pid_t *tree, size_t ntree)
{
	struct nvwa_keep_take t;
	double start = mono_ms();
	int r;

	r = keep_stop_tree(tree, ntree, 10000);
	if (r < 0) {
		for (size_t i = 0; i < ntree; i++)
			kill(tree[i], SIGCONT);
		return log_error_errno(r, "Could not stop %d's processes to keep their memory: %m",
				       tree[0]);
	}
	for (size_t i = 0; i < ntree; i++) {
		r = keep_hold(m->fd, tree[i], &t);
		if (r == -ESRCH)
			continue;	/* exited before it stopped */
		if (r == -EEXIST) {
			log_error("The kernel keeps memory for an earlier checkpoint of PID %d already: restore it (nvwa restore-app) or free it (nvwa restore-app --drop-memory)",
				  tree[i]);
			break;
		}
		if (r < 0) {
			log_error_errno(r, "Could not keep the memory of %d: %m", tree[i]);
			break;
		}
		if (t.pages) {
			m->held.pid[m->held.n] = tree[i];
			m->held.frames[m->held.n++] = t.pages;
		}
		m->pages += t.pages;
		m->huge += t.huge;
		m->left += t.left;
	}
	if (r < 0 && r != -ESRCH) {
		give_back(m, tree, ntree);
		return r;
	}
	log_info("%" PRIu64 " MiB of anonymous memory kept in place (%" PRIu64 " MiB in huge pages), %" PRIu64 " KiB left to CRIU, in %.0f ms",
		 m->pages >> 8, m->huge >> 8, m->left * 4, mono_ms() - start);
	return 0;
}

/* The processes the kernel keeps memory for, in @dir/KEEP_HELD_FILE. */
static int write_held(const char *dir, const struct anon_memory *m)
{
	char path[PATH_MAX + 16], text[MAX_TREE * 48];
	size_t len = keep_held_format(&m->held, text, sizeof(text));

	xsnprintf(path, sizeof(path), "%s/%s", dir, KEEP_HELD_FILE);
	return write_file_atomic(path, text, len);
}

/* Reads @dir/KEEP_HELD_FILE: 0 (and @m filled), -ENOENT if the memory is in the images. */
static int read_held(const char *dir, struct anon_memory *m)
{
	char path[PATH_MAX + 16], why[128], *buf;
	size_t len;
	int r;

	xsnprintf(path, sizeof(path), "%s/%s", dir, KEEP_HELD_FILE);
	r = read_file(path, MAX_TREE * 48, &buf, &len);
	if (r < 0)
		return r;
	r = keep_held_parse(buf, len, &m->held, why, sizeof(why));
	free(buf);
	if (r < 0)
		return log_error_errno(r, "%s: %s", path, why);
	return 0;
}

static int cmd_checkpoint(int argc, char **argv)
{
	char pre[PATH_MAX], path[PATH_MAX], why[CRIU_WHY_MAX];
	static struct anon_memory m;
	struct checkpoint_opts o;
	struct pinned pinned = {};
	pid_t tree[MAX_TREE];
	size_t ntree = 0;
	double t, pre_ms = 0, hold_ms = 0, freeze_ms;
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
	if (pinned.mappings && plugin_needed() < 0)
		return 1;
	if (xsnprintf(path, sizeof(path), "%s/inventory.img", o.dir) < 0 ||
	    xsnprintf(pre, sizeof(pre), "%s/pre", o.dir) < 0)
		return log_error_errno(-ENAMETOOLONG, "%s: %m", o.dir), 1;
	if (access(path, F_OK) == 0) {
		log_error("%s already holds a checkpoint; restore it or choose another directory",
			  o.dir);
		return 1;
	}
	choose_anon(&o, &m);
	log_info("anonymous memory: %s", m.why);
	if (m.fd >= 0 && o.pre_dump) {
		log_info("no pre-dump: the memory stays where it is");
		o.pre_dump = false;
	}
	r = mkdir_p(o.pre_dump ? pre : o.dir, 0700);
	if (r < 0)
		return log_error_errno(r, "Cannot create %s: %m", o.dir), 1;
	if (m.fd >= 0) {
		/* Frozen from here; anything failing gives the memory back. */
		t = mono_ms();
		if (hold_tree(&m, tree, ntree) < 0)
			return 1;
		/* Written first: images without it would restore zeroed memory. */
		r = write_held(o.dir, &m);
		if (r < 0) {
			log_error_errno(r, "Cannot write %s/%s: %m", o.dir, KEEP_HELD_FILE);
			give_back(&m, tree, ntree);
			return 1;
		}
		hold_ms = mono_ms() - t;
	}
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
	if (FAULT("checkpoint-dump")) {
		r = -EIO;
		xsnprintf(why, sizeof(why), "fault injected");
	} else {
		r = criu_dump(o.pid, o.dir, o.pre_dump ? "pre" : NULL, o.after, NULL, why,
			      sizeof(why));
	}
	freeze_ms = mono_ms() - t + hold_ms;
	if (r < 0) {
		/* CRIU resumes the tree when a dump fails (stopped, if it was). */
		log_error("Dump of %d failed, it keeps running: %s (log: %s/dump.log)", o.pid,
			  why, o.dir);
		if (m.fd >= 0) {
			xsnprintf(path, sizeof(path), "%s/%s", o.dir, KEEP_HELD_FILE);
			unlink(path);
			give_back(&m, tree, ntree);
		}
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
		json_object_object_add(out, "keep_ms", json_fixed(hold_ms, 1));
		json_object_object_add(out, "anon_memory",
				       json_object_new_string(m.fd >= 0 ? "kept" : "copied"));
		json_object_object_add(out, "anon_memory_why", json_object_new_string(m.why));
		json_object_object_add(out, "anon_kept_bytes", json_object_new_uint64(m.pages << 12));
		json_object_object_add(out, "anon_huge_bytes", json_object_new_uint64(m.huge << 12));
		json_object_object_add(out, "anon_left_bytes", json_object_new_uint64(m.left << 12));
		json_object_object_add(out, "left_running",
				       json_object_new_boolean(o.after == CRIU_LEAVE_RUNNING));
		return json_write(stdout, out, JSON_LINE) < 0;
	}
	printf("checkpoint of %d in %s\n", o.pid, o.dir);
	if (o.pre_dump)
		printf("  pre-dump (running):  %8.0f ms  %10.1f MiB copied\n", pre_ms,
		       (double)pre_bytes / (1 << 20));
	if (m.fd >= 0)
		printf("  memory kept (frozen):%8.0f ms  %10.1f MiB in place\n", hold_ms,
		       (double)(m.pages << 12) / (1 << 20));
	printf("  dump (frozen):       %8.0f ms  %10.1f MiB copied\n", freeze_ms,
	       (double)dump_bytes / (1 << 20));
	printf("  pinmem by reference: %u mappings, %.1f MiB, 0 bytes copied\n",
	       pinned.mappings, (double)pinned.bytes / (1 << 20));
	if (m.fd >= 0)
		printf("  anonymous, in place: %.1f MiB (%.1f MiB in huge pages), 0 bytes copied\n",
		       (double)(m.pages << 12) / (1 << 20), (double)(m.huge << 12) / (1 << 20));
	else
		printf("  anonymous memory:    %s\n", m.why);
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

/*
 * The kernel must hold what @dir's KEEP_HELD_FILE lists, every frame of it:
 * restored without it, the processes would find zeroed memory.
 */
static int held_here(const char *dir, struct anon_memory *m)
{
	char why[160];
	uint64_t frames;
	int r;

	m->fd = keep_open(true, why, sizeof(why));
	if (m->fd < 0)
		return log_error_errno(m->fd, "%s: its anonymous memory was kept in place by the kernel it was made on, and this one cannot hold it (%s): only an nvwa kernel it was handed to can restore it",
				       dir, why);
	for (size_t i = 0; i < m->held.n; i++) {
		r = keep_owned(m->fd, m->held.pid[i], true, &frames);
		if (r < 0 || frames != m->held.frames[i])
			return log_error_errno(r < 0 ? r : -ENODATA, "%s: this kernel keeps %s for PID %d of it, not the %" PRIu64 " pages it was checkpointed with: restored or dropped already, or a kexec did not hand them over (dmesg | grep nvwa)",
					       dir, r < 0 || !frames ? "no memory" : "other memory",
					       m->held.pid[i], m->held.frames[i]);
	}
	return 0;
}

static int drop_held(const char *dir, struct anon_memory *m)
{
	uint64_t frames, all = 0;
	int r;

	for (size_t i = 0; i < m->held.n; i++) {
		r = keep_drop(m->fd, m->held.pid[i], &frames);
		if (r < 0)
			return log_error_errno(r, "Could not free the memory kept for PID %d: %m",
					       m->held.pid[i]);
		all += frames;
	}
	printf("freed %.1f MiB kept for %zu process%s of %s; its images cannot be restored now\n",
	       (double)(all << 12) / (1 << 20), m->held.n, m->held.n == 1 ? "" : "es", dir);
	return 0;
}

/* Puts the kept memory back into the restored, stopped tree of @pid; then it runs. */
static int give_held(struct anon_memory *m, pid_t pid, struct keep_given *g)
{
	pid_t tree[MAX_TREE];
	char why[256];
	size_t n = 0;
	int r;

	r = keep_give_tree(m->fd, m->held.pid, m->held.n, true, g, why, sizeof(why));
	if (proc_tree(pid, tree, MAX_TREE, &n) < 0)
		n = 0;
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			kill(tree[i], SIGKILL);
		kill(pid, SIGKILL);
		return log_error_errno(r, "Restored %d, but its kept memory did not all go back: %s; it was killed (the memory that went back is spent)",
				       pid, why);
	}
	for (size_t i = 0; i < n; i++)
		kill(tree[i], SIGCONT);
	return 0;
}

static int cmd_restore_app(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "images-dir", required_argument, NULL, 'D' },
		{ "lazy", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "drop-memory", no_argument, NULL, 'x' },
		{}
	};
	static struct anon_memory m;
	struct keep_given g = { 0 };
	char why[CRIU_WHY_MAX];
	const char *dir = NULL;
	bool lazy = false, json = false, drop = false, held;
	pid_t pid = 0, daemon = 0;
	double t, ms, all_ms;
	int c, r;

	while ((c = getopt_long(argc, argv, "D:", opts, NULL)) != -1) {
		switch (c) {
		case 'D': dir = optarg; break;
		case 'l': lazy = true; break;
		case 'j': json = true; break;
		case 'x': drop = true; break;
		default: usage_restore_app(stderr); return 2;
		}
	}
	if (!dir || optind != argc) {
		usage_restore_app(stderr);
		return 2;
	}
	m.fd = -1;
	r = read_held(dir, &m);
	if (r < 0 && r != -ENOENT)
		return 1;
	held = r == 0;
	if (drop && !held) {
		log_error("%s: the kernel keeps no memory for this checkpoint (its memory is in the images)",
			  dir);
		return 1;
	}
	if (held && held_here(dir, &m) < 0)
		return 1;
	if (drop)
		return drop_held(dir, &m) < 0;
	if (restore_preflight(dir) < 0)
		return 1;
	if (held && lazy) {
		log_info("--lazy: its anonymous memory is in place already, nothing to serve");
		lazy = false;
	}
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
	if (held && give_held(&m, pid, &g) < 0)
		return 1;
	ms = mono_ms() - t;
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
		json_object_object_add(out, "anon_memory",
				       json_object_new_string(held ? "kept" : "images"));
		json_object_object_add(out, "installed_pages", json_object_new_uint64(g.installed));
		json_object_object_add(out, "huge_pages", json_object_new_uint64(g.huge));
		json_object_object_add(out, "copied_pages", json_object_new_uint64(g.copied));
		if (json_write(stdout, out, JSON_LINE) < 0)
			r = -ENOMEM;
	} else {
		printf("restored %d from %s: running after %.0f ms", pid, dir, ms);
		if (held)
			printf(", %.1f MiB of anonymous memory back in place (%.1f MiB in huge pages), %" PRIu64 " pages copied",
			       (double)(g.installed << 12) / (1 << 20),
			       (double)(g.huge << 12) / (1 << 20), g.copied);
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
