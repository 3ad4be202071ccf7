/*
 * test_mmu_enum.c: the MMU model against a second, simpler oracle over the
 * whole enumeration of kvm-unit-tests' x86/access (docs/formats.md,
 * "kvm-unit-tests access"): every
 * legal combination of PTE/PDE flags (reserved-bit probes and 2 MiB pages
 * included), PDPTE R/W, CR0.WP, EFER.NXE, CR4.PKE with PKRU rights and keys,
 * access type, CPL and "twice" (a supervisor read first), in 4-level and
 * 5-level paging.
 *
 * The oracle below restates docs/formats.md's "Access outcome" from scratch and shares no code
 * with lib/paging: it knows only the two entries and the flags. For each
 * combination the model and the oracle must agree on fault or no fault, the
 * error code, the PTE and the PDE afterwards (the PDE's A is "don't care" on
 * a fault when it started clear).
 *
 * `make unit` runs M = 52 without PKU in both modes (933,888 combinations
 * each, docs/formats.md's count). PTLAB_MATRIX=full (make matrix) adds M = 40 and
 * M = 36 and the PKU sets: 933,888 + 1,916,928 + 2,899,968 + 9,338,880 +
 * 19,169,280 per mode.
 */
#include <stdlib.h>

#include "mmu_fixture.h"

/* Flags, bit index = the order of docs/formats.md, "Access flags". */
enum {
    PTE_WRITABLE, PTE_USER, PTE_ACCESSED, PTE_DIRTY, PTE_NX_, PTE_PRESENT, PTE_BIT51, PTE_BIT36,
    PDE_WRITABLE, PDE_USER, PDE_ACCESSED, PDE_DIRTY, PDE_PSE, PDE_NX, PDE_PRESENT, PDE_BIT51,
    PDE_BIT36, PDE_BIT13, PDPTE_NO_WRITABLE, PKU_AD, PKU_WD, PKU_PKEY, ACCESS_USER, ACCESS_WRITE,
    ACCESS_FETCH, ACCESS_TWICE, CPU_EFER_NX, CPU_CR0_WP, CPU_CR4_SMEP, CPU_CR4_PKE, FEP,
    NR_FLAGS
};

static const char *const flag_names[NR_FLAGS] = {
    "pte.rw", "pte.user", "pte.a", "pte.d", "pte.nx", "pte.p", "pte.51", "pte.36",
    "pde.rw", "pde.user", "pde.a", "pde.d", "pde.pse", "pde.nx", "pde.p", "pde.51", "pde.36",
    "pde.13", "pdpte.ro", "pkru.ad", "pkru.wd", "pkey=1", "user", "write", "fetch", "twice",
    "efer.nx", "cr0.wp", "cr4.smep", "cr4.pke", "fep",
};

#define FL(f, n) (((f) >> (n)) & 1u)

#define TEST_VA     0xFFFF923400000000ULL
#define DATA_PA     0x2000000ULL            /* 32 MiB, 2 MiB aligned */
#define RO_BIT(n)   (1ULL << (n))

/* ---- the oracle (docs/formats.md, "Access outcome") ---- */

struct expect {
    bool fault;
    uint32_t ec;
    uint64_t pte, pde;
    bool ignore_pde_a;
};

struct oracle_cpu {
    unsigned maxphy;
};

/* Is a reserved probe set in the PDE / PTE (given M)? */
static bool pde_reserved(uint32_t f, unsigned M)
{
    return (FL(f, PDE_BIT51) && M <= 51) || (FL(f, PDE_BIT36) && M <= 36) ||
           (FL(f, PDE_BIT13) && FL(f, PDE_PSE)) || (FL(f, PDE_NX) && !FL(f, CPU_EFER_NX));
}

static bool pte_reserved(uint32_t f, unsigned M)
{
    return (FL(f, PTE_BIT51) && M <= 51) || (FL(f, PTE_BIT36) && M <= 36) ||
           (FL(f, PTE_NX_) && !FL(f, CPU_EFER_NX));
}

/* Does the walk stop at an entry (not present, or reserved bits)? Then the fault and its code. */
static bool entry_faults(bool present, bool reserved, struct expect *e)
{
    if (present && !reserved)
        return false;
    e->fault = true;
    if (!present)
        e->ec &= ~PG_PFEC_P;
    else
        e->ec |= PG_PFEC_RSVD;
    return true;
}

/*
 * One access as the oracle sees it. user/write/fetch describe the access;
 * pte/pde hold the entries' current A/D (in and out).
 */
