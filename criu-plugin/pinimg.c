// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "criu-plugin/pinimg.h"
#include "pinmem/lib/name.h"

#define PAGE_MASK_ ((uint64_t)PINMEM_PAGE_SIZE - 1)
#define FD_FLAGS (O_ACCMODE | O_NONBLOCK)

/* A reason that says where in the file, for the operator to look. */
__attribute__((format(printf, 4, 5)))
static int fault(char *why, size_t whylen, unsigned int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	set_whyv(msg, sizeof(msg), 0, fmt, ap);
	va_end(ap);
	if (line)
		return set_why(why, whylen, -EINVAL, "%s line %u: %s", PINIMG_FILE, line, msg);
	return set_why(why, whylen, -EINVAL, "%s: %s", PINIMG_FILE, msg);
}

/* "0x" and 1 to 16 hex digits, nothing else. */
static bool parse_hex(const char *s, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i;

	if (s[0] != '0' || s[1] != 'x' || !s[2] || strlen(s + 2) > 16)
		return false;
	for (i = 2; s[i]; i++) {
		char c = s[i];
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned int)(c - 'a' + 10);
		else
			return false;
		v = v << 4 | d;
	}
	*ret = v;
	return true;
}

static bool copy_name(char dst[PINMEM_NAME_MAX], const char *src)
{
	size_t n = strlen(src);

	if (n >= PINMEM_NAME_MAX || !pinmem_name_valid(src, n + 1))
		return false;
	memcpy(dst, src, n + 1);
	return true;
}

static void *grow(void *arr, size_t n, size_t size)
{
	/* Doubling at powers of two keeps appends linear. */
	if (n & (n - 1))
		return arr;
	return realloc(arr, (n ? 2 * n : 1) * size);
}

int pinimg_add_area(struct pinimg *img, const char *name, uint64_t offset,
		    uint64_t length)
{
	struct pinimg_area *a;

	if (img->nareas >= PINIMG_MAX_AREAS)
		return -E2BIG;
	a = grow(img->areas, img->nareas, sizeof(*a));
	if (!a)
		return -ENOMEM;
	img->areas = a;
	a += img->nareas;
	if (!copy_name(a->name, name))
		return -EINVAL;
	a->offset = offset;
	a->length = length;
	img->nareas++;
	return 0;
}

int pinimg_add_fd(struct pinimg *img, uint32_t id, uint32_t flags,
		  const char *name)
{
	struct pinimg_fd *f;

	if (img->nfds >= PINIMG_MAX_FDS)
		return -E2BIG;
	f = grow(img->fds, img->nfds, sizeof(*f));
	if (!f)
		return -ENOMEM;
	img->fds = f;
	f += img->nfds;
	f->id = id;
	f->flags = flags;
	f->name[0] = '\0';
	if (name && *name && !copy_name(f->name, name))
		return -EINVAL;
	img->nfds++;
	return 0;
}

void pinimg_free(struct pinimg *img)
{
	free(img->areas);
	free(img->fds);
	memset(img, 0, sizeof(*img));
}

static uint64_t span(const struct pinimg_area *a)
{
	return (a->length + PAGE_MASK_) & ~PAGE_MASK_;
}

const struct pinimg_area *pinimg_area_at(const struct pinimg *img,
					 uint64_t offset)
{
	for (size_t i = 0; i < img->nareas; i++) {
		const struct pinimg_area *a = &img->areas[i];

		if (offset >= a->offset && offset - a->offset < span(a))
			return a;
	}
	return NULL;
}

const struct pinimg_fd *pinimg_fd_find(const struct pinimg *img, uint32_t id)
{
	for (size_t i = 0; i < img->nfds; i++)
		if (img->fds[i].id == id)
			return &img->fds[i];
	return NULL;
}

