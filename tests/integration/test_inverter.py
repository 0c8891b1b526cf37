#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The inverter outputs end to end, without CAN hardware: the real bmsgw with
a simulated Daly pack and [limits], three [inverter.*] sections on pty pairs
made by socat:

- pylon-can over slcan, read by Debian's python3-can (its own slcan parser):
  every frame's bytes equal this test's own encoding of the simulator's
  values and the limits /api/state shows (gateway/inverter/PROTOCOLS.md is
  the layout); a 0x305 sent back shows as "inverter seen";
- sma-can over slcan: SMA's frame set, never two frames within 200 ms;
- pylon-rs485: a test master sends the requests inverters send
  (~20024661E00201FD33 and the others), checks each reply's checksums and
  values, and gets no answer to a bad checksum, a bad LENGTH, another
  address; /api/state's sent_ccl_a and sent_dcl_a are the limits the last
  0x63 (and a CAN output's last set) carried;
- the fail-safe timeline of the pack going stale: zero current limits and
  the enable bits cleared at once, silence after failsafe_silence, frames
  again when it answers; each transition logged once;
- nothing at all before the source's first data: no frame, no RS485
  answer, state "waiting" (a pack whose BMS is silent from the start);
- growatt-rs485 (experimental): a Modbus RTU master written here polls FC
  03 and 04; the 19 registers checked against the simulator and the
  limits; no answer before data, to a bad CRC or another slave; zero
  limits when stale, then silence, then answers again;
- SOC-low protection keeps the charge enable bit and the CCL; no force
  charge while charging is forbidden (0 degC);
- a bank with a stale member: the communication warning (0x359 byte 3 bit
  3, SMA 0x35A warning 12, RS485 0x62 alarm 2 bit 4) and the CVL held at
  float voltage;
- a reload keeps an unchanged output sending without a gap and restarts a
  changed one; --check lists each output;
- SocketCAN where the kernel has vcan (skipped with its reason otherwise),
  and a SocketCAN interface that is not there: "down", logged once;
- the dialects, on a bank of two simulated JK-PB packs: pylon-can with
  every extra and lux-can frame by frame against this test's encoding of
  the simulator's bank (the coldest and hottest sensor of all, the cell
  extremes and where they are, the capacity, the cycles);
  soc_override = deye (SOC 0 % at DCL 0, 100 % at CCL 0) and
  soc_hold_full; pylon-rs485 with VER 0x28, 0x60, the bank's extremes in
  0x61, then reloaded with ver = echo and current_unit = 10mA; Luxpower's
  0x300 shutdown request shown and logged, never obeyed; and a 60 s
  capture, stamped by tests/tools/slcan_stamp.py at real-time priority on
  a pty of its own (no socat between), across stale / fresh transitions
  and sets out of turn: no two sets within 50 ms;
