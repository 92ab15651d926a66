// SPDX-License-Identifier: GPL-2.0
#include <elf.h>
#include <errno.h>
#include <lz4.h>
#include <lzma.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "common/util.h"
#include "fastboot/decompress.h"

struct sink {
	uint8_t *buf;
	size_t len;
	size_t cap;
};

static int gunzip(const uint8_t *in, size_t len, struct sink *out, char *why,
		  size_t whylen)
{
	z_stream s = { .next_in = (Bytef *)in, .avail_in = (uInt)len };
	int r;

	if (len > UINT32_MAX)
		return set_why(why, whylen, -EFBIG, "gzip payload too large");
	/* 16 + MAX_WBITS: expect a gzip header, not a raw zlib one. */
	if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK)
		return set_why(why, whylen, -ENOMEM, "zlib: cannot initialise");
	s.next_out = out->buf;
	s.avail_out = (uInt)out->cap;
	r = inflate(&s, Z_FINISH);
	out->len = s.total_out;
	inflateEnd(&s);
	if (r == Z_STREAM_END)
		return 0;
	if (r == Z_BUF_ERROR && s.avail_out == 0)
		return set_why(why, whylen, -EFBIG, "gzip: output larger than %zu bytes", out->cap);
	return set_why(why, whylen, -EBADMSG, "gzip: %s", s.msg ? s.msg : "corrupt data");
}

/* As much memory as zstd's 2^27 window. */
#define XZ_MEMLIMIT (128U << 20)

static int unxz(const uint8_t *in, size_t len, struct sink *out, char *why,
		size_t whylen)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret r;

	/*
	 * The kernel's xz carries a BCJ filter and a CRC32: liblzma does both.
	 * The dictionary size comes from the header, untrusted: bound the
	 * decoder's memory as zstd's window is bounded (the kernel's own xz
	 * dictionary is 32 MiB).
	 */
	if (lzma_stream_decoder(&s, XZ_MEMLIMIT, 0) != LZMA_OK)
		return set_why(why, whylen, -ENOMEM, "xz: cannot initialise");
	s.next_in = in;
	s.avail_in = len;
	s.next_out = out->buf;
	s.avail_out = out->cap;
	r = lzma_code(&s, LZMA_FINISH);
	out->len = s.total_out;
	lzma_end(&s);
	if (r == LZMA_STREAM_END)
		return 0;
	if (r == LZMA_MEMLIMIT_ERROR)
		return set_why(why, whylen, -E2BIG, "xz: the header asks for more than %u MiB of decoder memory",
			       XZ_MEMLIMIT >> 20);
	if (r == LZMA_BUF_ERROR && out->len == out->cap)
		return set_why(why, whylen, -EFBIG, "xz: output larger than %zu bytes", out->cap);
	return set_why(why, whylen, -EBADMSG, "xz: corrupt data (liblzma error %d)", (int)r);
}

static int unzstd(const uint8_t *in, size_t len, struct sink *out, char *why,
		  size_t whylen)
{
	ZSTD_DStream *d = ZSTD_createDStream();
	ZSTD_inBuffer ib = { in, len, 0 };
	ZSTD_outBuffer ob = { out->buf, out->cap, 0 };
	size_t r;

	if (!d)
		return set_why(why, whylen, -ENOMEM, "zstd: cannot initialise");
	/* The kernel compresses with --long: allow its 128 MiB window. */
	ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, 27);
	do {
		r = ZSTD_decompressStream(d, &ob, &ib);
	} while (!ZSTD_isError(r) && r != 0 && ob.pos < ob.size && ib.pos < ib.size);
	out->len = ob.pos;
	ZSTD_freeDStream(d);
	if (ZSTD_isError(r))
		return set_why(why, whylen, -EBADMSG, "zstd: %s", ZSTD_getErrorName(r));
	if (r != 0)
		return set_why(why, whylen, ob.pos == ob.size ? -EFBIG : -EBADMSG,
			       "zstd: %s", ob.pos == ob.size ? "output too large" : "truncated frame");
	return 0;
}

