/*
 * mmu_cr.c: the MMU model's control registers: MOV to CR0/CR3/CR4 and WRMSR
 * IA32_EFER accepted or refused with #GP (docs/mmu.md, "Control-register and
 * mode transitions"), the PAE PDPTE register loads ("Walk formats"), the TLB
 * invalidations each write implies ("TLBs and paging-structure caches"), and
 * the operating and paging modes that result (the graph of paging-mode
 * transitions through CR0.PG, CR4.PAE and EFER.LME).
 *
 * Every write first checks all its #GP conditions against the state before
 * the write, then (for PAE paging) loads the PDPTEs, and only then commits:
 * a refused write changes nothing.
 * Depends on: mmu.h, mmu_internal.h, pg_internal.h.
 */
#include <paging/mmu.h>

#include "mmu_internal.h"
#include "pg_internal.h"

/* CR0 bits the model keeps; the other reserved low bits are ignored (dropped). */
#define CR0_KNOWN_ (PG_CR0_PE | PG_CR0_MP | PG_CR0_EM | PG_CR0_TS | PG_CR0_ET | PG_CR0_NE | \
                    PG_CR0_WP | PG_CR0_AM | PG_CR0_NW | PG_CR0_CD | PG_CR0_PG)

/* CR4 bits outside paging that the model accepts on every CPU. */
#define CR4_BASE_ (PG_CR4_VME | PG_CR4_PVI | PG_CR4_TSD | PG_CR4_DE | PG_CR4_MCE | PG_CR4_PCE | \
                   PG_CR4_OSFXSR | PG_CR4_OSXMMEXCPT | PG_CR4_FSGSBASE | PG_CR4_OSXSAVE)

void pg_cpu_reset(struct pg_cpu *cpu, unsigned features, unsigned phys_bits)
{
    memset(cpu, 0, sizeof(*cpu));
    cpu->cr0 = PG_CR0_CD | PG_CR0_NW | PG_CR0_ET;
    cpu->rflags = 0x2;
    cpu->pat = PG_PAT_RESET;
    cpu->features = features;
    cpu->phys_bits = phys_bits;
}

enum pg_opmode pg_cpu_opmode(const struct pg_cpu *cpu)
{
    if (!(cpu->cr0 & PG_CR0_PE))
        return PG_OPMODE_REAL;
    if (cpu->efer & PG_EFER_LMA)
        return cpu->cs_l ? PG_OPMODE_64BIT : PG_OPMODE_COMPAT;
    return (cpu->rflags & PG_RFLAGS_VM) ? PG_OPMODE_V86 : PG_OPMODE_PROTECTED;
}

const char *pg_opmode_name(enum pg_opmode mode)
{
    switch (mode) {
    case PG_OPMODE_REAL: return "real";
    case PG_OPMODE_PROTECTED: return "protected";
    case PG_OPMODE_V86: return "virtual-8086";
    case PG_OPMODE_COMPAT: return "compatibility";
    case PG_OPMODE_64BIT: return "64-bit";
    }
    return "unknown";
}

const char *pg_paging_mode_name(unsigned paging_mode)
{
    if (!paging_mode)
        return "none";
    const struct pg_mode_desc *m = pg_mode_get(paging_mode);
    return m ? m->name : "unknown";
}

int pg_cpu_load_pdptes(struct pg_cpu *cpu, const struct pg_ctx *mem)
{
    if (!mem || !mem->phys_to_virt)
        return -PG_EINVAL;
    phys_addr_t base = pg_cr3_root(PG_MODE_PAE, cpu->cr3);
    const uint64_t *pdpt = mem->phys_to_virt(mem->arg, base);
    if (!pdpt)
        return -PG_EIO;
    struct pg_ctx c = { .phys_to_virt = mem->phys_to_virt, .arg = mem->arg,
                        .levels = PG_MODE_PAE, .phys_bits = cpu->phys_bits ? cpu->phys_bits : 36 };
    uint64_t regs[4];
    for (unsigned i = 0; i < 4; i++) {
        regs[i] = pdpt[i];
        if (pg_entry_reserved(&c, 3, regs[i]))
            return -PG_EGP;
    }
    memcpy(cpu->pdpte, regs, sizeof(regs));
    return 0;
}

/* Will paging be PAE paging with these CR0/CR4/LMA values? */
static bool pae_paging_(uint64_t cr0, uint64_t cr4, bool lma)
{
    return (cr0 & PG_CR0_PG) && (cr4 & PG_CR4_PAE) && !lma;
}

/*
 * Load the PDPTEs as the write's new state would (CR3 base from cr3) into
 * a scratch copy; the caller commits them with the write.
 */
