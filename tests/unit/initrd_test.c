// SPDX-License-Identifier: GPL-2.0
/*
 * The prepared initrd: Debian-shaped initramfs images (an uncompressed
 * early cpio, then the main cpio compressed the way initramfs-tools
 * compresses it) walked as the kernel walks them, decompressed into the
 * same archives uncompressed, and cached: a cached copy that does not
 * verify is rebuilt, never handed out.
 */
#include <errno.h>
#include <fcntl.h>
#include <lz4.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "common/util.h"
#include "fastboot/decompress.h"
#include "fastboot/initrd.h"
#include "fastboot/prepare.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

#define BIG (4u << 20)

static char why[256];

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void pad(struct buf *b, size_t to)
{
	while (b->len % to)
		put(b, "", 1);
}

/* One newc entry, as cpio -H newc writes it. */
static void entry(struct buf *b, const char *name, unsigned int mode, const void *data,
		  size_t len)
{
	char h[160];

	snprintf(h, sizeof(h), "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
		 1u, mode, 0u, 0u, 1u, 0u, len, 0u, 0u, 0u, 0u, strlen(name) + 1, 0u);
	put(b, h, 110);
	put(b, name, strlen(name) + 1);
	pad(b, 4);
	put(b, data, len);
	pad(b, 4);
}

static void trailer(struct buf *b)
{
	entry(b, "TRAILER!!!", 0, "", 0);
}

/* initramfs-tools' early cpio: the microcode directories. */
static struct buf early_cpio(void)
{
	struct buf b = { 0 };

	entry(&b, "kernel", 040755, "", 0);
	entry(&b, "kernel/x86", 040755, "", 0);
	entry(&b, "kernel/x86/microcode", 040755, "", 0);
	trailer(&b);
	return b;
}

/* The main cpio: a few files, one big and compressible but not trivially. */
static struct buf main_cpio(void)
{
	struct buf b = { 0 };
	unsigned char *big = malloc(BIG);
	uint32_t x = 7;

	for (size_t i = 0; i < BIG; i++) {
		x = x * 1103515245 + 12345;
		big[i] = (unsigned char)((i / 100) ^ ((x >> 16) & 7));
	}
	entry(&b, ".", 040755, "", 0);
	entry(&b, "init", 0100755, "#!/bin/sh\nexec /bin/sh\n", 24);
	entry(&b, "lib", 040755, "", 0);
	entry(&b, "lib/big.ko", 0100644, big, BIG);
	entry(&b, "etc/odd", 0100644, "abc", 3);
	trailer(&b);
	free(big);
	return b;
}

static struct buf compress_as(const char *format, const struct buf *in)
{
	struct buf out = { .cap = in->len + (1u << 20) };
	size_t pos = 0;

	out.p = malloc(out.cap);
	if (!strcmp(format, "gzip")) {
		z_stream s = { 0 };

		deflateInit2(&s, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
		s.next_in = in->p;
		s.avail_in = (uInt)in->len;
		s.next_out = out.p;
		s.avail_out = (uInt)out.cap;
		deflate(&s, Z_FINISH);
		out.len = s.total_out;
		deflateEnd(&s);
	} else if (!strcmp(format, "xz")) {
		/* initramfs-tools: xz --check=crc32 */
		if (lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, in->p, in->len, out.p, &pos,
					    out.cap) != LZMA_OK)
			abort();
		out.len = pos;
	} else if (!strcmp(format, "zstd")) {
		/* initramfs-tools: zstd -q -1 -T0 */
		out.len = ZSTD_compress(out.p, out.cap, in->p, in->len, 1);
	} else if (!strcmp(format, "lz4")) {
		/* initramfs-tools: lz4 -9 -l, the legacy frame of 8 MiB blocks */
		const size_t block = 8u << 20;

		memcpy(out.p, "\x02\x21\x4c\x18", 4);
		out.len = 4;
		for (size_t done = 0; done < in->len;) {
			size_t chunk = in->len - done < block ? in->len - done : block;
			int n = LZ4_compress_default((const char *)in->p + done,
						     (char *)out.p + out.len + 4, (int)chunk,
						     (int)(out.cap - out.len - 4));

			out.p[out.len] = n & 0xff;
			out.p[out.len + 1] = (n >> 8) & 0xff;
			out.p[out.len + 2] = (n >> 16) & 0xff;
			out.p[out.len + 3] = (n >> 24) & 0xff;
			out.len += 4 + (size_t)n;
			done += chunk;
		}
	} else {
		abort();
	}
	return out;
}

