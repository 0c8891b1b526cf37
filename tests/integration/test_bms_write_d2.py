#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""daly-modbus's D2 dialect writes its BMS settings (bms_settings,
bmsgw-bms(7) BMS SETTINGS, bms/PROTOCOLS.md §14.5), end to end over
Bluetooth LE without a radio: the real bmsgw over HTTPS with logins, a fake
BlueZ (tests/ble/fake_bluez.py, as test_ble.py runs it) whose devices bridge
to the simulator (bmsgw-sim, daly-modbus dialect=d2: a write changes what
its next read shows), with curl.

- the settings and the balancer switch read for a pack with bms_settings
  (no control): GET /api/bms-settings shows the D2 keys, their values and
  bounds (lfp's within the protocol's, its steps);
- every D2 key changed, one after the other: the register read, written
  (FC06), echoed, read back, answered 200 "done" with old and new, the
  simulator's register changed, one log line; the over-currents keep the
  side of 30000 the register showed; the SOC read back from 0x2A;
- refused, nothing written: over lfp's bound, off the step (never
  rounded), out of order with the values the BMS reports, a key not in
  bms_settings, a read login, no CSRF token, a second change within a
  second, the balancer 2;
- the BMS refuses (D2 86 04): 502; silent: the write sent 1 + retries
  times, 502; the echo without the change (noswitch): the read-back
  disagrees, 502, the register unchanged;
- a pack found speaking the 0x81 dialect over Bluetooth LE: 422, nothing
  sent; a reload and a reconnect write nothing;
- every byte the BMS side received (the simulator's rxlog): each write is
  of an allowed key's register, within lfp's and the protocol's bounds,
  after a read of the same field, exactly the writes the changes above
  made; the 0x81 pack received no write at all;
- --check: daly-modbus on a wire writes none (naming what Bluetooth LE
  writes), over Bluetooth LE no release key (naming the D2 keys).
Prints what a change takes end to end (frames, seconds) and
"N passed, N failed"."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BIN, FEWEST_ROUNDS, ROOT, Checks, Gateway, Sim, free_port, self_signed,  # noqa: E402
                     wait_until, write_conf)
from page_clients import users_file  # noqa: E402

c = Checks()
TMP = tempfile.mkdtemp(prefix="bmsgw-bset-d2-")
PW = "bset-D2-Pass-7731"
BMSGW = os.path.join(ROOT, BIN, "bmsgw")
MAC_D2, MAC_81 = "41:18:12:00:00:D2", "41:18:12:00:00:81"
KEYS = "soc, balancer, balance_start_v, balance_delta_v, cell_ovp_v, cell_uvp_v, charge_ocp_a, discharge_ocp_a, " \
    "capacity_ah"
# key -> (the register written, the register read, its range of raw values on the wire within lfp's):
# syssi/esphome-daly-bms's table, as bms/PROTOCOLS.md §14.5 gives it (computed here, not taken from bmsgw)
REG = {"soc": (0xA7, 0x2A), "balancer": (0xCF, 0xCF), "balance_start_v": (0xA3, 0xA3),
       "balance_delta_v": (0xA4, 0xA4), "cell_ovp_v": (0x8C, 0x8C), "cell_uvp_v": (0x8E, 0x8E),
       "charge_ocp_a": (0x94, 0x94), "discharge_ocp_a": (0x96, 0x96), "capacity_ah": (0x80, 0x80)}
BOUND = {0xA7: (0, 1000), 0xCF: (0, 1), 0xA3: (2500, 3650), 0xA4: (3, 500), 0x8C: (2500, 3650),
         0x8E: (2500, 3650), 0x80: (10, 65535)}


def crc16(b):
    c_ = 0xFFFF
    for x in b:
        c_ ^= x
        for _ in range(8):
            c_ = (c_ >> 1) ^ 0xA001 if c_ & 1 else c_ >> 1
    return c_


def received(sim):
    """Every request the BMS side received, in order: (address, fc, register, value), from the
    simulator's rxlog (every byte, as read), framed and CRC-checked here."""
    log = json.loads(sim.ctl("rxlog"))
    data = b"".join(bytes.fromhex(ch[2]) for ch in log["chunks"])
    out, i = [], 0
    while i + 8 <= len(data):
        f = data[i:i + 8]
        if f[1] in (3, 6) and crc16(f[:6]) == (f[6] | f[7] << 8):
            out.append((f[0], f[1], f[2] << 8 | f[3], f[4] << 8 | f[5]))
            i += 8
        else:
            i += 1
    return out, log["lost"]


