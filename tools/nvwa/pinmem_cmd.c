// SPDX-License-Identifier: GPL-2.0
/*
 * nvwa pinmem: the preserved RAM the pinmem module owns, for operators.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "fastboot/cmdline.h"
#include "pinmem/lib/libpinmem.h"
#include "tools/nvwa/json.h"
#include "tools/nvwa/nvwa.h"

static void usage_pinmem(FILE *f)
{
	fprintf(f,
		"usage: nvwa pinmem load [--format] [--module PATH] [--if-reserved]\n"
		"       nvwa pinmem status [--json]\n"
		"       nvwa pinmem ls [--all] [--json]\n"
		"       nvwa pinmem create NAME SIZE\n"
		"       nvwa pinmem rm NAME...\n"
		"       nvwa pinmem format [--discard] [--erase-untrusted] [--entries N]\n"
		"       nvwa pinmem mount [DIR]\n"
		"\n"
		"pinmem is RAM that keeps its contents across kexec, owned by the pinmem\n"
		"kernel module.  Reserve it on the kernel command line of every kernel\n"
		"in the chain (memmap=SIZE$START, e.g. memmap=512M$2G; quote the $ in\n"
		"shells and boot loaders), then `nvwa pinmem load`.  A region found\n"
		"after a kexec is adopted if its superblock and directory check out;\n"
		"otherwise it is left untouched and `status` says why.\n"
		"\n"
		"  load     load the module for the memmap=SIZE$START reservation of the\n"
		"           kernel command line, passing it as region=SIZE@START\n"
		"           (`modprobe pinmem`, or `insmod PATH` with --module);\n"
		"           --format formats a region that holds no pinmem superblock\n"
		"           at all (never one that fails its checks); refuses when the\n"
		"           command line reserves no such region (with --if-reserved,\n"
		"           which boot units use: does nothing, quietly), or several\n"
		"  status   state of the region, generation, space and counters\n"
		"  ls       named areas (--all: kernel objects too) with their sizes\n"
		"           and how many mappings each has\n"
		"  create   make an area of SIZE bytes (K, M, G suffixes), zeroed\n"
		"  rm       remove areas; an area that is mapped is refused (EBUSY)\n"
		"  format   make an empty region: needed on the first boot after\n"
		"           power-on; refuses to destroy areas (a pending update's\n"
		"           record among them) without --discard, a region whose\n"
		"           superblock failed its checks (it may hold what cannot be\n"
		"           read) without --erase-untrusted, and anything while kernel\n"
		"           objects, mappings or reads and writes are in flight\n"
		"  mount    mount the pinmem filesystem (default %s): every area\n"
		"           is a file there, so any program can keep memory in pinmem\n"
		"           by opening, ftruncating and mmapping (MAP_SHARED) a path,\n"
		"           e.g. QEMU's memory-backend-file,mem-path=%s/vm0,share=on\n",
		PINMEM_MOUNT, PINMEM_MOUNT);
}

static int open_dev(void)
{
	int fd = pinmem_dev_open();

	if (fd == -ENOENT)
		return log_error_errno(fd, "%s missing: load the module (nvwa pinmem load) on a kernel booted with memmap=SIZE$START",
				       PINMEM_DEV);
	if (fd < 0)
		return log_error_errno(fd, "Failed to open %s: %m", PINMEM_DEV);
	return fd;
}

static void human(uint64_t v, char *buf, size_t size)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int u = 0;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", d, unit[u]);
}

static unsigned frag_pct(const struct pinmem_status *st)
{
	if (!st->free_bytes)
		return 0;
	return (unsigned)(100 - st->largest_free * 100 / st->free_bytes);
}

static int status_json(const struct pinmem_status *st)
{
	struct json_object *o = json_object_new_object(), *classes;

	json_object_object_add(o, "state", json_object_new_string(pinmem_state_name(st->state)));
	json_object_object_add(o, "region_start", json_object_new_uint64(st->region_start));
	json_object_object_add(o, "region_size", json_object_new_uint64(st->region_size));
	if (st->state != PINMEM_STATE_VALID) {
		json_object_object_add(o, "reason", json_bytes(st->reason));
		return json_write(stdout, o, JSON_COMPACT);
	}
	json_object_object_add(o, "version", json_object_new_int64(st->version));
	json_object_object_add(o, "generation", json_object_new_uint64(st->generation));
	json_object_object_add(o, "metadata_bytes", json_object_new_uint64(st->metadata_bytes));
	json_object_object_add(o, "data_bytes", json_object_new_uint64(st->data_bytes));
	json_object_object_add(o, "free_bytes", json_object_new_uint64(st->free_bytes));
	json_object_object_add(o, "largest_free", json_object_new_uint64(st->largest_free));
	json_object_object_add(o, "fragmentation_pct", json_object_new_int64(frag_pct(st)));
	json_object_object_add(o, "dir_entries", json_object_new_int64(st->dir_entries));
	json_object_object_add(o, "dir_used", json_object_new_int64(st->dir_used));
	json_object_object_add(o, "areas", json_object_new_int64(st->areas));
	json_object_object_add(o, "areas_mapped", json_object_new_int64(st->areas_mapped));
	json_object_object_add(o, "area_bytes", json_object_new_uint64(st->area_bytes));
	json_object_object_add(o, "kobjs", json_object_new_int64(st->kobjs));
	json_object_object_add(o, "kobj_bytes", json_object_new_uint64(st->kobj_bytes));
	json_object_object_add(o, "kbufs", json_object_new_int64(st->kbufs));
	json_object_object_add(o, "kbuf_bytes", json_object_new_uint64(st->kbuf_bytes));
	classes = json_object_new_array();
	for (int i = 0; i < PINMEM_NR_CLASSES; i++) {
		struct json_object *c = json_object_new_object();

		json_object_object_add(c, "object_size", json_object_new_int64(st->classes[i].object_size));
		json_object_object_add(c, "objects", json_object_new_int64(st->classes[i].objects));
		json_object_object_add(c, "bytes", json_object_new_uint64(st->classes[i].bytes));
		json_object_object_add(c, "pages", json_object_new_uint64(st->classes[i].pages));
		json_object_array_add(classes, c);
	}
	json_object_object_add(o, "classes", classes);
	return json_write(stdout, o, JSON_COMPACT);
}

static void status_text(const struct pinmem_status *st)
{
	char a[32], b[32], c[32];

	human(st->region_size, a, sizeof(a));
	printf("region     %#" PRIx64 " + %s: %s\n", (uint64_t)st->region_start,
	       a, pinmem_state_name(st->state));
	if (st->state != PINMEM_STATE_VALID) {
		printf("reason     %s\n", st->reason);
		printf("next       its contents were left alone; `nvwa pinmem format` makes it usable (and erases it)\n");
		return;
	}
	printf("generation %" PRIu64 " (format version %u)\n",
	       (uint64_t)st->generation, st->version);
	human(st->metadata_bytes, a, sizeof(a));
	printf("metadata   %s (%.2f%% of the region), directory %u of %u slots used\n",
	       a, 100.0 * (double)st->metadata_bytes / (double)st->region_size,
	       st->dir_used, st->dir_entries);
	human(st->free_bytes, a, sizeof(a));
	human(st->largest_free, b, sizeof(b));
	human(st->data_bytes, c, sizeof(c));
	printf("free       %s of %s, largest extent %s (fragmentation %u%%)\n",
	       a, c, b, frag_pct(st));
	human(st->area_bytes, a, sizeof(a));
	printf("areas      %u (%s), %u mapped\n", st->areas, a, st->areas_mapped);
	human(st->kobj_bytes, a, sizeof(a));
	human(st->kbuf_bytes, b, sizeof(b));
	printf("kernel     %u objects (%s), %u buffers (%s)\n", st->kobjs, a,
	       st->kbufs, b);
	for (int i = 0; i < PINMEM_NR_CLASSES; i++)
		if (st->classes[i].objects || st->classes[i].pages)
			printf("  class %4u: %u objects, %" PRIu64 " bytes, %" PRIu64 " pages\n",
			       st->classes[i].object_size,
			       st->classes[i].objects,
			       (uint64_t)st->classes[i].bytes,
			       (uint64_t)st->classes[i].pages);
}

static int do_status(int argc, char **argv)
{
	struct pinmem_status st;
	int fd, r, json = argc > 1 && !strcmp(argv[1], "--json");

	if (argc > 1 + json)
		return log_error_errno(-EINVAL, "status takes only --json");
	fd = open_dev();
	if (fd < 0)
		return 1;
	r = pinmem_dev_status(fd, &st);
	close(fd);
	if (r < 0)
		return log_error_errno(r, "Failed to read pinmem status: %m"), 1;
	if (json && status_json(&st) < 0)
		return 1;
	if (!json)
		status_text(&st);
	return st.state == PINMEM_STATE_VALID ? 0 : 1;
}

static int do_ls(int argc, char **argv)
{
	struct pinmem_entry *e = NULL;
	struct json_object *list = NULL;
	int fd, r, json = 0, all = 0;
	size_t n;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--all"))
			all = 1;
		else
			return log_error_errno(-EINVAL, "ls: unknown argument %s", argv[i]), 2;
	}
	fd = open_dev();
	if (fd < 0)
		return 1;
	r = pinmem_dev_list(fd, all, &e, &n);
	close(fd);
	if (r < 0)
		return log_error_errno(r, "Failed to list pinmem: %m"), 1;
	if (json)
		list = json_object_new_array();
	else
		printf("%-40s %-5s %14s %14s %s\n", "NAME", "KIND", "BYTES",
		       "OFFSET", "MAPPED");
	for (size_t i = 0; i < n; i++) {
		char name[PINMEM_NAME_MAX + 1];
		struct json_object *area;

		memcpy(name, e[i].name, PINMEM_NAME_MAX);
		name[PINMEM_NAME_MAX] = '\0';
		if (!json) {
			printf("%-40s %-5s %14" PRIu64 " %#14" PRIx64 " %u\n",
			       name, pinmem_kind_name(e[i].kind),
			       (uint64_t)e[i].length, (uint64_t)e[i].offset,
			       e[i].mapped);
			continue;
		}
		area = json_object_new_object();
		json_object_object_add(area, "name", json_bytes(name));
		json_object_object_add(area, "kind",
				       json_object_new_string(pinmem_kind_name(e[i].kind)));
		json_object_object_add(area, "length", json_object_new_uint64(e[i].length));
		json_object_object_add(area, "offset", json_object_new_uint64(e[i].offset));
		json_object_object_add(area, "mapped", json_object_new_int64(e[i].mapped));
		json_object_array_add(list, area);
	}
	free(e);
	if (json)
		return json_write(stdout, list, JSON_COMPACT) < 0;
	return 0;
}

static int do_create(int argc, char **argv)
{
	unsigned long long size;
	char *end;
	int fd, r;

	if (argc != 3)
		return log_error_errno(-EINVAL, "usage: nvwa pinmem create NAME SIZE"), 2;
	if (parse_size(argv[2], &end, &size) < 0 || *end)
		return log_error_errno(-EINVAL, "invalid size '%s'", argv[2]), 2;
	fd = open_dev();
	if (fd < 0)
		return 1;
	r = pinmem_dev_create(fd, argv[1], size);
	close(fd);
	if (r == -EINVAL)
		return log_error_errno(r, "Cannot create area '%s': names are up to %d characters of [A-Za-z0-9._-], not starting with '.'",
				       argv[1], PINMEM_NAME_MAX - 1), 1;
	if (r == -ENOSPC)
		return log_error_errno(r, "Cannot create area '%s' of %llu bytes: no room left (see `nvwa pinmem status`)",
				       argv[1], size), 1;
	if (r < 0)
		return log_error_errno(r, "Cannot create area '%s': %m", argv[1]), 1;
	log_info("created area %s, %llu bytes", argv[1], size);
	return 0;
}

static int do_rm(int argc, char **argv)
{
	int fd, r, failed = 0;

	if (argc < 2)
		return log_error_errno(-EINVAL, "usage: nvwa pinmem rm NAME..."), 2;
	fd = open_dev();
	if (fd < 0)
		return 1;
	for (int i = 1; i < argc; i++) {
		r = pinmem_dev_remove(fd, argv[i]);
		if (r == -EBUSY)
			log_error("Cannot remove '%s': it is mapped by a process (see `nvwa pinmem ls`), or its file is being read or written", argv[i]);
		else if (r < 0)
			log_error_errno(r, "Cannot remove '%s': %m", argv[i]);
		else
			log_info("removed %s", argv[i]);
		failed |= r < 0;
	}
	close(fd);
	return failed;
}

/* Whether the region holds a pending update's record (an area). */
static bool holds_record(int fd)
{
	struct pinmem_entry *e;
	bool found = false;
	size_t n;

	if (pinmem_dev_list(fd, false, &e, &n) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(e[i].name, PINMEM_RECORD_AREA))
			found = true;
	free(e);
	return found;
}

