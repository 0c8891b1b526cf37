#!/usr/bin/python3
"""A checker of Home Assistant MQTT discovery configs (per-entity).

check(configs, known_topics=None) -> list of problems, each "topic: rule".
`configs` maps each config topic to its payload (str).  The rules, from
Home Assistant's documentation (https://www.home-assistant.io/integrations/mqtt/,
/integrations/sensor/, /integrations/binary_sensor/, /integrations/switch.mqtt/)
and its core sensor constants (DEVICE_CLASS_UNITS, DEVICE_CLASS_STATE_CLASSES,
https://github.com/home-assistant/core/blob/HEAD/homeassistant/components/sensor/const.py),
and from Domoticz's MQTT auto discovery
(https://github.com/domoticz/domoticz/blob/HEAD/hardware/MQTTAutoDiscover.cpp),
are listed in RULES below.
"""
import json
import re
import sys

ABBREVIATIONS = {
    "avty": "availability", "avty_mode": "availability_mode", "avty_t": "availability_topic",
    "cmd_t": "command_topic", "dev": "device", "dev_cla": "device_class", "ent_cat": "entity_category",
    "en": "enabled_by_default", "name": "name", "pl_on": "payload_on", "pl_off": "payload_off",
    "stat_t": "state_topic", "stat_cla": "state_class", "uniq_id": "unique_id",
    "unit_of_meas": "unit_of_measurement", "val_tpl": "value_template", "sug_dsp_prc": "suggested_display_precision",
    "o": "origin", "opt": "optimistic", "ret": "retain", "stat_on": "state_on", "stat_off": "state_off",
}
DEVICE_ABBREVIATIONS = {"ids": "identifiers", "mf": "manufacturer", "mdl": "model", "sw": "sw_version",
                        "via_device": "via_device", "name": "name"}

ENERGY_UNITS = {"J", "kJ", "MJ", "GJ", "mWh", "Wh", "kWh", "MWh", "GWh", "TWh", "cal", "kcal", "Mcal", "Gcal"}
# DEVICE_CLASS_UNITS (a subset: the classes a BMS gateway may use)
SENSOR_UNITS = {
    "voltage": {"V", "mV", "µV", "kV", "MV"},
    "current": {"A", "mA"},
    "power": {"W", "kW", "MW", "GW", "TW", "mW"},
    "battery": {"%"},
    "energy": ENERGY_UNITS,
    "energy_storage": ENERGY_UNITS,
    "temperature": {"°C", "°F", "K"},
    "duration": {"d", "h", "min", "s", "ms"},
    "timestamp": {None},
    "apparent_power": {"VA"},
    "frequency": {"Hz", "kHz", "MHz", "GHz"},
}
# DEVICE_CLASS_STATE_CLASSES
SENSOR_STATE_CLASSES = {
    "voltage": {"measurement"}, "current": {"measurement"}, "power": {"measurement"},
    "battery": {"measurement"}, "energy": {"total", "total_increasing"},
    "energy_storage": {"measurement"}, "temperature": {"measurement"},
    "duration": {"measurement", "total", "total_increasing"}, "timestamp": set(),
    "apparent_power": {"measurement"}, "frequency": {"measurement"},
}
STATE_CLASSES = {"measurement", "total", "total_increasing", "measurement_angle"}
BINARY_CLASSES = {"battery", "battery_charging", "carbon_monoxide", "cold", "connectivity", "door",
                  "garage_door", "gas", "heat", "light", "lock", "moisture", "motion", "moving", "occupancy",
                  "opening", "plug", "power", "presence", "problem", "running", "safety", "smoke", "sound",
                  "tamper", "update", "vibration", "window"}
SWITCH_CLASSES = {"outlet", "switch"}
COMPONENTS = {"sensor", "binary_sensor", "switch", "button", "number", "select", "text", "device_tracker",
              "light", "cover", "climate", "fan", "lock", "update", "event", "valve", "siren", "scene"}
ID = re.compile(r"^[a-zA-Z0-9_-]+$")

