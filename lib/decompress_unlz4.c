/*
 * decompress_unlz4.c: LZ4 legacy-frame decompressor (the format `lz4 -l`
 * writes and Linux uses for LZ4-compressed kernels). See include/lib/unlz4.h.
 *
 * Every bounds check is done on indices (never by forming out-of-range
 * pointers), so no byte outside [in, in+in_len) is read and none outside
 * [out, out+out_cap) is written, whatever the input.
 *
 * Dependencies: <stddef.h>, <stdint.h>, memcpy (paging/pg_env.h). Freestanding;
 * no 64-bit division, no libgcc.
 */
#include <stddef.h>
#include <stdint.h>

#include "lib/unlz4.h"
#include "paging/pg_env.h"

/* Largest compressed size of a block that decodes to at most 8 MiB (the LZ4
 * worst-case bound: n + n/255 + 16). */
#define UNLZ4_BLOCK_CMAX (UNLZ4_LEGACY_BLOCK_MAX + UNLZ4_LEGACY_BLOCK_MAX / 255u + 16u)

#define MIN_MATCH 4u

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * read_len: extend a 4-bit length field that was 15 with 255-continuation
 * bytes from src[*ip .. end). A length that exceeds `cap` is clamped to cap + 1
 * (the caller treats anything over cap as an error; this also keeps the sum
 * from overflowing on 32-bit hosts).
 * returns: 0, or UNLZ4_ETRUNC if the continuation runs past `end`
 */
static int read_len(const uint8_t *src, size_t *ip, size_t end, size_t *len, size_t cap)
{
	uint8_t b;

	do {
		if (*ip >= end)
			return UNLZ4_ETRUNC;
		b = src[(*ip)++];
		*len += b;
		if (*len > cap)
			*len = cap + 1;
	} while (b == 255);
	return 0;
}

/*
 * too_long: the error for an output run that does not fit: the block limit
 * if it is the tighter bound, else the caller's buffer.
 */
static int too_long(size_t produced, size_t want)
{
	if (want > UNLZ4_LEGACY_BLOCK_MAX - produced)
		return UNLZ4_EBLOCKSIZE;
	return UNLZ4_EOVERFLOW;
}

/*
 * decode_block: decode one raw LZ4 block src[0 .. slen) into dst[0 .. cap).
 * cap is already limited to UNLZ4_LEGACY_BLOCK_MAX.
 * returns: 0 with *produced set, or UNLZ4_ETRUNC / UNLZ4_EOFFSET /
 *          UNLZ4_EOVERFLOW / UNLZ4_EBLOCKSIZE (*produced = bytes written so far)
 */
static int decode_block(const uint8_t *src, size_t slen, uint8_t *dst, size_t cap,
			size_t *produced)
{
	size_t ip = 0, op = 0;
	int err = 0;

	for (;;) {
		size_t lit, mlen, off, match;
		uint8_t token;

		if (ip >= slen) {   /* empty block, or a block that ended after a match */
			err = UNLZ4_ETRUNC;
			break;
		}
		token = src[ip++];

		/* Literals. */
		lit = token >> 4;
		if (lit == 15 && (err = read_len(src, &ip, slen, &lit, slen)) != 0)
			break;
		if (lit > slen - ip) {
			err = UNLZ4_ETRUNC;
			break;
		}
		if (lit > cap - op) {
			err = too_long(op, lit);
			break;
		}
		if (lit)
			memcpy(dst + op, src + ip, lit);
		ip += lit;
		op += lit;
		if (ip == slen)     /* the last sequence: literals only */
			break;

		/* Match. */
		if (slen - ip < 2) {
			err = UNLZ4_ETRUNC;
			break;
		}
		off = (size_t)src[ip] | (size_t)src[ip + 1] << 8;
		ip += 2;
		if (off == 0 || off > op) {
			err = UNLZ4_EOFFSET;
			break;
		}
		mlen = token & 15;
		if (mlen == 15 && (err = read_len(src, &ip, slen, &mlen, UNLZ4_LEGACY_BLOCK_MAX)) != 0)
			break;
		mlen += MIN_MATCH;
		if (mlen > cap - op) {
			err = too_long(op, mlen);
			break;
		}
		match = op - off;
		if (off >= mlen) {
			memcpy(dst + op, dst + match, mlen);
			op += mlen;
		} else {
			/*
			 * Overlapping: [match, op) repeats with period off. Copy
			 * it forward in non-overlapping chunks; each chunk doubles
			 * the available pattern while keeping it a whole number
			 * of periods, so copying from `match` stays correct.
			 */
			while (mlen) {
				size_t n = op - match;

				if (n > mlen)
					n = mlen;
				memcpy(dst + op, dst + match, n);
				op += n;
				mlen -= n;
			}
		}
	}
	*produced = op;
	return err;
}

int unlz4(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
	const uint8_t *src = in;
	uint8_t *dst = out;
	size_t pos, done = 0;
	int err = 0;

	if (in_len < 4 || get_le32(src) != UNLZ4_LEGACY_MAGIC) {
		err = UNLZ4_EMAGIC;
		goto out;
	}
	pos = 4;
	while (pos < in_len) {
		size_t csize, cap, produced = 0;

		if (in_len - pos < 4) {
			err = UNLZ4_ETRAILING;
			break;
		}
		csize = get_le32(src + pos);
		pos += 4;
		if (csize == UNLZ4_LEGACY_MAGIC)    /* a concatenated stream starts */
			continue;
		if (csize > UNLZ4_BLOCK_CMAX) {
			err = UNLZ4_EBLOCKSIZE;
			break;
		}
		if (csize > in_len - pos) {
			err = UNLZ4_ETRUNC;
			break;
		}
		cap = out_cap - done;
		if (cap > UNLZ4_LEGACY_BLOCK_MAX)
			cap = UNLZ4_LEGACY_BLOCK_MAX;
		err = decode_block(src + pos, csize, dst + done, cap, &produced);
		done += produced;
		if (err)
			break;
		pos += csize;
	}
out:
	if (out_len)
		*out_len = done;
	return err;
}

const char *unlz4_strerror(int err)
{
	switch (err) {
	case UNLZ4_OK:         return "success";
	case UNLZ4_EMAGIC:     return "not an LZ4 legacy stream (bad magic)";
	case UNLZ4_ETRUNC:     return "truncated LZ4 input";
	case UNLZ4_EOVERFLOW:  return "LZ4 output does not fit in the buffer";
	case UNLZ4_EOFFSET:    return "bad LZ4 match offset";
	case UNLZ4_EBLOCKSIZE: return "LZ4 block larger than the 8 MiB legacy limit";
	case UNLZ4_ETRAILING:  return "trailing garbage after the last LZ4 block";
	default:               return "unknown error";
	}
}
