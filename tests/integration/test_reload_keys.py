#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Every key of every section, changed by SIGHUP, is in force afterwards.

The keys come from `bmsgw --keys` (the key table, conf/conf.c), so a new
key is covered the moment its row exists: a number, a flag or a word gets
a new value from its range or its words; any other type needs a line in
NEW below, or the test fails for it.

One daemon runs with every section. For each key in turn, the file is
rewritten with the key's new value and the daemon gets SIGHUP; the reload
must be applied, and /api/config, which shows each section as the part
that runs it holds it (an output's own copy: its service's `held` hook;
the rest from the running configuration), must show the new value where
it showed another before.  For [pack.NAME] the reload's summary line must
also match the key's class (live: the pack and its wire are kept; restart:
the pack starts again; relink: its wire opens again); a new [gateway] or
[http] listen address must be served; the output that holds the section
must run (one that is off would show the running configuration's value).
No key is refused at reload by design: every change must be applied.
The file holds [ble_proxy.p]'s key, so it stays its owner's only (mode
600): bmsgw refuses a key in a file other users can read."""
import base64
import functools
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BIN, ROOT, Checks, Gateway, Sim, free_port, pty_pair, user_line, wait_port,  # noqa: E402
                     wait_until)

c = Checks()


def keys_table():
    """(section, key, type, min, max, words, reload) of each row of the key table."""
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "--keys"], capture_output=True, text=True,
                         check=True).stdout
    rows = []
    for line in out.splitlines():
        sect, key, typ, lo, hi, words, _default, reload = line.split("\t")
        rows.append((sect, key, typ, float(lo.lstrip(">")), lo.startswith(">"), float(hi),
                     words.split(",") if words else [], reload))
    return rows


def base_conf(tmp, ports, ptys):
    """The sections, in order: [title] -> {key: value}."""
    return [
        ("gateway", {"listen": "127.0.0.1:%d" % ports["gw"], "state_file": "none"}),
        ("pack.a", {"protocol": "daly", "port": "tcp://127.0.0.1:%d" % ports["sim"], "address": "1",
                    "unit_id": "1", "poll_interval": "0.2", "timeout": "0.3", "retries": "0"}),
        ("pack.b", {"protocol": "jbd", "port": ptys["pack"], "unit_id": "5", "poll_interval": "0.2",
                    "timeout": "0.2", "retries": "0"}),
        ("pack.l", {"protocol": "seplos3", "port": "tcp://127.0.0.1:%d" % ports["sim3"], "address": "1",
                    "unit_id": "9", "poll_interval": "0.2", "timeout": "0.3", "retries": "0"}),
        # a CAN input, listen only: the simulator's JK CAN battery as its slcan adapter
        ("pack.c", {"protocol": "jk-can", "port": "slcan://" + ptys["canp"], "unit_id": "11",
                    "poll_interval": "0.2"}),
        ("pack.v", {"protocol": "victron-ble", "port": "ble://C8:47:8C:E1:23:45", "unit_id": "7",
                    "key": "0123456789abcdef0123456789abcdef", "poll_interval": "0.2", "timeout": "0.3"}),
        # a JBD over Bluetooth LE: the pin its module may ask for (none at first)
        ("pack.j", {"protocol": "jbd", "port": "ble://A4:C1:38:00:00:07", "unit_id": "15", "poll_interval": "0.2",
                    "timeout": "0.3"}),
        # a pack that arrives over MQTT (through [mqtt]'s broker, which nobody
        # runs here: what is checked is the configuration in force)
        ("pack.m", {"protocol": "mqtt-json", "topic": "node/m/state", "fields": "voltage:v, soc:s",
                    "unit_id": "13", "cells": "32", "chemistry": "lfp"}),
        ("bank", {"packs": "a, b"}),
        ("upstream.u", {"host": "127.0.0.1", "port": str(ports["up"]), "source": "a", "base": "0"}),
        ("mqtt", {"host": "127.0.0.1", "port": str(ports["mqtt"]), "username": "u",
                  "password_file": os.path.join(tmp, "pw")}),
        ("tunnel.t", {"port": ptys["pack"], "listen": "127.0.0.1:%d" % ports["tun"], "clients": "127.0.0.1"}),
        # HTTPS from the start (HTTP <-> HTTPS is a new server: tls_cert is
        # changed to another certificate of the same key)
        ("http", {"listen": "127.0.0.1:%d" % ports["http"], "tls_cert": os.path.join(tmp, "cert1"),
                  "tls_key": os.path.join(tmp, "key1")}),
        ("history", {"file": os.path.join(tmp, "h.db")}),
        ("ble", {"adapter": "hci0"}),
        # an ESPHome Bluetooth proxy nobody answers for (its link fails and
        # retries; what is checked is the configuration in force): its key
        # makes the configuration file a secret, refused readable by others
        ("ble_proxy.p", {"host": "127.0.0.1", "port": str(ports["proxy"]), "encryption_key": PROXY_KEY}),
        ("limits", {}),
        ("inverter.rs", {"protocol": "pylon-rs485", "port": ptys["inv"], "source": "a"}),
        ("inverter.can", {"protocol": "sma-can", "port": "slcan://" + ptys["can"], "source": "a"}),
        ("inverter.p", {"protocol": "pylon-can", "port": "slcan://" + ptys["can2"], "source": "a"}),
        # a high-voltage output (pack m's 32 cells: 80-116.8 V) for the identity keys its protocol
        # takes (gateway/inverter/dialects.c); report_cells switches it to pylon-hv-can, instance to rvc,
        # variant to sma-hv-can (ALSO: at most four inverters)
        ("inverter.hv", {"protocol": "solax-can", "port": "slcan://" + ptys["can3"], "source": "m"}),
        ("sunspec", {"serial": "ABC"}),
        ("rtu", {"port": ptys["rtu"]}),
        ("soc", {}),
        ("modbus_tls", {"listen": "127.0.0.1:%d" % ports["tls"], "cert": os.path.join(tmp, "cert1"),
                        "key": os.path.join(tmp, "key1"), "ca": os.path.join(tmp, "cert1")}),
        # an e-mail destination nobody answers for (it fails and retries;
        # what is checked is the configuration in force)
        ("alerts.m", {"url": "smtp://127.0.0.1:%d" % ports["smtp"], "to": "a@example.org", "from": "b@example.org",
                      "on": "alarm, stale, imbalance"}),
        ("health", {}),
        # an InfluxDB nobody answers for (its POSTs fail and are retried;
        # what is checked is the configuration in force)
        ("influx", {"url": "http://127.0.0.1:%d" % ports["influx"], "database": "bmsgw"}),
        # a D-Bus nobody runs (its connection fails and is tried again; what
        # is checked is the configuration in force)
        ("venus", {"bus": "unix:path=" + os.path.join(tmp, "nobus")}),
    ]


# The instance of a named section whose key changes (the first one of the
# section unless said here).
INSTANCE = {
    ("pack", "baud"): "pack.b",               # a serial wire
    ("pack", "key"): "pack.v",                # an advertisement key: a Victron BLE pack
    ("pack", "pin"): "pack.j",                # a PIN: a JBD over Bluetooth LE
    ("pack", "adapter"): "pack.v",            # a Bluetooth pack's
    ("pack", "bitrate"): "pack.c",            # a CAN port's
    ("pack", "control"): "pack.b",            # pack a speaks pace by then, which has no control
    ("pack", "bms_settings"): "pack.b",       # jbd writes the balancer (pack a speaks pace by then)
    ("pack", "listen"): "pack.l",             # seplos3, alone on its wire: a bus another master polls
    ("pack", "takeover_after"): "pack.l",     # listening by then
    ("pack", "topic"): "pack.m",              # an mqtt-json pack's
    ("pack", "fields"): "pack.m",
    ("inverter", "protocol"): "inverter.p",   # CAN to CAN
    ("inverter", "interval"): "inverter.can",  # CAN keys
    ("inverter", "extras"): "inverter.p",
    ("inverter", "manufacturer"): "inverter.can",
    ("inverter", "battery_type"): "inverter.hv",
    ("inverter", "report_modules"): "inverter.hv",
    ("inverter", "report_capacity_ah"): "inverter.hv",
    ("inverter", "report_cells"): "inverter.hv",
    ("inverter", "variant"): "inverter.hv",
    ("inverter", "instance"): "inverter.hv",
}

# [ble_proxy.p]'s encryption_key (32 bytes in base64), then its new one
PROXY_KEY = base64.b64encode(bytes(range(32))).decode()
PROXY_KEY2 = base64.b64encode(bytes(range(100, 132))).decode()

# New values of the keys whose type has no rule below (and of those whose
# rule would break another key's check): (section, key) -> value, or a
# function of (tmp, ports, ptys).  The expected text in /api/config is the
# value unless EXPECT says otherwise.
NEW = {
    ("gateway", "listen"): lambda tmp, ports, ptys: "127.0.0.1:%d" % ports["gw2"],
    ("gateway", "state_file"): lambda tmp, ports, ptys: os.path.join(tmp, "state"),
    ("gateway", "control_clients"): "127.0.0.1",
    ("gateway", "site"): "cabin",
    ("http", "allowed_hosts"): "bmsgw.example, *.lan",  # the page's extra names (a request by 127.0.0.1 passes)            # the label: /metrics, MQTT prefix and HA ids (test_site.py)
    ("pack", "protocol"): "pace",             # pace: address_any and position below apply
    ("pack", "port"): lambda tmp, ports, ptys: "tcp://127.0.0.1:%d" % ports["sim2"],
    ("pack", "baud"): "19200",
    ("pack", "bitrate"): "500000",            # jk-can's other rate (250000 is its default)
    ("pack", "poll_interval"): "0.3",         # the generic rules would slow the counters down
    ("pack", "timeout"): "0.4",
    ("pack", "key"): "00112233445566778899aabbccddeeff",
    ("pack", "pin"): "4321",
    ("pack", "topic"): "node/m/other",
    ("pack", "fields"): "voltage:v2, current:i",
    ("bank", "packs"): "a",
    ("bank", "strings"): "a+b",               # packs in series (packs = goes: the two are one list)
    ("bank", "shunt"): "v",                   # a Victron shunt, no member of packs = a, b
    ("upstream", "host"): "localhost",
    ("upstream", "source"): "b",
    ("upstream", "registers"): "0-99",
    ("mqtt", "host"): "localhost",
    ("mqtt", "client_id"): "keys",
    ("mqtt", "username"): "v",
    ("mqtt", "password_file"): lambda tmp, ports, ptys: os.path.join(tmp, "pw2"),
    ("mqtt", "ca_file"): lambda tmp, ports, ptys: os.path.join(tmp, "cert1"),
    ("mqtt", "cert_file"): lambda tmp, ports, ptys: os.path.join(tmp, "cert2"),
    ("mqtt", "key_file"): lambda tmp, ports, ptys: os.path.join(tmp, "key2"),
    ("mqtt", "topic_prefix"): "keys",
    ("mqtt", "discovery_prefix"): "ha",
    ("tunnel", "port"): lambda tmp, ports, ptys: "tcp://127.0.0.1:%d" % ports["sim2"],  # pack a's port now
    ("tunnel", "listen"): lambda tmp, ports, ptys: "127.0.0.1:%d" % ports["tun2"],
    ("tunnel", "clients"): "127.0.0.0/8",
    ("http", "listen"): lambda tmp, ports, ptys: "127.0.0.1:%d" % ports["http2"],
    ("http", "clients"): "127.0.0.0/8",
    ("http", "tls_cert"): lambda tmp, ports, ptys: os.path.join(tmp, "cert2"),
    ("http", "tls_key"): lambda tmp, ports, ptys: os.path.join(tmp, "key2"),
    ("http", "users_file"): lambda tmp, ports, ptys: os.path.join(tmp, "users"),  # the requests carry its login
    ("history", "file"): lambda tmp, ports, ptys: os.path.join(tmp, "h2.db"),
    ("ble", "adapter"): "hci1",
    ("pack", "adapter"): "p",                 # pack v through [ble_proxy.p]
    ("ble_proxy", "host"): "localhost",
    ("ble_proxy", "encryption_key"): PROXY_KEY2,
    ("ble_proxy", "password_file"): lambda tmp, ports, ptys: os.path.join(tmp, "pw"),
    ("limits", "max_cell_voltage"): "4.15",   # chemistry is nmc by then
    ("limits", "float_cell_voltage"): "4.05",
    ("limits", "min_cell_voltage"): "3.1",
    ("limits", "charge_cell_table"): "3.4:1, 3.5:0.5, 3.6:0",
    ("limits", "discharge_cell_table"): "2.8:0, 3:0.5, 3.1:1",
    ("limits", "charge_temp_table"): "0:0, 5:0.5, 10:1, 45:1, 50:0",
    ("limits", "discharge_temp_table"): "-20:0, -10:1, 50:1, 60:0",
    ("limits", "mos_temp_table"): "75:1, 85:0",
    ("limits", "soc_charge_table"): "90:1, 100:0.5",
    ("limits", "soc_discharge_table"): "0:0, 10:1",
    ("inverter", "baud"): "19200",
    ("rtu", "baud"): "19200",
    ("inverter", "port"): lambda tmp, ports, ptys: ptys["inv2"],
    ("inverter", "source"): "b",
    ("inverter", "extras"): "capacity, cells",
    ("pack", "bms_settings"): "balancer",     # a flags key: jbd's (a cell voltage would want chemistry)
    ("inverter", "manufacturer"): "BMSGW",
    ("inverter", "ver"): "0x21",
    ("sunspec", "serial"): "XYZ",
    ("rtu", "port"): lambda tmp, ports, ptys: ptys["rtu2"],
    ("pack", "charge_efficiency"): "0.95",    # [soc]'s 0.75 by then is the middle of its range
    ("modbus_tls", "listen"): lambda tmp, ports, ptys: "127.0.0.1:%d" % ports["tls2"],
    ("modbus_tls", "cert"): lambda tmp, ports, ptys: os.path.join(tmp, "cert2"),  # of the same key
    ("modbus_tls", "key"): lambda tmp, ports, ptys: os.path.join(tmp, "key2"),
    ("modbus_tls", "ca"): lambda tmp, ports, ptys: os.path.join(tmp, "cert2"),
    ("modbus_tls", "write_role"): "Viewer",
    ("alerts", "url"): lambda tmp, ports, ptys: "smtp://127.0.0.1:%d" % ports["smtp2"],
    ("alerts", "to"): "c@example.org, d@example.org",
    ("alerts", "from"): "e@example.org",
    ("alerts", "username"): "alice",
    ("alerts", "password_file"): lambda tmp, ports, ptys: os.path.join(tmp, "pw2"),
    ("alerts", "ca_file"): lambda tmp, ports, ptys: os.path.join(tmp, "cert1"),
    ("alerts", "on"): "alarm, stale, imbalance, soc_below:20, weak_cell, ir_rise:30",
    ("venus", "bus"): lambda tmp, ports, ptys: "unix:path=" + os.path.join(tmp, "nobus2"),
    ("influx", "url"): lambda tmp, ports, ptys: "http://127.0.0.1:%d" % ports["influx2"],
    ("influx", "database"): "other",
    ("influx", "username"): "alice",
    ("influx", "password_file"): lambda tmp, ports, ptys: os.path.join(tmp, "pw2"),
    ("influx", "org"): "fleet",               # InfluxDB 2 from here on (ALSO)
    ("influx", "bucket"): "b2",
    ("influx", "token_file"): lambda tmp, ports, ptys: os.path.join(tmp, "pw2"),
    ("influx", "ca_file"): lambda tmp, ports, ptys: os.path.join(tmp, "cert1"),
}


def fnv1a(data):
    return "fnv1a:%08x" % functools.reduce(lambda h, b: ((h ^ b) * 16777619) & 0xffffffff, data, 2166136261)


EXPECT = {
    # shown as its fingerprint only (conf/keys.c): 32-bit FNV-1a of the 16 or 32 bytes
    ("pack", "key"): fnv1a(bytes.fromhex(NEW[("pack", "key")])),
    ("ble_proxy", "encryption_key"): fnv1a(base64.b64decode(PROXY_KEY2)),
    # a PIN is shown as set or not, never itself nor a fingerprint (a PIN's is guessed)
    ("pack", "pin"): "set",
}
# Keys written together with another one, which a check demands with it.
ALSO = {
    ("bank", "strings"): {"packs": None},
    ("mqtt", "tls"): {"cert_file": lambda tmp: os.path.join(tmp, "cert1"),  # a client certificate: both files
                      "key_file": lambda tmp: os.path.join(tmp, "key1")},
    # the simulator is no master: bmsgw takes its bus over at once, so that the pack is polled
    ("pack", "listen"): {"takeover_after": lambda tmp: "0.5"},
    # a password is for the plaintext API: the key goes (None: the key removed)
    ("ble_proxy", "password_file"): {"encryption_key": None},
    # a password needs a user
    ("alerts", "password_file"): {"username": lambda tmp: "alice"},
    ("influx", "username"): {"password_file": lambda tmp: os.path.join(tmp, "pw")},
    ("influx", "password_file"): {"username": lambda tmp: "alice"},
    # InfluxDB 2: org, bucket and a token, none of InfluxDB 1's keys
    ("influx", "org"): {"database": None, "username": None, "password_file": None,
                        "bucket": lambda tmp: "b", "token_file": lambda tmp: os.path.join(tmp, "pw")},
    # report_cells is pylon-hv-can's (solax-can carries no cell count), which takes no battery_type
    ("inverter", "report_cells"): {"protocol": lambda tmp: "pylon-hv-can", "battery_type": None},
    # instance is rvc's (its DC source instance), which takes none of the identity keys
    ("inverter", "instance"): {"protocol": lambda tmp: "rvc", "report_cells": None, "report_modules": None,
                               "report_capacity_ah": None, "battery_type": None},
    # variant is sma-hv-can's (pack m is in its window), which takes no instance
    ("inverter", "variant"): {"protocol": lambda tmp: "sma-hv-can", "instance": None},
}


# [http] speaks HTTPS (a test certificate: not verified) and, once
# users_file is set, asks for this admin's login, which every request sends;
# its first check is PBKDF2 (at the fewest rounds, harness.user_line: what
# changes here is the file, not the hashing; at --hash-password's 600,000 a
# check took 1.4 s of CPU in the sanitized build, over 10 s under a loaded
# suite): an answer is waited for 60 s
TLS = ssl._create_unverified_context()
LOGIN = {"Authorization": "Basic " + base64.b64encode(b"keys:keys-Pass-31").decode()}


def get_json(port, path):
    req = urllib.request.Request("https://127.0.0.1:%d%s" % (port, path), headers=LOGIN)
    with urllib.request.urlopen(req, timeout=60, context=TLS) as r:
        return json.loads(r.read().decode())


def render(conf):
    return "".join("[%s]\n%s" % (t, "".join("%s = %s\n" % kv for kv in d.items())) for t, d in conf)


def number(v):
    return "%.10g" % v


def generic(row, cur):
    """A new value for a number, a flag or a word, from its range or words
    and its value now (text, "" for none); None: no rule for the type."""
    _sect, _key, typ, lo, above, hi, words, _r = row
    if typ == "bool":
        return "false" if cur == "true" else "true"
    if typ == "word":
        return words[(words.index(cur) + 1) % len(words)] if cur in words else words[0]
    if typ in ("int", "double"):
        v = float(cur) if cur else None
        cands = [v + 1, v * 2, v / 2, (lo + hi) / 2] if v is not None else [lo + 1, (lo + hi) / 2]
        for n in cands:
            if typ == "int":
                n = float(int(n))
            if (n > lo if above else n >= lo) and n <= hi and n != v:
                return number(n)
    return None


class Daemon:
    def __init__(self, tmp, conf, ports):
        self.tmp, self.conf, self.ports = tmp, conf, ports
        self.gw = Gateway(render(conf), ports["gw"])
        self.http = ports["http"]
        self.reloads = 0

    def config(self):
        return get_json(self.http, "/api/config")

    def reload(self):
        """Write the file, SIGHUP; the reload's result as logged."""
        with open(self.gw.conf, "w") as f:
            f.write(render(self.conf))
        self.reloads += 1
        n = self.reloads
        pat = re.compile(r"reload #%d: applied|reload #%d failed" % (n, n))
        start = len(self.gw.text().splitlines())
        self.gw.p.send_signal(signal.SIGHUP)
        # a bound on a hang, not a latency: a reload with TLS keys on a loaded
        # machine took over 10 s, and a reload not waited for left its keys
        # in the file for the next one
        got = wait_until(lambda: [l for l in self.gw.text().splitlines()[start:] if pat.search(l)], 60)
        return got[0] if got else "no reload line"


def section_of(conf, title):
    for t, d in conf:
        if t == title:
            return d
    raise KeyError(title)


def state(d):
    return get_json(d.http, "/api/state")


def running(st, sect, name):
    """Does the output that holds section sect (instance name) run?  One
    that is off shows the running configuration's value in /api/config,
    which would prove nothing.  (Upstreams are not in /api/state.)"""
    names = {"tunnel": "tunnels", "inverter": "inverters"}
    if sect in ("mqtt", "history", "http", "influx", "venus"):
        return st.get(sect) is not None
    if sect in names:
        return name in [o.get("name") for o in st.get(names[sect]) or []]
    if sect == "alerts":
        return name in [o.get("name") for o in st.get("alerts") or []]
    if sect == "rtu":
        return (st.get("modbus") or {}).get("rtu") is not None
    if sect == "modbus_tls":
        return (st.get("modbus") or {}).get("tls") is not None
    return True


def polls(d, name):
    """Polls so far (good and failed) of pack NAME in /api/state, None: no such pack."""
    for p in state(d).get("packs", []):
        if p.get("pack") == name:
            return p["good_polls"] + p["failed_polls"]
    return None


def class_before(d, row, title):
    """For a pack's key: its polls before the reload (a pack that starts
    again counts from 0), after at least 3 when the key restarts it."""
    if row[0] != "pack":
        return None
    name = title.split(".", 1)[1]
    if row[7] != "live":
        wait_until(lambda: (polls(d, name) or 0) >= 3, 10)
    return polls(d, name)


def class_after(d, row, title, p0, what):
    if row[0] != "pack" or p0 is None:
        return
    p1 = polls(d, title.split(".", 1)[1])
    if row[7] == "live":
        c.ok(p1 is not None and p1 >= p0, "%s (live): the pack goes on, its %d polls kept (%s)" % (what, p0, p1))
    else:
        c.ok(p0 >= 3 and p1 is not None and p1 < p0,
             "%s (%s): the pack starts again (%s polls before, %s after)" % (what, row[7], p0, p1))


def switch(d, row):
    """A section's `enabled` (a flag whose false turns its output off): off
    by a reload (the output stops, /api/config leaves the section out),
    then on again (it runs, /api/config shows true), so the keys after it
    are changed on a running output."""
    sect = row[0]
    title = next((t for t, _ in d.conf if t.split(".")[0] == sect), None)
    what = "[%s] enabled" % sect
    if title is None:
        c.ok(False, "%s: the test's base configuration has a [%s] section (base_conf)" % (what, sect))
        return
    sec = section_of(d.conf, title)
    for val, on in (("false", False), ("true", True)):
        sec["enabled"] = val
        line = d.reload()
        c.ok("applied" in line, "%s = %s: the reload is applied (%s)" % (what, val, line))
        c.ok(wait_until(lambda: running(state(d), sect, None) == on, 10),
             "%s = %s: its output %s" % (what, val, "runs" if on else "stops"))
        got = d.config().get(title, {}).get("enabled")
        c.eq(got, "true" if on else None, "%s = %s: /api/config %s" % (what, val, "shows it" if on else
                                                                          "leaves the section out"))


def change(d, row, tmp, ports, ptys):
    sect, key = row[0], row[1]
    if key == "enabled" and row[2] == "bool":
        switch(d, row)
        return
    title = INSTANCE.get((sect, key)) or next((t for t, _ in d.conf if t.split(".")[0] == sect), None)
    if title is None:
        c.ok(False, "[%s] %s: the test's base configuration has a [%s] section (base_conf)" % (sect, key, sect))
        return
    before = d.config().get(title, {})
    cur = before.get(key)
    what = "[%s] %s" % (title, key)
    if cur is None:
        c.ok(False, "%s: /api/config shows the key" % what)
        return
    new = NEW.get((sect, key))
    if callable(new):
        new = new(tmp, ports, ptys)
    if new is None:
        new = generic(row, cur)
    if new is None:
        c.ok(False, "%s: the test has a new value for it (NEW in %s)" % (what, os.path.basename(__file__)))
        return
    want = EXPECT.get((sect, key), new)
    if cur == want:
        c.ok(False, "%s: the new value %r differs from the value now" % (what, want))
        return
    sec = section_of(d.conf, title)
    written = sec.get(key)
    sec[key] = new
    for k, v in ALSO.get((sect, key), {}).items():
        if v is None:
            sec.pop(k, None)
        else:
            sec[k] = v(tmp)
    if (sect, key) == ("http", "listen"):
        d.http = int(new.rsplit(":", 1)[1])
    p0 = class_before(d, row, title)
    line = d.reload()
    if "applied" not in line:
        c.ok(False, "%s = %s: the reload is applied (%s)" % (what, new, line))
        if written is None:  # back to what runs
            del sec[key]
        else:
            sec[key] = written
        if (sect, key) == ("http", "listen"):
            d.http = int(cur.rsplit(":", 1)[1])
        return
    if (sect, key) in (("gateway", "listen"), ("http", "listen")):
        c.ok(wait_port(int(new.rsplit(":", 1)[1]), 3), "%s: the new address %s is served" % (what, new))
    name = title.split(".", 1)[1] if "." in title else None
    c.ok(running(state(d), sect, name), "%s: its output runs" % what)
    got = d.config().get(title, {}).get(key)
    c.eq(got, want, "%s: %s -> %s in force" % (what, cur, want))
    class_after(d, row, title, p0, what)


def sequence(rows):
    """The keys in the order the values of NEW were chosen for: every section
    as bmsgw --keys lists them, but [soc] after the others and a pack's own
    [soc] keys (those [soc] has too) last (a value of one may rely on the
    changes before it: chemistry is nmc by the time [limits] is changed)."""
    soc = {r[1] for r in rows if r[0] == "soc"}
    return sorted(rows, key=lambda r: 2 if r[0] == "pack" and r[1] in soc else 1 if r[0] == "soc" else 0)


def main():
    rows = sequence(keys_table())
    c.ok(len(rows) > 100, "(test) bmsgw --keys lists the key table (%d keys)" % len(rows))
    tmp = tempfile.mkdtemp(prefix="bmsgw-keys-")
    for name in ("pw", "pw2"):
        with open(os.path.join(tmp, name), "w") as f:
            f.write("secret-%s\n" % name)
    # TLS files the client loads: two certificates of one key, the key
    # under two names (each key of [mqtt] changes alone)
    key1, key2 = os.path.join(tmp, "key1"), os.path.join(tmp, "key2")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key1, "-out",
                    os.path.join(tmp, "cert1"), "-days", "2", "-subj", "/CN=bmsgw-test"], check=True,
                   capture_output=True)
    subprocess.run(["openssl", "req", "-x509", "-key", key1, "-out", os.path.join(tmp, "cert2"), "-days", "2",
                    "-subj", "/CN=bmsgw-test2"], check=True, capture_output=True)
    shutil.copy(key1, key2)
    with open(os.path.join(tmp, "users"), "w") as f:
        f.write(user_line("keys", "admin", "keys-Pass-31"))
    for name in ("pw", "pw2", "key1", "key2", "users"):  # secrets: bmsgw refuses them readable by others
        os.chmod(os.path.join(tmp, name), 0o600)
    ptys = {}
    for name in ("pack", "pack2", "inv", "inv2", "can", "can2", "can3", "rtu", "rtu2"):
        ptys[name] = pty_pair(tmp, name)[0]
    ports = {k: free_port() for k in ("gw", "gw2", "sim", "sim2", "up", "up2", "mqtt", "mqtt2", "tun", "tun2",
                                      "http", "http2", "tls", "tls2", "proxy", "smtp", "smtp2",
                                      "influx", "influx2")}
    ptys["canp"] = os.path.join(tmp, "canp")
    sims = [Sim(), Sim(), Sim("seplos3"), Sim("jk-can", tcp=False, pty_path=ptys["canp"], packs=())]  # daly, address 1: pack a's wire, then the one its port moves to;
    ports["sim"], ports["sim2"], ports["sim3"] = sims[0].port, sims[1].port, sims[2].port  # pack l's
    conf = base_conf(tmp, ports, ptys)
    d = Daemon(tmp, conf, ports)
    try:
        # written by mkstemp (harness.write_conf), rewritten in place at each reload
        c.ok(os.stat(d.gw.conf).st_mode & 0o077 == 0, "(test) the configuration file, which holds a key, "
             "is its owner's only (mode %03o)" % (os.stat(d.gw.conf).st_mode & 0o777))
        c.ok(wait_until(lambda: d.config(), 5), "/api/config answers")
        for row in rows:
            change(d, row, tmp, ports, ptys)
        c.ok(d.gw.alive(), "bmsgw ran through %d reloads" % d.reloads)
        c.eq(d.gw.stop(), 0, "bmsgw stops cleanly on SIGTERM (the histories replaced on the way reaped)")
        c.ok("Sanitizer" not in d.gw.text(), "no sanitizer report")
    finally:
        if c.failed:
            d.gw.dump(40)
        d.gw.stop()
        for s in sims:
            s.stop()
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
