#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bmsgw's own files, attacked once more (issue 97 item 4), against the real
bmsgw run as root, another local user with write access to the
configuration's directory played by uid 65534 (nobody):

- a FIFO planted where the setup writes a secret (DIR/mqtt.password): the
  apply is refused at once (409 naming the path, "not a regular file"),
  the FIFO left as it was; the next /api/setup/ request is answered, and
  so is everything after; SIGTERM ends the daemon;
- a FIFO in place of the page's certificate, and one in place of the ini,
  then SIGHUP: the reload is refused naming the file ("not a regular
  file"), Modbus and the page go on answering (the loop never waits);
- a symlink another user planted at a secret's name (the MQTT password,
  towards a file only root reads) is never followed: refused, named;
  root's own symlink (certbot's live/ links) is followed;
- a disk that never finishes the apply's fsync: SIGTERM ends the daemon
  (the setup's file work given up after 20 s, said);
- no file key may name another of bmsgw's own files: [gateway] state_file
  = the users file, [mqtt] password_file = the users file, = the page's
  key or = the ini, [history] file = the ini are refused on their field by
  the setup (422, naming both keys, nothing written, the users file intact
  and every login working), by --check (exit 1, both keys named) and by a
  reload (the file edited by hand, SIGHUP: refused, logged); a
  certificate and its key in one file, and two password files that are
  one, are fine."""
import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BIN, ROOT, Checks, Proc, free_port, mbap_request, raw_request, self_signed, user_line,  # noqa: E402
                     wait_port, wait_until)

c = Checks()
BMSGW = os.path.join(ROOT, BIN, "bmsgw")
TMP = tempfile.mkdtemp(prefix="bmsgw-owned-")
ETC, STATE, OUT = (os.path.join(TMP, d) for d in ("etc", "state", "outside"))
for d in (ETC, STATE, OUT):
    os.makedirs(d)
os.chmod(TMP, 0o755)
os.chmod(ETC, 0o777)                    # another local user may write here (the attack's premise)
CONF = os.path.join(ETC, "bmsgw.ini")
USERS = os.path.join(ETC, "users")
EVE = 65534                             # another local user (nobody)
PW = "ada-Secret-4417"
HANG = 20                               # s without an answer that count as a hang (a bound, never a latency)


class Api:
    """The setup API over HTTPS with ada's login."""

    def __init__(self, port, cafile):
        self.port, self.ctx = port, ssl.create_default_context(cafile=cafile)

    def req(self, method, path, body=None, token=None, timeout=120):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=timeout)
        h = {"Authorization": "Basic " + base64.b64encode(("ada:%s" % PW).encode()).decode()}
        if method == "POST":
            h["Content-Type"] = "application/json"
        if token:
            h["X-CSRF-Token"] = token
        conn.request(method, "/api/setup/" + path, body=json.dumps(body).encode() if body is not None else None,
                     headers=h)
        r = conn.getresponse()
        text = r.read()
        conn.close()
        try:
            return r.status, json.loads(text)
        except ValueError:
            return r.status, {"raw": text.decode(errors="replace")}

    def timed(self, method, path, body=None, token=None):
        """(status, answer, seconds), or (None, why, seconds) when no answer came within HANG s."""
        t0 = time.monotonic()
        try:
            st, a = self.req(method, path, body, token, timeout=HANG)
        except (OSError, http.client.HTTPException) as e:
            return None, "no answer (%s)" % type(e).__name__, time.monotonic() - t0
        return st, a, time.monotonic() - t0

    def post(self, path, body):
        return self.timed("POST", path, body, token=self.req("GET", "session")[1]["csrf"])

    def config(self):
        return self.req("GET", "config")[1]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data, mode=0o600):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def field(answer, sect, key):
    for e in (answer.get("errors") or []) if isinstance(answer, dict) else []:
        if e.get("section") == sect and e.get("key") == key:
            return e["message"]
    return None


def sections(cfg):
    return [{"name": s["name"], "keys": dict(s["keys"])} for s in cfg["sections"]]


def with_keys(secs, name, keys):
    out = [dict(s, keys=dict(s["keys"])) for s in secs]
    for s in out:
        if s["name"] == name:
            s["keys"].update(keys)
            return out
    return out + [{"name": name, "keys": dict(keys)}]


def fifo(path):
    if os.path.lexists(path):
        os.unlink(path)
    os.mkfifo(path, 0o666)
    os.chown(path, EVE, EVE)
    return path


def is_eves_fifo(path):
    st = os.lstat(path) if os.path.lexists(path) else None
    return st is not None and stat.S_ISFIFO(st.st_mode) and st.st_uid == EVE


