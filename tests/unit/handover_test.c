// SPDX-License-Identifier: GPL-2.0
/*
 * The handover record: what is written reads back the same, and anything
 * damaged or malformed is refused with a reason that names the field.
 *
 * Malformed records are made with libfdt from a valid one and then
 * resealed with a correct CRC, so that the parser gets past the CRC and
 * meets the flaw under test rather than refusing the checksum.
 *
 *   handover_test [CASE...]        run the cases (all by default)
 *   handover_test --write-seed DIR write valid records for the fuzzer
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>
#include <zlib.h>

#include "common/handover.h"
#include "tests/unit/unit.h"

#define WHY_MAX 512
/* Room for whatever an edit adds to a record. */
#define EDIT_SLACK (64 * 1024)
/* Bytes of FDT header; damage past it is the CRC's to catch. */
#define HEADER_SIZE sizeof(struct fdt_header)

/* ------------------------------------------------------------------ */
/* Records                                                             */
/* ------------------------------------------------------------------ */

static struct nvwa_handover *new_record(void)
{
	struct nvwa_handover *h = calloc(1, sizeof(*h));

	if (!h)
		abort();
	return h;
}

static void add_phase(struct nvwa_handover *h, const char *name,
		      enum nvwa_domain domain, uint64_t start, uint64_t end)
{
	if (timeline_add(&h->timeline, name, domain, start, end) < 0)
		abort();
}

/* What version 4 added to an application: gone from an older record. */
static void drop_v4(struct nvwa_app *a)
{
	a->pids[0] = a->memory[0] = '\0';
	a->image_bytes = a->kept_pages = a->left_pages = a->shared_pages = 0;
	a->moved_pages = 0;
	a->installed_pages = a->huge_pages = a->copied_pages = 0;
}

/* What version 5 added: which initrd the new kernel booted. */
static void drop_v5(struct nvwa_handover *h)
{
	h->new_kernel.initrd[0] = '\0';
}

/* Every field set, values past 32 bits where a cell pair carries them. */
static struct nvwa_handover *full_record(void)
{
	struct nvwa_handover *h = new_record();
	static const struct nvwa_app apps[] = {
		{ 1234, "redis-server", "apps/1234", "pre-dump+dump",
		  "restored", "", "redis-server.service", "1:4711 2:4711", 3,
		  "10.0.2.15 fd00::1", "10.0.2.15,6379 fd00::1,6379", "reserved",
		  "copied", 300ull << 20, 0, 12, 0, 0, 0, 0, 0 },
		{ 1301, "postgres", "apps/1301", "dump", "failed",
		  "criu restore: File exists (pid 1301 taken)", "", "", 0, "", "",
		  "lastpid", "kept", 40960, (1ull << 33) + 5, 3, (1ull << 33) + 7, 1,
		  (1ull << 33) + 4, 512, 1 },
		{ 2000000000, "testapp", "apps/2000000000", "pre-dump+dump",
		  "dumped", "", "", "", 0, "", "", "", "", 0, 0, 0, 0, 0, 0, 0, 0 },
	};

	h->version = NVWA_HANDOVER_VERSION;
	h->generation = (1ull << 40) | 7;
	strcpy(h->store, "/dev/pmem0");
	strcpy(h->outcome, "restored");
	strcpy(h->old_kernel.release, "6.1.0-56-amd64");
	strcpy(h->old_kernel.cmdline,
	       "BOOT_IMAGE=/vmlinuz-6.1.0-56-amd64 root=/dev/vda1 ro quiet");
	strcpy(h->new_kernel.release, "6.1.0-57-amd64");
	strcpy(h->new_kernel.cmdline,
	       "root=/dev/vda1 ro nvwa.handover=0x7f000000 memmap=4M$0x7f000000");
	strcpy(h->new_kernel.image, "/boot/vmlinuz-6.1.0-57-amd64");
	strcpy(h->new_kernel.loader, "kexec_load elf");
	strcpy(h->new_kernel.initrd, "prepared cpio+zstd: 12.0 MiB -> 36.0 MiB, sha256 verified");
	h->napps = sizeof(apps) / sizeof(apps[0]);
	memcpy(h->apps, apps, sizeof(apps));
	h->timeline.tsc_khz = 2400000;
	add_phase(h, "freeze", NVWA_DOMAIN_OLD, 5000000000ull, 5000400000ull);
	add_phase(h, "kexec", NVWA_DOMAIN_OLD, 5100000000ull, 5100000000ull);
	add_phase(h, "kernel-init", NVWA_DOMAIN_BOOT, 5200000000ull,
		  5900000000ull);
	add_phase(h, "restore", NVWA_DOMAIN_NEW, 6000000000ull,
		  6300000000ull);
	strcpy(h->probes, "fentry/fexit");
	handover_add_item(h, "device", "0000:00:03.0", "virtio-pci",
			  5100100000ull, 5100200000ull);
	handover_add_item(h, "initcall", "pci_init", "", 5300000000ull,
			  5300000000ull);
	return h;
}

static void fill_str(char *dst, size_t size, char base)
{
	size_t i;

	/* Varied, so a shifted or truncated copy does not compare equal. */
	for (i = 0; i < size - 1; i++)
		dst[i] = base + i % 23;
	dst[size - 1] = '\0';
}

#define FILL_MAX(field, base) fill_str(field, sizeof(field), base)

/* Every string at its longest, every array full, every number at its top. */
static struct nvwa_handover *max_record(void)
{
	struct nvwa_handover *h = new_record();
	struct nvwa_app *app;
	uint32_t i;

	h->version = NVWA_HANDOVER_VERSION;
	h->generation = UINT64_MAX;
	FILL_MAX(h->store, 'a');
	strcpy(h->outcome, "pending");
	FILL_MAX(h->old_kernel.release, 'b');
	FILL_MAX(h->old_kernel.cmdline, 'c');
	FILL_MAX(h->new_kernel.release, 'd');
	FILL_MAX(h->new_kernel.cmdline, 'e');
	FILL_MAX(h->new_kernel.image, 'f');
	FILL_MAX(h->new_kernel.loader, 'g');
	FILL_MAX(h->new_kernel.initrd, 'h');
	h->napps = NVWA_MAX_APPS;
	for (i = 0; i < NVWA_MAX_APPS; i++) {
		app = &h->apps[i];
		app->pid = INT32_MAX - (int32_t)i;
		FILL_MAX(app->comm, 'A' + i % 20);
		FILL_MAX(app->images, 'B' + i % 20);
		FILL_MAX(app->dump_mode, 'C' + i % 20);
		FILL_MAX(app->state, 'D' + i % 20);
		FILL_MAX(app->error, 'E' + i % 20);
		FILL_MAX(app->unit, 'F' + i % 20);
		FILL_MAX(app->stdio, 'G' + i % 20);
		app->tcp = UINT32_MAX - i;
		FILL_MAX(app->addresses, 'H' + i % 20);
		FILL_MAX(app->endpoints, 'I' + i % 20);
		FILL_MAX(app->pids, 'J' + i % 20);
		FILL_MAX(app->memory, 'K' + i % 20);
		app->image_bytes = app->kept_pages = app->left_pages = UINT64_MAX;
		app->shared_pages = UINT64_MAX - 2;
		app->moved_pages = app->installed_pages = app->copied_pages = UINT64_MAX - 1;
		app->huge_pages = UINT64_MAX - 1;
	}
	h->timeline.tsc_khz = UINT64_MAX;
	h->timeline.nphases = NVWA_MAX_PHASES;
	for (i = 0; i < NVWA_MAX_PHASES; i++) {
		FILL_MAX(h->timeline.phases[i].name, 'a' + i % 26);
		h->timeline.phases[i].domain = i % NVWA_DOMAIN_MAX;
		h->timeline.phases[i].start = UINT64_MAX - 2 * i;
		h->timeline.phases[i].end = UINT64_MAX - i;
	}
	FILL_MAX(h->probes, 'p');
	h->nitems = NVWA_MAX_ITEMS;
	for (i = 0; i < NVWA_MAX_ITEMS; i++) {
		FILL_MAX(h->items[i].kind, 'k' + i % 10);
		FILL_MAX(h->items[i].name, 'a' + i % 26);
		FILL_MAX(h->items[i].detail, 'A' + i % 26);
		h->items[i].start = UINT64_MAX - 2 * i;
		h->items[i].end = UINT64_MAX - i;
	}
	return h;
}

