/*
 * test_vsprintf.c: unit tests for lib/vsprintf.c (vcbprintf, kvsnprintf,
 * ksnprintf).
 *
 * Oracle: the host C library's vsnprintf (glibc). Every supported combination
 * of conversion, flags, width, precision and length modifier is compared
 * byte-for-byte (output and return value) on edge values; truncation is
 * checked at every buffer size with sentinel bytes past the end; a seeded
 * random generator builds further formats. %p and unknown conversions, where
 * the documented behaviour differs from glibc, have hand-written expectations.
 *
 * Dependencies: Criterion, the host C library.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/vsprintf.h"

#define OUT_MAX 512
#define SENTINEL 0x5A

static unsigned long long checks;

/*
 * Compare kvsnprintf against vsnprintf for one format and argument list.
 * With `trunc`, also at every buffer size 0 .. len+1.
 */
static void vcompare(bool trunc, const char *fmt, va_list ap)
{
	char exp[OUT_MAX], got[OUT_MAX + 16];
	va_list a1, a2;
	int re, rg;

	va_copy(a1, ap);
	re = vsnprintf(exp, sizeof(exp), fmt, a1);
	va_end(a1);
	cr_assert(re >= 0 && re < OUT_MAX, "host vsnprintf(\"%s\") = %d", fmt, re);

	va_copy(a2, ap);
	memset(got, SENTINEL, sizeof(got));
	rg = kvsnprintf(got, OUT_MAX, fmt, a2);
	va_end(a2);
	checks++;
	if (rg != re || memcmp(got, exp, (size_t)re + 1) != 0)
		cr_assert_fail("fmt \"%s\": glibc \"%s\" (%d), ours \"%.*s\" (%d)", fmt, exp, re,
			       rg > 0 && rg < OUT_MAX ? rg : 0, got, rg);
	if (!trunc)
		return;
	for (size_t size = 0; size <= (size_t)re + 1; size++) {
		va_copy(a2, ap);
		memset(got, SENTINEL, sizeof(got));
		rg = kvsnprintf(size ? got : NULL, size, fmt, a2);
		va_end(a2);
		checks++;
		if (rg != re)
			cr_assert_fail("fmt \"%s\" size %zu: returned %d, want %d", fmt, size, rg, re);
		if (size) {
			if (memcmp(got, exp, size - 1) != 0 || got[size - 1] != '\0')
				cr_assert_fail("fmt \"%s\" size %zu: wrong truncated output", fmt, size);
		}
		for (size_t i = size; i < sizeof(got); i++)
			if ((unsigned char)got[i] != SENTINEL)
				cr_assert_fail("fmt \"%s\" size %zu: wrote byte %zu", fmt, size, i);
	}
}

static void compare(bool trunc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcompare(trunc, fmt, ap);
	va_end(ap);
}

/* Check ksnprintf output against a hand-written expectation. */
static void expect(const char *want, const char *fmt, ...)
{
	char got[OUT_MAX];
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = kvsnprintf(got, sizeof(got), fmt, ap);
	va_end(ap);
	cr_assert_str_eq(got, want, "fmt \"%s\"", fmt);
	cr_assert_eq(r, (int)strlen(want), "fmt \"%s\"", fmt);
}

/* ---- integer conversions: the full cross product ---------------------------- */

static const unsigned long long int_values[] = {
	0, 1, 2, 7, 8, 9, 10, 15, 16, 99, 100, 127, 128, 255, 256, 1000, 32767, 32768, 65535,
	65536, 999999999, 1000000000, INT_MAX, (unsigned)INT_MAX + 1ull, UINT_MAX,
	(unsigned long long)UINT_MAX + 1, 9999999999ull, 10000000000ull, 0xdeadbeefcafef00dull,
	99999999999999999ull, 1000000000000000000ull, 9999999999999999999ull,
	10000000000000000000ull, LLONG_MAX, (unsigned long long)LLONG_MIN, ULLONG_MAX,
	ULLONG_MAX - 1, (unsigned long long)-1000, (unsigned long long)-99,
	(unsigned long long)-10, (unsigned long long)-9, (unsigned long long)-2,
	(unsigned long long)(long long)INT_MIN, (unsigned long long)(long long)SHRT_MIN,
	(unsigned long long)(long long)SCHAR_MIN, 0xfffffffeffffffffull, 0x100000000ull,
	0x123456789ull, 01234567012345670123ull,
};

