// SPDX-License-Identifier: GPL-2.0
/*
 * Payload decompression: every compressor the kernel build uses, made here
 * with the same libraries, with the kernel's appended size; corruption,
 * truncation and lying sizes; and Debian's real bzImage end to end.
 */
#include <elf.h>
#include <errno.h>
#include <lz4.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "common/util.h"
#include "fastboot/bzimage.h"
#include "fastboot/decompress.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

#define PLAIN_LEN (3u << 20)

static unsigned char plain[PLAIN_LEN];
static unsigned char packed[PLAIN_LEN + 4096];
static char why[256];

static void make_plain(void)
{
	uint32_t x = 1;

	/* Compressible but not trivial: a repeating walk with noise. */
	for (size_t i = 0; i < PLAIN_LEN; i++) {
		x = x * 1103515245 + 12345;
		plain[i] = (unsigned char)((i / 64) ^ ((x >> 16) & 3));
	}
}

static size_t append_size(size_t n)
{
	packed[n] = PLAIN_LEN & 0xff;
	packed[n + 1] = (PLAIN_LEN >> 8) & 0xff;
	packed[n + 2] = (PLAIN_LEN >> 16) & 0xff;
	packed[n + 3] = (PLAIN_LEN >> 24) & 0xff;
	return n + 4;
}

static size_t pack_gzip(void)
{
	z_stream s = { 0 };

	deflateInit2(&s, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	s.next_in = plain;
	s.avail_in = PLAIN_LEN;
	s.next_out = packed;
	s.avail_out = sizeof(packed);
	deflate(&s, Z_FINISH);
	deflateEnd(&s);
	/* As the kernel's cmd_gzip: the gzip trailer's ISIZE is the size. */
	return s.total_out;
}

static size_t pack_xz(void)
{
	/* As the kernel does: the x86 BCJ filter, then LZMA2, CRC32. */
	lzma_options_lzma opt;
	lzma_filter filters[] = {
		{ .id = LZMA_FILTER_X86 },
		{ .id = LZMA_FILTER_LZMA2, .options = &opt },
		{ .id = LZMA_VLI_UNKNOWN },
	};
	size_t pos = 0;

	lzma_lzma_preset(&opt, 6);
	if (lzma_stream_buffer_encode(filters, LZMA_CHECK_CRC32, NULL, plain,
				      PLAIN_LEN, packed, &pos,
				      sizeof(packed) - 4) != LZMA_OK)
		abort();
	return append_size(pos);
}

static size_t pack_zstd(void)
{
	return append_size(ZSTD_compress(packed, sizeof(packed) - 4, plain,
					 PLAIN_LEN, 19));
}

static size_t pack_lz4(void)
{
	const size_t block = 8u << 20;
	size_t pos = 4, done = 0;

	memcpy(packed, "\x02\x21\x4c\x18", 4);
	while (done < PLAIN_LEN) {
		size_t chunk = PLAIN_LEN - done < block ? PLAIN_LEN - done : block;
		int n = LZ4_compress_default((const char *)plain + done,
					     (char *)packed + pos + 4, (int)chunk,
					     (int)(sizeof(packed) - pos - 8));

		packed[pos] = n & 0xff;
		packed[pos + 1] = (n >> 8) & 0xff;
		packed[pos + 2] = (n >> 16) & 0xff;
		packed[pos + 3] = (n >> 24) & 0xff;
		pos += 4 + (size_t)n;
		done += chunk;
	}
	return append_size(pos);
}

static const struct {
	const char *name;
	size_t (*pack)(void);
} formats[] = {
	{ "gzip", pack_gzip },
	{ "xz", pack_xz },
	{ "zstd", pack_zstd },
	{ "lz4", pack_lz4 },
};

#define DECOMPRESS(fmt, len) \
	payload_decompress(fmt, packed, len, 64u << 20, &out, &out_len, why, sizeof(why))

TEST(every_format_round_trips)
{
	make_plain();
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		size_t len = formats[i].pack(), out_len = 0;
		void *out = NULL;

		CHECKF(payload_supported(formats[i].name), "%s", formats[i].name);
		if (!CHECKF(DECOMPRESS(formats[i].name, len) == 0, "%s: %s",
			    formats[i].name, why))
			continue;
		CHECK_EQ_INT(out_len, PLAIN_LEN);
		CHECKF(!memcmp(out, plain, PLAIN_LEN), "%s", formats[i].name);
		free(out);
	}
}

TEST(truncation_and_corruption_are_refused)
{
	make_plain();
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		size_t len = formats[i].pack(), out_len;
		void *out = NULL;
		int r;

		/* Cut the stream, keep a plausible size trailer. */
		memmove(packed + len / 2, packed + len - 4, 4);
		r = DECOMPRESS(formats[i].name, len / 2 + 4);
		CHECKF(r < 0, "%s truncated: %d", formats[i].name, r);
		if (r == 0)
			free(out);

		len = formats[i].pack();
		for (size_t off = 16; off < len - 4; off += len / 7) {
			packed[off] ^= 0x5a;
			r = DECOMPRESS(formats[i].name, len);
			/* lz4 has no checksum: it may decode to other bytes. */
			if (r == 0) {
				CHECKF(!strcmp(formats[i].name, "lz4") ||
				       memcmp(out, plain, PLAIN_LEN),
				       "%s corrupt at %zu decoded cleanly", formats[i].name, off);
				free(out);
			}
			packed[off] ^= 0x5a;
		}
	}
}

