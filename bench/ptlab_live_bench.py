"""ptlab_live_bench: how fast build/ptlab reads a running 2 GiB Linux guest,
through its gdbstub and through its RAM shared in a file, next to QEMU's own
`info tlb` on the same guest.

Boots Debian's kernel with the busybox initramfs (tests/system/linux_guest.py,
cached in ${XDG_CACHE_HOME:-~/.cache}/ptlab) with -m 2G, 2 vCPUs, a gdbstub,
its RAM in a file under /dev/shm shared with ptlab and a QMP socket
(tests/system/test_ptlab_live.py's LiveGuest), stops it, times the HMP round
trip of `info tlb` a few times, then times `ptlab maps` and
`ptlab maps --format qemu-tlb` through each source as whole processes, and
one walk as `ptlab watch` does it again and again (pause, walk, resume: the
cost of a live walk once connected; targets: shared RAM <= 10 ms; the
gdbstub <= 100 ms and faster than QEMU's info tlb), checks that both print
QEMU's `info tlb` byte for byte, and prints medians, the ratio to QEMU, and
the gdbstub's round trips (`--stats`). The guest stays stopped throughout:
every run walks the same tables. Figures only: nothing here asserts a time.

Usage: /usr/bin/python3 bench/ptlab_live_bench.py [--runs N] [--cpu qemu64|max]
"""
import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
sys.path.insert(0, HERE)

import linux_guest  # noqa: E402  (the tests' Debian guest)
from ptlab_bench import time_process  # noqa: E402
from test_ptlab_live import LiveGuest  # noqa: E402

PTLAB = os.path.join(ROOT, "build", "ptlab")
TARGETS = {"shared RAM": 10.0, "gdbstub": 100.0}


def boot(cpu, mem, work):
    print("ptlab_live_bench: booting Debian Linux (-cpu %s -m %s -smp 2) ..." % (cpu, mem),
          flush=True)
    start = time.perf_counter()
    g = LiveGuest(work, kernel=linux_guest.debian_kernel(), cpu=cpu, mem=mem,
                  append="console=ttyS0 quiet panic=-1", marker=linux_guest.READY,
                  initrd=linux_guest.busybox_initramfs(), deadline=linux_guest.LINUX_BOOT_DEADLINE)
    return g, time.perf_counter() - start


def qemu_info_tlb(g, runs):
    """QEMU's info tlb text and the median of its HMP round trip (ms)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        tlb = g.mon.raw_command("info tlb")
        times.append((time.perf_counter() - start) * 1000)
    return tlb, statistics.median(times)


def watch_walks(src, walks):
    """(median ms, min ms, stats text) of one walk of `ptlab watch` (pause, walk, resume)
    over `walks` walks, from its --stats."""
    p = subprocess.Popen([PTLAB, "watch", "--stats", "--every-walk", "--interval", "0.02", *src],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    n = 0
    for line in p.stdout:
        n += re.match(r"# \S+ walk ", line) is not None
        if n >= walks:
            break
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    m = re.search(r"median ([\d.]+) ms, min ([\d.]+) ms", err)
    if not m:
        raise RuntimeError("ptlab watch: %s" % err)
    return float(m.group(1)), float(m.group(2)), err.strip()


def round_trips(g):
    """The gdbstub statistics of one `maps` (--stats), as printed."""
    r = subprocess.run([PTLAB, "maps", "--stats", *g.gdb], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    return r.stderr.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=21, help="whole-process runs, and walks")
    ap.add_argument("--qemu-runs", type=int, default=5, help="QEMU info tlb runs")
    ap.add_argument("--cpu", default="qemu64", help="QEMU -cpu (max: 5-level)")
    ap.add_argument("--mem", default="2G", help="guest RAM")
    a = ap.parse_args()
    if not os.path.exists(PTLAB):
        sys.exit("ptlab_live_bench: build/ptlab missing (make build/ptlab)")
    with tempfile.TemporaryDirectory(prefix="ptlab-live-bench-",
                                     dir=os.path.join(ROOT, "build")) as work:
        g, boot_s = boot(a.cpu, a.mem, work)
        try:
            g.mon.command("stop")
            tlb, qemu_ms = qemu_info_tlb(g, a.qemu_runs)
            same = {name: subprocess.run([PTLAB, "maps", "--format", "qemu-tlb", *src],
                                         capture_output=True, text=True).stdout == tlb
                    for name, src in (("gdbstub", g.gdb), ("shared RAM", g.shm))}
            results = {}
            for name, src in (("shared RAM", g.shm), ("gdbstub", g.gdb)):
                results[name] = time_process([PTLAB, "maps", *src], a.runs)
                results[name + " qemu-tlb"] = time_process(
                    [PTLAB, "maps", "--format", "qemu-tlb", *src], a.runs)
            stats = round_trips(g)
            walk = {name: watch_walks(src, a.runs + 1)
                    for name, src in (("shared RAM", g.shm), ("gdbstub", g.gdb))}
        finally:
            g.close()
    print("guest: Debian %s, -cpu %s, -m %s, 2 vCPUs (booted in %.1f s), stopped"
          % (os.path.basename(str(linux_guest.debian_kernel())), a.cpu, a.mem, boot_s))
    print("QEMU HMP `info tlb` round trip: median %.1f ms over %d runs (%d lines)"
          % (qemu_ms, a.qemu_runs, tlb.count("\n")))
    for name, ok in same.items():
        print("ptlab --format qemu-tlb through the %s identical to QEMU's: %s"
              % (name, "yes" if ok else "NO"))
    print("gdbstub, one `maps`: %s" % re.sub(r"^ptlab: ", "", stats))
    for name, (_, _, text) in walk.items():
        print("%s, `watch`: %s" % (name, re.sub(r"ptlab:? ", "", text).replace("\n", "; ")))
    print("%-32s %10s %10s %10s %12s" % ("what (whole process, or one walk)", "median ms", "min ms",
                                         "target ms", "QEMU/ptlab"))
    for name, (med, mn, _) in results.items():
        what = "maps --format qemu-tlb" if name.endswith("qemu-tlb") else "maps"
        print("%-32s %10.2f %10.2f %10s %11.1fx" % (
            "%s, %s" % (what, name.replace(" qemu-tlb", "")), med, mn, "-", qemu_ms / med))
    for name, (med, mn, _) in walk.items():
        target = TARGETS[name]
        print("%-32s %10.2f %10.2f %10.0f %11.1fx%s" % (
            "one walk (watch), %s" % name, med, mn, target, qemu_ms / med,
            "  (met)" if med <= target and (name != "gdbstub" or med < qemu_ms) else "  (MISSED)"))


if __name__ == "__main__":
    main()
