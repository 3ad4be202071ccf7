/*
 * mmu.h: the exact x86 MMU model of lib/paging: what one memory access does
 * given the CPU state (physical address or #PF/#GP/#SS with its error code,
 * and the accessed/dirty updates), what MOV to CR0/CR3/CR4 and WRMSR EFER
 * accept or refuse, which operating and paging mode results, and a small TLB
 * that says which cached translations survive MOV CR3, INVLPG, INVPCID and
 * control-register changes.
 *
 * The rules are those of the Intel SDM (Vol. 3A ch. 4 and Vol. 2), as
 * docs/mmu.md states them; the section names below are that file's. The model is
 * deterministic: where the architecture says "may", it applies one documented
 * policy (docs/mmu.md lists them). It reuses the walk of paging.h
 * (pg_walk_levels, pg_entry_reserved) for everything below the PAE PDPTE
 * registers, so the reserved-bit rules exist once.
 *
 * Like the rest of lib/paging it is freestanding, keeps no global state and
 * never touches the CPU: the state is a struct pg_cpu the caller owns, table
 * memory is reached through a struct pg_ctx (only phys_to_virt and arg are
 * used; the mode, MAXPHYADDR and features come from the struct pg_cpu).
 *
 * Depends on: paging.h, regs.h.
 */
#ifndef PAGING_MMU_H
#define PAGING_MMU_H

#include <paging/paging.h>
#include <paging/regs.h>

/* The control-register, EFER and RFLAGS bits (PG_CR0_*, PG_CR4_*, PG_EFER_*, ...)
 * are in regs.h. */

/* Page-fault error code (docs/mmu.md, "Page-fault error code"). */
#define PG_PFEC_P       0x01u
#define PG_PFEC_W       0x02u
#define PG_PFEC_U       0x04u
#define PG_PFEC_RSVD    0x08u
#define PG_PFEC_ID      0x10u
#define PG_PFEC_PK      0x20u

/* Exception vectors the model raises. */
#define PG_VEC_NONE     0
#define PG_VEC_UD       6
#define PG_VEC_SS       12
#define PG_VEC_GP       13
#define PG_VEC_PF       14

/* Memory types (PAT entry values). */
#define PG_MT_UC        0
#define PG_MT_WC        1
#define PG_MT_WT        4
#define PG_MT_WP        5
#define PG_MT_WB        6
#define PG_MT_UC_MINUS  7

/* ------------------------------------------------------------------------ */
/* CPU state                                                                 */
/* ------------------------------------------------------------------------ */

/* CPUID features the model consults (struct pg_cpu.features). */
#define PG_CPUID_PSE      (1u << 0)     /* 1:EDX[3] */
#define PG_CPUID_PAE      (1u << 1)     /* 1:EDX[6] */
#define PG_CPUID_PGE      (1u << 2)     /* 1:EDX[13] */
#define PG_CPUID_PAT      (1u << 3)     /* 1:EDX[16] */
#define PG_CPUID_PSE36    (1u << 4)     /* 1:EDX[17] */
#define PG_CPUID_PCID     (1u << 5)     /* 1:ECX[17] */
#define PG_CPUID_SMEP     (1u << 6)     /* 7:EBX[7] */
#define PG_CPUID_INVPCID  (1u << 7)     /* 7:EBX[10] */
#define PG_CPUID_SMAP     (1u << 8)     /* 7:EBX[20] */
#define PG_CPUID_PKU      (1u << 9)     /* 7:ECX[3] */
#define PG_CPUID_LA57     (1u << 10)    /* 7:ECX[16] */
#define PG_CPUID_PKS      (1u << 11)    /* 7:ECX[31] */
#define PG_CPUID_CET      (1u << 12)    /* 7:ECX[7] CET_SS (CR4.CET) */
#define PG_CPUID_NX       (1u << 13)    /* 80000001H:EDX[20] */
#define PG_CPUID_PAGE1GB  (1u << 14)    /* 80000001H:EDX[26] */
#define PG_CPUID_LM       (1u << 15)    /* 80000001H:EDX[29] */
#define PG_CPUID_ALL      0xFFFFu

