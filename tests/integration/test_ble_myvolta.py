#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A Volta Power Systems battery (myvolta, bms/PROTOCOLS.md §68) end to end,
without a radio: the real bmsgw against the simulator's pack behind the fake
BlueZ (tests/ble/fake_bluez.py) on a private dbus-daemon, as
tests/integration/test_ble.py runs it.

- --ble-scan names the gateway advertised as VPS-197B with Microchip's MLDP
  service myvolta, and does not name an RN4020 module that advertises the
  same service under another name (the service is never a hint alone);
- the gateway streams its DLE-framed messages (with the capture's message
  of another command and a message cut short before each burst) in 20-byte
  notifications: Modbus and /api/state hold the simulator's voltage,
  current, SOC, 14 cells, all twelve of its sensors (issue 89: eight
  were served) and the highest and lowest of the twelve: /api/state's
  temps_c, Modbus's count (offset 65), sensors 1..8 (67..74) and 9..12
  (139..142, 0x8000 in 143..146, a second read); sensors 9 and 12 set
  apart show there and in the extremes; a new current and SOC arrive; the
  message of another command and the cut ones are skipped, no checksum
  error;
- messages made bad by the simulator (badsum) are counted as checksum
  errors and the readings come back;
- nothing is ever written to the pack: the fake device records no write
  and the simulator no request, over one connection.

Prints "N passed, N failed".
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Gateway, Sim, api_state, free_port, ha_float, wait_until  # noqa: E402
import test_ble  # noqa: E402 - the fake BlueZ's harness (Bus, Fake, device, ...)
from test_ble import BASE, EXE, Fake, api_pack, ble_pack, device, gw_conf, read_raw, values  # noqa: E402

c = Checks()
test_ble.c = c  # its helpers report into this script's checks
MLDP = "00035b03-58e6-07dd-021a-08123a000300"
MAC = "E8:EB:1B:F9:19:7B"
OTHER = "00:1E:C0:12:34:56"  # a Microchip RN4020 module, not a Volta


def scan_rows():
    r = subprocess.run([EXE, "--ble-scan", "2"], capture_output=True, text=True, timeout=30)
    return {l.split()[0]: l for l in r.stdout.splitlines() if l[:1].isalnum() and ":" in l.split()[0]}


def modbus_temps(port):
    """The sixteen sensor registers (67..74, then 139..146 of a second
    read) as signed values, after a count check (offset 65), or None."""
    first, _, _ = read_raw(port, 1, BASE, 125)
    second, _, _ = read_raw(port, 1, BASE + 125, 36)
    if first is None or second is None:
        return None
    regs = first[67:75] + second[139 - 125:147 - 125]
    return [r - 65536 if r >= 32768 else r for r in regs] if first[65] == 12 else None


def same(port, http, sim):
    """Modbus and /api/state equal the simulator's pack now."""
    p = sim.state()["packs"][0]
    regs, _, _ = read_raw(port, 1, BASE, 125)
    pk = api_pack(http, "volta") or {}
    return regs is not None and abs(ha_float(regs[10:12]) - p["voltage"]) < 1e-3 and \
        abs(ha_float(regs[12:14]) - p["current"]) < 1e-3 and regs[60] == round(p["soc"] * 10) and \
        pk.get("cells_mv") == p["cells_mv"]


