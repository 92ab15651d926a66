/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Parked CPUs (park/kernel/): how the running nvwa kernel brought up each
 * secondary CPU, from /sys/kernel/nvwa/parked_cpus, one line per CPU:
 * "CPU HOW HANDOVER_US RUNNING_US ONLINE_US WHY", HOW "park" or "init".
 */
#ifndef NVWA_PARK_PARKED_H
#define NVWA_PARK_PARKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PARK_PARKED_FILE "/sys/kernel/nvwa/parked_cpus"
#define PARK_PARAM "nvwa.park"
#define PARK_STATE_FILE "/sys/kernel/nvwa/park"
/*
 * Written to PARK_STATE_FILE: park at the kexec of the loaded image,
 * "arm SEQ" with SEQ the number of its load (a kernel that shows no SEQ
 * takes the bare word).
 */
#define PARK_ARM "arm"

struct park_parked {
	unsigned int parked, init;	/* CPUs woken from park, INIT/SIPI'd */
	uint64_t parked_us_sum, parked_us_max;	/* bring-up until online */
	uint64_t init_us_sum, init_us_max;
	/* Until the CPU took its entry (park) or the last SIPI was sent. */
	uint64_t parked_handover_us_sum, init_handover_us_sum;
	char why[64];			/* the first reason a CPU was not parked */
};

/*
 * Parses the file's @text (NUL-terminated).  -EINVAL for a line that is
 * not one (*@ret untouched).
 */
int park_parked_parse(const char *text, struct park_parked *ret);

/* Reads and parses @path: -errno of the read, or of the parse. */
int park_parked_read(const char *path, struct park_parked *ret);

/*
 * The running nvwa kernel's park region, from PARK_STATE_FILE,
 * "ADDR TOKEN STATE SEQ": the token it writes into the region when it
 * parks its CPUs (the next kernel trusts them only when its nvwa.park=
 * carries it), what a kexec would do now ("park", "unarmed": not armed
 * for the loaded image, "image-over-region", ...), and the number of the
 * last kexec image load (the loaded image's, unless a load failed after
 * it).  A kernel of the first arming version shows no SEQ.
 */
struct park_state {
	uint64_t addr, token;
	uint64_t seq;
	bool has_seq;
	char state[32];
};

/* Parses @text (NUL-terminated); -EINVAL and *@ret untouched if malformed. */
int park_state_parse(const char *text, struct park_state *ret);

/* Reads and parses @path: -errno of the read (ENODEV: no region), or -EINVAL. */
int park_state_read(const char *path, struct park_state *ret);

/*
 * What arms the image loaded right after @before was read: "arm SEQ+1"
 * into @out of @size bytes, or the bare word for a kernel without SEQ.
 * -E2BIG if it does not fit.
 */
int park_arm_text(const struct park_state *before, char *out, size_t size);

/*
 * Arms parking for the image loaded right after @before was read of @path.
 * Retries EBUSY (the kexec lock held a moment) a few times within 0.1 s.
 * -ESTALE: another image was loaded in between, nothing armed; else the
 * write's -errno.
 */
int park_arm(const char *path, const struct park_state *before);

/*
 * The nvwa.park= parameter for the next kernel, into @out of @size bytes:
 * the running kernel's region (from @cmdline) with @st's token when @st
 * is the running kernel's state for that region, the bare address
 * otherwise (a stock kernel, which parks nothing: a token it was handed
 * would vouch for CPUs it has reset), "" without nvwa.park= on @cmdline.
 * -E2BIG if it does not fit, -EINVAL for a malformed nvwa.park=.
 */
int park_next_param(const char *cmdline, const struct park_state *st, char *out,
		    size_t size);

/*
 * What the running kernel's secondary CPUs do at the jump, for nvwa
 * update's output: into @buf of @size bytes, which it returns.  @can_park:
 * the kernel has parked-cpus; @cmdline: its command line; @next_reserves:
 * the new kernel has parked-cpus too, so reserves the region (nvwa arms
 * parking only then: a kernel that does not know the region may put its
 * data there while CPUs still wait in it); @next_release names it.
 */
const char *park_at_jump(bool can_park, const char *cmdline, bool next_reserves,
			 const char *next_release, char *buf, size_t size);

#endif
