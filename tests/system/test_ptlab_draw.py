"""Tests of `ptlab draw`: every number in a picture is the number the text
commands print on the same source.

The SVGs are read with a real XML parser (xml.etree) and the HTML pages with
Python's HTML parser: each walk box's table, index, entry address and entry
(as data attributes and as the text drawn) must be `vtop --format walk`'s,
the frame and physical address too; the tree's tables and edges must hold
every table and entry of those walks; the map's ranges must cover `maps
--format json`'s exactly with the same rights and page sizes, its regions
must be `regions`', its table runs must give vtop's walk; the pages must
reference nothing outside themselves. Bad input gets the messages and exit
statuses of the other commands.

Sources: synthetic dumps (scripts/ptlab-mkcore: 4-level, 5-level, PAE,
32-bit, a Linux guest in miniature, a PTI pair, an empty table, an identity
map, a recursive slot) and this project's kernel paused by stop_at= after
each boot stage (ptlab_stages.py), dumped by QEMU.
"""
import html.parser
import json
import re
import xml.etree.ElementTree as ET

import pytest

from ptlab_qemu import boot
from ptlab_stages import STAGES, StagedBoot, hexval
from ptlab_tool import mkcore, ptlab

SVG = "{http://www.w3.org/2000/svg}"
KTABLE, TABLE = mkcore.KTABLE, mkcore.TABLE


def identity_core():
    """4-level, the first 4 GiB identity-mapped in 1G pages, nothing else."""
    m = mkcore.Phys()
    t = mkcore.Tables(m, 4, 0x2000)
    for i in range(4):
        t.map(0x1000, i << 30, i << 30, mkcore.P | mkcore.W | mkcore.A | mkcore.D, level=3)
    return core(m, 0x1000)


def empty_core():
    m = mkcore.Phys()
    m.page(0x1000)
    return core(m, 0x1000)


def recursive_core():
    """4-level: slot 510 points back at the PML4; one 4K page at 0x201000."""
    m = mkcore.Phys()
    mkcore.Tables(m, 4, 0x2000).map(0x1000, 0x201000, 0x50000, mkcore.P | mkcore.W | mkcore.A)
    m.q(0x1000 + 510 * 8, 0x1000 | KTABLE)
    return core(m, 0x1000)


def core(m, cr3, cr4=mkcore.CR4_PAE):
    return mkcore.elf_core(m.segments(), [mkcore.qemu_cpu_state(mkcore.CR0_PG_PE_WP, cr3, cr4)])


@pytest.fixture(scope="module")
def cores(tmp_path_factory):
    d = tmp_path_factory.mktemp("draw")
    made = {n: mkcore.SCENARIOS[n]() for n in ("l4", "l4-pti", "l5", "pae", "m32", "lint",
                                                "linux4", "linux5", "linux4-pti", "cr3-outside",
                                                "nonote", "paging-off")}
    made.update(identity=identity_core(), empty=empty_core(), recursive=recursive_core())
    paths = {}
    for name, data in made.items():
        paths[name] = d / (name + ".elf")
        paths[name].write_bytes(data)
    return paths


@pytest.fixture(scope="module")
def stages(tmp_path_factory):
    """This kernel paused after each boot stage and dumped: {stage: Stage}, plus the
    recursive slot (`recursive on 510`) as stage "recursive"."""
    d = tmp_path_factory.mktemp("stages")
    found = {}
    with StagedBoot(d, STAGES, append="no5lvl kaslr_seed=5") as b:
        for st in b.stages():
            found[st.name] = st
        b.monitor.shell("recursive on 510")
        b.monitor.command("stop")
        dump = str(d / "recursive.elf")
        b.monitor.command("dump-guest-memory %s" % dump)
        found["recursive"] = found["exec"]._replace(name="recursive", dump=dump, text="")
    return found


# ---------------------------------------------------------------------------
# What the text commands say
# ---------------------------------------------------------------------------

