#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: parts=3
"""MQTT with Home Assistant discovery, against a real Mosquitto broker:

- every protocol: P/NAME/state equals the simulator's wire state;
- every discovery payload passes Home Assistant's rules
  (tests/tools/ha_discovery.py), names topics that exist, and its template
  reads a value the entity accepts from the retained state;
- a pack going stale flips its availability within stale_after, and back;
- the energy counters: integrated, in the state and in registers 119-122,
  kept across a restart and a reload;
- Home Assistant's birth message makes discovery and state come again;
- a pack removed by a reload has its retained configs and topics cleared,
  and after a restart the stale configs of a removed pack are reconciled;
- kill -9 of bmsgw: P/status offline through the will; SIGTERM: offline
  published for every pack and the gateway;
- the broker killed and restarted: bmsgw reconnects and republishes;
- a reload to another broker while the old one has stopped reading (its
  socket full) applies at once, Modbus served throughout;
- a blackholed broker never holds a Modbus read (none waits 0.5 s);
- TLS with a CA and a client certificate made here, password
  authentication; a wrong password logged clearly and retried with backoff;
  a certificate for another name refused;
- MQTT 3.1.1 when the broker refuses MQTT 5;
- --mqtt-dump prints the configs without connecting;
- fleet: a site's broker bridging to a central one, where a subscriber sees
  the site's topics under its own prefix.

tests/run.sh runs it in parts, each with its share of the tests of main()
(harness.my_part).
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
from harness import (BIN, ROOT, Checks, Gateway, Sim, free_port, mbap_request, my_part, recv_adu,  # noqa: E402
                     wait_until, wire_protocol, write_conf)
from ha_discovery import check as ha_check  # noqa: E402
from mqtt_harness import Blackhole, Broker, Certs, Forward, Only311, Subscriber, pub, retained  # noqa: E402

BASE = 290
c = Checks()


def protocols(exe, pattern):
    out = subprocess.run([os.path.join(ROOT, BIN, exe), "--help"], capture_output=True, text=True)
    m = re.search(pattern, out.stdout + out.stderr)
    return m.group(1).replace(",", " ").split() if m else []


def default_address(proto):
    conf = write_conf("[pack.p]\nprotocol = %s\nport = /dev/null\n" % proto)
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", conf, "--check"], capture_output=True, text=True)
    m = re.search(r"address (\d+)", out.stdout)
    return int(m.group(1)) if m else 0


def mqtt_section(port, extra=""):
    return "[mqtt]\nhost = 127.0.0.1\nport = %d\nclient_id = t1\ntopic_prefix = site/bmsgw\n%s" % (port, extra)


def pack_section(name, proto, sim_port, extra=""):
    return ("[pack.%s]\nprotocol = %s\nport = tcp://127.0.0.1:%d\npoll_interval = 0.5\n%s"
            % (name, proto, sim_port, extra))


def gateway_section(gw_port, state_file, extra=""):
    return ("[gateway]\nlisten = 127.0.0.1:%d\nstale_after = 3\nstate_file = %s\n%s"
            % (gw_port, state_file, extra))


def state(sub, name):
    m = sub.latest("site/bmsgw/%s/state" % name)
    return json.loads(m.text()) if m and m.payload else None


def read_regs(port, unit, addr, count):
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        s.sendall(mbap_request(1, unit, bytes([3, addr >> 8, addr & 255, 0, count])))
        r = recv_adu(s)
    if len(r) < 9 or r[7] & 0x80:
        return None
    return [r[9 + 2 * i] << 8 | r[10 + 2 * i] for i in range(count)]


def compare(js, p, label):
    """The pack's state JSON against the simulator's view of the pack."""
    c.near(js.get("voltage"), p["voltage"], 0.006, label + ": voltage")
    c.near(js.get("current"), p["current"], 0.006, label + ": current")
    if p["soc"] is None:
        c.eq(js.get("soc"), None, label + ": SOC absent -> null")
    else:
        c.near(js.get("soc"), p["soc"], 0.06, label + ": SOC")
    c.eq(js.get("cells_mv"), p["cells_mv"], label + ": cells")
    c.eq([round(t * 10) for t in js.get("temps_c", [])], [round(t * 10) for t in p["temps_c"][:8]],
         label + ": temperatures")
    c.eq(js.get("soh") is None, p["soh"] is None, label + ": SOH null exactly when absent")
    if p["chg_mos"] is not None:
        c.eq((js.get("charge_mos"), js.get("discharge_mos")), (bool(p["chg_mos"]), bool(p["dsg_mos"])),
             label + ": MOSFETs")
    for k in ("energy_in_kwh", "energy_out_kwh", "updated", "wire", "alarms", "problem"):
        c.ok(k in js, label + ": key %s present" % k)


def eight_packs_conf(gw_port, state_file, broker_port, sim_port):
    """Eight Daly packs p1..p8 on one simulator, every cell announced: far
    more discovery than a broker takes at once."""
    conf = gateway_section(gw_port, state_file) + mqtt_section(broker_port, "cells = enabled\n")
    for a in range(1, 9):
        conf += pack_section("p%d" % a, "daly", sim_port, "address = %d\n" % a)
    return conf


def discovery_problems(broker_port, known):
    configs = {t: m.text() for t, m in retained(broker_port, "homeassistant/#").items() if m.payload}
    return configs, ha_check(configs, known)


def test_protocols_and_discovery(tmp):
    print("== every protocol, discovery, availability, energy, birth, removal")
    broker = Broker()
    sims = {}
    # every protocol spoken over a wire (the Bluetooth-only ones publish
    # through the same code, and test_ble.py checks a BLE pack's MQTT state)
    protos = [p for p in protocols("bmsgw", r"protocols: (.*)") if p in protocols("bmsgw-sim", r"packs: (.*)")
              and wire_protocol(p)]
    c.ok(len(protos) >= 10, "protocols both speak: %s" % protos)
    for proto in protos:
        addr = default_address(proto)
        sims[proto] = Sim(protocol=proto, packs=(("address=%d" % addr,) if addr else ()))
    gw_port = free_port()
    sf = os.path.join(tmp, "state")
    conf = gateway_section(gw_port, sf) + "".join(
        pack_section(p.replace("-", "_"), p, s.port, "unit_id = %d\ntimeout = 1.5\n" % (i + 1))
        for i, (p, s) in enumerate(sims.items())) + "[bank]\npacks = daly, jbd\n" + mqtt_section(broker.port)
    sub = Subscriber(broker.port, topics=("site/#", "homeassistant/#"))
    gw = Gateway(conf, gw_port)
    try:
        names = [p.replace("-", "_") for p in protos]
        ok = wait_until(lambda: all(state(sub, n) for n in names), 30)
        missing = [n for n in names if not state(sub, n)]
        c.ok(ok, "every pack publishes its state (none missing: %s)" % missing)
        for n in missing:  # what the gateway said of it, for a report that shows only the FAIL lines
            print("   %s: %s" % (n, [line for line in gw.text().splitlines() if n in line][-6:]))
        for proto in protos:
            js = state(sub, proto.replace("-", "_"))
            if js:
                compare(js, sims[proto].state()["packs"][0], "mqtt " + proto)
        c.ok(sub.wait_for("site/bmsgw/status", lambda m: m.text() == "online", 5) is not None, "P/status online")
        st = retained(broker.port, "site/bmsgw/status").get("site/bmsgw/status")
        c.ok(st is not None and st.text() == "online", "P/status is retained")
        bank = wait_until(lambda: (lambda m: json.loads(m.text()) if m else None)(sub.latest("site/bmsgw/bank/state")),
                          10)
        c.ok(bank is not None and bank.get("packs_configured") == 2, "the bank publishes its state")
        for n in names + ["bank"]:
            m = sub.wait_for("site/bmsgw/%s/availability" % n, lambda m: m.text() == "online", 10)
            c.ok(m is not None, "%s availability online" % n)
        kept = retained(broker.port, "site/#")
        c.ok(all(kept.get("site/bmsgw/%s/availability" % n) and kept["site/bmsgw/%s/availability" % n].text() ==
                 "online" for n in names + ["bank"]), "every availability is retained")
        c.ok(all("site/bmsgw/%s/state" % n in kept for n in names + ["bank"]), "every state is retained")
        # discovery
        # the retained topics with their payloads: templates are tried on the real states
        known = {t: m.text() for t, m in retained(broker.port, "site/#").items()}
        configs, probs = discovery_problems(broker.port, known)
        print("   %d discovery configs" % len(configs))
        c.ok(len(configs) > 200, "discovery configs for every pack, the bank and the gateway (%d)" % len(configs))
        c.eq(probs[:5], [], "every discovery payload passes Home Assistant's rules")
        cells = [t for t in configs if re.search(r"/bmsgw_t1_daly/cell_\d\d/config$", t)]
        c.eq(len(cells), len(sims["daly"].state()["packs"][0]["cells_mv"]), "one sensor per cell of the daly pack")
        c.ok(all('"enabled_by_default":false' in configs[t] for t in cells), "cell sensors disabled by default")
        c.ok(not any("/bmsgw_t1_vedirect/cell_" in t for t in configs), "no cell sensors for a shunt")
        c.ok(not any("/bmsgw_t1_daly/soh/" in t for t in configs), "no SOH sensor where Daly has none")
        c.ok(any("/bmsgw_t1_jk_pb/soh/" in t for t in configs), "an SOH sensor where JK-PB has one")
        for t in ("homeassistant/sensor/bmsgw_t1_daly/energy_in/config",
                  "homeassistant/binary_sensor/bmsgw_t1_bank/pack_missing/config",
                  "homeassistant/sensor/bmsgw_t1_gateway/modbus_clients/config"):
            c.ok(t in configs, "config %s" % t)

        # stale -> offline within stale_after (3 s), and back
        sims["jbd"].ctl("fault 1 silent")
        t0 = time.monotonic()
        m = sub.wait_for("site/bmsgw/jbd/availability", lambda m: m.text() == "offline", 10, since=t0)
        c.ok(m is not None, "a silent pack goes offline once stale (%.1f s, stale_after 3 s)" %
             ((m.t - t0) if m else -1))
        r = read_regs(gw_port, names.index("jbd") + 1, BASE, 2)
        c.eq(r, None, "... exactly when Modbus answers 0x0B")
        sims["jbd"].ctl("fault 1 none")
        m = sub.wait_for("site/bmsgw/jbd/availability", lambda m: m.text() == "online", 10, since=t0)
        c.ok(m is not None, "and online again when it answers")

        # energy counters: integrated, equal in JSON and registers; 263 W
        # shows as 0.001 kWh (3 decimals) after about 7 s of polls: wait for
        # it rather than count on the time the checks above took
        m = sub.wait_for("site/bmsgw/daly/state",
                         lambda m: (lambda j: j["energy_in_kwh"] + j["energy_out_kwh"] > 0)(json.loads(m.text())), 20)
        js = json.loads(m.text()) if m else state(sub, "daly")
        regs = read_regs(gw_port, 1, BASE + 119, 4)
        c.ok(js and js["energy_in_kwh"] + js["energy_out_kwh"] > 0, "energy counters integrate (%r)" %
             ((js["energy_in_kwh"], js["energy_out_kwh"]) if js else None,))
        if js and regs:
            c.near((regs[0] << 16 | regs[1]) / 100, js["energy_in_kwh"], 0.02, "registers 119-120 = energy_in_kwh")

        # Home Assistant's birth message: discovery and state again
        t0 = time.monotonic()
        pub(broker.port, "homeassistant/status", "online")
        # bmsgw waits 1 to 3 s at random (as Home Assistant asks, so that many
        # devices do not answer at once); the rest is margin for a loaded machine
        m = sub.wait_for("homeassistant/sensor/bmsgw_t1_daly/voltage/config", timeout=10, since=t0)
        c.ok(m is not None, "homeassistant/status online -> discovery again (%.1f s, a delay of 1-3 s)" %
             ((m.t - t0) if m else -1))
        c.ok(sub.wait_for("site/bmsgw/daly/state", timeout=5, since=t0) is not None, "... and the state")

        # a reload removes jbd: its configs and topics are cleared
        gw_text = conf.replace(pack_section("jbd", "jbd", sims["jbd"].port,
                                            "unit_id = %d\ntimeout = 1.5\n" % (names.index("jbd") + 1)), "")
        gw_text = gw_text.replace("packs = daly, jbd", "packs = daly")
        c.ok(gw_text != conf, "(test) the reload file drops pack jbd")
        with open(gw.conf, "w") as f:
            f.write(gw_text)
        t0 = time.monotonic()
        gw.p.send_signal(signal.SIGHUP)
        ok = wait_until(lambda: not any(t.startswith("homeassistant/") and "/bmsgw_t1_jbd/" in t
                                        for t in retained(broker.port, "homeassistant/#")), 10)
        c.ok(ok, "the removed pack's discovery configs are cleared")
        left = retained(broker.port, "site/#")
        c.ok("site/bmsgw/jbd/state" not in left and "site/bmsgw/jbd/availability" not in left,
             "its state and availability topics are cleared")
        c.ok("site/bmsgw/daly/state" in left, "the others stay")

        # SIGTERM: offline for every pack and the gateway, counters saved;
        # the broker confirms the offline messages, so the stop ends with a
        # clean DISCONNECT and no will: P/status gets one "offline", not two
        # (the count of unconfirmed messages drifted on QoS 0 publishes that
        # libmosquitto wrote and reported inside mosquitto_publish)
        t0 = time.monotonic()
        mark = broker.mark()
        gw.stop()
        c.ok(sub.wait_for("site/bmsgw/status", lambda m: m.text() == "offline", 5, since=t0) is not None,
             "clean stop: P/status offline")
        c.ok(broker.wait_log("Client t1 disconnected", 10, since=mark),
             "clean stop: a clean DISCONNECT (%s)" % [ln for ln in broker.text(mark).splitlines() if "t1" in ln][-2:])
        t1 = time.monotonic()
        pub(broker.port, "site/bmsgw/marker", "after the stop")
        c.ok(sub.wait_for("site/bmsgw/marker", timeout=10, since=t1) is not None, "a marker after the stop arrives")
        offline = [m for m in sub.all("site/bmsgw/status", since=t0) if m.text() == "offline"]
        c.eq(len(offline), 1, "P/status got one offline at the stop (no will after our own)")
        c.ok("mqtt: disconnected (everything marked offline)" in gw.text() and "confirmed not every" not in gw.text(),
             "the stop logs the broker's confirmation")
        c.ok(sub.wait_for("site/bmsgw/daly/availability", lambda m: m.text() == "offline", 5, since=t0) is not None,
             "clean stop: every pack offline")
        saved = open(sf).read() if os.path.exists(sf) else ""
        c.ok("pack daly " in saved and "bank " in saved, "energy counters saved at the stop")
        before = js["energy_in_kwh"] if js else 0

        # restart: counters come back; a stale config of a removed pack is reconciled
        pub(broker.port, "homeassistant/sensor/bmsgw_t1_gone/voltage/config",
            json.dumps({"name": "Voltage", "unique_id": "bmsgw_t1_gone_voltage", "state_topic": "site/bmsgw/gone/state",
                        "device": {"identifiers": ["bmsgw_t1_gone"], "name": "gone", "via_device": "bmsgw_t1"}}),
            retain=True)
        pub(broker.port, "homeassistant/sensor/bmsgw_t1x_gone/voltage/config",
            json.dumps({"name": "Voltage", "unique_id": "bmsgw_t1x_gone_voltage",
                        "device": {"identifiers": ["bmsgw_t1x_gone"], "name": "gone", "via_device": "bmsgw_t1x"}}),
            retain=True)
        gw = Gateway(gw_text, gw_port)
        js2 = wait_until(lambda: (lambda j: j if j and j.get("good_polls", 0) >= 1 and j["updated"] else None)(
            state(sub, "daly")), 10)
        c.ok(js2 is not None and js2["energy_in_kwh"] >= before - 1e-3,
             "energy counters kept across a restart (%s >= %s)" % (js2 and js2["energy_in_kwh"], before))
        ok = wait_until(lambda: "homeassistant/sensor/bmsgw_t1_gone/voltage/config" not in
                        retained(broker.port, "homeassistant/#"), 10)
        c.ok(ok, "after a restart, the retained config of a pack no longer configured is cleared")
        c.ok("homeassistant/sensor/bmsgw_t1x_gone/voltage/config" in retained(broker.port, "homeassistant/#"),
             "... but never another gateway's")

        # kill -9: the will
        t0 = time.monotonic()
        gw.p.kill()
        gw.p.wait()
        m = sub.wait_for("site/bmsgw/status", lambda m: m.text() == "offline", 60, since=t0)
        c.ok(m is not None, "kill -9: P/status offline through the will (%.1f s)" % ((m.t - t0) if m else -1))
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        sub.close()
        for s in sims.values():
            s.stop()
        broker.cleanup()


def test_broker_outages(tmp):
    print("== broker restart, blackholed broker")
    broker = Broker()
    sim = Sim()
    gw_port = free_port()
    conf = gateway_section(gw_port, os.path.join(tmp, "s2")) + pack_section("a", "daly", sim.port) + \
        mqtt_section(broker.port, "keepalive = 5\n")
    gw = Gateway(conf, gw_port)
    try:
        sub = Subscriber(broker.port, topics=("site/#",))
        c.ok(sub.wait_for("site/bmsgw/a/state", timeout=10) is not None, "state published")
        sub.close()
        broker.kill()
        c.ok(wait_until(lambda: "mqtt: 127.0.0.1" in gw.text() and "retrying" in gw.text(), 10),
             "the lost broker is logged")
        t0 = time.monotonic()
        broker.start()
        sub = Subscriber(broker.port, topics=("site/#", "homeassistant/#"))
        m = sub.wait_for("homeassistant/sensor/bmsgw_t1_a/voltage/config", timeout=35)
        c.ok(m is not None, "broker back: bmsgw reconnects and republishes discovery (%.1f s)" %
             ((m.t - t0) if m else -1))
        c.ok(sub.wait_for("site/bmsgw/a/state", timeout=10) is not None, "... and the state")
        c.ok(sub.wait_for("site/bmsgw/status", lambda m: m.text() == "online", 10) is not None, "... and online")
        c.eq(gw.text().count("retrying in the background"), 1, "the outage is logged once")
        sub.close()
        gw.stop()

        hole = Blackhole()
        conf2 = conf.replace("port = %d\nclient_id" % broker.port, "port = %d\nclient_id" % hole.port)
        c.ok(conf2 != conf, "(test) config points at the blackhole")
        gw = Gateway(conf2, gw_port)
        wait_until(lambda: read_regs(gw_port, 1, BASE, 2) is not None, 10)
        worst, n, t_end = 0.0, 0, time.monotonic() + 12
        with socket.create_connection(("127.0.0.1", gw_port), timeout=3) as s:
            while time.monotonic() < t_end:
                t1 = time.monotonic()
                s.sendall(mbap_request(n & 0xffff, 1, bytes([3, BASE >> 8, BASE & 255, 0, 125])))
                r = recv_adu(s)
                worst = max(worst, time.monotonic() - t1)
                n += 1
                if len(r) < 9:
                    break
                time.sleep(0.02)
        print("   %d reads beside a blackholed broker, worst %.1f ms" % (n, worst * 1000))
        # a loop that waited for the CONNACK would hold a read for up to
        # 10 s; a quarter of it is no scheduling noise (the figures are
        # make bench's)
        c.ok(n > 100 and worst < 2.5, "a blackholed broker never holds a Modbus read (worst %.1f ms)" %
             (worst * 1000))
        c.ok("no answer (CONNACK) within 10 s" in gw.text(), "the silent broker is logged")
        hole.close()
    finally:
        if c.failed:
            gw.dump(30)
        gw.stop()
        sim.stop()
        broker.cleanup()


class StuckBroker:
    """Answers CONNECT with CONNACK (MQTT 5 or 3.1.1, as asked), then never
    reads again, with a small receive buffer: a broker that stopped reading,
    so that the client's socket fills and what it publishes waits in it."""

    def __init__(self):
        self.port = free_port()
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # inherited by accepted sockets
        self.ls.bind(("127.0.0.1", self.port))
        self.ls.listen(4)
        self.held = []
        self.connected = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                s, _ = self.ls.accept()
                head = s.recv(4096)
            except OSError:
                return
            i = head.find(b"MQTT")
            v5 = i >= 0 and len(head) > i + 4 and head[i + 4] == 5
            s.sendall(b"\x20\x03\x00\x00\x00" if v5 else b"\x20\x02\x00\x00")
            self.held.append(s)  # and never read it again
            self.connected.set()

    def close(self):
        self.ls.close()
        for s in self.held:
            s.close()


