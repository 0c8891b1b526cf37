#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A BMS that sends its highest and lowest cell but no cell list (issue 62),
end to end without CAN hardware, through slcan adapters on ptys:

(a) a battery on Victron's CAN set (bmsgw-sim --protocol pylon-can, dialect
    v13: 0x373's lowest / highest cell and cell temperature, 0x379's
    installed capacity, 0x356's cycles): the extremes at the register
    map's offsets 6 / 7 and their difference at 4, the mean (5), the cell
    count and the cells absent; the same through /api/state
    (cell_minmax_from "bms", bms_temp_max_c / bms_temp_min_c), the MQTT
    state message on a real mosquitto and its Home Assistant discovery
    (the highest / lowest cell announced, the mean not), and /metrics; the
    limit engine's cell table on 0x373's highest cell (a cell at 3.52 V
    stops charging, reason cell_voltage, and charging comes back when it
    falls) and its temperature table on 0x373's coldest cell (0 degC stops
    charging while 0x356's sensor reads 25 degC).
(b) a JK-B CAN V1 (bmsgw-sim --protocol jk-can, dialect v1: no cell
    frames, 0x4F4's highest and lowest cell with their numbers) beside
    it, both in a [bank]: the pack's extremes with their numbers, and the
    bank's lowest / highest cell across the two (offsets 109-112, the pack
    and cell number; the bank's mean absent).
Nothing is written on either bus.  Waits for conditions, never sleeps for
luck.  Ends with "N passed, N failed".
"""
import json
import os
import re
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Gateway, Sim, api_state, free_port, wait_until  # noqa: E402
from mqtt_harness import Broker, Subscriber  # noqa: E402

from pymodbus.client import ModbusTcpClient  # noqa: E402

c = Checks()
BASE = 290
PYLON = "soc=70,current=-12.5,ccl=100,dcl=100,cvl=58.4,dvl=46.4,cycles=26,capacity=280,sensors=2,dialect=v13"
JK = "address=0,cells=16,sensors=2,soc=55,current=-3,dialect=v1"


def conf(gw_port, http, broker, pylon_path, jk_path):
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 8
state_file = none
[pack.bat]
protocol = pylon-can
port = slcan://%s
unit_id = 1
poll_interval = 0.5
[pack.jk]
protocol = jk-can
port = slcan://%s
unit_id = 2
poll_interval = 0.5
[bank]
unit_id = 10
[limits]
max_charge_current = 50
max_discharge_current = 60
recovery_hold = 1
recovery_rate = 100
[http]
listen = 127.0.0.1:%d
[mqtt]
host = 127.0.0.1
port = %d
client_id = t1
topic_prefix = site/bmsgw
[history]
file = none
""" % (gw_port, pylon_path, jk_path, http, broker)


def packs(http):
    return {p.get("pack"): p for p in api_state(http).get("packs") or []}


def regs(gw_port, unit):
    cl = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    cl.connect()
    try:
        rr = cl.read_holding_registers(BASE, 125, slave=unit)
        return None if rr.isError() else rr.registers
    finally:
        cl.close()


def metrics(http):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % http, timeout=5) as r:
        return r.read().decode()


def sample(text, name, pack):
    m = re.search(r'^%s\{pack="%s"\} (\S+)$' % (re.escape(name), re.escape(pack)), text, re.M)
    return float(m.group(1)) if m else None


