// SPDX-License-Identifier: GPL-2.0
/*
 * A pinmem client for the tests: allocates named objects of mixed sizes and
 * a multi-megabyte buffer, fills them with patterns, and in the next kernel
 * finds every one by name and checks every byte.  Also times the slab
 * controller against kmalloc for `make bench`.
 *
 *	insmod pinmem_client.ko action=fill|verify|free|bench [count=N]
 *	cat /sys/module/pinmem_client/parameters/result
 *
 * The result starts with "ok" or "FAIL"; the module stays loaded so the
 * result can be read, and is removed with rmmod.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "../../pinmem/include/pinmem.h"

static char *action = "fill";
module_param(action, charp, 0444);
MODULE_PARM_DESC(action, "fill, verify, free or bench");

static uint count = 3000;
module_param(count, uint, 0444);
MODULE_PARM_DESC(count, "objects to allocate");

static uint buf_mib = 8;
module_param(buf_mib, uint, 0444);
MODULE_PARM_DESC(buf_mib, "size of the vmalloc-style buffer, MiB");

static char result[256];
module_param_string(result, result, sizeof(result), 0444);
MODULE_PARM_DESC(result, "outcome of the action");

#define BUF_NAME "client.buf"

/* Sizes cover every class, the boundaries and whole-page objects. */
static size_t obj_size(u32 i)
{
	static const size_t sizes[] = { 1, 15, 16, 17, 33, 64, 100, 128, 255,
					256, 500, 512, 1000, 1024, 2000, 2048,
					2049, 4096, 5000, 12288 };

	return sizes[(i * 7 + i / 20) % ARRAY_SIZE(sizes)];
}

static u8 pattern(u32 i, size_t j)
{
	return (u8)(i * 131 + j * 7 + (j >> 8) + 0x5a);
}

static void obj_name(char *name, size_t len, u32 i)
{
	snprintf(name, len, "client.obj-%05u", i);
}

static int fill(void)
{
	char name[PINMEM_NAME_MAX];
	size_t j, n;
	u8 *p;
	u32 i;

	for (i = 0; i < count; i++) {
		obj_name(name, sizeof(name), i);
		n = obj_size(i);
		p = pinmem_kmalloc(name, n);
		if (IS_ERR(p))
			return scnprintf(result, sizeof(result),
					 "FAIL alloc %s (%zu bytes): %ld", name,
					 n, PTR_ERR(p));
		for (j = 0; j < n; j++)
			p[j] = pattern(i, j);
	}
	n = (size_t)buf_mib << 20;
	p = pinmem_vmalloc(BUF_NAME, n);
	if (IS_ERR(p))
		return scnprintf(result, sizeof(result),
				 "FAIL alloc %s: %ld", BUF_NAME, PTR_ERR(p));
	for (j = 0; j < n; j++)
		p[j] = pattern(count, j);
	return scnprintf(result, sizeof(result),
			 "ok filled %u objects and %u MiB", count, buf_mib);
}

static int check(const char *name, u32 i, size_t want)
{
	size_t j, n = 0;
	u8 *p;

	p = pinmem_find(name, &n);
	if (IS_ERR(p))
		return scnprintf(result, sizeof(result), "FAIL find %s: %ld",
				 name, PTR_ERR(p));
	if (n != want)
		return scnprintf(result, sizeof(result),
				 "FAIL %s has %zu bytes, expected %zu", name, n,
				 want);
	for (j = 0; j < n; j++)
		if (p[j] != pattern(i, j))
			return scnprintf(result, sizeof(result),
					 "FAIL %s byte %zu is %#x, expected %#x",
					 name, j, p[j], pattern(i, j));
	return 0;
}