PEM, KEY = self_signed(ETC)
write(USERS, user_line("ada", "admin", PW).encode())
USERS_TEXT = read(USERS)
GW_PORT, HTTP_PORT = free_port(), free_port()
write(CONF, ("; the own files test\n[gateway]\nlisten = 127.0.0.1:%d\nstate_file = %s/state\n"
             "[http]\nlisten = 127.0.0.1:%d\ntls_cert = %s\ntls_key = %s\nusers_file = %s\n[history]\nfile = none\n"
             % (GW_PORT, STATE, HTTP_PORT, PEM, KEY, USERS)).encode(), 0o644)
gw = None
api = Api(HTTP_PORT, PEM)


def start():
    global gw
    gw = Proc([BMSGW, "-c", CONF], "bmsgw")
    c.ok(wait_port(GW_PORT) and wait_port(HTTP_PORT), "bmsgw starts")


def outcomes():
    """The reloads' outcomes logged so far: the lines "reload #N failed ..." and "reload #N: applied ..."."""
    return re.findall(r"reload #\d+ failed.*|reload #\d+: applied.*", gw.text())


def sighup():
    """SIGHUP; the reload's outcome (applied, or failed and why), or None when none came within HANG s."""
    n = len(outcomes())
    gw.p.send_signal(signal.SIGHUP)
    if not wait_until(lambda: len(outcomes()) > n, HANG):
        return None
    return outcomes()[n]


def answers():
    """Modbus and the page answer (each within HANG s)."""
    try:  # unit 1 is no pack here: an exception, answered at once by a loop that runs
        resp = raw_request(GW_PORT, mbap_request(7, 1, bytes([3, 1, 34, 0, 1])), timeout=HANG)[0]
        mb = "exception 0x%02x" % resp[8] if len(resp) == 9 else "answer %r" % resp
    except OSError as e:
        mb = "no answer (%s)" % type(e).__name__
    try:
        st = api.req("GET", "session", timeout=HANG)[0]
    except (OSError, http.client.HTTPException):
        st = None
    return mb, st


def fifo_secret():
    """A FIFO where the setup writes the MQTT password."""
    cfg = api.config()
    before = read(CONF)
    pw = fifo(os.path.join(ETC, "mqtt.password"))
    secs = with_keys(sections(cfg), "mqtt", {"host": "127.0.0.1", "port": str(free_port()), "username": "bms"})
    box = {}

    def apply():
        box["r"] = api.post("apply", {"base_hash": cfg["hash"], "sections": secs,
                                      "secrets": [{"section": "mqtt", "key": "password", "value": "mq-Secret-1"}]})
    th = threading.Thread(target=apply, daemon=True)
    th.start()
    th.join(HANG + 5)
    st, a, dt = box.get("r", (None, "no answer", HANG))
    err = a.get("error", "") if isinstance(a, dict) else a
    c.ok(st == 409 and pw in err and "not a regular file" in err,
         "apply with a FIFO at %s: 409 naming it, not a regular file (%s in %.1f s: %s)"
         % (os.path.basename(pw), st, dt, err))
    st, a, dt = api.timed("GET", "config")
    c.ok(st == 200, "the next request (GET /api/setup/config) is answered (%s in %.1f s)" % (st, dt))
    st, a, dt = api.timed("GET", "changes")
    c.ok(st == 200, "... and the one after (%s in %.1f s)" % (st, dt))
    c.ok(is_eves_fifo(pw), "the FIFO is as it was (another user's, never replaced)")
    c.ok(read(CONF) == before, "the ini is untouched")
    os.unlink(pw)


def fifo_on_reload():
    """A FIFO in place of the page's certificate, then of the ini: SIGHUP."""
    for path, what in ((PEM, "the page's certificate"), (CONF, "the ini")):
        kept = path + ".kept"
        os.rename(path, kept)
        fifo(path)
        line = sighup()
        c.ok(line is not None and "failed" in line and path in line and "not a regular file" in line,
             "SIGHUP with a FIFO in place of %s: refused, naming it (%s)" % (what, line))
        mb, st = answers()
        c.ok(mb.startswith("exception"), "... Modbus answers (%s)" % mb)
        c.eq(st, 200, "... the page answers")
        os.unlink(path)
        os.rename(kept, path)
    line = sighup()
    c.ok(line is not None and "failed" not in line, "SIGHUP with the files back: applied (%s)" % line)


