// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"
#include "fastboot/caps.h"
#include "fastboot/decompress.h"
#include "fastboot/quick.h"
#include "pinmem/lib/libpinmem.h"

#define NVWA_FEATURES "/sys/kernel/nvwa/features"
#define LOCKDOWN "/sys/kernel/security/lockdown"
#define SECURE_BOOT_VAR \
	"/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
#define KERNEL_BTF "/sys/kernel/btf/vmlinux"
#define IMAGE_MAX (512u << 20)
/* The release of a kernel `make kernel` built: 6.1.N-nvwa. */
#define NVWA_RELEASE_SUFFIX "-nvwa"

bool kcaps_signed_only(const char *lockdown, int secure_boot, char *why,
		       size_t whylen)
{
	char buf[128];
	const char *mode;

	if (!lockdown && read_one_line(LOCKDOWN, buf, sizeof(buf)) == 0)
		lockdown = buf;
	/* "none [integrity] confidentiality": the bracketed word is in force. */
	mode = lockdown ? strchr(lockdown, '[') : NULL;
	if (mode && strncmp(mode, "[none]", 6)) {
		const char *end = strchr(mode, ']');

		set_why(why, whylen, 0, "the kernel is locked down (%.*s)",
			end ? (int)(end - mode - 1) : 0, mode + 1);
		return true;
	}
	if (secure_boot < 0) {
		unsigned char var[8];
		FILE *f = fopen(SECURE_BOOT_VAR, "re");

		/* 4 bytes of attributes, then the one-byte value. */
		secure_boot = f && fread(var, 1, sizeof(var), f) >= 5 ? var[4] : 0;
		if (f)
			fclose(f);
	}
	if (secure_boot == 1) {
		set_why(why, whylen, 0, "UEFI secure boot is on");
		return true;
	}
	set_why(why, whylen, 0, "not locked down, no UEFI secure boot");
	return false;
}

static bool probe_signed_only(enum kcap cap, char *why, size_t whylen)
{
	(void)cap;
	return kcaps_signed_only(NULL, -1, why, whylen);
}

/*
 * Asked with no file at all, a kernel that has the call fails on the
 * descriptor (or on the caller's privileges); one without it says ENOSYS.
 * Nothing is loaded or unloaded either way.
 */
static bool probe_kexec_file_load(enum kcap cap, char *why, size_t whylen)
{
	long r = syscall(SYS_kexec_file_load, -1, -1, 0UL, NULL, 0UL);

	(void)cap;
	if (r < 0 && errno == ENOSYS) {
		set_why(why, whylen, 0, "no kexec_file_load(2) in this kernel (CONFIG_KEXEC_FILE)");
		return false;
	}
	if (r < 0 && errno == EPERM && geteuid() == 0) {
		set_why(why, whylen, 0, "kexec_file_load(2) exists, but kexec is disabled (kernel.kexec_load_disabled)");
		return false;
	}
	set_why(why, whylen, 0, "kexec_file_load(2) answers");
	return true;
}

static bool probe_pinmem(enum kcap cap, char *why, size_t whylen)
{
	(void)cap;
	if (access(PINMEM_SYSFS, F_OK) < 0) {
		set_why(why, whylen, 0, "module not loaded (no %s)", PINMEM_SYSFS);
		return false;
	}
	if (access(PINMEM_DEV, F_OK) < 0) {
		set_why(why, whylen, 0, "module loaded, but no %s", PINMEM_DEV);
		return false;
	}
	set_why(why, whylen, 0, "module loaded, %s present", PINMEM_DEV);
	return true;
}

/*
 * fentry/fexit attach through the running kernel's own BTF, the one in
 * sysfs: a vmlinux with BTF on disk does not make them attachable.
 */
static bool probe_btf(enum kcap cap, char *why, size_t whylen)
{
	(void)cap;
	if (access(KERNEL_BTF, R_OK) < 0) {
		set_why(why, whylen, 0, "no %s: kprobes only", KERNEL_BTF);
		return false;
	}
	set_why(why, whylen, 0, "%s: fentry/fexit probes", KERNEL_BTF);
	return true;
}

/* CRIU's lazy-pages daemon serves page faults through userfaultfd(2). */
static bool probe_userfaultfd(enum kcap cap, char *why, size_t whylen)
{
	long fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	(void)cap;
	if (fd >= 0) {
		close((int)fd);
		set_why(why, whylen, 0, "userfaultfd(2) works: lazy restores possible");
		return true;
	}
	if (errno == ENOSYS) {
		set_why(why, whylen, 0, "no userfaultfd(2) (CONFIG_USERFAULTFD): restores copy memory first");
		return false;
	}
	/* vm.unprivileged_userfaultfd keeps it from users; nvwa restores as root. */
	set_why(why, whylen, 0, "userfaultfd(2) exists (%s for this user)", strerror(errno));
	return true;
}