def a_served(sim, gw_port, http, sub):
    print("== (a) the extremes served: Modbus, /api/state, MQTT, /metrics, discovery")
    r = wait_until(lambda: (lambda x: x if x and x[58] == 1 and x[6] else None)(regs(gw_port, 1)), 15)
    if not c.ok(r is not None, "the Victron-set battery comes online with its highest cell"):
        return
    v = sim.state()["packs"][0]
    hi, lo = v["cell_max_mv"], v["cell_min_mv"]
    c.ok(hi >= lo > 3000, "(the simulator's 0x373: %d / %d mV)" % (hi, lo))
    c.eq((r[6], r[7], r[4]), (hi, lo, hi - lo), "offsets 6 / 7 / 4: 0x373's highest, lowest and their difference")
    c.eq((r[5], r[40], r[20], r[35]), (0, 0, 0, 0), "no mean, no cell count, no cells (no list)")
    c.eq(r[62], 2800, "0x379: full capacity 280.0 Ah")
    c.eq(r[63] << 16 | r[64], 26, "0x356 bytes 6-7: 26 cycles")
    p = packs(http).get("bat") or {}
    c.eq((p.get("cell_max_mv"), p.get("cell_min_mv"), p.get("cell_delta_mv")), (hi, lo, hi - lo),
         "/api/state: the highest, lowest and their difference")
    c.eq((p.get("cell_minmax_from"), p.get("cell_avg_mv"), p.get("cell_max_index"), p.get("cell_count"),
          p.get("cells_mv")), ("bms", None, None, 0, []),
         "/api/state: from the BMS, no mean, no number (0x373 has none), no list")
    c.near(p.get("bms_temp_max_c") or 0, v["temp_max_c"], 0.051, "/api/state: 0x373's hottest cell")
    c.near(p.get("bms_temp_min_c") or 0, v["temp_min_c"], 0.051, "/api/state: 0x373's coldest cell")
    c.eq((p.get("full_ah"), p.get("cycles")), (280.0, 26), "/api/state: 0x379's capacity, the cycles")
    m = sub.wait_for("site/bmsgw/bat/state", lambda m: json.loads(m.text()).get("cell_max_mv") == hi, 10)
    st = json.loads(m.text()) if m else {}
    c.eq((st.get("cell_max_mv"), st.get("cell_min_mv"), st.get("cell_minmax_from"), st.get("cell_avg_mv")),
         (hi, lo, "bms", None), "MQTT state: the extremes, from the BMS, no mean")
    c.near(st.get("bms_temp_min_c") or 0, v["temp_min_c"], 0.051, "MQTT state: the coldest cell")
    disc = "homeassistant/sensor/bmsgw_t1_bat/%s/config"
    c.ok(sub.wait_for(disc % "cell_high", timeout=10) is not None, "discovery: the highest cell announced")
    c.ok(sub.wait_for(disc % "bms_temperature_low", timeout=10) is not None,
         "discovery: the BMS's lowest temperature announced")
    c.ok(sub.latest(disc % "cell_average") is None, "discovery: no mean announced (no cell list)")
    text = metrics(http)
    c.eq((sample(text, "bmsgw_cell_max_volts", "bat"), sample(text, "bmsgw_cell_min_volts", "bat")),
         (hi / 1000.0, lo / 1000.0), "/metrics: the highest and lowest cell")
    c.eq(sample(text, "bmsgw_cell_average_volts", "bat"), None, "/metrics: no mean")
    c.near(sample(text, "bmsgw_bms_temperature_max_celsius", "bat") or 0, v["temp_max_c"], 0.01,
           "/metrics: the BMS's highest temperature")


def a_limits(sim, gw_port, http):
    print("== (a) the limit engine's cell and temperature tables on 0x373")
    r = wait_until(lambda: (lambda x: x if x and x[47] == 500 else None)(regs(gw_port, 1)), 10)
    c.ok(r is not None, "CCL 50 A with the cells at rest")
    sim.ctl("set 1 cell 3 3520")
    r = wait_until(lambda: (lambda x: x if x and x[6] == 3520 and x[47] == 0 else None)(regs(gw_port, 1)), 10)
    c.ok(r is not None, "a cell at 3.52 V in 0x373: CCL 0")
    c.eq(r and (r[54], r[50] & 1), (1, 0), "CCL reason 1 (cell voltage), charging not allowed")
    lim = (packs(http).get("bat") or {}).get("limits") or {}
    c.eq((lim.get("ccl_reason"), lim.get("mode")), ("cell_voltage", "off"),
         "/api/state: reason cell_voltage, no charge machine without a cell list")
    sim.ctl("set 1 cell 3 auto")
    c.ok(wait_until(lambda: (regs(gw_port, 1) or [0] * 60)[47] == 500, 10), "the cell back: CCL 50 A again")
    sim.ctl("set 1 temp 2 0")  # 0x373's coldest cell 273 K; 0x356 carries sensor 1 (25 degC)
    r = wait_until(lambda: (lambda x: x if x and x[47] == 0 else None)(regs(gw_port, 1)), 10)
    c.ok(r is not None, "the coldest cell at 0 degC in 0x373 (0x356 at 25 degC): CCL 0")
    c.eq(r and r[54], 2, "CCL reason 2 (temperature)")
    p = packs(http).get("bat") or {}
    c.eq((p.get("temps_c"), p.get("bms_temp_min_c")), ([25.0], -0.1), "the sensor 25 degC, 0x373's coldest -0.1")
    sim.ctl("set 1 temp 2 25")
    c.ok(wait_until(lambda: (regs(gw_port, 1) or [0] * 60)[47] == 500, 10), "warm again: CCL 50 A")


