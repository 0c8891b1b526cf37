# SPDX-License-Identifier: MIT
"""What the Venus tests and bench share: a private dbus-daemon that can come
back at the same address (Bus), calls as a Victron client makes them
(Client), venus_watch.py's signals with their times (Watch)."""
import json
import os
import sys

import dbus

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, Proc, wait_until  # noqa: E402

PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
IFACE = "com.victronenergy.BusItem"
SVC = "com.victronenergy.battery.bmsgw_"


def plain(v):
    if isinstance(v, dbus.Array):
        return None if len(v) == 0 else [plain(x) for x in v]
    if isinstance(v, dbus.Double):
        return float(v)
    if isinstance(v, (dbus.Int32, dbus.Int64, dbus.UInt32, dbus.Int16, dbus.UInt16, dbus.Byte)):
        return int(v)
    if isinstance(v, dbus.String):
        return str(v)
    if isinstance(v, dbus.Dictionary):
        return {str(k): plain(x) for k, x in v.items()}
    return v


class Bus(Proc):
    """A private dbus-daemon on a fixed socket (so that it can come back at
    the same address), with the permissive policy of the BLE tests."""

    def __init__(self, sock):
        self.address = "unix:path=" + sock
        if os.path.exists(sock):
            os.unlink(sock)
        super().__init__(["dbus-daemon", "--config-file=" + os.path.join(ROOT, "tests/ble/bus.conf"),
                          "--address=" + self.address, "--nofork"], "dbus")
        if not wait_until(lambda: self.conn() is not None, 10):
            self.dump()
            raise RuntimeError("dbus-daemon did not start")

    def restart(self):
        self.__init__(self.address[len("unix:path="):])

    def conn(self):
        try:
            return dbus.bus.BusConnection(self.address)
        except dbus.exceptions.DBusException:
            return None


class Client:
    """Calls on the bus as a Victron client makes them."""

    def __init__(self, address):
        self.b = dbus.bus.BusConnection(address)

    def call(self, svc, path, member, sig="", args=()):
        return self.b.call_blocking(svc, path, IFACE, member, sig, list(args), timeout=5)

    def get(self, svc, path):
        try:
            return plain(self.call(svc, path, "GetValue"))
        except dbus.exceptions.DBusException:
            return "absent"

    def items(self, svc):
        try:
            return {str(p): (plain(v["Value"]), str(v["Text"])) for p, v in self.call(svc, "/", "GetItems").items()}
        except dbus.exceptions.DBusException:
            return {}

    def names(self):
        return sorted(str(n) for n in self.b.list_names() if str(n).startswith(SVC))

    def owner(self, name):
        try:
            return str(self.b.get_name_owner(name))
        except dbus.exceptions.DBusException:
            return None


class Watch(Proc):
    """venus_watch.py: the signals on the bus, with their times."""

    def __init__(self, address):
        super().__init__([PY, os.path.join(HERE, "venus_watch.py"), address], "watch")
        if not wait_until(lambda: '"ready"' in self.text(), 10):
            self.dump()
            raise RuntimeError("the watcher did not start")

    def lines(self):
        out = []
        for line in self.text().splitlines():
            try:
                d = json.loads(line)
            except ValueError:
                continue
            if "sig" in d:
                out.append(d)
        return out

    def find(self, pred, since=0.0):
        for d in self.lines():
            if d["t"] >= since and pred(d):
                return d
        return None
