#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Listen mode end to end: the real gateway on a bus whose master is not
bmsgw (the bundled simulator's `--master`: a JK-PB at DIP 0, a Seplos V3
master pack, an inverter polling Modbus or paceic packs; tests/sim/README.md
"Bus master"), with /api/state and the simulator's own count of every byte
that came from bmsgw's side of the pty:

- every listening protocol with three packs: each pack's values are the
  simulator's, the master's own data read where it puts them on the bus
  (JK-PB address 0, Seplos V3 address 1), and bmsgw wrote nothing;
- a pack that drops out goes stale while the others stay fresh, and comes
  back; garbage and collisions on the bus are counted and harmless;
- a master that stops: without takeover_after the packs go stale and
  nothing is written; with it bmsgw polls them, and stops writing at the
  master's first request again;
- answers damaged on the bus (bad checksums, the 0x42 and the 0x44 of a
  pace pack one after another): never a half round committed, and the
  rounds heard from the 0x44 on (a damaged 0x42 shifts them) keep its
  alarms and MOSFETs;
- a reload that moves the listened packs (their sections swapped) keeps
  what was heard of each with its pack, never another's (jk-pb: each
  pack's BMS current limits, kept from the settings record);
- `bmsgw --detect` on those buses (a JK-PB master, a Seplos V3 master, an
  inverter polling renogy packs) names the master and prints a
  `listen = true` section for each pack heard, writing nothing.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks, Gateway, Sim, api_state, free_port, wait_until  # noqa: E402

c = Checks()
STALE = 5

# protocol: the addresses of its three packs (the master's own first where
# it puts data on the bus)
PROTOCOLS = [
    ("jk-pb", (0, 1, 2)),
    ("seplos3", (1, 2, 3)),
    ("eg4-ll", (1, 2, 3)),
    ("renogy", (48, 49, 50)),
    ("pace-modbus", (1, 2, 3)),
    ("daly-modbus", (1, 2, 3)),
    ("pace", (1, 2, 3)),
    ("pylontech", (2, 3, 4)),
    ("seplos", (0, 1, 2)),
    ("daren", (1, 2, 3)),
    ("eg4-lp4", (1, 2, 3)),
]


def conf(gw_port, http_port, proto, pty, addrs, extra=""):
    text = ("[gateway]\nlisten = 127.0.0.1:%d\nstale_after = %d\nstate_file = none\n[http]\nlisten = 127.0.0.1:%d\n"
            % (gw_port, STALE, http_port))
    for i, a in enumerate(addrs):
        text += ("[pack.p%d]\nprotocol = %s\nport = %s\naddress = %d\nunit_id = %d\nlisten = true\n"
                 "poll_interval = 0.5\n%s" % (a, proto, pty, a, i + 1, extra))
    return text


def packs(http_port):
    return {p["pack"]: p for p in api_state(http_port).get("packs", [])}


def fresh(http_port, names):
    st = packs(http_port)
    return all(st.get(n, {}).get("online") for n in names)


def values_match(p, s, label):
    c.near(p.get("voltage"), s["voltage"], 0.02, label + ": voltage")
    c.near(p.get("soc"), s["soc"], 0.6, label + ": SOC")
    c.eq(p.get("cells_mv"), s["cells_mv"], label + ": cells")


class Bus:
    """A simulator with its own master on a pty, and bmsgw listening to it."""

    def __init__(self, proto, addrs, extra="", specs=None):
        self.tmp = tempfile.mkdtemp(prefix="bmsgw-listen-")
        self.pty = os.path.join(self.tmp, "bus")
        self.sim = Sim(proto, tcp=False, pty_path=self.pty,
                       packs=specs or ["address=%d,soc=%d" % (a, 30 + 20 * i) for i, a in enumerate(addrs)],
                       extra=["--master"])
        self.gw_port, self.http = free_port(), free_port()
        self.names = ["p%d" % a for a in addrs]
        self.gw = Gateway(conf(self.gw_port, self.http, proto, self.pty, addrs, extra), self.gw_port)

    def master(self):
        return json.loads(self.sim.ctl("master"))

    def written(self):
        return self.master().get("from_listener_bytes")

    def stop(self):
        self.gw.stop()
        self.sim.stop()


def test_protocol(proto, addrs):
    bus = Bus(proto, addrs)
    try:
        ok = wait_until(lambda: fresh(bus.http, bus.names), 20)
        if not c.ok(ok, "%s: the three packs are heard (%s)" % (proto, ", ".join(map(str, addrs)))):
            bus.gw.dump(20)
            print(bus.sim.ctl("master"))
            return
        sim = {p["address"]: p for p in bus.sim.state()["packs"]}
        st = packs(bus.http)
        for a in addrs:
            values_match(st["p%d" % a], sim[a], "%s pack %d" % (proto, a))
        c.eq(bus.written(), 0, "%s: bmsgw wrote nothing to the bus" % proto)
    finally:
        bus.stop()


