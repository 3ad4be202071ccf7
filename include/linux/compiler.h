/*
 * compiler.h: READ_ONCE/WRITE_ONCE, for variables that an exception handler
 * changes behind the compiler's back (the early #PF map's counters).
 */
#ifndef LINUX_COMPILER_H
#define LINUX_COMPILER_H

#define READ_ONCE(x)     (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

#endif /* LINUX_COMPILER_H */
