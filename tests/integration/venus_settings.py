#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A com.victronenergy.settings for the Venus tests where Victron's own
localsettings is not at hand (CI): the part of its D-Bus interface a driver
uses, written from localsettings (victronenergy/localsettings, MIT):

  /  com.victronenergy.Settings.AddSettings(aa{sv}) -> aa{sv}: each
     {path, default[, min, max, silent]} answered {path, error, value}; a
     setting that exists keeps its value; a new
     /Settings/Devices/*/ClassAndVrmInstance "CLASS:N" takes the next N of
     its class no other device holds (DevicesGroup.assureFreeInstance);
     a path outside /Settings is error -9, a default of another type -5
  each setting: com.victronenergy.BusItem GetValue, GetText, SetValue (0, or
     -1 for a value of another type), PropertiesChanged {Value, Text} on a
     change, as SettingObject sends it

Usage: venus_settings.py BUS_ADDRESS [STATE.json]: the settings are read
from and written to STATE.json when given (localsettings' XML file), so
that a restart keeps them; without it each start begins empty.
"""
import json
import os
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

IFACE = "com.victronenergy.BusItem"


class Setting(dbus.service.Object):
    def __init__(self, conn, path, value, owner):
        super().__init__(conn, path)
        self.path, self.value, self.owner = path, value, owner

    def wrap(self):
        return dbus.String(self.value, variant_level=1) if isinstance(self.value, str) else \
            dbus.Double(self.value, variant_level=1) if isinstance(self.value, float) else \
            dbus.Int32(self.value, variant_level=1)

    @dbus.service.method(IFACE, out_signature="v")
    def GetValue(self):
        return self.wrap()

    @dbus.service.method(IFACE, out_signature="s")
    def GetText(self):
        return str(self.value)

    @dbus.service.method(IFACE, in_signature="v", out_signature="i")
    def SetValue(self, v):
        kinds = {str: (dbus.String,), int: (dbus.Int32, dbus.Int64), float: (dbus.Double, dbus.Int32)}
        if not isinstance(v, kinds[type(self.value)]):
            return -1
        v = type(self.value)(v)
        if self.path.endswith("/ClassAndVrmInstance"):
            cls, _, n = v.partition(":")
            v = self.owner.free(cls, int(n), self.path)
        if v != self.value:
            self.value = v
            self.owner.save()
            self.PropertiesChanged({"Value": self.wrap(), "Text": str(v)})
        return 0

    @dbus.service.signal(IFACE, signature="a{sv}")
    def PropertiesChanged(self, changes):
        pass


class Root(dbus.service.Object):
    def __init__(self, conn, state):
        super().__init__(conn, "/")
        self.conn, self.state, self.settings = conn, state, {}
        if state and os.path.exists(state):
            with open(state) as f:
                for p, v in json.load(f).items():
                    self.settings[p] = Setting(conn, p, v, self)

    def save(self):
        if self.state:
            with open(self.state + ".new", "w") as f:
                json.dump({p: s.value for p, s in self.settings.items()}, f)
            os.replace(self.state + ".new", self.state)

    def free(self, cls, n, path):
        taken = {s.value for p, s in self.settings.items() if p != path and p.endswith("/ClassAndVrmInstance")}
        while "%s:%d" % (cls, n) in taken:
            n += 1
        return "%s:%d" % (cls, n)

    @dbus.service.method("com.victronenergy.Settings", in_signature="aa{sv}", out_signature="aa{sv}")
    def AddSettings(self, items):
        out = []
        for it in items:
            path, default = str(it.get("path", "")), it.get("default")
            r = {"path": path}
            out.append(r)
            if not path.startswith("/Settings/"):
                r["error"] = dbus.Int32(-9)
                continue
            kind = str if isinstance(default, dbus.String) else float if isinstance(default, dbus.Double) else int
            s = self.settings.get(path)
            if s and not isinstance(s.value, kind):
                r["error"] = dbus.Int32(-5)
                continue
            if not s:
                v = kind(default)
                if path.endswith("/ClassAndVrmInstance"):
                    cls, _, n = v.partition(":")
                    v = self.free(cls, int(n), path)
                s = self.settings[path] = Setting(self.conn, path, v, self)
                self.save()
            r["error"] = dbus.Int32(0)
            r["value"] = s.wrap()
        return out


def main():
    DBusGMainLoop(set_as_default=True)
    conn = dbus.bus.BusConnection(sys.argv[1])
    root = Root(conn, sys.argv[2] if len(sys.argv) > 2 else None)
    name = dbus.service.BusName("com.victronenergy.settings", conn, do_not_queue=True)
    loop = GLib.MainLoop()
    conn.call_on_disconnection(lambda *a: loop.quit())
    print("ready", flush=True)
    loop.run()
    del name, root


if __name__ == "__main__":
    main()
