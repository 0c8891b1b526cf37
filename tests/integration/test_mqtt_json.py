#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Packs that arrive over MQTT (protocol mqtt-json), end to end: a real
mosquitto, two nodes played by the test with paho (one publishing
venus-os_dbus-mqtt-battery's nested JSON, one aiobmsble's flat sample),
two mqtt-json packs in a [bank] feeding a pylon-can [inverter.*] output on a
pty pair read with python3-can (tests/integration/canreader.py):

- the packs' values through Modbus (each unit, the bank) and /api/state,
  a BMS setting the map names (setting_capacity_ah) in settings_bms;
- the inverter's 0x351 / 0x355 carry the bank's limits and SOC;
- a broken message (cut short) and one out of range: counted in the pack's
  bad_messages (/api/state and /metrics), logged once (then once more when
  a message is good again), the pack's values unchanged; three bad ones in
  a row (a cut-off object, bytes that are not UTF-8, a cut-off array): one
  line of the log, each counted, and one line with their count when a good
  one comes;
- the nodes stop publishing: each pack stale after its own stale_after
  (Modbus exception 0x0B), the inverter's limits to 0 (fail-safe), then
  silence after failsafe_silence;
- bmsgw's subscriber sessions (<client_id>-in-<pack>) publish nothing (the
  broker's log); a pack through TLS with a client certificate and a
  password, its retained message the first one; --check refuses an mqtt-json pack without [mqtt], without
  voltage in its fields, and with a port;
- a broker that speaks MQTT 3.1.1 only (mosquitto behind mqtt_harness's
  Only311, which refuses an MQTT 5 CONNECT as such a broker does): the
  pack asks once with MQTT 5, then with 3.1.1, reads its values, logs why
  and no outage, and keeps 3.1.1 when the broker comes back;
- a wrong password over MQTT 5: the broker's reason ("Not authorized", MQTT
  5's text of reason code 0x87, not 3.1.1's "not authorised.") in the log,
  once, with the hint; tried again with backoff; the password never logged.
Waits for conditions, never sleeps for luck.  Ends with "N passed, N failed".
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import canreader  # noqa: E402
from harness import (BIN, ROOT, Checks, Gateway, api_state, free_port, inverter_output,  # noqa: E402
                     pty_pair, s16, wait_until, write_conf)

try:
    import can  # noqa: F401
    from mqtt_harness import Broker, Client, Only311
    from pymodbus.client import ModbusTcpClient
except ImportError as e:
    print("a test dependency is missing (%s; make deps installs it)" % e)
    print("0 passed, 1 failed")
    sys.exit(1)

c = Checks()
BASE = 290
STALE = 4          # the packs' stale_after
SILENCE = 3        # the output's failsafe_silence

VENUS_CELLS = [3.301, 3.302, 3.303, 3.304, 3.305, 3.306, 3.307, 3.308,
               3.309, 3.310, 3.311, 3.312, 3.313, 3.314, 3.315, 3.316]


def venus(soc=63, volts=52.9):
    """mr-manuel/venus-os_dbus-mqtt-battery's JSON (its README's structure)."""
    return json.dumps({"Dc": {"Power": 322.7, "Voltage": volts, "Current": 6.1, "Temperature": 23},
                       "InstalledCapacity": 200.0, "Capacity": 126.0, "Soc": soc,
                       "Info": {"MaxChargeVoltage": 55.2, "MaxChargeCurrent": 80.0, "MaxDischargeCurrent": 120.0},
                       "History": {"ChargeCycles": 5},
                       "Voltages": {"Cell%d" % (i + 1): v for i, v in enumerate(VENUS_CELLS)}})


def aiobms(soc=71):
    """aiobmsble's BMSSample as a JSON object (the keys its package's init module defines)."""
    return json.dumps({"voltage": 53.2, "current": -2.5, "battery_level": soc, "battery_health": 98,
                       "cycles": 12, "cycle_charge": 71.0, "design_capacity": 100, "power": -133.0,
                       "cell_voltages": [3.325] * 16, "temp_values": [[21.0, 1], [22.5, 2]],
                       "chrg_mosfet": True, "dischrg_mosfet": True})


FIELDS_A = ("voltage:Dc.Voltage, current:Dc.Current, power:Dc.Power, soc:Soc, full_ah:InstalledCapacity, "
            "remain_ah:Capacity, cycles:History.ChargeCycles, temp_1:Dc.Temperature, "
            "ccl_a:Info.MaxChargeCurrent, dcl_a:Info.MaxDischargeCurrent, cells:Voltages.Cell#")
