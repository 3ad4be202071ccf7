/*
 * test_mmu_cr.c: the control-register model (docs/mmu.md, "Control-register
 * and mode transitions"): the paging-mode transition table (which orders of
 * setting PG, PAE and LME reach
 * 32-bit, PAE and 4-level paging, which are refused), then every #GP rule of
 * MOV to CR0/CR3/CR4 and WRMSR EFER as its own test, and the operating
 * modes.
 */
#include "mmu_fixture.h"

static struct fx F;

static void teardown(void) { fx_fini(&F); }

TestSuite(mmu_transitions, .fini = teardown);
TestSuite(mmu_cr, .fini = teardown);

/* Protected mode, paging off, PG = PAE = LME = 0: where the mode transitions start. */
static void start_protected(unsigned features, unsigned phys_bits)
{
    fx_init_cpu(&F, 0, features, phys_bits);
    cr_assert_eq(pg_cpu_opmode(&F.cpu), PG_OPMODE_PROTECTED);
    cr_assert_eq(pg_cpu_paging_mode(&F.cpu), 0);
}

enum step_op { SET_PG, CLEAR_PG, SET_PAE, CLEAR_PAE, SET_LME, CLEAR_LME, SET_LA57, CLEAR_LA57,
               SET_CS_L, CLEAR_CS_L };

static const char *const op_names[] = { "set PG", "clear PG", "set PAE", "clear PAE", "set LME",
                                        "clear LME", "set LA57", "clear LA57", "far jump to 64-bit code",
                                        "far jump to compatibility code" };

/* Apply one step; returns the model's verdict. */
static int apply(enum step_op op)
{
    struct pg_cpu *c = &F.cpu;
    switch (op) {
    case SET_PG: return pg_cpu_write_cr0(c, c->cr0 | PG_CR0_PG, &F.mem, NULL);
    case CLEAR_PG: return pg_cpu_write_cr0(c, c->cr0 & ~PG_CR0_PG, &F.mem, NULL);
    case SET_PAE: return pg_cpu_write_cr4(c, c->cr4 | PG_CR4_PAE, &F.mem, NULL);
    case CLEAR_PAE: return pg_cpu_write_cr4(c, c->cr4 & ~PG_CR4_PAE, &F.mem, NULL);
    case SET_LME: return pg_cpu_write_efer(c, c->efer | PG_EFER_LME, NULL);
    case CLEAR_LME: return pg_cpu_write_efer(c, c->efer & ~PG_EFER_LME, NULL);
    case SET_LA57: return pg_cpu_write_cr4(c, c->cr4 | PG_CR4_LA57, &F.mem, NULL);
    case CLEAR_LA57: return pg_cpu_write_cr4(c, c->cr4 & ~PG_CR4_LA57, &F.mem, NULL);
    case SET_CS_L:
        if (!(c->efer & PG_EFER_LMA))
            return -PG_EINVAL;
        c->cs_l = true;
        return 0;
    case CLEAR_CS_L: c->cs_l = false; return 0;
    }
    return -PG_EINVAL;
}

struct step {
    enum step_op op;
    int verdict;        /* 0 or -PG_EGP */
    unsigned paging;    /* paging mode after the step */
    enum pg_opmode opmode;
};

#define OK(op, pm, om) { op, 0, pm, om }
#define GP(op, pm, om) { op, -PG_EGP, pm, om }
#define PROT PG_OPMODE_PROTECTED

static void run_steps(const char *name, const struct step *s, unsigned n)
{
    start_protected(PG_CPUID_ALL, 52);
    for (unsigned i = 0; i < n; i++) {
        int v = apply(s[i].op);
        cr_assert_eq(v, s[i].verdict, "%s step %u (%s): %s, expected %s", name, i + 1,
                     op_names[s[i].op], pg_strerror(v), pg_strerror(s[i].verdict));
        cr_assert_eq(pg_cpu_paging_mode(&F.cpu), s[i].paging, "%s step %u: paging %s", name,
                     i + 1, pg_paging_mode_name(pg_cpu_paging_mode(&F.cpu)));
        cr_assert_eq(pg_cpu_opmode(&F.cpu), s[i].opmode, "%s step %u: mode %s", name, i + 1,
                     pg_opmode_name(pg_cpu_opmode(&F.cpu)));
    }
}