def vtop_walk(source, va, *opts):
    """`vtop --format walk`: (steps [(level name, table, index, entry_pa, entry)], page or None,
    pa or None)."""
    r = ptlab("vtop", "--format", "walk", *opts, source, "%x" % va, san=False)
    steps, page, pa = [], None, None
    for m in re.finditer(r"^  (\w+)\s+\w+\s+index\s+(\d+)\s+entry at ([0-9a-f]+) = ([0-9a-f]+)",
                         r.stdout, re.M):
        idx, epa = int(m.group(2)), int(m.group(3), 16)
        steps.append((m.group(1), idx, epa, int(m.group(4), 16)))
    m = re.search(r"^  page ([0-9a-f]+) \((\w+)\)\s+physical address ([0-9a-f]+)", r.stdout, re.M)
    if m:
        page, pa = int(m.group(1), 16), int(m.group(3), 16)
    return steps, page, pa


def svg_of(*args):
    r = ptlab("draw", *args)
    assert r.returncode == 0, r.stderr
    return ET.fromstring(r.stdout)


def groups(root, cls):
    return [g for g in root.iter(SVG + "g") if cls in (g.get("class") or "").split()]


def text_of(el):
    return " ".join(t.text or "" for t in el.iter(SVG + "text"))


# ---------------------------------------------------------------------------
# draw walk
# ---------------------------------------------------------------------------

def check_walk(source, va, *opts):
    """The SVG walk of va equals vtop's, in its data and in the text it draws."""
    steps, page, pa = vtop_walk(source, va, *opts)
    svg = svg_of("walk", *opts, source, "%x" % va)
    levels = groups(svg, "g-level")
    assert len(levels) == len(steps), (va, steps)
    entry_size = {}
    for g, (name, idx, epa, entry) in zip(levels, steps):
        table = int(g.get("data-table"), 16)
        assert int(g.get("data-index")) == idx
        assert int(g.get("data-entry-pa"), 16) == epa
        assert int(g.get("data-entry"), 16) == entry
        size = epa - table
        assert size in (0, idx * 4, idx * 8), (table, idx, epa)
        entry_size[name] = size
        drawn = text_of(g)
        for s in ("[%d]" % idx, "at %016x" % table, "entry at %016x" % epa, "= %016x" % entry):
            assert s in drawn, (s, drawn)
    frames = groups(svg, "g-frame")
    if pa is None:
        assert not frames and groups(svg, "g-stop")
    else:
        assert int(frames[0].get("data-pa"), 16) == pa
        assert int(frames[0].get("data-frame"), 16) == page
        assert "%016x" % pa in text_of(frames[0])
    return svg


@pytest.mark.parametrize("name,va", [
    ("l4", 0x201000), ("l4", 0x204000), ("l4", 0xffff888000001234), ("l4", 0xffffffff81000000),
    ("l4", 0xffffff0000001000), ("l4", 0x300000), ("l4", 0x7f0000000000),
    ("l5", 0xff11000000000000), ("l5", 0x1000), ("pae", 0x1000), ("m32", 0x1000),
    ("linux4", 0xFFFFFFFFA7E00000), ("linux4", 0xFFFF8B0D40001000), ("linux5", 0xFF26CF9180000000),
    ("lint", 0xffffffff81400000), ("empty", 0x1000), ("identity", 0xC0001234),
])
def test_walk_matches_vtop(cores, name, va):
    check_walk(cores[name], va)


def test_walk_va_split_and_offsets(cores):
    svg = check_walk(cores["l4"], 0xffffffff81012345)
    fields = {g.get("data-label"): g for g in groups(svg, "g-fld")}
    assert [fields[k].get("data-hi") for k in ("pgd index", "pud index", "pmd index")] == \
           ["47", "38", "29"]
    assert fields["offset"].get("data-hi") == "20"     # a 2M page: the offset is bits 20:0
    assert "0x12345" in text_of(fields["offset"])
    drawn = text_of(svg)
    for s in ("4K page: bits 11:0 = 0x345", "2M page: bits 20:0 = 0x12345",
              "1G page: bits 29:0 = 0x1012345"):
        assert s in drawn


