#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""[influx] against a real InfluxDB 1.x (Debian's influxd, started here on
free ports in a temporary directory, authentication on) and against a
local receiver of InfluxDB 2's write API (Python's http.server).

v1: bmsgw writes a point of each fresh unit (two packs, the bank, its
string) every second with its user and password (the password file); the points read back carry the site tag and
the values /api/state shows.  A pack off the bus sends no point while it is
stale.  influxd stopped for ~30 s and started again: the points of the
outage are queued (counted in /api/state and /metrics), then written, in
order, none missing and none twice (the points bmsgw counts as sent are the
points in the database).  v2: the request is the documented one (POST
/api/v2/write?org=&bucket=&precision=s, Authorization: Token, text/plain);
401 and 400 drop the batch (counted), 500 and 429 are retried with the same
points.  The password and the token are never in the log or the API."""
import json
import os
import re
import signal
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from base64 import b64encode
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Gateway, Proc, Sim, api_state, free_port, wait_port, wait_until  # noqa: E402

c = Checks()
PASSWORD = "Infl-ux-s3cret"
TOKEN = "tOk3n-ABCDEFGHIJ0123456789=="
INFLUXD = "/usr/bin/influxd"


def secret(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text + "\n")
    os.chmod(path, 0o600)
    return path


class Influxd:
    """influxd 1.x on free ports, its files in dir, HTTP authentication on."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "influxd")
        os.makedirs(self.dir, exist_ok=True)
        self.port, rpc = free_port(), free_port()
        self.conf = os.path.join(self.dir, "influxd.conf")
        with open(self.conf, "w") as f:
            f.write("""reporting-disabled = true
bind-address = "127.0.0.1:%d"
[meta]
  dir = "%s/meta"
[data]
  dir = "%s/data"
  wal-dir = "%s/wal"
  query-log-enabled = false
[retention]
  enabled = false
[shard-precreation]
  enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:%d"
  auth-enabled = true
  log-enabled = false
[subscriber]
  enabled = false
[continuous_queries]
  enabled = false
""" % (rpc, self.dir, self.dir, self.dir, self.port))
        self.proc = None
        self.start()

    def start(self):
        self.proc = Proc([INFLUXD, "-config", self.conf], "influxd")
        if not wait_port(self.port, 30) or not wait_until(self.ping, 30):
            self.proc.dump()
            raise RuntimeError("influxd did not start")

    def ping(self):
        try:
            return urllib.request.urlopen("http://127.0.0.1:%d/ping" % self.port, timeout=2).status == 204
        except OSError:
            return False

    def stop(self):
        if self.proc:
            self.proc.stop(signal.SIGTERM, 15)

    def query(self, q, user="admin", password=PASSWORD, db=None):
        data = {"q": q}
        if db:
            data["db"] = db
        req = urllib.request.Request("http://127.0.0.1:%d/query" % self.port,
                                     data=urllib.parse.urlencode(data).encode())
        if user:
            req.add_header("Authorization", "Basic " + b64encode(("%s:%s" % (user, password)).encode()).decode())
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def points(self, where=""):
        """Every point of measurement bmsgw as dicts, time in Unix seconds."""
        res = self.query("SELECT * FROM bmsgw %s" % where, db="bmsgw")["results"][0]
        out = []
        for s in res.get("series", []):
            cols = s["columns"]
            for v in s["values"]:
                out.append(dict(zip(cols, v)))
        return out


def epoch_points(ix, where=""):
    q = "SELECT * FROM bmsgw %s" % where
    req = urllib.request.Request("http://127.0.0.1:%d/query?epoch=s" % ix.port,
                                 data=urllib.parse.urlencode({"q": q, "db": "bmsgw"}).encode())
    req.add_header("Authorization", "Basic " + b64encode(("admin:%s" % PASSWORD).encode()).decode())
    with urllib.request.urlopen(req, timeout=10) as r:
        res = json.loads(r.read())["results"][0]
    out = []
    for s in res.get("series", []):
        for v in s["values"]:
            out.append(dict(zip(s["columns"], v)))
    return out


