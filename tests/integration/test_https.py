#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""HTTPS and logins of the status page ([http] tls_cert, tls_key,
users_file, metrics_public), end to end with curl, Python's ssl and
headless Chromium against the real bmsgw and the simulator.

- certificates made here with openssl (a CA, two server certificates with
  SAN IP:127.0.0.1), the users file of `bmsgw --hash-password`'s lines
  (the admin's, whose wrong passwords are checked over and over, at the
  format's fewest rounds: harness.user_line);
- curl --cacert over HTTPS: /, /api/state, /metrics with a login; none:
  401 with the Basic challenge; a TLS 1.1 client refused;
- roles: a read user's /api/config 403, an admin's 200; metrics_public;
- a wrong password: 401, and its address then waits, longer after each
  failure (the growing delay, as logged): a login from it meanwhile, right
  or wrong, is answered 429 at once with Retry-After, never checked nor
  held; each failure logged with the address and the name, never the
  password or the hash; a good login after the wait ends the run;
- secrets: no password, hash or key in the log, /api/config, /api/state;
- --check refuses a users_file without tls_cert, a users file or key
  others may read (with its path), a bad users line (file:line), a key
  that is not the certificate's; a plain HTTP server refuses a login;
- SIGHUP with a new certificate in place while an event stream runs over
  TLS: the stream goes on, a new connection gets the new certificate; a
  broken certificate at reload: refused, the old one served;
- logins added by SIGHUP while no thread can start (tests/tools/nothread.c):
  every request refused (503), none served without a login; logins work
  after the next SIGHUP;
- Chromium loads the page over HTTPS with a login, trusting only the test
  certificate's key (--ignore-certificate-errors-spki-list), and the page
  goes live (its event stream through the login)."""
import base64
import hashlib
import http.client
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
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BIN, ROOT, Checks, Gateway, Proc, Sim, free_port, user_line, wait_port, wait_until,  # noqa: E402
                     write_conf)

c = Checks()
BMSGW = os.path.join(ROOT, BIN, "bmsgw")
PW = {"ada": "adm-Pass-7731", "rita": "read-Pass-5519"}


def sh(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, **kw)


def make_certs(tmp):
    """A CA, and two server certificates of 127.0.0.1 (serials 1001 and 1002)."""
    ca_key, ca = os.path.join(tmp, "ca.key"), os.path.join(tmp, "ca.pem")
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
       ca_key, "-out", ca, "-days", "2", "-subj", "/CN=bmsgw test CA", check=True)
    ext = os.path.join(tmp, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n")
    for n in (1, 2):
        key, csr, crt = (os.path.join(tmp, "srv%d.%s" % (n, e)) for e in ("key", "csr", "pem"))
        sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
           "-out", csr, "-subj", "/CN=bmsgw test %d" % n, check=True)
        sh("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-set_serial", str(1000 + n),
           "-days", "2", "-extfile", ext, "-out", crt, check=True)
        os.chmod(key, 0o600)
    return ca


def users_file(tmp):
    """The users file and its lines: --hash-password's, checked; in the
    file rita's as it wrote it (her logins are those of its line) and ada's
    at the fewest rounds: each of her wrong passwords below is a check,
    1.4 s of CPU at 600,000 rounds in the sanitized build."""
    lines = []
    for name, role in (("ada", "admin"), ("rita", "read")):
        r = subprocess.run([BMSGW, "--hash-password", name, role], input=PW[name] + "\n", capture_output=True,
                           text=True)
        c.eq(r.returncode, 0, "bmsgw --hash-password %s %s (%s)" % (name, role, r.stderr.strip()))
        lines.append(r.stdout.strip())
    c.ok(all(re.fullmatch(r"\w+:(admin|read):\$pbkdf2-sha256\$600000\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}", l)
             for l in lines), "its lines are NAME:ROLE:$pbkdf2-sha256$600000$SALT$HASH (%s)" % lines[0][:40])
    lines[0] = user_line("ada", "admin", PW["ada"]).strip()
    path = os.path.join(tmp, "users")
    with open(path, "w") as f:
        f.write("# bmsgw users\n" + "\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return path, lines


def conf(gw_port, http_port, sim_port, http_keys):
    return """[gateway]
listen = 127.0.0.1:%d
state_file = none
[pack.house]
protocol = daly
port = tcp://127.0.0.1:%d
unit_id = 1
poll_interval = 0.5
timeout = 0.5
retries = 0
[history]
file = none
[http]
listen = 127.0.0.1:%d
%s
""" % (gw_port, sim_port, http_port, http_keys)


def curl(url, ca, user=None, extra=(), interface=None):
    """(status, body, seconds, curl's exit code)"""
    args = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "40", "--cacert", ca] + list(extra)
    if user:
        args += ["-u", "%s:%s" % user]
    if interface:
        args += ["--interface", interface]
    t = time.monotonic()
    r = subprocess.run(args + [url], capture_output=True)
    dt = time.monotonic() - t
    body, _, code = r.stdout.rpartition(b"\n")
    return (int(code) if code.strip().isdigit() else 0), body, dt, r.returncode


def until_let(url, ca, user, interface=None):
    """curl url until it is not answered 429 (its address waits after a
    failure: the client comes back as Retry-After says)."""
    last = [None]

    def go():
        last[0] = curl(url, ca, user, interface=interface)
        return last[0][0] != 429
    wait_until(go, 40, step=0.3)
    return last[0]


def retry_after(url, ca, user, interface):
    """(status, Retry-After) of one request."""
    args = ["curl", "-s", "-D", "-", "-o", "/dev/null", "--max-time", "40", "--cacert", ca, "-u", "%s:%s" % user,
            "--interface", interface, url]
    out = subprocess.run(args, capture_output=True, text=True).stdout
    st = re.search(r"^HTTP/\S+ (\d+)", out, re.M)
    ra = re.search(r"(?im)^retry-after: (\d+)", out)
    return (int(st.group(1)) if st else 0), (int(ra.group(1)) if ra else None)


def connections(urls, ca, user=None):
    """How many connections curl opened for urls, one after the other
    (keep-alive: one)."""
    args = ["curl", "-sv", "--max-time", "20", "--cacert", ca] + (["-u", "%s:%s" % user] if user else [])
    r = subprocess.run(args + [a for u in urls for a in (u, "-o", "/dev/null")], capture_output=True, text=True)
    return r.stderr.count("* Connected to")


def peer_der(port, ca):
    """The certificate a new TLS connection to port gets (DER)."""
    ctx = ssl.create_default_context(cafile=ca)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
            return t.getpeercert(binary_form=True)


def der_of(pem):
    with open(pem) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def fp(der):
    return hashlib.sha256(der).hexdigest()[:16] if der else None


class Stream:
    """/api/events over TLS with a login, read on a thread: the times its
    state events came."""

    def __init__(self, port, ca, user):
        self.times, self.error = [], None
        ctx = ssl.create_default_context(cafile=ca)
        self.conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=20)
        auth = base64.b64encode(("%s:%s" % user).encode()).decode()
        self.conn.request("GET", "/api/events", headers={"Authorization": "Basic " + auth})
        self.r = self.conn.getresponse()
        self.status = self.r.status
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        try:
            while True:
                line = self.r.fp.readline()
                if not line:
                    break
                if line.startswith(b"event: state"):
                    self.times.append(time.monotonic())
        except Exception as e:  # noqa: BLE001 - the stream's end, whatever it is
            self.error = e

    def close(self):
        self.conn.close()