/* early cpio + the main cpio compressed with @format, as Debian's. */
static struct buf debian_initrd(const char *format, struct buf *ret_plain)
{
	struct buf e = early_cpio(), m = main_cpio(), c = compress_as(format, &m);
	struct buf b = { 0 };

	/* initramfs-tools pads the early cpio to 512 bytes. */
	put(&b, e.p, e.len);
	pad(&b, 512);
	put(&b, c.p, c.len);
	/* The archives uncompressed, padding dropped: nvwa's layout. */
	*ret_plain = (struct buf){ 0 };
	put(ret_plain, e.p, e.len);
	pad(ret_plain, 4);
	put(ret_plain, m.p, m.len);
	free(e.p);
	free(m.p);
	free(c.p);
	return b;
}

static const char *const compressors[] = { "gzip", "xz", "zstd", "lz4" };

TEST(every_debian_compressor_is_prepared_into_the_same_archives)
{
	for (size_t i = 0; i < sizeof(compressors) / sizeof(compressors[0]); i++) {
		struct growbuf out = { .max = 64u << 20 };
		struct buf plain, b = debian_initrd(compressors[i], &plain);
		struct initrd_layout l, again;
		char formats[64], want[64];

		CHECKF(initrd_scan(b.p, b.len, &out, &l, why, sizeof(why)) == 0, "%s: %s",
		       compressors[i], why);
		CHECK_EQ_INT(l.n, 2);
		CHECK_STREQ(l.seg[0].format, "cpio");
		CHECK_STREQ(l.seg[1].format, compressors[i]);
		CHECK_EQ_INT(l.seg[0].entries, 3);
		CHECK_EQ_INT(l.seg[1].entries, 5);
		/* The whole file is accounted for: the stream ends where the file does. */
		CHECKF(l.seg[1].offset + l.seg[1].length == b.len, "%s", compressors[i]);
		initrd_formats(&l, formats, sizeof(formats));
		snprintf(want, sizeof(want), "cpio+%s", compressors[i]);
		CHECK_STREQ(formats, want);
		CHECKF(out.len == plain.len && !memcmp(out.buf, plain.p, plain.len), "%s",
		       compressors[i]);
		/* The prepared file is uncompressed cpio only, as the kernel reads it. */
		CHECK_EQ_INT(initrd_scan(out.buf, out.len, NULL, &again, why, sizeof(why)), 0);
		CHECK_EQ_INT(again.n, 2);
		CHECK_STREQ(again.seg[1].format, "cpio");
		free(out.buf);
		free(plain.p);
		free(b.p);
	}
}

TEST(padding_between_archives_is_skipped_and_several_compressed_ones_unpack)
{
	struct buf e = early_cpio(), m = main_cpio(), z = compress_as("zstd", &m),
		   g = compress_as("gzip", &e), b = { 0 };
	struct growbuf out = { .max = 64u << 20 };
	struct initrd_layout l;
	static const unsigned char zeros[13];

	put(&b, g.p, g.len);
	put(&b, zeros, sizeof(zeros));
	put(&b, z.p, z.len);
	put(&b, zeros, 3);
	pad(&b, 4);
	put(&b, e.p, e.len);
	CHECKF(initrd_scan(b.p, b.len, &out, &l, why, sizeof(why)) == 0, "%s", why);
	CHECK_EQ_INT(l.n, 3);
	CHECK_EQ_INT(l.unpacked, e.len + m.len + e.len);
	free(out.buf);
	/* Without an output, the walk stops at the first compressed archive. */
	CHECK_EQ_INT(initrd_scan(b.p, b.len, NULL, &l, why, sizeof(why)), 0);
	CHECK_EQ_INT(l.n, 1);
	CHECK_STREQ(l.seg[0].format, "gzip");
	free(e.p);
	free(m.p);
	free(z.p);
	free(g.p);
	free(b.p);
}

