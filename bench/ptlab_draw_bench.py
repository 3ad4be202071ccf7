"""ptlab_draw_bench: how fast `ptlab draw` draws a 2 GiB Linux guest, and how
fast the map page is ready in a browser.

Boots Debian's kernel with the busybox initramfs (the guest of
tests/system/linux_guest.py, cached in ${XDG_CACHE_HOME:-~/.cache}/ptlab)
with -m 2G, stops it, writes the dump, reads it once so that it is in the
page cache, then times as whole processes `draw map` (target <= 200 ms and
<= 2 MB of HTML), `draw walk` (target <= 10 ms), `draw walk --access`,
`draw tree` and `draw modes`, and opens the map page in Debian's headless
Chromium: the time until the page's script has drawn it, as the page itself
measures it from the start of navigation (target <= 1 s).
Figures only: nothing here asserts a time.

Usage: /usr/bin/python3 bench/ptlab_draw_bench.py [--runs N] [--cpu qemu64|max] [--keep]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))

import linux_guest  # noqa: E402  (the tests' Debian guest)
from ptlab_bench import time_process  # noqa: E402

PTLAB = os.path.join(ROOT, "build", "ptlab")


def browser_ready(page, runs):
    """The map page's own measure of when it was drawn (ms from navigation start), in a
    fresh headless Chromium each time; median and minimum."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait
    times = []
    for _ in range(runs):
        opts = webdriver.ChromeOptions()
        for a in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--window-size=1500,1000",
                  "--user-data-dir=" + tempfile.mkdtemp(prefix="ptlab-chromium-")]:
            opts.add_argument(a)
        opts.binary_location = "/usr/bin/chromium"
        d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
        try:
            d.get("file://" + page)
            times.append(WebDriverWait(d, 60).until(
                lambda d: d.execute_script("return window.ptlabReady")))
        finally:
            d.quit()
    return statistics.median(times), min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--browser-runs", type=int, default=5)
    ap.add_argument("--cpu", default="qemu64")
    ap.add_argument("--mem", default="2G")
    ap.add_argument("--keep", action="store_true", help="keep the dump (printed path)")
    a = ap.parse_args()
    if not os.path.exists(PTLAB):
        sys.exit("ptlab_draw_bench: build/ptlab missing (make build/ptlab)")

    work = tempfile.mkdtemp(prefix="ptlab-draw-bench-", dir=os.path.join(ROOT, "build"))
    dump = os.path.join(work, "linux-%s-%s.elf" % (a.cpu, a.mem))
    print("ptlab_draw_bench: booting Debian Linux (-cpu %s -m %s) ..." % (a.cpu, a.mem), flush=True)
    with linux_guest.boot_linux(work, mem=a.mem, cpu=a.cpu) as g:
        g.command("stop")
        g.command("dump-guest-memory %s" % dump)
    with open(dump, "rb") as f:                 # into the page cache
        while f.read(1 << 24):
            pass
    regions = subprocess.run([PTLAB, "regions", "--format", "json", dump], capture_output=True,
                             text=True).stdout
    text_va = json.loads(regions)["kernel_text_start"] or "0xffffffff81000000"
    page = os.path.join(work, "map.html")
    subprocess.run([PTLAB, "draw", "map", dump, "-o", page], check=True)
    size_kib = os.path.getsize(page) / 1024
    va = "%x" % int(text_va, 16)
    results = [
        ("ptlab --version (start-up)", None, time_process([PTLAB, "--version"], a.runs)),
        ("draw map", 200.0, time_process([PTLAB, "draw", "map", dump, "-o", os.devnull], a.runs)),
        ("draw walk", 10.0, time_process([PTLAB, "draw", "walk", dump, va], a.runs)),
        ("draw walk --access w", None,
         time_process([PTLAB, "draw", "walk", "--access", "w", dump, va], a.runs)),
        ("draw tree", None, time_process([PTLAB, "draw", "tree", dump], a.runs)),
        ("draw modes", None, time_process([PTLAB, "draw", "modes"], a.runs)),
    ]
    ready = browser_ready(page, a.browser_runs)

    print("guest: Debian %s, -cpu %s, -m %s; dump %d MiB, in the page cache"
          % (os.path.basename(str(linux_guest.debian_kernel())), a.cpu, a.mem,
             os.path.getsize(dump) >> 20))
    print("draw map page: %.0f KiB (target <= 2048 KiB%s)" % (
        size_kib, ", met" if size_kib <= 2048 else ", MISSED"))
    print("%-28s %10s %10s %10s %10s" % ("command (whole process)", "median ms", "min ms",
                                          "CPU ms", "target ms"))
    for name, target, (med, mn, cpu) in results:
        print("%-28s %10.2f %10.2f %10.2f %10s%s" % (
            name, med, mn, cpu, "%.0f" % target if target else "-",
            "" if not target else ("  (met)" if med <= target else "  (MISSED)")))
    print("%-28s %10.1f %10.1f %10s %10s%s" % ("map page ready in Chromium", ready[0], ready[1],
                                              "-", "1000",
                                         "  (met)" if ready[0] <= 1000 else "  (MISSED)"))
    if a.keep:
        print("dump kept: %s" % dump)
    else:
        os.unlink(dump)
        os.unlink(page)
        os.rmdir(work)


if __name__ == "__main__":
    main()
