// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "fastboot/bzimage.h"

/* Offsets into the setup header, from the boot protocol. */
#define HDR_SETUP_SECTS		0x1f1
#define HDR_BOOT_FLAG		0x1fe
#define HDR_MAGIC		0x202
#define HDR_VERSION		0x206
#define HDR_KERNEL_VERSION	0x20e
#define HDR_RELOCATABLE		0x234
#define HDR_PAYLOAD_OFFSET	0x248
#define HDR_PAYLOAD_LENGTH	0x24c
#define HDR_END			0x250	/* through payload_length */

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static const char *compression_of(const uint8_t *p, size_t len)
{
	static const struct {
		const char *name;
		size_t len;
		const char *magic;
	} magics[] = {
		{ "gzip", 2, "\x1f\x8b" },
		{ "xz", 6, "\xfd" "7zXZ\0" },
		{ "zstd", 4, "\x28\xb5\x2f\xfd" },
		{ "lz4", 4, "\x02\x21\x4c\x18" },
		{ "lzma", 3, "\x5d\x00\x00" },
		{ "bzip2", 3, "BZh" },
		{ "lzo", 4, "\x89LZO" },
	};

	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (len >= magics[i].len &&
		    !memcmp(p, magics[i].magic, magics[i].len))
			return magics[i].name;
	return "unknown";
}

static int parse_bzimage(const uint8_t *p, size_t len, struct kimage_info *ret,
			 char *why, size_t whylen)
{
	struct kimage_info info = { .format = KIMAGE_BZIMAGE };
	uint32_t sects, kv;
	size_t n;

	if (len < HDR_END)
		return set_why(why, whylen, -ENOEXEC, "file is %zu bytes, too short for a boot header",
			       len);
	if (le16(p + HDR_BOOT_FLAG) != 0xaa55 || memcmp(p + HDR_MAGIC, "HdrS", 4))
		return set_why(why, whylen, -ENOEXEC, "no x86 boot header (\"HdrS\" magic)");
	info.boot_version = le16(p + HDR_VERSION);
	if (info.boot_version < 0x0208)
		return set_why(why, whylen, -ENOEXEC,
			       "boot protocol %u.%02u is older than 2.08 (no payload fields)",
			       info.boot_version >> 8, info.boot_version & 0xff);

	sects = p[HDR_SETUP_SECTS] ? p[HDR_SETUP_SECTS] : 4;
	info.setup_size = (sects + 1) * 512;
	if (info.setup_size > len)
		return set_why(why, whylen, -ENOEXEC, "setup code (%u bytes) runs past the end of the file (%zu bytes)",
			       info.setup_size, len);
	info.payload_offset = le32(p + HDR_PAYLOAD_OFFSET);
	info.payload_length = le32(p + HDR_PAYLOAD_LENGTH);
	if ((uint64_t)info.setup_size + info.payload_offset +
	    info.payload_length > len)
		return set_why(why, whylen, -ENOEXEC,
			       "truncated: the payload ends at byte %llu, the file has %zu",
			       (unsigned long long)info.setup_size +
			       info.payload_offset + info.payload_length, len);
	if (info.payload_length == 0)
		return set_why(why, whylen, -ENOEXEC, "the boot header declares an empty payload");
	info.payload_offset += info.setup_size;
	info.relocatable = p[HDR_RELOCATABLE] != 0;
	snprintf(info.compression, sizeof(info.compression), "%s",
		 compression_of(p + info.payload_offset, info.payload_length));

	/* kernel_version points at "6.1.0-56-amd64 (debian-kernel@...) #1 ...". */
	kv = le16(p + HDR_KERNEL_VERSION);
	if (kv) {
		kv += 0x200;
		if (kv >= info.setup_size)
			return set_why(why, whylen, -ENOEXEC, "kernel version string at %u lies outside the setup code",
				       kv);
		for (n = 0; kv + n < info.setup_size && n < sizeof(info.release) - 1; n++) {
			char c = (char)p[kv + n];

			if (c == ' ' || c == '\0')
				break;
			if (c < 0x21 || c > 0x7e)
				return set_why(why, whylen, -ENOEXEC, "kernel version string is not printable");
			info.release[n] = c;
		}
	}
	*ret = info;
	return 0;
}

int kimage_parse(const void *buf, size_t len, struct kimage_info *ret,
		 char *why, size_t whylen)
{
	const uint8_t *p = buf;

	if (len >= 4 && !memcmp(p, "\x7f" "ELF", 4)) {
		struct kimage_info info = { .format = KIMAGE_ELF };

		if (len < 64 || p[4] != 2 /* ELFCLASS64 */)
			return set_why(why, whylen, -ENOEXEC, "ELF file is not a 64-bit kernel");
		snprintf(info.compression, sizeof(info.compression), "none");
		*ret = info;
		return 0;
	}
	return parse_bzimage(p, len, ret, why, whylen);
}
