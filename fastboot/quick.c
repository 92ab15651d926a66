// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "fastboot/quick.h"

#define MIB ((uint64_t)1 << 20)
/* x86-64's CONFIG_PHYSICAL_ALIGN: where startup_64 agrees to run. */
#define KERNEL_ALIGN ((uint64_t)2 << 20)
#define VMLINUX_MAX (1024u << 20)

int quick_region_parse(const char *text, struct quick_region *ret)
{
	unsigned long long start, size;
	int n = -1;

	if (sscanf(text, "%llx %llx%n", &start, &size, &n) != 2 || n < 0 ||
	    text[n + strspn(text + n, "\n")] != '\0')
		return -EINVAL;
	if (!start && !size)
		return -ENOENT;
	if (!size || start + size < start)
		return -EINVAL;
	ret->start = start;
	ret->size = size;
	return 0;
}

int quick_region_read(struct quick_region *ret)
{
	char buf[80];
	int r;

	r = read_one_line(QUICK_REGION_FILE, buf, sizeof(buf));
	if (r < 0)
		return r == -ENOENT ? -ENOENT : r;
	return quick_region_parse(buf, ret);
}

/* libelf on @fd, opened for @cmd; why it refused, in @why. */
static Elf *elf_open(int fd, Elf_Cmd cmd, GElf_Ehdr *ret_ehdr, char *why, size_t whylen)
{
	Elf *e;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		set_why(why, whylen, 0, "libelf: %s", elf_errmsg(-1));
		return NULL;
	}
	e = elf_begin(fd, cmd, NULL);
	if (!e) {
		set_why(why, whylen, 0, "libelf: %s", elf_errmsg(-1));
		return NULL;
	}
	if (elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, ret_ehdr) ||
	    gelf_getclass(e) != ELFCLASS64 || ret_ehdr->e_machine != EM_X86_64 ||
	    ret_ehdr->e_type != ET_EXEC) {
		set_why(why, whylen, 0, "not an x86-64 ELF executable");
		elf_end(e);
		return NULL;
	}
	return e;
}

/* @path opened with @flags and read by libelf: 0 and *@ret_fd, *@ret_e. */
static int elf_open_path(const char *path, int flags, GElf_Ehdr *ret_ehdr, int *ret_fd,
			 Elf **ret_e, char *why, size_t whylen)
{
	int fd;

	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return set_why(why, whylen, -errno, "%s", strerror(errno));
	*ret_e = elf_open(fd, ELF_C_READ, ret_ehdr, why, whylen);
	if (!*ret_e) {
		close(fd);
		return -ENOEXEC;
	}
	*ret_fd = fd;
	return 0;
}

/* A PT_LOAD's place: its program header's index, p_paddr, p_memsz. */
struct load {
	size_t index;
	uint64_t paddr, memsz;
};

static int load_cmp(const void *a, const void *b)
{
	const struct load *x = a, *y = b;

	return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

/*
 * @e's PT_LOADs, at most @max, into @loads sorted by p_paddr; their number
 * in *@ret_n.  -ENOEXEC if one wraps around or there are more.
 */
static int read_loads(Elf *e, struct load *loads, size_t max, size_t *ret_n, char *why,
		      size_t whylen)
{
	size_t n, nl = 0;

	if (elf_getphdrnum(e, &n) < 0)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)i, &ph))
			return set_why(why, whylen, -ENOEXEC, "program header %zu: libelf: %s", i,
				       elf_errmsg(-1));
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_paddr + ph.p_memsz < ph.p_paddr)
			return set_why(why, whylen, -ENOEXEC, "segment %zu wraps around", i);
		if (nl == max)
			return set_why(why, whylen, -ENOEXEC, "more than %zu loadable segments", max);
		loads[nl++] = (struct load){ i, ph.p_paddr, ph.p_memsz };
	}
	if (!nl)
		return set_why(why, whylen, -ENOEXEC, "no loadable segment");
	qsort(loads, nl, sizeof(*loads), load_cmp);
	*ret_n = nl;
	return 0;
}

