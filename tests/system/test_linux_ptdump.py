"""Linux's own ptdump against ptlab's (docs/formats.md, "Linux ptdump
against ptlab"; the oracle kernel: docs/linux-oracle.md).

The oracle kernel (scripts/build-linux) boots with tests/system/guest's
oracle_init, which prints /sys/kernel/debug/page_tables/{kernel,current_kernel,
current_user} and stops at a breakpoint; `ptlab maps --format ptdump
--linux-config WORDS` on the dump of that moment, WORDS naming the oracle
kernel's KASAN, EFI, LDT, ESPfix and RANDOMIZE_BASE options, must print the
same text:
  kernel          the walk of init_top_pgt (swapper_pg_dir), found through
                  System.map and kcore's KCORE_TEXT segment: --cr3 PA
  current_kernel  the reading process's PGD: --kernel-pgd under PTI
  current_user    its user PGD under PTI (--user-pgd); without PTI the same
                  PGD as current_kernel.

Compared byte for byte, markers at the randomised bases included, except for
the one marker a dump cannot place, "Fixmap Area" (FIXADDR_START, below the
fixmap's top by the size of this configuration's fixmap; ptlab uses the first
fixmap PMD): both texts lose it, and lose the line break it alone made
(linux_oracle.drop_markers: two lines around it become one when the dump says
the entries on either side of the break are equal in everything Linux
compares). Every other line, marker and skipped-entries count must be equal.
A walk of a sub-range (--range, --region) must print Linux's lines there.

Boots: a pairwise set of (KASLR on/off) x (4-level/5-level) x (PTI on/off),
4 boots; `make matrix` (PTLAB_MATRIX=full) boots all 8.
"""
import itertools
import os
import re

import pytest

from linux_oracle import (START_KERNEL_MAP, drop_markers, dropped_boundaries, first_difference,
                          kernel_config, oracle_boot, oracle_kernel, ptdump_items, series_attrs,
                          system_map)
from ptlab_tool import ptlab

FACTORS = list(itertools.product((False, True), (4, 5), (False, True)))   # kaslr, levels, pti
PAIRWISE = [(False, 4, True), (False, 5, False), (True, 4, False), (True, 5, True)]
CASES = FACTORS if os.environ.get("PTLAB_MATRIX") == "full" else PAIRWISE
FILES = ("kernel", "current_kernel", "current_user")
RANDOMISED = ("Low Kernel Mapping", "vmalloc() Area", "Vmemmap")
CONFIG_PLACED = ("Fixmap Area",)
# ptlab's --linux-config words and the options they name.
CONFIG_WORDS = (("kasan", "CONFIG_KASAN"), ("efi", "CONFIG_EFI"),
                ("ldt", "CONFIG_MODIFY_LDT_SYSCALL"), ("espfix", "CONFIG_X86_ESPFIX64"),
                ("randomize_base", "CONFIG_RANDOMIZE_BASE"))
# Linux's bases without KASLR (Documentation/arch/x86/x86_64/mm.rst).
FIXED = {4: {"page_offset_base": 0xffff888000000000, "vmalloc_base": 0xffffc90000000000,
             "vmemmap_base": 0xffffea0000000000},
         5: {"page_offset_base": 0xff11000000000000, "vmalloc_base": 0xffa0000000000000,
             "vmemmap_base": 0xffd4000000000000}}


def case_id(case):
    kaslr, levels, pti = case
    return "%s-%dlevel-%s" % ("kaslr" if kaslr else "nokaslr", levels, "pti" if pti else "nopti")


