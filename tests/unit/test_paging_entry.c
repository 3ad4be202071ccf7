/*
 * test_paging_entry.c: modes as data, level names, VA indices and offsets,
 * entry encode/decode in every mode, reserved-bit rules, error names.
 */
#include <criterion/criterion.h>
#include <paging/paging.h>

static struct pg_ctx ctx_for(unsigned levels)
{
    struct pg_ctx c = { .levels = levels };
    return c;
}

Test(modes, descriptors)
{
    cr_assert_null(pg_mode_get(1));
    cr_assert_null(pg_mode_get(6));
    const struct pg_mode_desc *m = pg_mode_get(4);
    cr_assert_eq(m->va_bits, 48);
    cr_assert_eq(m->level[4].shift, 39);
    cr_assert_eq(m->level[1].shift, 12);
    cr_assert_eq(pg_mode_get(2)->level[2].shift, 22);
    cr_assert_eq(pg_mode_get(2)->level[2].entry_size, 4);
    cr_assert_eq(pg_mode_get(3)->level[3].index_bits, 2);
    cr_assert_eq(pg_mode_get(5)->va_bits, 57);
}

Test(modes, level_names)
{
    static const char *intel5[] = { NULL, "PT", "PD", "PDPT", "PML4", "PML5" };
    static const char *linux5[] = { NULL, "pte", "pmd", "pud", "p4d", "pgd" };
    for (int l = 1; l <= 5; l++) {
        cr_assert_str_eq(pg_level_intel_name(5, l), intel5[l]);
        cr_assert_str_eq(pg_level_linux_name(5, l), linux5[l]);
    }
    cr_assert_str_eq(pg_level_linux_name(4, 4), "pgd");
    cr_assert_str_eq(pg_level_intel_name(4, 4), "PML4");
    cr_assert_str_eq(pg_level_linux_name(3, 3), "pgd");
    cr_assert_str_eq(pg_level_intel_name(3, 3), "PDPT");
    cr_assert_str_eq(pg_level_intel_name(2, 2), "PD");
    cr_assert_null(pg_level_linux_name(4, 5));
}

Test(modes, sizes_and_offsets)
{
    cr_assert_eq(pg_level_size(4, 1), 4096);
    cr_assert_eq(pg_level_size(4, 2), 2ULL << 20);
    cr_assert_eq(pg_level_size(4, 3), 1ULL << 30);
    cr_assert_eq(pg_level_size(2, 2), 4ULL << 20);
    cr_assert_eq(pg_level_size(3, 2), 2ULL << 20);

    /* The page offset: 12 bits (4K), 21 bits (2M), 30 bits (1G). */
    unsigned idx[PG_MAX_LEVELS + 1] = { 0 };
    uint64_t off;
    virt_addr_t va = 0xFFFFFFFF81234567ULL;
    cr_assert_eq(pg_va_split(4, 1, va, idx, &off), 0);
    cr_assert_eq(off, 0x567);
    cr_assert_eq(idx[4], 511);
    cr_assert_eq(idx[3], 510);
    cr_assert_eq(idx[2], 9);
    cr_assert_eq(idx[1], 0x34);
    cr_assert_eq(pg_va_split(4, 2, va, idx, &off), 0);
    cr_assert_eq(off, 0x34567);
    cr_assert_eq(pg_va_split(4, 3, va, idx, &off), 0);
    cr_assert_eq(off, 0x1234567);
    cr_assert_eq(pg_va_split(2, 2, 0xC0401234, idx, &off), 0);
    cr_assert_eq(idx[2], 0x301);
    cr_assert_eq(off, 0x1234);
    cr_assert_eq(pg_va_index(3, 3, 0xC0000000), 3);
    cr_assert_eq(pg_va_index(5, 5, 0xFF11000000000000ULL), 273);
    cr_assert_eq(pg_va_index(4, 4, 0xFFFF888000000000ULL), 273);
    cr_assert_eq(pg_va_index(9, 1, 0), -PG_EINVAL);

    /* Linux helpers agree with the generic code. */
    cr_assert_eq(pgd_index(va), 511);
    cr_assert_eq(pud_index(va), 510);
    cr_assert_eq(pgd_index_l5(0xFF11000000000000ULL), 273);
}

