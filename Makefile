# ptlab: x86-64 page tables, booted and explained.
#
# Targets: all (default), run, gdb, iso, check, unit, system, fuzz, freestanding, matrix,
# bench, boot-story, pictures, install, uninstall, clean.
# Everything is built under build/, which mirrors the source tree.
#
#   build/bzImage          the kernel, bootable by QEMU -kernel or GRUB's `linux`
#   build/ptlab            the host tool that reads QEMU guests' page tables
#   build/host/libptlab.a  host build of the freestanding libraries (for tools and benches)
#   build/san/libptlab.a   the same under ASan+UBSan (for unit tests)

B          := build
CC         := gcc
LD         := ld
OBJCOPY    := objcopy
PYTHON     := /usr/bin/python3
QEMU       := qemu-system-x86_64
MEM        ?= 512M
CPU        ?= max
APPEND     ?=
QEMUOPTS   ?=

.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:
.SECONDARY:

# ---------------------------------------------------------------------------
# Compiler flags.
# ---------------------------------------------------------------------------
WARN       := -Wall -Wextra -Werror
GCC_INC    := $(shell $(CC) -print-file-name=include)
# Flags shared by every freestanding (boot/kernel) object.
FREE_BASE  := -std=gnu11 $(WARN) -ffreestanding -nostdinc -isystem $(GCC_INC) -Iinclude \
              -fno-stack-protector -fno-stack-check -fno-asynchronous-unwind-tables \
              -fno-strict-aliasing -fno-common -fno-builtin -Os -g \
              -mno-80387 -mno-mmx -mno-sse -mno-sse2 -mgeneral-regs-only
# Real-mode setup: 16-bit code (gcc emits .code16gcc), linked at 0 inside one 64 KiB segment.
SETUP_CFLAGS  := $(FREE_BASE) -m16 -march=i386 -mregparm=3 -fno-pic -fno-jump-tables \
                 -fomit-frame-pointer -DBOOT_SETUP
# The 32-bit report blob called from startup_32: position-independent, flat.
BLOB32_CFLAGS := $(FREE_BASE) -m32 -march=i686 -fpic -fvisibility=hidden -fno-jump-tables \
                 -DBOOT_PM32
# The decompressor's 64-bit C: position-independent, no absolute relocations allowed.
ZO_CFLAGS     := $(FREE_BASE) -m64 -mno-red-zone -fpie -fvisibility=hidden -fno-jump-tables \
                 -DBOOT_COMPRESSED
# The kernel proper, linked at 0xffffffff81000000.
K_CFLAGS      := $(FREE_BASE) -m64 -mno-red-zone -mcmodel=kernel -fno-pic -fno-pie -DKERNEL
# Kernel code that runs before the jump to the virtual address (identity mapped): PIC.
K_EARLY_CFLAGS := $(FREE_BASE) -m64 -mno-red-zone -fpic -fvisibility=hidden -fno-jump-tables -DKERNEL

HOST_BASE     := -std=gnu11 $(WARN) -g -Iinclude -D_GNU_SOURCE
HOST_CFLAGS   := $(HOST_BASE) -O2
SAN_FLAGS     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# libFuzzer harnesses (clang): the host flags at -O1, with the sanitizers above.
FUZZ_CC       := clang
FUZZ_CFLAGS   := $(HOST_BASE) -O1 $(SAN_FLAGS)
DEPFLAGS       = -MMD -MP

