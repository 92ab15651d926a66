// SPDX-License-Identifier: GPL-2.0
/*
 * Loader of the shutdown probes (shutdown.bpf.c).  They need a place that
 * outlives the kernel: a pinmem area, mapped here, whose pages the probes
 * write through this process's page tables while it is inside reboot().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/probebuf.h"
#include "bpf/probes.h"
#include "bpf/shutdown.h"
#include "bpf/shutdown.skel.h"
#include "common/log.h"
#include "common/tsc.h"
#include "common/util.h"
#include "fastboot/caps.h"
#include "pinmem/lib/libpinmem.h"

struct shutdown_probes {
	struct shutdown *skel;
	struct shutdown_buf *buf;
	size_t len;
};

__attribute__((format(printf, 2, 0)))
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	log_debug("libbpf: %s", strstrip(line));
	return 0;
}

/*
 * Keeps one program of each kprobe_X/fentry_X (kretprobe_X/fexit_X) pair:
 * fentry when @mode allows it and the kernel's BTF describes X.  Says in
 * @how which.
 */
static void pick(struct shutdown *skel, enum probe_mode mode, char *how,
		 size_t howlen)
{
	struct btf *vmlinux = mode == PROBE_AUTO && kcap_probe(KCAP_BTF, NULL, 0) ?
			      btf__load_vmlinux_btf() : NULL;
	struct bpf_program *prog;
	char kprobed[256] = "", twin[128];
	int nfentry = 0, nkprobe = 0;

	if (libbpf_get_error(vmlinux))
		vmlinux = NULL;
	bpf_object__for_each_program(prog, skel->obj) {
		const char *name = bpf_program__name(prog), *fn;
		int ret = !strncmp(name, "kretprobe_", 10), has_btf;

		if (strncmp(name, "kprobe_", 7) && !ret)
			continue;
		fn = name + (ret ? 10 : 7);
		xsnprintf(twin, sizeof(twin), "%s_%s", ret ? "fexit" : "fentry", fn);
		has_btf = vmlinux && btf__find_by_name_kind(vmlinux, fn, BTF_KIND_FUNC) >= 0;
		bpf_program__set_autoload(prog, !has_btf);
		bpf_program__set_autoload(bpf_object__find_program_by_name(skel->obj, twin),
					  has_btf);
		if (has_btf) {
			nfentry++;
			continue;
		}
		nkprobe++;
		if (!strstr(kprobed, fn) && strlen(kprobed) + strlen(fn) + 3 < sizeof(kprobed))
			strcat(strcat(kprobed, kprobed[0] ? ", " : ""), fn);
	}
	btf__free(vmlinux);
	if (!nkprobe)
		xsnprintf(how, howlen, "fentry/fexit");
	else if (!nfentry)
		xsnprintf(how, howlen, "kprobe/kretprobe%s",
			  mode == PROBE_KPROBE ? " (asked for)" : " (no BTF for the functions)");
	else
		xsnprintf(how, howlen, "fentry/fexit; kprobes for %s (not in BTF)", kprobed);
}

static int map_area(struct shutdown_probes *p, char *how, size_t howlen)
{
	size_t want = SHUTDOWN_BUF_SIZE(SHUTDOWN_MAX_DEVS);
	void *addr;
	int fd, r;

	fd = pinmem_dev_open();
	if (fd < 0) {
		xsnprintf(how, howlen, "off: %s not available (load pinmem with a reserved region)",
			  PINMEM_DEV);
		return fd;
	}
	/* A leftover of an update that never jumped holds nothing of use. */
	pinmem_dev_remove(fd, SHUTDOWN_AREA);
	r = pinmem_dev_create(fd, SHUTDOWN_AREA, want);
	close(fd);
	if (r < 0) {
		xsnprintf(how, howlen, "off: cannot create pinmem area %s: %s",
			  SHUTDOWN_AREA, strerror(-r));
		return r;
	}
	r = pinmem_dev_map(SHUTDOWN_AREA, &addr, &p->len);
	if (r < 0) {
		xsnprintf(how, howlen, "off: cannot map pinmem area %s: %s",
			  SHUTDOWN_AREA, strerror(-r));
		return r;
	}
	/* Zeroing also proves every page mapped: the probes cannot fault one in. */
	memset(addr, 0, p->len);
	p->buf = addr;
	p->buf->magic = SHUTDOWN_MAGIC;
	p->buf->version = SHUTDOWN_VERSION;
	p->buf->max_devs = (p->len - sizeof(*p->buf)) / sizeof(struct shutdown_dev);
	if (p->buf->max_devs > SHUTDOWN_MAX_DEVS)
		p->buf->max_devs = SHUTDOWN_MAX_DEVS;
	return 0;
}