def checks_refused(tmp, ca, users, ports):
    """--check: the configurations that must be refused, and what they say."""
    def check(keys):
        p = write_conf(conf(ports["gw"], ports["http2"], ports["sim"], keys))
        r = sh(BMSGW, "-c", p, "--check")
        os.unlink(p)
        return r.returncode, r.stdout + r.stderr
    rc, out = check("users_file = %s" % users)
    c.ok(rc != 0 and "needs tls_cert" in out, "--check refuses users_file without tls_cert (%s)" % out.strip()[:120])
    loose = os.path.join(tmp, "users-loose")
    shutil.copy(users, loose)
    os.chmod(loose, 0o644)
    srv = "tls_cert = %s\ntls_key = %s\n" % (os.path.join(tmp, "srv1.pem"), os.path.join(tmp, "srv1.key"))
    rc, out = check(srv + "users_file = %s" % loose)
    c.ok(rc != 0 and loose in out and "readable by others" in out,
         "--check refuses a users file others may read, with its path (%s)" % out.strip()[:160])
    key = os.path.join(tmp, "loose.key")
    shutil.copy(os.path.join(tmp, "srv1.key"), key)
    os.chmod(key, 0o644)
    rc, out = check("tls_cert = %s\ntls_key = %s" % (os.path.join(tmp, "srv1.pem"), key))
    c.ok(rc != 0 and key in out, "--check refuses a key others may read, with its path (%s)" % out.strip()[:160])
    rc, out = check("tls_cert = %s\ntls_key = %s" % (os.path.join(tmp, "srv1.pem"), os.path.join(tmp, "srv2.key")))
    c.ok(rc != 0 and "is not the key of the certificate" in out, "--check refuses a key of another certificate (%s)"
         % out.strip()[:160])
    bad = os.path.join(tmp, "users-bad")
    with open(users) as f:
        good = f.read()
    with open(bad, "w") as f:
        f.write(good + "eve:root:$pbkdf2-sha256$600000$AAAAAAAAAAAAAAAAAAAAAA==$x\n")
    os.chmod(bad, 0o600)
    rc, out = check(srv + "users_file = %s" % bad)
    c.ok(rc != 0 and "%s:4:" % bad in out and "role" in out, "--check: a bad users line, with file:line (%s)"
         % out.strip()[:160])
    rc, out = check(srv + "users_file = %s" % users)
    c.ok(rc == 0 and "https" in out and "logins" in out, "--check accepts HTTPS with logins and says so")
    c.ok(not any(l.split(":")[2] in out for l in open(users).read().splitlines()[1:]), "... never showing a hash")


