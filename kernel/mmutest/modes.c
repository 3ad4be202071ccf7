/*
 * modes.c: `modes [illegal]`, the paging-mode transitions (CR0.PG, CR4.PAE,
 * EFER.LME) on the live CPU next to lib/paging's control-register model
 * (docs/mmu.md, "On the live CPU").
 *
 * The trampoline (modes_32.S, set up by modes_env.c) leaves long mode and, in
 * legacy protected mode, makes one control-register write per step: 32-bit
 * paging, PAE paging by setting CR4.PAE with paging on, paging off, and back
 * to IA-32e (PAE, CR3, LME, PG) and 64-bit mode. Each step is logged (#GP or
 * not, CR0, CR3, CR4, EFER); this file replays the same writes on the model
 * from the same state (pg_cpu_write_cr0/cr3/cr4/efer, pg_cpu_opmode,
 * pg_cpu_paging_mode) and compares.
 *
 * The writes that must #GP (EFER.LME with paging on, in 32-bit and in PAE
 * paging; CR0.PG with LME = 1 and PAE = 0) run only when the oracle is not
 * QEMU TCG, which raises none of them and can crash or hang on some
 * (docs/mmu.md, "QEMU TCG deviations"): `modes illegal` on Bochs or hardware,
 * or with `oracle=bochs` on the command line. The trampoline's 32-bit IDT
 * catches the #GP and resumes after the write.
 * Depends on: modes_env.c, oracle.c, lib/paging's control-register model.
 */
#include <asm/console.h>
#include <asm/cpufeature.h>
#include <asm/page.h>
#include <asm/pgtable.h>
#include <asm/processor.h>
#include <lib/vsprintf.h>
#include <linux/shell.h>

#include "mmutest.h"

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

/* What the model replays against: its memory, and the two CR3 values and LA57 of the run. */
struct modes_model {
	struct pg_cpu cpu;
	struct pg_ctx mem;
	uint64_t pd32, long_root, la57;
};

/*
 * The model's version of step `step` from its current state.
 * returns: 0, or -PG_EGP (or another -PG_E*) as pg_cpu_write_* does.
 */
static int model_step(struct modes_model *mm, unsigned step)
{
	struct pg_cpu *cpu = &mm->cpu;

	switch (step) {
	case MS_CLEAR_PG_COMPAT:
	case MS_CLEAR_PG:
		return pg_cpu_write_cr0(cpu, cpu->cr0 & ~PG_CR0_PG, &mm->mem, 0);
	case MS_SET_PG_32BIT:
	case MS_PG_LME_NO_PAE:
	case MS_SET_PG_LONG:
		return pg_cpu_write_cr0(cpu, cpu->cr0 | PG_CR0_PG, &mm->mem, 0);
	case MS_CLEAR_LME:
		return pg_cpu_write_efer(cpu, cpu->efer & ~PG_EFER_LME, 0);
	case MS_LME_IN_32BIT:
	case MS_LME_IN_PAE:
	case MS_LME_NO_PAE:
	case MS_SET_LME:
		return pg_cpu_write_efer(cpu, cpu->efer | PG_EFER_LME, 0);
	case MS_CR4_LEGACY:
		return pg_cpu_write_cr4(cpu, (cpu->cr4 & ~(PG_CR4_PAE | PG_CR4_LA57)) | PG_CR4_PSE, &mm->mem, 0);
	case MS_SET_PAE_PAGING:
		return pg_cpu_write_cr4(cpu, cpu->cr4 | PG_CR4_PAE, &mm->mem, 0);
	case MS_CLEAR_PAE:
		return pg_cpu_write_cr4(cpu, cpu->cr4 & ~PG_CR4_PAE, &mm->mem, 0);
	case MS_CR4_LONG:
		return pg_cpu_write_cr4(cpu, cpu->cr4 | PG_CR4_PAE | mm->la57, &mm->mem, 0);
	case MS_CR3_PD32:
		return pg_cpu_write_cr3(cpu, mm->pd32, &mm->mem, 0);
	case MS_CR3_LONG:
		return pg_cpu_write_cr3(cpu, mm->long_root, &mm->mem, 0);
	case MS_FAR_JUMP_64:
		cpu->cs_l = true;
		return 0;
	default:
		return -PG_EINVAL;
	}
}

