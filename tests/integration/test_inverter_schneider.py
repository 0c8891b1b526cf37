#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""schneider-can end to end, without CAN hardware: the real bmsgw with a
simulated 16-cell Daly pack (a 48 V source, the XW Pro's class) and an
[inverter.xw] of protocol = schneider-can (report_capacity_ah = 100) on a
pty pair made by socat; the test plays the XW Pro with Debian's
python3-can over slcan, sending its 0x310 as Battery-Emulator's
SCHNEIDER-CAN reads it, and decodes every frame with its own reader
written from gateway/inverter/PROTOCOLS.md §19 (29-bit 0x320-0x333, big
endian, 32-bit fields in 0.01 V and 0.01 A):

- the adapter opened at 500 kbit/s (S6);
- nothing before the source's first data; then the battery speaks first:
  every frame, in the document's order, without any 0x310 (/api/state: the
  inverter not seen);
- the values: CVL / DVL and CCL / DCL against /api/state's limits, the
  voltage and current, the mean temperature and SOC (0.1 %), the commands
  (charge and discharge permitted), the state online, SOH and the capacity
  set, the extreme sensors and cells, the version 2 and "SEBMS", the short
  frames' DLCs (2, 4, 6), against /api/state and the simulator's pack;
- the periods, as facts of the code: 0x321-0x325 more often than 0x320,
  0x326, 0x327, those than 0x328-0x333, the median gaps at least 90 % of
  500 ms, 2 s and 10 s;
- the XW Pro's 0x310 heard (counted, the inverter seen), nothing answered;
- the fail-safe timeline: 0x322 zero at once with the CVL and DVL kept,
  0x325 "stop" with both permissions cleared and the communication
  warning, 0x326 "faulted"; silence after failsafe_silence though the XW
  Pro speaks; every frame again once fresh, the limits back after
  recovery_hold; each transition logged once;
- --check: a 48 V protocol, listed without a voltage window; interval,
  extras, report_modules, variant refused; conf/inverter-schneider.ini
  accepted;
- a bank of two 16S packs in parallel as the source: the bank's voltage,
  the summed current and the bank's limits.
"""
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BIN, ROOT, Checks, Gateway, Sim, api_state, free_port, inverter_output,  # noqa: E402
                     pty_pair, wait_until)
import hvinv  # noqa: E402

try:
    from can.interfaces.slcan import slcanBus  # noqa: F401 - canreader.py uses it
except ImportError:
    print("python3-can is not installed (make deps installs it)")
    print("0 passed, 1 failed")
    sys.exit(1)

c = Checks()
ORDER = [0x321, 0x322, 0x323, 0x324, 0x325, 0x320, 0x326, 0x327, 0x328, 0x330, 0x331, 0x332, 0x333]
DLC = {0x320: 2, 0x324: 4, 0x325: 6}
PERIOD = {0x321: 0.5, 0x322: 0.5, 0x323: 0.5, 0x324: 0.5, 0x325: 0.5, 0x320: 2, 0x326: 2, 0x327: 2,
          0x328: 10, 0x330: 10, 0x331: 10, 0x332: 10, 0x333: 10}
PACK = "address=1,cells=16,sensors=2,soc=57.5,current=-12.34"
SILENCE = 3


def u16(d, i):
    return struct.unpack(">H", d[i:i + 2])[0]


def s16(d, i):
    return struct.unpack(">h", d[i:i + 2])[0]


def s32(d, i):
    return struct.unpack(">i", d[i:i + 4])[0]


def ours(m):
    return m.is_extended_id and m.arbitration_id in PERIOD


class Xw(hvinv.Dialect):
    name = "schneider-can"

    def poll(self, inv):
        inv.send(0x310, bytes(8))  # the XW Pro's "alive" (its payload is not read)


class Inverter(hvinv.Inverter):
    pass


def newest(frames, need=(0x321, 0x322, 0x323, 0x324, 0x325)):
    a = {}
    for _, m in frames:
        if ours(m):
            a[m.arbitration_id] = bytes(m.data)
    return a if all(k in a for k in need) else None


def decode(a):
    return {"cvl": s32(a[0x321], 0) / 100, "dvl": s32(a[0x321], 4) / 100, "ccl": s32(a[0x322], 0) / 100,
            "dcl": s32(a[0x322], 4) / 100, "voltage": s32(a[0x323], 0) / 100, "current": s32(a[0x323], 4) / 100,
            "temp": s16(a[0x324], 0) / 10, "soc": u16(a[0x324], 2) / 10, "cmd": u16(a[0x325], 0),
            "warn": u16(a[0x325], 2), "fault": u16(a[0x325], 4)}


def conf(gw_port, http_port, sim_port, pty, source_packs=1):
    packs = "".join("[pack.p%d]\nprotocol = daly\nport = tcp://127.0.0.1:%d\naddress = %d\ncells = 16\n"
                    "poll_interval = 0.3\ntimeout = 0.4\nretries = 0\n" % (k, sim_port, k)
                    for k in range(1, source_packs + 1))
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 2
state_file = none
%s%s[limits]
recovery_hold = 1
recovery_rate = 100
[http]
listen = 127.0.0.1:%d
[history]
file = none
[inverter.xw]
protocol = schneider-can
port = slcan://%s
source = %s
failsafe_silence = %d
report_capacity_ah = 100
""" % (gw_port, packs, "[bank]\n" if source_packs > 1 else "", http_port, pty,
       "bank" if source_packs > 1 else "p1", SILENCE)


