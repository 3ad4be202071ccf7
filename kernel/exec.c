/*
 * exec.c: execve of a program embedded in the kernel image (Linux:
 * fs/exec.c, fs/binfmt_elf.c), the second path to pgd_alloc:
 *
 *   execve -> do_execve -> mm_alloc -> mm_init -> pgd_alloc
 *
 * The new address space is built completely before the old one is dropped:
 * each PT_LOAD segment becomes an area with the segment's rights, its file
 * bytes are copied into fresh pages (the rest, .bss, is faulted in on
 * demand); the stack area (8 MiB below STACK_TOP, on demand) gets one page
 * with argc, argv and the strings, as the System V ABI lays them out. The
 * programs are the C files of user/, linked at 0x400000 and put into .rodata by the
 * build (user_programs[]).
 */
#include <asm/console.h>
#include <asm/mmu_context.h>
#include <asm/sections.h>
#include <asm/segment.h>
#include <asm/stop.h>
#include <linux/sched.h>
#include <uapi/ptlab_unistd.h>

#define PT_LOAD 1
#define PF_X 1
#define PF_W 2
#define PF_R 4
#define ELF_MAX_ADDR 0x0000100000000000ULL /* segments must lie in [4 MiB, 16 TiB) */
#define MAX_ARG_BYTES 3072                 /* argv strings and pointers: one stack page */

