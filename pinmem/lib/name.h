/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pinmem's name rule, stated once for the module, libpinmem and the CRIU
 * plugin (compiled into both the kernel and userspace, like ktypes.h):
 * a name fits in PINMEM_NAME_MAX with its NUL within @len bytes, is made
 * of [A-Za-z0-9._-] (it is a file name in the pinmem filesystem) and
 * does not start with '.'.  The uapi header states the rule in words.
 */
#ifndef PINMEM_NAME_H
#define PINMEM_NAME_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stddef.h>
#endif

#include "../uapi/pinmem.h"

static inline int pinmem_name_valid(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || name[0] == '\0' || name[0] == '.')
		return 0;
	for (i = 0; i < len && i < PINMEM_NAME_MAX; i++) {
		char c = name[i];

		if (c == '\0')
			return 1;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 0;
}

#endif