def state_is(port, want):
    return hvinv.state_is(port, want, "xw")


def test_first(env):
    print("== nothing before the first data; then the battery speaks first")
    inv, port, sim = env["inv"], env["http"], env["sim"]
    c.ok(wait_until(state_is(port, "waiting"), 10), "state waiting while the pack never answered")
    time.sleep(1.5)
    c.eq(len(inv.since(0)), 0, "before any data: no frame (%d)" % len(inv.since(0)))
    t0 = time.monotonic()
    sim.ctl("fault 1 none")
    c.ok(wait_until(state_is(port, "sending"), 10), "state sending once the pack answers")
    got = wait_until(lambda: (lambda f: f if len(f) >= len(ORDER) else None)([m for _, m in inv.since(t0)
                                                                              if ours(m)]), 5)
    c.eq([m.arbitration_id for m in (got or [])][:len(ORDER)], ORDER, "every frame, in the document's order, "
         "though the XW Pro never spoke")
    c.ok(all(len(m.data) == DLC.get(m.arbitration_id, 8) for m in got or []), "DLC 2 (0x320), 4 (0x324), 6 (0x325), "
         "else 8")
    a = newest(inv.since(t0))
    c.ok(a is not None and decode(a)["cvl"] > 40 and decode(a)["soc"] > 0, "the first frames carry a real CVL and SOC")
    o = inverter_output(port, "xw") or {}
    c.ok(o.get("inverter_seen") is False and o.get("frames_received") == 0 and o.get("schedule") is True,
         "/api/state: schedule on, the inverter not seen")


