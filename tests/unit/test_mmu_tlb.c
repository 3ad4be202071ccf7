/*
 * test_mmu_tlb.c: the TLB model (docs/mmu.md, "TLBs and paging-structure
 * caches"): which cached
 * translations survive MOV CR3 (with and without PCID and its no-flush bit),
 * INVLPG, INVPCID, control-register changes and page faults, global pages,
 * and the D-bit rule for entries cached clean. A translation "survives" when
 * an access still succeeds from the TLB after its entry was made not present
 * in memory.
 */
#include "mmu_fixture.h"

static struct fx F;
static struct pg_tlb T;

static void teardown(void) { fx_fini(&F); }

TestSuite(mmu_tlb, .fini = teardown);

#define VA_G  0x00007F0000201000ULL     /* global leaf */
#define VA_NG 0x00007F0000403000ULL     /* non-global leaf */

static struct pg_mmu_result access_tlb(virt_addr_t va, unsigned acc)
{
    struct pg_mmu_result r;
    cr_assert_eq(pg_mmu_access(&F.mem, &F.cpu, va, acc, 0, &T, &r), 0);
    return r;
}

/* Map both pages, cache them, then make both not present in memory. */
static void setup_cached(unsigned pge)
{
    fx_init(&F, 4);
    pg_tlb_init(&T);
    if (pge)
        F.cpu.cr4 |= PG_CR4_PGE;
    uint64_t fl[6] = { 0, FX_SRW | PTE_G, FX_SRW, FX_SRW, FX_SRW, FX_SRW };
    fx_map(&F, VA_G, 1, fl);
    phys_addr_t g_pte = F.entry_pa[1];
    fx_assert_ok(access_tlb(VA_G, PG_ACC_READ));
    fl[1] = FX_SRW;
    fx_map(&F, VA_NG, 1, fl);   /* a fresh chain: VA_G's tables are detached */
    phys_addr_t ng_pte = F.entry_pa[1];
    fx_assert_ok(access_tlb(VA_NG, PG_ACC_READ));
    cr_assert_eq(pg_tlb_count(&T), 2);
    fx_poke(&F, g_pte, 0);
    fx_poke(&F, ng_pte, 0);
}

static bool survives(virt_addr_t va)
{
    struct pg_mmu_result r = access_tlb(va, PG_ACC_READ);
    return r.vector == PG_VEC_NONE && r.from_tlb;
}

Test(mmu_tlb, cached_translation_is_used_until_invalidated)
{
    setup_cached(1);
    cr_assert(survives(VA_G));
    cr_assert(survives(VA_NG));
}

Test(mmu_tlb, entry_created_only_by_a_successful_walk)
{
    setup_cached(1);
    pg_tlb_init(&T);
    fx_assert_pf(access_tlb(VA_NG, PG_ACC_READ), 0);
    cr_assert_eq(pg_tlb_count(&T), 0);
}

Test(mmu_tlb, invlpg_drops_the_page_and_its_global_entry)
{
    setup_cached(1);
    cr_assert_eq(pg_tlb_invlpg(&T, &F.cpu, VA_G + 0x123), 0);
    cr_assert_not(survives(VA_G));
    cr_assert(survives(VA_NG));
    cr_assert_eq(pg_tlb_invlpg(&T, &F.cpu, VA_NG), 0);
    cr_assert_not(survives(VA_NG));
}

Test(mmu_tlb, invlpg_drops_every_piece_of_a_large_page)
{
    fx_init(&F, 4);
    pg_tlb_init(&T);
    fx_map_all(&F, VA_G, 2, FX_SRW);
    fx_assert_ok(access_tlb(VA_G, PG_ACC_READ));
    fx_set_entry(&F, 2, 0);
    cr_assert(survives((VA_G & ~0x1FFFFFULL) + 0x1FF000));   /* same 2 MiB page */
    cr_assert_eq(pg_tlb_invlpg(&T, &F.cpu, (VA_G & ~0x1FFFFFULL) + 0x100000), 0);
    cr_assert_not(survives(VA_G));
}

Test(mmu_tlb, invlpg_of_a_non_canonical_address_is_a_noop)
{
    setup_cached(1);
    cr_assert_eq(pg_tlb_invlpg(&T, &F.cpu, VA_NG | 0x8000000000000000ULL), 0);
    cr_assert(survives(VA_NG));
}

Test(mmu_tlb, mov_cr3_without_pcide_drops_non_global_entries_only)
{
    setup_cached(1);
    cr_assert_eq(pg_cpu_write_cr3(&F.cpu, F.cpu.cr3, &F.mem, &T), 0);
    cr_assert(survives(VA_G));
    cr_assert_not(survives(VA_NG));
}

