#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: build=normal
"""Dometic Büttner batteries over Bluetooth LE (dometic, bms/PROTOCOLS.md
§72) end to end, without a radio: the real bmsgw against the simulator's
batteries behind the fake BlueZ (tests/ble/fake_bluez.py, on a private
dbus-daemon) and behind the fake ESPHome proxy (tests/ble/fake_esphome.py),
both in their channels mode (a link of six characteristics, each
notification and write apart: tests/ble/README.md).

- --ble-scan names the device dometic (company 0x0845 in its manufacturer
  data);
- two batteries on one link, two packs on the same ble:// port, each its
  battery byte as address: both online with their own values (Modbus),
  one connection, the greeting echoed and the keep-alive answered (its
  writes each one of the protocol's: the simulator counts anything else a
  bad request), APP+AEN, APP+NET and APP+RDN=1 on the command
  characteristic;
- the same through the ESPHome proxy;
- a battery alone with address_any: the first battery it hears.

Prints the figures of the fake BlueZ: the time from the connection to the
first values and the bytes written per poll.  Prints "N passed, N
failed".
"""
import os
import re
import sys
import time
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esp_harness import EspFake  # noqa: E402
from harness import Checks, Gateway, Sim, free_port, ha_float, wait_until  # noqa: E402

import test_ble as tb  # noqa: E402 - the private bus, the fake BlueZ and its devices, the Modbus helpers

c = Checks()
setattr(tb, "c", c)  # test_ble's helpers count their checks here
NAME = "KAA_500219_TLB150"
MFR = {"2117": "1485"}  # company 0x0845, data 14 85 (aiobmsble's matcher)
# what a gateway may write: the greeting's echo (0009), the keep-alive's
# answers (0003), the commands (0001)
WRITES = {"0009:9b00", "0003:ff", "0003:df", "0001:" + b"APP+AEN".hex(), "0001:" + b"APP+NET".hex(),
          "0001:" + b"APP+RDN=1".hex()}


def conf(port, mac, packs, proxy=None):
    body = ("[gateway]\nlisten = 127.0.0.1:%d\nstale_after = 10\nstate_file = none\nlog_level = debug\n%s"
            % (port, proxy or ""))
    for i, extra in enumerate(packs):
        body += ("[pack.p%d]\nprotocol = dometic\nport = ble://%s\nunit_id = %d\npoll_interval = 1\n%s%s"
                 % (i, mac, i + 1, extra, "adapter = shed\n" if proxy else ""))
    return body


def check_values(label, port, unit, sp):
    regs, _, _ = tb.read_raw(port, unit, tb.BASE, 125)
    if not c.ok(regs is not None, label + ": the map answers"):
        return
    c.near(ha_float(regs[10:12]), sp["voltage"], 0.006, label + ": voltage (the cells' sum, 0.01 V)")
    c.near(ha_float(regs[12:14]), sp["current"], 0.006, label + ": current (%g A)" % sp["current"])
    c.eq(regs[60], round(sp["soc"] * 10), label + ": SOC 0.1 %")
    c.eq(regs[20:24], sp["cells_mv"][:4], label + ": four cells")


def stamp(line):
    m = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) ", line)
    return datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp() if m else None


def figures(label, gw, fake, mac, npacks):
    """The fake's figures: the connection to the first values (the log's
    Connect line to the first pack's values), the bytes written per poll of
    the later polls (a second of polls of every pack)."""
    lines = gw.text().splitlines()
    t0 = next((stamp(l) for l in lines if ": Connect " in l), None)
    t1 = next((stamp(l) for l in lines if re.search(r"pack p\d: [\d.]+ V", l)), None)
    if t0 and t1:
        print("   figure: %s: %.2f s from the connection to the first values (the fake BlueZ's)" % (label, t1 - t0))

    def written():
        st = fake.dev(mac)
        polls = len([l for l in gw.text().splitlines() if re.search(r"pack p\d: [\d.]+ V", l)])
        return sum(int(k) * v for k, v in st["write_sizes"].items()), polls
    b0, p0 = written()
    time.sleep(float(os.environ.get("FIG_WAIT", "4")))
    b1, p1 = written()
    if p1 > p0:
        print("   figure: %s: %.1f bytes written a poll (%d polls of %d packs)" % (label, (b1 - b0) / (p1 - p0),
                                                                                  p1 - p0, npacks))


def two_batteries(stack):
    mac = "C8:47:8C:00:72:%02X" % (1 if stack == "BlueZ" else 2)
    sim = Sim(protocol="dometic", packs=("address=15,soc=40", "address=0,soc=80"))
    dev = tb.device(mac, sim, layout="dometic", chunk=20, name=NAME, manufacturer=MFR)
    fake = tb.Fake([dev]) if stack == "BlueZ" else EspFake({"devices": [dev]})
    proxy = None if stack == "BlueZ" else "[ble_proxy.shed]\nhost = 127.0.0.1\nport = %d\n" % fake.port
    port = free_port()
    label = "two batteries on one link through " + stack
    gw = None
    try:
        if stack == "BlueZ":
            tb.scan_names(mac, NAME, "dometic")
        gw = Gateway(conf(port, mac, ("address = 15\n", "address = 0\n"), proxy), port)
        c.ok(wait_until(lambda: tb.online(port, 1) and tb.online(port, 2), 30), label + ": both packs online")
        sp = sim.state()["packs"]
        check_values(label + ", battery 0x0F", port, 1, sp[0])
        check_values(label + ", battery 0x00", port, 2, sp[1])
        st = fake.dev(mac)
        c.eq(st["connects"], 1, label + ": one connection for both")
        stats = sim.state()
        c.eq(stats.get("bad_requests", 0), 0, label + ": every write one of the protocol's (the simulator's count)")
        if stack == "BlueZ":
            c.eq(sorted(set(st["written"]) - WRITES), [], label + ": only the protocol's writes, each on its "
                 "characteristic (%s)" % sorted(st["written"]))
            figures("dometic, " + label, gw, fake, mac, 2)
            c.ok({"0009:9b00", "0003:ff", "0003:df"} <= set(fake.dev(mac)["written"]),
                 label + ": the greeting echoed, the keep-alive answered FF and DF in turn")
    finally:
        if c.failed and gw:
            gw.dump(40)
        if gw:
            gw.stop()
        fake.stop()
        sim.stop()


def test_bluez():
    two_batteries("BlueZ")


def test_esphome():
    two_batteries("ESPHome proxy")


def test_any():
    """A battery alone, its pack with address_any: the first battery heard."""
    mac = "C8:47:8C:00:72:03"
    sim = Sim(protocol="dometic", packs=("address=7,soc=55",))
    fake = tb.Fake([tb.device(mac, sim, layout="dometic", chunk=20, name=NAME, manufacturer=MFR)])
    port = free_port()
    gw = Gateway(conf(port, mac, ("address_any = true\n",)), port)
    try:
        c.ok(wait_until(lambda: tb.online(port, 1), 30), "address_any: online")
        check_values("address_any, battery 0x07", port, 1, sim.state()["packs"][0])
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        fake.stop()
        sim.stop()


if __name__ == "__main__":
    sys.exit(tb.run_on_private_bus(c, [(fn.__name__, fn) for fn in (test_bluez, test_esphome, test_any)]))
