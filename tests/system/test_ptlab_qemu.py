"""System tests of the ptlab host tool against QEMU itself.

Guests: this project's kernel (booted with `halt`, tables live) and a real
Debian Linux kernel with a busybox initramfs (linux_guest.py), 4-level
(-cpu qemu64) and 5-level (-cpu max). For each guest the VM is stopped, QEMU's
own `info tlb`, `info mem` (4-level only: QEMU 7.2's is broken with LA57) and
`gva2gpa` are recorded, and `dump-guest-memory` writes the ELF core; then
build/ptlab must reproduce QEMU's text byte for byte and agree on every sampled
translation. Every comparison is between views of the same stopped instant, so
the moment the guest stops at does not change what is checked. Dumps live in
pytest's temporary directory.
"""
import bisect
import json
import random
import re

import pytest

from linux_guest import boot_linux
from ptlab_qemu import Monitor
from ptlab_tool import ptlab


# ---------------------------------------------------------------------------
# Taking a snapshot of a stopped guest.
# ---------------------------------------------------------------------------

class Snapshot:
    """One stopped guest: QEMU's own views and the ELF dump of the same instant."""

    def __init__(self, name, dump, tlb, mem, gva2gpa, info):
        self.name = name
        self.dump = dump
        self.tlb = tlb
        self.mem = mem          # None on 5-level guests (never asked: QEMU 7.2 bug)
        self.gva2gpa = gva2gpa  # {va: pa or None}
        self.info = info


def tlb_sample(tlb, n, seed=8):
    """Up to n VAs from `info tlb` lines (with random page offsets) plus unmapped neighbours."""
    rng = random.Random(seed)
    lines = tlb.splitlines()
    assert lines, "info tlb printed nothing: no mapped address to sample"
    picks = rng.sample(lines, min(n, len(lines)))
    vas = []
    for ln in picks:
        va = int(ln.split(":")[0], 16)
        vas.append(va + rng.randrange(4096))
    vas += [0, 0x1000, 0x7ffffffff000, 0xffff800000000000, 0xffffffffffffffff - 0xfff]
    return vas


def take_snapshot(guest, tmp_path, name, la57, samples=40):
    guest.command("stop")
    tlb = guest.raw_command("info tlb")
    mem = None if la57 else guest.raw_command("info mem")
    vas = tlb_sample(tlb, samples)
    translations = {}
    for va in vas:
        out = guest.command("gva2gpa %#x" % va)
        m = re.fullmatch(r"gpa: (?:0x)?([0-9a-f]+)", out)
        translations[va] = int(m.group(1), 16) if m else None
        assert m or out == "Unmapped", out
    dump = tmp_path / (name + ".elf")
    out = guest.command("dump-guest-memory %s" % dump)
    assert dump.exists() and dump.stat().st_size > 0, out
    info = ptlab("info", dump, check=True).stdout
    return Snapshot(name, dump, tlb, mem, translations, info)


def linux_snapshot(tmp_path, cpu, mem="256M", samples=40, name=None):
    """Boot Debian's kernel with the busybox initramfs and snapshot it."""
    with boot_linux(tmp_path, mem=mem, cpu=cpu) as g:
        # Debian's kernel turns LA57 on whenever the CPU has it (-cpu max does).
        return take_snapshot(g, tmp_path, name or "linux-" + cpu, la57=cpu != "qemu64",
                             samples=samples)


def kernel_snapshot(tmp_path, cpu):
    """Boot this project's kernel with `halt` and snapshot it."""
    with Monitor(tmp_path, append="halt", mem="256M", cpu=cpu, deadline=20) as g:
        snap = take_snapshot(g, tmp_path, "kernel-" + cpu, la57=True)
        if "5-level" not in snap.info:
            # 4-level: info mem is reliable; take it from the same stopped guest.
            snap.mem = g.raw_command("info mem")
        return snap


