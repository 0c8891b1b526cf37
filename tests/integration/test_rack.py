#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Rack and wall batteries end to end (the real gateway against the bundled
simulator, with pymodbus, a real Mosquitto broker and /api/state):

- a bus of three PACE packs, each at its own address: every pack equals the
  simulator's through Modbus, /api/state and MQTT; one silenced goes stale
  while the other two stay fresh, and comes back;
- three PACE packs read through their master's answer for all (`position`):
  each pack gets its own record, one poll for the three;
- a pack that answers from another address: online with `address_any`,
  never without (its failures counted);
- a Seplos V3 that refuses its optional block (exception 02): polled
  without it, the exceptions counted in /api/state and /metrics, no alarm
  bits invented;
- the BMS's identity as Modbus device identification (FC 0x2B objects
  0x80-0x84) and in /api/state.

Per protocol, every brand: test_brands.py; MQTT for every protocol:
test_mqtt.py.
"""
import http.client
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Gateway, Sim, free_port, ha_float, s16, wait_until  # noqa: E402
from mqtt_harness import Broker, Subscriber  # noqa: E402

from pymodbus.client import ModbusTcpClient  # noqa: E402
from pymodbus.mei_message import ReadDeviceInformationRequest  # noqa: E402

BASE = 290
c = Checks()


def http_get(port, path):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        conn.close()
        return body.decode() if r.status == 200 else None
    except OSError:
        return None


def api_state(port):
    body = http_get(port, "/api/state")
    return json.loads(body) if body else None


def gateway_conf(gw_port, http_port, packs, extra=""):
    return ("[gateway]\nlisten = 127.0.0.1:%d\nstale_after = 5\nstate_file = none\n[http]\nlisten = 127.0.0.1:%d\n"
            % (gw_port, http_port) + packs + extra)


def pack(name, proto, port, unit, extra=""):
    return ("[pack.%s]\nprotocol = %s\nport = tcp://127.0.0.1:%d\nunit_id = %d\npoll_interval = 0.5\n%s"
            % (name, proto, port, unit, extra))


def regs(client, unit, count=125):
    rr = client.read_holding_registers(BASE, count, slave=unit)
    return None if rr.isError() or rr.registers[58] != 1 else rr.registers


def modbus_matches(r, p, label):
    c.near(ha_float(r[10:12]), p["voltage"], 1e-3, label + ": voltage")
    c.near(s16(r[2]), p["current"] * 10, 1, label + ": current 0.1 A")
    c.eq(r[40], len(p["cells_mv"]), label + ": cell count")
    c.eq(r[20:36], (p["cells_mv"] + [0] * 16)[:16], label + ": cells")
    c.eq(r[60], round(p["soc"] * 10), label + ": SOC 0.1 %")


def state_matches(js, p, label):
    c.near(js.get("voltage"), p["voltage"], 0.006, label + ": voltage")
    c.near(js.get("current"), p["current"], 0.006, label + ": current")
    c.near(js.get("soc"), p["soc"], 0.06, label + ": SOC")
    c.eq(js.get("cells_mv"), p["cells_mv"], label + ": cells")


def test_bus_of_three():
    print("== a bus of three PACE packs")
    sim = Sim("pace", packs=("address=1,soc=30", "address=2,soc=50,current=-8.5", "address=3,soc=70,cells=15"))
    broker = Broker()
    gw_port, http_port = free_port(), free_port()
    conf = gateway_conf(gw_port, http_port, "".join(pack("r%d" % a, "pace", sim.port, a, "address = %d\n" % a)
                                                     for a in (1, 2, 3)),
                        "[mqtt]\nhost = 127.0.0.1\nport = %d\nclient_id = t1\ntopic_prefix = site/bmsgw\n"
                        % broker.port)
    sub = Subscriber(broker.port, topics=("site/#",))
    gw = Gateway(conf, gw_port)
    client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    client.connect()
    try:
        three = wait_until(lambda: all(regs(client, u) for u in (1, 2, 3)) and [regs(client, u) for u in (1, 2, 3)],
                           30)
        if not c.ok(three, "the three packs come online"):
            gw.dump()
            return
        st = {p["address"]: p for p in sim.state()["packs"]}
        for a, r in zip((1, 2, 3), three):
            modbus_matches(r, st[a], "Modbus unit %d (ADR %d)" % (a, a))
        js = api_state(http_port)
        c.eq([p["pack"] for p in js["packs"]], ["r1", "r2", "r3"], "/api/state lists the three packs")
        for a, pk in zip((1, 2, 3), js["packs"]):
            state_matches(pk, st[a], "/api/state r%d" % a)
        c.eq(len(js["links"]), 1, "/api/state: the three share one wire")
        for a in (1, 2, 3):
            m = sub.wait_for("site/bmsgw/r%d/state" % a, lambda m: m.payload, 10)
            if c.ok(m is not None, "MQTT r%d/state published" % a):
                state_matches(json.loads(m.text()), st[a], "MQTT r%d" % a)
        # one silenced: stale, the others fresh
        sim.ctl("fault 2 silent")
        c.ok(wait_until(lambda: client.read_holding_registers(BASE, 1, slave=2).isError(), 15),
             "the silenced pack goes stale (Modbus exception)")
        # a dead pack gets one try (timeout 1 s) per round, never its
        # retries: the others go on being polled, never stale.  Counted on the
        # simulator's wire, not timed: each answered poll of the others is two
        # answered requests (0x42, 0x44), each round one unanswered request of
        # the silent pack at most (with retries, three)
        sim.ctl("stats reset")
        errors = 0

        def rounds_done():
            nonlocal errors
            errors += sum(client.read_holding_registers(BASE + 59, 1, slave=u).isError() for u in (1, 3))
            return json.loads(sim.ctl("stats"))["answers"] >= 16
        c.ok(wait_until(rounds_done, 60), "the other two are polled while the third is silent")
        st = json.loads(sim.ctl("stats"))
        rounds = st["answers"] / 4
        c.ok(errors == 0 and st["requests"] - st["answers"] <= rounds + 1,
             "the other two stay fresh: %d unanswered requests to the silent pack in %.1f rounds, %d stale reads"
             % (st["requests"] - st["answers"], rounds, errors))
        c.ok(sub.wait_for("site/bmsgw/r2/availability", lambda m: m.text() == "offline", 10) is not None,
             "MQTT: the silenced pack's availability goes offline")
        sim.ctl("fault 2 none")
        c.ok(wait_until(lambda: regs(client, 2), 15) is not None, "and comes back")
    finally:
        client.close()
        gw.stop()
        sub.close()
        broker.stop()
        sim.stop()


def test_through_master():
    print("== three PACE packs through their master's answer for all")
    sim = Sim("pace", packs=("address=1,soc=35", "address=2,soc=55", "address=3,soc=75,cells=8"))
    gw_port, http_port = free_port(), free_port()
    conf = gateway_conf(gw_port, http_port, "".join(
        pack("s%d" % i, "pace", sim.port, i, "address = 1\nposition = %d\n" % i) for i in (1, 2, 3)))
    gw = Gateway(conf, gw_port)
    client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    client.connect()
    try:
        three = wait_until(lambda: all(regs(client, u) for u in (1, 2, 3)) and [regs(client, u) for u in (1, 2, 3)],
                           30)
        if not c.ok(three, "the three packs of the master come online"):
            gw.dump()
            return
        packs = sim.state()["packs"]
        for i, r in enumerate(three):
            modbus_matches(r, packs[i], "position %d" % (i + 1))
        # one poll for the stack: 0x42 and 0x44 for all, not two per pack
        def good(unit):
            rr = client.read_holding_registers(BASE + 99, 2, slave=unit)
            return None if rr.isError() else rr.registers[0] << 16 | rr.registers[1]
        sim.ctl("stats reset")
        g0 = good(1)
        c.ok(wait_until(lambda: (good(1) or 0) >= g0 + 6, 20), "the master is polled (6 polls)")
        polls = good(1) - g0
        req = json.loads(sim.ctl("stats"))["requests"]
        c.ok(req <= 2 * polls + 4, "%d requests for %d polls of the three packs: one 0x42 and one 0x44 a poll"
             % (req, polls))
        c.ok(abs((good(3) or 0) - (good(1) or 0)) <= 2, "each pack gets every poll's record")
    finally:
        client.close()
        gw.stop()
        sim.stop()


def test_address_any():
    print("== a pack that answers from another address")
    sim = Sim("pace", packs=("address=1,reply_adr=0",))
    sim2 = Sim("pace", packs=("address=1,reply_adr=0",))
    gw_port, http_port = free_port(), free_port()
    conf = gateway_conf(gw_port, http_port, pack("any", "pace", sim.port, 1, "address = 1\naddress_any = true\n") +
                        pack("strict", "pace", sim2.port, 2, "address = 1\ntimeout = 0.5\nretries = 0\n"))
    gw = Gateway(conf, gw_port)
    client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    client.connect()
    try:
        r = wait_until(lambda: regs(client, 1), 20)
        c.ok(r is not None, "address_any: the pack answering from ADR 0 comes online")
        if r:
            modbus_matches(r, sim.state()["packs"][0], "address_any")

        def failed():
            rr = client.read_holding_registers(BASE + 101, 2, slave=2)
            return None if rr.isError() else rr.registers[0] << 16 | rr.registers[1]
        c.ok(wait_until(lambda: (failed() or 0) >= 3, 20), "without address_any: its polls fail, counted")
        c.ok(client.read_holding_registers(BASE, 1, slave=2).isError(), "... and it never comes online")
    finally:
        client.close()
        gw.stop()
        sim.stop()
        sim2.stop()


def test_exceptions_and_identity():
    print("== Seplos V3: an optional block refused, the identity")
    sim = Sim("seplos3", packs=("address=0,refuse=4608",))  # 0x1200: the PIC coils
    gw_port, http_port = free_port(), free_port()
    conf = gateway_conf(gw_port, http_port, pack("box", "seplos3", sim.port, 1, "address = 0\n"))
    gw = Gateway(conf, gw_port)
    client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    client.connect()
    try:
        r = wait_until(lambda: regs(client, 1), 20)
        if not c.ok(r is not None, "a BMS refusing PIC is still read"):
            gw.dump()
            return
        modbus_matches(r, sim.state()["packs"][0], "seplos3 without PIC")
        js = wait_until(lambda: (lambda j: j if j and j["links"][0].get("exceptions", 0) >= 1 else None)(
            api_state(http_port)), 10)
        c.ok(js is not None, "/api/state counts the exception answers (%s)"
             % (js["links"][0].get("exceptions") if js else None))
        if js:
            pk = js["packs"][0]
            c.eq(pk.get("charge_mos"), None, "no MOSFET state without PIC")
            c.eq((pk.get("problem"), pk.get("alarms"), pk.get("raw_alarms")), (None, [], []),
                 "no alarm state without PIC (none invented)")
            c.eq(js["links"][0].get("checksum_errors"), 0, "no checksum errors")
            c.eq(pk.get("bms", {}).get("vendor"), "XZH-ElecTech Co.,Ltd", "/api/state: the BMS's maker")
            c.eq(pk.get("bms", {}).get("model"), "SEPLOS-SIM", "/api/state: the device name")
        met = http_get(http_port, "/metrics") or ""
        m = re.search(r'^bmsgw_link_exceptions_total\{[^}]*\} (\d+)', met, re.M)
        c.ok(m is not None and int(m.group(1)) >= 1, "/metrics: bmsgw_link_exceptions_total (%s)"
             % (m.group(1) if m else None))
        # the identity as Modbus device identification, extended objects
        rr = client.execute(ReadDeviceInformationRequest(read_code=3, object_id=0x80, unit=1))
        info = getattr(rr, "information", None) or {}
        c.eq(info.get(0x80), b"XZH-ElecTech Co.,Ltd", "FC 0x2B object 0x80: the BMS's maker")
        c.eq(info.get(0x81), b"SEPLOS-SIM", "FC 0x2B object 0x81: the device name")
        c.eq(info.get(0x83), b"SIMBMS0001", "FC 0x2B object 0x83: the BMS's serial")
        c.eq(info.get(0x84), b"SIMPACK0001", "FC 0x2B object 0x84: the pack's serial")
    finally:
        client.close()
        gw.stop()
        sim.stop()


if __name__ == "__main__":
    for t in (test_bus_of_three, test_through_master, test_address_any, test_exceptions_and_identity):
        try:
            t()
        except Exception as e:  # a failure is reported, the other parts still run
            import traceback
            traceback.print_exc()
            c.ok(False, "%s raised %r" % (t.__name__, e))
    sys.exit(c.report())