Test(mmu_transitions, pg_first_gives_32bit_then_pae_lme_refused_throughout)
{
    static const struct step s[] = {
        OK(SET_PG, 2, PROT), GP(SET_LME, 2, PROT), OK(SET_PAE, 3, PROT), GP(SET_LME, 3, PROT),
    };
    run_steps("PG, LME, PAE, LME", s, 4);
}

Test(mmu_transitions, pae_then_pg_gives_pae_paging_lme_refused)
{
    static const struct step s[] = { OK(SET_PAE, 0, PROT), OK(SET_PG, 3, PROT), GP(SET_LME, 3, PROT) };
    run_steps("PAE, PG, LME", s, 3);
}

Test(mmu_transitions, pae_lme_pg_gives_4level)
{
    static const struct step s[] = {
        OK(SET_PAE, 0, PROT), OK(SET_LME, 0, PROT), OK(SET_PG, 4, PG_OPMODE_COMPAT),
        OK(SET_CS_L, 4, PG_OPMODE_64BIT),
    };
    run_steps("PAE, LME, PG", s, 4);
    cr_assert(F.cpu.efer & PG_EFER_LMA);
}

Test(mmu_transitions, lme_first_refuses_pg_until_pae)
{
    static const struct step s[] = {
        OK(SET_LME, 0, PROT), GP(SET_PG, 0, PROT), OK(SET_PAE, 0, PROT),
        OK(SET_PG, 4, PG_OPMODE_COMPAT),
    };
    run_steps("LME, PG, PAE, PG", s, 4);
}

Test(mmu_transitions, la57_set_before_activation_gives_5level_and_is_locked)
{
    static const struct step s[] = {
        OK(SET_LA57, 0, PROT), OK(SET_PAE, 0, PROT), OK(SET_LME, 0, PROT),
        OK(SET_PG, 5, PG_OPMODE_COMPAT), GP(CLEAR_LA57, 5, PG_OPMODE_COMPAT),
        OK(SET_CS_L, 5, PG_OPMODE_64BIT), GP(CLEAR_LA57, 5, PG_OPMODE_64BIT),
    };
    run_steps("LA57, PAE, LME, PG", s, 7);
}

Test(mmu_transitions, ia32e_is_left_only_from_compatibility_mode_through_paging_off)
{
    static const struct step s[] = {
        OK(SET_PAE, 0, PROT), OK(SET_LME, 0, PROT), OK(SET_PG, 4, PG_OPMODE_COMPAT),
        OK(SET_CS_L, 4, PG_OPMODE_64BIT),
        GP(CLEAR_PG, 4, PG_OPMODE_64BIT),       /* not from 64-bit code */
        GP(CLEAR_PAE, 4, PG_OPMODE_64BIT),      /* PAE is locked in IA-32e */
        GP(CLEAR_LME, 4, PG_OPMODE_64BIT),      /* LME is locked while PG = 1 */
        OK(CLEAR_CS_L, 4, PG_OPMODE_COMPAT),
        OK(CLEAR_PG, 0, PROT),                  /* LMA = 0: legacy protected mode */
        OK(CLEAR_LME, 0, PROT), OK(SET_PG, 3, PROT),   /* and on to PAE paging */
        OK(CLEAR_PAE, 2, PROT), OK(SET_PAE, 3, PROT),  /* 32-bit <-> PAE with paging on */
        OK(CLEAR_PG, 0, PROT), OK(SET_LME, 0, PROT), OK(SET_PG, 4, PG_OPMODE_COMPAT),
    };
    run_steps("in and out of IA-32e", s, sizeof(s) / sizeof(s[0]));
}

Test(mmu_transitions, pg_with_lme_refused_from_64bit_code_segment)
{
    start_protected(PG_CPUID_ALL, 52);
    cr_assert_eq(apply(SET_PAE), 0);
    cr_assert_eq(apply(SET_LME), 0);
    F.cpu.cs_l = true;      /* a CS with L = 1 loaded before activation */
    cr_assert_eq(apply(SET_PG), -PG_EGP);
}

