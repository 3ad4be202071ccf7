"""System tests of SMP (docs/smp.md): the APs through the real-mode trampoline,
every CPU's registers against QEMU's monitor, TLB shootdowns (tlbshoot, and
its negative test with `noshootdown`), the shootdown stress, bad input, and
PCID on Bochs.

QEMU runs multi-threaded TCG (-accel tcg,thread=multi): each vCPU is a host
thread with its own software TLB, so a shootdown that is not sent really
leaves a stale translation behind. QEMU's monitor is the oracle: `cpu N`
then `info registers` / `info tlb` show what CPU N really holds.
`make matrix` (PTLAB_MATRIX=full) adds the longer runs.
"""
import os
import re
import shutil

import pytest

from ptlab_qemu import EXIT_FAILURE, EXIT_SUCCESS, PROMPT, Monitor, boot, run_bochs

FULL = os.environ.get("PTLAB_MATRIX") == "full"
DEADLINE = 60.0
TLBSHOOT = re.compile(r"^tlbshoot: (\d+) rounds on (\d+) CPUs, (\d+) stale$", re.M)
STALE_BY_OP = re.compile(r"stale by operation: munmap (\d+), mprotect (\d+), remap (\d+); before the call (\d+)")


def smp(n):
    """QEMU arguments for n vCPUs, one host thread each."""
    return ["-smp", str(n), "-accel", "tcg,thread=multi"]


def run_script(script, n, append="", mem="256M", cpu="max", deadline=DEADLINE):
    b = boot(append=('quiet %s run="%s"' % (append, script)).strip(), mem=mem, cpu=cpu, extra=smp(n),
             deadline=deadline)
    b.output = b.output.replace("\r", "")
    return b


def mem_counts(text):
    free = [int(x) for x in re.findall(r"^free pages:\s+(\d+)", text, re.M)]
    tables = [int(x) for x in re.findall(r"; (\d+) pages allocated by the kernel in all", text)]
    return list(zip(free, tables))


def shootdown_totals(text):
    """(IPIs sent, answered, resent) from the last `shootdowns`."""
    m = re.findall(r"^IPIs: (\d+) sent, (\d+) answered .*?, (\d+) resent$", text, re.M)
    assert m, text[-3000:]
    return tuple(map(int, m[-1]))


def parse_cpus(text):
    """The `cpus` table: {cpu: (apicid, state, cr3, cr4, efer, loaded mm)}."""
    rows = {}
    for m in re.finditer(r"^ *(\d+) +(\d+) (\S+) +0x([0-9a-f]{16}) +\S+ 0x([0-9a-f]{16}) 0x([0-9a-f]{16}) "
                         r"(.{17}) ", text, re.M):
        rows[int(m.group(1))] = (int(m.group(2)), m.group(3), int(m.group(4), 16), int(m.group(5), 16),
                                 int(m.group(6), 16), m.group(7).strip())
    return rows


def monitor_registers(mon, cpu):
    """CR3, CR4, EFER of vCPU cpu as QEMU's monitor shows them (the VM stopped)."""
    mon.command("cpu %d" % cpu)
    regs = mon.command("info registers")
    get = lambda name: int(re.search(r"\b%s=([0-9a-f]+)" % name, regs).group(1), 16)
    return get("CR3"), get("CR4"), get("EFER"), regs