FIELDS_B = ("voltage:voltage, current:current, soc:battery_level, soh:battery_health, cycles:cycles, "
            "remain_ah:cycle_charge, full_ah:design_capacity, cells:cell_voltages, temp_1:temp_values.0.0, "
            "temp_2:temp_values.1.0, charge_mos:chrg_mosfet, discharge_mos:dischrg_mosfet, "
            "setting_capacity_ah:design_capacity")


def fields(text):
    """`fields =` lines of at most ~150 characters (a line of the file has 199): each adds its pairs."""
    lines, cur = [], []
    for pair in text.split(", "):
        if cur and len(", ".join(cur + [pair])) > 150:
            lines.append(cur)
            cur = []
        cur.append(pair)
    lines.append(cur)
    return "\n".join("fields = " + ", ".join(x) for x in lines)


def conf(gw_port, http, broker, inv, tmp, client_id="bmsgw-mj"):
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 30
state_file = none
[mqtt]
host = 127.0.0.1
port = %d
client_id = %s
discovery = false
[pack.a]
protocol = mqtt-json
topic = site/node-a/battery
%s
stale_after = %d
[pack.b]
protocol = mqtt-json
topic = site/node-b/state
%s
stale_after = %d
[bank]
[limits]
max_charge_current = 100
max_discharge_current = 150
recovery_hold = 1
recovery_rate = 100
[inverter.out]
protocol = pylon-can
port = slcan://%s
source = bank
interval = 0.5
failsafe_silence = %d
[http]
listen = 127.0.0.1:%d
[history]
file = none
""" % (gw_port, broker.port, client_id, fields(FIELDS_A), STALE, fields(FIELDS_B), STALE, inv, SILENCE, http)


class Node(threading.Thread):
    """A node publishing its pack's JSON every 0.5 s while `playing`."""

    def __init__(self, broker, topic, make):
        super().__init__(daemon=True)
        self.cl = Client(broker, kind="node")
        self.topic, self.make = topic, make
        self.playing = True
        self.running = True
        self.sent = 0
        self.start()

    def run(self):
        while self.running:
            if self.playing:
                self.cl.publish(self.topic, self.make(), qos=0, retain=False, timeout=5)
                self.sent += 1
            time.sleep(0.5)  # the node's own pace, not a wait for a condition

    def once(self, payload):
        self.cl.publish(self.topic, payload, qos=1, retain=False, timeout=5)

    def close(self):
        self.running = False
        self.join(2)
        self.cl.close()


class CanReader(canreader.CanReader):
    def last_set(self, t0):
        fr = [m for _, m in self.since(t0)]
        groups, cur = [], None
        for m in fr:
            if m.arbitration_id == 0x351:
                cur = {}
                groups.append(cur)
            if cur is not None:
                cur[m.arbitration_id] = bytes(m.data)
        for g in reversed(groups):
            if all(i in g for i in (0x351, 0x355)):
                return g
        return None


def f351(s):
    return tuple(int.from_bytes(s[0x351][k:k + 2], "little") for k in (0, 2, 4, 6))


def wait_set(rd, pred, timeout):
    t0 = time.monotonic()
    return wait_until(lambda: (lambda s: s if s and pred(s) else None)(rd.last_set(t0)), timeout)


def pack(http, name):
    for p in api_state(http).get("packs") or []:
        if p.get("pack") == name:
            return p
    return {}


def regs(cl, unit, n=70):
    rr = cl.read_holding_registers(BASE, n, slave=unit)
    return rr


