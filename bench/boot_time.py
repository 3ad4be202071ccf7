#!/usr/bin/env python3
"""boot_time: boot-time figures (a benchmark: prints, asserts nothing).

1. QEMU start to start_kernel, against the firmware floor: the same QEMU
   command booting build/bench/stub-bzImage, whose real-mode setup leaves QEMU
   as soon as it gains control. What is left above it is ptlab's own boot
   (setup, decompressor, kernel head). The two run alternately.
2. QEMU start to the end of memory initialisation (direct map, mem_init)
   against RAM size, 128 MiB to 64 GiB: boot work must not grow with RAM.
Medians of RUNS runs each, measured in one run of this script.
Usage: bench/boot_time.py [RUNS] [MEM]   (defaults 15, 512M)
"""
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from ptlab_qemu import qemu_args  # noqa: E402  (the tests' QEMU command line)

MARKER = b"ptlab: start_kernel reached"
MEM_DONE = b"ptlab: boot complete"
MEM_SIZES = ["128M", "1G", "4G", "16G", "64G"]


def qemu(kernel, mem, append):
    return ["qemu-system-x86_64"] + qemu_args(kernel=kernel, append=append, mem=mem, cpu="max")


def time_to_marker(kernel, mem, append, marker):
    """Seconds from spawning QEMU until marker appears on serial (or QEMU exits if marker is None)."""
    start = time.monotonic()
    p = subprocess.Popen(qemu(kernel, mem, append), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    seen = b""
    elapsed = None
    while True:
        chunk = p.stdout.read1(4096)
        if not chunk:
            break
        seen += chunk
        if marker and marker in seen:
            elapsed = time.monotonic() - start
            break
    if elapsed is None:
        p.wait()
        elapsed = time.monotonic() - start
        if marker:
            raise SystemExit("boot_time: %s never printed %r" % (kernel, marker))
    p.kill()
    p.wait()
    return elapsed


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    mem = sys.argv[2] if len(sys.argv) > 2 else "512M"
    kernel = os.path.join(ROOT, "build", "bzImage")
    stub = os.path.join(ROOT, "build", "bench", "stub-bzImage")
    floor, full, quiet = [], [], []
    for _ in range(runs):
        floor.append(time_to_marker(stub, mem, "", None))
        full.append(time_to_marker(kernel, mem, "", MARKER))
        quiet.append(time_to_marker(kernel, mem, "quiet", MARKER))
    f, k, q = statistics.median(floor), statistics.median(full), statistics.median(quiet)
    print("boot_time: QEMU start to start_kernel, -m %s -cpu max, %d runs each (medians)" % (mem, runs))
    print("  firmware floor (stub setup exits at once): %7.1f ms" % (f * 1000))
    print("  ptlab, stage reports on:                   %7.1f ms   ratio %.3f" % (k * 1000, k / f))
    print("  ptlab, quiet:                              %7.1f ms   ratio %.3f" % (q * 1000, q / f))
    print("  target: ratio <= 1.3")

    times = {m: [] for m in MEM_SIZES}
    for _ in range(runs):
        for m in MEM_SIZES:
            times[m].append(time_to_marker(kernel, m, "quiet", MEM_DONE))
    base = statistics.median(times[MEM_SIZES[0]])
    print("boot_time: QEMU start to the end of memory initialisation, -cpu max, quiet (medians)")
    for m in MEM_SIZES:
        t = statistics.median(times[m])
        print("  -m %-5s %7.1f ms   ratio to %s %.3f" % (m, t * 1000, MEM_SIZES[0], t / base))
    print("  target: 64G within 2x of 128M")


if __name__ == "__main__":
    main()