TEST(the_size_trailer_is_enforced)
{
	size_t len, out_len;
	void *out = NULL;

	make_plain();
	len = pack_zstd();
	packed[len - 4]++;		/* one byte more than it holds */
	CHECK_EQ_INT(DECOMPRESS("zstd", len), -EBADMSG);
	len = pack_xz();
	packed[len - 2] = 0;		/* says less than it holds */
	packed[len - 3] = 0;
	CHECK(DECOMPRESS("xz", len) < 0);
	len = pack_gzip();
	CHECK_EQ_INT(payload_decompress("gzip", packed, len, PLAIN_LEN - 1, &out,
					&out_len, why, sizeof(why)), -EFBIG);
	memset(packed + len - 4, 0, 4);
	CHECK_EQ_INT(DECOMPRESS("gzip", len), -EBADMSG);
	CHECK_EQ_INT(DECOMPRESS("gzip", 5), -EBADMSG);
}

/* CRC32 as xz's headers carry it (zlib's is the same polynomial). */
static void xz_seal(uint8_t *p, size_t len)
{
	uint32_t c = (uint32_t)crc32(0, p, (unsigned int)len);

	p[len] = c & 0xff;
	p[len + 1] = (c >> 8) & 0xff;
	p[len + 2] = (c >> 16) & 0xff;
	p[len + 3] = (c >> 24) & 0xff;
}

/*
 * A header that asks for a 4 GiB dictionary is refused before liblzma
 * allocates it: the decoder's memory is bounded like zstd's window.
 */
TEST(xz_decoder_memory_is_bounded)
{
	size_t len, hdr_len, i, out_len;
	void *out = NULL;
	uint8_t *hdr;

	make_plain();
	len = pack_xz();
	/* Stream header (12 bytes), then the block header: size byte first. */
	hdr = packed + 12;
	hdr_len = ((size_t)hdr[0] + 1) * 4;
	/* LZMA2's filter flags: ID 0x21, one byte of properties, the dict size. */
	for (i = 1; i + 2 < hdr_len - 4; i++)
		if (hdr[i] == 0x21 && hdr[i + 1] == 0x01)
			break;
	if (!CHECK(i + 2 < hdr_len - 4))
		return;
	hdr[i + 2] = 40;		/* 4 GiB - 1 */
	xz_seal(hdr, hdr_len - 4);
	CHECK_EQ_INT(DECOMPRESS("xz", len), -E2BIG);
	CHECK(strstr(why, "decoder memory") != NULL);
}

TEST(unsupported_formats_say_so)
{
	size_t out_len;
	void *out;

	CHECK(!payload_supported("bzip2"));
	CHECK(!payload_supported("lzo"));
	CHECK_EQ_INT(payload_decompress("lzma", packed, 100, 1 << 20, &out,
					&out_len, why, sizeof(why)), -EOPNOTSUPP);
	CHECK(strstr(why, "lzma"));
}

static size_t make_elf(unsigned char *buf, size_t size)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	Elf64_Phdr ph = { .p_type = PT_LOAD, .p_offset = 0x1000, .p_filesz = 0x1000 };

	memset(buf, 0, size);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 1;
	memcpy(buf + sizeof(*eh), &ph, sizeof(ph));
	return 0x2000;
}

TEST(vmlinux_check_refuses_what_cannot_boot)
{
	static unsigned char elf[0x2000];
	Elf64_Ehdr *eh = (Elf64_Ehdr *)elf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(elf + sizeof(*eh));
	size_t len = make_elf(elf, sizeof(elf));

	CHECK_EQ_INT(vmlinux_check(elf, len, why, sizeof(why)), 0);
	CHECK_EQ_INT(vmlinux_check(elf, 0x1fff, why, sizeof(why)), -ENOEXEC);
	CHECK(strstr(why, "outside"));
	eh->e_machine = EM_AARCH64;
	CHECK_EQ_INT(vmlinux_check(elf, len, why, sizeof(why)), -ENOEXEC);
	make_elf(elf, sizeof(elf));
	eh->e_type = ET_DYN;
	CHECK_EQ_INT(vmlinux_check(elf, len, why, sizeof(why)), -ENOEXEC);
	make_elf(elf, sizeof(elf));
	eh->e_phnum = 0xffff;
	CHECK_EQ_INT(vmlinux_check(elf, len, why, sizeof(why)), -ENOEXEC);
	make_elf(elf, sizeof(elf));
	ph->p_type = PT_NOTE;
	CHECK_EQ_INT(vmlinux_check(elf, len, why, sizeof(why)), -ENOEXEC);
	make_elf(elf, sizeof(elf));
	ph->p_offset = ~0ull - 10;	/* offset + size wraps */
	CHECK_EQ_INT(vmlinux_check(elf, len, why, sizeof(why)), -ENOEXEC);
	CHECK_EQ_INT(vmlinux_check(elf, 10, why, sizeof(why)), -ENOEXEC);
}

TEST(debian_kernel_decompresses_to_a_bootable_vmlinux)
{
	const char *path = getenv("NVWA_KERNEL_IMAGE");
	struct kimage_info info;
	size_t len, out_len;
	void *out = NULL;
	char *buf;

	if (!CHECKF(path, "set NVWA_KERNEL_IMAGE to Debian's vmlinuz"))
		return;
	if (!CHECK_EQ_INT(read_file(path, 256u << 20, &buf, &len), 0))
		return;
	if (CHECK_EQ_INT(kimage_parse(buf, len, &info, why, sizeof(why)), 0) &&
	    CHECKF(payload_decompress(info.compression, buf + info.payload_offset,
				      info.payload_length, 1u << 30, &out, &out_len,
				      why, sizeof(why)) == 0, "%s", why)) {
		CHECK_EQ_INT(vmlinux_check(out, out_len, why, sizeof(why)), 0);
		CHECK(out_len > 4 * (size_t)info.payload_length);
		free(out);
	}
	free(buf);
}
