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
#include <stdint.h>

#define HOST_TOOL "relocs"
#include "host_file.h"

#define START_KERNEL 0xffffffff81000000ULL

static const char *vmlinux; /* its path, for messages */
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
		die("%s: truncated ELF file", vmlinux);
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

/* The ELF file: its section headers, its symbol table, and _text and _end from it. */
struct elf {
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;
	const Elf64_Sym *syms;
	size_t nsyms;
	uint64_t text, end;
};

static void read_elf(struct elf *e)
{
	const char *strtab = NULL;

	e->eh = at(0, sizeof(*e->eh));
	if (memcmp(e->eh->e_ident, ELFMAG, SELFMAG) || e->eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    e->eh->e_machine != EM_X86_64 || e->eh->e_shentsize != sizeof(Elf64_Shdr))
		die("%s is not an x86-64 ELF file", vmlinux);
	e->sh = at(e->eh->e_shoff, (uint64_t)e->eh->e_shnum * sizeof(Elf64_Shdr));
	for (unsigned i = 0; i < e->eh->e_shnum; i++) {
		const Elf64_Shdr *s = &e->sh[i];
		if (s->sh_type != SHT_SYMTAB)
			continue;
		e->syms = at(s->sh_offset, s->sh_size);
		e->nsyms = s->sh_size / sizeof(Elf64_Sym);
		if (s->sh_link >= e->eh->e_shnum)
			die("%s: bad symbol table link", vmlinux);
		strtab = at(e->sh[s->sh_link].sh_offset, e->sh[s->sh_link].sh_size);
	}
	if (!e->syms)
		die("%s has no symbol table", vmlinux);
	for (size_t i = 0; i < e->nsyms; i++) {
		const char *name = strtab + e->syms[i].st_name;
		if (!strcmp(name, "_text"))
			e->text = e->syms[i].st_value;
		else if (!strcmp(name, "_end"))
			e->end = e->syms[i].st_value;
	}
	if (e->text != START_KERNEL || e->end <= e->text)
		die("%s: _text must be 0xffffffff81000000 and _end after it", vmlinux);
}

/* One relocation: recorded in r64 or r32 if it holds an absolute address of the image. */
static void take_rela(const struct elf *e, const Elf64_Rela *r, struct list *r64, struct list *r32)
{
	unsigned type = ELF64_R_TYPE(r->r_info);
	size_t symi = ELF64_R_SYM(r->r_info);

	if (symi >= e->nsyms)
		die("%s: relocation against a missing symbol", vmlinux);
	const Elf64_Sym *s = &e->syms[symi];
	switch (type) {
	case R_X86_64_NONE:
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
	case R_X86_64_PC64:
	case R_X86_64_GOTPCREL:
	case R_X86_64_GOTPCRELX:
	case R_X86_64_REX_GOTPCRELX:
		return; /* relative: moves with the image */
	case R_X86_64_64:
	case R_X86_64_32:
	case R_X86_64_32S:
		break;
	default:
		fprintf(stderr, "relocs: %s: relocation type %u at 0x%llx cannot be moved\n", vmlinux, type,
			(unsigned long long)r->r_offset);
		exit(1);
	}
	if (s->st_shndx == SHN_UNDEF)
		die("%s: relocation against an undefined symbol", vmlinux);
	if (s->st_shndx == SHN_ABS && (s->st_value < e->text || s->st_value > e->end))
		return; /* a constant, not an address in the image */
	if (r->r_offset < e->text || r->r_offset >= e->end)
		die("%s: a relocated field outside [_text, _end)", vmlinux);
	push(type == R_X86_64_64 ? r64 : r32, (uint32_t)(r->r_offset - START_KERNEL));
}

int main(int argc, char **argv)
{
	struct elf e = { 0 };
	struct list r64 = { 0 }, r32 = { 0 };
	size_t relocation_sections = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: relocs VMLINUX OUT\n");
		return 2;
	}
	vmlinux = argv[1];
	image = read_file(vmlinux, &image_len, 0);
	read_elf(&e);
	for (unsigned i = 0; i < e.eh->e_shnum; i++) {
		const Elf64_Shdr *s = &e.sh[i];
		if (s->sh_type == SHT_REL)
			die("%s: REL relocations are not expected on x86-64", vmlinux);
		if (s->sh_type != SHT_RELA || s->sh_info >= e.eh->e_shnum)
			continue;
		if (!(e.sh[s->sh_info].sh_flags & SHF_ALLOC))
			continue; /* debug information: never loaded */
		relocation_sections++;
		const Elf64_Rela *rela = at(s->sh_offset, s->sh_size);
		for (size_t k = 0; k < s->sh_size / sizeof(Elf64_Rela); k++)
			take_rela(&e, &rela[k], &r64, &r32);
	}
	if (!relocation_sections)
		die("%s has no relocation sections: link it with --emit-relocs", vmlinux);
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
