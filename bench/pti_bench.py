#!/usr/bin/env python3
"""pti_bench: the cost of a null system call with and without page-table isolation
(a benchmark: prints figures, asserts nothing; docs/processes.md, "Page-table isolation").

user/nullsys makes N getpid calls and prints the TSC cycles they took; the kernel's
`cr3` command prints the entry code's CR3 loads (per-CPU counters, summed), split into
flushing loads and no-flush ones (CR3 bit 63, PCID only). One boot per configuration runs
  cr3; run nullsys 1; cr3; run nullsys N; cr3; ... (RUNS times)
so that each run's CR3 loads, less those of the one-call run (the program's own start and
exit), divided by N - 1, are the loads per call; the figures are medians over the runs.
Configurations:
  QEMU, -cpu max,vendor=GenuineIntel, pti=off and pti=on: QEMU's TCG has no PCID, so each
      CR3 load flushes the TLB (but global pages);
  Bochs (corei7_skylake_x, as tests/system/test_bochs_pcid.py boots it), pti=off and
      pti=on: with PCID, the entry code's loads keep both PCIDs' entries (bit 63).
TSC cycles are comparable only within one emulator: QEMU's TSC follows the host's clock
(translated code, a loaded machine: relative figures), Bochs's counts emulated
instructions (clock: sync=none). Ratios are taken against PTI off on the same emulator.
Usage: bench/pti_bench.py [RUNS [N]]   (default 5 runs of 20000 calls; Bochs: N / 4)
"""
import os
import pathlib
import re
import statistics
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from ptlab_qemu import boot, run_bochs  # noqa: E402  (the tests' QEMU and Bochs runs)

INTEL = "max,vendor=GenuineIntel"
LOADS = re.compile(r"CR3 loads by the entry code: to the kernel PGD \d+ \(flushing (\d+), no-flush (\d+)\),"
                   r" to the user PGD \d+ \(flushing (\d+), no-flush (\d+)\)")
NULLSYS = re.compile(r"^nullsys: (\d+) calls, (\d+) TSC cycles", re.M)
CR3_CMD = re.compile(r"^ptlab> cr3$", re.M)


def script(runs, n):
    return ";".join(["cr3", "run nullsys 1", "cr3"] + ["run nullsys %d;cr3" % n] * runs)


def counters(block):
    """(flushing, no-flush) loads printed by one `cr3`; (0, 0) without PTI (no such line)."""
    m = LOADS.search(block)
    if not m:
        return 0, 0
    kf, kn, uf, un = map(int, m.groups())
    return kf + uf, kn + un


def figures(out, runs, n):
    """Per-call medians from a boot's output: CR3 loads, flushing loads, TSC cycles."""
    out = out.replace("\r", "")
    blocks = CR3_CMD.split(out)[1:]   # each starts with one cr3's output
    assert len(blocks) == runs + 2, "the script did not run to its end:\n" + out[-3000:]
    c = [counters(b) for b in blocks]
    calls = [(int(a), int(b)) for a, b in NULLSYS.findall(out)]
    base = (c[1][0] - c[0][0], c[1][1] - c[0][1])      # the one-call run: start and exit
    loads, flushes, cycles = [], [], []
    for i in range(runs):
        f = c[i + 2][0] - c[i + 1][0] - base[0]
        nf = c[i + 2][1] - c[i + 1][1] - base[1]
        loads.append((f + nf) / (n - 1))
        flushes.append(f / (n - 1))
        cycles.append(calls[i + 1][1] / calls[i + 1][0])
    return statistics.median(loads), statistics.median(flushes), statistics.median(cycles)


def qemu_run(pti, runs, n):
    b = boot(append='quiet %s run="%s;exit"' % (pti, script(runs, n)), mem="256M", cpu=INTEL,
             deadline=600)
    return figures(b.output, runs, n)


def bochs_run(pti, runs, n):
    with tempfile.TemporaryDirectory() as d:
        # Bochs has no isa-debug-exit: stop it once the script's last command is echoed.
        out = run_bochs(pathlib.Path(d), 'quiet nokaslr %s "run=%s;exit"' % (pti, script(runs, n)),
                        deadline=1800, done=("ptlab> exit", "ptlab: panic"))
    return figures(out, runs, n)


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    rows = []
    for emu, fn, calls in (("QEMU", qemu_run, n), ("Bochs", bochs_run, max(n // 4, 2))):
        base = None
        for pti, label in (("pti=off", "PTI off"), ("pti=on", "PTI on")):
            loads, flushes, cycles = fn(pti, runs, calls)
            base = base or cycles
            pcid = " (PCID)" if emu == "Bochs" and pti == "pti=on" else ""
            rows.append(("%s, %s%s" % (emu, label, pcid), calls, loads, flushes, cycles, cycles / base))
    print("null system call (getpid), medians of %d runs" % runs)
    print("%-26s %7s %12s %14s %12s %8s" % ("configuration", "calls", "CR3 writes", "TLB flushes",
                                             "TSC cycles", "ratio"))
    for name, calls, loads, flushes, cycles, ratio in rows:
        print("%-26s %7d %12.2f %14.2f %12.0f %8.2f" % (name, calls, loads, flushes, cycles, ratio))


if __name__ == "__main__":
    main()
