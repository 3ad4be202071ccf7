/*
 * test_unlz4.c: unit tests for lib/decompress_unlz4.c (LZ4 legacy frames).
 *
 * Oracle: liblz4 (LZ4_compress_default / LZ4_compress_HC build the blocks, and
 * LZ4_decompress_safe cross-checks corrupted blocks) and the Debian `lz4` CLI
 * (`lz4 -l`) for real files. Every decompression reads from an exactly-sized
 * heap copy of the input and writes to an exactly-sized heap buffer, so ASan
 * catches any out-of-bounds access; a second pass writes into a larger buffer
 * with out_cap set short and checks the guard bytes beyond out_cap.
 *
 * Dependencies: Criterion, liblz4, the lz4 CLI, tests/unit/data/fixture.txt{,.lz4}.
 */
#include <criterion/criterion.h>
#include <lz4.h>
#include <lz4hc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/unlz4.h"

#define MAGIC UNLZ4_LEGACY_MAGIC
#define BLOCK_MAX ((size_t)UNLZ4_LEGACY_BLOCK_MAX)
#define GUARD 64
#define GUARD_BYTE 0xA5

/* ---- helpers ------------------------------------------------------------ */

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic across runs (fixed seeds below). */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void buf_put(struct buf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		cr_assert_not_null(b->p);
	}
	if (n)
		memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void buf_le32(struct buf *b, uint32_t v)
{
	uint8_t le[4] = { v, v >> 8, v >> 16, v >> 24 };

	buf_put(b, le, 4);
}

enum kind { K_RANDOM, K_ZEROS, K_TEXT, K_MIXED, K_RUNS };

static uint8_t *gen(enum kind k, size_t n, uint64_t seed)
{
	static const char *words[] = { "page", "table", "entry", "the", "kernel", "PML4",
		"present", "writable", "huge", "0x1000", " ", "\n", "mapping", "cr3", "boot" };
	uint8_t *p = malloc(n ? n : 1);
	size_t i = 0;

	cr_assert_not_null(p);
	rng_state = seed | 1;
	while (i < n) {
		switch (k) {
		case K_RANDOM:
			p[i++] = (uint8_t)rng();
			break;
		case K_ZEROS:
			p[i++] = 0;
			break;
		case K_TEXT: {
			const char *w = words[rng() % (sizeof(words) / sizeof(words[0]))];
			for (size_t j = 0; w[j] && i < n; j++)
				p[i++] = (uint8_t)w[j];
			if (i < n)
				p[i++] = ' ';
			break;
		}
		case K_MIXED: {
			size_t run = 1 + rng() % 300, mode = rng() % 3;
			uint8_t c = (uint8_t)rng();
			for (size_t j = 0; j < run && i < n; j++, i++)
				p[i] = mode == 0 ? (uint8_t)rng() : mode == 1 ? c :
				       (i >= 64 ? p[i - 1 - rng() % 64] : c);
			break;
		}
		case K_RUNS: {
			/* short periods: exercises overlapping matches (offset < length) */
			size_t period = 1 + rng() % 7, run = 1 + rng() % 5000;
			uint8_t pat[8];
			for (size_t j = 0; j < 8; j++)
				pat[j] = (uint8_t)rng();
			for (size_t j = 0; j < run && i < n; j++, i++)
				p[i] = pat[j % period];
			break;
		}
		}
	}
	return p;
}

/* Compress one block with liblz4 and append it (size header + data) to f. */
static void put_block(struct buf *f, const uint8_t *d, size_t n, int hc)
{
	int bound = LZ4_compressBound((int)n);
	char *c = malloc((size_t)bound + 1);
	int clen;

	cr_assert_not_null(c);
	clen = hc ? LZ4_compress_HC((const char *)d, c, (int)n, bound, LZ4HC_CLEVEL_MAX)
		  : LZ4_compress_default((const char *)d, c, (int)n, bound);
	cr_assert_gt(clen, 0, "liblz4 failed to compress %zu bytes", n);
	buf_le32(f, (uint32_t)clen);
	buf_put(f, c, (size_t)clen);
	free(c);
}

