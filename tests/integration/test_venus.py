#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""[venus]: each pack and the bank as a com.victronenergy.battery service on
D-Bus, run for real: a private dbus-daemon, the simulator with two Daly packs
and a bank, bmsgw with [venus] bus = that daemon's address (and [mqtt] on a
Mosquitto broker), read with python3-dbus as Victron's clients read it.

Checked: every path dbus-serialbattery publishes per pack and for the bank
(counted), GetValue / GetText / GetItems on every path and on / and a node,
the values against /api/state; a change of a pack in the simulator on D-Bus
(PropertiesChanged on its path, one ItemsChanged with it) after its poll;
SetValue refused on a read-only path (1) and with the wrong type (1), a
/CustomName taken (0) into the settings service; a pack gone silent: its
/Connected 0 and the bank's /Info/MaxChargeCurrent and MaxDischargeCurrent 0
([limits] bank_stale = block) at the moment it is stale (the times
measured), no value of the pack's measurements left on the bus; the
dbus-daemon restarted: bmsgw back on it by itself (the time measured) while
Modbus and MQTT kept serving; a reload keeps the services (the same
connections); a pack with venus = false leaves the bus at a reload; a
restart of bmsgw is seen as one (the names leave and come back) and keeps
each /DeviceInstance (the state file's, with a settings service that
forgot it); --check names the services.

The settings service (com.victronenergy.settings) is Victron's localsettings
when BMSGW_VICTRON names a directory with checkouts of victronenergy's
velib_python, localsettings and dbus-systemcalc-py (MIT; Python on Debian's
python3-dbus, python3-gi, python3-lxml, python3-psutil), else
tests/integration/venus_settings.py.  With BMSGW_VICTRON, Victron's own code
is the judge too: dbus_systemcalc's view before bmsgw and after
(/ActiveBatteryService the bank's by default and when selected,
/Dc/Battery/Voltage and /Soc the bank's, /ActiveBmsService the bank), and DVCC
writing the bank's limits to a Multi (venus_multi.py, velib_python's
VeDbusService), 0 A once a pack is silent (the time measured).
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BIN, ROOT, RUN_DIR, Checks, Gateway, Proc, Sim, api_state, free_port,  # noqa: E402
                     wait_until, write_conf)
from mqtt_harness import Broker, Subscriber  # noqa: E402

import dbus  # noqa: E402
from pymodbus.client import ModbusTcpClient  # noqa: E402
from venus_bus import IFACE, PY, SVC, HERE, Bus, Client, Watch, plain  # noqa: E402

c = Checks()
VICTRON = os.environ.get("BMSGW_VICTRON", "")
STALE_AFTER = 4.0
# what dbus-serialbattery publishes (its dbushelper's setup_vedbus), that a unit
# with a Daly's values has: a pack's (with its 16 cells), the bank's
COMMON = ["/Mgmt/ProcessName", "/Mgmt/ProcessVersion", "/Mgmt/Connection", "/DeviceInstance", "/ProductId",
          "/ProductName", "/FirmwareVersion", "/CustomName", "/Connected", "/Dc/0/Voltage", "/Dc/0/Current",
          "/Dc/0/Power", "/Dc/0/Temperature", "/Soc", "/Soh", "/Capacity", "/InstalledCapacity",
          "/ConsumedAmphours", "/TimeToGo", "/Info/MaxChargeVoltage", "/Info/MaxChargeCurrent",
          "/Info/MaxDischargeCurrent", "/Info/BatteryLowVoltage", "/Io/AllowToCharge", "/Io/AllowToDischarge",
          "/System/MinCellVoltage", "/System/MaxCellVoltage", "/System/MinVoltageCellId",
          "/System/MaxVoltageCellId", "/System/MinCellTemperature", "/System/MaxCellTemperature",
          "/System/NrOfModulesOnline", "/System/NrOfModulesOffline", "/System/NrOfModulesBlockingCharge",
          "/System/NrOfModulesBlockingDischarge", "/Alarms/LowVoltage", "/Alarms/HighVoltage",
          "/Alarms/LowCellVoltage", "/Alarms/HighCellVoltage", "/Alarms/LowSoc", "/Alarms/CellImbalance",
          "/Alarms/HighChargeTemperature", "/Alarms/LowChargeTemperature", "/Alarms/BmsCable"]
