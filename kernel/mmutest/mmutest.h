/*
 * mmutest.h: the live MMU checks, lib/paging's MMU model (include/paging/mmu.h)
 * against the CPU the kernel runs on (docs/mmu.md, "On the live CPU"), as two
 * shell commands (docs/shell.md):
 *
 *   accesstest [quick|full]  access-rights combinations in the spirit of
 *                            kvm-unit-tests' x86/access, each made on the CPU
 *                            and compared with pg_mmu_access;
 *   modes [illegal]          the paging-mode transitions (CR0.PG, CR4.PAE,
 *                            EFER.LME), made on the CPU from an identity-mapped
 *                            trampoline and compared with the control-register
 *                            model (pg_cpu_write_*).
 *
 * Both return 0 when every compared outcome agrees with the model, 1 otherwise
 * (bad arguments, setup failure, or a mismatch).
 *
 * The directory keeps the environment apart from the comparison:
 *   oracle.c         which CPU answers (QEMU TCG, Bochs, hardware), its features
 *   tables.c         scaffolding tables: built with pg_map, frames from the page
 *                    allocator, every one freed at the end
 *   access_env.c     accesstest's environment: probe root, test path, CPL 3
 *                    stub, private IDT, CPU state
 *   accesstest_64.S  one probed access at CPL 0 or CPL 3
 *   accesstest.c     the combinations: legality, entries, the model's verdict,
 *                    the comparison
 *   modes_env.c      the trampoline's page and tables, and the call into it
 *   modes_32.S       the trampoline: out of long mode, one write per step, back
 *   modes.c          the steps replayed on the model and compared
 *
 * This header is the one they share. The layouts of the records the assembly
 * reads and writes are plain numbers here (safe to include from assembly); the
 * C structures that mirror them assert every offset.
 */
#ifndef KERNEL_MMUTEST_H
#define KERNEL_MMUTEST_H

/* ------------------------------------------------------------ accesstest's probe record */

/* struct access_probe, field offsets (accesstest_64.S) */
#define AP_VA           0
#define AP_KIND         8
#define AP_EFER_PROBE   16
#define AP_EFER_KERNEL  24
#define AP_RFLAGS_AC    32
#define AP_VECTOR       40
#define AP_ERROR_CODE   48
#define AP_CR2          56
#define AP_FIRST_VECTOR 64
#define AP_USER         72
#define AP_USER_RIP     80
#define AP_USER_RSP     88

/* The access (AP_KIND): one of READ/WRITE/FETCH, optionally with TWICE. */
#define PROBE_READ      0
#define PROBE_WRITE     1
#define PROBE_FETCH     2
#define PROBE_TWICE     0x100   /* a supervisor read first */
#define PROBE_NO_VECTOR 0xff    /* AP_VECTOR, AP_FIRST_VECTOR: no fault */
#define PROBE_DATA_OFFSET 8     /* reads and writes touch this byte; byte 0 is a `ret` */

/* The DPL 3 gate of the probe's IDT through which the CPL 3 stub comes back. */
#define ACCESSTEST_USER_VECTOR 0xf3

/* ------------------------------------------------------------ the modes trampoline */

/* The trampoline page: code and tables from 0, the stack below MT_STACK_TOP,
 * the parameter block (and the log) from MT_PARAMS. */
#define MT_STACK_TOP   0xa00
#define MT_PARAMS      0xa00
#define MT_MAX_STEPS   20

/* struct modes_params, field offsets (8-byte fields; 32-bit code uses their low halves) */
#define MP_KERNEL_GDT  0x00    /* sgdt: 2 + 8 bytes */
#define MP_KERNEL_IDT  0x10    /* sidt */
#define MP_SAVED_RSP   0x20
#define MP_KERNEL_CR4  0x28
#define MP_KERNEL_EFER 0x30
#define MP_KERNEL_CR0  0x38
#define MP_CR3_32      0x40    /* 32-bit page directory (also read as the PAE PDPT) */
#define MP_CR3_LONG    0x48    /* the temporary 4/5-level table, below 4 GiB */
#define MP_LA57        0x50    /* CR4.LA57 to set again before IA-32e, or 0 */
#define MP_ILLEGAL     0x58    /* nonzero: also run the writes that must #GP */
#define MP_NSTEPS      0x60
#define MP_RECOVER     0x68
#define MP_SAVED_ESP   0x70
#define MP_LOG         0x80    /* MT_MAX_STEPS records of 32 bytes */

/* struct modes_log, one record of the log */
#define ML_STEP        0
#define ML_VECTOR      4       /* 0, or 13 for #GP */
#define ML_CR0         8
#define ML_CR3         12
#define ML_CR4         16
#define ML_EFER        20
#define ML_SIZE        32

