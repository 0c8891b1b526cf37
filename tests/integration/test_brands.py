#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: parts=8
"""End-to-end, per protocol: for every protocol that both bmsgw and the
simulator speak, run the real gateway against the simulated BMS (TCP serial
server) and check that the register image, /api/state and --once equal the
simulator's wire state, that quantities the protocol does not carry read as
register-map.md documents (0, 0x8000 for temperatures) and are absent
(null) in /api/state, that the BMS's identity, where the protocol has one,
is in /api/state, and, for the protocols with a bus address, two packs on
one bus.  A protocol read from a CAN bus (pylon-can) runs over a pty, the
simulator playing an slcan adapter on the battery's bus.  MQTT per protocol:
test_mqtt.py.  (While iterating: test_brands.py PROTOCOL... runs only those.)
tests/run.sh runs it in parts: the protocols are dealt out to them
(harness.my_part)."""
import http.client
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BIN, ROOT, Checks, Gateway, Sim, ble_case, can_protocol, first_part, free_port,  # noqa: E402
                     ha_float, my_part, s16, wait_until, wire_protocol, write_conf)

from pymodbus.client import ModbusTcpClient  # noqa: E402

BASE = 290
c = Checks()


def protocols(exe, pattern):
    out = subprocess.run([os.path.join(ROOT, BIN, exe), "--help"], capture_output=True, text=True)
    m = re.search(pattern, out.stdout + out.stderr)
    return m.group(1).replace(",", " ").split() if m else []


def served_ah(p):
    """(full, remaining) Ah bmsgw serves for the simulator's pack p by the
    one capacity rule (bmsgw-modbus(7) "Capacities"; these packs have no
    [soc] capacity): the BMS's full, else its remaining over its SOC; the
    BMS's remaining, else its SOC of that full; None where no rule gives
    one."""
    full, rem, soc = p["capacity_ah"], p["remaining_ah"], p["soc"]
    if not full:
        full = rem * 100 / soc if rem is not None and soc is not None and soc > 1 else None
    if rem is None and full is not None and soc is not None:
        rem = soc * full / 100
    return full, rem


def image_checks(regs, p, proto):
    label = proto
    c.eq(regs[58], 1, label + ": online")
    c.near(ha_float(regs[10:12]), p["voltage"], 1e-3, label + ": voltage float")
    c.near(regs[1], p["voltage"] * 100, 1, label + ": voltage 0.01 V")
    if p["current"] is None:  # a protocol without a current (bolt): absent, 0
        c.eq((regs[2], regs[12], regs[13]), (0, 0, 0), label + ": current absent -> 0")
    else:
        c.near(ha_float(regs[12:14]), p["current"], 1e-3, label + ": current float")
        c.near(s16(regs[2]), p["current"] * 10, 1, label + ": current 0.1 A")
    if p["soc"] is None:
        c.eq(regs[0], 0, label + ": SOC absent -> 0")
    else:
        c.eq(regs[60], round(p["soc"] * 10), label + ": SOC 0.1 %")
    cells = p["cells_mv"]
    c.eq(regs[40], len(cells), label + ": cell count")
    c.eq(regs[20:36] + regs[83:99], (cells + [0] * 32)[:32], label + ": cells 1-32")
    if cells:
        c.eq(regs[6], max(cells), label + ": max cell")
        c.eq(regs[7], min(cells), label + ": min cell")
    temps = p["temps_c"][:16]
    c.eq(regs[65], len(temps), label + ": sensor count")
    c.eq([s16(v) for v in regs[67:75] + regs[139:147]], [round(t * 10) for t in temps] + [-32768] * (16 - len(temps)),
         label + ": temperature sensors 1-8 (67-74) and 9-16 (139-146; 0x8000 = absent)")
    if p["mos_temp_c"] is None:
        c.eq(regs[66], 0x8000, label + ": MOS temperature absent -> 0x8000")
    else:
        c.eq(s16(regs[66]), round(p["mos_temp_c"] * 10), label + ": MOS temperature")
    full, rem = served_ah(p)
    if rem is None:
        c.eq(regs[44], 0, label + ": remaining capacity absent -> 0")
    elif p["remaining_ah"] is None:
        c.near(regs[44], rem * 10, 1, label + ": remaining capacity 0.1 Ah, the BMS's SOC of its full")
    else:
        c.eq(regs[44], round(p["remaining_ah"] * 10), label + ": remaining capacity 0.1 Ah")
    if full is None:
        c.eq(regs[62], 0, label + ": full capacity absent -> 0")
    elif not p["capacity_ah"]:
        c.near(regs[62], full * 10, 1, label + ": full capacity 0.1 Ah, the BMS's remaining over its SOC")
    else:
        c.eq(regs[62], round(p["capacity_ah"] * 10), label + ": full capacity 0.1 Ah")
    if p["soh"] is None:
        c.eq(regs[61], 0, label + ": SOH absent -> 0")
    else:
        c.eq(regs[61], round(p["soh"]), label + ": SOH %")
    if p["cycles"] is None:
        c.eq(regs[63] << 16 | regs[64], 0, label + ": cycles absent -> 0")
    else:
        c.eq(regs[63] << 16 | regs[64], p["cycles"], label + ": cycles")
    if p["chg_mos"] is not None:
        c.eq((regs[18], regs[17]), (p["chg_mos"], p["dsg_mos"]), label + ": MOSFETs")


