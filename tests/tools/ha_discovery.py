#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A checker of Home Assistant MQTT discovery configs.

    check(configs, known_topics=None, *, states=None, prefix="homeassistant",
          domoticz=True, require_device=True, require_origin=False)
        -> [Problem, ...]

`configs` maps each retained topic under the discovery prefix to its payload
(str, bytes, an already parsed dict, or anything with a .payload such as
mqtt_harness.Msg); empty payloads (deleted configs) are skipped.
`known_topics`: the topics that exist (a set, or a dict topic -> payload);
when given, every state, availability and JSON-attributes topic a config
names must be among them.  `states` (or a known_topics dict) maps topics to
their retained payloads: then templates are tried on the real state (the key
must exist; binary sensors and switches must render one of their payloads,
numeric sensors a number, timestamps an ISO 8601 time with a zone) and
availability payloads must be one the config understands.

Nothing raises: every problem is a Problem, a str "TOPIC: [rule] detail"
with .topic, .rule and .detail; a component of a device-based config is
named "TOPIC#KEY".  RULES lists every rule with its public source;
`ha_discovery.py --rules` prints them.

Sources (cited again where each rule is encoded):
  HA-MQTT    https://www.home-assistant.io/integrations/mqtt/  (discovery
             topic, payload, abbreviations, device and origin, availability,
             naming; home-assistant/home-assistant.io
             source/_integrations/mqtt.markdown)
  HA-SENSOR  https://www.home-assistant.io/integrations/sensor/#device-class
             (units per device class) and
             https://github.com/home-assistant/core/blob/dev/homeassistant/components/sensor/const.py (DEVICE_CLASS_UNITS,
             DEVICE_CLASS_STATE_CLASSES, NON_NUMERIC_DEVICE_CLASSES)
  HA-MQTT-SENSOR  https://www.home-assistant.io/integrations/sensor.mqtt/ and
             https://github.com/home-assistant/core/blob/dev/homeassistant/components/mqtt/sensor.py
             (validate_sensor_state_and_device_class_config)
  HA-BINARY  https://www.home-assistant.io/integrations/binary_sensor/#device-class
  HA-ENTITY  https://developers.home-assistant.io/docs/core/entity/
             (has_entity_name, entity_category; sensors and binary sensors
             cannot be config entities)
  HA-NAMING  https://github.com/home-assistant/core/blob/dev/tests/components/mqtt/test_mixins.py
             (entity_name_startswith_device_name: the name is shown after
             the device name, doubled) and core PR #107188 (2024.2 stopped
             stripping it)
  HA-ENERGY  https://www.home-assistant.io/docs/energy/faq/ (energy sensors
             need state_class total or total_increasing)
  DOMOTICZ   domoticz/domoticz hardware/MQTTAutoDiscover.cpp
             (allowed_components, the object ids it skips, CleanValueTemplate /
             GetValueFromTemplate, enabled_by_default read with asBool)
  MQTT-PAGE  this repository's conf/bmsgw-mqtt.7, HOME ASSISTANT DISCOVERY
             (one device per unit, availability_mode all)
