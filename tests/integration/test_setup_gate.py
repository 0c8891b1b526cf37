#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The gate of the page and its setup API (issue 89 item 1, "the setup,
attacked"), end to end with the real bmsgw, curl, Python's sockets and
headless Chromium:

1. DNS rebinding: a page of another site whose name comes to resolve to
   bmsgw reads nothing and cannot void the setup code.  Chromium loads the
   attacker's page from its own server (--host-resolver-rules maps the
   name to 127.0.0.2), then bmsgw listens where that server was: the
   page's script asks for the session, the configuration and five wrong
   codes, and gets 421 for each; the code is still good.  curl --resolve,
   as a rebound name looks on the wire, gets 421 on every path (the API,
   /metrics, the page's files), before any handler, the connection closed,
   each refusal counted and logged.  The names a user reaches bmsgw by are
   answered: its addresses (127.0.0.1, [::1], its LAN address, with the
   port, another or none), localhost and NAME.localhost, this host's name
   as gethostname() gives it (any case, a trailing dot, under .local), a
   request without Host (HTTP/1.0); [http] allowed_hosts (a name,
   *.DOMAIN) is taken at a reload, and --check refuses an address, a port
   or a malformed name in it;
2. one rule for the configuration: a read login gets 403 from /api/config
   and from every /api/setup/ path but session and schema (config,
   changes, ports, jobs), an admin 200;
3. a body is refused before it is read: a POST of 200 KiB without a login
   is answered 401 while the client has sent its headers only (it waits
   for the answer before sending a byte of its body), the connection then
   closed; with Expect: 100-continue the 401 comes instead of 100 Continue;
   a client that writes its whole body at once reads the 401 after its
   write is cut;
   a read login's POST (403), a 300 KiB Content-Length (413) and a POST to
   a path that takes none (405) likewise; an admin's login, checked while
   its request waits at its headers, gets 100 Continue, and its body is
   read and answered.
Prints "N passed, N failed"."""
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, FEWEST_ROUNDS, ROOT, Checks, Proc, free_port, own_address, self_signed, wait_port, wait_until  # noqa: E402
from page_clients import users_file  # noqa: E402

c = Checks()
BMSGW = os.path.join(ROOT, BIN, "bmsgw")
TMP = tempfile.mkdtemp(prefix="bmsgw-gate-")
PW = "gate-Pass-4471"
REBOUND = "rebind.example"
WRONG = {"code": "AAAABBBBCCCC", "user": "eve", "password": "eve-Pass-0000"}


class Conn:
    """One HTTP/1.1 connection, plain or TLS, written as the test says."""

    def __init__(self, port, tls=False, host="127.0.0.1", timeout=60):
        s = socket.create_connection((host, port), timeout=timeout)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(s)
        self.s, self.buf = s, b""

    def send(self, data):
        self.s.sendall(data)

    def _recv(self):
        try:
            return self.s.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            return b""

    def answer(self):
        """(status, headers, body) of the next answer; (None, {}, b"") when
        the connection ends (or the socket's timeout passes) first."""
        try:
            while b"\r\n\r\n" not in self.buf:
                d = self._recv()
                if not d:
                    return None, {}, b""
                self.buf += d
            head, _, self.buf = self.buf.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            hdrs = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
            n = 0 if status < 200 else int(hdrs.get("content-length", "0"))
            while len(self.buf) < n:
                d = self._recv()
                if not d:
                    break
                self.buf += d
            body, self.buf = self.buf[:n], self.buf[n:]
            return status, hdrs, body
        except socket.timeout:
            return None, {}, b""

    def closed(self):
        """The server ends the connection, nothing more coming."""
        try:
            return not self.buf and self._recv() == b""
        except socket.timeout:
            return False

    def close(self):
        self.s.close()


def tmp_ini(what):
    """A new configuration file's name in TMP (made, empty)."""
    fd, path = tempfile.mkstemp(suffix=".ini", prefix=what + "-", dir=TMP)
    os.close(fd)
    return path


def request(method, path, host, headers=(), length=None):
    lines = ["%s %s HTTP/1.1" % (method, path)]
    if host is not None:
        lines.append("Host: " + host)
    if length is not None:
        lines.append("Content-Length: %d" % length)
    return ("\r\n".join(lines + list(headers)) + "\r\n\r\n").encode()


def ask(port, path, host, method="GET", headers=(), body=b"", tls=False, raw=None, to="127.0.0.1"):
    """(status, headers, body, closed after it) of one request on its own
    connection (to address `to`)."""
    k = Conn(port, tls, to)
    k.send(raw or request(method, path, host, list(headers) + ["Connection: close"],
                          len(body) if method == "POST" else None) + body)
    st, h, b = k.answer()
    gone = k.closed()
    k.close()
    return st, h, b, gone


def basic(user):
    import base64
    return "Authorization: Basic " + base64.b64encode(("%s:%s" % (user, PW)).encode()).decode()


def new_installation(listen, name):
    """bmsgw with a configuration without a pack (the setup code drawn),
    its page on `listen` ("ADDR:PORT"): (proc, conf path, its directory)."""
    d = tempfile.mkdtemp(dir=TMP)
    conf = os.path.join(d, "bmsgw.ini")
    with open(conf, "w") as f:
        f.write("[gateway]\nlisten = 127.0.0.1:%d\nstate_file = %s/state\n[http]\nlisten = %s\n[history]\n"
                "file = none\n" % (free_port(), d, listen))
    g = Proc([BMSGW, "-c", conf], name)
    host, port = listen.rsplit(":", 1)
    if not wait_port(int(port), 20, "127.0.0.1" if host == "0.0.0.0" else host):
        g.dump()
        raise RuntimeError("bmsgw's page did not start")
    return g, conf, d


def session(port, host="127.0.0.1"):
    st, _, b, _ = ask(port, "/api/setup/session", "%s:%d" % (host, port), to=host)
    return json.loads(b) if st == 200 else {}


def curl_rebound(port, path, method="GET", headers=(), data=None):
    """curl of http://rebind.example:PORT/path, the name resolving to this
    machine (--resolve): (status, body)."""
    args = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "20", "--resolve",
            "%s:%d:127.0.0.1" % (REBOUND, port), "-X", method]
    for h in headers:
        args += ["-H", h]
    if data is not None:
        args += ["--data-binary", data]
    r = subprocess.run(args + ["http://%s:%d%s" % (REBOUND, port, path)], capture_output=True)
    body, _, code = r.stdout.rpartition(b"\n")
    return (int(code) if code.strip().isdigit() else None), body


# ------------------------------------------------------------ 1. rebinding

def names(port, g):
    print("== 1. the names bmsgw answers to, and the others")
    hostname = socket.gethostname()
    label = hostname.split(".")[0]
    answered = ["127.0.0.1:%d" % port, "127.0.0.1", "127.0.0.1:1", "localhost", "localhost:%d" % port,
                "LocalHost.:%d" % port, "bmsgw.localhost:%d" % port, "[::1]:%d" % port, "[::1]",
                hostname, "%s:%d" % (hostname.upper(), port), "%s.:%d" % (hostname, port),
                "%s.local:%d" % (label, port)]
    own = own_address()
    if own:
        answered.append("%s:%d" % (own, port))
    for h in answered:
        st, _, b, _ = ask(port, "/api/setup/session", h)
        c.eq(st, 200, "Host: %s is answered" % h)
    st, _, b, _ = ask(port, "", None, raw=b"GET /api/setup/session HTTP/1.0\r\n\r\n")
    c.eq(st, 200, "a request without Host (HTTP/1.0, no browser) is answered")
    refused = ["%s:%d" % (REBOUND, port), REBOUND, "127.0.0.1.%s:%d" % (REBOUND, port),
               "localhost.%s" % REBOUND, "%s.%s:%d" % (label, REBOUND, port), "%s.local.%s" % (label, REBOUND),
               "[::1", "::1", "%s:%d:%d" % (REBOUND, port, port), "[::1]x", "bad_host!", "a..b"]
    for h in refused:
        st, hd, b, gone = ask(port, "/api/setup/session", h)
        msg = json.loads(b).get("error", "") if st == 421 else ""
        c.ok(st == 421 and "allowed_hosts" in msg and gone, "Host: %s: 421, the connection closed (%s)" % (h, msg[:70]))
    st, hd, b, gone = ask(port, "/", REBOUND)
    c.ok(st == 421 and hd.get("content-type", "").startswith("text/plain") and b"allowed_hosts" in b,
         "the page itself: 421 as text")
    c.ok(re.search(r'from 127\.0\.0\.1 for "%s:%d" refused \(421\): not a name of this gateway'
                   % (re.escape(REBOUND), port), g.text()), "a refusal is logged with the address and the name asked")


def rebound_paths(port, g, conf_dir):
    print("== 1. every path through a rebound name (curl --resolve)")
    for path in ("/", "/index.html", "/app.js", "/api/state", "/api/config", "/api/events", "/metrics",
                 "/api/history?unit=bank", "/javascript/chart.js/chart.umd.js", "/api/setup/session",
                 "/api/setup/config", "/api/setup/changes", "/api/setup/ports", "/api/setup/schema",
                 "/api/setup/jobs/1", "/nosuch"):
        st, _ = curl_rebound(port, path)
        c.eq(st, 421, "GET %s through %s" % (path, REBOUND))
    tok = session(port).get("csrf", "")
    for i in range(5):
        st, _ = curl_rebound(port, "/api/setup/admin", "POST",
                             ["Content-Type: application/json", "X-CSRF-Token: " + tok,
                              "Origin: http://%s:%d" % (REBOUND, port)], json.dumps(WRONG))
        c.eq(st, 421, "wrong code %d through %s, with this code's token: 421" % (i + 1, REBOUND))
    c.eq(g.text().count("a wrong setup code"), 0, "no wrong code was counted")
    c.ok(session(port).get("setup_code_needed") is True and os.path.exists(os.path.join(conf_dir, "setup-code")),
         "the setup code is still good")
    st, _, b, _ = ask(port, "/metrics", "127.0.0.1:%d" % port)
    m = re.search(rb"^bmsgw_http_misdirected_total (\d+)", b, re.M)
    c.ok(m and int(m.group(1)) >= 21, "each counted (bmsgw_http_misdirected_total %s)" % (m and m.group(1)))
    st, _, b, _ = ask(port, "/api/state", "127.0.0.1:%d" % port)
    c.ok(st == 200 and json.loads(b)["http"].get("misdirected", 0) >= 21, "... and in /api/state's http")


class Attacker:
    """The other site's server: its page at http://rebind.example:PORT/,
    on 127.0.0.2 (where Chromium resolves the name), until it is stopped."""

    def __init__(self, port):
        conns = self.conns = []

        class Handler(BaseHTTPRequestHandler):
            def setup(self):
                conns.append(self.request)  # a connection Chromium opened ahead is ended at stop()
                super().setup()

            def do_GET(self):  # noqa: N802 - http.server's name
                body = b"<!doctype html><title>another site</title><p>nothing to see"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass
        self.srv = ThreadingHTTPServer(("127.0.0.2", port), Handler)
        self.srv.daemon_threads = True
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()
        for s in self.conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


ATTACK = """
window.out = null;
(async () => {
  const out = {admin: []};
  const s = await fetch('/api/setup/session', {cache: 'no-store'});
  out.session = s.status;
  const tok = s.status === 200 ? (await s.json()).csrf : '';
  out.config = (await fetch('/api/setup/config', {cache: 'no-store'})).status;
  out.state = (await fetch('/api/state', {cache: 'no-store'})).status;
  for (let i = 0; i < 5; i++) {
    const r = await fetch('/api/setup/admin', {method: 'POST', cache: 'no-store',
      headers: {'Content-Type': 'application/json', 'X-CSRF-Token': tok}, body: JSON.stringify(arguments[0])});
    out.admin.push(r.status);
  }
  window.out = out;
})().catch(e => { window.out = {error: String(e)}; });
"""


def chromium_rebinding():
    print("== 1. DNS rebinding in Chromium")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    port = free_port()
    evil = Attacker(port)
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable",
              "--host-resolver-rules=MAP %s 127.0.0.2" % REBOUND,
              "--user-data-dir=" + tempfile.mkdtemp(prefix="bmsgw-chromium-", dir=TMP)):
        o.add_argument(a)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    g = None
    try:
        d.get("http://%s:%d/" % (REBOUND, port))
        c.ok("another site" in d.title, "the other site's page is loaded from its own server")
        evil.stop()  # the name now leads to bmsgw, on the same port
        g, _, gdir = new_installation("127.0.0.2:%d" % port, "bmsgw-rebound")
        d.execute_script(ATTACK.replace("arguments[0]", json.dumps(WRONG)))
        out = wait_until(lambda: d.execute_script("return window.out"), 60) or {}
        c.ok(out.get("session") == 421 and out.get("config") == 421 and out.get("state") == 421,
             "its script's reads of the session, the configuration and the state: 421 (%s)" % out)
        c.eq(out.get("admin"), [421] * 5, "its five wrong codes: 421")
        c.ok(g.text().count("a wrong setup code") == 0 and session(port, "127.0.0.2").get("setup_code_needed"),
             "the setup code is still good")
    finally:
        d.quit()
        if g:
            g.stop()


