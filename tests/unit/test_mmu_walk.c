/*
 * test_mmu_walk.c: the walk side of the MMU model: every page size of every
 * paging mode (docs/mmu.md, "Paging modes", "Walk formats"), not-present
 * entries, reserved bits by MAXPHYADDR,
 * level and feature ("Reserved bits"), the accessed/dirty updates and their policies
 * ("Accessed and dirty flags"), and the PAE PDPTE registers ("Walk formats").
 * Each test is named after the rule
 * it checks.
 */
#include "mmu_fixture.h"

static struct fx F;

static void teardown(void) { fx_fini(&F); }

TestSuite(mmu_walk, .fini = teardown);
TestSuite(mmu_rsvd, .fini = teardown);
TestSuite(mmu_ad, .fini = teardown);
TestSuite(mmu_pae, .fini = teardown);

#define VA 0x00007F0000201123ULL
#define VA32 0x00801123ULL

/* Flags with P|W|U|... everywhere and `leaf_flags` in the leaf. */
static void map_leaf(virt_addr_t va, int leaf, uint64_t upper, uint64_t leaf_flags)
{
    uint64_t fl[PG_MAX_LEVELS + 1];
    for (int l = 0; l <= PG_MAX_LEVELS; l++)
        fl[l] = upper;
    if (F.levels == PG_MODE_PAE)
        fl[3] = PTE_P;
    fl[leaf] = leaf_flags;
    fx_map(&F, va, leaf, fl);
}

/* ---- page sizes ---- */

static void check_size(unsigned levels, virt_addr_t va, int leaf, uint64_t size)
{
    fx_init(&F, levels);
    if (levels == PG_MODE_32BIT)
        F.cpu.cr4 |= PG_CR4_PSE;
    map_leaf(va, leaf, FX_URW, FX_URW);
    struct pg_mmu_result r = fx_access(&F, va, PG_ACC_READ);
    fx_assert_ok(r);
    cr_assert_eq(r.leaf_level, leaf, "%u-level leaf %d", levels, leaf);
    cr_assert_eq(r.page_size, size);
    cr_assert_eq(r.pa, FX_FRAME + (va & (size - 1)));
    cr_assert_eq(r.walk.nsteps, levels - (unsigned)leaf + 1);
    fx_fini(&F);
}

Test(mmu_walk, every_page_size_of_every_mode)
{
    check_size(2, VA32, 1, 4096);
    check_size(2, VA32, 2, 4u << 20);
    check_size(3, VA32, 1, 4096);
    check_size(3, VA32, 2, 2u << 20);
    check_size(4, VA, 1, 4096);
    check_size(4, VA, 2, 2u << 20);
    check_size(4, VA, 3, 1u << 30);
    check_size(5, 0xFF7F000000201123ULL, 1, 4096);
    check_size(5, 0xFF7F000000201123ULL, 2, 2u << 20);
    check_size(5, 0xFF7F000000201123ULL, 3, 1u << 30);
    fx_init(&F, 2);     /* teardown's */
}

Test(mmu_walk, pse_36_puts_pde_bits_20_13_above_bit_31)
{
    fx_init(&F, 2);
    F.cpu.cr4 |= PG_CR4_PSE;
    map_leaf(VA32, 2, FX_URW, FX_URW | (0x12ULL << 13));
    struct pg_mmu_result r = fx_access(&F, VA32, PG_ACC_READ);
    fx_assert_ok(r);
    cr_assert_eq(r.pa, 0x1200000000ULL + FX_FRAME + (VA32 & 0x3FFFFF));
}

Test(mmu_walk, ps_ignored_in_32bit_pde_when_cr4_pse_clear)
{
    fx_init(&F, 2);
    /* a PDE with PS pointing to a page table: without CR4.PSE it is a table */
    map_leaf(VA32, 1, FX_URW | PTE_PS, FX_URW);
    struct pg_mmu_result r = fx_access(&F, VA32, PG_ACC_READ);
    fx_assert_ok(r);
    cr_assert_eq(r.page_size, 4096);
    F.cpu.cr4 |= PG_CR4_PSE;    /* now the same PDE is a 4 MiB page */
    r = fx_access(&F, VA32, PG_ACC_READ);
    fx_assert_ok(r);
    cr_assert_eq(r.page_size, 4u << 20);
}