static int by_offset(const void *a, const void *b)
{
	const struct pinimg_area *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int by_name(const void *a, const void *b)
{
	const struct pinimg_area *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Whole-image checks: areas disjoint, names and fd ids unique. */
static int check_sets(const struct pinimg *img, char *why, size_t whylen)
{
	struct pinimg_area *s;
	int r = 0;

	for (size_t i = 0; i < img->nfds; i++)
		for (size_t j = i + 1; j < img->nfds; j++)
			if (img->fds[i].id == img->fds[j].id)
				return fault(why, whylen, 0, "fd id %#x twice",
					     img->fds[i].id);
	if (img->nareas < 2)
		return 0;
	s = malloc(img->nareas * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(s, img->areas, img->nareas * sizeof(*s));
	qsort(s, img->nareas, sizeof(*s), by_offset);
	for (size_t i = 1; i < img->nareas && !r; i++)
		if (s[i - 1].offset + span(&s[i - 1]) > s[i].offset)
			r = fault(why, whylen, 0, "areas %s and %s overlap",
				  s[i - 1].name, s[i].name);
	qsort(s, img->nareas, sizeof(*s), by_name);
	for (size_t i = 1; i < img->nareas && !r; i++)
		if (!strcmp(s[i - 1].name, s[i].name))
			r = fault(why, whylen, 0, "area %s twice", s[i].name);
	free(s);
	return r;
}

/* Splits @line at single spaces into at most @max words. */
static size_t words(char *line, char **w, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (n < max) {
		w[n++] = p;
		p = strchr(p, ' ');
		if (!p)
			return n;
		*p++ = '\0';
	}
	return max + 1;
}

static int parse_line(struct pinimg *img, char *line, unsigned int no,
		      bool *have_region, char *why, size_t whylen)
{
	uint64_t a, b;
	char *w[5];
	size_t n = words(line, w, 4);
	int r;

	if (!strcmp(w[0], "region") && n == 3) {
		if (*have_region)
			return fault(why, whylen, no, "second region line");
		if (!parse_hex(w[1], &a) || !parse_hex(w[2], &b))
			return fault(why, whylen, no, "region needs START SIZE in hex");
		if (!b || (a | b) & PAGE_MASK_ || a + b < a)
			return fault(why, whylen, no, "region %#llx+%#llx is not page aligned or wraps",
				     (unsigned long long)a, (unsigned long long)b);
		img->region_start = a;
		img->region_size = b;
		*have_region = true;
		return 0;
	}
	if (!*have_region)
		return fault(why, whylen, no, "expected the region line first");
	if (!strcmp(w[0], "area") && n == 4) {
		if (!parse_hex(w[2], &a) || !parse_hex(w[3], &b))
			return fault(why, whylen, no, "area needs NAME OFFSET LENGTH, hex numbers");
		if (!b || a & PAGE_MASK_ || b > img->region_size ||
		    a > img->region_size - ((b + PAGE_MASK_) & ~PAGE_MASK_))
			return fault(why, whylen, no, "area %.40s is empty, misaligned or outside the region",
				     w[1]);
		r = pinimg_add_area(img, w[1], a, b);
		if (r == -EINVAL)
			return fault(why, whylen, no, "bad area name \"%.40s\"", w[1]);
		return r < 0 ? fault(why, whylen, no, "%s", strerror(-r)) : 0;
	}
	if (!strcmp(w[0], "fd") && n == 4) {
		if (!parse_hex(w[1], &a) || !parse_hex(w[2], &b) || a > UINT32_MAX)
			return fault(why, whylen, no, "fd needs ID FLAGS NAME, hex numbers");
		if (b & ~(uint64_t)FD_FLAGS || (b & O_ACCMODE) == O_ACCMODE)
			return fault(why, whylen, no, "fd flags %#llx are not open(2) access flags",
				     (unsigned long long)b);
		r = pinimg_add_fd(img, (uint32_t)a, (uint32_t)b,
				  strcmp(w[3], "-") ? w[3] : NULL);
		if (r == -EINVAL)
			return fault(why, whylen, no, "bad area name \"%.40s\"", w[3]);
		return r < 0 ? fault(why, whylen, no, "%s", strerror(-r)) : 0;
	}
	return fault(why, whylen, no, "unknown record \"%.16s\" or wrong field count", w[0]);
}

int pinimg_parse(const char *buf, size_t len, struct pinimg *img, char *why,
		 size_t whylen)
{
	static const char header[] = "nvwa-pinmem-image 1\n";
	bool have_region = false;
	unsigned int no = 1;
	char *text, *line, *end;
	int r = 0;

	memset(img, 0, sizeof(*img));
	if (len > PINIMG_MAX_BYTES)
		return fault(why, whylen, 0, "%zu bytes, more than any dump writes", len);
	if (len < sizeof(header) - 1 || memcmp(buf, header, sizeof(header) - 1))
		return fault(why, whylen, 1, "not a version %d nvwa pinmem image", PINIMG_VERSION);
	if (buf[len - 1] != '\n' || memchr(buf, '\0', len))
		return fault(why, whylen, 0, "truncated or not text");
	text = malloc(len + 1);
	if (!text)
		return -ENOMEM;
	memcpy(text, buf, len);
	text[len] = '\0';
	for (line = text + sizeof(header) - 1; *line && !r; line = end + 1) {
		end = strchr(line, '\n');
		*end = '\0';
		r = parse_line(img, line, ++no, &have_region, why, whylen);
	}
	free(text);
	if (!r && !have_region)
		r = fault(why, whylen, no, "no region line");
	if (!r)
		r = check_sets(img, why, whylen);
	if (r)
		pinimg_free(img);
	return r;
}

int pinimg_format(const struct pinimg *img, char **ret, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -errno;
	fprintf(f, "nvwa-pinmem-image %d\nregion 0x%llx 0x%llx\n", PINIMG_VERSION,
		(unsigned long long)img->region_start,
		(unsigned long long)img->region_size);
	for (size_t i = 0; i < img->nareas; i++)
		fprintf(f, "area %s 0x%llx 0x%llx\n", img->areas[i].name,
			(unsigned long long)img->areas[i].offset,
			(unsigned long long)img->areas[i].length);
	for (size_t i = 0; i < img->nfds; i++)
		fprintf(f, "fd 0x%x 0x%x %s\n", img->fds[i].id, img->fds[i].flags,
			img->fds[i].name[0] ? img->fds[i].name : "-");
	if (fclose(f)) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}
