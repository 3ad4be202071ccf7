/*
 * addrxlat_vtop.c: a second, independent page-table walker for the tests:
 * libkdumpfile reads a kdump-compressed file and its address-translation
 * library (libaddrxlat) walks the x86-64 tables (4- or 5-level) from the
 * dump's CR3, for each virtual address given. ptlab's own walker (lib/paging)
 * takes no part: tests/system/test_ptlab_sources.py compares the two.
 *
 * The CR3 and CR4 (LA57 chooses 5-level paging) come from the QEMU CPU-state
 * note of the first vCPU in the dump's ELF notes (kdump sub-header
 * offset_note / size_note); libkdumpfile does not interpret QEMU's notes, so
 * this program finds the note itself (docs/formats.md, "QEMU ELF core").
 * --cr3 HEX and --levels 4|5 override them.
 *
 * Usage: addrxlat_vtop [--cr3 HEX] [--levels 4|5] KDUMP VA...
 * Prints one line per VA: "VA PA" (lowercase hex) or "VA -" (not mapped).
 * Exit status: 0; 1 (the dump cannot be read or a walk fails for another
 * reason than a non-present entry); 2 (usage).
 * Depends on: libkdumpfile, libaddrxlat (Debian's libkdumpfile-dev), libc.
 */
#include <fcntl.h>
#include <libkdumpfile/kdumpfile.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* kdump disk_dump_header: block_size at 428; the sub-header starts at block 1. */
#define KDUMP_BLOCK_SIZE_OFF    428
#define SUB_OFFSET_NOTE_OFF     48      /* u64 offset_note, then u64 size_note */
/* QEMUCPUState (x86-64): version, size, 16 GPRs, rip, rflags, 10 segments of 24 bytes, cr[5]. */
#define QEMU_STATE_CR_OFF       (8 + 18 * 8 + 10 * 24)
#define CR4_LA57                (1ULL << 12)
#define CR3_ADDR_MASK           0x000FFFFFFFFFF000ULL

static int read_at(int fd, uint64_t off, void *buf, size_t n)
{
    return pread(fd, buf, n, (off_t)off) == (ssize_t)n ? 0 : -1;
}

/*
 * qemu_cpu0_crs - CR3 and CR4 of the first "QEMU" note of a plain kdump file.
 * returns: 0; -1 (no such note, or a short file).
 */
static int qemu_cpu0_crs(const char *path, uint64_t *cr3, uint64_t *cr4)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    uint32_t block;
    uint64_t note[2];
    int r = -1;
    if (read_at(fd, KDUMP_BLOCK_SIZE_OFF, &block, 4) || block < 512 ||
        read_at(fd, block + SUB_OFFSET_NOTE_OFF, note, sizeof(note)) || note[1] > (1u << 24))
        goto out;
    uint8_t *buf = malloc(note[1] ? note[1] : 1);
    if (!buf || read_at(fd, note[0], buf, note[1])) {
        free(buf);
        goto out;
    }
    for (size_t off = 0; off + 12 <= note[1];) {
        uint32_t namesz, descsz;
        memcpy(&namesz, buf + off, 4);
        memcpy(&descsz, buf + off + 4, 4);
        size_t name = off + 12, desc = name + ((namesz + 3u) & ~3u);
        if (desc > note[1] || descsz > note[1] - desc)
            break;
        if (namesz == 5 && memcmp(buf + name, "QEMU", 5) == 0 &&
            descsz >= QEMU_STATE_CR_OFF + 5 * 8) {
            memcpy(cr3, buf + desc + QEMU_STATE_CR_OFF + 3 * 8, 8);
            memcpy(cr4, buf + desc + QEMU_STATE_CR_OFF + 4 * 8, 8);
            r = 0;
            break;
        }
        off = desc + ((descsz + 3u) & ~3u);
    }
    free(buf);
out:
    close(fd);
    return r;
}

