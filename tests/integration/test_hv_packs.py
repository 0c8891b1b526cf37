#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: parts=3
"""The high-voltage packs of issue 101, end to end without CAN hardware,
through an slcan adapter on a pty:

(a) each family's broadcast of tests/fixtures/vectors.tsv (family hvcan:
    LEAF-01 ... FOX-01, ZOE2-01, BYDHVS-01, SOLAX-01, RELION-01, SDI-01, GROWATT-ARK-01) played on the bus by the test with Debian's
    python3-can (slcanBus on the test's end of a socat pty pair), in a loop
    every 0.2 s: the values /api/state shows (the layouts' decoding: pack
    voltage, current in bmsgw's sign, SOC, every cell); the same frames
    each a byte short, and for the families with a check of their data
    (the Leaf's CRC-8, BYD's check byte, the Zoe's heartbeat, the ZE50's
    0x36C CRC) a frame with its check wrong: every one refused and counted (the wire's checksum
    errors), the pack stale where the frame carried its voltage, never a
    value of a refused frame shown, back with the whole frames; bmsgw wrote
    no frame on the bus (python-can counts every one it hears);
(b) the simulator's Tesla Model 3 with its 108 bricks (bmsgw-sim --protocol
    tesla-model3 --pty) through every output: /api/state (108 cells),
    the register map (offset 40 the count, cells 1-32 in the map's cell
    block), /metrics (108 cell samples), MQTT (the state's cells_mv, Home
    Assistant discovery of cell_108 with [mqtt] cells = enabled, every
    config passing Home Assistant's rules), InfluxDB's line (cell_01 ... cell_108), the
    history (/api/history?cells=1: 108 columns), the counted SOC of a
    200 Ah (80 kWh) pack (started from the BMS's SOC; a discharge of 300 A
    counted); then the pack silent: stale after stale_after (offline, its
    MQTT availability offline, out of /metrics, a Modbus exception); the
    adapter opened listen only (L) and not a frame written;
(c) `bmsgw --check` of each family refuses every option that would send on
    the pack's bus or share it: control, bms_settings, listen, an address,
    a second pack on the port, an inverter output on it, a tunnel to it;
    and accepts conf/<protocol>.ini.
Waits for conditions, never sleeps for luck.  Ends with "N passed, N
failed".
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from harness import (BIN, ROOT, Checks, Gateway, Sim, free_port, ha_float, my_part, pty_pair,  # noqa: E402
                     wait_until)
from canpacks import Player, Watch, pack  # noqa: E402
from mqtt_harness import Broker, Subscriber, retained  # noqa: E402
from ha_discovery import check as ha_check  # noqa: E402
from test_influx import V2  # noqa: E402

from pymodbus.client import ModbusTcpClient  # noqa: E402

try:
    import can  # noqa: F401
except ImportError:
    print("python3-can is not installed (make deps installs it)")
    print("0 passed, 1 failed")
    sys.exit(1)

c = Checks()
BASE = 290
STALE = 4
BMSGW = os.path.join(ROOT, BIN, "bmsgw")


def conf(protocol, gw_port, http_port, path, extra=""):
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = %d
state_file = none
[pack.ev]
protocol = %s
port = slcan://%s
poll_interval = 0.5
timeout = 1.5
retries = 0
%s[http]
listen = 127.0.0.1:%d
[history]
file = none
""" % (gw_port, STALE, protocol, path, extra, http_port)


def fixture(rid):
    """The frames of a row of tests/fixtures/vectors.tsv: [(can id, extended, data)]."""
    with open(os.path.join(ROOT, "tests", "fixtures", "vectors.tsv")) as f:
        for line in f:
            if line.startswith(rid + "\t"):
                fr = []
                for t in line.split("\t")[2].split():
                    i, d = t.split("#")
                    fr.append((int(i, 16), len(i) == 8, bytes.fromhex(d)))
                return fr
    return []


# ------------------------------------------- (a) the vectors, python-can

KEYS = ("voltage", "current", "soc", "cell_count")