static uint64_t page_up(uint64_t v)
{
	return (v + 4095) & ~(uint64_t)4095;
}

/* A vmlinux has four or five; anything with many more is not one. */
#define MAX_LOADS 32

int quick_span_read(const char *vmlinux, struct quick_span *ret, char *why, size_t whylen)
{
	struct quick_span s = { .lo = UINT64_MAX, .hi = 0 };
	struct load loads[MAX_LOADS];
	GElf_Ehdr ehdr;
	size_t n = 0;
	int fd, r;
	Elf *e;

	r = elf_open_path(vmlinux, O_RDONLY, &ehdr, &fd, &e, why, whylen);
	if (r < 0)
		return r;
	r = read_loads(e, loads, MAX_LOADS, &n, why, whylen);
	for (size_t i = 0; !r && i < n; i++) {
		uint64_t end = loads[i].paddr + loads[i].memsz;

		/* kexec rounds each segment up to a page: less is no hole. */
		if (i == 0)
			s.lo = loads[i].paddr;
		else if (loads[i].paddr > page_up(s.hi))
			s.holes += loads[i].paddr - page_up(s.hi);
		if (end > s.hi)
			s.hi = end;
	}
	elf_end(e);
	close(fd);
	if (!r)
		*ret = s;
	return r;
}

int quick_place(const struct quick_region *r, const struct quick_span *span,
		uint64_t initrd_len, struct quick_place *ret, char *why, size_t whylen)
{
	uint64_t kernel = r->start + QUICK_PARAMS_ROOM, end = r->start + r->size;
	/* Above kexec-tools' initrd limit, the region takes the kernel only. */
	int bounded = end - 1 <= QUICK_INITRD_MAX;
	uint64_t need = QUICK_PARAMS_ROOM + (span->hi - span->lo) +
			(bounded ? ((initrd_len + 4095) & ~(uint64_t)4095) + QUICK_PURGATORY_ROOM : 0);

	if (span->lo % KERNEL_ALIGN || kernel % KERNEL_ALIGN)
		return set_why(why, whylen, -EINVAL,
			       "the kernel cannot move by a multiple of 2 MiB (it loads at %#" PRIx64 ", the region starts at %#" PRIx64 ")",
			       span->lo, r->start);
	if (need > r->size && bounded)
		return set_why(why, whylen, -ENOSPC,
			       "the %" PRIu64 " MiB region is too small: the kernel (%" PRIu64 " MiB), the initrd (%" PRIu64 " MiB) and kexec's own segments need %" PRIu64 " MiB; boot with nvwa.quick_kexec=%" PRIu64 "M",
			       r->size / MIB, (span->hi - span->lo) / MIB, initrd_len / MIB,
			       (need + MIB - 1) / MIB, (need + 16 * MIB) / MIB);
	if (need > r->size)
		return set_why(why, whylen, -ENOSPC,
			       "the %" PRIu64 " MiB region is too small for the kernel (%" PRIu64 " MiB)",
			       r->size / MIB, (span->hi - span->lo) / MIB);
	ret->kernel = kernel;
	ret->delta = (int64_t)(kernel - span->lo);
	ret->bounded = bounded;
	ret->mem_min = bounded ? r->start : 0;
	ret->mem_max = bounded ? end - 1 : 0;
	return 0;
}

/* @v at @off in the file, in the ELF's byte order (checked: little-endian). */
static int put_le64(int fd, uint64_t off, uint64_t v)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	return pwrite(fd, b, sizeof(b), (off_t)off) == (ssize_t)sizeof(b) ? 0 : -EIO;
}