Test(mmu_walk, not_present_entry_stops_the_walk_with_p_clear)
{
    for (unsigned levels = 2; levels <= 5; levels++) {
        virt_addr_t va = levels < 4 ? VA32 : VA;
        for (int level = (int)levels; level >= 1; level--) {
            if (levels == PG_MODE_PAE && level == 3)
                continue;   /* the PDPTE register case is in mmu_pae */
            fx_init(&F, levels);
            map_leaf(va, 1, FX_URW, FX_URW);
            /* not present: the other bits, reserved ones included, are ignored */
            fx_set_entry(&F, level, 0xFFFFFFFFFFFFFFFEULL);
            F.cpu.cpl = 3;
            struct pg_mmu_result r = fx_access(&F, va, PG_ACC_WRITE);
            fx_assert_pf(r, PG_PFEC_W | PG_PFEC_U);
            cr_assert_eq(r.fault_level, level);
            cr_assert_eq(r.walk.nsteps, levels - (unsigned)level + 1);
            fx_fini(&F);
        }
    }
    fx_init(&F, 2);
}

/* ---- reserved bits (docs/mmu.md, "Reserved bits") ---- */

/* Expect a reserved-bit fault at `level` with exactly these bits. */
static void expect_rsvd(virt_addr_t va, int level, uint64_t bits)
{
    F.cpu.cpl = 3;
    struct pg_mmu_result r = fx_access(&F, va, PG_ACC_READ);
    fx_assert_pf(r, PG_PFEC_P | PG_PFEC_RSVD | PG_PFEC_U);
    cr_assert_eq(r.fault_level, level);
    cr_assert_eq(r.rsvd_bits, bits, "rsvd %llx expected %llx", (unsigned long long)r.rsvd_bits,
                 (unsigned long long)bits);
    F.cpu.cpl = 0;
}

Test(mmu_rsvd, bits_51_to_maxphyaddr_reserved_at_every_4level_entry)
{
    static const unsigned ms[] = { 36, 40, 46, 52 };
    for (unsigned i = 0; i < 4; i++) {
        for (int level = 4; level >= 1; level--) {
            fx_init_cpu(&F, 4, PG_CPUID_ALL, ms[i]);
            map_leaf(VA, 1, FX_URW, FX_URW);
            uint64_t e = fx_entry(&F, level);
            fx_set_entry(&F, level, e | (1ULL << 51));
            if (ms[i] < 52) {
                expect_rsvd(VA, level, 1ULL << 51);
                fx_set_entry(&F, level, e | (1ULL << ms[i]));
                expect_rsvd(VA, level, 1ULL << ms[i]);
                if (level == 1) {   /* bit M-1 is an address bit (the frame is never read) */
                    fx_set_entry(&F, level, e | (1ULL << (ms[i] - 1)));
                    struct pg_mmu_result r = fx_access(&F, VA, PG_ACC_READ);
                    fx_assert_ok(r);
                    cr_assert_eq(r.pa >> (ms[i] - 1), 1);
                }
            }
            fx_fini(&F);
        }
    }
    fx_init(&F, 4);
}

Test(mmu_rsvd, bit_63_reserved_without_nxe)
{
    fx_init(&F, 4);
    F.cpu.efer &= ~PG_EFER_NXE;
    for (int level = 4; level >= 1; level--) {
        map_leaf(VA, 1, FX_URW, FX_URW);
        fx_set_entry(&F, level, fx_entry(&F, level) | PTE_NX);
        expect_rsvd(VA, level, PTE_NX);
    }
    fx_fini(&F);
    fx_init(&F, 3);
    F.cpu.efer &= ~PG_EFER_NXE;
    map_leaf(VA32, 1, FX_URW, FX_URW | PTE_NX);
    expect_rsvd(VA32, 1, PTE_NX);
}

Test(mmu_rsvd, bits_62_52_ignored_in_4level_reserved_in_pae)
{
    fx_init(&F, 4);
    map_leaf(VA, 1, FX_URW | (0x7FFULL << 52), FX_URW | (0x7FFULL << 52));
    fx_assert_ok(fx_access(&F, VA, PG_ACC_READ));
    fx_fini(&F);
    fx_init(&F, 3);
    map_leaf(VA32, 1, FX_URW, FX_URW | (1ULL << 55));
    expect_rsvd(VA32, 1, 1ULL << 55);
    map_leaf(VA32, 1, FX_URW | (1ULL << 62), FX_URW);
    expect_rsvd(VA32, 2, 1ULL << 62);
}

