"""System tests of ptlab on a running QEMU: the gdbstub source (--gdb), the
shared-RAM source (--mem-file --qmp) and `ptlab watch`.

Each guest runs with a gdbstub on a free port, its RAM in a file under
/dev/shm shared with ptlab (share=on) and a QMP socket for ptlab, beside the
human monitor that the tests use as the oracle. With the guest stopped at one
moment, `maps --format qemu-tlb` through each live source, from the ELF dump
of that moment, and QEMU's own `info tlb` must be identical for both vCPUs,
and `vtop` of 40 addresses must agree with `gva2gpa`; ptlab must leave the
guest as it found it (stopped or running, physical-memory mode off) unless
told --keep-stopped. Guests: this project's kernel and Debian's
(linux_guest.py), 4-level (-cpu qemu64) and 5-level (-cpu max), 2 vCPUs,
KASLR on; `make check` runs one of each kernel and mode, `make matrix`
(PTLAB_MATRIX=full) all four.

watch: at this kernel's shell, a program started after the watch began shows
up (its code page at 0x400000 added) and goes away when it is killed; the
shell says when it starts and when it is gone, and the test waits for those
events and for the lines of the watch, never for a time.

Bad input: fake peers (nothing listening, silent, closing, garbage, a stub
without physical-memory mode, a stub that closes in the middle of a walk), a
QMP socket that never answers, files that are not shared RAM: a message and
exit status 1 within a few seconds, never a hang or a crash.
"""
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time

import pexpect
import pytest

import linux_guest
from ptlab_qemu import BZIMAGE, PROMPT, Monitor
from ptlab_tool import PTLAB_SAN, mkcore, ptlab
from test_ptlab_qemu import take_snapshot

BAD_INPUT_SECONDS = 15.0    # wall: ptlab's deadline per reply is 5 s
WATCH_DEADLINE = 120.0      # wall, for one awaited event of a watch


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class LiveGuest:
    """QEMU with its human monitor (self.mon), a gdbstub on a free port, its RAM
    shared in a file and a QMP socket; self.gdb and self.shm are ptlab's source
    options for each."""

    def __init__(self, tmp_path, kernel=BZIMAGE, append="halt", marker="ptlab: halted",
                 mem="256M", cpu="max", smp=2, initrd=None, deadline=60.0):
        self.ram = "/dev/shm/ptlab-live-%d-%s.ram" % (os.getpid(), os.path.basename(str(tmp_path)))
        qmp = os.path.join(str(tmp_path), "qmp.sock")
        for attempt in range(3):    # the free port may be taken before QEMU binds it
            port = free_port()
            extra = ["-smp", str(smp), "-gdb", "tcp:127.0.0.1:%d" % port,
                     "-qmp", "unix:%s,server=on,wait=off" % qmp,
                     "-object", "memory-backend-file,id=ram0,size=%s,mem-path=%s,share=on"
                     % (mem, self.ram), "-machine", "memory-backend=ram0"]
            extra += ["-initrd", str(initrd)] if initrd else []
            try:
                self.mon = Monitor(tmp_path, append=append, mem=mem, cpu=cpu, marker=marker,
                                   kernel=kernel, extra=extra, deadline=deadline)
                break
            except pexpect.EOF:     # QEMU could not start (the port was taken)
                if attempt == 2:
                    raise
        self.gdb = ["--gdb", "127.0.0.1:%d" % port]
        self.shm = ["--mem-file", self.ram, "--qmp", qmp]
        self.port = port

    def status(self):
        return self.mon.command("info status")

    def close(self):
        self.mon.close()
        if os.path.exists(self.ram):
            os.unlink(self.ram)


