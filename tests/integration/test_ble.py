#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: parts=4 build=normal
"""Bluetooth LE end to end, without a radio: the real bmsgw against a fake
BlueZ (tests/ble/fake_bluez.py) on a private dbus-daemon (tests/ble/bus.conf),
pointed at by DBUS_SYSTEM_BUS_ADDRESS, whose devices bridge to the BMS
simulator (bmsgw-sim) or answer recorded frames.

- per protocol (ROWS, one row each): registers read with pymodbus equal the
  simulator's state, requests written as Write Command;
- a recorded JBD capture (20 + 16 byte notifications);
- two BLE packs and a TCP serial pack side by side, one Connect at a time per
  adapter; stale -> 0x0B -> recovery after a reconnect (the reconnect time
  is printed); Connect "in progress"; a disconnect in the middle of a
  record; notifications that stop; the device removed from BlueZ; a Connect
  that never returns; the adapter powered off; each outage logged once;
  Modbus reads stay fast while a BLE link flaps (p99 printed, checked
  loosely); a reload keeps the BLE link;
- a device BlueZ does not know until discovery runs;
- a GATT layout that only allows Write Request;
- bmsgw --ble-scan;
- MQTT availability of a BLE pack on a real Mosquitto;
- MOSFET commands over the air (jbd, daly, daly-modbus D2, jk-ble), a wrong
  Victron key;
- the Modbus-over-BLE families renogy-pro and pylon-rt: --ble-scan, the simulator's
  values, only their read requests written (recorded by the fake);
- a driver's second GATT layout (AG Power Lithium: chins, Eleksol: jbd):
  --ble-scan by its name or service, the values, only its reads written;
- every other family with a GATT layout (vatrer, gobel, saihang ...), from
  the driver table, its simulator and its fixtures alone (test_families);
  the fake devices kept by hand held against the driver table;
- a NEEY balancer beside a BMS in one bank (scan, the balancer unit over
  Modbus, /api/state and MQTT, the bank's values and limits the BMS's, the
  balancer stale and the BMS stale); a SOK battery (scan, Modbus,
  /api/state, MQTT);
- two local adapters, and more packs than [ble] max_connections taking
  turns;
- configuration errors, and the build without libsystemd.

Prints "N passed, N failed".  tests/run.sh runs it in parts, each with its
share of the tests of main() (harness.my_part).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BIN, ROOT, Checks, Gateway, Proc, Sim, api_state, control_line, free_port, ha_float,  # noqa: E402
                     mbap_request, my_part, recv_adu, wait_port, wait_until, write_conf)
sys.path.insert(0, os.path.join(ROOT, "tests", "ble"))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import ble_layouts  # noqa: E402 - the fake devices' GATT layouts, made from the driver table
import fixtures  # noqa: E402 - a protocol's recorded frames (tests/tools/fixtures.py)

c = Checks()
BASE = 290
PY = "/usr/bin/python3"
FAKE = os.path.join(ROOT, "tests/ble/fake_bluez.py")
EXE = os.path.join(ROOT, BIN, "bmsgw")

# One row per protocol spoken over BLE: (protocol, simulator protocol, GATT
# layout of the fake device, notification size (0 = each simulator write as
# one notification)[, the pack's address, configured too][, the simulated
# pack's options]).  A row whose
# protocol has no BLE mode in this build (a build without libsystemd) is
# reported and skipped.
ROWS = [
    ("jbd", "jbd", "jbd", 20),           # FF00/FF01/FF02, 20-byte chunks as captured
    ("jbd", "jbd", "jbd", 0),            # whole answers in one notification (MTU 512)
    ("daly", "daly", "daly", 13),        # 0xA5 frames, host address 0x80
    ("daly", "daly", "daly", 26),        # two frames merged in one notification
    ("daly-modbus", "daly-modbus", "daly", 0),      # D2 dialect, whole frames
    ("daly-modbus", "daly-modbus", "daly-new", 0),  # FFF1 refuses StartNotify: the FF00 layout
    ("jk-ble", "jk-ble", "jk-ble", 128), # one FFE1 that writes and notifies, 128-byte chunks
    ("jk-ble", "jk-ble", "jk2", 128),    # two FFE1 (new module): told apart by their flags
    ("victron-ble", "victron-ble", "adv", 0),       # advertisements, no connection
    ("seplos3", "seplos3", "seplos3", 20, 1),       # Modbus RTU over FFF0, pack 1, 20-byte chunks
    ("eg4-ll", "eg4-ll", "eg4-ll", 20, 1),          # Modbus RTU over 1000, slave 1
    ("renogy", "renogy", "renogy", 20, 48),         # BT-2: write FFD1 of FFD0, notify FFF1 of FFF0, slave 48
    ("litime", "litime", "litime", 20),             # FFE0: notify FFE1, write FFE2 (FFE3: the AT channel)
    ("tianpower", "tianpower", "tianpower", 20),    # FF00: notify FF01, write FF02 (FF03 notifies too)
    ("chins", "chins", "nus", 20),                  # E&J's ASCII frames over the Nordic UART service
    ("neey", "neey", "neey", 20),                   # a NEEY balancer unit: FFE0 / FFE1, 20-byte chunks (GW-24S4EB)
    ("neey", "neey", "neey", 150, "layout=v2"),     # SW-2.0.0's v2 frames, 150-byte chunks (ATT MTU 153)
    ("abc", "abc", "abc", 20),                      # SOK / ABC-BMS: FFE0, write FFE2, notify FFE1
    ("ant", "ant", "ant", 20),                      # ANT 2021+: 7E A1 on FFE0 / FFE1, 20-byte chunks
    ("ant", "ant", "ant", 20, "dialect=legacy"),    # a 2019 ANT board: DB DB ..., the 140-byte frame
    ("topband", "topband", "topband", 20),          # Topband / KiloVault / Ective: FFE4 pushes, nothing written
    ("topband", "topband", "topband", 0, "dialect=kv,junk=1"),  # KiloVault's 0xB0 frames with noise, whole
    ("ecoworthy", "ecoworthy", "ecoworthy", 20),    # Eco-Worthy BW02 v1: FFF1 pushes A1 + A2, nothing written
    ("ecoworthy", "ecoworthy", "ecoworthy", 0, "layout=v2"),  # v2 frames (MAC first), whole
    ("felicity", "felicity", "felicity", 35),       # Felicity Solar: JSON answers in 35-byte notifications
    ("felicity", "felicity", "felicity", 0, "junk=1"),  # a stale "get Date" answer and noise before each, whole
    ("superb", "superb", "superb", 20),             # Super-B Epsilon v1: 6edadbe4-... pushes 20 bytes, nothing written
]
# Protocols that are only listened to over their GATT link: nothing is ever written.
NO_WRITES = ("topband", "ecoworthy", "superb")

MAC_A, MAC_B, MAC_C = "A4:C1:38:00:00:0A", "A4:C1:38:00:00:0B", "A4:C1:38:00:00:0C"


class Bus(Proc):
    """A private dbus-daemon that lets the fake own org.bluez."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="bmsgw-bus-")
        self.sock = os.path.join(self.dir, "bus")
        super().__init__(["dbus-daemon", "--config-file=" + os.path.join(ROOT, "tests/ble/bus.conf"),
                          "--address=unix:path=" + self.sock, "--nofork", "--nopidfile"], "dbus")
        if not wait_until(lambda: os.path.exists(self.sock), 10):
            self.dump()
            raise RuntimeError("dbus-daemon did not start")
        self.address = "unix:path=" + self.sock

    def stop(self, *a, **kw):
        rc = super().stop(*a, **kw)
        shutil.rmtree(self.dir, ignore_errors=True)
        return rc


class Fake(Proc):
    def __init__(self, devices, adapters=None):
        self.ctl_port = free_port()
        spec = {"adapters": adapters or [{"name": "hci0"}], "devices": devices}
        self.spec = write_conf(json.dumps(spec))
        super().__init__([PY, FAKE, "--spec", self.spec, "--control", "127.0.0.1:%d" % self.ctl_port], "fake-bluez")
        if not wait_until(lambda: "ready" in self.text() or not self.alive(), 15) or not self.alive():
            self.dump()
            raise RuntimeError("fake BlueZ did not start")
        wait_port(self.ctl_port)

    def ctl(self, cmd):
        return control_line(self.ctl_port, cmd)

    def state(self):
        return json.loads(self.ctl("state"))

    def dev(self, mac):
        return self.state()["devices"][mac]


def device(mac, sim=None, layout="jbd", chunk=20, **kw):
    d = {"address": mac, "name": "xiaoxiang BMS", "layout": layout, "chunk": chunk,
         "mode": "bridge" if sim else "none", "uuids": ["0000ff00-0000-1000-8000-00805f9b34fb"], "rssi": -60}
    if sim:
        d["sim"] = "127.0.0.1:%d" % sim.port
    d.update(kw)
    return d


def read_raw(port, unit, addr, count, timeout=3):
    """(registers or None, exception code or None, seconds)."""
    t0 = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(mbap_request(1, unit, bytes([3, addr >> 8, addr & 255, 0, count])))
            r = recv_adu(s)
    except OSError:
        return None, None, time.monotonic() - t0
    dt = time.monotonic() - t0
    if len(r) >= 9 and r[7] & 0x80:
        return None, r[8], dt
    if len(r) < 9 + 2 * count:
        return None, None, dt
    return [r[9 + 2 * i] << 8 | r[10 + 2 * i] for i in range(count)], None, dt


def online(port, unit):
    regs, _, _ = read_raw(port, unit, BASE, 2)
    return regs is not None


def matches(port, unit, sim):
    """The unit's voltage and cells equal the simulator's pack now."""
    regs, _, _ = read_raw(port, unit, BASE, 125)
    if regs is None:
        return False
    p = sim.state()["packs"][0]
    return abs(ha_float(regs[10:12]) - p["voltage"]) < 1e-3 and regs[20:20 + len(p["cells_mv"][:16])] == \
        p["cells_mv"][:16]


def ble_supported(proto):
    """True if this build's driver of proto has a BLE mode (--check takes a ble:// port)."""
    conf = write_conf("[gateway]\nstate_file = none\n[pack.x]\nprotocol = %s\nport = ble://00:11:22:33:44:55\n%s"
                      % (proto, "key = 00112233445566778899aabbccddeeff\n" if proto == "victron-ble" else ""))
    r = subprocess.run([EXE, "-c", conf, "--check"], capture_output=True, text=True)
    os.unlink(conf)
    return r.returncode == 0


def sim_protocols():
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw-sim"), "--help"], capture_output=True, text=True)
    m = re.search(r"protocol spoken by the packs: (.*)", out.stdout + out.stderr)
    return m.group(1).split() if m else []


def gw_conf(port, packs, extra="", stale=3):
    return ("[gateway]\nlisten = 127.0.0.1:%d\nstale_after = %g\nstate_file = none\n%s%s"
            % (port, stale, extra, "".join(packs)))


def ble_pack(name, mac, proto="jbd", unit=1, extra=""):
    return "[pack.%s]\nprotocol = %s\nport = ble://%s\nunit_id = %d\npoll_interval = 0.5\n%s" % (
        name, proto, mac, unit, extra)


# ------------------------------------------------------------------ per protocol

def test_rows():
    print("== one row per protocol over BLE")
    sims_help = sim_protocols()
    for proto, simproto, layout, chunk, *more in ROWS:
        addr = [a for a in more if isinstance(a, int)]
        opts = "".join("," + o for o in more if isinstance(o, str))
        label = "%s over BLE (layout %s, %s%s)" % (proto, layout, "chunks of %d" % chunk if chunk else "whole", opts)
        if not ble_supported(proto) or simproto not in sims_help:
            c.ok(False, "%s: no BLE mode in this build's driver, or no simulator" % label)
            continue
        key = "00112233445566778899aabbccddeeff"
        sim = Sim(protocol=simproto, packs=("key=" + key,) if layout == "adv" else
                  ("address=%d%s" % ((addr or [1])[0], opts),))
        if layout == "adv":
            dev = {"address": MAC_A, "name": "SmartShunt", "mode": "adv", "sim": "127.0.0.1:%d" % sim.port}
            extra = "key = %s\n" % key
        else:
            dev = device(MAC_A, sim, layout=layout, chunk=chunk)
            extra = "address = %d\n" % addr[0] if addr else ""
        fake = Fake([dev])
        port = free_port()
        gw = Gateway(gw_conf(port, [ble_pack("p", MAC_A, proto, extra=extra)]), port)
        try:
            c.ok(wait_until(lambda: online(port, 1), 20), label + ": online")
            from pymodbus.client import ModbusTcpClient
            cl = ModbusTcpClient("127.0.0.1", port=port)
            cl.connect()
            rr = cl.read_holding_registers(BASE, 125, slave=1)
            cl.close()
            regs = None if rr.isError() else rr.registers
            p = sim.state()["packs"][0]
            if c.ok(regs is not None, label + ": pymodbus reads the map"):
                c.near(ha_float(regs[10:12]), p["voltage"], 1e-3, label + ": voltage")
                if p.get("current") is None:  # a balancer unit: no pack current, absent reads 0, never a state
                    c.eq((regs[12], regs[13], regs[2], regs[104]), (0, 0, 0, 0), label + ": no current, state 0")
                else:
                    c.near(ha_float(regs[12:14]), p["current"], 1e-3, label + ": current")
                if p.get("soc") is not None:
                    c.eq(regs[60], round(p["soc"] * 10), label + ": SOC 0.1 %")
                cells = p["cells_mv"]
                c.eq(regs[20:36] + regs[83:99], (cells + [0] * 32)[:32], label + ": cells")
            if proto in NO_WRITES:
                st = fake.dev(MAC_A)
                c.eq((st["writes"], st["connects"]), (0, 1), label + ": nothing written, one connection")
            elif layout != "adv":
                st = fake.dev(MAC_A)
                c.ok(st["write_types"].get("command", 0) > 0 and not st["write_types"].get("request"),
                     label + ": requests written as Write Command (%s)" % st["write_types"])
                c.eq(st["connects"], 1, label + ": one connection")
        finally:
            if c.failed:
                gw.dump(20)
            gw.stop()
            fake.stop()
            sim.stop()


def test_recorded():
    print("== a recorded JBD exchange: 36-byte answer in 20 + 16 byte notifications")
    # github.com/syssi/esphome-jbd-bms docs/btsnoop_hci_jbd-sp04s034-l4s-200a-b-u.log (0x03),
    # the 0x04 answer of the same capture
    rec = [["DDA50300FFFD77",
            "DD0300 1D055A00006D5E6D6000002C7C00000000 00008064030403 0B6E0B6E0B6AFAEF77".replace(" ", "")],
           ["DDA50400FFFC77", "DD0400080D660D610D680D59FE3C77"]]
    fake = Fake([device(MAC_A, mode="recorded", records=rec, chunk=20)])
    conf = write_conf(gw_conf(free_port(), [ble_pack("rec", MAC_A)]))
    try:
        r = subprocess.run([EXE, "-c", conf, "--once"], capture_output=True, text=True, timeout=60)
        js = json.loads(r.stdout.splitlines()[0]) if r.stdout.strip() else {}
        c.eq(js.get("ok"), True, "recorded: --once ok")
        c.near(js.get("voltage"), 13.70, 0.001, "recorded: 13.70 V")
        c.near(js.get("soc"), 100, 0.01, "recorded: SOC 100 %")
        c.eq(js.get("cells_mv"), [3430, 3425, 3432, 3417], "recorded: 4 cells")
        c.eq(fake.dev(MAC_A)["notifies"], 3, "recorded: 20 + 16 + 15 bytes in 3 notifications")
    finally:
        fake.stop()
        os.unlink(conf)