def test_walk_not_canonical(cores):
    svg = svg_of("walk", cores["l4"], "800000000000")
    assert not groups(svg, "g-level") and "not a canonical" in text_of(groups(svg, "g-stop")[0])
    assert groups(svg, "g-fld")[0].get("data-label") == "sign"


@pytest.mark.parametrize("va,access,user,level,bit", [
    (0x201000, "w", True, 1, "W"),             # user text, read-only PTE
    (0x204000, "x", True, 1, "NX"),            # user data, NX
    (0xffff888000000000, "r", True, 4, "U"),   # a supervisor page, first U/S clear at the PML4E
    (0x300000, "r", False, 1, "P"),            # not present in the PT
])
def test_walk_access_denied(cores, va, access, user, level, bit):
    opts = ["--access", access] + (["--user"] if user else [])
    svg = check_walk(cores["l4"], va, *opts)
    v = groups(svg, "g-verdict")[0]
    assert v.get("data-outcome") == "pf"
    text = ptlab("vtop", *opts, cores["l4"], "%x" % va, san=False).stdout
    reason = re.search(r"reason: (.*?)(?: in the \w+ entry|$)", text, re.M).group(1)
    assert reason in text_of(v)
    ec = re.search(r"error code (0x[0-9a-f]+)", text).group(1)
    assert "error code %s" % ec in text_of(v)
    denied = [g for g in groups(svg, "g-level") if "deny" in
              (g.find(SVG + "rect").get("class") or "")]
    assert [g.get("data-level") for g in denied] == [str(level)]
    red = [c.get("data-bit") for c in groups(denied[0], "g-chip")
           if c.find(SVG + "rect").get("class") == "flagbad"]
    assert red == [bit]


def test_walk_access_allowed(cores):
    svg = check_walk(cores["l4"], 0x204000, "--access", "w", "--user")
    v = groups(svg, "g-verdict")[0]
    assert v.get("data-outcome") == "allowed" and "0000000000020000" in text_of(v)


# ---------------------------------------------------------------------------
# draw tree
# ---------------------------------------------------------------------------

def tree_of(*args):
    svg = svg_of("tree", *args)
    nodes = {(int(g.get("data-pa"), 16), int(g.get("data-level"))): g
             for g in groups(svg, "g-node")}
    links = [(int(g.get("data-from"), 16), int(g.get("data-to"), 16), int(g.get("data-index")),
              int(g.get("data-count")), g.get("data-back") == "1") for g in groups(svg, "g-link")]
    return svg, nodes, links


@pytest.mark.parametrize("name,vas", [
    ("l4", [0x201000, 0xffff888000000000, 0xffffffff81000000, 0xffffff0000001000]),
    ("linux4", [0xFFFFFFFFA7E00000, 0xFFFFCDB500000000, 0x400000]),
    ("l5", [0xff11000000000000, 0x1000]),
])
def test_tree_holds_every_walk(cores, name, vas):
    svg, nodes, links = tree_of(cores[name])
    levels = {"pgd": 0, "p4d": 1, "pud": 2, "pmd": 3, "pte": 4}
    for va in vas:
        steps, _, _ = vtop_walk(cores[name], va)
        top = len(nodes) and max(l for _, l in nodes)
        for k, (lname, idx, epa, entry) in enumerate(steps):
            table, level = epa - idx * 8, top - k
            assert (table, level) in nodes, (hex(va), hex(table), level)
            g = nodes[(table, level)]
            assert "%016x" % table in text_of(g)
            if k + 1 < len(steps):
                child = steps[k + 1][2] - steps[k + 1][1] * 8
                assert any(f == table and t == child and i <= idx < i + c
                           for f, t, i, c, back in links), (hex(table), idx)
        assert levels


def test_tree_used_counts_and_shared(cores):
    svg, nodes, links = tree_of(cores["l4"])
    # The PML4 at 0x1000: entries 0, 273, 510, 511 present.
    assert nodes[(0x1000, 4)].get("data-used") == "4"
    # Four PD entries share the PT at 0x8000 (maps says: 4 references).
    pt = nodes[(0x8000, 1)]
    assert pt.get("data-refs") == "4" and "shared x4" in text_of(pt)
    assert (0xA000, 0x8000, 0, 4, False) in links
    assert "shared" in ptlab("maps", cores["l4"]).stdout