Test(modes, canonical)
{
    cr_assert(pg_is_canonical(4, 0x00007FFFFFFFF000ULL));
    cr_assert_not(pg_is_canonical(4, 0x0000800000000000ULL));
    cr_assert(pg_is_canonical(4, 0xFFFF800000000000ULL));
    cr_assert(pg_is_canonical(5, 0x00FFFFFFFFFFF000ULL));
    cr_assert_not(pg_is_canonical(5, 0x0100000000000000ULL));
    cr_assert_not(pg_is_canonical(2, 0x100000000ULL));
    cr_assert_eq(pg_canonical(4, 0x0000800000000000ULL), 0xFFFF800000000000ULL);
    cr_assert_eq(pg_canonical(5, 0x0100000000000000ULL), 0xFF00000000000000ULL);
}

Test(entries, encode_decode_4level)
{
    struct pg_ctx c = ctx_for(4);
    uint64_t e;
    struct pg_entry d;

    cr_assert_eq(pg_entry_encode(&c, 1, true, 0x1234000, __PAGE_KERNEL, &e), 0);
    cr_assert_eq(e, 0x8000000001234163ULL);
    pg_entry_decode(&c, 1, e, &d);
    cr_assert(d.present && d.leaf);
    cr_assert_eq(d.addr, 0x1234000);
    cr_assert_eq(d.prot, __PAGE_KERNEL);
    cr_assert_eq(d.page_size, 4096);

    /* __PAGE_KERNEL_LARGE as a 2 MiB leaf: PS is the size bit, not PAT. */
    cr_assert_eq(pg_entry_encode(&c, 2, true, 0x200000, __PAGE_KERNEL_LARGE_EXEC, &e), 0);
    cr_assert_eq(e, 0x2001E3ULL);
    pg_entry_decode(&c, 2, e, &d);
    cr_assert(d.leaf);
    cr_assert_eq(d.addr, 0x200000);
    cr_assert_eq(d.prot, 0x163);
    cr_assert_eq(d.page_size, 2ULL << 20);

    /* PAT moves between bit 12 (canonical, large) and bit 7 (4 KiB PTE). */
    cr_assert_eq(pg_entry_encode(&c, 1, true, 0x5000, PTE_P | PTE_PAT_LARGE, &e), 0);
    cr_assert_eq(e, 0x5081ULL);
    pg_entry_decode(&c, 1, e, &d);
    cr_assert_eq(d.prot, PTE_P | PTE_PAT_LARGE);
    cr_assert_eq(pg_entry_encode(&c, 3, true, 0x40000000, PTE_P | PTE_PAT_LARGE, &e), 0);
    cr_assert_eq(e, 0x40001081ULL);
    pg_entry_decode(&c, 3, e, &d);
    cr_assert_eq(d.addr, 0x40000000);
    cr_assert_eq(d.prot, PTE_P | PTE_PAT_LARGE);

    /* Protection key survives in IA-32e. */
    cr_assert_eq(pg_entry_encode(&c, 1, true, 0x1000, PTE_P | (5ULL << PTE_PK_SHIFT), &e), 0);
    cr_assert_eq(e >> PTE_PK_SHIFT & 0xF, 5);

    /* Table entries. */
    cr_assert_eq(pg_entry_encode(&c, 4, false, 0x3000, _PAGE_TABLE, &e), 0);
    cr_assert_eq(e, 0x3067);
    pg_entry_decode(&c, 4, e, &d);
    cr_assert_not(d.leaf);
    cr_assert_eq(d.addr, 0x3000);

    /* Errors. */
    cr_assert_eq(pg_entry_encode(&c, 4, true, 0, PTE_P, &e), -PG_EINVAL);      /* no PML4 leaf */
    cr_assert_eq(pg_entry_encode(&c, 2, true, 0x1000, PTE_P, &e), -PG_EALIGN);
    cr_assert_eq(pg_entry_encode(&c, 1, true, 1ULL << 52, PTE_P, &e), -PG_ERANGE);
    cr_assert_eq(pg_entry_encode(&c, 1, true, 0, PTE_P | 0x2000, &e), -PG_EINVAL);
    cr_assert_eq(pg_entry_encode(&c, 7, true, 0, PTE_P, &e), -PG_EINVAL);
    c.disabled = PG_NO_1G;
    cr_assert_eq(pg_entry_encode(&c, 3, true, 0, PTE_P, &e), -PG_EINVAL);
    c.disabled = PG_NO_NX;
    cr_assert_eq(pg_entry_encode(&c, 1, true, 0x1000, __PAGE_KERNEL, &e), 0);
    cr_assert_eq(e, 0x1163);    /* NX dropped when EFER.NXE = 0 */
}

