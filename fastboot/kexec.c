// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <linux/reboot.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kexec.h"
#include "log.h"
#include "util.h"

int kexec_load_image(const char *image, bool elf, const char *initrd,
		     const char *cmdline, const char *log_path)
{
	char initrd_arg[4096 + 16], cmdline_arg[4096 + 32];
	const char *argv[10];
	int argc = 0, r;

	argv[argc++] = "kexec";
	argv[argc++] = "-l";
	argv[argc++] = image;
	if (elf) {
		/* An ELF vmlinux boots with Linux's boot protocol, not multiboot. */
		argv[argc++] = "--type=elf-x86_64";
		argv[argc++] = "--args-linux";
	}
	if (initrd) {
		snprintf(initrd_arg, sizeof(initrd_arg), "--initrd=%s", initrd);
		argv[argc++] = initrd_arg;
	}
	snprintf(cmdline_arg, sizeof(cmdline_arg), "--command-line=%s", cmdline);
	argv[argc++] = cmdline_arg;
	argv[argc] = NULL;

	r = run(argv, log_path);
	if (r < 0)
		return log_error_errno(r, "Failed to run kexec: %m (is kexec-tools installed?)");
	if (r > 0)
		return log_error_errno(-ENOEXEC, "kexec -l %s failed with status %d; its output is in %s",
				       image, r, log_path ? log_path : "the terminal");
	if (!kexec_is_loaded())
		return log_error_errno(-ENOEXEC, "kexec -l %s reported success but no kernel is loaded",
				       image);
	return 0;
}

void kexec_unload(void)
{
	const char *argv[] = { "kexec", "-u", NULL };

	if (run(argv, "/dev/null") != 0)
		log_warn("Could not unload the kexec kernel; `kexec -u` will");
}

bool kexec_is_loaded(void)
{
	char buf[8];

	return read_one_line("/sys/kernel/kexec_loaded", buf, sizeof(buf)) == 0 &&
	       !strcmp(buf, "1");
}

int kexec_jump(void)
{
	/* glibc's reboot() passes only the command; the magics are implied. */
	if (reboot(LINUX_REBOOT_CMD_KEXEC) < 0)
		return -errno;
	return -EIO;
}