def test_tree_recursive_slot_is_a_back_edge(cores):
    svg, nodes, links = tree_of(cores["recursive"])
    assert (0x1000, 0x1000, 510, 1, True) in links
    assert "recursive slot" in text_of(svg)
    assert "1 back edge" in text_of(svg)


def test_tree_several_cr3_share_tables(cores):
    """A PTI pair's two PGDs: the tables both point at are drawn once, referenced twice."""
    svg, nodes, links = tree_of(cores["l4-pti"], "--cr3", "c000", "--cr3", "d000")
    roots = groups(svg, "g-root")
    assert [int(g.get("data-pa"), 16) for g in roots] == [0xC000, 0xD000]
    shared = sorted(k for k, g in nodes.items() if g.get("data-refs") == "2")
    assert shared == [(0x2000, 3), (0x9000, 3)]
    assert (0xD000, 0x2000, 0, 1, False) in links and (0xC000, 0x2000, 0, 1, False) in links
    _, alone, _ = tree_of(cores["l4-pti"], "--kernel-pgd")
    assert all(g.get("data-refs") == "1" for (pa, lvl), g in alone.items() if lvl == 3)


def test_tree_folds_runs_of_empty_tables(cores):
    svg, nodes, links = tree_of(cores["linux4"])
    folds = groups(svg, "g-fold")
    assert folds and all(int(f.get("data-tables")) >= 3 for f in folds)
    # vmalloc's preallocated top-level entries: 64 PDPTs, all but the first empty.
    assert sum(int(f.get("data-tables")) for f in folds) + sum(
        1 for (pa, lvl) in nodes if lvl == 3) >= 64


# ---------------------------------------------------------------------------
# draw map
# ---------------------------------------------------------------------------

