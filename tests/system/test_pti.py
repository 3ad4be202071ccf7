"""System tests of page-table isolation (docs/processes.md, "Page-table isolation"):
the pti=on|off|auto decision for Intel and AMD vendors, the process programs and
tlbshoot with PTI on (one and two CPUs), the entry code's CR3 switches, a user
program whose reads of kernel addresses (text, data, direct map, vmalloc) all fault
as not present under PTI and as present without it, and the user PGD of a process
blocked in the kernel read from a memory dump (the host tool) against the shell's, and
QEMU's `info tlb` while user code runs (stopped by a gdbstub breakpoint) against both.

QEMU's TCG `max` CPU has no PCID and no IA32_ARCH_CAPABILITIES: PCID under PTI is
checked on Bochs (system calls switch CR3 without flushing; bench/pti_bench.py measures
them); RDCL_NO is covered by the unit tests of pg_pti_meltdown_affected.
"""
import json
import os
import re
import subprocess

import pytest

from ptlab_qemu import BUILD, EXIT_SUCCESS, PROMPT, Monitor, boot

DEADLINE = 90.0
INTEL = "max,vendor=GenuineIntel"
AMD = "max,vendor=AuthenticAMD"
ISOLATION = re.compile(r"^Kernel/User page tables isolation: (.*)$", re.M)
CR3_LOADS = re.compile(r"CR3 loads by the entry code: to the kernel PGD (\d+) \(flushing (\d+), no-flush (\d+)\),"
                       r" to the user PGD (\d+) \(flushing (\d+), no-flush (\d+)\)")
SEGFAULT = re.compile(r"segfault at 0x([0-9a-f]{16}) ip 0x[0-9a-f]{16} error 0x([0-9a-f]+)")


def run_script(script, cpu, append="", smp=1, quiet=True):
    extra = ["-smp", str(smp), "-accel", "tcg,thread=multi"] if smp > 1 else []
    b = boot(append=('%s %s run="%s"' % ("quiet" if quiet else "", append, script)).strip(), mem="256M",
             cpu=cpu, extra=extra, deadline=DEADLINE)
    b.output = b.output.replace("\r", "")
    return b


@pytest.mark.parametrize("cpu,append,decision,vendor", [
    (INTEL, "", "enabled", "GenuineIntel"),
    (INTEL, "pti=auto", "enabled", "GenuineIntel"),
    (INTEL, "pti=off", "disabled on command line", "GenuineIntel"),
    (INTEL, "nopti", "disabled on command line", "GenuineIntel"),
    (AMD, "", "disabled, CPU not affected (vendor)", "AuthenticAMD"),
    (AMD, "pti=on", "force enabled on command line", "AuthenticAMD"),
    ("max", "", None, None),
])
def test_decision(cpu, append, decision, vendor):
    """The boot line as Linux prints it; `cr3` shows the pair only when PTI is on."""
    b = run_script("run hello;cr3", cpu, append, quiet=False)
    assert b.status == EXIT_SUCCESS, b.output[-3000:]
    m = re.search(r"PTI: CPU vendor (\S+), ", b.output)
    assert m, b.output[:3000]
    if vendor is None:   # plain `max`: whatever QEMU says, the decision follows Linux's rule
        vendor = m.group(1)
        decision = "disabled, CPU not affected (vendor)" if vendor in ("AuthenticAMD", "HygonGenuine") \
            else "enabled"
    assert m.group(1) == vendor
    assert ISOLATION.findall(b.output) == [decision]
    assert "hello from pid 1" in b.output
    on = "enabled" in decision
    assert ("user   PGD 0x" in b.output) == on
    loads = CR3_LOADS.search(b.output)
    assert bool(loads) == on
    if on:   # hello: at least its exec's return, its write and its exit went through the switches
        k, kf, kn, u, uf, un = map(int, loads.groups())
        assert k >= 3 and u >= 3 and kn == 0 and un == 0, loads.group(0)   # no PCID in TCG: all flush