# ------------------------------------------------------------------ faults

def log_count(gw, pattern):
    return len(re.findall(pattern, gw.text()))


def side_by_side(body):
    """Two BLE packs (units 1 and 2) and a TCP serial pack (unit 3), all jbd:
    body(port, (sa, sb, st), fake, gw, conf) once the three are online."""
    sa, sb, st = Sim(protocol="jbd"), Sim(protocol="jbd", packs=("soc=40",)), Sim(protocol="jbd", packs=("soc=80",))
    fake = Fake([device(MAC_A, sa, connect_delay=0.3), device(MAC_B, sb, connect_delay=0.3)])
    port = free_port()
    tcp = "[pack.wire]\nprotocol = jbd\nport = tcp://127.0.0.1:%d\nunit_id = 3\npoll_interval = 0.5\n" % st.port
    # a Connect given up after 3 s (the fake answers one in 0.3 s)
    conf = gw_conf(port, [ble_pack("a", MAC_A, unit=1), ble_pack("b", MAC_B, unit=2), tcp],
                   extra="", stale=3) + "[ble]\nconnect_timeout = 3\n"
    gw = Gateway(conf, port)
    try:
        c.ok(wait_until(lambda: online(port, 1) and online(port, 2) and online(port, 3), 20),
             "all three packs online")
        body(port, (sa, sb, st), fake, gw, conf)
    finally:
        if c.failed:
            gw.dump(40)
            fake.dump(10)
            print("   simulators alive: %s" % [s.alive() for s in (sa, sb, st)])
        gw.stop()
        fake.stop()
        for s in (sa, sb, st):
            s.stop()
    c.ok(fake.p.returncode is not None, "fake stopped")


def test_side_by_side_and_faults():
    print("== two BLE packs and a TCP serial pack; stale, InProgress, a cut record, silent notifications")
    side_by_side(faults_link)


def test_side_by_side_and_more_faults():
    print("== two BLE packs and a TCP serial pack; removal, a hung Connect, flapping, the adapter off, a reload")
    side_by_side(faults_adapter)


def faults_link(port, sims, fake, gw, conf):
    sa = sims[0]
    for unit, sim in zip((1, 2, 3), sims):
        c.ok(wait_until(lambda: matches(port, unit, sim), 5), "unit %d equals its simulator" % unit)
    s = fake.state()
    c.eq(s["adapters"]["hci0"]["max_pending_connects"], 1, "one Connect at a time on the adapter")
    c.eq(s["discovery_starts"], 0, "no discovery for devices BlueZ knows")

    # stale -> 0x0B -> recovery after a reconnect
    fake.ctl("connect %s fail 1000" % MAC_A)
    fake.ctl("disconnect %s" % MAC_A)
    t0 = time.monotonic()
    ok = wait_until(lambda: read_raw(port, 1, BASE, 2)[1] == 0x0B, 10)
    c.ok(ok, "a disconnected pack goes stale: 0x0B (%.1f s)" % (time.monotonic() - t0))
    c.ok(online(port, 2) and online(port, 3), "the other packs are served meanwhile")
    time.sleep(0.1)
    fake.ctl("connect %s fail 0" % MAC_A)
    t1 = time.monotonic()
    ok = wait_until(lambda: online(port, 1), 40)
    rt = time.monotonic() - t1
    c.ok(ok, "back after the reconnect")
    print("   figure: reconnect %.1f s after the fault cleared (backoff 1 s doubling, 30 s at most)" % rt)
    c.ok(wait_until(lambda: matches(port, 1, sa), 5), "and equal to the simulator")
    c.eq(log_count(gw, r"warn: link ble://%s: " % MAC_A), 1, "the outage is logged once")
    c.ok(re.search(r"link ble://%s: back after" % MAC_A, gw.text()) is not None, "its end is logged")

    # Connect "in progress"
    n0 = fake.dev(MAC_A)["connects"]
    fake.ctl("connect %s inprogress 2" % MAC_A)
    fake.ctl("disconnect %s" % MAC_A)
    c.ok(wait_until(lambda: not online(port, 1) or fake.dev(MAC_A)["connects"] > n0, 10), "link dropped")
    c.ok(wait_until(lambda: fake.dev(MAC_A)["connected"] and online(port, 1), 30),
         "org.bluez.Error.InProgress twice, then connected")
    c.ok(fake.dev(MAC_A)["connects"] - n0 >= 3, "... after %d Connect calls" % (fake.dev(MAC_A)["connects"] - n0))

    # a disconnect in the middle of a record
    fake.ctl("midrecord %s" % MAC_A)
    c.ok(wait_until(lambda: fake.dev(MAC_A)["drops"] >= 3, 10), "dropped in the middle of an answer")
    c.ok(wait_until(lambda: online(port, 1) and matches(port, 1, sa), 30), "recovered, values exact")

    # notifications that stop
    fake.ctl("mute %s 1" % MAC_A)
    c.ok(wait_until(lambda: "no notification from the BMS for 3 polls" in gw.text(), 15),
         "silent notifications: reconnect after 3 polls")
    fake.ctl("mute %s 0" % MAC_A)
    c.ok(wait_until(lambda: online(port, 1) and matches(port, 1, sa), 40), "notifications back: fresh again")


