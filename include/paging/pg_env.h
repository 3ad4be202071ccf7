/*
 * pg_env.h: the one platform dependency of the freestanding libraries (lib/).
 *
 * Hosted builds (tools, tests, benches) take the C library's <string.h>;
 * freestanding builds (boot code, kernel) get the declarations of the few
 * functions the kernel supplies itself (lib/string.c).
 */
#ifndef PAGING_PG_ENV_H
#define PAGING_PG_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if __STDC_HOSTED__
#include <string.h>
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
#endif

#endif /* PAGING_PG_ENV_H */