static const char *const lengths[] = { "", "hh", "h", "l", "ll", "z", "t", "j" };
static const char convs[] = "diuxXo";

/* Call compare() with `v` passed as the type length modifier `len` expects. */
static void compare_int(bool trunc, const char *fmt, const char *len, char conv, int nstar,
			int a1, int a2, unsigned long long v)
{
	bool sgn = conv == 'd' || conv == 'i';

#define CALL(T) do { \
		T x = (T)v; \
		if (nstar == 0) compare(trunc, fmt, x); \
		else if (nstar == 1) compare(trunc, fmt, a1, x); \
		else compare(trunc, fmt, a1, a2, x); \
	} while (0)

	if (!*len || len[0] == 'h') {
		/* hh and h take an int; pass the full value so the narrowing is tested */
		if (sgn) CALL(int); else CALL(unsigned int);
	} else if (!strcmp(len, "l")) {
		if (sgn) CALL(long); else CALL(unsigned long);
	} else if (!strcmp(len, "ll")) {
		if (sgn) CALL(long long); else CALL(unsigned long long);
	} else if (!strcmp(len, "z")) {
		if (sgn) CALL(ssize_t); else CALL(size_t);
	} else if (!strcmp(len, "t")) {
		CALL(ptrdiff_t);
	} else {
		if (sgn) CALL(intmax_t); else CALL(uintmax_t);
	}
#undef CALL
}

struct wp { const char *text; int nstar; int arg; };

static const struct wp widths[] = {
	{ "", 0, 0 }, { "0", 0, 0 }, { "1", 0, 0 }, { "2", 0, 0 }, { "5", 0, 0 },
	{ "12", 0, 0 }, { "20", 0, 0 }, { "25", 0, 0 }, { "*", 1, 7 }, { "*", 1, -9 },
	{ "*", 1, 0 },
};
static const struct wp precs[] = {
	{ "", 0, 0 }, { ".", 0, 0 }, { ".0", 0, 0 }, { ".1", 0, 0 }, { ".3", 0, 0 },
	{ ".10", 0, 0 }, { ".22", 0, 0 }, { ".*", 1, 4 }, { ".*", 1, -1 }, { ".*", 1, 0 },
};

Test(vsprintf, integers_cross_product, .timeout = 300)
{
	char fmt[64];
	unsigned long long before = checks;

	for (const char *c = convs; *c; c++)
		for (size_t l = 0; l < sizeof(lengths) / sizeof(lengths[0]); l++)
			for (unsigned fl = 0; fl < 32; fl++)
				for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++)
					for (size_t p = 0; p < sizeof(precs) / sizeof(precs[0]); p++) {
						char flags[6], *f = flags;
						int nstar = widths[w].nstar + precs[p].nstar;
						int a1 = widths[w].nstar ? widths[w].arg : precs[p].arg;
						int a2 = precs[p].arg;

						if (fl & 1) *f++ = '-';
						if (fl & 2) *f++ = '0';
						if (fl & 4) *f++ = '+';
						if (fl & 8) *f++ = ' ';
						if (fl & 16) *f++ = '#';
						*f = '\0';
						snprintf(fmt, sizeof(fmt), "<%%%s%s%s%s%c>", flags,
							 widths[w].text, precs[p].text, lengths[l], *c);
						for (size_t v = 0; v < sizeof(int_values) / sizeof(int_values[0]); v++)
							compare_int((v + fl + w + p) % 61 == 0, fmt, lengths[l],
								    *c, nstar, a1, a2, int_values[v]);
					}
	cr_log_info("integers: %llu comparisons", checks - before);
}