# row, protocol, what the layouts give (a value and its tolerance; None: not
# sent), the ids whose check a broken variant gets wrong (a function of the
# data), and whether that frame carries the voltage (the pack then stale)
ROWS = (
    ("LEAF-01", "leaf", ((356.0, 0.3), (12.0, 0.3), (41.2, 0.15), 96),
     ("the CRC-8 of 0x1DB and 0x55B", (0x1DB, 0x55B), lambda d: bytes([d[0] ^ 1]) + d[1:], True)),
    ("M3-01", "tesla-model3", ((410.5, 0.02), (8.2, 0.15), (81.2, 0.25), 0), None),
    ("ZOE1-01", "zoe1", ((362.5, 8.0), (0.0, 0.3), (84.98, 0.15), 96),
     ("the heartbeat of 0x424", (0x424,), lambda d: d[:6] + b"\x00" + d[7:], None)),
    ("ZOE2-01", "zoe2", ((370.0, 0.05), (-12.5, 0.05), (85.5, 0.05), 0),
     ("the CRC of 0x36C", (0x36C,), lambda d: bytes([d[0] ^ 1]) + d[1:], False)),
    ("MG-01", "mg-zs", ((460.0, 0.3), (4.0, 0.15), (36.7, 0.15), 0), None),
    ("ATTO-01", "byd-atto3", ((420.0, 0.45), (0.0, 0.15), (99.1, 0.25), 0),
     ("the check byte of 0x438, 0x444, 0x43A, 0x447", (0x438, 0x444, 0x43A, 0x447),
      lambda d: bytes([d[0] ^ 1]) + d[1:], True)),
    ("BOLT-01", "bolt", ((351.25, 3.0), None, None, 96), None),
    ("MACHE-01", "mach-e", ((350.0, 0.55), (12.0, 0.25), (55.0, 0.15), 96), None),
    ("VOLVO-01", "volvo-spa", ((375.0, 0.3), (10.0, 0.15), (50.0, 0.15), 0), None),
    ("FOX-01", "foxess-in", ((330.0, 0.15), (5.0, 0.15), (40.0, 0.15), 0), None),  # one module's cells: a part
    ("BYDHVS-01", "byd-hvs-in", ((212.1, 0.05), (0.0, 0.05), (97.4, 0.05), 0), None),
    ("SOLAX-01", "solax-in", ((425.9, 0.05), (1.3, 0.05), (93.0, 0.05), 0), None),
    ("RELION-01", "relion-lv", ((49.6, 0.05), (0.0, 0.05), (99.0, 0.05), 15), None),  # 250 kbit/s
    ("SDI-01", "samsung-sdi-lv", ((52.36, 0.005), (-12.0, 0.05), (62.0, 0.05), 0), None),  # low byte first, 1 A
    ("GROWATT-ARK-01", "growatt-ark-in", ((213.6, 0.05), (0.0, 0.05), (100.0, 0.05), 0), None),
)


# the families whose current and SOC come as a tester's answers, in the polls
# that hear them (zoe2): a state without them is a poll that heard none
ANSWERED = ("zoe2",)


def fits(v, want, proto=None):
    """Whether the values shown (KEYS) are the layout's (for ANSWERED,
    current and SOC absent too)."""
    if v is None:
        return False
    if proto in ANSWERED:
        want = (want[0],) + tuple(None if v[i] is None else want[i] for i in (1, 2)) + (want[3],)
    for got, w in zip(v[:3], want[:3]):
        if w is None:
            if got is not None:
                return False
        elif got is None or abs(got - w[0]) > w[1]:
            return False
    return (v[3] or 0) == want[3]


def online(http):
    p = pack(http)
    return tuple(p.get(k) for k in KEYS) if p.get("online") else None


def refused(http):
    return (pack(http).get("wire") or {}).get("checksum_errors", 0)


def broken_case(player, http, what, frames, good, stale):
    before = refused(http)
    player.play(frames)
    c.ok(wait_until(lambda: refused(http) >= before + 3, 10),
         "%s: refused, counted with the wire's checksum errors (%d -> %d)" % (what, before, refused(http)))
    if stale:
        c.ok(wait_until(lambda: not pack(http).get("online"), STALE + 8), "%s: the pack goes stale" % what)
    player.play(good)
    c.ok(wait_until(lambda: online(http) is not None, 15), "%s: back with the whole frames" % what)


