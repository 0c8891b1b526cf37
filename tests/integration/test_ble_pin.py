#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: parts=2 build=normal
"""A Bluetooth BMS's PIN (`[pack.NAME] pin`, issue 100 item 2) end to end,
without a radio: the real bmsgw against the simulator's packs behind the
fake BlueZ (tests/ble/fake_bluez.py, on a private dbus-daemon) and behind
the fake ESPHome proxy (tests/ble/fake_esphome.py), for every protocol
whose BMS asks for one (PINS: jbd's module PIN, ant's board password, the
families of issue 100 that take a secret).

- the right PIN: the pack online, /api/state's auth "ok", the simulator
  took the PIN once on its one connection (its exchange byte for byte in
  the fake's written values, where the case gives it);
- a wrong PIN: /api/state's auth "failed" and its error "auth failed",
  the pack offline (exception 0x0B), the log's auth failed line once, and
  no second try within the next seconds (the simulator counts one);
- the PIN never in the log (at debug, where every request's bytes are
  shown: the PIN's only by its length), /api/state, /api/config (only
  "set") or /metrics;
- the pace: a refused PIN is tried again a minute later at the soonest,
  and the log still holds its line once (the JBD through BlueZ: the one
  case that waits for it, 60 s and more).

Prints "N passed, N failed"; tests/run.sh runs it in parts (my_part()).
"""
import json
import os
import re
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esp_harness import EspFake  # noqa: E402
from harness import Checks, Gateway, Sim, api_state, free_port, my_part, wait_until  # noqa: E402
import test_ble  # noqa: E402 - the fake BlueZ's harness (Bus, Fake, device, ...)
from test_ble import BASE, Fake, device, read_raw, run_on_private_bus  # noqa: E402

c = Checks()
test_ble.c = c

# (protocol, the BMS's PIN, a wrong one, the fake device's layout and name,
# uuids, the PIN's exchange as written (hex; None: not checked here), the
# pack's other keys, whether the PIN goes once a connection (else in every
# request: lolan))
PINS = [
    ("jbd", "731946", "000000", "jbd", "xiaoxiang BMS", ["0000ff00-0000-1000-8000-00805f9b34fb"],
     "ffaa1506373331393436" "59", "", True),
    ("ant", "73194655", "12345678", "ant", "ANT-BLE16ZMUB", [], None, "", True),
    # dometic: APP+AEN=<secret> on 0001; a wrong one is left unanswered
    ("dometic", "h0tel", "wr0ng", "dometic", "KAA_500219_TLB150", [], b"APP+AEN=h0tel".hex(), "address = 1\n",
     True),
    ("smartbms123", "7319", "8642", "smartbms123", "123\\SmartBMS", [], b"PW7319!\r".hex(), "", True),
    ("saftkiste", "h0T3l!", "ABC123", "saftkiste", "3000SARKYA", [], "f0ff10" + b"h0T3l!".hex() + "00e7806948", "",
     True),
    ("lolan", "73194655", "12345678", "lolan", "LOLAN8S45A", [], "c565%08x" % 73194655, "", False),
]


def http_text(http, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (http, path), timeout=5) as r:
            return r.read().decode()
    except OSError:
        return ""


def pack_state(http):
    return next((p for p in api_state(http).get("packs", []) if p.get("pack") == "p"), {})


def conf(port, http, proto, mac, pin, proxy=None, extra=""):
    return ("[gateway]\nlisten = 127.0.0.1:%d\nstale_after = 5\nstate_file = none\nlog_level = debug\n"
            "[http]\nlisten = 127.0.0.1:%d\n%s[pack.p]\nprotocol = %s\nport = ble://%s\nunit_id = 1\n"
            "poll_interval = 0.5\npin = %s\n%s%s" % (port, http, proxy or "", proto, mac, pin,
                                                       "adapter = shed\n" if proxy else "", extra))


def secret_kept(label, gw, http, pin):
    """The PIN nowhere the daemon shows things; /api/config says it is set."""
    seen = {"the log": gw.text(), "/api/state": http_text(http, "/api/state"),
            "/metrics": http_text(http, "/metrics"), "/api/config": http_text(http, "/api/config")}
    c.eq([k for k, v in seen.items() if pin in v], [], label + ": the PIN never in the log (debug), /api/state, "
         "/api/config or /metrics")
    cfg = json.loads(seen["/api/config"] or "{}")
    c.eq(cfg.get("pack.p", {}).get("pin"), "set", label + ": /api/config shows the pin as set")
    c.ok(re.search(r"\(\d+ bytes\): a secret \(the pack's pin\), not shown", seen["the log"]) is not None,
         label + ": the debug log shows the PIN's request by its length only")


