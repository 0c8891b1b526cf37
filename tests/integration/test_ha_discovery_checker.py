#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: nice=5
"""The Home Assistant discovery checker (tests/tools/ha_discovery.py) must
pass good configs and catch every broken one, each by the rule meant to
catch it, or the MQTT tests that rely on it could pass while wrong.

Good sets: per-entity configs like bmsgw's (gateway, pack, cells, switches,
a button, a number, a select, an abbreviated config with a base topic ~),
with and without the retained states; a device-based config.  Then one
broken variant per mistake; finally every rule of RULES must have been
triggered by some variant, so no rule goes untested.
"""
import copy
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
from harness import Checks  # noqa: E402
from ha_discovery import RULES, Problem, check, template_problem  # noqa: E402

c = Checks()
P = "homeassistant"
GW_DEV = {"identifiers": ["bmsgw_x"], "name": "x", "manufacturer": "bmsgw"}
A_DEV = {"identifiers": ["bmsgw_x_a"], "name": "a", "manufacturer": "Daly", "via_device": "bmsgw_x"}
AV = [{"topic": "p/status"}, {"topic": "p/a/availability"}]
ORIGIN = {"name": "bmsgw", "sw_version": "0.1.0"}


def pack(name, **kw):
    """A pack entity: state on p/a/state, availability gateway + pack (all)."""
    d = {"name": name, "state_topic": "p/a/state", "availability": copy.deepcopy(AV), "availability_mode": "all",
         "device": dict(A_DEV), "origin": ORIGIN}
    d.update(kw)
    return d