def allowed_hosts(port, g, conf):
    print("== 1. [http] allowed_hosts")
    text = open(conf).read()
    with open(conf, "w") as f:
        f.write(text.replace("[http]\n", "[http]\nallowed_hosts = bmsgw.example.net, *.home.arpa\n"))
    n = g.text().count("reload #")
    g.p.send_signal(signal.SIGHUP)
    c.ok(wait_until(lambda: g.text().count("reload #") > n and "applied" in g.text().split("reload #")[-1], 20),
         "allowed_hosts added (SIGHUP)")
    for h, want in (("bmsgw.example.net:%d" % port, 200), ("BMSGW.Example.Net.", 200), ("pi.home.arpa:8080", 200),
                    ("a.b.home.arpa", 200), ("home.arpa", 421), ("evilhome.arpa", 421),
                    ("bmsgw.example.net.%s" % REBOUND, 421), (REBOUND, 421)):
        st, _, _, _ = ask(port, "/api/setup/session", h)
        c.eq(st, want, "Host: %s" % h)
    for value, words in (("192.168.1.20", "is an address"), ("[fe80::1]", "is an address"),
                         ("pi.lan:8080", "has a port"), ("bad_host!", "is not a host name"), ("a..b", "not a host")):
        bad = tmp_ini("bad")
        with open(bad, "w") as f:
            f.write("[gateway]\nstate_file = none\n[http]\nlisten = 127.0.0.1:%d\nallowed_hosts = pi, %s\n"
                    % (free_port(), value))
        r = subprocess.run([BMSGW, "-c", bad, "--check"], capture_output=True, text=True)
        c.ok(r.returncode != 0 and "allowed_hosts" in r.stderr and words in r.stderr,
             "--check refuses allowed_hosts = pi, %s (%s)" % (value, r.stderr.strip().splitlines()[-1:]))
    ok = tmp_ini("ok")
    with open(ok, "w") as f:
        f.write("[gateway]\nstate_file = none\n[http]\nlisten = 127.0.0.1:%d\nallowed_hosts = *\n" % free_port())
    r = subprocess.run([BMSGW, "-c", ok, "--check"], capture_output=True, text=True)
    c.ok(r.returncode == 0 and re.search(r"hosts .*, and \*", r.stdout), "--check takes * and says so")