def test_dropout_noise():
    print("== seplos3: a pack drops out and returns; garbage and collisions")
    bus = Bus("seplos3", (1, 2, 3))
    try:
        c.ok(wait_until(lambda: fresh(bus.http, bus.names), 20), "the three packs are heard")
        bus.sim.ctl("pack 3 absent")
        c.ok(wait_until(lambda: not packs(bus.http)["p3"]["online"], STALE + 8), "a pack that drops out goes stale")
        c.ok(fresh(bus.http, ["p1", "p2"]), "... while the master and the other slave stay fresh")
        bus.sim.ctl("pack 3 present")
        c.ok(wait_until(lambda: fresh(bus.http, bus.names), 10), "it comes back")
        link = lambda: api_state(bus.http)["links"][0]  # noqa: E731
        bus.sim.ctl("garbage 200")
        c.ok(wait_until(lambda: link()["listen"]["noise_bytes"] >= 200, 10), "garbage on the bus is counted as noise "
             "(%s bytes)" % link()["listen"]["noise_bytes"])
        before = link()["listen"]["noise_bytes"] + link()["checksum_errors"]
        bus.sim.ctl("collide")
        c.ok(wait_until(lambda: link()["listen"]["noise_bytes"] + link()["checksum_errors"] > before, 10),
             "a collision is counted")
        good = {n: packs(bus.http)[n]["good_polls"] for n in bus.names}
        c.ok(wait_until(lambda: all(packs(bus.http)[n]["good_polls"] > good[n] + 1 for n in bus.names), 10),
             "the packs are read on through the noise")
        c.ok(fresh(bus.http, bus.names), "... and stay fresh")
        c.eq(bus.written(), 0, "bmsgw wrote nothing to the bus")
        bus.sim.ctl("master stop")
        c.ok(wait_until(lambda: not any(packs(bus.http)[n]["online"] for n in bus.names), STALE + 8),
             "a master that stops: without takeover_after the packs go stale")
        c.eq(bus.written(), 0, "... and nothing is written")
    finally:
        bus.stop()


def test_takeover():
    print("== seplos3: takeover_after")
    bus = Bus("seplos3", (1, 2, 3), extra="takeover_after = 1\n")
    try:
        c.ok(wait_until(lambda: fresh(bus.http, bus.names), 20), "the three packs are heard")
        c.eq(bus.written(), 0, "nothing written while the master polls")
        bus.sim.ctl("master stop")
        c.ok(wait_until(lambda: (bus.written() or 0) > 0, 10), "no master for takeover_after: bmsgw polls")
        c.ok(wait_until(lambda: api_state(bus.http)["links"][0]["listen"]["taken_over"], 5), "/api/state says so")
        good = {n: packs(bus.http)[n]["good_polls"] for n in bus.names}
        c.ok(wait_until(lambda: all(packs(bus.http)[n]["good_polls"] > good[n] + 1 for n in bus.names), 10),
             "its polls read every pack")
        bus.sim.ctl("master start")
        c.ok(wait_until(lambda: not api_state(bus.http)["links"][0]["listen"]["taken_over"], 10),
             "the master polls again: bmsgw yields")
        cycles = bus.master()["cycles"]
        after = bus.written()
        c.ok(wait_until(lambda: bus.master()["cycles"] >= cycles + 2, 10), "(the master runs two cycles)")
        c.eq(bus.written(), after, "bmsgw writes nothing once the master is back")
        c.ok(fresh(bus.http, bus.names), "the packs stay fresh, heard again")
    finally:
        bus.stop()


def test_jk_master():
    print("== jk-pb: a slave drops out, the master's own data stays")
    bus = Bus("jk-pb", (0, 1, 2))
    try:
        c.ok(wait_until(lambda: fresh(bus.http, bus.names), 20), "the master and two slaves are heard")
        bus.sim.ctl("pack 2 absent")
        c.ok(wait_until(lambda: not packs(bus.http)["p2"]["online"], STALE + 8), "a slave that drops out goes stale")
        c.ok(fresh(bus.http, ["p0", "p1"]), "... the master (address 0) and the other slave stay fresh")
        c.eq(bus.written(), 0, "bmsgw wrote nothing to the bus")
    finally:
        bus.stop()


