/*
 * kcore_layout.h: read the memory layout of a running x86-64 Linux kernel from
 * the program headers of its /proc/kcore (kcore_layout.c).
 * Depends on: the C library (a static binary inside the guest, or a host test).
 */
#ifndef KCORE_LAYOUT_H
#define KCORE_LAYOUT_H

#include <stdint.h>

/*
 * kcore_layout_print - read the ELF header and program headers of the kcore
 * file open at fd and write one line per segment and one per derived base to
 * out, in the fixed format documented in kcore_layout.c.
 * returns: 0 when every base could be derived, 1 when some could not (their
 * lines say why), -1 when fd holds no readable 64-bit ELF core (a line on out
 * says what was wrong).
 */
int kcore_layout_print(int fd, int out);

#endif /* KCORE_LAYOUT_H */