/* A legacy frame of d[0..n) split into blocks of at most `bsize` bytes. */
static struct buf make_frame(const uint8_t *d, size_t n, size_t bsize, int hc)
{
	struct buf f = { 0 };

	buf_le32(&f, MAGIC);
	for (size_t off = 0; off < n; off += bsize)
		put_block(&f, d + off, n - off < bsize ? n - off : bsize, hc);
	return f;
}

/*
 * Decompress `in` (copied to an exactly-sized heap buffer) into an
 * exactly-sized heap buffer of out_cap bytes. Returns the error code; the
 * output (caller frees) and its length go to *outp / *out_len.
 */
static int run_exact(const uint8_t *in, size_t in_len, size_t out_cap, uint8_t **outp,
		     size_t *out_len)
{
	uint8_t *inc = malloc(in_len ? in_len : 1), *out = malloc(out_cap ? out_cap : 1);
	int rc;

	cr_assert(inc && out);
	if (in_len)
		memcpy(inc, in, in_len);
	*out_len = (size_t)-1;
	rc = unlz4(inc, in_len, out, out_cap, out_len);
	cr_assert_leq(*out_len, out_cap);
	free(inc);
	*outp = out;
	return rc;
}

/* Same, but out_cap is followed by GUARD bytes that must stay untouched. */
static int run_guarded(const uint8_t *in, size_t in_len, size_t out_cap, size_t *out_len)
{
	uint8_t *inc = malloc(in_len ? in_len : 1), *out = malloc(out_cap + GUARD);
	int rc;

	cr_assert(inc && out);
	if (in_len)
		memcpy(inc, in, in_len);
	memset(out, GUARD_BYTE, out_cap + GUARD);
	rc = unlz4(inc, in_len, out, out_cap, out_len);
	for (size_t i = 0; i < GUARD; i++)
		cr_assert_eq(out[out_cap + i], GUARD_BYTE, "write past out_cap at +%zu", i);
	cr_assert_leq(*out_len, out_cap);
	free(inc);
	free(out);
	return rc;
}

static int is_error_code(int rc)
{
	return rc == UNLZ4_EMAGIC || rc == UNLZ4_ETRUNC || rc == UNLZ4_EOVERFLOW ||
	       rc == UNLZ4_EOFFSET || rc == UNLZ4_EBLOCKSIZE || rc == UNLZ4_ETRAILING;
}

/* Round-trip d[0..n): exact buffer succeeds; one byte short overflows. */
static void roundtrip(const uint8_t *d, size_t n, size_t bsize, int hc)
{
	struct buf f = make_frame(d, n, bsize, hc);
	uint8_t *out;
	size_t olen;
	int rc = run_exact(f.p, f.len, n, &out, &olen);

	cr_assert_eq(rc, 0, "n=%zu bsize=%zu hc=%d: %s", n, bsize, hc, unlz4_strerror(rc));
	cr_assert_eq(olen, n);
	cr_assert(n == 0 || memcmp(out, d, n) == 0, "n=%zu: output differs", n);
	free(out);
	if (n > 0) {
		rc = run_exact(f.p, f.len, n - 1, &out, &olen);
		cr_assert_eq(rc, UNLZ4_EOVERFLOW, "n=%zu cap-1: rc=%d", n, rc);
		free(out);
		cr_assert_eq(run_guarded(f.p, f.len, n - 1, &olen), UNLZ4_EOVERFLOW);
	}
	free(f.p);
}

/* ---- round trips ---------------------------------------------------------- */

static const size_t sizes[] = { 0, 1, 2, 3, 4, 5, 12, 13, 15, 16, 17, 64, 255, 256, 270, 1000,
				4096, 4097, 65535, 65536, 65537, 100000, 1u << 20 };

