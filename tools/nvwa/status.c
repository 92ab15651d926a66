// SPDX-License-Identifier: GPL-2.0
/* nvwa status: is this machine ready for an update, and how did the last go. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cmdline.h"
#include "kexec.h"
#include "log.h"
#include "nvwa.h"
#include "report.h"
#include "util.h"

void usage_status(FILE *f)
{
	fprintf(f,
		"usage: nvwa status [--store DEV]\n"
		"\n"
		"Shows the running kernel, the preserved-memory reservation on its\n"
		"command line, the store and its free space, whether a kernel is\n"
		"loaded for kexec, a pending (not yet restored) update, and the last\n"
		"update with its downtime.\n");
}

int cmd_status(int argc, char **argv)
{
	const char *dev = store_device(argc > 2 && !strcmp(argv[1], "--store") ? argv[2] : NULL);
	struct pmem_reservation res;
	char store[PATH_MAX], path[PATH_MAX + 16], why[512];
	struct nvwa_handover *h = calloc(1, sizeof(*h));
	struct statvfs sv;
	struct utsname uts;
	char *cmdline = NULL;
	double downtime;

	if (!h)
		return 1;
	uname(&uts);
	printf("kernel:       %s\n", uts.release);
	if (read_file("/proc/cmdline", 1 << 16, &cmdline, NULL) == 0 &&
	    cmdline_find_pmem(cmdline, &res) == 0)
		printf("reservation:  memmap=%lluM!%lluM (legacy pmem)\n",
		       res.size >> 20, res.start >> 20);
	else
		printf("reservation:  none (add memmap=SIZE!START to the kernel command line)\n");
	free(cmdline);
	printf("kexec:        %s\n", kexec_is_loaded() ? "a kernel is loaded" : "nothing loaded");

	if (access(dev, F_OK) < 0) {
		printf("store:        %s missing\n", dev);
	} else if (store_mount(dev, store, sizeof(store)) == 0 &&
		   statvfs(store, &sv) == 0) {
		printf("store:        %s on %s, %llu of %llu MiB free\n", dev, store,
		       (unsigned long long)sv.f_bavail * sv.f_frsize >> 20,
		       (unsigned long long)sv.f_blocks * sv.f_frsize >> 20);
		xsnprintf(path, sizeof(path), "%s/%s", store, STORE_RECORD);
		if (access(path, F_OK) == 0) {
			if (record_load(path, 0, h, why, sizeof(why)) == 0)
				printf("pending:      update %" PRIu64 " (%s), %u application(s) not yet restored\n",
				       h->generation, h->outcome, h->napps);
			else
				printf("pending:      a record that does not check out: %s\n", why);
		} else {
			printf("pending:      none\n");
		}
	} else {
		printf("store:        %s not usable (see above)\n", dev);
	}

	if (state_report_path(0, path, sizeof(path)) == 0 &&
	    record_load(path, 0, h, why, sizeof(why)) == 0) {
		printf("last update:  %" PRIu64 ", %s -> %s, %s", h->generation,
		       h->old_kernel.release, h->new_kernel.release, h->outcome);
		if (report_downtime(h, &downtime) == 0)
			printf(", downtime %.0f ms", downtime);
		printf("\n");
		for (uint32_t i = 0; i < h->napps; i++)
			printf("  app %d (%s): %s%s%s\n", h->apps[i].pid, h->apps[i].comm,
			       h->apps[i].state, h->apps[i].error[0] ? ": " : "",
			       h->apps[i].error);
	} else {
		printf("last update:  none recorded in %s\n", state_dir());
	}
	free(h);
	return 0;
}
