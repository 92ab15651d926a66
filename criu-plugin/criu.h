/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The CRIU driver: how nvwa runs the distribution's criu.  Each call keeps
 * CRIU's own log in the images directory (where `crit` and a human will
 * look for it) and, on failure, hands back CRIU's own error lines so the
 * operator sees the cause, not just "criu failed".
 */
#ifndef NVWA_CRIU_H
#define NVWA_CRIU_H

#include <stddef.h>
#include <sys/types.h>

#define CRIU_WHY_MAX 512

/* `criu check`: the kernel has what a dump and restore need. */
int criu_check(char *why, size_t whylen);
/* Copies memory while @pid keeps running; @dir must exist. */
int criu_pre_dump(pid_t pid, const char *dir, char *why, size_t whylen);
/*
 * Dumps @pid (and its descendants) into @dir, writing only the pages that
 * changed since the pre-dump in @parent (relative to @dir, may be NULL).
 * The tasks are left stopped, not killed, so a failed update can resume
 * them with SIGCONT.
 */
int criu_dump(pid_t pid, const char *dir, const char *parent, char *why,
	      size_t whylen);
/* Restores the tree dumped in @dir, detached from the caller. */
int criu_restore(const char *dir, char *why, size_t whylen);

#endif
