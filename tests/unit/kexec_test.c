// SPDX-License-Identifier: GPL-2.0
/*
 * How the next kernel is loaded: when only kexec_file_load will do
 * (lockdown, secure boot), and which row of the loader table takes an
 * image, with the reason it gives.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "fastboot/caps.h"
#include "fastboot/kexec.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

static char why[128];

TEST(no_lockdown_no_secure_boot_allows_kexec_load)
{
	CHECK(!kcaps_signed_only("[none] integrity confidentiality", 0, why, sizeof(why)));
	/* A kernel without the lockdown LSM has no file to read. */
	CHECK(!kcaps_signed_only("", 0, why, sizeof(why)));
}

TEST(lockdown_requires_signed_kernels)
{
	CHECK(kcaps_signed_only("none [integrity] confidentiality", 0, why, sizeof(why)));
	CHECK_STREQ(why, "the kernel is locked down (integrity)");
	CHECK(kcaps_signed_only("none integrity [confidentiality]", 0, why, sizeof(why)));
	CHECK_STREQ(why, "the kernel is locked down (confidentiality)");
}

TEST(secure_boot_requires_signed_kernels)
{
	CHECK(kcaps_signed_only("[none] integrity confidentiality", 1, why, sizeof(why)));
	CHECK_STREQ(why, "UEFI secure boot is on");
}

TEST(method_names_are_what_the_record_says)
{
	CHECK_STREQ(kexec_method_name(KEXEC_LOAD_ELF), "kexec_load elf");
	CHECK_STREQ(kexec_method_name(KEXEC_LOAD_BZIMAGE), "kexec_load bzImage");
	CHECK_STREQ(kexec_method_name(KEXEC_FILE_LOAD), "kexec_file_load bzImage");
	CHECK_STREQ(kexec_method_name((enum kexec_method)42), "unknown");
}

static struct kcaps stock;
static struct kcaps locked = {
	.have = 1u << KCAP_SIGNED_ONLY,
	.why = { [KCAP_SIGNED_ONLY] = "the kernel is locked down (integrity)" },
};
static const struct kcaps_image bzimage = { .info = { .format = KIMAGE_BZIMAGE } };
static const struct kcaps_image elf = { .info = { .format = KIMAGE_ELF } };

/* What kimage_prepare() gives for a bzImage it decompressed (or found cached). */
static const struct kimage_boot prepared = {
	.path = "/cache/abc.vmlinux", .elf = 1, .cached = 1, .verified = 1,
};

static struct kexec_request request(const struct kcaps *caps)
{
	return (struct kexec_request){
		.image = "/boot/vmlinuz", .caps = caps, .cache_dir = "/cache",
	};
}

TEST(a_prepared_vmlinux_is_loaded_with_kexec_load_and_no_purgatory_pass)
{
	struct kexec_request req = request(&stock);
	struct kexec_plan p;

	/* Nothing takes the image as it is: prepare it, then ask again. */
	CHECK_EQ_INT(kexec_choose(&req, &bzimage, NULL, &p), 0);
	CHECK(p.name == NULL);
	if (!CHECK_EQ_INT(kexec_choose(&req, &bzimage, &prepared, &p), 0))
		return;
	CHECK_EQ_INT(p.method, KEXEC_LOAD_ELF);
	CHECK_STREQ(p.name, "kexec_load elf");
	CHECK(p.skip_checks);
	CHECK_STREQ(p.note, "");
	CHECK_STREQ(p.why, "booting the prepared vmlinux /cache/abc.vmlinux (cached), sha256 verified: purgatory checks skipped");
}

TEST(purgatory_checks_are_kept_when_asked_for)
{
	struct kexec_request req = request(&stock);
	struct kexec_plan p;

	req.purgatory_checks = true;
	if (!CHECK_EQ_INT(kexec_choose(&req, &bzimage, &prepared, &p), 0))
		return;
	CHECK_EQ_INT(p.method, KEXEC_LOAD_ELF);
	CHECK(!p.skip_checks);
	CHECK_STREQ(p.why, "booting the prepared vmlinux /cache/abc.vmlinux (cached)");
}

TEST(an_elf_vmlinux_is_loaded_as_it_is)
{
	struct kexec_request req = request(&stock);
	struct kimage_boot boot = { .path = "/boot/vmlinux", .elf = 1 };
	struct kexec_plan p;

	req.image = "/boot/vmlinux";
	if (!CHECK_EQ_INT(kexec_choose(&req, &elf, &boot, &p), 0))
		return;
	CHECK_EQ_INT(p.method, KEXEC_LOAD_ELF);
	CHECK(!p.skip_checks);
	CHECK_STREQ(p.why, "booting the ELF vmlinux as it is");
}

