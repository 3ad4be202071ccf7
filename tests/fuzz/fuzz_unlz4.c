/*
 * fuzz_unlz4.c: libFuzzer harness for lib/decompress_unlz4.c.
 *
 * The input is the whole compressed stream. Properties checked (besides the
 * sanitizers' memory checks: the input and output buffers are exactly sized
 * heap blocks):
 *   - the result is 0 or one of the documented UNLZ4_E* codes, and
 *     out_len <= out_cap;
 *   - on success, decoding again into a buffer of exactly out_len bytes gives
 *     the same bytes, and one byte less gives UNLZ4_EOVERFLOW;
 *   - for a stream holding exactly one block, whatever liblz4's
 *     LZ4_decompress_safe accepts we accept too with the same output (bar a
 *     zero match offset, which liblz4 1.9 tolerates and we reject).
 *
 * Build and run: scripts/fuzz-smoke. Dependencies: libFuzzer (clang), liblz4.
 */
#include <lz4.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/unlz4.h"

#define OUT_CAP (256u << 10)

static void check(int cond)
{
	if (!cond)
		abort();
}

static int known(int rc)
{
	return rc == 0 || rc == UNLZ4_EMAGIC || rc == UNLZ4_ETRUNC || rc == UNLZ4_EOVERFLOW ||
	       rc == UNLZ4_EOFFSET || rc == UNLZ4_EBLOCKSIZE || rc == UNLZ4_ETRAILING;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out = malloc(OUT_CAP), *again;
	size_t olen = (size_t)-1, olen2 = (size_t)-1;
	int rc;

	check(out != NULL);
	rc = unlz4(data, size, out, OUT_CAP, &olen);
	check(known(rc));
	check(olen <= OUT_CAP);
	check(unlz4_strerror(rc) != NULL);

	if (rc == 0) {
		again = malloc(olen ? olen : 1);
		check(again != NULL);
		check(unlz4(data, size, again, olen, &olen2) == 0);
		check(olen2 == olen && (olen == 0 || memcmp(again, out, olen) == 0));
		if (olen > 0)
			check(unlz4(data, size, again, olen - 1, &olen2) == UNLZ4_EOVERFLOW);
		free(again);
	}

	/* single-block stream: differential against liblz4 */
	if (size >= 8 && data[0] == 0x02 && data[1] == 0x21 && data[2] == 0x4c && data[3] == 0x18) {
		uint32_t csize = data[4] | data[5] << 8 | data[6] << 16 | (uint32_t)data[7] << 24;

		if (csize > 0 && csize == size - 8) {
			char *ref = malloc(OUT_CAP);
			int rl;

			check(ref != NULL);
			rl = LZ4_decompress_safe((const char *)data + 8, ref, (int)csize, (int)OUT_CAP);
			if (rl >= 0 && rc != UNLZ4_EOFFSET) {
				check(rc == 0);
				check(olen == (size_t)rl && memcmp(out, ref, olen) == 0);
			}
			free(ref);
		}
	}
	free(out);
	return 0;
}
