#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: parts=5
"""MOSFET control end to end: the real bmsgw against the simulator of every
protocol with control (daly, daly-modbus, jbd, jk, jk-pb), written to with
pymodbus as Home Assistant's modbus switch does it (write_register), raw
Modbus frames, and MQTT commands on a real Mosquitto; then the maintenance
tunnel.  Each outcome of bmsgw(8) "MOSFET CONTROL" is produced by the simulator
(normal, refuse, noswitch, silent, stale) and checked on the wire, in the
registers, in the simulator's state and in the log.  tests/run.sh runs it in
parts, each with its share of the pieces below (harness.my_part)."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BIN, ROOT, Checks, Gateway, Sim, free_port, mbap_request, my_part,  # noqa: E402
                     recv_adu, wait_until, write_conf)
from mqtt_harness import Broker, Subscriber, pub, retained  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import ha_discovery  # noqa: E402

from pymodbus.client import ModbusTcpClient  # noqa: E402

BASE = 290
DSG, CHG = BASE + 17, BASE + 18
c = Checks()

# protocol -> (sim pack specs, gateway addresses, multi-drop?)
PROTOCOLS = {
    "daly": (("address=1", "address=2"), (1, 2)),
    "daly-modbus": (("address=1", "address=2"), (1, 2)),
    "jk-pb": (("address=1", "address=2"), (1, 2)),
    "jbd": (("address=1",), (None,)),
    "jk": (("address=1",), (None,)),
}
UNACKED = {"jk"}  # no acknowledgement is known: the read-back alone decides


def conf_text(gw_port, protocol, sim_port, addrs, extra_gw="", extra="", control2="false"):
    t = """[gateway]
listen = 127.0.0.1:%d
base = %d
stale_after = 4
idle_timeout = 60
control_clients = 127.0.0.1, ::1
state_file = none
%s
""" % (gw_port, BASE, extra_gw)
    for i, a in enumerate(addrs):
        t += """[pack.p%d]
