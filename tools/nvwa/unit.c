// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "tools/nvwa/unit.h"

bool unit_systemd_booted(void)
{
	struct stat st;

	return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

bool unit_name_valid(const char *unit)
{
	size_t n = strlen(unit);

	if (n <= strlen(".service") || n >= UNIT_NAME_MAX ||
	    strcmp(unit + n - strlen(".service"), ".service"))
		return false;
	for (const char *c = unit; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr(":_.@-\\", *c))
			return false;
	return true;
}

int unit_run_path(const char *unit, const char *suffix, char *ret, size_t size)
{
	return xsnprintf(ret, size, "%s/%s.%s", UNIT_RUN_DIR, unit, suffix) < 0 ?
	       -ENAMETOOLONG : 0;
}

int unit_from_cgroup(char *text, char *ret, size_t size)
{
	char *line, *save = NULL;

	/* cgroup v2's line is "0::/PATH"; v1's name=systemd hierarchy says the same. */
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = strstr(line, ":/"), *comp, *csave = NULL;

		if (!p || (strncmp(line, "0::", 3) && !strstr(line, ":name=systemd:")))
			continue;
		for (comp = strtok_r(p + 2, "/", &csave); comp;
		     comp = strtok_r(NULL, "/", &csave)) {
			if (!unit_name_valid(comp))
				continue;
			if (startswith(comp, "user@"))
				return -ENOENT;
			return strscpy(ret, comp, size) < 0 ? -ENAMETOOLONG : 0;
		}
	}
	return -ENOENT;
}

int unit_of_pid(pid_t pid, char *ret, size_t size)
{
	char path[64], *text;
	int r;

	xsnprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	r = read_file(path, 64 * 1024, &text, NULL);
	if (r < 0)
		return r;
	r = unit_from_cgroup(text, ret, size);
	free(text);
	return r;
}

/* `systemctl show UNIT -p PROP...`: PROP=VALUE lines into @out. */
static int unit_show(const char *unit, const char *const *props, char *out,
		     size_t size)
{
	struct argv a = ARGV_INIT;
	int r;

	argv_add(&a, "systemctl", "show", unit);
	for (; *props; props++)
		argv_add(&a, "-p", *props);
	r = argv_error(&a);
	if (!r)
		r = run_capture(argv_get(&a), out, size);
	argv_free(&a);
	if (r > 0)
		return log_error_errno(-EIO, "`systemctl show %s` failed: %s", unit, strstrip(out));
	if (r < 0)
		return log_error_errno(r, "Cannot run systemctl: %m");
	return 0;
}

/* The value of PROP in unit_show()'s output; NULL if absent. */
static const char *show_value(const char *out, const char *prop, char *buf, size_t size)
{
	size_t n = strlen(prop);

	for (const char *l = out; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *end;

		if (strncmp(l, prop, n) || l[n] != '=')
			continue;
		end = strchrnul(l + n + 1, '\n');
		if ((size_t)(end - (l + n + 1)) >= size)
			return NULL;
		memcpy(buf, l + n + 1, (size_t)(end - (l + n + 1)));
		buf[end - (l + n + 1)] = '\0';
		return buf;
	}
	return NULL;
}

int unit_main_pid(const char *unit, pid_t *ret)
{
	static const char *const props[] = { "MainPID", "ActiveState", "LoadState", NULL };
	char out[512], pid[32], active[32], load[32];
	pid_t p;
	int r;

	r = unit_show(unit, props, out, sizeof(out));
	if (r < 0)
		return r;
	if (show_value(out, "LoadState", load, sizeof(load)) && strcmp(load, "loaded"))
		return log_error_errno(-ENOENT, "Unit %s is %s: no such service?", unit, load);
	if (!show_value(out, "MainPID", pid, sizeof(pid)) || parse_pid(pid, &p) < 0 || p <= 0)
		return log_error_errno(-ESRCH, "Unit %s has no main process (it is %s): start it first",
				       unit, show_value(out, "ActiveState", active, sizeof(active)) ?
				       active : "in an unknown state");
	*ret = p;
	return 0;
}

/*
 * The unit settings that give a service a namespace of its own (see
 * systemd.exec(5)), and what turns each off.  A setting is on when its
 * value is neither empty nor @off.
 */
