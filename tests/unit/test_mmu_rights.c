/*
 * test_mmu_rights.c: the access-rights rules of the MMU model
 * (docs/mmu.md, "Access rights"; SDM 4.6) and the page-fault error code
 * ("Page-fault error code"), one
 * hand-made case per rule, each test named after the rule it checks:
 * U/S and R/W at every level, CR0.WP, XD with EFER.NXE, SMEP, SMAP with
 * EFLAGS.AC and implicit accesses, protection keys (PKU, PKS), the I/D bit,
 * #GP/#SS for non-canonical addresses, CR2, paging off, memory type.
 */
#include "mmu_fixture.h"

static struct fx F;

static void teardown(void) { fx_fini(&F); }

TestSuite(mmu_rights, .fini = teardown);

#define VA 0x00007F0000201123ULL
#define VA32 0x00801123ULL

/* flags[] with `flags` everywhere but `bit` cleared (or set) at `level` only. */
static void map_with(int top, int leaf, uint64_t flags, int level, uint64_t clear, uint64_t set)
{
    uint64_t fl[PG_MAX_LEVELS + 1];
    for (int l = 0; l <= PG_MAX_LEVELS; l++)
        fl[l] = flags;
    (void)top;
    fl[level] = (fl[level] & ~clear) | set;
    fx_map(&F, VA, leaf, fl);
}

Test(mmu_rights, user_read_needs_us_at_every_level)
{
    fx_init(&F, 4);
    F.cpu.cpl = 3;
    map_with(4, 1, FX_URW, 1, 0, 0);
    fx_assert_ok(fx_access(&F, VA, PG_ACC_READ));
    for (int level = 4; level >= 1; level--) {
        map_with(4, 1, FX_URW, level, PTE_U, 0);
        struct pg_mmu_result r = fx_access(&F, VA, PG_ACC_READ);
        fx_assert_pf(r, PG_PFEC_P | PG_PFEC_U);
        cr_assert_eq(r.deny, PG_DENY_USER, "level %d", level);
    }
}

Test(mmu_rights, user_write_needs_rw_at_every_level)
{
    fx_init(&F, 4);
    F.cpu.cpl = 3;
    for (int level = 4; level >= 1; level--) {
        map_with(4, 1, FX_URW, level, PTE_W, 0);
        struct pg_mmu_result r = fx_access(&F, VA, PG_ACC_WRITE);
        fx_assert_pf(r, PG_PFEC_P | PG_PFEC_W | PG_PFEC_U);
        cr_assert_eq(r.deny, PG_DENY_WRITE);
        fx_assert_ok(fx_access(&F, VA, PG_ACC_READ));
    }
}

Test(mmu_rights, user_write_to_readonly_faults_whatever_cr0_wp)
{
    fx_init(&F, 4);
    F.cpu.cpl = 3;
    F.cpu.cr0 &= ~PG_CR0_WP;
    fx_map_all(&F, VA, 1, FX_UR);
    fx_assert_pf(fx_access(&F, VA, PG_ACC_WRITE), PG_PFEC_P | PG_PFEC_W | PG_PFEC_U);
}

Test(mmu_rights, user_access_to_supervisor_address_faults_p_u)
{
    fx_init(&F, 4);
    F.cpu.cpl = 3;
    fx_map_all(&F, VA, 1, FX_SRW);
    fx_assert_pf(fx_access(&F, VA, PG_ACC_READ), PG_PFEC_P | PG_PFEC_U);
    fx_assert_pf(fx_access(&F, VA, PG_ACC_WRITE), PG_PFEC_P | PG_PFEC_W | PG_PFEC_U);
    fx_assert_pf(fx_access(&F, VA, PG_ACC_FETCH), PG_PFEC_P | PG_PFEC_U | PG_PFEC_ID);
}

Test(mmu_rights, supervisor_read_of_any_address_allowed_without_smap)
{
    fx_init(&F, 4);
    fx_map_all(&F, VA, 1, FX_SR);
    fx_assert_ok(fx_access(&F, VA, PG_ACC_READ));
    fx_map_all(&F, VA, 1, FX_UR);
    fx_assert_ok(fx_access(&F, VA, PG_ACC_READ));
}

