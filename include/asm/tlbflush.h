/*
 * tlbflush.h: the TLB state of each CPU and the shootdown interface
 * (Linux: arch/x86/include/asm/tlbflush.h, arch/x86/mm/tlb.c; docs/smp.md).
 *
 * cpu_tlbstate (one per CPU, in struct pcpu) says which mm the CPU has
 * loaded (loaded_mm, on ASID loaded_mm_asid) and, per dynamic ASID, which
 * mm (ctx_id) it last held and up to which generation (tlb_gen) its TLB
 * entries are current. Every change of an mm's tables that a TLB may have
 * cached bumps mm->context.tlb_gen (inc_mm_tlb_gen); flush_tlb_mm_range then
 * flushes this CPU and sends a flush request (an IPI) to the other CPUs in
 * mm_cpumask(mm), and flush_tlb_func on each brings its TLB up to the new
 * generation: the requested pages by INVLPG when it is exactly one
 * generation behind, else a full flush. A CPU in lazy TLB mode (its idle
 * task runs on the mm it had) is skipped unless page tables were freed; it
 * catches up at its next switch.
 */
#ifndef ASM_TLBFLUSH_H
#define ASM_TLBFLUSH_H

#include <paging/paging.h>
#include <stdbool.h>
#include <stdint.h>

struct mm_struct;

#define TLB_NR_DYN_ASIDS 6
/* Above this many pages a flush is a full one (Linux's default, in pages). */
#define TLB_SINGLE_PAGE_FLUSH_CEILING 33
#define TLB_FLUSH_ALL 0xffffffffffffffffULL

struct tlb_context {
	uint64_t ctx_id;
	uint64_t tlb_gen;
};

struct tlb_state {
	struct mm_struct *loaded_mm;
	uint16_t loaded_mm_asid;
	uint16_t next_asid;
	struct tlb_context ctxs[TLB_NR_DYN_ASIDS];
};

/* Linux's cpu_tlbstate_shared: what other CPUs read about this one. */
struct tlb_state_shared {
	bool is_lazy; /* the idle task runs here on loaded_mm, which it does not use */
};

/* A flush request: one per initiating CPU, read by the CPUs it is sent to. */
struct flush_tlb_info {
	struct mm_struct *mm;  /* NULL: a kernel range (every CPU) */
	uint64_t start, end;   /* end == TLB_FLUSH_ALL: everything */
	uint64_t new_tlb_gen;
	bool freed_tables;
	unsigned int initiating_cpu;
};

/* Context switches and CR3 loads, per CPU (the shell's `switches`). */
struct switch_stats {
	uint64_t switches;    /* context switches (task changes) */
	uint64_t same_mm;     /* ... between tasks of one mm: no CR3 write */
	uint64_t cr3_loads;   /* CR3 writes by switch_mm */
	uint64_t flushing;    /* ... that flushed the (new) ASID's / all non-global entries */
	uint64_t noflush;     /* ... with CR3 bit 63: the ASID's entries kept */
	uint64_t cr3_same;    /* switches where the CR3 value did not change (must stay 0) */
	uint64_t asid_reuse;  /* ASID found by ctx_id */
	uint64_t asid_new;    /* ASID slot taken over (round robin) */
	uint64_t lazy_enter;  /* switches to the idle task that kept the mm loaded (lazy TLB) */
	uint64_t lazy_catchup; /* back from lazy to the same mm, stale by tlb_gen: CR3 reloaded (a flush) */
};

/* TLB shootdowns, per CPU (the shell's `shootdowns`). */
struct shootdown_stats {
	uint64_t requests;      /* flush_tlb_mm_range calls that needed other CPUs */
	uint64_t ipis_sent;     /* flush IPIs sent */
	uint64_t ipis_received; /* flush requests run from the IPI */
	uint64_t polled;        /* ... run while this CPU waited (for a lock or for answers) */
	uint64_t lazy_skips;    /* IPIs not sent: the target was lazy and no table was freed */
	uint64_t skipped;       /* IPIs not sent because of `noshootdown` (test only) */
	uint64_t flush_pages;   /* flush_tlb_func: partial flushes (INVLPG per page) */
	uint64_t pages;         /* ... pages they invalidated */
	uint64_t flush_full;    /* flush_tlb_func: full flushes */
	uint64_t uptodate;      /* flush_tlb_func: nothing to do, the TLB was current */
	uint64_t lazy_leave;    /* lazy CPUs sent to init_mm by a flush that freed tables */
	uint64_t kernel;        /* flush_tlb_kernel_range / flush_tlb_all runs on this CPU */
	uint64_t resends;       /* IPIs sent again after a 1 s wait (a lost IPI; must stay 0) */
	uint64_t cycles_remote; /* TSC cycles the initiator spent waiting for answers */
	uint64_t cycles_local;  /* TSC cycles of the initiator's own flush */
	uint64_t local_pages, local_full; /* the initiator's own flushes, by kind */
};

/* 1 + 2 + ... : a ctx_id for a new mm (never reused). */
uint64_t new_ctx_id(void);
/* Bump mm's tlb_gen. returns: the new generation. */
uint64_t inc_mm_tlb_gen(struct mm_struct *mm);

/*
 * flush_tlb_mm_range - after changing mm's tables (what pg_* reported in f),
 * bring every TLB that may hold mm's old translations up to date: this CPU
 * now if mm is loaded here, the other CPUs of mm_cpumask(mm) by IPI (lazy
 * ones only when tables were freed), waiting for all of them.
 * Precondition: interrupts off. returns: nothing.
 */
void flush_tlb_mm_range(struct mm_struct *mm, const struct pg_flush *f);
/*
 * flush_tlb_kernel_range - after unmapping or changing kernel addresses
 * [start, end) (end == 0 or TLB_FLUSH_ALL: the top), drop them from every
 * online CPU's TLB, global entries included: INVLPG page by page up to the
 * ceiling, else a full flush (CR4.PGE toggled).
 */
void flush_tlb_kernel_range(uint64_t start, uint64_t end);
/* A global flush (CR4.PGE toggle) on every online CPU. */
void flush_tlb_all(void);
/* Send every CPU still in mm_cpumask(mm) (lazy ones) to init_mm: before mm's pgd is freed. */
void shoot_lazy_tlbs(struct mm_struct *mm);
/* The idle task takes over this CPU: keep loaded_mm (Linux's enter_lazy_tlb). */
void enter_lazy_tlb(void);
/* This CPU's first TLB state: init_mm on ASID 0, a flush; CR4.PCIDE if in use. */
void initialize_tlbstate_and_flush(void);
/* `noshootdown` (test only): flush_tlb_mm_range sends no IPIs. */
extern bool tlb_skip_remote;

#endif /* ASM_TLBFLUSH_H */