struct sandbox_setting {
	const char *ns;		/* /proc/PID/ns/NAME */
	const char *prop;
	const char *off;	/* the value a drop-in sets; "" resets a list */
};

static const struct sandbox_setting sandbox_settings[] = {
	{ "user", "PrivateUsers", "no" },
	{ "uts", "ProtectHostname", "no" },
	{ "net", "PrivateNetwork", "no" },
	{ "net", "NetworkNamespacePath", "" },
	{ "ipc", "PrivateIPC", "no" },
	{ "ipc", "IPCNamespacePath", "" },
	{ "mnt", "PrivateTmp", "no" },
	{ "mnt", "PrivateDevices", "no" },
	{ "mnt", "PrivateMounts", "no" },
	{ "mnt", "ProtectSystem", "no" },
	{ "mnt", "ProtectHome", "no" },
	{ "mnt", "ProtectKernelTunables", "no" },
	{ "mnt", "ProtectKernelModules", "no" },
	{ "mnt", "ProtectKernelLogs", "no" },
	{ "mnt", "ProtectControlGroups", "no" },
	{ "mnt", "ProtectProc", "default" },
	{ "mnt", "ProcSubset", "all" },
	{ "mnt", "ReadWritePaths", "" },
	{ "mnt", "ReadOnlyPaths", "" },
	{ "mnt", "InaccessiblePaths", "" },
	{ "mnt", "ExecPaths", "" },
	{ "mnt", "NoExecPaths", "" },
	{ "mnt", "TemporaryFileSystem", "" },
	{ "mnt", "BindPaths", "" },
	{ "mnt", "BindReadOnlyPaths", "" },
	{ "mnt", "RootDirectory", "" },
	{ "mnt", "RootImage", "" },
	{ "mnt", "LogNamespace", "" },
	{ "mnt", "DynamicUser", "no" },
};

static const char *const namespaces[] = { "user", "uts", "net", "ipc", "mnt", "cgroup", "pid" };

/* 1 if @pid's namespace @ns is not PID 1's, 0 if it is, -errno. */
static int own_namespace(pid_t pid, const char *ns)
{
	char path[64], mine[64], init[64];
	ssize_t a, b;

	xsnprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ns);
	a = readlink(path, mine, sizeof(mine) - 1);
	if (a < 0)
		return errno == ENOENT ? 0 : -errno;
	xsnprintf(path, sizeof(path), "/proc/1/ns/%s", ns);
	b = readlink(path, init, sizeof(init) - 1);
	if (b < 0)
		return -errno;
	return a != b || memcmp(mine, init, (size_t)a);
}

__attribute__((format(printf, 4, 5)))
static void append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *len, *len < size ? size - *len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n;
}

int unit_check_sandbox(const char *unit, pid_t pid, char *why, size_t whylen,
		       char *dropin, size_t dropinlen)
{
	const char *props[ARRAY_SIZE(sandbox_settings) + 1];
	char out[8192], val[1024], nslist[128] = "", settings[1024] = "";
	size_t nl = 0, sl = 0, dl = 0;
	bool own[ARRAY_SIZE(namespaces)] = { false };
	bool any = false, unexplained = false;
	int r;

	dropin[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(namespaces); i++) {
		r = own_namespace(pid, namespaces[i]);
		if (r < 0)
			return set_why(why, whylen, r, "cannot read /proc/%d/ns/%s: %s", pid,
				       namespaces[i], strerror(-r));
		own[i] = r;
		if (r) {
			append(nslist, sizeof(nslist), &nl, "%s%s", nl ? ", " : "", namespaces[i]);
			any = true;
		}
	}
	if (!any)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(sandbox_settings); i++)
		props[i] = sandbox_settings[i].prop;
	props[ARRAY_SIZE(sandbox_settings)] = NULL;
	r = unit_show(unit, props, out, sizeof(out));
	if (r < 0)
		return set_why(why, whylen, r, "cannot read %s's settings", unit);
	append(dropin, dropinlen, &dl, "[Service]\n");
	for (size_t n = 0; n < ARRAY_SIZE(namespaces); n++) {
		bool named = false;

		if (!own[n])
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(sandbox_settings); i++) {
			const struct sandbox_setting *s = &sandbox_settings[i];

			if (strcmp(s->ns, namespaces[n]) ||
			    !show_value(out, s->prop, val, sizeof(val)) || !val[0] ||
			    !strcmp(val, s->off))
				continue;
			append(settings, sizeof(settings), &sl, "%s%s=%s", sl ? ", " : "",
			       s->prop, val);
			append(dropin, dropinlen, &dl, "%s=%s\n", s->prop, s->off);
			named = true;
		}
		unexplained |= !named;
	}
	if (unexplained || !sl)
		dropin[0] = '\0';
	return set_why(why, whylen, -EOPNOTSUPP,
		       "%s runs in %s namespace(s) of its own%s%s%s; CRIU cannot rebuild a service's private namespaces on a host",
		       unit, nslist, sl ? ", made by its sandboxing: " : "", settings,
		       unexplained ? " (and a setting nvwa cannot name: see systemd.exec(5))" : "");
}