Test(mmu_rights, supervisor_write_to_readonly_allowed_when_wp_clear)
{
    fx_init(&F, 4);
    F.cpu.cr0 &= ~PG_CR0_WP;
    for (int u = 0; u < 2; u++) {
        fx_map_all(&F, VA, 1, u ? FX_UR : FX_SR);
        struct pg_mmu_result r = fx_access(&F, VA, PG_ACC_WRITE);
        fx_assert_ok(r);
        cr_assert(fx_entry(&F, 1) & PTE_D, "the write sets D although R/W = 0");
    }
}

Test(mmu_rights, supervisor_write_to_readonly_faults_when_wp_set)
{
    fx_init(&F, 4);
    for (int level = 4; level >= 1; level--) {
        map_with(4, 1, FX_SRW, level, PTE_W, 0);
        struct pg_mmu_result r = fx_access(&F, VA, PG_ACC_WRITE);
        fx_assert_pf(r, PG_PFEC_P | PG_PFEC_W);
        cr_assert_eq(fx_entry(&F, 1) & (PTE_A | PTE_D), 0, "leaf unchanged on a fault");
    }
}

Test(mmu_rights, fetch_from_xd_at_any_level_faults_with_nxe)
{
    fx_init(&F, 4);
    for (int level = 4; level >= 1; level--) {
        map_with(4, 1, FX_SRW, level, 0, PTE_NX);
        struct pg_mmu_result r = fx_access(&F, VA, PG_ACC_FETCH);
        fx_assert_pf(r, PG_PFEC_P | PG_PFEC_ID);
        cr_assert_eq(r.deny, PG_DENY_XD);
        fx_assert_ok(fx_access(&F, VA, PG_ACC_READ));
        fx_assert_ok(fx_access(&F, VA, PG_ACC_WRITE));
    }
}

Test(mmu_rights, xd_needs_pae_and_nxe)
{
    /* PAE with NXE: XD in the PDE denies fetches. */
    fx_init(&F, 3);
    uint64_t fl[6] = { 0, FX_SRW, FX_SRW | PTE_NX, PTE_P };
    fx_map(&F, VA32, 1, fl);
    fx_assert_pf(fx_access(&F, VA32, PG_ACC_FETCH), PG_PFEC_P | PG_PFEC_ID);
    /* NXE = 0: bit 63 is reserved instead. */
    F.cpu.efer &= ~PG_EFER_NXE;
    fx_assert_pf(fx_access(&F, VA32, PG_ACC_FETCH), PG_PFEC_P | PG_PFEC_RSVD);
    /* 32-bit paging has no XD at all (4-byte entries cannot hold it). */
    fx_fini(&F);
    fx_init(&F, 2);
    fx_map_all(&F, VA32, 1, FX_SRW);
    fx_assert_ok(fx_access(&F, VA32, PG_ACC_FETCH));
}

Test(mmu_rights, error_code_id_needs_smep_or_pae_with_nxe)
{
    /* 4-level, NXE = 0, SMEP = 0: a not-present fetch has no I/D. */
    fx_init(&F, 4);
    F.cpu.efer &= ~PG_EFER_NXE;
    fx_assert_pf(fx_access(&F, VA, PG_ACC_FETCH), 0);
    F.cpu.efer |= PG_EFER_NXE;
    fx_assert_pf(fx_access(&F, VA, PG_ACC_FETCH), PG_PFEC_ID);
    F.cpu.efer &= ~PG_EFER_NXE;
    F.cpu.cr4 |= PG_CR4_SMEP;
    fx_assert_pf(fx_access(&F, VA, PG_ACC_FETCH), PG_PFEC_ID);
    fx_fini(&F);
    /* 32-bit paging: NXE cannot give I/D (CR4.PAE = 0), SMEP can. */
    fx_init(&F, 2);
    F.cpu.efer |= PG_EFER_NXE;
    fx_assert_pf(fx_access(&F, VA32, PG_ACC_FETCH), 0);
    F.cpu.cr4 |= PG_CR4_SMEP;
    fx_assert_pf(fx_access(&F, VA32, PG_ACC_FETCH), PG_PFEC_ID);
    /* Data accesses never have I/D. */
    fx_assert_pf(fx_access(&F, VA32, PG_ACC_READ), 0);
}