/* A record with nothing to carry: no apps, no phases. */
static struct nvwa_handover *empty_record(void)
{
	struct nvwa_handover *h = new_record();

	h->version = NVWA_HANDOVER_VERSION;
	h->generation = 1;
	strcpy(h->outcome, "pending");
	h->timeline.tsc_khz = 1;
	return h;
}

static void expect_same(const struct nvwa_handover *got,
			const struct nvwa_handover *want)
{
	const struct nvwa_kernel *gk[] = { &got->old_kernel,
					   &got->new_kernel };
	const struct nvwa_kernel *wk[] = { &want->old_kernel,
					   &want->new_kernel };
	const struct nvwa_phase *gp, *wp;
	const struct nvwa_item *gi, *wi;
	const struct nvwa_app *ga, *wa;
	uint32_t i;

	CHECK_EQ_INT(got->version, want->version);
	CHECK(got->generation == want->generation);
	CHECK_STREQ(got->store, want->store);
	CHECK_STREQ(got->outcome, want->outcome);
	for (i = 0; i < 2; i++) {
		CHECKF(!strcmp(gk[i]->release, wk[i]->release), "kernel %u", i);
		CHECKF(!strcmp(gk[i]->cmdline, wk[i]->cmdline), "kernel %u", i);
		CHECKF(!strcmp(gk[i]->image, wk[i]->image), "kernel %u", i);
		CHECKF(!strcmp(gk[i]->loader, wk[i]->loader), "kernel %u", i);
		CHECKF(!strcmp(gk[i]->initrd, wk[i]->initrd), "kernel %u", i);
	}
	CHECK(got->timeline.tsc_khz == want->timeline.tsc_khz);
	if (!CHECK_EQ_INT(got->napps, want->napps) ||
	    !CHECK_EQ_INT(got->timeline.nphases, want->timeline.nphases))
		return;
	for (i = 0; i < want->napps; i++) {
		ga = &got->apps[i];
		wa = &want->apps[i];
		CHECKF(ga->pid == wa->pid, "app %u: pid %d, expected %d", i,
		       ga->pid, wa->pid);
		CHECKF(!strcmp(ga->comm, wa->comm), "app %u", i);
		CHECKF(!strcmp(ga->images, wa->images), "app %u", i);
		CHECKF(!strcmp(ga->dump_mode, wa->dump_mode), "app %u", i);
		CHECKF(!strcmp(ga->state, wa->state), "app %u", i);
		CHECKF(!strcmp(ga->error, wa->error), "app %u", i);
		CHECKF(!strcmp(ga->unit, wa->unit), "app %u", i);
		CHECKF(!strcmp(ga->stdio, wa->stdio), "app %u", i);
		CHECKF(ga->tcp == wa->tcp, "app %u", i);
		CHECKF(!strcmp(ga->addresses, wa->addresses), "app %u", i);
		CHECKF(!strcmp(ga->endpoints, wa->endpoints), "app %u", i);
		CHECKF(!strcmp(ga->pids, wa->pids), "app %u", i);
		CHECKF(!strcmp(ga->memory, wa->memory), "app %u", i);
		CHECKF(ga->image_bytes == wa->image_bytes && ga->kept_pages == wa->kept_pages &&
		       ga->left_pages == wa->left_pages && ga->shared_pages == wa->shared_pages &&
		       ga->moved_pages == wa->moved_pages &&
		       ga->installed_pages == wa->installed_pages &&
		       ga->huge_pages == wa->huge_pages &&
		       ga->copied_pages == wa->copied_pages, "app %u", i);
	}
	for (i = 0; i < want->timeline.nphases; i++) {
		gp = &got->timeline.phases[i];
		wp = &want->timeline.phases[i];
		CHECKF(!strcmp(gp->name, wp->name), "phase %u", i);
		CHECKF(gp->domain == wp->domain, "phase %u", i);
		CHECKF(gp->start == wp->start, "phase %u", i);
		CHECKF(gp->end == wp->end, "phase %u", i);
	}
	CHECK_STREQ(got->probes, want->probes);
	if (!CHECK_EQ_INT(got->nitems, want->nitems))
		return;
	for (i = 0; i < want->nitems; i++) {
		gi = &got->items[i];
		wi = &want->items[i];
		CHECKF(!strcmp(gi->kind, wi->kind), "item %u", i);
		CHECKF(!strcmp(gi->name, wi->name), "item %u", i);
		CHECKF(!strcmp(gi->detail, wi->detail), "item %u", i);
		CHECKF(gi->start == wi->start && gi->end == wi->end, "item %u", i);
	}
}

/* ------------------------------------------------------------------ */
/* Blobs                                                               */
/* ------------------------------------------------------------------ */

static void *build(const struct nvwa_handover *h, size_t *size)
{
	void *blob = NULL;
	int r;

	r = handover_build(h, &blob, size);
	if (!CHECKF(r == 0, "handover_build: %s", strerror(-r)))
		return NULL;
	return blob;
}

/* Parses @blob, which must check out, and compares it with @want. */
static void expect_parses_as(const void *blob, size_t size,
			     unsigned int flags,
			     const struct nvwa_handover *want)
{
	struct nvwa_handover *got = new_record();
	char why[WHY_MAX];
	int r;

	r = handover_parse(blob, size, flags, got, why, sizeof(why));
	if (CHECKF(r == 0, "handover_parse: %d: %s", r, why)) {
		CHECK_STREQ(why, "");
		expect_same(got, want);
	}
	free(got);
}

/*
 * Parses @blob, which must be refused with @err and a reason containing
 * @needle, and leave the output alone.
 */
static void expect_refused_at(const char *file, int line, const void *blob,
			      size_t size, unsigned int flags, int err,
			      const char *needle)
{
	struct nvwa_handover *got = new_record(), *orig = new_record();
	char why[WHY_MAX];
	int r;

	memset(got, 0xa5, sizeof(*got));
	memcpy(orig, got, sizeof(*got));
	r = handover_parse(blob, size, flags, got, why, sizeof(why));
	unit_check(r == err, file, line,
		   "handover_parse returned %d, expected %d (reason: \"%s\")",
		   r, err, why);
	unit_check(strstr(why, needle) != NULL, file, line,
		   "reason \"%s\" does not say \"%s\"", why, needle);
	unit_check(!memcmp(got, orig, sizeof(*got)), file, line,
		   "the output was written to although the record was refused");
	free(orig);
	free(got);
}

#define EXPECT_REFUSED(blob, size, flags, err, needle) \
	expect_refused_at(__FILE__, __LINE__, blob, size, flags, err, needle)