GOOD = {
    P + "/sensor/bmsgw_x_gateway/packs_online/config": {
        "name": "Packs online", "unique_id": "bmsgw_x_gateway_packs_online", "state_topic": "p/gateway",
        "value_template": "{{ value_json.packs_online }}", "state_class": "measurement",
        "availability_topic": "p/status", "device": GW_DEV, "origin": ORIGIN},
    P + "/sensor/bmsgw_x_gateway/started/config": {
        "name": "Started", "unique_id": "bmsgw_x_gateway_started", "state_topic": "p/gateway",
        "value_template": "{{ value_json.started }}", "device_class": "timestamp", "entity_category": "diagnostic",
        "availability_topic": "p/status", "device": GW_DEV, "origin": ORIGIN},
    P + "/sensor/bmsgw_x_a/voltage/config": pack(
        "Voltage", unique_id="bmsgw_x_a_voltage", value_template="{{ value_json.voltage }}", device_class="voltage",
        unit_of_measurement="V", state_class="measurement", suggested_display_precision=2),
    P + "/sensor/bmsgw_x_a/soc/config": pack(
        "State of charge", unique_id="bmsgw_x_a_soc", value_template="{{ value_json.soc }}",
        device_class="battery", unit_of_measurement="%", state_class="measurement"),
    P + "/sensor/bmsgw_x_a/energy_in/config": pack(
        "Energy charged", unique_id="bmsgw_x_a_energy_in", value_template="{{ value_json.energy_in_kwh }}",
        device_class="energy", unit_of_measurement="kWh", state_class="total_increasing"),
    P + "/sensor/bmsgw_x_a/stored_energy/config": pack(
        "Stored energy", unique_id="bmsgw_x_a_stored_energy", value_template="{{ value_json.stored_energy_wh }}",
        device_class="energy_storage", unit_of_measurement="Wh", state_class="measurement"),
    P + "/sensor/bmsgw_x_a/temperature_1/config": pack(
        "Temperature 1", unique_id="bmsgw_x_a_temperature_1", value_template="{{ value_json.temps_c[0] }}",
        device_class="temperature", unit_of_measurement="°C", state_class="measurement"),
    P + "/sensor/bmsgw_x_a/remaining_capacity/config": pack(
        "Remaining capacity", unique_id="bmsgw_x_a_remaining", value_template="{{ value_json.remaining_ah }}",
        unit_of_measurement="Ah", state_class="measurement"),
    P + "/sensor/bmsgw_x_a/last_update/config": pack(
        "Last update", unique_id="bmsgw_x_a_last_update", value_template="{{ value_json.updated }}",
        device_class="timestamp", entity_category="diagnostic"),
    P + "/sensor/bmsgw_x_a/protection/config": pack(
        "Protection", unique_id="bmsgw_x_a_protection", value_template="{{ value_json.alarm_names }}",
        entity_category="diagnostic"),
    P + "/sensor/bmsgw_x_a/cell_01/config": pack(
        "Cell 1", unique_id="bmsgw_x_a_cell_01", value_template="{{ value_json.cells_mv[0] }}",
        device_class="voltage", unit_of_measurement="mV", state_class="measurement",
        entity_category="diagnostic", enabled_by_default=False),
    P + "/binary_sensor/bmsgw_x_a/problem/config": pack(
        "Problem", unique_id="bmsgw_x_a_problem", value_template="{{ value_json.problem }}",
        device_class="problem", payload_on="True", payload_off="False"),
    P + "/binary_sensor/bmsgw_x_a/link/config": pack(
        None, unique_id="bmsgw_x_a_link", value_template="{{ value_json.online }}", device_class="connectivity",
        payload_on="True", payload_off="False", entity_category="diagnostic"),
    P + "/switch/bmsgw_x_a/charge_switch/config": pack(
        "Charge MOSFET switch", unique_id="bmsgw_x_a_charge_switch", value_template="{{ value_json.charge_mos }}",
        command_topic="p/a/set/charge_mos", payload_on="ON", payload_off="OFF", state_on="True", state_off="False",
        optimistic=False, retain=False, qos=1, entity_category="config"),
    P + "/button/bmsgw_x_a/identify/config": pack(
        "Identify", unique_id="bmsgw_x_a_identify", command_topic="p/a/set/identify", device_class="identify",
        entity_category="config"),
    P + "/number/bmsgw_x_a/charge_limit/config": pack(
        "Charge limit", unique_id="bmsgw_x_a_charge_limit", value_template="{{ value_json.soc }}",
        command_topic="p/a/set/charge_limit", min=50, max=100, step=1, mode="box", device_class="battery",
        unit_of_measurement="%", entity_category="config"),
    P + "/select/bmsgw_x_a/balance_mode/config": pack(
        "Balance mode", unique_id="bmsgw_x_a_balance_mode", value_template="{{ value_json.state }}",
        command_topic="p/a/set/balance_mode", options=["auto", "off"], entity_category="config"),
    # abbreviated, with a base topic
    P + "/sensor/bmsgw_x_a/current/config": {
        "~": "p/a", "name": "Current", "uniq_id": "bmsgw_x_a_current", "stat_t": "~/state",
        "val_tpl": "{{ value_json.current }}", "dev_cla": "current", "unit_of_meas": "A", "stat_cla": "measurement",
        "sug_dsp_prc": 2, "avty": [{"topic": "p/status"}, {"topic": "~/availability"}], "avty_mode": "all",
        "dev": {"ids": ["bmsgw_x_a"], "name": "a", "mf": "Daly", "via_device": "bmsgw_x"},
        "o": {"name": "bmsgw", "sw": "0.1.0"}},
}
STATES = {
    "p/status": "online",
    "p/a/availability": "online",
    "p/gateway": json.dumps({"packs_online": 1, "started": "2026-11-22T12:00:00+00:00"}),
    "p/a/state": json.dumps({"voltage": 52.6, "current": -1.5, "soc": 60.0, "energy_in_kwh": 1.25,
                             "stored_energy_wh": 3156, "temps_c": [25.0, 26.0], "remaining_ah": None,
                             "updated": "2026-11-22T13:23:03Z", "alarm_names": "", "cells_mv": [3290, 3288],
                             "problem": False, "online": True, "charge_mos": True, "state": "auto"}),
}
DEVICE_TOPIC = P + "/device/bmsgw_x_bank/config"
DEVICE_GOOD = {
    DEVICE_TOPIC: {
        "dev": {"ids": ["bmsgw_x_bank"], "name": "x bank", "via_device": "bmsgw_x"},
        "o": {"name": "bmsgw", "sw": "0.1.0", "url": "https://example.org/bmsgw"},
        "state_topic": "p/bank/state", "qos": 1,
        "avty": [{"topic": "p/status"}, {"topic": "p/bank/availability"}], "avty_mode": "all",
        "cmps": {
            "voltage": {"p": "sensor", "name": "Voltage", "uniq_id": "bmsgw_x_bank_voltage",
                        "val_tpl": "{{ value_json.voltage }}", "dev_cla": "voltage", "unit_of_meas": "V",
                        "stat_cla": "measurement"},
            "problem": {"p": "binary_sensor", "name": "Problem", "uniq_id": "bmsgw_x_bank_problem",
                        "val_tpl": "{{ value_json.problem }}", "dev_cla": "problem", "pl_on": "True",
                        "pl_off": "False"},
            "retired": {"p": "sensor"},
        }},
    P + "/sensor/bmsgw_x_gateway/packs_online/config": GOOD[P + "/sensor/bmsgw_x_gateway/packs_online/config"],
}
DEVICE_STATES = dict(STATES, **{"p/bank/availability": "online",
                                "p/bank/state": json.dumps({"voltage": 52.5, "problem": False})})
