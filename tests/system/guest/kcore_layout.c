/*
 * kcore_layout.c: the memory layout of a running x86-64 Linux kernel, read from
 * the program headers of /proc/kcore. This is the truth the page-table
 * inference of `ptlab regions` is checked against (docs/linux-oracle.md).
 *
 * /proc/kcore is an ELF core file. After one PT_NOTE, Linux writes one PT_LOAD
 * per entry of its kcore list: KCORE_RAM (each range of system RAM, at its
 * direct-map address), KCORE_TEXT (the kernel image, _text to _end, at its
 * high-mapping address), KCORE_VMALLOC (the vmalloc area; on x86-64 a second
 * one for the modules area when modules are configured), KCORE_VMEMMAP (for
 * each RAM range, the pages of the struct page array that describe it) and
 * KCORE_USER (the vsyscall page, when vsyscall emulation is configured). The
 * headers carry no type field; the types are told apart by what Linux puts
 * in them:
 *   - p_paddr is the physical address for KCORE_RAM (__pa of the address) and
 *     KCORE_TEXT (__pa_symbol), and all ones for every other type;
 *   - KCORE_TEXT, the modules area and the vsyscall page lie at or above
 *     __START_KERNEL_map (0xffffffff80000000); the direct map, the vmalloc area
 *     and vmemmap lie below it;
 *   - the vsyscall page is the one page at VSYSCALL_ADDR (0xffffffffff600000);
 *   - the vmalloc area's size is VMALLOC_END - VMALLOC_START where VMALLOC_END
 *     is the area's last byte, so it is one less than a multiple of 1 TiB: the
 *     only segment below __START_KERNEL_map whose size is not a whole number
 *     of pages. KCORE_VMEMMAP sizes are page-aligned.
 * From them:
 *   page_offset_base  = p_vaddr - p_paddr of any KCORE_RAM segment (all agree);
 *   vmalloc_base      = p_vaddr of the KCORE_VMALLOC segment below
 *                       __START_KERNEL_map (VMALLOC_START);
 *   vmemmap_base      = the lowest KCORE_VMEMMAP segment's p_vaddr rounded down
 *                       to 1 GiB. That segment starts at the page holding the
 *                       struct page of the lowest RAM page, vmemmap_base + pfn *
 *                       sizeof(struct page) rounded down to a page; vmemmap_base
 *                       itself is 1 GiB aligned (the fixed base, and the
 *                       randomised ones, which Linux rounds to PUD_SIZE), so the
 *                       rounding recovers it while that offset stays below
 *                       1 GiB (RAM starting below 64 GiB with a 64-byte struct
 *                       page);
 *   kernel_text_start = p_vaddr of KCORE_TEXT (_text);
 *   phys_base         = KCORE_TEXT's p_paddr - (p_vaddr - __START_KERNEL_map).
 *
 * Output, one line each, hex without 0x, 16 digits:
 *   kcore: segment TYPE vaddr=V paddr=P size=S     (paddr=- when all ones)
 *   kcore: NAME=HEX                                 (NAME one of the five bases)
 *   kcore: NAME=none (REASON)                       (a base that cannot be derived)
 *   kcore: end
 * Depends on: the C library's <elf.h>, pread, write.
 */
#include "kcore_layout.h"

#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define START_KERNEL_MAP 0xffffffff80000000ULL
#define VSYSCALL_ADDR    0xffffffffff600000ULL
#define NO_PADDR         0xffffffffffffffffULL
#define PAGE_SIZE_       4096ULL
#define PUD_SIZE_        (1ULL << 30)
#define MAX_PHDRS        512

enum kc_type { KC_RAM, KC_TEXT, KC_VMALLOC, KC_VMEMMAP, KC_USER };

static const char *const kc_names[] = {
    [KC_RAM] = "KCORE_RAM", [KC_TEXT] = "KCORE_TEXT", [KC_VMALLOC] = "KCORE_VMALLOC",
    [KC_VMEMMAP] = "KCORE_VMEMMAP", [KC_USER] = "KCORE_USER",
};

/* One derived base: its value, or why there is none. */
struct base {
    const char *name;
    uint64_t value;
    const char *missing;    /* NULL: value is valid */
};

static Elf64_Phdr phdrs[MAX_PHDRS];

/* say - printf one line to fd out (the caller's format ends in a newline). */
static void say(int out, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line))
        n = sizeof(line) - 1;
    for (int done = 0; done < n;) {
        ssize_t w = write(out, line + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        done += w;
    }
}

