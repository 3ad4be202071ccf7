/*
 * modes.c: `modes [illegal]`, seed 003's mode transitions on the live CPU next
 * to lib/paging's control-register model (issue 9 part 3; docs/mmu.md).
 *
 * The kernel leaves long mode through the trampoline of modes_32.S, copied to a
 * page T in [32 MiB, 1 GiB) and identity-mapped in a temporary copy of the
 * kernel's top-level table (the kernel's own tables are not changed). In
 * legacy protected mode it makes one control-register write per step: 32-bit
 * paging (CR3 = a page directory with a 4 MiB identity page for T), PAE paging
 * by setting CR4.PAE with paging on (the same page is then read as the PDPT:
 * its first 32 bytes are PDPTE 0 -> a PAE page directory with a 2 MiB identity
 * page for T, and three non-present PDPTEs; that is why T >= 32 MiB: its 32-bit
 * PDE must lie beyond those bytes), paging off, and back to IA-32e (PAE, CR3,
 * LME, PG) and 64-bit mode. Each step is logged (#GP or not, CR0, CR3, CR4,
 * EFER) and compared afterwards with the model applying the same write from
 * the same state: pg_cpu_write_cr0/cr3/cr4/efer, pg_cpu_opmode,
 * pg_cpu_paging_mode.
 *
 * The writes that must #GP (EFER.LME with paging on, in 32-bit and in PAE
 * paging; CR0.PG with LME = 1 and PAE = 0) run only when the oracle is not
 * QEMU TCG, which raises none of them and can crash or hang on some
 * (mmu-semantics.md §11): `modes illegal` on Bochs or hardware, or with
 * `oracle=bochs` on the command line. The trampoline's 32-bit IDT catches the
 * #GP and resumes after the write.
 */
#include <asm/console.h>
#include <asm/cpufeature.h>
#include <asm/page.h>
#include <asm/pgtable.h>
#include <asm/processor.h>
#include <asm/sections.h>
#include <lib/vsprintf.h>
#include <linux/accesstest.h>
#include <linux/mm.h>
#include <linux/modes_tramp.h>
#include <paging/mmu.h>

extern const char modes_tramp_start[], modes_tramp_end[], modes_tramp_entry64[];

struct modes_log {
	uint32_t step, vector, cr0, cr3, cr4, efer;
	uint32_t pad[2];
};
_Static_assert(sizeof(struct modes_log) == 32, "log records are 32 bytes");

static const char *step_name(unsigned step)
{
	switch (step) {
	case MS_CLEAR_PG_COMPAT: return "clear CR0.PG in compatibility mode";
	case MS_CLEAR_LME:       return "clear EFER.LME";
	case MS_CR4_LEGACY:      return "CR4: clear PAE, LA57; set PSE";
	case MS_CR3_PD32:        return "CR3 = 32-bit page directory";
	case MS_SET_PG_32BIT:    return "set CR0.PG";
	case MS_LME_IN_32BIT:    return "set EFER.LME (paging on)";
	case MS_SET_PAE_PAGING:  return "set CR4.PAE (paging on)";
	case MS_LME_IN_PAE:      return "set EFER.LME (paging on)";
	case MS_CLEAR_PG:        return "clear CR0.PG";
	case MS_CLEAR_PAE:       return "clear CR4.PAE";
	case MS_LME_NO_PAE:      return "set EFER.LME";
	case MS_PG_LME_NO_PAE:   return "set CR0.PG (LME = 1, PAE = 0)";
	case MS_CR4_LONG:        return "CR4: set PAE (and LA57)";
	case MS_CR3_LONG:        return "CR3 = 4/5-level table";
	case MS_SET_LME:         return "set EFER.LME";
	case MS_SET_PG_LONG:     return "set CR0.PG";
	case MS_FAR_JUMP_64:     return "far jump to a 64-bit code segment";
	default:                 return "?";
	}
}

/*
 * The model's version of step `step` from its current state.
 * returns: 0, or -PG_EGP (or another -PG_E*) as pg_cpu_write_* does.
 */
