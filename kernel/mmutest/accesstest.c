/*
 * accesstest.c: `accesstest [quick|full]`, lib/paging's MMU model against the
 * live CPU (docs/mmu.md, "On the live CPU").
 *
 * In the spirit of kvm-unit-tests' x86/access (docs/formats.md, "kvm-unit-tests
 * access") each combination of flags below sets the entries under test of one
 * test VA, performs one access on the CPU and asks lib/paging's model
 * (pg_mmu_access) what that access must do, then compares: fault or not, the
 * vector, the #PF error code and CR2, and the PTE and PDE afterwards (A/D).
 * Any difference is printed as a mismatch.
 *
 * This file enumerates the combinations, asks the model and compares; the
 * environment they run in (probe root, test path, CPL 3 stub, private IDT,
 * CPU state) is access_env.c's. The model reads shadow copies of the test
 * path's tables (it writes its A/D updates there), and the CPU state taken
 * from the live CR0/CR3/CR4, EFER (NXE as the combination), RFLAGS.AC, PKRU,
 * PAT and CPUID.
 * Depends on: access_env.c, accesstest_64.S, oracle.c, lib/paging's MMU model.
 */
#include <asm/console.h>
#include <asm/cpufeature.h>
#include <asm/page.h>
#include <asm/pgtable.h>
#include <asm/processor.h>
#include <linux/mm.h>
#include <linux/shell.h>

#include "mmutest.h"

/* ------------------------------------------------------------ the flags */

/*
 * One combination = one bit per flag (docs/formats.md, "Access flags": its
 * flags and order, with CPL 0's extras: SMAP with EFLAGS.AC; SMEP enumerated,
 * not only a sub-test; no FEP). Bits 0-17 are the PTE and PDE (the "entries"
 * part), 18-31 the rest; the CPU state is in the top bits so that it changes
 * least often.
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

/* The bit each flag of the entries part sets: AT_PTE_* in the PTE, AT_PDE_* in the PDE. */
static const uint64_t at_entry_bit[AT_ENTRY_BITS] = {
	[AT_PTE_RW] = PTE_W, [AT_PTE_USER] = PTE_U, [AT_PTE_A] = PTE_A, [AT_PTE_D] = PTE_D,
	[AT_PTE_NX] = PTE_NX, [AT_PTE_P] = PTE_P, [AT_PTE_BIT51] = 1ULL << 51, [AT_PTE_BIT36] = 1ULL << 36,
	[AT_PDE_RW] = PTE_W, [AT_PDE_USER] = PTE_U, [AT_PDE_A] = PTE_A, [AT_PDE_D] = PTE_D,
	[AT_PDE_PSE] = PTE_PS, [AT_PDE_NX] = PTE_NX, [AT_PDE_P] = PTE_P, [AT_PDE_BIT51] = 1ULL << 51,
	[AT_PDE_BIT36] = 1ULL << 36, [AT_PDE_BIT13] = 1ULL << 13,
};

#define F(f, n) (((f) >> (n)) & 1u)
#define BIT(n)  (1u << (n))

/* The PTE's representatives when the walk never reads it (symmetry S1). */
#define PTE_REPRESENTATIVE (BIT(AT_PTE_P) | BIT(AT_PTE_RW) | BIT(AT_PTE_USER) | BIT(AT_PTE_A) | BIT(AT_PTE_D))

/* ------------------------------------------------------------ a run */

/* The CPU under test, as the model and the legality rules take it. */
struct at_cpu {
	unsigned phys_bits, features;    /* MAXPHYADDR, PG_CPUID_* */
	bool qemu, bochs;                /* the oracle (oracle.c) */
	bool has_smep, has_smap, has_pku, has_nx;
	uint64_t pat;
};

/* The run's tallies. */
struct at_stats {
	uint64_t run, cpl3, mismatches, excluded_oracle, excluded_differ;
	unsigned printed;
};

#define MAX_PRINTED_MISMATCHES 40

struct at_run {
	struct at_env env;
	struct at_cpu cpu;
	struct pg_ctx model_mem;         /* the model's view of the test path: the shadows */
	uint32_t loaded_state;           /* the CPU-state flags loaded now */
	bool state_loaded;
	struct at_stats st;
};

/* The model's copies of the test path's tables, by level (1 = PT). */
static uint64_t shadow_tables[PG_MAX_LEVELS + 1][512] __attribute__((aligned(4096)));

