#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Charge and discharge limits end to end: the real bmsgw with [limits]
against two simulated Daly packs on one bus and a [bank], read over Modbus
(registers 46-55), MQTT on a real Mosquitto, /api/state and /metrics.

- a cell pinned above max_cell_voltage lowers the CVL and drives the CCL to
  0 in the poll that read it, reason cell_voltage;
- a cold sensor: reason temperature; the BMS's charge MOSFET off: reason
  mosfet_off; a lowered limit recovers only after recovery_hold, then ramps;
- every cell at the target: absorption, then float after absorption_time,
  the CVL ramping down (never a step);
- a muted pack is fail-safe as soon as it is stale, and the bank's CCL
  follows bank_rule (min and sum, by a reload); meanwhile the bank flags a
  stale member (bit 6) and holds its CVL at float voltage (bank_stale =
  degrade);
- a pack's own rating (max_discharge_current in [pack.p2]);
- SOC-low protection (Daly 0x98 byte 2 bit 7) keeps the pack chargeable;
  force charge is not asked while charging is forbidden (0 degC);
- a current beyond the CCL raises limit_exceeded (bit 7, the JSON, the
  gauge, the Home Assistant problem sensor), logged once, and clears;
- Modbus, MQTT, /api/state and /metrics carry the same numbers.
"""
import json
import os
import re
import signal
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Gateway, Sim, free_port, wait_until  # noqa: E402
from mqtt_harness import Broker, Subscriber  # noqa: E402

from pymodbus.client import ModbusTcpClient  # noqa: E402

BASE = 290
c = Checks()
MODES = {0: "off", 1: "bulk", 2: "absorption", 3: "float", 4: "failsafe"}
REASONS = {0: "none", 1: "cell_voltage", 2: "temperature", 3: "mos_temperature", 4: "soc", 5: "mosfet_off",
           6: "alarm", 7: "bms_limit", 8: "stale", 9: "cap"}


def conf(gw_port, http_port, sim_port, broker_port, rule="min"):
    packs = ""
    for a in (1, 2):
        packs += ("[pack.p%d]\nprotocol = daly\nport = tcp://127.0.0.1:%d\naddress = %d\nunit_id = %d\n"
                  "poll_interval = 0.5\ntimeout = 0.4\nretries = 0\n" % (a, sim_port, a, a))
        if a == 2:
            packs += "max_discharge_current = 80\n"  # its own rating
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 3
state_file = none
%s[bank]
unit_id = 100
[limits]
recovery_hold = 2
recovery_rate = 20
cvl_recovery_hold = 2
cvl_rate = 0.02
absorption_time = 3
limit_exceeded = 2
bank_rule = %s
[http]
listen = 127.0.0.1:%d
[history]
file = none
[mqtt]
host = 127.0.0.1
port = %d
client_id = lim
topic_prefix = t
""" % (gw_port, packs, rule, http_port, broker_port)


def limits(client, unit):
    """Registers 46-55 of a unit as a dict, or None."""
    rr = client.read_holding_registers(BASE + 46, 10, slave=unit)
    if rr.isError():
        return None
    r = rr.registers
    return {"cvl_v": r[0] / 100, "ccl_a": r[1] / 10, "dcl_a": r[2] / 10, "dvl_v": r[3] / 100, "flags": r[4],
            "mode": MODES.get(r[7]), "ccl_reason": REASONS.get(r[8]), "dcl_reason": REASONS.get(r[9])}