class Oracle:
    """One boot of a case and the ptlab command lines for each file."""

    def __init__(self, tmp_path, case):
        self.kaslr, self.levels, self.pti = case
        self.kdir = oracle_kernel()
        self.config = kernel_config(self.kdir)
        append = "console=ttyS0 quiet panic=-1 pti=%s" % ("on" if self.pti else "off")
        if not self.kaslr:
            append += " nokaslr"
        if self.levels == 4:
            append += " no5lvl"
        self.run = oracle_boot(tmp_path, self.kdir / "bzImage", append, "max", name=case_id(case))
        syms = system_map(self.kdir)
        text_pa = next(s[2] for s in self.run.segments if s[0] == "KCORE_TEXT")
        init_top_pgt = text_pa + syms["init_top_pgt"] - syms["_text"]
        pgd = ["--kernel-pgd"] if self.pti else []
        self.linux_config = ",".join(("" if self.config.get(opt, "n") == "y" else "no") + word
                                     for word, opt in CONFIG_WORDS)
        self.args = {"kernel": ["--cr3", "%x" % init_top_pgt],
                     "current_kernel": pgd,
                     "current_user": ["--user-pgd"] if self.pti else []}

    def ptlab_ptdump(self, name, extra=()):
        r = ptlab("maps", "--format", "ptdump", "--linux-config", self.linux_config,
                  *self.args[name], *extra, self.run.dump, san=False)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def same(self, name, texts_and_names):
        """same() for drop_markers: whether the entries on either side of a break
        compare equal for Linux's ptdump, read from the dump (series_attrs) for
        every break the markers to drop make in the texts, in one ptlab run."""
        points = sorted({x for text, names in texts_and_names
                         for x in dropped_boundaries(text, names)})
        attrs = series_attrs(self.run.dump, self.args[name],
                             sorted({p - 1 for p in points} | set(points)))
        return lambda x: attrs[x - 1] == attrs[x]

    def markers_not_placed(self):
        """(ptlab's markers to drop, Linux's markers to drop)."""
        return list(CONFIG_PLACED), list(CONFIG_PLACED)


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    cache = {}

    def get(case):
        if case not in cache:
            cache[case] = Oracle(tmp_path_factory.mktemp(case_id(case)), case)
        return cache[case]
    return get


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_ptdump_matches_linux(oracle, case, name):
    o = oracle(case)
    linux = o.run.files[name]
    ours = o.ptlab_ptdump(name)
    drop_ours, drop_linux = o.markers_not_placed()
    same = o.same(name, [(ours, drop_ours), (linux, drop_linux)])
    ours_n, dropped_ours = drop_markers(ours, drop_ours, same)
    linux_n, dropped_linux = drop_markers(linux, drop_linux, same)
    if name == "kernel":
        # Every marker named is there to drop: the kernel's tables reach the top of the
        # address space, so both print their whole tables (a user PGD may end before
        # the last markers).
        assert sorted(dropped_ours) == sorted(drop_ours), dropped_ours
        assert sorted(dropped_linux) == sorted(drop_linux), dropped_linux
    assert linux.count("\n") > 40 and "---[ High Kernel Mapping ]---" in linux
    assert ours_n == linux_n, first_difference(ours_n, linux_n)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_ptdump_range_matches_linux(oracle, case):
    """A walk of a sub-range prints what Linux's whole walk prints there: the
    marker whose area holds the range's start, then Linux's own lines, the
    first one starting at the range's start. The ranges start where Linux
    starts a line after a marker (where Linux printed a marker late, at the
    first break after its address, the break is not in a walk that starts
    there: without KASLR the direct map's first page is on the LDT remap's
    line) and end where Linux ends a series."""
    o = oracle(case)
    linux = o.run.files["kernel"]
    items = ptdump_items(linux)
    low = items[items.index(("marker", "Low Kernel Mapping")) + 1][1]
    for sel in (["--range", "%x-%x" % (low, o.run.kcore["vmemmap_base"])],
                ["--region", "Kernel text"]):
        ours = o.ptlab_ptdump("kernel", sel)
        head, rest = ours.split("\n", 1)
        assert sel[0] != "--range" or rest.startswith("0x%016x-" % low), (sel, ours)
        assert rest in linux, (sel, ours)
        before = [it for it in ptdump_items(linux[:linux.index(rest)]) if it[0] == "marker"]
        assert head == "---[ %s ]---" % before[-1][1], (sel, head, before[-1])


def section(text, marker):
    """The range lines between marker and the next marker of a ptdump text."""
    items = ptdump_items(text)
    i = items.index(("marker", marker))
    out = []
    for it in items[i + 1:]:
        if it[0] == "marker":
            break
        if it[0] == "line":
            out.append(it)
    return out


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_linux_markers_at_kcore_bases(oracle, case):
    """Linux's own region markers agree with the bases /proc/kcore gives (and
    without KASLR those are the fixed bases). Linux prints a marker after the
    first line whose end reaches the marker's address, at most one marker per
    line: so the base lies within the line before the marker, or, when a marker
    was printed at that line's start already (one line late), within the lines
    since the line before that one."""
    o = oracle(case)
    kcore = o.run.kcore
    items = ptdump_items(o.run.files["kernel"])
    for marker, base in zip(RANDOMISED, ("page_offset_base", "vmalloc_base", "vmemmap_base")):
        b = kcore[base]
        i = items.index(("marker", marker))
        line = items[i - 1]
        assert line[0] == "line", items[i - 2:i + 1]
        start = line[1]
        if items[i - 2][0] == "marker":
            start = next(it for it in reversed(items[:i - 2]) if it[0] == "line")[1]
        assert start < b <= line[2], (marker, hex(b), items[i - 3:i + 1])
        if not o.kaslr:
            assert b == FIXED[o.levels][base], (base, hex(b))
    if not o.kaslr:
        assert kcore["kernel_text_start"] == START_KERNEL_MAP + 0x1000000
        assert kcore["phys_base"] == 0
    # phys_base wraps below zero when the image's virtual offset exceeds its physical address.
    assert (kcore["kernel_text_start"] - START_KERNEL_MAP + kcore["phys_base"]) % (1 << 64) == \
        next(s[2] for s in o.run.segments if s[0] == "KCORE_TEXT")


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_paging_mode_and_pti(oracle, case):
    """The boot is the case: the dump's mode; under PTI the guest stopped in user
    mode (CR3 on the user PGD), and the user PGD's direct map holds nothing but
    the page of the CPU's TSS (cpu_tss_rw, which PTI maps for the system-call
    entry's scratch word; the guest has one CPU), where the kernel PGD maps all
    of RAM."""
    o = oracle(case)
    info = ptlab("info", o.run.dump, san=False).stdout
    assert re.search(r"^mode:\s+%d-level$" % o.levels, info, re.M), info
    cr3 = int(re.search(r"^cr3:\s+([0-9a-f]+)", info, re.M).group(1), 16)
    user, kernel = o.run.files["current_user"], o.run.files["current_kernel"]
    mapped = lambda text: [it for it in section(text, "Low Kernel Mapping") if it[3].strip()]
    assert sum(it[2] - it[1] for it in mapped(kernel)) >= 100 << 20, "no direct map in current_kernel"
    if o.pti:
        assert cr3 & 0x1000, "PTI: the guest stopped in user mode, on the user PGD"
        tss = mapped(user)
        assert len(tss) == 1 and tss[0][2] - tss[0][1] == 4096, tss
        assert tss[0][3:] == ("    RW                     NX ", "pte"), tss
    else:
        assert not cr3 & 0x1000
        assert user == kernel
