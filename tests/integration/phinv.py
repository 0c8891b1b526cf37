# SPDX-License-Identifier: MIT
"""The readers of the Pylontech high-voltage family's dialects that answer
0x4200 (test_inverter_ferroamp.py, test_inverter_solxpow.py), written from
gateway/inverter/PROTOCOLS.md §20 and §22 (29-bit ids, little endian, DLC
8), never from bmsgw's code, and the checks their frames share against the
simulator and /api/state: a `Family` is an hvinv.Dialect with the
dialect's address (the ids' last digit), its current offset (ferroamp-can
30000, solxpow-can none) and the temperature offset of 0x42x4/0x4270
(ferroamp-can + 1000, solxpow-can plain)."""
import struct
import time

from harness import api_state, wait_until
import hvinv

ENSEMBLE = bytes.fromhex("00000000000000E3")   # a Growatt SPH's 0x4200 (bms-to-inverter #85)
EQUIPMENT = bytes.fromhex("02000000000000E3")


def u16(d, i):
    return struct.unpack("<H", d[i:i + 2])[0]


def s16(d, i):
    return struct.unpack("<h", d[i:i + 2])[0]


class Family(hvinv.Dialect):
    address = 0          # the last digit of every id
    cur_offset = 30000   # 0.1 A raw of 0 A (0: a plain s16 / u16)
    temp_offset = 1000   # 0.1 degC raw of 0 degC in 0x4240 / 0x4270 (0: plain s16); 0x4210's is 1000

    def ids(self, base, n):
        return [base + 0x10 * k + self.address for k in range(n)]

    def poll(self, inv):
        inv.send(0x4200, ENSEMBLE)

    def run(self, frames, ids):
        """The newest run of ids in order among [(t, m)], {id: bytes} (and
        "ext": every frame 29-bit, DLC 8), or None."""
        run, best = [], None
        for t, m in frames:
            i = m.arbitration_id
            if i == ids[0]:
                run = []
            if i in ids:
                run.append(m)
                if [x.arbitration_id for x in run] == ids:
                    best = {x.arbitration_id: bytes(x.data) for x in run}
                    best["ext"] = all(x.is_extended_id and len(x.data) == 8 for x in run)
        return best

    def answer(self, frames):
        return self.run(frames, self.ids(0x4210, 9))

    def current(self, raw):
        return (raw - self.cur_offset) / 10 if self.cur_offset else struct.unpack("<h", struct.pack("<H", raw))[0] / 10

    def temp(self, d, i):
        return (u16(d, i) - self.temp_offset) / 10 if self.temp_offset else s16(d, i) / 10

    def limits(self, a):
        d = a[0x4220 + self.address]
        ccl, dcl = u16(d, 4), u16(d, 6)
        if self.cur_offset:
            ccl, dcl = ccl - self.cur_offset, self.cur_offset - dcl
        return {"cvl": u16(d, 0) / 10, "dvl": u16(d, 2) / 10, "ccl": ccl / 10, "dcl": dcl / 10}

    def values(self, a):
        d = a[0x4210 + self.address]
        return {"voltage": u16(d, 0) / 10, "current": self.current(u16(d, 2)), "soc": d[6]}

    def stale_marks(self, a):
        m, s = a[0x4280 + self.address], a[0x4250 + self.address]
        return [("0x428%d AA AA: both directions forbidden (%s)" % (self.address, m[:2].hex()), m[:2] == b"\xaa\xaa"),
                ("0x425%d byte 3 bit 2: internal communication (%02x)" % (self.address, s[3]), s[3] & 0x04 != 0)]


def frames_after(inv, data, ids, timeout=3.0):
    """Send 0x4200 data once the bus is quiet (a late answer to an earlier
    request is not this one's); the frames that answer it (waiting for
    ids[-1], then 0.3 s for anything more)."""
    inv.quiet(0.3, 5)
    t0 = time.monotonic()
    inv.send(0x4200, data)
    wait_until(lambda: [m for t, m in inv.since(t0) if m.arbitration_id == ids[-1]], timeout)
    time.sleep(0.3)
    return [m for t, m in inv.since(t0)]


