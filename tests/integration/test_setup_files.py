#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The files the setup writes (/api/setup/, issue 89 item 1), attacked,
against the real bmsgw run as root, another local user played by uid
65534 (nobody) owning what it plants:

- a file, a symlink or a directory planted at the temporary name the setup
  once wrote through (PATH.setup-new), in the configuration and the state
  directory, is never used, followed or removed: the setup code, the users
  file, the page's key and certificate, the MQTT password file, the ini and
  its backups are bmsgw's own (root, their modes) and the planted files
  are as they were;
- a first admin that cannot be made leaves nothing behind: a Host that is
  no host name or address is refused before anything is written; a
  directory where the key goes: 409 naming it, no users file; the next
  try works;
- a secret kept in the ini itself ([ble_proxy.NAME] encryption_key) is set
  in the ini, which is then 0600 (its backups too), never in the daemon's
  working directory, never in an answer or the log;
- a change that restarts the page's server is answered as pending (202,
  applied false) and /changes says what became of it: refused by the
  reload (the file and all five backups put back, none lost), or applied;
  a refused reload of another change keeps the five backups too;
- the backups are never wider than their ini; one of another user's that
  is wider: 409 naming it, never changed;
- a bad value and a section given twice: 422 on their field, naming the
  problem;
- a *_file (or other path) set through the setup names a file inside the
  configuration or the state directory only (a path outside, through ..,
  or a symlink out: 422 on its field, /check says the same)."""
import base64
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import stat
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks, Proc, free_port, wait_port, wait_until  # noqa: E402

c = Checks()
BMSGW = os.path.join(ROOT, BIN, "bmsgw")
TMP = tempfile.mkdtemp(prefix="bmsgw-setup-files-")
ETC, STATE, CWD, OUT = (os.path.join(TMP, d) for d in ("etc", "state", "cwd", "outside"))
for d in (ETC, STATE, CWD, OUT):
    os.makedirs(d)
os.chmod(TMP, 0o755)
CONF = os.path.join(ETC, "bmsgw.ini")
EVE = 65534                             # another local user (nobody)
PW = "ada-Secret-4417"
PROXY_KEY = base64.b64encode(bytes(range(32))).decode()


class Api:
    """The setup API as the page calls it (plain HTTP until the first admin)."""

    def __init__(self, port):
        self.port, self.ctx, self.user = port, None, None

    def req(self, method, path, body=None, token=None, host=None):
        # a bound on a hang, not a latency: the first admin's PBKDF2 (1.4 s of CPU in the sanitized build) and
        # key took over 30 s on a machine loaded 12 times over its cores
        conn = (http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=120) if self.ctx
                else http.client.HTTPConnection("127.0.0.1", self.port, timeout=120))
        h = {}
        if method == "POST":
            h["Content-Type"] = "application/json"
        if token:
            h["X-CSRF-Token"] = token
        if host:
            h["Host"] = host
        if self.user:
            h["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % (self.user, PW)).encode()).decode()
        conn.request(method, "/api/setup/" + path, body=json.dumps(body).encode() if body is not None else None,
                     headers=h)
        r = conn.getresponse()
        text = r.read()
        conn.close()
        try:
            return r.status, json.loads(text)
        except ValueError:
            return r.status, {"raw": text.decode(errors="replace")}

    def post(self, path, body, host=None):
        return self.req("POST", path, body, token=self.req("GET", "session")[1]["csrf"], host=host)

    def config(self):
        return self.req("GET", "config")[1]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def plant(path, kind="file"):
    """What another local user leaves at a name: its own file (0666), a
    symlink to a file of its own, or a directory."""
    if kind == "file":
        write(path, b"eve's\n", 0o666)
    elif kind == "symlink":
        target = os.path.join(OUT, "eve-target-" + os.path.basename(path))
        write(target, b"eve's target\n", 0o666)
        os.chown(target, EVE, EVE)
        os.symlink(target, path)
    else:
        os.mkdir(path, 0o777)
        os.chmod(path, 0o777)
    os.chown(path, EVE, EVE, follow_symlinks=False)
    return path


def planted_intact(path, kind="file"):
    st = os.lstat(path) if os.path.lexists(path) else None
    if st is None or st.st_uid != EVE:
        return False
    if kind == "file":
        return stat.S_ISREG(st.st_mode) and read(path) == b"eve's\n" and st.st_mode & 0o777 == 0o666
    if kind == "symlink":
        return stat.S_ISLNK(st.st_mode) and read(path) == b"eve's target\n"
    return stat.S_ISDIR(st.st_mode) and not os.listdir(path)


def owner_mode(path):
    st = os.lstat(path)
    return "uid %d, %o" % (st.st_uid, st.st_mode & 0o7777)


def ours(path, mode):
    """path is bmsgw's (root's) own regular file with exactly mode."""
    if not os.path.lexists(path):
        return False
    st = os.lstat(path)
    return stat.S_ISREG(st.st_mode) and st.st_uid == 0 and st.st_mode & 0o777 == mode


def field(answer, sect, key):
    for e in answer.get("errors") or []:
        if e.get("section") == sect and e.get("key") == key:
            return e["message"]
    return None


def sections(cfg):
    return [{"name": s["name"], "keys": dict(s["keys"])} for s in cfg["sections"]]


def with_section(secs, name, keys):
    secs = [s for s in secs if s["name"] != name]
    return secs + [{"name": name, "keys": keys}]


GW_PORT, HTTP_PORT = free_port(), free_port()
write(CONF, ("; the files test\n[gateway]\nlisten = 127.0.0.1:%d\nstate_file = %s/state\n"
             "[http]\nlisten = 127.0.0.1:%d\n[history]\nfile = none\n" % (GW_PORT, STATE, HTTP_PORT)).encode(), 0o644)
# the temporary names the setup used to write through, planted before the start
PLANTED = [(os.path.join(STATE, "setup-code.setup-new"), "file"),
           (os.path.join(ETC, "users.setup-new"), "file"),
           (os.path.join(ETC, "http.pem.setup-new"), "symlink"),
           (os.path.join(ETC, "bmsgw.ini.setup-new"), "file"),
           (os.path.join(ETC, "bmsgw.ini.1.setup-new"), "file"),
           (os.path.join(ETC, "mqtt.password.setup-new"), "file")]
for p, kind in PLANTED:
    plant(p, kind)
gw = Proc(["/bin/sh", "-c", 'cd "$1" && exec "$2" -c "$3"', "sh", CWD, BMSGW, CONF], "bmsgw")
c.ok(wait_port(GW_PORT) and wait_port(HTTP_PORT), "bmsgw starts (a new installation, its working directory %s)" % CWD)
api = Api(HTTP_PORT)


def users_gone(what):
    left = [f for f in ("users", "http.key", "http.pem") if os.path.lexists(os.path.join(ETC, f))]
    c.ok(not left, "%s: nothing is left behind (%s)" % (what, left or "no users file, key or certificate"))
    for f in left:
        os.unlink(os.path.join(ETC, f))  # so that the rest can go on (only before the fix)


def setup_code():
    path = os.path.join(STATE, "setup-code")
    c.ok(wait_until(lambda: os.path.exists(path)), "setup-code is written")
    c.ok(ours(path, 0o600), "setup-code is bmsgw's, 0600, with a file planted at setup-code.setup-new (%s)"
         % owner_mode(path))
    c.ok(planted_intact(PLANTED[0][0]), "... and the planted file is as it was")
    return read(path).decode().strip()


def first_admin(code):
    body = {"code": code, "user": "ada", "password": PW}
    for host in ("bad,host", "a,b:%d" % HTTP_PORT, "[no:such:address]:%d" % HTTP_PORT):
        st, a = api.post("admin", body, host=host)
        # 400 from the first admin's own check; 421 where the server refuses a Host not its own first
        c.ok(st == 421 or (st == 400 and "Host" in a.get("error", "")),
             "a first admin with Host %r: refused, naming the Host (%d %s)" % (host, st, a.get("error")))
        users_gone("... Host %r" % host)
    key = os.path.join(ETC, "http.key")
    os.mkdir(key)
    st, a = api.post("admin", body)
    c.ok(st == 409 and key in a.get("error", ""), "a directory where the key goes: 409 naming it (%d %s)"
         % (st, a.get("error")))
    os.rmdir(key)
    c.ok(not os.path.exists(os.path.join(ETC, "users")), "... and no users file is left")
    tmpdir = plant(os.path.join(ETC, "http.key.setup-new"), "dir")
    st, a = api.post("admin", body)
    c.ok(st == 200, "the first admin, a directory planted at http.key.setup-new: 200 (%d %s)" % (st, a.get("error")))
    if st != 200:  # before the fix: clear the way to go on, the planted files planted again
        users_gone("... the failed first admin")
        for p, kind in PLANTED[1:] + [(tmpdir, "dir")]:
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            elif os.path.lexists(p):
                os.unlink(p)
            if kind == "file":
                plant(p)
        st, a = api.post("admin", body)
        c.eq(st, 200, "... (the first admin again, the planted files gone)")
    for f, mode in (("users", 0o600), ("http.key", 0o600), ("http.pem", 0o644), ("bmsgw.ini", 0o644),
                    ("bmsgw.ini.1", 0o644)):
        p = os.path.join(ETC, f)
        c.ok(ours(p, mode), "%s is bmsgw's, %o (%s)" % (f, mode, owner_mode(p) if os.path.lexists(p) else "missing"))
    for p, kind in PLANTED[1:4] + [(tmpdir, "dir")]:
        c.ok(planted_intact(p, kind), "the %s planted at %s is as it was" % (kind, os.path.basename(p)))
    api.ctx = ssl.create_default_context(cafile=os.path.join(ETC, "http.pem"))
    api.user = "ada"

    def https_up():
        try:
            return api.req("GET", "session")[1].get("can_write")
        except (OSError, ssl.SSLError, http.client.HTTPException):
            return False
    c.ok(wait_until(https_up, 20), "the page is HTTPS with ada's login")


def bad_values():
    cfg = api.config()
    before = read(CONF)
    secs = with_section(sections(cfg), "mqtt", {"host": "127.0.0.1", "username": "two\nlines"})
    st, a = api.post("apply", {"base_hash": cfg["hash"], "sections": secs})
    msg = field(a, "mqtt", "username")
    c.ok(st == 422 and msg and "memory" not in a.get("error", "") + msg,
         "a value with a line break: 422 on its field, naming the problem (%d %s: %s)" % (st, a.get("error"), msg))
    secs = sections(cfg) + [{"name": "gateway", "keys": {"listen": "127.0.0.1:%d" % GW_PORT}}]
    st, a = api.post("apply", {"base_hash": cfg["hash"], "sections": secs})
    msg = field(a, "gateway", "")
    c.ok(st == 422 and msg and "twice" in msg, "a section given twice: 422 on it (%d %s: %s)"
         % (st, a.get("error"), msg))
    st, k = api.post("check", {"sections": secs})
    c.ok(st == 200 and not k.get("ok") and "twice" in (field(k, "gateway", "") or ""), "... check says the same")
    c.ok(read(CONF) == before, "the file is untouched")


def paths():
    cfg = api.config()
    before = read(CONF)
    secret = os.path.join(OUT, "secret")
    write(secret, b"not bmsgw's\n", 0o600)
    link = os.path.join(ETC, "link-out")
    os.symlink(secret, link)
    inside = os.path.join(ETC, "mq.pw")
    write(inside, b"mq-Inside-1\n", 0o600)
    mq = {"host": "127.0.0.1", "port": str(free_port()), "username": "bms"}
    write(os.path.join(OUT, "ca.pem"), read(os.path.join(ETC, "http.pem")))
    write(os.path.join(OUT, "users"), read(os.path.join(ETC, "users")), 0o600)
    bad = [("mqtt", "password_file", secret, "outside"),
           ("mqtt", "password_file", os.path.join(ETC, "..", "outside", "secret"), "through .."),
           ("mqtt", "password_file", link, "a symlink out"),
           ("mqtt", "password_file", "/etc/shadow", "/etc/shadow"),
           ("mqtt", "ca_file", os.path.join(OUT, "ca.pem"), "a CA outside"),
           ("gateway", "state_file", os.path.join(OUT, "state"), "a state file outside"),
           ("http", "users_file", os.path.join(OUT, "users"), "a users file outside")]
    for sect, key, value, what in bad:
        secs = with_section(sections(cfg), "mqtt", dict(mq, tls="true") if key == "ca_file" else dict(mq))
        for s in secs:
            if s["name"] == sect:
                s["keys"][key] = value
        st, a = api.post("apply", {"base_hash": cfg["hash"], "sections": secs})
        msg = field(a, sect, key)
        c.ok(st == 422 and msg and "directory" in msg, "[%s] %s = %s (%s): 422 on its field (%d %s)"
             % (sect, key, value, what, st, msg or a.get("error")))
        st, k = api.post("check", {"sections": secs})
        c.ok(st == 200 and not k.get("ok") and field(k, sect, key), "... check says the same")
        if st == 200 and a.get("applied"):  # before the fix: put it back to go on
            cfg2 = api.config()
            api.post("apply", {"base_hash": cfg2["hash"], "sections": sections(cfg)})
            cfg = api.config()
            before = read(CONF)
    c.ok(read(CONF) == before, "the file is untouched")
    secs = with_section(sections(cfg), "mqtt", dict(mq, password_file=inside))
    st, k = api.post("check", {"sections": secs})
    c.ok(st == 200 and k.get("ok"), "a password_file inside the configuration directory: fine (%s)" % k.get("errors"))
    write(os.path.join(STATE, "mq.pw"), b"mq-State-2\n", 0o600)
    secs = with_section(sections(cfg), "mqtt", dict(mq, password_file=os.path.join(STATE, "mq.pw")))
    st, k = api.post("check", {"sections": secs})
    c.ok(st == 200 and field(k, "mqtt", "password_file") is None,
         "... inside the state directory: fine (%s)" % k.get("errors"))
    os.unlink(link)


def planted_apply():
    """The ini and its backups 0644, then the ini made 0600: an apply with
    an MQTT password, files planted at the old temporary names."""
    os.chmod(CONF, 0o644)
    for i in range(2, 6):
        write("%s.%d" % (CONF, i), b"; backup %d\n" % i, 0o644)
    os.chmod(CONF + ".1", 0o644)
    os.chmod(CONF, 0o600)
    cfg = api.config()
    secs = with_section(sections(cfg), "mqtt", {"host": "127.0.0.1", "port": str(free_port()), "username": "bms"})
    st, a = api.post("apply", {"base_hash": cfg["hash"], "sections": secs,
                               "secrets": [{"section": "mqtt", "key": "password", "value": "mq-Secret-99"}]})
    c.ok(st == 200 and a.get("applied"), "an apply with an MQTT password: 200 (%d %s)" % (st, a.get("error")))
    pw = os.path.join(ETC, "mqtt.password")
    c.ok(ours(pw, 0o600), "mqtt.password is bmsgw's, 0600 (%s)" % (owner_mode(pw) if os.path.exists(pw) else "none"))
    c.ok(ours(CONF, 0o600), "the ini is bmsgw's, 0600 (%s)" % owner_mode(CONF))
    for i in range(1, 6):
        p = "%s.%d" % (CONF, i)
        c.ok(ours(p, 0o600), "%s: bmsgw's, no wider than its ini (%s)" % (os.path.basename(p), owner_mode(p)))
    for p, kind in PLANTED[3:]:
        c.ok(planted_intact(p, kind), "the %s planted at %s is as it was" % (kind, os.path.basename(p)))


def foreign_backup():
    """Another user's file at a backup's name, wider than the ini: refused
    and named, never changed."""
    b3 = CONF + ".3"
    write(b3, b"; eve's\n", 0o644)
    os.chown(b3, EVE, EVE)
    before = read(CONF)
    cfg = api.config()
    secs = sections(cfg)
    for s in secs:
        if s["name"] == "mqtt":
            s["keys"]["username"] = "bms2"
    st, a = api.post("apply", {"base_hash": cfg["hash"], "sections": secs})
    c.ok(st == 409 and b3 in a.get("error", ""), "a backup of another user's, 0644: 409 naming it (%d %s)"
         % (st, a.get("error")))
    c.ok(read(CONF) == before and read(b3) == b"; eve's\n" and owner_mode(b3) == "uid %d, 644" % EVE,
         "... the file and that backup untouched (%s)" % owner_mode(b3))
    os.chown(b3, 0, 0)  # the admin makes it bmsgw's


def ini_secret():
    """A secret that lives in the ini itself."""
    os.chmod(CONF, 0o640)
    cfg = api.config()
    secs = sections(cfg) + [{"name": "ble_proxy.shed", "keys": {"host": "127.0.0.1", "port": str(free_port())}}]
    st, a = api.post("apply", {"base_hash": cfg["hash"], "sections": secs,
                               "secrets": [{"section": "ble_proxy.shed", "key": "encryption_key", "value": PROXY_KEY}]})
    c.ok(st == 200 and a.get("applied"), "[ble_proxy.shed] encryption_key set from the setup: 200 (%d %s)"
         % (st, a.get("error")))
    c.ok("encryption_key = %s\n" % PROXY_KEY in read(CONF).decode(), "... it is in the ini")
    c.ok(ours(CONF, 0o600), "... which is 0600 now (%s)" % owner_mode(CONF))
    c.ok(all(ours("%s.%d" % (CONF, i), 0o600) for i in range(1, 6)), "... and so are its backups")
    c.eq(os.listdir(CWD), [], "the daemon's working directory is untouched")
    cfg = api.config()
    c.ok({"section": "ble_proxy.shed", "key": "encryption_key", "set": True} in cfg["secrets"]
         and PROXY_KEY not in json.dumps(cfg) + json.dumps(a) + gw.text(), "the key is set, never shown nor logged")
    st, a = api.post("apply", {"base_hash": cfg["hash"], "sections": sections(cfg),
                               "secrets": [{"section": "gateway", "key": "listen", "value": "x"}]})
    msg = field(a, "gateway", "listen")
    c.ok(st == 422 and msg and "secret" in msg, "a key that is no secret given as one: 422 naming it (%d %s)"
         % (st, msg))


def backups():
    return [read("%s.%d" % (CONF, i)) if os.path.exists("%s.%d" % (CONF, i)) else None for i in range(1, 6)]


def change_listen(sect, port):
    cfg = api.config()
    secs = sections(cfg)
    for s in secs:
        if s["name"] == sect:
            s["keys"]["listen"] = "127.0.0.1:%d" % port
    return cfg, secs


def refused_reloads():
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    before, kept = read(CONF), backups()
    c.ok(all(kept), "five backups before")
    cfg, secs = change_listen("gateway", port)
    st, a = api.post("apply", {"base_hash": cfg["hash"], "sections": secs})
    c.ok(st == 422 and "reload refused" in a.get("error", ""), "[gateway] listen on a taken port: 422 (%d %s)"
         % (st, a.get("error")))
    c.ok(read(CONF) == before, "... the file is put back")
    c.ok(backups() == kept, "... and the five backups, none lost (%s)" % [b and b[:12] for b in backups()])
    n = len(api.req("GET", "changes")[1]["changes"])
    cfg, secs = change_listen("http", port)
    st, a = api.post("apply", {"base_hash": cfg["hash"], "sections": secs})
    c.ok(st == 202 and a.get("applied") is False and a.get("restart") and a.get("pending"),
         "[http] listen on a taken port: 202, pending, not said applied (%d %s)" % (st, a))

    def outcome():
        ch = api.req("GET", "changes")[1]["changes"]
        return ch[0] if len(ch) > n else None
    e = wait_until(outcome, 20)
    c.ok(e and e.get("applied") is False and "reload refused" in e.get("error", ""),
         "... /changes says the reload refused it (%s)" % e)
    c.ok(wait_until(lambda: read(CONF) == before), "... the file is put back")
    c.ok(backups() == kept, "... and the five backups, none lost (%s)" % [b and b[:12] for b in backups()])
    c.ok(re.search(r"setup: ada from 127\.0\.0\.1: the change of \[http\] listen is not in force: the reload refused it",
                   gw.text()), "... and it is logged")
    taken.close()
    new = free_port()
    cfg, secs = change_listen("http", new)
    st, a = api.post("apply", {"base_hash": cfg["hash"], "sections": secs})
    c.ok(st == 202 and a.get("pending"), "[http] listen on a free port: 202, pending (%d)" % st)
    c.ok(wait_port(new, 20), "the page moves to its new port")
    api.port = new
    ch = wait_until(lambda: api.req("GET", "changes")[1]["changes"], 20)
    c.ok(ch and ch[0].get("applied") is True and {"section": "http", "key": "listen"} in ch[0]["changed"],
         "... /changes says it is applied (%s)" % (ch and ch[0]))


try:
    code = setup_code()
    first_admin(code)
    bad_values()
    paths()
    planted_apply()
    foreign_backup()
    ini_secret()
    refused_reloads()
    c.ok(gw.alive(), "bmsgw ran throughout")
finally:
    if c.failed:
        gw.dump(40)
    gw.stop()
    shutil.rmtree(TMP, True)
sys.exit(c.report())
