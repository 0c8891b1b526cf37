#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: build=normal
"""The status page's cells chart (a heat map of cell x time) in headless
Chromium (Debian's chromium + chromium-driver, python3-selenium), against
the real bmsgw and the simulator:

- live: a pack of 16 cells with cell 5 pinned high, cell 9 low and cells 1
  and 3 balancing: the chart names cell 9 the lowest and cell 5 the highest,
  their rows are drawn blue (below the median cell) and red (above), a tap
  on a cell's row names the cell and its voltage;
- 30 days of 16 cells written into the history file beforehand
  (tests/tools/bench_history.c, the history's own writing and folding, cell
  5 high and cell 9 low): the 30-day chart reaches back over the folded
  rows, names the same cells, and its load time is printed;
- the bank (no cells of its own) says so instead of a chart;
- a phone-sized window: the chart fits, no horizontal scrolling;
- no error in the browser's console.
Screenshots are kept in build/test-artifacts/."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks, Gateway, Sim, free_port, wait_until  # noqa: E402
from test_page import browser, api, history_samples  # noqa: E402

c = Checks()
ART = os.path.join(ROOT, "build", "test-artifacts")


def bench_history():
    """The history writer: of the binaries under test, else of the normal
    build (the test builds make the bench's tools there, tests/run.sh)."""
    for b in (BIN, "build"):
        p = os.path.join(ROOT, b, "bench_history")
        if os.path.exists(p):
            return p
    return os.path.join(ROOT, BIN, "bench_history")


def js(d, script, *args):
    return d.execute_script(script, *args)


def conf(gw_port, http_port, sim_port, hist):
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 3
state_file = none
[pack.house]
protocol = daly
port = tcp://127.0.0.1:%d
address = 1
poll_interval = 0.5
timeout = 0.4
retries = 0
[bank]
[http]
listen = 127.0.0.1:%d
[history]
file = %s
interval = 1
""" % (gw_port, sim_port, http_port, hist)


HEAT = "return Object.assign({}, document.querySelector('#f-heat').dataset)"
# the mean colour of a cell's row in the heat map (1-based), over its middle
PIXEL = """
const cv = document.querySelector('#c-heat'), ctx = cv.getContext('2d'), dpr = window.devicePixelRatio || 1;
const g = arguments[1], row = arguments[0] - 1;
const y = Math.round((g.top + row * g.rowH + g.rowH * 0.3) * dpr);
const x0 = Math.round((g.left + g.plotW * 0.5) * dpr), w = Math.round(g.plotW * 0.45 * dpr);
const d = ctx.getImageData(x0, y, w, 1).data;
let r = 0, gg = 0, b = 0, n = 0;
for (let i = 0; i < d.length; i += 4) { if (d[i + 3] === 0) continue; r += d[i]; gg += d[i + 1]; b += d[i + 2]; n++; }
return n ? [r / n, gg / n, b / n] : null;"""


def show(d, unit, rng):
    js(d, "const f = document.querySelector('#f-heat'); delete f.dataset.range; delete f.dataset.cells")
    js(d, "const s = document.querySelector('#h-unit'); s.value = arguments[0];"
          "s.dispatchEvent(new Event('change'));", unit)
    js(d, "document.querySelector('.ranges button[data-range=\"%s\"]').click()" % rng)
    # both the unit's answer and the range's: the last one drawn is the range's
    return wait_until(lambda: js(d, HEAT).get("range") == rng and js(d, HEAT).get("cells") is not None, 15)


def check_heat(d, what, min_cols):
    h = js(d, HEAT)
    c.eq(h.get("cells"), "16", "%s: a row a cell" % what)
    c.ok(int(h.get("columns", "0")) >= min_cols, "%s: %s columns drawn" % (what, h.get("columns")))
    c.eq((h.get("lowest"), h.get("highest")), ("9", "5"), "%s: cell 9 the lowest, cell 5 the highest" % what)
    geo = js(d, "return heat.geo")
    lo, hi, mid = js(d, PIXEL, 9, geo), js(d, PIXEL, 5, geo), js(d, PIXEL, 12, geo)
    c.ok(lo and lo[2] > lo[0] + 20, "%s: cell 9's row is blue (%s)" % (what, lo))
    c.ok(hi and hi[0] > hi[2] + 20, "%s: cell 5's row is red (%s)" % (what, hi))
    c.ok(mid and abs(mid[0] - mid[2]) < abs(lo[2] - lo[0]), "%s: a middle cell is near neutral (%s)" % (what, mid))
    return h


def main():
    if not (os.path.exists("/usr/bin/chromium") and os.path.exists("/usr/bin/chromedriver")):
        print("FAIL chromium and chromium-driver are not installed (make deps)")
        print("0 passed, 1 failed")
        return 1
    os.makedirs(ART, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="bmsgw-page-cells-")
    hist = os.path.join(tmp, "history.db")
    gen = subprocess.run([bench_history(), "--write", hist, "--days", "30", "--cells", "16"],
                         capture_output=True, timeout=600)
    c.ok(gen.returncode == 0, "30 days of 16 cells written (%s)" % (gen.stdout or gen.stderr).decode().strip())
    # 30 days up to now with folding: the live samples go on after them
    sim = Sim("daly", packs=("address=1,cells=16,sensors=2,soc=60,current=-5",))
    sim.ctl("set 1 cell 5 3390")
    sim.ctl("set 1 cell 9 3240")
    sim.ctl("set 1 balance 0x5")
    gw_port, http_port = free_port(), free_port()
    t_live = int(time.time())
    gw = Gateway(conf(gw_port, http_port, sim.port, hist), gw_port)
    d = None
    try:
        c.ok(wait_until(lambda: api(http_port)["packs"][0]["online"], 10), "the pack is online")
        d = browser()
        d.get("http://127.0.0.1:%d/" % http_port)
        c.ok(wait_until(lambda: js(d, "return document.querySelector('#h-unit').options.length") == 2, 10),
             "the history's units")
        c.ok(wait_until(lambda: history_samples(hist, "house", t_live) >= 3, 15), "three live samples a second apart")
        c.ok(show(d, "house", "24h"), "the 24 h cells chart of house is drawn")
        # live: the last columns are the simulator's pins
        h = check_heat(d, "24 h", 50)
        c.ok("cell 9" in js(d, "return document.querySelector('#heat-info').textContent"),
             "the text names the lowest cell")
        geo = js(d, "return heat.geo")
        # a tap on cell 9's row, in the last column with cell 9 (the live samples)
        r = js(d, "const r = document.querySelector('#c-heat').getBoundingClientRect(); return [r.left, r.top]")
        last, x = js(d, "const h = heat.hist, g = heat.geo; let i = h.t.length - 1;"
                        "while (i > 0 && h.cells[8][i] === null) i--;"
                        "return [h.cells[8][i], g.left + (h.t[i] - g.first) / g.span * g.plotW + g.colW / 2]")
        x = min(x, js(d, "return document.querySelector('#c-heat').clientWidth") - 1)
        js(d, "document.querySelector('#c-heat').dispatchEvent(new MouseEvent('click', {clientX: arguments[0], "
              "clientY: arguments[1], bubbles: true}))", r[0] + x, r[1] + geo["top"] + 8 * geo["rowH"] + geo["rowH"] / 2)
        pick = js(d, "return document.querySelector('#heat-pick').textContent")
        c.ok(pick.startswith("Cell 9: %s mV" % last) and "(lowest)" in pick,
             "a tap names the cell and its value: %r" % pick)
        js(d, "document.querySelector('#f-heat').scrollIntoView()")
        d.save_screenshot(os.path.join(ART, "page-cells-24h.png"))

        c.ok(show(d, "house", "30d"), "the 30-day cells chart is drawn")
        h = check_heat(d, "30 d", 300)
        print("cells chart, 30 days of 16 cells: %s ms from the request to the drawn charts, %s ms drawing the "
              "heat map (%s columns)" % (h.get("loadMs"), h.get("ms"), h.get("columns")), flush=True)
        first = js(d, "return heat.hist.t.findIndex((t, i) => heat.hist.cells[0][i] !== null)")
        step = js(d, "return heat.hist.step")
        c.ok(first is not None and 0 <= first < 20, "the chart reaches back 30 days over the folded rows "
             "(first column %s, %s s each)" % (first, step))
        js(d, "document.querySelector('#f-heat').scrollIntoView()")
        d.save_screenshot(os.path.join(ART, "page-cells-30d.png"))

        c.ok(show(d, "bank", "30d"), "the bank's chart answered")
        c.eq(js(d, HEAT).get("cells"), "0", "the bank: no cells chart")
        c.ok("No cell voltages" in js(d, "return document.querySelector('#heat-info').textContent"),
             "the bank: says there are no cells")

        d.set_window_size(390, 844)
        c.ok(show(d, "house", "7d"), "the 7-day chart on a phone-sized window")
        check_heat(d, "phone", 100)
        c.ok(js(d, "return document.documentElement.scrollWidth <= window.innerWidth + 1"),
             "phone: no horizontal scrolling")
        w = js(d, "return document.querySelector('#c-heat').getBoundingClientRect().width")
        c.ok(w <= 390 and js(d, "return heat.geo.rowH") >= 6, "phone: the chart fits (%d px wide)" % w)
        js(d, "document.querySelector('#f-heat').scrollIntoView()")
        d.save_screenshot(os.path.join(ART, "page-cells-phone.png"))
        errors = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
        c.eq(errors, [], "no errors in the browser's console")
    finally:
        if d:
            d.quit()
        gw.stop()
        sim.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        if c.failed:
            gw.dump(30)
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
