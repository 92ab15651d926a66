// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <linux/reboot.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "fastboot/kexec.h"

/*
 * A way to load a kernel.  @probe returns 0 when the row takes the
 * request (with ret->why, and ret->note if it overrides the request),
 * -ENOTSUP when it does not, another negative errno when the request
 * cannot be loaded at all.  A @prepared row loads what nvwa prepared, so
 * it is asked only once the image is prepared (@boot not NULL).
 */
struct kexec_loader {
	enum kexec_method method;
	const char *name;
	bool prepared;
	int (*probe)(const struct kexec_request *req, const struct kcaps_image *img,
		     const struct kimage_boot *boot, struct kexec_plan *ret);
	const char *const *args;	/* kexec-tools options after the image */
};

/* A kernel that takes signed kernels only refuses kexec_load(2) outright. */
static int probe_file_load(const struct kexec_request *req,
			   const struct kcaps_image *img,
			   const struct kimage_boot *boot, struct kexec_plan *ret)
{
	bool signed_only = kcaps_has(req->caps, KCAP_SIGNED_ONLY);

	(void)boot;
	if (!req->file_load && !signed_only)
		return -ENOTSUP;
	if (img->info.format != KIMAGE_BZIMAGE)
		return set_why(ret->why, sizeof(ret->why), -ENOEXEC,
			       "kexec_file_load boots bzImages only, and %s is an ELF vmlinux",
			       req->image);
	if (!req->file_load)
		set_why(ret->note, sizeof(ret->note), 0,
			"%s: only kexec_file_load with a signed bzImage is allowed",
			req->caps->why[KCAP_SIGNED_ONLY]);
	/* The kernel verifies and unpacks the bzImage itself. */
	return set_why(ret->why, sizeof(ret->why), 0,
		       "loading the bzImage with kexec_file_load: the new kernel decompresses itself at boot");
}

static int probe_elf(const struct kexec_request *req,
		     const struct kcaps_image *img, const struct kimage_boot *boot,
		     struct kexec_plan *ret)
{
	(void)img;
	if (!boot->elf)
		return -ENOTSUP;
	if (!strcmp(boot->path, req->image))
		return set_why(ret->why, sizeof(ret->why), 0, "booting the ELF vmlinux as it is");
	return set_why(ret->why, sizeof(ret->why), 0, "booting the prepared vmlinux %s%s%s",
		       boot->path, boot->cached ? " (cached)" : "",
		       ret->skip_checks ? ", sha256 verified: purgatory checks skipped" : "");
}

/* Whatever nvwa could not prepare still boots: the kernel unpacks itself. */
static int probe_bzimage(const struct kexec_request *req,
			 const struct kcaps_image *img,
			 const struct kimage_boot *boot, struct kexec_plan *ret)
{
	(void)req;
	(void)img;
	return set_why(ret->why, sizeof(ret->why), 0, "booting the bzImage as it is: %s",
		       boot->why);
}

static const char *const file_load_args[] = { "--kexec-file-syscall", NULL };
/* An ELF vmlinux boots with Linux's boot protocol, not multiboot. */
static const char *const elf_args[] = { "--type=elf-x86_64", "--args-linux", NULL };
static const char *const bzimage_args[] = { NULL };

static const struct kexec_loader loaders[] = {
	{ KEXEC_FILE_LOAD, "kexec_file_load bzImage", false, probe_file_load, file_load_args },
	{ KEXEC_LOAD_ELF, "kexec_load elf", true, probe_elf, elf_args },
	{ KEXEC_LOAD_BZIMAGE, "kexec_load bzImage", true, probe_bzimage, bzimage_args },
};

static const struct kexec_loader *loader_of(enum kexec_method method)
{
	for (size_t i = 0; i < ARRAY_SIZE(loaders); i++)
		if (loaders[i].method == method)
			return &loaders[i];
	return NULL;
}

const char *kexec_method_name(enum kexec_method method)
{
	const struct kexec_loader *l = loader_of(method);

	return l ? l->name : "unknown";
}

int kexec_choose(const struct kexec_request *req, const struct kcaps_image *img,
		 const struct kimage_boot *boot, struct kexec_plan *ret)
{
	ret->name = NULL;
	ret->note[0] = ret->why[0] = '\0';
	/* Purgatory re-hashes what nvwa just verified: skip that at reboot. */
	ret->skip_checks = boot && boot->verified && !req->purgatory_checks;
	for (size_t i = 0; i < ARRAY_SIZE(loaders); i++) {
		const struct kexec_loader *l = &loaders[i];
		int r;

		if (l->prepared && !boot)
			return 0;
		r = l->probe(req, img, boot, ret);
		if (r == -ENOTSUP)
			continue;
		if (r < 0)
			return r;
		ret->method = l->method;
		ret->name = l->name;
		return 0;
	}
	return set_why(ret->why, sizeof(ret->why), -ENOEXEC, "no loader takes %s", req->image);
}