Test(mmu_rights, smep_denies_supervisor_fetch_from_user_address)
{
    fx_init(&F, 4);
    F.cpu.cr4 |= PG_CR4_SMEP;
    fx_map_all(&F, VA, 1, FX_URW);
    struct pg_mmu_result r = fx_access(&F, VA, PG_ACC_FETCH);
    fx_assert_pf(r, PG_PFEC_P | PG_PFEC_ID);
    cr_assert_eq(r.deny, PG_DENY_SMEP);
    /* independent of WP, AC and R/W */
    F.cpu.cr0 &= ~PG_CR0_WP;
    F.cpu.rflags |= PG_RFLAGS_AC;
    fx_map_all(&F, VA, 1, FX_UR);
    fx_assert_pf(fx_access(&F, VA, PG_ACC_FETCH), PG_PFEC_P | PG_PFEC_ID);
    /* SMEP and XD together: both rules reported */
    map_with(4, 1, FX_URW, 1, 0, PTE_NX);
    r = fx_access(&F, VA, PG_ACC_FETCH);
    cr_assert_eq(r.deny, PG_DENY_SMEP | PG_DENY_XD);
}

Test(mmu_rights, smep_needs_user_address_at_every_level)
{
    fx_init(&F, 4);
    F.cpu.cr4 |= PG_CR4_SMEP;
    for (int level = 4; level >= 1; level--) {
        map_with(4, 1, FX_URW, level, PTE_U, 0);
        fx_assert_ok(fx_access(&F, VA, PG_ACC_FETCH));
    }
}

Test(mmu_rights, smep_clear_allows_supervisor_fetch_from_user_address)
{
    fx_init(&F, 4);
    fx_map_all(&F, VA, 1, FX_URW);
    fx_assert_ok(fx_access(&F, VA, PG_ACC_FETCH));
}

/* 4-level paging with CR4.SMAP (and RFLAGS.AC if ac), VA mapped with flags at every level. */
static void smap_init(bool ac, uint64_t flags)
{
    fx_init(&F, 4);
    F.cpu.cr4 |= PG_CR4_SMAP;
    if (ac)
        F.cpu.rflags |= PG_RFLAGS_AC;
    fx_map_all(&F, VA, 1, flags);
}

Test(mmu_rights, smap_denies_supervisor_data_access_to_user_address)
{
    smap_init(false, FX_URW);
    struct pg_mmu_result r = fx_access(&F, VA, PG_ACC_READ);
    fx_assert_pf(r, PG_PFEC_P);
    cr_assert_eq(r.deny, PG_DENY_SMAP);
    fx_assert_pf(fx_access(&F, VA, PG_ACC_WRITE), PG_PFEC_P | PG_PFEC_W);
    /* supervisor addresses are not affected */
    map_with(4, 1, FX_URW, 2, PTE_U, 0);
    fx_assert_ok(fx_access(&F, VA, PG_ACC_READ));
}

Test(mmu_rights, smap_ac_overrides_explicit_supervisor_accesses)
{
    smap_init(true, FX_URW);
    fx_assert_ok(fx_access(&F, VA, PG_ACC_READ));
    fx_assert_ok(fx_access(&F, VA, PG_ACC_WRITE));
}

Test(mmu_rights, smap_ac_never_overrides_implicit_accesses)
{
    smap_init(true, FX_URW);
    struct pg_mmu_result r = fx_access(&F, VA, PG_ACC_READ | PG_ACC_IMPLICIT);
    fx_assert_pf(r, PG_PFEC_P);
    cr_assert_eq(r.deny, PG_DENY_SMAP);
}

Test(mmu_rights, implicit_access_at_cpl3_is_a_supervisor_access)
{
    fx_init(&F, 4);
    F.cpu.cpl = 3;
    /* a supervisor page is reachable by an implicit access at CPL 3, error code without U */
    fx_map_all(&F, VA, 1, FX_SRW);
    fx_assert_ok(fx_access(&F, VA, PG_ACC_READ | PG_ACC_IMPLICIT));
    fx_assert_pf(fx_access(&F, VA, PG_ACC_READ), PG_PFEC_P | PG_PFEC_U);
    /* with SMAP, a user page is denied to it even with AC = 1 */
    F.cpu.cr4 |= PG_CR4_SMAP;
    F.cpu.rflags |= PG_RFLAGS_AC;
    fx_map_all(&F, VA, 1, FX_URW);
    fx_assert_pf(fx_access(&F, VA, PG_ACC_READ | PG_ACC_IMPLICIT), PG_PFEC_P);
    fx_assert_ok(fx_access(&F, VA, PG_ACC_READ));
}

