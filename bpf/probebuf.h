/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading what the shutdown probes (bpf/shutdown.bpf.c) left in preserved
 * memory.  The bytes come from the old kernel through RAM nobody checked,
 * so every field is validated before it reaches the record.
 */
#ifndef NVWA_PROBEBUF_H
#define NVWA_PROBEBUF_H

#include <stddef.h>

#include "common/handover.h"

/*
 * Checks the @len bytes at @buf and adds to @h what they hold: the shutdown
 * phases (domain "probe": kernel-kexec, restart-prepare, device-shutdown,
 * syscore-shutdown, machine-shutdown, machine-kexec) and one "device" item
 * per device device_shutdown() walked, all on @h's TSC timeline.  Returns
 * the number of phases added, or a negative errno with the reason in @why
 * (-EBADMSG: the buffer does not check out; -ENODATA: no probe fired;
 * -ENOSPC: @h has no room), leaving @h untouched on failure.
 */
int probebuf_merge(const void *buf, size_t len, struct nvwa_handover *h,
		   char *why, size_t whylen);
/*
 * The same for @len bytes at @shared, a mapping others may write while it
 * is read (the pinmem area the probes filled): checks and reads a private
 * copy, so no field checked once can change before it is used.
 */
int probebuf_merge_shared(const void *shared, size_t len, struct nvwa_handover *h,
			  char *why, size_t whylen);

#endif