static int preload_pdptes_(const struct pg_cpu *cpu, uint64_t cr3, const struct pg_ctx *mem,
                           uint64_t out[4])
{
    struct pg_cpu tmp = *cpu;
    tmp.cr3 = cr3;
    int err = pg_cpu_load_pdptes(&tmp, mem);
    if (!err)
        memcpy(out, tmp.pdpte, sizeof(tmp.pdpte));
    return err;
}

int pg_cpu_write_cr0(struct pg_cpu *cpu, uint64_t val, const struct pg_ctx *mem,
                     struct pg_tlb *tlb)
{
    if (cpu->cpl)
        return -PG_EGP;
    if (val >> 32)
        return -PG_EGP;
    val = (val & CR0_KNOWN_) | PG_CR0_ET;
    uint64_t old = cpu->cr0;
    bool set_pg = !(old & PG_CR0_PG) && (val & PG_CR0_PG);
    bool clear_pg = (old & PG_CR0_PG) && !(val & PG_CR0_PG);

    if ((val & PG_CR0_PG) && !(val & PG_CR0_PE))
        return -PG_EGP;
    if ((val & PG_CR0_NW) && !(val & PG_CR0_CD))
        return -PG_EGP;
    if (set_pg && (cpu->efer & PG_EFER_LME) && (!(cpu->cr4 & PG_CR4_PAE) || cpu->cs_l))
        return -PG_EGP;     /* IA-32e activation needs PAE and must not start in 64-bit code */
    if (clear_pg && (cpu->efer & PG_EFER_LMA) && cpu->cs_l)
        return -PG_EGP;     /* leaving IA-32e only from compatibility mode */
    if (clear_pg && (cpu->cr4 & PG_CR4_PCIDE))
        return -PG_EGP;
    if (!(val & PG_CR0_WP) && (cpu->cr4 & PG_CR4_CET))
        return -PG_EGP;

    bool lma = (val & PG_CR0_PG) && (cpu->efer & PG_EFER_LME);
    uint64_t pdptes[4];
    bool load = pae_paging_(val, cpu->cr4, lma) &&
                ((old ^ val) & (PG_CR0_CD | PG_CR0_NW | PG_CR0_PG));
    if (load) {
        int err = preload_pdptes_(cpu, cpu->cr3, mem, pdptes);
        if (err)
            return err;
        memcpy(cpu->pdpte, pdptes, sizeof(pdptes));
    }
    cpu->cr0 = val;
    cpu->efer = (cpu->efer & ~PG_EFER_LMA) | (lma ? PG_EFER_LMA : 0);
    if (!lma)
        cpu->cs_l = false;  /* CS.L means nothing outside IA-32e */
    if (clear_pg)
        pg_tlb_flush_(tlb, SEL_ALL_, 0, 0);
    return 0;
}

int pg_cpu_write_cr3(struct pg_cpu *cpu, uint64_t val, const struct pg_ctx *mem,
                     struct pg_tlb *tlb)
{
    if (cpu->cpl)
        return -PG_EGP;
    bool lma = cpu->efer & PG_EFER_LMA;
    bool pcide = cpu->cr4 & PG_CR4_PCIDE;
    bool noflush = false;
    if (lma) {
        unsigned m = cpu->phys_bits ? cpu->phys_bits : 36;
        uint64_t checked = pcide ? (val & ~PG_CR3_NOFLUSH) : val;
        if (checked & bits_(63, m))
            return -PG_EGP;
        noflush = pcide && (val & PG_CR3_NOFLUSH);
        val &= ~PG_CR3_NOFLUSH;
    } else {
        val &= 0xFFFFFFFFULL;
    }
    if (pae_paging_(cpu->cr0, cpu->cr4, lma)) {
        uint64_t pdptes[4];
        int err = preload_pdptes_(cpu, val, mem, pdptes);
        if (err)
            return err;
        memcpy(cpu->pdpte, pdptes, sizeof(pdptes));
    }
    cpu->cr3 = val;
    if (!noflush)
        pg_tlb_flush_(tlb, SEL_PCID_NONGLOBAL_, cur_pcid_(cpu), 0);
    return 0;
}

/* CR4 bits this CPU supports. */
static uint64_t cr4_valid_(const struct pg_cpu *cpu)
{
    uint64_t ok = CR4_BASE_;
    static const struct { unsigned feature; uint64_t bit; } gated[] = {
        { PG_CPUID_PSE, PG_CR4_PSE }, { PG_CPUID_PAE, PG_CR4_PAE }, { PG_CPUID_PGE, PG_CR4_PGE },
        { PG_CPUID_LA57, PG_CR4_LA57 }, { PG_CPUID_PCID, PG_CR4_PCIDE },
        { PG_CPUID_SMEP, PG_CR4_SMEP }, { PG_CPUID_SMAP, PG_CR4_SMAP },
        { PG_CPUID_PKU, PG_CR4_PKE }, { PG_CPUID_CET, PG_CR4_CET }, { PG_CPUID_PKS, PG_CR4_PKS },
    };
    for (unsigned i = 0; i < sizeof(gated) / sizeof(gated[0]); i++)
        if (has_(cpu, gated[i].feature))
            ok |= gated[i].bit;
    return ok;
}

