/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libpinmem: /dev/pinmem for programs.  Every function returns 0 (or a
 * count) on success and a negative errno on failure, and never half-fills
 * its outputs.
 */
#ifndef LIBPINMEM_H
#define LIBPINMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pinmem/uapi/pinmem.h"

#define PINMEM_DEV "/dev/pinmem"
#define PINMEM_SYSFS "/sys/module/pinmem"

int pinmem_dev_open(void);
int pinmem_dev_status(int fd, struct pinmem_status *ret);
int pinmem_dev_create(int fd, const char *name, uint64_t length);
int pinmem_dev_resize(int fd, const char *name, uint64_t length);
int pinmem_dev_remove(int fd, const char *name);
int pinmem_dev_attach(int fd, const char *name);
/* The area @fd is attached to: -ENODATA none, -ENOENT removed since. */
int pinmem_dev_attached(int fd, char name[PINMEM_NAME_MAX], uint64_t *ret_len);
int pinmem_dev_list(int fd, bool kernel, struct pinmem_entry **ret,
		    size_t *ret_n);
/* @flags: PINMEM_FORMAT_DISCARD, PINMEM_FORMAT_UNTRUSTED (uapi/pinmem.h). */
int pinmem_dev_format(int fd, uint32_t flags, uint32_t dir_entries);
int pinmem_dev_map(const char *name, void **ret_addr, size_t *ret_len);
/*
 * Mounts the pinmem filesystem on @dir (created if missing, its parent
 * must exist) unless it is mounted there already.  -ENODEV: no module.
 */
int pinmem_fs_mount(const char *dir);
/* The same, only when the module serves a trusted (valid) region. */
int pinmem_fs_mount_trusted(const char *dir);
const char *pinmem_kind_name(uint32_t kind);
const char *pinmem_state_name(uint32_t state);

#endif
