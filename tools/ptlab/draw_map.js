/*
 * draw_map.js: the script of the address-space map `ptlab draw map` writes
 * (cmd_draw_map.c writes the page and its data; the build embeds this file).
 *
 * The page's data (the JSON in #ptlab-data) holds everything: the paging
 * mode's levels (shift, index bits, entry size, names), the first VA of each
 * top-level entry, the merged ranges as `ptlab maps` lists them (with
 * rights class, page size, region and alias), every table's entries as runs
 * (decoded by lib/paging: kind, address, flag names), Linux's regions and,
 * with --diff, the stretches that differ. This script only looks them up:
 * it draws one window (the entries of one table) as a grid of cells, lists
 * a cell's ranges on hover, zooms on click and shows walks.
 */
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("ptlab-data").textContent);
  const $ = (id) => document.getElementById(id);
  const big = (s) => BigInt("0x" + s);
  const hex = (v) => v.toString(16).padStart(16, "0");
  const TOP = D.mode.levels;
  const LV = D.levels.map((l) => l && Object.assign({}, l, {
    size: 1n << BigInt(l.shift), n: 1 << l.bits, mask: BigInt((1 << l.bits) - 1) }));
  const REGION_COLOURS = ["#e6550d", "#3182bd", "#31a354", "#756bb1", "#d6616b", "#8c6d31",
                          "#17becf", "#636363", "#bcbd22", "#e377c2", "#393b79", "#ad494a",
                          "#7b4173", "#637939", "#843c39", "#9c9ede"];
  const regions = D.regions.map((r, k) => ({ name: r[0], start: big(r[1]),
                                             end: r[2] === "0" ? 1n << 64n : big(r[2]), k: k }));

  /* A size for people: "2.1 GiB". */
  function human(n) {
    const units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let u = 0, x = Number(n);
    while (u < 6 && x >= 1024) { x /= 1024; u++; }
    return (u ? x.toFixed(x < 10 ? 1 : 0) : x) + " " + units[u];
  }

  /* "4K", "2M", "1G", "512G": the largest unit that divides the size exactly. */
  function sizeStr(n) {
    const units = ["", "K", "M", "G", "T", "P", "E"];
    let u = 0;
    while (u < 6 && n > 0n && n % 1024n === 0n) { n /= 1024n; u++; }
    return n.toString() + units[u];
  }

  const ranges = D.ranges.map((a) => ({
    start: big(a[0]), size: big(a[1]), kind: a[2], pa: big(a[3]), rights: a[4], cls: a[5],
    memtype: a[6], psize: big(a[7]), lvl: a[8], count: a[9], refs: a[10], alias: a[11],
    region: a[12], entry: big(a[13]) }));
  ranges.forEach((r) => { r.end = r.start + r.size; });
  const diffs = (D.diff || []).map((a) => ({
    sign: a[0], start: big(a[1]), end: big(a[2]), text: a[3] }));

  const tables = new Map();
  for (const [pa, level, runs, unreadable] of D.tables)
    tables.set(level + ":" + pa, { unreadable: !!unreadable, runs: runs.map((r) => ({
      i: r[0], n: r[1], raw: big(r[2]), kind: r[3], addr: big(r[4]), flags: r[5] })) });

  /* The first item of the sorted list whose end is above va (binary search). */
  function firstEndingAbove(list, va) {
    let lo = 0, hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].end > va) hi = mid; else lo = mid + 1;
    }
    return lo;
  }

  /* The items of a sorted list overlapping [s, e). */
  function overlapping(list, s, e) {
    const out = [];
    for (let k = firstEndingAbove(list, s); k < list.length && list[k].start < e; k++)
      out.push(list[k]);
    return out;
  }

  /* Entry i of the table at (level, pa): its raw value, kind and address, from the runs. */
  function entryAt(level, pa, i) {
    const t = tables.get(level + ":" + pa.toString(16));
    if (!t) return null;
    for (const r of t.runs) {
      if (i < r.i || i >= r.i + r.n) continue;
      const k = BigInt(i - r.i), step = r.kind === "L" ? LV[level].size : 0n;
      return { raw: r.raw + k * step, kind: r.kind, addr: r.addr + k * step, flags: r.flags };
    }
    return { raw: 0n, kind: "0", addr: 0n, flags: "" };
  }

  /*
   * walk(va): the steps of the MMU's walk as the data has them: each level's
   * table, index, entry address and entry; stops where an entry is not
   * present, has reserved bits, points back to a table on the path (a
   * recursive slot) or leads to a table the data does not hold.
   */
  function walk(va) {
    const w = { va: va, steps: [], status: "", leaf: 0 };
    const path = [];
    let table = big(D.root);
    for (let level = TOP; level >= 1; level--) {
      const L = LV[level];
      const idx = Number((va >> BigInt(L.shift)) & L.mask);
      const t = tables.get(level + ":" + table.toString(16));
      if (!t || t.unreadable) {
        w.status = (t ? "the table at " + hex(table) + " is outside the source's memory"
                      : "the table at " + hex(table) + " is not in this page (too many tables)");
        w.stopLevel = level;
        return w;
      }
      const e = entryAt(level, table, idx);
      w.steps.push({ level: level, table: table, idx: idx,
                     entryPa: table + BigInt(idx * L.esize), e: e });
      path.push(table);
      if (e.kind === "L") {
        w.leaf = level;
        w.frame = e.addr;
        w.psize = L.size;
        w.pa = e.addr + (va & (L.size - 1n));
        w.status = "mapped";
        return w;
      }
      if (e.kind === "T" && path.includes(e.addr)) {
        w.status = "a recursive slot: the entry points back to the " +
                   LV[TOP - path.indexOf(e.addr)].intel + " table on the path (the walk " +
                   "goes on in it one level down: ptlab draw recursive draws it)";
        return w;
      }
      if (e.kind !== "T") {
        w.status = e.kind === "R" ? "reserved bits " + e.addr.toString(16) + " set: #PF"
                                  : "not present (P = 0): not mapped";
        return w;
      }
      table = e.addr;
    }
    return w;
  }

  /* ---- the grid ---- */

  /* The window shown (the table at `level` under `base`; base null: the top table), the
     path to it, and the VA range to mark (the region or address chosen last). */
  const state = { level: TOP, base: null, path: [], mark: null };

  function cellVA(i) {
    return state.base === null ? big(D.top[i]) : state.base + BigInt(i) * LV[state.level].size;
  }

  /* What is inside [s, e): bytes per rights class, page sizes, marks. */
  function cellStats(s, e) {
    const st = { bytes: {}, mapped: 0n, sizes: new Set(), user: false, alias: false,
                 special: false, region: -1, diff: {} };
    for (const r of overlapping(ranges, s, e)) {
      const b = (r.end < e ? r.end : e) - (r.start > s ? r.start : s);
      if (r.kind !== "m") { st.special = true; continue; }
      st.bytes[r.cls] = (st.bytes[r.cls] || 0n) + b;
      st.mapped += b;
      st.sizes.add(r.psize);
      if (r.rights[3] === "u") st.user = true;
      if (r.alias >= 0) st.alias = true;
    }
    const reg = overlapping(regions, s, e);
    if (reg.length) st.region = reg[0].k;
    for (const d of overlapping(diffs, s, e)) st.diff[d.sign] = true;
    return st;
  }

  /* The bar's height: full when fully mapped, else growing with log2 of the bytes mapped. */
  function barHeight(mapped, size) {
    if (mapped >= size) return 100;
    const bits = (x) => x.toString(2).length;
    const f = (bits(mapped) - 12) / Math.max(1, bits(size) - 12);
    return Math.round(22 + 60 * Math.max(0, Math.min(1, f)));
  }

  function dominant(bytes) {
    let best = "rt-none", most = -1n;
    for (const c of ["rt-wx", "rt-rx", "rt-rw", "rt-ro"])
      if (bytes[c] && bytes[c] > most) { best = c; most = bytes[c]; }
    return bytes["rt-wx"] ? "rt-wx" : best;   /* any W+X shows */
  }

  /* The table whose entries the window shows (walking from the root), or null. */
  function windowTable() {
    if (state.base === null) return big(D.root);
    const w = walk(state.base);
    const st = w.steps.find((x) => x.level === state.level);
    return st ? st.table : null;
  }

  function makeCell(i, table, diffMode) {
    const L = LV[state.level];
    const s = cellVA(i), e = s + L.size;
    const st = cellStats(s, e);
    const ent = table === null ? null : entryAt(state.level, table, i);
    const c = document.createElement("div");
    c.className = "cell";
    c.dataset.i = i;
    c.dataset.va = hex(s);
    const fill = document.createElement("div");
    fill.className = "fill";
    let cls = dominant(st.bytes);
    if (diffMode) cls = st.diff["~"] ? "d-chg" : st.diff["+"] ? "d-add" : st.diff["-"] ? "d-del"
                        : st.mapped > 0n ? "d-same" : "";
    if (cls) c.classList.add(cls);
    fill.className = "fill " + cls;
    const h = st.mapped > 0n || (diffMode && cls) ? barHeight(st.mapped || L.size, L.size)
      : st.special ? 100 : 0;
    fill.style.height = h + "%";
    if (st.special && st.mapped === 0n) c.classList.add("sh");
    c.appendChild(fill);
    let label = "";
    if (ent && ent.kind === "L") { label = sizeStr(L.size); c.classList.add("leaf"); }
    else if (st.sizes.size) label = [...st.sizes].sort((a, b) => (a < b ? 1 : -1)).map(sizeStr)[0]
                                    + (st.sizes.size > 1 ? "+" : "");
    if (label) {
      const p = document.createElement("span");
      p.className = "ps";
      p.textContent = label;
      c.appendChild(p);
    }
    if (st.user) c.classList.add("usr");
    if (st.alias) c.classList.add("alias");
    if (st.region >= 0) {
      c.classList.add("reg");
      c.style.setProperty("--rc", REGION_COLOURS[st.region % REGION_COLOURS.length]);
    }
    c.zoomable = state.level > 1 && ent !== null && ent.kind === "T";
    if (state.mark && state.mark[0] < e && state.mark[1] > s) c.classList.add("cur");
    return c;
  }

  function render() {
    const grid = $("grid");
    grid.textContent = "";
    const L = LV[state.level];
    const table = windowTable();
    const diffMode = !!(document.querySelector("input[name=colour]:checked") || {}).value &&
                     document.querySelector("input[name=colour]:checked").value === "diff";
    const halves = state.base === null ? D.halves : [[0, L.n, ""]];
    for (const [a, b, name] of halves) {
      const sec = document.createElement("div");
      sec.className = "half";
      const h = document.createElement("h3");
      const s = cellVA(a), e = cellVA(b - 1) + L.size;
      h.textContent = (name ? name + ": " : "") + hex(s) + " - " + hex(e - 1n) + ", " + (b - a) +
                      " " + L.intel + " entries of " + sizeStr(L.size) +
                      (table !== null ? " (table at " + hex(table) + ")" : "");
      sec.appendChild(h);
      const cells = document.createElement("div");
      cells.className = "cells" + (b - a <= 4 ? " few" : "");
      for (let i = a; i < b; i++) cells.appendChild(makeCell(i, table, diffMode));
      sec.appendChild(cells);
      grid.appendChild(sec);
    }
    renderCrumbs();
  }

  function renderCrumbs() {
    const nav = $("crumbs");
    nav.textContent = "";
    const add = (text, depth) => {
      const a = document.createElement(depth === state.path.length ? "span" : "a");
      a.textContent = text;
      if (depth === state.path.length) a.className = "here";
      else a.onclick = () => zoomOut(depth);
      nav.appendChild(a);
    };
    add("whole address space", 0);
    state.path.forEach((p, k) => {
      nav.appendChild(document.createTextNode(" \u203a "));
      add(LV[p.level].name + "[" + p.idx + "] " + hex(p.va), k + 1);
    });
    nav.dataset.level = state.level;
    nav.dataset.base = state.base === null ? "" : hex(state.base);
  }

  function zoomIn(i) {
    state.path.push({ level: state.level, idx: i, va: cellVA(i) });
    state.base = cellVA(i);
    state.level--;
    render();
  }

  function zoomOut(depth) {
    state.path.length = depth;
    state.level = TOP - depth;
    state.base = depth ? state.path[depth - 1].va : null;
    render();
  }

  /* Zoom to the deepest window holding all of [s, e). */
  function zoomTo(s, e) {
    state.mark = [s, e];
    zoomOut(0);
    for (;;) {
      const L = LV[state.level];
      let i = -1, j = -1;
      for (let k = 0; k < L.n; k++) {
        const c = cellVA(k);
        if (c <= s && s < c + L.size) i = k;
        if (c <= e - 1n && e - 1n < c + L.size) j = k;
      }
      if (i < 0 || i !== j || state.level === 1) return;
      const table = windowTable();
      const ent = table === null ? null : entryAt(state.level, table, i);
      if (!ent || ent.kind !== "T") return;
      zoomIn(i);
    }
  }

  /* ---- hover: a cell's entry and ranges ---- */

  function rangeRow(r) {
    const tr = document.createElement("tr");
    let what;
    if (r.kind === "m") {
      what = [hex(r.pa), r.rights, r.memtype, sizeStr(r.psize) + " " + r.lvl];
      if (r.alias >= 0) {
        const o = ranges[r.alias];
        what.push("alias: frames also at " + hex(o.start + (r.pa > o.pa ? r.pa - o.pa : 0n)));
      }
    } else {
      const names = { s: "shared " + r.lvl + " table ", c: "cycle to " + r.lvl + " table ",
                      u: "unreadable " + r.lvl + " table " };
      what = [names[r.kind] + hex(r.pa) + (r.kind === "s" ? ", " + r.refs + " references" : "")];
    }
    if (r.region >= 0) what.push(D.regions[r.region][0]);
    for (const t of [hex(r.start) + "-" + hex(r.end), sizeStr(r.size), what.join("  ")]) {
      const td = document.createElement("td");
      td.textContent = t;
      td.className = "num";
      tr.appendChild(td);
    }
    return tr;
  }

  function hover(cell) {
    const i = Number(cell.dataset.i), L = LV[state.level];
    const s = cellVA(i), e = s + L.size;
    const box = $("hover");
    box.textContent = "";
    const h = document.createElement("h2");
    h.textContent = L.name + "[" + i + "]: " + hex(s) + " - " + hex(e - 1n) + " (" +
                    sizeStr(L.size) + ")";
    box.appendChild(h);
    const table = windowTable();
    const ent = table === null ? null : entryAt(state.level, table, i);
    const p = document.createElement("p");
    p.className = "mono";
    p.textContent = ent === null ? "no " + L.intel + " table here"
      : L.intel + " entry at " + hex(table + BigInt(i * L.esize)) + " = " + hex(ent.raw) +
        (ent.kind === "T" ? " -> table at " + hex(ent.addr)
         : ent.kind === "L" ? " -> " + sizeStr(L.size) + " page at " + hex(ent.addr)
         : ent.kind === "0" ? " (empty)" : " (not present)") +
        (ent.flags ? "  [" + ent.flags + "]" : "");
    box.appendChild(p);
    const list = overlapping(ranges, s, e);
    const tab = document.createElement("table");
    tab.className = "list";
    list.slice(0, 14).forEach((r) => tab.appendChild(rangeRow(r)));
    box.appendChild(tab);
    if (list.length > 14) {
      const more = document.createElement("p");
      more.className = "dim";
      more.textContent = "and " + (list.length - 14) + " more ranges: zoom in";
      box.appendChild(more);
    }
    if (!list.length) box.appendChild(document.createTextNode("nothing mapped here"));
    for (const d of overlapping(diffs, s, e).slice(0, 8)) {
      const q = document.createElement("p");
      q.className = "mono";
      q.textContent = d.text;
      box.appendChild(q);
    }
  }

  /* ---- the walk panel ---- */

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /* The VA's fields as the walk used them, and the offset for every page size. */
  function splitLine(w) {
    const div = el("div", "wsplit mono");
    const leaf = w.leaf || 1;
    for (let level = TOP; level >= leaf; level--) {
      const L = LV[level];
      const idx = Number((w.va >> BigInt(L.shift)) & L.mask);
      div.appendChild(el("span", "fld" + ((TOP - level) % 5), L.name + " " + idx));
    }
    div.appendChild(el("span", "", "offset 0x" + (w.va & (LV[leaf].size - 1n)).toString(16)));
    const sizes = el("div", "dim");
    sizes.textContent = "offset by page size: " + LV.filter((L, l) => L && (l === 1 || L.large))
      .map((L) => sizeStr(L.size) + " bits " + (L.shift - 1) + ":0 = 0x" +
                  (w.va & (L.size - 1n)).toString(16)).join(", ");
    div.appendChild(sizes);
    return div;
  }

  function showWalk(va) {
    const w = walk(va);
    const box = $("walk");
    box.textContent = "";
    box.dataset.va = hex(va);
    box.dataset.status = w.status;
    box.appendChild(el("h2", "", "Walk of " + hex(va)));
    box.appendChild(splitLine(w));
    const cr3 = el("div", "wframe mono",
                   "CR3 = " + hex(big(D.cr3)) + ", top table at " + hex(big(D.root)));
    cr3.style.setProperty("--d", 0);
    cr3.style.background = "#fff3cd";
    box.appendChild(cr3);
    w.steps.forEach((st, k) => {
      const L = LV[st.level];
      const b = el("div", "wbox");
      b.style.setProperty("--d", k + 1);
      Object.assign(b.dataset, { level: st.level, table: hex(st.table), index: st.idx,
                                 entryPa: hex(st.entryPa), entry: hex(st.e.raw) });
      b.appendChild(el("div", "whdr fld" + ((TOP - st.level) % 5),
                       L.intel + " (" + L.name + ") table at " + hex(st.table)));
      const ent = el("div", "went");
      ent.appendChild(el("b", "", "[" + st.idx + "]"));
      ent.appendChild(document.createTextNode(" entry at " + hex(st.entryPa) + " = "));
      ent.appendChild(el("b", "", hex(st.e.raw)));
      b.appendChild(ent);
      const fl = el("div", "wflags");
      st.e.flags.split(" ").filter((x) => x).forEach((f) => fl.appendChild(el("span", "chip", f)));
      fl.appendChild(document.createTextNode(
        st.e.kind === "T" ? "  -> next table at " + hex(st.e.addr)
        : st.e.kind === "L" ? "  -> " + sizeStr(L.size) + " page frame " + hex(st.e.addr) : ""));
      b.appendChild(fl);
      if (st.e.kind !== "T" && st.e.kind !== "L") b.classList.add("stop");
      box.appendChild(b);
    });
    if (w.status === "mapped") {
      const f = el("div", "wframe mono " + "frame");
      f.style.setProperty("--d", w.steps.length + 1);
      f.dataset.pa = hex(w.pa);
      f.dataset.frame = hex(w.frame);
      f.textContent = sizeStr(w.psize) + " page frame " + hex(w.frame) + " + offset 0x" +
                      (w.pa - w.frame).toString(16) + " = physical address " + hex(w.pa);
      box.appendChild(f);
    } else {
      box.appendChild(el("p", "bad", "The walk stops: " + w.status));
    }
  }

  /* ---- the side panels ---- */

  function regionsPanel() {
    const box = $("regions");
    box.appendChild(el("h2", "", D.linux ? "Linux's regions (as ptlab regions names them)"
                                         : "Regions: " + D.verdict));
    const ul = el("ul", "regions");
    D.regions.forEach((r, k) => {
      const li = el("li");
      const sw = el("i", "sw");
      sw.style.background = REGION_COLOURS[k % REGION_COLOURS.length];
      li.appendChild(sw);
      li.appendChild(document.createTextNode(r[0] + "  "));
      li.appendChild(el("span", "mono dim",
                        r[1].padStart(16, "0") + " - " + r[2].padStart(16, "0")));
      li.dataset.region = r[0];
      li.onclick = () => zoomTo(big(r[1]), r[2] === "0" ? 1n << 64n : big(r[2]));
      ul.appendChild(li);
    });
    box.appendChild(ul);
  }

  function diffPanel() {
    if (!D.diff) return;
    const box = $("diff");
    box.appendChild(el("h2", "", "Differences from " + D.diff_source + " (" + diffs.length + ")"));
    const form = el("p");
    for (const [v, t] of [["rights", "colour by rights"], ["diff", "colour by difference"]]) {
      const lab = el("label");
      const r = el("input");
      Object.assign(r, { type: "radio", name: "colour", value: v, checked: v === "diff" });
      r.onchange = render;
      lab.appendChild(r);
      lab.appendChild(document.createTextNode(" " + t + "  "));
      form.appendChild(lab);
    }
    box.appendChild(form);
    const legend = el("p", "legend");
    for (const [c, t] of [["d-add", "added"], ["d-del", "removed"], ["d-chg", "changed"],
                          ["d-same", "the same"]]) {
      const s = el("span");
      s.appendChild(el("i", "sw " + c));
      s.appendChild(document.createTextNode(t));
      legend.appendChild(s);
    }
    box.appendChild(legend);
    const tab = el("table", "list");
    diffs.slice(0, 200).forEach((d) => {
      const tr = el("tr");
      tr.appendChild(el("td", "num", d.text));
      tr.onclick = () => zoomTo(d.start, d.end);
      tab.appendChild(tr);
    });
    box.appendChild(tab);
  }

  function summary() {
    let mapped = 0n, wx = 0n;
    for (const r of ranges) {
      if (r.kind !== "m") continue;
      mapped += r.size;
      if (r.cls === "rt-wx") wx += r.size;
    }
    $("summary").textContent = D.mode.name + " paging, CR3 " + hex(big(D.cr3)) + "; " +
      ranges.length + " ranges, " + human(mapped) + " mapped" +
      (wx ? ", " + human(wx) + " of it W+X" : ", none W+X") + "; " + D.tables.length +
      " tables; " + (D.linux ? "a Linux layout" : D.verdict) +
      (D.truncated ? "; TRUNCATED: too many tables" : "");
  }

  /* ---- events ---- */

  $("grid").addEventListener("mouseover", (ev) => {
    const c = ev.target.closest(".cell");
    if (c) hover(c);
  });
  $("grid").addEventListener("click", (ev) => {
    const c = ev.target.closest(".cell");
    if (!c) return;
    const i = Number(c.dataset.i), s = cellVA(i);
    const inside = overlapping(ranges, s, s + LV[state.level].size).find((r) => r.kind === "m");
    const va = inside && inside.start > s ? inside.start : s;
    state.mark = [va, va + 1n];
    showWalk(va);
    if (c.zoomable) zoomIn(i); else render();
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && state.path.length) zoomOut(state.path.length - 1);
  });
  $("goto").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("addr").value.trim().replace(/^0x/i, "");
    if (!/^[0-9a-f]{1,16}$/i.test(text)) {
      $("walk").textContent = "not a hex address: " + $("addr").value;
      return;
    }
    const va = big(text);
    showWalk(va);
    zoomTo(va, va + 1n);
  });

  summary();
  regionsPanel();
  diffPanel();
  render();
  window.ptlabReady = performance.now();
  document.body.dataset.readyMs = window.ptlabReady.toFixed(1);
})();
