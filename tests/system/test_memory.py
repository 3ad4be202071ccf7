"""System tests of the direct map and memory management:
the in-kernel selftests across memory sizes and CPUs, the direct map against
E820 and against QEMU's own `info mem` / `info tlb` (wherever KASLR put it,
beside the vmemmap and the vmalloc area's mappings), page sizes, the minimum
number of table pages, init_mem_mapping's printout with layout=4.7, least privilege
(W+X check, a write to .rodata), and bad input on the new command-line words.
"""
import re

import pytest

from kernel_regions import boot_ioremaps, region_extents, vmemmap_backing
from ptlab_qemu import EXIT_FAILURE, EXIT_SUCCESS, Monitor, boot

GiB, MiB = 1 << 30, 1 << 20


def memblock_memory(b):
    """memblock.memory as the kernel printed it: [(start, end)], at least one."""
    found = [(int(s, 16), int(e, 16)) for s, e in
             re.findall(r"memblock\.memory\[\d+\] +\[0x([0-9a-f]+)-0x([0-9a-f]+)\)", b.output)]
    assert found, "no memblock.memory lines"
    return found


def pieces(b):
    """init_memory_mapping pieces: [(start, end, size)], at least one."""
    sizes = {"4k": 4096, "2M": 2 * MiB, "1G": GiB}
    found = [(int(s, 16), int(e, 16) + 1, sizes[z]) for s, e, z in
             re.findall(r"\[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\] page (4k|2M|1G)", b.output)]
    assert found, "no init_memory_mapping pieces"
    return found


def min_table_pages(ranges, offset, levels):
    """The fewest tables a direct map of these pieces can use, below the top-level table."""
    p4ds, puds, pmds, ptes = set(), set(), set(), set()
    for start, end, size in ranges:
        for va in range(offset + start, offset + end, size):
            p4ds.add(va >> 48)
            puds.add(va >> 39)
            if size < GiB:
                pmds.add(va >> 30)
            if size < 2 * MiB:
                ptes.add(va >> 21)
    return (len(p4ds) if levels == 5 else 0) + len(puds) + len(pmds) + len(ptes)


def levels_of(b):
    return int(re.search(r"paging: (\d)-level", b.block("init_mem_mapping")).group(1))


def e820_ram(b):
    ram = []
    for s, e, t in re.findall(r"BIOS-e820: \[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\] (\w+)", b.block("memblock")):
        if t == "usable":
            start, end = int(s, 16), int(e, 16) + 1
            start = (start + 4095) & ~4095
            end &= ~4095
            if end > start:
                ram.append((start, end))
    assert ram, "no usable BIOS-e820 range"
    return ram


@pytest.mark.parametrize("cpu", ["qemu64", "max"])
@pytest.mark.parametrize("mem", ["128M", "1G", "4G", "16G", "64G"])
def test_selftests_and_direct_map(cpu, mem):
    b = boot(append="test=all", mem=mem, cpu=cpu)
    assert b.status == EXIT_SUCCESS, b.output
    assert "ALL TESTS PASSED" in b.output
    for name in ("early_pf", "early_pf_pool_reset", "direct_map", "wx", "pa_va", "nofault", "buddy"):
        assert "test %s: OK" % name in b.output
    # The direct map covers exactly the E820 RAM (whole pages).
    assert memblock_memory(b) == e820_ram(b)
    ps = pieces(b)
    assert sum(e - s for s, e, _ in ps) == sum(e - s for s, e in e820_ram(b))
    # 1 GiB pages where the CPU has them (and RAM is big and aligned enough), 2 MiB otherwise.
    used = {z for _, _, z in ps}
    if cpu == "max" and mem in ("4G", "16G", "64G"):
        assert GiB in used
    if cpu == "qemu64":
        assert GiB not in used
        assert "1G pages no" in b.block("init_mem_mapping")
    # The table pages are the minimum for those pieces.
    tables = int(re.search(r"; (\d+) table pages", b.block("init_mem_mapping")).group(1))
    levels = levels_of(b)
    assert levels == (5 if cpu == "max" else 4)
    offset = region_extents(b.output)["page_offset_base"][0]   # where KASLR put the direct map
    assert tables == min_table_pages(ps, offset, levels)
    assert "Checked W+X mappings: passed, no W+X pages found." in b.output