# ------------------------------------------------------------ 2 and 3: logins

def https_gateway():
    pem, key = self_signed(TMP)
    users = users_file(TMP, [("ada", "admin"), ("bob", "admin"), ("rita", "read")], PW, FEWEST_ROUNDS)
    port = free_port()
    conf = tmp_ini("https")
    with open(conf, "w") as f:
        f.write("[gateway]\nlisten = 127.0.0.1:%d\nstate_file = none\n[http]\nlisten = 127.0.0.1:%d\n"
                "tls_cert = %s\ntls_key = %s\nusers_file = %s\n[history]\nfile = none\n"
                % (free_port(), port, pem, key, users))
    g = Proc([BMSGW, "-c", conf], "bmsgw-https")
    if not wait_port(port, 20):
        g.dump()
        raise RuntimeError("bmsgw's HTTPS page did not start")
    return g, port


def as_user(port, path, user, method="GET"):
    """The status of path for user, once the login is not told to come back."""
    last = [None]

    def go():
        last[0] = ask(port, path, "127.0.0.1:%d" % port, method, [basic(user)], tls=True)[0]
        return last[0] not in (429, 503)
    wait_until(go, 40, step=0.3)
    return last[0]


def one_rule(port):
    print("== 2. the configuration is an admin's")
    for path in ("/api/config", "/api/setup/config", "/api/setup/changes", "/api/setup/ports", "/api/setup/jobs/1"):
        c.eq(as_user(port, path, "rita"), 403, "a read login's GET %s" % path)
    for path in ("/api/state", "/api/setup/session", "/api/setup/schema"):
        c.eq(as_user(port, path, "rita"), 200, "a read login's GET %s" % path)
    for path in ("/api/config", "/api/setup/config", "/api/setup/changes", "/api/setup/ports"):
        c.eq(as_user(port, path, "ada"), 200, "an admin's GET %s" % path)
    st, _, b, _ = ask(port, "/api/setup/session", "127.0.0.1:%d" % port, headers=[basic("rita")], tls=True)
    s = json.loads(b) if st == 200 else {}
    c.ok(s.get("role") == "read" and not s.get("can_write") and "admin's" in (s.get("why") or ""),
         "the session says why (%s)" % s.get("why"))


