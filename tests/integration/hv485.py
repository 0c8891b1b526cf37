# SPDX-License-Identifier: MIT
"""What the tests of the high-voltage RS485 dialects share
(test_inverter_byd_hvm.py, test_inverter_kostal.py): the real bmsgw with a
simulated 32-cell Daly pack (an HV-range source, 32 LFP cells: 80.0-116.8 V)
and one [inverter.hv] on a socat pty pair, the test playing the inverter:
the master that polls, written in each test from the document (a `Dialect`
below: a real Modbus RTU master, pymodbus's, for byd-hvm-modbus; a Kostal
master of the test's own for kostal-rs485); and the checks every such
dialect must pass:

- test_line: the port opened at the dialect's baud rate (the pty's termios,
  read with stty);
- test_waiting: no answer at all before the source's first data, however
  often the inverter asks (state waiting); the first answer carries a real
  CVL and SOC;
- test_counters: the requests, the answers, "inverter seen" in /api/state
  and /metrics;
- test_foreign: no answer to another device's request, a bad checksum, a
  broken frame (each counted); the next good request answered;
- test_limits: the limits the answer carries against those /api/state
  shows (the dialect's own comparison: a power in W, a float in A);
- test_range: the source outside the protocol's window (its cells pinned
  at 2.45 V: 78.4 V): no answer (state out_of_range), said once each way;
- test_stale: the pack stale: the next answer has no current either way
  (and the dialect's own stale marks), the charge voltage kept; after
  failsafe_silence no answer at all; answers again once fresh, the current
  limits back after recovery_hold; each transition logged once;
- test_check: --check accepts the configuration (its line: the port at the
  baud rate, how it answers, both ranges) and the dialect's example,
  refuses a 16-cell source naming both ranges, interval and extras;
- test_strings: a bank of two strings of two 32-cell packs: the answer's
  voltage, current and limits are the bank's; a member's cell over-voltage
  puts CCL 0 in the next answers; a stale member (bank_stale = block) makes
  them fail-safe; back when it answers again.
"""
import os
import re
import subprocess
import time
import urllib.request

from harness import BIN, ROOT, Gateway, Sim, api_state, free_port, inverter_output, pty_pair, wait_until

CELLS = 32
PACK = "address=1,cells=%d,sensors=2,soc=57.5,current=-12.34" % CELLS
SILENCE = 3


class Dialect:
    """A dialect as its test reads it; the test's subclass fills these in
    from the document (never from bmsgw's code)."""
    name = ""            # protocol = name
    window = (80, 1000)  # --check's voltage window
    baud = 9600          # its default line speed
    example = ""         # conf/*.ini that --check accepts

    def open(self, path):
        """The inverter's master on the test's end of the pty pair."""
        raise NotImplementedError

    def ask(self, m, timeout=1.0):
        """The inverter's regular request; its answer decoded ({"voltage",
        "current", "soc", "cvl", "ccl", "dcl" in V, A, % and the dialect's
        own}), or None when none came."""
        raise NotImplementedError

    def foreign(self):
        """[(what, bytes)]: frames on the line that must get no answer (another
        device's, a bad checksum, a broken one); each counted by the output
        as bad_checksum when its what says "checksum"."""
        raise NotImplementedError

    def raw(self, m, frame, timeout=0.8):
        """frame written as it is; the bytes that came back (b"" for none)."""
        raise NotImplementedError

    def check_limits(self, c, ans, lim):
        """The answer's limits against /api/state's `lim` of its source."""
        raise NotImplementedError

    def stale_marks(self, ans):
        """[(what, ok)]: the dialect's own marks of a stale source in an answer."""
        return []


def conf(d, gw_port, http_port, sim_port, pty, extra=""):
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 2
state_file = none
[pack.p1]
protocol = daly
port = tcp://127.0.0.1:%d
address = 1
cells = %d
poll_interval = 0.3
timeout = 0.4
retries = 0
[limits]
recovery_hold = 1
recovery_rate = 100
[http]
listen = 127.0.0.1:%d
[history]
file = none
[inverter.hv]
protocol = %s
port = %s
source = p1
failsafe_silence = %d
%s""" % (gw_port, sim_port, CELLS, http_port, d.name, pty, SILENCE, extra)


def start(c, d, tmp, extra=""):
    """The environment of one dialect's test: the simulator (its pack
    silent: the output waits), the gateway, the inverter's master."""
    pty_a, pty_b = pty_pair(tmp, "hv")
    sim = Sim(packs=(PACK,))
    sim.ctl("fault 1 silent")
    gw_port, http_port = free_port(), free_port()
    env = {"sim": sim, "http": http_port, "d": d, "pty": pty_a}
    env["gw"] = Gateway(conf(d, gw_port, http_port, sim.port, pty_a, extra), gw_port)
    env["m"] = d.open(pty_b)
    return env


