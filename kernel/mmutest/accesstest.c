/*
 * accesstest.c: `accesstest [quick|full]`, the MMU model against the live CPU
 * (issue 9 part 3; docs/mmu.md "On the live CPU").
 *
 * In the spirit of kvm-unit-tests' x86/access (formats.md §7) each
 * combination of flags below sets up one test VA, performs one access on the
 * CPU and asks lib/paging's model (pg_mmu_access) what that access must do,
 * then compares: fault or not, the vector, the #PF error code and CR2, and the
 * PTE and PDE afterwards (A/D). Any difference is printed as a mismatch.
 *
 * Environment, built fresh for each run and torn down afterwards:
 * - a copy of the kernel's top-level table (probe root) whose path to the
 *   kernel image is replaced by 2 MiB leaves without XD, so that the probe's
 *   window can run with EFER.NXE = 0 (every kernel entry has XD set, which is
 *   then a reserved bit); the rest of the kernel's address space is shared;
 * - a free top-level slot of that copy holds the test VA (0xffff923400000000,
 *   kvm-unit-tests' address, in 4-level paging): upper entries P|RW|US|A, the
 *   PDPTE P|US (+RW unless pdpte.ro), then the PDE and PTE of the combination,
 *   leading to a 2 MiB data block whose byte 0 is a `ret`;
 * - a private IDT whose #PF/#GP gates resume the probe (accesstest_64.S);
 * - the model reads shadow copies of the test path's tables (it writes its
 *   A/D updates there), and the CPU state taken from the live CR0/CR3/CR4,
 *   EFER (NXE as the combination), RFLAGS.AC, PKRU, PAT and CPUID.
 *
 * - for user-mode accesses (CPL 3), next to the test VA (the next PDPT
 *   slot) a user-executable copy of accesstest_user_stub and a user stack,
 *   all entries US = 1 without XD; the probe IRETQs to the GDT's user
 *   segments there, and the TSS's RSP0 points at probe_rsp0_stack (in the
 *   image, so it is mapped in the NXE = 0 window) while the test runs.
 */
#include <asm/console.h>
#include <asm/cpufeature.h>
#include <asm/desc.h>
#include <asm/page.h>
#include <asm/pgtable.h>
#include <asm/processor.h>
#include <asm/sections.h>
#include <asm/segment.h>
#include <asm/setup.h>
#include <asm/traps.h>
#include <lib/cmdline.h>
#include <linux/accesstest.h>
#include <linux/mm.h>
#include <paging/mmu.h>

/* ------------------------------------------------------------ the flags */

/*
 * One combination = one bit per flag (formats.md §7.1's flags and order, with
 * CPL 0's extras: SMAP with EFLAGS.AC; SMEP enumerated, not only a sub-test;
 * no FEP). Bits 0-17 are the PTE and PDE (the "entries" part), 18-31 the
 * rest; the CPU state is in the top bits so that it changes least often.
 */
enum at_flag {
	AT_PTE_RW, AT_PTE_USER, AT_PTE_A, AT_PTE_D, AT_PTE_NX, AT_PTE_P, AT_PTE_BIT51, AT_PTE_BIT36,
	AT_PDE_RW, AT_PDE_USER, AT_PDE_A, AT_PDE_D, AT_PDE_PSE, AT_PDE_NX, AT_PDE_P, AT_PDE_BIT51,
	AT_PDE_BIT36, AT_PDE_BIT13,
	AT_PDPTE_RO, AT_PKRU_AD, AT_PKRU_WD, AT_PKEY,
	AT_USER, AT_WRITE, AT_FETCH, AT_TWICE,
	AT_EFER_NX, AT_CR0_WP, AT_CR4_SMEP, AT_CR4_SMAP, AT_RFLAGS_AC, AT_CR4_PKE,
	AT_NR_FLAGS
};

#define AT_ENTRY_BITS 18
#define AT_REST_BITS  (AT_NR_FLAGS - AT_ENTRY_BITS)

static const char *const at_flag_names[AT_NR_FLAGS] = {
	"pte.rw", "pte.user", "pte.a", "pte.d", "pte.nx", "pte.p", "pte.51", "pte.36",
	"pde.rw", "pde.user", "pde.a", "pde.d", "pde.pse", "pde.nx", "pde.p", "pde.51", "pde.36",
	"pde.13", "pdpte.ro", "pkru.ad", "pkru.wd", "pkey=1", "user", "write", "fetch", "twice",
	"efer.nx", "cr0.wp", "cr4.smep", "cr4.smap", "rflags.ac", "cr4.pke",
};

#define F(f, n) (((f) >> (n)) & 1u)
#define BIT(n)  (1u << (n))

/* The PTE's representatives when the walk never reads it (symmetry S1). */
#define PTE_REPRESENTATIVE (BIT(AT_PTE_P) | BIT(AT_PTE_RW) | BIT(AT_PTE_USER) | BIT(AT_PTE_A) | BIT(AT_PTE_D))

/* ------------------------------------------------------------ the oracle */

/*
 * The oracle is the CPU the kernel runs on. QEMU TCG is recognised by its
 * hypervisor CPUID leaf; `oracle=qemu|bochs|hw` on the command line overrides.
 */
static int oracle_cached = -1;

bool oracle_is_qemu_tcg(void)
{
	if (oracle_cached < 0) {
		char want[16];
		uint32_t a, b, c, d;

		oracle_cached = 0;
		if (cmdline_get_option(boot_command_line, "oracle", want, sizeof(want)) >= 0) {
			oracle_cached = memcmp(want, "qemu", 5) == 0;
		} else {
			cpuid(1, 0, &a, &b, &c, &d);
			if (c & (1u << 31)) { /* a hypervisor is present */
				cpuid(0x40000000u, 0, &a, &b, &c, &d);
				oracle_cached = memcmp(&b, "TCGT", 4) == 0 && memcmp(&c, "CGTC", 4) == 0 &&
						memcmp(&d, "GTCG", 4) == 0;
			}
		}
	}
	return oracle_cached;
}

