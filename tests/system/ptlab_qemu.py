"""ptlab_qemu: boot ptlab images in QEMU for the system tests.

boot() runs QEMU to completion under pexpect and returns what the serial
console printed and how QEMU exited; Monitor talks to a running QEMU's human
monitor over a unix socket (info tlb, gva2gpa), the independent oracle the
tests compare the kernel's own reports with.
"""
import os
import re
import resource
import socket
import subprocess
import time

import pexpect

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
BZIMAGE = os.path.join(BUILD, "bzImage")
ISO = os.path.join(BUILD, "ptlab.iso")
EXIT_SUCCESS = 33  # (0x10 << 1) | 1
EXIT_FAILURE = 35  # (0x11 << 1) | 1
# Waiting (wall time) and budgets (QEMU's CPU time) are kept apart. A deadline waits for an
# event (QEMU's exit, a prompt, a line, a monitor reply): generous, since on a loaded machine
# TCG runs several times slower; missing it is a failure, never a reason to wait and retry.
# A budget is what a boot may cost: QEMU's own CPU time, which other processes do not inflate.
BOOT_DEADLINE = 60.0    # seconds (wall) for a boot, a prompt or a shell command
REPLY_DEADLINE = 120.0  # seconds (wall) for one answer of QEMU's monitor (dump-guest-memory of GiBs)
BOOT_SECONDS = 10.0     # QEMU CPU seconds: every boot must finish well within this
PROMPT = "ptlab> "


class Boot:
    """A finished boot: the serial output, QEMU's exit status, the wall time it took and
    QEMU's CPU time (user + system, None where QEMU did not run to its exit here)."""

    def __init__(self, output, status, seconds, cpu_seconds=None):
        self.output = output
        self.status = status
        self.seconds = seconds
        self.cpu_seconds = cpu_seconds

    def blocks(self):
        """The stage blocks in order: list of (name, text of the block)."""
        found = []
        for m in re.finditer(r"^\[([\w:]+)\] [^\n]*\n((?:  [^\n]*\n)*)", self.output, re.M):
            found.append((m.group(1), m.group(0)))
        return found

    def block(self, name):
        for n, text in self.blocks():
            if n == name:
                return text
        raise AssertionError("no [%s] block in:\n%s" % (name, self.output))

    def value(self, name, pattern):
        """The first group of pattern (a regex) inside block name, as an int."""
        m = re.search(pattern, self.block(name))
        assert m, "%r not found in block [%s]:\n%s" % (pattern, name, self.block(name))
        return int(m.group(1), 16)


def mem_bytes(mem):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(mem[:-1]) * units[mem[-1]] if mem[-1] in units else int(mem)


def qemu_args(kernel=BZIMAGE, append="", mem="512M", cpu="max", iso=None, extra=()):
    # signal=off: every byte typed reaches the guest's serial port (Ctrl-C included),
    # instead of the terminal turning it into a signal for QEMU.
    args = ["-display", "none", "-no-reboot", "-chardev", "stdio,id=serial0,signal=off",
            "-serial", "chardev:serial0", "-monitor", "none",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-m", mem, "-cpu", cpu]
    if mem_bytes(mem) >= 8 << 30:
        # Guest RAM larger than the host's: allocate it lazily, without reserving swap
        # (the kernel's overcommit heuristic refuses a plain 64 GiB -m).
        args += ["-object", "memory-backend-ram,id=ram0,size=%s,reserve=off" % mem,
                 "-machine", "memory-backend=ram0"]
    if iso:
        args += ["-cdrom", iso, "-boot", "d"]
    else:
        args += ["-kernel", kernel, "-append", append]
    return args + list(extra)


def _children_cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def boot(append="", mem="512M", cpu="max", kernel=BZIMAGE, iso=None, extra=(), deadline=BOOT_DEADLINE):
    """Boot to completion; QEMU must exit by itself within deadline seconds (wall).
    The kernel ends in its interactive shell unless told otherwise, so `run=exit`
    is added when append has no run= or test= of its own."""
    if not iso and "run=" not in append and "test=" not in append:
        append = (append + " run=exit").strip()
    start, cpu_start = time.monotonic(), _children_cpu_seconds()
    child = pexpect.spawn("qemu-system-x86_64", qemu_args(kernel, append, mem, cpu, iso, extra),
                          encoding="latin-1", timeout=deadline, echo=False)
    child.expect(pexpect.EOF)
    child.wait()  # reap QEMU (its own exit status, never a signal from close())
    child.close()
    seconds, cpu_seconds = time.monotonic() - start, _children_cpu_seconds() - cpu_start
    output = child.before.replace("\r\n", "\n")
    status = child.exitstatus if child.exitstatus is not None else -(child.signalstatus or 0)
    return Boot(output, status, seconds, cpu_seconds)


class Monitor:
    """QEMU booted until `marker` appears on its serial console, with its human monitor
    on a unix socket in tmp_path: `command` asks the monitor (info tlb, gva2gpa, stop,
    dump-guest-memory), `shell` types a line at the kernel's shell. The defaults boot
    this project's kernel; linux_guest.py boots Debian's Linux through the same class."""

    def __init__(self, tmp_path, append="", mem="512M", cpu="max", marker="ptlab: halted",
                 kernel=BZIMAGE, extra=(), deadline=BOOT_DEADLINE):
        self.sock_path = os.path.join(str(tmp_path), "monitor.sock")
        if os.path.exists(self.sock_path):
            os.unlink(self.sock_path)
        args = qemu_args(str(kernel), append, mem, cpu, None, extra)
        args[args.index("-monitor") + 1] = "unix:%s,server=on,wait=off" % self.sock_path
        self.child = pexpect.spawn("qemu-system-x86_64", args, encoding="latin-1",
                                   timeout=deadline, echo=False, maxread=65536)
        self.child.expect_exact(marker)
        self.output = self.child.before.replace("\r\n", "\n")
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.sock_path)
        self._read_until_prompt()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read_until_prompt(self):
        chunks = []
        tail = b""
        self.sock.settimeout(REPLY_DEADLINE)
        while not tail.endswith(b"(qemu) "):
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("monitor closed")
            chunks.append(chunk)
            tail = (tail + chunk)[-16:]
        return b"".join(chunks).decode("latin-1")

    def raw_command(self, line):
        """The command's output exactly as QEMU printed it (CR LF -> LF, each line ending
        in a newline), without the echo of the command and the prompt."""
        self.sock.sendall(line.encode() + b"\n")
        text = self._read_until_prompt().replace("\r\n", "\n")
        # The echo of the command (with line-editing escapes) ends at its first newline.
        text = text.split("\n", 1)[1] if "\n" in text else ""
        assert text.endswith("(qemu) "), text
        return text[:-len("(qemu) ")]

    def command(self, line):
        """The command's output without its leading and trailing newlines."""
        return self.raw_command(line).strip("\n")

    def shell(self, line, timeout=BOOT_DEADLINE):
        """Type a line at the kernel's shell (start with marker=PROMPT); returns its output."""
        self.child.sendline(line)
        self.child.expect_exact(PROMPT, timeout=timeout)
        out = self.child.before.replace("\r\n", "\n").replace("\r", "")
        return out.split("\n", 1)[1] if "\n" in out else ""

    def close(self):
        try:
            self.sock.sendall(b"quit\n")
            self.sock.recv(65536)
        except OSError:
            pass
        self.sock.close()
        try:
            self.child.expect(pexpect.EOF, timeout=5)
        except pexpect.TIMEOUT:
            self.child.terminate(force=True)
        self.child.close()


