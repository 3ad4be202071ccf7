"""Tests of `ptlab regions`: Linux's layout named from the page tables alone
(lib/paging's pg_linux_layout_infer; docs/memlayout.md, "Linux's randomised
layout"), and of what `maps` takes from it (--region, the JSON region
names, ptdump's markers at the inferred bases).

Synthetic dumps from scripts/ptlab-mkcore: Linux-shaped tables at the bases
a Debian 6.1 guest chose (4- and 5-level, and a PTI pair seen from its user
PGD) must give exactly those bases, the JSON object of the documented shape
and exit status 0; cores that are not Linux's (32-bit, PAE, an identity map,
an empty tree, a recursive slot, no direct map) must give "not a Linux
layout" with what they hold and exit status 1; bad input a message and
exit status 1 or 2 under the ASan+UBSan build.

Real guests: Debian's kernel booted in QEMU with an initramfs that prints
the truth from inside (/proc/kcore's program headers, /proc/kallsyms,
/proc/iomem), 4-level with PTI and 5-level; ptlab's answer must equal it.
"""
import json
import re
import struct

import pytest

from ptlab_tool import mkcore, ptlab
from linux_guest import boot_linux

FACTS = ["page_offset_base", "vmalloc_base", "vmemmap_base", "phys_base", "kernel_text_start",
         "kaslr_offset", "modules_vaddr"]
HEX = re.compile(r"0x[0-9a-f]+")
KTABLE = mkcore.KTABLE


def identity_core():
    """4-level: the first 4 GiB identity-mapped in 1G pages, nothing else."""
    m = mkcore.Phys()
    t = mkcore.Tables(m, 4, 0x2000)
    for i in range(4):
        t.map(0x1000, i << 30, i << 30, mkcore.P | mkcore.W | mkcore.A | mkcore.D, level=3)
    return mkcore.elf_core(m.segments(), [mkcore.qemu_cpu_state(mkcore.CR0_PG_PE_WP, 0x1000,
                                                               mkcore.CR4_PAE)])


def empty_core():
    m = mkcore.Phys()
    m.page(0x1000)
    m.q(0x1008, 0)
    return mkcore.elf_core(m.segments(), [mkcore.qemu_cpu_state(mkcore.CR0_PG_PE_WP, 0x1000,
                                                               mkcore.CR4_PAE)])


def recursive_core():
    """4-level: PML4 slot 510 points back to the PML4; nothing else."""
    m = mkcore.Phys()
    m.q(0x1000 + 510 * 8, 0x1000 | KTABLE)
    return mkcore.elf_core(m.segments(), [mkcore.qemu_cpu_state(mkcore.CR0_PG_PE_WP, 0x1000,
                                                               mkcore.CR4_PAE)])


@pytest.fixture(scope="module")
def cores(tmp_path_factory):
    d = tmp_path_factory.mktemp("regions")
    made = {name: fn() for name, fn in mkcore.SCENARIOS.items()}
    made.update({"identity": identity_core(), "empty": empty_core(),
                 "recursive": recursive_core()})
    paths = {}
    for name, data in made.items():
        p = d / (name + ".elf")
        p.write_bytes(data)
        paths[name] = p
    return paths


def regions_json(path, *opts):
    r = ptlab("regions", "--format", "json", *opts, path)
    assert r.returncode in (0, 1), r.stderr
    j = json.loads(r.stdout)
    check_schema(j)
    assert r.returncode == (0 if j["linux"] else 1)
    return j


def check_schema(j):
    """The documented shape: hex strings or null for each value, evidence for each, regions."""
    for key in ("file", "mode", "cr3", "root", "linux", "verdict", "reason", "evidence",
                "regions", "found"):
        assert key in j, key
    assert j["verdict"] in ("Linux layout", "not a Linux layout")
    assert j["linux"] == (j["verdict"] == "Linux layout")
    for f in FACTS:
        assert j[f] is None or HEX.fullmatch(j[f]), (f, j[f])
        assert isinstance(j["evidence"][f], str) and j["evidence"][f], f
    last = 0
    for r in j["regions"]:
        assert set(r) == {"name", "start", "end", "evidence"}
        assert HEX.fullmatch(r["start"]) and HEX.fullmatch(r["end"]) and r["name"]
        start, end = int(r["start"], 16), int(r["end"], 16)
        assert last <= start < end, r
        last = end
    if not j["linux"]:
        assert j["regions"] == [] and all(j[f] is None for f in FACTS)
        assert all(j["evidence"][f] == "not a Linux layout" for f in FACTS)
        assert j["reason"].startswith("not a Linux layout: ")