def values(gw, http, cl, a, b, rd):
    print("== values: two mqtt-json packs, the bank, the inverter output")
    ok = wait_until(lambda: pack(http, "a").get("online") and pack(http, "b").get("online"), 15)
    if not c.ok(ok, "both packs online from their nodes' messages"):
        return False
    pa, pb = pack(http, "a"), pack(http, "b")
    c.eq((pa.get("voltage"), pa.get("current"), pa.get("soc")), (52.9, 6.1, 63.0), "pack a: venus JSON Dc/Soc")
    c.eq(len(pa.get("cells_mv") or []), 16, "pack a: 16 cells from Voltages.CellN")
    c.eq((pa.get("cells_mv") or [0])[0], 3301, "... cell 1 3301 mV")
    c.eq((pb.get("voltage"), pb.get("current"), pb.get("soc")), (53.2, -2.5, 71.0), "pack b: aiobmsble sample")
    c.eq(pb.get("temps_c"), [21.0, 22.5], "pack b: temperatures from temp_values pairs")
    c.eq((pa.get("protocol"), pa.get("topic"), pa.get("bad_messages")), ("mqtt-json", "site/node-a/battery", 0),
         "pack a: protocol, topic, no bad message")
    c.eq(pa.get("settings_bms"), None, "pack a: its map names no BMS setting, settings_bms null")
    c.eq(pb.get("settings_bms"), {"capacity_ah": {"value": 100.0, "unit": "Ah"}},
         "pack b: settings_bms holds the one setting its map names (setting_capacity_ah:design_capacity)")
    r = regs(cl, 1)
    c.ok(not r.isError() and r.registers[0] == 63 and r.registers[1] == 5290 and s16(r.registers[2]) == 61,
         "Modbus unit 1: SOC 63, 52.90 V, 6.1 A (%s)" % (None if r.isError() else r.registers[:3]))
    r = regs(cl, 2)
    c.ok(not r.isError() and r.registers[0] == 71 and r.registers[1] == 5320 and s16(r.registers[2]) == -25,
         "Modbus unit 2: SOC 71, 53.20 V, -2.5 A (%s)" % (None if r.isError() else r.registers[:3]))
    r = regs(cl, 100)
    # capacity-weighted: (63 % x 200 Ah + 71 % x 100 Ah) / 300 Ah = 65.7 %
    c.ok(not r.isError() and r.registers[0] in (65, 66) and s16(r.registers[2]) == 36,
         "Modbus bank (unit 100): SOC 65.7 %% weighted by capacity, current 3.6 A (%s)"
         % (None if r.isError() else r.registers[:3]))
    s = wait_set(rd, lambda s: f351(s)[1] > 0, 10)
    if c.ok(s is not None, "the pylon-can output sends the bank's set"):
        cvl, ccl, dcl, dvl = f351(s)
        c.ok(0 < ccl <= 1000 and 0 < dcl <= 1500, "output 0x351: CCL %d, DCL %d (0.1 A) within [limits]" % (ccl, dcl))
        soc = int.from_bytes(s[0x355][:2], "little")
        c.ok(soc in (65, 66), "output 0x355: the bank's SOC (%d %%)" % soc)
    return True


def bad_messages(gw, http, broker, a):
    print("== bad messages: counted, logged once, the cache unchanged")
    a.playing = False
    before = pack(http, "a")
    mark = len(gw.text())
    a.once(venus()[:40])                            # cut short: no JSON
    a.once(json.dumps({"Dc": {"Voltage": 52.9, "Current": 6.1}, "Soc": 140}))  # SOC out of range
    a.once(json.dumps({"Dc": {"Voltage": "52.9", "Current": 6.1}, "Soc": 60}))  # a string
    ok = wait_until(lambda: pack(http, "a").get("bad_messages") == 3, 10)
    c.ok(ok, "bad_messages 3 in pack a's /api/state (%s)" % pack(http, "a").get("bad_messages"))
    m = re.search(r'bmsgw_link_bad_messages_total\{port="mqtt:site/node-a/battery",kind="mqtt"\} (\d+)',
                  subprocess.run(["curl", "-s", "http://127.0.0.1:%d/metrics" % http], capture_output=True,
                                 text=True).stdout)
    c.ok(m is not None and m.group(1) == "3", "... and in /metrics (%s)" % (m and m.group(1)))
    after = pack(http, "a")
    c.eq((after.get("voltage"), after.get("soc"), after.get("cells_mv")),
         (before.get("voltage"), before.get("soc"), before.get("cells_mv")), "pack a's values unchanged")
    text = gw.text()[mark:]
    c.eq(text.count("pack a: a bad message"), 1, "the bad messages logged once")
    c.eq(len(pack_lines(text, "a")), 1, "... and nothing else of pack a logged (%s)" % pack_lines(text, "a"))
    a.playing = True
    c.ok(wait_until(lambda: "pack a: its messages are good again" in gw.text()[mark:], 10),
         "... and once more when a message is good again")
    c.ok(wait_until(lambda: pack(http, "a").get("soc") == 63.0, 5), "pack a takes good messages again")
    bad_in_a_row(gw, http, a)


