# arch/x86/Makefile.boot: how the bzImage is made (included by the top Makefile).
#
#   setup.bin          16-bit real-mode setup (arch/x86/boot), linked at 0
#   zo/report32.bin    32-bit report blob that startup_32 calls
#   vmlinux            the kernel, linked at 0xffffffff81000000
#   vmlinux.bin.all    its flat image, then its relocation table (for KASLR)
#   vmlinux.bin.lz4    that, compressed by Debian's lz4 (legacy format)
#   zo/vmlinux.bin     the decompressor with the compressed kernel inside
#   bzImage            setup.bin + zo/vmlinux.bin, header patched by tools/build

# Sources shared by every boot environment: console, strings, command line, printf.
BOOT_COMMON := arch/x86/lib/serial.c arch/x86/lib/printk.c arch/x86/lib/string.c arch/x86/lib/stop.c \
               lib/cmdline.c lib/vsprintf.c

SETUP_SRCS  := arch/x86/boot/header.S arch/x86/boot/main.c arch/x86/boot/memory.c \
               arch/x86/boot/a20.c arch/x86/boot/pm.c arch/x86/boot/pmjump.S $(BOOT_COMMON)
BLOB32_SRCS := arch/x86/boot/compressed/report32.c arch/x86/boot/compressed/la57.c $(BOOT_COMMON)
ZO_SRCS     := arch/x86/boot/compressed/head_64.S arch/x86/boot/compressed/misc.c \
               arch/x86/boot/compressed/la57.c arch/x86/boot/compressed/kaslr.c arch/x86/lib/kaslr.c \
               lib/decompress_unlz4.c lib/crc32.c $(BOOT_COMMON)
# Processes: GDT/TSS, SYSCALL, timer, per-process tables and PCID, fork/exec/exit, threads.
PROCESS_SRCS := arch/x86/kernel/gdt.c arch/x86/kernel/entry_user.S arch/x86/kernel/syscall.c \
                arch/x86/kernel/apic.c arch/x86/mm/pgtable.c arch/x86/mm/tlb.c arch/x86/mm/fault_user.c \
                mm/memory.c kernel/sched.c kernel/fork.c kernel/exec.c kernel/exit.c kernel/sys.c \
                kernel/futex.c kernel/proc_shell.c kernel/proc_test.c
# SMP: per-CPU areas, the firmware's CPU list, the real-mode trampoline, bring-up, IPIs.
SMP_SRCS := arch/x86/kernel/setup_percpu.c arch/x86/kernel/acpi/boot.c arch/x86/kernel/smpboot.c \
            arch/x86/kernel/smp.c arch/x86/realmode/init.c arch/x86/realmode/rm/trampoline_64.S \
            kernel/smp_shell.c kernel/smp_test.c
# The memory regions: KASLR of the direct map, vmalloc and vmemmap; vmalloc, ioremap, PAT, fixmap;
# the ACPI tables and the PCI VGA device that ioremap maps; the shell's `layout`.
LAYOUT_SRCS := arch/x86/lib/kaslr.c arch/x86/mm/kaslr.c mm/sparse-vmemmap.c mm/vmalloc.c \
               arch/x86/mm/ioremap.c arch/x86/mm/pat.c drivers/acpi/tables.c arch/x86/pci/direct.c \
               drivers/video/bochs_vga.c arch/x86/mm/dump_layout.c kernel/vm_test.c
