#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""sma-hv-can end to end, without CAN hardware: the real bmsgw with
simulated 32-cell Daly packs (80.0-116.8 V, inside sma-hv-can's 80-1000 V)
and [inverter] sections of protocol = sma-hv-can in each variant on pty
pairs made by socat; the test plays the SMA with Debian's python3-can over
slcan, sending what an SMA sends (0x360 its voltage and current, 0x5E0
"SMA", the pairing request 0x5E7 / 0x660, 11-bit) as Battery-Emulator's
SMA-BYD-* read them, and decodes every frame with its own reader written
from gateway/inverter/PROTOCOLS.md §18 (big endian):

- variant = byd-h: the adapter opened at 500 kbit/s (S6); the shared
  checks of hvinv.py (nothing before the first data however often the SMA
  speaks, the limits against /api/state, silence outside 80-1000 V, the
  fail-safe timeline with 0x4D8 "stop" and 0x158's fault, --check's
  window, interval and extras refused, a bank of two strings of two
  packs); the values (0x4D8, 0x3D8, 0x518's temperatures and 25 mV cells,
  0x558's module count and energy) against /api/state and the simulator;
  every frame every 100 ms (by the output's own count of frames written:
  the reader gets them in bursts on a loaded machine); the
  identification ("Battery-Box H10.2") only on a pairing request;
- variant = byd-hvs (the default), on a second gateway: nothing before the
  pairing request though the SMA speaks; then the identification and
  every frame in Battery-Emulator's order, one at a time: the output's own
  least gap between frames (/api/state min_set_gap_ms, measured where it
  is true) at least 250 ms; then 0x358 every 2 s, 0x4D8 not within them;
  stale: 0x358 with zero currents out of turn and 0x4D8 "stop", the gap
  kept; silence (the pairing request unanswered); back with the
  identification first;
- variant = sbs, beside it: from the SMA's first frame the identification
  and every frame every 100 ms (the output's count of sets and frames).
"""
import os
import statistics
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Checks, Gateway, Sim, api_state, frames_sent, free_port, inverter_output, pty_pair,  # noqa: E402
                     wait_until)
import hvinv  # noqa: E402

try:
    from can.interfaces.slcan import slcanBus  # noqa: F401 - canreader.py uses it
except ImportError:
    print("python3-can is not installed (make deps installs it)")
    print("0 passed, 1 failed")
    sys.exit(1)

c = Checks()
PAIRING = [0x558, 0x598, 0x5D8, 0x618, 0x618, 0x618, 0x618, 0x358, 0x3D8, 0x458, 0x4D8, 0x518]
BYD_H = [0x158, 0x358, 0x3D8, 0x458, 0x518, 0x4D8]
SBS = [0x558, 0x598, 0x5D8, 0x618, 0x618, 0x618, 0x618, 0x158, 0x358, 0x3D8, 0x458, 0x518, 0x4D8]
SILENCE = 3


def u16(d, i):
    return struct.unpack(">H", d[i:i + 2])[0]


def s16(d, i):
    return struct.unpack(">h", d[i:i + 2])[0]


def ours(m):
    return not m.is_extended_id and m.arbitration_id in (0x158, 0x358, 0x3D8, 0x458, 0x4D8, 0x518, 0x558, 0x598,
                                                          0x5D8, 0x618)


def ids(frames):
    return [m.arbitration_id for _, m in frames if ours(m)]


class Sma(hvinv.Dialect):
    """This test's reader of §18."""
    name = "sma-hv-can"
    window = (80, 1000)
    example = "inverter-sma-hv.ini"

    def poll(self, inv):
        inv.send(0x360, bytes.fromhex("1062001600000000"), ext=False)  # its measured 419.4 V, 2.2 A

    def answer(self, frames):
        """The newest of each frame among them, once 0x358, 0x3D8 and 0x4D8
        are there."""
        a = {}
        for t, m in frames:
            if ours(m):
                a[m.arbitration_id] = bytes(m.data)
        return a if all(k in a for k in (0x358, 0x3D8, 0x4D8)) else None

    def limits(self, a):
        d = a[0x358]
        return {"cvl": u16(d, 0) / 10, "dvl": u16(d, 2) / 10, "dcl": s16(d, 4) / 10, "ccl": s16(d, 6) / 10}

    def values(self, a):
        return {"voltage": u16(a[0x4D8], 0) / 10, "current": s16(a[0x4D8], 2) / 10, "soc": u16(a[0x3D8], 0) / 100}

    def stale_marks(self, a):
        m = [("0x4D8 byte 6: 2, stop (%d)" % a[0x4D8][6], a[0x4D8][6] == 2)]
        if 0x158 in a:
            m.append(("0x158 byte 2: 6A, internal hardware fault (%02X)" % a[0x158][2], a[0x158][2] == 0x6A))
        return m


D = Sma()


def test_values(env):
    print("== byd-h: the values (this test's big-endian reader)")
    inv, port, sim = env["inv"], env["http"], env["sim"]
    t0 = time.monotonic()
    a = wait_until(lambda: (lambda x: x if x and 0x518 in x and 0x158 in x else None)(D.answer(inv.since(t0))), 3)
    st = sim.state()["packs"][0]
    pk = (api_state(port).get("packs") or [{}])[0]
    if not c.ok(a is not None, "frames"):
        return
    v = D.values(a)
    c.eq(round(v["voltage"] * 10), round(st["voltage"] * 10), "0x4D8 voltage, 0.1 V (%s)" % v["voltage"])
    c.eq(round(v["current"] * 10), round(st["current"] * 10), "0x4D8 current, + = charging (%s)" % v["current"])
    c.eq(a[0x4D8][6:8], b"\x03\x08", "0x4D8 bytes 6-7: 03 (ready) 08")
    c.eq(v["soc"], int(pk["soc"] * 100 + 1e-3) / 100, "0x3D8 SOC in 0.01 %% (%s)" % v["soc"])
    soh = pk.get("soh")
    c.eq(u16(a[0x3D8], 2), 10000 if soh is None else round(soh * 100), "0x3D8 SOH in 0.01 %")
    full = pk.get("full_ah")
    c.eq(u16(a[0x3D8], 6), round(full * 10) if full else 0, "0x3D8 full capacity, 0.1 Ah (%s)" % full)
    c.ok(abs(u16(a[0x3D8], 4) / 10 - st["remaining_ah"]) <= 0.051, "0x3D8 remaining, 0.1 Ah")
    temps, mv = st["temps_c"], st["cells_mv"]
    d = a[0x518]
    c.eq((s16(d, 0) / 10, s16(d, 2) / 10), (float(max(temps)), float(min(temps))), "0x518 hottest, coldest")
    c.eq(u16(d, 4), round(st["voltage"] * 10), "0x518 the sum of the cells, 0.1 V")
    c.eq((d[6], d[7]), (round(min(mv) / 25), round(max(mv) / 25)), "0x518 lowest, highest cell in 25 mV")
    c.eq(a[0x158], b"\xAA" * 8, "0x158: no alarm")


def test_periods_h(env):
    print("== byd-h: every frame every 100 ms, as facts of the code")
    inv, port = env["inv"], env["http"]
    t0 = time.monotonic()
    sent0 = (inverter_output(port, "hv") or {}).get("frames_sent", 0)
    got = wait_until(lambda: (lambda f: f if sum(1 for _, m in f if m.arbitration_id == 0x158) >= 30 else None)(
        inv.since(t0)), 15)
    sent1, t1 = (inverter_output(port, "hv") or {}).get("frames_sent", 0), time.monotonic()
    if not c.ok(got is not None, "thirty 0x158 within 15 s"):
        return
    c.eq(sorted(set(ids(got))), sorted(set(BYD_H)), "only the six frames, no identification unasked")
    # the rate from bmsgw's own count of frames written (the reader stamps
    # a frame when it gets it: on a loaded machine it gets them in bursts)
    rate = (sent1 - sent0) / (t1 - t0) / len(BYD_H)
    c.ok(8.5 <= rate <= 11.5, "each frame 10 times a second by bmsgw's count of frames written (%.2f)" % rate)
    for i in BYD_H:
        c.ok(ids(got).count(i) >= 25, "0x%03X: 25 or more beside thirty 0x158 (%d)" % (i, ids(got).count(i)))


def test_pairing_h(env):
    print("== byd-h: the identification on a pairing request")
    inv, port = env["inv"], env["http"]
    for req in (0x5E7, 0x660):
        t0 = time.monotonic()
        inv.send(req, b"", ext=False)
        got = wait_until(lambda: (lambda f: f if f.count(0x618) >= 3 else None)(ids(inv.since(t0))), 3)
        ident = [i for i in (got or []) if i in (0x558, 0x598, 0x5D8, 0x618)]
        c.eq(ident[:6], [0x558, 0x598, 0x5D8, 0x618, 0x618, 0x618], "0x%03X: 0x558, 0x598, 0x5D8, three 0x618" % req)
    f = {}
    for _, m in inv.since(t0):
        if m.arbitration_id == 0x618:
            f[m.data[0]] = bytes(m.data[1:])
    c.eq(b"".join(f.get(k, b"") for k in range(3)).rstrip(b"\0"), b"Battery-Box H10.2", "the name")
    a = wait_until(lambda: (lambda x: x if x and 0x558 in x and 0x5D8 in x else None)(D.answer(inv.since(t0))), 3) or {}
    c.eq(a.get(0x5D8, b"")[1:4], b"BYD", "0x5D8 BYD")
    d = a.get(0x558, bytes(8))
    c.eq(d[3], 1, "0x558 byte 3: 32 cells / 32 a module: 1")
    pk = (api_state(port).get("packs") or [{}])[0]
    full = pk.get("full_ah") or 0
    c.eq(u16(d, 4), int(full * 32 * 3.2 / 100 + 1e-6), "0x558 bytes 4-5: full Ah x 102.4 V in 0.1 kWh, down")
    o = inverter_output(port, "hv") or {}
    c.ok(o.get("schedule") is True and o.get("identifications", 0) >= 2, "/api/state: schedule, identifications %s"
         % o.get("identifications"))


def pair_conf(gw_port, http_port, sim_port, pty_hvs, pty_sbs):
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 2
state_file = none
[pack.p1]
protocol = daly
port = tcp://127.0.0.1:%d
address = 1
cells = 32
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
[inverter.hvs]
protocol = sma-hv-can
port = slcan://%s
source = p1
failsafe_silence = %d
[inverter.sbs]
protocol = sma-hv-can
variant = sbs
port = slcan://%s
source = p1
failsafe_silence = %d
""" % (gw_port, sim_port, http_port, pty_hvs, SILENCE, pty_sbs, SILENCE)


def test_hvs(hvs, port, sim):
    print("== byd-hvs: nothing before the pairing request, then one frame a 250 ms")
    c.ok(wait_until(hvinv.state_is(port, "sending", "hvs"), 15), "byd-hvs: the source has data")
    for _ in range(6):
        D.poll(hvs)
        hvs.send(0x5E0, b"\x00SMA\x00\x00\x00\x00", ext=False)
        time.sleep(0.25)
    c.eq(ids(hvs.since(0)), [], "the SMA's frames for 1.5 s: nothing before its pairing request")
    c.eq((inverter_output(port, "hvs") or {}).get("schedule"), False, "/api/state: no schedule yet")
    t0 = time.monotonic()
    hvs.send(0x5E7, b"", ext=False)
    got = wait_until(lambda: (lambda f: f if len(ids(f)) >= len(PAIRING) else None)(hvs.since(t0)), 10)
    c.eq(ids(got or [])[:len(PAIRING)], PAIRING, "the pairing request: the identification, then every frame")
    ts = [t for t, m in (got or []) if ours(m)][:len(PAIRING)]
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    c.ok(gaps and statistics.median(gaps) >= 0.225, "one at a time (the median gap %.3f s)"
         % (statistics.median(gaps) if gaps else -1))
    o = inverter_output(port, "hvs") or {}
    c.ok(o.get("min_set_gap_ms", 0) >= 249.9 and o.get("schedule") is True,
         "the output's least gap between two frames >= 250 ms (%s ms)" % o.get("min_set_gap_ms"))
    t1 = time.monotonic()
    got = wait_until(lambda: (lambda f: f if ids(f).count(0x358) >= 6 else None)(hvs.since(t1)), 20)
    ts = [t for t, m in (got or []) if m.arbitration_id == 0x358][1:]
    # from the second on: the first, due while the pairing's frames still
    # went a 250 ms apart, goes late and the next on its time.  The mean gap
    # over the span: a reader the loaded machine ran late stamps a frame late
    # and its neighbour's gap short, which a median of few gaps takes for the
    # period; the span shortens by the first stamp's lateness over four
    # periods at most
    period = (ts[-1] - ts[0]) / (len(ts) - 1) if len(ts) >= 2 else -1
    c.ok(period >= 1.8, "then 0x358 every 2 s (%.2f s on average over %d frames)" % (period, len(ts)))
    c.ok(ids(got or []).count(0x4D8) <= 1 and 0x558 not in ids(got or []),
         "0x4D8 not within them (10 s), no identification unasked")
    print("== byd-hvs: stale, then silent, then back")
    o0 = inverter_output(port, "hvs") or {}
    sim.ctl("fault 1 silent")
    c.ok(wait_until(hvinv.state_is(port, "failsafe", "hvs"), 10), "failsafe once the pack is stale")
    t2 = time.monotonic() - 0.5
    z = wait_until(lambda: next((bytes(m.data) for _, m in hvs.since(t2) if m.arbitration_id == 0x358 and
                                 s16(bytes(m.data), 4) == 0 and s16(bytes(m.data), 6) == 0), None), 4)
    c.ok(z is not None and u16(z, 0) > 800, "0x358 with CCL = DCL = 0, the CVL kept (%s)" % (z and z.hex()))
    stop = wait_until(lambda: next((bytes(m.data) for _, m in hvs.since(t2) if m.arbitration_id == 0x4D8 and
                                    m.data[6] == 2), None), 4)
    c.ok(stop is not None, "0x4D8 byte 6: 2 (stop), out of turn")
    o = inverter_output(port, "hvs") or {}
    c.ok(o.get("early_sets", 0) > o0.get("early_sets", 0) and o.get("min_set_gap_ms", 0) >= 249.9,
         "out of turn (early_sets %s), the 250 ms kept (%s ms)" % (o.get("early_sets"), o.get("min_set_gap_ms")))
    c.ok(wait_until(hvinv.state_is(port, "silent", "hvs"), SILENCE + 10), "silent after failsafe_silence")
    heard, (n0, n1), _, _ = hvs.silent(lambda: frames_sent(port, "hvs"), seconds=2.0,
                                       ask=lambda: hvs.send(0x5E7, b"", ext=False))
    c.ok(not heard and n0 is not None and n1 == n0, "silent: no frame, the pairing request unanswered "
         "(%d frames heard; frames_sent %s, then %s)" % (heard, n0, n1))
    t4 = time.monotonic()
    sim.ctl("fault 1 none")
    c.ok(wait_until(hvinv.state_is(port, "sending", "hvs"), 15), "sending again once the pack answers")
    got = wait_until(lambda: (lambda f: f if len(f) >= 2 else None)(ids(hvs.since(t4))), 5)
    c.eq((got or [None])[0], 0x558, "frames again, the identification first")


def test_sbs(sbs, port):
    print("== sbs: from the SMA's first frame, everything every 100 ms")
    c.eq(ids(sbs.since(0)), [], "nothing before the SMA's first frame")
    # the source has data (a frame the SMA sent before the gateway's port was open is lost, as on a
    # real bus): then the SMA's frame, repeated each second, as an SMA does, until the battery speaks
    wait_until(lambda: ((api_state(port).get("packs") or [{}])[0]).get("limits"), 15)
    t0 = time.monotonic()
    D.poll(sbs)
    wait_until(lambda: ids(sbs.since(t0)) or D.poll(sbs), 10, 1.0)
    got = wait_until(lambda: (lambda f: f if ids(f).count(0x358) >= 20 else None)(sbs.since(t0)), 10)
    c.eq(ids(got or [])[:len(SBS)], SBS, "the identification and every frame, in Battery-Emulator's order")
    # every 100 ms by bmsgw's own count (the reader gets them in bursts on a
    # loaded machine), each of them as often as 0x358 by the reader's
    t1 = time.monotonic()
    o0 = inverter_output(port, "sbs") or {}
    more = wait_until(lambda: (lambda f: f if ids(f).count(0x358) >= 20 else None)(sbs.since(t1)), 10) or []
    o1, t2 = inverter_output(port, "sbs") or {}, time.monotonic()
    sets = o1.get("frame_sets", 0) - o0.get("frame_sets", 0)
    c.ok(8.5 <= sets / (t2 - t1) <= 11.5 and abs(o1.get("frames_sent", 0) - o0.get("frames_sent", 0) - 13 * sets) < 13,
         "a set of the 13 frames 10 times a second by bmsgw's count (%d sets, %s frames in %.2f s)"
         % (sets, o1.get("frames_sent", 0) - o0.get("frames_sent", 0), t2 - t1))
    for i in (0x558, 0x358, 0x4D8):
        c.ok(ids(more).count(i) >= 15, "0x%03X as often as 0x358 (%d of 20)" % (i, ids(more).count(i)))
    a = D.answer(got or []) or {}
    lim = ((api_state(port).get("packs") or [{}])[0]).get("limits") or {}
    c.ok(a and lim and round(D.limits(a)["ccl"] * 10) == int(lim["ccl_a"] * 10 + 0.01), "sbs: 0x358 the limits' CCL")


def test_variants(tmp):
    pa, pb = pty_pair(tmp, "hvs")
    qa, qb = pty_pair(tmp, "sbs")
    hvs, sbs = hvinv.Inverter(pb, D), hvinv.Inverter(qb, D)
    sim = Sim(packs=(hvinv.PACK,))
    gw_port, http_port = free_port(), free_port()
    gw = Gateway(pair_conf(gw_port, http_port, sim.port, pa, qa), gw_port)
    try:
        test_sbs(sbs, http_port)
        test_hvs(hvs, http_port, sim)
        c.ok(gw.alive() and "runtime error" not in gw.text() and "AddressSanitizer" not in gw.text(),
             "variants: the daemon ran through it, sanitizers quiet")
    finally:
        if c.failed:
            gw.dump(60)
        gw.stop()
        sim.stop()
        hvs.close()
        sbs.close()


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-smahv-")
    env = hvinv.start(c, D, tmp, "variant = byd-h\n")
    try:
        hvinv.test_waiting(c, env)
        test_values(env)
        test_periods_h(env)
        hvinv.test_limits(c, env)
        test_pairing_h(env)
        hvinv.test_range(c, env)
        hvinv.test_stale(c, env)
        hvinv.test_check(c, env)
    finally:
        hvinv.stop(c, env)
    test_variants(tmp)
    hvinv.test_strings(c, tmp, D, extra="variant = byd-h\n")
    sys.exit(c.report())


if __name__ == "__main__":
    main()
