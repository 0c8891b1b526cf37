#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The status page after it was full (issue 51 item 1), end to end with the
real bmsgw, plain HTTP and HTTPS:

- `[http] max_clients = 8` filled by live pages (event streams, requests
  that never end) from four addresses (127.0.0.2-5, two each: a quarter of
  max_clients from each) and the one more it takes beyond the limit from a
  fifth, held for six seconds, then closed one by one: the page answers a
  client of another address again (libmicrohttpd takes its listening socket
  out of its epoll set at its limit and puts it back only in a later
  MHD_run(): bmsgw runs it again after every close, or the page would
  never answer again while Modbus went on);
- the same three times in a row;
- one address cannot hold more than its quarter (the others still connect);
- five addresses holding 8 idle connections each, reconnecting as soon as
  one is closed, against the default max_clients = 32 for 30 s: every one
  of 60 probes from a sixth address is answered (an idle connection of the
  address holding the most gives way to it).
Prints "N passed, N failed".
"""
import os
import re
import socket
import ssl
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Gateway, Sim, free_port, self_signed, wait_until  # noqa: E402

c = Checks()
TMP = tempfile.mkdtemp(prefix="bmsgw-pagefull-")


def connect(port, tls, src, timeout):
    """A connection from src, over TLS when tls (its handshake done)."""
    raw = socket.socket()
    raw.bind((src, 0))
    raw.settimeout(timeout)
    raw.connect(("127.0.0.1", port))
    if not tls:
        return raw
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx.wrap_socket(raw)


def get(port, tls, src="127.0.0.9", timeout=3.0):
    """The status code of GET /api/state from `src`, or None."""
    try:
        s = connect(port, tls, src, timeout)
        with s:
            s.sendall(b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            buf = b""
            while b"\r\n" not in buf:  # the whole status line
                d = s.recv(4096)
                if not d:
                    break
                buf += d
        line = buf.split(b"\r\n", 1)[0].split()
        return int(line[1]) if len(line) > 1 else None
    except (OSError, ssl.SSLError, ValueError):
        return None


def held_open(s):
    """The server has not closed s (nothing to read, no end of file)."""
    s.setblocking(False)
    try:
        return s.recv(1) not in (b"",)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        s.setblocking(True)


def fill(port, addrs, each):
    socks = []
    for a in addrs:
        for _ in range(each):
            s = socket.socket()
            s.bind((a, 0))
            s.connect(("127.0.0.1", port))
            socks.append(s)
    return socks


def stream(port, tls, src):
    """A live page's event stream from src, its first event read: a request
    in progress for as long as it is open."""
    s = connect(port, tls, src, 20)
    s.sendall(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    buf = b""
    while b"event: state" not in buf:
        d = s.recv(65536)
        if not d:
            raise OSError("the stream ended")
        buf += d
    return s


def address_full(port, tls):
    """bmsgw_http_address_full_total of /metrics, or None."""
    try:
        s = connect(port, tls, "127.0.0.9", 3.0)
        with s:
            s.sendall(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            buf = b""
            while True:  # to the end: the server closes
                d = s.recv(65536)
                if not d:
                    break
                buf += d
        m = re.search(rb"^bmsgw_http_address_full_total (\d+)", buf, re.M)
        return int(m.group(1)) if m else None
    except (OSError, ssl.SSLError):
        return None


def run(tls):
    what = "https" if tls else "http"
    print("== %s" % what)
    sim = Sim()
    gw_port, http_port = free_port(), free_port()
    keys = "tls_cert = %s\ntls_key = %s\n" % self_signed(TMP) if tls else ""
    gw = Gateway("""[gateway]
