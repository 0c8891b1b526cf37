# SPDX-License-Identifier: MIT
"""What the tests of the high-voltage inverter dialects share
(test_inverter_solax.py, test_inverter_foxess.py, and the next ones): the
real bmsgw with a simulated 32-cell Daly pack (an HV-range source, 32 LFP
cells: 80.0-116.8 V; a dialect whose window starts higher, a string of
such packs: `members`) and one [inverter.hv] on a socat pty pair, the test
playing the inverter with Debian's python3-can over slcan; and the checks
every such dialect must pass, run against the test's own decoder of the
dialect, written in the test from the document (a `Dialect` below).  A
dialect whose battery speaks on its own schedule (`periodic`: sungrow-can,
sofar-can, growatt-hv-can) reads "the answer" as the newest whole set
after the inverter's regular frame, and runs test_periodic instead of
test_unasked:

- slcan_setup: the adapter is opened at the protocol's bit rate (S6, S5);
- test_waiting: nothing at all before the source's first data, however
  often the inverter asks (state waiting); the first answer carries a real
  CVL and SOC;
- test_unasked: nothing unasked once there is data; answers never within
  50 ms of each other; the output's state, counters and "inverter seen" in
  /api/state and /metrics;
- test_periodic (periodic dialects): the sets on their own, as many as the
  period gives in a window (a count, give or take two: no latency is
  asserted), never two within 50 ms; the status and /metrics as above;
- test_limits: CVL, DVL, CCL, DCL against the limits /api/state shows;
- test_range: the source outside the protocol's window (its cells pinned
  at 2.45 V: 78.4 V): no answer (state out_of_range), said once each way;
- test_stale: the pack stale: the next answer has zero current limits and
  the cut-off voltages kept (and the dialect's own stale marks; a periodic
  dialect's fail-safe set sent out of turn); after
  failsafe_silence no answer at all; answers again once fresh, the current
  limits back after recovery_hold; each transition logged once;
- test_check: --check accepts the configuration and the dialect's example,
  refuses a 16-cell source naming both ranges, interval and extras;
- test_strings: a bank of two strings of two 32-cell packs: the answer's
  voltage, current and limits are the bank's; a member's cell over-voltage
  puts CCL 0 in the next answers; a stale member (bank_stale = block) makes
  them fail-safe; back when it answers again.
"""
import os
import re
import socket
import subprocess
import time
import urllib.request

from harness import BIN, ROOT, Gateway, Sim, api_state, frames_sent, free_port, inverter_output, pty_pair, wait_until
from canreader import CanReader

CELLS = 32
PACK = "address=1,cells=%d,sensors=2,soc=57.5,current=-12.34" % CELLS
SILENCE = 3


class Inverter(CanReader):
    """The inverter: python-can's slcan on the test's end of the pty pair,
    every frame kept; with `period` set, its regular request that often
    (the dialect's `poll`)."""
    RECV_S = 0.02

    def __init__(self, path, dialect):
        self.dialect = dialect
        super().__init__(path)

    def send(self, ident, data, ext=True):
        super().send(ident, data, ext=ext)

    def poll(self):
        self.polls += 1
        self.dialect.poll(self)


class Dialect:
    """A dialect as its test reads it; the test's subclass fills these in
    from the document (never from bmsgw's code)."""
    name = ""            # protocol = name
    window = (80, 1000)  # --check's voltage window
    bitrate = "S6"       # the slcan command of its bit rate
    example = ""         # conf/*.ini that --check accepts
    members = 1          # 32-cell packs in series as the source (2: a bank of one string p1+p2)
    periodic = False     # the battery sends its set on its own schedule
    period = 1.0         # s between two sets (periodic)

    def poll(self, inv):
        """Send the inverter's regular request (once)."""
        raise NotImplementedError

    def answer(self, frames):
        """{id: bytes} of the newest whole answer among [(t, message)], or
        None."""
        raise NotImplementedError

    def limits(self, ans):
        """{"cvl", "dvl", "ccl", "dcl"} in V and A, decoded from an answer."""
        raise NotImplementedError

    def values(self, ans):
        """{"voltage", "current", "soc"} decoded from an answer."""
        raise NotImplementedError

    def stale_marks(self, ans):
        """[(what, ok)]: the dialect's own marks of a stale source in an answer."""
        return []

    def sets(self, frames):
        """A periodic dialect: [(time, {id: bytes})] of every whole set."""
        raise NotImplementedError


