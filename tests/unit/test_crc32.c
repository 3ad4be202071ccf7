/*
 * test_crc32.c: unit tests for lib/crc32.c (crc32_le, zlib semantics).
 *
 * Oracles: published check values; an independent bit-at-a-time reference
 * implemented here; and zlib's own crc32(), loaded at run time with dlopen
 * ("libz.so.1", present on every Debian system) so that no link flag is
 * needed -- that test is skipped if the library cannot be loaded.
 *
 * Dependencies: Criterion, the host C library (dlopen).
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crc32.h"

/* Bitwise reference: reflected CRC-32, polynomial 0xEDB88320. */
static uint32_t crc_ref(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static uint64_t rs = 0x0123456789abcdefull;

static uint8_t rnd8(void)
{
	rs = rs * 6364136223846793005ull + 1442695040888963407ull;
	return (uint8_t)(rs >> 56);
}

Test(crc32, known_vectors)
{
	static const struct { const char *s; uint32_t crc; } v[] = {
		{ "", 0x00000000u },
		{ "a", 0xe8b7be43u },
		{ "abc", 0x352441c2u },
		{ "123456789", 0xcbf43926u },
		{ "message digest", 0x20159d7fu },
		{ "abcdefghijklmnopqrstuvwxyz", 0x4c2750bdu },
		{ "The quick brown fox jumps over the lazy dog", 0x414fa339u },
	};
	uint8_t zeros[32] = { 0 }, ones[32];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		cr_assert_eq(crc32_le(0, v[i].s, strlen(v[i].s)), v[i].crc, "\"%s\"", v[i].s);
	memset(ones, 0xff, sizeof(ones));
	cr_assert_eq(crc32_le(0, zeros, 32), 0x190a55adu);
	cr_assert_eq(crc32_le(0, ones, 32), 0xff6cab0bu);
	cr_assert_eq(crc32_le(0, NULL, 0), 0);
	cr_assert_eq(crc32_le(0x12345678u, NULL, 0), 0x12345678u);
}

Test(crc32, chaining_every_split)
{
	uint8_t buf[300];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = rnd8();
	uint32_t whole = crc32_le(0, buf, sizeof(buf));

	cr_assert_eq(whole, crc_ref(0, buf, sizeof(buf)));
	for (size_t a = 0; a <= sizeof(buf); a++) {
		cr_assert_eq(crc32_le(crc32_le(0, buf, a), buf + a, sizeof(buf) - a), whole, "split %zu", a);
		for (size_t b = a; b <= sizeof(buf); b += 37) {
			uint32_t c = crc32_le(0, buf, a);

			c = crc32_le(c, buf + a, b - a);
			c = crc32_le(c, buf + b, sizeof(buf) - b);
			cr_assert_eq(c, whole, "splits %zu %zu", a, b);
		}
	}
	/* byte by byte */
	uint32_t c = 0;

	for (size_t i = 0; i < sizeof(buf); i++)
		c = crc32_le(c, buf + i, 1);
	cr_assert_eq(c, whole);
}

Test(crc32, random_against_bitwise_reference)
{
	for (int it = 0; it < 2000; it++) {
		size_t n = (size_t)rnd8() * (it % 4 + 1) + (it % 3);
		uint8_t *p = malloc(n ? n : 1);   /* exact size: ASan checks the reads */
		uint32_t seed = it % 2 ? 0 : (uint32_t)rnd8() << 24 | rnd8();

		cr_assert_not_null(p);
		for (size_t i = 0; i < n; i++)
			p[i] = rnd8();
		cr_assert_eq(crc32_le(seed, p, n), crc_ref(seed, p, n), "n=%zu", n);
		/* unaligned starts */
		if (n > 3)
			cr_assert_eq(crc32_le(seed, p + 3, n - 3), crc_ref(seed, p + 3, n - 3));
		free(p);
	}
}

Test(crc32, against_zlib)
{
	typedef unsigned long (*zcrc_t)(unsigned long, const unsigned char *, unsigned int);
	void *lib = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
	zcrc_t zcrc;
	static uint8_t big[1 << 20];

	/* zlib1g is essential in Debian: its absence is a broken machine, not a reason to skip */
	cr_assert_not_null(lib, "libz.so.1 not loadable: %s", dlerror());
	zcrc = (zcrc_t)(uintptr_t)dlsym(lib, "crc32");
	cr_assert_not_null(zcrc);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = rnd8();
	for (int it = 0; it < 1000; it++) {
		size_t off = rnd8(), n = ((size_t)rnd8() << 8 | rnd8()) % 5000;
		uint32_t seed = it % 3 ? 0 : (uint32_t)rnd8() << 16 | rnd8();

		cr_assert_eq(crc32_le(seed, big + off, n), (uint32_t)zcrc(seed, big + off, (unsigned)n),
			     "off %zu n %zu seed %08x", off, n, seed);
	}
	cr_assert_eq(crc32_le(0, big, sizeof(big)), (uint32_t)zcrc(0, big, sizeof(big)));
	dlclose(lib);
}
