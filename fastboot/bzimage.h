/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Recognising a kernel image before anything is frozen: the x86 boot
 * protocol header of a bzImage (Documentation/arch/x86/boot.rst), or an
 * ELF vmlinux.  Every offset is bounds-checked against the file: the bytes
 * come from whatever file the operator named.
 */
#ifndef NVWA_BZIMAGE_H
#define NVWA_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

enum kimage_format {
	KIMAGE_BZIMAGE,
	KIMAGE_ELF,
};

struct kimage_info {
	enum kimage_format format;
	uint16_t boot_version;		/* e.g. 0x020f; bzImage only */
	uint32_t setup_size;		/* bytes of real-mode setup */
	uint32_t payload_offset;	/* compressed payload, from file start */
	uint32_t payload_length;
	int relocatable;
	char compression[8];		/* "gzip", "xz", "zstd", "lz4", ... */
	char release[65];		/* uname -r of the image, or "" */
};

/*
 * Identifies @len bytes at @buf.  Returns 0 and fills *@ret, or -ENOEXEC
 * (not a kernel, or truncated) with the reason in @why.
 */
int kimage_parse(const void *buf, size_t len, struct kimage_info *ret,
		 char *why, size_t whylen);

#endif