Test(mmu_rights, smap_never_affects_fetches)
{
    smap_init(false, FX_URW);
    fx_assert_ok(fx_access(&F, VA, PG_ACC_FETCH));
}

Test(mmu_rights, smap_ac_write_to_readonly_user_address_follows_wp)
{
    smap_init(true, FX_UR);
    fx_assert_pf(fx_access(&F, VA, PG_ACC_WRITE), PG_PFEC_P | PG_PFEC_W);
    F.cpu.cr0 &= ~PG_CR0_WP;
    fx_assert_ok(fx_access(&F, VA, PG_ACC_WRITE));
}

/* A user leaf with key `key`. */
static void map_key(uint64_t flags, unsigned key)
{
    uint64_t fl[6] = { 0, flags | ((uint64_t)key << PTE_PK_SHIFT), FX_URW, FX_URW, FX_URW, FX_URW };
    fx_map(&F, VA, 1, fl);
}

#define AD(k) (1u << (2 * (k)))
#define WD(k) (2u << (2 * (k)))

/* 4-level paging with the key bits cr4 (PKE, PKS), PKRU and PKRS, at CPL cpl. */
static void pk_init(uint64_t cr4, uint32_t pkru, uint32_t pkrs, unsigned cpl)
{
    fx_init(&F, 4);
    F.cpu.cr4 |= cr4;
    F.cpu.pkru = pkru;
    F.cpu.pkrs = pkrs;
    F.cpu.cpl = cpl;
}

Test(mmu_rights, pku_access_disable_denies_data_access_to_user_address)
{
    pk_init(PG_CR4_PKE, AD(5), 0, 0);
    map_key(FX_URW, 5);
    for (unsigned cpl = 0; cpl <= 3; cpl += 3) {
        F.cpu.cpl = cpl;
        uint32_t u = cpl == 3 ? PG_PFEC_U : 0;
        struct pg_mmu_result r = fx_access(&F, VA, PG_ACC_READ);
        fx_assert_pf(r, PG_PFEC_P | PG_PFEC_PK | u);
        cr_assert_eq(r.deny, PG_DENY_PK);
        cr_assert_eq(r.pkey, 5);
        fx_assert_pf(fx_access(&F, VA, PG_ACC_WRITE), PG_PFEC_P | PG_PFEC_PK | PG_PFEC_W | u);
    }
    /* another key is unaffected */
    map_key(FX_URW, 4);
    fx_assert_ok(fx_access(&F, VA, PG_ACC_WRITE));
}

Test(mmu_rights, pku_write_disable_denies_user_writes)
{
    pk_init(PG_CR4_PKE, WD(1), 0, 3);
    map_key(FX_URW, 1);
    fx_assert_ok(fx_access(&F, VA, PG_ACC_READ));
    fx_assert_pf(fx_access(&F, VA, PG_ACC_WRITE),
                 PG_PFEC_P | PG_PFEC_PK | PG_PFEC_W | PG_PFEC_U);
    F.cpu.cr0 &= ~PG_CR0_WP;    /* WP is irrelevant to user accesses */
    fx_assert_pf(fx_access(&F, VA, PG_ACC_WRITE),
                 PG_PFEC_P | PG_PFEC_PK | PG_PFEC_W | PG_PFEC_U);
}

Test(mmu_rights, pku_write_disable_binds_supervisor_writes_only_with_wp)
{
    pk_init(PG_CR4_PKE, WD(1), 0, 0);
    map_key(FX_URW, 1);
    fx_assert_pf(fx_access(&F, VA, PG_ACC_WRITE), PG_PFEC_P | PG_PFEC_PK | PG_PFEC_W);
    F.cpu.cr0 &= ~PG_CR0_WP;
    fx_assert_ok(fx_access(&F, VA, PG_ACC_WRITE));
}

Test(mmu_rights, pk_never_applies_to_fetches)
{
    pk_init(PG_CR4_PKE | PG_CR4_PKS, 0xFFFFFFFF, 0xFFFFFFFF, 3);
    map_key(FX_URW, 3);
    fx_assert_ok(fx_access(&F, VA, PG_ACC_FETCH));
}