Test(mmu_rsvd, ps_reserved_in_pml4e_and_pml5e)
{
    fx_init(&F, 5);
    virt_addr_t va = 0xFF7F000000201123ULL;
    map_leaf(va, 1, FX_URW, FX_URW);
    fx_set_entry(&F, 5, fx_entry(&F, 5) | PTE_PS);
    expect_rsvd(va, 5, PTE_PS);
    map_leaf(va, 1, FX_URW, FX_URW);
    fx_set_entry(&F, 4, fx_entry(&F, 4) | PTE_PS);
    expect_rsvd(va, 4, PTE_PS);
}

Test(mmu_rsvd, pdpte_ps_reserved_without_page1gb)
{
    fx_init_cpu(&F, 4, PG_CPUID_ALL & ~PG_CPUID_PAGE1GB, 52);
    map_leaf(VA, 3, FX_URW, FX_URW);
    expect_rsvd(VA, 3, PTE_PS);
}

Test(mmu_rsvd, large_leaf_low_address_bits_reserved)
{
    fx_init(&F, 4);
    map_leaf(VA, 3, FX_URW, FX_URW | (1ULL << 29));
    expect_rsvd(VA, 3, 1ULL << 29);
    map_leaf(VA, 3, FX_URW, FX_URW | (1ULL << 13));
    expect_rsvd(VA, 3, 1ULL << 13);
    map_leaf(VA, 3, FX_URW, FX_URW | PTE_PAT_LARGE);    /* bit 12 is PAT */
    fx_assert_ok(fx_access(&F, VA, PG_ACC_READ));
    map_leaf(VA, 2, FX_URW, FX_URW | (1ULL << 20));
    expect_rsvd(VA, 2, 1ULL << 20);
    fx_fini(&F);
    fx_init(&F, 3);
    map_leaf(VA32, 2, FX_URW, FX_URW | (1ULL << 13));
    expect_rsvd(VA32, 2, 1ULL << 13);
}

Test(mmu_rsvd, pse36_reserved_bits_follow_maxphyaddr)
{
    /* M = 36: bits 21:17 reserved, 16:13 are PA[35:32] */
    fx_init_cpu(&F, 2, PG_CPUID_ALL, 36);
    F.cpu.cr4 |= PG_CR4_PSE;
    map_leaf(VA32, 2, FX_URW, FX_URW | (1ULL << 17));
    expect_rsvd(VA32, 2, 1ULL << 17);
    map_leaf(VA32, 2, FX_URW, FX_URW | (1ULL << 16));
    fx_assert_ok(fx_access(&F, VA32, PG_ACC_READ));
    fx_fini(&F);
    /* M = 40 (and above, M' = min(M, 40)): only bit 21 */
    fx_init_cpu(&F, 2, PG_CPUID_ALL, 46);
    F.cpu.cr4 |= PG_CR4_PSE;
    map_leaf(VA32, 2, FX_URW, FX_URW | (1ULL << 20));
    fx_assert_ok(fx_access(&F, VA32, PG_ACC_READ));
    map_leaf(VA32, 2, FX_URW, FX_URW | (1ULL << 21));
    expect_rsvd(VA32, 2, 1ULL << 21);
    fx_fini(&F);
    /* no PSE-36: 21:13 */
    fx_init_cpu(&F, 2, PG_CPUID_ALL & ~PG_CPUID_PSE36, 40);
    F.cpu.cr4 |= PG_CR4_PSE;
    map_leaf(VA32, 2, FX_URW, FX_URW | (1ULL << 13));
    expect_rsvd(VA32, 2, 1ULL << 13);
}

Test(mmu_rsvd, pat_bits_reserved_in_32bit_without_pat)
{
    fx_init_cpu(&F, 2, PG_CPUID_ALL & ~PG_CPUID_PAT, 40);
    F.cpu.cr4 |= PG_CR4_PSE;
    map_leaf(VA32, 1, FX_URW, FX_URW | PTE_PAT);
    expect_rsvd(VA32, 1, PTE_PAT);
    map_leaf(VA32, 2, FX_URW, FX_URW | PTE_PAT_LARGE);
    expect_rsvd(VA32, 2, PTE_PAT_LARGE);
}

Test(mmu_rsvd, no_reserved_bits_in_32bit_paging_without_pse)
{
    fx_init(&F, 2);
    map_leaf(VA32, 1, FX_URW | PTE_PS | (1ULL << 8), FX_URW | PTE_PAT | PTE_G);
    fx_assert_ok(fx_access(&F, VA32, PG_ACC_READ));
}