/* What the builder does, done again here: a CRC that matches the edit. */
static void reseal(void *fdt)
{
	const void *p;
	int len;

	/* A test that removed or resized the property wants it left so. */
	p = fdt_getprop(fdt, 0, "crc32", &len);
	if (!p || len != sizeof(fdt32_t))
		return;
	fdt_setprop_inplace_u32(fdt, 0, "crc32", 0);
	fdt_setprop_inplace_u32(fdt, 0, "crc32",
				crc32(0, fdt, fdt_totalsize(fdt)));
}

/* A record from @h, opened with room for libfdt to edit it. */
static void *edit_begin(const struct nvwa_handover *h)
{
	size_t size, cap;
	void *blob, *fdt;
	int r;

	blob = build(h, &size);
	if (!blob)
		abort();
	cap = size + EDIT_SLACK;
	fdt = malloc(cap);
	if (!fdt)
		abort();
	r = fdt_open_into(blob, fdt, cap);
	if (r < 0) {
		fprintf(stderr, "fdt_open_into: %s\n", fdt_strerror(r));
		abort();
	}
	free(blob);
	return fdt;
}

/* Packs and reseals the edited record; returns its size. */
static size_t edit_end(void *fdt)
{
	int r;

	r = fdt_pack(fdt);
	CHECKF(r == 0, "fdt_pack: %s", fdt_strerror(r));
	reseal(fdt);
	return fdt_totalsize(fdt);
}

static int node(void *fdt, const char *path)
{
	int off = fdt_path_offset(fdt, path);

	if (off < 0) {
		fprintf(stderr, "test bug: no node %s: %s\n", path,
			fdt_strerror(off));
		abort();
	}
	return off;
}

/* Every edit below must succeed for the test to mean anything. */
static void edited(int r, const char *what, const char *path)
{
	if (r < 0) {
		fprintf(stderr, "test bug: %s %s: %s\n", what, path,
			fdt_strerror(r));
		abort();
	}
}

static void set_raw(void *fdt, const char *path, const char *name,
		    const void *val, int len)
{
	edited(fdt_setprop(fdt, node(fdt, path), name, val, len), name, path);
}

static void set_u32(void *fdt, const char *path, const char *name,
		    uint32_t val)
{
	edited(fdt_setprop_u32(fdt, node(fdt, path), name, val), name, path);
}

static void set_u64(void *fdt, const char *path, const char *name,
		    uint64_t val)
{
	edited(fdt_setprop_u64(fdt, node(fdt, path), name, val), name, path);
}

static void set_str(void *fdt, const char *path, const char *name,
		    const char *val)
{
	edited(fdt_setprop_string(fdt, node(fdt, path), name, val), name,
	       path);
}

static void del_prop(void *fdt, const char *path, const char *name)
{
	edited(fdt_delprop(fdt, node(fdt, path), name), name, path);
}

static void rename_node(void *fdt, const char *path, const char *name)
{
	edited(fdt_set_name(fdt, node(fdt, path), name), "rename", path);
}

/* ------------------------------------------------------------------ */
/* Round trips                                                         */
/* ------------------------------------------------------------------ */

static void round_trip(const struct nvwa_handover *h)
{
	size_t size;
	void *blob;

	blob = build(h, &size);
	if (!blob)
		return;
	CHECKF(size <= NVWA_HANDOVER_MAX_SIZE, "%zu bytes", size);
	expect_parses_as(blob, size, 0, h);
	expect_parses_as(blob, size, HANDOVER_PARSE_IGNORE_CRC, h);
	free(blob);
}

TEST(full_record_round_trips)
{
	struct nvwa_handover *h = full_record();

	round_trip(h);
	free(h);
}

TEST(largest_record_round_trips)
{
	struct nvwa_handover *h = max_record();

	round_trip(h);
	free(h);
}

TEST(empty_record_round_trips)
{
	struct nvwa_handover *h = empty_record();

	round_trip(h);
	free(h);
}

TEST(build_is_deterministic)
{
	struct nvwa_handover *h = full_record(), *back = new_record();
	size_t size1, size2, size3;
	void *b1, *b2, *b3 = NULL;
	char why[WHY_MAX];

	b1 = build(h, &size1);
	b2 = build(h, &size2);
	if (!b1 || !b2)
		goto out;
	CHECK(size1 == size2 && !memcmp(b1, b2, size1));
	/* Reading a record and writing it back changes nothing. */
	if (!CHECKF(handover_parse(b1, size1, 0, back, why, sizeof(why)) == 0,
		    "%s", why))
		goto out;
	b3 = build(back, &size3);
	CHECK(b3 && size1 == size3 && !memcmp(b1, b3, size1));
out:
	free(b1);
	free(b2);
	free(b3);
	free(back);
	free(h);
}

/* The layout is a contract with dtc and with other readers. */
TEST(layout_is_as_documented)
{
	struct nvwa_handover *h = full_record();
	const fdt32_t *cells;
	const char *name = NULL;
	void *blob, *copy;
	char want[16];
	size_t size;
	int off, len, i;

	blob = build(h, &size);
	if (!blob)
		goto out;
	CHECK_EQ_INT(fdt_check_full(blob, size), 0);
	/* In the documented order, for whoever reads it with dtc. */
	fdt_getprop_by_offset(blob, fdt_first_property_offset(blob, 0), &name,
			      NULL);
	CHECK_STREQ(name, "compatible");
	CHECK_STREQ(fdt_get_name(blob, fdt_first_subnode(blob, 0), NULL),
		    "old-kernel");
	CHECK_STREQ(fdt_getprop(blob, 0, "compatible", NULL), "nvwa,handover");
	cells = fdt_getprop(blob, 0, "version", &len);
	CHECK(cells && len == 4 && fdt32_ld(cells) == NVWA_HANDOVER_VERSION);
	/* u64 as two big-endian cells, high first. */
	cells = fdt_getprop(blob, 0, "generation", &len);
	CHECK(cells && len == 8 && fdt32_ld(&cells[0]) == 1u << 8 &&
	      fdt32_ld(&cells[1]) == 7);
	CHECK_STREQ(fdt_getprop(blob, fdt_path_offset(blob, "/new-kernel"),
				"image", NULL),
		    "/boot/vmlinuz-6.1.0-57-amd64");
	CHECK(fdt_getprop(blob, fdt_path_offset(blob, "/old-kernel"), "image",
			  NULL) == NULL);
	CHECK_STREQ(fdt_getprop(blob, fdt_path_offset(blob, "/new-kernel"),
				"loader", NULL), "kexec_load elf");
	CHECK(fdt_getprop(blob, fdt_path_offset(blob, "/old-kernel"), "loader",
			  NULL) == NULL);

	i = 0;
	fdt_for_each_subnode(off, blob, fdt_path_offset(blob, "/apps")) {
		snprintf(want, sizeof(want), "app@%x", i++);
		name = fdt_get_name(blob, off, NULL);
		CHECK_STREQ(name, want);
	}
	CHECK_EQ_INT(i, 3);
	off = fdt_path_offset(blob, "/timeline/phase@3");
	CHECK_STREQ(fdt_getprop(blob, off, "label", NULL), "restore");
	/* The CRC is over the blob as stored: resealing changes nothing. */
	copy = malloc(size);
	memcpy(copy, blob, size);
	reseal(copy);
	CHECK(!memcmp(copy, blob, size));
	free(copy);
out:
	free(blob);
	free(h);
}