def ask(inv, d, timeout=3.0, pred=None):
    """The dialect's regular request; the whole answer to it, or None."""
    t0 = time.monotonic()
    inv.poll()

    def f():
        a = d.answer(inv.since(t0))
        return a if a is not None and (pred is None or pred(a)) else None
    return wait_until(f, timeout)


def slcan_setup(path, start, timeout=10.0):
    """Open the test's end raw, call start() (the gateway), and read what the
    gateway writes to its adapter until the open command: the setup lines.
    The test's end stays open by the fd returned until the reader has it."""
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    start()
    got, deadline = b"", time.monotonic() + timeout
    while b"O\r" not in got and time.monotonic() < deadline:
        try:
            got += os.read(fd, 256)
        except BlockingIOError:
            time.sleep(0.02)
    return fd, got.decode("ascii", "replace")


def source(d):
    """The source's name: the pack p1, or the bank of one string."""
    return "p1" if d.members == 1 else "bank"


def conf(d, gw_port, http_port, sim_port, pty, extra=""):
    # two packs on one line take turns: each its stale_after with room for the other's polls (5 s)
    packs = "".join("""[pack.p%d]
protocol = daly
port = tcp://127.0.0.1:%d
address = %d
cells = %d
poll_interval = 0.3
timeout = 0.4
retries = 0
""" % (k, sim_port, k, CELLS) for k in range(1, d.members + 1))
    bank = "" if d.members == 1 else "[bank]\nstrings = %s\n" % "+".join("p%d" % k for k in range(1, d.members + 1))
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = %d
state_file = none
%s%s[limits]
recovery_hold = 1
recovery_rate = 100
[http]
listen = 127.0.0.1:%d
[history]
file = none
[inverter.hv]
protocol = %s
port = slcan://%s
source = %s
failsafe_silence = %d
%s""" % (gw_port, 2 if d.members == 1 else 5, packs, bank, http_port, d.name, pty, source(d), SILENCE, extra)


def start(c, d, tmp, extra=""):
    """The environment of one dialect's test: the simulator (its pack
    silent: the output waits), the gateway, the inverter; the adapter's
    setup checked."""
    pty_a, pty_b = pty_pair(tmp, "hv")
    sim = Sim(packs=tuple(PACK.replace("address=1", "address=%d" % k) for k in range(1, d.members + 1)))
    sim.ctl("fault 1 silent")
    gw_port, http_port = free_port(), free_port()
    env = {"sim": sim, "http": http_port, "d": d}
    env["gw"] = None

    def go():
        env["gw"] = Gateway(conf(d, gw_port, http_port, sim.port, pty_a, extra), gw_port)
    fd, setup = slcan_setup(pty_b, go)
    env["inv"] = Inverter(pty_b, d)
    os.close(fd)
    c.ok(re.search(r"\r%s\r" % d.bitrate, "\r" + setup) is not None and setup.endswith("O\r"),
         "%s: the adapter opened at its bit rate (%s): %r" % (d.name, d.bitrate, setup))
    return env


def stop(c, env):
    gw = env["gw"]
    if gw is not None:
        c.ok(gw.alive() and "runtime error" not in gw.text() and "AddressSanitizer" not in gw.text(),
             "the daemon ran through it, sanitizers quiet")
        if c.failed:
            gw.dump(60)
        gw.stop()
    env["sim"].stop()
    env["inv"].close()


def state_is(port, want, name="hv"):
    return lambda: (lambda x: x if x and x["state"] == want else None)(inverter_output(port, name))


def test_waiting(c, env):
    print("== nothing before the first data, even when asked")
    inv, port, sim, d = env["inv"], env["http"], env["sim"], env["d"]
    c.ok(wait_until(state_is(port, "waiting"), 10), "%s: state waiting while the pack never answered" % d.name)
    for _ in range(6):
        inv.poll()
        time.sleep(0.25)
    time.sleep(0.5)
    c.eq(len(inv.since(0)), 0, "before any data: no answer to 6 requests (%d frames)" % len(inv.since(0)))
    sim.ctl("fault 1 none")
    c.ok(wait_until(state_is(port, "sending"), 10), "state sending once the pack answers")
    a = ask(inv, d)
    lim = d.limits(a) if a else {}
    c.ok(a is not None and lim.get("cvl", 0) >= 80 and d.values(a)["soc"] > 0,
         "the first answer carries a real CVL and SOC (%s)" % lim)


def test_unasked(c, env):
    print("== nothing unasked")
    inv = env["inv"]
    t0 = time.monotonic()
    time.sleep(2.5)
    c.eq(len(inv.since(t0)), 0, "no frame in 2.5 s without a request")
    for _ in range(3):
        inv.poll()
        inv.poll()
        time.sleep(0.2)
    check_status(c, env, 6)


def check_status(c, env, received):
    """The output in /api/state (never two sets or answers within 50 ms,
    the inverter seen, its frames counted) and /metrics."""
    port = env["http"]
    o = inverter_output(port, "hv") or {}
    c.ok(o.get("min_set_gap_ms", 1000) >= 49.0, "the output's least gap between answers >= 50 ms (%s)"
         % o.get("min_set_gap_ms"))
    c.ok(o.get("inverter_seen") is True and o.get("frames_received", 0) >= received and o.get("state") == "sending",
         "the requests show: inverter_seen, frames_received (%s)" % o.get("frames_received"))
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        m = r.read().decode()
    name = env["d"].name
    c.ok(re.search(r'bmsgw_inverter_state\{inverter="hv",state="sending"\} 1', m) is not None and
         re.search(r'bmsgw_inverter_seen\{inverter="hv",protocol="%s"\} 1' % name, m) is not None,
         "/metrics: state sending, the inverter seen")
    sent = re.search(r'bmsgw_inverter_sent_total\{inverter="hv",protocol="%s"\} (\d+)' % name, m)
    c.ok(sent is not None and int(sent.group(1)) >= max(8, o.get("frames_sent", 0)),
         "/metrics counts the frames sent, as /api/state did before (%s, %s)" % (sent and sent.group(1),
                                                                                 o.get("frames_sent")))


def test_limits(c, env):
    print("== the limits against /api/state")
    inv, port, d = env["inv"], env["http"], env["d"]
    a = ask(inv, d)
    api = api_state(port)
    lim = (((api.get("packs") or [{}])[0]) if d.members == 1 else api.get("bank") or {}).get("limits") or {}
    if not c.ok(a is not None and lim.get("cvl_v"), "an answer and the source's limits (%s)" % lim):
        return
    v = d.limits(a)
    c.eq(round(v["cvl"] * 10), int(lim["cvl_v"] * 10 + 0.01), "CVL = the limits' CVL, 0.1 V down (%s)" % v["cvl"])
    c.ok(abs(v["dvl"] - lim["dvl_v"]) < 0.11 and v["dvl"] >= lim["dvl_v"] - 1e-6,
         "DVL = the limits' DVL, 0.1 V up (%s; %s)" % (v["dvl"], lim["dvl_v"]))
    c.eq(round(v["ccl"] * 10), int(lim["ccl_a"] * 10 + 0.01) if lim["charge_allowed"] else 0,
         "CCL (%s; /api/state %s)" % (v["ccl"], lim["ccl_a"]))
    c.eq(round(v["dcl"] * 10), int(lim["dcl_a"] * 10 + 0.01) if lim["discharge_allowed"] else 0,
         "DCL (%s; /api/state %s)" % (v["dcl"], lim["dcl_a"]))
    c.ok(v["ccl"] > 0 and v["dcl"] > 0, "real current limits (%s A, %s A)" % (v["ccl"], v["dcl"]))
    o = inverter_output(port, "hv") or {}
    c.ok(abs(o.get("sent_ccl_a", -1) - v["ccl"]) < 0.05 and abs(o.get("sent_dcl_a", -1) - v["dcl"]) < 0.05,
         "/api/state's sent_ccl_a, sent_dcl_a are what the inverter read (%s, %s)"
         % (o.get("sent_ccl_a"), o.get("sent_dcl_a")))


def ctl_batch(sim, lines):
    """Several commands to the simulator in one read of its control port,
    so that no poll sees a pack half changed (a pack whose voltage and
    cells disagree is implausible, and stale after stale_after)."""
    with socket.create_connection(("127.0.0.1", sim.ctl_port), timeout=5) as s:
        s.sendall("".join(line + "\n" for line in lines).encode())
        buf = b""
        while buf.count(b"\n") < len(lines):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    return buf.decode(errors="replace").splitlines()


def pin_low(sim, d, mv):
    """Every cell of the source pinned at mv ("auto": free again), a pack
    at a time; under LFP's 2.4 V the packs' SOC set to 2 % too (a BMS that
    counts a pack out says so; at 5 % or more bmsgw takes such cells for
    another chemistry and stops)."""
    for k in range(1, d.members + 1):
        lines = ["set %d cell %d %s" % (k, i, mv) for i in range(1, CELLS + 1)]
        if mv == "auto":
            lines.append("set %d soc 57.5" % k)
        elif mv < 2400:
            lines.insert(0, "set %d soc 2" % k)
        ctl_batch(sim, lines)


def test_range(c, env):
    print("== the source outside its window: no answer")
    inv, port, sim, gw, d = env["inv"], env["http"], env["sim"], env["gw"], env["d"]
    lo, hi = d.window
    n = CELLS * d.members
    mv = int((lo - 1.6) / n * 1000)  # 32 x 2.45 V = 78.4 V; 64 x 1.662 V = 106.4 V
    pin_low(sim, d, mv)
    c.ok(wait_until(state_is(port, "out_of_range"), 10), "state out_of_range at %d x %.3f V" % (n, mv / 1000))
    # what the output sent before its state changed may still be on the way (the reader stamps a frame
    # when it arrives): silent once nothing came for longer than its period
    quiet = (d.period if d.periodic else 0) + 1.0
    c.ok(wait_until(lambda: not inv.since(time.monotonic() - quiet), 10 + quiet),
         "out of range: nothing sent for %.1f s" % quiet)
    t0 = time.monotonic()
    for _ in range(4):
        inv.poll()
        time.sleep(0.3)
    time.sleep(0.5)
    c.eq(len(inv.since(t0)), 0, "out of range: no answer to 4 requests")
    pin_low(sim, d, "auto")
    c.ok(wait_until(state_is(port, "sending"), 10), "sending again inside the range")
    a = ask(inv, d)
    c.ok(a is not None and d.values(a)["voltage"] >= lo, "answered again (%s)" % (a and d.values(a)["voltage"]))
    log, src = gw.text(), source(d)
    c.eq(len(re.findall(r"inverter hv: source %s measures [0-9.]+ V, outside %s's %g-%g V" % (src, d.name, lo, hi),
                        log)), 1, "out of range said once")
    c.eq(len(re.findall(r"inverter hv: source %s measures [0-9.]+ V, inside %s's %g-%g V again" % (src, d.name, lo,
                                                                                                 hi), log)),
         1, "back inside said once")


def test_stale(c, env):
    print("== the pack goes stale: zero limits, then no answer, then answers again")
    inv, port, sim, gw, d = env["inv"], env["http"], env["sim"], env["gw"], env["d"]
    since = len(gw.text())  # (a poll seen half changed by an earlier test made the source stale for a poll)
    before = ask(inv, d)
    inv.period = 0.5  # the inverter asks on its own from here
    t_fault = time.monotonic()
    sim.ctl("fault 1 silent")
    c.ok(wait_until(state_is(port, "failsafe"), 10), "state failsafe once the pack is stale")
    if d.periodic:
        o = inverter_output(port, "hv") or {}
        c.ok(o.get("early_sets", 0) >= 1, "the fail-safe set sent at once, out of turn (early_sets %s)"
             % o.get("early_sets"))
    c.ok(wait_until(state_is(port, "silent"), SILENCE + 10), "silent after failsafe_silence")
    # the newest answer since the fault is the last before the silence, which
    # follows the fail-safe answers: read after the silence, whenever the
    # test saw the fail-safe state (failsafe_silence is 3 s)
    a = d.answer(inv.since(t_fault))
    if c.ok(a is not None and before is not None, "answers go on while fail-safe"):
        v, w = d.limits(a), d.limits(before)
        c.eq((v["ccl"], v["dcl"]), (0, 0), "fail-safe: CCL = DCL = 0")
        c.eq((v["cvl"], v["dvl"]), (w["cvl"], w["dvl"]), "the cut-off voltages are kept (never 0)")
        for what, ok in d.stale_marks(a):
            c.ok(ok, "fail-safe: " + what)
    heard, (n0, n1), asked, _ = inv.silent(lambda: frames_sent(port, "hv"), period=d.period if d.periodic else 0.0)
    c.ok(asked >= 4 and not heard and n0 is not None and n1 == n0,
         "silent: no answer to %d requests (%d frames heard; frames_sent %s, then %s)" % (asked, heard, n0, n1))
    sim.ctl("fault 1 none")
    c.ok(wait_until(state_is(port, "sending"), 15), "sending again once the pack answers")
    t_back = time.monotonic()
    a = wait_until(lambda: (lambda x: x if x and d.limits(x)["ccl"] > 0 else None)(d.answer(inv.since(t_back))), 15)
    c.ok(a is not None, "answers again, the current limits back after recovery_hold")
    inv.period = None
    time.sleep(0.6)
    log = gw.text()[since:]
    src = source(d)
    for what, pat in (("stale", r"inverter hv: source %s is stale" % src), ("silent", r"inverter hv: silent"),
                      ("back", r"inverter hv: source %s fresh again" % src)):
        c.eq(len(re.findall(pat, log)), 1, "the %s transition logged once" % what)


def test_periodic(c, env, seconds=6.0):
    """A periodic dialect: its sets on their own (the inverter quiet), as
    many as the period gives in the window, give or take two; the status."""
    print("== the sets on their own schedule")
    inv, d = env["inv"], env["d"]
    for _ in range(3):
        inv.poll()
        time.sleep(0.1)
    t0 = time.monotonic()
    time.sleep(seconds)
    sets = d.sets(inv.since(t0))
    want = int(seconds / d.period)
    c.ok(want - 2 <= len(sets) <= want + 2, "%d whole sets in %g s (every %g s: %d, give or take two)"
         % (len(sets), seconds, d.period, want))
    check_status(c, env, 3)


def check(path):
    return subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", path, "--check"], capture_output=True, text=True)


def variant(env, name, old, new):
    with open(env["gw"].conf) as f:
        text = f.read()
    path = env["gw"].conf + "." + name
    with open(path, "w") as w:
        w.write(text.replace(old, new) if old else text + new)
    return check(path)


def test_check(c, env):
    print("== --check")
    d = env["d"]
    lo, hi = d.window
    out = check(env["gw"].conf)
    n = CELLS * d.members
    c.eq(out.returncode, 0, "--check accepts the test's configuration")
    c.ok(re.search(r"(?m)^\s+hv: %s on slcan .*source range %s-%s V within %g-%g V" % (
        d.name, re.escape("%.1f" % (n * 2.5)), re.escape("%.1f" % (n * 3.65)), lo, hi), out.stdout) is not None,
        "--check lists it with both ranges")
    out = variant(env, "cells16", "cells = %d\n" % CELLS, "cells = 16\n")
    c.ok(out.returncode != 0 and "[inverter.hv] source: %s runs %.1f-%.1f V" % (source(d), n * 1.25, n * 1.825)
         in out.stderr and "%s's %g-%g V" % (d.name, lo, hi) in out.stderr,
         "a source of half the cells refused, both ranges named (%s)" % out.stderr.strip()[-160:])
    for key in ("interval = 1\n", "extras = none\n"):
        out = variant(env, key.split()[0], None, key)
        c.ok(out.returncode != 0 and "protocol %s takes no %s key" % (d.name, key.split()[0]) in out.stderr,
             "%s refused (%s)" % (key.strip(), out.stderr.strip()[-140:]))
    if d.example:
        out = check(os.path.join(ROOT, "conf", d.example))
        c.eq(out.returncode, 0, "conf/%s passes --check (%s)" % (d.example, out.stderr.strip()[-120:]))


def strings_conf(d, gw_port, http_port, sim_port, pty, extra=""):
    packs = "".join("""[pack.%s]