def faults_adapter(port, sims, fake, gw, conf):
    sb = sims[1]
    # the device removed from BlueZ (InterfacesRemoved): found again by discovery
    d0 = fake.state()["discovery_starts"]
    fake.ctl("remove %s" % MAC_A)
    c.ok(wait_until(lambda: not online(port, 1) or fake.state()["discovery_starts"] > d0, 10),
         "removal noticed")
    c.ok(wait_until(lambda: fake.dev(MAC_A)["connected"] and fake.dev(MAC_A)["exported"], 40),
         "rediscovered and connected")
    c.ok(fake.state()["discovery_starts"] > d0, "... through discovery")
    c.ok(wait_until(lambda: not fake.state()["adapters"]["hci0"]["discovering"], 10),
         "discovery stops once the device is known")
    c.ok(wait_until(lambda: online(port, 1), 20), "and fresh")

    # a Connect that never returns: the other device waits its turn
    fake.ctl("connect %s hang 1" % MAC_A)
    fake.ctl("disconnect %s" % MAC_A)
    c.ok(wait_until(lambda: fake.dev(MAC_A)["hanging"] == 1, 15), "a Connect hangs")
    th0 = time.monotonic()
    fake.ctl("disconnect %s" % MAC_B)
    c.ok(wait_until(lambda: fake.dev(MAC_A)["hanging"] == 0, 25), "the hung Connect is given up and cancelled "
         "(Disconnect) after %.1f s (connect_timeout 3 s)" % (time.monotonic() - th0))
    c.eq(fake.state()["adapters"]["hci0"]["max_pending_connects"], 1, "never two Connects at once")
    c.ok(wait_until(lambda: online(port, 1) and online(port, 2), 40), "both back")
    c.ok(wait_until(lambda: matches(port, 2, sb), 5), "the waiting one too, values exact")

    # Modbus is never held while a BLE link flaps and its Connect() takes
    # 2.5 s (a loop that waited on a D-Bus call would hold a read that long;
    # the latencies are make bench's figures, bench_ble.py)
    fake.ctl("connect_delay %s 2.5" % MAC_A)
    lat, stop = [], threading.Event()

    def reader():
        while not stop.is_set():
            for unit in (2, 3):
                _, _, dt = read_raw(port, unit, BASE, 125)
                lat.append(dt)

    th = threading.Thread(target=reader)
    th.start()
    t_end = time.monotonic() + 6
    flaps = 0
    while time.monotonic() < t_end:
        fake.ctl("disconnect %s" % MAC_A)
        flaps += 1
        time.sleep(0.3)
    stop.set()
    th.join()
    lat.sort()
    p99 = lat[int(len(lat) * 0.99) - 1] * 1000 if lat else 1e9
    print("   figure: %d Modbus reads while ble://%s flapped %d times: p50 %.2f ms, p99 %.2f ms, max %.2f ms"
          % (len(lat), MAC_A, flaps, lat[len(lat) // 2] * 1000, p99, lat[-1] * 1000))
    fake.ctl("connect_delay %s 0.3" % MAC_A)
    c.ok(len(lat) > 20 and lat[-1] < 1.25, "no Modbus read waits on a flapping BLE link's Connect() (max %.2f ms)"
         % (lat[-1] * 1000))
    c.ok(wait_until(lambda: online(port, 1), 40), "the flapping link comes back")

    # the adapter powered off
    fake.ctl("power hci0 0")
    c.ok(wait_until(lambda: read_raw(port, 1, BASE, 2)[1] == 0x0B and read_raw(port, 2, BASE, 2)[1] == 0x0B, 10),
         "adapter off: both BLE packs stale")
    c.ok(online(port, 3), "the TCP pack is not")
    fake.ctl("power hci0 1")
    c.ok(wait_until(lambda: online(port, 1) and online(port, 2), 40), "adapter on: both back")

    # reload keeps an unchanged BLE link
    n0 = fake.dev(MAC_B)["connects"]
    with open(gw.conf, "w") as f:
        f.write(conf.replace("unit_id = 3\npoll_interval = 0.5", "unit_id = 3\npoll_interval = 0.7"))
    gw.p.send_signal(1)
    c.ok(wait_until(lambda: "reload #1: applied" in gw.text(), 10), "reload applied")
    c.ok(re.search(r"3 link\(s\) kept", gw.text()) is not None, "the BLE links are kept")
    time.sleep(1)
    c.eq(fake.dev(MAC_B)["connects"], n0, "no new connection")
    c.ok(online(port, 2), "still fresh")


def test_unknown_device():
    print("== a device BlueZ does not know until discovery runs; Write Request only")
    sim = Sim(protocol="jbd")
    layout = [{"uuid": "ff00", "chars": [{"uuid": "ff01", "flags": ["notify"]},
                                        {"uuid": "ff02", "flags": ["read", "write"]}]}]
    fake = Fake([device(MAC_C, sim, known=False, layout=layout)])
    port = free_port()
    gw = Gateway(gw_conf(port, [ble_pack("c", MAC_C)]), port)
    try:
        c.ok(wait_until(lambda: online(port, 1), 30), "found by discovery, connected, fresh")
        s = fake.state()
        c.ok(s["discovery_starts"] >= 1, "discovery ran")
        flt = s["adapters"]["hci0"]["filters"]
        c.ok(bool(flt) and flt[-1].get("Transport") == "le" and flt[-1].get("DuplicateData") is True,
             "discovery filter Transport=le, DuplicateData (%s)" % flt)
        c.ok(wait_until(lambda: not fake.state()["adapters"]["hci0"]["discovering"], 5), "and stopped")
        c.ok(fake.dev(MAC_C)["write_types"].get("request", 0) > 0, "a characteristic without write-without-"
             "response gets Write Request")
        c.ok(matches(port, 1, sim), "values equal the simulator")
    finally:
        gw.stop()
        fake.stop()
        sim.stop()


def test_layout_flags():
    print("== characteristics with the same UUID told apart by their flags")
    sim = Sim(protocol="jbd")
    # a decoy FF01 that cannot notify before the real one, and a FF02 with
    # Write Request only before one with Write Command
    layout = [{"uuid": "ff00", "chars": [{"uuid": "ff01", "flags": ["read"]},
                                        {"uuid": "ff01", "flags": ["read", "notify"]},
                                        {"uuid": "ff02", "flags": ["write"]},
                                        {"uuid": "ff02", "flags": ["write-without-response"]}]}]
    fake = Fake([device(MAC_C, sim, layout=layout)])
    port = free_port()
    gw = Gateway(gw_conf(port, [ble_pack("c", MAC_C)]), port)
    try:
        c.ok(wait_until(lambda: online(port, 1), 20), "online")
        st = fake.dev(MAC_C)
        c.ok((st["notifying"] or "").endswith("/service0001/char0004"), "the FF01 that notifies (%s)" % st["notifying"])
        c.ok(st["write_types"].get("command", 0) > 0 and not st["write_types"].get("request"),
             "the FF02 with write without response, as Write Command (%s)" % st["write_types"])
        c.ok(matches(port, 1, sim), "values equal the simulator")
    finally:
        gw.stop()
        fake.stop()
        sim.stop()


def test_scan():
    print("== bmsgw --ble-scan")
    devs = [
        {"address": "A4:C1:38:11:22:33", "name": "xiaoxiang BMS", "rssi": -58, "mode": "none",
         "uuids": ["0000ff00-0000-1000-8000-00805f9b34fb"]},
        {"address": "C8:47:8C:11:22:33", "name": "JK-B2A24S15P", "rssi": -71, "mode": "none", "paired": True,
         "uuids": ["0000ffe0-0000-1000-8000-00805f9b34fb"]},
        {"address": "41:18:12:11:22:33", "name": "DL-41181211223", "rssi": -80, "mode": "none"},
        {"address": "E1:2B:DE:11:22:33", "name": "SmartShunt HQ2204", "rssi": -66, "mode": "none",
         "manufacturer": {"737": "100289a302b040af925d09a4d89aa0128bdef48c6298a9"}},
        {"address": "00:00:00:11:22:33", "name": "SomeHeadphones", "rssi": -90, "mode": "none", "uuids": []},
        {"address": "00:00:00:44:55:66", "name": "UnknownFffo", "rssi": -85, "mode": "none", "known": False,
         "uuids": ["0000fff0-0000-1000-8000-00805f9b34fb"]},
        # a NEEY balancer (FFE0 and FEE7: its name, not JK's service, decides), a name
        # that is not one (FFE0 alone: jk-ble), a SOK (FFF0: its name, not Daly's service)
        {"address": "3C:A5:51:11:22:33", "name": "GW-24S4EB", "rssi": -70, "mode": "none",
         "uuids": ["0000ffe0-0000-1000-8000-00805f9b34fb", "0000fee7-0000-1000-8000-00805f9b34fb"]},
        {"address": "3C:A5:51:44:55:66", "name": "EK-Audio", "rssi": -75, "mode": "none",
         "uuids": ["0000ffe0-0000-1000-8000-00805f9b34fb"]},
        {"address": "D6:6C:0A:11:22:33", "name": "SOK-24V1127", "rssi": -94, "mode": "none",
         "uuids": ["0000fff0-0000-1000-8000-00805f9b34fb"]},
    ]
    fake = Fake(devs)
    try:
        r = subprocess.run([EXE, "--ble-scan", "2"], capture_output=True, text=True, timeout=30)
        out = r.stdout
        print("\n".join("   " + x for x in out.splitlines()))
        c.eq(r.returncode, 0, "--ble-scan exits 0 without a configuration")
        rows = {l.split()[0]: l for l in out.splitlines()[1:] if re.match(r"[0-9A-F]{2}:", l)}
        c.eq(len(rows), 9, "every device listed (a new one appears during the scan)")
        want = {"A4:C1:38:11:22:33": "jbd", "C8:47:8C:11:22:33": "jk-ble", "41:18:12:11:22:33": "daly-modbus",
                "E1:2B:DE:11:22:33": "victron-ble", "00:00:00:11:22:33": "-", "00:00:00:44:55:66": "daly",
                "3C:A5:51:11:22:33": "neey", "3C:A5:51:44:55:66": "jk-ble", "D6:6C:0A:11:22:33": "abc"}
        for mac, proto in want.items():
            c.ok(mac in rows and rows[mac].split()[3 if proto != "-" else 3] is not None and
                 re.search(r"\s%s\s" % re.escape(proto), rows.get(mac, "")) is not None,
                 "%s classified %s" % (mac, proto))
        c.ok("-58" in rows.get("A4:C1:38:11:22:33", ""), "RSSI shown")
        c.ok("bluetoothctl pair A4:C1:38:11:22:33" in rows.get("A4:C1:38:11:22:33", ""),
             "an unpaired JBD: the pairing hint")
        c.ok("bluetoothctl pair" not in rows.get("C8:47:8C:11:22:33", ""), "a paired JK: no hint")
        c.ok(re.search(r"^ADDRESS\s+RSSI\s+NAME\s+PROTOCOL", out, re.M) is not None, "a header line")
        c.ok(wait_until(lambda: not fake.state()["adapters"]["hci0"]["discovering"], 10),
             "discovery stopped at the end")
        fake.ctl("power hci0 0")
        r = subprocess.run([EXE, "--ble-scan", "1"], capture_output=True, text=True, timeout=30)
        c.ok(r.returncode == 1 and "powered off" in r.stderr, "adapter off: a clear error (%s)" % r.stderr.strip())
        r = subprocess.run([EXE, "--ble-scan=0"], capture_output=True, text=True, timeout=30)
        c.eq(r.returncode, 2, "--ble-scan=0 refused")
    finally:
        fake.stop()
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS="unix:path=/nonexistent/bus")
    r = subprocess.run([EXE, "--ble-scan", "1"], capture_output=True, text=True, timeout=30, env=env)
    c.ok(r.returncode == 1 and "system bus" in r.stderr, "no bus: a clear error (%s)" % r.stderr.strip())


def test_mqtt():
    print("== MQTT state and availability of a BLE pack (real Mosquitto)")
    from mqtt_harness import Broker, Subscriber
    broker = Broker()
    sim = Sim(protocol="jbd")
    fake = Fake([device(MAC_A, sim)])
    port = free_port()
    conf = gw_conf(port, [ble_pack("boat", MAC_A)]) + (
        "[mqtt]\nhost = 127.0.0.1\nport = %d\nclient_id = t1\ntopic_prefix = site/bmsgw\n" % broker.port)
    sub = Subscriber(broker.port, topics=("site/#",))
    gw = Gateway(conf, port)
    try:
        m = sub.wait_for("site/bmsgw/boat/state", lambda m: bool(m.payload), 20)
        js = json.loads(m.text()) if m else {}
        c.near(js.get("voltage"), sim.state()["packs"][0]["voltage"], 0.006, "mqtt: state voltage")
        c.ok(sub.wait_for("site/bmsgw/boat/availability", lambda m: m.text() == "online", 10) is not None,
             "mqtt: online")
        t0 = time.monotonic()
        fake.ctl("connect %s fail 1000" % MAC_A)
        fake.ctl("disconnect %s" % MAC_A)
        m = sub.wait_for("site/bmsgw/boat/availability", lambda m: m.text() == "offline", 10, since=t0)
        c.ok(m is not None, "mqtt: offline while the BLE link is down (%.1f s)" % ((m.t - t0) if m else -1))
        fake.ctl("connect %s fail 0" % MAC_A)
        m = sub.wait_for("site/bmsgw/boat/availability", lambda m: m.text() == "online", 40, since=t0)
        c.ok(m is not None, "mqtt: online again after the reconnect")
    finally:
        gw.stop()
        sub.close() if hasattr(sub, "close") else None
        fake.stop()
        sim.stop()
        broker.cleanup()


def test_config():
    print("== configuration")
    cases = [
        ("protocol = jbd\nport = ble://A4:C1:38:00:00:0G\n", ":5: [pack.x] port", "not a Bluetooth address"),
        ("protocol = jbd\nport = ble://A4:C1:38:00:00:01\nbaud = 9600\n", ":6: [pack.x] baud", "no baud rate"),
        ("protocol = jbd\nport = ble://A4:C1:38:00:00:01\nkey = 00112233445566778899aabbccddeeff\n",
         ":6: [pack.x] key", "takes no key"),
        ("protocol = pylontech\nport = ble://A4:C1:38:00:00:01\n", ":5: [pack.x] port", "not spoken over Bluetooth"),
    ]
    for body, where, what in cases:
        conf = write_conf("[gateway]\nstate_file = none\n[pack.x]\n" + body)
        r = subprocess.run([EXE, "-c", conf, "--check"], capture_output=True, text=True)
        c.ok(r.returncode == 1 and where in r.stderr and what in r.stderr, "refused: %s" % r.stderr.strip())
        os.unlink(conf)
    conf = write_conf("[gateway]\nstate_file = none\n[ble]\nadapter = hci1\n[pack.x]\nprotocol = jbd\n"
                      "port = ble://a4-c1-38-00-00-01\n")
    r = subprocess.run([EXE, "-c", conf, "--check"], capture_output=True, text=True)
    c.ok(r.returncode == 0 and "ble A4:C1:38:00:00:01" in r.stdout and "adapter       hci1" in r.stdout,
         "--check shows the BLE link and the adapter")
    nosd = os.path.join(ROOT, "build/nosystemd/bmsgw")
    if os.path.exists(nosd):
        r = subprocess.run([nosd, "-c", conf, "--check"], capture_output=True, text=True)
        c.ok(r.returncode == 1 and "built without Bluetooth support" in r.stderr,
             "without libsystemd: a clear error (%s)" % r.stderr.strip())
        r = subprocess.run([nosd, "--ble-scan", "1"], capture_output=True, text=True)
        c.ok(r.returncode == 1 and "built without Bluetooth support" in r.stderr, "--ble-scan too")
    else:
        print("skip the build without libsystemd: make nosystemd")
    os.unlink(conf)


def test_control():
    """MOSFET commands over the air: jbd (acknowledged), daly (host 0x80),
    daly-modbus (the D2 dialect's writes), jk-ble (no acknowledgement: judged
    by the read-back); and a victron-ble
    shunt whose key is wrong, named in the log."""
    print("== MOSFET control over BLE; a wrong advertisement key")
    from pymodbus.client import ModbusTcpClient
    for proto, layout, chunk, opts in (("jbd", "jbd", 20, ""), ("daly", "daly", 13, ""),
                                       ("daly-modbus", "daly", 0, ",dialect=d2"), ("jk-ble", "jk-ble", 128, "")):
        sim = Sim(protocol=proto, packs=("address=1" + opts,))
        fake = Fake([device(MAC_A, sim, layout=layout, chunk=chunk)])
        port, http = free_port(), free_port()
        gw = Gateway(gw_conf(port, [ble_pack("p", MAC_A, proto, extra="control = true\ncontrol_timeout = 5\n")],
                             extra="control_clients = 127.0.0.1\n") + "[http]\nlisten = 127.0.0.1:%d\n" % http, port)
        try:
            c.ok(wait_until(lambda: online(port, 1), 20), "%s over BLE: online" % proto)
            if proto == "daly-modbus":  # the D2 settings read with control, shown read only (§14.2)
                st = (wait_until(lambda: (lambda x: x if (x.get("cell_ovp_v") or {}).get("value") is not None else None)(
                    (api_pack(http, "p") or {}).get("settings_bms") or {}), 10) or {})
                got = {k: (st.get(k) or {}).get("value") for k in ("cell_ovp_v", "pack_uvp_v", "discharge_utp_c",
                                                                    "balance_delta_v", "cell_count")}
                c.eq(got, {"cell_ovp_v": 3.5, "pack_uvp_v": 41.6, "discharge_utp_c": -1, "balance_delta_v": 0.02,
                           "cell_count": 16}, "daly-modbus over BLE: settings_bms from the D2 settings")
                c.eq(((st.get("charge_ocp_a") or {}).get("value"), (st.get("discharge_ocp_a") or {}).get("value")),
                     (10.0, 16.0), "daly-modbus over BLE: the over-current levels as magnitudes (signs contradict)")
                c.ok((st.get("balancer") or {}).get("value") is None,
                     "daly-modbus over BLE: the balancer switch is read for bms_settings only")
            cl = ModbusTcpClient("127.0.0.1", port=port, timeout=8)
            cl.connect()
            t0 = time.monotonic()
            rr = cl.write_register(BASE + 17, 0, slave=1)
            dt = time.monotonic() - t0
            c.ok(not rr.isError(), "%s over BLE: discharge MOSFET off answered normally (%.2f s)" % (proto, dt))
            c.eq(sim.state()["packs"][0]["dsg_mos"], 0, "%s over BLE: the simulated BMS switched it off" % proto)
            regs = cl.read_holding_registers(BASE + 17, 2, slave=1)
            c.ok(not regs.isError() and regs.registers[0] == 0, "%s over BLE: register 17 reads 0 after the reply"
                 % proto)
            rr = cl.write_register(BASE + 17, 1, slave=1)
            if rr.isError():  # one command per second
                time.sleep(1.1)
                rr = cl.write_register(BASE + 17, 1, slave=1)
            c.ok(not rr.isError() and sim.state()["packs"][0]["dsg_mos"] == 1, "%s over BLE: and on again" % proto)
            cl.close()
        finally:
            if c.failed:
                gw.dump(20)
            gw.stop()
            fake.stop()
            sim.stop()
    sim = Sim(protocol="victron-ble", packs=("key=00112233445566778899aabbccddeeff",))
    fake = Fake([{"address": MAC_A, "name": "SmartShunt", "mode": "adv", "sim": "127.0.0.1:%d" % sim.port}])
    port = free_port()
    gw = Gateway(gw_conf(port, [ble_pack("shunt", MAC_A, "victron-ble",
                                         extra="key = ffeeddccbbaa99887766554433221100\ntimeout = 3\nretries = 0\n")]),
                 port)
    try:
        c.ok(wait_until(lambda: "encrypted with another key than the pack's key =" in gw.text(), 20),
             "victron-ble with a wrong key: the log says so")
        c.ok(not online(port, 1), "... and the shunt is never shown with data")
    finally:
        if c.failed:
            gw.dump(20)
            fake.dump(20)
        gw.stop()
        fake.stop()
        sim.stop()


# ------------------------------------------------------------------ LiTime, Tian Power, E&J, ANT

NUS = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
# (protocol, GATT layout, advertised name, manufacturer data, services, the
# simulated pack's options): the advertisements as aiobmsble's samples show
# them (its test_data); an E&J in its single-frame variant (an older
# LiTime's name; a Chins "G-" name is chins-nus's, run by test_families), a Supervolt
# whose module puts "AT\r\n" before and inside its answers; an ANT board
# by its name (syssi's btsnoop of an ANT-BLE16ZMUB).
BLE1 = [
    ("litime", "litime", "L-12100BNNA70-A09683", {"22618": "c8478015d834"},
     ["0000ffe0-0000-1000-8000-00805f9b34fb"], "cells=4,sensors=1"),
    ("tianpower", "tianpower", "TP_123456", {}, [], "cells=16,sensors=4"),
    ("chins", "nus", "L-12V100AH-0902", {}, [NUS], "cells=4,dialect=sf,capacity=300"),
    ("chins", "nus", "SV12V150224041", {"33384": "01020007a030f7"}, [NUS], "cells=4,junk=1,current=-7.5"),
    ("ant", "ant", "ANT-BLE16ZMUB", {}, ["0000ffe0-0000-1000-8000-00805f9b34fb"], "cells=16,sensors=2"),
    ("humsienk", "humsienk", "HS12V100", {}, ["00000001-0000-1000-8000-00805f9b34fb"], "cells=4,sensors=5"),
    ("ks48", "ks48", "BL-250-100-100", {}, ["0000ff00-0000-1000-8000-00805f9b34fb"], "cells=16,sensors=4"),
    ("basen", "basen", "BG-24100", {}, ["0000fa00-0000-1000-8000-00805f9b34fb"], "cells=8,sensors=4,junk=1"),
    ("roypow", "roypow", " B12100B", {}, ["0000ffe0-0000-1000-8000-00805f9b34fb"], "cells=4,sensors=4,junk=1"),
    # Offgridtec: the key comes from the advertised name (SmartBat-A10007: 0x1A), the simulator's id= the same
    ("ogt", "ogt", "SmartBat-A10007", {}, ["0000fff0-0000-1000-8000-00805f9b34fb"], "cells=4,id=10007,mos_temp=27"),
    ("paceex", "paceex", "PC-1234", {}, ["0000fff0-0000-1000-8000-00805f9b34fb"], "cells=16,sensors=4,junk=1"),
]
BLE1_MACS = ["C8:47:80:00:01:%02X" % (i + 1) for i in range(len(BLE1))]
def values(st):
    """The values a fake device was written (hex), whatever characteristic
    took them."""
    return [w.split(":", 1)[1] for w in st["written"]]


# The only requests a protocol may write (hex, as values() gives them): its
# read requests, nothing else.
READS = {"ks48": {"7bf4007d", "7b0b007d", "7b01007d", "7b02007d", "7b03007d",
                  "7b04007d", "7b05007d", "7b06007d", "7b07007d"},  # + the settings reads, rarely
         "basen": {"3a162a010041000d0a", "3a162b010042000d0a", "3a162401003b000d0a", "3a162501003c000d0a",
                   "3a162601003d000d0a"},
         "roypow": {"ead10104ff02f9f5", "ead10104ff03f8f5", "ead10104ff04fff5"},
         # the seven register reads under the key 0x1A (+RAA0201, 0403, 0603, 0802, 0C02, 1003, 2C02)
         "ogt": {"31485b5b28592a28", "31485b5b2a222a28", "31485b5b2a282a2b", "31485b5b2a2c2a29",
                 "31485b5b2a2e2a29", "31485b5b2a592a28", "31485b5b2b2a2a29",
                 "31485b5b29592a29"},  # + the design capacity 0x3C (+RAA3C03), rarely
         "paceex": {"9a00000a0000000019519d", "9a00000a020000020101289c9d"}}


def ble1_check(label, regs, pk, js, p, proto):
    """One pack's Modbus registers, /api/state object and MQTT state against
    the simulator's view of it."""
    c.near(ha_float(regs[10:12]), p["voltage"], 1e-3, label + ": Modbus voltage")
    c.near(ha_float(regs[12:14]), p["current"], 1e-3, label + ": Modbus current")
    c.eq(regs[60], round(p["soc"] * 10), label + ": Modbus SOC 0.1 %")
    c.eq(regs[20:36] + regs[83:99], (p["cells_mv"] + [0] * 32)[:32], label + ": Modbus cells")
    c.eq(regs[61], round(p["soh"]) if p["soh"] is not None else 0, label + ": Modbus SOH (0 = absent)")
    if proto == "ogt":  # 0.1 K: the degC value ends in .x5 (either rounding), the simulator prints 0.1 degC
        c.ok(abs(regs[66] - p["mos_temp_c"] * 10) <= 1.01, label + ": Modbus MOS temperature (0.1 K)")
    else:
        c.eq(regs[66], round(p["mos_temp_c"] * 10) & 0xFFFF if p["mos_temp_c"] is not None else 0x8000,
             label + ": Modbus MOS temperature (0x8000 = absent)")
    for where, o in (("/api/state", pk), ("MQTT", js)):
        c.near(o.get("voltage"), p["voltage"], 0.006, "%s: %s voltage" % (label, where))
        c.near(o.get("current"), p["current"], 0.006, "%s: %s current" % (label, where))
        c.eq(o.get("cells_mv"), p["cells_mv"], "%s: %s cells" % (label, where))
        c.eq([round(t, 1) for t in o.get("temps_c") or []], [float(t) for t in p["temps_c"]],
             "%s: %s temperatures" % (label, where))
        for key in ("soc", "soh", "remaining_ah", "mos_temp_c"):
            if p[key] is None:
                c.eq(o.get(key), None, "%s: %s %s absent (null)" % (label, where, key))
            else:  # ogt's 0.1 K ends in .x5 degC: the simulator prints 0.1 degC
                c.near(o.get(key), p[key], 0.11 if proto == "ogt" and key == "mos_temp_c" else 0.006,
                       "%s: %s %s" % (label, where, key))
        if p["chg_mos"] is None:
            c.eq(o.get("charge_mos"), None, "%s: %s MOSFETs absent (null)" % (label, where))
        else:
            c.eq((o.get("charge_mos"), o.get("discharge_mos")), (bool(p["chg_mos"]), bool(p["dsg_mos"])),
                 "%s: %s MOSFETs" % (label, where))
    ident = pk.get("bms")
    if proto == "tianpower":
        c.ok(ident is not None and ident.get("model") == "TP-LT55" and ident.get("firmware") == "0.1.10",
             label + ": the identity (0x81, 0x82) in /api/state (%r)" % ident)
    elif proto == "ant":
        c.ok(ident is not None and ident.get("model") == "16ZM" and ident.get("firmware") == "16ZMUB00-211026A",
             label + ": the identity (the device information 0x02) in /api/state (%r)" % ident)
    elif proto == "tdt":
        c.ok(ident is not None and ident.get("firmware") == "WT30_10004SW14_L_01" and
             ident.get("serial") == "60326016207270001", label + ": the identity (0x92) in /api/state (%r)" % ident)
    elif proto == "humsienk":
        c.ok(ident is not None and ident.get("model") == "BMC-04S001" and ident.get("firmware") == "V02",
             label + ": the identity (0x11, 0xF5) in /api/state (%r)" % ident)
    elif proto == "ks48":
        c.ok(ident is not None and ident.get("firmware") == "2.3.1" and
             ident.get("pack_serial") == "CER2410-018-030-023",
             label + ": the identity (0xF4, 0x0B) in /api/state (%r)" % ident)
    else:
        c.eq(ident, None, label + ": no identity (the protocol's is not read)")


def test_ble1_brands():
    """LiTime, Tian Power and E&J: advertisement -> --ble-scan names it ->
    connect -> notify -> decode -> Modbus, /api/state, MQTT and its Home
    Assistant discovery; the first reading's time after start."""
    print("== LiTime, Tian Power, E&J: from the advertisement to Modbus, /api/state and MQTT")
    from mqtt_harness import Broker, Subscriber, retained
    sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
    from ha_discovery import check as ha_check
    sims, devs = [], []
    for mac, (proto, layout, name, mfr, uuids, opts) in zip(BLE1_MACS, BLE1):
        sim = Sim(protocol=proto, packs=("address=1," + opts,))
        sims.append(sim)
        devs.append(device(mac, sim, layout=layout, chunk=20, name=name, manufacturer=mfr, uuids=uuids))
    fake = Fake(devs)
    broker = Broker()
    gw = sub = None
    try:
        r = subprocess.run([EXE, "--ble-scan", "2"], capture_output=True, text=True, timeout=30)
        rows = {l.split()[0]: l for l in r.stdout.splitlines()[1:] if re.match(r"[0-9A-F]{2}:", l)}
        for mac, (proto, _, name, _, _, _) in zip(BLE1_MACS, BLE1):
            c.ok(re.search(r"\s%s\s" % re.escape(proto), rows.get(mac, "")) is not None,
                 "--ble-scan names %s %s (%s)" % (name, proto, rows.get(mac, "").strip()))
        c.ok(wait_until(lambda: not fake.state()["adapters"]["hci0"]["discovering"], 10), "discovery stopped")
        port, http = free_port(), free_port()
        packs = [ble_pack("b%d" % (i + 1), mac, proto, unit=i + 1)
                 for i, (mac, (proto, *_)) in enumerate(zip(BLE1_MACS, BLE1))]
        # one connection each: the adapter may hold them all ([ble] max_connections; turns: test_turns)
        conf = gw_conf(port, packs, extra="[ble]\nmax_connections = %d\n" % len(BLE1)) + \
            "[http]\nlisten = 127.0.0.1:%d\n" % http + (
            "[mqtt]\nhost = 127.0.0.1\nport = %d\nclient_id = t1\ntopic_prefix = site/bmsgw\n" % broker.port)
        sub = Subscriber(broker.port, topics=("site/#", "homeassistant/#"))
        t0 = time.monotonic()
        gw = Gateway(conf, port)
        firsts = []
        for i in range(len(BLE1)):
            ok = wait_until(lambda: online(port, i + 1), 30)
            firsts.append(time.monotonic() - t0)
            c.ok(ok, "%s (%s) online" % (BLE1[i][0], BLE1[i][2]))
        print("   figure: first reading after start: %s (one Connect at a time on the adapter)" %
              ", ".join("%s %.2f s" % (BLE1[i][2], t) for i, t in enumerate(firsts)))
        state = api_state(http)
        for i, (proto, _, name, *_rest) in enumerate(BLE1):
            label = "%s %s" % (proto, name)
            p = sims[i].state()["packs"][0]
            regs, _, _ = read_raw(port, i + 1, BASE, 125)
            m = sub.wait_for("site/bmsgw/b%d/state" % (i + 1), lambda m: bool(m.payload), 10)
            js = json.loads(m.text()) if m else {}
            pk = next((x for x in state.get("packs", []) if x.get("pack") == "b%d" % (i + 1)), {})
            if c.ok(regs is not None and pk and js, label + ": Modbus, /api/state and MQTT answer"):
                ble1_check(label, regs, pk, js, p, proto)
            st = fake.dev(BLE1_MACS[i])
            c.ok(st["write_types"].get("command", 0) > 0 and st["connects"] == 1,
                 label + ": one connection, requests as Write Command (%s)" % st["write_types"])
            if proto in READS:
                c.ok(st["written"] and set(values(st)) <= READS[proto],
                     label + ": only its read requests written (%s)" % " ".join(st["written"]))
        known = {t: m.text() for t, m in retained(broker.port, "site/#").items()}
        configs = {t: m.text() for t, m in retained(broker.port, "homeassistant/#").items() if m.payload}
        c.eq(ha_check(configs, known)[:5], [], "Home Assistant discovery of the four packs passes HA's rules")
        for i, (proto, *_rest) in enumerate(BLE1):
            ent = {t.split("/")[-2] for t in configs if "/bmsgw_t1_b%d/" % (i + 1) in t}
            p = sims[i].state()["packs"][0]
            # LiTime and PACEEX send no MOSFET state (their frames read have none)
            c.eq(("soh" in ent, "mos_temperature" in ent, "charge_mos" in ent),
                 (p["soh"] is not None, p["mos_temp_c"] is not None, proto not in ("litime", "ogt", "paceex")),
                 "%s: SOH, MOS temperature and MOSFET entities exactly where the protocol has them" % proto)
        c.eq([l for l in (state.get("links") or []) if l.get("checksum_errors")], [],
             "no checksum errors on the links")
        # the simulator's faults: two answers with a bad checksum (Tian Power:
        # a bad end byte), counted on the link; the next poll is good again
        for i, (proto, *_rest) in enumerate(BLE1):
            sims[i].ctl("fault 1 badsum 2")

        def errors(i):
            link = next((l for l in (api_state(http).get("links") or []) if l.get("packs") == ["b%d" % (i + 1)]), {})
            return link.get("checksum_errors", 0)
        for i, (proto, _, name, *_rest) in enumerate(BLE1):
            c.ok(wait_until(lambda: errors(i) >= 1, 15), "%s %s: bad answers counted as checksum errors (%d)"
                 % (proto, name, errors(i)))
            c.ok(wait_until(lambda: sims[i].state()["packs"][0]["fault"] == "none" and matches(port, i + 1, sims[i]),
                            15), "%s %s: good again after the fault" % (proto, name))
    finally:
        if c.failed and gw:
            gw.dump(30)
        if gw:
            gw.stop()
        if sub and hasattr(sub, "close"):
            sub.close()
        fake.stop()
        for sim in sims:
            sim.stop()
# ------------------------------------------------------------------ issue 35 families

FFE0, FEE7, FFF0 = ("0000%s-0000-1000-8000-00805f9b34fb" % u for u in ("ffe0", "fee7", "fff0"))


def api_pack(http_port, name):
    """The pack `name` of /api/state, or None."""
    import urllib.request
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/api/state" % http_port, timeout=5) as r:
            js = json.loads(r.read().decode())
    except (OSError, ValueError):
        return None
    return next((p for p in js.get("packs", []) if p.get("pack") == name), None)


def scan_names(mac, name, proto):
    """--ble-scan lists mac with its name, classified proto."""
    r = subprocess.run([EXE, "--ble-scan", "2"], capture_output=True, text=True, timeout=30)
    row = next((l for l in r.stdout.splitlines() if l.startswith(mac)), "")
    c.ok(name in row and re.search(r"\s%s\s" % re.escape(proto), row) is not None,
         "--ble-scan names %s %s (%s)" % (name, proto, row.strip()))


def lims(port, unit):
    """Registers 46-50 (CVL, CCL, DCL, DVL, flags) of a unit, or None."""
    regs, _, _ = read_raw(port, unit, BASE + 46, 5)
    return regs


def test_balancer():
    """A NEEY balancer beside a BMS in one bank: advertisement -> --ble-scan
    names it -> connect -> the balancer unit (no current, SOC or state; its
    balancing current and state, cell resistances) over Modbus, /api/state
    and MQTT with its discovery; the bank's current, SOC, capacities and
    limits are the BMS's alone; the balancer gone stale changes none of them
    (no stale member, no fail-safe); the BMS gone makes the bank fail-safe
    though the balancer is fresh."""
    print("== a NEEY balancer beside a BMS in one bank (Modbus, /api/state, MQTT)")
    from mqtt_harness import Broker, Subscriber
    sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
    from ha_discovery import check as ha_check
    broker = Broker()
    bms = Sim(protocol="jbd", packs=("address=1,current=12,soc=60,capacity=280",))
    bal = Sim(protocol="neey", packs=("address=1,current=8",))
    fake = Fake([device(MAC_A, bal, layout="neey", chunk=20, name="GW-24S4EB", uuids=[FFE0, FEE7])])
    port, http = free_port(), free_port()
    wire = "[pack.bms]\nprotocol = jbd\nport = tcp://127.0.0.1:%d\nunit_id = 1\npoll_interval = 0.5\n" % bms.port
    conf = gw_conf(port, [wire, ble_pack("bal", MAC_A, "neey", unit=2)]) + (
        "[bank]\nunit_id = 10\n[limits]\n[http]\nlisten = 127.0.0.1:%d\n[history]\nfile = none\n"
        "[mqtt]\nhost = 127.0.0.1\nport = %d\nclient_id = nb\ntopic_prefix = nb\n" % (http, broker.port))
    sub = Subscriber(broker.port, topics=("nb/#", "homeassistant/#"))
    scan_names(MAC_A, "GW-24S4EB", "neey")
    gw = Gateway(conf, port)
    try:
        c.ok(wait_until(lambda: online(port, 1) and online(port, 2) and online(port, 10), 20),
             "balancer: the BMS, the balancer and the bank online")
        balancer_unit(port, http, bal)
        balancer_mqtt(sub, bal, ha_check)
        balancer_bank(port, http, bms, fake)
    finally:
        if c.failed:
            gw.dump(30)
        gw.stop()
        sub.close() if hasattr(sub, "close") else None
        fake.stop()
        bal.stop()
        bms.stop()
        broker.cleanup()


def balancer_unit(port, http, bal):
    """The balancer's own unit: its cells and temperatures; no current, SOC,
    capacity or state (absent); its values in /api/state."""
    p = bal.state()["packs"][0]
    regs, _, _ = read_raw(port, 2, BASE, 125)
    if not c.ok(regs is not None, "balancer: its unit reads"):
        return
    c.near(ha_float(regs[10:12]), p["voltage"], 1e-3, "balancer: voltage")
    c.eq(regs[20:36], p["cells_mv"][:16], "balancer: cells")
    c.eq((regs[67], regs[68]), (250, 260), "balancer: T1, T2 (0.1 degC)")
    c.eq((regs[0], regs[2], regs[12], regs[13], regs[44], regs[60], regs[62], regs[104]), (0,) * 8,
         "balancer: SOC, current, remaining, full capacity, state absent (0)")
    c.eq(regs[66], 0x8000, "balancer: no MOS temperature in the v1 frames (0x8000)")
    c.eq(regs[75:77], [0, 0], "balancer: no per-cell balancing bits (it does not say which)")
    pk = wait_until(lambda: api_pack(http, "bal"), 10) or {}
    c.eq((pk.get("current"), pk.get("soc"), pk.get("power"), pk.get("full_ah"), pk.get("state"), pk.get("charging")),
         (None,) * 6, "balancer /api/state: current, SOC, power, capacity, state, charging null")
    c.near(pk.get("balance_current_a"), p["balance_current"], 1e-3, "balancer /api/state: balancing current")
    c.eq((pk.get("balancer_status"), pk.get("balancer_state"), pk.get("balancing_any")), (5, "balancing", True),
         "balancer /api/state: balancing")
    res = pk.get("cell_res_mohm") or []
    c.ok(len(res) == 16 and all(abs(a - b) < 0.05 for a, b in zip(res, p["cell_res_mohm"])),
         "balancer /api/state: cell resistances (%s)" % res[:3])
    c.eq((pk.get("bms") or {}).get("model"), "GW-24S4EB", "balancer /api/state: its model")
    # its v1 settings answer, shown read only (bms/PROTOCOLS.md §32.7; tests/sim/sim_neey.c's values)
    st = pk.get("settings_bms") or {}
    got = {k: (st.get(k) or {}).get("value") for k in ("cell_count", "balance_delta_v", "balance_current_a",
                                                        "balance_start_v")}
    c.ok(got["cell_count"] == 16 and abs((got["balance_delta_v"] or 0) - 0.004) < 1e-6 and
         got["balance_current_a"] == 2.0 and abs((got["balance_start_v"] or 0) - 3.35) < 1e-6,
         "balancer /api/state: settings_bms from the v1 settings (%s)" % got)
    c.ok((st.get("capacity_ah") or {}).get("value", 0) > 0 and (st.get("cell_ovp_v") or {}).get("value") is None,
         "balancer /api/state: its capacity setting; no cell OVP in the v1 frame")


def balancer_mqtt(sub, bal, ha_check):
    """The balancer's MQTT state and its discovery: a balancer's sensors,
    none for what it does not measure."""
    m = sub.wait_for("nb/bal/state", lambda m: bool(m.payload) and m.json().get("cell_res_mohm"), 20)
    js = m.json() if m else {}
    c.ok(js.get("current", 0) is None and js.get("state", 0) is None, "balancer mqtt: current and state null")
    c.near(js.get("balance_current_a"), bal.state()["packs"][0]["balance_current"], 1e-3,
           "balancer mqtt: balancing current")
    pre = "homeassistant/sensor/bmsgw_nb_bal/"
    c.ok(sub.wait_for(pre + "balance_current/config", timeout=10) is not None and
         sub.wait_for(pre + "cell_resistance_16/config", timeout=10) is not None,
         "balancer discovery: balancing current and 16 cell resistances")
    c.ok(sub.wait_for(pre + "bms_balance_start_v/config", timeout=10) is not None,
         "balancer discovery: its settings as diagnostic sensors (bms_balance_start_v)")
    c.eq([t for t in (pre + "current/config", pre + "soc/config", pre + "power/config") if sub.latest(t)], [],
         "balancer discovery: no current, SOC or power sensor")
    configs = {m.topic: m.text() for m in sub.all("homeassistant/#") if m.payload}
    c.eq(ha_check(configs), [], "balancer discovery: Home Assistant's rules")


def balancer_bank(port, http, bms, fake):
    """The bank: the BMS's current, SOC, capacities and limits; the balancer
    gone changes none of them; the BMS gone makes it fail-safe."""
    def same(u_regs, b_regs):
        return u_regs and b_regs and u_regs[:4] == b_regs[:4] and (b_regs[4] & 0x60) == 0
    def bank_is_bms():
        u, b = read_raw(port, 1, BASE, 125)[0], read_raw(port, 10, BASE, 125)[0]
        if not u or not b:
            return None
        keys = (0, 2, 12, 13, 44, 60, 62)  # SOC, current, remaining, SOC 0.1 %, full capacity
        return (u, b) if all(u[k] == b[k] for k in keys) and same(u[46:51], b[46:51]) else None
    got = wait_until(bank_is_bms, 15)
    c.ok(got is not None, "bank: current, SOC, remaining and full capacity, CVL/CCL/DCL/DVL are the BMS's")
    if got:
        u, b = got
        print("   bank CCL %.1f A = the BMS's %.1f A (the balancer adds no share)" % (b[47] / 10, u[47] / 10))
        c.ok(b[62] > 0 and b[47] > 0, "bank: a full capacity and a CCL at all")
        c.eq(b[105:107], [2, 2], "bank: 2 units online of 2")
    fake.ctl("connect %s fail 1000" % MAC_A)
    fake.ctl("disconnect %s" % MAC_A)
    c.ok(wait_until(lambda: read_raw(port, 2, BASE, 2)[1] == 0x0B, 15), "bank: the balancer goes stale")
    time.sleep(1.5)  # the limits step once a second: two steps with the balancer stale
    c.ok(bank_is_bms() is not None, "bank: the balancer stale, still the BMS's values and limits, no stale-member "
         "or fail-safe bit")
    c.ok(online(port, 10), "bank: online")
    # a balancer is no pack: gone stale, it is no missing pack (issue 44 item 8)
    flag = read_raw(port, 10, BASE + 45, 1)[0]
    bank = api_state(http).get("bank") or {}
    c.eq((flag, bank.get("pack_missing"), bank.get("missing_packs")), ([0], False, []),
         "bank: the balancer stale is no missing pack: failure flag 0, pack_missing false, missing_packs []")
    fake.ctl("connect %s fail 0" % MAC_A)
    c.ok(wait_until(lambda: online(port, 2), 40), "bank: the balancer back")
    bms.ctl("fault 1 silent")
    c.ok(wait_until(lambda: (lambda r: r is not None and r[4] & 0x20 and r[1] == 0)(lims(port, 10)), 15),
         "bank: the BMS stale, the balancer fresh: fail-safe, CCL 0")
    bank = api_state(http).get("bank") or {}
    c.eq((read_raw(port, 10, BASE + 45, 1)[0], bank.get("pack_missing"), bank.get("missing_packs")),
         ([1], True, ["bms"]), "bank: the BMS stale is a missing pack: failure flag 1, pack_missing, missing_packs")
    bms.ctl("fault 1 none")

    def back():
        u, b = read_raw(port, 1, BASE, 125)[0], read_raw(port, 10, BASE, 125)[0]
        return u and b and all(u[k] == b[k] for k in (0, 2, 12, 13, 44, 60, 62)) and not b[50] & 0x40
    # (the bank stays fail-safe until the BMS's own limits have recovered
    # from stale, after recovery_hold, as with any pack)
    c.ok(wait_until(back, 30), "bank: the BMS back, its values again, no stale member")


def test_sok():
    """A SOK battery: advertisement -> --ble-scan names it abc -> connect ->
    C0 / C1 / C2 / C4 -> Modbus, /api/state (its name), MQTT."""
    print("== a SOK battery (ABC-BMS): scan, connect, Modbus, /api/state, MQTT")
    from mqtt_harness import Broker, Subscriber
    broker = Broker()
    sim = Sim(protocol="abc", packs=("address=1,cells=8,current=-3.5",))
    fake = Fake([device(MAC_B, sim, layout="abc", chunk=20, name="SOK-24V1127", uuids=[FFE0, FFF0])])
    port, http = free_port(), free_port()
    conf = gw_conf(port, [ble_pack("sok", MAC_B, "abc")]) + (
        "[http]\nlisten = 127.0.0.1:%d\n[history]\nfile = none\n"
        "[mqtt]\nhost = 127.0.0.1\nport = %d\nclient_id = sk\ntopic_prefix = sk\n" % (http, broker.port))
    sub = Subscriber(broker.port, topics=("sk/#",))
    scan_names(MAC_B, "SOK-24V1127", "abc")
    gw = Gateway(conf, port)
    try:
        c.ok(wait_until(lambda: online(port, 1), 20), "sok: online")
        p = sim.state()["packs"][0]
        regs, _, _ = read_raw(port, 1, BASE, 125)
        if c.ok(regs is not None, "sok: the map reads"):
            c.near(ha_float(regs[12:14]), p["current"], 1e-3, "sok: current (- = discharging)")
            c.eq(regs[20:28], p["cells_mv"], "sok: 8 cells (their count from the pack voltage)")
            c.eq(regs[40], 8, "sok: cell count")
            c.eq(regs[62], round(p["capacity_ah"] * 10), "sok: full capacity")
            c.eq((regs[17], regs[18]), (1, 1), "sok: MOSFETs")
        pk = wait_until(lambda: api_pack(http, "sok"), 10) or {}
        c.eq((pk.get("bms") or {}).get("model"), "SOK-BMS", "sok /api/state: its name (C0)")
        c.eq((pk.get("balancing_any"), pk.get("alarms"), pk.get("balance_current_a")), (False, [], None),
             "sok /api/state: not balancing, no alarm (C4), no balancer values")
        m = sub.wait_for("sk/sok/state", lambda m: bool(m.payload), 20)
        c.near((m.json() if m else {}).get("soc"), p["soc"], 0.06, "sok mqtt: SOC")
        st = fake.dev(MAC_B)
        c.ok(st["write_types"].get("command", 0) > 0 and not st["write_types"].get("request"),
             "sok: requests written as Write Command to FFE2 (%s)" % st["write_types"])
        c.eq(sim.ctl("stats").count('"bad_requests":0'), 1, "sok: only the read requests C0, C1, C2, C4")
    finally:
        if c.failed:
            gw.dump(20)
        gw.stop()
        sub.close() if hasattr(sub, "close") else None
        fake.stop()
        sim.stop()
        broker.cleanup()


def test_topband():
    """A KiloVault HLX+ (Topband v1): advertisement (FFE0, company 0xFFFF) ->
    --ble-scan names it topband -> connect -> FFE4 notifications only (nothing
    written) -> Modbus, /api/state, MQTT; the simulator's bad sums counted."""
    print("== a Topband battery (KiloVault HLX+): scan, connect, listen, Modbus, /api/state, MQTT")
    from mqtt_harness import Broker, Subscriber
    broker = Broker()
    sim = Sim(protocol="topband", packs=("address=1,cells=4,current=-7.25,dialect=kv,junk=1",))
    fake = Fake([device(MAC_C, sim, layout="topband", chunk=20, name="NWJ20221223", uuids=[FFE0],
                        manufacturer={"65535": "0102030405"})])
    port, http = free_port(), free_port()
    conf = gw_conf(port, [ble_pack("kv", MAC_C, "topband")]) + (
        "[http]\nlisten = 127.0.0.1:%d\n[history]\nfile = none\n"
        "[mqtt]\nhost = 127.0.0.1\nport = %d\nclient_id = tb\ntopic_prefix = tb\n" % (http, broker.port))
    sub = Subscriber(broker.port, topics=("tb/#",))
    scan_names(MAC_C, "NWJ20221223", "topband")
    t0 = time.monotonic()
    gw = Gateway(conf, port)
    try:
        c.ok(wait_until(lambda: online(port, 1), 20), "topband: online")
        print("   figure: topband first reading %.2f s after start" % (time.monotonic() - t0))
        c.ok(wait_until(lambda: matches(port, 1, sim), 10), "topband: the map equals the simulator")
        p = sim.state()["packs"][0]
        regs, _, _ = read_raw(port, 1, BASE, 125)
        if c.ok(regs is not None, "topband: the map reads"):
            c.near(ha_float(regs[12:14]), p["current"], 1e-3, "topband: current (- = discharging)")
            c.eq(regs[20:24], p["cells_mv"], "topband: 4 cells")
            c.eq(regs[60], round(p["soc"] * 10), "topband: SOC")
            c.eq((regs[61], regs[66]), (0, 0x8000), "topband: SOH and MOS temperature absent")
        pk = wait_until(lambda: api_pack(http, "kv"), 10) or {}
        c.near((pk.get("temps_c") or [None])[0], p["temps_c"][0] + 0.05, 0.051, "topband /api/state: 0.1 K temperature")
        c.eq((pk.get("charge_mos"), pk.get("soh"), pk.get("alarms")), (None, None, []),
             "topband /api/state: no MOSFETs, no SOH (not sent), no alarm")
        m = sub.wait_for("tb/kv/state", lambda m: bool(m.payload), 20)
        c.near((m.json() if m else {}).get("remaining_ah"), p["remaining_ah"], 0.006, "topband mqtt: remaining Ah")
        st = fake.dev(MAC_C)
        c.eq((st["writes"], st["connects"]), (0, 1), "topband: nothing written, one connection")
        sim.ctl("fault 1 badsum 2")

        def errors():
            link = next((l for l in (api_state(http).get("links") or []) if l.get("packs") == ["kv"]), {})
            return link.get("checksum_errors", 0)
        c.ok(wait_until(lambda: errors() >= 1, 15), "topband: bad sums counted as checksum errors (%d)" % errors())
        c.ok(wait_until(lambda: sim.state()["packs"][0]["fault"] == "none" and matches(port, 1, sim), 15),
             "topband: good again after the fault")
    finally:
        if c.failed:
            gw.dump(20)
        gw.stop()
        sub.close() if hasattr(sub, "close") else None
        fake.stop()
        sim.stop()
        broker.cleanup()


def test_superb():
    """A Super-B Epsilon v1: advertisement (Epsilon-<serial>) -> --ble-scan
    names it superb -> connect -> notifications of 6edadbe4-... only
    (nothing written) -> Modbus, /api/state: voltage, current, SOC, SOH,
    the status byte (bit 0 clear: OTHER; bit 7: balancing); no cells, no
    temperatures; a frame that is no measurement is skipped, not served."""
    print("== a Super-B Epsilon v1: scan, connect, listen, Modbus, /api/state")
    sim = Sim(protocol="superb", packs=("address=1,cells=4,current=-12.5,soh=97",))
    fake = Fake([device(MAC_C, sim, layout="superb", chunk=20, name="Epsilon-0A1B2C",
                        uuids=["74b9c2d1-dc6d-42cf-a2e9-7398b8fc2e70"])])
    port, http = free_port(), free_port()
    conf = gw_conf(port, [ble_pack("eps", MAC_C, "superb")]) + (
        "[http]\nlisten = 127.0.0.1:%d\n[history]\nfile = none\n" % http)
    scan_names(MAC_C, "Epsilon-0A1B2C", "superb")
    gw = Gateway(conf, port)
    try:
        c.ok(wait_until(lambda: online(port, 1), 20), "superb: online")
        c.ok(wait_until(lambda: matches(port, 1, sim), 10), "superb: the map equals the simulator")
        p = sim.state()["packs"][0]
        regs, _, _ = read_raw(port, 1, BASE, 125)
        if c.ok(regs is not None, "superb: the map reads"):
            c.near(ha_float(regs[12:14]), -12.5, 1e-3, "superb: current (- = discharging)")
            c.eq((regs[60], regs[61]), (round(p["soc"] * 10), 97), "superb: SOC 0.1 %, SOH %")
            c.eq(regs[20:36], [0] * 16, "superb: no cells")
        pk = wait_until(lambda: api_pack(http, "eps"), 10) or {}
        c.eq((pk.get("soh"), pk.get("alarms"), pk.get("temps_c") or [], pk.get("balancing_any")),
             (97, [], [], False), "superb /api/state: SOH, no alarm, no sensor, not balancing")
        sim.ctl("set 1 alarm 0 4")
        sim.ctl("set 1 balance 1")
        pk = wait_until(lambda: (lambda q: q if q.get("alarms") and q.get("balancing_any") else None)(
            api_pack(http, "eps") or {}), 15) or {}
        c.eq((pk.get("alarms"), pk.get("raw_alarms"), pk.get("balancing_any")), (["other"], [0xF4], True),
             "superb /api/state: status bit 0 clear (other), bit 7 balancing")
        sim.ctl("set 1 alarm 0 0")
        sim.ctl("set 1 balance 0")
        sim.ctl("fault 1 badsum 2")
        c.ok(wait_until(lambda: sim.state()["packs"][0]["fault"] == "none", 15), "superb: the broken frames sent")
        c.ok(wait_until(lambda: (api_pack(http, "eps") or {}).get("alarms") == [] and matches(port, 1, sim), 15),
             "superb: good again after frames that are no measurement")
        st = fake.dev(MAC_C)
        c.eq((st["writes"], st["connects"]), (0, 1), "superb: nothing written, one connection")
    finally:
        if c.failed:
            gw.dump(20)
        gw.stop()
        fake.stop()
        sim.stop()


def test_ecoworthy():
    """An Eco-Worthy BW02, protocol v2: advertisement (name ECO-WORTHY 02_...,
    FFF0) -> --ble-scan names it ecoworthy -> connect -> FFF1 notifications
    only (the init writes are not sent) -> Modbus, /api/state, MQTT; the
    simulator's bad CRCs counted."""
    print("== an Eco-Worthy BW02 (v2): scan, connect, listen, Modbus, /api/state, MQTT")
    from mqtt_harness import Broker, Subscriber
    broker = Broker()
    sim = Sim(protocol="ecoworthy", packs=("address=1,cells=4,sensors=3,current=-6.3,layout=v2",))
    fake = Fake([device(MAC_C, sim, layout="ecoworthy", chunk=20, name="ECO-WORTHY 02_B8EF",
                        uuids=["0000fff0-0000-1000-8000-00805f9b34fb"], manufacturer={"49844": "e0fab8f0"})])
    port, http = free_port(), free_port()
    conf = gw_conf(port, [ble_pack("eco", MAC_C, "ecoworthy")]) + (
        "[http]\nlisten = 127.0.0.1:%d\n[history]\nfile = none\n"
        "[mqtt]\nhost = 127.0.0.1\nport = %d\nclient_id = ew\ntopic_prefix = ew\n" % (http, broker.port))
    sub = Subscriber(broker.port, topics=("ew/#",))
    scan_names(MAC_C, "ECO-WORTHY 02_B8EF", "ecoworthy")
    t0 = time.monotonic()
    gw = Gateway(conf, port)
    try:
        c.ok(wait_until(lambda: online(port, 1), 20), "ecoworthy: online")
        print("   figure: ecoworthy first reading %.2f s after start" % (time.monotonic() - t0))
        c.ok(wait_until(lambda: matches(port, 1, sim), 10), "ecoworthy: the map equals the simulator")
        p = sim.state()["packs"][0]
        regs, _, _ = read_raw(port, 1, BASE, 125)
        if c.ok(regs is not None, "ecoworthy: the map reads"):
            c.near(ha_float(regs[12:14]), p["current"], 1e-3, "ecoworthy: v2 current in 0.1 A (- = discharging)")
            c.eq(regs[20:24], p["cells_mv"], "ecoworthy: 4 cells")
            c.eq(regs[60], round(p["soc"] * 10), "ecoworthy: SOC")
            c.eq(regs[61], round(p["soh"]), "ecoworthy: SOH")
            c.eq(regs[62], round(p["capacity_ah"] * 10), "ecoworthy: design capacity as the full one")
            c.eq(regs[66], 0x8000, "ecoworthy: MOS temperature absent")
        pk = wait_until(lambda: api_pack(http, "eco"), 10) or {}
        c.eq([round(t, 1) for t in (pk.get("temps_c") or [])], [float(t) for t in p["temps_c"]],
             "ecoworthy /api/state: 3 temperatures")
        c.eq((pk.get("charge_mos"), pk.get("cycles"), pk.get("alarms")), (None, None, []),
             "ecoworthy /api/state: no MOSFETs, no cycles (not sent), no alarm")
        m = sub.wait_for("ew/eco/state", lambda m: bool(m.payload), 20)
        c.near((m.json() if m else {}).get("soc"), p["soc"], 0.51, "ecoworthy mqtt: SOC")
        st = fake.dev(MAC_C)
        c.eq((st["writes"], st["connects"]), (0, 1), "ecoworthy: nothing written (no init writes), one connection")
        sim.ctl("fault 1 badsum 2")

        def errors():
            link = next((l for l in (api_state(http).get("links") or []) if l.get("packs") == ["eco"]), {})
            return link.get("checksum_errors", 0)
        c.ok(wait_until(lambda: errors() >= 1, 15), "ecoworthy: bad CRCs counted as checksum errors (%d)" % errors())
        c.ok(wait_until(lambda: sim.state()["packs"][0]["fault"] == "none" and matches(port, 1, sim), 15),
             "ecoworthy: good again after the fault")
    finally:
        if c.failed:
            gw.dump(20)
        gw.stop()
        sub.close() if hasattr(sub, "close") else None
        fake.stop()
        sim.stop()
        broker.cleanup()


def test_felicity():
    """A Felicity Solar battery: advertisement (name F10... and digits) ->
    --ble-scan names it felicity -> connect -> the read requests written,
    the JSON answers in 35-byte notifications -> Modbus, /api/state (its
    identity), MQTT; nothing but the documented read requests reaches the
    BMS; the simulator's broken JSON counted as checksum errors."""
    print("== a Felicity Solar battery: scan, connect, JSON answers, Modbus, /api/state, MQTT")
    from mqtt_harness import Broker, Subscriber
    broker = Broker()
    sim = Sim(protocol="felicity", packs=("address=1,cells=16,current=-12.5,sensors=3,junk=1",))
    name = "F100011002424470238"
    fake = Fake([device(MAC_C, sim, layout="felicity", chunk=35, name=name, mtu=38,
                        uuids=["6e6f736a-4643-4d44-8fa9-0fafd005e455"])])
    port, http = free_port(), free_port()
    conf = gw_conf(port, [ble_pack("fel", MAC_C, "felicity")]) + (
        "[http]\nlisten = 127.0.0.1:%d\n[history]\nfile = none\n"
        "[mqtt]\nhost = 127.0.0.1\nport = %d\nclient_id = fe\ntopic_prefix = fe\n" % (http, broker.port))
    sub = Subscriber(broker.port, topics=("fe/#",))
    scan_names(MAC_C, name, "felicity")
    t0 = time.monotonic()
    gw = Gateway(conf, port)
    try:
        c.ok(wait_until(lambda: online(port, 1), 20), "felicity: online")
        print("   figure: felicity first reading %.2f s after start" % (time.monotonic() - t0))
        c.ok(wait_until(lambda: matches(port, 1, sim), 10), "felicity: the map equals the simulator")
        p = sim.state()["packs"][0]
        regs, _, _ = read_raw(port, 1, BASE, 125)
        if c.ok(regs is not None, "felicity: the map reads"):
            c.near(ha_float(regs[12:14]), p["current"], 1e-3, "felicity: current (- = discharging)")
            c.eq(regs[20:36], p["cells_mv"], "felicity: 16 cells")
            c.eq(regs[60], round(p["soc"] * 10), "felicity: SOC")
            c.eq((regs[61], regs[66]), (0, 0x8000), "felicity: SOH and MOS temperature absent")
        pk = wait_until(lambda: api_pack(http, "fel"), 10) or {}
        c.eq([round(t, 1) for t in (pk.get("temps_c") or [])], [float(t) for t in p["temps_c"][:3]],
             "felicity /api/state: the three sensors (0.1 degC)")
        c.eq((pk.get("charge_mos"), pk.get("soh"), pk.get("cycles"), pk.get("alarms")), (None, None, None, []),
             "felicity /api/state: no MOSFETs, SOH, cycles (not sent), no alarm")
        bms = pk.get("bms") or {}
        c.eq((bms.get("serial"), bms.get("firmware")), ("100011002424470238", "519 (module 2.06)"),
             "felicity /api/state: the identity of the first poll (%s)" % bms)
        # the simulator's pack is one of a bank of two: Batt carries twice its
        # current and 50 mV more, Bwarn the other pack's warning (alarm byte 3)
        sim.ctl("set 1 alarm 3 4")
        sim.ctl("set 1 current -10")
        pk = wait_until(lambda: (lambda q: q if q and q.get("current") == -10 else None)(api_pack(http, "fel")), 20) or {}
        c.eq((pk.get("current"), pk.get("alarms"), pk.get("raw_alarms")), (-10, [], [0, 0]),
             "felicity /api/state: the pack's own current (BattList), not the bank's; another pack's "
             "warning (the bank's Bwarn) is not this pack's")
        sim.ctl("set 1 alarm 1 4")
        pk = wait_until(lambda: (lambda q: q if q and q.get("raw_alarms") == [0, 4] else None)(api_pack(http, "fel")),
                        20) or {}
        c.eq((pk.get("raw_alarms"), bool(pk.get("alarms"))), ([0, 4], True),
             "felicity /api/state: the pack's own warning (BBwarn) raw and as an alarm")
        sim.ctl("set 1 alarm 1 0")
        sim.ctl("set 1 alarm 3 0")
        sim.ctl("set 1 current -12.5")
        m = sub.wait_for("fe/fel/state", lambda m: bool(m.payload), 20)
        c.near((m.json() if m else {}).get("remaining_ah"), p["remaining_ah"], 0.006, "felicity mqtt: remaining Ah")
        st, ss = fake.dev(MAC_C), json.loads(sim.ctl("stats"))
        c.ok(st["writes"] >= 2 and st["connects"] == 1, "felicity: requests written, one connection (%s)" % st)
        c.ok(ss.get("requests", 0) >= 2 and ss.get("bad_requests", 1) == 0,
             "felicity: every write a documented read request (%s)" % ss)
        sim.ctl("fault 1 badsum 2")

        def errors():
            link = next((l for l in (api_state(http).get("links") or []) if l.get("packs") == ["fel"]), {})
            return link.get("checksum_errors", 0)
        c.ok(wait_until(lambda: errors() >= 1, 15), "felicity: broken JSON counted as checksum errors (%d)" % errors())
        c.ok(wait_until(lambda: sim.state()["packs"][0]["fault"] == "none" and matches(port, 1, sim), 15),
             "felicity: good again after the fault")
    finally:
        if c.failed:
            gw.dump(20)
        gw.stop()
        sub.close() if hasattr(sub, "close") else None
        fake.stop()
        sim.stop()
        broker.cleanup()


# ------------------------------------------------------------------ TDT / WattCycle (issue 46)

TDT_READS = ("7e000103008c000099420d", "7e000103008d000059130d", "7e000103009200009f220d",
             "1e000103008c0000b1440d", "1e000103008d000071150d", "1e00010300920000b7240d")


def test_tdt():
    """TDT / WattCycle: --ble-scan names them tdt (by name, by company
    0xD6C0) -> connect -> "HiLink" written with response to FFFA and read
    back -> the reads 0x8C, 0x8D, 0x92 with response to FFF2 -> Modbus,
    /api/state, MQTT; a unit that answers only 0x1E requests found by the
    first retry; every write recorded and checked (the unlock and the reads,
    nothing else, nothing before the unlock); a BMS that does not take the
    unlock is logged, never read."""
    print("== TDT / WattCycle: the unlock, the reads, the 0x1E head")
    from mqtt_harness import Broker, Subscriber
    macs = ("C0:D6:3C:00:00:01", "C0:D6:3C:00:00:02", "C0:D6:3C:00:00:03")
    sims = [Sim(protocol="tdt", packs=("address=1,cells=16,sensors=6,current=-5.7",)),
            Sim(protocol="tdt", packs=("address=1,cells=4,sensors=4,dialect=1e",)),
            Sim(protocol="tdt", packs=("address=1,cells=4",))]
    devs = [device(macs[0], sims[0], layout="tdt", chunk=20, name="XDZN_001_49A1", uuids=[], unlock="HiLink"),
            device(macs[1], sims[1], layout="tdt", chunk=20, name="WTbF0102", uuids=[],
                   manufacturer={"54976": "c0d63c000002"}, unlock="HiLink"),
            device(macs[2], sims[2], layout="tdt", chunk=20, name="XDZN_001_0003", uuids=[], unlock="Other")]
    fake = Fake(devs)
    broker = Broker()
    port, http = free_port(), free_port()
    packs = [ble_pack("t%d" % (i + 1), mac, "tdt", unit=i + 1, extra="timeout = 1\n") for i, mac in enumerate(macs)]
    conf = gw_conf(port, packs) + "[http]\nlisten = 127.0.0.1:%d\n" % http + (
        "[mqtt]\nhost = 127.0.0.1\nport = %d\nclient_id = td\ntopic_prefix = td\n" % broker.port)
    sub = Subscriber(broker.port, topics=("td/#",))
    gw = None
    try:
        scan_names(macs[0], "XDZN_001_49A1", "tdt")
        scan_names(macs[1], "WTbF0102", "tdt")
        gw = Gateway(conf, port)
        state = {}
        for i in range(2):
            c.ok(wait_until(lambda: online(port, i + 1), 30), "tdt %s: online" % devs[i]["name"])
            c.ok(wait_until(lambda: matches(port, i + 1, sims[i]), 10), "tdt %s: the simulator's values" % devs[i]["name"])
        state = api_state(http)
        for i in range(2):
            label = "tdt %s" % devs[i]["name"]
            p = sims[i].state()["packs"][0]
            regs, _, _ = read_raw(port, i + 1, BASE, 125)
            m = sub.wait_for("td/t%d/state" % (i + 1), lambda m: bool(m.payload), 10)
            js = json.loads(m.text()) if m else {}
            pk = next((x for x in state.get("packs", []) if x.get("pack") == "t%d" % (i + 1)), {})
            if c.ok(regs is not None and pk and js, label + ": Modbus, /api/state and MQTT answer"):
                ble1_check(label, regs, pk, js, p, "tdt")
            st = fake.dev(macs[i])
            w = st["written"]
            c.ok(len(w) >= 3 and w[0] == "fffa:" + b"HiLink".hex(), label + ": the unlock written first (%s)" % w[:2])
            c.eq([x for x in w[1:] if not (x.startswith("fff2:") and x[5:] in TDT_READS)], [],
                 label + ": after it only the read requests, to FFF2")
            c.eq((st["locked_writes"], st["connects"], sorted(st["write_types"])), (0, 1, ["request"]),
                 label + ": nothing before the unlock, one connection, every write with response")
            c.eq(sims[i].ctl("stats").count('"bad_requests":0'), 1, label + ": the simulator saw reads only")
        heads = {x[5:7] for x in fake.dev(macs[1])["written"][1:]}
        c.eq(heads, {"7e", "1e"} if "7e" in heads else {"1e"}, "tdt WTbF0102: answered once asked with 0x1E")
        c.ok(wait_until(lambda: "did not take the unlock" in gw.text(), 15),
             "tdt XDZN_001_0003: the refused unlock is logged")
        c.ok(not online(port, 3), "tdt XDZN_001_0003: never shown with data")
        st = fake.dev(macs[2])
        c.eq([x for x in st["written"] if not x.startswith("fffa:")], [], "tdt XDZN_001_0003: no read written")
    finally:
        if gw is not None:
            if c.failed:
                gw.dump(30)
            gw.stop()
        sub.close() if hasattr(sub, "close") else None
        fake.stop()
        for sim in sims:
            sim.stop()
        broker.cleanup()


# ------------------------------------------------------------------ Seplos V2 over BLE (issue 46)

def test_seplos_ble():
    """Seplos V2 through its own module: --ble-scan names "BP00" seplos ->
    connect (FF00, as JBD's) -> the one read 0x61 a poll, Write Command to
    FF02 -> Modbus, /api/state, MQTT equal to the simulator; every write
    recorded and checked (the 0x61 read of address 0, and once the settings
    read 0x47, nothing else)."""
    print("== Seplos V2 over Bluetooth LE: the binary 0x61")
    from mqtt_harness import Broker, Subscriber
    mac = "90:A6:BF:00:00:01"
    sim = Sim(protocol="seplos", packs=("address=0,cells=16,sensors=4,current=-12.5",))
    fake = Fake([device(mac, sim, layout="jbd", chunk=20, name="BP00",
                        uuids=["0000ff00-0000-1000-8000-00805f9b34fb"])])
    broker = Broker()
    port, http = free_port(), free_port()
    conf = gw_conf(port, [ble_pack("sp", mac, "seplos", extra="address = 0\n")]) + (
        "[http]\nlisten = 127.0.0.1:%d\n[mqtt]\nhost = 127.0.0.1\nport = %d\nclient_id = sp\ntopic_prefix = sp\n"
        % (http, broker.port))
    sub = Subscriber(broker.port, topics=("sp/#",))
    gw = None
    try:
        scan_names(mac, "BP00", "seplos")
        gw = Gateway(conf, port)
        c.ok(wait_until(lambda: online(port, 1), 30), "seplos BP00: online")
        c.ok(wait_until(lambda: matches(port, 1, sim), 10), "seplos BP00: the simulator's values")
        p = sim.state()["packs"][0]
        regs, _, _ = read_raw(port, 1, BASE, 125)
        m = sub.wait_for("sp/sp/state", lambda m: bool(m.payload), 10)
        js = json.loads(m.text()) if m else {}
        pk = wait_until(lambda: api_pack(http, "sp"), 10) or {}
        if c.ok(regs is not None and pk and js, "seplos BP00: Modbus, /api/state and MQTT answer"):
            ble1_check("seplos BP00", regs, pk, js, p, "seplos")
        st = fake.dev(mac)
        c.eq(sorted(set(st["written"])), ["ff02:7e10004647000100e7160d", "ff02:7e10004661000100f7c10d"],
             "seplos BP00: only the 0x61 read written, and the settings read 0x47")
        c.eq(st["written"].count("ff02:7e10004647000100e7160d"), 1, "seplos BP00: 0x47 asked once")
        c.eq((st["connects"], sorted(st["write_types"])), (1, ["command"]),
             "seplos BP00: one connection, Write Command")
        c.eq(sim.ctl("stats").count('"bad_requests":0'), 1, "seplos BP00: the simulator saw reads only")
    finally:
        if gw is not None:
            if c.failed:
                gw.dump(30)
            gw.stop()
        sub.close() if hasattr(sub, "close") else None
        fake.stop()
        sim.stop()
        broker.cleanup()

# ------------------------------------------------------------------ Modbus over BLE (issue 46)

# One row per Modbus-over-BLE family: (protocol, GATT layout of the fake
# device, its advertised name, the simulated pack's options, the requests
# its driver may write (hex)).  The gateway reads the simulator's values;
# every write is recorded by the fake and must be one of those reads.
MB_BLE = [
    ("renogy-pro", "renogy", "RNGRBP1217000794", "reply_adr=48",
     ("ff031388002254a3", "ff0313b20007b575", "ff0313ec000894a3", "ff0313f0001c556a")),
    ("renogy-pro", "renogy", "RNGPRO125BAT-EF036881", "dialect=rngpro",
     ("ff031388002254a3", "ff0313b20007b575", "ff0313ec000894a3", "ff0313f0001c556a")),
    ("pylon-rt", "pylon-rt", "RT12100-A1B2C3", "cells=4", ("01031016000d610b", "0103200000084fcc")),
]


def test_mb_ble():
    """The Modbus-over-BLE families: --ble-scan names the device, the
    gateway reads what the simulator holds (the current in the unit of the
    name's family), and nothing but the family's read requests is written."""
    print("== Modbus RTU over BLE: renogy-pro, pylon-rt")
    for i, (proto, layout, name, opts, reads) in enumerate(MB_BLE):
        label = "%s (%s)" % (proto, name)
        mac = "C8:47:80:00:02:%02X" % (i + 1)
        sim = Sim(protocol=proto, packs=("address=1" + ("," + opts if opts else ""),))
        fake = Fake([device(mac, sim, layout=layout, chunk=20, name=name, uuids=[])])
        port = free_port()
        gw = None
        try:
            scan_names(mac, name, proto)
            gw = Gateway(gw_conf(port, [ble_pack("p", mac, proto)]), port)
            c.ok(wait_until(lambda: online(port, 1), 30), label + ": online")
            p = sim.state()["packs"][0]
            regs, _, _ = read_raw(port, 1, BASE, 125)
            if c.ok(regs is not None, label + ": the map answers"):
                c.near(ha_float(regs[10:12]), p["voltage"], 1e-3, label + ": voltage")
                c.near(ha_float(regs[12:14]), p["current"], 1e-3, label + ": current (%g A)" % p["current"])
                c.eq(regs[60], round(p["soc"] * 10), label + ": SOC 0.1 %")
                c.eq(regs[20:20 + len(p["cells_mv"])], p["cells_mv"], label + ": cells")
            st = fake.dev(mac)
            c.ok(st["written"] and all(w in reads for w in values(st)),
                 label + ": only its read requests written (%s)" % sorted(set(st["written"])))
            c.ok(st["write_types"].get("command", 0) > 0 and st["connects"] == 1,
                 label + ": one connection, Write Command (%s)" % st["write_types"])
        finally:
            if c.failed and gw:
                gw.dump(20)
            if gw:
                gw.stop()
            fake.stop()
            sim.stop()


# ------------------------------------------------------------------ second layouts of a driver (issue 67)

# (protocol, the table's layout, the advertisement as aiobmsble's test_data
# shows it: name, manufacturer data, services; the requests the driver may
# write): AG Automotive's E&J module on its own service, an Eleksol's JBD
# on FF06 / FF07 / FF08.
LAYOUT2 = [
    ("chins", "chins:2", "AG100L21021805", {"21320": "84280836070d6400"}, [],
     (b":000250000E03~".hex(), b":001031000E05~".hex())),
    ("jbd", "jbd:2", "12150EG00040", {"2163": "6237c2a5"}, ["0000ff06-0000-1000-8000-00805f9b34fb"],
     ("dda50300fffd77", "dda50400fffc77", "dda50500fffb77")),
]


def test_layout2():
    """A driver's second GATT layout: --ble-scan names the device by the
    name or the service its source gives, the gateway finds the layout on
    the device, reads the simulator's values, and writes only its reads."""
    print("== second layouts: AG Power Lithium (chins), Eleksol (jbd)")
    for i, (proto, layout, name, mfr, uuids, reads) in enumerate(LAYOUT2):
        label = "%s %s (%s)" % (proto, name, layout)
        mac = "C8:47:80:00:04:%02X" % (i + 1)
        sim = Sim(protocol=proto, packs=("address=1,cells=4",))
        fake = Fake([device(mac, sim, layout=layout, chunk=20, name=name, manufacturer=mfr, uuids=uuids)])
        port = free_port()
        gw = None
        try:
            scan_names(mac, name, proto)
            gw = Gateway(gw_conf(port, [ble_pack("p", mac, proto)]), port)
            c.ok(wait_until(lambda: online(port, 1), 30), label + ": online")
            c.ok(wait_until(lambda: matches(port, 1, sim), 15), label + ": the simulator's values over Modbus")
            st = fake.dev(mac)
            c.ok(st["written"] and set(values(st)) <= set(reads),
                 label + ": only its read requests written (%s)" % sorted(set(values(st))))
            c.eq(st["connects"], 1, label + ": one connection")
        finally:
            if c.failed and gw:
                gw.dump(20)
            if gw:
                gw.stop()
            fake.stop()
            sim.stop()


# ------------------------------------------------------------------ every other family, from the driver table

# The protocols a test function of their own runs, beside those of ROWS, BLE1
# and MB_BLE.
# d-powercore: test_d_powercore.py (its acknowledgements are writes); dometic:
# test_ble_dometic.py (a link of channels, several batteries on it)
OWN_CASES = ("tdt", "seplos", "d-powercore", "dometic")


def generic_families():
    """The protocols with a GATT layout in the driver table that no case above
    runs: test_families() runs each from the table, its simulator responder
    and its fixtures alone (bms/README.md "Adding a protocol")."""
    named = {r[0] for r in ROWS} | {r[0] for r in BLE1} | {r[0] for r in MB_BLE} | set(OWN_CASES)
    return [name for name, p in ble_layouts.table().items()
            if (p.get("ble") or {}).get("layouts") and name not in named]


def advertised(p):
    """What a device of protocol p advertises beside its name (uuids,
    manufacturer data, service data), as its hints ask: nothing where a
    name hint knows it, else the 16-bit service of a service hint (with its
    company, or beside its address prefix: family_case's MAC), the service
    data of a service-data hint (with its service), the 128-bit service of
    a service128 hint, else a company hint's company id (with a byte of
    data).  A prefix of a hint's name is the simulator's name's."""
    hints = p["ble"]["hints"]
    if any(h["kind"] == "name" for h in hints):
        return [], {}, {}
    u16 = "0000%04x-0000-1000-8000-00805f9b34fb"
    for h in hints:
        if h["kind"] == "service":
            return [u16 % h["value"]], {}, {}
        if h["kind"] == "company+service":  # value: company | service << 16
            return [u16 % (h["value"] >> 16)], {str(h["value"] & 0xFFFF): "00"}, {}
        if h["kind"] == "address+service":  # the address's start (family_case) and the service
            return [u16 % h["value"]], {}, {}
        if h["kind"] == "service-data":  # value: its data's UUID | a service << 16 (0: none)
            return [u16 % (h["value"] >> 16)] if h["value"] >> 16 else [], {}, {u16 % (h["value"] & 0xFFFF): "00"}
        if h["kind"] == "service128":
            return [h["prefix"]], {}, {}
    return [], {str(h["value"]): "00" for h in hints if h["kind"] == "company"}, {}


def family_figure(label, port, fake, mac, t_on):
    """Print the time from the last Connect to the first values (the fake
    BlueZ's figure: the gateway's wait for its own poll, over D-Bus on this
    machine) and the bytes written per poll once the link is up (unlock and
    init writes left out); t_on: when the unit first answered."""

    def count():
        regs, _, _ = read_raw(port, 1, BASE + 99, 2)
        sizes = fake.dev(mac)["write_sizes"]
        return ((regs[0] << 16 | regs[1]) if regs else 0), sum(int(k) * v for k, v in sizes.items())
    p0, b0 = count()
    wait_until(lambda: count()[0] >= p0 + 4, 15)
    p1, b1 = count()
    connect_t = fake.dev(mac).get("connect_t")
    print("   figure: %s: first values %.2f s after Connect (fake BlueZ), %.1f bytes written per poll (%d polls)"
          % (label, t_on - connect_t if connect_t else -1, (b1 - b0) / (p1 - p0) if p1 > p0 else -1, p1 - p0))


def family_case(i, proto):
    """One protocol of generic_families(), end to end."""
    p = ble_layouts.table()[proto]
    sym = proto.replace("-", "_")
    sim = Sim(protocol=proto, packs=("address=1",))
    name = sim.state().get("ble_name")
    if not c.ok(name is not None, "%s: its simulator responder names the device (.ble_name)" % proto):
        sim.stop()
        return
    label = "%s (%s)" % (proto, name)
    reads = {b.hex() for _, b in fixtures.requests(sym)}
    piece = p["ble"].get("write_piece") or 0
    if piece:  # the table's largest write: its requests written in pieces of it
        reads = {r[i:i + 2 * piece] for r in reads for i in range(0, len(r), 2 * piece)}
    auth = p["ble"]["auth"]
    oui = [h["prefix"] for h in p["ble"]["hints"] if h["kind"] == "address+service"]
    mac = (oui[0] if oui else "C8:47:80") + ":00:03:%02X" % (i + 1)
    uuids, mfr, sdata = advertised(p)
    fake = Fake([device(mac, sim, layout=proto, chunk=20, name=name, uuids=uuids, manufacturer=mfr,
                        service_data=sdata)])
    port = free_port()
    gw = None
    try:
        scan_names(mac, name, proto)
        gw = Gateway(gw_conf(port, [ble_pack("p", mac, proto)]), port)
        c.ok(wait_until(lambda: online(port, 1), 30, 0.02), label + ": online")
        t_on = time.time()
        s = sim.state()["packs"][0]
        has = set(p["provides"])
        regs, _, _ = read_raw(port, 1, BASE, 125)
        if c.ok(regs is not None, label + ": the map answers"):
            c.near(ha_float(regs[10:12]), s["voltage"], 1e-3, label + ": voltage")
            if "current" in has:
                c.near(ha_float(regs[12:14]), s["current"], 1e-3, label + ": current (%g A)" % s["current"])
            if "soc" in has:
                c.eq(regs[60], round(s["soc"] * 10), label + ": SOC 0.1 %")
            if "cells" in has:
                c.eq(regs[20:20 + min(16, len(s["cells_mv"]))], s["cells_mv"][:16], label + ": cells")
        family_figure(label, port, fake, mac, t_on)
        st = fake.dev(mac)
        stats = json.loads(sim.ctl("stats"))
        c.eq((stats["bad_requests"], stats["writes"]), (0, 0),
             label + ": every request one of the protocol's (no bad request, no MOSFET write)")
        written = set(values(st)) - ({auth["data"]} if auth else set())
        # listen only, or steps that all listen (its layouts write to nothing: smartbms58)
        if p["listen_only"] or not any(lay["write"] for lay in p["ble"]["layouts"]):
            c.eq(sorted(written), [], label + ": nothing written (listen only)")
            return
        c.ok(written and (not reads or written <= reads), label + ": only its read requests written "
             "(%s; its fixtures' requests: %s)" % (sorted(written), sorted(reads) or "none"))
        kind = "request" if p["ble"]["write_request"] else "command"
        c.ok(st["write_types"].get(kind, 0) > 0 and st["connects"] == 1,
             label + ": one connection, requests as Write %s (%s)" % (kind.title(), st["write_types"]))
    finally:
        if c.failed and gw:
            gw.dump(20)
        if gw:
            gw.stop()
        fake.stop()
        sim.stop()


def test_families():
    """Every Bluetooth family no case above names, from the driver table
    (`bmsgw --list-protocols --json`) alone: --ble-scan names the device
    its simulator names, the gateway reads what the simulator holds (what
    the table says a poll gives), the simulator takes every request as one
    of its protocol's, nothing but the requests of the protocol's fixtures
    (and the table's unlock) is written, over one connection as Write
    Command (Write Request where the table says so)."""
    fams = generic_families()
    print("== the other Bluetooth families, from the driver table: " + (" ".join(fams) or "none"))
    for i, proto in enumerate(fams):
        family_case(i, proto)


def test_votronic_shunt():
    """A Votronic battery computer over Bluetooth LE as the bank's meter
    ([bank] shunt, bms/PROTOCOLS.md §84): two Daly packs (+10 A and -4 A,
    55 % and 60 %) on the simulator's TCP port, the Votronic (-25 A, 81 %)
    listened to through the fake BlueZ: the bank's current and SOC are the
    Votronic's, the packs its members, nothing written to it."""
    print("== a Votronic battery computer as the bank's shunt")
    bus = Sim(packs=("address=1,cells=16,soc=55,current=10,capacity=100",
                     "address=2,cells=16,soc=60,current=-4,capacity=100"))
    vot = Sim(protocol="votronic", packs=("address=1,soc=81,current=-25,capacity=200",))
    mac = "C8:47:80:00:04:01"
    uuids, mfr, sdata = advertised(ble_layouts.table()["votronic"])
    fake = Fake([device(mac, vot, layout="votronic", chunk=20, name=vot.state().get("ble_name"), uuids=uuids)])
    port, http = free_port(), free_port()
    packs = ["[pack.%s]\nprotocol = daly\nport = tcp://127.0.0.1:%d\naddress = %d\nunit_id = %d\n"
             "poll_interval = 0.5\ntimeout = 0.5\ncapacity = 100\n" % (n, bus.port, a, a) for n, a in (("a", 1), ("b", 2))]
    packs.append(ble_pack("shunt", mac, "votronic", unit=3))
    gw = Gateway(gw_conf(port, packs, extra="[http]\nlisten = 127.0.0.1:%d\n" % http, stale=10) +
                 "[bank]\nunit_id = 100\npacks = a, b\nshunt = shunt\n", port)
    try:
        def bank():
            return api_state(http).get("bank") or {}
        c.ok(wait_until(lambda: bank().get("current_from") == "shunt" and bank().get("soc_from") == "shunt" and
                        bank().get("packs_online") == 2, 30),
             "votronic shunt: the bank's current and SOC are the shunt's (%s)"
             % {k: bank().get(k) for k in ("shunt", "current_from", "soc_from", "shunt_fresh")})
        b = bank()
        c.near(b.get("current"), -25, 0.05, "votronic shunt: the bank's current -25 A (the packs' sum: +6 A)")
        c.near(b.get("soc"), 81, 0.11, "votronic shunt: the bank's SOC 81 % (the packs': 57.5 %)")
        c.eq((b.get("packs_configured"), b.get("packs_online")), (2, 2), "votronic shunt: the shunt is no member")
        regs, _, _ = read_raw(port, 100, BASE + 138, 1)
        c.eq(regs, [3], "votronic shunt: offset 138, the bank's sources: current and SOC from the shunt")
        c.eq(fake.dev(mac)["written"], [], "votronic shunt: nothing written (listened to)")
    finally:
        if c.failed:
            gw.dump(20)
        gw.stop()
        fake.stop()
        vot.stop()
        bus.stop()


def test_layouts():
    """The fake devices of ble_layouts.LAYOUTS, each against the driver table:
    it holds the table's GATT layout it names (service, notifier, written
    characteristic) and is not the device the table makes anyway (a copy
    to drop)."""
    print("== the fake devices kept by hand, against the driver table")
    for name in sorted(ble_layouts.LAYOUTS):
        want, lay = ble_layouts.LAYOUTS[name]
        c.eq(ble_layouts.check(name), [], "layout %s holds the table's %s" % (name, want))

        def norm(layout):
            return sorted((ble_layouts.u16(s).lower(), sorted((ble_layouts.u16(u).lower(), sorted(f)) for u, f in ch))
                          for s, ch in layout)
        c.ok(norm(lay) != norm(ble_layouts.made(want) or []), "layout %s differs from the one the table makes" % name)


def test_turns():
    """Two local adapters and more packs than connections: three packs on
    hci0 with [ble] max_connections = 1 take turns (connect, poll,
    disconnect) and all stay fresh; hci0 never holds two connections at
    once; a pack with adapter = hci1 goes through the other adapter, and
    keeps its connection; /api/state says which links take turns and the
    round's length."""
    print("== two local adapters; three packs through one connection of hci0")
    macs = ["A4:C1:38:00:03:%02X" % (i + 1) for i in range(4)]
    sims = [Sim(protocol="jbd", packs=("address=1,soc=%d" % (20 + 20 * i),)) for i in range(4)]
    devs = [device(m, s, connect_delay=0.2) for m, s in zip(macs, sims)]
    devs[3]["adapter"] = "hci1"
    fake = Fake(devs, adapters=[{"name": "hci0"}, {"name": "hci1", "address": "00:1A:7D:DA:71:14"}])
    gw = None
    try:
        port, http = free_port(), free_port()
        packs = [ble_pack("t%d" % (i + 1), m, unit=i + 1, extra="adapter = hci1\n" if i == 3 else "")
                 for i, m in enumerate(macs)]
        conf = gw_conf(port, packs, stale=20, extra="[ble]\nadapter = hci0\nmax_connections = 1\n") + \
            "[http]\nlisten = 127.0.0.1:%d\n" % http
        gw = Gateway(conf, port)
        for i in range(4):
            c.ok(wait_until(lambda: matches(port, i + 1, sims[i]), 30), "pack t%d equals its simulator" % (i + 1))
        # each of the three takes its turn again and again
        c.ok(wait_until(lambda: min(fake.dev(m)["connects"] for m in macs[:3]) >= 3, 60),
             "the three packs of hci0 took turns (connects %s)" % [fake.dev(m)["connects"] for m in macs[:3]])
        s = fake.state()
        c.eq(s["adapters"]["hci0"]["max_connected"], 1, "hci0 never held two connections at once")
        c.eq((fake.dev(macs[3])["connects"], s["adapters"]["hci1"]["max_connected"]), (1, 1),
             "the pack on hci1 went through hci1 and kept its one connection")
        for i in range(3):
            sims[i].ctl("set 1 soc %d" % (90 - 10 * i))
        for i in range(3):
            c.ok(wait_until(lambda: abs(((api_pack(http, "t%d" % (i + 1)) or {}).get("soc") or 0) -
                                        sims[i].state()["packs"][0]["soc"]) < 1, 30),
                 "t%d: a new SOC arrives in its turn" % (i + 1))
        links = {tuple(l.get("packs", [])): l for l in api_state(http).get("links", [])}
        turns = [links.get(("t%d" % (i + 1),), {}) for i in range(4)]
        c.ok(all(t.get("taking_turns") is True and (t.get("round_s") or 0) > 0 for t in turns[:3]),
             "/api/state: the three links take turns, with the round's length (%s)"
             % [(t.get("taking_turns"), t.get("round_s")) for t in turns[:3]])
        c.ok("taking_turns" not in turns[3], "/api/state: the link of hci1 does not")
        print("   figure: round of three packs through one connection: %s s" % [t.get("round_s") for t in turns[:3]])
        c.ok(not re.search(r"warn.*link ble://A4:C1:38:00:03", gw.text()), "taking turns logs no outage")
    finally:
        if c.failed and gw:
            gw.dump(30)
        if gw:
            gw.stop()
        fake.stop()
        for sim in sims:
            sim.stop()


def test_superb_v2():
    """A Super-B Epsilon v2: advertisement (company 0x50BE, "Epsilon V2")
    -> --ble-scan names it superb (read) -> connect -> the second GATT
    layout: StartNotify on both notifiers (cf9ccdfa-..., e0fef452-...) ->
    each poll writes 21 54 00 and nothing else; the 0x00 answer (SOC, SOH,
    cycles) and the 0x02 frame pushed on the second notifier (current,
    voltage) -> Modbus, /api/state; frames that are none are skipped."""
    print("== a Super-B Epsilon v2: scan, connect, two notifiers, 21 54 00, Modbus, /api/state")
    sim = Sim(protocol="superb", packs=("address=1,cells=4,current=-2.5,soh=98,cycles=18,layout=v2",))
    fake = Fake([device(MAC_C, sim, layout="superb:2", chunk=0, name="Epsilon-0A1B2D", notify_records=True,
                        uuids=["cf9ccdf7-eee9-43ce-87a5-82b54af5324e"],
                        manufacturer={str(0x50BE): b"Epsilon V2 0A1B2D".hex()})])
    port, http = free_port(), free_port()
    conf = gw_conf(port, [ble_pack("eps2", MAC_C, "superb")]) + (
        "[http]\nlisten = 127.0.0.1:%d\n[history]\nfile = none\n" % http)
    r = subprocess.run([EXE, "--ble-scan", "2"], capture_output=True, text=True, timeout=30)
    row = next((l for l in r.stdout.splitlines() if l.startswith(MAC_C)), "")
    c.ok(re.search(r"\ssuperb\s", row) is not None and "V2" in row and "not read" not in row,
         "superb v2: --ble-scan names company 0x50BE superb, read (%s)" % row.strip())
    gw = Gateway(conf, port)
    try:
        c.ok(wait_until(lambda: online(port, 1), 20), "superb v2: online")
        c.ok(wait_until(lambda: matches(port, 1, sim), 10), "superb v2: the map equals the simulator")
        p = sim.state()["packs"][0]
        regs, _, _ = read_raw(port, 1, BASE, 125)
        if c.ok(regs is not None, "superb v2: the map reads"):
            c.near(ha_float(regs[12:14]), -2.5, 1e-3, "superb v2: current (mA, - = discharging)")
            c.eq((regs[60], regs[61]), (round(p["soc"] * 10), 98), "superb v2: SOC 0.1 %, SOH %")
            c.eq(regs[63:65], [0, 18], "superb v2: 18 cycles")
            c.eq(regs[20:36], [0] * 16, "superb v2: no cells")
        pk = wait_until(lambda: api_pack(http, "eps2"), 10) or {}
        c.eq((pk.get("cycles"), pk.get("soh"), pk.get("temps_c") or []), (18, 98, []),
             "superb v2 /api/state: cycles, SOH, no sensor")
        st = fake.dev(MAC_C)
        c.eq(sorted(st.get("notifying_all") or []), ["cf9ccdfa-eee9-43ce-87a5-82b54af5324e",
                                                     "e0fef452-9d2b-4005-a1e3-69fe1102b436"],
             "superb v2: both notifiers started")
        c.ok(st["writes"] > 0 and st["written"] == ["cdfa:215400"],
             "superb v2: only 21 54 00 written, to cf9ccdfa-... (%s)" % st["written"])
        sim.ctl("set 1 soc 42")
        c.ok(wait_until(lambda: (read_raw(port, 1, BASE + 60, 1)[0] or [0])[0] == 420, 15),
             "superb v2: the SOC of the next answer (42 %)")
        sim.ctl("fault 1 badsum 2")
        c.ok(wait_until(lambda: sim.state()["packs"][0]["fault"] == "none", 15), "superb v2: the broken frames sent")
        c.ok(wait_until(lambda: matches(port, 1, sim) and (read_raw(port, 1, BASE + 60, 1)[0] or [0])[0] == 420, 15),
             "superb v2: good again after frames that are none")
        st = fake.dev(MAC_C)
        c.eq((st["written"], st["connects"]), (["cdfa:215400"], 1), "superb v2: still only the read, one connection")
    finally:
        if c.failed:
            gw.dump(20)
        gw.stop()
        fake.stop()
        sim.stop()


def test_superb_v2_refused():
    """An Epsilon v2 whose second notifier refuses StartNotify: the link
    fails with that reason (no other layout is tried), nothing is written,
    the pack is never online."""
    print("== a Super-B Epsilon v2 whose second notifier refuses notifications")
    sim = Sim(protocol="superb", packs=("address=1,cells=4,layout=v2",))
    fake = Fake([device(MAC_C, sim, layout="superb2-refused", chunk=0, name="Epsilon-0A1B2E", notify_records=True,
                        uuids=["cf9ccdf7-eee9-43ce-87a5-82b54af5324e"])])
    port = free_port()
    gw = Gateway(gw_conf(port, [ble_pack("eps2", MAC_C, "superb")]), port)
    try:
        c.ok(wait_until(lambda: re.search(r"StartNotify on \S+: .*[Nn]ot permitted", gw.text()) is not None, 20),
             "superb v2: the refused second notifier fails the link, named")
        st = fake.dev(MAC_C)
        c.eq((st["writes"], online(port, 1)), (0, False), "superb v2: nothing written, not online")
    finally:
        if c.failed:
            gw.dump(20)
        gw.stop()
        fake.stop()
        sim.stop()


def run_on_private_bus(c, tests):
    """A script's tests [(name, fn)] on a private bus of their own (the fake
    BlueZ's), each run even when one before it crashed (a crash is a failed
    check); "N passed, N failed"'s exit code."""
    bus = Bus()
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = bus.address
    try:
        for name, fn in tests:
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - a crashed test is a failed check, the others still run
                import traceback
                traceback.print_exc()
                c.ok(False, "%s raised %r" % (name, e))
    finally:
        bus.stop()
    return c.report()


def main():
    only = os.environ.get("ONLY", "")
    tests = [("config", test_config), ("rows", test_rows), ("recorded", test_recorded),
             ("unknown", test_unknown_device), ("flags", test_layout_flags), ("scan", test_scan),
             ("faults", test_side_by_side_and_faults), ("faults", test_side_by_side_and_more_faults),
             ("mqtt", test_mqtt), ("control", test_control), ("brands", test_ble1_brands),
             ("balancer", test_balancer), ("sok", test_sok), ("topband", test_topband),
             ("ecoworthy", test_ecoworthy), ("felicity", test_felicity), ("superb", test_superb),
             ("superb", test_superb_v2), ("superb", test_superb_v2_refused),
             ("tdt", test_tdt), ("seplos", test_seplos_ble), ("mbble", test_mb_ble), ("layout2", test_layout2), ("turns", test_turns),
             ("layouts", test_layouts), ("families", test_families), ("votronic", test_votronic_shunt)]
    # my_part() asked of every test in order, whatever ONLY says
    return run_on_private_bus(c, [(name, fn) for name, fn in tests
                                  if my_part() and not (only and name not in only.split(","))])


if __name__ == "__main__":
    sys.exit(main())