static int do_format(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "discard", no_argument, NULL, 'd' },
		{ "erase-untrusted", no_argument, NULL, 'u' },
		{ "entries", required_argument, NULL, 'e' },
		{}
	};
	struct pinmem_status st;
	uint64_t entries = 0;
	uint32_t flags = 0;
	int c, fd, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': flags |= PINMEM_FORMAT_DISCARD; break;
		case 'u': flags |= PINMEM_FORMAT_UNTRUSTED; break;
		case 'e':
			if (parse_u64(optarg, &entries) < 0 || entries > UINT32_MAX)
				return log_error_errno(-EINVAL, "invalid --entries %s", optarg), 2;
			break;
		default: return 2;
		}
	}
	fd = open_dev();
	if (fd < 0)
		return 1;
	r = pinmem_dev_format(fd, flags, (uint32_t)entries);
	if (r == -ENOTEMPTY && holds_record(fd))
		log_error("The region holds a pending update's record (%s) and other areas; `nvwa pinmem ls` lists them. Nothing was changed. --discard erases them, and with them the update's way back.",
			  PINMEM_RECORD_AREA);
	else if (r == -ENOTEMPTY)
		log_error("The region holds areas; `nvwa pinmem ls` lists them. Nothing was changed. --discard erases them.");
	else if (r == -EUCLEAN && pinmem_dev_status(fd, &st) == 0)
		log_error("The region failed its checks (%s): it may hold a pending update's record or areas in a form pinmem cannot read. Nothing was changed. --erase-untrusted erases it.",
			  st.reason);
	else if (r == -EBUSY)
		log_error("The region is in use (kernel objects, mapped areas, or an area's file being read or written): nothing was changed");
	else if (r == -EINVAL)
		log_error("The module refused the format (see the kernel log)");
	else if (r < 0)
		log_error_errno(r, "Failed to format pinmem: %m");
	if (r == 0 && pinmem_dev_status(fd, &st) == 0)
		log_info("formatted: generation %" PRIu64 ", %u directory slots, %" PRIu64 " bytes free",
			 (uint64_t)st.generation, st.dir_entries, (uint64_t)st.free_bytes);
	close(fd);
	return r < 0;
}

