#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""growatt-hv-can end to end, without CAN hardware: the real bmsgw with a
simulated 32-cell Daly pack (80.0-116.8 V, inside growatt-hv-can's
80-1000 V) and an [inverter.hv] of protocol = growatt-hv-can
(report_modules = 2, report_capacity_ah = 50) on a pty pair made by socat;
the test plays the Growatt SPH with Debian's python3-can over slcan,
sending its heartbeat 0x3010 (and 0x3020, 0x3030) as Battery-Emulator
quotes Growatt's document, and decodes every frame with its own reader
written from gateway/inverter/PROTOCOLS.md §15 (29-bit ids, BIG endian):

- the adapter opened at 500 kbit/s (S6);
- with data, nothing before the inverter's first frame (a second gateway:
  3 s quiet), then the whole set at once on its heartbeat;
- the shared checks of hvinv.py for a dialect that speaks on its own:
  nothing before the first data however often the inverter beats, the set
  every second once it did (its count in a window, give or take two), the
  limits against /api/state, silence outside 80-1000 V, the fail-safe
  timeline (zero limits, both "forbidden", "battery normal" clear, out of
  turn; then silence; then the set again), --check's window, interval and
  extras refused;
- the values: 0x3110 the limits and the state bits (discharging, neither
  forbidden), 0x3130 voltage, current (+ = charging), the hottest sensor,
  SOC, SOH, 0x3140 the capacities of 50 Ah in 10 mAh and "GT", 0x3150 the
  DVL, 32 cells, 2 modules, 0x3160 / 0x3170 where the extremes are,
  0x3180 one string, 0x3190 the cells (mV), 0x3200 the cell charge cut-off
  (CVL / 32), 0x3220 the rated energy (50 Ah x 102.4 V), three 0x3230;
- a bank of two strings of two 32-cell packs: 0x3180's two strings and 64
  cells, the bank's values and limits, a member's over-voltage and a stale
  member in the next sets.
"""
import os
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Gateway, Sim, api_state, free_port, inverter_output, pty_pair, wait_until  # noqa: E402
import hvinv  # noqa: E402

try:
    from can.interfaces.slcan import slcanBus  # noqa: F401 - canreader.py uses it
except ImportError:
    print("python3-can is not installed (make deps installs it)")
    print("0 passed, 1 failed")
    sys.exit(1)

c = Checks()
SET = [0x3110, 0x3120, 0x3130, 0x3140, 0x3150, 0x3160, 0x3170, 0x3180, 0x3190, 0x3200, 0x3210, 0x3220,
       0x3230, 0x3230, 0x3230, 0x3240, 0x3250, 0x3260, 0x3270, 0x3280, 0x3290, 0x3F00]


def u16(d, i):
    return struct.unpack(">H", d[i:i + 2])[0]


def s16(d, i):
    return struct.unpack(">h", d[i:i + 2])[0]


class GrowattHv(hvinv.Dialect):
    """This test's reader of §15."""
    name = "growatt-hv-can"
    window = (80, 1000)
    example = "inverter-growatt-hv.ini"
    periodic = True
    period = 1.0
    beats = 0

    def poll(self, inv):
        self.beats += 1
        inv.send(0x3010, struct.pack(">H", self.beats & 0xFFFF) + bytes(6), ext=True)

    def sets(self, frames):
        """Each set: 0x3110 ... 0x3F00 in order (three 0x3230)."""
        out, cur = [], None
        for t, m in frames:
            if not m.is_extended_id:
                continue
            if m.arbitration_id == 0x3110:
                cur = (t, {}, [], [])
                out.append(cur)
            if cur is not None and m.arbitration_id in SET:
                cur[1][m.arbitration_id] = bytes(m.data)
                cur[2].append(m.arbitration_id)
                if m.arbitration_id == 0x3230:
                    cur[3].append(bytes(m.data))
        return [(t, dict(a, serial=s), ids) for t, a, ids, s in out if ids == SET]

    def answer(self, frames):
        s = self.sets(frames)
        return s[-1][1] if s else None

    def limits(self, a):
        d = a[0x3110]
        return {"cvl": u16(d, 0) / 10, "ccl": u16(d, 2) / 10, "dcl": u16(d, 4) / 10, "dvl": u16(a[0x3150], 0) / 10}

    def values(self, a):
        d = a[0x3130]
        return {"voltage": u16(d, 0) / 10, "current": s16(d, 2) / 10, "soc": d[6]}

    def stale_marks(self, a):
        b6, b7 = a[0x3110][6], a[0x3110][7]
        return [("0x3110 byte 7: charge and discharge forbidden (%02X)" % b7, b7 & 0x60 == 0x60),
                ("0x3110 byte 6: 'battery normal' clear, ISO detected (%02X)" % b6, b6 == 0x20)]


D = GrowattHv()


