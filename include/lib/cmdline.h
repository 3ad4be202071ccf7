/*
 * cmdline.h: kernel command-line parsing, shared by every boot stage and unit-tested on the host.
 * Words are separated by spaces; an option is `name=value`; values may be
 * quoted with double quotes (`run="a;b"`).
 */
#ifndef LIB_CMDLINE_H
#define LIB_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether `word` appears as a whole word (exactly `word`, not `word=...`). */
bool cmdline_has_word(const char *cmdline, const char *word);

/*
 * Copy the value of the first `name=value` option into buf (NUL-terminated,
 * quotes removed). returns: the value's length, or -1 if absent, or -2 if it
 * does not fit in buf.
 */
int cmdline_get_option(const char *cmdline, const char *name, char *buf, size_t size);

/* Parse an unsigned number: 0x-prefixed hex, or decimal. returns: false when
 * s is empty, has a bad digit, or overflows 64 bits. */
bool parse_u64(const char *s, uint64_t *out);

#endif /* LIB_CMDLINE_H */
