// SPDX-License-Identifier: GPL-2.0
/*
 * nvwa_keep: anonymous pages handed over across kexec in place, on the
 * nvwa kernel (pinmem/kernel/0004, mm/nvwa_keep.c).  The kernel reserves
 * and installs the frames; this module decides which they are, writes the
 * list the next kernel reads, and serves /dev/nvwa-keep
 * (pinmem/uapi/nvwa_keep.h says the order of the calls).
 *
 * Before the jump a frozen process's private anonymous pages that only it
 * maps are taken: a reference held here, the page table entries zapped.
 * The checkpoint then finds them never touched and writes none of them.
 * A page the loaded kernel image would land on is copied to a frame out
 * of its way first, and counted.  A page only the process maps but not
 * flagged its own (CRIU's restore shared it with the children it forked)
 * is unshared first, as a write fault would, in place when nothing else
 * holds it.  Pages that are not the process's alone (shared after fork,
 * in the swap cache, KSM, DMA-pinned) or that it cannot write stay
 * mapped, and the checkpoint copies them as before.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/crc32.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/ioport.h>
#include <linux/kexec.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/nvwa_keep.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include <linux/userfaultfd_k.h>
#include <linux/vmalloc.h>
#include <linux/xarray.h>

#include "../uapi/nvwa_keep.h"

/* Pages per get_user_pages_remote(): at most one PMD's, never across two. */
#define PMD_PAGES	(PMD_SIZE >> PAGE_SHIFT)
#define PMD_ORDER	get_order(PMD_SIZE)
#define MOVE_TRIES_HUGE	64	/* huge pages tried for one out of the image's way */
#define TAKE_BATCH	PMD_PAGES
#define MOVE_TRIES	65536	/* frames tried for one out of the image's way */
/*
 * The next kernel reserves its image whole, from _text to _end: the gaps
 * between an ELF vmlinux's segments, aligned to 2 MiB, are in its way too.
 */
#define IMAGE_SLACK	SZ_2M

/* Frames taken, contiguous in memory and in the owner's address space. */
struct keep_run {
	unsigned long pfn;
	unsigned long addr;
	u32 nr;
	u32 owner;		/* PID number; 0: the list's own pages */
	bool huge;		/* of huge pages the owner mapped by PMDs */
	bool held;		/* a checkpoint's kept frames, at seal only */
};

/* Before the jump: what is taken.  After it: what was handed over. */
static struct keep {
	struct mutex lock;		/* all of it */
	u32 state;			/* enum nvwa_keep_state */
	struct page *head;
	struct keep_run *runs;
	unsigned long nr, cap;		/* runs */
	unsigned long frames;		/* in all runs */
	struct page **list;		/* list pages, at seal */
	unsigned long nr_list;
	struct xarray owners;		/* PID number -> struct pid *, at take */
	u64 installed, copied, released;
	/*
	 * Checkpoints' kept frames (HOLD, or handed over with
	 * NVWA_KEEP_RUN_HELD): runs in the list's own form, by owner.
	 */
	struct nvwa_keep_run *held;
	unsigned long nr_held, cap_held, held_frames;
	bool pinned;			/* a module reference while any is held */
} keep = {
	.lock = __MUTEX_INITIALIZER(keep.lock),
	.owners = XARRAY_INIT(keep.owners, 0),
};

static u32 keep_crc(const void *p, size_t len, size_t crc_off)
{
	static const u32 zero;
	u32 crc;

	crc = crc32_le(~0, p, crc_off);
	crc = crc32_le(crc, (const void *)&zero, sizeof(zero));
	return crc32_le(crc, p + crc_off + sizeof(zero),
			len - crc_off - sizeof(zero));
}

static bool in_image_way(unsigned long pfn, unsigned long nr)
{
	phys_addr_t start = PFN_PHYS(pfn);
	int r;

	start = start > IMAGE_SLACK - PAGE_SIZE ? start - (IMAGE_SLACK - PAGE_SIZE) : 0;
	r = kexec_image_overlaps(start, PFN_PHYS(pfn + nr));

	/*
	 * -EBUSY: an image is being loaded; count it in the way.  -ENOENT:
	 * none is loaded yet (BEGIN comes first); seal checks again.
	 */
	return r == 1 || r == -EBUSY;
}

/* How many of the @nr frames from @pfn lie in the loaded image's way. */
static unsigned long frames_in_image_way(unsigned long pfn, unsigned long nr)
{
	unsigned long f, n = 0;

	for (f = 0; in_image_way(pfn, nr) && f < nr; f++)
		n += in_image_way(pfn + f, 1);
	return n;
}

/*
 * A frame of its own, out of the loaded image's way, or NULL.  The image
 * lands where kexec found RAM free at load time, often where the page
 * allocator still hands pages out: frames in its way are held aside until
 * one is not (at most MOVE_TRIES of them), then given back.
 */
static struct page *alloc_clear_of_image(gfp_t gfp)
{
	struct page *page = NULL, *p, *tmp;
	LIST_HEAD(aside);
	int n;

	for (n = 0; n < MOVE_TRIES; n++) {
		page = alloc_page(gfp | __GFP_NOWARN);
		if (!page || !in_image_way(page_to_pfn(page), 1))
			break;
		list_add(&page->lru, &aside);
		page = NULL;
	}
	list_for_each_entry_safe(p, tmp, &aside, lru) {
		list_del(&p->lru);
		__free_page(p);
	}
	return page;
}

/*
 * Room in *@arr (@nr of *@cap items of @size bytes used) for @more, so
 * that adding them cannot fail; at least @least items.
 */