/* Reports written by the first nvwa stay readable: no probes, no items. */
TEST(version_1_records_are_read)
{
	struct nvwa_handover *h = full_record(), *got = new_record();
	char why[256];
	size_t size;
	void *blob;

	h->version = 1;
	CHECK_EQ_INT(handover_build(h, &blob, &size), -EINVAL);
	drop_v5(h);
	h->probes[0] = '\0';
	h->nitems = 0;
	CHECK_EQ_INT(handover_build(h, &blob, &size), -EINVAL);
	for (uint32_t i = 0; i < h->napps; i++) {
		drop_v4(&h->apps[i]);
		h->apps[i].unit[0] = h->apps[i].stdio[0] = '\0';
		h->apps[i].addresses[0] = h->apps[i].endpoints[0] = '\0';
		h->apps[i].tcp = 0;
	}
	blob = build(h, &size);
	if (blob) {
		CHECK(fdt_path_offset(blob, "/items") == -FDT_ERR_NOTFOUND);
		CHECK_EQ_INT(handover_parse(blob, size, 0, got, why, sizeof(why)), 0);
		expect_same(got, h);
	}
	free(blob);
	free(got);
	free(h);
}

TEST(version_2_records_are_read_without_units)
{
	struct nvwa_handover *h = full_record(), *got = new_record();
	char why[256];
	size_t size;
	void *blob;

	h->version = 2;
	CHECK_EQ_INT(handover_build(h, &blob, &size), -EINVAL);
	drop_v5(h);
	for (uint32_t i = 0; i < h->napps; i++) {
		drop_v4(&h->apps[i]);
		h->apps[i].unit[0] = h->apps[i].stdio[0] = '\0';
		h->apps[i].addresses[0] = h->apps[i].endpoints[0] = '\0';
		h->apps[i].tcp = 0;
	}
	blob = build(h, &size);
	if (blob) {
		CHECK(fdt_path_offset(blob, "/apps/app@0") >= 0);
		CHECK(!fdt_getprop(blob, fdt_path_offset(blob, "/apps/app@0"), "unit", NULL));
		CHECK_EQ_INT(handover_parse(blob, size, 0, got, why, sizeof(why)), 0);
		expect_same(got, h);
	}
	free(blob);
	free(got);
	free(h);
}

TEST(version_3_records_are_read_without_pids)
{
	struct nvwa_handover *h = full_record(), *got = new_record();
	char why[256];
	size_t size;
	void *blob;

	h->version = 3;
	CHECK_EQ_INT(handover_build(h, &blob, &size), -EINVAL);
	drop_v5(h);
	for (uint32_t i = 0; i < h->napps; i++)
		drop_v4(&h->apps[i]);
	blob = build(h, &size);
	if (blob) {
		CHECK(fdt_getprop(blob, fdt_path_offset(blob, "/apps/app@0"), "unit", NULL));
		CHECK(fdt_getprop(blob, fdt_path_offset(blob, "/apps/app@0"), "tcp-endpoints", NULL));
		CHECK(!fdt_getprop(blob, fdt_path_offset(blob, "/apps/app@0"), "pids", NULL));
		CHECK_EQ_INT(handover_parse(blob, size, 0, got, why, sizeof(why)), 0);
		expect_same(got, h);
	}
	free(blob);
	free(got);
	free(h);
}

TEST(version_4_records_are_read_without_initrd)
{
	struct nvwa_handover *h = full_record(), *got = new_record();
	char why[256];
	size_t size;
	void *blob;

	h->version = 4;
	CHECK_EQ_INT(handover_build(h, &blob, &size), -EINVAL);
	drop_v5(h);
	blob = build(h, &size);
	if (blob) {
		CHECK(!fdt_getprop(blob, fdt_path_offset(blob, "/new-kernel"), "initrd", NULL));
		CHECK(fdt_getprop(blob, fdt_path_offset(blob, "/apps/app@0"), "pids", NULL));
		CHECK_EQ_INT(handover_parse(blob, size, 0, got, why, sizeof(why)), 0);
		expect_same(got, h);
	}
	free(blob);
	free(got);
	free(h);
}

TEST(items_breaking_a_rule_are_refused)
{
	struct nvwa_handover *h = full_record();
	void *blob;
	size_t size;

	CHECK_EQ_INT(handover_add_item(h, "device", "x", "", 2, 1), -EINVAL);
	CHECK_EQ_INT(handover_add_item(h, "", "x", "", 1, 2), -EINVAL);
	h->items[1].end = h->items[1].start - 1;
	CHECK_EQ_INT(handover_build(h, &blob, &size), -EINVAL);
	h->items[1].end = h->items[1].start;
	h->items[0].name[0] = '\0';
	CHECK_EQ_INT(handover_build(h, &blob, &size), -EINVAL);
	h->nitems = NVWA_MAX_ITEMS;
	for (uint32_t i = 2; i < NVWA_MAX_ITEMS; i++)
		h->items[i] = h->items[1];
	strcpy(h->items[0].name, "n");
	CHECK_EQ_INT(handover_add_item(h, "device", "x", "", 1, 2), -ENOSPC);
	free(h);
}

TEST(extra_properties_and_nodes_are_ignored)
{
	struct nvwa_handover *h = full_record();
	void *fdt = edit_begin(h);
	size_t size;

	/* A later minor revision may add to version 1; this one reads on. */
	set_str(fdt, "/", "x-added-later", "something");
	set_u32(fdt, "/apps/app@1", "x-cgroup", 7);
	set_u64(fdt, "/timeline/phase@0", "x-cpu", 3);
	edited(fdt_add_subnode(fdt, 0, "x-future"), "add", "/x-future");
	size = edit_end(fdt);
	expect_parses_as(fdt, size, 0, h);
	free(fdt);
	free(h);
}

TEST(trailing_bytes_and_unaligned_input_are_accepted)
{
	struct nvwa_handover *h = full_record();
	size_t size;
	char *blob, *buf;

	blob = build(h, &size);
	if (!blob)
		goto out;
	/* A record read from a fixed-size region comes with its slack. */
	buf = calloc(1, size + 4097);
	memcpy(buf, blob, size);
	expect_parses_as(buf, size + 4096, 0, h);
	memcpy(buf + 1, blob, size);
	expect_parses_as(buf + 1, size, 0, h);
	free(buf);

	buf = calloc(1, NVWA_HANDOVER_MAX_SIZE);
	memcpy(buf, blob, size);
	expect_parses_as(buf, NVWA_HANDOVER_MAX_SIZE, 0, h);
	free(buf);
out:
	free(blob);
	free(h);
}

/* ------------------------------------------------------------------ */
/* Damage                                                              */
/* ------------------------------------------------------------------ */

TEST(wrong_magic_is_refused)
{
	struct nvwa_handover *h = full_record();
	unsigned char *blob;
	size_t size;

	blob = build(h, &size);
	if (!blob)
		goto out;
	blob[0] ^= 0xff;
	EXPECT_REFUSED(blob, size, 0, -EBADMSG, "bad FDT header");
	EXPECT_REFUSED(blob, size, HANDOVER_PARSE_IGNORE_CRC, -EBADMSG,
		       "bad FDT header");
	memset(blob, 0, size);
	EXPECT_REFUSED(blob, size, 0, -EBADMSG, "bad FDT header");
out:
	free(blob);
	free(h);
}