def test_nogbpages():
    b = boot(append="nogbpages", mem="4G", cpu="max")
    assert b.status == EXIT_SUCCESS
    assert "off by nogbpages" in b.block("init_mem_mapping")
    assert GiB not in {z for _, _, z in pieces(b)}


def test_init_mem_mapping_printout_with_layout_4_7():
    """init_mem_mapping prints init_top_pgt[272] and its pud entries, as Linux 4.7 printed
    init_level4_pgt[272]; layout=4.7 puts the direct map there."""
    b = boot(append="layout=4.7", mem="2G", cpu="qemu64")
    assert b.status == EXIT_SUCCESS
    blk = b.block("init_mem_mapping")
    early = int(re.search(r"early_top_pgt is ([0-9a-f]+)", blk).group(1), 16)
    init = int(re.search(r"init_top_pgt  is ([0-9a-f]+)", blk).group(1), 16)
    assert int(re.search(r"current cr3 is ([0-9a-f]+)", blk).group(1), 16) == early
    assert int(re.search(r"cr3 is set  to ([0-9a-f]+)", blk).group(1), 16) == init
    assert "PAGE_OFFSET = 0xffff880000000000 (pgd index 272, layout=4.7)" in blk
    lines = re.findall(r"init_top_pgt\[(\d+)\] 0x([0-9a-f]+)", blk)
    assert [int(i) for i, _ in lines] == [272, 511]
    puds = re.findall(r"\t pud\[(\d+)\] = ([0-9a-f]+)", blk)
    # 2 GiB of RAM in 2 MiB pages: pud[0] and pud[1] point to PMD tables (_PAGE_TABLE, 0x067),
    # then the kernel's pud[510] (0x063) and pud[511] (0x067), as in Linux 4.7's printout.
    assert [int(i) for i, _ in puds] == [0, 1, 510, 511]
    assert [int(v, 16) & 0xfff for _, v in puds] == [0x067, 0x067, 0x063, 0x067]


@pytest.mark.parametrize("cpu,offset", [("qemu64", "0xffff888000000000"), ("max", "0xff11000000000000")])
def test_default_layout_is_pgd_273(cpu, offset):
    """Without KASLR: 4-level PAGE_OFFSET 0xffff888000000000; 5-level 0xff11000000000000. Both pgd 273.
    (With KASLR the direct map moves: test_layout.py.)"""
    b = boot(append="nokaslr", mem="512M", cpu=cpu)
    assert "PAGE_OFFSET = %s (pgd index 273)" % offset in b.block("init_mem_mapping")
    assert re.search(r"init_top_pgt\[273\] 0x[0-9a-f]+067", b.output)
    nxt = "p4d" if cpu == "max" else "pud"
    assert re.search(r"\t %s\[0\] = [0-9a-f]+067" % nxt, b.output), "the printout names the next level"


def test_layout_4_7_needs_4_level():
    b = boot(append="layout=4.7 quiet", cpu="max")
    assert b.status == EXIT_FAILURE
    assert "layout=4.7 is a 4-level layout: add no5lvl" in b.output


def parse_info_mem(text):
    found = [(int(s, 16), int(e, 16), p) for s, e, _, p in
             re.findall(r"^([0-9a-f]{16})-([0-9a-f]{16}) ([0-9a-f]{16}) ([-u]r[-w])$", text, re.M)]
    assert found, "no info mem lines in:\n" + text
    return found