static int do_mount(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : PINMEM_MOUNT;
	int r = pinmem_fs_mount(dir);

	if (r == -ENODEV)
		return log_error_errno(r, "No pinmem filesystem: load the module (nvwa pinmem load)"), 1;
	if (r < 0)
		return log_error_errno(r, "Failed to mount pinmem on %s: %m", dir), 1;
	log_info("pinmem mounted on %s", dir);
	return 0;
}

/* @v as memparse() reads it back: the largest binary unit dividing it. */
static void memmap_size(unsigned long long v, char *buf, size_t size)
{
	static const char unit[] = "KMGT";
	int u = -1;

	while (u < 3 && v && !(v & 1023)) {
		v >>= 10;
		u++;
	}
	if (u < 0)
		snprintf(buf, size, "%llu", v);
	else
		snprintf(buf, size, "%llu%c", v, unit[u]);
}

/*
 * The one memmap=SIZE$START reservation of the running kernel's command
 * line.  With several, which one is pinmem's is the operator's choice.
 */
static int find_region(struct pmem_reservation *ret, bool quiet_if_none)
{
	struct pmem_reservation res, other;
	char *cmdline;
	int r;

	r = cmdline_read_running(&cmdline);
	if (r < 0)
		return log_error_errno(r, "Failed to read /proc/cmdline: %m");
	r = cmdline_find_memmap(cmdline, '$', 0, &res);
	/* Only "no second one" makes the first unique; a malformed one does not. */
	if (r == 0) {
		r = cmdline_find_memmap(cmdline, '$', 1, &other);
		r = r == -ENOENT ? 0 : r == 0 ? -ENOTUNIQ : r;
	}
	free(cmdline);
	if (r == -ENOENT && quiet_if_none)
		return r;
	if (r == -ENOENT)
		return log_error_errno(r, "The kernel command line reserves no region for pinmem: boot every kernel of the chain with memmap=SIZE$START (e.g. memmap=512M$2G); nothing was loaded");
	if (r == -ENOTUNIQ)
		return log_error_errno(r, "The kernel command line reserves several regions with memmap=SIZE$START: load the module for pinmem's yourself (modprobe pinmem region=SIZE@START); nothing was loaded");
	if (r < 0)
		return log_error_errno(r, "A memmap=SIZE$START on the kernel command line is malformed; nothing was loaded");
	*ret = res;
	return 0;
}

