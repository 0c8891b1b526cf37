#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A fake BlueZ for the tests: org.bluez on a private dbus-daemon.

Run with Debian's python3 (python3-dbus, python3-gi), with
DBUS_SYSTEM_BUS_ADDRESS pointing at the private bus (tests/ble/bus.conf):

    fake_bluez.py --spec SPEC.json --control 127.0.0.1:PORT

It exports what bmsgw uses of BlueZ's D-Bus API (bluez doc/org.bluez.*.rst):
ObjectManager on /, org.bluez.Adapter1 (StartDiscovery, StopDiscovery,
SetDiscoveryFilter, RemoveDevice, Powered, Discovering), Device1 (Connect ->
Connected, then the GATT objects, then ServicesResolved, all as
PropertiesChanged / InterfacesAdded; Disconnect; Address, Name, RSSI,
ManufacturerData, ServiceData, UUIDs, Paired), GattService1 and
GattCharacteristic1 (UUID, Flags, MTU, StartNotify, StopNotify, WriteValue
with its options, ReadValue; notifications as PropertiesChanged Value).

SPEC (JSON):
  {"adapters": [{"name": "hci0", "address": "00:1A:7D:DA:71:13", "powered": true}],
   "devices": [{"address": "A4:C1:38:00:00:01", "name": "xiaoxiang BMS",
                "adapter": "hci0", "known": true, "rssi": -62, "paired": false,
                "uuids": ["0000ff00-0000-1000-8000-00805f9b34fb"],
                "manufacturer": {"737": "1002..."},      # company (decimal) -> hex
                "service_data": {"00003333-0000-1000-8000-00805f9b34fb": "01"},  # ServiceData: uuid -> hex
                "layout": "PROTOCOL" | "PROTOCOL:N" |    # a layout of the driver table (ble_layouts.py)
                          "jk2" | "nus" | "daly-new" | ... |     # a device of ble_layouts.LAYOUTS
                          [custom],
                "mode": "bridge" | "recorded" | "adv" | "none",
                "sim": "127.0.0.1:PORT",                 # bridge / adv: bmsgw-sim's TCP port
                "chunk": 20,                             # notification size, 0 = as read (merged)
                "notify_records": false,                 # bridge: the simulator sends records (below)
                "records": [["DDA50300FFFD77", "DD03..77"], ...],   # recorded mode
                "connect_delay": 0.2,                    # seconds Connect takes
                "unlock": "HiLink",                      # an unlock on FFFA (below)
                "max_write": 20,                         # a longer write refused (InvalidValueLength)
                "write_delay": 0.05}]}                   # WriteValue answered this late

Modes: bridge = every write goes to the simulator and what comes back is
notified in `chunk`-byte pieces; recorded = a request (hex) is answered with
its recorded frames; adv = no connection: while discovery runs, the BMS_ADV
records read from the simulator (AD 5E company-lo company-hi n data) are
published as ManufacturerData changes; none = advertises only.

A link of channels (a table layout with more characteristics, dometic:
ble_layouts.channels) bridges records both ways: AD 53 s 00 to the
simulator when notifier s is switched on, AD 57 w n data when writer w is
written, and its AD 4E k n data notified on notifier k.

