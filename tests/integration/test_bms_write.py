#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: parts=2
"""BMS settings changed safely (bms_settings, bmsgw-bms(7) BMS SETTINGS),
end to end: the real bmsgw over HTTPS with logins against the bundled
simulator, with curl.

jbd (factory mode): the settings are read through factory mode (enter,
read, leave without saving) once the pack has bms_settings; an admin's
POST /api/bms-settings with the session's CSRF token changes cell_ovp_v:
factory mode entered, the register read, written, read back, left with
saving, answered 200 "done" with old and new, the simulator's register
changed, the pack's settings_bms showing it at once, one log line with
old -> new and who, the metric counted.  The balancer (0x2D, read,
modified, written whole: the other bits kept).  Refused, with nothing
written to the BMS (the simulator's settings-write count unchanged): a
read login (403), no CSRF token (403), another site's Origin (403), not
JSON (400), a key not in bms_settings (403), no such pack (404), over
lfp's 3.65 V (422), off the step (422), out of order with the release
(422), a second change within a second (409), a stale pack (503).  The
BMS refusing (502, factory mode left without saving); the BMS silent
(no answer: the entry sent 1 + retries times, then its exit as many,
502).  --check: an unknown
key, a key the protocol cannot write (naming the ones it can), a cell
voltage without the pack's own chemistry, jk (0x4E57) none.

daly: soc, with the date, acknowledged, read back from 0x90.
jk-pb (RS485) and jk-ble (over the fake BlueZ, bridged to the simulator):
every key of bms_settings changed in turn, each done (the FC16 answer, or
jk-ble's 0xC8, then a fresh settings record equal to the request), the
simulator's settings holding it, GET and /api/state showing it at once,
a lower charge over-current becoming the pack's charge current limit at
the next poll; refused with nothing sent (over lfp's, off the step, out of
order, soc not in bms_settings); the BMS refusing (jk-pb: exception 04,
sent once), silent (sent 1 + retries times), answering without taking it
(jk-ble's 0xC8 is no proof: failed by the read-back); every byte the
simulator received (rxlog) parsed: the polls' requests and one write per
change, of the allowed registers and the values asked, nothing else.
JK02_24S: the balancing start written to 0x26.
MQTT (a real mosquitto, [mqtt] control = true): P/van/set/bms_balancer OFF
done, bms_cell_ovp_v 3.9 refused (over lfp's), 3.55 done, each outcome on
P/van/set/result with origin mqtt.
Prints "N passed, N failed"."""
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BIN, ROOT, Checks, Gateway, Sim, crc16_modbus, free_port, mbread, my_part,  # noqa: E402
                     self_signed, wait_until, write_conf)
from page_clients import users_file  # noqa: E402

c = Checks()
TMP = tempfile.mkdtemp(prefix="bmsgw-bset-")
PW = "bset-Pass-5521"
BMSGW = os.path.join(ROOT, BIN, "bmsgw")


def conf(http_port, gw_port, sim_port, pem, key, users, proto="jbd", keys="cell_ovp_v, cell_ovp_release_v, balancer",
         extra=""):
    return """[gateway]
listen = 127.0.0.1:%d
state_file = none
stale_after = 20
[http]
listen = 127.0.0.1:%d
tls_cert = %s
tls_key = %s
users_file = %s
[pack.van]
protocol = %s
port = tcp://127.0.0.1:%d
chemistry = lfp
bms_settings = %s
bms_settings_per_day = 100
poll_interval = 0.5
control_timeout = 10
retries = 1
timeout = 0.5
%s""" % (gw_port, http_port, pem, key, users, proto, sim_port, keys, extra)


class Api:
    def __init__(self, port):
        self.base = "https://127.0.0.1:%d" % port

    def curl(self, path, user="ada", body=None, token=None, ctype="application/json", origin=None):
        args = ["curl", "-sk", "-o", "-", "-w", "\n%{http_code}", "-u", "%s:%s" % (user, PW), "--max-time", "60"]
        if body is not None:
            args += ["-X", "POST", "--data-binary", body]
            if ctype:
                args += ["-H", "Content-Type: " + ctype]
        if token:
            args += ["-H", "X-CSRF-Token: " + token]
        if origin:
            args += ["-H", "Origin: " + origin]
        out = subprocess.run(args + [self.base + path], capture_output=True, text=True).stdout
        text, _, code = out.rpartition("\n")
        try:
            return int(code), json.loads(text) if text else None
        except ValueError:
            return int(code or 0), text

    def token(self, user="ada"):
        return self.curl("/api/setup/session", user=user)[1]["csrf"]

    def post(self, obj, user="ada", token=None, **kw):
        return self.curl("/api/bms-settings", user=user, body=json.dumps(obj),
                         token=token if token is not None else self.token(user), **kw)

    def get(self, unit="van", user="ada"):
        return self.curl("/api/bms-settings?unit=" + unit, user=user)