PACK = COMMON + ["/Voltages/Cell%d" % i for i in range(1, 17)] + ["/Voltages/Sum", "/Voltages/Diff",
                                                                    "/System/NrOfCellsPerBattery"]


def settings_service(bus, state):
    """Victron's localsettings (BMSGW_VICTRON), else the test's own."""
    if VICTRON:
        os.makedirs(state, exist_ok=True)
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus.address)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        p = Proc([PY, os.path.join(VICTRON, "localsettings", "localsettings.py"), "--path", state, "--no-delay"],
                 "localsettings", env=env)
    else:
        p = Proc([PY, os.path.join(HERE, "venus_settings.py"), bus.address, state + ".json"], "settings")
    cl = Client(bus.address)
    if not wait_until(lambda: cl.b.name_has_owner("com.victronenergy.settings"), 20):
        p.dump()
        raise RuntimeError("no com.victronenergy.settings")
    return p


def victron_env(bus):
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus.address)
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    return env


def gateway_conf(sim, bus, gw_port, http_port, broker, state, b_venus="true"):
    return """[gateway]
listen = 127.0.0.1:%(gw)d
stale_after = %(stale)g
state_file = %(state)s
[pack.a]
protocol = daly
port = tcp://127.0.0.1:%(sim)d
address = 1
unit_id = 1
poll_interval = 1
timeout = 0.3
retries = 1
[pack.b]
protocol = daly
port = tcp://127.0.0.1:%(sim)d
address = 2
unit_id = 2
poll_interval = 1
timeout = 0.3
retries = 1
venus = %(bv)s
[bank]
unit_id = 10
[limits]
chemistry = lfp
bank_stale = block
[mqtt]
host = 127.0.0.1
port = %(mq)d
[http]
listen = 127.0.0.1:%(http)d
[venus]
bus = %(bus)s
""" % {"gw": gw_port, "stale": STALE_AFTER, "state": state, "sim": sim.port, "mq": broker.port,
       "http": http_port, "bus": bus.address, "bv": b_venus}


def check_paths(cl, st):
    """Every path, and the three ways of reading them, against /api/state."""
    counts = {}
    for unit, want in (("a", PACK), ("b", PACK), ("bank", COMMON)):
        svc = SVC + unit
        items = cl.items(svc)
        counts[unit] = len(items)
        missing = [p for p in want if p not in items]
        c.ok(not missing, "%s: all %d paths of dbus-serialbattery it has values for are there (%d in all)%s"
             % (svc, len(want), len(items), ", missing %s" % missing if missing else ""))
        bad = [p for p, (v, t) in items.items() if cl.get(svc, p) != v or str(cl.call(svc, p, "GetText")) != t]
        c.ok(not bad, "%s: GetValue and GetText of each of its %d paths are GetItems' (%s)" % (svc, len(items), bad[:3]))
        root = plain(cl.call(svc, "/", "GetValue"))
        c.ok(len(root) == len(items) and all(root[p[1:]] == v for p, (v, t) in items.items()),
             "%s: GetValue on / is every path relative to / with its value" % svc)
        node = plain(cl.call(svc, "/Dc", "GetValue"))
        c.eq(sorted(node), ["0/Current", "0/Power", "0/Temperature", "0/Voltage"], "%s: GetValue on /Dc" % svc)
        text = plain(cl.call(svc, "/Dc/0", "GetText"))
        c.eq(text.get("Voltage"), items["/Dc/0/Voltage"][1], "%s: GetText on /Dc/0 gives the texts" % svc)
    pa, bank = st["packs"][0], st["bank"]
    items = cl.items(SVC + "a")
    c.near(items["/Dc/0/Voltage"][0], pa["voltage"], 0.01, "pack a: /Dc/0/Voltage is /api/state's voltage")
    c.near(items["/Soc"][0], pa["soc"], 0.05, "pack a: /Soc is /api/state's")
    c.ok(items["/Voltages/Cell1"][1].endswith("V") and items["/Dc/0/Current"][1].endswith("A"),
         "pack a: texts with their units as dbus-serialbattery writes them (%s, %s)"
         % (items["/Voltages/Cell1"][1], items["/Dc/0/Current"][1]))
    bi = cl.items(SVC + "bank")
    c.near(bi["/Dc/0/Voltage"][0], bank["voltage"], 0.01, "bank: /Dc/0/Voltage is the bank's")
    c.near(bi["/Info/MaxChargeCurrent"][0], bank["limits"]["ccl_a"], 0.05, "bank: /Info/MaxChargeCurrent is its CCL")
    c.near(bi["/Info/MaxChargeVoltage"][0], bank["limits"]["cvl_v"], 0.01, "bank: /Info/MaxChargeVoltage is its CVL")
    c.eq(bi["/System/NrOfModulesOnline"][0], 2, "bank: two modules online")
    c.eq(bi["/ProductId"][1], "0xFFFF", "/ProductId's text in hex, as VeDbusItemExport.GetText writes it")
    c.eq(cl.get(SVC + "a", "/Nothing/Here"), "absent", "a path it does not have: an error, as dbus-python's")
    return counts


