#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The strings of a bank of packs in series ([bank] strings = a+b, c+d) in
every output, end to end: the real bmsgw against four simulated Daly packs.

- /metrics (prometheus_client's parser): each string's membership, online
  and stale flags, voltage (the members' sum), current (their mean), SOC
  (the weakest's), current deviation and its flag, cell extremes and its
  own limits (CVL the members' sum, CCL / DCL the smallest member's), all
  from the simulator's values and the packs' own gauges; a member whose
  current departs is flagged; a silent member makes its string stale, its
  values gone and its limits fail-safe while the other string goes on;
- MQTT and Home Assistant: the bank's state carries `strings`; each string
  has its sensors on the bank's device with stable unique_ids, passing
  Home Assistant's rules with the templates tried on the real state; a
  retained config of a string no longer configured is cleared at a connect
  and at a reload that shortens [bank] strings, its limit sensors at a
  reload without [limits];
- SunSpec (pymodbus, the points placed by the SunSpec Alliance's model
  definitions in tests/fixtures/sunspec/): the bank's model 803 has one
  repeating string per string of packs in series, its members its modules:
  StrNMod, SOC, current, the cell extremes with the member they are in,
  the hottest and coldest sensor with theirs, its status; 803's string
  voltage extremes and 802's cell extremes name the string and member; a
  silent member leaves its string with the lost link alone;
- the status page in headless Chromium: the Strings panel under the bank
  shows each string's members, voltage, current, SOC, weakest member,
  current deviation and limits as /api/state has them, a silent member's
  string as stale with the member marked, and no console error;
- history: each string sampled as a unit of its own named as the outputs
  name it (voltage, current, SOC, its cells and sensors, its own CCL / DCL
  as the packs' and the bank's are now too), read through /api/history,
  /api/history.csv and --history-csv; a database of the previous schema
  gains the two columns when opened."""
import csv
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
from harness import BIN, ROOT, Checks, Gateway, Sim, free_port, wait_until  # noqa: E402
from ha_discovery import check as ha_check  # noqa: E402
from mqtt_harness import Broker, Subscriber, pub, retained  # noqa: E402

from prometheus_client.parser import text_string_to_metric_families  # noqa: E402
from pymodbus.client import ModbusTcpClient  # noqa: E402

c = Checks()
PACKS = ("a", "b", "c", "d")
STRINGS = {"string1": ("a", "b"), "string2": ("c", "d")}
SS = 40000
NI16, NI_S16, NI32 = 0xFFFF, 0x8000, 0xFFFFFFFF


def conf(gw_port, http_port, sim_port, extra="", hist="none"):
    text = "[gateway]\nlisten = 127.0.0.1:%d\nstale_after = 4\nstate_file = none\n" % gw_port
    for i, n in enumerate(PACKS):
        text += ("[pack.%s]\nprotocol = daly\nport = tcp://127.0.0.1:%d\naddress = %d\nunit_id = %d\n"
                 "poll_interval = 0.5\ntimeout = 0.5\nretries = 0\n" % (n, sim_port, i + 1, i + 1))
    text += ("[bank]\nunit_id = 100\nstrings = a+b, c+d\nmax_current_deviation = 3\n[limits]\n"
             "[sunspec]\nbase = %d\n" % SS)
    text += "[http]\nlisten = 127.0.0.1:%d\n[history]\nfile = %s\ninterval = 1\n" % (http_port, hist)
    return text + extra


def http_get(port, path):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, body


def metrics(port):
    st, body = http_get(port, "/metrics")
    fams = {}
    for f in text_string_to_metric_families(body.decode()):
        for s in f.samples:
            fams.setdefault(s.name, []).append((s.labels, s.value))
    return fams


def one(fams, name, **labels):
    for lab, v in fams.get(name, []):
        if all(lab.get(k) == val for k, val in labels.items()):
            return v
    return None


def api_state(port):
    st, body = http_get(port, "/api/state")
    return json.loads(body) if st == 200 else None


def sim_packs(sim):
    return {PACKS[p["address"] - 1]: p for p in sim.state()["packs"]}


def check_metrics_values(fams, sp, label):
    """Each string's gauges against the simulator's packs and the packs' own gauges."""
    for s, members in STRINGS.items():
        ps = [sp[m] for m in members]
        c.near(one(fams, "bmsgw_string_voltage_volts", string=s), sum(p["voltage"] for p in ps), 0.02,
               "%s: %s voltage = the members' sum" % (label, s))
        c.near(one(fams, "bmsgw_string_current_amperes", string=s), sum(p["current"] for p in ps) / len(ps), 0.02,
               "%s: %s current = the members' mean" % (label, s))
        c.near(one(fams, "bmsgw_string_soc_percent", string=s), min(p["soc"] for p in ps), 0.06,
               "%s: %s SOC = the weakest member's" % (label, s))
        c.near(one(fams, "bmsgw_string_cell_min_volts", string=s), min(min(p["cells_mv"]) for p in ps) / 1000, 1e-6,
               "%s: %s lowest cell of every member" % (label, s))
        c.near(one(fams, "bmsgw_string_cell_max_volts", string=s), max(max(p["cells_mv"]) for p in ps) / 1000, 1e-6,
               "%s: %s highest cell" % (label, s))
        lim = {k: [one(fams, "bmsgw_%s" % k, pack=m) for m in members] for k in
               ("charge_voltage_limit_volts", "charge_current_limit_amperes", "discharge_current_limit_amperes",
                "discharge_voltage_limit_volts")}
        c.near(one(fams, "bmsgw_string_charge_voltage_limit_volts", string=s), sum(lim["charge_voltage_limit_volts"]),
               0.011, "%s: %s CVL = the members' sum" % (label, s))
        c.near(one(fams, "bmsgw_string_discharge_voltage_limit_volts", string=s),
               sum(lim["discharge_voltage_limit_volts"]), 0.011, "%s: %s DVL = the members' sum" % (label, s))
        c.near(one(fams, "bmsgw_string_charge_current_limit_amperes", string=s),
               min(lim["charge_current_limit_amperes"]), 0.011, "%s: %s CCL = the smallest member's" % (label, s))
        c.near(one(fams, "bmsgw_string_discharge_current_limit_amperes", string=s),
               min(lim["discharge_current_limit_amperes"]), 0.011, "%s: %s DCL = the smallest member's" % (label, s))


def test_metrics(sim, gw, http_port):
    print("== /metrics: the strings")
    ok = wait_until(lambda: one(metrics(http_port), "bmsgw_string_online", string="string2") == 1, 20)
    c.ok(ok, "both strings online")
    fams = metrics(http_port)
    members = sorted((lab["string"], lab["position"], lab["pack"]) for lab, v in fams.get("bmsgw_string_member", [])
                     if v == 1)
    c.eq(members, [("string1", "1", "a"), ("string1", "2", "b"), ("string2", "1", "c"), ("string2", "2", "d")],
         "bmsgw_string_member: each string's packs in series order")
    for s in STRINGS:
        c.eq(one(fams, "bmsgw_string_online", string=s), 1.0, "%s online" % s)
        c.eq(one(fams, "bmsgw_string_stale", string=s), 0.0, "%s not stale" % s)
        c.eq(one(fams, "bmsgw_string_members_online", string=s), 2.0, "%s: 2 members online" % s)
        c.eq(one(fams, "bmsgw_string_max_current_deviation_amperes", string=s), 3.0,
             "%s: the configured deviation threshold" % s)
        c.eq(one(fams, "bmsgw_string_current_deviation", string=s), 0.0, "%s: no current deviation" % s)
        c.eq(one(fams, "bmsgw_string_charge_allowed", string=s), 1.0, "%s: charge allowed" % s)
        c.eq(one(fams, "bmsgw_string_failsafe", string=s), 0.0, "%s: limits not fail-safe" % s)
    check_metrics_values(fams, sim_packs(sim), "metrics")
    st = api_state(http_port)
    js = {s["name"]: s for s in st["bank"]["strings"]}
    for s in STRINGS:
        c.near(one(fams, "bmsgw_string_charge_current_limit_amperes", string=s), js[s]["limits"]["ccl_a"], 0.011,
               "%s: metrics CCL = /api/state's" % s)

    # a member whose current departs: flagged
    sim.ctl("set 2 current 12")
    want = (12 - 5) / 2
    ok = wait_until(lambda: one(metrics(http_port), "bmsgw_string_current_deviation", string="string1") == 1, 10)
    fams = metrics(http_port)
    c.ok(ok, "a member 7 A off the other: string1's current deviation flag (threshold 3 A)")
    c.near(one(fams, "bmsgw_string_current_deviation_amperes", string="string1"), want, 0.06,
           "string1: the deviation in A (the departure from the mean)")
    # (waited for: on a loaded machine a poll of c or d may time out, and a
    # string whose member is not fresh shows no deviation for that moment)
    c.ok(wait_until(lambda: one(metrics(http_port), "bmsgw_string_current_deviation", string="string2") == 0, 10),
         "string2 not flagged")
    sim.ctl("set 2 current 5")
    c.ok(wait_until(lambda: one(metrics(http_port), "bmsgw_string_current_deviation", string="string1") == 0, 10),
         "the flag clears when the member agrees again")

    # a silent member: its string stale, no values, limits fail-safe; the other string goes on
    sim.ctl("fault 3 silent")
    ok = wait_until(lambda: one(metrics(http_port), "bmsgw_string_stale", string="string2") == 1, 15)
    c.ok(ok, "pack c silent: string2 stale")
    # the limits step once a second (model/charge.c): fail-safe within that
    t0 = time.monotonic()
    ok = wait_until(lambda: one(metrics(http_port), "bmsgw_string_failsafe", string="string2") == 1, 5)
    c.ok(ok, "... and its limits fail-safe (%.1f s later)" % (time.monotonic() - t0))
    fams = metrics(http_port)
    c.eq(one(fams, "bmsgw_string_online", string="string2"), 0.0, "string2 not online")
    c.eq(one(fams, "bmsgw_string_members_online", string="string2"), 1.0, "string2: 1 member online")
    c.eq(one(fams, "bmsgw_string_voltage_volts", string="string2"), None, "string2: no voltage shown as current")
    c.eq(one(fams, "bmsgw_string_soc_percent", string="string2"), None, "string2: no SOC")
    c.eq(one(fams, "bmsgw_string_charge_current_limit_amperes", string="string2"), 0.0, "string2: CCL 0 (fail-safe)")
    c.eq(one(fams, "bmsgw_string_discharge_current_limit_amperes", string="string2"), 0.0, "string2: DCL 0")
    c.eq(one(fams, "bmsgw_string_failsafe", string="string2"), 1.0, "string2: fail-safe flag")
    c.eq(one(fams, "bmsgw_string_charge_allowed", string="string2"), 0.0, "string2: charge not allowed")
    c.eq(one(fams, "bmsgw_string_online", string="string1"), 1.0, "string1 still online")
    c.ok(one(fams, "bmsgw_string_voltage_volts", string="string1") is not None, "string1 still has its voltage")
    sim.ctl("fault 3 none")
    c.ok(wait_until(lambda: one(metrics(http_port), "bmsgw_string_online", string="string2") == 1, 15),
         "string2 online again when c answers")


# ------------------------------------------------------------------ SunSpec

def load_model(mid):
    """{(in the string group, name): (offset, size, type, sf)}, the string group's size."""
    pts, ssize = {}, 0
    with open(os.path.join(ROOT, "tests", "fixtures", "sunspec", "model_%d.tsv" % mid)) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            g, name, off, size, typ, sf = line.split("\t")[:6]
            pts[(g == "string", name)] = (int(off), int(size), typ, None if sf == "-" else sf)
            if g == "string":
                ssize = max(ssize, int(off) + int(size))
    return pts, ssize


MODELS = {m: load_model(m) for m in (1, 802, 803)}


def fixed_len(mid):
    return max(o + n for (st, _), (o, n, _, _) in MODELS[mid][0].items() if not st)


class Model:
    def __init__(self, mid, regs):
        self.mid, self.r = mid, regs
        self.pts, self.ssize = MODELS[mid]

    def raw(self, name, string=None):
        off, size, typ, _ = self.pts[(string is not None, name)]
        if string is not None:
            off += fixed_len(self.mid) + self.ssize * (string - 1)
        v = 0
        for w in self.r[off:off + size]:
            v = v << 16 | w
        if typ in ("int16", "sunssf") and v >= 0x8000:
            v -= 0x10000
        return v

    def val(self, name, string=None):
        _, _, typ, sf = self.pts[(string is not None, name)]
        v = self.raw(name, string)
        if (typ == "int16" and v == -0x8000) or (typ in ("uint16", "enum16") and v == NI16) or \
                (typ in ("uint32", "bitfield32") and v == NI32):
            return None
        return v * 10.0 ** self.raw(sf) if sf else v


def read(cl, unit, addr, count):
    out = []
    while count > 0:
        n = min(count, 125)
        rr = cl.read_holding_registers(addr, n, slave=unit)
        if rr.isError():
            return None
        out += rr.registers
        addr, count = addr + n, count - n
    return out


def walk(cl, unit):
    """The models of unit's block by id, walked from "SunS" as a SunSpec reader does."""
    if read(cl, unit, SS, 2) != [0x5375, 0x6E53]:
        return None
    addr, models = SS + 2, {}
    for _ in range(8):
        hdr = read(cl, unit, addr, 2)
        if not hdr or hdr[0] == 0xFFFF:
            break
        models[hdr[0]] = Model(hdr[0], read(cl, unit, addr, hdr[1] + 2))
        addr += hdr[1] + 2
    return models


def member_of(sp, members, key, pick):
    """(value, member 1-based) of the extreme `pick` (max / min) of key over
    the members: on a tie the first member that has it."""
    v = pick(x for n in members for x in sp[n][key])
    return v, next(m + 1 for m, n in enumerate(members) if v in sp[n][key])


def test_sunspec(sim, gw_port):
    print("== SunSpec: 803's strings are the strings of packs in series")
    cl = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    cl.connect()
    try:
        sim.ctl("set 2 temp 1 31")  # string1's hottest sensor: in its second member
        sim.ctl("set 3 cell 5 3150")  # string2's lowest cell: its first member's cell 5
        sim.ctl("set 4 cell 7 3450")  # string2's highest: its second member's cell 7
        ok = wait_until(lambda: (lambda m: m and 803 in m and m[803].raw("StrCellVMin", 2) == 3150 and
                                 m[803].raw("StrCellVMax", 2) == 3450 and m[803].val("StrModTmpMax", 1) == 31)(
            walk(cl, 100)), 10)
        c.ok(ok, "the simulator's changes reach the block")
        # the pack voltages follow the cells; a poll may have read them before the change
        volts = lambda sp: [sum(sp[n]["voltage"] for n in mem) for mem in STRINGS.values()]  # noqa: E731
        wait_until(lambda: abs(walk(cl, 100)[803].val("StrVMax") - max(volts(sim_packs(sim)))) < 0.06, 5)
        m = walk(cl, 100)
        sp = sim_packs(sim)
        s = m[803]
        c.eq([s.raw("NStr"), s.raw("L")], [2, fixed_len(803) - 2 + 2 * s.ssize], "803: NStr 2 (strings, not packs), L")
        c.eq(s.raw("NStrCon"), 2, "803: both strings connected")
        for k, (name, members) in enumerate(STRINGS.items(), 1):
            ps = [sp[n] for n in members]
            c.eq(s.raw("StrNMod", k), 2, "%s: StrNMod 2 (its packs are its modules)" % name)
            c.near(s.val("StrSoC", k), min(p["soc"] for p in ps), 0.05, "%s: StrSoC the weakest member's" % name)
            c.near(s.val("StrA", k), -sum(p["current"] for p in ps) / 2, 0.05,
                   "%s: StrA the members' mean (+ = discharging)" % name)
            hi, lo = member_of(sp, members, "cells_mv", max), member_of(sp, members, "cells_mv", min)
            c.eq([s.raw("StrCellVMax", k), s.raw("StrCellVMaxMod", k), s.raw("StrCellVMin", k),
                  s.raw("StrCellVMinMod", k)], [hi[0], hi[1], lo[0], lo[1]],
                 "%s: cell extremes (mV) and the member they are in" % name)
            allc = [v for p in ps for v in p["cells_mv"]]
            c.near(s.val("StrCellVAvg", k), sum(allc) / len(allc) / 1000, 0.0011, "%s: StrCellVAvg" % name)
            th = member_of(sp, members, "temps_c", max)
            c.eq([s.val("StrModTmpMax", k), s.raw("StrModTmpMaxMod", k)], [th[0], th[1]],
                 "%s: the hottest sensor and its member" % name)
            tl = member_of(sp, members, "temps_c", min)
            c.eq([s.val("StrModTmpMin", k), s.raw("StrModTmpMinMod", k)], [tl[0], tl[1]],
                 "%s: the coldest sensor and its member" % name)
            c.eq([s.raw("StrSt", k) & 3, s.raw("StrEvt1", k)], [3, 0],
                 "%s: StrSt enabled and connected, no event" % name)
        volts = volts(sp)
        c.near(s.val("StrVMax"), max(volts), 0.06, "803 StrVMax: the highest string voltage (the members' sum)")
        c.eq(s.raw("StrVMaxStr"), volts.index(max(volts)) + 1, "803 StrVMaxStr")
        b = m[802]
        c.eq([b.raw("CellVMin"), b.raw("CellVMinStr"), b.raw("CellVMinMod")], [3150, 2, 1],
             "802: the bank's lowest cell, its string and member")
        c.eq([b.raw("CellVMax"), b.raw("CellVMaxStr"), b.raw("CellVMaxMod")], [3450, 2, 2],
             "802: the bank's highest cell, its string and member")

        sim.ctl("fault 1 silent")
        ok = wait_until(lambda: (lambda m: m and m[803].raw("StrEvt1", 1) == 1)(walk(cl, 100)), 15)
        m = walk(cl, 100)
        c.ok(ok, "pack a silent: string1's StrEvt1 is COMMUNICATION_ERROR alone")
        c.eq([m[803].val("StrSoC", 1), m[803].val("StrA", 1), m[803].val("StrCellVMax", 1)], [None, None, None],
             "string1: no value of the past (not implemented)")
        c.ok(m[803].val("StrSoC", 2) is not None, "string2 still has its values")
        c.eq(m[803].raw("NStrCon"), 1, "803: one string connected")
        sim.ctl("fault 1 none")
        c.ok(wait_until(lambda: (lambda m: m and m[803].raw("StrEvt1", 1) == 0)(walk(cl, 100)), 15),
             "string1 back")
        for a, cmd in ((2, "temp 1 auto"), (3, "cell 5 auto"), (4, "cell 7 auto")):
            sim.ctl("set %d %s" % (a, cmd))
    finally:
        cl.close()


# ------------------------------------------------------------------ the page

def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", "--window-size=1280,1600",
              "--user-data-dir=" + tempfile.mkdtemp(prefix="bmsgw-chromium-")):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def row(d, name, field):
    return d.execute_script("const e = document.querySelector(`#strings tr[data-string='%s'] [data-field='%s']`);"
                            " return e ? e.textContent : null;" % (name, field))


def test_page(sim, http_port):
    print("== the status page: the Strings panel")
    if not (os.path.exists("/usr/bin/chromium") and os.path.exists("/usr/bin/chromedriver")):
        c.ok(False, "chromium and chromium-driver are installed (make deps)")
        return
    wait_until(lambda: all(s["online"] for s in api_state(http_port)["bank"]["strings"]), 15)
    d = browser()
    try:
        d.get("http://127.0.0.1:%d/" % http_port)
        c.ok(wait_until(lambda: d.execute_script("return !document.querySelector('#strings').hidden"), 10),
             "the Strings panel is shown")
        c.ok(d.execute_script("const u = document.querySelector('#units'), s = document.querySelector('#strings');"
                              " return u.nextElementSibling === s;"), "... right under the packs and the bank")
        c.eq(d.execute_script("return Array.from(document.querySelectorAll('#strings tbody tr')).map("
                              "r => r.dataset.string)"), ["string1", "string2"], "one row per string, in order")

        def shown_equal():
            st = api_state(http_port)
            for s in st["bank"]["strings"]:
                if not s["online"]:
                    return False
                want = {"members": " + ".join(m["name"] for m in s["members"]), "voltage": "%.2f V" % s["voltage"],
                        "current": "%.2f A" % s["current"], "soc": "%.1f %%" % s["soc"], "weakest": s["weakest"]}
                if any(row(d, s["name"], k) != v for k, v in want.items()):
                    return False
            return True
        c.ok(wait_until(shown_equal, 10), "members, voltage, current, SOC and weakest member as /api/state has them "
             "(%s)" % [row(d, "string1", k) for k in ("members", "voltage", "current", "soc", "weakest")])
        st = api_state(http_port)["bank"]["strings"][0]
        lim = row(d, "string1", "limits") or ""
        c.ok("CCL %.1f A" % st["limits"]["ccl_a"] in lim and "CVL %.1f V" % st["limits"]["cvl_v"] in lim,
             "string1's own limits shown (%r)" % lim)
        c.ok((row(d, "string1", "current_deviation") or "").endswith("of 3.0 A"),
             "the current deviation and its threshold (%r)" % row(d, "string1", "current_deviation"))
        opts = d.execute_script("return Array.from(document.querySelectorAll('#h-unit option')).map(o => o.value)")
        c.eq(opts[:3], ["bank", "string1", "string2"], "the history offers the strings after the bank")
        d.execute_script("const s = document.querySelector('#h-unit'); s.value = 'string1';"
                         " s.dispatchEvent(new Event('change'));")
        labels = wait_until(lambda: d.execute_script(
            "const c = window.Chart && Chart.getChart(document.getElementById('c-vi'));"
            " const l = c ? c.data.datasets.map(x => x.label) : []; return l.includes('CCL A') ? l : null;"), 10)
        c.eq(labels, ["V", "A", "CCL A", "\u2212DCL A"], "string1's history chart: voltage, current and its limits")
        sim.ctl("fault 2 silent")
        ok = wait_until(lambda: d.execute_script(
            "const r = document.querySelector(`#strings tr[data-string='string1']`); return r && r.dataset.state;")
            == "stale", 15)
        c.ok(ok, "pack b silent: string1 shown stale")
        c.eq(row(d, "string1", "state"), "stale: 1 of 2 members fresh", "... with its members' freshness")
        c.eq(row(d, "string1", "voltage"), "–", "... and no voltage shown as current")
        c.eq(d.execute_script("return document.querySelector(`#strings tr[data-string='string1'] "
                              "[data-member='b']`).className"), "off", "the silent member marked")
        c.ok("fail-safe" in (wait_until(lambda: "fail-safe" in (row(d, "string1", "limits") or "") and
                                        row(d, "string1", "limits"), 5) or ""),
             "its limits shown fail-safe (%r)" % row(d, "string1", "limits"))
        c.eq(row(d, "string2", "state"), "online", "string2 still online")
        os.makedirs(os.path.join(ROOT, "build", "test-artifacts"), exist_ok=True)
        d.save_screenshot(os.path.join(ROOT, "build", "test-artifacts", "status-page-strings.png"))
        sim.ctl("fault 2 none")
        errors = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
        c.eq(errors, [], "no error in the browser's console")
    finally:
        d.quit()


# ------------------------------------------------------------------ history

OLD_TS = int(time.time()) // 60 * 60 - 7200  # within the retention of full rows


def gw_conf_text(gw):
    with open(gw.conf) as f:
        return f.read()


def v2_database(path):
    """A history file as bmsgw wrote it before the current limits (schema 2)."""
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE units(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
        "CREATE TABLE samples(unit INTEGER NOT NULL, ts INTEGER NOT NULL, span INTEGER NOT NULL DEFAULT 0,"
        " n INTEGER NOT NULL DEFAULT 1, online INTEGER NOT NULL, soc REAL, voltage REAL, current REAL, power REAL,"
        " cell_min REAL, cell_max REAL, cell_delta REAL, temp_min REAL, temp_max REAL, mos_temp REAL,"
        " alarms INTEGER, soc_bms REAL, soc_counted REAL, PRIMARY KEY (unit, ts, span)) WITHOUT ROWID;"
        "INSERT INTO units VALUES (1, 'a');"
        "INSERT INTO samples(unit, ts, online, soc, voltage) VALUES (1, %d, 1, 50, 52.4);"
        "PRAGMA user_version = 2;" % OLD_TS)
    con.commit()
    con.close()


def test_history(sim, gw, http_port, hist):
    print("== history: each string a unit of its own")
    bad = gw_conf_text(gw).replace("[pack.b]", "[pack.string2]").replace("a+b,", "a+string2,")
    path = os.path.join(os.path.dirname(hist), "collide.conf")
    with open(path, "w") as f:
        f.write(bad)
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", path, "--check"], capture_output=True, timeout=30)
    c.ok(out.returncode != 0 and b"[pack.string2] has the name the history gives the bank's string 2" in out.stderr,
         "--check refuses a pack named as a string is (%s)" % out.stderr.decode().strip()[-160:])
    con = sqlite3.connect("file:%s?mode=ro" % hist, uri=True, timeout=5)
    c.eq(con.execute("PRAGMA user_version").fetchone()[0], 4, "the schema 2 file is now schema 4")
    cols = [r[1] for r in con.execute("PRAGMA table_info(samples)")]
    c.ok(cols[-5:] == ["ccl", "dcl", "cells", "balance", "soc_band"],
         "... with the ccl, dcl, cells, balance and soc_band columns (%s)" % cols[-5:])
    c.eq(con.execute("SELECT soc, voltage, ccl FROM samples WHERE ts = %d" % OLD_TS).fetchone(), (50.0, 52.4, None),
         "... and its old rows kept, without limits")
    con.close()

    def rows(unit):
        st, body = http_get(http_port, "/api/history.csv?unit=%s&from=%d" % (unit, OLD_TS + 1))
        return list(csv.DictReader(io.StringIO(body.decode()))) if st == 200 else []
    ok = wait_until(lambda: len([r for r in rows("string2") if r["online"] == "1"]) >= 2, 15)
    c.ok(ok, "string2 sampled at the history interval")
    sp = sim_packs(sim)
    for k, (name, members) in enumerate(STRINGS.items()):
        r = [x for x in rows(name) if x["online"] == "1"][-1]
        c.near(float(r["voltage_v"]), sum(sp[m]["voltage"] for m in members), 0.02, "%s: stored voltage (sum)" % name)
        c.near(float(r["current_a"]), sum(sp[m]["current"] for m in members) / 2, 0.02, "%s: stored current" % name)
        c.near(float(r["soc_pct"]), min(sp[m]["soc"] for m in members), 0.06, "%s: stored SOC (weakest)" % name)
        c.eq(int(r["cell_min_mv"]), min(min(sp[m]["cells_mv"]) for m in members), "%s: lowest cell of all" % name)
        c.eq(float(r["temp_max_c"]), max(max(sp[m]["temps_c"]) for m in members), "%s: hottest sensor" % name)
        # the limits rise slowly (a step a poll): a row holds them as they were at its sample, so the check
        # waits for a row that agrees with /api/state read after it, and says what the last pair was
        last = [None]

        def limits_stored(k=k, name=name):
            js, online = api_state(http_port), [x for x in rows(name) if x["online"] == "1"]
            if not js or not online:
                return False
            lim, r = js["bank"]["strings"][k]["limits"], online[-1]
            last[0] = (r["ccl_a"], r["dcl_a"], lim["ccl_a"], lim["dcl_a"])
            return abs(float(r["ccl_a"]) - lim["ccl_a"]) <= 0.051 and abs(float(r["dcl_a"]) - lim["dcl_a"]) <= 0.051
        ok = wait_until(limits_stored, 60, 0.2)
        c.ok(ok, "%s: its own CCL and DCL stored (the last row %s A / %s A, /api/state %s A / %s A)"
             % ((name,) + (last[0] or ("-",) * 4)))
    b = [x for x in rows("bank") if x["online"] == "1"][-1]
    c.ok(b["ccl_a"] != "" and b["dcl_a"] != "", "the bank's limits are stored too")
    c.ok([x for x in rows("a") if x["online"] == "1"][-1]["ccl_a"] != "", "and a pack's")
    st, body = http_get(http_port, "/api/history?unit=string1&range=1h&points=100")
    js = json.loads(body) if st == 200 else {}
    c.ok(st == 200 and any(v is not None for v in js.get("voltage", [])) and "ccl" in js and "dcl" in js,
         "/api/history?unit=string1: its chart series, ccl and dcl among them")
    st, body = http_get(http_port, "/api/history?unit=string9&range=1h")
    c.eq(st, 404, "a string not configured: 404")
    # a member silent: its string's rows are offline, its limits the fail-safe zeros
    sim.ctl("fault 4 silent")
    ok = wait_until(lambda: (lambda r: r and r[-1]["online"] == "0" and r[-1]["ccl_a"] == "0.0")(rows("string2")), 15)
    c.ok(ok, "pack d silent: string2's rows offline, no values, CCL 0 (fail-safe) stored")
    r = rows("string2")[-1]
    c.eq((r["voltage_v"], r["soc_pct"]), ("", ""), "... no voltage or SOC of the past")
    sim.ctl("fault 4 none")
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", gw.conf, "--history-csv", "string1",
                          "--from", str(OLD_TS + 1)], capture_output=True, timeout=60)
    lines = out.stdout.decode().splitlines()
    c.ok(out.returncode == 0 and lines and lines[0].endswith(",ccl_a,dcl_a,soc_band_pct") and len(lines) > 2 and
         all(",string1," in ln for ln in lines[1:]), "--history-csv string1: its rows (%s)" % out.stderr.decode()[:200])


