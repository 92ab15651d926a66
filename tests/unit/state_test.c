// SPDX-License-Identifier: GPL-2.0
/*
 * Generations: a new update never reuses the number, and so the images,
 * of an update that was never restored.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "tools/nvwa/nvwa.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

static char top[] = "/tmp/nvwa-state-test.XXXXXX";
static char store[PATH_MAX];

/* FMT names a path under the test's directory, with one %u. */
#define AT(path, fmt, n) snprintf(path, sizeof(path), fmt, top, (unsigned int)(n))

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f)
		fclose(f);
}

TEST(setup)
{
	char state[PATH_MAX], p[PATH_MAX];

	if (!CHECK(mkdtemp(top)))
		exit(1);
	snprintf(state, sizeof(state), "%s/state", top);
	snprintf(store, sizeof(store), "%s/store", top);
	setenv("NVWA_STATE_DIR", state, 1);
	AT(p, "%s/state%.0u", 0);
	mkdir(p, 0700);
	AT(p, "%s/state/updates%.0u", 0);
	mkdir(p, 0700);
	mkdir(store, 0700);
}

TEST(first_update_is_generation_one)
{
	size_t n = 99;
	uint64_t gens[4];

	CHECK_EQ_INT(state_next_generation(store), 1);
	CHECK_EQ_INT(store_unrestored_generations(store, gens, 4, &n), 0);
	CHECK_EQ_INT(n, 0);
}

TEST(reports_count)
{
	char p[PATH_MAX];

	for (unsigned int g = 1; g <= 3; g++) {
		AT(p, "%s/state/updates/%u.dtb", g);
		touch(p);
	}
	CHECK_EQ_INT(state_next_generation(store), 4);
	CHECK_EQ_INT(state_next_generation(NULL), 4);
}

/* The update that was never restored left gen-5 and no report. */
TEST(unrestored_images_are_never_reused)
{
	char p[PATH_MAX];
	uint64_t gens[4];
	size_t n = 0;

	AT(p, "%s/store/gen-%u", 5);
	mkdir(p, 0700);
	AT(p, "%s/store/gen-%u", 4);
	mkdir(p, 0700);
	AT(p, "%s/store/gen-x%u", 9);	/* not a generation */
	touch(p);
	AT(p, "%s/store/gen-%u", 0);	/* nor is 0 */
	mkdir(p, 0700);
	CHECK_EQ_INT(state_next_generation(store), 6);
	CHECK_EQ_INT(store_unrestored_generations(store, gens, 4, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(gens[0], 4);
	CHECK_EQ_INT(gens[1], 5);
}

TEST(listing_keeps_the_newest_and_counts_all)
{
	uint64_t gens[1];
	size_t n = 0;

	CHECK_EQ_INT(store_unrestored_generations(store, gens, 1, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(gens[0], 5);
}

TEST(missing_store_is_an_error)
{
	uint64_t gens[1];
	size_t n = 7;

	CHECK_EQ_INT(store_unrestored_generations("/nonexistent-nvwa-store", gens, 1, &n), -ENOENT);
	CHECK_EQ_INT(n, 7);
}

TEST(cleanup)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	CHECK_EQ_INT(system(cmd), 0);
}
