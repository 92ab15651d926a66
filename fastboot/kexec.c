// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <linux/reboot.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "fastboot/kexec.h"

const char *kexec_method_name(enum kexec_method method)
{
	static const char *const names[] = {
		[KEXEC_LOAD_BZIMAGE] = "kexec_load bzImage",
		[KEXEC_LOAD_ELF] = "kexec_load elf",
		[KEXEC_FILE_LOAD] = "kexec_file_load bzImage",
	};

	return (unsigned int)method < ARRAY_SIZE(names) ? names[method] : "unknown";
}

int kexec_load_image(enum kexec_method method, const char *image,
		     const char *initrd, const char *cmdline, bool skip_checks,
		     const char *log_path)
{
	char initrd_arg[4096 + 16], cmdline_arg[4096 + 32];
	const char *argv[12];
	int argc = 0, r;

	argv[argc++] = "kexec";
	argv[argc++] = "-l";
	argv[argc++] = image;
	if (method == KEXEC_LOAD_ELF) {
		/* An ELF vmlinux boots with Linux's boot protocol, not multiboot. */
		argv[argc++] = "--type=elf-x86_64";
		argv[argc++] = "--args-linux";
	} else if (method == KEXEC_FILE_LOAD) {
		argv[argc++] = "--kexec-file-syscall";
	}
	if (skip_checks)
		argv[argc++] = "--no-checks";
	if (initrd) {
		xsnprintf(initrd_arg, sizeof(initrd_arg), "--initrd=%s", initrd);
		argv[argc++] = initrd_arg;
	}
	if (xsnprintf(cmdline_arg, sizeof(cmdline_arg), "--command-line=%s", cmdline) < 0)
		return log_error_errno(-E2BIG, "Command line too long for kexec");
	argv[argc++] = cmdline_arg;
	argv[argc] = NULL;

	r = run(argv, log_path);
	if (r < 0)
		return log_error_errno(r, "Failed to run kexec: %m (is kexec-tools installed?)");
	if (r > 0)
		return log_error_errno(-ENOEXEC, "kexec -l %s (%s) failed with status %d; its output is in %s",
				       image, kexec_method_name(method), r,
				       log_path ? log_path : "the terminal");
	if (!kexec_is_loaded())
		return log_error_errno(-ENOEXEC, "kexec -l %s reported success but no kernel is loaded",
				       image);
	return 0;
}

bool kexec_signed_only(const char *lockdown, int secure_boot, char *why,
		       size_t whylen)
{
	char buf[128];
	const char *mode;

	if (!lockdown && read_one_line("/sys/kernel/security/lockdown", buf, sizeof(buf)) == 0)
		lockdown = buf;
	/* "none [integrity] confidentiality": the bracketed word is in force. */
	mode = lockdown ? strchr(lockdown, '[') : NULL;
	if (mode && strncmp(mode, "[none]", 6)) {
		const char *end = strchr(mode, ']');

		xsnprintf(why, whylen, "the kernel is locked down (%.*s)",
			  end ? (int)(end - mode - 1) : 0, mode + 1);
		return true;
	}
	if (secure_boot < 0) {
		unsigned char var[8];
		FILE *f = fopen("/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c", "re");

		/* 4 bytes of attributes, then the one-byte value. */
		secure_boot = f && fread(var, 1, sizeof(var), f) >= 5 ? var[4] : 0;
		if (f)
			fclose(f);
	}
	if (secure_boot == 1) {
		xsnprintf(why, whylen, "UEFI secure boot is on");
		return true;
	}
	return false;
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
