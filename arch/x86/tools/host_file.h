/*
 * host_file.h: what the host programs of the kernel build share (relocs,
 * arch/x86/boot/compressed/mkpiggy, arch/x86/boot/tools/build): reading a
 * whole file and parsing a number argument, each stopping the build with
 * "HOST_TOOL: <reason>" on failure. Header-only (each tool is one C file
 * that defines HOST_TOOL, its name, before including it); uses libc.
 */
#ifndef X86_TOOLS_HOST_FILE_H
#define X86_TOOLS_HOST_FILE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The whole of path in a new buffer followed by `extra` zero bytes; *len is
 * the file's size. Exits with status 1 if it cannot be read.
 */
static inline unsigned char *read_file(const char *path, size_t *len, size_t extra)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, HOST_TOOL ": %s: %s\n", path, strerror(errno));
		exit(1);
	}
	buf = calloc(1, (size_t)n + extra);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, HOST_TOOL ": %s: read failed\n", path);
		exit(1);
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/*
 * The number s (decimal or 0x hex), which must lie in [min, max]; what names
 * it in the message. Exits with status 2 if it is malformed or out of range.
 */
static inline unsigned long long parse_number(const char *s, const char *what, unsigned long long min,
					      unsigned long long max)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);

	if (!*s || *end || v < min || v > max) {
		fprintf(stderr, HOST_TOOL ": bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

#endif /* X86_TOOLS_HOST_FILE_H */
