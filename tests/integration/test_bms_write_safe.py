#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: parts=3
"""BMS settings bounded, exact and left clean (bmsgw-bms(7) BMS SETTINGS),
each attack against the real bmsgw and the simulator's byte log (rxlog):
what the BMS received is parsed frame by frame, and a refusal is a
refusal only if nothing of the change reached it.

- no-op: a value equal to what the BMS last reported (cell_ovp_v 3.65,
  the balancer ON) is answered 200 done with nothing sent: no frame of a
  change on the wire, the log saying so;
- the write budget (bms_settings_per_day = 3): three changes done, the
  fourth refused 429 with a Retry-After header and a message that says
  when, nothing written; after a restart (the state file) still 429; a
  no-op still done;
- one parser: over HTTP true for capacity_ah, "ON" for charge_ocp_a,
  "0x3.8p0", "0X64", "inf", a value named twice in the body; over MQTT
  0x3.8p0, 0X64, true, ON, nan, +3.6, 3.6e0 for number keys: each 422 (or
  refused on set/result) with nothing written; the balancer takes ON /
  OFF / true; jk-pb's capacity_ah 9999.9996 Ah (off its 1 mAh step) 422,
  not rounded to 10000 Ah;
- left clean (JBD's factory mode): the acknowledgement of the entry lost
  -> the exit (without saving) sent all the same, the simulator out of
  factory mode; a reload that drops the key while the change is in
  factory mode -> nothing written, left without saving, answered refused;
  SIGTERM while a change is in factory mode -> the exit sent before
  bmsgw ends, the simulator out of factory mode.
Prints "N passed, N failed"."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Gateway, Sim, crc16_modbus, free_port, my_part, self_signed, wait_until  # noqa: E402
from mqtt_harness import Broker, Subscriber, pub  # noqa: E402
from page_clients import users_file  # noqa: E402

c = Checks()
TMP = tempfile.mkdtemp(prefix="bmsgw-bsafe-")
PW = "bsafe-Pass-7730"
EXIT_NOSAVE = (0x01, b"\x00\x00")
EXIT_SAVE = (0x01, b"\x28\x28")
ENTER = (0x00, b"\x56\x78")


def conf(http_port, gw_port, sim_port, pem, key, users, proto="jbd", keys="cell_ovp_v, balancer", extra=""):
    return """[gateway]
