#!/usr/bin/python3
"""The Home Assistant discovery checker (tests/tools/ha_discovery.py) must
pass good configs and catch every broken one, or the MQTT tests that rely
on it could not fail."""
import copy
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
from harness import Checks  # noqa: E402
from ha_discovery import check  # noqa: E402

c = Checks()

GW = {"name": "Packs online", "unique_id": "bmsgw_x_gateway_packs_online", "state_topic": "p/gateway",
      "value_template": "{{ value_json.packs_online }}", "availability_topic": "p/status",
      "device": {"identifiers": ["bmsgw_x"], "name": "x"}}
VOLT = {"name": "Voltage", "unique_id": "bmsgw_x_a_voltage", "state_topic": "p/a/state",
        "value_template": "{{ value_json.voltage }}", "device_class": "voltage", "unit_of_measurement": "V",
        "state_class": "measurement", "suggested_display_precision": 2,
        "availability": [{"topic": "p/status"}, {"topic": "p/a/availability"}], "availability_mode": "all",
        "device": {"identifiers": ["bmsgw_x_a"], "name": "a", "via_device": "bmsgw_x"}}
ENERGY = dict(VOLT, name="Energy charged", unique_id="bmsgw_x_a_energy_in", device_class="energy",
              unit_of_measurement="kWh", state_class="total_increasing",
              value_template="{{ value_json.energy_in_kwh }}")
PROBLEM = {"name": "Problem", "unique_id": "bmsgw_x_a_problem", "state_topic": "p/a/state",
           "value_template": "{{ value_json.problem }}", "device_class": "problem", "payload_on": "True",
           "payload_off": "False", "device": {"identifiers": ["bmsgw_x_a"], "name": "a", "via_device": "bmsgw_x"}}
SWITCH = {"name": "Charge MOSFET", "unique_id": "bmsgw_x_a_chg", "state_topic": "p/a/state",
          "command_topic": "p/a/set/charge_mos", "value_template": "{{ value_json.charge_mos }}",
          "payload_on": "ON", "payload_off": "OFF", "optimistic": False,
          "device": {"identifiers": ["bmsgw_x_a"], "name": "a", "via_device": "bmsgw_x"}}
KNOWN = {"p/gateway", "p/status", "p/a/state", "p/a/availability"}


def good():
    return {
        "homeassistant/sensor/bmsgw_x_gateway/packs_online/config": GW,
        "homeassistant/sensor/bmsgw_x_a/voltage/config": VOLT,
        "homeassistant/sensor/bmsgw_x_a/energy_in/config": ENERGY,
        "homeassistant/binary_sensor/bmsgw_x_a/problem/config": PROBLEM,
        "homeassistant/switch/bmsgw_x_a/charge_mos/config": SWITCH,
    }


def run(configs, known=KNOWN):
    return check({t: (p if isinstance(p, str) else json.dumps(p)) for t, p in configs.items()}, known)


def broken(label, topic, change, expect):
    cfg = copy.deepcopy(good())
    if topic not in cfg:
        cfg[topic] = copy.deepcopy(VOLT)
    if callable(change):
        change(cfg, topic)
    else:
        cfg[topic].update(change)
    probs = run(cfg)
    c.ok(any(expect in p for p in probs), "caught: %s (%s)" % (label, probs[:2] if probs else "nothing"))


def main():
    probs = run(good())
    c.eq(probs, [], "good configs pass")
    v = "homeassistant/sensor/bmsgw_x_a/voltage/config"
    broken("wrong unit for the device class", v, {"unit_of_measurement": "A"}, "not allowed for device_class")
    broken("energy with measurement", "homeassistant/sensor/bmsgw_x_a/energy_in/config",
           {"state_class": "measurement"}, "state_class measurement not allowed")
    broken("unknown device class", v, {"device_class": "volts"}, "unknown")
    broken("unknown state class", v, {"state_class": "average"}, "unknown")
    broken("duplicate unique_id", "homeassistant/sensor/bmsgw_x_a/current/config",
           {"unique_id": "bmsgw_x_a_voltage"}, "also used by")
    broken("missing unique_id", v, lambda cfg, t: cfg[t].pop("unique_id"), "no unique_id")
    broken("missing state_topic", v, lambda cfg, t: cfg[t].pop("state_topic"), "without state_topic")
    broken("switch without command_topic", "homeassistant/switch/bmsgw_x_a/charge_mos/config",
           lambda cfg, t: cfg[t].pop("command_topic"), "without command_topic")
    broken("optimistic switch with state", "homeassistant/switch/bmsgw_x_a/charge_mos/config",
           {"optimistic": True}, "optimistic")
    broken("dangling via_device", v, lambda cfg, t: cfg[t]["device"].update(via_device="bmsgw_nobody"),
           "names no other device")
    broken("dangling availability topic", v, {"availability": [{"topic": "p/status"}, {"topic": "p/b/availability"}]},
           "does not exist")
    broken("state topic nobody publishes", v, {"state_topic": "p/zz/state"}, "does not exist")
    broken("bad component", "homeassistant/sensors/bmsgw_x_a/voltage/config", {}, "unknown component")
    broken("bad id characters", "homeassistant/sensor/bmsgw x/voltage/config", {"unique_id": "u2"}, "characters")
    broken("name repeats the device name", v, {"name": "a Voltage"}, "repeats the device name")
    broken("bad entity_category", v, {"entity_category": "debug"}, "entity_category")
    broken("sensor as config entity", v, {"entity_category": "config"}, "cannot be a config entity")
    broken("Domoticz drops *_max", "homeassistant/sensor/bmsgw_x_a/cell_max/config", {"unique_id": "u3"},
           "dropped by Domoticz")
    broken("Domoticz drops *_alarm*", "homeassistant/sensor/bmsgw_x_a/active_alarms/config", {"unique_id": "u4"},
           "dropped by Domoticz")
    broken("availability and availability_topic", v, {"availability_topic": "p/status"}, "together")
    broken("bad availability mode", v, {"availability_mode": "most"}, "availability_mode")
    broken("template without value_json", v, {"value_template": "{{ value }}"}, "value_json")
    broken("unbalanced template", v, {"value_template": "{{ value_json.voltage }"}, "not a template")
    broken("enabled_by_default not a boolean", v, {"enabled_by_default": "no"}, "not a boolean")
    broken("negative precision", v, {"suggested_display_precision": -1}, "suggested_display_precision")
    broken("binary sensor with a unit", "homeassistant/binary_sensor/bmsgw_x_a/problem/config",
           {"unit_of_measurement": "V"}, "no unit")
    broken("bad binary device class", "homeassistant/binary_sensor/bmsgw_x_a/problem/config",
           {"device_class": "alarm"}, "unknown")
    broken("timestamp with a state class", v, {"device_class": "timestamp", "unit_of_measurement": None,
                                               "state_class": "measurement"}, "state_class")
    broken("not JSON", v, lambda cfg, t: cfg.__setitem__(t, "{name: x"), "not JSON")
    broken("device without identifiers", v, lambda cfg, t: cfg[t]["device"].pop("identifiers"),
           "identifiers")
    broken("switch payloads not ON/OFF", "homeassistant/switch/bmsgw_x_a/charge_mos/config",
           {"payload_on": "1"}, "expected ON / OFF")
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