/* A word of /sys/kernel/nvwa/features, which only an nvwa kernel has. */
static bool probe_nvwa_feature(enum kcap cap, char *why, size_t whylen)
{
	const char *name = kcap_name(cap);
	size_t len = strlen(name);
	char *features, *p;
	bool have = false;

	if (read_file(NVWA_FEATURES, 1 << 16, &features, NULL) < 0) {
		set_why(why, whylen, 0, "a stock kernel (no %s)", NVWA_FEATURES);
		return false;
	}
	for (p = features; (p = strstr(p, name)); p += len)
		if ((p == features || strchr(" \n", p[-1])) && strchr(" \n", p[len]))
			have = true;
	free(features);
	set_why(why, whylen, 0, "%s in %s", have ? "named" : "not named", NVWA_FEATURES);
	return have;
}

/* Quick kexec needs the feature and the region it was booted with. */
static bool probe_quick_kexec(enum kcap cap, char *why, size_t whylen)
{
	struct quick_region r;
	int err;

	if (!probe_nvwa_feature(cap, why, whylen))
		return false;
	err = quick_region_read(&r);
	if (err == -ENOENT)
		set_why(why, whylen, 0, "named in %s, but no region: boot with nvwa.quick_kexec=SIZE",
			NVWA_FEATURES);
	else if (err < 0)
		set_why(why, whylen, 0, "%s: %s", QUICK_REGION_FILE, strerror(-err));
	else
		set_why(why, whylen, 0, "%" PRIu64 " MiB at %#" PRIx64 " (nvwa.quick_kexec=)",
			r.size >> 20, r.start);
	return err == 0;
}

static const struct kcap_row {
	const char *name;
	bool nvwa;
	bool (*probe)(enum kcap cap, char *why, size_t whylen);
} rows[KCAP_MAX] = {
	[KCAP_SIGNED_ONLY] = { "signed-only", false, probe_signed_only },
	[KCAP_KEXEC_FILE_LOAD] = { "kexec-file-load", false, probe_kexec_file_load },
	[KCAP_PINMEM] = { "pinmem", false, probe_pinmem },
	[KCAP_BTF] = { "btf", false, probe_btf },
	[KCAP_USERFAULTFD] = { "userfaultfd", false, probe_userfaultfd },
	[KCAP_PIN_ANON] = { "pin-anon", true, probe_nvwa_feature },
	[KCAP_PID_RESERVE] = { "pid-reserve", true, probe_nvwa_feature },
	[KCAP_PARKED_CPUS] = { "parked-cpus", true, probe_nvwa_feature },
	[KCAP_QUICK_KEXEC] = { "quick-kexec", true, probe_quick_kexec },
	[KCAP_MEMMAP_BG] = { "memmap-bg", true, probe_nvwa_feature },
	[KCAP_MEMMAP_BG_LOW] = { "memmap-bg-low", true, probe_nvwa_feature },
};

const char *kcap_name(enum kcap cap)
{
	return (unsigned int)cap < KCAP_MAX ? rows[cap].name : "unknown";
}

bool kcap_is_nvwa(enum kcap cap)
{
	return (unsigned int)cap < KCAP_MAX && rows[cap].nvwa;
}

bool kcaps_has(const struct kcaps *caps, enum kcap cap)
{
	return (unsigned int)cap < KCAP_MAX && (caps->have & 1u << cap);
}

bool kcaps_image_has(const struct kcaps_image *img, enum kcap cap)
{
	return (unsigned int)cap < KCAP_MAX && (img->have & 1u << cap);
}

bool kcaps_nvwa_kernel(const struct kcaps *caps)
{
	for (int cap = 0; cap < KCAP_MAX; cap++)
		if (rows[cap].nvwa && kcaps_has(caps, cap))
			return true;
	return false;
}

bool kcap_probe(enum kcap cap, char *why, size_t whylen)
{
	if ((unsigned int)cap >= KCAP_MAX) {
		set_why(why, whylen, 0, "unknown feature %d", (int)cap);
		return false;
	}
	return rows[cap].probe(cap, why, whylen);
}

int kcaps_probe_running(struct kcaps *ret)
{
	struct kcaps c = { 0 };

	for (int cap = 0; cap < KCAP_MAX; cap++)
		if (kcap_probe(cap, c.why[cap], sizeof(c.why[cap])))
			c.have |= 1u << cap;
	*ret = c;
	return 0;
}

/*
 * The nvwa-kernel features an uncompressed image names.  The names its
 * /sys/kernel/nvwa/features will list are string literals in its data
 * (kernel/ksysfs.c's nvwa_features[]), each compiled in only with what the
 * feature needs, so the image declares them in the very words the running
 * kernel will use.  A name counts only as a whole string: NUL on both
 * sides.
 */
