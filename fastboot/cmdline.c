// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "fastboot/cmdline.h"

/* Parameters that describe one boot only and must not be carried over. */
static const char *const one_shot[] = {
	"BOOT_IMAGE", "initrd", NVWA_HANDOVER_PARAM, NVWA_RESTORE_PARAM,
	NVWA_CPUS_PARAM, NVWA_UNITS_PARAM, NVWA_LASTPID_PARAM,
	NVWA_RESERVE_PIDS_PARAM, NVWA_KEEP_PARAM, NVWA_NOKASLR_PARAM, "elfcorehdr",
	"kexec_jump_back_entry",
};

/* Parameters that may legitimately appear more than once. */
static const char *const repeatable[] = { "memmap", "console" };

/* Enough for any line the kernel accepts: a token and a separator each. */
#define MAX_TOKENS (KERNEL_CMDLINE_MAX / 2)

struct tokens {
	size_t n;
	size_t dashdash;	/* index of "--", or n when absent */
	char *tok[MAX_TOKENS];
};

/*
 * Splits like the kernel's next_arg(): white space separates parameters
 * except inside double quotes.  The tokens point into @buf.
 */
static int tokenize(char *buf, struct tokens *t)
{
	char *p = buf;

	t->n = 0;
	t->dashdash = (size_t)-1;
	for (;;) {
		bool quoted = false;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		if (t->n == MAX_TOKENS)
			return -E2BIG;
		t->tok[t->n] = p;
		for (; *p; p++) {
			if (*p == '"')
				quoted = !quoted;
			else if (!quoted && (*p == ' ' || *p == '\t' || *p == '\n'))
				break;
		}
		if (quoted)
			return -EINVAL;
		if (*p)
			*p++ = '\0';
		if (!strcmp(t->tok[t->n], "--") && t->dashdash == (size_t)-1)
			t->dashdash = t->n;
		t->n++;
	}
	if (t->dashdash == (size_t)-1)
		t->dashdash = t->n;
	return 0;
}

/* Length of the key of a parameter: up to '=' or the end. */
static size_t keylen(const char *tok)
{
	const char *eq = strchr(tok, '=');

	return eq ? (size_t)(eq - tok) : strlen(tok);
}

static bool key_is(const char *tok, const char *key)
{
	return keylen(tok) == strlen(key) && !strncmp(tok, key, strlen(key));
}

static bool key_in(const char *tok, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (key_is(tok, list[i]))
			return true;
	return false;
}

static bool same_key(const char *a, const char *b)
{
	return keylen(a) == keylen(b) && !strncmp(a, b, keylen(a));
}

static int dup_tokens(const char *s, char **ret_buf, struct tokens *t)
{
	char *buf = strdup(s ? s : "");
	int r;

	if (!buf)
		return -ENOMEM;
	r = tokenize(buf, t);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret_buf = buf;
	return 0;
}

int cmdline_read_running(char **ret)
{
	char *buf;
	int r = read_file("/proc/cmdline", 1 << 16, &buf, NULL);

	if (r < 0)
		return r;
	*ret = strstrip(buf);
	return 0;
}

int cmdline_get(const char *cmdline, const char *key, char *out, size_t size)
{
	const char *found = NULL;
	struct tokens t;
	char *buf, *v;
	size_t len;
	int r;

	r = dup_tokens(cmdline, &buf, &t);
	if (r < 0)
		return r;
	for (size_t i = 0; i < t.dashdash; i++)
		if (key_is(t.tok[i], key) && strchr(t.tok[i], '='))
			found = t.tok[i];
	if (!found) {
		free(buf);
		return -ENOENT;
	}
	v = strchr(found, '=') + 1;
	len = strlen(v);
	if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
		v[len - 1] = '\0';
		v++;
	}
	r = strscpy(out, v, size);
	free(buf);
	return r < 0 ? r : 0;
}

bool cmdline_has(const char *cmdline, const char *key)
{
	struct tokens t;
	bool found = false;
	char *buf;

	if (dup_tokens(cmdline, &buf, &t) < 0)
		return false;
	for (size_t i = 0; i < t.dashdash && !found; i++)
		found = key_is(t.tok[i], key);
	free(buf);
	return found;
}

int cmdline_find_memmap(const char *cmdline, char type, unsigned int n,
			struct pmem_reservation *ret)
{
	struct tokens t;
	char *buf;
	int r = -ENOENT;