def test_pti_bad_option():
    b = run_script("exit", INTEL, "pti=maybe")
    assert "pti=maybe: unknown (use pti=on, pti=off or pti=auto)" in b.output
    assert b.status != EXIT_SUCCESS


@pytest.mark.parametrize("smp", [1, 2])
def test_programs_with_pti(smp):
    """forktest, faults, tlbshoot and the process selftests with PTI on."""
    script = "run forktest 3;run faults;run tlbshoot 20;cr3"
    b = run_script(script, INTEL, "test=process", smp=smp)
    assert b.status == EXIT_SUCCESS, b.output[-4000:]
    assert ISOLATION.findall(b.output) == ["enabled"]
    assert "test process: OK" in b.output
    assert "forktest: parent still reads 0x1111" in b.output and ": OK" in b.output
    assert "faults: 8 of 8 cases as expected: OK" in b.output, b.output[-4000:]
    m = re.search(r"^tlbshoot: (\d+) rounds on (\d+) CPUs, (\d+) stale$", b.output, re.M)
    assert m and int(m.group(3)) == 0 and int(m.group(2)) == smp, b.output[-4000:]
    k, _, _, u, _, _ = map(int, CR3_LOADS.search(b.output).groups())
    assert k > 100 and u > 100


def probe_targets(m):
    """Kernel text, data, direct map and vmalloc addresses that are mapped in the kernel."""
    text = int(re.search(r"start_kernel reached at 0x([0-9a-f]{16})", m.output).group(1), 16)
    image_end = int(re.search(r"kernel image \[0x[0-9a-f]{16}-0x([0-9a-f]{16})\)", m.output).group(1), 16)
    layout = m.shell("layout")
    direct = int(re.search(r"^ ([0-9a-f]{16}) \|.*\| direct mapping of all physical memory", layout,
                           re.M).group(1), 16)
    vmalloc = int(re.search(r"^0x([0-9a-f]{16})-0x[0-9a-f]{16} +\d+ \S+ phys=", layout, re.M).group(1), 16)
    return {"text": text & ~0xfff, "data": (image_end - 0x1000), "direct map": direct + 0x100000,
            "vmalloc": vmalloc}


ALL_TARGETS = ("text", "data", "direct map", "vmalloc")


@pytest.mark.parametrize("append,present", [("pti=on", ()), ("", ("text",)), ("pti=off", ALL_TARGETS)])
def test_user_probes_kernel(tmp_path, append, present):
    """Each read faults; under PTI the #PF error code says not present (bit 0 clear): the
    user PGD does not map the kernel, except with pti=auto on a CPU without PCID (QEMU's
    TCG), where it maps the kernel text and rodata (supervisor) as Linux 6.1's
    pti_clone_kernel_text does; without PTI the same pages are present (supervisor)."""
    with Monitor(tmp_path, append=append, mem="256M", cpu=INTEL, marker=PROMPT) as m:
        targets = probe_targets(m)
        out = m.shell("run ptiprobe " + " ".join("%x" % va for va in targets.values()), timeout=DEADLINE)
    assert "ptiprobe: 4 of 4 kernel addresses faulted: OK" in out, out
    faults = {int(va, 16): int(err, 16) for va, err in SEGFAULT.findall(out)}
    for name, va in targets.items():
        assert va in faults, (name, out)
        assert faults[va] & 0x4, (name, "a user-mode access")
        assert faults[va] & 0x1 == (name in present), (name, hex(va), hex(faults[va]))


def mapped_lines(ptdump):
    """The ptdump lines of mapped ranges: (start, end, flag text), markers and holes left out."""
    rows = re.findall(r"^0x([0-9a-f]{16})-0x([0-9a-f]{16}) +\S+ (.*\S) +(?:pte|pmd|pud|p4d|pgd)$", ptdump, re.M)
    return [(s, e, " ".join(f.split())) for s, e, f in rows if f.strip()]