def test_values(env):
    print("== the set's values (this test's big-endian reader)")
    inv, port, sim = env["inv"], env["http"], env["sim"]
    t0 = time.monotonic()
    a = wait_until(lambda: D.answer(inv.since(t0)), 3)
    st = sim.state()["packs"][0]
    pk = (api_state(port).get("packs") or [{}])[0]
    lim = pk.get("limits") or {}
    if not c.ok(a is not None and lim.get("cvl_v"), "a whole set and the pack's limits"):
        return
    c.ok(all(m.is_extended_id and len(m.data) == 8 for t, m in inv.since(t0)), "every frame 29-bit, 8 bytes")
    x = a[0x3110]
    c.eq(x[6], 0x30, "0x3110 byte 6: ISO detected, battery normal")
    c.eq(x[7], 0x03, "0x3110 byte 7: discharging, nothing forbidden")
    v = D.values(a)
    c.eq(round(v["voltage"] * 10), round(st["voltage"] * 10), "0x3130 voltage, 0.1 V (%s)" % v["voltage"])
    c.eq(round(v["current"] * 10), round(st["current"] * 10), "0x3130 current, + = charging (%s)" % v["current"])
    c.eq(s16(a[0x3130], 4) / 10, float(max(st["temps_c"])), "0x3130 the hottest sensor")
    c.eq(v["soc"], int(pk["soc"] + 1e-4), "0x3130 SOC rounded down (%s; %s)" % (v["soc"], pk["soc"]))
    soh = pk.get("soh")
    c.eq(a[0x3130][7], 100 if soh is None else int(soh + 0.5), "0x3130 SOH (%s)" % soh)
    y = a[0x3140]
    c.eq(u16(y, 2), 5000, "0x3140 full capacity 50 Ah in 10 mAh")
    c.ok(abs(u16(y, 0) - 5000 * pk["soc"] / 100) <= 1, "0x3140 remaining: 50 Ah at the SOC (%d)" % u16(y, 0))
    c.eq(y[4:6], b"GT", "0x3140 'GT'")
    z = a[0x3150]
    c.eq((u16(z, 4), u16(z, 6)), (32, 2), "0x3150 32 cells, 2 modules in series (report_modules)")
    mv = st["cells_mv"]
    w = a[0x3160]
    c.eq(s16(w, 6) / 10, float(min(st["temps_c"])), "0x3160 the coldest sensor")
    c.eq((w[2], w[3], w[4], w[5]), (1, mv.index(max(mv)) + 1, 1, mv.index(min(mv)) + 1),
         "0x3160 pack 1 and the cells of the highest and lowest")
    c.eq(a[0x3170][4], 50, "0x3170 byte 4 50")
    c.eq(a[0x3180][:6], b"GT" + bytes([0, 1, 0, 32]), "0x3180 'GT', 1 string, 32 cells")
    c.eq((u16(a[0x3190], 1), u16(a[0x3190], 3)), (max(mv), min(mv)), "0x3190 highest, lowest cell (mV)")
    c.eq(u16(a[0x3200], 6), int(int(lim["cvl_v"] * 10 + 0.01) * 100 / 32), "0x3200 the cell cut-off: CVL / 32 (mV)")
    c.eq(u16(a[0x3220], 5), 51, "0x3220 rated energy: 50 Ah x 102.4 V = 5.1 kWh")
    c.eq([s[0] for s in a["serial"]], [0, 1, 2], "0x3230 frames 0, 1, 2")
    o = inverter_output(port, "hv") or {}
    c.ok(o.get("schedule") is True, "/api/state: the schedule runs (%s)" % o.get("schedule"))


def waits_conf(gw_port, http_port, sim_port, pty):
    return hvinv.conf(D, gw_port, http_port, sim_port, pty).replace("[inverter.hv]", "[inverter.hv2]")


def test_waits_for_inverter(tmp):
    print("== with data, nothing before the inverter's first frame (a second gateway)")
    pa, pb = pty_pair(tmp, "hv2")
    inv2 = hvinv.Inverter(pb, D)
    gw_port, http_port = free_port(), free_port()
    sim2 = Sim(packs=(hvinv.PACK,))
    gw2 = Gateway(waits_conf(gw_port, http_port, sim2.port, pa), gw_port)
    try:
        c.ok(wait_until(hvinv.state_is(http_port, "sending", "hv2"), 15), "second gateway: the source has data")
        time.sleep(3.0)
        c.eq(len(inv2.since(0)), 0, "no frame in 3 s before the inverter spoke (%d)" % len(inv2.since(0)))
        t0 = time.monotonic()
        inv2.send(0x3030, bytes.fromhex("661B5A6400000001"), ext=True)  # its time, running
        got = wait_until(lambda: (lambda f: f if len(f) >= len(SET) else None)(inv2.since(t0)), 3)
        ids = [m.arbitration_id for _, m in (got or [])][:len(SET)]
        c.eq(ids, SET, "its first frame (0x3030) starts the set, 0x3110 first")
        c.ok(gw2.alive() and "runtime error" not in gw2.text(), "second gateway ran through it")
    finally:
        gw2.stop()
        sim2.stop()
        inv2.close()


def string_counts(c_, inv, http_port):
    a = hvinv.ask(inv, D)
    c_.ok(a is not None and u16(a[0x3180], 2) == 2 and u16(a[0x3180], 4) == 64 and u16(a[0x3150], 6) == 2,
          "0x3180 two strings, 64 cells; 0x3150 2 modules in series (%s)" % (a and a[0x3180].hex()))


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-growatt-hv-")
    test_waits_for_inverter(tmp)
    env = hvinv.start(c, D, tmp, "report_modules = 2\nreport_capacity_ah = 50\n")
    try:
        hvinv.test_waiting(c, env)
        hvinv.test_periodic(c, env)
        test_values(env)
        hvinv.test_limits(c, env)
        hvinv.test_range(c, env)
        hvinv.test_stale(c, env)
        hvinv.test_check(c, env)
    finally:
        hvinv.stop(c, env)
    hvinv.test_strings(c, tmp, D, string_counts)
    sys.exit(c.report())


if __name__ == "__main__":
    main()