@pytest.mark.parametrize("cpu,mem", [("max", "4G"), ("qemu64", "1G")])
def test_qemu_info_mem_and_tlb_agree(tmp_path, cpu, mem):
    """QEMU's walk of the live init_top_pgt: the direct map is E820 RAM at the printed
    page_offset_base, read-write, supervisor; the kernel image is split by section; besides
    them only the vmemmap's 2 MiB pages and the vmalloc area's boot mappings (the ACPI root
    table, the VGA's registers and framebuffer) are mapped.
    (no5lvl: QEMU 7.2's info mem prints nothing for 5-level guests.)"""
    m = Monitor(tmp_path, append="halt no5lvl", mem=mem, cpu=cpu)
    try:
        from ptlab_qemu import Boot
        b = Boot(m.output, None, 0)
        regions = region_extents(b.output)
        po, po_end = regions["page_offset_base"]
        info_mem = parse_info_mem(m.command("info mem"))
        tlb = m.command("info tlb").splitlines()
        gva = m.command("gva2gpa %#x" % (po + 0x100000))
    finally:
        m.close()
    ram = memblock_memory(b)
    direct = [(s, e, p) for s, e, p in info_mem if po <= s < po_end]
    assert direct == [(po + s, po + e, "-rw") for s, e in ram]
    kernel = [(s, e, p) for s, e, p in info_mem if s >= 0xffffffff80000000]
    text = int(re.search(r"^  text +\[0x([0-9a-f]+)-", b.output, re.M).group(1), 16)
    data_start, data_end = (int(x, 16) for x in re.search(r"^  data +\[0x([0-9a-f]+)-0x([0-9a-f]+)\)", b.output, re.M).groups())
    # info mem has no NX column: text and rodata are both "-r-" and merge.
    assert kernel == [(text, data_start, "-r-"), (data_start, data_end, "-rw")]
    vmemmap = [(s, e, p) for s, e, p in info_mem if regions["vmemmap_base"][0] <= s < regions["vmemmap_base"][1]]
    assert {p for _, _, p in vmemmap} == {"-rw"}
    assert sum(e - s for s, e, _ in vmemmap) == vmemmap_backing(b.output)[0] * MiB
    vmalloc = [(s, e, p) for s, e, p in info_mem if regions["vmalloc_base"][0] <= s < regions["vmalloc_base"][1]]
    assert vmalloc == sorted((va, end, "-rw") for va, end, _, _ in boot_ioremaps(b.output).values())
    assert len(info_mem) == len(direct) + len(kernel) + len(vmemmap) + len(vmalloc), "nothing else is mapped"
    assert gva == "gpa: 0x100000"
    # info tlb: every direct-map leaf is NX, global, supervisor, writable ("XG?DA---W");
    # 1 GiB leaves only with -cpu max.
    leaves = [(int(l[:16], 16), int(l[18:34], 16), l[35:]) for l in tlb]
    direct_tlb = [(va, pa, flags) for va, pa, flags in leaves if po <= va < po_end]
    assert direct_tlb
    for va, pa, flags in direct_tlb:
        assert va - po == pa
        assert re.fullmatch(r"XG[-P][-D]A---W", flags), flags
    large = [va for va, _, flags in direct_tlb if flags[2] == "P"]
    has_1g = any(b2 - a == GiB for a, b2 in zip(large, large[1:])) or any(
        va % GiB == 0 and (va + GiB) not in large and va - po + GiB <= max(e for _, e in ram)
        and not any(va < x < va + GiB for x in large) for va in large)
    assert has_1g == (cpu == "max")


@pytest.mark.parametrize("cpu", ["qemu64", "max"])
def test_write_to_rodata_faults_with_decoded_report(cpu):
    b = boot(append="quiet fault_test=rodata", cpu=cpu)
    assert b.status == EXIT_FAILURE, b.output
    cr2 = int(re.search(r"writing to \.rodata at 0x([0-9a-f]+)", b.output).group(1), 16)
    assert "#PF: CR2 0x%016x, error code 0x3 [P=1 protection W/R=1 write U/S=0 supervisor]" % cr2 in b.output
    walk = re.findall(r"#PF: walk: (\w+) +table 0x[0-9a-f]+ \[ *(\d+)\] = 0x([0-9a-f]+)(.*)", b.output)
    pmd_index, pte_index = (cr2 >> 21) & 511, (cr2 >> 12) & 511   # the kernel may be anywhere (KASLR)
    if cpu == "max":   # 5-level
        assert [w[0] for w in walk] == ["pgd", "p4d", "pud", "pmd", "pte"]
        assert [int(w[1]) for w in walk] == [511, 511, 510, pmd_index, pte_index]
    else:
        assert [w[0] for w in walk] == ["pgd", "pud", "pmd", "pte"]
        assert [int(w[1]) for w in walk] == [511, 510, pmd_index, pte_index]
    leaf = int(walk[-1][2], 16)
    assert leaf & 1 and not leaf & 2 and leaf >> 63, "present, read-only, NX"
    assert "denied: R/W=0" in walk[-1][3]
    assert "ptlab: panic: page fault at 0x%016x" % cr2 in b.output


@pytest.mark.parametrize("append,message", [
    ("layout=5.0", "layout=5.0: unknown"),
    ("fault_test=nothing", "fault_test=nothing: unknown"),
])
def test_bad_words(append, message):
    b = boot(append=append + " quiet")
    assert b.status == EXIT_FAILURE
    assert message in b.output