def planted_link():
    """Another user's symlink at a secret's name, towards a file only root
    reads; root's own symlink is followed."""
    only_root = os.path.join(OUT, "root-only")
    write(only_root, b"root's own secret\n")
    link = os.path.join(ETC, "mq.pw")
    os.symlink(only_root, link)
    os.chown(link, EVE, EVE, follow_symlinks=False)
    text = read(CONF).decode()
    write(CONF, (text + "[mqtt]\nhost = 127.0.0.1\nport = %d\nusername = bms\npassword_file = %s\n"
                 % (free_port(), link)).encode(), 0o644)
    r = subprocess.run([BMSGW, "-c", CONF, "--check"], capture_output=True, text=True)
    out = r.stdout + r.stderr
    c.ok(r.returncode == 1 and link in out and "link" in out,
         "--check: another user's symlink at password_file is refused, named (%d: %s)" % (r.returncode, out.strip()))
    line = sighup()
    c.ok(line is not None and "failed" in line and link in line, "... and by a reload (%s)" % line)
    os.unlink(link)
    os.symlink(only_root, link)         # root's own: certbot's live/ links are so
    r = subprocess.run([BMSGW, "-c", CONF, "--check"], capture_output=True, text=True)
    c.eq(r.returncode, 0, "root's own symlink is followed (%s)" % (r.stdout + r.stderr).strip())
    os.unlink(link)
    write(CONF, text.encode(), 0o644)
    sighup()


def mqtt_catcher():
    """A listener that keeps the password of the first MQTT CONNECT it gets."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    port = free_port()
    srv.bind(("127.0.0.1", port))
    srv.listen()
    got = {}

    def run():
        srv.settimeout(60)
        try:
            conn, _ = srv.accept()
            conn.settimeout(10)
            data = conn.recv(4096)
            m = re.search(rb"ada:admin:\$pbkdf2[^\x00-\x1f]*", data)
            got["pw"] = m.group(0).decode() if m else data
            conn.close()
        except OSError:
            pass
    threading.Thread(target=run, daemon=True).start()
    return port, got, srv


def own_files_setup():
    """The setup: a file key naming another of bmsgw's files."""
    cfg = api.config()
    before = read(CONF)
    port, got, srv = mqtt_catcher()
    mq = {"host": "127.0.0.1", "port": str(port), "username": "bms"}
    cases = [("gateway", "state_file", USERS, "[http] users_file", {}),
             ("mqtt", "password_file", USERS, "[http] users_file", mq),
             ("mqtt", "password_file", KEY, "[http] tls_key", mq),
             ("mqtt", "password_file", CONF, "configuration file", mq),
             ("history", "file", CONF, "configuration file", {})]
    for sect, key, value, other, extra in cases:
        secs = with_keys(sections(cfg), sect, dict(extra, **{key: value}))
        st, a, dt = api.post("apply", {"base_hash": cfg["hash"], "sections": secs})
        msg = field(a, sect, key)
        c.ok(st == 422 and msg and other in msg,
             "setup: [%s] %s = %s: 422 on its field, naming %s (%s: %s)"
             % (sect, key, os.path.basename(value), other, st, msg or (a.get("error") if isinstance(a, dict) else a)))
        if st == 200:  # before the fix: see what it did, then put it back
            if key == "state_file":
                gw.stop()
                mode = os.stat(USERS).st_mode & 0o777
                print("   (before: the users file after the daemon's stop: mode %o, %r)" % (mode, read(USERS)[:60]))
                write(USERS, USERS_TEXT)
                write(CONF, before, 0o644)
                start()
            elif got.get("pw"):
                print("   (before: the broker got the password %r)" % got["pw"][:40])
            cfg2 = api.config()
            api.post("apply", {"base_hash": cfg2["hash"], "sections": sections(cfg)})
            cfg = api.config()
            before = read(CONF)
        st, k, _ = api.post("check", {"sections": secs})
        c.ok(st == 200 and not k.get("ok") and field(k, sect, key), "... /check says the same")
    srv.close()
    c.eq(read(USERS), USERS_TEXT, "the users file is untouched")
    c.eq(os.stat(USERS).st_mode & 0o777, 0o600, "... and 0600")
    c.ok(not got.get("pw"), "no broker got the users file's line as a password")
    c.eq(api.req("GET", "session")[0], 200, "ada still logs in")


def check_file(extra, edit=None):
    text = read(CONF).decode()
    if edit:
        text = edit(text)
    path = os.path.join(TMP, "checked-config")
    write(path, (text + extra).encode(), 0o600)
    r = subprocess.run([BMSGW, "-c", path, "--check"], capture_output=True, text=True)
    return r.returncode, (r.stdout + r.stderr).strip()