	if (dup_tokens(cmdline, &buf, &t) < 0)
		return -EINVAL;
	for (size_t i = 0; i < t.dashdash && r == -ENOENT; i++) {
		struct pmem_reservation res;
		char *v, *end;

		if (!key_is(t.tok[i], "memmap") || !strchr(t.tok[i], type))
			continue;
		v = strchr(t.tok[i], '=');
		if (!v || parse_size(v + 1, &end, &res.size) < 0 || *end != type ||
		    parse_size(end + 1, &end, &res.start) < 0 || *end ||
		    !res.size) {
			r = -EINVAL;
			break;
		}
		if (n--)
			continue;
		*ret = res;
		r = 0;
	}
	free(buf);
	return r;
}

int cmdline_find_pmem(const char *cmdline, struct pmem_reservation *ret)
{
	return cmdline_find_memmap(cmdline, '!', 0, ret);
}

static int emit(char *out, size_t size, size_t *len, const char *tok)
{
	size_t n = strlen(tok) + (*len ? 1 : 0);

	if (*len + n + 1 > size || *len + n + 1 > KERNEL_CMDLINE_MAX)
		return -E2BIG;
	if (*len)
		out[(*len)++] = ' ';
	memcpy(out + *len, tok, strlen(tok) + 1);
	*len += strlen(tok);
	return 0;
}

static bool overridden(const char *tok, const struct tokens *add)
{
	for (size_t j = 0; j < add->dashdash; j++) {
		if (!same_key(tok, add->tok[j]))
			continue;
		if (key_in(tok, repeatable, ARRAY_SIZE(repeatable)))
			return !strcmp(tok, add->tok[j]);
		return true;
	}
	return false;
}

int cmdline_compose(const char *current, const char *append,
		    const char *own, char *out, size_t size)
{
	char *cbuf = NULL, *abuf = NULL, *obuf = NULL;
	struct tokens cur, add, mine;
	bool deferred_cpus = false, nvwa_nokaslr = false;
	size_t len = 0;
	int r;

	if (!size)
		return -E2BIG;
	out[0] = '\0';
	r = dup_tokens(current, &cbuf, &cur);
	if (r < 0)
		goto cleanup;
	r = dup_tokens(append, &abuf, &add);
	if (r < 0)
		goto cleanup;
	r = dup_tokens(own, &obuf, &mine);
	if (r < 0)
		goto cleanup;

	for (size_t i = 0; i < cur.dashdash; i++) {
		if (key_is(cur.tok[i], NVWA_CPUS_PARAM))
			deferred_cpus = true;
		if (key_is(cur.tok[i], NVWA_NOKASLR_PARAM))
			nvwa_nokaslr = true;
	}
	for (size_t i = 0; i < cur.dashdash && !r; i++)
		if (!key_in(cur.tok[i], one_shot, ARRAY_SIZE(one_shot)) &&
		    !(deferred_cpus && key_is(cur.tok[i], "maxcpus")) &&
		    !(nvwa_nokaslr && key_is(cur.tok[i], "nokaslr")) &&
		    !overridden(cur.tok[i], &add) && !overridden(cur.tok[i], &mine))
			r = emit(out, size, &len, cur.tok[i]);
	/* One-shot parameters are nvwa's to set, not the operator's. */
	for (size_t i = 0; i < add.dashdash && !r; i++)
		if (!key_in(add.tok[i], one_shot, ARRAY_SIZE(one_shot)) &&
		    !overridden(add.tok[i], &mine))
			r = emit(out, size, &len, add.tok[i]);
	for (size_t i = 0; i < mine.dashdash && !r; i++)
		r = emit(out, size, &len, mine.tok[i]);
	/* Arguments for init stay after "--", the running kernel's first. */
	for (size_t i = cur.dashdash; i < cur.n && !r; i++)
		r = emit(out, size, &len, cur.tok[i]);
	for (size_t i = add.dashdash + (add.dashdash < add.n); i < add.n && !r; i++) {
		if (cur.dashdash == cur.n && i == add.dashdash + 1)
			r = emit(out, size, &len, "--");
		if (!r)
			r = emit(out, size, &len, add.tok[i]);
	}
	if (r < 0)
		out[0] = '\0';
	else
		r = (int)len;
cleanup:
	free(cbuf);
	free(abuf);
	free(obuf);
	return r;
}