def logins(port, ca, gw, lines):
    base = "https://127.0.0.1:%d" % port
    st, body, _, _ = curl(base + "/", ca)
    c.eq(st, 401, "HTTPS / without a login: 401")
    hdr = subprocess.run(["curl", "-s", "-D", "-", "-o", "/dev/null", "--cacert", ca, base + "/api/state"],
                         capture_output=True, text=True).stdout
    c.ok(re.search(r'(?im)^www-authenticate: basic realm="bmsgw"', hdr), "... with the Basic challenge")
    adm, rd = ("ada", PW["ada"]), ("rita", PW["rita"])
    st, body, t_first, _ = curl(base + "/", ca, adm)
    c.ok(st == 200 and b"<html" in body.lower(), "the page over HTTPS with the admin's login (%d, %.2f s)"
         % (st, t_first))
    st, body, _, _ = curl(base + "/api/state", ca, adm)
    c.ok(st == 200 and json.loads(body).get("packs"), "/api/state over HTTPS")
    st, body, t_again, _ = curl(base + "/metrics", ca, adm)
    c.ok(st == 200 and b"bmsgw_http_requests_total" in body, "/metrics over HTTPS (%.2f s: remembered)" % t_again)
    st, body, _, _ = curl(base + "/api/state", ca, rd)
    c.eq(st, 200, "a read user's /api/state: 200")
    st, body, _, _ = curl(base + "/api/config", ca, rd)
    c.eq(st, 403, "a read user's /api/config: 403")
    st, cfg, _, _ = curl(base + "/api/config", ca, adm)
    c.eq(st, 200, "the admin's /api/config: 200")
    n = connections([base + p for p in ("/", "/api/state", "/metrics", "/style.css")], ca, adm)
    c.eq(n, 1, "four requests over one TLS connection (keep-alive: one handshake)")
    st, _, _, rc = curl(base + "/api/state", ca, adm, extra=("--tls-max", "1.1", "--tlsv1.0"))
    c.ok(st == 0 and rc != 0, "a TLS 1.1 client is refused (curl exit %d)" % rc)
    st, _, _, rc = curl(base + "/api/state", ca, adm, extra=("--tlsv1.2", "--tls-max", "1.2"))
    c.eq(st, 200, "a TLS 1.2 client is served")
    # wrong passwords from another address of the loopback: the address
    # waits 1, 2, 4 s (the daemon's log says which), a login from it
    # meanwhile is answered 429 at once, never checked (no failure logged)
    wrong = ("ada", "not-the-password")
    url = base + "/api/state"
    pat2 = re.compile(r'login refused for user "(\w+)" from 127\.0\.0\.2 \((\d+) failures? in a row: it waits '
                      r'(\d+) s\)')
    st1 = curl(url, ca, wrong, interface="127.0.0.2")[0]
    st2, ra2 = retry_after(url, ca, wrong, "127.0.0.2")
    c.ok(st1 == 401 and st2 == 429 and ra2 == 1, "a wrong password: 401; the next one from that address while it "
         "waits: 429 with Retry-After: 1 (%d, %d, %s)" % (st1, st2, ra2))
    c.eq(len(pat2.findall(gw.text())), 1, "... the one in the wait not checked (one failure logged)")
    st3 = until_let(url, ca, wrong, "127.0.0.2")[0]
    st4, ra4 = retry_after(url, ca, adm, "127.0.0.2")
    c.ok(st3 == 401 and st4 == 429 and ra4 in (1, 2), "after its wait, a wrong one again: 401, and the right one "
         "then: 429 with Retry-After up to 2 (%d, %d, %s)" % (st3, st4, ra4))
    st5 = until_let(url, ca, ("nobody", "x"), "127.0.0.2")[0]
    wait_until(lambda: len(pat2.findall(gw.text())) >= 3, 20)
    c.ok(st5 == 401 and [w for _, _, w in pat2.findall(gw.text())] == ["1", "2", "4"],
         "an unknown user from that address: 401, and the waits logged grow 1, 2, 4 s (%s)" % pat2.findall(gw.text()))
    c.eq(curl(url, ca, adm)[0], 200, "another address is not delayed")
    # a good login after the wait ends the run of failures
    st = curl(url, ca, wrong, interface="127.0.0.4")[0]
    st_in, ra_in = retry_after(url, ca, adm, "127.0.0.4")
    st_after = until_let(url, ca, adm, "127.0.0.4")[0]
    c.ok(st == 401 and st_in == 429 and ra_in == 1 and st_after == 200,
         "the right password during its address's wait: 429 with Retry-After: 1, not held; after it, 200 (%d, %s, %d)"
         % (st_in, ra_in, st_after))
    st6 = curl(url, ca, wrong, interface="127.0.0.4")[0]
    # the wait the daemon chose is in its log line (measuring it from here
    # would be a latency: a loaded machine adds seconds to a TLS handshake)
    pat4 = re.compile(r'login refused for user "ada" from 127\.0\.0\.4 \((\d+) failures? in a row: it waits '
                      r'(\d+) s\)')
    wait_until(lambda: len(pat4.findall(gw.text())) >= 2, 20)
    again = pat4.findall(gw.text())
    c.ok(st6 == 401 and len(again) == 2 and again[-1] == ("1", "1"),
         "a good login ended the run of failures: the next wait is 1 s again (logged %s)" % again)
    log = gw.text()
    c.ok(re.search(r'login refused for user "ada" from 127\.0\.0\.2 \(1 failure', log) and
         re.search(r'login refused for user "nobody" from 127\.0\.0\.2 \(3 failures', log),
         "each failure logged once, with the address and the name")
    secrets = [PW["ada"], PW["rita"], "not-the-password"] + [l.split(":")[2] for l in lines] + \
              [l.split("$")[4] for l in lines]
    st, state, _, _ = curl(base + "/api/state", ca, adm)
    for where, text in (("the log", log), ("/api/config", cfg.decode()), ("/api/state", state.decode())):
        c.ok(not any(s in text for s in secrets), "no password or hash in %s" % where)
    with open(os.path.join(os.path.dirname(ca), "srv1.key")) as f:
        keytext = "".join(f.read().splitlines()[1:-1])[:40]
    c.ok(keytext not in cfg.decode() and keytext not in log, "no key in /api/config or the log")


