// SPDX-License-Identifier: GPL-2.0
/*
 * Quick kexec's userspace part: the kernel's region as /sys says it, what
 * fits in it and where, and the vmlinux moved there with nothing changed
 * but its load addresses and entry point.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "fastboot/quick.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

#define MIB ((uint64_t)1 << 20)

static char why[256];

TEST(region_parses_as_the_kernel_writes_it)
{
	struct quick_region r = { 0 };

	CHECK_EQ_INT(quick_region_parse("0x28000000 0xa000000\n", &r), 0);
	CHECK(r.start == 0x28000000 && r.size == 0xa000000);
	CHECK_EQ_INT(quick_region_parse("0 0\n", &r), -ENOENT);
	CHECK(r.start == 0x28000000);	/* untouched on failure */
	CHECK_EQ_INT(quick_region_parse("0x28000000\n", &r), -EINVAL);
	CHECK_EQ_INT(quick_region_parse("0x28000000 0x0\n", &r), -EINVAL);
	CHECK_EQ_INT(quick_region_parse("0x28000000 0x1000 junk", &r), -EINVAL);
	CHECK_EQ_INT(quick_region_parse("0xffffffffffff0000 0x100000", &r), -EINVAL);
	CHECK_EQ_INT(quick_region_parse("", &r), -EINVAL);
}

TEST(kernel_goes_two_mib_in_and_kexec_stays_inside)
{
	struct quick_region r = { 0x28000000, 160 * MIB };
	struct quick_span k = { .lo = 0x1000000, .hi = 0x1000000 + 40 * MIB };
	struct quick_place p;

	CHECK_EQ_INT(quick_place(&r, &k, 40 * MIB, &p, why, sizeof(why)), 0);
	CHECK(p.kernel == 0x28000000 + 2 * MIB);
	CHECK(p.delta == (int64_t)(p.kernel - 0x1000000));
	CHECK(p.bounded && p.mem_min == 0x28000000 && p.mem_max == 0x28000000 + 160 * MIB - 1);
}

TEST(a_region_above_896_mib_takes_the_kernel_only)
{
	struct quick_region r = { 0x60000000, 48 * MIB };
	struct quick_span k = { .lo = 0x1000000, .hi = 0x1000000 + 40 * MIB };
	struct quick_place p;

	/* The initrd does not count: kexec-tools puts it below 896 MiB. */
	CHECK_EQ_INT(quick_place(&r, &k, 400 * MIB, &p, why, sizeof(why)), 0);
	CHECK(!p.bounded && p.kernel == 0x60000000 + 2 * MIB);
	r.size = 40 * MIB;
	CHECK_EQ_INT(quick_place(&r, &k, 0, &p, why, sizeof(why)), -ENOSPC);
	CHECKF(!strcmp(why, "the 40 MiB region is too small for the kernel (40 MiB)"), "%s", why);
	/* Ending right at the limit still takes the initrd. */
	r = (struct quick_region){ 0x38000000 - 160 * MIB, 160 * MIB };
	CHECK_EQ_INT(quick_place(&r, &k, 40 * MIB, &p, why, sizeof(why)), 0);
	CHECK(p.bounded);
}

TEST(what_does_not_fit_says_how_much_would)
{
	struct quick_region r = { 0x28000000, 64 * MIB };
	struct quick_span k = { .lo = 0x1000000, .hi = 0x1000000 + 40 * MIB };
	struct quick_place p = { 0 };

	CHECK_EQ_INT(quick_place(&r, &k, 40 * MIB, &p, why, sizeof(why)), -ENOSPC);
	CHECKF(strstr(why, "the 64 MiB region is too small") && strstr(why, "need 83 MiB") &&
	       strstr(why, "nvwa.quick_kexec=99M"), "%s", why);
	CHECK(p.kernel == 0);
	/* Exactly enough fits. */
	r.size = 83 * MIB;
	CHECK_EQ_INT(quick_place(&r, &k, 40 * MIB, &p, why, sizeof(why)), 0);
}

TEST(a_kernel_off_two_mib_cannot_move)
{
	struct quick_region r = { 0x28000000, 160 * MIB };
	struct quick_span k = { .lo = 0x1001000, .hi = 0x1001000 + 40 * MIB };
	struct quick_place p;

	CHECK_EQ_INT(quick_place(&r, &k, 0, &p, why, sizeof(why)), -EINVAL);
	r.start = 0x28100000;
	k.lo = 0x1000000;
	CHECK_EQ_INT(quick_place(&r, &k, 0, &p, why, sizeof(why)), -EINVAL);
}

/* A vmlinux-shaped ELF: two PT_LOADs at 16 MiB, a note, payload bytes. */
struct fake {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[3];
	unsigned char text[4096], data[4096];
};

