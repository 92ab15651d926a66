// SPDX-License-Identifier: GPL-2.0
/*
 * pinmem's on-region layout and the checks that decide whether a region
 * found at boot is trusted: built from the module's own format.c.
 */
#include <stdlib.h>
#include <string.h>

#include "pinmem/module/format.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

#define START (1536ULL << 20)
#define SIZE (64ULL << 20)

struct region {
	struct pinmem_super sb;
	struct pinmem_dirent *dir;
	struct pinmem_span *scratch;
};

static void region_init(struct region *r, unsigned entries)
{
	CHECK(pinmem_layout(START, SIZE, entries, &r->sb) == NULL);
	r->dir = calloc(r->sb.dir_entries, sizeof(*r->dir));
	r->scratch = calloc(r->sb.dir_entries, sizeof(*r->scratch));
}

static void region_free(struct region *r)
{
	free(r->dir);
	free(r->scratch);
}

static struct pinmem_dirent *put(struct region *r, unsigned i,
				 const char *name, unsigned kind,
				 unsigned shift, u64 offset, u64 length)
{
	struct pinmem_dirent *e = &r->dir[i];

	memset(e, 0, sizeof(*e));
	strcpy(e->name, name);
	e->kind = kind;
	e->shift = shift;
	e->offset = offset;
	e->length = length;
	pinmem_seal_entry(e);
	return e;
}

static const char *check(struct region *r, u32 *bad)
{
	*bad = ~0U;
	return pinmem_check_dir(&r->sb, r->dir, r->scratch, bad);
}

TEST(fresh_layout_checks_out)
{
	struct pinmem_super sb;

	CHECK(pinmem_layout(START, SIZE, pinmem_default_entries(SIZE), &sb) ==
	      NULL);
	CHECK(pinmem_check_super(&sb, START, SIZE) == NULL);
	CHECK_EQ_INT(sb.generation, 1);
	CHECK_EQ_INT(sb.dir_offset, 4096);
	CHECK_EQ_INT(sb.data_offset % 4096, 0);
	CHECK_EQ_INT(sb.data_offset, 4096 + 2048 * 64);
	/* 64 MiB: one slot per 32 KiB, 2048 slots of 64 bytes: 0.2 % */
	CHECK_EQ_INT(pinmem_default_entries(SIZE), 2048);
	CHECK_EQ_INT(pinmem_default_entries(1 << 20), PINMEM_MIN_ENTRIES);
}

TEST(layout_refuses_what_cannot_work)
{
	struct pinmem_super sb;

	CHECK(pinmem_layout(START + 1, SIZE, 64, &sb) != NULL);
	CHECK(pinmem_layout(START, SIZE - 1, 64, &sb) != NULL);
	CHECK(pinmem_layout(START, SIZE, 1, &sb) != NULL);
	CHECK(pinmem_layout(START, 2 * 4096, 64, &sb) != NULL);
	CHECK(pinmem_layout(START, 3 * 4096, 64, &sb) == NULL);
	CHECK(pinmem_layout(START, SIZE, PINMEM_MAX_ENTRIES + 1, &sb) != NULL);
}

TEST(superblock_corruptions_are_named)
{
	struct pinmem_super sb, bad;

	CHECK(pinmem_layout(START, SIZE, 64, &sb) == NULL);
	bad = sb;
	bad.magic ^= 1;
	CHECK_STREQ(pinmem_check_super(&bad, START, SIZE),
		    "no pinmem superblock (bad magic)");
	bad = sb;
	bad.generation++;
	CHECK_STREQ(pinmem_check_super(&bad, START, SIZE),
		    "superblock CRC mismatch");
	CHECK_STREQ(pinmem_check_super(&sb, START + 4096, SIZE),
		    "superblock was written for a region at another address");
	CHECK_STREQ(pinmem_check_super(&sb, START, SIZE * 2),
		    "superblock was written for a region of another size");
	bad = sb;
	bad.version = 2;
	pinmem_seal_super(&bad);
	CHECK_STREQ(pinmem_check_super(&bad, START, SIZE),
		    "unsupported format version");
	bad = sb;
	bad.data_offset += 4096;
	pinmem_seal_super(&bad);
	CHECK_STREQ(pinmem_check_super(&bad, START, SIZE),
		    "directory does not fit the region");
	bad = sb;
	bad.dir_entries = 0xffffffff;
	pinmem_seal_super(&bad);
	CHECK_STREQ(pinmem_check_super(&bad, START, SIZE),
		    "directory size out of range");
}