Test(entries, encode_decode_5level)
{
    struct pg_ctx c = ctx_for(5);
    uint64_t e;
    struct pg_entry d;
    cr_assert_eq(pg_entry_encode(&c, 5, false, 0x9000, _PAGE_TABLE, &e), 0);
    cr_assert_eq(e, 0x9067);
    cr_assert_eq(pg_entry_encode(&c, 5, true, 0, PTE_P, &e), -PG_EINVAL);
    cr_assert_eq(pg_entry_encode(&c, 3, true, 0xFC0000000ULL, __PAGE_KERNEL, &e), 0);
    pg_entry_decode(&c, 3, e, &d);
    cr_assert_eq(d.addr, 0xFC0000000ULL);
    cr_assert_eq(d.page_size, 1ULL << 30);
    cr_assert_eq(d.prot, __PAGE_KERNEL);
}

Test(entries, encode_decode_pae)
{
    struct pg_ctx c = ctx_for(3);
    uint64_t e;
    struct pg_entry d;
    /* PDPTEs keep only P, PWT, PCD. */
    cr_assert_eq(pg_entry_encode(&c, 3, false, 0x7000, _PAGE_TABLE | PTE_PCD, &e), 0);
    cr_assert_eq(e, 0x7011);
    cr_assert_eq(pg_entry_encode(&c, 3, true, 0, PTE_P, &e), -PG_EINVAL);
    /* 2 MiB leaf above 4 GiB, NX kept, PK dropped. */
    cr_assert_eq(pg_entry_encode(&c, 2, true, 0x123400000ULL, __PAGE_KERNEL | (1ULL << 59), &e), 0);
    cr_assert_eq(e, 0x80000001234001E3ULL);
    pg_entry_decode(&c, 2, e, &d);
    cr_assert_eq(d.addr, 0x123400000ULL);
    cr_assert_eq(d.prot, __PAGE_KERNEL);
}

Test(entries, encode_decode_32bit)
{
    struct pg_ctx c = ctx_for(2);
    uint64_t e;
    struct pg_entry d;
    cr_assert_eq(pg_entry_encode(&c, 1, true, 0xABCDE000, __PAGE_KERNEL, &e), 0);
    cr_assert_eq(e, 0xABCDE163ULL);     /* no NX in 32-bit paging */
    /* 4 MiB page at 0x12_34C00000 through PSE-36: PA[39:32] in bits 20:13. */
    cr_assert_eq(pg_entry_encode(&c, 2, true, 0x1234C00000ULL, PTE_P | PTE_W, &e), 0);
    cr_assert_eq(e, 0x34C00000ULL | (0x12ULL << 13) | PTE_PS | PTE_P | PTE_W);
    pg_entry_decode(&c, 2, e, &d);
    cr_assert(d.leaf);
    cr_assert_eq(d.addr, 0x1234C00000ULL);
    cr_assert_eq(d.page_size, 4ULL << 20);
    cr_assert_eq(d.prot, PTE_P | PTE_W);
    /* Beyond 40 bits, or above 4 GiB without PSE-36. */
    cr_assert_eq(pg_entry_encode(&c, 2, true, 1ULL << 40, PTE_P, &e), -PG_ERANGE);
    c.disabled = PG_NO_PSE36;
    cr_assert_eq(pg_entry_encode(&c, 2, true, 0x100000000ULL, PTE_P, &e), -PG_ERANGE);
    /* Without CR4.PSE the PS bit is ignored: the PDE points to a table. */
    c.disabled = PG_NO_PSE;
    pg_entry_decode(&c, 2, 0x00400083ULL, &d);
    cr_assert_not(d.leaf);
    cr_assert_eq(d.addr, 0x00400000ULL);
    cr_assert_eq(pg_entry_encode(&c, 2, true, 0x400000, PTE_P, &e), -PG_EINVAL);
}