static void oracle_access(uint32_t f, unsigned M, bool user, bool write, bool fetch,
                          uint64_t *pte, uint64_t *pde, struct expect *e)
{
    e->fault = false;
    e->ec = PG_PFEC_P | (user ? PG_PFEC_U : 0) | (write ? PG_PFEC_W : 0) |
            (fetch ? PG_PFEC_ID : 0);
    bool pse = FL(f, PDE_PSE);

    if (entry_faults(FL(f, PDE_PRESENT), pde_reserved(f, M), e))
        goto done;
    bool writable = !FL(f, PDPTE_NO_WRITABLE) && FL(f, PDE_WRITABLE);
    bool upage = FL(f, PDE_USER);
    bool exec = !FL(f, PDE_NX);
    if (!pse) {
        *pde |= PTE_A;
        if (entry_faults(FL(f, PTE_PRESENT), pte_reserved(f, M), e))
            goto done;
        writable = writable && FL(f, PTE_WRITABLE);
        upage = upage && FL(f, PTE_USER);
        exec = exec && !FL(f, PTE_NX_);
    }
    bool kwritable = !FL(f, CPU_CR0_WP) && !user;
    if (user && !upage)
        e->fault = true;
    if (write && !writable && !kwritable)
        e->fault = true;
    if (fetch && !exec)
        e->fault = true;
    if (!user && fetch && upage && FL(f, CPU_CR4_SMEP))
        e->fault = true;
    if (upage && !fetch && FL(f, PKU_PKEY) && FL(f, CPU_CR4_PKE)) {
        if (FL(f, PKU_AD)) {
            e->fault = true;
            e->ec |= PG_PFEC_PK;
        } else if (write && FL(f, PKU_WD) && !kwritable) {
            e->fault = true;
            e->ec |= PG_PFEC_PK;
        }
    }
    if (!e->fault) {
        uint64_t *leaf = pse ? pde : pte;
        *leaf |= PTE_A | (write ? PTE_D : 0);
    }
done:
    if (!FL(f, CPU_EFER_NX) && !FL(f, CPU_CR4_SMEP))
        e->ec &= ~PG_PFEC_ID;
}

/* ---- the environment ---- */

struct env {
    struct fx fx;
    unsigned levels, M;
    phys_addr_t pml5, pml4, pdpt, pd, pt;
    unsigned pml5i, pml4i, pdpti, pdi, pti;
};

static uint64_t *slot(struct env *v, phys_addr_t table, unsigned i)
{
    return (uint64_t *)arena_p2v(&v->fx.a, table) + i;
}

static void env_init(struct env *v, unsigned levels, unsigned M)
{
    memset(v, 0, sizeof(*v));
    v->levels = levels;
    v->M = M;
    fx_init_cpu(&v->fx, levels, PG_CPUID_ALL, M);
    v->pml5 = levels == 5 ? v->fx.root : 0;
    v->pml4 = levels == 5 ? arena_root(&v->fx.a) : v->fx.root;
    v->pdpt = arena_root(&v->fx.a);
    v->pd = arena_root(&v->fx.a);
    v->pt = arena_root(&v->fx.a);
    v->pml5i = (unsigned)pg_va_index(5, 5, TEST_VA);
    v->pml4i = (unsigned)pg_va_index(4, 4, TEST_VA);
    v->pdpti = (unsigned)pg_va_index(4, 3, TEST_VA);
    v->pdi = (unsigned)pg_va_index(4, 2, TEST_VA);
    v->pti = (unsigned)pg_va_index(4, 1, TEST_VA);
}

/* The entry bits that the flags of combination f set (table: flag, bit; ends with bit 0). */
struct flag_bit {
    unsigned flag;
    uint64_t bit;
};

static uint64_t flag_bits(uint32_t f, const struct flag_bit *t)
{
    uint64_t e = 0;
    for (; t->bit; t++)
        if (FL(f, t->flag))
            e |= t->bit;
    return e;
}

