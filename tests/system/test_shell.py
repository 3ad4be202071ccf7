"""System tests of the serial-console shell: every command,
golden output for `ptdump kernel` and `vtop` on a fixed configuration
(-m 512M -cpu qemu64; kernel-dependent addresses come from build/vmlinux's
symbols), vtop against QEMU's own gva2gpa and info tlb, the recursive mapping,
run= scripts, and hostile input (random bytes, 10,000-character lines).
"""
import os
import random
import re
import subprocess

import pytest

from ptlab_qemu import BUILD, EXIT_FAILURE, EXIT_SUCCESS, PROMPT, Monitor, boot, shell_session

HERE = os.path.dirname(os.path.abspath(__file__))
COMMANDS = ["help", "regs", "cr3", "stages", "ptdump", "vtop", "pa", "va", "peek", "poke",
            "explain", "mem", "layout", "tlb", "recursive", "ps", "run", "kill", "switches", "cpus",
            "shootdowns", "accesstest", "modes", "exit"]


def symbols():
    out = subprocess.run(["nm", os.path.join(BUILD, "vmlinux")], capture_output=True, text=True,
                         check=True).stdout
    return {name: int(addr, 16) for addr, _, name in (l.split() for l in out.splitlines() if len(l.split()) == 3)}


def ptdump_size(n):
    units = "BKMGTPE"
    i = 0
    while n % 1024 == 0 and i < len(units) - 1 and n >= 1024:
        n //= 1024
        i += 1
    return "%9d%s" % (n, units[i])


def ptdump_line(start, end, flags, level):
    return "0x%016x-0x%016x   %s %s%s" % (start, end, ptdump_size(end - start), flags, level)


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    # nokaslr: the goldens and checks below use the link-time addresses nm prints.
    yield from shell_session(tmp_path_factory, "quiet nokaslr", cpu="qemu64")


def test_help_lists_every_command(session):
    out = session.shell("help")
    for name in COMMANDS:
        assert re.search(r"^  %s\b" % name, out, re.M), name
    assert len(out.strip().splitlines()) == len(COMMANDS)


def test_unknown_command_and_bad_numbers(session):
    assert "error: unknown command 'frobnicate' (type help)" in session.shell("frobnicate 1 2")
    assert "error: 'zz' is not a number" in session.shell("vtop zz")
    assert "error: '0x' is not a number" in session.shell("peek 0x")
    assert "error: '99999999999999999999999' is not a number" in session.shell("va 99999999999999999999999")
    assert "usage: vtop VA" in session.shell("vtop")
    assert "error: too many arguments" in session.shell("a b c d e f g h i")
    assert "error: ptdump: unknown table" in session.shell("ptdump nosuch")


def test_regs_and_cr3(session):
    out = session.shell("regs")
    assert re.search(r"^CR0  0x0000000080050033  PE MP ET NE WP AM PG$", out, re.M)
    assert re.search(r"^EFER 0x[0-9a-f]{16}  SCE LME LMA NXE$", out, re.M)
    assert re.search(r"^CR4  0x[0-9a-f]{16} .*\bPAE\b.*\bPGE\b", out, re.M)
    assert "paging: 4-level (48-bit linear)" in out
    assert "PCID: not in use (the CPU has no PCID)" in out
    cr3 = int(re.search(r"^CR3  0x([0-9a-f]+)", out, re.M).group(1), 16)
    out = session.shell("cr3")
    assert "table  0x%x (bits 51:12)" % (cr3 & ~0xfff) in out
    assert "PCID   none (CR4.PCIDE=0: bits 11:0 are flags)" in out
    assert cr3 == symbols()["init_top_pgt"] - 0xffffffff80000000  # swapper_pg_dir, phys_base 0


def test_stages_reprints_every_kernel_stage_even_when_quiet(session):
    out = session.shell("stages")
    for name in ("head_64", "start_kernel", "memblock", "init_mem_mapping", "mark_rodata_ro", "mem_init"):
        assert "[%s]" % name in out
    assert "PD[2047]   = 0x00000000ffe00183" in out, "the boot table is kept"
    assert "init_mem_mapping: cr3 is set  to" in out