# Page-table isolation: the pti= decision, the user PGDs' kernel part, each CPU's cpu_entry_area.
PTI_SRCS := arch/x86/mm/pti.c arch/x86/mm/cpu_entry_area.c
KERNEL_SRCS := arch/x86/kernel/head_64.S arch/x86/kernel/head64.c init/main.c \
               arch/x86/kernel/entry_64.S arch/x86/kernel/traps.c arch/x86/kernel/cpu.c \
               arch/x86/kernel/setup.c arch/x86/mm/fault.c arch/x86/mm/init.c \
               mm/memblock.c mm/page_alloc.c kernel/selftest.c kernel/readline.c kernel/shell.c \
               $(PROCESS_SRCS) $(SMP_SRCS) $(LAYOUT_SRCS) $(PTI_SRCS) \
               $(sort $(wildcard kernel/mmutest/*.c kernel/mmutest/*.S)) \
               $(PAGING_SRCS) \
               $(BOOT_COMMON) $(KERNEL_EXTRA_SRCS)

objs = $(patsubst %,$(B)/$(1)/%.o,$(basename $(2)))
SETUP_OBJS  := $(call objs,setup,$(SETUP_SRCS))
BLOB32_OBJS := $(call objs,blob32,$(BLOB32_SRCS))
ZO_OBJS     := $(call objs,zo,$(ZO_SRCS)) $(B)/zo/piggy.o
KERNEL_OBJS := $(call objs,kernel,$(KERNEL_SRCS))
include user/Makefile.user
STUB_SETUP_OBJS := $(B)/setup-stub/arch/x86/boot/header.o $(filter-out %/header.o,$(SETUP_OBJS))

HIDDEN := -include include/asm/hidden.h

# One compile rule per environment (C and assembly).
$(B)/setup/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(SETUP_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(B)/setup/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(SETUP_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(B)/setup-stub/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(SETUP_CFLAGS) -DBENCH_STUB $(DEPFLAGS) -c $< -o $@
$(B)/blob32/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BLOB32_CFLAGS) $(HIDDEN) $(DEPFLAGS) -Iarch/x86/boot/compressed -c $< -o $@
$(B)/zo/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ZO_CFLAGS) $(HIDDEN) $(DEPFLAGS) -Iarch/x86/boot/compressed -c $< -o $@
$(B)/zo/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(ZO_CFLAGS) $(DEPFLAGS) -DREPORT32_BIN='"$(B)/zo/report32.bin"' -Iarch/x86/boot/compressed -c $< -o $@
$(B)/kernel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_THIS_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(B)/kernel/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(K_CFLAGS) $(DEPFLAGS) -c $< -o $@

KERNEL_THIS_CFLAGS = $(K_CFLAGS)
# head64.c runs partly before the jump to virtual addresses: position-independent.
$(B)/kernel/arch/x86/kernel/head64.o: KERNEL_THIS_CFLAGS = $(K_EARLY_CFLAGS) $(HIDDEN)

# Code that runs wherever it was loaded must not carry absolute addresses.
$(B)/zo/.pic-checked: $(filter-out %/head_64.o %/piggy.o,$(ZO_OBJS)) $(BLOB32_OBJS) scripts/check-pic
	scripts/check-pic $(filter %.o,$^)
	@touch $@

# --- the real-mode setup ---
$(B)/setup.elf: $(SETUP_OBJS) arch/x86/boot/setup.ld
	$(LD) -m elf_i386 -nostdlib -static -z noexecstack --no-warn-rwx-segments -T arch/x86/boot/setup.ld $(SETUP_OBJS) -o $@
$(B)/setup-stub.elf: $(STUB_SETUP_OBJS) arch/x86/boot/setup.ld
	$(LD) -m elf_i386 -nostdlib -static -z noexecstack --no-warn-rwx-segments -T arch/x86/boot/setup.ld $(STUB_SETUP_OBJS) -o $@
$(B)/%.bin: $(B)/%.elf
	$(OBJCOPY) -O binary $< $@

# --- the kernel ---
$(B)/vmlinux: $(KERNEL_OBJS) arch/x86/kernel/vmlinux.lds
	$(LD) -m elf_x86_64 -nostdlib -static -z max-page-size=0x1000 -z noexecstack --emit-relocs \
		-T arch/x86/kernel/vmlinux.lds $(KERNEL_OBJS) -o $@
$(B)/vmlinux.bin: $(B)/vmlinux
	$(OBJCOPY) -O binary -R '.rela*' $< $@
# The relocation table KASLR needs, after the image (arch/x86/tools/relocs).
$(B)/vmlinux.relocs: $(B)/vmlinux $(B)/tools/relocs
	$(B)/tools/relocs $< $@
$(B)/vmlinux.bin.all: $(B)/vmlinux.bin $(B)/vmlinux.relocs
	cat $^ > $@
$(B)/vmlinux.bin.lz4: $(B)/vmlinux.bin.all
	lz4 -l -9 -q -f $< $@

# --- the decompressor ---
$(B)/zo/report32.elf: $(BLOB32_OBJS) arch/x86/boot/compressed/blob32.lds
	@mkdir -p $(dir $@)
	$(LD) -m elf_i386 -nostdlib -static -z noexecstack --no-warn-rwx-segments -T arch/x86/boot/compressed/blob32.lds $(BLOB32_OBJS) -o $@
$(B)/zo/report32.bin: $(B)/zo/report32.elf
	$(OBJCOPY) -O binary $< $@
$(B)/zo/arch/x86/boot/compressed/head_64.o: $(B)/zo/report32.bin

$(B)/tools/mkpiggy: arch/x86/boot/compressed/mkpiggy.c lib/crc32.c arch/x86/tools/host_file.h
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(filter %.c,$^) -o $@
$(B)/tools/build: arch/x86/boot/tools/build.c arch/x86/tools/host_file.h
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(filter %.c,$^) -o $@
$(B)/tools/relocs: arch/x86/tools/relocs.c arch/x86/tools/host_file.h
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(filter %.c,$^) -o $@

nm_value = $$(nm $(1) | awk '$$3 == "$(2)" { print "0x" $$1 }')

$(B)/zo/piggy.S: $(B)/vmlinux.bin.all $(B)/vmlinux.bin.lz4 $(B)/tools/mkpiggy
	$(B)/tools/mkpiggy $(B)/vmlinux.bin.all $(B)/vmlinux.bin.lz4 \
		$(call nm_value,$(B)/vmlinux,_kernel_mem_size) $$(stat -c %s $(B)/vmlinux.bin) > $@
$(B)/zo/piggy.o: $(B)/zo/piggy.S
	$(CC) $(ZO_CFLAGS) -c $< -o $@

$(B)/zo/vmlinux: $(ZO_OBJS) arch/x86/boot/compressed/vmlinux.lds $(B)/zo/.pic-checked
	$(LD) -m elf_x86_64 -nostdlib -static -z noexecstack --no-warn-rwx-segments \
		-T arch/x86/boot/compressed/vmlinux.lds $(ZO_OBJS) -o $@
$(B)/zo/vmlinux.bin: $(B)/zo/vmlinux
	$(OBJCOPY) -O binary $< $@

# init_size: the decompressor rounded up to 2 MiB, then the kernel with its .bss.
INIT_SIZE = $$(( ($(call nm_value,$(B)/zo/vmlinux,_zo_mem_size) + 0x1fffff) / 0x200000 * 0x200000 \
                 + $(call nm_value,$(B)/vmlinux,_kernel_mem_size) ))

$(B)/bzImage: $(B)/setup.bin $(B)/zo/vmlinux.bin $(B)/tools/build
	$(B)/tools/build $(B)/setup.bin $(B)/zo/vmlinux.bin $(INIT_SIZE) $@

# The bench's firmware floor: the same image whose setup exits at once.
$(B)/bench/stub-bzImage: $(B)/setup-stub.bin $(B)/zo/vmlinux.bin $(B)/tools/build
	@mkdir -p $(dir $@)
	$(B)/tools/build $(B)/setup-stub.bin $(B)/zo/vmlinux.bin $(INIT_SIZE) $@
