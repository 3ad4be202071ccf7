"""The boot matrix (5-level paging, KASLR, SMP, page-table isolation): the kernel's
self-test (selftests for every stage, then shell commands on the live tables and
user programs: forktest, faults, tlbshoot) across CPUs x memory sizes x KASLR
(off, and seeded) x -smp 1, 2, 4 (multi-threaded TCG) x PTI. `make check` runs a
reduced matrix; `make matrix` (PTLAB_MATRIX=full) the whole of it: 4 CPUs x 3
sizes x 9 seeds = 108 boots, the CPU count going round 1, 2, 4 with the seed, so
that every CPU model and size meets every CPU count three times, and PTI on
(pti=on, an Intel vendor string) for every odd seed index, so that every CPU model
and size has it four times, with every CPU count. The reduced matrix has PTI in one
cell (max, 2G, two CPUs): PTI makes a cell's boot no slower that matters (the
entry code's CR3 loads are a few thousand; measured in docs/processes.md).
"""
import itertools
import os
import re

import pytest

from ptlab_qemu import EXIT_SUCCESS, boot

CPUS = ["qemu64", "max", "max,la57=off", "max,pdpe1gb=off"]
MEMS = ["128M", "2G", "16G"]
SEEDS = [None] + list(range(1, 9))  # None: nokaslr
SMPS = [1, 2, 4]
# test=all runs every stage's selftest (early #PF map, direct map, W+X, __pa/__va, fault-safe
# copies, buddy, processes: hello, init, forktest, faults); then shell commands on the live tables
# and a user program from the shell.
SCRIPT = ("regs;cr3;mem;ptdump kernel;vtop 0xffffffff80000000;explain 0xffffffff81000000;"
          "recursive on 510;recursive show 0xffffffff80000000;recursive off;tlb all;"
          "run forktest;run faults;run tlbshoot 30;cpus;switches;shootdowns")
SELFTESTS = ["early_pf", "early_pf_pool_reset", "direct_map", "wx", "pa_va", "nofault", "buddy",
             "kaslr", "vmemmap", "vmalloc", "ioremap", "process"]


def cells():
    """(cpu, mem, seed, smp, pti) per cell; with pti the CPU gets an Intel vendor string."""
    if os.environ.get("PTLAB_MATRIX") == "full":
        return [(cpu, mem, seed, SMPS[i % 3], i % 2 == 1)
                for (cpu, mem), (i, seed) in itertools.product(itertools.product(CPUS, MEMS), enumerate(SEEDS))]
    # Reduced: every CPU and every size, KASLR off once per CPU, a different seed per cell,
    # every CPU model with 1, 2 and 4 CPUs; PTI in the max, 2G cell.
    reduced = []
    for i, (cpu, mem) in enumerate(itertools.product(CPUS, MEMS)):
        reduced.append((cpu, mem, None if i % 3 == 0 else 1 + i % 8, SMPS[i % 3], (cpu, mem) == ("max", "2G")))
    return reduced


def run_cell(cpu, mem, seed, smp, pti=False):
    kaslr = "nokaslr" if seed is None else "kaslr_seed=%d" % seed
    b = boot(append='quiet %s %s test=all run="%s"' % (kaslr, "pti=on" if pti else "", SCRIPT), mem=mem,
             cpu=cpu + (",vendor=GenuineIntel" if pti else ""), extra=["-smp", str(smp), "-accel", "tcg,thread=multi"])
    assert b.status == EXIT_SUCCESS, b.output[-3000:]
    isolation = re.findall(r"^Kernel/User page tables isolation: (.*)$", b.output.replace("\r", ""), re.M)
    assert len(isolation) == 1 and (isolation[0] == "enabled" if pti
                                    else isolation[0].startswith("disabled")), isolation
    assert "ALL TESTS PASSED" in b.output and "FAILED" not in b.output
    ran = re.findall(r"^test (\w+): OK$", b.output.replace("\r", ""), re.M)
    assert ran == SELFTESTS, "every selftest of test=all ran in this cell: %s" % ran
    assert "test process: OK" in b.output, "user programs ran in this cell"
    assert "forktest exited with status 0" in b.output
    assert "faults: 8 of 8 cases as expected: OK" in b.output
    assert "tlbshoot: 30 rounds on %d CPUs, 0 stale" % smp in b.output, b.output[-3000:]
    assert "%d of %d CPUs online" % (smp, smp) in b.output
    return b


@pytest.mark.parametrize("cpu,mem,seed,smp,pti", cells(), ids=lambda v: str(v))
def test_matrix_cell(cpu, mem, seed, smp, pti):
    b = run_cell(cpu, mem, seed, smp, pti)
    la57 = cpu.startswith("max") and "la57=off" not in cpu
    assert ("paging: 5-level" if la57 else "paging: 4-level") in b.output   # from `regs`
    gb = cpu.startswith("max") and "pdpe1gb=off" not in cpu
    m = re.search(r"DirectMap1G (\d+) kB", b.output)
    assert m, "no DirectMap1G count from `mem`"
    direct_1g = int(m.group(1))
    if mem == "16G":
        # (below 4 GiB QEMU's RAM ends short of a whole aligned GiB with 2G; 16G has them above)
        assert (direct_1g > 0) == gb, "1 GiB pages exactly where the CPU has them"
    if not gb:
        assert direct_1g == 0
    # `recursive show 0xffffffff80000000`: one line per table entry read through the window,
    # down to the PD (its entry is a 2M one), each the same as through the direct map.
    show = b.output.replace("\r", "").split("ptlab> recursive show ", 1)[1].split("ptlab> ", 1)[0]
    compared = re.findall(r"^  (PML5|PML4|PDPT|PD) .* direct map: 0x[0-9a-f]{16} (\S+)$", show, re.M)
    assert [lvl for lvl, _ in compared] == (["PML5"] if la57 else []) + ["PML4", "PDPT", "PD"], show
    assert all(v == "same" for _, v in compared) and "DIFFERENT" not in b.output, "the recursive window agrees"


def test_matrix_kaslr_addresses_vary():
    """Across seeds both the physical and the virtual kernel address take different values."""
    seeds = SEEDS[1:] if os.environ.get("PTLAB_MATRIX") == "full" else SEEDS[1:5]
    phys, virt = set(), set()
    for seed in seeds:
        b = boot(append="kaslr_seed=%d run=exit" % seed, mem="2G", cpu="max")
        assert b.status == EXIT_SUCCESS
        phys.add(b.value("decompressor", r"KASLR physical: 0x([0-9a-f]+)"))
        virt.add(b.value("decompressor", r"KASLR virtual: 0x([0-9a-f]+)"))
    assert len(phys) > 1 and len(virt) > 1