class Page(html.parser.HTMLParser):
    """The elements, the references out of the page and the data of a page."""

    def __init__(self):
        super().__init__()
        self.tags, self.refs, self.data, self.scripts, self._in = [], [], None, [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        for k in ("src", "href", "xlink:href", "action", "srcset", "poster", "data"):
            if k in a and not (a[k] or "").startswith("#"):
                self.refs.append((tag, k, a[k]))
        if tag == "link":
            self.refs.append((tag, "link", a))
        if tag == "script":
            self._in = a.get("id") or "script"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in = None

    def handle_data(self, data):
        if self._in == "ptlab-data":
            self.data = (self.data or "") + data
        elif self._in:
            self.scripts.append(data)


def parse_page(text):
    p = Page()
    p.feed(text)
    p.close()
    # Nothing from outside: no src/href, no url() but the page's own ids, no @import.
    assert not p.refs, p.refs
    for m in re.finditer(r"url\(([^)]*)\)", text):
        assert m.group(1).startswith("#"), m.group(0)
    assert "@import" not in text
    stripped = text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert not re.search(r"(https?:|ftp:|file:)//", stripped), re.search(r"\w+://\S+", stripped)
    return p


def map_of(source, *opts):
    r = ptlab("draw", "map", source, *opts)
    assert r.returncode == 0, r.stderr
    page = parse_page(r.stdout)
    return page, json.loads(page.data)


def check_map(source):
    """The map's ranges cover `maps --format json`'s exactly, with the same kinds, rights,
    memory types, page sizes and physical addresses."""
    page, d = map_of(source)
    ranges = [(int(a[0], 16), int(a[0], 16) + int(a[1], 16), a) for a in d["ranges"]]
    j = json.loads(ptlab("maps", "--format", "json", source, san=False).stdout)
    for r in j["ranges"]:
        s, e = int(r["start"], 16), int(r["end"], 16) or 1 << 64
        inside = [x for x in ranges if x[0] < e and x[1] > s]
        assert inside and inside[0][0] == s and inside[-1][1] == e, (source, r)
        assert all(b[0] == a[1] for a, b in zip(inside, inside[1:])), (source, r)
        for rs, re_, a in inside:
            kind = {"mapped": "m", "shared": "s", "cycle": "c", "unreadable": "u"}[r["kind"]]
            assert a[2] == kind
            if kind != "m":
                continue
            rights = ("r" if r["r"] else "-") + ("w" if r["w"] else "-") + \
                     ("x" if r["x"] else "-") + ("u" if r["user"] else "-")
            assert a[4] == rights and int(a[7], 16) == r["page_size"], (source, r, a)
            assert a[6] == r["memtype"]
            if not r["scattered"]:
                assert int(a[3], 16) == int(r["pa"], 16) + (rs - s)
    assert sum(e - s for s, e, _ in ranges) == sum(r["size"] for r in j["ranges"])
    return d


@pytest.mark.parametrize("name", ["l4", "linux4", "linux5", "pae", "m32", "identity", "lint"])
def test_map_ranges_are_maps(cores, name):
    check_map(cores[name])


def test_map_regions_are_regions(cores):
    page, d = map_of(cores["linux4"])
    j = json.loads(ptlab("regions", "--format", "json", cores["linux4"], san=False).stdout)
    assert d["linux"] and [r[0] for r in d["regions"]] == [r["name"] for r in j["regions"]]
    assert [(int(r[1], 16), int(r[2], 16)) for r in d["regions"]] == \
           [(int(r["start"], 16), int(r["end"], 16)) for r in j["regions"]]
    page, d = map_of(cores["identity"])
    assert not d["linux"] and not d["regions"] and d["verdict"]


def walk_from_tables(d, va):
    """The walk the page's script makes, made here from the same data."""
    tables = {(t[1], int(t[0], 16)): t[2] for t in d["tables"] if not t[3]}
    lv = d["levels"]
    table, steps = int(d["root"], 16), []
    for level in range(d["mode"]["levels"], 0, -1):
        L = lv[level]
        idx = (va >> L["shift"]) & ((1 << L["bits"]) - 1)
        raw, kind, addr = 0, "0", 0
        if (level, table) not in tables:         # outside the memory: the walk stops
            return steps, None
        for i, n, r, k, a, flags in tables[(level, table)]:
            if i <= idx < i + n:
                step = (1 << L["shift"]) if k == "L" else 0
                raw, kind, addr = int(r, 16) + (idx - i) * step, k, int(a, 16) + (idx - i) * step
        steps.append((idx, table + idx * L["esize"], raw))
        if kind == "L":
            return steps, addr + (va & ((1 << L["shift"]) - 1))
        if kind != "T":
            return steps, None
        table = addr
    return steps, None


@pytest.mark.parametrize("name,vas", [
    ("l4", [0x201000, 0x204123, 0xffff888000abcdef, 0xffffffff81000000, 0xffffff0000201000,
            0x300000]),
    ("linux4", [0xFFFFFFFFA7E00000, 0xFFFFCDB500000000, 0xFFFF8B0D40001000, 0xFFFFFE0000001000]),
    ("pae", [0x1000, 0x40000000]), ("m32", [0x1000, 0x400000]),
    ("lint", [0xffffffff81400000, 0x201000]),
])
def test_map_tables_give_vtop_walks(cores, name, vas):
    page, d = map_of(cores[name])
    for va in vas:
        steps, page_, pa = vtop_walk(cores[name], va)
        mine, mpa = walk_from_tables(d, va)
        assert [(i, e, v) for i, e, v in mine] == [(i, e, v) for _, i, e, v in steps], hex(va)
        assert mpa == pa, hex(va)


def test_map_aliases(cores):
    page, d = map_of(cores["linux4"])
    r = [a for a in d["ranges"] if a[2] == "m"]
    text = [a for a in r if int(a[0], 16) == 0xFFFFFFFFA7E00000][0]
    assert text[11] >= 0                                   # also in the direct map
    other = d["ranges"][text[11]]
    assert int(other[3], 16) <= int(text[3], 16) < int(other[3], 16) + int(other[1], 16)
    ptov = ptlab("ptov", cores["linux4"], "%x" % int(text[3], 16)).stdout
    assert "%016x" % int(other[0], 16) in ptov or other[0] in ptov or \
           "%x" % (int(other[0], 16) + int(text[3], 16) - int(other[3], 16)) in ptov


def test_map_diff_is_diff(cores, tmp_path):
    """--diff OTHER: the page's differences are `ptlab diff OTHER SOURCE`'s lines, each with
    its sign and range (the top of the address space as 2^64); the same source twice differs
    nowhere; an OTHER that cannot be read fails as diff does, naming it."""
    page, d = map_of(cores["linux4"], "--diff", str(cores["l4"]))
    r = ptlab("diff", cores["l4"], cores["linux4"], san=False)
    assert r.returncode == 1, r.stderr
    lines = [x for x in r.stdout.splitlines() if x[:1] in "+-~"]
    assert len(lines) > 3 and [x[3] for x in d["diff"]] == lines
    assert {x[0] for x in d["diff"]} == {"+", "-", "~"} & {x[0] for x in lines}
    for sign, start, end, line in d["diff"]:
        m = re.match(r"([-+~]) ([0-9a-f]{16})-([0-9a-f]{16}) ", line)
        assert sign == m.group(1) and int(start, 16) == int(m.group(2), 16)
        assert int(end, 16) == (int(m.group(3), 16) or 1 << 64)
    assert d["diff_source"] == str(cores["l4"])
    assert map_of(cores["l4"], "--diff", str(cores["l4"]))[1]["diff"] == []
    assert "diff" not in map_of(cores["l4"])[1]
    r = ptlab("draw", "map", cores["l4"], "--diff", str(tmp_path / "missing.elf"))
    assert r.returncode == 1 and "missing.elf" in r.stderr and not r.stdout


def test_map_empty_and_not_linux(cores):
    page, d = map_of(cores["empty"])
    assert d["ranges"] == [] and len(d["tables"]) == 1 and not d["linux"]
    assert len(d["top"]) == 512 and d["halves"][1][0] == 256


def test_map_page_budget_and_speed(cores, tmp_path):
    out = tmp_path / "m.html"
    r = ptlab("draw", "map", cores["linux5"], "-o", out)
    assert r.returncode == 0 and r.stdout == "" and out.stat().st_size < 2 << 20


# ---------------------------------------------------------------------------
# draw recursive, modes, story
# ---------------------------------------------------------------------------

def test_recursive_paths(cores):
    svg = svg_of("recursive", cores["recursive"], "201000")
    paths = groups(svg, "g-path")
    assert len(paths) == 4 and all(p.get("data-ok") == "1" for p in paths)
    steps, _, _ = vtop_walk(cores["recursive"], 0x201000)
    assert sorted(int(p.get("data-want"), 16) for p in paths) == sorted(e for _, _, e, _ in steps)
    for p in paths:      # the path's own walk is vtop's walk of its address
        va = int(p.get("data-va"), 16)
        _, _, pa = vtop_walk(cores["recursive"], va)
        assert pa == int(p.get("data-pa"), 16)
    r = ptlab("draw", "recursive", cores["l4"], "1000")
    assert r.returncode == 1 and "recursive on" in r.stderr
    assert ptlab("draw", "recursive", cores["pae"], "1000").returncode == 1


def test_modes_follow_the_model():
    svg = svg_of("modes")
    states = {(g.get("data-pg"), g.get("data-pae"), g.get("data-lme"), g.get("data-csl")): g
              for g in groups(svg, "g-state")}
    paging = {k: g.get("data-paging") for k, g in states.items()}
    assert paging[("1", "0", "0", "0")] == "32-bit"
    assert paging[("1", "1", "0", "0")] == "PAE"
    assert paging[("1", "1", "1", "0")] == "4-level"
    assert states[("1", "1", "1", "1")].get("data-opmode") == "64-bit"
    assert ("1", "0", "1", "0") not in states            # PG with LME but no PAE: never
    refused = lambda k: text_of(states[k])
    assert "set EFER.LME: #GP" in refused(("1", "0", "0", "0"))    # the seed's rules
    assert "set EFER.LME: #GP" in refused(("1", "1", "0", "0"))
    assert "set CR0.PG: #GP" in refused(("0", "0", "1", "0"))
    assert "clear CR0.PG: #GP" in refused(("1", "1", "1", "1"))
    ops = {(g.get("data-op")) for g in groups(svg, "g-step")}
    assert {"set CR0.PG", "set CR4.PAE", "set EFER.LME", "far jump to 64-bit code"} <= ops


def test_story_page(cores, tmp_path):
    walk = tmp_path / "w.svg"
    assert ptlab("draw", "walk", cores["l4"], "201000", "-o", walk).returncode == 0
    (tmp_path / "t.txt").write_text("[head_64] <text> & more\r\n")
    man = tmp_path / "m"
    man.write_text("title T\nintro I\nstep one: First\nnote N\nsvg w.svg\ntext t.txt\n"
                   "step two: Second\nsvg %s\n" % walk)
    r = ptlab("draw", "story", man)
    assert r.returncode == 0, r.stderr
    page = parse_page(r.stdout)
    sections = [a for t, a in page.tags if t == "section"]
    assert [s["id"] for s in sections] == ["step-1", "step-2"]
    assert "&lt;text&gt; &amp; more" in r.stdout and "\r" not in r.stdout
    assert r.stdout.count('id="pic1-wx"') == 1 and r.stdout.count('id="pic2-wx"') == 1
    for bad, msg in [("step x\nbogus y\n", "unknown item"), ("svg w.svg\n", "before the first"),
                     ("title T\n", "no step"), ("step a\nsvg nope.svg\n", "nope.svg")]:
        man.write_text(bad)
        r = ptlab("draw", "story", man)
        assert r.returncode == 1 and msg in r.stderr, (bad, r.stderr)


# ---------------------------------------------------------------------------
# Bad input: the other commands' messages and exit statuses
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["nonote", "cr3-outside", "paging-off"])
def test_bad_sources_as_maps(cores, name):
    want = ptlab("maps", cores[name])
    for args in (["walk", cores[name], "0"], ["map", cores[name]], ["tree", cores[name]],
                 ["recursive", cores[name], "0"]):
        r = ptlab("draw", *args)
        assert r.returncode == want.returncode and r.stderr == want.stderr, (args, r.stderr)
        assert r.stdout == ""