protocol = daly
port = tcp://127.0.0.1:%d
address = %d
cells = 32
poll_interval = 1
timeout = 1
retries = 1
""" % (n, sim_port, k + 1) for k, n in enumerate("abcd"))
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 6
state_file = none
%s[bank]
strings = a+b, c+d
[limits]
recovery_hold = 1
recovery_rate = 100
bank_stale = block
[http]
listen = 127.0.0.1:%d
[history]
file = none
[inverter.hv]
protocol = %s
port = slcan://%s
source = bank
failsafe_silence = 60
%s""" % (gw_port, packs, http_port, d.name, pty, extra)


def test_strings(c, tmp, d, more=None, extra=""):
    """A bank of two strings of two 32-cell packs as the source; more(c,
    inv, http_port), when given, checks the dialect's own fields of a
    string; extra, more keys of the [inverter.hv] section."""
    print("== a bank of two strings of two packs as the source")
    pty_a, pty_b = pty_pair(tmp, "hvs")
    sim = Sim(packs=tuple("address=%d,cells=32,sensors=2,soc=57.5,current=-12.34" % (k + 1) for k in range(4)))
    gw_port, http_port = free_port(), free_port()
    inv = Inverter(pty_b, d)
    gw = Gateway(strings_conf(d, gw_port, http_port, sim.port, pty_a, extra), gw_port)
    try:
        c.ok(wait_until(state_is(http_port, "sending"), 15), "strings: state sending")
        c.ok(wait_until(lambda: (lambda b: len(b) == 2 and all(x.get("online") for x in b))(
            (api_state(http_port).get("bank") or {}).get("strings") or []), 15), "both strings online")
        # the limits rise by the recovery rules after the start, and a member that misses its polls on
        # a loaded machine takes its string out and back: an answer and /api/state (read just after
        # it) agree once they are steady (an answer is asked again until then, for at most 15 s)
        t_end = time.monotonic() + 15
        while True:
            a = ask(inv, d)
            bank = api_state(http_port).get("bank") or {}
            lim = bank.get("limits") or {}
            w = d.limits(a) if a is not None else None
            cur = d.values(a)["current"] if a is not None else None
            if (w is not None and lim.get("cvl_v") and round(w["ccl"] * 10) == int(lim["ccl_a"] * 10 + 0.01) and
                    round(w["dcl"] * 10) == int(lim["dcl_a"] * 10 + 0.01) and
                    abs(cur - (bank.get("current") or 0)) < 0.15) or time.monotonic() > t_end:
                break
        if c.ok(a is not None and lim.get("cvl_v"), "an answer and the bank's limits (%s)" % lim):
            v, w = d.values(a), d.limits(a)
            c.ok(160 <= v["voltage"] <= 233.6 and abs(v["voltage"] - bank["voltage"]) < 0.15,
                 "voltage = the bank's over strings (%s V; /api/state %s)" % (v["voltage"], bank["voltage"]))
            c.ok(abs(v["current"] - bank["current"]) < 0.15 and v["current"] < -20,
                 "current = the two strings' sum, + = charging (%s A; %s)" % (v["current"], bank["current"]))
            c.eq(round(w["cvl"] * 10), int(lim["cvl_v"] * 10 + 0.01), "CVL = the bank's, a string's sum (%s)"
                 % w["cvl"])
            c.eq(round(w["ccl"] * 10), int(lim["ccl_a"] * 10 + 0.01), "CCL = the bank's (%s)" % w["ccl"])
            c.eq(round(w["dcl"] * 10), int(lim["dcl_a"] * 10 + 0.01), "DCL = the bank's (%s)" % w["dcl"])
        if more:
            more(c, inv, http_port)
        inv.period = 0.5
        sim.ctl("set 3 cell 5 3600")  # a member of string 2 over its cell limit
        t0 = time.monotonic()
        a = wait_until(lambda: (lambda x: x if x and d.limits(x)["ccl"] == 0 else None)(d.answer(inv.since(t0))), 10)
        c.ok(a is not None, "a member's cell over-voltage: CCL 0 in an answer within %.1f s" % (time.monotonic() - t0))
        sim.ctl("set 3 cell 5 auto")
        t1 = time.monotonic()
        c.ok(wait_until(lambda: (lambda x: x and d.limits(x)["ccl"] > 0)(d.answer(inv.since(t1))), 15),
             "the charge current back once it is down")
        sim.ctl("fault 4 silent")  # a member of string 2 stale
        t2 = time.monotonic()
        a = wait_until(lambda: (lambda x: x if x and d.limits(x)["ccl"] == 0 and d.limits(x)["dcl"] == 0 else None)(
            d.answer(inv.since(t2))), 12)
        c.ok(a is not None and d.limits(a)["cvl"] > 0, "a stale member: the answers fail-safe, the CVL kept")
        sim.ctl("fault 4 none")
        t3 = time.monotonic()
        c.ok(wait_until(lambda: (lambda x: x and d.limits(x)["dcl"] > 0)(d.answer(inv.since(t3))), 20),
             "the discharge current back once it answers")
        inv.period = None
        c.ok(gw.alive() and "runtime error" not in gw.text() and "AddressSanitizer" not in gw.text(),
             "strings: the daemon ran through it, sanitizers quiet")
    finally:
        if c.failed:
            gw.dump(60)
        gw.stop()
        sim.stop()
        inv.close()