bool oracle_is_bochs(void)
{
	char want[16];

	return cmdline_get_option(boot_command_line, "oracle", want, sizeof(want)) >= 0 &&
	       memcmp(want, "bochs", 6) == 0;
}

const char *oracle_name(void)
{
	if (oracle_is_qemu_tcg())
		return "QEMU TCG";
	if (oracle_is_bochs())
		return "Bochs";
	return "not QEMU TCG: no deviations normalised";
}

/* ------------------------------------------------------------ the probe */

/* Mirrors accesstest_64.S's AP_* offsets. */
struct access_probe {
	uint64_t va;
	uint64_t kind;          /* PROBE_READ/WRITE/FETCH | PROBE_TWICE */
	uint64_t efer_probe;    /* EFER during the access */
	uint64_t efer_kernel;   /* EFER before and after */
	uint64_t rflags_ac;     /* 0 or RFLAGS.AC during the access */
	uint64_t vector;        /* out: 14, 13 or PROBE_NO_VECTOR */
	uint64_t error_code;    /* out */
	uint64_t cr2;           /* out */
	uint64_t first_vector;  /* out: the first read's vector (PROBE_TWICE) */
	uint64_t user;          /* 1: the access (not the first read) at CPL 3 */
	uint64_t user_rip;      /* the user stub's VA */
	uint64_t user_rsp;      /* the user stack's top */
};
_Static_assert(__builtin_offsetof(struct access_probe, rflags_ac) == 32, "AP_RFLAGS_AC");
_Static_assert(__builtin_offsetof(struct access_probe, first_vector) == 64, "AP_FIRST_VECTOR");
_Static_assert(__builtin_offsetof(struct access_probe, user_rsp) == 88, "AP_USER_RSP");

#define PROBE_READ      0
#define PROBE_WRITE     1
#define PROBE_FETCH     2
#define PROBE_TWICE     0x100
#define PROBE_NO_VECTOR 0xff

long accesstest_probe(struct access_probe *p);
extern char accesstest_trap_pf[], accesstest_trap_gp[], accesstest_trap_user[];
extern char accesstest_user_stub[], accesstest_user_stub_end[];

#define ACCESSTEST_USER_VECTOR 0xf3  /* accesstest_64.S: the user stub's way back */

/* The CPL 0 stack of an entry from the user stub (TSS RSP0 during the run). */
static uint8_t probe_rsp0_stack[4096] __attribute__((aligned(16)));

/* ------------------------------------------------------------ CPU state */

static inline uint32_t rdpkru(void)
{
	uint32_t eax, edx;
	__asm__ volatile(".byte 0x0f, 0x01, 0xee" : "=a"(eax), "=d"(edx) : "c"(0));
	return eax;
}

static inline void wrpkru(uint32_t v)
{
	__asm__ volatile(".byte 0x0f, 0x01, 0xef" : : "a"(v), "c"(0), "d"(0) : "memory");
}