/*
 * struct pg_cpu - the architectural state the MMU depends on.
 * cr0, cr3, cr4, efer  as the CPU holds them (efer.LMA = CR0.PG && EFER.LME;
 *                   the control-register model keeps it so; pg_cpu_set_paging
 *                   builds consistent states directly)
 * rflags            AC (SMAP override) and VM (virtual-8086 mode) are used
 * cpl               current privilege level 0..3
 * cs_l              CS.L: in IA-32e mode, 64-bit (true) or compatibility mode
 * pkru, pkrs        user and supervisor key rights (AD = bit 2i, WD = 2i+1)
 * pat               IA32_PAT (memory type of a leaf)
 * phys_bits         MAXPHYADDR M, 32..52 (CPUID 80000008H:EAX[7:0])
 * features          PG_CPUID_* present in this CPU
 * pdpte             the four PAE PDPTE registers, loaded from the PDPT at
 *                   CR3[31:5] by the control-register model (or pg_cpu_load_pdptes)
 */
struct pg_cpu {
    uint64_t cr0, cr3, cr4, efer;
    uint64_t rflags;
    unsigned cpl;
    bool cs_l;
    uint32_t pkru, pkrs;
    uint64_t pat;
    unsigned phys_bits;
    unsigned features;
    uint64_t pdpte[4];
};

/* Operating modes, reached by the mode transitions (CR0.PG, CR4.PAE, EFER.LME);
 * SMM is entered and left by SMI/RSM, not modelled. */
enum pg_opmode {
    PG_OPMODE_REAL,         /* CR0.PE = 0 */
    PG_OPMODE_PROTECTED,    /* CR0.PE = 1, legacy (EFER.LMA = 0) */
    PG_OPMODE_V86,          /* protected mode with RFLAGS.VM = 1 */
    PG_OPMODE_COMPAT,       /* IA-32e, CS.L = 0 */
    PG_OPMODE_64BIT,        /* IA-32e, CS.L = 1 */
};

/*
 * pg_cpu_reset - the state after RESET: real mode, CR0 = 0x60000010 (CD, NW,
 * ET), CR3 = CR4 = EFER = 0, PAT at its reset value, CPL 0, no keys denied.
 * @features: PG_CPUID_*; @phys_bits: MAXPHYADDR (32..52)
 * returns: nothing.
 */
void pg_cpu_reset(struct pg_cpu *cpu, unsigned features, unsigned phys_bits);

/*
 * pg_cpu_set_paging - put cpu directly into a paging mode at CPL 0 with the
 * tables at root: CR0 = PE|ET|WP|PG (only PE|ET for levels 0), CR4.PAE/LA57
 * and EFER.LME/LMA/NXE as the mode needs (NXE if the CPU has NX), CS.L set in
 * 4/5-level mode, CR3 = root. Other CR4 bits (PSE, SMEP, ...) are kept. In
 * PAE mode the PDPTE registers are loaded from memory through mem.
 * @levels: 0 (protected mode, paging off), 2, 3, 4 or 5
 * returns: 0; -PG_EINVAL (bad levels, or a feature the mode needs is absent);
 *          -PG_EGP (PAE: a present PDPTE with reserved bits); -PG_EIO (PAE:
 *          PDPT unreadable).
 */
int pg_cpu_set_paging(struct pg_cpu *cpu, unsigned levels, phys_addr_t root,
                      const struct pg_ctx *mem);

/*
 * pg_cpu_paging_mode - the paging mode of the state (docs/mmu.md, "Paging
 * modes"): pg_mode_from_regs of its CR0.PG,
 * CR4.PAE, EFER.LMA and CR4.LA57.
 * returns: 0 (paging off) or PG_MODE_32BIT/PAE/4LEVEL/5LEVEL.
 */
