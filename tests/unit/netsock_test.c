// SPDX-License-Identifier: GPL-2.0
/* An application's TCP sockets from /proc/net/tcp{,6}: kept, refused, addresses. */
#include <errno.h>
#include <string.h>

#include "tools/nvwa/netsock.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

static const char tcp4[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	/* listening on 127.0.0.1:8080 and on 10.0.2.15:7000 */
	"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 101 1 0000000000000000 100 0 0 10 0\n"
	"   1: 0F02000A:1B58 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 102 1 0000000000000000 100 0 0 10 0\n"
	/* 10.0.2.15:7000 <- 10.0.2.2:50000, established */
	"   2: 0F02000A:1B58 0202000A:C350 01 00000000:00000000 02:000AF0D5 00000000     0        0 103 2 0000000000000000 20 4 30 10 -1\n"
	/* another process's connection */
	"   3: 0F02000A:0016 0202000A:C351 01 00000000:00000000 02:000AF0D5 00000000     0        0 999 2 0000000000000000 20 4 30 10 -1\n"
	/* time-wait: no inode */
	"   4: 0F02000A:1B58 0202000A:C352 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000\n";

TEST(kept_listening_and_addresses)
{
	static const unsigned long mine[] = { 101, 102, 103 };
	struct tcp_summary s = { 0 };

	CHECK_EQ_INT(tcp_parse_table(tcp4, false, mine, 3, &s), 0);
	CHECK_EQ_INT((int)s.connected, 1);
	CHECK_EQ_INT((int)s.listening, 2);
	CHECK_STREQ(s.addresses, "10.0.2.15");
	CHECK_STREQ(s.endpoints, "10.0.2.15,7000");
	CHECK_STREQ(s.refuse, "");
}

TEST(a_handshake_in_progress_is_refused_by_name)
{
	static const char syn[] =
		"  sl  local_address rem_address   st ...\n"
		"   0: 0F02000A:9C40 0202000A:0050 02 00000001:00000000 01:00000064 00000000     0        0 201 2 0000000000000000 100 0 0 10 -1\n";
	static const unsigned long mine[] = { 201 };
	struct tcp_summary s = { 0 };

	CHECK_EQ_INT(tcp_parse_table(syn, false, mine, 1, &s), 0);
	CHECK(strstr(s.refuse, "from 10.0.2.15 port 40000 to 10.0.2.2 port 80") != NULL);
	CHECK_EQ_INT((int)s.connected, 0);
}

TEST(ipv6_and_v4_mapped)
{
	static const char tcp6[] =
		"  sl  local_address                         remote_address                        st ...\n"
		/* [::]:6379 listening */
		"   0: 00000000000000000000000000000000:18EB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   100        0 301 1 0000000000000000 100 0 0 10 0\n"
		/* [::ffff:10.0.2.15]:6379 <- [::ffff:10.0.2.2]:40000 */
		"   1: 0000000000000000FFFF00000F02000A:18EB 0000000000000000FFFF00000202000A:9C40 01 00000000:00000000 00:00000000 00000000   100        0 302 1 0000000000000000 20 4 30 10 -1\n"
		/* [fd00::1]:6379 <- [fd00::2]:40001 */
		"   2: 000000FD000000000000000001000000:18EB 000000FD000000000000000002000000:9C41 01 00000000:00000000 00:00000000 00000000   100        0 303 1 0000000000000000 20 4 30 10 -1\n";
	static const unsigned long mine[] = { 301, 302, 303 };
	struct tcp_summary s = { 0 };

	CHECK_EQ_INT(tcp_parse_table(tcp6, true, mine, 3, &s), 0);
	CHECK_EQ_INT((int)s.connected, 2);
	CHECK_EQ_INT((int)s.listening, 1);
	CHECK_STREQ(s.addresses, "::ffff:10.0.2.15 fd00::1");
	CHECK_STREQ(s.endpoints, "::ffff:10.0.2.15,6379 fd00::1,6379");
}

TEST(an_address_is_listed_once)
{
	static const unsigned long mine[] = { 102, 103 };
	struct tcp_summary s = { 0 };

	CHECK_EQ_INT(tcp_parse_table(tcp4, false, mine, 2, &s), 0);
	CHECK_EQ_INT(tcp_parse_table(tcp4, false, mine, 2, &s), 0);
	CHECK_STREQ(s.addresses, "10.0.2.15");
}

TEST(malformed_lines)
{
	static const unsigned long mine[] = { 1 };
	struct tcp_summary s = { 0 };

	CHECK_EQ_INT(tcp_parse_table("header\n   0: garbage\n", false, mine, 1, &s), -EINVAL);
	CHECK_EQ_INT(tcp_parse_table("header\n   0: 0100007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0 1\n",
				     true, mine, 1, &s), -EINVAL);
	CHECK_EQ_INT(tcp_parse_table("header only", false, mine, 1, &s), 0);
}

TEST(addresses_are_waited_for)
{
	char why[256];

	CHECK_EQ_INT(tcp_wait_addresses("127.0.0.1", 0, why, sizeof(why)), 0);
	CHECK_EQ_INT(tcp_wait_addresses("", 0, why, sizeof(why)), 0);
	CHECK_EQ_INT(tcp_wait_addresses("192.0.2.123", 0, why, sizeof(why)), -ETIMEDOUT);
	CHECK(strstr(why, "192.0.2.123") != NULL);
}
