// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/tsc.h"
#include "common/util.h"
#include "fastboot/cmdline.h"
#include "park/defer.h"

int park_defer_append_params(long cpus, char *buf, size_t size)
{
	size_t n = strnlen(buf, size);
	int r;

	if (cpus < 1 || cpus > PARK_DEFER_MAX_CPUS)
		return -EINVAL;
	if (n == size)
		return -E2BIG;
	r = snprintf(buf + n, size - n, " maxcpus=%ld %s=defer", cpus,
		     NVWA_CPUS_PARAM);
	if (r < 0 || (size_t)r >= size - n) {
		buf[n] = '\0';
		return -E2BIG;
	}
	return 0;
}

bool park_deferred(const char *cmdline)
{
	char mode[16];

	return cmdline_get(cmdline, NVWA_CPUS_PARAM, mode, sizeof(mode)) >= 0 &&
	       !strcmp(mode, "defer");
}

static int parse_cpu(const char *s, char **ret_end, long *ret_cpu)
{
	long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(s, ret_end, 10);
	if (errno || v >= PARK_DEFER_MAX_CPUS)
		return -EINVAL;
	*ret_cpu = v;
	return 0;
}

int park_cpulist_for_each(const char *list, int (*fn)(long cpu, void *data),
			  void *data)
{
	const char *p = list;

	while (*p && *p != '\n') {
		long first, last;
		char *end;
		int r;

		if (parse_cpu(p, &end, &first) < 0)
			return -EINVAL;
		last = first;
		if (*end == '-' && (parse_cpu(end + 1, &end, &last) < 0 || last < first))
			return -EINVAL;
		if (*end && *end != ',' && *end != '\n')
			return -EINVAL;
		for (long cpu = first; cpu <= last; cpu++) {
			r = fn(cpu, data);
			if (r < 0)
				return r;
		}
		p = *end == ',' ? end + 1 : end;
		if (*end == ',' && (!*p || *p == '\n'))
			return -EINVAL;
	}
	return 0;
}

static int online_one(long cpu, void *data)
{
	char path[96], state[8];
	int *brought = data;

	xsnprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%ld/online", cpu);
	/* cpu0 has no such file, and a CPU already up needs nothing. */
	if (read_one_line(path, state, sizeof(state)) < 0 || !strcmp(state, "1"))
		return 0;
	if (write_file(path, "1\n", 2) < 0)
		log_warn("Could not bring CPU %ld online", cpu);
	else
		(*brought)++;
	return 0;
}

int park_online_deferred(struct nvwa_timeline *tl)
{
	char *cmdline, present[256];
	uint64_t t = tsc_read();
	bool deferred;
	int brought = 0;

	if (cmdline_read_running(&cmdline) < 0)
		return 0;
	deferred = park_deferred(cmdline);
	free(cmdline);
	if (!deferred)
		return 0;
	if (read_one_line("/sys/devices/system/cpu/present", present, sizeof(present)) < 0)
		return log_warn_errno(-errno, "Cannot read the present CPUs; the deferred ones stay offline");
	if (park_cpulist_for_each(present, online_one, &brought) < 0)
		log_warn("Cannot parse the present CPUs '%s'; brought %d online", present, brought);
	timeline_add(tl, NVWA_PHASE_CPU_ONLINE, NVWA_DOMAIN_NEW, t, tsc_read());
	log_info("Brought %d deferred CPU(s) online in %.0f ms", brought,
		 tsc_to_ms(tsc_read() - t, tl->tsc_khz));
	return brought;
}
