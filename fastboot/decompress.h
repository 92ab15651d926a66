/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Unpacking a bzImage's payload, the compressed ELF vmlinux, ahead of the
 * update: booting the ELF directly skips the decompressor at reboot, when
 * the applications are already frozen.
 */
#ifndef NVWA_DECOMPRESS_H
#define NVWA_DECOMPRESS_H

#include <stdbool.h>
#include <stddef.h>

/* True if nvwa can decompress payloads named @format ("xz", "gzip", ...). */
bool payload_supported(const char *format);

/*
 * Decompresses @len bytes of @format at @in into a new buffer of at most
 * @max bytes (free() it).  The kernel build appends the decompressed size
 * as a little-endian u32; it sizes the buffer and is checked.  Returns 0,
 * -EOPNOTSUPP for a format nvwa cannot decompress, -EFBIG past @max, or
 * -EBADMSG for corrupt data, with the reason in @why.
 */
int payload_decompress(const char *format, const void *in, size_t len,
		       size_t max, void **ret_out, size_t *ret_len, char *why,
		       size_t whylen);

/*
 * Checks that @len bytes at @elf are a bootable x86-64 vmlinux: ELF64,
 * little-endian, EM_X86_64, ET_EXEC, program headers in bounds, at least
 * one PT_LOAD whose file range is in bounds.  -ENOEXEC with @why if not.
 */
int vmlinux_check(const void *elf, size_t len, char *why, size_t whylen);

/*
 * An output that grows as a stream of unknown size decompresses into it,
 * never past @max bytes.  Start from { .max = N }; free(buf) when done.
 */
struct growbuf {
	unsigned char *buf;
	size_t len, cap, max;
};

/* Makes room for @more bytes after len: 0, -EFBIG past max, -ENOMEM. */
int growbuf_reserve(struct growbuf *g, size_t more);
int growbuf_append(struct growbuf *g, const void *p, size_t n);

/*
 * Decompresses the one @format stream that starts @in, followed by
 * anything (@len bytes in all), appending to @out: a gzip member, an xz
 * stream, a zstd frame, or lz4 legacy frames up to a zero word or the
 * end, as the kernel's own decompressors stop.  Sets *@ret_consumed to
 * the stream's length.  Returns 0, -EOPNOTSUPP, -EFBIG past out->max or
 * -EBADMSG (corrupt or truncated), with the reason in @why; out->len is
 * then unspecified.
 */
int stream_decompress(const char *format, const void *in, size_t len,
		      struct growbuf *out, size_t *ret_consumed, char *why,
		      size_t whylen);

#endif
