"""System tests of processes: ring 3, pgd_alloc, fork/COW, execve,
exit's page accounting, demand paging, fatal faults, the scheduler and the
shell's process commands, in QEMU (PCID is Bochs's: test_bochs_pcid.py).

Page accounting: `mem` before and after the programs must show the same
free pages and the same number of page-table pages.
"""
import re

import pytest

from kernel_regions import region_bases
from ptlab_qemu import EXIT_SUCCESS, PROMPT, boot, shell_session

DEADLINE = 30.0


def mem_counts(text):
    """(free pages, table pages) of every `mem` output in text (at least one)."""
    free = [int(x) for x in re.findall(r"^free pages:\s+(\d+)", text, re.M)]
    tables = [int(x) for x in re.findall(r"; (\d+) pages allocated by the kernel in all", text)]
    assert free and len(free) == len(tables), "no `mem` output to count in:\n" + text
    return list(zip(free, tables))


@pytest.mark.parametrize("extra", ["", "no5lvl", "layout=4.7 no5lvl nokaslr"])
def test_selftest_process(extra):
    """In-kernel: kernel halves equal swapper_pg_dir entry for entry, user halves differ,
    CR3 changes on every switch, counts come back (4- and 5-level, KASLR's PAGE_OFFSET and 4.7's)."""
    b = boot(append=("test=process " + extra).strip(), deadline=DEADLINE)
    assert b.status == EXIT_SUCCESS, b.output
    assert "test process: OK" in b.output
    # The boundary is page_offset_base's top-level slot: 272 with layout=4.7, wherever KASLR
    # put the direct map otherwise (273 or above).
    boundary = region_bases(b.output)["page_offset_base"][1]
    assert (boundary == 272) == ("layout=4.7" in extra) and boundary >= 272
    assert "KERNEL_PGD_BOUNDARY %d" % boundary in b.output


def run_script(script, mem="512M", cpu="max"):
    b = boot(append='quiet run="%s"' % script, mem=mem, cpu=cpu, deadline=DEADLINE)
    b.output = b.output.replace("\r", "")
    return b


def test_programs_and_page_accounting():
    b = run_script("mem;run hello a b;run forktest;run faults;mem;switches")
    out = b.output
    assert b.status == EXIT_SUCCESS, out
    # hello: ring 3, its pid, its arguments
    assert re.search(r"^hello from pid 1 \(parent 0\), argc 3: hello a b$", out, re.M)
    assert "[pid 1] hello exited with status 0" in out
    # forktest: one VA, the parent's page before the write, a page of its own after it
    parent = re.search(r"forktest: pid \d+, VA (0x[0-9a-f]+) = 0x1111 at PA (0x[0-9a-f]+), 4 children", out)
    assert parent, out
    children = re.findall(r"forktest: child \d pid \d+: VA (0x[0-9a-f]+) = (0x[0-9a-f]+), "
                          r"PA (0x[0-9a-f]+) before the write, (0x[0-9a-f]+) after", out)
    assert len(children) == 4
    assert {c[0] for c in children} == {parent.group(1)}
    assert {c[2] for c in children} == {parent.group(2)}
    after = {c[3] for c in children}
    assert len(after) == 4 and parent.group(2) not in after
    assert len({c[1] for c in children}) == 4
    assert "forktest: parent still reads 0x1111" in out and "[pid 2] forktest exited with status 0" in out
    # faults: every case killed (with the decoded #PF report), the kernel goes on
    assert "faults: 8 of 8 cases as expected: OK" in out
    assert out.count("killed by SIGSEGV; the kernel goes on") == 6  # 5 #PF cases and SMAP
    assert "<- denied: U/S=0: supervisor only" in out
    assert "<- denied: R/W=0: read-only" in out
    assert "<- denied: NX=1: not executable" in out
    assert "stopped by SMAP" in out
    assert "general protection fault at ip" in out
    # every page and every table page came back
    counts = mem_counts(out)
    assert len(counts) == 2 and counts[0] == counts[1], counts
    # switches: a different CR3 on every switch to another mm; no PCID in QEMU
    assert re.search(r"CR3 unchanged:\s+0 ", out)
    loads = re.search(r"CR3 loads:\s+(\d+): flushing (\d+), non-flushing (\d+)", out)
    assert int(loads.group(1)) > 10 and loads.group(1) == loads.group(2) and loads.group(3) == "0"
    assert "PCID:               not in use" in out


def test_faults_without_smap():
    """qemu64 has no SMAP: the kernel's direct read of user memory succeeds, and faults knows it."""
    b = run_script("run faults", cpu="qemu64")
    assert b.status == EXIT_SUCCESS, b.output
    assert "the kernel read 0x5eed directly (no SMAP on this CPU)" in b.output
    assert "faults: 8 of 8 cases as expected: OK" in b.output


