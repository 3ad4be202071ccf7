/*
 * modes_env.c: the environment of `modes` (modes.c compares; modes_32.S is
 * the trampoline that makes the transitions).
 *
 * The kernel leaves long mode through the trampoline, copied to a page T in
 * [32 MiB, 1 GiB) and identity-mapped in a temporary copy of the kernel's
 * top-level table (the kernel's own tables are not changed). Its tables, all
 * below 4 GiB where a 32-bit CR3 must reach them and all built with pg_map:
 * - a 32-bit page directory with a 4 MiB identity page for T (CR3 of 32-bit
 *   paging);
 * - the same page read as the PAE PDPT when CR4.PAE is set with paging on: its
 *   first 32 bytes are PDPTE 0 -> a PAE page directory with a 2 MiB identity
 *   page for T, and three non-present PDPTEs; that is why T >= 32 MiB: its
 *   32-bit PDE must lie beyond those bytes;
 * - the temporary 4/5-level table (CR3 on the way back to IA-32e), T mapped
 *   with a 4 KiB page.
 * Depends on: tables.c, modes_32.S, the page allocator.
 */
#include <asm/console.h>
#include <asm/page.h>
#include <asm/pgtable.h>
#include <asm/processor.h>
#include <linux/mm.h>

#include "mmutest.h"

extern const char modes_tramp_start[], modes_tramp_end[], modes_tramp_entry64[], modes_tramp_gdt[];

_Static_assert(__builtin_offsetof(struct modes_params, saved_rsp) == MP_SAVED_RSP, "MP_SAVED_RSP");
_Static_assert(__builtin_offsetof(struct modes_params, kernel_idt) == MP_KERNEL_IDT, "MP_KERNEL_IDT");
_Static_assert(__builtin_offsetof(struct modes_params, kernel_cr4) == MP_KERNEL_CR4, "MP_KERNEL_CR4");
_Static_assert(__builtin_offsetof(struct modes_params, kernel_efer) == MP_KERNEL_EFER, "MP_KERNEL_EFER");
_Static_assert(__builtin_offsetof(struct modes_params, kernel_cr0) == MP_KERNEL_CR0, "MP_KERNEL_CR0");
_Static_assert(__builtin_offsetof(struct modes_params, cr3_32) == MP_CR3_32, "MP_CR3_32");
_Static_assert(__builtin_offsetof(struct modes_params, cr3_long) == MP_CR3_LONG, "MP_CR3_LONG");
_Static_assert(__builtin_offsetof(struct modes_params, la57) == MP_LA57, "MP_LA57");
_Static_assert(__builtin_offsetof(struct modes_params, illegal) == MP_ILLEGAL, "MP_ILLEGAL");
_Static_assert(__builtin_offsetof(struct modes_params, nsteps) == MP_NSTEPS, "MP_NSTEPS");
_Static_assert(__builtin_offsetof(struct modes_params, recover) == MP_RECOVER, "MP_RECOVER");
_Static_assert(__builtin_offsetof(struct modes_params, saved_esp) == MP_SAVED_ESP, "MP_SAVED_ESP");
_Static_assert(__builtin_offsetof(struct modes_params, log) == MP_LOG, "MP_LOG");
_Static_assert(MT_PARAMS + sizeof(struct modes_params) <= PAGE_SIZE, "the parameters fit in T");
_Static_assert(__builtin_offsetof(struct modes_log, vector) == ML_VECTOR, "ML_VECTOR");
_Static_assert(__builtin_offsetof(struct modes_log, cr0) == ML_CR0, "ML_CR0");
_Static_assert(__builtin_offsetof(struct modes_log, cr3) == ML_CR3, "ML_CR3");
_Static_assert(__builtin_offsetof(struct modes_log, cr4) == ML_CR4, "ML_CR4");
_Static_assert(__builtin_offsetof(struct modes_log, efer) == ML_EFER, "ML_EFER");
_Static_assert(sizeof(struct modes_log) == ML_SIZE, "ML_SIZE");

#define GDT_DESCRIPTORS 4   /* null, 32-bit code, 64-bit code, data: the trampoline's selectors */

/* T: a 4 MiB block in [32 MiB, 1 GiB). returns: NULL, or a message. */
static const char *alloc_trampoline(struct modes_env *m)
{
	while (m->nrejects < 32) {
		struct page *p = alloc_pages(MAX_ORDER);
		if (!p)
			break;
		phys_addr_t pa = page_to_phys(p);
		if (pa >= (32ULL << 20) && pa + (4ULL << 20) <= (1ULL << 30)) {
			m->tramp = pa;
			return 0;
		}
		m->rejects[m->nrejects++] = pa;
	}
	return "no free 4 MiB block between 32 MiB and 1 GiB";
}