# ---------------------------------------------------------------------------
# Fixtures: one snapshot per guest for the whole session.
# ---------------------------------------------------------------------------

GUESTS = ["kernel-qemu64", "kernel-max", "linux-qemu64", "linux-max"]


@pytest.fixture(scope="session")
def snapshots(tmp_path_factory):
    cache = {}

    def get(name):
        if name not in cache:
            tmp = tmp_path_factory.mktemp(name)
            kind, cpu = name.split("-", 1)
            if kind == "kernel":
                cache[name] = kernel_snapshot(tmp, cpu)
            else:
                cache[name] = linux_snapshot(tmp, cpu)
        return cache[name]
    return get


def mode_of(snap):
    return re.search(r"^mode:\s+(\S+)", snap.info, re.M).group(1)


# ---------------------------------------------------------------------------
# The byte-exact oracles.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("guest", GUESTS)
def test_qemu_tlb_byte_exact(snapshots, guest):
    s = snapshots(guest)
    out = ptlab("maps", "--format", "qemu-tlb", s.dump, check=True).stdout
    assert s.tlb.count("\n") > 10
    if out != s.tlb:
        a, b = out.splitlines(), s.tlb.splitlines()
        first = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
        pytest.fail("info tlb differs at line %d (ptlab %d lines, QEMU %d):\nptlab: %r\nqemu:  %r"
                    % (first + 1, len(a), len(b), a[first] if first < len(a) else None,
                       b[first] if first < len(b) else None))


@pytest.mark.parametrize("guest", [g for g in GUESTS])
def test_qemu_mem_byte_exact(snapshots, guest):
    s = snapshots(guest)
    if s.mem is None:
        assert mode_of(s) == "5-level"
        # QEMU 7.2's info mem prints nothing on LA57 guests; ptlab's must still work.
        out = ptlab("maps", "--format", "qemu-mem", s.dump, check=True).stdout
        assert out.count("\n") >= 2 and re.fullmatch(r"([0-9a-f]{16}-[0-9a-f]{16} [0-9a-f]{16} "
                                                     r"[u-]r[w-]\n)+", out)
        return
    out = ptlab("maps", "--format", "qemu-mem", s.dump, check=True).stdout
    assert s.mem.count("\n") >= 2
    assert out == s.mem


@pytest.mark.parametrize("guest", GUESTS)
def test_vtop_matches_gva2gpa(snapshots, guest):
    s = snapshots(guest)
    vas = sorted(s.gva2gpa)
    assert any(pa is not None for pa in s.gva2gpa.values()), "QEMU translated none of the VAs"
    r = ptlab("vtop", s.dump, *["%x" % v for v in vas])
    assert r.returncode in (0, 1), r.stderr
    blocks = r.stdout.split("VIRTUAL           PHYSICAL")[1:]
    assert len(blocks) == len(vas), r.stderr
    for va, blk in zip(vas, blocks):
        line = blk.split("\n")[1]     # the header line ends with padding
        got_va, got_pa = line.split(None, 1)
        assert int(got_va, 16) == va
        want = s.gva2gpa[va]
        if want is None:
            assert got_pa.strip() == "(not mapped)", (hex(va), blk)
        else:
            assert int(got_pa, 16) == want, (hex(va), blk)


def test_linux_5level_has_la57(snapshots):
    s = snapshots("linux-max")
    assert mode_of(s) == "5-level"
    cr4 = int(re.search(r"CR4=([0-9a-f]+)", s.info).group(1), 16)
    assert cr4 & (1 << 12)
    s4 = snapshots("linux-qemu64")
    assert mode_of(s4) == "4-level"
    assert not int(re.search(r"CR4=([0-9a-f]+)", s4.info).group(1), 16) & (1 << 12)