/* Write the tables and the CPU state of combination f; returns the initial PTE and PDE. */
static void env_setup(struct env *v, uint32_t f, uint64_t *pte_out, uint64_t *pde_out)
{
    static const struct flag_bit pte_bits[] = {
        { PTE_WRITABLE, PTE_W }, { PTE_USER, PTE_U }, { PTE_ACCESSED, PTE_A },
        { PTE_DIRTY, PTE_D }, { PTE_NX_, PTE_NX }, { PTE_PRESENT, PTE_P },
        { PTE_BIT51, RO_BIT(51) }, { PTE_BIT36, RO_BIT(36) }, { PKU_PKEY, 1ULL << PTE_PK_SHIFT },
        { 0, 0 },
    };
    static const struct flag_bit pde_bits[] = {
        { PDE_WRITABLE, PTE_W }, { PDE_USER, PTE_U }, { PDE_ACCESSED, PTE_A },
        { PDE_DIRTY, PTE_D }, { PDE_NX, PTE_NX }, { PDE_PRESENT, PTE_P },
        { PDE_BIT51, RO_BIT(51) }, { PDE_BIT36, RO_BIT(36) }, { PDE_BIT13, RO_BIT(13) },
        { 0, 0 },
    };
    uint64_t pte = DATA_PA | flag_bits(f, pte_bits);
    uint64_t pde = (FL(f, PDE_PSE) ? DATA_PA | PTE_PS : v->pt) | flag_bits(f, pde_bits);
    if (FL(f, PKU_PKEY))
        pde |= (FL(f, PDE_PSE) ? 1ULL : 2ULL) << PTE_PK_SHIFT;

    const uint64_t upper = PTE_P | PTE_W | PTE_U;
    if (v->levels == 5)
        *slot(v, v->pml5, v->pml5i) = v->pml4 | upper;
    *slot(v, v->pml4, v->pml4i) = v->pdpt | upper;
    *slot(v, v->pdpt, v->pdpti) = v->pd | PTE_P | PTE_U | (FL(f, PDPTE_NO_WRITABLE) ? 0 : PTE_W);
    *slot(v, v->pd, v->pdi) = pde;
    *slot(v, v->pt, v->pti) = pte;

    struct pg_cpu *c = &v->fx.cpu;
    c->cr0 = FL(f, CPU_CR0_WP) ? (c->cr0 | PG_CR0_WP) : (c->cr0 & ~PG_CR0_WP);
    c->efer = FL(f, CPU_EFER_NX) ? (c->efer | PG_EFER_NXE) : (c->efer & ~PG_EFER_NXE);
    c->cr4 &= ~(PG_CR4_SMEP | PG_CR4_PKE);
    if (FL(f, CPU_CR4_SMEP)) c->cr4 |= PG_CR4_SMEP;
    if (FL(f, CPU_CR4_PKE)) c->cr4 |= PG_CR4_PKE;
    c->pkru = 0x30u | (FL(f, PKU_WD) << 3) | (FL(f, PKU_AD) << 2);
    c->cpl = 0;
    *pte_out = pte;
    *pde_out = pde;
}

/* ---- enumeration (docs/formats.md, "Access enumeration") ---- */

static bool legal(uint32_t f)
{
    if (FL(f, CPU_CR4_SMEP))
        return false;
    if (FL(f, ACCESS_FETCH) && FL(f, ACCESS_WRITE))
        return false;
    if (FL(f, ACCESS_USER) && FL(f, CPU_CR4_SMEP))
        return false;
    if ((FL(f, PKU_AD) || FL(f, PKU_WD)) && !FL(f, CPU_CR4_PKE))
        return false;
    if (FL(f, PDE_BIT13) && !FL(f, PDE_PSE))
        return false;
    unsigned probes = FL(f, PDE_BIT51) + FL(f, PDE_BIT36) + FL(f, PDE_BIT13) + FL(f, PTE_BIT51) +
                      FL(f, PTE_BIT36);
    if (!FL(f, CPU_EFER_NX))
        probes += FL(f, PDE_NX) + FL(f, PTE_NX_);
    return probes <= 1;
}

static uint32_t invalid_mask(unsigned M, bool pku)
{
    uint32_t inv = 1u << FEP | 1u << CPU_CR4_SMEP;
    if (M >= 52)
        inv |= 1u << PTE_BIT51 | 1u << PDE_BIT51;
    if (M >= 37)
        inv |= 1u << PTE_BIT36 | 1u << PDE_BIT36;
    if (!pku)
        inv |= 1u << PKU_AD | 1u << PKU_WD | 1u << PKU_PKEY | 1u << CPU_CR4_PKE;
    return inv;
}

static void describe(uint32_t f, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < NR_FLAGS && n + 12 < size; i++)
        if (FL(f, i))
            n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? " " : "", flag_names[i]);
}

struct tally {
    uint64_t tests, failures, faults, strict_pde_diffs;
};

