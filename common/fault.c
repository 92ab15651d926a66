// SPDX-License-Identifier: GPL-2.0
#ifdef NVWA_FAULTS
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fault.h"

bool fault_hit(const char *name)
{
	const char *list = getenv("NVWA_FAULT"), *p;
	size_t n = strlen(name);

	for (p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		if (!strncmp(p, name, n) && (p[n] == ',' || !p[n])) {
			fprintf(stderr, "nvwa: fault injected: %s\n", name);
			return true;
		}
	}
	return false;
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int fault_unused;
#endif
