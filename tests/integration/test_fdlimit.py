#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""File-descriptor exhaustion never makes bmsgw spin, flood its log or leave
clients hanging.

A. Started under an open-file limit of 128 (soft and hard) with
   max_clients = 1000: bmsgw warns once with the numbers, serves the clients
   its descriptors allow and closes the rest at once.
B. The limit lowered to 128 under a running bmsgw (prlimit), so accept()
   itself fails with EMFILE: the excess connections are closed at once (the
   spare-descriptor technique), nothing spins.
   In both: 300 clients connect; within 3 s each is answered or closed;
   daemon CPU < 5 % over the next 5 s while more clients keep trying;
   fewer than 20 log lines; the connected clients are still served.
C. Started under a soft limit of 1024 with max_clients = 5000: bmsgw raises
   its soft limit and serves 3000 concurrent clients.
"""
import os
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BIN, ROOT, Checks, Proc, Sim, free_port, mbap_request, recv_adu, wait_port,  # noqa: E402
                     wait_until)

BASE = 290
c = Checks()
TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TCK  # utime, stime


def start(limit, max_clients, sim):
    port = free_port()
    conf = os.path.join(tempfile.gettempdir(), "bmsgw-fd-%d.ini" % port)  # the test's own directory
    with open(conf, "w") as f:
        f.write("""[gateway]
listen = 127.0.0.1:%d
max_clients = %d
idle_timeout = 120
[pack.a]
protocol = daly
port = tcp://127.0.0.1:%d
poll_interval = 1
""" % (port, max_clients, sim.port))
    gw = Proc(["prlimit", "--nofile=%s" % limit, os.path.join(ROOT, BIN, "bmsgw"), "-c", conf], "bmsgw")
    if not wait_port(port):
        gw.dump()
        raise RuntimeError("bmsgw did not start")
    if not wait_until(lambda: still_served([socket.create_connection(("127.0.0.1", port))]) == 1, 10):
        gw.dump()
        raise RuntimeError("the pack did not come online")
    return gw, port


REQ = mbap_request(1, 1, bytes([3, BASE >> 8, BASE & 255, 0, 2]))


def flood(port, n, wait_s):
    """n clients connect and each sends one read.  Returns (answered sockets,
    closed count, pending count, seconds until none was pending)."""
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE, {"state": "connecting", "buf": b""})
    answered, closed = [], 0
    t0 = time.monotonic()
    deadline = t0 + wait_s
    pending = n
    done_at = None
    while pending and time.monotonic() < deadline:
        for key, ev in sel.select(timeout=0.1):
            s, st = key.fileobj, key.data
            if st["state"] == "connecting":
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    closed += 1
                    pending -= 1
                    sel.unregister(s)
                    continue
                try:
                    s.send(REQ)
                except OSError:
                    closed += 1
                    pending -= 1
                    sel.unregister(s)
                    continue
                st["state"] = "waiting"
                sel.modify(s, selectors.EVENT_READ, st)
                continue
            try:
                d = s.recv(256)
            except OSError:
                d = b""
            if not d:
                closed += 1
                pending -= 1
                sel.unregister(s)
                continue
            st["buf"] += d
            if len(st["buf"]) >= 9:
                answered.append(s)
                pending -= 1
                sel.unregister(s)
    if not pending:
        done_at = time.monotonic() - t0
    sel.close()
    for s in socks:
        if s not in answered:
            s.close()
    return answered, closed, pending, done_at


def still_served(socks):
    """How many of socks get a normal answer (not an exception) to a read."""
    ok = 0
    for s in socks:
        s.setblocking(True)
        s.settimeout(2)
        try:
            s.sendall(REQ)
            d = recv_adu(s)  # a whole answer, however it is cut
            ok += len(d) >= 9 and d[7] == 3
        except OSError:
            pass
    return ok


def pressure_and_cpu(gw, port, seconds):
    """Keep new clients trying (20 per second) while measuring the daemon's CPU."""
    c0, t0 = cpu_seconds(gw.p.pid), time.monotonic()
    while time.monotonic() - t0 < seconds:
        for _ in range(4):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=0.5)
                s.close()
            except OSError:
                pass
        time.sleep(0.2)
    return (cpu_seconds(gw.p.pid) - c0) / (time.monotonic() - t0)