def fetch(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
        return r.read().decode()


DCL = {1: 60, 2: 80}  # [limits]' 60 A, p2's own 80 A


def reset(sim, client):
    for a in (1, 2):
        for n in range(1, 17):
            sim.ctl("set %d cell %d auto" % (a, n))
        sim.ctl("set %d temp 1 25" % a)
        sim.ctl("set %d chg_mos 1" % a)
        sim.ctl("set %d alarm 2 0" % a)
        sim.ctl("set %d soc 60" % a)
        sim.ctl("set %d current 5" % a)
        sim.ctl("fault %d none" % a)
    for unit in (1, 2):
        wait_until(lambda: (lambda l: l if l and l["ccl_a"] == 50 and l["dcl_a"] == DCL[unit] and
                            not l["flags"] & 0x80 else None)(limits(client, unit)), 20)


def test_cell_voltage(sim, client):
    print("== a cell above max_cell_voltage")
    before = limits(client, 1)
    c.ok(before and before["ccl_a"] == 50 and before["dcl_a"] == 60 and before["ccl_reason"] == "none",
         "start: CCL 50 A, DCL 60 A, reason none (%s)" % before)
    p2 = limits(client, 2)
    c.ok(p2 and p2["dcl_a"] == 80 and p2["ccl_a"] == 50, "pack p2's own rating: DCL 80 A, CCL [limits]' 50 A (%s)" % p2)
    sim.ctl("set 1 cell 3 3600")
    # one read of offsets 0-55: the first that shows the cell (max cell,
    # offset 6) must show its limits too (the poll that read it)
    first = None
    t0 = time.monotonic()
    while first is None and time.monotonic() - t0 < 10:
        rr = client.read_holding_registers(BASE, 56, slave=1)
        if not rr.isError() and rr.registers[6] == 3600:
            first = rr.registers
    c.ok(first is not None and first[47] == 0 and first[54] == 1,
         "the read that first shows the 3.600 V cell shows CCL 0, reason cell_voltage (%r)" %
         ((first[46:51], first[53:56]) if first else None,))
    lim = limits(client, 1)
    c.ok(lim and lim["ccl_a"] == 0 and lim["ccl_reason"] == "cell_voltage",
         "the poll that read it: CCL 0, reason cell_voltage (%s)" % lim)
    c.ok(lim and not (lim["flags"] & 1) and lim["flags"] & 2, "charging not allowed, discharging allowed")
    # the cells and the CVL of that one read (one poll's image): the
    # simulator's cells move on meanwhile (under load, 60 mV once)
    cells = first[20:20 + first[40]] if first else []
    excess = sum(max(0, v - 3450) for v in cells) / 1000
    want = round(sum(cells) / 1000 - excess, 2)
    cvl = first[46] / 100 if first else None
    c.ok(first is not None and abs(cvl - want) <= 0.011,
         "CVL lowered at once to the sum of the cells less the excess (%s, want %.2f)" % (cvl, want))
    sim.ctl("set 1 cell 3 auto")


def test_temperature_and_mosfet(sim, client):
    print("== a cold sensor, a MOSFET off, the recovery")
    sim.ctl("set 1 temp 1 3")
    lim = wait_until(lambda: (lambda l: l if l and l["ccl_reason"] == "temperature" else None)(limits(client, 1)), 5)
    c.ok(lim and lim["ccl_reason"] == "temperature" and abs(lim["ccl_a"] - 5.0) <= 0.11,
         "3 degC: CCL 50 x 0.1 (lfp's table), reason temperature (%s)" % lim)
    c.ok(lim and lim["dcl_reason"] == "temperature" and abs(lim["dcl_a"] - 24.0) <= 0.11,
         "3 degC: DCL 60 x 0.4, reason temperature")
    sim.ctl("set 1 temp 1 1")
    lim = wait_until(lambda: (lambda l: l if l and l["ccl_a"] == 0 else None)(limits(client, 1)), 5)
    c.ok(lim and lim["ccl_reason"] == "temperature" and not lim["flags"] & 1,
         "1 degC: no charge at all (a sensor's error of margin over 0 degC) (%s)" % lim)
    sim.ctl("set 1 temp 1 25")
    sim.ctl("set 1 chg_mos 0")
    lim = wait_until(lambda: (lambda l: l if l and l["ccl_reason"] == "mosfet_off" else None)(limits(client, 1)), 5)
    c.ok(lim and lim["ccl_a"] == 0, "charge MOSFET off: CCL 0, reason mosfet_off (%s)" % lim)
    sim.ctl("set 1 chg_mos 1")
    t0 = time.monotonic()
    seen, held = [], True
    reads = []  # (start of the read, its end, CCL) for the rate below
    while time.monotonic() - t0 < 16:
        t_start = time.monotonic() - t0
        lim = limits(client, 1)
        if lim:
            seen.append((time.monotonic() - t0, lim["ccl_a"]))
            reads.append((t_start, seen[-1][0], lim["ccl_a"]))
            if lim["ccl_a"] >= 50:
                break
        time.sleep(0.1)
    first_up = next((t for t, a in seen if a > 0), None)
    held = first_up is not None and first_up >= 1.5
    c.ok(held, "back on: CCL stays 0 for recovery_hold (2 s): first rise after %s s" %
         (None if first_up is None else round(first_up, 1)))
    mids = [a for t, a in seen if 0 < a < 50]
    c.ok(len(mids) >= 3 and seen[-1][1] >= 50, "then it ramps (%d values between 0 and 50) up to 50 A" % len(mids))
    # each rise against the time it can have taken: the engine computed the
    # value before it after the last read that still showed the one before
    # that began (the first rise, from 0 after the hold: at most 21 A, as
    # the engine's first step),
    # and the new value before the read that first showed it ended -- the
    # daemon's polls may come late on a loaded machine, its rate holds
    runs = []  # [first read's end, last read's start, value]
    for ts, te, a in reads:
        if runs and runs[-1][2] == a:
            runs[-1][1] = ts
        else:
            runs.append([te, ts, a])
    over = []
    for k in range(1, len(runs)):
        rise = runs[k][2] - runs[k - 1][2]
        if k == 1 and rise > 21:
            over.append((round(runs[0][2], 1), round(runs[1][2], 1), "first"))
        if k >= 2 and rise > 20 * (runs[k][0] - runs[k - 2][1]) + 0.5:
            since = runs[k - 2][1]
            over.append((round(runs[k - 1][2], 1), round(runs[k][2], 1), round(runs[k][0] - since, 2)))
    c.ok(len(runs) >= 2 and not over, "at recovery_rate: no rise above 20 A/s over the time it had (%s)" % over)


def test_float(sim, client):
    print("== absorption, then float with the CVL ramping down")
    for n in range(1, 17):
        sim.ctl("set 2 cell %d 3450" % n)
    lim = wait_until(lambda: (lambda l: l if l and l["mode"] == "absorption" else None)(limits(client, 2)), 10)
    c.ok(lim is not None and abs(lim["cvl_v"] - 55.2) < 0.011, "cells at 3.450 V: absorption, CVL 55.20 V (%s)" % lim)
    t0 = time.monotonic()
    lim = wait_until(lambda: (lambda l: l if l and l["mode"] == "float" else None)(limits(client, 2)), 10)
    c.ok(lim is not None and time.monotonic() - t0 >= 2.0, "float after absorption_time (3 s)")
    # the cells stay at 3.450 V (55.2 V): the CVL goes no lower than the
    # battery less 0.05 V (a CVL under it makes a Sunny Island discharge)
    held = wait_until(lambda: (lambda l: l if l and l["cvl_v"] <= 55.16 else None)(limits(client, 2)), 5)
    t1 = time.monotonic()
    wait_until(lambda: time.monotonic() - t1 > 1.5, 3)
    lim = limits(client, 2)
    c.ok(held and lim and abs(lim["cvl_v"] - 55.15) <= 0.011 and lim["mode"] == "float",
         "float with the cells at 3.450 V: the CVL stops at the battery less 0.05 V (%s)" % lim)
    # the cells relax: the CVL follows them down to float voltage.  In two
    # passes: a poll between two of the 16 commands sees a spread of at most
    # 55 mV, never the 80 mV of rebulk_cell_diff (which would start a new
    # charge cycle: a loaded machine showed it)
    for mv in (3395, 3340):
        for n in range(1, 17):
            sim.ctl("set 2 cell %d %d" % (n, mv))
    cvls = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 15:
        lim = limits(client, 2)
        if lim:
            cvls.append((time.monotonic(), lim["cvl_v"]))
            if lim["cvl_v"] <= 54.0:
                break
        time.sleep(0.2)
    # a ramp at 0.32 V/s: a step between two reads is at most the ramp over
    # the time between them plus one engine step (a second's worth)
    steps = [(a[1] - b[1], b[0] - a[0]) for a, b in zip(cvls, cvls[1:])]
    c.ok(cvls and cvls[-1][1] <= 54.0 and abs(cvls[-1][1] - 54.0) < 0.011, "down to 16 x 3.375 = 54.00 V (%s)" %
         (cvls[-1][1] if cvls else None))
    worst = max((d - 0.32 * dt for d, dt in steps), default=None)
    c.ok(worst is not None and worst <= 0.33 and len([d for d, _ in steps if d > 0]) >= 3,
         "a ramp at 0.32 V/s, never a step (largest step beyond the ramp %.2f V over %d reads)" %
         (worst if worst is not None else -1, len(cvls)))


def test_bank_and_failsafe(sim, client, gw, conf_text):
    print("== a muted pack and the bank")
    sim.ctl("set 1 temp 1 3")  # pack 1: CCL 5 A; pack 2: 50 A
    wait_until(lambda: (lambda l: l if l and l["ccl_reason"] == "temperature" else None)(limits(client, 1)), 5)
    bank = wait_until(lambda: (lambda l: l if l and abs(l["ccl_a"] - 10) <= 0.11 else None)(limits(client, 100)), 5)
    c.ok(bank is not None, "bank_rule min: 2 fresh packs x the lowest CCL 5 = 10 A (%s)" % limits(client, 100))
    c.ok(bank and not bank["flags"] & 0x40, "no stale member: bit 6 clear")
    log_at = len(gw.text())  # a loaded machine may have let p2 go stale for a poll before this
    sim.ctl("fault 2 silent")
    stale = wait_until(lambda: (lambda l: l if l and l["mode"] == "failsafe" else None)(limits(client, 2)), 8)
    c.ok(stale is not None and stale["ccl_a"] == 0 and stale["dcl_a"] == 0 and stale["flags"] & 0x20 and
         not stale["flags"] & 3 and stale["ccl_reason"] == "stale",
         "the muted pack is fail-safe: CCL = DCL = 0, nothing allowed, reason stale (%s)" % stale)
    online = client.read_holding_registers(BASE + 58, 1, slave=2)
    c.ok(stale is not None and not online.isError() and online.registers[0] == 0,
         "... as soon as it is stale (online 0 in the same read)")
    t0 = time.monotonic()
    bank = wait_until(lambda: (lambda l: l if l and abs(l["ccl_a"] - 5) <= 0.11 else None)(limits(client, 100)), 10)
    c.ok(bank is not None, "bank, min: 1 fresh pack x 5 A (after %.1f s) (%s)" % (time.monotonic() - t0,
                                                                            limits(client, 100)))
    c.ok(bank and bank["flags"] & 0x40 and abs(bank["cvl_v"] - 54.0) <= 0.011,
         "a stale member: bank flags bit 6, CVL held at 16 x 3.375 = 54.00 V (bank_stale = degrade) (%s)" % bank)
    # the log line comes from the bank's own judgement, which a Modbus read of
    # the bank can see a moment before it is written: wait for it, then once
    stale_lines = lambda: len(re.findall(r"bank: pack p2 is stale but still on the DC bus", gw.text()[log_at:]))
    wait_until(lambda: stale_lines() >= 1, 10)
    c.eq(stale_lines(), 1, "the stale member is logged once")
    sim.ctl("fault 2 none")
    wait_until(lambda: (lambda l: l if l and l["mode"] == "bulk" else None)(limits(client, 2)), 10)
    with open(gw.conf, "w") as f:
        f.write(conf_text.replace("bank_rule = min", "bank_rule = sum"))
    gw.p.send_signal(signal.SIGHUP)
    bank = wait_until(lambda: (lambda l: l if l and abs(l["ccl_a"] - 55) <= 0.11 and abs(l["dcl_a"] - 104) <= 0.11
                               else None)(limits(client, 100)), 30)
    c.ok(bank is not None and abs(bank["ccl_a"] - 55) <= 0.11 and not bank["flags"] & 0x40,
         "after a reload, bank_rule sum: 5 + 50 = 55 A, no stale member (%s)" % bank)
    c.ok(bank is not None and abs(bank["dcl_a"] - 104) <= 0.11,
         "bank_rule sum: DCL 24 (p1 at 3 degC) + 80 (p2's own rating) = 104 A (%s)" % bank)
    sim.ctl("set 1 temp 1 25")


def test_soc_low_and_force(sim, client):
    print("== SOC-low protection stays chargeable; no force charge while charging is forbidden")
    sim.ctl("set 1 alarm 2 0x80")  # Daly 0x98 byte 2 bit 7: SOC low, level 2
    lim = wait_until(lambda: (lambda l: l if l and l["dcl_reason"] == "alarm" else None)(limits(client, 1)), 5)
    c.ok(lim and lim["dcl_a"] == 0 and lim["ccl_a"] == 50 and lim["flags"] & 1 and not lim["flags"] & 2,
         "SOC-low protection: DCL 0 (alarm), CCL 50 A, charging allowed (%s)" % lim)
    sim.ctl("set 1 alarm 2 0")
    sim.ctl("set 1 soc 3")
    lim = wait_until(lambda: (lambda l: l if l and l["flags"] & 4 else None)(limits(client, 1)), 5)
    c.ok(lim is not None and lim["flags"] & 1, "SOC 3 %%: force charge (bit 2) with charging allowed (%s)" % lim)
    sim.ctl("set 1 temp 1 0")
    lim = wait_until(lambda: (lambda l: l if l and l["ccl_a"] == 0 else None)(limits(client, 1)), 5)
    c.ok(lim is not None and not lim["flags"] & 4 and not lim["flags"] & 1,
         "0 degC: CCL 0 and no force charge (bits 0 and 2 clear) (%s)" % lim)


def test_exceeded(sim, client, http_port, gw):
    print("== a current beyond the CCL: limit_exceeded")
    sim.ctl("set 1 current 70")  # CCL 50 A: beyond 55 A
    t0 = time.monotonic()
    lim = wait_until(lambda: (lambda l: l if l and l["flags"] & 0x80 else None)(limits(client, 1)), 10)
    c.ok(lim is not None and time.monotonic() - t0 >= 1.5,
         "70 A against a CCL of 50 A: bit 7 after limit_exceeded (2 s) (%s after %.1f s)" %
         (lim, time.monotonic() - t0))
    st = json.loads(fetch(http_port, "/api/state"))
    p1 = [p for p in st["packs"] if p["pack"] == "p1"][0]["limits"]
    c.ok(p1["exceeded"] == "charge" and p1["limit_exceeded"] is True, "/api/state limits.exceeded = charge (%s)" % p1)
    m = fetch(http_port, "/metrics")
    c.ok(re.search(r'bmsgw_limit_exceeded\{unit="p1",direction="charge"\} 1', m) is not None and
         re.search(r'bmsgw_limit_exceeded\{unit="p1",direction="discharge"\} 0', m) is not None,
         "/metrics bmsgw_limit_exceeded{unit=\"p1\",direction=\"charge\"} 1")
    sim.ctl("set 1 current 5")
    lim = wait_until(lambda: (lambda l: l if l and not l["flags"] & 0x80 else None)(limits(client, 1)), 10)
    c.ok(lim is not None, "back within: bit 7 clears")
    log = gw.text()
    c.eq(len(re.findall(r"pack p1: the current \(70.0 A\) has been beyond its charge limit", log)), 1,
         "raised: logged once")
    c.eq(len(re.findall(r"pack p1: the current is within its limits again", log)), 1, "cleared: logged once")


def test_same_numbers(sim, client, http_port, sub):
    print("== the same numbers everywhere")
    sim.ctl("freeze")
    sim.ctl("set 1 temp 1 3")
    wait_until(lambda: (lambda l: l if l and l["ccl_reason"] == "temperature" else None)(limits(client, 1)), 5)
    time.sleep(1.5)  # (every poll now gives the same values: nothing to wait for)
    regs = {u: limits(client, u) for u in (1, 2, 100)}
    state = json.loads(fetch(http_port, "/api/state"))
    api = {p["pack"]: p["limits"] for p in state["packs"]}
    api["bank"] = state["bank"]["limits"]
    metrics = fetch(http_port, "/metrics")
    names = {1: "p1", 2: "p2", 100: "bank"}
    for unit, name in names.items():
        r, a = regs[unit], api[name]
        c.ok(r is not None and a is not None and abs(r["cvl_v"] - a["cvl_v"]) < 0.006 and
             abs(r["ccl_a"] - a["ccl_a"]) < 0.06 and abs(r["dcl_a"] - a["dcl_a"]) < 0.06 and
             r["mode"] == a["mode"] and r["ccl_reason"] == a["ccl_reason"],
             "%s: Modbus %s = /api/state %s" % (name, r, a))
        m = re.search(r'bmsgw_charge_current_limit_amperes\{pack="%s"\} ([0-9.]+)' % name, metrics)
        c.ok(m and abs(float(m.group(1)) - a["ccl_a"]) < 0.06, "%s: /metrics CCL %s" % (name, m and m.group(1)))
        msg = sub.wait_for("t/%s/state" % name, lambda m: m.payload and json.loads(m.text()).get("limits") and
                           abs(json.loads(m.text())["limits"]["ccl_a"] - a["ccl_a"]) < 0.06, 10)
        c.ok(msg is not None, "%s: MQTT state carries CCL %.1f A" % (name, a["ccl_a"]))
    cfg = sub.latest("homeassistant/binary_sensor/bmsgw_lim_p1/limit_exceeded/config")
    c.ok(cfg is not None and json.loads(cfg.text()).get("device_class") == "problem" and
         "limits.limit_exceeded" in json.loads(cfg.text()).get("value_template", ""),
         "Home Assistant: a limit_exceeded problem sensor per pack (%s)" % (cfg and cfg.text()[:120]))
    sim.ctl("set 1 temp 1 25")
    sim.ctl("thaw")


def main():
    sim = Sim(packs=("address=1", "address=2"))
    broker = Broker()
    gw_port, http_port = free_port(), free_port()
    text = conf(gw_port, http_port, sim.port, broker.port)
    gw = Gateway(text, gw_port)
    sub = Subscriber(broker.port, topics=("t/#", "homeassistant/#"))
    client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    client.connect()
    try:
        sim.ctl("freeze")
        reset(sim, client)
        # a pack not read yet is left out of the bank, not counted as 0 A
        # (else the bank would start at 0 A and wait out its recovery_hold)
        bank = limits(client, 100)
        c.ok(bank and bank["ccl_a"] >= 50 and bank["dcl_a"] >= 60,
             "right after the start the bank has current limits (%s)" % bank)
        # the first limits computed from data (a machine loaded enough to
        # take longer than stale_after to the first poll logs the bank
        # fail-safe first, rightly: its packs were stale)
        log = gw.text()
        # (the first line says "charge limits:", later ones "charge limits now:")
        first = re.search(r"bank: charge limits(?: now)?: (?!mode failsafe.*\(stale\)).*", log)
        c.ok(first and "CCL 0.0 A" not in first.group(0), "the bank's first limits are not 0 A (%s)" %
             (first and first.group(0)))
        for t in (lambda: test_cell_voltage(sim, client), lambda: test_temperature_and_mosfet(sim, client),
                  lambda: test_float(sim, client), lambda: test_bank_and_failsafe(sim, client, gw, text),
                  lambda: test_soc_low_and_force(sim, client), lambda: test_exceeded(sim, client, http_port, gw),
                  lambda: test_same_numbers(sim, client, http_port, sub)):
            reset(sim, client)
            t()
        c.ok("charge limits now: mode" in gw.text(), "changes of mode and reasons are logged")
        lines = [l for l in gw.text().splitlines() if "pack p1: charge limits" in l]
        c.ok(0 < len(lines) < 40, "... once each, not per poll (%d lines for p1)" % len(lines))
    finally:
        if c.failed:
            gw.dump(40)
        client.close()
        sub.close()
        gw.stop()
        sim.stop()
        broker.cleanup()
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