def test_values(c, env, d):
    """0x4210-0x4290 against the simulator's pack and /api/state."""
    print("== the answer's values (this test's little-endian reader)")
    inv, port, sim = env["inv"], env["http"], env["sim"]
    a = hvinv.ask(inv, d)
    st = sim.state()["packs"][0]
    pk = (api_state(port).get("packs") or [{}])[0]
    if not c.ok(a is not None and a["ext"], "an answer at address %d, 29-bit, 8 bytes" % d.address):
        return
    x = lambda base: a[base + d.address]  # noqa: E731
    v = d.values(a)
    c.eq(round(v["voltage"] * 10), round(st["voltage"] * 10), "0x4210 voltage, 0.1 V (%s)" % v["voltage"])
    c.eq(round(v["current"] * 10), round(st["current"] * 10), "0x4210 current, + = charging (%s)" % v["current"])
    temps, mv = st["temps_c"], st["cells_mv"]
    c.ok(abs((u16(x(0x4210), 4) - 1000) / 10 - sum(temps) / len(temps)) <= 0.11,
         "0x4210 the average temperature + 1000 (%s)" % u16(x(0x4210), 4))
    c.eq(x(0x4210)[6], int(pk["soc"] + 1e-4), "0x4210 SOC rounded down (%s)" % x(0x4210)[6])
    soh = pk.get("soh")
    c.eq(x(0x4210)[7], 100 if soh is None else int(soh + 0.5), "0x4210 SOH, 100 without one")
    cl = x(0x4230)
    c.eq((u16(cl, 0), u16(cl, 2)), (max(mv), min(mv)), "0x4230 highest, lowest cell (mV)")
    hi, lo = u16(cl, 4), u16(cl, 6)
    c.ok(1 <= hi <= 32 and mv[hi - 1] == max(mv) and 1 <= lo <= 32 and mv[lo - 1] == min(mv),
         "0x4230 their numbers name cells holding them (%d, %d)" % (hi, lo))
    t = x(0x4240)
    c.eq((d.temp(t, 0), d.temp(t, 2)), (float(max(temps)), float(min(temps))),
         "0x4240 hottest, coldest (%s)" % ("+ %d" % d.temp_offset if d.temp_offset else "plain s16"))
    c.ok(temps[u16(t, 4) - 1] == max(temps) and temps[u16(t, 6) - 1] == min(temps), "0x4240 their sensors")
    c.eq((d.temp(x(0x4270), 0), u16(x(0x4270), 4)), (float(max(temps)), 1), "0x4270 the hottest, in pack 1")
    c.eq(x(0x4250)[0] & 0x07, 2 if st["current"] < 0 else 1, "0x4250 state: discharging (%d)" % x(0x4250)[0])
    c.eq(x(0x4250)[3], 0, "0x4250 no error")
    c.eq(x(0x4280)[:2], b"\x00\x00", "0x4280 both directions allowed")
    c.eq((x(0x4260), x(0x4290)), (bytes(8), bytes(8)), "0x4260, 0x4290 zeros")
    other = [m.arbitration_id for t, m in inv.since(0) if (m.arbitration_id & 0xF) != d.address]
    c.eq(other, [], "no frame at another address")


def test_kinds(c, env, d, cells, modules, ah, name):
    """02: 0x7310-0x7340 (cells, modules, capacity, the manufacturer); 01, the
    heartbeat, the charge command and the mask: heard, never answered."""
    print("== the other requests")
    inv, port = env["inv"], env["http"]
    ids = d.ids(0x7310, 4)
    got = frames_after(inv, EQUIPMENT, ids)
    c.eq([m.arbitration_id for m in got], ids, "02: 0x731%d-0x734%d, nothing else" % (d.address, d.address))
    if len(got) == 4:
        e = bytes(got[1].data)
        c.eq((u16(e, 0), e[2], e[3]), (cells, modules, cells // modules), "0x7320 cells, modules, cells a module")
        c.eq(u16(e, 6), ah if ah else int((api_state(port)["packs"][0].get("full_ah") or 0) + 1e-6),
             "0x7320 capacity (Ah, down)")
        c.eq(bytes(got[2].data) + bytes(got[3].data), (name.encode() + bytes(16))[:16], "0x7330, 0x7340 %r" % name)
        c.eq(bytes(got[0].data), bytes(8), "0x7310 versions 0 (none invented)")
    for ident, data in ((0x4200, "01"), (0x3010, "0EDF140000000000"), (0x8210, "AA00000000000000"),
                        (0x8240, "AA"), (0x8200, "55")):
        t0 = time.monotonic()
        inv.send(ident, bytes.fromhex(data))
        time.sleep(0.5)
        c.eq(len(inv.since(t0)), 0, "0x%X %s: heard, no answer" % (ident, data[:2]))
    o = [x for x in api_state(port).get("inverters") or [] if x.get("name") == "hv"]
    c.ok(o and o[0].get("frames_received", 0) >= 5,
         "the inverter's frames counted (%s)" % (o and o[0].get("frames_received")))


def string_equipment(d, cells, modules):
    """test_strings' check of a string: 0x7320's cells and modules."""
    def more(c, inv, http_port):
        ids = d.ids(0x7310, 4)
        got = frames_after(inv, EQUIPMENT, ids)
        e = bytes(got[1].data) if len(got) == 4 else bytes(8)
        c.eq((u16(e, 0), e[2], e[3]), (cells, modules, cells // modules),
             "0x7320: a string of two 32-cell packs: 64 cells, 2 modules of 32")
    return more