def test_missing_file_and_usage(cores, tmp_path):
    nope = tmp_path / "nope"
    assert ptlab("draw", "map", nope).stderr == ptlab("maps", nope).stderr
    for args in (["walk", cores["l4"]], ["walk", cores["l4"], "zz"], ["map"],
                 ["tree", cores["l4"], "x"], ["walk", "--user", cores["l4"], "0"],
                 ["recursive", "--slot", "512", cores["l4"], "0"], ["story"], ["modes", "x"],
                 ["bogus"], []):
        r = ptlab("draw", *args)
        assert r.returncode == 2 and r.stderr, args
    r = ptlab("draw", "walk", cores["l4"], "0", "-o", tmp_path / "no" / "such" / "dir.svg")
    assert r.returncode == 1 and "dir.svg" in r.stderr
    assert ptlab("draw", "--help").returncode == 0
    for sub in ("walk", "map", "tree", "recursive", "modes", "story"):
        r = ptlab("draw", sub, "--help", san=False)
        assert r.returncode == 0 and r.stdout.startswith("usage: ptlab draw " + sub)


def test_output_file(cores, tmp_path):
    out = tmp_path / "t.svg"
    r = ptlab("draw", "tree", cores["l4"], "-o", out)
    assert r.returncode == 0 and r.stdout == ""
    assert out.read_text() == ptlab("draw", "tree", cores["l4"]).stdout