def own_files_check():
    """--check and a reload: the same rule."""
    mq = "[mqtt]\nhost = 127.0.0.1\nport = %d\nusername = bms\npassword_file = %%s\n" % free_port()
    cases = [("[gateway] state_file", lambda t: t.replace("state_file = %s/state" % STATE, "state_file = %s" % USERS),
              "", "[http] users_file"),
             ("[mqtt] password_file", None, mq % USERS, "[http] users_file"),
             ("[mqtt] password_file", None, mq % KEY, "[http] tls_key")]
    for key, edit, extra, other in cases:
        rc, out = check_file(extra, edit)
        c.ok(rc == 1 and key in out and other in out, "--check: %s = %s's file: exit 1, both named (%d: %s)"
             % (key, other, rc, out))
    both = os.path.join(ETC, "both.pem")
    write(both, read(PEM) + read(KEY))
    rc, out = check_file("", lambda t: t.replace("tls_cert = %s" % PEM, "tls_cert = %s" % both)
                         .replace("tls_key = %s" % KEY, "tls_key = %s" % both))
    c.eq(rc, 0, "--check: a certificate and its key in one file is fine (%s)" % out)
    shared = os.path.join(ETC, "shared.pw")
    write(shared, b"shared-Pass-1\n")
    rc, out = check_file(mq % shared + "[influx]\nurl = https://127.0.0.1:%d/\nusername = bms\npassword_file = %s\n"
                         "database = bms\n" % (free_port(), shared))
    c.eq(rc, 0, "--check: two password files that are one file are fine (%s)" % out)
    text = read(CONF)
    write(CONF, text.replace(("state_file = %s/state" % STATE).encode(), ("state_file = %s" % USERS).encode()), 0o644)
    line = sighup()
    c.ok(line is not None and "failed" in line and "state_file" in line and "users_file" in line,
         "a reload of a hand-edited state_file = the users file: refused, both named (%s)" % line)
    write(CONF, text, 0o644)
    c.ok(sighup() is not None, "the file put back: reloaded")
    c.eq(read(USERS), USERS_TEXT, "the users file is untouched")


def dead_disk():
    """A disk that never finishes an fsync (tests/tools/slowdisk.c, 10
    minutes) under an apply: SIGTERM still ends the daemon, which gives up
    the setup's file work after 20 s and says so."""
    lib = os.path.join(ROOT, BIN, "slowdisk.so")
    if not c.ok(os.path.exists(lib), "%s is built by make test" % lib):
        return
    etc = os.path.join(TMP, "slowdisk-etc")
    os.makedirs(etc)
    conf = os.path.join(etc, "bmsgw.ini")
    gw_port, http_port = free_port(), free_port()
    write(conf, ("[gateway]\nlisten = 127.0.0.1:%d\nstate_file = none\n[http]\nlisten = 127.0.0.1:%d\ntls_cert = %s\n"
                 "tls_key = %s\nusers_file = %s\n[history]\nfile = none\n" % (gw_port, http_port, PEM, KEY, USERS))
          .encode(), 0o644)
    env = dict(os.environ, LD_PRELOAD=lib, SLOWDISK_MATCH="slowdisk-etc", SLOWDISK_SYNC_MS="600000",
               ASAN_OPTIONS="verify_asan_link_order=0")
    slow = Proc([BMSGW, "-c", conf], "bmsgw-slowdisk", env=env)
    try:
        c.ok(wait_port(http_port), "a bmsgw whose configuration's disk never finishes an fsync starts")
        sapi = Api(http_port, PEM)
        cfg = sapi.config()
        secs = with_keys(sections(cfg), "gateway", {"stale_after": "7"})
        threading.Thread(target=lambda: sapi.post("apply", {"base_hash": cfg["hash"], "sections": secs}),
                         daemon=True).start()
        c.ok(wait_until(lambda: any(".setup-" in f for f in os.listdir(etc)), 60),
             "an apply waits in the fsync of its file (%s)" % os.listdir(etc))
        t0 = time.monotonic()
        slow.p.send_signal(signal.SIGTERM)
        try:
            slow.p.wait(120)
        except subprocess.TimeoutExpired:
            pass
        dt = time.monotonic() - t0
        c.ok(slow.p.poll() is not None, "SIGTERM ends it all the same (%s after %.1f s)" % (
            "exit %s" % slow.p.returncode if slow.p.poll() is not None else "still running", dt))
        c.ok("setup: its file work did not end within 20 s of the stop" in slow.text(), "... and says so")
    finally:
        if c.failed:
            slow.dump(20)
        slow.stop(signal.SIGKILL, 5)


def sigterm():
    t0 = time.monotonic()
    gw.p.send_signal(signal.SIGTERM)
    try:
        gw.p.wait(60)
    except subprocess.TimeoutExpired:
        pass
    dt = time.monotonic() - t0
    c.ok(gw.p.poll() is not None, "SIGTERM ends bmsgw (%s after %.1f s)" % (
        "exit %s" % gw.p.returncode if gw.p.poll() is not None else "still running", dt))


try:
    start()
    fifo_secret()
    fifo_on_reload()
    planted_link()
    own_files_setup()
    own_files_check()
    dead_disk()
    c.eq(read(USERS), USERS_TEXT, "the users file is as it was")
    sigterm()
finally:
    if c.failed:
        gw.dump(40)
    gw.stop()
    shutil.rmtree(TMP, True)
sys.exit(c.report())