@pytest.mark.parametrize("n", [2, 4])
def test_cpus_against_qemu_and_tlbshoot(tmp_path, n):
    """Every AP came up through trampoline_pgd to swapper_pg_dir; each CPU's CR3, CR4 and EFER
    as `cpus` reads them (on that CPU) are QEMU's; tlbshoot finds no stale access; every IPI
    was answered once; every page comes back."""
    m = Monitor(tmp_path, append="nokaslr", mem="256M", cpu="max", marker=PROMPT, extra=smp(n),
                deadline=DEADLINE)
    try:
        boot_log = m.output.replace("\r", "")
        tpgd = int(re.search(r"trampoline_pgd at 0x([0-9a-f]+)", boot_log).group(1), 16)
        start = int(re.search(r"trampoline_start 0x([0-9a-f]+)", boot_log).group(1), 16)
        swapper = int(re.search(r"init_mem_mapping: cr3 is set  to ([0-9a-f]+)", boot_log).group(1), 16)
        ups = re.findall(r"CPU(\d+): APIC id (\d+): INIT, STARTUP 0x([0-9a-f]+) x2: alive after \d+ us; "
                         r"CR3 0x([0-9a-f]+) \(trampoline_pgd\) -> 0x([0-9a-f]+) \(swapper_pg_dir\); online", boot_log)
        assert [int(u[0]) for u in ups] == list(range(1, n)), boot_log[-3000:]
        for cpu, apic, vector, before, after in ups:
            assert int(vector, 16) == start >> 12 and start < 0x100000 and start % 4096 == 0
            assert int(before, 16) == tpgd and int(after, 16) == swapper
        assert "smp: %d of %d CPUs online" % (n, n) in boot_log

        cpus = parse_cpus(m.shell("cpus"))
        assert sorted(cpus) == list(range(n)) and all(c[1] == "online" for c in cpus.values()), cpus
        m.command("stop")
        for cpu, (apic, state, cr3, cr4, efer, mm) in cpus.items():
            q_cr3, q_cr4, q_efer, regs = monitor_registers(m, cpu)
            assert (q_cr3, q_cr4, q_efer) == (cr3, cr4, efer), (cpu, regs)
            assert cr3 == swapper and mm == "init_mm"
        m.command("cont")

        # Another CPU's table: an idle CPU runs on swapper_pg_dir, as CPU 0 (the shell) does.
        assert m.shell("ptdump current %d" % (n - 1)) == m.shell("ptdump kernel")
        assert m.shell("vtop 0xffffffff81000000 -c 1") == m.shell("vtop 0xffffffff81000000")
        assert "is not an online CPU" in m.shell("vtop 0x1000 -c %d" % n)

        mem0 = m.shell("mem")
        out = m.shell("run tlbshoot 60", timeout=4 * DEADLINE)
        res = TLBSHOOT.search(out)
        assert res and res.groups() == ("60", str(n), "0"), out
        assert "tlbshoot exited with status 0" in out
        # pinned: -c puts the whole program on one CPU (its reader shares it)
        out = m.shell("run -c %d tlbshoot 6" % (n - 1), timeout=DEADLINE)
        assert "main on CPU %d, 1 reader (1 CPUs allowed)" % (n - 1) in out
        assert TLBSHOOT.search(out).groups() == ("6", "1", "0"), out
        sent, answered, resent = shootdown_totals(m.shell("shootdowns"))
        assert sent == answered and sent > 0 and resent == 0
        assert mem_counts(mem0) == mem_counts(m.shell("mem"))
        sw = m.shell("switches")
        assert re.search(r"CR3 unchanged:\s+0 ", sw)
        assert len(re.findall(r"^  CPU\d+: switches [1-9]", sw, re.M)) == n, sw
    finally:
        m.close()


def test_tlbshoot_without_shootdowns_finds_stale_accesses():
    """The negative test: `noshootdown` sends no flush IPI, so the readers' TLBs keep the
    translation they loaded in step 2 and use it in step 4. It finds them in every munmap and
    mprotect round (docs/smp.md explains why this does not depend on timing either)."""
    b = run_script("run tlbshoot 30;shootdowns", 2, append="noshootdown")
    assert b.status == EXIT_FAILURE, b.output[-3000:]      # tlbshoot exits 1: the run= script fails
    res = TLBSHOOT.search(b.output)
    assert res and res.group(1) == "30" and res.group(2) == "2" and int(res.group(3)) > 0, b.output[-3000:]
    munmap, mprotect, remap, before = map(int, STALE_BY_OP.search(b.output).groups())
    assert munmap == 10 and mprotect == 10, (munmap, mprotect, remap, before)
    assert "tlbshoot exited with status 1" in b.output
    assert "noshootdown: remote flushes skipped" in b.output


def test_one_cpu_stays_as_it_was():
    """-smp 1: no [smp_init] stage, no APIC at boot; tlbshoot's threads share the CPU."""
    b = run_script("cpus;run tlbshoot 9", 1)
    assert b.status == EXIT_SUCCESS, b.output[-3000:]
    assert "smp_init" not in b.output
    assert "1 of 1 CPUs online" in b.output
    assert TLBSHOOT.search(b.output).groups() == ("9", "1", "0")


def test_ap_halted_in_the_trampoline(tmp_path):
    """trampoline_halt=1 (test only) stops CPU 1 in the trampoline's 64-bit code, on
    trampoline_pgd: QEMU's view of that CPU is the trampoline's table (CR3, the identity
    mapping of low memory with the text page r-x, the kernel's half); the BSP reports it after
    Linux's 10 s and boots the other APs."""
    m = Monitor(tmp_path, append="nokaslr no5lvl trampoline_halt=1", mem="128M", cpu="max",
                marker="did not answer within 10 s: left out", extra=smp(3), deadline=DEADLINE)
    try:
        log = m.output.replace("\r", "")
        tpgd = int(re.search(r"trampoline_pgd at 0x([0-9a-f]+)", log).group(1), 16)
        text = int(re.search(r"text_start 0x([0-9a-f]+)", log).group(1), 16)
        m.child.expect_exact(PROMPT, timeout=DEADLINE)
        rest = m.child.before.replace("\r", "")
        assert re.search(r"CPU2: APIC id 2: .*; online", rest) and "smp: 2 of 3 CPUs online" in rest, rest
        m.command("stop")
        cr3, cr4, efer, regs = monitor_registers(m, 1)
        assert cr3 == tpgd and efer & 0x500 == 0x500, regs        # LME and LMA: long mode
        rip = int(re.search(r"RIP=([0-9a-f]+)", regs).group(1), 16)
        assert text <= rip < text + 0x1000, regs                  # startup_64, at its physical address
        tlb = m.command("info tlb")
        low = re.findall(r"^([0-9a-f]+): ([0-9a-f]+) (\S+)$", tlb, re.M)
        ident = [(int(v, 16), int(p, 16), f) for v, p, f in low if int(v, 16) < 0x100000]
        assert ident and all(v == p for v, p, f in ident), ident[:5]
        flags = {v: f for v, p, f in ident}
        assert flags[text][-1] != "W" and "X" not in flags[text][:2], flags[text]  # r-x: no W, no NX
        # The kernel half is init_top_pgt's: the same leaves as CPU 0's table.
        kernel = lambda t: sorted(l for l in t.splitlines() if int(l.split(":")[0], 16) >= 0xffff800000000000)
        m.command("cpu 0")
        assert kernel(tlb) == kernel(m.command("info tlb"))
        m.command("cont")
        cpus = parse_cpus(m.shell("cpus"))
        assert "no-answer" in m.shell("cpus") and sorted(cpus) == [0, 2]
    finally:
        m.close()


