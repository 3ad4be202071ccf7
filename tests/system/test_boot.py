"""System tests of the boot chain: stage blocks and their values against the
decompressor's identity map and the kernel head's compile-time tables (early_top_pgt,
level3_kernel_pgt, level2_kernel_pgt), CPUs and memory sizes, a moved kernel,
GRUB's 32-bit entry, QEMU's monitor as an independent oracle, and bad input.
"""
import os
import re
import shutil
import subprocess

import pytest

from kernel_regions import CPU_ENTRY_AREA_BASE, WINDOW_START, region_bases
from ptlab_qemu import (BUILD, BZIMAGE, EXIT_FAILURE, EXIT_SUCCESS, ISO, ROOT, BOOT_SECONDS, Monitor,
                        boot, make_iso)

STAGES = ["setup", "startup_32", "startup_32:paging", "decompressor", "head_64", "start_kernel",
          "memblock", "init_mem_mapping", "mark_rodata_ro", "mem_init", "vmalloc_init", "acpi", "pci"]
MODES = {
    "setup": "real mode (16-bit)",
    "startup_32": "protected mode (32-bit), paging off",
    "startup_32:paging": "IA-32e compatibility mode",
    "decompressor": "IA-32e 64-bit mode",
    "head_64": "IA-32e 64-bit mode",
    "start_kernel": "IA-32e 64-bit mode",
    "memblock": "IA-32e 64-bit mode",
    "init_mem_mapping": "IA-32e 64-bit mode",
    "mark_rodata_ro": "IA-32e 64-bit mode",
    "mem_init": "IA-32e 64-bit mode",
    "vmalloc_init": "IA-32e 64-bit mode",
    "acpi": "IA-32e 64-bit mode",
    "pci": "IA-32e 64-bit mode",
}
START_KERNEL_MAP = 0xffffffff80000000
LOAD_PHYSICAL_ADDR = 0x1000000


def check_identity_map(b):
    """The decompressor's 4 GiB identity map: PML4[0] -> PDPT + 0x007, PDPT[i] -> PD i + 0x007,
    PD[i] = i * 2 MiB + 0x183."""
    blk = b.block("startup_32")
    pgtable = b.value("startup_32", r"pgtable at 0x([0-9a-f]+)")
    assert pgtable % 4096 == 0
    assert b.value("startup_32", r"PML4\[0\]    = 0x([0-9a-f]+)") == pgtable + 0x1000 + 0x007
    for i in range(4):
        assert b.value("startup_32", r"PDPT\[%d\]    = 0x([0-9a-f]+)" % i) == pgtable + 0x2000 + i * 0x1000 + 0x007
    assert b.value("startup_32", r"PD\[0\]      = 0x([0-9a-f]+)") == 0x183
    assert b.value("startup_32", r"PD\[1\]      = 0x([0-9a-f]+)") == 0x200183
    assert b.value("startup_32", r"PD\[2047\]   = 0x([0-9a-f]+)") == 2047 * 0x200000 + 0x183
    # CR3 points at the table (or, 5-level, at a PML5 above it), CR4.PAE, EFER.LME, paging still off.
    cr3 = b.value("startup_32", r"CR3=([0-9a-f]+)")
    if "5-level" in blk:
        assert b.value("startup_32", r"pgtable_l5 at 0x([0-9a-f]+)") == cr3
        assert b.value("startup_32", r"PML5\[0\]    = 0x([0-9a-f]+)") == pgtable + 0x007
        assert b.value("startup_32", r"CR4=([0-9a-f]+)") & 0x1000, "LA57 set before paging"
    else:
        assert cr3 == pgtable
        assert not b.value("startup_32", r"CR4=([0-9a-f]+)") & 0x1000
    assert b.value("startup_32", r"CR4=([0-9a-f]+)") & 0x20
    assert b.value("startup_32", r"EFER=([0-9a-f]+)") & 0x100
    assert not b.value("startup_32", r"CR0=([0-9a-f]+)") & 0x80000000
    assert "IA-32e" not in blk
    # After CR0.PG: LMA set, same CR3.
    assert b.value("startup_32:paging", r"EFER=([0-9a-f]+)") & 0x400
    assert b.value("startup_32:paging", r"CR3=([0-9a-f]+)") == cr3