def run_case(proto, good, bad, layout, name, uuids, exchange, extra, once, stack):
    mac = "C8:47:93:00:00:%02X" % (PINS.index(next(r for r in PINS if r[0] == proto)) + 1)
    for pin, right in ((good, True), (bad, False)):
        sim = Sim(protocol=proto, packs=("address=1,pin=%s" % good,))
        dev = device(mac, sim, layout=layout, chunk=20, name=name, uuids=uuids)
        fake = Fake([dev]) if stack == "BlueZ" else EspFake({"devices": [dev]})
        proxy = None if stack == "BlueZ" else "[ble_proxy.shed]\nhost = 127.0.0.1\nport = %d\n" % fake.port
        port, http = free_port(), free_port()
        label = "%s through %s, %s PIN" % (proto, stack, "the right" if right else "a wrong")
        gw = Gateway(conf(port, http, proto, mac, pin, proxy, extra), port)
        try:
            if right:
                c.ok(wait_until(lambda: test_ble.online(port, 1), 30), label + ": online")
                c.eq(pack_state(http).get("auth"), "ok", label + ": /api/state auth ok")
                p = sim.state()["packs"][0]
                if once:
                    c.eq((p["pin_tries"], p["pin_refused"], p["authed"]), (1, 0, 1),
                         label + ": the simulator took the PIN once, on its one connection")
                else:
                    c.ok(p["pin_tries"] >= 2 and p["pin_refused"] == 0, label + ": the simulator took the "
                         "password in every request (%d), refused none" % p["pin_tries"])
                if exchange:
                    st = fake.dev(mac)
                    c.ok(exchange in test_ble.values(st), label + ": the PIN's exchange byte for byte (%s)" % exchange)
            else:
                c.ok(wait_until(lambda: pack_state(http).get("auth") == "failed", 30), label + ": /api/state auth "
                     "failed (%s)" % pack_state(http).get("auth"))
                st = pack_state(http)
                c.ok("auth failed" in (st.get("error") or "") or "auth failed" in json.dumps(api_state(http)),
                     label + ": its error says auth failed (%s)" % st.get("error"))
                _, exc, _ = read_raw(port, 1, BASE, 2)
                c.eq(exc, 0x0B, label + ": the pack offline (exception 0x0B)")
                time.sleep(6)  # a wait that must pass without a second try (the pace: 60 s)
                p = sim.state()["packs"][0]
                c.eq((p["pin_tries"], p["pin_refused"]), (1, 1), label + ": one try in its first seconds (%s)" % p)
                lines = [l for l in gw.text().splitlines() if "auth failed" in l and "bmsgw error:" in l]
                c.eq(len(lines), 1, label + ": the log's auth failed line, once (%s)" % lines[:2])
            secret_kept(label, gw, http, pin)
            secret_kept(label + " (the simulator's)", gw, http, good)
        finally:
            if c.failed:
                gw.dump(30)
            gw.stop()
            fake.stop()
            sim.stop()


def test_pins():
    for row in PINS:
        for stack in ("BlueZ", "ESPHome proxy"):
            if my_part():
                print("== %s through %s" % (row[0], stack), flush=True)
                run_case(*row, stack)


def test_pace():
    """A refused PIN is tried again a minute later at the soonest; the log
    holds its line once."""
    if not my_part():
        return
    print("== the pace of a refused PIN (jbd through BlueZ, 60 s and more)", flush=True)
    mac = "C8:47:93:00:01:01"
    sim = Sim(protocol="jbd", packs=("address=1,pin=731946",))
    fake = Fake([device(mac, sim, layout="jbd", chunk=20)])
    port, http = free_port(), free_port()
    gw = Gateway(conf(port, http, "jbd", mac, "000000"), port)
    try:
        c.ok(wait_until(lambda: sim.state()["packs"][0]["pin_tries"] >= 1, 30), "the first try")
        t1 = time.monotonic()
        c.ok(wait_until(lambda: sim.state()["packs"][0]["pin_tries"] >= 2, 120), "a second try")
        dt = time.monotonic() - t1
        print("   figure: %.1f s between two tries of a refused PIN" % dt)
        c.ok(dt >= 59.0, "at least 60 s between them (%.1f s; the first seen within its poll)" % dt)
        lines = [l for l in gw.text().splitlines() if "auth failed" in l and "bmsgw error:" in l]
        c.eq(len(lines), 1, "the log's auth failed line once over both (%s)" % lines)
        c.eq(pack_state(http).get("auth"), "failed", "/api/state auth failed still")
    finally:
        if c.failed:
            gw.dump(30)
        gw.stop()
        fake.stop()
        sim.stop()


if __name__ == "__main__":
    sys.exit(run_on_private_bus(c, [("pins", test_pins), ("pace", test_pace)]))