static inline void write_cr0_raw(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

struct desc_ptr64 {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

struct gate64 {
	uint16_t offset0, selector;
	uint8_t ist, type_attr;
	uint16_t offset1;
	uint32_t offset2, reserved;
} __attribute__((packed));

static struct gate64 probe_idt[256] __attribute__((aligned(16)));

static void set_gate(struct gate64 *g, void *handler)
{
	uint64_t a = (uint64_t)(uintptr_t)handler;
	g->offset0 = (uint16_t)a;
	g->offset1 = (uint16_t)(a >> 16);
	g->offset2 = (uint32_t)(a >> 32);
}

/* ------------------------------------------------------------ the environment */

#define TEST_PDPT_INDEX 208  /* kvm-unit-tests' 0xffff923400000000: PML4 292, PDPT 208 */
#define TEST_TOP_SLOT   292

struct at_env {
	unsigned levels;
	unsigned phys_bits;
	bool qemu;
	bool bochs;            /* oracle=bochs on the command line */
	/* what the run changes, to restore */
	uint64_t cr0, cr3, cr4, efer;
	uint32_t pkru;
	bool pkru_saved;
	struct desc_ptr64 idt;
	/* the probe root and its private copies on the image's path */
	phys_addr_t root;
	phys_addr_t image_tables[PG_MAX_LEVELS + 1];     /* by level: levels-1 .. 2 */
	/* the test VA and its tables (by level, 1 = PT); data = the 2 MiB block */
	virt_addr_t va;
	unsigned top_slot;
	phys_addr_t path[PG_MAX_LEVELS + 1];
	phys_addr_t data;
	/* CPL 3: the user stub's page directory, page table, code and stack pages */
	phys_addr_t user_pd, user_pt, user_code, user_stack;
	virt_addr_t user_va;   /* the code page; the stack page follows */
	uint64_t rsp0;         /* the TSS's RSP0 before the run */
	/* the model's view of the path tables */
	struct pg_ctx model_mem;
	/* the CPU state currently loaded (flags of the CPU part) */
	uint32_t loaded_state;
	bool state_loaded;
	/* features */
	bool has_smep, has_smap, has_pku, has_nx;
	unsigned features;
	uint64_t pat;
};

static uint64_t shadow_tables[PG_MAX_LEVELS + 1][512] __attribute__((aligned(4096)));

static uint64_t *table_va(phys_addr_t pa)
{
	return (uint64_t *)__va(pa);
}

static void *model_phys_to_virt(void *arg, phys_addr_t pa)
{
	const struct at_env *e = arg;
	for (unsigned l = 1; l <= e->levels; l++)
		if (pa == e->path[l])
			return shadow_tables[l];
	return kernel_ctx.phys_to_virt(kernel_ctx.arg, pa);
}

static phys_addr_t alloc_table(void)
{
	struct page *p = alloc_pages(0);
	if (!p)
		return 0;
	memset(page_address(p), 0, PAGE_SIZE);
	return page_to_phys(p);
}

static void free_table(phys_addr_t pa)
{
	if (pa)
		free_pages(phys_to_page(pa), 0);
}

static void env_free(struct at_env *e)
{
	for (unsigned l = 0; l <= PG_MAX_LEVELS; l++) {
		free_table(e->image_tables[l]);
		e->image_tables[l] = 0;
		if (l < e->levels) {
			free_table(e->path[l]);
			e->path[l] = 0;
		}
	}
	free_table(e->root);
	e->root = 0;
	free_table(e->user_pd);
	free_table(e->user_pt);
	free_table(e->user_code);
	free_table(e->user_stack);
	e->user_pd = e->user_pt = e->user_code = e->user_stack = 0;
	if (e->data)
		free_pages(phys_to_page(e->data), 9);
	e->data = 0;
}

/*
 * Build the probe root: the kernel's top-level table, except that the path to
 * the kernel image ends in a PMD of our own whose 2 MiB leaves map the image
 * without XD or G. returns: 0, or a message.
 */
static const char *build_probe_root(struct at_env *e)
{
	struct pg_walk w;
	virt_addr_t text = (virt_addr_t)(uintptr_t)_text;

	if (phys_base & (PMD_SIZE - 1))
		return "the kernel's physical base is not 2 MiB aligned";
	if (((uint64_t)(uintptr_t)_end - 1) >> PUD_SHIFT != text >> PUD_SHIFT)
		return "the kernel image crosses a 1 GiB boundary";
	pg_walk(&kernel_ctx, e->cr3 & PTE_PFN_MASK, text, &w);
	if (w.status || w.nsteps < e->levels - 1)
		return "cannot walk the kernel image";
	e->root = alloc_table();
	if (!e->root)
		return "out of memory";
	memcpy(table_va(e->root), table_va(e->cr3 & PTE_PFN_MASK), PAGE_SIZE);
	phys_addr_t parent = e->root;
	for (unsigned l = e->levels - 1; l >= 2; l--) {
		phys_addr_t t = alloc_table();
		if (!t)
			return "out of memory";
		e->image_tables[l] = t;
		const struct pg_walk_step *kernel_step = &w.step[e->levels - 1 - l + 1];
		if (l > 2) /* a copy of the kernel's table at this level */
			memcpy(table_va(t), table_va(kernel_step->table_pa), PAGE_SIZE);
		table_va(parent)[pg_va_index(e->levels, (int)l + 1, text)] = t | PTE_P | PTE_W | PTE_A | PTE_D;
		parent = t;
	}
	uint64_t *pmd = table_va(e->image_tables[2]);
	for (virt_addr_t va = text & PMD_MASK; va < (virt_addr_t)(uintptr_t)_end; va += PMD_SIZE)
		pmd[pg_va_index(e->levels, 2, va)] = (__pa_symbol(va) & PMD_MASK) | PTE_P | PTE_W | PTE_A |
						     PTE_D | PTE_PS;
	return 0;
}

/* The test VA: kvm-unit-tests' slot if free, else the next free one in the upper half. */
static const char *build_test_path(struct at_env *e)
{
	uint64_t *top = table_va(e->root);
	unsigned top_shift = e->levels == 5 ? 48 : 39;
	unsigned slot;

	for (slot = TEST_TOP_SLOT; slot < 511 && top[slot]; slot++)
		;
	if (slot >= 511)
		return "no free top-level slot";
	e->top_slot = slot;
	e->va = ((uint64_t)slot << top_shift) | ((uint64_t)TEST_PDPT_INDEX << PUD_SHIFT);
	e->va |= ~0ULL << (top_shift + 9); /* upper half: sign-extend */

	struct page *block = alloc_pages(9);
	if (!block)
		return "out of memory (2 MiB data block)";
	e->data = page_to_phys(block);
	if (e->data & (PMD_SIZE - 1))
		return "the data block is not 2 MiB aligned";
	memset(page_address(block), 0, PMD_SIZE);
	*(uint8_t *)page_address(block) = 0xc3; /* ret: the fetch target */

	e->path[e->levels] = e->root;
	for (unsigned l = e->levels - 1; l >= 1; l--) {
		e->path[l] = alloc_table();
		if (!e->path[l])
			return "out of memory";
	}
	/* Upper entries: P|RW|US|A (the PDPTE is rewritten per combination). */
	for (unsigned l = e->levels; l > 3; l--) {
		uint64_t entry = e->path[l - 1] | PTE_P | PTE_W | PTE_U | PTE_A;
		table_va(e->path[l])[pg_va_index(e->levels, (int)l, e->va)] = entry;
		shadow_tables[l][pg_va_index(e->levels, (int)l, e->va)] = entry;
	}

	/*
	 * CPL 3: the next PDPT slot (its PDPTE is never rewritten, unlike the test
	 * VA's) maps the user stub (P|US|A, read-only) and a user stack
	 * (P|RW|US|A|D) through a PDE and PTEs of their own, none with XD.
	 */
	size_t stub_len = (size_t)(accesstest_user_stub_end - accesstest_user_stub);
	e->user_pd = alloc_table();
	e->user_pt = alloc_table();
	e->user_code = alloc_table();
	e->user_stack = alloc_table();
	if (!e->user_pd || !e->user_pt || !e->user_code || !e->user_stack)
		return "out of memory";
	memcpy(table_va(e->user_code), accesstest_user_stub, stub_len);
	e->user_va = e->va + PUD_SIZE;
	table_va(e->path[3])[pg_va_index(e->levels, 3, e->user_va)] = e->user_pd | PTE_P | PTE_W | PTE_U | PTE_A;
	table_va(e->user_pd)[0] = e->user_pt | PTE_P | PTE_W | PTE_U | PTE_A;
	table_va(e->user_pt)[0] = e->user_code | PTE_P | PTE_U | PTE_A;
	table_va(e->user_pt)[1] = e->user_stack | PTE_P | PTE_W | PTE_U | PTE_A | PTE_D;
	return 0;
}

/* ------------------------------------------------------------ one combination */

struct at_outcome {
	int vector;            /* PG_VEC_NONE, PG_VEC_PF, PG_VEC_GP */
	uint32_t error_code;
	uint64_t cr2;
	int first_vector;      /* twice: the first read's */
	uint64_t pte, pde;     /* afterwards */
};

struct at_entries {
	uint64_t pdpte, pde, pte;
};

static struct at_entries make_entries(const struct at_env *e, uint32_t f)
{
	struct at_entries x;

	x.pte = e->data;
	if (F(f, AT_PTE_RW)) x.pte |= PTE_W;
	if (F(f, AT_PTE_USER)) x.pte |= PTE_U;
	if (F(f, AT_PTE_A)) x.pte |= PTE_A;
	if (F(f, AT_PTE_D)) x.pte |= PTE_D;
	if (F(f, AT_PTE_NX)) x.pte |= PTE_NX;
	if (F(f, AT_PTE_P)) x.pte |= PTE_P;
	if (F(f, AT_PTE_BIT51)) x.pte |= 1ULL << 51;
	if (F(f, AT_PTE_BIT36)) x.pte |= 1ULL << 36;
	if (F(f, AT_PKEY)) x.pte |= 1ULL << PTE_PK_SHIFT;

	x.pde = F(f, AT_PDE_PSE) ? (e->data | PTE_PS) : e->path[1];
	if (F(f, AT_PDE_RW)) x.pde |= PTE_W;
	if (F(f, AT_PDE_USER)) x.pde |= PTE_U;
	if (F(f, AT_PDE_A)) x.pde |= PTE_A;
	if (F(f, AT_PDE_D)) x.pde |= PTE_D;
	if (F(f, AT_PDE_NX)) x.pde |= PTE_NX;
	if (F(f, AT_PDE_P)) x.pde |= PTE_P;
	if (F(f, AT_PDE_BIT51)) x.pde |= 1ULL << 51;
	if (F(f, AT_PDE_BIT36)) x.pde |= 1ULL << 36;
	if (F(f, AT_PDE_BIT13)) x.pde |= 1ULL << 13;
	/* A leaf PDE carries key 1; a non-leaf one key 2, which must be ignored. */
	if (F(f, AT_PKEY)) x.pde |= (F(f, AT_PDE_PSE) ? 1ULL : 2ULL) << PTE_PK_SHIFT;

	x.pdpte = e->path[2] | PTE_P | PTE_U | PTE_A | (F(f, AT_PDPTE_RO) ? 0 : PTE_W);
	return x;
}

#define AT_STATE_MASK (BIT(AT_CR0_WP) | BIT(AT_CR4_SMEP) | BIT(AT_CR4_SMAP) | BIT(AT_CR4_PKE) | \
		       BIT(AT_PKRU_AD) | BIT(AT_PKRU_WD))

/* Load CR0.WP, CR4.SMEP/SMAP/PKE and PKRU for f (only when they change). */
static void load_cpu_state(struct at_env *e, uint32_t f)
{
	uint32_t state = f & AT_STATE_MASK;
	if (e->state_loaded && state == e->loaded_state)
		return;
	uint64_t cr4 = e->cr4 & ~(uint64_t)(X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_PKE);
	if (F(f, AT_CR4_SMEP)) cr4 |= X86_CR4_SMEP;
	if (F(f, AT_CR4_SMAP)) cr4 |= X86_CR4_SMAP;
	if (F(f, AT_CR4_PKE)) cr4 |= X86_CR4_PKE;
	uint64_t cr0 = (e->cr0 & ~(uint64_t)X86_CR0_WP) | (F(f, AT_CR0_WP) ? X86_CR0_WP : 0);
	if (read_cr4() != cr4)
		write_cr4(cr4);
	if (read_cr0() != cr0)
		write_cr0_raw(cr0);
	/* Key 2 (the non-leaf PDE's) denies everything; key 1 as the flags say. */
	if (cr4 & X86_CR4_PKE)
		wrpkru(0x30u | (F(f, AT_PKRU_WD) << 3) | (F(f, AT_PKRU_AD) << 2));
	e->loaded_state = state;
	e->state_loaded = true;
}

static void model_cpu(const struct at_env *e, uint32_t f, struct pg_cpu *cpu)
{
	memset(cpu, 0, sizeof(*cpu));
	cpu->cr0 = read_cr0();
	cpu->cr3 = e->root;
	cpu->cr4 = read_cr4();
	cpu->efer = (e->efer & ~(uint64_t)EFER_NXE) | (F(f, AT_EFER_NX) ? EFER_NXE : 0);
	cpu->rflags = 0x2 | (F(f, AT_RFLAGS_AC) ? PG_RFLAGS_AC : 0);
	cpu->cpl = 0;
	cpu->cs_l = true;
	cpu->pkru = (cpu->cr4 & X86_CR4_PKE) ? rdpkru() : 0;
	cpu->pkrs = 0;
	cpu->pat = e->pat;
	cpu->phys_bits = e->phys_bits;
	cpu->features = e->features;
}

/*
 * qemu_tcg_normalise - THE one place for QEMU TCG 7.2's known deviations from
 * the SDM (mmu-semantics.md §11, docs/mmu.md), applied to the live outcome
 * only when the oracle is QEMU TCG. Each deviation of that list and what
 * accesstest does about it:
 *  1. RSVD without P: a reserved-bit #PF comes with P = 0. Normalised: when
 *     RSVD is set, P is set.
 *  2. No PCID/INVPCID: accesstest never sets CR4.PCIDE (nothing to do).
 *  3. PAE PDPTE registers not modelled: accesstest runs in 4/5-level paging
 *     only (nothing to do).
 *  4. 1 GiB pages accepted without pdpe1gb: no combination sets PDPTE.PS
 *     (nothing to do).
 *  5. Implicit supervisor accesses bypass SMAP with AC = 1: every access
 *     here is explicit (nothing to do).
 *  6. 1 GiB leaf A and non-leaf A set on faulting walks: no 1 GiB leaves;
 *     the PDE's A on a faulting non-leaf walk is "may" (SDM) and masked for
 *     every oracle by compare_outcomes(); upper levels are not compared.
 *  7. PSE-36 reserved bits: no 32-bit paging here (nothing to do).
 *  8. CR0/CR4/EFER #GP rules, and writes that hang the guest: accesstest
 *     writes only legal values of supported bits (nothing probed).
 *  9. TLB flushes more than required: INVLPG after every setup, and no
 *     stale-versus-fresh comparison (nothing to do).
 * 10. Non-canonical always #GP, never #SS: no non-canonical accesses.
 * returns: true if the combination is excluded (none is, today).
 */
static bool qemu_tcg_normalise(const struct at_env *e, uint32_t f, struct at_outcome *live)
{
	(void)f;
	if (!e->qemu)
		return false;
	if (live->vector == PG_VEC_PF && (live->error_code & PG_PFEC_RSVD))
		live->error_code |= PG_PFEC_P; /* deviation 1 */
	return false;
}

/*
 * bochs_normalise - the same place for Bochs 2.7's deviations (oracle=bochs;
 * docs/mmu.md "Oracle deviations", with the evidence).
 *  B1. Protection keys follow the CPL of the access instead of the address's
 *      U/S (SDM 4.6.2: PKRU applies to every data access to a user-mode
 *      address, and to none to a supervisor-mode address): at CPL 3, AD or
 *      (WD and a write) of the leaf's key faults with PK even on a
 *      supervisor-mode address (which faults anyway: PK is added to the
 *      error code); at CPL 0, AD is ignored, and WD with CR0.WP = 1 makes a
 *      write fault on a supervisor-mode address too. Excluded: every
 *      combination whose leaf key's PKRU bits deny the access (CR4.PKE,
 *      key 1, AD, or WD and a write) unless the access is at CPL 3 to a
 *      user-mode address (where Bochs and the SDM agree), and every
 *      `twice` whose first read (CPL 0) meets AD on a user-mode address.
 * returns: true if the combination is excluded.
 */
static bool bochs_normalise(const struct at_env *e, uint32_t f, struct at_outcome *live)
{
	(void)live;
	if (!e->bochs || !F(f, AT_CR4_PKE) || !F(f, AT_PKEY))
		return false;
	bool user_address = F(f, AT_PDE_USER) && (F(f, AT_PDE_PSE) || F(f, AT_PTE_USER));
	bool denies = F(f, AT_PKRU_AD) || (F(f, AT_PKRU_WD) && F(f, AT_WRITE));
	if (denies && !(F(f, AT_USER) && user_address))
		return true; /* B1 */
	if (F(f, AT_TWICE) && F(f, AT_PKRU_AD) && user_address)
		return true; /* B1: the first read is at CPL 0 */
	return false;
}

/* The oracle's deviations, in one place: returns true if f is excluded. */
static bool oracle_normalise(const struct at_env *e, uint32_t f, struct at_outcome *live)
{
	return qemu_tcg_normalise(e, f, live) || bochs_normalise(e, f, live);
}

static int vector_of(uint64_t v)
{
	return v == PROBE_NO_VECTOR ? PG_VEC_NONE : (int)v;
}

static const char *vector_name(int v)
{
	return v == PG_VEC_NONE ? "none" : v == PG_VEC_PF ? "#PF" : v == PG_VEC_GP ? "#GP" : "other";
}

static void print_flags(uint32_t f)
{
	for (unsigned i = 0; i < AT_NR_FLAGS; i++)
		if (F(f, i))
			printk(" %s", at_flag_names[i]);
}

/* The run's tallies. */
struct at_stats {
	uint64_t run, cpl3, mismatches, excluded_oracle, excluded_differ;
	unsigned printed;
};

#define MAX_PRINTED_MISMATCHES 40

/*
 * Run combination f: set up, model, probe, compare. returns: true if the CPU
 * and the model agree.
 */
static bool run_combination(struct at_env *e, uint32_t f, struct at_stats *st)
{
	struct at_entries x = make_entries(e, f);
	unsigned pdi = (unsigned)pg_va_index(e->levels, 2, e->va);
	unsigned pudi = (unsigned)pg_va_index(e->levels, 3, e->va);
	uint64_t *pt = table_va(e->path[1]), *pmd = table_va(e->path[2]), *pud = table_va(e->path[3]);
	unsigned access = F(f, AT_WRITE) ? PG_ACC_WRITE : F(f, AT_FETCH) ? PG_ACC_FETCH : PG_ACC_READ;

	load_cpu_state(e, f);

	/* The live tables and the model's shadows start equal. */
	pt[0] = x.pte;
	pmd[pdi] = x.pde;
	pud[pudi] = x.pdpte;
	shadow_tables[1][0] = x.pte;
	shadow_tables[2][pdi] = x.pde;
	shadow_tables[3][pudi] = x.pdpte;
	flush_tlb_one(e->va);

	/* The model. */
	struct pg_cpu cpu;
	struct pg_mmu_result r;
	struct at_outcome want = { .first_vector = PG_VEC_NONE };
	bool any_success = false;
	model_cpu(e, f, &cpu);
	if (F(f, AT_TWICE)) {
		if (pg_mmu_access(&e->model_mem, &cpu, e->va + 8, PG_ACC_READ, 0, 0, &r))
			panic("accesstest: the model could not read its shadow tables");
		want.first_vector = r.vector;
		any_success |= r.vector == PG_VEC_NONE;
	}
	uint64_t target = access == PG_ACC_FETCH ? e->va : e->va + 8;
	cpu.cpl = F(f, AT_USER) ? 3 : 0; /* the first read of `twice` is a supervisor read */
	if (pg_mmu_access(&e->model_mem, &cpu, target, access, 0, 0, &r))
		panic("accesstest: the model could not read its shadow tables");
	want.vector = r.vector;
	want.error_code = r.vector == PG_VEC_PF ? r.error_code : 0;
	want.cr2 = r.vector == PG_VEC_PF ? r.cr2 : 0;
	want.pte = shadow_tables[1][0];
	want.pde = shadow_tables[2][pdi];
	any_success |= r.vector == PG_VEC_NONE;

	/* The CPU. */
	struct access_probe p = {
		.va = e->va,
		.kind = (access == PG_ACC_WRITE ? PROBE_WRITE : access == PG_ACC_FETCH ? PROBE_FETCH : PROBE_READ) |
			(F(f, AT_TWICE) ? PROBE_TWICE : 0),
		.efer_probe = cpu.efer,
		.efer_kernel = e->efer,
		.rflags_ac = F(f, AT_RFLAGS_AC) ? PG_RFLAGS_AC : 0,
		.user = F(f, AT_USER),
		.user_rip = e->user_va,
		.user_rsp = e->user_va + 2 * PAGE_SIZE,
	};
	accesstest_probe(&p);
	struct at_outcome got = {
		.vector = vector_of(p.vector),
		.error_code = p.vector == 14 ? (uint32_t)p.error_code : 0,
		.cr2 = p.vector == 14 ? p.cr2 : 0,
		.first_vector = F(f, AT_TWICE) ? vector_of(p.first_vector) : PG_VEC_NONE,
		.pte = pt[0],
		.pde = pmd[pdi],
	};
	bool excluded = oracle_normalise(e, f, &got);
	if (excluded) {
		st->excluded_oracle++;
	} else {
		st->run++;
		st->cpl3 += F(f, AT_USER);
	}

	/*
	 * Architectural "may" (SDM 4.8, mmu-semantics.md §7): a non-leaf PDE's A on
	 * a walk that never succeeded. Every other bit of both entries is exact.
	 */
	uint64_t pde_mask = ~0ULL;
	if (!any_success && !F(f, AT_PDE_PSE))
		pde_mask &= ~PTE_A;

	const char *why = 0;
	if (got.vector != want.vector)
		why = got.vector == PG_VEC_NONE ? "unexpected access" : "unexpected fault";
	else if (got.first_vector != want.first_vector)
		why = "first read (twice) differs";
	else if (got.error_code != want.error_code)
		why = "error code";
	else if (got.cr2 != want.cr2)
		why = "CR2";
	else if (got.pte != want.pte)
		why = "PTE";
	else if ((got.pde & pde_mask) != (want.pde & pde_mask))
		why = "PDE";
	if (excluded) { /* compared all the same: the evidence for the deviation */
		st->excluded_differ += why != 0;
		return true;
	}
	if (!why)
		return true;

	st->mismatches++;
	if (st->printed++ < MAX_PRINTED_MISMATCHES) {
		char wbuf[48], gbuf[48];
		printk("mismatch:");
		print_flags(f);
		printk(": %s\n", why);
		printk("  model: %s error code 0x%x [%s] cr2 0x%llx, pte 0x%016llx pde 0x%016llx\n",
		       vector_name(want.vector), want.error_code,
		       pg_pfec_string(want.error_code, wbuf, sizeof(wbuf)), (unsigned long long)want.cr2,
		       (unsigned long long)want.pte, (unsigned long long)want.pde);
		printk("  cpu:   %s error code 0x%x [%s] cr2 0x%llx, pte 0x%016llx pde 0x%016llx\n",
		       vector_name(got.vector), got.error_code, pg_pfec_string(got.error_code, gbuf, sizeof(gbuf)),
		       (unsigned long long)got.cr2, (unsigned long long)got.pte, (unsigned long long)got.pde);
		printk("  before: pdpte 0x%016llx pde 0x%016llx pte 0x%016llx\n", (unsigned long long)x.pdpte,
		       (unsigned long long)x.pde, (unsigned long long)x.pte);
	}
	return false;
}

/* ------------------------------------------------------------ the enumeration */

/*
 * Legality of the entry part (bits 0-17), formats.md §7.2: pde.13 only with
 * pde.pse; at most one reserved-bit probe among pde.51/36/13, pte.51/36 and
 * an XD bit while EFER.NXE = 0; probes only where the bit is reserved on this
 * CPU (bit 51 iff MAXPHYADDR <= 51, bit 36 iff MAXPHYADDR <= 36).
 * Symmetry S1 (full and quick): when the PDE ends the walk (not present, a
 * reserved bit, or PSE) the PTE is never read, so instead of its 2^8 values
 * two representatives run: 0 and P|RW|US|A|D; each must stay unchanged.
 */
static bool entries_legal(uint32_t f, bool efer_nx, unsigned phys_bits)
{
	if (F(f, AT_PDE_BIT13) && !F(f, AT_PDE_PSE))
		return false;
	if (phys_bits >= 52 && (F(f, AT_PDE_BIT51) || F(f, AT_PTE_BIT51)))
		return false;
	if (phys_bits >= 37 && (F(f, AT_PDE_BIT36) || F(f, AT_PTE_BIT36)))
		return false;
	unsigned pde_probes = F(f, AT_PDE_BIT51) + F(f, AT_PDE_BIT36) + F(f, AT_PDE_BIT13) +
			      (F(f, AT_PDE_NX) && !efer_nx);
	unsigned probes = pde_probes + F(f, AT_PTE_BIT51) + F(f, AT_PTE_BIT36) + (F(f, AT_PTE_NX) && !efer_nx);
	if (probes > 1)
		return false;
	bool pte_unused = !F(f, AT_PDE_P) || pde_probes || F(f, AT_PDE_PSE);
	uint32_t pte = f & 0xffu;
	if (pte_unused && pte != 0 && pte != PTE_REPRESENTATIVE)
		return false;
	return true;
}

/*
 * Legality of the rest (bits 18-31): no write with fetch; PKRU rights only
 * with CR4.PKE; EFLAGS.AC only with CR4.SMAP (symmetry S2: at CPL 0 AC does
 * nothing else, and at CPL 3 it only enables alignment checks, which no access
 * here triggers: byte accesses, and an 8-byte push on an aligned stack); no
 * user access with SMEP (as kvm-unit-tests); features the
 * CPU lacks stay clear.
 */
static bool rest_legal(uint32_t f, const struct at_env *e)
{
	if (F(f, AT_WRITE) && F(f, AT_FETCH))
		return false;
	if ((F(f, AT_PKRU_AD) || F(f, AT_PKRU_WD)) && !F(f, AT_CR4_PKE))
		return false;
	if (F(f, AT_RFLAGS_AC) && !F(f, AT_CR4_SMAP))
		return false;
	if (F(f, AT_USER) && F(f, AT_CR4_SMEP))
		return false;
	if ((F(f, AT_CR4_SMEP) && !e->has_smep) || (F(f, AT_CR4_SMAP) && !e->has_smap) ||
	    ((F(f, AT_CR4_PKE) || F(f, AT_PKEY)) && !e->has_pku) || (F(f, AT_EFER_NX) && !e->has_nx))
		return false;
	return true;
}

static int run_enumeration(struct at_env *e, uint64_t stride, struct at_stats *st)
{
	/* The legal entry parts, per EFER.NXE (a 1 MiB list each). */
	struct page *list_pages[2] = { alloc_pages(8), alloc_pages(8) };
	uint32_t *lists[2];
	uint32_t counts[2] = { 0, 0 };
	if (!list_pages[0] || !list_pages[1]) {
		for (int i = 0; i < 2; i++)
			if (list_pages[i])
				free_pages(list_pages[i], 8);
		printk("accesstest: out of memory\n");
		return -1;
	}
	for (int nx = 0; nx < 2; nx++) {
		lists[nx] = page_address(list_pages[nx]);
		for (uint32_t f = 0; f < (1u << AT_ENTRY_BITS); f++)
			if (entries_legal(f, nx, e->phys_bits))
				lists[nx][counts[nx]++] = f;
	}

	uint64_t index = 0;
	for (uint32_t rest = 0; rest < (1u << AT_REST_BITS); rest++) {
		uint32_t high = rest << AT_ENTRY_BITS;
		if (!rest_legal(high, e))
			continue;
		unsigned nx = F(high, AT_EFER_NX);
		for (uint32_t i = 0; i < counts[nx]; i++, index++)
			if (index % stride == 0)
				run_combination(e, high | lists[nx][i], st);
	}
	free_pages(list_pages[0], 8);
	free_pages(list_pages[1], 8);
	return 0;
}

/* ------------------------------------------------------------ the command */

static bool streq(const char *a, const char *b)
{
	size_t n = strlen(a);
	return n == strlen(b) && memcmp(a, b, n) == 0;
}

/* quick: every QUICK_STRIDE-th combination of the full enumeration (a prime: no aliasing). */
#define QUICK_STRIDE 251

int accesstest_command(int argc, char **argv)
{
	uint64_t stride = QUICK_STRIDE;
	const char *err;

	if (argc > 2 || (argc == 2 && !streq(argv[1], "quick") && !streq(argv[1], "full"))) {
		printk("usage: accesstest [quick|full]\n");
		return 1;
	}
	if (argc == 2 && streq(argv[1], "full"))
		stride = 1;
	if (!(read_efer_safe() & EFER_LMA)) {
		printk("accesstest: needs IA-32e paging\n");
		return 1;
	}

	struct at_env e;
	memset(&e, 0, sizeof(e));
	e.levels = kernel_ctx.levels;
	e.phys_bits = boot_cpu_data.phys_bits;
	e.qemu = oracle_is_qemu_tcg();
	e.bochs = oracle_is_bochs();
	e.has_smep = boot_cpu_data.smep;
	e.has_smap = boot_cpu_data.smap;
	e.has_pku = boot_cpu_data.pku;
	e.has_nx = boot_cpu_data.nx;
	e.pat = boot_cpu_data.pat ? rdmsr(0x277) : PG_PAT_RESET;
	e.cr0 = read_cr0();
	e.cr3 = read_cr3();
	e.cr4 = read_cr4();
	e.efer = rdmsr(MSR_EFER);
	e.model_mem.phys_to_virt = model_phys_to_virt;
	e.model_mem.arg = &e;
	const struct cpuinfo_x86 *c = &boot_cpu_data;
	e.features = (c->pse ? PG_CPUID_PSE : 0) | (c->pae ? PG_CPUID_PAE : 0) | (c->pge ? PG_CPUID_PGE : 0) |
		     (c->pat ? PG_CPUID_PAT : 0) | (c->pse36 ? PG_CPUID_PSE36 : 0) |
		     (c->pcid ? PG_CPUID_PCID : 0) | (c->smep ? PG_CPUID_SMEP : 0) |
		     (c->invpcid ? PG_CPUID_INVPCID : 0) | (c->smap ? PG_CPUID_SMAP : 0) |
		     (c->pku ? PG_CPUID_PKU : 0) | (c->la57 ? PG_CPUID_LA57 : 0) | (c->nx ? PG_CPUID_NX : 0) |
		     (c->gbpages ? PG_CPUID_PAGE1GB : 0) | (c->lm ? PG_CPUID_LM : 0);
	if (e.cr4 & X86_CR4_PCIDE) {
		printk("accesstest: CR4.PCIDE is set; not supported\n");
		return 1;
	}
	memset(shadow_tables, 0, sizeof(shadow_tables));

	err = build_probe_root(&e);
	if (!err)
		err = build_test_path(&e);
	if (err) {
		printk("accesstest: %s\n", err);
		env_free(&e);
		return 1;
	}

	printk("accesstest: %s, %u-level paging, MAXPHYADDR %u, test VA 0x%016llx (top-level slot %u)\n",
	       stride == 1 ? "full" : "quick", e.levels, e.phys_bits, (unsigned long long)e.va, e.top_slot);
	printk("accesstest: oracle %s; CPU has%s%s%s%s\n", oracle_name(), e.has_nx ? " NX" : "",
	       e.has_smep ? " SMEP" : "", e.has_smap ? " SMAP" : "", e.has_pku ? " PKU" : "");

	/* Enter the test environment: private IDT, probe root, PKRU saved. */
	uint64_t flags;
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
	__asm__ volatile("sidt %0" : "=m"(e.idt));
	memcpy(probe_idt, (void *)(uintptr_t)e.idt.base, sizeof(probe_idt) < (size_t)e.idt.limit + 1u ?
	       sizeof(probe_idt) : (size_t)e.idt.limit + 1u);
	set_gate(&probe_idt[13], accesstest_trap_gp);
	set_gate(&probe_idt[14], accesstest_trap_pf);
	set_gate(&probe_idt[ACCESSTEST_USER_VECTOR], accesstest_trap_user);
	probe_idt[ACCESSTEST_USER_VECTOR].selector = __KERNEL_CS;
	probe_idt[ACCESSTEST_USER_VECTOR].ist = 0;
	probe_idt[ACCESSTEST_USER_VECTOR].type_attr = 0xee; /* present, DPL 3, 64-bit interrupt gate */
	e.rsp0 = cpu_tss_rw.sp0;
	update_task_stack((uint64_t)(uintptr_t)(probe_rsp0_stack + sizeof(probe_rsp0_stack)));
	struct desc_ptr64 idt = { sizeof(probe_idt) - 1, (uint64_t)(uintptr_t)probe_idt };
	__asm__ volatile("lidt %0" : : "m"(idt));
	if (e.has_pku) {
		write_cr4(e.cr4 | X86_CR4_PKE);
		e.pkru = rdpkru();
		e.pkru_saved = true;
		write_cr4(e.cr4);
	}
	write_cr3(e.root | (e.cr3 & ~PTE_PFN_MASK));
	__flush_tlb_all();

	struct at_stats st = { 0, 0, 0, 0, 0, 0 };
	int rc = run_enumeration(&e, stride, &st);

	/* Leave: every bit of CPU state back, then the tables freed. */
	if (e.pkru_saved) {
		write_cr4(e.cr4 | X86_CR4_PKE);
		wrpkru(e.pkru);
	}
	write_cr4(e.cr4);
	write_cr0_raw(e.cr0);
	wrmsr(MSR_EFER, e.efer);
	write_cr3(e.cr3);
	__flush_tlb_all();
	__asm__ volatile("lidt %0" : : "m"(e.idt));
	update_task_stack(e.rsp0);
	if (flags & (1u << 9))
		__asm__ volatile("sti");
	env_free(&e);
	if (rc)
		return 1;

	if (st.printed > MAX_PRINTED_MISMATCHES)
		printk("  (%u more mismatches not printed)\n", st.printed - MAX_PRINTED_MISMATCHES);
	printk("accesstest: %llu combinations (%llu at CPL 3), %llu mismatches, %llu excluded (oracle)\n",
	       (unsigned long long)st.run, (unsigned long long)st.cpl3, (unsigned long long)st.mismatches,
	       (unsigned long long)st.excluded_oracle);
	if (st.excluded_oracle)
		printk("accesstest: of the excluded, %llu differ from the model (the oracle's documented deviations)\n",
		       (unsigned long long)st.excluded_differ);
	printk("accesstest: state restored (CR0 0x%llx CR4 0x%llx EFER 0x%llx)\n", (unsigned long long)read_cr0(),
	       (unsigned long long)read_cr4(), (unsigned long long)rdmsr(MSR_EFER));
	return st.mismatches ? 1 : 0;
}
