/*
 * vsprintf.h: freestanding printf core shared by printk, the decompressor and
 * the 16-bit real-mode setup code.
 *
 * Supported: %d %i %u %x %X %o %p %s %c %%; flags - 0 + space #; field width
 * and precision (digits or *); length modifiers hh h l ll z t j. Output is
 * byte-identical to glibc's printf for all of these, except:
 *   %p   prints "0x" and the pointer in hex zero-padded to 2*sizeof(void *)
 *        digits (also for NULL); width and '-' apply, '0' '+' ' ' '#' and a
 *        precision are ignored;
 *   an unknown conversion (e.g. %y, %f, %n) is copied to the output verbatim,
 *        from the '%' through the conversion character (an argument consumed
 *        by a '*' is still consumed); a '%' that ends the string, with or
 *        without flags, is copied verbatim too (glibc fails with -1).
 * No floating point, no 64-bit division (safe for -m16/-m32 without libgcc).
 *
 * Dependencies: <stdarg.h>, <stddef.h>.
 */
#ifndef LIB_VSPRINTF_H
#define LIB_VSPRINTF_H

#include <stdarg.h>
#include <stddef.h>

/* Output callback: receives every produced character, in order. */
typedef void (*vcb_putc_t)(void *arg, char c);

/*
 * vcbprintf: format `fmt` with `ap`, passing each character to putc(arg, c).
 * returns:
 *   the number of characters passed to putc (>= 0)
 */
int vcbprintf(vcb_putc_t putc, void *arg, const char *fmt, va_list ap);

/*
 * kvsnprintf: format into buf[0 .. size) with C99 vsnprintf semantics: at most
 * size-1 characters are stored, followed by a NUL when size > 0 (buf may be
 * NULL when size == 0).
 * returns:
 *   the length the full output would have had (excluding the NUL); the
 *   output was truncated iff the result is >= size
 */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/*
 * ksnprintf: kvsnprintf with a variable argument list.
 * returns:
 *   as kvsnprintf
 */
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* LIB_VSPRINTF_H */