Test(mmu_rights, pku_applies_to_user_addresses_only)
{
    pk_init(PG_CR4_PKE, 0xFFFFFFFF, 0, 0);
    map_key(FX_SRW, 3);
    fx_assert_ok(fx_access(&F, VA, PG_ACC_WRITE));
}

/*
 * SDM 4.6.2 / 4.7: PKRU governs user-mode addresses only, whatever the CPL: a
 * user access to a supervisor-mode address faults for U/S, and the error
 * code has no PK even when PKRU denies the leaf's key (Bochs 2.7 sets PK
 * there: docs/mmu.md, deviation B1).
 */
Test(mmu_rights, pku_user_access_to_supervisor_address_faults_without_pk)
{
    pk_init(PG_CR4_PKE, AD(3) | WD(3), 0, 3);
    map_key(FX_SRW, 3);
    struct pg_mmu_result r = fx_access(&F, VA, PG_ACC_READ);
    fx_assert_pf(r, PG_PFEC_P | PG_PFEC_U);
    fx_assert_pf(fx_access(&F, VA, PG_ACC_WRITE), PG_PFEC_P | PG_PFEC_U | PG_PFEC_W);
    /* and at CPL 0 a write to it with WD and CR0.WP = 1 is allowed */
    F.cpu.cpl = 0;
    F.cpu.pkru = WD(3);
    fx_assert_ok(fx_access(&F, VA, PG_ACC_WRITE));
}

Test(mmu_rights, pks_applies_to_supervisor_addresses_only)
{
    pk_init(PG_CR4_PKS, 0, AD(3), 0);
    map_key(FX_SRW, 3);
    struct pg_mmu_result r = fx_access(&F, VA, PG_ACC_READ);
    fx_assert_pf(r, PG_PFEC_P | PG_PFEC_PK);
    F.cpu.pkrs = WD(3);
    fx_assert_ok(fx_access(&F, VA, PG_ACC_READ));
    fx_assert_pf(fx_access(&F, VA, PG_ACC_WRITE), PG_PFEC_P | PG_PFEC_PK | PG_PFEC_W);
    F.cpu.cr0 &= ~PG_CR0_WP;
    fx_assert_ok(fx_access(&F, VA, PG_ACC_WRITE));
    /* user addresses ignore PKRS */
    F.cpu.pkrs = 0xFFFFFFFF;
    map_key(FX_URW, 3);
    fx_assert_ok(fx_access(&F, VA, PG_ACC_WRITE));
}

Test(mmu_rights, pk_bit_set_even_when_another_rule_denies)
{
    pk_init(PG_CR4_PKE, WD(2), 0, 3);
    map_key(FX_UR, 2);      /* read-only and write-disabled */
    struct pg_mmu_result r = fx_access(&F, VA, PG_ACC_WRITE);
    fx_assert_pf(r, PG_PFEC_P | PG_PFEC_PK | PG_PFEC_W | PG_PFEC_U);
    cr_assert_eq(r.deny, PG_DENY_WRITE | PG_DENY_PK);
}

Test(mmu_rights, pk_ignored_when_pke_clear_or_outside_ia32e)
{
    pk_init(0, 0xFFFFFFFF, 0, 0);
    map_key(FX_URW, 1);
    fx_assert_ok(fx_access(&F, VA, PG_ACC_WRITE));
    fx_fini(&F);
    /* PAE paging has no keys (bits 62:59 are reserved there; PKE changes nothing) */
    fx_init(&F, 3);
    F.cpu.cr4 |= PG_CR4_PKE;
    F.cpu.pkru = 0xFFFFFFFF;
    fx_map_all(&F, VA32, 1, FX_URW);
    fx_assert_ok(fx_access(&F, VA32, PG_ACC_WRITE));
}

Test(mmu_rights, pk_key_comes_from_the_leaf_only)
{
    pk_init(PG_CR4_PKE, AD(2) | WD(2), 0, 0);
    /* a non-leaf PDE with key 2, a leaf with key 0 */
    uint64_t fl[6] = { 0, FX_URW, FX_URW | (2ULL << PTE_PK_SHIFT), FX_URW, FX_URW, FX_URW };
    fx_map(&F, VA, 1, fl);
    fx_assert_ok(fx_access(&F, VA, PG_ACC_WRITE));
    /* the same key in a 2 MiB leaf counts */
    fx_map(&F, VA, 2, fl);
    fx_assert_pf(fx_access(&F, VA, PG_ACC_READ), PG_PFEC_P | PG_PFEC_PK);
}

