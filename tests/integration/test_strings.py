#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Packs in series end to end (design §25, issue 48): the real bmsgw with
`[bank] strings = a+b+c+d, e+f+g+h` against bmsgw-sim's series strings
(`--pack string=N`: a string's members share one current), eight JK-PB
packs of four cells (12 V packs, four in series for 48 V):

- one simulator, one RS485 bus, addresses 1..8: every member through its
  own unit (voltage, the string's one current, SOC, cells) equals the
  simulator's wire values;
- /api/state bank.strings: name, members, voltage the members' sum, current
  their common one, SOC / remaining Ah the weakest member's, full Ah the
  smallest, cells concatenated, stale, current_deviation, and the limits
  object of a pack (CVL and DVL the members' sums, CCL and DCL the smallest
  member's);
- the bank of strings: voltage the strings' median, current the sum, SOC
  the sum of remaining over the sum of full; CCL by the bank rule over the
  strings (min: two strings x the lowest), in /api/state and in the bank
  unit's registers (pymodbus);
- /metrics: samples of each string (design §25);
- pylon-can over slcan (python3-can) from the bank: 0x351 the bank's
  limits, 0x355 its SOC, 0x356 its voltage and current (sign: discharging
  is negative);
- a member whose current departs from its string's (`apart`: a broken
  series link) flags the string's current_deviation, and clears;
- a member's alarm in its string's alarms, its charge protection holding
  the string;
- a member's cell over-voltage: the string's CCL 0, the bank's CCL 0 and
  0x351's CCL 0 with 0x35C's charge bit clear within one period of the
  output once bmsgw has the cell;
- a member gone silent: its string stale with CCL = DCL = 0, and with
  bank_stale = block the bank's limits fail safe on the wire (0x351
  currents 0, 0x35C bits 7 / 6 clear);
- a string's temperatures: every member's sensors (its hottest and
  coldest visible);
- two simulator processes, one string each: the same strings.
"""
import os
import shutil
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import canreader  # noqa: E402
from harness import (Checks, Gateway, Sim, api_state, free_port, ha_float, pty_pair, wait_until)  # noqa: E402

try:
    import can  # noqa: F401
    from can.interfaces.slcan import slcanBus  # noqa: F401 - canreader.py uses it
    from pymodbus.client import ModbusTcpClient
except ImportError as e:
    print("%s (make deps installs python3-can and python3-pymodbus)" % e)
    print("0 passed, 1 failed")
    sys.exit(1)

c = Checks()
BASE = 290
PERIOD = 0.5          # the pylon-can output's interval
STALE_AFTER = 5
NAMES = "abcdefgh"
STRINGS = ("a+b+c+d", "e+f+g+h")
# string 1 discharges at 12 A, string 2 at 8 A; in each, the last member is
# the weakest (lowest SOC, least Ah; string 1's also the smallest capacity)
# and one member reports a lower BMS charge limit than the others
MEMBERS = (
    "soc=58,capacity=100", "soc=57,capacity=100", "soc=56,capacity=100,ccl=30", "soc=50,capacity=90",
    "soc=58,capacity=100,ccl=40", "soc=57,capacity=100", "soc=56,capacity=100", "soc=55,capacity=100",
)
CURRENTS = (-12.0, -8.0)
APART = -2.0          # member g's own current when its link is broken


def spec(addr, string, own, current=None):
    cur = CURRENTS[string - 1] if current is None else current
    return "address=%d,cells=4,sensors=2,string=%d,current=%g,%s" % (addr, string, cur, own)


# ------------------------------------------------------------ the reader

class CanReader(canreader.CanReader):
    """bmsgw's pylon-can output read by python-can, in whole frame sets."""

    def sets(self, t0=0):
        """Every whole frame set (from its 0x351 to the next) that began at
        or after t0, oldest first: [(time of its 0x351, {id: bytes})]."""
        frames = self.since(t0)
        groups = []
        for t, m in frames:
            if m.arbitration_id == 0x351:
                groups.append((t, {}))
            if groups:
                groups[-1][1][m.arbitration_id] = bytes(m.data)
        return groups[:-1]  # the newest may still be arriving


def u16(b, i):
    return struct.unpack_from("<H", b, i)[0]


def s16(b, i):
    return struct.unpack_from("<h", b, i)[0]


# ----------------------------------------------------------- the gateway

def conf(gw_port, http_port, buses, can_a):
    """buses: [(sim port, [address of a, b, ...])]: the packs in NAMES order."""
    packs, k = "", 0
    for port, addrs in buses:
        for a in addrs:
            packs += ("[pack.%s]\nprotocol = jk-pb\nport = tcp://127.0.0.1:%d\naddress = %d\nunit_id = %d\n"
                      "poll_interval = 1\ntimeout = 0.4\nretries = 0\n" % (NAMES[k], port, a, k + 1))
            k += 1
    return ("[gateway]\nlisten = 127.0.0.1:%d\nstale_after = %d\nstate_file = none\n%s"
            "[bank]\nunit_id = 10\nstrings = %s\nmax_deviation = 2\n"
            "[limits]\nrecovery_hold = 1\nrecovery_rate = 100\ncvl_recovery_hold = 1\ncvl_rate = 1\n"
            "bank_stale = block\n"
            "[http]\nlisten = 127.0.0.1:%d\n[history]\nfile = none\n"
            "[inverter.can]\nprotocol = pylon-can\nport = slcan://%s\ninterval = %g\nfailsafe_silence = 60\n") % (
                gw_port, STALE_AFTER, packs, ", ".join(STRINGS), http_port, can_a, PERIOD)


def packs_by_name(api):
    return {p.get("pack"): p for p in api.get("packs") or []}


def strings_of(api):
    return ((api.get("bank") or {}).get("strings")) or []


def member_names(st):
    """A string's members as /api/state lists them: objects with a name."""
    return [m.get("name") if isinstance(m, dict) else m for m in st.get("members") or []]


def all_online(http):
    api = api_state(http)
    ps = packs_by_name(api)
    return api if len(ps) == 8 and all(p.get("online") for p in ps.values()) else None


def regs(client, unit, addr=BASE, count=125):
    rr = client.read_holding_registers(addr, count, slave=unit)
    return None if rr.isError() else rr.registers


# ------------------------------------------------------- what to expect

def expect_strings(sim_packs):
    """Each string from the simulator's members (wire values): [{...}]."""
    out = []
    for names in STRINGS:
        ms = [sim_packs[NAMES.index(n)] for n in names.split("+")]
        weak = min(ms, key=lambda p: p["soc"])
        out.append({
            "members": names.split("+"),
            "voltage": sum(p["voltage"] for p in ms),
            "current": sum(p["current"] for p in ms) / len(ms),
            "soc": weak["soc"], "remaining_ah": weak["remaining_ah"],
            "full_ah": min(p["capacity_ah"] for p in ms),
            "cells": [{"index": 0, "pack": n, "cell": i + 1, "mv": mv}
                      for n, p in zip(names.split("+"), ms) for i, mv in enumerate(p["cells_mv"])],
        })
        for i, cell in enumerate(out[-1]["cells"]):
            cell["index"] = i + 1
    return out


def expect_bank(strs):
    vs = sorted(s["voltage"] for s in strs)
    mid = len(vs) // 2
    median = vs[mid] if len(vs) % 2 else (vs[mid - 1] + vs[mid]) / 2
    return {"voltage": median, "current": sum(s["current"] for s in strs),
            "soc": 100 * sum(s["remaining_ah"] for s in strs) / sum(s["full_ah"] for s in strs)}


def string_limits(api, names):
    """A string's limits by §8.2 from its members' own limits in /api/state."""
    ps = packs_by_name(api)
    lims = [ps[n].get("limits") or {} for n in names]
    if not all(lims) or any(l.get("cvl_v") is None for l in lims):
        return None
    return {"cvl_v": sum(l["cvl_v"] for l in lims), "dvl_v": sum(l["dvl_v"] for l in lims),
            "ccl_a": min(l["ccl_a"] for l in lims), "dcl_a": min(l["dcl_a"] for l in lims),
            "charge_allowed": all(l["charge_allowed"] for l in lims),
            "discharge_allowed": all(l["discharge_allowed"] for l in lims)}


# ----------------------------------------------------------------- tests

def members_through_units(sim_strings, client, states):
    """Every member through its own unit: the simulator's series behaviour
    as bmsgw reads it."""
    for k, p in enumerate(states):
        r = regs(client, k + 1)
        if not c.ok(r is not None, "member %s: unit %d answers" % (NAMES[k], k + 1)):
            continue
        c.near(ha_float(r[10:12]), p["voltage"], 1e-3, "member %s: voltage = the simulator's" % NAMES[k])
        c.near(ha_float(r[12:14]), p["current"], 1e-3, "member %s: current = the simulator's" % NAMES[k])
        c.eq(r[60], round(p["soc"] * 10), "member %s: SOC" % NAMES[k])
        c.eq(r[20:24], p["cells_mv"], "member %s: its four cells" % NAMES[k])
    for s, st in enumerate(sim_strings):
        cur = [ha_float(regs(client, a)[12:14]) for a in st["members"]]
        c.ok(all(abs(x - st["current"]) < 1e-3 for x in cur),
             "string %d: every member's unit carries the one string current %g A (%s)" % (s + 1, st["current"], cur))


def check_string(got, want, lim, what):
    c.eq(member_names(got), want["members"], what + ": members, in series order")
    c.ok(isinstance(got.get("name"), str) and got.get("name"), what + ": a name (%r)" % got.get("name"))
    c.near(got.get("voltage"), want["voltage"], 0.011, what + ": voltage = the members' sum")
    c.near(got.get("current"), want["current"], 0.011, what + ": current = the members' common current")
    c.near(got.get("soc"), want["soc"], 0.051, what + ": SOC = the weakest member's")
    c.near(got.get("remaining_ah"), want["remaining_ah"], 0.0011, what + ": remaining_ah = the weakest member's")
    c.near(got.get("full_ah"), want["full_ah"], 0.0011, what + ": full_ah = the smallest member's")
    c.eq(got.get("cells"), want["cells"], what + ": cells = the members' cells concatenated, numbered across the "
         "string, each with its pack and cell")
    c.eq(got.get("stale"), False, what + ": not stale")
    c.eq(got.get("current_deviation"), False, what + ": no current deviation")
    gl = got.get("limits") or {}
    if not c.ok(lim is not None and gl.get("cvl_v") is not None, what + ": a limits object like a pack's"):
        return
    c.near(gl.get("cvl_v"), lim["cvl_v"], 0.011, what + ": CVL = the members' CVLs summed")
    c.near(gl.get("dvl_v"), lim["dvl_v"], 0.011, what + ": DVL = the members' DVLs summed")
    c.near(gl.get("ccl_a"), lim["ccl_a"], 0.051, what + ": CCL = the smallest member's")
    c.near(gl.get("dcl_a"), lim["dcl_a"], 0.051, what + ": DCL = the smallest member's")
    c.eq((gl.get("charge_allowed"), gl.get("discharge_allowed")), (lim["charge_allowed"], lim["discharge_allowed"]),
         what + ": charge / discharge allowed = every member's")
    for key in ("force_charge", "full_charge_request", "mode", "ccl_reason", "dcl_reason", "limit_exceeded"):
        c.ok(key in gl, what + ": limits.%s as a pack's" % key)


def settled_api(http, sim_strings):
    """/api/state once every string shows the simulator's values and its
    limits are those of its members (the ramps have settled)."""
    def f():
        api = api_state(http)
        strs = strings_of(api)
        if len(strs) != 2:
            return None
        for got, want in zip(strs, sim_strings):
            lim = string_limits(api, want["members"])
            if member_names(got) != want["members"]:
                return None
            gl = got.get("limits") or {}
            if lim is None or got.get("voltage") is None or abs(got["voltage"] - want["voltage"]) > 0.011:
                return None
            if gl.get("ccl_a") is None or abs(gl["ccl_a"] - lim["ccl_a"]) > 0.051:
                return None
        # the bank's limits rise at recovery_rate after recovery_hold
        bl = (api.get("bank") or {}).get("limits") or {}
        for k in ("ccl_a", "dcl_a"):
            low = min((x.get("limits") or {}).get(k) or 0 for x in strs)
            if bl.get(k) is None or abs(bl[k] - 2 * low) > 0.051:
                return None
        return api
    return wait_until(f, 15)


def bank_values(api, sim_strings, client):
    want = expect_bank(sim_strings)
    bank = api.get("bank") or {}
    c.near(bank.get("voltage"), want["voltage"], 0.011, "bank: voltage = the strings' median")
    c.near(bank.get("current"), want["current"], 0.011, "bank: current = the strings' sum")
    c.near(bank.get("soc"), want["soc"], 0.051, "bank: SOC = sum remaining / sum full (%.2f %%)" % want["soc"])
    strs = strings_of(api)
    sl = [s.get("limits") or {} for s in strs]
    bl = bank.get("limits") or {}
    if len(sl) == 2 and all(x.get("ccl_a") is not None for x in sl):
        c.near(bl.get("ccl_a"), 2 * min(x["ccl_a"] for x in sl), 0.051,
               "bank: CCL by the bank rule over strings (2 strings x the lowest, not 8 packs x it)")
        c.near(bl.get("dcl_a"), 2 * min(x["dcl_a"] for x in sl), 0.051, "bank: DCL by the bank rule over strings")
        c.near(bl.get("cvl_v"), min(x["cvl_v"] for x in sl), 0.011, "bank: CVL the lowest string's")
        c.near(bl.get("dvl_v"), max(x["dvl_v"] for x in sl), 0.011, "bank: DVL the highest string's")
    else:
        c.ok(False, "bank: the strings' limits to compare the bank's with (%s)" % sl)
    r = regs(client, 10)
    if not c.ok(r is not None, "bank unit 10 answers"):
        return
    c.near(ha_float(r[10:12]), want["voltage"], 0.011, "bank unit: voltage float = the strings' median")
    c.near(ha_float(r[12:14]), want["current"], 0.011, "bank unit: current float = the strings' sum")
    c.near(r[60] / 10, want["soc"], 0.051, "bank unit: SOC (0.1 %)")
    c.eq(r[44], round(sum(s["remaining_ah"] for s in sim_strings) * 10), "bank unit: remaining = sum of the strings'")
    c.eq(r[62], round(sum(s["full_ah"] for s in sim_strings) * 10), "bank unit: full capacity = sum of the strings'")
    c.eq((r[46], r[47], r[48], r[49]),
         (round(bl.get("cvl_v", -1) * 100), round(bl.get("ccl_a", -1) * 10), round(bl.get("dcl_a", -1) * 10),
          round(bl.get("dvl_v", -1) * 100)), "bank unit: CVL / CCL / DCL / DVL = /api/state's")


def metrics(http):
    """design §25: each string also in /metrics (whatever the family's name:
    a sample labelled with the string's name)."""
    import urllib.request
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % http, timeout=5) as r:
            text = r.read().decode()
    except OSError as e:
        text = ""
        print("   /metrics: %s" % e)
    samples = [l for l in text.splitlines() if l and not l.startswith("#")]
    for name in ("string1", "string2"):
        c.ok(any('"%s"' % name in l for l in samples), "/metrics: samples of %s" % name)


