"""test_ptlab_sources: every dump format of one moment reads the same.

A guest (this project's kernel or Debian's, 4- or 5-level, 2 vCPUs, KASLR
as each kernel does it) is stopped once; from that moment come QEMU's own
`info tlb` for each vCPU and `gva2gpa` for 40 addresses, an ELF dump and a
kdump-zlib dump (QEMU's flattened form). From those: the plain kdump form
(`makedumpfile -R`), kdump-lzo, kdump-snappy and kdump-zstd files and a LiME
image (scripts/ptlab-convert: Debian's QEMU 7.2 has no LZO or snappy, and
QEMU writes no LiME). `maps --format qemu-tlb` from every file equals QEMU's
`info tlb`, for each vCPU; `vtop` on the 40 addresses equals `gva2gpa`; and
Debian's libkdumpfile, a second reader, reads the same page-table pages from
the kdump files as ptlab reads from the ELF dump, and its address translation
(libaddrxlat, a second walker: tests/system/addrxlat_vtop.c) gives the same
physical addresses as `ptlab vtop` on the 40 addresses.
Bad input: truncated and corrupt kdump and LiME files, an unknown
compression: a message and exit status 1 or 2 within seconds.
"""
import importlib.machinery
import importlib.util
import os
import re
import subprocess

import pytest

from linux_guest import boot_linux
from ptlab_qemu import ROOT, Monitor
from ptlab_tool import ptlab
from test_ptlab_qemu import tlb_sample


def run_ptlab(*args, san=False, check=True):
    """ptlab (the optimised build unless san) on a whole guest's dump; check: exit 0."""
    return ptlab(*args, san=san, check=check, timeout=120)


def _script(name):
    path = os.path.join(ROOT, "scripts", name)
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), path)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


convert = _script("ptlab-convert")

GUESTS = {
    # name: (kernel, cpu)
    "kernel-4level": ("kernel", "qemu64"),
    "kernel-5level": ("kernel", "max"),
    "linux-4level": ("linux", "qemu64"),
    "linux-5level": ("linux", "max"),
}


def boot_guest(tmp, kind, cpu):
    """The guest, booted to its known state with 2 vCPUs: this project's kernel halted
    after boot, or Debian's blocked in its /init (linux_guest.py)."""
    if kind == "kernel":
        return Monitor(tmp, append="halt", mem="256M", cpu=cpu, extra=["-smp", "2"], deadline=60)
    return boot_linux(tmp, mem="256M", cpu=cpu, smp=2)


class Moment:
    """One stopped guest: QEMU's views and every dump format of that instant."""

    def __init__(self, tmp, name):
        kind, cpu = GUESTS[name]
        self.dumps = {"elf": tmp / "m.elf", "kdump-zlib-flat": tmp / "m.zlib"}
        with boot_guest(tmp, kind, cpu) as g:
            g.command("stop")
            self.tlb = []
            for n in range(2):
                g.command("cpu %d" % n)
                self.tlb.append(g.raw_command("info tlb"))
            g.command("cpu 0")
            self.vas = tlb_sample(self.tlb[0], 40)
            self.gva2gpa = {va: g.command("gva2gpa %#x" % va).strip() for va in self.vas}
            g.command("dump-guest-memory %s" % self.dumps["elf"])
            g.command("dump-guest-memory -z %s" % self.dumps["kdump-zlib-flat"])
        self.dumps["kdump-zlib"] = tmp / "m.zlib.plain"
        with open(self.dumps["kdump-zlib-flat"], "rb") as flat:
            subprocess.run(["makedumpfile", "-R", str(self.dumps["kdump-zlib"])], stdin=flat,
                           check=True, capture_output=True, timeout=120)
        segs, notes, _ = convert.read_elf(self.dumps["elf"])
        for method in ("lzo", "snappy", "zstd"):
            path = tmp / ("m." + method)
            path.write_bytes(convert.kdump_file(segs, notes, method))
            self.dumps["kdump-" + method] = path
        self.dumps["lime"] = tmp / "m.lime"
        self.dumps["lime"].write_bytes(convert.lime_image(segs))


