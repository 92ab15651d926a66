/* SPDX-License-Identifier: GPL-2.0 */
/*
 * systemd services kept as services.  An application that belongs to a
 * system unit is dumped like any other, but restored by the unit itself:
 * on the boot an update started, nvwa's generator gives each such unit a
 * drop-in whose ExecStart= is `nvwa restore-unit UNIT` (Type=forking, a
 * PIDFile=), so systemd starts the unit once, in its own cgroup, with its
 * stdout and stderr connected to the journal, and adopts the restored
 * process as the unit's main PID.  Once the unit is active the drop-in is
 * retired (a daemon-reload), so `systemctl restart` starts it afresh.
 */
#ifndef NVWA_SERVICE_UNIT_H
#define NVWA_SERVICE_UNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/handover.h"

#define UNIT_NAME_MAX NVWA_UNIT_MAX
#define UNIT_RUN_DIR "/run/nvwa/unit"	/* PID files and "done" markers */
#define UNIT_DROPIN "zz-nvwa-restore.conf"
#define UNIT_RUNTIME_DIR "/run/systemd/system"	/* drop-ins for this boot */

/* PID 1 is systemd (sd_booted()'s test). */
bool unit_systemd_booted(void);
/*
 * The system service @pid belongs to, from its cgroup (the first
 * "*.service" component: a delegated subtree below it is still the
 * service's).  -ENOENT if it belongs to none, or only to a user's
 * service manager (user@UID.service), which nvwa does not drive.
 */
int unit_of_pid(pid_t pid, char *ret, size_t size);
/* The same from /proc/PID/cgroup's @text (modified). */
int unit_from_cgroup(char *text, char *ret, size_t size);
/* The unit's MainPID; -ESRCH if it has none (not running). */
int unit_main_pid(const char *unit, pid_t *ret);
/*
 * Refuses a service whose sandboxing gave it namespaces of its own (CRIU
 * cannot rebuild them on a host): 0, or -EOPNOTSUPP with @why naming the
 * namespaces and the unit settings that made them, and @dropin the
 * drop-in that turns them off ("" when nvwa cannot tell which).
 */
int unit_check_sandbox(const char *unit, pid_t pid, char *why, size_t whylen,
		       char *dropin, size_t dropinlen);
/*
 * The unix sockets on @pid's stdin, stdout and stderr (the journal's
 * stream, under systemd) as "FD:INODE" words: dumped as external and
 * handed the restoring unit's own descriptors at restore.
 */
int unit_stdio_sockets(pid_t pid, char *ret, size_t size);
/*
 * Writes @dir/@unit.d/UNIT_DROPIN, the restoring drop-in, whose start
 * runs this very nvwa binary (/proc/self/exe).
 */
int unit_write_dropin(const char *dir, const char *unit);
/* UNIT_RUN_DIR/@unit.@suffix */
int unit_run_path(const char *unit, const char *suffix, char *ret, size_t size);
/*
 * Moves this PID namespace's next PID past @last (a decimal PID), never
 * back: the boot's own processes then leave the PIDs up to @last free for
 * the restore.  Best effort (0 or -errno, logged).
 */
int keep_pids_free(const char *last);
/* A unit name nvwa accepts: [A-Za-z0-9:_.\@-]+\.service, no path. */
bool unit_name_valid(const char *unit);

#endif