def kernel_virt(b):
    """Where _text runs (0xffffffff81000000 without KASLR)."""
    return b.value("head_64", r"running at 0x([0-9a-f]+)")


def check_kernel_head(b, phys):
    """The kernel head's tables: early_top_pgt[511] -> level3_kernel_pgt, [510] -> level2_kernel_pgt,
    [511] -> fixmap, relocated to wherever the kernel runs (physical phys, virtual kernel_virt(b))."""
    virt = kernel_virt(b)
    assert virt % 0x200000 == 0 and 0xffffffff81000000 <= virt < 0xffffffffa0000000
    delta = (phys - (virt - START_KERNEL_MAP)) & (2**64 - 1)
    assert b.value("head_64", r"load_delta = 0x([0-9a-f]+)") == delta
    assert b.value("head_64", r"phys_base = 0x([0-9a-f]+)") == delta
    assert b.value("head_64", r"loaded at physical 0x([0-9a-f]+)") == phys
    top = b.value("head_64", r"early_top_pgt +at 0x([0-9a-f]+)")
    assert b.value("head_64", r"CR3=([0-9a-f]+)") == top
    if "paging: 5-level" in b.block("head_64"):
        # early_top_pgt (a PML5)[511] -> level4_kernel_pgt, whose [511] -> level3_kernel_pgt
        top511 = b.value("head_64", r"\(CR3\): \[511\] = 0x([0-9a-f]+) -> level4_kernel_pgt")
        assert top511 & 0xfff == 0x067 and phys <= top511 & ~0xfff < phys + 0x200000 * 8
    e511 = b.value("head_64", r"\[511\] = 0x([0-9a-f]+) -> level3_kernel_pgt")
    l3_510 = b.value("head_64", r"\[510\] = 0x([0-9a-f]+) -> level2_kernel_pgt")
    l3_511 = b.value("head_64", r"\[511\] = 0x([0-9a-f]+) -> level2_fixmap_pgt")
    mem_end = phys + 0x200000 * 8
    for entry, flags in ((e511, 0x067), (l3_510, 0x063), (l3_511, 0x067)):
        assert entry & 0xfff == flags
        assert phys <= entry & ~0xfff < mem_end, "the tables live inside the relocated image"
    # The first present level2_kernel_pgt entry maps _text: index (virt - __START_KERNEL_map) / 2 MiB.
    first_idx = int(re.search(r"first present \[(\d+)\]", b.block("head_64")).group(1))
    assert first_idx == (virt - START_KERNEL_MAP) >> 21, "0xffffffff81000000 is level2_kernel_pgt[8]"
    assert b.value("head_64", r"first present \[\d+\] = 0x([0-9a-f]+)") == phys + 0x1e3
    # The last present entry covers _end - 1: the rest of the 512 MiB window lost P.
    kernel_end = b.value("decompressor", r"kernel occupies \[0x[0-9a-f]+-0x([0-9a-f]+)\)")
    last_idx = int(re.search(r"last present  \[(\d+)\]", b.block("head_64")).group(1))
    assert last_idx == first_idx + (kernel_end - 1 - phys) // 0x200000
    assert b.value("head_64", r"last present  \[\d+\] = 0x([0-9a-f]+)") == phys + (last_idx - first_idx) * 0x200000 + 0x1e3
    before = b.value("head_64", r"RIP before the jump: 0x([0-9a-f]+)")
    after = b.value("head_64", r"RIP after the jump:  0x([0-9a-f]+)")
    assert phys <= before < phys + 0x200000
    assert virt <= after < virt + 0x200000
    # The jump lands just after the recorded RIP in the same code, now through the high mapping.
    assert 0 < (after - virt) - (before - phys) < 64
    sk = b.value("start_kernel", r"start_kernel at 0x([0-9a-f]+)")
    assert virt <= sk < virt + 0x200000


