#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Plain HTTP sent to the HTTPS port ([http] tls_cert, issue 97 item 6),
end to end with curl, raw sockets and headless Chromium against the real
bmsgw: the old http:// address of a page that moved to HTTPS (a tab open
when the setup's first admin turned the server to HTTPS, a bookmark) is
sent on to https:// on the same port, where before it got a broken
connection (curl: "Empty reply from server" or a reset).

- curl http://127.0.0.1:PORT/some/path?x=1: 301 with Location
  https://127.0.0.1:PORT/some/path?x=1, Connection: close, not stored, and
  the connection closed; HEAD the same without a body; a POST 308 (its
  method kept); curl -L lands on the JSON over HTTPS;
- the gate's rules, with its words: a foreign Host 421 (never a redirect
  to another site's name) as the same request over HTTPS gets; no Host (in
  HTTP/1.0 too), two, an empty one: 400; an absolute URI naming another
  site: 400; noise that is no HTTP: 400 at once; the counts in /metrics
  (bmsgw_http_redirected_total, bmsgw_http_misdirected_total);
- HTTPS as before: curl over one kept-alive TLS connection, a live page's
  event stream, and headless Chromium sent from http:// to the page over
  HTTPS, which goes live;
- a connection that sends nothing is closed after its wait (and a client
  that sends its head a byte at a time before it ends), while the page
  answers others meanwhile; fifty silent plain connections from five
  addresses and forty plain requests at once hold no more of the server
  than [http] max_clients and the one beyond (its open sockets counted),
  every request answered 301 or its connection refused, none left hanging,
  and a client of another address is served through it.
