"""linux_oracle: a real Linux kernel as the oracle for ptlab's Linux formats and
for the memory layout (docs/linux-oracle.md).

The guest is a small kernel built from Debian's linux-source (scripts/build-linux,
cached) or Debian's own kernel (cached by test_ptlab_qemu), with an initramfs
whose only program is tests/system/guest/oracle_init.c. That program prints
/proc/kcore's layout and the page_tables files to the serial console and then
runs into oracle_stop_here, where QEMU's gdbstub has a breakpoint: the guest
stops at one known instruction of a process that has touched every page it
will ever touch, and its memory is dumped there. oracle_boot returns what the
console said and the dump; the tests compare the dump's tables, as build/ptlab
reads them, with what Linux printed.

Also here: parsing the console output and ptdump text, and normalising ptdump
text for the markers a dump cannot place (drop_markers, with the entries
compared through series_attrs).
"""
import os
import re
import socket
import stat
import subprocess
import time
from pathlib import Path

import pexpect

from linux_guest import cached_initramfs
from ptlab_qemu import BUILD, ROOT, Monitor

GUEST_SRC = Path(ROOT) / "tests" / "system" / "guest"
GUEST_INIT = Path(BUILD) / "tests" / "system" / "guest" / "oracle_init"
BOOT_DEADLINE = 180.0          # boot to "oracle: ready" under TCG on a loaded machine
STOP_SYMBOL = "oracle_stop_here"
START_KERNEL_MAP = 0xffffffff80000000


# ---------------------------------------------------------------------------
# What the guest boots: the oracle kernel, the init program, the initramfs.
# ---------------------------------------------------------------------------

def oracle_kernel():
    """The cache directory of the oracle kernel (bzImage, config, System.map,
    build-time), built by scripts/build-linux on first use."""
    r = subprocess.run([os.path.join(ROOT, "scripts", "build-linux")], capture_output=True,
                       text=True)
    assert r.returncode == 0, "scripts/build-linux failed:\n" + r.stderr
    return Path(r.stdout.strip().splitlines()[-1])


def kernel_config(kdir):
    """The oracle kernel's .config as {CONFIG_NAME: value} (y, n for 'is not set', ...)."""
    conf = {}
    for line in (Path(kdir) / "config").read_text().splitlines():
        m = re.fullmatch(r"(CONFIG_\w+)=(.*)", line) or re.fullmatch(r"# (CONFIG_\w+) is not set", line)
        if m:
            conf[m.group(1)] = m.group(2) if m.lastindex == 2 else "n"
    return conf


def system_map(kdir):
    """{symbol: address} from the oracle kernel's System.map (link-time addresses)."""
    syms = {}
    for line in (Path(kdir) / "System.map").read_text().splitlines():
        addr, _, name = line.split()
        syms[name] = int(addr, 16)
    return syms