STRING_KEYS = {"sensor": ("voltage", "current", "soc", "charge_voltage_limit", "charge_current_limit",
                           "discharge_current_limit"),
               "binary_sensor": ("online", "current_deviation")}
DISC = "homeassistant/%s/bmsgw_t1_bank/string%d_%s/config"


def mqtt_section(port):
    return "[mqtt]\nhost = 127.0.0.1\nport = %d\nclient_id = t1\ntopic_prefix = site/bmsgw\n" % port


def bank_state(sub):
    m = sub.latest("site/bmsgw/bank/state")
    return json.loads(m.text()) if m and m.payload else None


def stale_config(broker, n):
    """A retained config of string n of this gateway's bank, as a run with
    more strings left it."""
    pub(broker.port, DISC % ("sensor", n, "voltage"),
        json.dumps({"name": "String %d voltage" % n, "unique_id": "bmsgw_t1_bank_string%d_voltage" % n,
                    "state_topic": "site/bmsgw/bank/state",
                    "device": {"identifiers": ["bmsgw_t1_bank"], "name": "t1 bank", "via_device": "bmsgw_t1"}}),
        retain=True)


def test_mqtt(sim, gw, broker, sub):
    print("== MQTT and Home Assistant: the strings")
    js = wait_until(lambda: (lambda j: j if j and len(j.get("strings", [])) == 2 and all(
        s["online"] for s in j["strings"]) else None)(bank_state(sub)), 20)
    c.ok(js is not None, "the bank's state carries its two strings, online")
    if js:
        c.eq([(s["name"], [m["name"] for m in s["members"]]) for s in js["strings"]],
             [("string1", ["a", "b"]), ("string2", ["c", "d"])], "each string's name and members, in order")
        sp = sim_packs(sim)
        c.near(js["strings"][0]["voltage"], sp["a"]["voltage"] + sp["b"]["voltage"], 0.02, "string1 voltage (sum)")
        c.near(js["strings"][1]["soc"], min(sp["c"]["soc"], sp["d"]["soc"]), 0.06, "string2 SOC (weakest)")
        c.ok(all(k in js["strings"][0]["limits"] for k in ("cvl_v", "ccl_a", "dcl_a", "dvl_v")),
             "string1's own limits in the state")
    ok = wait_until(lambda: DISC % ("sensor", 5, "voltage") not in retained(broker.port, "homeassistant/#"), 10)
    c.ok(ok, "a retained config of a string no longer configured (string5) is cleared at the connect")
    configs = {t: m.text() for t, m in retained(broker.port, "homeassistant/#").items() if m.payload}
    for n in (1, 2):
        for comp, keys in STRING_KEYS.items():
            for k in keys:
                t = DISC % (comp, n, k)
                cf = json.loads(configs[t]) if t in configs else {}
                c.eq(cf.get("unique_id"), "bmsgw_t1_bank_string%d_%s" % (n, k), "config %s: stable unique_id" % t)
                c.eq(cf.get("device", {}).get("identifiers"), ["bmsgw_t1_bank"], "... on the bank's device")
                c.ok("strings[%d]." % (n - 1) in cf.get("value_template", ""), "... reads strings[%d]" % (n - 1))
    c.ok(not any("/string3_" in t for t in configs), "no sensors of a third string")
    # the bank's temperatures are its fresh strings': a string stale a moment on a
    # loaded machine changes them (and their configs): judge a settled state
    probs = []

    def settled():
        cf = {t: m.text() for t, m in retained(broker.port, "homeassistant/#").items() if m.payload}
        known = {t: m.text() for t, m in retained(broker.port, "site/#").items()}
        probs[:] = ha_check(cf, known)
        return not probs
    wait_until(settled, 15)
    c.eq(probs[:5], [], "every discovery payload passes Home Assistant's rules (templates on the real state)")


