#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Banks end to end: three simulated Daly packs on one shared RS485 bus (one
TCP serial server) plus one pack on a second link, a [bank] unit, upstream
pushes to a local pymodbus server (and one to a blackholed server), one pack
killed mid-run, and --ha-yaml checked against Home Assistant's modbus schema
rules."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BIN, ROOT, Checks, Gateway, Proc, Sim, free_port, ha_float, listener,  # noqa: E402
                     wait_port, wait_until, write_conf)

from pymodbus.client import ModbusTcpClient  # noqa: E402

BASE = 290
c = Checks()


def blackhole(port):
    """Accept connections and never answer (a hung PLC)."""
    held = []
    return listener(port, held.append)


def read(client, unit, addr=BASE, count=125):
    rr = client.read_holding_registers(addr, count, slave=unit)
    return None if rr.isError() else rr.registers


def main():
    bus = Sim(packs=("address=1,cells=16,soc=55,current=10,capacity=100",
                     "address=2,cells=16,soc=60,current=-4,capacity=200",
                     "address=3,cells=16,soc=65,current=2.5,capacity=100"))
    solo = Sim(packs=("address=1,cells=16,soc=60,current=1,capacity=50",))
    up_port, dead_port, gw_port = free_port(), free_port(), free_port()
    ups = Proc(["/usr/bin/python3", os.path.join(ROOT, "tests/integration/upstream_server.py"), str(up_port)],
               "upstream")
    if not wait_port(up_port):
        ups.dump()
        raise RuntimeError("upstream server did not start")
    hole = blackhole(dead_port)
    conf = """[gateway]
listen = 127.0.0.1:%(gw)d
stale_after = 6
[pack.a]
protocol = daly
port = tcp://127.0.0.1:%(bus)d
address = 1
unit_id = 1
poll_interval = 1
timeout = 0.3
retries = 1
[pack.b]
protocol = daly
port = tcp://127.0.0.1:%(bus)d
address = 2
unit_id = 2
poll_interval = 1
timeout = 0.3
retries = 1
[pack.c]
protocol = daly
port = tcp://127.0.0.1:%(bus)d
address = 3
unit_id = 3
poll_interval = 1
timeout = 0.3
retries = 1
[pack.d]
protocol = daly
port = tcp://127.0.0.1:%(solo)d
unit_id = 4
poll_interval = 1
[bank]
unit_id = 10
max_deviation = 0.5
[upstream.plc]
host = 127.0.0.1
port = %(up)d
source = bank
base = 1000
interval = 0.5
[upstream.pb]
host = 127.0.0.1
port = %(up)d
unit_id = 2
source = b
base = 3000
interval = 0.5
[upstream.dead]
host = 127.0.0.1
port = %(dead)d
source = a
interval = 0.5
timeout = 5
""" % {"gw": gw_port, "bus": bus.port, "solo": solo.port, "up": up_port, "dead": dead_port}
    gw = Gateway(conf, gw_port)
    client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    client.connect()
    upc = ModbusTcpClient("127.0.0.1", port=up_port, timeout=3)
    upc.connect()
    try:
        bank = wait_until(lambda: (lambda r: r if r and r[105] == 4 else None)(read(client, 10)), 20)
        if not c.ok(bank is not None, "all four packs online in the bank"):
            gw.dump(60)
            return
        # every pack on the shared bus and the solo link equals its simulator
        states = {u: s for u, s in zip((1, 2, 3), bus.state()["packs"])}
        states[4] = solo.state()["packs"][0]
        regs = {}
        for u, p in states.items():
            regs[u] = read(client, u)
            c.near(ha_float(regs[u][10:12]), p["voltage"], 1e-3, "pack unit %d: voltage" % u)
            c.eq(regs[u][60], round(p["soc"] * 10), "pack unit %d: SOC" % u)
            c.eq(regs[u][20:36], p["cells_mv"], "pack unit %d: cells" % u)
        # the bank aggregates the fresh packs
        bank = read(client, 10)
        ps = [states[u] for u in (1, 2, 3, 4)]
        c.eq((bank[105], bank[106]), (4, 4), "bank: packs online / configured")
        c.eq(bank[107] << 16 | bank[108], 0b1111, "bank: online pack bits")
        c.near(ha_float(bank[12:14]), sum(p["current"] for p in ps), 1e-3, "bank: current = sum")
        c.near(ha_float(bank[10:12]), sum(p["voltage"] for p in ps) / 4, 1e-3, "bank: voltage = mean")
        c.near(ha_float(bank[14:16]), sum(p["voltage"] * p["current"] for p in ps), 0.05, "bank: power = sum")
        c.eq(bank[44], round(sum(p["remaining_ah"] for p in ps) * 10), "bank: remaining = sum")
        caps = [p["remaining_ah"] * 100 / p["soc"] for p in ps]
        soc = sum(cp * p["soc"] for cp, p in zip(caps, ps)) / sum(caps)
        c.near(bank[60] / 10, soc, 0.051, "bank: SOC weighted by capacity (%.2f)" % soc)
        cells = [(mv, k + 1, i + 1) for k, p in enumerate(ps) for i, mv in enumerate(p["cells_mv"])]
        lo = min(cells, key=lambda t: (t[0], t[1], t[2]))
        hi = max(cells, key=lambda t: (t[0], -t[1], -t[2]))
        c.eq((bank[7], bank[109], bank[110]), lo, "bank: min cell with pack and cell number")
        c.eq((bank[6], bank[111], bank[112]), hi, "bank: max cell with pack and cell number")
        c.eq(bank[4], hi[0] - lo[0], "bank: cell delta across packs")
        c.eq((bank[113], bank[45]), (0, 0), "bank: no deviation, failure flag clear")
        c.eq(bank[103], 0, "bank: protocol id 0")
        for unit in (0, 255):
            r = read(client, unit, BASE + 105, 2)
            c.eq(r, [4, 4], "unit %d serves the bank" % unit)
        # upstream: the bank image arrives at 1000.., pack b's at 3000..
        pushed = wait_until(lambda: (lambda r: r if r and r[105] == 4 else None)(read(upc, 1, 1000, 125)), 10)
        c.ok(pushed is not None, "upstream server received the bank image (FC16)")
        if pushed:
            now = read(client, 10)
            c.near(ha_float(pushed[10:12]), ha_float(now[10:12]), 0.05, "pushed bank voltage")
            c.eq(pushed[4:8] + pushed[105:116], now[4:8] + now[105:116],
                 "pushed cell statistics and bank registers equal the served ones")
        pb = wait_until(lambda: (lambda r: r if r and r[58] == 1 else None)(read(upc, 2, 3000, 125)), 10)
        c.ok(pb is not None and pb[20:36] == states[2]["cells_mv"], "pack b pushed to unit 2 at 3000")
        # a blackholed upstream delays nobody: a loop that waited for its
        # answer would hold a read for its 5 s timeout (the latencies are
        # make bench's figures; half the timeout is no scheduling noise)
        t0 = time.monotonic()
        worst = 0
        while time.monotonic() - t0 < 6:
            t1 = time.monotonic()
            ok = read(client, 1, BASE, 10) is not None
            worst = max(worst, time.monotonic() - t1)
            if not ok:
                break
        c.ok(ok and worst < 2.5, "no read waits on a blackholed upstream (worst %.1f ms)" % (worst * 1000))
        c.ok(wait_until(lambda: "upstream dead" in gw.text() and "no answer" in gw.text(), 15),
             "blackholed upstream: timeout logged")
        # deviation: pack c's voltage leaves the others
        bus.ctl("set 3 soc 100")
        dev = wait_until(lambda: (lambda r: r if r and r[113] == 1 else None)(read(client, 10)), 10)
        c.ok(dev is not None and (dev[114] << 16 | dev[115]) == 0b100 and dev[45] == 1,
             "bank: pack c departing in voltage is flagged (bit 2) and raises the failure flag")
        bus.ctl("set 3 soc 65")
        wait_until(lambda: (lambda r: r if r and r[113] == 0 else None)(read(client, 10)), 10)
        # kill pack b mid-run
        bus.ctl("fault 2 silent")
        t_kill = time.monotonic()
        gone = wait_until(lambda: (lambda r: r if r and r[105] == 3 else None)(read(client, 10)), 15)
        c.ok(gone is not None, "bank: pack b killed -> 3 packs online")
        if gone:
            c.eq(gone[107] << 16 | gone[108], 0b1101, "bank: online bits without pack b")
            c.eq(gone[45], 1, "bank: failure flag set while a pack is missing")
            c.near(ha_float(gone[12:14]), states[1]["current"] + states[3]["current"] + states[4]["current"],
                   1e-3, "bank: current without pack b")
        c.eq(client.read_holding_registers(BASE, 10, slave=2).isError(), True, "pack b's unit: exception (stale)")
        # the others on the same bus keep their pace
        ages = []
        for _ in range(6):
            ages.append(max(read(client, u, BASE + 59, 1)[0] for u in (1, 3)))
            time.sleep(0.5)
        c.ok(max(ages) <= 3, "packs a and c stay fresh beside the dead pack b (ages %s s)" % ages)
        good = [read(client, u, BASE + 99, 2) for u in (1, 3)]
        # (a failed read: not yet)
        polled = lambda: all(g2 and (g2[0] << 16 | g2[1]) > (g[0] << 16 | g[1])  # noqa: E731
                             for g, g2 in zip(good, [read(client, u, BASE + 99, 2) for u in (1, 3)]))
        c.ok(wait_until(polled, 10), "packs a and c are still polled (their good polls count on)")
        # the push of pack b shows its failure, never stale values
        fb = wait_until(lambda: (lambda r: r if r and r[45] == 1 and r[58] == 0 else None)(read(upc, 2, 3000, 125)), 15)
        c.ok(fb is not None, "upstream: stale pack b pushes failure flag 1, online 0")
        c.ok(wait_until(lambda: "pushing only the failure flag" in gw.text(), 5), "upstream: stale source logged")
        pushed = wait_until(lambda: (lambda r: r if r and r[105] == 3 else None)(read(upc, 1, 1000, 125)), 10)
        c.ok(pushed is not None, "upstream bank push shows 3 packs online (%.1f s after the kill)" %
             (time.monotonic() - t_kill))
        # pack b comes back
        bus.ctl("fault 2 none")
        back = wait_until(lambda: (lambda r: r if r and r[105] == 4 else None)(read(client, 10)), 15)
        c.ok(back is not None and back[45] == 0, "pack b back: 4 online, failure flag clear")
        c.eq(gw.text().count("pack b: poll failed"), 1, "pack b's outage logged once")
    finally:
        client.close()
        upc.close()
        c.eq(gw.stop(), 0, "clean exit")
        bus.stop()
        solo.stop()
        ups.stop()
        hole.close()