def test_user_pgd_in_a_dump(tmp_path):
    """A process blocked in the kernel (init, sleeping): its user PGD (kernel PGD + 0x1000)
    as the host tool reads it from a memory dump is what the kernel's shell prints, holds
    no kernel page but the entry text, the cpu_entry_area and the TSS pages, and the
    tool's lint finds nothing in it; the CPU's CR3 from QEMU's registers is one half of a pair."""
    from ptlab_tool import ptlab
    dump = tmp_path / "core.elf"
    with Monitor(tmp_path, mem="256M", cpu=INTEL, marker=PROMPT) as m:
        m.shell("run init &")
        shell = m.shell("ptdump user-pgd 1")
        m.command("stop")
        regs = m.command("info registers")
        m.command("dump-guest-memory %s" % dump)
    user = int(re.search(r"user PGD 0x([0-9a-f]+) \(kernel PGD 0x([0-9a-f]+) \+ 0x1000\)", shell).group(1), 16)
    cr3 = int(re.search(r"CR3=([0-9a-f]+)", regs).group(1), 16)
    for root in (user, cr3):
        r = ptlab("maps", "--format", "ptdump", "--cr3", "0x%x" % (root & ~0x1fff), "--user-pgd", str(dump))
        assert r.returncode == 0, r.stderr
        tool = mapped_lines(r.stdout)
        if root == user:
            assert tool == mapped_lines(shell), (r.stdout, shell)
        kernel = [row for row in tool if int(row[0], 16) >= 1 << 63]
        assert kernel and all("USR" not in f for _, _, f in kernel), kernel
        lint = ptlab("lint", "--cr3", "0x%x" % (root & ~0x1fff), "--user-pgd", str(dump))
        assert lint.returncode == 0, lint.stdout + lint.stderr


def test_accesstest_with_pti():
    """accesstest's probe window (EFER.NXE = 0, its own tables) under PTI: the CPU leaves the
    cpu_entry_area's GDT and TSS (NX entries, reserved bits there) for the direct ones
    while it runs (load_direct_gdt)."""
    b = boot(append="quiet test=accesstest_quick", mem="256M", cpu=INTEL, deadline=4 * DEADLINE)
    b.output = b.output.replace("\r", "")
    assert b.status == EXIT_SUCCESS, b.output[-3000:]
    assert ISOLATION.findall(b.output) == ["enabled"]
    assert "test accesstest_quick: OK" in b.output and ", 0 mismatches" in b.output


def user_symbol(program, name):
    """The address of a symbol of a user program (build/user/PROGRAM.elf)."""
    out = subprocess.run(["nm", os.path.join(BUILD, "user", program + ".elf")], capture_output=True,
                         text=True, check=True).stdout
    return int(re.search(r"^([0-9a-f]+) T %s$" % name, out, re.M).group(1), 16)