int unit_stdio_sockets(pid_t pid, char *ret, size_t size)
{
	size_t len = 0;

	ret[0] = '\0';
	for (int fd = 0; fd <= 2; fd++) {
		char path[64], target[64];
		unsigned long ino;
		ssize_t n;
		int w;

		xsnprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (sscanf(target, "socket:[%lu]", &ino) != 1)
			continue;
		w = snprintf(ret + len, size - len, "%s%d:%lu", len ? " " : "", fd, ino);
		if (w < 0 || (size_t)w >= size - len)
			return -ENAMETOOLONG;
		len += (size_t)w;
	}
	return 0;
}

int unit_write_dropin(const char *dir, const char *unit)
{
	char path[PATH_MAX], pidfile[PATH_MAX], text[2048], nvwa[PATH_MAX];
	ssize_t n;
	int r;

	n = readlink("/proc/self/exe", nvwa, sizeof(nvwa) - 1);
	if (n < 0)
		return -errno;
	nvwa[n] = '\0';

	r = unit_run_path(unit, "pid", pidfile, sizeof(pidfile));
	if (r < 0)
		return r;
	if (xsnprintf(path, sizeof(path), "%s/%s.d", dir, unit) < 0)
		return -ENAMETOOLONG;
	r = mkdir_p(path, 0755);
	if (r < 0)
		return r;
	if (xsnprintf(path, sizeof(path), "%s/%s.d/%s", dir, unit, UNIT_DROPIN) < 0)
		return -ENAMETOOLONG;
	/*
	 * "+": CRIU needs root and every capability, whatever the unit's
	 * User=, CapabilityBoundingSet= or SystemCallFilter= say; the process
	 * it restores gets back its own credentials and filters.
	 */
	r = xsnprintf(text, sizeof(text),
		      "# Written by nvwa's generator for this boot only: nvwa update kept\n"
		      "# %s's process across the kexec, and its start restores it.\n"
		      "[Unit]\n"
		      "After=nvwa-restore.service\n"
		      "Wants=nvwa-restore.service\n"
		      "\n"
		      "[Service]\n"
		      "Type=forking\n"
		      "PIDFile=%s\n"
		      "GuessMainPID=no\n"
		      "NotifyAccess=main\n"
		      "ExecStartPre=\n"
		      "ExecStartPost=\n"
		      "ExecStart=\n"
		      "ExecStart=+%s restore-unit %s\n"
		      "TimeoutStartSec=5min\n",
		      unit, pidfile, nvwa, unit);
	if (r < 0)
		return -ENAMETOOLONG;
	r = write_file_atomic(path, text, strlen(text));
	/* A unit file is world-readable (systemd warns otherwise). */
	if (r == 0 && chmod(path, 0644) < 0)
		r = -errno;
	return r;
}

int keep_pids_free(const char *last)
{
	char cur[32];
	uint64_t now;
	pid_t want;
	int r;

	if (parse_pid(last, &want) < 0)
		return -EINVAL;
	if (read_one_line("/proc/sys/kernel/ns_last_pid", cur, sizeof(cur)) < 0 ||
	    parse_u64(cur, &now) < 0 || now >= (uint64_t)want)
		return 0;
	r = write_file("/proc/sys/kernel/ns_last_pid", last, strlen(last));
	if (r < 0)
		log_warn_errno(r, "Could not move the next PID past %s: %m", last);
	else
		log_debug("Next PID moved from %" PRIu64 " past %s", now, last);
	return r;
}
