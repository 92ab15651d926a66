// SPDX-License-Identifier: GPL-2.0
/*
 * The handover record to and from its FDT form (the layout is in
 * handover.h).
 *
 * Child nodes are named by their array index in lowercase hex, the device
 * tree convention for unit addresses (app@0 ... app@1f), and must appear in
 * index order, so a record has exactly one reading.
 *
 * Every node's properties are described once, in a table (root_members
 * and the nodes it names): name, type, field, version that added it and
 * rule.  The builder, the parser and check_record() walk those tables.
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
#include "common/util.h"

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

	if (!w)
		return err;
	va_start(ap, fmt);
	set_whyv(w->buf, w->len, err, fmt, ap);
	va_end(ap);
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


static const char *const app_state_names[] = {
	[NVWA_APP_DUMPED] = "dumped",
	[NVWA_APP_RESTORING] = "restoring",
	[NVWA_APP_RESTORED] = "restored",
	[NVWA_APP_FAILED] = "failed",
};
_Static_assert(ARRAY_SIZE(app_state_names) == NVWA_APP_STATE_MAX,
	       "every application state has a name");

static const char *const outcome_names[] = {
	[NVWA_OUTCOME_PENDING] = "pending",
	[NVWA_OUTCOME_RESTORED] = "restored",
	[NVWA_OUTCOME_FAILED] = "failed",
};
_Static_assert(ARRAY_SIZE(outcome_names) == NVWA_OUTCOME_MAX,
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
/* The record, described once                                          */
/* ------------------------------------------------------------------ */

/*
 * Each node of the record is a table of its members in the documented
 * order: the builder writes them from it, the parser reads them with it
 * and check_record() applies its rules, so a property is added, renamed
 * or bounded in one row.
 */

#define PROP_COMPATIBLE "compatible"
#define PROP_CRC32 "crc32"

enum type {
	T_U32,
	T_S32,		/* one cell holding a signed value (a PID) */
	T_U64,		/* two cells, high first */
	T_STR,		/* one NUL-terminated string, in a char array */
	T_COMPATIBLE,	/* NVWA_HANDOVER_COMPATIBLE, kept in no field */
	T_CRC32,	/* the blob's checksum, kept in no field */
	T_NODE,		/* a child node holding a struct */
	T_LIST,		/* a child node holding an array: NAME@0, NAME@1... */
};

enum rule {
	R_NONE,
	R_VERSION,	/* one this nvwa reads */
	R_POSITIVE,	/* > 0 */
	R_NONZERO,
	R_NONEMPTY,
	R_BELOW,	/* < .max */
	R_NAMED,	/* one of .names */
	R_NOT_BEFORE,	/* >= the u64 at .ref, named .ref_name */
};

struct node;
struct list;

struct member {
	const char *name;		/* the property's or the node's */
	enum type type;
	size_t offset;			/* in the struct its node holds */
	size_t size;			/* T_STR: the field's bytes */
	/* Not in the FDT: the field must stay empty (old-kernel's image). */
	bool absent;
	uint32_t since;			/* the record version that added it */
	enum rule rule;
	uint64_t max;			/* R_BELOW */
	const char *const *names;	/* R_NAMED */
	size_t nnames;
	size_t ref;			/* R_NOT_BEFORE */
	const char *ref_name;
	const struct node *node;	/* T_NODE */
	const struct list *list;	/* T_LIST; .offset is the array's */
};

struct node {
	const struct member *members;
	size_t n;
};

struct list {
	const char *child;		/* children are CHILD@0, CHILD@1... */
	const char *noun;		/* what a reason calls them */
	size_t count;			/* offset of the uint32_t count */
	uint32_t max;
	size_t stride;
	const struct node *elem;
};

#define NODE(members) { members, ARRAY_SIZE(members) }
#define U32(s, f) .type = T_U32, .offset = offsetof(s, f)
#define S32(s, f) .type = T_S32, .offset = offsetof(s, f)
#define U64(s, f) .type = T_U64, .offset = offsetof(s, f)
#define STR(s, f) .type = T_STR, .offset = offsetof(s, f), \
		  .size = sizeof(((s *)0)->f)