def test_info_tlb_while_user_code_runs(tmp_path):
    """The vCPU stopped by a gdbstub breakpoint on the first instruction of init's main, in
    ring 3: its CR3 is the user half of a PGD pair (bit 12 set), and QEMU's own `info tlb`
    of that moment is, line for line, what the host tool prints for that CR3 from a dump
    of the moment; the kernel half of it is what the kernel's shell reports for the
    process (`ptdump user-pgd PID`) once the guest runs on."""
    from linux_oracle import GdbStub
    from ptlab_tool import ptlab
    gdb_path = str(tmp_path / "gdb.sock")
    dump = tmp_path / "core.elf"
    main = user_symbol("init", "main")
    with Monitor(tmp_path, mem="256M", cpu=INTEL, marker=PROMPT,
                 extra=["-gdb", "unix:%s,server=on,wait=off" % gdb_path]) as m:
        gdb = GdbStub(gdb_path, 30)
        try:
            # QEMU stops a running guest when a debugger connects, and says so (T02).
            assert gdb.receive(30).startswith("T02")
            assert gdb.request("Z0,%x,1" % main) == "OK"
            gdb.send("c")
            m.child.sendline("run init &")
            reply = gdb.receive(DEADLINE)
            assert reply.startswith("T05"), reply
            regs = m.command("info registers")
            tlb = m.command("info tlb")
            m.command("dump-guest-memory %s" % dump)
            assert gdb.request("z0,%x,1" % main) == "OK"
            gdb.send("c")
        finally:
            gdb.close()
        m.child.expect(r"\[pid (\d+)\] init")
        pid = m.child.match.group(1)
        m.child.expect_exact(PROMPT)
        shell = m.shell("ptdump user-pgd %s" % pid)
    assert int(re.search(r"RIP=([0-9a-f]+)", regs).group(1), 16) == main, regs
    assert re.search(r"CS =0033 ", regs), regs                      # CPL 3
    cr3 = int(re.search(r"CR3=([0-9a-f]+)", regs).group(1), 16)
    assert cr3 & 0x1000, "CR3 %x: not the user half" % cr3
    r = ptlab("maps", "--format", "qemu-tlb", "--cr3", "0x%x" % cr3, str(dump))
    assert r.returncode == 0, r.stderr
    qemu_lines = [l for l in tlb.replace("\r", "").splitlines() if re.match(r"^[0-9a-f]{16}: ", l)]
    assert qemu_lines and r.stdout.splitlines() == qemu_lines
    kernel_half = [l for l in qemu_lines if int(l.split(":")[0], 16) >= 1 << 63]
    assert kernel_half, "the user half maps the entry text and the cpu_entry_area"
    r = ptlab("maps", "--format", "ptdump", "--cr3", "0x%x" % cr3, str(dump))
    assert r.returncode == 0, r.stderr
    # The user part has changed since (init forked: its data pages are copy-on-write now).
    kernel = lambda rows: [row for row in rows if int(row[0], 16) >= 1 << 63]
    assert kernel(mapped_lines(shell)) and kernel(mapped_lines(r.stdout)) == kernel(mapped_lines(shell))


def test_syscalls_do_not_flush_with_pcid_under_bochs(tmp_path):
    """Bochs's Skylake has PCID, and as an Intel CPU it gets PTI (pti=auto): 200 more null
    system calls (nullsys 201 against nullsys 1) add at least two CR3 writes each (to the
    kernel half and back) and not one flushing CR3 load: the kernel and user PCIDs keep
    both halves' TLB entries (bit 63 set on every switch)."""
    import shutil
    from ptlab_qemu import run_bochs
    assert shutil.which("bochs"), "bochs is not installed: run scripts/install-deps check"
    out = run_bochs(tmp_path, 'quiet nokaslr "run=cr3;run nullsys 1;cr3;run nullsys 201;cr3;exit"',
                    deadline=900, done=("ptlab> exit", "ptlab: panic"))
    assert ISOLATION.findall(out) == ["enabled"], out[-3000:]
    loads = [tuple(map(int, m.groups())) for m in CR3_LOADS.finditer(out)]
    assert len(loads) == 3, out[-3000:]
    flushing = [kf + uf for k, kf, kn, u, uf, un in loads]
    noflush = [kn + un for k, kf, kn, u, uf, un in loads]
    base_f, run_f = flushing[1] - flushing[0], flushing[2] - flushing[1]
    base_n, run_n = noflush[1] - noflush[0], noflush[2] - noflush[1]
    assert run_f - base_f == 0, (flushing, noflush)
    assert run_n - base_n >= 2 * 200, (flushing, noflush)


CPU_ENTRY_AREA = (0xfffffe0000000000, 0xfffffe8000000000)   # its top-level slot (docs/memlayout.md)


def kernel_symbols(m, *names):
    """Run-time addresses of kernel symbols: build/vmlinux's, moved by the slide KASLR
    chose (start_kernel's address on the console against the link-time one)."""
    out = subprocess.run(["nm", os.path.join(BUILD, "vmlinux")], capture_output=True, text=True,
                         check=True).stdout
    sym = {n: int(a, 16) for a, _, n in re.findall(r"^([0-9a-f]+) (\S) (\S+)$", out, re.M)}
    slide = int(re.search(r"start_kernel reached at 0x([0-9a-f]{16})", m.output).group(1), 16) \
        - sym["start_kernel"]
    return [sym[n] + slide for n in names]