def names(j):
    return [r["name"] for r in j["regions"]]


# ---------------------------------------------------------------------------
# Synthetic Linux guests
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name,bases", [("linux4", mkcore.LINUX4_BASES),
                                        ("linux5", mkcore.LINUX5_BASES)])
def test_linux_bases(cores, name, bases):
    po, vmalloc, vmemmap, text, text_pa = bases
    j = regions_json(cores[name])
    assert j["linux"] and j["verdict"] == "Linux layout"
    assert int(j["page_offset_base"], 16) == po
    assert int(j["vmalloc_base"], 16) == vmalloc
    assert int(j["vmemmap_base"], 16) == vmemmap
    assert int(j["kernel_text_start"], 16) == text
    assert int(j["phys_base"], 16) == (text_pa - (text - 0xffffffff80000000)) % 2**64
    assert int(j["kaslr_offset"], 16) == text - 0xffffffff81000000
    assert j["modules_vaddr"] == "0xffffffffc0000000"
    assert names(j) == ["Low Kernel Mapping", "vmalloc() Area", "Vmemmap", "CPU entry Area",
                        "ESPfix Area", "Kernel text", "Kernel rodata", "Kernel data/bss",
                        "Modules", "Fixmap Area"]
    regions = {r["name"]: r for r in j["regions"]}
    assert int(regions["vmalloc() Area"]["end"], 16) - vmalloc == \
        (12800 if name == "linux5" else 32) << 40
    assert regions["Kernel text"]["start"] == "0x%x" % text
    assert "preallocates" in j["evidence"]["vmalloc_base"]


def test_text_output(cores):
    r = ptlab("regions", cores["linux4"])
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert lines[0] == "Linux layout (4-level, root 0000000000001000)"
    assert re.search(r"^page_offset_base +ffff8b0d00000000  VA - PA is this constant", r.stdout,
                     re.M)
    assert re.search(r"^ffffffffa7e00000 ffffffffa8000000 Kernel text +executable", r.stdout,
                     re.M)
    assert ptlab("regions", "--format", "text", cores["linux4"]).stdout == r.stdout


def test_pti_user_pgd(cores):
    # CR3 holds the user PGD: the layout is its kernel twin's.
    j = regions_json(cores["linux4-pti"])
    assert j["linux"] and j["pti_kernel_pgd"] and j["root"] == "0x2000" and j["cr3"] == "0x3801"
    assert int(j["page_offset_base"], 16) == mkcore.LINUX4_BASES[0]
    # Asked for the user PGD itself: what PTI leaves there is no Linux layout.
    j = regions_json(cores["linux4-pti"], "--user-pgd")
    assert not j["linux"] and "PTI user PGD" in j["reason"]
    assert j["found"]["kernel_bytes"] > 0 and j["found"]["direct_map_candidate"] is None
    assert regions_json(cores["linux4-pti"], "--kernel-pgd")["root"] == "0x2000"


def test_null_with_reason(cores):
    # l4: a direct map and a kernel text, but no vmalloc or vmemmap tables at all.
    j = regions_json(cores["l4"])
    assert j["linux"] and j["page_offset_base"] == "0xffff888000000000"
    assert j["vmalloc_base"] is None and j["vmemmap_base"] is None
    assert "no page table between the direct map" in j["evidence"]["vmalloc_base"]
    assert "vmalloc_base is unknown" in j["evidence"]["vmemmap_base"]
    assert j["kernel_text_start"] == "0xffffffff81000000" and j["phys_base"] == "0x0"


# ---------------------------------------------------------------------------
# Not Linux
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name,why", [
    ("pae", "32-bit or PAE paging"), ("m32", "32-bit or PAE paging"),
    ("identity", "nothing is mapped in the kernel half"),
    ("empty", "nothing is mapped in the kernel half"),
    ("recursive", "nothing is mapped in the kernel half"),
    ("lint", "no direct map"), ("l5", "no direct map"),
])
def test_not_linux(cores, name, why):
    j = regions_json(cores[name])
    assert not j["linux"] and why in j["reason"], j["reason"]
    r = ptlab("regions", cores[name])
    assert r.returncode == 1
    assert r.stdout.startswith("not a Linux layout: ")
    assert "\nfound: " in r.stdout


