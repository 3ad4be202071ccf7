/*
 * mmu.c: the MMU model's memory access (pg_mmu_access) and its TLB.
 *
 * One access follows docs/mmu.md's "The decision procedure" step by step: the canonical check,
 * the walk (walk.c's pg_walk_levels, below the PAE PDPTE registers), the
 * "Access rights", the "Page-fault error code" and the "Accessed and dirty
 * flags" updates. The walk's
 * pg_ctx is derived from the CPU state (mode, MAXPHYADDR, NXE, PSE, Page1GB,
 * PAT, PSE-36), so the reserved-bit rules are mode.c's pg_entry_reserved.
 * Depends on: mmu.h, paging.h, pg_internal.h.
 */
#include <paging/mmu.h>
#include <paging/pat.h>

#include "mmu_internal.h"
#include "pg_internal.h"

/* ---- CPU state helpers ---- */

unsigned pg_cpu_paging_mode(const struct pg_cpu *cpu)
{
    return pg_mode_from_regs(cpu->cr0, cpu->cr4, cpu->efer);
}

/* The pg_ctx of the walk in this state: mem's memory, the mode's rules. */
static void walk_ctx_(const struct pg_cpu *cpu, const struct pg_ctx *mem, unsigned mode,
                      struct pg_ctx *c)
{
    memset(c, 0, sizeof(*c));
    c->phys_to_virt = mem->phys_to_virt;
    c->arg = mem->arg;
    c->levels = mode;
    c->phys_bits = cpu->phys_bits ? cpu->phys_bits : 36;
    if (!(cpu->efer & PG_EFER_NXE))
        c->disabled |= PG_NO_NX;
    if (!(cpu->cr4 & PG_CR4_PSE))
        c->disabled |= PG_NO_PSE;     /* only 32-bit paging looks at it */
    if (!has_(cpu, PG_CPUID_PAGE1GB))
        c->disabled |= PG_NO_1G;
    if (!has_(cpu, PG_CPUID_PAT))
        c->disabled |= PG_NO_PAT;
    if (!has_(cpu, PG_CPUID_PSE36))
        c->disabled |= PG_NO_PSE36;
}

/* ---- TLB ---- */

void pg_tlb_init(struct pg_tlb *tlb)
{
    memset(tlb, 0, sizeof(*tlb));
}

static bool covers_(const struct pg_tlb_entry *e, virt_addr_t va)
{
    return e->valid && va - e->va < e->page_size;
}

const struct pg_tlb_entry *pg_tlb_lookup(const struct pg_tlb *tlb, const struct pg_cpu *cpu,
                                         virt_addr_t va)
{
    if (!tlb || !pg_cpu_paging_mode(cpu))
        return NULL;
    uint16_t pcid = cur_pcid_(cpu);
    for (unsigned i = 0; i < PG_TLB_ENTRIES; i++) {
        const struct pg_tlb_entry *e = &tlb->e[i];
        if (covers_(e, va) && (e->global || e->pcid == pcid))
            return e;
    }
    return NULL;
}

unsigned pg_tlb_count(const struct pg_tlb *tlb)
{
    unsigned n = 0;
    for (unsigned i = 0; i < PG_TLB_ENTRIES; i++)
        n += tlb->e[i].valid;
    return n;
}

void pg_tlb_flush_(struct pg_tlb *tlb, enum tlb_sel_ sel, uint16_t pcid, virt_addr_t va)
{
    if (!tlb)
        return;
    for (unsigned i = 0; i < PG_TLB_ENTRIES; i++) {
        struct pg_tlb_entry *e = &tlb->e[i];
        bool drop = false;
        switch (sel) {
        case SEL_ALL_: drop = true; break;
        case SEL_ALL_NONGLOBAL_: drop = !e->global; break;
        case SEL_PCID_: drop = e->pcid == pcid; break;
        case SEL_PCID_NONGLOBAL_: drop = !e->global && e->pcid == pcid; break;
        case SEL_PAGE_: drop = covers_(e, va) && (e->global || e->pcid == pcid); break;
        case SEL_PAGE_NONGLOBAL_: drop = covers_(e, va) && !e->global && e->pcid == pcid; break;
        }
        if (drop)
            e->valid = false;
    }
}

