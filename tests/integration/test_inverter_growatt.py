#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""growatt-can end to end, without CAN hardware: the real bmsgw with a
simulated Daly pack and an [inverter.gw] of protocol = growatt-can on a pty
pair made by socat; the test plays the Growatt inverter with Debian's
python3-can over slcan (its own slcan parser), sending 0x301 as Growatt's
"BMS CAN-Bus-protocol-low-voltage" Rev_04 says (11 22 33 44 55 66 77 88,
about once a second), and decodes every answer with its own reader written
from gateway/inverter/PROTOCOLS.md §7 (big endian):

- nothing at all before the source's first data, however often it asks
  (state waiting), and nothing unasked once there is data: frames come only
  as answers to 0x301, one whole set (0x311-0x321) per request;
- the set's values: the charge voltage, current limits and the 0x319 and
  0x311 enable bits against the limits /api/state shows, the voltage,
  current, SOC, cells 1-16 of the pack and their extremes against the
  simulator's; requests closer than 50 ms get one answer;
- the fail-safe timeline of the pack going stale: the next answer has zero
  current limits, the enable bits clear and the communication warning,
  the charge voltage kept; after failsafe_silence no answer at all; answers
  again once the pack answers; each transition logged once;
- --check refuses `interval` for it and accepts conf/inverter-growatt.ini.
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
PACK = "address=1,cells=16,sensors=2,soc=57.5,current=-12.34"
SILENCE = 3
IDS = (0x311, 0x312, 0x313, 0x314, 0x315, 0x316, 0x317, 0x318, 0x319, 0x320, 0x321)
REQUEST = bytes.fromhex("1122334455667788")


class Growatt(CanReader):
    """The inverter: python-can's slcan on the test's end of the pty pair,
    0x301 sent when asked (or every `period` s), every frame kept."""
    RECV_S = 0.02

    def poll(self):
        self.polls += 1
        self.send(0x301, REQUEST)


# ------------------------------------------- this test's reader (§7, big endian)

def u16(d, i):
    return struct.unpack(">H", d[i:i + 2])[0]


def s16(d, i):
    return struct.unpack(">h", d[i:i + 2])[0]


def decode(s):
    """A set {id: bytes} as numbers, by PROTOCOLS.md §7's table."""
    d311, d313, d314, d319 = s[0x311], s[0x313], s[0x314], s[0x319]
    st = u16(d311, 6)
    out = {"cv": u16(d311, 0) / 10, "ccl": u16(d311, 2) / 10, "dcl": u16(d311, 4) / 10,
           "state": st & 3, "sp_state": (st >> 10) & 3, "st_discharge": bool(st & 0x20), "st_charge": bool(st & 0x40),
           "voltage": s16(d313, 0) / 100, "current": s16(d313, 2) / 10, "temp_max": s16(d313, 4) / 10,
           "soc": d313[6], "soh": d313[7] & 0x7F, "full_ah": u16(d314, 2) / 100, "delta_mv": u16(d314, 4),
           "charge": bool(d319[0] & 0x80), "discharge": bool(d319[0] & 0x40), "force": bool(d319[0] & 0x20),
           "chem": d319[0] & 3, "cell_max": u16(d319, 1), "cell_min": u16(d319, 3),
           "cell_max_no": d319[5], "cell_min_no": d319[6], "comm_warning": bool(s[0x312][3] & 0x01),
           "packs": s[0x312][4], "cells_total": s[0x312][7], "maker": s[0x320][0:2].decode("ascii", "replace")}
    cells = []
    for k in range(4):
        d = s.get(0x315 + k)
        cells += [u16(d, 2 * i) for i in range(4)] if d else []
    out["cells"] = cells
    return out


def answers(frames, t_req):
    """The frames of the answer to a request at t_req: {id: bytes}."""
    return {m.arbitration_id: bytes(m.data) for t, m in frames if t >= t_req}


