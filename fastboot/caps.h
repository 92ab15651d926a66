/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the running kernel, and a kernel image, offer an update: the one
 * place that probes, so update, restore, status and the eBPF loaders ask
 * here instead of each looking at /sys in its own way.  Every feature
 * comes with how it was found, or why not, for `nvwa status`.
 *
 * A stock kernel has none of the nvwa-kernel features; nvwa's kernel
 * patches will list theirs in /sys/kernel/nvwa/features (running kernel)
 * and in the image, and each becomes one more row of the table in
 * caps.c, not another check in a command.
 */
#ifndef NVWA_CAPS_H
#define NVWA_CAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fastboot/bzimage.h"

enum kcap {
	/* Lockdown or UEFI secure boot: only kexec_file_load, signed images. */
	KCAP_SIGNED_ONLY,
	KCAP_KEXEC_FILE_LOAD,	/* the kexec_file_load(2) system call */
	KCAP_PINMEM,		/* the pinmem module, with /dev/pinmem */
	KCAP_BTF,		/* the kernel's own BTF: fentry/fexit probes */
	KCAP_USERFAULTFD,	/* CRIU lazy pages */
	/* The nvwa kernel's, named in /sys/kernel/nvwa/features. */
	KCAP_PIN_ANON,		/* anonymous memory kept in place over kexec */
	KCAP_PID_RESERVE,	/* restored PIDs held free during boot */
	KCAP_PARKED_CPUS,	/* CPUs parked, not re-initialised, by kexec */
	KCAP_QUICK_KEXEC,	/* segments loaded at their final addresses */
	/* deferred_page_init=async: /init before the memmap is initialised */
	KCAP_MEMMAP_BG,
	/* deferred_page_init=async,low: memory below 4 GiB deferred too */
	KCAP_MEMMAP_BG_LOW,
	KCAP_MAX,
};

#define KCAP_WHY_MAX 256

struct kcaps {
	uint32_t have;				/* 1u << enum kcap */
	char why[KCAP_MAX][KCAP_WHY_MAX];	/* how found, or why not */
};

/* The short name: "signed-only", "btf", "pin-anon", ... */
const char *kcap_name(enum kcap cap);
/* True for the features only an nvwa kernel has. */
bool kcap_is_nvwa(enum kcap cap);
bool kcaps_has(const struct kcaps *caps, enum kcap cap);
/* Whether any nvwa-kernel feature is there: else a stock kernel. */
bool kcaps_nvwa_kernel(const struct kcaps *caps);

/*
 * Probes one feature of the running kernel; true if it is there.  @why
 * (may be NULL) says how that was found, or why not.
 */
bool kcap_probe(enum kcap cap, char *why, size_t whylen);
/* Probes every feature of the running kernel.  Never fails: returns 0. */
int kcaps_probe_running(struct kcaps *ret);

/*
 * Whether a kernel accepts only signed kernels, in which case
 * kexec_load(2) is refused and kexec_file_load(2) with a signed bzImage
 * is the only way.  @lockdown is the content of
 * /sys/kernel/security/lockdown (NULL to read it), @secure_boot the
 * SecureBoot EFI variable's value (-1 to read it).  The reason goes to
 * @why either way.
 */
bool kcaps_signed_only(const char *lockdown, int secure_boot, char *why,
		       size_t whylen);

/*
 * What a kernel image is, and which nvwa-kernel features it brings: an
 * uncompressed image (ELF vmlinux) names them in its data, the words of
 * the /sys/kernel/nvwa/features it will have (kcaps_image_features()); a
 * bzImage's are inside its compressed payload (kcaps_read_features()
 * decompresses it), and until then one whose release ends in
 * "-nvwa" (`make kernel`) is taken for the nvwa kernel, with pid-reserve.
 */
struct kcaps_image {
	struct kimage_info info;
	uint32_t have;				/* 1u << enum kcap, nvwa's only */
	char why[KCAP_WHY_MAX];			/* how the features were found */
};

/*
 * Recognises the kernel image at @image (bzImage or ELF vmlinux) and
 * reads the features it declares.  Returns 0, or a negative errno with
 * the reason in @why (not logged: the caller decides).
 */
int kcaps_probe_image(const char *image, struct kcaps_image *ret, char *why,
		      size_t whylen);

/*
 * Reads the nvwa features the image at @path declares into @img (have,
 * why): the names of its features list, found in an ELF vmlinux, or in a
 * bzImage's payload once decompressed.  @img->info stays.  Returns 0, or
 * a negative errno with the reason in @img->why (@img->have as it was).
 */
int kcaps_read_features(const char *path, struct kcaps_image *img);

/* Whether the image @img declares @cap (kcaps_has() for a kernel image). */
bool kcaps_image_has(const struct kcaps_image *img, enum kcap cap);

/* The nvwa features named in @len bytes of an uncompressed kernel image. */
uint32_t kcaps_image_features(const void *buf, size_t len);

/* The running kernel's features, for `nvwa status`. */
void kcaps_print(FILE *f, const struct kcaps *caps);

#endif
