#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""sofar-can end to end, without CAN hardware: the real bmsgw with a
simulated 32-cell Daly pack (80.0-116.8 V, inside sofar-can's 80-1000 V)
and an [inverter.hv] of protocol = sofar-can as battery id 3 (address = 3,
manufacturer = BMSGW, report_capacity_ah = 50) on a pty pair made by
socat; the test plays the Sofar HYD with Debian's python3-can over slcan,
sending its inquiries 0x605 / 0x705 as Battery-Emulator describes them, and
decodes every frame with its own reader written from
gateway/inverter/PROTOCOLS.md §14 (29-bit ids plus the battery id times
0x1000, little endian):

- the adapter opened at 500 kbit/s (S6);
- the shared checks of hvinv.py for a dialect that speaks on its own:
  nothing before the first data (no set, no reply to an inquiry), the set
  every second (its count in a window, give or take two), the limits
  against /api/state, silence outside 80-1000 V, the fail-safe timeline
  (zero limits and both enables clear out of turn, then silence: no set,
  no reply; then the set again), --check's window, interval and extras
  refused;
- the values: every id 0x3351 ... (battery 3), 0x351 the limits, 0x355 the
  SOC (down, at most 99) and SOH, 0x356 voltage, current (+ = charging) and
  the hottest sensor against the simulator's, 0x359 one pack of 32 cells,
  0x35E "BMSGW", 0x35F 50 Ah, 0x30F both enables;
- the inquiries: 0x605 inquiry 0 to battery 3 answered 0x3670 with the id
  and sub-target, 0x0E 0x36C0, 0x705 inquiry 4 0x3780 with the record; to
  battery 0, an unknown inquiry, a short frame: no reply; 11 and 29 bits;
- a bank of two strings of two 32-cell packs: 0x359's two strings of two,
  the bank's values and limits, a member's over-voltage and a stale member
  in the next sets.
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
SET = [0x351, 0x355, 0x356, 0x359, 0x35E, 0x35F, 0x30F]


def u16(d, i):
    return struct.unpack("<H", d[i:i + 2])[0]


def s16(d, i):
    return struct.unpack("<h", d[i:i + 2])[0]


class Sofar(hvinv.Dialect):
    """This test's reader of §14."""
    name = "sofar-can"
    window = (80, 1000)
    example = "inverter-sofar.ini"
    periodic = True
    period = 1.0
    battery = 3

    def poll(self, inv):
        inv.send(0x605, bytes([self.battery, 0, 0]), ext=True)  # inquiry 0

    def sets(self, frames):
        """Each set: 0x351 ... 0x30F of this battery id, in order."""
        off = self.battery << 12
        out, cur = [], None
        for t, m in frames:
            if not m.is_extended_id:
                continue
            i = m.arbitration_id - off
            if i == 0x351:
                cur = (t, {}, [])
                out.append(cur)
            if cur is not None and i in SET:
                cur[1][i] = bytes(m.data)
                cur[2].append(i)
        return [(t, a, ids) for t, a, ids in out if ids == SET]

    def answer(self, frames):
        s = self.sets(frames)
        return dict(s[-1][1]) if s else None

    def limits(self, a):
        d = a[0x351]
        return {"cvl": u16(d, 0) / 10, "ccl": u16(d, 2) / 10, "dcl": u16(d, 4) / 10, "dvl": u16(d, 6) / 10}

    def values(self, a):
        d = a[0x356]
        return {"voltage": u16(d, 0) / 10, "current": s16(d, 2) / 10, "soc": a[0x355][0]}

    def stale_marks(self, a):
        return [("0x30F both enables clear (%02X)" % a[0x30F][1], a[0x30F][1] == 0)]


D = Sofar()


def test_values(env):
    print("== the set's values (this test's little-endian reader)")
    inv, port, sim = env["inv"], env["http"], env["sim"]
    t0 = time.monotonic()
    a = wait_until(lambda: D.answer(inv.since(t0)), 3)
    st = sim.state()["packs"][0]
    pk = (api_state(port).get("packs") or [{}])[0]
    if not c.ok(a is not None, "a whole set"):
        return
    ours = [m for t, m in inv.since(t0) if m.arbitration_id != 0x3670]
    c.ok(all(m.is_extended_id and len(m.data) == 8 and m.arbitration_id >> 12 == 3 for m in ours),
         "every frame 29-bit, 8 bytes, the battery id 3 in its id (0x3351 ...)")
    v = D.values(a)
    c.eq(round(v["voltage"] * 10), round(st["voltage"] * 10), "0x356 voltage, 0.1 V (%s)" % v["voltage"])
    c.eq(round(v["current"] * 10), round(st["current"] * 10), "0x356 current, + = charging (%s)" % v["current"])
    c.eq(s16(a[0x356], 4) / 10, float(max(st["temps_c"])), "0x356 the hottest sensor")
    c.eq(a[0x356][6:8], b"\x01\x00", "0x356 bytes 6-7 01 00")
    c.eq(v["soc"], min(99, int(pk["soc"] + 1e-4)), "0x355 SOC rounded down, at most 99 (%s; %s)" % (v["soc"], pk["soc"]))
    soh = pk.get("soh")
    c.eq(a[0x355][2], 100 if soh is None else int(soh + 0.5), "0x355 byte 2 SOH (%s)" % soh)
    c.eq(a[0x355][4:8], b"\xff\xff\xf6\x00", "0x355 bytes 4-7 FF FF F6 00")
    c.eq(a[0x359], bytes([1, 1, 1, 32, 0, 0, 0, 0]), "0x359: 1 string, 1 module, CAN version 1, 32 cells")
    c.eq(a[0x35E], b"BMSGW\x00\x00\x00", "0x35E 'BMSGW', zero padded")
    c.eq(a[0x35F], bytes([1, 1, 0, 0, 50, 0, 0, 0]), "0x35F Li-ion, 1.0.0, 50 Ah")
    c.eq(a[0x30F], bytes([0, 3, 0, 0, 0, 0, 0, 0]), "0x30F both enables")


def reply(inv, ident, data, ext=True, n=1, timeout=1.0):
    """The frames of battery 3 outside its set within timeout of a frame."""
    t0 = time.monotonic()
    inv.send(ident, bytes(data), ext=ext)

    def got():
        f = [m for t, m in inv.since(t0) if (m.arbitration_id & 0xFFF) not in SET]
        return f if len(f) >= n else None
    wait_until(got, timeout)
    return [m for t, m in inv.since(t0) if (m.arbitration_id & 0xFFF) not in SET]


def test_inquiries(env):
    print("== the inverter's inquiries 0x605 / 0x705")
    inv, port = env["inv"], env["http"]
    f = reply(inv, 0x605, [3, 0, 5])
    c.ok(len(f) == 1 and f[0].arbitration_id == 0x3670 and f[0].is_extended_id and bytes(f[0].data) == bytes(
        [3, 5, 0, 0, 0, 0, 0, 0]), "0x605 inquiry 0 to battery 3: 0x3670 with id 3, sub-target 5 (%s)"
         % [(hex(m.arbitration_id), bytes(m.data).hex()) for m in f])
    f = reply(inv, 0x605, [3, 0x0E, 1], ext=False)
    c.ok(len(f) == 1 and f[0].arbitration_id == 0x36C0, "0x605 (11 bits) inquiry 0x0E: 0x36C0")
    f = reply(inv, 0x705, [3, 4, 7, 2])
    c.ok(len(f) == 1 and f[0].arbitration_id == 0x3780 and bytes(f[0].data[:3]) == bytes([3, 2, 7]),
         "0x705 inquiry 4, record 7, sub-target 2: 0x3780 03 02 07")
    before = (inverter_output(port, "hv") or {}).get("replies", 0)
    for data, ident, why in (([0, 0, 5], 0x605, "to battery 0"), ([3, 4, 0], 0x605, "an unknown inquiry"),
                             ([3, 9, 0, 0], 0x705, "an unknown history inquiry"), ([3, 0], 0x605, "a short frame")):
        f = reply(inv, ident, data, n=99, timeout=0.4)
        c.eq(f, [], "no reply: %s" % why)
    o = inverter_output(port, "hv") or {}
    c.eq(o.get("replies"), before, "/api/state replies unchanged by those (%s)" % o.get("replies"))


def string_counts(c_, inv, http_port):
    a = hvinv.ask(inv, D)
    c_.ok(a is not None and a[0x359][:4] == bytes([2, 2, 1, 64]),
          "0x359: 2 strings of 2 modules, 64 cells (%s)" % (a and a[0x359].hex()))


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-sofar-")
    env = hvinv.start(c, D, tmp, "address = 3\nmanufacturer = BMSGW\nreport_capacity_ah = 50\n")
    try:
        hvinv.test_waiting(c, env)
        hvinv.test_periodic(c, env)
        test_values(env)
        hvinv.test_limits(c, env)
        test_inquiries(env)
        hvinv.test_range(c, env)
        hvinv.test_stale(c, env)
        hvinv.test_check(c, env)
    finally:
        hvinv.stop(c, env)
    D.battery = 0
    hvinv.test_strings(c, tmp, D, string_counts)
    sys.exit(c.report())


if __name__ == "__main__":
    main()
