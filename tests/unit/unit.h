/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal unit test harness, one test program per source file.
 *
 *   TEST(parses_empty) { CHECK_EQ_INT(parse(""), -EINVAL); }
 *
 * The program's main() is either this file's (#define UNIT_MAIN before
 * including it) or the test's own, which calls unit_main(argc, argv).
 * Arguments, if any, name the cases to run.
 *
 * Output, for the test runner: one "ok - NAME" or "not ok - NAME: FILE:LINE:
 * MESSAGE" line per case (the first failure; any further ones are on "#"
 * lines printed as they happen), and a last line "# N passed, M failed".
 * Nothing else printed to stdout may begin with "ok" or "not ok".
 *
 * A failed check records and carries on, so one run shows every broken
 * expectation; each check also yields its result, for a case that cannot
 * go on without it:  if (!CHECK(p)) return;
 */
#ifndef NVWA_UNIT_H
#define NVWA_UNIT_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A loop of checks can fail thousands of times; the first few tell. */
#define UNIT_DETAILS_MAX 10
#define UNIT_MSG_MAX 512

struct unit_case {
	const char *name;
	void (*fn)(void);
	struct unit_case *next;
};

static struct unit_case *unit_cases, **unit_tail = &unit_cases;
static struct {
	unsigned int failures;
	char first[UNIT_MSG_MAX];
} unit_current;

static inline void unit_register(struct unit_case *c)
{
	/* Appended, so cases run in the order they are written. */
	*unit_tail = c;
	unit_tail = &c->next;
}

#define TEST(id)							\
	static void unit_test_##id(void);				\
	__attribute__((constructor)) static void unit_reg_##id(void)	\
	{								\
		static struct unit_case c = {				\
			.name = #id, .fn = unit_test_##id,		\
		};							\
		unit_register(&c);					\
	}								\
	static void unit_test_##id(void)

__attribute__((format(printf, 4, 5)))
static inline int unit_check(int ok, const char *file, int line,
			     const char *fmt, ...)
{
	char msg[UNIT_MSG_MAX];
	va_list ap;
	int n;

	if (ok)
		return 1;
	n = snprintf(msg, sizeof(msg), "%s:%d: ", file, line);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	/* The result line carries the first failure; "#" lines the rest. */
	if (unit_current.failures == 0)
		snprintf(unit_current.first, sizeof(unit_current.first), "%s",
			 msg);
	else if (unit_current.failures <= UNIT_DETAILS_MAX)
		printf("#   %s\n", msg);
	unit_current.failures++;
	return 0;
}

#define CHECK(cond) \
	unit_check(!!(cond), __FILE__, __LINE__, "CHECK(%s) failed", #cond)

/* CHECK with a message of its own, for checks made in a loop. */
#define CHECKF(cond, fmt, ...)						\
	unit_check(!!(cond), __FILE__, __LINE__, "CHECK(%s) failed: " fmt, \
		   #cond, ##__VA_ARGS__)

#define CHECK_EQ_INT(a, b)						\
	({								\
		intmax_t unit_a = (a), unit_b = (b);			\
		unit_check(unit_a == unit_b, __FILE__, __LINE__,	\
			   "%s == %s: got %jd, expected %jd",		\
			   #a, #b, unit_a, unit_b);			\
	})

#define CHECK_STREQ(a, b)						\
	({								\
		const char *unit_a = (a), *unit_b = (b);		\
		unit_check(unit_a && unit_b && !strcmp(unit_a, unit_b),	\
			   __FILE__, __LINE__,				\
			   "%s == %s: got \"%s\", expected \"%s\"",	\
			   #a, #b, unit_a ? unit_a : "(null)",		\
			   unit_b ? unit_b : "(null)");			\
	})

static inline int unit_selected(const struct unit_case *c, int argc,
				char **argv)
{
	int i;

	if (argc < 2)
		return 1;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], c->name))
			return 1;
	return 0;
}

static inline int unit_main(int argc, char **argv)
{
	unsigned int passed = 0, failed = 0;
	struct unit_case *c;

	/* A crash in a later case must not swallow the lines before it. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (c = unit_cases; c; c = c->next) {
		if (!unit_selected(c, argc, argv))
			continue;
		unit_current.failures = 0;
		unit_current.first[0] = '\0';
		c->fn();
		if (unit_current.failures == 0) {
			printf("ok - %s\n", c->name);
			passed++;
			continue;
		}
		if (unit_current.failures > UNIT_DETAILS_MAX + 1)
			printf("#   (%u more failures)\n",
			       unit_current.failures - UNIT_DETAILS_MAX - 1);
		printf("not ok - %s: %s\n", c->name, unit_current.first);
		failed++;
	}
	/* A misspelt case name must not pass for a clean run. */
	if (argc > 1 && passed + failed == 0) {
		printf("# no case of that name\n");
		failed++;
	}
	printf("# %u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}

#ifdef UNIT_MAIN
int main(int argc, char **argv)
{
	return unit_main(argc, argv);
}
#endif

#endif
