"""System tests of the ptlab host tool (issue: host tool) against QEMU itself.

Guests: this project's kernel (booted with `halt`, tables live) and a real
Debian Linux kernel with a busybox initramfs, 4-level (-cpu qemu64) and
5-level (-cpu max). For each guest the VM is stopped, QEMU's own `info tlb`,
`info mem` (4-level only: QEMU 7.2's is broken with LA57) and `gva2gpa` are
recorded, and `dump-guest-memory` writes the ELF core; then build/ptlab must
reproduce QEMU's text byte for byte and agree on every sampled translation.

The Debian kernel (apt-get download + dpkg-deb) and the initramfs are cached
in ${XDG_CACHE_HOME:-~/.cache}/ptlab; dumps live in pytest's temporary
directory. The helpers at the top are shared with bench/ptlab_bench.py.
"""
import bisect
import gzip
import hashlib
import io
import json
import os
import random
import re
import shutil
import socket
import stat
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import pexpect
import pytest

from ptlab_qemu import BUILD, BZIMAGE, Monitor

PTLAB = os.path.join(BUILD, "ptlab")
PTLAB_SAN = os.path.join(BUILD, "san", "ptlab")
READY = "PTLAB-GUEST-READY"
LINUX_BOOT_DEADLINE = 120.0


# ---------------------------------------------------------------------------
# Fixture material: the Debian kernel and a busybox initramfs, cached.
# ---------------------------------------------------------------------------

def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    d = Path(base) / "ptlab"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _kernel_package():
    """The versioned linux-image package linux-image-amd64 depends on."""
    for attempt in range(2):
        out = subprocess.run(["apt-cache", "depends", "linux-image-amd64"], capture_output=True,
                             text=True).stdout
        m = re.search(r"Depends: (linux-image-[0-9][^\s]*-amd64)", out)
        if m:
            return m.group(1)
        if attempt == 0:
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
    raise RuntimeError("apt-cache knows no linux-image-amd64 dependency:\n" + out)


def debian_kernel():
    """Path of a cached Debian vmlinuz (downloaded and unpacked on first use)."""
    d = cache_dir()
    have = sorted(d.glob("vmlinuz-*-amd64"))
    if have:
        return have[-1]
    pkg = _kernel_package()
    with tempfile.TemporaryDirectory(dir=d) as tmp:
        subprocess.run(["apt-get", "download", "-q", pkg], cwd=tmp, check=True, capture_output=True)
        deb = next(Path(tmp).glob("*.deb"))
        data = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], check=True,
                              capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            member = next(m for m in tar.getmembers()
                          if re.fullmatch(r"\./boot/vmlinuz-.*", m.name))
            name = os.path.basename(member.name)
            with tar.extractfile(member) as src, open(os.path.join(tmp, name), "wb") as dst:
                shutil.copyfileobj(src, dst)
        os.replace(os.path.join(tmp, name), d / name)
    return d / name


INIT_SCRIPT = """#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox echo %s
exec /bin/busybox sleep 2147483647
""" % READY


def _cpio_newc(entries):
    """A newc cpio archive of (name, mode, data, rdev_major, rdev_minor) entries."""
    out = io.BytesIO()
    for ino, (name, mode, data, rmaj, rmin) in enumerate(entries + [("TRAILER!!!", 0, b"", 0, 0)],
                                                         start=1):
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join("%08x" % v for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, rmaj, rmin, len(nb), 0))
        out.write(hdr.encode() + nb)
        out.write(b"\0" * (-(110 + len(nb)) % 4))
        out.write(data)
        out.write(b"\0" * (-len(data) % 4))
    return out.getvalue()


