/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Quick kexec (the nvwa kernel, fastboot/kernel/0001).  A kexec_load image
 * is normally staged in pages the allocator hands out and copied to its
 * destination by the old kernel's last code, after everything else has
 * stopped: the whole kernel and initrd, inside the downtime.  The nvwa
 * kernel booted with nvwa.quick_kexec=SIZE reserves a region for the
 * next kernel, and writes a segment that lies inside it there when the
 * image is loaded, while the applications still run; the reboot then has
 * nothing to copy.
 *
 * Placing the segments is userspace's part, done here: an x86-64 kernel
 * runs at any 2 MiB aligned physical address, so the prepared vmlinux's
 * load addresses are moved into the region (a copy, through libelf), and
 * kexec-tools is told to put what it places itself (boot parameters,
 * purgatory, initrd) there too (--mem-min, --mem-max):
 *
 *   region start                                               region end
 *   | boot params |  vmlinux, at start + 2 MiB  |  ... | initrd | purgatory |
 *
 * kexec-tools puts a 64-bit kernel's initrd below 896 MiB.  A region the
 * kernel had to take higher (memory kept in place by the update before
 * left no room below) holds the kernel only; the rest is placed as usual
 * and copied at the jump.
 */
#ifndef NVWA_QUICK_H
#define NVWA_QUICK_H

#include <stddef.h>
#include <stdint.h>

#define QUICK_REGION_FILE "/sys/kernel/nvwa/quick_kexec"
#define QUICK_COPY_PAGES_FILE "/sys/kernel/nvwa/kexec_copy_pages"

/* The kernel's region: "0x28000000 0x8000000" in QUICK_REGION_FILE. */
struct quick_region {
	uint64_t start, size;
};

/*
 * Parses QUICK_REGION_FILE's text.  Returns 0, -ENOENT for "0 0" (no
 * region), -EINVAL for anything else malformed.
 */
int quick_region_parse(const char *text, struct quick_region *ret);
/* Reads the running kernel's; -ENOENT when it has none (or no such file). */
int quick_region_read(struct quick_region *ret);

/* The physical extent of an ELF vmlinux's loadable segments. */
struct quick_span {
	uint64_t lo, hi;	/* lowest p_paddr, highest p_paddr + p_memsz */
	uint64_t holes;		/* bytes in [lo, hi) no segment covers */
};

/*
 * Reads @vmlinux's program headers (x86-64 ELF executable).  Returns 0, or
 * a negative errno with the reason in @why.
 */
int quick_span_read(const char *vmlinux, struct quick_span *ret, char *why,
		    size_t whylen);

/* Where everything goes, for a region, a kernel and an initrd. */
struct quick_place {
	uint64_t kernel;	/* the vmlinux's lowest segment */
	int64_t delta;		/* added to every p_paddr and to e_entry */
	int bounded;		/* everything in the region: mem_min, mem_max */
	uint64_t mem_min, mem_max;	/* kexec-tools' bounds, inclusive */
};

/* kexec-tools' DEFAULT_INITRD_ADDR_MAX for a kernel loaded as ELF. */
#define QUICK_INITRD_MAX 0x37ffffffull

/* Room kept for kexec-tools' own segments: boot parameters, purgatory. */
#define QUICK_PARAMS_ROOM ((uint64_t)2 << 20)
#define QUICK_PURGATORY_ROOM ((uint64_t)1 << 20)

/*
 * Fits a kernel spanning @span and an initrd of @initrd_len bytes (0: none)
 * into @r.  Returns 0, -ENOSPC when they do not fit or -EINVAL when the
 * kernel cannot move there, with the reason in @why.  Pure: no I/O.
 */
int quick_place(const struct quick_region *r, const struct quick_span *span,
		uint64_t initrd_len, struct quick_place *ret, char *why,
		size_t whylen);

/*
 * Writes @vmlinux to @out with its load addresses and entry point moved
 * by @p->delta.  Returns 0, or a negative errno with the reason in @why.
 */
int quick_write_moved(const char *vmlinux, const struct quick_place *p,
		      const char *out, char *why, size_t whylen);

/*
 * Writes @vmlinux to @out with its holes covered: each PT_LOAD that ends
 * below the next one's start reaches it (p_memsz; kexec zero-fills past
 * p_filesz).  A kernel reserves all of [lo, hi) as its image at boot,
 * holes included (x86-64: the gap between .rodata and .data, which the
 * running kernel freed and may have given to anyone), while kexec and
 * kexec_image_overlaps() know only the segments: memory handed over in
 * place must never lie in a hole.  Returns 0, or a negative errno with
 * the reason in @why.
 */
int vmlinux_write_covered(const char *vmlinux, const char *out, char *why, size_t whylen);

/*
 * How many pages the jump into the loaded image will copy, from the nvwa
 * kernel; -ENOENT when this kernel does not say (a stock kernel) or
 * nothing is loaded.
 */
long quick_copy_pages(void);

#endif
