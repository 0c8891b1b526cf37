#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench: the status page's cells chart for 30 days of 16 cells.

A history file of 30 days of one pack with 16 cells up to now is written
with the history's own writing and folding (build/bench_history --write:
7 days a sample a minute, 23 days of 15-minute rows), bmsgw serves it with
the simulator as the pack, and headless Chromium loads the 30-day range
TRIALS times (argument, default 5): the time from the request to the drawn
charts (the page's own measure, #f-heat data-load-ms), the heat map's
drawing alone, and /api/history?cells=1's answer (bytes, time) fetched
directly.  Figures, not assertions."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import Gateway, Sim, free_port, wait_until  # noqa: E402
from test_page import api, browser  # noqa: E402
from test_page_cells import HEAT, bench_history, conf, js, show  # noqa: E402


def main():
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    tmp = tempfile.mkdtemp(prefix="bmsgw-bench-cells-")
    hist = os.path.join(tmp, "history.db")
    subprocess.run([bench_history(), "--write", hist, "--days", "30", "--cells", "16"],
                   check=True, capture_output=True, timeout=600)
    size = os.path.getsize(hist)
    sim = Sim("daly", packs=("address=1,cells=16",))
    gw_port, http_port = free_port(), free_port()
    gw = Gateway(conf(gw_port, http_port, sim.port, hist), gw_port)
    d = None
    try:
        wait_until(lambda: api(http_port)["packs"][0]["online"], 10)
        api_ms, nbytes = [], 0
        for _ in range(trials):
            t0 = time.monotonic()
            with urllib.request.urlopen("http://127.0.0.1:%d/api/history?unit=house&range=30d&points=400&cells=1"
                                        % http_port, timeout=30) as r:
                nbytes = len(r.read())
            api_ms.append((time.monotonic() - t0) * 1000)
        d = browser()
        d.get("http://127.0.0.1:%d/" % http_port)
        wait_until(lambda: js(d, "return document.querySelector('#h-unit').options.length") == 2, 10)
        load, draw = [], []
        for i in range(trials):
            show(d, "house", "24h" if i % 2 else "7d")
            if not show(d, "house", "30d"):
                print("cells chart: the 30-day chart was not drawn")
                return 1
            h = js(d, HEAT)
            load.append(float(h["loadMs"]))
            draw.append(float(h["ms"]))
        print("cells chart, 30 days of 16 cells (history file %d bytes): /api/history?cells=1 %d bytes in %.0f ms "
              "(median of %d); page: %.0f ms median, %.0f ms worst from the request to the drawn charts, "
              "heat map drawing %.1f ms median" % (size, nbytes, statistics.median(api_ms), trials,
                                                   statistics.median(load), max(load), statistics.median(draw)))
    finally:
        if d:
            d.quit()
        gw.stop()
        sim.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