static void *model_phys_to_virt(void *arg, phys_addr_t pa)
{
	const struct at_env *e = &((const struct at_run *)arg)->env;
	for (unsigned l = 1; l <= e->levels; l++)
		if (pa == e->path[l])
			return shadow_tables[l];
	return kernel_ctx.phys_to_virt(kernel_ctx.arg, pa);
}

/* The shadows start as copies of the test path's tables. */
static void init_shadows(struct at_run *r)
{
	memset(shadow_tables, 0, sizeof(shadow_tables));
	for (unsigned l = 1; l <= r->env.levels; l++)
		memcpy(shadow_tables[l], kernel_ctx.phys_to_virt(kernel_ctx.arg, r->env.path[l]), PAGE_SIZE);
	r->model_mem = (struct pg_ctx){ .phys_to_virt = model_phys_to_virt, .arg = r };
}

/* ------------------------------------------------------------ one combination */

struct at_outcome {
	int vector;            /* PG_VEC_NONE, PG_VEC_PF, PG_VEC_GP */
	uint32_t error_code;
	uint64_t cr2;
	int first_vector;      /* twice: the first read's */
	uint64_t pte, pde;     /* afterwards */
};

static struct at_entries make_entries(const struct at_env *e, uint32_t f)
{
	struct at_entries x = {
		.pte = e->data,
		.pde = F(f, AT_PDE_PSE) ? e->data : e->path[1],
		.pdpte = e->path[2] | PTE_P | PTE_U | PTE_A | (F(f, AT_PDPTE_RO) ? 0 : PTE_W),
	};

	for (unsigned i = 0; i < AT_ENTRY_BITS; i++)
		if (F(f, i))
			*(i < AT_PDE_RW ? &x.pte : &x.pde) |= at_entry_bit[i];
	/* A leaf PDE carries key 1; a non-leaf one key 2, which must be ignored. */
	if (F(f, AT_PKEY)) {
		x.pte |= 1ULL << PTE_PK_SHIFT;
		x.pde |= (F(f, AT_PDE_PSE) ? 1ULL : 2ULL) << PTE_PK_SHIFT;
	}
	return x;
}

#define AT_STATE_MASK (BIT(AT_CR0_WP) | BIT(AT_CR4_SMEP) | BIT(AT_CR4_SMAP) | BIT(AT_CR4_PKE) | \
		       BIT(AT_PKRU_AD) | BIT(AT_PKRU_WD))

/* Load CR0.WP, CR4.SMEP/SMAP/PKE and PKRU for f (only when they change). */
static void load_cpu_state(struct at_run *r, uint32_t f)
{
	uint32_t state = f & AT_STATE_MASK;
	if (r->state_loaded && state == r->loaded_state)
		return;
	uint64_t cr4 = r->env.cr4 & ~(uint64_t)(X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_PKE);
	if (F(f, AT_CR4_SMEP)) cr4 |= X86_CR4_SMEP;
	if (F(f, AT_CR4_SMAP)) cr4 |= X86_CR4_SMAP;
	if (F(f, AT_CR4_PKE)) cr4 |= X86_CR4_PKE;
	uint64_t cr0 = (r->env.cr0 & ~(uint64_t)X86_CR0_WP) | (F(f, AT_CR0_WP) ? X86_CR0_WP : 0);
	/* Key 2 (the non-leaf PDE's) denies everything; key 1 as the flags say. */
	at_env_load_state(cr0, cr4, 0x30u | (F(f, AT_PKRU_WD) << 3) | (F(f, AT_PKRU_AD) << 2));
	r->loaded_state = state;
	r->state_loaded = true;
}

static void model_cpu(const struct at_run *r, uint32_t f, struct pg_cpu *cpu)
{
	memset(cpu, 0, sizeof(*cpu));
	cpu->cr0 = read_cr0();
	cpu->cr3 = r->env.root;
	cpu->cr4 = read_cr4();
	cpu->efer = (r->env.efer & ~(uint64_t)EFER_NXE) | (F(f, AT_EFER_NX) ? EFER_NXE : 0);
	cpu->rflags = 0x2 | (F(f, AT_RFLAGS_AC) ? PG_RFLAGS_AC : 0);
	cpu->cpl = 0;
	cpu->cs_l = true;
	cpu->pkru = at_env_pkru();
	cpu->pkrs = 0;
	cpu->pat = r->cpu.pat;
	cpu->phys_bits = r->cpu.phys_bits;
	cpu->features = r->cpu.features;
}

