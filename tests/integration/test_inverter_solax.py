#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""solax-can end to end, without CAN hardware: the real bmsgw with a
simulated 32-cell Daly pack (80.0-116.8 V, inside solax-can's 80-760 V) and
an [inverter.hv] of protocol = solax-can (battery_type = 80,
report_capacity_ah = 50) on a pty pair made by socat; the test plays the
SolaX inverter with Debian's python3-can over slcan, sending its 0x1871
(01 polls, 02 with the contactor's close and open payloads, 05 identity,
03 time) as RAND's solax_can_bus and Battery-Emulator describe it, and
decodes every answer with its own reader written from
gateway/inverter/PROTOCOLS.md §11 (29-bit ids, little endian):

- the adapter opened at 500 kbit/s (S6);
- the shared checks of hvinv.py: nothing before the first data, nothing
  unasked, the limits against /api/state, silence outside 80-760 V, the
  fail-safe timeline (zero limits and the contactor open, then silence,
  then answers again), --check's window, interval and extras refused;
- the values: voltage, current, SOC and SOH, the extreme sensors and cells
  (0x1874 in 0.1 V, 0x1876 in mV) against the simulator's, the module count
  of 32 cells (2), the battery type set, the energies of the capacity set
  (50 Ah x 32 x 3.2 V: 5120 Wh in 0x187E and 0x1878, the remaining one
  from the SOC in 0x1873);
- the handshake: answers end with 0x100A001 (no data) while announcing;
  after "close" the next answer ends with 0x1801 02 00 01 00 01 00 00 00;
  then 0x1875 byte 4 = 1 and nothing after 0x1878 (/api/state handshake
  "closed"); "open": announcing again; 2.5 s without the inverter:
  announcing again;
- 05 00 01 00 00 00 00 00: 0x1881 / 0x1882 for slots 0-2, "BMSGW" and the
  slot; 03 (the time): no answer;
- a bank of two strings of two 32-cell packs: the bank's values and limits,
  0x1875's 4 modules (64 cells), a member's over-voltage and a stale member
  in the next answers.
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
SET = [0x187E, 0x187A, 0x1872, 0x1873, 0x1874, 0x1875, 0x1876, 0x1877, 0x1878]
POLL = bytes.fromhex("0100010000000000")
CLOSE = bytes.fromhex("0200010001000000")
OPEN = bytes.fromhex("0200010000000000")
IDENT = bytes.fromhex("0500010000000000")
ANNOUNCE = [(0x100A001, b"", 0)]  # the frame after the set while the contactor is not yet closed


def u16(d, i):
    return struct.unpack("<H", d[i:i + 2])[0]


def s16(d, i):
    return struct.unpack("<h", d[i:i + 2])[0]


def u32(d, i):
    return struct.unpack("<I", d[i:i + 4])[0]


class Solax(hvinv.Dialect):
    """This test's reader of §11."""
    name = "solax-can"
    window = (80, 760)
    example = "inverter-solax.ini"

    def poll(self, inv):
        inv.send(0x1871, POLL)

    def groups(self, frames):
        """The answers among the frames: each from a 0x187E to the frame
        before the next, [(id, bytes, dlc)]."""
        out = []
        for t, m in frames:
            if m.arbitration_id == 0x187E:
                out.append([])
            if out and m.arbitration_id in SET + [0x1801, 0x100A001]:
                out[-1].append((m.arbitration_id, bytes(m.data), len(m.data), m.is_extended_id))
        return out

    def answer(self, frames):
        for g in reversed(self.groups(frames)):
            if [i for i, _, _, _ in g[:9]] == SET:
                a = {i: d for i, d, _, _ in g}
                a["tail"] = [(i, d, n) for i, d, n, _ in g[9:]]
                a["ext"] = all(e for _, _, _, e in g)
                return a
        return None

    def limits(self, a):
        d = a[0x1872]
        return {"cvl": u16(d, 0) / 10, "dvl": u16(d, 2) / 10, "ccl": u16(d, 4) / 10, "dcl": u16(d, 6) / 10}

    def values(self, a):
        d = a[0x1873]
        return {"voltage": u16(d, 0) / 10, "current": s16(d, 2) / 10, "soc": d[4], "remain_kwh": u16(d, 6) / 100}

    def stale_marks(self, a):
        return [("0x1875 byte 4 = 0: the contactor said open (%d)" % a[0x1875][4], a[0x1875][4] == 0)]


D = Solax()


def send_and_answer(inv, data, tail=None, timeout=3.0):
    """The answer to `data`: with `tail`, the one whose frames after the
    set are those (they come after the set's nine, a moment later on a
    loaded machine), else the first whole set; what came, or None."""
    t0 = time.monotonic()
    inv.send(0x1871, data)
    got = wait_until(lambda: (lambda a: a if a and (tail is None or a["tail"] == tail) else None)(
        D.answer(inv.since(t0))), timeout)
    return got or D.answer(inv.since(t0))


def test_values(env):
    print("== the answer's values (this test's little-endian reader)")
    inv, port, sim = env["inv"], env["http"], env["sim"]
    a = hvinv.ask(inv, D)
    st = sim.state()["packs"][0]
    pk = (api_state(port).get("packs") or [{}])[0]
    if not c.ok(a is not None, "an answer"):
        return
    c.ok(a["ext"] and all(len(a[i]) == 8 for i in SET), "every frame 29-bit, 8 bytes")
    v = D.values(a)
    c.eq(round(v["voltage"] * 10), round(st["voltage"] * 10), "0x1873 voltage, 0.1 V (%s)" % v["voltage"])
    c.eq(round(v["current"] * 10), round(st["current"] * 10), "0x1873 current, + = charging (%s)" % v["current"])
    c.eq(v["soc"], int(pk["soc"] + 1e-4), "0x1873 SOC rounded down (%s; /api/state %s)" % (v["soc"], pk["soc"]))
    c.eq(a[0x187E][5], v["soc"], "0x187E byte 5 the same SOC")
    soh = pk.get("soh")
    c.eq(a[0x187E][4], 100 if soh is None else int(soh + 0.5), "0x187E byte 4 SOH, 100 without one (%s; %s)"
         % (a[0x187E][4], soh))
    temps, mv = st["temps_c"], st["cells_mv"]
    t = a[0x1874]
    c.eq((s16(t, 0) / 10, s16(t, 2) / 10), (float(max(temps)), float(min(temps))), "0x1874 hottest, coldest sensor")
    c.eq((u16(t, 4), u16(t, 6)), (int(max(mv) / 100 + 0.5), int(min(mv) / 100 + 0.5)),
         "0x1874 cells in 0.1 V, the real ones")
    x = a[0x1876]
    c.eq((u16(x, 2), u16(x, 6)), (max(mv), min(mv)), "0x1876 highest, lowest cell in mV")
    c.eq((s16(x, 0) / 10, s16(x, 4) / 10), (float(max(temps)), float(min(temps))), "0x1876 hottest, coldest")
    m = a[0x1875]
    c.eq(s16(m, 0) / 10, (max(temps) + min(temps)) / 2, "0x1875 the mean of hottest and coldest")
    c.eq(m[2], 2, "0x1875 byte 2: 32 cells / 16 = 2 modules")
    c.eq((a[0x1877][4], a[0x1877][6], a[0x1877][7]), (80, 0x22, 0x02), "0x1877 battery type 80 (set), 0x22, 0x02")
    c.eq(a[0x187A][:2], b"\x01\x50", "0x187A 01 50")
    c.eq((u32(a[0x187E], 0), u32(a[0x1878], 4)), (5120, 5120), "installed energy: 50 Ah x 102.4 V = 5120 Wh")
    c.eq(u16(a[0x1878], 0), u16(a[0x1873], 0), "0x1878 the voltage again")
    want = 50 * v["soc"] / 100 * 102.4 / 10
    c.ok(abs(u16(a[0x1873], 6) - want) <= 6, "0x1873 remaining energy of 50 Ah at the SOC (%s x 0.01 kWh, ~%.0f)"
         % (u16(a[0x1873], 6), want))


def test_handshake(env):
    print("== the contactor's handshake")
    inv, port = env["inv"], env["http"]
    a = send_and_answer(inv, POLL, tail=ANNOUNCE)
    c.ok(a is not None and a["tail"] == [(0x100A001, b"", 0)] and a[0x1875][4] == 0,
         "announcing: the set then 0x100A001 with no data, contactor 0 (%s)" % (a and a["tail"]))
    a = send_and_answer(inv, CLOSE, tail=ANNOUNCE)
    c.ok(a is not None and a["tail"] == [(0x100A001, b"", 0)], "the close request's own answer still announces (%s)"
         % (a and a["tail"]))
    a = send_and_answer(inv, POLL, tail=[(0x1801, CLOSE, 8)])
    c.ok(a is not None and a["tail"] == [(0x1801, CLOSE, 8)] and a[0x1875][4] == 0,
         "the next answer ends with 0x1801 02 00 01 00 01 00 00 00 (%s)" % (a and a["tail"]))
    a = send_and_answer(inv, POLL)
    c.ok(a is not None and a["tail"] == [] and a[0x1875][4] == 1, "closed: 0x1875 byte 4 = 1, nothing after 0x1878")
    c.eq((inverter_output(port, "hv") or {}).get("handshake"), "closed", "/api/state handshake closed")
    a = send_and_answer(inv, OPEN)
    c.ok(a is not None and a[0x1875][4] == 1, "the open request's own answer still closed")
    a = send_and_answer(inv, POLL, tail=ANNOUNCE)
    c.ok(a is not None and a["tail"] == [(0x100A001, b"", 0)] and a[0x1875][4] == 0, "announcing again after open")
    for p in (CLOSE, POLL, POLL):
        a = send_and_answer(inv, p)
    c.ok(a is not None and a[0x1875][4] == 1, "closed again")
    time.sleep(2.5)  # the inverter away longer than 2 s
    a = send_and_answer(inv, POLL, tail=ANNOUNCE)
    c.ok(a is not None and a["tail"] == [(0x100A001, b"", 0)] and a[0x1875][4] == 0,
         "after 2.5 s without the inverter: announcing again")
    c.eq((inverter_output(port, "hv") or {}).get("handshake"), "announce", "/api/state handshake announce")
    for p in (CLOSE, POLL, POLL):  # closed for the stale test
        a = send_and_answer(inv, p)
    c.ok(a is not None and a[0x1875][4] == 1, "closed for what follows")


def test_identity(env):
    print("== 05: the serial numbers; 03: nothing")
    inv = env["inv"]
    t0 = time.monotonic()
    inv.send(0x1871, IDENT)
    got = wait_until(lambda: (lambda f: f if len(f) >= 6 else None)(
        [m for t, m in inv.since(t0) if m.arbitration_id in (0x1881, 0x1882)]), 3)
    time.sleep(0.3)
    got = [m for t, m in inv.since(t0)]
    c.eq([(m.arbitration_id, m.data[0]) for m in got],
         [(0x1881, 0), (0x1882, 0), (0x1881, 1), (0x1882, 1), (0x1881, 2), (0x1882, 2)],
         "0x1881, 0x1882 for slots 0, 1, 2 (2 modules), nothing else")
    c.ok(all(m.is_extended_id and len(m.data) == 8 and bytes(m.data[1:]).isascii() for m in got),
         "29-bit, 8 bytes, ASCII")
    c.eq([bytes(m.data[1:]).decode() for m in got if m.arbitration_id == 0x1881], ["BMSGW00", "BMSGW01", "BMSGW02"],
         "the first halves: BMSGW and the slot")
    t1 = time.monotonic()
    inv.send(0x1871, bytes.fromhex("0306170509092822"))
    time.sleep(0.6)
    c.eq(len(inv.since(t1)), 0, "03 (the time): no answer")


def string_modules(c_, inv, http_port):
    a = hvinv.ask(inv, D)
    c_.ok(a is not None and a[0x1875][2] == 4, "0x1875: a string's 64 cells are 4 modules (%s)"
          % (a and a[0x1875][2]))


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-solax-")
    env = hvinv.start(c, D, tmp, "battery_type = 80\nreport_capacity_ah = 50\n")
    try:
        hvinv.test_waiting(c, env)
        hvinv.test_unasked(c, env)
        test_values(env)
        hvinv.test_limits(c, env)
        test_handshake(env)
        test_identity(env)
        hvinv.test_range(c, env)
        for p in (CLOSE, POLL, POLL):  # the range test's silence: closed again
            send_and_answer(env["inv"], p)
        hvinv.test_stale(c, env)
        hvinv.test_check(c, env)
    finally:
        hvinv.stop(c, env)
    hvinv.test_strings(c, tmp, D, string_modules)
    sys.exit(c.report())


if __name__ == "__main__":
    main()