def conf_v1(sim, gwport, http, ix, pw):
    return """[gateway]
listen = 127.0.0.1:%d
site = cabin
stale_after = 3
state_file = none
[pack.p1]
protocol = daly
port = tcp://127.0.0.1:%d
address = 1
poll_interval = 0.5
timeout = 0.3
retries = 0
[pack.p2]
protocol = daly
port = tcp://127.0.0.1:%d
address = 2
poll_interval = 0.5
timeout = 0.3
retries = 0
[bank]
strings = p1+p2
[http]
listen = 127.0.0.1:%d
[influx]
url = http://127.0.0.1:%d
database = bmsgw
username = admin
password_file = %s
interval = 1
timeout = 3
""" % (gwport, sim.port, sim.port, http, ix.port, pw)


def influx_state(http):
    return api_state(http).get("influx") or {}


def check_points(ix, http):
    c.ok(wait_until(lambda: {p.get("unit") for p in epoch_points(ix)} >= {"p1", "p2", "bank", "string1"}, 20),
         "v1: points of p1, p2, the bank and its string arrive")
    st = api_state(http)
    packs = {p["pack"]: p for p in st.get("packs", [])}
    p1 = packs.get("p1", {})
    pts = [p for p in epoch_points(ix, "WHERE unit = 'p1'")]
    last = pts[-1] if pts else {}
    c.eq(last.get("site"), "cabin", "v1: the site tag is [gateway] site")
    for k in ("voltage", "current", "soc", "remaining_ah", "cycles"):
        c.ok(last.get(k) is not None and p1.get(k) is not None and abs(last[k] - p1[k]) <= 0.01 + abs(p1[k]) * 1e-4,
             "v1: p1 %s as /api/state shows it (%s, %s)" % (k, last.get(k), p1.get(k)))
    cells = p1.get("cells_mv") or []
    c.ok(cells and all(last.get("cell_%02d" % (i + 1)) == v for i, v in enumerate(cells)),
         "v1: the cells as cell_01 ... in mV (%d)" % len(cells))
    bank = [p for p in epoch_points(ix, "WHERE unit = 'bank'")]
    b = st.get("bank") or {}
    c.ok(bank and abs(bank[-1].get("voltage", 0) - b.get("voltage", -1)) <= 0.01,
         "v1: the bank's voltage as /api/state shows it")
    s1 = (b.get("strings") or [{}])[0]
    pts = [p for p in epoch_points(ix, "WHERE unit = 'string1'")]
    c.ok(pts and s1.get("voltage") and abs(pts[-1].get("voltage", 0) - s1["voltage"]) <= 0.01
         and pts[-1].get("cell_min_mv") == s1.get("cell_min_mv"),
         "v1: string1's voltage and lowest cell as /api/state shows them (%s V)" % s1.get("voltage"))


def check_stale(sim, ix, http):
    sim.ctl("pack 2 absent")
    c.ok(wait_until(lambda: not next(p for p in api_state(http)["packs"] if p["pack"] == "p2")["online"], 15),
         "stale: p2 off the bus goes stale")
    t0 = int(time.time()) + 1
    # three intervals of points of p1 (waited for in the database), none of p2 meanwhile
    wait_until(lambda: len({p["time"] for p in epoch_points(ix, "WHERE time >= %ds" % t0) if p["unit"] == "p1"})
               >= 3, 15, step=0.5)
    pts = epoch_points(ix, "WHERE time >= %ds" % t0)
    c.ok(len({p["time"] for p in pts if p["unit"] == "p1"}) >= 3 and
         not any(p["unit"] in ("p2", "string1") for p in pts),
         "stale: p1 goes on, p2 and its string send no point while p2 is stale")
    sim.ctl("pack 2 present")


def check_outage(ix, http):
    ix.stop()
    t_down = time.time()
    c.ok(wait_until(lambda: influx_state(http).get("failed", 0) >= 1 and influx_state(http).get("queued", 0) > 3,
                    20), "outage: POSTs fail and the points queue (%s)" % influx_state(http))
    while time.time() - t_down < 30:
        time.sleep(1)
    st = influx_state(http)
    c.ok(st.get("ok") is False and st.get("last_error"), "outage: /api/state influx says why (%s)"
         % st.get("last_error"))
    met = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % http, timeout=5).read().decode()
    m = re.search(r"^bmsgw_influx_points_queued\{site=\"cabin\"\} (\d+)", met, re.M)
    c.ok(m and int(m.group(1)) >= 40,
         "outage: /metrics bmsgw_influx_points_queued, labelled with the site (%s)" % (m and m.group(0)))
    ix.start()
    t_up = time.time()
    c.ok(wait_until(lambda: influx_state(http).get("queued", 99) <= 3 and influx_state(http).get("ok"), 40),
         "after the outage: the queue is sent (%s)" % influx_state(http))
    return t_down, t_up


