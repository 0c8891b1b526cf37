#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Cell health in the running daemon (issue 49, design section 26), end to
end: the real bmsgw with [health] against the bundled simulator's jbd pack
whose cells have a resistance the test knows (r_mohm=1.0, cell 5
high_r=2.5: a cell reads its voltage + current x its resistance), the
current stepped through the simulator's control port between polls.

- each cell's resistance in /api/state (cells_ir_mohm) within 25 % of the
  simulator's truth, cell 5 the highest; the pack's (ir_mohm) within 25 %
  of the cells' sum; ir_samples counts the steps;
- Prometheus bmsgw_cell_resistance_ohms{pack,cell} and
  bmsgw_pack_resistance_ohms{pack} in ohms;
- the page (headless Chromium): a health panel with one resistance bar per
  cell, cell 9's marked weak, the pack's resistance and the spreads;
- the alerts ([alerts.hook] on = weak_cell, an HTTP receiver): the weak
  cell the estimator names is sent once, "weak_cell on p1: cell 9";
- MQTT with Home Assistant discovery on a real Mosquitto: the state
  carries the figures; the diagnostics (pack IR, weak cell, spreads) and
  one "Cell NN IR (estimated)" per cell, disabled by default as the cell
  sensors are, pass the discovery checker (tests/tools/ha_discovery.py);
- the state file: a restart keeps the estimates (no step needed);
- no weak cell is named without knees; imbalance is an object;
- a cell that leads into the full knee, the empty knee and the full knee
  again (cell 9 pinned over 3.45 V while charging, under 3.00 V while
  discharging) is named weak_cell {cell 9, knees_high 2, knees_low 1} in
  /api/state and bmsgw_weak_cell{pack,cell="9"}; the spread in the full
  knee is the day's spread_full_mv;
- without [health]: cells_ir_mohm [] and the figures null, no metric.
Prints "N passed, N failed".
"""
import os
import re
import sys
import tempfile
import urllib.request

import json
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
from harness import Checks, Gateway, Sim, api_state, free_port, wait_until  # noqa: E402
from ha_discovery import check as ha_check  # noqa: E402
from mqtt_harness import Broker, Subscriber, retained  # noqa: E402
from test_alerts import POSTS, Receiver  # noqa: E402

c = Checks()
R = 1.0
R5 = 2.5
CELLS = 16
STEP = 20.0        # A either way: 40 A steps, 0.4 C of the 100 Ah pack (ir_min_step 0.1 C = 10 A)


MQTT = [None]      # the broker's port, once it runs
HOOK = [None]      # the alerts' HTTP receiver's port


def conf(gw_port, http_port, sim_port, state, health=True):
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 5
state_file = %s
[pack.p1]
protocol = jbd
port = tcp://127.0.0.1:%d
poll_interval = 0.4
timeout = 0.5
retries = 0
[soc]
capacity = 100
[http]
listen = 127.0.0.1:%d
[history]
file = %s-history.db
%s%s%s""" % (gw_port, state, sim_port, http_port, state, "[health]\nir_min_step = 0.1\n" if health else "",
           "[mqtt]\nhost = 127.0.0.1\nport = %d\nclient_id = hl\ntopic_prefix = t\n" % MQTT[0] if MQTT[0] else "",
           "[alerts.hook]\nurl = http://127.0.0.1:%d/health\non = weak_cell\n" % HOOK[0] if HOOK[0] else "")


