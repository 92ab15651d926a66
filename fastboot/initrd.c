// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/tsc.h"
#include "common/util.h"
#include "fastboot/decompress.h"
#include "fastboot/initrd.h"
#include "fastboot/prepare.h"

#define CPIO_HEADER 110
#define ALIGN4(x) (((x) + 3) & ~(size_t)3)

/*
 * Whether `auto` prepares an initrd of each format, as measured (make
 * bench, section 9; README "Measured"): in the test VM, the new kernel's
 * unpack of a Debian-shaped 37 MiB initramfs took (median of three runs)
 * 1.6 s with zstd, 1.1 s with gzip and 5.9 s with xz (one run), against
 * 0.36-0.51 s prepared; with lz4 0.48 s, against 0.55 s prepared: lz4
 * unpacks as fast as the kernel copies, and the prepared file is twice as
 * large for kexec to copy, so lz4 is booted as it is.  Formats nvwa cannot
 * decompress are left to the kernel whatever the mode.
 */
static const struct {
	const char *name;
	const unsigned char magic[6];
	size_t len;
	bool pays;
} formats[] = {
	{ "gzip", { 0x1f, 0x8b }, 2, true },
	{ "gzip", { 0x1f, 0x9e }, 2, true },
	{ "bzip2", { 'B', 'Z', 'h' }, 3, false },
	{ "lzma", { 0x5d, 0x00, 0x00 }, 3, false },
	{ "xz", { 0xfd, '7', 'z', 'X', 'Z', 0x00 }, 6, true },
	{ "lzo", { 0x89, 'L', 'Z', 'O' }, 4, false },
	{ "lz4", { 0x02, 0x21, 0x4c, 0x18 }, 4, false },
	{ "zstd", { 0x28, 0xb5, 0x2f, 0xfd }, 4, true },
};

const char *initrd_compression(const void *p, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		if (len >= formats[i].len && !memcmp(p, formats[i].magic, formats[i].len))
			return formats[i].name;
	return NULL;
}

bool initrd_prepare_pays(const char *format)
{
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		if (!strcmp(format, formats[i].name))
			return formats[i].pays;
	return false;
}

/* Eight hex digits at @p, as a newc header field. */
static bool hex8(const unsigned char *p, uint32_t *ret)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		unsigned char c = p[i];
		uint32_t d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return false;
		v = v << 4 | d;
	}
	*ret = v;
	return true;
}

/*
 * One cpio archive at @pos of @p (@pos a multiple of 4 from @p, as the
 * kernel's alignment is counted): entries up to TRAILER!!!, each header
 * and name, and each body, padded to 4 bytes.  *@ret_end is where the
 * archive ends (a multiple of 4, or @len).
 */
static int cpio_archive(const unsigned char *p, size_t len, size_t pos,
			size_t *ret_end, uint32_t *ret_entries, char *why,
			size_t whylen)
{
	uint32_t entries = 0;

	for (;;) {
		uint32_t filesize, namesize;
		const unsigned char *h = p + pos;
		size_t name, body;

		if (len - pos < CPIO_HEADER)
			return set_why(why, whylen, -EBADMSG, "cpio header at %zu runs past the end", pos);
		if (memcmp(h, "070701", 6) && memcmp(h, "070702", 6))
			return set_why(why, whylen, -EBADMSG, "no cpio magic at %zu", pos);
		if (!hex8(h + 6 + 6 * 8, &filesize) || !hex8(h + 6 + 11 * 8, &namesize))
			return set_why(why, whylen, -EBADMSG, "cpio header at %zu has a field that is not hex", pos);
		name = pos + CPIO_HEADER;
		if (namesize == 0 || namesize > len - name || p[name + namesize - 1] != '\0')
			return set_why(why, whylen, -EBADMSG, "cpio entry at %zu: bad name", pos);
		body = ALIGN4(name + namesize);
		if (body > len || filesize > len - body)
			return set_why(why, whylen, -EBADMSG, "cpio entry at %zu runs past the end", pos);
		pos = body + filesize;
		pos = ALIGN4(pos) <= len ? ALIGN4(pos) : len;
		if (namesize == sizeof("TRAILER!!!") && !memcmp(p + name, "TRAILER!!!", namesize))
			break;
		entries++;
	}
	*ret_end = pos;
	*ret_entries = entries;
	return 0;
}

int cpio_check(const void *buf, size_t len, uint32_t *ret_entries, char *why,
	       size_t whylen)
{
	const unsigned char *p = buf;
	uint32_t entries = 0, n;
	size_t pos = 0;
	bool any = false;
	int r;

	while (pos < len) {
		if (!p[pos]) {
			pos++;
			continue;
		}
		if (p[pos] != '0' || pos & 3)
			return set_why(why, whylen, -EBADMSG, "junk at %zu of the decompressed archive", pos);
		r = cpio_archive(p, len, pos, &pos, &n, why, whylen);
		if (r < 0)
			return r;
		entries += n;
		any = true;
	}
	if (!any)
		return set_why(why, whylen, -EBADMSG, "the decompressed archive holds no cpio");
	*ret_entries = entries;
	return 0;
}

