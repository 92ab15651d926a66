// SPDX-License-Identifier: GPL-2.0
/* Loader of the first-run probe (firstrun.bpf.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include <bpf/libbpf.h>

#include "bpf/firstrun.h"
#include "bpf/firstrun.skel.h"
#include "bpf/probes.h"
#include "common/util.h"

struct firstrun_probe {
	struct firstrun *skel;
	struct ring_buffer *running;
};

static int woken(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

int firstrun_start(struct firstrun_probe **ret, char *why, size_t whylen)
{
	struct firstrun_probe *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	f->skel = firstrun__open();
	if (!f->skel) {
		r = -errno;
		goto fail;
	}
	f->skel->rodata->nr_rt_sigreturn = SYS_rt_sigreturn;
	r = firstrun__load(f->skel);
	if (!r)
		r = firstrun__attach(f->skel);
	if (r < 0)
		goto fail;
	f->running = ring_buffer__new(bpf_map__fd(f->skel->maps.running), woken,
				      NULL, NULL);
	if (!f->running) {
		r = -errno;
		goto fail;
	}
	*ret = f;
	return 0;
fail:
	xsnprintf(why, whylen, "%s", strerror(-r));
	firstrun__destroy(f->skel);
	free(f);
	return r;
}

int firstrun_watch(struct firstrun_probe *f, pid_t pid)
{
	struct firstrun_app app = {};
	__u32 key = pid;

	if (bpf_map__update_elem(f->skel->maps.apps, &key, sizeof(key), &app,
				 sizeof(app), BPF_ANY) < 0)
		return -errno;
	return 0;
}

int firstrun_wait(struct firstrun_probe *f, pid_t pid, int timeout_ms,
		  uint64_t *ret_ns, uint32_t *ret_nr)
{
	double deadline = mono_ms() + timeout_ms, left;
	struct firstrun_app app;
	__u32 key = pid;

	for (;;) {
		if (bpf_map__lookup_elem(f->skel->maps.apps, &key, sizeof(key), &app,
					 sizeof(app), 0) < 0)
			return -errno;
		if (app.first_ns) {
			*ret_ns = app.first_ns;
			*ret_nr = app.nr;
			return 0;
		}
		left = deadline - mono_ms();
		if (left < 1)
			return -ETIMEDOUT;
		ring_buffer__poll(f->running, (int)left);
	}
}

void firstrun_stop(struct firstrun_probe *f)
{
	if (!f)
		return;
	ring_buffer__free(f->running);
	firstrun__destroy(f->skel);
	free(f);
}