#define NOT_BEFORE(s, f, prop) .rule = R_NOT_BEFORE, .ref = offsetof(s, f), \
			       .ref_name = prop

static const struct member old_kernel_members[] = {
	{ .name = "release", STR(struct nvwa_kernel, release) },
	{ .name = "cmdline", STR(struct nvwa_kernel, cmdline) },
	/* Only the new kernel is loaded from an image, by a loader. */
	{ .name = "image", STR(struct nvwa_kernel, image), .absent = true },
	{ .name = "loader", STR(struct nvwa_kernel, loader), .absent = true },
	{ .name = "initrd", STR(struct nvwa_kernel, initrd), .absent = true },
};

static const struct member new_kernel_members[] = {
	{ .name = "release", STR(struct nvwa_kernel, release) },
	{ .name = "cmdline", STR(struct nvwa_kernel, cmdline) },
	{ .name = "image", STR(struct nvwa_kernel, image) },
	{ .name = "loader", STR(struct nvwa_kernel, loader) },
	{ .name = "initrd", STR(struct nvwa_kernel, initrd), .since = 5 },
};

static const struct member app_members[] = {
	/* Stored as a cell; a "negative" one is refused. */
	{ .name = "pid", S32(struct nvwa_app, pid), .rule = R_POSITIVE },
	{ .name = "comm", STR(struct nvwa_app, comm) },
	{ .name = "images", STR(struct nvwa_app, images) },
	{ .name = "dump-mode", STR(struct nvwa_app, dump_mode) },
	{ .name = "state", STR(struct nvwa_app, state) },
	{ .name = "error", STR(struct nvwa_app, error) },
	{ .name = "unit", STR(struct nvwa_app, unit), .since = 3 },
	{ .name = "stdio", STR(struct nvwa_app, stdio), .since = 3 },
	{ .name = "tcp-established", U32(struct nvwa_app, tcp), .since = 3 },
	{ .name = "addresses", STR(struct nvwa_app, addresses), .since = 3 },
	{ .name = "tcp-endpoints", STR(struct nvwa_app, endpoints), .since = 3 },
	{ .name = "pids", STR(struct nvwa_app, pids), .since = 4 },
	{ .name = "memory", STR(struct nvwa_app, memory), .since = 4 },
	{ .name = "image-bytes", U64(struct nvwa_app, image_bytes), .since = 4 },
	{ .name = "kept-pages", U64(struct nvwa_app, kept_pages), .since = 4 },
	{ .name = "left-pages", U64(struct nvwa_app, left_pages), .since = 4 },
	{ .name = "shared-pages", U64(struct nvwa_app, shared_pages), .since = 4 },
	{ .name = "moved-pages", U64(struct nvwa_app, moved_pages), .since = 4 },
	{ .name = "installed-pages", U64(struct nvwa_app, installed_pages), .since = 4 },
	{ .name = "huge-pages", U64(struct nvwa_app, huge_pages), .since = 4 },
	{ .name = "copied-pages", U64(struct nvwa_app, copied_pages), .since = 4 },
};

static const struct member phase_members[] = {
	{ .name = "label", STR(struct nvwa_phase, name), .rule = R_NONEMPTY },
	{ .name = "domain", U32(struct nvwa_phase, domain), .rule = R_BELOW,
	  .max = NVWA_DOMAIN_MAX },
	{ .name = "start", U64(struct nvwa_phase, start) },
	{ .name = "end", U64(struct nvwa_phase, end),
	  NOT_BEFORE(struct nvwa_phase, start, "start") },
};

static const struct member item_members[] = {
	{ .name = "kind", STR(struct nvwa_item, kind), .rule = R_NONEMPTY },
	{ .name = "name", STR(struct nvwa_item, name), .rule = R_NONEMPTY },
	{ .name = "detail", STR(struct nvwa_item, detail) },
	{ .name = "start", U64(struct nvwa_item, start) },
	{ .name = "end", U64(struct nvwa_item, end),
	  NOT_BEFORE(struct nvwa_item, start, "start") },
};