int pg_tlb_invlpg(struct pg_tlb *tlb, const struct pg_cpu *cpu, virt_addr_t m)
{
    if (cpu->cpl)
        return -PG_EGP;
    unsigned mode = pg_cpu_paging_mode(cpu);
    if (mode >= PG_MODE_4LEVEL && !pg_is_canonical(mode, m))
        return 0;
    if (mode && mode < PG_MODE_4LEVEL)
        m &= 0xFFFFFFFFULL;
    pg_tlb_flush_(tlb, SEL_PAGE_, cur_pcid_(cpu), m);
    return 0;
}

int pg_tlb_invpcid(struct pg_tlb *tlb, const struct pg_cpu *cpu, uint64_t type, uint64_t pcid,
                   virt_addr_t la)
{
    if (!has_(cpu, PG_CPUID_INVPCID))
        return -PG_EUD;
    if (cpu->cpl || type > 3 || pcid > 0xFFF)
        return -PG_EGP;
    if (type <= PG_INVPCID_SINGLE && pcid && !(cpu->cr4 & PG_CR4_PCIDE))
        return -PG_EGP;
    if (type == PG_INVPCID_ADDR && !pg_is_canonical(PG_MODE_4LEVEL, la) &&
        !((cpu->cr4 & PG_CR4_LA57) && pg_is_canonical(PG_MODE_5LEVEL, la)))
        return -PG_EGP;
    switch (type) {
    case PG_INVPCID_ADDR:
        pg_tlb_flush_(tlb, SEL_PAGE_NONGLOBAL_, (uint16_t)pcid, la);
        break;
    case PG_INVPCID_SINGLE:
        pg_tlb_flush_(tlb, SEL_PCID_NONGLOBAL_, (uint16_t)pcid, 0);
        break;
    case PG_INVPCID_ALL_GLOBAL:
        pg_tlb_flush_(tlb, SEL_ALL_, 0, 0);
        break;
    default:
        pg_tlb_flush_(tlb, SEL_ALL_NONGLOBAL_, 0, 0);
        break;
    }
    return 0;
}

/* Cache a successful translation (replacing any entry for the same page and PCID). */
static void tlb_fill_(struct pg_tlb *tlb, const struct pg_cpu *cpu, const struct pg_mmu_result *r,
                      uint64_t leaf)
{
    struct pg_tlb_entry n = {
        .valid = true,
        .global = (cpu->cr4 & PG_CR4_PGE) && (leaf & PTE_G),
        .writable = r->walk.writable, .user = r->walk.user, .nx = r->walk.nx,
        .dirty = (leaf & PTE_D) != 0,
        .pkey = (uint8_t)r->pkey,
        .pcid = cur_pcid_(cpu),
        .va = r->walk.va & ~(r->page_size - 1),
        .page_size = r->page_size,
        .pa = r->pa & ~(r->page_size - 1),
    };
    pg_tlb_flush_(tlb, SEL_PAGE_, n.pcid, n.va);
    for (unsigned i = 0; i < PG_TLB_ENTRIES; i++) {
        if (!tlb->e[i].valid) {
            tlb->e[i] = n;
            return;
        }
    }
    tlb->e[tlb->next] = n;
    tlb->next = (tlb->next + 1) % PG_TLB_ENTRIES;
}

/* ---- Rights (docs/mmu.md, "Access rights") ---- */

struct rights_ {
    bool writable, user, nx;
    unsigned pkey;
};

/*
 * The PG_DENY_* rules that refuse `access` on a translation with `rt`, as
 * the decision procedure lists them. *pk_fault says whether PK goes into
 * the error code.
 */
static unsigned check_rights_(const struct pg_cpu *cpu, unsigned mode, unsigned access,
                              struct rights_ rt, bool *pk_fault)
{
    bool write = access & PG_ACC_WRITE, fetch = access & PG_ACC_FETCH;
    bool implicit = access & PG_ACC_IMPLICIT;
    bool user = cpu->cpl == 3 && !implicit;
    bool wp = cpu->cr0 & PG_CR0_WP;
    unsigned deny = 0;

