"""kernel_regions: what the kernel's boot blocks say about its memory regions, parsed
for the system tests: the three bases kernel_randomize_memory chose (the
[init_mem_mapping] block prints them one a line, `page_offset_base = 0x... (pgd
index N)`), the regions' sizes, the vmemmap's backing ([mem_init]) and the
vmalloc-area mappings the boot made ([acpi], [pci]). QEMU's monitor is the oracle
the tests compare them with.
"""
import re

REGION_BASES = ("page_offset_base", "vmalloc_base", "vmemmap_base")
WINDOW_START = {4: 0xffff888000000000, 5: 0xff11000000000000}  # Linux's default direct-map bases
FIXED_BASES = {4: (0xffff888000000000, 0xffffc90000000000, 0xffffea0000000000),
               5: (0xff11000000000000, 0xffa0000000000000, 0xffd4000000000000)}
CPU_ENTRY_AREA_BASE = 0xfffffe0000000000
TiB, GiB, MiB = 1 << 40, 1 << 30, 1 << 20


def clean(output):
    return output.replace("\r", "")


def region_bases(output):
    """{name: (base, top-level slot)} from the `NAME = 0x... (pgd index N)` lines."""
    found = {}
    for name in REGION_BASES:
        m = re.search(r"^  %s = 0x([0-9a-f]{16}) \(pgd index (\d+)\)$" % name, clean(output), re.M)
        assert m, "no %s line in:\n%s" % (name, output)
        found[name] = (int(m.group(1), 16), int(m.group(2)))
    return found


def region_extents(output):
    """{name: (start, end)}: each base and the size kernel_randomize_memory's line gives it."""
    m = re.search(r"kernel_randomize_memory: (.*); direct map (\d+) TiB, vmalloc (\d+) TiB, vmemmap (\d+) TiB",
                  clean(output))
    assert m, output
    sizes = [int(m.group(i)) * TiB for i in (2, 3, 4)]
    bases = region_bases(output)
    return {name: (bases[name][0], bases[name][0] + size) for name, size in zip(REGION_BASES, sizes)}


def kaslr_source(output):
    return re.search(r"kernel_randomize_memory: ([^;]*);", clean(output)).group(1)


def vmemmap_backing(output):
    """(MiB in 2M pages, KiB in 4k pages) from the [mem_init] block."""
    m = re.search(r"vmemmap backed by (\d+) MiB in 2M pages, (\d+) KiB in 4k pages", clean(output))
    assert m, output
    return int(m.group(1)), int(m.group(2))


def boot_ioremaps(output):
    """The mappings the boot leaves in the vmalloc area: {what: (va, va_end, pa, mapper)} for
    the ACPI root table and the VGA's BAR2 and BAR0 (when the boot found them)."""
    text, found = clean(output), {}
    root = re.search(r"^  (RSDT|XSDT) mapped at 0x([0-9a-f]+) \(ioremap_cache, WB\), kept$", text, re.M)
    if root:
        pa, length = (int(x, 16) for x in re.search(
            r"^  ACPI: %s 0x([0-9A-F]+) ([0-9A-F]+) " % root.group(1), text, re.M).groups())
        va = int(root.group(2), 16)
        first, last = va & ~0xfff, (va + length + 0xfff) & ~0xfff
        found["acpi"] = (first, last, pa & ~0xfff, "ioremap_cache")
    for bar, what, mapper in (("BAR2", "registers", "ioremap"), ("BAR0", "framebuffer", "ioremap_wc")):
        m = re.search(r"^  %s \[0x([0-9a-f]+)-0x([0-9a-f]+)\) %s: %s -> 0x([0-9a-f]+)$" % (bar, what, mapper),
                      text, re.M)
        if m:
            start, end, va = (int(x, 16) for x in m.groups())
            found[bar] = (va, va + end - start, start, mapper)
    return found