def phys_mem_mode(port):
    """QEMU's gdbstub physical-memory mode ('0' or '1'), asked over a connection of
    our own (the guest must be stopped: connecting would stop it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"$qqemu.PhyMemMode#%02x" % (sum(b"qqemu.PhyMemMode") & 0xff))
        data = b""
        while not re.search(rb"\$([^#]*)#..", data):
            chunk = s.recv(4096)
            assert chunk, "the gdbstub closed the connection"
            data += chunk
        s.sendall(b"+")
        return re.search(rb"\$([^#]*)#..", data).group(1).decode()


# ---------------------------------------------------------------------------
# One moment of each guest, seen through every source.
# ---------------------------------------------------------------------------

GUESTS = ["kernel-max", "linux-qemu64"]
if os.environ.get("PTLAB_MATRIX") == "full":
    GUESTS += ["kernel-qemu64", "linux-max"]


class Moment:
    """A stopped live guest: its snapshot (take_snapshot: info tlb, gva2gpa, the ELF
    dump) and vCPU 1's info tlb."""

    def __init__(self, guest, snap, tlb1):
        self.guest, self.snap, self.tlb = guest, snap, [snap.tlb, tlb1]


@pytest.fixture(scope="module", params=GUESTS)
def moment(request, tmp_path_factory):
    kind, cpu = request.param.split("-", 1)
    tmp = tmp_path_factory.mktemp(request.param)
    if kind == "kernel":
        g = LiveGuest(tmp, cpu=cpu)
    else:
        g = LiveGuest(tmp, kernel=linux_guest.debian_kernel(), cpu=cpu,
                      append="console=ttyS0 quiet panic=-1", marker=linux_guest.READY,
                      initrd=linux_guest.busybox_initramfs(),
                      deadline=linux_guest.LINUX_BOOT_DEADLINE)
    try:
        snap = take_snapshot(g.mon, tmp, request.param, la57=True)
        g.mon.command("cpu 1")
        tlb1 = g.mon.raw_command("info tlb")
        g.mon.command("cpu 0")
        yield Moment(g, snap, tlb1)
    finally:
        g.close()


def test_info_tlb_identical_from_every_source(moment):
    """Both vCPUs; this project's kernel leaves the second one in the BIOS, paging off,
    which every source must say as QEMU does."""
    g = moment.guest
    for cpu in (0, 1):
        off = moment.tlb[cpu].strip() == "PG disabled"
        for name, source in (("gdbstub", g.gdb), ("shared RAM", g.shm),
                             ("dump", [moment.snap.dump])):
            r = ptlab("maps", "--cpu", cpu, "--format", "qemu-tlb", *source, check=not off)
            if off:
                assert r.returncode == 1 and "paging disabled" in r.stderr, (name, r.stderr)
            else:
                assert r.stdout == moment.tlb[cpu], "vCPU %d through the %s differs from " \
                    "info tlb" % (cpu, name)
    assert moment.tlb[0].count("\n") > 10
    assert g.status() == "VM status: paused", "ptlab let a guest run that it found stopped"


def vtop_translations(out):
    """{va: pa or None} from `ptlab vtop` output."""
    found = {}
    for m in re.finditer(r"^VIRTUAL +PHYSICAL *\n([0-9a-f]+) +(.*)$", out, re.M):
        pa = m.group(2).strip()
        found[int(m.group(1), 16)] = None if pa == "(not mapped)" else int(pa, 16)
    return found


def test_vtop_agrees_with_gva2gpa(moment):
    vas = sorted(moment.snap.gva2gpa)
    assert len(vas) >= 40
    args = ["%x" % va for va in vas]
    dump = ptlab("vtop", moment.snap.dump, *args).stdout
    for source in (moment.guest.gdb, moment.guest.shm):
        r = ptlab("vtop", *source, *args)
        assert r.returncode in (0, 1), r.stderr
        assert vtop_translations(r.stdout) == moment.snap.gva2gpa
        assert r.stdout == dump


def test_guest_left_as_found(moment):
    """Stopped stays stopped; running runs on (or stays paused with --keep-stopped);
    the gdbstub's physical-memory mode is off again every time."""
    g = moment.guest
    assert g.status() == "VM status: paused"
    assert phys_mem_mode(g.port) == "0"
    for source in (g.gdb, g.shm):
        g.mon.command("cont")
        ptlab("info", *source, check=True)
        assert g.status() == "VM status: running"
        ptlab("info", "--keep-stopped", *source, check=True)
        assert g.status() == "VM status: paused"
        assert phys_mem_mode(g.port) == "0"
    r = ptlab("info", "--stats", *g.gdb, check=True)
    assert re.search(r"gdbstub .*: \d+ round trips", r.stderr), r.stderr