/* Steps, in the order the trampoline makes them. */
#define MS_CLEAR_PG_COMPAT  1   /* clear CR0.PG in compatibility mode: leave IA-32e */
#define MS_CLEAR_LME        2   /* WRMSR EFER.LME = 0 (paging off) */
#define MS_CR4_LEGACY       3   /* CR4: PAE = LA57 = 0, PSE = 1 */
#define MS_CR3_PD32         4   /* CR3 = the 32-bit page directory */
#define MS_SET_PG_32BIT     5   /* CR0.PG = 1: 32-bit paging */
#define MS_LME_IN_32BIT     6   /* illegal: EFER.LME = 1 with CR0.PG = 1 -> #GP */
#define MS_SET_PAE_PAGING   7   /* CR4.PAE = 1 with paging on: PAE paging */
#define MS_LME_IN_PAE       8   /* illegal: EFER.LME = 1 with CR0.PG = 1 -> #GP */
#define MS_CLEAR_PG         9   /* CR0.PG = 0: paging off */
#define MS_CLEAR_PAE        10  /* (illegal path) CR4.PAE = 0 */
#define MS_LME_NO_PAE       11  /* (illegal path) EFER.LME = 1, paging off */
#define MS_PG_LME_NO_PAE    12  /* illegal: CR0.PG = 1 with LME = 1, PAE = 0 -> #GP */
#define MS_CR4_LONG         13  /* CR4.PAE = 1 (and LA57 as the kernel) */
#define MS_CR3_LONG         14  /* CR3 = the 4/5-level table */
#define MS_SET_LME          15  /* EFER.LME = 1, paging off */
#define MS_SET_PG_LONG      16  /* CR0.PG = 1: IA-32e, compatibility mode */
#define MS_FAR_JUMP_64      17  /* far jump to a 64-bit code segment: 64-bit mode */

#ifndef __ASSEMBLER__

#include <paging/mmu.h>
#include <stdbool.h>
#include <stdint.h>

/* ------------------------------------------------------------ the commands */

int accesstest_command(int argc, char **argv);
int modes_command(int argc, char **argv);

/* ------------------------------------------------------------ oracle.c */

/*
 * The oracle the kernel runs on, for the one place that normalises its known
 * deviations (accesstest.c, oracle_normalise): QEMU TCG (CPUID 0x40000000
 * "TCGTCGTCGTCG", or `oracle=qemu` on the command line), Bochs (only said by
 * `oracle=bochs`: it has no hypervisor leaf), or anything else (`oracle=hw`),
 * where every difference from the model is a mismatch and the illegal
 * control-register orders of `modes` may be probed.
 */
bool oracle_is_qemu_tcg(void);
bool oracle_is_bochs(void);
const char *oracle_name(void);

/* The CPU's paging features as the model takes them (PG_CPUID_*, from boot_cpu_data). */
unsigned mmutest_cpuid_features(void);

/* ------------------------------------------------------------ tables.c */

#define MMUTEST_MAX_FRAMES 16

/*
 * struct mmutest_tables - the frames of one check's scaffolding: every table
 * and page it maps comes from here (zeroed, from get_zeroed_page) and goes
 * back at once with mmutest_tables_free, whatever the tables point to then.
 */
struct mmutest_tables {
	phys_addr_t frames[MMUTEST_MAX_FRAMES];
	unsigned nframes;
};

/*
 * mmutest_tables_ctx - a pg_ctx for pg_map on scaffolding: the kernel's view
 * of memory (kernel_ctx's phys_to_virt, MAXPHYADDR and features), mode
 * `levels`, new tables from t linked with table_flags.
 * returns: the context (its arg points at t).
 */
struct pg_ctx mmutest_tables_ctx(struct mmutest_tables *t, unsigned levels, uint64_t table_flags);

/* mmutest_frame - a zeroed 4 KiB frame owned by t. returns: 0, or -PG_ENOMEM. */
int mmutest_frame(struct mmutest_tables *t, phys_addr_t *pa);

/*
 * mmutest_clone_root - a frame of t holding a copy of the top-level table at
 * kernel_root (Linux's clone_pgd_range over all 512 entries): the kernel's
 * lower tables are shared, the copy's own entries can change freely.
 * returns: 0, or -PG_ENOMEM.
 */
int mmutest_clone_root(struct mmutest_tables *t, phys_addr_t kernel_root, phys_addr_t *root);

/*
 * mmutest_clone_path - give root private copies of the tables on va's path
 * from the level below the top down to `bottom`: each copied from the table
 * its entry pointed to, the entry re-pointed with ctx->table_flags. Whatever
 * those tables point to stays shared.
 * @ctx: from mmutest_tables_ctx; root: a private top-level table
 * @table: receives the private table at `bottom`
 * returns: 0; -PG_ENOTMAPPED (an entry on the path is not a present table
 *          pointer); -PG_ENOMEM; -PG_EIO.
 */
int mmutest_clone_path(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t va, int bottom,
		       phys_addr_t *table);

/* Give every frame of t back. returns: nothing. */
void mmutest_tables_free(struct mmutest_tables *t);

/* ------------------------------------------------------------ access_env.c */

/* The probe record (accesstest_64.S; offsets AP_* above). */
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

/* Make the access p describes and record its fault. returns: the vector (PROBE_NO_VECTOR: none). */
long accesstest_probe(struct access_probe *p);

