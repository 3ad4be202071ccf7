"""ptlab_bench: how fast build/ptlab reads a 2 GiB Linux guest dump, next to
QEMU's own `info tlb` on the same guest.

Boots Debian's kernel with the busybox initramfs (the guest of
tests/system/linux_guest.py, cached in ${XDG_CACHE_HOME:-~/.cache}/ptlab)
with -m 2G, stops it, times the HMP round trip of `info tlb` a few times,
writes the dump, reads it once so it is in the page cache, then times
`ptlab maps` (target <= 5 ms), `ptlab regions` (target <= 10 ms) and
`ptlab maps --format qemu-tlb` (target <= 30 ms) as whole processes, the
same from QEMU's kdump-zlib dump of the same moment (target: at most 3x the
ELF times; the first run builds the flattened file's index cache, the others
use it, and `maps --no-cache` shows the cost without it), and prints medians
and the ratio to QEMU.
Figures only: nothing here asserts a time.

Usage: /usr/bin/python3 bench/ptlab_bench.py [--runs N] [--cpu qemu64|max] [--keep]
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))

import linux_guest  # noqa: E402  (the tests' Debian guest)

PTLAB = os.path.join(ROOT, "build", "ptlab")
TARGETS = {"maps": 5.0, "regions": 10.0, "qemu-tlb": 30.0}


def time_process(args, runs):
    """Median and minimum wall time (ms) of running args to completion, output discarded,
    and the median CPU time (ms, user + system) the process used."""
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        r = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append((time.perf_counter() - start) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
        if r.returncode != 0:
            raise RuntimeError("%s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return statistics.median(times), min(times), statistics.median(cpu)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--qemu-runs", type=int, default=5)
    ap.add_argument("--cpu", default="qemu64")
    ap.add_argument("--mem", default="2G")
    ap.add_argument("--keep", action="store_true", help="keep the dump (printed path)")
    a = ap.parse_args()
    if not os.path.exists(PTLAB):
        sys.exit("ptlab_bench: build/ptlab missing (make build/ptlab)")

    work = tempfile.mkdtemp(prefix="ptlab-bench-", dir=os.path.join(ROOT, "build"))
    dump = os.path.join(work, "linux-%s-%s.elf" % (a.cpu, a.mem))
    kdump = os.path.join(work, "linux-%s-%s.kdump-zlib" % (a.cpu, a.mem))
    print("ptlab_bench: booting Debian Linux (-cpu %s -m %s) ..." % (a.cpu, a.mem), flush=True)
    t0 = time.perf_counter()
    with linux_guest.boot_linux(work, mem=a.mem, cpu=a.cpu) as g:
        boot_s = time.perf_counter() - t0
        g.command("stop")
        qemu_times = []
        tlb = None
        for _ in range(a.qemu_runs):
            start = time.perf_counter()
            tlb = g.raw_command("info tlb")
            qemu_times.append((time.perf_counter() - start) * 1000)
        g.command("dump-guest-memory %s" % dump)
        g.command("dump-guest-memory -z %s" % kdump)
    for path in (dump, kdump):                  # into the page cache
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass
    size_mib = os.path.getsize(dump) >> 20

    out = subprocess.run([PTLAB, "maps", "--format", "qemu-tlb", dump], capture_output=True,
                         text=True).stdout
    same = out == tlb
    maps_lines = subprocess.run([PTLAB, "maps", dump], capture_output=True,
                                text=True).stdout.count("\n")
    results = {
        "maps": time_process([PTLAB, "maps", dump], a.runs),
        "regions": time_process([PTLAB, "regions", dump], a.runs),
        "qemu-tlb": time_process([PTLAB, "maps", "--format", "qemu-tlb", dump], a.runs),
        "qemu-mem": time_process([PTLAB, "maps", "--format", "qemu-mem", dump], a.runs),
        "ptdump": time_process([PTLAB, "maps", "--format", "ptdump", dump], a.runs),
        "json": time_process([PTLAB, "maps", "--format", "json", dump], a.runs),
        "lint": time_process([PTLAB, "lint", dump], max(5, a.runs // 4)),
        "kdump-zlib maps": time_process([PTLAB, "maps", kdump], a.runs),
        "kdump-zlib --no-cache": time_process([PTLAB, "maps", "--no-cache", kdump], a.runs),
        "kdump-zlib qemu-tlb": time_process([PTLAB, "maps", "--format", "qemu-tlb", kdump],
                                            a.runs),
    }
    qemu_med = statistics.median(qemu_times)

    print("guest: Debian %s, -cpu %s, -m %s (booted in %.1f s); dump %d MiB, in the page cache"
          % (os.path.basename(str(linux_guest.debian_kernel())), a.cpu, a.mem, boot_s, size_mib))
    print("QEMU HMP `info tlb` round trip: median %.1f ms over %d runs (%d lines)"
          % (qemu_med, len(qemu_times), tlb.count("\n")))
    print("ptlab --format qemu-tlb identical to QEMU's output: %s" % ("yes" if same else "NO"))
    print("ptlab `maps`: %d lines" % maps_lines)
    print("%-22s %10s %10s %10s %12s" % ("command (whole process)", "median ms", "min ms",
                                         "target ms", "QEMU/ptlab"))
    for name, (med, mn, _) in results.items():
        target = TARGETS.get(name)
        print("%-22s %10.2f %10.2f %10s %11.1fx%s" % (
            name if name in ("maps", "regions", "lint") or name.startswith("kdump") else
            "maps --format " + name,
            med, mn, "%.0f" % target if target else "-", qemu_med / med,
            "" if not target else ("  (met)" if med <= target else "  (MISSED)")))
    print("kdump-zlib (QEMU's flattened form, %d MiB) / ELF: maps %.1fx, qemu-tlb %.1fx "
          "(target <= 3x); maps without the index cache %.1fx"
          % (os.path.getsize(kdump) >> 20,
             results["kdump-zlib maps"][0] / results["maps"][0],
             results["kdump-zlib qemu-tlb"][0] / results["qemu-tlb"][0],
             results["kdump-zlib --no-cache"][0] / results["maps"][0]))
    if a.keep:
        print("dumps kept: %s %s" % (dump, kdump))
    else:
        os.unlink(dump)
        os.unlink(kdump)
        os.rmdir(work)


if __name__ == "__main__":
    main()