def tlb_leaves(tlb):
    """QEMU's info tlb lines: (VA, flag string), one 4 KiB page or large page each."""
    return [(int(l[:16], 16), l.split()[2]) for l in tlb.replace("\r", "").splitlines()
            if re.match(r"^[0-9a-f]{16}: ", l)]


@pytest.mark.parametrize("append,text_global", [("pti=on", False), ("", True), ("pti=off", None)])
def test_kernel_mappings_not_global(tmp_path, append, text_global):
    """Under PTI (asm/pgtable_types.h, __default_kernel_pte_mask) no kernel page of the
    kernel PGD is global but the entry text and the cpu_entry_area, which every user PGD
    maps too, and, with pti=auto on a CPU without PCID (QEMU's TCG), the kernel text, which
    Linux 6.1's pti_clone_kernel_text maps in the user PGDs and makes global; without PTI
    every kernel mapping is global as before. The same in the host tool's reading of a
    dump, in QEMU's own `info tlb` (the tool's qemu-tlb equals it line for line) and in
    the kernel's `ptdump kernel`."""
    from ptlab_tool import ptlab
    dump = tmp_path / "core.elf"
    with Monitor(tmp_path, append=append, mem="256M", cpu=INTEL, marker=PROMPT) as m:
        shell = m.shell("ptdump kernel")
        m.command("stop")
        regs = m.command("info registers")
        tlb = m.command("info tlb")
        m.command("dump-guest-memory %s" % dump)
    entry_start, entry_end, text, etext = kernel_symbols(m, "__entry_text_start", "__entry_text_end",
                                                         "_text", "_etext")
    cr3 = int(re.search(r"CR3=([0-9a-f]+)", regs).group(1), 16) & ~0xfff
    decision = "disabled on command line" if text_global is None else "enabled"
    assert ISOLATION.findall(m.output.replace("\r", "")) == [decision]
    allowed = [(entry_start, entry_end), CPU_ENTRY_AREA] + ([(text, etext)] if text_global else [])
    inside = lambda va, areas: any(s <= va < e for s, e in areas)

    r = ptlab("maps", "--format", "json", "--cr3", "0x%x" % cr3, str(dump), check=True)
    kernel = [(int(x["start"], 16), int(x["end"], 16), x["global"]) for x in json.loads(r.stdout)["ranges"]
              if x["kind"] == "mapped" and int(x["start"], 16) >= 1 << 63]
    assert kernel
    if text_global is None:
        assert all(g for _, _, g in kernel), [hex(s) for s, _, g in kernel if not g]
    else:
        glob = [(s, e) for s, e, g in kernel if g]
        assert all(inside(s, allowed) and inside(e - 1, allowed) for s, e in glob), \
            [(hex(s), hex(e)) for s, e in glob]
        for va in (entry_start, CPU_ENTRY_AREA[0], text):   # these are global (the text only when cloned)
            assert any(s <= va < e and g for s, e, g in kernel) == (va != text or text_global), hex(va)

    r = ptlab("maps", "--format", "qemu-tlb", "--cr3", "0x%x" % cr3, str(dump), check=True)
    leaves = tlb_leaves(tlb)
    assert leaves and r.stdout.splitlines() == [l for l in tlb.replace("\r", "").splitlines()
                                                if re.match(r"^[0-9a-f]{16}: ", l)]
    for va, flags in leaves:
        if va >= 1 << 63:
            assert (flags[1] == "G") == (text_global is None or inside(va, allowed)), (hex(va), flags)

    rows = re.findall(r"^0x([0-9a-f]{16})-0x([0-9a-f]{16}) +\S+ (.*\S) +(?:pte|pmd|pud|p4d|pgd)$", shell, re.M)
    shell_global = [(int(s, 16), int(e, 16)) for s, e, f in rows if "GLB" in f.split()]
    assert shell_global
    if text_global is not None:
        assert all(inside(s, allowed) and inside(e - 1, allowed) for s, e in shell_global), shell_global