static void fake_vmlinux(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->eh.e_ident, ELFMAG, SELFMAG);
	f->eh.e_ident[EI_CLASS] = ELFCLASS64;
	f->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	f->eh.e_ident[EI_VERSION] = EV_CURRENT;
	f->eh.e_type = ET_EXEC;
	f->eh.e_machine = EM_X86_64;
	f->eh.e_version = EV_CURRENT;
	f->eh.e_entry = 0x1000000;
	f->eh.e_phoff = offsetof(struct fake, ph);
	f->eh.e_ehsize = sizeof(Elf64_Ehdr);
	f->eh.e_phentsize = sizeof(Elf64_Phdr);
	f->eh.e_phnum = 3;
	f->ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X,
				 .p_offset = offsetof(struct fake, text),
				 .p_vaddr = 0xffffffff81000000, .p_paddr = 0x1000000,
				 .p_filesz = 4096, .p_memsz = 4096, .p_align = 4096 };
	f->ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W,
				 .p_offset = offsetof(struct fake, data),
				 .p_vaddr = 0xffffffff81200000, .p_paddr = 0x1200000,
				 .p_filesz = 4096, .p_memsz = 3 * MIB, .p_align = 4096 };
	f->ph[2] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = offsetof(struct fake, text),
				 .p_vaddr = 0xffffffff81000000, .p_paddr = 0x1000000,
				 .p_filesz = 16, .p_memsz = 16 };
	for (size_t i = 0; i < sizeof(f->text); i++) {
		f->text[i] = (unsigned char)(i * 7);
		f->data[i] = (unsigned char)(i * 13 + 1);
	}
}

/* A scratch directory holding a vmlinux (in) and the copy made of it (out). */
struct scratch {
	char dir[32], in[64], out[64];
};

static bool scratch_make(struct scratch *t)
{
	xsnprintf(t->dir, sizeof(t->dir), "/tmp/quick_test.XXXXXX");
	if (!CHECK(mkdtemp(t->dir)))
		return false;
	xsnprintf(t->in, sizeof(t->in), "%s/vmlinux", t->dir);
	xsnprintf(t->out, sizeof(t->out), "%s/copy", t->dir);
	return true;
}

static void scratch_remove(const struct scratch *t)
{
	unlink(t->in);
	unlink(t->out);
	rmdir(t->dir);
}

TEST(vmlinux_moves_with_only_its_load_addresses_changed)
{
	struct scratch t;
	const char *in = t.in, *out = t.out;
	struct quick_region r = { 0x28000000, 64 * MIB };
	struct quick_span s, moved;
	struct quick_place p;
	struct fake f, *g;
	size_t len;
	char *buf;

	if (!scratch_make(&t))
		return;
	fake_vmlinux(&f);
	CHECK_EQ_INT(write_file_create(in, &f, sizeof(f)), 0);
	CHECK_EQ_INT(quick_span_read(in, &s, why, sizeof(why)), 0);
	CHECK(s.lo == 0x1000000 && s.hi == 0x1200000 + 3 * MIB);
	CHECK_EQ_INT(quick_place(&r, &s, 0, &p, why, sizeof(why)), 0);
	CHECK_EQ_INT(quick_write_moved(in, &p, out, why, sizeof(why)), 0);
	CHECK_EQ_INT(quick_span_read(out, &moved, why, sizeof(why)), 0);
	CHECK(moved.lo == p.kernel && moved.hi - moved.lo == s.hi - s.lo);
	if (CHECK_EQ_INT(read_file(out, 1 << 20, &buf, &len), 0)) {
		g = (struct fake *)buf;
		CHECK(len == sizeof(f));
		CHECK(g->eh.e_entry == p.kernel);
		CHECK(g->ph[0].p_paddr == p.kernel && g->ph[1].p_paddr == p.kernel + 2 * MIB);
		CHECK(g->ph[0].p_vaddr == f.ph[0].p_vaddr && g->ph[0].p_offset == f.ph[0].p_offset);
		CHECK(g->ph[2].p_paddr == f.ph[2].p_paddr);	/* not loaded: left alone */
		CHECK(!memcmp(g->text, f.text, sizeof(f.text)) && !memcmp(g->data, f.data, sizeof(f.data)));
		free(buf);
	}
	scratch_remove(&t);
}

/*
 * The holes between segments (x86-64: the .rodata/.data gap) are the new
 * kernel's too: the copy covers them, every other field as it was.
 */
