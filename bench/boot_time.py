#!/usr/bin/env python3
"""boot_time: time from QEMU start to start_kernel, against the firmware floor.

The floor is the same QEMU command booting build/bench/stub-bzImage, whose
real-mode setup leaves QEMU as soon as it gains control: what is left above it
is ptlab's own boot (setup, decompressor, kernel head). Runs the two
alternately, prints medians and their ratio. A benchmark: it prints figures
and asserts nothing.
Usage: bench/boot_time.py [RUNS] [MEM]   (defaults 15, 512M)
"""
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARKER = b"ptlab: start_kernel reached"


def qemu(kernel, mem, append):
    return ["qemu-system-x86_64", "-kernel", kernel, "-append", append, "-m", mem, "-cpu", "max",
            "-display", "none", "-no-reboot", "-serial", "stdio", "-monitor", "none",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]


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


if __name__ == "__main__":
    main()
