#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A CBT Power pack whose cell answer has a spare slot (issue 89 item 2),
end to end without a radio: the real bmsgw against the simulator's pack
(bmsgw-sim --protocol cbt-power, `junk=1`: the slot after the last cell
holds 2317 mV, as aiobmsble's recorded 4S pack fills its fifth beside its
13.4 V) behind the fake BlueZ (tests/ble/fake_bluez.py) on a private
dbus-daemon, as tests/integration/test_ble.py runs it.

- a 4S pack: it comes online and stays so; Modbus serves the simulator's
  voltage, 4 cells (register 40), its four cells and 0 in the fifth
  register; /api/state its four cells and no implausible poll (before
  issue 89 every poll was refused: 13.4 V against a five-cell sum);
- a 5S pack with the spare slot after its fifth cell: 5 cells;
- frames with a bad sum (the simulator's `fault badsum`): the pack goes
  stale, never serving a value of one, and comes back with whole frames
  (a frame no cell count fits: tests/unit/test_cbt_power.c).

Prints "N passed, N failed".
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Gateway, Sim, free_port, ha_float, wait_until  # noqa: E402

import test_ble  # noqa: E402 - the fake BlueZ, its bus and the Modbus helpers

c = Checks()
test_ble.c = c  # its helpers report into this script's checks
BASE = 290
FFE5 = "0000ffe5-0000-1000-8000-00805f9b34fb"
NAME = "CBTR012345"


def device(mac, sim):
    return {"address": mac, "name": NAME, "layout": "cbt-power", "chunk": 20, "mode": "bridge",
            "sim": "127.0.0.1:%d" % sim.port, "uuids": [FFE5], "rssi": -60}


def conf(port, http, mac):
    return ("[gateway]\nlisten = 127.0.0.1:%d\nstale_after = 10\nstate_file = none\n[http]\n"
            "listen = 127.0.0.1:%d\n[history]\nfile = none\n[pack.cbt]\nprotocol = cbt-power\n"
            "port = ble://%s\nunit_id = 1\npoll_interval = 0.5\n" % (port, http, mac))


def served(port, http):
    """(Modbus voltage, cell count, the first six cell registers, /api/state
    cells, implausible polls), or None while the map does not answer."""
    regs, _, _ = test_ble.read_raw(port, 1, BASE, 125)
    pk = test_ble.api_pack(http, "cbt") or {}
    if regs is None or not pk.get("online"):
        return None
    return (round(ha_float(regs[10:12]), 3), regs[40], tuple(regs[20:26]), tuple(pk.get("cells_mv") or ()),
            (pk.get("wire") or {}).get("implausible"))


def case(label, spec, mac, ncells):
    print("== " + label)
    sim = Sim(protocol="cbt-power", packs=(spec,))
    fake = test_ble.Fake([device(mac, sim)])
    port, http = free_port(), free_port()
    gw = None
    try:
        gw = Gateway(conf(port, http, mac), port)
        got = wait_until(lambda: served(port, http), 40)
        p = sim.state()["packs"][0]
        cells = p["cells_mv"]
        want = (round(p["voltage"], 3), ncells, tuple((cells + [0] * 6)[:6]), tuple(cells), 0)
        c.eq(len(cells), ncells, label + ": the simulator's pack has %d cells" % ncells)
        c.eq(got, want, label + ": Modbus voltage, cell count, cells and 0 after them; /api/state cells; "
             "no implausible poll")
        polls = (test_ble.api_pack(http, "cbt") or {}).get("good_polls") or 0
        c.ok(wait_until(lambda: ((test_ble.api_pack(http, "cbt") or {}).get("good_polls") or 0) >= polls + 3, 30),
             label + ": three polls more, each served")
        c.eq(served(port, http), want, label + ": still the same, nothing implausible")
        return sim, fake, gw, port, http
    except BaseException:
        if gw:
            gw.dump(30)
            gw.stop()
        fake.stop()
        sim.stop()
        raise


def test_four():
    sim, fake, gw, port, http = case("a 4S pack, 2317 mV in the fifth slot", "address=1,cells=4,current=-3.14,"
                                     "soc=100,capacity=40,junk=1", "C8:47:80:00:89:01", 4)
    try:
        seen = set()

        def stale():
            x = served(port, http)
            if x:
                seen.add(x)
            return x is None
        sim.ctl("fault 1 badsum")
        c.ok(wait_until(stale, 30), "a 4S pack: frames with a bad sum: stale")
        sim.ctl("fault 1 none")
        c.ok(wait_until(lambda: served(port, http), 30) is not None, "a 4S pack: back with whole frames")
        c.ok(all(x[1] == 4 for x in seen), "a 4S pack: never another cell count (%s)" % sorted(seen))
    finally:
        if c.failed:
            gw.dump(30)
        gw.stop()
        fake.stop()
        sim.stop()


def test_five():
    sim, fake, gw, _, _ = case("a 5S pack, 2317 mV in the sixth slot", "address=1,cells=5,current=2,soc=55,junk=1",
                               "C8:47:80:00:89:02", 5)
    if c.failed:
        gw.dump(30)
    gw.stop()
    fake.stop()
    sim.stop()


def main():
    return test_ble.run_on_private_bus(c, [(fn.__name__, fn) for fn in (test_four, test_five)])


if __name__ == "__main__":
    sys.exit(main())