# ---------------------------------------------------------------------------
# watch on this kernel's shell.
# ---------------------------------------------------------------------------

class Watch:
    """`ptlab watch` running in the background; its stdout lines in a queue."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([PTLAB_SAN, "watch", *map(str, args)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self.seen = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def until(self, predicate, what, deadline=WATCH_DEADLINE):
        """Read lines until predicate(line) holds; returns that line."""
        end = time.monotonic() + deadline
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, end - time.monotonic()))
            except queue.Empty:
                line = None
            assert line is not None, "watch: no %s (exit %s); so far:\n%s" % (
                what, self.proc.poll(), "\n".join(self.seen[-40:]))
            self.seen.append(line)
            if predicate(line):
                return line

    def finish(self, sig=None, deadline=30.0):
        """Signal the watch (or let it end), wait, read what is left; (status, stderr)."""
        if sig:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=deadline)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        self.reader.join()
        while (line := self.lines.get()) is not None:
            self.seen.append(line)
        err = self.proc.stderr.read()
        assert "Sanitizer" not in err and "runtime error" not in err, err
        return self.proc.returncode, err


def covers(line, va):
    """For a diff line '+|-|~ START-END ...': (sign, START <= va < END); else (None, False)."""
    m = re.match(r"([-+~]) ([0-9a-f]{16})-([0-9a-f]{16}) ", line)
    return (m.group(1), int(m.group(2), 16) <= va < int(m.group(3), 16)) if m else (None, False)


def walk_time(line):
    """The wall-clock time of a walk line '# HH:MM:SS.mmm walk N, ...' as seconds of the day."""
    m = re.match(r"# (\d\d):(\d\d):(\d\d\.\d{3}) walk ", line)
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3)) if m else None


def seconds_of_day():
    t = time.localtime()
    return t.tm_hour * 3600 + t.tm_min * 60 + t.tm_sec + time.time() % 1


def later(t, than):
    """t after than, seconds of the day (a walk line is never 12 h before the test)."""
    return (t - than) % 86400 < 43200 and t != than


@pytest.fixture(scope="module")
def shell_guest(tmp_path_factory):
    g = LiveGuest(tmp_path_factory.mktemp("watch"), append="", marker=PROMPT, mem="1G", smp=1)
    try:
        yield g
    finally:
        g.close()


@pytest.mark.parametrize("source", ["gdb", "shm"])
def test_watch_sees_a_program_come_and_go(shell_guest, source):
    """memhog, started after the watch, grows its heap until killed. While it runs, the
    vCPU is in its address space at almost every walk (the shell takes a moment per
    tick): its code page at 0x400000 is added. Once the shell has reported it gone,
    two walks later the code page is unmapped, and stays so."""
    g = shell_guest
    code = 0x400000                     # user/user.lds: every program's text
    w = Watch("--interval", "0.2", "--every-walk", *getattr(g, source))
    try:
        w.until(lambda l: " watching " in l, "header")
        g.mon.child.sendline("run memhog &")
        g.mon.child.expect(r"\[pid (\d+)\] memhog running in the background")
        pid = g.mon.child.match.group(1)
        g.mon.child.expect_exact(PROMPT)
        w.until(lambda l: covers(l, code) == ("+", True), "memhog's code page added")
        out = g.mon.shell("kill %s" % pid) + g.mon.shell("ps")
        assert re.search(r"\[pid %s\] memhog (killed by SIGKILL|exited)" % pid, out), out
        gone = seconds_of_day()
        # The first walk printed after `gone` may have begun before it; the second has not.
        for n in range(2):
            w.until(lambda l: walk_time(l) is not None and later(walk_time(l), gone),
                    "walk after memhog's end")
        rc, err = w.finish(signal.SIGINT)
    finally:
        if w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait()
    assert rc == 0, err
    mapped, events = False, []
    for line in w.seen:
        sign, hit = covers(line, code)
        if hit:
            mapped = sign != "-"
            events.append(sign)
    assert events[0] == "+" and events[-1] == "-" and not mapped, events
    assert "hello from pid" in g.mon.shell("run hello"), "the guest runs on after the watch"


def test_watch_ends_when_qemu_exits(tmp_path):
    g = LiveGuest(tmp_path, smp=1)
    watches = []
    try:
        for source in (g.gdb, g.shm):
            watches.append(Watch("--interval", "0.2", *source))
            watches[-1].until(lambda l: " watching " in l, "header")
    finally:
        g.close()                       # `quit` in the monitor
    for w in watches:
        rc, err = w.finish(deadline=BAD_INPUT_SECONDS)
        # QEMU's gdbstub may say W00 before it closes the connection.
        assert rc == 1 and "QEMU exited" in err, (rc, err)


def test_watch_refuses_a_dump(tmp_path):
    core = tmp_path / "l4.elf"
    core.write_bytes(mkcore.scenario_l4())
    r = ptlab("watch", core)
    assert r.returncode == 2 and "watch needs a running guest" in r.stderr, r.stderr


# ---------------------------------------------------------------------------
# Bad input.
# ---------------------------------------------------------------------------

def checksum(data):
    return b"%02x" % (sum(data) & 0xff)


def packet(data):
    return b"$" + data + b"#" + checksum(data)


MTREE = ("FlatView #0\r\n AS \"memory\", root: system\r\n Root memory region: system\r\n"
         "  0000000000000000-0000000007ffffff (prio 0, ram): pc.ram\r\n")
TARGET_XML = ('<target><feature name="core"><reg name="cr0" bitsize="64" regnum="0"/>'
              '<reg name="cr3" bitsize="64"/><reg name="cr4" bitsize="64"/>'
              '<reg name="efer" bitsize="64"/></feature></target>')
REGS = {"p0": "1100008000000000", "p1": "0010000000000000", "p2": "2000000000000000",
        "p3": "0005000000000000"}     # CR0.PG|PE, CR3 0x1000, CR4.PAE, EFER.LME|LMA


def stub_reply(req, phys):
    """A fake QEMU gdbstub's answer to one request (None: say nothing)."""
    if req.startswith(b"qSupported"):
        return [b"PacketSize=1000;qXfer:features:read+"]
    if req.startswith(b"qXfer:features:read:target.xml:"):
        return [b"l" + TARGET_XML.encode()]
    if req == b"qfThreadInfo":
        return [b"m01"]
    if req == b"qsThreadInfo":
        return [b"l"]
    if req.startswith(b"qRcmd,"):
        return [b"O" + MTREE.encode().hex().encode(), b"OK"]
    if req == b"qqemu.Supported":
        return [b"sstepbits;sstep;PhyMemMode" if phys else b""]
    if req == b"qqemu.PhyMemMode":
        return [b"0"]
    if req.startswith(b"Qqemu.PhyMemMode") or req.startswith(b"Hg"):
        return [b"OK"]
    if req.decode() in REGS:
        return [REGS[req.decode()].encode()]
    return [b""]