def exhaustion(label, gw, port):
    lines0 = len(gw.text().splitlines())
    answered, closed, pending, done = flood(port, 300, 3.0)
    print("   %s: %d answered, %d closed at once, %d hanging (all settled in %s)" %
          (label, len(answered), closed, pending, "%.2f s" % done if done is not None else "-"))
    c.eq(pending, 0, label + ": every client answered or closed within 3 s")
    c.ok(len(answered) >= 50, label + ": the clients the descriptors allow are served (%d)" % len(answered))
    c.ok(closed > 0, label + ": the excess clients are closed (%d)" % closed)
    cpu = pressure_and_cpu(gw, port, 5.0)
    print("   %s: daemon CPU %.2f %% over 5 s of further connection attempts" % (label, cpu * 100))
    c.ok(cpu < 0.05, label + ": daemon CPU under 5 %% (%.2f %%)" % (cpu * 100))
    served = still_served(answered)
    c.eq(served, len(answered), label + ": the connected clients are still served")
    new_lines = gw.text().splitlines()[lines0:]
    print("   %s: %d log lines during the flood" % (label, len(new_lines)))
    for l in new_lines:
        print("      " + l)
    c.ok(len(new_lines) < 20, label + ": fewer than 20 log lines (%d)" % len(new_lines))
    for s in answered:
        s.close()
    return new_lines


def main():
    # this process holds up to 3000 sockets itself; bmsgw inherits the hard limit
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 65536:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (65536, 65536))
        except (ValueError, OSError):
            pass
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        hard = 65536
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print("   hard open-file limit %d" % hard)
    sim = Sim()
    try:
        print("== A: started under a limit of 128, max_clients = 1000")
        gw, port = start("128:128", 1000, sim)
        warn = [l for l in gw.text().splitlines() if "open-file limit 128" in l]
        c.eq(len(warn), 1, "A: one warning about the open-file limit at start")
        c.ok(warn and "max_clients = 1000" in warn[0] and "at most" in warn[0],
             "A: the warning gives the numbers (%s)" % (warn[0].split("warn: ")[-1] if warn else ""))
        lines = exhaustion("A", gw, port)
        c.ok(any("closed at once" in l for l in lines), "A: the refusals are logged")
        c.ok(gw.alive(), "A: bmsgw is still running")
        gw.stop()

        print("== B: limit lowered to 128 under a running bmsgw (accept() fails with EMFILE)")
        gw, port = start("1024:1024", 1000, sim)
        r = subprocess.run(["prlimit", "--pid", str(gw.p.pid), "--nofile=128:128"], capture_output=True, text=True)
        c.eq(r.returncode, 0, "B: prlimit lowered the running daemon's limit")
        lines = exhaustion("B", gw, port)
        c.eq(sum(1 for l in lines if "Too many open files" in l), 1, "B: EMFILE logged once for the episode")
        c.ok(gw.alive(), "B: bmsgw is still running")
        gw.stop()

        print("== C: 3000 concurrent clients, max_clients = 5000, started under a soft limit of 1024")
        if hard < 5100:
            print("SKIPPED C: the hard open-file limit here (%d) is below what 5000 clients need" % hard)
            return c.report()
        gw, port = start("1024:%d" % hard, 5000, sim)
        c.ok(wait_until(lambda: "open-file limit raised from 1024" in gw.text(), 5),
             "C: bmsgw raised its open-file limit")
        t0 = time.monotonic()
        answered, closed, pending, done = flood(port, 3000, 30.0)
        print("   C: %d of 3000 clients answered, %d closed, %d hanging, in %.2f s" %
              (len(answered), closed, pending, time.monotonic() - t0))
        c.eq(len(answered), 3000, "C: all 3000 concurrent clients served")
        served = still_served(answered[:200])
        c.eq(served, 200, "C: they stay connected and served")
        with open("/proc/%d/status" % gw.p.pid) as f:
            rss = [l for l in f if l.startswith("VmRSS")]
        print("   C: daemon %s" % (rss[0].strip() if rss else "?"))
        for s in answered:
            s.close()
        c.ok(gw.alive(), "C: bmsgw is still running")
        gw.stop()
    finally:
        sim.stop()
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