def a_row(tmp, rid, proto, want, check):
    print("== (a) %s: %s played with python-can" % (proto, rid))
    good = fixture(rid)
    c.ok(len(good) >= 2, "%s: its frames in tests/fixtures/vectors.tsv" % rid)
    gw_end, test_end = pty_pair(tmp, rid.lower())
    player = Player(test_end, 250000 if proto == "relion-lv" else 500000)
    gw_port, http = free_port(), free_port()
    gw = Gateway(conf(proto, gw_port, http, gw_end), gw_port)
    try:
        player.play(good)
        v = wait_until(lambda: (lambda x: x if x and (x[3] or 0) == want[3] else None)(online(http)), 20)
        c.ok(fits(v, want, proto), "%s: the layout's values %s (shown %s)" % (rid, want, v))
        if not v:
            return
        w = Watch(http, KEYS)
        cut = [(i, ext, d[:-1]) for i, ext, d in good]
        broken_case(player, http, "%s: every frame a byte short" % rid, cut, good, True)
        if check:
            what, ids, spoil, stale = check
            bad = [(i, ext, spoil(d) if i in ids and not ext else d) for i, ext, d in good]
            broken_case(player, http, "%s: %s wrong" % (rid, what), bad, good, stale)
        seen = w.stop()
        c.ok(seen and all(fits(s, want, proto) for s in seen),
             "%s: never a value of a refused frame shown (%d states: %s)" % (rid, len(seen), sorted(seen, key=str)))
        if proto in ANSWERED:
            c.ok(any(fits(s, want) for s in seen), "%s: the answers' current and SOC shown" % rid)
        c.eq(player.heard, 0, "%s: bmsgw wrote no frame on the bus" % rid)
        c.ok("ERROR: AddressSanitizer" not in gw.text() and "runtime error" not in gw.text(), "sanitizers quiet")
    finally:
        if c.failed:
            gw.dump(30)
        gw.stop()
        player.close()


# -------------------------------------- (b) a 108-cell pack, every output

CAP = 200.0


def b_conf(gw_port, http, path, broker, influx, tok, hist):
    return conf("tesla-model3", gw_port, http, path, "chemistry = nmc\nunit_id = 1\n").replace(
        "[history]\nfile = none\n", "") + """[history]
file = %s
interval = 1
[soc]
capacity = %g
[mqtt]
host = 127.0.0.1
port = %d
client_id = hv1
topic_prefix = hv
cells = enabled
[influx]
url = http://127.0.0.1:%d/
org = o
bucket = b
token_file = %s
interval = 1
""" % (hist, CAP, broker, influx, tok)


def fetch(http, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (http, path), timeout=10) as r:
        return r.read().decode()


def regs(gw_port, addr, count):
    cl = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    try:
        if not cl.connect():
            return None
        rr = cl.read_holding_registers(addr, count, slave=1)
        return None if rr.isError() else list(rr.registers)
    finally:
        cl.close()


def cell_samples(text):
    return re.findall(r'^bmsgw_cell_voltage_volts\{pack="ev",cell="(\d+)"\} ([0-9.]+)$', text, re.M)


