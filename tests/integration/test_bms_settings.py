#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: parts=3
"""The BMS's own settings, read only (design §26 "Settings read-out"): the
real gateway against the bundled simulator, for each protocol whose driver
reads them (jk: the 0x8E..0xAA items of its read-all answer; jk-pb: the
settings frame of 0x161E; daly: the settings reads of their own, 0x50 ...
0x60, asked once and not again every poll), --once and /api/state carry
"settings_bms" with the simulator's values, the keys the protocol does not
read absent; a protocol without a settings read has "settings_bms": null.
A daly BMS that ignores its settings reads still polls, its settings null,
and is asked only once; so does a pylontech pack that ignores 0x47.  The
values the simulators send:
tests/sim/sim_jk.c (vector JK-01), tests/sim/sim_jk_pb.c and
sim_jkrecord.c (vector JKPB-05's protections), tests/sim/sim_daly.c (a LFP
pack's factory levels), tests/sim/sim_pylontech.c (0x47, a LFP module's
limits), tests/sim/sim_ks48.c (0x04 .. 0x07, the KS-48200's levels),
tests/sim/sim_ant.c (the 7E A1 settings registers, a 16S LFP pack's levels;
ant asks the block 0x0000 and eleven single registers once, and a pack
that ignores them is asked the first once),
tests/sim/sim_renogy.c (5200 x 22, a RBT100LFP12SH-G1's levels; the
register tables' settings block, asked only when due, bms/base/mbmaster.c),
tests/sim/sim_seplos3.c (SPA 0x1300 / 0x1335, a SG16S200A-SP57B-A's),
tests/sim/sim_pace_modbus.c (60 .. 114, a 16S LFP pack's levels).
tests/sim/sim_jbd_up.c (0x1C00's balancing, 0x1800: UP16S-03's levels),
tests/sim/sim_daren.c (0x47: DAREN-02's cell limits, the pack's cell count),
tests/sim/sim_pace.c (0xD1 .. 0xB6: nkinnan's example configuration).
ks48 and seplos over Bluetooth LE (0x47, SEPLOS2B-10's levels from
tests/sim/sim_seplos.c) run through the fake BlueZ
(tests/ble/fake_bluez.py) as tests/integration/test_ble.py runs it: its
settings reads asked once, only reads written; one that ignores them
still polls, its settings null; so do humsienk (0x58) and ogt (the
design capacity 0x3C, refused with +RD,Err)."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BIN, ROOT, Checks, Gateway, Sim, api_state, free_port, my_part, wait_until,  # noqa: E402
                     write_conf)

c = Checks()

# protocol -> {key: value} the simulator's settings give (and keys absent)
WANT = {
    "jk": ({"pack_ovp_v": 56.70, "pack_uvp_v": 42.70, "cell_ovp_v": 4.050, "cell_uvp_v": 3.050,
            "cell_ovp_delay_s": 5, "cell_diff_v": 0.300, "balance_start_v": 3.300, "mos_otp_c": 90,
            "charge_utp_c": -20, "discharge_utp_release_c": -10},
           ("power_off_v", "short_circuit_delay_s")),
    "jk-pb": ({"cell_uvp_v": 2.700, "cell_ovp_v": 3.650, "cell_ovp_release_v": 3.440, "power_off_v": 2.500,
               "charge_ocp_delay_s": 30, "balance_current_a": 2.0, "charge_otp_c": 60.0, "charge_utp_c": -10.0,
               "mos_otp_c": 100.0, "short_circuit_delay_s": 0.0015, "balance_start_v": 3.350, "balancer": 1,
               "heater": 0, "heat_start_c": 5, "heat_stop_c": 10},
              ("pack_ovp_v", "cell_ovp_delay_s")),
    "daly": ({"capacity_ah": 100.0, "cell_ovp_v": 3.650, "cell_uvp_v": 2.500, "pack_ovp_v": 58.4,
              "pack_uvp_v": 40.0, "charge_ocp_a": 105.0, "discharge_ocp_a": 160.0, "cell_diff_v": 0.500,
              "balance_start_v": 3.400, "balance_delta_v": 0.030, "short_circuit_a": 800},
             ("cell_count", "mos_otp_c", "cell_ovp_release_v")),
    "pylontech": ({"cell_ovp_v": 3.700, "cell_uvp_v": 2.900, "pack_ovp_v": 59.2, "pack_uvp_v": 46.4,
                   "charge_otp_c": 50.0, "charge_utp_c": 0.0, "discharge_otp_c": 60.0, "discharge_utp_c": -10.0},
                  ("cell_count", "mos_otp_c", "capacity_ah")),
    "ant": ({"cell_ovp_v": 3.650, "cell_ovp_release_v": 3.400, "pack_ovp_v": 58.4, "cell_uvp_v": 2.600,
             "cell_uvp_release_v": 2.900, "pack_uvp_v": 41.6, "cell_diff_v": 0.500, "charge_ocp_a": 100.0,
             "charge_ocp_delay_s": 3.0, "discharge_ocp_a": 200.0, "discharge_ocp_delay_s": 5.0,
             "short_circuit_a": 600.0, "short_circuit_delay_s": 0.0003, "balance_start_v": 3.400,
             "balance_delta_v": 0.010, "balance_current_a": 1.0, "power_off_v": 2.500},
            ("capacity_ah", "mos_otp_c", "charge_otp_c")),
    "renogy": ({"cell_ovp_v": 3.7, "cell_uvp_v": 2.5, "pack_ovp_v": 59.2, "pack_uvp_v": 40.0, "charge_otp_c": 55.0,
                "charge_utp_c": 0.0, "discharge_otp_c": 60.0, "discharge_utp_c": -25.0, "charge_ocp_a": 100.0,
                "discharge_ocp_a": 130.0},
               ("cell_count", "mos_otp_c", "cell_ovp_release_v", "capacity_ah")),
    "seplos3": ({"cell_ovp_v": 3.650, "cell_ovp_release_v": 3.400, "cell_uvp_v": 2.700, "cell_uvp_release_v": 3.100,
                 "pack_ovp_v": 57.60, "pack_uvp_v": 43.20, "cell_diff_v": 1.000, "charge_ocp_a": 210,
                 "charge_ocp_delay_s": 10.0, "discharge_ocp_a": 210, "short_circuit_a": 300,
                 "short_circuit_delay_s": 0.000106, "charge_otp_c": 55.0, "charge_utp_c": 0.0,
                 "charge_utp_release_c": 2.0, "discharge_otp_c": 60.0, "discharge_utp_c": -3.0, "mos_otp_c": 110.0,
                 "mos_otp_release_c": 85.0, "balance_start_v": 3.400, "balance_delta_v": 0.050, "capacity_ah": 330.0},
                ("power_off_v", "charge_ocp_release_s", "balance_current_a")),
    "pace-modbus": ({"cell_ovp_v": 3.650, "cell_ovp_release_v": 3.400, "cell_ovp_delay_s": 1.0, "pack_ovp_v": 57.6,
                     "pack_uvp_v": 44.8, "cell_uvp_v": 2.700, "charge_ocp_a": 110, "discharge_ocp_delay_s": 3.0,
                     "charge_otp_c": 55.0, "charge_utp_c": 0.0, "discharge_utp_c": -20.0, "mos_otp_c": 110.0,
                     "balance_start_v": 3.400, "balance_delta_v": 0.030, "smart_sleep_v": 2.500,
                     "short_circuit_delay_s": 0.0003},
                    ("cell_count", "capacity_ah", "short_circuit_a")),
    "jbd-up": ({"balance_start_v": 3.400, "balance_delta_v": 0.030, "cell_ovp_v": 3.650, "cell_ovp_release_v": 3.400,
                "cell_ovp_delay_s": 3.0, "cell_uvp_v": 2.500, "cell_uvp_release_v": 3.000, "pack_ovp_v": 58.40,
                "pack_uvp_v": 40.00, "charge_ocp_a": 120.0, "discharge_ocp_delay_s": 2.0, "charge_otp_c": 65.0,
                "charge_utp_c": 0.0, "charge_utp_release_c": 5.0, "discharge_utp_c": -20.0,
                "discharge_utp_release_c": -15.0},
               ("cell_count", "mos_otp_c", "capacity_ah", "short_circuit_a")),
    "daren": ({"cell_ovp_v": 3.650, "cell_uvp_v": 2.500},
              ("mos_otp_c", "capacity_ah", "pack_ovp_v", "charge_otp_c")),
    "pace": ({"cell_ovp_v": 3.700, "cell_ovp_release_v": 3.380, "cell_ovp_delay_s": 1.0, "cell_uvp_v": 2.500,
              "cell_uvp_release_v": 2.900, "pack_ovp_v": 59.20, "pack_uvp_v": 40.00, "balance_start_v": 3.400,
              "balance_delta_v": 0.030},
             ("cell_count", "mos_otp_c", "capacity_ah", "charge_ocp_a")),
}
# Bluetooth LE only: run through the fake BlueZ (ks48_ble)
KS48 = ({"balance_start_v": 3.450, "balance_delta_v": 0.300, "cell_ovp_v": 3.650, "cell_ovp_release_v": 3.380,
         "cell_ovp_delay_s": 2.0, "cell_uvp_v": 2.500, "cell_uvp_release_v": 3.000, "pack_ovp_v": 58.40,
         "pack_uvp_v": 40.00, "charge_otp_c": 55.0, "charge_utp_c": -1.0, "charge_utp_release_c": 5.0,
         "discharge_utp_c": -20.0, "charge_ocp_a": 215.0, "discharge_ocp_delay_s": 3.0,
         "discharge_ocp_release_s": 0.0},
        ("cell_count", "capacity_ah", "mos_otp_c", "short_circuit_a"))
# Bluetooth LE only: humsienk's 0x58 (humsienk_ble), the sim's levels
HUMS = ({"cell_ovp_v": 3.650, "cell_ovp_release_v": 3.330, "cell_ovp_delay_s": 4.0, "cell_uvp_v": 2.500,
         "cell_uvp_release_v": 2.800, "cell_uvp_delay_s": 4.0, "charge_otp_c": 60.0, "charge_otp_release_c": 55.0,
         "charge_utp_c": 0.0, "charge_utp_release_c": 5.0, "discharge_otp_c": 65.0,
         "discharge_otp_release_c": 60.0, "discharge_utp_c": -20.0, "discharge_utp_release_c": -15.0},
        ("charge_ocp_a", "discharge_ocp_a", "mos_otp_c", "pack_ovp_v"))
# seplos over Bluetooth LE (0x47, SEPLOS2B-10's levels; the rated capacity the pack's)
SEPLOS_BLE = ({"cell_ovp_v": 3.650, "cell_ovp_release_v": 3.590, "cell_uvp_v": 2.500, "balance_start_v": 3.400,
               "pack_ovp_v": 58.40, "pack_uvp_v": 40.10, "charge_otp_c": 55.0, "charge_utp_c": -10.0,
               "discharge_utp_c": -15.0, "mos_otp_c": 100.0, "charge_ocp_a": 210.0, "capacity_ah": 100.0},
              ("cell_count", "discharge_ocp_a", "short_circuit_a"))
BLE_WANT = {"ks48": KS48, "humsienk": HUMS, "seplos-ble": SEPLOS_BLE}
# the simulated pack's address where the protocol's lowest (or its
# default) is not 1 (pace: 0 is "all")
ADDR = {"pylontech": 2, "renogy": 48, "seplos3": 0, "pace": 1}
# protocols without an address (one BMS per port)
NOADDR = ("ant",)


def check_settings(proto, js, sim_pack, where):
    st = js.get("settings_bms")
    if not c.ok(isinstance(st, dict), "%s: %s settings_bms is an object (%r)" % (proto, where, st)):
        return
    want, absent = BLE_WANT[proto] if proto in BLE_WANT else WANT[proto]
    for k, v in want.items():
        got = st.get(k)
        c.ok(isinstance(got, dict) and abs(got.get("value", 1e9) - v) < 1e-6 and "unit" in got,
             "%s: %s settings_bms.%s = %s (%r)" % (proto, where, k, v, got))
    for k in absent:
        c.ok((st.get(k) or {}).get("value") is None, "%s: %s settings_bms.%s not given (absent or null)" % (proto, where, k))
    if "cell_count" not in absent:
        c.eq(st.get("cell_count", {}).get("value"), len(sim_pack["cells_mv"]), proto + ": " + where + " cell count")
    c.eq(st.get("cell_ovp_v", {}).get("unit"), "V", proto + ": " + where + " unit V")
    if "mos_otp_c" not in absent:
        c.eq(st.get("mos_otp_c", {}).get("unit"), "°C", proto + ": " + where + " unit °C")


def page(http_port):
    """The page in headless Chromium: a collapsed "BMS settings" table in
    the pack's card, opened by a click, with the values and units."""
    if not (os.path.exists("/usr/bin/chromium") and os.path.exists("/usr/bin/chromedriver")):
        print("FAIL chromium and chromium-driver are not installed (make deps)")
        c.ok(False, "page: chromium present")
        return
    from test_page import browser
    d = browser()
    # the page renders every state it receives: each look is one script,
    # so no element goes stale between finding and reading it
    box = "document.querySelector(\"article[data-unit='p'] details[data-field='settings_bms']\")"
    try:
        d.get("http://127.0.0.1:%d/" % http_port)
        if not c.ok(wait_until(lambda: d.execute_script("return !!" + box), 20),
                    "page: the pack's card has a BMS settings block"):
            return
        c.ok(d.execute_script("return !%s.open" % box), "page: collapsed at first")
        d.execute_script("%s.querySelector('summary').click()" % box)
        row = "(b => b && b.open && b.querySelector(\"tr[data-key='%s']\"))(" + box + ")"

        def cell(k, tag):
            return d.execute_script("const r = " + row % k + "; return r ? r.querySelector('%s').textContent : null"
                                    % tag)
        c.ok(wait_until(lambda: cell("cell_ovp_v", "td"), 10), "page: opened, the cell OVP row shows")
        c.eq(cell("cell_ovp_v", "td"), "3.65 V", "page: cell OVP value and unit")
        c.eq(cell("cell_ovp_v", "th"), "Cell over-voltage protection", "page: cell OVP label (bms/base/settings.c's)")
        first = d.execute_script("return received")
        wait_until(lambda: d.execute_script("return received") != first, 10)
        c.ok(d.execute_script("return !!(%s && %s.open)" % (box, box)), "page: still open after a refresh")
        c.eq(cell("charge_utp_c", "td"), "-10 °C", "page: charge UTP below 0")
        errs = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
        c.eq(errs, [], "page: no error in the console")
    finally:
        d.quit()