RULES = [
    "topic: <prefix>/<component>/[<node_id>/]<object_id>/config, ids [a-zA-Z0-9_-]",
    "payload: a JSON object",
    "component: one HA knows",
    "unique_id: present and unique",
    "state_topic: required for sensor and binary_sensor; command_topic for switch",
    "device: identifiers (non-empty list) and name; via_device names an identifier of another device",
    "sensor device_class: one HA knows, with a unit HA allows for it",
    "state_class: measurement | total | total_increasing, and allowed for the device_class",
    "binary_sensor / switch device_class: one HA knows",
    "entity_category: config or diagnostic (sensors: diagnostic only)",
    "enabled_by_default, optimistic: booleans",
    "availability: a list of {topic,...}, not together with availability_topic; mode all|any|latest",
    "topics named (state, availability, json attributes) exist, when the caller lists the known topics",
    "value_template: balanced {{ }} and reads value_json (the state is JSON)",
    "name: does not repeat the device's name (has_entity_name)",
    "object id: not what Domoticz drops (min_*, max_*, *_min, *_max, *_alarm*, *_calibration*)",
    "suggested_display_precision: a whole number >= 0",
    "switch: not optimistic when it has a state_topic; payloads ON/OFF",
]


def expand(d, table):
    return {table.get(k, k): v for k, v in d.items()}


