// SPDX-License-Identifier: GPL-2.0
/* When only kexec_file_load will do: lockdown and secure boot. */
#include <string.h>

#include "fastboot/kexec.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

static char why[128];

TEST(no_lockdown_no_secure_boot_allows_kexec_load)
{
	CHECK(!kexec_signed_only("[none] integrity confidentiality", 0, why, sizeof(why)));
	/* A kernel without the lockdown LSM has no file to read. */
	CHECK(!kexec_signed_only("", 0, why, sizeof(why)));
}

TEST(lockdown_requires_signed_kernels)
{
	CHECK(kexec_signed_only("none [integrity] confidentiality", 0, why, sizeof(why)));
	CHECK_STREQ(why, "the kernel is locked down (integrity)");
	CHECK(kexec_signed_only("none integrity [confidentiality]", 0, why, sizeof(why)));
	CHECK_STREQ(why, "the kernel is locked down (confidentiality)");
}

TEST(secure_boot_requires_signed_kernels)
{
	CHECK(kexec_signed_only("[none] integrity confidentiality", 1, why, sizeof(why)));
	CHECK_STREQ(why, "UEFI secure boot is on");
}

TEST(method_names_are_what_the_record_says)
{
	CHECK_STREQ(kexec_method_name(KEXEC_LOAD_ELF), "kexec_load elf");
	CHECK_STREQ(kexec_method_name(KEXEC_FILE_LOAD), "kexec_file_load bzImage");
	CHECK_STREQ(kexec_method_name((enum kexec_method)42), "unknown");
}
