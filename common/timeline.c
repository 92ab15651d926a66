// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeline.h"
#include "common/tsc.h"

int timeline_add(struct nvwa_timeline *tl, const char *name,
		 enum nvwa_domain domain, uint64_t start, uint64_t end)
{
	struct nvwa_phase *p;
	size_t len;

	if (!name)
		return -EINVAL;
	len = strnlen(name, NVWA_PHASE_NAME_MAX);
	if (len == 0 || len >= NVWA_PHASE_NAME_MAX)
		return -EINVAL;
	/* The enum's signedness is the compiler's choice: compare unsigned. */
	if ((unsigned int)domain >= NVWA_DOMAIN_MAX)
		return -EINVAL;
	if (end < start)
		return -EINVAL;
	if (tl->nphases >= NVWA_MAX_PHASES)
		return -ENOSPC;

	p = &tl->phases[tl->nphases];
	/* Zero the tail so the phase serialises the same whatever was there. */
	memset(p, 0, sizeof(*p));
	memcpy(p->name, name, len);
	p->domain = domain;
	p->start = start;
	p->end = end;
	tl->nphases++;
	return 0;
}

const struct nvwa_phase *timeline_find(const struct nvwa_timeline *tl,
				       const char *name)
{
	uint32_t i, n;

	/* A name that cannot be stored cannot match, and bounds strncmp. */
	if (!name || strnlen(name, NVWA_PHASE_NAME_MAX) >= NVWA_PHASE_NAME_MAX)
		return NULL;
	n = tl->nphases < NVWA_MAX_PHASES ? tl->nphases : NVWA_MAX_PHASES;
	for (i = 0; i < n; i++)
		if (strncmp(tl->phases[i].name, name, NVWA_PHASE_NAME_MAX) == 0)
			return &tl->phases[i];
	return NULL;
}

const char *timeline_domain_name(enum nvwa_domain domain)
{
	static const char *const names[] = {
		[NVWA_DOMAIN_OLD] = "old",
		[NVWA_DOMAIN_BOOT] = "boot",
		[NVWA_DOMAIN_NEW] = "new",
		[NVWA_DOMAIN_PROBE] = "probe",
	};

	if ((unsigned int)domain >= NVWA_DOMAIN_MAX)
		return "unknown";
	return names[domain];
}

int timeline_downtime(const struct nvwa_timeline *tl, uint64_t *ret_start,
		      uint64_t *ret_end)
{
	const struct nvwa_phase *freeze = timeline_find(tl, NVWA_PHASE_FREEZE);
	const struct nvwa_phase *running = timeline_find(tl, NVWA_PHASE_APP_RUNNING);

	if (!freeze || !running || running->end < freeze->start)
		return -ENODATA;
	*ret_start = freeze->start;
	*ret_end = running->end;
	return 0;
}

int timeline_downtime_ms(const struct nvwa_timeline *tl, double *ret_ms)
{
	uint64_t start, end;
	int r;

	r = timeline_downtime(tl, &start, &end);
	if (r < 0)
		return r;
	*ret_ms = tsc_to_ms(end - start, tl->tsc_khz);
	return 0;
}

static int by_start(const void *a, const void *b)
{
	const struct nvwa_phase *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->domain != y->domain)
		return x->domain < y->domain ? -1 : 1;
	return x->end < y->end ? 1 : (x->end > y->end ? -1 : 0);
}

uint32_t timeline_sorted(const struct nvwa_timeline *tl, struct nvwa_phase *ret)
{
	uint32_t n = tl->nphases < NVWA_MAX_PHASES ? tl->nphases : NVWA_MAX_PHASES;

	memcpy(ret, tl->phases, n * sizeof(ret[0]));
	qsort(ret, n, sizeof(ret[0]), by_start);
	return n;
}