TEST(vmlinux_holes_are_counted_and_covered)
{
	struct scratch t;
	const char *in = t.in, *out = t.out;
	struct quick_span s, c;
	struct fake f, *g;
	size_t len;
	char *buf;

	if (!scratch_make(&t))
		return;
	fake_vmlinux(&f);
	/* The higher segment first in the table: order by address, not index. */
	Elf64_Phdr first = f.ph[0];

	f.ph[0] = f.ph[1];
	f.ph[1] = first;
	CHECK_EQ_INT(write_file_create(in, &f, sizeof(f)), 0);
	CHECK_EQ_INT(quick_span_read(in, &s, why, sizeof(why)), 0);
	CHECK(s.lo == 0x1000000 && s.hi == 0x1200000 + 3 * MIB);
	CHECK(s.holes == 2 * MIB - 4096);
	CHECK_EQ_INT(vmlinux_write_covered(in, out, why, sizeof(why)), 0);
	CHECK_EQ_INT(quick_span_read(out, &c, why, sizeof(why)), 0);
	CHECK(c.lo == s.lo && c.hi == s.hi && c.holes == 0);
	if (CHECK_EQ_INT(read_file(out, 1 << 20, &buf, &len), 0)) {
		g = (struct fake *)buf;
		CHECK(g->eh.e_entry == f.eh.e_entry);
		CHECK(g->ph[1].p_paddr == 0x1000000 && g->ph[1].p_memsz == 2 * MIB);
		CHECK(g->ph[1].p_filesz == 4096 && g->ph[1].p_offset == f.ph[1].p_offset);
		CHECK(g->ph[0].p_paddr == 0x1200000 && g->ph[0].p_memsz == 3 * MIB);
		CHECK(g->ph[2].p_memsz == f.ph[2].p_memsz);	/* not loaded: left alone */
		CHECK(!memcmp(g->text, f.text, sizeof(f.text)) && !memcmp(g->data, f.data, sizeof(f.data)));
		free(buf);
	}
	/* A gap inside the last page: kexec rounds segments to pages, no hole. */
	fake_vmlinux(&f);
	f.ph[0].p_memsz = 2 * MIB - 100;
	f.ph[1].p_vaddr = 0;	/* as .data..percpu: placed by p_paddr only */
	CHECK_EQ_INT(write_file_create(in, &f, sizeof(f)), 0);
	CHECK_EQ_INT(quick_span_read(in, &s, why, sizeof(why)), 0);
	CHECK(s.holes == 0 && s.lo == 0x1000000);
	/* Overlapping segments are no vmlinux: refused. */
	f.ph[0].p_memsz = 2 * MIB + 4096;
	CHECK_EQ_INT(write_file_create(in, &f, sizeof(f)), 0);
	CHECK_EQ_INT(vmlinux_write_covered(in, out, why, sizeof(why)), -ENOEXEC);
	CHECK(access(out, F_OK) < 0);
	/* Covered already: covering again changes nothing. */
	fake_vmlinux(&f);
	CHECK_EQ_INT(write_file_create(in, &f, sizeof(f)), 0);
	CHECK_EQ_INT(vmlinux_write_covered(in, out, why, sizeof(why)), 0);
	CHECK_EQ_INT(vmlinux_write_covered(out, in, why, sizeof(why)), 0);
	CHECK_EQ_INT(quick_span_read(in, &s, why, sizeof(why)), 0);
	CHECK(s.holes == 0 && s.hi == c.hi);
	scratch_remove(&t);
}

TEST(not_an_x86_64_executable_is_refused)
{
	struct scratch t;
	const char *in = t.in, *out = t.out;
	struct quick_place p = { .delta = 2 * MIB };
	struct quick_span s;
	struct fake f;

	if (!scratch_make(&t))
		return;
	fake_vmlinux(&f);
	f.eh.e_machine = EM_AARCH64;
	CHECK_EQ_INT(write_file_create(in, &f, sizeof(f)), 0);
	CHECK_EQ_INT(quick_span_read(in, &s, why, sizeof(why)), -ENOEXEC);
	CHECK_EQ_INT(quick_write_moved(in, &p, out, why, sizeof(why)), -ENOEXEC);
	CHECK(access(out, F_OK) < 0);	/* nothing half-written left */
	fake_vmlinux(&f);
	f.ph[0].p_type = PT_NOTE;
	f.ph[1].p_type = PT_NOTE;
	CHECK_EQ_INT(write_file_create(in, &f, sizeof(f)), 0);
	CHECK_EQ_INT(quick_span_read(in, &s, why, sizeof(why)), -ENOEXEC);
	CHECK_STREQ(why, "no loadable segment");
	CHECK_EQ_INT(write_file_create(in, "MZ", 2), 0);
	CHECK_EQ_INT(quick_span_read(in, &s, why, sizeof(why)), -ENOEXEC);
	scratch_remove(&t);
}
