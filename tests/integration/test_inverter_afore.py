#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""afore-can end to end, without CAN hardware: the real bmsgw with a
simulated 32-cell Daly pack (80.0-116.8 V, inside afore-can's 80-1000 V)
and an [inverter.hv] of protocol = afore-can on a pty pair made by socat;
the test plays the Afore hybrid with Debian's python3-can over slcan,
sending its 11-bit 0x305 ("AFORE" and its state, as Battery-Emulator's
AFORE-CAN reads it) and decodes every answer with its own reader written
from gateway/inverter/PROTOCOLS.md §21 (11-bit 0x350-0x35A, little
endian, the current on the 5000 offset, temperatures on the 1000 offset):

- the adapter opened at 500 kbit/s (S6);
- the shared checks of hvinv.py: nothing before the first data, nothing
  unasked, the limits against /api/state (0x352), silence outside 80-1000
  V, the fail-safe timeline (zero limits, both enables cleared and the
  state "fault", the communication fault; then silence; then answers
  again), --check's window, interval and extras refused;
- the values against the simulator's pack and /api/state: 0x350's
  voltage, current and hottest sensor, 0x351's SOC, SOH, 100 / 1, both
  enables with the state "normal", the 32 cells; 0x354's extreme cells and
  0x355's extreme sensors with their numbers; 0x356 the CVL and DVL a cell;
  no fault or warning; 0x359 / 0x35A the serial number ("BMSGW00" and the
  machine's tag);
- a 0x305 without data is answered; a 29-bit 0x305, the Pylon 0x306 and
  our own ids are not;
- a bank of two strings of two 32-cell packs: the bank's values and
  limits, 0x351's 64 cells and 0x354's numbers within the string, a
  member's over-voltage and a stale member in the next answers.
"""
import math
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
SET = list(range(0x350, 0x35B))
REQUEST = b"AFORE\x00\x00\x03"  # the brand, byte 7 the state: 3 grid connected


def u16(d, i):
    return struct.unpack("<H", d[i:i + 2])[0]


class Afore(hvinv.Dialect):
    """This test's reader of §21."""
    name = "afore-can"
    window = (80, 1000)
    example = "inverter-afore.ini"

    def poll(self, inv):
        inv.send(0x305, REQUEST, ext=False)

    def answer(self, frames):
        """The newest run of 0x350-0x35A in order, {id: bytes} (and "std":
        every frame 11-bit, DLC 8)."""
        run, best = [], None
        for t, m in frames:
            i = m.arbitration_id
            if i == 0x350:
                run = []
            if i in SET and not m.is_extended_id:
                run.append(m)
                if [x.arbitration_id for x in run] == SET:
                    best = {x.arbitration_id: bytes(x.data) for x in run}
                    best["std"] = all(not x.is_extended_id and len(x.data) == 8 for x in run)
        return best

    def limits(self, a):
        d = a[0x352]
        return {"ccl": u16(d, 0) / 10, "dcl": u16(d, 2) / 10, "cvl": u16(d, 4) / 10, "dvl": u16(d, 6) / 10}

    def values(self, a):
        d = a[0x350]
        return {"voltage": u16(d, 0) / 10, "current": (u16(d, 2) - 5000) / 10, "soc": a[0x351][0]}

    def stale_marks(self, a):
        return [("0x351 byte 4 = 0x80: no enable, state 4 (fault) (%02x)" % a[0x351][4], a[0x351][4] == 0x80),
                ("0x353 H bit 10: internal communication (%04x)" % u16(a[0x353], 0), u16(a[0x353], 0) & 0x400 != 0)]


D = Afore()


def temp(d, i):
    return (u16(d, i) - 1000) / 10


def test_values(env):
    print("== the answer's values (this test's little-endian reader)")
    inv, port, sim = env["inv"], env["http"], env["sim"]
    a = hvinv.ask(inv, D)
    st = sim.state()["packs"][0]
    pk = (api_state(port).get("packs") or [{}])[0]
    lim = pk.get("limits") or {}
    if not c.ok(a is not None and a["std"] and lim.get("cvl_v"), "an answer, 11-bit, 8 bytes; the pack's limits"):
        return
    v = D.values(a)
    temps, mv = st["temps_c"], st["cells_mv"]
    c.eq(round(v["voltage"] * 10), round(st["voltage"] * 10), "0x350 voltage, 0.1 V (%s)" % v["voltage"])
    c.eq(round(v["current"] * 10), round(st["current"] * 10), "0x350 current - 5000, + = charging (%s)" % v["current"])
    c.eq(temp(a[0x350], 4), float(max(temps)), "0x350 the hottest sensor + 1000")
    q = a[0x351]
    soh = pk.get("soh")
    c.eq((q[0], q[1], q[2], q[3]), (int(pk["soc"] + 1e-4), 100 if soh is None else int(soh + 0.5), 100, 1),
         "0x351 SOC (down), SOH, SOC max 100, SOC min 1")
    c.eq(q[4], 0x23, "0x351 byte 4: charge and discharge enabled, state 1 normal (%02x)" % q[4])
    c.eq((q[5], u16(q, 6)), (0, 32), "0x351 the 32 cells")
    x = a[0x354]
    c.eq((u16(x, 0), u16(x, 2)), (max(mv), min(mv)), "0x354 highest, lowest cell (mV)")
    c.ok(mv[u16(x, 4) - 1] == max(mv) and mv[u16(x, 6) - 1] == min(mv), "0x354 their numbers name cells holding them")
    t = a[0x355]
    c.eq((temp(t, 0), temp(t, 2)), (float(max(temps)), float(min(temps))), "0x355 hottest, coldest + 1000")
    c.ok(temps[u16(t, 4) - 1] == max(temps) and temps[u16(t, 6) - 1] == min(temps), "0x355 their sensors")
    p = a[0x356]
    cell_max, cell_min = math.floor(lim["cvl_v"] * 1000 / 32 + 1e-6), math.ceil(lim["dvl_v"] * 1000 / 32 - 1e-6)
    c.eq((u16(p, 0), u16(p, 2)), (cell_max, cell_min),
         "0x356 the CVL / 32 (down) and the DVL / 32 (up), mV (%d, %d)" % (u16(p, 0), u16(p, 2)))
    c.eq((a[0x353], a[0x357], a[0x358]), (bytes(8), bytes(8), bytes(8)), "0x353 no fault, 0x357 no warning, 0x358 0")
    serial = (a[0x359] + a[0x35A]).decode("ascii", "replace")
    c.ok(serial.startswith("BMSGW00") and all(ch in "0123456789ABCDEF" for ch in serial[7:]),
         "0x359 / 0x35A the serial number %r" % serial)


def test_requests(env):
    print("== what is a request, what is not")
    inv, port = env["inv"], env["http"]
    t0 = time.monotonic()
    inv.send(0x305, b"", ext=False)
    c.ok(wait_until(lambda: D.answer(inv.since(t0)), 3), "0x305 without data: answered")
    for ident, ext, what in ((0x305, True, "a 29-bit 0x305"), (0x306, False, "0x306"), (0x351, False, "0x351"),
                             (0x4200, True, "0x4200")):
        t1 = time.monotonic()
        inv.send(ident, REQUEST, ext=ext)
        time.sleep(0.5)
        c.eq(len(inv.since(t1)), 0, "%s: no answer" % what)
    o = [x for x in api_state(port).get("inverters") or [] if x.get("name") == "hv"]
    c.ok(o and o[0].get("inverter_seen") is True, "the inverter seen")


def string_cells(c_, inv, http_port):
    a = hvinv.ask(inv, D)
    c_.ok(a is not None and u16(a[0x351], 6) == 64, "0x351: a string of two 32-cell packs: 64 cells (%s)"
          % (a and u16(a[0x351], 6)))
    c_.ok(a is not None and all(u16(a[0x354], i) <= 64 for i in (4, 6)),
          "0x354: the numbers a cell of the string, or 0 where unknown (%s)" % (a and a[0x354].hex()))


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-afore-")
    env = hvinv.start(c, D, tmp)
    try:
        hvinv.test_waiting(c, env)
        hvinv.test_unasked(c, env)
        test_values(env)
        test_requests(env)
        hvinv.test_limits(c, env)
        hvinv.test_range(c, env)
        hvinv.test_stale(c, env)
        hvinv.test_check(c, env)
    finally:
        hvinv.stop(c, env)
    hvinv.test_strings(c, tmp, D, string_cells)
    sys.exit(c.report())


if __name__ == "__main__":
    main()