Test(unlz4, roundtrip_all_kinds_and_sizes)
{
	for (int k = K_RANDOM; k <= K_RUNS; k++)
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			for (int hc = 0; hc <= 1; hc++) {
				uint8_t *d = gen((enum kind)k, sizes[i], 1000 + i * 7 + (size_t)k);
				roundtrip(d, sizes[i], BLOCK_MAX, hc);
				free(d);
			}
}

Test(unlz4, roundtrip_small_blocks)
{
	/* many independent small blocks in one stream */
	for (int k = K_RANDOM; k <= K_RUNS; k++) {
		uint8_t *d = gen((enum kind)k, 200000, 77 + (size_t)k);
		roundtrip(d, 200000, 4096, 0);
		roundtrip(d, 200000, 1, 0);
		roundtrip(d, 200000, 12345, 1);
		free(d);
	}
}

Test(unlz4, roundtrip_multiblock_over_8mib, .timeout = 120)
{
	size_t n = 2 * BLOCK_MAX + 12345;
	uint8_t *d = gen(K_MIXED, n, 4242);

	roundtrip(d, n, BLOCK_MAX, 0);
	free(d);
}

Test(unlz4, full_8mib_block_of_zeros)
{
	uint8_t *d = gen(K_ZEROS, BLOCK_MAX, 1);

	roundtrip(d, BLOCK_MAX, BLOCK_MAX, 0);
	free(d);
}

Test(unlz4, empty_stream_and_null_out_len)
{
	uint8_t magic[4] = { 0x02, 0x21, 0x4c, 0x18 };
	uint8_t out[1] = { 0x55 };
	size_t olen = 99;

	cr_assert_eq(unlz4(magic, 4, out, 0, &olen), 0);
	cr_assert_eq(olen, 0);
	cr_assert_eq(unlz4(magic, 4, NULL, 0, NULL), 0);
	cr_assert_eq(out[0], 0x55);
}

Test(unlz4, concatenated_streams)
{
	uint8_t *a = gen(K_TEXT, 5000, 1), *b = gen(K_RANDOM, 3000, 2);
	struct buf fa = make_frame(a, 5000, BLOCK_MAX, 0), fb = make_frame(b, 3000, 1000, 1);
	struct buf all = { 0 };
	uint8_t *out;
	size_t olen;

	buf_put(&all, fa.p, fa.len);
	buf_put(&all, fb.p, fb.len);
	buf_put(&all, fb.p, 4);          /* a third, empty stream: just the magic */
	cr_assert_eq(run_exact(all.p, all.len, 8000, &out, &olen), 0);
	cr_assert_eq(olen, 8000);
	cr_assert(memcmp(out, a, 5000) == 0 && memcmp(out + 5000, b, 3000) == 0);
	free(out);
	free(a), free(b), free(fa.p), free(fb.p), free(all.p);
}