protocol = %s
port = tcp://127.0.0.1:%d
unit_id = %d
poll_interval = 0.3
timeout = 0.5
retries = 1
control = %s
control_timeout = 2
%s
""" % (i + 1, protocol, sim_port, i + 1, "true" if i == 0 else control2,
            ("address = %d" % a) if a is not None else "")
    return t + extra


def sim_pack(sim, n=0):
    return sim.state()["packs"][n]


def regs(client, unit=1, count=125):
    r = client.read_holding_registers(BASE, count, slave=unit)
    return None if r.isError() else r.registers


def online(client, unit=1):
    r = regs(client, unit)
    return r if r and r[58] == 1 else None


def exc_of(resp):
    """None for a normal reply, else the exception code."""
    return getattr(resp, "exception_code", -1) if resp.isError() else None


def raw_write(port, unit, addr, value, src="127.0.0.1", fc=6, values=None):
    """One FC06 (or FC16 with values) over a fresh connection from src.
    Returns (exception or None, seconds)."""
    if fc == 6:
        pdu = bytes([6, addr >> 8, addr & 255, value >> 8, value & 255])
    else:
        pdu = bytes([16, addr >> 8, addr & 255, 0, len(values), 2 * len(values)])
        for v in values:
            pdu += bytes([v >> 8, v & 255])
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    t0 = time.monotonic()
    s.sendall(mbap_request(7, unit, pdu))
    resp = recv_adu(s)
    dt = time.monotonic() - t0
    s.close()
    if len(resp) == 9 and resp[7] & 0x80:
        return resp[8], dt
    if len(resp) == 12 and resp[7] == fc:
        return None, dt
    return "bad reply %r" % resp, dt


class Pace:
    """At most one command per pack per second (counted from the end of the
    previous one) is the rule under test in one place only; everywhere else
    the test waits out the rest of that second: pace(fn) runs fn then."""

    def __init__(self):
        self.last = 0.0

    def wait(self):
        left = self.last + 1.05 - time.monotonic()
        if left > 0:
            time.sleep(left)

    def __call__(self, fn):
        self.wait()
        try:
            return fn()
        finally:
            self.last = time.monotonic()


def online_flag(client, unit=1):
    r = client.read_holding_registers(BASE + 58, 1, slave=unit)
    return None if r.isError() else r.registers[0]


def counters(client):
    r = client.read_holding_registers(BASE + 123, 2, slave=1)
    return None if r.isError() else tuple(r.registers)


def run_protocol(protocol):
    specs, addrs = PROTOCOLS[protocol]
    label = protocol
    sim = Sim(protocol, packs=specs)
    gw_port = free_port()
    gw = Gateway(conf_text(gw_port, protocol, sim.port, addrs), gw_port)
    client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=8)
    pace = Pace()
    try:
        c.ok(wait_until(lambda: online(client), 10) is not None, "%s: pack online" % label)
        if len(addrs) > 1:
            c.ok(wait_until(lambda: online(client, 2), 10) is not None, "%s: second pack on the bus online" % label)
        w0 = sim.ctl("stats")
        c.eq(json.loads(w0)["writes"], 0, "%s: nothing is written at start" % label)
        other0 = regs(client, 2) if len(addrs) > 1 else None

        # 1. discharge off, as Home Assistant's modbus switch does it
        t0 = time.monotonic()
        r = pace(lambda: client.write_register(DSG, 0, slave=1))
        dt = time.monotonic() - t0
        after = regs(client)
        c.ok(exc_of(r) is None, "%s: write_register(17, 0) answered normally (%.0f ms)" % (label, dt * 1000))
        c.ok(after is not None and after[17] == 0 and after[18] == 1,
             "%s: the reply came after the read-back: register 17 already reads 0" % label)
        p = sim_pack(sim)
        c.ok(p["dsg_mos"] == 0 and p["chg_mos"] == 1, "%s: the simulated discharge MOSFET is off" % label)

        # 2. charge off too
        r = pace(lambda: client.write_register(CHG, 0, slave=1))
        after = regs(client)
        c.ok(exc_of(r) is None and after[18] == 0 and after[17] == 0, "%s: charge off -> registers 17/18 = 0/0" % label)
        p = sim_pack(sim)
        c.ok(p["dsg_mos"] == 0 and p["chg_mos"] == 0, "%s: both MOSFETs off in the BMS" % label)

        # 3. FC16 over both: discharge on, charge stays off (JBD writes both from intent)
        r = pace(lambda: client.write_registers(DSG, [1, 0], slave=1))
        after = regs(client)
        c.ok(exc_of(r) is None and after[17] == 1 and after[18] == 0, "%s: FC16 [1, 0] at 17-18 done" % label)
        p = sim_pack(sim)
        c.ok(p["dsg_mos"] == 1 and p["chg_mos"] == 0, "%s: discharge on, charge still off" % label)

        # 4. the BMS refuses
        sim.ctl("control 1 refuse")
        writes = sim_pack(sim)["writes"]
        before = gw.text()
        exc, dt = pace(lambda: raw_write(gw_port, 1, CHG, 1))
        c.eq(exc, 4, "%s: BMS refuses -> 0x04 (%.1f s)" % (label, dt))
        p = sim_pack(sim)
        c.ok(p["chg_mos"] == 0 and p["writes"] > writes, "%s: refused: the write reached the BMS, nothing switched" % label)
        if protocol not in UNACKED:
            # a refusal is the BMS's answer: the log says so, not "no answer" after control_timeout
            m = re.search(r"pack p1: charge MOSFET on: failed \(exception 0x04\): (.*)", gw.text()[len(before):])
            c.ok(m is not None and "within" not in m.group(1),
                 "%s: a refusal is reported as the BMS's answer, not after control_timeout (%.2f s)" % (label, dt))

        # 5. acknowledged, but a protection holds the MOSFET off (an alarm is active)
        sim.ctl("set 1 alarm 0 1")
        c.ok(wait_until(lambda: (lambda r: r is not None and r[45] == 1)(regs(client)), 10),
             "%s: an alarm is active (failure flag)" % label)
        sim.ctl("control 1 noswitch")
        exc, dt = pace(lambda: raw_write(gw_port, 1, CHG, 1))
        c.eq(exc, 4, "%s: acknowledged but not switched -> 0x04" % label)
        c.eq(sim_pack(sim)["chg_mos"], 0, "%s: still off in the BMS" % label)
        c.eq(regs(client)[18], 0, "%s: register 18 still 0" % label)
        log = gw.text()
        m = re.search(r"pack p1: charge MOSFET on: failed \(exception 0x04\).*(holds it off|held off): ([a-z_, ]+)\)",
                      log)
        c.ok(m is not None, "%s: the log says a protection holds it off and names it: %s" %
             (label, m.group(2) if m else log.splitlines()[-1]))
        sim.ctl("set 1 alarm 0 0")

        # 6. no answer at all
        sim.ctl("control 1 silent")
        exc, dt = pace(lambda: raw_write(gw_port, 1, CHG, 1))
        want = 4 if protocol in UNACKED else 0x0B
        c.eq(exc, want, "%s: the BMS does not answer the write -> 0x%02X (%.1f s)" % (label, want, dt))

        # 7. normal again: charge on
        sim.ctl("control 1 normal")
        exc, dt = pace(lambda: raw_write(gw_port, 1, CHG, 1))
        c.eq(exc, None, "%s: charge on, done (%.2f s)" % (label, dt))
        p = sim_pack(sim)
        c.ok(p["chg_mos"] == 1 and p["dsg_mos"] == 1, "%s: both on again" % label)

        # 8. one command per pack per second; other clients are not delayed meanwhile
        sim.ctl("control 1 silent")  # the first command waits for its acknowledgement
        first = {}
        th = threading.Thread(target=lambda: first.update(r=pace(lambda: raw_write(gw_port, 1, DSG, 0))))
        th.start()
        wait_until(lambda: "discharge MOSFET off: queued" in gw.text()[len(log):], 5)
        exc, dt = raw_write(gw_port, 1, DSG, 0)
        c.eq(exc, 6, "%s: a second command while one runs -> 0x06 busy" % label)
        t0 = time.monotonic()
        ok_reads = sum(1 for _ in range(10) if regs(client) is not None)
        dt = time.monotonic() - t0
        # served while the command still waits for its acknowledgement (control_timeout 2 s)
        waiting = th.is_alive() and "r" not in first
        c.ok(ok_reads == 10 and waiting, "%s: 10 reads while a command waits (%.0f ms, still waiting: %s)"
             % (label, dt * 1000, waiting))
        th.join()
        c.ok(first["r"][0] in (4, 0x0B), "%s: the first command failed (BMS silent): %s" % (label, first["r"]))
        sim.ctl("control 1 normal")
        exc, dt = raw_write(gw_port, 1, DSG, 1)
        c.eq(exc, 6, "%s: a command within a second of the last one's end -> 0x06 (%.0f ms)" % (label, dt * 1000))
        exc, dt = pace(lambda: raw_write(gw_port, 1, DSG, 1))
        c.eq(exc, None, "%s: a second later it is accepted" % label)

        # 9. not allowed: another client address; the other pack; other registers; bad values
        writes = json.loads(sim.ctl("stats"))["writes"]
        exc, _ = pace(lambda: raw_write(gw_port, 1, DSG, 0, src="127.0.0.2"))
        c.eq(exc, 1, "%s: client 127.0.0.2 not in control_clients -> 0x01" % label)
        if len(addrs) > 1:
            exc, _ = raw_write(gw_port, 2, DSG, 0)
            c.eq(exc, 1, "%s: pack without control = true -> 0x01" % label)
        exc, _ = raw_write(gw_port, 1, BASE + 16, 0)
        c.eq(exc, 2, "%s: another register -> 0x02" % label)
        exc, _ = raw_write(gw_port, 1, BASE, 0, src="127.0.0.2")
        c.eq(exc, 2, "%s: a read-only register from a client not in control_clients -> 0x02 (design section 5)"
             % label)
        if len(addrs) > 1:
            exc, _ = raw_write(gw_port, 2, BASE, 0)
            c.eq(exc, 2, "%s: a read-only register of a pack without control -> 0x02" % label)
        exc, _ = raw_write(gw_port, 1, DSG, 2)
        c.eq(exc, 3, "%s: value 2 -> 0x03" % label)
        exc, _ = raw_write(gw_port, 1, DSG, 0, fc=16, values=[0, 0, 0])
        c.eq(exc, 3, "%s: FC16 of 3 registers from 17 -> 0x03" % label)
        c.eq(json.loads(sim.ctl("stats"))["writes"], writes, "%s: none of those reached the wire" % label)

        # 10. a write on a shared bus does not disturb the other pack's polls
        if other0:
            other1 = regs(client, 2)
            gp0, fp0 = other0[99] << 16 | other0[100], other0[101] << 16 | other0[102]
            gp1, fp1 = other1[99] << 16 | other1[100], other1[101] << 16 | other1[102]
            c.ok(gp1 > gp0 and fp1 == fp0, "%s: the other pack on the bus: %d good polls, no failed poll meanwhile"
                 % (label, gp1 - gp0))
            wire = regs(client)[116:119]
            c.eq(wire[0], 0, "%s: no checksum error on the bus" % label)

        # 11. stale pack: refused without touching the wire
        sim.ctl("fault 1 silent")
        c.ok(wait_until(lambda: online_flag(client) == 0, 10), "%s: pack stale" % label)
        writes = json.loads(sim.ctl("stats"))["writes"]
        exc, _ = pace(lambda: raw_write(gw_port, 1, DSG, 0))
        c.eq(exc, 0x0B, "%s: stale pack -> 0x0B" % label)
        c.eq(json.loads(sim.ctl("stats"))["writes"], writes, "%s: nothing sent to a stale pack" % label)
        sim.ctl("fault 1 none")
        wait_until(lambda: online(client), 10)

        # 12. every attempt logged and counted: 123 done, 124 failed at the
        # BMS; refusals (before anything was sent) are not the pack's
        # failures and are not in 124
        cnt = counters(client)
        log = gw.text()
        done = len(re.findall(r"control: .*pack p1: .*: done", log))
        failed = len(re.findall(r"control: .*pack p1: .*: failed", log))
        refused = len(re.findall(r"control: .*pack p1: .*: refused", log))
        c.ok(cnt is not None and cnt == (done, failed) and done >= 5 and refused >= 1,
             "%s: registers 123/124 = %s, the log has %d done, %d failed (and %d refusal lines)" %
             (label, cnt, done, failed, refused))
        c.ok(re.search(r"control: Modbus client 127\.0\.0\.1:\d+: pack p1: discharge MOSFET off: done", log)
             is not None, "%s: the log names client, pack, request and outcome" % label)

        # 13. a restart never replays a command
        gw.stop()
        writes = json.loads(sim.ctl("stats"))["writes"]
        gw = Gateway(conf_text(gw_port, protocol, sim.port, addrs), gw_port)
        client.close()
        client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=8)
        wait_until(lambda: online(client), 10)
        c.eq(json.loads(sim.ctl("stats"))["writes"], writes, "%s: a restart sends no command" % label)
    finally:
        client.close()
        if gw.alive() is False:
            gw.dump()
        rc = gw.stop()
        c.ok(rc == 0, "%s: bmsgw exits cleanly (%s)" % (label, rc))
        if c.failed:
            gw.dump(60)
        sim.stop()


def test_config_errors():
    for proto in ("pylontech", "seplos", "topbms", "sinowealth", "vedirect"):
        path = write_conf("[gateway]\nlisten = 127.0.0.1:1502\n[pack.x]\nprotocol = %s\nport = /dev/ttyUSB0\n"
                          "control = true\n" % proto)
        out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "--check", "-c", path],
                             capture_output=True, text=True, timeout=10)
        msg = (out.stdout + out.stderr).strip()
        c.ok(out.returncode != 0 and re.search(r"%s:6: \[pack\.x\] control:" % re.escape(path), msg) is not None,
             "%s: control = true is a configuration error naming file, line and key: %s" % (proto, msg[-120:]))
        os.unlink(path)
    # --ha-yaml: Home Assistant modbus switches for the packs with control only
    import yaml
    path = write_conf("[gateway]\nlisten = 0.0.0.0:502\n[pack.house]\nprotocol = daly\nport = /dev/ttyUSB0\n"
                      "control = true\ncontrol_timeout = 6\n[pack.shed]\nprotocol = jbd\nport = /dev/ttyUSB1\n")
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", path, "--ha-yaml"], capture_output=True,
                         text=True, timeout=10)
    os.unlink(path)
    hub = yaml.safe_load(out.stdout)["modbus"][0]
    sw = hub.get("switches", [])
    keys = {"name", "unique_id", "slave", "address", "write_type", "command_on", "command_off", "scan_interval",
            "verify"}
    c.eq(sorted((s["name"], s["address"]) for s in sw), [("house charge MOSFET", BASE + 18),
                                                          ("house discharge MOSFET", BASE + 17)],
         "--ha-yaml: two switches for the pack with control, none for the other")
    c.ok(all(set(s) <= keys and s["write_type"] == "holding" and s["verify"]["address"] == s["address"] and
             s["verify"]["input_type"] == "holding" and (s["command_on"], s["command_off"]) == (1, 0) for s in sw),
         "--ha-yaml: switches write a holding register and verify it (Home Assistant's modbus switch schema)")
    c.ok(hub["timeout"] >= 8, "--ha-yaml: the hub waits longer than control_timeout (%s s)" % hub["timeout"])


def test_bank():
    sim = Sim("daly", packs=("address=1", "address=2"))
    gw_port = free_port()
    gw = Gateway(conf_text(gw_port, "daly", sim.port, (1, 2), control2="true",
                           extra="[bank]\nunit_id = 100\npacks = p1, p2\n"), gw_port)
    client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=8)
    try:
        wait_until(lambda: online(client) and online(client, 2), 10)
        exc, _ = raw_write(gw_port, 100, DSG, 0)
        c.eq(exc, 1, "the bank unit is never writable -> 0x01")
        exc, _ = raw_write(gw_port, 100, BASE, 0)
        c.eq(exc, 2, "a read-only register of the bank unit -> 0x02")
        c.eq(json.loads(sim.ctl("stats"))["writes"], 0, "bank: nothing written")
        # a pack that a loaded machine let go stale for a poll answers 0x0B,
        # one whose bus is still busy 0x06 (nothing sent either way): write
        # again once it is fresh
        exc = None
        for _ in range(5):
            wait_until(lambda: online(client, 2), 10)
            exc, _ = raw_write(gw_port, 2, DSG, 0)
            if exc not in (6, 11):
                break
            time.sleep(1.05)  # a refused try counts too: at most one command per pack per second
        c.eq(exc, None, "pack 2 (control = true too) switches on its own")
        p = sim.state()["packs"]
        c.ok(p[0]["dsg_mos"] == 1 and p[1]["dsg_mos"] == 0, "only the addressed pack switched")
    finally:
        client.close()
        if c.failed:
            gw.dump(60)
        gw.stop()
        sim.stop()


def test_mqtt():
    broker = Broker()
    sim = Sim("daly", packs=("address=1", "address=2"))
    gw_port = free_port()
    mq = "[mqtt]\nhost = 127.0.0.1\nport = %d\nclient_id = ctl\ntopic_prefix = bmsgw\ncontrol = true\n" % broker.port
    sub = Subscriber(broker.port, topics=("bmsgw/#",))
    gw = Gateway(conf_text(gw_port, "daly", sim.port, (1, 2), extra=mq), gw_port)
    client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=8)
    pace = Pace()
    try:
        wait_until(lambda: online(client) and online(client, 2), 10)
        c.ok(sub.wait_for("bmsgw/p1/availability", lambda m: m.text() == "online", 10) is not None,
             "mqtt: p1 online")
        configs = retained(broker.port, "homeassistant/#")
        sw = sorted(t for t in configs if t.startswith("homeassistant/switch/"))
        c.eq(sw, ["homeassistant/switch/bmsgw_ctl_p1/charge_switch/config",
                  "homeassistant/switch/bmsgw_ctl_p1/discharge_switch/config"],
             "mqtt: switch entities only for the pack with control")
        js = {t: json.loads(m.payload) for t, m in configs.items() if m.payload}
        errs = ha_discovery.check({t: m.text() for t, m in configs.items() if m.payload})
        c.eq(errs, [], "mqtt: discovery with switches passes Home Assistant's rules")
        d = js.get("homeassistant/switch/bmsgw_ctl_p1/discharge_switch/config", {})
        c.ok(d.get("command_topic") == "bmsgw/p1/set/discharge_mos" and d.get("optimistic") is False and
             d.get("state_topic") == "bmsgw/p1/state" and d.get("state_on") == "True" and
             d.get("payload_off") == "OFF" and d.get("entity_category") == "config",
             "mqtt: the switch takes its state from the BMS read-back, commands ON/OFF")

        def result_after(t0):
            m = sub.wait_for("bmsgw/p1/result", lambda m: m.t >= t0, 10)
            pace.last = time.monotonic()
            return json.loads(m.payload) if m else None

        pace.wait()
        t0 = time.monotonic()
        pub(broker.port, "bmsgw/p1/set/discharge_mos", "OFF")
        res = result_after(t0)
        c.ok(res is not None and res["result"] == "done" and res["exception"] is None,
             "mqtt: discharge_mos OFF -> result done: %s" % res)
        st = sub.latest("bmsgw/p1/state")
        c.ok(st is not None and json.loads(st.payload)["discharge_mos"] is False,
             "mqtt: the state already shows discharge_mos false")
        c.eq(sim.state()["packs"][0]["dsg_mos"], 0, "mqtt: the BMS switched")

        pace.wait()
        t0 = time.monotonic()
        pub(broker.port, "bmsgw/p1/set/discharge_mos", "ON")
        res = result_after(t0)
        c.ok(res and res["result"] == "done", "mqtt: discharge_mos ON -> done")

        writes = json.loads(sim.ctl("stats"))["writes"]
        for payload, exc, what in (("off", 3, "lower-case off"), ("ON ", 3, "trailing blank"), ("1", 3, "1")):
            pace.wait()
            t0 = time.monotonic()
            pub(broker.port, "bmsgw/p1/set/charge_mos", payload)
            res = result_after(t0)
            c.ok(res and res["result"] == "refused" and res["exception"] == exc,
                 "mqtt: payload %s refused: %s" % (what, res))
        pace.wait()
        t0 = time.monotonic()
        pub(broker.port, "bmsgw/p1/set/heater", "ON")
        res = result_after(t0)
        c.ok(res and res["result"] == "refused", "mqtt: unknown command refused")
        t0 = time.monotonic()
        pub(broker.port, "bmsgw/p2/set/charge_mos", "OFF")
        m = sub.wait_for("bmsgw/p2/result", lambda m: m.t >= t0, 10)
        res = json.loads(m.payload) if m else None
        c.ok(res and res["result"] == "refused" and res["exception"] == 1,
             "mqtt: pack without control -> refused 0x01: %s" % res)
        # a retained command: refused (MQTT 5 keeps the flag) and cleared
        pace.wait()
        t0 = time.monotonic()
        pub(broker.port, "bmsgw/p1/set/charge_mos", "OFF", retain=True)
        res = result_after(t0)
        c.ok(res and res["result"] == "refused" and "retained" in res["message"], "mqtt: retained command refused")
        c.ok(wait_until(lambda: "bmsgw/p1/set/charge_mos" not in retained(broker.port, "bmsgw/+/set/#"), 5),
             "mqtt: the retained command was cleared")
        c.eq(json.loads(sim.ctl("stats"))["writes"], writes, "mqtt: no refused command reached the BMS")

        # a retained command waiting at the broker while bmsgw was down is never executed
        gw.stop()
        pub(broker.port, "bmsgw/p1/set/charge_mos", "OFF", retain=True)
        t0 = time.monotonic()
        gw = Gateway(conf_text(gw_port, "daly", sim.port, (1, 2), extra=mq), gw_port)
        res = result_after(t0)
        c.ok(res and res["result"] == "refused", "mqtt: a retained command found at connect is refused")
        client.close()
        client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=8)
        wait_until(lambda: online(client), 10)
        c.eq(json.loads(sim.ctl("stats"))["writes"], writes, "mqtt: ... and not executed")
        c.eq(sim.state()["packs"][0]["chg_mos"], 1, "mqtt: charge MOSFET untouched")

        # stale pack
        t0 = time.monotonic()
        sim.ctl("fault 1 silent")
        c.ok(sub.wait_for("bmsgw/p1/availability", lambda m: m.text() == "offline" and m.t > t0, 10) is not None,
             "mqtt: the pack goes offline")
        pace.wait()
        t0 = time.monotonic()
        pub(broker.port, "bmsgw/p1/set/charge_mos", "OFF")
        res = result_after(t0)
        c.ok(res and res["result"] == "refused" and res["exception"] == 0x0B, "mqtt: stale pack refused (0x0B)")
        sim.ctl("fault 1 none")
        log = gw.text()
        c.ok(re.search(r"control: mqtt: pack p1: charge MOSFET off: refused \(exception 0x0B\)", log) is not None,
             "mqtt: commands are logged like Modbus writes")
    finally:
        client.close()
        gw.stop()
        sub.close()
        sim.stop()
        broker.cleanup()

    # [mqtt] control = false: no subscription, no switches
    broker = Broker()
    sim = Sim("daly", packs=("address=1",))
    mq = "[mqtt]\nhost = 127.0.0.1\nport = %d\nclient_id = ctl\ntopic_prefix = bmsgw\n" % broker.port
    gw = Gateway(conf_text(gw_port, "daly", sim.port, (1,), extra=mq), gw_port)
    sub = Subscriber(broker.port, topics=("bmsgw/#",))
    try:
        sub.wait_for("bmsgw/p1/availability", lambda m: m.text() == "online", 10)
        pub(broker.port, "bmsgw/p1/set/discharge_mos", "OFF")
        # the gateway publishes states every poll: a few of them prove the command was seen and ignored
        t0 = time.monotonic()
        sub.wait_for("bmsgw/p1/state", lambda m: m.t > t0 + 1.0, 10)
        c.eq(sub.all("bmsgw/p1/result"), [], "mqtt control = false: no result, the command is not even read")
        c.eq(json.loads(sim.ctl("stats"))["writes"], 0, "mqtt control = false: nothing written")
        configs = retained(broker.port, "homeassistant/switch/#")
        c.eq(list(configs), [], "mqtt control = false: no switch entity")
    finally:
        gw.stop()
        sub.close()
        sim.stop()
        broker.cleanup()


def daly_req(board, cmd):
    b = bytes([0xA5, 0x40 + board - 1, cmd, 8] + [0] * 8)
    return b + bytes([sum(b) & 0xFF])


def daly_0x90(board, st):
    """The simulator's 0x90 answer for a pack state (daly: current raw =
    30000 - 10 x I with I + when charging)."""
    v = round(st["voltage"] * 10)
    cur = 30000 - round(st["current"] * 10)
    soc = round(st["soc"] * 10)
    f = bytes([0xA5, board, 0x90, 0x08, v >> 8, v & 255, 0, 0, cur >> 8, cur & 255, soc >> 8, soc & 255])
    return f + bytes([sum(f) & 0xFF])


def recv_for(s, n, timeout=3.0):
    s.settimeout(timeout)
    buf = b""
    end = time.monotonic() + timeout
    while len(buf) < n and time.monotonic() < end:
        try:
            d = s.recv(4096)
        except socket.timeout:
            break
        if not d:
            break
        buf += d
    return buf


def closed_by_peer(s, timeout=3.0):
    s.settimeout(timeout)
    try:
        return s.recv(100) == b""
    except (ConnectionResetError, socket.timeout):
        return False


def test_tunnel():
    sim = Sim("daly", packs=("address=1", "address=2"))
    gw_port, tport = free_port(), free_port()
    tun = "[tunnel.service]\nport = tcp://127.0.0.1:%d\nlisten = 127.0.0.1:%d\nclients = 127.0.0.1\n" \
          "idle_timeout = 3\n" % (sim.port, tport)
    gw = Gateway(conf_text(gw_port, "daly", sim.port, (1, 2), extra=tun), gw_port)
    client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=8)
    try:
        c.ok(wait_until(lambda: online(client) and online(client, 2), 10) is not None, "tunnel: packs online")
        c.ok("tunnel service: listening on 127.0.0.1:%d" % tport in gw.text(), "tunnel: listening")

        # a client not in the allowlist is turned away
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.connect(("127.0.0.1", tport))
        c.ok(closed_by_peer(s), "tunnel: 127.0.0.2 is not in clients: closed at once")
        s.close()

        tool = socket.create_connection(("127.0.0.1", tport))
        c.ok(wait_until(lambda: "wire tcp://127.0.0.1:%d lent for maintenance" % sim.port in gw.text(), 5),
             "tunnel: the wire is lent (logged)")
        # polling pauses: the simulator sees only the tool's requests from now on
        req0 = json.loads(sim.ctl("stats"))["requests"]
        st = sim.state()["packs"][0]
        tool.sendall(daly_req(1, 0x90))
        got = recv_for(tool, 13)
        c.eq(got.hex(), daly_0x90(1, st).hex(), "tunnel: request and answer carried byte for byte")
        # a vendor tool's session: request, answer, request ... to both boards
        st2 = sim.state()["packs"][1]
        good = 0
        for i in range(20):
            board = 1 + i % 2
            tool.sendall(daly_req(board, 0x90))
            good += recv_for(tool, 13) == daly_0x90(board, st if board == 1 else st2)
        c.eq(good, 20, "tunnel: 20 more exchanges with both boards, every answer exact")
        req1 = json.loads(sim.ctl("stats"))["requests"]
        c.eq(req1 - req0, 21, "tunnel: the wire carried only the tool's 21 requests (no polling)")
        # a second tool is refused
        s2 = socket.create_connection(("127.0.0.1", tport))
        c.ok(closed_by_peer(s2), "tunnel: one tool at a time: a second one is closed")
        s2.close()
        # the packs go stale as usual; commands are refused
        c.ok(wait_until(lambda: client.read_holding_registers(BASE, 1, slave=1).isError(), 10),
             "tunnel: the packs go stale (0x0B) while the tool has the wire")
        exc, _ = raw_write(gw_port, 1, DSG, 0)
        c.eq(exc, 0x0B, "tunnel: a command while the wire is lent -> 0x0B")
        # the tool leaves: polling resumes at once
        tool.close()
        t0 = time.monotonic()
        c.ok(wait_until(lambda: online(client), 5) is not None, "tunnel: polling resumes after the tool leaves")
        dt = time.monotonic() - t0
        print("   tunnel: the pack is fresh again %.2f s after the tool left" % dt)
        c.ok(re.search(r"tunnel service: tool 127\.0\.0\.1:\d+ disconnected after \d+ s \(273 bytes to the wire, "
                       r"273 from it\); wire \S+ given back: polling resumes", gw.text()) is not None,
             "tunnel: the end is logged with the byte counts")

        # idle_timeout gives the wire back
        tool = socket.create_connection(("127.0.0.1", tport))
        t0 = time.monotonic()
        c.ok(closed_by_peer(tool, 6), "tunnel: a silent tool is disconnected")
        dt = time.monotonic() - t0
        c.ok(dt >= 2.9, "tunnel: ... after idle_timeout = 3 s (%.1f s)" % dt)
        tool.close()
        c.ok(wait_until(lambda: online(client), 5) is not None, "tunnel: polling resumes after the idle timeout")

        # a reload with the same tunnel keeps the tool's session
        tool = socket.create_connection(("127.0.0.1", tport))
        wait_until(lambda: gw.text().count("lent for maintenance") == 3, 5)
        gw.p.send_signal(signal.SIGHUP)
        wait_until(lambda: "reload #1: applied" in gw.text(), 5)
        tool.sendall(daly_req(1, 0x90))
        c.eq(len(recv_for(tool, 13)), 13, "tunnel: the session survives a reload that keeps the tunnel")
        tool.close()
        c.ok(wait_until(lambda: online(client), 5) is not None, "tunnel: polling resumes")
    finally:
        client.close()
        rc = gw.stop()
        c.ok(rc == 0, "tunnel: bmsgw exits cleanly")
        if c.failed:
            gw.dump(60)
        sim.stop()


# ONLY=mqtt,tunnel,jbd ... runs some of the pieces (while working on them)
only = set(filter(None, os.environ.get("ONLY", "").split(",")))
pieces = [("config", test_config_errors)] + [(p, lambda p=p: run_protocol(p)) for p in PROTOCOLS] + \
    [("bank", test_bank), ("mqtt", test_mqtt), ("tunnel", test_tunnel)]
for name, fn in pieces:
    if my_part() and (not only or name in only):
        fn()
c.report()