def metric(api, result):
    code, text = api.curl("/metrics")
    for line in str(text).splitlines():
        if line.startswith("bmsgw_pack_bms_settings_total") and 'result="%s"' % result in line:
            return float(line.split()[-1])
    return None


def jbd_case(pem, key, users):
    sim = Sim(protocol="jbd", packs=("address=1",))
    http_port, gw_port = free_port(), free_port()
    gw = Gateway(conf(http_port, gw_port, sim.port, pem, key, users), gw_port)
    api = Api(http_port)
    try:
        # the settings read through factory mode, left without saving
        got = wait_until(lambda: (lambda r: r[0] == 200 and r[1]["keys"].get("cell_ovp_v", {}).get("value"))(api.get()),
                         timeout=30)
        c.ok(got, "GET: the settings are read through factory mode (cell_ovp_v has a value)")
        code, g = api.get()
        c.eq(code, 200, "GET /api/bms-settings: 200")
        c.eq(sorted(g["keys"]), ["balancer", "cell_ovp_release_v", "cell_ovp_v"], "GET: the allowed keys only")
        c.near(g["keys"]["cell_ovp_v"]["value"], 3.65, 1e-6, "GET: cell_ovp_v as the BMS reports it")
        c.eq((g["keys"]["cell_ovp_v"]["min"], g["keys"]["cell_ovp_v"]["max"]), (2.5, 3.65),
             "GET: cell_ovp_v's bounds are lfp's")
        c.near(g["keys"]["cell_ovp_v"]["step"], 0.001, 1e-9, "GET: its step is the protocol's (1 mV)")
        c.eq(sim.state()["packs"][0]["factory"], 0, "the settings read left factory mode")
        code, g = api.get(user="rob")
        c.eq(code, 200, "GET: a read login may read")
        writes0 = sim.state()["packs"][0]["set_writes"]

        # a change, done
        t0 = time.monotonic()
        code, r = api.post({"unit": "van", "key": "cell_ovp_v", "value": 3.6})
        took = time.monotonic() - t0
        c.eq(code, 200, "POST cell_ovp_v 3.6: 200 (%s)" % (r,))
        c.eq((r or {}).get("result"), "done", "result done")
        c.ok(r and r.get("confirmed") is True, "confirmed by read-back")
        c.near((r or {}).get("old") or 0, 3.65, 1e-6, "old: 3.65")
        c.near((r or {}).get("value") or 0, 3.6, 1e-6, "value: 3.6 read back")
        st = sim.state()["packs"][0]
        c.eq(st["eeprom"][0x24], 3600, "the simulator's register 0x24 holds 3600 mV")
        c.eq(st["factory"], 0, "factory mode left")
        c.eq(st["set_writes"] - writes0, 3, "enter, write, leave: three writes")
        code, g = api.get()
        c.near(g["keys"]["cell_ovp_v"]["value"], 3.6, 1e-6, "GET shows the read-back at once")
        sb = (api.curl("/api/state")[1] or {}).get("packs") or [{}]
        c.near(((sb[0].get("settings_bms") or {}).get("cell_ovp_v") or {}).get("value") or 0, 3.6, 1e-6,
               "/api/state settings_bms shows 3.6 at once")
        c.ok(wait_until(lambda: "bms-settings: admin ada (https " in gw.text() and
                        "pack van: cell_ovp_v 3.650 V -> 3.600 V: done, confirmed by read-back in" in gw.text(), 5),
             "one log line: who, old -> new, done")
        c.eq(metric(api, "done"), 1, "bmsgw_pack_bms_settings_total{result=done} 1")
        print("# end to end (request -> confirmed read-back) on the simulator: %.2f s" % took)

        # refused, nothing written
        time.sleep(1.1)  # the change a second after the last (409 is its own check below)
        w = sim.state()["packs"][0]["set_writes"]
        tok = api.token()
        cases = [
            ("a read login", dict(obj={"unit": "van", "key": "cell_ovp_v", "value": 3.55}, user="rob"), 403),
            ("no CSRF token", dict(obj={"unit": "van", "key": "cell_ovp_v", "value": 3.55}, token=""), 403),
            ("another site's Origin", dict(obj={"unit": "van", "key": "cell_ovp_v", "value": 3.55}, token=tok,
                                           origin="https://evil.example"), 403),
            ("a key not in bms_settings", dict(obj={"unit": "van", "key": "cell_uvp_v", "value": 2.8}, token=tok), 403),
            ("an unknown key", dict(obj={"unit": "van", "key": "mosfet", "value": 1}, token=tok), 403),
            ("no such pack", dict(obj={"unit": "bank", "key": "cell_ovp_v", "value": 3.55}, token=tok), 404),
            ("a value that is no number", dict(obj={"unit": "van", "key": "cell_ovp_v", "value": "high"}, token=tok),
             422),
            ("over lfp's 3.65 V", dict(obj={"unit": "van", "key": "cell_ovp_v", "value": 3.8}, token=tok), 422),
            ("off the 1 mV step", dict(obj={"unit": "van", "key": "cell_ovp_v", "value": 3.5505}, token=tok), 422),
            ("under its release + 0.02 V", dict(obj={"unit": "van", "key": "cell_ovp_v", "value": 3.41}, token=tok),
             422),
        ]
        for what, kw, want in cases:
            code, r = api.post(**kw)
            c.eq(code, want, "refused: %s (%s)" % (what, (r or {}).get("message") if isinstance(r, dict) else r))
            c.ok(isinstance(r, dict) and r.get("result") == "refused" and r.get("message"),
                 "refused: %s: result refused, with the reason" % what)
        code, r = api.curl("/api/bms-settings", body="unit=van", token=tok, ctype="application/x-www-form-urlencoded")
        c.eq(code, 400, "refused: not JSON (400)")
        c.ok("lfp's highest 3.65 V" in gw.text(), "the 422's reason names lfp's bound")
        c.eq(sim.state()["packs"][0]["set_writes"], w, "nothing was written to the BMS for any refusal")
        # the pack's refusals (those before a login, a token or a body names it are logged only)
        c.ok((metric(api, "refused") or 0) >= 6, "refusals of the pack counted")

        # the balancer: 0x2D read, modified, written whole
        code, r = api.post({"unit": "van", "key": "balancer", "value": "OFF"})
        c.eq((code, (r or {}).get("result")), (200, "done"), "balancer OFF: done")
        c.eq(sim.state()["packs"][0]["eeprom"][0x2D], 0x0001, "0x2D bit 2 cleared, bit 0 kept")
        # a second change within a second: 409
        code, r = api.post({"unit": "van", "key": "balancer", "value": True})
        c.eq(code, 409, "a change under a second after the last: 409")

        # the BMS refuses: 502, left without saving
        time.sleep(1.1)
        sim.ctl("control 1 refuse")
        code, r = api.post({"unit": "van", "key": "cell_ovp_release_v", "value": 3.38})
        c.eq((code, (r or {}).get("result")), (502, "failed"), "the BMS refuses: 502 failed (%s)" % (r,))
        c.eq(sim.state()["packs"][0]["eeprom"][0x25], 3400, "nothing changed")
        # silent: the first frame sent 1 + retries times, then its exit, then failed
        time.sleep(1.1)
        sim.ctl("control 1 silent")
        w = sim.state()["packs"][0]["set_writes"]
        code, r = api.post({"unit": "van", "key": "cell_ovp_release_v", "value": 3.38})
        c.eq((code, (r or {}).get("result")), (502, "failed"), "the BMS is silent: 502 failed")
        # the entry may have taken (its acknowledgement lost): its exit goes too, 1 + retries times
        c.eq(sim.state()["packs"][0]["set_writes"] - w, 4,
             "the unlock sent 1 + retries (2) times, then its exit 1 + retries (2) times, no more")
        sim.ctl("control 1 normal")
        c.ok((metric(api, "failed") or 0) >= 2, "failures counted")
        # a stale pack: 503
        time.sleep(1.1)
        sim.ctl("pack 1 absent")
        c.ok(wait_until(lambda: api.get()[1]["stale"], timeout=40), "the pack goes stale")
        w = sim.state()["packs"][0]["set_writes"]
        code, r = api.post({"unit": "van", "key": "cell_ovp_v", "value": 3.62})
        c.eq(code, 503, "a stale pack: 503")
        c.eq(sim.state()["packs"][0]["set_writes"], w, "nothing written to a stale pack")
    finally:
        gw.stop()
        sim.stop()