int kexec_plan(const struct kexec_request *req, struct kexec_plan *ret)
{
	struct kexec_plan p = { 0 };
	struct kcaps_image img;
	int r;

	r = kcaps_probe_image(req->image, &img, p.why, sizeof(p.why));
	if (r == -ENOEXEC)
		return log_error_errno(r, "%s is not a kernel image nvwa can boot: %s",
				       req->image, p.why);
	if (r < 0)
		return log_error_errno(r, "Kernel image %s: %m", req->image);
	r = kexec_choose(req, &img, NULL, &p);
	if (r < 0)
		return log_error_errno(r, "%s", p.why);
	r = kimage_prepare(req->image, p.name ? NULL : req->cache_dir, &p.boot);
	if (r < 0)
		return r;
	if (!p.name) {
		r = kexec_choose(req, &img, &p.boot, &p);
		if (r < 0)
			return log_error_errno(r, "%s", p.why);
	}
	/*
	 * A bzImage names its features inside its payload: read from the
	 * prepared vmlinux, or decompressed for the purpose.  If that fails,
	 * its release said what it could.
	 */
	if (img.info.format != KIMAGE_ELF) {
		struct kcaps_image full = img;

		if (kcaps_read_features(p.boot.path, &full) == 0)
			img = full;
	}
	p.image = img;
	p.copy_pages = -1;
	*ret = p;
	return 0;
}

void kexec_plan_quick(const struct kexec_request *req, const char *initrd,
		      const char *workdir, struct kexec_plan *plan)
{
	struct quick_span span;
	struct stat st;
	char why[192];
	int r;

	plan->quick = false;
	plan->covered = 0;
	if (xsnprintf(plan->covered_image, sizeof(plan->covered_image), "%s/vmlinux-covered",
		      workdir) < 0)
		plan->covered_image[0] = '\0';
	if (req->no_quick) {
		set_why(plan->quick_why, sizeof(plan->quick_why), 0, "no: --quick-kexec=no");
		return;
	}
	if (!kcaps_has(req->caps, KCAP_QUICK_KEXEC)) {
		set_why(plan->quick_why, sizeof(plan->quick_why), 0, "no: %s",
			req->caps->why[KCAP_QUICK_KEXEC]);
		return;
	}
	r = quick_region_read(&plan->region);
	if (r < 0) {
		set_why(plan->quick_why, sizeof(plan->quick_why), 0, "no: %s: %s",
			QUICK_REGION_FILE, strerror(-r));
		return;
	}
	if (plan->method != KEXEC_LOAD_ELF) {
		set_why(plan->quick_why, sizeof(plan->quick_why), 0,
			"no: only a prepared vmlinux can move into the region, and %s loads with %s",
			plan->boot.path, plan->name);
		return;
	}
	r = quick_span_read(plan->boot.path, &span, why, sizeof(why));
	if (r < 0) {
		set_why(plan->quick_why, sizeof(plan->quick_why), 0, "no: %s: %s", plan->boot.path, why);
		return;
	}
	if (initrd && stat(initrd, &st) < 0) {
		set_why(plan->quick_why, sizeof(plan->quick_why), 0, "no: %s: %s", initrd, strerror(errno));
		return;
	}
	r = quick_place(&plan->region, &span, initrd ? (uint64_t)st.st_size : 0, &plan->place,
			why, sizeof(why));
	if (r < 0) {
		set_why(plan->quick_why, sizeof(plan->quick_why), 0, "no: %s", why);
		return;
	}
	/* The moved copy has its holes covered too (quick_write_moved()). */
	plan->covered = span.holes;
	if (xsnprintf(plan->quick_image, sizeof(plan->quick_image), "%s/vmlinux-quick", workdir) < 0) {
		set_why(plan->quick_why, sizeof(plan->quick_why), 0, "no: %s: path too long", workdir);
		return;
	}
	plan->quick = true;
	set_why(plan->quick_why, sizeof(plan->quick_why), 0,
		"yes: in place in the %" PRIu64 " MiB region at %#" PRIx64 ", the kernel at %#" PRIx64 "%s",
		plan->region.size >> 20, plan->region.start, plan->place.kernel,
		plan->place.bounded ? "" :
		"; the initrd is copied at the jump (the region lies above 896 MiB, where kexec-tools cannot put it)");
}