def test_reload_stuck_broker(tmp):
    print("== a reload to another broker while the old one has stopped reading")
    if os.environ.get("BMSGW_SMALL_SNDBUF") != "1":
        # loopback sockets take megabytes before a writer waits: run this
        # test in a private network namespace whose TCP send buffers are
        # small, so that the old broker's socket really fills
        if os.geteuid() != 0 or subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode:
            print("SKIPPED: needs root and network namespaces (unshare -n)")
            return
        # a session of its own: at a timeout, everything it started goes too
        r = subprocess.Popen(["unshare", "-n", "sh", "-c",
                              'ip link set lo up && sysctl -qw net.ipv4.tcp_wmem="4096 8192 8192" && exec "$0" "$@"',
                              sys.executable, os.path.abspath(__file__), "--stuck-broker"],
                             env=dict(os.environ, BMSGW_SMALL_SNDBUF="1"), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, err = r.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            os.killpg(r.pid, signal.SIGKILL)
            out, err = r.communicate()
            err += "(killed after 180 s)\n"
        print(out + err, end="")
        m = re.search(r"(\d+) passed, (\d+) failed\s*$", out)
        c.ok(m is not None and r.returncode in (0, 1), "(the test ran in its namespace: exit %s)" % r.returncode)
        if m:
            c.passed += int(m.group(1))
            c.failed += int(m.group(2))
        return
    stuck = StuckBroker()
    broker = Broker()
    # eight packs with every cell announced: far more discovery than a
    # socket takes while its peer reads nothing
    sim = Sim(packs=["address=%d" % a for a in range(1, 9)])
    gw_port = free_port()
    conf = eight_packs_conf(gw_port, os.path.join(tmp, "s6"), stuck.port, sim.port)
    gw = Gateway(conf, gw_port)
    stop = threading.Event()
    worst = [0.0, 0]

    def reader():
        with socket.create_connection(("127.0.0.1", gw_port), timeout=5) as s:
            while not stop.is_set():
                t1 = time.monotonic()
                s.sendall(mbap_request(worst[1] & 0xffff, 1, bytes([3, BASE >> 8, BASE & 255, 0, 125])))
                if len(recv_adu(s)) < 9:
                    break
                worst[0] = max(worst[0], time.monotonic() - t1)
                worst[1] += 1
                time.sleep(0.005)
    try:
        c.ok(stuck.connected.wait(10), "the gateway connected to the broker that then stops reading")
        # the first good polls make the states and discovery go out: they fill the socket
        c.ok(wait_until(lambda: read_regs(gw_port, 8, BASE, 2) is not None, 15), "the packs are online")
        time.sleep(1.0)  # (no condition to wait for: the broker reads nothing, so nothing tells)
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        wait_until(lambda: worst[1] > 20, 5)
        with open(gw.conf, "w") as f:
            f.write(conf.replace("port = %d\nclient_id" % stuck.port, "port = %d\nclient_id" % broker.port))
        sub = Subscriber(broker.port, topics=("site/#",))
        gw.p.send_signal(signal.SIGHUP)
        m = wait_until(lambda: re.search(r"reload #1: applied in ([0-9.]+) ms", gw.text()), 10)
        ms = float(m.group(1)) if m else -1
        # waiting for the old broker would take the reader's 5 s (below)
        c.ok(m is not None and ms < 2000, "the reload does not wait for the old broker (%.1f ms)" % ms)
        c.ok("the broker did not take it all" in gw.text(),
             "the old broker had stopped taking data: its socket was full at the reload")
        c.ok(sub.wait_for("site/bmsgw/p8/state", timeout=15) is not None, "the new broker gets the state")
        time.sleep(0.5)
        stop.set()
        t.join(5)
        print("   %d Modbus reads around the reload, worst %.1f ms" % (worst[1], worst[0] * 1000))
        # a reload that waited for the old broker's full socket would hold
        # the reads until the reader's 5 s timeout
        c.ok(worst[1] > 20 and worst[0] < 2.0, "Modbus clients were served throughout (worst %.1f ms)" %
             (worst[0] * 1000))
        sub.close()
    finally:
        stop.set()
        if c.failed:
            gw.dump(30)
        gw.stop()
        sim.stop()
        stuck.close()
        broker.cleanup()


def test_stop_behind_queue(tmp):
    print("== a clean stop while QoS 1 messages wait for the broker's receive maximum")
    # a broker that lets one QoS 1 message be in flight at a time: Home
    # Assistant's birth makes hundreds of discovery configs wait inside
    # libmosquitto, unwritten; the offline messages of a stop queue behind them
    broker = Broker(extra_conf=["max_inflight_messages 1"])
    sim = Sim(packs=["address=%d" % a for a in range(1, 9)])
    gw_port = free_port()
    conf = eight_packs_conf(gw_port, os.path.join(tmp, "s7"), broker.port, sim.port)
    gw = Gateway(conf, gw_port)
    sub = Subscriber(broker.port, topics=("site/#", "homeassistant/#"))
    try:
        c.ok(wait_until(lambda: state(sub, "p8"), 15) is not None, "the packs publish")
        t0 = time.monotonic()
        pub(broker.port, "homeassistant/status", "online")
        c.ok(sub.wait_for("homeassistant/sensor/bmsgw_t1_p1/voltage/config", timeout=10, since=t0) is not None,
             "discovery again after Home Assistant's birth")
        gw.stop()
        st = retained(broker.port, "site/bmsgw/status").get("site/bmsgw/status")
        c.ok(st is not None and st.text() == "offline", "after the stop, P/status is offline (got %r)" %
             (st.text() if st else None))
        print("   " + "".join(line for line in gw.text().splitlines() if "mqtt: disconnected" in line))
        c.ok("mqtt: disconnected" in gw.text(), "the stop is logged")
    finally:
        if c.failed:
            gw.dump(20)
        gw.stop()
        sub.close()
        sim.stop()
        broker.cleanup()


def test_tls_and_auth(tmp):
    print("== TLS with client certificates, passwords")
    certs = Certs()
    broker = Broker(users={"bms": "s3cret"}, certs=certs, client_cert=True)
    sim = Sim()
    pw = os.path.join(tmp, "pw")
    with open(pw, "w") as f:
        f.write("s3cret\n")
    os.chmod(pw, 0o600)
    gw_port = free_port()
    tls = ("tls = true\nca_file = %s\ncert_file = %s\nkey_file = %s\nusername = bms\npassword_file = %s\n"
           % (certs.ca, certs.client, certs.client_key, pw))
    conf = gateway_section(gw_port, os.path.join(tmp, "s3")) + pack_section("a", "daly", sim.port) + \
        "[mqtt]\nhost = localhost\nport = %d\nclient_id = t1\ntopic_prefix = site/bmsgw\n%s" % (broker.tls_port, tls)
    gw = Gateway(conf, gw_port)
    try:
        # the subscriber uses the plain listener, with the password
        import paho.mqtt.client as mqtt
        got = []
        cl = mqtt.Client(client_id="test-tls-sub")
        cl.username_pw_set("bms", "s3cret")
        cl.on_message = lambda cc, u, m: got.append(m.topic)
        cl.on_connect = lambda cc, u, f, rc: cc.subscribe("site/#")
        cl.connect("127.0.0.1", broker.port)
        cl.loop_start()
        c.ok(wait_until(lambda: "site/bmsgw/a/state" in got, 15), "TLS + client certificate + password: state arrives")
        c.ok("TLS" in gw.text() and "connected to localhost" in gw.text(), "the log says it is connected with TLS")
        cl.loop_stop()
        cl.disconnect()
        gw.stop()

        # a wrong password: clear message, retried with backoff
        with open(pw, "w") as f:
            f.write("wrong\n")
        gw = Gateway(conf, gw_port)
        ok = wait_until(lambda: "refused the connection" in gw.text(), 10)
        line = [l for l in gw.text().splitlines() if "refused" in l]
        c.ok(ok and ("authori" in line[0].lower() or "password" in line[0].lower()),
             "a wrong password is logged clearly (%s)" % (line[0].split("warn: ")[-1] if line else ""))
        wait_until(lambda: broker.text().count("New connection from 127.0.0.1") >= 3, 12)
        tries = broker.text().count("New connection from 127.0.0.1")
        c.ok(tries >= 3, "and retried with backoff (%d attempts in ~7 s)" % tries)
        c.eq(len([l for l in gw.text().splitlines() if "refused" in l]), 1, "the refusal is logged once")
        c.ok(gw.alive(), "bmsgw keeps running")
        gw.stop()

        # a broker whose certificate names another host: refused before any password is sent
        with open(pw, "w") as f:
            f.write("s3cret\n")
        conf3 = conf.replace("host = localhost", "host = 127.0.0.2")
        broker2 = Broker(users={"bms": "s3cret"}, certs=certs, client_cert=True)
        conf3 = conf3.replace("port = %d" % broker.tls_port, "port = %d" % broker2.tls_port)
        # 127.0.0.2 is not in the certificate (127.0.0.1, localhost): the handshake must fail
        fwd = Forward(broker2.tls_port, lhost="127.0.0.2", lport=broker2.tls_port)
        gw = Gateway(conf3, gw_port)
        ok = wait_until(lambda: "TLS" in gw.text() and "retrying" in gw.text(), 15)
        c.ok(ok, "a certificate that does not name the host is refused (%s)" %
             [l.split("warn: ")[-1] for l in gw.text().splitlines() if "retrying" in l][:1])
        c.ok("New client connected" not in broker2.text(), "no login reached that broker")
        fwd.close()
        gw.stop()
        broker2.cleanup()
    finally:
        if c.failed:
            gw.dump(30)
        gw.stop()
        sim.stop()
        broker.cleanup()
        certs.cleanup()


def test_v311_fallback(tmp):
    print("== a broker that speaks MQTT 3.1.1 only")
    broker = Broker()
    fwd = Only311(broker)
    sim = Sim()
    gw_port = free_port()
    conf = gateway_section(gw_port, os.path.join(tmp, "s4")) + pack_section("a", "daly", sim.port) + \
        mqtt_section(fwd.port)
    sub = Subscriber(broker.port, topics=("site/#",))
    gw = Gateway(conf, gw_port)
    try:
        c.ok(sub.wait_for("site/bmsgw/a/state", timeout=15) is not None, "state published over MQTT 3.1.1")
        c.eq(fwd.refused, [(5, "t1")], "MQTT 5 was tried first and refused once")
        c.ok("3.1.1 only" in gw.text(), "the log says why")
        c.ok("retrying" not in gw.text(), "... and asks again at once: no outage logged")
    finally:
        gw.stop()
        fwd.close()
        sub.close()
        sim.stop()
        broker.cleanup()


def test_dump_and_fleet(tmp):
    print("== --mqtt-dump, fleet bridge")
    sim = Sim()
    conf = write_conf(gateway_section(free_port(), "none") + pack_section("a", "daly", sim.port) +
                      mqtt_section(1, "cells = enabled\n"))
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", conf, "--mqtt-dump"], capture_output=True,
                         text=True, timeout=60)
    lines = [l for l in out.stdout.splitlines() if l and not l.startswith("#")]
    configs = dict(l.split(" ", 1) for l in lines)
    c.ok(out.returncode == 0 and len(configs) > 40, "--mqtt-dump prints the configs (%d)" % len(configs))
    c.eq(ha_check(configs), [], "--mqtt-dump's configs pass Home Assistant's rules")
    c.ok(all('"enabled_by_default":false' not in p for t, p in configs.items() if "/cell_" in t),
         "cells = enabled: cell sensors enabled")
    sim.stop()
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", write_conf(gateway_section(1502, "none") +
                          pack_section("a", "daly", 1)), "--mqtt-dump"], capture_output=True, text=True)
    c.ok(out.returncode == 1 and "no [mqtt] section" in out.stderr, "--mqtt-dump without [mqtt]: clear error")

    # fleet: two sites, each with a local broker bridged to the central one
    central = Broker()
    sites = []
    try:
        csub = Subscriber(central.port, topics=("sites/#", "homeassistant/#"))
        for site in ("cabin", "barn"):
            local = Broker(bridge_to=("127.0.0.1", central.port, ["sites/%s/# " % site, "homeassistant/#"]))
            s = Sim()
            gw_port = free_port()
            gw = Gateway(gateway_section(gw_port, "none") + pack_section("rack1", "daly", s.port) +
                         "[mqtt]\nhost = 127.0.0.1\nport = %d\nclient_id = %s\ntopic_prefix = sites/%s/bmsgw\n"
                         % (local.port, site, site), gw_port)
            sites.append((local, s, gw))
        for site in ("cabin", "barn"):
            m = csub.wait_for("sites/%s/bmsgw/rack1/state" % site, timeout=20)
            c.ok(m is not None, "the central broker sees site %s's pack" % site)
            c.ok(csub.wait_for("homeassistant/sensor/bmsgw_%s_rack1/voltage/config" % site, timeout=10) is not None,
                 "... and its discovery, under a unique id per site")
        csub.close()
    finally:
        for local, s, gw in sites:
            gw.stop()
            s.stop()
            local.cleanup()
        central.cleanup()


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-mqtt-")
    if sys.argv[1:] == ["--stuck-broker"]:  # in its network namespace (test_reload_stuck_broker)
        test_reload_stuck_broker(tmp)
        return c.report()
    for t in (test_protocols_and_discovery, test_broker_outages, test_reload_stuck_broker, test_stop_behind_queue,
              test_tls_and_auth,
              test_v311_fallback, test_dump_and_fleet):
        if not my_part():
            continue
        try:
            t(tmp)
        except Exception as e:  # a crash in a test is a failure, not an abort
            import traceback
            traceback.print_exc()
            c.ok(False, "%s raised %r" % (t.__name__, e))
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