def stop(c, env):
    gw = env["gw"]
    c.ok(gw.alive() and "runtime error" not in gw.text() and "AddressSanitizer" not in gw.text(),
         "the daemon ran through it, sanitizers quiet")
    if c.failed:
        gw.dump(60)
    gw.stop()
    env["sim"].stop()
    env["m"].close()


def state_is(port, want, name="hv"):
    return lambda: (lambda x: x if x and x["state"] == want else None)(inverter_output(port, name))


def ask_until(env, pred, timeout):
    """Ask until an answer satisfies pred (the inverter polls on)."""
    d, m = env["d"], env["m"]
    return wait_until(lambda: (lambda a: a if a is not None and pred(a) else None)(d.ask(m)), timeout, 0.2)


def test_line(c, env):
    print("== the line")
    d = env["d"]
    port = env["gw"].port

    def speed():
        r = subprocess.run(["stty", "-F", env["pty"], "speed"], capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() == str(d.baud) else None
    got = wait_until(speed, 10)
    c.ok(got is not None, "%s: the port opened at %d baud (stty: %s)" % (d.name, d.baud, got))
    c.ok(port > 0, "the gateway up")


def test_waiting(c, env):
    print("== nothing before the first data, even when asked")
    m, port, sim, d = env["m"], env["http"], env["sim"], env["d"]
    c.ok(wait_until(state_is(port, "waiting"), 10), "%s: state waiting while the pack never answered" % d.name)
    got = [d.ask(m, 0.4) for _ in range(6)]
    c.eq(sum(a is not None for a in got), 0, "before any data: no answer to 6 requests")
    o = inverter_output(port, "hv") or {}
    c.ok(o.get("requests", 0) >= 6 and o.get("unanswered", 0) >= 6,
         "the requests counted, unanswered (%s, %s)" % (o.get("requests"), o.get("unanswered")))
    sim.ctl("fault 1 none")
    c.ok(wait_until(state_is(port, "sending"), 10), "state sending once the pack answers")
    a = ask_until(env, lambda a: True, 5)
    c.ok(a is not None and a["cvl"] >= 80 and a["soc"] > 0, "the first answer carries a real CVL and SOC (%s)" % a)


def test_counters(c, env):
    print("== the output's counters")
    m, port, d = env["m"], env["http"], env["d"]
    before = inverter_output(port, "hv") or {}
    for _ in range(3):
        d.ask(m)
    o = inverter_output(port, "hv") or {}
    c.ok(o.get("answers_sent", 0) >= before.get("answers_sent", 0) + 3 and o.get("inverter_seen") is True and
         o.get("state") == "sending", "/api/state: answers_sent %s, inverter_seen" % o.get("answers_sent"))
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        text = r.read().decode()
    c.ok(re.search(r'bmsgw_inverter_state\{inverter="hv",state="sending"\} 1', text) is not None and
         re.search(r'bmsgw_inverter_seen\{inverter="hv",protocol="%s"\} 1' % d.name, text) is not None,
         "/metrics: state sending, the inverter seen")
    sent = re.search(r'bmsgw_inverter_sent_total\{inverter="hv",protocol="%s"\} (\d+)' % d.name, text)
    c.ok(sent is not None and int(sent.group(1)) >= o.get("answers_sent", 0),
         "/metrics counts the answers (%s)" % (sent and sent.group(1)))


def test_foreign(c, env):
    print("== what gets no answer")
    m, port, d = env["m"], env["http"], env["d"]
    before = (inverter_output(port, "hv") or {}).get("bad_checksum", 0)
    sums = 0
    for what, frame in d.foreign():
        got = d.raw(m, frame)
        c.eq(got, b"", "%s: no answer (%r)" % (what, got))
        sums += "checksum" in what
        c.ok(d.ask(m) is not None, "... and the next good request is answered")
    after = (inverter_output(port, "hv") or {}).get("bad_checksum", 0)
    c.ok(after >= before + sums, "the bad checksums counted (%s, was %s)" % (after, before))


def fresh_answer(env, timeout=15):
    """An answer and the pack's limits, taken while the pack was online
    before the request and after it, the answer without the dialect's marks
    of a stale source: (answer, limits), or the last try.  A loaded machine
    may let the pack (stale_after 2 s) go stale for a moment, when the
    answer rightly says so; the pair is then taken again."""
    m, port, d = env["m"], env["http"], env["d"]
    end = time.monotonic() + timeout
    a, lim = None, {}

    def online():
        pk = (api_state(port).get("packs") or [{}])[0]
        return pk.get("online") and pk.get("limits") or None
    while time.monotonic() < end:
        if not wait_until(online, max(0.1, end - time.monotonic())):
            break
        a = d.ask(m)
        lim = online()
        marks = d.stale_marks(a) if a is not None else []
        if a is not None and lim and not (marks and all(ok for _w, ok in marks)):
            return a, lim
    return a, lim or {}


def test_limits(c, env):
    print("== the limits against /api/state")
    port, d = env["http"], env["d"]
    a, lim = fresh_answer(env)
    if not c.ok(a is not None and lim.get("cvl_v"), "an answer and the pack's limits (%s)" % lim):
        return
    d.check_limits(c, a, lim)
    c.ok(a["ccl"] > 0 and a["dcl"] > 0, "real current limits (%s A, %s A)" % (a["ccl"], a["dcl"]))
    o = inverter_output(port, "hv") or {}
    c.ok(abs(o.get("sent_ccl_a", -1) - a["ccl"]) < 0.05 and abs(o.get("sent_dcl_a", -1) - a["dcl"]) < 0.05,
         "/api/state's sent_ccl_a, sent_dcl_a are what the inverter read (%s, %s)"
         % (o.get("sent_ccl_a"), o.get("sent_dcl_a")))


def test_range(c, env):
    print("== the source outside its window: no answer")
    m, port, sim, gw, d = env["m"], env["http"], env["sim"], env["gw"], env["d"]
    lo, hi = d.window
    for i in range(1, CELLS + 1):
        sim.ctl("set 1 cell %d 2450" % i)  # 32 x 2.45 V = 78.4 V
    c.ok(wait_until(state_is(port, "out_of_range"), 10), "state out_of_range at 78.4 V")
    c.eq(sum(d.ask(m, 0.4) is not None for _ in range(4)), 0, "out of range: no answer to 4 requests")
    for i in range(1, CELLS + 1):
        sim.ctl("set 1 cell %d auto" % i)
    c.ok(wait_until(state_is(port, "sending"), 10), "sending again inside the range")
    a = ask_until(env, lambda a: True, 5)
    c.ok(a is not None and a["voltage"] >= lo, "answered again (%s)" % (a and a["voltage"]))
    log = gw.text()
    c.eq(len(re.findall(r"inverter hv: source p1 measures [0-9.]+ V, outside %s's %g-%g V" % (d.name, lo, hi), log)),
         1, "out of range said once")
    c.eq(len(re.findall(r"inverter hv: source p1 measures [0-9.]+ V, inside %s's %g-%g V again" % (d.name, lo, hi),
                        log)), 1, "back inside said once")


def test_stale(c, env):
    print("== the pack goes stale: zero limits, then no answer, then answers again")
    m, port, sim, gw, d = env["m"], env["http"], env["sim"], env["gw"], env["d"]
    before = ask_until(env, lambda a: True, 5)
    sim.ctl("fault 1 silent")
    # the inverter polls on, the output's state read between two requests,
    # until it is silent: an answer to a request sent once the state was
    # failsafe is a fail-safe answer (failsafe_silence is 3 s: several tries)
    seen, fail_safe = set(), []
    deadline = time.monotonic() + 20 + SILENCE
    while time.monotonic() < deadline:
        seen.add((inverter_output(port, "hv") or {}).get("state"))
        if "silent" in seen:
            break
        a = d.ask(m, 0.5)
        if a is not None and "failsafe" in seen:
            fail_safe.append(a)
    c.ok("failsafe" in seen, "state failsafe once the pack is stale (%s)" % sorted(map(str, seen)))
    a = fail_safe[0] if fail_safe else None
    if c.ok(a is not None and before is not None, "answers go on while fail-safe (%d)" % len(fail_safe)):
        c.eq((a["ccl"], a["dcl"]), (0, 0), "fail-safe: no current either way")
        c.eq(a["cvl"], before["cvl"], "the charge voltage is kept (never 0)")
        for what, ok in d.stale_marks(a):
            c.ok(ok, "fail-safe: " + what)
    c.ok(wait_until(state_is(port, "silent"), SILENCE + 10), "silent after failsafe_silence")
    c.eq(sum(d.ask(m, 0.5) is not None for _ in range(4)), 0, "silent: no answer to 4 requests")
    sim.ctl("fault 1 none")
    c.ok(wait_until(state_is(port, "sending"), 15), "sending again once the pack answers")
    c.ok(ask_until(env, lambda a: a["ccl"] > 0, 15) is not None, "answers again, the current limits back after "
         "recovery_hold")
    log = gw.text()
    for what, pat in (("stale", r"inverter hv: source p1 is stale"), ("silent", r"inverter hv: silent"),
                      ("back", r"inverter hv: source p1 fresh again")):
        c.eq(len(re.findall(pat, log)), 1, "the %s transition logged once" % what)


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
    c.eq(out.returncode, 0, "--check accepts the test's configuration")
    line = re.search(r"(?m)^\s+hv: %s on (\S+) @ (\d+) 8N1, source pack p1, answers (.*)$" % d.name, out.stdout)
    c.ok(line is not None and line.group(1) == env["pty"] and int(line.group(2)) == d.baud and
         "source range 80.0-116.8 V within %g-%g V" % (lo, hi) in line.group(3),
         "--check lists it with its line, its speed and both ranges (%s)" % (line and line.group(0).strip()))
    out = variant(env, "cells16", "cells = %d\n" % CELLS, "cells = 16\n")
    c.ok(out.returncode != 0 and "[inverter.hv] source: p1 runs 40.0-58.4 V" in out.stderr
         and "%s's %g-%g V" % (d.name, lo, hi) in out.stderr, "a 16-cell source refused, both ranges named (%s)"
         % out.stderr.strip()[-160:])
    for key in ("interval = 1\n", "extras = none\n"):
        out = variant(env, key.split()[0], None, key)
        c.ok(out.returncode != 0 and ("[inverter.hv] %s: is for the CAN protocols" % key.split()[0]) in out.stderr,
             "%s refused (%s)" % (key.strip(), out.stderr.strip()[-140:]))
    if d.example:
        out = check(os.path.join(ROOT, "conf", d.example))
        c.eq(out.returncode, 0, "conf/%s passes --check (%s)" % (d.example, out.stderr.strip()[-120:]))


def strings_conf(d, gw_port, http_port, sim_port, pty):
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
port = %s
source = bank
failsafe_silence = 60
""" % (gw_port, packs, http_port, d.name, pty)


def test_strings(c, tmp, d, more=None):
    """A bank of two strings of two 32-cell packs as the source; more(c, env),
    when given, checks the dialect's own fields of a string."""
    print("== a bank of two strings of two packs as the source")
    pty_a, pty_b = pty_pair(tmp, "hvs")
    sim = Sim(packs=tuple("address=%d,cells=32,sensors=2,soc=57.5,current=-12.34" % (k + 1) for k in range(4)))
    gw_port, http_port = free_port(), free_port()
    gw = Gateway(strings_conf(d, gw_port, http_port, sim.port, pty_a), gw_port)
    env = {"d": d, "m": d.open(pty_b), "http": http_port}
    try:
        c.ok(wait_until(state_is(http_port, "sending"), 15), "strings: state sending")
        c.ok(wait_until(lambda: (lambda b: len(b) == 2 and all(x.get("online") for x in b))(
            (api_state(http_port).get("bank") or {}).get("strings") or []), 15), "both strings online")
        a = d.ask(env["m"])
        bank = api_state(http_port).get("bank") or {}
        lim = bank.get("limits") or {}
        if c.ok(a is not None and lim.get("cvl_v"), "an answer and the bank's limits (%s)" % lim):
            c.ok(160 <= a["voltage"] <= 233.6 and abs(a["voltage"] - bank["voltage"]) < 0.15,
                 "voltage = the bank's over strings (%s V; /api/state %s)" % (a["voltage"], bank["voltage"]))
            c.ok(abs(a["current"] - bank["current"]) < 0.15 and a["current"] < -20,
                 "current = the two strings' sum, + = charging (%s A; %s)" % (a["current"], bank["current"]))
            d.check_limits(c, a, lim)
        if more:
            more(c, env)
        sim.ctl("set 3 cell 5 3600")  # a member of string 2 over its cell limit
        c.ok(ask_until(env, lambda x: x["ccl"] == 0, 10) is not None, "a member's cell over-voltage: CCL 0")
        sim.ctl("set 3 cell 5 auto")
        c.ok(ask_until(env, lambda x: x["ccl"] > 0, 15) is not None, "the charge current back once it is down")
        sim.ctl("fault 4 silent")  # a member of string 2 stale
        a = ask_until(env, lambda x: x["ccl"] == 0 and x["dcl"] == 0, 12)
        c.ok(a is not None and a["cvl"] > 0, "a stale member: the answers fail-safe, the CVL kept")
        sim.ctl("fault 4 none")
        c.ok(ask_until(env, lambda x: x["dcl"] > 0, 20) is not None, "the discharge current back once it answers")
        c.ok(gw.alive() and "runtime error" not in gw.text() and "AddressSanitizer" not in gw.text(),
             "strings: the daemon ran through it, sanitizers quiet")
    finally:
        if c.failed:
            gw.dump(60)
        gw.stop()
        sim.stop()
        env["m"].close()