TEST(a_bzimage_nvwa_did_not_prepare_boots_as_it_is_and_says_why)
{
	struct kexec_request req = request(&stock);
	struct kimage_boot boot = { .path = "/boot/vmlinuz", .why = "preparation was turned off" };
	struct kexec_plan p;

	req.cache_dir = NULL;
	if (!CHECK_EQ_INT(kexec_choose(&req, &bzimage, &boot, &p), 0))
		return;
	CHECK_EQ_INT(p.method, KEXEC_LOAD_BZIMAGE);
	CHECK_STREQ(p.name, "kexec_load bzImage");
	CHECK(!p.skip_checks);
	CHECK_STREQ(p.why, "booting the bzImage as it is: preparation was turned off");
}

TEST(a_signed_only_kernel_gets_kexec_file_load_before_any_preparation)
{
	struct kexec_request req = request(&locked);
	struct kexec_plan p;

	if (!CHECK_EQ_INT(kexec_choose(&req, &bzimage, NULL, &p), 0))
		return;
	CHECK_EQ_INT(p.method, KEXEC_FILE_LOAD);
	CHECK_STREQ(p.name, "kexec_file_load bzImage");
	CHECK(!p.skip_checks);
	CHECK_STREQ(p.note, "the kernel is locked down (integrity): only kexec_file_load with a signed bzImage is allowed");
	CHECK_STREQ(p.why, "loading the bzImage with kexec_file_load: the new kernel decompresses itself at boot");
}

TEST(file_load_asked_for_is_taken_without_a_note)
{
	struct kexec_request req = request(&stock);
	struct kexec_plan p;

	req.file_load = true;
	if (!CHECK_EQ_INT(kexec_choose(&req, &bzimage, NULL, &p), 0))
		return;
	CHECK_EQ_INT(p.method, KEXEC_FILE_LOAD);
	CHECK_STREQ(p.note, "");
}

TEST(file_load_refuses_an_elf_vmlinux)
{
	struct kexec_request req = request(&locked);
	struct kexec_plan p;

	req.image = "/boot/vmlinux";
	CHECK_EQ_INT(kexec_choose(&req, &elf, NULL, &p), -ENOEXEC);
	CHECK_STREQ(p.why, "kexec_file_load boots bzImages only, and /boot/vmlinux is an ELF vmlinux");
	req.caps = &stock;
	req.file_load = true;
	CHECK_EQ_INT(kexec_choose(&req, &elf, NULL, &p), -ENOEXEC);
}

/* The whole plan, on files: an ELF is loaded as it is, a missing one refused. */
TEST(plan_reads_the_image)
{
	char path[] = "/tmp/nvwa-kexec-test-XXXXXX";
	unsigned char hdr[64] = { 0x7f, 'E', 'L', 'F', 2 };
	struct kexec_request req = request(&stock);
	struct kexec_plan p;
	int fd = mkstemp(path);

	if (!CHECK(fd >= 0))
		return;
	CHECK(write(fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr));
	close(fd);
	req.image = path;
	req.cache_dir = NULL;
	if (CHECK_EQ_INT(kexec_plan(&req, &p), 0)) {
		CHECK_EQ_INT(p.method, KEXEC_LOAD_ELF);
		CHECK_STREQ(p.boot.path, path);
		CHECK_STREQ(p.why, "booting the ELF vmlinux as it is");
	}
	unlink(path);
	CHECK_EQ_INT(kexec_plan(&req, &p), -ENOENT);
}

/*
 * An image names its features as the strings of its features list: whole
 * strings only, never a word inside another string or a non-nvwa one.
 */
TEST(an_image_declares_the_features_its_list_names)
{
	static const char data[] = "\0\x7f" "ELF\0pid-reserve\0quick-kexec\0"
				   "xparked-cpus\0memmap-bgx\0btf\0pin-anon";
	static const char list[] = "junk\0pid-reserve\0memmap-bg\0pin-anon\0"
				   "quick-kexec\0parked-cpus\0memmap-bg-low\0memmap-bg-lo\0";

	CHECK_EQ_INT(kcaps_image_features(data, sizeof(data) - 1),
		     1u << KCAP_PID_RESERVE | 1u << KCAP_QUICK_KEXEC);
	CHECK_EQ_INT(kcaps_image_features(list, sizeof(list) - 1),
		     1u << KCAP_PID_RESERVE | 1u << KCAP_MEMMAP_BG | 1u << KCAP_PIN_ANON |
		     1u << KCAP_QUICK_KEXEC | 1u << KCAP_PARKED_CPUS | 1u << KCAP_MEMMAP_BG_LOW);
	CHECK_EQ_INT(kcaps_image_features("", 0), 0);
}