def b_jk_and_bank(sim_jk, sim_py, gw_port, http):
    print("== (b) a JK-B CAN V1 (0x4F4) and the bank across both")
    r = wait_until(lambda: (lambda x: x if x and x[58] == 1 and x[6] else None)(regs(gw_port, 2)), 15)
    if not c.ok(r is not None, "the JK-B CAN V1 comes online with its highest cell"):
        return
    v = sim_jk.state()["packs"][0]
    c.eq((r[6], r[7], r[5], r[40]), (v["cell_max_mv"], v["cell_min_mv"], 0, 0),
         "offsets 6 / 7: 0x4F4's highest and lowest, no mean, no count")
    p = packs(http).get("jk") or {}
    c.eq((p.get("cell_max_index"), p.get("cell_min_index"), p.get("cell_minmax_from")),
         (v["cell_max_at"], v["cell_min_at"], "bms"), "/api/state: 0x4F4's cell numbers")
    c.eq((p.get("bms_temp_max_c"), p.get("bms_temp_min_c")), (float(v["temp_max_c"]), float(v["temp_min_c"])),
         "/api/state: 0x5F4's highest and lowest temperature")
    # the bank: JK's lowest cell pinned lowest of all, the Victron set's highest highest
    sim_jk.ctl("set 0 cell 7 3180")
    sim_py.ctl("set 1 cell 2 3400")
    b = wait_until(lambda: (lambda x: x if x and x[7] == 3180 and x[6] == 3400 else None)(regs(gw_port, 10)), 15)
    if not c.ok(b is not None, "the bank's lowest and highest cell across the two packs"):
        return
    c.eq((b[109], b[110], b[111], b[112]), (2, 7, 1, 0),
         "offsets 109-112: the lowest in bank pack 2 cell 7 (0x4F4's number), the highest in pack 1 (no number)")
    c.eq(b[5], 0, "the bank's mean absent (its packs gave no lists)")
    bank = api_state(http).get("bank") or {}
    c.eq((bank.get("cell_min_pack"), bank.get("cell_min_index"), bank.get("cell_max_pack"),
          bank.get("cell_max_index"), bank.get("cell_avg_mv")), ("jk", 7, "bat", None, None),
         "/api/state bank: where the extremes are, no mean")
    sim_jk.ctl("set 0 cell 7 auto")
    sim_py.ctl("set 1 cell 2 auto")


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-cellext-")
    py_path, jk_path = os.path.join(tmp, "victron"), os.path.join(tmp, "jk")
    broker = Broker()
    sim_py = Sim(protocol="pylon-can", tcp=False, pty_path=py_path, packs=(PYLON,))
    sim_jk = Sim(protocol="jk-can", tcp=False, pty_path=jk_path, packs=(JK,))
    sub = Subscriber(broker.port, topics=("site/#", "homeassistant/#"))
    gw_port, http = free_port(), free_port()
    gw = Gateway(conf(gw_port, http, broker.port, py_path, jk_path), gw_port)
    try:
        a_served(sim_py, gw_port, http, sub)
        a_limits(sim_py, gw_port, http)
        b_jk_and_bank(sim_jk, sim_py, gw_port, http)
        c.eq((sim_py.state()["packs"][0]["can_frames_heard"], sim_jk.state()["packs"][0]["can_frames_heard"]),
             (0, 0), "bmsgw wrote no frame on either bus")
        c.ok("ERROR: AddressSanitizer" not in gw.text() and "runtime error" not in gw.text(), "sanitizers quiet")
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        sub.close()
        sim_py.stop()
        sim_jk.stop()
        broker.stop()
    sys.exit(c.report())


if __name__ == "__main__":
    main()
