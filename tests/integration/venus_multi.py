#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A Multi (com.victronenergy.vebus.ttyS3) for the Venus tests with
Victron's own code: velib_python's VeDbusService from the checkout in
$BMSGW_VICTRON/velib_python, with the paths DVCC (dbus-systemcalc-py
its dvcc delegate) reads of a VE.Bus system and the battery operational
limits it writes: /BatteryOperationalLimits/{MaxChargeVoltage,
MaxChargeCurrent, MaxDischargeCurrent, BatteryLowVoltage}, writable, which
the test reads back.  As velib_python's dbusdummyservice makes one.
Usage: venus_multi.py BUS_ADDRESS
"""
import os
import sys

import dbus
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

sys.path.insert(0, os.path.join(os.environ["BMSGW_VICTRON"], "velib_python"))
from vedbus import VeDbusService  # noqa: E402

PATHS = {
    "/State": 9,                     # inverting
    "/Mode": 3,
    "/FirmwareFeatures/BolFrame": 1,
    "/Ac/ActiveIn/Connected": 0,
    "/Dc/0/Voltage": None,
    "/Dc/0/Current": 0.0,
    "/Dc/0/MaxChargeCurrent": 100.0,
    "/Hub/ChargeVoltage": None,
    "/Bms/AllowToCharge": None,
    "/Bms/BmsType": None,
    "/BatteryOperationalLimits/MaxChargeVoltage": None,
    "/BatteryOperationalLimits/MaxChargeCurrent": None,
    "/BatteryOperationalLimits/MaxDischargeCurrent": None,
    "/BatteryOperationalLimits/BatteryLowVoltage": None,
    "/Hub4/L1/DoNotFeedInOvervoltage": 0,
    "/Interfaces/Mk2/ProductName": "MultiPlus-II",
}


def main():
    DBusGMainLoop(set_as_default=True)
    conn = dbus.bus.BusConnection(sys.argv[1])
    s = VeDbusService("com.victronenergy.vebus.ttyS3", conn, register=False)
    s.add_mandatory_paths(__file__, "test", "VE.Bus", 276, 0x2623, "MultiPlus-II 48/3000", 0x502, 0, 1)
    for path, v in PATHS.items():
        s.add_path(path, v, writeable=True)
    s.register()
    loop = GLib.MainLoop()
    conn.call_on_disconnection(lambda *a: loop.quit())
    print("ready", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