def fetch(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
        return r.read().decode()


def pack(http):
    packs = api_state(http).get("packs") or []
    return packs[0] if packs else {}


def step_current(env, amps):
    """Set the simulator's current, then wait until the daemon has polled it
    twice (the step lies between two of its polls)."""
    env["sim"].ctl("set 1 current %g" % amps)
    p0 = wait_until(lambda: (lambda p: p if p.get("current") == amps else None)(pack(env["http"])), 10)
    if not p0:
        return False
    n = p0.get("good_polls", 0)
    return wait_until(lambda: pack(env["http"]).get("good_polls", 0) >= n + 1, 10)


def truth(n):
    return R5 if n == 5 else R


def check_estimates(env):
    http = env["http"]
    for k in range(12):
        if not step_current(env, STEP if k % 2 == 0 else -STEP):
            c.ok(False, "the daemon polls the stepped current (step %d)" % k)
            return
    p = pack(http)
    ir = p.get("cells_ir_mohm") or []
    c.eq(len(ir), CELLS, "cells_ir_mohm has every cell")
    bad = [(i + 1, v) for i, v in enumerate(ir) if v is None or abs(v - truth(i + 1)) > 0.25 * truth(i + 1)]
    c.ok(len(ir) == CELLS and not bad, "each cell's resistance within 25 %% of the simulator's (off: %r; all %r)" %
         (bad, ir))
    c.ok(len(ir) == CELLS and None not in ir and max(range(CELLS), key=lambda i: ir[i]) == 4,
         "cell 5 (2.5 mOhm) reads the highest")
    want = R * (CELLS - 1) + R5
    v = p.get("ir_mohm")
    c.ok(v is not None and abs(v - want) <= 0.25 * want, "the pack's resistance %r mOhm within 25 %% of %.1f" %
         (v, want))
    c.ok((p.get("ir_samples") or 0) >= 10, "ir_samples counts the steps (%r)" % p.get("ir_samples"))
    c.ok(p.get("weak_cell", 0) is None, "no weak cell named without knees (%r)" % p.get("weak_cell"))
    im = p.get("imbalance")
    c.ok(isinstance(im, dict) and "spread_full_mv" in im and "spread_rest_trend_mv_day" in im,
         "imbalance: the spreads and their trends (%r)" % im)
    m = fetch(http, "/metrics")
    g = re.search(r'^bmsgw_cell_resistance_ohms\{pack="p1",cell="5"\} (\S+)$', m, re.M)
    c.ok(g and abs(float(g.group(1)) - R5 / 1000) <= 0.25 * R5 / 1000,
         "Prometheus bmsgw_cell_resistance_ohms of cell 5 in ohms (%r)" % (g and g.group(1)))
    g = re.search(r'^bmsgw_pack_resistance_ohms\{pack="p1"\} (\S+)$', m, re.M)
    c.ok(g and abs(float(g.group(1)) - want / 1000) <= 0.25 * want / 1000,
         "Prometheus bmsgw_pack_resistance_ohms in ohms (%r)" % (g and g.group(1)))
    return p


def polls(env, n):
    """Wait until the daemon has made n more good polls."""
    p0 = pack(env["http"]).get("good_polls", 0)
    return wait_until(lambda: pack(env["http"]).get("good_polls", 0) >= p0 + n, 10)


def knee(env, amps, mv):
    """Cell 9 leads into a knee (pinned at mv while amps flow), then back."""
    env["sim"].ctl("set 1 current %g" % amps)
    polls(env, 2)
    env["sim"].ctl("set 1 cell 9 %d" % mv)
    polls(env, 2)
    env["sim"].ctl("set 1 cell 9 3300")
    polls(env, 2)


def check_weak(env):
    http = env["http"]
    knee(env, STEP, 3520)
    p = pack(http)
    c.ok(p.get("weak_cell") is None and (p.get("imbalance") or {}).get("knees") == 1,
         "one knee names no weak cell (%r, %r)" % (p.get("weak_cell"), p.get("imbalance")))
    knee(env, -STEP, 2950)
    knee(env, STEP, 3520)
    env["sim"].ctl("set 1 cell 9 auto")
    p = pack(http)
    w = p.get("weak_cell") or {}
    c.ok(w.get("cell") == 9 and w.get("knees_high") == 2 and w.get("knees_low") == 1,
         "three knees led by cell 9: weak_cell names it (%r)" % w)
    c.ok("ir_rank" in w and "capacity_deficit_pct" in w, "weak_cell carries its ir_rank and deficit (%r)" % w)
    sf = (p.get("imbalance") or {}).get("spread_full_mv")
    c.ok(sf is not None and 150 <= sf <= 260, "the spread in the full knee is the day's spread_full_mv (%r)" % sf)
    m = fetch(http, "/metrics")
    c.ok('bmsgw_weak_cell{pack="p1",cell="9"} 1' in m, "Prometheus bmsgw_weak_cell names cell 9")
    got = wait_until(lambda: [b for b in POSTS.bodies() if "weak_cell on p1" in b], 15) or []
    c.ok(len(got) == 1 and "cell 9" in got[0], "the alert: weak_cell on p1 sent once, cell 9 (%r)" % got)


def check_page(env):
    from test_page import browser
    d = browser()
    try:
        d.get("http://127.0.0.1:%d/" % env["http"])
        q = "[data-unit='p1'] [data-field='%s']"
        txt = lambda f: d.execute_script("const e = document.querySelector(`%s`); return e ? e.textContent : null;"
                                         % (q % f))
        w = wait_until(lambda: (lambda t: t if t and "#9" in t else None)(txt("weak_cell")), 15)
        c.ok(w is not None, "the page names the weak cell (%r)" % w)
        bars = d.execute_script("return Array.from(document.querySelectorAll(`%s .cell`)).map(e => "
                                "[e.dataset.cell, e.className, e.dataset.mohm]);" % (q % "cells_ir"))
        c.ok(len(bars) == CELLS and [b[0] for b in bars if "weak" in b[1]] == ["9"],
             "the page: a resistance bar per cell, cell 9's marked weak (%r)" % bars)
        c.ok(len(bars) == CELLS and abs(float(bars[4][2]) - R5) <= 0.25 * R5, "the page: cell 5's bar is its estimate")
        ir = txt("ir") or ""
        sp = txt("spreads") or ""
        c.ok("mΩ" in ir and "steps" in ir and "Spread at full" in sp and "mV" in sp,
             "the page: the pack's resistance and the spreads (%r, %r)" % (ir, sp))
        errs = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
        c.ok(not errs, "no error in the browser's console (%r)" % errs[:3])
    finally:
        d.quit()


def check_mqtt(env):
    sub = env["sub"]
    cfg = lambda k: (lambda m: json.loads(m.text()) if m and m.payload else None)(
        sub.latest("homeassistant/sensor/bmsgw_hl_p1/%s/config" % k))
    got = {k: wait_until(lambda k=k: cfg(k), 10) for k in ("ir", "weak_cell", "spread_full", "cell_ir_05")}
    c.ok(all(got.values()), "Home Assistant: pack IR, weak cell, spread and per-cell IR entities (%r)" %
         [k for k, v in got.items() if not v])
    ir, w, cell = got["ir"] or {}, got["weak_cell"] or {}, got["cell_ir_05"] or {}
    c.ok(ir.get("entity_category") == "diagnostic" and ir.get("unit_of_measurement") == "mΩ" and
         "ir_mohm" in ir.get("value_template", ""), "the pack's IR: a diagnostic in mΩ (%r)" % ir)
    c.ok("weak_cell.cell" in w.get("value_template", ""), "the weak cell from weak_cell.cell")
    c.ok(cell.get("enabled_by_default") is False and "cells_ir_mohm[4]" in cell.get("value_template", "") and
         cell.get("name") == "Cell 05 IR (estimated)", "a cell's IR: disabled by default as the cell sensors (%r)" %
         cell)
    m = wait_until(lambda: (lambda x: x if x and (json.loads(x.text()).get("weak_cell") or {}).get("cell") == 9
                            else None)(sub.latest("t/p1/state")), 10)
    st = json.loads(m.text()) if m else {}
    c.ok(len(st.get("cells_ir_mohm") or []) == CELLS and "imbalance" in st and "ir_30d_mohm" in st,
         "MQTT state carries the figures (weak cell %r)" % st.get("weak_cell"))
    configs = {t: x.text() for t, x in retained(MQTT[0], "homeassistant/#").items() if x.payload}
    c.eq(ha_check(configs), [], "the discovery configs pass Home Assistant's rules")


def check_restart(env, gw, before):
    gw.stop()
    gw = Gateway(conf(env["gw"], env["http"], env["sim"].port, env["state"]), env["gw"])
    p = wait_until(lambda: (lambda x: x if x.get("ok") else None)(pack(env["http"])), 10) or {}
    c.eq(p.get("ir_samples"), before.get("ir_samples"), "a restart keeps the samples (state file)")
    ir = p.get("cells_ir_mohm") or []
    c.ok(len(ir) == CELLS and None not in ir and abs(ir[4] - R5) <= 0.25 * R5,
         "a restart keeps each cell's estimate (%r)" % ir)
    c.eq((p.get("weak_cell") or {}).get("cell"), 9, "a restart keeps the weak cell (its knees)")
    st = open(env["state"]).read()
    c.ok(re.search(r"^hir p1 p:\d+:\d+:", st, re.M) is not None, "the state file holds the resistance windows")
    c.ok(re.search(r"^hknee p1 3/\d+/\d+ 9:2:1:", st, re.M) is not None, "the state file holds the knees")
    c.ok(re.search(r"^hday p1 \d+:\d+:", st, re.M) is not None, "the state file holds the day")
    return gw


def check_off(env):
    gw = Gateway(conf(env["gw"], env["http"], env["sim"].port, env["state"] + "-off", health=False), env["gw"])
    try:
        p = wait_until(lambda: (lambda x: x if x.get("ok") else None)(pack(env["http"])), 10) or {}
        c.ok(p.get("cells_ir_mohm") == [] and p.get("ir_mohm") is None and p.get("imbalance") is None,
             "without [health]: no figures (%r, %r)" % (p.get("cells_ir_mohm"), p.get("ir_mohm")))
        c.ok("bmsgw_cell_resistance_ohms" not in fetch(env["http"], "/metrics"), "without [health]: no metric")
    finally:
        gw.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-health-")
    broker = Broker()
    MQTT[0] = broker.port
    HOOK[0] = free_port()
    recv = Receiver(HOOK[0])
    sim = Sim("jbd", packs=("cells=16,current=0,soc=50,r_mohm=%g,high_r=5:%g" % (R, R5),), extra=())
    st = sim.state()
    env = {"gw": free_port(), "http": free_port(), "sim": sim, "state": os.path.join(tmp, "state"),
           "sub": Subscriber(broker.port, topics=("t/#", "homeassistant/#"))}
    sp = (st.get("packs") or [st])[0] if isinstance(st, dict) else {}
    c.ok(sp.get("cells_r_mohm", [None] * 5)[4] == R5, "the simulator states its cells' resistance")
    gw = None
    try:
        gw = Gateway(conf(env["gw"], env["http"], sim.port, env["state"]), env["gw"])
        before = check_estimates(env)
        if before:
            check_weak(env)
            check_page(env)
            check_mqtt(env)
            before = pack(env["http"])
            gw = check_restart(env, gw, before)
        gw.stop()
        gw = None
        check_off(env)
    finally:
        if gw:
            gw.stop()
        env["sub"].close()
        sim.stop()
        broker.cleanup()
        recv.stop()
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
