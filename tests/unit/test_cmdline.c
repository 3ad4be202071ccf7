/*
 * test_cmdline.c: the kernel command-line parser (lib/cmdline.c) that every
 * boot stage uses for `quiet`, `kernel_phys=` and later options.
 */
#include <criterion/criterion.h>
#include <lib/cmdline.h>

Test(cmdline, whole_words_only)
{
	cr_assert(cmdline_has_word("quiet", "quiet"));
	cr_assert(cmdline_has_word("  a quiet  b", "quiet"));
	cr_assert(cmdline_has_word("a\tquiet\n", "quiet"));
	cr_assert_not(cmdline_has_word("quieter", "quiet"));
	cr_assert_not(cmdline_has_word("notquiet", "quiet"));
	cr_assert_not(cmdline_has_word("quiet=1", "quiet"));
	cr_assert_not(cmdline_has_word("", "quiet"));
	cr_assert_not(cmdline_has_word(NULL, "quiet"));
	cr_assert_not(cmdline_has_word("run=\"a quiet b\"", "quiet"), "words inside quotes are not words");
}

Test(cmdline, options)
{
	char buf[16];
	cr_assert_eq(cmdline_get_option("a kernel_phys=0x2000000 b", "kernel_phys", buf, sizeof(buf)), 9);
	cr_assert_str_eq(buf, "0x2000000");
	cr_assert_eq(cmdline_get_option("x=1 x=2", "x", buf, sizeof(buf)), 1);
	cr_assert_str_eq(buf, "1", "the first occurrence wins");
	char big[32];
	cr_assert_eq(cmdline_get_option("run=\"ptdump; vtop 0x1\" q", "run", big, sizeof(big)), 16);
	cr_assert_str_eq(big, "ptdump; vtop 0x1", "quotes removed, spaces kept");
	/* GRUB's linux command quotes a word with spaces whole: "run=a b" */
	cr_assert_eq(cmdline_get_option("quiet \"run=cr3;run nullsys 9\" x", "run", big, sizeof(big)), 17);
	cr_assert_str_eq(big, "cr3;run nullsys 9");
	cr_assert_eq(cmdline_get_option("\"", "run", big, sizeof(big)), -1);
	cr_assert_eq(cmdline_get_option("kernel_phys", "kernel_phys", buf, sizeof(buf)), -1);
	cr_assert_eq(cmdline_get_option("kernel_physx=1", "kernel_phys", buf, sizeof(buf)), -1);
	cr_assert_eq(cmdline_get_option("k=", "k", buf, sizeof(buf)), 0, "present with an empty value");
	cr_assert_str_eq(buf, "");
	cr_assert_eq(cmdline_get_option("k=0123456789abcdef", "k", buf, sizeof(buf)), -2, "too long");
	cr_assert_eq(cmdline_get_option(NULL, "k", buf, sizeof(buf)), -1);
}

Test(cmdline, numbers)
{
	uint64_t v;
	cr_assert(parse_u64("0", &v) && v == 0);
	cr_assert(parse_u64("12345", &v) && v == 12345);
	cr_assert(parse_u64("0x2000000", &v) && v == 0x2000000);
	cr_assert(parse_u64("0XfFfF", &v) && v == 0xffff);
	cr_assert(parse_u64("18446744073709551615", &v) && v == UINT64_MAX);
	cr_assert(parse_u64("0xffffffffffffffff", &v) && v == UINT64_MAX);
	cr_assert_not(parse_u64("18446744073709551616", &v), "decimal overflow");
	cr_assert_not(parse_u64("0x10000000000000000", &v), "hex overflow");
	cr_assert_not(parse_u64("", &v));
	cr_assert_not(parse_u64("0x", &v));
	cr_assert_not(parse_u64("12a", &v));
	cr_assert_not(parse_u64("-1", &v));
	cr_assert_not(parse_u64(NULL, &v));
}
