// SPDX-License-Identifier: GPL-2.0
/*
 * The CRIU plugin's image: what a dump writes parses back to the same
 * thing, and every way an edited or damaged image can be wrong is named.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#define UNIT_MAIN
#include "criu-plugin/pinimg.h"
#include "tests/unit/unit.h"

#define HEAD "nvwa-pinmem-image 1\nregion 0x60000000 0x40000000\n"

static int parse(const char *text, struct pinimg *img, char *why)
{
	return pinimg_parse(text, strlen(text), img, why, PINIMG_WHY_MAX);
}

TEST(written_image_parses_back)
{
	struct pinimg img = { .region_start = 0x60000000, .region_size = 0x40000000 };
	struct pinimg back;
	char why[PINIMG_WHY_MAX], *text;
	size_t len;

	CHECK_EQ_INT(pinimg_add_area(&img, "app-pin", 0x21000, 512 << 20), 0);
	CHECK_EQ_INT(pinimg_add_area(&img, "small", 0x20021000, 1), 0);
	CHECK_EQ_INT(pinimg_add_fd(&img, 7, O_RDWR, "app-pin"), 0);
	CHECK_EQ_INT(pinimg_add_fd(&img, 0, O_RDONLY | O_NONBLOCK, NULL), 0);
	if (!CHECK_EQ_INT(pinimg_format(&img, &text, &len), 0))
		return;
	CHECK_STREQ(text, HEAD "area app-pin 0x21000 0x20000000\n"
			  "area small 0x20021000 0x1\n"
			  "fd 0x7 0x2 app-pin\nfd 0x0 0x800 -\n");
	if (CHECK_EQ_INT(pinimg_parse(text, len, &back, why, sizeof(why)), 0)) {
		CHECK_EQ_INT(back.nareas, 2);
		CHECK_EQ_INT(back.nfds, 2);
		CHECK_STREQ(back.areas[1].name, "small");
		CHECK_EQ_INT(back.areas[0].length, 512 << 20);
		CHECK_STREQ(pinimg_fd_find(&back, 7)->name, "app-pin");
		CHECK_STREQ(pinimg_fd_find(&back, 0)->name, "");
		CHECK(pinimg_fd_find(&back, 8) == NULL);
		pinimg_free(&back);
	}
	free(text);
	pinimg_free(&img);
}

TEST(area_at_covers_whole_pages)
{
	struct pinimg img;
	char why[PINIMG_WHY_MAX];

	if (!CHECK_EQ_INT(parse(HEAD "area a 0x1000 0x1001\narea b 0x3000 0x1000\n",
				&img, why), 0))
		return;
	CHECK(pinimg_area_at(&img, 0) == NULL);
	CHECK_STREQ(pinimg_area_at(&img, 0x1000)->name, "a");
	CHECK_STREQ(pinimg_area_at(&img, 0x2fff)->name, "a");
	CHECK_STREQ(pinimg_area_at(&img, 0x3000)->name, "b");
	CHECK(pinimg_area_at(&img, 0x4000) == NULL);
	pinimg_free(&img);
}

TEST(empty_dump_has_only_the_region)
{
	struct pinimg img;
	char why[PINIMG_WHY_MAX];

	CHECK_EQ_INT(parse(HEAD, &img, why), 0);
	CHECK_EQ_INT(img.nareas + img.nfds, 0);
	pinimg_free(&img);
}

static void refused(const char *text, const char *expect_in_why)
{
	struct pinimg img;
	char why[PINIMG_WHY_MAX] = "";

	CHECKF(parse(text, &img, why) == -EINVAL, "accepted: %s", text);
	CHECKF(strstr(why, expect_in_why) != NULL, "\"%s\" does not say \"%s\"",
	       why, expect_in_why);
	CHECK(img.areas == NULL && img.fds == NULL);
}

TEST(every_fault_is_named)
{
	refused("", "not a version 1");
	refused("nvwa-pinmem-image 2\n", "not a version 1");
	refused("nvwa-pinmem-image 1\n", "no region line");
	refused("nvwa-pinmem-image 1\narea a 0x1000 0x1000\n", "line 2: expected the region line first");
	refused(HEAD "area a 0x1000 0x1000", "truncated");
	refused(HEAD "region 0x0 0x1000\n", "line 3: second region line");
	refused("nvwa-pinmem-image 1\nregion 0x1 0x1000\n", "not page aligned");
	refused("nvwa-pinmem-image 1\nregion 0xfffffffffffff000 0x2000\n", "wraps");
	refused("nvwa-pinmem-image 1\nregion 0x0 0x0\n", "not page aligned");
	refused(HEAD "area a 0x1000 0x0\n", "empty, misaligned");
	refused(HEAD "area a 0x1001 0x10\n", "empty, misaligned");
	refused(HEAD "area a 0x1fffff000 0x2000\n", "outside the region");
	refused(HEAD "area a 0x0 0xffffffffffffffff\n", "outside the region");
	refused(HEAD "area a 1000 0x1000\n", "hex numbers");
	refused(HEAD "area a 0x1000 0x10000000000000000\n", "hex numbers");
	refused(HEAD "area a 0x1000 0x1G\n", "hex numbers");
	refused(HEAD "area .a 0x1000 0x1000\n", "bad area name");
	refused(HEAD "area a/b 0x1000 0x1000\n", "bad area name");
	refused(HEAD "area aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 0x1000 0x1000\n",
		"bad area name");
	refused(HEAD "area a 0x1000 0x2000\narea b 0x2000 0x1000\n", "areas a and b overlap");
	refused(HEAD "area a 0x1000 0x1000\narea a 0x2000 0x1000\n", "area a twice");
	refused(HEAD "fd 0x1 0x3 a\n", "not open(2) access flags");
	refused(HEAD "fd 0x1 0x40 a\n", "not open(2) access flags");
	refused(HEAD "fd 0x100000000 0x2 a\n", "fd needs");
	refused(HEAD "fd 0x1 0x2 a\nfd 0x1 0x2 -\n", "fd id 0x1 twice");
	refused(HEAD "fd 0x1 0x2 ..\n", "bad area name");
	refused(HEAD "area a 0x1000 0x1000 extra\n", "wrong field count");
	refused(HEAD "area  a 0x1000 0x1000\n", "wrong field count");
	refused(HEAD "\n", "unknown record");
	refused(HEAD "pages 0x1\n", "unknown record");
}

TEST(nul_bytes_and_oversize_are_refused)
{
	static const char text[] = HEAD "area a\0 0x1000 0x1000\n";
	struct pinimg img;
	char why[PINIMG_WHY_MAX];

	CHECK_EQ_INT(pinimg_parse(text, sizeof(text) - 1, &img, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "not text") != NULL);
	CHECK_EQ_INT(pinimg_parse(text, PINIMG_MAX_BYTES + 1, &img, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "more than any dump") != NULL);
}
