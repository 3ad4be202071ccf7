"""Tests of the ptlab host tool on small synthetic dumps.

The dumps come from scripts/ptlab-mkcore: hand-made page tables in every
paging mode wrapped in QEMU's dump-guest-memory ELF layout. Covered here:
--help and usage errors of every command, `explain`, the text/JSON/CSV
formats and filters of `maps`, shared tables and cycles, `vtop --access`
verdicts, `ptov`, `lint` findings, `diff`, PTI PGD selection, raw images,
and bad input (truncated and corrupted ELF, missing notes, CR3 or tables
outside memory, random bytes, self-referencing tables) under the
ASan+UBSan build: a message and exit status 1 or 2, never a crash or hang.
"""
import csv
import io
import json
import random
import re

import pytest

from ptlab_tool import mkcore, ptlab

COMMANDS = ["info", "maps", "vtop", "ptov", "lint", "diff", "explain"]


@pytest.fixture(scope="module")
def cores(tmp_path_factory):
    d = tmp_path_factory.mktemp("cores")
    paths = {}
    for name, fn in mkcore.SCENARIOS.items():
        p = d / (name + ".elf")
        p.write_bytes(fn())
        paths[name] = p
    return paths


# ---------------------------------------------------------------------------
# Help and usage errors
# ---------------------------------------------------------------------------

def test_global_help():
    r = ptlab("--help")
    assert r.returncode == 0
    for c in COMMANDS:
        assert re.search(r"^  %s " % c, r.stdout, re.M)
    assert ptlab().returncode == 2
    r = ptlab("frobnicate")
    assert r.returncode == 2 and "unknown command" in r.stderr


@pytest.mark.parametrize("cmd", COMMANDS)
def test_command_help(cmd):
    r = ptlab(cmd, "--help")
    assert r.returncode == 0
    assert r.stdout.startswith("usage: ptlab %s" % cmd)
    assert ptlab("help", cmd).stdout == r.stdout


@pytest.mark.parametrize("args", [
    ["maps"], ["maps", "a", "b"], ["maps", "--format", "xml", "x"], ["maps", "--bogus", "x"],
    ["maps", "--range", "10-5", "x"], ["maps", "--perm", "q", "x"], ["maps", "--user", "--kernel", "x"],
    ["maps", "--format", "qemu-tlb", "--user", "x"], ["maps", "--cpu", "-1", "x"],
    ["maps", "--mode", "6", "x"], ["maps", "--cr3", "zz", "x"], ["vtop", "x"],
    ["vtop", "x", "nothex"], ["vtop", "--access", "q", "x", "0"], ["vtop", "--user", "x", "0"],
    ["ptov", "x"], ["ptov", "x", "g"], ["lint"], ["diff", "x"], ["diff", "a", "b", "c"],
    ["explain"], ["explain", "xyz"], ["explain", "--mode", "7", "0"], ["info"],
])
def test_usage_errors_exit_2(args):
    r = ptlab(*args)
    assert r.returncode == 2, (args, r.stdout, r.stderr)
    assert r.stderr.strip()


def test_raw_image_needs_cr3_and_mode(tmp_path):
    f = tmp_path / "raw.bin"
    f.write_bytes(b"\0" * 8192)
    r = ptlab("maps", f)
    assert r.returncode == 2 and "--cr3" in r.stderr
    r = ptlab("maps", "--raw", "--cr3", "0", f)
    assert r.returncode == 2 and "--mode" in r.stderr


# ---------------------------------------------------------------------------
# explain
# ---------------------------------------------------------------------------

def test_explain_4level():
    r = ptlab("explain", "ffffffff81234567")
    assert r.returncode == 0
    assert re.search(r"pgd\s+PML4\s+index\s+511\b", r.stdout)
    assert re.search(r"pud\s+PDPT\s+index\s+510\b", r.stdout)
    assert re.search(r"pmd\s+PD\s+index\s+9\b", r.stdout)
    assert re.search(r"pte\s+PT\s+index\s+52\b", r.stdout)
    assert "offset in a 4K page: 0x567" in r.stdout
    assert "offset in a 2M page: 0x34567" in r.stdout
    assert "offset in a 1G page: 0x1234567" in r.stdout


