#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: parts=3
"""The HTTPS status page under three attacks (issue 62 item 7), end to end
with the real bmsgw ([http] tls_cert and users_file) and Python's ssl
clients from loopback addresses standing for other hosts
(tests/integration/page_clients.py):

1. abandoned guesses: 16 wrong logins from one address whose clients give
   up after 0.5 s (a request held in its address's login wait kept its
   connection, libmicrohttpd not watching a suspended one's socket, until
   the address's quarter of max_clients was gone and its next connection
   was refused at the handshake): a new connection from it completes its
   handshake and is answered, 429 with Retry-After while the address waits
   (nothing is held for a wait), and the right password after it is let in;
   a guess queued for its check whose client leaves is never checked (its
   connection is watched while suspended);
2. five addresses holding 8 idle TLS connections each (handshake done, no
   request, opened again as soon as one is closed) against the default
   max_clients = 32: every page load from a sixth address is answered, none
   refused, because an idle connection of the address holding the most
   gives way to it (said in the log), never the newcomer's;
3. guesses from rotating addresses, more at once than max_clients (12
   guessers against max_clients = 8, in waves: all at once twice a second,
   up to 24 guesses a second against a budget of one check a second): those
   beyond the logins' share of the connections (a quarter) are answered at
   once with Retry-After rather than held, and real users' first logins all
   succeed.
The times (each page load, each first login) are make bench's figures
(tests/tools/bench_page_attacks.py), not checks here.
Prints "N passed, N failed".
"""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import page_clients  # noqa: E402
from harness import Checks, my_part, wait_until  # noqa: E402
from page_clients import Guessers, IdleHolders, abandon, fetch  # noqa: E402

c = Checks()
TMP = tempfile.mkdtemp(prefix="bmsgw-attacks-")
PW = "correct horse battery"
REAL = ["carol", "dave", "erin", "frank"]


def start(extra=""):
    return page_clients.start(TMP, [("ada", "admin")] + [(n, "read") for n in REAL], PW, extra)


def refusals(gw, who):
    return re.findall(r'login refused for user "ada" from %s ' % re.escape(who), gw.text())


def abandoned():
    print("== 1. abandoned guesses from one address")
    sim, gw, port = start()
    try:
        for i in range(16):
            abandon(port, "127.0.0.2", ("ada", "guess%d" % i))
        a = fetch(port, "127.0.0.2", login=("ada", PW), timeout=60)
        ra = a.headers.get("retry-after", "")
        c.ok(a.status in (200, 429) and not a.failed,
             "after 16 abandoned guesses a new connection from their address completes its handshake and is "
             "answered (%r)" % a)
        c.ok(a.status != 429 or (ra.isdigit() and 1 <= int(ra) <= 30),
             "... a 429 says when to come back (Retry-After: %s)" % ra)
        last = [a]

        def let_in():
            last[0] = fetch(port, "127.0.0.2", login=("ada", PW), timeout=60)
            return last[0].status == 200
        c.ok(wait_until(let_in, 40, step=0.5), "... and the right password is let in after the wait (%r)" % last[0])
        # the guess the thread had begun when its client left is checked to
        # its end, which on a loaded machine may come after the right
        # password's answer: its refusal is waited for, not read at once
        wait_until(lambda: refusals(gw, "127.0.0.2"), 30, step=0.2)
        n_refused = len(refusals(gw, "127.0.0.2"))
        c.ok(1 <= n_refused <= 16, "the guesses checked were refused and logged (%d)" % n_refused)

        # while an address waits, a login from it is answered at once, not
        # held: three failures make 127.0.0.5 wait 4 s, each after the last
        # one's wait (429 until then)
        for k in range(3):
            c.ok(wait_until(lambda: fetch(port, "127.0.0.5", login=("ada", "wrong%d" % k)).status == 401, 30,
                            step=0.3), "(a wrong password from 127.0.0.5: 401, %d)" % (k + 1))
        w = fetch(port, "127.0.0.5", login=("ada", PW))
        ra = w.headers.get("retry-after", "")
        c.ok(w.status == 429 and ra.isdigit() and 1 <= int(ra) <= 4,
             "the right password from that address while it waits: 429 at once with Retry-After (%r, %s), "
             "not held" % (w, ra))
        c.ok(wait_until(lambda: fetch(port, "127.0.0.5", login=("ada", PW)).status == 200, 30, step=0.5),
             "... and 200 once its wait is over")

        # a guess queued for its check whose client leaves is never checked:
        # two failures of "ada" make the name wait 2 s, a guess from
        # 127.0.0.3 queued behind that wait is abandoned, then a guess from
        # 127.0.0.4 is checked after the wait (the older, abandoned one
        # would have gone first)
        for k in range(2):
            n0 = len(re.findall(r'login refused for user "ada"', gw.text()))
            st = fetch(port, "127.0.1.%d" % (k + 1), login=("ada", "name%d" % k)).status
            c.ok(st == 401 and len(re.findall(r'login refused for user "ada"', gw.text())) > n0,
                 "(a failure of the name ada from 127.0.1.%d: %s)" % (k + 1, st))
        abandon(port, "127.0.0.3", ("ada", "queued"), patience=0.3)
        st = fetch(port, "127.0.0.4", login=("ada", "after")).status
        c.ok(st == 401 and refusals(gw, "127.0.0.4"), "(a guess from 127.0.0.4 checked after the name's wait: %s)"
             % st)
        c.eq(len(refusals(gw, "127.0.0.3")), 0, "a queued guess whose client left was never checked")
        c.ok(gw.alive() and "Sanitizer" not in gw.text(), "bmsgw runs on, no sanitizer report")
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        sim.stop()


