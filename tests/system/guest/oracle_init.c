/*
 * oracle_init.c: /init of the Linux oracle guests (tests/system/linux_oracle.py,
 * docs/linux-oracle.md). A static program, the only process the guest ever
 * runs: it prints the kernel's memory layout from /proc/kcore
 * (kcore_layout.c) and the ptdump files of /sys/kernel/debug/page_tables to
 * the console, then stops at oracle_stop_here, where the host has put a
 * breakpoint (QEMU's gdbstub) and dumps the guest's memory.
 *
 * Between reading a ptdump file and the breakpoint nothing may change the page
 * tables the file described; what this program does for that:
 *   - mlockall(MCL_CURRENT | MCL_FUTURE) first: every page of the program
 *     (text, data, bss with the read buffer, stack) is faulted in before any
 *     file is read, writable ones by a write fault, so that no later access
 *     adds a page-table entry or sets an accessed or dirty bit (ptdump splits
 *     its lines on those bits too, though it does not print them);
 *   - no malloc, no stdio, no fork, no exec: no new mapping, no second
 *     process whose stack or page tables come and go;
 *   - it never exits (PID 1), so its own page tables - the ones current_kernel
 *     and current_user show - stay as they were;
 *   - tcdrain before the breakpoint: every byte has left the guest's UART.
 *
 * Console output (LF line ends; the tty adds CRs):
 *   oracle: start
 *   kcore: ...                                  (kcore_layout.c's lines)
 *   oracle: file NAME bytes=N                   then the N bytes of the file,
 *   oracle: end NAME                            for each of kernel,
 *                                               current_kernel, current_user present
 *   oracle: missing NAME (ERROR)                for each one absent or unreadable
 *   oracle: ready
 * Depends on: the C library (linked statically), kcore_layout.c.
 */
#include "kcore_layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <termios.h>
#include <unistd.h>

#define PTDUMP_DIR "/sys/kernel/debug/page_tables/"

static char file_buf[4 << 20];     /* one ptdump file; in bss, so mlockall faults it in */

/* put - write len bytes of s to the console (stdout), whole. */
static void put(const char *s, size_t len)
{
    while (len) {
        ssize_t w = write(1, s, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        len -= w;
    }
}

static void puts_(const char *s)
{
    put(s, strlen(s));
}

/* mount_or_say - mount a pseudo file system, or print why not. */
static void mount_or_say(const char *type, const char *dir)
{
    char line[160];
    if (mount(type, dir, type, 0, NULL) != 0) {
        snprintf(line, sizeof(line), "oracle: error mount %s on %s: %s\n", type, dir,
                 strerror(errno));
        puts_(line);
    }
}

/* print_layout - kcore_layout_print on /proc/kcore. */
static void print_layout(void)
{
    char line[160];
    int fd = open("/proc/kcore", O_RDONLY);
    if (fd < 0) {
        snprintf(line, sizeof(line), "kcore: error open /proc/kcore: %s\nkcore: end\n",
                 strerror(errno));
        puts_(line);
        return;
    }
    kcore_layout_print(fd, 1);
    close(fd);
}

/* print_ptdump - read the ptdump file NAME whole, then print it framed. */
static void print_ptdump(const char *name)
{
    char path[128], line[160];
    size_t len = 0;
    snprintf(path, sizeof(path), PTDUMP_DIR "%s", name);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        snprintf(line, sizeof(line), "oracle: missing %s (%s)\n", name, strerror(errno));
        puts_(line);
        return;
    }
    for (;;) {
        ssize_t r = read(fd, file_buf + len, sizeof(file_buf) - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(line, sizeof(line), "oracle: missing %s (%s)\n", name, strerror(errno));
            puts_(line);
            close(fd);
            return;
        }
        if (r == 0 || (len += r) == sizeof(file_buf))
            break;
    }
    close(fd);
    snprintf(line, sizeof(line), "oracle: file %s bytes=%zu\n", name, len);
    puts_(line);
    put(file_buf, len);
    snprintf(line, sizeof(line), "oracle: end %s\n", name);
    puts_(line);
}

/*
 * oracle_stop_here - where the host's breakpoint stops the guest. Called once,
 * after everything was printed and drained; never inlined, so that it has an
 * address of its own in the symbol table.
 */
__attribute__((noinline, used)) void oracle_stop_here(void)
{
    __asm__ volatile("" ::: "memory");
}

int main(void)
{
    static const char *const files[] = { "kernel", "current_kernel", "current_user" };

    if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
        puts_("oracle: error mlockall\n");
    puts_("oracle: start\n");
    mount_or_say("proc", "/proc");
    mount_or_say("sysfs", "/sys");
    mount_or_say("debugfs", "/sys/kernel/debug");
    print_layout();
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        print_ptdump(files[i]);
    puts_("oracle: ready\n");
    tcdrain(1);
    oracle_stop_here();
    for (;;)
        pause();
}
