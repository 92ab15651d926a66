// SPDX-License-Identifier: GPL-2.0
/* systemd services: which unit a process belongs to, which names nvwa takes. */
#include <errno.h>
#include <string.h>

#include "tools/nvwa/unit.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

static int from(const char *text, char *out, size_t size)
{
	char buf[512];

	strcpy(buf, text);
	return unit_from_cgroup(buf, out, size);
}

TEST(a_service_in_system_slice)
{
	char u[UNIT_NAME_MAX];

	CHECK_EQ_INT(from("0::/system.slice/redis-server.service\n", u, sizeof(u)), 0);
	CHECK_STREQ(u, "redis-server.service");
}

TEST(a_delegated_subtree_is_still_its_service)
{
	char u[UNIT_NAME_MAX];

	CHECK_EQ_INT(from("0::/system.slice/docker.service/payload\n", u, sizeof(u)), 0);
	CHECK_STREQ(u, "docker.service");
}

TEST(templated_and_escaped_names)
{
	char u[UNIT_NAME_MAX];

	CHECK_EQ_INT(from("0::/system.slice/system-getty.slice/getty@tty1.service\n", u,
			  sizeof(u)), 0);
	CHECK_STREQ(u, "getty@tty1.service");
	CHECK(unit_name_valid("foo\\x2dbar.service"));
}

TEST(cgroup_v1_names_the_unit_in_its_systemd_hierarchy)
{
	char u[UNIT_NAME_MAX];

	CHECK_EQ_INT(from("12:cpu,cpuacct:/\n1:name=systemd:/system.slice/cron.service\n",
			  u, sizeof(u)), 0);
	CHECK_STREQ(u, "cron.service");
}

TEST(no_service)
{
	char u[UNIT_NAME_MAX];

	CHECK_EQ_INT(from("0::/init.scope\n", u, sizeof(u)), -ENOENT);
	CHECK_EQ_INT(from("0::/user.slice/user-0.slice/session-3.scope\n", u, sizeof(u)), -ENOENT);
	CHECK_EQ_INT(from("0::/\n", u, sizeof(u)), -ENOENT);
	CHECK_EQ_INT(from("", u, sizeof(u)), -ENOENT);
	CHECK_EQ_INT(from("garbage without a colon", u, sizeof(u)), -ENOENT);
}

TEST(a_users_service_manager_is_not_driven)
{
	char u[UNIT_NAME_MAX];

	CHECK_EQ_INT(from("0::/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service\n",
			  u, sizeof(u)), -ENOENT);
}

TEST(names_nvwa_accepts)
{
	CHECK(unit_name_valid("redis-server.service"));
	CHECK(!unit_name_valid(".service"));
	CHECK(!unit_name_valid("redis-server"));
	CHECK(!unit_name_valid("cron.timer"));
	CHECK(!unit_name_valid("../etc/passwd.service"));
	CHECK(!unit_name_valid("a b.service"));
	CHECK(!unit_name_valid("a,b.service"));
}

TEST(a_name_too_long_for_the_output)
{
	char u[8];

	CHECK_EQ_INT(from("0::/system.slice/redis-server.service\n", u, sizeof(u)), -ENAMETOOLONG);
}
