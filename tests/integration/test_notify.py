#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: build=normal
"""systemd supervision (Type=notify) against a fake NOTIFY_SOCKET: READY=1
once the Modbus port listens, STATUS= with the packs online, WATCHDOG=1 from
the loop itself (a stopped loop stops the pings), RELOADING=1 ... READY=1
around a reload (also a failed one), STOPPING=1 at SIGTERM.  A build without
libsystemd sends nothing and still runs."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks, Sim, free_port, wait_port, wait_until, write_conf  # noqa: E402

c = Checks()


class Notify:
    """The systemd side: a datagram socket collecting what bmsgw sends."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="bmsgw-notify-")
        self.path = os.path.join(self.dir, "notify")
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(self.path)
        self.s.settimeout(0.05)
        self.msgs = []  # (monotonic time, set of lines)

    def pump(self, seconds=0.0):
        end = time.monotonic() + seconds
        while True:
            try:
                d = self.s.recv(4096)
                self.msgs.append((time.monotonic(), d.decode().split("\n")))
            except socket.timeout:
                if time.monotonic() >= end:
                    return

    def wait_for(self, line, timeout=5.0, since=0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump(0.05)
            for i, (t, lines) in enumerate(self.msgs[since:], since):
                if any(l == line or (line.endswith("=") and l.startswith(line)) for l in lines):
                    return i, t, lines
        return None

    def count(self, line, t0, t1):
        return sum(1 for t, lines in self.msgs if t0 <= t <= t1 and line in lines)


def main():
    sim = Sim()
    port = free_port()
    conf = write_conf("""[gateway]
listen = 127.0.0.1:%d
stale_after = 5
[pack.a]
protocol = daly
port = tcp://127.0.0.1:%d
poll_interval = 0.5
timeout = 0.5
""" % (port, sim.port))
    n = Notify()
    env = dict(os.environ, NOTIFY_SOCKET=n.path, WATCHDOG_USEC="1000000")
    log = tempfile.NamedTemporaryFile(prefix="bmsgw-notify-", suffix=".log", delete=False)
    p = subprocess.Popen([os.path.join(ROOT, BIN, "bmsgw"), "-c", conf], stdout=log, stderr=subprocess.STDOUT,
                         env=env)
    try:
        r = n.wait_for("READY=1", 10)
        c.ok(r is not None, "READY=1 is sent")
        c.ok(r is not None and wait_port(port, 0.5), "the Modbus port accepts when READY=1 has come")
        r = n.wait_for("STATUS=", 5)
        c.ok(r is not None and any("pack(s) online" in l for l in r[2]), "STATUS= says how many packs are online")
        r = wait_until(lambda: n.wait_for("STATUS=1/1 pack(s) online, 0 Modbus client(s)", 0.2), 10)
        c.ok(r is not None, "STATUS= follows the pack coming online (1/1)")

        t0 = time.monotonic()
        n.pump(3.0)
        pings = n.count("WATCHDOG=1", t0, time.monotonic())
        print("   %d watchdog pings in 3 s with WATCHDOG_USEC=1000000" % pings)
        c.ok(5 <= pings <= 8, "WATCHDOG=1 every half watchdog interval (%d in 3 s)" % pings)

        p.send_signal(signal.SIGSTOP)  # a stalled loop
        t0 = time.monotonic()
        n.pump(1.5)
        stalled = n.count("WATCHDOG=1", t0 + 0.1, time.monotonic())
        p.send_signal(signal.SIGCONT)
        c.eq(stalled, 0, "a stopped loop sends no watchdog ping (systemd would restart it)")
        t0 = time.monotonic()
        n.pump(1.2)
        c.ok(n.count("WATCHDOG=1", t0, time.monotonic()) >= 1, "pings resume when the loop runs again")

        mark = len(n.msgs)
        p.send_signal(signal.SIGHUP)
        r1 = n.wait_for("RELOADING=1", 5, mark)
        c.ok(r1 is not None and any(l.startswith("MONOTONIC_USEC=") for l in r1[2]),
             "RELOADING=1 with MONOTONIC_USEC at a reload")
        r2 = n.wait_for("READY=1", 5, r1[0] + 1 if r1 else mark)
        c.ok(r1 is not None and r2 is not None and r2[0] > r1[0], "READY=1 after the reload")

        with open(conf, "a") as f:
            f.write("bogus = 1\n")
        mark = len(n.msgs)
        p.send_signal(signal.SIGHUP)
        r1 = n.wait_for("RELOADING=1", 5, mark)
        r2 = n.wait_for("READY=1", 5, r1[0] + 1 if r1 else mark)
        c.ok(r1 is not None and r2 is not None, "a failed reload is also bracketed by RELOADING=1 ... READY=1")
        r3 = wait_until(lambda: n.wait_for("STATUS=", 0.1, mark), 3)
        c.ok(r3 is not None and any("last reload failed" in l for l in r3[2]), "STATUS= says the reload failed")

        mark = len(n.msgs)
        p.send_signal(signal.SIGTERM)
        r = n.wait_for("STOPPING=1", 5, mark)
        c.ok(r is not None, "STOPPING=1 at SIGTERM")
        c.eq(p.wait(5), 0, "exit 0")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        if c.failed:
            with open(log.name) as f:
                print(f.read()[-3000:])
        sim.stop()

    nosd = os.path.join(ROOT, "build/nosystemd/bmsgw")
    if os.path.exists(nosd):
        print("== a build without libsystemd")
        out = subprocess.run(["ldd", nosd], capture_output=True, text=True).stdout
        c.ok("libsystemd" not in out, "it does not link libsystemd")
        port = free_port()
        sim = Sim()
        conf = write_conf("[gateway]\nlisten = 127.0.0.1:%d\n[pack.a]\nprotocol = daly\nport = tcp://127.0.0.1:%d\n"
                          % (port, sim.port))
        n2 = Notify()
        env = dict(os.environ, NOTIFY_SOCKET=n2.path, WATCHDOG_USEC="1000000")
        p = subprocess.Popen([nosd, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        try:
            c.ok(wait_port(port, 10), "it serves Modbus")
            n2.pump(1.0)
            c.eq(len(n2.msgs), 0, "and sends no notification")
            p.send_signal(signal.SIGTERM)
            c.eq(p.wait(5), 0, "exit 0")
        finally:
            if p.poll() is None:
                p.kill()
            sim.stop()
    else:
        c.ok(False, "build/nosystemd/bmsgw (make nosystemd) exists")
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
