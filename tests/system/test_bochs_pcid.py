"""The PCID path of switch_mm (per-process tables) under Bochs: QEMU's TCG has no PCID.

One boot of the GRUB ISO on Bochs 2.7 with a CPU model that has PCID
(corei7_skylake_x), a run= script that runs forktest (five processes at once)
and faults, then prints the switch statistics: with PCID, switches back to an
mm whose ASID still holds it load CR3 with bit 63 (non-flushing). Debian's
Bochs quirks: no `nogui` (sdl2 with SDL_VIDEODRIVER=dummy), the speaker and
sound off (its mixer thread aborts otherwise), `-rc` with `c` (bochs-bin has
the debugger), COM1 into a file; there is no isa-debug-exit, so the test
stops Bochs when the script's last line has arrived (run_bochs in ptlab_qemu).
"""
import re
import shutil

from ptlab_qemu import run_bochs


def test_pcid_switches_under_bochs(tmp_path):
    # Bochs comes from scripts/install-deps (make check installs it): if it is missing, fail.
    assert shutil.which("bochs"), "bochs is not installed: run scripts/install-deps check"
    # test=process (kernel/proc_test.c): hello, init, forktest and faults, ps while two
    # processes live, the switch statistics, and the page counts before and after.
    out = run_bochs(tmp_path, "quiet nokaslr test=process")
    assert "ALL TESTS PASSED" in out, out[-4000:]
    assert "test process: OK" in out
    assert "forktest: parent still reads 0x1111" in out
    assert "faults: 8 of 8 cases as expected: OK" in out
    assert "stopped by SMAP" in out
    assert "PCID:               in use, 6 dynamic ASIDs" in out, out
    # PCID: switches back to an ASID that still holds the mm keep the TLB (CR3 bit 63)
    total, flushing, noflush = map(int, re.search(
        r"CR3 loads:\s+(\d+): flushing (\d+), non-flushing (\d+)", out).groups())
    assert total == flushing + noflush and noflush > flushing > 0, (total, flushing, noflush)
    assert re.search(r"CR3 unchanged:\s+0 ", out)
    # ps: the shell on init_mm, ASID 0 = PCID 1 in CR3 bits 11:0; each process its own PCID
    rows = re.findall(r"^\s+(\d+)\s+\S+\s+\S+\s+0x([0-9a-f]{16})\s+(\d+|-)", out, re.M)
    assert rows and rows[0][0] == "0" and rows[0][2] == "1" and int(rows[0][1], 16) & 0xfff == 1, rows
    pcids = [r[2] for r in rows if r[2] != "-"]
    assert len(set(pcids)) == len(pcids) >= 2, rows
    for pid, cr3, pcid in rows:
        if pcid != "-":
            assert int(cr3, 16) & 0xfff == int(pcid)
    print(out[out.index("  PID  PPID"):])
