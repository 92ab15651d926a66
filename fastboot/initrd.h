/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The prepared initrd.  An initramfs is a concatenation of cpio archives
 * (newc), each possibly compressed, with zero padding between them:
 * Debian's initramfs-tools writes an uncompressed early cpio (microcode)
 * and then the main one compressed with zstd, gzip, xz or lz4.  The new
 * kernel decompresses that while it boots, inside the downtime.  nvwa can
 * do it beforehand: the same archives, every compressed one decompressed,
 * so the kernel's unpack only copies.  The result is cached under the
 * SHA-256 of the original, with its own SHA-256 beside it, and verified
 * before kexec is given it: a mismatch is rebuilt, never booted.
 *
 * It is bigger than the original, so kexec copies more at load and at the
 * jump, and the new kernel holds more memory until the unpack frees it:
 * it pays only where the kernel's decompressor is slow, so `auto` prepares
 * only the formats measured to pay (initrd.c, README "Measured").
 */
#ifndef NVWA_INITRD_H
#define NVWA_INITRD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INITRD_MAX_SEGMENTS 32
/* The original, and what it may unpack to. */
#define INITRD_MAX (1024u << 20)
#define INITRD_UNPACKED_MAX (2047u << 20)

enum initrd_mode {
	INITRD_PREPARE_AUTO,	/* where it was measured to pay */
	INITRD_PREPARE_YES,
	INITRD_PREPARE_NO,
};

/* One archive of the concatenation, as the kernel's unpack meets it. */
struct initrd_segment {
	const char *format;	/* "cpio", or its compressor ("zstd", ...) */
	size_t offset, length;	/* in the file; compressed: the stream */
	size_t unpacked;	/* its cpio bytes; 0 if not decompressed */
	uint32_t entries;	/* cpio entries, trailers excluded; 0 if not read */
};

struct initrd_layout {
	size_t n;
	struct initrd_segment seg[INITRD_MAX_SEGMENTS];
	size_t unpacked;	/* every segment's cpio bytes */
};

/*
 * The compressor whose magic starts @p (the kernel's decompress_method()
 * table: gzip, bzip2, lzma, xz, lzo, lz4, zstd), or NULL.
 */
const char *initrd_compression(const void *p, size_t len);

/*
 * Checks @len bytes as the kernel's unpack reads the inside of a
 * decompressed archive: newc cpio archives, each ending with TRAILER!!!,
 * zero padding between them.  Counts the entries.  -EBADMSG with @why.
 */
int cpio_check(const void *p, size_t len, uint32_t *ret_entries, char *why,
	       size_t whylen);

/*
 * Walks the initramfs @buf as the kernel's unpack_to_rootfs() does:
 * zeros are skipped, a '0' at a 4-byte boundary starts a cpio archive,
 * anything else must be a compressor's magic.  With @out, compressed
 * segments are decompressed, their cpio checked, and the whole written to
 * @out as the prepared initrd (every archive uncompressed, each at a
 * 4-byte boundary); a format nvwa cannot decompress is then copied as it
 * is, to the end of the file, for the kernel to unpack.  Without @out only
 * the segments up to the first compressed one are known (its length is
 * the rest of the file).  Returns 0 and fills *@ret, or -EBADMSG, -EFBIG
 * or -ENOMEM with @why; never reads outside @buf.
 */
struct growbuf;
int initrd_scan(const void *buf, size_t len, struct growbuf *out,
		struct initrd_layout *ret, char *why, size_t whylen);

/* "cpio", "zstd", "cpio+zstd", ...: the formats in @l, in order, once each. */
void initrd_formats(const struct initrd_layout *l, char *buf, size_t size);

/* Whether `auto` prepares an initrd compressed with @format. */
bool initrd_prepare_pays(const char *format);

/* What kexec is given for an initrd, and why. */
struct initrd_boot {
	char path[PATH_MAX];	/* the original, or the prepared file */
	bool prepared;
	bool cached;		/* found prepared and verified, nothing done */
	bool rebuilt;		/* a cached one failed verification */
	char formats[64];	/* of the original, e.g. "cpio+zstd" */
	size_t size, prepared_size;
	char sha256[65];	/* of the original, "" if not hashed */
	char why[192];		/* why it boots as it is, or "" */
};

/* $NVWA_INITRD_CACHE, or /var/cache/nvwa/initrds. */
const char *initrd_cache_dir(void);

/*
 * Decides what kexec gets for @initrd under @mode and, when that is the
 * prepared initrd, makes sure a verified one is in @cache_dir (rebuilding
 * one that does not verify).  An initrd nvwa cannot decompress boots as it
 * is, with the reason.  Returns 0 and fills *@ret, or a negative errno
 * (logged): @initrd unreadable or corrupt (the new kernel could not unpack
 * it either), or the cache not writable.
 */
int initrd_prepare(const char *initrd, enum initrd_mode mode,
		   const char *cache_dir, struct initrd_boot *ret);

/*
 * initrd_prepare() into initrd_cache_dir(), saying on the terminal what
 * will boot: the prepared file or the original, and why.
 */
int initrd_check(const char *initrd, enum initrd_mode mode, struct initrd_boot *ret);

/* "prepared zstd: 12 MiB -> 36 MiB, sha256 verified", for the record. */
void initrd_describe(const struct initrd_boot *b, char *buf, size_t size);

/* --initrd-prepared=WORD: 0, or -EINVAL. */
int initrd_mode_parse(const char *word, enum initrd_mode *ret);

#endif