    if (user && !rt.user)
        deny |= PG_DENY_USER;
    if (write && !rt.writable && (user || wp))
        deny |= PG_DENY_WRITE;
    if (fetch && rt.nx)
        deny |= PG_DENY_XD;
    if (fetch && !user && rt.user && (cpu->cr4 & PG_CR4_SMEP))
        deny |= PG_DENY_SMEP;
    if (!fetch && !user && rt.user && (cpu->cr4 & PG_CR4_SMAP) &&
        !((cpu->rflags & PG_RFLAGS_AC) && !implicit && cpu->cpl < 3))
        deny |= PG_DENY_SMAP;

    *pk_fault = false;
    if (!fetch && mode >= PG_MODE_4LEVEL) {
        uint64_t keys = 0;
        bool on = false;
        if (rt.user && (cpu->cr4 & PG_CR4_PKE)) {
            keys = cpu->pkru;
            on = true;
        } else if (!rt.user && (cpu->cr4 & PG_CR4_PKS)) {
            keys = cpu->pkrs;
            on = true;
        }
        bool ad = on && ((keys >> (2 * rt.pkey)) & 1);
        bool wd = on && ((keys >> (2 * rt.pkey + 1)) & 1);
        if (ad || (wd && write && (user || wp))) {
            deny |= PG_DENY_PK;
            *pk_fault = true;
        }
    }
    return deny;
}

/* ---- A/D updates (docs/mmu.md, "Accessed and dirty flags") ---- */

/* OR bits into the entry of step s (read-modify-write, as the locked update). */
static int set_bits_(const struct pg_ctx *c, const struct pg_walk_step *s, uint64_t bits,
                     unsigned flags, struct pg_mmu_result *r)
{
    const struct pg_level_desc *d = &pg_mode_get(c->levels)->level[s->level];
    uint64_t cur;
    int err = pg_entry_read(c, s->table_pa, s->level, s->index, &cur);
    if (err)
        return err;
    if ((cur & bits) == bits)
        return 0;
    uint64_t upd = cur | bits;
    if (d->entry_size == 4)
        upd &= 0xFFFFFFFFULL;
    if (!(flags & PG_MMU_REPORT_AD)) {
        err = pg_entry_write(c, s->table_pa, s->level, s->index, upd);
        if (err)
            return err;
    }
    r->ad[r->nad++] = (struct pg_ad_update){ .level = s->level, .entry_pa = s->entry_pa,
                                              .old = cur, .new = upd };
    return 0;
}

/* Memory type of a leaf (docs/mmu.md, "Control bits and CPUID"): PAT index PAT*4 + PCD*2 + PWT. */
static unsigned mem_type_(const struct pg_cpu *cpu, uint64_t leaf_prot)
{
    if (cpu->cr0 & PG_CR0_CD)
        return PG_MT_UC;
    if (!has_(cpu, PG_CPUID_PAT)) /* PCD and PWT alone, through the reset value */
        return pg_pat_mem_type(PG_PAT_RESET, leaf_prot & ~PTE_PAT_LARGE);
    return pg_pat_mem_type(cpu->pat, leaf_prot);
}

char *pg_pfec_string(uint32_t ec, char *buf, size_t size)
{
    static const char *const names[] = { "W", "U", "RSVD", "I/D", "PK" };
    size_t n = 0;
    const char *first = (ec & PG_PFEC_P) ? "P" : "not-present";
    char tmp[48];
    size_t len = strlen(first);
    memcpy(tmp, first, len);
    n = len;
    for (unsigned b = 1; b <= 5; b++) {
        if (!(ec & (1u << b)))
            continue;
        tmp[n++] = ' ';
        len = strlen(names[b - 1]);
        memcpy(tmp + n, names[b - 1], len);
        n += len;
    }
    tmp[n] = 0;
    if (size) {
        size_t c = n < size - 1 ? n : size - 1;
        memcpy(buf, tmp, c);
        buf[c] = 0;
    }
    return buf;
}

/* ---- The access ---- */

/* Record a #PF with error code ec. */
static void page_fault_(struct pg_mmu_result *r, uint32_t ec, virt_addr_t va, unsigned mode)
{
    r->vector = PG_VEC_PF;
    r->error_code = ec;
    r->cr2 = mode >= PG_MODE_4LEVEL ? va : (va & 0xFFFFFFFFULL);
}