A layout with two notifiers (superb:2, the Super-B Epsilon v2) needs to be
told which one a frame goes out on: with "notify_records" the bridge reads
the simulator's bytes as records

    AD 4E k n data[n]     data notified on the k-th notifier of the layout
                          (its characteristics with the notify or indicate
                          flag, in the layout's order; 0 = the first)

each notified in `chunk`-byte pieces like a bridged answer (bytes before a
record's AD 4E are dropped); without it every answer goes out on the first
notifier that notifies.  state's notifying_all: the UUIDs of the
characteristics that notify.

A device with "unlock" (TDT) is locked on each connection: it takes
nothing written to its other characteristics (counted in locked_writes,
never bridged) and drops the link after unlock_drop seconds (4), until
that text is written with response to FFFA; FFFA then reads 01 (00
before).  Every different value written is recorded in written, in the
order first seen (hex, the characteristic's 16-bit UUID first:
"fff2:7e00...").

When ready it prints "ready" and flushes.  The control port takes one
command a line and answers one line ("ok", "error: ..." or JSON):

  state                       JSON: per device connected, connects, writes,
                              write_types, written (each different value
                              written, "uuid16:hex"), write_sizes (writes
                              per length), too_long (refused beyond
                              max_write), overlaps (a write before the
                              answer to the one before, with write_delay),
                              notifies; per adapter
                              max_pending_connects, connected, max_connected ...
  hide ADDR                   unknown to BlueZ until discovery runs
  connect ADDR inprogress N   the next N Connect() fail with org.bluez.Error.InProgress
  connect ADDR hang N         the next N Connect() never return
  connect ADDR fail N         the next N Connect() fail with org.bluez.Error.Failed
  connect_delay ADDR S        Connect() takes S seconds
  disconnect ADDR             drop the connection now (Connected -> false)
  midrecord ADDR              the next answer: its first chunk, then the connection drops
  mute ADDR 1|0               notifications stop (writes still reach the simulator)
  remove ADDR                 InterfacesRemoved (it comes back with the next discovery)
  power ADAPTER 1|0           Powered; off drops every connection and discovery
  quit
"""
import argparse
import json
import os
import socket
import sys
import time

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ble_layouts import AdvRecords, channels, chunks, layout, u16  # noqa: E402 - the layouts shared with fake_esphome.py

BLUEZ = "org.bluez"
IF_ADAPTER = "org.bluez.Adapter1"
IF_DEVICE = "org.bluez.Device1"
IF_SERVICE = "org.bluez.GattService1"
IF_CHAR = "org.bluez.GattCharacteristic1"
IF_PROPS = "org.freedesktop.DBus.Properties"
IF_OM = "org.freedesktop.DBus.ObjectManager"




class Failed(dbus.exceptions.DBusException):
    def __init__(self, name, msg):
        super().__init__(msg, name=name)


def ay(b):
    return dbus.Array([dbus.Byte(x) for x in b], signature="y")


class Obj(dbus.service.Object):
    """An object with properties per interface and PropertiesChanged."""

    def __init__(self, bz, path):
        self.bz = bz
        self.path = path
        self.props = {}
        super().__init__(bz.bus, path)

    def changed(self, iface, **kv):
        for k, v in kv.items():
            self.props[iface][k] = v
        self.PropertiesChanged(iface, dbus.Dictionary(kv, signature="sv"), dbus.Array([], signature="s"))

    @dbus.service.method(IF_PROPS, in_signature="ss", out_signature="v")
    def Get(self, iface, name):
        return self.props[iface][name]

    @dbus.service.method(IF_PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return dbus.Dictionary(self.props.get(iface, {}), signature="sv")

    @dbus.service.method(IF_PROPS, in_signature="ssv")
    def Set(self, iface, name, value):
        if iface == IF_ADAPTER and name == "Powered":
            self.set_powered(bool(value))
            return
        raise Failed("org.bluez.Error.NotPermitted", "read only")

    @dbus.service.signal(IF_PROPS, signature="sa{sv}as")
    def PropertiesChanged(self, iface, changed, invalidated):
        pass

    def managed(self):
        return dbus.Dictionary({k: dbus.Dictionary(v, signature="sv") for k, v in self.props.items()},
                               signature="sa{sv}")


class Root(dbus.service.Object):
    def __init__(self, bz):
        self.bz = bz
        super().__init__(bz.bus, "/")

    @dbus.service.method(IF_OM, out_signature="a{oa{sa{sv}}}")
    def GetManagedObjects(self):
        return dbus.Dictionary({o.path: o.managed() for o in self.bz.exported()}, signature="oa{sa{sv}}")

    @dbus.service.signal(IF_OM, signature="oa{sa{sv}}")
    def InterfacesAdded(self, path, ifaces):
        pass

    @dbus.service.signal(IF_OM, signature="oas")
    def InterfacesRemoved(self, path, ifaces):
        pass


class Adapter(Obj):
    def __init__(self, bz, spec):
        self.name = spec.get("name", "hci0")
        super().__init__(bz, "/org/bluez/" + self.name)
        self.props[IF_ADAPTER] = {
            "Address": spec.get("address", "00:1A:7D:DA:71:13"), "Name": "fake", "Alias": "fake",
            "Powered": dbus.Boolean(spec.get("powered", True)), "Discovering": dbus.Boolean(False),
            "Discoverable": dbus.Boolean(False), "Pairable": dbus.Boolean(True),
            "UUIDs": dbus.Array([], signature="s")}
        self.discovery_clients = set()
        self.filters = []
        self.tick = None

    def powered(self):
        return bool(self.props[IF_ADAPTER]["Powered"])

    def set_powered(self, on):
        if on == self.powered():
            return
        if not on:
            for d in self.bz.devices.values():
                if d.adapter is self and d.connected():
                    d.drop()
            self.discovery_clients.clear()
            self.discovery_changed()
        self.changed(IF_ADAPTER, Powered=dbus.Boolean(on))

    def discovering(self):
        return bool(self.discovery_clients)

    def discovery_changed(self):
        on = self.discovering()
        if bool(self.props[IF_ADAPTER]["Discovering"]) != on:
            self.changed(IF_ADAPTER, Discovering=dbus.Boolean(on))
        if on and self.tick is None:
            self.tick = GLib.timeout_add(500, self.advertise)
            GLib.idle_add(self.advertise)
        elif not on and self.tick is not None:
            GLib.source_remove(self.tick)
            self.tick = None

    def advertise(self):
        """While discovering: hidden devices appear, known ones report RSSI and
        their advertisement data (DuplicateData: every time)."""
        if not self.discovering():
            return False
        for d in self.bz.devices.values():
            if d.adapter is not self:
                continue
            if not d.exported:
                d.export()
            else:
                d.changed(IF_DEVICE, RSSI=dbus.Int16(d.spec.get("rssi", -60)))
            d.advertise()
        return True

    @dbus.service.method(IF_ADAPTER, sender_keyword="sender")
    def StartDiscovery(self, sender=None):
        if not self.powered():
            raise Failed("org.bluez.Error.NotReady", "Resource Not Ready")
        if sender in self.discovery_clients:
            raise Failed("org.bluez.Error.InProgress", "Operation already in progress")
        self.discovery_clients.add(sender)
        self.bz.stats["discovery_starts"] += 1
        self.discovery_changed()

    @dbus.service.method(IF_ADAPTER, sender_keyword="sender")
    def StopDiscovery(self, sender=None):
        if sender not in self.discovery_clients:
            raise Failed("org.bluez.Error.Failed", "No discovery started")
        self.discovery_clients.discard(sender)
        self.discovery_changed()

    @dbus.service.method(IF_ADAPTER, in_signature="a{sv}")
    def SetDiscoveryFilter(self, f):
        self.filters.append({str(k): (str(v) if isinstance(v, dbus.String) else bool(v) if isinstance(v, dbus.Boolean)
                                      else None) for k, v in f.items()})

    @dbus.service.method(IF_ADAPTER, out_signature="as")
    def GetDiscoveryFilters(self):
        return ["UUIDs", "RSSI", "Pathloss", "Transport", "DuplicateData", "Discoverable", "Pattern"]

    @dbus.service.method(IF_ADAPTER, in_signature="o")
    def RemoveDevice(self, path):
        for d in self.bz.devices.values():
            if d.path == path and d.exported:
                d.unexport()
                return
        raise Failed("org.bluez.Error.DoesNotExist", "Does Not Exist")


class Char(Obj):
    def __init__(self, bz, dev, path, uuid, flags):
        super().__init__(bz, path)
        self.dev = dev
        self.refuse_notify = "!notify-refused" in flags
        flags = [f for f in flags if not f.startswith("!")]
        self.props[IF_CHAR] = {
            "UUID": uuid, "Service": dbus.ObjectPath(path.rsplit("/", 1)[0]),
            "Flags": dbus.Array(flags, signature="s"), "Notifying": dbus.Boolean(False),
            "Value": ay(b""), "MTU": dbus.UInt16(dev.spec.get("mtu", 23))}

    def flags(self):
        return list(self.props[IF_CHAR]["Flags"])

    def notifying(self):
        return bool(self.props[IF_CHAR]["Notifying"])

    def notify(self, data):
        if self.notifying() and self.dev.connected():
            self.bz.stats_dev(self.dev)["notifies"] += 1
            self.changed(IF_CHAR, Value=ay(data))

    @dbus.service.method(IF_CHAR)
    def StartNotify(self):
        if not self.dev.connected():
            raise Failed("org.bluez.Error.Failed", "Not connected")
        if "notify" not in self.flags() and "indicate" not in self.flags():
            raise Failed("org.bluez.Error.NotSupported", "Operation is not supported")
        if self.refuse_notify:
            raise Failed("org.bluez.Error.NotPermitted", "Notify not permitted")
        if not self.notifying():
            self.changed(IF_CHAR, Notifying=dbus.Boolean(True))
            if self.dev.chans:  # a link of channels: the simulator hears of it
                self.dev.written(bytes([0xAD, 0x53, self.dev.notifiers().index(self), 0]))

    @dbus.service.method(IF_CHAR)
    def StopNotify(self):
        if self.notifying():
            self.changed(IF_CHAR, Notifying=dbus.Boolean(False))

    def uuid16(self):
        return str(self.props[IF_CHAR]["UUID"])[4:8]

    def is_unlock(self):
        return "unlock" in self.dev.spec and self.uuid16() == "fffa"

    @dbus.service.method(IF_CHAR, in_signature="a{sv}", out_signature="ay")
    def ReadValue(self, options):
        if self.is_unlock():
            return ay(b"\x01" if self.dev.unlocked else b"\x00")
        return self.props[IF_CHAR]["Value"]

    @dbus.service.method(IF_CHAR, in_signature="aya{sv}", async_callbacks=("reply", "error"))
    def WriteValue(self, value, options, reply, error):
        """A write; a device with "write_delay" answers it that many
        seconds later, counting a write that comes before the answer to the
        one before it (overlaps)."""
        try:
            self.write_value(bytes(value), options)
        except dbus.exceptions.DBusException as e:
            error(e)
            return
        delay = float(self.dev.spec.get("write_delay", 0))
        if delay <= 0:
            reply()
            return
        st = self.bz.stats_dev(self.dev)
        if self.dev.wpending:
            st["overlaps"] += 1
        self.dev.wpending += 1

        def answered():
            self.dev.wpending -= 1
            reply()
            return False
        GLib.timeout_add(int(delay * 1000), answered)

    def write_value(self, value, options):
        if not self.dev.connected():
            raise Failed("org.bluez.Error.Failed", "Not connected")
        typ = str(options.get("type", "")) or ("request" if "write" in self.flags() else "command")
        if typ == "command" and "write-without-response" not in self.flags():
            raise Failed("org.bluez.Error.NotSupported", "Operation is not supported")
        if typ == "request" and "write" not in self.flags():
            raise Failed("org.bluez.Error.NotPermitted", "Write not permitted")
        st = self.bz.stats_dev(self.dev)
        if len(value) > int(self.dev.spec.get("max_write", 512)):
            st["too_long"] += 1
            raise Failed("org.bluez.Error.InvalidValueLength", "Invalid Length")
        st["writes"] += 1
        st["write_types"][typ] = st["write_types"].get(typ, 0) + 1
        st["write_sizes"][str(len(value))] = st["write_sizes"].get(str(len(value)), 0) + 1
        # every different value written, as the characteristic's 16-bit UUID
        # and hex ("fff2:7e00..."), in the order first seen (the tests check
        # that only a protocol's unlock and read requests were written)
        hx = "%s:%s" % (self.uuid16(), bytes(value).hex())
        if hx not in st["written"] and len(st["written"]) < 64:
            st["written"].append(hx)
        if self.is_unlock():
            if typ == "request" and bytes(value) == self.dev.spec["unlock"].encode():
                self.dev.unlocked = True
            return
        if "unlock" in self.dev.spec and not self.dev.unlocked:
            st["locked_writes"] += 1
            return
        if self.dev.chans:  # a link of channels: which writer took it
            value = bytes([0xAD, 0x57, self.dev.writers().index(self), len(value)]) + bytes(value)
        self.dev.written(bytes(value))


class Device(Obj):
    def __init__(self, bz, adapter, spec):
        self.addr = spec["address"].upper()
        super().__init__(bz, "%s/dev_%s" % (adapter.path, self.addr.replace(":", "_")))
        self.adapter = adapter
        self.spec = spec
        self.exported = False
        self.gatt = []          # Obj of services and characteristics, while connected
        self.pending = []       # Connect() calls that hang
        self.faults = {"inprogress": 0, "hang": 0, "fail": 0}
        self.mute = False
        self.midrecord = False
        self.wpending = 0
        self.unlocked = False
        self.sim = None
        self.sim_watch = None
        self.adv = AdvRecords()
        self.rx = b""  # notify_records: a record not whole yet
        self.chans = channels(spec)
        props = {"Address": self.addr, "AddressType": "public", "Alias": spec.get("name", self.addr),
                 "Paired": dbus.Boolean(spec.get("paired", False)), "Trusted": dbus.Boolean(False),
                 "Blocked": dbus.Boolean(False), "Connected": dbus.Boolean(False),
                 "ServicesResolved": dbus.Boolean(False), "Adapter": dbus.ObjectPath(adapter.path),
                 "LegacyPairing": dbus.Boolean(False),
                 "UUIDs": dbus.Array([str(u) for u in spec.get("uuids", [])], signature="s")}
        if spec.get("name"):
            props["Name"] = spec["name"]
        if spec.get("rssi") is not None:
            props["RSSI"] = dbus.Int16(spec["rssi"])
        mfr = self.mfr_dict(spec.get("manufacturer", {}))
        if mfr:
            props["ManufacturerData"] = mfr
        if spec.get("service_data"):
            props["ServiceData"] = dbus.Dictionary(
                {str(k): dbus.Array([dbus.Byte(x) for x in bytes.fromhex(v)], signature="y", variant_level=1)
                 for k, v in spec["service_data"].items()}, signature="sv")
        self.props[IF_DEVICE] = props
        if spec.get("mode") == "adv" and spec.get("sim"):
            self.open_sim()

    @staticmethod
    def mfr_dict(m):
        return dbus.Dictionary({dbus.UInt16(int(k)): dbus.Array([dbus.Byte(x) for x in bytes.fromhex(v)],
                                                                  signature="y", variant_level=1)
                                for k, v in m.items()}, signature="qv")

    def connected(self):
        return bool(self.props[IF_DEVICE]["Connected"])

    def export(self):
        if self.exported:
            return
        self.exported = True
        self.bz.root.InterfacesAdded(self.path, self.managed())

    def unexport(self):
        if not self.exported:
            return
        if self.connected():
            self.drop(quiet=True)
        self.exported = False
        self.bz.root.InterfacesRemoved(self.path, dbus.Array([IF_DEVICE], signature="s"))

    # ---- advertisements
    def advertise(self):
        if self.spec.get("mode") == "adv":
            return  # published when a record comes from the simulator
        if "manufacturer" in self.spec:
            self.changed(IF_DEVICE, ManufacturerData=self.mfr_dict(self.spec["manufacturer"]))

    # ---- the connection
    def drop(self, quiet=False):
        """The link is gone: Connected false, GATT objects removed."""
        self.close_sim()
        if self.connected():
            self.bz.stats_adapter(self.adapter)["connected"] -= 1
            self.changed(IF_DEVICE, ServicesResolved=dbus.Boolean(False))
            self.changed(IF_DEVICE, Connected=dbus.Boolean(False))
        for o in reversed(self.gatt):
            iface = IF_CHAR if isinstance(o, Char) else IF_SERVICE
            self.bz.root.InterfacesRemoved(o.path, dbus.Array([iface], signature="s"))
            o.remove_from_connection()
        self.gatt = []
        self.bz.stats_dev(self)["drops"] += 1

    def layout(self):
        return layout(self.spec)

    def build_gatt(self):
        handle = 1
        for suuid, chars in self.layout():
            spath = "%s/service%04x" % (self.path, handle)
            svc = Obj(self.bz, spath)
            svc.props[IF_SERVICE] = {"UUID": u16(suuid), "Primary": dbus.Boolean(True),
                                     "Device": dbus.ObjectPath(self.path)}
            self.gatt.append(svc)
            self.bz.root.InterfacesAdded(spath, svc.managed())
            handle += 1
            for cuuid, flags in chars:
                ch = Char(self.bz, self, "%s/char%04x" % (spath, handle), u16(cuuid), flags)
                self.gatt.append(ch)
                self.bz.root.InterfacesAdded(ch.path, ch.managed())
                handle += 2

    def notifier(self):
        for o in self.gatt:
            if isinstance(o, Char) and o.notifying():
                return o
        return None

    def notifiers(self):
        """The layout's characteristics that can notify, in its order."""
        return [o for o in self.gatt if isinstance(o, Char) and ("notify" in o.flags() or "indicate" in o.flags())]

    def writers(self):
        """The layout's characteristics that take a write, in its order."""
        return [o for o in self.gatt if isinstance(o, Char) and
                ("write" in o.flags() or "write-without-response" in o.flags())]

    @dbus.service.method(IF_DEVICE, async_callbacks=("ok", "err"))
    def Connect(self, ok, err):
        st = self.bz.stats_dev(self)
        st["connects"] += 1
        st["connect_t"] = time.time()  # the last Connect asked (wall clock: the tests' figures)
        ad = self.bz.stats_adapter(self.adapter)
        ad["pending_connects"] += 1
        ad["max_pending_connects"] = max(ad["max_pending_connects"], ad["pending_connects"])

        def done_err(name, msg):
            ad["pending_connects"] -= 1
            err(Failed(name, msg))

        if not self.adapter.powered():
            return done_err("org.bluez.Error.NotReady", "Resource Not Ready")
        if not self.exported:
            return done_err("org.freedesktop.DBus.Error.UnknownObject", "no such object")
        if self.faults["inprogress"] > 0:
            self.faults["inprogress"] -= 1
            return done_err("org.bluez.Error.InProgress", "In Progress")
        if self.faults["fail"] > 0:
            self.faults["fail"] -= 1
            return done_err("org.bluez.Error.Failed", "le-connection-abort-by-local")
        if self.faults["hang"] > 0:
            self.faults["hang"] -= 1
            self.pending.append((ok, err))  # never answered; counts as pending for good
            return
        if self.connected():
            ad["pending_connects"] -= 1
            ok()
            return

        def finish():
            ad["pending_connects"] -= 1
            if not self.adapter.powered() or not self.exported:
                err(Failed("org.bluez.Error.Failed", "le-connection-abort-by-local"))
                return False
            if self.spec.get("mode") == "bridge" and not self.open_sim():
                err(Failed("org.bluez.Error.Failed", "Software caused connection abort"))
                return False
            self.changed(IF_DEVICE, Connected=dbus.Boolean(True))
            ad["connected"] += 1
            ad["max_connected"] = max(ad["max_connected"], ad["connected"])
            self.unlocked = False
            self.build_gatt()
            ok()
            if "unlock" in self.spec:
                # as the TDT: a link not unlocked in time is dropped
                GLib.timeout_add(int(1000 * float(self.spec.get("unlock_drop", 4.0))),
                                 lambda: (self.connected() and not self.unlocked and self.drop()) and False)
            # as BlueZ: ServicesResolved once the services are browsed
            GLib.timeout_add(20, lambda: (self.connected() and
                                          self.changed(IF_DEVICE, ServicesResolved=dbus.Boolean(True))) and False)
            return False
        GLib.timeout_add(int(1000 * float(self.spec.get("connect_delay", 0.05))), finish)

    @dbus.service.method(IF_DEVICE)
    def Disconnect(self):
        self.bz.stats_dev(self)["disconnect_calls"] += 1
        # as BlueZ: a Disconnect() cancels a connection attempt in progress
        ad = self.bz.stats_adapter(self.adapter)
        for ok, err in self.pending:
            ad["pending_connects"] -= 1
            err(Failed("org.bluez.Error.Failed", "le-connection-abort-by-local"))
        self.pending = []
        if self.connected():
            self.drop()

    @dbus.service.method(IF_DEVICE)
    def Pair(self):
        self.changed(IF_DEVICE, Paired=dbus.Boolean(True))

    # ---- bytes
    def written(self, data):
        mode = self.spec.get("mode", "bridge")
        if mode == "bridge" and self.sim:
            try:
                self.sim.sendall(data)
            except OSError:
                self.drop()
        elif mode == "recorded":
            for req, answer in self.spec.get("records", []):
                if bytes.fromhex(req) == data:
                    GLib.timeout_add(5, lambda a=answer: self.emit(bytes.fromhex(a)) and False)
                    return

    def emit(self, data, k=None):
        """data notified on the first notifier that notifies, or on the k-th
        notifier of the layout (if it notifies)."""
        if k is None:
            n = self.notifier()
        else:
            ns = self.notifiers()
            n = ns[k] if k < len(ns) and ns[k].notifying() else None
        if n is None or self.mute:
            return
        parts = chunks(self.spec, data)
        for i, c in enumerate(parts):
            n.notify(c)
            if self.midrecord and i == 0 and len(parts) > 1:
                self.midrecord = False
                self.drop()
                return

    def open_sim(self):
        host, port = self.spec["sim"].rsplit(":", 1)
        try:
            self.sim = socket.create_connection((host, int(port)), timeout=2)
        except OSError:
            self.sim = None
            return False
        self.sim.setblocking(False)
        self.sim_watch = GLib.io_add_watch(self.sim.fileno(), GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR, self.sim_in)
        return True

    def close_sim(self):
        if self.spec.get("mode") == "adv":
            return
        if self.sim_watch is not None:
            GLib.source_remove(self.sim_watch)
            self.sim_watch = None
        if self.sim:
            self.sim.close()
            self.sim = None
        self.rx = b""  # a record cut by the drop

    def sim_in(self, fd, cond):
        try:
            data = self.sim.recv(4096)
        except BlockingIOError:
            return True
        except OSError:
            data = b""
        if not data:
            self.sim_watch = None
            if self.spec.get("mode") == "adv":
                self.sim.close()
                self.sim = None
                return False
            self.drop()
            return False
        if self.spec.get("mode") == "adv":
            self.adv_records(data)
        elif self.spec.get("notify_records") or self.chans:
            self.notify_records(data)
        else:
            self.emit(data)
        return True

    def notify_records(self, data):
        """The simulator's AD 4E k n data records: data on notifier k."""
        self.rx += data
        while len(self.rx) >= 4:
            if self.rx[0] != 0xAD or self.rx[1] != 0x4E:
                self.rx = self.rx[1:]
                continue
            k, n = self.rx[2], self.rx[3]
            if len(self.rx) < 4 + n:
                return
            rec, self.rx = self.rx[4:4 + n], self.rx[4 + n:]
            self.emit(rec, k)

    def adv_records(self, data):
        for company, rec in self.adv.feed(data):
            if self.adapter.discovering() and self.exported and not self.mute:
                self.changed(IF_DEVICE, ManufacturerData=self.mfr_dict({str(company): rec.hex()}))


class FakeBluez:
    def __init__(self, bus, spec):
        self.bus = bus
        self.stats = {"discovery_starts": 0, "devices": {}, "adapters": {}}
        self.root = Root(self)
        self.adapters = {}
        for a in spec.get("adapters", [{"name": "hci0"}]):
            ad = Adapter(self, a)
            self.adapters[ad.name] = ad
        self.devices = {}
        for d in spec.get("devices", []):
            ad = self.adapters[d.get("adapter", "hci0")]
            dev = Device(self, ad, d)
            self.devices[dev.addr] = dev
            if d.get("known", True):
                dev.exported = True

        # as BlueZ: a client that leaves the bus loses its discovery session
        bus.add_signal_receiver(self.owner_changed, signal_name="NameOwnerChanged",
                                dbus_interface="org.freedesktop.DBus", bus_name="org.freedesktop.DBus")

    def owner_changed(self, name, old, new):
        if old and not new:
            for a in self.adapters.values():
                if name in a.discovery_clients:
                    a.discovery_clients.discard(name)
                    a.discovery_changed()

    def exported(self):
        out = list(self.adapters.values())
        for d in self.devices.values():
            if d.exported:
                out.append(d)
                out += d.gatt
        return out

    def stats_dev(self, d):
        return self.stats["devices"].setdefault(d.addr, {"connects": 0, "writes": 0, "write_types": {},
                                                         "notifies": 0, "drops": 0, "disconnect_calls": 0,
                                                         "written": [], "locked_writes": 0, "write_sizes": {},
                                                         "too_long": 0, "overlaps": 0})

    def stats_adapter(self, a):
        return self.stats["adapters"].setdefault(a.name, {"pending_connects": 0, "max_pending_connects": 0,
                                                          "connected": 0, "max_connected": 0})

    def state(self):
        out = {"discovery_starts": self.stats["discovery_starts"], "adapters": {}, "devices": {}}
        for a in self.adapters.values():
            out["adapters"][a.name] = dict(self.stats_adapter(a), powered=a.powered(), discovering=a.discovering(),
                                           filters=a.filters)
        for d in self.devices.values():
            n = d.notifier()
            out["devices"][d.addr] = dict(self.stats_dev(d), connected=d.connected(), exported=d.exported,
                                          notifying=n.path if n else None, hanging=len(d.pending),
                                          notifying_all=[str(c.props[IF_CHAR]["UUID"]) for c in d.notifiers()
                                                         if c.notifying()])
        return out

    def command(self, line):
        w = line.split()
        if not w:
            return "error: empty"
        if w[0] == "state":
            return json.dumps(self.state())
        if w[0] == "quit":
            GLib.idle_add(loop.quit)
            return "ok"
        if w[0] == "power" and len(w) == 3 and w[1] in self.adapters:
            self.adapters[w[1]].set_powered(w[2] == "1")
            return "ok"
        if len(w) < 2 or w[1].upper() not in self.devices:
            return "error: unknown command or device"
        d = self.devices[w[1].upper()]
        if w[0] == "hide":
            d.unexport()
        elif w[0] == "remove":
            d.unexport()
        elif w[0] == "connect" and len(w) == 4 and w[2] in d.faults:
            d.faults[w[2]] = int(w[3])
        elif w[0] == "connect_delay" and len(w) == 3:
            d.spec["connect_delay"] = float(w[2])
        elif w[0] == "disconnect":
            d.drop()
        elif w[0] == "midrecord":
            d.midrecord = True
        elif w[0] == "mute" and len(w) == 3:
            d.mute = w[2] == "1"
        else:
            return "error: unknown command"
        return "ok"


def control_server(fake, hostport):
    host, port = hostport.rsplit(":", 1)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, int(port)))
    ls.listen(8)
    ls.setblocking(False)

    def on_client(fd, cond, conn, buf):
        try:
            data = conn.recv(4096)
        except BlockingIOError:
            return True
        except OSError:
            data = b""
        if not data:
            conn.close()
            return False
        buf[0] += data
        while b"\n" in buf[0]:
            line, buf[0] = buf[0].split(b"\n", 1)
            try:
                ans = fake.command(line.decode().strip())
            except Exception as e:  # noqa: BLE001 - the answer says what went wrong
                ans = "error: %s" % e
            try:
                conn.sendall((ans + "\n").encode())
            except OSError:
                pass
        return True

    def on_accept(fd, cond):
        conn, _ = ls.accept()
        conn.setblocking(True)
        GLib.io_add_watch(conn.fileno(), GLib.IO_IN | GLib.IO_HUP, on_client, conn, [b""])
        return True
    GLib.io_add_watch(ls.fileno(), GLib.IO_IN, on_accept)
    return ls


loop = None


def main():
    global loop
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", required=True)
    ap.add_argument("--control", required=True)
    a = ap.parse_args()
    with open(a.spec) as f:
        spec = json.load(f)
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    import os
    bus = dbus.bus.BusConnection(os.environ["DBUS_SYSTEM_BUS_ADDRESS"])
    fake = FakeBluez(bus, spec)
    name = dbus.service.BusName(BLUEZ, bus, do_not_queue=True)  # noqa: F841 - held while running
    ls = control_server(fake, a.control)  # noqa: F841
    loop = GLib.MainLoop()
    print("ready", flush=True)
    loop.run()


if __name__ == "__main__":
    sys.exit(main())