def refused_at_headers(port, what, path, headers, length, want):
    """A POST's headers sent, its body not: the answer comes, then the end."""
    k = Conn(port, tls=True)
    k.send(request("POST", path, "127.0.0.1:%d" % port, ["Content-Type: application/json"] + headers, length))
    st, hd, body = k.answer()
    gone = k.closed()
    k.close()
    c.ok(st == want and gone, "%s: %s while only its headers were sent, the connection then closed (%s %s)"
         % (what, want, st, body[:60]))
    return hd


def bodies(port, g):
    print("== 3. a body refused before it is read")
    big = 200 * 1024
    hd = refused_at_headers(port, "a POST of 200 KiB without a login", "/api/setup/apply", [], big, 401)
    c.ok(hd.get("www-authenticate", "").startswith("Basic"), "... with the Basic challenge")
    refused_at_headers(port, "the same with Expect: 100-continue", "/api/setup/apply", ["Expect: 100-continue"],
                       big, 401)
    # a client that writes its whole body at once, as Python's http.client
    # does: its write may be cut when the connection closes, and the answer
    # is read after it (as curl and browsers read it)
    got = []
    for _ in range(5):
        k = Conn(port, tls=True)
        try:
            k.send(request("POST", "/api/setup/apply", "127.0.0.1:%d" % port, [], big) + b"x" * big)
        except OSError:
            pass
        got.append(k.answer()[0])
        k.close()
    c.eq(got, [401] * 5, "a client that sends its 200 KiB at once still reads the 401")
    as_user(port, "/api/state", "rita")  # rita's login remembered: answered at once
    refused_at_headers(port, "a read login's POST of 200 KiB", "/api/setup/apply", [basic("rita")], big, 403)
    refused_at_headers(port, "an admin's POST of 300 KiB", "/api/setup/apply", [basic("ada")], 300 * 1024, 413)
    refused_at_headers(port, "a POST of 200 KiB to /api/state without a login", "/api/state", [], big, 401)
    refused_at_headers(port, "an admin's POST to /api/state", "/api/state", [basic("ada")], big, 405)
    c.ok('login refused for user' not in g.text(), "none of them asked for a password check that failed")
    # bob's first login: checked (PBKDF2, off the loop) while the request waits at its headers
    k = Conn(port, tls=True)
    k.send(request("POST", "/api/setup/apply", "127.0.0.1:%d" % port,
                   ["Content-Type: application/json", "Expect: 100-continue", basic("bob")], big))
    st, _, _ = k.answer()
    c.eq(st, 100, "an admin's first login with Expect: 100-continue: 100 Continue once it is checked")
    pad = json.dumps({"pad": ""}).encode()
    k.send(pad[:-2] + b"x" * (big - len(pad)) + pad[-2:])
    st, _, body = k.answer()
    c.ok(st == 403 and b"X-CSRF-Token" in body, "... then its body is read and the setup API answers (%s %s)"
         % (st, body[:80]))
    k.close()


def main():
    g = None
    try:
        port = free_port()
        g, conf, d = new_installation("0.0.0.0:%d" % port, "bmsgw")
        names(port, g)
        rebound_paths(port, g, d)
        chromium_rebinding()
        allowed_hosts(port, g, conf)
        c.ok(g.alive() and "Sanitizer" not in g.text(), "bmsgw ran throughout")
        g.stop()
        g, port = https_gateway()
        one_rule(port)
        bodies(port, g)
        c.ok(g.alive() and "Sanitizer" not in g.text(), "bmsgw ran throughout")
    finally:
        if g and c.failed:
            g.dump(40)
        if g:
            g.stop()
        shutil.rmtree(TMP, True)
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