/*
 * A in the first `upto` entries of the walk, and D in the leaf if dirty (the
 * leaf is then among them). Levels without an A bit (PAE PDPTE registers) are
 * skipped.
 */
static int set_accessed_(const struct pg_ctx *c, unsigned upto, bool dirty, unsigned flags,
                         struct pg_mmu_result *r)
{
    const struct pg_mode_desc *m = pg_mode_get(c->levels);
    for (unsigned i = 0; i < upto; i++) {
        const struct pg_walk_step *s = &r->walk.step[i];
        if (m->level[s->level].no_rights)
            continue;
        uint64_t bits = PTE_A | ((dirty && i == r->walk.nsteps - 1) ? PTE_D : 0);
        int err = set_bits_(c, s, bits, flags, r);
        if (err)
            return err;
    }
    return 0;
}

/* A #PF after a walk that went as far as its last step: non-leaf A as the policy says, CR2, TLB. */
static int walk_fault_(const struct pg_ctx *c, const struct pg_cpu *cpu, uint32_t ec,
                       unsigned flags, struct pg_tlb *tlb, struct pg_mmu_result *r)
{
    if (!(flags & PG_MMU_LAZY_A)) {
        int err = set_accessed_(c, r->walk.nsteps - 1, false, flags, r);
        if (err)
            return err;
    }
    page_fault_(r, ec, r->walk.va, r->paging_mode);
    pg_tlb_flush_(tlb, SEL_PAGE_, cur_pcid_(cpu), r->walk.va);
    return 0;
}

/*
 * The walk for va in this state: in PAE mode the PDPTE register of va's
 * quarter (recorded as step[0], with the address it was loaded from), then
 * the tables; in the other modes the tables from CR3's root.
 */
static void mmu_walk_(const struct pg_ctx *c, const struct pg_cpu *cpu, struct pg_walk *w)
{
    const struct pg_mode_desc *m = pg_mode_get(c->levels);
    int top = (int)m->levels;
    phys_addr_t root = pg_cr3_root(c->levels, cpu->cr3);
    if (c->levels != PG_MODE_PAE) {
        /* Bits of CR3 above MAXPHYADDR cannot be set (MOV to CR3 faults). */
        pg_walk_levels(c, root & bits_(c->phys_bits - 1, 0), top, w);
        return;
    }
    const struct pg_level_desc *d = &m->level[top];
    struct pg_walk_step *s = &w->step[w->nsteps++];
    s->level = top;
    s->table_pa = root;
    s->index = level_index_(d, w->va);
    s->entry_pa = root + (uint64_t)s->index * d->entry_size;
    s->entry = cpu->pdpte[s->index];
    pg_entry_decode(c, top, s->entry, &s->dec);
    if (s->dec.present) {
        pg_walk_levels(c, s->dec.addr, top - 1, w);
    } else {
        w->status = -PG_ENOTMAPPED;
        w->fault_level = top;
    }
}

/* The access from the TLB entry hit: its rights, no walk, no A/D. */
static void tlb_access_(const struct pg_cpu *cpu, const struct pg_tlb_entry *hit, unsigned access,
                        uint32_t ec, struct pg_tlb *tlb, struct pg_mmu_result *r)
{
    struct rights_ rt = { hit->writable, hit->user, hit->nx, hit->pkey };
    virt_addr_t va = r->walk.va;
    bool pk;
    r->from_tlb = true;
    r->page_size = hit->page_size;
    r->pkey = hit->pkey;
    r->deny = check_rights_(cpu, r->paging_mode, access, rt, &pk);
    if (r->deny) {
        page_fault_(r, ec | PG_PFEC_P | (pk ? PG_PFEC_PK : 0), va, r->paging_mode);
        pg_tlb_flush_(tlb, SEL_PAGE_, cur_pcid_(cpu), va);
        return;
    }
    r->pa = hit->pa + (va - hit->va);
}

/* The #PF error code's W, U and I/D bits for this access. */
static uint32_t access_ec_(const struct pg_cpu *cpu, unsigned access)
{
    bool user = cpu->cpl == 3 && !(access & PG_ACC_IMPLICIT);
    uint32_t ec = ((access & PG_ACC_WRITE) ? PG_PFEC_W : 0) | (user ? PG_PFEC_U : 0);
    if ((access & PG_ACC_FETCH) &&
        ((cpu->cr4 & PG_CR4_SMEP) || ((cpu->cr4 & PG_CR4_PAE) && (cpu->efer & PG_EFER_NXE))))
        ec |= PG_PFEC_ID;
    return ec;
}