# ---------------------------------------------------------------------------
# The boot, in pictures: this kernel paused by stop_at= after each stage
# ---------------------------------------------------------------------------

def test_stop_at_stages_in_order(stages):
    assert list(stages)[:4] == STAGES
    d, h, i, e = (stages[s] for s in STAGES)
    assert "[decompressor]" in d.text and "[head_64]" not in d.text
    assert "[head_64]" in h.text and "[init_mem_mapping]" in i.text
    assert "run init &" in e.text
    # CR3 moves from the decompressor's table to early_top_pgt, swapper_pg_dir, the process's.
    assert len({d.cr3, h.cr3, i.cr3, e.cr3}) == 4
    for st in (d, h, i, e):
        info = ptlab("info", st.dump, san=False).stdout
        assert "CR3=%016x" % st.cr3 in info


def test_stop_at_tables_are_the_stages(stages):
    d, h, i, e = (stages[s] for s in STAGES)
    phys = hexval(d.text, r"kernel: physical (0x[0-9a-f]+)")
    text_va = hexval(h.text, r"running at (0x[0-9a-f]+)")
    page_offset = hexval(i.text, r"PAGE_OFFSET = (0x[0-9a-f]+)")
    assert vtop_walk(d.dump, phys)[2] == phys                      # the identity map
    assert vtop_walk(d.dump, 0xFFFFF000)[2] == 0xFFFFF000          # all 4 GiB
    assert vtop_walk(h.dump, text_va)[2] == phys                   # the high mapping
    assert vtop_walk(h.dump, phys)[2] is None                      # no identity any more
    assert vtop_walk(i.dump, page_offset + phys)[2] == phys        # the direct map
    assert vtop_walk(e.dump, 0x400000)[2] is not None              # the process's program
    assert vtop_walk(e.dump, text_va)[2] == phys                   # and the kernel half