def test_ptdump_kernel_golden(session):
    """Everything but the kernel image's section boundaries is fixed; those come from nm."""
    sym = symbols()
    text, etext, erodata, end = sym["_text"], sym["_etext"], sym["__end_rodata"], sym["_end"]
    end2m = (end + 0x1fffff) & ~0x1fffff
    with open(os.path.join(HERE, "golden", "ptdump_kernel_512M_qemu64.txt")) as f:
        expected = f.read().format(
            text=ptdump_line(text, etext, "    ro                 GLB x  ", "pte"),
            rodata=ptdump_line(etext, erodata, "    ro                 GLB NX ", "pte"),
            data=ptdump_line(erodata, end, "    RW                 GLB NX ", "pte"),
            gap=ptdump_line(end, end2m, " " * 30, "pte"),
            rest=ptdump_line(end2m, 0xffffffffa0000000, " " * 30, "pmd"))
    assert session.shell("ptdump kernel") == expected


def test_ptdump_boot_and_early(session):
    boot_dump = session.shell("ptdump boot")
    # The decompressor's table: [0, 4 GiB) identity, 2 MiB pages, RW, executable, global (0x183).
    # (Series split where the CPU set Accessed/Dirty: ptdump splits on raw flags.)
    mapped = re.findall(r"^0x([0-9a-f]{16})-0x([0-9a-f]{16}) +\S+ +RW +PSE +GLB x  pmd$", boot_dump, re.M)
    assert mapped and int(mapped[0][0], 16) == 0 and int(mapped[-1][1], 16) == 1 << 32
    assert all(int(a[1], 16) == int(b[0], 16) for a, b in zip(mapped, mapped[1:])), "contiguous"
    assert len(re.findall(r"^0x.*(RW|ro) ", boot_dump, re.M)) == len(mapped), "nothing else mapped"
    early = session.shell("ptdump early")
    # What the early #PF map built before the switch: 2 MiB pages of the direct map, RW, NX,
    # not global (0xe3 + NX); early_top_pgt[511] still shares the kernel's tables.
    assert re.search(r"^0xffff888[0-9a-f]{9}-0x[0-9a-f]{16} +2M +RW +PSE +NX pmd$", early, re.M)
    assert "---[ High Kernel Mapping ]---" in early


def test_vtop_golden(session):
    sym = symbols()
    with open(os.path.join(HERE, "golden", "vtop_512M_qemu64.txt")) as f:
        expected = f.read().format(pgd=sym["init_top_pgt"])
    got = session.shell("vtop 0xffff888000200000") + session.shell("vtop 0x1000")
    assert got == expected


@pytest.mark.parametrize("va", [0xffff888000000000, 0xffff888000001234, 0xffff888000200000,
                                0xffff88801fdff008, 0xffff88801ffdf000, 0xffffffff81000000,
                                0xffffffff81001abc, 0x1000, 0xffff888020000000, 0xffffc90000000000])
def test_vtop_agrees_with_qemu(session, va):
    out = session.shell("vtop %#x" % va)
    m = re.search(r"^%x +(\S+)" % va, out, re.M)
    assert m, out
    qemu = session.command("gva2gpa %#x" % va)
    if m.group(1) == "(not":
        assert qemu == "Unmapped"
    else:
        # QEMU 7.2 prints zero as "gpa: 0" (docs/formats.md, "QEMU gva2gpa")
        assert int(re.fullmatch(r"gpa: (?:0x)?([0-9a-f]+)", qemu).group(1), 16) == int(m.group(1), 16)


def test_vtop_leaf_matches_info_tlb(session):
    tlb = {}
    for line in session.command("info tlb").splitlines():
        tlb[int(line[:16], 16)] = (int(line[18:34], 16), line[35:])
    for va in (0xffff888000200000, 0xffff888000005000, 0xffffffff81000000):
        out = session.shell("vtop %#x" % va)
        page = int(re.search(r"^  PAGE: ([0-9a-f]+)", out, re.M).group(1), 16)
        pte = int(re.search(r"^ *([0-9a-f]+) +[0-9a-f]+ +\(", out, re.M).group(1), 16)
        assert tlb[va][0] == page
        assert (tlb[va][1][0] == "X") == bool(pte >> 63)
        assert (tlb[va][1][-1] == "W") == bool(pte & 2)


def test_pa_and_va(session):
    out = session.shell("pa 0xffffffff81001000")
    assert "__pa(0xffffffff81001000) = 0x1001000" in out and "phys_base = 0x0" in out
    out = session.shell("pa 0xffff888000123000")
    assert "= 0x123000" in out and "x - PAGE_OFFSET (0xffff888000000000)" in out
    out = session.shell("va 0x123000")
    assert "__va(0x123000) = 0xffff888000123000" in out
    assert "not RAM" in session.shell("va 0xfee00000")