Test(vsprintf, integer_edges_every_truncation)
{
	static const char *fmts[] = { "%d", "%i", "%u", "%x", "%X", "%o", "%lld", "%llu",
		"%llx", "%llo", "%-20lld|", "%020lld", "%+d", "% d", "%#x", "%#o", "%#20.15llx",
		"%-+25.21lld", "%hhd", "%hu", "%zd", "%zu", "%td", "%jd", "%ju", "%.0d" };

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		const char *f = fmts[i];
		const char *len = strstr(f, "ll") ? "ll" : strchr(f, 'z') ? "z" :
				  strchr(f, 't') ? "t" : strchr(f, 'j') ? "j" : "";
		char conv = f[strcspn(f, "diuxXo")];

		for (size_t v = 0; v < sizeof(int_values) / sizeof(int_values[0]); v++)
			compare_int(true, f, len, conv, 0, 0, 0, int_values[v]);
	}
	/* named edge values through the natural types */
	compare(true, "%d %d %d %d", 0, -1, INT_MIN, INT_MAX);
	compare(true, "%lld %lld %llu %llu", LLONG_MIN, LLONG_MAX, ULLONG_MAX, 0ull);
	compare(true, "%ld %lu %lx", LONG_MIN, ULONG_MAX, ULONG_MAX);
	compare(true, "%05d|%-5d|%5d|%+05d", -42, -42, -42, -42);
	compare(true, "%020lld|%-20lld|", LLONG_MIN, LLONG_MIN);
}

/* ---- strings and characters ---------------------------------------------- */

Test(vsprintf, strings)
{
	static const char *strs[] = { "", "a", "ab", "hello", "hello!", "hello, world",
		"a rather longer string of forty-odd characters", NULL };
	static const char *flagsets[] = { "", "-", "0", "-0", " ", "+", "#" };
	char fmt[64];

	for (size_t s = 0; s < sizeof(strs) / sizeof(strs[0]); s++)
		for (size_t f = 0; f < sizeof(flagsets) / sizeof(flagsets[0]); f++)
			for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++)
				for (size_t p = 0; p < sizeof(precs) / sizeof(precs[0]); p++) {
					int nstar = widths[w].nstar + precs[p].nstar;
					int a1 = widths[w].nstar ? widths[w].arg : precs[p].arg;

					snprintf(fmt, sizeof(fmt), "[%%%s%s%ss]", flagsets[f],
						 widths[w].text, precs[p].text);
					if (nstar == 0) compare(true, fmt, strs[s]);
					else if (nstar == 1) compare(true, fmt, a1, strs[s]);
					else compare(true, fmt, a1, precs[p].arg, strs[s]);
				}
	/* every precision on NULL (glibc prints "(null)" only if it fits) */
	for (int p = 0; p < 10; p++)
		compare(true, "%.*s|%-10.*s|%10.*s", p, (char *)NULL, p, (char *)NULL, p,
			(char *)NULL);
	compare(true, "%s", (char *)NULL);
}

Test(vsprintf, string_precision_does_not_read_past)
{
	/* a char array without a terminator: precision bounds the read (ASan) */
	char *a = malloc(5);
	char out[16];

	memcpy(a, "abcde", 5);
	cr_assert_eq(ksnprintf(out, sizeof(out), "%.5s|%.3s|%.*s", a, a, 5, a), 15);
	cr_assert_str_eq(out, "abcde|abc|abcde");
	free(a);
}

Test(vsprintf, characters)
{
	static const int chars[] = { 'A', 'z', ' ', '%', '0', 0x7f, 0xff, 0x141 };
	static const char *fmts[] = { "%c", "[%5c]", "[%-5c]", "[%05c]", "[%1c]", "[%0c]",
		"[%*c]", "%c%c", "[%lc]" };

	for (size_t i = 0; i < sizeof(chars) / sizeof(chars[0]); i++) {
		for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
			if (strchr(fmts[f], '*')) {
				compare(true, fmts[f], 4, chars[i]);
				compare(true, fmts[f], -4, chars[i]);
			} else if (!strcmp(fmts[f], "[%lc]")) {
				if (chars[i] < 0x80)   /* %lc = %c for ASCII (wint_t) */
					compare(true, fmts[f], (wint_t)chars[i]);
			} else {
				compare(true, fmts[f], chars[i], chars[i]);
			}
		}
	}
	/* a NUL character is emitted and counted */
	char out[8];

	memset(out, 'x', sizeof(out));
	cr_assert_eq(ksnprintf(out, sizeof(out), "a%cb", 0), 3);
	cr_assert(memcmp(out, "a\0b\0", 4) == 0);
}