/* Program header @i's field at @field_off, in @out's file @fd. */
static int put_phdr(int fd, const GElf_Ehdr *ehdr, size_t i, size_t field_off, uint64_t v,
		    const char *out, char *why, size_t whylen)
{
	if (put_le64(fd, ehdr->e_phoff + i * sizeof(Elf64_Phdr) + field_off, v) < 0)
		return set_why(why, whylen, -EIO, "%s: %s", out, strerror(errno));
	return 0;
}

/*
 * The copy at @out, edited in place: the p_paddr of every PT_LOAD and
 * e_entry moved by @delta, and the p_memsz of each PT_LOAD that ends below
 * the next one made to reach it (no hole), nothing else.  libelf reads the
 * headers; the eight bytes of each field are written where they lie,
 * since libelf's own writer lays out only what sections cover and a
 * vmlinux's segments hold more.
 */
static int edit_headers(const char *out, int64_t delta, char *why, size_t whylen)
{
	struct load loads[MAX_LOADS];
	GElf_Ehdr ehdr;
	size_t n = 0;
	int fd, r;
	Elf *e;

	r = elf_open_path(out, O_RDWR, &ehdr, &fd, &e, why, whylen);
	if (r < 0)
		return r;
	if (ehdr.e_ident[EI_DATA] != ELFDATA2LSB || ehdr.e_phentsize != sizeof(Elf64_Phdr))
		r = set_why(why, whylen, -ENOEXEC, "not a little-endian ELF64 with standard program headers");
	else
		r = read_loads(e, loads, MAX_LOADS, &n, why, whylen);
	for (size_t i = 0, hi = 0; i < n && !r; i++) {
		uint64_t end = loads[i].paddr + loads[i].memsz;

		if (i && loads[i].paddr < loads[hi].paddr + loads[hi].memsz) {
			r = set_why(why, whylen, -ENOEXEC, "segments %zu and %zu overlap",
				    loads[hi].index, loads[i].index);
			break;
		}
		r = put_phdr(fd, &ehdr, loads[i].index, offsetof(Elf64_Phdr, p_paddr),
			     loads[i].paddr + (uint64_t)delta, out, why, whylen);
		if (!r && i + 1 < n && page_up(end) < loads[i + 1].paddr)
			r = put_phdr(fd, &ehdr, loads[i].index, offsetof(Elf64_Phdr, p_memsz),
				     loads[i + 1].paddr - loads[i].paddr, out, why, whylen);
		hi = i;
	}
	if (!r && put_le64(fd, offsetof(Elf64_Ehdr, e_entry), ehdr.e_entry + (uint64_t)delta) < 0)
		r = set_why(why, whylen, -EIO, "%s: %s", out, strerror(errno));
	elf_end(e);
	if (close(fd) < 0 && !r)
		r = set_why(why, whylen, -errno, "%s: %s", out, strerror(errno));
	return r;
}

static int write_edited(const char *vmlinux, int64_t delta, const char *out, char *why,
			size_t whylen)
{
	int r;

	r = copy_file(vmlinux, out, VMLINUX_MAX);
	if (r < 0)
		return set_why(why, whylen, r, "copying %s to %s: %s", vmlinux, out, strerror(-r));
	r = edit_headers(out, delta, why, whylen);
	if (r < 0)
		unlink(out);
	return r;
}

int quick_write_moved(const char *vmlinux, const struct quick_place *p, const char *out,
		      char *why, size_t whylen)
{
	return write_edited(vmlinux, p->delta, out, why, whylen);
}

int vmlinux_write_covered(const char *vmlinux, const char *out, char *why, size_t whylen)
{
	return write_edited(vmlinux, 0, out, why, whylen);
}

long quick_copy_pages(void)
{
	char buf[32];
	uint64_t v;
	int r;

	r = read_one_line(QUICK_COPY_PAGES_FILE, buf, sizeof(buf));
	if (r < 0)
		return r;
	r = parse_u64(buf, &v);
	if (r < 0 || v > LONG_MAX)
		return -EINVAL;
	return (long)v;
}
