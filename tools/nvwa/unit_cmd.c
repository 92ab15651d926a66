// SPDX-License-Identifier: GPL-2.0
/*
 * nvwa unit: whether a systemd service can be kept, and the drop-in that
 * makes it so.  nvwa generator: the systemd generator that, on a boot
 * nvwa update started, makes each kept service's start restore it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "fastboot/cmdline.h"
#include "tools/nvwa/nvwa.h"
#include "tools/nvwa/unit.h"

static void usage_unit(FILE *f)
{
	fprintf(f,
		"usage: nvwa unit check NAME.service\n"
		"       nvwa unit dropin NAME.service\n"
		"\n"
		"Whether `nvwa update --unit NAME.service` can keep a systemd service.\n"
		"A service whose sandboxing gives it namespaces of its own (PrivateUsers=,\n"
		"ProtectHostname=, PrivateTmp=, ProtectSystem=, ReadWritePaths=, ... see\n"
		"systemd.exec(5)) cannot be restored by CRIU on a host: nvwa update\n"
		"refuses it before anything is frozen.\n"
		"\n"
		"  check   says whether the running service can be kept, and why not\n"
		"          (exit 0 if it can, 1 if not)\n"
		"  dropin  prints the drop-in that turns those settings off, for\n"
		"          /etc/systemd/system/NAME.service.d/nvwa.conf (then\n"
		"          `systemctl daemon-reload` and restart the service); prints\n"
		"          nothing if nothing needs to change\n"
		"\n"
		"Turning sandboxing off weakens the service's isolation: weigh it.\n"
		"The service is otherwise untouched; on the boot an update started,\n"
		"systemd starts it once, and that start restores it (see nvwa-update(8)).\n");
}

static int cmd_unit(int argc, char **argv)
{
	char why[1024], dropin[1024];
	const char *unit;
	pid_t pid;
	int r;

	if (argc != 3 || (strcmp(argv[1], "check") && strcmp(argv[1], "dropin"))) {
		usage_unit(stderr);
		return 2;
	}
	unit = argv[2];
	if (!unit_name_valid(unit))
		return log_error_errno(-EINVAL, "'%s' is not a service's name (NAME.service)", unit), 2;
	r = unit_main_pid(unit, &pid);
	if (r < 0)
		return 1;
	r = unit_check_sandbox(unit, pid, why, sizeof(why), dropin, sizeof(dropin));
	if (!strcmp(argv[1], "dropin")) {
		if (r < 0 && r != -EOPNOTSUPP)
			return log_error_errno(r, "%s", why), 1;
		fputs(dropin, stdout);
		return 0;
	}
	if (r < 0) {
		log_error("%s", why);
		return 1;
	}
	printf("%s (PID %d) can be kept: no namespace of its own\n", unit, pid);
	return 0;
}

const struct nvwa_cmd nvwa_cmd_unit = {
	.name = "unit",
	.summary = "whether a systemd service can be kept (and the drop-in that lets it)",
	.run = cmd_unit,
	.usage = usage_unit,
};

static void usage_generator(FILE *f)
{
	fprintf(f,
		"usage: nvwa generator NORMAL_DIR EARLY_DIR LATE_DIR\n"
		"\n"
		"The systemd generator (installed as nvwa-generator in\n"
		"system-generators), run by systemd at boot and on every daemon-reload.\n"
		"On a boot `nvwa update` started, for each service it kept\n"
		"(nvwa.units= on the command line) it writes, in EARLY_DIR, a drop-in\n"
		"whose start restores the service's process (`nvwa restore-unit`) and\n"
		"makes it the unit's main process; once that is done the drop-in is no\n"
		"longer written, so the next start is an ordinary one.  It also moves\n"
		"the boot's next PID past the highest one it will restore\n"
		"(nvwa.lastpid=), so the boot's own processes do not take it.  On any\n"
		"other boot it does nothing.\n");
}

static int cmd_generator(int argc, char **argv)
{
	char *cmdline, units[NVWA_CMDLINE_MAX], last[32], done[PATH_MAX];
	char *save = NULL;
	int r, failed = 0;

	if (argc < 3) {
		usage_generator(stderr);
		return 2;
	}
	if (cmdline_read_running(&cmdline) < 0)
		return 0;
	if (cmdline_get(cmdline, NVWA_HANDOVER_PARAM, units, sizeof(units)) < 0) {
		free(cmdline);
		return 0;
	}
	if (cmdline_get(cmdline, NVWA_LASTPID_PARAM, last, sizeof(last)) == 0)
		keep_pids_free(last);
	r = cmdline_get(cmdline, NVWA_UNITS_PARAM, units, sizeof(units));
	free(cmdline);
	if (r < 0)
		return 0;
	for (char *u = strtok_r(units, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
		if (!unit_name_valid(u)) {
			log_error("nvwa-generator: ignoring '%s' in %s=: not a service's name",
				  u, NVWA_UNITS_PARAM);
			failed++;
			continue;
		}
		/* Restored already this boot: its next start is an ordinary one. */
		if (unit_run_path(u, "done", done, sizeof(done)) == 0 && access(done, F_OK) == 0)
			continue;
		r = unit_write_dropin(argv[2], u);
		if (r < 0) {
			log_error_errno(r, "nvwa-generator: cannot write %s's drop-in in %s: %m",
					u, argv[2]);
			failed++;
		}
	}
	return failed ? 1 : 0;
}

const struct nvwa_cmd nvwa_cmd_generator = {
	.name = "generator",
	.summary = "systemd generator: on an update's boot, kept services restore",
	.run = cmd_generator,
	.usage = usage_generator,
};