static int pad4(struct growbuf *out)
{
	static const unsigned char zero[4];

	return growbuf_append(out, zero, ALIGN4(out->len) - out->len);
}

static int add_segment(struct initrd_layout *l, const char *format, size_t offset,
		       size_t length, size_t unpacked, uint32_t entries,
		       char *why, size_t whylen)
{
	if (l->n == INITRD_MAX_SEGMENTS)
		return set_why(why, whylen, -EFBIG, "more than %d archives", INITRD_MAX_SEGMENTS);
	l->seg[l->n++] = (struct initrd_segment){ format, offset, length, unpacked, entries };
	l->unpacked += unpacked;
	return 0;
}

static int grow_err(int r, char *why, size_t whylen)
{
	return set_why(why, whylen, r, "the prepared initrd would be larger than %u MiB",
		       INITRD_UNPACKED_MAX >> 20);
}

int initrd_scan(const void *buf, size_t len, struct growbuf *out,
		struct initrd_layout *ret, char *why, size_t whylen)
{
	const unsigned char *p = buf;
	struct initrd_layout l = { 0 };
	size_t pos = 0, end, start, used;
	const char *format;
	uint32_t n;
	int r;

	while (pos < len) {
		if (!p[pos]) {
			pos++;
			continue;
		}
		if (p[pos] == '0' && !(pos & 3)) {
			r = cpio_archive(p, len, pos, &end, &n, why, whylen);
			if (r == 0)
				r = add_segment(&l, "cpio", pos, end - pos, end - pos, n, why, whylen);
			if (r < 0)
				return r;
			if (out && ((r = pad4(out)) < 0 || (r = growbuf_append(out, p + pos, end - pos)) < 0))
				return grow_err(r, why, whylen);
			pos = end;
			continue;
		}
		format = initrd_compression(p + pos, len - pos);
		if (!format)
			return set_why(why, whylen, -EBADMSG,
				       "byte %#x at %zu is neither cpio, padding nor a compressor's magic",
				       p[pos], pos);
		if (!out || !payload_supported(format)) {
			/* Left for the kernel: it runs to the end, for all we know. */
			r = add_segment(&l, format, pos, len - pos, 0, 0, why, whylen);
			if (r < 0)
				return r;
			if (out && (r = growbuf_append(out, p + pos, len - pos)) < 0)
				return grow_err(r, why, whylen);
			break;
		}
		r = pad4(out);
		if (r < 0)
			return grow_err(r, why, whylen);
		start = out->len;
		r = stream_decompress(format, p + pos, len - pos, out, &used, why, whylen);
		if (r < 0)
			return r;
		r = cpio_check(out->buf + start, out->len - start, &n, why, whylen);
		if (r == 0)
			r = add_segment(&l, format, pos, used, out->len - start, n, why, whylen);
		if (r < 0)
			return r;
		pos += used;
	}
	*ret = l;
	return 0;
}

void initrd_formats(const struct initrd_layout *l, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		bool seen = false;

		for (size_t j = 0; j < i; j++)
			seen |= !strcmp(l->seg[j].format, l->seg[i].format);
		if (!seen && len < size)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? "+" : "",
						l->seg[i].format);
	}
	if (!l->n)
		snprintf(buf, size, "empty");
}

const char *initrd_cache_dir(void)
{
	const char *dir = getenv("NVWA_INITRD_CACHE");

	return dir && *dir ? dir : "/var/cache/nvwa/initrds";
}

/* The first compressed segment's format, or NULL if none is. */
static const char *compressed(const struct initrd_layout *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->seg[i].format, "cpio"))
			return l->seg[i].format;
	return NULL;
}

/*
 * A cached prepared initrd is booted only if it hashes to what nvwa wrote
 * and is still all uncompressed cpio: anything else is rebuilt.
 */
static int cached_ok(const char *path, struct initrd_boot *b)
{
	struct initrd_layout l;
	char why[192];
	size_t len;
	char *buf;
	int r;

	r = cache_read_verified(path, INITRD_UNPACKED_MAX, &buf, &len, why, sizeof(why));
	if (r == -ENOENT)
		return 0;
	if (r == 0) {
		r = initrd_scan(buf, len, NULL, &l, why, sizeof(why));
		if (r == 0 && (compressed(&l) || !l.n))
			r = set_why(why, sizeof(why), -EBADMSG, "it is not all uncompressed cpio");
		free(buf);
	}
	if (r < 0) {
		log_warn("  initrd: the cached prepared %s does not check out (%s): never booted, rebuilding it",
			 path, why);
		b->rebuilt = true;
		return 0;
	}
	b->prepared_size = len;
	return 1;
}