/* The entries under test: the test VA's PDPTE, PDE and PTE. */
struct at_entries {
	uint64_t pdpte, pde, pte;
};

/* The save area of the IDTR (SIDT, LIDT). */
struct desc_ptr64 {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/*
 * struct at_env - accesstest's environment. The test VA (kvm-unit-tests'
 * 0xffff923400000000 in 4-level paging) lies in a free top-level slot of the
 * probe root, a copy of the kernel's top-level table; the 2 MiB data block
 * its entries lead to starts with a `ret` (the fetch target).
 */
struct at_env {
	unsigned levels;
	/* the kernel's state, as at_env_enter found it (restored by at_env_leave) */
	uint64_t cr0, cr3, cr4, efer, rflags, rsp0;
	uint32_t pkru;
	bool pkru_saved;
	struct desc_ptr64 idt;
	/* the tables */
	struct mmutest_tables tables;
	phys_addr_t root;                       /* the probe root */
	virt_addr_t va;                         /* the test VA */
	unsigned top_slot;                      /* its top-level index */
	phys_addr_t path[PG_MAX_LEVELS + 1];    /* its tables by level: 1 = PT .. levels = root */
	unsigned index[PG_MAX_LEVELS + 1];      /* its index at each level */
	phys_addr_t data;                       /* the 2 MiB block */
	virt_addr_t user_va;                    /* CPL 3: the stub's page; the stack page follows */
	volatile uint64_t *pdpte, *pde, *pte;   /* the entries under test */
};

/*
 * at_env_build - the probe root, the test VA's path and the CPL 3 stub
 * (e->levels set by the caller). returns: NULL, or a message (e then holds
 * what to free).
 */
const char *at_env_build(struct at_env *e);
/* Free everything at_env_build allocated. returns: nothing. */
void at_env_free(struct at_env *e);
/*
 * at_env_enter - interrupts off, the private IDT and TSS RSP0, PKRU saved,
 * CR3 = the probe root; at_env_leave puts every one back (and CR0, CR4, EFER).
 * returns: nothing.
 */
void at_env_enter(struct at_env *e);
void at_env_leave(struct at_env *e);
/* Write the entries under test and INVLPG the test VA. returns: nothing. */
void at_env_write_entries(struct at_env *e, const struct at_entries *x);
/* Load CR0 and CR4 (only when they differ) and, with CR4.PKE, PKRU. returns: nothing. */
void at_env_load_state(uint64_t cr0, uint64_t cr4, uint32_t pkru);
/* PKRU now (0 without CR4.PKE). */
uint32_t at_env_pkru(void);

/* ------------------------------------------------------------ modes_env.c */

/* One log record (offsets ML_* above). */
struct modes_log {
	uint32_t step, vector, cr0, cr3, cr4, efer;
	uint32_t pad[2];
};

/* The trampoline's parameter block at T + MT_PARAMS (offsets MP_* above). */
struct modes_params {
	uint8_t kernel_gdt[16], kernel_idt[16];
	uint64_t saved_rsp, kernel_cr4, kernel_efer, kernel_cr0;
	uint64_t cr3_32, cr3_long, la57, illegal;
	uint64_t nsteps, recover, saved_esp, pad;
	struct modes_log log[MT_MAX_STEPS];
};

/*
 * struct modes_env - the trampoline's page T (the first page of a 4 MiB
 * block in [32 MiB, 1 GiB)) and its tables: a 32-bit page directory with a
 * 4 MiB identity page for T, read as the PAE PDPT too (PDPTE 0 -> a PAE page
 * directory with a 2 MiB identity page for T), and a copy of the kernel's
 * top-level table with T identity-mapped (4 KiB).
 */
struct modes_env {
	struct mmutest_tables tables;
	phys_addr_t tramp;
	phys_addr_t rejects[32];                /* blocks outside [32 MiB, 1 GiB), freed at the end */
	unsigned nrejects;
	phys_addr_t pd32, pae_pd, root;
	/* the registers the trampoline left (64-bit mode, before CR3 is the kernel's again) */
	uint64_t cr0_back, cr4_back, efer_back;
};

/* The page and the tables (levels: the kernel's mode). returns: NULL, or a message. */
const char *modes_env_build(struct modes_env *m, unsigned levels, phys_addr_t kernel_root);
/* Free everything modes_env_build allocated. returns: nothing. */
void modes_env_free(struct modes_env *m);
/* The trampoline's parameter block (in T). */
struct modes_params *modes_env_params(const struct modes_env *m);
/*
 * modes_env_run - copy the trampoline to T, fill its parameters (the kernel's
 * CR0, CR4, EFER; the two tables; illegal) and call it with interrupts off;
 * back in 64-bit mode, record CR0, CR4, EFER, then restore CR3 = kernel_cr3.
 * returns: nothing (the log is in modes_env_params(m)).
 */
void modes_env_run(struct modes_env *m, uint64_t kernel_cr3, bool illegal);

#endif /* !__ASSEMBLER__ */

#endif /* KERNEL_MMUTEST_H */