def check_boot(b, with_setup=True):
    assert b.status == EXIT_SUCCESS, b.output
    assert b.cpu_seconds < BOOT_SECONDS    # QEMU's CPU time: other processes do not count
    names = [n for n, _ in b.blocks()]
    expected = STAGES if with_setup else STAGES[1:]
    assert names == expected, names
    for name in expected:
        assert "mode: " + MODES[name] in b.block(name)
    assert re.search(r"ptlab: start_kernel reached at 0xffffffff[89][0-9a-f]{7}", b.output)


@pytest.mark.parametrize("cpu", ["qemu64", "max"])
@pytest.mark.parametrize("mem", ["128M", "4G"])
def test_boot_stage_blocks(cpu, mem):
    b = boot(append="nokaslr", mem=mem, cpu=cpu)
    check_boot(b)
    # -cpu max has LA57: the whole chain runs 5-level; qemu64 has not.
    levels = "5-level" if cpu == "max" else "4-level"
    assert "paging: " + levels in b.block("decompressor")
    assert "paging: " + levels in b.block("head_64")
    assert "paging: " + levels in b.block("init_mem_mapping")
    check_identity_map(b)
    check_kernel_head(b, LOAD_PHYSICAL_ADDR)
    assert kernel_virt(b) == 0xffffffff81000000
    assert "KASLR: off (nokaslr)" in b.block("decompressor")
    assert "usable" in b.block("setup")


@pytest.mark.parametrize("phys", [0x2000000, 0x4000000, 0x10000000])
def test_moved_kernel(phys):
    b = boot(append="kernel_phys=%#x nokaslr" % phys, mem="512M", cpu="qemu64")
    check_boot(b)
    check_kernel_head(b, phys)
    assert b.value("decompressor", r"bytes at 0x([0-9a-f]+)") == phys


def test_quiet_suppresses_stage_blocks():
    b = boot(append="quiet")
    assert b.status == EXIT_SUCCESS
    assert b.blocks() == []
    assert "ptlab: start_kernel reached" in b.output


def test_command_line_reaches_the_kernel():
    b = boot(append='one two="three four"')
    check_boot(b)
    assert 'command line: "one two="three four" run=exit"' in b.block("start_kernel")


@pytest.mark.parametrize("phys", [LOAD_PHYSICAL_ADDR, 0x6000000])
def test_qemu_monitor_agrees(tmp_path, phys):
    """QEMU's own walk of the live CR3 sees the kernel where the kernel says it is, with the
    rights mark_rodata_ro gave each section, and no identity mapping."""
    m = Monitor(tmp_path, append="halt nokaslr kernel_phys=%#x" % phys)
    try:
        assert m.command("gva2gpa 0xffffffff81000000") == "gpa: %#x" % phys
        assert m.command("gva2gpa 0x1000") == "Unmapped", "the identity map is gone"
        tlb = m.command("info tlb").splitlines()
    finally:
        m.close()
    out = m.output
    sections = {}
    for name in ("text", "rodata", "data"):
        a, b = re.search(r"^  %s +\[0x([0-9a-f]+)-0x([0-9a-f]+)\)" % name, out, re.M).groups()
        sections[name] = (int(a, 16), int(b, 16))
    expected_flags = {"text": "-G-DA----", "rodata": "XG-DA----", "data": "XG-DA---W"}
    kernel = [l for l in tlb if l.startswith("ffffffff8")]
    assert kernel, "info tlb shows no kernel mapping"
    va = 0xffffffff81000000
    for line in kernel:
        # One 4 KiB page after another from _text to _end, physically where the kernel was placed.
        assert int(line[:16], 16) == va
        assert int(line[18:34], 16) == phys + (va - 0xffffffff81000000)
        name = next(n for n, (a, b) in sections.items() if a <= va < b)
        assert line[35:] == expected_flags[name], (hex(va), name, line)
        va += 0x1000
    assert va == sections["data"][1]