@pytest.mark.parametrize("stage", STAGES)
def test_stage_pictures_match_vtop(stages, stage):
    st = stages[stage]
    if stage == "decompressor":
        vas = [hexval(st.text, r"kernel: physical (0x[0-9a-f]+)"), 0x7ff000]
    elif stage == "head_64":
        vas = [hexval(st.text, r"running at (0x[0-9a-f]+)"), 0x1000]
    elif stage == "init_mem_mapping":
        vas = [hexval(st.text, r"PAGE_OFFSET = (0x[0-9a-f]+)") + 0x12345]
    else:
        vas = [0x400000, 0x7ffffffff000 - 0x1000]
    for va in vas:
        check_walk(st.dump, va)
    svg, nodes, links = tree_of(st.dump)
    for va in vas:
        for lname, idx, epa, entry in vtop_walk(st.dump, va)[0]:
            assert any(pa == epa - idx * 8 for pa, _ in nodes)
    d = check_map(st.dump)
    for va in vas:
        steps, _, pa = vtop_walk(st.dump, va)
        mine, mpa = walk_from_tables(d, va)
        assert [(i, e, v) for i, e, v in mine] == [(i, e, v) for _, i, e, v in steps]
        assert mpa == pa


def test_exec_tree_shares_the_kernel_half(stages):
    e, i = stages["exec"], stages["init_mem_mapping"]
    svg, nodes, links = tree_of(e.dump, "--cr3", "%x" % e.cr3, "--cr3", "%x" % i.cr3)
    shared = [k for k, g in nodes.items() if int(g.get("data-refs")) > 1]
    assert shared and all(level == 3 for _, level in shared)        # pgd_alloc's copies


def test_recursive_slot_on_the_live_table(stages):
    st = stages["recursive"]
    text_va = hexval(stages["head_64"].text, r"running at (0x[0-9a-f]+)")
    svg = svg_of("recursive", st.dump, "%x" % text_va)
    assert groups(svg, "g-recursive")[0].get("data-slot") == "510"
    paths = groups(svg, "g-path")
    assert len(paths) == 4 and all(p.get("data-ok") == "1" for p in paths)
    svg, nodes, links = tree_of(st.dump)
    assert any(back and i == 510 for f, t, i, c, back in links)


def test_stop_at_unknown_stage_refused():
    b = boot(append="stop_at=head_64,bogus")
    assert b.status == 35 and "stop_at=head_64,bogus: unknown stage" in b.output
    assert "[head_64]" not in b.output      # refused before anything stops