def once_checks(js, p, proto):
    c.eq(js.get("ok"), True, proto + ": --once ok")
    c.near(js.get("voltage"), p["voltage"], 0.006, proto + ": --once voltage")
    if p["current"] is None:
        c.eq(js.get("current"), None, proto + ": --once current absent")
    else:
        c.near(js.get("current"), p["current"], 0.006, proto + ": --once current")
    c.eq(js.get("cells_mv"), p["cells_mv"], proto + ": --once cells")
    c.eq(js.get("soh") is None, p["soh"] is None, proto + ": --once SOH null exactly when absent")


# Protocols whose BMS tells its identity (bms/PROTOCOLS.md §1.7): a text
# the simulator's identity answer carries.
IDENTITY = {"pace": "serial", "eg4-lp4": "vendor", "daren": "model", "seplos3": "vendor", "eg4-ll": "model",
            "renogy": "model", "pace-modbus": "serial", "pylon-can": "vendor", "lifepower": "model", "ant": "model",
            "pylon-hv-can": "vendor", "deye-can": "vendor", "jbd-up": "serial"}


def api_state(port):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/api/state")
        r = conn.getresponse()
        body = r.read()
        conn.close()
        return json.loads(body) if r.status == 200 else None
    except (OSError, ValueError):
        return None


def api_checks(js, p, proto, ident=True):
    """The pack's object in /api/state against the simulator's state
    (ident: the protocol's identity is expected, IDENTITY)."""
    pk = js["packs"][0]
    c.eq(pk.get("online"), True, proto + ": /api/state online")
    c.near(pk.get("voltage"), p["voltage"], 0.006, proto + ": /api/state voltage")
    if p["current"] is None:
        c.eq(pk.get("current"), None, proto + ": /api/state current absent (null)")
    else:
        c.near(pk.get("current"), p["current"], 0.006, proto + ": /api/state current")
    c.eq(pk.get("cells_mv"), p["cells_mv"], proto + ": /api/state cells")
    c.eq([round(t, 1) for t in pk.get("temps_c") or []], [float(t) for t in p["temps_c"][:16]],
         proto + ": /api/state temperatures")
    served = dict(p, remaining_ah=served_ah(p)[1])  # the one capacity rule's
    for key, sim_key, eps in (("soc", "soc", 0.06), ("soh", "soh", 0.06), ("remaining_ah", "remaining_ah", 0.006),
                              ("mos_temp_c", "mos_temp_c", 0.06)):
        if served[sim_key] is None:
            c.eq(pk.get(key), None, proto + ": /api/state %s absent (null)" % key)
        else:
            c.near(pk.get(key), served[sim_key], eps if p[sim_key] is not None else 0.1,
                   proto + ": /api/state %s" % key)
    want_ident, ident = ident, pk.get("bms")
    if proto in IDENTITY and want_ident:
        c.ok(ident is not None and ident.get(IDENTITY[proto]), proto + ": the BMS's identity (%s) in /api/state (%r)"
             % (IDENTITY[proto], ident))
    else:
        c.eq(ident, None, proto + ": no identity in /api/state (the protocol, or this board, has none)")
    link = js["links"][0]
    c.eq((link.get("checksum_errors"), link.get("exceptions")), (0, 0),
         proto + ": no checksum errors or exception answers on the wire")