HA_SENSOR_KEYS = {"name", "unique_id", "slave", "device_address", "address", "input_type", "data_type", "swap",
                  "scale", "offset", "precision", "unit_of_measurement", "device_class", "state_class",
                  "scan_interval", "count", "structure", "nan_value", "zero_suppress", "min_value", "max_value",
                  "slave_count", "virtual_count"}
HA_UNITS = {"battery": {"%"}, "voltage": {"V", "mV"}, "current": {"A", "mA"}, "power": {"W", "kW"},
            "temperature": {"°C", "°F"}, "duration": {"s", "min", "h", "d"}}


def test_ha_yaml():
    import yaml
    conf = write_conf("""[gateway]
listen = 0.0.0.0:502
[pack.house]
protocol = daly
port = /dev/ttyUSB0
cells = 16
capacity = 280
[pack.garage]
protocol = daly
port = /dev/ttyUSB0
address = 2
[bank]
""")
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", conf, "--ha-yaml"], capture_output=True,
                         text=True, timeout=10)
    c.eq(out.returncode, 0, "--ha-yaml exit 0")
    doc = yaml.safe_load(out.stdout)
    hubs = doc.get("modbus") if isinstance(doc, dict) else None
    c.ok(isinstance(hubs, list) and len(hubs) == 1, "one modbus hub")
    hub = hubs[0]
    c.ok(hub.get("type") == "tcp" and isinstance(hub.get("host"), str) and hub.get("port") == 502,
         "hub: type tcp, host, port")
    sensors = hub.get("sensors", [])
    names = [s["name"] for s in sensors]
    uids = [s["unique_id"] for s in sensors]
    c.eq(len(names), len(set(names)), "sensor names unique")
    c.eq(len(uids), len(set(uids)), "unique_ids unique")
    keys = [(s["slave"], s["address"], s["input_type"]) for s in sensors]
    c.eq(len(keys), len(set(keys)), "no duplicate address/slave (HA drops duplicates)")
    bad = []
    for s in sensors:
        if set(s) - HA_SENSOR_KEYS:
            bad.append((s["name"], "keys", set(s) - HA_SENSOR_KEYS))
        if s["data_type"] not in {"int16", "uint16", "int32", "uint32", "float32"}:
            bad.append((s["name"], "data_type"))
        if s["data_type"] == "float32" and s.get("swap") != "word":
            bad.append((s["name"], "float32 without swap: word"))
        if s["data_type"] != "float32" and "swap" in s:
            bad.append((s["name"], "swap on a 16-bit value"))
        dc = s.get("device_class")
        if dc and s.get("unit_of_measurement") not in HA_UNITS.get(dc, set()):
            bad.append((s["name"], "unit does not fit device_class", dc, s.get("unit_of_measurement")))
        if s.get("scan_interval", 15) < 5:
            bad.append((s["name"], "scan_interval < 5"))
        if not (0 <= s["address"] <= 65535 and 1 <= s["slave"] <= 247):
            bad.append((s["name"], "address/slave range"))
    c.eq(bad, [], "every sensor passes Home Assistant's modbus schema rules")
    by_unit = {}
    for s in sensors:
        by_unit.setdefault(s["slave"], []).append(s)
    c.eq(sorted(by_unit), [1, 2, 100], "sensors for pack units 1, 2 and the bank (100)")
    import re
    house_cells = [s for s in by_unit.get(1, []) if re.fullmatch(r"house cell \d+", s["name"])]
    c.eq(len(house_cells), 16, "16 cell sensors for the pack with cells = 16")
    c.eq(house_cells[16 - 1]["address"] if house_cells else None, BASE + 35, "cell 16 at base + 35")
    soc = [s for s in by_unit.get(100, []) if s["name"] == "bank SOC"]
    c.ok(soc and soc[0]["address"] == BASE + 60 and soc[0]["scale"] == 0.1, "bank SOC sensor at base + 60, scale 0.1")
    # the counted SOC's sensors where the unit counts ([soc] count, on by default; issue 44 item 8) and
    # can: house has a capacity, garage none (a Daly gives no full capacity: its count never starts,
    # its registers would read 0, issue 97), the bank counts from its packs' counts
    want = [("SOC (BMS)", 125, "uint16", 0.1), ("SOC (counted)", 126, "uint16", 0.1),
            ("SOC uncertainty", 147, "uint16", 0.1),
            ("Capacity (measured)", 130, "float32", None), ("SOH (measured)", 132, "uint16", 0.1)]
    garage = {s["name"] for s in by_unit.get(2, [])}
    c.eq(sorted(n for n, _, _, _ in want if "garage " + n in garage), [],
         "--ha-yaml: a Daly pack without a capacity has none of the counted SOC's sensors")
    c.eq(sorted(n for n in ("SOH", "MOS temperature") if "garage " + n in garage), [],
         "--ha-yaml: nor an SOH or MOS temperature its protocol never gives (Home Assistant showed \"SOH 0 %\")")
    for unit, label in ((1, "house"), (100, "bank")):
        got = {s["name"]: s for s in by_unit.get(unit, [])}
        c.eq([(n, (got.get("%s %s" % (label, n)) or {}).get("address"), (got.get("%s %s" % (label, n)) or {}).get(
              "data_type"), (got.get("%s %s" % (label, n)) or {}).get("scale")) for n, _, _, _ in want],
             [(n, BASE + off, t, sc) for n, off, t, sc in want],
             "--ha-yaml: unit %d has the counted SOC's sensors (SOC (BMS), SOC (counted), SOC uncertainty, "
             "Capacity (measured), SOH (measured))" % unit)
        band = got.get("%s SOC uncertainty" % label) or {}
        c.eq(band.get("nan_value"), 65535, "--ha-yaml: unit %d's SOC uncertainty reads 0xFFFF as unknown" % unit)
    off = write_conf(open(conf).read() + "[soc]\ncount = false\n")
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", off, "--ha-yaml"], capture_output=True,
                         text=True, timeout=10)
    names = [s["name"] for s in (yaml.safe_load(out.stdout) or {}).get("modbus", [{}])[0].get("sensors", [])]
    c.eq([n for n in names if "(counted)" in n or "(BMS)" in n or "(measured)" in n or "uncertainty" in n], [],
         "--ha-yaml with [soc] count = false: no counted SOC's sensors")


