#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A JBD UP16S / Eco-Worthy rack end to end (the real gateway against the
bundled simulator, protocol jbd-up, bms/PROTOCOLS.md §44): a master pack at
address 1 and two slaves at addresses 2 and 3 behind it, read through one
connection, one pack section per address:

- the three packs online, each equal to the simulator's (Modbus registers and
  /api/state: voltage, cells, SOC, temperatures, MOSFET temperature);
- the master's identity (0x1C00: serial, model, pack name, firmware) in
  /api/state and as Modbus device identification; a slave's identity
  read gets no answer (as in the capture, UP16S-10): a slave has none,
  yet it is never failed for it (no failed polls);
- one TCP connection carried the whole rack (opened once, never
  reopened), every request a well-formed FC 0x78 read (no bad requests, nothing else on the wire);
- a charging and a discharging current keep their sign (+ = charging).
Per protocol, every brand: test_brands.py.
"""
import http.client
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Gateway, Sim, free_port, ha_float, s16, wait_until  # noqa: E402

from pymodbus.client import ModbusTcpClient  # noqa: E402
from pymodbus.mei_message import ReadDeviceInformationRequest  # noqa: E402

BASE = 290
c = Checks()


def api_state(port):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/api/state")
        r = conn.getresponse()
        body = r.read()
        conn.close()
        return json.loads(body) if r.status == 200 else None
    except (OSError, ValueError):
        return None


def regs(client, unit):
    rr = client.read_holding_registers(BASE, 125, slave=unit)
    return None if rr.isError() or rr.registers[58] != 1 else rr.registers


def rack():
    sim = Sim("jbd-up", packs=("address=1,soc=40,current=0,sensors=3", "address=2,soc=70,current=0,sensors=3",
                               "address=3,soc=55,current=0,sensors=2"))
    gw_port, http_port = free_port(), free_port()
    conf = ("[gateway]\nlisten = 127.0.0.1:%d\nstale_after = 5\nstate_file = none\n[http]\nlisten = 127.0.0.1:%d\n"
            % (gw_port, http_port))
    for name, addr in (("master", 1), ("slave", 2), ("slave2", 3)):
        conf += ("[pack.%s]\nprotocol = jbd-up\nport = tcp://127.0.0.1:%d\naddress = %d\nunit_id = %d\n"
                 "poll_interval = 0.5\ntimeout = 0.5\n" % (name, sim.port, addr, addr))
    gw = Gateway(conf, gw_port)
    client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    client.connect()
    try:
        def both():
            js = api_state(http_port)
            if not js or not all(p.get("online") for p in js["packs"]):
                return None
            # the master's identity read, and the slaves' unanswered ones, are behind them
            ok = js["packs"][0].get("bms") and all(p.get("good_polls", 0) >= 2 for p in js["packs"][1:])
            return js if ok else None
        js = wait_until(both, 20)
        if not c.ok(js is not None and len(js["packs"]) == 3, "the master and two slaves online through one port"):
            gw.dump()
            return
        st = {p["address"]: p for p in sim.state()["packs"]}
        for i, addr in enumerate((1, 2, 3)):
            pk, p = js["packs"][i], st[addr]
            label = "pack at address %d" % addr
            c.near(pk.get("voltage"), p["voltage"], 0.006, label + ": /api/state voltage")
            c.eq(pk.get("cells_mv"), p["cells_mv"], label + ": /api/state cells")
            c.near(pk.get("soc"), p["soc"], 0.06, label + ": /api/state SOC")
            c.eq([round(t, 1) for t in pk.get("temps_c") or []], [float(t) for t in p["temps_c"]],
                 label + ": /api/state temperatures (the sensors, then the ambient one)")
            c.near(pk.get("mos_temp_c"), p["mos_temp_c"], 0.06, label + ": /api/state MOSFET temperature")
            c.eq(pk.get("failed_polls"), 0, label + ": no failed poll (%r)" % pk.get("failed_polls"))
            r = wait_until(lambda: regs(client, addr), 10)
            if c.ok(r is not None, label + ": Modbus registers served"):
                c.near(ha_float(r[10:12]), p["voltage"], 1e-3, label + ": Modbus voltage")
                c.eq(r[20:36], (p["cells_mv"] + [0] * 16)[:16], label + ": Modbus cells")
        bms = js["packs"][0].get("bms") or {}
        c.eq((bms.get("vendor"), bms.get("model"), bms.get("firmware")), ("JBD", "JBD48100000", "12.4"),
             "master: vendor, model and firmware in /api/state")
        c.eq((bms.get("serial"), bms.get("pack_serial")), ("UP16S019SIM000000000000001", "ECO-LFP48100-3U-SIM"),
             "master: the BMS serial and the pack name in /api/state")
        c.eq([p.get("bms") for p in js["packs"][1:]], [None, None],
             "slaves: no identity (the master does not forward 0x1C00)")
        rr = client.execute(ReadDeviceInformationRequest(read_code=3, object_id=0x80, unit=1))
        info = getattr(rr, "information", None) or {}
        c.eq(info.get(0x83), b"UP16S019SIM000000000000001", "FC 0x2B object 0x83: the master's serial")
        stats = json.loads(sim.ctl("stats"))
        link = [ln for ln in gw.text().splitlines() if "link tcp://127.0.0.1:%d" % sim.port in ln]
        c.ok(len(link) == 1 and link[0].endswith(": open"),
             "one connection reads the whole rack, never reopened (%s)" % "; ".join(link))
        c.eq(stats.get("bad_requests"), 0, "every request a well-formed FC 0x78 read")
        c.ok(stats.get("requests", 0) > stats.get("answers", 0) >= 4,
             "the slaves' identity reads were asked and not answered (%s requests, %s answers)"
             % (stats.get("requests"), stats.get("answers")))
        for amps in (12, -7):
            sim.ctl("set 2 current %d" % amps)
            got = wait_until(lambda: (lambda j: j if j and abs((j["packs"][1].get("current") or 0) - amps) < 0.05
                                      else None)(api_state(http_port)), 10)
            c.ok(got is not None, "slave at %+d A: /api/state current has the sign (+ = charging)" % amps)
            r = wait_until(lambda: (lambda x: x if x and abs(s16(x[2]) - amps * 10) <= 1 else None)(regs(client, 2)), 10)
            c.ok(r is not None, "slave at %+d A: Modbus current 0.1 A" % amps)
    finally:
        client.close()
        gw.stop()
        sim.stop()


if __name__ == "__main__":
    try:
        rack()
    except Exception as e:
        import traceback
        traceback.print_exc()
        c.ok(False, "rack raised %r" % e)
    sys.exit(c.report())