Test(mmu_transitions, real_mode_pg_without_pe_refused)
{
    fx_init_cpu(&F, 0, PG_CPUID_ALL, 52);
    F.cpu.cr0 = PG_CR0_ET;
    cr_assert_eq(pg_cpu_opmode(&F.cpu), PG_OPMODE_REAL);
    cr_assert_eq(pg_cpu_write_cr0(&F.cpu, PG_CR0_ET | PG_CR0_PG, &F.mem, NULL), -PG_EGP);
    cr_assert_eq(pg_cpu_write_cr0(&F.cpu, PG_CR0_ET | PG_CR0_PE, &F.mem, NULL), 0);
    cr_assert_eq(pg_cpu_opmode(&F.cpu), PG_OPMODE_PROTECTED);
    F.cpu.rflags |= PG_RFLAGS_VM;
    cr_assert_eq(pg_cpu_opmode(&F.cpu), PG_OPMODE_V86);
}

/* ---- CR0 ---- */

Test(mmu_cr, cr0_nw_without_cd_raises_gp)
{
    start_protected(PG_CPUID_ALL, 52);
    uint64_t cr0 = F.cpu.cr0;
    cr_assert_eq(pg_cpu_write_cr0(&F.cpu, cr0 | PG_CR0_NW, &F.mem, NULL), -PG_EGP);
    cr_assert_eq(pg_cpu_write_cr0(&F.cpu, cr0 | PG_CR0_NW | PG_CR0_CD, &F.mem, NULL), 0);
}

Test(mmu_cr, cr0_bits_63_32_raise_gp)
{
    start_protected(PG_CPUID_ALL, 52);
    cr_assert_eq(pg_cpu_write_cr0(&F.cpu, F.cpu.cr0 | (1ULL << 32), &F.mem, NULL), -PG_EGP);
}

Test(mmu_cr, cr0_et_reads_as_one_and_reserved_low_bits_are_ignored)
{
    start_protected(PG_CPUID_ALL, 52);
    cr_assert_eq(pg_cpu_write_cr0(&F.cpu, PG_CR0_PE | (1ULL << 6) | (1ULL << 20), &F.mem, NULL), 0);
    cr_assert_eq(F.cpu.cr0, PG_CR0_PE | PG_CR0_ET);
}

Test(mmu_cr, cr0_clearing_pg_with_pcide_raises_gp)
{
    fx_init(&F, 4);
    F.cpu.cs_l = false;
    cr_assert_eq(pg_cpu_write_cr4(&F.cpu, F.cpu.cr4 | PG_CR4_PCIDE, &F.mem, NULL), 0);
    cr_assert_eq(pg_cpu_write_cr0(&F.cpu, F.cpu.cr0 & ~PG_CR0_PG, &F.mem, NULL), -PG_EGP);
}

Test(mmu_cr, cr0_clearing_wp_with_cet_raises_gp)
{
    fx_init(&F, 4);
    cr_assert_eq(pg_cpu_write_cr4(&F.cpu, F.cpu.cr4 | PG_CR4_CET, &F.mem, NULL), 0);
    cr_assert_eq(pg_cpu_write_cr0(&F.cpu, F.cpu.cr0 & ~PG_CR0_WP, &F.mem, NULL), -PG_EGP);
}

Test(mmu_cr, every_control_register_write_needs_cpl0)
{
    fx_init(&F, 4);
    F.cpu.cpl = 3;
    struct pg_cpu before = F.cpu;
    cr_assert_eq(pg_cpu_write_cr0(&F.cpu, F.cpu.cr0, &F.mem, NULL), -PG_EGP);
    cr_assert_eq(pg_cpu_write_cr3(&F.cpu, F.cpu.cr3, &F.mem, NULL), -PG_EGP);
    cr_assert_eq(pg_cpu_write_cr4(&F.cpu, F.cpu.cr4, &F.mem, NULL), -PG_EGP);
    cr_assert_eq(pg_cpu_write_efer(&F.cpu, F.cpu.efer, NULL), -PG_EGP);
    struct pg_tlb tlb;
    pg_tlb_init(&tlb);
    cr_assert_eq(pg_tlb_invlpg(&tlb, &F.cpu, 0), -PG_EGP);
    cr_assert_eq(pg_tlb_invpcid(&tlb, &F.cpu, 2, 0, 0), -PG_EGP);
    cr_assert_eq(memcmp(&before, &F.cpu, sizeof(before)), 0);
}

/* ---- CR4 ---- */