/* The x86-64 paging form: a 12-bit page offset and 9 bits per level. */
static addrxlat_meth_t x86_64_pgt(uint64_t cr3, int levels)
{
    addrxlat_meth_t m = { .kind = ADDRXLAT_PGT, .target_as = ADDRXLAT_MACHPHYSADDR };
    m.param.pgt.root.addr = cr3 & CR3_ADDR_MASK;
    m.param.pgt.root.as = ADDRXLAT_MACHPHYSADDR;
    m.param.pgt.pte_mask = 0;
    m.param.pgt.pf.pte_format = ADDRXLAT_PTE_X86_64;
    m.param.pgt.pf.nfields = (unsigned short)(levels + 1);
    m.param.pgt.pf.fieldsz[0] = 12;
    for (int i = 1; i <= levels; i++)
        m.param.pgt.pf.fieldsz[i] = 9;
    return m;
}

/* One VA through libaddrxlat. returns: 0 (line printed); -1 (a failure, on stderr). */
static int vtop(addrxlat_ctx_t *axctx, addrxlat_sys_t *axsys, const addrxlat_meth_t *meth,
                uint64_t va)
{
    addrxlat_step_t step = { .ctx = axctx, .sys = axsys, .meth = meth };
    /* addrxlat_launch reads the root; each addrxlat_step one entry, the last adds the offset. */
    addrxlat_status st = addrxlat_launch(&step, va);
    while (st == ADDRXLAT_OK && step.remain)
        st = addrxlat_step(&step);
    if (st == ADDRXLAT_ERR_NOTPRESENT) {
        printf("%llx -\n", (unsigned long long)va);
        addrxlat_ctx_clear_err(axctx);
        return 0;
    }
    if (st != ADDRXLAT_OK || step.base.as != ADDRXLAT_MACHPHYSADDR) {
        fprintf(stderr, "addrxlat_vtop: %llx: %s\n", (unsigned long long)va,
                st != ADDRXLAT_OK ? addrxlat_ctx_get_err(axctx) : "not a machine address");
        return -1;
    }
    printf("%llx %llx\n", (unsigned long long)va, (unsigned long long)step.base.addr);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: addrxlat_vtop [--cr3 HEX] [--levels 4|5] KDUMP VA...\n");
    return 2;
}

int main(int argc, char **argv)
{
    uint64_t cr3 = 0, cr4 = 0;
    bool have_cr3 = false;
    int levels = 0, i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--cr3") == 0) {
            cr3 = strtoull(argv[i + 1], NULL, 16);
            have_cr3 = true;
        } else if (strcmp(argv[i], "--levels") == 0) {
            levels = atoi(argv[i + 1]);
        } else {
            return usage();
        }
    }
    if (i >= argc || (levels != 0 && levels != 4 && levels != 5))
        return usage();
    const char *path = argv[i++];
    if (!have_cr3 && qemu_cpu0_crs(path, &cr3, &cr4)) {
        fprintf(stderr, "addrxlat_vtop: %s: no QEMU CPU note (give --cr3)\n", path);
        return 1;
    }
    if (!levels)
        levels = (cr4 & CR4_LA57) ? 5 : 4;

    kdump_ctx_t *ctx = kdump_new();
    int fd = open(path, O_RDONLY);
    if (!ctx || fd < 0 || kdump_open_fd(ctx, fd) != KDUMP_OK) {
        fprintf(stderr, "addrxlat_vtop: %s: %s\n", path,
                ctx && fd >= 0 ? kdump_get_err(ctx) : "cannot open");
        return 1;
    }
    addrxlat_ctx_t *axctx;
    addrxlat_sys_t *axsys;
    if (kdump_get_addrxlat(ctx, &axctx, &axsys) != KDUMP_OK) {
        fprintf(stderr, "addrxlat_vtop: %s: %s\n", path, kdump_get_err(ctx));
        return 1;
    }
    addrxlat_meth_t meth = x86_64_pgt(cr3, levels);
    int rc = 0;
    for (; i < argc; i++)
        if (vtop(axctx, axsys, &meth, strtoull(argv[i], NULL, 16)))
            rc = 1;
    addrxlat_ctx_decref(axctx);
    addrxlat_sys_decref(axsys);
    kdump_free(ctx);
    close(fd);
    return rc;
}