def test_peek_poke_and_faults(session):
    sym = symbols()
    out = session.shell("peek %#x 16" % sym["_text"])
    assert re.match(r"^ffffffff81000000: ([0-9a-f]{2} ){16} ", out)
    buf = 0xffff888000500000
    assert "0x%016x <- 0x1122334455667788" % buf in session.shell("poke %#x 0x1122334455667788" % buf)
    assert session.shell("peek %#x 8" % buf).startswith("%016x: 88 77 66 55 44 33 22 11" % buf)
    out = session.shell("peek 0x1000")
    assert "peek: page fault" in out
    assert "#PF: CR2 0x0000000000001000, error code 0x0 [P=0 not-present W/R=0 read U/S=0 supervisor]" in out
    assert "<- denied: not present" in out
    out = session.shell("poke %#x 1" % sym["_text"])
    assert "error code 0x3 [P=1 protection W/R=1 write U/S=0 supervisor]" in out
    assert "<- denied: R/W=0: read-only" in out
    assert "general protection fault" in session.shell("peek 0x8000000000000000")
    assert "LEN must be 1..4096" in session.shell("peek 0x1000 0")
    # and the shell is still there
    assert "PE MP ET NE WP AM PG" in session.shell("regs")


def test_explain(session):
    out = session.shell("explain 0xffffffff81000000")
    assert "4-level: pgd(PML4) 511  pud(PDPT) 510  pmd(PD) 8  pte(PT) 0  offset 0x000" in out
    assert "5-level: pgd(PML5) 511  p4d(PML4) 511  pud(PDPT) 510  pmd(PD) 8  pte(PT) 0  offset 0x000" in out
    out = session.shell("explain 0x0000800000000000")
    assert "4-level: not canonical" in out
    assert "5-level: pgd(PML5) 0  p4d(PML4) 256" in out
    assert "2M page: offset = VA & 0x1fffff = 0x0 (12 bits + 9 bits PT)" in out


def test_mem(session):
    out = session.shell("mem")
    assert re.search(r"^free pages: +\d+ \(\d+ MiB\)", out, re.M)
    m = re.search(r"under CR3: pgd (\d+) pud (\d+) pmd (\d+) pte (\d+)", out)
    assert m and m.group(1) == "1"
    assert "DirectMap1G 0 kB" in out, "qemu64 has no 1 GiB pages"


def test_tlb(session):
    assert "CR3 reloaded" in session.shell("tlb")
    assert "global ones too" in session.shell("tlb all")
    assert "invlpg 0xffff888000000000" in session.shell("tlb 0xffff888000000000")
    assert "not canonical" in session.shell("tlb 0x0000900000000000")


def test_recursive_mapping(session):
    assert "slot 511 is in use" in session.shell("recursive on 511")
    assert "no recursive slot is installed" in session.shell("recursive show 0x1000")
    out = session.shell("recursive on 510")
    assert "it uses up [0xffffff0000000000-0xffffff8000000000)" in out
    try:
        for va in (0xffffffff81000000, 0xffff888000001000, 0xffff888000200000):
            out = session.shell("recursive show %#x" % va)
            assert "DIFFERENT" not in out
            assert out.count(" same") >= 3, out
            # QEMU reaches the top table through the recursive slot's window (R = 510).
        assert session.command("gva2gpa 0xffffff7fbfdfe000") == "gpa: %#x" % (symbols()["init_top_pgt"] - 0xffffffff80000000)
        out = session.shell("recursive show 0xffff888000200000")
        assert "a 2M page at this level" in out
        assert "already recursive" in session.shell("recursive on 300")
    finally:
        assert "slot 510 cleared" in session.shell("recursive off")
    assert session.command("gva2gpa 0xffffff7fbfdfe000") == "Unmapped"
    out = session.shell("recursive on 0")
    assert "[0x0000000000000000-0x0000008000000000)" in out
    assert " same" in session.shell("recursive show 0xffffffff81000000")
    session.shell("recursive off")