uint32_t kcaps_image_features(const void *buf, size_t len)
{
	uint32_t have = 0;

	for (int cap = 0; cap < KCAP_MAX; cap++) {
		char needle[KCAP_WHY_MAX];
		size_t n;

		if (!rows[cap].nvwa)
			continue;
		n = strlen(rows[cap].name);
		needle[0] = '\0';
		memcpy(needle + 1, rows[cap].name, n + 1);	/* with its NUL */
		if (memmem(buf, len, needle, n + 2))
			have |= 1u << cap;
	}
	return have;
}

/* "pid-reserve, memmap-bg" for @have, or "none". */
static void features_list(uint32_t have, char *out, size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (int cap = 0; cap < KCAP_MAX; cap++)
		if (have & 1u << cap)
			len += (size_t)snprintf(out + len, len < size ? size - len : 0, "%s%s",
						len ? ", " : "", rows[cap].name);
	if (!len)
		snprintf(out, size, "none");
}

static void image_features(struct kcaps_image *c, const void *buf, size_t len,
			   const char *what)
{
	char names[KCAP_WHY_MAX];

	c->have = kcaps_image_features(buf, len);
	features_list(c->have, names, sizeof(names));
	if (c->have)
		set_why(c->why, sizeof(c->why), 0, "the nvwa kernel: %s names %s", what, names);
	else
		set_why(c->why, sizeof(c->why), 0, "a stock kernel: %s names no nvwa feature",
			what);
}

int kcaps_probe_image(const char *image, struct kcaps_image *ret, char *why,
		      size_t whylen)
{
	struct kcaps_image c = { 0 };
	size_t len;
	char *buf;
	int r;

	r = read_file(image, IMAGE_MAX, &buf, &len);
	if (r < 0)
		return set_why(why, whylen, r, "%s", strerror(-r));
	r = kimage_parse(buf, len, &c.info, why, whylen);
	if (r < 0) {
		free(buf);
		return r;
	}
	if (c.info.format == KIMAGE_ELF) {
		image_features(&c, buf, len, "the vmlinux");
		free(buf);
		*ret = c;
		return 0;
	}
	free(buf);
	/*
	 * A compressed image's feature names are inside its payload:
	 * kcaps_read_features() decompresses it (not here: preparing the
	 * image decompresses it once, and it is read from that).  Until then
	 * the nvwa kernel is told by its release, which `make kernel` ends in
	 * NVWA_RELEASE_SUFFIX, and taken to reserve PIDs (the series' first
	 * feature).  A kernel that does not know a parameter nvwa passes for
	 * a feature ignores it.
	 */
	len = strlen(c.info.release);
	if (len > strlen(NVWA_RELEASE_SUFFIX) &&
	    !strcmp(c.info.release + len - strlen(NVWA_RELEASE_SUFFIX), NVWA_RELEASE_SUFFIX)) {
		c.have = 1u << KCAP_PID_RESERVE;
		set_why(c.why, sizeof(c.why), 0, "release %s: the nvwa kernel (pid-reserve)",
			c.info.release);
	} else {
		set_why(c.why, sizeof(c.why), 0, "a stock kernel image (release %s)",
			c.info.release[0] ? c.info.release : "unknown");
	}
	*ret = c;
	return 0;
}

int kcaps_read_features(const char *path, struct kcaps_image *img)
{
	struct kimage_info info;
	char what[KCAP_WHY_MAX];
	void *elf = NULL;
	size_t len, elf_len = 0;
	char *buf;
	int r;

	r = read_file(path, IMAGE_MAX, &buf, &len);
	if (r < 0)
		return set_why(img->why, sizeof(img->why), r, "%s: %s", path, strerror(-r));
	r = kimage_parse(buf, len, &info, img->why, sizeof(img->why));
	if (r < 0)
		goto out;
	if (img->info.format == KIMAGE_ELF)
		xsnprintf(what, sizeof(what), "the vmlinux");
	else
		xsnprintf(what, sizeof(what), "its %s (release %s)",
			  info.format == KIMAGE_ELF ? "vmlinux" : "payload",
			  img->info.release[0] ? img->info.release : "unknown");
	if (info.format == KIMAGE_ELF) {
		image_features(img, buf, len, what);
		goto out;
	}
	r = payload_decompress(info.compression, buf + info.payload_offset, info.payload_length,
			       IMAGE_MAX, &elf, &elf_len, img->why, sizeof(img->why));
	if (r == 0)
		image_features(img, elf, elf_len, what);
out:
	free(elf);
	free(buf);
	return r;
}

void kcaps_print(FILE *f, const struct kcaps *caps)
{
	fprintf(f, "features:     %s kernel\n", kcaps_nvwa_kernel(caps) ? "nvwa" : "stock");
	for (int cap = 0; cap < KCAP_MAX; cap++)
		fprintf(f, "  %-16s %-4s %s\n", rows[cap].name,
			kcaps_has(caps, cap) ? "yes" : "no", caps->why[cap]);
}
