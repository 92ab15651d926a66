// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "fastboot/cmdline.h"
#include "park/parked.h"

static void add(uint64_t us, unsigned int *n, uint64_t *sum, uint64_t *max)
{
	(*n)++;
	*sum += us;
	if (us > *max)
		*max = us;
}

int park_parked_parse(const char *text, struct park_parked *ret)
{
	struct park_parked p = { 0 };
	const char *line = text;

	while (*line) {
		const char *nl = strchr(line, '\n');
		char how[8], why[32];
		unsigned int cpu;
		uint64_t handover, running, online;
		int end = 0;

		if (sscanf(line, "%u %7s %" SCNu64 " %" SCNu64 " %" SCNu64 " %31s%n", &cpu,
			   how, &handover, &running, &online, why, &end) != 6 ||
		    (line[end] != '\n' && line[end] != '\0'))
			return -EINVAL;
		if (!strcmp(how, "park")) {
			add(online, &p.parked, &p.parked_us_sum, &p.parked_us_max);
			p.parked_handover_us_sum += handover;
		} else if (!strcmp(how, "init")) {
			add(online, &p.init, &p.init_us_sum, &p.init_us_max);
			p.init_handover_us_sum += handover;
			if (!p.why[0])
				snprintf(p.why, sizeof(p.why), "%s", why);
		} else {
			return -EINVAL;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	*ret = p;
	return 0;
}

int park_parked_read(const char *path, struct park_parked *ret)
{
	char *text;
	int r;

	r = read_file(path, 1 << 16, &text, NULL);
	if (r < 0)
		return r;
	r = park_parked_parse(text, ret);
	free(text);
	return r;
}

int park_state_parse(const char *text, struct park_state *ret)
{
	struct park_state st = { 0 };
	int end = 0, n;

	if (sscanf(text, "%" SCNx64 " %" SCNx64 " %31s%n", &st.addr, &st.token, st.state,
		   &end) != 3)
		return -EINVAL;
	/* SEQ: decimal digits only, no sign. */
	if (text[end] == ' ' && text[end + 1] >= '0' && text[end + 1] <= '9') {
		if (sscanf(text + end + 1, "%" SCNu64 "%n", &st.seq, &n) != 1)
			return -EINVAL;
		st.has_seq = true;
		end += 1 + n;
	}
	if ((text[end] != '\n' && text[end] != '\0') || (text[end] && text[end + 1]))
		return -EINVAL;
	*ret = st;
	return 0;
}

int park_state_read(const char *path, struct park_state *ret)
{
	char *text;
	int r;

	r = read_file(path, 4096, &text, NULL);
	if (r < 0)
		return r;
	r = park_state_parse(text, ret);
	free(text);
	return r;
}

int park_arm_text(const struct park_state *before, char *out, size_t size)
{
	int r;

	if (before->has_seq)
		r = snprintf(out, size, "%s %" PRIu64 "\n", PARK_ARM, before->seq + 1);
	else
		r = snprintf(out, size, "%s\n", PARK_ARM);
	return r < 0 || (size_t)r >= size ? -E2BIG : 0;
}

int park_arm(const char *path, const struct park_state *before)
{
	char text[48];
	int r;

	r = park_arm_text(before, text, sizeof(text));
	if (r < 0)
		return r;
	for (int tries = 0;; tries++) {
		r = write_file(path, text, strlen(text));
		if (r != -EBUSY || tries == 4)
			return r;
		/* A load or an unload holds the lock. */
		usleep(20 * 1000);
	}
}

/* The address part of nvwa.park=ADDR[,TOKEN] on @cmdline into @addr. */
static int park_addr(const char *cmdline, char *addr, size_t size)
{
	int r = cmdline_get(cmdline, PARK_PARAM, addr, size);

	if (r < 0)
		return r;
	addr[strcspn(addr, ",")] = '\0';
	return 0;
}

int park_next_param(const char *cmdline, const struct park_state *st, char *out,
		    size_t size)
{
	char addr[32], *end;
	unsigned long long a;
	int r;

	if (park_addr(cmdline, addr, sizeof(addr)) < 0) {
		if (!size)
			return -E2BIG;
		out[0] = '\0';
		return 0;
	}
	errno = 0;
	a = strtoull(addr, &end, 0);
	if (errno || end == addr || *end)
		return -EINVAL;
	if (st && st->addr == a && st->token)
		r = snprintf(out, size, "%s=%s,%" PRIx64, PARK_PARAM, addr, st->token);
	else
		r = snprintf(out, size, "%s=%s", PARK_PARAM, addr);
	return r < 0 || (size_t)r >= size ? -E2BIG : 0;
}

const char *park_at_jump(bool can_park, const char *cmdline, bool next_reserves,
			 const char *next_release, char *buf, size_t size)
{
	char addr[32];

	if (!can_park)
		snprintf(buf, size, "halted at the jump, INIT/SIPI in the new kernel (this kernel cannot park them)");
	else if (park_addr(cmdline, addr, sizeof(addr)) < 0 || !addr[0])
		snprintf(buf, size, "halted at the jump, INIT/SIPI in the new kernel (%s=ADDR on the command line parks them)",
			 PARK_PARAM);
	else if (!next_reserves)
		snprintf(buf, size, "halted at the jump, the new kernel INIT/SIPIs them: %s does not reserve the park region",
			 next_release && next_release[0] ? next_release : "the new kernel");
	else
		snprintf(buf, size, "parked at the jump in %s=%s; an nvwa kernel wakes them without INIT/SIPI",
			 PARK_PARAM, addr);
	return buf;
}
