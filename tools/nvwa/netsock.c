// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "tools/nvwa/netsock.h"

/* include/net/tcp_states.h */
enum {
	ST_ESTABLISHED = 1, ST_SYN_SENT, ST_SYN_RECV, ST_FIN_WAIT1, ST_FIN_WAIT2,
	ST_TIME_WAIT, ST_CLOSE, ST_CLOSE_WAIT, ST_LAST_ACK, ST_LISTEN, ST_CLOSING,
};

static int cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/* /proc/net/tcp's address: the bytes of in_addr/in6_addr as 32-bit words in host order. */
static int parse_addr(const char *hex, bool v6, char *out, size_t size, bool *ret_local)
{
	unsigned char bytes[16];
	size_t words = v6 ? 4 : 1;

	if (strlen(hex) != words * 8)
		return -EINVAL;
	for (size_t w = 0; w < words; w++) {
		char part[9];
		uint32_t v;
		char *end;

		memcpy(part, hex + w * 8, 8);
		part[8] = '\0';
		v = (uint32_t)strtoul(part, &end, 16);
		if (*end)
			return -EINVAL;
		memcpy(bytes + w * 4, &v, 4);
	}
	if (!inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, out, (socklen_t)size))
		return -EINVAL;
	if (v6) {
		static const unsigned char any[16], loop[16] = { [15] = 1 };
		static const unsigned char v4mapped[12] = { [10] = 0xff, [11] = 0xff };

		*ret_local = !memcmp(bytes, any, 16) || !memcmp(bytes, loop, 16) ||
			     (!memcmp(bytes, v4mapped, 12) && (bytes[12] == 127 ||
			      !memcmp(bytes + 12, any, 4)));
	} else {
		*ret_local = bytes[0] == 127 || !memcmp(bytes, "\0\0\0\0", 4);
	}
	return 0;
}

/* Adds @word to the space-separated @list once (the list is short, a scan does). */
static void add_word(char *list, size_t size, const char *word)
{
	size_t len = strlen(list), n = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word))) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return;
		p += n;
	}
	if (len + n + 2 <= size)
		snprintf(list + len, size - len, "%s%s", len ? " " : "", word);
}

int tcp_parse_table(const char *text, bool v6, const unsigned long *inodes, size_t n,
		    struct tcp_summary *s)
{
	const char *line = strchr(text, '\n');	/* the header */

	for (line = line ? line + 1 : NULL; line && *line;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		char local[80], remote[80], lhost[40], rhost[40], laddr[INET6_ADDRSTRLEN];
		char raddr[INET6_ADDRSTRLEN];
		unsigned int st, lport, rport;
		unsigned long inode;
		bool lloc, rloc;

		if (sscanf(line, " %*u: %79s %79s %x %*s %*s %*s %*u %*u %lu", local, remote, &st,
			   &inode) != 4)
			return -EINVAL;
		if (!inode || !bsearch(&inode, inodes, n, sizeof(*inodes), cmp_ulong))
			continue;
		if (sscanf(local, "%39[0-9A-Fa-f]:%x", lhost, &lport) != 2 ||
		    sscanf(remote, "%39[0-9A-Fa-f]:%x", rhost, &rport) != 2 ||
		    parse_addr(lhost, v6, laddr, sizeof(laddr), &lloc) < 0 ||
		    parse_addr(rhost, v6, raddr, sizeof(raddr), &rloc) < 0)
			return -EINVAL;
		switch (st) {
		case ST_LISTEN:
			s->listening++;
			break;
		case ST_ESTABLISHED:
		case ST_FIN_WAIT1:
		case ST_FIN_WAIT2:
		case ST_CLOSE_WAIT:
		case ST_LAST_ACK:
		case ST_CLOSING:
			s->connected++;
			break;
		case ST_CLOSE:
			continue;
		default:
			if (!s->refuse[0])
				snprintf(s->refuse, sizeof(s->refuse),
					 "a TCP connection from %s port %u to %s port %u is still being set up (state %u): CRIU cannot keep it; retry once it is established or closed",
					 laddr, lport, raddr, rport, st);
			continue;
		}
		if (lloc)
			continue;
		add_word(s->addresses, sizeof(s->addresses), laddr);
		if (st != ST_LISTEN) {
			char ep[INET6_ADDRSTRLEN + 8];

			snprintf(ep, sizeof(ep), "%s,%u", laddr, lport);
			add_word(s->endpoints, sizeof(s->endpoints), ep);
		}
	}
	return 0;
}

/* The socket inodes open in the processes of @tree, sorted. */
static int socket_inodes(const pid_t *tree, size_t ntree, unsigned long **ret, size_t *ret_n)
{
	unsigned long *v = NULL;
	size_t n = 0, cap = 0;

	for (size_t t = 0; t < ntree; t++) {
		char dir[64], path[PATH_MAX], target[64];
		struct dirent *de;
		DIR *d;

		xsnprintf(dir, sizeof(dir), "/proc/%d/fd", tree[t]);
		d = opendir(dir);
		if (!d)
			continue;	/* gone since: CRIU will not see it either */
		while ((de = readdir(d))) {
			unsigned long ino;
			ssize_t len;

			if (xsnprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < 0)
				continue;
			len = readlink(path, target, sizeof(target) - 1);
			if (len < 0)
				continue;
			target[len] = '\0';
			if (sscanf(target, "socket:[%lu]", &ino) != 1)
				continue;
			if (n == cap) {
				unsigned long *nv = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof(*v));

				if (!nv) {
					closedir(d);
					free(v);
					return -ENOMEM;
				}
				v = nv;
			}
			v[n++] = ino;
		}
		closedir(d);
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_ulong);
	*ret = v;
	*ret_n = n;
	return 0;
}

