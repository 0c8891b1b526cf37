#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The setup API's X-CSRF-Token, its life and its binding (issue 97 item
5), against the real bmsgw over HTTPS with logins:

- a token of GET /api/setup/session is good for [http] csrf_lifetime
  (here 10 s): within it a POST is taken, after it the same token is 403
  "expired" and a new one is taken (the key is taken at a reload);
- a token is bound to its login's password: after ada's password changes
  (the users file rewritten, SIGHUP) a token issued before is 403, naming
  the password's change, while a new one is taken; a token of ada is not
  rita's;
- the Host of a change: HTTP/1.1 without Host, with an empty one or with
  two (the first this gateway's, the second another site's, and the
  other way round) is 400 before the token is judged (RFC 9112 section
  3.2), nothing applied."""
import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks, Proc, free_port, self_signed, user_line, wait_port, wait_until  # noqa: E402

c = Checks()
BMSGW = os.path.join(ROOT, BIN, "bmsgw")
TMP = tempfile.mkdtemp(prefix="bmsgw-tokens-")
CONF = os.path.join(TMP, "bmsgw.ini")
USERS = os.path.join(TMP, "users")
LIFE = 10
PASS = {"ada": "ada-Secret-4417", "rita": "rita-Admin-8812"}
PEM, KEY = self_signed(TMP)
CTX = ssl.create_default_context(cafile=PEM)


RITA = user_line("rita", "admin", PASS["rita"])  # her line stays as it is (a new salt is a new hash)


def write_users(ada_pw):
    with open(USERS, "w") as f:
        f.write(user_line("ada", "admin", ada_pw) + RITA)
    os.chmod(USERS, 0o600)


def req(method, path, body=None, token=None, user="ada", pw=None):
    conn = http.client.HTTPSConnection("127.0.0.1", HTTP_PORT, context=CTX, timeout=120)
    h = {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, pw or PASS[user])).encode()).decode()}
    if method == "POST":
        h["Content-Type"] = "application/json"
    if token:
        h["X-CSRF-Token"] = token
    conn.request(method, "/api/setup/" + path, body=json.dumps(body).encode() if body is not None else None, headers=h)
    r = conn.getresponse()
    text = r.read()
    conn.close()
    try:
        return r.status, json.loads(text)
    except ValueError:
        return r.status, {"raw": text.decode(errors="replace")}


def token(user="ada"):
    return req("GET", "session", user=user)[1]["csrf"]


def check_with(tok, user="ada"):
    """POST /api/setup/check with tok: (status, error)."""
    st, a = req("POST", "check", {"sections": SECTIONS}, token=tok, user=user)
    return st, a.get("error", "")


def outcomes():
    return re.findall(r"reload #\d+ failed.*|reload #\d+: applied.*", gw.text())


def sighup():
    n = len(outcomes())
    gw.p.send_signal(signal.SIGHUP)
    return wait_until(lambda: len(outcomes()) > n, 60) and outcomes()[n]


def raw(lines, body=b""):
    """A request of the given head lines over TLS, as bytes on the wire: its status (None: no answer)."""
    s = CTX.wrap_socket(socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=30), server_hostname="127.0.0.1")
    try:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        return None
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return int(m.group(1)) if m else None


GW_PORT, HTTP_PORT = free_port(), free_port()
write_users(PASS["ada"])
TEXT = ("[gateway]\nlisten = 127.0.0.1:%d\nstate_file = none\n[http]\nlisten = 127.0.0.1:%d\ntls_cert = %s\n"
        "tls_key = %s\nusers_file = %s\ncsrf_lifetime = %d\n[history]\nfile = none\n"
        % (GW_PORT, HTTP_PORT, PEM, KEY, USERS, LIFE))
with open(CONF, "w") as f:
    f.write(TEXT)
gw = Proc([BMSGW, "-c", CONF], "bmsgw")
SECTIONS = None


def lifetime():
    old = token()
    st, err = check_with(old)
    c.ok(st == 200, "a fresh token: a POST is taken (%d %s)" % (st, err))
    t0 = time.monotonic()
    refused = wait_until(lambda: check_with(old)[0] == 403, LIFE + 60, step=1)
    dt = time.monotonic() - t0
    st, err = check_with(old)
    c.ok(refused and "expired" in err and "csrf_lifetime" in err,
         "the same token after csrf_lifetime = %d s: 403, expired (%s after %.0f s: %s)" % (LIFE, st, dt, err))
    c.ok(wait_until(lambda: check_with(token())[0] == 200, 60), "... and a new one is taken")


def password_change():
    old, rita = token(), token("rita")
    c.eq(check_with(old)[0], 200, "ada's token before her password changes: taken")
    st, err = check_with(old, user="rita")
    c.ok(st == 403 and "not this login's" in err, "ada's token sent by rita: 403 (%d %s)" % (st, err))
    PASS["ada"] = "ada-New-Secret-9930"
    write_users(PASS["ada"])
    line = sighup()
    c.ok(line and "failed" not in line, "ada's new password, SIGHUP: reloaded (%s)" % line)
    st, err = check_with(old)
    c.ok(st == 403 and "password changed" in err,
         "a token from before the password's change: 403, saying so (%d %s)" % (st, err))
    st, err = check_with(token())
    c.ok(st == 200, "a token taken with the new password: taken (%d %s)" % (st, err))
    st, err = check_with(rita, user="rita")
    c.ok(st == 200, "rita's token (her password unchanged): still taken (%d %s)" % (st, err))


def hosts():
    """A change whose Host is missing, empty or given twice: 400 before anything."""
    tok = token()
    auth = "Authorization: Basic " + base64.b64encode(("ada:%s" % PASS["ada"]).encode()).decode()
    body = json.dumps({"sections": SECTIONS}).encode()
    head = ["POST /api/setup/check HTTP/1.1", auth, "X-CSRF-Token: " + tok, "Content-Type: application/json",
            "Content-Length: %d" % len(body), "Connection: close"]
    me = "Host: 127.0.0.1:%d" % HTTP_PORT
    for extra, what, want in (([me], "its own Host", 200),
                              ([], "HTTP/1.1 without Host", 400),
                              (["Host:"], "an empty Host", 400),
                              ([me, "Host: evil.example"], "two Hosts, this gateway's first", 400),
                              (["Host: evil.example", me], "two Hosts, another site's first", 400)):
        st = raw(head[:1] + extra + head[1:], body)
        c.eq(st, want, "a POST of the setup with %s" % what)


try:
    c.ok(wait_port(GW_PORT) and wait_port(HTTP_PORT), "bmsgw starts with csrf_lifetime = %d" % LIFE)
    SECTIONS = [{"name": s["name"], "keys": s["keys"]} for s in req("GET", "config")[1]["sections"]]
    lifetime()
    password_change()
    hosts()
    c.ok(gw.alive(), "bmsgw ran throughout")
finally:
    if c.failed:
        gw.dump(40)
    gw.stop()
    shutil.rmtree(TMP, True)
sys.exit(c.report())
