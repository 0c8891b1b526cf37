#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""sungrow-can end to end, without CAN hardware: the real bmsgw with a
bank of one string of two simulated 32-cell Daly packs (64 cells:
160.0-233.6 V, inside sungrow-can's 108-584 V) and an [inverter.hv] of
protocol = sungrow-can (report_modules = 4, report_capacity_ah = 50) on a
pty pair made by socat; the test plays the Sungrow inverter with Debian's
python3-can over slcan, sending what Battery-Emulator describes it sends
(0x101 its init, 0x108 / 0x109 its run group, Modbus RTU on 0x1E0), and
decodes every frame with its own reader written from
gateway/inverter/PROTOCOLS.md §13 (11-bit ids, little endian):

- the adapter opened at 250 kbit/s (S5);
- the shared checks of hvinv.py for a dialect that speaks on its own:
  nothing before the first data (even when the inverter speaks), the sets
  every second without the inverter (their count in a window, give or
  take two), the limits against /api/state, silence outside 108-584 V
  (every cell pinned at 1.662 V: 106.4 V), the fail-safe timeline (zero
  limits and the end stop "full" out of turn, then silence, then the sets
  again), --check's window, interval and extras refused;
- the modes: after the inverter's 0x101 the init set (0x007 ... 0x00E,
  none of 0x000-0x006 or 0x700-0x706), after its 0x108 the run set (0x000
  ... 0x01E, 0x700 ... 0x719, 0x70F x 8, 0x71A ... 0x71E), the head and
  the tail in both; /api/state handshake init / run; 0x707 and its group
  every 10 s;
- the values: 0x701 = 0x501 = 0x001 the limits, 0x702 SOC and SOH in
  0.01 %, the energies of the capacity set (50 Ah x 64 x 3.2 V), 0x704
  voltage, current (+ = charging) and the hottest sensor, 0x504 the current
  turned, 0x705 the model id of 4 modules, 0x706 the extremes against the
  simulator's, 0x707 4 x 3200 Wh, the module frames of 4 modules, 0x70A
  "SUNGROW", three 0x71F a module at the schedule's start;
- Modbus on 0x1E0: Battery-Emulator's capture `01 04 4D E2 00 02 C6 91`
  answered `01 04 04 01 F4 00 00 BB` `8A`, the reply's CRC checked by the
  test's own CRC; a bad CRC, another register: no reply;
- a bank of two strings of two 32-cell packs: the bank's values and
  limits, a member's over-voltage and a stale member in the next sets.
