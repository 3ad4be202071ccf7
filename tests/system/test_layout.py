"""System tests of the randomised memory layout and the regions the kernel fills,
with QEMU's monitor as the oracle:
- kernel_randomize_memory: for every kaslr_seed of the boot matrix and nokaslr, in
  4- and 5-level paging, the three printed bases follow Linux's rules, and `info tlb` shows
  the direct map at the printed page_offset_base, the vmemmap's 2 MiB pages at
  vmemmap_base, and the boot's ioremaps in the vmalloc area with the memory type's
  bits (PCD for UC-, PWT for WC, none for WB); kaslr_seed reproduces a layout;
- `layout` prints the live map (mm.rst's rows at the live bases, the vmalloc areas);
- a process's kernel stack is vmalloc'd between guard pages, and its pages come back
  when the process is gone; a stack overflow ends in the double fault's report naming
  the task (fault_test=stack);
- the selftests of the regions and the W+X check pass with every region filled;
- `ptlab regions`, which names a Linux layout from a memory dump's page tables alone,
  finds in a dump of this kernel the bases the kernel printed.
"""
import json
import re

import pytest

from kernel_regions import (CPU_ENTRY_AREA_BASE, FIXED_BASES, GiB, MiB, REGION_BASES, WINDOW_START,
                            boot_ioremaps, kaslr_source, region_bases, region_extents, vmemmap_backing)
from ptlab_qemu import EXIT_FAILURE, EXIT_SUCCESS, PROMPT, Monitor, boot
from ptlab_tool import ptlab
from test_matrix import SEEDS  # the boot matrix's: None (nokaslr), then 1..8
LEVELS = {4: "no5lvl", 5: ""}


def info_tlb(m):
    """QEMU's info tlb as {va: (pa, flags)}."""
    leaves = {}
    for line in m.command("info tlb").splitlines():
        va, rest = line.split(": ")
        pa, flags = rest.split()
        leaves[int(va, 16)] = (int(pa, 16), flags)
    return leaves


def check_bases(output, levels, seed):
    """Linux's rules for the bases; nokaslr: Linux's fixed bases."""
    bases = region_bases(output)
    values = [bases[name][0] for name in REGION_BASES]
    shift = 48 if levels == 5 else 39
    for name in REGION_BASES:
        base, slot = bases[name]
        assert slot == (base >> shift) & 511, name
    if seed is None:
        assert tuple(values) == FIXED_BASES[levels]
        assert kaslr_source(output) == "off (nokaslr)"
        return values
    assert kaslr_source(output).startswith("KASLR")
    extents = region_extents(output)
    assert WINDOW_START[levels] <= values[0] and values[2] < CPU_ENTRY_AREA_BASE
    for i, name in enumerate(REGION_BASES):
        assert values[i] % GiB == 0, name
        if i:
            assert values[i] >= extents[REGION_BASES[i - 1]][1] + GiB, "Linux's order, a GiB apart"
    assert extents["page_offset_base"][1] - values[0] == 1 << 40, "512 MiB of RAM, no padding: 1 TiB"
    return values


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: "nokaslr" if s is None else "seed%d" % s)
@pytest.mark.parametrize("levels", [4, 5])
def test_bases_against_info_tlb(tmp_path, levels, seed):
    kaslr = "nokaslr" if seed is None else "kaslr_seed=%d" % seed
    m = Monitor(tmp_path, append="halt %s %s" % (kaslr, LEVELS[levels]), mem="512M", cpu="max")
    try:
        tlb = info_tlb(m)
    finally:
        m.close()
    assert "paging: %d-level" % levels in m.output
    po, vm, vmm = check_bases(m.output, levels, seed)
    extents = region_extents(m.output)
    # The direct map: PA 0 at page_offset_base, VA - PA = page_offset_base throughout.
    direct = {va: v for va, v in tlb.items() if extents["page_offset_base"][0] <= va < extents["page_offset_base"][1]}
    assert tlb[po][0] == 0 and direct[po + 0x100000][0] == 0x100000
    assert all(va - po == pa and flags.startswith("XG") and flags.endswith("W") for va, (pa, flags) in direct.items())
    # The vmemmap: 2 MiB pages (P), the first at vmemmap_base (pfn 0's struct page), as much as reported.
    vmemmap = {va: v for va, v in tlb.items() if extents["vmemmap_base"][0] <= va < extents["vmemmap_base"][1]}
    assert vmm in vmemmap
    assert all(re.fullmatch(r"XGP[-D][-A]---W", flags) for _, flags in vmemmap.values())
    assert len(vmemmap) * 2 * MiB == vmemmap_backing(m.output)[0] * MiB
    # The vmalloc area: the boot's ioremaps, with their memory types' bits (QEMU's C = PCD, T = PWT).
    maps = boot_ioremaps(m.output)
    assert set(maps) == {"acpi", "BAR2", "BAR0"}
    in_vmalloc = {va: v for va, v in tlb.items() if extents["vmalloc_base"][0] <= va < extents["vmalloc_base"][1]}
    want = {"acpi": r"XG-[-D]A---W", "BAR2": r"XG-[-D]AC--W", "BAR0": r"XGP[-D]A-T-W"}
    mapped = 0
    for what, (va, end, pa, _) in maps.items():
        assert vm <= va < end <= extents["vmalloc_base"][1]
        leaves = sorted(v for v in in_vmalloc if va <= v < end)
        assert leaves and leaves[0] == va
        for v in leaves:
            assert in_vmalloc[v][0] == pa + v - va
            assert re.fullmatch(want[what], in_vmalloc[v][1]), (what, in_vmalloc[v])
        assert end not in in_vmalloc, "the guard page after %s" % what
        mapped += len(leaves)
    assert mapped == len(in_vmalloc), "nothing else in the vmalloc area"
    fb, fb_end = maps["BAR0"][:2]
    assert len([v for v in in_vmalloc if fb <= v < fb_end]) == (fb_end - fb) // (2 * MiB), "2 MiB framebuffer pages"