class FakePeer:
    """A TCP (or unix) server answering each connection with behave(conn) in a thread."""

    def __init__(self, behave, unix_path=None, host="127.0.0.1"):
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.bind(unix_path)
            self.spec = unix_path
        else:
            self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
            self.sock.bind((host, 0))
            self.port = self.sock.getsockname()[1]
            self.spec = "%s:%d" % ("[%s]" % host if ":" in host else host, self.port)
        self.sock.listen(4)
        self.behave = behave
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            try:
                self.behave(conn)
            except OSError:
                pass

    def close(self):
        self.sock.close()


def silent(conn):
    while conn.recv(4096):
        pass


def closing(conn):
    pass


def greet_garbage(conn):
    conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
    silent(conn)


def bad_checksum(conn):
    conn.recv(4096)
    conn.sendall(b"+$PacketSize=1000#00")
    silent(conn)


def fake_stub(phys, close_on_memory):
    """A gdbstub with registers, one vCPU, 128 MiB of RAM; with phys, it has QEMU's
    physical-memory mode; with close_on_memory, it hangs up at the first read."""
    def behave(conn):
        buf = b""
        while True:
            m = re.search(rb"\$([^#]*)#..", buf)
            if not m:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                buf += chunk
                continue
            req, buf = m.group(1), buf[m.end():]
            if close_on_memory and req.startswith(b"m"):
                return
            conn.sendall(b"+" + b"".join(packet(r) for r in stub_reply(req, phys)))
    return behave


