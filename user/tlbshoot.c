/*
 * tlbshoot [ROUNDS]: TLB shootdowns must be right (docs/smp.md, "tlbshoot").
 *
 * A main thread and one reader thread on each other CPU (sched_setaffinity;
 * on one CPU, one reader shares it). Each round, on a page the readers hold
 * in their TLBs, the main thread does one of:
 *   munmap     the page goes away: a read afterwards must fault
 *   mprotect   the page becomes read-only: a write afterwards must fault
 *   remap      mmap(MAP_FIXED) gives the page a new frame: a read afterwards
 *              must see the new frame's contents, never the old frame's
 * The round goes in steps, each waiting for the previous one, so that the
 * outcome never depends on timing:
 *   1. main writes a marker into the page and starts the round;
 *   2. each reader reads the page (and, for mprotect, writes it), which loads
 *      the translation (writable, for mprotect) into its CPU's TLB, and says so;
 *   3. when all have, main makes the call; when it returns, main says so;
 *   4. each reader then accesses the page once more and counts a stale access
 *      if the access went through the old translation (the read succeeded
 *      after munmap, the write succeeded after mprotect, the read saw the old
 *      marker after remap).
 * The readers access the page through the kernel's user-copy routines
 * (uaccess_test: copy_from_user, copy_to_user), on their own CPU with their
 * own CR3, so that a correct fault comes back as -EFAULT instead of killing
 * the thread; steps 2 and 4 use the same routine, so both go through the same
 * TLB entries. With correct shootdowns every step-4 access is a fresh one:
 * S = 0, whatever the timing. With `noshootdown` on the kernel command line
 * (test only: no flush IPIs) the readers' TLBs keep the old translation from
 * step 2, and the munmap and mprotect rounds find it: S > 0.
 *
 * A read in step 2 that does not find the marker main has just written went
 * through an older translation still in the reader's TLB (an earlier remap's
 * frame): counted as stale too ("before the call").
 * Ends with `tlbshoot: N rounds on C CPUs, S stale`; exit status 1 if S > 0
 * (2 if a call failed).
 * tlbshoot -s SECONDS: for that long, mprotect flips of a page every reader
 * keeps reading (a shootdown each), then the rate.
 * tlbshoot -b: TSC cycles of mprotect (a flush) without and with remote CPUs,
 * of one page (INVLPG) and of 64 pages (a full flush).
 */
#include "ulib.h"

#define PAGE 4096
#define MAX_READERS 16
#define STACK 16384

enum op { OP_MUNMAP, OP_MPROTECT, OP_REMAP, NR_OPS };
static const char *const op_names[NR_OPS] = { "munmap", "mprotect", "remap" };

static struct {
	volatile int round;       /* the round the readers are to join (-1: stop) */
	volatile int op;
	volatile uint64_t addr, marker, new_marker;
	volatile int ready, done; /* readers past step 2, past step 4 */
	volatile int phase;       /* the round whose call has returned */
	volatile int stop;        /* stress/bench: readers stop reading */
	volatile uint64_t stale[NR_OPS], stale_before; /* step 4's, and step 2's (an earlier round's entry) */
	volatile int cpu_used[64];
} ctl;

static struct thread readers[MAX_READERS];
static int reader_cpu[MAX_READERS];
static unsigned char stacks[MAX_READERS][STACK] __attribute__((aligned(16)));
static int nr_readers;
static bool one_cpu; /* main and the reader share a CPU */

/* *p = v (or +1), waking whoever sleeps on p. */
static void set_and_wake(volatile int *p, int v)
{
	__atomic_store_n(p, v, __ATOMIC_SEQ_CST);
	futex(p, FUTEX_WAKE, 1 << 30);
}

static void inc_and_wake(volatile int *p)
{
	__atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST);
	futex(p, FUTEX_WAKE, 1 << 30);
}

/* Sleep until *p == want (futex): a CPU with nothing to do halts instead of spinning. */
static void wait_for(volatile int *p, int want)
{
	int v;
	while ((v = *p) != want)
		futex(p, FUTEX_WAIT, v);
}

/*
 * Wait until *p == want without leaving the CPU: a reader between steps 2
 * and 4 stays the running task (a sleep would let the idle task run, and the
 * switch back would flush the TLB by generation: the test could then not
 * fail). wait_interrupt halts the CPU until the next tick or IPI without a
 * context switch. Shared with main on one CPU, it yields instead.
 */
static void spin_for(volatile int *p, int want)
{
	while (*p != want) {
		if (one_cpu)
			yield();
		else
			wait_interrupt();
	}
}