TEST(misaligned_blocks_are_refused)
{
	struct nvwa_handover *h = full_record();
	size_t size;
	void *blob;

	blob = build(h, &size);
	if (!blob)
		goto out;
	fdt_set_off_dt_struct(blob, fdt_off_dt_struct(blob) + 2);
	EXPECT_REFUSED(blob, size, HANDOVER_PARSE_IGNORE_CRC, -EBADMSG,
		       "bad FDT header: misaligned");
	fdt_set_off_dt_struct(blob, fdt_off_dt_struct(blob) - 2);
	fdt_set_off_mem_rsvmap(blob, fdt_off_mem_rsvmap(blob) + 4);
	EXPECT_REFUSED(blob, size, HANDOVER_PARSE_IGNORE_CRC, -EBADMSG,
		       "bad FDT header: misaligned");
out:
	free(blob);
	free(h);
}

TEST(old_fdt_formats_are_refused)
{
	static const uint32_t versions[] = { 2, 9, 16 };
	struct nvwa_handover *h = full_record();
	char want[64];
	size_t size, i;
	void *blob;

	blob = build(h, &size);
	if (!blob)
		goto out;
	/* libfdt 1.6 crashed in fdt_check_full() on version 9 (fuzzer). */
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		fdt_set_version(blob, versions[i]);
		fdt_set_last_comp_version(blob, 2);
		reseal(blob);
		snprintf(want, sizeof(want), "format version %u", versions[i]);
		EXPECT_REFUSED(blob, size, 0, -EBADMSG, want);
		EXPECT_REFUSED(blob, size, HANDOVER_PARSE_IGNORE_CRC, -EBADMSG,
			       want);
	}
out:
	free(blob);
	free(h);
}

TEST(every_truncation_is_refused)
{
	struct nvwa_handover *h = full_record();
	unsigned char *blob, *cut;
	size_t size, n;

	blob = build(h, &size);
	if (!blob)
		goto out;
	for (n = 0; n < size; n++) {
		/* Exactly n bytes, so ASan sees any read past them. */
		cut = malloc(n ? n : 1);
		memcpy(cut, blob, n);
		EXPECT_REFUSED(cut, n, 0, -EBADMSG,
			       n < HEADER_SIZE ? "too small" : "truncated");
		EXPECT_REFUSED(cut, n, HANDOVER_PARSE_IGNORE_CRC, -EBADMSG,
			       n < HEADER_SIZE ? "too small" : "truncated");
		free(cut);
	}
	EXPECT_REFUSED(NULL, 0, 0, -EBADMSG, "too small");
out:
	free(blob);
	free(h);
}

TEST(totalsize_beyond_buffer_is_refused)
{
	struct nvwa_handover *h = full_record();
	size_t size;
	void *blob;

	blob = build(h, &size);
	if (!blob)
		goto out;
	fdt_set_totalsize(blob, size + 4);
	EXPECT_REFUSED(blob, size, 0, -EBADMSG, "truncated: FDT header says");
	EXPECT_REFUSED(blob, size, HANDOVER_PARSE_IGNORE_CRC, -EBADMSG,
		       "truncated: FDT header says");
	fdt_set_totalsize(blob, UINT32_MAX);
	EXPECT_REFUSED(blob, size, HANDOVER_PARSE_IGNORE_CRC, -EBADMSG,
		       "FDT");
out:
	free(blob);
	free(h);
}

TEST(oversize_is_refused)
{
	struct nvwa_handover *h = full_record();
	size_t size;
	char *blob, *big;

	blob = build(h, &size);
	if (!blob)
		goto out;
	/* Valid record, but more bytes than any record may take. */
	big = calloc(1, NVWA_HANDOVER_MAX_SIZE + 1);
	memcpy(big, blob, size);
	EXPECT_REFUSED(big, NVWA_HANDOVER_MAX_SIZE + 1, 0, -EBADMSG,
		       "record too large");
	EXPECT_REFUSED(big, NVWA_HANDOVER_MAX_SIZE + 1,
		       HANDOVER_PARSE_IGNORE_CRC, -EBADMSG, "record too large");
	EXPECT_REFUSED(big, SIZE_MAX, 0, -EBADMSG, "record too large");
	free(big);
out:
	free(blob);
	free(h);
}

static void flip_every_byte(const struct nvwa_handover *h, size_t stride)
{
	static const unsigned char patterns[] = { 0x01, 0x80, 0xff };
	struct nvwa_handover *got = new_record();
	char why[WHY_MAX];
	unsigned char *blob;
	size_t size, off, k;
	int r;

	blob = build(h, &size);
	if (!blob)
		goto out;
	for (off = 0; off < size; off += stride) {
		for (k = 0; k < sizeof(patterns); k++) {
			blob[off] ^= patterns[k];
			/* Past the header, every flip is the CRC's to catch. */
			EXPECT_REFUSED(blob, size, 0, -EBADMSG,
				       off < HEADER_SIZE ? "" : "crc32");
			/* Without it, anything goes but a crash. */
			r = handover_parse(blob, size,
					   HANDOVER_PARSE_IGNORE_CRC, got, why,
					   sizeof(why));
			CHECKF(r == 0 || r == -EBADMSG ||
			       r == -EPROTONOSUPPORT, "offset %zu: %d", off, r);
			CHECKF(r == 0 || why[0], "offset %zu: no reason", off);
			blob[off] ^= patterns[k];
		}
	}
	/* Undone, it is the record it was. */
	expect_parses_as(blob, size, 0, h);
out:
	free(blob);
	free(got);
}

TEST(flipped_byte_anywhere_is_refused)
{
	struct nvwa_handover *h = full_record();

	flip_every_byte(h, 1);
	free(h);
	h = max_record();
	flip_every_byte(h, 61);
	free(h);
}

TEST(crc_mismatch_names_both_values)
{
	struct nvwa_handover *h = full_record();
	void *fdt = edit_begin(h);
	size_t size = edit_end(fdt);
	char want[64];

	fdt_setprop_inplace_u32(fdt, 0, "crc32", 0xdeadbeef);
	fdt_setprop_inplace_u32(fdt, 0, "crc32", 0);
	snprintf(want, sizeof(want), "crc32 mismatch: stored 0xdeadbeef, "
		 "computed 0x%08lx", crc32(0, fdt, size));
	fdt_setprop_inplace_u32(fdt, 0, "crc32", 0xdeadbeef);
	EXPECT_REFUSED(fdt, size, 0, -EBADMSG, want);
	/* The operator's override reads it anyway. */
	expect_parses_as(fdt, size, HANDOVER_PARSE_IGNORE_CRC, h);
	free(fdt);
	free(h);
}

TEST(ignored_crc_still_enforces_the_rules)
{
	struct nvwa_handover *h = full_record();
	void *fdt = edit_begin(h);
	size_t size;

	set_u32(fdt, "/apps/app@1", "pid", 0);
	size = edit_end(fdt);
	fdt_setprop_inplace_u32(fdt, 0, "crc32", 0xdeadbeef);
	EXPECT_REFUSED(fdt, size, 0, -EBADMSG, "crc32 mismatch");
	EXPECT_REFUSED(fdt, size, HANDOVER_PARSE_IGNORE_CRC, -EBADMSG,
		       "apps/app@1: property 'pid' must be > 0");
	free(fdt);

	/* The property itself is still required. */
	fdt = edit_begin(h);
	del_prop(fdt, "/", "crc32");
	size = edit_end(fdt);
	EXPECT_REFUSED(fdt, size, HANDOVER_PARSE_IGNORE_CRC, -EBADMSG,
		       "property 'crc32' missing");
	free(fdt);
	free(h);
}

/* ------------------------------------------------------------------ */
/* Malformed properties, one table for all of them                     */
/* ------------------------------------------------------------------ */

enum kind { U32, U64, STR };

