"""The in-kernel selftests' command line (kernel/selftest.c): `test=all` or
`test=name,...`. A name that is no selftest refuses the boot with the list of
the known names (a panic: exit status 35, nothing run); a selection that runs
no test at all is a failure, not `ALL TESTS PASSED`; the named-only tests (the
live MMU checks) run when named and never under `test=all`.
"""
import re

import pytest

from ptlab_qemu import EXIT_FAILURE, EXIT_SUCCESS, boot

# Every selftest, in the order of the table (test=all runs the first twelve).
ALL = ["early_pf", "early_pf_pool_reset", "direct_map", "wx", "pa_va", "nofault", "buddy",
       "kaslr", "vmemmap", "vmalloc", "ioremap", "process"]
NAMED_ONLY = ["modes", "modes_illegal", "accesstest_quick", "accesstest_full", "smp"]
KNOWN = "known: " + ", ".join(["all"] + ALL + NAMED_ONLY)


def results(b):
    """The `test NAME: RESULT` lines, in order."""
    return re.findall(r"^test (\w+): (\w+)$", b.output.replace("\r", ""), re.M)


@pytest.mark.parametrize("tests,unknown", [
    ("nonexistent", "nonexistent"),
    ("no_such_test", "no_such_test"),
    ("early_pf,nonexistent", "nonexistent"),     # refused before any test runs
    ("all,modes_x", "modes_x"),
])
def test_unknown_selftest_is_a_refused_boot(tests, unknown):
    b = boot(append="quiet test=" + tests)
    assert b.status == EXIT_FAILURE, b.output[-2000:]
    assert "ptlab: panic: test=%s: unknown (%s)" % (unknown, KNOWN) in b.output, b.output[-2000:]
    assert "TESTS PASSED" not in b.output
    assert results(b) == [], b.output[-2000:]


@pytest.mark.parametrize("tests", ["", ","])
def test_a_run_that_ran_no_test_fails(tests):
    b = boot(append="quiet test=" + tests)
    assert b.status == EXIT_FAILURE, b.output[-2000:]
    assert "selftests: test= selected no test, so nothing was checked" in b.output
    assert "SOME TESTS FAILED" in b.output
    assert "ALL TESTS PASSED" not in b.output
    assert results(b) == [], b.output[-2000:]


def test_all_runs_every_test_but_the_named_only():
    b = boot(append="quiet test=all")
    assert b.status == EXIT_SUCCESS, b.output[-3000:]
    assert results(b) == [(name, "OK") for name in ALL]
    assert "ALL TESTS PASSED" in b.output


def test_named_live_mmu_checks_run_under_qemu():
    """The live MMU checks as selftests (as the Bochs runs use them): each passes and gives
    back every page it took (the selftest compares the free-page count itself)."""
    b = boot(append="quiet test=modes,accesstest_quick", deadline=60)
    assert b.status == EXIT_SUCCESS, b.output[-3000:]
    assert results(b) == [("modes", "OK"), ("accesstest_quick", "OK")]
    assert "modes: 12 steps, 0 mismatches" in b.output
    assert re.search(r"accesstest: \d+ combinations \(\d+ at CPL 3\), 0 mismatches, 0 excluded", b.output)
    assert "ALL TESTS PASSED" in b.output
