/*
 * console.h: the serial console every ptlab boot stage prints through.
 *
 * One 16550 driver and one printk, compiled into each environment: the 16-bit
 * real-mode setup, the 32-bit report blob of startup_32, the decompressor and
 * the kernel. Stage blocks go through stage_begin()/stage_printk(), which the
 * command-line word `quiet` silences; printk() and panic() always print.
 */
#ifndef ASM_CONSOLE_H
#define ASM_CONSOLE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#define COM1_PORT 0x3F8

/* isa-debug-exit (iobase 0xf4): QEMU exits with status (value << 1) | 1. */
#define QEMU_EXIT_PORT    0xF4
#define QEMU_EXIT_SUCCESS 0x10 /* status 33 */
#define QEMU_EXIT_FAILURE 0x11 /* status 35 */

void serial_init(void);
void serial_putc(char c);
/* A received byte, or -1 if none is waiting. */
int serial_getc_nonblock(void);
/* Wait for a received byte (polling). */
char serial_getc(void);
#ifdef KERNEL
/* Called while serial_getc waits (kernel/sched.c: lets processes run). */
extern void (*serial_idle_hook)(void);
#endif

int printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One message at a time on the console, from whichever CPU (kernel; no-ops elsewhere). */
void console_lock(void);
void console_unlock(void);
int vprintk(const char *fmt, va_list ap);

/* Stage reports: silenced by `quiet`. The kernel also keeps them in a log for `stages`. */
extern bool stage_quiet;
#ifdef KERNEL
extern char stage_log[];
extern unsigned int stage_log_len;
#endif
int stage_printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "[name] title", the CPU mode the caller runs in and CR0/CR3/CR4/EFER. */
void stage_begin(const char *name, const char *title);
/* Name of the CPU mode the calling code runs in (real, protected, compatibility, 64-bit). */
const char *cpu_mode_name(void);

/* Leave QEMU through isa-debug-exit with `code`; halt if there is no such device. */
__attribute__((noreturn)) void qemu_exit(uint8_t code);
/* Print "ptlab: panic: <reason>" and leave with QEMU_EXIT_FAILURE. */
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

#endif /* ASM_CONSOLE_H */
