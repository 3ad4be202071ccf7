/*
 * access_env.c: the environment accesstest's combinations run in (accesstest.c
 * enumerates them; accesstest_64.S makes each access).
 *
 * Built fresh for each run and torn down afterwards:
 * - the probe root, a copy of the kernel's top-level table whose path to the
 *   kernel image is private and ends in 2 MiB leaves without XD or G, so that
 *   the probe's window can run with EFER.NXE = 0 (every kernel entry has XD
 *   set, which is then a reserved bit); the rest of the kernel's address
 *   space is shared, and the kernel's own tables are never changed;
 * - a free top-level slot of that copy holds the test VA (0xffff923400000000,
 *   kvm-unit-tests' address, in 4-level paging): upper entries P|RW|US|A down
 *   to the PDPT; its PDPTE, PDE and PTE are the entries under test, written
 *   for each combination (the PTE maps the first page of a 2 MiB data block
 *   whose byte 0 is a `ret`);
 * - for user-mode accesses (CPL 3), next to the test VA (the next PDPT slot)
 *   a user-executable copy of accesstest_user_stub and a user stack, all
 *   entries US = 1 without XD; the probe IRETQs to the GDT's user segments
 *   there, and the TSS's RSP0 points at probe_rsp0_stack (in the image, so it
 *   is mapped in the NXE = 0 window) while the test runs;
 * - a private IDT whose #PF/#GP gates resume the probe (accesstest_64.S).
 * Everything but the entries under test is built with pg_map.
 * Depends on: tables.c, lib/paging, the kernel's GDT, TSS and IDT.
 */
#include <asm/cpufeature.h>
#include <asm/desc.h>
#include <asm/page.h>
#include <asm/pgtable.h>
#include <asm/processor.h>
#include <asm/sections.h>
#include <asm/segment.h>
#include <linux/mm.h>

#include "mmutest.h"

_Static_assert(__builtin_offsetof(struct access_probe, va) == AP_VA, "AP_VA");
_Static_assert(__builtin_offsetof(struct access_probe, kind) == AP_KIND, "AP_KIND");
_Static_assert(__builtin_offsetof(struct access_probe, efer_probe) == AP_EFER_PROBE, "AP_EFER_PROBE");
_Static_assert(__builtin_offsetof(struct access_probe, efer_kernel) == AP_EFER_KERNEL, "AP_EFER_KERNEL");
_Static_assert(__builtin_offsetof(struct access_probe, rflags_ac) == AP_RFLAGS_AC, "AP_RFLAGS_AC");
_Static_assert(__builtin_offsetof(struct access_probe, vector) == AP_VECTOR, "AP_VECTOR");
_Static_assert(__builtin_offsetof(struct access_probe, error_code) == AP_ERROR_CODE, "AP_ERROR_CODE");
_Static_assert(__builtin_offsetof(struct access_probe, cr2) == AP_CR2, "AP_CR2");
_Static_assert(__builtin_offsetof(struct access_probe, first_vector) == AP_FIRST_VECTOR, "AP_FIRST_VECTOR");
_Static_assert(__builtin_offsetof(struct access_probe, user) == AP_USER, "AP_USER");
_Static_assert(__builtin_offsetof(struct access_probe, user_rip) == AP_USER_RIP, "AP_USER_RIP");
_Static_assert(__builtin_offsetof(struct access_probe, user_rsp) == AP_USER_RSP, "AP_USER_RSP");

extern char accesstest_trap_pf[], accesstest_trap_gp[], accesstest_trap_user[];
extern char accesstest_user_stub[], accesstest_user_stub_end[];

#define TEST_PDPT_INDEX 208  /* kvm-unit-tests' 0xffff923400000000: PML4 292, PDPT 208 */
#define TEST_TOP_SLOT   292

/* Intermediate entries: the image's path P|RW|A|D, the test VA's P|RW|US|A. */
#define IMAGE_TABLE_FLAGS _KERNPG_TABLE
#define TEST_TABLE_FLAGS  (PTE_P | PTE_W | PTE_U | PTE_A)

/* The CPL 0 stack of an entry from the user stub (TSS RSP0 during the run). */
static uint8_t probe_rsp0_stack[4096] __attribute__((aligned(16)));

/* ------------------------------------------------------------ CPU state */

static inline uint32_t rdpkru(void)
{
	uint32_t eax, edx;
	__asm__ volatile(".byte 0x0f, 0x01, 0xee" : "=a"(eax), "=d"(edx) : "c"(0));
	return eax;
}

static inline void wrpkru(uint32_t v)
{
	__asm__ volatile(".byte 0x0f, 0x01, 0xef" : : "a"(v), "c"(0), "d"(0) : "memory");
}