def pylon_values(reader, http, sim_strings):
    want = expect_bank(sim_strings)

    bl = (api_state(http).get("bank") or {}).get("limits") or {}

    def f():
        sets = reader.sets(time.monotonic() - 2 * PERIOD - 0.5)
        s = sets[-1][1] if sets else {}
        if any(i not in s for i in (0x351, 0x355, 0x356, 0x35C)) or bl.get("ccl_a") is None:
            return None
        if (u16(s[0x351], 0), u16(s[0x351], 2), u16(s[0x351], 4), s16(s[0x356], 2), u16(s[0x355], 0)) != (
                int(bl["cvl_v"] * 10 + 0.01), int(bl["ccl_a"] * 10 + 0.01), int(bl["dcl_a"] * 10 + 0.01),
                round(want["current"] * 10), int(want["soc"] + 1e-4)):
            return None
        return s
    # the output's sets follow the bank at their own period: wait for one of
    # the settled values, else judge the newest
    s = wait_until(f, 5) or (lambda x: x[-1][1] if x else None)(reader.sets(time.monotonic() - 2 * PERIOD - 0.5))
    if not c.ok(s is not None and all(i in s for i in (0x351, 0x355, 0x356, 0x35C)) and bl.get("ccl_a") is not None,
                "pylon-can: a whole frame set of the bank"):
        return
    c.eq(u16(s[0x351], 2), int(bl["ccl_a"] * 10 + 0.01), "pylon-can 0x351: the bank's CCL")
    c.eq((u16(s[0x351], 0), u16(s[0x351], 4)), (int(bl["cvl_v"] * 10 + 0.01), int(bl["dcl_a"] * 10 + 0.01)),
         "pylon-can 0x351: the bank's CVL and DCL (%s)" % s[0x351].hex())
    c.eq(u16(s[0x355], 0), int(want["soc"] + 1e-4), "pylon-can 0x355: the bank's SOC, whole percent down")
    c.eq(u16(s[0x356], 0), round(want["voltage"] * 100), "pylon-can 0x356: the strings' median voltage, 0.01 V")
    c.eq(s16(s[0x356], 2), round(want["current"] * 10),
         "pylon-can 0x356: the strings' summed current, 0.1 A, negative while discharging")
    c.eq(s[0x35C][0] & 0xC0, 0xC0, "pylon-can 0x35C: charge and discharge allowed")