def expect_failure(args, words, status=1):
    start = time.monotonic()
    r = ptlab(*args, timeout=60)
    seconds = time.monotonic() - start
    assert r.returncode == status, (r.returncode, r.stderr)
    assert all(w in r.stderr for w in words), r.stderr
    assert r.stdout == "", "no partial output: %r" % r.stdout[:200]
    assert seconds < BAD_INPUT_SECONDS, "%.1f s" % seconds
    return r


@pytest.mark.parametrize("behave,words", [
    (silent, ["no answer"]),
    (closing, ["closed the connection"]),
    (greet_garbage, ["no answer", "is it a gdbstub?"]),
    (bad_checksum, ["bad checksum"]),
    (fake_stub(phys=False, close_on_memory=False), ["physical-memory mode"]),
    (fake_stub(phys=True, close_on_memory=True), ["closed the connection", "QEMU exited?"]),
])
def test_bad_gdbstub(behave, words):
    peer = FakePeer(behave)
    try:
        expect_failure(["maps", "--gdb", peer.spec], words)
    finally:
        peer.close()


@pytest.mark.parametrize("host,spec", [
    ("127.0.0.1", "localhost:%d"), ("127.0.0.1", ":%d"), ("127.0.0.1", "%d"),
    ("::1", "[::1]:%d"), ("::1", "localhost:%d"),
])
def test_host_spellings(host, spec):
    """build/ptlab is static: numeric hosts and localhost (IPv4, then IPv6) are resolved
    without NSS. A stub without physical-memory mode shows that ptlab reached it. On a
    machine without that address (a container without IPv6), ptlab must say that it could
    not connect, quickly and with nothing on stdout."""
    try:
        peer = FakePeer(fake_stub(phys=False, close_on_memory=False), host=host)
    except OSError:
        r = expect_failure(["maps", "--gdb", spec % free_port()], [])
        assert "--gdb" in r.stderr or "connect" in r.stderr, r.stderr
        return
    try:
        expect_failure(["maps", "--gdb", spec % peer.port], ["physical-memory mode"])
    finally:
        peer.close()


def test_nothing_listens():
    expect_failure(["maps", "--gdb", "127.0.0.1:%d" % free_port()], ["connection refused"])
    expect_failure(["maps", "--gdb", "no-such-host.invalid:1234"], ["no-such-host.invalid"])


def test_qmp_that_never_answers(tmp_path):
    ram = tmp_path / "ram"
    ram.write_bytes(b"\0" * 8192)
    path = str(tmp_path / "qmp.sock")
    peer = FakePeer(silent, unix_path=path)
    try:
        expect_failure(["maps", "--mem-file", ram, "--qmp", path], ["no QMP greeting"])
    finally:
        peer.close()
    expect_failure(["maps", "--mem-file", ram, "--qmp", path], ["no QMP socket listens"])


def test_files_that_are_not_shared_ram(tmp_path):
    """A QEMU (never started: -S) whose RAM is a file with share=off, and other files."""
    ram = "/dev/shm/ptlab-live-%d-private.ram" % os.getpid()
    qmp = str(tmp_path / "qmp.sock")
    other = tmp_path / "other"
    other.write_bytes(b"\0" * 4096)
    q = subprocess.Popen(["qemu-system-x86_64", "-S", "-display", "none", "-nodefaults",
                          "-m", "64M", "-object",
                          "memory-backend-file,id=ram0,size=64M,mem-path=%s,share=off" % ram,
                          "-machine", "memory-backend=ram0",
                          "-qmp", "unix:%s,server=on,wait=off" % qmp],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    try:
        end = time.monotonic() + 30
        while not os.path.exists(qmp):
            assert q.poll() is None and time.monotonic() < end, q.stderr.read()
            time.sleep(0.05)
        expect_failure(["maps", "--mem-file", ram, "--qmp", qmp], ["not shared", "share=on"])
        expect_failure(["maps", "--mem-file", other, "--qmp", qmp],
                       ["not the guest RAM of this QEMU", "ram0"])
        expect_failure(["maps", "--mem-file", tmp_path, "--qmp", qmp], ["not a regular file"])
    finally:
        q.kill()
        q.wait()
        if os.path.exists(ram):
            os.unlink(ram)