static int model_step(struct pg_cpu *cpu, unsigned step, const struct pg_ctx *mem, uint64_t pd32,
		      uint64_t long_root, uint64_t la57)
{
	switch (step) {
	case MS_CLEAR_PG_COMPAT:
	case MS_CLEAR_PG:
		return pg_cpu_write_cr0(cpu, cpu->cr0 & ~PG_CR0_PG, mem, 0);
	case MS_SET_PG_32BIT:
	case MS_PG_LME_NO_PAE:
	case MS_SET_PG_LONG:
		return pg_cpu_write_cr0(cpu, cpu->cr0 | PG_CR0_PG, mem, 0);
	case MS_CLEAR_LME:
		return pg_cpu_write_efer(cpu, cpu->efer & ~PG_EFER_LME, 0);
	case MS_LME_IN_32BIT:
	case MS_LME_IN_PAE:
	case MS_LME_NO_PAE:
	case MS_SET_LME:
		return pg_cpu_write_efer(cpu, cpu->efer | PG_EFER_LME, 0);
	case MS_CR4_LEGACY:
		return pg_cpu_write_cr4(cpu, (cpu->cr4 & ~(PG_CR4_PAE | PG_CR4_LA57)) | PG_CR4_PSE, mem, 0);
	case MS_SET_PAE_PAGING:
		return pg_cpu_write_cr4(cpu, cpu->cr4 | PG_CR4_PAE, mem, 0);
	case MS_CLEAR_PAE:
		return pg_cpu_write_cr4(cpu, cpu->cr4 & ~PG_CR4_PAE, mem, 0);
	case MS_CR4_LONG:
		return pg_cpu_write_cr4(cpu, cpu->cr4 | PG_CR4_PAE | la57, mem, 0);
	case MS_CR3_PD32:
		return pg_cpu_write_cr3(cpu, pd32, mem, 0);
	case MS_CR3_LONG:
		return pg_cpu_write_cr3(cpu, long_root, mem, 0);
	case MS_FAR_JUMP_64:
		cpu->cs_l = true;
		return 0;
	default:
		return -PG_EINVAL;
	}
}

/*
 * The model reads the 32-bit page directory (as the PAE PDPT) as it was before
 * the CPU ran: QEMU TCG writes A into in-memory PDPTEs (mmu-semantics.md §11),
 * where bit 5 is reserved, so the page afterwards is not what the CPU loaded.
 */
static uint64_t pd32_snapshot[512] __attribute__((aligned(4096)));
static phys_addr_t pd32_snapshot_of;

static void *model_phys_to_virt(void *arg, phys_addr_t pa)
{
	(void)arg;
	if ((pa & PTE_PFN_MASK) == pd32_snapshot_of)
		return (uint8_t *)pd32_snapshot + (pa & 0xfff);
	return kernel_ctx.phys_to_virt(kernel_ctx.arg, pa);
}

static void mode_text(const struct pg_cpu *cpu, char *buf, size_t size)
{
	ksnprintf(buf, size, "%s, paging %s", pg_opmode_name(pg_cpu_opmode(cpu)),
		  pg_paging_mode_name(pg_cpu_paging_mode(cpu)));
}

struct modes_pages {
	phys_addr_t tramp_block;     /* order MAX_ORDER: T is its first page */
	phys_addr_t pd32, pae_pd, root;
	phys_addr_t ident[PG_MAX_LEVELS + 1];
	phys_addr_t rejects[32];
	unsigned nrejects;
};

static phys_addr_t zeroed_page(void)
{
	struct page *p = alloc_pages(0);
	if (!p)
		return 0;
	memset(page_address(p), 0, PAGE_SIZE);
	return page_to_phys(p);
}