def check_change(cl, sim, watch):
    t0 = time.monotonic()
    sim.ctl("set 1 soc 41.5")
    d = None
    wait_until(lambda: watch.find(lambda x: x["sig"] == "P" and x["path"] == "/Soc" and x["value"] == 41.5
                                  and x["sender"] == cl.owner(SVC + "a"), t0), 15)
    d = watch.find(lambda x: x["sig"] == "P" and x["path"] == "/Soc" and x["value"] == 41.5, t0)
    c.ok(d is not None, "a SOC set in the simulator: PropertiesChanged /Soc 41.5 from bmsgw_a")
    i = watch.find(lambda x: x["sig"] == "I" and x["items"].get("/Soc") == 41.5, t0)
    c.ok(i is not None and abs(i["t"] - d["t"]) < 1.0 if d and i else False,
         "... and the same poll's ItemsChanged on / with it (%d items)" % (i["n"] if i else 0))
    c.eq(cl.get(SVC + "a", "/Soc"), 41.5, "GetValue /Soc is the new SOC")


def check_setvalue(cl, settings_get):
    a = SVC + "a"
    r = int(cl.call(a, "/Soc", "SetValue", "v", [dbus.Double(12.0, variant_level=1)]))
    c.eq(r, 1, "SetValue on /Soc (read-only): refused with 1, as VeDbusItemExport")
    r = int(cl.call(a, "/Info/MaxChargeCurrent", "SetValue", "v", [dbus.Double(500.0, variant_level=1)]))
    c.eq(r, 1, "SetValue on /Info/MaxChargeCurrent (read-only): refused with 1; the limit is not changed")
    r = int(cl.call(a, "/CustomName", "SetValue", "v", [dbus.Int32(7, variant_level=1)]))
    c.eq(r, 1, "SetValue of an integer on /CustomName (a text): refused with 1")
    try:
        cl.call(a, "/CustomName", "SetValue", "s", ["x"])
        c.ok(False, "SetValue without a variant: an error")
    except dbus.exceptions.DBusException as e:
        c.ok("InvalidArgs" in e.get_dbus_name(), "SetValue without a variant: %s" % e.get_dbus_name())
    r = int(cl.call(a, "/CustomName", "SetValue", "v", [dbus.String("Rack A", variant_level=1)]))
    c.eq(r, 0, "SetValue of a text on /CustomName: taken (0)")
    c.eq(cl.get(a, "/CustomName"), "Rack A", "/CustomName shows it")
    c.ok(wait_until(lambda: settings_get("/Settings/Devices/bmsgw_a/CustomName") == "Rack A", 10),
         "... and it is kept by com.victronenergy.settings (/Settings/Devices/bmsgw_a/CustomName)")
    c.eq(cl.get(a, "/Info/MaxChargeCurrent") != 500.0, True, "the refused limit is not on the bus")