/*
 * The model reads the 32-bit page directory (as the PAE PDPT) as it was before
 * the CPU ran: QEMU TCG writes A into in-memory PDPTEs (docs/mmu.md, "QEMU TCG
 * deviations"), where bit 5 is reserved, so the page afterwards is not what
 * the CPU loaded.
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

/* The model at the trampoline's start: IA-32e compatibility mode, the kernel's registers, CR3 = long_root. */
static void model_init(struct modes_model *mm, const struct modes_env *m, uint64_t cr0, uint64_t cr4, uint64_t efer)
{
	pg_cpu_reset(&mm->cpu, mmutest_cpuid_features(), boot_cpu_data.phys_bits);
	mm->cpu.cr0 = cr0;
	mm->cpu.cr3 = m->root;
	mm->cpu.cr4 = cr4;
	mm->cpu.efer = efer;
	mm->cpu.cs_l = false; /* the trampoline's first far return: compatibility mode */
	mm->mem = (struct pg_ctx){ .phys_to_virt = model_phys_to_virt };
	mm->pd32 = m->pd32;
	mm->long_root = m->root;
	mm->la57 = cr4 & X86_CR4_LA57;
}

static void mode_text(const struct pg_cpu *cpu, char *buf, size_t size)
{
	ksnprintf(buf, size, "%s, paging %s", pg_opmode_name(pg_cpu_opmode(cpu)),
		  pg_paging_mode_name(pg_cpu_paging_mode(cpu)));
}

/*
 * Step i of the log (i == nsteps: the far jump to 64-bit code, logged by
 * coming back at all) on the model, printed next to the CPU's.
 * returns: true if they agree.
 */
static bool compare_step(struct modes_model *mm, const struct modes_env *m, uint32_t i, uint32_t nsteps)
{
	const struct modes_log *log = &modes_env_params(m)->log[i];
	bool last = i == nsteps;
	unsigned step = last ? MS_FAR_JUMP_64 : log->step;
	int rc = model_step(mm, step);
	int model_vector = rc == -PG_EGP ? 13 : rc ? -1 : 0;
	const struct pg_cpu *cpu = &mm->cpu;
	struct pg_cpu live = *cpu;
	int live_vector = 0;
	bool regs_agree = true;
	char model_mode[48], cpu_mode[48];

	if (!last) {
		live.cr0 = log->cr0;
		live.cr3 = log->cr3;
		live.cr4 = log->cr4;
		live.efer = log->efer;
		live_vector = (int)log->vector;
		regs_agree = (uint32_t)cpu->cr0 == log->cr0 && (uint32_t)cpu->cr3 == log->cr3 &&
			     (uint32_t)cpu->cr4 == log->cr4 && (uint32_t)cpu->efer == log->efer;
	} else {
		/* back in C: 64-bit code; the trampoline has restored the kernel's CR0/CR4/EFER */
		live.cr0 = m->cr0_back;
		live.cr4 = m->cr4_back;
		live.efer = m->efer_back;
		live.cs_l = true;
	}
	mode_text(cpu, model_mode, sizeof(model_mode));
	mode_text(&live, cpu_mode, sizeof(cpu_mode));
	bool agree = model_vector == live_vector && regs_agree && pg_cpu_opmode(cpu) == pg_cpu_opmode(&live) &&
		     pg_cpu_paging_mode(cpu) == pg_cpu_paging_mode(&live);
	printk("%2u %-36s %-4s %-33s %-4s %-33s %s\n", i + 1, step_name(step),
	       model_vector == 13 ? "#GP" : model_vector ? "err" : "ok", model_mode, live_vector == 13 ? "#GP" : "ok",
	       cpu_mode, agree ? "agree" : "MISMATCH");
	if (!regs_agree)
		printk("   model CR0 %08x CR3 %08x CR4 %08x EFER %08x; cpu CR0 %08x CR3 %08x CR4 %08x EFER %08x\n",
		       (uint32_t)cpu->cr0, (uint32_t)cpu->cr3, (uint32_t)cpu->cr4, (uint32_t)cpu->efer, log->cr0,
		       log->cr3, log->cr4, log->efer);
	return agree;
}