def writes(sim):
    return [f for f in received(sim)[0] if f[1] == 6]


class Api:
    def __init__(self, port):
        self.base = "https://127.0.0.1:%d" % port

    def curl(self, path, user="ada", body=None, token=None):
        args = ["curl", "-sk", "-o", "-", "-w", "\n%{http_code}", "-u", "%s:%s" % (user, PW), "--max-time", "60"]
        if body is not None:
            args += ["-X", "POST", "--data-binary", body, "-H", "Content-Type: application/json"]
        if token:
            args += ["-H", "X-CSRF-Token: " + token]
        out = subprocess.run(args + [self.base + path], capture_output=True, text=True).stdout
        text, _, code = out.rpartition("\n")
        try:
            return int(code), json.loads(text) if text else None
        except ValueError:
            return int(code or 0), text

    def token(self, user="ada"):
        return self.curl("/api/setup/session", user=user)[1]["csrf"]

    def post(self, unit, key, value, user="ada", token=None):
        return self.curl("/api/bms-settings", user=user, body=json.dumps({"unit": unit, "key": key, "value": value}),
                         token=token if token is not None else self.token(user))

    def get(self, unit="van"):
        return self.curl("/api/bms-settings?unit=" + unit)


def conf(http_port, gw_port, pem, key, users, extra_81=""):
    pack = "[pack.%s]\nprotocol = daly-modbus\nport = ble://%s\nunit_id = %d\naddress = 1\nchemistry = lfp\n" \
        "bms_settings = %s\nbms_settings_per_day = 100\npoll_interval = 0.5\ncontrol_timeout = 10\nretries = 1\n" \
        "timeout = 1\n"
    return ("[gateway]\nlisten = 127.0.0.1:%d\nstale_after = 20\nstate_file = none\n"
            "[http]\nlisten = 127.0.0.1:%d\ntls_cert = %s\ntls_key = %s\nusers_file = %s\n"
            % (gw_port, http_port, pem, key, users) +
            pack % ("van", MAC_D2, 1, KEYS) + pack % ("dl", MAC_81, 2, "soc") + extra_81)


def check_case():
    def check(text):
        p = subprocess.run([BMSGW, "--check", "-c", write_conf(text)], capture_output=True, text=True)
        return p.returncode, p.stdout + p.stderr
    base = "[gateway]\nlisten = 127.0.0.1:1502\n[pack.a]\nprotocol = daly-modbus\nchemistry = lfp\n"
    rc, out = check(base + "port = tcp://127.0.0.1:9\nbms_settings = soc\n")
    c.ok(rc != 0 and "writes none" in out and "0x81" in out and "over Bluetooth LE it writes soc, balancer" in out,
         "--check: on a wire none, naming what Bluetooth LE writes (%s)" % out.strip()[-240:])
    rc, out = check(base + "port = ble://00:11:22:33:44:55\nbms_settings = soc, cell_ovp_release_v\n")
    c.ok(rc != 0 and "cannot write cell_ovp_release_v over Bluetooth LE" in out and "capacity_ah" in out
         and "0x81 dialect" in out, "--check: over Bluetooth LE no release, naming the D2 keys (%s)"
         % out.strip()[-240:])
    rc, out = check(base + "port = ble://00:11:22:33:44:55\nbms_settings = " + KEYS + "\n")
    c.eq(rc, 0, "--check: every D2 key over Bluetooth LE with the pack's chemistry (%s)" % out.strip()[-160:])


class Rate:
    """One change per pack a second: the next one posted a second after
    the last one ended (a rule of the gateway, not a wait for luck)."""

    def __init__(self):
        self.last = 0.0

    def post(self, api, *a, **kw):
        left = self.last + 1.05 - time.monotonic()
        if left > 0:
            time.sleep(left)
        t0 = time.monotonic()
        code, r = api.post(*a, **kw)
        self.last = time.monotonic()
        return code, r, self.last - t0


