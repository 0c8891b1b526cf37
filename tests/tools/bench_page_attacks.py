#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench: the HTTPS status page under the three attacks of issue 62
item 7, timed (tests/integration/test_page_attacks.py checks that each is
answered; the times are here).  A gateway with [http] tls_cert and
users_file, the default max_clients (32):

  abandoned  ABANDON guesses from one address whose clients give up after
             0.5 s, then a new connection from that address: what it gets,
             and when;
  idle       five addresses holding 8 idle TLS connections each (opened
             again as soon as the server closes one), then page loads (a new
             connection, GET / with a login remembered) from a sixth
             address one after the other for SECONDS: how many are
             answered, each one's time, bmsgw's CPU meanwhile;
  rotation   GUESSERS threads guessing four likely names, each request from
             the next of 200 addresses; a real user's first login (a name
             never checked, so never remembered) from a new address 1 s into
             the attack (before the guessed names' first checks have ended),
             then four more, one every 3 s, in its steady state: each one's
             time, bmsgw's CPU meanwhile.

`bench_page_attacks.py [SECONDS] [PHASE...]`; GUESSERS (default 48),
ABANDON (default 16).  Figures, not assertions."""
import os
import re
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import page_clients  # noqa: E402
from harness import wait_until  # noqa: E402
from page_clients import Guessers, IdleHolders, abandon, fetch  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1][0].isdigit() else 10.0
PHASES = [a for a in sys.argv[1:] if not a[0].isdigit()] or ["abandoned", "idle", "rotation"]
GUESSERS = int(os.environ.get("GUESSERS", "48"))
ABANDON = int(os.environ.get("ABANDON", "16"))
PW = "correct horse battery"
REAL = ["carol", "dave", "erin", "frank"]
EARLY = "gina"


def cpu(gw):
    """bmsgw's CPU seconds so far (user and system)."""
    with open("/proc/%d/stat" % gw.p.pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(tmp):
    return page_clients.start(tmp, [("ada", "admin")] + [(n, "read") for n in REAL + [EARLY]], PW,
                              log_level="warn")


def abandoned(port):
    got = [abandon(port, "127.0.0.2", ("ada", "guess%d" % i)) for i in range(ABANDON)]
    n = sum(1 for g in got if g == 0)
    refused = sum(1 for g in got if g is None)
    a = fetch(port, "127.0.0.2", login=("ada", PW), timeout=60)
    print("  abandoned: %d guesses from 127.0.0.2 (%d held past 0.5 s, %d refused a connection), then a new "
          "connection from it with the right password: %s%s" % (ABANDON, n, refused, a, " Retry-After %s"
                                                                % a.headers["retry-after"]
                                                                if "retry-after" in a.headers else ""))


def idle(port, gw):
    h = IdleHolders(port, ["127.0.0.%d" % i for i in range(2, 7)], 8).start()
    wait_until(lambda: h.open >= 28, 20)
    time.sleep(1.0)  # (the holders settle: the attack's steady state)
    times, fails = [], []
    c0, t0 = cpu(gw), time.monotonic()
    end = time.monotonic() + SECONDS
    while time.monotonic() < end:
        a = fetch(port, "127.0.0.9", "/", login=("ada", PW), timeout=30)
        (times if a.status == 200 else fails).append(a.seconds if a.status == 200 else a)
    opened, held = h.opened, h.open
    load = (cpu(gw) - c0) / (time.monotonic() - t0)
    h.stop()
    q = sorted(times)
    print("  idle: 5 addresses x 8 idle TLS connections (%d held at the end, %d handshakes in all); page loads "
          "from a sixth address in %.0f s: %d answered, %d not %s; each: median %.3f s, p90 %.3f s, max %.3f s; "
          "bmsgw's CPU %.0f %%" % (held, opened, SECONDS, len(times), len(fails), fails[:3],
                                   statistics.median(q) if q else 0, q[int(len(q) * 0.9)] if q else 0,
                                   q[-1] if q else 0, load * 100))


def rotation(port, gw):
    g = Guessers(port, ["admin", "root", "user", "bmsgw"], n=GUESSERS).start()
    time.sleep(1.0)  # (into the attack: its first checks under way)
    early = fetch(port, "127.0.3.9", login=(EARLY, PW), timeout=60)
    time.sleep(max(5.0, SECONDS / 2))  # (into the attack: its steady state)
    c0, t0 = cpu(gw), time.monotonic()
    got = []
    for i, name in enumerate(REAL):
        got.append(fetch(port, "127.0.3.%d" % (i + 1), login=(name, PW), timeout=60))
        time.sleep(3)  # (a user every 3 s)
    load = (cpu(gw) - c0) / (time.monotonic() - t0)
    g.stop()
    checked = len(re.findall(r"login refused", gw.text()))
    print("  rotation: %d threads guessing 4 names from 200 addresses (answers %s, %d passwords refused in "
          "all; bmsgw's CPU %.0f %%); a real user's first login 1 s into it: %r; four more in its steady state: %s"
          % (GUESSERS, dict(sorted(g.stats.items(), key=str)), checked, load * 100, early,
             ", ".join(repr(a) for a in got)))


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-bench-attacks-")
    print("== the HTTPS page under attack (%s)" % ", ".join(PHASES))
    for ph in PHASES:
        sim, gw, port = start(tmp)
        try:
            if ph == "abandoned":
                abandoned(port)
            elif ph == "idle":
                idle(port, gw)
            elif ph == "rotation":
                rotation(port, gw)
        finally:
            gw.stop()
            sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