def test_line_editing(session):
    # left arrow twice, insert, then backspace at the end, history recall with up arrow
    session.child.send("pa 0xffff888000123\x1b[D\x1b[D4\x7f" + "000\r")
    session.child.expect_exact(PROMPT)
    # "pa 0xffff888000123", two lefts put the cursor before "23"; "4" then backspace leave it
    # as it was; "000" goes in before "23": the line run is "pa 0xffff888000100023".
    assert "__pa(0xffff888000100023) = 0x100023" in session.child.before
    session.child.send("\x1b[A\r")  # up arrow: the same line again
    session.child.expect_exact(PROMPT)
    assert "__pa(0xffff888000100023) = 0x100023" in session.child.before
    session.child.send("garbage\x15regs\r")  # Ctrl-U kills the line
    session.child.expect_exact(PROMPT)
    assert "PE MP ET NE WP AM PG" in session.child.before


def test_long_and_binary_input_leave_the_shell_working(session):
    session.child.send("a" * 10000 + "\r")
    session.child.expect_exact(PROMPT, timeout=60)
    assert "error: line too long" in session.child.before
    rng = random.Random(1234)
    for _ in range(20):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
        session.child.send(junk.replace(b"\r", b"").replace(b"\n", b"").decode("latin-1"))
        session.child.send("\x15\r")
        session.child.expect_exact(PROMPT, timeout=30)
    # Junk with Ctrl-C in it prints extra prompts: resynchronise on a unique reply first.
    session.child.send("\x15va 0x5a5a000\r")
    session.child.expect_exact("__va(0x5a5a000) = 0xffff888005a5a000", timeout=30)
    session.child.expect_exact(PROMPT)
    assert "PE MP ET NE WP AM PG" in session.shell("regs")


def test_run_script():
    b = boot(append='quiet nokaslr run="explain 0x1000;pa 0xffffffff81000000"')
    assert b.status == EXIT_SUCCESS
    assert "ptlab> explain 0x1000" in b.output and "ptlab> pa 0xffffffff81000000" in b.output
    b = boot(append='quiet run="regs;nosuchcommand"')
    assert b.status == EXIT_FAILURE, "a failing script command makes the run fail"
    b = boot(append='quiet run="exit 0x42"')
    assert b.status == (0x42 << 1) | 1


def test_exit_codes():
    assert boot(append="quiet run=exit").status == EXIT_SUCCESS
    assert boot(append='quiet run="exit 0"').status == 1
    b = boot(append='quiet run="exit 0x100;exit 3"')
    assert "CODE must be 0..255" in b.output and b.status == 7


def test_docs_cover_every_command(session):
    with open(os.path.join(HERE, "..", "..", "docs", "shell.md")) as f:
        doc = f.read()
    names = re.findall(r"^  (\w+)", session.shell("help"), re.M)
    assert names == COMMANDS
    for name in names:
        assert re.search(r"^### (.*, )?%s\b" % name, doc, re.M), name


def test_shell_in_5_level_mode(tmp_path):
    m = Monitor(tmp_path, append="quiet nokaslr", mem="512M", cpu="max", marker=PROMPT)
    try:
        assert "paging: 5-level (57-bit linear)" in m.shell("regs")
        dump = m.shell("ptdump kernel")
        # Linux's whole marker table (lib/paging): the direct map's first line, at PAGE_OFFSET,
        # carries the marker before Low Kernel Mapping (one marker per finished line).
        assert "---[ LDT remap ]---\n0xff11000000000000-" in dump
        assert "---[ Low Kernel Mapping ]---\n0xff11000000001000-" in dump
        assert re.search(r" p4d$", dump, re.M)
        out = m.shell("vtop 0xffffffff81000000")
        assert re.search(r"^   P4D: [0-9a-f]+ => [0-9a-f]+$", out, re.M)
        pa = int(re.search(r"^ffffffff81000000 +([0-9a-f]+)", out, re.M).group(1), 16)
        assert m.command("gva2gpa 0xffffffff81000000") == "gpa: %#x" % pa
        out = m.shell("recursive on 510")
        assert "uses up [0xfffe000000000000-0xffff000000000000)" in out
        for va in (0xffffffff81000000, 0xff11000000001000):
            out = m.shell("recursive show %#x" % va)
            assert [l.split()[0] for l in out.splitlines()[1:]] == ["PML5", "PML4", "PDPT", "PD", "PT"]
            assert out.count(" same") == 5 and "DIFFERENT" not in out
        assert "slot 510 cleared" in m.shell("recursive off")
    finally:
        m.close()