def b_outputs(sim, gw_port, http, sub, broker, influx):
    p = wait_until(lambda: (lambda q: q if q.get("online") and q.get("cell_count") == 108 else None)(pack(http)), 20)
    if not c.ok(p is not None, "the Tesla comes online with its 108 bricks"):
        return
    v = sim.state()["packs"][0]
    c.eq(p.get("cells_mv"), v["cells_mv"], "/api/state: every brick, mV (108)")
    c.near(p["voltage"], v["voltage"], 0.011, "/api/state: the pack's voltage (0x132)")
    c.near(p["current"], v["current"], 0.051, "/api/state: the current in bmsgw's sign (+ = charging)")
    r = regs(gw_port, BASE, 125)
    c.ok(r is not None and r[40] == 108, "register offset 40: the pack's 108 cells (%s)" % (r and r[40]))
    if r:
        c.eq(r[20:36] + r[83:99], v["cells_mv"][:32], "the map's cell block: cells 1-32")
        c.near(ha_float(r[10:12]), p["voltage"], 1e-3, "the voltage float (offsets 10-11)")
    m = cell_samples(fetch(http, "/metrics"))
    c.eq([int(k) for k, _ in m], list(range(1, 109)), "/metrics: bmsgw_cell_voltage_volts for cells 1-108")
    c.ok(m and all(abs(float(x) * 1000 - mv) < 0.6 for (_, x), mv in zip(m, p["cells_mv"])),
         "/metrics: each cell's volts")
    st = wait_until(lambda: (lambda x: x if x and len(x.get("cells_mv") or []) == 108 else None)(
        json.loads(sub.latest("hv/ev/state").text()) if sub.latest("hv/ev/state") else None), 15)
    c.ok(st is not None, "MQTT: the state's cells_mv has the 108 bricks")
    cfg = wait_until(lambda: sub.latest("homeassistant/sensor/bmsgw_hv1_ev/cell_108/config"), 15)
    c.ok(cfg is not None and json.loads(cfg.text()).get("state_topic") == "hv/ev/state",
         "Home Assistant discovery announces cell_108 from the pack's state")
    configs = {t: x.text() for t, x in retained(broker, "homeassistant/#").items() if x.payload}
    known = {t: x.text() for t, x in retained(broker, "hv/#").items()}
    cells = [t for t in configs if re.search(r"/cell_\d+/config$", t) and "bmsgw_hv1_ev" in t]
    c.eq(len(cells), 108, "a discovery config for each of the 108 cells")
    c.eq(ha_check(configs, known)[:5], [], "every discovery payload passes Home Assistant's rules")
    line = wait_until(lambda: next((b for _, _, _, b, _ in reversed(influx.all()) if "cell_108=" in b), None), 15)
    c.ok(line is not None and "cell_01=" in line, "InfluxDB: the pack's line carries cell_01 ... cell_108")
    now = int(time.time())
    h = wait_until(lambda: (lambda j: j if j.get("ncells") == 108 and j.get("t") else None)(
        json.loads(fetch(http, "/api/history?unit=ev&from=%d&to=%d&points=100&cells=1" % (now - 60, now + 60)))), 15)
    c.ok(h is not None and len(h["cells"]) == 108, "the history: /api/history?cells=1 has the 108 columns")
    if h:
        last = [col[-1] for col in h["cells"]]
        c.ok(all(x is not None and abs(x - mv) <= 1 for x, mv in zip(last, v["cells_mv"])),
             "the history's last row: each brick")


def b_counted(sim, http):
    print("== (b) the counted SOC of a 200 Ah pack")
    e = wait_until(lambda: (lambda x: x if x.get("counting") else None)(pack(http).get("soc_estimate") or {}), 10)
    bms = pack(http).get("soc")
    c.ok(e is not None and abs(e.get("counted", -1) - bms) < 1,
         "counting starts from the BMS's SOC (%r, the BMS's %r)" % (e, bms))
    if not e:
        return
    e0 = e["remaining_ah"]
    c.near(e0, CAP * bms / 100, 2.5, "the count's remaining Ah is the SOC of 200 Ah")
    t0 = time.monotonic()
    sim.ctl("set 0 current -300")
    got = wait_until(lambda: (lambda x: x if x["remaining_ah"] <= e0 - 0.6 else None)(pack(http)["soc_estimate"]), 30)
    sim.ctl("set 0 current 0")
    dt = time.monotonic() - t0
    drop = e0 - pack(http)["soc_estimate"]["remaining_ah"]
    c.ok(got is not None and 300 * (dt - 2) / 3600 <= drop <= 300 * (dt + 2) / 3600,
         "a discharge of 300 A for %.1f s: %.3f Ah counted (%.3f expected)" % (dt, drop, 300 * dt / 3600))


