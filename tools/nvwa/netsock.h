/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An application's TCP sockets, seen before the freeze: which connections
 * CRIU keeps (TCP repair, --tcp-established), which it cannot (a
 * handshake in progress), and the local addresses they use, which the
 * new boot must configure again before the restore.
 */
#ifndef NVWA_NETSOCK_H
#define NVWA_NETSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/handover.h"

struct tcp_summary {
	unsigned int connected;		/* established or closing: kept */
	unsigned int listening;
	char addresses[NVWA_PATH_MAX];	/* local, not wildcard or loopback */
	/* "ADDRESS,PORT ..." local ends of the kept connections, not loopback */
	char endpoints[NVWA_PATH_MAX];
	char refuse[256];		/* the first that cannot be kept */
};

/*
 * Adds to @s the sockets of /proc/net/tcp{,6}'s @text whose inode is in
 * @inodes (sorted).  @v6 for tcp6's format.  -EINVAL on a malformed line.
 */
int tcp_parse_table(const char *text, bool v6, const unsigned long *inodes, size_t n,
		    struct tcp_summary *s);
/* The TCP sockets of the processes in @tree (the first is the root). */
int tcp_scan(const pid_t *tree, size_t ntree, struct tcp_summary *ret);
/*
 * Waits up to @seconds until every address in @addresses (as
 * tcp_summary's) is configured on an interface: 0, or -ETIMEDOUT with
 * @why naming the first missing one.
 */
int tcp_wait_addresses(const char *addresses, int seconds, char *why, size_t whylen);

/*
 * Until an application's connections are restored, the new kernel must
 * not answer its peers' retransmissions with a reset (no socket is there
 * yet): packets to the local ends in @endpoints are dropped, in an
 * nftables table of the application's own (inet nvwa-PID), so the peers
 * retransmit again later.  netlock_remove() drops the table once the
 * application is restored (or given up).  0 or -errno with @why.
 */
int netlock_add(pid_t app, const char *endpoints, char *why, size_t whylen);
int netlock_remove(pid_t app, char *why, size_t whylen);

#endif