def pack_lines(text, name):
    """The lines of the log at info level or above that name pack NAME."""
    return [ln for ln in text.splitlines() if "pack %s:" % name in ln and "bmsgw debug:" not in ln]


def bad_in_a_row(gw, http, a):
    print("== three bad messages in a row: one line, each counted; one line when a good one comes")
    a.playing = False
    n0 = pack(http, "a").get("bad_messages")
    mark = len(gw.text())
    a.once(venus()[:60])                            # a cut-off object
    a.once(b"\xff\xfe{\"Dc\": \xc3\x28}")            # bytes that are not UTF-8
    a.once("[1, 2, ")                               # a cut-off array
    ok = wait_until(lambda: pack(http, "a").get("bad_messages") == n0 + 3, 10)
    c.ok(ok, "bad_messages %s -> %s: the three counted" % (n0, pack(http, "a").get("bad_messages")))
    lines = pack_lines(gw.text()[mark:], "a")
    c.eq(len(lines), 1, "the three bad messages are one line of the log (%s)" % lines)
    mark = len(gw.text())
    a.playing = True
    c.ok(wait_until(lambda: pack(http, "a").get("soc") == 63.0 and pack_lines(gw.text()[mark:], "a"), 10),
         "a good message again")
    lines = pack_lines(gw.text()[mark:], "a")
    c.ok(len(lines) == 1 and "good again after 3 bad ones" in lines[0],
         "... one line says so, with the count (%s)" % lines)


def stale(gw, http, cl, a, b, rd):
    print("== the nodes stop: stale after stale_after, the inverter fail-safe, then silent")
    c.ok(not regs(cl, 1).isError(), "(unit 1 fresh before)")
    a.playing = b.playing = False
    t0 = time.monotonic()

    def exc():
        r = regs(cl, 1, 60)
        return r.isError() and getattr(r, "exception_code", None) == 0x0B
    ok = wait_until(exc, STALE + 8, step=0.1)
    dt = time.monotonic() - t0
    c.ok(ok and dt >= STALE - 1.5, "unit 1: exception 0x0B %.1f s after its node stopped (stale_after %d s)"
         % (dt, STALE))
    c.eq(pack(http, "a").get("online"), False, "pack a offline in /api/state")
    s = wait_set(rd, lambda s: f351(s)[1] == 0 and f351(s)[2] == 0, 10)
    c.ok(s is not None, "the output's CCL = DCL = 0 (fail-safe) once the bank is stale")
    c.eq((inverter_output(http, "out") or {}).get("state"), "failsafe", "output state failsafe")
    t1 = time.monotonic()
    quiet = wait_until(lambda: rd.since(time.monotonic() - 1.5) == [] and time.monotonic() - t1 > 1.5,
                       SILENCE + 8, step=0.2)
    c.ok(quiet, "... then silence after failsafe_silence %d s" % SILENCE)
    a.playing = b.playing = True
    c.ok(wait_until(lambda: not regs(cl, 1).isError(), 10), "the node publishes again: unit 1 fresh again")


def tls_and_login(tmp):
    print("== through TLS (the broker's certificate checked) with a client certificate and a password")
    broker = Broker(users={"bms": "s3cret"}, certs=True, client_cert=True, name="mqttjson-tls")
    pw = os.path.join(tmp, "pw")
    with open(pw, "w") as f:
        f.write("s3cret\n")
    os.chmod(pw, 0o600)
    certs = broker.certs
    gw_port, http = free_port(), free_port()
    text = ("[gateway]\nlisten = 127.0.0.1:%d\nstate_file = none\n[mqtt]\nhost = localhost\nport = %d\n"
            "client_id = tj\ndiscovery = false\ntls = true\nca_file = %s\ncert_file = %s\nkey_file = %s\n"
            "username = bms\npassword_file = %s\n[pack.t]\nprotocol = mqtt-json\ntopic = n/t\n"
            "fields = voltage:v, soc:s\n[http]\nlisten = 127.0.0.1:%d\n[history]\nfile = none\n"
            % (gw_port, broker.tls_port, certs.ca, certs.client, certs.client_key, pw, http))
    gw = Gateway(text, gw_port)
    node = None
    try:
        node = Client(broker, username="bms", password="s3cret", kind="tlsnode")
        node.publish("n/t", json.dumps({"v": 26.4, "s": 55}), qos=1, retain=True, timeout=5)
        ok = wait_until(lambda: pack(http, "t").get("soc") == 55.0, 15)
        c.ok(ok, "a retained message through TLS with a client certificate and a password (%s)"
             % {k: pack(http, "t").get(k) for k in ("voltage", "soc", "online")})
        c.ok("tj-in-t" in broker.text(), "... in the pack's own session (tj-in-t)")
    finally:
        if node:
            node.close()
        gw.stop()
        broker.stop()
        broker.cleanup()