struct prop {
	const char *node;	/* as fdt_path_offset() wants it */
	const char *name;
	enum kind kind;
	size_t field;		/* STR: the bytes its field holds */
};

static const struct prop props[] = {
	{ "/", "version", U32, 0 },
	{ "/", "generation", U64, 0 },
	{ "/", "crc32", U32, 0 },
	{ "/", "tsc-khz", U64, 0 },
	{ "/", "store", STR, NVWA_PATH_MAX },
	{ "/", "outcome", STR, NVWA_WORD_MAX },
	{ "/old-kernel", "release", STR, NVWA_RELEASE_MAX },
	{ "/old-kernel", "cmdline", STR, NVWA_CMDLINE_MAX },
	{ "/new-kernel", "release", STR, NVWA_RELEASE_MAX },
	{ "/new-kernel", "cmdline", STR, NVWA_CMDLINE_MAX },
	{ "/new-kernel", "image", STR, NVWA_PATH_MAX },
	{ "/new-kernel", "loader", STR, NVWA_LOADER_MAX },
	{ "/new-kernel", "initrd", STR, NVWA_LOADER_MAX },
	{ "/apps/app@1", "pid", U32, 0 },
	{ "/apps/app@1", "comm", STR, NVWA_COMM_MAX },
	{ "/apps/app@1", "images", STR, NVWA_PATH_MAX },
	{ "/apps/app@1", "dump-mode", STR, NVWA_WORD_MAX },
	{ "/apps/app@1", "state", STR, NVWA_WORD_MAX },
	{ "/apps/app@1", "error", STR, NVWA_ERROR_MAX },
	{ "/apps/app@1", "pids", STR, NVWA_WORD_MAX },
	{ "/timeline/phase@2", "label", STR, NVWA_PHASE_NAME_MAX },
	{ "/timeline/phase@2", "domain", U32, 0 },
	{ "/timeline/phase@2", "start", U64, 0 },
	{ "/timeline/phase@2", "end", U64, 0 },
};

#define for_each_prop(p) \
	for (p = props; p < props + sizeof(props) / sizeof(props[0]); p++)

/* "apps/app@1: property 'pid' WHAT", or "property 'pid' WHAT" at /. */
static const char *reason(const struct prop *p, const char *what)
{
	static char buf[256];
	const char *path = p->node + 1;

	snprintf(buf, sizeof(buf), "%s%sproperty '%s' %s", path,
		 *path ? ": " : "", p->name, what);
	return buf;
}

TEST(missing_property_is_refused)
{
	struct nvwa_handover *h = full_record();
	const struct prop *p;
	size_t size;
	void *fdt;

	for_each_prop(p) {
		fdt = edit_begin(h);
		del_prop(fdt, p->node, p->name);
		size = edit_end(fdt);
		EXPECT_REFUSED(fdt, size, 0, -EBADMSG, reason(p, "missing"));
		free(fdt);
	}
	fdt = edit_begin(h);
	del_prop(fdt, "/", "compatible");
	size = edit_end(fdt);
	EXPECT_REFUSED(fdt, size, 0, -EBADMSG, "property 'compatible' missing");
	free(fdt);
	free(h);
}

TEST(missing_node_is_refused)
{
	static const char *const nodes[] = {
		"old-kernel", "new-kernel", "apps", "timeline",
	};
	struct nvwa_handover *h = full_record();
	char path[32], want[64];
	size_t size, i;
	void *fdt;

	for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		fdt = edit_begin(h);
		snprintf(path, sizeof(path), "/%s", nodes[i]);
		edited(fdt_del_node(fdt, node(fdt, path)), "delete", path);
		size = edit_end(fdt);
		snprintf(want, sizeof(want), "node '%s' missing", nodes[i]);
		EXPECT_REFUSED(fdt, size, 0, -EBADMSG, want);
		free(fdt);
	}
	free(h);
}

TEST(integer_of_wrong_length_is_refused)
{
	static const int lengths[] = { 0, 1, 3, 4, 8, 12 };
	static const unsigned char zeros[16];
	struct nvwa_handover *h = full_record();
	const struct prop *p;
	char what[64];
	size_t size, i;
	void *fdt;
	int want;

	for_each_prop(p) {
		if (p->kind == STR)
			continue;
		want = p->kind == U32 ? 4 : 8;
		for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
			if (lengths[i] == want)
				continue;
			fdt = edit_begin(h);
			set_raw(fdt, p->node, p->name, zeros, lengths[i]);
			size = edit_end(fdt);
			snprintf(what, sizeof(what),
				 "is %d bytes long, expected %d", lengths[i],
				 want);
			EXPECT_REFUSED(fdt, size, 0, -EBADMSG, reason(p, what));
			free(fdt);
		}
	}
	free(h);
}

TEST(unterminated_string_is_refused)
{
	static const struct {
		const char *val;
		int len;
	} bad[] = {
		{ "", 0 },		/* empty, not even the NUL */
		{ "abc", 3 },		/* no NUL */
		{ "ab\0cd", 6 },	/* two strings */
		{ "\0\0", 2 },
	};
	struct nvwa_handover *h = full_record();
	const struct prop *p;
	size_t size, i;
	void *fdt;

	for_each_prop(p) {
		if (p->kind != STR)
			continue;
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			fdt = edit_begin(h);
			set_raw(fdt, p->node, p->name, bad[i].val, bad[i].len);
			size = edit_end(fdt);
			EXPECT_REFUSED(fdt, size, 0, -EBADMSG,
				       reason(p, "is not a single "
						 "NUL-terminated string"));
			free(fdt);
		}
	}
	free(h);
}

TEST(string_too_long_for_its_field_is_refused)
{
	struct nvwa_handover *h = full_record(), *got = new_record();
	const struct prop *p;
	char *val, what[64];
	size_t size;
	void *fdt;

	for_each_prop(p) {
		if (p->kind != STR)
			continue;
		val = malloc(p->field + 1);

		/* The longest that fits is read... */
		memset(val, 'x', p->field - 1);
		val[p->field - 1] = '\0';
		fdt = edit_begin(h);
		set_str(fdt, p->node, p->name, val);
		size = edit_end(fdt);
		if (strcmp(p->name, "outcome"))
			CHECKF(handover_parse(fdt, size, 0, got, NULL, 0) == 0,
			       "%s", reason(p, "at its longest"));
		free(fdt);

		/* ...and one more byte is refused. */
		memset(val, 'x', p->field);
		val[p->field] = '\0';
		fdt = edit_begin(h);
		set_str(fdt, p->node, p->name, val);
		size = edit_end(fdt);
		snprintf(what, sizeof(what),
			 "is too long: %zu bytes, its field holds %zu",
			 p->field + 1, p->field);
		EXPECT_REFUSED(fdt, size, 0, -EBADMSG, reason(p, what));
		free(fdt);
		free(val);
	}
	free(got);
	free(h);
}

/* ------------------------------------------------------------------ */
/* Values that break a rule                                            */
/* ------------------------------------------------------------------ */

TEST(wrong_compatible_is_refused)
{
	static const struct {
		const char *val;
		int len;
	} bad[] = {
		{ "nvwa,handover2", 15 },
		{ "nvwa,handove", 13 },
		{ "linux,dummy-virt", 17 },
		{ "nvwa,handover\0nvwa,other", 25 },
		{ "nvwa,handover", 13 },	/* without its NUL */
	};
	struct nvwa_handover *h = full_record();
	size_t size, i;
	void *fdt;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fdt = edit_begin(h);
		set_raw(fdt, "/", "compatible", bad[i].val, bad[i].len);
		size = edit_end(fdt);
		EXPECT_REFUSED(fdt, size, 0, -EBADMSG,
			       "property 'compatible' is not \"nvwa,handover\"");
		free(fdt);
	}
	free(h);
}