listen = 127.0.0.1:%d
[pack.p1]
protocol = daly
port = tcp://127.0.0.1:%d
poll_interval = 0.5
[http]
listen = 127.0.0.1:%d
max_clients = 8
%s""" % (gw_port, sim.port, http_port, keys), gw_port)
    try:
        c.ok(wait_until(lambda: get(http_port, tls) == 200, 10), "%s: the page answers" % what)
        for rnd in range(3):
            socks = [stream(http_port, tls, "127.0.0.%d" % i) for i in (2, 2, 3, 3, 4, 4, 5, 5, 6)]
            # the server took all eight and the one more: the next one is not served
            c.ok(wait_until(lambda: get(http_port, tls, timeout=1) is None, 10),
                 "%s round %d: full with 9 live pages from 5 addresses" % (what, rnd + 1))
            c.ok(wait_until(lambda: all(held_open(s) for s in socks), 5), "%s: the live pages are held" % what)
            t_end = time.monotonic() + 6
            while time.monotonic() < t_end:  # held for six seconds (nothing to wait for)
                time.sleep(0.2)
            for s in socks:
                s.close()
            ok = wait_until(lambda: get(http_port, tls) == 200, 10)
            c.ok(ok, "%s round %d: closed one by one, the page answers again" % (what, rnd + 1))
            if not ok:
                break
        # one address holds its quarter only
        mine = fill(http_port, ["127.0.0.2"], 6)
        c.ok(wait_until(lambda: sum(1 for s in mine if held_open(s)) <= 2, 10),
             "%s: one address keeps at most a quarter of max_clients (%d of 6 held)"
             % (what, sum(1 for s in mine if held_open(s))))
        c.ok(get(http_port, tls, src="127.0.0.3") == 200, "%s: another address is served beside it" % what)
        held = sum(1 for s in mine if held_open(s))
        refused = address_full(http_port, tls)
        c.ok(refused is not None and refused >= 6 - held,
             "%s: /metrics counts the address's refused connections (%s, %d of 6 held)" % (what, refused, held))
        for s in mine:
            s.close()
    finally:
        if c.failed:
            gw.dump()
        gw.stop()
        sim.stop()


def flood(tls):
    what = "https" if tls else "http"
    print("== %s: idle connections from five addresses" % what)
    sim = Sim()
    gw_port, http_port = free_port(), free_port()
    keys = "tls_cert = %s\ntls_key = %s\n" % self_signed(TMP) if tls else ""
    gw = Gateway("""[gateway]
listen = 127.0.0.1:%d
[pack.p1]
protocol = daly
port = tcp://127.0.0.1:%d
poll_interval = 0.5
[http]
listen = 127.0.0.1:%d
%s""" % (gw_port, sim.port, http_port, keys), gw_port)
    stop = threading.Event()
    got = []
    held = [0]
    lock = threading.Lock()

    def holder(addr):
        while not stop.is_set():
            s = socket.socket()
            up = False
            try:
                s.bind((addr, 0))
                s.settimeout(60)
                s.connect(("127.0.0.1", http_port))
                with lock:
                    held[0] += 1
                up = True
                while not stop.is_set() and s.recv(1):  # until the server closes it
                    pass
            except OSError:
                pass
            finally:
                if up:
                    with lock:
                        held[0] -= 1
                s.close()

    def probe():
        got.append(get(http_port, tls, src="127.0.0.9", timeout=12))
    try:
        c.ok(wait_until(lambda: get(http_port, tls) == 200, 10), "%s: the page answers" % what)
        hs = [threading.Thread(target=holder, args=("127.0.0.%d" % (2 + i // 8),), daemon=True) for i in range(40)]
        for t in hs:
            t.start()
        c.ok(wait_until(lambda: held[0] >= 32, 10), "%s: the idle ones fill it (%d connected)" % (what, held[0]))
        ps = []
        for _ in range(60):
            t = threading.Thread(target=probe, daemon=True)
            t.start()
            ps.append(t)
            time.sleep(0.5)  # (a probe every half second: the attack's duration)
        for t in ps:
            t.join(20)
        n = sum(1 for x in got if x == 200)
        print("   figures: %s: %d of 60 probes answered beside 40 idle connections from 5 addresses" % (what, n))
        c.ok(n == 60, "%s: every probe answered (%d of 60: %s)" % (what, n, sorted(set(map(str, got)))))
    finally:
        stop.set()
        if c.failed:
            gw.dump()
        gw.stop()
        sim.stop()


def main():
    for tls in (False, True):
        run(tls)
        flood(tls)
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