def test_not_linux_found(cores):
    f = regions_json(cores["identity"])["found"]
    assert f["user_bytes"] == f["identity_bytes"] == 4 << 30
    assert f["kernel_bytes"] == 0 and f["top_level_user"] == 1 and f["top_level_kernel"] == 0
    out = ptlab("regions", cores["identity"]).stdout
    assert "found: 4G mapped in the lower half (4G of it with VA = PA), 0 in the upper half" in out
    f = regions_json(cores["recursive"])["found"]
    assert f["cycles"] == 1 and f["top_level_kernel"] == 1
    assert "1 recursive slot (first at ffffff0000000000)" in ptlab("regions",
                                                                   cores["recursive"]).stdout


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("args,status", [
    ([], 2), (["a", "b"], 2), (["--format", "xml", "x"], 2), (["--bogus", "x"], 2),
    (["/nonexistent/dump.elf"], 1),
])
def test_usage_errors(args, status):
    r = ptlab("regions", *args)
    assert r.returncode == status and "ptlab" in r.stderr, r.stderr
    assert r.stdout == ""


def test_help():
    r = ptlab("regions", "--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: ptlab regions")
    assert re.search(r"^  regions ", ptlab("--help").stdout, re.M)


def test_bad_dumps(cores, tmp_path):
    data = cores["linux4"].read_bytes()
    cases = {"truncated": data[:len(data) // 3], "garbage": bytes(range(256)) * 64,
             "empty": b""}
    for name, blob in cases.items():
        p = tmp_path / (name + ".elf")
        p.write_bytes(blob)
        r = ptlab("regions", p)
        assert r.returncode in (1, 2) and r.stderr, (name, r.stdout)
    # Random bytes as a raw image: an answer (Linux or not), never a crash or a hang.
    raw = tmp_path / "raw.bin"
    raw.write_bytes(bytes((i * 151 + 7) & 0xFF for i in range(1 << 16)))
    for mode in ("4", "5", "pae", "32"):
        r = ptlab("regions", "--raw", "--mode", mode, "--cr3", "3000", raw)
        assert r.returncode in (0, 1), r.stderr


# ---------------------------------------------------------------------------
# maps with the inferred layout
# ---------------------------------------------------------------------------

def test_maps_region(cores):
    j = regions_json(cores["linux4"])
    for reg in j["regions"]:
        r = ptlab("maps", "--region", reg["name"], "--format", "json", cores["linux4"])
        assert r.returncode == 0, r.stderr
        for rng in json.loads(r.stdout)["ranges"]:
            assert int(reg["start"], 16) <= int(rng["start"], 16) < int(reg["end"], 16)
            assert rng["region"] == reg["name"]
    # A unique start of a name, in any case; with --range, the overlap.
    out = ptlab("maps", "--region", "VMALLOC", cores["linux4"]).stdout
    assert out.split()[0] == "ffffcdb500000000-ffffcdb500001000"
    out = ptlab("maps", "--region", "kernel t", "--range", "ffffffffa7f00000-ffffffffffffffff",
                cores["linux4"]).stdout
    assert out.split()[0].startswith("ffffffffa7f00000-ffffffffa8000000")
    r = ptlab("maps", "--region", "kernel", cores["linux4"])
    assert r.returncode == 2 and "names several regions" in r.stderr
    r = ptlab("maps", "--region", "KASAN", cores["linux4"])
    assert r.returncode == 2 and "Low Kernel Mapping" in r.stderr
    r = ptlab("maps", "--region", "vmalloc", cores["pae"])
    assert r.returncode == 1 and "not a Linux layout" in r.stderr
    assert ptlab("maps", "--region", "vmalloc", "--format", "qemu-tlb",
                 cores["linux4"]).returncode == 2


def test_maps_json_names_regions(cores):
    ranges = json.loads(ptlab("maps", "--format", "json", cores["linux5"]).stdout)["ranges"]
    got = {r["start"]: r["region"] for r in ranges}
    assert got["0x400000"] is None
    assert got["0xff26cf9180000000"] == "Low Kernel Mapping"
    assert got["0xffffffffbba00000"] == "Kernel text"
    assert got["0xffffffffff5fc000"] == "Fixmap Area"
    pae = json.loads(ptlab("maps", "--format", "json", cores["pae"]).stdout)["ranges"]
    assert all(r["region"] is None for r in pae)


def test_ptdump_markers_at_inferred_bases(cores):
    out = ptlab("maps", "--format", "ptdump", cores["linux4"]).stdout.splitlines()
    for marker, base in (("Low Kernel Mapping", "0xffff8b0d00000000"),
                         ("vmalloc() Area", "0xffffcdb500000000"),
                         ("Vmemmap", "0xffffefe380000000")):
        i = out.index("---[ %s ]---" % marker)
        assert out[i + 1].startswith(base + "-"), (marker, out[i + 1])
    r = ptlab("maps", "--format", "ptdump", "--region", "Vmemmap", cores["linux4"])
    assert r.returncode == 0 and "-0xffffefe380200000 " in r.stdout


# ---------------------------------------------------------------------------
# Real guests: Debian's kernel, the truth printed from inside
# ---------------------------------------------------------------------------

TRUTH_INIT = r"""#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox echo KCORE-BEGIN
/bin/busybox dd if=/proc/kcore bs=4096 count=1 2>/dev/null | /bin/busybox od -An -tx1 -v
/bin/busybox echo KCORE-END
/bin/busybox grep -E ' (_text|_etext|__start_rodata|__end_rodata|_sdata)$' /proc/kallsyms
/bin/busybox grep 'Kernel code' /proc/iomem
/bin/busybox echo PTLAB-REGIONS-READY
exec /bin/busybox sleep 2147483647
"""


def truth(console):
    """The layout as the guest printed it: kcore's segments, the symbols, the text's PA."""
    blk = console.split("KCORE-BEGIN", 1)[1].split("KCORE-END", 1)[0]
    elf = bytes(int(x, 16) for x in re.findall(r"\b[0-9a-f]{2}\b", blk))
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phnum, = struct.unpack_from("<H", elf, 0x38)
    loads = []
    for i in range(phnum):
        ptype, _, _, va, pa, _, size, _ = struct.unpack_from("<IIQQQQQQ", elf, phoff + 56 * i)
        if ptype == 1:
            loads.append((va, pa, size))
    syms = {m.group(2): int(m.group(1), 16)
            for m in re.finditer(r"^([0-9a-f]{16}) \w (\w+)\r?$", console, re.M)}
    text_pa = int(re.search(r"^\s*([0-9a-f]+)-[0-9a-f]+ : Kernel code", console, re.M).group(1),
                  16)
    ram = [(va, pa) for va, pa, _ in loads if pa != 2**64 - 1 and va < 0xffffffff80000000]
    # KCORE_RAM: vaddr = page_offset_base + paddr; KCORE_VMALLOC: VMALLOC_START, 32/12800 TiB;
    # KCORE_VMEMMAP of the RAM at pfn 1: vmemmap_base + 64, rounded down to a page.
    vmalloc = [va for va, pa, size in loads if pa == 2**64 - 1 and size > 1 << 40]
    vmemmap = min(va for va, pa, size in loads
                  if pa == 2**64 - 1 and size < 1 << 40 and va < 0xffffffff80000000)
    return {
        "page_offset_base": ram[0][0] - ram[0][1],
        "vmalloc_base": vmalloc[0],
        "vmemmap_base": vmemmap & ~((1 << 30) - 1),
        "kernel_text_start": syms["_text"],
        "phys_base": (text_pa - (syms["_text"] - 0xffffffff80000000)) % 2**64,
        "kaslr_offset": syms["_text"] - 0xffffffff81000000,
        "syms": syms,
    }


@pytest.mark.parametrize("cpu,append", [("qemu64", "pti=on"), ("max", "")])
def test_debian_guest(tmp_path, cpu, append):
    dump = tmp_path / "guest.elf"
    with boot_linux(tmp_path, ("console=ttyS0 panic=-1 " + append).strip(), mem="512M", cpu=cpu,
                    init=TRUTH_INIT, marker="PTLAB-REGIONS-READY",
                    initramfs_name="initramfs-regions") as g:
        console = g.output
        g.command("stop")
        g.command("dump-guest-memory %s" % dump)
    want = truth(console)
    j = regions_json(dump)
    assert j["linux"], j["reason"]
    assert j["mode"] == ("5-level" if cpu == "max" else "4-level")
    for f in ("page_offset_base", "vmalloc_base", "vmemmap_base", "kernel_text_start",
              "phys_base", "kaslr_offset"):
        assert int(j[f], 16) == want[f], (f, j[f], hex(want[f]), j["evidence"][f])
    assert j["modules_vaddr"] == "0xffffffffc0000000"
    regions = {r["name"]: (int(r["start"], 16), int(r["end"], 16)) for r in j["regions"]}
    s = want["syms"]
    page = lambda v: (v + 4095) & ~4095
    assert regions["Kernel text"] == (s["_text"], page(s["_etext"]))
    assert regions["Kernel rodata"] == (s["__start_rodata"], page(s["__end_rodata"]))
    assert regions["Kernel data/bss"][0] == s["_sdata"]
    for name in ("CPU entry Area", "ESPfix Area", "Modules", "Fixmap Area"):
        assert name in regions, name
    if "pti" in append:
        # The user PGD of the pair: entry trampolines only.
        u = regions_json(dump, "--user-pgd")
        assert not u["linux"] and "PTI user PGD" in u["reason"]
