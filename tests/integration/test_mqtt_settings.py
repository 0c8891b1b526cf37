#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Runtime charge settings over MQTT (bmsgw-mqtt(7) "CHARGE SETTINGS") end to
end: the real bmsgw with [limits], [bank] and [mqtt] control = true against
two simulated Daly packs and a real Mosquitto.

- every setting published on bmsgw/UNIT/set/<name> is taken: the answer on
  bmsgw/UNIT/set/result gives the value in force, /api/state shows it with
  origin mqtt, max_soc under the SOC stops charging (CCL 0, reason soc), a
  cap caps the CCL (reason cap), the change is logged with who;
- a value out of range, a loosening one, a payload that is no number: refused
  on set/result with why, nothing changed; a retained one refused and
  cleared; the bank's own settings;
- Home Assistant discovery: number entities and a force-charge switch per
  unit, command topic the set/ topic, state from the state's settings, passing
  the checker of Home Assistant's rules;
- [mqtt] control = false: the set/ topics are not even read, the entities are
  cleared; nothing is ever written to a BMS.
"""
import json
import os
import signal
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
from harness import Checks, Gateway, Sim, free_port, wait_until  # noqa: E402
from mqtt_harness import Broker, Subscriber, pub, retained  # noqa: E402
from ha_discovery import check as ha_check  # noqa: E402

c = Checks()
NUMBERS = ["set_cap_lease", "set_ccl_cap", "set_dcl_cap", "set_full_charge_days", "set_max_soc",
           "set_max_soc_hysteresis", "set_min_soc", "set_min_soc_hysteresis"]


def conf(gw_port, http_port, sim_port, state, broker_port, control, limits=True):
    packs = ""
    for a in (1, 2):
        packs += ("[pack.p%d]\nprotocol = daly\nport = tcp://127.0.0.1:%d\naddress = %d\nunit_id = %d\n"
                  "poll_interval = 0.5\ntimeout = 0.4\nretries = 0\n" % (a, sim_port, a, a))
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 3
state_file = %s
%s[bank]
unit_id = 100
%s[mqtt]
host = 127.0.0.1
port = %d
client_id = st
topic_prefix = bmsgw
control = %s
[http]
listen = 127.0.0.1:%d
[history]
file = none
""" % (gw_port, state, packs, "[limits]\nrecovery_hold = 2\nrecovery_rate = 20\n" if limits else "", broker_port,
       "true" if control else "false", http_port)