def bases_of(seed, levels):
    b = boot(append="kaslr_seed=%d %s run=exit" % (seed, LEVELS[levels]), mem="1G", cpu="max")
    assert b.status == EXIT_SUCCESS
    return tuple(v for v, _ in region_bases(b.output).values())


@pytest.mark.parametrize("levels", [4, 5])
def test_kaslr_seed_reproduces_the_layout(levels):
    seen = {seed: bases_of(seed, levels) for seed in (11, 12, 13)}
    assert bases_of(12, levels) == seen[12]
    for i, name in enumerate(REGION_BASES):
        assert len({bases[i] for bases in seen.values()}) == 3, "%s moves with the seed" % name


def layout_rows(text):
    """`layout`'s table rows: [(start, offset, end, size, what)]."""
    return [tuple(f.strip() for f in line.split("|")) for line in text.splitlines()
            if re.match(r"^ [0-9a-f]{16} \|", line)]


def test_layout_command_nokaslr_is_mm_rst():
    b = boot(append='quiet nokaslr no5lvl run="layout"', mem="512M", cpu="qemu64")
    assert b.status == EXIT_SUCCESS
    rows = layout_rows(b.output.replace("\r", ""))
    # Linux's 4-level table (Documentation/arch/x86/x86_64/mm.rst) for these rows.
    for row in [("ffff888000000000", "-119.5 TB", "ffffc87fffffffff", "64 TB",
                 "direct mapping of all physical memory (page_offset_base)"),
                ("ffffc88000000000", "-55.5 TB", "ffffc8ffffffffff", "0.5 TB", "... unused hole"),
                ("ffffc90000000000", "-55 TB", "ffffe8ffffffffff", "32 TB", "vmalloc/ioremap space (vmalloc_base)"),
                ("ffffea0000000000", "-22 TB", "ffffeaffffffffff", "1 TB", "virtual memory map (vmemmap_base)"),
                ("fffffe0000000000", "-2 TB", "fffffe7fffffffff", "0.5 TB", "cpu_entry_area mapping (empty)"),
                ("ffffffef00000000", "-68 GB", "fffffffeffffffff", "64 GB", "EFI region mapping space (empty)"),
                ("ffffffffa0000000", "-1.5 GB", "fffffffffeffffff", "1520 MB",
                 "module mapping space (empty: no modules)")]:
        assert row in rows, row
    # The rows tile the address space.
    for a, b2 in zip(rows, rows[1:]):
        assert int(a[2], 16) + 1 == int(b2[0], 16), (a, b2)
    assert rows[0][0] == "0000000000000000" and rows[-1][2] == "ffffffffffffffff"


@pytest.mark.parametrize("levels", [4, 5])
def test_layout_command_follows_kaslr(levels):
    b = boot(append='quiet kaslr_seed=5 %s run="layout;ptdump kernel"' % LEVELS[levels], mem="512M", cpu="max")
    assert b.status == EXIT_SUCCESS
    out = b.output.replace("\r", "")
    rows = {r[4]: r for r in layout_rows(out)}
    assert "KASLR of the memory regions: KASLR (entropy: kaslr_seed)" in out
    boot2 = boot(append="kaslr_seed=5 %s run=exit" % LEVELS[levels], mem="512M", cpu="max")
    extents = region_extents(boot2.output)
    for what, name in (("direct mapping of all physical memory (page_offset_base)", "page_offset_base"),
                       ("vmalloc/ioremap space (vmalloc_base)", "vmalloc_base"),
                       ("virtual memory map (vmemmap_base)", "vmemmap_base")):
        start, end = extents[name]
        assert rows[what][0] == "%016x" % start and rows[what][2] == "%016x" % (end - 1)
    # ptdump's markers follow the live bases.
    for marker, name in (("Low Kernel Mapping", "page_offset_base"), ("vmalloc() Area", "vmalloc_base"),
                         ("Vmemmap", "vmemmap_base")):
        assert re.search(r"---\[ %s \]---\n0x%016x-" % (re.escape(marker), extents[name][0]), out), marker
    # The vmalloc areas: the boot's ioremaps, each named after its caller.
    areas = re.findall(r"^0x([0-9a-f]{16})-0x([0-9a-f]{16}) +(\d+) (\w+) (.*)$", out, re.M)
    assert [a[3] for a in areas] == ["bochs_vga_init", "acpi_os_map_memory", "bochs_vga_init"]