TEST(unknown_version_is_not_supported)
{
	static const uint32_t versions[] = { 0, NVWA_HANDOVER_VERSION + 1, 0xffffffff };
	struct nvwa_handover *h = full_record();
	char want[64];
	size_t size, i;
	void *fdt;

	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		fdt = edit_begin(h);
		set_u32(fdt, "/", "version", versions[i]);
		size = edit_end(fdt);
		snprintf(want, sizeof(want), "property 'version' is %u",
			 versions[i]);
		EXPECT_REFUSED(fdt, size, 0, -EPROTONOSUPPORT, want);
		free(fdt);
	}

	/* A later version may lay out the rest anew: say so, not "missing". */
	fdt = edit_begin(h);
	set_u32(fdt, "/", "version", NVWA_HANDOVER_VERSION + 1);
	del_prop(fdt, "/", "store");
	edited(fdt_del_node(fdt, node(fdt, "/apps")), "delete", "/apps");
	size = edit_end(fdt);
	snprintf(want, sizeof(want), "property 'version' is %u",
		 NVWA_HANDOVER_VERSION + 1);
	EXPECT_REFUSED(fdt, size, 0, -EPROTONOSUPPORT, want);
	free(fdt);
	free(h);
}

struct bad_value {
	const char *node;
	const char *name;
	enum kind kind;
	uint64_t val;
	const char *str;
	const char *reason;
};

static const struct bad_value bad_values[] = {
	{ "/apps/app@1", "pid", U32, 0, NULL,
	  "apps/app@1: property 'pid' must be > 0, got 0" },
	{ "/apps/app@1", "pid", U32, 0xffffffff, NULL,
	  "apps/app@1: property 'pid' must be > 0, got -1" },
	{ "/apps/app@2", "pid", U32, 0x80000000, NULL,
	  "apps/app@2: property 'pid' must be > 0, got -2147483648" },
	{ "/", "generation", U64, 0, NULL,
	  "property 'generation' must be > 0" },
	{ "/", "tsc-khz", U64, 0, NULL, "property 'tsc-khz' must be non-zero" },
	{ "/timeline/phase@2", "domain", U32, NVWA_DOMAIN_MAX, NULL,
	  "timeline/phase@2: property 'domain' is 4" },
	{ "/timeline/phase@2", "domain", U32, 0xffffffff, NULL,
	  "timeline/phase@2: property 'domain' is 4294967295" },
	{ "/timeline/phase@3", "end", U64, 6000000000ull - 1, NULL,
	  "timeline/phase@3: property 'end' (5999999999) is before 'start' (6000000000)" },
	{ "/timeline/phase@0", "start", U64, UINT64_MAX, NULL,
	  "timeline/phase@0: property 'end'" },
	{ "/timeline/phase@2", "label", STR, 0, "",
	  "timeline/phase@2: property 'label' is empty" },
	{ "/", "outcome", STR, 0, "done", "property 'outcome' is 'done'" },
	{ "/", "outcome", STR, 0, "", "property 'outcome' is ''" },
	{ "/", "outcome", STR, 0, "Pending",
	  "property 'outcome' is 'Pending'" },
};

TEST(value_breaking_a_rule_is_refused)
{
	struct nvwa_handover *h = full_record();
	const struct bad_value *b;
	size_t size, i;
	void *fdt;

	for (i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
		b = &bad_values[i];
		fdt = edit_begin(h);
		if (b->kind == U32)
			set_u32(fdt, b->node, b->name, b->val);
		else if (b->kind == U64)
			set_u64(fdt, b->node, b->name, b->val);
		else
			set_str(fdt, b->node, b->name, b->str);
		size = edit_end(fdt);
		EXPECT_REFUSED(fdt, size, 0, -EBADMSG, b->reason);
		free(fdt);
	}
	free(h);
}

/*
 * Puts a new child at index 0 by renaming PREFIX@0..n-1 one up, so the
 * node names stay in order and only the count is wrong.
 */
static void prepend_child(void *fdt, const char *parent,
			  const char *prefix, uint32_t n)
{
	char path[64], name[32];
	uint32_t i;

	for (i = n; i-- > 0;) {
		snprintf(path, sizeof(path), "%s/%s@%x", parent, prefix, i);
		snprintf(name, sizeof(name), "%s@%x", prefix, i + 1);
		rename_node(fdt, path, name);
	}
	snprintf(name, sizeof(name), "%s@0", prefix);
	edited(fdt_add_subnode(fdt, node(fdt, parent), name), "add", name);
}

TEST(too_many_apps_are_refused)
{
	struct nvwa_handover *h = max_record();
	void *fdt = edit_begin(h);
	size_t size;

	prepend_child(fdt, "/apps", "app", NVWA_MAX_APPS);
	set_u32(fdt, "/apps/app@0", "pid", 99);
	set_str(fdt, "/apps/app@0", "comm", "extra");
	set_str(fdt, "/apps/app@0", "images", "apps/99");
	set_str(fdt, "/apps/app@0", "dump-mode", "dump");
	set_str(fdt, "/apps/app@0", "state", "dumped");
	set_str(fdt, "/apps/app@0", "error", "");
	size = edit_end(fdt);
	CHECK(fdt_path_offset(fdt, "/apps/app@20") >= 0);
	EXPECT_REFUSED(fdt, size, 0, -EBADMSG,
		       "apps: 33 apps, at most 32 allowed");
	free(fdt);
	free(h);
}

TEST(too_many_phases_are_refused)
{
	struct nvwa_handover *h = max_record();
	void *fdt = edit_begin(h);
	size_t size;

	prepend_child(fdt, "/timeline", "phase", NVWA_MAX_PHASES);
	set_str(fdt, "/timeline/phase@0", "label", "extra");
	set_u32(fdt, "/timeline/phase@0", "domain", NVWA_DOMAIN_OLD);
	set_u64(fdt, "/timeline/phase@0", "start", 1);
	set_u64(fdt, "/timeline/phase@0", "end", 2);
	size = edit_end(fdt);
	EXPECT_REFUSED(fdt, size, 0, -EBADMSG,
		       "timeline: 65 phases, at most 64 allowed");
	free(fdt);
	free(h);
}

TEST(children_out_of_order_are_refused)
{
	struct nvwa_handover *h = full_record();
	size_t size;
	void *fdt;

	/* Swapped: each node would be read into the other's slot. */
	fdt = edit_begin(h);
	rename_node(fdt, "/apps/app@0", "app@ff");
	rename_node(fdt, "/apps/app@1", "app@0");
	rename_node(fdt, "/apps/app@ff", "app@1");
	size = edit_end(fdt);
	EXPECT_REFUSED(fdt, size, 0, -EBADMSG,
		       "apps: node 'app@1' found where 'app@0' was expected");
	free(fdt);

	/* A gap. */
	fdt = edit_begin(h);
	edited(fdt_del_node(fdt, node(fdt, "/apps/app@0")), "delete", "app@0");
	size = edit_end(fdt);
	EXPECT_REFUSED(fdt, size, 0, -EBADMSG,
		       "apps: node 'app@1' found where 'app@0' was expected");
	free(fdt);

	/* Not the canonical spelling of its index. */
	fdt = edit_begin(h);
	rename_node(fdt, "/apps/app@1", "app@01");
	size = edit_end(fdt);
	EXPECT_REFUSED(fdt, size, 0, -EBADMSG,
		       "apps: node 'app@01' found where 'app@1' was expected");
	free(fdt);

	/* Something that is not an app at all. */
	fdt = edit_begin(h);
	rename_node(fdt, "/apps/app@2", "process@2");
	size = edit_end(fdt);
	EXPECT_REFUSED(fdt, size, 0, -EBADMSG,
		       "apps: node 'process@2' found where 'app@2' was expected");
	free(fdt);

	fdt = edit_begin(h);
	rename_node(fdt, "/timeline/phase@2", "phase@3x");
	rename_node(fdt, "/timeline/phase@3", "phase@2");
	size = edit_end(fdt);
	EXPECT_REFUSED(fdt, size, 0, -EBADMSG,
		       "timeline: node 'phase@3x' found where 'phase@2' was expected");
	free(fdt);
	free(h);
}