Prints "N passed, N failed"."""
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Gateway, Sim, free_port, self_signed, wait_until  # noqa: E402
from chromium import browser, spki_hash  # noqa: E402

c = Checks()
TMP = tempfile.mkdtemp(prefix="bmsgw-redirect-")
MAX_CLIENTS = 32  # the default: a quarter from one address, as many as Chromium opens


def raw(port, data, src="127.0.0.1", timeout=15.0, half_close=False):
    """What the server answers data sent in plain HTTP, read to the end of
    the connection: (status or None, {field: value}, body, how it ended)."""
    buf, how = b"", "closed"
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(src, 0)) as s:
            s.sendall(data)
            if half_close:
                s.shutdown(socket.SHUT_WR)
            while True:
                d = s.recv(65536)
                if not d:
                    break
                buf += d
    except socket.timeout:
        how = "still open after %.0f s" % timeout
    except OSError as e:
        how = type(e).__name__
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    first = lines[0].split()
    status = int(first[1]) if len(first) > 1 and first[0].startswith("HTTP/") and first[1].isdigit() else None
    fields = {}
    for l in lines[1:]:
        k, sep, v = l.partition(":")
        if sep:
            fields[k.strip().lower()] = v.strip()
    return status, fields, body, how


def curl(*args):
    """(status, effective URL, body, exit code) of curl with args."""
    r = subprocess.run(["curl", "-s", "--max-time", "30", "-o", "-", "-w", "\n%{http_code} %{url_effective}"] +
                       list(args), capture_output=True)
    body, _, tail = r.stdout.rpartition(b"\n")
    code, _, url = tail.decode().partition(" ")
    return (int(code) if code.isdigit() else 0), url, body, r.returncode


def metric(port, ca, name):
    st, _, body, _ = curl("--cacert", ca, "https://127.0.0.1:%d/metrics" % port)
    m = re.search(r"^%s (\d+)" % name, body.decode(), re.M) if st == 200 else None
    return int(m.group(1)) if m else None


def closed_by_server(s):
    """The server closed s (end of file or reset), by now."""
    s.settimeout(0.2)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def sockets_of(pid):
    """The sockets bmsgw holds open."""
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            n += os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:")
        except OSError:
            pass
    return n


def redirects(port, ca):
    base = "127.0.0.1:%d" % port
    st, f, body, how = raw(port, b"GET /some/path?x=1 HTTP/1.1\r\nHost: %s\r\nUser-Agent: test\r\n\r\n" % base.encode())
    print("   plain GET on the HTTPS port: %s %s, %s" % (st, f.get("location"), how))
    c.eq(st, 301, "plain HTTP to the HTTPS port: 301 Moved Permanently")
    c.eq(f.get("location"), "https://%s/some/path?x=1" % base, "... Location: the same address over HTTPS, path and "
         "query kept")
    c.ok(f.get("connection") == "close" and how == "closed", "... and the connection closed (%s)" % how)
    c.eq(f.get("cache-control"), "no-store", "... not stored (a server that goes back to plain HTTP is not "
         "redirected still)")
    c.ok(("https://%s/some/path?x=1" % base).encode() in body, "... its body names the address")
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                        "http://%s/some/path?x=1" % base], capture_output=True, text=True)
    c.eq(r.stdout, "301 https://%s/some/path?x=1" % base, "curl http://%s/some/path?x=1: 301 to https://" % base)
    st, f, body, how = raw(port, b"HEAD /x HTTP/1.1\r\nHost: %s\r\n\r\n" % base.encode())
    c.ok(st == 301 and f.get("location") == "https://%s/x" % base and body == b"" and how == "closed",
         "HEAD: 301, no body (%s, %r)" % (st, body[:40]))
    st, f, body, how = raw(port, b"POST /api/setup/check HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                           b"Content-Length: 2\r\n\r\n{}" % base.encode())
    c.ok(st == 308 and f.get("location") == "https://%s/api/setup/check" % base,
         "POST: 308 Permanent Redirect, its method kept (%s)" % st)
    st, f, _, _ = raw(port, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    c.eq(f.get("location"), "https://localhost:80/", "a Host without a port: the port the client reached, :80")
    st, url, body, rc = curl("-L", "--cacert", ca, "http://%s/api/state" % base)
    c.ok(st == 200 and url == "https://%s/api/state" % base and b'"packs"' in body,
         "curl -L: on to HTTPS, /api/state (%d, %s)" % (st, url))


def refusals(port, ca):
    base = "127.0.0.1:%d" % port
    st, f, body, _ = raw(port, b"GET / HTTP/1.1\r\nHost: rebind.example:%d\r\n\r\n" % port)
    st2, _, body2, _ = curl("--cacert", ca, "-H", "Host: rebind.example:%d" % port, "https://%s/" % base)
    c.ok(st == 421 and "location" not in f, "a foreign Host: 421, no Location (no open redirect)")
    c.ok(st2 == 421 and body.strip() == body2.strip(), "... as the gate answers it over HTTPS, in its words (%d: %s)"
         % (st2, body.strip()[:70].decode()))
    for what, req in (("no Host", b"GET / HTTP/1.1\r\n\r\n"), ("no Host in HTTP/1.0", b"GET / HTTP/1.0\r\n\r\n"),
                      ("two Hosts", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: 127.0.0.1\r\n\r\n"),
                      ("an empty Host", b"GET / HTTP/1.1\r\nHost:\r\n\r\n"),
                      ("an absolute URI of another site", b"GET http://evil.example/ HTTP/1.1\r\nHost: %s\r\n\r\n"
                       % base.encode()),
                      ("a field folded", b"GET / HTTP/1.1\r\nHost: %s\r\n x\r\n\r\n" % base.encode())):
        st, f, body, how = raw(port, req)
        c.ok(st == 400 and "location" not in f and how == "closed", "%s: 400, closed (%s)" % (what, body.strip()[:80]))
    # noise: answered at once, without waiting for a line's end (the client keeps its side open)
    st, f, body, how = raw(port, b"\x80\x00binary", timeout=15)
    c.ok(st == 400 and how == "closed", "bytes that are no HTTP: 400 at once (%s)" % how)
    st, f, body, how = raw(port, b"GET /api/state HTTP/1.1\r\nHost: rebind.example\r\n\r\n")
    c.ok(st == 421 and f.get("content-type") == "application/json" and body.startswith(b'{"error":'),
         "a path under /api/: the refusal as JSON")


def https_as_before(gw, port, ca):
    base = "https://127.0.0.1:%d" % port
    r = subprocess.run(["curl", "-sv", "--max-time", "20", "--cacert", ca] +
                       [a for p in ("/", "/api/state", "/metrics") for a in (base + p, "-o", "/dev/null")],
                       capture_output=True, text=True)
    c.ok(r.returncode == 0 and r.stderr.count("* Connected to") == 1 and r.stderr.count("< HTTP/1.1 200") == 3,
         "HTTPS: three requests over one kept-alive TLS connection (%d connection(s), %d answers 200)"
         % (r.stderr.count("* Connected to"), r.stderr.count("< HTTP/1.1 200")))
    ctx = ssl.create_default_context(cafile=ca)
    with socket.create_connection(("127.0.0.1", port), timeout=20) as raw_s:
        with ctx.wrap_socket(raw_s, server_hostname="127.0.0.1") as s:
            s.sendall(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            buf, t_end = b"", time.monotonic() + 20
            while buf.count(b"event: state") < 2 and time.monotonic() < t_end:
                d = s.recv(65536)
                if not d:
                    break
                buf += d
    c.ok(buf.count(b"event: state") >= 2, "HTTPS: a live page's event stream (%d events)" % buf.count(b"event: state"))


def chromium(port, pem):
    d = browser(TMP, spki_hash(pem))
    try:
        d.get("http://127.0.0.1:%d/" % port)
        live = wait_until(lambda: d.execute_script(
            "var e = document.querySelector('#conn'); return e && e.dataset.state") == "live", 30)
        c.eq(d.current_url, "https://127.0.0.1:%d/" % port, "Chromium: http://127.0.0.1:%d/ is sent on to HTTPS"
             % port)
        c.ok(live, "... where the page goes live (its event stream over TLS)")
        errs = [e["message"] for e in d.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"]]
        c.eq(errs, [], "... with no error in the console")
    finally:
        d.quit()


def silent(gw, port, ca):
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.3", 0))
    st, _, _, _ = curl("--cacert", ca, "https://127.0.0.1:%d/api/state" % port)
    st2, f, _, _ = raw(port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    c.ok(st == 200 and st2 == 301, "while a connection sends nothing, HTTPS and the redirect are served (%d, %s)"
         % (st, st2))
    closed = wait_until(lambda: closed_by_server(s), 40)
    dt = time.monotonic() - t0
    s.close()
    print("   a silent connection closed after %.1f s" % dt)
    c.ok(closed and dt >= 4.5, "a connection that sends nothing is closed by the server after its wait (%.1f s)" % dt)
    # a head a byte at a time: the wait runs from the accept, not from each byte
    s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.3", 0))
    s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ")
    t0, cut = time.monotonic(), False
    for _ in range(120):  # 60 s of a byte each half second, if nothing cuts it
        try:
            s.sendall(b"a")
        except OSError:
            cut = True
            break
        if closed_by_server(s):
            cut = True
            break
        time.sleep(0.3)
    dt = time.monotonic() - t0
    s.close()
    print("   a head sent a byte at a time cut after %.1f s" % dt)
    c.ok(cut, "a head sent a byte at a time is cut, its wait not made longer by each byte (%.1f s)" % dt)


def flood(gw, port, ca):
    base_socks = sockets_of(gw.p.pid)
    peak = [0]
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], sockets_of(gw.p.pid) - base_socks)
            time.sleep(0.02)
    w = threading.Thread(target=watch, daemon=True)
    w.start()
    socks = []
    for a in range(2, 7):
        for _ in range(10):
            s = socket.socket()
            s.bind(("127.0.0.%d" % a, 0))
            s.settimeout(5)
            try:
                s.connect(("127.0.0.1", port))
            except OSError:
                pass
            socks.append(s)
    st = wait_until(lambda: curl("--max-time", "5", "--interface", "127.0.0.9", "--cacert", ca,
                                 "https://127.0.0.1:%d/api/state" % port)[0] == 200, 30)
    c.ok(st, "50 silent plain connections from 5 addresses: a client of another address is served beside them")
    for s in socks:
        s.close()
    # forty plain requests at once from the same five addresses
    results = []
    lock = threading.Lock()

    def one(src):
        r = raw(port, b"GET /p HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port, src=src, timeout=30)
        with lock:
            results.append(r)
    before = metric(port, ca, "bmsgw_http_redirected_total")
    ts = [threading.Thread(target=one, args=("127.0.0.%d" % (2 + i % 5),)) for i in range(40)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    stop.set()
    w.join()
    moved = sum(1 for r in results if r[0] == 301)
    refused = sum(1 for r in results if r[0] is None and "still open" not in r[3])
    hung = [r[3] for r in results if "still open" in r[3]]
    print("   40 plain requests at once: %d answered 301, %d refused at the door; the server's sockets rose by %d at "
          "most" % (moved, refused, peak[0]))
    c.ok(len(results) == 40 and not hung and moved + refused == 40 and moved > 0,
         "40 plain requests at once: each answered 301 or refused, none left hanging (%d, %d)" % (moved, refused))
    c.ok(peak[0] <= MAX_CLIENTS + 1, "... the server held at most max_clients and one more of them (%d sockets over "
         "its own)" % peak[0])
    after = metric(port, ca, "bmsgw_http_redirected_total")
    c.ok(before is not None and after is not None and after - before == moved,
         "bmsgw_http_redirected_total counts each redirect (%s -> %s, %d)" % (before, after, moved))
    c.ok(wait_until(lambda: curl("--cacert", ca, "https://127.0.0.1:%d/api/state" % port)[0] == 200, 10),
         "the page answers as before after the flood")


def main():
    sim = Sim()
    gw_port, http_port = free_port(), free_port()
    pem, key = self_signed(TMP)
    gw = Gateway("""[gateway]