listen = 127.0.0.1:%d
state_file = %s
stale_after = 30
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
poll_interval = 0.5
control_timeout = 10
retries = 1
timeout = 0.5
%s""" % (gw_port, os.path.join(TMP, "state-%d" % gw_port), http_port, pem, key, users, proto, sim_port, keys, extra)


class Api:
    def __init__(self, port):
        self.base = "https://127.0.0.1:%d" % port

    def curl(self, path, body=None, token=None):
        """(status, JSON or text, headers {lower name: value})."""
        hdr = tempfile.NamedTemporaryFile(delete=False)
        hdr.close()
        args = ["curl", "-sk", "-o", "-", "-D", hdr.name, "-w", "\n%{http_code}", "-u", "ada:" + PW,
                "--max-time", "60"]
        if body is not None:
            args += ["-X", "POST", "--data-binary", body, "-H", "Content-Type: application/json",
                     "-H", "X-CSRF-Token: " + (token or self.token())]
        out = subprocess.run(args + [self.base + path], capture_output=True, text=True).stdout
        with open(hdr.name) as f:
            headers = {k.strip().lower(): v.strip() for k, _, v in
                       (line.partition(":") for line in f.read().splitlines() if ":" in line)}
        os.unlink(hdr.name)
        text, _, code = out.rpartition("\n")
        try:
            return int(code), json.loads(text) if text else None, headers
        except ValueError:
            return int(code or 0), text, headers

    def token(self):
        return self.curl("/api/setup/session")[1]["csrf"]

    def post(self, obj, raw=None):
        return self.curl("/api/bms-settings", body=raw if raw is not None else json.dumps(obj))

    def get(self):
        return self.curl("/api/bms-settings?unit=van")[1]

    def online(self):
        g = self.get()
        return isinstance(g, dict) and not g.get("stale") and g["keys"].get("cell_ovp_v", {}).get("value")


def rx(sim):
    """Every byte the simulator received since its last `rxlog reset`."""
    log = json.loads(sim.ctl("rxlog"))
    c.eq(log["lost"], 0, "rxlog: no byte lost")
    return b"".join(bytes.fromhex(ch[2]) for ch in log["chunks"])


def jbd_frames(data):
    """The JBD requests received, parsed on their own (DD, A5 read / 5A
    write, register, length, data, checksum, 77): [(rw, reg, data)]; None
    when a byte is left that is none."""
    out, i = [], 0
    while i < len(data):
        if len(data) - i < 7 or data[i] != 0xDD or data[i + 1] not in (0xA5, 0x5A):
            return None
        n = 7 + data[i + 3]
        f = data[i:i + n]
        if len(f) < n or f[-1] != 0x77 or (0x10000 - sum(f[2:n - 3])) & 0xFFFF != (f[-3] << 8 | f[-2]):
            return None
        out.append((f[1], f[2], bytes(f[4:n - 3])))
        i += n
    return out


def jbd_writes(sim):
    """What the BMS was told to do since the last reset: the factory-mode
    frames and writes as [(reg, data)] (the polls' reads left out)."""
    frames = jbd_frames(rx(sim))
    c.ok(frames is not None, "rxlog: every byte received is a whole JBD request")
    return [(reg, d) for rw, reg, d in frames or [] if rw == 0x5A]


def eeprom_writes(writes):
    """The registers written (not the factory mode's 0x00 / 0x01)."""
    return [(reg, int.from_bytes(d, "big")) for reg, d in writes if reg >= 0x10]


def show(ws):
    return " ".join("%02X<-%s" % (reg, d.hex()) for reg, d in ws) or "nothing"


def factory(sim):
    return sim.state()["packs"][0]["factory"]


# ---------------------------------------------------------------- no-op, budget

def noop_budget_case(pem, key, users):
    sim = Sim(protocol="jbd", packs=("address=1",))
    http_port, gw_port = free_port(), free_port()
    text = conf(http_port, gw_port, sim.port, pem, key, users, extra="bms_settings_per_day = 3\n")
    gw = Gateway(text, gw_port)
    api = Api(http_port)
    try:
        c.ok(wait_until(api.online, 30), "the settings are read (cell_ovp_v has a value)")
        sim.ctl("rxlog reset")
        code, r, _h = api.post({"unit": "van", "key": "cell_ovp_v", "value": 3.65})
        ws = jbd_writes(sim)
        print("# no-op cell_ovp_v 3.65 (the BMS holds 3.65): %d %s; the BMS received: %s"
              % (code, (r or {}).get("result"), show(ws)))
        c.eq((code, (r or {}).get("result"), (r or {}).get("value")), (200, "done", 3.65),
             "no-op: 200 done, the value what the BMS holds (%s)" % (r,))
        c.eq(ws, [], "no-op: nothing sent to the BMS (no factory mode, no write, no save)")
        code, r, _h = api.post({"unit": "van", "key": "balancer", "value": "ON"})
        c.eq((code, (r or {}).get("result")), (200, "done"), "no-op: balancer ON (it is on): 200 done")
        c.eq(jbd_writes(sim), [], "no-op: the balancer: nothing sent")
        c.ok(wait_until(lambda: "cell_ovp_v 3.650 V -> 3.650 V: done, the BMS holds it already; nothing was sent"
                        in gw.text(), 5), "no-op: logged as such")

        # the budget: 3 a day
        done = []
        for v in (3.60, 3.62, 3.64):
            code, r, _h = api.post({"unit": "van", "key": "cell_ovp_v", "value": v})
            done.append((code, (r or {}).get("result")))
            time.sleep(1.1)  # a pack takes one change a second
        c.eq(done, [(200, "done")] * 3, "budget: three changes done")
        sim.ctl("rxlog reset")
        code, r, h = api.post({"unit": "van", "key": "cell_ovp_v", "value": 3.63})
        ws = jbd_writes(sim)
        print("# the 4th change with bms_settings_per_day = 3: %d %s (%s) Retry-After %s; the BMS received: %s"
              % (code, (r or {}).get("result"), (r or {}).get("message"), h.get("retry-after"), show(ws)))
        c.eq((code, (r or {}).get("result")), (429, "refused"), "budget: the 4th in a day: 429 refused")
        msg = (r or {}).get("message") or ""
        c.ok("bms_settings_per_day = 3" in msg and "the next in " in msg, "budget: the message says when (%s)" % msg)
        ra = h.get("retry-after", "")
        c.ok(ra.isdigit() and 86000 < int(ra) <= 86400, "budget: Retry-After in seconds, about a day (%s)" % ra)
        c.eq(ws, [], "budget: nothing sent to the BMS")
        c.eq(sim.state()["packs"][0]["eeprom"][0x24], 3640, "budget: the BMS holds the third change's 3.640 V")
        code, r, _h = api.post({"unit": "van", "key": "cell_ovp_v", "value": 3.64})
        c.eq((code, (r or {}).get("result")), (200, "done"), "budget spent: a no-op is still done")
        # a restart keeps the count
        c.eq(gw.stop(), 0, "bmsgw stops cleanly")
        gw = Gateway(text, gw_port)
        c.ok(wait_until(api.online, 30), "restarted: the settings read again")
        sim.ctl("rxlog reset")
        code, r, h = api.post({"unit": "van", "key": "cell_ovp_v", "value": 3.63})
        ws = jbd_writes(sim)
        print("# after a restart: %d %s; the BMS received: %s" % (code, (r or {}).get("result"), show(ws)))
        c.eq((code, (r or {}).get("result")), (429, "refused"), "budget: after a restart still 429 (%s)" % (r,))
        c.eq(ws, [], "budget: after a restart nothing sent")
    finally:
        if c.failed:
            gw.dump(30)
        gw.stop()
        sim.stop()


# ---------------------------------------------------------------- one parser

def parser_case(pem, key, users):
    sim = Sim(protocol="jbd", packs=("address=1",))
    broker = Broker()
    http_port, gw_port = free_port(), free_port()
    extra = "bms_settings_per_day = 100\n[mqtt]\nhost = 127.0.0.1\nport = %d\ncontrol = true\n" % broker.port
    gw = Gateway(conf(http_port, gw_port, sim.port, pem, key, users,
                      keys="cell_ovp_v, capacity_ah, charge_ocp_a, balancer", extra=extra), gw_port)
    api = Api(http_port)
    sub = Subscriber(broker.port, topics=("bmsgw/van/set/result",))
    try:
        c.ok(wait_until(api.online, 30), "the settings are read")
        sim.ctl("rxlog reset")
        tok = api.token()
        bad_http = [("capacity_ah", True), ("charge_ocp_a", "ON"), ("capacity_ah", "true"), ("cell_ovp_v", "0x3.8p0"),
                    ("capacity_ah", "0X64"), ("cell_ovp_v", "inf"), ("cell_ovp_v", "3.6e0"), ("cell_ovp_v", "high"),
                    ("cell_ovp_v", None), ("balancer", 2), ("balancer", "maybe")]
        for k, v in bad_http:
            before = jbd_writes(sim)
            code, r, _h = api.curl("/api/bms-settings", json.dumps({"unit": "van", "key": k, "value": v}), tok)
            after = jbd_writes(sim)
            print("# HTTP %s %s: %d %s (%s); the BMS received: %s" % (k, json.dumps(v), code, (r or {}).get("result"),
                                                                      (r or {}).get("message"), show(after[len(before):])))
            c.eq((code, (r or {}).get("result")), (422, "refused"), "HTTP %s %s: 422 refused" % (k, json.dumps(v)))
            if code != 422:
                time.sleep(1.1)
        raw = '{"unit":"van","key":"cell_ovp_v","value":3.6,"value":3.55}'
        code, r, _h = api.curl("/api/bms-settings", raw, tok)
        print("# HTTP %s: %d %s (%s)" % (raw, code, (r or {}).get("result"), (r or {}).get("message")))
        c.eq((code, (r or {}).get("result")), (422, "refused"), "HTTP: a value named twice: 422 refused")
        c.ok("twice" in ((r or {}).get("message") or ""), "HTTP: the message names the duplicate (%s)" % (r,))
        if code != 422:
            time.sleep(1.1)
        c.eq(eeprom_writes(jbd_writes(sim)), [], "HTTP: nothing written for any of them")

        # MQTT: the same parser
        def mqtt(topic, payload):
            t0 = time.monotonic()
            pub(broker.port, "bmsgw/van/set/" + topic, payload)
            m = sub.wait_for("bmsgw/van/set/result", timeout=30, since=t0)
            return m.json() if m else None
        c.ok(wait_until(lambda: mqtt("bms_nothing", "1") is not None, 30), "MQTT: the set/ topics are subscribed")
        sim.ctl("rxlog reset")
        for topic, payload in (("bms_cell_ovp_v", "0x3.8p0"), ("bms_capacity_ah", "0X64"), ("bms_capacity_ah", "true"),
                               ("bms_charge_ocp_a", "ON"), ("bms_cell_ovp_v", "nan"), ("bms_cell_ovp_v", "+3.6"),
                               ("bms_cell_ovp_v", "3.6e0"), ("bms_cell_ovp_v", " 3.6"), ("bms_balancer", "2")):
            before = jbd_writes(sim)
            r = mqtt(topic, payload)
            after = jbd_writes(sim)
            print("# MQTT %s %r: %s (%s); the BMS received: %s" % (topic, payload, (r or {}).get("result"),
                                                                  (r or {}).get("message"), show(after[len(before):])))
            c.eq((r or {}).get("result"), "refused", "MQTT %s %r: refused" % (topic, payload))
            if (r or {}).get("result") != "refused":
                time.sleep(1.1)
        c.eq(eeprom_writes(jbd_writes(sim)), [], "MQTT: nothing written for any of them")
        # what is taken: decimals, and the switch's words
        sim.ctl("rxlog reset")
        took = []
        for topic, payload in (("bms_balancer", "OFF"), ("bms_balancer", "true"), ("bms_capacity_ah", "280.5"),
                               ("bms_cell_ovp_v", "3.600")):
            r = mqtt(topic, payload)
            took.append((r or {}).get("result"))
            time.sleep(1.1)
        c.eq(took, ["done"] * 4, "MQTT: OFF, true, 280.5, 3.600 taken")
        c.eq(eeprom_writes(jbd_writes(sim)), [(0x2D, 0x0001), (0x2D, 0x0005), (0x10, 28050), (0x24, 3600)],
             "MQTT: what was taken written, nothing else")
        code, r, _h = api.curl("/api/bms-settings", json.dumps({"unit": "van", "key": "cell_ovp_v", "value": "3.55"}),
                               tok)
        c.eq((code, (r or {}).get("result")), (200, "done"), "HTTP: a decimal in a string is taken (%s)" % (r,))
    finally:
        if c.failed:
            gw.dump(30)
        sub.close()
        gw.stop()
        sim.stop()
        broker.stop()


def pb_writes(sim):
    """The FC16 writes a JK-PB received (not the triggers): [(register, value)]."""
    data, out, i = rx(sim), [], 0
    while i + 9 <= len(data) and data[i + 1] == 0x10:
        n = 9 + data[i + 6]
        f = data[i:i + n]
        if len(f) < n or crc16_modbus(f[:-2]) != (f[-2] | f[-1] << 8):
            break
        if (f[2] << 8 | f[3]) < 0x1600:
            out.append(((f[2] << 8) | f[3], int.from_bytes(f[7:-2], "big")))
        i += n
    c.eq(i, len(data), "jk-pb: every byte received is a whole FC16 request")
    return out


def jk_pb_case(pem, key, users):
    sim = Sim(protocol="jk-pb", packs=("address=1",))
    http_port, gw_port = free_port(), free_port()
    gw = Gateway(conf(http_port, gw_port, sim.port, pem, key, users, proto="jk-pb", keys="cell_ovp_v, capacity_ah",
                      extra="address = 1\n"), gw_port)
    api = Api(http_port)
    try:
        c.ok(wait_until(api.online, 30), "jk-pb: the settings record read")
        sim.ctl("rxlog reset")
        code, r, _h = api.post({"unit": "van", "key": "capacity_ah", "value": 9999.9996})
        ws = pb_writes(sim)
        print("# jk-pb capacity_ah 9999.9996: %d %s (%s); the BMS received: %s"
              % (code, (r or {}).get("result"), (r or {}).get("message"), ws))
        c.eq((code, (r or {}).get("result")), (422, "refused"), "jk-pb: 9999.9996 Ah (off the 1 mAh step): 422")
        c.ok("step" in ((r or {}).get("message") or "") and "9999.9996" in ((r or {}).get("message") or ""),
             "jk-pb: the message names the value and the step")
        c.eq(ws, [], "jk-pb: nothing written")
        if code != 422:
            time.sleep(1.1)
        code, r, _h = api.post({"unit": "van", "key": "capacity_ah", "value": 9999.999})
        c.eq((code, (r or {}).get("result")), (200, "done"), "jk-pb: 9999.999 Ah (on the step): done (%s)" % (r,))
        c.eq(pb_writes(sim), [(0x107C, 9999999)], "jk-pb: 9999999 mAh written, nothing else")
    finally:
        if c.failed:
            gw.dump(30)
        gw.stop()
        sim.stop()


# ---------------------------------------------------------------- left clean

def in_thread(fn):
    """fn() run aside; the returned list holds its result once it ended."""
    out = []
    t = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    t.start()
    return t, out


def clean_start(pem, key, users, timeout="0.5"):
    """A jbd simulator and bmsgw with three keys, its settings read."""
    sim = Sim(protocol="jbd", packs=("address=1",))
    http_port, gw_port = free_port(), free_port()
    text = conf(http_port, gw_port, sim.port, pem, key, users, keys="cell_ovp_v, cell_ovp_release_v, balancer",
                extra="bms_settings_per_day = 100\n").replace("timeout = 0.5", "timeout = " + timeout)
    gw = Gateway(text, gw_port)
    api = Api(http_port)
    c.ok(wait_until(api.online, 30), "the settings are read")
    c.eq(factory(sim), 0, "not in factory mode")
    return sim, gw, api, text


def ack_lost_case(pem, key, users):
    sim, gw, api, _text = clean_start(pem, key, users)
    try:
        # the entry's acknowledgement lost: the BMS entered, nothing says so
        sim.ctl("control 1 noack")
        sim.ctl("rxlog reset")
        code, r, _h = api.post({"unit": "van", "key": "cell_ovp_v", "value": 3.6})
        ws = jbd_writes(sim)
        fm = factory(sim)
        print("# the entry's ack lost: %d %s (%s); the BMS received: %s; factory mode after: %d"
              % (code, (r or {}).get("result"), (r or {}).get("message"), show(ws), fm))
        c.eq((code, (r or {}).get("result")), (502, "failed"), "ack lost: 502 failed")
        c.ok(ENTER in ws and EXIT_NOSAVE in ws[ws.index(ENTER):], "ack lost: the exit without saving sent after the entry")
        c.ok(EXIT_SAVE not in ws and not eeprom_writes(ws), "ack lost: nothing written or saved")
        c.eq(fm, 0, "ack lost: the simulator is out of factory mode")
        sim.ctl("control 1 normal")
        c.ok(wait_until(api.online, 30), "the pack polled again")
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        sim.stop()


def reload_case(pem, key, users):
    # each answer 1.5 s late: the change sits in factory mode long enough
    # for the reload to land before its write
    sim, gw, api, text = clean_start(pem, key, users, timeout="5")
    try:
        sim.ctl("latency 1500")
        tok = api.token()
        sim.ctl("rxlog reset")
        t, out = in_thread(lambda: api.curl("/api/bms-settings", json.dumps(
            {"unit": "van", "key": "cell_ovp_v", "value": 3.6}), tok))
        c.ok(wait_until(lambda: factory(sim) == 1, 20), "reload: the change entered factory mode")
        with open(gw.conf, "w") as f:
            f.write(text.replace("bms_settings = cell_ovp_v, ", "bms_settings = "))
        gw.p.send_signal(1)
        t.join(60)
        code, r, _h = out[0] if out else (0, None, {})
        ws = jbd_writes(sim)
        fm = factory(sim)
        print("# reload drops cell_ovp_v while its change is in factory mode: %d %s (%s); the BMS received: %s; "
              "factory mode after: %d; 0x24 = %d" % (code, (r or {}).get("result"), (r or {}).get("message"), show(ws),
                                                     fm, sim.state()["packs"][0]["eeprom"][0x24]))
        c.ok("reload #1: applied" in gw.text(), "reload: applied")
        c.eq((code, (r or {}).get("result")), (403, "refused"), "reload: the change refused (%s)" % (r,))
        c.ok("bms_settings" in ((r or {}).get("message") or ""), "reload: the reason names bms_settings")
        c.eq(eeprom_writes(ws), [], "reload: nothing written")
        c.ok(EXIT_SAVE not in ws and EXIT_NOSAVE in ws, "reload: factory mode left without saving")
        c.eq((fm, sim.state()["packs"][0]["eeprom"][0x24]), (0, 3650), "reload: out of factory mode, 3.650 V kept")
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        sim.stop()


def sigterm_case(pem, key, users):
    sim, gw, api, _text = clean_start(pem, key, users, timeout="5")
    try:
        sim.ctl("latency 1500")
        tok = api.token()
        sim.ctl("rxlog reset")
        t, out = in_thread(lambda: api.curl("/api/bms-settings", json.dumps(
            {"unit": "van", "key": "cell_ovp_release_v", "value": 3.38}), tok))
        c.ok(wait_until(lambda: factory(sim) == 1, 20), "SIGTERM: the change entered factory mode")
        t0 = time.monotonic()
        rc = gw.stop()
        took = time.monotonic() - t0
        ws = jbd_writes(sim)
        fm = factory(sim)
        print("# SIGTERM while a change is in factory mode: bmsgw ended in %.1f s (rc %s); the BMS received: %s; "
              "factory mode after: %d" % (took, rc, show(ws), fm))
        c.eq(rc, 0, "SIGTERM: bmsgw ends cleanly")
        c.ok(EXIT_NOSAVE in ws and EXIT_SAVE not in ws and not eeprom_writes(ws),
             "SIGTERM: factory mode left without saving, nothing written")
        c.eq(fm, 0, "SIGTERM: the simulator is out of factory mode")
        c.ok("stopping: waiting up to" in gw.text() and "bmsgw stops: given up before its write" in gw.text(),
             "SIGTERM: the wait and the change's end logged")
        t.join(60)
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        sim.stop()


try:
    pem, key = self_signed(TMP)
    users = users_file(TMP, [("ada", "admin")], PW)
    pieces = [lambda: noop_budget_case(pem, key, users), lambda: parser_case(pem, key, users),
              lambda: reload_case(pem, key, users), lambda: jk_pb_case(pem, key, users),
              lambda: ack_lost_case(pem, key, users), lambda: sigterm_case(pem, key, users)]
    for piece in pieces:
        if my_part():
            piece()
finally:
    shutil.rmtree(TMP, ignore_errors=True)
sys.exit(c.report())
