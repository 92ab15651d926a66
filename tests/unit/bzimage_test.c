// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel image recognition, on crafted images and, when the test bed's
 * kernel has been fetched ($NVWA_KERNEL_IMAGE), on Debian's real bzImage.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "fastboot/bzimage.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

#define SETUP_SECTS 3
#define SETUP_SIZE ((SETUP_SECTS + 1) * 512)
#define PAYLOAD 4096

static unsigned char img[SETUP_SIZE + PAYLOAD + 512];
static struct kimage_info info;
static char why[256];

static void put16(size_t off, unsigned int v)
{
	img[off] = v & 0xff;
	img[off + 1] = (v >> 8) & 0xff;
}

static void put32(size_t off, unsigned int v)
{
	put16(off, v & 0xffff);
	put16(off + 2, v >> 16);
}

/* A minimal valid bzImage: header, a version string, an xz payload. */
static size_t craft(const char *magic, size_t magic_len)
{
	memset(img, 0, sizeof(img));
	img[0x1f1] = SETUP_SECTS;
	put16(0x1fe, 0xaa55);
	memcpy(img + 0x202, "HdrS", 4);
	put16(0x206, 0x020f);
	put16(0x20e, 0x300 - 0x200);
	strcpy((char *)img + 0x300, "6.1.0-99-amd64 (test@nvwa) #1 SMP");
	img[0x234] = 1;
	put32(0x248, 0x100);
	put32(0x24c, PAYLOAD - 0x100);
	memcpy(img + SETUP_SIZE + 0x100, magic, magic_len);
	return SETUP_SIZE + PAYLOAD;
}

#define PARSE(len) kimage_parse(img, len, &info, why, sizeof(why))

TEST(crafted_bzimage_parses)
{
	size_t len = craft("\xfd" "7zXZ\0", 6);

	if (!CHECK_EQ_INT(PARSE(len), 0))
		return;
	CHECK_EQ_INT(info.format, KIMAGE_BZIMAGE);
	CHECK_EQ_INT(info.boot_version, 0x020f);
	CHECK_EQ_INT(info.setup_size, SETUP_SIZE);
	CHECK_EQ_INT(info.payload_offset, SETUP_SIZE + 0x100);
	CHECK_EQ_INT(info.payload_length, PAYLOAD - 0x100);
	CHECK_EQ_INT(info.relocatable, 1);
	CHECK_STREQ(info.compression, "xz");
	CHECK_STREQ(info.release, "6.1.0-99-amd64");
}

TEST(every_compressor_is_named)
{
	static const struct { const char *magic; size_t len; const char *name; } c[] = {
		{ "\x1f\x8b", 2, "gzip" },
		{ "\x28\xb5\x2f\xfd", 4, "zstd" },
		{ "\x02\x21\x4c\x18", 4, "lz4" },
		{ "\x5d\x00\x00", 3, "lzma" },
		{ "BZh", 3, "bzip2" },
		{ "\x89LZO", 4, "lzo" },
		{ "\x00\x00\x00\x00", 4, "unknown" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		size_t len = craft(c[i].magic, c[i].len);

		CHECKF(PARSE(len) == 0, "%s", c[i].name);
		CHECK_STREQ(info.compression, c[i].name);
	}
}

TEST(every_truncation_is_refused)
{
	size_t len = craft("\x1f\x8b", 2);

	for (size_t n = 0; n < len; n += 7)
		CHECKF(PARSE(n) == -ENOEXEC, "length %zu", n);
	CHECK_EQ_INT(PARSE(len - 1), -ENOEXEC);
	CHECK(strstr(why, "truncated"));
}

TEST(not_a_kernel_is_refused)
{
	size_t len = craft("\x1f\x8b", 2);

	memcpy(img + 0x202, "HdrX", 4);
	CHECK_EQ_INT(PARSE(len), -ENOEXEC);
	CHECK(strstr(why, "HdrS"));
	len = craft("\x1f\x8b", 2);
	put16(0x1fe, 0);
	CHECK_EQ_INT(PARSE(len), -ENOEXEC);
}

TEST(old_protocol_is_refused)
{
	size_t len = craft("\x1f\x8b", 2);

	put16(0x206, 0x0207);
	CHECK_EQ_INT(PARSE(len), -ENOEXEC);
	CHECK(strstr(why, "2.07"));
}

TEST(hostile_offsets_are_refused)
{
	size_t len = craft("\x1f\x8b", 2);

	put32(0x248, 0xffffff00);	/* offset + length wraps in 32 bits */
	put32(0x24c, 0x200);
	CHECK_EQ_INT(PARSE(len), -ENOEXEC);
	len = craft("\x1f\x8b", 2);
	put32(0x24c, 0);
	CHECK_EQ_INT(PARSE(len), -ENOEXEC);
	len = craft("\x1f\x8b", 2);
	img[0x1f1] = 0xff;		/* setup larger than the file */
	CHECK_EQ_INT(PARSE(len), -ENOEXEC);
	len = craft("\x1f\x8b", 2);
	put16(0x20e, 0xf000);		/* version string outside setup */
	CHECK_EQ_INT(PARSE(len), -ENOEXEC);
	len = craft("\x1f\x8b", 2);
	img[0x302] = 0x01;		/* unprintable version string */
	CHECK_EQ_INT(PARSE(len), -ENOEXEC);
}

TEST(non_relocatable_is_reported)
{
	size_t len = craft("\x1f\x8b", 2);

	img[0x234] = 0;
	CHECK_EQ_INT(PARSE(len), 0);
	CHECK_EQ_INT(info.relocatable, 0);
}

TEST(elf_vmlinux_is_recognised)
{
	memset(img, 0, sizeof(img));
	memcpy(img, "\x7f" "ELF\x02", 5);
	CHECK_EQ_INT(PARSE(64), 0);
	CHECK_EQ_INT(info.format, KIMAGE_ELF);
	img[4] = 1;
	CHECK_EQ_INT(PARSE(64), -ENOEXEC);
	img[4] = 2;
	CHECK_EQ_INT(PARSE(20), -ENOEXEC);
}

TEST(debian_kernel_parses)
{
	const char *path = getenv("NVWA_KERNEL_IMAGE");
	char *buf;
	size_t len;

	/* tests/run sets it from the kernel mk/deps.sh fetched. */
	if (!CHECKF(path, "set NVWA_KERNEL_IMAGE to Debian's vmlinuz"))
		return;
	if (!CHECK_EQ_INT(read_file(path, 256u << 20, &buf, &len), 0))
		return;
	CHECK_EQ_INT(kimage_parse(buf, len, &info, why, sizeof(why)), 0);
	CHECK_STREQ(info.compression, "xz");
	CHECK(info.relocatable);
	CHECK(info.boot_version >= 0x020f);
	CHECK(info.release[0] != '\0');
	if (getenv("NVWA_KERNEL_RELEASE"))
		CHECK_STREQ(info.release, getenv("NVWA_KERNEL_RELEASE"));
	CHECK_EQ_INT(kimage_parse(buf, len / 2, &info, why, sizeof(why)), -ENOEXEC);
	free(buf);
}