def test_explain_5level_pae_32():
    r = ptlab("explain", "--mode", "5", "ff11000000000000")
    assert re.search(r"pgd\s+PML5\s+index\s+273\b", r.stdout) and "p4d" in r.stdout
    r = ptlab("explain", "--mode", "pae", "c0001234")
    assert re.search(r"PDPT\s+index\s+3\b", r.stdout) and "offset in a 2M page: 0x1234" in r.stdout
    r = ptlab("explain", "--mode", "32", "c0401234")
    assert re.search(r"PD\s+index\s+769\b", r.stdout) and "offset in a 4M page: 0x1234" in r.stdout


def test_explain_non_canonical():
    r = ptlab("explain", "0000800000000000")
    assert r.returncode == 1 and "not canonical" in r.stdout
    assert ptlab("explain", "--mode", "32", "100000000").returncode == 1


# ---------------------------------------------------------------------------
# maps
# ---------------------------------------------------------------------------

def test_maps_text(cores):
    r = ptlab("maps", cores["l4"])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["0000000000201000-0000000000204000", "12K", "0000000000010000",
                                "r-xu", "-", "WB", "0", "4K", "pte"]
    assert lines[1].split()[3] == "rw-u"
    assert "ffff888000000000-ffff888040000000 1G 0000000000000000 rw-- G WB 0 1G pud".split() in [
        l.split() for l in lines]
    assert any("shared pte table 0000000000008000" in l and "4 references" in l for l in lines)
    assert lines[-1].split()[:4] == ["ffffffff81000000-ffffffff81200000", "2M", "0000000001000000",
                                     "r-x-"]


def test_maps_expand_shared(cores):
    r = ptlab("maps", "--expand", cores["l4"])
    shared = [l for l in r.stdout.splitlines() if l.startswith("ffffff00")]
    assert len(shared) == 4 and not any("shared" in l for l in shared)
    assert all(l.split()[1] == "8K" for l in shared)


def test_maps_json_csv_agree(cores):
    j = json.loads(ptlab("maps", "--format", "json", cores["l4"]).stdout)
    rows = list(csv.DictReader(io.StringIO(ptlab("maps", "--format", "csv", cores["l4"]).stdout)))
    assert j["mode"] == "4-level" and j["root"] == "0x1000"
    assert len(j["ranges"]) == len(rows) == 5
    for jr, cr in zip(j["ranges"], rows):
        assert int(jr["start"], 16) == int(cr["start"], 16)
        assert jr["size"] == int(cr["size"])
        assert jr["kind"] == cr["kind"]
        assert jr["w"] == (cr["w"] == "w") and jr["x"] == (cr["x"] == "x")
    assert j["ranges"][3]["kind"] == "shared" and j["ranges"][3]["refs"] == 4


def test_maps_filters(cores):
    out = ptlab("maps", "--user", cores["l4"]).stdout
    assert len(out.splitlines()) == 2 and all(l.split()[3].endswith("u") for l in out.splitlines())
    out = ptlab("maps", "--kernel", cores["l4"]).stdout     # summary lines are not filtered in
    assert len(out.splitlines()) == 2
    out = ptlab("maps", "--perm", "x", cores["l4"]).stdout
    assert [l.split()[3] for l in out.splitlines()] == ["r-xu", "r-x-"]
    out = ptlab("maps", "--perm", "w!x", "--user", cores["l4"]).stdout
    assert [l.split()[3] for l in out.splitlines()] == ["rw-u"]
    out = ptlab("maps", "--range", "ffff800000000000-ffffffff80000000", cores["l4"]).stdout
    assert len(out.splitlines()) == 2
    out = ptlab("maps", "--range", "202000+2000", cores["l4"]).stdout
    assert out.split()[0] == "0000000000202000-0000000000204000"