Test(mmu_tlb, global_needs_cr4_pge)
{
    setup_cached(0);
    cr_assert_eq(pg_cpu_write_cr3(&F.cpu, F.cpu.cr3, &F.mem, &T), 0);
    cr_assert_not(survives(VA_G));
}

/* Turn PCIDs on and fill VA_NG under PCID 1 and PCID 2. */
static void setup_pcids(void)
{
    setup_cached(1);
    pg_tlb_init(&T);
    cr_assert_eq(pg_cpu_write_cr4(&F.cpu, F.cpu.cr4 | PG_CR4_PCIDE, &F.mem, &T), 0);
    uint64_t fl[6] = { 0, FX_SRW, FX_SRW, FX_SRW, FX_SRW, FX_SRW };
    for (unsigned pcid = 1; pcid <= 2; pcid++) {
        cr_assert_eq(pg_cpu_write_cr3(&F.cpu, F.root | pcid, &F.mem, &T), 0);
        fx_map(&F, VA_NG, 1, fl);
        fx_assert_ok(access_tlb(VA_NG, PG_ACC_READ));
        fx_set_entry(&F, 1, 0);
    }
    cr_assert_eq(pg_tlb_count(&T), 2);
}

Test(mmu_tlb, mov_cr3_with_pcide_drops_the_new_pcid_only)
{
    setup_pcids();
    /* now in PCID 2; switching to PCID 1 without bit 63 drops PCID 1's entries */
    cr_assert_eq(pg_cpu_write_cr3(&F.cpu, F.root | 1, &F.mem, &T), 0);
    cr_assert_not(survives(VA_NG));
    /* PCID 2's entry was kept: back with the no-flush bit, it is still used */
    cr_assert_eq(pg_cpu_write_cr3(&F.cpu, F.root | 2 | PG_CR3_NOFLUSH, &F.mem, &T), 0);
    cr_assert(survives(VA_NG));
}

Test(mmu_tlb, mov_cr3_with_bit63_under_pcide_flushes_nothing)
{
    setup_pcids();
    cr_assert_eq(pg_cpu_write_cr3(&F.cpu, F.root | 2 | PG_CR3_NOFLUSH, &F.mem, &T), 0);
    cr_assert(survives(VA_NG));
    cr_assert_eq(pg_cpu_write_cr3(&F.cpu, F.root | 1 | PG_CR3_NOFLUSH, &F.mem, &T), 0);
    cr_assert(survives(VA_NG));
}

Test(mmu_tlb, entries_of_other_pcids_are_not_used)
{
    setup_pcids();
    cr_assert_eq(pg_cpu_write_cr3(&F.cpu, F.root | 3, &F.mem, &T), 0);
    cr_assert_not(survives(VA_NG));
    cr_assert_eq(pg_tlb_count(&T), 2, "PCID 1 and 2 entries still cached");
}

Test(mmu_tlb, invpcid_individual_address_drops_one_page_of_one_pcid)
{
    setup_pcids();
    cr_assert_eq(pg_tlb_invpcid(&T, &F.cpu, PG_INVPCID_ADDR, 1, VA_NG), 0);
    cr_assert(survives(VA_NG), "PCID 2 (current) kept");
    cr_assert_eq(pg_tlb_count(&T), 1);
}

Test(mmu_tlb, invpcid_single_context_drops_non_global_entries_of_one_pcid)
{
    setup_pcids();
    cr_assert_eq(pg_tlb_invpcid(&T, &F.cpu, PG_INVPCID_SINGLE, 2, 0), 0);
    cr_assert_not(survives(VA_NG));
    cr_assert_eq(pg_tlb_count(&T), 1);
}

Test(mmu_tlb, invpcid_all_contexts_keeps_globals_type2_drops_them)
{
    setup_cached(1);
    cr_assert_eq(pg_tlb_invpcid(&T, &F.cpu, PG_INVPCID_ALL, 0, 0), 0);
    cr_assert(survives(VA_G));
    cr_assert_not(survives(VA_NG));
    cr_assert_eq(pg_tlb_invpcid(&T, &F.cpu, PG_INVPCID_ALL_GLOBAL, 0, 0), 0);
    cr_assert_not(survives(VA_G));
}

Test(mmu_tlb, invpcid_fault_rules)
{
    setup_cached(1);
    cr_assert_eq(pg_tlb_invpcid(&T, &F.cpu, 4, 0, 0), -PG_EGP, "type > 3");
    cr_assert_eq(pg_tlb_invpcid(&T, &F.cpu, 0, 0x1000, 0), -PG_EGP, "descriptor bits 63:12");
    cr_assert_eq(pg_tlb_invpcid(&T, &F.cpu, 1, 1, 0), -PG_EGP, "PCID != 0 without PCIDE");
    cr_assert_eq(pg_tlb_invpcid(&T, &F.cpu, 0, 0, 0x0000800000000000ULL), -PG_EGP,
                 "non-canonical address");
    cr_assert_eq(pg_tlb_count(&T), 2);
    F.cpu.features &= ~PG_CPUID_INVPCID;
    cr_assert_eq(pg_tlb_invpcid(&T, &F.cpu, 2, 0, 0), -PG_EUD);
}