/* `modes [illegal]`: returns: 1 for bad arguments, 0 to run, with *illegal set. */
static int parse_args(int argc, char **argv, bool *illegal)
{
	*illegal = false;
	if (argc > 2 || (argc == 2 && !streq(argv[1], "illegal"))) {
		printk("usage: modes [illegal]\n");
		return 1;
	}
	if (argc == 2) {
		if (oracle_is_qemu_tcg()) {
			printk("modes: the writes that must #GP are not run under QEMU TCG (it raises none of them,\n"
			       "  and some crash or hang the guest): use Bochs or hardware, or oracle=bochs|hw\n");
			return 1;
		}
		*illegal = true;
	}
	return 0;
}

int modes_command(int argc, char **argv)
{
	bool illegal;

	if (parse_args(argc, argv, &illegal))
		return 1;
	uint64_t cr0 = read_cr0(), cr3 = read_cr3(), cr4 = read_cr4(), efer = rdmsr(MSR_EFER);
	if (!(efer & EFER_LMA) || (cr4 & X86_CR4_PCIDE)) {
		printk("modes: needs IA-32e paging without PCIDE\n");
		return 1;
	}
	unsigned levels = kernel_ctx.levels;
	struct modes_env m;
	memset(&m, 0, sizeof(m));
	const char *err = modes_env_build(&m, levels, current_root());
	if (err) {
		printk("modes: %s\n", err);
		modes_env_free(&m);
		return 1;
	}
	printk("modes: oracle %s: %s\n", oracle_name(),
	       illegal ? "legal transitions and the writes that must #GP"
		       : "legal transitions only (the writes that must #GP: `modes illegal` on Bochs/hardware)");
	printk("modes: trampoline at 0x%llx (identity-mapped), 32-bit page directory 0x%llx, PAE page directory 0x%llx\n",
	       (unsigned long long)m.tramp, (unsigned long long)m.pd32, (unsigned long long)m.pae_pd);
	memcpy(pd32_snapshot, __va(m.pd32), PAGE_SIZE);
	pd32_snapshot_of = m.pd32;

	modes_env_run(&m, cr3, illegal); /* out of long mode and back */

	struct modes_model mm;
	model_init(&mm, &m, cr0, cr4, efer);
	uint32_t nsteps = (uint32_t)modes_env_params(&m)->nsteps;
	unsigned mismatches = 0;
	printk(" # %-36s %-38s %s\n", "step", "model", "cpu");
	for (uint32_t i = 0; i <= nsteps && i < MT_MAX_STEPS + 1; i++)
		mismatches += !compare_step(&mm, &m, i, nsteps);
	uint64_t pdpte0_after = *(uint64_t *)__va(m.pd32);
	if (pdpte0_after != pd32_snapshot[0])
		printk("   note: the CPU wrote PDPTE 0 in memory: 0x%llx -> 0x%llx (A, a reserved bit there: QEMU TCG deviation 3, see qemu_tcg_normalise)\n",
		       (unsigned long long)pd32_snapshot[0], (unsigned long long)pdpte0_after);
	modes_env_free(&m);
	bool restored = read_cr0() == cr0 && read_cr3() == cr3 && read_cr4() == cr4 && rdmsr(MSR_EFER) == efer;
	printk("modes: %u steps, %u mismatches; back in 64-bit mode, %u-level paging, CR0/CR3/CR4/EFER %s\n",
	       nsteps + 1, mismatches, levels, restored ? "restored" : "NOT RESTORED");
	return mismatches || !restored ? 1 : 0;
}