@pytest.fixture(scope="module", params=sorted(GUESTS))
def moment(request, tmp_path_factory):
    return Moment(tmp_path_factory.mktemp(request.param), request.param)


def test_qemu_tlb_identical_across_formats(moment):
    for n, tlb in enumerate(moment.tlb):
        for fmt, path in moment.dumps.items():
            if fmt == "lime":
                continue        # no registers: checked with --cr3 below
            r = run_ptlab("maps", "--cpu", n, "--format", "qemu-tlb", path, check=False)
            if "PG disabled" in tlb:
                assert r.returncode == 1 and "paging disabled" in r.stderr, (fmt, r.stderr)
            else:
                assert r.returncode == 0 and r.stdout == tlb, (fmt, n, r.stderr)


def cpu0_regs(moment):
    info = run_ptlab("info", moment.dumps["elf"]).stdout
    cr3 = re.search(r"^cr3:\s+([0-9a-f]+)", info, re.M).group(1)
    mode = {"4-level": "4", "5-level": "5"}[re.search(r"^mode:\s+(\S+)", info, re.M).group(1)]
    return cr3, mode


def test_lime_with_registers_given(moment):
    cr3, mode = cpu0_regs(moment)
    out = run_ptlab("maps", "--cr3", cr3, "--mode", mode, "--format", "qemu-tlb",
                    moment.dumps["lime"]).stdout
    assert out == moment.tlb[0]


def vtop_pa(out):
    """{va: pa or None} from `ptlab vtop` output (one block per VA, as crash prints)."""
    got = {}
    for blk in out.split("VIRTUAL           PHYSICAL")[1:]:
        va, pa = blk.split("\n")[1].split(None, 1)
        got[int(va, 16)] = None if pa.strip() == "(not mapped)" else int(pa, 16)
    return got


def test_vtop_matches_gva2gpa(moment):
    cr3, mode = cpu0_regs(moment)
    want = {}
    for va, s in moment.gva2gpa.items():
        m = re.fullmatch(r"gpa: (?:0x)?([0-9a-f]+)", s)
        assert m or s == "Unmapped", s
        want[va] = int(m.group(1), 16) if m else None
    for fmt, path in moment.dumps.items():
        extra = ["--cr3", cr3, "--mode", mode] if fmt == "lime" else []
        r = run_ptlab("vtop", *extra, path, *["%x" % va for va in sorted(want)], check=False)
        assert r.returncode in (0, 1), (fmt, r.stderr)
        assert vtop_pa(r.stdout) == want, fmt


def test_libkdumpfile_reads_the_same_pages(moment):
    """A second reader: libkdumpfile's pages of every plain kdump file equal the ELF dump's,
    on the pages that hold the tables (the direct map's targets of info tlb's first lines)."""
    kdumpfile = pytest.importorskip("kdumpfile")
    segs, _, _ = convert.read_elf(moment.dumps["elf"])
    pas = sorted({int(l.split(": ")[1].split()[0], 16) & ~0xFFF
                  for l in moment.tlb[0].splitlines()[:200]})
    pas.append(int(cpu0_regs(moment)[0], 16) & ~0xFFF)

    def elf_page(pa):
        for start, memsz, body in segs:
            if start <= pa < start + memsz:
                return body[pa - start:pa - start + 4096]
        return None
    for fmt in ("kdump-zlib", "kdump-lzo", "kdump-snappy", "kdump-zstd"):
        k = kdumpfile.kdumpfile(str(moment.dumps[fmt]))
        for pa in pas:
            want = elf_page(pa)
            if want is not None:
                assert k.read(kdumpfile.KDUMP_MACHPHYSADDR, pa, 4096) == want, (fmt, hex(pa))


ADDRXLAT_VTOP = os.path.join(ROOT, "build", "tests", "addrxlat_vtop")


