/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Deferred secondary-CPU bring-up, the stock kernel's answer to CPU
 * parking: the new kernel boots with maxcpus=N and nvwa.cpus=defer, so
 * smp_init() brings up only N CPUs inside the downtime; the restore
 * onlines the rest once the applications run.  Parked CPUs (the nvwa
 * kernel, park/kernel/) will live beside this.
 */
#ifndef NVWA_PARK_DEFER_H
#define NVWA_PARK_DEFER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/timeline.h"

#define PARK_DEFER_MAX_CPUS 4096

/*
 * Appends " maxcpus=@cpus nvwa.cpus=defer" to the NUL-terminated @buf of
 * @size bytes.  -EINVAL for a count outside 1..PARK_DEFER_MAX_CPUS,
 * -E2BIG if it does not fit (@buf is then unchanged).
 */
int park_defer_append_params(long cpus, char *buf, size_t size);

/* Whether the kernel command line @cmdline asked for deferred CPUs. */
bool park_deferred(const char *cmdline);

/*
 * Calls @fn for every CPU of a sysfs CPU list ("0-3,5,8-9"), in order,
 * and stops at the first negative return, which it returns.  -EINVAL
 * for a list that is not one (nothing called for the malformed range
 * and what follows); ranges are bounded by PARK_DEFER_MAX_CPUS.
 */
int park_cpulist_for_each(const char *list, int (*fn)(long cpu, void *data),
			  void *data);

/*
 * When this boot deferred CPUs, brings every present CPU online and adds
 * the "cpu-online" phase to @tl.  Returns how many came up (0 when the
 * boot did not defer); a CPU that refuses is warned about and skipped.
 */
int park_online_deferred(struct nvwa_timeline *tl);

#endif
