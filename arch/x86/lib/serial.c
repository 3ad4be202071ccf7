/*
 * serial.c: a polled 16550 UART driver for COM1 (115200 8N1).
 * Compiled into every boot environment; needs only port I/O.
 * Each byte waits for the transmitter holding register to be empty (Bochs
 * drops bytes otherwise); the wait is bounded so a missing UART never hangs.
 */
#include <asm/console.h>
#include <asm/processor.h>

#define UART_THR 0 /* transmit holding register */
#define UART_IER 1 /* interrupt enable */
#define UART_FCR 2 /* FIFO control */
#define UART_LCR 3 /* line control */
#define UART_MCR 4 /* modem control */
#define UART_LSR 5 /* line status */
#define UART_DLL 0 /* divisor latch, with LCR.DLAB */
#define UART_DLM 1
#define UART_LSR_DR   0x01 /* data ready */
#define UART_LSR_THRE 0x20

void serial_init(void)
{
	outb(0x00, COM1_PORT + UART_IER);  /* no interrupts */
	outb(0x80, COM1_PORT + UART_LCR);  /* DLAB on */
	outb(0x01, COM1_PORT + UART_DLL);  /* 115200 baud */
	outb(0x00, COM1_PORT + UART_DLM);
	outb(0x03, COM1_PORT + UART_LCR);  /* 8N1, DLAB off */
	outb(0xC7, COM1_PORT + UART_FCR);  /* FIFO on and cleared */
	outb(0x03, COM1_PORT + UART_MCR);  /* DTR, RTS */
}

void serial_putc(char c)
{
	for (unsigned int spin = 0; spin < 100000; spin++)
		if (inb(COM1_PORT + UART_LSR) & UART_LSR_THRE)
			break;
	outb((uint8_t)c, COM1_PORT + UART_THR);
}

int serial_getc_nonblock(void)
{
	if (!(inb(COM1_PORT + UART_LSR) & UART_LSR_DR))
		return -1;
	return inb(COM1_PORT + UART_THR);
}

#ifdef KERNEL
/* Called while serial_getc waits (the kernel sets it to let processes run). */
void (*serial_idle_hook)(void);
#endif

char serial_getc(void)
{
	int c;
	while ((c = serial_getc_nonblock()) < 0) {
#ifdef KERNEL
		if (serial_idle_hook)
			serial_idle_hook();
#endif
		__asm__ volatile("pause");
	}
	return (char)c;
}