/* One `kexec -l`; in place when @quick. */
static int load_once(struct kexec_plan *plan, const char *image, bool quick,
		     const char *initrd, const char *cmdline, const char *log_path)
{
	const struct kexec_loader *l = loader_of(plan->method);
	struct argv a = ARGV_INIT;
	int r;

	if (!l)
		return log_error_errno(-EINVAL, "No kexec loader for method %d", (int)plan->method);
	argv_add(&a, "kexec", "-l", image);
	for (const char *const *arg = l->args; *arg; arg++)
		argv_add(&a, *arg);
	if (plan->skip_checks)
		argv_add(&a, "--no-checks");
	if (quick && plan->place.bounded) {
		argv_addf(&a, "--mem-min=%#" PRIx64, plan->place.mem_min);
		argv_addf(&a, "--mem-max=%#" PRIx64, plan->place.mem_max);
	}
	if (initrd)
		argv_addf(&a, "--initrd=%s", initrd);
	argv_addf(&a, "--command-line=%s", cmdline);
	r = argv_error(&a);
	if (r < 0) {
		argv_free(&a);
		return log_error_errno(r, "Cannot build kexec's arguments: %m");
	}
	plan->load_runs++;
	r = run(argv_get(&a), log_path);
	argv_free(&a);
	if (r < 0)
		return log_error_errno(r, "Failed to run kexec: %m (is kexec-tools installed?)");
	if (r > 0) {
		char st[64];

		return log_error_errno(-ENOEXEC, "kexec -l %s (%s%s) failed (%s); its output is in %s",
				       image, l->name, quick ? ", in place" : "",
				       child_status_str(r, st, sizeof(st)),
				       log_path ? log_path : "the terminal");
	}
	if (!kexec_is_loaded())
		return log_error_errno(-ENOEXEC, "kexec -l %s reported success but no kernel is loaded",
				       image);
	return 0;
}

/*
 * The usual load.  A vmlinux whose segments leave holes inside their span
 * is loaded from a copy with the holes covered (vmlinux_write_covered()):
 * the new kernel takes the whole span as its own, and memory handed over
 * in place is checked against the loaded segments only.
 */
static int load_usual(struct kexec_plan *plan, const char *initrd, const char *cmdline,
		      const char *log_path)
{
	struct quick_span span;
	char why[192];
	int r;

	plan->covered = 0;
	span.holes = 0;
	if (plan->method == KEXEC_LOAD_ELF && plan->covered_image[0]) {
		r = quick_span_read(plan->boot.path, &span, why, sizeof(why));
		if (r < 0)
			return log_error_errno(r, "Cannot read %s's segments (%s): memory handed over in place could lie between them",
					       plan->boot.path, why);
	}
	if (!span.holes)
		return load_once(plan, plan->boot.path, false, initrd, cmdline, log_path);
	r = vmlinux_write_covered(plan->boot.path, plan->covered_image, why, sizeof(why));
	if (r < 0)
		return log_error_errno(r, "Cannot cover the holes between %s's segments (%s); memory handed over in place could lie in them",
				       plan->boot.path, why);
	r = load_once(plan, plan->covered_image, false, initrd, cmdline, log_path);
	unlink(plan->covered_image);
	if (!r)
		plan->covered = span.holes;
	return r;
}

int kexec_load_image(struct kexec_plan *plan, const char *initrd,
		     const char *cmdline, const char *log_path)
{
	char why[192];
	int r = -1;

	plan->load_runs = 0;
	if (plan->quick) {
		r = quick_write_moved(plan->boot.path, &plan->place, plan->quick_image, why,
				      sizeof(why));
		if (r < 0)
			log_warn("  quick kexec: cannot move the vmlinux into the region: %s", why);
		else
			r = load_once(plan, plan->quick_image, true, initrd, cmdline, log_path);
		unlink(plan->quick_image);
		if (r < 0) {
			plan->quick = false;
			set_why(plan->quick_why, sizeof(plan->quick_why), 0,
				"no: kexec could not load in place (%s): loaded the usual way",
				r == -ENOEXEC ? "see the log above" : why);
			log_warn("  quick kexec: %s", plan->quick_why);
		}
	}
	if (!plan->quick)
		r = load_usual(plan, initrd, cmdline, log_path);
	plan->copy_pages = r < 0 ? -1 : quick_copy_pages();
	return r;
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