def check_text(conf):
    return subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", conf, "--check"], capture_output=True,
                          text=True).stdout


def default_address(proto):
    """The bus address bmsgw polls by default, or None if the protocol has none."""
    conf = write_conf("[pack.p]\nprotocol = %s\nport = /dev/null\naddress = 0\n" % proto)
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", conf, "--check"], capture_output=True, text=True)
    if "has no bus address" in out.stderr:
        return None
    conf = write_conf("[pack.p]\nprotocol = %s\nport = /dev/null\n" % proto)
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", conf, "--check"], capture_output=True, text=True)
    m = re.search(r"address (\d+)", out.stdout)
    return int(m.group(1)) if m else None


def run(proto):
    addr = default_address(proto)
    sim = Sim(protocol=proto, packs=("address=%d" % addr,) if addr is not None else ())
    try:
        run_sim(proto, sim)
    finally:
        sim.stop()


def can_requests(proto):
    """True if the CAN protocol asks (its reads) rather than listens only,
    as `bmsgw --check` says of its wire."""
    conf = write_conf("[gateway]\nstate_file = none\n[pack.p]\nprotocol = %s\nport = slcan:///dev/null\n" % proto)
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", conf, "--check"], capture_output=True, text=True)
    os.unlink(conf)
    return "its read requests only" in out.stdout


def run_can(proto):
    """A CAN protocol: the simulator on a pty as the slcan adapter."""
    import tempfile
    tmp = tempfile.mkdtemp(prefix="bmsgw-can-")
    path = os.path.join(tmp, "can")
    # the simulator's own pack (its CAN identifiers' address), as bmsgw's default
    sim = Sim(protocol=proto, tcp=False, pty_path=path, packs=())
    try:
        run_sim(proto, sim, "slcan://" + path)
        heard = sim.state()["packs"][0].get("can_frames_heard")
        if can_requests(proto):
            # what it sent are its reads only: test_caninputs looks at each frame
            c.ok(heard > 0, proto + ": bmsgw sent its read requests (%d frames)" % heard)
        else:
            c.eq(heard, 0, proto + ": bmsgw wrote no frame on the bus")
    finally:
        sim.stop()
        os.rmdir(tmp)


def state_checks(proto, sim, addr, client, http_port):
    """The state agrees with the current's sign (offset 104, JSON state and
    charging), whether or not the BMS reports a state of its own."""
    if sim.state()["packs"][0].get("current") is None:
        return
    for amps, word, reg in ((5, "charging", 1), (-5, "discharging", 2)):
        sim.ctl("set %d current %d" % (addr, amps))

        def agrees():
            js = api_state(http_port)
            pk = js and js["packs"][0]
            rr = client.read_holding_registers(BASE + 104, 1, slave=1)
            return pk and pk.get("current") is not None and abs(pk["current"] - amps) < 0.5 and \
                pk.get("state") == word and pk.get(word) is True and not rr.isError() and rr.registers[0] == reg
        c.ok(wait_until(agrees, 10), "%s: at %+d A the state is %s (JSON state and %s, register 104 = %d)" %
             (proto, amps, word, word, reg))


# Protocols whose sensors are a signed byte of degC with no cell list (a
# 200 degC sensor cannot be sent): the highest and lowest as sensors 1, 2.
BYTE_TEMPS = ("samsung-sdi-lv",)


