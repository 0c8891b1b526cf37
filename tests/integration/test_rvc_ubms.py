#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: parts=2
"""The listen-only CAN inputs of issue 67 item 2 (rvc, ubms-can), end to
end without CAN hardware, through an slcan adapter on a pty:

(a) rvc: the simulator's RV-C battery (bmsgw-sim --protocol rvc --pty) at
    its source address 0x8F, among another node's DC source frames, a claim,
    a standard and a remote frame and its own instance 2: the values through
    /api/state and Modbus (voltage, current + = charging from the wire's
    + = out of the battery, SOC, SOH, capacities, the temperature, CVL, CCL,
    the protocol id); "do not charge" is CCL 0 A; a disconnect flag is a
    protection; the adapter opened listen only at 250 kbit/s; broken lines:
    the pack goes stale, never shows a value it did not get whole, and comes
    back; bmsgw wrote no frame.
(b) rvc: RVC-01 of tests/fixtures/vectors.tsv (a Renogy REGO bank's
    payloads at 0x8D) played with python3-can on the test's end of a socat
    pty pair, the pack at address 141: 13.3 V, +37.6 A, SOC 87 %, CVL
    14.4 V, CCL 300 A, 1200 Ah; its DC_SOURCE_STATUS_2 truncated: refused,
    the pack stale, back with the whole frame; nothing written.
(c) ubms-can: the simulator's U-BMS (four modules in series): every cell,
    voltage their sum, current, SOC, limits, temperatures; an alarm bit;
    broken lines: stale, back; nothing written, not even a VMU command.
(d) ubms-can: UBMS-01 (gimx/dbus_ubms's candump of eight modules) played
    with python3-can, the pack with `cells = 8` (two modules in series):
    26.606 V, -16 A, SOC 82 %, CCL 120.6 A, DCL 144.7 A, 8 cells; a short
    0x0C1: refused, stale, back; nothing written.
(e) ubms-can: issue 89's battery, the simulator's U-BMS with eight
    modules in parallel (`cells=4,parallel=8`: a 12 V battery, 0x0C1
    13 V), and four strings of two (`cells=8,parallel=4`, 0x0C1 27 V),
    without `cells`: the string 0x0C1 tells, 4 (8) cells and their sum
    over Modbus (registers 1, 10-11, 20-27, 40) and /api/state (before
    issue 89 every module in series: 32 cells, about 106 V); issue 97:
    cell 1 of the last string in parallel 12 mV under the first string's
    (`parallel_dip=12`, 0x0C4's lowest the lowest of every module): the
    pack's lowest cell is that cell over /api/state (cell_minmax_from
    "bms", no number), Modbus register 7 and the cell delta (register 4),
    where before the string's lowest hid it.
Waits for conditions, never sleeps for luck.  Ends with "N passed, N
failed".
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ROOT, Checks, Gateway, Sim, free_port, ha_float, my_part, pty_pair, wait_until)  # noqa: E402
from canpacks import STALE, Player, Watch, conf, online_values, pack  # noqa: E402

from pymodbus.client import ModbusTcpClient  # noqa: E402

try:
    import can  # noqa: F401 - canpacks' Player needs it
except ImportError:
    print("python3-can is not installed (make deps installs it)")
    print("0 passed, 1 failed")
    sys.exit(1)

c = Checks()
BASE = 290


def fixture(rid):
    """[(can id, extended, data)] of one row of tests/fixtures/vectors.tsv."""
    with open(os.path.join(ROOT, "tests", "fixtures", "vectors.tsv")) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) == 3 and cols[0] == rid:
                out = []
                for t in cols[2].split():
                    i, d = t.split("#")
                    out.append((int(i, 16), len(i) == 8, bytes.fromhex(d)))
                return out
    return []


def modbus_protocol_id(gw_port):
    cl = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    cl.connect()
    rr = cl.read_holding_registers(BASE, 125, slave=1)
    cl.close()
    return None if rr.isError() else rr.registers[103]


def broken_lines(sim, addr, http, keys, good):
    """badsum and truncated lines: stale, back; never a value of a broken one."""
    sim.ctl("set %d junk 0" % addr)
    for kind in ("badsum", "truncate"):
        w = Watch(http, keys)
        sim.ctl("fault %d %s" % (addr, kind))
        c.ok(wait_until(lambda: not pack(http).get("online"), STALE + 8), "%s lines: the pack goes stale" % kind)
        sim.ctl("fault %d none" % addr)
        c.ok(wait_until(lambda: pack(http).get("online"), 15), "%s: back with whole lines" % kind)
        seen = w.stop()
        c.ok(all(good(s) for s in seen), "%s: never a value of a broken line (%d states)" % (kind, len(seen)))


# ------------------------------------------------------------ (a) rvc, sim

RV_KEYS = ("voltage", "current", "soc", "soh", "remaining_ah", "full_ah", "bms_cvl_v", "bms_ccl_a")


def a_rvc(tmp):
    print("== (a) rvc: the simulator's RV-C battery")
    path = os.path.join(tmp, "rvcbus")
    sim = Sim(protocol="rvc", tcp=False, pty_path=path,
              packs=("address=143,cells=16,soc=64,current=-21.5,ccl=80,cvl=56.8,junk=1",))
    gw_port, http = free_port(), free_port()
    gw = Gateway(conf("rvc", gw_port, http, path), gw_port)
    try:
        p = wait_until(lambda: (lambda q: q if q.get("online") else None)(pack(http)), 15)
        if c.ok(p is not None, "the battery comes online through its RV-C bus"):
            v = sim.state()["packs"][0]
            c.near(p["voltage"], v["voltage"], 0.026, "voltage 0.05 V")
            c.near(p["current"], v["current"], 0.0011, "current (+ = charging; the wire's + is out of it)")
            c.ok(p["current"] < 0, "discharging shows negative (%s)" % p["current"])
            c.eq((p["soc"], p["soh"]), (v["soc"], v["soh"]), "SOC, SOH 0.5 %")
            c.eq((p["remaining_ah"], p["full_ah"]), (v["remaining_ah"], v["capacity_ah"]), "remaining, full Ah")
            c.near(p["bms_cvl_v"], v["cvl_v"], 0.026, "CVL (1FEC9's voltage)")
            c.near(p["bms_ccl_a"], v["ccl_a"], 0.026, "CCL (1FEC9's current)")
            c.near(p["temps_c"][0], v["temps_c"][0], 0.04, "the source temperature")
        c.eq(modbus_protocol_id(gw_port), 54, "protocol id 54 (register 103)")
        st = sim.state()["packs"][0]
        c.eq((st["can_open"], st["can_rate"]), ("listen", "S5"), "the adapter opened listen only at 250 kbit/s")
        sim.ctl("set 143 chg_set 0")
        c.ok(wait_until(lambda: pack(http).get("bms_ccl_a") == 0.0, 10), "\"do not charge\": CCL 0 A")
        sim.ctl("set 143 chg_set 1")
        sim.ctl("set 143 alarm 0 0x04")
        c.ok(wait_until(lambda: {"pack_ov", "protection"} <= set(pack(http).get("alarms") or []), 10),
             "1FEC7 high voltage disconnect: pack_ov and a protection")
        sim.ctl("set 143 alarm 0 0")
        broken_lines(sim, 143, http, RV_KEYS, lambda s: s[0] and s[0] > 40 and 0 <= s[2] <= 100)
        c.eq(sim.state()["packs"][0]["can_frames_heard"], 0, "bmsgw wrote no frame on the RV-C bus")
        c.ok("ERROR: AddressSanitizer" not in gw.text() and "runtime error" not in gw.text(), "sanitizers quiet")
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        sim.stop()


# --------------------------------------------------------- (b) rvc, RVC-01

def b_rego(tmp):
    print("== (b) rvc: RVC-01 (a Renogy REGO bank's payloads) played with python3-can")
    frames = fixture("RVC-01")
    c.eq(len(frames), 6, "the six DGNs of the capture")
    gw_end, test_end = pty_pair(tmp, "rego")
    player = Player(test_end, 250000)
    gw_port, http = free_port(), free_port()
    gw = Gateway(conf("rvc", gw_port, http, gw_end, "address = 141\n"), gw_port)
    keys = ("voltage", "current", "soc", "soh", "bms_cvl_v", "bms_ccl_a", "full_ah", "remaining_ah")
    want = (13.3, 37.6, 87.0, 100.0, 14.4, 300.0, 1200.0, 1044.0)
    try:
        player.play(frames)
        c.eq(wait_until(lambda: online_values(http, keys), 15), want,
             "13.3 V, +37.6 A charging, SOC 87 %, SOH 100 %, CVL 14.4 V, CCL 300 A, 1044 of 1200 Ah")
        w = Watch(http, keys)
        dc2 = frames[1]
        player.play([f if f is not dc2 else (dc2[0], True, dc2[2][:4]) for f in frames])
        c.ok(wait_until(lambda: not pack(http).get("online"), STALE + 8), "DC_SOURCE_STATUS_2 truncated: stale")
        player.play(frames)
        c.ok(wait_until(lambda: online_values(http, keys) == want, 15), "back with the whole frame")
        seen = w.stop()
        c.ok(seen == {want}, "never a value of the broken frame (%s)" % sorted(seen, key=str))
        c.eq(player.heard, 0, "bmsgw wrote no frame on the bus")
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        player.close()


# ------------------------------------------------------- (c) ubms-can, sim

UB_KEYS = ("voltage", "current", "soc", "cell_count", "bms_ccl_a", "bms_dcl_a")


def c_ubms(tmp):
    print("== (c) ubms-can: the simulator's U-BMS, four modules")
    path = os.path.join(tmp, "ubmsbus")
    sim = Sim(protocol="ubms-can", tcp=False, pty_path=path,
              packs=("address=0,cells=16,sensors=4,soc=58,current=-12,ccl=60.5,dcl=90,junk=1",))
    gw_port, http = free_port(), free_port()
    gw = Gateway(conf("ubms-can", gw_port, http, path), gw_port)
    try:
        p = wait_until(lambda: (lambda q: q if q.get("online") else None)(pack(http)), 15)
        if c.ok(p is not None, "the U-BMS comes online through its CAN bus"):
            v = sim.state()["packs"][0]
            c.eq(p.get("cells_mv"), v["cells_mv"], "every cell of the four modules, mV")
            c.near(p["voltage"], sum(v["cells_mv"]) / 1000.0, 0.0051, "voltage: the cells' sum (0.01 V on /api/state)")
            c.eq((p["current"], p["soc"]), (float(v["current"]), float(v["soc"])), "current 1 A, SOC %")
            c.eq((p["bms_ccl_a"], p["bms_dcl_a"]), (v["ccl_a"], v["dcl_a"]), "CCL, DCL 0.1 A (drive mode)")
            c.eq(p["temps_c"], [float(max(v["temps_c"])), float(min(v["temps_c"]))], "highest, lowest cell temp")
        c.eq(modbus_protocol_id(gw_port), 60, "protocol id 60 (register 103)")
        st = sim.state()["packs"][0]
        c.eq((st["can_open"], st["can_rate"]), ("listen", "S5"), "the adapter opened listen only at 250 kbit/s")
        sim.ctl("set 0 alarm 0 0x20")
        c.ok(wait_until(lambda: "pack_ov" in (pack(http).get("alarms") or []), 10), "0x0C0 byte 2 bit 5: pack_ov")
        sim.ctl("set 0 alarm 0 0")
        broken_lines(sim, 0, http, UB_KEYS, lambda s: s[3] == 16 and s[0] > 40 and 0 <= s[2] <= 100)
        c.eq(sim.state()["packs"][0]["can_frames_heard"], 0, "bmsgw wrote no frame (no VMU command either)")
        c.ok("ERROR: AddressSanitizer" not in gw.text() and "runtime error" not in gw.text(), "sanitizers quiet")
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        sim.stop()


# ---------------------------------------------------- (d) ubms-can, UBMS-01

def d_capture(tmp):
    print("== (d) ubms-can: UBMS-01 (gimx/dbus_ubms's candump) played with python3-can, cells = 8")
    frames = fixture("UBMS-01")
    c.eq(len(frames), 20, "sixteen cell frames and four status frames")
    gw_end, test_end = pty_pair(tmp, "ubmscap")
    player = Player(test_end, 250000)
    gw_port, http = free_port(), free_port()
    gw = Gateway(conf("ubms-can", gw_port, http, gw_end, "cells = 8\n"), gw_port)
    want = (26.61, -16.0, 82.0, 8, 120.6, 144.7)  # /api/state rounds to 0.01 V
    try:
        player.play(frames)
        c.eq(wait_until(lambda: online_values(http, UB_KEYS), 15), want,
             "26.61 V (modules 1 and 2: 26.606 V), -16 A, SOC 82 %, 8 cells, CCL 120.6 A, DCL 144.7 A")
        w = Watch(http, UB_KEYS)
        c1 = next(f for f in frames if f[0] == 0x0C1)
        player.play([f if f is not c1 else (0x0C1, False, c1[2][:3]) for f in frames])
        c.ok(wait_until(lambda: not pack(http).get("online"), STALE + 8), "a short 0x0C1: refused, the pack stale")
        player.play(frames)
        c.ok(wait_until(lambda: online_values(http, UB_KEYS) == want, 15), "back with the whole frame")
        seen = w.stop()
        c.ok(seen == {want}, "never a value of the broken frame (%s)" % sorted(seen, key=str))
        c.eq(player.heard, 0, "bmsgw wrote no frame on the bus")
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        player.close()


# ------------------------------------------- (e) ubms-can, modules in parallel

def modbus_regs(gw_port):
    cl = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    cl.connect()
    rr = cl.read_holding_registers(BASE, 125, slave=1)
    cl.close()
    return None if rr.isError() else rr.registers


def e_parallel(tmp):
    for series, strings in ((1, 8), (2, 4)):
        label = "%dS%dP" % (series, strings)
        print("== (e) ubms-can: the simulator's U-BMS, %d U27-12XP: %s, no `cells`" % (series * strings, label))
        path = os.path.join(tmp, "ubmspar%d" % series)
        sim = Sim(protocol="ubms-can", tcp=False, pty_path=path,
                  packs=("address=0,cells=%d,parallel=%d,parallel_dip=12,sensors=2,soc=76,current=-5,ccl=80,"
                         "dcl=100" % (4 * series, strings),))
        gw_port, http = free_port(), free_port()
        gw = Gateway(conf("ubms-can", gw_port, http, path), gw_port)
        try:
            p = wait_until(lambda: (lambda q: q if q.get("online") else None)(pack(http)), 15)
            if c.ok(p is not None, label + ": the U-BMS comes online"):
                v = sim.state()["packs"][0]
                volts = sum(v["cells_mv"]) / 1000.0
                c.eq(len(v["cells_mv"]), 4 * series, label + ": the simulator's string has %d cells" % (4 * series))
                c.eq((p["cell_count"], p.get("cells_mv")), (4 * series, v["cells_mv"]),
                     label + ": /api/state the string's cells (%d), not every module's" % (4 * series))
                c.near(p["voltage"], volts, 0.0051, label + ": /api/state voltage %.3f V, the string's" % volts)
                regs = modbus_regs(gw_port)
                if c.ok(regs is not None, label + ": Modbus answers"):
                    c.eq(regs[40], 4 * series, label + ": Modbus cell count (register 40)")
                    c.near(ha_float(regs[10:12]), volts, 1e-3, label + ": Modbus voltage float (10-11)")
                    c.near(regs[1], volts * 100, 1, label + ": Modbus voltage 0.01 V (1)")
                    c.eq(regs[20:28], (v["cells_mv"] + [0] * 8)[:8], label + ": Modbus cells, 0 after the string")
                low, high = v["cells_mv"][0] - 12, max(v["cells_mv"])
                c.ok(low < min(v["cells_mv"]), label + ": the dipped cell is the lowest of all (%d mV)" % low)
                c.eq((p["cell_min_mv"], p.get("cell_min_index"), p["cell_max_mv"], p["cell_minmax_from"]),
                     (low, None, high, "bms"), label + ": /api/state's lowest cell %d mV, a cell of the last string "
                     "in parallel (the string's lowest %d mV)" % (low, min(v["cells_mv"])))
                if regs is not None:
                    c.eq((regs[7], regs[6], regs[4]), (low, high, high - low),
                         label + ": Modbus lowest cell (7), highest (6) and delta (4) of every module")
            c.eq(sim.state()["packs"][0]["can_frames_heard"], 0, label + ": bmsgw wrote no frame")
        finally:
            if c.failed:
                gw.dump(40)
            gw.stop()
            sim.stop()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for piece in (a_rvc, b_rego, c_ubms, d_capture, e_parallel):
            if my_part():
                piece(tmp)
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