/* The 32-bit page directory with its 4 MiB page, then PDPTE 0 and the PAE page directory. */
static int map_legacy(struct modes_env *m)
{
	struct pg_ctx pd32 = mmutest_tables_ctx(&m->tables, PG_MODE_32BIT, 0);
	struct pg_ctx pae = mmutest_tables_ctx(&m->tables, PG_MODE_PAE, _PAGE_TABLE);
	uint64_t prot = PTE_P | PTE_W | PTE_A | PTE_D;
	phys_addr_t t = m->tramp;
	struct pg_walk w;

	int err = mmutest_frame(&m->tables, &m->pd32);
	if (!err)
		err = pg_map(&pd32, m->pd32, t, t + (4ULL << 20), t, prot, PG_SIZE_4M, 0, 0);
	if (!err)
		err = pg_map(&pae, m->pd32, t, t + PMD_SIZE, t, prot, PG_SIZE_2M, 0, 0);
	if (!err)
		err = pg_walk(&pae, m->pd32, t, &w);
	if (!err)
		m->pae_pd = w.step[1].table_pa;
	return err;
}

/* The temporary 4/5-level table: the kernel's, plus T identity-mapped (4 KiB). */
static const char *map_long(struct modes_env *m, unsigned levels, phys_addr_t kernel_root)
{
	struct pg_ctx ctx = mmutest_tables_ctx(&m->tables, levels, PTE_P | PTE_W | PTE_A);
	phys_addr_t t = m->tramp;
	uint64_t top;

	if (mmutest_clone_root(&m->tables, kernel_root, &m->root))
		return "out of memory";
	if (pg_entry_read(&ctx, m->root, (int)levels, (unsigned)pg_va_index(levels, (int)levels, t), &top) || top)
		return "the top-level slot of the identity map is in use";
	if (pg_map(&ctx, m->root, t, t + PAGE_SIZE, t, PTE_P | PTE_W | PTE_A | PTE_D, PG_MASK_4K, 0, 0))
		return "out of memory";
	return 0;
}

const char *modes_env_build(struct modes_env *m, unsigned levels, phys_addr_t kernel_root)
{
	const char *err = alloc_trampoline(m);
	if (err)
		return err;
	if (map_legacy(m))
		return "out of memory";
	err = map_long(m, levels, kernel_root);
	if (err)
		return err;
	if ((m->pd32 | m->pae_pd | m->root) >> 32)
		return "a table page is above 4 GiB";
	return 0;
}

void modes_env_free(struct modes_env *m)
{
	if (m->tramp)
		free_pages(phys_to_page(m->tramp), MAX_ORDER);
	for (unsigned i = 0; i < m->nrejects; i++)
		free_pages(phys_to_page(m->rejects[i]), MAX_ORDER);
	mmutest_tables_free(&m->tables);
}

struct modes_params *modes_env_params(const struct modes_env *m)
{
	return (struct modes_params *)((uint8_t *)__va(m->tramp) + MT_PARAMS);
}

/*
 * The trampoline in T: its code, the kernel's first GDT_DESCRIPTORS
 * descriptors as its GDT (it needs them where 32-bit paging reaches), its
 * parameters.
 */
static void install_trampoline(struct modes_env *m, bool illegal)
{
	uint8_t *tramp = __va(m->tramp);
	size_t size = (size_t)(modes_tramp_end - modes_tramp_start);
	struct desc_ptr64 gdt;

	if (size > MT_STACK_TOP - 0x200)
		panic("modes: the trampoline (%zu bytes) leaves no room for its stack", size);
	memset(tramp, 0, PAGE_SIZE);
	memcpy(tramp, modes_tramp_start, size);
	__asm__ volatile("sgdt %0" : "=m"(gdt));
	memcpy(tramp + (modes_tramp_gdt - modes_tramp_start), (const void *)(uintptr_t)gdt.base,
	       GDT_DESCRIPTORS * sizeof(uint64_t));
	struct modes_params *p = modes_env_params(m);
	p->kernel_cr4 = read_cr4();
	p->kernel_efer = rdmsr(MSR_EFER);
	p->kernel_cr0 = read_cr0();
	p->cr3_32 = m->pd32;
	p->cr3_long = m->root;
	p->la57 = p->kernel_cr4 & X86_CR4_LA57;
	p->illegal = illegal;
}

void modes_env_run(struct modes_env *m, uint64_t kernel_cr3, bool illegal)
{
	uint64_t flags;

	install_trampoline(m, illegal);
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
	write_cr3(m->root);
	((void (*)(uint64_t))(uintptr_t)(m->tramp + (uint64_t)(modes_tramp_entry64 - modes_tramp_start)))(m->tramp);
	m->cr0_back = read_cr0();
	m->cr4_back = read_cr4();
	m->efer_back = rdmsr(MSR_EFER);
	write_cr3(kernel_cr3);
	__flush_tlb_all();
	if (flags & (1u << 9))
		__asm__ volatile("sti");
}