static const struct node old_kernel_node = NODE(old_kernel_members);
static const struct node new_kernel_node = NODE(new_kernel_members);
static const struct node app_node = NODE(app_members);
static const struct node phase_node = NODE(phase_members);
static const struct node item_node = NODE(item_members);

static const struct list apps_list = {
	.child = "app",
	.noun = "apps",
	.count = offsetof(struct nvwa_handover, napps),
	.max = NVWA_MAX_APPS,
	.stride = sizeof(struct nvwa_app),
	.elem = &app_node,
};

static const struct list timeline_list = {
	.child = "phase",
	.noun = "phases",
	.count = offsetof(struct nvwa_handover, timeline.nphases),
	.max = NVWA_MAX_PHASES,
	.stride = sizeof(struct nvwa_phase),
	.elem = &phase_node,
};

static const struct list items_list = {
	.child = "item",
	.noun = "items",
	.count = offsetof(struct nvwa_handover, nitems),
	.max = NVWA_MAX_ITEMS,
	.stride = sizeof(struct nvwa_item),
	.elem = &item_node,
};

static const struct member root_members[] = {
	{ .name = PROP_COMPATIBLE, .type = T_COMPATIBLE },
	{ .name = "version", U32(struct nvwa_handover, version),
	  .rule = R_VERSION },
	{ .name = "generation", U64(struct nvwa_handover, generation),
	  .rule = R_POSITIVE },
	{ .name = PROP_CRC32, .type = T_CRC32 },
	{ .name = "tsc-khz", U64(struct nvwa_handover, timeline.tsc_khz),
	  .rule = R_NONZERO },
	{ .name = "store", STR(struct nvwa_handover, store) },
	{ .name = "outcome", STR(struct nvwa_handover, outcome),
	  .rule = R_NAMED, .names = outcome_names,
	  .nnames = NVWA_OUTCOME_MAX },
	{ .name = "old-kernel", .type = T_NODE,
	  .offset = offsetof(struct nvwa_handover, old_kernel),
	  .node = &old_kernel_node },
	{ .name = "new-kernel", .type = T_NODE,
	  .offset = offsetof(struct nvwa_handover, new_kernel),
	  .node = &new_kernel_node },
	{ .name = "apps", .type = T_LIST,
	  .offset = offsetof(struct nvwa_handover, apps),
	  .list = &apps_list },
	{ .name = "timeline", .type = T_LIST,
	  .offset = offsetof(struct nvwa_handover, timeline.phases),
	  .list = &timeline_list },
	{ .name = "probes", STR(struct nvwa_handover, probes), .since = 2 },
	{ .name = "items", .type = T_LIST,
	  .offset = offsetof(struct nvwa_handover, items),
	  .list = &items_list, .since = 2 },
};

static const struct node root_node = NODE(root_members);

static const void *at(const void *obj, size_t offset)
{
	return (const char *)obj + offset;
}

static uint64_t u64_at(const void *obj, size_t offset)
{
	uint64_t v;

	memcpy(&v, at(obj, offset), sizeof(v));
	return v;
}

static uint32_t u32_at(const void *obj, size_t offset)
{
	uint32_t v;

	memcpy(&v, at(obj, offset), sizeof(v));
	return v;
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

/* "a, b or c", for a reason that lists what was expected. */
static void join_names(char *buf, size_t size, const char *const *names,
		       size_t n)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < n && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%s",
				i == 0 ? "" : i + 1 == n ? " or " : ", ",
				names[i]);
}

static int check_named(struct why *w, const char *path,
		       const struct member *m, const char *s)
{
	char expected[128];

	if (name_lookup(m->names, m->nnames, s) >= 0)
		return 0;
	join_names(expected, sizeof(expected), m->names, m->nnames);
	return refuse(w, -EBADMSG, "%s%sproperty '%s' is '%s', expected %s",
		      path, sep(path), m->name, s, expected);
}