def deviation(sim, http):
    # g: -2 A against its string's -8 A: 4.5 A from the members' mean
    # (-6.5 A), the others 1.5 A from it; the threshold 2.5 A (5 % of the
    # rated 50 A, at least 2 A)
    sim.ctl("set 7 apart %g" % APART)
    st = wait_until(lambda: (lambda s: s if len(s) == 2 and s[1].get("current_deviation") is True else None)(
        strings_of(api_state(http))), 10)
    c.ok(st is not None, "a member's current apart from its string's (g at %g A, its string at %g A): "
         "string 2 current_deviation" % (APART, CURRENTS[1]))
    if st:
        c.eq(st[0].get("current_deviation"), False, "... string 1 not flagged")
        c.eq([m.get("current_departs") for m in st[1].get("members") or []], [False, False, True, False],
             "... member g named as the one departing")
        c.near(st[1].get("current"), (3 * CURRENTS[1] + APART) / 4, 0.011, "... string 2's current the members' mean")
    sim.ctl("set 7 apart off")
    st = wait_until(lambda: (lambda s: s if len(s) == 2 and s[1].get("current_deviation") is False else None)(
        strings_of(api_state(http))), 10)
    c.ok(st is not None, "g back in step: the flag clears")


def member_alarm(sim, http):
    """A member's alarm is its string's (alarms of any member), and its
    protection holds the string (charge not allowed)."""
    sim.ctl("set 3 alarm 1 1")  # c: JK alarm bit 8, charge over-temperature

    def f():
        api = api_state(http)
        mine = (packs_by_name(api).get("c") or {}).get("alarms") or []
        strs = strings_of(api)
        return (mine, strs) if mine and len(strs) == 2 and strs[0].get("alarms") else None
    got = wait_until(f, 10)
    if c.ok(got is not None, "member c's alarm reaches its string"):
        mine, strs = got
        c.ok(set(mine) <= set(strs[0]["alarms"]), "string 1's alarms hold member c's (%s, %s)" %
             (mine, strs[0]["alarms"]))
        c.eq(strs[1].get("alarms"), [], "string 2 has none")
    st = wait_until(lambda: (lambda s: s if s and (s[0].get("limits") or {}).get("charge_allowed") is False else
                             None)(strings_of(api_state(http))), 5)
    c.ok(st is not None and st[0]["limits"].get("ccl_a") == 0 and (st[1].get("limits") or {}).get("charge_allowed"),
         "member c's charge protection: string 1 may not charge, string 2 may")
    sim.ctl("set 3 alarm 1 0")
    c.ok(wait_until(lambda: (lambda s: s if s and not s[0].get("alarms") else None)(strings_of(api_state(http))), 10)
         is not None, "the alarm clears from string 1")