exercised = set()


def run(configs, states=STATES, **kw):
    return check({t: (p if isinstance(p, str) else json.dumps(p)) for t, p in configs.items()}, states, **kw)


def broken(label, rule, topic, change=None, states_change=None, base=None, states=None, **kw):
    """A copy of the good set (or `base`) with one mistake must give a
    problem of `rule` naming `topic`."""
    cfg = copy.deepcopy(base if base is not None else GOOD)
    st = dict(states if states is not None else STATES)
    if topic not in cfg and change is not None and not callable(change):
        cfg[topic] = pack("Extra", unique_id="extra_" + label.replace(" ", "_"))
    if callable(change):
        change(cfg, topic)
    elif change:
        cfg[topic].update(change)
    if states_change:
        states_change(st)
    probs = run(cfg, st, **kw)
    hit = [p for p in probs if p.rule == rule and p.topic.split("#")[0] == topic.split("#")[0]]
    exercised.update(p.rule for p in hit)
    c.ok(bool(hit), "caught: %s -> [%s] (%s)" % (label, rule, hit[0].detail if hit else probs[:3] or "nothing"))


def pop(*keys):
    def f(cfg, t):
        d = cfg[t]
        for k in keys[:-1]:
            d = d[k]
        d.pop(keys[-1])
    return f


V = P + "/sensor/bmsgw_x_a/voltage/config"
E = P + "/sensor/bmsgw_x_a/energy_in/config"
B = P + "/binary_sensor/bmsgw_x_a/problem/config"
S = P + "/switch/bmsgw_x_a/charge_switch/config"
T = P + "/sensor/bmsgw_x_a/last_update/config"
N = P + "/number/bmsgw_x_a/charge_limit/config"
SEL = P + "/select/bmsgw_x_a/balance_mode/config"
BTN = P + "/button/bmsgw_x_a/identify/config"
CUR = P + "/sensor/bmsgw_x_a/current/config"


def good_sets():
    print("== good configs pass")
    c.eq(run(GOOD), [], "per-entity configs with their retained states")
    c.eq(run(GOOD, None), [], "per-entity configs alone")
    c.eq(run(GOOD, set(STATES)), [], "per-entity configs with the known topics as a set")
    c.eq(run(DEVICE_GOOD, DEVICE_STATES, domoticz=False), [], "a device-based config (Domoticz rules off)")
    c.eq(run(GOOD, STATES, require_origin=True), [], "every config has an origin")
    c.eq(run({t.replace(P + "/", "sites/x/ha/", 1): p for t, p in GOOD.items()}, STATES, prefix="sites/x/ha"),
         [], "a discovery prefix holding '/'")
    # the abbreviated config is read as the long one: its state is checked
    probs = run(GOOD, dict(STATES, **{"p/a/state": json.dumps(dict(json.loads(STATES["p/a/state"]),
                                                                        current="1.5 A"))}))
    c.ok([p.rule for p in probs if p.topic == CUR] == ["state-value"],
         "the abbreviated config (~, stat_t, val_tpl, avty) is expanded and checked (%s)" % probs)
    p = run(GOOD, STATES, domoticz=True)
    c.eq(p, [], "Domoticz rules on: the good set avoids what Domoticz drops")
    gw = P + "/sensor/bmsgw_x_gateway/packs_online/config"
    q = run({gw: GOOD[gw], V.replace("voltage/", "cell_max/"): dict(GOOD[V], unique_id="u_cm")}, None,
            domoticz=False)
    c.eq(q, [], "Domoticz rules off: cell_max is not reported")
    probs = run({gw: GOOD[gw], V: dict(GOOD[V], unit_of_measurement="A")}, None)
    c.ok(len(probs) == 1 and isinstance(probs[0], Problem) and probs[0].startswith(V + ": [unit] "),
         "a problem reads 'TOPIC: [rule] detail' (%s)" % probs)
    c.eq(check({V: ""}), [], "an empty payload (a deleted config) is skipped")

    class Retained:  # what mqtt_harness.read_retained() gives: objects with a bytes .payload
        def __init__(self, p):
            self.payload = (p if isinstance(p, str) else json.dumps(p)).encode()
    c.eq(check({t: Retained(p) for t, p in GOOD.items()}, {t: Retained(p) for t, p in STATES.items()}), [],
         "configs and states given as received messages (bytes payloads)")
    c.eq(template_problem("{{ value_json.a[0] }} {% if x %}y{% endif %}"), None, "a plausible template passes")