def check_after(ix, http, t_down, t_up):
    pts = epoch_points(ix, "WHERE unit = 'p1'")
    times = [p["time"] for p in pts]
    during = [t for t in times if t_down + 1 <= t <= t_up - 1]
    c.ok(len(during) >= 0.8 * (t_up - t_down - 2), "after the outage: p1's points of the outage are there "
         "(%d in %.0f s)" % (len(during), t_up - t_down))
    gaps = [b - a for a, b in zip(times, times[1:])]
    c.ok(gaps and max(gaps) <= 3, "after the outage: no hole in p1's points (largest step %s s)" % max(gaps or [0]))
    c.eq(len(set(times)), len(times), "p1's points each at their own second")
    # the points counted as sent are the points in the database (a point
    # written twice would be one point there, two in the count): read
    # between two readings of the count, while new points keep coming
    seen = []

    def counted():
        a = influx_state(http).get("sent", -1)
        n = len(epoch_points(ix))
        b = influx_state(http).get("sent", -1)
        seen[:] = [a, n, b]
        return a <= n <= b

    c.ok(wait_until(counted, 10, 0.3), "none twice: sent %s <= %s points in the database <= sent %s" % tuple(seen))
    st2 = influx_state(http)
    c.eq(st2.get("dropped"), 0, "nothing dropped (the queue held the outage)")
    c.ok(st2.get("last_success"), "last_success shown (%s)" % st2.get("last_success"))


class V2:
    """A receiver of InfluxDB 2's write API: every request kept; the answer
    codes given in turn from `codes` (then 204)."""

    def __init__(self):
        self.reqs = []
        self.codes = []
        self.lock = threading.Lock()
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(n).decode()
                with outer.lock:
                    code = outer.codes.pop(0) if outer.codes else 204
                    outer.reqs.append((self.command, self.path, dict(self.headers), body, code))
                msg = b'{"code":"x","message":"test answer"}' if code != 204 else b""
                self.send_response(code)
                if code == 429:
                    self.send_header("Retry-After", "1")
                self.send_header("Content-Length", str(len(msg)))
                self.end_headers()
                self.wfile.write(msg)

            def log_message(self, *a):
                pass

        self.port = free_port()
        self.srv = ThreadingHTTPServer(("127.0.0.1", self.port), H)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def all(self):
        with self.lock:
            return list(self.reqs)


def conf_v2(sim, gwport, http, port, tok):
    return """[gateway]
listen = 127.0.0.1:%d
state_file = none
[pack.p1]
protocol = daly
port = tcp://127.0.0.1:%d
address = 1
poll_interval = 0.5
timeout = 0.3
retries = 0
[http]
listen = 127.0.0.1:%d
[influx]
url = http://127.0.0.1:%d/
org = my-org
bucket = b&1
token_file = %s
interval = 1
""" % (gwport, sim.port, http, port, tok)


def reload(gw, n):
    gw.p.send_signal(signal.SIGHUP)
    return wait_until(lambda: re.search(r"reload #%d: applied" % n, gw.text()), 10)


def check_reload(gw, http):
    sent = influx_state(http).get("sent", 0)
    c.ok(reload(gw, 1), "reload: the same file applied")
    after = influx_state(http)
    c.ok(sent > 0 and after.get("sent", 0) >= sent and after.get("rejected") > 0,
         "reload: the same [influx] goes on, its counts kept (%d, then %s)" % (sent, after.get("sent")))
    with open(gw.conf) as f:
        text = f.read()
    with open(gw.conf, "w") as f:
        f.write(text.replace("interval = 1\n", "interval = 2\n", 1))
    c.ok(reload(gw, 2), "reload: a new interval applied")
    st = influx_state(http)
    c.ok(st.get("interval") == 2 and st.get("rejected") == 0 and st.get("sent", 99) < sent,
         "reload: a changed [influx] starts again (%s)" % st)