def temperatures(sim, http):
    """design §25: a string's temperatures are all its members' sensors:
    member b's warm sensor and member c's cool one are the string's hottest
    and coldest, not folded into a mean."""
    sim.ctl("set 2 temp 2 38")
    sim.ctl("set 3 temp 1 18")

    def f():
        api = api_state(http)
        ps = packs_by_name(api)
        if 38 not in (ps.get("b") or {}).get("temps_c", []) or 18 not in (ps.get("c") or {}).get("temps_c", []):
            return None
        return api
    api = wait_until(f, 10)
    st = strings_of(api or {})
    temps = (st[0].get("temps_c") if st else None) or []
    c.ok(api is not None and temps and max(temps) == 38 and min(temps) == 18,
         "string 1's temperatures hold every member's sensor: hottest 38, coldest 18 (%s)" % temps)
    s0 = st[0] if st else {}
    c.eq((s0.get("temp_max_c"), s0.get("temp_max"), s0.get("temp_min_c"), s0.get("temp_min")),
         (38.0, {"pack": "b", "sensor": 2}, 18.0, {"pack": "c", "sensor": 1}),
         "string 1's hottest and coldest sensor, each with its pack")
    sim.ctl("set 2 temp 2 26")
    sim.ctl("set 3 temp 1 25")


