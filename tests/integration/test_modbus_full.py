#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Idle connections cannot take every Modbus slot (issue 51 item 2), end
to end with the real bmsgw:

- `[gateway] max_clients = 8`: 127.0.0.2 opens 8 connections and sends
  nothing; a probe from 127.0.0.3 is answered (the idle client of another
  address that waited longest gives way), twenty times in a row while the
  holder reconnects what it lost;
- an address holding a quarter of the slots (2 here) or more is refused at
  the limit as before: 127.0.0.2's ninth connection is closed at once;
- a client with a request in progress is never the one that gives way.
Prints "N passed, N failed".
"""
import os
import socket
import struct
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Gateway, Sim, free_port, mbap_request, recv_adu, wait_until  # noqa: E402

c = Checks()
BASE = 290


def read_from(port, src):
    try:
        with socket.socket() as s:
            s.bind((src, 0))
            s.settimeout(5)
            s.connect(("127.0.0.1", port))
            s.sendall(mbap_request(1, 1, struct.pack(">BHH", 3, BASE + 58, 1)))
            r = recv_adu(s)
            return len(r) >= 9 and r[7] == 3
    except OSError:
        return False


def closed_at_once(s):
    s.settimeout(5)
    try:
        return s.recv(1) == b""
    except OSError:
        return True


def main():
    sim = Sim()
    gw_port = free_port()
    gw = Gateway("""[gateway]
listen = 127.0.0.1:%d
max_clients = 8
[pack.p1]
protocol = daly
port = tcp://127.0.0.1:%d
poll_interval = 0.5
""" % (gw_port, sim.port), gw_port)
    stop = threading.Event()
    try:
        c.ok(wait_until(lambda: read_from(gw_port, "127.0.0.9"), 10), "the pack is served")

        def holder():
            while not stop.is_set():
                s = socket.socket()
                try:
                    s.bind(("127.0.0.2", 0))
                    s.connect(("127.0.0.1", gw_port))
                    s.settimeout(30)
                    while not stop.is_set() and s.recv(1):
                        pass
                except OSError:
                    pass
                finally:
                    s.close()
        hs = [threading.Thread(target=holder, daemon=True) for _ in range(8)]
        for t in hs:
            t.start()
        # full: a read from the holder's own address is refused at once
        c.ok(wait_until(lambda: not read_from(gw_port, "127.0.0.2"), 10), "127.0.0.2 holds all 8 slots")
        n = sum(1 for _ in range(20) if read_from(gw_port, "127.0.0.3"))
        print("   figures: %d of 20 probes from another address answered" % n)
        c.eq(n, 20, "every probe from another address is answered: an idle client gives way")
        c.ok("gives way to a new connection" in gw.text(), "the log says an idle client gave way")
        # the holder's own ninth connection: refused, its address has its share and more
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.connect(("127.0.0.1", gw_port))
        c.ok(closed_at_once(s),
             "an address over its share is refused at the limit")
        s.close()
    finally:
        stop.set()
        if c.failed:
            gw.dump()
        gw.stop()
        sim.stop()
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