static inline void write_cr0_raw(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

uint32_t at_env_pkru(void)
{
	return (read_cr4() & X86_CR4_PKE) ? rdpkru() : 0;
}

void at_env_load_state(uint64_t cr0, uint64_t cr4, uint32_t pkru)
{
	if (read_cr4() != cr4)
		write_cr4(cr4);
	if (read_cr0() != cr0)
		write_cr0_raw(cr0);
	if (cr4 & X86_CR4_PKE)
		wrpkru(pkru);
}

void at_env_write_entries(struct at_env *e, const struct at_entries *x)
{
	*e->pte = x->pte;
	*e->pde = x->pde;
	*e->pdpte = x->pdpte;
	flush_tlb_one(e->va);
}

/* ------------------------------------------------------------ the IDT */

struct gate64 {
	uint16_t offset0, selector;
	uint8_t ist, type_attr;
	uint16_t offset1;
	uint32_t offset2, reserved;
} __attribute__((packed));

static struct gate64 probe_idt[256] __attribute__((aligned(16)));

static void set_gate(struct gate64 *g, void *handler)
{
	uint64_t a = (uint64_t)(uintptr_t)handler;
	g->offset0 = (uint16_t)a;
	g->offset1 = (uint16_t)(a >> 16);
	g->offset2 = (uint32_t)(a >> 32);
}

/* The kernel's IDT (e->idt) with the probe's #GP, #PF and user-return gates. */
static void build_probe_idt(const struct at_env *e)
{
	size_t size = (size_t)e->idt.limit + 1u;

	memcpy(probe_idt, (void *)(uintptr_t)e->idt.base, size < sizeof(probe_idt) ? size : sizeof(probe_idt));
	set_gate(&probe_idt[13], accesstest_trap_gp);
	set_gate(&probe_idt[14], accesstest_trap_pf);
	set_gate(&probe_idt[ACCESSTEST_USER_VECTOR], accesstest_trap_user);
	probe_idt[ACCESSTEST_USER_VECTOR].selector = __KERNEL_CS;
	probe_idt[ACCESSTEST_USER_VECTOR].ist = 0;
	probe_idt[ACCESSTEST_USER_VECTOR].type_attr = 0xee; /* present, DPL 3, 64-bit interrupt gate */
}

/* ------------------------------------------------------------ the tables */

/*
 * The probe root: the kernel's top-level table, except that the path to the
 * kernel image is private down to its PUD, whose entry for the image leads to
 * a new PMD of 2 MiB leaves mapping the image without XD or G.
 * returns: NULL, or a message.
 */
static const char *build_probe_root(struct at_env *e)
{
	struct pg_ctx ctx = mmutest_tables_ctx(&e->tables, e->levels, IMAGE_TABLE_FLAGS);
	virt_addr_t text = (virt_addr_t)(uintptr_t)_text, end = (virt_addr_t)(uintptr_t)_end;
	virt_addr_t start = text & PMD_MASK;
	phys_addr_t pud;

	if (phys_base & (PMD_SIZE - 1))
		return "the kernel's physical base is not 2 MiB aligned";
	if ((end - 1) >> PUD_SHIFT != text >> PUD_SHIFT)
		return "the kernel image crosses a 1 GiB boundary";
	if (mmutest_clone_root(&e->tables, current_root(), &e->root))
		return "out of memory";
	int err = mmutest_clone_path(&ctx, e->root, text, 3, &pud);
	if (err == -PG_ENOMEM)
		return "out of memory";
	if (!err)
		err = pg_entry_write(&ctx, pud, 3, (unsigned)pg_va_index(e->levels, 3, text), 0);
	if (!err)
		err = pg_map(&ctx, e->root, start, (end + PMD_SIZE - 1) & PMD_MASK, __pa_symbol(start),
			     PTE_P | PTE_W | PTE_A | PTE_D, PG_MASK_2M, 0, 0);
	if (err == -PG_ENOMEM)
		return "out of memory";
	return err ? "cannot map the kernel image" : 0;
}

/* The test VA: kvm-unit-tests' slot if free, else the next free one in the upper half. */
static const char *place_test_va(struct at_env *e, const struct pg_ctx *ctx)
{
	unsigned top_shift = pg_mode_get(e->levels)->level[e->levels].shift;
	uint64_t raw = 1;

	for (e->top_slot = TEST_TOP_SLOT; e->top_slot < 511; e->top_slot++)
		if (pg_entry_read(ctx, e->root, (int)e->levels, e->top_slot, &raw) || !raw)
			break;
	if (raw)
		return "no free top-level slot";
	e->va = pg_canonical(e->levels, ((uint64_t)e->top_slot << top_shift) |
					 ((uint64_t)TEST_PDPT_INDEX << PUD_SHIFT));
	return 0;
}

/*
 * The test VA's path, mapped (4 KiB) to the data block so that every table
 * exists; the entries under test are rewritten for each combination. Then
 * the CPL 3 stub and stack in the next PDPT slot. returns: NULL, or a message.
 */
static const char *build_test_path(struct at_env *e)
{
	struct pg_ctx ctx = mmutest_tables_ctx(&e->tables, e->levels, TEST_TABLE_FLAGS);
	phys_addr_t code, stack;
	struct pg_walk w;
	const char *msg = place_test_va(e, &ctx);
	if (msg)
		return msg;

	struct page *block = alloc_pages(9);
	if (!block)
		return "out of memory (2 MiB data block)";
	e->data = page_to_phys(block);
	if (e->data & (PMD_SIZE - 1))
		return "the data block is not 2 MiB aligned";
	memset(page_address(block), 0, PMD_SIZE);
	*(uint8_t *)page_address(block) = 0xc3; /* ret: the fetch target */

	e->user_va = e->va + PUD_SIZE;
	if (mmutest_frame(&e->tables, &code) || mmutest_frame(&e->tables, &stack))
		return "out of memory";
	memcpy(__va(code), accesstest_user_stub, (size_t)(accesstest_user_stub_end - accesstest_user_stub));
	int err = pg_map(&ctx, e->root, e->va, e->va + PAGE_SIZE, e->data, PTE_P, PG_MASK_4K, 0, 0);
	if (!err)
		err = pg_map(&ctx, e->root, e->user_va, e->user_va + PAGE_SIZE, code, PTE_P | PTE_U | PTE_A,
			     PG_MASK_4K, 0, 0);
	if (!err)
		err = pg_map(&ctx, e->root, e->user_va + PAGE_SIZE, e->user_va + 2 * PAGE_SIZE, stack,
			     PTE_P | PTE_W | PTE_U | PTE_A | PTE_D, PG_MASK_4K, 0, 0);
	if (!err)
		err = pg_walk(&ctx, e->root, e->va, &w);
	if (err)
		return err == -PG_ENOMEM ? "out of memory" : "cannot map the test VA";
	for (unsigned i = 0; i < w.nsteps; i++) {
		e->path[w.step[i].level] = w.step[i].table_pa;
		e->index[w.step[i].level] = w.step[i].index;
	}
	e->pdpte = (uint64_t *)__va(e->path[3]) + e->index[3];
	e->pde = (uint64_t *)__va(e->path[2]) + e->index[2];
	e->pte = (uint64_t *)__va(e->path[1]) + e->index[1];
	return 0;
}

const char *at_env_build(struct at_env *e)
{
	const char *err = build_probe_root(e);
	return err ? err : build_test_path(e);
}

void at_env_free(struct at_env *e)
{
	mmutest_tables_free(&e->tables);
	if (e->data)
		free_pages(phys_to_page(e->data), 9);
	e->data = 0;
}

/* ------------------------------------------------------------ entering and leaving */

void at_env_enter(struct at_env *e)
{
	e->cr0 = read_cr0();
	e->cr3 = read_cr3();
	e->cr4 = read_cr4();
	e->efer = rdmsr(MSR_EFER);
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(e->rflags) : : "memory");
	__asm__ volatile("sidt %0" : "=m"(e->idt));
	build_probe_idt(e);
	e->rsp0 = load_sp0((uint64_t)(uintptr_t)(probe_rsp0_stack + sizeof(probe_rsp0_stack)));
	struct desc_ptr64 idt = { sizeof(probe_idt) - 1, (uint64_t)(uintptr_t)probe_idt };
	__asm__ volatile("lidt %0" : : "m"(idt));
	load_direct_gdt(true); /* PTI: the cpu_entry_area's NX entries are reserved bits with NXE = 0 */
	if (boot_cpu_data.pku) {
		write_cr4(e->cr4 | X86_CR4_PKE);
		e->pkru = rdpkru();
		e->pkru_saved = true;
		write_cr4(e->cr4);
	}
	write_cr3(e->root | (e->cr3 & ~PTE_PFN_MASK));
	__flush_tlb_all();
}

void at_env_leave(struct at_env *e)
{
	if (e->pkru_saved) {
		write_cr4(e->cr4 | X86_CR4_PKE);
		wrpkru(e->pkru);
	}
	write_cr4(e->cr4);
	write_cr0_raw(e->cr0);
	wrmsr(MSR_EFER, e->efer);
	write_cr3(e->cr3);
	__flush_tlb_all();
	load_direct_gdt(false);
	__asm__ volatile("lidt %0" : : "m"(e->idt));
	load_sp0(e->rsp0);
	if (e->rflags & (1u << 9))
		__asm__ volatile("sti");
}