def test_gap():
    """The silence before each request on a shared bus (a pty paced at 9600
    baud), as the simulator measures it from the end of each answer to the
    next request: the wire's own (3.5 characters = 3.6 ms at 9600 baud) by
    default, the `gap` of the wire when one pack gives it (every pack of the
    port takes it), and every pack still polled."""
    import json
    import signal
    import tempfile
    tmp = tempfile.mkdtemp(prefix="bmsgw-gap-")
    pty = os.path.join(tmp, "tty")
    sim = Sim(tcp=False, pty_path=pty, packs=("address=1", "address=2"))
    gw_port = free_port()
    head = "[gateway]\nlisten = 127.0.0.1:%d\nstate_file = none\n" % gw_port
    packs = ("[pack.a]\nprotocol = daly\nport = %s\naddress = 1\npoll_interval = 0.2\n"
             "[pack.b]\nprotocol = daly\nport = %s\naddress = 2\npoll_interval = 0.2\n%%s") % (pty, pty)
    gw = Gateway(head + packs % "gap = 0.08\n", gw_port)

    def measure(seconds):
        sim.ctl("stats reset")
        time.sleep(seconds)
        return json.loads(sim.ctl("stats"))
    try:
        c.ok(wait_until(lambda: json.loads(sim.ctl("stats"))["transactions"] >= 12, 20),
             "gap: both packs polled")
        st = measure(3)
        c.ok(st["idle_n"] >= 5 and st["idle_us_p50"] >= 80000,
             "gap = 0.08 on pack b holds for the whole wire: the silence before a request is %.1f ms "
             "(median of %d, at least 80)" % (st["idle_us_p50"] / 1000, st["idle_n"]))
        # without the key: derived from the baud rate
        with open(gw.conf, "w") as f:
            f.write(head + packs % "")
        gw.p.send_signal(signal.SIGHUP)
        c.ok(wait_until(lambda: "reload #1: applied" in gw.text(), 10), "gap: reload applied")
        st = measure(3)
        c.ok(st["idle_n"] >= 10 and 3600 <= st["idle_us_p50"] < 80000,
             "without gap: the silence is the wire's own, %.1f ms (median of %d; 3.5 characters = 3.6 ms)"
             % (st["idle_us_p50"] / 1000, st["idle_n"]))
        r = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", gw.conf, "--check"], capture_output=True,
                           text=True, timeout=10)
        c.ok("gap 3.6 ms (3.5 characters)" in r.stdout, "--check shows the wire's gap: %s" %
             [l.strip() for l in r.stdout.splitlines() if "; gap" in l])
    finally:
        gw.stop()
        sim.stop()


if __name__ == "__main__":
    for t in (main, test_ha_yaml, test_gap):
        print("== " + t.__name__, flush=True)
        try:
            t()
        except Exception as e:
            import traceback
            traceback.print_exc()
            c.ok(False, "%s raised %r" % (t.__name__, e))
    sys.exit(c.report())