def busybox_initramfs(init=INIT_SCRIPT, name="initramfs-busybox"):
    """Path of a cached gzip'd cpio (NAME.cpio.gz) with Debian's static busybox and an /init
    (by default one that prints READY)."""
    busybox = Path("/bin/busybox")
    if not busybox.exists():
        raise RuntimeError("/bin/busybox missing: scripts/install-deps check installs busybox-static")
    out = cache_dir() / (name + ".cpio.gz")
    blob = busybox.read_bytes()
    stamp = cache_dir() / (name + ".key")
    key = hashlib.sha256(blob + init.encode()).hexdigest()
    if out.exists() and stamp.exists() and stamp.read_text() == key:
        return out
    entries = [
        ("bin", stat.S_IFDIR | 0o755, b"", 0, 0),
        ("dev", stat.S_IFDIR | 0o755, b"", 0, 0),
        ("dev/console", stat.S_IFCHR | 0o600, b"", 5, 1),
        ("proc", stat.S_IFDIR | 0o755, b"", 0, 0),
        ("sys", stat.S_IFDIR | 0o755, b"", 0, 0),
        ("bin/busybox", stat.S_IFREG | 0o755, blob, 0, 0),
        ("init", stat.S_IFREG | 0o755, init.encode(), 0, 0),
    ]
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(gzip.compress(_cpio_newc(entries), 6))
    os.replace(tmp, out)
    stamp.write_text(key)
    return out


# ---------------------------------------------------------------------------
# Running a guest and taking a snapshot of it.
# ---------------------------------------------------------------------------

class Guest(Monitor):
    """A QEMU guest with its human monitor on a unix socket, booted until `marker`."""

    def __init__(self, tmp_path, kernel, append, initrd=None, mem="256M", cpu="max",
                 marker=READY, deadline=LINUX_BOOT_DEADLINE, smp=1):
        self.sock_path = str(Path(tmp_path) / ("mon-%d.sock" % os.getpid()))
        if os.path.exists(self.sock_path):
            os.unlink(self.sock_path)
        args = ["-display", "none", "-no-reboot", "-serial", "stdio", "-m", mem, "-cpu", cpu,
                "-monitor", "unix:%s,server=on,wait=off" % self.sock_path,
                "-kernel", str(kernel), "-append", append, "-smp", str(smp)]
        if initrd:
            args += ["-initrd", str(initrd)]
        self.child = pexpect.spawn("qemu-system-x86_64", args, encoding="latin-1",
                                   timeout=deadline, echo=False, maxread=65536)
        self.child.expect_exact(marker)
        self.output = self.child.before.replace("\r\n", "\n")
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.sock_path)
        self._read_until_prompt()

    def _read_until_prompt(self):
        chunks = []
        tail = b""
        self.sock.settimeout(120)
        while not tail.endswith(b"(qemu) "):
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("monitor closed")
            chunks.append(chunk)
            tail = (tail + chunk)[-16:]
        return b"".join(chunks).decode("latin-1")

    def command(self, line):
        """The command's output, exactly as QEMU printed it (CR LF -> LF, each line
        ending in a newline), without the echo and the prompt."""
        self.sock.sendall(line.encode() + b"\n")
        text = self._read_until_prompt().replace("\r\n", "\n")
        # The echo of the command (with line-editing escapes) ends at its first newline.
        text = text.split("\n", 1)[1] if "\n" in text else ""
        assert text.endswith("(qemu) ")
        return text[:-len("(qemu) ")]

    def timed_command(self, line):
        start = time.perf_counter()
        out = self.command(line)
        return out, time.perf_counter() - start


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
    picks = rng.sample(lines, min(n, len(lines)))
    vas = []
    for ln in picks:
        va = int(ln.split(":")[0], 16)
        vas.append(va + rng.randrange(4096))
    vas += [0, 0x1000, 0x7ffffffff000, 0xffff800000000000, 0xffffffffffffffff - 0xfff]
    return vas


def take_snapshot(guest, tmp_path, name, la57, samples=40):
    guest.command("stop")
    tlb = guest.command("info tlb")
    mem = None if la57 else guest.command("info mem")
    vas = tlb_sample(tlb, samples)
    translations = {}
    for va in vas:
        out = guest.command("gva2gpa %#x" % va).strip()
        m = re.fullmatch(r"gpa: (?:0x)?([0-9a-f]+)", out)
        translations[va] = int(m.group(1), 16) if m else None
        assert m or out == "Unmapped", out
    dump = Path(tmp_path) / (name + ".elf")
    out = guest.command("dump-guest-memory %s" % dump)
    assert dump.exists() and dump.stat().st_size > 0, out
    info = run_ptlab("info", str(dump)).stdout
    return Snapshot(name, dump, tlb, mem, translations, info)


