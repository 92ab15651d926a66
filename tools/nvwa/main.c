// SPDX-License-Identifier: GPL-2.0
/*
 * nvwa: update the running kernel with kexec and bring the applications
 * back where they were.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "tools/nvwa/nvwa.h"

/* The Makefile passes the top-level VERSION file's contents. */
#ifndef NVWA_VERSION
#error "NVWA_VERSION must be defined (the Makefile passes VERSION)"
#endif

static const struct nvwa_cmd *const commands[] = {
	&nvwa_cmd_update,
	&nvwa_cmd_trace,
	&nvwa_cmd_prepare,
	&nvwa_cmd_restore,
	&nvwa_cmd_status,
	&nvwa_cmd_report,
	&nvwa_cmd_handover,
	&nvwa_cmd_store,
	&nvwa_cmd_pinmem,
	&nvwa_cmd_checkpoint,
	&nvwa_cmd_restore_app,
	&nvwa_cmd_criu,
	&nvwa_cmd_unit,
	&nvwa_cmd_restore_unit,
	&nvwa_cmd_generator,
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nvwa [-v|-q] COMMAND [ARGS...]\n"
		"       nvwa --version\n"
		"\n"
		"Updates the running Linux kernel in seconds: the new kernel is loaded\n"
		"ahead of time, the applications are checkpointed with CRIU into memory\n"
		"that survives kexec, the machine kexecs, and the applications are\n"
		"restored in the new kernel with their PIDs, files and memory.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f,
		"\n"
		"  -v, --verbose   also print debugging detail\n"
		"  -q, --quiet     print errors only\n"
		"      --version   print nvwa's version and exit\n"
		"\n"
		"`nvwa COMMAND --help` explains a command.  A typical update:\n"
		"  nvwa store format /dev/pmem0        # once per cold boot\n"
		"  nvwa update --kernel /boot/vmlinuz-NEW --initrd /boot/initrd.img-NEW \\\n"
		"              --app $(pidof myservice)\n"
		"  nvwa report                         # after the new kernel is up\n");
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			log_set_level(LOG_LVL_DEBUG);
		} else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			log_set_level(LOG_LVL_ERROR);
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("nvwa %s\n", NVWA_VERSION);
			return 0;
		} else {
			log_error("unknown option %s", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i == argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 == argc) {
			usage(stdout);
			return 0;
		}
		i++;
		for (size_t c = 0; c < ARRAY_SIZE(commands); c++)
			if (!strcmp(argv[i], commands[c]->name)) {
				commands[c]->usage(stdout);
				return 0;
			}
	}
	for (size_t c = 0; c < ARRAY_SIZE(commands); c++) {
		if (strcmp(argv[i], commands[c]->name))
			continue;
		if (wants_help(argc - i, argv + i)) {
			commands[c]->usage(stdout);
			return 0;
		}
		return commands[c]->run(argc - i, argv + i);
	}
	log_error("unknown command '%s'; `nvwa --help` lists them", argv[i]);
	return 2;
}
