/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers shared by every nvwa program. */
#ifndef NVWA_UTIL_H
#define NVWA_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Reads a whole file of at most @max bytes into a NUL-terminated buffer
 * (free() it).  -EFBIG if the file is larger.
 */
int read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len);
/* Writes @len bytes to an existing file, e.g. under /sys. */
int write_file(const char *path, const void *buf, size_t len);
int write_file_create(const char *path, const void *buf, size_t len);
/*
 * Copies the file @from (at most @max bytes) to @to, all or nothing:
 * works across filesystems, where rename() does not.
 */
int copy_file(const char *from, const char *to, size_t max);
/* Writes @path via a temporary file, fsync and rename: all or nothing. */
/*
 * Creates a new file PATH.XXXXXX beside @path, exclusively (never an
 * existing file or link), mode 0600; its name into @ret_tmp.  Returns the
 * descriptor or a negative errno.  Rename it over @path when complete.
 */
int tmpfile_beside(const char *path, char *ret_tmp, size_t size);
int write_file_atomic(const char *path, const void *buf, size_t len);
int mkdir_p(const char *path, mode_t mode);
/* Removes a directory tree; a missing tree is not an error. */
int rm_rf(const char *path);
/* The sizes of the regular files under @path, added up (not followed). */
int du_bytes(const char *path, uint64_t *ret);

/* Copies @src into @dst of @size bytes; -ENAMETOOLONG if it does not fit. */
int strscpy(char *dst, const char *src, size_t size);
/* Removes trailing white space in place and returns @s. */
char *strstrip(char *s);
bool startswith(const char *s, const char *prefix);

/* The first line of a small file, stripped, e.g. /proc/PID/comm. */
int read_one_line(const char *path, char *buf, size_t size);

/*
 * A child's end as run() and wait_child() return it: its exit status
 * (0..255), or CHILD_KILLED + the signal that killed it.  Any value > 0
 * is a failure; child_status_str() says which, in words.
 */
#define CHILD_KILLED 0x100
/* "exit status 3", "killed by signal 11 (Segmentation fault)". */
const char *child_status_str(int status, char *buf, size_t size);

/*
 * Runs @argv (looked up in PATH), waits for it and returns how it ended
 * (above), or a negative errno if it could not run.  stdout and stderr go
 * to @log_path (appended) when given, else are inherited.
 */
int run(const char *const *argv, const char *log_path);
/* Starts @argv like run() without waiting; returns its PID. */
pid_t spawn(const char *const *argv, const char *log_path);
/* Waits for a child: how it ended (above), or a negative errno. */
int wait_child(pid_t pid);
/* Like run(), capturing up to @size - 1 bytes of stdout and stderr. */
int run_capture(const char *const *argv, char *out, size_t size);

/* Parses a size with an optional K, M, G or T suffix (binary units). */
int parse_size(const char *s, char **ret_end, unsigned long long *ret);
/* A decimal number and nothing else (no sign, no suffix); -EINVAL otherwise. */
int parse_u64(const char *s, uint64_t *ret);
int parse_pid(const char *s, pid_t *ret);
/*
 * Appends @pid and its descendants (children of every thread) to @tree,
 * which holds @max; *@n counts them.  -E2BIG when they do not fit.
 */
int proc_tree(pid_t pid, pid_t *tree, size_t max, size_t *ret_n);
/*
 * The highest thread ID in @pid's tree (proc_tree(): @pid, its
 * descendants, and every thread of each): a restore gives each thread its
 * own ID back, so a boot must keep them all free, not only @pid.
 */
int proc_tree_last_tid(pid_t pid, pid_t *ret);

/*
 * snprintf() for paths and messages: returns the length, or -ENAMETOOLONG
 * when the result was truncated (the buffer then holds the truncated text).
 */
__attribute__((format(printf, 3, 4)))
int xsnprintf(char *buf, size_t size, const char *fmt, ...);
/*
 * Fills the reason a parser or a check gives back to its caller, who
 * decides whether and how to log it: @why may be NULL or @whylen 0 when
 * the caller does not want it.  Returns @err, so a refusal is one line:
 *   return set_why(why, whylen, -ENOEXEC, "no boot header");
 */
__attribute__((format(printf, 4, 5)))
int set_why(char *why, size_t whylen, int err, const char *fmt, ...);
__attribute__((format(printf, 4, 0)))
int set_whyv(char *why, size_t whylen, int err, const char *fmt, va_list ap);

/*
 * An argument vector for run() and spawn(), built one argument at a time
 * instead of in a fixed array with a hand-counted argc:
 *
 *   struct argv a = ARGV_INIT;
 *   argv_add(&a, "kexec", "-l", image);
 *   argv_addf(&a, "--command-line=%s", cmdline);
 *   r = argv_error(&a);              // the only check, after the last add
 *   if (!r)
 *           r = run(argv_get(&a), NULL);
 *   argv_free(&a);
 *
 * It grows as needed, is NULL-terminated after every add and owns copies
 * of its strings.  The first failure (out of memory) is remembered and
 * makes every later add a no-op, so only argv_error() needs checking.
 */
struct argv {
	char **v;
	size_t n, cap;
	int error;		/* first failure, a negative errno */
};

#define ARGV_INIT ((struct argv){ 0 })

/* Appends each string up to a NULL. */
__attribute__((sentinel))
void argv_addv(struct argv *a, ...);
#define argv_add(a, ...) argv_addv(a, __VA_ARGS__, (const char *)NULL)
__attribute__((format(printf, 2, 3)))
void argv_addf(struct argv *a, const char *fmt, ...);
/* 0, or the first failure of an add. */
int argv_error(const struct argv *a);
const char *const *argv_get(const struct argv *a);
void argv_free(struct argv *a);

/* CLOCK_MONOTONIC in milliseconds: for durations and deadlines. */
double mono_ms(void);

#endif
