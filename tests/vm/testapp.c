// SPDX-License-Identifier: GPL-2.0
/*
 * The application the test VM updates: anonymous memory filled with a
 * pattern that can be verified byte for byte, a log file it appends a
 * counter to, optional worker threads, and optionally a resource CRIU
 * refuses (an established TCP connection) to make a dump fail.
 *
 * Every tick rewrites one page with a pattern keyed by the page and the
 * tick, so pages change between a pre-dump and the final dump, and a
 * restore that lost an incremental page fails verification.
 *
 * With --pinmem NAME:MiB it also keeps memory in a pinmem area mapped from
 * /dev/pinmem (created if missing, the descriptor kept open): the area's
 * first word is a heartbeat, the tick, written every tick, so another
 * process reading the area (/run/pinmem/NAME) sees whether this process
 * writes the same memory; the rest holds a fixed pattern.
 *
 * With --sparse GiB it also maps that much more anonymous memory and writes
 * one page in every SPARSE_STRIDE of it, as a runtime that reserves a
 * large heap and touches it in places: verified with the rest.
 *
 * SIGUSR1: verify all memory and append "verify ok ..." or
 * "verify FAIL ..." to the log.
 *
 * With --children N it is a process tree: N children, forked before the
 * parent's own memory is allocated, so that memory is the parent's alone.
 * --child-mem MiB gives each child private anonymous memory of its own,
 * with a pattern of its own, one page rewritten every tick like the
 * parent's.  --shared-mem MiB adds a MAP_SHARED|MAP_ANONYMOUS region the
 * parent and the children all map.  With either, SIGUSR1 to the parent
 * asks every child too: each child logs a "verify ok child=K ..." (or
 * FAIL) line of its own, besides the parent's.  The parent writes a fresh
 * word into the shared region and sends it along with the signal
 * (sigqueue): a child that does not read the same word there no longer
 * shares the region with its parent.
 *
 * SIGUSR2: check that the memory behaves as memory this process allocated
 * itself (after a restore that put kept frames back): /proc/self/smaps
 * counts it as Anonymous, a forked child's write is copied on write,
 * MADV_DONTNEED gives zeros, mremap moves the contents, munmap and a new
 * mapping work; then "anoncheck ok ..." or "anoncheck FAIL ..." in the log.
 * The pages it touches are filled again, so verify still holds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pinmem/lib/libpinmem.h"

#define PAGE 4096u
#define WORDS_PER_PAGE (PAGE / sizeof(uint64_t))

static uint64_t *mem;
static uint64_t *gen;		/* tick that last wrote each page */
static size_t npages;
static uint64_t seed = 0x6e767761;	/* "nvwa" */
static int logfd = -1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t verify_requested;
static volatile sig_atomic_t anoncheck_requested;
static uint64_t *thread_ticks;
static uint64_t *sparse;	/* --sparse: one page written per stride */
static size_t sparse_pages;
#define SPARSE_STRIDE (64u << 20)
static volatile uint64_t *pin;	/* the pinmem area, if any */
static size_t pin_words;
/* --shared-mem: word 0 is the parent's last verify word, the rest a pattern. */
static volatile uint64_t *shared;
static size_t shared_words;
static pid_t kids[16];
static long nkids;
static volatile sig_atomic_t verify_word;	/* a child: what SIGUSR1 carried */

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void fill_page(size_t page, uint64_t tick)
{
	uint64_t base = mix(seed ^ (page << 20) ^ tick);
	uint64_t *w = mem + page * WORDS_PER_PAGE;

	for (size_t i = 0; i < WORDS_PER_PAGE; i++)
		w[i] = base + i * 0x100000001b3ull;
	gen[page] = tick;
}

static long check_page(size_t page)
{
	uint64_t base = mix(seed ^ (page << 20) ^ gen[page]);
	const uint64_t *w = mem + page * WORDS_PER_PAGE;

	for (size_t i = 0; i < WORDS_PER_PAGE; i++)
		if (w[i] != base + i * 0x100000001b3ull)
			return (long)i;
	return -1;
}

__attribute__((format(printf, 1, 2)))
static void logline(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0 && write(logfd, buf, (size_t)n) != n)
		_exit(3);
}

static uint64_t pin_word(size_t i)
{
	return mix(seed ^ 0x70696eull ^ i);
}