def test_values(env):
    print("== the values (this test's big-endian reader)")
    inv, port, sim = env["inv"], env["http"], env["sim"]
    t0 = time.monotonic()
    a = wait_until(lambda: newest(inv.since(t0), tuple(ORDER)), 12)
    st = sim.state()["packs"][0]
    pk = (api_state(port).get("packs") or [{}])[0]
    lim = pk.get("limits") or {}
    if not c.ok(a is not None and lim.get("cvl_v"), "every frame, and the pack's limits"):
        return
    v = decode(a)
    c.eq(round(v["cvl"] * 10), int(lim["cvl_v"] * 10 + 0.01), "0x321 CVL (0.01 V, to the 0.1 V below) (%s)" % v["cvl"])
    c.ok(abs(v["dvl"] - lim["dvl_v"]) < 0.11 and v["dvl"] >= lim["dvl_v"] - 1e-6, "0x321 DVL (%s; %s)"
         % (v["dvl"], lim["dvl_v"]))
    c.eq(round(v["ccl"] * 10), int(lim["ccl_a"] * 10 + 0.01), "0x322 CCL, 0.01 A (%s)" % v["ccl"])
    c.eq(round(v["dcl"] * 10), int(lim["dcl_a"] * 10 + 0.01), "0x322 DCL, 0.01 A (%s)" % v["dcl"])
    c.ok(v["ccl"] > 0 and v["dcl"] > 0, "real current limits")
    o = inverter_output(port, "xw") or {}
    c.ok(abs(o.get("sent_ccl_a", -1) - v["ccl"]) < 0.05, "/api/state's sent_ccl_a is what the XW Pro read")
    c.eq(round(v["voltage"] * 100), round(st["voltage"] * 100), "0x323 voltage, 0.01 V (%s)" % v["voltage"])
    c.eq(round(v["current"] * 100), round(st["current"] * 100), "0x323 current, + = charging (%s)" % v["current"])
    temps, mv = st["temps_c"], st["cells_mv"]
    c.eq(v["temp"], (max(temps) + min(temps)) / 2, "0x324 the mean of the hottest and coldest")
    c.eq(v["soc"], int(pk["soc"] * 10 + 1e-3) / 10, "0x324 SOC in 0.1 %% (%s)" % v["soc"])
    c.eq((v["cmd"], v["warn"], v["fault"]), (6, 0, 0), "0x325: charge and discharge permitted, no warning, no fault")
    soh = pk.get("soh")
    c.eq([u16(a[0x326], i) for i in (0, 4, 6)], [3, 100 if soh is None else round(soh), 100],
         "0x326: online, SOH, the capacity set (100 Ah)")
    d = a[0x327]
    c.eq((s16(d, 0) / 10, s16(d, 2) / 10, u16(d, 4), u16(d, 6)), (float(max(temps)), float(min(temps)), max(mv),
                                                                  min(mv)), "0x327 the extremes")
    c.eq(a[0x320], b"\x00\x02", "0x320 the protocol's version 2")
    c.eq(a[0x333], b"SEBMS\x00\x00\x00", "0x333 SEBMS")
    serial = a[0x330][4:] + a[0x331] + a[0x332]
    c.ok(serial.startswith(b"BMSGW00") and serial.isascii() and len(serial) == 20, "0x330-0x332: a 20-character "
         "serial (%r)" % serial)


def test_periods(env):
    print("== the periods, as facts of the code")
    inv = env["inv"]
    t0 = time.monotonic()
    got = wait_until(lambda: (lambda f: f if sum(1 for _, m in f if m.arbitration_id == 0x333) >= 2 else None)(
        inv.since(t0)), 30)
    if not c.ok(got is not None, "two 0x333 (10 s) within 30 s"):
        return
    times = {}
    for t, m in got:
        if ours(m):
            times.setdefault(m.arbitration_id, []).append(t)
    n = {p: min(len(times.get(k, [])) for k in PERIOD if PERIOD[k] == p) for p in (0.5, 2, 10)}
    c.ok(n[0.5] > n[2] > n[10] >= 2, "500 ms frames more often than the 2 s ones, those than the 10 s ones (%s)" % n)
    for k, p in sorted(PERIOD.items()):
        gaps = [b - a for a, b in zip(times.get(k, []), times.get(k, [])[1:])]
        c.ok(gaps and statistics.median(gaps) >= 0.9 * p, "0x%03X: the median gap %.3f s >= 90 %% of %g s"
             % (k, statistics.median(gaps) if gaps else -1, p))


