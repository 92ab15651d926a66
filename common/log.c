// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"

static enum log_level max_level = LOG_LVL_INFO;
static const char *ident = "nvwa";

void log_set_level(enum log_level level)
{
	max_level = level;
}

enum log_level log_get_level(void)
{
	return max_level;
}

void log_set_ident(const char *name)
{
	ident = name;
}

int log_full_errno(enum log_level level, int error, const char *fmt, ...)
{
	static const char *const prefix[] = {
		[LOG_LVL_ERROR] = "error: ",
		[LOG_LVL_WARN] = "warning: ",
		[LOG_LVL_INFO] = "",
		[LOG_LVL_DEBUG] = "debug: ",
	};
	int saved = errno;
	va_list ap;

	if (level <= max_level) {
		/* glibc expands %m from errno: make it the error we were given. */
		errno = error < 0 ? -error : (error ? error : saved);
		fprintf(stderr, "%s: %s", ident, prefix[level]);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	errno = saved;
	return error < 0 ? error : -abs(error);
}