def implausible_checks(proto, sim, addr, client, http_port, gw, online):
    """A valid frame carrying a value no battery has (a 5.5 V cell, else a
    200 degC sensor) is never served.  The gateway's plausibility table
    rejects the poll whole: counted on the wire, logged once with the value
    and the frames in hex, the pack stale until the value is a battery's
    again.  A sensor out of range is the exception: the poll is served, the
    sensor absent, the pack flagged with a sensor fault (alarm sensor) and
    the fault logged once (bms_sensor_faults).  A driver that refuses the
    value itself (its framer or decoder checks that range: sinowealth's
    cells) either fails the poll or leaves the value absent: not served
    either."""
    p = sim.state()["packs"][0]
    if p["cells_mv"]:
        bad, good, what, absurd = "cell 1 5500", "cell 1 auto", "cell 1 = 5.5 V", \
            lambda pk: 5500 in (pk.get("cells_mv") or [])
    elif p["temps_c"] and proto in BYTE_TEMPS:
        # a signed byte carries at most 127 degC: -60 degC, which the pack
        # reports as its lowest (sensor 2)
        bad, good, what, absurd = "temp 1 -60", "temp 1 25", "temperature 2 = -60 degC", \
            lambda pk: -60.0 in (pk.get("temps_c") or [])
    elif p["temps_c"]:
        bad, good, what, absurd = "temp 1 200", "temp 1 25", "temperature 1 = 200 degC", \
            lambda pk: 200.0 in (pk.get("temps_c") or [])
    else:
        c.ok(True, proto + ": (no cell or sensor to make implausible)")
        return
    n0 = len(gw.text().splitlines())
    g0 = (api_state(http_port) or {"packs": [{}]})["packs"][0].get("good_polls", 0)
    sim.ctl("set %d %s" % (addr, bad))
    seen, outcome = [], [None]

    def settled():
        js = api_state(http_port)
        if not js:
            return False
        pk = js["packs"][0]
        seen.append(absurd(pk))
        if client.read_holding_registers(BASE, 1, slave=1).isError():
            outcome[0] = "stale"
        elif pk.get("online") and pk.get("good_polls", 0) > g0 + 4:
            outcome[0] = "absent"  # polled again and again, the value left out
        return outcome[0] is not None
    c.ok(wait_until(settled, 15), proto + ": with %s the pack goes stale or the value is left out (%s)" %
         (what, outcome[0]))
    c.eq(sum(seen), 0, proto + ": %s is never served (%d reads of /api/state)" % (what, len(seen)))
    js = api_state(http_port)
    n = js["links"][0].get("implausible", 0) if js else 0
    said = [l for l in gw.text().splitlines()[n0:] if "is not served" in l]
    if n:
        c.ok(js["packs"][0]["wire"].get("implausible", 0) == n, proto + ": %d implausible polls counted on the wire" % n)
        c.ok(len(said) == 1 and what in said[0] and re.search(r"frames: [0-9a-f]{8,}", said[0]) is not None,
             proto + ": logged once with the value and the frames in hex (%s)" % (said[-1][-160:] if said else None))
    elif what.startswith("temperature"):
        pk = (api_state(http_port) or {"packs": [{}]})["packs"][0]
        faults = [l for l in gw.text().splitlines()[n0:] if what in l and "sensor fault" in l]
        c.ok(not said and len(faults) == 1 and "sensor" in (pk.get("alarms") or []),
             proto + ": %s is a sensor fault: served absent, the pack flagged (alarm sensor), logged once (%s)" %
             (what, faults[-1][-120:] if faults else None))
    else:
        c.ok(not said, proto + ": the driver refuses %s itself (its own range check): nothing reached the gate" % what)
    sim.ctl("set %d %s" % (addr, good))
    c.ok(wait_until(online, 15) is not None, proto + ": served again once plausible")


