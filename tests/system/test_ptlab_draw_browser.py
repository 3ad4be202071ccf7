"""Tests of `ptlab draw`'s pages and pictures in a real browser: Debian's
headless Chromium driven by chromedriver through python3-selenium, with a
fresh profile and nothing from the network.

Each page must load without a single console error; the map is driven as a
person would: a click on a cell zooms in, a click on a region zooms to it, a
click on a page shows its walk, and an address typed into the box shows its
walk; every walk the page shows must be `vtop`'s (table, index, entry
address, entry, physical address). The story page steps with the arrow keys.
Screenshots of every page are written to build/test-screenshots/ (look at
them: a picture that is right but unreadable is wrong too).
Sources: synthetic dumps (scripts/ptlab-mkcore) and this kernel paused by
stop_at=init_mem_mapping and dumped (ptlab_stages.py).
"""
import os
import re
import tempfile

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from ptlab_qemu import BUILD
from ptlab_stages import StagedBoot, hexval
from ptlab_tool import mkcore, ptlab

SHOTS = os.path.join(BUILD, "test-screenshots")
PAGE_DEADLINE = 60.0    # seconds (wall) for a page to be ready: generous under load
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--hide-scrollbars", "--window-size=1500,1000"]


@pytest.fixture(scope="module")
def browser():
    profile = tempfile.mkdtemp(prefix="ptlab-chromium-")
    opts = webdriver.ChromeOptions()
    for a in CHROMIUM_ARGS + ["--user-data-dir=" + profile]:
        opts.add_argument(a)
    opts.binary_location = "/usr/bin/chromium"
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    d.set_page_load_timeout(PAGE_DEADLINE)
    os.makedirs(SHOTS, exist_ok=True)
    yield d
    d.quit()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The pages and pictures under test, drawn from their sources."""
    d = tmp_path_factory.mktemp("pages")
    out = {}
    for name in ("l4", "linux4", "pae", "lint"):
        core = d / (name + ".elf")
        core.write_bytes(mkcore.SCENARIOS[name]())
        out[name] = core
        out[name + ".html"] = d / (name + ".html")
        assert ptlab("draw", "map", core, "-o", out[name + ".html"]).returncode == 0
    out["diff.html"] = d / "diff.html"
    assert ptlab("draw", "map", out["linux4"], "--diff", out["l4"], "-o", out["diff.html"]).returncode == 0
    with StagedBoot(d, ["init_mem_mapping"], append="no5lvl kaslr_seed=3") as b:
        for st in b.stages():
            out["kernel"], out["kernel.text"] = st.dump, st.text
    out["kernel.html"] = d / "kernel.html"
    assert ptlab("draw", "map", out["kernel"], "-o", out["kernel.html"]).returncode == 0
    for pic, args in (("walk", ["walk", out["linux4"], "ffffffffa7e00000", "--access", "w"]),
                      ("tree", ["tree", out["kernel"]]), ("modes", ["modes"])):
        out[pic] = d / (pic + ".svg")
        assert ptlab("draw", *args, "-o", out[pic]).returncode == 0
    (d / "serial.txt").write_text(out["kernel.text"])
    (d / "story.m").write_text("title Test story\nstep one: The walk\nsvg walk.svg\n"
                               "text serial.txt\nstep two: The tree\nsvg tree.svg\n"
                               "step three: Modes\nsvg modes.svg\n")
    out["story.html"] = d / "story.html"
    assert ptlab("draw", "story", d / "story.m", "-o", out["story.html"]).returncode == 0
    return out


def load(browser, path, shot):
    """Open path, wait until its script says it is ready (SVGs: the load), screenshot it;
    no console message may be an error. returns: the ready time the page measured (ms)."""
    browser.get_log("browser")          # drop what an earlier page left
    browser.get("file://" + str(path))
    ready = None
    if str(path).endswith(".html"):
        ready = WebDriverWait(browser, PAGE_DEADLINE).until(
            lambda d: d.execute_script("return window.ptlabReady"))
    shoot(browser, shot)
    return ready


def shoot(browser, shot):
    browser.save_screenshot(os.path.join(SHOTS, shot + ".png"))
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


def vtop_walk(source, va):
    r = ptlab("vtop", "--format", "walk", source, "%x" % va, san=False)
    steps = [(int(m.group(1)), int(m.group(2), 16), int(m.group(3), 16)) for m in re.finditer(
        r"index\s+(\d+)\s+entry at ([0-9a-f]+) = ([0-9a-f]+)", r.stdout)]
    m = re.search(r"physical address ([0-9a-f]+)", r.stdout)
    return steps, int(m.group(1), 16) if m else None


def shown_walk(browser):
    """The walk the page shows: its VA, [(index, entry address, entry)], physical address."""
    box = browser.find_element(By.ID, "walk")
    steps = [(int(b.get_attribute("data-index")), int(b.get_attribute("data-entry-pa"), 16),
              int(b.get_attribute("data-entry"), 16))
             for b in box.find_elements(By.CSS_SELECTOR, ".wbox")]
    frames = box.find_elements(By.CSS_SELECTOR, ".frame")
    pa = int(frames[0].get_attribute("data-pa"), 16) if frames else None
    return int(box.get_attribute("data-va"), 16), steps, pa


def check_shown_walk(browser, source, va):
    shown_va, steps, pa = shown_walk(browser)
    assert shown_va == va
    assert (steps, pa) == vtop_walk(source, va), hex(va)
    text = browser.find_element(By.ID, "walk").text
    for idx, epa, entry in steps:
        assert "[%d]" % idx in text and "%016x" % entry in text


def crumbs(browser):
    c = browser.find_element(By.ID, "crumbs")
    return int(c.get_attribute("data-level")), c.get_attribute("data-base")


def click_cell(browser, i, half=None):
    sel = ".half:nth-child(%d) .cell[data-i='%d']" % (half, i) if half else ".cell[data-i='%d']" % i
    browser.find_element(By.CSS_SELECTOR, sel).click()


def test_map_zoom_and_walks(browser, pages):
    ready = load(browser, pages["linux4.html"], "map-linux4-top")
    print("map page ready after %.0f ms" % ready)
    assert crumbs(browser) == (4, "")
    cells = browser.find_elements(By.CSS_SELECTOR, ".cell")
    assert len(cells) == 512
    # Zoom to a region from the list: the kernel text is one 2M page of the PD under pud 510.
    browser.find_element(By.CSS_SELECTOR, "li[data-region='Kernel text']").click()
    assert crumbs(browser) == (2, "ffffffff80000000")
    shoot(browser, "map-linux4-kernel-text")
    click_cell(browser, 319)             # 0xffffffffa7e00000: a 2M leaf, shown as its walk
    check_shown_walk(browser, pages["linux4"], 0xFFFFFFFFA7E00000)
    shoot(browser, "map-linux4-walk")
    # Back to the top through the crumbs, then down by clicks: pgd 511, pud 510.
    browser.find_element(By.CSS_SELECTOR, "#crumbs a").click()
    assert crumbs(browser) == (4, "")
    click_cell(browser, 511, half=2)
    assert crumbs(browser) == (3, "ffffff8000000000")
    click_cell(browser, 510)
    assert crumbs(browser) == (2, "ffffffff80000000")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    assert crumbs(browser) == (3, "ffffff8000000000")


def test_map_diff_colours(browser, pages):
    """With --diff the map opens coloured by difference: the top table's cells of the user
    half that l4 maps and linux4 does not are removed, the kernel half's added; the panel
    lists every line of `ptlab diff`; the rights colouring comes back with its radio button."""
    load(browser, pages["diff.html"], "map-diff")
    r = ptlab("diff", pages["l4"], pages["linux4"], san=False)
    lines = [x for x in r.stdout.splitlines() if x[:1] in "+-~"]
    panel = browser.find_element(By.ID, "diff").text
    assert "Differences from %s (%d)" % (pages["l4"], len(lines)) in panel
    signs = {x[0] for x in lines}
    for sign, cls in (("+", "d-add"), ("-", "d-del"), ("~", "d-chg")):
        if sign in signs:
            assert browser.find_elements(By.CSS_SELECTOR, ".cell." + cls), cls
    browser.find_element(By.CSS_SELECTOR, "input[name=colour][value=rights]").click()
    assert not browser.find_elements(By.CSS_SELECTOR, ".cell.d-add, .cell.d-del, .cell.d-chg")
    shoot(browser, "map-diff-rights")


def test_map_hover_lists_the_ranges(browser, pages):
    load(browser, pages["l4.html"], "map-l4")
    from selenium.webdriver.common.action_chains import ActionChains
    click_cell(browser, 0, half=1)       # pgd 0: the user pages
    click_cell(browser, 0)
    click_cell(browser, 1)               # the PT at 0x4000: 4K pages
    assert crumbs(browser) == (1, "0000000000200000")
    ActionChains(browser).move_to_element(
        browser.find_element(By.CSS_SELECTOR, ".cell[data-i='1']")).perform()
    hover = browser.find_element(By.ID, "hover").text
    # maps' range (three pages), its frame, rights, the entry, and the alias in the direct map.
    assert "0000000000201000-0000000000204000" in hover and "r-xu" in hover
    assert "PT entry at 0000000000004008 = 0000000000010025" in hover
    assert "alias: frames also at ffff888000010000" in hover
    shoot(browser, "map-l4-hover")


@pytest.mark.parametrize("source,va,stop", [
    ("l4", 0x204123, None), ("l4", 0x300000, "not present"), ("l4", 0xffff888000abcdef, None),
    ("pae", 0x400000, None), ("pae", 0xc0000000, None), ("lint", 0xffffffff81400000, "outside the source's memory"),
])
def test_map_address_box(browser, pages, source, va, stop):
    load(browser, pages[source + ".html"], "map-" + source)
    box = browser.find_element(By.ID, "addr")
    box.clear()
    box.send_keys("%x" % va)
    box.send_keys(Keys.ENTER)
    check_shown_walk(browser, pages[source], va)
    status = browser.find_element(By.ID, "walk").get_attribute("data-status")
    assert status == "mapped" if stop is None else stop in status, status
    shoot(browser, "map-%s-address-%x" % (source, va))


def test_map_of_this_kernel(browser, pages):
    ready = load(browser, pages["kernel.html"], "map-kernel-init_mem_mapping")
    print("map page of this kernel ready after %.0f ms" % ready)
    po = hexval(pages["kernel.text"], r"PAGE_OFFSET = (0x[0-9a-f]+)")
    box = browser.find_element(By.ID, "addr")
    box.send_keys("%x" % (po + 0x100000))
    box.send_keys(Keys.ENTER)
    check_shown_walk(browser, pages["kernel"], po + 0x100000)
    level, base = crumbs(browser)
    assert level < 4 and int(base, 16) <= po + 0x100000
    shoot(browser, "map-kernel-direct-map")


def test_story_steps(browser, pages):
    load(browser, pages["story.html"], "story-1")
    visible = lambda: [s.get_attribute("id") for s in
                       browser.find_elements(By.CSS_SELECTOR, "section.step") if s.is_displayed()]
    assert visible() == ["step-1"]
    assert "[init_mem_mapping]" in browser.find_element(By.CSS_SELECTOR, "#step-1 pre").text
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)
    assert visible() == ["step-2"]
    shoot(browser, "story-2")
    browser.find_elements(By.CSS_SELECTOR, "#steps button")[2].click()
    assert visible() == ["step-3"]
    shoot(browser, "story-3")


@pytest.mark.parametrize("pic", ["walk", "tree", "modes"])
def test_svg_pictures_render(browser, pages, pic):
    load(browser, pages[pic], "svg-" + pic)
    w, h = browser.execute_script(
        "const b = document.documentElement.getBBox(); return [b.width, b.height];")
    assert w > 300 and h > 200