def test_mqtt_reload(gw, broker, sub, text):
    print("== a reload to one string: string2's sensors are cleared")
    with open(gw.conf, "w") as f:
        f.write(text.replace("strings = a+b, c+d", "strings = a+b+c+d"))
    gw.p.send_signal(signal.SIGHUP)
    ok = wait_until(lambda: not any("/bmsgw_t1_bank/string2_" in t for t in retained(broker.port, "homeassistant/#")),
                    15)
    c.ok(ok, "string2's configs cleared by the reload")
    c.ok(DISC % ("sensor", 1, "voltage") in retained(broker.port, "homeassistant/#"), "string1's stay")
    js = wait_until(lambda: (lambda j: j if j and len(j.get("strings", [])) == 1 and j["strings"][0]["online"]
                             else None)(bank_state(sub)), 15)
    c.ok(js is not None and [m["name"] for m in js["strings"][0]["members"]] == ["a", "b", "c", "d"],
         "the bank's state: one string of four")
    print("== a reload without [limits]: the strings' limit sensors are cleared")
    with open(gw.conf, "w") as f:
        f.write(text.replace("strings = a+b, c+d", "strings = a+b+c+d").replace("[limits]\n", ""))
    gw.p.send_signal(signal.SIGHUP)
    lim = DISC % ("sensor", 1, "charge_current_limit")
    c.ok(wait_until(lambda: lim not in retained(broker.port, "homeassistant/#"), 15),
         "string1's CCL sensor cleared")
    c.ok(DISC % ("sensor", 1, "voltage") in retained(broker.port, "homeassistant/#"), "its voltage sensor stays")



def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-strings-")
    sim = Sim("daly", packs=("address=1,soc=50,current=5", "address=2,soc=60,current=5",
                             "address=3,soc=70,current=-4", "address=4,soc=80,current=-4"))
    broker = Broker()
    stale_config(broker, 5)
    sub = Subscriber(broker.port, topics=("site/#", "homeassistant/#"))
    gw_port, http_port = free_port(), free_port()
    hist = os.path.join(tmp, "history.db")
    v2_database(hist)
    text = conf(gw_port, http_port, sim.port, mqtt_section(broker.port), hist)
    gw = Gateway(text, gw_port)
    try:
        test_metrics(sim, gw, http_port)
        test_sunspec(sim, gw_port)
        test_page(sim, http_port)
        test_history(sim, gw, http_port, hist)
        test_mqtt(sim, gw, broker, sub)
        test_mqtt_reload(gw, broker, sub, text)
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        sub.close()
        broker.cleanup()
        sim.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
