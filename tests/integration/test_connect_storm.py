#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A storm of random connections (issue 51), end to end with the real
bmsgw: for STORM_S seconds (default 30) per phase, 16 workers open
connections from 60 loopback addresses (127.0.0.2-61) to the status page,
502 and 802 and, at random, close them at once, hold them idle, send half a
request, garbage, or a whole request, reconnecting as soon as they are
done; the page, 502 and 802 are probed from 127.0.1.1 all along.  Phase 1:
plain HTTP; phase 2: HTTPS.  After the storm every service answers again,
the daemon is alive and its log has no sanitizer report.  The answers
during the storm are figures, not assertions.  STORM_SEED repeats a run.
Prints "N passed, N failed".
"""
import os
import random
import socket
import ssl
import struct
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ROLE_EXT, SERVER_EXT, Checks, Gateway, Sim, free_port, make_ca, mbap_request,  # noqa: E402
                     recv_adu, wait_until)

c = Checks()
BASE = 290
TMP = tempfile.mkdtemp(prefix="bmsgw-storm-")
STORM_S = float(os.environ.get("STORM_S", "30"))
SEED = int(os.environ.get("STORM_SEED", str(int(time.time()))))


def tls_ctx(cert=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(os.path.join(TMP, cert + ".pem"), os.path.join(TMP, cert + ".key"))
    return ctx


def probe_page(port, tls):
    try:
        raw = socket.socket()
        raw.bind(("127.0.1.1", 0))
        raw.settimeout(5)
        raw.connect(("127.0.0.1", port))
        s = tls_ctx().wrap_socket(raw) if tls else raw
        with s:
            s.sendall(b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            buf = b""
            while b"\r\n" not in buf:
                d = s.recv(4096)
                if not d:
                    break
                buf += d
        return buf.startswith(b"HTTP/1.1 200")
    except (OSError, ssl.SSLError):
        return False


def probe_modbus(port, tls):
    try:
        raw = socket.socket()
        raw.bind(("127.0.1.1", 0))
        raw.settimeout(5)
        raw.connect(("127.0.0.1", port))
        s = tls_ctx("viewer").wrap_socket(raw) if tls else raw
        with s:
            s.sendall(mbap_request(1, 1, struct.pack(">BHH", 3, BASE + 58, 1)))
            r = recv_adu(s)
        return len(r) >= 9 and r[7] == 3
    except (OSError, ssl.SSLError):
        return False


def worker(rng, ports, stop, counts):
    while not stop.is_set():
        port, tls = rng.choice(ports)
        what = rng.choice(("close", "idle", "half", "garbage", "whole"))
        s = socket.socket()
        try:
            s.bind(("127.0.0.%d" % rng.randint(2, 61), 0))
            s.settimeout(10)
            s.connect(("127.0.0.1", port))
            if what == "idle":
                stop.wait(rng.uniform(0, 8))
            elif what == "half":
                s.sendall(b"GET /api/st" if port == ports[0][0] else b"\x00\x01\x00")
                stop.wait(rng.uniform(0, 8))
            elif what == "garbage":
                s.sendall(os.urandom(rng.randint(1, 600)))
                stop.wait(rng.uniform(0, 2))
            elif what == "whole" and not tls:
                s.sendall(b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" if port == ports[0][0]
                          else mbap_request(1, 1, struct.pack(">BHH", 3, BASE, 10)))
                s.recv(4096)
        except OSError:
            pass
        finally:
            s.close()
        counts[what] = counts.get(what, 0) + 1


def phase(tls):
    what = "https" if tls else "http"
    print("== storm, the page on %s (seed %d, %.0f s)" % (what, SEED, STORM_S))
    sim = Sim()
    gw_port, http_port, tls_port = free_port(), free_port(), free_port()
    keys = "tls_cert = %s/server.pem\ntls_key = %s/server.key\n" % (TMP, TMP) if tls else ""
    gw = Gateway("[gateway]\nlisten = 127.0.0.1:%d\n"
                 "[modbus_tls]\nlisten = 127.0.0.1:%d\ncert = %s/server.pem\nkey = %s/server.key\nca = %s/ca.pem\n"
                 "[http]\nlisten = 127.0.0.1:%d\n%s"
                 "[pack.p1]\nprotocol = daly\nport = tcp://127.0.0.1:%d\npoll_interval = 0.5\n"
                 % (gw_port, tls_port, TMP, TMP, TMP, http_port, keys, sim.port), gw_port)
    stop = threading.Event()
    probes = {"page": [0, 0], "502": [0, 0], "802": [0, 0]}
    try:
        c.ok(wait_until(lambda: probe_page(http_port, tls) and probe_modbus(gw_port, False)
                        and probe_modbus(tls_port, True), 20), "%s: all three answer before the storm" % what)
        ports = [(http_port, tls), (gw_port, False), (tls_port, True)]
        counts = {}
        ws = [threading.Thread(target=worker, args=(random.Random(SEED * 100 + i + (50 if tls else 0)), ports,
                                                    stop, counts), daemon=True) for i in range(16)]
        for t in ws:
            t.start()
        t_end = time.monotonic() + STORM_S
        while time.monotonic() < t_end:
            for name, ok in (("page", probe_page(http_port, tls)), ("502", probe_modbus(gw_port, False)),
                             ("802", probe_modbus(tls_port, True))):
                probes[name][0] += 1
                probes[name][1] += ok
            stop.wait(0.5)
        stop.set()
        for t in ws:
            t.join(15)
        print("   figures: %s: storm connections %s; probes answered during it: %s" %
              (what, counts, {k: "%d/%d" % (v[1], v[0]) for k, v in probes.items()}))
        for name, fn in (("the page", lambda: probe_page(http_port, tls)),
                         ("502", lambda: probe_modbus(gw_port, False)),
                         ("802", lambda: probe_modbus(tls_port, True))):
            c.ok(wait_until(fn, 40), "%s: %s answers after the storm" % (what, name))
        c.ok(gw.p.poll() is None, "%s: the daemon is alive" % what)
        c.ok("Sanitizer" not in gw.text() and "runtime error" not in gw.text(), "%s: no sanitizer report" % what)
    finally:
        stop.set()
        if c.failed:
            gw.dump()
        gw.stop()
        sim.stop()


def main():
    make_ca(TMP, "ca", [("server", SERVER_EXT), ("viewer", ROLE_EXT % "Viewer")])
    for tls in (False, True):
        phase(tls)
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