TEST(what_the_kernel_would_refuse_is_refused)
{
	/* gzip carries a CRC: a flipped bit is found. */
	struct buf plain, b = debian_initrd("gzip", &plain), e = early_cpio();
	struct growbuf out = { .max = 64u << 20 };
	struct initrd_layout l;

	/* A cpio archive must start on a 4-byte boundary. */
	unsigned char odd[] = { 0, '0', '7', '0', '7', '0', '1' };

	CHECK_EQ_INT(initrd_scan(odd, sizeof(odd), NULL, &l, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "neither cpio"));
	/* No magic, no archive. */
	CHECK_EQ_INT(initrd_scan("garbage", 7, NULL, &l, why, sizeof(why)), -EBADMSG);
	/* The early cpio without its trailer. */
	CHECK_EQ_INT(initrd_scan(e.p, e.len - 4, NULL, &l, why, sizeof(why)), -EBADMSG);
	/* A bit flipped inside the compressed stream. */
	b.p[b.len / 2] ^= 0x40;
	CHECK_EQ_INT(initrd_scan(b.p, b.len, &out, &l, why, sizeof(why)), -EBADMSG);
	b.p[b.len / 2] ^= 0x40;
	/* Truncated. */
	CHECK_EQ_INT(initrd_scan(b.p, b.len - 100, &out, &l, why, sizeof(why)), -EBADMSG);
	/* More than the limit. */
	out.len = 0;
	out.max = 1u << 20;
	CHECK_EQ_INT(initrd_scan(b.p, b.len, &out, &l, why, sizeof(why)), -EFBIG);
	free(out.buf);
	free(plain.p);
	free(e.p);
	free(b.p);
}

TEST(a_compressed_archive_must_hold_cpio)
{
	struct buf junk = { 0 }, c, b = { 0 };
	struct growbuf out = { .max = 64u << 20 };
	struct initrd_layout l;

	put(&junk, "hello, not a cpio archive", 25);
	c = compress_as("gzip", &junk);
	put(&b, c.p, c.len);
	CHECK_EQ_INT(initrd_scan(b.p, b.len, &out, &l, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "junk"));
	free(out.buf);
	free(junk.p);
	free(c.p);
	free(b.p);
}

TEST(compressors_nvwa_lacks_are_left_to_the_kernel)
{
	struct buf e = early_cpio(), b = { 0 };
	struct growbuf out = { .max = 64u << 20 };
	struct initrd_layout l;

	put(&b, e.p, e.len);
	put(&b, "BZh91AY&SY", 10);
	CHECK_EQ_INT(initrd_scan(b.p, b.len, &out, &l, why, sizeof(why)), 0);
	CHECK_EQ_INT(l.n, 2);
	CHECK_STREQ(l.seg[1].format, "bzip2");
	CHECK(out.len == b.len && !memcmp(out.buf, b.p, b.len));
	CHECK_STREQ(initrd_compression("\x5d\0\0", 3), "lzma");
	CHECK_STREQ(initrd_compression("\x89LZO", 4), "lzo");
	CHECK(!initrd_compression("\x28\xb5", 2));
	free(out.buf);
	free(e.p);
	free(b.p);
}

static void write_to(const char *path, const struct buf *b)
{
	CHECK_EQ_INT(write_file_atomic(path, b->p, b->len), 0);
}

