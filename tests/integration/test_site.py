#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""[gateway] site and [mqtt] victron end to end: the real bmsgw against the
simulator and a real Mosquitto broker.

- without a site: /metrics (prometheus_client's parser) has no site label,
  /api/state "site" is null, MQTT under bmsgw/, HA ids bmsgw_<client>_...;
- a reload that sets site = cabin: every /metrics sample carries
  site="cabin" (the same families as before), /api/state says it, the MQTT
  client starts again under bmsgw/cabin/ (its default prefix), the HA
  configs (tests/tools/ha_discovery.py) have the site in their ids and
  device names, and the old ones are not left to collide;
- --check and --ha-yaml name the site;
- [mqtt] victron: P/house/victron and P/bank/victron hold the JSON of
  mr-manuel/venus-os_dbus-mqtt-battery's README (keys and types below),
  the values the simulator's, Info the limit engine's; a stale pack
  publishes none (watched from its "offline", which follows its last
  message on bmsgw's connection)."""
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
from harness import BIN, ROOT, Checks, Gateway, Sim, api_state, free_port, wait_until, write_conf  # noqa: E402
from ha_discovery import check as ha_check  # noqa: E402
from mqtt_harness import Broker, Subscriber, retained  # noqa: E402

from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

c = Checks()

# The JSON of https://github.com/mr-manuel/venus-os_dbus-mqtt-battery
# README.md ("JSON structure", "Full (with descriptions)") at commit
# 009911449474003dc5b2836cf4bb4555973cdc5a: every key it documents with the
# type its description gives (NUM: a number; INT: "Int - 0 = ..."; STR: a
# string).  The driver (dbus-mqtt-battery.py) drops a message without
# Dc.Power, Dc.Voltage and Soc.
NUM, INT, STR = "number", "int", "string"
LEVELS = ("LowVoltage", "HighVoltage", "LowSoc", "HighChargeCurrent", "HighDischargeCurrent", "HighCurrent",
          "CellImbalance", "HighChargeTemperature", "LowChargeTemperature", "LowCellVoltage", "LowTemperature",
          "HighTemperature", "FuseBlown")
SCHEMA = {
    "Dc": {"Power": NUM, "Voltage": NUM, "Current": NUM, "Temperature": NUM},
    "InstalledCapacity": NUM, "ConsumedAmphours": NUM, "Capacity": NUM, "Soc": NUM, "TimeToGo": NUM,
    "Balancing": INT, "SystemSwitch": INT,
    "Alarms": {k: INT for k in LEVELS},
    "Info": {"ChargeRequest": INT, "MaxChargeVoltage": NUM, "MaxChargeCurrent": NUM, "MaxDischargeCurrent": NUM},
    "History": {"ChargeCycles": NUM, "MinimumVoltage": NUM, "MaximumVoltage": NUM, "TotalAhDrawn": NUM},
    "System": {"MinVoltageCellId": STR, "MinCellVoltage": NUM, "MaxVoltageCellId": STR, "MaxCellVoltage": NUM,
               "MinTemperatureCellId": STR, "MinCellTemperature": NUM, "MaxTemperatureCellId": STR,
               "MaxCellTemperature": NUM, "MOSTemperature": NUM, "NrOfModulesOnline": NUM,
               "NrOfModulesOffline": NUM, "NrOfModulesBlockingCharge": NUM, "NrOfModulesBlockingDischarge": NUM},
    "Voltages": {"Cell%d" % i: NUM for i in range(1, 25)},
    "Balances": {"Cell%d" % i: INT for i in range(1, 25)},
    "Io": {"AllowToCharge": INT, "AllowToDischarge": INT, "AllowToBalance": INT, "ExternalRelay": INT},
}
REQUIRED = (("Dc", "Power"), ("Dc", "Voltage"), ("Soc",))


def schema_problems(js, schema=SCHEMA, path=""):
    """Every key of js the README does not document, or of another type."""
    bad = []
    for k, v in js.items():
        where = path + "/" + k
        if k not in schema:
            bad.append("%s: not in the README" % where)
        elif isinstance(schema[k], dict):
            if not isinstance(v, dict) or not v:
                bad.append("%s: expected a non-empty object, got %r" % (where, v))
            else:
                bad += schema_problems(v, schema[k], where)
        elif schema[k] == STR and not isinstance(v, str):
            bad.append("%s: expected a string, got %r" % (where, v))
        elif schema[k] == INT and (isinstance(v, bool) or not isinstance(v, int) or v not in (0, 1, 2)):
            bad.append("%s: expected an Int level, got %r" % (where, v))
        elif schema[k] == NUM and (isinstance(v, bool) or not isinstance(v, (int, float))):
            bad.append("%s: expected a number, got %r" % (where, v))
    return bad


def conf(gw_port, http_port, sim_port, broker_port, site):
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 2
state_file = none
%s
[pack.house]
protocol = daly
port = tcp://127.0.0.1:%d
address = 1
poll_interval = 0.3
timeout = 0.4
retries = 0
[bank]
packs = house
[limits]
[http]
listen = 127.0.0.1:%d
[history]
file = none
[mqtt]
host = 127.0.0.1
port = %d
client_id = t1
victron = true
""" % (gw_port, "site = %s" % site if site else "", sim_port, http_port, broker_port)


def metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        text = r.read().decode()
    return [(s.name, s.labels, s.value) for f in text_string_to_metric_families(text) for s in f.samples]


def reload(gw, n):
    gw.p.send_signal(signal.SIGHUP)
    return wait_until(lambda: re.search(r"reload #%d: applied" % n, gw.text()), 15)


def check_plain(gw, http, broker):
    print("== no site: as always")
    c.ok(wait_until(lambda: api_state(http).get("bank", {}) and api_state(http)["bank"].get("voltage"), 10),
         "the pack is read")
    ms = metrics(http)
    c.ok(len(ms) > 50, "/metrics parses (%d samples)" % len(ms))
    c.eq([m for m in ms if "site" in m[1]], [], "no sample has a site label")
    c.eq(api_state(http).get("site", "absent"), None, "/api/state: \"site\": null")
    with Subscriber(broker, ("bmsgw/#",)) as sub:
        c.ok(sub.wait_for("bmsgw/house/state", timeout=10), "MQTT: bmsgw/house/state")
    cfgs = {t: m.text() for t, m in retained(broker, "homeassistant/#").items() if m.payload}
    c.ok(any("/bmsgw_t1_house/" in t for t in cfgs), "HA: ids bmsgw_t1_house_...")
    return {(n, tuple(sorted(lab))) for n, lab, _ in ms}


def check_site_metrics(http, before):
    ms = metrics(http)
    c.eq([m for m in ms if m[1].get("site") != "cabin"], [], "every sample carries site=\"cabin\"")
    after = {(n, tuple(sorted(k for k in lab if k != "site"))) for n, lab, _ in ms}
    c.eq(sorted(before - after), [], "the same families and labels as without a site")
    st = api_state(http)
    volt = [v for n, lab, v in ms if n == "bmsgw_voltage_volts" and lab.get("pack") == "house"]
    c.ok(volt and abs(volt[0] - st["packs"][0]["voltage"]) < 0.01, "its values the state's (%s)" % volt)
    c.eq(st.get("site"), "cabin", "/api/state: \"site\": \"cabin\"")


def check_site_mqtt(broker, sim):
    with Subscriber(broker, ("bmsgw/cabin/#",)) as sub:
        c.ok(sub.wait_for("bmsgw/cabin/house/state", timeout=15), "MQTT: the client restarted under bmsgw/cabin/")
        c.ok(sub.wait_for("bmsgw/cabin/status", lambda m: m.text() == "online", timeout=10),
             "bmsgw/cabin/status online")
    def configs():
        return {t: m.text() for t, m in retained(broker, "homeassistant/#").items() if m.payload}
    old = wait_until(lambda: not [t for t in configs() if "/bmsgw_t1_" in t], 10)
    cfgs = configs()
    c.ok(old, "HA: the configs of the gateway's id before the site cleared (%d left)"
         % len([t for t in cfgs if "/bmsgw_t1_" in t]))
    mine = {t: p for t, p in cfgs.items() if "/bmsgw_cabin_t1_" in t}
    c.ok(len(mine) > 10, "HA: %d configs under bmsgw_cabin_t1_<unit>" % len(mine))
    def old_left():
        return {t for t, m in retained(broker, "bmsgw/#").items() if m.payload and not t.startswith("bmsgw/cabin/")}
    wait_until(lambda: not old_left(), 10)
    c.eq(sorted(old_left()), [], "the retained topics under the old prefix bmsgw/ cleared")
    known = {t: m.text() for t, m in retained(broker, "bmsgw/cabin/#").items() if m.payload}
    probs = ha_check(mine, known)
    c.eq([str(p) for p in probs], [], "HA: the configs pass Home Assistant's rules")
    devs = {json.loads(p)["device"]["name"] for p in mine.values()}
    c.eq(sorted(devs), ["cabin house", "cabin t1", "cabin t1 bank"], "HA: device names carry the site")
    uids = [json.loads(p)["unique_id"] for p in mine.values()]
    c.ok(all(u.startswith("bmsgw_cabin_t1_") for u in uids), "HA: unique ids carry the site")


def check_victron(broker, sim, http):
    print("== [mqtt] victron")
    with Subscriber(broker, ("bmsgw/cabin/+/victron", "bmsgw/cabin/house/availability")) as sub:
        m = sub.wait_for("bmsgw/cabin/house/victron", timeout=10)
        b = sub.wait_for("bmsgw/cabin/bank/victron", timeout=10)
        c.ok(m and b, "P/house/victron and P/bank/victron published")
        if not (m and b):
            return
        c.eq(m.retain, False, "not retained (a driver starting later takes no old message)")
        js, bank = m.json(), b.json()
        for name, j in (("pack", js), ("bank", bank)):
            c.eq(schema_problems(j), [], "%s: every key the README's, of its type" % name)
            c.ok(all(k[0] in j and (len(k) == 1 or k[1] in j[k[0]]) for k in REQUIRED),
                 "%s: the driver's minimum (Dc.Power, Dc.Voltage, Soc)" % name)
        p = sim.state()["packs"][0]
        c.near(js["Dc"]["Voltage"], p["voltage"], 0.006, "Dc.Voltage the pack's")
        c.near(js["Dc"]["Current"], p["current"], 0.006, "Dc.Current the pack's")
        c.near(js["Soc"], p["soc"], 0.06, "Soc the pack's")
        c.eq([round(js["Voltages"]["Cell%d" % (i + 1)] * 1000) for i in range(len(p["cells_mv"]))], p["cells_mv"],
             "Voltages.CellN the cells")
        c.eq(len(js["Voltages"]), len(p["cells_mv"]), "one Voltages key per cell")
        st = api_state(http)
        lim = st["packs"][0].get("limits") or {}
        info = js.get("Info", {})
        c.near(info.get("MaxChargeVoltage"), lim.get("cvl_v"), 0.05, "Info.MaxChargeVoltage the limits' CVL")
        c.near(info.get("MaxDischargeCurrent"), lim.get("dcl_a"), 5, "Info.MaxDischargeCurrent the limits' DCL")
        c.eq(bank.get("System", {}).get("NrOfModulesOnline"), 1, "bank: System.NrOfModulesOnline")
        # stale: nothing published as current
        t_fault = time.monotonic()
        sim.ctl("fault 1 silent")
        c.ok(wait_until(lambda: not api_state(http)["packs"][0].get("online"), 10), "the pack goes stale")
        # the pack's and its bank's last victron JSON went before the pack's
        # "offline", on the same connection (the bank stays online: bank_stale)
        off = sub.wait_for("bmsgw/cabin/house/availability", lambda m: m.text() == "offline", timeout=10,
                           since=t_fault)
        c.ok(off is not None, "... said offline over MQTT")
        t0 = time.monotonic()
        wait_until(lambda: False, 2.5)
        c.eq(sub.count("bmsgw/cabin/house/victron", since=t0), 0, "a stale pack publishes no victron JSON")
        c.eq(sub.count("bmsgw/cabin/bank/victron", since=t0), 0, "... nor its bank")
        sim.ctl("fault 1 none")
        c.ok(sub.wait_for("bmsgw/cabin/house/victron", since=time.monotonic(), timeout=10), "... and again once fresh")


def check_tools(conf_text):
    path = write_conf(conf_text)
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", path, "--check"], capture_output=True, text=True)
    c.ok(re.search(r"^  site +cabin ", out.stdout, re.M), "--check: the site")
    c.ok("topics        bmsgw/cabin/status" in out.stdout, "--check: the topic prefix bmsgw/cabin")
    c.ok("victron       bmsgw/cabin/<pack>/victron" in out.stdout, "--check: the victron topics")
    y = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", path, "--ha-yaml"], capture_output=True, text=True)
    c.ok("  - name: bmsgw_cabin\n" in y.stdout and "unique_id: bmsgw_cabin_house_soc" in y.stdout,
         "--ha-yaml: the hub and ids carry the site")
    os.unlink(path)


def main():
    broker = Broker()
    sim = Sim("daly", packs=("address=1,cells=16,sensors=3,soc=71.5,current=-12.25",))
    gw_port, http = free_port(), free_port()
    gw = Gateway(conf(gw_port, http, sim.port, broker.port, None), gw_port)
    try:
        before = check_plain(gw, http, broker)
        print("== a reload sets site = cabin")
        text = conf(gw_port, http, sim.port, broker.port, "cabin")
        with open(gw.conf, "w") as f:
            f.write(text)
        c.ok(reload(gw, 1), "reload applied")
        check_site_metrics(http, before)
        check_site_mqtt(broker, sim)
        check_victron(broker, sim, http)
        check_tools(text)
    finally:
        gw.stop()
        sim.stop()
        broker.cleanup()
        if c.failed:
            gw.dump(60)
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