/* classify - the kcore list type of one PT_LOAD header (the rules above). */
static enum kc_type classify(const Elf64_Phdr *p)
{
    if (p->p_paddr != NO_PADDR)
        return p->p_vaddr >= START_KERNEL_MAP ? KC_TEXT : KC_RAM;
    if (p->p_vaddr >= START_KERNEL_MAP)
        return p->p_vaddr == VSYSCALL_ADDR && p->p_memsz == PAGE_SIZE_ ? KC_USER : KC_VMALLOC;
    return (p->p_memsz & (PAGE_SIZE_ - 1)) ? KC_VMALLOC : KC_VMEMMAP;
}

/* read_phdrs - the ELF header and up to MAX_PHDRS program headers of fd.
 * returns: the number of program headers, or -1 after saying what was wrong. */
static int read_phdrs(int fd, int out)
{
    Elf64_Ehdr eh;
    if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh)) {
        say(out, "kcore: error cannot read the ELF header (%s)\n", strerror(errno));
        return -1;
    }
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_type != ET_CORE || eh.e_phentsize != sizeof(Elf64_Phdr)) {
        say(out, "kcore: error not a 64-bit ELF core\n");
        return -1;
    }
    if (eh.e_phnum > MAX_PHDRS) {
        say(out, "kcore: error %u program headers, at most %d read\n", eh.e_phnum, MAX_PHDRS);
        return -1;
    }
    size_t len = (size_t)eh.e_phnum * sizeof(Elf64_Phdr);
    if (pread(fd, phdrs, len, (off_t)eh.e_phoff) != (ssize_t)len) {
        say(out, "kcore: error cannot read the program headers (%s)\n", strerror(errno));
        return -1;
    }
    return eh.e_phnum;
}

/* derive - fill the five bases from the program headers (rules above);
 * prints each PT_LOAD segment with its type as it goes. */
static void derive(int n, int out, struct base *po, struct base *vm, struct base *vmemmap,
                   struct base *text, struct base *phys)
{
    uint64_t lowest_vmemmap = 0;
    int have_vmemmap = 0;

    for (int i = 0; i < n; i++) {
        const Elf64_Phdr *p = &phdrs[i];
        if (p->p_type != PT_LOAD)
            continue;
        enum kc_type t = classify(p);
        if (p->p_paddr == NO_PADDR)
            say(out, "kcore: segment %s vaddr=%016llx paddr=- size=%016llx\n", kc_names[t],
                (unsigned long long)p->p_vaddr, (unsigned long long)p->p_memsz);
        else
            say(out, "kcore: segment %s vaddr=%016llx paddr=%016llx size=%016llx\n", kc_names[t],
                (unsigned long long)p->p_vaddr, (unsigned long long)p->p_paddr,
                (unsigned long long)p->p_memsz);
        switch (t) {
        case KC_RAM:
            if (po->missing) {
                po->value = p->p_vaddr - p->p_paddr;
                po->missing = NULL;
            } else if (po->value != p->p_vaddr - p->p_paddr) {
                po->missing = "KCORE_RAM segments disagree";
            }
            break;
        case KC_TEXT:
            text->value = p->p_vaddr;
            text->missing = NULL;
            phys->value = p->p_paddr - (p->p_vaddr - START_KERNEL_MAP);
            phys->missing = NULL;
            break;
        case KC_VMALLOC:
            if (p->p_vaddr < START_KERNEL_MAP) {
                vm->value = p->p_vaddr;
                vm->missing = NULL;
            }
            break;
        case KC_VMEMMAP:
            if (!have_vmemmap || p->p_vaddr < lowest_vmemmap)
                lowest_vmemmap = p->p_vaddr;
            have_vmemmap = 1;
            break;
        case KC_USER:
            break;
        }
    }
    if (have_vmemmap) {
        vmemmap->value = lowest_vmemmap & ~(PUD_SIZE_ - 1);
        vmemmap->missing = NULL;
    }
}

int kcore_layout_print(int fd, int out)
{
    struct base po = { "page_offset_base", 0, "no KCORE_RAM segment" };
    struct base vm = { "vmalloc_base", 0, "no KCORE_VMALLOC segment below the kernel image" };
    struct base vmemmap = { "vmemmap_base", 0, "no KCORE_VMEMMAP segment" };
    struct base text = { "kernel_text_start", 0, "no KCORE_TEXT segment" };
    struct base phys = { "phys_base", 0, "no KCORE_TEXT segment" };

    int n = read_phdrs(fd, out);
    if (n < 0)
        return -1;
    derive(n, out, &po, &vm, &vmemmap, &text, &phys);

    const struct base *all[] = { &po, &vm, &vmemmap, &phys, &text };
    int status = 0;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (all[i]->missing) {
            say(out, "kcore: %s=none (%s)\n", all[i]->name, all[i]->missing);
            status = 1;
        } else {
            say(out, "kcore: %s=%016llx\n", all[i]->name, (unsigned long long)all[i]->value);
        }
    }
    say(out, "kcore: end\n");
    return status;
}