def run_sim(proto, sim, port=None, ident=True):
    addr = sim.state()["packs"][0]["address"]
    gw_port, http_port = free_port(), free_port()
    # a pack polled every 0.5 s is stale 3 s after its BMS went silent
    conf = """[gateway]
listen = 127.0.0.1:%d
stale_after = 3
state_file = none
[http]
listen = 127.0.0.1:%d
[pack.p]
protocol = %s
port = %s
poll_interval = 0.5
""" % (gw_port, http_port, proto, port or "tcp://127.0.0.1:%d" % sim.port)
    gw = Gateway(conf, gw_port)
    client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    client.connect()
    try:
        def online():
            """The whole map (offsets 0-160, two reads) while online."""
            rr = client.read_holding_registers(BASE, 125, slave=1)
            if rr.isError() or rr.registers[58] != 1:
                return None
            r2 = client.read_holding_registers(BASE + 125, 36, slave=1)
            return None if r2.isError() else rr.registers + r2.registers
        regs = wait_until(online, 15)
        if not c.ok(regs is not None, proto + ": pack comes online through the gateway"):
            gw.dump()
            sim.dump()
            return
        p = sim.state()["packs"][0]
        image_checks(regs, p, proto)
        c.eq(regs[103], protocol_id(gw_port), proto + ": protocol id register matches --register-map")
        js = wait_until(lambda: (lambda j: j if j and j["packs"][0].get("online") else None)(api_state(http_port)), 10)
        if c.ok(js is not None, proto + ": /api/state answers"):
            api_checks(js, sim.state()["packs"][0], proto, ident)
        sim.ctl("fault %d silent" % addr)
        c.ok(wait_until(lambda: client.read_holding_registers(BASE, 1, slave=1).isError(), 15),
             proto + ": silent BMS -> exception")
        sim.ctl("fault %d none" % addr)
        c.ok(wait_until(online, 15) is not None, proto + ": recovers")
        state_checks(proto, sim, addr, client, http_port)
        implausible_checks(proto, sim, addr, client, http_port, gw, online)
    finally:
        client.close()
        gw.stop()
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", gw.conf, "--once"],
                         capture_output=True, text=True, timeout=60)
    js = json.loads(out.stdout.splitlines()[0]) if out.stdout.strip() else {}
    once_checks(js, sim.state()["packs"][0], proto)


# Boards of a protocol that answer other requests than the default pack:
# their packs' options, each run end to end too (no identity: a legacy
# ANT board has none).  Issue 44: an ANT board on its UART that answers
# only DB DB 00 00 00 00 (dbus-serialbattery's request).
VARIANTS = {"ant": ("dialect=dbdb",)}


def run_variant(proto, packs):
    print("== %s %s" % (proto, packs), flush=True)
    sim = Sim(protocol=proto, packs=(packs,))
    try:
        run_sim(proto, sim, ident=False)
    finally:
        sim.stop()


# Protocols with a bus address: two packs on one simulated RS485 bus.
MULTIDROP = {"daly": (1, 2), "daly-modbus": (1, 2), "jk-pb": (1, 15), "pylontech": (2, 3),
             "topbms": (1, 2), "seplos": (0, 1), "pace": (1, 2), "eg4-lp4": (1, 2), "daren": (1, 2),
             "seplos3": (0, 1), "eg4-ll": (1, 64), "renogy": (48, 49), "pace-modbus": (1, 2),
             "lifepower": (1, 2), "jbd-up": (1, 2)}