/* What a member's value must be, beyond fitting its field. */
static int check_rule(struct why *w, const char *path, const struct member *m,
		      const void *obj)
{
	const char *s = at(obj, m->offset);
	uint64_t v = 0, ref;
	int32_t pid;

	if (m->type == T_U32)
		v = u32_at(obj, m->offset);
	else if (m->type == T_U64)
		v = u64_at(obj, m->offset);

	switch (m->rule) {
	case R_NONE:
		return 0;
	case R_VERSION:
		return check_version(w, (uint32_t)v);
	case R_POSITIVE:
		if (m->type == T_S32) {
			pid = (int32_t)u32_at(obj, m->offset);
			if (pid <= 0)
				return refuse(w, -EBADMSG,
					      "%s%sproperty '%s' must be > 0, got %d",
					      path, sep(path), m->name, pid);
			return 0;
		}
		if (v == 0)
			return refuse(w, -EBADMSG, "%s%sproperty '%s' must be > 0",
				      path, sep(path), m->name);
		return 0;
	case R_NONZERO:
		if (v == 0)
			return refuse(w, -EBADMSG,
				      "%s%sproperty '%s' must be non-zero",
				      path, sep(path), m->name);
		return 0;
	case R_NONEMPTY:
		if (!s[0])
			return refuse(w, -EBADMSG, "%s%sproperty '%s' is empty",
				      path, sep(path), m->name);
		return 0;
	case R_BELOW:
		if (v >= m->max)
			return refuse(w, -EBADMSG,
				      "%s%sproperty '%s' is %llu, expected 0 to %llu",
				      path, sep(path), m->name,
				      (unsigned long long)v,
				      (unsigned long long)m->max - 1);
		return 0;
	case R_NAMED:
		return check_named(w, path, m, s);
	case R_NOT_BEFORE:
		ref = u64_at(obj, m->ref);
		if (v < ref)
			return refuse(w, -EBADMSG,
				      "%s%sproperty '%s' (%llu) is before '%s' (%llu)",
				      path, sep(path), m->name,
				      (unsigned long long)v, m->ref_name,
				      (unsigned long long)ref);
		return 0;
	}
	return 0;
}

/* A member a record of this version has no place for: it must be empty. */
static bool member_empty(const struct member *m, const void *obj)
{
	switch (m->type) {
	case T_STR:
		return !*(const char *)at(obj, m->offset);
	case T_LIST:
		return u32_at(obj, m->list->count) == 0;
	case T_U32:
	case T_S32:
		return u32_at(obj, m->offset) == 0;
	case T_U64:
		return u64_at(obj, m->offset) == 0;
	default:
		return true;
	}
}

static int check_node(struct why *w, const char *path, const struct node *n,
		      const void *obj, uint32_t version);

