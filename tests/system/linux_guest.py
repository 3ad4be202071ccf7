"""linux_guest: Debian's Linux kernel with a busybox initramfs in QEMU, the real
guest of the ptlab host-tool tests (test_ptlab_qemu.py) and of bench/ptlab_bench.py.

The Debian kernel (apt-get download + dpkg-deb) and the initramfs are cached in
${XDG_CACHE_HOME:-~/.cache}/ptlab. The guest's /init ends in a known state: it
prints READY from its own shell and blocks forever in that shell, so that from
the moment READY arrives nothing in user space starts, execs or exits.
"""
import gzip
import hashlib
import io
import os
import re
import shutil
import stat
import subprocess
import tarfile
import tempfile
from pathlib import Path

from ptlab_qemu import Monitor

READY = "PTLAB-GUEST-READY"
LINUX_BOOT_DEADLINE = 120.0  # seconds to READY (a few on an idle machine)


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


# echo and read are builtins of busybox's shell: READY is printed by the shell that then
# blocks (opening a FIFO that nobody ever opens for writing), without a process of its own.
# A test that stops the guest after READY finds this shell's address space loaded, complete,
# whatever the moment: its kernel PGD in the kernel and while idle, its user PGD in user mode.
INIT_SCRIPT = """#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mkfifo /never-written
echo %s
read line < /never-written
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
    """Path of a cached gzip'd cpio with Debian's static busybox and `init` as /init
    (by default INIT_SCRIPT). The file is named by `name` and a hash of both, so that
    checkouts or tests with another /init do not overwrite each other's."""
    busybox = Path("/bin/busybox")
    if not busybox.exists():
        raise RuntimeError("/bin/busybox missing: scripts/install-deps check installs busybox-static")
    return cached_initramfs(name, [
        ("bin", stat.S_IFDIR | 0o755, b"", 0, 0),
        ("bin/busybox", stat.S_IFREG | 0o755, busybox.read_bytes(), 0, 0),
        ("init", stat.S_IFREG | 0o755, init.encode(), 0, 0),
    ])


def cached_initramfs(name, files):
    """A gzip'd newc cpio of files [(path, mode, data, major, minor)] plus /dev/console,
    /proc and /sys, cached in ${XDG_CACHE_HOME:-~/.cache}/ptlab as NAME-HASH.cpio.gz
    (the hash of the files: checkouts or tests with another /init do not overwrite each
    other's); written to a temporary file first, so that a reader never sees half of it."""
    entries = [
        ("dev", stat.S_IFDIR | 0o755, b"", 0, 0),
        ("dev/console", stat.S_IFCHR | 0o600, b"", 5, 1),
        ("proc", stat.S_IFDIR | 0o755, b"", 0, 0),
        ("sys", stat.S_IFDIR | 0o755, b"", 0, 0),
    ] + list(files)
    h = hashlib.sha256()
    for path, mode, data, _, _ in entries:
        h.update(path.encode() + b"\0" + str(mode).encode() + b"\0" + data)
    out = cache_dir() / ("%s-%s.cpio.gz" % (name, h.hexdigest()[:16]))
    if out.exists():
        return out
    fd, tmp = tempfile.mkstemp(dir=cache_dir(), suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(gzip.compress(_cpio_newc(entries), 6))
    os.replace(tmp, out)
    return out


def boot_linux(tmp_path, append="console=ttyS0 quiet panic=-1", mem="256M", cpu="max", smp=1,
               init=INIT_SCRIPT, marker=READY, initramfs_name="initramfs-busybox"):
    """Debian's kernel with a busybox initramfs whose /init is `init`, booted until it
    prints `marker`; returns the Monitor."""
    initrd = busybox_initramfs(init, initramfs_name)
    return Monitor(tmp_path, append=append, mem=mem, cpu=cpu, marker=marker, kernel=debian_kernel(),
                   extra=["-initrd", str(initrd), "-smp", str(smp)], deadline=LINUX_BOOT_DEADLINE)