def test_grub_iso_boots_through_the_32bit_entry(tmp_path):
    # `make iso` builds the ISO that GRUB users boot (its own grub.cfg); this test boots
    # one like it whose grub.cfg carries the command line.
    subprocess.run(["make", "-s", "--no-print-directory", os.path.relpath(ISO, ROOT)], cwd=ROOT,
                   check=True)
    assert os.path.exists(ISO)
    b = boot(iso=make_iso(tmp_path, 'nokaslr run="regs;exit"'), mem="512M")
    check_boot(b, with_setup=False)
    check_identity_map(b)
    assert "loader=grub" in b.block("start_kernel")
    phys = b.value("decompressor", r"bytes at 0x([0-9a-f]+)")
    check_kernel_head(b, phys)


# ---------------------------------------------------------------- bad input

def test_cpu_without_long_mode():
    b = boot(cpu="qemu32", mem="128M")
    assert b.status == EXIT_FAILURE, b.output
    assert "does not support long mode" in b.output


@pytest.mark.parametrize("mem", ["16M", "12M"])
def test_too_little_memory(mem):
    b = boot(mem=mem)
    assert b.status == EXIT_FAILURE, b.output
    assert "not enough memory" in b.output


@pytest.mark.parametrize("value,message", [
    ("0x123", "must be a multiple of 2 MiB"),
    ("0", "must be at least 2 MiB"),
    ("0x200000000", "above 4 GiB"),
    ("0x100000", "must be a multiple of 2 MiB"),
    ("0x10000000", "not enough memory"),
    ("banana", "not a number"),
    ("", "not a number"),
])
def test_bad_kernel_phys(value, message):
    b = boot(append="kernel_phys=" + value, mem="128M")
    assert b.status == EXIT_FAILURE, b.output
    assert message in b.output
    assert "start_kernel" not in b.output


def payload_offset():
    """File offset of the LZ4 payload inside the bzImage."""
    nm = subprocess.run(["nm", os.path.join(BUILD, "zo", "vmlinux")], capture_output=True, text=True,
                        check=True).stdout
    input_data = int(re.search(r"^([0-9a-f]+) \w input_data$", nm, re.M).group(1), 16)
    with open(BZIMAGE, "rb") as f:
        setup_sects = f.read(0x1f2)[0x1f1]
    return (setup_sects + 1) * 512 + input_data


@pytest.mark.parametrize("where,what", [(0, "magic"), (4, "block size"), (200, "literal"),
                                        (-40, "near the end")])
def test_corrupt_payload(tmp_path, where, what):
    img = tmp_path / "bzImage"
    shutil.copy(BZIMAGE, img)
    off = payload_offset()
    data = bytearray(img.read_bytes())
    with open(os.path.join(BUILD, "vmlinux.bin.lz4"), "rb") as f:
        lz4_len = len(f.read())
    pos = off + (where if where >= 0 else lz4_len + where)
    data[pos] ^= 0x5a
    img.write_bytes(bytes(data))
    b = boot(kernel=str(img))
    assert b.status == EXIT_FAILURE, b.output
    assert "the compressed kernel is corrupt" in b.output, what
    assert "[head_64]" not in b.output


@pytest.mark.parametrize("append,levels", [("no5lvl", 4), ("", 5), ("boot_path=64", 5),
                                           ("boot_path=64 no5lvl", 4)])