- solark-can and deye-can on a bank of two JK-PB packs, every frame decoded
  by this test's own reader of PROTOCOLS.md §1c/§1d (Sol-Ark's 0.1 V,
  Deye's + = discharging, its 0x361/0x364/0x371): nothing before the first
  data, zero limits (0x351, Deye's 0x371) with the enable bits cleared at
  once when the bank goes stale, the CVL kept, silence after
  failsafe_silence, frames again.
"""
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import time
import tty
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from canreader import CanReader  # noqa: E402
from harness import (BIN, ROOT, Checks, Gateway, Sim, api_state, free_port, inverter_output,  # noqa: E402
                     pty_pair, wait_file, wait_until)

try:
    import can  # noqa: F401
    from can.interfaces.slcan import slcanBus  # noqa: F401 - canreader.py uses it
except ImportError:
    print("python3-can is not installed (make deps installs it)")
    print("0 passed, 1 failed")
    sys.exit(1)

c = Checks()
PACK = "address=1,cells=16,sensors=2,soc=57.5,current=-12.34"
SILENCE_CAN = 3
SILENCE_485 = 5


# ---------------------------------------------------------------- helpers

def fetch(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
        return r.read().decode()


api = api_state


output = inverter_output


def pack_state(port):
    return wait_until(lambda: (api(port).get("packs") or [None])[0], 5)


def last_set(frames, ids):
    """The newest frame set holding all the ids: {id: bytes}.  A set begins
    with its 0x351, so frames are grouped at each 0x351 (the newest set may
    still be arriving: then the one before it)."""
    groups, cur = [], None
    for _, m in frames:
        if m.arbitration_id == 0x351:
            cur = {}
            groups.append(cur)
        if cur is not None and m.arbitration_id in ids:
            cur[m.arbitration_id] = bytes(m.data)
    for g in reversed(groups):
        if all(i in g for i in ids):
            return g
    return None


def wait_set(reader, ids, t0, timeout=10, pred=None):
    def f():
        s = last_set(reader.since(t0), ids)
        return s if s and (pred is None or pred(s)) else None
    return wait_until(f, timeout)


# --------------------------------------------------- this test's encoding

def scale(v, per, mode, lo, hi):
    """gateway/inverter/invscale.h: limits toward the safe side after a
    tolerance of 0.01, the SOC down (after 0.0001 %), measurements to the
    nearest (halves away from 0)."""
    import math
    x = v * per
    if mode == "down":
        x = math.floor(x + 0.01)
    elif mode == "floor":
        x = math.floor(x + 1e-4 * per)
    elif mode == "up":
        x = math.ceil(x - 0.01)
    else:
        x = math.floor(abs(x) + 0.5) * (1 if x >= 0 else -1)
    return int(min(max(x, lo), hi))


def le16(v):
    return struct.pack("<H", v & 0xFFFF)


def expect_pylon(sim, lim, manufacturer="PYLON"):
    temps = sim["temps_c"]
    cvl = scale(lim["cvl_v"], 10, "down", 0, 0xFFFF)
    dvl = scale(lim["dvl_v"], 10, "up", 0, 0xFFFF)
    ccl = scale(lim["ccl_a"], 10, "down", 0, 0x7FFF) if lim["charge_allowed"] else 0
    dcl = scale(lim["dcl_a"], 10, "down", 0, 0x7FFF) if lim["discharge_allowed"] else 0
    flags = ((0x80 if lim["charge_allowed"] else 0) | (0x40 if lim["discharge_allowed"] else 0) |
             (0x30 if lim["force_charge"] else 0) | (0x08 if lim["full_charge_request"] else 0))
    return {
        0x351: le16(cvl) + le16(ccl) + le16(dcl) + le16(dvl),
        0x355: le16(scale(sim["soc"], 1, "floor", 0, 100)) + le16(100),  # Daly: no SOH -> 100
        0x356: (le16(scale(sim["voltage"], 100, "near", 0, 0x7FFF)) +
                le16(scale(sim["current"], 10, "near", -0x7FFF, 0x7FFF)) +
                le16(scale(sum(temps) / len(temps), 10, "near", -0x7FFF, 0x7FFF))),
        0x359: bytes([0, 0, 0, 0, 1]) + b"PN",
        0x35C: bytes([flags, 0]),
        0x35E: manufacturer.encode().ljust(8, b" "),
    }


def served_full(sim):
    """The full capacity bmsgw sends for the simulator's pack by the one
    rule (bmsgw-modbus(7) "Capacities"): its BMS's, else (no [soc] capacity
    here) its remaining over its SOC (a Daly's); None without."""
    if sim.get("capacity_ah"):
        return sim["capacity_ah"]
    rem, soc = sim.get("remaining_ah"), sim.get("soc")
    return rem * 100 / soc if rem is not None and soc and soc > 1 else None


def expect_sma(sim, lim, manufacturer="PYLON"):
    temps = sim["temps_c"]
    cvl = min(max(scale(lim["cvl_v"], 10, "down", 0, 0xFFFF), 410), 630)
    dvl = min(max(scale(lim["dvl_v"], 10, "up", 0, 0xFFFF), 410), 480)
    ccl = min(scale(lim["ccl_a"], 10, "down", 0, 0x7FFF), 12000) if lim["charge_allowed"] else 0
    dcl = min(scale(lim["dcl_a"], 10, "down", 0, 0x7FFF), 12000) if lim["discharge_allowed"] else 0
    soc = sim["soc"]
    # every SMA message "left" (01): no alarm, no warning
    return {
        0x351: le16(cvl) + le16(ccl) + le16(dcl) + le16(dvl),
        0x355: (le16(scale(soc, 1, "floor", 0, 100)) + le16(0xFFFF) + le16(scale(soc, 100, "floor", 0, 10000)) +
                le16(0xFFFF)),
        0x356: (le16(scale(sim["voltage"], 100, "near", 0, 0x7FFF)) +
                le16(scale(sim["current"], 10, "near", -0x7FFF, 0x7FFF)) +
                le16(scale(sum(temps) / len(temps), 10, "near", -0x7FFF, 0x7FFF)) + le16(0xFFFF)),
        0x35A: sma_35a_idle(),
        0x35E: manufacturer.encode().ljust(8, b" "),
        0x35F: le16(0xFFFF) + le16(0xFFFF) + le16(scale(served_full(sim), 1, "near", 0, 0xFFFE)
                                                   if served_full(sim) else 0xFFFF) + le16(0xFFFF),
    }


def sma_35a_idle():
    """0x35A with every message 1..13 "left" (01 = bit 2(k-1)+1), 14..16 00."""
    bits = 0
    for k in range(1, 14):
        bits |= 1 << (2 * (k - 1) + 1)
    return struct.pack("<I", bits) * 2


# ------------------------------------------------ Pylontech RS485 frames

def p485_chk(body):
    return (~sum(body.encode()) + 1) & 0xFFFF


def p485_length(n):
    s = (n & 0xF) + ((n >> 4) & 0xF) + ((n >> 8) & 0xF)
    return ((~s + 1) & 0xF) << 12 | n


def p485_request(adr, cid2, info=b"", ver=0x20, cid1=0x46):
    hexinfo = info.hex().upper()
    body = "%02X%02X%02X%02X%04X%s" % (ver, adr, cid1, cid2, p485_length(len(hexinfo)), hexinfo)
    return ("~%s%04X\r" % (body, p485_chk(body))).encode()


def p485_parse(raw):
    """A reply's fields, after checking its LENGTH and frame checksums."""
    s = raw.decode("ascii").strip()
    if not s.startswith("~") or len(s) < 17:
        return None
    body, chk = s[1:-4], int(s[-4:], 16)
    length = int(body[8:12], 16)
    n = length & 0xFFF
    return {
        "ver": int(body[0:2], 16), "adr": int(body[2:4], 16), "cid1": int(body[4:6], 16),
        "rtn": int(body[6:8], 16), "lenid": n,
        "length_ok": p485_length(n) == length and len(body) == 12 + n,
        "chk_ok": p485_chk(body) == chk, "info": bytes.fromhex(body[12:]),
    }


class Master:
    """The inverter's side of the RS485 port: a pty end in raw mode."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)
        termios.tcflush(self.fd, termios.TCIOFLUSH)
        self.buf = b""

    def ask(self, frame, timeout=2.0):
        """Send frame; the first complete reply (~...CR) and the seconds it took,
        or (None, timeout)."""
        os.write(self.fd, frame)
        t0 = time.monotonic()
        return self.read(timeout, t0)

    def read(self, timeout, t0=None):
        import select
        t0 = t0 or time.monotonic()
        while True:
            i = self.buf.find(b"~")
            j = self.buf.find(b"\r", i if i >= 0 else 0)
            if i >= 0 and j > i:
                out, self.buf = self.buf[i:j + 1], self.buf[j + 1:]
                return out, time.monotonic() - t0
            left = t0 + timeout - time.monotonic()
            if left <= 0:
                return None, timeout
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                self.buf += os.read(self.fd, 4096)

    def close(self):
        os.close(self.fd)


# ------------------------------------------------------------------ conf

def conf(gw_port, http_port, sim_port, can_a, sma_a, rs_a, sma_interval=1, extra=""):
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 2
state_file = none
[pack.p1]
protocol = daly
port = tcp://127.0.0.1:%d
address = 1
unit_id = 1
poll_interval = 0.3
timeout = 0.4
retries = 0
[limits]
recovery_hold = 1
recovery_rate = 100
cvl_recovery_hold = 1
cvl_rate = 1
[http]
listen = 127.0.0.1:%d
[history]
file = none
[inverter.can]
protocol = pylon-can
port = slcan://%s
source = p1
interval = 0.5
failsafe_silence = %d
[inverter.sma]
protocol = sma-can
port = slcan://%s
source = p1
interval = %g
manufacturer = BMSGW
failsafe_silence = 30
[inverter.rs]
protocol = pylon-rs485
port = %s
address = 2
source = p1
failsafe_silence = %d
%s""" % (gw_port, sim_port, http_port, can_a, SILENCE_CAN, sma_a, sma_interval, rs_a, SILENCE_485, extra)


def lim_of(pk):
    """The pack's limits as /api/state shows them (fail-safe when null)."""
    return pk.get("limits")


# ----------------------------------------------------------------- tests

def test_pylon_can(env):
    print("== pylon-can over slcan, read by python-can")
    r, port, sim = env["can"], env["http"], env["sim"]
    ids = [0x351, 0x355, 0x356, 0x359, 0x35C, 0x35E]
    wait_until(lambda: (output(port, "can") or {}).get("state") == "sending", 15)
    t0 = time.monotonic()
    s = wait_set(r, ids, t0, 10)
    st = sim.state()["packs"][0]
    pk = pack_state(port)
    lim = lim_of(pk)
    if not c.ok(s is not None and lim is not None, "a whole frame set arrives, the pack has limits (%s)" % lim):
        return
    want = expect_pylon(st, lim)
    for i in ids:
        c.eq(s[i].hex(), want[i].hex(), "pylon-can 0x%03X bytes = the encoding of the simulator and the limits" % i)
    c.ok(lim["ccl_a"] > 0 and lim["dcl_a"] > 0 and lim["charge_allowed"],
         "the limits sent are real ones (CCL %s A, DCL %s A)" % (lim["ccl_a"], lim["dcl_a"]))
    c.eq((st["soc"], struct.unpack("<H", s[0x355][0:2])[0]), (57.5, 57),
         "a SOC of 57.5 % goes out as 57 %: rounded down, never up")
    dlc = {m.arbitration_id: m.dlc for _, m in r.since(t0)}
    c.eq([dlc.get(i) for i in ids], [8, 4, 6, 7, 2, 8], "DLCs 8, 4, 6, 7, 2, 8")
    # the default extras = capacity: the Daly's capacity by the one rule (its remaining over its SOC)
    cap = scale(served_full(st), 1, "near", 0, 0xFFFF)
    e = wait_set(r, [0x35F, 0x379], t0, 5)
    c.ok(e is not None and e[0x35F] == bytes(4) + le16(cap) + bytes(2) and e[0x379] == le16(cap) + bytes(6),
         "extras capacity: 0x35F and 0x379 carry %d Ah, the Daly's remaining over its SOC (%s)"
         % (cap, e and (e[0x35F].hex(), e[0x379].hex())))
    others = {m.arbitration_id for _, m in r.since(t0)} - set(ids) - {0x35F, 0x379}
    c.eq(sorted(others), [], "no other id on the bus")
    # the set repeats every interval (0.5 s): count whole sets over a window
    t1 = time.monotonic()
    wait_until(lambda: time.monotonic() - t1 > 2.6, 5)
    n351 = [t for t, m in r.since(t1) if m.arbitration_id == 0x351]
    c.ok(4 <= len(n351) <= 7, "a frame set every 0.5 s (%d sets in 2.6 s)" % len(n351))

    print("== the inverter answers 0x305")
    o = output(port, "can")
    c.ok(o and o["inverter_seen"] is False, "no 0x305 yet: inverter_seen false")
    r.send(0x305, [0] * 8)
    o = wait_until(lambda: (lambda x: x if x and x["inverter_seen"] else None)(output(port, "can")), 5)
    c.ok(o is not None, "a 0x305 from the bus: inverter_seen true (%s)" % o)
    m = fetch(port, "/metrics")
    c.ok(re.search(r'bmsgw_inverter_seen\{inverter="can",protocol="pylon-can"\} 1', m) is not None,
         "/metrics bmsgw_inverter_seen 1")
    sent = re.search(r'bmsgw_inverter_sent_total\{inverter="can",protocol="pylon-can"\} (\d+)', m)
    c.ok(sent and int(sent.group(1)) >= 6 * 4, "/metrics counts the frames sent (%s)" % (sent and sent.group(1)))
    c.ok(re.search(r'bmsgw_inverter_state\{inverter="can",state="sending"\} 1', m) is not None,
         "/metrics state sending")


def test_fall_at_once(env):
    print("== a current limit that falls is sent at once, not at the next period")
    r, port, sim = env["can"], env["http"], env["sim"]
    early0 = output(port, "can")["early_sets"]
    t0 = time.monotonic()
    sim.ctl("set 1 cell 3 3600")
    s = wait_set(r, [0x351], t0, 10, lambda s: struct.unpack("<h", s[0x351][2:4])[0] == 0)
    c.ok(s is not None, "a cell at 3.600 V: CCL 0 in a 0x351")
    o = output(port, "can")
    c.ok(o["early_sets"] > early0, "... sent out of turn, in the poll that read the cell (early_sets %d -> %d)" %
         (early0, o["early_sets"]))
    c.eq(o.get("sent_ccl_a"), 0.0, "/api/state sent_ccl_a: the CCL sent, 0 A")
    sim.ctl("set 1 cell 3 auto")
    back = wait_set(r, [0x351], time.monotonic(), 15, lambda s: struct.unpack("<hh", s[0x351][0:4]) == (552, 500))
    c.ok(back, "the cell back: CVL and CCL back after their recovery holds")
    c.eq(output(port, "can").get("sent_ccl_a"), 50.0, "/api/state sent_ccl_a: 50 A again")


def test_soc_low_and_force(env):
    print("== SOC-low protection stays chargeable; no force charge with charging forbidden")
    r, sim = env["can"], env["sim"]
    sim.ctl("set 1 alarm 2 0x80")  # Daly: SOC low, level 2
    s = wait_set(r, [0x351, 0x35C], time.monotonic(), 10, lambda s: s[0x35C][0] & 0xC0 == 0x80)
    c.ok(s is not None and struct.unpack("<h", s[0x351][2:4])[0] > 0 and struct.unpack("<h", s[0x351][4:6])[0] == 0,
         "SOC-low protection: CCL > 0 with charge enable, DCL 0 without discharge enable (%s)" %
         ((s and (s[0x351].hex(), s[0x35C].hex())),))
    sim.ctl("set 1 alarm 2 0")
    sim.ctl("set 1 soc 3")
    s = wait_set(r, [0x35C], time.monotonic(), 10, lambda s: s[0x35C][0] == 0xF0)
    c.ok(s is not None, "SOC 3 %: charge, discharge and force charge (0x35C 0xF0)")
    sim.ctl("set 1 temp 1 0")
    s = wait_set(r, [0x351, 0x35C], time.monotonic(), 10, lambda s: struct.unpack("<h", s[0x351][2:4])[0] == 0)
    c.ok(s is not None and s[0x35C][0] == 0x40,
         "0 degC: CCL 0 and 0x35C 0x40, no force charge to an inverter that ignores 0 A (%s)" %
         (s and s[0x35C].hex()))
    sim.ctl("set 1 temp 1 25")
    sim.ctl("set 1 soc 57.5")
    wait_set(r, [0x351, 0x35C], time.monotonic(), 15, lambda s: s[0x35C][0] == 0xC0 and
             struct.unpack("<h", s[0x351][2:4])[0] == 500)


def test_sma_can(env):
    print("== sma-can over slcan")
    r, port, sim = env["sma"], env["http"], env["sim"]
    ids = [0x351, 0x355, 0x356, 0x35A, 0x35E, 0x35F]
    t0 = time.monotonic()
    s = wait_set(r, ids, t0, 10)
    st = sim.state()["packs"][0]
    lim = lim_of(pack_state(port))
    if not c.ok(s is not None and lim is not None, "SMA's whole frame set arrives"):
        return
    want = expect_sma(st, lim, "BMSGW")
    for i in ids:
        c.eq(s[i].hex(), want[i].hex(), "sma-can 0x%03X bytes = the encoding of the simulator and the limits" % i)
    seen = {m.arbitration_id for _, m in r.since(t0)}
    c.ok(not (seen & {0x359, 0x35C}), "no Pylontech-only ids (0x359, 0x35C) to a Sunny Island")
    c.ok(all(m.dlc == 8 for _, m in r.since(t0)), "every SMA frame has 8 bytes")
    # SMA: at least 200 ms between frames, by the output's own least gap
    # (/api/state min_set_gap_ms, measured where it is true: a reader
    # thread's timestamps bunch on a loaded machine, one late at the start
    # of a window made 15 frames of 2.8 s look like 2.57 s); the frames
    # keep coming meanwhile
    t1 = time.monotonic()
    wait_until(lambda: time.monotonic() - t1 > 3.0, 5)
    fr = r.since(t1)
    gap = (output(port, "sma") or {}).get("min_set_gap_ms", -1)
    c.ok(len(fr) >= 10 and gap >= 199.0, "SMA frames no closer than 200 ms (the output's least gap %.1f ms; %d frames "
         "in 3 s)" % (gap, len(fr)))


def test_rs485(env):
    print("== pylon-rs485: a master polls")
    m, port, sim = env["master"], env["http"], env["sim"]
    st = sim.state()["packs"][0]
    lim = lim_of(pack_state(port))
    lat = []

    def ask(frame, what):
        raw, dt = m.ask(frame)
        lat.append(dt)
        f = p485_parse(raw) if raw else None
        c.ok(f is not None and f["chk_ok"] and f["length_ok"] and f["rtn"] == 0 and f["cid1"] == 0x46 and
             f["adr"] == 2, "%s: an answer, checksums right, RTN 00 from ADR 02 (%r)" % (what, raw))
        return f

    f = ask(b"~20024661E00201FD33\r", "0x61 as inverters send it")
    if f and len(f["info"]) == 49:
        i = f["info"]
        volt, cur, soc = struct.unpack(">HhB", i[0:5])
        c.eq((volt, cur, soc), (round(st["voltage"] * 1000), scale(st["current"], 100, "near", -32768, 32767),
                                scale(st["soc"], 1, "floor", 0, 100)), "0x61 voltage mV, current 10 mA, SOC (down)")
        cmax, cmax_at, cmin, cmin_at = struct.unpack(">HHHH", i[11:19])
        cells = st["cells_mv"]
        c.eq((cmax, cmin), (max(cells), min(cells)), "0x61 highest and lowest cell mV")
        c.eq((cmax_at & 0xFF, cmin_at & 0xFF), (cells.index(max(cells)) + 1, cells.index(min(cells)) + 1),
             "0x61 where they are")
        tavg, tmax = struct.unpack(">HH", i[19:23])
        c.eq((tavg, tmax), (scale(sum(st["temps_c"]) / 2, 10, "near", -2731, 65535) + 2731,
                            max(st["temps_c"]) * 10 + 2731), "0x61 cell temperature average and max, 0.1 K")
    else:
        c.ok(False, "0x61 INFO is 49 bytes (%r)" % (f and len(f["info"])))

    f = ask(p485_request(2, 0x63), "0x63 charge and discharge management")
    if f:
        cvl, dvl, ccl, dcl, status = struct.unpack(">HHHHB", f["info"])
        c.eq((cvl, dvl, ccl, dcl),
             (scale(lim["cvl_v"], 1000, "down", 0, 65535), scale(lim["dvl_v"], 1000, "up", 0, 65535),
              scale(lim["ccl_a"], 10, "down", 0, 32767), scale(lim["dcl_a"], 10, "down", 0, 32767)),
             "0x63 CVL, DVL mV, CCL, DCL 100 mA from the limits")
        c.eq(status & 0xC0, 0xC0, "0x63 charge and discharge enabled")
        o = output(port, "rs")
        c.eq((round(o.get("sent_ccl_a", -1) * 10), round(o.get("sent_dcl_a", -1) * 10)), (ccl, dcl),
             "/api/state sent_ccl_a, sent_dcl_a: what 0x63 carried")
    f = ask(p485_request(2, 0x92, b"\x02"), "0x92 (V3.3 twin of 0x63)")
    if f:
        c.eq(f["info"][0], 2, "0x92 echoes the command value")
        c.eq(struct.unpack(">H", f["info"][5:7])[0], scale(lim["ccl_a"], 10, "down", 0, 32767), "0x92 CCL")
    f = ask(p485_request(2, 0x42, b"\x02"), "0x42 analog values")
    if f:
        i = f["info"]
        n = i[2]
        cells = list(struct.unpack(">%dH" % n, i[3:3 + 2 * n]))
        c.eq(cells, st["cells_mv"], "0x42 every cell's mV")
        k = 3 + 2 * n
        nt = i[k]
        temps = list(struct.unpack(">%dH" % nt, i[k + 1:k + 1 + 2 * nt]))
        c.eq(temps[1:], [t * 10 + 2731 for t in st["temps_c"]], "0x42 the sensors after the BMS board, 0.1 K")
        k += 1 + 2 * nt
        cur, volt = struct.unpack(">hH", i[k:k + 4])
        c.eq((cur, volt), (scale(st["current"], 10, "near", -32768, 32767), round(st["voltage"] * 1000)),
             "0x42 current 100 mA, voltage mV")
    f = ask(p485_request(2, 0x51), "0x51 manufacturer")
    c.ok(f and f["info"][:10].rstrip(b"\0") == b"PYLON" and len(f["info"]) == 32, "0x51 name, version, maker")
    f = ask(p485_request(2, 0x4F), "0x4F protocol version")
    c.ok(f and f["lenid"] == 0 and f["ver"] == 0x20, "0x4F: no INFO, VER 0x20")
    for cid2, info in ((0x62, b""), (0x44, b"\x02"), (0x47, b"")):
        ask(p485_request(2, cid2, info), "0x%02X" % cid2)
    raw, _ = m.ask(p485_request(2, 0x96))
    f = p485_parse(raw) if raw else None
    c.ok(f and f["rtn"] == 4 and f["chk_ok"], "a command not served (0x96): RTN 04 (%r)" % raw)

    print("== pylon-rs485: what gets no answer")
    o0 = output(port, "rs")
    bad = bytearray(p485_request(2, 0x63))
    bad[-3] = ord("0") if bad[-3] != ord("0") else ord("1")   # the frame checksum
    badlen = bytearray(p485_request(2, 0x42, b"\x02"))
    badlen[9] = ord("F") if badlen[9] != ord("F") else ord("E")  # the LENGTH checksum nibble
    for what, frame in (("a bad checksum", bytes(bad)), ("a bad LENGTH checksum", bytes(badlen)),
                        ("another address (03)", p485_request(3, 0x63)),
                        ("another device type (CID1 4A)", p485_request(2, 0x63, cid1=0x4A))):
        # the request, then a 0x4F right behind it: the first answer must be
        # the 0x4F's (no INFO), which proves the first got none
        os.write(m.fd, frame)
        raw, _ = m.ask(p485_request(2, 0x4F))
        f = p485_parse(raw) if raw else None
        c.ok(f is not None and f["lenid"] == 0, "%s: no answer (the next request's answer comes first)" % what)
    o1 = output(port, "rs")
    c.ok(o1["bad_checksum"] >= o0["bad_checksum"] + 1 and o1["bad_length"] >= o0["bad_length"] + 1,
         "bad checksums counted in /api/state (%d, %d)" % (o1["bad_checksum"], o1["bad_length"]))
    # chunked: a request written a byte at a time is still one request
    req = p485_request(2, 0x4F)
    for b in req[:-1]:
        os.write(m.fd, bytes([b]))
    raw, _ = m.ask(req[-1:])
    c.ok(raw is not None and p485_parse(raw)["chk_ok"], "a request written byte by byte is answered")
    lat.sort()
    print("reply latency over %d requests: median %.1f ms, max %.1f ms" %
          (len(lat), lat[len(lat) // 2] * 1000, lat[-1] * 1000))


def frames_after(r, t0, ident):
    return [(t, bytes(m.data)) for t, m in r.since(t0) if m.arbitration_id == ident]


def test_stale(env):
    print("== the pack goes stale: zeros, then silence, then frames again")
    r, port, sim, gw, m = env["can"], env["http"], env["sim"], env["gw"], env["master"]
    before = wait_set(r, [0x351], time.monotonic(), 5)
    sent0 = (output(port, "can") or {}).get("frames_sent")
    t_fault = time.monotonic()
    sim.ctl("fault 1 silent")
    o = wait_until(lambda: (lambda x: x if x and x["state"] == "failsafe" else None)(output(port, "can")), 10)
    t_fs = time.monotonic()
    c.ok(o is not None, "pylon-can: state failsafe once the pack is stale (%s)" % o)
    s = wait_set(r, [0x351, 0x35C], t_fs, 5)
    if c.ok(s is not None, "frames keep coming while fail-safe"):
        cvl, ccl, dcl, dvl = struct.unpack("<HhhH", s[0x351])
        c.eq((ccl, dcl), (0, 0), "fail-safe 0x351: CCL = DCL = 0")
        c.eq(s[0x35C][0] & 0xC0, 0, "fail-safe 0x35C: charge and discharge enable bits cleared")
        c.eq(s[0x351][0:2], before[0x351][0:2] if before else None, "the CVL is kept (not an 'empty' battery)")
    raw, _ = m.ask(p485_request(2, 0x63))
    f = p485_parse(raw) if raw else None
    c.ok(f and struct.unpack(">HHHHB", f["info"])[2:] == (0, 0, 0),
         "pylon-rs485 while fail-safe: CCL = DCL = 0, status 0 (%r)" % raw)
    o = wait_until(lambda: (lambda x: x if x and x["state"] == "silent" else None)(output(port, "can")),
                   SILENCE_CAN + 10)
    t_si = time.monotonic()
    c.ok(o is not None, "pylon-can: silent after failsafe_silence (%s)" % o)
    # silent: the output sends nothing more (its own count stands still over
    # four intervals), and the reader hears no more frames than the output
    # counted since before the fault, but for one set that may have been on
    # its way when the count was read (no time of arrival is asserted)
    sent_si = (o or {}).get("frames_sent")
    wait_until(lambda: time.monotonic() - t_si > 2.2, 4)
    o2 = output(port, "can") or {}
    c.eq(o2.get("frames_sent"), sent_si, "no frame while silent: frames_sent stands still over 4 intervals")
    heard = len(r.since(t_fault))
    c.ok(sent0 is not None and o2.get("frames_sent") is not None and heard <= o2["frames_sent"] - sent0 + 8,
         "... and the reader heard no frame the output did not count (%d heard, %s counted since the fault)"
         % (heard, o2.get("frames_sent", 0) - (sent0 or 0)))
    # zeros for failsafe_silence: as many 0x351 of zero limits as intervals
    # (0.5 s) in it, on the output's own clock
    zeros = [t for t, d in frames_after(r, t_fault, 0x351) if d[2:6] == b"\0\0\0\0"]
    c.ok(SILENCE_CAN * 2 - 1 <= len(zeros) <= SILENCE_CAN * 2 + 2,
         "zeros were sent for about failsafe_silence (%d 0x351 of zeros at 0.5 s, failsafe_silence %d s)"
         % (len(zeros), SILENCE_CAN))
    o = wait_until(lambda: (lambda x: x if x and x["state"] == "silent" else None)(output(port, "rs")),
                   SILENCE_485 + 10)
    c.ok(o is not None, "pylon-rs485: silent after its failsafe_silence")
    raw, _ = m.ask(p485_request(2, 0x63), 1.0)
    c.ok(raw is None, "pylon-rs485 past the silence: no answer (%r)" % raw)
    sim.ctl("fault 1 none")
    o = wait_until(lambda: (lambda x: x if x and x["state"] == "sending" else None)(output(port, "can")), 15)
    t_back = time.monotonic()
    c.ok(o is not None, "pylon-can: sending again once the pack answers")
    s = wait_set(r, [0x351], t_back, 15, lambda s: struct.unpack("<HhhH", s[0x351])[1] > 0)
    c.ok(s is not None, "frames again, with the current limits back after recovery_hold")
    raw, _ = m.ask(p485_request(2, 0x63))
    c.ok(raw is not None, "pylon-rs485 answers again")
    log = gw.text()
    for what, pat in (("stale", r"inverter can: source p1 is stale"), ("silent", r"inverter can: silent"),
                      ("back", r"inverter can: source p1 fresh again")):
        n = len(re.findall(pat, log))
        c.eq(n, 1, "the %s transition of inverter can logged once" % what)


def test_reload(env):
    print("== a reload keeps an unchanged output, restarts a changed one")
    r, gw = env["can"], env["gw"]
    with open(gw.conf, "w") as f:
        f.write(conf(*env["conf_args"], sma_interval=2, extra="[bank]\nunit_id = 100\n"))
    log0 = len(gw.text())
    sent0 = (output(env["http"], "can") or {}).get("frames_sent", 0)
    gw.p.send_signal(signal.SIGHUP)
    ok = wait_until(lambda: "reload" in gw.text()[log0:] and "inverter sma" in gw.text()[log0:], 10)
    c.ok(ok, "the reload is done and restarts inverter sma (its interval changed)")
    # the same output goes on: its frame count carries on from before (a
    # restarted one counts from 0), and its 0x351 goes on being read
    t1 = time.monotonic()
    o = wait_until(lambda: (lambda x: x if x and x.get("frames_sent", 0) > sent0 + 8 else None)(
        output(env["http"], "can")), 15)
    c.ok(sent0 > 8 and o is not None and wait_until(lambda: any(m.arbitration_id == 0x351 for _, m in r.since(t1)), 10),
         "pylon-can kept sending through the reload: its count went on from %d (%s), 0x351 read after it" %
         (sent0, o and o.get("frames_sent")))
    tail = gw.text()[log0:]
    c.ok("inverter can: stopped" not in tail and "inverter can: pylon-can on" not in tail,
         "inverter can was not restarted")
    c.ok("inverter sma: stopped" in tail and "inverter sma: sma-can on" in tail, "inverter sma was restarted")


def test_check(env):
    print("== --check lists the outputs")
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", env["gw"].conf, "--check"],
                         capture_output=True, text=True)
    text = out.stdout + out.stderr
    c.eq(out.returncode, 0, "--check accepts the configuration")
    for name, proto in (("can", "pylon-can"), ("sma", "sma-can"), ("rs", "pylon-rs485")):
        c.ok(re.search(r"(?m)^\s+%s: %s on " % (name, proto), text) is not None,
             "--check lists inverter %s (%s)" % (name, proto))


def own_gateway(packs, inverters):
    """A gateway of its own: [gateway] with stale_after 2, the packs, [limits]
    (and [bank] when asked), the page and the inverter sections; (gateway,
    http port)."""
    gw_port, http_port = free_port(), free_port()
    text = ("[gateway]\nlisten = 127.0.0.1:%d\nstale_after = 2\nstate_file = none\n%s[limits]\n[http]\n"
            "listen = 127.0.0.1:%d\n[history]\nfile = none\n%s") % (gw_port, packs, http_port, inverters)
    return Gateway(text, gw_port), http_port


def daly_pack(name, port, address):
    return ("[pack.%s]\nprotocol = daly\nport = tcp://127.0.0.1:%d\naddress = %d\npoll_interval = 0.3\n"
            "timeout = 0.3\nretries = 0\n" % (name, port, address))


def test_waiting(tmp):
    print("== nothing before the source's first data")
    can_a, can_b = pty_pair(tmp, "wcan")
    rs_a, rs_b = pty_pair(tmp, "wrs")
    sim = Sim(packs=(PACK,))
    sim.ctl("fault 1 silent")  # the BMS never answers
    reader, m = CanReader(can_b), Master(rs_b)
    t0 = time.monotonic()
    g, http_port = own_gateway(daly_pack("p1", sim.port, 1), "[inverter.can]\nprotocol = pylon-can\n"
                               "port = slcan://%s\ninterval = 0.3\n[inverter.rs]\nprotocol = pylon-rs485\n"
                               "port = %s\n" % (can_a, rs_a))
    try:
        o = wait_until(lambda: (lambda x: x if x and x["state"] == "waiting" else None)(output(http_port, "can")), 10)
        c.ok(o is not None, "pylon-can: state waiting while the pack has never answered (%s)" % o)
        c.eq((output(http_port, "rs") or {}).get("state"), "waiting", "pylon-rs485: state waiting")
        raw, _ = m.ask(p485_request(2, 0x61), 1.0)
        c.ok(raw is None, "pylon-rs485 before any data: no answer (%r)" % raw)
        wait_until(lambda: time.monotonic() - t0 > 3.0, 5)  # 10 intervals of 0.3 s
        c.eq(len(reader.since(0)), 0, "pylon-can before any data: not one frame in 3 s (no zero CVL, no zero SOC)")
        c.ok(re.search(r"bmsgw_inverter_state\{inverter=\"can\",state=\"waiting\"\} 1", fetch(http_port, "/metrics")),
             "/metrics state waiting")
        sim.ctl("fault 1 none")
        s = wait_set(reader, [0x351, 0x355, 0x35C], 0, 10)
        c.ok(s is not None and struct.unpack("<H", s[0x351][0:2])[0] > 500 and struct.unpack("<H", s[0x355][0:2])[0] > 0,
             "the first data: frames with a real CVL and SOC (%s)" % ((s and (s[0x351].hex(), s[0x355].hex())),))
        first = next((bytes(fr.data) for _, fr in reader.since(0) if fr.arbitration_id == 0x351), None)
        c.ok(first is not None and struct.unpack("<H", first[0:2])[0] > 500,
             "the very first 0x351 on the bus carries a real CVL (%s)" % (first and first.hex()))
        raw, _ = m.ask(p485_request(2, 0x63), 2.0)
        c.ok(raw is not None and p485_parse(raw)["chk_ok"], "pylon-rs485 answers once there is data")
        c.eq(len(re.findall(r"inverter can: waiting for the first data of source p1", g.text())), 1,
             "the wait is logged once")
    finally:
        g.stop()
        sim.stop()
        reader.close()
        m.close()


# ------------------------------------------------------- growatt-rs485

def mb_crc(b):
    """CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), low byte first
    (gateway/inverter/PROTOCOLS.md §6a)."""
    crc = 0xFFFF
    for x in b:
        crc ^= x
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return bytes([crc & 0xFF, crc >> 8])


def mb_read(slave, fc, start, qty):
    body = bytes([slave, fc]) + struct.pack(">HH", start, qty)
    return body + mb_crc(body)


class RtuMaster(Master):
    """The Growatt inverter's side: Modbus RTU, a reply known by its length."""

    def ask_rtu(self, frame, timeout=1.5):
        self.buf = b""
        os.write(self.fd, frame)
        import select
        t0 = time.monotonic()
        while True:
            b = self.buf
            if len(b) >= 5 and b[1] & 0x80:
                return b[:5]
            if len(b) >= 3 and len(b) >= 5 + b[2]:
                return b[:5 + b[2]]
            left = t0 + timeout - time.monotonic()
            if left <= 0:
                return self.buf or None
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                self.buf += os.read(self.fd, 4096)


def gw485_regs(raw):
    """The registers of a read answer whose CRC holds, else None."""
    if not raw or len(raw) < 5 or mb_crc(raw[:-2]) != raw[-2:] or raw[1] & 0x80 or raw[2] != len(raw) - 5:
        return None
    return list(struct.unpack(">%dH" % (raw[2] // 2), raw[3:-2]))


def test_growatt_rs485(tmp):
    print("== growatt-rs485: a Modbus RTU master polls (experimental dialect)")
    rs_a, rs_b = pty_pair(tmp, "grs")
    sim = Sim(packs=(PACK,))
    sim.ctl("fault 1 silent")  # no data yet
    m = RtuMaster(rs_b)
    g, http_port = own_gateway(daly_pack("p1", sim.port, 1), "[inverter.gw]\nprotocol = growatt-rs485\n"
                               "port = %s\nfailsafe_silence = %d\n" % (rs_a, SILENCE_485))
    poll = mb_read(1, 3, 0, 19)
    try:
        c.eq(poll, bytes.fromhex("0103000000130407"), "the request of PROTOCOLS.md's vector")
        o = wait_until(lambda: (lambda x: x if x and x["state"] == "waiting" else None)(output(http_port, "gw")), 10)
        c.ok(o is not None, "growatt-rs485: state waiting before the pack's first data (%s)" % o)
        raw = m.ask_rtu(poll, 1.0)
        c.ok(raw is None, "growatt-rs485 before any data: no answer (%r)" % raw)
        sim.ctl("fault 1 none")
        wait_until(lambda: (output(http_port, "gw") or {}).get("state") == "sending", 10)
        pk = wait_until(lambda: (lambda p: p if p and p.get("limits") and p["limits"]["ccl_a"] > 0 else None)(
            (api(http_port).get("packs") or [None])[0]), 15)
        raw = m.ask_rtu(poll)
        regs = gw485_regs(raw)
        c.ok(regs is not None and len(regs) == 19 and raw[0] == 1 and raw[1] == 3,
             "FC 03, 19 registers: an answer from slave 1, byte count 38, CRC right (%r)" % raw)
        st = sim.state()["packs"][0]
        lim = lim_of(pk) if pk else None
        if regs and lim:
            want_v = scale(st["voltage"], 10, "near", 0, 0xFFFF)
            c.ok(abs(regs[0] - want_v) <= 1, "register 0: %d x 0.1 V (the pack's %.2f V)" % (regs[0], st["voltage"]))
            c.eq(regs[5], scale(st["soc"], 1, "floor", 0, 100), "register 5: the SOC, rounded down")
            c.eq(regs[9], scale(lim["ccl_a"], 100, "down", 0, 0xFFFF) if lim["charge_allowed"] else 0,
                 "register 9: CCL in 0.01 A as /api/state's limits")
            c.eq(regs[10], scale(lim["dcl_a"], 100, "down", 0, 0xFFFF) if lim["discharge_allowed"] else 0,
                 "register 10: DCL in 0.01 A")
            c.eq([regs[i] for i in range(19) if i not in (0, 5, 9, 10)], [0] * 15, "the other registers 0")
        o = output(http_port, "gw") or {}
        c.ok(regs and abs(o.get("sent_ccl_a", -1) - regs[9] / 100.0) < 0.01,
             "/api/state sent_ccl_a is what register 9 carried (%s)" % o.get("sent_ccl_a"))
        regs4 = gw485_regs(m.ask_rtu(mb_read(1, 4, 9, 2)))
        c.ok(regs4 is not None and regs and regs4 == regs[9:11], "FC 04 9..10: the same limits (%s)" % regs4)
        raw = m.ask_rtu(mb_read(1, 3, 16, 4))
        c.ok(raw is not None and raw[:3] == b"\x01\x83\x02" and mb_crc(raw[:3]) == raw[3:5],
             "a read past register 18: exception 02 (%r)" % raw)
        bad = bytearray(poll)
        bad[-1] ^= 0x01
        c.ok(m.ask_rtu(bytes(bad), 0.8) is None, "a bad CRC: no answer")
        c.ok(m.ask_rtu(mb_read(2, 3, 0, 19), 0.8) is None, "slave 2's request: no answer")
        c.ok(gw485_regs(m.ask_rtu(poll)) is not None, "... and the next good poll is answered")
        o = output(http_port, "gw") or {}
        c.ok(o.get("bad_checksum", 0) >= 1, "the bad CRC counted (%s)" % o.get("bad_checksum"))
        sim.ctl("fault 1 silent")
        wait_until(lambda: (output(http_port, "gw") or {}).get("state") == "failsafe", 10)
        regs = gw485_regs(m.ask_rtu(poll))
        c.ok(regs is not None and regs[9] == 0 and regs[10] == 0 and regs[5] > 0,
             "stale: still answered, CCL = DCL = 0 (%s)" % regs)
        o = wait_until(lambda: (lambda x: x if x and x["state"] == "silent" else None)(output(http_port, "gw")),
                       SILENCE_485 + 10)
        c.ok(o is not None, "growatt-rs485: silent after failsafe_silence")
        raw = m.ask_rtu(poll, 1.0)
        c.ok(raw is None, "past the silence: no answer (%r)" % raw)
        sim.ctl("fault 1 none")
        wait_until(lambda: (output(http_port, "gw") or {}).get("state") == "sending", 15)
        c.ok(gw485_regs(m.ask_rtu(poll)) is not None, "fresh again: answered again")
        c.ok("runtime error" not in g.text() and "ERROR: AddressSanitizer" not in g.text(), "sanitizers quiet")
    finally:
        g.stop()
        sim.stop()
        m.close()


def test_bank_member(tmp):
    print("== a bank whose member goes stale: the communication warning, the CVL at float")
    can_a, can_b = pty_pair(tmp, "bcan")
    sma_a, sma_b = pty_pair(tmp, "bsma")
    rs_a, rs_b = pty_pair(tmp, "brs")
    sim = Sim(packs=("address=1,cells=16,soc=60", "address=2,cells=16,soc=60"))
    reader, sma, m = CanReader(can_b), CanReader(sma_b), Master(rs_b)
    g, http_port = own_gateway(daly_pack("p1", sim.port, 1) + daly_pack("p2", sim.port, 2) + "[bank]\n",
                               "[inverter.can]\nprotocol = pylon-can\nport = slcan://%s\ninterval = 0.3\n"
                               "[inverter.sma]\nprotocol = sma-can\nport = slcan://%s\n[inverter.rs]\n"
                               "protocol = pylon-rs485\nport = %s\n" % (can_a, sma_a, rs_a))
    try:
        s = wait_set(reader, [0x351, 0x359], 0, 15, lambda s: s[0x359][4] == 2)
        c.ok(s is not None and s[0x359][3] & 0x08 == 0, "both packs fresh: no communication warning (%s)" %
             (s and s[0x359].hex()))
        sim.ctl("fault 2 silent")
        t0 = time.monotonic()
        s = wait_set(reader, [0x351, 0x359], t0, 15, lambda s: s[0x359][3] & 0x08)
        c.ok(s is not None and s[0x359][4] == 1, "p2 stale: 0x359 byte 3 bit 3 (communication) and 1 pack (%s)" %
             (s and s[0x359].hex()))
        c.ok(s is not None and struct.unpack("<H", s[0x351][0:2])[0] == 540,
             "... and the CVL held at 16 x 3.375 = 54.0 V (%s)" % (s and s[0x351].hex()))
        c.ok(s is not None and struct.unpack("<h", s[0x351][2:4])[0] > 0, "... while the other pack still charges")
        ss = wait_set(sma, [0x35A], time.monotonic(), 10, lambda s: struct.unpack("<I", s[0x35A][4:8])[0] &
                      (1 << 22))
        c.ok(ss is not None and not struct.unpack("<I", ss[0x35A][0:4])[0] & (1 << 22),
             "sma-can: 0x35A warning 12 (BMS internal) arrives, no alarm (%s)" % (ss and ss[0x35A].hex()))
        raw, _ = m.ask(p485_request(2, 0x62), 2.0)
        f = p485_parse(raw) if raw else None
        c.ok(f is not None and f["info"][1] & 0x10, "pylon-rs485 0x62: alarm 2 bit 4, communication (%r)" % raw)
        api = json.loads(fetch(http_port, "/api/state"))
        c.ok(api["bank"]["limits"]["member_stale"] is True, "/api/state bank limits.member_stale")
        sim.ctl("fault 2 none")
        s = wait_set(reader, [0x359], time.monotonic(), 15, lambda s: not s[0x359][3] & 0x08 and s[0x359][4] == 2)
        c.ok(s is not None, "p2 back: the warning clears")
    finally:
        g.stop()
        sim.stop()
        reader.close()
        sma.close()
        m.close()


# ------------------------------------------------ the dialects, on a bank

DIALECT_PACKS = ("address=1,cells=16,sensors=4,soc=57.4,capacity=280,cycles=42",
                 "address=2,cells=16,sensors=4,soc=57.4,capacity=120,cycles=7")
# pack 1's sensor 3 the hottest, pack 2's sensor 3 the coldest (of every sensor)
DIALECT_TEMPS = ((25, 26, 31, 24), (22, 23, 12, 28))


def bank_head(gw_port, http_port, sim_port):
    """The dialects' gateway: two JK-PB packs a and b in a bank, [limits]
    with short holds, the page; the inverter sections follow."""
    packs = "".join("[pack.%s]\nprotocol = jk-pb\nport = tcp://127.0.0.1:%d\naddress = %d\npoll_interval = 0.3\n"
                    "timeout = 0.4\nretries = 0\n" % (n, sim_port, a) for n, a in (("a", 1), ("b", 2)))
    return ("[gateway]\nlisten = 127.0.0.1:%d\nstale_after = 2\nstate_file = none\n%s[bank]\n"
            "[limits]\nrecovery_hold = 1\nrecovery_rate = 100\ncvl_recovery_hold = 1\ncvl_rate = 1\n"
            "[http]\nlisten = 127.0.0.1:%d\n[history]\nfile = none\n") % (gw_port, packs, http_port)


def dialect_conf(gw_port, http_port, sim_port, pty, rs="ver = 0x28\n"):
    return bank_head(gw_port, http_port, sim_port) + (
            "[inverter.pc]\nprotocol = pylon-can\nport = slcan://%s\ninterval = 0.5\n"
            "extras = capacity, cells, modules, name\n"
            "[inverter.lx]\nprotocol = lux-can\nport = slcan://%s\ninterval = 0.5\nsoc_override = deye\n"
            "soc_hold_full = 0\n"
            "[inverter.gap]\nprotocol = pylon-can\nport = slcan://%s\ninterval = 0.3\nfailsafe_silence = 60\n"
            "[inverter.rs]\nprotocol = pylon-rs485\nport = %s\naddress = 2\n%s") % (
                pty["pc"], pty["lx"], pty["gap"], pty["rs"], rs)


def bank_extremes(packs):
    """(min cell mV, pack, cell), (max ...), (coldest degC, pack, sensor), (hottest ...) over every pack."""
    cells = [(mv, k + 1, i + 1) for k, p in enumerate(packs) for i, mv in enumerate(p["cells_mv"])]
    temps = [(t, k + 1, i + 1) for k, p in enumerate(packs) for i, t in enumerate(p["temps_c"])]
    return (min(cells, key=lambda x: (x[0], x[1], x[2])), max(cells, key=lambda x: (x[0], -x[1], -x[2])),
            min(temps, key=lambda x: (x[0], x[1], x[2])), max(temps, key=lambda x: (x[0], -x[1], -x[2])))


def where(kind, p, i):
    return ("P%d%s%d" % (p, kind, i)).encode().ljust(8, b"\0")


def expect_extras(packs):
    cmin, cmax, tmin, tmax = bank_extremes(packs)
    cap = round(sum(p["capacity_ah"] for p in packs))
    return {
        0x35F: bytes(4) + le16(cap) + bytes(2),
        0x379: le16(cap) + bytes(6),
        0x372: le16(len(packs)) + le16(0) + le16(0) + le16(0),
        0x373: le16(cmin[0]) + le16(cmax[0]) + le16(round(tmin[0] + 273.15)) + le16(round(tmax[0] + 273.15)),
        0x374: where("C", cmin[1], cmin[2]), 0x375: where("C", cmax[1], cmax[2]),
        0x376: where("T", tmin[1], tmin[2]), 0x377: where("T", tmax[1], tmax[2]),
        0x382: b"bmsgw".ljust(8, b"\0"),
    }


def expect_lux(packs, pc):
    """lux-can's set from the simulator's packs and pylon-can's set of the
    same source (the fields the two share)."""
    cmin, cmax, tmin, tmax = bank_extremes(packs)
    cap = round(sum(p["capacity_ah"] for p in packs))
    return {
        0x351: pc[0x351],
        0x355: pc[0x355] + le16(cmax[0]) + le16(cmin[0]),
        0x356: pc[0x356][0:4] + le16(tmax[0] * 10) + le16(tmin[0] * 10),
        0x359: bytes(4) + bytes([len(packs)]) + le16(cap) + bytes(1),
        0x35C: pc[0x35C] + le16(max(p["cycles"] for p in packs)) + bytes(4),
        0x35E: b"PYLON   ",
    }


def all_sets(frames, ids):
    """Every whole frame set holding all the ids, oldest first."""
    groups, cur = [], None
    for _, m in frames:
        if m.arbitration_id == 0x351:
            cur = {}
            groups.append(cur)
        if cur is not None and m.arbitration_id in ids:
            cur[m.arbitration_id] = bytes(m.data)
    return [g for g in groups if all(i in g for i in ids)]


def settled_set(reader, ids, timeout, pred=None):
    """The newest set once the last two whole sets are alike (and pred
    holds): the limits have settled."""
    def f():
        sets = all_sets(reader.since(time.monotonic() - 3), ids)
        if len(sets) >= 2 and sets[-1] == sets[-2] and (pred is None or pred(sets[-1])):
            return sets[-1]
        return None
    return wait_until(f, timeout)


def soc_of(s):
    return struct.unpack("<H", s[0x355][0:2])[0]


def read_stamps(path):
    """(how the stamper ran, [(time, id, number of the read that brought it)])."""
    how, out = "?", []
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("#"):
                    how = line[1:].strip()
                    continue
                t, ident, *chunk = line.split()
                out.append((float(t), int(ident, 16), int(chunk[0]) if chunk else None))
    except (OSError, ValueError):
        pass
    return how, out


def dialect_frames(env):
    print("== pylon-can with every extra, lux-can, frame by frame (python-can over slcan)")
    pc, lx, port, sim = env["pc"], env["lx"], env["http"], env["sim"]
    base = [0x351, 0x355, 0x356, 0x359, 0x35C, 0x35E]
    extras = [0x35F, 0x379, 0x372, 0x373, 0x374, 0x375, 0x376, 0x377, 0x382]
    for name in ("pc", "lx"):
        wait_until(lambda: (output(port, name) or {}).get("state") == "sending", 20)
    packs = sim.state()["packs"]
    # both packs in the bank (0x372: 2 online), two sets in a row alike
    s = settled_set(pc, base + extras, 20, lambda s: s[0x372][0:2] == le16(2) and
                    struct.unpack("<hh", s[0x351][2:6]) > (0, 0))
    if not c.ok(s is not None, "pylon-can with extras: a whole, settled set of 15 frames, both packs online"):
        return
    want = expect_extras(packs)
    for i in extras:
        c.eq(s[i].hex(), want[i].hex(), "pylon-can extra 0x%03X bytes = the encoding of the simulator's bank" % i)
    c.eq(s[0x359][5:7], b"PN", "pylon-can keeps Pylontech's \"PN\" in 0x359")
    t_mean = sum(sum(t) / len(t) for t in (p["temps_c"] for p in packs)) / len(packs)
    c.eq(struct.unpack("<h", s[0x356][4:6])[0], scale(t_mean, 10, "near", -0x7FFF, 0x7FFF),
         "pylon-can 0x356: the mean of the packs' mean temperatures")
    c.eq(soc_of(s), 57, "the bank's SOC (57 %) in 0x355")
    ids = [m.arbitration_id for _, m in pc.since(time.monotonic() - 0.6)]
    c.ok(all(i in base + extras for i in ids), "no other id from pylon-can")
    lxs = settled_set(lx, base, 10, lambda x: x[0x351] == s[0x351])
    if not c.ok(lxs is not None, "lux-can: a whole set with the same limits"):
        return
    want = expect_lux(packs, s)
    for i in base:
        c.eq(lxs[i].hex(), want[i].hex(), "lux-can 0x%03X bytes = Luxpower V04's layout of the same bank" % i)
    dlcs = {m.arbitration_id: m.dlc for _, m in lx.since(time.monotonic() - 1.2)}
    c.eq(sorted(set(dlcs.values())), [8], "lux-can: every frame 8 bytes")
    c.ok(set(dlcs) <= set(base), "lux-can: no extras by default (%s)" % sorted(hex(i) for i in dlcs))


def dialect_soc(env):
    print("== soc_override = deye, soc_hold_full, the SOC rounded down")
    pc, lx, sim, m28 = env["pc"], env["lx"], env["sim"], env["rs"]
    sim.ctl("set 1 cell 3 2750")  # pack a: discharge forbidden, so the bank's DCL is 0
    s = wait_set(lx, [0x351, 0x355], time.monotonic(), 10, lambda s: struct.unpack("<h", s[0x351][4:6])[0] == 0)
    c.ok(s is not None and soc_of(s) == 0, "deye: DCL 0 -> lux-can SOC 0 %% (%s)" % (s and s[0x355].hex()))
    p = wait_set(pc, [0x351, 0x355], time.monotonic(), 5, lambda s: struct.unpack("<h", s[0x351][4:6])[0] == 0)
    c.ok(p is not None and soc_of(p) == 57, "... while pylon-can (no override) sends the real 57 %")
    sim.ctl("set 1 cell 3 3600")  # now charge forbidden
    s = wait_set(lx, [0x351, 0x355], time.monotonic(), 15,
                 lambda s: struct.unpack("<h", s[0x351][2:4])[0] == 0 and struct.unpack("<h", s[0x351][4:6])[0] > 0)
    c.ok(s is not None and soc_of(s) == 100, "deye: CCL 0 -> lux-can SOC 100 %% (%s)" % (s and s[0x355].hex()))
    sim.ctl("set 1 cell 3 auto")
    s = wait_set(lx, [0x351, 0x355], time.monotonic(), 15,
                 lambda s: struct.unpack("<hh", s[0x351][2:6]) > (0, 0) and soc_of(s) == 57)
    c.ok(s is not None, "both limits back: lux-can's SOC is the bank's again")
    for k in (1, 2):
        sim.ctl("set %d soc 99" % k)  # jk-pb: whole percents
    s = wait_set(pc, [0x355], time.monotonic(), 10, lambda s: soc_of(s) >= 98)
    c.eq(s and soc_of(s), 98, "soc_hold_full 98: 99 % goes out as 98 % before absorption (pylon-can)")
    s = wait_set(lx, [0x355], time.monotonic(), 10, lambda s: soc_of(s) >= 98)
    c.eq(s and soc_of(s), 99, "soc_hold_full 0: 99 % goes out as it is (lux-can)")
    raw, _ = m28.ask(p485_request(2, 0x61))
    f = p485_parse(raw) if raw else None
    c.eq(f and f["info"][4], 98, "pylon-rs485 (soc_hold_full 98): 0x61 SOC 98 % at 99 %")
    for k in (1, 2):
        sim.ctl("set %d soc 57.4" % k)
    wait_set(pc, [0x355], time.monotonic(), 10, lambda s: soc_of(s) == 57)


def settled_0x63(m, port, timeout=10):
    """A 0x63 answer's CCL and DCL fields and the bank's limits, asked until
    the limits are the same before and after the answer (they may be
    ramping: on a loaded machine the two reads can straddle a step)."""
    last = [((-99, -99), api(port)["bank"]["limits"])]

    def once():
        before = api(port)["bank"]["limits"]
        raw, _ = m.ask(p485_request(2, 0x63))
        f = p485_parse(raw) if raw else None
        after = api(port)["bank"]["limits"]
        last[0] = (struct.unpack(">HH", f["info"][4:8]) if f else (-99, -99), after)
        same = all(before[k] == after[k] for k in ("ccl_a", "dcl_a"))
        return last[0] if f and same else None
    return wait_until(once, timeout, 0.2) or last[0]


def dialect_rs485(env):
    print("== pylon-rs485: VER 0x28, 0x60, the bank's extremes in 0x61")
    m28, port, sim = env["rs"], env["http"], env["sim"]
    packs = sim.state()["packs"]
    cmin, cmax, tmin, tmax = bank_extremes(packs)
    for cid2 in (0x4F, 0x61):
        raw, _ = m28.ask(p485_request(2, cid2))
        f = p485_parse(raw) if raw else None
        c.ok(f is not None and f["chk_ok"] and f["ver"] == 0x28, "ver = 0x28: 0x%02X answered with VER 0x28 (%r)" %
             (cid2, raw))
    if f and len(f["info"]) == 49:
        i = f["info"]
        c.eq(struct.unpack(">HHHH", i[11:19]), (cmax[0], cmax[1] << 8 | cmax[2], cmin[0], cmin[1] << 8 | cmin[2]),
             "0x61: the bank's highest and lowest cell, where = pack << 8 | cell")
        c.eq(struct.unpack(">HHHH", i[21:29]), (tmax[0] * 10 + 2731, tmax[1] << 8 | tmax[2],
                                                tmin[0] * 10 + 2731, tmin[1] << 8 | tmin[2]),
             "0x61: the bank's hottest and coldest sensor of all, 0.1 K, where = pack << 8 | sensor")
    got, lim = settled_0x63(m28, port)
    # /api/state shows the limits rounded to 0.1 A, the field is rounded down:
    # within 1 of them (a ramp may stop between two steps of 0.1 A)
    c.ok(all(abs(g - lim[k] * 10) <= 1.01 for g, k in zip(got, ("ccl_a", "dcl_a"))),
         "current_unit default: 0x63 CCL and DCL in 100 mA (%s, limits %s A, %s A)" % (got, lim["ccl_a"], lim["dcl_a"]))
    raw, _ = m28.ask(p485_request(2, 0x60))
    f = p485_parse(raw) if raw else None
    i = f["info"] if f else b""
    c.ok(f is not None and f["rtn"] == 0 and len(i) == 10 + 20 + 2 + 1 + 2 * 16 and i[32] == 2 and
         i[33:] == bytes(32) and i[10:15] == b"PYLON",
         "0x60 system information: name, manufacturer, version, 2 modules, their serials empty (%r)" % raw)


def dialect_echo(env):
    print("== pylon-rs485 reloaded with ver = echo, current_unit = 10mA, soc_hold_full = 0")
    m, port, gw = env["rs"], env["http"], env["gw"]
    with open(gw.conf, "w") as f:
        f.write(dialect_conf(*env["conf_args"], rs="ver = echo\ncurrent_unit = 10mA\nsoc_hold_full = 0\n"))
    log0 = len(gw.text())
    gw.p.send_signal(signal.SIGHUP)
    c.ok(wait_until(lambda: "inverter rs: pylon-rs485 on" in gw.text()[log0:], 10),
         "the reload restarts inverter rs with its new settings")
    wait_until(lambda: (output(port, "rs") or {}).get("state") == "sending", 10)
    for ver in (0x25, 0x28, 0x20):
        raw, _ = m.ask(p485_request(2, 0x4F, ver=ver))
        f = p485_parse(raw) if raw else None
        c.eq(f and f["ver"], ver, "ver = echo: a request with VER 0x%02X is answered with it" % ver)
    got, lim = settled_0x63(m, port)
    # /api/state shows the limits to 0.1 A: the 10 mA field is within 5 of them
    # (5.01: 16.1 * 100 is 1610.0000000000002, and a field of 1605 is 16.05 A)
    c.ok(all(abs(g - lim[k] * 100) <= 5.01 for g, k in zip(got, ("ccl_a", "dcl_a"))),
         "current_unit = 10mA: 0x63 CCL and DCL in 10 mA (%s, limits %s A, %s A)" % (got, lim["ccl_a"], lim["dcl_a"]))
    for k in (1, 2):
        env["sim"].ctl("set %d soc 99" % k)
    f = wait_until(lambda: (lambda r: r if r and r["info"][4] == 99 else None)(
        p485_parse(m.ask(p485_request(2, 0x61))[0] or b"")), 10)
    c.ok(f is not None, "soc_hold_full = 0: 0x61 SOC 99 %, not held at 98 %")
    for k in (1, 2):
        env["sim"].ctl("set %d soc 57.4" % k)


def dialect_shutdown(env):
    print("== Luxpower's 0x300 shutdown request: shown, logged, never obeyed")
    lx, port, gw = env["lx"], env["http"], env["gw"]
    lx.send(0x300, [0] * 8)  # no shutdown bit: only a frame from the inverter
    lx.send(0x300, [1] + [0] * 7)
    o = wait_until(lambda: (lambda x: x if x and x.get("shutdown_requests") == 1 else None)(output(port, "lx")), 5)
    c.ok(o is not None, "0x300 byte 0 bit 0: shutdown_requests 1 in /api/state, the frame without it not counted")
    c.ok(wait_until(lambda: "inverter lx: the inverter asks the battery to shut down (0x300): not obeyed" in gw.text(),
                    5), "the request is logged")
    t0 = time.monotonic()
    s = wait_set(lx, [0x351], t0, 5)
    c.ok(s is not None and (output(port, "lx") or {}).get("state") == "sending" and
         struct.unpack("<hh", s[0x351][2:6]) > (0, 0), "lux-can keeps sending its limits (nothing obeyed)")


def dialect_gaps(env, t_cap, seconds=60):
    print("== no two sets within 50 ms across stale / fresh transitions (%d s capture)" % seconds)
    sim, port = env["sim"], env["http"]
    early0 = (output(port, "gap") or {}).get("early_sets", 0)
    flips = 0
    while time.monotonic() - t_cap < seconds - 6:
        for k in (1, 2):
            sim.ctl("fault %d silent" % k)
        wait_until(lambda: (output(port, "gap") or {}).get("state") == "failsafe", 8)
        for k in (1, 2):
            sim.ctl("fault %d none" % k)
        wait_until(lambda: (output(port, "gap") or {}).get("state") == "sending", 8)
        # twice: the currents back (recovery_hold) and sent, then a limit
        # that falls: a set out of turn, at any phase of the period (one in
        # about six comes within 50 ms of a periodic set: the capture's ten
        # or more make a missing gap show in most runs)
        for turn in range(2):
            if turn and time.monotonic() - t_cap > seconds - 6:
                break
            wait_until(lambda: (api(port).get("bank") or {}).get("limits", {}).get("ccl_a", 0) > 0, 8)
            sets = (output(port, "gap") or {}).get("frame_sets", 0)
            wait_until(lambda: (output(port, "gap") or {}).get("frame_sets", 0) >= sets + 2, 5)
            e = (output(port, "gap") or {}).get("early_sets", 0)
            sim.ctl("set 1 cell 3 3600")
            wait_until(lambda: (output(port, "gap") or {}).get("early_sets", 0) > e, 5)
            sim.ctl("set 1 cell 3 auto")
        flips += 1
    wait_until(lambda: time.monotonic() - t_cap > seconds, seconds)
    early = (output(port, "gap") or {}).get("early_sets", 0) - early0
    env["stamper"].terminate()
    env["stamper"].wait(5)
    how, stamps = read_stamps(env["stamp_file"])
    sets = [(t, r) for t, i, r in stamps if i == 0x351 and t >= t_cap]
    # two sets in one read() came together through the pty (the kernel's tty
    # work ran late on a loaded machine): their gap is not measured there
    together = sum(1 for a, b in zip(sets, sets[1:]) if a[1] is not None and a[1] == b[1])
    gaps = sorted(b[0] - a[0] for a, b in zip(sets, sets[1:]) if a[1] is None or a[1] != b[1])
    sets = [t for t, _ in sets]
    mine = (output(port, "gap") or {}).get("min_set_gap_ms", -1)
    span = sets[-1] - sets[0] if len(sets) > 1 else 0
    print("capture: %d sets over %.1f s, %d stale/fresh cycles, %d sets out of turn; stamped at %s; gaps: "
          "min %.1f ms, p1 %.1f ms, median %.1f ms; %d pairs read together; the daemon's own least gap %.1f ms" %
          (len(sets), span, flips, early, how, gaps[0] * 1000 if gaps else -1,
           gaps[len(gaps) // 100] * 1000 if gaps else -1, gaps[len(gaps) // 2] * 1000 if gaps else -1,
           together, mine))
    c.ok(flips >= 3 and early >= flips, "the capture holds stale / fresh transitions (%d) and sets out of turn (%d)" %
         (flips, early))
    c.ok(span >= seconds - 8 and len(sets) >= (span / 0.3) * 0.8, "a set every 0.3 s through it (%d in %.1f s)" %
         (len(sets), span))
    # the daemon keeps 50 ms between the sets it writes, by its clock at the
    # write (its own record: a second set of one tick would read 0)
    c.ok(mine >= 50.0, "the daemon wrote no two sets closer than 50 ms (the closest %.1f ms apart)" % mine)
    # on the wire, read by a reader of its own: 30 ms leaves room for the
    # tty's delays on a loaded machine; pairs that one read() brought
    # together are not measured there (a late reader only spoils the
    # measure), but most must be.  One late delivery of the kernel's tty
    # work can still bring one pair closer (a fresh clone beside a build
    # saw 15.7 ms once while the daemon's own record said >= 50 ms): all
    # but 1 % of the pairs must keep 30 ms, so sets written back to back
    # fail and one scheduling hiccup does not.  The stamper owns the pty:
    # through socat (two ptys, a copier) a first run beside the image's
    # build saw three pairs under 30 ms (the closest 0.8 ms) while the
    # daemon's own least gap was 50.3 ms
    p1 = gaps[len(gaps) // 100] if gaps else -1
    c.ok(gaps and p1 >= 0.030 and together * 10 < len(sets),
         "no two sets closer than 50 ms on the wire (99 %% of the pairs at least %.1f ms apart, the closest %.1f ms; "
         "%d of %d pairs unmeasured)" % (p1 * 1000, gaps[0] * 1000 if gaps else -1, together, len(sets)))


def dialect_sim(packs):
    """The dialects' simulator: two JK-PB packs with DIALECT_TEMPS, the
    bank's highest cell pack 1 cell 5, its lowest pack 2 cell 9."""
    sim = Sim(protocol="jk-pb", packs=packs)
    for k, temps in enumerate(DIALECT_TEMPS, 1):
        for i, t in enumerate(temps, 1):
            sim.ctl("set %d temp %d %d" % (k, i, t))
    sim.ctl("set 1 cell 5 3340")
    sim.ctl("set 2 cell 9 3230")
    return sim


def ran_clean(g, what):
    c.ok(g.alive() and "runtime error" not in g.text() and "AddressSanitizer" not in g.text(),
         "%s ran through it, sanitizers quiet" % what)


def test_dialects(tmp):
    pty = {}
    for name in ("pc", "lx", "rs"):
        pty[name], pty[name + "_b"] = pty_pair(tmp, "d" + name)
    sim = dialect_sim(DIALECT_PACKS)
    # the measured output's pty is the stamper's own (no socat between)
    stamp_file, pty["gap"] = os.path.join(tmp, "gap-stamps"), os.path.join(tmp, "dgap-gw")
    env = {"sim": sim, "stamp_file": stamp_file,
           "stamper": subprocess.Popen([sys.executable, os.path.join(ROOT, "tests/tools/slcan_stamp.py"),
                                        pty["gap"], stamp_file])}
    if not wait_file(pty["gap"]):
        raise RuntimeError("slcan_stamp.py did not make its pty")
    env["pc"], env["lx"] = CanReader(pty["pc_b"]), CanReader(pty["lx_b"])
    env["rs"] = Master(pty["rs_b"])
    gw_port, env["http"] = free_port(), free_port()
    env["conf_args"] = (gw_port, env["http"], sim.port, pty)
    env["gw"] = g = Gateway(dialect_conf(*env["conf_args"]), gw_port)
    t_cap = time.monotonic()
    try:
        dialect_frames(env)
        dialect_rs485(env)
        dialect_soc(env)
        dialect_shutdown(env)
        dialect_gaps(env, t_cap)
        dialect_echo(env)
        ran_clean(g, "the dialects' gateway")
    finally:
        if c.failed:
            g.dump(40)
        g.stop()
        sim.stop()
        if env["stamper"].poll() is None:
            env["stamper"].kill()
        for k in ("pc", "lx", "rs"):
            env[k].close()


# ------------------------------------ the LV dialects solark-can, deye-can

LV_PACKS = ("address=1,cells=16,sensors=4,soc=57.4,capacity=280,cycles=42,current=-12.34",
            "address=2,cells=16,sensors=4,soc=57.4,capacity=120,cycles=7,current=-12.34")
LV_SILENCE = 3
SOLARK_IDS = [0x351, 0x355, 0x356, 0x359, 0x35C, 0x35E, 0x379]
DEYE_IDS = [0x351, 0x355, 0x356, 0x359, 0x35C, 0x35E, 0x361, 0x364, 0x371]


def decode_solark(s):
    """A Sol-Ark set as gateway/inverter/PROTOCOLS.md §1c lays it out (rev
    1.3): little endian, 0x356 voltage in 0.1 V, current + = charging."""
    cvl, ccl, dcl, dvl = struct.unpack("<HhhH", s[0x351])
    soc, soh = struct.unpack("<HH", s[0x355][0:4])
    v, i, t = struct.unpack("<hhh", s[0x356][0:6])
    return {"cvl": cvl / 10, "ccl": ccl / 10, "dcl": dcl / 10, "dvl": dvl / 10, "soc": soc, "soh": soh,
            "voltage": v / 10, "current": i / 10, "temp": t / 10, "modules": s[0x359][4],
            "pn": s[0x359][5:7], "alarms": s[0x359][0:4], "charge": bool(s[0x35C][0] & 0x80),
            "discharge": bool(s[0x35C][0] & 0x40), "name": s[0x35E].rstrip(b" "),
            "capacity": struct.unpack("<H", s[0x379][0:2])[0]}


def decode_deye(s):
    """A Deye PCS set as PROTOCOLS.md §1d lays it out (V3.3): 0x356 voltage
    0.01 V, current + = discharging (returned here + = charging), 0x371 the
    on-grid limits."""
    cvl, ccl, dcl, dvl = struct.unpack("<HhhH", s[0x351])
    soc, soh = struct.unpack("<HH", s[0x355][0:4])
    v, i, t = struct.unpack("<hhh", s[0x356][0:6])
    cmax, cmin, tmax, tmin = struct.unpack("<HHhh", s[0x361])
    ccl_on, dcl_on = struct.unpack("<hh", s[0x371][0:4])
    e = s[0x35E]
    return {"cvl": cvl / 10, "ccl": ccl / 10, "dcl": dcl / 10, "dvl": dvl / 10, "soc": soc, "soh": soh,
            "voltage": v / 100, "current": -i / 10, "temp": t / 10, "fault3": s[0x359][3],
            "charge": bool(s[0x35C][0] & 0x80), "discharge": bool(s[0x35C][0] & 0x40),
            "dy": e[0:2], "packs": int(e[2:5].decode()), "maker": e[5],
            "capacity": struct.unpack("<H", e[6:8])[0] / 10, "cell_max": cmax, "cell_min": cmin,
            "temp_max": tmax / 10, "temp_min": tmin / 10, "counts": tuple(s[0x364][0:5]),
            "ccl_on": ccl_on / 10, "dcl_on": dcl_on / 10}


def lv_conf(gw_port, http_port, sim_port, sa, dy):
    return bank_head(gw_port, http_port, sim_port) + (
            "[inverter.sa]\nprotocol = solark-can\nport = slcan://%s\ninterval = 0.5\nfailsafe_silence = %d\n"
            "[inverter.dy]\nprotocol = deye-can\nport = slcan://%s\ninterval = 0.5\nfailsafe_silence = %d\n") % (
                sa, LV_SILENCE, dy, LV_SILENCE)


def lv_limits(lim):
    """The bank's limits as the 0x351 fields carry them (A, V)."""
    ccl = scale(lim["ccl_a"], 10, "down", 0, 0x7FFF) if lim["charge_allowed"] else 0
    dcl = scale(lim["dcl_a"], 10, "down", 0, 0x7FFF) if lim["discharge_allowed"] else 0
    return (scale(lim["cvl_v"], 10, "down", 0, 0xFFFF) / 10, ccl / 10, dcl / 10,
            scale(lim["dvl_v"], 10, "up", 0, 0xFFFF) / 10)


def lv_values(env):
    print("== solark-can and deye-can: every frame decoded by this test's reader of PROTOCOLS.md")
    sa, dy, port, sim = env["sa"], env["dy"], env["http"], env["sim"]
    ss = settled_set(sa, SOLARK_IDS, 20, lambda x: x[0x359][4] == 2 and struct.unpack("<hh", x[0x351][2:6]) > (0, 0))
    ds = settled_set(dy, DEYE_IDS, 20, lambda x: x[0x364][0] == 2 and struct.unpack("<hh", x[0x351][2:6]) > (0, 0))
    if not c.ok(ss is not None and ds is not None, "solark-can and deye-can: whole, settled sets, both packs online"):
        return
    bank = api(port)["bank"]
    packs = sim.state()["packs"]
    lim = lv_limits(bank["limits"])
    cmin, cmax, tmin, tmax = bank_extremes(packs)
    t_mean = sum(sum(t) / len(t) for t in (p["temps_c"] for p in packs)) / len(packs)
    a, d = decode_solark(ss), decode_deye(ds)
    for name, x in (("solark-can", a), ("deye-can", d)):
        c.eq((x["cvl"], x["ccl"], x["dcl"], x["dvl"]), lim, "%s 0x351: the bank's CVL, CCL, DCL, DVL" % name)
        c.ok(x["charge"] and x["discharge"], "%s 0x35C: charge and discharge enabled" % name)
        c.eq(x["soc"], 57, "%s 0x355: SOC 57 %% (57.4 rounded down)" % name)
        c.ok(abs(x["current"] - bank["current"]) < 0.051 and x["current"] < 0,
             "%s 0x356: the bank's current %.2f A, discharging (read %.1f A)" % (name, bank["current"], x["current"]))
        c.ok(abs(x["temp"] - t_mean) < 0.051, "%s 0x356: the mean temperature %.2f (read %.1f)" % (name, t_mean,
                                                                                                   x["temp"]))
    c.ok(abs(a["voltage"] - bank["voltage"]) < 0.051, "solark-can 0x356: the voltage in 0.1 V (%.1f for %.2f V)" %
         (a["voltage"], bank["voltage"]))
    c.ok(abs(d["voltage"] - bank["voltage"]) < 0.0051, "deye-can 0x356: the voltage in 0.01 V (%.2f for %.2f V)" %
         (d["voltage"], bank["voltage"]))
    c.eq(struct.unpack("<h", ds[0x356][2:4])[0], scale(-bank["current"], 10, "near", -0x7FFF, 0x7FFF),
         "deye-can 0x356: a discharge is positive on the wire")
    c.eq((a["modules"], a["pn"], a["name"]), (2, b"PN", b"PYLON"), "solark-can 0x359 modules, \"PN\"; 0x35E")
    cap = round(sum(p["capacity_ah"] for p in packs))
    c.eq(a["capacity"], cap, "solark-can 0x379: the bank's %d Ah" % cap)
    c.eq((d["dy"], d["packs"], d["maker"], d["capacity"]), (b"DY", 2, 0, float(cap)),
         "deye-can 0x35E: DY, 002 packs, cell maker unknown, the capacity in 0.1 Ah")
    c.eq((d["cell_max"], d["cell_min"], d["temp_max"], d["temp_min"]), (cmax[0], cmin[0], float(tmax[0]), float(tmin[0])),
         "deye-can 0x361: the bank's highest and lowest cell and sensor")
    c.eq(d["counts"], (2, 0, 0, 0, 2), "deye-can 0x364: 2 normal, none blocking, none lost, 2 in parallel")
    c.eq((d["ccl_on"], d["dcl_on"]), (d["ccl"], d["dcl"]), "deye-can 0x371: the on-grid limits are 0x351's")
    for name, r, ids in (("solark-can", sa, SOLARK_IDS), ("deye-can", dy, DEYE_IDS)):
        fr = r.since(time.monotonic() - 1.2)
        c.eq(sorted({m.dlc for _, m in fr}), [8], "%s: every frame 8 bytes" % name)
        c.ok({m.arbitration_id for _, m in fr} <= set(ids), "%s: no other id (%s)" %
             (name, sorted(hex(m.arbitration_id) for _, m in fr if m.arbitration_id not in ids)))
    sa.send(0x305, [0] * 8)
    dy.send(0x305, [30, 15, 12, 25, 11, 26, 0, 0])  # Deye: its time
    for name in ("sa", "dy"):
        c.ok(wait_until(lambda: (output(port, name) or {}).get("inverter_seen"), 5),
             "inverter %s: the inverter's 0x305 seen" % name)


def lv_stale(env):
    print("== solark-can and deye-can: the bank goes stale: zero limits at once, silence, frames again")
    sa, dy, port, sim = env["sa"], env["dy"], env["http"], env["sim"]
    before_t = time.monotonic()
    before = {n: wait_set(r, [0x351], before_t, 10) for n, r in (("sa", sa), ("dy", dy))}
    for k in (1, 2):
        sim.ctl("fault %d silent" % k)
    for name in ("sa", "dy"):
        c.ok(wait_until(lambda: (output(port, name) or {}).get("state") == "failsafe", 10),
             "inverter %s: failsafe once the bank is stale" % name)
    t_fs = time.monotonic()
    ss = wait_set(sa, SOLARK_IDS, t_fs, 5)
    ds = wait_set(dy, DEYE_IDS, t_fs, 5)
    if c.ok(ss is not None and ds is not None, "both keep sending while fail-safe"):
        a, d = decode_solark(ss), decode_deye(ds)
        c.eq((a["ccl"], a["dcl"], a["charge"], a["discharge"]), (0, 0, False, False),
             "solark-can fail-safe: 0x351 CCL = DCL = 0, 0x35C bits 7 and 6 clear")
        c.eq((d["ccl"], d["dcl"], d["ccl_on"], d["dcl_on"], d["charge"], d["discharge"]), (0, 0, 0, 0, False, False),
             "deye-can fail-safe: 0x351 and 0x371 CCL = DCL = 0, 0x35C bits 7 and 6 clear")
        for n, s, r in (("sa", ss, sa), ("dy", ds, dy)):
            # kept: the CVL of the last 0x351 that still allowed a current (on
            # a loaded machine one pack can go stale a poll before the other:
            # the bank then holds its CVL at float voltage, and that is kept)
            live = [bytes(m.data) for _, m in r.since(before_t) if m.arbitration_id == 0x351 and
                    bytes(m.data)[2:6] != b"\0\0\0\0"]
            c.ok(before[n] is not None and live and s[0x351][0:2] == live[-1][0:2] and s[0x351][0:2] != b"\0\0",
                 "inverter %s: the CVL kept, never 0 (%s, the last with a current %s, before the fault %s)" %
                 (n, s[0x351].hex(), live[-1].hex() if live else None, before[n] and before[n][0x351].hex()))
        c.ok(d["fault3"] & 0x20, "deye-can 0x359 byte 3 bit 5: the communication fault")
        c.eq(a["alarms"][3] & 0x08, 0, "solark-can: no \"critical system error\" for a stale source")
    for name in ("sa", "dy"):
        c.ok(wait_until(lambda: (output(port, name) or {}).get("state") == "silent", LV_SILENCE + 10),
             "inverter %s: silent after failsafe_silence" % name)
    t_si = time.monotonic()
    sent = {n: (output(port, n) or {}).get("frames_sent") for n in ("sa", "dy")}
    wait_until(lambda: time.monotonic() - t_si > 2.2, 4)
    for n, r in (("sa", sa), ("dy", dy)):
        c.eq((output(port, n) or {}).get("frames_sent"), sent[n], "inverter %s: no frame while silent" % n)
        c.eq(len(r.since(t_si + 0.5)), 0, "inverter %s: the reader hears nothing while silent" % n)
    for k in (1, 2):
        sim.ctl("fault %d none" % k)
    t_back = time.monotonic()
    for n, r in (("sa", sa), ("dy", dy)):
        s = wait_set(r, [0x351], t_back, 20, lambda x: struct.unpack("<hh", x[0x351][2:6]) > (0, 0))
        c.ok(s is not None, "inverter %s: frames again with its current limits once the packs answer" % n)


def lv_waiting(env):
    print("== solark-can and deye-can: nothing before the source's first data")
    sa, dy, port = env["sa"], env["dy"], env["http"]
    for name in ("sa", "dy"):
        c.ok(wait_until(lambda: (output(port, name) or {}).get("state") == "waiting", 10),
             "inverter %s: waiting while no pack has answered" % name)
    t0 = time.monotonic()
    wait_until(lambda: time.monotonic() - t0 > 2.0, 3)
    c.eq((len(sa.since(0)), len(dy.since(0))), (0, 0), "not one frame from either before any data")
    for k in (1, 2):
        env["sim"].ctl("fault %d none" % k)
    for n, r in (("sa", sa), ("dy", dy)):
        first = wait_until(lambda: next((bytes(m.data) for _, m in r.since(0) if m.arbitration_id == 0x351), None), 15)
        c.ok(first is not None and struct.unpack("<H", first[0:2])[0] > 400,
             "inverter %s: the very first 0x351 carries a real CVL (%s)" % (n, first and first.hex()))


def test_lv_dialects(tmp):
    sa_a, sa_b = pty_pair(tmp, "lvsa")
    dy_a, dy_b = pty_pair(tmp, "lvdy")
    sim = dialect_sim(LV_PACKS)
    for k in (1, 2):
        sim.ctl("fault %d silent" % k)  # no data until lv_waiting lets them answer
    env = {"sim": sim, "sa": CanReader(sa_b), "dy": CanReader(dy_b)}
    gw_port, env["http"] = free_port(), free_port()
    g = Gateway(lv_conf(gw_port, env["http"], sim.port, sa_a, dy_a), gw_port)
    try:
        lv_waiting(env)
        lv_values(env)
        lv_stale(env)
        ran_clean(g, "the LV dialects' gateway")
    finally:
        if c.failed:
            g.dump(40)
        g.stop()
        sim.stop()
        env["sa"].close()
        env["dy"].close()


def socketcan_available():
    if not hasattr(socket, "AF_CAN"):
        return "this Python has no AF_CAN"
    try:
        socket.socket(socket.AF_CAN, socket.SOCK_RAW, socket.CAN_RAW).close()
    except OSError as e:
        return "the kernel has no AF_CAN (%s)" % e
    r = subprocess.run(["ip", "link", "add", "dev", "bmsgwvcan0", "type", "vcan"], capture_output=True, text=True)
    if r.returncode != 0:
        return "no vcan interface can be made (%s)" % r.stderr.strip()
    subprocess.run(["ip", "link", "set", "up", "bmsgwvcan0"], check=True)
    return None


def socketcan_conf(gw_port, sim_port, http_port, name, ifname):
    """One pack and a pylon-can output NAME on the SocketCAN interface IFNAME."""
    return """[gateway]
listen = 127.0.0.1:%d
state_file = none
[pack.p1]
protocol = daly
port = tcp://127.0.0.1:%d
address = 1
poll_interval = 0.3
[limits]
[http]
listen = 127.0.0.1:%d
[history]
file = none
[inverter.%s]
protocol = pylon-can
port = %s
source = p1
interval = 0.5
""" % (gw_port, sim_port, http_port, name, ifname)


def test_socketcan_missing(env):
    print("== a SocketCAN interface that is not there")
    gw_port, http_port = free_port(), free_port()
    g = Gateway(socketcan_conf(gw_port, free_port(), http_port, "c0", "bmsgwnone0"), gw_port)
    try:
        o = wait_until(lambda: output(http_port, "c0"), 5)
        c.eq(o and o["state"], "down", "an interface that is not there: state down")
        c.ok(wait_until(lambda: "bmsgwnone0" in g.text(), 5), "the missing interface is logged")
        t0 = time.monotonic()
        wait_until(lambda: time.monotonic() - t0 > 2.5, 4)  # reopen attempts go by
        n = len(re.findall(r"bmsgwnone0", g.text()))
        c.ok(1 <= n <= 3, "its absence is logged once, not at every retry (%d lines)" % n)
        c.ok(g.alive(), "the daemon runs on")
    finally:
        g.stop()


def test_socketcan(env):
    why = socketcan_available()
    if why:
        print("skip: SocketCAN end to end: %s; slcan above runs the same frame code" % why)
        return
    print("== pylon-can over SocketCAN (vcan)")
    gw_port, http_port = free_port(), free_port()
    sim = Sim(packs=(PACK,))  # a simulator of its own: its TCP port serves one gateway
    bus = can.Bus(interface="socketcan", channel="bmsgwvcan0")
    g = Gateway(socketcan_conf(gw_port, sim.port, http_port, "v", "bmsgwvcan0"), gw_port)
    try:
        wait_until(lambda: (output(http_port, "v") or {}).get("state") == "sending", 15)
        got = {}
        deadline = time.monotonic() + 5
        while len(got) < 6 and time.monotonic() < deadline:
            msg = bus.recv(0.5)
            if msg is not None:
                got[msg.arbitration_id] = bytes(msg.data)
        lim = lim_of(pack_state(http_port))
        want = expect_pylon(sim.state()["packs"][0], lim)
        for i in (0x351, 0x355, 0x356, 0x359, 0x35C, 0x35E):
            c.eq(got.get(i, b"").hex(), want[i].hex(), "SocketCAN 0x%03X bytes" % i)
        bus.send(can.Message(arbitration_id=0x305, data=bytes(8), is_extended_id=False))
        c.ok(wait_until(lambda: (output(http_port, "v") or {}).get("inverter_seen"), 5), "SocketCAN: 0x305 seen")
    finally:
        g.stop()
        sim.stop()
        bus.shutdown()
        subprocess.run(["ip", "link", "del", "bmsgwvcan0"])


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-inv-")
    can_a, can_b = pty_pair(tmp, "can")
    sma_a, sma_b = pty_pair(tmp, "sma")
    rs_a, rs_b = pty_pair(tmp, "rs")
    sim = Sim(packs=(PACK,))
    sim.ctl("set 1 temp 1 25")
    sim.ctl("set 1 temp 2 28")
    gw_port, http_port = free_port(), free_port()
    args = (gw_port, http_port, sim.port, can_a, sma_a, rs_a)
    env = {"sim": sim, "http": http_port, "conf_args": args}
    # the readers first, so that the daemon's first frames are read
    env["can"], env["sma"] = CanReader(can_b), CanReader(sma_b)
    env["master"] = Master(rs_b)
    env["gw"] = gw = Gateway(conf(*args), gw_port)
    try:
        test_check(env)
        test_pylon_can(env)
        test_fall_at_once(env)
        test_soc_low_and_force(env)
        test_sma_can(env)
        test_rs485(env)
        test_stale(env)
        test_reload(env)
        test_socketcan_missing(env)
        test_socketcan(env)
        test_waiting(tmp)
        test_growatt_rs485(tmp)
        test_bank_member(tmp)
        test_dialects(tmp)
        test_lv_dialects(tmp)
        c.ok(gw.alive(), "the daemon ran through it all")
        c.ok("ERROR: AddressSanitizer" not in gw.text() and "runtime error" not in gw.text(), "sanitizers quiet")
    except Exception:
        gw.dump(60)
        raise
    finally:
        if c.failed:
            gw.dump(60)
        gw.stop()
        env["can"].close()
        env["sma"].close()
        env["master"].close()
    sys.exit(c.report())


if __name__ == "__main__":
    main()