def daly_case(pem, key, users):
    sim = Sim(protocol="daly", packs=("address=1",))
    http_port, gw_port = free_port(), free_port()
    gw = Gateway(conf(http_port, gw_port, sim.port, pem, key, users, proto="daly", keys="soc"), gw_port)
    api = Api(http_port)
    try:
        c.ok(wait_until(lambda: api.get()[1]["keys"].get("soc", {}).get("value") is not None, timeout=30),
             "daly: soc's value is the pack's")
        code, r = api.post({"unit": "van", "key": "soc", "value": 42.5})
        c.eq((code, (r or {}).get("result")), (200, "done"), "daly: soc 42.5: done (%s)" % (r,))
        c.near(sim.state()["packs"][0]["soc"], 42.5, 0.06, "daly: the simulator's SOC is 42.5 %")
        code, r = api.post({"unit": "van", "key": "balancer", "value": 1})
        c.eq(code, 403, "daly: balancer is not in bms_settings: 403")
    finally:
        gw.stop()
        sim.stop()


def sim_bytes(sim):
    """Every byte the simulator received since its last `rxlog reset`."""
    log = json.loads(sim.ctl("rxlog"))
    c.eq(log["lost"], 0, "rxlog: no byte lost")
    return b"".join(bytes.fromhex(ch[2]) for ch in log["chunks"])