def check(configs, known_topics=None):
    problems = []
    ids = {}
    devices = {}          # identifier -> device dict
    parsed = []

    def bad(topic, why):
        problems.append("%s: %s" % (topic, why))

    for topic, payload in configs.items():
        parts = topic.split("/")
        if len(parts) not in (4, 5) or parts[-1] != "config":
            bad(topic, "topic is not <prefix>/<component>/[<node_id>/]<object_id>/config")
            continue
        comp, obj = parts[1], parts[-2]
        node = parts[2] if len(parts) == 5 else None
        if comp not in COMPONENTS:
            bad(topic, "unknown component %r" % comp)
        for part in [obj] + ([node] if node else []):
            if not ID.match(part):
                bad(topic, "id %r has characters outside [a-zA-Z0-9_-]" % part)
        try:
            c = json.loads(payload)
        except ValueError as e:
            bad(topic, "payload is not JSON (%s)" % e)
            continue
        if not isinstance(c, dict):
            bad(topic, "payload is not a JSON object")
            continue
        c = expand(c, ABBREVIATIONS)
        dev = c.get("device")
        if isinstance(dev, dict):
            dev = expand(dev, DEVICE_ABBREVIATIONS)
            c["device"] = dev
            for i in dev.get("identifiers", []) if isinstance(dev.get("identifiers"), list) else []:
                devices.setdefault(i, dev)
        parsed.append((topic, comp, obj, c))

    for topic, comp, obj, c in parsed:
        uid = c.get("unique_id")
        if not uid or not isinstance(uid, str):
            bad(topic, "no unique_id")
        elif uid in ids:
            bad(topic, "unique_id %r also used by %s" % (uid, ids[uid]))
        else:
            ids[uid] = topic
        if comp in ("sensor", "binary_sensor") and not c.get("state_topic"):
            bad(topic, "%s without state_topic" % comp)
        if comp == "switch" and not c.get("command_topic"):
            bad(topic, "switch without command_topic")
        dev = c.get("device")
        dev_name = None
        if dev is not None:
            if not isinstance(dev, dict):
                bad(topic, "device is not an object")
            else:
                idl = dev.get("identifiers")
                if not isinstance(idl, list) or not idl or not all(isinstance(i, str) and i for i in idl):
                    bad(topic, "device.identifiers is not a non-empty list of strings")
                dev_name = dev.get("name")
                if not dev_name:
                    bad(topic, "device without a name")
                via = dev.get("via_device")
                if via is not None and (via not in devices or (isinstance(idl, list) and via in idl)):
                    bad(topic, "via_device %r names no other device" % via)
        dc, unit, sc = c.get("device_class"), c.get("unit_of_measurement"), c.get("state_class")
        if comp == "sensor":
            if dc is not None:
                if dc not in SENSOR_UNITS:
                    bad(topic, "sensor device_class %r unknown" % dc)
                elif unit not in SENSOR_UNITS[dc]:
                    bad(topic, "unit %r not allowed for device_class %s" % (unit, dc))
                elif sc is not None and sc not in SENSOR_STATE_CLASSES[dc]:
                    bad(topic, "state_class %s not allowed for device_class %s" % (sc, dc))
            if sc is not None and sc not in STATE_CLASSES:
                bad(topic, "state_class %r unknown" % sc)
            if dc == "timestamp" and sc is not None:
                bad(topic, "a timestamp has no state_class")
        elif comp == "binary_sensor":
            if dc is not None and dc not in BINARY_CLASSES:
                bad(topic, "binary_sensor device_class %r unknown" % dc)
            if unit is not None or sc is not None:
                bad(topic, "a binary_sensor has no unit or state_class")
        elif comp == "switch":
            if dc is not None and dc not in SWITCH_CLASSES:
                bad(topic, "switch device_class %r unknown" % dc)
            if c.get("state_topic") and c.get("optimistic") is True:
                bad(topic, "an optimistic switch with a state_topic")
            for k in ("payload_on", "payload_off"):
                if k in c and c[k] not in ("ON", "OFF"):
                    bad(topic, "%s %r: expected ON / OFF" % (k, c[k]))
        ec = c.get("entity_category")
        if ec is not None and ec not in ("config", "diagnostic"):
            bad(topic, "entity_category %r" % ec)
        if comp in ("sensor", "binary_sensor") and ec == "config":
            bad(topic, "a %s cannot be a config entity" % comp)
        for k in ("enabled_by_default", "optimistic", "retain"):
            if k in c and not isinstance(c[k], bool):
                bad(topic, "%s is not a boolean" % k)
        p = c.get("suggested_display_precision")
        if p is not None and (not isinstance(p, int) or isinstance(p, bool) or p < 0):
            bad(topic, "suggested_display_precision %r" % p)
        av, avt = c.get("availability"), c.get("availability_topic")
        if av is not None and avt is not None:
            bad(topic, "availability together with availability_topic")
        av_topics = []
        if av is not None:
            if not isinstance(av, list) or not av or not all(isinstance(a, dict) and a.get("topic") for a in av):
                bad(topic, "availability is not a list of {topic, ...}")
            else:
                av_topics = [a["topic"] for a in av]
        if avt is not None:
            av_topics.append(avt)
        mode = c.get("availability_mode")
        if mode is not None and mode not in ("all", "any", "latest"):
            bad(topic, "availability_mode %r" % mode)
        if known_topics is not None:
            for t in av_topics:
                if t not in known_topics:
                    bad(topic, "availability topic %s does not exist" % t)
            for k in ("state_topic", "json_attributes_topic"):
                if c.get(k) and c[k] not in known_topics:
                    bad(topic, "%s %s does not exist" % (k, c[k]))
        tpl = c.get("value_template")
        if tpl is not None:
            if not isinstance(tpl, str) or tpl.count("{{") != tpl.count("}}") or "{{" not in tpl:
                bad(topic, "value_template %r is not a template" % tpl)
            elif "value_json" not in tpl:
                bad(topic, "value_template %r does not read value_json" % tpl)
        name = c.get("name")
        dn = str(dev_name).lower() if dev_name else None
        if isinstance(name, str) and dn and (name.lower() == dn or name.lower().startswith(dn + " ")):
            bad(topic, "name %r repeats the device name %r" % (name, dev_name))
        if name is not None and not isinstance(name, str):
            bad(topic, "name is not a string or null")
        o = obj.lower()
        if o.startswith(("min_", "max_")) or o.endswith(("_min", "_max")) or "_alarm" in o or "_calibration" in o:
            bad(topic, "object id %r is dropped by Domoticz" % obj)
    return problems


if __name__ == "__main__":
    # ha_discovery.py < "TOPIC PAYLOAD" lines (bmsgw --mqtt-dump)
    configs = {}
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        t, _, p = line.partition(" ")
        configs[t] = p
    probs = check(configs)
    for p in probs:
        print(p)
    print("%d configs, %d problems" % (len(configs), len(probs)))
    sys.exit(1 if probs else 0)