def test_heard(env):
    print("== the XW Pro's 0x310: heard, nothing answered")
    inv, port = env["inv"], env["http"]
    for _ in range(4):
        inv.poll()
        time.sleep(0.1)
    o = wait_until(lambda: (lambda x: x if x and x.get("frames_received", 0) >= 4 else None)(
        inverter_output(port, "xw")), 3)
    c.ok(o is not None and o.get("inverter_seen") is True, "/api/state: frames_received %s, inverter_seen"
         % (o or {}).get("frames_received"))


def test_stale(env):
    print("== the pack goes stale: zeros and stop at once, then silence, then frames again")
    inv, port, sim, gw = env["inv"], env["http"], env["sim"], env["gw"]
    before = decode(newest(inv.since(time.monotonic() - 1.5)) or {})
    inv.period = 0.5
    sim.ctl("fault 1 silent")
    c.ok(wait_until(state_is(port, "failsafe"), 10), "state failsafe once the pack is stale")
    t_fs = time.monotonic() + 0.05
    a = wait_until(lambda: newest(inv.since(t_fs), (0x321, 0x322, 0x323, 0x324, 0x325, 0x326)), 5)
    if c.ok(a is not None, "frames go on while fail-safe"):
        v = decode(a)
        c.eq((v["ccl"], v["dcl"]), (0, 0), "0x322: CCL = DCL = 0")
        c.eq((v["cvl"], v["dvl"]), (before["cvl"], before["dvl"]), "0x321: the CVL and DVL kept (never 0)")
        c.eq(v["cmd"], 8, "0x325: stop, charge and discharge not permitted")
        c.ok(v["warn"] & 0x80, "0x325: the communication warning (bit 7)")
        c.eq(u16(a[0x326], 0), 4, "0x326: faulted")
    o = inverter_output(port, "xw") or {}
    c.ok(o.get("early_sets", 0) >= 1, "sent out of turn (early_sets %s)" % o.get("early_sets"))
    c.ok(wait_until(state_is(port, "silent"), SILENCE + 10), "silent after failsafe_silence")
    t_si = time.monotonic() + 0.1
    polls = inv.polls
    time.sleep(2.5)
    c.ok(inv.polls - polls >= 4 and not [m for _, m in inv.since(t_si) if ours(m)],
         "silent: no frame though the XW Pro speaks (%d of its frames)" % (inv.polls - polls))
    t_back = time.monotonic()
    sim.ctl("fault 1 none")
    c.ok(wait_until(state_is(port, "sending"), 15), "sending again once the pack answers")
    got = wait_until(lambda: (lambda f: f if len(f) >= len(ORDER) else None)([m for _, m in inv.since(t_back)
                                                                              if ours(m)]), 5)
    c.eq([m.arbitration_id for m in (got or [])][:len(ORDER)], ORDER, "every frame again")
    a = wait_until(lambda: (lambda x: x if x and decode(x)["ccl"] > 0 else None)(newest(inv.since(t_back))), 15)
    c.ok(a is not None and decode(a)["cmd"] == 6, "the current limits and the permissions back after recovery_hold")
    inv.period = None
    log = gw.text()
    for what, pat in (("stale", r"inverter xw: source p1 is stale"), ("silent", r"inverter xw: silent"),
                      ("back", r"inverter xw: source p1 fresh again")):
        c.eq(len(re.findall(pat, log)), 1, "the %s transition logged once" % what)