/* After a successful walk: the leaf's attributes, the rights check, then A/D and the TLB fill. */
static int walk_access_(const struct pg_ctx *c, const struct pg_cpu *cpu, unsigned access,
                        unsigned flags, struct pg_tlb *tlb, struct pg_mmu_result *r)
{
    const struct pg_walk *w = &r->walk;
    const struct pg_walk_step *leaf = &w->step[w->nsteps - 1];
    unsigned mode = r->paging_mode;
    bool write = access & PG_ACC_WRITE;
    uint32_t ec = access_ec_(cpu, access);
    r->leaf_level = w->leaf_level;
    r->page_size = w->page_size;
    r->pkey = mode >= PG_MODE_4LEVEL ? (unsigned)((leaf->entry & PTE_PK_MASK) >> PTE_PK_SHIFT) : 0;
    r->mem_type = mem_type_(cpu, w->leaf_prot);

    struct rights_ rt = { w->writable, w->user, w->nx, r->pkey };
    bool pk;
    r->deny = check_rights_(cpu, mode, access, rt, &pk);
    if (r->deny)
        return walk_fault_(c, cpu, ec | PG_PFEC_P | (pk ? PG_PFEC_PK : 0), flags, tlb, r);

    /* Success: A in every entry used (not PAE PDPTE registers), D in the leaf on a write. */
    int err = set_accessed_(c, w->nsteps, write, flags, r);
    if (err)
        return err;
    r->pa = w->pa;
    if (tlb)
        tlb_fill_(tlb, cpu, r, leaf->entry | PTE_A | (write ? PTE_D : 0));
    return 0;
}

int pg_mmu_access(const struct pg_ctx *mem, const struct pg_cpu *cpu, virt_addr_t va,
                  unsigned access, unsigned flags, struct pg_tlb *tlb, struct pg_mmu_result *r)
{
    if (!mem || !cpu || !r || !mem->phys_to_virt)
        return -PG_EINVAL;
    if (cpu->cpl > 3 || ((access & PG_ACC_WRITE) && (access & PG_ACC_FETCH)))
        return -PG_EINVAL;
    memset(r, 0, sizeof(*r));
    unsigned mode = pg_cpu_paging_mode(cpu);
    r->paging_mode = mode;
    pg_walk_begin(&r->walk, va);

    if (!mode) {
        r->pa = va & 0xFFFFFFFFULL;
        r->mem_type = (cpu->cr0 & PG_CR0_CD) ? PG_MT_UC : PG_MT_WB;
        return 0;
    }
    if (mode >= PG_MODE_4LEVEL && !pg_is_canonical(mode, va)) {
        r->vector = (access & PG_ACC_STACK) ? PG_VEC_SS : PG_VEC_GP;
        return 0;
    }
    if (mode < PG_MODE_4LEVEL) {
        va &= 0xFFFFFFFFULL;
        r->walk.va = va;
    }

    /* A cached translation (a write through an entry cached with D = 0 walks again). */
    const struct pg_tlb_entry *hit = pg_tlb_lookup(tlb, cpu, va);
    if (hit && !((access & PG_ACC_WRITE) && !hit->dirty)) {
        tlb_access_(cpu, hit, access, access_ec_(cpu, access), tlb, r);
        return 0;
    }

    struct pg_ctx c;
    walk_ctx_(cpu, mem, mode, &c);
    mmu_walk_(&c, cpu, &r->walk);
    switch (r->walk.status) {
    case 0:
        return walk_access_(&c, cpu, access, flags, tlb, r);
    case -PG_ENOTMAPPED:
    case -PG_ERSVD:
        r->fault_level = r->walk.fault_level;
        r->rsvd_bits = r->walk.rsvd_bits;
        return walk_fault_(&c, cpu,
                           access_ec_(cpu, access) |
                           (r->walk.status == -PG_ERSVD ? PG_PFEC_P | PG_PFEC_RSVD : 0),
                           flags, tlb, r);
    default:
        return r->walk.status;   /* -PG_EIO */
    }
}
