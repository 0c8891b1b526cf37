#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Host names never block the loop.

bmsgw runs in a private mount namespace (unshare -m) whose /etc/resolv.conf
names a test DNS server (tests/tools/dnsd.py) as the only nameserver:

- a server that swallows every query (UDP and TCP): a pack on a numeric
  serial-server address is read for 20 s, every answer well before the
  resolver's 5 s timeout could have ended (a loop that waited on a lookup
  would hold a read that long); the pack whose serial server is given by
  name answers 0x0B, as soon; the failed lookup is logged once although it
  is retried; SIGTERM exits before a hanging lookup could have ended.
  (Latencies are figures of `make bench`, never assertions here.)
- a server that answers: the pack given by name connects and serves data,
  and an upstream given by name pushes to its server.

Needs root (mount namespaces, port 53)."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BIN, ROOT, Checks, Proc, Sim, free_port, listener, mbap_request, recv_adu,  # noqa: E402
                     wait_port, wait_until)

BASE = 290
# half the resolver's 5 s timeout: what an answer held by a lookup would exceed
HELD = 2.5
DNS_ADDR = "127.0.0.77"
c = Checks()


def can_unshare():
    if os.geteuid() != 0:
        return False
    r = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return r.returncode == 0


class Dnsd(Proc):
    def __init__(self, args):
        super().__init__(["/usr/bin/python3", os.path.join(ROOT, "tests/tools/dnsd.py"), DNS_ADDR] + args, "dnsd")
        if not wait_until(lambda: "ready" in self.text(), 10):
            self.dump()
            raise RuntimeError("dnsd did not start")

    def queries(self, name):
        return sum(1 for l in self.text().splitlines() if l.startswith("query %s " % name))


class NsGateway(Proc):
    """bmsgw with its own /etc/resolv.conf."""

    def __init__(self, conf_text, port):
        self.resolv = tempfile.NamedTemporaryFile("w", prefix="resolv-", suffix=".conf", delete=False)
        self.resolv.write("nameserver %s\n" % DNS_ADDR)
        self.resolv.close()
        conf = tempfile.NamedTemporaryFile("w", prefix="bmsgw-", suffix=".ini", delete=False)
        conf.write(conf_text)
        conf.close()
        self.port = port
        super().__init__(["unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"',
                          self.resolv.name, os.path.join(ROOT, BIN, "bmsgw"), "-c", conf.name], "bmsgw")
        if not wait_port(port):
            self.dump()
            raise RuntimeError("bmsgw did not start listening")