Test(vsprintf, percent_and_plain_text)
{
	compare(true, "%%");
	compare(true, "100%% sure, %d%%", 5);
	/* flags or a width on %% (undefined in C): glibc ignores them, so do we */
	expect("[%]", "[%5%]");
	expect("[%]", "[%-05%]");
	compare(true, "");
	compare(true, "no conversions at all, just text\n");
	compare(true, "x=%d y=%s z=%08lx w=%-6.3s| %c%%\n", -17, "why", 0xabcdeful, "wonder", '!');
}

/* ---- %p and unknown conversions (documented differences from glibc) ----- */

Test(vsprintf, pointers)
{
	char want[128], hex[64];
	void *ptrs[] = { NULL, (void *)1, (void *)0xdeadbeef, (void *)&checks, (void *)UINTPTR_MAX };
	int digits = 2 * (int)sizeof(void *);

	for (size_t i = 0; i < sizeof(ptrs) / sizeof(ptrs[0]); i++) {
		snprintf(hex, sizeof(hex), "0x%0*llx", digits, (unsigned long long)(uintptr_t)ptrs[i]);
		cr_assert_eq(strlen(hex), 2 + (size_t)digits);
		expect(hex, "%p", ptrs[i]);
		/* '0', '+', ' ', '#' and precision are ignored; width and '-' apply */
		expect(hex, "%0p", ptrs[i]);
		expect(hex, "%+ #p", ptrs[i]);
		expect(hex, "%.3p", ptrs[i]);
		expect(hex, "%5p", ptrs[i]);
		snprintf(want, sizeof(want), "%30s|%-30s|", hex, hex);
		expect(want, "%30p|%-30p|", ptrs[i], ptrs[i]);
		expect(want, "%030p|%-030p|", ptrs[i], ptrs[i]);
		snprintf(want, sizeof(want), "%*s|", 25, hex);
		expect(want, "%*p|", 25, ptrs[i]);
	}
}

Test(vsprintf, unknown_conversions_verbatim)
{
	/* copied verbatim, from '%' through the conversion character */
	expect("[%y]", "[%y]");
	expect("[%5y]", "[%5y]");
	expect("[%-08.3y]", "[%-08.3y]");
	expect("[%lly]", "[%lly]");
	expect("[%f %e %g %a %n %m]", "[%f %e %g %a %n %m]");
	expect("[%*y] 5", "[%*y] %d", 3, 5);   /* the '*' argument is consumed */
	/* a '%' at the end of the string, alone or with flags/width/length */
	expect("abc%", "abc%");
	expect("abc%-5", "abc%-5");
	expect("abc%ll", "abc%ll");
	expect("%", "%");
}

/* ---- vcbprintf ------------------------------------------------------------ */

struct capture {
	char buf[256];
	size_t n;
};

static void cap_putc(void *arg, char c)
{
	struct capture *cap = arg;

	cr_assert_lt(cap->n, sizeof(cap->buf));
	cap->buf[cap->n++] = c;
}

static int cb(struct capture *cap, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vcbprintf(cap_putc, cap, fmt, ap);
	va_end(ap);
	return r;
}

Test(vsprintf, callback_interface)
{
	struct capture cap = { .n = 0 };
	int r = cb(&cap, "cr3=%#018llx level %d/%u %s", 0x1234000ull, 4, 5u, "ok");

	cr_assert_eq(r, (int)cap.n);
	cap.buf[cap.n] = '\0';
	cr_assert_str_eq(cap.buf, "cr3=0x0000000001234000 level 4/5 ok");
	cap.n = 0;
	cr_assert_eq(cb(&cap, ""), 0);
	cr_assert_eq(cap.n, 0);
}