Test(entries, reserved_bits)
{
    struct pg_ctx c = ctx_for(4);
    cr_assert_eq(pg_entry_reserved(&c, 1, 0x1003), 0);
    cr_assert_eq(pg_entry_reserved(&c, 1, 0x1002 | (1ULL << 51)), 0);   /* not present: none */
    c.phys_bits = 40;
    cr_assert_eq(pg_entry_reserved(&c, 1, 0x1003 | (1ULL << 45)), 1ULL << 45);
    cr_assert_eq(pg_entry_reserved(&c, 4, 0x1083), PTE_PS);             /* PS in a PML4E */
    cr_assert_eq(pg_entry_reserved(&c, 2, 0x2000 | 0x83), 0x2000);       /* 2M leaf bit 13 */
    cr_assert_eq(pg_entry_reserved(&c, 3, 0x40002000 | 0x83), 0x2000);   /* 1G leaf 29:13 */
    cr_assert_eq(pg_entry_reserved(&c, 3, 0x1000 | 0x83), 0);            /* bit 12 = PAT */
    c.disabled = PG_NO_NX;
    cr_assert_eq(pg_entry_reserved(&c, 1, PTE_NX | 3), PTE_NX);
    c.disabled = PG_NO_1G;
    cr_assert_eq(pg_entry_reserved(&c, 3, 0x40000083), PTE_PS);

    struct pg_ctx p = ctx_for(3);
    cr_assert_eq(pg_entry_reserved(&p, 3, 0x1000 | PTE_P | PTE_W), PTE_W);     /* PDPTE 2:1 */
    cr_assert_eq(pg_entry_reserved(&p, 3, 0x1000 | PTE_P | PTE_NX), PTE_NX);   /* 63 even with NXE */
    cr_assert_eq(pg_entry_reserved(&p, 1, 0x1003 | (1ULL << 55)), 1ULL << 55); /* 62:M in PAE */
    cr_assert_eq(pg_entry_reserved(&p, 2, 0x202083), 0x2000);

    struct pg_ctx t = ctx_for(2);
    t.phys_bits = 36;
    cr_assert_eq(pg_entry_reserved(&t, 2, 0x00400083 | (1u << 17)), 1u << 17); /* 21:17 at M = 36 */
    cr_assert_eq(pg_entry_reserved(&t, 2, 0x00400083 | (1u << 16)), 0);       /* PA bit 35 */
    t.disabled = PG_NO_PSE36;
    cr_assert_eq(pg_entry_reserved(&t, 2, 0x00400083 | (1u << 13)), 1u << 13);
    t.disabled = PG_NO_PAT;
    cr_assert_eq(pg_entry_reserved(&t, 1, 0x1083), PTE_PAT);
}

static uint64_t one_table[512];

static void *one_table_p2v(void *arg, phys_addr_t pa)
{
    (void)arg;
    return pa == 0x1000 ? one_table : NULL;
}

Test(entries, read_write)
{
    struct pg_ctx c = ctx_for(4);
    c.phys_to_virt = one_table_p2v;
    uint64_t v = 0;
    cr_assert_eq(pg_entry_write(&c, 0x1000, 2, 7, 0xABC083), 0);
    cr_assert_eq(one_table[7], 0xABC083);
    cr_assert_eq(pg_entry_read(&c, 0x1000, 2, 7, &v), 0);
    cr_assert_eq(v, 0xABC083);
    cr_assert_eq(pg_entry_read(&c, 0x2000, 2, 7, &v), -PG_EIO);
    cr_assert_eq(pg_entry_read(&c, 0x1000, 2, 512, &v), -PG_EINVAL);
    cr_assert_eq(pg_entry_read(&c, 0x1000, 9, 0, &v), -PG_EINVAL);
    /* 32-bit mode: 4-byte entries. */
    c.levels = 2;
    cr_assert_eq(pg_entry_write(&c, 0x1000, 1, 1, 0x5003), 0);
    cr_assert_eq(((uint32_t *)one_table)[1], 0x5003);
    cr_assert_eq(pg_entry_read(&c, 0x1000, 1, 1023, &v), 0);
}

Test(errors, strerror)
{
    cr_assert_str_eq(pg_strerror(0), "success");
    cr_assert_str_eq(pg_strerror(-PG_ENOMEM), "out of page-table memory");
    cr_assert_str_eq(pg_strerror(-PG_EEXIST), "already mapped");
    cr_assert_str_eq(pg_strerror(-PG_ENOTMAPPED), "not mapped");
    cr_assert_str_eq(pg_strerror(-999), "unknown error");
    for (int e = 1; e < PG_NERRORS_; e++)
        cr_assert_str_neq(pg_strerror(-e), "unknown error");
}
