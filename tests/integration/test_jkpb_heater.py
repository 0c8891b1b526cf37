#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The JK-PB's heater (bms/PROTOCOLS.md §6.9, bmsgw-bms(7)), end to end: the
real bmsgw with [mqtt] control = true against a real Mosquitto and the
bundled simulator's jk-pb pack (heating disabled, start 30 °C, stop 35 °C,
1.5 A while on; its sensors at 25-26 °C, so it heats once enabled).

- read: the device information once (the 0x161C trigger, before the first
  settings read), the heater's state and current in /api/state (heater_on,
  heater_a), its switch and temperatures in settings_bms (heater,
  heat_start_c, heat_stop_c), the registers 36-39 and 56;
- Home Assistant: a "Heater" binary sensor (device class heat), a
  "Heater current" sensor, a "Heating" switch bms_heater_set (the key
  bms_settings allows), passing the checker of Home Assistant's rules;
- write: the switch ON on its command topic: the settings record read, the
  UINT32 of 0x1114 written with bit 0 set and the temperatures kept (the
  simulator's heat_start / heat_stop unchanged, one write), read back:
  done; the heater then runs (heater_on, 1.5 A, registers 36 / 37 / 38);
  ON again: done with nothing sent; OFF: done, the heater stops; every
  byte the simulator received parsed: the triggers and the two writes of
  0x1114, nothing else.  The time from the command to its outcome
  (request -> read-back) printed.
- --check: heater is jk-pb's alone (jk-ble cannot write it).
Prints "N passed, N failed"."""
import json
import os
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
from harness import BIN, ROOT, Checks, Gateway, Sim, crc16_modbus, free_port, mbread, wait_until, write_conf  # noqa: E402
from mqtt_harness import Broker, Subscriber, pub, retained  # noqa: E402
from ha_discovery import check as ha_check  # noqa: E402

c = Checks()
DP = "homeassistant"
BASE = 290


def conf(gw_port, http_port, broker, sim_port):
    return """[gateway]
listen = 127.0.0.1:%d
state_file = none
stale_after = 20
[http]
listen = 127.0.0.1:%d
[mqtt]
host = 127.0.0.1
port = %d
client_id = heat
control = true
publish_interval = 0
[pack.van]
protocol = jk-pb
port = tcp://127.0.0.1:%d
address = 1
chemistry = lfp
bms_settings = heater
poll_interval = 0.5
control_timeout = 10
retries = 1
timeout = 0.5
""" % (gw_port, http_port, broker, sim_port)


def get(http_port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (http_port, path), timeout=10) as r:
        return json.loads(r.read())


def pack(http_port):
    return (get(http_port, "/api/state").get("packs") or [{}])[0]


def regs(gw_port):
    """Offsets 36-39 and 56 of unit 1, signed, or None."""
    a = mbread(gw_port, 1, BASE + 36, 4).split()
    b = mbread(gw_port, 1, BASE + 56, 1).split()
    if len(a) != 5 or len(b) != 2 or a[0] != "ok" or b[0] != "ok":
        return None
    v = [int(x) for x in a[1:] + b[1:]]
    return [x - 65536 if x >= 32768 else x for x in v]


def pb_frames(data):
    """The FC16 requests of data as (register, quantity, value), or None if
    a byte is not one."""
    out, i = [], 0
    while i < len(data):
        if len(data) - i < 9 or data[i + 1] != 0x10:
            return None
        n = 9 + data[i + 6]
        f = data[i:i + n]
        if len(f) < n or crc16_modbus(f[:-2]) != (f[-2] | f[-1] << 8):
            return None
        out.append(((f[2] << 8) | f[3], (f[4] << 8) | f[5], int.from_bytes(f[7:-2], "big")))
        i += n
    return out


def sim_bytes(sim):
    """Every byte the simulator received since its last `rxlog reset`."""
    log = json.loads(sim.ctl("rxlog"))
    c.eq(log["lost"], 0, "rxlog: no byte lost")
    return b"".join(bytes.fromhex(ch[2]) for ch in log["chunks"])


def heat_configs(port):
    """{key: config} of the retained heater entities."""
    out = {}
    for t, m in retained(port, DP + "/#").items():
        parts = t.split("/")
        if len(parts) == 5 and m.payload and parts[3] in ("heater", "heater_current", "bms_heater_set"):
            out[parts[3]] = dict(json.loads(m.payload), component=parts[1])
    return out


def check_read(http_port, gw_port, broker, sim):
    print("== read: the state, the settings, the registers, Home Assistant")
    c.ok(wait_until(lambda: pack(http_port).get("settings_bms", {}).get("heat_stop_c", {}).get("value") is not None,
                    30), "the settings read with the heating temperatures")
    p = pack(http_port)
    c.eq((p.get("heater_on"), p.get("heater_a")), (False, 0.0), "/api/state: the heater off, 0 A")
    sb = p.get("settings_bms") or {}
    c.eq([(sb.get(k) or {}).get("value") for k in ("heater", "heat_start_c", "heat_stop_c")], [0, 30, 35],
         "settings_bms: heating disabled, start 30 °C, stop 35 °C (15A 15.41: 284 / 285)")
    c.eq((sb.get("heat_start_c") or {}).get("unit"), "°C", "settings_bms: heat_start_c in °C")
    c.ok(wait_until(lambda: regs(gw_port) == [0, 0, 0, 30, 35], 10),
         "registers 36-39, 56: off, 0 A, disabled, 30, 35 (%s)" % regs(gw_port))
    g = get(http_port, "/api/bms-settings?unit=van")
    c.eq(sorted(g["keys"]), ["heater"], "GET /api/bms-settings: the heater alone")
    c.eq(g["keys"]["heater"]["value"], 0, "GET: the heater switch as the BMS reports it (off)")
    want = {"heater", "heater_current", "bms_heater_set"}
    got = wait_until(lambda: (lambda cf: cf if set(cf) == want else None)(heat_configs(broker.port)), 20) or \
        heat_configs(broker.port)
    c.eq(sorted(got), sorted(want), "Home Assistant: the heater, its current, its switch")
    h, cur, sw = got.get("heater", {}), got.get("heater_current", {}), got.get("bms_heater_set", {})
    c.eq((h.get("component"), h.get("device_class"), h.get("name")), ("binary_sensor", "heat", "Heater"),
         "Heater: a binary sensor of device class heat")
    c.eq((cur.get("component"), cur.get("device_class"), cur.get("unit_of_measurement")), ("sensor", "current", "A"),
         "Heater current: a sensor in A")
    c.eq((sw.get("component"), sw.get("name"), sw.get("payload_on"), sw.get("payload_off"), sw.get("state_on"),
          sw.get("command_topic"), sw.get("value_template")),
         ("switch", "Heating", "ON", "OFF", "1", "bmsgw/van/set/bms_heater",
          "{{ value_json.settings_bms.heater.value }}"), "the heater switch: ON / OFF, the BMS's setting (%s)" % sw)
    states = {t: m.text() for t, m in retained(broker.port, "bmsgw/#").items() if m.payload}
    configs = {t: m.text() for t, m in retained(broker.port, DP + "/#").items() if m.payload}
    c.eq(ha_check(configs, states=states), [], "the configs pass Home Assistant's rules")
    start = pb_frames(sim_bytes(sim))
    c.ok(start is not None and (0x161C, 1, 0) in start and all(f[0] >= 0x1600 for f in start),
         "the device information asked (0x161C), nothing written at start")
    return sw


def command(broker, sub, topic, payload):
    t0 = time.monotonic()
    pub(broker.port, topic, payload)
    m = sub.wait_for("bmsgw/van/set/result", lambda m: m.t >= t0, 60)
    return (json.loads(m.payload) if m else None), time.monotonic() - t0


def check_write(http_port, gw_port, broker, sub, sim, sw):
    print("== write: the switch ON, again, OFF")
    c.ok(wait_until(lambda: mbread(gw_port, 1, 348, 1) == "ok 1", 30), "the pack is online")
    sim.ctl("rxlog reset")
    res, took = command(broker, sub, sw["command_topic"], "ON")
    c.ok(res and res["result"] == "done" and res["value"] == 1 and res["old"] == 0,
         "ON: done, read back 1 (%s)" % res)
    st = sim.state()["packs"][0]
    c.eq((st.get("heat"), st.get("heat_start"), st.get("heat_stop"), st.get("heat_writes")), (1, 30, 35, 1),
         "the simulator: enabled, its temperatures kept, one write of 0x1114")
    c.ok(wait_until(lambda: (lambda p: p.get("heater_on") is True and p.get("heater_a") == 1.5)(pack(http_port)), 10),
         "/api/state: the heater runs, 1.5 A")
    c.ok(wait_until(lambda: regs(gw_port) == [1, 150, 1, 30, 35], 10),
         "registers 36-39, 56: on, 1.50 A, enabled, 30, 35 (%s)" % regs(gw_port))
    c.ok(sub.wait_for("bmsgw/van/state", lambda m: json.loads(m.payload).get("heater_on") is True, 10) is not None,
         "MQTT: the state says the heater runs")
    time.sleep(1.1)  # a pack takes one change a second
    res2, _ = command(broker, sub, sw["command_topic"], "ON")
    c.ok(res2 and res2["result"] == "done" and "nothing" in (res2.get("message") or ""),
         "ON again: done, nothing sent (%s)" % res2)
    c.eq(sim.state()["packs"][0].get("heat_writes"), 1, "... the simulator took no write")
    time.sleep(1.1)
    res3, took3 = command(broker, sub, sw["command_topic"], "OFF")
    c.ok(res3 and res3["result"] == "done" and res3["value"] == 0, "OFF: done, read back 0 (%s)" % res3)
    c.ok(wait_until(lambda: (lambda p: p.get("heater_on") is False and p.get("heater_a") == 0)(pack(http_port)), 10),
         "/api/state: the heater stopped")
    frames = pb_frames(sim_bytes(sim))
    c.ok(frames is not None, "every byte the simulator received is a whole FC16 request")
    c.eq([f for f in frames or [] if f[0] < 0x1600], [(0x1114, 2, 0x231E0001), (0x1114, 2, 0x231E0000)],
         "the writes: 0x1114 with bit 0 set, then clear, the temperatures (30, 35) kept")
    c.eq(sorted({f for f in frames or [] if f[0] >= 0x1600}), [(0x161E, 1, 0), (0x1620, 1, 0)],
         "the other requests: the status and settings triggers")
    print("# heater write, request -> read-back (simulator, [mqtt] command -> set/result): ON %.2f s, OFF %.2f s"
          % (took, took3))


def check_conf():
    def check(text):
        p = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "--check", "-c", write_conf(text)],
                           capture_output=True, text=True)
        return p.returncode, p.stdout + p.stderr
    rc, out = check("[gateway]\nlisten = 127.0.0.1:1502\n[pack.a]\nport = tcp://127.0.0.1:9\nprotocol = jk-pb\n"
                    "address = 1\nbms_settings = heater\n")
    c.eq(rc, 0, "--check: jk-pb writes the heater (%s)" % out.strip()[-160:])
    rc, out = check("[gateway]\nlisten = 127.0.0.1:1502\n[pack.a]\nport = ble://C8:47:8C:00:00:01\n"
                    "protocol = jk-ble\nbms_settings = heater\n")
    c.ok(rc != 0 and "cannot write heater" in out, "--check: jk-ble cannot write the heater (%s)" % out.strip()[-160:])


def main():
    check_conf()
    broker = Broker()
    sim = Sim(protocol="jk-pb", packs=("address=1,heat=0,heat_start=30,heat_stop=35,heat_ma=1500",))
    gw_port, http_port = free_port(), free_port()
    sub = Subscriber(broker.port, topics=("bmsgw/#",))
    gw = Gateway(conf(gw_port, http_port, broker.port, sim.port), gw_port)
    try:
        sw = check_read(http_port, gw_port, broker, sim)
        check_write(http_port, gw_port, broker, sub, sim, sw)
    finally:
        if c.failed:
            gw.dump(60)
        gw.stop()
        sub.close()
        sim.stop()
        broker.cleanup()
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
