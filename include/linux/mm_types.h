/*
 * mm_types.h: a process's address space (struct mm_struct) and its areas.
 *
 * An mm owns a top-level table (pgd, from pgd_alloc: the kernel half cloned
 * from swapper_pg_dir), a short array of areas (ELF segments, the brk heap,
 * mmap regions, the stack) that say which user addresses may be faulted in
 * and with which rights, and a pg_ctx through which every change of its
 * tables goes (lib/paging), counting the table pages it allocates.
 * User pages are reference-counted in struct page (_refcount) so that fork
 * can share them copy-on-write. Threads share an mm (users counts them);
 * mmap_lock serialises their changes of its areas and tables, and
 * mm_cpumask says which CPUs may hold its translations in their TLBs.
 */
#ifndef LINUX_MM_TYPES_H
#define LINUX_MM_TYPES_H

#include <linux/mm.h>
#include <linux/spinlock.h>
#include <paging/paging.h>
#include <stdbool.h>
#include <stdint.h>

/* The user address space (4- and 5-level alike: user mappings stay below 2^47, as Linux's default). */
#define TASK_SIZE_MAX    0x00007ffffffff000ULL /* last user page + 1; the page above is a guard */
#define STACK_TOP        TASK_SIZE_MAX
#define STACK_MAX        (8ULL << 20)          /* RLIMIT_STACK: 8 MiB, faulted in on demand */
#define MMAP_BASE        0x00007fff00000000ULL /* mmap areas are placed downwards from here */
#define ELF_MIN_ADDR     0x0000000000400000ULL /* programs are linked at 4 MiB */

#define VM_READ     0x1u
#define VM_WRITE    0x2u
#define VM_EXEC     0x4u
#define VM_STACK    0x100u /* the stack area */
#define VM_HEAP     0x200u /* the brk heap */
#define VM_MMAP     0x400u /* an anonymous mmap */

#define NR_VMAS 16

struct vm_area_struct {
	uint64_t vm_start, vm_end; /* [start, end), page aligned */
	unsigned int vm_flags;
};

/* Linux's mm_context_t: the identity PCID assignment is keyed on. */
struct mm_context {
	uint64_t ctx_id;  /* unique for the life of the kernel, never reused */
	uint64_t tlb_gen; /* bumped on every change that needs a TLB flush (inc_mm_tlb_gen) */
};

struct mm_struct {
	uint64_t *pgd;        /* the top table, through the direct map */
	struct pg_ctx ctx;    /* kernel_ctx, counting this mm's table pages */
	struct vm_area_struct vmas[NR_VMAS];
	unsigned int nr_vmas;
	uint64_t start_brk, brk, mmap_base;
	uint64_t rss;         /* user pages mapped (a COW-shared page counts in each mm) */
	uint64_t nr_ptes;     /* table pages below the pgd */
	struct mm_context context;
	int users;            /* tasks using it (threads, or a process being built); atomic */
	uint64_t cpu_bitmap;  /* mm_cpumask: CPUs that have it loaded (or lazily kept); atomic */
	spinlock_t mmap_lock; /* areas and tables (Linux: mmap_lock and page_table_lock) */
};

#define mm_cpumask(mm) ((mm)->cpu_bitmap)

/* The kernel's mm: swapper_pg_dir (init_top_pgt), no user part. Task 0 (the shell) runs on it. */
extern struct mm_struct init_mm;

/* Reference-counted user pages (struct page _refcount). */
struct page *alloc_user_page(void);   /* zeroed, _refcount 1; NULL when memory is short */
static inline void get_page(struct page *p)
{
	atomic_inc_return(&p->_refcount); /* mms on other CPUs share the page (fork) */
}
void put_page(struct page *p);        /* drop a reference; frees the page at 0 */
/* Free pages the kernel keeps for itself: user allocations fail below this. */
#define USER_RESERVE_PAGES 1024

/* mm/memory.c */
struct vm_area_struct *find_vma(struct mm_struct *mm, uint64_t addr);
/* Add [start, end) with flags. returns: 0; -EINVAL (overlap, bad range); -ENOMEM (no slot). */
int insert_vma(struct mm_struct *mm, uint64_t start, uint64_t end, unsigned int flags);
/* The leaf protection a page of vma gets (P U A, W D if writable, NX unless executable). */
uint64_t vma_page_prot(const struct vm_area_struct *vma);
/*
 * map_user_page - map page (from alloc_user_page) at va of mm as a new 4 KiB
 * leaf with vma's rights, and count it in mm->rss. The page's reference goes
 * to the mapping; on failure the page is put back.
 * returns: 0; -ENOMEM (no page for a table); -EFAULT (the tables refuse it:
 * va already mapped, or under a large page).
 */
int map_user_page(struct mm_struct *mm, const struct vm_area_struct *vma, uint64_t va, struct page *page);
/* The errno for a lib/paging result: 0 -> 0, -PG_ENOMEM -> -ENOMEM, any other -> -EFAULT. */
int errno_from_pg(int err);
/*
 * handle_mm_fault - serve a page fault at addr in mm: demand-zero a page of
 * an area (stack, heap, mmap, bss), or break copy-on-write on a write to a
 * writable area. error_code is the #PF error code.
 * returns: 0 (retry the access); -EFAULT (no area); -EACCES (the area's
 * rights forbid it); -ENOMEM (no page for it).
 */
int handle_mm_fault(struct mm_struct *mm, uint64_t addr, uint64_t error_code);
/* Unmap [start, end) of mm, dropping the pages. returns: 0 or a -PG_E* code. */
int zap_page_range(struct mm_struct *mm, uint64_t start, uint64_t end);

/* kernel/fork.c */
struct mm_struct *mm_alloc(void);          /* a fresh mm (mm_init -> pgd_alloc); NULL if no memory */
struct mm_struct *dup_mm(struct mm_struct *oldmm); /* fork's copy, COW; NULL if no memory */
void mmput(struct mm_struct *mm);          /* drop a user; the last one frees everything */
struct task_struct;
/* A reference to t's mm (NULL for the kernel's or a finished task's); mmput it after. */
struct mm_struct *get_task_mm(struct task_struct *t);
/* Pages held by mm: user pages and table pages (the pgd included). */
uint64_t mm_table_pages(const struct mm_struct *mm);

#endif /* LINUX_MM_TYPES_H */
