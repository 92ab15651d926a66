/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The firmware's memory map (/sys/firmware/memmap: the e820 table as the
 * firmware gave it, before memmap= changed it), and whether a memmap=
 * reservation fits it.  A reservation must lie inside RAM the firmware
 * reports: one that overlaps a reserved or ACPI range gives no
 * /dev/pmem0 (the kernel logs "misaligned, unable to map") or memory
 * that is not RAM at all.
 */
#ifndef NVWA_FASTBOOT_FWMAP_H
#define NVWA_FASTBOOT_FWMAP_H

#include <stddef.h>
#include <stdint.h>

#define FWMAP_DIR "/sys/firmware/memmap"
#define FWMAP_MAX 128
#define FWMAP_TYPE_MAX 32
/* x86-64's memory section: persistent memory is mapped section by section. */
#define FWMAP_SECTION (128ull << 20)

struct fw_range {
	uint64_t start;
	uint64_t end;			/* inclusive, as the kernel shows it */
	char type[FWMAP_TYPE_MAX];	/* "System RAM", "Reserved", ... */
};

/* Reads @dir (/sys/firmware/memmap) into @ret, sorted by start. */
int fwmap_read(const char *dir, struct fw_range *ret, size_t max, size_t *ret_n);
/*
 * 0 if [@start, @start + @size) lies inside one "System RAM" range of
 * @map; else -ERANGE with @why naming what it overlaps, or where RAM is.
 */
int fwmap_check(const struct fw_range *map, size_t n, uint64_t start, uint64_t size,
		char *why, size_t whylen);
/*
 * 0 if the reservation starts and ends on a memory section boundary;
 * else -EINVAL with @why: the section it shares with other memory may be
 * trimmed or refused when the kernel maps it.
 */
int fwmap_check_aligned(uint64_t start, uint64_t size, char *why, size_t whylen);

/*
 * Every memmap=SIZE!START and memmap=SIZE$START on @cmdline against the
 * firmware's map in @dir: 0, or the first problem in @why (-ERANGE not
 * RAM, -EINVAL persistent memory not on section boundaries).  -ENOENT if @dir cannot be read (no
 * verdict, @why says so).
 */
int fwmap_check_cmdline(const char *dir, const char *cmdline, char *why, size_t whylen);

#endif