int tcp_scan(const pid_t *tree, size_t ntree, struct tcp_summary *ret)
{
	static const char *const tables[] = { "tcp", "tcp6" };
	struct tcp_summary s = { 0 };
	unsigned long *inodes;
	size_t n;
	int r;

	if (!ntree)
		return -EINVAL;
	r = socket_inodes(tree, ntree, &inodes, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < 2 && n && r == 0; i++) {
		char path[64], *text;

		/* The root's network namespace is the tree's (nvwa refuses others). */
		xsnprintf(path, sizeof(path), "/proc/%d/net/%s", tree[0], tables[i]);
		if (read_file(path, 16u << 20, &text, NULL) < 0)
			continue;	/* no IPv6 */
		r = tcp_parse_table(text, i == 1, inodes, n, &s);
		free(text);
	}
	free(inodes);
	if (r == 0)
		*ret = s;
	return r;
}

static bool configured(const struct ifaddrs *list, const char *addr)
{
	unsigned char want[16], have[16];
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;

	if (inet_pton(family, addr, want) != 1)
		return false;
	for (const struct ifaddrs *i = list; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != family)
			continue;
		if (family == AF_INET)
			memcpy(have, &((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr, 4);
		else
			memcpy(have, &((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr, 16);
		if (!memcmp(have, want, family == AF_INET ? 4 : 16))
			return true;
	}
	return false;
}

int tcp_wait_addresses(const char *addresses, int seconds, char *why, size_t whylen)
{
	struct timespec pause = { .tv_nsec = 20 * 1000 * 1000 };
	time_t deadline = time(NULL) + seconds;

	for (;;) {
		char list[NVWA_PATH_MAX], *save = NULL, *missing = NULL;
		struct ifaddrs *ifs;

		if (getifaddrs(&ifs) < 0)
			return set_why(why, whylen, -errno, "cannot list this boot's addresses: %s",
				       strerror(errno));
		strscpy(list, addresses, sizeof(list));
		for (char *a = strtok_r(list, " ", &save); a && !missing; a = strtok_r(NULL, " ", &save))
			if (!configured(ifs, a))
				missing = a;
		freeifaddrs(ifs);
		if (!missing)
			return 0;
		if (time(NULL) >= deadline)
			return set_why(why, whylen, -ETIMEDOUT,
				       "its sockets use %s, which this boot did not configure within %d s; configure it, then `nvwa restore --retry`",
				       missing, seconds);
		nanosleep(&pause, NULL);
	}
}

static int nft_run(const char *cmd, char *why, size_t whylen)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	int r;

	if (!nft)
		return set_why(why, whylen, -ENOMEM, "cannot start libnftables");
	nft_ctx_buffer_error(nft);
	r = nft_run_cmd_from_buffer(nft, cmd);
	if (r)
		set_why(why, whylen, -EIO, "nftables refused \"%s\": %s", cmd,
			nft_ctx_get_error_buffer(nft));
	nft_ctx_free(nft);
	return r ? -EIO : 0;
}

int netlock_add(pid_t app, const char *endpoints, char *why, size_t whylen)
{
	char cmd[4096], list[NVWA_PATH_MAX], *save = NULL;
	size_t len;
	int r;

	if (!endpoints || !endpoints[0])
		return 0;
	len = (size_t)snprintf(cmd, sizeof(cmd),
			       "add table inet nvwa-%d\n"
			       "add chain inet nvwa-%d input { type filter hook input priority -300; policy accept; }\n",
			       app, app);
	strscpy(list, endpoints, sizeof(list));
	for (char *e = strtok_r(list, " ", &save); e; e = strtok_r(NULL, " ", &save)) {
		char *comma = strrchr(e, ',');
		const char *addr = e, *fam = "ip";

		if (!comma)
			return set_why(why, whylen, -EINVAL, "malformed endpoint '%s'", e);
		*comma = '\0';
		if (startswith(addr, "::ffff:") && !strchr(addr + 7, ':'))
			addr += 7;	/* an IPv4 peer of an IPv6 socket */
		else if (strchr(addr, ':'))
			fam = "ip6";
		r = snprintf(cmd + len, sizeof(cmd) - len,
			     "add rule inet nvwa-%d input %s daddr %s tcp dport %s drop\n",
			     app, fam, addr, comma + 1);
		if (r < 0 || (size_t)r >= sizeof(cmd) - len)
			return set_why(why, whylen, -E2BIG, "too many endpoints to lock");
		len += (size_t)r;
	}
	return nft_run(cmd, why, whylen);
}

int netlock_remove(pid_t app, char *why, size_t whylen)
{
	char cmd[64];

	xsnprintf(cmd, sizeof(cmd), "delete table inet nvwa-%d", app);
	return nft_run(cmd, why, whylen);
}