def small_conf(gw_port, http, broker_port, client_id, name, topic, extra=""):
    return ("[gateway]\nlisten = 127.0.0.1:%d\nstate_file = none\n[mqtt]\nhost = 127.0.0.1\nport = %d\n"
            "client_id = %s\ndiscovery = false\n%s[pack.%s]\nprotocol = mqtt-json\ntopic = %s\n"
            "fields = voltage:v, soc:s\n[http]\nlisten = 127.0.0.1:%d\n[history]\nfile = none\n"
            % (gw_port, broker_port, client_id, extra, name, topic, http))


def v311_only():
    print("== a broker that speaks MQTT 3.1.1 only: the pack asks again with MQTT 3.1.1")
    broker = Broker(name="mqttjson-311")
    front = Only311(broker)
    gw_port, http = free_port(), free_port()
    gw = Gateway(small_conf(gw_port, http, front.port, "v3", "v", "n/v"), gw_port)
    node = None

    def mine(conns):
        """The protocol levels of the pack's connections (the MQTT output's client, v3, comes too)."""
        return [level for level, cid in conns if cid == "v3-in-v"]
    try:
        node = Client(broker, kind="v311node")
        node.publish("n/v", json.dumps({"v": 26.6, "s": 48}), qos=1, retain=True, timeout=5)
        ok = wait_until(lambda: pack(http, "v").get("soc") == 48.0, 15)
        c.ok(ok, "the pack's values through a broker that refuses MQTT 5 (%s)"
             % {k: pack(http, "v").get(k) for k in ("voltage", "soc", "online")})
        c.eq(mine(front.refused), [5], "MQTT 5 was asked once and refused (%s)" % front.refused)
        c.eq(mine(front.relayed), [4], "then MQTT 3.1.1, taken")
        c.ok(re.search(r"as v3-in-v \(p2,", broker.text()) is not None,
             "the broker has the pack's session over MQTT 3.1.1 (p2)")
        c.ok("link mqtt:n/v: 127.0.0.1:%d speaks MQTT 3.1.1 only: using that" % front.port in gw.text(),
             "the log says why")
        c.ok("link mqtt:n/v: connected to 127.0.0.1:%d (127.0.0.1, MQTT 3.1.1)" % front.port in gw.text(),
             "... and which protocol it speaks")
        c.ok("retrying" not in gw.text(), "asked again at once: no outage logged")
        print("== ... the broker goes away and comes back: the session keeps MQTT 3.1.1")
        mark = len(gw.text())
        broker.restart()
        ok = wait_until(lambda: "link mqtt:n/v: back after" in gw.text()[mark:], 20)
        c.ok(ok, "the link is back after the broker's restart")
        c.eq((mine(front.refused), mine(front.relayed)), ([5], [4, 4]), "... without asking MQTT 5 again")
        node.close()
        node = Client(broker, kind="v311node2")
        node.publish("n/v", json.dumps({"v": 26.7, "s": 49}), qos=1, retain=True, timeout=5)
        c.ok(wait_until(lambda: pack(http, "v").get("soc") == 49.0, 10), "... and the pack reads the node again")
        c.ok("ERROR: AddressSanitizer" not in gw.text() and "runtime error" not in gw.text(), "sanitizers quiet")
    finally:
        if c.failed:
            gw.dump(30)
        if node:
            node.close()
        gw.stop()
        front.close()
        broker.stop()
        broker.cleanup()


