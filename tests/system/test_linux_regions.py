"""`ptlab regions` against the truth from inside Linux (docs/linux-oracle.md).

Each guest boots with tests/system/guest's oracle_init, which prints the layout
/proc/kcore's program headers give (kcore_layout.c: page_offset_base,
vmalloc_base, vmemmap_base, phys_base, kernel_text_start and every segment)
and stops at a breakpoint; `ptlab regions DUMP --format json` on the dump of
that moment, which sees nothing but the page tables and the registers, must
infer the same five bases, and its regions must hold what kcore says Linux has
mapped (its RAM at the direct map, the kernel image, the struct page array).

Guests: Debian's own kernel (the one test_ptlab_qemu downloads) with KASLR, in
4-level paging, in 5-level paging under PTI (the guest stops in user mode, on
the user PGD, so the kernel PGD has to be found), and without KASLR; the oracle
kernel of scripts/build-linux with KASLR in 4-level paging under PTI and in
5-level paging.

The command's output, as the feature specifies it: one JSON object whose
page_offset_base, vmalloc_base, vmemmap_base, phys_base and kernel_text_start
are hex strings (null, with a reason, where a base cannot be inferred), and a
"regions" list of {name, start, end} objects with hex strings.

Until `ptlab regions` exists the Makefile leaves this file out of `make check`.
"""
import json

import pytest

from linux_oracle import KCORE_BASES, oracle_boot, oracle_kernel
from ptlab_tool import ptlab
from linux_guest import debian_kernel

# name: (kernel, extra command line, -cpu, -m)
GUESTS = {
    "debian-4level": ("debian", "", "qemu64", "256M"),
    "debian-5level-pti": ("debian", "pti=on", "max", "256M"),
    "debian-4level-nokaslr": ("debian", "nokaslr", "qemu64", "256M"),
    "oracle-4level-pti": ("oracle", "no5lvl pti=on", "max", "128M"),
    "oracle-5level": ("oracle", "pti=off", "max", "128M"),
}


@pytest.fixture(scope="module")
def guest(tmp_path_factory):
    cache = {}

    def get(name):
        if name not in cache:
            kind, extra, cpu, mem = GUESTS[name]
            kernel = debian_kernel() if kind == "debian" else oracle_kernel() / "bzImage"
            append = ("console=ttyS0 quiet panic=-1 " + extra).strip()
            run = oracle_boot(tmp_path_factory.mktemp(name), kernel, append, cpu, name=name, mem=mem)
            r = ptlab("regions", run.dump, "--format", "json", san=False)
            assert r.returncode == 0, "ptlab regions: exit %d\n%s" % (r.returncode, r.stderr)
            cache[name] = (run, json.loads(r.stdout))
        return cache[name]
    return get


def hex_value(text):
    assert isinstance(text, str) and text.startswith("0x"), text
    return int(text, 16)


@pytest.mark.parametrize("name", GUESTS)
def test_bases_match_kcore(guest, name):
    run, out = guest(name)
    for base in KCORE_BASES:
        want = run.kcore[base]
        assert want is not None, "kcore_layout: %s: %s" % (base, run.kcore_reasons.get(base))
        assert base in out, "no %s in %s" % (base, sorted(out))
        assert out[base] is not None, "ptlab inferred no %s: %s" % (base, out)
        assert hex_value(out[base]) == want, "%s: ptlab %s, kcore %#x" % (base, out[base], want)


@pytest.mark.parametrize("name", GUESTS)
def test_regions_hold_kcore_segments(guest, name):
    run, out = guest(name)
    regions = [(hex_value(r["start"]), hex_value(r["end"]), r["name"]) for r in out["regions"]]
    assert regions and all(isinstance(n, str) and n for _, _, n in regions), out["regions"]
    assert all(s < e for s, e, _ in regions), out["regions"]
    assert all(a[1] <= b[0] for a, b in zip(regions, regions[1:])), \
        "regions unsorted or overlapping: %s" % out["regions"]
    by_name = {n: (s, e) for s, e, n in regions}
    for kind, vaddr, _, size in run.segments:
        if kind == "KCORE_TEXT":
            # The image [_text, _end): ptlab names its parts by their rights (text,
            # rodata, data/bss), with the unmapped 2 MiB padding between them.
            text, data = by_name["Kernel text"], by_name["Kernel data/bss"]
            assert text[0] == vaddr and data[0] < vaddr + size <= data[1], (
                "KCORE_TEXT %#x+%#x is not the kernel image %s" % (vaddr, size, out["regions"]))
            continue
        if kind not in ("KCORE_RAM", "KCORE_VMEMMAP"):
            continue
        inside = [n for s, e, n in regions if s <= vaddr and vaddr + size <= e]
        assert len(inside) == 1, "%s segment %#x+%#x is in no region: %s" % (
            kind, vaddr, size, out["regions"])
