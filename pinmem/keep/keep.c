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
 * of its way first, and counted.  Pages shared with another process (after
 * fork), KSM pages and DMA-pinned pages stay mapped, and the checkpoint
 * copies them as before.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/crc32.h>
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
#include <linux/uaccess.h>
#include <linux/userfaultfd_k.h>
#include <linux/vmalloc.h>

#include "../uapi/nvwa_keep.h"

#define TAKE_BATCH	512	/* pages per get_user_pages_remote() */
#define MOVE_TRIES	16	/* frames tried for a page in the image's way */

struct keep_page {
	struct page *page;
	unsigned long pfn;
	unsigned long addr;
	u32 owner;
};

/* Before the jump: what is taken.  After it: what was handed over. */
static struct keep {
	struct mutex lock;
	u32 state;			/* enum nvwa_keep_state */
	struct page *head;
	struct keep_page *pages;
	unsigned long nr, cap;
	struct page **list;		/* list pages, at seal */
	unsigned long nr_list;
	u64 installed, copied, released;
} keep = { .lock = __MUTEX_INITIALIZER(keep.lock) };

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
	int r = kexec_image_overlaps(PFN_PHYS(pfn), PFN_PHYS(pfn + nr));

	/*
	 * -EBUSY: an image is being loaded; count it in the way.  -ENOENT:
	 * none is loaded yet (BEGIN comes first); seal checks again.
	 */
	return r == 1 || r == -EBUSY;
}

/* A frame of its own, out of the loaded image's way, or NULL. */
static struct page *alloc_clear_of_image(gfp_t gfp)
{
	struct page *tried[MOVE_TRIES], *page = NULL;
	int i, n = 0;

	while (n < MOVE_TRIES) {
		page = alloc_page(gfp);
		if (!page || !in_image_way(page_to_pfn(page), 1))
			break;
		tried[n++] = page;
		page = NULL;
	}
	for (i = 0; i < n; i++)
		__free_page(tried[i]);
	return page;
}