static int check_list(struct why *w, const char *path, const struct member *m,
		      const void *obj, uint32_t version)
{
	const struct list *l = m->list;
	uint32_t i, n = u32_at(obj, l->count);
	char elem[NODE_PATH_MAX];
	int r;

	/* Before any element is looked at: the array is only so long. */
	r = check_count(w, path, l->noun, n, l->max);
	if (r < 0)
		return r;
	for (i = 0; i < n; i++) {
		snprintf(elem, sizeof(elem), "%s/%s@%x", path, l->child, i);
		r = check_node(w, elem, l->elem,
			       at(obj, m->offset + i * l->stride), version);
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_member(struct why *w, const char *path,
			const struct member *m, const void *obj,
			uint32_t version)
{
	int r;

	if (m->since > version) {
		if (!member_empty(m, obj))
			return refuse(w, -EINVAL,
				      "version %u records have no %s",
				      version, m->name);
		return 0;
	}
	switch (m->type) {
	case T_COMPATIBLE:
	case T_CRC32:
		return 0;
	case T_NODE:
		return check_node(w, m->name, m->node, at(obj, m->offset),
				  version);
	case T_LIST:
		return check_list(w, m->name, m, obj, version);
	case T_STR:
		r = check_field(w, path, m->name, at(obj, m->offset), m->size);
		if (r < 0)
			return r;
		if (m->absent && !member_empty(m, obj))
			return refuse(w, -EBADMSG,
				      "%s%sproperty '%s' must be empty, this node has none",
				      path, sep(path), m->name);
		break;
	default:
		break;
	}
	return check_rule(w, path, m, obj);
}

static int check_node(struct why *w, const char *path, const struct node *n,
		      const void *obj, uint32_t version)
{
	size_t i;
	int r;

	for (i = 0; i < n->n; i++) {
		r = check_member(w, path, &n->members[i], obj, version);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * The version is checked before any member it governs: it comes before
 * them in root_members.
 */
static int check_record(struct why *w, const struct nvwa_handover *h)
{
	return check_node(w, "", &root_node, h, h->version);
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
 * libfdt puts each new property and subnode first in its node, so the
 * builder walks every table and every array last first: the record then
 * reads in the documented order, and child nodes come out in index order.
 */

static int build_node(void *fdt, int node, const struct node *n,
		      const void *obj, uint32_t version);

static int build_list(void *fdt, int parent, const struct member *m,
		      const void *obj, uint32_t version)
{
	const struct list *l = m->list;
	char name[NODE_PATH_MAX];
	int list, node, r;
	uint32_t i;

	list = fdt_add_subnode(fdt, parent, m->name);
	if (list < 0)
		return list;
	for (i = u32_at(obj, l->count); i-- > 0;) {
		snprintf(name, sizeof(name), "%s@%x", l->child, i);
		node = fdt_add_subnode(fdt, list, name);
		if (node < 0)
			return node;
		r = build_node(fdt, node, l->elem,
			       at(obj, m->offset + i * l->stride), version);
		if (r < 0)
			return r;
	}
	return 0;
}

static int build_member(void *fdt, int node, const struct member *m,
			const void *obj, uint32_t version)
{
	int child;

	if (m->since > version || m->absent)
		return 0;
	switch (m->type) {
	case T_U32:
	case T_S32:
		return fdt_setprop_u32(fdt, node, m->name,
				       u32_at(obj, m->offset));
	case T_U64:
		return fdt_setprop_u64(fdt, node, m->name,
				       u64_at(obj, m->offset));
	case T_STR:
		return fdt_setprop_string(fdt, node, m->name,
					  at(obj, m->offset));
	case T_COMPATIBLE:
		return fdt_setprop_string(fdt, node, m->name,
					  NVWA_HANDOVER_COMPATIBLE);
	case T_CRC32:
		/* Zero while the CRC is computed; sealed once the blob is final. */
		return fdt_setprop_u32(fdt, node, m->name, 0);
	case T_NODE:
		child = fdt_add_subnode(fdt, node, m->name);
		if (child < 0)
			return child;
		return build_node(fdt, child, m->node, at(obj, m->offset),
				  version);
	case T_LIST:
		return build_list(fdt, node, m, obj, version);
	}
	return -FDT_ERR_INTERNAL;
}

static int build_node(void *fdt, int node, const struct node *n,
		      const void *obj, uint32_t version)
{
	size_t i;
	int r;

	for (i = n->n; i-- > 0;) {
		r = build_member(fdt, node, &n->members[i], obj, version);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Returns 0 or a negative libfdt error. */
static int build_tree(void *fdt, int capacity, const struct nvwa_handover *h)
{
	int r;

	r = fdt_create_empty_tree(fdt, capacity);
	if (r < 0)
		return r;
	return build_node(fdt, 0, &root_node, h, h->version);
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
	r = fdt_setprop_inplace_u32(fdt, 0, PROP_CRC32,
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

	r = read_u32(fdt, 0, "", PROP_CRC32, &stored, w);
	if (r < 0 || (flags & HANDOVER_PARSE_IGNORE_CRC))
		return r;
	r = fdt_setprop_inplace_u32(fdt, 0, PROP_CRC32, 0);
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

	r = read_prop(fdt, 0, "", PROP_COMPATIBLE, &p, &len, w);
	if (r < 0)
		return r;
	if (len != sizeof(NVWA_HANDOVER_COMPATIBLE) ||
	    memcmp(p, NVWA_HANDOVER_COMPATIBLE, len) != 0)
		return refuse(w, -EBADMSG,
			      "property 'compatible' is not \"%s\": not a handover record",
			      NVWA_HANDOVER_COMPATIBLE);
	return 0;
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

static int read_node(const void *fdt, int node, const char *path,
		     const struct node *n, void *obj, uint32_t version,
		     struct why *w);

static int read_list(const void *fdt, int parent, const char *path,
		     const struct member *m, void *obj, uint32_t version,
		     struct why *w)
{
	const struct list *l = m->list;
	char elem[NODE_PATH_MAX];
	int list, node, r;
	uint32_t i = 0, n = 0;

	list = find_node(fdt, parent, m->name, w);
	if (list < 0)
		return list;
	r = count_children(fdt, list, path, l->child, &n, w);
	if (r < 0)
		return r;
	/* Before anything is stored: the array is only so long. */
	r = check_count(w, path, l->noun, n, l->max);
	if (r < 0)
		return r;
	fdt_for_each_subnode(node, fdt, list) {
		snprintf(elem, sizeof(elem), "%s/%s@%x", path, l->child, i);
		r = read_node(fdt, node, elem, l->elem,
			      (char *)obj + m->offset + i * l->stride, version,
			      w);
		if (r < 0)
			return r;
		i++;
	}
	memcpy((char *)obj + l->count, &n, sizeof(n));
	return 0;
}

static int read_member(const void *fdt, int node, const char *path,
		       const struct member *m, void *obj, uint32_t version,
		       struct why *w)
{
	void *field = (char *)obj + m->offset;
	int child;

	/* The version is read first, on its own: see parse_fdt(). */
	if (m->since > version || m->absent || m->rule == R_VERSION)
		return 0;
	switch (m->type) {
	case T_U32:
	case T_S32:
		return read_u32(fdt, node, path, m->name, field, w);
	case T_U64:
		return read_u64(fdt, node, path, m->name, field, w);
	case T_STR:
		return read_str(fdt, node, path, m->name, field, m->size, w);
	case T_COMPATIBLE:
	case T_CRC32:
		/* Checked before the tree is read. */
		return 0;
	case T_NODE:
		child = find_node(fdt, node, m->name, w);
		if (child < 0)
			return child;
		return read_node(fdt, child, m->name, m->node, field, version,
				 w);
	case T_LIST:
		return read_list(fdt, node, m->name, m, obj, version, w);
	}
	return refuse(w, -EBADMSG, "%s%sproperty '%s' of no known type",
		      path, sep(path), m->name);
}

static int read_node(const void *fdt, int node, const char *path,
		     const struct node *n, void *obj, uint32_t version,
		     struct why *w)
{
	size_t i;
	int r;

	for (i = 0; i < n->n; i++) {
		r = read_member(fdt, node, path, &n->members[i], obj, version,
				w);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Before anything else: another version may lay out the rest anew. */
static int read_version(const void *fdt, struct nvwa_handover *h,
			struct why *w)
{
	const struct member *m;
	int r;

	for (m = root_members; m < root_members + ARRAY_SIZE(root_members); m++) {
		if (m->rule != R_VERSION)
			continue;
		r = read_u32(fdt, 0, "", m->name, &h->version, w);
		if (r < 0)
			return r;
		return check_version(w, h->version);
	}
	return refuse(w, -EBADMSG, "no version in the record's description");
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
	r = read_version(fdt, h, w);
	if (r < 0)
		return r;
	r = read_node(fdt, 0, "", &root_node, h, h->version, w);
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