static void remove_area(void)
{
	int fd = pinmem_dev_open();

	if (fd >= 0) {
		pinmem_dev_remove(fd, SHUTDOWN_AREA);
		close(fd);
	}
}

static void drop_area(struct shutdown_probes *p)
{
	if (p->buf)
		munmap(p->buf, p->len);
	p->buf = NULL;
	remove_area();
}

static int load(struct shutdown_probes *p, enum probe_mode mode, char *how,
		size_t howlen)
{
	int r;

	p->skel = shutdown__open();
	if (!p->skel) {
		r = -errno;
		xsnprintf(how, howlen, "off: cannot open the BPF object: %s", strerror(-r));
		return r;
	}
	pick(p->skel, mode, how, howlen);
	p->skel->rodata->target_tgid = getpid();
	p->skel->rodata->buf_addr = (uintptr_t)p->buf;
	p->skel->rodata->max_devs = p->buf->max_devs;
	r = shutdown__load(p->skel);
	if (!r)
		r = shutdown__attach(p->skel);
	if (r < 0) {
		shutdown__destroy(p->skel);
		p->skel = NULL;
	}
	return r;
}

int shutdown_probes_start(enum probe_mode mode, struct shutdown_probes **ret,
			  char *how, size_t howlen)
{
	struct shutdown_probes *p;
	int r;

	if (mode == PROBE_OFF) {
		xsnprintf(how, howlen, "off: asked for");
		return -ECANCELED;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		xsnprintf(how, howlen, "off: out of memory");
		return -ENOMEM;
	}
	libbpf_set_print(libbpf_log);
	r = map_area(p, how, howlen);
	if (r < 0)
		goto fail;
	r = load(p, mode, how, howlen);
	/* A kernel without fentry trampolines still has kprobes. */
	if (r < 0 && mode == PROBE_AUTO && strncmp(how, "kprobe", 6))
		r = load(p, PROBE_KPROBE, how, howlen);
	if (r < 0) {
		xsnprintf(how, howlen, "off: cannot load the probes: %s%s", strerror(-r),
			  r == -EPERM ? " (kernel lockdown forbids bpf_probe_write_user?)" : "");
		goto fail;
	}
	*ret = p;
	return 0;
fail:
	drop_area(p);
	free(p);
	return r;
}

void shutdown_probes_arm(struct shutdown_probes *p)
{
	uint64_t tsc, ns;

	tsc_mono_pair(&tsc, &ns);
	p->buf->clock_ns = ns;
	p->buf->clock_tsc = tsc;
}

void shutdown_probes_stop(struct shutdown_probes *p, int keep_area)
{
	if (!p)
		return;
	shutdown__destroy(p->skel);
	if (keep_area)
		munmap(p->buf, p->len);
	else
		drop_area(p);
	free(p);
}

int shutdown_probes_collect(struct nvwa_handover *h, char *why, size_t whylen)
{
	void *addr;
	size_t len;
	int r;

	r = pinmem_dev_map(SHUTDOWN_AREA, &addr, &len);
	if (r < 0) {
		xsnprintf(why, whylen, "pinmem area %s: %s", SHUTDOWN_AREA, strerror(-r));
		return r;
	}
	/* A live shared mapping anyone with /dev/pinmem can write. */
	r = probebuf_merge_shared(addr, len, h, why, whylen);
	munmap(addr, len);
	remove_area();
	return r;
}