static int grow(void **arr, unsigned long *cap, unsigned long nr, unsigned long more,
		size_t size, unsigned long least)
{
	unsigned long c = max(*cap, least);
	void *a;

	if (nr + more <= *cap)
		return 0;
	while (c < nr + more)
		c *= 2;
	a = kvmalloc_array(c, size, GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	if (nr)
		memcpy(a, *arr, nr * size);
	kvfree(*arr);
	*arr = a;
	*cap = c;
	return 0;
}

/* Room for @more runs, so that adding them cannot fail. */
static int keep_grow(unsigned long more)
{
	return grow((void **)&keep.runs, &keep.cap, keep.nr, more, sizeof(*keep.runs), 1024);
}

/* Adds @page (held) at @addr of @owner: to the last run if it goes on it. */
static int keep_add(struct page *page, unsigned long addr, u32 owner, bool huge)
{
	unsigned long pfn = page_to_pfn(page);
	struct keep_run *last = keep.nr ? &keep.runs[keep.nr - 1] : NULL;
	int err;

	if (last && owner && last->owner == owner && last->huge == huge &&
	    last->nr < U32_MAX &&
	    last->pfn + last->nr == pfn &&
	    last->addr + (unsigned long)last->nr * PAGE_SIZE == addr) {
		last->nr++;
		keep.frames++;
		return 0;
	}
	err = keep_grow(1);
	if (err)
		return err;
	keep.runs[keep.nr++] = (struct keep_run) {
		.pfn = pfn, .addr = addr, .nr = 1, .owner = owner, .huge = huge,
	};
	keep.frames++;
	return 0;
}

/* Copies @page to a frame out of the image's way; the new page or NULL. */
static struct page *move_clear(struct page *page)
{
	struct page *to = alloc_clear_of_image(GFP_HIGHUSER);

	if (to)
		copy_highpage(to, page);
	return to;
}

/*
 * Copies the huge page in @pages (PMD_PAGES of them, held) whole to
 * contiguous aligned frames out of the image's way, which replace them
 * in @pages, so that it can be a huge page again after the jump; false
 * if no such frames were free (the image is a few dozen PMDs: at most
 * MOVE_TRIES_HUGE are held aside).
 */
static bool move_clear_huge(struct page **pages)
{
	struct page *to = NULL, *p, *tmp;
	LIST_HEAD(aside);
	int n, i;

	for (n = 0; n < MOVE_TRIES_HUGE; n++) {
		to = alloc_pages(GFP_HIGHUSER | __GFP_NOWARN | __GFP_NORETRY,
				 PMD_ORDER);
		if (!to || !in_image_way(page_to_pfn(to), PMD_PAGES))
			break;
		list_add(&to->lru, &aside);
		to = NULL;
	}
	list_for_each_entry_safe(p, tmp, &aside, lru) {
		list_del(&p->lru);
		__free_pages(p, PMD_ORDER);
	}
	if (!to)
		return false;
	/* PMD_PAGES pages held one by one, as the ones they replace. */
	split_page(to, PMD_ORDER);
	for (i = 0; i < PMD_PAGES; i++) {
		copy_highpage(to + i, pages[i]);
		put_page(pages[i]);
		pages[i] = to + i;
	}
	return true;
}

/* Private anonymous memory: its pages are taken, or counted as left. */
static bool walked(struct vm_area_struct *vma)
{
	/* A PROT_NONE reservation holds no pages: not walked page by page. */
	return vma_is_anonymous(vma) && !(vma->vm_flags & VM_SHARED) &&
	       (vma->vm_flags & (VM_READ | VM_WRITE)) && !userfaultfd_armed(vma);
}

/*
 * Only memory the process can write is taken.  CRIU reads some of the
 * rest back while it restores, before the frames are given back: the
 * old kernel's vDSO, which a restore on another kernel keeps as a
 * read-only anonymous mapping (CRIU's vDSO proxy) and the next restore
 * parses again.  The checkpoint copies what is left.
 */
static bool takeable(struct vm_area_struct *vma)
{
	return vma->vm_flags & VM_WRITE;
}

/*
 * Whether only this mapping may write @page.  A transparent huge page
 * mapped by its PMD keeps the flag on its head; one mapped by PTEs, on
 * each page.
 */
static bool anon_exclusive(struct page *page)
{
	if (PageTransCompound(page) && folio_entire_mapcount(page_folio(page)))
		return PageAnonExclusive(compound_head(page));
	return PageAnonExclusive(page);
}

/* Whether @page is part of a huge page this (only) mapping maps by a PMD. */
static bool pmd_mapped(struct page *page)
{
	struct folio *folio = page_folio(page);

	return folio_test_pmd_mappable(folio) && folio_entire_mapcount(folio);
}

/* Whether @page is this process's alone, to take. */
static bool page_takeable(struct page *page)
{
	return PageAnon(page) && !PageKsm(page) && anon_exclusive(page) &&
	       !PageSwapCache(page) && page_mapcount(page) == 1 &&
	       !page_maybe_dma_pinned(page);
}

/*
 * Whether @page, mapped by this process alone, is not flagged exclusive
 * anyway.  CRIU's restore maps a process's memory before it forks the
 * children, which then unmap what is not theirs: the pages are the
 * process's alone again, but no longer flagged, and would all be left.
 */
static bool must_unshare(struct page *page)
{
	return PageAnon(page) && !PageKsm(page) && !PageSwapCache(page) &&
	       !anon_exclusive(page) && page_mapcount(page) == 1 &&
	       !page_maybe_dma_pinned(page);
}

/*
 * Unshares the pages of the batch (@pages, @n of them from @addr) that
 * must_unshare(), as a write fault would (FAULT_FLAG_UNSHARE): a page
 * nothing else holds is flagged exclusive, in place; one that something
 * holds (a huge page mapped by PTEs: its other pages) is copied to a
 * page of its own.  Those it faulted are in @must, their pages in @old.
 * Returns whether it faulted any: the batch's references are dropped
 * then, and its pages must be looked up again.
 */
static bool unshare_batch(struct vm_area_struct *vma, unsigned long addr,
			  struct page **pages, long n, unsigned long *must,
			  struct page **old)
{
	struct page *head = NULL;
	long i, nr = 0;

	bitmap_zero(must, TAKE_BATCH);
	for (i = 0; takeable(vma) && i < n; i++) {
		if (must_unshare(pages[i])) {
			__set_bit(i, must);
			old[i] = pages[i];
			nr++;
		}
	}
	if (!nr)
		return false;
	/* Unshared in place only when the mapping's is its one reference. */
	for (i = 0; i < n; i++)
		put_page(pages[i]);
	for_each_set_bit(i, must, n) {
		/* A huge page its PMD maps is unshared whole, by one fault. */
		if (PageTransCompound(old[i]) && compound_head(old[i]) == head)
			continue;
		head = folio_entire_mapcount(page_folio(old[i])) ?
		       compound_head(old[i]) : NULL;
		handle_mm_fault(vma, addr + i * PAGE_SIZE,
				FAULT_FLAG_UNSHARE | FAULT_FLAG_REMOTE, NULL);
	}
	return true;
}

/*
 * Takes the pages of [addr, addr + n pages) of @vma that GUP returned in
 * @pages, if @vma is takeable; zaps each run of taken ones.  Returns 0
 * or -errno; counts.  The batch never crosses a PMD boundary: a huge page mapped by the PMD
 * is all of it.
 */
static int take_batch(struct vm_area_struct *vma, unsigned long addr,
		      struct page **pages, long n, u32 owner,
		      struct nvwa_keep_take *t)
{
	unsigned long run = 0;	/* pages in the run of taken ones before i */
	bool may = takeable(vma);
	bool huge = n == PMD_PAGES && pmd_mapped(pages[0]);
	bool whole = false;	/* the huge page moved out of the image's way */
	long i;
	int err = 0;

	/* Moved whole, a huge page stays one. */
	if (may && huge && page_takeable(pages[0]) &&
	    in_image_way(page_to_pfn(pages[0]), PMD_PAGES) &&
	    move_clear_huge(pages)) {
		whole = true;
		t->moved += PMD_PAGES;
	}
	for (i = 0; i <= n; i++) {
		struct page *page = i < n ? pages[i] : NULL;
		bool take = page && !err && may &&
			    (whole || page_takeable(page));

		if (take && !whole && in_image_way(page_to_pfn(page), 1)) {
			struct page *to = move_clear(page);

			if (to) {
				put_page(page);
				page = to;
				t->moved++;
				huge = false;	/* the rest go as small pages */
			} else {
				take = false;
			}
		}
		if (take)
			err = keep_add(page, addr + i * PAGE_SIZE, owner, huge);
		if (take && !err) {
			run++;
			t->pages++;
			t->huge += huge;
			continue;
		}
		if (page) {
			put_page(page);
			t->left++;
		}
		if (run)
			zap_page_range(vma, addr + (i - run) * PAGE_SIZE,
				       run * PAGE_SIZE);
		run = 0;
	}
	return err;
}

/*
 * The first address from @addr on, below @end, whose PMD entry is not
 * empty: empty tables above are skipped whole, so that a sparse mapping
 * (a heap reserved large and touched in places) costs only its
 * populated part.  A hint read without the page table locks, with the
 * mmap_lock held: GUP decides what is there.
 */
static unsigned long next_mapped(struct mm_struct *mm, unsigned long addr,
				 unsigned long end)
{
	while (addr < end) {
		pgd_t *pgd = pgd_offset(mm, addr);
		p4d_t *p4d;
		pud_t *pud;

		if (pgd_none(READ_ONCE(*pgd))) {
			addr = pgd_addr_end(addr, end);
			continue;
		}
		p4d = p4d_offset(pgd, addr);
		if (p4d_none(READ_ONCE(*p4d))) {
			addr = p4d_addr_end(addr, end);
			continue;
		}
		pud = pud_offset(p4d, addr);
		if (pud_none(READ_ONCE(*pud))) {
			addr = pud_addr_end(addr, end);
			continue;
		}
		if (!pmd_none(READ_ONCE(*pmd_offset(pud, addr))))
			return addr;
		addr = pmd_addr_end(addr, end);
	}
	return end;
}

/* Every thread of @task stopped (SIGSTOP) or traced (CRIU's seizure). */
static bool all_stopped(struct task_struct *task)
{
	struct task_struct *t;
	bool stopped = true;

	rcu_read_lock();
	for_each_thread(task, t)
		stopped &= task_is_stopped_or_traced(t);
	rcu_read_unlock();
	return stopped;
}

static int keep_take(struct nvwa_keep_take *t)
{
	DECLARE_BITMAP(must, TAKE_BATCH);
	struct page **pages, **old;
	struct task_struct *task;
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	struct pid *pid;
	int err = 0;

	pid = find_get_pid(t->pid);
	task = pid ? get_pid_task(pid, PIDTYPE_PID) : NULL;
	if (!task) {
		put_pid(pid);
		return -ESRCH;
	}
	/* Its pages leave it: it must not run until they are back. */
	err = all_stopped(task) ? 0 : -EBUSY;
	mm = err ? NULL : get_task_mm(task);
	put_task_struct(task);
	if (!err && !mm)
		err = -EINVAL;
	/* The owner is this very process, even if its number is reused. */
	if (!err)
		err = xa_insert(&keep.owners, t->pid, pid, GFP_KERNEL);
	if (err == -EBUSY && mm)
		err = 0;	/* taken before: the same process */
	else if (!err)
		pid = NULL;	/* the xarray holds the reference */
	put_pid(pid);
	if (err) {
		if (mm)
			mmput(mm);
		return err;
	}
	/* The batch's pages, and those before an unshare. */
	pages = kvmalloc_array(2 * TAKE_BATCH, sizeof(*pages), GFP_KERNEL);
	if (!pages) {
		mmput(mm);
		return -ENOMEM;
	}
	old = pages + TAKE_BATCH;
	bitmap_zero(must, TAKE_BATCH);
	t->pages = 0;
	t->left = 0;
	t->moved = 0;
	t->huge = 0;
	mmap_read_lock(mm);
	{
		VMA_ITERATOR(vmi, mm, 0);

		for_each_vma(vmi, vma) {
			unsigned long addr = vma->vm_start, i;
			bool unshared = false;

			if (!walked(vma))
				continue;
			while (!err && addr < vma->vm_end) {
				unsigned long end;
				long n;

				if (fatal_signal_pending(current)) {
					err = -EINTR;
					break;
				}
				addr = next_mapped(mm, addr, vma->vm_end);
				if (addr == vma->vm_end)
					break;
				/*
				 * Up to the next PMD boundary: a huge page
				 * mapped there is taken whole, so its PMD
				 * is zapped whole, not split.
				 */
				end = min(vma->vm_end, ALIGN(addr + 1, PMD_SIZE));
				n = (end - addr) >> PAGE_SHIFT;
				/*
				 * FOLL_DUMP: a hole is -EFAULT rather than a
				 * page allocated; a page out in swap is read
				 * back in.
				 */
				n = get_user_pages_remote(mm, addr, n, FOLL_DUMP,
							  pages, NULL, NULL);
				if (n == -EFAULT) {
					addr += PAGE_SIZE;
					unshared = false;
					continue;
				}
				if (n <= 0) {
					err = n ? n : -EFAULT;
					break;
				}
				if (!unshared &&
				    unshare_batch(vma, addr, pages, n, must, old)) {
					unshared = true;
					continue;	/* looked up again */
				}
				/* A page unshared by a copy is a new page. */
				for_each_set_bit(i, must, unshared ? n : 0)
					t->moved += pages[i] != old[i];
				unshared = false;
				err = take_batch(vma, addr, pages, n, t->pid, t);
				addr += n * PAGE_SIZE;
			}
			if (err)
				break;
		}
	}
	mmap_read_unlock(mm);
	mmput(mm);
	kvfree(pages);
	return err;
}

/* Writes every taken page back at its address (a copy) and drops it. */
static void keep_put_back(void)
{
	struct task_struct *task = NULL;
	unsigned long i, f, lost = 0;
	struct pid *pid;
	u32 owner = 0;

	for (i = 0; i < keep.nr; i++) {
		struct keep_run *r = &keep.runs[i];

		if (r->held)
			continue;	/* the checkpoints' frames stay held */
		if (r->owner && (!task || owner != r->owner)) {
			if (task)
				put_task_struct(task);
			pid = xa_load(&keep.owners, r->owner);
			task = pid ? get_pid_task(pid, PIDTYPE_PID) : NULL;
			owner = r->owner;
		}
		for (f = 0; f < r->nr; f++) {
			struct page *page = pfn_to_page(r->pfn + f);

			if (r->owner &&
			    (!task || access_process_vm(task, r->addr + f * PAGE_SIZE,
							page_address(page), PAGE_SIZE,
							FOLL_FORCE | FOLL_WRITE) != PAGE_SIZE))
				lost++;
			put_page(page);
		}
	}
	if (task)
		put_task_struct(task);
	if (lost)
		pr_err("%lu pages could not be written back (their process is gone?)\n",
		       lost);
	kvfree(keep.runs);
	keep.runs = NULL;
	keep.nr = 0;
	keep.cap = 0;
	keep.frames = 0;
	xa_for_each(&keep.owners, i, pid)
		put_pid(pid);
	xa_destroy(&keep.owners);
}

static void keep_reset(void)
{
	unsigned long i;

	/* A list given up must never read as one again. */
	if (keep.head)
		memset(page_address(keep.head), 0, sizeof(struct nvwa_keep_head));
	for (i = 0; i < keep.nr_list; i++)
		memset(page_address(keep.list[i]), 0, sizeof(struct nvwa_keep_page));
	keep_put_back();
	/* The list pages are entries (owner 0) once sealed: put above. */
	if (keep.state != NVWA_KEEP_SEALED) {
		for (i = 0; i < keep.nr_list; i++)
			__free_page(keep.list[i]);
		if (keep.head)
			__free_page(keep.head);
	}
	kvfree(keep.list);
	keep.list = NULL;
	keep.nr_list = 0;
	keep.head = NULL;
	keep.state = NVWA_KEEP_IDLE;
}

static int found(struct resource *res, void *arg)
{
	return 1;
}

/*
 * Memory a driver added after boot (virtio-mem, dax kmem) is not in the
 * firmware's map the next kernel boots with: it would refuse the whole
 * list.  Frames there are not handed over; the update stops first.
 */
static bool driver_managed(unsigned long pfn, unsigned long nr)
{
	return walk_iomem_res_desc(IORES_DESC_NONE,
				   IORESOURCE_SYSTEM_RAM | IORESOURCE_SYSRAM_DRIVER_MANAGED,
				   PFN_PHYS(pfn), PFN_PHYS(pfn + nr) - 1, NULL, found) == 1;
}

/* Checkpoints' kept frames: the held table. */

static bool held_owns(const struct nvwa_keep_run *r, u32 owner)
{
	return r->owner == owner;
}

/* Whether a run before @end is @owner's: owners counted once. */
static bool held_frames_of_before(u32 owner, unsigned long end)
{
	unsigned long i;

	for (i = 0; i < end; i++)
		if (held_owns(&keep.held[i], owner))
			return true;
	return false;
}

static unsigned long held_frames_of(u32 owner)
{
	unsigned long i, n = 0;

	for (i = 0; i < keep.nr_held; i++)
		if (held_owns(&keep.held[i], owner))
			n += keep.held[i].nr;
	return n;
}

/* Room for @more held runs, so that adding them cannot fail. */
static int held_grow(unsigned long more)
{
	return grow((void **)&keep.held, &keep.cap_held, keep.nr_held, more, sizeof(*keep.held),
		    64);
}

/* The room keep_hold() made for the worst case, given back. */
static void held_shrink(void)
{
	unsigned long cap = keep.nr_held + 64;
	struct nvwa_keep_run *r;

	if (keep.cap_held <= 2 * cap)
		return;
	r = kvmalloc_array(cap, sizeof(*r), GFP_KERNEL);
	if (!r)
		return;
	memcpy(r, keep.held, keep.nr_held * sizeof(*r));
	kvfree(keep.held);
	keep.held = r;
	keep.cap_held = cap;
}

/* While any frame is held, the module that knows them must stay. */
static void held_pin(void)
{
	if (keep.nr_held && !keep.pinned) {
		__module_get(THIS_MODULE);
		keep.pinned = true;
	} else if (!keep.nr_held && keep.pinned) {
		module_put(THIS_MODULE);
		keep.pinned = false;
	}
}

/* Adds @nr held frames from @pfn (room made): to the last run if they go on it. */
static void held_add(unsigned long pfn, u64 addr, unsigned long nr, u32 owner)
{
	struct nvwa_keep_run *last = keep.nr_held ? &keep.held[keep.nr_held - 1] : NULL;

	if (last && last->owner == owner &&
	    (last->addr & ~PAGE_MASK) == (addr & ~PAGE_MASK) &&
	    last->pfn + last->nr == pfn && (u64)last->nr + nr <= U32_MAX &&
	    (last->addr & PAGE_MASK) + (u64)last->nr * PAGE_SIZE == (addr & PAGE_MASK)) {
		last->nr += nr;
	} else {
		keep.held[keep.nr_held++] = (struct nvwa_keep_run) {
			.pfn = pfn, .addr = addr, .nr = nr, .owner = owner,
		};
	}
	keep.held_frames += nr;
}

/*
 * Gives @owner's held frames that are still kept back to the page
 * allocator and forgets its runs.  Returns the frames freed.
 */
static u64 held_drop(u32 owner)
{
	unsigned long i, f, n = 0;
	u64 freed = 0;

	for (i = 0; i < keep.nr_held; i++) {
		struct nvwa_keep_run *r = &keep.held[i];

		if (!held_owns(r, owner)) {
			keep.held[n++] = *r;
			continue;
		}
		for (f = 0; f < r->nr; f++)
			freed += !nvwa_keep_free(r->pfn + f);
		keep.held_frames -= r->nr;
	}
	keep.nr_held = n;
	held_pin();
	return freed;
}

/*
 * Writes @n pages from @pfn back at @addr of @task (copies, as ABORT
 * does) and drops the references to them.  Returns those not written.
 */
static unsigned long write_back(struct task_struct *task, unsigned long pfn,
				unsigned long addr, unsigned long n)
{
	unsigned long f, lost = 0;

	for (f = 0; f < n; f++) {
		struct page *page = pfn_to_page(pfn + f);

		if (!task || access_process_vm(task, addr + f * PAGE_SIZE,
					       page_address(page), PAGE_SIZE,
					       FOLL_FORCE | FOLL_WRITE) != PAGE_SIZE)
			lost++;
		put_page(page);
	}
	return lost;
}

/*
 * Makes the pages of the taken run @r held frames.  A page something else
 * still holds (nvwa_keep_hold() refuses) goes back into the process, a
 * copy, and the checkpoint copies it as any page left.
 */
static void hold_run(const struct keep_run *r, struct task_struct *task,
		     struct nvwa_keep_take *t, unsigned long *lost, bool *drained)
{
	unsigned long f = 0, n;

	while (f < r->nr) {
		struct page *page = pfn_to_page(r->pfn + f);
		bool huge = r->huge && PageHead(page) &&
			    compound_nr(page) == PMD_PAGES && r->nr - f >= PMD_PAGES;
		int err = 0;

		n = huge ? PMD_PAGES : 1;
		/*
		 * Held for long, a frame must not be where memory has to
		 * stay movable (CMA, ZONE_MOVABLE) or that the next kernel
		 * does not boot with (a driver added it): copied instead.
		 */
		if (!is_longterm_pinnable_page(page) || driver_managed(r->pfn + f, n))
			err = -EXDEV;
		if (!err)
			err = nvwa_keep_hold(page, n, drained);
		if (!err) {
			held_add(r->pfn + f, (r->addr + f * PAGE_SIZE) |
				 (r->huge ? NVWA_KEEP_RUN_HUGE : 0) | NVWA_KEEP_RUN_HELD,
				 n, r->owner);
		} else {
			*lost += write_back(task, r->pfn + f, r->addr + f * PAGE_SIZE, n);
			t->pages -= n;
			t->left += n;
			t->huge -= r->huge ? n : 0;
		}
		f += n;
	}
}

/*
 * HOLD: a checkpoint's TAKE.  The stopped process's private anonymous
 * pages leave its page tables as for an update, then become held frames
 * (nvwa_keep_hold()) of the checkpoint, kept in this kernel and listed
 * for the next until GIVE puts them into the restored process, or DROP
 * frees them.
 */
static int keep_hold(struct nvwa_keep_take *t)
{
	struct task_struct *task;
	unsigned long i, lost = 0;
	bool drained = false;
	struct pid *pid;
	int err;

	if (held_frames_of(t->pid))
		return -EEXIST;
	err = keep_take(t);
	/* At worst a run for every frame. */
	if (!err)
		err = held_grow(keep.frames);
	if (err) {
		keep_put_back();
		return err;
	}
	pid = xa_load(&keep.owners, t->pid);
	task = pid ? get_pid_task(pid, PIDTYPE_PID) : NULL;
	for (i = 0; i < keep.nr; i++)
		hold_run(&keep.runs[i], task, t, &lost, &drained);
	if (task)
		put_task_struct(task);
	if (lost)
		pr_err("%d: %lu pages could not be written back\n", t->pid, lost);
	/* Every page is held or given back: nothing left to put back. */
	keep.nr = 0;
	keep_put_back();
	held_shrink();
	held_pin();
	return 0;
}

static int cmp_pfn(const void *a, const void *b)
{
	const struct keep_run *x = a, *y = b;

	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

/* Whether run @b goes on right after @a: the same frames' order, owner, addresses. */
static bool runs_join(const struct keep_run *a, const struct keep_run *b)
{
	return a->owner && a->owner == b->owner && a->huge == b->huge &&
	       a->held == b->held && a->pfn + a->nr == b->pfn &&
	       a->addr + (unsigned long)a->nr * PAGE_SIZE == b->addr &&
	       (u64)a->nr + b->nr <= U32_MAX;
}

/* Sorted runs: how many the list will hold, and extents (contiguous frames). */
static void count_runs(unsigned long *ret_runs, unsigned long *ret_extents)
{
	unsigned long i, runs = 0, extents = 0;

	for (i = 0; i < keep.nr; i++) {
		struct keep_run *r = &keep.runs[i], *q = r - 1;

		extents += !i || q->pfn + q->nr != r->pfn;
		runs += !i || !runs_join(q, r);
	}
	*ret_runs = runs;
	*ret_extents = extents;
}

static void write_list(struct nvwa_keep_head *h)
{
	struct nvwa_keep_page *lp = NULL;
	struct nvwa_keep_run *out = NULL;
	unsigned long i, l = 0;

	for (i = 0; i < keep.nr; i++) {
		struct keep_run *r = &keep.runs[i], *q = r - 1;

		h->nr_extents += !i || q->pfn + q->nr != r->pfn;
		if (out && runs_join(q, r)) {
			out->nr += r->nr;
			continue;
		}
		if (!lp || lp->nr_runs == NVWA_KEEP_RUNS_PER_PAGE) {
			struct nvwa_keep_page *next = page_address(keep.list[l++]);

			memset(next, 0, PAGE_SIZE);
			next->magic = NVWA_KEEP_LIST_MAGIC;
			if (lp)
				lp->next = virt_to_phys(next);
			else
				h->first = virt_to_phys(next);
			lp = next;
		}
		out = &lp->run[lp->nr_runs++];
		*out = (struct nvwa_keep_run) { .pfn = r->pfn, .nr = r->nr,
			.addr = r->addr | (r->huge ? NVWA_KEEP_RUN_HUGE : 0) |
				(r->held ? NVWA_KEEP_RUN_HELD : 0),
			.owner = r->owner };
		h->nr_runs++;
	}
	h->nr_list_pages = l;
	for (i = 0; i < l; i++) {
		lp = page_address(keep.list[i]);
		lp->crc = keep_crc(lp, PAGE_SIZE,
				   offsetof(struct nvwa_keep_page, crc));
	}
}

/*
 * Pages of runs that lie where the loaded image lands (it was loaded
 * again after they were taken) are copied out of its way; the runs are
 * built anew.  Room is made first, so that no page is ever let go of.
 */
static int keep_move_clear(struct nvwa_keep_seal *s)
{
	struct keep_run *old = keep.runs;
	unsigned long n = keep.nr, i, f, in_way = 0;
	struct page *page, *to;
	int err = 0;

	for (i = 0; i < n; i++)
		in_way += frames_in_image_way(old[i].pfn, old[i].nr);
	if (!in_way)
		return 0;
	keep.runs = NULL;
	keep.nr = 0;
	keep.cap = 0;
	keep.frames = 0;
	if (keep_grow(n + 2 * in_way)) {
		keep.runs = old;
		keep.nr = n;
		keep.cap = n;
		for (i = 0; i < n; i++)
			keep.frames += old[i].nr;
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		for (f = 0; f < old[i].nr; f++) {
			page = pfn_to_page(old[i].pfn + f);
			to = in_image_way(old[i].pfn + f, 1) ? move_clear(page) : NULL;
			if (to) {
				put_page(page);
				page = to;
				s->moved++;
			} else if (in_image_way(old[i].pfn + f, 1)) {
				err = -ENOMEM;
			}
			keep_add(page, old[i].addr + f * PAGE_SIZE, old[i].owner,
				 old[i].huge && !to);
		}
	}
	kvfree(old);
	return err;
}

/* The head must survive the jump: not where the loaded kernel lands. */
static int keep_check(void)
{
	int r = kexec_image_overlaps(page_to_phys(keep.head),
				     page_to_phys(keep.head) + PAGE_SIZE);

	if (r == 1)
		return -EADDRINUSE;
	return r;	/* 0, -ENOENT (nothing loaded), -EBUSY */
}

static void free_list_pages(void)
{
	while (keep.nr_list)
		__free_page(keep.list[--keep.nr_list]);
	kvfree(keep.list);
	keep.list = NULL;
}

/*
 * Held frames that lie where the loaded image lands are copied to frames
 * out of its way, held in their place, and let go of; the table is built
 * anew, room made first.  -ENOMEM if a frame stays in the way.
 */
static int held_move_clear(struct nvwa_keep_seal *s)
{
	struct nvwa_keep_run *old = keep.held;
	unsigned long n = keep.nr_held, i, f, in_way = 0;
	bool drained = true;	/* frames of its own: nothing to drain */
	int err = 0;

	for (i = 0; i < n; i++)
		in_way += frames_in_image_way(old[i].pfn, old[i].nr);
	if (!in_way)
		return 0;
	keep.held = kvmalloc_array(n + 2 * in_way, sizeof(*keep.held), GFP_KERNEL);
	if (!keep.held) {
		keep.held = old;
		return -ENOMEM;
	}
	keep.cap_held = n + 2 * in_way;
	keep.nr_held = 0;
	keep.held_frames = 0;
	for (i = 0; i < n; i++) {
		for (f = 0; f < old[i].nr; f++) {
			unsigned long pfn = old[i].pfn + f;
			u64 addr = old[i].addr + f * PAGE_SIZE;
			struct page *to = NULL;

			if (PageHWPoison(pfn_to_page(pfn))) {
				/* Never read: the checkpoint is short of it. */
				pr_err("held frame %#lx is poisoned: lost\n", pfn);
				nvwa_keep_free(pfn);
				continue;
			}
			if (in_image_way(pfn, 1)) {
				to = alloc_clear_of_image(GFP_HIGHUSER);
				if (to) {
					copy_highpage(to, pfn_to_page(pfn));
					if (nvwa_keep_hold(to, 1, &drained)) {
						__free_page(to);
						to = NULL;
					}
				}
				if (!to)
					err = -ENOMEM;
			}
			if (to) {
				nvwa_keep_free(pfn);
				pfn = page_to_pfn(to);
				addr &= ~(u64)NVWA_KEEP_RUN_HUGE;
				s->moved++;
			}
			held_add(pfn, addr, 1, old[i].owner);
		}
	}
	kvfree(old);
	return err;
}

/* The held frames join the taken ones in the list (room made). */
static void merge_held(void)
{
	unsigned long i;

	for (i = 0; i < keep.nr_held; i++) {
		const struct nvwa_keep_run *h = &keep.held[i];

		keep.runs[keep.nr++] = (struct keep_run) {
			.pfn = h->pfn, .addr = h->addr & PAGE_MASK, .nr = h->nr,
			.owner = h->owner, .held = true,
			.huge = h->addr & NVWA_KEEP_RUN_HUGE,
		};
		keep.frames += h->nr;
	}
}

/* Undoes merge_held(): the taken runs alone again. */
static void unmerge_held(void)
{
	unsigned long i, n = 0;

	for (i = 0; i < keep.nr; i++) {
		if (keep.runs[i].held)
			keep.frames -= keep.runs[i].nr;
		else
			keep.runs[n++] = keep.runs[i];
	}
	keep.nr = n;
}

/*
 * Writes the list.  Everything that can fail is checked before the list
 * pages become entries; after that only writing is left, so a failed
 * seal can be tried again or aborted.
 */
static int keep_seal(struct nvwa_keep_seal *s)
{
	struct nvwa_keep_head *h = page_address(keep.head);
	unsigned long i, runs, extents, need;
	int err;

	memset(s, 0, sizeof(*s));
	err = keep_check();
	if (err)
		return err;
	/* The image may have been loaded again since the pages were taken. */
	err = keep_move_clear(s);
	if (!err)
		err = held_move_clear(s);
	if (!err)
		err = keep_grow(keep.nr_held);
	if (err)
		return err;
	merge_held();
	err = -ENODATA;
	if (!keep.nr)
		goto unmerge;
	sort(keep.runs, keep.nr, sizeof(*keep.runs), cmp_pfn, NULL);
	err = -EINVAL;
	for (i = 1; i < keep.nr; i++)
		if (keep.runs[i].pfn < keep.runs[i - 1].pfn + keep.runs[i - 1].nr) {
			pr_err("frame %#lx taken twice\n", keep.runs[i].pfn);
			goto unmerge;
		}
	err = -EXDEV;
	for (i = 0; i < keep.nr; i++)
		if (driver_managed(keep.runs[i].pfn, keep.runs[i].nr)) {
			pr_err("frames from %#lx lie in memory a driver added (virtio-mem, dax kmem), which the next kernel does not boot with\n",
			       keep.runs[i].pfn);
			goto unmerge;
		}
	/* The list's own pages: at most one run and one extent each more. */
	count_runs(&runs, &extents);
	need = DIV_ROUND_UP(runs + 1, NVWA_KEEP_RUNS_PER_PAGE);
	while (DIV_ROUND_UP(runs + need + 1, NVWA_KEEP_RUNS_PER_PAGE) > need)
		need++;
	err = -E2BIG;
	if (need > NVWA_KEEP_MAX_LIST_PAGES ||
	    extents + need + 1 > NVWA_KEEP_MAX_EXTENTS) {
		pr_err("%lu frames in %lu runs, %lu extents: more than the next kernel can reserve at boot (%d extents, %d list pages)\n",
		       keep.frames, runs, extents, NVWA_KEEP_MAX_EXTENTS,
		       NVWA_KEEP_MAX_LIST_PAGES);
		goto unmerge;
	}
	/* The next kernel boots in what the kept frames leave. */
	if (keep.frames + need + 1 + max(totalram_pages() / 8, SZ_256M >> PAGE_SHIFT) >
	    totalram_pages()) {
		pr_err("%lu frames would leave the next kernel too little memory to boot\n",
		       keep.frames);
		goto unmerge;
	}
	keep.list = kvcalloc(need, sizeof(*keep.list), GFP_KERNEL);
	err = keep.list ? keep_grow(need + 1) : -ENOMEM;
	while (!err && keep.nr_list < need) {
		keep.list[keep.nr_list] = alloc_clear_of_image(GFP_KERNEL);
		if (keep.list[keep.nr_list])
			keep.nr_list++;
		else
			err = -ENOMEM;
	}
	if (err) {
		free_list_pages();
		goto unmerge;
	}
	/* From here the head and the list are entries too (owner 0). */
	keep_add(keep.head, 0, 0, false);
	for (i = 0; i < keep.nr_list; i++)
		keep_add(keep.list[i], 0, 0, false);
	sort(keep.runs, keep.nr, sizeof(*keep.runs), cmp_pfn, NULL);
	memset(h, 0, PAGE_SIZE);
	h->magic = NVWA_KEEP_MAGIC;
	h->version = NVWA_KEEP_VERSION;
	h->nr_frames = keep.frames;
	write_list(h);
	h->crc = keep_crc(h, sizeof(*h), offsetof(struct nvwa_keep_head, crc));
	keep.state = NVWA_KEEP_SEALED;
	s->frames = keep.frames;
	s->runs = h->nr_runs;
	s->extents = h->nr_extents;
	s->list_pages = keep.nr_list;
	return 0;

unmerge:
	unmerge_held();
	return err;
}

/* Whether frame @f of @r starts a PMD's worth of it, in memory and in its mapping. */
static bool whole_pmd(const struct nvwa_keep_run *r, unsigned long f)
{
	return IS_ALIGNED(r->pfn + f, PMD_PAGES) &&
	       IS_ALIGNED((r->addr & PAGE_MASK) + f * PAGE_SIZE, PMD_SIZE) &&
	       r->nr - f >= PMD_PAGES;
}

/*
 * The frames of @g->owner into @g->pid's memory: a checkpoint's held
 * frames (HOLD, in this kernel or handed over), else those this boot was
 * handed for an update.  A checkpoint's frames are spent after it: those
 * that did not go in are freed with its runs.
 */
static int keep_give(struct nvwa_keep_give *g)
{
	const struct nvwa_keep_run *runs;
	unsigned long nr, r, f, *fallback = NULL, nr_fb = 0, cap = 0;
	bool held;
	struct task_struct *task;
	struct mm_struct *mm;
	struct pid *pid;
	int err = 0;

	memset(&g->installed, 0, offsetof(struct nvwa_keep_give, checkpoint) -
	       offsetof(struct nvwa_keep_give, installed));
	held = g->checkpoint;
	if (held) {
		/* Listed by a seal, they must stay as they are until the jump. */
		if (keep.state != NVWA_KEEP_IDLE)
			return -EBUSY;
		runs = held_frames_of(g->owner) ? keep.held : NULL;
		nr = keep.nr_held;
	} else {
		runs = nvwa_keep_runs(&nr);
	}
	if (!runs)
		return -ENODATA;
	pid = find_get_pid(g->pid);
	task = pid ? get_pid_task(pid, PIDTYPE_PID) : NULL;
	put_pid(pid);
	if (!task)
		return -ESRCH;
	mm = get_task_mm(task);
	if (!mm) {
		put_task_struct(task);
		return -EINVAL;
	}
	/* For writing: nothing may map pages where kept ones go meanwhile. */
	mmap_write_lock(mm);
	for (r = 0; r < nr && !err; r++) {
		bool huge = runs[r].addr & NVWA_KEEP_RUN_HUGE;

		if (runs[r].owner != g->owner ||
		    held != !!(runs[r].addr & NVWA_KEEP_RUN_HELD))
			continue;
		for (f = 0; f < runs[r].nr; f++) {
			unsigned long addr = (runs[r].addr & PAGE_MASK) + f * PAGE_SIZE;
			struct vm_area_struct *vma = vma_lookup(mm, addr);
			int e;

			/*
			 * A huge page before the jump is one again where
			 * the mapping can take it; else its frames go back
			 * one by one.
			 */
			if (huge && vma && whole_pmd(&runs[r], f) &&
			    !nvwa_keep_install_huge(vma, addr, runs[r].pfn + f)) {
				g->installed += PMD_PAGES;
				g->huge += PMD_PAGES;
				f += PMD_PAGES - 1;
				continue;
			}
			e = vma ? nvwa_keep_install(vma, addr, runs[r].pfn + f) : -EFAULT;

			/*
			 * Mapped since the restore: nothing but the kernel
			 * writes a stopped process's memory, into the rseq
			 * area of a TLS page, and it writes those fields
			 * again before the process runs.  The frame is the
			 * process's page; the one there goes.
			 */
			if (e == -EEXIST) {
				zap_page_range(vma, addr, PAGE_SIZE);
				e = nvwa_keep_install(vma, addr, runs[r].pfn + f);
				g->replaced += !e;
			}
			if (!e) {
				g->installed++;
				continue;
			}
			if (e == -ENOENT)	/* not kept (any more) */
				continue;
			if (e == -EHWPOISON) {	/* never mapped, nor read */
				pr_err("%d: %#lx: its frame is poisoned: lost\n", g->pid, addr);
				nvwa_keep_free(runs[r].pfn + f);
				g->failed++;
				continue;
			}
			pr_info_ratelimited("%d: %#lx %s: copied there\n", g->pid, addr,
					    e == -EEXIST ? "is mapped already" :
					    vma ? "cannot take a page" : "has no mapping");
			if (nr_fb == cap) {
				unsigned long *n;

				cap = max(2 * cap, 64UL);
				n = kvrealloc(fallback, nr_fb * 2 * sizeof(*n),
					      cap * 2 * sizeof(*n), GFP_KERNEL);
				if (!n) {
					err = -ENOMEM;
					break;
				}
				fallback = n;
			}
			fallback[2 * nr_fb] = runs[r].pfn + f;
			fallback[2 * nr_fb + 1] = addr;
			nr_fb++;
		}
	}
	mmap_write_unlock(mm);
	/* Taken addresses get a copy; the frame goes back. */
	for (f = 0; f < nr_fb; f++) {
		void *src = __va(PFN_PHYS(fallback[2 * f]));

		if (access_process_vm(task, fallback[2 * f + 1], src, PAGE_SIZE,
				      FOLL_FORCE | FOLL_WRITE) == PAGE_SIZE) {
			g->copied++;
			nvwa_keep_free(fallback[2 * f]);
		} else {
			g->failed++;
		}
	}
	kvfree(fallback);
	mmput(mm);
	put_task_struct(task);
	/* Spent, even in part: what did not go in is counted failed. */
	if (held) {
		held_drop(g->owner);
	} else {
		keep.installed += g->installed;
		keep.copied += g->copied;
	}
	return err;
}

static u64 keep_release(void)
{
	const struct nvwa_keep_run *runs;
	unsigned long nr, r, f;
	u64 freed = 0;

	runs = nvwa_keep_runs(&nr);
	for (r = 0; r < nr; r++)
		for (f = 0; !(runs[r].addr & NVWA_KEEP_RUN_HELD) && f < runs[r].nr; f++)
			freed += !nvwa_keep_free(runs[r].pfn + f);
	keep.released += freed;
	return freed;
}

/*
 * Frames kept for @o->owner: a checkpoint's held ones, or those the list
 * this boot read names for an update's application, given or not.
 */
static void keep_owned(struct nvwa_keep_owned *o)
{
	const struct nvwa_keep_run *runs;
	unsigned long nr, r;

	o->frames = 0;
	if (o->checkpoint) {
		o->frames = o->owner ? held_frames_of(o->owner) : 0;
		return;
	}
	runs = nvwa_keep_runs(&nr);
	for (r = 0; r < nr; r++)
		if (o->owner && runs[r].owner == o->owner &&
		    !(runs[r].addr & NVWA_KEEP_RUN_HELD))
			o->frames += runs[r].nr;
}

static void keep_status(struct nvwa_keep_status *st)
{
	const struct nvwa_keep_run *runs;
	unsigned long nr, r;
	u64 handed = 0;
	u32 owner = 0;

	memset(st, 0, sizeof(*st));
	st->state = keep.state;
	st->head = keep.head ? page_to_phys(keep.head) : 0;
	for (r = 0; r < keep.nr; r++) {
		if (keep.runs[r].owner && !keep.runs[r].held)
			st->taken += keep.runs[r].nr;
	}
	runs = nvwa_keep_runs(&nr);
	for (r = 0; r < nr; r++) {
		/* A checkpoint's frames are counted as held. */
		if (!runs[r].owner || (runs[r].addr & NVWA_KEEP_RUN_HELD))
			continue;
		handed += runs[r].nr;
		if (runs[r].owner != owner) {
			st->owners++;
			owner = runs[r].owner;
		}
	}
	if (st->state == NVWA_KEEP_IDLE && nr)
		st->state = NVWA_KEEP_HANDED;
	st->kept = handed - keep.installed - keep.copied - keep.released;
	st->held = keep.held_frames;
	for (r = 0, owner = 0; r < keep.nr_held; r++) {
		if (keep.held[r].owner != owner &&
		    !held_frames_of_before(keep.held[r].owner, r))
			st->held_owners++;
		owner = keep.held[r].owner;
	}
	st->installed = keep.installed;
	st->copied = keep.copied;
	st->released = keep.released;
}

static long keep_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	union {
		struct nvwa_keep_begin begin;
		struct nvwa_keep_take take;
		struct nvwa_keep_seal seal;
		struct nvwa_keep_give give;
		struct nvwa_keep_status status;
		struct nvwa_keep_owned owned;
		u64 freed;
	} u;
	long err = 0;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (_IOC_TYPE(cmd) != NVWA_KEEP_IOC_MAGIC || _IOC_SIZE(cmd) > sizeof(u))
		return -ENOTTY;
	if (_IOC_DIR(cmd) & _IOC_WRITE &&
	    copy_from_user(&u, uarg, _IOC_SIZE(cmd)))
		return -EFAULT;
	mutex_lock(&keep.lock);
	switch (cmd) {
	case NVWA_KEEP_IOC_BEGIN:
		if (keep.state != NVWA_KEEP_IDLE) {
			err = -EBUSY;
			break;
		}
		keep.head = alloc_clear_of_image(GFP_KERNEL);
		if (!keep.head) {
			err = -ENOMEM;
			break;
		}
		keep.state = NVWA_KEEP_TAKING;
		u.begin.head = page_to_phys(keep.head);
		break;
	case NVWA_KEEP_IOC_TAKE:
		if (keep.state != NVWA_KEEP_TAKING)
			err = -EINVAL;
		else
			err = keep_take(&u.take);
		break;
	case NVWA_KEEP_IOC_SEAL:
		if (keep.state != NVWA_KEEP_TAKING)
			err = -EINVAL;
		else
			err = keep_seal(&u.seal);
		break;
	case NVWA_KEEP_IOC_CHECK:
		err = keep.state == NVWA_KEEP_TAKING ? keep_check() : -EINVAL;
		break;
	case NVWA_KEEP_IOC_ABORT:
		keep_reset();
		break;
	case NVWA_KEEP_IOC_GIVE:
		err = keep_give(&u.give);
		break;
	case NVWA_KEEP_IOC_RELEASE:
		u.freed = keep_release();
		break;
	case NVWA_KEEP_IOC_STATUS:
		keep_status(&u.status);
		break;
	case NVWA_KEEP_IOC_OWNED:
		keep_owned(&u.owned);
		break;
	case NVWA_KEEP_IOC_HOLD:
		err = keep.state == NVWA_KEEP_IDLE ? keep_hold(&u.take) : -EBUSY;
		break;
	case NVWA_KEEP_IOC_DROP:
		if (keep.state != NVWA_KEEP_IDLE)
			err = -EBUSY;
		else if (!u.owned.owner || !held_frames_of(u.owned.owner))
			err = -ENOENT;
		else
			u.owned.frames = held_drop(u.owned.owner);
		break;
	default:
		err = -ENOTTY;
	}
	mutex_unlock(&keep.lock);
	if (err)
		return err;
	if (_IOC_DIR(cmd) & _IOC_READ &&
	    copy_to_user(uarg, &u, _IOC_SIZE(cmd)))
		return -EFAULT;
	return 0;
}

/*
 * Tests only: debugfs "damage" spoils a sealed list as a fault between
 * the seal and the next kernel's boot would, so that the next kernel's
 * own checks are what refuse it.  "head-magic" and "head-crc" change
 * the head's magic and checksum, "list-crc" the first list page's
 * checksum.  Only the pages' words change: an abort still gives every
 * page back.  Refused unless the test_damage parameter is set (nvwa's
 * fault build sets it through /sys/module/nvwa_keep/parameters).
 */
static bool test_damage;
module_param(test_damage, bool, 0600);
MODULE_PARM_DESC(test_damage, "let debugfs nvwa_keep/damage spoil a sealed list (tests only)");

static ssize_t damage_write(struct file *file, const char __user *ubuf,
			    size_t len, loff_t *pos)
{
	struct nvwa_keep_head *h;
	struct nvwa_keep_page *lp;
	char buf[16];
	ssize_t err = len;

	if (!test_damage)
		return -EPERM;
	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	mutex_lock(&keep.lock);
	if (keep.state != NVWA_KEEP_SEALED || !keep.nr_list) {
		err = -EINVAL;
		goto out;
	}
	h = page_address(keep.head);
	lp = page_address(keep.list[0]);
	if (sysfs_streq(buf, "head-magic"))
		h->magic = ~h->magic;
	else if (sysfs_streq(buf, "head-crc"))
		h->crc = ~h->crc;
	else if (sysfs_streq(buf, "list-crc"))
		lp->crc = ~lp->crc;
	else
		err = -EINVAL;
	if (err > 0)
		pr_warn("sealed list damaged (%s), for a test\n", strim(buf));
out:
	mutex_unlock(&keep.lock);
	return err;
}

static const struct file_operations damage_fops = {
	.owner = THIS_MODULE,
	.write = damage_write,
};

static struct dentry *keep_debugfs;

static const struct file_operations keep_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = keep_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice keep_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "nvwa-keep",
	.fops = &keep_fops,
	.mode = 0600,
};

