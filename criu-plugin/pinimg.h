/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The nvwa CRIU plugin's own image, nvwa-pinmem.img, next to CRIU's images
 * in the dump directory.  CRIU records a pinmem mapping as /dev/pinmem plus
 * a page offset, which is the region offset of the mapped pages (see
 * pinmem/uapi/pinmem.h); this image says which area those pages belonged to
 * at dump time, so a restore can map the same area by name wherever it is
 * now, and which area each open /dev/pinmem descriptor was attached to.
 *
 * It is text, one record per line, in this order:
 *
 *   nvwa-pinmem-image 1
 *   region START SIZE              the region the dump saw (hex)
 *   area NAME OFFSET LENGTH        every area at dump time (hex)
 *   fd ID FLAGS NAME|-             an open /dev/pinmem: CRIU's file id,
 *                                  its O_ACCMODE|O_NONBLOCK flags (hex),
 *                                  the area it is attached to or "-"
 *
 * The restore reads it from a directory anyone may have edited: every field
 * is checked (names as pinmem takes them, offsets page aligned and inside
 * the region, areas disjoint, ids unique) before any is used.
 */
#ifndef NVWA_PINIMG_H
#define NVWA_PINIMG_H

#include <stddef.h>
#include <stdint.h>

#include "pinmem/uapi/pinmem.h"

#define PINIMG_FILE "nvwa-pinmem.img"
#define PINIMG_VERSION 1
#define PINIMG_MAX_AREAS 65536
#define PINIMG_MAX_FDS 4096
#define PINIMG_MAX_BYTES (8u << 20)
#define PINIMG_WHY_MAX 256

struct pinimg_area {
	char name[PINMEM_NAME_MAX];
	uint64_t offset;
	uint64_t length;
};

struct pinimg_fd {
	uint32_t id;
	uint32_t flags;
	char name[PINMEM_NAME_MAX];	/* "" when not attached */
};

struct pinimg {
	uint64_t region_start;
	uint64_t region_size;
	struct pinimg_area *areas;
	size_t nareas;
	struct pinimg_fd *fds;
	size_t nfds;
};

/* 0, or -EINVAL with the first fault (line and why) in @why. */
int pinimg_parse(const char *buf, size_t len, struct pinimg *img, char *why,
		 size_t whylen);
void pinimg_free(struct pinimg *img);
/* Text for @img into a malloc'd buffer; its length in *@ret_len. */
int pinimg_format(const struct pinimg *img, char **ret, size_t *ret_len);
int pinimg_add_area(struct pinimg *img, const char *name, uint64_t offset,
		    uint64_t length);
int pinimg_add_fd(struct pinimg *img, uint32_t id, uint32_t flags,
		  const char *name);
/* The area whose pages hold region offset @offset, or NULL. */
const struct pinimg_area *pinimg_area_at(const struct pinimg *img,
					 uint64_t offset);
const struct pinimg_fd *pinimg_fd_find(const struct pinimg *img, uint32_t id);

#endif
