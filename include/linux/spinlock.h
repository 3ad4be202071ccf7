/*
 * spinlock.h: spinlocks and the few atomic operations the SMP kernel needs
 * (Linux: include/linux/spinlock.h, arch/x86/include/asm/atomic64_64.h,
 * cmpxchg.h, barrier.h), on gcc's __atomic builtins.
 *
 * ptlab's kernel runs with interrupts off (IF = 0) everywhere but where it
 * idles, so a spinlock never needs to disable them. A CPU that spins for a
 * lock runs the cross-CPU calls addressed to it meanwhile (smp.c,
 * generic_smp_call_function_interrupt): a holder that waits for this CPU's
 * answer to a TLB shootdown is never left waiting for it (docs/smp.md,
 * "Interrupts off").
 */
#ifndef LINUX_SPINLOCK_H
#define LINUX_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
	volatile uint32_t locked;
	int owner;          /* the CPU holding it (-1: none), to catch a CPU taking it twice */
	const char *name;
} spinlock_t;

#define __SPIN_LOCK_UNLOCKED(n) { 0, -1, #n }
#define DEFINE_SPINLOCK(n) spinlock_t n = __SPIN_LOCK_UNLOCKED(n)

/*
 * spin_lock - take l, spinning (and answering cross-CPU calls) until it is free.
 * Precondition: interrupts off; this CPU does not hold l (a panic says so).
 */
void spin_lock(spinlock_t *l);
void spin_unlock(spinlock_t *l);
/* Take l if it is free. returns: true if taken. */
bool spin_trylock(spinlock_t *l);
/* Whether this CPU holds l. */
bool spin_is_mine(const spinlock_t *l);

/* Atomics (sequentially consistent: x86's locked instructions). */
#define atomic_read(p)          __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define atomic_set(p, v)        __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define atomic_inc_return(p)    __atomic_add_fetch((p), 1, __ATOMIC_SEQ_CST)
#define atomic_dec_return(p)    __atomic_sub_fetch((p), 1, __ATOMIC_SEQ_CST)
#define atomic_add(p, v)        ((void)__atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST))
#define atomic_or(p, v)         ((void)__atomic_or_fetch((p), (v), __ATOMIC_SEQ_CST))
#define atomic_and(p, v)        ((void)__atomic_and_fetch((p), (v), __ATOMIC_SEQ_CST))
#define atomic_xchg(p, v)       __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)

/* A full barrier (MFENCE), and the compiler-only one. */
#define smp_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define barrier() __asm__ volatile("" ::: "memory")

/*
 * In a spin loop. Not Linux's PAUSE: under QEMU's multi-threaded TCG every
 * PAUSE leaves the vCPU's execution loop and takes QEMU's global lock, so a
 * CPU spinning on PAUSE starves the other vCPUs of that lock, and their
 * interrupts (the IPIs it waits for) with it. A compiler barrier suffices.
 */
static inline void cpu_relax(void)
{
	barrier();
}

#endif /* LINUX_SPINLOCK_H */