Test(mmu_rsvd, reserved_fault_has_p_and_precedes_rights)
{
    /* a supervisor, read-only, XD leaf with a reserved bit: RSVD, not a rights fault */
    fx_init_cpu(&F, 4, PG_CPUID_ALL, 46);
    map_leaf(VA, 1, FX_URW, FX_SR | PTE_NX | (1ULL << 51));
    F.cpu.cpl = 3;
    struct pg_mmu_result r = fx_access(&F, VA, PG_ACC_WRITE);
    fx_assert_pf(r, PG_PFEC_P | PG_PFEC_RSVD | PG_PFEC_W | PG_PFEC_U);
    cr_assert_eq(r.deny, 0);
    r = fx_access(&F, VA, PG_ACC_FETCH);
    fx_assert_pf(r, PG_PFEC_P | PG_PFEC_RSVD | PG_PFEC_U | PG_PFEC_ID);
}

/* ---- accessed and dirty (docs/mmu.md, "Accessed and dirty flags") ---- */

Test(mmu_ad, success_sets_a_at_every_level_and_d_only_on_write)
{
    for (unsigned levels = 2; levels <= 5; levels++) {
        virt_addr_t va = levels < 4 ? VA32 : levels == 5 ? 0xFF7F000000201123ULL : VA;
        fx_init(&F, levels);
        map_leaf(va, 1, FX_URW, FX_URW);
        struct pg_mmu_result r = fx_access(&F, va, PG_ACC_READ);
        fx_assert_ok(r);
        for (int l = (int)levels; l >= 1; l--) {
            if (levels == PG_MODE_PAE && l == 3)
                continue;
            cr_assert(fx_entry(&F, l) & PTE_A, "%u-level: A at level %d", levels, l);
            cr_assert_eq(fx_entry(&F, l) & PTE_D, 0, "a read never sets D");
        }
        cr_assert_eq(r.nad, levels - (levels == PG_MODE_PAE));
        r = fx_access(&F, va, PG_ACC_WRITE);
        cr_assert(fx_entry(&F, 1) & PTE_D);
        cr_assert_eq(r.nad, 1, "only the leaf changes (D)");
        cr_assert_eq(r.ad[0].level, 1);
        cr_assert_eq(r.ad[0].new ^ r.ad[0].old, PTE_D);
        for (int l = (int)levels; l >= 2; l--)
            cr_assert_eq(fx_entry(&F, l) & PTE_D, 0, "non-leaf entries get no D");
        fx_fini(&F);
    }
    fx_init(&F, 4);
}

Test(mmu_ad, large_leaf_gets_d_on_write)
{
    fx_init(&F, 4);
    map_leaf(VA, 2, FX_URW, FX_URW);
    fx_assert_ok(fx_access(&F, VA, PG_ACC_WRITE));
    cr_assert_eq(fx_entry(&F, 2) & (PTE_A | PTE_D), PTE_A | PTE_D);
    cr_assert_eq(fx_entry(&F, 3) & (PTE_A | PTE_D), PTE_A);
}

Test(mmu_ad, fault_leaves_the_leaf_unchanged_and_sets_nonleaf_a)
{
    fx_init(&F, 4);
    map_leaf(VA, 1, FX_URW, FX_UR);
    uint64_t leaf = fx_entry(&F, 1);
    struct pg_mmu_result r = fx_access(&F, VA, PG_ACC_WRITE);
    fx_assert_pf(r, PG_PFEC_P | PG_PFEC_W);
    cr_assert_eq(fx_entry(&F, 1), leaf);
    for (int l = 4; l >= 2; l--)
        cr_assert(fx_entry(&F, l) & PTE_A, "default policy: non-leaf A on a fault");
    /* a reserved-bit fault at the PD: A above it, not in it */
    map_leaf(VA, 1, FX_URW, FX_URW);
    fx_set_entry(&F, 2, fx_entry(&F, 2) | PTE_NX);
    F.cpu.efer &= ~PG_EFER_NXE;
    r = fx_access(&F, VA, PG_ACC_READ);
    cr_assert_eq(r.error_code, PG_PFEC_P | PG_PFEC_RSVD);
    cr_assert(fx_entry(&F, 4) & PTE_A);
    cr_assert(fx_entry(&F, 3) & PTE_A);
    cr_assert_eq(fx_entry(&F, 2) & PTE_A, 0);
    cr_assert_eq(fx_entry(&F, 1) & PTE_A, 0);
}