def run(proto):
    print("== " + proto, flush=True)
    adr = ADDR.get(proto, 1)
    sim = Sim(protocol=proto, packs=("address=%d" % adr,))
    http_port, gw_port = free_port(), free_port()
    conf = """[gateway]
listen = 127.0.0.1:%d
state_file = none
[http]
listen = 127.0.0.1:%d
[pack.p]
protocol = %s
%sport = tcp://127.0.0.1:%d
poll_interval = 0.5
""" % (gw_port, http_port, proto, "address = %d\n" % adr if proto in ADDR else "", sim.port)
    gw = Gateway(conf, gw_port)
    try:
        def ready():
            j = api_state(http_port)
            return j if j and j["packs"][0].get("online") and j["packs"][0].get("settings_bms") else None
        js = wait_until(ready, 20)
        if c.ok(js is not None, proto + ": /api/state online with settings_bms"):
            check_settings(proto, js["packs"][0], sim.state()["packs"][0], "/api/state")
            if proto == "jk-pb":
                page(http_port)
    finally:
        gw.stop()
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", gw.conf, "--once"],
                         capture_output=True, text=True, timeout=60)
    js = json.loads(out.stdout.splitlines()[0]) if out.stdout.strip() else {}
    check_settings(proto, js, sim.state()["packs"][0], "--once")
    sim.stop()