class Conn:
    """One Modbus TCP connection kept open, timed request by request."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.tid = 0

    def read(self, unit, addr=BASE, count=2):
        self.tid = (self.tid + 1) & 0xffff
        pdu = bytes([3, addr >> 8, addr & 255, count >> 8, count & 255])
        t0 = time.monotonic()
        self.s.sendall(mbap_request(self.tid, unit, pdu))
        r = recv_adu(self.s)
        return r, time.monotonic() - t0


def upstream_listener(port, got):
    """Record the first bytes of every connection (an upstream's FC16)."""
    def first_bytes(s):
        s.settimeout(10)
        try:
            got.append(s.recv(512))
        except OSError:
            got.append(b"")
    return listener(port, lambda s: threading.Thread(target=first_bytes, args=(s,), daemon=True).start())


def conf_text(gw_port, sim_a, sim_b, up_port):
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 5
[pack.a]
protocol = daly
port = tcp://127.0.0.1:%d
unit_id = 1
poll_interval = 0.5
timeout = 0.5
[pack.b]
protocol = daly
port = tcp://serial-server.test:%d
unit_id = 2
poll_interval = 0.5
timeout = 0.5
[upstream.plc]
host = plc.test
port = %d
source = a
interval = 0.5
timeout = 1
""" % (gw_port, sim_a, sim_b, up_port)


def test_blackhole():
    print("== blackholed DNS server")
    dns = Dnsd(["--swallow"])
    sim_a, sim_b = Sim(), Sim()
    gw_port, up_port = free_port(), free_port()
    gw = NsGateway(conf_text(gw_port, sim_a.port, sim_b.port, up_port), gw_port)
    try:
        conn = Conn(gw_port)
        c.ok(wait_until(lambda: conn.read(1)[0][7] == 3, 10), "pack a (numeric address) is served")
        worst = worst_b = 0.0
        n = nb = 0
        b_codes = set()
        t_end = time.monotonic() + 20
        while time.monotonic() < t_end:
            r, dt = conn.read(1)
            worst = max(worst, dt)
            n += 1
            if r[7] != 3:
                c.ok(False, "read of pack a answered %r" % r)
                break
            if n % 5 == 0:
                r, dt = conn.read(2)
                worst_b = max(worst_b, dt)
                nb += 1
                b_codes.add((r[7], r[8] if len(r) > 8 else None))
            time.sleep(0.02)
        print("   %d reads of pack a, worst %.1f ms; %d reads of pack b, worst %.1f ms" %
              (n, worst * 1000, nb, worst_b * 1000))
        c.ok(n > 200, "reads went on for 20 s (%d)" % n)
        # the resolver gives up after 5 s (resolv.conf's default): a read held by
        # a lookup would take that long; half of it is no scheduling noise
        c.ok(worst < HELD, "no answer waited on the DNS blackhole (worst %.1f ms; a held one passes %.1f s)"
             % (worst * 1000, HELD))
        c.ok(worst_b < HELD, "the unresolvable pack answers without waiting on a lookup (worst %.1f ms)"
             % (worst_b * 1000))
        c.eq(b_codes, {(0x83, 0x0B)}, "the unresolvable pack answers exception 0x0B")
        c.ok(dns.queries("serial-server.test") >= 2, "the lookups did reach the DNS server (%d queries)" %
             dns.queries("serial-server.test"))
        c.ok(dns.queries("plc.test") >= 1, "the upstream's lookup reached the DNS server")
        log = gw.text()
        lines = [l for l in log.splitlines() if "cannot resolve serial-server.test" in l]
        c.eq(len(lines), 1, "the failed lookup is logged once for the whole outage")
        c.ok("within 5 s" in (lines[0] if lines else ""), "the log says the DNS server did not answer")
        c.eq(sum(1 for l in log.splitlines() if "upstream plc" in l and "cannot resolve" in l), 1,
             "the upstream's failed lookup is logged once")
        t0 = time.monotonic()
        gw.p.send_signal(signal.SIGTERM)
        try:
            rc = gw.p.wait(5)
        except subprocess.TimeoutExpired:
            rc = None
        dt = time.monotonic() - t0
        print("   SIGTERM -> exit in %.0f ms" % (dt * 1000))
        c.ok(rc == 0 and dt < HELD, "SIGTERM exits cleanly, not after a hanging lookup (%.0f ms, rc %r)"
             % (dt * 1000, rc))
    finally:
        if c.failed:
            gw.dump()
        gw.stop()
        dns.stop()
        sim_a.stop()
        sim_b.stop()


def test_answering():
    print("== answering DNS server")
    dns = Dnsd(["serial-server.test=127.0.0.1", "plc.test=127.0.0.1"])
    sim_a, sim_b = Sim(), Sim()
    gw_port, up_port = free_port(), free_port()
    got = []
    ls = upstream_listener(up_port, got)
    gw = NsGateway(conf_text(gw_port, sim_a.port, sim_b.port, up_port), gw_port)
    try:
        conn = Conn(gw_port)
        ok = wait_until(lambda: conn.read(2, BASE + 58, 1)[0][9:11] == b"\x00\x01", 15)
        c.ok(ok, "the pack whose serial server is given by name connects and is online")
        r, _ = conn.read(2, BASE, 2)
        want = round(sim_b.state()["packs"][0]["soc"])
        c.ok(r[7] == 3 and (r[9] << 8 | r[10]) == want, "its SOC is the simulator's (%d)" % want)
        c.ok(wait_until(lambda: any(len(d) > 7 and d[7] == 0x10 for d in got), 10),
             "the upstream given by name connects and pushes (FC16)")
        c.ok("link tcp://serial-server.test:%d: open" % sim_b.port in gw.text(), "the link logs it is open")
        c.ok(dns.queries("serial-server.test") >= 1, "the name was looked up by DNS")
    finally:
        if c.failed:
            gw.dump()
        gw.stop()
        ls.close()
        dns.stop()
        sim_a.stop()
        sim_b.stop()


def main():
    if not can_unshare():
        print("SKIPPED: needs root and mount namespaces (unshare -m)")
        return c.report()
    test_blackhole()
    test_answering()
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