static void free_modes_pages(struct modes_pages *m)
{
	if (m->tramp_block)
		free_pages(phys_to_page(m->tramp_block), MAX_ORDER);
	for (unsigned i = 0; i < m->nrejects; i++)
		free_pages(phys_to_page(m->rejects[i]), MAX_ORDER);
	phys_addr_t singles[] = { m->pd32, m->pae_pd, m->root };
	for (unsigned i = 0; i < 3; i++)
		if (singles[i])
			free_pages(phys_to_page(singles[i]), 0);
	for (unsigned l = 0; l <= PG_MAX_LEVELS; l++)
		if (m->ident[l])
			free_pages(phys_to_page(m->ident[l]), 0);
}

/* T: a 4 MiB block in [32 MiB, 1 GiB). returns: 0, or a message. */
static const char *alloc_trampoline(struct modes_pages *m)
{
	while (m->nrejects < 32) {
		struct page *p = alloc_pages(MAX_ORDER);
		if (!p)
			break;
		phys_addr_t pa = page_to_phys(p);
		if (pa >= (32ULL << 20) && pa + (4ULL << 20) <= (1ULL << 30)) {
			m->tramp_block = pa;
			return 0;
		}
		m->rejects[m->nrejects++] = pa;
	}
	return "no free 4 MiB block between 32 MiB and 1 GiB";
}

static const char *build(struct modes_pages *m, unsigned levels, uint64_t kernel_root)
{
	const char *err = alloc_trampoline(m);
	if (err)
		return err;
	phys_addr_t t = m->tramp_block;
	m->pd32 = zeroed_page();
	m->pae_pd = zeroed_page();
	m->root = zeroed_page();
	if (!m->pd32 || !m->pae_pd || !m->root)
		return "out of memory";
	if ((m->pd32 | m->pae_pd | m->root) >> 32)
		return "a table page is above 4 GiB";

	/* 32-bit page directory: [0] = PDPTE 0 when read as a PAE PDPT; T's 4 MiB page. */
	uint32_t *pd32 = __va(m->pd32);
	pd32[0] = (uint32_t)m->pae_pd | PTE_P;
	pd32[t >> 22] = (uint32_t)(t & ~0x3fffffULL) | PTE_P | PTE_W | PTE_A | PTE_D | PTE_PS;
	uint64_t *pae_pd = __va(m->pae_pd);
	pae_pd[t >> 21] = (t & ~0x1fffffULL) | PTE_P | PTE_W | PTE_A | PTE_D | PTE_PS;

	/* The temporary 4/5-level table: the kernel's, plus T identity-mapped (4 KiB). */
	uint64_t *root = __va(m->root);
	memcpy(root, __va(kernel_root), PAGE_SIZE);
	if (root[pg_va_index(levels, (int)levels, t)])
		return "the top-level slot of the identity map is in use";
	phys_addr_t parent = m->root;
	for (unsigned l = levels - 1; l >= 1; l--) {
		m->ident[l] = zeroed_page();
		if (!m->ident[l])
			return "out of memory";
		((uint64_t *)__va(parent))[pg_va_index(levels, (int)l + 1, t)] = m->ident[l] | PTE_P | PTE_W | PTE_A;
		parent = m->ident[l];
	}
	((uint64_t *)__va(m->ident[1]))[pg_va_index(levels, 1, t)] = t | PTE_P | PTE_W | PTE_A | PTE_D;
	return 0;
}

