#!/usr/bin/python3
"""End-to-end, per protocol: for every protocol that both bmsgw and the
simulator speak, run the real gateway against the simulated BMS (TCP serial
server) and check that the register image and --once equal the simulator's
wire state, and that quantities the protocol does not carry read as
register-map.md documents (0, 0x8000 for temperatures)."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks, Gateway, Sim, free_port, ha_float, s16, wait_until, write_conf  # noqa: E402

from pymodbus.client import ModbusTcpClient  # noqa: E402

BASE = 290
c = Checks()


def protocols(exe, pattern):
    out = subprocess.run([os.path.join(ROOT, BIN, exe), "--help"], capture_output=True, text=True)
    m = re.search(pattern, out.stdout + out.stderr)
    return m.group(1).replace(",", " ").split() if m else []


def image_checks(regs, p, proto):
    label = proto
    c.eq(regs[58], 1, label + ": online")
    c.near(ha_float(regs[10:12]), p["voltage"], 1e-3, label + ": voltage float")
    c.eq(regs[1], round(p["voltage"] * 100), label + ": voltage 0.01 V")
    c.near(ha_float(regs[12:14]), p["current"], 1e-3, label + ": current float")
    c.eq(s16(regs[2]), round(p["current"] * 10), label + ": current 0.1 A")
    if p["soc"] is None:
        c.eq(regs[0], 0, label + ": SOC absent -> 0")
    else:
        c.eq(regs[60], round(p["soc"] * 10), label + ": SOC 0.1 %")
    cells = p["cells_mv"]
    c.eq(regs[40], len(cells), label + ": cell count")
    c.eq(regs[20:36] + regs[83:99], (cells + [0] * 32)[:32], label + ": cells 1-32")
    if cells:
        c.eq(regs[6], max(cells), label + ": max cell")
        c.eq(regs[7], min(cells), label + ": min cell")
    temps = p["temps_c"][:8]
    c.eq([s16(v) for v in regs[67:75]], [round(t * 10) for t in temps] + [-32768] * (8 - len(temps)),
         label + ": temperature sensors (0x8000 = absent)")
    if p["mos_temp_c"] is None:
        c.eq(regs[66], 0x8000, label + ": MOS temperature absent -> 0x8000")
    else:
        c.eq(s16(regs[66]), round(p["mos_temp_c"] * 10), label + ": MOS temperature")
    if p["remaining_ah"] is None:
        c.eq(regs[44], 0, label + ": remaining capacity absent -> 0")
    else:
        c.eq(regs[44], round(p["remaining_ah"] * 10), label + ": remaining capacity 0.1 Ah")
    if p["capacity_ah"] is None:
        c.eq(regs[62], 0, label + ": full capacity absent -> 0")
    else:
        c.eq(regs[62], round(p["capacity_ah"] * 10), label + ": full capacity 0.1 Ah")
    if p["soh"] is None:
        c.eq(regs[61], 0, label + ": SOH absent -> 0")
    else:
        c.eq(regs[61], round(p["soh"]), label + ": SOH %")
    if p["cycles"] is None:
        c.eq(regs[63] << 16 | regs[64], 0, label + ": cycles absent -> 0")
    else:
        c.eq(regs[63] << 16 | regs[64], p["cycles"], label + ": cycles")
    if p["chg_mos"] is not None:
        c.eq((regs[18], regs[17]), (p["chg_mos"], p["dsg_mos"]), label + ": MOSFETs")


def once_checks(js, p, proto):
    c.eq(js.get("ok"), True, proto + ": --once ok")
    c.near(js.get("voltage"), p["voltage"], 0.006, proto + ": --once voltage")
    c.near(js.get("current"), p["current"], 0.006, proto + ": --once current")
    c.eq(js.get("cells_mv"), p["cells_mv"], proto + ": --once cells")
    c.eq(js.get("soh") is None, p["soh"] is None, proto + ": --once SOH null exactly when absent")


def run(proto):
    sim = Sim(protocol=proto)
    gw_port = free_port()
    conf = """[gateway]
listen = 127.0.0.1:%d
stale_after = 5
[pack.p]
protocol = %s
port = tcp://127.0.0.1:%d
poll_interval = 0.5
""" % (gw_port, proto, sim.port)
    gw = Gateway(conf, gw_port)
    client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    client.connect()
    try:
        def online():
            rr = client.read_holding_registers(BASE, 125, slave=1)
            return None if rr.isError() or rr.registers[58] != 1 else rr.registers
        regs = wait_until(online, 15)
        if not c.ok(regs is not None, proto + ": pack comes online through the gateway"):
            gw.dump()
            sim.dump()
            return
        p = sim.state()["packs"][0]
        image_checks(regs, p, proto)
        c.eq(regs[103], protocol_id(gw_port), proto + ": protocol id register matches --register-map")
        sim.ctl("fault 1 silent")
        c.ok(wait_until(lambda: client.read_holding_registers(BASE, 1, slave=1).isError(), 15),
             proto + ": silent BMS -> exception")
        sim.ctl("fault 1 none")
        c.ok(wait_until(online, 15) is not None, proto + ": recovers")
    finally:
        client.close()
        gw.stop()
    try:
        out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", gw.conf, "--once"],
                             capture_output=True, text=True, timeout=60)
        js = json.loads(out.stdout.splitlines()[0]) if out.stdout.strip() else {}
        once_checks(js, sim.state()["packs"][0], proto)
    finally:
        sim.stop()


_ids = {}


def protocol_id(_port):
    return _ids.get(current[0], -1)


current = [None]

if __name__ == "__main__":
    gw_protos = protocols("bmsgw", r"protocols:\s*(.*)")
    sim_protos = protocols("bmsgw-sim", r"--protocol NAME\s+protocol spoken by the packs:\s*(.*)")
    mapdoc = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "--register-map"], capture_output=True, text=True).stdout
    for m in re.finditer(r"^\|\s*(\d+)\s*\|\s*`?([a-z0-9-]+)`?\s*\|", mapdoc, re.M):
        _ids[m.group(2)] = int(m.group(1))
    both = [p for p in gw_protos if p in sim_protos]
    c.ok("daly" in both, "protocols tested end to end: " + " ".join(both))
    missing = [p for p in gw_protos if p not in sim_protos]
    c.eq(missing, [], "every protocol of bmsgw has a simulator responder")
    for proto in both:
        print("== " + proto, flush=True)
        current[0] = proto
        try:
            run(proto)
        except Exception as e:
            import traceback
            traceback.print_exc()
            c.ok(False, "%s raised %r" % (proto, e))
    sys.exit(c.report())