/* Steps 2 and 4 of one round, as seen by a reader. */
static void reader_round(int r)
{
	uint64_t a = ctl.addr, marker = ctl.marker;
	int op = ctl.op;

	/* step 2: not the marker just written? the old frame of an earlier remap, still in this TLB */
	if (uaccess_test((void *)a, 1) != (long)marker || (op == OP_MPROTECT && uaccess_write((void *)a, marker)))
		__atomic_add_fetch(&ctl.stale_before, 1, __ATOMIC_SEQ_CST);
	inc_and_wake(&ctl.ready);
	spin_for(&ctl.phase, r);
	bool stale = op == OP_MUNMAP   ? uaccess_test((void *)a, 1) != -EFAULT /* step 4 */
		   : op == OP_MPROTECT ? uaccess_write((void *)a, 0xdead) != -EFAULT
				       : uaccess_test((void *)a, 1) != (long)ctl.new_marker;
	if (stale)
		__atomic_add_fetch(&ctl.stale[op], 1, __ATOMIC_SEQ_CST);
	inc_and_wake(&ctl.done);
}

static int reader(void *arg)
{
	int k = (int)(long)arg, seen = 0;

	sched_setaffinity(0, 1ULL << reader_cpu[k]);
	ctl.cpu_used[getcpu() & 63] = 1;
	for (;;) {
		int r;
		while ((r = ctl.round) == seen)
			futex(&ctl.round, FUTEX_WAIT, r);
		if (r < 0)
			return 0;
		seen = r;
		reader_round(seen);
	}
}

/* Main's step 3: the call, then the round's new marker for remap. returns: 0, or the call's error. */
static long do_op(int op, uint64_t a, uint64_t marker)
{
	long err;

	if (op == OP_MUNMAP)
		return munmap((void *)a, PAGE);
	if (op == OP_MPROTECT) {
		err = mprotect((void *)a, PAGE, PROT_READ);
		return err;
	}
	err = mmap_fixed((void *)a, PAGE, PROT_READ | PROT_WRITE);
	if (err < 0)
		return err;
	ctl.new_marker = marker ^ 0xffffULL;
	*(volatile uint64_t *)a = ctl.new_marker;
	return 0;
}

/* One round (steps 1 and 3). mp, rm: the pages of the mprotect and remap rounds. */
static int main_round(int r, uint64_t mp, uint64_t rm)
{
	int op = r % NR_OPS;
	uint64_t a = op == OP_MPROTECT ? mp : rm, marker = 0x7b5e000000000000ULL | ((uint64_t)r << 8) | (uint64_t)op;

	if (op == OP_MUNMAP && (long)(a = (uint64_t)mmap_anon(PAGE, PROT_READ | PROT_WRITE)) < 0)
		return (int)a;
	if (op == OP_MPROTECT && mprotect((void *)a, PAGE, PROT_READ | PROT_WRITE))
		return -EINVAL;
	*(volatile uint64_t *)a = marker;                                      /* step 1 */
	ctl.ready = 0;
	ctl.done = 0;
	ctl.addr = a;
	ctl.op = op;
	ctl.marker = marker;
	set_and_wake(&ctl.round, r);
	wait_for(&ctl.ready, nr_readers);
	long err = do_op(op, a, marker);                                       /* step 3 */
	if (err)
		return (int)err;
	set_and_wake(&ctl.phase, r);
	wait_for(&ctl.done, nr_readers);
	return 0;
}

/* The CPUs this process may use: main on the first, a reader on each other (one reader if only one). */
static int setup_cpus(void)
{
	uint64_t mask = 0;
	int cpus[64], n = 0;

	if (sched_getaffinity(0, &mask) < 0 || !mask)
		mask = 1;
	for (int c = 0; c < 64; c++)
		if ((mask >> c) & 1)
			cpus[n++] = c;
	sched_setaffinity(0, 1ULL << cpus[0]);
	nr_readers = n > 1 ? (n - 1 < MAX_READERS ? n - 1 : MAX_READERS) : 1;
	one_cpu = n == 1;
	for (int k = 0; k < nr_readers; k++)
		reader_cpu[k] = n > 1 ? cpus[k + 1] : cpus[0];
	ctl.cpu_used[getcpu() & 63] = 1;
	return n;
}

static int start_readers(int (*fn)(void *))
{
	for (int k = 0; k < nr_readers; k++) {
		int tid = thread_create(&readers[k], fn, (void *)(long)k, stacks[k], STACK);
		if (tid < 0) {
			printf("tlbshoot: clone: %s\n", strerror(tid));
			return tid;
		}
	}
	return 0;
}

static void stop_readers(void)
{
	ctl.stop = 1;
	set_and_wake(&ctl.round, -1);
	for (int k = 0; k < nr_readers; k++)
		thread_join(&readers[k]);
}

static int cpus_used(void)
{
	int n = 0;
	for (int c = 0; c < 64; c++)
		n += ctl.cpu_used[c];
	return n;
}