"""
import os
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, api_state, inverter_output, wait_until  # noqa: E402
import hvinv  # noqa: E402

try:
    from can.interfaces.slcan import slcanBus  # noqa: F401 - canreader.py uses it
except ImportError:
    print("python3-can is not installed (make deps installs it)")
    print("0 passed, 1 failed")
    sys.exit(1)

c = Checks()
TAIL = [0x512, 0x501, 0x502, 0x503, 0x504, 0x505, 0x506]
INIT_OWN = [0x007, 0x008, 0x009, 0x00A, 0x00B, 0x00D, 0x00E]
RUN_OWN = list(range(0x000, 0x007)) + list(range(0x013, 0x01F)) + list(range(0x700, 0x707)) + \
    list(range(0x713, 0x71A)) + [0x70F] + list(range(0x71A, 0x71F))


def u16(d, i):
    return struct.unpack("<H", d[i:i + 2])[0]


def s16(d, i):
    return struct.unpack("<h", d[i:i + 2])[0]


def crc16(data):
    """CRC-16/MODBUS: poly 0xA001 reflected, init 0xFFFF."""
    c_ = 0xFFFF
    for b in data:
        c_ ^= b
        for _ in range(8):
            c_ = (c_ >> 1) ^ 0xA001 if c_ & 1 else c_ >> 1
    return c_


class Sungrow(hvinv.Dialect):
    """This test's reader of §13."""
    name = "sungrow-can"
    window = (108, 584)
    bitrate = "S5"
    example = "inverter-sungrow.ini"
    members = 2
    periodic = True
    period = 1.0
    poll_id = 0x101  # the inverter's regular frame: its init, then (from test_modes) its run group

    def poll(self, inv):
        inv.send(self.poll_id, bytes(8), ext=False)

    def sets(self, frames):
        """Each second's set: from a head 0x402 to the frame before the
        next, whole with its tail; [(time, {id: bytes}, [(id, bytes)])]."""
        out, cur = [], None
        for t, m in frames:
            if m.is_extended_id or m.arbitration_id == 0x1E0:
                continue
            if m.arbitration_id == 0x402:
                cur = (t, {}, [])
                out.append(cur)
            if cur is not None:
                cur[1][m.arbitration_id] = bytes(m.data)
                cur[2].append((m.arbitration_id, bytes(m.data)))
        return [(t, a, seq) for t, a, seq in out if all(i in a for i in TAIL)]

    def answer(self, frames):
        s = self.sets(frames)
        if not s:
            return None
        a = dict(s[-1][1])
        a["seq"] = s[-1][2]
        return a

    def limits(self, a):
        d = a[0x501]
        return {"cvl": u16(d, 0) / 10, "dvl": u16(d, 2) / 10, "ccl": u16(d, 4) / 10, "dcl": u16(d, 6) / 10}

    def values(self, a):
        d = a[0x504]  # in both sets: the current with its sign turned (+ = discharging)
        return {"voltage": u16(d, 0) / 10, "current": -s16(d, 2) / 10, "soc": u16(a[0x502], 0) / 100}

    def stale_marks(self, a):
        if 0x005 not in a:
            return [("0x501 and 0x502 in the init set", 0x501 in a)]
        return [("0x005 byte 1 = 1: the end stop full (%d)" % a[0x005][1], a[0x005][1] == 1),
                ("0x001 = 0x701 = 0x501", a[0x001] == a[0x701] == a[0x501])]


D = Sungrow()


def set_is(a, run):
    """Is the set a of the run set (else of the init set)?"""
    ids = {i for i, _ in a["seq"]}
    own, other = (RUN_OWN, INIT_OWN) if run else (INIT_OWN, RUN_OWN)
    return all(i in ids for i in own) and not any(i in ids for i in other)


def test_modes(env):
    print("== the init set, then the run set")
    inv, port = env["inv"], env["http"]
    a = hvinv.ask(inv, D, pred=lambda x: set_is(x, False))
    c.ok(a is not None, "after the inverter's 0x101: the init set (head, 0x007-0x00E, tail; no 0x000-0x006, "
         "0x700-0x706)")
    ids = [i for i, _ in a["seq"]] if a else []
    c.eq(ids[:19], [0x402, 0x500, 0x401, 0x007, 0x008, 0x008, 0x009, 0x00A, 0x00A, 0x00B, 0x00D, 0x00E] + TAIL,
         "in order: the head 0x402, 0x500, 0x401, the init frames, the tail 0x512, 0x501-0x506")
    c.eq((inverter_output(port, "hv") or {}).get("handshake"), "init", "/api/state handshake init")
    D.poll_id = 0x108
    a = hvinv.ask(inv, D, pred=lambda x: set_is(x, True))
    c.ok(a is not None, "after the inverter's 0x108: the run set (0x000-0x01E, 0x700-0x719, 0x70F x 8, "
         "0x71A-0x71E; no 0x007-0x00E)")
    c.ok(a is not None and sum(1 for i, _ in a["seq"] if i == 0x70F) == 8 and
         sorted(d[0] for i, d in a["seq"] if i == 0x70F) == list(range(8)), "0x70F mux 0-7")
    c.eq((inverter_output(port, "hv") or {}).get("handshake"), "run", "/api/state handshake run")
    t0 = time.monotonic()
    time.sleep(12.5)
    n707 = sum(1 for t, m in inv.since(t0) if m.arbitration_id == 0x707)
    c.ok(1 <= n707 <= 2, "0x707 with the 10 s group: %d in 12.5 s" % n707)


