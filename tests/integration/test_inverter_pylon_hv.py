#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""pylon-hv-can end to end, without CAN hardware: the real bmsgw with a
simulated 32-cell Daly pack (an HV-range source: 32 LFP cells run 80.0-116.8
V) and an [inverter.hv] of protocol = pylon-hv-can on a pty pair made by
socat; the test plays the HV inverter with Debian's python3-can over slcan:
0x3010 heartbeats and 0x4200 requests (byte 0 = 00 "ensemble", 02 "system
equipment", as a Growatt SPH sends them, bmsgw-to-inverter #85), and decodes
every answer with its own reader written from gateway/inverter/PROTOCOLS.md
§8 (29-bit ids, little endian, currents on the 30000 offset with DCL =
30000 - 10 x A, temperatures on the 1000 offset, 0x4280 AA = forbidden):

- nothing at all before the source's first data, however often it asks
  (state waiting); nothing unasked once there is data; 00 answered with
  0x4210-0x4290 and 02 with 0x7310-0x7340, in order, extended, DLC 8, the
  ids under address 1; 01 not answered; 02 and 00 back to back both
  answered; two answers never within 50 ms;
- the values: CVL, DVL, CCL, DCL and 0x4280 against the limits /api/state
  shows; voltage, current, SOC, the extreme cells and their numbers against
  the simulator's; 0x7320's 32 cells and 0x7330's manufacturer;
- the source outside 80-1000 V (its cells pinned at 2.45 V: 78.4 V): no
  answer (state out_of_range), said once; answers again once inside;
- the fail-safe timeline of the pack going stale: the next answer has CCL =
  DCL = raw 30000, 0x4280 AA AA and the communication error, the cut-off
  voltages kept; after failsafe_silence no answer; answers again when
  fresh; each transition logged once;
- --check: the test's configuration and conf/inverter-pylon-hv.ini
  accepted, a 16-cell source, a source without cells, address 2 and
  interval refused;
- a bank of two strings of two simulated 32-cell packs (160.0-233.6 V a
  string; four packs on one simulated bus keep their polls in time on a
  loaded machine) as the source: the answer's voltage, current and limits are the
  bank's over its strings; a member's cell over-voltage puts the charge
  current 0 (and 0x4280 AA) in the next answers; a stale member (with
  bank_stale = block) makes its string stale and the answers fail-safe;
  back when it answers again.
"""
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BIN, ROOT, Checks, Gateway, Sim, api_state, frames_sent, free_port, inverter_output,  # noqa: E402
                     pty_pair, wait_until)
from canreader import CanReader  # noqa: E402

try:
    from can.interfaces.slcan import slcanBus  # noqa: F401 - canreader.py uses it
except ImportError:
    print("python3-can is not installed (make deps installs it)")
    print("0 passed, 1 failed")
    sys.exit(1)

c = Checks()
CELLS = 32
PACK = "address=1,cells=%d,sensors=2,soc=57.5,current=-12.34" % CELLS
SILENCE = 3
ADDR = 1
ENSEMBLE = [0x4210 + 0x10 * k + ADDR for k in range(9)]
EQUIPMENT = [0x7310 + 0x10 * k + ADDR for k in range(4)]


class Inverter(CanReader):
    """The HV inverter: python-can's slcan on the test's end of the pty
    pair; 0x3010 and 0x4200 00 / 02 when asked (or every `period` s, as a
    real one does), every frame kept."""
    RECV_S = 0.02

    def __init__(self, path):
        self.beat = 0
        super().__init__(path)

    def send(self, ident, data):
        super().send(ident, data, ext=True)

    def poll(self, kind=0):
        """The heartbeat, then 0x4200 with byte 0 = kind (byte 7 as the SPH's)."""
        self.polls += 1
        self.beat = (self.beat + 1) & 0xFFFF
        self.send(0x3010, struct.pack("<H", self.beat) + bytes(6))
        self.send(0x4200, bytes([kind, 0, 0, 0, 0, 0, 0, 0xE3]))


# ------------------------------------------- this test's reader (§8, little endian)

def u16(d, i):
    return struct.unpack("<H", d[i:i + 2])[0]


def decode(s):
    """An ensemble answer {id without address: bytes} as numbers, by
    PROTOCOLS.md §8.3."""
    a, b, cl, t, st, fb = s[0x4210], s[0x4220], s[0x4230], s[0x4240], s[0x4250], s[0x4280]
    return {"voltage": u16(a, 0) / 10, "current": (u16(a, 2) - 30000) / 10, "temp": (u16(a, 4) - 1000) / 10,
            "soc": a[6], "soh": a[7],
            "cvl": u16(b, 0) / 10, "dvl": u16(b, 2) / 10, "ccl": (u16(b, 4) - 30000) / 10,
            "dcl": (30000 - u16(b, 6)) / 10,
            "cell_max": u16(cl, 0), "cell_min": u16(cl, 2), "cell_max_no": u16(cl, 4), "cell_min_no": u16(cl, 6),
            "t_max": (u16(t, 0) - 1000) / 10, "t_min": (u16(t, 2) - 1000) / 10,
            "state": st[0] & 7, "comm_error": bool(st[3] & 0x04), "protect": u16(st, 6),
            "charge_forbidden": fb[0] == 0xAA, "discharge_forbidden": fb[1] == 0xAA, "marks": fb[0:2].hex()}


def answers(frames, t_req):
    """The frames at or after t_req: {id without its address digit: bytes}."""
    return {m.arbitration_id - ADDR: bytes(m.data) for t, m in frames if t >= t_req}


def ask(inv, kind=0, timeout=3.0, pred=None):
    """Send 0x4200 kind; the group that answers it, or None."""
    t0 = time.monotonic()
    inv.poll(kind)
    want = [i - ADDR for i in (ENSEMBLE if kind == 0 else EQUIPMENT)]

    def f():
        s = answers(inv.since(t0), t0)
        if all(i in s for i in want):
            return s if pred is None or pred(s) else None
        return None
    return wait_until(f, timeout)


# ----------------------------------------------------------------- the tests

def conf(gw_port, http_port, sim_port, pty):
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 2
state_file = none
[pack.p1]
protocol = daly
port = tcp://127.0.0.1:%d
address = 1
cells = %d
poll_interval = 0.3
timeout = 0.4
retries = 0
[limits]
recovery_hold = 1
recovery_rate = 100
[http]
listen = 127.0.0.1:%d
[history]
file = none
[inverter.hv]
protocol = pylon-hv-can
port = slcan://%s
source = p1
address = %d
manufacturer = BMSGW-HV
failsafe_silence = %d
""" % (gw_port, sim_port, CELLS, http_port, pty, ADDR, SILENCE)


def state_is(port, want):
    return lambda: (lambda x: x if x and x["state"] == want else None)(inverter_output(port, "hv"))


def test_waiting(env):
    print("== nothing before the first data, even when asked")
    inv, port, sim = env["inv"], env["http"], env["sim"]
    c.ok(wait_until(state_is(port, "waiting"), 10), "pylon-hv-can: state waiting while the pack never answered")
    t0 = time.monotonic()
    for k in range(6):
        inv.poll(0 if k % 2 == 0 else 2)
        time.sleep(0.25)
    time.sleep(0.5)
    c.eq(len(inv.since(0)), 0, "before any data: no answer to 6 requests (%d frames)" % len(inv.since(0)))
    sim.ctl("fault 1 none")
    c.ok(wait_until(state_is(port, "sending"), 10), "state sending once the pack answers")
    s = ask(inv)
    c.ok(s is not None and u16(s[0x4220], 0) >= 800 and s[0x4210][6] > 0,
         "the first answer carries a real CVL and SOC (%s)" % str(s and (s[0x4220].hex(), s[0x4210].hex())))
    first = next((bytes(m.data) for t, m in inv.since(t0) if m.arbitration_id == 0x4220 + ADDR), None)
    c.ok(first is not None and u16(first, 0) >= 800, "the very first 0x4220 on the bus carries a real CVL")


def test_unasked(env):
    print("== nothing unasked; each kind of request its group")
    inv, port = env["inv"], env["http"]
    t0 = time.monotonic()
    time.sleep(2.5)
    c.eq(len(inv.since(t0)), 0, "no frame in 2.5 s without a request")
    c.eq((inverter_output(port, "hv") or {}).get("state"), "sending", "... while the output is sending")
    t1 = time.monotonic()
    s = ask(inv, 0)
    time.sleep(0.3)
    got = inv.since(t1)
    c.eq([m.arbitration_id for _, m in got], ENSEMBLE, "00: 0x4211-0x4291 in order, address 1 (%s)"
         % [hex(m.arbitration_id) for _, m in got])
    c.ok(s is not None and all(m.is_extended_id and len(m.data) == 8 and not m.is_remote_frame for _, m in got),
         "every frame extended (29-bit), 8 bytes")
    t2 = time.monotonic()
    ask(inv, 2)
    time.sleep(0.3)
    c.eq([m.arbitration_id for _, m in inv.since(t2)], EQUIPMENT, "02: 0x7311-0x7341 in order")
    t3 = time.monotonic()
    inv.poll(1)
    time.sleep(0.6)
    c.eq(len(inv.since(t3)), 0, "01 (cell voltages): no answer")
    # the SPH's pair: 02 then 00 back to back: both groups, once each
    t4 = time.monotonic()
    inv.poll(2)
    inv.poll(0)
    both = sorted(ENSEMBLE + EQUIPMENT)
    wait_until(lambda: sorted(set(m.arbitration_id for _, m in inv.since(t4))) == both, 5)
    time.sleep(0.3)  # (then none more: a group sent twice would follow within this)
    ids = [m.arbitration_id for _, m in inv.since(t4)]
    c.ok(sorted(ids) == sorted(ENSEMBLE + EQUIPMENT), "02 and 00 back to back: both groups, each once (%s)"
         % [hex(i) for i in ids])
    o = inverter_output(port, "hv") or {}
    c.ok(o.get("min_set_gap_ms", 1000) >= 49.0, "the output's least gap between answers >= 50 ms (%s)"
         % o.get("min_set_gap_ms"))
    c.ok(o.get("inverter_seen") is True and o.get("frames_received", 0) >= 10,
         "the requests and heartbeats show: inverter_seen, frames_received (%s)" % o.get("frames_received"))


def test_values(env):
    print("== the answer's values (this test's little-endian reader)")
    inv, port, sim = env["inv"], env["http"], env["sim"]
    s = ask(inv, 0)
    e = ask(inv, 2)
    st = sim.state()["packs"][0]
    lim = ((api_state(port).get("packs") or [{}])[0]).get("limits") or {}
    if not c.ok(s is not None and e is not None and lim.get("cvl_v"), "answers and the pack's limits (%s)" % lim):
        return
    v = decode(s)
    c.eq(round(v["cvl"] * 10), int(lim["cvl_v"] * 10 + 0.01), "0x4220 CVL = the limits' CVL, 0.1 V down (%s)" % v["cvl"])
    c.ok(abs(v["dvl"] - lim["dvl_v"]) < 0.11 and v["dvl"] >= lim["dvl_v"] - 1e-6,
         "0x4220 DVL = the limits' DVL, 0.1 V up (%s; %s)" % (v["dvl"], lim["dvl_v"]))
    c.eq(round(v["ccl"] * 10), int(lim["ccl_a"] * 10 + 0.01) if lim["charge_allowed"] else 0,
         "0x4220 CCL = 30000 + 10 A (%s; /api/state %s)" % (v["ccl"], lim["ccl_a"]))
    c.eq(round(v["dcl"] * 10), int(lim["dcl_a"] * 10 + 0.01) if lim["discharge_allowed"] else 0,
         "0x4220 DCL = 30000 - 10 A (%s; /api/state %s)" % (v["dcl"], lim["dcl_a"]))
    c.ok(v["ccl"] > 0 and v["dcl"] > 0, "real current limits (%s A, %s A)" % (v["ccl"], v["dcl"]))
    c.eq((v["charge_forbidden"], v["discharge_forbidden"]), (False, False), "0x4280 00 00: both allowed")
    c.eq(round(v["voltage"] * 10), round(st["voltage"] * 10), "0x4210 voltage, 0.1 V (%s)" % v["voltage"])
    c.ok(80 <= v["voltage"] <= 116.8, "an HV-range voltage (%s V)" % v["voltage"])
    c.eq(round(v["current"] * 10), round(st["current"] * 10), "0x4210 current on 30000, + = charging (%s)"
         % v["current"])
    c.eq(v["state"], 2, "0x4250 state 2 (discharging) at -12.3 A")
    c.eq(v["soc"], 57, "0x4210 SOC 57.5 %% rounded down (%s)" % v["soc"])
    temps = st["temps_c"]
    c.eq((round(v["t_max"]), round(v["t_min"])), (max(temps), min(temps)), "0x4240 the hottest and coldest sensor")
    c.eq(round(v["temp"] * 10), round(sum(temps) / len(temps) * 10), "0x4210 the average temperature on 1000")
    mv = st["cells_mv"]
    c.eq((v["cell_max"], v["cell_min"]), (max(mv), min(mv)), "0x4230 highest and lowest cell")
    c.eq((mv[v["cell_max_no"] - 1], mv[v["cell_min_no"] - 1]), (max(mv), min(mv)), "0x4230 their numbers")
    c.eq((u16(e[0x7320], 0), e[0x7320][2], e[0x7320][3]), (CELLS, 1, CELLS), "0x7320: 32 cells, one module of 32")
    pk = (api_state(port).get("packs") or [{}])[0]
    full = pk.get("full_ah")
    c.eq(u16(e[0x7320], 6), int(full + 1e-6) if full is not None else 0,
         "0x7320 capacity, 1 Ah down, 0 when unknown (/api/state full_ah %s)" % full)
    c.eq(e[0x7330], b"BMSGW-HV", "0x7330 the manufacturer")
    c.ok(not v["comm_error"], "no communication error while fresh")


def test_range(env):
    print("== the source outside 80-1000 V: no answer")
    inv, port, sim, gw = env["inv"], env["http"], env["sim"], env["gw"]
    for i in range(1, CELLS + 1):
        sim.ctl("set 1 cell %d 2450" % i)  # 32 x 2.45 V = 78.4 V
    c.ok(wait_until(state_is(port, "out_of_range"), 10), "state out_of_range at 78.4 V")
    # an answer sent before the state changed may still be on the way (the reader stamps a frame when
    # it arrives): silent once nothing came for a second
    c.ok(wait_until(lambda: not inv.since(time.monotonic() - 1.0), 11), "out of range: nothing sent for 1 s")
    t0 = time.monotonic()
    for k in range(4):
        inv.poll(k % 2 * 2)
        time.sleep(0.3)
    time.sleep(0.5)
    c.eq(len(inv.since(t0)), 0, "out of range: no answer to 4 requests")
    for i in range(1, CELLS + 1):
        sim.ctl("set 1 cell %d auto" % i)
    c.ok(wait_until(state_is(port, "sending"), 10), "sending again inside the range")
    s = ask(inv, 0)
    c.ok(s is not None and decode(s)["voltage"] >= 80, "answered again (%s)" % (s and decode(s)["voltage"]))
    log = gw.text()
    c.eq(len(re.findall(r"inverter hv: source p1 measures [0-9.]+ V, outside pylon-hv-can's 80-1000 V", log)), 1,
         "out of range said once")
    c.eq(len(re.findall(r"inverter hv: source p1 measures [0-9.]+ V, inside pylon-hv-can's 80-1000 V again", log)),
         1, "back inside said once")


def test_stale(env):
    print("== the pack goes stale: zeros and AA AA, then no answer, then answers again")
    inv, port, sim, gw = env["inv"], env["http"], env["sim"], env["gw"]
    before = ask(inv, 0)
    inv.period = 0.5  # the inverter polls on its own from here
    t_fault = time.monotonic()
    sim.ctl("fault 1 silent")
    c.ok(wait_until(state_is(port, "failsafe"), 10), "state failsafe once the pack is stale")
    c.ok(wait_until(state_is(port, "silent"), SILENCE + 10), "silent after failsafe_silence")
    # the newest frames since the fault are the last before the silence, which
    # follows the fail-safe answers: read after the silence, whenever the test
    # saw the fail-safe state (failsafe_silence is 3 s)
    s = answers(inv.since(t_fault), t_fault)
    s = s if all(i in s for i in (0x4210, 0x4220, 0x4250, 0x4280)) else None
    if c.ok(s is not None and before is not None, "answers go on while fail-safe"):
        v = decode({**before, **s})
        c.eq((u16(s[0x4220], 4), u16(s[0x4220], 6)), (30000, 30000), "fail-safe 0x4220: CCL = DCL = raw 30000 (0 A)")
        c.eq(v["marks"], "aaaa", "fail-safe 0x4280: AA AA, both forbidden")
        c.ok(v["comm_error"], "fail-safe 0x4250 byte 3 bit 2: internal communication")
        c.eq(s[0x4220][0:4], before[0x4220][0:4], "the cut-off voltages are kept (never 0)")
    heard, (n0, n1), asked, _ = inv.silent(lambda: frames_sent(port, "hv"))
    c.ok(asked >= 4 and not heard and n0 is not None and n1 == n0,
         "silent: no answer to %d requests (%d frames heard; frames_sent %s, then %s)" % (asked, heard, n0, n1))
    sim.ctl("fault 1 none")
    c.ok(wait_until(state_is(port, "sending"), 15), "sending again once the pack answers")
    t_back = time.monotonic()
    s = wait_until(lambda: (lambda a: a if 0x4220 in a and u16(a[0x4220], 4) > 30000 else None)(
        answers(inv.since(t_back), t_back)), 15)
    c.ok(s is not None, "answers again, the current limits back after recovery_hold")
    inv.period = None
    log = gw.text()
    for what, pat in (("stale", r"inverter hv: source p1 is stale"), ("silent", r"inverter hv: silent"),
                      ("back", r"inverter hv: source p1 fresh again")):
        c.eq(len(re.findall(pat, log)), 1, "the %s transition logged once" % what)


def check(path):
    exe = os.path.join(ROOT, BIN, "bmsgw")
    return subprocess.run([exe, "-c", path, "--check"], capture_output=True, text=True)


def variant(env, name, old, new):
    with open(env["gw"].conf) as f:
        text = f.read()
    path = env["gw"].conf + "." + name
    with open(path, "w") as w:
        w.write(text.replace(old, new) if old else text + new)
    return check(path)


def test_check(env):
    print("== --check")
    out = check(env["gw"].conf)
    c.eq(out.returncode, 0, "--check accepts the test's configuration")
    c.ok(re.search(r"(?m)^\s+hv: pylon-hv-can on .*ids 0x4211 .*source range 80\.0-116\.8 V within 80-1000 V",
                   out.stdout) is not None, "--check lists it with its ids and both ranges")
    out = variant(env, "cells16", "cells = %d\n" % CELLS, "cells = 16\n")
    c.ok(out.returncode != 0 and "[inverter.hv] source: p1 runs 40.0-58.4 V" in out.stderr
         and "pylon-hv-can's 80-1000 V" in out.stderr, "a 16-cell source refused, both ranges named (%s)"
         % out.stderr.strip()[-160:])
    out = variant(env, "nocells", "cells = %d\n" % CELLS, "")
    c.ok(out.returncode != 0 and "[pack.p1] has no cells key" in out.stderr, "a source without cells refused (%s)"
         % out.stderr.strip()[-120:])
    out = variant(env, "addr", "address = %d\nmanu" % ADDR, "address = 2\nmanu")
    c.ok(out.returncode != 0 and "2 is no pylon-hv-can battery address" in out.stderr, "address 2 refused (%s)"
         % out.stderr.strip()[-120:])
    out = variant(env, "interval", None, "interval = 1\n")
    c.ok(out.returncode != 0 and "pylon-hv-can answers each request (0x4200)" in out.stderr,
         "interval refused (%s)" % out.stderr.strip()[-120:])
    out = check(os.path.join(ROOT, "conf/inverter-pylon-hv.ini"))
    c.eq(out.returncode, 0, "conf/inverter-pylon-hv.ini passes --check (%s)" % out.stderr.strip()[-120:])


def strings_conf(gw_port, http_port, sim_port, pty):
    packs = "".join("""[pack.%s]
protocol = daly
port = tcp://127.0.0.1:%d
address = %d
cells = 32
poll_interval = 1
timeout = 1
retries = 1
""" % (n, sim_port, k + 1) for k, n in enumerate("abcd"))
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 6
state_file = none
%s[bank]
strings = a+b, c+d
[limits]
recovery_hold = 1
recovery_rate = 100
bank_stale = block
[http]
listen = 127.0.0.1:%d
[history]
file = none
[inverter.hv]
protocol = pylon-hv-can
port = slcan://%s
source = bank
failsafe_silence = 60
""" % (gw_port, packs, http_port, pty)


def ask0(inv, pred=None, timeout=3.0):
    """0x4200 00 to an output at address 0: its ensemble answer by id."""
    t0 = time.monotonic()
    inv.poll(0)

    def f():
        a = {m.arbitration_id: bytes(m.data) for t, m in inv.since(t0)}
        if all(0x4210 + 0x10 * k in a for k in range(9)):
            return a if pred is None or pred(a) else None
        return None
    return wait_until(f, timeout)


def answer_where(frames, pred):
    """(0x4220, 0x4280) of the first answer whose 0x4220 holds pred: its
    0x4280 comes after it (waited for, never the answer before's), or None."""
    k = next((i for i, (t, m) in enumerate(frames) if m.arbitration_id == 0x4220 and pred(bytes(m.data))), None)
    fb = None if k is None else next((bytes(m.data) for t, m in frames[k:] if m.arbitration_id == 0x4280), None)
    return None if fb is None else (bytes(frames[k][1].data), fb)


def test_strings(tmp):
    print("== a bank of two strings of two packs as the source")
    pty_a, pty_b = pty_pair(tmp, "hvs")
    sim = Sim(packs=tuple("address=%d,cells=32,sensors=2,soc=57.5,current=-12.34" % (k + 1) for k in range(4)))
    gw_port, http_port = free_port(), free_port()
    inv = Inverter(pty_b)
    gw = Gateway(strings_conf(gw_port, http_port, sim.port, pty_a), gw_port)
    try:
        c.ok(wait_until(state_is(http_port, "sending"), 15), "strings: state sending")
        c.ok(wait_until(lambda: (lambda b: len(b) == 2 and all(x.get("online") for x in b))(
            (api_state(http_port).get("bank") or {}).get("strings") or []), 15), "both strings online")
        s = ask0(inv)
        bank = api_state(http_port).get("bank") or {}
        lim = bank.get("limits") or {}
        if c.ok(s is not None and lim.get("cvl_v") and len(bank.get("strings") or []) == 2,
                "an answer, the bank's limits and its two strings (%s)" % lim):
            v = decode(s)
            c.ok(160 <= v["voltage"] <= 233.6 and abs(v["voltage"] - bank["voltage"]) < 0.15,
                 "0x4210 voltage = the bank's over strings (%s V; /api/state %s)" % (v["voltage"], bank["voltage"]))
            c.ok(abs(v["current"] - bank["current"]) < 0.15 and v["current"] < -20,
                 "0x4210 current = the two strings' sum, + = charging (%s A; %s)" % (v["current"], bank["current"]))
            c.eq(round(v["cvl"] * 10), int(lim["cvl_v"] * 10 + 0.01), "0x4220 CVL = the bank's, a string's sum (%s)"
                 % v["cvl"])
            c.ok(v["cvl"] > 200, "a string's CVL (two members' sum: %s V)" % v["cvl"])
            c.eq(round(v["ccl"] * 10), int(lim["ccl_a"] * 10 + 0.01), "0x4220 CCL = the bank's (%s)" % v["ccl"])
            c.eq(round(v["dcl"] * 10), int(lim["dcl_a"] * 10 + 0.01), "0x4220 DCL = the bank's (%s)" % v["dcl"])
            c.ok(v["ccl"] > 0 and v["marks"] == "0000", "charging allowed, 0x4280 00 00 (%s)" % v["marks"])
        t0 = time.monotonic()
        inv.poll(2)
        e = wait_until(lambda: next((bytes(m.data) for t, m in inv.since(t0) if m.arbitration_id == 0x7320), None), 3)
        c.ok(e is not None and (u16(e, 0), e[2], e[3]) == (64, 2, 32),
             "0x7320: a string's 64 cells, 2 modules (packs) of 32 (%s)" % (e and e.hex()))
        inv.period = 0.5
        sim.ctl("set 3 cell 5 3600")  # a member of string 1 over its cell limit
        t0 = time.monotonic()
        a = wait_until(lambda: answer_where(inv.since(t0), lambda d: u16(d, 4) == 30000), 10)
        c.ok(a is not None and a[1][0] == 0xAA,
             "a member's cell over-voltage: CCL 0 and 0x4280 AA in an answer within %.1f s (%s)"
             % (time.monotonic() - t0, a and a[1].hex()))
        sim.ctl("set 3 cell 5 auto")
        t1 = time.monotonic()
        c.ok(wait_until(lambda: any(m.arbitration_id == 0x4220 and u16(bytes(m.data), 4) > 30000
                                    for t, m in inv.since(t1)), 15), "the charge current back once it is down")
        sim.ctl("fault 4 silent")  # a member of string 2 stale
        c.ok(wait_until(lambda: (lambda b: b if any(x.get("stale") for x in b.get("strings") or []) else None)(
            api_state(http_port).get("bank") or {}), 10), "a stale member: its string stale in /api/state")
        t2 = time.monotonic()
        a = wait_until(lambda: answer_where(inv.since(t2), lambda d: u16(d, 4) == 30000 and u16(d, 6) == 30000), 10)
        c.ok(a is not None and a[1][0:2] == b"\xaa\xaa" and u16(a[0], 0) > 0,
             "... and the answers fail-safe: CCL = DCL = raw 30000, 0x4280 AA AA, the CVL kept")
        sim.ctl("fault 4 none")
        t3 = time.monotonic()
        c.ok(wait_until(lambda: any(m.arbitration_id == 0x4220 and u16(bytes(m.data), 6) < 30000
                                    for t, m in inv.since(t3)), 20), "the discharge current back once it answers")
        inv.period = None
        c.ok(gw.alive() and "runtime error" not in gw.text() and "AddressSanitizer" not in gw.text(),
             "strings: the daemon ran through it, sanitizers quiet")
    finally:
        if c.failed:
            gw.dump(60)
        gw.stop()
        sim.stop()
        inv.close()


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-hv-")
    pty_a, pty_b = pty_pair(tmp, "hv")
    sim = Sim(packs=(PACK,))
    sim.ctl("fault 1 silent")  # silent from the start: the output waits
    gw_port, http_port = free_port(), free_port()
    inv = Inverter(pty_b)
    env = {"sim": sim, "http": http_port, "inv": inv}
    env["gw"] = gw = Gateway(conf(gw_port, http_port, sim.port, pty_a), gw_port)
    try:
        test_waiting(env)
        test_unasked(env)
        test_values(env)
        test_range(env)
        test_stale(env)
        test_check(env)
        c.ok(gw.alive() and "runtime error" not in gw.text() and "AddressSanitizer" not in gw.text(),
             "the daemon ran through it, sanitizers quiet")
    finally:
        if c.failed:
            gw.dump(60)
        gw.stop()
        sim.stop()
        inv.close()
    test_strings(tmp)
    sys.exit(c.report())


if __name__ == "__main__":
    main()