def overvoltage(sim, http, reader, client):
    sim.ctl("set 2 cell 3 3650")  # b: a cell over the charge table's 3.50 V

    def seen():
        p = packs_by_name(api_state(http)).get("b") or {}
        return time.monotonic() if max(p.get("cells_mv") or [0]) >= 3650 else None
    t_seen = wait_until(seen, 10, 0.02)
    if not c.ok(t_seen is not None, "member b's high cell reaches bmsgw"):
        return
    api = wait_until(lambda: (lambda a: a if (strings_of(a) or [{}])[0].get("limits", {}).get("ccl_a") == 0 else
                                         None)(api_state(http)), 5)
    c.ok(api is not None, "string 1's CCL 0 (member b's cell over-voltage)")
    if api:
        s1, s2 = strings_of(api)
        c.eq(s1["limits"].get("charge_allowed"), False, "... string 1 charge not allowed")
        c.ok((s2.get("limits") or {}).get("ccl_a", 0) > 0, "... string 2 keeps its CCL")
        c.eq((api["bank"].get("limits") or {}).get("ccl_a"), 0, "bank CCL 0: a string that may not charge stops "
             "the bank")
    r = wait_until(lambda: (lambda x: x if x and x[47] == 0 else None)(regs(client, 10)), 5)
    c.ok(r is not None and r[50] & 1 == 0, "bank unit: CCL 0, flags bit 0 (charge allowed) clear")
    # on the wire: every set begun one period after bmsgw had the cell
    late = wait_until(lambda: reader.sets(t_seen + PERIOD) or None, 5)
    c.ok(late is not None and all(u16(s[0x351], 2) == 0 and not s[0x35C][0] & 0x80 for _, s in late),
         "pylon-can: CCL 0 and 0x35C bit 7 clear in every set from one period after bmsgw had the cell (%s)" %
         [(s[0x351].hex(), s[0x35C].hex()) for _, s in (late or [])[:3]])
    sim.ctl("set 2 cell 3 auto")


