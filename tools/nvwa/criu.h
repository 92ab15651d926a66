/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The CRIU driver: how nvwa runs the distribution's criu.  Each call keeps
 * CRIU's own log in the images directory (where `crit` and a human will
 * look for it) and, on failure, hands back CRIU's own error lines so the
 * operator sees the cause, not just "criu failed".
 */
#ifndef NVWA_CRIU_H
#define NVWA_CRIU_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CRIU_WHY_MAX 512

/*
 * Where CRIU loads plugins from (its default) and where `make install`
 * puts nvwa's; NVWA_CRIU_PLUGIN_DIR in the environment overrides it.
 * Every criu this driver runs is given that directory, so memory in
 * pinmem areas is kept by reference whenever the plugin is there.
 */
#define CRIU_PLUGIN_DIR "/usr/lib/criu"
#define CRIU_PLUGIN_NAME "nvwa_pinmem.so"

/* What an application's dump and restore need beyond its images. */
struct criu_extra {
	/*
	 * "FD:INODE" words naming sockets on the tree's stdio whose peer
	 * stays behind (the journal's stream): dumped as external
	 * (--external unix[INODE]) and, at restore, handed the caller's own
	 * descriptor FD (--inherit-fd): a unit's restore hands its journal.
	 */
	const char *stdio;
	/* Established TCP connections: kept by TCP repair, the network locked. */
	bool tcp_established;
};

/* What a dump leaves of the dumped tree. */
enum criu_after {
	CRIU_KILL,		/* CRIU's default */
	CRIU_LEAVE_STOPPED,	/* a failed update can still SIGCONT it */
	CRIU_LEAVE_RUNNING,
};

/*
 * From now on, any of @sigs kills the criu running (SIGKILL, with what it
 * forked and has not let go of) and any criu about to start: criu_run's
 * callers get -EINTR.  nvwa restore's answer to a stop, such as its
 * unit's start timeout, when a criu hangs.
 */
void criu_stop_on(const int *sigs, size_t n);
/* The signal that stopped nvwa (criu_stop_on()), or 0. */
int criu_stopped(void);

const char *criu_plugin_dir(void);
/* 0 when nvwa's plugin is where criu_plugin_dir() says, else -ENOENT. */
int criu_plugin_present(char *ret_path, size_t size);

/*
 * CRIU's error lines in @log, the cause first: its feature probes' and
 * summary lines are left out unless there is nothing else.
 */
void criu_errors(const char *log, char *why, size_t whylen);
/* `criu check`: the kernel has what a dump and restore need. */
int criu_check(char *why, size_t whylen);
/* Copies memory while @pid keeps running; @dir must exist. */
int criu_pre_dump(pid_t pid, const char *dir, char *why, size_t whylen);
/*
 * Dumps @pid (and its descendants) into @dir, writing only the pages that
 * changed since the pre-dump in @parent (relative to @dir, may be NULL),
 * with @x (may be NULL).
 */
int criu_dump(pid_t pid, const char *dir, const char *parent,
	      enum criu_after after, const struct criu_extra *x, char *why, size_t whylen);
/* Restores the tree dumped in @dir, detached from the caller, with @x (may be NULL). */
int criu_restore(const char *dir, const struct criu_extra *x, char *why, size_t whylen);
/* The PID of the tree's root after a restore of @dir (either kind). */
int criu_restored_pid(const char *dir, pid_t *ret);
/*
 * Restores the tree dumped in @dir with its memory served on demand: a
 * `criu lazy-pages` daemon answers the tasks' page faults (userfaultfd)
 * from the images and copies the rest in the background, so the tasks run
 * before all their memory is back.  On success *@ret_daemon is the
 * daemon; the images must stay until criu_lazy_wait() says it is done.
 * -EOPNOTSUPP when the daemon cannot start (no userfaultfd): nothing was
 * restored, the caller may restore eagerly.
 */
int criu_restore_lazy(const char *dir, const struct criu_extra *x, pid_t *ret_daemon,
		      char *why, size_t whylen);
/* Waits until the daemon has copied every page; 0 or -EIO. */
int criu_lazy_wait(pid_t daemon, const char *dir, char *why, size_t whylen);

#endif