def run_none():
    """A protocol without a settings read: null."""
    print("== jbd (no settings read)", flush=True)
    sim = Sim(protocol="jbd")
    conf = "[gateway]\nstate_file = none\n[pack.p]\nprotocol = jbd\nport = tcp://127.0.0.1:%d\n" % sim.port
    path = write_conf(conf)
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", path, "--once"],
                         capture_output=True, text=True, timeout=60)
    js = json.loads(out.stdout.splitlines()[0]) if out.stdout.strip() else {}
    c.ok("settings_bms" in js and js["settings_bms"] is None, "jbd: settings_bms null (%r)" % js.get("settings_bms"))
    sim.stop()


def rarely(proto):
    """daly, pylontech, renogy, seplos3, ant, jbd-up, daren and pace ask
    their settings reads once, not every poll:
    over several polls every request is answered; a BMS that ignores them
    (the simulator's nosettings=1) still polls, online, its settings null,
    and only the first of them goes unanswered, once."""
    adr = ADDR.get(proto, 1)
    for ignore in (False, True):
        print("== %s, settings reads %s" % (proto, "ignored" if ignore else "answered"), flush=True)
        sim = Sim(protocol=proto, packs=("address=%d" % adr + (",nosettings=1" if ignore else ""),))
        http_port, gw_port = free_port(), free_port()
        conf = ("[gateway]\nlisten = 127.0.0.1:%d\nstate_file = none\n[http]\nlisten = 127.0.0.1:%d\n"
                "[pack.p]\nprotocol = %s\n%sport = tcp://127.0.0.1:%d\npoll_interval = 0.2\n"
                % (gw_port, http_port, proto, "" if proto in NOADDR else "address = %d\n" % adr, sim.port))
        gw = Gateway(conf, gw_port)
        try:
            # several polls (daly: six or more requests each, pylontech three)
            c.ok(wait_until(lambda: json.loads(sim.ctl("stats"))["requests"] >= 30, 30), proto + ": polls go on")
            st = json.loads(sim.ctl("stats"))
            js = api_state(http_port)
            pk = js["packs"][0] if js else {}
            c.ok(pk.get("online"), "%s: online (ignored %s)" % (proto, ignore))
            c.eq(st["requests"] - st["answers"], 1 if ignore else 0,
                 "%s: unanswered requests (ignored %s, %r)" % (proto, ignore, st))
            sb = pk.get("settings_bms") or {}
            v = (sb.get("cell_ovp_v") or {}).get("value")
            if ignore:
                c.ok(isinstance(pk.get("settings_bms"), dict) and v is None, proto + ": ignored: cell_ovp_v null")
            else:
                c.eq(v, WANT[proto][0]["cell_ovp_v"], proto + ": cell_ovp_v")
        finally:
            gw.stop()
            sim.stop()