# ---------------------------------------------------------------------------
# The other commands on the real dumps: consistent with each other and with QEMU.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("guest", ["linux-qemu64", "linux-max"])
def test_linux_maps_summarises_espfix(snapshots, guest):
    s = snapshots(guest)
    text = ptlab("maps", s.dump, check=True).stdout
    shared = [l for l in text.splitlines() if " shared " in l]
    assert shared and all(l.startswith("ffffff") for l in shared), text
    # Expanded, the ESPfix area alone has as many 4K lines as QEMU prints for it.
    espfix_tlb = sum(1 for l in s.tlb.splitlines()
                     if 0xffffff0000000000 <= int(l.split(":")[0], 16) < 0xffffff8000000000)
    assert espfix_tlb >= 4096
    exp = ptlab("maps", "--expand", "--format", "json", "--range",
                "ffffff0000000000-ffffff8000000000", s.dump, check=True).stdout
    pages = sum(r["size"] // 4096 for r in json.loads(exp)["ranges"] if r["kind"] == "mapped")
    assert pages == espfix_tlb


@pytest.mark.parametrize("guest", ["linux-qemu64", "linux-max", "kernel-qemu64"])
def test_maps_agree_with_info_tlb(snapshots, guest):
    """Every page QEMU lists is inside a `maps --expand` range with the same frame."""
    s = snapshots(guest)
    ranges = json.loads(ptlab("maps", "--expand", "--format", "json", s.dump, check=True).stdout)["ranges"]
    mapped = [(int(r["start"], 16), r["size"], r) for r in ranges if r["kind"] == "mapped"]
    starts = [m[0] for m in mapped]
    rng = random.Random(3)
    lines = s.tlb.splitlines()
    assert mapped and lines, "nothing to compare: ptlab %d ranges, QEMU %d pages" % (len(mapped), len(lines))
    for ln in rng.sample(lines, min(300, len(lines))):
        va_s, rest = ln.split(": ")
        va, pa, flags = int(va_s, 16), int(rest.split()[0], 16), rest.split()[1]
        i = bisect.bisect_right(starts, va) - 1
        start, size, r = mapped[i]
        assert start <= va < start + size, ln
        if flags[8] == "-":                      # effective W is at most the leaf's
            assert not r["w"], ln
        if not r["scattered"]:
            page = r["page_size"]
            assert (int(r["pa"], 16) + (va - start)) & ~(page - 1) & 0xFFFFFFFFFF000 == \
                pa & ~(page - 1), ln
        assert r["global"] == (flags[1] == "G"), ln


@pytest.mark.parametrize("guest", ["linux-qemu64", "linux-max"])
def test_linux_ptov_vtop_lint(snapshots, guest):
    s = snapshots(guest)
    # Kernel text: a VA from QEMU's list, its PA back through ptov.
    line = next(l for l in s.tlb.splitlines()
                if int(l.split(":")[0], 16) >= 0xffffffff80000000 and l.split()[2][0] == "-")
    va, pa = int(line.split(":")[0], 16), int(line.split()[1], 16)
    out = ptlab("ptov", s.dump, "%x" % pa, check=True).stdout
    assert "%016x" % va in out.split(), out
    r = ptlab("vtop", "--access", "x", s.dump, "%x" % va)
    assert r.stdout.split("\n")[1].split()[1] == "%x" % pa
    # The kernel is W^X clean and uses no reserved bits (QEMU's TCG CPUs have 40 physical bits).
    r = ptlab("lint", "--phys-bits", "40", s.dump)
    assert r.returncode == 0, r.stdout
    # A dump compared with itself: no differences.
    r = ptlab("diff", s.dump, s.dump)
    assert r.returncode == 0 and r.stdout == ""
    # ptdump: markers of Linux's layout, ends at address 0.
    pt = ptlab("maps", "--format", "ptdump", s.dump, check=True).stdout
    assert "---[ High Kernel Mapping ]---" in pt
    assert pt.splitlines()[-1].split()[0].endswith("-0x0000000000000000")


def test_linux_smp_every_vcpu(tmp_path):
    """Two vCPUs: the dump holds both notes, and --cpu N walks what QEMU's `cpu N` walks."""
    dump = tmp_path / "smp.elf"
    with boot_linux(tmp_path, cpu="qemu64", smp=2) as g:
        g.command("stop")
        tlbs = []
        for n in range(2):
            g.command("cpu %d" % n)
            tlbs.append(g.raw_command("info tlb"))
        g.command("dump-guest-memory %s" % dump)
    info = ptlab("info", dump, check=True).stdout
    assert re.search(r"^vcpus:\s+2$", info, re.M), info
    for n in range(2):
        assert tlbs[n].count("\n") > 10, "QEMU's info tlb of cpu %d is (nearly) empty" % n
        assert ptlab("maps", "--cpu", n, "--format", "qemu-tlb", dump, check=True).stdout == tlbs[n]
    r = ptlab("diff", dump, "--cpu-b", "1")
    assert r.returncode in (0, 1)
    assert (r.returncode == 0) == (tlbs[0] == tlbs[1])


def root_of(info):
    """The table root `ptlab info` reports."""
    m = re.search(r"^root:\s+([0-9a-f]+)$", info, re.M)
    assert m, info
    return int(m.group(1), 16)


def test_linux_pti_pgd_pair(tmp_path):
    """A PTI guest (an Intel vendor string makes Linux isolate page tables): every process
    has a pair of PGDs, the kernel one (CR3 bit 12 clear) and its user twin (bit 12 set).
    QEMU walks the loaded one; --kernel-pgd and --user-pgd walk the two halves, derived from
    CR3 whichever is loaded: the guest stops where linux_guest's /init blocks, with its
    shell's address space loaded (the user half if the shell is still in user mode).
    The user PGD's kernel half is what Linux's pti.c clones (ptlab lint: nothing found)."""
    dump = tmp_path / "pti.elf"
    with boot_linux(tmp_path, "console=ttyS0 panic=-1", cpu="qemu64,vendor=GenuineIntel") as g:
        assert "page tables isolation: enabled" in g.output
        g.command("stop")
        tlb = g.raw_command("info tlb")
        g.command("dump-guest-memory %s" % dump)
    assert tlb.count("\n") > 10
    assert ptlab("maps", "--format", "qemu-tlb", dump, check=True).stdout == tlb
    cr3 = root_of(ptlab("info", dump, check=True).stdout)
    kern_pgd, user_pgd = cr3 & ~0x1000, cr3 | 0x1000
    assert root_of(ptlab("info", "--kernel-pgd", dump, check=True).stdout) == kern_pgd
    assert root_of(ptlab("info", "--user-pgd", dump, check=True).stdout) == user_pgd
    kern = ptlab("maps", "--user", "--kernel-pgd", dump, check=True).stdout.splitlines()
    user = ptlab("maps", "--user", "--user-pgd", dump, check=True).stdout.splitlines()
    assert kern and user, "the loaded PGD pair holds no user mappings: no process's tables"
    # Linux sets NX in the kernel copy of user top-level entries: nothing user is executable there.
    assert all(l.split()[3][2] == "-" for l in kern)
    assert any(l.split()[3] == "r-xu" for l in user)
    assert [l.split()[0] for l in kern] == [l.split()[0] for l in user]
    # The user PGD has no direct map.
    full_user = ptlab("maps", "--user-pgd", dump, check=True).stdout
    full_kern = ptlab("maps", "--kernel-pgd", dump, check=True).stdout
    assert full_kern.count("\nffff8") > full_user.count("\nffff8")
    r = ptlab("diff", "--kernel-pgd", dump, "--cr3-b", "%x" % user_pgd)
    assert r.returncode == 1 and r.stdout.startswith("~ ")
    # Its kernel half holds only Linux's PTI clones: lint's pti-user finds nothing.
    r = ptlab("lint", "--user-pgd", dump)
    assert r.returncode == 0 and r.stdout == "0 findings\n", r.stdout + r.stderr