def mem_counts(text):
    free = re.findall(r"^free pages:\s+(\d+)", text, re.M)
    tables = re.findall(r"; (\d+) pages allocated by the kernel in all", text)
    return list(zip(free, tables))


def test_kernel_stacks_are_vmalloced_between_guard_pages(tmp_path):
    m = Monitor(tmp_path, append="quiet kaslr_seed=21 no5lvl", mem="512M", cpu="max", marker=PROMPT)
    try:
        before = mem_counts(m.shell("mem"))
        out = m.shell("run init &")
        pid = int(re.search(r"\[pid (\d+)\] init running in the background", out).group(1))
        m.child.expect_exact("init: reaped pid", timeout=30)  # its hello is gone: init alone remains
        layout = m.shell("layout")
        stack = re.search(r"^0x([0-9a-f]{16})-0x([0-9a-f]{16}) +20480 alloc_thread_stack_node pages=4 vmalloc "
                          r"stack of pid %d \(init\)$" % pid, layout, re.M)
        assert stack, layout
        start, end = int(stack.group(1), 16), int(stack.group(2), 16)
        vm_start, vm_end = region_extents(m.shell("stages"))["vmalloc_base"]  # `stages` reprints the blocks
        assert vm_start <= start < end <= vm_end and start % 0x4000 == 0
        tlb = info_tlb(m)
        for va in range(start, start + 0x4000, 0x1000):
            assert re.fullmatch(r"XG-[-D][-A]---W", tlb[va][1]), (hex(va), tlb[va])
        assert start + 0x4000 not in tlb, "the guard page above the stack"
        assert start - 0x1000 not in tlb, "the page below the stack"
        out = m.shell("kill %d" % pid, timeout=30)
        assert "[pid %d] init killed by SIGKILL" % pid in out
        assert "stack of pid %d" % pid not in m.shell("layout")
        tlb = info_tlb(m)
        assert not any(start <= va < end for va in tlb), "vfree unmapped the stack"
        assert mem_counts(m.shell("mem")) == before, "every page came back"
    finally:
        m.close()


@pytest.mark.parametrize("cpu", ["qemu64", "max"])
def test_kernel_stack_overflow_is_a_double_fault_naming_the_task(cpu):
    b = boot(append="quiet fault_test=stack", cpu=cpu)
    assert b.status == EXIT_FAILURE, b.output
    out = b.output.replace("\r", "")
    task = re.search(r"fault_test: task (\d+) \(stack_overflow\) recurses on its stack "
                     r"\[0x([0-9a-f]+)-0x([0-9a-f]+)\)", out)
    assert task, out
    pid, low, high = int(task.group(1)), int(task.group(2), 16), int(task.group(3), 16)
    df = re.search(r"ptlab: double fault \(on the IST stack\), CR2 0x([0-9a-f]+), RSP 0x([0-9a-f]+)", out)
    assert df, out
    cr2 = int(df.group(1), 16)
    assert low - 0x1000 <= cr2 < low, "the fault is in the guard page under the stack"
    assert "BUG: stack guard page was hit at 0x%016x (stack is 0x%016x..0x%016x)" % (cr2, low, high - 1) in out
    assert "kernel stack overflow (double-fault) in task %d (stack_overflow)" % pid in out
    assert "ptlab: panic: kernel stack overflow in task %d (stack_overflow)" % pid in out


@pytest.mark.parametrize("cpu,mem,append", [("max", "4G", "kaslr_seed=6"), ("qemu64", "128M", "nokaslr"),
                                            ("max", "2G", "no5lvl")])
def test_region_selftests_and_wx(cpu, mem, append):
    """The selftests of the regions, and the W+X check over every table after the boot
    filled the vmemmap and the vmalloc area."""
    b = boot(append="quiet %s test=kaslr,vmemmap,vmalloc,ioremap,wx,direct_map" % append, mem=mem, cpu=cpu)
    assert b.status == EXIT_SUCCESS, b.output
    for name in ("kaslr", "vmemmap", "vmalloc", "ioremap", "wx", "direct_map"):
        assert "test %s: OK" % name in b.output


@pytest.mark.parametrize("seed", [7, None], ids=["seed7", "nokaslr"])
@pytest.mark.parametrize("levels", [4, 5])
def test_ptlab_regions_finds_the_printed_bases(tmp_path, levels, seed):
    kaslr = "nokaslr" if seed is None else "kaslr_seed=%d" % seed
    dump = tmp_path / "core.elf"
    with Monitor(tmp_path, append="halt %s %s" % (kaslr, LEVELS[levels]), mem="1G", cpu="max") as m:
        m.command("dump-guest-memory %s" % dump)
        printed = {name: "0x%x" % base for name, (base, _) in region_bases(m.output).items()}
    r = ptlab("regions", "--format", "json", str(dump))
    assert r.returncode == 0, r.stderr
    found = json.loads(r.stdout)
    assert {name: found[name] for name in REGION_BASES} == printed
