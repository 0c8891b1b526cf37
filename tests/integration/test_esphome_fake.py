#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The fake ESPHome Bluetooth proxy (tests/ble/fake_esphome.py) speaks the
native API as real ESPHome clients expect: two npm clients
(tests/ble/esphome-check: @2colors/esphome-native-api and esphome-client,
installed by make deps) run check.js against it, plaintext and with a Noise
key, bridged to bmsgw-sim's models of jbd (layout jbd), jk-ble (layout jk)
and victron-ble (advertisements only).

Each client: the connection and the device info (name, the proxy feature
flags); raw advertisements with each device's name and manufacturer data
(victron-ble's record decrypted here with the pack's key: its voltage is
the simulator's); a BLE connection with the GATT cache, the services, the
notifications switched on (the registration and the 0x2902 descriptor), a
BMS read request written and the simulator's answer received as
notifications (jbd: the voltage of its basic-info frame is the
simulator's; jk-ble: the device-info record with its checksum and vendor);
the BLE disconnect.  With a wrong key, and a plaintext client against the
Noise proxy, the connection fails with the libraries' own errors.  The
fake's control port: only the read requests were written, never more than
one BLE link at once, each wrong key counted as a handshake failure, every
API connection gone at the end.  A malformed frame of the proxy (a bad
varint, a Noise frame that does not decrypt) fails that client's
connection and the next is served.  The control port: a wrong old
password refused, one slot (a second link refused with error 0 as ESPHome
does), the proxy's ping answered, a link dropped (error 8) freeing its
slot, kill (connections refused) and revive, a device that does not
advertise (error 0x85).

Prints "N passed, N failed".
"""
import base64
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esp_harness import EspFake  # noqa: E402
from harness import ROOT, Checks, Sim, wait_until, write_conf  # noqa: E402

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402

c = Checks()
CHECK_DIR = os.path.join(ROOT, "tests/ble/esphome-check")
MAC_JBD, MAC_JK, MAC_VIC = "A4:C1:38:00:00:0A", "C8:47:8C:00:00:0B", "E1:2B:DE:00:00:0C"
VIC_KEY = "00112233445566778899aabbccddeeff"
JBD_READ = "dda50300fffd77"                       # JBD: read register 0x03 (basic info)
JK_READ = "aa5590eb97" + "00" * 14                # JK02: 0x97 device info, zeros, then the sum8
JK_READ += "%02x" % (sum(bytes.fromhex(JK_READ)) & 255)
NAME = "bms-proxy-test"


def Fake(spec, key=None, extra=()):
    return EspFake(spec, key, extra, name=NAME)


def run_check(job):
    """check.js on JOB: (exit code, output lines, result)."""
    path = write_conf(json.dumps(job))
    try:
        r = subprocess.run(["node", "check.js", path], cwd=CHECK_DIR, capture_output=True, text=True, timeout=300)
    finally:
        os.unlink(path)
    lines = r.stdout.splitlines()
    res = {}
    for ln in lines:
        if ln.startswith("result "):
            res = json.loads(ln[7:])
    return r.returncode, lines + r.stderr.splitlines()[-5:], res


def jbd_voltage(hexs):
    """The pack voltage (V) of the first JBD basic-info answer, None if none."""
    b = bytes.fromhex(hexs)
    i = b.find(b"\xdd\x03\x00")
    if i < 0 or len(b) < i + 7 or len(b) < i + 7 + b[i + 3]:
        return None
    n = b[i + 3]
    frame = b[i:i + 7 + n]
    chk = (0x10000 - sum(frame[2:4 + n])) & 0xFFFF
    if frame[-1] != 0x77 or frame[4 + n] << 8 | frame[5 + n] != chk:
        return None
    return (frame[4] << 8 | frame[5]) / 100.0


def jk_record(hexs):
    """The JK02 device-info record (type 3) if its sum8 is right."""
    b = bytes.fromhex(hexs)
    i = b.find(b"\x55\xaa\xeb\x90\x03")
    if i < 0 or len(b) < i + 300:
        return None
    rec = b[i:i + 300]
    return rec if sum(rec[:299]) & 255 == rec[299] else None


def victron_voltage(mfr_hex):
    """The voltage (V) of a Victron Instant Readout record (company 0x02E1's
    data): AES-128-CTR with the pack's key, counter block = nonce then zeros."""
    d = bytes.fromhex(mfr_hex)
    if len(d) < 12 or d[:2] != b"\x10\x02" or d[7] != bytes.fromhex(VIC_KEY)[0]:
        return None
    dec = Cipher(algorithms.AES(bytes.fromhex(VIC_KEY)), modes.CTR(d[5:7] + bytes(14))).decryptor()
    p = dec.update(d[8:]) + dec.finalize()
    return int.from_bytes(p[2:4], "little", signed=True) / 100.0


def device_spec(sims):
    return {"devices": [
        {"address": MAC_JBD, "name": "xiaoxiang BMS", "layout": "jbd", "chunk": 20, "mode": "bridge",
         "sim": "127.0.0.1:%d" % sims["jbd"].port, "uuids": ["0000ff00-0000-1000-8000-00805f9b34fb"], "rssi": -61,
         "manufacturer": {"737": "0102"}},
        {"address": MAC_JK, "name": "JK_B2A8S20P", "layout": "jk-ble", "chunk": 128, "mode": "bridge",
         "sim": "127.0.0.1:%d" % sims["jk-ble"].port, "uuids": ["0000ffe0-0000-1000-8000-00805f9b34fb"], "rssi": -70,
         "manufacturer": {"65535": "0102030405"}},
        {"address": MAC_VIC, "name": "SmartShunt HQ2204ABCDE", "mode": "adv", "sim": "127.0.0.1:%d" % sims["victron-ble"].port,
         "rssi": -75}]}


def job(lib, fake, key):
    return {"lib": lib, "port": fake.port, "key": key, "name": NAME, "timeout_s": 40,
            "adv": [{"address": MAC_JBD, "name": "xiaoxiang BMS", "company": 737},
                    {"address": MAC_JK, "name": "JK_B2A8S20P", "company": 65535},
                    {"address": MAC_VIC, "name": "SmartShunt HQ2204ABCDE", "company": 737}],
            "gatt": [{"address": MAC_JBD, "write": "ff02", "notify": "ff01", "request": JBD_READ, "prefix": "dd0300",
                      "len_byte": 3, "len_add": 7, "cache": True},
                     {"address": MAC_JK, "write": "ffe1", "notify": "ffe1", "request": JK_READ, "prefix": "55aaeb9003",
                      "min_len": 300, "cache": False, "response": True}]}


def one_client(lib, fake, key, sims):
    what = "%s, %s" % (lib, "Noise" if key else "plaintext")
    rc, lines, res = run_check(job(lib, fake, key))
    if not c.ok(rc == 0, "%s: check.js passes every step" % what):
        for ln in lines:
            print("   " + ln)
    for ln in lines:
        if ln.startswith("ok "):
            print("     " + ln[:160])
    info = res.get("deviceInfo") or {}
    c.ok(info.get("name") == NAME and (info.get("flags", 0) & 0x27) == 0x27,
         "%s: device info names the proxy and its Bluetooth features (%r)" % (what, info))
    adv = res.get("adv", {})
    c.ok(any(m["company"] == 737 and m["data"] == "0102" for m in adv.get(MAC_JBD, {}).get("mfr", [])),
         "%s: the jbd device's manufacturer data advertised" % what)
    vic = [m for m in adv.get(MAC_VIC, {}).get("mfr", []) if m["company"] == 0x02E1]
    want_v = sims["victron-ble"].state()["packs"][0]["voltage"]
    got_v = victron_voltage(vic[0]["data"]) if vic else None
    if not c.near(got_v, want_v, 0.011, "%s: victron-ble's advertised record decrypts to the simulator's voltage" % what):
        print("   the fake's record of it: %r" % fake.state()["devices"][MAC_VIC])
    gatt = res.get("gatt", {})
    c.near(jbd_voltage(gatt.get(MAC_JBD, "")), sims["jbd"].state()["packs"][0]["voltage"], 0.011,
           "%s: jbd's answer through notifications carries the simulator's voltage" % what)
    rec = jk_record(gatt.get(MAC_JK, ""))
    c.ok(rec is not None and b"JK_B2A8S20P" in rec, "%s: jk-ble's device-info record whole, its sum right" % what)


def wrong_keys(fake, key):
    other = base64.b64encode(os.urandom(32)).decode()
    before = fake.state()["api"]["handshake_failures"]
    for lib, k, match, what in (("2colors", other, "MAC failure", "a wrong key"),
                                ("esphome-client", other, "EncryptionKeyInvalid", "a wrong key"),
                                ("2colors", None, "Encryption expected", "no key")):
        rc, lines, res = run_check({"lib": lib, "port": fake.port, "key": k, "name": NAME, "timeout_s": 40,
                                    "expect_fail": True, "fail_match": match})
        if not c.ok(rc == 0, "%s with %s: the connection fails (%s)" % (lib, what, res.get("error"))):
            for ln in lines:
                print("   " + ln)
    c.eq(fake.state()["api"]["handshake_failures"] - before, 3,
         "the proxy counts the two wrong keys and the plaintext hello as handshake failures")


def bare(lib, fake, key=None, **kw):
    """A job of the connection alone (and what kw adds)."""
    return dict({"lib": lib, "port": fake.port, "key": key, "name": NAME, "timeout_s": 40}, **kw)


def garbage(fake, key):
    """A malformed frame after the HelloResponse ends that connection; the
    next one is served."""
    kind, lib, match = ("decrypt", "2colors", "MAC_FAILURE") if key else ("varint", "esphome-client", ".")
    c.eq(fake.ctl("garbage " + kind), "ok", "garbage %s armed" % kind)
    rc, lines, res = run_check(bare(lib, fake, key, expect_fail=True, fail_match=match))
    if not c.ok(rc == 0, "%s: the client fails on the proxy's malformed frame (%s: %s)" % (lib, kind, res.get("error"))):
        for ln in lines:
            print("   " + ln)
    rc, lines, res = run_check(bare(lib, fake, key))
    c.ok(rc == 0, "%s: the next connection is served" % lib)


def control(sims):
    """The control port: the old password, slots, ping, a BLE link that
    drops, kill and revive, hide."""
    fake = Fake(device_spec(sims), extra=["--password", "secret", "--slots", "1"])
    try:
        rc, lines, res = run_check(bare("2colors", fake, password="wrong", expect_fail=True, fail_match="Invalid password"))
        c.ok(rc == 0 and fake.state()["api"]["auth_failures"] == 1, "a wrong password: invalid_password, counted")
        hold = tempfile.mktemp(prefix="bmsgw-hold-")
        path = write_conf(json.dumps(bare("2colors", fake, password="secret", hold_file=hold, hold_events=3, gatt=[
            {"address": MAC_JBD, "write": "ff02", "notify": "ff01", "keep": True},
            {"address": MAC_JK, "write": "ffe1", "notify": "ffe1", "expect_connected": False}])))
        node = subprocess.Popen(["node", "check.js", path], cwd=CHECK_DIR, stdout=subprocess.PIPE, text=True)
        dev = lambda mac: fake.state()["devices"][mac]  # noqa: E731
        c.ok(wait_until(lambda: dev(MAC_JBD)["connected"] and dev(MAC_JK)["refused"] == 1, 60),
             "one slot: the first link made, the second refused")
        c.eq(fake.state()["free"], 0, "no slot free meanwhile")
        fake.ctl("ping")
        c.ok(wait_until(lambda: fake.state()["api"]["pongs"] >= 1, 30), "the proxy's PingRequest answered")
        fake.ctl("disconnect " + MAC_JBD)
        c.ok(wait_until(lambda: not dev(MAC_JBD)["connected"] and fake.state()["free"] == 1, 30),
             "a dropped link frees its slot")
        open(hold, "w").close()
        out, _ = node.communicate(timeout=120)
        os.unlink(hold)
        os.unlink(path)
        res = json.loads([ln for ln in out.splitlines() if ln.startswith("result ")][0][7:])
        ev = res.get("events", [])
        if not c.ok(node.returncode == 0 and [(e["connected"], e["error"]) for e in ev] == [(True, 0), (False, 0), (False, 8)],
                    "the client saw: connected, refused (error 0), dropped (error 8) (%r)" % ev):
            print(out)
        c.eq(fake.ctl("kill"), "ok", "kill")
        for lib, match in (("2colors", "ECONNREFUSED"), ("esphome-client", "Refused")):
            rc, lines, res = run_check(bare(lib, fake, expect_fail=True, fail_match=match))
            c.ok(rc == 0, "%s: a killed proxy refuses connections (%s)" % (lib, res.get("error")))
        c.eq(fake.ctl("revive"), "ok", "revive")
        fake.ctl("hide " + MAC_JBD)
        rc, lines, res = run_check(bare("2colors", fake, password="secret", gatt=[
            {"address": MAC_JBD, "write": "ff02", "notify": "ff01", "expect_connected": False}]))
        ev = [(e["connected"], e["error"]) for e in res.get("events", [])]
        c.ok(rc == 0 and ev == [(False, 0x85)], "revived: served again; a device out of sight: connected=false, "
             "error 0x85 (%r)" % ev)
    finally:
        fake.stop()


def fake_record(fake, what):
    st = fake.state()
    c.ok(wait_until(lambda: fake.state()["api"]["connections"] == 0, 20) is not None,
         "%s: every API connection closed at the end" % what)
    c.ok(st["max_connected"] == 1, "%s: never more than one BLE link at once (%d)" % (what, st["max_connected"]))
    c.eq(st["devices"][MAC_JBD]["written"], ["ff02:" + JBD_READ], "%s: only jbd's read request written" % what)
    c.eq(st["devices"][MAC_JK]["written"], ["ffe1:" + JK_READ], "%s: only jk-ble's read request written" % what)
    c.eq(st["devices"][MAC_JK]["write_types"].get("request"), 2, "%s: jk-ble's writes with response" % what)
    c.ok(st["devices"][MAC_JBD]["cccd_writes"] == 2, "%s: each client wrote the notification descriptor" % what)


def main():
    if not os.path.isdir(os.path.join(CHECK_DIR, "node_modules", "esphome-client")):
        c.ok(False, "tests/ble/esphome-check/node_modules installed (make deps)")
        return c.report()
    sims = {"jbd": Sim(protocol="jbd"), "jk-ble": Sim(protocol="jk-ble"),
            "victron-ble": Sim(protocol="victron-ble", packs=("key=%s" % VIC_KEY,))}
    spec = device_spec(sims)
    key = base64.b64encode(os.urandom(32)).decode()
    try:
        for k in (None, key):
            fake = Fake(spec, k)
            try:
                for lib in ("2colors", "esphome-client"):
                    one_client(lib, fake, k, sims)
                fake_record(fake, "Noise" if k else "plaintext")
                if k:
                    wrong_keys(fake, k)
                garbage(fake, k)
            finally:
                if fake.stop() not in (0, -15):
                    fake.dump()
        control(sims)
    finally:
        for s in sims.values():
            s.stop()
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