int pg_cpu_write_cr4(struct pg_cpu *cpu, uint64_t val, const struct pg_ctx *mem,
                     struct pg_tlb *tlb)
{
    if (cpu->cpl)
        return -PG_EGP;
    if (val & ~cr4_valid_(cpu))
        return -PG_EGP;
    uint64_t old = cpu->cr4, changed = old ^ val;
    bool lma = cpu->efer & PG_EFER_LMA;
    if (lma && !(val & PG_CR4_PAE))
        return -PG_EGP;
    if (lma && (changed & PG_CR4_LA57))
        return -PG_EGP;
    if (!(old & PG_CR4_PCIDE) && (val & PG_CR4_PCIDE) && (!lma || (cpu->cr3 & PG_CR3_PCID)))
        return -PG_EGP;
    if ((val & PG_CR4_CET) && !(cpu->cr0 & PG_CR0_WP))
        return -PG_EGP;

    if (pae_paging_(cpu->cr0, val, lma) &&
        (changed & (PG_CR4_PAE | PG_CR4_PGE | PG_CR4_PSE | PG_CR4_SMEP))) {
        uint64_t pdptes[4];
        int err = preload_pdptes_(cpu, cpu->cr3, mem, pdptes);
        if (err)
            return err;
        memcpy(cpu->pdpte, pdptes, sizeof(pdptes));
    }
    cpu->cr4 = val;
    if ((changed & PG_CR4_PGE) || ((old & PG_CR4_PCIDE) && !(val & PG_CR4_PCIDE)))
        pg_tlb_flush_(tlb, SEL_ALL_, 0, 0);
    else if ((changed & PG_CR4_PAE) || (!(old & PG_CR4_SMEP) && (val & PG_CR4_SMEP)))
        pg_tlb_flush_(tlb, SEL_PCID_, cur_pcid_(cpu), 0);
    return 0;
}

int pg_cpu_write_efer(struct pg_cpu *cpu, uint64_t val, struct pg_tlb *tlb)
{
    (void)tlb;      /* no EFER change requires an invalidation */
    if (cpu->cpl)
        return -PG_EGP;
    uint64_t ok = 0;
    if (has_(cpu, PG_CPUID_LM))
        ok |= PG_EFER_SCE | PG_EFER_LME | PG_EFER_LMA;
    if (has_(cpu, PG_CPUID_NX))
        ok |= PG_EFER_NXE;
    if (val & ~ok)
        return -PG_EGP;
    if (((val ^ cpu->efer) & PG_EFER_LME) && (cpu->cr0 & PG_CR0_PG))
        return -PG_EGP;
    bool lma = (cpu->cr0 & PG_CR0_PG) && (val & PG_EFER_LME);
    cpu->efer = (val & ~PG_EFER_LMA) | (lma ? PG_EFER_LMA : 0);
    return 0;
}

int pg_cpu_set_paging(struct pg_cpu *cpu, unsigned levels, phys_addr_t root,
                      const struct pg_ctx *mem)
{
    if (levels == 1 || levels > 5)
        return -PG_EINVAL;
    if (levels >= PG_MODE_PAE && !has_(cpu, PG_CPUID_PAE))
        return -PG_EINVAL;
    if (levels >= PG_MODE_4LEVEL && !has_(cpu, PG_CPUID_LM))
        return -PG_EINVAL;
    if (levels == PG_MODE_5LEVEL && !has_(cpu, PG_CPUID_LA57))
        return -PG_EINVAL;
    struct pg_cpu n = *cpu;
    n.cpl = 0;
    n.cr0 = PG_CR0_PE | PG_CR0_ET | (levels ? PG_CR0_WP | PG_CR0_PG : 0);
    n.cr4 &= ~(PG_CR4_PAE | PG_CR4_LA57 | PG_CR4_PCIDE);
    n.efer &= ~(PG_EFER_LME | PG_EFER_LMA | PG_EFER_NXE);
    if (has_(cpu, PG_CPUID_NX))
        n.efer |= PG_EFER_NXE;
    n.cs_l = false;
    if (levels >= PG_MODE_PAE)
        n.cr4 |= PG_CR4_PAE;
    if (levels >= PG_MODE_4LEVEL) {
        n.efer |= PG_EFER_LME | PG_EFER_LMA;
        n.cs_l = true;
    }
    if (levels == PG_MODE_5LEVEL)
        n.cr4 |= PG_CR4_LA57;
    n.cr3 = root;
    if (levels == PG_MODE_PAE) {
        int err = pg_cpu_load_pdptes(&n, mem);
        if (err)
            return err;
    }
    *cpu = n;
    return 0;
}