/* The kernel's lz4 is the legacy frame: magic, then [le32 size][block]... */
static int unlz4(const uint8_t *in, size_t len, struct sink *out, char *why,
		 size_t whylen)
{
	const size_t block_max = 8u << 20;
	size_t pos = 4;

	if (len < 4 || memcmp(in, "\x02\x21\x4c\x18", 4))
		return set_why(why, whylen, -EBADMSG, "lz4: not a legacy frame");
	out->len = 0;
	while (pos + 4 <= len) {
		uint32_t csize = (uint32_t)in[pos] | (uint32_t)in[pos + 1] << 8 |
				 (uint32_t)in[pos + 2] << 16 | (uint32_t)in[pos + 3] << 24;
		size_t room = out->cap - out->len;
		int n;

		/* A new frame's magic, or the appended size: the frame ended. */
		if (csize == 0x184c2102 || pos + 4 + csize > len)
			break;
		if (csize > (uint32_t)LZ4_compressBound((int)block_max))
			return set_why(why, whylen, -EBADMSG, "lz4: block of %u bytes", csize);
		n = LZ4_decompress_safe((const char *)in + pos + 4,
					(char *)out->buf + out->len, (int)csize,
					(int)(room < block_max ? room : block_max));
		if (n < 0)
			return set_why(why, whylen, room < block_max ? -EFBIG : -EBADMSG,
				       "lz4: corrupt block at %zu", pos);
		out->len += (size_t)n;
		pos += 4 + csize;
	}
	return out->len ? 0 : set_why(why, whylen, -EBADMSG, "lz4: no block");
}

/*
 * The kernel build appends the decompressed size to every payload but a
 * gzip one, whose own trailer ends with it (ISIZE): that one is read
 * where the others' is, but stays part of the stream.
 */
static const struct decompressor {
	const char *name;
	int (*run)(const uint8_t *in, size_t len, struct sink *out, char *why,
		   size_t whylen);
	bool size_in_stream;
} decompressors[] = {
	{ "gzip", gunzip, true },
	{ "xz", unxz, false },
	{ "zstd", unzstd, false },
	{ "lz4", unlz4, false },
};

static const struct decompressor *find(const char *format)
{
	for (size_t i = 0; i < sizeof(decompressors) / sizeof(decompressors[0]); i++)
		if (!strcmp(format, decompressors[i].name))
			return &decompressors[i];
	return NULL;
}

bool payload_supported(const char *format)
{
	return find(format) != NULL;
}

int payload_decompress(const char *format, const void *in, size_t len,
		       size_t max, void **ret_out, size_t *ret_len, char *why,
		       size_t whylen)
{
	const struct decompressor *d = find(format);
	const uint8_t *p = in;
	struct sink out = { 0 };
	uint32_t expect;
	int r;

	if (!d)
		return set_why(why, whylen, -EOPNOTSUPP, "nvwa cannot decompress %s payloads", format);
	if (len < 8)
		return set_why(why, whylen, -EBADMSG, "payload of %zu bytes is too short", len);
	expect = (uint32_t)p[len - 4] | (uint32_t)p[len - 3] << 8 |
		 (uint32_t)p[len - 2] << 16 | (uint32_t)p[len - 1] << 24;
	if (expect == 0 || expect > max)
		return set_why(why, whylen, expect ? -EFBIG : -EBADMSG,
			       "the payload says it decompresses to %u bytes (limit %zu)",
			       expect, max);
	out.cap = expect;
	out.buf = malloc(out.cap);
	if (!out.buf)
		return set_why(why, whylen, -ENOMEM, "cannot allocate %zu bytes", out.cap);
	r = d->run(p, d->size_in_stream ? len : len - 4, &out, why, whylen);
	if (r == 0 && out.len != expect)
		r = set_why(why, whylen, -EBADMSG, "%s: decompressed to %zu bytes, the payload says %u",
			    format, out.len, expect);
	if (r < 0) {
		free(out.buf);
		return r;
	}
	*ret_out = out.buf;
	*ret_len = out.len;
	return 0;
}

int vmlinux_check(const void *elf, size_t len, char *why, size_t whylen)
{
	const Elf64_Ehdr *eh;
	Elf64_Ehdr copy;
	int loads = 0;

	if (len < sizeof(copy))
		return set_why(why, whylen, -ENOEXEC, "not an ELF file");
	/* The ELF sits at any alignment in the caller's buffer: copy, do not cast. */
	memcpy(&copy, elf, sizeof(copy));
	eh = &copy;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return set_why(why, whylen, -ENOEXEC, "not an ELF file");
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_machine != EM_X86_64 || eh->e_type != ET_EXEC)
		return set_why(why, whylen, -ENOEXEC, "not an x86-64 executable ELF");
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
	    eh->e_phoff > len || (len - eh->e_phoff) / sizeof(Elf64_Phdr) < eh->e_phnum)
		return set_why(why, whylen, -ENOEXEC, "program headers out of bounds");
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, (const uint8_t *)elf + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
			return set_why(why, whylen, -ENOEXEC, "segment %u lies outside the file", i);
		loads++;
	}
	if (!loads)
		return set_why(why, whylen, -ENOEXEC, "no loadable segment");
	return 0;
}