int initrd_prepare(const char *initrd, enum initrd_mode mode,
		   const char *cache_dir, struct initrd_boot *ret)
{
	struct initrd_boot b = { 0 };
	struct growbuf out = { .max = INITRD_UNPACKED_MAX };
	struct initrd_layout l;
	const char *format;
	char why[192];
	size_t len;
	uint64_t t;
	char *buf;
	int r;

	r = read_file(initrd, INITRD_MAX, &buf, &len);
	if (r < 0)
		return log_error_errno(r, "Initrd %s: %m", initrd);
	strscpy(b.path, initrd, sizeof(b.path));
	b.size = len;
	r = initrd_scan(buf, len, NULL, &l, why, sizeof(why));
	if (r == 0 && !l.n)
		r = set_why(why, sizeof(why), -EBADMSG, "it holds no archive");
	if (r < 0) {
		log_error_errno(r, "Initrd %s is not an initramfs the new kernel could unpack: %s",
				initrd, why);
		goto cleanup;
	}
	initrd_formats(&l, b.formats, sizeof(b.formats));
	format = compressed(&l);
	if (!format) {
		strscpy(b.why, "it is not compressed", sizeof(b.why));
		goto done;
	}
	if (mode == INITRD_PREPARE_NO || !cache_dir) {
		strscpy(b.why, "--initrd-prepared=no", sizeof(b.why));
		goto done;
	}
	if (!payload_supported(format)) {
		xsnprintf(b.why, sizeof(b.why), "nvwa cannot decompress %s; the kernel will", format);
		goto done;
	}
	if (mode == INITRD_PREPARE_AUTO && !initrd_prepare_pays(format)) {
		xsnprintf(b.why, sizeof(b.why),
			  "the kernel's %s unpack costs less than the larger file (--initrd-prepared=yes prepares it)",
			  format);
		goto done;
	}

	sha256_hex(buf, len, b.sha256);
	if (xsnprintf(b.path, sizeof(b.path), "%s/%s.cpio", cache_dir, b.sha256) < 0) {
		r = log_error_errno(-ENAMETOOLONG, "Initrd cache path too long: %s", cache_dir);
		goto cleanup;
	}
	b.prepared = true;
	if (cached_ok(b.path, &b)) {
		b.cached = true;
		goto done;
	}
	t = tsc_read();
	r = initrd_scan(buf, len, &out, &l, why, sizeof(why));
	if (r < 0) {
		log_error_errno(r, "Initrd %s does not unpack: %s; the new kernel could not unpack it either",
				initrd, why);
		goto cleanup;
	}
	r = mkdir_p(cache_dir, 0700);
	if (r == 0)
		r = cache_write_verified(b.path, out.buf, out.len);
	if (r < 0) {
		log_error_errno(r, "Failed to write %s: %m", b.path);
		goto cleanup;
	}
	b.prepared_size = out.len;
	log_info("  initrd: decompressed its %s (%zu KiB) into %zu KiB of cpio in %.0f ms%s",
		 b.formats, len >> 10, out.len >> 10, tsc_to_ms(tsc_read() - t, tsc_calibrate_khz()),
		 b.rebuilt ? ", rebuilt" : "");
done:
	r = 0;
	*ret = b;
cleanup:
	free(out.buf);
	free(buf);
	return r;
}

void initrd_describe(const struct initrd_boot *b, char *buf, size_t size)
{
	if (b->prepared)
		snprintf(buf, size, "prepared %s: %.1f MiB -> %.1f MiB, sha256 verified%s",
			 b->formats, b->size / 1048576.0, b->prepared_size / 1048576.0,
			 b->rebuilt ? ", rebuilt: the cached copy did not verify" :
			 b->cached ? " (cached)" : "");
	else
		snprintf(buf, size, "original %s: %s", b->formats, b->why);
}

int initrd_mode_parse(const char *word, enum initrd_mode *ret)
{
	static const char *const names[] = {
		[INITRD_PREPARE_AUTO] = "auto",
		[INITRD_PREPARE_YES] = "yes",
		[INITRD_PREPARE_NO] = "no",
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(word, names[i])) {
			*ret = (enum initrd_mode)i;
			return 0;
		}
	return -EINVAL;
}

int initrd_check(const char *initrd, enum initrd_mode mode, struct initrd_boot *ret)
{
	struct initrd_boot b;
	int r;

	r = initrd_prepare(initrd, mode, initrd_cache_dir(), &b);
	if (r < 0)
		return r;
	if (b.prepared)
		log_info("  initrd: %s (%s, %.1f MiB): booting the prepared %s (%.1f MiB of cpio%s, sha256 verified)",
			 initrd, b.formats, b.size / 1048576.0, b.path, b.prepared_size / 1048576.0,
			 b.cached ? ", cached" : "");
	else
		log_info("  initrd: %s (%s, %.1f MiB): booting it as it is: %s",
			 initrd, b.formats, b.size / 1048576.0, b.why);
	*ret = b;
	return 0;
}