def run_bus(proto, addrs):
    sim = Sim(protocol=proto, packs=tuple("address=%d,soc=%d" % (a, 40 + 20 * i) for i, a in enumerate(addrs)))
    gw_port = free_port()
    conf = "[gateway]\nlisten = 127.0.0.1:%d\nstale_after = 5\n" % gw_port
    for i, a in enumerate(addrs):
        conf += ("[pack.p%d]\nprotocol = %s\nport = tcp://127.0.0.1:%d\naddress = %d\nunit_id = %d\n"
                 "poll_interval = 0.5\n" % (i, proto, sim.port, a, i + 1))
    gw = Gateway(conf, gw_port)
    client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    client.connect()
    try:
        def online(unit):
            rr = client.read_holding_registers(BASE, 125, slave=unit)
            return None if rr.isError() or rr.registers[58] != 1 else rr.registers
        both = wait_until(lambda: online(1) and online(2) and (online(1), online(2)), 20)
        if not c.ok(both is not None, proto + " bus: both packs (addresses %s) online" % (addrs,)):
            gw.dump()
            return
        st = sim.state()["packs"]
        for i, regs in enumerate(both):
            p = [x for x in st if x["address"] == addrs[i]][0]
            c.near(ha_float(regs[10:12]), p["voltage"], 1e-3, proto + " bus: pack at address %d voltage" % addrs[i])
            c.eq(regs[20:36], (p["cells_mv"] + [0] * 16)[:16], proto + " bus: pack at address %d cells" % addrs[i])
        def failed(unit):
            rr = client.read_holding_registers(BASE + 101, 2, slave=unit)
            return None if rr.isError() else rr.registers[0] << 16 | rr.registers[1]
        f0 = failed(1)
        sim.ctl("fault %d silent" % addrs[0])
        c.ok(wait_until(lambda: client.read_holding_registers(BASE, 1, slave=1).isError(), 20),
             proto + " bus: silenced pack goes stale")
        # once it is known to fail, the dead pack gets one try per poll: the
        # other waits at most one timeout (plus its own poll) between polls
        c.ok(wait_until(lambda: failed(1) >= f0 + 2, 20), proto + " bus: the dead pack's failures are counted")
        timeout = float(re.search(r"poll [0-9.]+ s +timeout ([0-9.]+) s", check_text(gw.conf)).group(1))
        ages = []
        for _ in range(6):
            rr = client.read_holding_registers(BASE + 59, 1, slave=2)
            ages.append(None if rr.isError() else rr.registers[0])
            time.sleep(0.5)
        c.ok(None not in ages and max(ages) <= timeout + 2,
             proto + " bus: the other pack stays fresh (ages %s s, timeout %g s)" % (ages, timeout))
    finally:
        client.close()
        gw.stop()
        sim.stop()


_ids = {}


def protocol_id(_port):
    return _ids.get(current[0], -1)


current = [None]

if __name__ == "__main__":
    gw_protos = protocols("bmsgw", r"protocols:\s*(.*)")
    sim_protos = protocols("bmsgw-sim", r"--protocol NAME\s+protocol spoken by the packs:\s*(.*)")
    mapdoc = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "--register-map"], capture_output=True, text=True).stdout
    for m in re.finditer(r"^\|\s*(\d+)\s*\|\s*`?([a-z0-9-]+)`?\s*\|", mapdoc, re.M):
        _ids[m.group(2)] = int(m.group(1))
    both = [p for p in gw_protos if p in sim_protos]
    if first_part():
        c.ok("daly" in both, "protocols tested end to end: " + " ".join(both))
    if sys.argv[1:]:  # while iterating: only the protocols named
        both = [p for p in both if p in sys.argv[1:]]
    if first_part():
        # mqtt-json has no wire a simulator could play (its packs arrive through a
        # broker): tests/integration/test_mqtt_json.py runs it end to end
        missing = [p for p in gw_protos if p not in sim_protos and p != "mqtt-json"]
        c.eq(missing, [], "every protocol of bmsgw has a simulator responder")
    for proto in both:
        if not my_part():
            continue
        print("== " + proto, flush=True)
        current[0] = proto
        if can_protocol(proto):
            try:
                run_can(proto)
            except Exception as e:
                import traceback
                traceback.print_exc()
                c.ok(False, "%s raised %r" % (proto, e))
            continue
        if not wire_protocol(proto):
            # no wire to put a simulator on: end to end through the fake BlueZ instead
            c.ok(ble_case(proto), "%s: Bluetooth only, run end to end by test_ble.py" % proto)
            continue
        try:
            run(proto)
            for packs in VARIANTS.get(proto, ()):
                run_variant(proto, packs)
            if proto in MULTIDROP:
                run_bus(proto, MULTIDROP[proto])
        except Exception as e:
            import traceback
            traceback.print_exc()
            c.ok(False, "%s raised %r" % (proto, e))
    sys.exit(c.report())
