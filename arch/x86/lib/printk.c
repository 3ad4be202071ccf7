/*
 * printk.c: printk, stage reports, panic and the QEMU exit, on top of the
 * serial driver and lib/vsprintf.c. Compiled into every boot environment:
 * the same source reports from real mode, protected mode, compatibility mode
 * and 64-bit mode. '\n' goes out as CR LF. In the kernel one message at a
 * time reaches the port (console_lock), whichever CPU prints it.
 */
#include <asm/console.h>
#include <asm/processor.h>
#include <lib/vsprintf.h>

bool stage_quiet;

#ifdef KERNEL
#include <linux/spinlock.h>

static DEFINE_SPINLOCK(console_spinlock);
static bool oops_in_progress; /* panic: print even if the lock is held (maybe by this CPU) */

void console_lock(void)
{
	if (!oops_in_progress)
		spin_lock(&console_spinlock);
}

void console_unlock(void)
{
	if (!oops_in_progress)
		spin_unlock(&console_spinlock);
}
#else
void console_lock(void) {}
void console_unlock(void) {}
#endif

#ifdef KERNEL
#define STAGE_LOG_SIZE 32768
char stage_log[STAGE_LOG_SIZE];
unsigned int stage_log_len;

static void log_putc(void *arg, char c)
{
	(void)arg;
	if (stage_log_len < STAGE_LOG_SIZE - 1)
		stage_log[stage_log_len++] = c;
}
#endif

static void console_putc(void *arg, char c)
{
	(void)arg;
	if (c == '\n')
		serial_putc('\r');
	serial_putc(c);
}

int vprintk(const char *fmt, va_list ap)
{
	console_lock();
	int n = vcbprintf(console_putc, 0, fmt, ap);
	console_unlock();
	return n;
}

int printk(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}

int stage_printk(const char *fmt, ...)
{
	va_list ap;
	int n = 0;

#ifdef KERNEL
	va_start(ap, fmt);
	vcbprintf(log_putc, 0, fmt, ap);
	va_end(ap);
#endif
	if (stage_quiet)
		return 0;
	va_start(ap, fmt);
	n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}

const char *cpu_mode_name(void)
{
#if defined(__x86_64__)
	return "IA-32e 64-bit mode";
#elif defined(BOOT_SETUP)
	return (read_cr0() & X86_CR0_PE) ? "16-bit protected mode" : "real mode (16-bit)";
#else
	if (read_efer_safe() & EFER_LMA)
		return "IA-32e compatibility mode (32-bit code, long mode active)";
	return (read_cr0() & X86_CR0_PG) ? "protected mode (32-bit), paging on"
					 : "protected mode (32-bit), paging off";
#endif
}

void stage_begin(const char *name, const char *title)
{
	stage_printk("\n[%s] %s\n", name, title);
	stage_printk("  mode: %s\n", cpu_mode_name());
	stage_printk("  CR0=%016llx CR3=%016llx CR4=%016llx EFER=%016llx\n",
		     (unsigned long long)read_cr0(), (unsigned long long)read_cr3(),
		     (unsigned long long)read_cr4(), (unsigned long long)read_efer_safe());
}

void qemu_exit(uint8_t code)
{
	outb(code, QEMU_EXIT_PORT);
	halt_forever();
}

void panic(const char *fmt, ...)
{
	va_list ap;

#ifdef KERNEL
	oops_in_progress = true;
#endif
	printk("\nptlab: panic: ");
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	printk("\n");
	qemu_exit(QEMU_EXIT_FAILURE);
}