def reload_cert(gw, port, ca, tmp, cert):
    """A new certificate in place while a page streams events."""
    s = Stream(port, ca, ("rita", PW["rita"]))
    c.eq(s.status, 200, "an event stream over TLS with a login")
    c.ok(wait_until(lambda: len(s.times) >= 2, 15), "... its events come (%d)" % len(s.times))
    c.eq(fp(peer_der(port, ca)), fp(der_of(os.path.join(tmp, "srv1.pem"))), "(the first certificate is served)")
    shutil.copy(os.path.join(tmp, "srv2.pem"), cert)
    shutil.copy(os.path.join(tmp, "srv2.key"), cert.replace(".pem", ".key"))
    n0 = len(gw.text().splitlines())
    gw.p.send_signal(signal.SIGHUP)
    c.ok(wait_until(lambda: re.search(r"reload #1: applied", "\n".join(gw.text().splitlines()[n0:])), 10),
         "SIGHUP with the certificate renewed in place: applied")
    t_reload = time.monotonic()
    c.ok(wait_until(lambda: len([t for t in s.times if t > t_reload]) >= 2, 15),
         "the event stream goes on after the reload (%d events since)" % len([t for t in s.times if t > t_reload]))
    c.eq(fp(peer_der(port, ca)), fp(der_of(os.path.join(tmp, "srv2.pem"))), "a new connection gets the new certificate")
    c.ok("serial 03ea" in gw.text(), "the log names the new certificate's serial (1002 = 0x3ea)")
    with open(cert, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
    n0 = len(gw.text().splitlines())
    gw.p.send_signal(signal.SIGHUP)
    c.ok(wait_until(lambda: re.search(r"reload #2 failed.*tls_cert.*%s" % re.escape(cert),
                                      "\n".join(gw.text().splitlines()[n0:])), 10),
         "a broken certificate at reload: refused, saying so with the file")
    c.eq(fp(peer_der(port, ca)), fp(der_of(os.path.join(tmp, "srv2.pem"))), "... and the old one is still served")
    n = len(s.times)
    c.ok(wait_until(lambda: len(s.times) > n, 10) and s.error is None, "... the stream still going")
    s.close()
    shutil.copy(os.path.join(tmp, "srv2.pem"), cert)


def metrics_public(gw, port, ca, conf_path, text):
    with open(conf_path, "w") as f:
        f.write(text.replace("[http]\n", "[http]\nmetrics_public = true\n"))
    n0 = len(gw.text().splitlines())
    gw.p.send_signal(signal.SIGHUP)
    c.ok(wait_until(lambda: re.search(r"reload #\d+: applied", "\n".join(gw.text().splitlines()[n0:])), 10),
         "metrics_public = true by SIGHUP: applied")
    base = "https://127.0.0.1:%d" % port
    c.eq(curl(base + "/metrics", ca)[0], 200, "/metrics without a login with metrics_public")
    c.eq(curl(base + "/api/state", ca)[0], 401, "... /api/state still asks for one")


def sighup(gw, what):
    n0 = len(gw.text().splitlines())
    gw.p.send_signal(signal.SIGHUP)
    got = wait_until(lambda: re.search(r"reload #\d+: applied|reload #\d+ failed.*",
                                       "\n".join(gw.text().splitlines()[n0:])), 10)
    return got.group(0) if got else "no reload line"


def users_reload(gw, port, ca, users, lines, tmp):
    """A new user by SIGHUP; a broken users file refused, the old users kept."""
    base = "https://127.0.0.1:%d" % port
    r = subprocess.run([BMSGW, "--hash-password", "max", "read"], input="max-Pass-1\n", capture_output=True,
                       text=True)
    with open(users, "a") as f:
        f.write(r.stdout)
    c.eq(curl(base + "/api/state", ca, ("max", "max-Pass-1"))[0], 401, "(max is not a user yet)")
    c.ok("applied" in sighup(gw, "users"), "a new users file by SIGHUP: applied")
    c.eq(until_let(base + "/api/state", ca, ("max", "max-Pass-1"))[0], 200, "... its new user logs in")
    with open(users, "a") as f:
        f.write("max:read:%s\n" % lines[0].split(":", 2)[2])
    line = sighup(gw, "users")
    c.ok("failed" in line and "%s:5: user max is on an earlier line too" % users in line,
         "a users file with a duplicate name at reload: refused with file:line (%s)" % line[-120:])
    c.eq(until_let(base + "/api/state", ca, ("ada", PW["ada"]))[0], 200, "... the old users still log in")
    with open(users, "w") as f:
        f.write("\n".join(lines) + "\n")


def requests_seen(base, ca):
    """bmsgw's count of the HTTP requests it was sent, this one included, as
    ada sees it from an address of her own (None: not answered)."""
    st, body, _, _ = curl(base + "/api/state", ca, ("ada", PW["ada"]), interface="127.0.5.20")
    return json.loads(body)["http"]["requests"] if st == 200 else None


def drop_users(gw, port, ca, conf_path, text):
    """users_file removed by SIGHUP while a login waits for its check (its
    name's wait after three failures, 4 s): the request goes on without
    one."""
    base = "https://127.0.0.1:%d" % port
    for k in range(3):  # each held until the name's wait after the last is over
        st = curl(base + "/api/state", ca, ("rita", "wrong"), interface="127.0.5.%d" % (k + 1))[0]
        c.eq(st, 401, "(a wrong password for rita from 127.0.5.%d)" % (k + 1))
    out = {}
    t = threading.Thread(target=lambda: out.update(r=curl(base + "/api/state", ca, ("rita", "wrong"),
                                                          interface="127.0.5.9")))
    # the request is in when bmsgw's request count has one more than ada's own reads of it: it
    # then waits for its check, up to 4 s (the name's wait)
    n0, reads, bad = requests_seen(base, ca), [0], []

    def arrived():
        reads[0] += 1
        n = requests_seen(base, ca)
        if n is None or n0 is None:
            bad.append(reads[0])  # ada not answered: the count cannot tell
            return True
        return n - n0 - reads[0] >= 1
    t.start()
    c.ok(wait_until(arrived, 3, step=0.05) and not bad, "the login that waits for its check is in (%d reads)" %
         reads[0])
    with open(conf_path, "w") as f:
        f.write(re.sub(r"(?m)^users_file = .*\n", "", text))
    c.ok("applied" in sighup(gw, "no users"), "users_file removed by SIGHUP: applied")
    t.join(40)
    st = out.get("r", (0,))[0]
    c.eq(st, 200, "the request that waited for its login is answered without one")
    c.eq(curl(base + "/api/config", ca)[0], 200, "no login asked any more")


def to_plain(gw, port, ca, conf_path):
    """tls_cert and tls_key removed by SIGHUP: the server starts again
    speaking plain HTTP on the same address."""
    with open(conf_path) as f:
        text = f.read()
    with open(conf_path, "w") as f:
        f.write(re.sub(r"(?m)^tls_(cert|key) = .*\n", "", text))
    c.ok("applied" in sighup(gw, "plain"), "tls_cert and tls_key removed by SIGHUP: applied")
    c.ok(wait_until(lambda: curl("http://127.0.0.1:%d/api/state" % port, "/dev/null")[0] == 200, 5),
         "... the same address now speaks plain HTTP")
    c.ok(curl("https://127.0.0.1:%d/api/state" % port, ca)[0] == 0, "... and no longer HTTPS")


def plain_login(ports):
    text = conf(ports["gw2"], ports["http2"], ports["sim"], "")
    gw = Gateway(text, ports["gw2"])
    try:
        st, body, _, _ = curl("http://127.0.0.1:%d/api/state" % ports["http2"], "/dev/null", ("ada", "x"))
        c.ok(st == 403 and b"logins only over HTTPS" in body, "a login over plain HTTP is refused and said (%d)" % st)
        c.eq(curl("http://127.0.0.1:%d/api/state" % ports["http2"], "/dev/null")[0], 200,
             "... and plain HTTP without a login still serves")
        c.eq(connections(["http://127.0.0.1:%d%s" % (ports["http2"], p) for p in ("/", "/api/state", "/metrics")],
                         "/dev/null"), 1, "... three requests over one connection (keep-alive)")
    finally:
        gw.stop()


def spki_hash(pem):
    pub = sh("openssl", "x509", "-in", pem, "-noout", "-pubkey", check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub.encode(), capture_output=True,
                         check=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def chromium(port, cert):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", "--window-size=1280,1600",
              "--ignore-certificate-errors-spki-list=" + spki_hash(cert),
              "--user-data-dir=" + tempfile.mkdtemp(prefix="bmsgw-chromium-")):
        o.add_argument(a)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    try:
        auth = base64.b64encode(("rita:%s" % PW["rita"]).encode()).decode()
        d.execute_cdp_cmd("Network.enable", {})
        d.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": "Basic " + auth}})
        d.get("https://127.0.0.1:%d/" % port)
        live = wait_until(lambda: d.execute_script("return document.querySelector('#conn').dataset.state") == "live",
                          20)
        c.ok(live, "Chromium: the page over HTTPS with a login goes live (its event stream)")
        soc = wait_until(lambda: d.execute_script(
            "var e = document.querySelector(\"[data-unit='house']\"); return e && /%/.test(e.textContent)"), 10)
        c.ok(soc, "Chromium: the pack's values are shown")
    finally:
        d.quit()


def hash_at_terminal():
    """--hash-password typed at a terminal (a pty): asked for, not echoed,
    the line printed.  The password is written only once the prompt is
    there, i.e. after echo is off."""
    import pty
    import select
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(BMSGW, [BMSGW, "--hash-password", "tty", "read"])
    out, sent, end = b"", False, time.monotonic() + 30
    while time.monotonic() < end:
        if not sent and b"not shown" in out:
            os.write(fd, b"Tty-Pass-9\n")
            sent = True
        r, _, _ = select.select([fd], [], [], 1.0)
        if not r:
            continue
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        out += d
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    c.ok(sent and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "--hash-password at a terminal asks for the password (%r)" % out[:80])
    c.ok(b"Tty-Pass-9" not in out, "--hash-password at a terminal does not echo the password")
    c.ok(re.search(rb"^tty:read:\$pbkdf2-sha256\$600000\$", out, re.M) is not None,
         "--hash-password at a terminal prints the line")


def no_login_thread(tmp, ca, cert, key, users, sim):
    """users_file added by SIGHUP while pthread_create fails (as out of
    threads): the server cannot check a login and refuses every request
    (503) rather than serve without one; the next SIGHUP starts the login
    thread and logins work."""
    lib = os.path.join(ROOT, BIN, "nothread.so")
    if not os.path.exists(lib):
        c.ok(False, "%s is built by make test" % lib)
        return
    gw_port, http_port, flag = free_port(), free_port(), os.path.join(tmp, "nothread")
    text = conf(gw_port, http_port, sim.port, "tls_cert = %s\ntls_key = %s\n" % (cert, key))
    env = dict(os.environ, LD_PRELOAD=lib, NOTHREAD_FLAG=flag,
               ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
    gw = Proc([BMSGW, "-c", write_conf(text)], "bmsgw-nothread", env=env)
    base = "https://127.0.0.1:%d" % http_port
    try:
        c.ok(wait_port(http_port), "(a bmsgw whose threads can be made to fail serves HTTPS)")
        c.eq(curl(base + "/api/state", ca)[0], 200, "(no users_file yet: no login asked)")
        open(flag, "w").close()
        with open(gw.p.args[2], "w") as f:
            f.write(text + "users_file = %s\n" % users)
        c.ok("applied" in sighup(gw, "users, no thread"), "users_file added by SIGHUP while no thread starts")
        c.ok("cannot start the login thread" in gw.text(), "... the login thread that could not start is logged")
        st, body, _, _ = curl(base + "/api/state", ca)
        c.ok(st == 503 and b"no logins can be checked" in body,
             "... a request without a login is refused, not served (%d)" % st)
        c.eq(curl(base + "/api/state", ca, ("ada", PW["ada"]))[0], 503, "... one with a login too (none can be checked)")
        c.eq(curl(base + "/", ca)[0], 503, "... and the page")
        os.unlink(flag)
        c.ok("applied" in sighup(gw, "users, threads again"), "the next SIGHUP, threads starting again")
        c.eq(curl(base + "/api/state", ca)[0], 401, "... a request without a login is asked for one")
        c.eq(curl(base + "/api/state", ca, ("ada", PW["ada"]))[0], 200, "... a good login is served")
        c.eq(gw.stop(), 0, "(that bmsgw stops cleanly)")
    finally:
        if c.failed:
            gw.dump(30)
        gw.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-https-")
    hash_at_terminal()
    ca = make_certs(tmp)
    users, lines = users_file(tmp)
    r = subprocess.run([BMSGW, "--hash-password", "a:b", "read"], input="x\n", capture_output=True, text=True)
    c.ok(r.returncode == 2 and "':'" in r.stderr, "--hash-password refuses a name with ':'")
    r = subprocess.run([BMSGW, "--hash-password", "ann", "root"], input="x\n", capture_output=True, text=True)
    c.ok(r.returncode == 2 and "not a role" in r.stderr, "--hash-password refuses an unknown role")
    r = subprocess.run([BMSGW, "--hash-password", "ann", "read"], input="\n", capture_output=True, text=True)
    c.ok(r.returncode == 2 and "empty" in r.stderr, "--hash-password refuses an empty password")
    ports = {k: free_port() for k in ("gw", "http", "gw2", "http2")}
    sim = Sim()
    ports["sim"] = sim.port
    cert, key = os.path.join(tmp, "http.pem"), os.path.join(tmp, "http.key")
    shutil.copy(os.path.join(tmp, "srv1.pem"), cert)
    shutil.copy(os.path.join(tmp, "srv1.key"), key)
    os.chmod(key, 0o600)
    checks_refused(tmp, ca, users, ports)
    text = conf(ports["gw"], ports["http"], sim.port, "tls_cert = %s\ntls_key = %s\nusers_file = %s\n"
                % (cert, key, users))
    gw = Gateway(text, ports["gw"])
    try:
        logins(ports["http"], ca, gw, lines)
        reload_cert(gw, ports["http"], ca, tmp, cert)
        metrics_public(gw, ports["http"], ca, gw.conf, text)
        chromium(ports["http"], cert)
        users_reload(gw, ports["http"], ca, users, lines, tmp)
        drop_users(gw, ports["http"], ca, gw.conf, text)
        to_plain(gw, ports["http"], ca, gw.conf)
        plain_login(ports)
        no_login_thread(tmp, ca, cert, key, users, sim)
        c.ok(gw.alive(), "bmsgw still runs")
        c.eq(gw.stop(), 0, "bmsgw stops cleanly")
        c.ok("Sanitizer" not in gw.text(), "no sanitizer report")
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        sim.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
