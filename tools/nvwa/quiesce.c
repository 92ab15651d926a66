// SPDX-License-Identifier: GPL-2.0
/*
 * Filesystems made consistent at the jump (see quiesce.h).
 *
 * Why a freeze and not a read-only remount: a remount fails with EBUSY
 * while any file is open for writing, which on a live host is always.
 * ext4_freeze() (fs/ext4/super.c) locks the journal, flushes it with
 * jbd2_journal_flush(), clears needs_recovery and commits the superblock:
 * the next mount finds nothing to replay.  xfs and btrfs likewise write
 * their logs out on freeze.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/log.h"
#include "common/tsc.h"
#include "common/util.h"
#include "tools/nvwa/quiesce.h"

/* Local block-device filesystems whose freeze leaves them clean. */
static const char *const freezable[] = {
	"ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs", "jfs", "reiserfs",
	"nilfs2",
};

static bool is_freezable(const char *type)
{
	for (size_t i = 0; i < ARRAY_SIZE(freezable); i++)
		if (!strcmp(type, freezable[i]))
			return true;
	return false;
}

/* mountinfo escapes ' ', '\t', '\n' and '\\' as \ooo; undoes it in place. */
static void unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

/* The next space-separated field of the line at *@p, NUL-terminated. */
static char *field(char **p)
{
	char *s = *p, *e;

	while (*s == ' ')
		s++;
	if (!*s)
		return NULL;
	e = strchr(s, ' ');
	if (e)
		*e++ = '\0';
	else
		e = s + strlen(s);
	*p = e;
	return s;
}

/* Whether the comma-separated @opts hold @word. */
static bool has_opt(const char *opts, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = opts; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, word, n) && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

struct mount_line {
	dev_t dev;
	char *root, *point, *type, *super_opts;
};

/*
 * "ID PARENT MAJ:MIN ROOT POINT OPTS [OPTIONAL...] - TYPE SOURCE SUPER".
 * False for anything else.
 */
static bool parse_line(char *line, struct mount_line *m)
{
	char *p = line, *f, *devs, *end;
	unsigned long maj, min;

	if (!field(&p) || !field(&p))
		return false;
	devs = field(&p);
	if (!devs)
		return false;
	errno = 0;
	maj = strtoul(devs, &end, 10);
	if (end == devs || *end != ':' || errno)
		return false;
	min = strtoul(end + 1, &end, 10);
	if (*end || errno || maj > 0xfff || min > 0xfffff)
		return false;
	m->root = field(&p);
	m->point = field(&p);
	if (!m->root || !m->point || !field(&p))
		return false;
	while ((f = field(&p)) && strcmp(f, "-"))
		;
	m->type = f ? field(&p) : NULL;
	if (!m->type || !field(&p))
		return false;
	m->super_opts = field(&p);
	if (!m->super_opts)
		return false;
	m->dev = makedev(maj, min);
	unescape(m->root);
	unescape(m->point);
	return true;
}

/* "/" 0, "/disk" 1, "/var/lib" 2. */
static size_t depth_of(const char *path)
{
	size_t n = 0;

	if (!strcmp(path, "/"))
		return 0;
	for (; *path; path++)
		n += *path == '/';
	return n;
}

static int deeper_first(const void *a, const void *b)
{
	const struct quiesce_fs *x = a, *y = b;

	return x->depth < y->depth ? 1 : x->depth > y->depth ? -1 : 0;
}

/* Adds the mount @m, or names @m for a filesystem already planned. */
static int plan_add(struct quiesce *q, const struct mount_line *m)
{
	struct quiesce_fs *fs = NULL;

	for (size_t i = 0; i < q->nfs; i++)
		if (q->fs[i].dev == m->dev)
			fs = &q->fs[i];
	if (fs) {
		/* Named by a mount of its root rather than by a bind mount. */
		if (fs->whole || strcmp(m->root, "/"))
			return 0;
	} else {
		if (q->nfs == QUIESCE_MAX_FS)
			return -E2BIG;
		fs = &q->fs[q->nfs++];
	}
	if (strscpy(fs->path, m->point, sizeof(fs->path)) < 0 ||
	    strscpy(fs->type, m->type, sizeof(fs->type)) < 0) {
		q->nfs--;
		return 0;
	}
	fs->dev = m->dev;
	fs->depth = depth_of(m->point);
	fs->whole = !strcmp(m->root, "/");
	return 0;
}