def idle():
    print("== 2. five addresses holding 8 idle TLS connections each")
    sim, gw, port = start()
    h = IdleHolders(port, ["127.0.0.%d" % i for i in range(2, 7)], 8).start()
    try:
        c.ok(wait_until(lambda: h.open >= 30, 30), "the idle connections fill the page's 32 (%d held)" % h.open)
        got = [fetch(port, "127.0.0.9", "/", login=("ada", PW), timeout=60) for _ in range(20)]
        c.ok(all(a.status == 200 for a in got), "20 page loads from a sixth address: each answered (%s)"
             % sorted(set(repr(a.status) + (" " + a.failed if a.failed else "") for a in got)))
        log = gw.text()
        gave = re.findall(r"http: full \(32 connections\): an idle connection from (\S+) gives way", log)
        c.ok(gave and all(g in ["127.0.0.%d" % i for i in range(2, 7)] for g in gave),
             "an idle connection of the holders gave way to them (logged: %s)" % sorted(set(gave)))
        c.ok("from 127.0.0.9 gives way" not in log, "... never one of the sixth address")
        c.ok(h.open >= 25, "the holders still hold theirs (%d)" % h.open)
    finally:
        h.stop()
        if c.failed:
            gw.dump(40)
        gw.stop()
        sim.stop()


def rotation():
    print("== 3. guesses from rotating addresses, more at once than max_clients")
    sim, gw, port = start("max_clients = 8\n")
    g = Guessers(port, ["admin", "root", "user", "bmsgw"], n=12, period=0.5).start()
    try:
        # under way: each guessed name was refused at least once (until
        # then a guessed name and a real user's are alike: the first ask of a
        # name never refused may be told to come back, whoever asks)
        names = ("admin", "root", "user", "bmsgw")
        # (each refusal is a password check, one at a time, of a sanitized
        # build: under the whole suite on two cores the four took 80 s once)
        c.ok(wait_until(lambda: all('login refused for user "%s"' % n in gw.text() for n in names), 240),
             "(each guessed name refused: %s)" % g.stats)
        told = g.stats.get(429, 0) + g.stats.get(503, 0)
        c.ok(told > 0 and g.no_retry == 0, "guesses beyond the logins' share of the connections are answered at once "
             "(429 or 503), each with Retry-After, not held (%s)" % g.stats)
        for i, name in enumerate(REAL):
            a = fetch(port, "127.0.3.%d" % (i + 1), login=(name, PW), timeout=60)
            c.ok(a.status == 200, "%s's first login during the guesses: 200 (%r)" % (name, a))
        c.ok(gw.alive() and "Sanitizer" not in gw.text(), "bmsgw runs on, no sanitizer report")
    finally:
        g.stop()
        print("   figures: the guesses' answers %s" % dict(sorted(g.stats.items(), key=str)))
        if c.failed:
            gw.dump(40)
        gw.stop()
        sim.stop()


def main():
    for part in (abandoned, idle, rotation):
        if my_part():
            part()
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