int modes_command(int argc, char **argv)
{
	bool qemu = oracle_is_qemu_tcg();
	bool illegal = false;

	if (argc > 2 || (argc == 2 && !(strlen(argv[1]) == 7 && memcmp(argv[1], "illegal", 7) == 0))) {
		printk("usage: modes [illegal]\n");
		return 1;
	}
	if (argc == 2) {
		if (qemu) {
			printk("modes: the writes that must #GP are not run under QEMU TCG (it raises none of them,\n"
			       "  and some crash or hang the guest): use Bochs or hardware, or oracle=bochs|hw\n");
			return 1;
		}
		illegal = true;
	}
	uint64_t cr0 = read_cr0(), cr3 = read_cr3(), cr4 = read_cr4(), efer = rdmsr(MSR_EFER);
	if (!(efer & EFER_LMA) || (cr4 & X86_CR4_PCIDE)) {
		printk("modes: needs IA-32e paging without PCIDE\n");
		return 1;
	}
	unsigned levels = kernel_ctx.levels;
	struct modes_pages m;
	memset(&m, 0, sizeof(m));
	const char *err = build(&m, levels, cr3 & PTE_PFN_MASK);
	if (err) {
		printk("modes: %s\n", err);
		free_modes_pages(&m);
		return 1;
	}
	phys_addr_t t = m.tramp_block;
	uint8_t *tramp = __va(t);
	size_t size = (size_t)(modes_tramp_end - modes_tramp_start);
	if (size > MT_STACK_TOP - 0x200)
		panic("modes: the trampoline (%zu bytes) leaves no room for its stack", size);
	memset(tramp, 0, PAGE_SIZE);
	memcpy(tramp, modes_tramp_start, size);
	uint8_t *params = tramp + MT_PARAMS;
	*(uint64_t *)(params + MP_KERNEL_CR4) = cr4;
	*(uint64_t *)(params + MP_KERNEL_EFER) = efer;
	*(uint64_t *)(params + MP_KERNEL_CR0) = cr0;
	*(uint64_t *)(params + MP_CR3_32) = m.pd32;
	*(uint64_t *)(params + MP_CR3_LONG) = m.root;
	*(uint64_t *)(params + MP_LA57) = cr4 & X86_CR4_LA57;
	*(uint64_t *)(params + MP_ILLEGAL) = illegal;

	printk("modes: oracle %s: %s\n", oracle_name(),
	       illegal ? "legal transitions and the writes that must #GP"
		       : "legal transitions only (the writes that must #GP: `modes illegal` on Bochs/hardware)");
	printk("modes: trampoline at 0x%llx (identity-mapped), 32-bit page directory 0x%llx, PAE page directory 0x%llx\n",
	       (unsigned long long)t, (unsigned long long)m.pd32, (unsigned long long)m.pae_pd);

	memcpy(pd32_snapshot, __va(m.pd32), PAGE_SIZE);
	pd32_snapshot_of = m.pd32;

	/* Out of long mode and back. */
	uint64_t flags;
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
	write_cr3(m.root);
	((void (*)(uint64_t))(uintptr_t)(t + (uint64_t)(modes_tramp_entry64 - modes_tramp_start)))(t);
	uint64_t cr0_back = read_cr0(), cr4_back = read_cr4(), efer_back = rdmsr(MSR_EFER);
	write_cr3(cr3);
	__flush_tlb_all();
	if (flags & (1u << 9))
		__asm__ volatile("sti");

	/* The model from the same start: IA-32e compatibility mode, the same registers. */
	const struct cpuinfo_x86 *c = &boot_cpu_data;
	struct pg_cpu cpu;
	pg_cpu_reset(&cpu, (c->pse ? PG_CPUID_PSE : 0) | (c->pae ? PG_CPUID_PAE : 0) | (c->pge ? PG_CPUID_PGE : 0) |
			   (c->pat ? PG_CPUID_PAT : 0) | (c->pse36 ? PG_CPUID_PSE36 : 0) |
			   (c->pcid ? PG_CPUID_PCID : 0) | (c->smep ? PG_CPUID_SMEP : 0) |
			   (c->invpcid ? PG_CPUID_INVPCID : 0) | (c->smap ? PG_CPUID_SMAP : 0) |
			   (c->pku ? PG_CPUID_PKU : 0) | (c->la57 ? PG_CPUID_LA57 : 0) | (c->nx ? PG_CPUID_NX : 0) |
			   (c->gbpages ? PG_CPUID_PAGE1GB : 0) | (c->lm ? PG_CPUID_LM : 0),
		     c->phys_bits);
	cpu.cr0 = cr0;
	cpu.cr3 = m.root;
	cpu.cr4 = cr4;
	cpu.efer = efer;
	cpu.cs_l = false; /* the trampoline's first far return: compatibility mode */
	struct pg_ctx mem = { .phys_to_virt = model_phys_to_virt };

	const struct modes_log *log = (const struct modes_log *)(params + MP_LOG);
	uint32_t nsteps = *(const uint32_t *)(params + MP_NSTEPS);
	unsigned mismatches = 0;
	char model_mode[48], cpu_mode[48];

	printk(" # %-36s %-38s %s\n", "step", "model", "cpu");
	for (uint32_t i = 0; i <= nsteps && i < MT_MAX_STEPS + 1; i++) {
		bool last = i == nsteps; /* the far jump: logged by coming back at all */
		unsigned step = last ? MS_FAR_JUMP_64 : log[i].step;
		int rc = model_step(&cpu, step, &mem, m.pd32, m.root, cr4 & X86_CR4_LA57);
		int model_vector = rc == -PG_EGP ? 13 : rc ? -1 : 0;
		struct pg_cpu live = cpu;
		int live_vector = 0;
		bool regs_agree = true;
		if (!last) {
			live.cr0 = log[i].cr0;
			live.cr3 = log[i].cr3;
			live.cr4 = log[i].cr4;
			live.efer = log[i].efer;
			live_vector = (int)log[i].vector;
			regs_agree = (uint32_t)cpu.cr0 == log[i].cr0 && (uint32_t)cpu.cr3 == log[i].cr3 &&
				     (uint32_t)cpu.cr4 == log[i].cr4 && (uint32_t)cpu.efer == log[i].efer;
		} else {
			/* back in C: 64-bit code; the trampoline has restored the kernel's CR0/CR4/EFER */
			live.cr0 = cr0_back;
			live.cr4 = cr4_back;
			live.efer = efer_back;
			live.cs_l = true;
		}
		mode_text(&cpu, model_mode, sizeof(model_mode));
		mode_text(&live, cpu_mode, sizeof(cpu_mode));
		bool agree = model_vector == live_vector && regs_agree &&
			     pg_cpu_opmode(&cpu) == pg_cpu_opmode(&live) &&
			     pg_cpu_paging_mode(&cpu) == pg_cpu_paging_mode(&live);
		mismatches += !agree;
		printk("%2u %-36s %-4s %-33s %-4s %-33s %s\n", i + 1, step_name(step),
		       model_vector == 13 ? "#GP" : model_vector ? "err" : "ok", model_mode,
		       live_vector == 13 ? "#GP" : "ok", cpu_mode, agree ? "agree" : "MISMATCH");
		if (!regs_agree)
			printk("   model CR0 %08x CR3 %08x CR4 %08x EFER %08x; cpu CR0 %08x CR3 %08x CR4 %08x EFER %08x\n",
			       (uint32_t)cpu.cr0, (uint32_t)cpu.cr3, (uint32_t)cpu.cr4, (uint32_t)cpu.efer, log[i].cr0,
			       log[i].cr3, log[i].cr4, log[i].efer);
	}
	uint64_t pdpte0_after = *(uint64_t *)__va(m.pd32);
	if (pdpte0_after != pd32_snapshot[0])
		printk("   note: the CPU wrote PDPTE 0 in memory: 0x%llx -> 0x%llx (A, a reserved bit there: QEMU TCG deviation 3, see qemu_tcg_normalise)\n",
		       (unsigned long long)pd32_snapshot[0], (unsigned long long)pdpte0_after);
	free_modes_pages(&m);
	bool restored = read_cr0() == cr0 && read_cr3() == cr3 && read_cr4() == cr4 && rdmsr(MSR_EFER) == efer;
	printk("modes: %u steps, %u mismatches; back in 64-bit mode, %u-level paging, CR0/CR3/CR4/EFER %s\n",
	       nsteps + 1, mismatches, levels, restored ? "restored" : "NOT RESTORED");
	return mismatches || !restored ? 1 : 0;
}
