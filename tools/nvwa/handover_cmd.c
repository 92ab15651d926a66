// SPDX-License-Identifier: GPL-2.0
/* nvwa handover show: what a record says, checked like restore checks it. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "tools/nvwa/nvwa.h"
#include "tools/nvwa/render.h"

static void usage_handover(FILE *f)
{
	fprintf(f,
		"usage: nvwa handover show [--json] [--raw FILE] [--store DEV | RECORD]\n"
		"\n"
		"Validates and prints a handover record: the pending one in the store\n"
		"by default, or the file RECORD.  The record is a flattened device tree;\n"
		"--raw FILE writes its bytes so that `dtc -I dtb -O dts FILE` shows\n"
		"every field.  A record that fails validation is reported with the\n"
		"reason, and --raw still writes it for inspection.\n");
}

static int show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "raw", required_argument, NULL, 'r' },
		{ "store", required_argument, NULL, 's' },
		{}
	};
	const char *raw = NULL, *dev = NULL;
	char path[PATH_MAX], store[PATH_MAX];
	bool json = false;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'r': raw = optarg; break;
		case 's': dev = optarg; break;
		default: usage_handover(stderr); return 2;
		}
	}
	if (optind < argc) {
		strscpy(path, argv[optind], sizeof(path));
	} else {
		if (store_mount(store_device(dev), store, sizeof(store)) < 0)
			return 1;
		if (record_find(store, path, sizeof(path)) < 0)
			return 1;
	}
	if (raw) {
		char *blob;
		size_t len;

		r = read_file(path, NVWA_HANDOVER_MAX_SIZE, &blob, &len);
		if (r < 0) {
			log_error_errno(r, "Failed to read %s: %m", path);
			return 1;
		}
		r = write_file_atomic(raw, blob, len);
		free(blob);
		if (r < 0) {
			log_error_errno(r, "Failed to write %s: %m", raw);
			return 1;
		}
		log_info("Wrote %zu bytes to %s (dtc -I dtb -O dts %s)", len, raw, raw);
	}
	return report_print_file(path, json) < 0 ? 1 : 0;
}

static int cmd_handover(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "show"))
		return show(argc - 1, argv + 1);
	usage_handover(stderr);
	return 2;
}

const struct nvwa_cmd nvwa_cmd_handover = {
	.name = "handover",
	.summary = "show or extract a handover record",
	.run = cmd_handover,
	.usage = usage_handover,
};