def api(http_port, unit):
    """The /api/state object of a pack ("p1") or the bank, or None."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/api/state" % http_port, timeout=5) as r:
            st = json.loads(r.read().decode())
    except OSError:
        return None
    if unit == "bank":
        return st.get("bank")
    return next((p for p in st.get("packs") or [] if p.get("pack") == unit), None)


def setting(http_port, unit, name):
    return ((api(http_port, unit) or {}).get("settings") or {}).get(name) or {}


def values(http_port, unit):
    """Each setting's value and origin (not a cap's time left)."""
    s = (api(http_port, unit) or {}).get("settings") or {}
    return {k: (v.get("value"), v.get("origin")) for k, v in s.items()}


def writes(sim):
    return json.loads(sim.ctl("stats"))["writes"]


class Setter:
    """Publishes P/UNIT/set/NAME and waits for its answer on P/UNIT/set/result."""

    def __init__(self, broker, sub):
        self.broker, self.sub = broker, sub

    def __call__(self, unit, name, payload, retain=False):
        t0 = time.monotonic()
        pub(self.broker.port, "bmsgw/%s/set/%s" % (unit, name), payload, retain=retain)
        m = self.sub.wait_for("bmsgw/%s/set/result" % unit,
                              lambda m: m.t >= t0 and json.loads(m.payload).get("setting") == name, 10)
        return json.loads(m.payload) if m else None


def test_taken(sim, setter, http_port, gw):
    print("== each setting over MQTT is taken")
    w0 = writes(sim)
    res = setter("p1", "max_soc", "55")
    c.ok(res and res["result"] == "done" and res["value"] == 55 and res["origin"] == "mqtt" and
         res["message"] is None, "max_soc 55 -> done, value 55, origin mqtt (%s)" % res)
    s = setting(http_port, "p1", "max_soc")
    c.ok(s.get("value") == 55 and s.get("origin") == "mqtt", "/api/state: max_soc 55, origin mqtt (%s)" % s)
    lim = wait_until(lambda: (lambda l: l if l.get("ccl_a") == 0 else None)(
        (api(http_port, "p1") or {}).get("limits") or {}), 5)
    c.ok(lim and lim.get("ccl_reason") == "soc" and lim.get("charge_allowed") is False,
         "SOC 60 over max_soc 55: CCL 0, reason soc, charging not allowed (%s)" % lim)
    st = setter.sub.wait_for("bmsgw/p1/state", lambda m: json.loads(m.payload).get("settings", {}).get(
        "max_soc", {}).get("value") == 55, 5)
    c.ok(st is not None, "the state topic shows max_soc 55 (what the entities read)")
    c.ok("pack p1: max_soc 100 -> 55 by mqtt" in gw.text(), "the change is logged with who")
    until = int(time.time()) + 3600
    cases = (("max_soc_hysteresis", "7", 7), ("min_soc", "20", 20), ("min_soc_hysteresis", "6", 6),
             ("force_charge_until", str(until), until), ("force_charge", "ON", 1), ("force_charge", "0", 0),
             ("cap_lease", "120", 120), ("full_charge_days", "10", 10), ("dcl_cap", "30", 30.0),
             ("dcl_cap", "none", None), ("max_soc", "100", 100), ("ccl_cap", "12.5", 12.5))
    for name, payload, want in cases:
        res = setter("p1", name, payload)
        c.ok(res and res["result"] == "done" and res["value"] == want,
             "%s %s -> done, value %s (%s)" % (name, payload, want, res))
        s = setting(http_port, "p1", name)
        c.ok(s.get("value") == want and s.get("origin") == "mqtt",
             "/api/state: %s %s (%s)" % (name, want, s))
    # (after max_soc 100 the CCL rises on its ramp from 0: it may pass 12.5
    # on the way, its reason still soc; the cap holds it there once reached)
    lim = wait_until(lambda: (lambda l: l if l.get("ccl_a") == 12.5 and l.get("ccl_reason") == "cap" else None)(
        (api(http_port, "p1") or {}).get("limits") or {}), 15)
    c.ok(lim and lim.get("ccl_reason") == "cap", "ccl_cap 12.5 A: CCL 12.5 A, reason cap (%s)" % lim)
    c.ok(0 < setting(http_port, "p1", "ccl_cap").get("left_s", 0) <= 120, "the cap's lease of 120 s runs")
    res = setter("bank", "max_soc", "50")
    c.ok(res and res["result"] == "done" and res["value"] == 50, "the bank's max_soc 50 -> done (%s)" % res)
    s = setting(http_port, "bank", "max_soc")
    c.ok(s.get("value") == 50 and s.get("origin") == "mqtt", "/api/state: the bank's max_soc 50, mqtt (%s)" % s)
    bank = wait_until(lambda: (lambda l: l if l.get("ccl_a") == 0 else None)(
        (api(http_port, "bank") or {}).get("limits") or {}), 5)
    c.ok(bank and bank.get("ccl_reason") == "soc", "the bank: CCL 0, reason soc (%s)" % bank)
    c.eq(writes(sim), w0, "nothing was written to a BMS")


def test_refused(setter, http_port, broker, gw):
    print("== refusals: nothing changes")
    before = values(http_port, "p1")
    for name, payload, why in (("max_soc", "0", "1..100"), ("min_soc", "100", "0..99"),
                               ("ccl_cap", "50.1", "maximum charge current"),
                               ("min_soc", "100.5", "whole number"), ("max_soc", "eighty", "whole number"),
                               ("force_charge", "on", "ON, OFF"), ("cap_lease", "5", "10..3600"),
                               ("dcl_cap", "-1", "A"), ("dcl_cap", "60.1", "maximum discharge current"),
                               ("max_soc", "20", "above an active min_soc")):
        res = setter("p1", name, payload)
        c.ok(res and res["result"] == "refused" and why in (res["message"] or ""),
             "%s %r refused: %s" % (name, payload, res and res["message"]))
    c.eq(values(http_port, "p1"), before, "... nothing of them was taken")
    res = setter("p1", "max_soc", "30", retain=True)
    c.ok(res and res["result"] == "refused" and "retained" in (res["message"] or ""),
         "a retained max_soc refused (%s)" % res)
    c.ok(wait_until(lambda: "bmsgw/p1/set/max_soc" not in retained(broker.port, "bmsgw/+/set/#"), 5),
         "the retained setting was cleared")
    c.eq(setting(http_port, "p1", "max_soc").get("value"), 100, "... and not taken")
    c.ok("settings: mqtt: unit p1: max_soc \"30\": refused" in gw.text(), "the refusal is logged")


def test_deadlock(setter, http_port):
    print("== a SOC window that would stop charging and discharging at once is refused")
    for unit, name, val in (("p1", "min_soc", "0"), ("p1", "max_soc", "100"), ("bank", "max_soc", "100"),
                            ("p1", "max_soc_hysteresis", "5"), ("p1", "min_soc_hysteresis", "5")):
        res = setter(unit, name, val)
        c.ok(res and res["result"] == "done", "%s %s %s (%s)" % (unit, name, val, res))
    res = setter("p1", "max_soc", "60")
    c.ok(res and res["result"] == "done", "p1 max_soc 60 (%s)" % res)
    res = setter("p1", "min_soc", "57")
    c.ok(res and res["result"] == "refused" and "both stop" in (res["message"] or "") and res["value"] == 0,
         "min_soc 57 under max_soc 60 with 5 %% hysteresis each: refused, min_soc stays 0 (%s)" % res)
    res = setter("bank", "min_soc", "70")
    c.ok(res and res["result"] == "refused" and "a pack's" in (res["message"] or ""),
         "the bank's min_soc 70 over p1's max_soc 60: refused (%s)" % res)
    res = setter("p1", "max_soc", "100")
    res = setter("bank", "min_soc", "70")
    c.ok(res and res["result"] == "done", "with p1's max_soc back at 100 the bank's min_soc 70 is taken (%s)" % res)
    res = setter("p1", "max_soc", "60")
    c.ok(res and res["result"] == "refused" and "the bank's" in (res["message"] or ""),
         "p1's max_soc 60 under the bank's min_soc 70: refused (%s)" % res)
    c.eq(setting(http_port, "p1", "max_soc").get("value"), 100, "... p1's max_soc stays 100")
    res = setter("bank", "min_soc", "0")
    c.ok(res and res["result"] == "done", "the bank's min_soc back to 0 (%s)" % res)


def test_discovery(broker, sub):
    print("== Home Assistant: number entities and a switch per unit")
    want = ["homeassistant/number/bmsgw_st_%s/%s/config" % (u, k) for u in ("bank", "p1", "p2") for k in NUMBERS]
    configs = wait_until(lambda: (lambda cf: cf if all(t in cf for t in want) else None)(
        retained(broker.port, "homeassistant/#")), 10) or {}
    nums = sorted(t for t, m in configs.items() if t.startswith("homeassistant/number/") and m.payload)
    c.eq(nums, sorted(want), "a number entity per setting for each pack and the bank")
    sw = sorted(t for t, m in configs.items() if t.startswith("homeassistant/switch/") and m.payload)
    c.eq(sw, ["homeassistant/switch/bmsgw_st_%s/set_force_charge/config" % u for u in ("bank", "p1", "p2")],
         "a force-charge switch for each (no MOSFET switch: no pack has control)")
    js = {t: json.loads(m.payload) for t, m in configs.items() if m.payload}
    n = js.get("homeassistant/number/bmsgw_st_p1/set_max_soc/config", {})
    c.ok(n.get("command_topic") == "bmsgw/p1/set/max_soc" and n.get("state_topic") == "bmsgw/p1/state" and
         n.get("value_template") == "{{ value_json.settings.max_soc.value }}" and n.get("min") == 1 and
         n.get("max") == 100 and n.get("unit_of_measurement") == "%", "max_soc: command and state topics (%s)" % n)
    cap = js.get("homeassistant/number/bmsgw_st_p1/set_ccl_cap/config", {})
    bcap = js.get("homeassistant/number/bmsgw_st_bank/set_dcl_cap/config", {})
    c.ok(cap.get("max") == 50 and cap.get("step") == 0.1 and cap.get("unit_of_measurement") == "A" and
         bcap.get("max") == 120, "caps up to the unit's maximum current: p1 50 A, the bank 2 x 60 A (%s, %s)" %
         (cap.get("max"), bcap.get("max")))
    hy = js.get("homeassistant/number/bmsgw_st_p1/set_max_soc_hysteresis/config", {})
    c.eq(hy.get("entity_category"), "config", "the hysteresis is a config entity")
    f = js.get("homeassistant/switch/bmsgw_st_bank/set_force_charge/config", {})
    c.ok(f.get("command_topic") == "bmsgw/bank/set/force_charge" and f.get("state_on") == "1" and
         f.get("payload_on") == "ON" and f.get("optimistic") is False, "the force-charge switch (%s)" % f)
    states = {t: m.text() for t, m in retained(broker.port, "bmsgw/#").items() if m.payload}
    errs = ha_check({t: m.text() for t, m in configs.items() if m.payload}, states=states)
    c.eq(errs, [], "the configs with the settings pass Home Assistant's rules")


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-mqtt-settings-")
    state = os.path.join(tmp, "state")
    broker = Broker()
    sim = Sim(packs=("address=1", "address=2"))
    gw_port, http_port = free_port(), free_port()
    sub = Subscriber(broker.port, topics=("bmsgw/#",))
    gw = Gateway(conf(gw_port, http_port, sim.port, state, broker.port, True), gw_port)
    try:
        sim.ctl("freeze")
        for a in (1, 2):
            sim.ctl("set %d soc 60" % a)
            sim.ctl("set %d current 5" % a)
        c.ok(sub.wait_for("bmsgw/p1/state", lambda m: json.loads(m.payload).get("limits", {}).get("ccl_a") == 50,
                          20) is not None, "p1 charges at 50 A")
        setter = Setter(broker, sub)
        test_discovery(broker, sub)
        test_taken(sim, setter, http_port, gw)
        test_refused(setter, http_port, broker, gw)
        test_deadlock(setter, http_port)
        print("== [limits] removed by a reload: the settings refused, their entities cleared")
        with open(gw.conf, "w") as f:
            f.write(conf(gw_port, http_port, sim.port, state, broker.port, True, limits=False))
        gw.p.send_signal(signal.SIGHUP)
        c.ok(wait_until(lambda: "reload #1: applied" in gw.text(), 10), "a reload")
        c.ok(wait_until(lambda: not [t for t in retained(broker.port, "homeassistant/#") if "/set_" in t], 10),
             "the settings entities are cleared")
        res = setter("p1", "max_soc", "80")
        c.ok(res and res["result"] == "refused" and "[limits]" in (res["message"] or ""),
             "max_soc without [limits]: refused (%s)" % res)
        with open(gw.conf, "w") as f:
            f.write(conf(gw_port, http_port, sim.port, state, broker.port, True))
        gw.p.send_signal(signal.SIGHUP)
        c.ok(wait_until(lambda: "reload #2: applied" in gw.text(), 10), "[limits] back")
        c.ok(wait_until(lambda: len([t for t in retained(broker.port, "homeassistant/#") if "/set_" in t]) == 27,
                        10), "the settings entities are back (9 per unit)")
        print("== a restart keeps the entities; [mqtt] control = false clears them")
        unsub = "Received UNSUBSCRIBE from st"
        n0 = broker.text().count(unsub)
        c.eq(gw.stop(), 0, "a clean stop")
        gw = Gateway(conf(gw_port, http_port, sim.port, state, broker.port, True), gw_port)
        # the client unsubscribes from the retained configs once it has reconciled them
        c.ok(wait_until(lambda: broker.text().count(unsub) > n0, 15), "restarted: the retained configs reconciled")
        c.eq(len([t for t, m in retained(broker.port, "homeassistant/#").items() if "/set_" in t and m.payload]),
             27, "... the settings entities kept")
        w0 = writes(sim)
        c.eq(gw.stop(), 0, "a clean stop")
        gw = Gateway(conf(gw_port, http_port, sim.port, state, broker.port, False), gw_port)
        c.ok(wait_until(lambda: not [t for t in retained(broker.port, "homeassistant/#")
                                     if "/set_" in t], 15),
             "the settings entities are cleared")
        t0 = time.monotonic()
        sub.wait_for("bmsgw/p1/state", lambda m: m.t > t0, 10)
        pub(broker.port, "bmsgw/p1/set/max_soc", "40")
        # states go on every poll: a few of them show the message was not read
        c.ok(sub.wait_for("bmsgw/p1/state", lambda m: m.t > t0 + 1.5, 10) is not None, "states go on")
        c.eq([m for m in sub.all("bmsgw/p1/set/result") if m.t > t0], [], "no answer: set/ is not read")
        c.eq(setting(http_port, "p1", "max_soc").get("value"), 100, "max_soc unchanged")
        c.eq(writes(sim), w0, "nothing was written to a BMS")
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