# ---------------------------------------------------------------------------
# Host libraries: every freestanding library source, compiled for the host.
# lib/paging is the shared paging library; the other lib/ files are the
# freestanding helpers the boot code uses (LZ4, CRC32, printf).
# ---------------------------------------------------------------------------
PAGING_SRCS := $(sort $(wildcard lib/paging/*.c))
HOSTLIB_SRCS := $(PAGING_SRCS) $(sort $(wildcard lib/*.c))
HOST_OBJS := $(patsubst %.c,$(B)/host/%.o,$(HOSTLIB_SRCS))
SAN_OBJS  := $(patsubst %.c,$(B)/san/%.o,$(HOSTLIB_SRCS))

$(B)/host/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(B)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) $(DEPFLAGS) -c $< -o $@
$(B)/host/libptlab.a: $(HOST_OBJS)
	@rm -f $@; ar rcs $@ $^
$(B)/san/libptlab.a: $(SAN_OBJS)
	@rm -f $@; ar rcs $@ $^

# ---------------------------------------------------------------------------
# Host unit tests: tests/unit/test_*.c, one Criterion binary each, ASan+UBSan.
# ---------------------------------------------------------------------------
UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(UNIT_SRCS))
UNIT_LIBS   = -lcriterion -llz4 $(PTLAB_LIBS)

$(B)/tests/unit/%: tests/unit/%.c $(B)/san/libptlab.a
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) $(DEPFLAGS) -Itests/unit $< $(B)/san/libptlab.a $(UNIT_LIBS) -o $@

# ---------------------------------------------------------------------------
# Benchmarks: bench/*.c, optimised host builds without sanitizers; bench/run prints figures.
# ---------------------------------------------------------------------------
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRCS))
$(B)/bench/%: bench/%.c $(B)/host/libptlab.a
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -O3 $(DEPFLAGS) $< $(B)/host/libptlab.a -llz4 -o $@

# ---------------------------------------------------------------------------
# Host tool: tools/ptlab/*.c -> build/ptlab (and a sanitizer build for tests).
# ---------------------------------------------------------------------------
PTLAB_SRCS := $(sort $(wildcard tools/ptlab/*.c))
# The decompressors of kdump-compressed dumps (Debian's zlib, LZO, snappy, zstd).
PTLAB_LIBS := -lz -llzo2 -lsnappy -lzstd
# build/ptlab is linked statically: a `maps` run is a few milliseconds, and the dynamic
# loader's work (five libraries, libstdc++ for snappy) was half of it. snappy is C++: its
# runtime comes along. The sanitizer build stays dynamic (ASan needs that). No NSS: the
# socket code resolves numeric hosts and localhost itself (tools/ptlab/sockio.c).
PTLAB_STATIC := -static $(PTLAB_LIBS) -lstdc++ -lm
ifneq ($(PTLAB_SRCS),)
# Both builds: the tests run the sanitizer one on bad input.
PTLAB_BIN  := $(B)/ptlab $(B)/san/ptlab
$(B)/ptlab: $(PTLAB_SRCS) $(B)/host/libptlab.a
	$(CC) $(HOST_CFLAGS) $(DEPFLAGS) -Itools/ptlab $(PTLAB_SRCS) $(B)/host/libptlab.a $(PTLAB_STATIC) -o $@
$(B)/san/ptlab: $(PTLAB_SRCS) $(B)/san/libptlab.a
	$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) $(DEPFLAGS) -Itools/ptlab $(PTLAB_SRCS) $(B)/san/libptlab.a $(PTLAB_LIBS) -o $@
endif
# The tests' second, independent walker: libkdumpfile's address translation over a kdump
# file (tests/system/addrxlat_vtop.c; Debian's libkdumpfile-dev, installed by make check).
KDUMPFILE_LIBS := -lkdumpfile -laddrxlat
$(B)/tests/addrxlat_vtop: tests/system/addrxlat_vtop.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(DEPFLAGS) $< $(KDUMPFILE_LIBS) -o $@
# The draw map page's script and style, embedded into the tool as C strings.
PTLAB_ASSETS := $(sort $(wildcard tools/ptlab/*.js tools/ptlab/*.css))
$(B)/gen/draw_assets.h: $(PTLAB_ASSETS) scripts/embed-text
	@mkdir -p $(dir $@)
	scripts/embed-text $(PTLAB_ASSETS) > $@
$(B)/ptlab $(B)/san/ptlab: $(B)/gen/draw_assets.h
$(B)/ptlab $(B)/san/ptlab: HOST_CFLAGS += -I$(B)/gen

# ---------------------------------------------------------------------------
# The kernel image.
# ---------------------------------------------------------------------------
include arch/x86/Makefile.boot

# ---------------------------------------------------------------------------
# Top-level targets.
# ---------------------------------------------------------------------------
.PHONY: all deps deps-check run gdb iso check check-build unit system fuzz freestanding matrix bench \
        install uninstall clean linux-oracle boot-story pictures

all: $(B)/bzImage $(PTLAB_BIN)

deps:
	@scripts/install-deps run
deps-check:
	@scripts/install-deps check

QEMU_RUN = $(QEMU) -kernel $(B)/bzImage -m $(MEM) -cpu $(CPU) -display none -no-reboot \
           -serial mon:stdio -device isa-debug-exit,iobase=0xf4,iosize=4 $(QEMUOPTS)

# make run: the serial console and the QEMU monitor share this terminal (Ctrl-A c switches).
# A gdbstub on a free port and the guest RAM shared in a file (with a QMP socket) let
# build/ptlab read the running guest from a second terminal: run prints both command lines.
RUN_FREE_PORT = $(PYTHON) -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
run: deps
	@$(MAKE) --no-print-directory $(B)/bzImage $(B)/ptlab
	@port=$$($(RUN_FREE_PORT)) && ram=/dev/shm/ptlab-run-$$$$.ram && qmp=$(abspath $(B))/run-$$$$.qmp && \
	trap 'rm -f $$ram $$qmp' EXIT && trap 'exit 1' INT TERM HUP && \
	echo "ptlab: booting in QEMU (-m $(MEM) -cpu $(CPU)); Ctrl-A c: monitor, Ctrl-A x: quit" && \
	echo "ptlab: in a second terminal, the live guest through its gdbstub or its shared RAM:" && \
	echo "  $(abspath $(B))/ptlab maps --gdb localhost:$$port" && \
	echo "  $(abspath $(B))/ptlab maps --mem-file $$ram --qmp $$qmp" && \
	$(QEMU_RUN) -append "$(APPEND)" -gdb tcp:127.0.0.1:$$port -qmp unix:$$qmp,server=on,wait=off \
	  -object memory-backend-file,id=ram0,size=$(MEM),mem-path=$$ram,share=on \
	  -machine memory-backend=ram0 || true

gdb: deps
	@$(MAKE) --no-print-directory $(B)/bzImage
	@sed -e 's|@VMLINUX@|$(B)/vmlinux|' -e "s|@PORT@|$$((25000 + $$(id -u) % 5000))|" scripts/gdbinit.in > .gdbinit
	@echo "ptlab: QEMU waits for gdb on localhost:$$((25000 + $$(id -u) % 5000)); run gdb in this directory"
	-$(QEMU_RUN) -append "$(APPEND)" -S -gdb tcp::$$((25000 + $$(id -u) % 5000))

iso: deps-check $(B)/ptlab.iso

$(B)/ptlab.iso: $(B)/bzImage scripts/grub.cfg
	@rm -rf $(B)/iso && mkdir -p $(B)/iso/boot/grub
	cp $(B)/bzImage $(B)/iso/boot/bzImage
	cp scripts/grub.cfg $(B)/iso/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(B)/iso >$(B)/grub-mkrescue.log 2>&1 || { cat $(B)/grub-mkrescue.log; exit 1; }

unit: $(UNIT_BINS)
	@scripts/run-unit $(UNIT_BINS)

# The Linux kernel the Linux oracle tests boot, built once into ~/.cache/ptlab (docs/linux-oracle.md);
# make check builds it with the rest, a single test that needs it builds it on first use.
linux-oracle:
	@scripts/build-linux >/dev/null

system: all $(B)/tests/addrxlat_vtop
	$(PYTHON) -m pytest -q -p no:cacheprovider --durations=20 tests/system $(PYTEST_ARGS)

# Short fuzz pass over every tests/fuzz harness (FUZZ_SECONDS each; FUZZ_NAMES: some only).
FUZZ_SECONDS ?= 5
FUZZ_NAMES   ?=
fuzz:
	FUZZ_CC="$(FUZZ_CC)" FUZZ_CFLAGS="$(FUZZ_CFLAGS)" FUZZ_LIBS="$(PTLAB_LIBS)" scripts/fuzz-smoke $(FUZZ_SECONDS) $(FUZZ_NAMES)

# The freestanding library objects of every boot environment, as the build made them.
FREESTANDING_OBJS = $(filter $(foreach e,setup blob32 zo kernel,$(B)/$(e)/lib/%),\
                    $(SETUP_OBJS) $(BLOB32_OBJS) $(ZO_OBJS) $(KERNEL_OBJS))
freestanding: $(B)/bzImage
	@scripts/check-freestanding $(sort $(FREESTANDING_OBJS))

# Everything check runs before the suites.
check-build: all $(UNIT_BINS) $(B)/tests/addrxlat_vtop linux-oracle

# make check: every suite, each timed, then one summary line per suite (scripts/run-check).
check: deps-check
	@MAKE="$(MAKE)" scripts/run-check

matrix: deps-check all $(B)/ptlab.iso $(B)/tests/unit/test_mmu_enum
	PTLAB_MATRIX=full $(B)/tests/unit/test_mmu_enum    # the whole kvm-unit-tests access enumeration
	PTLAB_MATRIX=full $(PYTHON) -m pytest -q -p no:cacheprovider tests/system $(PYTEST_ARGS)

# The boot, in pictures: one boot paused after each stage (stop_at=), dumped and drawn
# by ptlab draw into build/boot-story/boot-story.html. pictures: the same and a Debian
# guest's map, tree and walk into docs/pictures/ (what README.md and docs/boot.md show).
boot-story: deps-check all
	$(PYTHON) scripts/boot-story
pictures: deps-check all
	$(PYTHON) scripts/draw-pictures

bench: deps-check all $(BENCH_BINS) $(B)/bench/stub-bzImage
	@scripts/run-bench $(BENCH_BINS)

# The host tool alone, for packagers and for people who only want ptlab:
# make install [PREFIX=/usr/local] [DESTDIR=]  (builds nothing but build/ptlab)
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
install: $(B)/ptlab
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(MANDIR)/man1"
	install -m 755 $(B)/ptlab "$(DESTDIR)$(BINDIR)/ptlab"
	install -m 644 docs/ptlab.1 "$(DESTDIR)$(MANDIR)/man1/ptlab.1"
uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/ptlab" "$(DESTDIR)$(MANDIR)/man1/ptlab.1"

clean:
	rm -rf $(B) .gdbinit

-include $(shell find $(B) -name '*.d' 2>/dev/null)