def ask(g, timeout=3.0, pred=None):
    """Send 0x301; the whole set that answers it (decoded with its raw
    frames), or None."""
    t0 = time.monotonic()
    g.poll()

    def f():
        s = answers(g.since(t0), t0)
        if all(i in s for i in (0x311, 0x312, 0x313, 0x314, 0x319, 0x320, 0x321)):
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
[inverter.gw]
protocol = growatt-can
port = slcan://%s
source = p1
manufacturer = BMSGW
failsafe_silence = %d
""" % (gw_port, sim_port, http_port, pty, SILENCE)


def state_is(port, want):
    return lambda: (lambda x: x if x and x["state"] == want else None)(inverter_output(port, "gw"))


def test_waiting(env):
    print("== nothing before the first data, even when asked")
    g, port, sim = env["g"], env["http"], env["sim"]
    c.ok(wait_until(state_is(port, "waiting"), 10), "growatt-can: state waiting while the pack never answered")
    t0 = time.monotonic()
    for _ in range(6):
        g.poll()
        time.sleep(0.25)
    time.sleep(0.5)
    c.eq(len(g.since(0)), 0, "growatt-can before any data: no answer to 6 requests (%d frames)" % len(g.since(0)))
    sim.ctl("fault 1 none")
    c.ok(wait_until(state_is(port, "sending"), 10), "state sending once the pack answers")
    s = ask(g)
    c.ok(s is not None and u16(s[0x311], 0) >= 500 and s[0x313][6] > 0,
         "the first answer carries a real charge voltage and SOC (%s)" % str(s and (s[0x311].hex(), s[0x313].hex())))
    first = next((bytes(m.data) for t, m in g.since(t0) if m.arbitration_id == 0x311), None)
    c.ok(first is not None and u16(first, 0) >= 500, "the very first 0x311 on the bus carries a real charge voltage")


def test_unasked(env):
    print("== nothing unasked; one whole set per request")
    g, port = env["g"], env["http"]
    t0 = time.monotonic()
    time.sleep(2.5)  # five periods of any other dialect's 0.5 s
    c.eq(len(g.since(t0)), 0, "no frame in 2.5 s without a request")
    c.eq((inverter_output(port, "gw") or {}).get("state"), "sending", "... while the output is sending")
    t1 = time.monotonic()
    s = ask(g)
    ids = [m.arbitration_id for _, m in g.since(t1)]
    c.eq(ids, list(IDS), "one answer: 0x311-0x321 in order, the pack's 16 cells in 0x315-0x318 (%s)"
         % [hex(i) for i in ids])
    c.ok(s is not None and all(len(v) == 8 for v in s.values()), "every frame 8 bytes")
    c.ok(all(not m.is_extended_id for _, m in g.since(t1)), "standard (11-bit) frames")
    # three requests within 50 ms: one answer (two sets never within 50 ms)
    t2 = time.monotonic()
    for _ in range(3):
        g.poll()
    time.sleep(1.0)
    n311 = sum(1 for _, m in g.since(t2) if m.arbitration_id == 0x311)
    c.ok(1 <= n311 <= 2, "three requests within 50 ms: answered at most twice, 50 ms apart (%d sets)" % n311)
    o = inverter_output(port, "gw") or {}
    c.ok(o.get("min_set_gap_ms", 1000) >= 49.0, "the output's least gap between answers >= 50 ms (%s)"
         % o.get("min_set_gap_ms"))
    c.ok(o.get("inverter_seen") is True and o.get("frames_received", 0) >= 4,
         "the requests show: inverter_seen, frames_received (%s)" % o.get("frames_received"))


def test_values(env):
    print("== the answer's values (this test's big-endian reader)")
    g, port, sim = env["g"], env["http"], env["sim"]
    s = ask(g)
    st = sim.state()["packs"][0]
    lim = ((api_state(port).get("packs") or [{}])[0]).get("limits") or {}
    if not c.ok(s is not None and lim.get("cvl_v"), "an answer and the pack's limits (%s)" % lim):
        return
    v = decode(s)
    c.eq(round(v["cv"] * 10), int(lim["cvl_v"] * 10 + 0.01), "0x311 CV = the limits' CVL, 0.1 V down (%s)" % v["cv"])
    c.eq(round(v["ccl"] * 10), int(lim["ccl_a"] * 10 + 0.01) if lim["charge_allowed"] else 0,
         "0x311 CCL, 0.1 A (%s; /api/state %s)" % (v["ccl"], lim["ccl_a"]))
    c.eq(round(v["dcl"] * 10), int(lim["dcl_a"] * 10 + 0.01) if lim["discharge_allowed"] else 0,
         "0x311 DCL, 0.1 A (%s; /api/state %s)" % (v["dcl"], lim["dcl_a"]))
    c.ok(v["ccl"] > 0 and v["dcl"] > 0, "real current limits (%s A, %s A)" % (v["ccl"], v["dcl"]))
    c.eq((v["charge"], v["discharge"]), (v["ccl"] > 0, v["dcl"] > 0), "0x319 enable bits follow the currents")
    c.eq((v["st_charge"], v["st_discharge"]), (v["charge"], v["discharge"]), "0x311 status bits 6/5 mirror 0x319")
    c.eq((v["state"], v["sp_state"]), (3, 3), "status discharging (11) at -12.3 A, bits 0-1 and 10-11")
    c.eq(round(v["voltage"] * 100), round(st["voltage"] * 100), "0x313 voltage, 0.01 V (%s)" % v["voltage"])
    c.eq(round(v["current"] * 10), round(st["current"] * 10), "0x313 current, 0.1 A, + = charging (%s)" % v["current"])
    c.eq(round(v["temp_max"]), max(st["temps_c"]), "0x313 the hottest sensor (%s)" % v["temp_max"])
    c.eq(v["soc"], 57, "0x313 SOC 57.5 %% rounded down (%s)" % v["soc"])
    mv = st["cells_mv"]
    c.eq(v["cells"], mv, "0x315-0x318: the 16 cells in mV, pack order")
    c.eq((v["cell_max"], v["cell_min"]), (max(mv), min(mv)), "0x319 highest and lowest cell")
    c.eq((mv[v["cell_max_no"] - 1], mv[v["cell_min_no"] - 1]), (max(mv), min(mv)), "0x319 their numbers (1-based)")
    c.eq(v["delta_mv"], max(mv) - min(mv), "0x314 cell delta")
    c.eq((v["packs"], v["cells_total"], v["maker"], v["chem"]), (1, 16, "BM", 0),
         "0x312 one pack, 16 cells; 0x320 'BM' (manufacturer BMSGW); 0x319 LFP")
    c.ok(not v["comm_warning"], "no communication warning while fresh")


def test_stale(env):
    print("== the pack goes stale: zeros in the answers, then no answer, then answers again")
    g, port, sim, gw = env["g"], env["http"], env["sim"], env["gw"]
    before = ask(g)
    g.period = 0.5  # the inverter polls on its own from here
    t_fault = time.monotonic()
    sim.ctl("fault 1 silent")
    c.ok(wait_until(state_is(port, "failsafe"), 10), "state failsafe once the pack is stale")
    c.ok(wait_until(state_is(port, "silent"), SILENCE + 10), "silent after failsafe_silence")
    # the newest frames since the fault are the last before the silence, which
    # follows the fail-safe answers: read after the silence, whenever the test
    # saw the fail-safe state (failsafe_silence is 3 s)
    s = answers(g.since(t_fault), t_fault)
    s = s if 0x311 in s and 0x319 in s and 0x312 in s else None
    if c.ok(s is not None, "answers go on while fail-safe"):
        v = decode({**before, **s}) if before else None
        c.eq((v["ccl"], v["dcl"]), (0, 0), "fail-safe 0x311: CCL = DCL = 0")
        c.eq((v["charge"], v["discharge"], v["force"]), (False, False, False), "fail-safe 0x319: enables clear")
        c.eq((v["st_charge"], v["st_discharge"]), (False, False), "fail-safe 0x311 status bits 6/5 clear")
        c.ok(v["comm_warning"], "fail-safe 0x312 byte 3 bit 0: internal communication fail")
        c.eq(s[0x311][0:2], before[0x311][0:2], "the charge voltage is kept (never 0)")
    heard, (n0, n1), asked, _ = g.silent(lambda: frames_sent(port, "gw"))
    c.ok(asked >= 4 and not heard and n0 is not None and n1 == n0,
         "silent: no answer to %d requests (%d frames heard; frames_sent %s, then %s)" % (asked, heard, n0, n1))
    sim.ctl("fault 1 none")
    c.ok(wait_until(state_is(port, "sending"), 15), "sending again once the pack answers")
    t_back = time.monotonic()
    s = wait_until(lambda: (lambda a: a if 0x311 in a and u16(a[0x311], 2) > 0 else None)(
        answers(g.since(t_back), t_back)), 15)
    c.ok(s is not None, "answers again, the current limits back after recovery_hold")
    g.period = None
    log = gw.text()
    # each transition once: as many "fresh again" lines as "stale" ones (a
    # loop late on a loaded machine can judge the pack stale a moment before
    # it reads an answer already there: a second pair, each logged once)
    n = {what: len(re.findall(pat, log)) for what, pat in (
        ("stale", r"inverter gw: source p1 is stale"), ("silent", r"inverter gw: silent"),
        ("back", r"inverter gw: source p1 fresh again"))}
    c.ok(n["stale"] >= 1 and n["back"] == n["stale"], "each stale transition logged once, and its return (%s)" % n)
    c.ok(1 <= n["silent"] <= n["stale"], "the silence logged once (%s)" % n)


def test_check(env):
    print("== --check")
    exe = os.path.join(ROOT, BIN, "bmsgw")
    out = subprocess.run([exe, "-c", env["gw"].conf, "--check"], capture_output=True, text=True)
    c.eq(out.returncode, 0, "--check accepts the test's configuration")
    c.ok(re.search(r"(?m)^\s+gw: growatt-can on ", out.stdout + out.stderr) is not None, "--check lists it")
    path = env["gw"].conf + ".interval"
    with open(env["gw"].conf) as f, open(path, "w") as w:
        w.write(f.read() + "interval = 1\n")
    out = subprocess.run([exe, "-c", path, "--check"], capture_output=True, text=True)
    c.ok(out.returncode != 0 and "growatt-can answers each request (0x301)" in out.stderr,
         "--check refuses interval for growatt-can (%s)" % out.stderr.strip()[-120:])
    out = subprocess.run([exe, "-c", os.path.join(ROOT, "conf/inverter-growatt.ini"), "--check"],
                         capture_output=True, text=True)
    c.eq(out.returncode, 0, "conf/inverter-growatt.ini passes --check (%s)" % out.stderr.strip()[-120:])


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-gw-")
    pty_a, pty_b = pty_pair(tmp, "gw")
    sim = Sim(packs=(PACK,))
    sim.ctl("fault 1 silent")  # silent from the start: the output waits
    gw_port, http_port = free_port(), free_port()
    g = Growatt(pty_b)
    env = {"sim": sim, "http": http_port, "g": g}
    env["gw"] = gw = Gateway(conf(gw_port, http_port, sim.port, pty_a), gw_port)
    try:
        test_waiting(env)
        test_unasked(env)
        test_values(env)
        test_stale(env)
        test_check(env)
        c.ok(gw.alive() and "runtime error" not in gw.text() and "AddressSanitizer" not in gw.text(),
             "the daemon ran through it, sanitizers quiet")
    finally:
        if c.failed:
            gw.dump(60)
        gw.stop()
        sim.stop()
        g.close()
    sys.exit(c.report())


if __name__ == "__main__":
    main()