/* MOV to CR4 succeeds and leaves `left` entries in the TLB. */
static void write_cr4_leaving(uint64_t val, unsigned left)
{
    cr_assert_eq(pg_cpu_write_cr4(&F.cpu, val, &F.mem, &T), 0);
    cr_assert_eq(pg_tlb_count(&T), left);
}

Test(mmu_tlb, cr4_pge_change_flushes_everything)
{
    setup_cached(1);
    write_cr4_leaving(F.cpu.cr4 & ~PG_CR4_PGE, 0);
}

Test(mmu_tlb, cr4_pcide_clear_flushes_everything)
{
    setup_pcids();
    cr_assert_eq(pg_cpu_write_cr3(&F.cpu, F.root, &F.mem, &T), 0);
    fx_map_all(&F, VA_G, 1, FX_SRW | PTE_G);
    fx_assert_ok(access_tlb(VA_G, PG_ACC_READ));
    write_cr4_leaving(F.cpu.cr4 & ~PG_CR4_PCIDE, 0);
}

Test(mmu_tlb, cr0_pg_clear_flushes_everything)
{
    setup_cached(1);
    F.cpu.cs_l = false;
    cr_assert_eq(pg_cpu_write_cr0(&F.cpu, F.cpu.cr0 & ~PG_CR0_PG, &F.mem, &T), 0);
    cr_assert_eq(pg_tlb_count(&T), 0);
}

Test(mmu_tlb, cr4_smep_set_flushes_the_current_pcid_smap_does_not)
{
    setup_cached(1);
    write_cr4_leaving(F.cpu.cr4 | PG_CR4_SMAP, 2);
    write_cr4_leaving(F.cpu.cr4 | PG_CR4_SMEP, 0);
}

Test(mmu_tlb, cr4_pae_change_flushes_the_current_pcid)
{
    fx_init(&F, 2);
    pg_tlb_init(&T);
    fx_map_all(&F, 0x02001000, 1, FX_SRW);     /* PDE 8: outside the would-be PDPT */
    fx_assert_ok(access_tlb(0x02001000, PG_ACC_READ));
    cr_assert_eq(pg_tlb_count(&T), 1);
    /* 32-bit -> PAE with paging on (the 32 bytes at CR3 are zero: no PDPTE present) */
    write_cr4_leaving(F.cpu.cr4 | PG_CR4_PAE, 0);
}

Test(mmu_tlb, page_fault_drops_the_faulting_page)
{
    fx_init(&F, 4);
    pg_tlb_init(&T);
    fx_map_all(&F, VA_NG, 1, FX_SR | PTE_D);    /* cached dirty: a write may use it */
    fx_assert_ok(access_tlb(VA_NG, PG_ACC_READ));
    /* made writable in memory without invalidation: the cached read-only entry
       gives one spurious #PF, which drops it; the retry walks and succeeds */
    fx_set_entry(&F, 1, fx_entry(&F, 1) | PTE_W);
    for (int l = 2; l <= 4; l++)
        fx_set_entry(&F, l, fx_entry(&F, l) | PTE_W);
    struct pg_mmu_result r = access_tlb(VA_NG, PG_ACC_WRITE);
    fx_assert_pf(r, PG_PFEC_P | PG_PFEC_W);
    cr_assert(r.from_tlb);
    r = access_tlb(VA_NG, PG_ACC_WRITE);
    fx_assert_ok(r);
    cr_assert_not(r.from_tlb);
}

Test(mmu_tlb, write_through_an_entry_cached_clean_walks_and_sets_d)
{
    fx_init(&F, 4);
    pg_tlb_init(&T);
    fx_map_all(&F, VA_NG, 1, FX_SRW);
    fx_assert_ok(access_tlb(VA_NG, PG_ACC_READ));
    cr_assert_eq(fx_entry(&F, 1) & PTE_D, 0);
    struct pg_mmu_result r = access_tlb(VA_NG, PG_ACC_WRITE);
    fx_assert_ok(r);
    cr_assert_not(r.from_tlb);
    cr_assert(fx_entry(&F, 1) & PTE_D);
    r = access_tlb(VA_NG, PG_ACC_WRITE);
    cr_assert(r.from_tlb, "now cached dirty");
}
