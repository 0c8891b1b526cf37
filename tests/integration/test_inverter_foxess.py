#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""foxess-can end to end, without CAN hardware: the real bmsgw with a
simulated 32-cell Daly pack (80.0-116.8 V, inside foxess-can's 80-480 V) and
an [inverter.hv] of protocol = foxess-can (battery_type = 134) on a pty
pair made by socat; the
test plays the FoxESS inverter with Debian's python3-can over slcan,
sending its 0x1871 as FozzieUK's captures and Battery-Emulator describe it
(01 .. byte 4 = 00 the state every second, 01 the modules, 04 the cells;
05 the serial numbers; 02 an acknowledgement, 03 the time), and decodes
every answer with its own reader written from
gateway/inverter/PROTOCOLS.md §12 (29-bit ids, little endian):

- the adapter opened at 500 kbit/s (S6);
- the shared checks of hvinv.py: nothing before the first data, nothing
  unasked, the limits against /api/state, silence outside 80-480 V, the
  fail-safe timeline (zero limits, the contactor 0, "charging not
  possible", an error, not operational; then silence; then answers
  again), --check's window, interval and extras refused;
- the values: voltage, current, SOC, the extreme sensors and cells
  (0x1874 and 0x1876 in mV) against the simulator's, 0x1875's two
  modules (102.4 V / 51.2 V) with a bit each and the contactor, 0x1879's
  state bits from the current and the limits, 0x1877 of the master (the
  battery_type set, 134) and of each module in turn;
- 01 .. 01: 0x0C05, 0x0C06, each module's share of the voltage (0.01 V)
  and of the current, the extreme sensors + 40, the SOC; 04: the pack's 32 cells in 8 frames from 0x0C1D and
  its 2 sensors in 0x0D21 (+50); 05: 0x1881-0x1883 for slots 0-2; 02 and
  03: no answer;
- a bank of two strings of two 32-cell packs: the bank's values and limits,
  a member's over-voltage and a stale member in the next answers.
"""
import os
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, api_state, wait_until  # noqa: E402
import hvinv  # noqa: E402

try:
    from can.interfaces.slcan import slcanBus  # noqa: F401 - canreader.py uses it
except ImportError:
    print("python3-can is not installed (make deps installs it)")
    print("0 passed, 1 failed")
    sys.exit(1)

c = Checks()
STATE = list(range(0x1872, 0x187A))
INFO = bytes.fromhex("0100010000000000")
PACKS = bytes.fromhex("0100010001000000")
CELLS = bytes.fromhex("0100010004000000")
SERIALS = bytes.fromhex("0500010000000000")


def u16(d, i):
    return struct.unpack("<H", d[i:i + 2])[0]


def s16(d, i):
    return struct.unpack("<h", d[i:i + 2])[0]


class Foxess(hvinv.Dialect):
    """This test's reader of §12."""
    name = "foxess-can"
    window = (80, 480)
    example = "inverter-foxess.ini"

    def poll(self, inv):
        inv.send(0x1871, INFO)

    def answer(self, frames):
        """The newest run of 0x1872-0x1879 in order."""
        run, best = [], None
        for t, m in frames:
            i = m.arbitration_id
            if i == 0x1872:
                run = []
            if i in STATE:
                run.append(m)
                if [x.arbitration_id for x in run] == STATE:
                    best = {x.arbitration_id: bytes(x.data) for x in run}
                    best["ext"] = all(x.is_extended_id and len(x.data) == 8 for x in run)
        return best

    def limits(self, a):
        d = a[0x1872]
        return {"cvl": u16(d, 0) / 10, "dvl": u16(d, 2) / 10, "ccl": u16(d, 4) / 10, "dcl": u16(d, 6) / 10}

    def values(self, a):
        d = a[0x1873]
        return {"voltage": u16(d, 0) / 10, "current": s16(d, 2) / 10, "soc": d[4]}

    def stale_marks(self, a):
        return [("0x1875 byte 4 = 0: the contactor (%d)" % a[0x1875][4], a[0x1875][4] == 0),
                ("0x1876 bit 0: charging not possible", a[0x1876][0] & 1 == 1),
                ("0x1877 byte 0 = 02: an error", a[0x1877][0] == 0x02),
                ("0x1879: no 'may charge / discharge', not operational, an error (%02x)" % a[0x1879][1],
                 a[0x1879][1] & 0x66 == 0x40)]


D = Foxess()


def frames_after(inv, data, ids, n, timeout=3.0):
    """Send 0x1871 data once the bus is quiet (a late answer to an earlier
    request is not this one's); the n frames of ids that answer it (waiting
    for them, then 0.3 s for anything more), every frame since."""
    inv.quiet(0.3, 5)
    t0 = time.monotonic()
    inv.send(0x1871, data)
    wait_until(lambda: len([m for t, m in inv.since(t0) if m.arbitration_id in ids]) >= n, timeout)
    time.sleep(0.3)
    return [m for t, m in inv.since(t0)]


def test_values(env):
    print("== the answer's values (this test's little-endian reader)")
    inv, port, sim = env["inv"], env["http"], env["sim"]
    a = hvinv.ask(inv, D)
    st = sim.state()["packs"][0]
    if not c.ok(a is not None and a["ext"], "an answer, 29-bit, 8 bytes"):
        return
    v = D.values(a)
    c.eq(round(v["voltage"] * 10), round(st["voltage"] * 10), "0x1873 voltage (%s)" % v["voltage"])
    c.eq(round(v["current"] * 10), round(st["current"] * 10), "0x1873 current, + = charging (%s)" % v["current"])
    pk = (api_state(port).get("packs") or [{}])[0]
    c.eq(v["soc"], int(pk["soc"] + 1e-4), "0x1873 SOC rounded down (%s)" % v["soc"])
    temps, mv = st["temps_c"], st["cells_mv"]
    t = a[0x1874]
    c.eq((s16(t, 0) / 10, s16(t, 2) / 10), (float(max(temps)), float(min(temps))), "0x1874 hottest, coldest")
    c.eq((u16(t, 4), u16(t, 6)), (max(mv), min(mv)), "0x1874 highest, lowest cell (mV)")
    c.eq((u16(a[0x1876], 2), u16(a[0x1876], 6)), (max(mv), min(mv)), "0x1876 highest, lowest cell (mV)")
    m = a[0x1875]
    c.eq((s16(m, 0) / 10, m[2], m[3], m[4]), ((max(temps) + min(temps)) / 2, 0x03, 2, 1),
         "0x1875 mean temperature, modules 1-2 answering, 2 modules (102.4 V / 51.2), contactor on")
    c.eq(a[0x1876][0] & 1, 0, "0x1876 bit 0 clear: charging possible")
    c.eq(u16(a[0x1878], 0), 2567, "0x1878 256.7")
    # discharging at -12.3 A with both directions allowed: always, may discharge, may charge, discharging, operational
    c.eq(a[0x1879][1], 0x01 | 0x02 | 0x04 | 0x08 | 0x20, "0x1879 state bits (%02x)" % a[0x1879][1])
    kinds = []
    for _ in range(3):
        b = hvinv.ask(inv, D)
        kinds.append(b and (b[0x1877][4], b[0x1877][7]))
    c.ok(set(kinds + [(a[0x1877][4], a[0x1877][7])]) == {(0x86, 0x01), (0x84, 0x10), (0x84, 0x20)},
         "0x1877 the master (battery_type 134) and each module in turn (%s)" % kinds)


def test_kinds(env):
    print("== the other kinds of request")
    inv, sim = env["inv"], env["sim"]
    st = sim.state()["packs"][0]
    got = frames_after(inv, PACKS, (0x0C05, 0x0C06), 2)
    c.eq([m.arbitration_id for m in got], [0x0C05, 0x0C06], "01 .. 01: 0x0C05, 0x0C06 (two modules), nothing else")
    if len(got) == 2:
        d = bytes(got[0].data)
        c.ok(abs(u16(d, 6) - st["voltage"] * 100 / 2) <= 6, "0x0C05: half the voltage in 0.01 V (%d)" % u16(d, 6))
        c.ok(abs(s16(d, 0) / 10 - st["current"] / 2) <= 0.11, "0x0C05: half the current (%s)" % (s16(d, 0) / 10))
        c.eq((d[2] - 40, d[3] - 40), (max(st["temps_c"]), min(st["temps_c"])), "0x0C05: hottest, coldest + 40")
    got = frames_after(inv, CELLS, (0x0D21,), 1)
    mv = sim.state()["packs"][0]["cells_mv"]
    cells = [m for m in got if 0x0C1D <= m.arbitration_id <= 0x0CAD]
    c.eq([m.arbitration_id for m in cells], [0x0C1D + 4 * k for k in range(8)], "04: 8 frames of 4 cells")
    vals = [u16(bytes(m.data), 2 * j) for m in cells for j in range(4)]
    c.ok(len(vals) == 32 and all(abs(a - b) <= 5 for a, b in zip(vals, mv)), "the 32 cells in mV (%s)" % vals[:4])
    temps = [m for m in got if m.arbitration_id == 0x0D21]
    c.ok(len(temps) == 1 and [x - 50 for x in bytes(temps[0].data)[:2]] == list(map(round, st["temps_c"])),
         "0x0D21: the 2 sensors + 50 (%s)" % (temps and bytes(temps[0].data).hex()))
    got = frames_after(inv, SERIALS, (0x1881, 0x1882, 0x1883), 9)
    c.eq([(m.arbitration_id, m.data[0]) for m in got], [(0x1881 + p, s) for s in range(3) for p in range(3)],
         "05: 0x1881-0x1883 for slots 0, 1, 2")
    c.ok(all(bytes(m.data[1:]).isascii() for m in got) and bytes(got[0].data[1:]) == b"BMSGW00",
         "the serial numbers ASCII, BMSGW and the slot")
    for data in ("0200010001000000", "0306170509092822"):
        t0 = time.monotonic()
        inv.send(0x1871, bytes.fromhex(data))
        time.sleep(0.6)
        c.eq(len(inv.since(t0)), 0, "%s: no answer" % data[:2])


def string_modules(c_, inv, http_port):
    a = hvinv.ask(inv, D)
    c_.ok(a is not None and a[0x1875][3] == 4 and a[0x1875][2] == 0x0F,
          "0x1875: a string of 64 cells is 4 modules (%s)" % (a and a[0x1875].hex()))


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-foxess-")
    env = hvinv.start(c, D, tmp, "battery_type = 134\n")
    try:
        hvinv.test_waiting(c, env)
        hvinv.test_unasked(c, env)
        test_values(env)
        test_kinds(env)
        hvinv.test_limits(c, env)
        hvinv.test_range(c, env)
        hvinv.test_stale(c, env)
        hvinv.test_check(c, env)
    finally:
        hvinv.stop(c, env)
    hvinv.test_strings(c, tmp, D, string_modules)
    sys.exit(c.report())


if __name__ == "__main__":
    main()
