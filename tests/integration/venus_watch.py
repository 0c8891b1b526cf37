#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""What the Venus tests see on the bus, one JSON line each, with the
monotonic time it arrived (the same clock as the test's time.monotonic()):

  {"t": T, "sig": "P", "sender": ":1.4", "path": "/Soc", "value": 55.0}   PropertiesChanged
  {"t": T, "sig": "I", "sender": ":1.4", "n": 12, "items": {...}}        ItemsChanged
  {"t": T, "sig": "N", "name": "com.victronenergy.battery.bmsgw_a", "old": "", "new": ":1.4"}

Every com.victronenergy.BusItem signal on the bus and every
NameOwnerChanged of a com.victronenergy.* name; it ends with the bus.
Usage: venus_watch.py BUS_ADDRESS
"""
import json
import sys
import time

import dbus
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib


def plain(v):
    if isinstance(v, dbus.Array):
        return None if len(v) == 0 else [plain(x) for x in v]
    if isinstance(v, (dbus.Double,)):
        return float(v)
    if isinstance(v, (dbus.Int32, dbus.Int64, dbus.UInt32, dbus.Byte, dbus.Int16, dbus.UInt16)):
        return int(v)
    if isinstance(v, dbus.String):
        return str(v)
    if isinstance(v, dbus.Dictionary):
        return {str(k): plain(x) for k, x in v.items()}
    return v


def out(d):
    d["t"] = time.monotonic()
    print(json.dumps(d), flush=True)


def main():
    DBusGMainLoop(set_as_default=True)
    bus = dbus.bus.BusConnection(sys.argv[1])
    bus.add_signal_receiver(lambda ch, path=None, sender=None: out(
        {"sig": "P", "sender": str(sender), "path": str(path), "value": plain(ch.get("Value")),
         "text": str(ch.get("Text", ""))}),
        dbus_interface="com.victronenergy.BusItem", signal_name="PropertiesChanged",
        path_keyword="path", sender_keyword="sender")
    bus.add_signal_receiver(lambda items, sender=None: out(
        {"sig": "I", "sender": str(sender), "n": len(items),
         "items": {str(p): plain(v.get("Value")) for p, v in items.items()}}),
        dbus_interface="com.victronenergy.BusItem", signal_name="ItemsChanged", sender_keyword="sender")
    bus.add_signal_receiver(lambda name, old, new: out({"sig": "N", "name": str(name), "old": str(old),
                                                        "new": str(new)}) if name.startswith("com.victronenergy.") else None,
                            dbus_interface="org.freedesktop.DBus", signal_name="NameOwnerChanged")
    loop = GLib.MainLoop()
    bus.call_on_disconnection(lambda *a: loop.quit())
    # the match rules are in place once a call after them has its answer
    bus.call_blocking("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId", "", [])
    print(json.dumps({"ready": True, "t": time.monotonic()}), flush=True)
    loop.run()


if __name__ == "__main__":
    main()