/* ---- randomised comparison ------------------------------------------------ */

static uint64_t rs = 0x5eed5eed12345678ull;

static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static unsigned long long rnd_value(void)
{
	switch (rnd() % 6) {
	case 0: return int_values[rnd() % (sizeof(int_values) / sizeof(int_values[0]))];
	case 1: return rnd() % 100;
	case 2: return (unsigned long long)-(long long)(rnd() % 1000);
	case 3: return rnd() >> (rnd() % 64);
	default: return rnd();
	}
}

/* Append one random conversion spec to fmt; returns its conversion class. */
static char rnd_spec(char *fmt, size_t cap, int *nstar, const char **len)
{
	static const char cv[] = "diuxXoscp%";
	char conv = cv[rnd() % (sizeof(cv) - 1)];
	size_t n = strlen(fmt);

	*len = "";
	*nstar = 0;
	n += (size_t)snprintf(fmt + n, cap - n, "%%");
	for (int i = (int)(rnd() % 4); i > 0; i--)
		fmt[n++] = "-0+ #"[rnd() % 5];
	if (conv == 'p')   /* %p output differs from glibc by design: test it separately */
		conv = 'x';
	if (conv == 's' || conv == 'c' || conv == '%') {   /* only the defined flags */
		while (n > 0 && fmt[n - 1] != '%')
			n--;
		if (conv != '%' && rnd() % 2)
			fmt[n++] = '-';
	}
	fmt[n] = '\0';
	switch (conv == '%' ? 0 : rnd() % 4) {
	case 0: break;
	case 1: n += (size_t)snprintf(fmt + n, cap - n, "%d", (int)(rnd() % 30)); break;
	case 2: n += (size_t)snprintf(fmt + n, cap - n, "*"); (*nstar)++; break;
	default: n += (size_t)snprintf(fmt + n, cap - n, "%d", (int)(rnd() % 5)); break;
	}
	if (conv != 'c' && conv != '%') {
		switch (rnd() % 4) {
		case 0: break;
		case 1: n += (size_t)snprintf(fmt + n, cap - n, ".%d", (int)(rnd() % 25)); break;
		case 2: n += (size_t)snprintf(fmt + n, cap - n, ".*"); (*nstar)++; break;
		default: n += (size_t)snprintf(fmt + n, cap - n, "."); break;
		}
	}
	if (strchr("diuxXo", conv))
		*len = lengths[rnd() % (sizeof(lengths) / sizeof(lengths[0]))];
	snprintf(fmt + n, cap - n, "%s%c", *len, conv);
	return conv;
}

Test(vsprintf, randomised_against_glibc, .timeout = 300)
{
	static const char *strs[] = { "", "x", "hello", "(null)?", "0123456789abcdef", NULL };
	unsigned long long before = checks;

	for (int it = 0; it < 200000; it++) {
		char fmt[128] = "";
		const char *len;
		int nstar, a1, a2;
		char conv;

		if (rnd() % 2)
			strcat(fmt, rnd() % 2 ? "txt " : "a=");
		conv = rnd_spec(fmt, sizeof(fmt), &nstar, &len);
		if (rnd() % 2)
			strcat(fmt, rnd() % 2 ? " end" : "|");
		a1 = (int)(rnd() % 41) - 10;
		a2 = (int)(rnd() % 41) - 10;
		bool trunc = it % 50 == 0;

		if (conv == 's') {
			const char *s = strs[rnd() % (sizeof(strs) / sizeof(strs[0]))];
			if (nstar == 0) compare(trunc, fmt, s);
			else if (nstar == 1) compare(trunc, fmt, a1, s);
			else compare(trunc, fmt, a1, a2, s);
		} else if (conv == 'c' || conv == '%') {
			int c = 32 + (int)(rnd() % 95);
			if (nstar == 0) compare(trunc, fmt, c);
			else compare(trunc, fmt, a1, c);
		} else {
			compare_int(trunc, fmt, len, conv, nstar, a1, a2, rnd_value());
		}
	}
	cr_log_info("random: %llu comparisons", checks - before);
}