/* A 4-level write to VA (4 KiB leaf with leaf_flags) under the A/D options `flags`. */
static struct pg_mmu_result write_with(unsigned flags, uint64_t leaf_flags)
{
    fx_init(&F, 4);
    map_leaf(VA, 1, FX_URW, leaf_flags);
    struct pg_mmu_result r;
    cr_assert_eq(pg_mmu_access(&F.mem, &F.cpu, VA, PG_ACC_WRITE, flags, NULL, &r), 0);
    return r;
}

Test(mmu_ad, lazy_policy_sets_nothing_on_a_fault)
{
    struct pg_mmu_result r = write_with(PG_MMU_LAZY_A, FX_UR);
    cr_assert_eq(r.vector, PG_VEC_PF);
    cr_assert_eq(r.nad, 0);
    for (int l = 4; l >= 1; l--)
        cr_assert_eq(fx_entry(&F, l) & PTE_A, 0);
}

Test(mmu_ad, report_mode_writes_nothing)
{
    struct pg_mmu_result r = write_with(PG_MMU_REPORT_AD, FX_URW);
    cr_assert_eq(r.vector, PG_VEC_NONE);
    cr_assert_eq(r.nad, 4);
    cr_assert_eq(r.ad[3].new & (PTE_A | PTE_D), PTE_A | PTE_D);
    cr_assert_eq(r.ad[3].entry_pa, F.entry_pa[1]);
    for (int l = 4; l >= 1; l--)
        cr_assert_eq(fx_entry(&F, l) & (PTE_A | PTE_D), 0);
}

Test(mmu_ad, entries_already_accessed_are_not_rewritten)
{
    fx_init(&F, 4);
    map_leaf(VA, 1, FX_URW | PTE_A, FX_URW | PTE_A | PTE_D);
    struct pg_mmu_result r = fx_access(&F, VA, PG_ACC_WRITE);
    fx_assert_ok(r);
    cr_assert_eq(r.nad, 0);
}

Test(mmu_ad, a_d_fit_in_32bit_entries)
{
    fx_init(&F, 2);
    map_leaf(VA32, 1, FX_URW, FX_URW);
    fx_assert_ok(fx_access(&F, VA32, PG_ACC_WRITE));
    cr_assert_eq(fx_entry(&F, 2), (fx_entry(&F, 2) & ~0xFFFULL) | FX_URW | PTE_A);
    cr_assert_eq(fx_entry(&F, 1), FX_FRAME | FX_URW | PTE_A | PTE_D);
    /* the neighbouring entry is untouched */
    cr_assert_eq(fx_peek(&F, F.entry_pa[1] + 4), 0);
}

/* ---- PAE PDPTE registers (docs/mmu.md, "Walk formats") ---- */

Test(mmu_pae, walk_uses_pdpte_registers_not_memory)
{
    fx_init(&F, 3);
    map_leaf(VA32, 1, FX_URW, FX_URW);
    fx_assert_ok(fx_access(&F, VA32, PG_ACC_READ));
    /* clear the PDPTE in memory: the register still holds it */
    phys_addr_t pdpte_pa = F.entry_pa[3];
    uint64_t saved = fx_peek(&F, pdpte_pa);
    fx_poke(&F, pdpte_pa, 0);
    fx_assert_ok(fx_access(&F, VA32, PG_ACC_READ));
    /* MOV CR3 reloads: now it is gone */
    cr_assert_eq(pg_cpu_write_cr3(&F.cpu, F.cpu.cr3, &F.mem, NULL), 0);
    struct pg_mmu_result r = fx_access(&F, VA32, PG_ACC_READ);
    fx_assert_pf(r, 0);
    cr_assert_eq(r.fault_level, 3);
    fx_poke(&F, pdpte_pa, saved);
    fx_assert_pf(fx_access(&F, VA32, PG_ACC_READ), 0);
}