def test_check(env):
    print("== --check")
    out = hvinv.check(env["gw"].conf)
    c.eq(out.returncode, 0, "--check accepts the test's configuration")
    line = re.search(r"(?m)^\s+xw: schneider-can on slcan .*$", out.stdout)
    c.ok(line is not None and "keeps an SE BMS's own periods" in line.group(0) and "V within" not in line.group(0)
         and "silent while" not in line.group(0), "--check lists it, a 48 V protocol without a voltage window")
    with open(env["gw"].conf) as f:
        text = f.read()
    for key, msg in (("interval = 1\n", "takes no interval key"), ("extras = none\n", "takes no extras key"),
                     ("report_modules = 2\n", "takes no report_modules key"), ("variant = sbs\n", "takes no variant "
                                                                                                  "key")):
        path = env["gw"].conf + ".bad"
        with open(path, "w") as w:
            w.write(text + key)
        out = hvinv.check(path)
        c.ok(out.returncode != 0 and "protocol schneider-can " + msg in out.stderr, "%s refused (%s)"
             % (key.strip(), out.stderr.strip()[-120:]))
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", os.path.join(ROOT, "conf/inverter-schneider.ini"),
                          "--check"], capture_output=True, text=True)
    c.eq(out.returncode, 0, "conf/inverter-schneider.ini passes --check (%s)" % out.stderr.strip()[-120:])


def test_bank(tmp):
    print("== a bank of two 16S packs in parallel as the source")
    pa, pb = pty_pair(tmp, "xwb")
    sim = Sim(packs=(PACK, "address=2,cells=16,sensors=2,soc=60,current=-10"))
    inv = Inverter(pb, Xw())
    gw_port, http_port = free_port(), free_port()
    gw = Gateway(conf(gw_port, http_port, sim.port, pa, 2), gw_port)
    try:
        c.ok(wait_until(state_is(http_port, "sending"), 15), "bank: state sending")
        c.ok(wait_until(lambda: (api_state(http_port).get("bank") or {}).get("packs_online") == 2, 15),
             "both packs online")
        t_on = time.monotonic() + 0.3  # frames built after both packs' polls

        def settled():
            bank = api_state(http_port).get("bank") or {}
            bl = bank.get("limits") or {}
            a = newest(inv.since(max(t_on, time.monotonic() - 0.6)))
            if not a or not bl.get("ccl_a"):
                return None
            v = decode(a)
            return (v, bank, bl) if round(v["ccl"] * 10) == int(bl["ccl_a"] * 10 + 0.01) else None
        got = wait_until(settled, 20, 0.3)
        if c.ok(got is not None, "0x322 the bank's CCL"):
            v, bank, bl = got
            c.ok(abs(v["voltage"] - bank["voltage"]) < 0.15, "0x323 the bank's voltage (%s; %s)"
                 % (v["voltage"], bank["voltage"]))
            c.ok(abs(v["current"] - bank["current"]) < 0.15 and v["current"] < -20,
                 "0x323 the packs' summed current (%s; %s)" % (v["current"], bank["current"]))
            c.eq(round(v["dcl"] * 10), int(bl["dcl_a"] * 10 + 0.01), "0x322 the bank's DCL")
        c.ok(gw.alive() and "runtime error" not in gw.text() and "AddressSanitizer" not in gw.text(),
             "bank: the daemon ran through it, sanitizers quiet")
    finally:
        if c.failed:
            gw.dump(60)
        gw.stop()
        sim.stop()
        inv.close()


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-xw-")
    pty_a, pty_b = pty_pair(tmp, "xw")
    sim = Sim(packs=(PACK,))
    sim.ctl("fault 1 silent")
    gw_port, http_port = free_port(), free_port()
    env = {"sim": sim, "http": http_port, "gw": None}

    def go():
        env["gw"] = Gateway(conf(gw_port, http_port, sim.port, pty_a), gw_port)
    fd, setup = hvinv.slcan_setup(pty_b, go)
    env["inv"] = Inverter(pty_b, Xw())
    os.close(fd)
    c.ok(re.search(r"\rS6\r", "\r" + setup) is not None and setup.endswith("O\r"),
         "the adapter opened at 500 kbit/s (S6): %r" % setup)
    try:
        test_first(env)
        test_values(env)
        test_periods(env)
        test_heard(env)
        test_stale(env)
        test_check(env)
    finally:
        hvinv.stop(c, env)
    test_bank(tmp)
    sys.exit(c.report())


if __name__ == "__main__":
    main()