def broken_sets():
    print("== broken configs are caught")
    # units, classes, state classes
    broken("wrong unit for the device class", "unit", V, {"unit_of_measurement": "A"})
    broken("battery in Ah", "unit", P + "/sensor/bmsgw_x_a/soc/config", {"unit_of_measurement": "Ah"})
    broken("voltage without unit", "unit", V, pop("unit_of_measurement"))
    broken("monetary in euro", "unit", V, {"device_class": "monetary", "unit_of_measurement": "euro",
                                           "state_class": "total"})
    broken("energy with measurement", "state-class", E, {"state_class": "measurement"})
    broken("energy without state_class", "energy-state-class", E, pop("state_class"))
    broken("unknown state class", "state-class", V, {"state_class": "average"})
    broken("measurement_angle on a voltage", "state-class", V, {"state_class": "measurement_angle"})
    broken("unknown sensor device class", "device-class", V, {"device_class": "volts"})
    broken("timestamp with a unit", "non-numeric", T, {"unit_of_measurement": "s"})
    broken("timestamp with a state class", "non-numeric", T, {"state_class": "measurement"})
    broken("options without enum", "non-numeric", V, {"options": ["a", "b"]})
    broken("last_reset with measurement", "last-reset", V, {"last_reset_value_template": "{{ value_json.t }}"})
    broken("binary sensor with a unit", "binary-sensor", B, {"unit_of_measurement": "V"})
    broken("unknown binary device class", "device-class", B, {"device_class": "alarm"})
    broken("unknown button device class", "device-class", BTN, {"device_class": "press"})
    # identity and required keys
    broken("duplicate unique_id", "unique-id", P + "/sensor/bmsgw_x_a/power/config",
           lambda cfg, t: cfg.__setitem__(t, pack("Power", unique_id="bmsgw_x_a_voltage",
                                                  value_template="{{ value_json.voltage }}")))
    broken("missing unique_id", "unique-id", V, pop("unique_id"))
    broken("missing state_topic", "required", V, pop("state_topic"))
    broken("switch without command_topic", "required", S, pop("command_topic"))
    broken("button without command_topic", "required", BTN, pop("command_topic"))
    broken("select without options", "required", SEL, pop("options"))
    broken("object_id option", "object-id", V, {"object_id": "bmsgw_a_voltage"})
    broken("default_entity_id of another domain", "object-id", V, {"default_entity_id": "switch.a_voltage"})
    # devices
    broken("dangling via_device", "via-device", V,
           lambda cfg, t: cfg[t]["device"].update(via_device="bmsgw_nobody"))
    broken("via_device naming itself", "via-device", V,
           lambda cfg, t: cfg[t]["device"].update(via_device="bmsgw_x_a"))
    broken("device without identifiers", "device", V, pop("device", "identifiers"))
    broken("identifiers as a string", "device", V, lambda cfg, t: cfg[t]["device"].update(identifiers="bmsgw_x_a"))
    broken("device without a name", "device", V, pop("device", "name"))
    broken("entity without a device", "device", V, pop("device"))
    broken("one identifier, two names", "device-consistent", V,
           lambda cfg, t: cfg[t]["device"].update(name="pack a"))
    broken("origin without a name", "origin", V, {"origin": {"sw_version": "1"}})
    # availability and topics
    broken("dangling availability topic", "topic-exists", V, {"availability": [{"topic": "p/status"},
                                                                               {"topic": "p/b/availability"}]})
    broken("state topic nobody publishes", "topic-exists", V, {"state_topic": "p/zz/state"})
    broken("json_attributes_topic nobody publishes", "topic-exists", V, {"json_attributes_topic": "p/a/attrs"})
    broken("a base topic ~ pointing elsewhere", "topic-exists", CUR, {"~": "p/zz"})
    broken("availability and availability_topic", "availability", V, {"availability_topic": "p/status"})
    broken("availability entry without a topic", "availability", V, {"availability": [{"payload_available": "1"}]})
    broken("unknown key in an availability entry", "availability", V,
           {"availability": [{"topic": "p/status", "payload_on": "online"}]})
    broken("bad availability mode", "availability", V, {"availability_mode": "most"})
    broken("two availability topics, mode latest", "availability-mode", V, {"availability_mode": "latest"})
    broken("two availability topics, no mode", "availability-mode", V, pop("availability_mode"))
    broken("availability payload the config does not know", "availability-payload", V,
           states_change=lambda st: st.__setitem__("p/a/availability", "Online"))
    broken("a wildcard in a state topic", "topic", V, {"state_topic": "p/+/state"})
    broken("json attributes not an object", "json-attributes", V, {"json_attributes_topic": "p/a/attrs"},
           states_change=lambda st: st.__setitem__("p/a/attrs", "[1, 2]"))
    # topics and payloads
    broken("unknown component", "component", P + "/sensors/bmsgw_x_a/voltage/config", {"unique_id": "u2"})
    broken("bad id characters", "topic-shape", P + "/sensor/bmsgw x/voltage/config", {"unique_id": "u3"})
    broken("no /config at the end", "topic-shape", P + "/sensor/bmsgw_x_a/voltage/state", {"unique_id": "u4"})
    broken("another prefix", "topic-shape", "hass/sensor/bmsgw_x_a/voltage/config", {"unique_id": "u5"})
    broken("too deep", "topic-shape", P + "/sensor/a/b/voltage/config", {"unique_id": "u6"})
    broken("not JSON", "payload-json", V, lambda cfg, t: cfg.__setitem__(t, "{name: x"))
    broken("a JSON array", "payload-json", V, lambda cfg, t: cfg.__setitem__(t, "[1]"))
    broken("stat_t and state_topic both", "abbreviation-clash", V, {"stat_t": "p/a/state"})
    # names
    broken("name repeats the device name", "name-repeats-device", V, {"name": "a Voltage"})
    broken("name is the device name", "name-repeats-device", V, {"name": "A"})
    broken("two main entities (name null)", "name", CUR, {"name": None})
    broken("two entities with one name", "name", P + "/sensor/bmsgw_x_a/voltage2/config",
           lambda cfg, t: cfg.__setitem__(t, pack("voltage", unique_id="u_v2",
                                                  value_template="{{ value_json.voltage }}")))
    broken("no name, no device class", "name", P + "/sensor/bmsgw_x_a/remaining_capacity/config", pop("name"))
    broken("a switch without a name", "name", S, pop("name"))
    broken("name not a string", "name", V, {"name": 5})
    # categories and types
    broken("bad entity_category", "entity-category", V, {"entity_category": "debug"})
    broken("sensor as config entity", "entity-category", V, {"entity_category": "config"})
    broken("enabled_by_default a string", "types", V, {"enabled_by_default": "no"})
    broken("negative precision", "types", V, {"suggested_display_precision": -1})
    broken("qos 3", "types", S, {"qos": 3})
    broken("expire_after a string", "types", V, {"expire_after": "60"})
    # templates and the real state
    broken("template without value_json on a JSON state", "template", V, {"value_template": "{{ value }}"})
    broken("template ignoring the payload", "template", V, {"value_template": "{{ 52 }}"})
    broken("unbalanced template", "template", V, {"value_template": "{{ value_json.voltage }"})
    broken("unclosed bracket", "template", V, {"value_template": "{{ value_json.temps_c[0 }}"})
    broken("unclosed quote", "template", V, {"value_template": "{{ value_json['voltage] }}"})
    broken("JSON state without value_template", "template", V, pop("value_template"))
    broken("JSON state without value_template (states unknown, topic shared)", "template", V,
           pop("value_template"), states={})
    broken("template key not in the state", "template-key", V, {"value_template": "{{ value_json.volts }}"})
    broken("index out of range", "template-key", V, {"value_template": "{{ value_json.temps_c[5] }}"})
    broken("numeric sensor given text", "state-value", V,
           states_change=lambda st: st.__setitem__("p/a/state", json.dumps(dict(json.loads(STATES["p/a/state"]),
                                                                                   voltage="52.6 V"))))
    broken("binary sensor payloads that do not match", "state-value", B, pop("payload_off"))
    broken("switch state_on that does not match", "state-value", S, {"state_on": "ON"})
    broken("timestamp without a zone", "state-value", T,
           states_change=lambda st: st.__setitem__("p/a/state", json.dumps(dict(json.loads(STATES["p/a/state"]),
                                                                                   updated="2026-11-22 13:23"))))
    # other components
    broken("optimistic switch with a state", "switch", S, {"optimistic": True})
    broken("number min above max", "number", N, {"min": 100, "max": 50})
    broken("number mode dial", "number", N, {"mode": "dial"})
    broken("select with repeated options", "select", SEL, {"options": ["auto", "auto"]})
    # device-based discovery
    broken("device config without origin", "device-discovery", DEVICE_TOPIC, pop("o"), base=DEVICE_GOOD,
           states=DEVICE_STATES, domoticz=False)
    broken("component without platform", "device-discovery", DEVICE_TOPIC, pop("cmps", "voltage", "p"),
           base=DEVICE_GOOD, states=DEVICE_STATES, domoticz=False)
    broken("component overriding the device", "device-discovery", DEVICE_TOPIC,
           lambda cfg, t: cfg[t]["cmps"]["voltage"].update(dev={"ids": ["other"], "name": "o"}),
           base=DEVICE_GOOD, states=DEVICE_STATES, domoticz=False)
    broken("component without unique_id", "unique-id", DEVICE_TOPIC, pop("cmps", "problem", "uniq_id"),
           base=DEVICE_GOOD, states=DEVICE_STATES, domoticz=False)
    broken("component with a wrong unit", "unit", DEVICE_TOPIC,
           lambda cfg, t: cfg[t]["cmps"]["voltage"].update(unit_of_meas="W"),
           base=DEVICE_GOOD, states=DEVICE_STATES, domoticz=False)
    # Domoticz
    broken("Domoticz drops *_max", "domoticz-object-id", P + "/sensor/bmsgw_x_a/cell_max/config",
           {"unique_id": "u7", "value_template": "{{ value_json.voltage }}"})
    broken("Domoticz drops min_*", "domoticz-object-id", P + "/sensor/bmsgw_x_a/min_cell/config",
           {"unique_id": "u8", "value_template": "{{ value_json.voltage }}"})
    broken("Domoticz drops *_alarm*", "domoticz-object-id", P + "/sensor/bmsgw_x_a/active_alarms/config",
           {"unique_id": "u9", "value_template": "{{ value_json.voltage }}"})
    broken("Domoticz drops restart", "domoticz-object-id", P + "/button/bmsgw_x_a/restart/config",
           {"unique_id": "u10", "command_topic": "p/a/set/restart", "value_template": "{{ value_json.voltage }}"})
    broken("Domoticz ignores device-based discovery", "domoticz-component", DEVICE_TOPIC, base=DEVICE_GOOD,
           states=DEVICE_STATES)
    broken("Domoticz ignores update entities", "domoticz-component", P + "/update/bmsgw_x_a/firmware/config",
           {"unique_id": "u11", "value_template": "{{ value_json.voltage }}"})
    broken("Domoticz cannot read a conditional template", "domoticz-template", B,
           {"value_template": "{{ 'True' if value_json.problem else 'False' }}"})
    broken("Domoticz reads en only in full", "domoticz-keys", CUR,
           lambda cfg, t: cfg[t].update(en=True))
    broken("Domoticz reads availability topics only in full", "domoticz-keys", CUR,
           lambda cfg, t: cfg[t].update(avty=[{"t": "p/status"}, {"t": "~/availability"}]))

    missed = sorted(set(RULES) - exercised)
    c.eq(missed, [], "every rule of the checker is caught by some broken config")


def main():
    good_sets()
    broken_sets()
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