def ble_run(proto, mac, dev, packs, min_requests, silent, check, pack_extra=""):
    """proto over the fake BlueZ, its settings read answered, then ignored
    (nosettings=1): polls go on (min_requests requests), the unanswered
    requests (1 when ignored and silent, else 0), the pack online; then
    check(ignore, pack, fake device, sim) for the protocol's own checks."""
    from test_ble import Bus, Fake, ble_pack, device, gw_conf
    bus = Bus()
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = bus.address
    try:
        for ignore in (False, True):
            print("== %s over Bluetooth LE, settings read %s" % (proto, "ignored" if ignore else "answered"),
                  flush=True)
            sim = Sim(protocol=proto, packs=(packs + (",nosettings=1" if ignore else ""),))
            fake = Fake([device(mac, sim, chunk=20, **dev)])
            port, http = free_port(), free_port()
            conf = gw_conf(port, [ble_pack("p", mac, proto, extra=pack_extra)]) + \
                "[http]\nlisten = 127.0.0.1:%d\n" % http
            gw = Gateway(conf, port)
            try:
                c.ok(wait_until(lambda: json.loads(sim.ctl("stats"))["requests"] >= min_requests, 40),
                     "%s: polls go on (ignored %s)" % (proto, ignore))
                st = json.loads(sim.ctl("stats"))
                c.eq(st["requests"] - st["answers"], 1 if ignore and silent else 0,
                     "%s: unanswered requests (ignored %s, %r)" % (proto, ignore, st))
                js = api_state(http)
                pk = js["packs"][0] if js else {}
                c.ok(pk.get("online"), "%s: online (ignored %s)" % (proto, ignore))
                check(ignore, pk, fake.dev(mac), sim)
            finally:
                gw.stop()
                fake.stop()
                sim.stop()
    finally:
        bus.stop()