/* What the module made of its region, once loaded. */
static void report_loaded(void)
{
	struct pinmem_status st;
	int fd, r;

	fd = open_dev();
	if (fd < 0)
		return;
	r = pinmem_dev_status(fd, &st);
	close(fd);
	if (r < 0)
		log_error_errno(r, "Failed to read pinmem status: %m");
	else if (st.state == PINMEM_STATE_VALID)
		log_info("region valid, generation %" PRIu64 ", %u areas",
			 (uint64_t)st.generation, st.areas);
	else
		log_warn("region not trusted: %s; its contents were left alone, `nvwa pinmem format` makes it usable (and erases it)",
			 st.reason);
}

static int do_load(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", no_argument, NULL, 'f' },
		{ "module", required_argument, NULL, 'm' },
		{ "if-reserved", no_argument, NULL, 'i' },
		{}
	};
	struct pmem_reservation res = { 0 };
	bool if_reserved = false;
	struct argv args = ARGV_INIT;
	char size[32], start[32], region[80];
	const char *module = NULL;
	bool format = false;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f': format = true; break;
		case 'm': module = optarg; break;
		case 'i': if_reserved = true; break;
		default: return 2;
		}
	}
	if (optind < argc)
		return log_error_errno(-EINVAL, "load: unknown argument %s", argv[optind]), 2;
	if (access(PINMEM_SYSFS, F_OK) == 0) {
		log_info("pinmem is already loaded; nothing done (`nvwa pinmem status` shows its region)");
		return 0;
	}
	r = find_region(&res, if_reserved);
	if (r == -ENOENT && if_reserved)
		return 0;
	if (r < 0)
		return 1;
	memmap_size(res.size, size, sizeof(size));
	memmap_size(res.start, start, sizeof(start));
	snprintf(region, sizeof(region), "region=%s@%s", size, start);
	argv_add(&args, module ? "insmod" : "modprobe", module ? module : "pinmem", region);
	if (format)
		argv_add(&args, "format=1");
	r = argv_error(&args);
	if (r < 0) {
		argv_free(&args);
		return log_error_errno(r, "Out of memory"), 1;
	}
	log_info("loading pinmem for memmap=%s$%s on the kernel command line: %s %s %s%s",
		 size, start, module ? "insmod" : "modprobe", module ? module : "pinmem",
		 region, format ? " format=1" : "");
	r = run(argv_get(&args), NULL);
	argv_free(&args);
	if (r < 0)
		return log_error_errno(r, "Failed to run %s: %m", module ? "insmod" : "modprobe"), 1;
	if (r > 0) {
		char st[64];

		log_error("%s failed (%s): pinmem is not loaded; the module's reason is in the kernel log (dmesg | grep pinmem)",
			  module ? "insmod" : "modprobe", child_status_str(r, st, sizeof(st)));
		return 1;
	}
	report_loaded();
	return 0;
}

static int cmd_pinmem(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} subs[] = {
		{ "load", do_load },
		{ "status", do_status }, { "ls", do_ls },
		{ "create", do_create }, { "rm", do_rm },
		{ "format", do_format }, { "mount", do_mount },
	};

	if (argc < 2) {
		usage_pinmem(stderr);
		return 2;
	}
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].run(argc - 1, argv + 1);
	log_error("unknown pinmem command '%s'; `nvwa pinmem --help` lists them", argv[1]);
	return 2;
}

const struct nvwa_cmd nvwa_cmd_pinmem = {
	.name = "pinmem",
	.summary = "preserved RAM owned by the pinmem module: areas, status",
	.run = cmd_pinmem,
	.usage = usage_pinmem,
};