struct elf64_ehdr {
	unsigned char e_ident[16];
	uint16_t e_type, e_machine;
	uint32_t e_version;
	uint64_t e_entry, e_phoff, e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

struct elf64_phdr {
	uint32_t p_type, p_flags;
	uint64_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};

const struct user_program *find_user_program(const char *name)
{
	for (const struct user_program *p = user_programs; p->name; p++)
		if (strlen(p->name) == strlen(name) && memcmp(p->name, name, strlen(name)) == 0)
			return p;
	return 0;
}

/* Map [va, va + PAGE_SIZE) in mm to a new page holding n bytes of src at offset off. */
static int map_filled_page(struct mm_struct *mm, const struct vm_area_struct *vma, uint64_t va,
			   const void *src, uint64_t off, uint64_t n)
{
	struct page *page = alloc_user_page();
	if (!page)
		return -ENOMEM;
	if (n)
		memcpy((char *)page_address(page) + off, src, n);
	return map_user_page(mm, vma, va, page);
}

static int load_segment(struct mm_struct *mm, const struct user_program *prog, const struct elf64_phdr *ph)
{
	uint64_t size = (uint64_t)(prog->end - prog->start);
	uint64_t start = ph->p_vaddr & PAGE_MASK, end = (ph->p_vaddr + ph->p_memsz + PAGE_SIZE - 1) & PAGE_MASK;
	unsigned int flags = ((ph->p_flags & PF_R) ? VM_READ : 0) | ((ph->p_flags & PF_W) ? VM_WRITE : 0) |
			     ((ph->p_flags & PF_X) ? VM_EXEC : 0);

	if (ph->p_filesz > ph->p_memsz || ph->p_offset > size || ph->p_filesz > size - ph->p_offset ||
	    ph->p_vaddr < ELF_MIN_ADDR || ph->p_memsz > ELF_MAX_ADDR || ph->p_vaddr > ELF_MAX_ADDR - ph->p_memsz)
		return -ENOEXEC;
	if (insert_vma(mm, start, end, flags))
		return -ENOEXEC;
	const struct vm_area_struct *vma = find_vma(mm, start);
	/* The pages holding file bytes, now; the .bss pages past them on demand. */
	uint64_t file_end = ph->p_vaddr + ph->p_filesz;
	for (uint64_t va = start; va < file_end; va += PAGE_SIZE) {
		uint64_t from = va < ph->p_vaddr ? ph->p_vaddr : va;
		uint64_t to = va + PAGE_SIZE < file_end ? va + PAGE_SIZE : file_end;
		int err = map_filled_page(mm, vma, va, prog->start + ph->p_offset + (from - ph->p_vaddr), from - va,
					  to - from);
		if (err)
			return err;
	}
	if (end > mm->start_brk)
		mm->start_brk = mm->brk = end;
	return 0;
}

/* The initial stack: strings at the top of the highest page, then argc, argv[], NULL, envp NULL, auxv AT_NULL. */
static int setup_arg_pages(struct mm_struct *mm, int argc, char *const argv[], uint64_t *sp)
{
	uint64_t bytes = 0;
	for (int i = 0; i < argc; i++)
		bytes += strlen(argv[i]) + 1;
	if (argc > 32 || bytes + (argc + 6) * 8 + 16 > MAX_ARG_BYTES)
		return -E2BIG;
	int err = insert_vma(mm, STACK_TOP - STACK_MAX, STACK_TOP, VM_READ | VM_WRITE | VM_STACK);
	if (err)
		return err;
	struct page *page = alloc_user_page();
	if (!page)
		return -ENOMEM;
	uint64_t page_va = STACK_TOP - PAGE_SIZE;
	char *kpage = page_address(page);
	uint64_t strp = PAGE_SIZE, ptrs[33];
	for (int i = 0; i < argc; i++) {
		uint64_t n = strlen(argv[i]) + 1;
		strp -= n;
		memcpy(kpage + strp, argv[i], n);
		ptrs[i] = page_va + strp;
	}
	uint64_t words = 1 + (uint64_t)argc + 1 + 1 + 2; /* argc, argv, NULL, envp NULL, AT_NULL pair */
	uint64_t top = (strp & ~15ULL) - words * 8;
	top &= ~15ULL;                                  /* RSP 16-byte aligned at _start */
	uint64_t *w = (uint64_t *)(kpage + top);
	*w++ = (uint64_t)argc;
	for (int i = 0; i < argc; i++)
		*w++ = ptrs[i];
	*w++ = 0;
	*w++ = 0;
	*w++ = 0;
	*w++ = 0;
	err = map_user_page(mm, find_vma(mm, page_va), page_va, page);
	if (err)
		return err;
	*sp = page_va + top;
	return 0;
}

/* Build mm for prog: its segments, heap start and stack. returns: 0 and the entry and stack pointer. */
static int load_elf_binary(struct mm_struct *mm, const struct user_program *prog, int argc, char *const argv[],
			   uint64_t *entry, uint64_t *sp)
{
	uint64_t size = (uint64_t)(prog->end - prog->start);
	struct elf64_ehdr eh;

	if (size < sizeof(eh))
		return -ENOEXEC;
	memcpy(&eh, prog->start, sizeof(eh));
	if (memcmp(eh.e_ident, "\177ELF", 4) || eh.e_ident[4] != 2 /* 64-bit */ || eh.e_type != 2 /* ET_EXEC */ ||
	    eh.e_machine != 0x3e || eh.e_phentsize != sizeof(struct elf64_phdr) || eh.e_phnum > 16 ||
	    eh.e_phoff > size || eh.e_phnum * sizeof(struct elf64_phdr) > size - eh.e_phoff)
		return -ENOEXEC;
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		struct elf64_phdr ph;
		memcpy(&ph, prog->start + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		int err = load_segment(mm, prog, &ph);
		if (err)
			return err;
	}
	struct vm_area_struct *text = find_vma(mm, eh.e_entry);
	if (!text || !(text->vm_flags & VM_EXEC))
		return -ENOEXEC;
	*entry = eh.e_entry;
	return setup_arg_pages(mm, argc, argv, sp);
}

static void start_thread(struct pt_regs *regs, uint64_t entry, uint64_t sp)
{
	*regs = (struct pt_regs){
		.vector = 0x100,
		.rip = entry,
		.cs = __USER_CS,
		.rflags = 0x202, /* IF */
		.rsp = sp,
		.ss = __USER_DS,
	};
}

static void set_comm(struct task_struct *t, const char *name)
{
	size_t n = strlen(name);
	if (n >= sizeof(t->comm))
		n = sizeof(t->comm) - 1;
	memcpy(t->comm, name, n);
	t->comm[n] = '\0';
}

int do_execve(struct pt_regs *regs, const char *name, int argc, char *const argv[])
{
	const struct user_program *prog = find_user_program(name);
	uint64_t entry, sp;

	if (!prog)
		return -ENOENT;
	if (nr_other_threads(current))
		return -EBUSY; /* (Linux kills the other threads first: de_thread) */
	struct mm_struct *mm = mm_alloc();
	if (!mm)
		return -ENOMEM;
	int err = load_elf_binary(mm, prog, argc, argv, &entry, &sp);
	if (err) {
		mmput(mm);
		return err;
	}
	/* The point of no return: the new address space replaces the old one. */
	struct mm_struct *old = current->mm;
	current->mm = mm;
	switch_mm_irqs_off(old, mm, current);
	stop_at(boot_command_line, "exec"); /* stop_at=exec: this process's tables, for QEMU */
	mmput(old);
	set_comm(current, name);
	start_thread(regs, entry, sp);
	return 0;
}

struct task_struct *spawn_user_program(const char *name, int argc, char *const argv[], uint64_t cpus, int *err)
{
	const struct user_program *prog = find_user_program(name);
	uint64_t entry, sp;
	struct pt_regs regs;

	if (!prog) {
		*err = -ENOENT;
		return 0;
	}
	struct task_struct *p = alloc_task();
	if (!p) {
		*err = -EAGAIN;
		return 0;
	}
	struct mm_struct *mm = mm_alloc();
	if (!mm) {
		free_task(p);
		*err = -ENOMEM;
		return 0;
	}
	*err = load_elf_binary(mm, prog, argc, argv, &entry, &sp);
	if (*err) {
		mmput(mm);
		free_task(p);
		return 0;
	}
	p->mm = mm;
	p->parent = current;
	p->cpus_allowed = cpus;
	set_comm(p, name);
	start_thread(&regs, entry, sp);
	task_setup_stack(p, &regs);
	wake_up_new_task(p);
	return p;
}
