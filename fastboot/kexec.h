/* SPDX-License-Identifier: GPL-2.0 */
/* Loading the next kernel through kexec-tools, and the jump itself. */
#ifndef NVWA_KEXEC_H
#define NVWA_KEXEC_H

#include <stdbool.h>

#include <stddef.h>

enum kexec_method {
	KEXEC_LOAD_BZIMAGE,	/* kexec_load(2), the kernel decompresses itself */
	KEXEC_LOAD_ELF,		/* kexec_load(2) of a prepared ELF vmlinux */
	KEXEC_FILE_LOAD,	/* kexec_file_load(2): signed bzImage only */
};

const char *kexec_method_name(enum kexec_method method);

/*
 * Loads @image (and @initrd, may be NULL) with @cmdline through
 * kexec-tools.  @skip_checks drops purgatory's SHA-256 pass over the
 * segments at reboot; only for an image the caller has verified itself.
 * kexec's own output goes to @log_path.  Returns 0 or a negative errno
 * (logged).
 */
int kexec_load_image(enum kexec_method method, const char *image,
		     const char *initrd, const char *cmdline, bool skip_checks,
		     const char *log_path);

/*
 * Whether this kernel accepts only signed kernels (lockdown, secure
 * boot), in which case kexec_load(2) is refused and kexec_file_load(2)
 * with a signed bzImage is the only way.  Returns true and the reason in
 * @why.  @lockdown is the content of /sys/kernel/security/lockdown (NULL
 * to read it), @secure_boot the SecureBoot EFI variable's value (-1 to
 * read it).
 */
bool kexec_signed_only(const char *lockdown, int secure_boot, char *why,
		       size_t whylen);
/* Unloads whatever is loaded; quiet, for undoing a failed update. */
void kexec_unload(void);
bool kexec_is_loaded(void);
/*
 * Jumps into the loaded kernel (reboot(LINUX_REBOOT_CMD_KEXEC)).  Only
 * returns on failure, with a negative errno.
 */
int kexec_jump(void);

#endif
