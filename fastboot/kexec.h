/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loading the next kernel through kexec-tools, and the jump itself.
 *
 * How the kernel is loaded is chosen by a table of loaders (kexec.c), in
 * kexec-tools' style: each row is a method with its probe (does it take
 * this image on this kernel, and why), the reason it gives and the
 * kexec-tools arguments it loads with.  Rows are asked in order; a new
 * method is a new row.
 */
#ifndef NVWA_KEXEC_H
#define NVWA_KEXEC_H

#include <stdbool.h>
#include <stddef.h>

#include "fastboot/caps.h"
#include "fastboot/prepare.h"
#include "fastboot/quick.h"

enum kexec_method {
	KEXEC_LOAD_BZIMAGE,	/* kexec_load(2), the kernel decompresses itself */
	KEXEC_LOAD_ELF,		/* kexec_load(2) of a prepared ELF vmlinux */
	KEXEC_FILE_LOAD,	/* kexec_file_load(2): signed bzImage only */
};

/* What the choice of a method depends on. */
struct kexec_request {
	const char *image;		/* as the operator named it */
	const struct kcaps *caps;	/* the running kernel's */
	const char *cache_dir;		/* prepared kernels; NULL: do not prepare */
	bool file_load;			/* kexec_file_load asked for */
	bool purgatory_checks;		/* keep purgatory's SHA-256 pass */
	bool no_quick;			/* never load in place (quick kexec) */
};

#define KEXEC_WHY_MAX (PATH_MAX + 128)

/* The method chosen for a request, and what it loads. */
struct kexec_plan {
	enum kexec_method method;
	const char *name;		/* the record's loader, e.g. "kexec_load elf" */
	struct kimage_boot boot;	/* boot.path is what kexec loads */
	struct kcaps_image image;	/* the image, and its nvwa features */
	bool skip_checks;		/* purgatory's pass dropped: nvwa verified */
	char note[256];			/* a choice made against the request, or "" */
	char why[KEXEC_WHY_MAX];	/* what will boot, and why that way */
	/* Quick kexec: loaded in place, the jump copies nothing (quick.h). */
	bool quick;
	struct quick_region region;
	struct quick_place place;
	char quick_image[PATH_MAX];	/* the vmlinux moved into the region */
	char covered_image[PATH_MAX];	/* the vmlinux with its holes covered */
	uint64_t covered;		/* bytes of holes the load covered */
	int load_runs;			/* kexec -l runs of the last load */
	char quick_why[256];		/* in place and where, or why not */
	long copy_pages;		/* the jump's copy, once loaded; <0 unknown */
};

const char *kexec_method_name(enum kexec_method method);

/*
 * Walks the table for @req and an image recognised as @img.  @boot is the
 * prepared image, or NULL before preparation: then only the rows that
 * load the image as it is are asked, and 0 with ret->name NULL means
 * "prepare it, then ask again".  Returns 0 and fills @ret's method, name,
 * skip_checks, note and why (not boot), or a negative errno with the
 * reason in ret->why.  Does no I/O and logs nothing.
 */
int kexec_choose(const struct kexec_request *req, const struct kcaps_image *img,
		 const struct kimage_boot *boot, struct kexec_plan *ret);

/*
 * Recognises @req->image, chooses how to load it (kexec_choose()) and
 * prepares it when the method loads nvwa's vmlinux.  Returns 0 and fills
 * *@ret, or a negative errno (logged).
 */
int kexec_plan(const struct kexec_request *req, struct kexec_plan *ret);

/*
 * Decides whether @plan loads in place, into the running kernel's quick
 * kexec region: only the prepared vmlinux (kexec_load elf) can move
 * there, with @initrd (may be NULL), and only if they fit.  The moved
 * copy will be written in @workdir.  Fills plan->quick and
 * plan->quick_why either way; nothing fails here, and no I/O but reading
 * the region and the vmlinux's headers.
 */
void kexec_plan_quick(const struct kexec_request *req, const char *initrd,
		      const char *workdir, struct kexec_plan *plan);

/*
 * Loads @plan's kernel (and @initrd, may be NULL) with @cmdline through
 * kexec-tools.  kexec's own output goes to @log_path.  A load in place
 * that kexec-tools refuses is done again the usual way (plan->quick
 * cleared, plan->quick_why says why).  Sets plan->copy_pages.  Returns 0
 * or a negative errno (logged).
 */
int kexec_load_image(struct kexec_plan *plan, const char *initrd,
		     const char *cmdline, const char *log_path);

/* Unloads whatever is loaded; quiet, for undoing a failed update. */
void kexec_unload(void);
bool kexec_is_loaded(void);
/*
 * Jumps into the loaded kernel (reboot(LINUX_REBOOT_CMD_KEXEC)).  Only
 * returns on failure, with a negative errno.
 */
int kexec_jump(void);

#endif