int quiesce_parse_mountinfo(const char *text, const dev_t *keep, size_t nkeep,
			    struct quiesce *ret)
{
	struct quiesce q = { .notify_fd = -1 };
	char *copy = strdup(text), *line, *next;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (line = copy; line && *line && r == 0; line = next) {
		struct mount_line m;
		bool kept = false;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!parse_line(line, &m) || !is_freezable(m.type) ||
		    !has_opt(m.super_opts, "rw"))
			continue;
		for (size_t i = 0; i < nkeep; i++)
			kept |= keep[i] == m.dev;
		if (!kept)
			r = plan_add(&q, &m);
	}
	free(copy);
	/* Stable: the first of equally deep mounts freezes first. */
	for (size_t i = 1; i < q.nfs; i++)
		for (size_t j = i; j > 0 && deeper_first(&q.fs[j - 1], &q.fs[j]) > 0; j--) {
			struct quiesce_fs t = q.fs[j];

			q.fs[j] = q.fs[j - 1];
			q.fs[j - 1] = t;
		}
	*ret = q;
	return r;
}

/* Drops the filesystem of @dev from the plan, naming it and @why. */
static void plan_drop(struct quiesce *q, dev_t dev, const char *why)
{
	for (size_t i = 0; i < q->nfs; i++) {
		if (q->fs[i].dev != dev)
			continue;
		log_info("  %s (%s) stays unfrozen: %s", q->fs[i].path, q->fs[i].type, why);
		memmove(&q->fs[i], &q->fs[i + 1], (q->nfs - i - 1) * sizeof(q->fs[0]));
		q->nfs--;
		return;
	}
}

int quiesce_plan(struct quiesce *q, const char *store)
{
	char *text, list[512] = "";
	struct stat st;
	dev_t keep = 0;
	size_t len = 0;
	int r;

	if (store && stat(store, &st) == 0)
		keep = st.st_dev;
	r = read_file("/proc/self/mountinfo", 1u << 20, &text, NULL);
	if (r < 0)
		return log_error_errno(r, "Failed to read /proc/self/mountinfo: %m");
	r = quiesce_parse_mountinfo(text, &keep, keep ? 1 : 0, q);
	free(text);
	if (r == -E2BIG)
		log_warn("More than %d filesystems to freeze; the rest are only synced",
			 QUIESCE_MAX_FS);
	else if (r < 0)
		return log_error_errno(r, "Failed to read /proc/self/mountinfo: %m");
	/* nvwa logs after the freeze: its output must not block. */
	for (int fd = 1; fd <= 2; fd++)
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			plan_drop(q, st.st_dev, "nvwa's output goes to a file there (redirect it elsewhere to freeze it)");
	for (size_t i = 0; i < q->nfs; i++)
		len += (size_t)snprintf(list + len, len < sizeof(list) ? sizeof(list) - len : 0,
					"%s%s (%s)", i ? ", " : "", q->fs[i].path, q->fs[i].type);
	if (q->nfs)
		log_info("  to freeze at the jump: %s", list);
	else
		log_info("  no filesystem to freeze at the jump");
	return 0;
}

/*
 * Tells the guard.  A guard that died must not take nvwa with it (by
 * SIGPIPE) while filesystems are frozen: nvwa can still undo it all.
 */
static void notify(struct quiesce *q, unsigned char c)
{
	struct timespec now = { 0 };
	sigset_t pipe, old;
	ssize_t n;
	int err;

	if (q->notify_fd < 0)
		return;
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe, &old);
	n = write(q->notify_fd, &c, 1);
	err = n < 0 ? errno : EIO;
	if (n < 0 && err == EPIPE)
		sigtimedwait(&pipe, NULL, &now);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (n != 1)
		log_warn_errno(-err, "Could not tell the guard (%m): if nvwa dies before the jump, thaw by hand with fsfreeze -u");
}