def run_ptlab(*args, san=False, check=True):
    binary = PTLAB_SAN if san else PTLAB
    r = subprocess.run([binary] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=120)
    if check:
        assert r.returncode == 0, "ptlab %s: exit %d\n%s" % (" ".join(map(str, args)), r.returncode,
                                                           r.stderr)
    return r


def linux_snapshot(tmp_path, cpu, mem="256M", samples=40, name=None):
    """Boot Debian's kernel with the busybox initramfs and snapshot it."""
    kernel = debian_kernel()
    initrd = busybox_initramfs()
    g = Guest(tmp_path, kernel, "console=ttyS0 quiet panic=-1", initrd=initrd, mem=mem, cpu=cpu)
    try:
        # Debian's kernel turns LA57 on whenever the CPU has it (-cpu max does).
        return take_snapshot(g, tmp_path, name or "linux-" + cpu, la57=cpu != "qemu64",
                             samples=samples)
    finally:
        g.close()


def kernel_snapshot(tmp_path, cpu):
    """Boot this project's kernel with `halt` and snapshot it."""
    g = Guest(tmp_path, BZIMAGE, "halt", mem="256M", cpu=cpu, marker="ptlab: halted",
              deadline=20)
    try:
        snap = take_snapshot(g, tmp_path, "kernel-" + cpu, la57=True)
        if "5-level" not in snap.info:
            # 4-level: info mem is reliable; take it from the same stopped guest.
            snap.mem = g.command("info mem")
        return snap
    finally:
        g.close()


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
    out = run_ptlab("maps", "--format", "qemu-tlb", s.dump).stdout
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
        out = run_ptlab("maps", "--format", "qemu-mem", s.dump).stdout
        assert out.count("\n") >= 2 and re.fullmatch(r"([0-9a-f]{16}-[0-9a-f]{16} [0-9a-f]{16} "
                                                     r"[u-]r[w-]\n)+", out)
        return
    out = run_ptlab("maps", "--format", "qemu-mem", s.dump).stdout
    assert s.mem.count("\n") >= 2
    assert out == s.mem