/* Room for @more entries, so that adding them cannot fail. */
static int keep_grow(unsigned long more)
{
	unsigned long cap = max(keep.cap, 4096UL);
	struct keep_page *p;

	if (keep.nr + more <= keep.cap)
		return 0;
	while (cap < keep.nr + more)
		cap *= 2;
	p = kvmalloc_array(cap, sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	if (keep.nr)
		memcpy(p, keep.pages, keep.nr * sizeof(*p));
	kvfree(keep.pages);
	keep.pages = p;
	keep.cap = cap;
	return 0;
}

static int keep_add(struct page *page, unsigned long addr, u32 owner)
{
	int err = keep_grow(1);

	if (err)
		return err;
	keep.pages[keep.nr++] = (struct keep_page) {
		.page = page, .pfn = page_to_pfn(page), .addr = addr,
		.owner = owner,
	};
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

static bool takeable(struct vm_area_struct *vma)
{
	return vma_is_anonymous(vma) && !(vma->vm_flags & VM_SHARED) &&
	       !userfaultfd_armed(vma);
}

/*
 * Takes the pages of [addr, addr + n pages) of @vma that GUP returned in
 * @pages; zaps each run of taken ones.  Returns 0 or -errno; counts.
 */
static int take_batch(struct vm_area_struct *vma, unsigned long addr,
		      struct page **pages, long n, u32 owner,
		      struct nvwa_keep_take *t)
{
	unsigned long run = 0;	/* pages in the run of taken ones before i */
	long i;
	int err = 0;

	for (i = 0; i <= n; i++) {
		struct page *page = i < n ? pages[i] : NULL;
		bool take = page && !err && PageAnon(page) && !PageKsm(page) &&
			    page_mapcount(page) == 1 &&
			    !page_maybe_dma_pinned(page);

		if (take && in_image_way(page_to_pfn(page), 1)) {
			struct page *to = move_clear(page);

			if (to) {
				put_page(page);
				page = to;
				t->moved++;
			} else {
				take = false;
			}
		}
		if (take)
			err = keep_add(page, addr + i * PAGE_SIZE, owner);
		if (take && !err) {
			run++;
			t->pages++;
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

static int keep_take(struct nvwa_keep_take *t)
{
	struct page **pages;
	struct task_struct *task;
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	struct pid *pid;
	int err = 0;

	pid = find_get_pid(t->pid);
	task = pid ? get_pid_task(pid, PIDTYPE_PID) : NULL;
	put_pid(pid);
	if (!task)
		return -ESRCH;
	mm = get_task_mm(task);
	put_task_struct(task);
	if (!mm)
		return -EINVAL;
	pages = kvmalloc_array(TAKE_BATCH, sizeof(*pages), GFP_KERNEL);
	if (!pages) {
		mmput(mm);
		return -ENOMEM;
	}
	t->pages = t->left = t->moved = 0;
	mmap_read_lock(mm);
	{
		VMA_ITERATOR(vmi, mm, 0);

		for_each_vma(vmi, vma) {
			unsigned long addr = vma->vm_start;

			if (!takeable(vma))
				continue;
			while (!err && addr < vma->vm_end) {
				long n = min_t(unsigned long, TAKE_BATCH,
					       (vma->vm_end - addr) >> PAGE_SHIFT);

				/* FOLL_DUMP: a hole is -EFAULT, never a fault. */
				n = get_user_pages_remote(mm, addr, n, FOLL_DUMP,
							  pages, NULL, NULL);
				if (n == -EFAULT) {
					addr += PAGE_SIZE;
					continue;
				}
				if (n <= 0) {
					err = n ? n : -EFAULT;
					break;
				}
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
	unsigned long i, lost = 0;
	u32 owner = 0;

	for (i = 0; i < keep.nr; i++) {
		struct keep_page *p = &keep.pages[i];
		void *src;

		if (!p->owner)
			goto put;
		if (!task || owner != p->owner) {
			struct pid *pid = find_get_pid(p->owner);

			if (task)
				put_task_struct(task);
			task = pid ? get_pid_task(pid, PIDTYPE_PID) : NULL;
			put_pid(pid);
			owner = p->owner;
		}
		src = kmap_local_page(p->page);
		if (!task || access_process_vm(task, p->addr, src, PAGE_SIZE,
					       FOLL_FORCE | FOLL_WRITE) !=
			     PAGE_SIZE)
			lost++;
		kunmap_local(src);
put:
		put_page(p->page);
	}
	if (task)
		put_task_struct(task);
	if (lost)
		pr_err("%lu pages could not be written back (their process is gone?)\n",
		       lost);
	kvfree(keep.pages);
	keep.pages = NULL;
	keep.nr = keep.cap = 0;
}

static void keep_reset(void)
{
	unsigned long i;

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

static int cmp_pfn(const void *a, const void *b)
{
	const struct keep_page *x = a, *y = b;

	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

static int found(struct resource *res, void *arg)
{
	return 1;
}

/*
 * Whether the next kernel may hold page frames [start, end) reserved for
 * a moment at boot, and then free them: plain RAM, no crash kernel in it,
 * nothing of the loaded image.
 */
static bool gap_mergeable(unsigned long start, unsigned long end)
{
	resource_size_t base = PFN_PHYS(start), size = PFN_PHYS(end - start);

	return region_intersects(base, size, IORESOURCE_SYSTEM_RAM,
				 IORES_DESC_NONE) == REGION_INTERSECTS &&
	       walk_iomem_res_desc(IORES_DESC_CRASH_KERNEL,
				   IORESOURCE_SYSTEM_RAM, base,
				   base + size - 1, NULL, found) != 1 &&
	       !in_image_way(start, end - start);
}

struct gap {
	unsigned long start, end;
};

static int cmp_gap_size(const void *a, const void *b)
{
	const struct gap *x = a, *y = b;
	unsigned long sx = x->end - x->start, sy = y->end - y->start;

	return sx < sy ? -1 : sx > sy;
}

static int cmp_gap_start(const void *a, const void *b)
{
	const struct gap *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * The spans: the extents of the sorted pages, joined over the smallest
 * gaps the next kernel may hold reserved for a moment, until there are
 * at most NVWA_KEEP_MAX_SPANS.
 */
static int make_spans(struct nvwa_keep_head *h, struct nvwa_keep_seal *s)
{
	unsigned long i, nr_ext = 0, nr_gaps = 0, join, spans;
	struct gap *gaps;
	u64 frames = 0;
	int err = 0;

	for (i = 0; i < keep.nr; i++)
		if (!i || keep.pages[i].pfn != keep.pages[i - 1].pfn + 1)
			nr_ext++;
	gaps = kvmalloc_array(nr_ext, sizeof(*gaps), GFP_KERNEL);
	if (!gaps)
		return -ENOMEM;
	/* Every gap between extents; the mergeable ones first by size. */
	for (i = 1; i < keep.nr; i++)
		if (keep.pages[i].pfn != keep.pages[i - 1].pfn + 1)
			gaps[nr_gaps++] = (struct gap) {
				keep.pages[i - 1].pfn + 1, keep.pages[i].pfn };
	for (i = 0, join = 0; i < nr_gaps; i++)
		if (gap_mergeable(gaps[i].start, gaps[i].end))
			gaps[join++] = gaps[i];
	/* gaps[0..join) mergeable; join the smallest ones. */
	spans = nr_ext;
	if (spans > NVWA_KEEP_MAX_SPANS) {
		if (spans - NVWA_KEEP_MAX_SPANS > join) {
			err = -E2BIG;
			goto out;
		}
		sort(gaps, join, sizeof(*gaps), cmp_gap_size, NULL);
		join = spans - NVWA_KEEP_MAX_SPANS;
		sort(gaps, join, sizeof(*gaps), cmp_gap_start, NULL);
	} else {
		join = 0;
	}
	/* Walk the extents; a joined gap does not end a span. */
	h->nr_spans = 0;
	for (i = 0, nr_gaps = 0; i < keep.nr; i++) {
		unsigned long pfn = keep.pages[i].pfn;

		if (i && pfn == keep.pages[i - 1].pfn + 1) {
			h->span[h->nr_spans - 1].end = pfn + 1;
			continue;
		}
		if (i && nr_gaps < join && gaps[nr_gaps].end == pfn) {
			nr_gaps++;
			h->span[h->nr_spans - 1].end = pfn + 1;
			continue;
		}
		h->span[h->nr_spans].start = pfn;
		h->span[h->nr_spans].end = pfn + 1;
		h->nr_spans++;
	}
	for (i = 0; i < h->nr_spans; i++)
		frames += h->span[i].end - h->span[i].start;
	/* The next kernel boots in what the spans leave: a quarter at least. */
	if (frames - keep.nr > totalram_pages() / 4) {
		err = -E2BIG;
		goto out;
	}
	s->spans = h->nr_spans;
	s->span_frames = frames;
out:
	kvfree(gaps);
	return err;
}

static unsigned long count_runs(void)
{
	unsigned long i, runs = 0;

	for (i = 0; i < keep.nr; i++) {
		struct keep_page *p = &keep.pages[i], *q = p - 1;

		if (!i || p->owner != q->owner || p->pfn != q->pfn + 1 ||
		    p->addr != q->addr + PAGE_SIZE)
			runs++;
	}
	return runs;
}

static void write_list(struct nvwa_keep_head *h)
{
	struct nvwa_keep_page *lp = NULL;
	unsigned long i, l = 0;
	struct nvwa_keep_run *r = NULL;

	h->nr_runs = 0;
	for (i = 0; i < keep.nr; i++) {
		struct keep_page *p = &keep.pages[i], *q = p - 1;

		if (i && r && p->owner == q->owner && p->pfn == q->pfn + 1 &&
		    p->addr == q->addr + PAGE_SIZE) {
			r->nr++;
			continue;
		}
		if (!lp || lp->nr_runs == NVWA_KEEP_RUNS_PER_PAGE) {
			struct nvwa_keep_page *next;

			next = page_address(keep.list[l++]);
			memset(next, 0, PAGE_SIZE);
			next->magic = NVWA_KEEP_LIST_MAGIC;
			if (lp)
				lp->next = virt_to_phys(next);
			else
				h->first = virt_to_phys(next);
			lp = next;
		}
		r = &lp->run[lp->nr_runs++];
		*r = (struct nvwa_keep_run) { .pfn = p->pfn, .nr = 1,
			.addr = p->addr, .owner = p->owner };
		h->nr_runs++;
	}
	for (i = 0; i < l; i++) {
		lp = page_address(keep.list[i]);
		lp->crc = keep_crc(lp, PAGE_SIZE,
				   offsetof(struct nvwa_keep_page, crc));
	}
}

static int keep_seal(struct nvwa_keep_seal *s)
{
	struct nvwa_keep_head *h = page_address(keep.head);
	unsigned long i, runs, need;
	int err;

	memset(s, 0, sizeof(*s));
	err = kexec_image_overlaps(page_to_phys(keep.head),
				   page_to_phys(keep.head) + PAGE_SIZE);
	if (err == -ENOENT || err == -EBUSY)
		return err;
	if (err) {
		pr_err("the keep head lies where the loaded kernel lands: begin again, then load the kernel\n");
		return -EADDRINUSE;
	}
	if (!keep.nr)
		return -ENODATA;
	/* The image may have been loaded again since the pages were taken. */
	for (i = 0; i < keep.nr; i++) {
		struct keep_page *p = &keep.pages[i];
		struct page *to;

		if (!in_image_way(p->pfn, 1))
			continue;
		to = move_clear(p->page);
		if (!to)
			return -ENOMEM;
		put_page(p->page);
		p->page = to;
		p->pfn = page_to_pfn(to);
		s->moved++;
	}
	/* Enough list pages for the runs, their own runs included. */
	runs = count_runs() + 1;
	need = DIV_ROUND_UP(runs, NVWA_KEEP_RUNS_PER_PAGE);
	while (DIV_ROUND_UP(runs + need, NVWA_KEEP_RUNS_PER_PAGE) > need)
		need++;
	keep.list = kvcalloc(need, sizeof(*keep.list), GFP_KERNEL);
	if (!keep.list)
		return -ENOMEM;
	for (keep.nr_list = 0; keep.nr_list < need; keep.nr_list++) {
		keep.list[keep.nr_list] = alloc_clear_of_image(GFP_KERNEL);
		if (!keep.list[keep.nr_list])
			return -ENOMEM;
	}
	/* From here the head and the list are entries too (owner 0). */
	err = keep_grow(1 + keep.nr_list);
	if (err)
		return err;
	keep_add(keep.head, 0, 0);
	for (i = 0; i < keep.nr_list; i++)
		keep_add(keep.list[i], 0, 0);
	keep.state = NVWA_KEEP_SEALED;
	sort(keep.pages, keep.nr, sizeof(*keep.pages), cmp_pfn, NULL);

	memset(h, 0, PAGE_SIZE);
	h->magic = NVWA_KEEP_MAGIC;
	h->version = NVWA_KEEP_VERSION;
	h->nr_frames = keep.nr;
	err = make_spans(h, s);
	if (err) {
		pr_err("%lu frames too scattered for %d spans the next kernel could reserve\n",
		       keep.nr, NVWA_KEEP_MAX_SPANS);
		return err;
	}
	write_list(h);
	h->crc = keep_crc(h, sizeof(*h), offsetof(struct nvwa_keep_head, crc));
	s->frames = keep.nr;
	s->runs = h->nr_runs;
	s->list_pages = keep.nr_list;
	return 0;
}

/* After the jump: the frames of @g->owner into @g->pid's memory. */
static int keep_give(struct nvwa_keep_give *g)
{
	const struct nvwa_keep_run *runs;
	unsigned long nr, r, f, *fallback = NULL, nr_fb = 0, cap = 0;
	struct task_struct *task;
	struct mm_struct *mm;
	struct pid *pid;
	int err = 0;

	g->installed = g->replaced = g->copied = g->failed = 0;
	runs = nvwa_keep_runs(&nr);
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
	mmap_read_lock(mm);
	for (r = 0; r < nr && !err; r++) {
		if (runs[r].owner != g->owner)
			continue;
		for (f = 0; f < runs[r].nr; f++) {
			unsigned long addr = runs[r].addr + f * PAGE_SIZE;
			struct vm_area_struct *vma = vma_lookup(mm, addr);
			int e = vma ? nvwa_keep_install(vma, addr,
							runs[r].pfn + f) :
				      -EFAULT;

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
	mmap_read_unlock(mm);
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
	keep.installed += g->installed;
	keep.copied += g->copied;
	return err;
}

static u64 keep_release(void)
{
	const struct nvwa_keep_run *runs;
	unsigned long nr, r, f;
	u64 freed = 0;

	runs = nvwa_keep_runs(&nr);
	for (r = 0; r < nr; r++)
		for (f = 0; f < runs[r].nr; f++)
			freed += !nvwa_keep_free(runs[r].pfn + f);
	keep.released += freed;
	return freed;
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
		if (!keep.pages[r].owner)
			continue;
		st->taken++;
	}
	runs = nvwa_keep_runs(&nr);
	for (r = 0; r < nr; r++) {
		if (!runs[r].owner)
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

static int __init keep_init(void)
{
	return misc_register(&keep_dev);
}

static void __exit keep_exit(void)
{
	misc_deregister(&keep_dev);
	mutex_lock(&keep.lock);
	keep_reset();
	mutex_unlock(&keep.lock);
}

module_init(keep_init);
module_exit(keep_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Anonymous pages handed over across kexec in place (nvwa kernel)");
