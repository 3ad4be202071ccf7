#!/usr/bin/env python3
"""smp_bench: SMP figures (a benchmark: prints, asserts nothing).

1. QEMU start to the shell's prompt with -smp 4 against -smp 1 (multi-threaded
   TCG, quiet), the two alternating, in one run of this script: the cost of
   starting three APs through the real-mode trampoline (target: ratio <= 1.3).
2. TLB flush costs in TSC cycles, from tlbshoot -b (mprotect of 1 page, an
   INVLPG, and of 64 pages, a full flush; medians of 200 calls, each from
   RDTSC to RDTSC in user mode) and from the kernel's own counters
   (`shootdowns`: the initiator's wait for the answers, per request), with
   -smp 1 and -smp 4 side by side. Under TCG these are relative figures only:
   QEMU's TSC is the host's, the guest's instructions are translated.
Usage: bench/smp_bench.py [RUNS]   (default 7)
"""
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from ptlab_qemu import BZIMAGE, qemu_args  # noqa: E402  (the tests' QEMU command line)

PROMPT = b"ptlab> "


def qemu(n, append):
    return ["qemu-system-x86_64"] + qemu_args(kernel=BZIMAGE, append=append, mem="512M", cpu="max",
                                              extra=["-smp", str(n), "-accel", "tcg,thread=multi"])


def time_to_prompt(n):
    """Seconds from spawning QEMU until the shell's first prompt."""
    start = time.monotonic()
    p = subprocess.Popen(qemu(n, "quiet"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    seen = b""
    while PROMPT not in seen:
        chunk = p.stdout.read1(4096)
        if not chunk:
            raise SystemExit("smp_bench: -smp %d never reached the prompt" % n)
        seen += chunk
    elapsed = time.monotonic() - start
    p.kill()
    p.wait()
    return elapsed


def flush_figures(n):
    """tlbshoot -b's medians and the kernel's cycles per remote request, with n CPUs."""
    script = "run tlbshoot -b;shootdowns reset;run tlbshoot -s 2;shootdowns"
    out = subprocess.run(qemu(n, 'quiet run="%s"' % script), capture_output=True, timeout=300).stdout
    out = out.decode("latin-1").replace("\r", "")
    bench = re.search(r"1 page \(INVLPG\): (\d+) alone, (\d+) with (\d+) remote CPUs; "
                      r"64 pages \(full flush\): (\d+) alone, (\d+) with remote CPUs", out)
    kernel = re.search(r"remote round trip (\d+) per request; local flush (\d+)", out)
    stress = re.search(r"stress: (\d+) mprotect calls .* in (\d+) ms: (\d+) per second", out)
    if not (bench and kernel and stress):
        raise SystemExit("smp_bench: unexpected output with -smp %d:\n%s" % (n, out[-2000:]))
    return [int(x) for x in bench.groups()], [int(x) for x in kernel.groups()], int(stress.group(3))


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    one, four = [], []
    for _ in range(runs):
        one.append(time_to_prompt(1))
        four.append(time_to_prompt(4))
    a, b = statistics.median(one), statistics.median(four)
    print("smp_bench: QEMU start to the shell prompt, -m 512M -cpu max, quiet, %d runs each (medians)" % runs)
    print("  -smp 1: %7.1f ms" % (a * 1000))
    print("  -smp 4: %7.1f ms   ratio %.3f" % (b * 1000, b / a))
    print("  target: ratio <= 1.3")

    print("smp_bench: TLB flush costs, TSC cycles (relative figures under TCG)")
    print("  %-44s %12s %12s" % ("", "-smp 1", "-smp 4"))
    (b1, k1, s1), (b4, k4, s4) = flush_figures(1), flush_figures(4)
    rows = [("mprotect 1 page (INVLPG), alone", b1[0], b4[0]),
            ("mprotect 1 page, with the remote CPUs", "-", b4[1]),
            ("mprotect 64 pages (full flush), alone", b1[3], b4[3]),
            ("mprotect 64 pages, with the remote CPUs", "-", b4[4]),
            ("kernel: local flush per call (mean)", k1[1], k4[1]),
            ("kernel: shootdown round trip per request", "-", k4[0]),
            ("mprotect calls per second (tlbshoot -s)", s1, s4)]
    for name, x, y in rows:
        print("  %-44s %12s %12s" % (name, x, y))
    print("  (with -smp 4, each request goes to %d remote CPUs)" % b4[2])


if __name__ == "__main__":
    main()