def settings_getter(bus):
    cl = Client(bus.address)

    def get(path):
        try:
            return plain(cl.b.call_blocking("com.victronenergy.settings", path, IFACE, "GetValue", "", [], timeout=5))
        except dbus.exceptions.DBusException:
            return None
    return get


def main():
    figures = {}
    bus = Bus(os.path.join(RUN_DIR, "venus-bus.sock"))
    settings = settings_service(bus, os.path.join(RUN_DIR, "settings"))
    cl = Client(bus.address)
    sysc = None
    if VICTRON:
        from venus_victron import Victron  # noqa: E402
        sysc = Victron(bus, cl, c, figures)
        sysc.start()
    broker = Broker()
    sim = Sim(packs=("address=1,cells=16,soc=55,current=10,capacity=100",
                     "address=2,cells=16,soc=60,current=-4,capacity=200"))
    gw_port, http_port = free_port(), free_port()
    state = os.path.join(RUN_DIR, "state")
    conf = gateway_conf(sim, bus, gw_port, http_port, broker, state)
    r = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", write_conf(conf), "--check"], capture_output=True,
                       text=True, timeout=20)
    c.ok(r.returncode == 0 and SVC + "bank" in r.stdout and SVC + "a" in r.stdout and SVC + "b" in r.stdout,
         "--check names the three services it will publish")
    for on, n in (("true", 3), ("false", 0)):
        r = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", write_conf(conf.replace("[venus]\n", "[venus]\nenabled = %s\n" % on, 1)),
                            "--check"], capture_output=True, text=True, timeout=20)
        c.ok(r.returncode == 0 and r.stdout.count("com.victronenergy.battery.") == n,
             "[venus] enabled = %s: --check names %d services" % (on, n))
    watch = Watch(bus.address)
    gw = Gateway(conf, gw_port)
    c.ok(wait_until(lambda: cl.names() == [SVC + "a", SVC + "b", SVC + "bank"], 30),
         "the bank and each pack on D-Bus (%s)" % cl.names())
    inst = {u: cl.get(SVC + u, "/DeviceInstance") for u in ("bank", "a", "b")}
    c.ok(inst["bank"] < inst["a"] < inst["b"], "DeviceInstances from the settings service, the bank's the lowest (%s)"
         % inst)
    wait_until(lambda: api_state(http_port).get("bank", {}).get("limits", {}).get("ccl_a", 0) > 0, 20)
    counts = check_paths(cl, api_state(http_port))
    figures["paths"] = counts
    check_change(cl, sim, watch)
    check_setvalue(cl, settings_getter(bus))
    if sysc:
        sysc.judge_on(inst["bank"])
    check_stale(cl, sim, watch, sysc, figures, http_port)
    settings = check_restart_bus(bus, cl, gw, broker, http_port, gw_port, settings, figures, sysc)
    cl = Client(bus.address)
    watch = Watch(bus.address)
    check_reload(cl, gw, sim, bus, gw_port, http_port, broker, state)
    check_restart_gw(cl, gw, conf, gw_port, watch, inst, bus, settings)
    print("figures: " + json.dumps(figures, sort_keys=True))
    gw.stop()
    return c.report()


def data_age(http_port, pack):
    """The pack's seconds since its last good poll (/metrics) and when it was read."""
    import re
    import urllib.request
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % http_port, timeout=5) as r:
        text = r.read().decode()
    t = time.monotonic()
    m = re.search(r'^bmsgw_pack_data_age_seconds\{pack="%s"\} (\S+)$' % pack, text, re.M)
    return float(m.group(1)), t