def test_maps_modes(cores):
    out = ptlab("maps", cores["l5"]).stdout
    assert "ff11000000000000-ff11000000200000" in out
    out = ptlab("maps", cores["pae"]).stdout.splitlines()
    assert out[0].split()[:4] == ["0000000000400000-0000000000401000", "4K", "0000000000005000", "rw-u"]
    assert out[1].split()[:4] == ["00000000c0000000-00000000c0200000", "2M", "0000000000400000", "rwx-"]
    out = ptlab("maps", cores["m32"]).stdout.splitlines()
    assert out[1].split()[:4] == ["00000000c0000000-00000000c0400000", "4M", "0000000000000000", "rwx-"]


def test_maps_qemu_formats_shape(cores):
    # Byte-exactness against QEMU is test_ptlab_qemu.py's job; here: every mode formats.
    tlb = ptlab("maps", "--format", "qemu-tlb", cores["l4"]).stdout.splitlines()
    assert "ffffff0000601000: 0000000000031000 XG-DA---W" in tlb
    assert len(tlb) == 4 + 1 + 1 + 4 * 2
    for name in ("l5", "pae", "m32"):
        assert ptlab("maps", "--format", "qemu-tlb", cores[name]).stdout
        assert ptlab("maps", "--format", "qemu-mem", cores[name]).stdout
        assert ptlab("maps", "--format", "ptdump", cores[name]).returncode == 0
    pt = ptlab("maps", "--format", "ptdump", cores["l4"]).stdout
    assert "---[ High Kernel Mapping ]---" in pt


def test_pti_pgd_selection(cores):
    info = ptlab("info", cores["l4-pti"]).stdout
    assert re.search(r"^root:\s+000000000000d000$", info, re.M)     # PCID 0x800 masked
    user = ptlab("maps", cores["l4-pti"]).stdout
    kern = ptlab("maps", "--kernel-pgd", cores["l4-pti"]).stdout
    assert "ffffffff81000000" in kern and "ffffffff81000000" not in user
    assert ptlab("maps", "--user-pgd", cores["l4-pti"]).stdout == user
    r = ptlab("diff", "--kernel-pgd", cores["l4-pti"], "--cr3-b", "d000")
    assert r.returncode == 1
    assert [l.split()[:2] for l in r.stdout.splitlines()] == [
        ["-", "ffff888000000000-ffff888040000000"], ["-", "ffffffff81000000-ffffffff81200000"]]


def test_notes_by_size(cores):
    r = ptlab("info", cores["shortnote"])
    assert "cpu 0: CR0=0000000080050033 CR3=0000000000001000" in r.stdout
    assert "cpu 1: no control registers (note size 200)" in r.stdout
    assert ptlab("maps", "--cpu", "1", cores["shortnote"]).returncode == 1
    assert ptlab("maps", "--cpu", "1", "--cr3", "1000", cores["shortnote"]).returncode == 0
    assert ptlab("maps", "--cpu", "2", cores["shortnote"]).returncode == 2
    assert ptlab("maps", cores["bigger-note"]).stdout == ptlab("maps", cores["l4"]).stdout


def test_raw_image(cores, tmp_path):
    # The l4 scenario's memory as a flat image.
    m = mkcore.Phys()
    mkcore.l4_tables(m)
    img = bytearray(0x10000)
    for pa, _, data in m.segments():
        img[pa:pa + len(data)] = data
    f = tmp_path / "l4.raw"
    f.write_bytes(bytes(img))
    raw = ptlab("maps", "--raw", "--cr3", "0x1000", "--mode", "4", f).stdout
    assert raw == ptlab("maps", cores["l4"]).stdout
    # PCID and flag bits in --cr3 are masked.
    assert ptlab("maps", "--raw", "--cr3", "0x8000000000001fff", "--mode", "4", f).stdout == raw