Test(mmu_pae, pdpte_load_with_reserved_bits_raises_gp)
{
    fx_init(&F, 3);
    map_leaf(VA32, 1, FX_URW, FX_URW);
    uint64_t good[4];
    memcpy(good, F.cpu.pdpte, sizeof(good));
    static const uint64_t bad[] = { PTE_W, PTE_U, PTE_A, PTE_D, PTE_PS, PTE_NX, 1ULL << 52 };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fx_poke(&F, F.entry_pa[3], fx_peek(&F, F.entry_pa[3]) | bad[i]);
        cr_assert_eq(pg_cpu_write_cr3(&F.cpu, F.cpu.cr3, &F.mem, NULL), -PG_EGP,
                     "bit %llx", (unsigned long long)bad[i]);
        cr_assert_eq(memcmp(F.cpu.pdpte, good, sizeof(good)), 0, "nothing loaded");
        fx_poke(&F, F.entry_pa[3], fx_peek(&F, F.entry_pa[3]) & ~bad[i]);
    }
    /* a not-present PDPTE may hold anything */
    fx_poke(&F, F.root + 8, 0xFFFFFFFFFFFFFFFEULL);
    cr_assert_eq(pg_cpu_write_cr3(&F.cpu, F.cpu.cr3, &F.mem, NULL), 0);
    /* M = 36: bit 36 is reserved */
    fx_fini(&F);
    fx_init_cpu(&F, 3, PG_CPUID_ALL, 36);
    map_leaf(VA32, 1, FX_URW, FX_URW);
    fx_poke(&F, F.entry_pa[3], fx_peek(&F, F.entry_pa[3]) | (1ULL << 36));
    cr_assert_eq(pg_cpu_write_cr3(&F.cpu, F.cpu.cr3, &F.mem, NULL), -PG_EGP);
}

Test(mmu_pae, pdptes_take_no_part_in_rights_and_are_never_written)
{
    fx_init(&F, 3);
    uint64_t fl[6] = { 0, FX_URW, FX_URW, PTE_P };     /* PDPTE without R/W or U/S */
    fx_map(&F, VA32, 1, fl);
    F.cpu.cpl = 3;
    struct pg_mmu_result r = fx_access(&F, VA32, PG_ACC_WRITE);
    fx_assert_ok(r);
    cr_assert_eq(fx_peek(&F, F.entry_pa[3]) & PTE_A, 0, "no A in a PDPTE");
    cr_assert_eq(r.walk.step[0].level, 3);
    cr_assert_eq(r.walk.step[0].entry_pa, F.entry_pa[3]);
}

Test(mmu_pae, pdptes_reload_on_cr0_and_cr4_writes_that_keep_pae_paging)
{
    fx_init(&F, 3);
    map_leaf(VA32, 1, FX_URW, FX_URW);
    fx_poke(&F, F.entry_pa[3], 0);
    /* a CR4.PGE change reloads */
    cr_assert_eq(pg_cpu_write_cr4(&F.cpu, F.cpu.cr4 | PG_CR4_PGE, &F.mem, NULL), 0);
    cr_assert_eq(F.cpu.pdpte[(VA32 >> 30) & 3], 0);
    /* a CR4.SMAP change does not */
    map_leaf(VA32, 1, FX_URW, FX_URW);
    uint64_t loaded = F.cpu.pdpte[(VA32 >> 30) & 3];
    fx_poke(&F, F.entry_pa[3], 0);
    cr_assert_eq(pg_cpu_write_cr4(&F.cpu, F.cpu.cr4 | PG_CR4_SMAP, &F.mem, NULL), 0);
    cr_assert_eq(F.cpu.pdpte[(VA32 >> 30) & 3], loaded);
    /* CR0.CD/NW changes reload; CR0.WP does not */
    cr_assert_eq(pg_cpu_write_cr0(&F.cpu, F.cpu.cr0 & ~PG_CR0_WP, &F.mem, NULL), 0);
    cr_assert_eq(F.cpu.pdpte[(VA32 >> 30) & 3], loaded);
    cr_assert_eq(pg_cpu_write_cr0(&F.cpu, F.cpu.cr0 | PG_CR0_CD, &F.mem, NULL), 0);
    cr_assert_eq(F.cpu.pdpte[(VA32 >> 30) & 3], 0);
    /* a bad PDPTE makes the reloading write #GP and changes nothing */
    fx_poke(&F, F.entry_pa[3], PTE_P | PTE_W);
    uint64_t cr0 = F.cpu.cr0;
    cr_assert_eq(pg_cpu_write_cr0(&F.cpu, cr0 & ~PG_CR0_CD, &F.mem, NULL), -PG_EGP);
    cr_assert_eq(F.cpu.cr0, cr0);
}