def check_stale(cl, sim, watch, sysc, figures, http_port):
    a, bank = SVC + "a", SVC + "bank"
    owner_a = cl.owner(a)
    t0 = time.monotonic()
    sim.ctl("fault 1 silent")
    age, t_age = data_age(http_port, "a")  # its last good poll: before the fault
    ok = wait_until(lambda: cl.get(a, "/Connected") == 0, 20)
    c.ok(ok, "pack a silent: its /Connected 0")
    conn0 = watch.find(lambda d: d["sig"] == "P" and d["sender"] == owner_a and d["path"] == "/Connected"
                       and d["value"] == 0, t0)
    zero = watch.find(lambda d: d["sig"] == "P" and d["path"] == "/Info/MaxChargeCurrent" and d["value"] == 0
                      and d["sender"] == cl.owner(bank), t0)
    c.ok(zero is not None, "... and the bank's /Info/MaxChargeCurrent 0 (bank_stale = block)")
    c.eq(cl.get(bank, "/Info/MaxDischargeCurrent"), 0.0, "... and its /Info/MaxDischargeCurrent 0")
    c.eq(cl.get(bank, "/Io/AllowToCharge"), 0, "... and its /Io/AllowToCharge 0")
    c.ok(cl.get(bank, "/Info/MaxChargeVoltage") not in (None, 0, 0.0, "absent"), "... its CVL kept, never 0")
    stale_at = t_age - age + STALE_AFTER  # the moment the model holds it stale
    if conn0 and zero:
        figures["silent_to_connected0_s"] = round(conn0["t"] - t0, 3)
        figures["stale_to_connected0_ms"] = round((conn0["t"] - stale_at) * 1000, 1)
        figures["stale_to_bank_zero_ms"] = round((zero["t"] - stale_at) * 1000, 1)
        c.ok(abs(zero["t"] - conn0["t"]) < 0.5, "the bank's limits fall with the pack's /Connected 0 (%.1f ms apart)"
             % ((zero["t"] - conn0["t"]) * 1000))
    items = cl.items(a)
    left = [p for p in ("/Dc/0/Voltage", "/Dc/0/Current", "/Soc", "/Voltages/Cell1", "/System/MinCellVoltage")
            if items.get(p, (None,))[0] is not None]
    c.ok(not left, "no value of the silent pack's measurements left on the bus (%s)" % left)
    c.eq(items.get("/Alarms/BmsCable", (None,))[0], 2, "its /Alarms/BmsCable 2")
    c.eq(items.get("/Info/MaxChargeCurrent", (None,))[0], 0.0, "its own /Info/MaxChargeCurrent 0")
    if sysc:
        sysc.judge_stale(t0, stale_at)
    sim.ctl("fault 1 none")
    c.ok(wait_until(lambda: cl.get(a, "/Connected") == 1 and cl.get(bank, "/System/NrOfModulesOnline") == 2, 30),
         "the pack back: its /Connected 1, the bank's two modules online (its limits come back as the engine "
         "ramps them)")


def check_restart_bus(bus, cl, gw, broker, http_port, gw_port, settings, figures, sysc):
    before = api_state(http_port)["venus"]
    with Subscriber(broker, ("bmsgw/#",)) as sub:
        settings.stop()
        if sysc:
            sysc.stop()
        bus.stop()
        t_down = time.monotonic()
        c.ok(wait_until(lambda: api_state(http_port).get("venus", {}).get("up") is False, 10),
             "the bus gone: /api/state venus up false")
        mb = ModbusTcpClient("127.0.0.1", port=gw_port)
        mb.connect()
        rr = mb.read_holding_registers(290, 10, slave=1)
        mb.close()
        c.ok(not rr.isError(), "Modbus answers while the bus is away")
        c.ok(sub.wait_for("bmsgw/a/#", since=time.monotonic(), timeout=15) is not None,
             "MQTT publishes while the bus is away")
        bus.restart()  # the outage lasted as long as the checks above took
        t_up = time.monotonic()
    settings = settings_service(bus, os.path.join(RUN_DIR, "settings"))
    cl2 = Client(bus.address)
    ok = wait_until(lambda: cl2.names() == [SVC + "a", SVC + "b", SVC + "bank"], 30)
    t_back = time.monotonic()
    c.ok(ok, "the dbus-daemon restarted: bmsgw's three services back on it without a restart of bmsgw")
    after = api_state(http_port)["venus"]
    figures["bus_back_to_services_s"] = round(t_back - t_up, 3)
    figures["bus_outage_s"] = round(t_up - t_down, 3)
    figures["api_last_rejoin_s"] = after.get("last_rejoin_s")
    c.eq(after["outages"], before["outages"] + 1, "/api/state venus outages counts it")
    c.ok(gw.alive(), "bmsgw ran on")
    if sysc:
        sysc.start()
    return settings