def stale_member(sim, http, reader, client):
    sim.ctl("fault 6 silent")  # f, of string 2
    t0 = time.monotonic()
    st = wait_until(lambda: (lambda s: s if len(s) == 2 and s[1].get("stale") is True else None)(
        strings_of(api_state(http))), STALE_AFTER + 5)
    if not c.ok(st is not None, "member f silent: string 2 stale"):
        return
    t_stale = time.monotonic()
    c.eq([m.get("stale") for m in st[1].get("members") or []], [False, True, False, False],
         "... member f named stale")

    def failsafe():
        s2 = (strings_of(api_state(http)) + [{}, {}])[1]
        gl = s2.get("limits") or {}
        return s2 if (gl.get("ccl_a"), gl.get("dcl_a"), gl.get("charge_allowed"),
                      gl.get("discharge_allowed")) == (0, 0, False, False) else None
    # the limits are stepped once a second (gateway/model/charge.c's tick),
    # the stale flag read at the request's time
    fs = wait_until(failsafe, 2)
    t_fs = time.monotonic()
    c.ok(fs is not None, "string 2 fail-safe: CCL = DCL = 0, neither allowed (%.1f s after it showed stale)" %
         (t_fs - t_stale))
    c.eq(st[0].get("stale"), False, "string 1 not stale")
    # the bank's limits are the engine's: stepped within the second
    def bank_failsafe():
        bl = (api_state(http).get("bank") or {}).get("limits") or {}
        return bl if bl.get("member_stale") is True and bl.get("ccl_a") == 0 and bl.get("dcl_a") == 0 else None
    bl = wait_until(bank_failsafe, 3)
    c.ok(bl is not None, "bank (bank_stale = block): member_stale, CCL = DCL = 0 (%s)" %
         ((api_state(http).get("bank") or {}).get("limits")))
    r = regs(client, 10)
    c.ok(r is not None and r[47] == 0 and r[48] == 0 and r[50] & 0x20,
         "bank unit: CCL = DCL = 0, flags bit 5 fail-safe (%s)" % (r and r[46:51]))
    late = wait_until(lambda: reader.sets(t_fs + PERIOD) or None, 5)
    c.ok(late is not None and all(u16(s[0x351], 2) == 0 and u16(s[0x351], 4) == 0 and not s[0x35C][0] & 0xC0
                                  for _, s in late),
         "pylon-can: 0x351 CCL = DCL = 0 and 0x35C bits 7 / 6 clear (%.1f s after the fault)" %
         ((late[0][0] - t0) if late else -1))
    sim.ctl("fault 6 none")
    st = wait_until(lambda: (lambda s: s if len(s) == 2 and s[1].get("stale") is False else None)(
        strings_of(api_state(http))), 10)
    c.ok(st is not None, "member f answers again: string 2 fresh")