unsigned pg_cpu_paging_mode(const struct pg_cpu *cpu);

/* pg_cpu_opmode - the operating mode. returns: an enum pg_opmode. */
enum pg_opmode pg_cpu_opmode(const struct pg_cpu *cpu);

/* pg_opmode_name / pg_paging_mode_name - "protected", "64-bit", ...; "none", "4-level", ... */
const char *pg_opmode_name(enum pg_opmode mode);
const char *pg_paging_mode_name(unsigned paging_mode);

/* ------------------------------------------------------------------------ */
/* TLB model (docs/mmu.md, "TLBs and paging-structure caches")              */
/* ------------------------------------------------------------------------ */

#define PG_TLB_ENTRIES 32

/*
 * struct pg_tlb_entry - one cached translation: the page (va aligned to
 * page_size), its frame, the effective rights, the leaf's D and key, the PCID
 * it was filled under and whether it is global (CR4.PGE and leaf G).
 */
struct pg_tlb_entry {
    bool valid;
    bool global;
    bool writable, user, nx, dirty;
    uint8_t pkey;
    uint16_t pcid;
    virt_addr_t va;
    uint64_t page_size;
    phys_addr_t pa;
};

/*
 * struct pg_tlb - a small fully associative TLB with round-robin replacement.
 * It holds exactly the translations an oracle may rely on: an operation
 * removes every entry the architecture says it must invalidate and nothing
 * else ("must" semantics; a real CPU may drop more at any time).
 * Paging-structure caches are not modelled (every non-leaf entry is re-read).
 */
struct pg_tlb {
    struct pg_tlb_entry e[PG_TLB_ENTRIES];
    unsigned next;
};

/* pg_tlb_init - empty the TLB. returns: nothing. */
void pg_tlb_init(struct pg_tlb *tlb);

/*
 * pg_tlb_lookup - the entry that translates va in cpu's current PCID (global
 * entries match every PCID).
 * returns: the entry, or NULL on a miss (also when paging is off).
 */
const struct pg_tlb_entry *pg_tlb_lookup(const struct pg_tlb *tlb, const struct pg_cpu *cpu,
                                         virt_addr_t va);

/* pg_tlb_count - number of valid entries. returns: 0..PG_TLB_ENTRIES. */
unsigned pg_tlb_count(const struct pg_tlb *tlb);

/*
 * pg_tlb_invlpg - INVLPG m: drop m's page in the current PCID and global
 * entries for it in every PCID (all of a large page). A non-canonical m is a
 * no-op.
 * returns: 0; -PG_EGP at CPL > 0 (nothing dropped).
 */
int pg_tlb_invlpg(struct pg_tlb *tlb, const struct pg_cpu *cpu, virt_addr_t m);

/* INVPCID types. */
#define PG_INVPCID_ADDR         0   /* non-global entries for (PCID, LA) */
#define PG_INVPCID_SINGLE       1   /* non-global entries for PCID */
#define PG_INVPCID_ALL_GLOBAL   2   /* everything, globals included, all PCIDs */
#define PG_INVPCID_ALL          3   /* non-global entries of all PCIDs */

/*
 * pg_tlb_invpcid - INVPCID type, {pcid, la}.
 * returns: 0; -PG_EUD (no CPUID INVPCID); -PG_EGP (CPL > 0, type > 3,
 *          pcid > 0xFFF, type 0/1 with pcid != 0 while CR4.PCIDE = 0,
 *          type 0 with a non-canonical la).
 */
int pg_tlb_invpcid(struct pg_tlb *tlb, const struct pg_cpu *cpu, uint64_t type, uint64_t pcid,
                   virt_addr_t la);

/* ------------------------------------------------------------------------ */
/* Memory accesses (docs/mmu.md, "Access rights" to "The decision procedure") */
/* ------------------------------------------------------------------------ */