/* Maps area NAME of MIB MiB, filling it only when this call created it. */
static int map_pinmem(const char *spec)
{
	char name[PINMEM_NAME_MAX];
	const char *colon = strchr(spec, ':');
	size_t len;
	int fd, r;

	if (!colon || (size_t)(colon - spec) >= sizeof(name) || atol(colon + 1) <= 0)
		return -EINVAL;
	memcpy(name, spec, (size_t)(colon - spec));
	name[colon - spec] = '\0';
	len = (size_t)atol(colon + 1) << 20;
	fd = pinmem_dev_open();
	if (fd < 0)
		return fd;
	/* Kept open on purpose: CRIU must carry it over (DUMP_EXT_FILE). */
	fcntl(fd, F_SETFD, 0);
	r = pinmem_dev_create(fd, name, len);
	if (r < 0 && r != -EEXIST)
		return r;
	if (r == -EEXIST)
		r = 1;
	if (pinmem_dev_attach(fd, name) < 0)
		return -ENOENT;
	pin = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (pin == MAP_FAILED)
		return -errno;
	pin_words = len / sizeof(uint64_t);
	if (r == 0)
		for (size_t i = 1; i < pin_words; i++)
			pin[i] = pin_word(i);
	return 0;
}

static size_t verify_pinmem(void)
{
	size_t bad = 0;

	for (size_t i = 1; i < pin_words; i++)
		bad += pin[i] != pin_word(i);
	return bad;
}

/* Not keyed by seed: the parent and every child expect the same words. */
static uint64_t shared_word(size_t i)
{
	return mix(0x736861726564ull ^ i);
}

static size_t verify_shared(void)
{
	size_t bad = 0;

	for (size_t i = 1; i < shared_words; i++)
		bad += shared[i] != shared_word(i);
	return bad;
}

/* Pages of this process's own memory that differ; the first one's place. */
static size_t verify_pages(size_t *ret_first, long *ret_word)
{
	size_t bad = 0;

	pthread_mutex_lock(&lock);
	for (size_t p = 0; p < npages; p++) {
		long w = check_page(p);

		if (w >= 0 && !bad++) {
			*ret_first = p;
			*ret_word = w;
		}
	}
	pthread_mutex_unlock(&lock);
	return bad;
}

static uint64_t sparse_word(size_t page, size_t i)
{
	return mix(seed ^ 0x737061ull ^ (page << 20) ^ i);
}