def check_v2(sim, tmp):
    v2 = V2()
    tok = secret(tmp, "token", TOKEN)
    gwport, http = free_port(), free_port()
    gw = Gateway(conf_v2(sim, gwport, http, v2.port, tok), gwport)
    try:
        c.ok(wait_until(lambda: len(v2.all()) >= 1, 15), "v2: a POST arrives")
        meth, path, hdr, body, _ = v2.all()[0]
        u = urllib.parse.urlsplit(path)
        c.eq((meth, u.path), ("POST", "/api/v2/write"), "v2: POST /api/v2/write")
        c.eq(urllib.parse.parse_qs(u.query), {"org": ["my-org"], "bucket": ["b&1"], "precision": ["s"]},
             "v2: org, bucket (%-encoded) and precision=s in the query")
        c.eq(hdr.get("Authorization"), "Token " + TOKEN, "v2: Authorization: Token")
        c.ok((hdr.get("Content-Type") or "").startswith("text/plain"), "v2: a text/plain body")
        c.ok(re.fullmatch(r"(bmsgw,unit=p1 \S+ \d{10}\n)+", body) is not None, "v2: line protocol (%r)" % body[:80])
        with v2.lock:
            v2.codes = [401, 204, 500, 429, 204, 400, 204]
        n0 = len(v2.all())
        c.ok(wait_until(lambda: len(v2.all()) >= n0 + 7, 30), "v2: the scripted answers are used")
        rq = v2.all()[n0:n0 + 7]
        codes = [r[4] for r in rq]
        c.eq(codes, [401, 204, 500, 429, 204, 400, 204], "v2: answers in order")
        b = [r[3] for r in rq]
        c.ok(not b[1].startswith(b[0]), "v2: 401: the batch is dropped, not sent again")
        c.ok(b[3].startswith(b[2]) and b[4].startswith(b[3]), "v2: 500 and 429: the same points tried again")
        c.ok(not b[6].startswith(b[5]), "v2: 400: the batch is dropped")
        rejected = b[0].count("\n") + b[5].count("\n")
        st = influx_state(http)
        c.eq(st.get("rejected"), rejected, "v2: the dropped points counted (rejected)")
        c.ok(st.get("failed", 0) >= 2, "v2: the retried POSTs counted (failed %s)" % st.get("failed"))
        check_reload(gw, http)
        text = gw.text()
        cfg = urllib.request.urlopen("http://127.0.0.1:%d/api/config" % http, timeout=5).read().decode()
        state = json.dumps(api_state(http))
        c.ok(TOKEN not in text and TOKEN not in cfg and TOKEN not in state, "v2: the token is in no log nor API")
        c.eq(gw.stop(), 0, "v2: bmsgw stops cleanly")
        c.ok("Sanitizer" not in gw.text(), "v2: no sanitizer report")
    finally:
        gw.stop()
        v2.srv.shutdown()


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-influx-")
    ix = Influxd(tmp)
    ix.query("CREATE USER admin WITH PASSWORD '%s' WITH ALL PRIVILEGES" % PASSWORD, user=None)
    ix.query("CREATE DATABASE bmsgw")
    try:
        urllib.request.urlopen("http://127.0.0.1:%d/query?q=SHOW+DATABASES" % ix.port, timeout=5)
        c.ok(False, "influxd asks for a login")
    except urllib.error.HTTPError as e:
        c.eq(e.code, 401, "influxd asks for a login")
    pw = secret(tmp, "pw", PASSWORD)
    sim = Sim(packs=("address=1", "address=2"))
    gwport, http = free_port(), free_port()
    gw = Gateway(conf_v1(sim, gwport, http, ix, pw), gwport)
    try:
        check_points(ix, http)
        check_stale(sim, ix, http)
        t_down, t_up = check_outage(ix, http)
        check_after(ix, http, t_down, t_up)
        text = gw.text()
        c.ok(re.search(r"influx: http://127\.0\.0\.1:\d+: .*retrying", text) is not None,
             "the outage's start is logged once")
        c.ok(re.search(r"influx: http://127\.0\.0\.1:\d+: written again after \d+ s", text) is not None,
             "its end is logged")
        st = json.dumps(api_state(http))
        cfg = urllib.request.urlopen("http://127.0.0.1:%d/api/config" % http, timeout=5).read().decode()
        c.ok(PASSWORD not in text and PASSWORD not in st and PASSWORD not in cfg,
             "the password is in no log nor API")
        c.eq(gw.stop(), 0, "bmsgw stops cleanly")
        c.ok("Sanitizer" not in gw.text(), "no sanitizer report")
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        ix.stop()
    check_v2(sim, tmp)
    sys.exit(c.report())


if __name__ == "__main__":
    main()
