// SPDX-License-Identifier: GPL-2.0
/*
 * The handover record to and from its FDT form (the layout is in
 * handover.h).
 *
 * Child nodes are named by their array index in lowercase hex, the device
 * tree convention for unit addresses (app@0 ... app@1f), and must appear in
 * index order, so a record has exactly one reading.
 *
 * check_record() is the one statement of what a valid record is: the
 * parser applies it to what it read and the builder to what it was given,
 * so nothing is ever written that would be refused on the way back.  The
 * parser's own checks are only about the encoding (presence, lengths,
 * termination) that a struct cannot express.
 *
 * These functions are called on hostile input by the fuzzer and must not
 * log; the caller logs the reason they return.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>
#include <zlib.h>

#include "common/handover.h"

/* Room for a fully populated record with every tag, name and pad. */
#define BUILD_CAPACITY (2 * sizeof(struct nvwa_handover) + 4096)
_Static_assert(BUILD_CAPACITY <= NVWA_HANDOVER_MAX_SIZE,
	       "a full record must fit what the parser accepts");

/* Long enough for "timeline/phase@3f" and the like. */
#define NODE_PATH_MAX 32
/* How much of a node name found in a bad place a reason quotes. */
#define QUOTE_MAX 40

/* Where a refusal's reason goes; NULL when nobody asked (the builder). */
struct why {
	char *buf;
	size_t len;
};