def changes(api, sim, gw, rate):
    """Every D2 key changed; returns [(key, frames, seconds)]."""
    # value, the register's raw value after the change (the side of 30000 kept: 29900 -> under, 30160 -> over)
    want = [("soc", 42.5, None), ("balancer", "OFF", 0), ("balance_start_v", 3.35, 3350),
            ("balance_delta_v", 0.015, 15), ("cell_ovp_v", 3.6, 3600), ("cell_uvp_v", 2.8, 2800),
            ("charge_ocp_a", 120, 30000 - 1200), ("discharge_ocp_a", 150, 30000 + 1500),
            ("capacity_ah", 280, 2800)]
    fig = []
    for key, value, raw in want:
        n0 = len(received(sim)[0])
        w0 = writes(sim)
        code, r, took = rate.post(api, "van", key, value)
        c.eq((code, (r or {}).get("result")), (200, "done"), "%s %s: done (%s)" % (key, value, r))
        c.ok(r and r.get("confirmed") is True and r.get("old") is not None, "%s: confirmed, with the old value" % key)
        st = sim.state()["packs"][0]
        if key == "soc":
            c.near(st["soc"], 42.5, 0.06, "soc: the simulator's SOC is 42.5 %")
            c.near((r or {}).get("value") or 0, 42.5, 0.06, "soc: the value read back")
        else:
            c.eq(st["d2set"][REG[key][0] - 0x80], raw, "%s: the simulator's register 0x%02X holds %d"
                 % (key, REG[key][0], raw))
        got = received(sim)[0][n0:]
        wr = writes(sim)[len(w0):]
        c.eq([(f[2]) for f in wr], [REG[key][0]], "%s: one write, of register 0x%02X" % (key, REG[key][0]))
        mine = [f for f in got if f[2] in REG[key]]
        c.eq([(f[1], f[2]) for f in mine], [(3, REG[key][1]), (6, REG[key][0]), (3, REG[key][1])],
             "%s: read, write, read back (%s)" % (key, mine))
        fig.append((key, len(mine), took))
    c.ok(wait_until(lambda: "pack van: cell_ovp_v 3.500 V -> 3.600 V: done, confirmed by read-back in" in gw.text()
                    and "bms-settings: admin ada (https " in gw.text(), 5), "one log line: who, old -> new, done")
    code, g = api.get()
    c.near(g["keys"]["cell_ovp_v"]["value"], 3.6, 1e-6, "GET shows the read-back at once")
    c.near(g["keys"]["charge_ocp_a"]["value"], 120, 1e-6, "GET: charge_ocp_a 120 A (its magnitude)")
    c.eq(g["keys"]["balancer"]["value"], 0, "GET: the balancer off")
    return fig


def refusals(api, sim, rate):
    w = len(writes(sim))
    tok = api.token()
    cases = [
        ("over lfp's 3.65 V", ("van", "cell_ovp_v", 3.7), {}, 422),
        ("off the 1 mV step", ("van", "cell_ovp_v", 3.6005), {}, 422),
        ("off the 0.1 % step", ("van", "soc", 42.55), {}, 422),
        ("off the 0.1 A step", ("van", "charge_ocp_a", 120.05), {}, 422),
        ("under lfp's 2.50 V", ("van", "cell_uvp_v", 2.4), {}, 422),
        ("UVP not 0.02 V under the OVP the BMS reports", ("van", "cell_uvp_v", 3.59), {}, 422),
        ("the balance start not under the OVP", ("van", "balance_start_v", 3.6), {}, 422),
        ("the OVP under the balance start", ("van", "cell_ovp_v", 3.3), {}, 422),
        ("the balancer 2", ("van", "balancer", 2), {}, 422),
        ("the capacity over 6553.5 Ah", ("van", "capacity_ah", 6553.6), {}, 422),
        ("a key not in bms_settings (D2 has no release)", ("van", "cell_ovp_release_v", 3.4), {}, 403),
        ("a read login", ("van", "cell_ovp_v", 3.55), {"user": "rob"}, 403),
        ("no CSRF token", ("van", "cell_ovp_v", 3.55), {"token": ""}, 403),
        ("the 0x81 dialect over Bluetooth LE", ("dl", "soc", 50), {}, 422),
    ]
    for what, args, kw, want in cases:
        if "user" not in kw:
            kw.setdefault("token", tok)
        code, r = api.post(*args, **kw)  # a refusal queues nothing: no second to wait
        c.eq(code, want, "refused: %s (%s)" % (what, (r or {}).get("message") if isinstance(r, dict) else r))
        c.ok(isinstance(r, dict) and r.get("result") == "refused" and r.get("message"),
             "refused: %s: the reason given" % what)
    code, r = api.post("dl", "soc", 50)
    c.ok("0x81 dialect" in ((r or {}).get("message") or ""), "the 0x81 pack's refusal names its dialect (%s)" % r)
    # a second change within a second
    code, r, _ = rate.post(api, "van", "balance_delta_v", 0.02)
    c.eq((code, (r or {}).get("result")), (200, "done"), "balance_delta_v 0.02: done")
    code, r = api.post("van", "balance_delta_v", 0.025)
    c.eq(code, 409, "a change under a second after the last: 409")
    c.eq(len(writes(sim)), w + 1, "nothing written for any refusal (the one done change wrote once)")


