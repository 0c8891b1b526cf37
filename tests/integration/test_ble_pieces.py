#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Requests in pieces (bms/bms.h ble->write_piece), end to end: a Creabest
VB pack (creabest-vb, which takes at most 20 bytes a write) behind the
fake BlueZ on a private dbus-daemon and behind the fake ESPHome proxy,
each device refusing a write over 20 bytes (max_write) and answering each
write 50 ms late (write_delay), bridged to the simulator (bmsgw-sim).

For each transport: --ble-scan names the device creabest-vb (its name
"VB" + nine characters beside cbt-power's service FFE5); the gateway
reads the pack: the simulator's voltage, current, SOC, cells over Modbus,
its temperatures, cycles and capacity in /api/state; the 24-byte read
went out as 20 + 4 bytes and the 20-byte one whole, no write was longer
than 20 bytes, no piece was written before the write before it was
answered (the fakes count overlaps), only the pieces of the two reads
were written, and the simulator took every request as one of its
protocol's (none bad).

Prints "N passed, N failed".
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esp_harness import EspFake  # noqa: E402
from harness import BIN, ROOT, Checks, Gateway, Sim, free_port, ha_float, wait_until  # noqa: E402

import test_ble as tb  # noqa: E402 - the fake BlueZ, its bus and the Modbus helpers

sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import fixtures  # noqa: E402 - a protocol's recorded frames (tests/tools/fixtures.py)

c = Checks()
EXE = os.path.join(ROOT, BIN, "bmsgw")
BASE = 290
FFE5 = "0000ffe5-0000-1000-8000-00805f9b34fb"
NAME = "VB024001223"
PACK = "address=1,cells=4,sensors=2,current=-7.5,soc=64,capacity=105,cycles=33"


def device(mac, sim):
    return {"address": mac, "name": NAME, "layout": "creabest-vb", "chunk": 20, "mode": "bridge",
            "sim": "127.0.0.1:%d" % sim.port, "uuids": [FFE5], "rssi": -60, "max_write": 20, "write_delay": 0.05}


def pieces():
    """The fixtures' two reads cut in 20-byte pieces (hex)."""
    reads = [b for _, b in fixtures.requests("creabest_vb")]
    c.eq(sorted(len(r) for r in reads), [20, 24], "the fixtures hold the two reads (20 and 24 bytes)")
    return {r[i:i + 20].hex() for r in reads for i in range(0, len(r), 20)}


def scan(label, args):
    r = subprocess.run([EXE, "--ble-scan", "2"] + args, capture_output=True, text=True, timeout=60)
    row = next((l for l in r.stdout.splitlines() if NAME in l), "")
    c.ok(" creabest-vb " in row and "cbt-power" not in row,
         "%s: --ble-scan names %s creabest-vb beside the service FFE5 (%s)" % (label, NAME, row.strip()))


def check_pack(label, port, http, sim, dev):
    """The pack read end to end, its requests in pieces."""
    c.ok(wait_until(lambda: tb.online(port, 1), 40), label + ": online")
    p = sim.state()["packs"][0]
    regs, _, _ = tb.read_raw(port, 1, BASE, 125)
    if c.ok(regs is not None, label + ": the map answers"):
        c.near(ha_float(regs[10:12]), p["voltage"], 1e-3, label + ": Modbus voltage (%g V)" % p["voltage"])
        c.near(ha_float(regs[12:14]), -7.5, 1e-3, label + ": Modbus current")
        c.eq(regs[60], round(p["soc"] * 10), label + ": Modbus SOC 0.1 %")
        c.eq(regs[20:24], p["cells_mv"][:4], label + ": Modbus cells")
    pk = wait_until(lambda: tb.api_pack(http, "vb"), 10) or {}
    c.eq((pk.get("cycles"), pk.get("temps_c")), (33, [float(t) for t in p["temps_c"][:2]]),
         label + ": /api/state cycles and the two sensors")
    c.near(pk.get("full_ah") or pk.get("capacity_ah") or 0, 105.0, 1e-3, label + ": /api/state the design capacity")
    st = dev()
    sizes = st.get("write_sizes", {})
    c.ok(set(sizes) == {"20", "4"} and sizes["4"] >= 1 and sizes["20"] >= 2 * sizes["4"],
         label + ": the 24-byte read as 20 + 4 bytes, the 20-byte one whole (%s)" % sizes)
    c.eq((st.get("too_long"), st.get("overlaps")), (0, 0),
         label + ": no write over 20 bytes, none before the one before it was answered")
    written = {w.split(":", 1)[1] for w in st["written"]}
    allowed = pieces()
    c.ok(written and written <= allowed, label + ": only the pieces of its two reads written (%s)" % sorted(written))
    stats = sim.ctl("stats")
    c.ok('"bad_requests":0' in stats.replace(" ", "") and '"answers":0' not in stats.replace(" ", ""),
         label + ": the simulator took every request whole, none bad (%s)" % stats.strip())


def conf(port, http, mac, extra=""):
    return ("[gateway]\nlisten = 127.0.0.1:%d\nstale_after = 10\nstate_file = none\n[http]\nlisten = 127.0.0.1:%d\n"
            "[history]\nfile = none\n%s[pack.vb]\nprotocol = creabest-vb\nport = ble://%s\nunit_id = 1\n"
            "poll_interval = 0.5\n%s" % (port, http, extra, mac, "adapter = shed\n" if extra else ""))


def test_bluez():
    print("== a Creabest VB pack through BlueZ: requests in 20-byte pieces")
    mac = "38:AB:41:1A:2A:9B"
    sim = Sim(protocol="creabest-vb", packs=(PACK,))
    fake = tb.Fake([device(mac, sim)])
    port, http = free_port(), free_port()
    gw = None
    try:
        scan("BlueZ", [])
        gw = Gateway(conf(port, http, mac), port)
        check_pack("BlueZ", port, http, sim, lambda: fake.dev(mac))
    finally:
        if c.failed and gw:
            gw.dump(30)
        if gw:
            gw.stop()
        fake.stop()
        sim.stop()


def test_esphome():
    print("== a Creabest VB pack through an ESPHome proxy: requests in 20-byte pieces")
    mac = "38:AB:41:1A:2A:9C"
    sim = Sim(protocol="creabest-vb", packs=(PACK,))
    fake = EspFake({"devices": [device(mac, sim)]})
    port, http = free_port(), free_port()
    gw = None
    try:
        proxy = "[ble_proxy.shed]\nhost = 127.0.0.1\nport = %d\n" % fake.port
        gw = Gateway(conf(port, http, mac, proxy), port)
        check_pack("ESPHome", port, http, sim, lambda: fake.dev(mac))
    finally:
        if c.failed and gw:
            gw.dump(30)
        if gw:
            gw.stop()
        fake.stop()
        sim.stop()


def main():
    return tb.run_on_private_bus(c, [(fn.__name__, fn) for fn in (test_bluez, test_esphome)])


if __name__ == "__main__":
    sys.exit(main())