def guest_init():
    """build/tests/system/guest/oracle_init, compiled (static, host flags) when
    missing or older than its sources; returns (path, address of oracle_stop_here)."""
    sources = sorted(GUEST_SRC.glob("*.[ch]"))
    newest = max(s.stat().st_mtime for s in sources)
    if not GUEST_INIT.exists() or GUEST_INIT.stat().st_mtime < newest:
        GUEST_INIT.parent.mkdir(parents=True, exist_ok=True)
        tmp = GUEST_INIT.with_name(GUEST_INIT.name + ".%d.tmp" % os.getpid())
        cmd = ["gcc", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O2", "-static", "-o", str(tmp)]
        cmd += [str(s) for s in sources if s.suffix == ".c"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, "%s\n%s" % (" ".join(cmd), r.stderr)
        os.replace(tmp, GUEST_INIT)
    nm = subprocess.run(["nm", str(GUEST_INIT)], capture_output=True, text=True, check=True).stdout
    m = re.search(r"^([0-9a-f]+) T %s$" % STOP_SYMBOL, nm, re.M)
    assert m, "no %s in %s" % (STOP_SYMBOL, GUEST_INIT)
    return GUEST_INIT, int(m.group(1), 16)


def oracle_initramfs():
    """A gzip'd cpio holding oracle_init as /init and /dev/console, cached in
    ${XDG_CACHE_HOME:-~/.cache}/ptlab under a hash of the program."""
    init, _ = guest_init()
    return cached_initramfs("initramfs-oracle", [("init", stat.S_IFREG | 0o755, init.read_bytes(), 0, 0)])


# ---------------------------------------------------------------------------
# QEMU's gdbstub: just enough of the remote protocol to stop at a breakpoint.
# ---------------------------------------------------------------------------

class GdbStub:
    """A client of QEMU's gdbstub on a unix socket (acknowledged mode)."""

    def __init__(self, path, deadline):
        self.sock = connect_unix(path, deadline)
        self.data = b""

    def send(self, payload):
        body = payload.encode()
        self.sock.sendall(b"$%s#%02x" % (body, sum(body) & 0xff))

    def receive(self, timeout):
        """The next packet's payload (acknowledging it), within timeout seconds."""
        until = time.monotonic() + timeout
        while True:
            m = re.search(rb"\$([^#]*)#[0-9a-fA-F]{2}", self.data)
            if m:
                self.data = self.data[m.end():]
                self.sock.sendall(b"+")
                return m.group(1).decode()
            left = until - time.monotonic()
            if left <= 0:
                raise TimeoutError("gdbstub: no packet within %.0f s" % timeout)
            self.sock.settimeout(left)
            chunk = self.sock.recv(4096)
            if not chunk:
                raise EOFError("gdbstub closed the connection")
            self.data += chunk

    def request(self, payload, timeout=30):
        self.send(payload)
        return self.receive(timeout)

    def close(self):
        self.sock.close()


def connect_unix(path, deadline):
    """Connect to the unix socket QEMU creates at start-up (it may not exist yet)."""
    until = time.monotonic() + deadline
    while True:
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(str(path))
            return s
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            if time.monotonic() > until:
                raise
            time.sleep(0.05)


# ---------------------------------------------------------------------------
# Booting, stopping, dumping.
# ---------------------------------------------------------------------------

class OracleRun:
    """One oracle boot: what the console said and the dump of the stopped guest.
    console   the serial output without CRs
    kcore     {name: int or None} of kcore_layout's bases; kcore_reasons for the Nones
    segments  [(type, vaddr, paddr or None, size)] as kcore_layout printed them
    files     {"kernel" | "current_kernel" | "current_user": text}
    dump      path of the dump-guest-memory ELF
    rip       the stopped vCPU's RIP (oracle_stop_here's address)"""

    def __init__(self, console, dump, rip):
        self.console = console
        self.dump = dump
        self.rip = rip
        self.kcore, self.kcore_reasons, self.segments = parse_kcore(console)
        self.files = parse_files(console)


class OracleGuest(Monitor):
    """QEMU started stopped (-S) with its gdbstub and human monitor on unix sockets.
    Reuses Monitor's methods (command, close)."""

    def __init__(self, tmp_path, kernel, append, initrd, cpu, mem="128M"):
        tmp_path = Path(tmp_path)
        self.sock_path = str(tmp_path / "mon.sock")
        gdb_path = tmp_path / "gdb.sock"
        args = ["-display", "none", "-no-reboot", "-serial", "stdio", "-m", mem, "-cpu", cpu,
                "-smp", "1", "-monitor", "unix:%s,server=on,wait=off" % self.sock_path,
                "-gdb", "unix:%s,server=on,wait=off" % gdb_path, "-S",
                "-kernel", str(kernel), "-initrd", str(initrd), "-append", append]
        self.child = pexpect.spawn("qemu-system-x86_64", args, encoding="latin-1",
                                   timeout=BOOT_DEADLINE, echo=False, maxread=65536)
        try:
            self.gdb = GdbStub(gdb_path, 30)
            self.sock = connect_unix(self.sock_path, 30)
        except OSError as e:
            self.child.terminate(force=True)
            raise AssertionError("QEMU's sockets did not appear (%s); QEMU said:\n%s"
                                 % (e, self.child.read())) from None
        self._read_until_prompt()
        self.output = ""

    def run_to(self, address):
        """Continue the guest until it executes address; the console output so far
        is in self.output. The guest must print 'oracle: ready' before it gets there."""
        assert self.gdb.request("Z0,%x,1" % address) == "OK"
        self.gdb.send("c")
        try:
            self.child.expect_exact("oracle: ready")
        except (pexpect.TIMEOUT, pexpect.EOF) as e:
            raise AssertionError("the guest did not reach 'oracle: ready' (%s); console:\n%s"
                                 % (type(e).__name__, self.child.before)) from None
        # The guest's tty and the host's pty each turn LF into CR LF; the texts have no CR.
        self.output = self.child.before.replace("\r", "") + "oracle: ready\n"
        reply = self.gdb.receive(60)
        assert reply.startswith("T05"), "gdbstub stop reply %r" % reply

    def close(self):
        self.gdb.close()
        super().close()


def oracle_boot(tmp_path, kernel, append, cpu, name="oracle", mem="128M"):
    """Boot kernel with the oracle initramfs and the command line append, stop at
    oracle_stop_here, dump; returns an OracleRun."""
    init, stop = guest_init()
    initrd = oracle_initramfs()
    g = OracleGuest(tmp_path, kernel, append, initrd, cpu, mem)
    try:
        g.run_to(stop)
        regs = g.command("info registers")
        rip = int(re.search(r"RIP=([0-9a-f]{16})", regs).group(1), 16)
        dump = Path(tmp_path) / (name + ".elf")
        out = g.command("dump-guest-memory %s" % dump)
        assert dump.exists() and dump.stat().st_size > 0, out
    finally:
        g.close()
    run = OracleRun(g.output, dump, rip)
    assert run.rip == stop, "stopped at %#x, not at %s (%#x)" % (run.rip, STOP_SYMBOL, stop)
    return run


# ---------------------------------------------------------------------------
# The console's text.
# ---------------------------------------------------------------------------

KCORE_BASES = ("page_offset_base", "vmalloc_base", "vmemmap_base", "phys_base",
               "kernel_text_start")


def parse_kcore(console):
    """kcore_layout's lines: ({base: int or None}, {base: reason}, [segments])."""
    assert "kcore: end" in console, "no kcore layout on the console:\n" + console
    bases, reasons, segments = {}, {}, []
    for m in re.finditer(r"^kcore: segment (KCORE_\w+) vaddr=([0-9a-f]{16}) paddr=([0-9a-f]{16}|-) "
                         r"size=([0-9a-f]{16})$", console, re.M):
        segments.append((m.group(1), int(m.group(2), 16),
                         None if m.group(3) == "-" else int(m.group(3), 16), int(m.group(4), 16)))
    for name in KCORE_BASES:
        m = re.search(r"^kcore: %s=(?:([0-9a-f]{16})|none \((.*)\))$" % name, console, re.M)
        assert m, "kcore_layout printed no %s:\n%s" % (name, console)
        bases[name] = int(m.group(1), 16) if m.group(1) else None
        if m.group(2):
            reasons[name] = m.group(2)
    return bases, reasons, segments


def parse_files(console):
    """{name: text} of the framed page_tables files; checks each frame's byte count."""
    files = {}
    for m in re.finditer(r"^oracle: file (\w+) bytes=(\d+)\n", console, re.M):
        name, n = m.group(1), int(m.group(2))
        body = console[m.end():m.end() + n]
        tail = console[m.end() + n:m.end() + n + len("oracle: end %s\n" % name)]
        assert len(body) == n and tail == "oracle: end %s\n" % name, \
            "the frame of %s is broken (printk in the middle?):\n%s" % (name, console[m.start():][:2000])
        files[name] = body
    return files


# ---------------------------------------------------------------------------
# ptdump text: parsing, and the normalisation of markers a dump cannot place.
# ---------------------------------------------------------------------------

PTDUMP_LINE = re.compile(r"0x([0-9a-f]{16})-0x([0-9a-f]{16})   (?=[ 0-9]{9})( *[0-9]+)[BKMGTPE] "
                         r"(.{30})(pgd|p4d|pud|pmd|pte)")


def ptdump_items(text):
    """The lines of a ptdump text as tuples: ("marker", name), ("line", start, end,
    flags, level) with end 2^64 for the last line (printed as 0), ("skipped", n)."""
    items = []
    for line in text.splitlines():
        m = PTDUMP_LINE.fullmatch(line)
        if m:
            start, end = int(m.group(1), 16), int(m.group(2), 16)
            items.append(("line", start, end or 1 << 64, m.group(4), m.group(5)))
            continue
        m = re.fullmatch(r"---\[ (.*) \]---", line)
        if m:
            items.append(("marker", m.group(1)))
            continue
        m = re.fullmatch(r"\.\.\. (\d+) entr(?:y|ies) skipped \.\.\. ", line)
        assert m, "not a ptdump line: %r" % line
        items.append(("skipped", int(m.group(1))))
    return items


def ptdump_text(items):
    """The text of ptdump_items' tuples, in Linux's format."""
    out = []
    for it in items:
        if it[0] == "marker":
            out.append("---[ %s ]---" % it[1])
        elif it[0] == "skipped":
            out.append("... %d entr%s skipped ... " % (it[1], "y" if it[1] == 1 else "ies"))
        else:
            _, start, end, flags, level = it
            size, unit = end - start, "BKMGTPE"
            while size % 1024 == 0 and len(unit) > 1:
                size, unit = size // 1024, unit[1:]
            out.append("0x%016x-0x%016x   %9d%s %s%s" % (start, end % (1 << 64), size, unit[0],
                                                         flags, level))
    return "".join(l + "\n" for l in out)


def dropped_boundaries(text, names):
    """The addresses where a marker named in names ends one line and starts the
    next: the start of the first line after each such marker."""
    items = ptdump_items(text)
    out = []
    for i, it in enumerate(items):
        if it[0] == "marker" and it[1] in names:
            nxt = next((x for x in items[i + 1:] if x[0] != "marker"), None)
            if nxt and nxt[0] == "line":
                out.append(nxt[1])
    return out


def drop_markers(text, names, same):
    """text without the marker lines named in names and without the line breaks
    they alone made: Linux without those markers prints one line for the two
    around such a marker when the entries on either side of the break have the
    same raw flags, effective rights and level (same(addr) says so for the break
    at addr, from the dump: series_attrs).

    A marker with a line limit (the ESPfix area's 16) counts the lines after its
    limit instead of printing them, up to the next marker. When a dropped marker
    ends such a counted stretch, the lines after it up to the next marker kept
    are counted too; the first of them adds nothing when it continues the last
    counted line.
    Returns (text, [names of the markers dropped])."""
    out, dropped = [], []
    pending = hiding = False
    for it in ptdump_items(text):
        if it[0] == "marker" and it[1] in names:
            dropped.append(it[1])
            pending = True
            hiding = hiding or bool(out and out[-1][0] == "skipped")
            continue
        if it[0] != "line":
            out.append(it)
            pending = hiding = False
            continue
        joins = pending and (hiding or (out and out[-1][0] == "line")) and same(it[1])
        if joins and not hiding:
            last = out[-1]
            assert last[2] == it[1] and last[3:] == it[3:], (last, it)
            out[-1] = ("line", last[1], it[2], it[3], it[4])
        elif hiding:
            out[-1] = ("skipped", out[-1][1] + (0 if joins else 1))
        else:
            out.append(it)
        pending = False
    return ptdump_text(out), dropped


PTE_PFN_MASK = ((1 << 52) - 1) & ~0xfff
WALK_ENTRY = re.compile(r"^  (pgd|p4d|pud|pmd|pte) .* = ([0-9a-f]{16})(?:  (not present|leaf))?$", re.M)


def series_attrs(dump, args, addrs):
    """{addr: (level, raw flags, effective rights)} of the entry the walk of each
    address ends at, as Linux's ptdump compares entries: raw flags = the entry
    without its frame bits (PTE_FLAGS_MASK), effective rights = US and RW ANDed
    and NX ORed down the walk, 0 for an empty entry. args select the PGD."""
    if not addrs:
        return {}
    r = subprocess.run([os.path.join(BUILD, "ptlab"), "vtop", "--format", "walk", *args,
                        str(dump)] + ["%x" % a for a in addrs], capture_output=True, text=True)
    blocks = re.split(r"^VA ", r.stdout, flags=re.M)[1:]
    assert len(blocks) == len(addrs), r.stdout + r.stderr
    attrs = {}
    for addr, block in zip(addrs, blocks):
        eff = None
        for level, value, _ in WALK_ENTRY.findall(block):
            val = int(value, 16)
            prot = val & ~PTE_PFN_MASK
            keep = 0x4 | 0x2                      # _PAGE_USER | _PAGE_RW
            eff = prot if eff is None else (eff & prot & keep) | ((eff | prot) & (1 << 63))
        attrs[addr] = (level, prot, eff if val else 0)
    return attrs


def first_difference(ours, theirs, label_ours="ptlab", label_theirs="linux"):
    """A message naming the first differing line of two texts, with context."""
    a, b = ours.splitlines(), theirs.splitlines()
    i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
    ctx = lambda lines: "\n".join("    " + l for l in lines[max(0, i - 3):i + 4])
    return ("first difference at line %d (%s %d lines, %s %d):\n  %s:\n%s\n  %s:\n%s"
            % (i + 1, label_ours, len(a), label_theirs, len(b), label_ours, ctx(a),
               label_theirs, ctx(b)))
