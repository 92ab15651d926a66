/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pinmem for kernel code: memory that survives kexec, found again by name.
 *
 * A client allocates a named object, fills it, and after the reboot (with
 * the same memmap=SIZE$START reservation and the pinmem module loaded)
 * finds it by the same name with pinmem_find(), bytes intact.  Names are
 * unique across the region (areas of userspace included): prefix them with
 * the client's name.
 *
 *   pinmem_kmalloc()  small objects, 1 byte to 2 KiB, from size classes
 *                     16, 32, ... 2048; larger sizes get whole pages.
 *   pinmem_vmalloc()  page-granular buffers, virtually contiguous (in this
 *                     version physically contiguous too, so a big buffer
 *                     needs a free run that large: see "largest_free").
 *
 * Memory comes back zeroed.  All functions may sleep and are safe to call
 * concurrently.  Allocations return ERR_PTR(-ENODEV) when no trusted
 * region is loaded, -EINVAL for a bad name or size, -EEXIST for a name in
 * use and -ENOSPC when the region or its directory is full.
 */
#ifndef _PINMEM_H
#define _PINMEM_H

#include <linux/types.h>
#include "../uapi/pinmem.h"

void *pinmem_kmalloc(const char *name, size_t size);
void *pinmem_vmalloc(const char *name, size_t size);
void *pinmem_find(const char *name, size_t *ret_size);
void pinmem_free(const void *ptr);
int pinmem_get_status(struct pinmem_status *ret);

#endif /* _PINMEM_H */
