/* SPDX-License-Identifier: GPL-2.0 */
/* Loading the next kernel through kexec-tools, and the jump itself. */
#ifndef NVWA_KEXEC_H
#define NVWA_KEXEC_H

#include <stdbool.h>

/*
 * Loads @image (and @initrd, may be NULL) with @cmdline through
 * `kexec -l`, kexec-tools' kexec_load path; @elf says @image is an ELF
 * vmlinux rather than a bzImage.  kexec's own output goes to @log_path.
 * Returns 0 or a negative errno (logged).
 */
int kexec_load_image(const char *image, bool elf, const char *initrd,
		     const char *cmdline, const char *log_path);
/* Unloads whatever is loaded; quiet, for undoing a failed update. */
void kexec_unload(void);
bool kexec_is_loaded(void);
/*
 * Jumps into the loaded kernel (reboot(LINUX_REBOOT_CMD_KEXEC)).  Only
 * returns on failure, with a negative errno.
 */
int kexec_jump(void);

#endif
