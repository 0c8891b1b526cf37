#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""BMS settings in Home Assistant (bmsgw-mqtt(7) HOME ASSISTANT DISCOVERY
and BMS SETTINGS), end to end: the real bmsgw with [mqtt] control = true
against a real Mosquitto and the bundled simulator (a jbd pack, two Daly
packs on one bus).

- discovery: a `number` per key the pack's bms_settings allows (a `switch`
  for the balancer), none for a key it does not allow, none for a pack
  without bms_settings; min, max and step the effective range (lfp's cell
  voltages within jbd's, 1 A / 1 Ah up to the protocol's maximum, soc
  0-100 % at 0.1 %), the same as GET /api/bms-settings gives; unit,
  device class, mode box, category config, not optimistic, the command
  topic P/NAME/set/bms_KEY, the state the BMS's last report
  (settings_bms.KEY.value; soc: soc_estimate.bms), available with the
  gateway and the pack; the configs pass the checker of Home Assistant's
  rules against the retained states;
- a command on an entity's command topic changes the simulator's BMS
  (jbd's register, the Daly's SOC) and the state the entity reads follows
  (what its template renders: the number, the switch's state_on/off);
- a reload that drops keys from bms_settings clears their entities (an
  empty retained config) and keeps the others; a restart keeps them (the
  retained configs reconciled are not taken for gone ones); a restart with
  [mqtt] control = false clears every one.
Prints "N passed, N failed"."""
import json
import os
import signal
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
from harness import Checks, Gateway, Sim, free_port, wait_until  # noqa: E402
from mqtt_harness import Broker, Subscriber, pub, retained  # noqa: E402
from ha_discovery import check as ha_check  # noqa: E402

c = Checks()
DP = "homeassistant"
VAN_KEYS = "balancer, cell_ovp_v, cell_ovp_release_v, balance_start_v, capacity_ah, discharge_ocp_a"


def conf(gw_port, http_port, broker, jbd_port, daly_port, van_keys=VAN_KEYS, control=True):
    return """[gateway]
listen = 127.0.0.1:%d
state_file = none
stale_after = 20
[http]
listen = 127.0.0.1:%d
[mqtt]
host = 127.0.0.1
port = %d
client_id = hw
control = %s
publish_interval = 0
[pack.van]
protocol = jbd
port = tcp://127.0.0.1:%d
chemistry = lfp
bms_settings = %s
poll_interval = 0.5
control_timeout = 10
[pack.d1]
protocol = daly
port = tcp://127.0.0.1:%d
address = 1
bms_settings = soc
poll_interval = 0.5
control_timeout = 10
[pack.d2]
protocol = daly
port = tcp://127.0.0.1:%d
address = 2
poll_interval = 0.5
""" % (gw_port, http_port, broker, "true" if control else "false", jbd_port, van_keys, daly_port, daly_port)


def bms_configs(port):
    """{(pack, key): config dict} of every retained BMS-setting entity (bms_KEY_set)."""
    out = {}
    for t, m in retained(port, DP + "/#").items():
        parts = t.split("/")
        if len(parts) == 5 and parts[1] in ("number", "switch") and parts[3].startswith("bms_") and \
                parts[3].endswith("_set") and m.payload:
            out[(parts[2].split("_")[-1], parts[3][4:-4])] = dict(json.loads(m.payload), component=parts[1])
    return out


def api(http_port, unit):
    with urllib.request.urlopen("http://127.0.0.1:%d/api/bms-settings?unit=%s" % (http_port, unit), timeout=10) as r:
        return json.loads(r.read())


def render(cfg, state):
    """What the entity's value_template renders from the state JSON (the plain
    {{ value_json.a.b }} templates bmsgw writes; None renders "None")."""
    v = state
    for part in cfg["value_template"].strip("{} ").split(".")[1:]:
        v = (v or {}).get(part)
    return "None" if v is None else str(v)


class Commander:
    """Publishes on an entity's command topic, waits for its outcome on
    P/NAME/set/result and for the state its template renders to be `want`."""

    def __init__(self, broker, sub):
        self.broker, self.sub = broker, sub

    def __call__(self, pack, cfg, payload, want):
        t0 = time.monotonic()
        pub(self.broker.port, cfg["command_topic"], payload)
        m = self.sub.wait_for("bmsgw/%s/set/result" % pack, lambda m: m.t >= t0, 60)
        res = json.loads(m.payload) if m else None
        st = self.sub.wait_for("bmsgw/%s/state" % pack, lambda m: render(cfg, json.loads(m.payload)) == want, 20,
                               since=t0)
        return res, st is not None


def check_entities(broker, http_port):
    print("== discovery: the allowed keys only, with their effective ranges")
    want = {("van", k) for k in ("balancer", "cell_ovp_v", "cell_ovp_release_v", "balance_start_v", "capacity_ah",
                                 "discharge_ocp_a")} | {("d1", "soc")}
    got = wait_until(lambda: (lambda cf: cf if set(cf) == want else None)(bms_configs(broker.port)), 20) or \
        bms_configs(broker.port)
    c.eq(sorted(got), sorted(want), "the entities: van's six keys, d1's soc, none for d2 (no bms_settings)")
    sw = sorted(k for k, v in got.items() if v["component"] == "switch")
    c.eq(sw, [("van", "balancer")], "the balancer is a switch, the others numbers")
    ovp = got.get(("van", "cell_ovp_v"), {})
    c.ok((ovp.get("min"), ovp.get("max"), ovp.get("step"), ovp.get("unit_of_measurement"), ovp.get("device_class"),
          ovp.get("mode")) == (2.5, 3.65, 0.001, "V", "voltage", "box"),
         "cell_ovp_v: lfp's 2.50-3.65 V at jbd's 1 mV, V, voltage, box (%s)" % ovp)
    c.ok(ovp.get("command_topic") == "bmsgw/van/set/bms_cell_ovp_v" and ovp.get("state_topic") == "bmsgw/van/state"
         and ovp.get("value_template") == "{{ value_json.settings_bms.cell_ovp_v.value }}" and
         ovp.get("optimistic") is False and ovp.get("entity_category") == "config",
         "cell_ovp_v: command and state topics, the BMS's value, not optimistic, config")
    c.eq([a.get("topic") for a in ovp.get("availability", [])], ["bmsgw/status", "bmsgw/van/availability"],
         "available with the gateway and the pack (availability_mode %s)" % ovp.get("availability_mode"))
    cap, doc = got.get(("van", "capacity_ah"), {}), got.get(("van", "discharge_ocp_a"), {})
    c.ok((cap.get("min"), cap.get("max"), cap.get("step"), cap.get("unit_of_measurement")) == (1, 655.35, 0.01, "Ah"),
         "capacity_ah: 1 Ah to jbd's 655.35 at 10 mAh (%s)" % [cap.get(k) for k in ("min", "max", "step")])
    c.ok((doc.get("min"), doc.get("max"), doc.get("step"), doc.get("device_class")) == (1, 327.68, 0.01, "current"),
         "discharge_ocp_a: 1 A to jbd's 327.68 at 10 mA (%s)" % [doc.get(k) for k in ("min", "max", "step")])
    soc = got.get(("d1", "soc"), {})
    c.ok((soc.get("min"), soc.get("max"), soc.get("step"), soc.get("unit_of_measurement"),
          soc.get("value_template")) == (0, 100, 0.1, "%", "{{ value_json.soc_estimate.bms }}"),
         "d1's soc: 0-100 %% at Daly's 0.1 %%, the BMS's own SOC (%s)" % soc)
    bal = got.get(("van", "balancer"), {})
    c.ok((bal.get("payload_on"), bal.get("payload_off"), bal.get("state_on"), bal.get("state_off"),
          bal.get("command_topic")) == ("ON", "OFF", "1", "0", "bmsgw/van/set/bms_balancer"),
         "the balancer switch: ON / OFF, its state 1 / 0 (%s)" % bal)
    same = []
    for (pack, key), cfg in got.items():
        k = api(http_port, pack)["keys"].get(key, {})
        if cfg["component"] == "number" and (cfg["min"], cfg["max"], cfg["step"]) != (k.get("min"), k.get("max"),
                                                                                     k.get("step")):
            same.append((pack, key, cfg["min"], cfg["max"], cfg["step"], k))
    c.eq(same, [], "every number's min, max and step are GET /api/bms-settings' effective bounds")
    c.ok(wait_until(lambda: api(http_port, "van")["keys"]["cell_ovp_v"]["value"] is not None, 30),
         "van's settings are read (through factory mode)")
    states = {t: m.text() for t, m in retained(broker.port, "bmsgw/#").items() if m.payload}
    configs = {t: m.text() for t, m in retained(broker.port, DP + "/#").items() if m.payload}
    c.eq(ha_check(configs, states=states), [], "the configs with the BMS settings pass Home Assistant's rules")
    return got


def check_commands(broker, sub, jbd, daly, got):
    print("== a command on an entity's topic changes the BMS; the state follows")
    cmd = Commander(broker, sub)
    res, seen = cmd("van", got[("van", "cell_ovp_v")], "3.55", "3.55")
    c.ok(res and res["result"] == "done" and res["setting"] == "bms_cell_ovp_v", "cell_ovp_v 3.55: done (%s)" % res)
    c.eq(jbd.state()["packs"][0]["eeprom"][0x24], 3550, "... the simulator's register 0x24 holds 3550 mV")
    c.ok(seen, "... the number shows 3.55 (the state it reads)")
    time.sleep(1.1)  # a pack takes one change a second
    res, seen = cmd("van", got[("van", "balancer")], "OFF", "0")
    c.ok(res and res["result"] == "done", "the balancer switch OFF: done (%s)" % res)
    c.eq(jbd.state()["packs"][0]["eeprom"][0x2D] & 4, 0, "... the simulator's 0x2D bit 2 (balance_en) cleared")
    c.ok(seen, "... the switch shows its state_off")
    time.sleep(1.1)
    res, seen = cmd("van", got[("van", "cell_ovp_v")], "3.8", "3.55")
    c.ok(res and res["result"] == "refused" and "lfp" in (res["message"] or ""),
         "cell_ovp_v 3.8 (above the entity's max): refused, naming lfp's bound (%s)" % res)
    c.eq(jbd.state()["packs"][0]["eeprom"][0x24], 3550, "... the register unchanged")
    res, seen = cmd("d1", got[("d1", "soc")], "42.5", "42.5")
    c.ok(res and res["result"] == "done", "d1's soc 42.5: done (%s)" % res)
    c.near(daly.state()["packs"][0]["soc"], 42.5, 0.06, "... the simulated Daly's SOC is 42.5 %")
    c.ok(seen, "... the number shows the BMS's 42.5 %")


def main():
    broker = Broker()
    jbd = Sim(protocol="jbd", packs=("address=1",))
    daly = Sim(protocol="daly", packs=("address=1", "address=2"))
    gw_port, http_port = free_port(), free_port()
    sub = Subscriber(broker.port, topics=("bmsgw/#",))
    text = conf(gw_port, http_port, broker.port, jbd.port, daly.port)
    gw = Gateway(text, gw_port)
    try:
        got = check_entities(broker, http_port)
        check_commands(broker, sub, jbd, daly, got)

        print("== a reload that drops keys clears their entities")
        with open(gw.conf, "w") as f:
            f.write(conf(gw_port, http_port, broker.port, jbd.port, daly.port,
                         van_keys="cell_ovp_v, cell_ovp_release_v, balance_start_v, discharge_ocp_a"))
        gw.p.send_signal(signal.SIGHUP)
        c.ok(wait_until(lambda: "reload #1: applied" in gw.text(), 15), "a reload")
        left = {("van", k) for k in ("cell_ovp_v", "cell_ovp_release_v", "balance_start_v", "discharge_ocp_a")} | \
            {("d1", "soc")}
        c.ok(wait_until(lambda: set(bms_configs(broker.port)) == left, 15),
             "balancer and capacity_ah are cleared, the others kept (%s)" % sorted(bms_configs(broker.port)))
        print("== a restart keeps them; [mqtt] control = false clears them")
        unsub = "Received UNSUBSCRIBE from hw"
        n0 = broker.text().count(unsub)
        c.eq(gw.stop(), 0, "a clean stop")
        text = conf(gw_port, http_port, broker.port, jbd.port, daly.port,
                    van_keys="cell_ovp_v, cell_ovp_release_v, balance_start_v, discharge_ocp_a")
        gw = Gateway(text, gw_port)
        c.ok(wait_until(lambda: broker.text().count(unsub) > n0, 20), "restarted: the retained configs reconciled")
        c.eq(set(bms_configs(broker.port)), left, "... the BMS settings' entities kept")
        c.eq(gw.stop(), 0, "a clean stop")
        gw = Gateway(conf(gw_port, http_port, broker.port, jbd.port, daly.port, control=False), gw_port)
        c.ok(wait_until(lambda: not bms_configs(broker.port), 20),
             "[mqtt] control = false: every BMS setting's entity is cleared (%s)" % sorted(bms_configs(broker.port)))
    finally:
        if c.failed:
            gw.dump(60)
        gw.stop()
        sub.close()
        jbd.stop()
        daly.stop()
        broker.cleanup()
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
