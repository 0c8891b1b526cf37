#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""What the fake Bluetooth stacks of the tests share: the GATT layouts of the
simulated BMSs (the services and characteristics each brand's module
publishes, with their flags as BlueZ names them), a device spec's layout,
the notification chunks, and the reader of the simulator's advertisement
records.  Imported by tests/ble/fake_bluez.py (a fake BlueZ on D-Bus) and
tests/ble/fake_esphome.py (a fake ESPHome Bluetooth proxy), so that one
device spec (their docstrings) means the same device to both.

A layout is made from the driver table (`bmsgw --list-protocols --json`,
the binary of $BIN): the name of a protocol is the GATT layout its driver
tries first, "NAME:N" its N-th.  LAYOUTS below holds only the devices that
differ from what the table says (published flags, characteristics beside
the ones bmsgw uses, a StartNotify refused): each names the table layout it
must contain (check()), so that the copy cannot drift from the driver.
"""
import json
import os
import subprocess

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def u16(x):
    """A 16-bit UUID in its 128-bit form; a 128-bit one (a string) as it is."""
    return x if isinstance(x, str) else "0000%04x-0000-1000-8000-00805f9b34fb" % x


NUS = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"  # Nordic UART service: RX 6e400002 (write), TX 6e400003 (notify)

# The flags a made layout gives: a notifier reads and notifies, the written
# characteristic takes both writes (the flags no source of ours publishes),
# one characteristic that is both has all four.
NOTIFY = ["read", "notify"]
WRITE = ["read", "write-without-response", "write"]

# The devices that are not the table's: {name: (the table layout it must
# contain, its layout)}.
LAYOUTS = {
    # JBD: FF00 / FF01 notify / FF02 write without response (esphome-jbd-bms capture)
    "jbd": ("jbd", [(0xFF00, [(0xFF01, ["read", "notify"]), (0xFF02, ["read", "write-without-response"])])]),
    # JK new module: two FFE1, one to write, one that notifies
    "jk2": ("jk-ble", [(0xFFE0, [(0xFFE1, ["write", "write-without-response"]), (0xFFE1, ["read", "notify"])])]),
    # Renogy BT-2: write FFD1 of FFD0, notify FFF1 of FFF0 (aiobmsble renogy_bms)
    "renogy": ("renogy", [(0xFFD0, [(0xFFD1, ["write-without-response", "write"])]),
                          (0xFFF0, [(0xFFF1, ["read", "notify"])])]),
    # LiTime / Redodo / Power Queen: FFE0 / FFE1 notify / FFE2 write (calledit writes with response,
    # flags not published: both); FFE3 the module's AT channel (it notifies too: never the one)
    "litime": ("litime", [(0xFFE0, [(0xFFE3, ["read", "write", "notify"]), (0xFFE1, ["read", "notify"]),
                                    (0xFFE2, ["read", "write", "write-without-response"])])]),
    # Tian Power: FF00 / FF01 notify / FF02 write; FF03 notifies too (esphome-tianpower-bms)
    "tianpower": ("tianpower", [(0xFF00, [(0xFF01, ["read", "notify"]),
                                          (0xFF02, ["read", "write", "write-without-response"]),
                                          (0xFF03, ["read", "notify"])])]),
    # the Nordic UART service as its specification has it (E&J: Chins, Lithtech, Supervolt; Vatrer)
    "nus": ("chins", [(NUS, [("6e400002-b5a3-f393-e0a9-e50e24dcca9e", ["write", "write-without-response"]),
                             ("6e400003-b5a3-f393-e0a9-e50e24dcca9e", ["notify"])])]),
    # NEEY / Heltec balancer: FFE1 writes (with and without response) and notifies, FFE2 the same, FFE3
    # write only (properties 0x1c, 0x1c, 0x0c in syssi/esphome-jk-bms's GATT dumps of a GW-24S4EB)
    "neey": ("neey", [(0xFFE0, [(0xFFE1, ["write-without-response", "write", "notify"]),
                                (0xFFE2, ["write-without-response", "write", "notify"]),
                                (0xFFE3, ["write-without-response", "write"])])]),
    # Topband (KiloVault HLX+, Ective, Startcraft): FFE0 / FFE4 notify, FFE6 the name (read); nothing to
    # write to (aiobmsble topband_bms, syssi's topband_bms_v1_ble)
    "topband": ("topband", [(0xFFE0, [(0xFFE4, ["read", "notify"]), (0xFFE6, ["read"])])]),
    # Basen: FA00 / FA01 notify / FA02 write (properties 0x12 and 0x06 in syssi's esphome-basen-bms: read +
    # notify, read + write-without-response)
    "basen": ("basen", [(0xFA00, [(0xFA01, ["read", "notify"]), (0xFA02, ["read", "write-without-response"])])]),
    # Offgridtec Smart Pro: FFF0 / FFF4 notify / FFF6 write (properties 0x16 and 0x16 in syssi's
    # esphome-ogt-bms GATT dump: read, write without response, notify), besides FFF1 .. FFF3, FFF5
    "ogt": ("ogt", [(0xFFF0, [(0xFFF1, ["read", "write"]), (0xFFF2, ["read"]), (0xFFF3, ["write"]),
                              (0xFFF4, ["read", "write-without-response", "notify"]), (0xFFF5, ["read"]),
                              (0xFFF6, ["read", "write-without-response", "notify"])])]),
    # Super-B Epsilon v2 whose second notifier refuses StartNotify (a link that cannot come up)
    "superb2-refused": ("superb:2", [("cf9ccdf7-eee9-43ce-87a5-82b54af5324e",
                                      [("cf9ccdfa-eee9-43ce-87a5-82b54af5324e",
                                        ["read", "write-without-response", "write", "notify"]),
                                       ("e0fef452-9d2b-4005-a1e3-69fe1102b436", ["read", "notify", "!notify-refused"])])]),
    # Eco-Worthy BW02: FFF0 / FFF1 notify / FFF2 write (aiobmsble ecoworthy_bms; bmsgw never writes it)
    "ecoworthy": ("ecoworthy", [(0xFFF0, [(0xFFF1, ["read", "notify"]),
                                          (0xFFF2, ["read", "write-without-response", "write"])])]),
    # newer Daly firmware: StartNotify on FFF1 is refused, FF00 / FF01 / FF02 work
    "daly-new": ("daly-modbus:2", [(0xFFF0, [(0xFFF1, ["read", "notify", "!notify-refused"]),
                                             (0xFFF2, ["read", "write", "write-without-response"])]),
                                   (0xFF00, [(0xFF01, ["read", "notify"]), (0xFF02, ["read", "write-without-response"])])]),
}

_table = None


def table():
    """The driver table, {protocol name: its object of `bmsgw --list-protocols
    --json`}, of the binary of $BIN (default build), read once."""
    global _table
    if _table is None:
        exe = os.path.join(ROOT, os.environ.get("BIN", "build"), "bmsgw")
        out = subprocess.run([exe, "--list-protocols", "--json"], capture_output=True, text=True, check=True).stdout
        _table = {p["name"]: p for p in json.loads(out)}
    return _table


def table_gatt(name):
    """The table's GATT layout "NAME" (its driver's first) or "NAME:N" (its
    N-th): {service, notify, write, write_service, notify2}, and the unlock's
    characteristic (or None); None where there is no such layout."""
    proto, _, n = name.partition(":")
    p = table().get(proto)
    lays = (p.get("ble") or {}).get("layouts", []) if p else []
    i = int(n) - 1 if n.isdigit() else 0
    if not 0 <= i < len(lays):
        return None, None
    auth = (p["ble"].get("auth") or {}).get("characteristic")
    return lays[i], auth


def made(name):
    """The device of the table's layout `name`: its service with the notifier,
    the written characteristic (in its own service where the table says so),
    the second notifier and the unlock's characteristic; None where the
    table has no such layout."""
    g, auth = table_gatt(name)
    if g is None:
        return None
    svcs = {g["service"]: []}
    if g["write"] and g["write"] == g["notify"]:
        svcs[g["service"]].append((g["notify"], WRITE + ["notify"]))
    else:
        svcs[g["service"]].append((g["notify"], NOTIFY))
        if g["write"]:
            svcs.setdefault(g["write_service"] or g["service"], []).append((g["write"], WRITE))
    if g["notify2"]:
        svcs[g["service"]].append((g["notify2"], NOTIFY))
    for m in g.get("more") or []:  # a link of channels: its more characteristics, in their order
        svcs[g["service"]].append((m["uuid"], NOTIFY if m["notify"] else WRITE))
    if auth:
        svcs[g["service"]].append((auth, WRITE))
    return list(svcs.items())


def channels(spec):
    """Is the device a link of channels (its table layout has more
    characteristics, struct bms_gatt.more: Dometic)?  Then the bridge speaks
    records with the simulator both ways: what the gateway does goes to it
    as AD 53 s 00 (the notifications of notifier s switched on) and AD 57 w
    n data (data written to writer w), and its AD 4E k n data are notified
    on notifier k, the notifiers and the writers counted in the layout's
    order."""
    lay = spec.get("layout", "jbd")
    if not isinstance(lay, str) or lay in LAYOUTS:
        return False
    g, _auth = table_gatt(lay)
    return bool(g and g.get("more"))


def check(name):
    """What keeps the hand-made layout `name` from holding the table layout
    it names (its service, notifier and second notifier that notify, its
    written characteristic that takes a write, in their services): [] when
    it holds it."""
    want, lay = LAYOUTS[name]
    g, auth = table_gatt(want)
    if g is None:
        return ["%s: the table has no layout %s" % (name, want)]
    have = {u16(s).lower(): [(u16(c).lower(), f) for c, f in chars] for s, chars in lay}
    bad = []

    def has(svc, chr_, flags, what):
        if not chr_:
            return
        chars = have.get(svc)
        if chars is None:
            bad.append("%s: no service %s (%s)" % (name, svc, what))
        elif not any(c == chr_ and set(flags) & set(f) for c, f in chars):
            bad.append("%s: no %s %s with %s in %s" % (name, what, chr_, "/".join(flags), svc))
    has(g["service"], g["notify"], ["notify"], "notifier")
    has(g["service"], g["notify2"], ["notify"], "second notifier")
    has(g["write_service"] or g["service"], g["write"], ["write", "write-without-response"], "written")
    has(g["service"], auth, ["write", "write-without-response"], "unlock")
    return bad


def layout(spec):
    """The GATT layout of a device spec: [(service uuid, [(char uuid, flags)])];
    "layout" is a name of LAYOUTS, a protocol's ("NAME", "NAME:N", made from
    the driver table; default "jbd"), or a list of
    {"uuid": "fff0", "chars": [{"uuid": "fff1", "flags": ["notify"]}]}."""
    lay = spec.get("layout", "jbd")
    if isinstance(lay, str):
        if lay in LAYOUTS:
            return LAYOUTS[lay][1]
        got = made(lay)
        if got is None:
            raise KeyError("no GATT layout %r: neither in LAYOUTS nor in the driver table" % lay)
        return got
    return [(int(s["uuid"], 16), [(int(c["uuid"], 16), c["flags"]) for c in s["chars"]]) for s in lay]


def chunks(spec, data):
    """data cut in the device's notification size ("chunk", 20; 0 = whole)."""
    size = int(spec.get("chunk", 20)) or len(data)
    return [data[i:i + size] for i in range(0, len(data), size)]


class AdvRecords:
    """The simulator's advertisement records, from a byte stream of
    AD 5E company-lo company-hi n data[n] (bmsgw-sim's BMS_ADV); bytes before
    a record's start are skipped."""

    def __init__(self):
        self.rx = b""

    def feed(self, data):
        """The complete records so far: [(company, bytes)]."""
        out = []
        self.rx += data
        while len(self.rx) >= 5:
            if self.rx[0] != 0xAD or self.rx[1] != 0x5E:
                self.rx = self.rx[1:]
                continue
            n = self.rx[4]
            if len(self.rx) < 5 + n:
                break
            company = self.rx[2] | self.rx[3] << 8
            rec, self.rx = self.rx[5:5 + n], self.rx[5 + n:]
            out.append((company, rec))
        return out