def addrxlat_pa(path, vas):
    """{va: pa or None} from libkdumpfile's own walk (tests/system/addrxlat_vtop.c), from
    the CR3 and paging mode of the dump's first vCPU."""
    subprocess.run(["make", "-s", "-C", ROOT, "build/tests/addrxlat_vtop"], check=True,
                   capture_output=True, timeout=300)
    r = subprocess.run([ADDRXLAT_VTOP, str(path)] + ["%x" % va for va in vas],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    got = {}
    for line in r.stdout.splitlines():
        va, pa = line.split()
        got[int(va, 16)] = None if pa == "-" else int(pa, 16)
    return got


def test_addrxlat_walks_the_same(moment):
    """A second walker: libkdumpfile's address translation (libaddrxlat) over every plain
    kdump file translates the 40 addresses to what `ptlab vtop` says on the same file."""
    vas = sorted(moment.vas)
    for fmt in ("kdump-zlib", "kdump-lzo", "kdump-snappy", "kdump-zstd"):
        path = moment.dumps[fmt]
        ours = vtop_pa(run_ptlab("vtop", path, *["%x" % va for va in vas], check=False).stdout)
        assert len(ours) == len(vas), fmt
        assert addrxlat_pa(path, vas) == ours, fmt


# ---------------------------------------------------------------------------
# Bad input (small files made here; no guest).
# ---------------------------------------------------------------------------

mkcore = _script("ptlab-mkcore")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("small")
    m = mkcore.scenario_l4()
    core = tmp / "l4.elf"
    core.write_bytes(m)
    segs, notes, _ = convert.read_elf(core)
    files = {"elf": core}
    for method in ("zlib", "lzo", "snappy", "zstd"):
        for flat in (False, True):
            p = tmp / ("l4.%s%s" % (method, ".flat" if flat else ""))
            p.write_bytes(convert.kdump_file(segs, notes, method, flat))
            files[p.name] = p
    files["lime"] = tmp / "l4.lime"
    files["lime"].write_bytes(convert.lime_image(segs))
    return tmp, files


def test_small_formats_agree(small):
    tmp, files = small
    want = run_ptlab("maps", "--format", "qemu-tlb", files["elf"]).stdout
    assert want
    for name, p in files.items():
        if name != "lime":
            assert run_ptlab("maps", "--format", "qemu-tlb", p, san=True).stdout == want, name


def test_bad_kdump_and_lime(small):
    tmp, files = small
    bad = []
    for name in ("l4.zlib", "l4.lzo.flat", "lime"):
        data = files[name].read_bytes()
        for cut in (8, 100, 4096, 4200, len(data) // 2, len(data) - 1):
            p = tmp / ("cut-%d-%s" % (cut, name))
            p.write_bytes(data[:cut])
            bad.append(p)
        for pos in (0, 20, 428, 4096 + 48, len(data) // 3):
            corrupt = bytearray(data)
            corrupt[pos:pos + 8] = b"\xff" * 8
            p = tmp / ("corrupt-%d-%s" % (pos, name))
            p.write_bytes(bytes(corrupt))
            bad.append(p)
    unknown = bytearray(files["l4.zlib"].read_bytes())
    unknown[424] = 0x40                     # a compression bit nobody defines
    (tmp / "unknown").write_bytes(bytes(unknown))
    r = run_ptlab("info", tmp / "unknown", san=True, check=False)
    assert r.returncode == 1 and "unknown kdump compression" in r.stderr, r.stderr
    wrapping = bytearray(files["lime"].read_bytes())
    wrapping[16:24] = b"\xff" * 8          # the first range's last byte at 2^64 - 1
    (tmp / "wrapping").write_bytes(bytes(wrapping))
    r = run_ptlab("info", tmp / "wrapping", san=True, check=False)
    assert r.returncode == 1 and "wraps around" in r.stderr, r.stderr
    for p in bad:
        for cmd in (["info"], ["maps", "--format", "qemu-tlb"]):
            r = subprocess.run([os.path.join(ROOT, "build", "san", "ptlab")] + cmd + [str(p)],
                               capture_output=True, text=True, timeout=20)
            assert r.returncode in (0, 1, 2), (p.name, r.returncode, r.stderr)
            if r.returncode:
                assert r.stderr.startswith("ptlab"), (p.name, r.stderr)