# ---------------------------------------------------------------------------
# vtop
# ---------------------------------------------------------------------------

def test_vtop_crash_layout(cores):
    r = ptlab("vtop", cores["l4"], "ffffffff81000123")
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert lines[0].rstrip() == "VIRTUAL           PHYSICAL"
    assert lines[1].split() == ["ffffffff81000123", "1000123"]
    assert "   PMD: 7040 => 10001a1" in lines
    assert "  PAGE: 1000000  (2MB)" in lines


@pytest.mark.parametrize("va,access,user,verdict,level,ec", [
    ("201000", "r", True, "allowed", None, None),
    ("201000", "x", True, "allowed", None, None),
    ("201000", "w", True, "page fault", "pte", "0x7"),
    ("204000", "x", True, "page fault", "pte", "0x15"),
    ("204000", "w", False, "allowed", None, None),
    ("ffffffff81000000", "r", True, "page fault", "pgd", "0x5"),
    ("ffffffff81000000", "w", False, "page fault", "pmd", "0x3"),
    ("ffffffff81000000", "x", False, "allowed", None, None),
    ("ffff888000001000", "x", False, "page fault", "pud", "0x11"),
    ("1000", "r", False, "page fault", "pmd", "0x0"),
    ("800000000000", "r", False, "#GP", None, None),
])
def test_vtop_access(cores, va, access, user, verdict, level, ec):
    args = ["vtop", "--access", access] + (["--user"] if user else []) + [cores["l4"], va]
    r = ptlab(*args)
    line = next(l for l in r.stdout.splitlines() if l.startswith("access:"))
    assert verdict in line, r.stdout
    assert r.returncode == (0 if verdict == "allowed" else 1)
    if level:
        reason = next(l for l in r.stdout.splitlines() if "reason:" in l)
        assert " %s entry " % level in reason, reason
        assert ("error code %s " % ec) in r.stdout


def test_vtop_walk_format_pae(cores):
    r = ptlab("vtop", cores["pae"], "c0001234", "400010", "80000000")
    assert r.returncode == 1     # the last one is not mapped
    assert "page 0000000000400000 (2M)  physical address 0000000000401234" in r.stdout
    assert "physical address 0000000000005010" in r.stdout
    assert "not mapped" in r.stdout


# ---------------------------------------------------------------------------
# ptov, lint, diff
# ---------------------------------------------------------------------------

def test_ptov(cores):
    r = ptlab("ptov", cores["l4"], "0x1000456")
    assert r.returncode == 0
    assert [l.split()[0] for l in r.stdout.splitlines()] == ["ffff888001000456", "ffffffff81000456"]
    r = ptlab("ptov", cores["l4"], "31000")
    lines = r.stdout.splitlines()
    assert lines[0].startswith("ffff888000031000") and lines[1].startswith("ffffff0000001000")
    assert "3 more" in lines[2]
    r = ptlab("ptov", "--expand", cores["l4"], "31000")
    assert [l.split()[0] for l in r.stdout.splitlines()] == [
        "ffff888000031000", "ffffff0000001000", "ffffff0000201000", "ffffff0000401000",
        "ffffff0000601000"]
    r = ptlab("ptov", cores["l4"], "47000000")
    assert r.returncode == 1 and "no virtual address" in r.stderr


def test_lint_finds_everything(cores):
    r = ptlab("lint", cores["lint"])
    assert r.returncode == 1
    kinds = [l.split()[0] for l in r.stdout.splitlines()[:-1]]
    assert sorted(kinds) == sorted(["wx", "reserved", "misaligned", "outside-ram", "user-table",
                                    "cycle"]), r.stdout
    assert r.stdout.splitlines()[-1] == "6 findings"
    assert "page table 0000000000001000 is mapped user-accessible at 0000000000202000" in r.stdout