def test_damaged_answer():
    print("== pace: answers damaged on the bus never commit a half round")
    bus = Bus("pace", (1, 2, 3))
    try:
        for cmd in ("set 1 chg_mos 0", "set 1 alarm 0 0x01", "set 1 alarm 3 0x01"):
            bus.sim.ctl(cmd)
        whole = lambda p: "cell_ov" in (p.get("alarms") or []) and p.get("charge_mos") is False  # noqa: E731
        if not c.ok(wait_until(lambda: whole(packs(bus.http).get("p1", {})), 20),
                    "p1 is heard with its protection (cell_ov) and its charge MOSFET off"):
            return
        link = lambda: api_state(bus.http)["links"][0]  # noqa: E731
        seen = []
        for k in range(6):  # both of its answers (0x42, 0x44) get damaged, one after another
            errs = link()["checksum_errors"]
            bus.sim.ctl("fault 1 badsum 1")
            wait_until(lambda: seen.append(packs(bus.http)["p1"]) or link()["checksum_errors"] > errs, 10)
        good = packs(bus.http)["p1"]["good_polls"]
        c.ok(wait_until(lambda: seen.append(packs(bus.http)["p1"]) or seen[-1]["good_polls"] >= good + 3, 20),
             "p1 is read on after six damaged answers")
        half = [p for p in seen if p.get("online") and not whole(p)]
        c.eq(len(half), 0, "never served without its alarms or MOSFETs (%d samples)" % len(seen))
    finally:
        bus.stop()


def test_reload_moves():
    print("== jk-pb: a reload that swaps two listened packs")
    limits = {1: (10, 11), 2: (150, 151)}
    bus = Bus("jk-pb", (0, 1, 2))
    try:
        for a, (ccl, dcl) in limits.items():
            bus.sim.ctl("set %d ccl %d" % (a, ccl))
            bus.sim.ctl("set %d dcl %d" % (a, dcl))
        own = lambda p, a: p.get("bms_ccl_a") == limits[a][0] and p.get("bms_dcl_a") == limits[a][1]  # noqa: E731
        if not c.ok(wait_until(lambda: own(packs(bus.http).get("p1", {}), 1) and own(packs(bus.http).get("p2", {}), 2),
                               40), "p1 and p2 are heard with their own BMS current limits"):
            return
        text = open(bus.gw.conf).read()
        sects = re.split(r"(?=\[pack\.)", text)
        head, body = sects[0], sects[1:]
        with open(bus.gw.conf, "w") as f:
            f.write(head + body[0] + body[2] + body[1])
        bus.gw.p.send_signal(signal.SIGHUP)
        c.ok(wait_until(lambda: "reload #1: applied" in bus.gw.text(), 15), "the reload (p1 and p2 swapped) is applied")
        good = {n: packs(bus.http)[n]["good_polls"] for n in ("p1", "p2")}
        seen = []
        c.ok(wait_until(lambda: seen.append(packs(bus.http)) or all(seen[-1][n]["good_polls"] >= good[n] + 2
                                                                    for n in good), 30),
             "both are read on")
        wrong = [(n, s[n].get("bms_ccl_a")) for s in seen for n, a in (("p1", 1), ("p2", 2))
                 if s[n].get("bms_ccl_a") is not None and s[n].get("bms_ccl_a") != limits[a][0]]
        c.eq(wrong, [], "neither is ever served the other's BMS current limit (%d samples)" % len(seen))
        c.eq(bus.written(), 0, "bmsgw wrote nothing to the bus")
    finally:
        bus.stop()


def test_detect(proto, addrs, says):
    print("== --detect on a %s bus with a master" % proto)
    tmp = tempfile.mkdtemp(prefix="bmsgw-listen-")
    pty = os.path.join(tmp, "bus")
    # --unheld: --detect refuses a port another process holds
    sim = Sim(proto, tcp=False, pty_path=pty, packs=["address=%d" % a for a in addrs], extra=["--master", "--unheld"])
    try:
        r = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "--detect", pty], capture_output=True, text=True,
                           timeout=30)
        out = r.stdout + r.stderr
        c.eq(r.returncode, 0, "%s: --detect finds packs to listen to" % proto)
        c.ok(says in out, "%s: it names the master (%r)" % (proto, says))
        heard = sorted(int(a) for a in re.findall(r"^address = (\d+)$", out, re.M))
        c.eq(heard, sorted(addrs), "%s: a section for each pack heard" % proto)
        c.eq(len(re.findall(r"^listen = true$", out, re.M)), len(addrs), "%s: each says listen = true" % proto)
        c.eq(json.loads(sim.ctl("master")).get("from_listener_bytes"), 0, "%s: --detect wrote nothing" % proto)
        if c.failed:
            print(out[-3000:])
    finally:
        sim.stop()


def main():
    only = sys.argv[1:]
    for proto, addrs in PROTOCOLS:
        if not only or proto in only:
            print("== %s: three packs, listened to" % proto)
            test_protocol(proto, addrs)
    if not only:
        test_dropout_noise()
        test_takeover()
        test_jk_master()
        test_damaged_answer()
        test_reload_moves()
        test_detect("jk-pb", (0, 1, 2), "a JK-PB master (address 0, its own data heard) polls packs 1, 2")
        test_detect("seplos3", (1, 2, 3), "a Seplos V3 master (address 1, its own data heard) polls packs 2, 3")
        test_detect("renogy", (48, 49, 50), "master polls renogy packs 48, 49, 50")
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