/* An "ELF" whose bytes hold @body after the magic; the path in @path. */
static void write_elf(char *path, const char *body, size_t len)
{
	static const char pad[64];	/* kimage_parse() reads 64 bytes at least */
	FILE *f;

	strcpy(path, "/tmp/kexec_test.XXXXXX");
	f = fdopen(mkstemp(path), "w");
	fwrite("\177ELF\2", 1, 5, f);
	fwrite(body, 1, len, f);
	fwrite(pad, 1, sizeof(pad), f);
	fclose(f);
}

TEST(features_are_read_from_an_image_file)
{
	static const char body[] = "xx\0pid-reserve\0pin-anon\0nopin-anon\0memmap-bgx\0yy";
	struct kcaps_image img = { .info.format = KIMAGE_BZIMAGE, .info.release = "6.1.0-nvwa" };
	char path[64];

	write_elf(path, body, sizeof(body));
	CHECK_EQ_INT(kcaps_read_features(path, &img), 0);
	CHECK_EQ_INT(img.have, 1u << KCAP_PID_RESERVE | 1u << KCAP_PIN_ANON);
	CHECK_STREQ(img.why, "the nvwa kernel: its vmlinux (release 6.1.0-nvwa) names pin-anon, pid-reserve");
	unlink(path);
}

TEST(a_file_that_is_no_kernel_image_has_no_features)
{
	char path[] = "/tmp/kexec_test.XXXXXX";
	struct kcaps_image img = { .have = 1u << KCAP_PID_RESERVE };
	FILE *f = fdopen(mkstemp(path), "w");

	fputs("not a kernel at all, but long enough to be read as one ...", f);
	fclose(f);
	CHECK(kcaps_read_features(path, &img) < 0);
	CHECK(img.why[0] != '\0');
	CHECK_EQ_INT(img.have, 1u << KCAP_PID_RESERVE);	/* as it was */
	unlink(path);
	CHECK_EQ_INT(kcaps_read_features("/nonexistent/vmlinuz", &img), -ENOENT);
}

/* An ELF image is probed for its features; a file without them is stock. */
TEST(an_elf_image_without_feature_names_is_a_stock_kernel)
{
	char path[] = "/tmp/nvwa-kexec-test-XXXXXX";
	unsigned char file[96] = { 0x7f, 'E', 'L', 'F', 2 };
	static const char names[] = "\0parked-cpus\0memmap-bgx";
	struct kcaps_image img;
	int fd = mkstemp(path);

	if (!CHECK(fd >= 0))
		return;
	memcpy(file + 64, names, sizeof(names) - 1);
	CHECK(write(fd, file, 64) == 64);
	CHECK_EQ_INT(kcaps_probe_image(path, &img, why, sizeof(why)), 0);
	CHECK_EQ_INT(img.have, 0);
	CHECK_STREQ(img.why, "a stock kernel: the vmlinux names no nvwa feature");
	CHECK(pwrite(fd, file + 64, 32, 64) == 32);
	CHECK_EQ_INT(kcaps_probe_image(path, &img, why, sizeof(why)), 0);
	CHECK_EQ_INT(img.have, 1u << KCAP_PARKED_CPUS);
	CHECK_STREQ(img.why, "the nvwa kernel: the vmlinux names parked-cpus");
	close(fd);
	unlink(path);
}

TEST(every_feature_of_the_running_kernel_says_why)
{
	struct kcaps caps;

	CHECK_EQ_INT(kcaps_probe_running(&caps), 0);
	for (int cap = 0; cap < KCAP_MAX; cap++) {
		CHECKF(caps.why[cap][0], "%s has no reason", kcap_name(cap));
		CHECKF(strcmp(kcap_name(cap), "unknown"), "feature %d has no name", cap);
	}
	CHECK_STREQ(kcap_name(KCAP_BTF), "btf");
	CHECK(kcap_is_nvwa(KCAP_PIN_ANON));
	CHECK(!kcap_is_nvwa(KCAP_SIGNED_ONLY));
}
