/*
 * kaslr.c: the decompressor's random kernel placement (Linux's
 * arch/x86/boot/compressed/kaslr.c in spirit): a random 2 MiB-aligned
 * physical slot in E820 RAM, clear of the decompressor and the boot data,
 * and a random 2 MiB-aligned virtual address inside the kernel image window
 * below the modules area. `kaslr_seed=N` makes both choices reproducible.
 */
#include <asm/console.h>
#include <asm/processor.h>
#include <lib/cmdline.h>
#include <paging/pg_env.h>

#include "misc.h"

#define SZ_4G 0x100000000ULL

/* One draw of 64 random bits from the splitmix64 sequence. */
static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static bool cpu_has_rdrand(void)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	return (c & (1u << 30)) != 0;
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* The i8254's channel 0 count: it runs at 1.19 MHz whatever the CPU does. */
static uint16_t i8254_read(void)
{
	outb(0x00, 0x43); /* latch channel 0 */
	uint8_t lo = inb(0x40), hi = inb(0x40);
	return (uint16_t)(lo | (hi << 8));
}

void kaslr_init(struct kaslr_rng *rng, const char *cmdline, const struct boot_params *bp)
{
	char value[24];
	uint64_t seed;

	memset(rng, 0, sizeof(*rng));
	if (cmdline_get_option(cmdline, "kaslr_seed", value, sizeof(value)) >= 0) {
		if (!parse_u64(value, &seed))
			panic("kaslr_seed=%s: not a number", value);
		rng->state = seed;
		rng->seeded = true;
		rng->source = "kaslr_seed";
		return;
	}
	/* Boot data differs between machines and boots a little: mix it in, as Linux does. */
	const unsigned char *bytes = (const unsigned char *)bp;
	for (unsigned int i = 0; i < sizeof(*bp); i++)
		rng->state = (rng->state << 7 | rng->state >> 57) ^ bytes[i];
	rng->rdrand = cpu_has_rdrand();
	rng->source = rng->rdrand ? "RDRAND and RDTSC" : "RDTSC and the i8254";
}

uint64_t kaslr_get_random_long(struct kaslr_rng *rng)
{
	if (!rng->seeded) {
		uint64_t raw = rdtsc();
		if (rng->rdrand) {
			for (int tries = 0; tries < 10; tries++) {
				uint64_t v;
				uint8_t ok;
				__asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok));
				if (ok) {
					raw ^= v;
					break;
				}
			}
		} else {
			raw ^= (uint64_t)i8254_read() << 32 | (uint64_t)i8254_read() << 48;
		}
		rng->state ^= raw;
	}
	return splitmix64(&rng->state);
}

struct slot_walk {
	const struct kaslr_avoid *avoid;
	unsigned int navoid;
	uint64_t size, wanted, count, found;
};

/* Visit every 2 MiB slot of RAM in [min, 4 GiB) that can hold size bytes clear of avoid[]. */
static void for_each_slot(const struct boot_params *bp, uint64_t min, struct slot_walk *w)
{
	for (unsigned int i = 0; i < bp->e820_entries && i < E820_MAX_ENTRIES_ZEROPAGE; i++) {
		const struct boot_e820_entry *e = &bp->e820_table[i];
		if (e->type != E820_TYPE_RAM)
			continue;
		uint64_t start = (e->addr < min ? min : e->addr), end = e->addr + e->size;
		start = (start + KERNEL_ALIGN - 1) & ~(uint64_t)(KERNEL_ALIGN - 1);
		if (end > SZ_4G)
			end = SZ_4G;
		for (uint64_t s = start; s + w->size <= end && s + w->size > s; s += KERNEL_ALIGN) {
			bool clear = true;
			for (unsigned int a = 0; a < w->navoid; a++)
				if (s < w->avoid[a].end && w->avoid[a].start < s + w->size)
					clear = false;
			if (!clear)
				continue;
			if (w->count == w->wanted)
				w->found = s;
			w->count++;
		}
	}
}

uint64_t kaslr_find_physical(const struct boot_params *bp, struct kaslr_rng *rng, uint64_t size,
			     const struct kaslr_avoid *avoid, unsigned int navoid, uint64_t *slots)
{
	struct slot_walk w = { avoid, navoid, size, ~0ULL, 0, 0 };

	for_each_slot(bp, LOAD_PHYSICAL_ADDR, &w); /* count them */
	*slots = w.count;
	if (!w.count)
		return 0;
	w.wanted = kaslr_get_random_long(rng) % w.count;
	w.count = 0;
	for_each_slot(bp, LOAD_PHYSICAL_ADDR, &w); /* take the chosen one */
	return w.found;
}

uint64_t kaslr_find_virtual(struct kaslr_rng *rng, uint64_t size, uint64_t *slots)
{
	uint64_t image = (size + KERNEL_ALIGN - 1) & ~(uint64_t)(KERNEL_ALIGN - 1);
	*slots = 1 + (KERNEL_IMAGE_SIZE - LOAD_PHYSICAL_ADDR - image) / KERNEL_ALIGN;
	return LOAD_PHYSICAL_ADDR + (kaslr_get_random_long(rng) % *slots) * KERNEL_ALIGN;
}
