/*
 * kaslr.c: KASLR's random numbers (see asm/kaslr.h), compiled into the
 * decompressor and into the kernel, as Linux's arch/x86/lib/kaslr.c.
 * `kaslr_seed=N` makes every draw reproducible; otherwise the state is
 * mixed from boot_params and each draw adds RDRAND and RDTSC, or RDTSC and
 * the i8254's count where there is no RDRAND.
 */
#include <asm/console.h>
#include <asm/kaslr.h>
#include <asm/processor.h>
#include <lib/cmdline.h>
#include <paging/pg_env.h>

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