def test_more_cpus_than_supported():
    """NR_CPUS is 8: with 9 the kernel boots 8 and says which one it left out."""
    b = run_script("cpus", 9, mem="256M", deadline=2 * DEADLINE)
    assert b.status == EXIT_SUCCESS, b.output[-3000:]
    assert "ptlab: smp: 9 CPUs listed, 8 supported: booting 8" in b.output
    assert "CPU with APIC id 8: more CPUs than the kernel supports (NR_CPUS 8): not started" in b.output
    assert "8 of 8 CPUs online" in b.output


def shootdown_stress(seconds, n):
    b = run_script("mem;shootdowns reset;run tlbshoot -s %d;shootdowns;mem" % seconds, n,
                   deadline=seconds + 4 * DEADLINE)
    assert b.status == EXIT_SUCCESS, b.output[-3000:]
    m = re.search(r"stress: (\d+) mprotect calls \(a shootdown each\) in (\d+) ms: (\d+) per second", b.output)
    assert m, b.output[-3000:]
    sent, answered, resent = shootdown_totals(b.output)
    assert sent == answered and resent == 0, (sent, answered, resent)
    counts = mem_counts(b.output)
    assert len(counts) == 2 and counts[0] == counts[1], counts
    return int(m.group(1)), int(m.group(2)), int(m.group(3)), sent


def test_shootdown_stress_short():
    """A few seconds of back-to-back shootdowns to 3 CPUs: no deadlock, every IPI answered
    once, none resent, every page back."""
    calls, ms, rate, sent = shootdown_stress(3, 4)
    assert calls > 0 and sent >= 3 * calls


if FULL:
    def test_shootdown_stress_1000_per_second_for_10_seconds():
        calls, ms, rate, sent = shootdown_stress(10, 4)
        assert ms >= 10000 and rate >= 1000, (calls, ms, rate)

    @pytest.mark.parametrize("n", [2, 4, 8])
    def test_tlbshoot_many_rounds(n):
        b = run_script("run tlbshoot 1500;shootdowns", n, deadline=20 * DEADLINE)
        assert b.status == EXIT_SUCCESS, b.output[-3000:]
        assert TLBSHOOT.search(b.output).groups() == ("1500", str(n), "0")


def test_smp_and_pcid_under_bochs(tmp_path):
    """Bochs with two CPUs that have PCID (corei7_skylake_x): both come up through the
    trampoline, found in Bochs's MP table (`acpi=off`, as Linux's: QEMU's tests use the MADT);
    test=smp runs tlbshoot and forktest on both, and each CPU reuses its ASIDs as Linux does
    (choose_new_asid by ctx_id): non-flushing CR3 loads on each CPU."""
    assert shutil.which("bochs"), "bochs is not installed: run scripts/install-deps check"
    out = run_bochs(tmp_path, "nokaslr acpi=off test=smp", deadline=600, cpus=2)
    assert "ALL TESTS PASSED" in out, out[-4000:]
    assert re.search(r"^  MP table at 0x[0-9a-f]+: 2 CPUs \(APIC ids 0 1\)", out, re.M), out[-4000:]
    assert re.search(r"^  CPU1: APIC id 1: .* CR3 0x[0-9a-f]+ \(trampoline_pgd\) -> .*; online$", out, re.M)
    assert "test smp: OK" in out
    assert TLBSHOOT.search(out).groups() == ("60", "2", "0"), out[-4000:]
    assert "PCID:               in use, 6 dynamic ASIDs" in out, out
    per_cpu = re.findall(r"^  CPU(\d+): switches (\d+), CR3 loads (\d+) \(flushing (\d+), non-flushing (\d+)\)",
                         out, re.M)
    assert [c[0] for c in per_cpu] == ["0", "1"], out[-4000:]
    for cpu, switches, loads, flushing, noflush in per_cpu:
        assert int(loads) == int(flushing) + int(noflush) and int(noflush) > 0, per_cpu
    assert len(re.findall(r"^ CPU\d:$", out, re.M)) == 2   # an ASID table per CPU
    print(out[out.index("CPU APIC STATE"):])