def pb_frames(data):
    """The FC16 requests a JK-PB received, parsed on their own (Modbus RTU,
    byte count, CRC-16/MODBUS): [(register, quantity, value)]; None when a
    byte is left that is none."""
    out, i = [], 0
    while i < len(data):
        if len(data) - i < 9 or data[i + 1] != 0x10:
            return None
        n = 9 + data[i + 6]
        f = data[i:i + n]
        if len(f) < n or crc16_modbus(f[:-2]) != (f[-2] | f[-1] << 8):
            return None
        out.append(((f[2] << 8) | f[3], (f[4] << 8) | f[5], int.from_bytes(f[7:-2], "big")))
        i += n
    return out


def ble_frames(data):
    """The 20-byte JK02 requests (AA 55 90 EB, sum8) a JK BMS received:
    [(command, len, value LE)]; None when a byte is left that is none."""
    out = []
    for i in range(0, len(data), 20):
        f = data[i:i + 20]
        if len(f) != 20 or f[:4] != b"\xaa\x55\x90\xeb" or sum(f[:19]) & 0xFF != f[19]:
            return None
        out.append((f[4], f[5], int.from_bytes(f[6:10], "little")))
    return out


# Each key of the JK families in turn, in an order the protections stay in
# order against the simulator's (OVP 3.65, release 3.44, UVP release 2.90,
# UVP 2.70, balancing from 3.35 V): the value asked, the JK-PB register,
# the JK02 register, its raw value
JK_CHANGES = [("cell_ovp_v", 3.6, 0x100C, 0x04, 3600), ("cell_ovp_release_v", 3.4, 0x1010, 0x05, 3400),
              ("cell_uvp_release_v", 3.0, 0x1008, 0x03, 3000), ("cell_uvp_v", 2.8, 0x1004, 0x02, 2800),
              ("balance_start_v", 3.4, 0x1084, 0x22, 3400), ("balance_delta_v", 0.01, 0x1014, 0x06, 10),
              ("charge_ocp_a", 40, 0x102C, 0x0C, 40000), ("discharge_ocp_a", 80.5, 0x1038, 0x0F, 80500),
              ("capacity_ah", 280, 0x107C, 0x20, 280000), ("balancer", "OFF", 0x1078, 0x1F, 0)]
JK_KEYS = ", ".join(k for k, *_ in JK_CHANGES)