def failures(api, sim, gw, rate):
    reg = sim.state()["packs"][0]["d2set"]
    w = len(writes(sim))
    sim.ctl("control 1 refuse")
    code, r, _ = rate.post(api, "van", "cell_ovp_v", 3.55)
    c.eq((code, (r or {}).get("result")), (502, "failed"), "the BMS refuses (D2 86 04): 502 failed (%s)" % r)
    c.ok("refused" in ((r or {}).get("message") or ""), "the message says the BMS refused")
    sim.ctl("control 1 silent")
    code, r, _ = rate.post(api, "van", "cell_ovp_v", 3.55)
    c.eq((code, (r or {}).get("result")), (502, "failed"), "the BMS is silent: 502 failed (%s)" % r)
    sim.ctl("control 1 noswitch")
    code, r, _ = rate.post(api, "van", "cell_ovp_v", 3.55)
    c.eq((code, (r or {}).get("result")), (502, "failed"), "echoed, not taken: 502 failed (%s)" % r)
    c.ok("read-back shows 3.600 V" in ((r or {}).get("message") or ""), "the read-back disagrees: said so")
    c.near((r or {}).get("value") or 0, 3.6, 1e-6, "the value is what the BMS reads back")
    sim.ctl("control 1 normal")
    c.eq(sim.state()["packs"][0]["d2set"], reg, "no register changed")
    wr = [f[2:] for f in writes(sim)[w:]]
    c.eq(wr, [(0x8C, 3550)] * 4, "written: once refused, 1 + retries (2) times unanswered, once echoed (%s)" % wr)
    c.ok("cell_ovp_v 3.600 V -> 3.550 V: failed: the BMS acknowledged, but the read-back shows 3.600 V"
         in gw.text(), "the log line of the read-back that disagrees")


def quiet(sim, fake, gw):
    """A reload and a reconnect write nothing."""
    w = len(writes(sim))
    gw.p.send_signal(signal.SIGHUP)
    c.ok(wait_until(lambda: "reload #1: applied" in gw.text(), 15), "reload applied")
    n0 = fake.dev(MAC_D2)["connects"]
    fake.ctl("disconnect " + MAC_D2)
    c.ok(wait_until(lambda: fake.dev(MAC_D2)["connects"] > n0, 30), "reconnected")
    reads0 = len(received(sim)[0])
    c.ok(wait_until(lambda: len(received(sim)[0]) > reads0 + 4, 30), "polled again")
    c.eq(len(writes(sim)), w, "no write at reload or reconnect")


