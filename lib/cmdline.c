/*
 * cmdline.c: command-line word and option parsing (see lib/cmdline.h).
 * Pure functions over a NUL-terminated string; used by every boot stage.
 */
#include <lib/cmdline.h>
#include <paging/pg_env.h>

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Find the next word starting at *p: sets *start and *len (quotes are part of
 * the word, spaces inside quotes do not end it) and advances *p past it.
 * returns: false at the end of the line.
 */
static bool next_word(const char **p, const char **start, size_t *len)
{
	const char *s = *p;
	bool quoted = false;

	while (*s && is_space(*s))
		s++;
	if (!*s)
		return false;
	*start = s;
	while (*s && (quoted || !is_space(*s))) {
		if (*s == '"')
			quoted = !quoted;
		s++;
	}
	*len = (size_t)(s - *start);
	*p = s;
	return true;
}

bool cmdline_has_word(const char *cmdline, const char *word)
{
	const char *p = cmdline, *w;
	size_t len, wl = strlen(word);

	if (!cmdline)
		return false;
	while (next_word(&p, &w, &len))
		if (len == wl && memcmp(w, word, wl) == 0)
			return true;
	return false;
}

int cmdline_get_option(const char *cmdline, const char *name, char *buf, size_t size)
{
	const char *p = cmdline, *w;
	size_t len, nl = strlen(name), out = 0;

	if (!cmdline)
		return -1;
	while (next_word(&p, &w, &len)) {
		if (len && w[0] == '"') {
			/* "name=value with spaces", as GRUB's linux command quotes such a word
			   (Linux's next_arg takes it too) */
			w++;
			len--;
		}
		if (len <= nl || w[nl] != '=' || memcmp(w, name, nl) != 0)
			continue;
		for (size_t i = nl + 1; i < len; i++) {
			if (w[i] == '"')
				continue;
			if (out + 1 >= size)
				return -2;
			buf[out++] = w[i];
		}
		if (size)
			buf[out] = '\0';
		return (int)out;
	}
	return -1;
}

bool parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned int base = 10;

	if (!s || !*s)
		return false;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!*s)
			return false;
	}
	for (; *s; s++) {
		unsigned int d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned int)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned int)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned int)(*s - 'A' + 10);
		else
			return false;
		if (d >= base)
			return false;
		/* overflow check without 64-bit division (16-bit builds have no libgcc) */
		if (base == 16 ? (v >> 60) != 0 : v > 0x1999999999999999ULL)
			return false;
		uint64_t next = v * base + d;
		if (next < v * base)
			return false;
		v = next;
	}
	*out = v;
	return true;
}