Test(mmu_cr, cr4_bits_of_absent_features_raise_gp)
{
    static const struct { unsigned feature; uint64_t bit; } gated[] = {
        { PG_CPUID_PSE, PG_CR4_PSE }, { PG_CPUID_PAE, PG_CR4_PAE }, { PG_CPUID_PGE, PG_CR4_PGE },
        { PG_CPUID_LA57, PG_CR4_LA57 }, { PG_CPUID_PCID, PG_CR4_PCIDE },
        { PG_CPUID_SMEP, PG_CR4_SMEP }, { PG_CPUID_SMAP, PG_CR4_SMAP },
        { PG_CPUID_PKU, PG_CR4_PKE }, { PG_CPUID_PKS, PG_CR4_PKS }, { PG_CPUID_CET, PG_CR4_CET },
    };
    for (unsigned i = 0; i < sizeof(gated) / sizeof(gated[0]); i++) {
        start_protected(PG_CPUID_ALL & ~gated[i].feature, 52);
        F.cpu.cr0 |= PG_CR0_WP;
        cr_assert_eq(pg_cpu_write_cr4(&F.cpu, gated[i].bit, &F.mem, NULL), -PG_EGP,
                     "CR4 bit %llx", (unsigned long long)gated[i].bit);
        fx_fini(&F);
        start_protected(PG_CPUID_ALL, 52);
        if (gated[i].bit == PG_CR4_PCIDE)   /* needs IA-32e: separate test */
            cr_assert_eq(pg_cpu_write_cr4(&F.cpu, gated[i].bit, &F.mem, NULL), -PG_EGP);
        else if (gated[i].bit == PG_CR4_CET)
            cr_assert_eq(pg_cpu_write_cr4(&F.cpu, gated[i].bit, &F.mem, NULL), -PG_EGP,
                         "CET needs WP");
        else
            cr_assert_eq(pg_cpu_write_cr4(&F.cpu, gated[i].bit, &F.mem, NULL), 0);
        fx_fini(&F);
    }
    start_protected(PG_CPUID_ALL, 52);
    cr_assert_eq(pg_cpu_write_cr4(&F.cpu, 1ULL << 32, &F.mem, NULL), -PG_EGP, "bits 63:32");
    cr_assert_eq(pg_cpu_write_cr4(&F.cpu, 1ULL << 19, &F.mem, NULL), -PG_EGP, "bit 19");
}

Test(mmu_cr, cr4_pcide_needs_ia32e_and_cr3_pcid_zero)
{
    fx_init(&F, 3);
    cr_assert_eq(pg_cpu_write_cr4(&F.cpu, F.cpu.cr4 | PG_CR4_PCIDE, &F.mem, NULL), -PG_EGP);
    fx_fini(&F);
    fx_init(&F, 4);
    F.cpu.cr3 |= 5;
    cr_assert_eq(pg_cpu_write_cr4(&F.cpu, F.cpu.cr4 | PG_CR4_PCIDE, &F.mem, NULL), -PG_EGP);
    F.cpu.cr3 &= ~0xFFFULL;
    cr_assert_eq(pg_cpu_write_cr4(&F.cpu, F.cpu.cr4 | PG_CR4_PCIDE, &F.mem, NULL), 0);
    /* once on, a PCID can be loaded */
    cr_assert_eq(pg_cpu_write_cr3(&F.cpu, F.cpu.cr3 | 5, &F.mem, NULL), 0);
    cr_assert_eq(F.cpu.cr3 & 0xFFF, 5);
}

Test(mmu_cr, cr4_clearing_pae_in_ia32e_raises_gp)
{
    fx_init(&F, 4);
    cr_assert_eq(pg_cpu_write_cr4(&F.cpu, F.cpu.cr4 & ~PG_CR4_PAE, &F.mem, NULL), -PG_EGP);
}

Test(mmu_cr, cr4_la57_change_in_ia32e_raises_gp)
{
    fx_init(&F, 4);
    cr_assert_eq(pg_cpu_write_cr4(&F.cpu, F.cpu.cr4 | PG_CR4_LA57, &F.mem, NULL), -PG_EGP);
    fx_fini(&F);
    fx_init(&F, 2);     /* legacy paging: legal, no effect until IA-32e activation */
    cr_assert_eq(pg_cpu_write_cr4(&F.cpu, F.cpu.cr4 | PG_CR4_LA57, &F.mem, NULL), 0);
    cr_assert_eq(pg_cpu_paging_mode(&F.cpu), PG_MODE_32BIT);
}