def test_lint_clean(cores):
    for name in ("l4", "l5"):
        r = ptlab("lint", cores[name])
        assert r.stdout.splitlines()[-1] in ("0 findings", "1 finding"), r.stdout
    assert ptlab("lint", cores["l4"]).returncode == 0


def test_lint_phys_bits(cores):
    # Bit 51 is reserved only when MAXPHYADDR < 52.
    m = mkcore.Phys()
    mkcore.l4_tables(m)
    m.q(0x4000 + 1 * 8, (1 << 51) | 0x10000 | mkcore.P | mkcore.U | mkcore.A)
    core = mkcore.elf_core(m.segments(), [mkcore.qemu_cpu_state(mkcore.CR0_PG_PE_WP, 0x1000, 0x20)])
    path = cores["l4"].parent / "rsvd51.elf"
    path.write_bytes(core)
    assert ptlab("lint", path).returncode == 0
    r = ptlab("lint", "--phys-bits", "46", path)
    assert r.returncode == 1 and "reserved bits 0x8000000000000" in r.stdout


def test_diff(cores):
    r = ptlab("diff", cores["l4"], cores["l4"])
    assert r.returncode == 0 and r.stdout == ""
    r = ptlab("diff", cores["two-cpus"], "--cpu-b", "1")
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert lines[0].startswith("~ 0000000000202000-0000000000203000")
    assert "0000000000011000 r-xu" in lines[0] and "->  0000000000040000 r-xu" in lines[0]
    assert lines[1].startswith("+ 0000000000205000-0000000000206000")
    assert len(lines) == 2
    r = ptlab("diff", cores["two-cpus"], cores["l4"], "--cpu-b", "0")
    assert r.returncode == 0


def test_diff_exit_status(cores, tmp_path):
    """As diff(1): 0 the same, 1 different, 2 trouble (a usage error or input that cannot be read)."""
    assert ptlab("diff", cores["l4"], cores["bigger-note"]).returncode == 0
    r = ptlab("diff", cores["l4"], cores["l5"])
    assert r.returncode == 1 and r.stdout
    for args in (["diff", cores["l4"]], ["diff", cores["l4"], cores["l4"], cores["l4"]],
                 ["diff", "--bogus", cores["l4"], cores["l4"]],
                 ["diff", "--cpu-b", "x", cores["l4"]], ["diff", "--cr3-b", "zz", cores["l4"]]):
        r = ptlab(*args)
        assert r.returncode == 2 and r.stderr, args
    missing = tmp_path / "missing.elf"
    cut = tmp_path / "cut.elf"
    cut.write_bytes(cores["l4"].read_bytes()[:100])
    for a, b in [(missing, cores["l4"]), (cores["l4"], missing), (cores["l4"], cut),
                 (cores["nonote"], cores["l4"]), (cores["l4"], cores["cr3-outside"]),
                 (cores["paging-off"], cores["l4"])]:
        r = ptlab("diff", a, b)
        assert r.returncode == 2 and r.stderr and r.stdout == "", (a, b, r.stderr)
    for b_side in (["--cr3-b", "7f000000"], ["--cpu-b", "2"]):
        r = ptlab("diff", cores["two-cpus"], *b_side)
        assert r.returncode == 2 and r.stderr, b_side


# ---------------------------------------------------------------------------
# Bad input: a message and exit 1 or 2, never a crash or a hang (ASan+UBSan build).
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name,code,msg", [
    ("nonote", 1, "no QEMU note"),
    ("cr3-outside", 1, "outside the dump's memory"),
    ("paging-off", 1, "paging disabled"),
])
def test_bad_dumps(cores, name, code, msg):
    for cmd in (["maps"], ["lint"], ["vtop", None, "0"], ["ptov", None, "0"]):
        args = [cores[name] if a is None else a for a in cmd]
        if len(args) == 1:
            args.append(cores[name])
        r = ptlab(*args)
        assert r.returncode == code and msg in r.stderr, (cmd, r.stderr)