def whole_log(sim, sim81, ndone):
    frames, lost = received(sim)
    c.eq(lost, 0, "the rxlog kept every byte")
    wr = [f for f in frames if f[1] == 6]
    bad = []
    for i, f in enumerate(frames):
        if f[1] != 6:
            continue
        a, _, reg, v = f
        key = [k for k, rr in REG.items() if rr[0] == reg]
        if a != 0xD2 or not key:
            bad.append(("not an allowed key's register", f))
            continue
        lo, hi = BOUND.get(reg, (None, None))
        if reg in (0x94, 0x96):
            ok = 10 <= abs(v - 30000) <= 30000
        else:
            ok = lo <= v <= hi
        if not ok:
            bad.append(("out of bounds", f))
        # a change holds the link: right before its write comes its read of the field (or, no
        # answer having come, the same write)
        prev = frames[i - 1] if i else None
        if not prev or not ((prev[1] == 3 and prev[2] == REG[key[0]][1]) or prev == f):
            bad.append(("not after a read of its field", f, prev))
    c.eq(bad, [], "every byte the BMS received: writes of allowed registers only, within bounds, after a read")
    c.eq(len(wr), ndone, "the writes are exactly those of the changes (%d)" % ndone)
    f81 = received(sim81)[0]
    c.ok(f81 and all(f[1] == 3 for f in f81) and all(f[0] == 0x81 or f[0] == 0xD2 for f in f81),
         "the 0x81 pack received reads only (%d frames)" % len(f81))


def main():
    from test_ble import Bus, Fake, device
    check_case()
    pem, key = self_signed(TMP)
    users = users_file(TMP, [("ada", "admin"), ("rob", "read")], PW, rounds=FEWEST_ROUNDS)
    bus = Bus()
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = bus.address
    sim = Sim(protocol="daly-modbus", packs=("address=1,dialect=d2,cells=16",))
    sim81 = Sim(protocol="daly-modbus", packs=("address=1,cells=16",))
    fake = Fake([device(MAC_D2, sim, layout="daly", chunk=0, name="DL-D2"),
                 device(MAC_81, sim81, layout="daly", chunk=0, name="DL-81")])
    http_port, gw_port = free_port(), free_port()
    gw = Gateway(conf(http_port, gw_port, pem, key, users), gw_port)
    api = Api(http_port)
    rate = Rate()
    try:
        got = wait_until(lambda: (lambda r: r[0] == 200 and r[1]["keys"].get("balancer", {}).get("value") is not None
                                  and r[1]["keys"].get("cell_ovp_v", {}).get("value") is not None)(api.get()), 60)
        c.ok(got, "GET: the settings and the balancer switch are read (no control)")
        c.ok(wait_until(lambda: (api.get("dl")[1] or {}).get("stale") is False, 60), "the 0x81 pack is online")
        code, g = api.get()
        c.eq(sorted(g["keys"]), sorted(k.strip() for k in KEYS.split(",")), "GET: the allowed keys only")
        k = g["keys"]
        c.eq((k["cell_ovp_v"]["value"], k["cell_uvp_v"]["value"], k["balance_start_v"]["value"],
              k["charge_ocp_a"]["value"], k["discharge_ocp_a"]["value"], k["balancer"]["value"]),
             (3.5, 2.6, 3.2, 10.0, 16.0, 1), "GET: the values the BMS reports (DALYN-08's levels, balancer on)")
        c.eq((k["cell_ovp_v"]["min"], k["cell_ovp_v"]["max"]), (2.5, 3.65), "GET: cell_ovp_v within lfp's")
        c.near(k["cell_ovp_v"]["step"], 0.001, 1e-9, "GET: 1 mV step")
        c.eq((k["charge_ocp_a"]["min"], k["charge_ocp_a"]["max"]), (1, 3000), "GET: charge_ocp_a 1-3000 A")
        c.near(k["charge_ocp_a"]["step"], 0.1, 1e-9, "GET: 0.1 A step")
        c.near(k["soc"]["step"], 0.1, 1e-9, "GET: 0.1 % step")
        c.eq(writes(sim), [], "nothing written at start")
        fig = changes(api, sim, gw, rate)
        for key_, frames, took in fig:
            m = re.search(r"pack van: %s [^\n]*: done, confirmed by read-back in ([0-9.]+) s" % key_, gw.text())
            print("# %s: %d requests (read, write, read-back), 3 answers (the value, the echo, the value); "
                  "request -> confirmed read-back %.2f s over HTTPS (%s s in bmsgw's log)"
                  % (key_, frames, took, m.group(1) if m else "?"))
        refusals(api, sim, rate)
        failures(api, sim, gw, rate)
        quiet(sim, fake, gw)
        whole_log(sim, sim81, len(fig) + 1 + 4)
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        fake.stop()
        sim.stop()
        sim81.stop()
        bus.stop()


try:
    main()
finally:
    shutil.rmtree(TMP, ignore_errors=True)
sys.exit(c.report())
