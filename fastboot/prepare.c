// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/tsc.h"
#include "common/util.h"
#include "fastboot/decompress.h"
#include "fastboot/prepare.h"

#define IMAGE_MAX (512u << 20)
#define VMLINUX_MAX (1024u << 20)

const char *kimage_cache_dir(void)
{
	const char *dir = getenv("NVWA_KERNEL_CACHE");

	return dir && *dir ? dir : "/var/cache/nvwa/kernels";
}

void sha256_hex(const void *buf, size_t len, char out[65])
{
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, len, buf);
	sha256_digest(&ctx, sizeof(digest), digest);
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
		sprintf(out + 2 * i, "%02x", digest[i]);
}

/* PATH.sha256 holds the file's own SHA-256, written with it. */
static int sidecar_path(const char *path, char *buf, size_t size)
{
	return xsnprintf(buf, size, "%s.sha256", path) < 0 ? -ENAMETOOLONG : 0;
}

int cache_read_verified(const char *path, size_t max, char **ret_buf,
			size_t *ret_len, char *why, size_t whylen)
{
	char side[PATH_MAX + 8], want[80], got[65];
	size_t len;
	char *buf;
	int r;

	if (access(path, F_OK) < 0)
		return -ENOENT;
	r = sidecar_path(path, side, sizeof(side));
	if (r < 0)
		return set_why(why, whylen, r, "its checksum's path is too long");
	r = read_one_line(side, want, sizeof(want));
	if (r < 0)
		return set_why(why, whylen, -EBADMSG, "no checksum beside it (%s)", strerror(-r));
	r = read_file(path, max, &buf, &len);
	if (r < 0)
		return set_why(why, whylen, -EBADMSG, "cannot read it (%s)", strerror(-r));
	sha256_hex(buf, len, got);
	if (strcmp(got, want)) {
		free(buf);
		return set_why(why, whylen, -EBADMSG, "its sha256 is %.16s..., %s says %.16s...",
			       got, side, want);
	}
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

/*
 * A cached vmlinux is used only if it still hashes to what was recorded
 * when nvwa wrote it and still checks out as a vmlinux: then nvwa has
 * verified the image it loads, and purgatory need not check it again.
 */
static int cached_ok(const char *path)
{
	char why[160];
	size_t len;
	char *buf;
	int r;

	r = cache_read_verified(path, VMLINUX_MAX, &buf, &len, why, sizeof(why));
	if (r == -ENOENT)
		return 0;
	if (r == 0) {
		r = vmlinux_check(buf, len, why, sizeof(why));
		free(buf);
	}
	if (r < 0)
		log_warn("Cached %s does not check out (%s); preparing it again", path, why);
	return r == 0;
}

int cache_write_verified(const char *path, const void *buf, size_t len)
{
	char side[PATH_MAX + 8], sum[66];
	int r;

	r = sidecar_path(path, side, sizeof(side));
	if (r < 0)
		return r;
	sha256_hex(buf, len, sum);
	strcat(sum, "\n");
	r = write_file_atomic(path, buf, len);
	if (r == 0)
		r = write_file_atomic(side, sum, strlen(sum));
	return r;
}

int kimage_prepare(const char *image, const char *cache_dir,
		   struct kimage_boot *ret)
{
	struct kimage_boot b = { 0 };
	char why[256];
	void *elf = NULL;
	size_t len, elf_len;
	uint64_t t;
	char *buf;
	int r;

	r = read_file(image, IMAGE_MAX, &buf, &len);
	if (r < 0)
		return log_error_errno(r, "Kernel image %s: %m", image);
	r = kimage_parse(buf, len, &b.info, why, sizeof(why));
	if (r < 0) {
		log_error_errno(r, "%s is not a kernel image nvwa can boot: %s", image, why);
		goto cleanup;
	}
	strscpy(b.path, image, sizeof(b.path));
	if (b.info.format == KIMAGE_ELF) {
		b.elf = 1;
		r = 0;
		goto done;
	}
	if (!cache_dir) {
		strscpy(b.why, "preparation was turned off", sizeof(b.why));
		r = 0;
		goto done;
	}
	if (!b.info.relocatable) {
		strscpy(b.why, "the bzImage is not relocatable", sizeof(b.why));
		r = 0;
		goto done;
	}
	if (!payload_supported(b.info.compression)) {
		xsnprintf(b.why, sizeof(b.why), "nvwa cannot decompress its %s payload",
			  b.info.compression);
		r = 0;
		goto done;
	}

	sha256_hex(buf, len, b.sha256);
	if (xsnprintf(b.path, sizeof(b.path), "%s/%s.vmlinux", cache_dir, b.sha256) < 0) {
		r = log_error_errno(-ENAMETOOLONG, "Kernel cache path too long: %s", cache_dir);
		goto cleanup;
	}
	if (cached_ok(b.path)) {
		b.elf = b.cached = b.verified = 1;
		r = 0;
		goto done;
	}

	t = tsc_read();
	r = payload_decompress(b.info.compression, buf + b.info.payload_offset,
			       b.info.payload_length, VMLINUX_MAX, &elf, &elf_len,
			       why, sizeof(why));
	if (r == 0)
		r = vmlinux_check(elf, elf_len, why, sizeof(why));
	if (r < 0) {
		/* A payload we cannot unpack still boots: the kernel unpacks it. */
		log_warn("Cannot prepare %s (%s); booting the bzImage as it is", image, why);
		strscpy(b.path, image, sizeof(b.path));
		xsnprintf(b.why, sizeof(b.why), "its payload did not decompress: %s", why);
		b.sha256[0] = '\0';
		r = 0;
		goto done;
	}
	r = mkdir_p(cache_dir, 0700);
	if (r == 0)
		r = cache_write_verified(b.path, elf, elf_len);
	if (r < 0) {
		log_error_errno(r, "Failed to write %s: %m", b.path);
		goto cleanup;
	}
	b.elf = b.verified = 1;
	log_info("  decompressed the %s payload (%u KiB) into a %zu KiB vmlinux in %.0f ms",
		 b.info.compression, b.info.payload_length >> 10, elf_len >> 10,
		 tsc_to_ms(tsc_read() - t, tsc_calibrate_khz()));
done:
	*ret = b;
cleanup:
	free(elf);
	free(buf);
	return r;
}
