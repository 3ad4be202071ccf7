/*
 * vsprintf.c: freestanding printf core (vcbprintf, kvsnprintf, ksnprintf).
 * See include/lib/vsprintf.h for the supported conversions.
 *
 * Built for the 16-bit real-mode setup (-m16), 32-bit PIC and 64-bit code,
 * none of which links libgcc: 64-bit values are converted to decimal by
 * long division on 16-bit limbs using 32-bit divisions only, and to octal or
 * hex with shifts. No floating point, no writable globals.
 *
 * Dependencies: <stdarg.h>, <stddef.h>, <stdint.h>, <stdbool.h>.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/vsprintf.h"

#define F_LEFT  0x01u  /* '-' */
#define F_ZERO  0x02u  /* '0' */
#define F_PLUS  0x04u  /* '+' */
#define F_SPACE 0x08u  /* ' ' */
#define F_ALT   0x10u  /* '#' */

enum length { L_NONE, L_HH, L_H, L_L, L_LL, L_Z, L_T, L_J };

struct out {
	vcb_putc_t putc;
	void *arg;
	int count;
};

struct spec {
	unsigned flags;
	int width;  /* >= 0 */
	int prec;   /* < 0: none */
};

static void put(struct out *o, char c)
{
	o->putc(o->arg, c);
	o->count++;
}