int growbuf_reserve(struct growbuf *g, size_t more)
{
	size_t want, cap;
	unsigned char *p;

	if (more > g->max || g->len > g->max - more)
		return -EFBIG;
	want = g->len + more;
	if (want <= g->cap)
		return 0;
	cap = g->cap ? g->cap : 1u << 20;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	if (cap > g->max)
		cap = g->max;
	p = realloc(g->buf, cap);
	if (!p)
		return -ENOMEM;
	g->buf = p;
	g->cap = cap;
	return 0;
}

int growbuf_append(struct growbuf *g, const void *p, size_t n)
{
	int r;

	if (!n)
		return 0;
	r = growbuf_reserve(g, n);
	if (r < 0)
		return r;
	memcpy(g->buf + g->len, p, n);
	g->len += n;
	return 0;
}

/* Room for the next piece of output: what is left below max, up to 1 MiB. */
static int room(struct growbuf *g, size_t *ret, char *why, size_t whylen,
		const char *format)
{
	size_t left = g->max - g->len, want = left < (1u << 20) ? left : 1u << 20;
	int r;

	if (!want)
		return set_why(why, whylen, -EFBIG, "%s: output larger than %zu bytes",
			       format, g->max);
	r = growbuf_reserve(g, want);
	if (r < 0)
		return set_why(why, whylen, r, "%s: cannot grow the output to %zu bytes",
			       format, g->len + want);
	*ret = (g->cap < g->max ? g->cap : g->max) - g->len;
	return 0;
}

static int gunzip_stream(const uint8_t *in, size_t len, struct growbuf *out,
			 size_t *ret_consumed, char *why, size_t whylen)
{
	z_stream s = { .next_in = (Bytef *)in };
	size_t have;
	int r = Z_OK, err = 0;

	if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK)
		return set_why(why, whylen, -ENOMEM, "zlib: cannot initialise");
	/* zlib counts in uInt: feed at most 1 GiB at a time. */
	while (r != Z_STREAM_END) {
		size_t fed = (size_t)(s.next_in - in);

		if (!s.avail_in)
			s.avail_in = (uInt)(len - fed < (1u << 30) ? len - fed : 1u << 30);
		err = room(out, &have, why, whylen, "gzip");
		if (err < 0)
			break;
		s.next_out = out->buf + out->len;
		s.avail_out = (uInt)(have < (1u << 30) ? have : 1u << 30);
		r = inflate(&s, Z_NO_FLUSH);
		out->len = (size_t)(s.next_out - out->buf);
		if (r == Z_BUF_ERROR && !s.avail_in && (size_t)(s.next_in - in) == len) {
			err = set_why(why, whylen, -EBADMSG, "gzip: truncated member");
			break;
		}
		if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) {
			err = set_why(why, whylen, -EBADMSG, "gzip: %s", s.msg ? s.msg : "corrupt data");
			break;
		}
	}
	*ret_consumed = (size_t)(s.next_in - in);
	inflateEnd(&s);
	return err;
}

static int unxz_stream(const uint8_t *in, size_t len, struct growbuf *out,
		       size_t *ret_consumed, char *why, size_t whylen)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret r = LZMA_OK;
	size_t have;
	int err = 0;

	/* One stream, no concatenation: what follows it is the next segment's. */
	if (lzma_stream_decoder(&s, XZ_MEMLIMIT, 0) != LZMA_OK)
		return set_why(why, whylen, -ENOMEM, "xz: cannot initialise");
	s.next_in = in;
	s.avail_in = len;
	while (r != LZMA_STREAM_END) {
		err = room(out, &have, why, whylen, "xz");
		if (err < 0)
			break;
		s.next_out = out->buf + out->len;
		s.avail_out = have;
		r = lzma_code(&s, LZMA_RUN);
		out->len = (size_t)(s.next_out - out->buf);
		if (r == LZMA_MEMLIMIT_ERROR) {
			err = set_why(why, whylen, -E2BIG, "xz: the header asks for more than %u MiB of decoder memory",
				      XZ_MEMLIMIT >> 20);
			break;
		}
		if (r != LZMA_OK && r != LZMA_STREAM_END) {
			err = set_why(why, whylen, -EBADMSG, "xz: corrupt data (liblzma error %d)", (int)r);
			break;
		}
		if (r == LZMA_OK && !s.avail_in && s.avail_out) {
			err = set_why(why, whylen, -EBADMSG, "xz: truncated stream");
			break;
		}
	}
	*ret_consumed = len - s.avail_in;
	lzma_end(&s);
	return err;
}

