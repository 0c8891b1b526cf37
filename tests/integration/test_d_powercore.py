#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: build=normal
"""D-powercore DXB / TBA packs over Bluetooth LE, end to end: the real bmsgw
against the simulator (bmsgw-sim --protocol d-powercore) through the fake
BlueZ on a private dbus-daemon, and through the fake ESPHome proxy.

- --ble-scan names DXB-... and TBA-... devices d-powercore;
- a DXB (the simulator's default pack: locked until 0x64 C0 FE, each page
  sent once the last is acknowledged): the unlock from the fake device's
  name written first, once on its one connection, then the reads and the
  acknowledgements; the simulator's values on Modbus and /api/state;
- a TBA whose pages come all at once (pages=burst): no unlock, its values;
- a DXB whose name gives another unlock (1234): the simulator stays locked,
  no data, the failed reads logged;
- a device whose name gives no unlock: nothing written, never online, the
  reason in the log and in /api/state;
- every write checked: the unlock of the name, the three read requests of
  the fixtures, or an acknowledgement (a page the simulator sent, echoed:
  the simulator counts anything else as a bad request);
- two DXBs taking turns on one connection ([ble] max_connections = 1):
  each turn a new connection, unlocked again, no poll failing;
- the DXB and the name without an unlock through an ESPHome proxy: the
  unlock from the advertised name, the values, the reason.

Prints "N passed, N failed".
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esp_harness import EspFake  # noqa: E402
from harness import BIN, ROOT, Checks, Gateway, Sim, free_port, ha_float, wait_until  # noqa: E402

import test_ble as tb  # noqa: E402 - the private bus, the fake BlueZ and its devices, the Modbus helpers

sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import fixtures  # noqa: E402 - a protocol's recorded frames (tests/tools/fixtures.py)

c = Checks()
EXE = os.path.join(ROOT, BIN, "bmsgw")
FFF0 = ["0000fff0-0000-1000-8000-00805f9b34fb"]
NO_UNLOCK = "no unlock from the device's advertised name"
MACS = ("C8:47:8C:00:69:01", "C8:47:8C:00:69:02", "C8:47:8C:00:69:03", "C8:47:8C:00:69:04")
NAMES = ("DXB-MockBLEDevice_C0FE", "TBA-MockBLEDevice_0001", "DXB-MockBLEDevice_1234", "DXB-Mock")


def reads():
    """The read requests and the unlock of C0FE, hex (the fixtures' requests)."""
    return {b.hex() for _, b in fixtures.requests("d_powercore")}


def writes_ok(label, written, unlock, answered=True):
    """Each value written is the unlock (first, if any), a read request or an
    acknowledgement (bit 7 of byte 0)."""
    rq = reads()
    unl = [w for w in written if w[10:12] == "64"]
    c.eq(unl, [unlock] if unlock else [], label + ": the unlock written: %s" % (unlock or "none"))
    if unlock:
        c.eq(written[:1], [unlock], label + ": the unlock first")
    other = [w for w in written if w not in unl and w not in rq and not (int(w[:2], 16) & 0x80 and len(w) == 40)]
    c.eq(other, [], label + ": nothing but the unlock, the reads and acknowledgements written")
    c.eq(any(int(w[:2], 16) & 0x80 for w in written), answered,
         label + (": acknowledgements written" if answered else ": no acknowledgement written (no page came)"))


def check_values(label, port, unit, sim, http=None, name=None):
    p = sim.state()["packs"][0]
    regs, _, _ = tb.read_raw(port, unit, tb.BASE, 125)
    if not c.ok(regs is not None, label + ": the map answers"):
        return
    c.near(ha_float(regs[10:12]), p["voltage"], 1e-3, label + ": Modbus voltage")
    c.near(ha_float(regs[12:14]), p["current"], 1e-3, label + ": Modbus current (%g A)" % p["current"])
    c.eq(regs[60], round(p["soc"] * 10), label + ": Modbus SOC 0.1 %")
    c.eq(regs[20:20 + min(16, len(p["cells_mv"]))], p["cells_mv"][:16], label + ": Modbus cells")
    if http:
        pk = tb.api_pack(http, name) or {}
        c.near(pk.get("voltage"), p["voltage"], 0.006, label + ": /api/state voltage")
        c.eq(pk.get("cycles"), p["cycles"], label + ": /api/state cycles")
        c.near((pk.get("temps_c") or [None])[0], p["temps_c"][0] if p.get("temps_c") else None, 0.11,
               label + ": /api/state temperature (0.1 K)")


def scan(macs_names):
    r = subprocess.run([EXE, "--ble-scan", "2"], capture_output=True, text=True, timeout=30)
    for mac, name in macs_names:
        row = next((l for l in r.stdout.splitlines() if l.startswith(mac)), "")
        c.ok(name in row and re.search(r"\sd-powercore\s", row) is not None,
             "--ble-scan names %s d-powercore (%s)" % (name, row.strip()))


def stop_all(gw, fake, sims, lines=40):
    """The end of a test: the gateway's log when a check failed, then the
    gateway (if it started), the fake and the simulators stopped."""
    if gw is not None:
        if c.failed:
            gw.dump(lines)
        gw.stop()
    fake.stop()
    for s in sims:
        s.stop()
def test_bluez():
    print("== D-powercore through BlueZ: the unlock from the name, acknowledged pages, a TBA, wrong names")
    sims = [Sim(protocol="d-powercore", packs=("address=1,cells=14,current=12.3,cycles=18",)),
            Sim(protocol="d-powercore", packs=("address=1,cells=10,current=-4.5,unlock=none,pages=burst",)),
            Sim(protocol="d-powercore", packs=("address=1,cells=14",)),
            Sim(protocol="d-powercore", packs=("address=1,cells=14",))]
    devs = [tb.device(m, s, layout="d-powercore", chunk=20, name=n, uuids=FFF0)
            for m, s, n in zip(MACS, sims, NAMES)]
    fake = tb.Fake(devs)
    port, http = free_port(), free_port()
    packs = [tb.ble_pack("d%d" % (i + 1), m, "d-powercore", unit=i + 1) for i, m in enumerate(MACS)]
    conf = tb.gw_conf(port, packs, stale=10, extra="[ble]\nmax_connections = 4\n") + \
        "[http]\nlisten = 127.0.0.1:%d\n" % http
    gw = None
    try:
        scan([(MACS[0], NAMES[0]), (MACS[1], NAMES[1])])
        gw = Gateway(conf, port)
        for i in (0, 1):
            c.ok(wait_until(lambda: tb.matches(port, i + 1, sims[i]), 40), "%s: the simulator's values" % NAMES[i])
        for i in (0, 1):
            check_values(NAMES[i], port, i + 1, sims[i], http, "d%d" % (i + 1))
        sims[0].ctl("set 1 soc 37")
        c.ok(wait_until(lambda: (tb.read_raw(port, 1, tb.BASE + 60, 1)[0] or [0])[0] == 370, 20),
             NAMES[0] + ": a new SOC arrives (37 %)")
        unl = "0e113a0305640000c0fe022a0d0a000000000000"
        for i, unlock in ((0, unl), (1, None)):
            st = fake.dev(MACS[i])
            writes_ok(NAMES[i], tb.values(st), unlock)
            stats = json.loads(sims[i].ctl("stats"))
            c.eq((stats["bad_requests"], st["connects"]), (0, 1),
                 NAMES[i] + ": every write one the simulator takes (each acknowledgement a page it sent), "
                 "one connection")
        # another DXB's unlock: written, the pack stays silent
        c.ok(wait_until(lambda: re.search(r"d3.*no complete answer", gw.text()) is not None, 30),
             NAMES[2] + ": the silent reads logged")
        st = fake.dev(MACS[2])
        c.ok(not tb.online(port, 3), NAMES[2] + ": never shown with data")
        writes_ok(NAMES[2], tb.values(st), "0e113a0305640000123400b20d0a000000000000", answered=False)
        # no unlock from the name: nothing written, the reason said
        c.ok(wait_until(lambda: re.search(r"d4.*" + re.escape(NO_UNLOCK), gw.text()) is not None, 30),
             NAMES[3] + ": the reason logged")
        c.ok(wait_until(lambda: NO_UNLOCK in ((tb.api_pack(http, "d4") or {}).get("error") or ""), 20),
             NAMES[3] + ": /api/state says why (%s)" % (tb.api_pack(http, "d4") or {}).get("error"))
        c.eq((fake.dev(MACS[3])["writes"], tb.online(port, 4)), (0, False), NAMES[3] + ": nothing written, no data")
    finally:
        stop_all(gw, fake, sims)


def test_esphome():
    print("== D-powercore through an ESPHome proxy: the unlock from the advertised name")
    sims = [Sim(protocol="d-powercore", packs=("address=1,cells=14,current=-7.5",)),
            Sim(protocol="d-powercore", packs=("address=1,cells=14",))]
    macs = ("C8:47:91:00:69:01", "C8:47:91:00:69:02")
    names = (NAMES[0], NAMES[3])
    devs = [{"address": m, "name": n, "mode": "bridge", "chunk": 20, "rssi": -60, "layout": "d-powercore",
             "sim": "127.0.0.1:%d" % s.port, "uuids": FFF0} for m, s, n in zip(macs, sims, names)]
    fake = EspFake({"devices": devs}, None, extra=["--slots", "4"])
    port, http = free_port(), free_port()
    body = "[ble_proxy.shed]\nhost = 127.0.0.1\nport = %d\n" % fake.port + "".join(
        "[pack.e%d]\nprotocol = d-powercore\nport = ble://%s\nunit_id = %d\nadapter = shed\npoll_interval = 1\n"
        % (i + 1, m, i + 1) for i, m in enumerate(macs))
    conf = ("[gateway]\nlisten = 127.0.0.1:%d\nstale_after = 10\nstate_file = none\n[http]\nlisten = 127.0.0.1:%d\n%s"
            % (port, http, body))
    gw = None
    try:
        gw = Gateway(conf, port)
        c.ok(wait_until(lambda: tb.matches(port, 1, sims[0]), 40), "ESPHome %s: the simulator's values" % names[0])
        check_values("ESPHome " + names[0], port, 1, sims[0])
        d = fake.dev(macs[0])
        writes_ok("ESPHome " + names[0], [w.split(":", 1)[-1] for w in d["written"]],
                  "0e113a0305640000c0fe022a0d0a000000000000")
        c.eq(json.loads(sims[0].ctl("stats"))["bad_requests"], 0, "ESPHome %s: the simulator took every write" % names[0])
        c.ok(wait_until(lambda: re.search(r"e2.*" + re.escape(NO_UNLOCK), gw.text()) is not None, 30),
             "ESPHome %s: the reason logged" % names[1])
        c.eq((fake.dev(macs[1])["written"], tb.online(port, 2)), ([], False),
             "ESPHome %s: nothing written, no data" % names[1])
    finally:
        stop_all(gw, fake, sims)


def test_turns():
    print("== two DXBs taking turns on one connection: the unlock again on each connection")
    sims = [Sim(protocol="d-powercore", packs=("address=1,cells=14,soc=%d" % (40 + 20 * i),)) for i in range(2)]
    macs = ("C8:47:8C:00:69:11", "C8:47:8C:00:69:12")
    fake = tb.Fake([tb.device(m, s, layout="d-powercore", chunk=20, name=NAMES[0], uuids=FFF0)
                    for m, s in zip(macs, sims)])
    port = free_port()
    packs = [tb.ble_pack("t%d" % (i + 1), m, "d-powercore", unit=i + 1) for i, m in enumerate(macs)]
    gw = Gateway(tb.gw_conf(port, packs, stale=20, extra="[ble]\nmax_connections = 1\n"), port)
    try:
        for i in (0, 1):
            c.ok(wait_until(lambda: tb.matches(port, i + 1, sims[i]), 40), "turns: t%d's values" % (i + 1))
        c.ok(wait_until(lambda: min(fake.dev(m)["connects"] for m in macs) >= 4, 60),
             "turns: each connected again and again (%s)" % [fake.dev(m)["connects"] for m in macs])
        for i in (0, 1):
            sims[i].ctl("set 1 soc %d" % (25 + 50 * i))
        for i in (0, 1):
            c.ok(wait_until(lambda: (tb.read_raw(port, i + 1, tb.BASE + 60, 1)[0] or [0])[0] == 250 + 500 * i, 40),
                 "turns: t%d's new SOC read after its turns" % (i + 1))
        c.ok("poll failed" not in gw.text(), "turns: no poll failed (each connection unlocked anew)")
        c.eq([json.loads(s.ctl("stats"))["bad_requests"] for s in sims], [0, 0], "turns: no bad request")
    finally:
        stop_all(gw, fake, sims, lines=30)


def main():
    return tb.run_on_private_bus(c, [(fn.__name__, fn) for fn in (test_bluez, test_turns, test_esphome)])


if __name__ == "__main__":
    sys.exit(main())