TEST(reason_fits_a_small_buffer)
{
	char why[8] = "garbage";
	char big[64];

	memset(big, 0x5a, sizeof(big));
	CHECK_EQ_INT(handover_parse(big, sizeof(big), 0, NULL, why,
				    sizeof(why)), -EBADMSG);
	CHECK(strlen(why) < sizeof(why));
	CHECK_EQ_INT(handover_parse(big, sizeof(big), 0, NULL, NULL, 0),
		     -EBADMSG);
}

/* ------------------------------------------------------------------ */
/* The builder writes nothing the parser would refuse                  */
/* ------------------------------------------------------------------ */

/* Breaks rule @i of a full record; false once there are no more. */
static bool break_rule(struct nvwa_handover *h, unsigned int i)
{
	struct nvwa_phase *p = h->timeline.phases;

	switch (i) {
	case 0:
		h->apps[1].pid = 0;
		break;
	case 1:
		h->apps[0].pid = -5;
		break;
	case 2:
		h->napps = NVWA_MAX_APPS + 1;
		break;
	case 3:
		h->timeline.nphases = NVWA_MAX_PHASES + 1;
		break;
	case 4:
		p[1].domain = NVWA_DOMAIN_MAX;
		break;
	case 5:
		p[2].end = p[2].start - 1;
		break;
	case 6:
		p[0].name[0] = '\0';
		break;
	case 7:
		memset(p[3].name, 'n', sizeof(p[3].name));
		break;
	case 8:
		strcpy(h->outcome, "ok");
		break;
	case 9:
		h->version = NVWA_HANDOVER_VERSION + 1;
		break;
	case 10:
		h->generation = 0;
		break;
	case 11:
		h->timeline.tsc_khz = 0;
		break;
	case 12:
		/* The old kernel's node has nowhere to keep it. */
		strcpy(h->old_kernel.image, "/boot/vmlinuz-old");
		break;
	case 13:
		memset(h->apps[2].comm, 'c', sizeof(h->apps[2].comm));
		break;
	case 14:
		memset(h->new_kernel.cmdline, 'c',
		       sizeof(h->new_kernel.cmdline));
		break;
	case 15:
		memset(h->store, 's', sizeof(h->store));
		break;
	case 16:
		memset(h->outcome, 'o', sizeof(h->outcome));
		break;
	default:
		return false;
	}
	return true;
}

TEST(build_refuses_what_parse_would_refuse)
{
	static char untouched[1];
	struct nvwa_handover *h = full_record();
	unsigned int i;
	size_t size;
	void *blob;

	for (i = 0; break_rule(h, i); i++) {
		blob = untouched;
		size = 12345;
		CHECKF(handover_build(h, &blob, &size) == -EINVAL, "rule %u",
		       i);
		CHECKF(blob == untouched && size == 12345,
		       "rule %u: output written", i);
		free(h);
		h = full_record();
	}
	CHECK_EQ_INT(i, 17);
	free(h);
}

/* ------------------------------------------------------------------ */
/* States and outcomes                                                 */
/* ------------------------------------------------------------------ */

/* The names are what records already written say: they never change. */
TEST(states_and_outcomes_keep_their_names)
{
	static const char *const states[] = {
		"dumped", "restoring", "restored", "failed",
	};
	static const char *const outcomes[] = {
		"pending", "restored", "failed",
	};
	struct nvwa_handover *h = full_record();
	int i;

	CHECK_EQ_INT(NVWA_APP_STATE_MAX, 4);
	for (i = 0; i < NVWA_APP_STATE_MAX; i++) {
		CHECK_STREQ(app_state_to_string(i), states[i]);
		CHECK_EQ_INT(app_state_from_string(states[i]), i);
		handover_set_app_state(&h->apps[0], i);
		CHECK_STREQ(h->apps[0].state, states[i]);
		CHECK_EQ_INT(handover_app_state(&h->apps[0]), i);
	}
	CHECK_EQ_INT(NVWA_OUTCOME_MAX, 3);
	for (i = 0; i < NVWA_OUTCOME_MAX; i++) {
		CHECK_STREQ(outcome_to_string(i), outcomes[i]);
		CHECK_EQ_INT(outcome_from_string(outcomes[i]), i);
		handover_set_outcome(h, i);
		CHECK_STREQ(h->outcome, outcomes[i]);
		CHECK_EQ_INT(handover_outcome(h), i);
	}
	CHECK(app_state_to_string(NVWA_APP_STATE_MAX) == NULL);
	CHECK(outcome_to_string(NVWA_OUTCOME_MAX) == NULL);
	CHECK_EQ_INT(app_state_from_string("Restored"), -EINVAL);
	CHECK_EQ_INT(app_state_from_string("pending"), -EINVAL);
	CHECK_EQ_INT(outcome_from_string("dumped"), -EINVAL);
	CHECK_EQ_INT(outcome_from_string(""), -EINVAL);
	free(h);
}

/* ------------------------------------------------------------------ */
/* Seeds for the fuzzer                                                */
/* ------------------------------------------------------------------ */

static int write_seed(const char *dir, const char *name,
		      const struct nvwa_handover *h)
{
	char path[4096];
	size_t size;
	void *blob;
	FILE *f;
	int r;

	r = handover_build(h, &blob, &size);
	if (r < 0) {
		fprintf(stderr, "handover_test: building %s: %s\n", name,
			strerror(-r));
		return r;
	}
	snprintf(path, sizeof(path), "%s/seed-%s.dtb", dir, name);
	f = fopen(path, "wb");
	r = f && fwrite(blob, 1, size, f) == size ? 0 : -errno;
	if (f && fclose(f) != 0 && r == 0)
		r = -errno;
	free(blob);
	if (r < 0)
		fprintf(stderr, "handover_test: writing %s: %s\n", path,
			strerror(-r));
	return r;
}

static int write_seeds(const char *dir)
{
	struct nvwa_handover *full = full_record(), *max = max_record();
	struct nvwa_handover *empty = empty_record();
	int r;

	r = write_seed(dir, "full", full);
	if (r == 0)
		r = write_seed(dir, "max", max);
	if (r == 0)
		r = write_seed(dir, "empty", empty);
	if (r == 0) {
		/* Another outcome, one app and no timeline. */
		strcpy(full->outcome, "failed");
		full->napps = 1;
		full->timeline.nphases = 0;
		r = write_seed(dir, "failed", full);
	}
	free(full);
	free(max);
	free(empty);
	return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--write-seed")) {
		if (argc != 3) {
			fprintf(stderr, "usage: %s --write-seed DIR\n",
				argv[0]);
			return 2;
		}
		return write_seeds(argv[2]);
	}
	return unit_main(argc, argv);
}
