# SPDX-License-Identifier: MIT
"""Victron's own code as the judge of test_venus.py (with BMSGW_VICTRON, a
directory with checkouts of victronenergy's velib_python, localsettings and
dbus-systemcalc-py): dbus_systemcalc run on the test's bus, with a Multi
(venus_multi.py, velib_python's VeDbusService) for DVCC to write to, and
DVCC switched on (/Settings/Services/Bol = 1, as the GX's DVCC switch).

  start()          systemcalc and the Multi (again after the bus came back);
                   the first time, systemcalc's view before bmsgw is kept
  judge_on(inst)   /ActiveBatteryService the bank's (com.victronenergy.battery/
                   INST) by default and when selected; a pack when that is
                   selected; /Dc/Battery/Voltage and /Soc the bank's;
                   /ActiveBmsService the bank; DVCC writes the bank's CVL,
                   CCL, DCL and low voltage to the Multi
  judge_stale(t0)  a pack silent since t0: DVCC writes 0 A to the Multi (the
                   time measured); the system's view kept in the figures

systemcalc is started before bmsgw and the Multi, as on a GX, where
localsettings and systemcalc run before any driver: its first scan, finding
devices whose battery settings localsettings has yet to make, raises in its
batterydata delegate (a path built from a setting's first empty value) and
never publishes com.victronenergy.system.
"""
import os
import time

import dbus

from harness import Proc, wait_until

PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
IFACE = "com.victronenergy.BusItem"
SYSTEM = "com.victronenergy.system"
MULTI = "com.victronenergy.vebus.ttyS3"
SVC = "com.victronenergy.battery.bmsgw_"
BOL = "/BatteryOperationalLimits/"
VIEW = ("/ActiveBatteryService", "/AutoSelectedBatteryService", "/Dc/Battery/BatteryService", "/Dc/Battery/Voltage",
        "/Dc/Battery/Soc", "/ActiveBmsService", "/Control/Dvcc", "/Dc/Battery/ChargeVoltage")


def near(a, b, eps):
    return isinstance(a, (int, float)) and isinstance(b, (int, float)) and abs(a - b) <= eps