TEST(valid_directory_with_every_kind)
{
	struct region r;
	u64 d;
	u32 bad;

	region_init(&r, 64);
	d = r.sb.data_offset;
	put(&r, 0, "client.a", PINMEM_KIND_KOBJ, 4, d, 16);
	put(&r, 1, "client.b", PINMEM_KIND_KOBJ, 4, d + 16, 1);
	put(&r, 2, "client.c", PINMEM_KIND_KOBJ, 0, d + 4096, 5000);
	put(&r, 3, "vm0", PINMEM_KIND_AREA, 0, d + 3 * 4096, 1 << 20);
	put(&r, 4, "empty", PINMEM_KIND_AREA, 0, 0, 0);
	put(&r, 9, "client.buf", PINMEM_KIND_KBUF, 0, SIZE - 8192, 8192);
	CHECK(check(&r, &bad) == NULL);
	region_free(&r);
}

TEST(directory_corruptions_are_found_and_located)
{
	struct region r;
	struct pinmem_dirent *e;
	u64 d;
	u32 bad;

	region_init(&r, 64);
	d = r.sb.data_offset;
	put(&r, 0, "a", PINMEM_KIND_KOBJ, 5, d, 20);

	put(&r, 1, "b", PINMEM_KIND_KOBJ, 4, d + 16, 16);
	CHECK_STREQ(check(&r, &bad), "entries overlap");
	CHECK_EQ_INT(bad, 1);

	put(&r, 1, "b", PINMEM_KIND_KOBJ, 4, d + 64, 16);
	CHECK_STREQ(check(&r, &bad), "objects of two classes share a page");

	put(&r, 1, "a", PINMEM_KIND_KOBJ, 5, d + 64, 16);
	CHECK_STREQ(check(&r, &bad), "two entries share a name");

	put(&r, 1, "b", PINMEM_KIND_AREA, 0, d, 4096);
	CHECK_STREQ(check(&r, &bad), "entries overlap");

	put(&r, 1, "b", PINMEM_KIND_AREA, 0, d + 100, 4096);
	CHECK_STREQ(check(&r, &bad), "misaligned offset");

	put(&r, 1, "b", PINMEM_KIND_AREA, 0, SIZE - 4096, 8192);
	CHECK_STREQ(check(&r, &bad), "offset outside the data pages");

	put(&r, 1, "b", PINMEM_KIND_AREA, 0, 0, 4096);
	CHECK_STREQ(check(&r, &bad), "offset outside the data pages");

	put(&r, 1, "b", PINMEM_KIND_AREA, 0, d + 4096, UINT64_MAX);
	CHECK_STREQ(check(&r, &bad), "length beyond the region");

	put(&r, 1, "b", PINMEM_KIND_KOBJ, 4, d + 4096, 17);
	CHECK_STREQ(check(&r, &bad), "object larger than its class");

	put(&r, 1, "b", PINMEM_KIND_KOBJ, 0, d + 4096, 100);
	CHECK_STREQ(check(&r, &bad),
		    "page-granular object small enough for a class");

	put(&r, 1, "b", PINMEM_KIND_KOBJ, 12, d + 4096, 100);
	CHECK_STREQ(check(&r, &bad), "unknown object class");

	put(&r, 1, "b", 7, 0, d + 4096, 100);
	CHECK_STREQ(check(&r, &bad), "unknown kind");

	put(&r, 1, "../x", PINMEM_KIND_AREA, 0, d + 4096, 100);
	CHECK_STREQ(check(&r, &bad), "invalid name");

	e = put(&r, 1, "b", PINMEM_KIND_AREA, 0, d + 4096, 100);
	e->length++;
	CHECK_STREQ(check(&r, &bad), "entry CRC mismatch");

	e = put(&r, 1, "b", PINMEM_KIND_AREA, 0, d + 4096, 100);
	memset(e->name, 'x', sizeof(e->name));
	pinmem_seal_entry(e);
	CHECK_STREQ(check(&r, &bad), "invalid name");
	CHECK_EQ_INT(bad, 1);

	put(&r, 1, "b", PINMEM_KIND_AREA, 0, d + 4096, 100);
	CHECK(check(&r, &bad) == NULL);
	region_free(&r);
}

TEST(names)
{
	char longest[PINMEM_NAME_MAX];

	CHECK(pinmem_name_valid("vm0", 4));
	CHECK(pinmem_name_valid("client.obj-00001", 17));
	CHECK(!pinmem_name_valid("", 1));
	CHECK(!pinmem_name_valid(".hidden", 8));
	CHECK(!pinmem_name_valid("a/b", 4));
	CHECK(!pinmem_name_valid("a b", 4));
	CHECK(!pinmem_name_valid("abc", 3)); /* no NUL within the bound */
	memset(longest, 'n', sizeof(longest));
	longest[sizeof(longest) - 1] = '\0';
	CHECK(pinmem_name_valid(longest, sizeof(longest)));
	longest[sizeof(longest) - 1] = 'n';
	CHECK(!pinmem_name_valid(longest, sizeof(longest)));
}