def test_values(env):
    print("== the values (this test's little-endian reader)")
    inv, port, sim = env["inv"], env["http"], env["sim"]
    a = hvinv.ask(inv, D, pred=lambda x: set_is(x, True))
    st = sim.state()["packs"]
    bank = api_state(port).get("bank") or {}
    if not c.ok(a is not None and bank.get("voltage"), "a run set and the bank"):
        return
    c.ok(all(not m.is_extended_id and len(m.data) == 8 for _, m in inv.since(time.monotonic() - 2)),
         "11-bit frames, 8 bytes")
    c.eq(a[0x701], a[0x501], "0x701 = 0x501")
    c.eq(a[0x001], a[0x501], "0x001 = 0x501")
    volt = u16(a[0x704], 0) / 10
    c.ok(abs(volt - bank["voltage"]) < 0.15 and 160 <= volt <= 233.6, "0x704 voltage, the string's (%s; %s)"
         % (volt, bank["voltage"]))
    c.eq(u16(a[0x704], 4), u16(a[0x704], 0), "0x704 the voltage again at bytes 4-5")
    cur = s16(a[0x704], 2) / 10
    c.ok(abs(cur - bank["current"]) < 0.15 and cur < 0, "0x704 current, + = charging (%s; %s)" % (cur, bank["current"]))
    c.eq(s16(a[0x504], 2), -s16(a[0x704], 2), "0x504 the current turned")
    temps = [t for p in st for t in p["temps_c"]]
    mv = [v for p in st for v in p["cells_mv"]]
    c.eq(s16(a[0x704], 6) / 10, float(max(temps)), "0x704 the hottest sensor")
    c.eq((s16(a[0x706], 0) / 10, s16(a[0x706], 2) / 10), (float(max(temps)), float(min(temps))),
         "0x706 hottest, coldest")
    c.eq((u16(a[0x706], 4), u16(a[0x706], 6)), (max(mv), min(mv)), "0x706 highest, lowest cell (mV)")
    c.eq((u16(a[0x714], 2), u16(a[0x714], 6)), (max(mv) * 10, min(mv) * 10), "0x714 the same in 0.1 mV")
    soc = u16(a[0x702], 0) / 100
    c.ok(abs(soc - bank["soc"]) < 0.011 and soc <= bank["soc"] + 1e-6, "0x702 SOC in 0.01 %%, down (%s; %s)"
         % (soc, bank["soc"]))
    c.eq(a[0x500][7], int(bank["soc"] + 1e-4), "0x500 byte 7 the SOC in %")
    c.eq(u16(a[0x702], 6), 10240, "0x702 full energy: 50 Ah x 64 x 3.2 V = 10240 Wh")
    c.ok(abs(u16(a[0x702], 4) - 10240 * soc / 100) <= 12, "0x702 remaining energy of 50 Ah at the SOC (%d Wh)"
         % u16(a[0x702], 4))
    c.eq((a[0x705][0], a[0x705][2], u16(a[0x705], 3)), (2, 1, 8424), "0x705: run, 1, model 8420 + 4 modules")
    c.eq(a[0x005][1], 0, "0x005 byte 1: no end stop")
    c.eq(u16(a[0x501], 4) > 0 and u16(a[0x501], 6) > 0, True, "real current limits")
    frames = inv.since(0)
    last = {}
    for _, m in frames:
        last[(m.arbitration_id, m.data[0])] = bytes(m.data)
    c.eq(last.get((0x707, 0x30)), bytes.fromhex("3000000100320400"), "0x707: .30, .1, 4 x 3200 Wh, 4 modules")
    c.eq(last.get((0x70A, 0)), b"\x00SUNGROW", "0x70A 'SUNGROW'")
    c.eq(a[0x717], bytes(8), "0x717: no module 5 or 6")
    c.ok(u16(a[0x716], 4) == min(mv) * 10 and u16(a[0x716], 6) == max(mv) * 10, "0x716: module 4's cells")
    sg = [m for _, m in frames if m.arbitration_id == 0x71F]
    first = sg[:12]
    c.eq([(m.data[0], m.data[1]) for m in first], [(k // 3 + 1, k % 3 + 1) for k in range(12)],
         "0x71F: three a module of 4 at the schedule's start")
    c.ok(all(bytes(m.data[2:]).isascii() for m in first) and bytes(first[0].data[2:]) == b"BMSGW0",
         "0x71F: bmsgw's serial numbers")


def test_modbus(env):
    print("== Modbus RTU on 0x1E0")
    inv, port = env["inv"], env["http"]
    t0 = time.monotonic()
    inv.send(0x1E0, bytes.fromhex("01044DE20002C691"), ext=False)
    got = wait_until(lambda: (lambda f: f if len(f) >= 2 else None)(
        [m for t, m in inv.since(t0) if m.arbitration_id == 0x1E0]), 3)
    c.ok(got is not None and bytes(got[0].data) == bytes.fromhex("01040401F40000BB") and bytes(got[1].data) == b"\x8A",
         "Battery-Emulator's capture: 01 04 04 01 F4 00 00 BB | 8A (%s)" % (got and [bytes(m.data).hex() for m in got]))
    if got:
        whole = bytes(got[0].data) + bytes(got[1].data)
        c.eq(crc16(whole[:7]), struct.unpack("<H", whole[7:9])[0], "the reply's CRC, by this test's CRC")
    req = bytes([1, 3, 0x4D, 0xE2, 0, 6])
    req += struct.pack("<H", crc16(req))
    t1 = time.monotonic()
    inv.send(0x1E0, req, ext=False)
    got = wait_until(lambda: (lambda f: f if len(f) >= 3 else None)(
        [m for t, m in inv.since(t1) if m.arbitration_id == 0x1E0]), 3)
    whole = b"".join(bytes(m.data) for m in got or [])
    c.ok(len(whole) == 17 and whole[:3] == b"\x01\x03\x0c" and
         [struct.unpack(">H", whole[3 + 2 * i:5 + 2 * i])[0] for i in range(6)] == [500, 0, 300, 0, 200, 0] and
         crc16(whole[:15]) == struct.unpack("<H", whole[15:17])[0],
         "FC 03 of all six: 500, 0, 300, 0, 200, 0 (%s)" % whole.hex())
    t2 = time.monotonic()
    inv.send(0x1E0, bytes.fromhex("01044DE20002C692"), ext=False)  # a bad CRC
    bad = bytes([1, 4, 0x4D, 0xE3, 0, 1])
    inv.send(0x1E0, bad + struct.pack("<H", crc16(bad)), ext=False)  # another register
    time.sleep(0.6)
    c.eq([m for t, m in inv.since(t2) if m.arbitration_id == 0x1E0], [], "a bad CRC, another register: no reply")
    o = inverter_output(port, "hv") or {}
    c.eq(o.get("replies"), 2, "/api/state replies: 2")


def string_modules(c_, inv, http_port):
    a = hvinv.ask(inv, D, pred=lambda x: set_is(x, True))
    c_.ok(a is not None and u16(a[0x705], 3) == 8423, "0x705: a string's 64 cells at 204.8 V are 3 modules (%s)"
          % (a and u16(a[0x705], 3)))


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-sungrow-")
    env = hvinv.start(c, D, tmp, "report_modules = 4\nreport_capacity_ah = 50\n")
    try:
        hvinv.test_waiting(c, env)
        test_modes(env)
        hvinv.test_periodic(c, env)
        test_values(env)
        hvinv.test_limits(c, env)
        test_modbus(env)
        hvinv.test_range(c, env)
        hvinv.test_stale(c, env)
        hvinv.test_check(c, env)
    finally:
        hvinv.stop(c, env)
    D.poll_id = 0x108
    hvinv.test_strings(c, tmp, D, string_modules)
    sys.exit(c.report())


if __name__ == "__main__":
    main()