def settings_null(proto, pk):
    sb = pk.get("settings_bms")
    c.ok(isinstance(sb, dict) and (sb.get("cell_ovp_v") or {}).get("value") is None,
         "%s: ignored: cell_ovp_v null (%r)" % (proto, sb))


def ks48_ble():
    """ks48: settings_bms in /api/state from the reads 0x04 .. 0x07,
    nothing but the reads written; a BMS that ignores them (nosettings=1)
    polls on, online, its settings null, 0x04 asked once over several polls
    (the one request left unanswered), 0x05 .. 0x07 never."""
    import test_ble
    from test_ble import values

    def check(ignore, pk, dev, sim):
        w = values(dev)
        c.ok(w and set(w) <= test_ble.READS["ks48"], "ks48: only its read requests written (%s)" % w)
        if ignore:
            c.ok("7b04007d" in w and not {"7b05007d", "7b06007d", "7b07007d"} & set(w),
                 "ks48: ignored: 0x04 asked, 0x05 .. 0x07 never")
            settings_null("ks48", pk)
        else:
            check_settings("ks48", pk, sim.state()["packs"][0], "/api/state")
    # several polls (three requests each, the identity and settings once)
    ble_run("ks48", "C8:47:80:00:02:01", dict(layout="ks48", name="BL-250-100-100",
                                              uuids=["0000ff00-0000-1000-8000-00805f9b34fb"]),
            "address=1,cells=16,sensors=4", 24, True, check)