int quiesce_note(struct quiesce *q, unsigned char c)
{
	if (c == QUIESCE_NOTE_JOURNAL) {
		q->journal_relinquished = true;
		return 0;
	}
	if (c == 0 || c > q->nfs)
		return -EINVAL;
	q->fs[c - 1].frozen = true;
	return 0;
}

/*
 * journald keeps its files on /var open and "online": frozen under it,
 * the next boot finds them uncleanly shut down.  --relinquish-var
 * (systemd 243) makes it close them cleanly and log to /run instead.
 */
static void journal_leave_var(struct quiesce *q)
{
	static const char *const argv[] = { "journalctl", "--relinquish-var", NULL };
	struct stat st;
	char how[64];
	int r;

	if (access("/run/systemd/journal/socket", F_OK) < 0 ||
	    stat("/var/log/journal", &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	r = run(argv, NULL);
	if (r == 0) {
		q->journal_relinquished = true;
		notify(q, QUIESCE_NOTE_JOURNAL);
		log_info("  journald left /var (journalctl --relinquish-var)");
		return;
	}
	log_warn("journalctl --relinquish-var failed (%s): the next boot may find journald's files uncleanly closed",
		 r < 0 ? strerror(-r) : child_status_str(r, how, sizeof(how)));
}

/* One filesystem frozen, or why not; the item's detail says which. */
static int freeze_one(struct quiesce *q, size_t i, char *detail, size_t size)
{
	struct quiesce_fs *fs = &q->fs[i];
	struct stat st;
	int fd, r = 0;

	fd = open(fs->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		r = -errno;
	else if (st.st_dev != fs->dev)
		r = -ESTALE;	/* something else is mounted there now */
	else if (ioctl(fd, FIFREEZE, 0) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	if (r == 0) {
		fs->frozen = true;
		notify(q, (unsigned char)(i + 1));
		snprintf(detail, size, "frozen (%s)", fs->type);
	} else if (r == -EBUSY) {
		/* Someone else's freeze (a backup's fsfreeze): clean, not ours to thaw. */
		snprintf(detail, size, "already frozen (%s)", fs->type);
	} else if (r == -EOPNOTSUPP) {
		snprintf(detail, size, "synced: no freeze (%s)", fs->type);
	} else {
		snprintf(detail, size, "synced: freeze %s", strerrorname_np(-r) ?: "failed");
	}
	return r;
}

int quiesce_start(struct quiesce *q, struct nvwa_handover *h)
{
	char detail[NVWA_WORD_MAX];
	int frozen = 0;

	journal_leave_var(q);
	/* Whatever cannot be frozen is at least on disk. */
	sync();
	for (size_t i = 0; i < q->nfs; i++) {
		uint64_t t = tsc_read();
		int r = freeze_one(q, i, detail, sizeof(detail));

		handover_add_item(h, "quiesce", q->fs[i].path, detail, t, tsc_read());
		if (r == 0) {
			frozen++;
			log_info("  froze %s (%s)", q->fs[i].path, q->fs[i].type);
		} else if (r == -EBUSY || r == -EOPNOTSUPP) {
			log_info("  %s: %s", q->fs[i].path, detail);
		} else {
			log_warn_errno(r, "Could not freeze %s (%m): it is synced, but the next boot may replay its journal",
				       q->fs[i].path);
		}
	}
	return frozen;
}

void quiesce_undo(struct quiesce *q)
{
	static const char *const argv[] = { "journalctl", "--flush", NULL };

	for (size_t i = q->nfs; i-- > 0;) {
		struct quiesce_fs *fs = &q->fs[i];
		int fd;

		if (!fs->frozen)
			continue;
		fd = open(fs->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || ioctl(fd, FITHAW, 0) < 0)
			log_error_errno(-errno, "Failed to thaw %s (%m): writers to it stay blocked; run `fsfreeze -u %s`",
					fs->path, fs->path);
		else
			log_info("Thawed %s", fs->path);
		if (fd >= 0)
			close(fd);
		fs->frozen = false;
	}
	if (q->journal_relinquished) {
		q->journal_relinquished = false;
		if (run(argv, NULL) != 0)
			log_warn("journalctl --flush failed: journald keeps logging to /run until it is run");
	}
}
