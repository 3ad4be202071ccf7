/*
 * relocs: host tool that lists the places in the kernel image holding an
 * absolute address of the image itself, so that the decompressor can move the
 * kernel to a random virtual address (KASLR) by adding the offset to each.
 *
 * Reads vmlinux linked with --emit-relocs and writes, little-endian:
 *   u32 n64, u32 n32, then n64 u32 offsets of 64-bit fields (R_X86_64_64),
 *   then n32 u32 offsets of 32-bit sign-extended fields (R_X86_64_32S/32),
 * each offset counted from __START_KERNEL (0xffffffff81000000).
 * PC-relative relocations need nothing (both ends move together); absolute
 * symbols outside [_text, _end] (constants such as __START_KERNEL_map) are
 * not addresses of the image and are left alone. Any other relocation type is
 * an error: the image could not be moved safely.
 *
 * Usage: relocs VMLINUX OUT
 */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define START_KERNEL 0xffffffff81000000ULL

static unsigned char *image;
static size_t image_len;

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "relocs: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(1);
}

/* A pointer to [off, off + len) of the file, or death. */
static const void *at(uint64_t off, uint64_t len)
{
	if (off > image_len || len > image_len - off)
		die("%s: truncated ELF file", "vmlinux");
	return image + off;
}

struct list {
	uint32_t *v;
	size_t n, cap;
};

static void push(struct list *l, uint32_t v)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 1024;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			die("%s", "out of memory");
	}
	l->v[l->n++] = v;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: relocs VMLINUX OUT\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f || fseek(f, 0, SEEK_END) || (long)(image_len = (size_t)ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		die("cannot read %s", argv[1]);
	image = malloc(image_len);
	if (!image || fread(image, 1, image_len, f) != image_len)
		die("cannot read %s", argv[1]);
	fclose(f);

	const Elf64_Ehdr *eh = at(0, sizeof(*eh));
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_machine != EM_X86_64 || eh->e_shentsize != sizeof(Elf64_Shdr))
		die("%s is not an x86-64 ELF file", argv[1]);
	const Elf64_Shdr *sh = at(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr));

	/* The symbol table, and the image's bounds from it. */
	const Elf64_Sym *syms = NULL;
	const char *strtab = NULL;
	size_t nsyms = 0;
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type == SHT_SYMTAB) {
			syms = at(sh[i].sh_offset, sh[i].sh_size);
			nsyms = sh[i].sh_size / sizeof(Elf64_Sym);
			if (sh[i].sh_link >= eh->e_shnum)
				die("%s: bad symbol table link", argv[1]);
			strtab = at(sh[sh[i].sh_link].sh_offset, sh[sh[i].sh_link].sh_size);
		}
	}
	if (!syms)
		die("%s has no symbol table", argv[1]);
	uint64_t text = 0, end = 0;
	for (size_t i = 0; i < nsyms; i++) {
		const char *name = strtab + syms[i].st_name;
		if (!strcmp(name, "_text"))
			text = syms[i].st_value;
		else if (!strcmp(name, "_end"))
			end = syms[i].st_value;
	}
	if (text != START_KERNEL || end <= text)
		die("%s: _text must be 0xffffffff81000000 and _end after it", argv[1]);

	struct list r64 = { 0 }, r32 = { 0 };
	size_t relocation_sections = 0;
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type == SHT_REL)
			die("%s: REL relocations are not expected on x86-64", argv[1]);
		if (sh[i].sh_type != SHT_RELA || sh[i].sh_info >= eh->e_shnum)
			continue;
		if (!(sh[sh[i].sh_info].sh_flags & SHF_ALLOC))
			continue; /* debug information: never loaded */
		relocation_sections++;
		const Elf64_Rela *rela = at(sh[i].sh_offset, sh[i].sh_size);
		for (size_t k = 0; k < sh[i].sh_size / sizeof(Elf64_Rela); k++) {
			unsigned type = ELF64_R_TYPE(rela[k].r_info);
			size_t symi = ELF64_R_SYM(rela[k].r_info);
			if (symi >= nsyms)
				die("%s: relocation against a missing symbol", argv[1]);
			const Elf64_Sym *s = &syms[symi];
			switch (type) {
			case R_X86_64_NONE:
			case R_X86_64_PC32:
			case R_X86_64_PLT32:
			case R_X86_64_PC64:
			case R_X86_64_GOTPCREL:
			case R_X86_64_GOTPCRELX:
			case R_X86_64_REX_GOTPCRELX:
				continue; /* relative: moves with the image */
			case R_X86_64_64:
			case R_X86_64_32:
			case R_X86_64_32S:
				break;
			default:
				fprintf(stderr, "relocs: %s: relocation type %u at 0x%llx cannot be moved\n", argv[1],
					type, (unsigned long long)rela[k].r_offset);
				return 1;
			}
			if (s->st_shndx == SHN_UNDEF)
				die("%s: relocation against an undefined symbol", argv[1]);
			if (s->st_shndx == SHN_ABS && (s->st_value < text || s->st_value > end))
				continue; /* a constant, not an address in the image */
			uint64_t field = rela[k].r_offset;
			if (field < text || field >= end)
				die("%s: a relocated field outside [_text, _end)", argv[1]);
			push(type == R_X86_64_64 ? &r64 : &r32, (uint32_t)(field - START_KERNEL));
		}
	}
	if (!relocation_sections)
		die("%s has no relocation sections: link it with --emit-relocs", argv[1]);
	qsort(r64.v, r64.n, sizeof(uint32_t), cmp_u32);
	qsort(r32.v, r32.n, sizeof(uint32_t), cmp_u32);

	FILE *out = fopen(argv[2], "wb");
	uint32_t hdr[2] = { (uint32_t)r64.n, (uint32_t)r32.n };
	if (!out || fwrite(hdr, sizeof(hdr), 1, out) != 1 || (r64.n && fwrite(r64.v, 4, r64.n, out) != r64.n) ||
	    (r32.n && fwrite(r32.v, 4, r32.n, out) != r32.n) || fclose(out))
		die("cannot write %s", argv[2]);
	fprintf(stderr, "  relocs: %zu 64-bit and %zu 32-bit fields\n", r64.n, r32.n);
	return 0;
}