def test_5level_choice_and_the_64bit_entry_trampoline(append, levels):
    """With LA57 the kernel runs 5-level unless no5lvl; boot_path=64 enters long mode
    4-level (as a 64-bit loader would) and the 64-bit entry must switch through the
    32-bit trampoline, since LA57 cannot change while paging is on."""
    b = boot(append=append + " test=direct_map,wx,pa_va", mem="1G", cpu="max")
    assert b.status == EXIT_SUCCESS, b.output
    assert "ALL TESTS PASSED" in b.output
    assert "paging: %d-level" % levels in b.block("init_mem_mapping")
    trampoline = "switched at the 64-bit entry through the 32-bit trampoline" in b.block("decompressor")
    assert trampoline == (append == "boot_path=64")
    if "boot_path=64" in append:
        assert "pgtable_l5" not in b.block("startup_32"), "startup_32 itself stays 4-level"
    # KASLR moves the direct map inside the mode's window, 1 GiB aligned; PAGE_OFFSET is that base.
    po, slot = region_bases(b.output)["page_offset_base"]
    assert WINDOW_START[levels] <= po < CPU_ENTRY_AREA_BASE and po % (1 << 30) == 0
    assert "PAGE_OFFSET = 0x%016x (pgd index %d)" % (po, slot) in b.block("init_mem_mapping")
    assert slot == (po >> (48 if levels == 5 else 39)) & 511


def kaslr_boot(seed, mem="512M", cpu="max"):
    b = boot(append="kaslr_seed=%d test=direct_map,wx,pa_va,nofault,buddy" % seed, mem=mem, cpu=cpu)
    assert b.status == EXIT_SUCCESS, b.output
    assert "ALL TESTS PASSED" in b.output
    phys = b.value("decompressor", r"KASLR physical: 0x([0-9a-f]+)")
    virt = b.value("decompressor", r"KASLR virtual: 0x([0-9a-f]+)")
    assert kernel_virt(b) == virt
    check_kernel_head(b, phys)
    return phys, virt


def test_kaslr_places_the_kernel_at_random_and_seeds_reproduce():
    seen = {seed: kaslr_boot(seed) for seed in (1, 2, 3, 4)}
    assert len({p for p, _ in seen.values()}) > 1, "the physical address varies with the seed"
    assert len({v for _, v in seen.values()}) > 1, "the virtual address varies with the seed"
    assert kaslr_boot(3) == seen[3], "kaslr_seed=N is reproducible"
    for phys, virt in seen.values():
        assert phys % 0x200000 == 0 and 0x1000000 <= phys < 512 << 20
        assert virt % 0x200000 == 0 and 0xffffffff81000000 <= virt < 0xffffffffa0000000


def test_kaslr_without_a_seed_uses_the_cpu(tmp_path):
    b = boot(append="quiet test=wx", cpu="max")
    assert b.status == EXIT_SUCCESS
    b = boot(append="", cpu="max")
    assert "entropy: RDRAND and RDTSC" in b.block("decompressor")
    b = boot(append="", cpu="qemu64")
    assert "entropy: RDTSC and the i8254" in b.block("decompressor")
    check_kernel_head(b, b.value("decompressor", r"KASLR physical: 0x([0-9a-f]+)"))


def test_kaslr_kernel_seen_by_qemu(tmp_path):
    """QEMU's own translation of the randomised kernel's _text."""
    m = Monitor(tmp_path, append="halt kaslr_seed=99")
    try:
        from ptlab_qemu import Boot
        b = Boot(m.output, None, 0)
        phys = b.value("decompressor", r"KASLR physical: 0x([0-9a-f]+)")
        virt = b.value("decompressor", r"KASLR virtual: 0x([0-9a-f]+)")
        assert m.command("gva2gpa %#x" % virt) == "gpa: %#x" % phys
        assert m.command("gva2gpa 0xffffffff81000000") == "Unmapped" or virt == 0xffffffff81000000
    finally:
        m.close()


def test_bad_kaslr_seed():
    b = boot(append="kaslr_seed=banana quiet")
    assert b.status == EXIT_FAILURE and "kaslr_seed=banana: not a number" in b.output