/*
 * The checkpoints' frames this boot was handed are held again, for their
 * restores and the next kexec.  Once given, they are the restored
 * processes' pages: a second load would take them for kept ones, so the
 * module stays for the rest of the boot.
 */
static int __init keep_import(void)
{
	const struct nvwa_keep_run *runs;
	unsigned long nr, r, n = 0;
	int err;

	runs = nvwa_keep_runs(&nr);
	for (r = 0; r < nr; r++)
		n += !!(runs[r].addr & NVWA_KEEP_RUN_HELD);
	if (!n)
		return 0;
	err = held_grow(n);
	if (err)
		return err;
	for (r = 0; r < nr; r++)
		if (runs[r].addr & NVWA_KEEP_RUN_HELD)
			held_add(runs[r].pfn, runs[r].addr, runs[r].nr, runs[r].owner);
	__module_get(THIS_MODULE);
	pr_info("%lu frames of %lu checkpoint runs kept, waiting for their restore\n",
		keep.held_frames, n);
	return 0;
}

static int __init keep_init(void)
{
	int err = keep_import();

	if (err)
		return err;
	err = misc_register(&keep_dev);
	if (err) {
		kvfree(keep.held);
		if (keep.nr_held)
			module_put(THIS_MODULE);
		return err;
	}
	keep_debugfs = debugfs_create_dir("nvwa_keep", NULL);
	debugfs_create_file("damage", 0200, keep_debugfs, NULL, &damage_fops);
	return 0;
}

static void __exit keep_exit(void)
{
	debugfs_remove_recursive(keep_debugfs);
	misc_deregister(&keep_dev);
	mutex_lock(&keep.lock);
	keep_reset();
	mutex_unlock(&keep.lock);
	kvfree(keep.held);	/* empty: held frames keep the module */
}

module_init(keep_init);
module_exit(keep_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Anonymous pages handed over across kexec in place (nvwa kernel)");