def test_memhog_gets_an_error_and_every_page_comes_back():
    b = run_script("mem;run memhog;mem;run hello", mem="128M")
    out = b.output
    assert b.status == EXIT_SUCCESS, out
    m = re.search(r"memhog: sbrk refused after (\d+) MiB \(ENOMEM\); mmap of 1 MiB more: ENOMEM", out)
    assert m and int(m.group(1)) > 100, out
    counts = mem_counts(out)
    assert len(counts) == 2 and counts[0] == counts[1], counts
    assert "hello from pid 2" in out  # and the kernel goes on


def test_run_errors():
    b = run_script("run nothere")
    assert b.status != EXIT_SUCCESS
    assert "error: run nothere: no such program" in b.output


@pytest.fixture(scope="module")
def shell(tmp_path_factory):
    yield from shell_session(tmp_path_factory, "quiet", cpu="max")


def ps(shell):
    """ps's rows by PID; the shell's own (PID 0) is always there."""
    out = shell.shell("ps")
    rows = {}
    for line in out.splitlines():
        f = line.split()
        if f and f[0].isdigit():
            rows[int(f[0])] = f
    assert 0 in rows, "no ps rows in:\n" + out
    return rows


def test_shell_process_commands(shell):
    out = shell.shell("run init &")
    pid = int(re.search(r"\[pid (\d+)\] init running in the background", out).group(1))
    # init runs hello and reaps it while the shell waits for input; after that it only sleeps
    # and reaps (silently): wait for its line, then every ps below sees the same state.
    if "init: reaped pid" not in out:
        shell.child.expect(r"init: reaped pid \d+ \(status 0x0\)\r*\n", timeout=DEADLINE)
    rows = ps(shell)
    assert rows[0][2] == "running" and rows[0][-1] == "[shell]"
    assert rows[pid][1] == "0" and rows[pid][-1] == "init" and rows[pid][2] in ("sleeping", "runnable")
    assert rows[pid][3] != rows[0][3]                     # its own CR3
    assert int(rows[pid][5]) > 0 and int(rows[pid][6]) > 1  # user pages, table pages
    # ptdump user PID: the user half only, ELF segments with their rights, the stack page
    dump = shell.shell("ptdump user %d" % pid)
    assert "---[ User Space ]---" in dump
    assert re.search(r"^0x0000000000400000-0x[0-9a-f]+ +\d+K USR ro +x  pte$", dump, re.M), dump
    assert re.search(r"USR RW +NX pte$", dump, re.M)
    assert "GLB" not in dump
    # vtop VA PID agrees with ptdump's mapping of the first text page
    vt = shell.shell("vtop 0x400000 %d" % pid)
    assert re.search(r"^400000 +[0-9a-f]+$", vt, re.M), vt
    assert "(PRESENT|USER|ACCESSED)" in vt
    assert "not mapped" in shell.shell("vtop 0x10000000 %d" % pid)
    # bad input
    assert "error: no process 999" in shell.shell("kill 999")
    assert "pid 0 is the kernel itself" in shell.shell("kill 0")
    assert "error: pid 0 has no user address space" in shell.shell("ptdump user 0")
    assert "error: 'x' is not a PID" in shell.shell("vtop 0x1000 x")
    assert "usage: ptdump" in shell.shell("ptdump user")
    # kill: the process dies at its next return to ring 3 and is reaped
    out = shell.shell("kill %d" % pid, timeout=DEADLINE)
    assert "[pid %d] init killed by SIGKILL" % pid in out
    assert pid not in ps(shell)
    sw = shell.shell("switches")
    assert re.search(r"CR3 unchanged:\s+0 ", sw)
    assert "local APIC timer" in sw


def test_foreground_run_and_ctrl_c(shell):
    shell.child.sendline("run init")
    shell.child.expect_exact("init: reaped pid", timeout=DEADLINE)
    shell.child.send("\x03")
    shell.child.expect(r"\[pid \d+\] init killed by SIGKILL", timeout=DEADLINE)
    shell.child.expect_exact(PROMPT, timeout=DEADLINE)
    assert "ptlab: exit_mmap" not in shell.child.before
    mem1 = shell.shell("mem")
    out = shell.shell("run forktest 6", timeout=DEADLINE)
    assert "forktest: parent still reads 0x1111" in out and "OK" in out
    assert mem_counts(mem1) == mem_counts(shell.shell("mem"))


def test_pit_timer_without_apic():
    """noapic: the PIT through the 8259 preempts and wakes sleepers just as well."""
    b = boot(append='quiet noapic run="run forktest 2;switches"', mem="256M", deadline=DEADLINE)
    out = b.output.replace("\r", "")
    assert b.status == EXIT_SUCCESS, out
    assert "forktest: parent still reads 0x1111" in out
    assert "timer:              PIT (8254 channel 0 through the 8259, IRQ 0)" in out
