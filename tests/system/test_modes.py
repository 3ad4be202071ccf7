"""modes, one of the live MMU checks: the paging-mode transitions (CR0.PG,
CR4.PAE, EFER.LME) on the live CPU next to lib/paging's control-register model.
Under QEMU TCG only the legal transitions run (the writes that must #GP are for
Bochs or hardware: `modes illegal`); each step must agree with the model, and
the kernel must be back in 64-bit mode with its registers, and the shell
working, afterwards.
"""
import re

import pytest

from ptlab_qemu import EXIT_SUCCESS, boot

LEGAL_STEPS = [
    ("clear CR0.PG in compatibility mode", "protected, paging none"),
    ("clear EFER.LME", "protected, paging none"),
    ("CR4: clear PAE, LA57; set PSE", "protected, paging none"),
    ("CR3 = 32-bit page directory", "protected, paging none"),
    ("set CR0.PG", "protected, paging 32-bit"),
    ("set CR4.PAE (paging on)", "protected, paging PAE"),
    ("clear CR0.PG", "protected, paging none"),
    ("CR4: set PAE (and LA57)", "protected, paging none"),
    ("CR3 = 4/5-level table", "protected, paging none"),
    ("set EFER.LME", "protected, paging none"),
    ("set CR0.PG", "compatibility, paging %s"),
    ("far jump to a 64-bit code segment", "64-bit, paging %s"),
]
STEP = re.compile(r"^ ?(\d+) (.+?) +(ok|#GP|err) +(.+?) {2,}(ok|#GP) +(.+?) +(agree|MISMATCH)$", re.M)


@pytest.mark.parametrize("cpu,append,levels", [("max", "no5lvl", 4), ("max", "", 5), ("qemu64", "", 4)],
                         ids=["max-4level", "max-5level", "qemu64"])
def test_modes_legal_transitions_agree(cpu, append, levels):
    b = boot(append='quiet %s run="regs;modes;regs;mem;vtop 0xffffffff80000000"' % append, cpu=cpu)
    out = b.output.replace("\r", "")
    assert b.status == EXIT_SUCCESS, out[-3000:]
    assert "oracle QEMU TCG: legal transitions only" in out
    steps = STEP.findall(out)
    assert len(steps) == len(LEGAL_STEPS), out[-3000:]
    paging = "%d-level" % levels
    for (n, name, mv, mmode, cv, cmode, verdict), (want_name, want_mode) in zip(steps, LEGAL_STEPS):
        want_mode = want_mode % paging if "%s" in want_mode else want_mode
        assert name == want_name and mv == cv == "ok" and verdict == "agree", (n, name, mv, cv, verdict)
        assert mmode == cmode == want_mode, (n, mmode, cmode, want_mode)
    assert "modes: 12 steps, 0 mismatches; back in 64-bit mode, %d-level paging, CR0/CR3/CR4/EFER restored" % levels in out
    # The kernel is back: the same registers, and the shell goes on walking its tables.
    regs = re.findall(r"^(CR0|CR3|CR4|EFER) +(0x[0-9a-f]+)", out, re.M)
    assert len(regs) == 8 and regs[:4] == regs[4:], regs
    assert "paging: %s" % paging in out
    assert re.search(r"^free pages: ", out, re.M)
    assert "PGD DIRECTORY" in out


def test_modes_illegal_refused_under_qemu():
    b = boot(append='quiet run="modes illegal"')
    assert b.status != EXIT_SUCCESS
    assert "not run under QEMU TCG" in b.output


def test_modes_frees_everything():
    b = boot(append='quiet run="mem;modes;modes;mem"')
    assert b.status == EXIT_SUCCESS, b.output[-3000:]
    free = re.findall(r"free pages: +(\d+)", b.output)
    assert len(free) == 2 and free[0] == free[1], free