class Victron:
    def __init__(self, bus, cl, checks, figures):
        self.bus, self.cl, self.c, self.figures = bus, cl, checks, figures
        self.root = os.environ["BMSGW_VICTRON"]
        self.procs = []

    def env(self):
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus.address)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        return env

    def get(self, svc, path):
        """Its value; None when invalid, "absent" when there is no such service or path."""
        try:
            v = self.cl.b.call_blocking(svc, path, IFACE, "GetValue", "", [], timeout=5)
        except dbus.exceptions.DBusException:
            return "absent"
        if isinstance(v, dbus.Array) and len(v) == 0:
            return None
        return float(v) if isinstance(v, dbus.Double) else int(v) if isinstance(v, (dbus.Int32, dbus.Int64)) \
            else str(v) if isinstance(v, dbus.String) else v

    def set_setting(self, path, v):
        return int(self.cl.b.call_blocking("com.victronenergy.settings", path, IFACE, "SetValue", "v", [v],
                                           timeout=5))

    def view(self):
        return {p: self.get(SYSTEM, p) for p in VIEW}

    def start(self):
        self.cl = type(self.cl)(self.bus.address)
        sc = os.path.join(self.root, "dbus-systemcalc-py")
        # systemcalc first, its first scan done, then the Multi (see above)
        self.procs = [Proc([PY, os.path.join(sc, "dbus_systemcalc.py")], "systemcalc", env=self.env())]
        ok = wait_until(lambda: self.get(SYSTEM, "/ActiveBatteryService") != "absent", 30)
        if ok:
            self.procs.append(Proc([PY, os.path.join(HERE, "venus_multi.py"), self.bus.address], "multi",
                                   env=self.env()))
            ok = wait_until(lambda: self.cl.b.name_has_owner(MULTI), 30)
        self.c.ok(ok, "Victron's dbus_systemcalc runs on the bus (com.victronenergy.system), beside a Multi")
        if not ok:
            for p in self.procs:
                p.dump()
            return
        wait_until(lambda: self.get("com.victronenergy.settings", "/Settings/Services/Bol") not in ("absent", None), 10)
        self.c.eq(self.set_setting("/Settings/Services/Bol", dbus.Int32(1, variant_level=1)), 0,
                  "DVCC switched on (/Settings/Services/Bol = 1)")
        if "systemcalc_before" not in self.figures:
            wait_until(lambda: self.get(SYSTEM, "/Control/Dvcc") == 1, 15)
            self.figures["systemcalc_before"] = self.view()

    def stop(self):
        for p in self.procs:
            p.stop()

    def judge_on(self, inst):
        bank = SVC + "bank"
        want = "com.victronenergy.battery/%d" % inst
        self.c.ok(wait_until(lambda: self.get(SYSTEM, "/ActiveBatteryService") == want, 30),
                  "systemcalc picks the bank by default: /ActiveBatteryService %s" % self.get(SYSTEM,
                                                                                               "/ActiveBatteryService"))
        self.c.ok(wait_until(lambda: self.get(SYSTEM, "/ActiveBmsService") == bank, 20),
                  "... and DVCC takes it as the BMS: /ActiveBmsService %s" % self.get(SYSTEM, "/ActiveBmsService"))
        ok = wait_until(lambda: near(self.get(SYSTEM, "/Dc/Battery/Voltage"), self.get(bank, "/Dc/0/Voltage"), 0.02)
                        and near(self.get(SYSTEM, "/Dc/Battery/Soc"), self.get(bank, "/Soc"), 0.1), 20)
        self.c.ok(ok, "com.victronenergy.system shows the bank's voltage and SOC (%s V, %s %%)"
                  % (self.get(SYSTEM, "/Dc/Battery/Voltage"), self.get(SYSTEM, "/Dc/Battery/Soc")))
        self.judge_dvcc(bank)
        self.figures["systemcalc_after"] = self.view()
        self.judge_selected(inst)

    def judge_dvcc(self, bank):
        pairs = (("MaxChargeVoltage", "/Info/MaxChargeVoltage"), ("MaxChargeCurrent", "/Info/MaxChargeCurrent"),
                 ("MaxDischargeCurrent", "/Info/MaxDischargeCurrent"), ("BatteryLowVoltage", "/Info/BatteryLowVoltage"))

        def same():
            return all(near(self.get(MULTI, BOL + m), self.get(bank, p), 0.6) for m, p in pairs)
        ok = wait_until(same, 30)
        self.c.ok(ok, "DVCC writes the bank's limits to the Multi: %s" % {m: (self.get(MULTI, BOL + m),
                                                                              self.get(bank, p)) for m, p in pairs})
        self.figures["dvcc_multi"] = {m: self.get(MULTI, BOL + m) for m, p in pairs}

    def judge_selected(self, inst):
        setting = "/Settings/SystemSetup/BatteryService"
        for chosen in ("com.victronenergy.battery/%d" % inst, "com.victronenergy.battery/%d" % (inst + 1)):
            self.c.eq(self.set_setting(setting, dbus.String(chosen, variant_level=1)), 0, "battery service %s "
                      "selected on the GX" % chosen)
            self.c.ok(wait_until(lambda: self.get(SYSTEM, "/ActiveBatteryService") == chosen, 20),
                      "... systemcalc's /ActiveBatteryService follows: %s" % self.get(SYSTEM, "/ActiveBatteryService"))
        self.set_setting(setting, dbus.String("default", variant_level=1))
        self.c.eq(self.set_setting("/Settings/SystemSetup/BmsInstance", dbus.Int32(inst, variant_level=1)), 0,
                  "the bank selected as the BMS on the GX")
        self.c.ok(wait_until(lambda: self.get(SYSTEM, "/ActiveBmsService") == SVC + "bank", 20),
                  "... /ActiveBmsService the bank's")
        self.set_setting("/Settings/SystemSetup/BmsInstance", dbus.Int32(-1, variant_level=1))
        self.c.ok(wait_until(lambda: self.get(SYSTEM, "/ActiveBatteryService") == "com.victronenergy.battery/%d" % inst,
                             20), "back to the default: the bank again")

    def judge_stale(self, t0, stale_at):
        ok = wait_until(lambda: self.get(MULTI, BOL + "MaxChargeCurrent") == 0 and
                        self.get(MULTI, BOL + "MaxDischargeCurrent") == 0, 30, step=0.01)
        t = time.monotonic()
        self.c.ok(ok, "a pack silent: DVCC writes 0 A both ways to the Multi")
        if ok:
            self.figures["silent_to_dvcc_zero_s"] = round(t - t0, 3)
            self.figures["stale_to_dvcc_zero_s"] = round(t - stale_at, 3)
        self.figures["systemcalc_pack_silent"] = self.view()