Test(mmu_rights, non_canonical_address_raises_gp_before_any_walk)
{
    fx_init(&F, 4);
    fx_map_all(&F, VA, 1, FX_URW);
    struct pg_mmu_result r = fx_access(&F, 0x0000800000000000ULL, PG_ACC_READ);
    cr_assert_eq(r.vector, PG_VEC_GP);
    cr_assert_eq(r.error_code, 0);
    cr_assert_eq(r.walk.nsteps, 0);
    r = fx_access(&F, 0xFFFF7FFFFFFFFFFFULL, PG_ACC_WRITE | PG_ACC_STACK);
    cr_assert_eq(r.vector, PG_VEC_SS, "stack references raise #SS");
    /* 5-level: canonical means bits 63:56 equal */
    fx_fini(&F);
    fx_init(&F, 5);
    r = fx_access(&F, 0x0000800000000000ULL, PG_ACC_READ);
    fx_assert_pf(r, 0);
    r = fx_access(&F, 0x0100000000000000ULL, PG_ACC_READ);
    cr_assert_eq(r.vector, PG_VEC_GP);
}

Test(mmu_rights, cr2_is_the_linear_address)
{
    fx_init(&F, 4);
    struct pg_mmu_result r = fx_access(&F, 0xFFFF888012345678ULL, PG_ACC_READ);
    fx_assert_pf(r, 0);
    cr_assert_eq(r.cr2, 0xFFFF888012345678ULL);
    fx_fini(&F);
    fx_init(&F, 2);
    r = fx_access(&F, 0x1234567812345678ULL, PG_ACC_READ);
    cr_assert_eq(r.cr2, 0x12345678ULL, "legacy modes use 32-bit linear addresses");
}

Test(mmu_rights, paging_off_maps_linear_to_physical)
{
    fx_init(&F, 0);
    F.cpu.cpl = 3;
    struct pg_mmu_result r = fx_access(&F, 0xABCDE123, PG_ACC_WRITE);
    fx_assert_ok(r);
    cr_assert_eq(r.pa, 0xABCDE123);
    cr_assert_eq(r.paging_mode, 0);
}

Test(mmu_rights, memory_type_comes_from_pat_pcd_pwt)
{
    fx_init(&F, 4);
    F.cpu.pat = 0x0001050400070406ULL;  /* WB WT UC- UC | WT WP WC UC */
    fx_map_all(&F, VA, 1, FX_SRW);
    cr_assert_eq(fx_access(&F, VA, PG_ACC_READ).mem_type, 0x06);            /* index 0 */
    fx_map_all(&F, VA, 1, FX_SRW | PTE_PWT);
    cr_assert_eq(fx_access(&F, VA, PG_ACC_READ).mem_type, 0x04);            /* index 1 */
    fx_map_all(&F, VA, 1, FX_SRW | PTE_PCD | PTE_PWT);
    cr_assert_eq(fx_access(&F, VA, PG_ACC_READ).mem_type, 0x00);            /* index 3 */
    uint64_t fl[6] = { 0, FX_SRW | PTE_PAT, FX_SRW, FX_SRW, FX_SRW };       /* 4 KiB PAT = bit 7 */
    fx_map(&F, VA, 1, fl);
    cr_assert_eq(fx_access(&F, VA, PG_ACC_READ).mem_type, 0x04);            /* index 4 */
    fl[2] = FX_SRW | PTE_PAT_LARGE | PTE_PWT;                               /* 2 MiB PAT = bit 12 */
    fx_map(&F, VA, 2, fl);
    cr_assert_eq(fx_access(&F, VA, PG_ACC_READ).mem_type, 0x05);            /* index 5 */
    F.cpu.cr0 |= PG_CR0_CD;
    cr_assert_eq(fx_access(&F, VA, PG_ACC_READ).mem_type, PG_MT_UC);
}

Test(mmu_rights, error_code_names_its_bits)
{
    char buf[48];
    cr_assert_str_eq(pg_pfec_string(0, buf, sizeof(buf)), "not-present");
    cr_assert_str_eq(pg_pfec_string(0x3F, buf, sizeof(buf)), "P W U RSVD I/D PK");
    cr_assert_str_eq(pg_pfec_string(0x15, buf, 8), "P U I/D");
    fx_init(&F, 0);     /* teardown's */
}