/* Access kinds (pg_mmu_access's access argument); a read is 0. */
#define PG_ACC_READ     0x0u
#define PG_ACC_WRITE    0x1u
#define PG_ACC_FETCH    0x2u    /* instruction fetch (never together with WRITE) */
#define PG_ACC_IMPLICIT 0x4u    /* system-structure access (GDT, LDT, IDT, TSS): a
                                   supervisor access whatever the CPL, no AC override */
#define PG_ACC_STACK    0x8u    /* a stack reference: non-canonical gives #SS, not #GP */

/* Options (pg_mmu_access's flags argument). */
#define PG_MMU_REPORT_AD   0x1u /* report the A/D updates but write nothing */
#define PG_MMU_LAZY_A      0x2u /* on a fault, set no A bit at all (default: A in every
                                   non-leaf entry passed with P = 1 and no reserved bits) */

/* Rules that deny an access (pg_mmu_result.deny; every one that applies). */
#define PG_DENY_USER    0x01u   /* user-mode access, supervisor address */
#define PG_DENY_WRITE   0x02u   /* write, not writable (user access, or CR0.WP = 1) */
#define PG_DENY_XD      0x04u   /* fetch, execute-disable (EFER.NXE) */
#define PG_DENY_SMEP    0x08u   /* supervisor fetch from a user address, CR4.SMEP */
#define PG_DENY_SMAP    0x10u   /* supervisor data access to a user address, CR4.SMAP
                                   and no explicit-access AC override */
#define PG_DENY_PK      0x20u   /* protection key (PKRU on user, PKRS on supervisor addresses) */

/* One accessed/dirty update: the entry before and after (set bits only). */
struct pg_ad_update {
    int level;
    phys_addr_t entry_pa;
    uint64_t old, new;
};

/*
 * struct pg_mmu_result - the outcome of one access.
 * vector       PG_VEC_NONE (allowed), PG_VEC_PF, PG_VEC_GP or PG_VEC_SS
 * error_code   #PF: PG_PFEC_* bits; #GP/#SS: 0
 * cr2          #PF: the faulting linear address (low 32 bits outside IA-32e)
 * paging_mode  0 (paging off) or PG_MODE_*
 * pa           allowed: the physical address
 * leaf_level, page_size   allowed (and rights faults): the leaf's level and page size
 * fault_level  #PF from the walk: the level of the entry that was not present
 *              or had reserved bits (3 for a PAE PDPTE register); 0 otherwise
 * rsvd_bits    the reserved bits set in that entry
 * deny         PG_DENY_* rules violated (rights faults)
 * pkey         the leaf's protection key (4/5-level), else 0
 * mem_type     the leaf's PAT memory type (PG_MT_*), UC when CR0.CD = 1;
 *              MTRRs are not modelled
 * from_tlb     the translation came from the TLB (no walk, no A/D update)
 * walk         the walk's records (PAE: step[0] is the PDPTE register, with
 *              the address it was loaded from as entry_pa); the effective
 *              rights walk.writable/user/nx of the entries used so far
 * nad, ad      the A/D updates, in walk order (written unless PG_MMU_REPORT_AD)
 */
struct pg_mmu_result {
    int vector;
    uint32_t error_code;
    virt_addr_t cr2;
    unsigned paging_mode;
    phys_addr_t pa;
    int leaf_level;
    uint64_t page_size;
    int fault_level;
    uint64_t rsvd_bits;
    unsigned deny;
    unsigned pkey;
    unsigned mem_type;
    bool from_tlb;
    struct pg_walk walk;
    unsigned nad;
    struct pg_ad_update ad[PG_MAX_LEVELS];
};