/*
 * qemu_tcg_normalise - THE one place for QEMU TCG 7.2's known deviations from
 * the SDM (docs/mmu.md, "QEMU TCG deviations"), applied to the live outcome
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
 *     every oracle by mismatch_reason(); upper levels are not compared.
 *  7. PSE-36 reserved bits: no 32-bit paging here (nothing to do).
 *  8. CR0/CR4/EFER #GP rules, and writes that hang the guest: accesstest
 *     writes only legal values of supported bits (nothing probed).
 *  9. TLB flushes more than required: INVLPG after every setup, and no
 *     stale-versus-fresh comparison (nothing to do).
 * 10. Non-canonical always #GP, never #SS: no non-canonical accesses.
 * returns: true if the combination is excluded (none is, today).
 */
static bool qemu_tcg_normalise(const struct at_cpu *c, uint32_t f, struct at_outcome *live)
{
	(void)f;
	if (!c->qemu)
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
static bool bochs_normalise(const struct at_cpu *c, uint32_t f, struct at_outcome *live)
{
	(void)live;
	if (!c->bochs || !F(f, AT_CR4_PKE) || !F(f, AT_PKEY))
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
static bool oracle_normalise(const struct at_cpu *c, uint32_t f, struct at_outcome *live)
{
	return qemu_tcg_normalise(c, f, live) || bochs_normalise(c, f, live);
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

static unsigned access_of(uint32_t f)
{
	return F(f, AT_WRITE) ? PG_ACC_WRITE : F(f, AT_FETCH) ? PG_ACC_FETCH : PG_ACC_READ;
}

/*
 * What the model says combination f does, from the entries x (written to the
 * shadows here). *any_success: whether an access of f succeeds.
 */
static struct at_outcome model_outcome(struct at_run *r, uint32_t f, const struct at_entries *x,
				       bool *any_success)
{
	const struct at_env *e = &r->env;
	struct at_outcome want = { .first_vector = PG_VEC_NONE };
	unsigned access = access_of(f);
	struct pg_mmu_result res;
	struct pg_cpu cpu;

	shadow_tables[1][e->index[1]] = x->pte;
	shadow_tables[2][e->index[2]] = x->pde;
	shadow_tables[3][e->index[3]] = x->pdpte;
	model_cpu(r, f, &cpu);
	*any_success = false;
	if (F(f, AT_TWICE)) {
		if (pg_mmu_access(&r->model_mem, &cpu, e->va + PROBE_DATA_OFFSET, PG_ACC_READ, 0, 0, &res))
			panic("accesstest: the model could not read its shadow tables");
		want.first_vector = res.vector;
		*any_success |= res.vector == PG_VEC_NONE;
	}
	uint64_t target = access == PG_ACC_FETCH ? e->va : e->va + PROBE_DATA_OFFSET;
	cpu.cpl = F(f, AT_USER) ? 3 : 0; /* the first read of `twice` is a supervisor read */
	if (pg_mmu_access(&r->model_mem, &cpu, target, access, 0, 0, &res))
		panic("accesstest: the model could not read its shadow tables");
	want.vector = res.vector;
	want.error_code = res.vector == PG_VEC_PF ? res.error_code : 0;
	want.cr2 = res.vector == PG_VEC_PF ? res.cr2 : 0;
	want.pte = shadow_tables[1][e->index[1]];
	want.pde = shadow_tables[2][e->index[2]];
	*any_success |= res.vector == PG_VEC_NONE;
	return want;
}

/* What the CPU does with combination f (its entries already written). */
static struct at_outcome cpu_outcome(const struct at_run *r, uint32_t f)
{
	const struct at_env *e = &r->env;
	unsigned access = access_of(f);
	struct access_probe p = {
		.va = e->va,
		.kind = (access == PG_ACC_WRITE ? PROBE_WRITE : access == PG_ACC_FETCH ? PROBE_FETCH : PROBE_READ) |
			(F(f, AT_TWICE) ? PROBE_TWICE : 0),
		.efer_probe = (e->efer & ~(uint64_t)EFER_NXE) | (F(f, AT_EFER_NX) ? EFER_NXE : 0),
		.efer_kernel = e->efer,
		.rflags_ac = F(f, AT_RFLAGS_AC) ? PG_RFLAGS_AC : 0,
		.user = F(f, AT_USER),
		.user_rip = e->user_va,
		.user_rsp = e->user_va + 2 * PAGE_SIZE,
	};
	accesstest_probe(&p);
	return (struct at_outcome){
		.vector = vector_of(p.vector),
		.error_code = p.vector == 14 ? (uint32_t)p.error_code : 0,
		.cr2 = p.vector == 14 ? p.cr2 : 0,
		.first_vector = F(f, AT_TWICE) ? vector_of(p.first_vector) : PG_VEC_NONE,
		.pte = *e->pte,
		.pde = *e->pde,
	};
}

/*
 * Where the CPU and the model differ. Architectural "may" (SDM 4.8, docs/mmu.md
 * "Accessed and dirty flags"): a non-leaf PDE's A on a walk that never
 * succeeded. Every other bit of both entries is exact.
 * returns: NULL if they agree, else the first difference.
 */
static const char *mismatch_reason(uint32_t f, const struct at_outcome *want, const struct at_outcome *got,
				   bool any_success)
{
	uint64_t pde_mask = ~0ULL;
	if (!any_success && !F(f, AT_PDE_PSE))
		pde_mask &= ~PTE_A;

	if (got->vector != want->vector)
		return got->vector == PG_VEC_NONE ? "unexpected access" : "unexpected fault";
	if (got->first_vector != want->first_vector)
		return "first read (twice) differs";
	if (got->error_code != want->error_code)
		return "error code";
	if (got->cr2 != want->cr2)
		return "CR2";
	if (got->pte != want->pte)
		return "PTE";
	if ((got->pde & pde_mask) != (want->pde & pde_mask))
		return "PDE";
	return 0;
}

static void print_mismatch(uint32_t f, const char *why, const struct at_entries *x, const struct at_outcome *want,
			   const struct at_outcome *got)
{
	char wbuf[48], gbuf[48];

	printk("mismatch:");
	print_flags(f);
	printk(": %s\n", why);
	printk("  model: %s error code 0x%x [%s] cr2 0x%llx, pte 0x%016llx pde 0x%016llx\n",
	       vector_name(want->vector), want->error_code, pg_pfec_string(want->error_code, wbuf, sizeof(wbuf)),
	       (unsigned long long)want->cr2, (unsigned long long)want->pte, (unsigned long long)want->pde);
	printk("  cpu:   %s error code 0x%x [%s] cr2 0x%llx, pte 0x%016llx pde 0x%016llx\n",
	       vector_name(got->vector), got->error_code, pg_pfec_string(got->error_code, gbuf, sizeof(gbuf)),
	       (unsigned long long)got->cr2, (unsigned long long)got->pte, (unsigned long long)got->pde);
	printk("  before: pdpte 0x%016llx pde 0x%016llx pte 0x%016llx\n", (unsigned long long)x->pdpte,
	       (unsigned long long)x->pde, (unsigned long long)x->pte);
}

/*
 * Run combination f: set up, model, probe, compare. returns: true if the CPU
 * and the model agree.
 */
static bool run_combination(struct at_run *r, uint32_t f)
{
	struct at_entries x = make_entries(&r->env, f);
	struct at_stats *st = &r->st;
	bool any_success;

	load_cpu_state(r, f);
	at_env_write_entries(&r->env, &x); /* the live tables and the model's shadows start equal */
	struct at_outcome want = model_outcome(r, f, &x, &any_success);
	struct at_outcome got = cpu_outcome(r, f);
	bool excluded = oracle_normalise(&r->cpu, f, &got);
	if (excluded) {
		st->excluded_oracle++;
	} else {
		st->run++;
		st->cpl3 += F(f, AT_USER);
	}
	const char *why = mismatch_reason(f, &want, &got, any_success);
	if (excluded) { /* compared all the same: the evidence for the deviation */
		st->excluded_differ += why != 0;
		return true;
	}
	if (!why)
		return true;
	st->mismatches++;
	if (st->printed++ < MAX_PRINTED_MISMATCHES)
		print_mismatch(f, why, &x, &want, &got);
	return false;
}

/* ------------------------------------------------------------ the enumeration */

/*
 * Legality of the entry part (bits 0-17), docs/formats.md "Access
 * enumeration": pde.13 only with pde.pse; at most one reserved-bit probe among
 * pde.51/36/13, pte.51/36 and an XD bit while EFER.NXE = 0; probes only where
 * the bit is reserved on this CPU (bit 51 iff MAXPHYADDR <= 51, bit 36 iff
 * MAXPHYADDR <= 36).
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
static bool rest_legal(uint32_t f, const struct at_cpu *c)
{
	if (F(f, AT_WRITE) && F(f, AT_FETCH))
		return false;
	if ((F(f, AT_PKRU_AD) || F(f, AT_PKRU_WD)) && !F(f, AT_CR4_PKE))
		return false;
	if (F(f, AT_RFLAGS_AC) && !F(f, AT_CR4_SMAP))
		return false;
	if (F(f, AT_USER) && F(f, AT_CR4_SMEP))
		return false;
	if ((F(f, AT_CR4_SMEP) && !c->has_smep) || (F(f, AT_CR4_SMAP) && !c->has_smap) ||
	    ((F(f, AT_CR4_PKE) || F(f, AT_PKEY)) && !c->has_pku) || (F(f, AT_EFER_NX) && !c->has_nx))
		return false;
	return true;
}

/* Every stride-th legal combination, in order. returns: 0, or -1 (out of memory, printed). */
static int run_enumeration(struct at_run *r, uint64_t stride)
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
			if (entries_legal(f, nx, r->cpu.phys_bits))
				lists[nx][counts[nx]++] = f;
	}

	uint64_t index = 0;
	for (uint32_t rest = 0; rest < (1u << AT_REST_BITS); rest++) {
		uint32_t high = rest << AT_ENTRY_BITS;
		if (!rest_legal(high, &r->cpu))
			continue;
		unsigned nx = F(high, AT_EFER_NX);
		for (uint32_t i = 0; i < counts[nx]; i++, index++)
			if (index % stride == 0)
				run_combination(r, high | lists[nx][i]);
	}
	free_pages(list_pages[0], 8);
	free_pages(list_pages[1], 8);
	return 0;
}

/* ------------------------------------------------------------ the command */

/* quick: every QUICK_STRIDE-th combination of the full enumeration (a prime: no aliasing). */
#define QUICK_STRIDE 251

static void describe_cpu(struct at_cpu *c)
{
	c->phys_bits = boot_cpu_data.phys_bits;
	c->features = mmutest_cpuid_features();
	c->qemu = oracle_is_qemu_tcg();
	c->bochs = oracle_is_bochs();
	c->has_smep = boot_cpu_data.smep;
	c->has_smap = boot_cpu_data.smap;
	c->has_pku = boot_cpu_data.pku;
	c->has_nx = boot_cpu_data.nx;
	c->pat = boot_cpu_data.pat ? rdmsr(PG_MSR_PAT) : PG_PAT_RESET;
}

static void print_summary(const struct at_stats *st)
{
	if (st->printed > MAX_PRINTED_MISMATCHES)
		printk("  (%u more mismatches not printed)\n", st->printed - MAX_PRINTED_MISMATCHES);
	printk("accesstest: %llu combinations (%llu at CPL 3), %llu mismatches, %llu excluded (oracle)\n",
	       (unsigned long long)st->run, (unsigned long long)st->cpl3, (unsigned long long)st->mismatches,
	       (unsigned long long)st->excluded_oracle);
	if (st->excluded_oracle)
		printk("accesstest: of the excluded, %llu differ from the model (the oracle's documented deviations)\n",
		       (unsigned long long)st->excluded_differ);
	printk("accesstest: state restored (CR0 0x%llx CR4 0x%llx EFER 0x%llx)\n", (unsigned long long)read_cr0(),
	       (unsigned long long)read_cr4(), (unsigned long long)rdmsr(MSR_EFER));
}

int accesstest_command(int argc, char **argv)
{
	struct at_run run, *r = &run;
	uint64_t stride = QUICK_STRIDE;

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
	memset(r, 0, sizeof(*r));
	r->env.levels = kernel_ctx.levels;
	describe_cpu(&r->cpu);
	if (read_cr4() & X86_CR4_PCIDE) {
		printk("accesstest: CR4.PCIDE is set; not supported\n");
		return 1;
	}
	const char *err = at_env_build(&r->env);
	if (err) {
		printk("accesstest: %s\n", err);
		at_env_free(&r->env);
		return 1;
	}
	init_shadows(r);

	printk("accesstest: %s, %u-level paging, MAXPHYADDR %u, test VA 0x%016llx (top-level slot %u)\n",
	       stride == 1 ? "full" : "quick", r->env.levels, r->cpu.phys_bits, (unsigned long long)r->env.va,
	       r->env.top_slot);
	printk("accesstest: oracle %s; CPU has%s%s%s%s\n", oracle_name(), r->cpu.has_nx ? " NX" : "",
	       r->cpu.has_smep ? " SMEP" : "", r->cpu.has_smap ? " SMAP" : "", r->cpu.has_pku ? " PKU" : "");

	at_env_enter(&r->env);
	int rc = run_enumeration(r, stride);
	at_env_leave(&r->env); /* every bit of CPU state back, then the tables freed */
	at_env_free(&r->env);
	if (rc)
		return 1;
	print_summary(&r->st);
	return r->st.mismatches ? 1 : 0;
}
