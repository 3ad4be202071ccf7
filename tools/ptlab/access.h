/*
 * access.h: would one access fault, and why: lib/paging's MMU model
 * (pg_mmu_access) run with the CPU state of a target, its outcome explained
 * as the level, the entry and the bits responsible. `vtop --access` prints
 * it; `draw walk --access` highlights it. Protection keys are not checked
 * (PKRU/PKRS are not in a QEMU dump).
 * Depends on: target.h, lib/paging (mmu.h).
 */
#ifndef PTLAB_ACCESS_H
#define PTLAB_ACCESS_H

#include <paging/mmu.h>

#include "target.h"

enum ptl_access_outcome {
    PTL_ACCESS_ALLOWED,
    PTL_ACCESS_PF,              /* a page fault: level, step, bits, reason say why */
    PTL_ACCESS_GP_CANONICAL,    /* #GP: not a canonical address (no walk) */
    PTL_ACCESS_GP_PDPTE,        /* #GP: a present PAE PDPTE has reserved bits */
    PTL_ACCESS_UNKNOWN,         /* the model could not decide: err says why */
};

/*
 * struct ptl_access - the verdict on one access.
 * acc, user    the access: 'r', 'w' or 'x'; user mode (CPL 3) or supervisor
 * outcome      see above; err: the -PG_E* code for PTL_ACCESS_UNKNOWN
 * cpu          the model CPU it was decided on (CR0.WP, CR4, RFLAGS from the
 *              target's vCPU note)
 * r            the model's result (ALLOWED and PF)
 * level        PF: the level of the entry responsible, 0 when no entry is
 *              (SMEP, SMAP, keys: then step is the leaf's if there is one)
 * has_step, step   that entry, as the model's walk read it
 * bits         PF: the bits of that entry that deny the access (PTE_P, the
 *              reserved bits, PTE_W, PTE_U, PTE_NX; for SMEP/SMAP PTE_U)
 * reason       PF: the reason in words ("R/W (bit 1) is clear: read-only")
 */
struct ptl_access {
    char acc;
    bool user;
    enum ptl_access_outcome outcome;
    int err;
    struct pg_cpu cpu;
    struct pg_mmu_result r;
    int level;
    bool has_step;
    struct pg_walk_step step;
    uint64_t bits;
    char reason[96];
};

/*
 * ptl_access_check - decide whether access acc ('r', 'w', 'x') at va by a
 * user (CPL 3) or supervisor would fault on t's tables. A/D updates are only
 * reported (the memory is not changed).
 * returns: 0 with *a filled (a->outcome says what happened).
 */
int ptl_access_check(const struct ptl_target *t, virt_addr_t va, char acc, bool user,
                     struct ptl_access *a);

/* ptl_access_what - "user write", "supervisor instruction fetch", ... */
const char *ptl_access_what(const struct ptl_access *a, char buf[40]);

#endif /* PTLAB_ACCESS_H */