@pytest.mark.parametrize("guest", GUESTS)
def test_vtop_matches_gva2gpa(snapshots, guest):
    s = snapshots(guest)
    vas = sorted(s.gva2gpa)
    r = run_ptlab("vtop", s.dump, *["%x" % v for v in vas], check=False)
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
    text = run_ptlab("maps", s.dump).stdout
    shared = [l for l in text.splitlines() if " shared " in l]
    assert shared and all(l.startswith("ffffff") for l in shared), text
    # Expanded, the ESPfix area alone has as many 4K lines as QEMU prints for it.
    espfix_tlb = sum(1 for l in s.tlb.splitlines()
                     if 0xffffff0000000000 <= int(l.split(":")[0], 16) < 0xffffff8000000000)
    assert espfix_tlb >= 4096
    exp = run_ptlab("maps", "--expand", "--format", "json", "--range",
                    "ffffff0000000000-ffffff8000000000", s.dump).stdout
    pages = sum(r["size"] // 4096 for r in json.loads(exp)["ranges"] if r["kind"] == "mapped")
    assert pages == espfix_tlb


@pytest.mark.parametrize("guest", ["linux-qemu64", "linux-max", "kernel-qemu64"])
def test_maps_agree_with_info_tlb(snapshots, guest):
    """Every page QEMU lists is inside a `maps --expand` range with the same frame."""
    s = snapshots(guest)
    ranges = json.loads(run_ptlab("maps", "--expand", "--format", "json", s.dump).stdout)["ranges"]
    mapped = [(int(r["start"], 16), r["size"], r) for r in ranges if r["kind"] == "mapped"]
    starts = [m[0] for m in mapped]
    rng = random.Random(3)
    lines = s.tlb.splitlines()
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
    out = run_ptlab("ptov", s.dump, "%x" % pa).stdout
    assert "%016x" % va in out.split(), out
    r = run_ptlab("vtop", "--access", "x", s.dump, "%x" % va, check=False)
    assert r.stdout.split("\n")[1].split()[1] == "%x" % pa
    # The kernel is W^X clean and uses no reserved bits (QEMU's TCG CPUs have 40 physical bits).
    r = run_ptlab("lint", "--phys-bits", "40", s.dump, check=False)
    assert r.returncode == 0, r.stdout
    # A dump compared with itself: no differences.
    r = run_ptlab("diff", s.dump, s.dump, check=False)
    assert r.returncode == 0 and r.stdout == ""
    # ptdump: markers of Linux's layout, ends at address 0.
    pt = run_ptlab("maps", "--format", "ptdump", s.dump).stdout
    assert "---[ High Kernel Mapping ]---" in pt
    assert pt.splitlines()[-1].split()[0].endswith("-0x0000000000000000")


def test_linux_smp_every_vcpu(tmp_path):
    """Two vCPUs: the dump holds both notes, and --cpu N walks what QEMU's `cpu N` walks."""
    g = Guest(tmp_path, debian_kernel(), "console=ttyS0 quiet panic=-1",
              initrd=busybox_initramfs(), mem="256M", cpu="qemu64", smp=2)
    try:
        g.command("stop")
        tlbs = []
        for n in range(2):
            g.command("cpu %d" % n)
            tlbs.append(g.command("info tlb"))
        dump = tmp_path / "smp.elf"
        g.command("dump-guest-memory %s" % dump)
    finally:
        g.close()
    info = run_ptlab("info", dump).stdout
    assert re.search(r"^vcpus:\s+2$", info, re.M), info
    for n in range(2):
        assert run_ptlab("maps", "--cpu", n, "--format", "qemu-tlb", dump).stdout == tlbs[n]
    r = run_ptlab("diff", dump, "--cpu-b", "1", check=False)
    assert r.returncode in (0, 1)
    assert (r.returncode == 0) == (tlbs[0] == tlbs[1])


def test_linux_pti_pgd_pair(tmp_path):
    """A PTI guest (an Intel vendor string makes Linux isolate page tables): QEMU walks the
    loaded kernel PGD; --user-pgd walks its user twin, where user code is executable."""
    g = Guest(tmp_path, debian_kernel(), "console=ttyS0 panic=-1", initrd=busybox_initramfs(),
              mem="256M", cpu="qemu64,vendor=GenuineIntel")
    dump = tmp_path / "pti.elf"
    try:
        assert "page tables isolation: enabled" in g.output
        # The guest mostly sleeps: stopped at a random moment, the CPU may have a kernel
        # thread's (empty) user half loaded, or be in user mode (the user PGD, CR3 bit 12).
        # Stop again until the kernel PGD of a process is loaded.
        for attempt in range(20):
            g.command("stop")
            tlb = g.command("info tlb")
            if dump.exists():
                dump.unlink()
            g.command("dump-guest-memory %s" % dump)
            root = int(re.search(r"^root:\s+([0-9a-f]+)", run_ptlab("info", dump).stdout, re.M).group(1), 16)
            kern = run_ptlab("maps", "--user", dump).stdout.splitlines()
            if root & 0x1000 == 0 and kern:
                break
            g.command("cont")
            time.sleep(0.2 + 0.1 * attempt)
    finally:
        g.close()
    assert run_ptlab("maps", "--format", "qemu-tlb", dump).stdout == tlb
    assert root & 0x1000 == 0          # stopped in the kernel: the kernel PGD is loaded
    user = run_ptlab("maps", "--user", "--user-pgd", dump).stdout.splitlines()
    assert kern and user
    # Linux sets NX in the kernel copy of user top-level entries: nothing user is executable there.
    assert all(l.split()[3][2] == "-" for l in kern)
    assert any(l.split()[3] == "r-xu" for l in user)
    assert [l.split()[0] for l in kern] == [l.split()[0] for l in user]
    # The user PGD has no direct map.
    full_user = run_ptlab("maps", "--user-pgd", dump).stdout
    full_kern = run_ptlab("maps", dump).stdout
    assert full_kern.count("\nffff8") > full_user.count("\nffff8")
    r = run_ptlab("diff", dump, "--cr3-b", "%x" % (root | 0x1000), check=False)
    assert r.returncode == 1 and r.stdout.startswith("~ ")
