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
  and at a reload that shortens [bank] strings."""
import json
import os
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
from harness import Checks, Gateway, Sim, free_port, wait_until  # noqa: E402

from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

c = Checks()
PACKS = ("a", "b", "c", "d")
STRINGS = {"string1": ("a", "b"), "string2": ("c", "d")}


def conf(gw_port, http_port, sim_port, extra=""):
    text = "[gateway]\nlisten = 127.0.0.1:%d\nstale_after = 3\nstate_file = none\n" % gw_port
    for i, n in enumerate(PACKS):
        text += ("[pack.%s]\nprotocol = daly\nport = tcp://127.0.0.1:%d\naddress = %d\nunit_id = %d\n"
                 "poll_interval = 0.5\ntimeout = 0.5\nretries = 0\n" % (n, sim_port, i + 1, i + 1))
    text += "[bank]\nstrings = a+b, c+d\nmax_current_deviation = 3\n[limits]\n"
    text += "[http]\nlisten = 127.0.0.1:%d\n" % http_port
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
    c.eq(one(fams, "bmsgw_string_current_deviation", string="string2"), 0.0, "string2 not flagged")
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


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-strings-")
    sim = Sim("daly", packs=("address=1,soc=50,current=5", "address=2,soc=60,current=5",
                             "address=3,soc=70,current=-4", "address=4,soc=80,current=-4"))
    gw_port, http_port = free_port(), free_port()
    gw = Gateway(conf(gw_port, http_port, sim.port), gw_port)
    try:
        test_metrics(sim, gw, http_port)
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        sim.stop()
    del tmp
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
