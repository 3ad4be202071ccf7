/*
 * access.c: the access verdict of `vtop --access` and `draw walk --access`:
 * lib/paging's MMU model (pg_mmu_access, see docs/mmu.md) decides, with
 * CR0.WP, CR4 and RFLAGS from the target's vCPU note; this file only finds
 * the entry and the bits responsible and words the reason.
 * Depends on: access.h, lib/paging.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "access.h"

/* The walk step of `level`, or NULL. */
static const struct pg_walk_step *step_at(const struct pg_walk *w, int level)
{
    for (unsigned i = 0; i < w->nsteps; i++)
        if (w->step[i].level == level)
            return &w->step[i];
    return NULL;
}

/* The first step (from the top) whose entry has `bit` set (set) or clear; PAE PDPTEs skipped. */
static const struct pg_walk_step *first_step(const struct ptl_target *t, const struct pg_walk *w,
                                             uint64_t bit, bool set)
{
    for (unsigned i = 0; i < w->nsteps; i++) {
        const struct pg_walk_step *st = &w->step[i];
        if (t->mode->levels == PG_MODE_PAE && st->level == 3)
            continue;
        if (((st->entry & bit) != 0) == set)
            return st;
    }
    return NULL;
}

/*
 * model_cpu - the CPU state of the target for lib/paging's MMU model: the
 * mode and root of the target, CR0.WP, CR4 (PSE, SMEP, SMAP, PKE, PKS) and
 * RFLAGS from the vCPU note (without one: WP = 1, nothing else). A QEMU dump
 * has no EFER, PKRU, PKRS or PDPTE registers: NXE follows the walk context
 * (on unless PG_NO_NX), every key allows everything, and in PAE mode the
 * PDPTE registers are loaded from memory as the last MOV CR3 would have.
 * returns: 0, or the -PG_E* code of the PDPTE load (-PG_EGP, -PG_EIO).
 */
static int model_cpu(const struct ptl_target *t, bool user, struct pg_cpu *mc)
{
    const struct ptl_cpu *cpu = t->cpu;
    unsigned levels = t->mode->levels;
    pg_cpu_reset(mc, PG_CPUID_ALL, t->ctx.phys_bits ? t->ctx.phys_bits
                                   : levels == PG_MODE_32BIT ? 40 : 52);
    uint64_t keep = PG_CR4_SMEP | PG_CR4_SMAP | PG_CR4_PKE | PG_CR4_PKS;
    if (cpu)
        mc->cr4 = cpu->cr4 & keep;
    if (levels == PG_MODE_32BIT && !(t->ctx.disabled & PG_NO_PSE))
        mc->cr4 |= PG_CR4_PSE;
    int err = pg_cpu_set_paging(mc, levels, t->root, &t->ctx);
    if (err)
        return err;
    if (cpu && !(cpu->cr0 & PG_CR0_WP))
        mc->cr0 &= ~PG_CR0_WP;
    if (t->ctx.disabled & PG_NO_NX)
        mc->efer &= ~PG_EFER_NXE;
    mc->rflags = cpu ? cpu->rflags : 0x2;
    mc->cpl = user ? 3 : 0;
    return 0;
}

/* Record st as the entry responsible, with the bits that deny and the reason. */
static void blame(struct ptl_access *a, const struct pg_walk_step *st, uint64_t bits,
                  const char *why)
{
    snprintf(a->reason, sizeof(a->reason), "%s", why);
    a->bits = bits;
    if (st) {
        a->has_step = true;
        a->step = *st;
        a->level = st->level;
    }
}

/*
 * denial - why the MMU model denied an access to a present page (its
 * PG_DENY_* bits): the first entry from the top whose bit denies it, or for
 * SMEP, SMAP and keys the leaf's (the reason is then the CPU state's).
 */
static void denial(const struct ptl_target *t, struct ptl_access *a)
{
    const struct pg_walk *w = &a->r.walk;
    unsigned deny = a->r.deny;
    if (deny & PG_DENY_USER) {
        blame(a, first_step(t, w, PTE_U, false), PTE_U, "U/S (bit 2) is clear: a supervisor page");
    } else if (deny & PG_DENY_WRITE) {
        blame(a, first_step(t, w, PTE_W, false), PTE_W,
              a->user ? "R/W (bit 1) is clear: read-only"
                      : "R/W (bit 1) is clear: read-only, and CR0.WP = 1");
    } else if (deny & PG_DENY_XD) {
        blame(a, first_step(t, w, PTE_NX, true), PTE_NX, "XD (bit 63) is set: not executable");
    } else {
        const char *why = (deny & PG_DENY_SMEP)
            ? "CR4.SMEP = 1 and the page is a user page (U/S set at every level)"
            : (deny & PG_DENY_SMAP) ? "CR4.SMAP = 1, RFLAGS.AC = 0 and the page is a user page"
            : "the protection key denies it";
        uint64_t bits = (deny & (PG_DENY_SMEP | PG_DENY_SMAP)) ? PTE_U : PTE_PK_MASK;
        blame(a, step_at(w, w->leaf_level), bits, why);
        a->level = 0;   /* no entry's bit alone: the CPU state decides */
    }
}

int ptl_access_check(const struct ptl_target *t, virt_addr_t va, char acc, bool user,
                     struct ptl_access *a)
{
    memset(a, 0, sizeof(*a));
    a->acc = acc;
    a->user = user;
    bool write = acc == 'w', fetch = acc == 'x';
    int err = model_cpu(t, user, &a->cpu);
    if (err == -PG_EGP) {
        a->outcome = PTL_ACCESS_GP_PDPTE;
        return 0;
    }
    if (!err)
        err = pg_mmu_access(&t->ctx, &a->cpu, va,
                            write ? PG_ACC_WRITE : fetch ? PG_ACC_FETCH : PG_ACC_READ,
                            PG_MMU_REPORT_AD, NULL, &a->r);
    if (err) {
        a->outcome = PTL_ACCESS_UNKNOWN;
        a->err = err;
        return 0;
    }
    if (a->r.vector == PG_VEC_GP) {
        a->outcome = PTL_ACCESS_GP_CANONICAL;
        return 0;
    }
    if (a->r.vector != PG_VEC_PF) {
        a->outcome = PTL_ACCESS_ALLOWED;
        return 0;
    }
    a->outcome = PTL_ACCESS_PF;
    if (a->r.fault_level) {
        char what[64];
        if (a->r.error_code & PG_PFEC_RSVD)
            snprintf(what, sizeof(what), "reserved bits %#" PRIx64 " are set", a->r.rsvd_bits);
        else
            snprintf(what, sizeof(what), "P (bit 0) is clear");
        blame(a, step_at(&a->r.walk, a->r.fault_level),
              (a->r.error_code & PG_PFEC_RSVD) ? a->r.rsvd_bits : PTE_P, what);
        a->level = a->r.fault_level;
    } else {
        denial(t, a);
    }
    return 0;
}

const char *ptl_access_what(const struct ptl_access *a, char buf[40])
{
    snprintf(buf, 40, "%s %s", a->user ? "user" : "supervisor",
             a->acc == 'w' ? "write" : a->acc == 'x' ? "instruction fetch" : "read");
    return buf;
}