/*
 * pg_mmu_access - perform one access at va the way the CPU does (docs/mmu.md,
 * "The decision procedure"):
 * canonical check, walk (PAE: from the PDPTE registers), reserved bits,
 * rights (U/S, R/W with WP, XD with NXE, SMEP, SMAP with AC and implicit
 * accesses, PKU/PKS), error code, then A in every entry used and D in the
 * leaf on a write. On a fault the leaf is never changed; non-leaf A follows
 * the policy chosen by flags. With a TLB, a cached translation is used when
 * it exists (a write through an entry cached with D = 0 walks again), a
 * successful walk is cached and a #PF drops the faulting page's entries.
 * @mem: reaches table memory (phys_to_virt, arg; other fields ignored)
 * @access: PG_ACC_* (user-mode access = cpu->cpl == 3 and not IMPLICIT)
 * @flags: PG_MMU_*
 * @tlb: may be NULL (every access walks)
 * @r: receives the outcome
 * returns: 0 (r->vector says allowed or which fault); -PG_EIO (a table could
 *          not be read: no outcome, nothing written); -PG_EINVAL (cpl > 3,
 *          WRITE with FETCH, or NULL arguments).
 */
int pg_mmu_access(const struct pg_ctx *mem, const struct pg_cpu *cpu, virt_addr_t va,
                  unsigned access, unsigned flags, struct pg_tlb *tlb, struct pg_mmu_result *r);

/*
 * pg_pfec_string - the error code as "P W U RSVD I/D PK" style text
 * ("not-present R S" for 0) into buf (at least 40 bytes).
 * returns: buf.
 */
char *pg_pfec_string(uint32_t error_code, char *buf, size_t size);

/* ------------------------------------------------------------------------ */
/* Control registers (docs/mmu.md, "Control-register and mode transitions") */
/* ------------------------------------------------------------------------ */

/*
 * pg_cpu_write_cr0 / _cr3 / _cr4 / pg_cpu_write_efer - MOV to CRn / WRMSR
 * IA32_EFER from the current state. On success the register takes the value
 * (CR0.ET reads as 1, unknown CR0 bits are dropped, EFER.LMA follows CR0.PG
 * and EFER.LME, CR3 drops the no-flush bit), the PAE PDPTE registers are
 * reloaded where "Walk formats" says so, and the TLB (may be NULL) loses what
 * "TLBs and paging-structure caches" says it
 * must. On #GP nothing changes.
 * @mem: table memory for the PDPTE loads (may be NULL if no PAE paging is involved)
 * Not modelled: the 16-bit-TSS condition on setting PG, LAM bits in CR3,
 * CR4 bits 11, 13-15 (UMIP, VMXE, SMXE: treated as reserved), CR8.
 * returns: 0; -PG_EGP (refused: #GP(0)); -PG_EIO (PDPT unreadable; nothing
 *          changed); -PG_EINVAL (PAE PDPTE load needed and mem is NULL).
 */
int pg_cpu_write_cr0(struct pg_cpu *cpu, uint64_t val, const struct pg_ctx *mem,
                     struct pg_tlb *tlb);
int pg_cpu_write_cr3(struct pg_cpu *cpu, uint64_t val, const struct pg_ctx *mem,
                     struct pg_tlb *tlb);
int pg_cpu_write_cr4(struct pg_cpu *cpu, uint64_t val, const struct pg_ctx *mem,
                     struct pg_tlb *tlb);
int pg_cpu_write_efer(struct pg_cpu *cpu, uint64_t val, struct pg_tlb *tlb);

/*
 * pg_cpu_load_pdptes - load the four PAE PDPTE registers from the PDPT at
 * CR3[31:5] (what MOV CR3 does in PAE mode).
 * returns: 0; -PG_EGP (a present PDPTE has reserved bits: nothing loaded);
 *          -PG_EIO (PDPT unreadable); -PG_EINVAL (mem NULL).
 */
int pg_cpu_load_pdptes(struct pg_cpu *cpu, const struct pg_ctx *mem);

#endif /* PAGING_MMU_H */
