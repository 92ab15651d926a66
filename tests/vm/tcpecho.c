// SPDX-License-Identifier: GPL-2.0
/*
 * nvwa-tcpecho ADDRESS PORT LOG: the test VM's TCP server.  Listens on
 * ADDRESS:PORT (a specific address: its restore must wait for it), greets
 * each connection with "hello PID", then answers every line "N LINE", N
 * counting the requests of that connection.  Each request is appended to
 * LOG, so the guest sees the peer's requests go on after an update.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int serve(int c, FILE *log)
{
	char line[256];
	unsigned long n = 0;
	FILE *in = fdopen(dup(c), "r");

	if (!in)
		return -1;
	dprintf(c, "hello %d\n", (int)getpid());
	while (fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = '\0';
		n++;
		fprintf(log, "%lu %s\n", n, line);
		fflush(log);
		if (dprintf(c, "%lu %s\n", n, line) < 0)
			break;
	}
	fclose(in);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int one = 1, s;
	FILE *log;

	signal(SIGPIPE, SIG_IGN);
	if (argc != 4 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: nvwa-tcpecho ADDRESS PORT LOG\n");
		return 2;
	}
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	log = fopen(argv[3], "a");
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (!log || s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 4) < 0) {
		perror("nvwa-tcpecho");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		int c = accept(s, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR)
				continue;
			perror("accept");
			return 1;
		}
		serve(c, log);
		close(c);
	}
}