def shell_session(tmp_path_factory, append, cpu="max", mem="512M"):
    """The body of a module-scoped fixture (`yield from shell_session(...)`): this kernel
    booted to its shell prompt, QEMU's monitor beside it, closed after the module."""
    with Monitor(tmp_path_factory.mktemp("shell"), append=append, mem=mem, cpu=cpu, marker=PROMPT) as m:
        yield m


def make_iso(directory, cmdline="", kernel=BZIMAGE):
    """A GRUB rescue ISO (as `make iso` builds) that boots kernel with cmdline at once
    through GRUB's `linux` command; returns its path."""
    root = os.path.join(str(directory), "iso")
    os.makedirs(os.path.join(root, "boot", "grub"), exist_ok=True)
    with open(kernel, "rb") as src, open(os.path.join(root, "boot", "bzImage"), "wb") as dst:
        dst.write(src.read())
    with open(os.path.join(ROOT, "scripts", "grub.cfg")) as f:
        cfg = f.read()
    cfg = cfg.replace("linux /boot/bzImage loader=grub", "linux /boot/bzImage loader=grub " + cmdline)
    with open(os.path.join(root, "boot", "grub", "grub.cfg"), "w") as f:
        f.write(cfg)
    iso = os.path.join(str(directory), "ptlab.iso")
    subprocess.run(["grub-mkrescue", "-o", iso, root], check=True, capture_output=True)
    return iso


# Bochs: the second oracle, for what QEMU's TCG lacks or gets wrong (PCID, the illegal
# control-register writes that must #GP). Debian's Bochs quirks: no
# `nogui` (sdl2 with SDL_VIDEODRIVER=dummy), the speaker and sound off (its mixer thread
# aborts otherwise), `-rc` with `c` (bochs-bin has the debugger), COM1 into a file; there
# is no isa-debug-exit, so run_bochs stops Bochs once the kernel's last line has arrived.
BOCHSRC = """megs: 256
cpu: model={cpu}, count={cpus}, ips=200000000, reset_on_triple_fault=0
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-master: type=cdrom, path={iso}, status=inserted
boot: cdrom
display_library: sdl2
speaker: enabled=0
sound: driver=dummy
com1: enabled=1, mode=file, dev={com1}
log: {log}
clock: sync=none
"""
BOCHS_DONE = ("TESTS PASSED", "TESTS FAILED", "ptlab: panic", "ptlab>")


def run_bochs(tmp_path, cmdline, deadline=600.0, cpu="corei7_skylake_x", cpus=1, done=BOCHS_DONE):
    """Boot the GRUB ISO with cmdline (a word with spaces must be quoted whole,
    '"run=a b"') on Bochs (CPU model cpu, cpus processors) until one of the strings in
    `done` (default: the selftests' verdict, a panic or the shell prompt) or deadline
    seconds (wall: generous, a quick run takes 10-25 s on an idle machine and was seen at
    96 s on a loaded one); returns COM1's text (without CRs)."""
    iso = make_iso(tmp_path, cmdline)
    com1, rc, cfg = tmp_path / "com1.txt", tmp_path / "rc", tmp_path / "bochsrc"
    cfg.write_text(BOCHSRC.format(iso=iso, com1=com1, log=tmp_path / "bochs.log", cpu=cpu, cpus=cpus))
    rc.write_text("c\n")
    env = dict(os.environ, SDL_VIDEODRIVER="dummy")
    proc = subprocess.Popen(["bochs", "-q", "-f", str(cfg), "-rc", str(rc)], env=env, cwd=str(tmp_path),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    text = ""
    try:
        until = time.monotonic() + deadline
        while time.monotonic() < until and proc.poll() is None:
            time.sleep(1)
            text = com1.read_text(errors="replace") if com1.exists() else ""
            if any(m in text for m in done):
                break
    finally:
        proc.kill()
        proc.wait()
    return text.replace("\r", "")