# Bluetooth LE protocols with a settings read of their own (ble_settings):
# the fake device's name, service, the simulated pack, the reads it may be
# written, the settings request, whether a pack with nosettings=1 leaves it
# unanswered (else it refuses it with an answer)
BLE_CASES = {
    "humsienk": ("HS12V100", "00000001-0000-1000-8000-00805f9b34fb", "cells=4,sensors=5",
                 {"aa11001100", "aaf500f500", "aa20002000", "aa21002100", "aa22002200", "aa58005800"},
                 "aa58005800", True),
    "ogt": ("SmartBat-A10007", "0000fff0-0000-1000-8000-00805f9b34fb", "cells=4,id=10007,mos_temp=27",
            None, "31485b5b29592a29", False),
}


def ble_settings(proto):
    """humsienk (0x58) and ogt (the design capacity 0x3C): settings_bms in
    /api/state (the capacity the pack's), nothing but the reads written; a
    BMS that ignores or refuses the settings read (nosettings=1) polls on,
    online, its settings null, the read asked once over several polls."""
    import test_ble
    from test_ble import values
    name, uuid, packs, reads, set_req, silent = BLE_CASES[proto]
    reads = reads or test_ble.READS[proto]

    def check(ignore, pk, dev, sim):
        w = values(dev)
        c.ok(w and set(w) <= reads, "%s: only its read requests written (%s)" % (proto, w))
        c.eq(w.count(set_req), 1, "%s: the settings read asked once (ignored %s)" % (proto, ignore))
        sb = pk.get("settings_bms")
        cap = (sb or {}).get("capacity_ah", {}).get("value")
        if ignore:
            c.ok(isinstance(sb, dict) and cap is None, "%s: ignored: capacity_ah null (%r)" % (proto, sb))
            return
        if proto in BLE_WANT:
            check_settings(proto, pk, sim.state()["packs"][0], "/api/state")
        c.ok(cap is not None and abs(cap - sim.state()["packs"][0]["capacity_ah"]) < 0.011,
             "%s: capacity_ah the pack's (%r)" % (proto, cap))
    ble_run(proto, "C8:47:80:00:02:02", dict(layout=proto, name=name, uuids=[uuid]), packs, 20, silent, check)