/* ---- CR3 ---- */

Test(mmu_cr, cr3_bits_above_maxphyaddr_raise_gp_in_ia32e)
{
    fx_init_cpu(&F, 4, PG_CPUID_ALL, 40);
    cr_assert_eq(pg_cpu_write_cr3(&F.cpu, F.cpu.cr3 | (1ULL << 40), &F.mem, NULL), -PG_EGP);
    cr_assert_eq(pg_cpu_write_cr3(&F.cpu, F.cpu.cr3 | (1ULL << 39), &F.mem, NULL), 0);
    cr_assert_eq(pg_cpu_write_cr3(&F.cpu, F.cpu.cr3 | (1ULL << 63), &F.mem, NULL), -PG_EGP,
                 "bit 63 without PCIDE");
}

Test(mmu_cr, cr3_bit63_is_a_hint_under_pcide_and_never_stored)
{
    fx_init(&F, 4);
    cr_assert_eq(pg_cpu_write_cr4(&F.cpu, F.cpu.cr4 | PG_CR4_PCIDE, &F.mem, NULL), 0);
    cr_assert_eq(pg_cpu_write_cr3(&F.cpu, F.cpu.cr3 | PG_CR3_NOFLUSH | 7, &F.mem, NULL), 0);
    cr_assert_eq(F.cpu.cr3 >> 63, 0);
    cr_assert_eq(F.cpu.cr3 & 0xFFF, 7);
}

Test(mmu_cr, cr3_outside_ia32e_uses_32_bits)
{
    fx_init(&F, 2);
    cr_assert_eq(pg_cpu_write_cr3(&F.cpu, 0xFFFFFFFF00000000ULL | F.root, &F.mem, NULL), 0);
    cr_assert_eq(F.cpu.cr3, F.root);
}

/* ---- EFER ---- */

Test(mmu_cr, efer_reserved_and_unsupported_bits_raise_gp)
{
    start_protected(PG_CPUID_ALL & ~PG_CPUID_NX, 52);
    cr_assert_eq(pg_cpu_write_efer(&F.cpu, PG_EFER_NXE, NULL), -PG_EGP);
    cr_assert_eq(pg_cpu_write_efer(&F.cpu, 1ULL << 1, NULL), -PG_EGP);
    cr_assert_eq(pg_cpu_write_efer(&F.cpu, PG_EFER_LME, NULL), 0);
    fx_fini(&F);
    start_protected(PG_CPUID_ALL & ~PG_CPUID_LM, 52);
    cr_assert_eq(pg_cpu_write_efer(&F.cpu, PG_EFER_LME, NULL), -PG_EGP);
    cr_assert_eq(pg_cpu_write_efer(&F.cpu, PG_EFER_NXE, NULL), 0);
}

Test(mmu_cr, efer_lma_is_read_only)
{
    start_protected(PG_CPUID_ALL, 52);
    cr_assert_eq(pg_cpu_write_efer(&F.cpu, PG_EFER_LMA, NULL), 0);
    cr_assert_eq(F.cpu.efer & PG_EFER_LMA, 0);
}

Test(mmu_cr, efer_lme_change_with_paging_on_raises_gp)
{
    fx_init(&F, 2);
    cr_assert_eq(pg_cpu_write_efer(&F.cpu, F.cpu.efer | PG_EFER_LME, NULL), -PG_EGP);
    cr_assert_eq(pg_cpu_write_efer(&F.cpu, F.cpu.efer ^ PG_EFER_NXE, NULL), 0, "NXE may change");
}

Test(mmu_cr, refused_writes_change_nothing)
{
    fx_init(&F, 4);
    struct pg_cpu before = F.cpu;
    cr_assert_eq(pg_cpu_write_cr0(&F.cpu, F.cpu.cr0 & ~PG_CR0_PG, &F.mem, NULL), -PG_EGP);
    cr_assert_eq(pg_cpu_write_cr4(&F.cpu, 0, &F.mem, NULL), -PG_EGP);
    cr_assert_eq(pg_cpu_write_efer(&F.cpu, 0, NULL), -PG_EGP);
    cr_assert_eq(pg_cpu_write_cr3(&F.cpu, 1ULL << 62, &F.mem, NULL), -PG_EGP);
    cr_assert_eq(memcmp(&before, &F.cpu, sizeof(before)), 0);
}