__attribute__((format(printf, 3, 4)))
static int refuse(struct why *w, int err, const char *fmt, ...)
{
	va_list ap;

	if (w && w->buf && w->len > 0) {
		va_start(ap, fmt);
		vsnprintf(w->buf, w->len, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* Reasons read "apps/app@1: property ..." but just "property ..." at /. */
static const char *sep(const char *path)
{
	return *path ? ": " : "";
}

/* ------------------------------------------------------------------ */
/* States and outcomes: the names the record keeps                     */
/* ------------------------------------------------------------------ */

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *const app_state_names[] = {
	[NVWA_APP_DUMPED] = "dumped",
	[NVWA_APP_RESTORING] = "restoring",
	[NVWA_APP_RESTORED] = "restored",
	[NVWA_APP_FAILED] = "failed",
};
_Static_assert(ARRAY_LEN(app_state_names) == NVWA_APP_STATE_MAX,
	       "every application state has a name");

static const char *const outcome_names[] = {
	[NVWA_OUTCOME_PENDING] = "pending",
	[NVWA_OUTCOME_RESTORED] = "restored",
	[NVWA_OUTCOME_FAILED] = "failed",
};
_Static_assert(ARRAY_LEN(outcome_names) == NVWA_OUTCOME_MAX,
	       "every outcome has a name");

static int name_lookup(const char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

const char *app_state_to_string(enum nvwa_app_state state)
{
	/* The enum's signedness is the compiler's choice: compare unsigned. */
	if ((unsigned int)state >= NVWA_APP_STATE_MAX)
		return NULL;
	return app_state_names[state];
}

int app_state_from_string(const char *name)
{
	return name_lookup(app_state_names, NVWA_APP_STATE_MAX, name);
}

const char *outcome_to_string(enum nvwa_outcome outcome)
{
	if ((unsigned int)outcome >= NVWA_OUTCOME_MAX)
		return NULL;
	return outcome_names[outcome];
}

int outcome_from_string(const char *name)
{
	return name_lookup(outcome_names, NVWA_OUTCOME_MAX, name);
}

int handover_app_state(const struct nvwa_app *app)
{
	return app_state_from_string(app->state);
}

void handover_set_app_state(struct nvwa_app *app, enum nvwa_app_state state)
{
	const char *name = app_state_to_string(state);

	snprintf(app->state, sizeof(app->state), "%s", name ? name : "");
}

int handover_outcome(const struct nvwa_handover *h)
{
	return outcome_from_string(h->outcome);
}

void handover_set_outcome(struct nvwa_handover *h, enum nvwa_outcome outcome)
{
	const char *name = outcome_to_string(outcome);

	snprintf(h->outcome, sizeof(h->outcome), "%s", name ? name : "");
}

/* ------------------------------------------------------------------ */
/* The rules, on the struct                                            */
/* ------------------------------------------------------------------ */

static int check_field(struct why *w, const char *path, const char *prop,
		       const char *s, size_t size)
{
	if (strnlen(s, size) >= size)
		return refuse(w, -EBADMSG,
			      "%s%sproperty '%s' does not fit its %zu-byte field",
			      path, sep(path), prop, size);
	return 0;
}

#define CHECK_FIELD(w, path, prop, field) \
	check_field(w, path, prop, field, sizeof(field))

static int check_version(struct why *w, uint32_t version)
{
	if (version < NVWA_HANDOVER_VERSION_MIN ||
	    version > NVWA_HANDOVER_VERSION)
		return refuse(w, -EPROTONOSUPPORT,
			      "property 'version' is %u, this nvwa reads versions %u to %u",
			      version, NVWA_HANDOVER_VERSION_MIN,
			      NVWA_HANDOVER_VERSION);
	return 0;
}

static int check_count(struct why *w, const char *path, const char *what,
		       uint32_t n, uint32_t max)
{
	if (n > max)
		return refuse(w, -EBADMSG, "%s: %u %s, at most %u allowed",
			      path, n, what, max);
	return 0;
}

static int check_outcome(struct why *w, const char *outcome)
{
	if (outcome_from_string(outcome) >= 0)
		return 0;
	return refuse(w, -EBADMSG,
		      "property 'outcome' is '%s', expected pending, restored or failed",
		      outcome);
}

static int check_kernel(struct why *w, const char *path,
			const struct nvwa_kernel *k, bool has_image)
{
	int r;

	r = CHECK_FIELD(w, path, "release", k->release);
	if (r < 0)
		return r;
	r = CHECK_FIELD(w, path, "cmdline", k->cmdline);
	if (r < 0)
		return r;
	r = CHECK_FIELD(w, path, "image", k->image);
	if (r < 0)
		return r;
	r = CHECK_FIELD(w, path, "loader", k->loader);
	if (r < 0)
		return r;
	/* The old kernel's node has no image or loader property to carry one. */
	if (!has_image && (k->image[0] || k->loader[0]))
		return refuse(w, -EBADMSG,
			      "%s: properties 'image' and 'loader' must be empty, only the new kernel has them",
			      path);
	return 0;
}

static int check_app(struct why *w, uint32_t i, const struct nvwa_app *app)
{
	char path[NODE_PATH_MAX];
	int r;

	snprintf(path, sizeof(path), "apps/app@%x", i);
	if (app->pid <= 0)
		return refuse(w, -EBADMSG,
			      "%s: property 'pid' must be > 0, got %d",
			      path, app->pid);
	r = CHECK_FIELD(w, path, "comm", app->comm);
	if (r < 0)
		return r;
	r = CHECK_FIELD(w, path, "images", app->images);
	if (r < 0)
		return r;
	r = CHECK_FIELD(w, path, "dump-mode", app->dump_mode);
	if (r < 0)
		return r;
	r = CHECK_FIELD(w, path, "state", app->state);
	if (r < 0)
		return r;
	return CHECK_FIELD(w, path, "error", app->error);
}

static int check_phase(struct why *w, uint32_t i, const struct nvwa_phase *p)
{
	char path[NODE_PATH_MAX];
	int r;

	snprintf(path, sizeof(path), "timeline/phase@%x", i);
	r = CHECK_FIELD(w, path, "label", p->name);
	if (r < 0)
		return r;
	if (!p->name[0])
		return refuse(w, -EBADMSG, "%s: property 'label' is empty",
			      path);
	if (p->domain >= NVWA_DOMAIN_MAX)
		return refuse(w, -EBADMSG,
			      "%s: property 'domain' is %u, expected 0 to %u",
			      path, p->domain, NVWA_DOMAIN_MAX - 1);
	if (p->end < p->start)
		return refuse(w, -EBADMSG,
			      "%s: property 'end' (%llu) is before 'start' (%llu)",
			      path, (unsigned long long)p->end,
			      (unsigned long long)p->start);
	return 0;
}

static int check_item(struct why *w, uint32_t i, const struct nvwa_item *it)
{
	char path[NODE_PATH_MAX];
	int r;

	snprintf(path, sizeof(path), "items/item@%x", i);
	r = CHECK_FIELD(w, path, "kind", it->kind);
	if (!r)
		r = CHECK_FIELD(w, path, "name", it->name);
	if (!r)
		r = CHECK_FIELD(w, path, "detail", it->detail);
	if (r < 0)
		return r;
	if (!it->kind[0] || !it->name[0])
		return refuse(w, -EBADMSG, "%s: property '%s' is empty", path,
			      it->kind[0] ? "name" : "kind");
	if (it->end < it->start)
		return refuse(w, -EBADMSG,
			      "%s: property 'end' (%llu) is before 'start' (%llu)",
			      path, (unsigned long long)it->end,
			      (unsigned long long)it->start);
	return 0;
}

/* Version 1 has no place for probes or items: nothing may be lost. */
static int check_v2(struct why *w, const struct nvwa_handover *h)
{
	uint32_t i;
	int r;

	if (h->version < 2 && (h->probes[0] || h->nitems))
		return refuse(w, -EINVAL,
			      "version %u records have no probes or items",
			      h->version);
	r = CHECK_FIELD(w, "", "probes", h->probes);
	if (r < 0)
		return r;
	r = check_count(w, "items", "items", h->nitems, NVWA_MAX_ITEMS);
	if (r < 0)
		return r;
	for (i = 0; i < h->nitems; i++) {
		r = check_item(w, i, &h->items[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_record(struct why *w, const struct nvwa_handover *h)
{
	uint32_t i;
	int r;

	r = check_version(w, h->version);
	if (r < 0)
		return r;
	if (h->generation == 0)
		return refuse(w, -EBADMSG, "property 'generation' must be > 0");
	if (h->timeline.tsc_khz == 0)
		return refuse(w, -EBADMSG,
			      "property 'tsc-khz' must be non-zero");
	r = CHECK_FIELD(w, "", "store", h->store);
	if (r < 0)
		return r;
	r = CHECK_FIELD(w, "", "outcome", h->outcome);
	if (r < 0)
		return r;
	r = check_outcome(w, h->outcome);
	if (r < 0)
		return r;
	r = check_kernel(w, "old-kernel", &h->old_kernel, false);
	if (r < 0)
		return r;
	r = check_kernel(w, "new-kernel", &h->new_kernel, true);
	if (r < 0)
		return r;
	r = check_count(w, "apps", "apps", h->napps, NVWA_MAX_APPS);
	if (r < 0)
		return r;
	r = check_count(w, "timeline", "phases", h->timeline.nphases,
			NVWA_MAX_PHASES);
	if (r < 0)
		return r;
	for (i = 0; i < h->napps; i++) {
		r = check_app(w, i, &h->apps[i]);
		if (r < 0)
			return r;
	}
	for (i = 0; i < h->timeline.nphases; i++) {
		r = check_phase(w, i, &h->timeline.phases[i]);
		if (r < 0)
			return r;
	}
	return check_v2(w, h);
}

int handover_add_item(struct nvwa_handover *h, const char *kind,
		      const char *name, const char *detail, uint64_t start,
		      uint64_t end)
{
	struct nvwa_item *it;

	if (!*kind || !*name || end < start ||
	    strlen(kind) >= sizeof(it->kind) ||
	    strlen(detail) >= sizeof(it->detail))
		return -EINVAL;
	if (h->nitems >= NVWA_MAX_ITEMS)
		return -ENOSPC;
	it = &h->items[h->nitems++];
	memset(it, 0, sizeof(*it));
	strcpy(it->kind, kind);
	/* Device names can be long; the start says which one it is. */
	snprintf(it->name, sizeof(it->name), "%s", name);
	strcpy(it->detail, detail);
	it->start = start;
	it->end = end;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Building                                                            */
/* ------------------------------------------------------------------ */

/*
 * libfdt puts each new property and subnode first in its node, so every
 * builder below adds its items last first: the record then reads in the
 * documented order, and child nodes come out in index order.
 */

static int build_kernel(void *fdt, const char *name,
			const struct nvwa_kernel *k, bool has_image)
{
	int node, r;

	node = fdt_add_subnode(fdt, 0, name);
	if (node < 0)
		return node;
	if (has_image) {
		r = fdt_setprop_string(fdt, node, "loader", k->loader);
		if (r < 0)
			return r;
		r = fdt_setprop_string(fdt, node, "image", k->image);
		if (r < 0)
			return r;
	}
	r = fdt_setprop_string(fdt, node, "cmdline", k->cmdline);
	if (r < 0)
		return r;
	return fdt_setprop_string(fdt, node, "release", k->release);
}

static int build_app(void *fdt, int parent, uint32_t i,
		     const struct nvwa_app *app)
{
	char name[NODE_PATH_MAX];
	int node, r;

	snprintf(name, sizeof(name), "app@%x", i);
	node = fdt_add_subnode(fdt, parent, name);
	if (node < 0)
		return node;
	r = fdt_setprop_string(fdt, node, "error", app->error);
	if (r < 0)
		return r;
	r = fdt_setprop_string(fdt, node, "state", app->state);
	if (r < 0)
		return r;
	r = fdt_setprop_string(fdt, node, "dump-mode", app->dump_mode);
	if (r < 0)
		return r;
	r = fdt_setprop_string(fdt, node, "images", app->images);
	if (r < 0)
		return r;
	r = fdt_setprop_string(fdt, node, "comm", app->comm);
	if (r < 0)
		return r;
	return fdt_setprop_u32(fdt, node, "pid", (uint32_t)app->pid);
}

static int build_phase(void *fdt, int parent, uint32_t i,
		       const struct nvwa_phase *p)
{
	char name[NODE_PATH_MAX];
	int node, r;

	snprintf(name, sizeof(name), "phase@%x", i);
	node = fdt_add_subnode(fdt, parent, name);
	if (node < 0)
		return node;
	r = fdt_setprop_u64(fdt, node, "end", p->end);
	if (r < 0)
		return r;
	r = fdt_setprop_u64(fdt, node, "start", p->start);
	if (r < 0)
		return r;
	r = fdt_setprop_u32(fdt, node, "domain", p->domain);
	if (r < 0)
		return r;
	return fdt_setprop_string(fdt, node, "label", p->name);
}

static int build_apps(void *fdt, const struct nvwa_handover *h)
{
	int parent, r;
	uint32_t i;

	parent = fdt_add_subnode(fdt, 0, "apps");
	if (parent < 0)
		return parent;
	for (i = h->napps; i-- > 0;) {
		r = build_app(fdt, parent, i, &h->apps[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int build_timeline(void *fdt, const struct nvwa_timeline *tl)
{
	int parent, r;
	uint32_t i;

	parent = fdt_add_subnode(fdt, 0, "timeline");
	if (parent < 0)
		return parent;
	for (i = tl->nphases; i-- > 0;) {
		r = build_phase(fdt, parent, i, &tl->phases[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int build_item(void *fdt, int parent, uint32_t i,
		      const struct nvwa_item *it)
{
	char name[NODE_PATH_MAX];
	int node, r;

	snprintf(name, sizeof(name), "item@%x", i);
	node = fdt_add_subnode(fdt, parent, name);
	if (node < 0)
		return node;
	r = fdt_setprop_u64(fdt, node, "end", it->end);
	if (r < 0)
		return r;
	r = fdt_setprop_u64(fdt, node, "start", it->start);
	if (r < 0)
		return r;
	r = fdt_setprop_string(fdt, node, "detail", it->detail);
	if (r < 0)
		return r;
	r = fdt_setprop_string(fdt, node, "name", it->name);
	if (r < 0)
		return r;
	return fdt_setprop_string(fdt, node, "kind", it->kind);
}

static int build_items(void *fdt, const struct nvwa_handover *h)
{
	int parent, r;
	uint32_t i;

	if (h->version < 2)
		return 0;
	parent = fdt_add_subnode(fdt, 0, "items");
	if (parent < 0)
		return parent;
	for (i = h->nitems; i-- > 0;) {
		r = build_item(fdt, parent, i, &h->items[i]);
		if (r < 0)
			return r;
	}
	return fdt_setprop_string(fdt, 0, "probes", h->probes);
}

/* Returns 0 or a negative libfdt error. */
static int build_tree(void *fdt, int capacity, const struct nvwa_handover *h)
{
	int r;

	r = fdt_create_empty_tree(fdt, capacity);
	if (r < 0)
		return r;
	r = build_items(fdt, h);
	if (r < 0)
		return r;
	r = build_timeline(fdt, &h->timeline);
	if (r < 0)
		return r;
	r = build_apps(fdt, h);
	if (r < 0)
		return r;
	r = build_kernel(fdt, "new-kernel", &h->new_kernel, true);
	if (r < 0)
		return r;
	r = build_kernel(fdt, "old-kernel", &h->old_kernel, false);
	if (r < 0)
		return r;
	r = fdt_setprop_string(fdt, 0, "outcome", h->outcome);
	if (r < 0)
		return r;
	r = fdt_setprop_string(fdt, 0, "store", h->store);
	if (r < 0)
		return r;
	r = fdt_setprop_u64(fdt, 0, "tsc-khz", h->timeline.tsc_khz);
	if (r < 0)
		return r;
	/* Zero while the CRC is computed; sealed once the blob is final. */
	r = fdt_setprop_u32(fdt, 0, "crc32", 0);
	if (r < 0)
		return r;
	r = fdt_setprop_u64(fdt, 0, "generation", h->generation);
	if (r < 0)
		return r;
	r = fdt_setprop_u32(fdt, 0, "version", h->version);
	if (r < 0)
		return r;
	return fdt_setprop_string(fdt, 0, "compatible",
				  NVWA_HANDOVER_COMPATIBLE);
}

int handover_build(const struct nvwa_handover *h, void **ret_blob,
		   size_t *ret_size)
{
	void *fdt, *blob;
	uint32_t size;
	int r;

	if (check_record(NULL, h) < 0)
		return -EINVAL;

	fdt = malloc(BUILD_CAPACITY);
	if (!fdt)
		return -ENOMEM;

	r = build_tree(fdt, BUILD_CAPACITY, h);
	if (r == 0)
		r = fdt_pack(fdt);
	if (r < 0) {
		/* BUILD_CAPACITY bounds a checked record: this is a bug. */
		r = r == -FDT_ERR_NOSPACE ? -ENOSPC : -EIO;
		goto cleanup;
	}

	size = fdt_totalsize(fdt);
	r = fdt_setprop_inplace_u32(fdt, 0, "crc32",
				    crc32(0, fdt, size));
	if (r < 0) {
		r = -EIO;
		goto cleanup;
	}

	/* Shrinking should not fail; if it does, the big buffer will do. */
	blob = realloc(fdt, size);
	if (blob)
		fdt = blob;
	*ret_blob = fdt;
	*ret_size = size;
	fdt = NULL;
	r = 0;
cleanup:
	free(fdt);
	return r;
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */
/* ------------------------------------------------------------------ */

static int read_prop(const void *fdt, int node, const char *path,
		     const char *name, const void **ret, int *ret_len,
		     struct why *w)
{
	const void *p;
	int len;

	p = fdt_getprop(fdt, node, name, &len);
	if (!p && len == -FDT_ERR_NOTFOUND)
		return refuse(w, -EBADMSG, "%s%sproperty '%s' missing",
			      path, sep(path), name);
	if (!p)
		return refuse(w, -EBADMSG, "%s%sproperty '%s' unreadable: %s",
			      path, sep(path), name, fdt_strerror(len));
	*ret = p;
	*ret_len = len;
	return 0;
}

static int check_int_len(struct why *w, const char *path, const char *name,
			 int len, size_t want)
{
	if ((size_t)len != want)
		return refuse(w, -EBADMSG,
			      "%s%sproperty '%s' is %d bytes long, expected %zu",
			      path, sep(path), name, len, want);
	return 0;
}

static int read_u32(const void *fdt, int node, const char *path,
		    const char *name, uint32_t *ret, struct why *w)
{
	const void *p;
	int len, r;

	r = read_prop(fdt, node, path, name, &p, &len, w);
	if (r < 0)
		return r;
	r = check_int_len(w, path, name, len, sizeof(fdt32_t));
	if (r < 0)
		return r;
	*ret = fdt32_ld(p);
	return 0;
}

static int read_u64(const void *fdt, int node, const char *path,
		    const char *name, uint64_t *ret, struct why *w)
{
	const void *p;
	int len, r;

	r = read_prop(fdt, node, path, name, &p, &len, w);
	if (r < 0)
		return r;
	r = check_int_len(w, path, name, len, sizeof(fdt64_t));
	if (r < 0)
		return r;
	*ret = fdt64_ld(p);
	return 0;
}

/* One string, its NUL the property's last byte; @dst is zeroed already. */
static int read_str(const void *fdt, int node, const char *path,
		    const char *name, char *dst, size_t size, struct why *w)
{
	const void *p;
	int len, r;

	r = read_prop(fdt, node, path, name, &p, &len, w);
	if (r < 0)
		return r;
	if (len < 1 || memchr(p, '\0', len) != (const char *)p + len - 1)
		return refuse(w, -EBADMSG,
			      "%s%sproperty '%s' is not a single NUL-terminated string",
			      path, sep(path), name);
	if ((size_t)len > size)
		return refuse(w, -EBADMSG,
			      "%s%sproperty '%s' is too long: %d bytes, its field holds %zu",
			      path, sep(path), name, len, size);
	memcpy(dst, p, len);
	return 0;
}

#define READ_STR(fdt, node, path, name, field, w) \
	read_str(fdt, node, path, name, field, sizeof(field), w)

static int find_node(const void *fdt, int parent, const char *name,
		     struct why *w)
{
	int node;

	node = fdt_subnode_offset(fdt, parent, name);
	if (node == -FDT_ERR_NOTFOUND)
		return refuse(w, -EBADMSG, "node '%s' missing", name);
	if (node < 0)
		return refuse(w, -EBADMSG, "node '%s' unreadable: %s", name,
			      fdt_strerror(node));
	return node;
}

/*
 * The zlib CRC of the blob with the crc32 property's value zeroed.  @fdt is
 * the parser's own copy, so the zeroing does not touch the caller's record.
 */
static int check_crc(void *fdt, uint32_t size, unsigned int flags,
		     struct why *w)
{
	uint32_t stored, computed;
	int r;

	r = read_u32(fdt, 0, "", "crc32", &stored, w);
	if (r < 0 || (flags & HANDOVER_PARSE_IGNORE_CRC))
		return r;
	r = fdt_setprop_inplace_u32(fdt, 0, "crc32", 0);
	if (r < 0)
		return refuse(w, -EBADMSG, "property 'crc32' unwritable: %s",
			      fdt_strerror(r));
	computed = crc32(0, fdt, size);
	if (stored != computed)
		return refuse(w, -EBADMSG,
			      "crc32 mismatch: stored 0x%08x, computed 0x%08x",
			      stored, computed);
	return 0;
}

static int check_compatible(const void *fdt, struct why *w)
{
	const void *p;
	int len, r;

	r = read_prop(fdt, 0, "", "compatible", &p, &len, w);
	if (r < 0)
		return r;
	if (len != sizeof(NVWA_HANDOVER_COMPATIBLE) ||
	    memcmp(p, NVWA_HANDOVER_COMPATIBLE, len) != 0)
		return refuse(w, -EBADMSG,
			      "property 'compatible' is not \"%s\": not a handover record",
			      NVWA_HANDOVER_COMPATIBLE);
	return 0;
}

static int read_kernel(const void *fdt, const char *name,
		       struct nvwa_kernel *k, bool has_image, struct why *w)
{
	int node, r;

	node = find_node(fdt, 0, name, w);
	if (node < 0)
		return node;
	r = READ_STR(fdt, node, name, "release", k->release, w);
	if (r < 0)
		return r;
	r = READ_STR(fdt, node, name, "cmdline", k->cmdline, w);
	if (r < 0 || !has_image)
		return r;
	r = READ_STR(fdt, node, name, "image", k->image, w);
	if (r < 0)
		return r;
	return READ_STR(fdt, node, name, "loader", k->loader, w);
}

/*
 * Counts @parent's children after checking that the i-th is named
 * PREFIX@i, so that node order and array order cannot disagree.
 */
static int count_children(const void *fdt, int parent, const char *path,
			  const char *prefix, uint32_t *ret_n, struct why *w)
{
	char want[NODE_PATH_MAX];
	const char *name;
	uint32_t n = 0;
	int node, len;

	fdt_for_each_subnode(node, fdt, parent) {
		name = fdt_get_name(fdt, node, &len);
		if (!name)
			return refuse(w, -EBADMSG,
				      "%s: child %u unreadable: %s",
				      path, n, fdt_strerror(len));
		snprintf(want, sizeof(want), "%s@%x", prefix, n);
		if ((size_t)len != strlen(want) || memcmp(name, want, len))
			return refuse(w, -EBADMSG,
				      "%s: node '%.*s' found where '%s' was expected",
				      path, len < QUOTE_MAX ? len : QUOTE_MAX,
				      name, want);
		n++;
	}
	if (node < 0 && node != -FDT_ERR_NOTFOUND)
		return refuse(w, -EBADMSG, "%s: children unreadable: %s", path,
			      fdt_strerror(node));
	*ret_n = n;
	return 0;
}

static int read_app(const void *fdt, int node, uint32_t i,
		    struct nvwa_app *app, struct why *w)
{
	char path[NODE_PATH_MAX];
	uint32_t pid;
	int r;

	snprintf(path, sizeof(path), "apps/app@%x", i);
	r = read_u32(fdt, node, path, "pid", &pid, w);
	if (r < 0)
		return r;
	/* Stored as a cell; a "negative" one is refused by check_app(). */
	app->pid = (int32_t)pid;
	r = READ_STR(fdt, node, path, "comm", app->comm, w);
	if (r < 0)
		return r;
	r = READ_STR(fdt, node, path, "images", app->images, w);
	if (r < 0)
		return r;
	r = READ_STR(fdt, node, path, "dump-mode", app->dump_mode, w);
	if (r < 0)
		return r;
	r = READ_STR(fdt, node, path, "state", app->state, w);
	if (r < 0)
		return r;
	return READ_STR(fdt, node, path, "error", app->error, w);
}

static int read_phase(const void *fdt, int node, uint32_t i,
		      struct nvwa_phase *p, struct why *w)
{
	char path[NODE_PATH_MAX];
	int r;

	snprintf(path, sizeof(path), "timeline/phase@%x", i);
	r = READ_STR(fdt, node, path, "label", p->name, w);
	if (r < 0)
		return r;
	r = read_u32(fdt, node, path, "domain", &p->domain, w);
	if (r < 0)
		return r;
	r = read_u64(fdt, node, path, "start", &p->start, w);
	if (r < 0)
		return r;
	return read_u64(fdt, node, path, "end", &p->end, w);
}

static int read_item(const void *fdt, int node, uint32_t i,
		     struct nvwa_item *it, struct why *w)
{
	char path[NODE_PATH_MAX];
	int r;

	snprintf(path, sizeof(path), "items/item@%x", i);
	r = READ_STR(fdt, node, path, "kind", it->kind, w);
	if (!r)
		r = READ_STR(fdt, node, path, "name", it->name, w);
	if (!r)
		r = READ_STR(fdt, node, path, "detail", it->detail, w);
	if (!r)
		r = read_u64(fdt, node, path, "start", &it->start, w);
	if (!r)
		r = read_u64(fdt, node, path, "end", &it->end, w);
	return r;
}

static int read_items(const void *fdt, struct nvwa_handover *h,
		      struct why *w)
{
	int parent, node, r;
	uint32_t i = 0, n;

	if (h->version < 2)
		return 0;
	r = READ_STR(fdt, 0, "", "probes", h->probes, w);
	if (r < 0)
		return r;
	parent = find_node(fdt, 0, "items", w);
	if (parent < 0)
		return parent;
	r = count_children(fdt, parent, "items", "item", &n, w);
	if (r < 0)
		return r;
	r = check_count(w, "items", "items", n, NVWA_MAX_ITEMS);
	if (r < 0)
		return r;
	fdt_for_each_subnode(node, fdt, parent) {
		r = read_item(fdt, node, i, &h->items[i], w);
		if (r < 0)
			return r;
		i++;
	}
	h->nitems = n;
	return 0;
}

static int read_apps(const void *fdt, struct nvwa_handover *h,
		     struct why *w)
{
	int parent, node, r;
	uint32_t i = 0, n;

	parent = find_node(fdt, 0, "apps", w);
	if (parent < 0)
		return parent;
	r = count_children(fdt, parent, "apps", "app", &n, w);
	if (r < 0)
		return r;
	/* Before anything is stored: the array is only so long. */
	r = check_count(w, "apps", "apps", n, NVWA_MAX_APPS);
	if (r < 0)
		return r;
	fdt_for_each_subnode(node, fdt, parent) {
		r = read_app(fdt, node, i, &h->apps[i], w);
		if (r < 0)
			return r;
		i++;
	}
	h->napps = n;
	return 0;
}

static int read_timeline(const void *fdt, struct nvwa_timeline *tl,
			 struct why *w)
{
	int parent, node, r;
	uint32_t i = 0, n;

	parent = find_node(fdt, 0, "timeline", w);
	if (parent < 0)
		return parent;
	r = count_children(fdt, parent, "timeline", "phase", &n, w);
	if (r < 0)
		return r;
	r = check_count(w, "timeline", "phases", n, NVWA_MAX_PHASES);
	if (r < 0)
		return r;
	fdt_for_each_subnode(node, fdt, parent) {
		r = read_phase(fdt, node, i, &tl->phases[i], w);
		if (r < 0)
			return r;
		i++;
	}
	tl->nphases = n;
	return 0;
}

/*
 * What libfdt 1.6 leaves to its caller.  nvwa writes format version 17;
 * older formats are refused, as libfdt 1.6 dereferences NULL on some
 * (fdt_check_full() on a pre-16 root node name).  Misaligned blocks are
 * refused by libfdt 1.7 itself, but 1.6 would read them misaligned.
 */
static int check_fdt_header(const void *fdt, size_t size, struct why *w)
{
	uint32_t total;
	int r;

	r = fdt_check_header(fdt);
	if (r < 0)
		return refuse(w, -EBADMSG, "bad FDT header: %s",
			      fdt_strerror(r));
	if (fdt_version(fdt) < 17)
		return refuse(w, -EBADMSG,
			      "bad FDT header: format version %u, at least 17 needed",
			      fdt_version(fdt));
	if (fdt_off_mem_rsvmap(fdt) % sizeof(uint64_t) ||
	    fdt_off_dt_struct(fdt) % sizeof(fdt32_t))
		return refuse(w, -EBADMSG,
			      "bad FDT header: misaligned memory map or structure block");
	total = fdt_totalsize(fdt);
	if (total > size)
		return refuse(w, -EBADMSG,
			      "truncated: FDT header says %u bytes, only %zu present",
			      total, size);
	return 0;
}

/* @fdt is a private, aligned, writable copy of @size bytes. */
static int parse_fdt(void *fdt, size_t size, unsigned int flags,
		     struct nvwa_handover *h, struct why *w)
{
	uint32_t total;
	int r;

	r = check_fdt_header(fdt, size, w);
	if (r < 0)
		return r;
	total = fdt_totalsize(fdt);

	/*
	 * The CRC before the tree is read: damage anywhere is then reported
	 * as such, not as whatever rule it happened to break.
	 */
	r = check_crc(fdt, total, flags, w);
	if (r < 0)
		return r;
	r = fdt_check_full(fdt, total);
	if (r < 0)
		return refuse(w, -EBADMSG, "malformed FDT: %s",
			      fdt_strerror(r));

	r = check_compatible(fdt, w);
	if (r < 0)
		return r;
	/* Before anything else: another version may lay out the rest anew. */
	r = read_u32(fdt, 0, "", "version", &h->version, w);
	if (r < 0)
		return r;
	r = check_version(w, h->version);
	if (r < 0)
		return r;

	r = read_u64(fdt, 0, "", "generation", &h->generation, w);
	if (r < 0)
		return r;
	r = read_u64(fdt, 0, "", "tsc-khz", &h->timeline.tsc_khz, w);
	if (r < 0)
		return r;
	r = READ_STR(fdt, 0, "", "store", h->store, w);
	if (r < 0)
		return r;
	r = READ_STR(fdt, 0, "", "outcome", h->outcome, w);
	if (r < 0)
		return r;
	r = read_kernel(fdt, "old-kernel", &h->old_kernel, false, w);
	if (r < 0)
		return r;
	r = read_kernel(fdt, "new-kernel", &h->new_kernel, true, w);
	if (r < 0)
		return r;
	r = read_apps(fdt, h, w);
	if (r < 0)
		return r;
	r = read_timeline(fdt, &h->timeline, w);
	if (r < 0)
		return r;
	r = read_items(fdt, h, w);
	if (r < 0)
		return r;

	return check_record(w, h);
}

int handover_parse(const void *blob, size_t size, unsigned int flags,
		   struct nvwa_handover *ret, char *why, size_t whylen)
{
	struct why w = { .buf = why, .len = whylen };
	struct nvwa_handover *h = NULL;
	void *fdt = NULL;
	int r;

	if (why && whylen > 0)
		why[0] = '\0';
	if (size < sizeof(struct fdt_header))
		return refuse(&w, -EBADMSG,
			      "record too small: %zu bytes, an FDT header alone is %zu",
			      size, sizeof(struct fdt_header));
	if (size > NVWA_HANDOVER_MAX_SIZE)
		return refuse(&w, -EBADMSG,
			      "record too large: %zu bytes, at most %u accepted",
			      size, NVWA_HANDOVER_MAX_SIZE);

	/*
	 * libfdt wants an aligned blob and the CRC check writes to it; the
	 * result is built apart so *ret is untouched on failure.
	 */
	fdt = malloc(size);
	h = calloc(1, sizeof(*h));
	if (!fdt || !h) {
		r = refuse(&w, -ENOMEM, "out of memory");
		goto cleanup;
	}
	memcpy(fdt, blob, size);

	r = parse_fdt(fdt, size, flags, h, &w);
	if (r == 0)
		*ret = *h;
cleanup:
	free(h);
	free(fdt);
	return r;
}