def test_volta():
    print("== a Volta Power Systems battery (VPS-197B): scan, connect, listen, Modbus, /api/state, nothing written")
    sim = Sim(protocol="myvolta", packs=("address=1,cells=14,sensors=12,current=-0.56,soc=94.2,junk=1",))
    fake = Fake([device(MAC, sim, layout="myvolta", chunk=20, name="VPS-197B", uuids=[MLDP]),
                 device(OTHER, None, layout="myvolta", chunk=20, name="RN4020_3456", uuids=[MLDP])])
    port, http = free_port(), free_port()
    conf = gw_conf(port, [ble_pack("volta", MAC, "myvolta", extra="chemistry = nmc\n")]) + (
        "[http]\nlisten = 127.0.0.1:%d\n[history]\nfile = none\n" % http)
    rows = scan_rows()
    c.ok(" myvolta " in rows.get(MAC, "") and "VPS-197B" in rows.get(MAC, ""),
         "--ble-scan names VPS-197B myvolta (%s)" % rows.get(MAC, "").strip())
    c.ok(" myvolta " not in rows.get(OTHER, ""),
         "--ble-scan does not name an RN4020 module of the same service myvolta (%s)" % rows.get(OTHER, "").strip())
    c.ok(OTHER in rows, "--ble-scan lists the RN4020 module all the same")
    t0 = time.monotonic()
    gw = Gateway(conf, port)
    try:
        c.ok(wait_until(lambda: same(port, http, sim), 30), "myvolta: Modbus and /api/state equal the simulator")
        print("   figure: myvolta first reading %.2f s after start" % (time.monotonic() - t0))
        p = sim.state()["packs"][0]
        regs, _, _ = read_raw(port, 1, BASE, 125)
        if c.ok(regs is not None, "myvolta: the map reads"):
            c.near(ha_float(regs[12:14]), -0.56, 1e-3, "myvolta: current -0.56 A (0.01 A, - = discharging)")
            c.eq(regs[60], 942, "myvolta: SOC 94.2 % (0.1 %)")
            c.eq(regs[20:34], p["cells_mv"], "myvolta: 14 cells")
            c.eq(regs[34], 0, "myvolta: no 15th cell")
        pk = api_pack(http, "volta") or {}
        c.eq(pk.get("cell_count"), 14, "/api/state: 14 cells (slots 15, 16 empty)")
        c.eq(len(p["temps_c"]), 12, "the simulator's pack has twelve sensors")
        c.eq(pk.get("temps_c"), [float(t) for t in p["temps_c"]], "/api/state: all twelve temperatures")
        c.eq((pk.get("bms_temp_max_c"), pk.get("bms_temp_min_c")),
             (float(p["temp_max_c"]), float(p["temp_min_c"])), "/api/state: the highest and lowest of all twelve")
        c.eq(pk.get("alarms"), [], "/api/state: no alarm")
        c.eq(modbus_temps(port), [round(t * 10) for t in p["temps_c"]] + [-32768] * 4,
             "Modbus: count 12, sensors 1..8 at 67..74, 9..12 at 139..142, 0x8000 at 143..146")
        sim.ctl("set 1 temp 12 41")
        sim.ctl("set 1 temp 9 3")
        t = sim.state()["packs"][0]["temps_c"]
        c.eq((t[8], t[11]), (3, 41), "the simulator's sensors 9 and 12 set (3, 41 degC)")

        def extremes():
            q = api_pack(http, "volta") or {}
            return (q.get("bms_temp_max_c"), q.get("bms_temp_min_c"), q.get("temps_c"))
        c.ok(wait_until(lambda: extremes() == (41.0, 3.0, [float(x) for x in t]), 20),
             "/api/state: sensors 9 and 12 among the temperatures and the highest and lowest (41, 3) (%s)"
             % (extremes(),))
        c.ok(wait_until(lambda: modbus_temps(port) == [round(x * 10) for x in t] + [-32768] * 4, 20),
             "Modbus: sensors 9 and 12 at offsets 139 and 142 (%s)" % (modbus_temps(port),))
        sim.ctl("set 1 current 12.5")
        sim.ctl("set 1 soc 40")
        c.ok(wait_until(lambda: same(port, http, sim) and
                        abs((api_pack(http, "volta") or {}).get("current", 0) - 12.5) < 1e-3, 20),
             "myvolta: a new current (12.5 A) and SOC arrive")

        def errors():
            link = next((l for l in (api_state(http).get("links") or []) if l.get("packs") == ["volta"]), {})
            return link.get("checksum_errors", 0)
        c.eq(errors(), 0, "myvolta: the other command's message and the cut ones skipped, no checksum error")
        sim.ctl("fault 1 badsum 3")
        c.ok(wait_until(lambda: errors() >= 1, 20), "myvolta: bad messages counted as checksum errors (%d)" % errors())
        c.ok(wait_until(lambda: sim.state()["packs"][0]["fault"] == "none" and same(port, http, sim), 20),
             "myvolta: good again after the fault")
        st = fake.dev(MAC)
        stats = json.loads(sim.ctl("stats"))
        c.eq((st["writes"], values(st), stats["bad_requests"], stats["writes"]), (0, [], 0, 0),
             "myvolta: nothing written to the pack (fake device and simulator)")
        c.eq(st["connects"], 1, "myvolta: one connection")
        c.eq(fake.dev(OTHER)["connects"], 0, "the RN4020 module: never connected")
    finally:
        if c.failed:
            gw.dump(30)
        gw.stop()
        fake.stop()
        sim.stop()


def main():
    return test_ble.run_on_private_bus(c, [("test_volta", test_volta)])


if __name__ == "__main__":
    sys.exit(main())