def reloads(http_port):
    return api_state(http_port).get("gateway", {}).get("reloads", -1)


def check_reload(cl, gw, sim, bus, gw_port, http_port, broker, state):
    owners = {u: cl.owner(SVC + u) for u in ("a", "b", "bank")}
    with open(gw.conf, "w") as f:  # a change of another section
        f.write(gateway_conf(sim, bus, gw_port, http_port, broker, state).replace("[gateway]\n",
                                                                                  "[gateway]\nlog_level = debug\n"))
    n = reloads(http_port)
    gw.p.send_signal(signal.SIGHUP)
    c.ok(wait_until(lambda: reloads(http_port) == n + 1, 15), "a reload that changes another section applied")
    c.eq({u: cl.owner(SVC + u) for u in ("a", "b", "bank")}, owners,
         "a reload keeps the services: the same connections own the three names")
    conf = gateway_conf(sim, bus, gw_port, http_port, broker, state, b_venus="false")
    with open(gw.conf, "w") as f:
        f.write(conf)
    gw.p.send_signal(signal.SIGHUP)
    c.ok(wait_until(lambda: cl.names() == [SVC + "a", SVC + "bank"], 15),
         "venus = false in [pack.b]: bmsgw_b leaves the bus at the reload, a and the bank stay (%s)" % cl.names())
    c.eq(cl.owner(SVC + "a"), owners["a"], "... pack a's service untouched")
    with open(gw.conf, "w") as f:
        f.write(gateway_conf(sim, bus, gw_port, http_port, broker, state))
    gw.p.send_signal(signal.SIGHUP)
    c.ok(wait_until(lambda: cl.names() == [SVC + "a", SVC + "b", SVC + "bank"], 15), "venus = true again: it is back")


def check_restart_gw(cl, gw, conf, gw_port, watch, inst, bus, settings):
    now = {u: cl.get(SVC + u, "/DeviceInstance") for u in ("bank", "a", "b")}
    t0 = time.monotonic()
    gw.stop()
    c.ok(wait_until(lambda: cl.names() == [], 10), "bmsgw stopped: its services left the bus")
    # a settings service that forgot every device: the instances come from the state file
    settings.stop()
    settings = settings_service(bus, os.path.join(RUN_DIR, "settings-forgot"))
    gw2 = Gateway(conf, gw_port)
    c.ok(wait_until(lambda: cl.names() == [SVC + "a", SVC + "b", SVC + "bank"], 30), "bmsgw started again: back")
    gone = watch.find(lambda d: d["sig"] == "N" and d["name"] == SVC + "bank" and d["new"] == "", t0)
    back = watch.find(lambda d: d["sig"] == "N" and d["name"] == SVC + "bank" and d["new"] != "", t0)
    c.ok(gone is not None and back is not None and back["t"] > gone["t"],
         "a restart is seen as one: the bank's name left the bus, then came back")
    c.eq({u: cl.get(SVC + u, "/DeviceInstance") for u in ("bank", "a", "b")}, now,
         "each /DeviceInstance kept across the restart (the state file's)")
    gw2.stop()
    gw.p = gw2.p


if __name__ == "__main__":
    sys.exit(main())