def test_no_note_with_cr3(cores):
    r = ptlab("maps", "--cr3", "1000", cores["nonote"])
    assert r.returncode == 0 and r.stdout == ptlab("maps", cores["l4"]).stdout


def test_tables_outside_memory(cores):
    r = ptlab("maps", cores["lint"])
    assert r.returncode == 0
    assert "unreadable: pte table 000000007f000000 is outside the dump's memory" in r.stdout
    r = ptlab("vtop", cores["lint"], "ffffffff81400000")
    assert r.returncode == 1


def test_missing_and_odd_files(tmp_path):
    for f in (tmp_path / "nope", tmp_path):
        r = ptlab("maps", f)
        assert r.returncode == 1 and r.stderr.startswith("ptlab: ")
    e = tmp_path / "empty"
    e.write_bytes(b"")
    assert ptlab("maps", e).returncode == 1
    assert ptlab("maps", "--raw", "--cr3", "0", "--mode", "4", e).returncode == 1


def test_truncated_elf(cores, tmp_path):
    data = cores["l4"].read_bytes()
    cuts = sorted(set(list(range(0, 200, 7)) + list(range(200, len(data), max(1, len(data) // 40)))))
    f = tmp_path / "cut.elf"
    for n in cuts:
        f.write_bytes(data[:n])
        r = ptlab("maps", f, timeout=30)
        assert r.returncode in (1, 2), (n, r.stdout, r.stderr)
        assert r.stderr.startswith("ptlab"), (n, r.stderr)


def test_corrupted_elf(cores, tmp_path):
    rng = random.Random(8)
    data = cores["lint"].read_bytes()
    f = tmp_path / "bad.elf"
    for i in range(64):
        b = bytearray(data)
        pos = i if i < 32 else rng.randrange(len(b))
        b[pos] = rng.choice([0, 0xFF, b[pos] ^ (1 << rng.randrange(8))])
        f.write_bytes(bytes(b))
        for cmd in ("maps", "lint") if i % 4 == 0 else ("maps",):
            r = ptlab(cmd, f, timeout=30)
            assert r.returncode in (0, 1, 2), (pos, cmd, r.stderr)
            if r.returncode == 2:
                assert r.stderr


def test_huge_counts_in_headers(cores, tmp_path):
    import struct
    data = bytearray(cores["l4"].read_bytes())
    f = tmp_path / "h.elf"
    for off, fmt, val in [(56, "<H", 0xFFFE), (56, "<H", 0xFFFF), (32, "<Q", 2**63),
                          (32, "<Q", 2**64 - 8), (54, "<H", 1)]:
        b = bytearray(data)
        struct.pack_into(fmt, b, off, val)
        f.write_bytes(bytes(b))
        r = ptlab("info", f)
        assert r.returncode == 1 and r.stderr, (off, val)
    # A note whose sizes run past its segment.
    b = bytearray(data)
    note_off = struct.unpack_from("<Q", b, 64 + 8)[0]
    struct.pack_into("<I", b, note_off + 4, 0xFFFFFFF0)
    f.write_bytes(bytes(b))
    r = ptlab("info", f)
    assert r.returncode == 1 and "note" in r.stderr


def test_pn_xnum(tmp_path):
    m = mkcore.Phys()
    mkcore.l4_tables(m)
    pad = 0xFFFF - len(m.segments()) + 3
    core = mkcore.elf_core(m.segments(), [mkcore.qemu_cpu_state(mkcore.CR0_PG_PE_WP, 0x1000, 0x20)],
                           pn_xnum_pad=pad)
    f = tmp_path / "xnum.elf"
    f.write_bytes(core)
    r = ptlab("info", f)
    assert r.returncode == 0, r.stderr
    assert "memory:   %d segments" % (len(m.segments()) + pad) in r.stdout
    assert ptlab("maps", f, san=False).stdout.count("\n") == 5


def test_random_bytes(tmp_path):
    rng = random.Random(8)
    f = tmp_path / "rand.bin"
    for i in range(3):
        f.write_bytes(bytes(rng.randrange(256) for _ in range(16384)))
        assert ptlab("maps", f).returncode == 2
        for mode in ("4", "5", "pae", "32"):
            for extra in ([], ["--format", "qemu-tlb"], ["--format", "ptdump"]):
                r = ptlab("maps", "--raw", "--cr3", "%x" % (rng.randrange(4) * 4096), "--mode", mode,
                          f, *extra, timeout=60)
                assert r.returncode in (0, 1)
            assert ptlab("lint", "--raw", "--cr3", "0", "--mode", mode, f).returncode in (0, 1)
        g = tmp_path / "rand.elf"
        g.write_bytes(b"\x7fELF" + f.read_bytes()[4:])
        assert ptlab("maps", g).returncode == 1


def test_self_referencing_tables_never_hang(tmp_path):
    import struct
    f = tmp_path / "self.bin"
    f.write_bytes(struct.pack("<Q", 0x3) * 512)          # every entry points to this table
    r = ptlab("maps", "--raw", "--cr3", "0", "--mode", "4", f)
    assert r.returncode == 0 and "cycle" in r.stdout
    for fmt in ("qemu-tlb", "qemu-mem", "ptdump"):
        r = ptlab("maps", "--raw", "--cr3", "0", "--mode", "4", "--format", fmt, f, timeout=60)
        assert r.returncode == 1 and "--max-entries" in r.stderr
    r = ptlab("maps", "--raw", "--cr3", "0", "--mode", "4", "--format", "qemu-tlb",
              "--max-entries", "1000", f)
    assert r.returncode == 1
    assert ptlab("lint", "--raw", "--cr3", "0", "--mode", "4", f).returncode == 1
    assert ptlab("ptov", "--raw", "--cr3", "0", "--mode", "4", f, "0").returncode == 1
    assert ptlab("vtop", "--raw", "--cr3", "0", "--mode", "4", f, "ffffffffffffffff").returncode == 0


def test_lint_pti_user_pgd(cores):
    """A PTI user PGD's kernel half (docs/ptlab.1, lint): the cpu_entry_area, the entry text and
    a TSS page (its frame also in the cpu_entry_area) are Linux's clones; three planted kernel
    pages (direct map, vmalloc, kernel data) are reported, one line each with its rights,
    whether CR3 is the user PGD as stored or --user-pgd picks it; the kernel PGD is not checked."""
    planted = cores["linux4-pti-planted"]
    for core in (cores["linux4-pti"], planted):
        for opts in ((), ("--user-pgd",)):
            r = ptlab("lint", *opts, core)
            leaks = [l.split()[1:4] for l in r.stdout.splitlines() if l.startswith("pti-user ")]
            if core == planted:
                assert r.returncode == 1 and r.stdout.splitlines()[-1] == "3 findings", r.stdout
                assert leaks == [["ffff8b0d01000000-ffff8b0d01001000", "4K", "rw--"],
                                 ["ffffcdb500000000-ffffcdb500001000", "4K", "r---"],
                                 ["ffffffffa8200000-ffffffffa8201000", "4K", "rw--"]], r.stdout
            else:
                assert r.returncode == 0 and leaks == [], r.stdout
        r = ptlab("lint", "--kernel-pgd", core)
        assert "pti-user" not in r.stdout, r.stdout
    # The user PGD selected from a kernel CR3 (bit 12 clear) is checked too.
    r = ptlab("lint", "--cr3", "0x2000", "--user-pgd", planted)
    assert r.stdout.count("\npti-user ") + r.stdout.startswith("pti-user ") == 3, r.stdout