static void put_rep(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

static void put_str(struct out *o, const char *s, size_t n)
{
	while (n--)
		put(o, *s++);
}

/*
 * div10000: *v /= 10000 using only 32-bit divisions (schoolbook long division
 * on four 16-bit limbs; every partial dividend is < 10000 * 2^16 < 2^32).
 * returns: the remainder (< 10000)
 */
static uint32_t div10000(uint64_t *v)
{
	uint32_t hi = (uint32_t)(*v >> 32), lo = (uint32_t)*v;
	uint32_t t, q3, q2, q1, q0;

	t = hi >> 16;
	q3 = t / 10000u;
	t = (t % 10000u) << 16 | (hi & 0xffffu);
	q2 = t / 10000u;
	t = (t % 10000u) << 16 | (lo >> 16);
	q1 = t / 10000u;
	t = (t % 10000u) << 16 | (lo & 0xffffu);
	q0 = t / 10000u;
	*v = (uint64_t)(q3 << 16 | q2) << 32 | (q1 << 16 | q0);
	return t % 10000u;
}

/*
 * utoa_rev: write the digits of v in `base` (8, 10 or 16) backwards, ending
 * just before `end`.
 * returns: the number of digits (>= 1; "0" for zero)
 */
static int utoa_rev(char *end, uint64_t v, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char *p = end;
	uint32_t w;

	if (base == 10) {
		while (v > 0xffffffffu) {
			uint32_t r = div10000(&v);

			for (int i = 0; i < 4; i++) {
				*--p = (char)('0' + r % 10u);
				r /= 10u;
			}
		}
		w = (uint32_t)v;
		do {
			*--p = (char)('0' + w % 10u);
			w /= 10u;
		} while (w);
	} else {
		unsigned shift = base == 16 ? 4 : 3;

		do {
			*--p = digits[(unsigned)v & (base - 1)];
			v >>= shift;
		} while (v);
	}
	return (int)(end - p);
}

/*
 * put_int: emit an integer conversion. mag is the magnitude, sign is '-',
 * '+', ' ' or 0; prefix ("0x", "0X" or NULL) goes between sign and digits.
 */
static void put_int(struct out *o, const struct spec *s, uint64_t mag, char sign,
		    unsigned base, bool upper, const char *prefix)
{
	char buf[24];   /* 22 octal digits for 2^64-1 */
	int ndig, zeros, len, pad, plen = prefix ? 2 : 0;

	ndig = (s->prec == 0 && mag == 0) ? 0 : utoa_rev(buf + sizeof(buf), mag, base, upper);
	zeros = s->prec > ndig ? s->prec - ndig : 0;
	/* '#' with octal: the first digit must be a 0 */
	if (base == 8 && (s->flags & F_ALT) && zeros == 0 &&
	    (ndig == 0 || buf[sizeof(buf) - ndig] != '0'))
		zeros = 1;
	len = (sign ? 1 : 0) + plen + zeros + ndig;
	pad = s->width > len ? s->width - len : 0;

	if (!(s->flags & F_LEFT) && !((s->flags & F_ZERO) && s->prec < 0)) {
		put_rep(o, ' ', pad);
		pad = 0;
	}
	if (sign)
		put(o, sign);
	if (prefix)
		put_str(o, prefix, 2);
	if (!(s->flags & F_LEFT)) {   /* zero padding (pad is 0 unless '0' applies) */
		put_rep(o, '0', pad);
		pad = 0;
	}
	put_rep(o, '0', zeros);
	put_str(o, buf + sizeof(buf) - ndig, (size_t)ndig);
	put_rep(o, ' ', pad);
}

/* put_padded: emit s[0..n) right- or left-justified in the field width. */
static void put_padded(struct out *o, const struct spec *sp, const char *s, size_t n)
{
	int pad = (size_t)sp->width > n ? sp->width - (int)n : 0;

	if (!(sp->flags & F_LEFT))
		put_rep(o, ' ', pad);
	put_str(o, s, n);
	if (sp->flags & F_LEFT)
		put_rep(o, ' ', pad);
}

static int64_t arg_signed(va_list *ap, enum length len)
{
	switch (len) {
	case L_HH: return (signed char)va_arg(*ap, int);
	case L_H:  return (short)va_arg(*ap, int);
	case L_L:  return va_arg(*ap, long);
	case L_LL: return va_arg(*ap, long long);
	case L_Z:  /* the signed type of size_t's width */
	case L_T:  return va_arg(*ap, ptrdiff_t);
	case L_J:  return va_arg(*ap, intmax_t);
	default:   return va_arg(*ap, int);
	}
}

static uint64_t arg_unsigned(va_list *ap, enum length len)
{
	switch (len) {
	case L_HH: return (unsigned char)va_arg(*ap, unsigned int);
	case L_H:  return (unsigned short)va_arg(*ap, unsigned int);
	case L_L:  return va_arg(*ap, unsigned long);
	case L_LL: return va_arg(*ap, unsigned long long);
	case L_Z:  return va_arg(*ap, size_t);
	case L_T:  return (uint64_t)va_arg(*ap, ptrdiff_t) & (uint64_t)(uintptr_t)-1;
	case L_J:  return va_arg(*ap, uintmax_t);
	default:   return va_arg(*ap, unsigned int);
	}
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* parse_num: read a decimal field (clamped well below INT_MAX). */
static int parse_num(const char **fmt)
{
	int n = 0;

	while (is_digit(**fmt)) {
		if (n < 100000000)
			n = n * 10 + (**fmt - '0');
		(*fmt)++;
	}
	return n;
}

/*
 * parse_spec: read the flags, field width, precision and length modifier
 * that follow a '%' (fmt points after it), taking '*' values from ap.
 * returns: fmt advanced to the conversion character
 */
static const char *parse_spec(const char *fmt, va_list *ap, struct spec *s, enum length *len)
{
	for (;; fmt++) {
		if (*fmt == '-')      s->flags |= F_LEFT;
		else if (*fmt == '0') s->flags |= F_ZERO;
		else if (*fmt == '+') s->flags |= F_PLUS;
		else if (*fmt == ' ') s->flags |= F_SPACE;
		else if (*fmt == '#') s->flags |= F_ALT;
		else break;
	}
	if (*fmt == '*') {
		int w = va_arg(*ap, int);

		fmt++;
		if (w < 0) {
			s->flags |= F_LEFT;
			w = w < -100000000 ? 100000000 : -w;
		}
		s->width = w;
	} else {
		s->width = parse_num(&fmt);
	}
	if (*fmt == '.') {
		fmt++;
		if (*fmt == '*') {
			int p = va_arg(*ap, int);

			fmt++;
			s->prec = p < 0 ? -1 : p;
		} else {
			s->prec = parse_num(&fmt);
		}
	}
	switch (*fmt) {
	case 'h':
		*len = fmt[1] == 'h' ? L_HH : L_H;
		return fmt + (*len == L_HH ? 2 : 1);
	case 'l':
		*len = fmt[1] == 'l' ? L_LL : L_L;
		return fmt + (*len == L_LL ? 2 : 1);
	case 'z': *len = L_Z; return fmt + 1;
	case 't': *len = L_T; return fmt + 1;
	case 'j': *len = L_J; return fmt + 1;
	default: return fmt;
	}
}

/* put_string: the 's' conversion. */
static void put_string(struct out *o, const struct spec *s, const char *str)
{
	size_t n = 0;

	if (!str)   /* glibc prints "(null)" only if it fits the precision */
		str = (s->prec < 0 || s->prec >= 6) ? "(null)" : "";
	while ((s->prec < 0 || n < (size_t)s->prec) && str[n])
		n++;
	put_padded(o, s, str, n);
}

/*
 * convert: emit one conversion `conv` with its spec, taking its argument
 * from ap. [start, end) is the whole directive, copied verbatim when the
 * conversion is unknown or missing.
 */
static void convert(struct out *o, struct spec *s, enum length len, char conv, va_list *ap,
		    const char *start, const char *end)
{
	switch (conv) {
	case 'd':
	case 'i': {
		int64_t v = arg_signed(ap, len);
		char sign = v < 0 ? '-' : (s->flags & F_PLUS) ? '+' :
			    (s->flags & F_SPACE) ? ' ' : 0;
		uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

		put_int(o, s, mag, sign, 10, false, NULL);
		break;
	}
	case 'u':
	case 'o':
		put_int(o, s, arg_unsigned(ap, len), 0, conv == 'o' ? 8 : 10, false, NULL);
		break;
	case 'x':
	case 'X': {
		uint64_t v = arg_unsigned(ap, len);
		const char *prefix = NULL;

		if ((s->flags & F_ALT) && v)
			prefix = conv == 'x' ? "0x" : "0X";
		put_int(o, s, v, 0, 16, conv == 'X', prefix);
		break;
	}
	case 'p':
		s->flags &= F_LEFT;
		s->prec = 2 * (int)sizeof(void *);
		put_int(o, s, (uintptr_t)va_arg(*ap, void *), 0, 16, false, "0x");
		break;
	case 'c': {
		char c = (char)va_arg(*ap, int);

		put_padded(o, s, &c, 1);
		break;
	}
	case 's':
		put_string(o, s, va_arg(*ap, const char *));
		break;
	case '%':
		put(o, '%');
		break;
	default:    /* unknown or missing conversion: copy it verbatim */
		put_str(o, start, (size_t)(end - start));
		break;
	}
}

int vcbprintf(vcb_putc_t putc, void *arg, const char *fmt, va_list ap)
{
	struct out o = { putc, arg, 0 };
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		const char *start = fmt;
		struct spec s = { 0, 0, -1 };
		enum length len = L_NONE;
		char conv;

		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		fmt = parse_spec(fmt + 1, &args, &s, &len);
		conv = *fmt;
		if (conv)
			fmt++;
		convert(&o, &s, len, conv, &args, start, fmt);
	}
	va_end(args);
	return o.count;
}

struct sbuf {
	char *buf;
	size_t size, pos;
};

static void sbuf_putc(void *arg, char c)
{
	struct sbuf *b = arg;

	if (b->pos + 1 < b->size)
		b->buf[b->pos] = c;
	b->pos++;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sbuf b = { buf, size, 0 };
	int n = vcbprintf(sbuf_putc, &b, fmt, ap);

	if (size)
		buf[b.pos < size ? b.pos : size - 1] = '\0';
	return n;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