def b_stale(sim, gw_port, http, sub):
    print("== (b) the pack silent: stale after stale_after")
    t0 = time.monotonic()
    sim.ctl("fault 0 silent")
    off = wait_until(lambda: not pack(http).get("online"), STALE + 6)
    c.ok(off, "offline in /api/state (%.1f s, stale_after %d)" % (time.monotonic() - t0, STALE))
    c.ok(sub.wait_for("hv/ev/availability", lambda m: m.text() == "offline", timeout=10) is not None,
         "MQTT: availability offline")
    c.eq(cell_samples(fetch(http, "/metrics")), [], "out of /metrics: no cell sample of a stale pack")
    c.ok(regs(gw_port, BASE, 1) is None, "the register map answers an exception, no last value")
    sim.ctl("fault 0 none")
    c.ok(wait_until(lambda: pack(http).get("online") and pack(http).get("cell_count") == 108, 20),
         "back with the frames, the 108 bricks again")


def part_b(tmp):
    print("== (b) tesla-model3: 108 bricks through every output")
    path = os.path.join(tmp, "teslabus")
    sim = Sim(protocol="tesla-model3", tcp=False, pty_path=path, packs=("address=0,soc=64,current=-12.5",))
    broker = Broker()
    influx = V2()
    tok = os.path.join(tmp, "token")
    with open(tok, "w") as f:
        f.write("t0k\n")
    os.chmod(tok, 0o600)
    sub = Subscriber(broker.port, topics=("hv/#", "homeassistant/#"))
    gw_port, http = free_port(), free_port()
    gw = Gateway(b_conf(gw_port, http, path, broker.port, influx.port, tok, os.path.join(tmp, "hist.db")), gw_port)
    try:
        b_outputs(sim, gw_port, http, sub, broker.port, influx)
        b_counted(sim, http)
        b_stale(sim, gw_port, http, sub)
        st = sim.state()["packs"][0]
        c.eq((st["can_open"], st["can_rate"], st["can_frames_heard"], st["writes"]), ("listen", "S6", 0, 0),
             "the adapter opened listen only at 500 kbit/s, not a frame written")
        c.ok("ERROR: AddressSanitizer" not in gw.text() and "runtime error" not in gw.text(), "sanitizers quiet")
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        sub.close()
        sim.stop()
        broker.cleanup()


# ------------------------------------------------ (c) --check refusals

REFUSED = (
    ("control", "control = true", "control"),
    ("bms_settings", "bms_settings = soc", "bms_settings"),
    ("listen", "listen = true", "listen"),
    ("an address", "address = 3", "address"),
    ("a second pack on the port", "[pack.two]\nprotocol = jk-can\nport = slcan:///dev/ttyACM7", "already used"),
    ("an inverter output on the port",
     "[pack.lv]\nprotocol = jk-can\nport = slcan:///dev/ttyACM9\ncells = 16\n[limits]\n[inverter.x]\n"
     "protocol = pylon-can\nport = slcan:///dev/ttyACM7\nsource = lv", "CAN bus [pack.ev]"),
    ("a tunnel to the port", "[tunnel.t]\nlisten = 127.0.0.1:27312\nport = slcan:///dev/ttyACM7\nclients = 127.0.0.1",
     "only listens"),
)


def check(tmp, text):
    """bmsgw --check of `text`, written to a file of its own in `tmp`."""
    fd, path = tempfile.mkstemp(prefix="check-", suffix=".ini", dir=tmp)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return subprocess.run([BMSGW, "-c", path, "--check"], capture_output=True, text=True, timeout=30)


def part_c(tmp, proto):
    print("== (c) %s: --check" % proto)
    r = subprocess.run([BMSGW, "-c", os.path.join(ROOT, "conf", proto + ".ini"), "--check"], capture_output=True,
                       text=True, timeout=30)
    c.eq((r.returncode, r.stderr.strip()), (0, ""), "%s: conf/%s.ini is accepted" % (proto, proto))
    base = "[gateway]\nlisten = 127.0.0.1:27311\nstate_file = none\n[pack.ev]\nprotocol = %s\n" \
           "port = slcan:///dev/ttyACM7\n" % proto
    for what, extra, word in REFUSED:
        r = check(tmp, base + extra + "\n")
        c.ok(r.returncode != 0 and word in r.stderr, "%s: %s refused (%s)" % (proto, what, r.stderr.strip()[:160]))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for rid, proto, want, chk in ROWS:
            if my_part():
                a_row(tmp, rid, proto, want, chk)
        if my_part():
            part_b(tmp)
        for _, proto, _, _ in ROWS:
            if my_part():
                part_c(tmp, proto)
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