static int verify(void)
{
	char name[PINMEM_NAME_MAX];
	u32 i;

	for (i = 0; i < count; i++) {
		obj_name(name, sizeof(name), i);
		if (check(name, i, obj_size(i)))
			return 1;
	}
	if (check(BUF_NAME, count, (size_t)buf_mib << 20))
		return 1;
	return scnprintf(result, sizeof(result),
			 "ok verified %u objects and %u MiB", count, buf_mib);
}

static int free_all(void)
{
	char name[PINMEM_NAME_MAX];
	void *p;
	u32 i;

	for (i = 0; i <= count; i++) {
		if (i < count)
			obj_name(name, sizeof(name), i);
		else
			strscpy(name, BUF_NAME, sizeof(name));
		p = pinmem_find(name, NULL);
		if (IS_ERR(p))
			return scnprintf(result, sizeof(result),
					 "FAIL find %s: %ld", name, PTR_ERR(p));
		pinmem_free(p);
	}
	p = pinmem_find(BUF_NAME, NULL);
	if (!IS_ERR(p) || PTR_ERR(p) != -ENOENT)
		return scnprintf(result, sizeof(result),
				 "FAIL %s still found after free", BUF_NAME);
	return scnprintf(result, sizeof(result), "ok freed %u objects",
			 count + 1);
}

/*
 * Allocation and free throughput, pinmem against kmalloc with the same
 * sizes (kzalloc: pinmem hands out zeroed memory too).
 */
static int bench(void)
{
	u64 t0, t_pm_alloc, t_pm_free, t_km_alloc, t_km_free;
	char (*names)[PINMEM_NAME_MAX];
	void **ptrs;
	u32 i;

	names = kvmalloc_array(count, sizeof(*names), GFP_KERNEL);
	ptrs = kvmalloc_array(count, sizeof(*ptrs), GFP_KERNEL);
	if (!names || !ptrs) {
		kvfree(names);
		kvfree(ptrs);
		return scnprintf(result, sizeof(result), "FAIL no memory");
	}
	for (i = 0; i < count; i++)
		snprintf(names[i], sizeof(names[i]), "perf.%u", i);

	t0 = ktime_get_ns();
	for (i = 0; i < count; i++) {
		ptrs[i] = pinmem_kmalloc(names[i], obj_size(i) % 2048 + 1);
		if (IS_ERR(ptrs[i]))
			break;
	}
	t_pm_alloc = ktime_get_ns() - t0;
	if (i < count) {
		scnprintf(result, sizeof(result), "FAIL pinmem_kmalloc: %ld",
			  PTR_ERR(ptrs[i]));
		while (i--)
			pinmem_free(ptrs[i]);
		goto out;
	}
	t0 = ktime_get_ns();
	for (i = 0; i < count; i++)
		pinmem_free(ptrs[i]);
	t_pm_free = ktime_get_ns() - t0;

	t0 = ktime_get_ns();
	for (i = 0; i < count; i++)
		ptrs[i] = kzalloc(obj_size(i) % 2048 + 1, GFP_KERNEL);
	t_km_alloc = ktime_get_ns() - t0;
	t0 = ktime_get_ns();
	for (i = 0; i < count; i++)
		kfree(ptrs[i]);
	t_km_free = ktime_get_ns() - t0;

	scnprintf(result, sizeof(result),
		  "ok objects=%u pinmem_alloc_ns=%llu pinmem_free_ns=%llu kmalloc_ns=%llu kfree_ns=%llu",
		  count, t_pm_alloc, t_pm_free, t_km_alloc, t_km_free);
out:
	kvfree(names);
	kvfree(ptrs);
	return 0;
}

static int __init client_init(void)
{
	if (!strcmp(action, "fill"))
		fill();
	else if (!strcmp(action, "verify"))
		verify();
	else if (!strcmp(action, "free"))
		free_all();
	else if (!strcmp(action, "bench"))
		bench();
	else
		return -EINVAL;
	pr_info("%s: %s\n", action, result);
	return 0;
}

static void __exit client_exit(void)
{
}

module_init(client_init);
module_exit(client_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("pinmem test client");