static int rounds_main(int rounds)
{
	uint64_t mp = (uint64_t)mmap_anon(PAGE, PROT_READ | PROT_WRITE), rm = (uint64_t)mmap_anon(PAGE, PROT_READ | PROT_WRITE);
	int r, err = 0;

	if ((long)mp < 0 || (long)rm < 0 || start_readers(reader))
		return 2;
	for (r = 1; r <= rounds && !err; r++)
		err = main_round(r, mp, rm);
	stop_readers();
	if (err)
		printf("tlbshoot: round %d (%s): %s\n", r - 1, op_names[(r - 1) % NR_OPS], strerror(err));
	uint64_t s = ctl.stale[0] + ctl.stale[1] + ctl.stale[2] + ctl.stale_before;
	printf("tlbshoot: stale by operation: munmap %lu, mprotect %lu, remap %lu; before the call %lu\n",
	       (unsigned long)ctl.stale[0], (unsigned long)ctl.stale[1], (unsigned long)ctl.stale[2],
	       (unsigned long)ctl.stale_before);
	printf("tlbshoot: %d rounds on %d CPUs, %lu stale\n", r - 1, cpus_used(), (unsigned long)s);
	return err ? 2 : s ? 1 : 0;
}

/*
 * Stress and bench readers: read the page after every interrupt until told
 * to stop. They stay the running task of their CPU (wait_interrupt halts it
 * without a switch), so every flush of the page needs an IPI to them, and
 * their CPUs do not spin meanwhile.
 */
static int spinner(void *arg)
{
	int k = (int)(long)arg;
	volatile uint64_t *p = (volatile uint64_t *)ctl.addr;

	sched_setaffinity(0, 1ULL << reader_cpu[k]);
	ctl.cpu_used[getcpu() & 63] = 1;
	inc_and_wake(&ctl.ready);
	while (!ctl.stop) {
		(void)*p;
		if (one_cpu)
			yield();
		else
			wait_interrupt();
	}
	return 0;
}

static int stress_main(int seconds)
{
	uint64_t a = (uint64_t)mmap_anon(PAGE, PROT_READ | PROT_WRITE);
	uint64_t n = 0, t0, t1;

	*(volatile uint64_t *)a = 1;
	ctl.addr = a;
	if ((long)a < 0 || start_readers(spinner))
		return 2;
	wait_for(&ctl.ready, nr_readers);
	t0 = uptime_ms();
	for (t1 = t0; t1 - t0 < (uint64_t)seconds * 1000; t1 = uptime_ms(), n++)
		if (mprotect((void *)a, PAGE, n & 1 ? PROT_READ | PROT_WRITE : PROT_READ))
			break;
	stop_readers();
	uint64_t ms = t1 - t0 ? t1 - t0 : 1;
	printf("tlbshoot: stress: %lu mprotect calls (a shootdown each) in %lu ms: %lu per second, on %d CPUs\n",
	       (unsigned long)n, (unsigned long)ms, (unsigned long)(n * 1000 / ms), cpus_used());
	return 0;
}

/* The median TSC cycles of n (<= 256) mprotect flips of [a, a + pages): one call = one flush. */
static uint64_t flip_cycles(uint64_t a, int pages, int n)
{
	static uint64_t t[256];

	for (int i = 0; i < n; i++) {
		uint64_t t0 = rdtsc();
		mprotect((void *)a, (unsigned long)pages * PAGE, i & 1 ? PROT_READ | PROT_WRITE : PROT_READ);
		t[i] = rdtsc() - t0;
	}
	for (int i = 1; i < n; i++) /* insertion sort: n is small */
		for (int j = i; j > 0 && t[j - 1] > t[j]; j--) {
			uint64_t x = t[j];
			t[j] = t[j - 1];
			t[j - 1] = x;
		}
	return t[n / 2];
}

static int bench_main(void)
{
	uint64_t one = (uint64_t)mmap_anon(PAGE, PROT_READ | PROT_WRITE), many = (uint64_t)mmap_anon(64 * PAGE, PROT_READ | PROT_WRITE);

	for (int i = 0; i < 64; i++)
		((volatile uint64_t *)many)[i * PAGE / 8] = 1;
	*(volatile uint64_t *)one = 1;
	uint64_t local1 = flip_cycles(one, 1, 200), local64 = flip_cycles(many, 64, 200);
	ctl.addr = one;
	if (start_readers(spinner))
		return 2;
	wait_for(&ctl.ready, nr_readers);
	uint64_t remote1 = flip_cycles(one, 1, 200), remote64 = flip_cycles(many, 64, 200);
	stop_readers();
	printf("tlbshoot: bench: mprotect cycles (TSC, median): 1 page (INVLPG): %lu alone, %lu with %d remote CPUs; "
	       "64 pages (full flush): %lu alone, %lu with remote CPUs\n", (unsigned long)local1, (unsigned long)remote1,
	       cpus_used() - 1, (unsigned long)local64, (unsigned long)remote64);
	return 0;
}

int main(int argc, char **argv)
{
	int n = setup_cpus();

	if (argc > 2 && streq(argv[1], "-s"))
		return stress_main((int)atol(argv[2]));
	if (argc > 1 && streq(argv[1], "-b"))
		return bench_main();
	int rounds = argc > 1 ? (int)atol(argv[1]) : 300;
	printf("tlbshoot: %d rounds, main on CPU %d, %d reader%s (%d CPUs allowed)\n", rounds, getcpu(), nr_readers,
	       nr_readers == 1 ? "" : "s", n);
	return rounds_main(rounds > 0 ? rounds : 1);
}
