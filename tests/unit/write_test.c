// SPDX-License-Identifier: GPL-2.0
/* Files nvwa writes as root: whole or not at all, never through a link. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

static char dir[] = "/tmp/nvwa-write-test.XXXXXX";

static void path_in(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

static int read_back(const char *path, char *buf, size_t size)
{
	char *data;
	size_t len;
	int r = read_file(path, size - 1, &data, &len);

	if (r < 0)
		return r;
	memcpy(buf, data, len);
	buf[len] = '\0';
	free(data);
	return 0;
}

TEST(atomic_write_replaces_whole)
{
	char out[PATH_MAX], got[64];

	if (!CHECK(mkdtemp(dir)))
		return;
	path_in(out, sizeof(out), "record.dtb");
	CHECK_EQ_INT(write_file_atomic(out, "first", 5), 0);
	CHECK_EQ_INT(write_file_atomic(out, "second", 6), 0);
	CHECK_EQ_INT(read_back(out, got, sizeof(got)), 0);
	CHECK_STREQ(got, "second");
}

/*
 * The old temporary name was PATH.tmp, opened with O_CREAT|O_TRUNC: a
 * link planted there made root overwrite whatever it pointed at.
 */
TEST(planted_link_at_old_temporary_name_is_not_followed)
{
	char out[PATH_MAX], link[PATH_MAX], victim[PATH_MAX], got[64];

	path_in(out, sizeof(out), "report.html");
	path_in(link, sizeof(link), "report.html.tmp");
	path_in(victim, sizeof(victim), "victim");
	CHECK_EQ_INT(write_file_atomic(victim, "precious", 8), 0);
	CHECK_EQ_INT(symlink(victim, link), 0);
	CHECK_EQ_INT(write_file_atomic(out, "report", 6), 0);
	CHECK_EQ_INT(read_back(victim, got, sizeof(got)), 0);
	CHECK_STREQ(got, "precious");
	CHECK_EQ_INT(read_back(out, got, sizeof(got)), 0);
	CHECK_STREQ(got, "report");
}

TEST(link_at_target_is_replaced_not_followed)
{
	char out[PATH_MAX], victim[PATH_MAX], got[64];
	struct stat st;

	path_in(out, sizeof(out), "raw.dtb");
	path_in(victim, sizeof(victim), "victim2");
	CHECK_EQ_INT(write_file_atomic(victim, "precious", 8), 0);
	CHECK_EQ_INT(symlink(victim, out), 0);
	CHECK_EQ_INT(write_file_atomic(out, "raw", 3), 0);
	CHECK_EQ_INT(read_back(victim, got, sizeof(got)), 0);
	CHECK_STREQ(got, "precious");
	CHECK_EQ_INT(lstat(out, &st), 0);
	CHECK(S_ISREG(st.st_mode));
}

TEST(temporaries_are_exclusive_and_private)
{
	char out[PATH_MAX], a[PATH_MAX + 8], b[PATH_MAX + 8];
	struct stat st;
	int fa, fb;

	path_in(out, sizeof(out), "x");
	fa = tmpfile_beside(out, a, sizeof(a));
	fb = tmpfile_beside(out, b, sizeof(b));
	CHECK(fa >= 0 && fb >= 0);
	CHECK(strcmp(a, b) != 0);
	CHECK(!strncmp(a, out, strlen(out)));
	CHECK_EQ_INT(fstat(fa, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0600);
	close(fa);
	close(fb);
	unlink(a);
	unlink(b);
	CHECK_EQ_INT(tmpfile_beside(out, a, 4), -ENAMETOOLONG);
}

TEST(cleanup)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ_INT(system(cmd), 0);
}
