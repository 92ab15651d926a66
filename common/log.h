/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Logging shared by every nvwa program.
 *
 * Errors are logged once, where they are decided.  The *_errno variants
 * take a negative errno, make it available to "%m" and return it, so a
 * caller can write:  return log_error_errno(r, "Failed to ...: %m");
 */
#ifndef NVWA_LOG_H
#define NVWA_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_ERROR,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Prefix every message with this (default: "nvwa"). */
void log_set_ident(const char *ident);

__attribute__((format(printf, 3, 4)))
int log_full_errno(enum log_level level, int error, const char *fmt, ...);

#define log_error(...) log_full_errno(LOG_LVL_ERROR, 0, __VA_ARGS__)
#define log_warn(...) log_full_errno(LOG_LVL_WARN, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_LVL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_LVL_DEBUG, 0, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_LVL_ERROR, (e), __VA_ARGS__)
#define log_warn_errno(e, ...) log_full_errno(LOG_LVL_WARN, (e), __VA_ARGS__)

#endif