def seplos_ble():
    """seplos: settings_bms in /api/state from 0x47, nothing but the reads
    0x61 and 0x47 written; a BMS that ignores 0x47 (nosettings=1) polls on,
    online, its settings null, 0x47 asked once over several polls."""
    reads = {"ff02:7e10004661000100f7c10d", "ff02:7e10004647000100e7160d"}

    def check(ignore, pk, dev, sim):
        w = dev["written"]
        c.ok(w and set(w) <= reads and w.count("ff02:7e10004647000100e7160d") == 1,
             "seplos: only its reads written, 0x47 once (%s)" % w)
        if ignore:
            settings_null("seplos", pk)
        else:
            check_settings("seplos-ble", pk, sim.state()["packs"][0], "/api/state")
    ble_run("seplos", "90:A6:BF:00:00:02", dict(layout="jbd", name="BP00",
                                                uuids=["0000ff00-0000-1000-8000-00805f9b34fb"]),
            "address=0,cells=16,sensors=4,capacity=100", 8, True, check, pack_extra="address = 0\n")


def discovery():
    """--mqtt-dump: a diagnostic sensor per key the protocol can give,
    disabled by default, reading settings_bms.<key>.value; none for a
    protocol that reads no settings."""
    print("== discovery", flush=True)
    path = write_conf("[gateway]\nstate_file = none\n[mqtt]\nhost = 127.0.0.1\n"
                      "[pack.p]\nprotocol = jk-pb\nport = /dev/ttyS7\naddress = 1\n"
                      "[pack.d]\nprotocol = daly\nport = /dev/null\n"
                      "[pack.j]\nprotocol = jbd\nport = /dev/ttyS6\n")
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", path, "--mqtt-dump"],
                         capture_output=True, text=True, timeout=60).stdout
    cfg = {}
    for line in out.splitlines():
        topic, _, payload = line.partition(" ")
        if "/bms_" in topic and payload:
            cfg[topic] = json.loads(payload)
    p_keys = sorted(t.split("/")[-2] for t in cfg if "_p/" in t)
    c.eq(len(p_keys), 30, "discovery: jk-pb has its 30 settings sensors")
    c.ok("bms_balancer" in p_keys, "discovery: jk-pb's balancer (BalanEN) among them")
    c.ok({"bms_heater", "bms_heat_start_c", "bms_heat_stop_c"} <= set(p_keys),
         "discovery: jk-pb's heater switch and its temperatures among them")
    c.eq(sorted(t.split("/")[-2] for t in cfg if "_d/" in t),
         sorted("bms_" + k for k in WANT["daly"][0]), "discovery: daly its 11 settings sensors")
    c.eq([t for t in cfg if "_j/" in t], [], "discovery: jbd none")
    ovp = [v for t, v in cfg.items() if t.endswith("_p/bms_cell_ovp_v/config")]
    if c.ok(len(ovp) == 1, "discovery: bms_cell_ovp_v"):
        v = ovp[0]
        c.eq(v.get("value_template"), "{{ value_json.settings_bms.cell_ovp_v.value }}", "discovery: template")
        c.eq((v.get("entity_category"), v.get("enabled_by_default"), v.get("unit_of_measurement"),
              v.get("device_class")), ("diagnostic", False, "V", "voltage"), "discovery: diagnostic, off, V")
    utp = [v for t, v in cfg.items() if t.endswith("_p/bms_charge_utp_c/config")]
    c.ok(len(utp) == 1 and utp[0].get("device_class") == "temperature", "discovery: charge UTP a temperature")


if __name__ == "__main__":
    pieces = [lambda p=p: run(p) for p in sys.argv[1:] or list(WANT)]
    pieces += [run_none] + [lambda p=p: rarely(p) for p in
                            ("daly", "pylontech", "renogy",
                             "seplos3",  # pace-modbus's single block: the master's path renogy's takes
                             "ant", "jbd-up", "daren", "pace")]
    pieces += [ks48_ble, lambda: ble_settings("humsienk"), lambda: ble_settings("ogt"), seplos_ble, discovery]
    for piece in pieces:
        if my_part():
            piece()
    sys.exit(c.report())