def one_bus(tmp):
    print("== two strings of four on one simulated bus (addresses 1..8)")
    can_a, can_b = pty_pair(tmp, "scan")
    sim = Sim(protocol="jk-pb", packs=[spec(k + 1, 1 + k // 4, MEMBERS[k]) for k in range(8)])
    reader = CanReader(can_b)
    gw_port, http = free_port(), free_port()
    g = Gateway(conf(gw_port, http, [(sim.port, range(1, 9))], can_a), gw_port)
    client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    client.connect()
    try:
        if not c.ok(wait_until(lambda: all_online(http), 20) is not None, "all eight members online"):
            g.dump(40)
            return
        st = sim.state()
        c.eq([(x["members"], x["current"]) for x in st["strings"]],
             [([1, 2, 3, 4], CURRENTS[0]), ([5, 6, 7, 8], CURRENTS[1])], "the simulator's two strings")
        states = st["packs"]
        members_through_units([{"members": x["members"], "current": x["current"]} for x in st["strings"]],
                              client, states)
        want = expect_strings(states)
        api = settled_api(http, want)
        if not c.ok(api is not None, "/api/state bank.strings: two strings with their members' values"):
            api = api_state(http)
            print("   bank: %s" % {k: v for k, v in (api.get("bank") or {}).items() if k != "strings"})
            print("   bank.strings: %s" % strings_of(api))
        strs = strings_of(api)
        for s in range(2):
            got = strs[s] if s < len(strs) else {}
            check_string(got, want[s], string_limits(api, want[s]["members"]), "string %d" % (s + 1))
        bank_values(api, want, client)
        metrics(http)
        pylon_values(reader, http, want)
        deviation(sim, http)
        member_alarm(sim, http)
        overvoltage(sim, http, reader, client)
        stale_member(sim, http, reader, client)
        temperatures(sim, http)
        c.ok(g.alive() and "runtime error" not in g.text() and "AddressSanitizer" not in g.text(),
             "bmsgw ran through it, sanitizers quiet")
    finally:
        if c.failed:
            g.dump(30)
        client.close()
        g.stop()
        sim.stop()
        reader.close()


def two_buses(tmp):
    print("== one simulator process a string")
    can_a, can_b = pty_pair(tmp, "tcan")
    # each process's string is its string 1, with a current of its own
    sims = [Sim(protocol="jk-pb", packs=[spec(k + 1, 1, MEMBERS[4 * s + k], CURRENTS[s]) for k in range(4)])
            for s in range(2)]
    reader = CanReader(can_b)
    gw_port, http = free_port(), free_port()
    g = Gateway(conf(gw_port, http, [(sims[0].port, range(1, 5)), (sims[1].port, range(1, 5))], can_a), gw_port)
    client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    client.connect()
    try:
        if not c.ok(wait_until(lambda: all_online(http), 20) is not None, "two processes: all eight members online"):
            g.dump(40)
            return
        st = [x.state() for x in sims]
        c.eq([x["strings"][0]["current"] for x in st], list(CURRENTS), "two processes: each its string's current")
        states = st[0]["packs"] + st[1]["packs"]
        members_through_units([{"members": [1, 2, 3, 4], "current": CURRENTS[0]},
                               {"members": [5, 6, 7, 8], "current": CURRENTS[1]}], client, states)
        want = expect_strings(states)
        api = settled_api(http, want)
        c.ok(api is not None, "two processes: /api/state bank.strings as on one bus")
        strs = strings_of(api or {})
        for s in range(2):
            got = strs[s] if s < len(strs) else {}
            c.eq(member_names(got), want[s]["members"], "two processes: string %d members" % (s + 1))
            c.near(got.get("voltage"), want[s]["voltage"], 0.011, "two processes: string %d voltage" % (s + 1))
            c.near(got.get("current"), want[s]["current"], 0.011, "two processes: string %d current" % (s + 1))
            c.near(got.get("soc"), want[s]["soc"], 0.051, "two processes: string %d SOC" % (s + 1))
        bank = (api or {}).get("bank") or {}
        c.near(bank.get("current"), sum(CURRENTS), 0.011, "two processes: bank current the strings' sum")
    finally:
        if c.failed:
            g.dump(30)
        client.close()
        g.stop()
        for x in sims:
            x.stop()
        reader.close()


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-strings-")
    t0 = time.monotonic()
    try:
        one_bus(tmp)
        two_buses(tmp)
    finally:
        shutil.rmtree(tmp, True)
    print("(%.1f s)" % (time.monotonic() - t0))
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