static int unzstd_stream(const uint8_t *in, size_t len, struct growbuf *out,
			 size_t *ret_consumed, char *why, size_t whylen)
{
	ZSTD_DStream *d = ZSTD_createDStream();
	ZSTD_inBuffer ib = { in, len, 0 };
	size_t r = 1, have;
	int err = 0;

	if (!d)
		return set_why(why, whylen, -ENOMEM, "zstd: cannot initialise");
	ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, 27);
	/* 0 from ZSTD_decompressStream: the frame is complete and flushed. */
	while (r != 0) {
		ZSTD_outBuffer ob;

		err = room(out, &have, why, whylen, "zstd");
		if (err < 0)
			break;
		ob = (ZSTD_outBuffer){ out->buf + out->len, have, 0 };
		r = ZSTD_decompressStream(d, &ob, &ib);
		out->len += ob.pos;
		if (ZSTD_isError(r)) {
			err = set_why(why, whylen, -EBADMSG, "zstd: %s", ZSTD_getErrorName(r));
			break;
		}
		if (r != 0 && ib.pos == ib.size && ob.pos < ob.size) {
			err = set_why(why, whylen, -EBADMSG, "zstd: truncated frame");
			break;
		}
	}
	*ret_consumed = ib.pos;
	ZSTD_freeDStream(d);
	return err;
}

/*
 * lz4 legacy: [magic][le32 size][block]...; another magic starts another
 * frame of the same stream, as the kernel's unlz4 reads it; a zero word
 * (padding) or the end of the input ends it.
 */
static int unlz4_stream(const uint8_t *in, size_t len, struct growbuf *out,
			size_t *ret_consumed, char *why, size_t whylen)
{
	const size_t block_max = 8u << 20;
	size_t pos = 0, blocks = 0, left;
	int r;

	while (len - pos >= 4) {
		uint32_t csize = (uint32_t)in[pos] | (uint32_t)in[pos + 1] << 8 |
				 (uint32_t)in[pos + 2] << 16 | (uint32_t)in[pos + 3] << 24;
		int n;

		if (csize == 0x184c2102) {
			pos += 4;
			continue;
		}
		if (!pos)
			return set_why(why, whylen, -EBADMSG, "lz4: not a legacy frame");
		if (csize == 0)
			break;
		if (csize > (uint32_t)LZ4_compressBound((int)block_max))
			return set_why(why, whylen, -EBADMSG, "lz4: block of %u bytes at %zu", csize, pos);
		if (csize > len - pos - 4)
			return set_why(why, whylen, -EBADMSG, "lz4: truncated block at %zu", pos);
		left = out->max - out->len < block_max ? out->max - out->len : block_max;
		r = growbuf_reserve(out, left);
		if (r < 0)
			return set_why(why, whylen, r, "lz4: cannot grow the output");
		n = LZ4_decompress_safe((const char *)in + pos + 4, (char *)out->buf + out->len,
					(int)csize, (int)left);
		if (n < 0)
			return set_why(why, whylen, left < block_max ? -EFBIG : -EBADMSG,
				       "lz4: corrupt block at %zu", pos);
		out->len += (size_t)n;
		pos += 4 + csize;
		blocks++;
	}
	if (!blocks)
		return set_why(why, whylen, -EBADMSG, "lz4: no block");
	*ret_consumed = pos;
	return 0;
}

static const struct {
	const char *name;
	int (*run)(const uint8_t *in, size_t len, struct growbuf *out,
		   size_t *ret_consumed, char *why, size_t whylen);
} streams[] = {
	{ "gzip", gunzip_stream },
	{ "xz", unxz_stream },
	{ "zstd", unzstd_stream },
	{ "lz4", unlz4_stream },
};

int stream_decompress(const char *format, const void *in, size_t len,
		      struct growbuf *out, size_t *ret_consumed, char *why,
		      size_t whylen)
{
	size_t consumed = 0;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(streams); i++) {
		if (strcmp(format, streams[i].name))
			continue;
		r = streams[i].run(in, len, out, &consumed, why, whylen);
		if (r == 0)
			*ret_consumed = consumed;
		return r;
	}
	return set_why(why, whylen, -EOPNOTSUPP, "nvwa cannot decompress %s", format);
}