"""
import datetime
import json
import math
import re
import sys

# ---------------------------------------------------------------- tables

# HA-MQTT "Supported abbreviations in MQTT discovery messages" (the whole
# table, so that abbreviated configs are checked like long ones)
ABBREVIATIONS = {
    "act_t": "action_topic", "act_tpl": "action_template", "atype": "automation_type",
    "aux_cmd_t": "aux_command_topic", "aux_stat_t": "aux_state_topic", "aux_stat_tpl": "aux_state_template",
    "av_tones": "available_tones", "avty": "availability", "avty_mode": "availability_mode",
    "avty_t": "availability_topic", "avty_tpl": "availability_template",
    "away_mode_cmd_t": "away_mode_command_topic", "away_mode_stat_t": "away_mode_state_topic",
    "away_mode_stat_tpl": "away_mode_state_template", "b_tpl": "blue_template",
    "bri_cmd_t": "brightness_command_topic", "bri_cmd_tpl": "brightness_command_template",
    "bri_scl": "brightness_scale", "bri_stat_t": "brightness_state_topic", "bri_tpl": "brightness_template",
    "bri_val_tpl": "brightness_value_template", "clr_temp_cmd_tpl": "color_temp_command_template",
    "clr_temp_cmd_t": "color_temp_command_topic", "clr_temp_k": "color_temp_kelvin",
    "clr_temp_stat_t": "color_temp_state_topic", "clr_temp_tpl": "color_temp_template",
    "clr_temp_val_tpl": "color_temp_value_template", "clrm": "color_mode", "clrm_stat_t": "color_mode_state_topic",
    "clrm_val_tpl": "color_mode_value_template", "cmd_off_tpl": "command_off_template",
    "cmd_on_tpl": "command_on_template", "cmd_t": "command_topic", "cmd_tpl": "command_template",
    "cmps": "components", "cod_arm_req": "code_arm_required", "cod_dis_req": "code_disarm_required",
    "cod_trig_req": "code_trigger_required", "cont_type": "content_type",
    "curr_temp_t": "current_temperature_topic", "curr_temp_tpl": "current_temperature_template",
    "dev": "device", "dev_cla": "device_class", "dir_cmd_t": "direction_command_topic",
    "dir_cmd_tpl": "direction_command_template", "dir_stat_t": "direction_state_topic",
    "dir_val_tpl": "direction_value_template", "dsp_prc": "display_precision", "e": "encoding",
    "en": "enabled_by_default", "ent_cat": "entity_category", "ent_pic": "entity_picture",
    "evt_typ": "event_types", "exp_aft": "expire_after", "fanspd_lst": "fan_speed_list",
    "flsh_tlng": "flash_time_long", "flsh_tsht": "flash_time_short", "fx_cmd_t": "effect_command_topic",
    "fx_cmd_tpl": "effect_command_template", "fx_list": "effect_list", "fx_stat_t": "effect_state_topic",
    "fx_tpl": "effect_template", "fx_val_tpl": "effect_value_template", "fan_mode_cmd_t": "fan_mode_command_topic",
    "fan_mode_cmd_tpl": "fan_mode_command_template", "fan_mode_stat_t": "fan_mode_state_topic",
    "fan_mode_stat_tpl": "fan_mode_state_template", "frc_upd": "force_update", "g_tpl": "green_template",
    "hs_cmd_t": "hs_command_topic", "hs_cmd_tpl": "hs_command_template", "hs_stat_t": "hs_state_topic",
    "hs_val_tpl": "hs_value_template", "ic": "icon", "img_e": "image_encoding", "img_t": "image_topic",
    "init": "initial", "hum_cmd_t": "target_humidity_command_topic",
    "hum_cmd_tpl": "target_humidity_command_template", "hum_stat_t": "target_humidity_state_topic",
    "hum_state_tpl": "target_humidity_state_template", "json_attr": "json_attributes",
    "json_attr_t": "json_attributes_topic", "json_attr_tpl": "json_attributes_template",
    "l_ver_t": "latest_version_topic", "l_ver_tpl": "latest_version_template", "lrst_t": "last_reset_topic",
    "lrst_val_tpl": "last_reset_value_template", "max": "max", "max_hum": "max_humidity", "max_k": "max_kelvin",
    "max_mirs": "max_mireds", "max_temp": "max_temp", "migr_discvry": "migrate_discovery", "min": "min",
    "min_hum": "min_humidity", "min_k": "min_kelvin", "min_mirs": "min_mireds", "min_temp": "min_temp",
    "mode": "mode", "mode_cmd_t": "mode_command_topic", "mode_cmd_tpl": "mode_command_template",
    "mode_stat_t": "mode_state_topic", "mode_stat_tpl": "mode_state_template", "modes": "modes", "name": "name",
    "o": "origin", "obj_id": "object_id", "off_dly": "off_delay", "on_cmd_type": "on_command_type",
    "ops": "options", "opt": "optimistic", "osc_cmd_t": "oscillation_command_topic",
    "osc_cmd_tpl": "oscillation_command_template", "osc_stat_t": "oscillation_state_topic",
    "osc_val_tpl": "oscillation_value_template", "p": "platform", "pct_cmd_t": "percentage_command_topic",
    "pct_cmd_tpl": "percentage_command_template", "pct_stat_t": "percentage_state_topic",
    "pct_val_tpl": "percentage_value_template", "pl": "payload", "pl_arm_away": "payload_arm_away",
    "pl_arm_custom_b": "payload_arm_custom_bypass", "pl_arm_home": "payload_arm_home",
    "pl_arm_nite": "payload_arm_night", "pl_arm_vacation": "payload_arm_vacation",
    "pl_avail": "payload_available", "pl_cln_sp": "payload_clean_spot", "pl_cls": "payload_close",
    "pl_dir_fwd": "payload_direction_forward", "pl_dir_rev": "payload_direction_reverse",
    "pl_disarm": "payload_disarm", "pl_home": "payload_home", "pl_inst": "payload_install",
    "pl_loc": "payload_locate", "pl_lock": "payload_lock", "pl_not_avail": "payload_not_available",
    "pl_not_home": "payload_not_home", "pl_off": "payload_off", "pl_on": "payload_on", "pl_open": "payload_open",
    "pl_osc_off": "payload_oscillation_off", "pl_osc_on": "payload_oscillation_on", "pl_paus": "payload_pause",
    "pl_stop": "payload_stop", "pl_strt": "payload_start", "pl_prs": "payload_press",
    "pl_ret": "payload_return_to_base", "pl_rst": "payload_reset", "pl_rst_hum": "payload_reset_humidity",
    "pl_rst_mode": "payload_reset_mode", "pl_rst_pct": "payload_reset_percentage",
    "pl_rst_pr_mode": "payload_reset_preset_mode", "pl_stpa": "payload_start_pause",
    "pl_toff": "payload_turn_off", "pl_ton": "payload_turn_on", "pl_trig": "payload_trigger",
    "pl_unlk": "payload_unlock", "pos": "reports_position", "pos_clsd": "position_closed",
    "pos_open": "position_open", "pr_mode_cmd_t": "preset_mode_command_topic",
    "pr_mode_cmd_tpl": "preset_mode_command_template", "pr_mode_stat_t": "preset_mode_state_topic",
    "pr_mode_val_tpl": "preset_mode_value_template", "pr_modes": "preset_modes", "ptrn": "pattern",
    "r_tpl": "red_template", "rel_s": "release_summary", "rel_u": "release_url", "ret": "retain",
    "rgb_cmd_t": "rgb_command_topic", "rgb_cmd_tpl": "rgb_command_template", "rgb_stat_t": "rgb_state_topic",
    "rgb_val_tpl": "rgb_value_template", "rgbw_cmd_t": "rgbw_command_topic",
    "rgbw_cmd_tpl": "rgbw_command_template", "rgbw_stat_t": "rgbw_state_topic",
    "rgbw_val_tpl": "rgbw_value_template", "rgbww_cmd_t": "rgbww_command_topic",
    "rgbww_cmd_tpl": "rgbww_command_template", "rgbww_stat_t": "rgbww_state_topic",
    "rgbww_val_tpl": "rgbww_value_template", "send_cmd_t": "send_command_topic", "send_if_off": "send_if_off",
    "set_fan_spd_t": "set_fan_speed_topic", "set_pos_t": "set_position_topic",
    "set_pos_tpl": "set_position_template", "pos_t": "position_topic", "pos_tpl": "position_template",
    "spd_rng_min": "speed_range_min", "spd_rng_max": "speed_range_max", "src_type": "source_type",
    "stat_cla": "state_class", "stat_closing": "state_closing", "stat_clsd": "state_closed",
    "stat_jam": "state_jammed", "stat_locked": "state_locked", "stat_locking": "state_locking",
    "stat_off": "state_off", "stat_on": "state_on", "stat_open": "state_open", "stat_opening": "state_opening",
    "stat_stopped": "state_stopped", "stat_unlocked": "state_unlocked", "stat_unlocking": "state_unlocking",
    "stat_t": "state_topic", "stat_tpl": "state_template", "stat_val_tpl": "state_value_template",
    "step": "step", "stype": "subtype", "sug_dsp_prc": "suggested_display_precision",
    "sup_clrm": "supported_color_modes", "sup_dur": "support_duration", "sup_vol": "support_volume_set",
    "sup_feat": "supported_features", "swing_mode_cmd_t": "swing_mode_command_topic",
    "swing_mode_cmd_tpl": "swing_mode_command_template", "swing_mode_stat_t": "swing_mode_state_topic",
    "swing_mode_stat_tpl": "swing_mode_state_template", "t": "topic",
    "temp_cmd_t": "temperature_command_topic", "temp_cmd_tpl": "temperature_command_template",
    "temp_hi_cmd_t": "temperature_high_command_topic", "temp_hi_cmd_tpl": "temperature_high_command_template",
    "temp_hi_stat_t": "temperature_high_state_topic", "temp_hi_stat_tpl": "temperature_high_state_template",
    "temp_lo_cmd_t": "temperature_low_command_topic", "temp_lo_cmd_tpl": "temperature_low_command_template",
    "temp_lo_stat_t": "temperature_low_state_topic", "temp_lo_stat_tpl": "temperature_low_state_template",
    "temp_stat_t": "temperature_state_topic", "temp_stat_tpl": "temperature_state_template",
    "temp_unit": "temperature_unit", "tilt_clsd_val": "tilt_closed_value", "tilt_cmd_t": "tilt_command_topic",
    "tilt_cmd_tpl": "tilt_command_template", "tilt_max": "tilt_max", "tilt_min": "tilt_min",
    "tilt_opnd_val": "tilt_opened_value", "tilt_opt": "tilt_optimistic", "tilt_status_t": "tilt_status_topic",
    "tilt_status_tpl": "tilt_status_template", "tit": "title", "uniq_id": "unique_id",
    "unit_of_meas": "unit_of_measurement", "url_t": "url_topic", "url_tpl": "url_template",
    "val_tpl": "value_template", "whit_cmd_t": "white_command_topic", "whit_scl": "white_scale",
    "xy_cmd_t": "xy_command_topic", "xy_cmd_tpl": "xy_command_template", "xy_stat_t": "xy_state_topic",
    "xy_val_tpl": "xy_value_template",
}
# HA-MQTT "Supported abbreviations for device registry configuration"
DEVICE_ABBREVIATIONS = {"cu": "configuration_url", "cns": "connections", "ids": "identifiers", "name": "name",
                        "mf": "manufacturer", "mdl": "model", "mdl_id": "model_id", "hw": "hw_version",
                        "sw": "sw_version", "sa": "suggested_area", "sn": "serial_number"}
# HA-MQTT "Supported abbreviations for origin info"
ORIGIN_ABBREVIATIONS = {"name": "name", "sw": "sw_version", "url": "support_url"}
AVAILABILITY_KEYS = {"topic", "payload_available", "payload_not_available", "value_template"}

# HA-MQTT "Configuration of MQTT components via MQTT discovery" (and `device`
# for device-based discovery)
COMPONENTS = {"alarm_control_panel", "binary_sensor", "button", "camera", "climate", "cover", "device_automation",
              "device_tracker", "event", "fan", "humidifier", "image", "lawn_mower", "light", "lock", "notify",
              "number", "scene", "select", "sensor", "siren", "switch", "tag", "text", "update", "vacuum",
              "valve", "water_heater"}
# entity components need a unique_id (device_automation and tag are not entities)
NON_ENTITY = {"device_automation", "tag"}
# the option each component cannot do without (HA-MQTT, the page of each
# platform: sensor.mqtt, binary_sensor.mqtt, switch.mqtt, button.mqtt,
# number.mqtt, select.mqtt, text.mqtt)
REQUIRED = {"sensor": ("state_topic",), "binary_sensor": ("state_topic",), "switch": ("command_topic",),
            "button": ("command_topic",), "number": ("command_topic",), "select": ("command_topic", "options"),
            "text": ("command_topic",)}

ENERGY_UNITS = {"J", "kJ", "MJ", "GJ", "mWh", "Wh", "kWh", "MWh", "GWh", "TWh", "cal", "kcal", "Mcal", "Gcal"}
VOLUME_UNITS = {"L", "mL", "gal", "fl. oz.", "m³", "ft³", "CCF"}
SPEED_UNITS = {"ft/s", "in/d", "in/h", "in/s", "km/h", "kn", "m/s", "mph", "mm/d", "mm/s", "Beaufort", "mm/h"}
PRESSURE_UNITS = {"Pa", "kPa", "hPa", "bar", "cbar", "mbar", "mmHg", "inHg", "psi"}
# HA-SENSOR: units per device class (the sensor page's list, with the
# classes core's DEVICE_CLASS_UNITS has beyond it); None = no unit.
# "monetary" takes any ISO 4217 code (checked by shape).
SENSOR_UNITS = {
    "absolute_humidity": {"g/m³", "mg/m³"},
    "apparent_power": {"mVA", "VA", "kVA"},
    "aqi": {None},
    "area": {"m²", "cm²", "km²", "mm²", "in²", "ft²", "yd²", "mi²", "ac", "ha"},
    "atmospheric_pressure": PRESSURE_UNITS,
    "battery": {"%"},
    "blood_glucose_concentration": {"mg/dL", "mmol/L"},
    "carbon_dioxide": {"ppm"},
    "carbon_monoxide": {"ppm"},
    "conductivity": {"S/cm", "mS/cm", "µS/cm"},
    "current": {"A", "mA"},
    "data_rate": {"bit/s", "kbit/s", "Mbit/s", "Gbit/s", "B/s", "kB/s", "MB/s", "GB/s", "KiB/s", "MiB/s", "GiB/s"},
    "data_size": {"bit", "kbit", "Mbit", "Gbit", "B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB", "KiB", "MiB",
                  "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"},
    "date": {None},
    "distance": {"km", "m", "cm", "mm", "mi", "nmi", "yd", "in", "ft"},
    "duration": {"d", "h", "min", "s", "ms", "µs"},
    "energy": ENERGY_UNITS,
    "energy_distance": {"kWh/100km", "Wh/km", "mi/kWh", "km/kWh"},
    "energy_storage": ENERGY_UNITS,
    "enum": {None},
    "frequency": {"Hz", "kHz", "MHz", "GHz"},
    "gas": {"L", "m³", "ft³", "CCF"},
    "humidity": {"%"},
    "illuminance": {"lx"},
    "irradiance": {"W/m²", "BTU/(h⋅ft²)"},
    "moisture": {"%"},
    "monetary": None,
    "nitrogen_dioxide": {"µg/m³"},
    "nitrogen_monoxide": {"µg/m³"},
    "nitrous_oxide": {"µg/m³"},
    "ozone": {"µg/m³"},
    "ph": {None},
    "pm1": {"µg/m³"},
    "pm10": {"µg/m³"},
    "pm25": {"µg/m³"},
    "power_factor": {"%", None},
    "power": {"mW", "W", "kW", "MW", "GW", "TW"},
    "precipitation": {"cm", "in", "mm"},
    "precipitation_intensity": {"in/d", "in/h", "mm/d", "mm/h"},
    "pressure": PRESSURE_UNITS,
    "reactive_energy": {"varh", "kvarh"},
    "reactive_power": {"var", "kvar"},
    "signal_strength": {"dB", "dBm"},
    "sound_pressure": {"dB", "dBA"},
    "speed": SPEED_UNITS,
    "sulphur_dioxide": {"µg/m³"},
    "temperature": {"°C", "°F", "K"},
    "temperature_delta": {"°C", "°F", "K"},
    "timestamp": {None},
    "volatile_organic_compounds": {"µg/m³", "mg/m³"},
    "volatile_organic_compounds_parts": {"ppm", "ppb"},
    "voltage": {"V", "mV", "µV", "kV", "MV"},
    "volume": VOLUME_UNITS,
    "volume_flow_rate": {"m³/h", "m³/s", "ft³/min", "L/h", "L/min", "L/s", "gal/min", "mL/s"},
    "volume_storage": VOLUME_UNITS,
    "water": {"L", "gal", "m³", "ft³", "CCF"},
    "weight": {"kg", "g", "mg", "µg", "oz", "lb", "st"},
    "wind_direction": {"°"},
    "wind_speed": {"Beaufort", "ft/s", "km/h", "kn", "m/s", "mph"},
}
STATE_CLASSES = {"measurement", "total", "total_increasing", "measurement_angle"}
_ALL_SC = {"measurement", "total", "total_increasing"}
_M = {"measurement"}
_TOTALS = {"total", "total_increasing"}
# HA-SENSOR: core's DEVICE_CLASS_STATE_CLASSES (a class missing here takes
# measurement); absolute_humidity is newer than the core version read and is
# assumed to take measurement like humidity
SENSOR_STATE_CLASSES = {
    "area": _ALL_SC, "data_size": _ALL_SC, "date": set(), "distance": _ALL_SC, "duration": _ALL_SC,
    "energy": _TOTALS, "enum": set(), "gas": _TOTALS, "monetary": {"total"}, "precipitation": _ALL_SC,
    "reactive_energy": _TOTALS, "timestamp": set(), "volume": _TOTALS, "water": _TOTALS, "weight": _ALL_SC,
    "wind_direction": {"measurement_angle"},
}
NON_NUMERIC = {"date", "enum", "timestamp"}
# HA-BINARY
BINARY_CLASSES = {"battery", "battery_charging", "carbon_monoxide", "cold", "connectivity", "door", "garage_door",
                  "gas", "heat", "light", "lock", "moisture", "motion", "moving", "occupancy", "opening", "plug",
                  "power", "presence", "problem", "running", "safety", "smoke", "sound", "tamper", "update",
                  "vibration", "window"}
# https://www.home-assistant.io/integrations/switch/#device-class and
# https://www.home-assistant.io/integrations/button/#device-class
SWITCH_CLASSES = {"outlet", "switch"}
BUTTON_CLASSES = {"identify", "restart", "update"}
# https://www.home-assistant.io/integrations/number/#device-class: the
# numeric sensor classes
NUMBER_CLASSES = set(SENSOR_UNITS) - NON_NUMERIC

# DOMOTICZ: allowed_components (no device-based discovery)
DOMOTICZ_COMPONENTS = {"binary_sensor", "button", "climate", "cover", "light", "lock", "number", "select",
                       "sensor", "switch", "fan", "text"}
DOMOTICZ_SKIP_EXACT = {"update_available", "power_on_behavior", "power_outage_memory", "update_state",
                       "over-load_status", "linkquality", "last_seen", "sensitivity", "color_temp_startup",
                       "requested_brightness_level", "requested_brightness_percent", "hardware_status",
                       "connection_state", "log_level", "restart"}
DOMOTICZ_SKIP_CONTAINS = ("_address", "_ssid", "_signal_sensor")

ID_RE = re.compile(r"^[a-zA-Z0-9_-]+$")

RULES = {
    "topic-shape": ("<prefix>/<component>/[<node_id>/]<object_id>/config, ids of [a-zA-Z0-9_-]", "HA-MQTT"),
    "component": ("the component is one MQTT discovery supports", "HA-MQTT"),
    "payload-json": ("the payload is a JSON object", "HA-MQTT"),
    "abbreviation-clash": ("a key given both abbreviated and in full", "HA-MQTT"),
    "device-discovery": ("device-based config: device and origin at the root, components each with a platform, "
                         "not overriding device or origin", "HA-MQTT"),
    "unique-id": ("entities have a unique_id, unique across every config", "HA-MQTT"),
    "required": ("sensor and binary_sensor need state_topic; switch, button, number, select, text need "
                 "command_topic; select needs options", "HA-MQTT"),
    "device": ("a device with identifiers (a non-empty list of strings) and a name", "HA-MQTT, MQTT-PAGE"),
    "device-consistent": ("configs naming one device identifier give it one name and via_device", "HA-MQTT"),
    "via-device": ("via_device names an identifier another config's device has", "HA-MQTT"),
    "origin": ("origin, when given (required for device discovery), is an object with a name", "HA-MQTT"),
    "device-class": ("device_class is one the component knows", "HA-SENSOR, HA-BINARY"),
    "unit": ("unit_of_measurement is one HA allows for the device_class (battery: %)", "HA-SENSOR"),
    "state-class": ("state_class is measurement, total or total_increasing, allowed for the device class "
                    "(energy: total / total_increasing only; measurement_angle only for wind_direction)",
                    "HA-SENSOR"),
    "energy-state-class": ("an energy sensor has state_class total or total_increasing", "HA-ENERGY"),
    "non-numeric": ("timestamp, date and enum sensors have no unit and no state_class; options only with enum",
                    "HA-MQTT-SENSOR"),
    "last-reset": ("last_reset_value_template only with state_class total", "HA-MQTT-SENSOR"),
    "binary-sensor": ("a binary_sensor has no unit_of_measurement or state_class", "HA-BINARY"),
    "entity-category": ("entity_category is config or diagnostic; sensors and binary sensors never config",
                        "HA-ENTITY"),
    "types": ("enabled_by_default, optimistic, retain, force_update are JSON booleans; qos 0-2; "
              "suggested_display_precision, expire_after, off_delay whole numbers >= 0", "HA-MQTT, DOMOTICZ"),
    "availability": ("availability is a list of {topic, payload_available, payload_not_available, "
                     "value_template}, not together with availability_topic; availability_mode all|any|latest",
                     "HA-MQTT"),
    "availability-mode": ("several availability topics come with availability_mode all or any (latest lets "
                          "whichever spoke last decide)", "HA-MQTT, MQTT-PAGE"),
    "topic": ("state, command, availability and attribute topics are non-empty, without + or #", "HA-MQTT"),
    "topic-exists": ("state, availability and json_attributes topics are among the known topics", "HA-MQTT"),
    "template": ("templates have balanced {{ }} / {% %}, brackets and quotes, and read the payload "
                 "(value_json when the state is JSON or shared)", "HA-MQTT"),
    "template-key": ("value_json.<path> exists in the retained state", "HA-MQTT-SENSOR"),
    "state-value": ("the rendered state is one the entity accepts (a number for numeric sensors, payload_on/off, "
                    "state_on/off, an ISO 8601 time with zone, an option)", "HA-MQTT-SENSOR, HA-BINARY"),
    "availability-payload": ("the retained availability payload is payload_available or payload_not_available",
                             "HA-MQTT"),
    "json-attributes": ("the json_attributes_topic holds a JSON object", "HA-MQTT-SENSOR"),
    "name": ("name is a string or null (null: the device's main entity, one per device); no two entities of a "
             "device share a name; a name is given (only sensor, binary_sensor, button and number fall back to "
             "their device_class; others get 'MQTT Switch' ...)", "HA-MQTT"),
    "name-repeats-device": ("the entity name does not start with the device's name (has_entity_name: HA shows "
                            "device name + entity name)", "HA-NAMING, HA-ENTITY"),
    "object-id": ("no object_id option (deprecated in HA 2025.10, ignored from 2026.4; default_entity_id "
                  "is <component>.<id>)", "HA-MQTT"),
    "number": ("number: min < max, step > 0, mode auto|box|slider", "HA-MQTT"),
    "select": ("select: options a non-empty list of distinct strings", "HA-MQTT"),
    "switch": ("a switch with a state_topic is not optimistic", "HA-MQTT"),
    "domoticz-component": ("Domoticz reads the component (not device-based discovery)", "DOMOTICZ"),
    "domoticz-object-id": ("the object id is not one Domoticz skips (sensor: *_min, *_max, min_*, max_*, "
                           "*_alarm*, *_calibration*, *_sensitivity*; any: restart, last_seen, *_address ...)",
                           "DOMOTICZ"),
    "domoticz-template": ("value_template reduces to value_json.<path> after Domoticz strips filters",
                          "DOMOTICZ"),
    "domoticz-keys": ("keys Domoticz reads only in full: enabled_by_default, availability entries' topic",
                      "DOMOTICZ"),
}
SOURCES = {
    "HA-MQTT": "https://www.home-assistant.io/integrations/mqtt/",
    "HA-SENSOR": "https://www.home-assistant.io/integrations/sensor/#device-class "
                 "(https://github.com/home-assistant/core/blob/dev/homeassistant/components/sensor/const.py)",
    "HA-MQTT-SENSOR": "https://www.home-assistant.io/integrations/sensor.mqtt/ "
                      "(https://github.com/home-assistant/core/blob/dev/homeassistant/components/mqtt/sensor.py)",
    "HA-BINARY": "https://www.home-assistant.io/integrations/binary_sensor/#device-class",
    "HA-ENTITY": "https://developers.home-assistant.io/docs/core/entity/",
    "HA-NAMING": "https://github.com/home-assistant/core/blob/dev/tests/components/mqtt/test_mixins.py, core PR #107188",
    "HA-ENERGY": "https://www.home-assistant.io/docs/energy/faq/",
    "DOMOTICZ": "domoticz/domoticz hardware/MQTTAutoDiscover.cpp",
    "MQTT-PAGE": "conf/bmsgw-mqtt.7, HOME ASSISTANT DISCOVERY",
}


class Problem(str):
    """One finding: str(p) is "TOPIC: [rule] detail"."""

    def __new__(cls, topic, rule, detail):
        assert rule in RULES, rule
        p = str.__new__(cls, "%s: [%s] %s" % (topic, rule, detail))
        p.topic, p.rule, p.detail = topic, rule, detail
        return p


# ---------------------------------------------------------------- helpers

def _payload(v):
    if hasattr(v, "payload"):
        v = v.payload
    if isinstance(v, (bytes, bytearray)):
        v = bytes(v).decode("utf-8", "replace")
    return v


def _expand(d, table, problems, where):
    """Abbreviated keys written in full (HA-MQTT).  HA renames keys in the
    payload's order, so of a key given both ways the later one wins; that
    is reported."""
    out = {}
    for k, v in d.items():
        full = table.get(k, k)
        if full in out:
            problems(where, "abbreviation-clash", "%s given both abbreviated and in full" % full)
        out[full] = v
    return out


def _base_topic(c):
    """HA-MQTT: `~` at the start or end of a *_topic value (and of an
    availability entry's topic) is the base topic."""
    base = c.get("~")
    if not isinstance(base, str):
        return
    for k, v in list(c.items()):
        if k.endswith("_topic") and isinstance(v, str):
            if v.startswith("~"):
                c[k] = base + v[1:]
            elif v.endswith("~"):
                c[k] = v[:-1] + base
    for a in c.get("availability") or []:
        if isinstance(a, dict) and isinstance(a.get("topic"), str):
            t = a["topic"]
            a["topic"] = base + t[1:] if t.startswith("~") else (t[:-1] + base if t.endswith("~") else t)


_EXPR = re.compile(r"\{\{(.*?)\}\}|\{%(.*?)%\}", re.S)
_SIMPLE = re.compile(r"^\{\{\s*value_json((?:\s*\.\s*[A-Za-z_]\w*|\[\s*\d+\s*\]|\[\s*'[^']*'\s*\]|\[\s*\"[^\"]*\"\s*\])+)"
                     r"\s*\}\}$")
_STEP = re.compile(r"\.\s*([A-Za-z_]\w*)|\[\s*(\d+)\s*\]|\[\s*'([^']*)'\s*\]|\[\s*\"([^\"]*)\"\s*\]")


def template_problem(tpl):
    """Why a Jinja template is not plausible, or None: every {{ has its }},
    every {% its %}, nothing nested, brackets and quotes balanced inside."""
    if not isinstance(tpl, str) or not tpl.strip():
        return "not a non-empty string"
    rest = _EXPR.sub("", tpl)
    for tok in ("{{", "}}", "{%", "%}"):
        if tok in rest:
            return "unbalanced %s" % tok
    for m in _EXPR.finditer(tpl):
        body = m.group(1) if m.group(1) is not None else m.group(2)
        if "{{" in body or "{%" in body:
            return "nested delimiters"
        stack, quote = [], None
        for ch in body:
            if quote:
                if ch == quote:
                    quote = None
            elif ch in "'\"":
                quote = ch
            elif ch in "([":
                stack.append(ch)
            elif ch in ")]":
                if not stack or stack.pop() != {")": "(", "]": "["}[ch]:
                    return "unbalanced %s" % ch
        if quote:
            return "unclosed quote"
        if stack:
            return "unclosed %s" % stack[-1]
    if not _EXPR.search(tpl):
        return "no {{ }} or {% %}"
    return None


def template_path(tpl):
    """The key path of a plain `{{ value_json.a.b[0] }}` template, else None."""
    m = _SIMPLE.match(tpl.strip()) if isinstance(tpl, str) else None
    if not m:
        return None
    path = []
    for s in _STEP.finditer(m.group(1)):
        name, idx, q1, q2 = s.groups()
        path.append(int(idx) if idx is not None else (name if name is not None else (q1 if q1 is not None else q2)))
    return path


_MISSING = object()


def _lookup(value, path):
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return _MISSING
            value = value[step]
        else:
            if not isinstance(value, dict) or step not in value:
                return _MISSING
            value = value[step]
    return value


def render(value):
    """What Jinja (Python's str) makes of a JSON value in {{ }}."""
    return str(value)


def domoticz_template(tpl):
    """What Domoticz's CleanValueTemplate leaves of a template (braces and
    quotes removed, cut at '|', '.split(' and 'if value_json.')."""
    s = tpl
    for ch in "{}'\"":
        s = s.replace(ch, "")
    for cut in ("|", ".split(", "if value_json."):
        s = s.split(cut, 1)[0]
    return s.strip()


# what GetValueFromTemplate resolves: value_json.a.b[0] or value_json["a"]["b"]
_DOMOTICZ_OK = re.compile(r"^value_json(?:(?:\.[A-Za-z_]\w*(?:\[\d+\])?)+|(?:\[[^\]]+\])+(?:\.\w+)?)$")


def _is_number(s):
    try:
        return math.isfinite(float(s))
    except (TypeError, ValueError):
        return False


def _is_bool(v):
    return isinstance(v, bool)


def _is_count(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


# ---------------------------------------------------------------- the check

def check(configs, known_topics=None, *, states=None, prefix="homeassistant", domoticz=True,
          require_device=True, require_origin=False):
    """Every problem of these discovery configs, as a list of Problem (empty:
    all good).  See the module's docstring for the arguments."""
    problems = []

    def bad(where, rule, detail):
        problems.append(Problem(where, rule, detail))

    if isinstance(known_topics, dict) and states is None:
        states = known_topics
    known = set(known_topics) if known_topics is not None else None
    states = {t: _payload(v) for t, v in (states or {}).items()}

    entities = []   # (label, component, object_id, config)
    for topic, raw in configs.items():
        payload = _payload(raw)
        if payload is None or payload == "" or payload == {}:
            continue  # a deleted config
        rest = topic[len(prefix) + 1:] if topic.startswith(prefix + "/") else None
        parts = rest.split("/") if rest is not None else []
        if rest is None or len(parts) not in (3, 4) or parts[-1] != "config":
            bad(topic, "topic-shape", "not %s/<component>/[<node_id>/]<object_id>/config" % prefix)
            continue
        comp, obj = parts[0], parts[-2]
        for part in parts[1:-1]:
            if not ID_RE.match(part):
                bad(topic, "topic-shape", "id %r has characters outside [a-zA-Z0-9_-]" % part)
        if comp != "device" and comp not in COMPONENTS:
            bad(topic, "component", "unknown component %r" % comp)
            continue
        if isinstance(payload, dict):
            c = payload
        else:
            try:
                c = json.loads(payload)
            except ValueError as e:
                bad(topic, "payload-json", "not JSON (%s)" % e)
                continue
        if not isinstance(c, dict):
            bad(topic, "payload-json", "not a JSON object")
            continue
        if domoticz:
            _domoticz_keys(c, topic, bad)
        c = _expand(c, ABBREVIATIONS, bad, topic)
        if comp == "device":
            if domoticz:
                bad(topic, "domoticz-component", "Domoticz does not read device-based discovery")
            entities += _device_components(topic, c, bad)
        else:
            entities.append((topic, comp, obj, c))

    # expand the nested mappings, collect the devices
    devices = {}    # identifier -> [(label, device)]
    for label, comp, obj, c in entities:
        for key, table in (("device", DEVICE_ABBREVIATIONS), ("origin", ORIGIN_ABBREVIATIONS)):
            if isinstance(c.get(key), dict):
                c[key] = _expand(c[key], table, bad, label)
        if isinstance(c.get("availability"), list):
            c["availability"] = [_expand(a, ABBREVIATIONS, bad, label) if isinstance(a, dict) else a
                                 for a in c["availability"]]
        _base_topic(c)
        dev = c.get("device")
        if isinstance(dev, dict) and isinstance(dev.get("identifiers"), list):
            for i in dev["identifiers"]:
                if isinstance(i, str):
                    devices.setdefault(i, []).append((label, dev))

    # the state topics several entities share carry structured (JSON) states
    sharing = {}
    for label, comp, obj, c in entities:
        if isinstance(c.get("state_topic"), str):
            sharing[c["state_topic"]] = sharing.get(c["state_topic"], 0) + 1

    ids = {}
    names = {}      # (device identifier, name) -> label
    null_names = {}
    for label, comp, obj, c in entities:
        _entity(label, comp, obj, c, bad, ids, names, null_names, devices, known, states, sharing,
                domoticz, require_device, require_origin)

    # one device, one description
    for ident, uses in devices.items():
        seen = {(d.get("name"), d.get("via_device")) for _, d in uses if "name" in d}
        if len(seen) > 1:
            bad(uses[0][0], "device-consistent", "device %s is described as %s" % (ident, sorted(map(str, seen))))
    return problems


def _domoticz_keys(c, topic, bad):
    """DOMOTICZ reads "enabled_by_default" and an availability entry's
    "topic" only in full (root["enabled_by_default"], ittAvail["topic"]);
    `c` is the payload as sent, before abbreviations are expanded."""
    if "en" in c and "enabled_by_default" not in c:
        bad(topic, "domoticz-keys", "Domoticz reads enabled_by_default only in full, not en")
    av = c.get("availability", c.get("avty"))
    for a in av if isinstance(av, list) else []:
        if isinstance(a, dict) and "t" in a and "topic" not in a:
            bad(topic, "domoticz-keys", "Domoticz reads an availability entry's topic only in full, not t")


def _device_components(topic, c, bad):
    """HA-MQTT "Device discovery payload": shared options at the root, one
    config per key of components (cmps)."""
    out = []
    if not isinstance(c.get("device"), dict):
        bad(topic, "device-discovery", "no device mapping at the root")
    if not isinstance(c.get("origin"), dict):
        bad(topic, "device-discovery", "no origin mapping at the root")
    cmps = c.get("components")
    if not isinstance(cmps, dict) or not cmps:
        bad(topic, "device-discovery", "no components mapping")
        return out
    shared = {k: v for k, v in c.items() if k in ("availability", "availability_topic", "availability_mode",
                                                  "availability_template", "payload_available",
                                                  "payload_not_available", "origin", "device", "command_topic",
                                                  "state_topic", "qos", "encoding", "~")}
    for key, cmp in cmps.items():
        label = "%s#%s" % (topic, key)
        if not ID_RE.match(str(key)):
            bad(label, "topic-shape", "component id %r has characters outside [a-zA-Z0-9_-]" % key)
        if not isinstance(cmp, dict):
            bad(label, "payload-json", "component config is not a JSON object")
            continue
        cmp = _expand(cmp, ABBREVIATIONS, bad, label)
        platform = cmp.get("platform")
        if platform not in COMPONENTS:
            bad(label, "device-discovery", "platform %r is not an MQTT component" % platform)
            continue
        if len(cmp) == 1:
            continue  # {"p": ...} alone removes the component
        for k in ("device", "origin"):
            if k in cmp:
                bad(label, "device-discovery", "a component cannot override %s" % k)
        merged = dict(shared)
        merged.update({k: v for k, v in cmp.items() if k not in ("device", "origin", "platform")})
        merged["device"], merged["origin"] = c.get("device"), c.get("origin")
        out.append((label, platform, str(key), merged))
    return out


def _entity(label, comp, obj, c, bad, ids, names, null_names, devices, known, states, sharing, domoticz,
            require_device, require_origin):
    # -- identity
    uid = c.get("unique_id")
    if comp not in NON_ENTITY:
        if not isinstance(uid, str) or not uid:
            bad(label, "unique-id", "no unique_id (HA drops such an entity at the next start)")
        elif uid in ids:
            bad(label, "unique-id", "unique_id %r also used by %s" % (uid, ids[uid]))
        else:
            ids[uid] = label
    for k in REQUIRED.get(comp, ()):
        if c.get(k) in (None, "", []):
            bad(label, "required", "a %s needs %s" % (comp, k))
    if "object_id" in c:
        bad(label, "object-id", "object_id is deprecated (HA 2025.10) for default_entity_id")
    dei = c.get("default_entity_id")
    if dei is not None and (not isinstance(dei, str) or not re.match(r"^%s\.[a-z0-9_]+$" % comp, dei)):
        bad(label, "object-id", "default_entity_id %r is not %s.<lowercase id>" % (dei, comp))

    # -- device and origin
    dev = c.get("device")
    dev_name, dev_ids = None, []
    if dev is None:
        if require_device and comp not in NON_ENTITY:
            bad(label, "device", "no device (every entity of bmsgw belongs to one)")
    elif not isinstance(dev, dict):
        bad(label, "device", "device is not an object")
    else:
        idl = dev.get("identifiers")
        if not isinstance(idl, list) or not idl or not all(isinstance(i, str) and i for i in idl):
            bad(label, "device", "device.identifiers is not a non-empty list of strings")
        else:
            dev_ids = idl
        dev_name = dev.get("name")
        if not isinstance(dev_name, str) or not dev_name.strip():
            bad(label, "device", "device without a name")
            dev_name = None
        via = dev.get("via_device")
        if via is not None:
            others = [i for i in devices if i not in dev_ids]
            if via not in others:
                bad(label, "via-device", "via_device %r names no other device" % via)
    o = c.get("origin")
    if o is None:
        if require_origin:
            bad(label, "origin", "no origin")
    elif not isinstance(o, dict) or not isinstance(o.get("name"), str) or not o["name"]:
        bad(label, "origin", "origin needs a name")

    # -- classes, units, state classes
    dc, unit, sc = c.get("device_class"), c.get("unit_of_measurement"), c.get("state_class")
    if unit is not None and isinstance(unit, str) and not unit.strip():
        unit = None  # HA-MQTT-SENSOR drops a blank unit
    if comp == "sensor":
        _sensor(label, c, dc, unit, sc, bad)
    elif comp == "binary_sensor":
        if dc is not None and dc not in BINARY_CLASSES:
            bad(label, "device-class", "binary_sensor device_class %r unknown" % dc)
        if unit is not None or sc is not None:
            bad(label, "binary-sensor", "a binary_sensor has no unit_of_measurement or state_class")
    elif comp == "switch":
        if dc is not None and dc not in SWITCH_CLASSES:
            bad(label, "device-class", "switch device_class %r unknown" % dc)
        if c.get("state_topic") and c.get("optimistic") is True:
            bad(label, "switch", "optimistic although it has a state_topic")
    elif comp == "button":
        if dc is not None and dc not in BUTTON_CLASSES:
            bad(label, "device-class", "button device_class %r unknown" % dc)
    elif comp == "number":
        _number(label, c, dc, unit, bad)
    elif comp == "select":
        ops = c.get("options")
        if ops is not None and (not isinstance(ops, list) or not ops or not all(isinstance(x, str) for x in ops)
                                or len(set(ops)) != len(ops)):
            bad(label, "select", "options %r: a non-empty list of distinct strings" % (ops,))

    ec = c.get("entity_category")
    if ec is not None and ec not in ("config", "diagnostic"):
        bad(label, "entity-category", "entity_category %r: config or diagnostic" % ec)
    elif ec == "config" and comp in ("sensor", "binary_sensor"):
        bad(label, "entity-category", "a %s cannot be a config entity" % comp)

    # -- types (JSON booleans: HA coerces strings, Domoticz's asBool throws)
    for k in ("enabled_by_default", "optimistic", "retain", "force_update"):
        if k in c and not _is_bool(c[k]):
            bad(label, "types", "%s %r is not a JSON boolean" % (k, c[k]))
    if "qos" in c and c["qos"] not in (0, 1, 2):
        bad(label, "types", "qos %r" % c["qos"])
    for k in ("suggested_display_precision", "expire_after", "off_delay"):
        if k in c and not _is_count(c[k]):
            bad(label, "types", "%s %r is not a whole number >= 0" % (k, c[k]))

    # -- topics
    for k, v in c.items():
        if k.endswith("_topic") and v is not None and (not isinstance(v, str) or not v or "+" in v or "#" in v):
            bad(label, "topic", "%s %r" % (k, v))

    # -- availability
    av, avt = c.get("availability"), c.get("availability_topic")
    av_entries = []
    if av is not None and avt is not None:
        bad(label, "availability", "availability together with availability_topic")
    if av is not None:
        if (not isinstance(av, list) or not av
                or not all(isinstance(a, dict) and isinstance(a.get("topic"), str) and a["topic"] for a in av)):
            bad(label, "availability", "availability is not a list of {topic, ...}")
        else:
            for a in av:
                extra = set(a) - AVAILABILITY_KEYS
                if extra:
                    bad(label, "availability", "unknown keys %s in an availability entry" % sorted(extra))
                av_entries.append((a["topic"], a.get("payload_available", "online"),
                                   a.get("payload_not_available", "offline"), a.get("value_template")))
    if isinstance(avt, str):
        av_entries.append((avt, c.get("payload_available", "online"), c.get("payload_not_available", "offline"),
                           c.get("availability_template")))
    mode = c.get("availability_mode")
    if mode is not None and mode not in ("all", "any", "latest"):
        bad(label, "availability", "availability_mode %r: all, any or latest" % mode)
    elif len(av_entries) > 1 and mode in (None, "latest"):
        bad(label, "availability-mode", "%d availability topics with availability_mode %s" %
            (len(av_entries), mode or "unset (latest)"))
    for t, on, off, tpl in av_entries:
        if known is not None and t not in known:
            bad(label, "topic-exists", "availability topic %s does not exist" % t)
        if tpl is not None and template_problem(tpl):
            bad(label, "template", "availability value_template: %s" % template_problem(tpl))
        if t in states and tpl is None:
            p = states[t]
            if p not in (on, off):
                bad(label, "availability-payload", "%s holds %r, neither %r nor %r" % (t, p, on, off))
    for k in ("state_topic", "json_attributes_topic"):
        if known is not None and isinstance(c.get(k), str) and c[k] not in known:
            bad(label, "topic-exists", "%s %s does not exist" % (k, c[k]))
    jat = c.get("json_attributes_topic")
    if isinstance(jat, str) and jat in states and c.get("json_attributes_template") is None:
        try:
            ok = isinstance(json.loads(states[jat]), dict)
        except ValueError:
            ok = False
        if not ok:
            bad(label, "json-attributes", "%s does not hold a JSON object" % jat)

    # -- templates and the real state
    _templates(label, comp, c, bad, states, sharing, domoticz)

    # -- names
    name = c.get("name", _MISSING)
    if name is _MISSING:
        # HA-MQTT: unnamed binary_sensor, button, number and sensor entities
        # are named by their device class, any other gets a default name
        if comp not in NON_ENTITY and (dc is None or comp not in ("sensor", "binary_sensor", "button", "number")):
            bad(label, "name", "no name%s: HA gives it a default name such as 'MQTT %s'" %
                ("" if comp not in ("sensor", "binary_sensor", "button", "number") else " and no device_class",
                 comp.replace("_", " ").title()))
    elif name is not None and (not isinstance(name, str) or not name.strip()):
        bad(label, "name", "name %r is not a non-empty string or null" % (name,))
    elif dev_ids:
        key = dev_ids[0]
        if name is None:
            if key in null_names:
                bad(label, "name", "a second entity with name null on device %s (also %s)" % (key, null_names[key]))
            null_names[key] = label
        else:
            if (key, name.lower()) in names:
                bad(label, "name", "device %s already has an entity named %r (%s)" %
                    (key, name, names[(key, name.lower())]))
            names[(key, name.lower())] = label
            if dev_name:
                n, d = name.strip().lower(), dev_name.strip().lower()
                if n == d or (n.startswith(d) and not n[len(d)].isalnum()):
                    bad(label, "name-repeats-device", "name %r repeats the device name %r" % (name, dev_name))

    # -- Domoticz
    if domoticz:
        o = obj.lower()
        if comp not in DOMOTICZ_COMPONENTS:
            bad(label, "domoticz-component", "Domoticz ignores %s" % comp)
        elif o in DOMOTICZ_SKIP_EXACT or any(s in o for s in DOMOTICZ_SKIP_CONTAINS) or (
                comp == "sensor" and (o.endswith(("_min", "_max")) or o.startswith(("min_", "max_"))
                                      or "_sensitivity" in o or "_alarm" in o or "_calibration" in o)):
            bad(label, "domoticz-object-id", "Domoticz skips object id %r" % obj)


def _sensor(label, c, dc, unit, sc, bad):
    if dc is not None and dc not in SENSOR_UNITS:
        bad(label, "device-class", "sensor device_class %r unknown" % dc)
        dc = None
    if sc is not None and sc not in STATE_CLASSES:
        bad(label, "state-class", "state_class %r unknown" % sc)
        sc = None
    if dc in NON_NUMERIC:
        if unit is not None or sc is not None:
            bad(label, "non-numeric", "a %s sensor has no unit_of_measurement or state_class" % dc)
    elif dc is not None:
        allowed = SENSOR_UNITS[dc]
        if allowed is None:  # monetary: an ISO 4217 code
            if not (isinstance(unit, str) and re.match(r"^[A-Z]{3}$", unit)):
                bad(label, "unit", "unit %r is not an ISO 4217 currency for monetary" % (unit,))
        elif unit not in allowed:
            bad(label, "unit", "unit %r not allowed for device_class %s (allowed: %s)" %
                (unit, dc, ", ".join(sorted(str(u) for u in allowed))))
        if sc is not None and sc not in SENSOR_STATE_CLASSES.get(dc, _M):
            bad(label, "state-class", "state_class %s not allowed for device_class %s" % (sc, dc))
        if dc == "energy" and sc is None:
            bad(label, "energy-state-class", "an energy sensor without state_class total / total_increasing")
    if sc == "measurement_angle" and dc != "wind_direction":
        bad(label, "state-class", "measurement_angle is only for wind_direction")
    ops = c.get("options")
    if ops is not None:
        if not isinstance(ops, list) or not ops:
            bad(label, "non-numeric", "options must be a non-empty list")
        if sc is not None or unit is not None or dc != "enum":
            bad(label, "non-numeric", "options only with device_class enum, without unit or state_class")
    if "last_reset_value_template" in c and sc != "total":
        bad(label, "last-reset", "last_reset_value_template with state_class %s" % sc)


def _number(label, c, dc, unit, bad):
    if dc is not None:
        if dc not in NUMBER_CLASSES:
            bad(label, "device-class", "number device_class %r unknown" % dc)
        elif SENSOR_UNITS[dc] is not None and unit not in SENSOR_UNITS[dc]:
            bad(label, "unit", "unit %r not allowed for device_class %s" % (unit, dc))
    lo, hi, step = c.get("min", 1), c.get("max", 100), c.get("step", 1)
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (lo, hi, step)):
        bad(label, "number", "min, max, step must be numbers")
    else:
        if lo >= hi:
            bad(label, "number", "min %r is not below max %r" % (lo, hi))
        if step < 0.001:
            bad(label, "number", "step %r is below 0.001" % step)
    if c.get("mode", "auto") not in ("auto", "box", "slider"):
        bad(label, "number", "mode %r: auto, box or slider" % c.get("mode"))


def _templates(label, comp, c, bad, states, sharing, domoticz):
    tpl = c.get("value_template")
    st = c.get("state_topic")
    state = states.get(st) if isinstance(st, str) else None
    parsed = _MISSING
    if state is not None:
        try:
            parsed = json.loads(state)
        except ValueError:
            parsed = _MISSING
    structured = isinstance(parsed, (dict, list)) or (isinstance(st, str) and sharing.get(st, 0) > 1)
    for k in ("value_template", "json_attributes_template", "command_template", "last_reset_value_template"):
        if k in c:
            why = template_problem(c[k])
            if why:
                bad(label, "template", "%s %r: %s" % (k, c[k], why))
            elif k != "command_template" and not re.search(r"\bvalue(_json)?\b", c[k]):
                bad(label, "template", "%s %r does not read the payload" % (k, c[k]))
    if tpl is None:
        if structured and comp in ("sensor", "binary_sensor", "switch", "number", "select", "text"):
            bad(label, "template", "the state on %s is JSON%s but there is no value_template" %
                (st, "" if isinstance(parsed, (dict, list)) else " (shared by %d entities)" % sharing[st]))
    elif isinstance(tpl, str) and not template_problem(tpl):
        if structured and "value_json" not in tpl:
            bad(label, "template", "value_template %r does not read value_json although the state is JSON" % tpl)
        if domoticz and "value_json" in tpl and not _DOMOTICZ_OK.match(domoticz_template(tpl)):
            bad(label, "domoticz-template", "Domoticz reduces %r to %r" % (tpl, domoticz_template(tpl)))

    # the value this entity would show now
    if state is None:
        return
    if tpl is None:
        rendered = state
    else:
        path = template_path(tpl)
        if path is None or parsed is _MISSING:
            if path is not None:
                bad(label, "template-key", "%s is not JSON, value_json is undefined" % st)
            return  # not a template this checker evaluates
        value = _lookup(parsed, path)
        if value is _MISSING:
            bad(label, "template-key", "%s: value_json%s is not in the state" %
                (tpl, "".join(".%s" % p if isinstance(p, str) else "[%d]" % p for p in path)))
            return
        rendered = render(value)
    if rendered == "None":
        return  # HA-MQTT-SENSOR: "None" is unknown
    dc, unit, sc = c.get("device_class"), c.get("unit_of_measurement"), c.get("state_class")
    if comp == "sensor":
        if dc == "timestamp":
            try:
                ok = datetime.datetime.fromisoformat(rendered).tzinfo is not None
            except ValueError:
                ok = False
            if not ok:
                bad(label, "state-value", "%r is not an ISO 8601 time with a zone" % rendered)
        elif dc == "date":
            try:
                datetime.date.fromisoformat(rendered)
            except ValueError:
                bad(label, "state-value", "%r is not an ISO 8601 date" % rendered)
        elif dc == "enum" or c.get("options") is not None:
            if rendered not in (c.get("options") or []):
                bad(label, "state-value", "%r is not one of the options" % rendered)
        elif (dc is not None or unit is not None or sc is not None) and not _is_number(rendered):
            bad(label, "state-value", "%r is not a number, as a numeric sensor needs" % rendered[:60])
        elif len(rendered) > 255:
            bad(label, "state-value", "a state of %d characters (HA's limit is 255)" % len(rendered))
    elif comp == "binary_sensor":
        on, off = c.get("payload_on", "ON"), c.get("payload_off", "OFF")
        if rendered not in (on, off):
            bad(label, "state-value", "%r is neither payload_on %r nor payload_off %r" % (rendered, on, off))
    elif comp == "switch":
        on = c.get("state_on", c.get("payload_on", "ON"))
        off = c.get("state_off", c.get("payload_off", "OFF"))
        if rendered not in (on, off):
            bad(label, "state-value", "%r is neither state_on %r nor state_off %r" % (rendered, on, off))


# ---------------------------------------------------------------- command line

def main(argv):
    """ha_discovery.py [--prefix P] [--no-domoticz] [--rules] [FILE]

    Reads "TOPIC PAYLOAD" lines (bmsgw --mqtt-dump, or mosquitto_sub -v
    output); lines under the prefix ending in /config are the configs,
    any others are state topics with their payloads (when there is at
    least one, topics are checked against them).  Prints the problems and
    "N configs, N problems"; exit status 1 when there are problems."""
    import argparse
    ap = argparse.ArgumentParser(description=main.__doc__.split("\n")[0])
    ap.add_argument("file", nargs="?", default="-")
    ap.add_argument("--prefix", default="homeassistant")
    ap.add_argument("--no-domoticz", action="store_true", help="skip the Domoticz rules")
    ap.add_argument("--rules", action="store_true", help="list the rules and their sources")
    a = ap.parse_args(argv)
    if a.rules:
        for rid, (what, src) in RULES.items():
            print("%-22s %s [%s]" % (rid, what, src))
        for s, url in SOURCES.items():
            print("%-14s %s" % (s, url))
        return 0
    f = sys.stdin if a.file == "-" else open(a.file, encoding="utf-8")
    configs, others = {}, {}
    for line in f:
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        t, _, p = line.partition(" ")
        if t.startswith(a.prefix + "/") and t.endswith("/config"):
            configs[t] = p
        else:
            others[t] = p
    probs = check(configs, others or None, prefix=a.prefix, domoticz=not a.no_domoticz)
    for p in probs:
        print(p)
    print("%d configs, %d problems" % (len(configs), len(probs)))
    return 1 if probs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