/* ---- the real lz4 CLI --------------------------------------------------- */

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *p;
	long n;

	cr_assert_not_null(fp, "cannot open %s", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	p = malloc(n ? (size_t)n : 1);
	cr_assert_not_null(p);
	cr_assert_eq(fread(p, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return p;
}

static void check_file_pair(const char *plain, const char *lz)
{
	size_t plen, zlen, olen;
	uint8_t *p = slurp(plain, &plen), *z = slurp(lz, &zlen), *out;

	cr_assert_eq(run_exact(z, zlen, plen, &out, &olen), 0, "%s", lz);
	cr_assert_eq(olen, plen);
	cr_assert(memcmp(out, p, plen) == 0, "%s: output differs", lz);
	free(out);
	if (plen) {
		cr_assert_eq(run_exact(z, zlen, plen - 1, &out, &olen), UNLZ4_EOVERFLOW);
		free(out);
	}
	free(p);
	free(z);
}

/* The fixture path is relative to the repository root (where make runs tests). */
static char *data_path(const char *name)
{
	static char path[512];
	const char *f = __FILE__, *slash = strrchr(f, '/');

	snprintf(path, sizeof(path), "%.*sdata/%s", slash ? (int)(slash - f + 1) : 0, f, name);
	return path;
}

Test(unlz4, committed_fixture)
{
	char plain[512];

	snprintf(plain, sizeof(plain), "%s", data_path("fixture.txt"));
	check_file_pair(plain, data_path("fixture.txt.lz4"));
}

Test(unlz4, lz4_cli_legacy_files, .timeout = 120)
{
	char dir[200], cmd[1400], plain[256], lz[256];
	const char *tmp = getenv("TMPDIR");
	struct { enum kind k; size_t n; } cases[] = {
		{ K_TEXT, 0 }, { K_TEXT, 1 }, { K_RANDOM, 4096 }, { K_TEXT, 1u << 20 },
		{ K_MIXED, BLOCK_MAX + 1 }, { K_RUNS, BLOCK_MAX * 2 + 777 },
	};

	snprintf(dir, sizeof(dir), "%s/ptlab-unlz4-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *d = gen(cases[i].k, cases[i].n, 900 + i);
		FILE *fp;

		snprintf(plain, sizeof(plain), "%s/in%zu", dir, i);
		snprintf(lz, sizeof(lz), "%s/in%zu.lz4", dir, i);
		fp = fopen(plain, "wb");
		cr_assert_not_null(fp);
		cr_assert_eq(fwrite(d, 1, cases[i].n, fp), cases[i].n);
		fclose(fp);
		free(d);
		for (int level = 1; level <= 9; level += 8) {
			snprintf(cmd, sizeof(cmd), "lz4 -l -q -f -%d '%s' '%s'", level, plain, lz);
			cr_assert_eq(system(cmd), 0, "%s", cmd);
			check_file_pair(plain, lz);
		}
	}
	/* `cat a.lz4 b.lz4` is a valid concatenated legacy stream */
	snprintf(cmd, sizeof(cmd), "cd '%s' && cat in2 in3 > cat && cat in2.lz4 in3.lz4 > cat.lz4", dir);
	cr_assert_eq(system(cmd), 0);
	snprintf(plain, sizeof(plain), "%s/cat", dir);
	snprintf(lz, sizeof(lz), "%s/cat.lz4", dir);
	check_file_pair(plain, lz);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

/* ---- hand-made streams: each error ---------------------------------------- */

static int run_bytes(const uint8_t *block, size_t blen, size_t out_cap, size_t *olen)
{
	struct buf f = { 0 };
	uint8_t *out;
	int rc;

	buf_le32(&f, MAGIC);
	buf_le32(&f, (uint32_t)blen);
	buf_put(&f, block, blen);
	rc = run_exact(f.p, f.len, out_cap, &out, olen);
	free(out);
	free(f.p);
	return rc;
}

Test(unlz4, bad_magic)
{
	uint8_t s[] = { 0x02, 0x21, 0x4c, 0x18, 1, 0, 0, 0, 0x10, 'x' };
	uint8_t *out;
	size_t olen;

	for (size_t i = 0; i < 4; i++) {
		s[i] ^= 0x40;
		cr_assert_eq(run_exact(s, sizeof(s), 16, &out, &olen), UNLZ4_EMAGIC);
		free(out);
		s[i] ^= 0x40;
	}
	/* the modern frame magic is not accepted */
	uint8_t modern[] = { 0x04, 0x22, 0x4d, 0x18, 0, 0, 0, 0 };
	cr_assert_eq(run_exact(modern, sizeof(modern), 16, &out, &olen), UNLZ4_EMAGIC);
	free(out);
	for (size_t n = 0; n < 4; n++) {
		cr_assert_eq(run_exact(s, n, 16, &out, &olen), UNLZ4_EMAGIC);
		free(out);
	}
}

Test(unlz4, literal_only_block)
{
	uint8_t b[] = { 0x30, 'a', 'b', 'c' };
	size_t olen;

	cr_assert_eq(run_bytes(b, sizeof(b), 3, &olen), 0);
	cr_assert_eq(olen, 3);
	cr_assert_eq(run_bytes(b, sizeof(b), 2, &olen), UNLZ4_EOVERFLOW);
}

Test(unlz4, zero_offset)
{
	/* literal 'a', match offset 0 len 4, final literal 'b' */
	uint8_t b[] = { 0x10, 'a', 0, 0, 0x10, 'b' };
	size_t olen;

	cr_assert_eq(run_bytes(b, sizeof(b), 100, &olen), UNLZ4_EOFFSET);
	cr_assert_eq(olen, 1);
}

Test(unlz4, offset_before_start)
{
	uint8_t b[] = { 0x10, 'a', 2, 0, 0x10, 'b' };
	uint8_t ok[] = { 0x10, 'a', 1, 0, 0x10, 'b' };   /* offset 1 = 'a' x4 */
	uint8_t big[] = { 0x00, 0xff, 0xff, 0x10, 'b' }; /* no literals, offset 65535 */
	size_t olen;

	cr_assert_eq(run_bytes(b, sizeof(b), 100, &olen), UNLZ4_EOFFSET);
	cr_assert_eq(run_bytes(big, sizeof(big), 100, &olen), UNLZ4_EOFFSET);
	cr_assert_eq(run_bytes(ok, sizeof(ok), 6, &olen), 0);
	cr_assert_eq(olen, 6);
}

Test(unlz4, match_into_previous_block_rejected)
{
	/* block 1: "abcd"; block 2: match offset 4 (would reach block 1) */
	uint8_t s[] = { 0x02, 0x21, 0x4c, 0x18, 5, 0, 0, 0, 0x40, 'a', 'b', 'c', 'd',
			5, 0, 0, 0, 0x00, 4, 0, 0x10, 'x' };
	uint8_t *out;
	size_t olen;

	cr_assert_eq(run_exact(s, sizeof(s), 100, &out, &olen), UNLZ4_EOFFSET);
	cr_assert_eq(olen, 4);
	free(out);
}

Test(unlz4, overlapping_matches_every_offset_and_length)
{
	/* literals "0123456789", match (off, len), final literal 'Z' */
	for (unsigned off = 1; off <= 10; off++)
		for (unsigned len = 4; len <= 300; len++) {
			uint8_t b[32], expect[400];
			size_t bl = 0, olen, n = 0;
			uint8_t *out;
			struct buf f = { 0 };

			b[bl++] = (uint8_t)(0xA0 | (len - 4 < 15 ? len - 4 : 15));
			memcpy(b + bl, "0123456789", 10);
			bl += 10;
			b[bl++] = (uint8_t)off;
			b[bl++] = 0;
			if (len - 4 >= 15) {
				size_t rest = len - 4 - 15;
				while (rest >= 255) {
					b[bl++] = 255;
					rest -= 255;
				}
				b[bl++] = (uint8_t)rest;
			}
			b[bl++] = 0x10;
			b[bl++] = 'Z';
			memcpy(expect, "0123456789", 10);
			n = 10;
			for (unsigned i = 0; i < len; i++, n++)
				expect[n] = expect[n - off];
			expect[n++] = 'Z';

			buf_le32(&f, MAGIC);
			buf_le32(&f, (uint32_t)bl);
			buf_put(&f, b, bl);
			cr_assert_eq(run_exact(f.p, f.len, n, &out, &olen), 0, "off=%u len=%u", off, len);
			cr_assert_eq(olen, n);
			cr_assert(memcmp(out, expect, n) == 0, "off=%u len=%u", off, len);
			free(out);
			/* and the same output truncated by one byte */
			cr_assert_eq(run_guarded(f.p, f.len, n - 1, &olen), UNLZ4_EOVERFLOW);
			free(f.p);
		}
}

Test(unlz4, truncated_sequences)
{
	size_t olen;
	/* literal length says 5, only 3 present */
	uint8_t lit_short[] = { 0x50, 'a', 'b', 'c' };
	/* literal length continuation byte missing */
	uint8_t lit_cont[] = { 0xF0 };
	/* continuation present but the 300 literals are not */
	uint8_t lit_cont2[] = { 0xF0, 255, 30, 'x' };
	/* offset cut in half */
	uint8_t off_half[] = { 0x10, 'a', 1 };
	/* match length continuation missing */
	uint8_t mlen_cont[] = { 0x1F, 'a', 1, 0 };
	/* block ends right after a match (last sequence must be literals) */
	uint8_t ends_match[] = { 0x10, 'a', 1, 0 };
	/* empty block */
	uint8_t empty[1];

	cr_assert_eq(run_bytes(lit_short, sizeof(lit_short), 100, &olen), UNLZ4_ETRUNC);
	cr_assert_eq(run_bytes(lit_cont, sizeof(lit_cont), 100, &olen), UNLZ4_ETRUNC);
	cr_assert_eq(run_bytes(lit_cont2, sizeof(lit_cont2), 1000, &olen), UNLZ4_ETRUNC);
	cr_assert_eq(run_bytes(off_half, sizeof(off_half), 100, &olen), UNLZ4_ETRUNC);
	cr_assert_eq(run_bytes(mlen_cont, sizeof(mlen_cont), 100, &olen), UNLZ4_ETRUNC);
	cr_assert_eq(run_bytes(ends_match, sizeof(ends_match), 100, &olen), UNLZ4_ETRUNC);
	cr_assert_eq(olen, 5);
	cr_assert_eq(run_bytes(empty, 0, 100, &olen), UNLZ4_ETRUNC);
}

Test(unlz4, block_size_limits)
{
	uint8_t *out;
	size_t olen;
	struct buf f = { 0 };

	/* a compressed size beyond the LZ4 bound of 8 MiB: rejected before reading */
	buf_le32(&f, MAGIC);
	buf_le32(&f, (uint32_t)(BLOCK_MAX + BLOCK_MAX / 255 + 17));
	cr_assert_eq(run_exact(f.p, f.len, 100, &out, &olen), UNLZ4_EBLOCKSIZE);
	free(out);
	free(f.p);

	/* a small block decoding to 8 MiB (+1): "a", match off 1, literals "bcde" */
	for (int extra = 0; extra <= 1; extra++) {
		struct buf b = { 0 }, g = { 0 };
		size_t mlen = BLOCK_MAX - 5 + (size_t)extra, rest = mlen - 4 - 15;
		uint8_t t = 0x1F, z = 255;

		buf_put(&b, &t, 1);
		buf_put(&b, "a", 1);
		buf_put(&b, "\x01\x00", 2);
		while (rest >= 255) {
			buf_put(&b, &z, 1);
			rest -= 255;
		}
		z = (uint8_t)rest;
		buf_put(&b, &z, 1);
		t = 0x40;
		buf_put(&b, &t, 1);
		buf_put(&b, "bcde", 4);
		buf_le32(&g, MAGIC);
		buf_le32(&g, (uint32_t)b.len);
		buf_put(&g, b.p, b.len);
		/* output room for 2 blocks: the block limit, not the buffer, is hit */
		int rc = run_exact(g.p, g.len, 2 * BLOCK_MAX, &out, &olen);
		if (extra) {
			cr_assert_eq(rc, UNLZ4_EBLOCKSIZE, "rc=%d", rc);
		} else {
			cr_assert_eq(rc, 0, "rc=%d", rc);
			cr_assert_eq(olen, BLOCK_MAX);
			cr_assert_eq(out[0], 'a');
			cr_assert_eq(out[BLOCK_MAX - 5], 'a');
			cr_assert(memcmp(out + BLOCK_MAX - 4, "bcde", 4) == 0);
		}
		free(out);
		/* with a small buffer it is the buffer that overflows */
		cr_assert_eq(run_exact(g.p, g.len, 1000, &out, &olen), UNLZ4_EOVERFLOW);
		free(out);
		free(b.p);
		free(g.p);
	}
}

Test(unlz4, trailing_garbage)
{
	uint8_t *d = gen(K_TEXT, 1000, 5), *out;
	struct buf f = make_frame(d, 1000, BLOCK_MAX, 0);
	size_t base = f.len, olen;

	for (size_t extra = 1; extra <= 3; extra++) {
		buf_put(&f, "\x01\x02\x03", 1);
		cr_assert_eq(run_exact(f.p, f.len, 1000, &out, &olen), UNLZ4_ETRAILING);
		cr_assert_eq(olen, 1000);
		cr_assert(memcmp(out, d, 1000) == 0);
		free(out);
	}
	cr_assert_eq(f.len, base + 3);
	free(d);
	free(f.p);
}

Test(unlz4, strerror_distinct)
{
	int codes[] = { 0, UNLZ4_EMAGIC, UNLZ4_ETRUNC, UNLZ4_EOVERFLOW, UNLZ4_EOFFSET,
			UNLZ4_EBLOCKSIZE, UNLZ4_ETRAILING };
	const char *unknown = unlz4_strerror(-1000);

	cr_assert_not_null(unknown);
	cr_assert_str_eq(unlz4_strerror(123), unknown);
	for (size_t i = 0; i < 7; i++) {
		cr_assert(codes[i] <= 0);
		cr_assert_not_null(unlz4_strerror(codes[i]));
		cr_assert_str_neq(unlz4_strerror(codes[i]), unknown);
		for (size_t j = 0; j < i; j++)
			cr_assert_str_neq(unlz4_strerror(codes[i]), unlz4_strerror(codes[j]));
	}
}

/* ---- corrupt input -------------------------------------------------------- */

Test(unlz4, every_truncation)
{
	uint8_t *d = gen(K_MIXED, 3000, 11), *out;
	/* blocks of 1000 bytes so that some truncations fall on block boundaries */
	struct buf f = make_frame(d, 3000, 1000, 0);
	size_t bounds[4], nb = 0, pos = 4, olen;

	while (pos < f.len) {
		uint32_t c = f.p[pos] | f.p[pos + 1] << 8 | f.p[pos + 2] << 16 | (uint32_t)f.p[pos + 3] << 24;
		pos += 4 + c;
		bounds[nb++] = pos;
	}
	cr_assert_eq(nb, 3);
	for (size_t n = 0; n <= f.len; n++) {
		int rc = run_exact(f.p, n, 3000, &out, &olen);
		size_t whole = 0, last = 4;

		for (size_t b = 0; b < nb; b++)
			if (bounds[b] <= n)
				whole = b + 1, last = bounds[b];
		if (n < 4)
			cr_assert_eq(rc, UNLZ4_EMAGIC, "n=%zu", n);
		else if (n == last)
			cr_assert_eq(rc, 0, "n=%zu", n);
		else if (n - last < 4)
			cr_assert_eq(rc, UNLZ4_ETRAILING, "n=%zu", n);
		else
			cr_assert_eq(rc, UNLZ4_ETRUNC, "n=%zu rc=%d", n, rc);
		if (n >= 4) {
			cr_assert_eq(olen, whole * 1000, "n=%zu", n);
			cr_assert(memcmp(out, d, olen) == 0);
		}
		free(out);
	}
	free(d);
	free(f.p);
}

/* Flip 1-4 random bytes of a frame; the decoder must not crash or stray. */
static void flip_test(enum kind k, size_t n, size_t bsize, unsigned iters, uint64_t seed)
{
	uint8_t *d = gen(k, n, seed), *c, *out;
	struct buf f = make_frame(d, n, bsize, (int)(seed & 1));
	uint64_t st = seed * 0x9E3779B97F4A7C15ULL + 1;
	unsigned ok = 0, errs = 0;

	c = malloc(f.len);
	cr_assert_not_null(c);
	for (unsigned it = 0; it < iters; it++) {
		size_t olen, olen2, cap;
		int rc, rc2;

		memcpy(c, f.p, f.len);
		rng_state = st;
		for (uint64_t nf = 1 + rng() % 4; nf; nf--) {
			size_t at = rng() % f.len;
			c[at] ^= (uint8_t)(1 + rng() % 255);
		}
		/* keep the magic intact most of the time so the blocks get decoded */
		if (rng() % 8)
			memcpy(c, f.p, 4);
		cap = n + (rng() % 2 ? 0 : rng() % 64);
		st = rng_state;

		rc = run_exact(c, f.len, cap, &out, &olen);
		cr_assert(rc == 0 || is_error_code(rc), "iter %u: rc=%d", it, rc);
		free(out);
		rc2 = run_guarded(c, f.len, cap, &olen2);
		cr_assert_eq(rc2, rc);
		cr_assert_eq(olen2, olen);
		rc == 0 ? ok++ : errs++;
	}
	cr_log_info("flips kind=%d n=%zu: %u decoded, %u rejected", k, n, ok, errs);
	free(c);
	free(d);
	free(f.p);
}

Test(unlz4, random_byte_flips, .timeout = 120)
{
	flip_test(K_TEXT, 2000, BLOCK_MAX, 3000, 1);
	flip_test(K_MIXED, 5000, 1500, 3000, 2);
	flip_test(K_RUNS, 4000, BLOCK_MAX, 2000, 3);
	flip_test(K_RANDOM, 300, 100, 2000, 4);
}

/*
 * Differential: flip bytes inside one raw block; whenever liblz4's safe
 * decoder accepts the block, ours must produce the same bytes.
 */
Test(unlz4, differential_against_liblz4)
{
	uint8_t *d = gen(K_MIXED, 4000, 99);
	int bound = LZ4_compressBound(4000);
	char *blk = malloc((size_t)bound), *mut = malloc((size_t)bound);
	uint8_t *ref = malloc(4000), *out;
	int clen = LZ4_compress_default((const char *)d, blk, 4000, bound);
	unsigned agreed = 0, zero_off = 0;

	cr_assert_gt(clen, 0);
	rng_state = 12345;
	for (int it = 0; it < 5000; it++) {
		struct buf f = { 0 };
		size_t olen;
		int rl, rc;

		memcpy(mut, blk, (size_t)clen);
		mut[rng() % (size_t)clen] ^= (char)(1 + rng() % 255);
		rl = LZ4_decompress_safe(mut, (char *)ref, clen, 4000);
		buf_le32(&f, MAGIC);
		buf_le32(&f, (uint32_t)clen);
		buf_put(&f, mut, (size_t)clen);
		uint64_t save = rng_state;
		rc = run_exact(f.p, f.len, 4000, &out, &olen);
		rng_state = save;
		if (rl >= 0 && rc == UNLZ4_EOFFSET) {
			/* liblz4 1.9 accepts a zero offset (it copies the bytes being
			 * written); we reject it. Up to that point both must agree. */
			cr_assert(memcmp(out, ref, olen) == 0, "iter %d: prefixes differ", it);
			zero_off++;
		} else if (rl >= 0) {
			cr_assert_eq(rc, 0, "iter %d: liblz4 ok (%d bytes), ours rc=%d", it, rl, rc);
			cr_assert_eq(olen, (size_t)rl);
			cr_assert(memcmp(out, ref, olen) == 0, "iter %d: outputs differ", it);
			agreed++;
		}
		free(out);
		free(f.p);
	}
	cr_log_info("differential: %u mutated blocks accepted by both, %u zero offsets", agreed,
		    zero_off);
	cr_assert_gt(agreed, 100);
	free(d), free(blk), free(mut), free(ref);
}