TEST(the_cache_is_verified_and_a_corrupt_copy_rebuilt)
{
	char dir[] = "/tmp/nvwa-initrd-test.XXXXXX", cache[PATH_MAX], path[PATH_MAX];
	struct buf plain, b = debian_initrd("zstd", &plain);
	struct initrd_boot ib, again;
	char desc[256], side[PATH_MAX + 8];
	size_t len;
	char *got;
	int fd;

	if (!CHECK(mkdtemp(dir)))
		return;
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	snprintf(path, sizeof(path), "%s/initrd.img", dir);
	write_to(path, &b);

	CHECK_EQ_INT(initrd_prepare(path, INITRD_PREPARE_YES, cache, &ib), 0);
	CHECK(ib.prepared && !ib.cached && !ib.rebuilt);
	CHECK(!strncmp(ib.path, cache, strlen(cache)));
	CHECK_EQ_INT(read_file(ib.path, 64u << 20, &got, &len), 0);
	CHECK(len == plain.len && !memcmp(got, plain.p, len));
	free(got);
	initrd_describe(&ib, desc, sizeof(desc));
	CHECK(!strncmp(desc, "prepared cpio+zstd: ", 20));

	CHECK_EQ_INT(initrd_prepare(path, INITRD_PREPARE_YES, cache, &again), 0);
	CHECK(again.prepared && again.cached && !again.rebuilt);
	CHECK_STREQ(again.path, ib.path);

	/* One byte flipped in the cached file: never handed out, rebuilt. */
	fd = open(ib.path, O_RDWR);
	CHECK(fd >= 0 && pwrite(fd, "X", 1, 4096) == 1);
	close(fd);
	CHECK_EQ_INT(initrd_prepare(path, INITRD_PREPARE_YES, cache, &again), 0);
	CHECK(again.prepared && !again.cached && again.rebuilt);
	CHECK_EQ_INT(read_file(again.path, 64u << 20, &got, &len), 0);
	CHECK(len == plain.len && !memcmp(got, plain.p, len));
	free(got);
	initrd_describe(&again, desc, sizeof(desc));
	CHECK(strstr(desc, "rebuilt"));

	/* The checksum beside it gone: rebuilt too. */
	snprintf(side, sizeof(side), "%s.sha256", ib.path);
	CHECK_EQ_INT(unlink(side), 0);
	CHECK_EQ_INT(initrd_prepare(path, INITRD_PREPARE_AUTO, cache, &again), 0);
	CHECK(again.prepared && again.rebuilt);

	/* --initrd-prepared=no: the original, and the record says why. */
	CHECK_EQ_INT(initrd_prepare(path, INITRD_PREPARE_NO, cache, &again), 0);
	CHECK(!again.prepared);
	CHECK_STREQ(again.path, path);
	initrd_describe(&again, desc, sizeof(desc));
	CHECK_STREQ(desc, "original cpio+zstd: --initrd-prepared=no");

	/* A corrupt original is refused: the new kernel could not unpack it. */
	b.p[b.len - 50] ^= 0xff;
	write_to(path, &b);
	CHECK(initrd_prepare(path, INITRD_PREPARE_YES, cache, &again) < 0);

	/* Uncompressed already: booted as it is. */
	write_to(path, &plain);
	CHECK_EQ_INT(initrd_prepare(path, INITRD_PREPARE_YES, cache, &again), 0);
	CHECK(!again.prepared);
	CHECK_STREQ(again.why, "it is not compressed");
	rm_rf(dir);
	free(plain.p);
	free(b.p);
}

TEST(auto_prepares_only_where_it_was_measured_to_pay)
{
	char dir[] = "/tmp/nvwa-initrd-test.XXXXXX", path[PATH_MAX];
	struct initrd_boot ib;

	if (!CHECK(mkdtemp(dir)))
		return;
	snprintf(path, sizeof(path), "%s/initrd.img", dir);
	for (size_t i = 0; i < sizeof(compressors) / sizeof(compressors[0]); i++) {
		struct buf plain, b = debian_initrd(compressors[i], &plain);
		bool pays = strcmp(compressors[i], "lz4");

		write_to(path, &b);
		CHECK_EQ_INT(initrd_prepare(path, INITRD_PREPARE_AUTO, dir, &ib), 0);
		CHECKF(ib.prepared == pays, "%s", compressors[i]);
		CHECK_EQ_INT(initrd_prepare_pays(compressors[i]), pays);
		/* Asked for, it is prepared all the same. */
		CHECK_EQ_INT(initrd_prepare(path, INITRD_PREPARE_YES, dir, &ib), 0);
		CHECKF(ib.prepared, "%s", compressors[i]);
		free(plain.p);
		free(b.p);
	}
	rm_rf(dir);
}

TEST(modes_parse)
{
	enum initrd_mode m = INITRD_PREPARE_AUTO;

	CHECK_EQ_INT(initrd_mode_parse("yes", &m), 0);
	CHECK_EQ_INT(m, INITRD_PREPARE_YES);
	CHECK_EQ_INT(initrd_mode_parse("no", &m), 0);
	CHECK_EQ_INT(m, INITRD_PREPARE_NO);
	CHECK_EQ_INT(initrd_mode_parse("maybe", &m), -EINVAL);
	CHECK_EQ_INT(m, INITRD_PREPARE_NO);
}