listen = 127.0.0.1:%d
state_file = none
[pack.house]
protocol = daly
port = tcp://127.0.0.1:%d
poll_interval = 0.5
[history]
file = none
[http]
listen = 127.0.0.1:%d
max_clients = %d
tls_cert = %s
tls_key = %s
""" % (gw_port, sim.port, http_port, MAX_CLIENTS, pem, key), gw_port)
    try:
        c.ok(wait_until(lambda: curl("--cacert", pem, "https://127.0.0.1:%d/api/state" % http_port)[0] == 200, 15),
             "(bmsgw serves HTTPS)")
        misdirected0 = metric(http_port, pem, "bmsgw_http_misdirected_total")
        redirects(http_port, pem)
        refusals(http_port, pem)
        m = metric(http_port, pem, "bmsgw_http_misdirected_total")
        c.ok(misdirected0 is not None and m is not None and m - misdirected0 == 3,
             "bmsgw_http_misdirected_total counts the foreign Hosts of both (%s -> %s)" % (misdirected0, m))
        https_as_before(gw, http_port, pem)
        chromium(http_port, pem)
        silent(gw, http_port, pem)
        flood(gw, http_port, pem)
        c.ok(gw.alive(), "bmsgw still runs")
        c.eq(gw.stop(), 0, "bmsgw stops cleanly")
        c.ok("Sanitizer" not in gw.text() and "runtime error" not in gw.text(), "no sanitizer report")
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        sim.stop()
        shutil.rmtree(TMP, ignore_errors=True)
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
