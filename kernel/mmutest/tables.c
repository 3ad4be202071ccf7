/*
 * tables.c: the scaffolding tables of the live MMU checks (accesstest's probe
 * root and test path, the modes trampoline's identity maps).
 *
 * They are built with lib/paging (pg_map on a pg_ctx from
 * mmutest_tables_ctx); only the entries under test are written by hand. Every
 * frame they use comes from get_zeroed_page and is recorded in a struct
 * mmutest_tables, so that one call gives all of them back, whatever the
 * entries under test point to by then: the system tests compare the free-page
 * count before and after each check.
 * Depends on: lib/paging, the page allocator, kernel_ctx (the kernel's view of
 * physical memory).
 */
#include <asm/page.h>
#include <asm/pgtable.h>
#include <linux/mm.h>

#include "mmutest.h"

int mmutest_frame(struct mmutest_tables *t, phys_addr_t *pa)
{
	if (t->nframes == MMUTEST_MAX_FRAMES)
		return -PG_ENOMEM;
	uint64_t addr = get_zeroed_page();
	if (!addr)
		return -PG_ENOMEM;
	*pa = __pa(addr);
	t->frames[t->nframes++] = *pa;
	return 0;
}

static int tables_alloc(void *arg, phys_addr_t *pa)
{
	return mmutest_frame(arg, pa);
}

/* A table pg_map let go of (it does not, as the checks use it): give it back at once. */
static void tables_free(void *arg, phys_addr_t pa)
{
	struct mmutest_tables *t = arg;

	for (unsigned i = 0; i < t->nframes; i++) {
		if (t->frames[i] == pa) {
			t->frames[i] = t->frames[--t->nframes];
			free_page((uint64_t)(uintptr_t)__va(pa));
			return;
		}
	}
}

static void *tables_phys_to_virt(void *arg, phys_addr_t pa)
{
	(void)arg;
	return kernel_ctx.phys_to_virt(kernel_ctx.arg, pa);
}

struct pg_ctx mmutest_tables_ctx(struct mmutest_tables *t, unsigned levels, uint64_t table_flags)
{
	return (struct pg_ctx){
		.phys_to_virt = tables_phys_to_virt,
		.alloc_table = tables_alloc,
		.free_table = tables_free,
		.arg = t,
		.levels = levels,
		.table_flags = table_flags,
		.phys_bits = kernel_ctx.phys_bits,
		.disabled = kernel_ctx.disabled,
	};
}

int mmutest_clone_root(struct mmutest_tables *t, phys_addr_t kernel_root, phys_addr_t *root)
{
	int err = mmutest_frame(t, root);
	if (!err)
		memcpy(__va(*root), tables_phys_to_virt(0, kernel_root), PAGE_SIZE);
	return err;
}

int mmutest_clone_path(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t va, int bottom,
		       phys_addr_t *table)
{
	phys_addr_t parent = root;

	for (int level = (int)ctx->levels - 1; level >= bottom; level--) {
		unsigned index = (unsigned)pg_va_index(ctx->levels, level + 1, va);
		uint64_t raw, link;
		struct pg_entry old;
		phys_addr_t copy;
		int err = pg_entry_read(ctx, parent, level + 1, index, &raw);
		if (!err)
			err = pg_entry_decode(ctx, level + 1, raw, &old);
		if (err)
			return err;
		if (!old.present || old.leaf)
			return -PG_ENOTMAPPED;
		const void *from = ctx->phys_to_virt(ctx->arg, old.addr);
		if (!from)
			return -PG_EIO;
		if (ctx->alloc_table(ctx->arg, &copy))
			return -PG_ENOMEM;
		memcpy(ctx->phys_to_virt(ctx->arg, copy), from, PAGE_SIZE);
		err = pg_entry_encode(ctx, level + 1, false, copy, ctx->table_flags, &link);
		if (!err)
			err = pg_entry_write(ctx, parent, level + 1, index, link);
		if (err)
			return err;
		parent = copy;
	}
	*table = parent;
	return 0;
}

void mmutest_tables_free(struct mmutest_tables *t)
{
	while (t->nframes)
		free_page((uint64_t)(uintptr_t)__va(t->frames[--t->nframes]));
}