def v5_refusal(tmp):
    print("== a wrong password over MQTT 5: the broker's reason in the log")
    broker = Broker(users={"bms": "s3cret"}, name="mqttjson-auth")
    pw = os.path.join(tmp, "pw-wrong")
    with open(pw, "w") as f:
        f.write("Wr0ng-pw-7q\n")
    os.chmod(pw, 0o600)
    gw_port, http = free_port(), free_port()
    gw = Gateway(small_conf(gw_port, http, broker.port, "mjw", "w", "n/w",
                            "username = bms\npassword_file = %s\n" % pw), gw_port)
    try:
        ok = wait_until(lambda: "link mqtt:n/w: mqtt: the broker refused" in gw.text(), 15)
        lines = [ln for ln in gw.text().splitlines() if "link mqtt:n/w: mqtt: the broker refused" in ln]
        c.ok(ok and "link mqtt:n/w: mqtt: the broker refused the connection: Not authorized "
             "(check [mqtt] username and password_file)" in lines[0],
             "MQTT 5's reason, Not authorized, with the hint (%s)" % (lines[0].split(": ", 1)[-1] if lines else ""))
        c.ok(broker.wait_log("Sending CONNACK to 127.0.0.1 (0, 135)", 10),
             "(the broker's CONNACK: MQTT 5's reason code 0x87, not authorized)")
        ok = wait_until(lambda: broker.text().count("New connection from 127.0.0.1") >= 3, 15)
        c.ok(ok, "tried again with backoff (%d attempts)" % broker.text().count("New connection from 127.0.0.1"))
        lines = [ln for ln in gw.text().splitlines() if "link mqtt:n/w" in ln and "refused" in ln]
        c.eq(len(lines), 1, "the pack's refusal is logged once")
        c.ok("Wr0ng-pw-7q" not in gw.text(), "the password never reaches the log")
        c.eq(pack(http, "w").get("online"), False, "the pack is not online")
        c.ok(gw.alive(), "bmsgw keeps running")
    finally:
        if c.failed:
            gw.dump(30)
        gw.stop()
        broker.stop()
        broker.cleanup()


def check_refusals(broker):
    print("== --check")
    exe = os.path.join(ROOT, BIN, "bmsgw")

    def check(text):
        path = write_conf(text)
        r = subprocess.run([exe, "-c", path, "--check"], capture_output=True, text=True)
        os.unlink(path)
        return r.returncode, r.stderr + r.stdout
    base = "[gateway]\nlisten = 127.0.0.1:%d\n" % free_port()
    pk = "[pack.a]\nprotocol = mqtt-json\ntopic = t/a\nfields = voltage:v, soc:s\n"
    mq = "[mqtt]\nhost = 127.0.0.1\nport = %d\n" % broker.port
    rc, out = check(base + mq + pk)
    c.eq(rc, 0, "--check accepts an mqtt-json pack with [mqtt]")
    rc, out = check(base + pk)
    c.ok(rc != 0 and "no broker" in out, "--check refuses it without [mqtt] (%s)" % out.strip()[-120:])
    rc, out = check(base + mq + pk.replace("voltage:v, ", ""))
    c.ok(rc != 0 and "voltage" in out, "--check refuses fields without voltage")
    rc, out = check(base + mq + pk + "port = /dev/ttyUSB0\n")
    c.ok(rc != 0 and "no port" in out, "--check refuses a port on an mqtt-json pack")
    rc, out = check(base + mq + pk.replace("voltage:v", "volts:v"))
    c.ok(rc != 0 and "volts" in out, "--check names a field bmsgw does not have")


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-mqttjson-")
    broker = Broker(name="mqttjson")
    inv_gw, inv_test = pty_pair(tmp, "invbus")
    rd = CanReader(inv_test)
    a = Node(broker, "site/node-a/battery", venus)
    b = Node(broker, "site/node-b/state", aiobms)
    gw_port, http = free_port(), free_port()
    gw = Gateway(conf(gw_port, http, broker, inv_gw, tmp), gw_port)
    cl = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    cl.connect()
    try:
        if values(gw, http, cl, a, b, rd):
            bad_messages(gw, http, broker, a)
            stale(gw, http, cl, a, b, rd)
        log = broker.text()
        c.ok("bmsgw-mj-in-a" in log and "bmsgw-mj-in-b" in log, "the broker saw both subscriber sessions")
        c.ok(re.search(r"Received PUBLISH from bmsgw-mj-in-", log) is None,
             "the subscriber sessions published nothing")
        c.ok("ERROR: AddressSanitizer" not in gw.text() and "runtime error" not in gw.text(), "sanitizers quiet")
        check_refusals(broker)
        tls_and_login(tmp)
        v311_only()
        v5_refusal(tmp)
    finally:
        if c.failed:
            gw.dump(60)
        cl.close()
        gw.stop()
        a.close()
        b.close()
        rd.close()
        broker.stop()
        broker.cleanup()
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