/* Run one combination through the model and the oracle. */
static void run_one(struct env *v, uint32_t f, struct tally *t)
{
    uint64_t pte0, pde0;
    env_setup(v, f, &pte0, &pde0);
    struct pg_cpu *c = &v->fx.cpu;
    struct pg_mmu_result r;
    unsigned M = v->M;

    uint64_t xpte = pte0, xpde = pde0;
    struct expect e;
    if (FL(f, ACCESS_TWICE)) {
        cr_assert_eq(pg_mmu_access(&v->fx.mem, c, TEST_VA, PG_ACC_READ, 0, NULL, &r), 0);
        oracle_access(f, M, false, false, false, &xpte, &xpde, &e);
    }
    bool user = FL(f, ACCESS_USER), write = FL(f, ACCESS_WRITE), fetch = FL(f, ACCESS_FETCH);
    oracle_access(f, M, user, write, fetch, &xpte, &xpde, &e);
    e.ignore_pde_a = e.fault && !FL(f, PDE_ACCESSED);

    c->cpl = user ? 3 : 0;
    unsigned acc = (write ? PG_ACC_WRITE : 0) | (fetch ? PG_ACC_FETCH : 0);
    cr_assert_eq(pg_mmu_access(&v->fx.mem, c, TEST_VA, acc, 0, NULL, &r), 0);

    uint64_t pte = *slot(v, v->pt, v->pti), pde = *slot(v, v->pd, v->pdi);
    bool fault = r.vector == PG_VEC_PF;
    const char *why = NULL;
    char reason[96];
    uint64_t pde_mask = e.ignore_pde_a ? ~PTE_A : ~0ULL;
    if (r.vector != PG_VEC_NONE && r.vector != PG_VEC_PF)
        why = "unexpected exception";
    else if (fault && !e.fault)
        why = "unexpected fault";
    else if (!fault && e.fault)
        why = "unexpected access";
    else if (fault && r.error_code != e.ec)
        why = (snprintf(reason, sizeof(reason), "error code %x expected %x", r.error_code, e.ec),
               reason);
    else if (pte != xpte)
        why = (snprintf(reason, sizeof(reason), "pte %llx expected %llx",
                        (unsigned long long)pte, (unsigned long long)xpte), reason);
    else if ((pde ^ xpde) & pde_mask)
        why = (snprintf(reason, sizeof(reason), "pde %llx expected %llx",
                        (unsigned long long)pde, (unsigned long long)xpde), reason);
    t->tests++;
    t->faults += fault;
    if (pde != xpde)
        t->strict_pde_diffs++;
    if (why) {
        if (t->failures < 20) {
            char names[400];
            describe(f, names, sizeof(names));
            cr_log_error("test %s: FAIL: %s", names, why);
        }
        t->failures++;
    }
}

static struct tally run_set(unsigned levels, unsigned M, bool pku)
{
    struct env v;
    env_init(&v, levels, M);
    struct tally t = { 0 };
    uint32_t inv = invalid_mask(M, pku);
    for (uint32_t f = 0; f < (1u << NR_FLAGS); f = ((f | inv) + 1) & ~inv) {
        if (legal(f))
            run_one(&v, f, &t);
    }
    fx_fini(&v.fx);
    cr_log_info("%u-level, M = %u, %s: %llu tests, %llu failures (%llu faults; PDE differs in A "
                "only where don't-care: %llu)", levels, M, pku ? "PKU" : "no PKU",
                (unsigned long long)t.tests, (unsigned long long)t.failures,
                (unsigned long long)t.faults, (unsigned long long)t.strict_pde_diffs);
    return t;
}

static void check_set(unsigned levels, unsigned M, bool pku, uint64_t count)
{
    struct tally t = run_set(levels, M, pku);
    cr_assert_eq(t.tests, count,
                 "%u-level M=%u pku=%d: %llu combinations, docs/formats.md says %llu",
                 levels, M, pku, (unsigned long long)t.tests, (unsigned long long)count);
    cr_assert_eq(t.failures, 0, "%llu of %llu combinations disagree", (unsigned long long)t.failures,
                 (unsigned long long)t.tests);
    cr_assert_eq(t.strict_pde_diffs, 0, "default A policy: the PDE matches exactly");
}

static bool full(void)
{
    const char *m = getenv("PTLAB_MATRIX");
    return m && !strcmp(m, "full");
}

TestSuite(mmu_enum, .timeout = 3600);

Test(mmu_enum, access_test_4level_maxphyaddr52_no_pku)
{
    check_set(4, 52, false, 933888);
}

Test(mmu_enum, access_test_5level_maxphyaddr52_no_pku)
{
    check_set(5, 52, false, 933888);
}

/* The rest of docs/formats.md's table: PTLAB_MATRIX=full only (make matrix). */
static void check_full(unsigned levels)
{
    if (!full()) {
        cr_log_info("%u-level M = 40/36 and PKU sets skipped (PTLAB_MATRIX=full runs them)", levels);
        return;
    }
    check_set(levels, 40, false, 1916928);
    check_set(levels, 36, false, 2899968);
    check_set(levels, 52, true, 9338880);
    check_set(levels, 40, true, 19169280);
}

Test(mmu_enum, access_test_4level_full_matrix) { check_full(4); }
Test(mmu_enum, access_test_5level_full_matrix) { check_full(5); }