def jk_changes(label, api, sim, gw):
    """Every key changed in turn: done, read back, the simulator's; the
    times it took.  Returns the JK02 registers written, in order."""
    took = []
    for key, value, _pb, reg, raw in JK_CHANGES:
        t0 = time.monotonic()
        code, r = api.post({"unit": "van", "key": key, "value": value})
        took.append(time.monotonic() - t0)
        c.eq((code, (r or {}).get("result"), (r or {}).get("confirmed")), (200, "done", True),
             "%s: %s %s: done, confirmed (%s)" % (label, key, value, r))
        want = 0 if value == "OFF" else value
        c.near((r or {}).get("value") if r and r.get("value") is not None else -1, want, 1e-6,
               "%s: %s read back %s" % (label, key, want))
        c.eq((sim.state()["packs"][0].get("jk_written") or {}).get(str(reg)), raw,
             "%s: the simulator's register 0x%02X holds %d" % (label, reg, raw))
        g = api.get()[1]
        c.near(((g or {}).get("keys") or {}).get(key, {}).get("value", -1), want, 1e-6,
               "%s: GET shows %s at once" % (label, key))
        time.sleep(1.1)  # a pack takes one change a second
    c.ok(wait_until(lambda: "bms-settings: admin ada (https " in gw.text() and
                    "pack van: cell_ovp_v 3.650 V -> 3.600 V: done, confirmed by read-back in" in gw.text(), 5),
         "%s: one log line: who, old -> new, done" % label)
    c.eq(metric(api, "done"), len(JK_CHANGES), "%s: bmsgw_pack_bms_settings_total{result=done}" % label)
    print("# %s: request -> confirmed read-back on the simulator: %s s (median %.2f s)"
          % (label, " ".join("%.2f" % t for t in took), sorted(took)[len(took) // 2]))
    return took


def jk_refusals(label, api, sim):
    """Refused before anything is sent; returns nothing, checks the count of
    settings writes the simulator received stays."""
    w = sim.state()["packs"][0]["set_writes"]
    tok = api.token()
    for what, obj, want in (("over lfp's 3.65 V", {"key": "cell_ovp_v", "value": 3.7}, 422),
                            ("off the 1 mV step", {"key": "cell_ovp_v", "value": 3.6005}, 422),
                            ("within 0.02 V of the OVP", {"key": "cell_ovp_release_v", "value": 3.59}, 422),
                            ("over 600 A", {"key": "charge_ocp_a", "value": 600.5}, 422),
                            ("off the 1 mA step", {"key": "charge_ocp_a", "value": 40.0005}, 422),
                            ("soc, not in bms_settings", {"key": "soc", "value": 50}, 403)):
        obj["unit"] = "van"
        code, r = api.post(obj, token=tok)
        c.eq((code, (r or {}).get("result")), (want, "refused"), "%s: refused: %s (%s)" % (
            label, what, (r or {}).get("message") if isinstance(r, dict) else r))
    c.eq(sim.state()["packs"][0]["set_writes"], w, "%s: nothing written to the BMS for any refusal" % label)


def jk_pb_case(pem, key, users):
    sim = Sim(protocol="jk-pb", packs=("address=1",))
    http_port, gw_port = free_port(), free_port()
    gw = Gateway(conf(http_port, gw_port, sim.port, pem, key, users, proto="jk-pb", keys=JK_KEYS,
                      extra="address = 1\n"), gw_port)
    api = Api(http_port)
    try:
        c.ok(wait_until(lambda: (lambda r: r[0] == 200 and r[1]["keys"].get("cell_ovp_v", {}).get("value"))(
            api.get()), timeout=30), "jk-pb: the settings record read (cell_ovp_v has a value)")
        g = api.get()[1]
        c.eq(sorted(g["keys"]), sorted(k for k, *_ in JK_CHANGES), "jk-pb: GET: every key allowed")
        c.eq((g["keys"]["charge_ocp_a"]["min"], g["keys"]["charge_ocp_a"]["max"], g["keys"]["charge_ocp_a"]["step"]),
             (1, 600, 0.001), "jk-pb: GET: charge_ocp_a 1-600 A by 1 mA")
        c.eq(g["keys"]["balancer"]["value"], 1, "jk-pb: GET: the balancer as the BMS reports it (on)")
        start = pb_frames(sim_bytes(sim))
        c.ok(start and all(f[0] >= 0x1600 for f in start), "jk-pb: nothing written at start: only the triggers")
        sim.ctl("rxlog reset")
        jk_changes("jk-pb", api, sim, gw)
        c.ok(wait_until(lambda: ((api.curl("/api/state")[1] or {}).get("packs") or [{}])[0].get("bms_ccl_a") == 40,
                        20), "jk-pb: the lower charge over-current is the pack's charge current limit")
        jk_refusals("jk-pb", api, sim)
        frames = pb_frames(sim_bytes(sim))
        c.ok(frames is not None, "jk-pb: every byte received is a whole FC16 request")
        writes = [f for f in frames or [] if f[0] < 0x1600]
        c.eq(writes, [(pb, 2, raw) for _k, _v, pb, _r, raw in JK_CHANGES],
             "jk-pb: one write per change, of its register and value, nothing else")
        c.eq(sorted({f for f in frames or [] if f[0] >= 0x1600}), [(0x161E, 1, 0), (0x1620, 1, 0)],
             "jk-pb: the other requests: the status and settings triggers")
        # the BMS refuses (exception 04): failed, sent once
        sim.ctl("control 1 refuse")
        sim.ctl("rxlog reset")
        code, r = api.post({"unit": "van", "key": "cell_ovp_v", "value": 3.58})
        c.eq((code, (r or {}).get("result")), (502, "failed"), "jk-pb: the BMS refuses: 502 failed (%s)" % (r,))
        c.eq([f for f in pb_frames(sim_bytes(sim)) or [] if f[0] < 0x1600], [(0x100C, 2, 3580)],
             "jk-pb: the refused write sent once")
        c.eq(sim.state()["packs"][0]["jk_written"]["4"], 3600, "jk-pb: nothing changed")
        # silent: sent 1 + retries times
        time.sleep(1.1)
        sim.ctl("control 1 silent")
        sim.ctl("rxlog reset")
        code, r = api.post({"unit": "van", "key": "cell_ovp_v", "value": 3.58})
        c.eq((code, (r or {}).get("result")), (502, "failed"), "jk-pb: the BMS is silent: 502 failed")
        c.eq([f for f in pb_frames(sim_bytes(sim)) or [] if f[0] < 0x1600], [(0x100C, 2, 3580)] * 2,
             "jk-pb: unanswered, the write sent 1 + retries (2) times, no more")
        # answered, not taken: the read-back decides
        time.sleep(1.1)
        sim.ctl("control 1 noswitch")
        code, r = api.post({"unit": "van", "key": "cell_ovp_v", "value": 3.58})
        c.eq((code, (r or {}).get("result")), (502, "failed"), "jk-pb: acknowledged, not taken: 502 failed")
        c.ok("read-back shows 3.600 V" in ((r or {}).get("message") or ""), "jk-pb: the read-back named (%s)" % (r,))
        sim.ctl("control 1 normal")
    finally:
        gw.stop()
        sim.stop()


def jk_ble_case(pem, key, users):
    from test_ble import Bus
    bus = Bus()
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = bus.address
    try:
        for layout in ("32s", "24s"):
            jk_ble_run(pem, key, users, layout)
    finally:
        bus.stop()


def jk_ble_run(pem, key, users, layout):
    from test_ble import Fake, device
    label = "jk-ble " + layout
    mac = "C8:47:8C:00:00:01"
    sim = Sim(protocol="jk-ble", packs=("address=1,layout=" + layout,))
    fake = Fake([device(mac, sim, layout="jk-ble", chunk=128, name="JK_B2A8S20P")])
    http_port, gw_port = free_port(), free_port()
    text = conf(http_port, gw_port, 0, pem, key, users, proto="jk-ble",
                keys=JK_KEYS if layout == "32s" else "balance_start_v, cell_ovp_v")
    text = text.replace("port = tcp://127.0.0.1:0", "port = ble://" + mac).replace("timeout = 0.5", "timeout = 3")
    gw = Gateway(text, gw_port)
    api = Api(http_port)
    try:
        c.ok(wait_until(lambda: (lambda r: r[0] == 200 and r[1]["keys"].get("cell_ovp_v", {}).get("value"))(
            api.get()), timeout=40), "%s: the settings record read" % label)
        start = ble_frames(sim_bytes(sim))
        c.ok(start and all(f[0] in (0x96, 0x97) for f in start), "%s: nothing written at start: only 0x97 / 0x96"
             % label)
        sim.ctl("rxlog reset")
        if layout == "24s":
            code, r = api.post({"unit": "van", "key": "balance_start_v", "value": 3.4})
            c.eq((code, (r or {}).get("result")), (200, "done"), "%s: balance_start_v 3.4: done (%s)" % (label, r))
            c.eq([f for f in ble_frames(sim_bytes(sim)) or [] if f[0] not in (0x96, 0x97)], [(0x26, 4, 3400)],
                 "%s: written to 0x26, JK02_24S's balancing start" % label)
            c.eq(sim.state()["packs"][0].get("jk_written"), {"34": 3400}, "%s: the simulator took it" % label)
            return
        jk_changes(label, api, sim, gw)
        jk_refusals(label, api, sim)
        frames = ble_frames(sim_bytes(sim))
        c.ok(frames is not None, "%s: every byte received is a whole JK02 request" % label)
        c.eq([f for f in frames or [] if f[0] not in (0x96, 0x97)], [(reg, 4, raw) for _k, _v, _p, reg, raw in JK_CHANGES],
             "%s: one write per change, of its register and value, nothing else" % label)
        c.ok(all(f[1:] == (0, 0) for f in frames or [] if f[0] in (0x96, 0x97)), "%s: the reads carry nothing" % label)
        # 0xC8 comes, the BMS did not take it: the read-back says failed
        sim.ctl("control 1 refuse")
        sim.ctl("rxlog reset")
        code, r = api.post({"unit": "van", "key": "cell_ovp_v", "value": 3.58})
        c.eq((code, (r or {}).get("result")), (502, "failed"),
             "%s: acknowledged by 0xC8 but not taken: 502 failed by the read-back (%s)" % (label, r))
        c.eq([f for f in ble_frames(sim_bytes(sim)) or [] if f[0] not in (0x96, 0x97)], [(0x04, 4, 3580)],
             "%s: that write sent once" % label)
        time.sleep(1.1)
        sim.ctl("control 1 silent")
        sim.ctl("rxlog reset")
        code, r = api.post({"unit": "van", "key": "cell_ovp_v", "value": 3.58})
        c.eq((code, (r or {}).get("result")), (502, "failed"), "%s: no 0xC8: 502 failed" % label)
        c.eq([f for f in ble_frames(sim_bytes(sim)) or [] if f[0] not in (0x96, 0x97)], [(0x04, 4, 3580)] * 2,
             "%s: unanswered, sent 1 + retries (2) times" % label)
        c.eq(sim.state()["packs"][0]["jk_written"]["4"], 3600, "%s: the BMS still holds 3.600 V" % label)
        sim.ctl("control 1 normal")
    finally:
        if c.failed:
            gw.dump(30)
        gw.stop()
        fake.stop()
        sim.stop()


def mqtt_case():
    broker = free_port()
    mq = subprocess.Popen(["mosquitto", "-p", str(broker)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sim = Sim(protocol="jbd", packs=("address=1",))
    gw_port = free_port()
    gw = None
    try:
        c.ok(wait_until(lambda: subprocess.run(["mosquitto_pub", "-p", str(broker), "-t", "x", "-m", "1"],
                                               capture_output=True).returncode == 0, 10), "mosquitto runs")
        gw = Gateway("""[gateway]
listen = 127.0.0.1:%d
state_file = none
[mqtt]
host = 127.0.0.1
port = %d
control = true
[pack.van]
protocol = jbd
port = tcp://127.0.0.1:%d
chemistry = lfp
bms_settings = balancer, cell_ovp_v
poll_interval = 0.5
control_timeout = 10
""" % (gw_port, broker, sim.port), gw_port)
        sub = subprocess.Popen(["mosquitto_sub", "-p", str(broker), "-v", "-t", "bmsgw/van/set/result",
                                "-t", "test/ready", "-W", "300"], stdout=subprocess.PIPE, text=True)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in sub.stdout], daemon=True).start()
        c.ok(wait_until(lambda: (lambda p: p["set_writes"] >= 2 and p["factory"] == 0)(sim.state()["packs"][0]), 30),
             "mqtt: the settings read through factory mode")
        c.ok(wait_until(lambda: mbread(gw_port, 0, 348, 1) == "ok 1", 30),
             "mqtt: the pack is online (its first poll done: a stale pack's change is refused)")

        def heard():  # the subscription is in place once it hears its own probe
            subprocess.run(["mosquitto_pub", "-p", str(broker), "-t", "test/ready", "-m", "1"])
            try:
                return lines.get(timeout=1).startswith("test/ready")
            except queue.Empty:
                return False
        c.ok(wait_until(heard, 60), "mqtt: the subscription is in place")

        def outcome():  # the next line on set/result (probes skipped), or None after 60 s
            try:
                while True:
                    line = lines.get(timeout=60)
                    if line.startswith("bmsgw/van/set/result "):
                        return json.loads(line.split(" ", 1)[1])
            except queue.Empty:
                return None
        res = []
        for topic, payload in (("bms_balancer", "OFF"), ("bms_cell_ovp_v", "3.9"), ("bms_cell_ovp_v", "3.55")):
            subprocess.run(["mosquitto_pub", "-p", str(broker), "-t", "bmsgw/van/set/" + topic, "-m", payload])
            r = outcome()
            if r is None:
                break
            res.append(r)
            time.sleep(1.1)  # a pack takes one change a second: the next goes 1.1 s after this one ended
        sub.terminate()
        sub.wait()
        c.eq([(r["setting"], r["result"]) for r in res],
             [("bms_balancer", "done"), ("bms_cell_ovp_v", "refused"), ("bms_cell_ovp_v", "done")],
             "mqtt: outcomes on set/result")
        c.ok(len(res) == 3 and res[2]["value"] == 3.55 and res[2]["old"] == 3.65 and res[2]["origin"] == "mqtt",
             "mqtt: value read back, old, origin (%s)" % (res[2:],))
        c.ok(len(res) == 3 and "lfp" in (res[1]["message"] or ""), "mqtt: the refusal names lfp's bound")
        c.ok(len(res) == 3 and res[1]["value"] == 3.65, "mqtt: the refusal's value is what the BMS reports (%s)"
             % (res[1:2],))
        c.eq(sim.state()["packs"][0]["eeprom"][0x24], 3550, "mqtt: the simulator's register holds 3550 mV")
    finally:
        if gw:
            gw.stop()
        sim.stop()
        mq.terminate()
        mq.wait()


def check_case():
    def check(text):
        p = subprocess.run([BMSGW, "--check", "-c", write_conf(text)], capture_output=True, text=True)
        return p.returncode, p.stdout + p.stderr
    base = "[gateway]\nlisten = 127.0.0.1:1502\n[pack.a]\nport = tcp://127.0.0.1:9\n"
    rc, out = check(base + "protocol = jbd\nbms_settings = soc_max\n")
    c.ok(rc != 0 and "soc_max" in out, "--check: an unknown key (%s)" % out.strip()[-160:])
    rc, out = check(base + "protocol = jbd\nbms_settings = soc\n")
    c.ok(rc != 0 and "cannot write soc" in out and "balancer" in out, "--check: jbd cannot write soc, names what it can")
    rc, out = check(base + "protocol = jbd\nbms_settings = cell_ovp_v\n")
    c.ok(rc != 0 and "own chemistry" in out, "--check: a cell voltage without the pack's own chemistry")
    rc, out = check(base + "protocol = jbd\nchemistry = lfp\nbms_settings = cell_ovp_v, balancer\n")
    c.eq(rc, 0, "--check: jbd with its chemistry passes (%s)" % out.strip()[-160:])
    rc, out = check(base + "protocol = jk\nbms_settings = balancer\n")
    c.ok(rc != 0 and "writes none" in out and "captured" in out, "--check: jk (0x4E57) writes none until captured")
    rc, out = check(base + "protocol = daly\nbms_settings = soc, balancer\n")
    c.ok(rc != 0 and "cannot write balancer" in out and "soc" in out, "--check: daly writes soc only")
    rc, out = check(base + "protocol = jk-pb\naddress = 1\nchemistry = lfp\nbms_settings = " + JK_KEYS + "\n")
    c.eq(rc, 0, "--check: jk-pb writes every key but soc (%s)" % out.strip()[-160:])
    rc, out = check(base + "protocol = jk-pb\naddress = 1\nbms_settings = soc\n")
    c.ok(rc != 0 and "cannot write soc" in out and "capacity_ah" in out, "--check: jk-pb cannot write soc, names what it can")
    rc, out = check(base + "protocol = jk-pb\naddress = 1\nlisten = true\nbms_settings = balancer\n")
    c.ok(rc != 0 and "listening pack is never written" in out, "--check: a listening jk-pb pack writes nothing")
    rc, out = check("[gateway]\nlisten = 127.0.0.1:1502\n[pack.a]\nport = ble://C8:47:8C:00:00:01\n"
                    "protocol = jk-ble\nchemistry = lfp\nbms_settings = " + JK_KEYS + "\n")
    c.eq(rc, 0, "--check: jk-ble writes every key but soc over Bluetooth LE (%s)" % out.strip()[-160:])


try:
    pem, key = self_signed(TMP)
    users = users_file(TMP, [("ada", "admin"), ("rob", "read")], PW)
    pieces = [check_case, lambda: jbd_case(pem, key, users), lambda: daly_case(pem, key, users), mqtt_case,
              lambda: jk_pb_case(pem, key, users), lambda: jk_ble_case(pem, key, users)]
    for piece in pieces:
        if my_part():
            piece()
finally:
    shutil.rmtree(TMP, ignore_errors=True)
sys.exit(c.report())