static int map_sparse(long gib)
{
	size_t len = (size_t)gib << 30;

	sparse = mmap(NULL, len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (sparse == MAP_FAILED)
		return -errno;
	/* A page where it is touched, not a huge page around it. */
	if (madvise(sparse, len, MADV_NOHUGEPAGE) < 0)
		return -errno;
	sparse_pages = len / SPARSE_STRIDE;
	for (size_t p = 0; p < sparse_pages; p++)
		for (size_t i = 0; i < WORDS_PER_PAGE; i++)
			sparse[p * (SPARSE_STRIDE / sizeof(uint64_t)) + i] = sparse_word(p, i);
	return 0;
}

static size_t verify_sparse(void)
{
	size_t bad = 0;

	for (size_t p = 0; p < sparse_pages; p++)
		for (size_t i = 0; i < WORDS_PER_PAGE; i++)
			bad += sparse[p * (SPARSE_STRIDE / sizeof(uint64_t)) + i] !=
			       sparse_word(p, i);
	return bad;
}

static void verify(long nthreads)
{
	size_t bad, first = 0, pin_bad, shared_bad, sparse_bad;
	long word = -1;

	pin_bad = verify_pinmem();
	if (pin_bad) {
		logline("verify FAIL %zu words of the pinmem area differ\n", pin_bad);
		return;
	}
	shared_bad = verify_shared();
	if (shared_bad) {
		logline("verify FAIL %zu words of the shared region differ\n", shared_bad);
		return;
	}
	sparse_bad = verify_sparse();
	if (sparse_bad) {
		logline("verify FAIL %zu words of the sparse mapping differ\n", sparse_bad);
		return;
	}
	bad = verify_pages(&first, &word);
	if (bad)
		logline("verify FAIL %zu of %zu pages differ, first page %zu word %ld\n",
			bad, npages, first, word);
	else
		logline("verify ok pages=%zu bytes=%zu threads=%ld pinned=%zu shared=%zu children=%ld\n",
			npages, npages * PAGE, nthreads, pin_words * sizeof(uint64_t),
			shared_words * sizeof(uint64_t), nkids);
}

/* A child's answer: its own memory, and the region it shares with the parent. */
static void verify_child(long k)
{
	size_t bad, first = 0, shared_bad;
	long word = -1;

	if (shared && (uint32_t)shared[0] != (uint32_t)verify_word) {
		logline("verify FAIL child=%ld pid=%d reads %#x in the shared region, the parent wrote %#x: no longer shared\n",
			k, getpid(), (unsigned int)shared[0], (unsigned int)verify_word);
		return;
	}
	shared_bad = verify_shared();
	bad = verify_pages(&first, &word);
	if (shared_bad)
		logline("verify FAIL child=%ld pid=%d %zu words of the shared region differ\n",
			k, getpid(), shared_bad);
	else if (bad)
		logline("verify FAIL child=%ld pid=%d %zu of %zu pages differ, first page %zu word %ld\n",
			k, getpid(), bad, npages, first, word);
	else
		logline("verify ok child=%ld pid=%d pages=%zu bytes=%zu shared=%zu\n", k,
			getpid(), npages, npages * PAGE, shared_words * sizeof(uint64_t));
}

/* The parent's verify, passed on: a fresh word in the shared region, then each child. */
static void ask_children(uint64_t tick)
{
	union sigval v = { .sival_int = (int)(uint32_t)mix(tick ^ 0x766572ull) };

	if (shared)
		shared[0] = (uint32_t)v.sival_int;
	for (long k = 0; k < nkids; k++)
		if (sigqueue(kids[k], SIGUSR1, v) < 0)
			logline("verify FAIL child=%ld pid=%d cannot be asked: %s\n", k,
				(int)kids[k], strerror(errno));
}

/*
 * Anonymous: in kB, of the mapping holding @start (it may have merged with
 * a neighbour), from smaps; -1 if none.
 */
static long smaps_anon_kb(const void *start)
{
	char line[256];
	FILE *f = fopen("/proc/self/smaps", "re");
	unsigned long lo, hi;
	bool in = false;
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* A mapping's first line: "LO-HI perms ..."; its fields follow. */
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = lo <= (unsigned long)start && (unsigned long)start < hi;
		else if (in && sscanf(line, "Anonymous: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

static bool page_zero(const uint64_t *w)
{
	for (size_t i = 0; i < WORDS_PER_PAGE; i++)
		if (w[i])
			return false;
	return true;
}

static void anoncheck(void)
{
	const char *fail = NULL;
	size_t last = npages - 1, tail = npages > 64 ? 16 : 1;
	uint64_t *w = mem + last * WORDS_PER_PAGE;
	long kb;
	pid_t child;
	int st;

	pthread_mutex_lock(&lock);
	kb = smaps_anon_kb(mem);
	if (kb < (long)(npages * PAGE / 1024))
		fail = "smaps does not count the memory as Anonymous";
	/* Copy on write: the child's write must not reach this process. */
	if (!fail) {
		child = fork();
		if (child == 0) {
			uint64_t v = mem[0];

			mem[0] = ~v;
			_exit(mem[0] == ~v ? 0 : 1);
		}
		if (child < 0 || waitpid(child, &st, 0) != child || !WIFEXITED(st) ||
		    WEXITSTATUS(st) || check_page(0) >= 0)
			fail = "fork: the child's write was not copied on write";
	}
	/* mremap: the last pages move to a new address with their contents. */
	if (!fail) {
		uint64_t *to = mmap(NULL, tail * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint64_t *from = mem + (npages - tail) * WORDS_PER_PAGE;
		size_t p;

		if (to == MAP_FAILED ||
		    mremap(from, tail * PAGE, tail * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, to) != to ||
		    mremap(to, tail * PAGE, tail * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, from) != from)
			fail = "mremap failed";
		for (p = npages - tail; !fail && p < npages; p++)
			if (check_page(p) >= 0)
				fail = "mremap: the contents did not move with the pages";
	}
	/* MADV_DONTNEED drops the page: zeros after. */
	if (!fail && (madvise(w, PAGE, MADV_DONTNEED) < 0 || !page_zero(w)))
		fail = "MADV_DONTNEED did not give a zero page";
	/* munmap, and a new mapping in its place. */
	if (!fail && (munmap(w, PAGE) < 0 ||
		      mmap(w, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			   -1, 0) != w || !page_zero(w)))
		fail = "munmap and a new mapping in its place failed";
	fill_page(last, gen[last]);
	pthread_mutex_unlock(&lock);
	if (fail)
		logline("anoncheck FAIL %s (Anonymous %ld kB)\n", fail, kb);
	else
		logline("anoncheck ok anonymous_kb=%ld\n", kb);
}

static void on_usr2(int sig)
{
	(void)sig;
	anoncheck_requested = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	verify_requested = 1;
}

static void on_usr1_child(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	verify_word = si->si_value.sival_int;
	verify_requested = 1;
}

/*
 * Child @k of the tree: memory of its own (@mib MiB, 0 for none), keyed
 * by its number, rewritten a page a tick; SIGUSR1 from the parent
 * verifies it and the shared region.  Never returns.
 */
static void child_main(long k, long mib, long interval_ms, int ready)
{
	struct sigaction sa = { .sa_sigaction = on_usr1_child, .sa_flags = SA_SIGINFO };
	struct timespec ts = { .tv_sec = interval_ms / 1000,
			       .tv_nsec = (interval_ms % 1000) * 1000000 };
	uint64_t tick = 0;

	seed ^= (uint64_t)(k + 1) << 56;
	npages = (size_t)mib * 1024 * 1024 / PAGE;
	if (npages) {
		mem = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		gen = calloc(npages, sizeof(*gen));
		if (mem == MAP_FAILED || !gen) {
			logline("verify FAIL child=%ld pid=%d out of memory\n", k, getpid());
			_exit(1);
		}
		for (size_t p = 0; p < npages; p++)
			fill_page(p, 0);
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	if (write(ready, "", 1) != 1)
		_exit(1);
	close(ready);
	for (;;) {
		tick++;
		if (npages)
			fill_page((size_t)(mix(tick) % npages), tick);
		if (verify_requested) {
			verify_requested = 0;
			verify_child(k);
		}
		nanosleep(&ts, NULL);
	}
}

static void *worker(void *arg)
{
	long id = (long)arg;
	struct timespec ts = { .tv_nsec = 20 * 1000 * 1000 };

	for (;;) {
		pthread_mutex_lock(&lock);
		thread_ticks[id]++;
		fill_page((size_t)(mix(thread_ticks[id] ^ (uint64_t)id) % npages),
			  thread_ticks[id] | ((uint64_t)(id + 1) << 48));
		pthread_mutex_unlock(&lock);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static int connect_peer(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "testapp: connect to port %d: %m\n", port);
		return -1;
	}
	return fd;
}

/*
 * --unix-listen PATH: a unix stream socket others connect to (accepted,
 * then held); --unix-peer PATH: a connection to one, whose other end is
 * then a process CRIU does not dump ("External socket is used").
 */
static int unix_socket(const char *path, bool listen_on)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || (listen_on ? bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
				   listen(fd, 8) < 0 :
		       connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)) {
		fprintf(stderr, "testapp: %s %s: %m\n", listen_on ? "listen on" : "connect to", path);
		return -1;
	}
	return fd;
}

static void *unix_acceptor(void *arg)
{
	int fd = (int)(intptr_t)arg;

	for (;;)
		if (accept(fd, NULL, NULL) < 0 && errno != EINTR)
			return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: nvwa-testapp --log FILE [--mem MiB] [--threads N]\n"
		   "                    [--interval-ms MS] [--tcp-peer PORT]\n"
		   "                    [--unix-listen PATH] [--unix-peer PATH]\n"
		   "                    [--children N [--child-mem MiB] [--shared-mem MiB]]\n"
		   "                    [--pinmem NAME:MiB] [--sparse GiB]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log", required_argument, NULL, 'l' },
		{ "mem", required_argument, NULL, 'm' },
		{ "threads", required_argument, NULL, 't' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "tcp-peer", required_argument, NULL, 'p' },
		{ "children", required_argument, NULL, 'c' },
		{ "child-mem", required_argument, NULL, 'C' },
		{ "shared-mem", required_argument, NULL, 'M' },
		{ "pinmem", required_argument, NULL, 'P' },
		{ "unix-listen", required_argument, NULL, 'L' },
		{ "unix-peer", required_argument, NULL, 'U' },
		{ "sparse", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *logpath = NULL, *pinspec = NULL, *ulisten = NULL, *upeer = NULL;
	long mib = 64, nthreads = 0, interval_ms = 100, port = 0, children = 0, sparse_gib = 0;
	long child_mib = 0, shared_mib = 0;
	struct sigaction sa = { .sa_handler = on_usr1 };
	pthread_t tid;
	uint64_t tick = 0;
	int c, ready[2];
	char byte;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': logpath = optarg; break;
		case 'm': mib = strtol(optarg, NULL, 0); break;
		case 't': nthreads = strtol(optarg, NULL, 0); break;
		case 'i': interval_ms = strtol(optarg, NULL, 0); break;
		case 'p': port = strtol(optarg, NULL, 0); break;
		case 'c': children = strtol(optarg, NULL, 0); break;
		case 'C': child_mib = strtol(optarg, NULL, 0); break;
		case 'M': shared_mib = strtol(optarg, NULL, 0); break;
		case 'P': pinspec = optarg; break;
		case 'L': ulisten = optarg; break;
		case 'U': upeer = optarg; break;
		case 'S': sparse_gib = strtol(optarg, NULL, 0); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!logpath || mib <= 0 || nthreads < 0 || nthreads > 64 ||
	    interval_ms <= 0 || children < 0 || children > 16 || child_mib < 0 ||
	    shared_mib < 0 || ((child_mib || shared_mib) && !children) || sparse_gib < 0 ||
	    sparse_gib > 1024) {
		usage(stderr);
		return 2;
	}
	logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0) {
		fprintf(stderr, "testapp: %s: %m\n", logpath);
		return 1;
	}
	if (port > 0 && connect_peer((int)port) < 0)
		return 1;
	if (upeer && unix_socket(upeer, false) < 0)
		return 1;
	if (ulisten) {
		int lfd = unix_socket(ulisten, true);

		if (lfd < 0 || pthread_create(&tid, NULL, unix_acceptor, (void *)(intptr_t)lfd))
			return 1;
	}
	if (pinspec) {
		int r = map_pinmem(pinspec);

		if (r < 0) {
			fprintf(stderr, "testapp: pinmem area %s: %s\n", pinspec, strerror(-r));
			return 1;
		}
	}

	if (shared_mib) {
		shared_words = (size_t)shared_mib * 1024 * 1024 / sizeof(uint64_t);
		shared = mmap(NULL, shared_words * sizeof(uint64_t), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (shared == MAP_FAILED) {
			fprintf(stderr, "testapp: shared region: %m\n");
			return 1;
		}
		for (size_t i = 1; i < shared_words; i++)
			shared[i] = shared_word(i);
	}
	/*
	 * Children make a process tree: CRIU dumps and stops all of it.
	 * Forked before the parent's memory, which stays the parent's alone.
	 */
	if (pipe(ready) < 0) {
		fprintf(stderr, "testapp: pipe: %m\n");
		return 1;
	}
	for (long i = 0; i < children; i++) {
		pid_t child = fork();

		if (child == 0) {
			close(ready[0]);
			if (child_mib || shared_mib)
				child_main(i, child_mib, interval_ms, ready[1]);
			close(ready[1]);
			for (;;)
				pause();
		}
		if (child < 0) {
			fprintf(stderr, "testapp: fork: %m\n");
			return 1;
		}
		kids[nkids++] = child;
	}
	/* Ready once every child has its memory filled (or is gone). */
	close(ready[1]);
	while (read(ready[0], &byte, 1) == 1)
		;
	close(ready[0]);

	if (sparse_gib && map_sparse(sparse_gib) < 0) {
		fprintf(stderr, "testapp: cannot map %ld GiB: %m\n", sparse_gib);
		return 1;
	}
	npages = (size_t)mib * 1024 * 1024 / PAGE;
	mem = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gen = calloc(npages, sizeof(*gen));
	thread_ticks = calloc((size_t)nthreads + 1, sizeof(*thread_ticks));
	if (mem == MAP_FAILED || !gen || !thread_ticks) {
		fprintf(stderr, "testapp: out of memory\n");
		return 1;
	}
	for (size_t p = 0; p < npages; p++)
		fill_page(p, 0);

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	for (long i = 0; i < nthreads; i++)
		if (pthread_create(&tid, NULL, worker, (void *)i)) {
			fprintf(stderr, "testapp: cannot start threads\n");
			return 1;
		}
	logline("ready pid=%d mem=%zu threads=%ld children=%ld\n", getpid(),
		npages * PAGE, nthreads, children);

	for (;;) {
		struct timespec ts = { .tv_sec = interval_ms / 1000,
				       .tv_nsec = (interval_ms % 1000) * 1000000 };

		tick++;
		pthread_mutex_lock(&lock);
		fill_page((size_t)(mix(tick) % npages), tick);
		pthread_mutex_unlock(&lock);
		if (pin)
			pin[0] = tick;
		logline("count %llu\n", (unsigned long long)tick);
		if (verify_requested) {
			verify_requested = 0;
			if (child_mib || shared_mib)
				ask_children(tick);
			verify(nthreads);
		}
		if (anoncheck_requested) {
			anoncheck_requested = 0;
			anoncheck();
		}
		nanosleep(&ts, NULL);
	}
}
