/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Preparing the next kernel outside the downtime: a bzImage's payload is
 * decompressed once into the ELF vmlinux it carries and cached under the
 * image's SHA-256, so the reboot path neither decompresses nor relocates
 * and a second update with the same image does no work at all.  Images
 * nvwa cannot unpack are booted as they are, and the reason is given.
 */
#ifndef NVWA_PREPARE_H
#define NVWA_PREPARE_H

#include <limits.h>
#include <stddef.h>

#include "fastboot/bzimage.h"

struct kimage_boot {
	char path[PATH_MAX];		/* what kexec loads */
	int elf;			/* path is an ELF vmlinux */
	int cached;			/* found prepared, nothing done now */
	int verified;			/* nvwa checked these exact bytes */
	char why[256];			/* why the image is booted as it is */
	char sha256[65];		/* of the image, hex; "" if not hashed */
	struct kimage_info info;
};

/* Where prepared kernels are kept: $NVWA_KERNEL_CACHE or /var/cache/nvwa/kernels. */
const char *kimage_cache_dir(void);

/*
 * Recognises @image and, if it is a relocatable bzImage with a payload
 * nvwa can decompress, makes sure its ELF vmlinux is in @cache_dir.
 * Returns 0 and fills *@ret (booting the image as it is also counts as
 * success, with ret->why saying why), or a negative errno (logged) if
 * @image is not a kernel at all or the cache cannot be written.  A NULL
 * @cache_dir only recognises the image.
 */
int kimage_prepare(const char *image, const char *cache_dir,
		   struct kimage_boot *ret);

/* The SHA-256 of @len bytes at @buf, in hex. */
void sha256_hex(const void *buf, size_t len, char out[65]);

/*
 * Writes a cache file and PATH.sha256 beside it, its SHA-256; a file read
 * back with cache_read_verified() is the one written, or is refused:
 * -ENOENT if there is none, -EBADMSG with @why if it does not hash to
 * what was written (or cannot be read).
 */
int cache_write_verified(const char *path, const void *buf, size_t len);
int cache_read_verified(const char *path, size_t max, char **ret_buf,
			size_t *ret_len, char *why, size_t whylen);

#endif
