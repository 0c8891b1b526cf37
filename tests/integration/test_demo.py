#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""`make demo` (tests/demo.sh) as a newcomer meets it, on the suite's own
ports (BMSGW_DEMO_MODBUS_PORT, _HTTP_PORT, _MQTT_PORT, _SIM_PORT: the
defaults, 1502, 8080 and 15020-15024, sit inside the tests' port range) and
its own state directory (BMSGW_DEMO_STATE):

- a port taken before the start (something listens on the Modbus port):
  the demo ends at once with exit status 1 and a message that names the
  port and the variable that moves it, where it printed "bmsgw demo is
  running" and exited 0;
- a port the gateway cannot bind (the status page's, bound by another
  socket that does not listen, so that only the bind tells): the demo ends
  with exit status 1, the gateway's own error line and the variables;
- a run: "bmsgw demo is running" on the ports given, the setup code's
  first admin made (POST /api/setup/admin, as the Setup tab does), Ctrl-C
  ends it with exit status 0 and leaves no part running;
- a second run makes the first admin again (the state starts afresh, where
  the users file of the first run made it 409 "is there already"); with
  BMSGW_DEMO_KEEP=1 the admin stays and the banner names the page's
  https:// address;
- the Daly pack (no capacity) says why it counts no SOC, once in the log
  and in /api/state's soc_estimate.not_counting; the JBD pack counts."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks, free_port, wait_until  # noqa: E402

c = Checks()
TMP = tempfile.mkdtemp(prefix="bmsgw-demo-")
STATE = os.path.join(TMP, "state")
PASSWORD = "demo-Admin-5521"


def ports():
    """The four ports, the simulators' four in a row from the last."""
    mb, http, mqtt = free_port(), free_port(), free_port()
    while True:
        sim = [free_port() for _ in range(4)]
        if sim == list(range(sim[0], sim[0] + 4)):
            return {"MODBUS": mb, "HTTP": http, "MQTT": mqtt, "SIM": sim[0]}


P = ports()
DEMOS = []


class Demo:
    """tests/demo.sh in a session of its own, its output in files."""

    def __init__(self, keep=False):
        env = dict(os.environ, BIN=BIN, BMSGW_DEMO_STATE=STATE, BMSGW_DEMO_KEEP="1" if keep else "0")
        for k, v in P.items():
            env["BMSGW_DEMO_%s_PORT" % k] = str(v)
        self.out = tempfile.NamedTemporaryFile(prefix="demo-out-", dir=TMP, delete=False)
        self.err = tempfile.NamedTemporaryFile(prefix="demo-err-", dir=TMP, delete=False)
        self.p = subprocess.Popen(["bash", "tests/demo.sh"], cwd=ROOT, env=env, stdout=self.out, stderr=self.err,
                                  start_new_session=True)
        DEMOS.append(self)

    def text(self, which="out"):
        with open((self.out if which == "out" else self.err).name, errors="replace") as f:
            return f.read()

    def running(self):
        return "bmsgw demo is running" in self.text()

    def ended(self, timeout):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def ctrl_c(self):
        """Ctrl-C: SIGINT to the demo's process group, as a terminal sends it."""
        try:
            os.killpg(self.p.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
        rc = self.ended(60)
        if rc is None:
            os.killpg(self.p.pid, signal.SIGKILL)
            self.p.wait()
        return rc

    def dump(self):
        for which in ("out", "err"):
            print("---- demo std%s ----" % which)
            for line in self.text(which).splitlines()[-40:]:
                print("   " + line)


def nothing_listens():
    """The demo's ports once it ended: none accepts."""
    for p in [P["MODBUS"], P["HTTP"], P["MQTT"]] + [P["SIM"] + i for i in range(4)]:
        try:
            with socket.create_connection(("127.0.0.1", p), timeout=0.5):
                return "127.0.0.1:%d" % p
        except OSError:
            pass
    return None


def http(path, body=None, token=None):
    req = urllib.request.Request("http://127.0.0.1:%d/%s" % (P["HTTP"], path), method="POST" if body else "GET",
                                 data=json.dumps(body).encode() if body else None)
    if body:
        req.add_header("Content-Type", "application/json")
        req.add_header("X-CSRF-Token", token or "")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def first_admin():
    """The Setup tab's first admin from the setup code: (status, answer)."""
    code_file = os.path.join(STATE, "setup-code")
    if not wait_until(lambda: os.path.exists(code_file), 10):
        return None, {"error": "no setup code"}
    code = open(code_file).read().strip()
    st, session = http("api/setup/session")
    if st != 200 or not session.get("setup_code_needed"):
        return st, session
    return http("api/setup/admin", {"code": code, "user": "ada", "password": PASSWORD}, session.get("csrf"))


def port_taken():
    # something listens on the Modbus port: told before anything starts
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", P["MODBUS"]))
    s.listen()
    try:
        d = Demo()
        rc = d.ended(60)
        if rc is None:
            d.ctrl_c()
        err = d.text("err")
        c.eq(rc, 1, "a port taken (the Modbus port listened on): exit status 1 (%s)" % rc)
        c.ok("127.0.0.1:%d" % P["MODBUS"] in err and "BMSGW_DEMO_MODBUS_PORT" in err,
             "... the message names the port and the variable that moves it (%r)" % err[:300])
        c.ok(not d.running(), "... and no \"bmsgw demo is running\"")
    finally:
        s.close()
    c.eq(nothing_listens(), None, "... nothing of the demo left running")
    # bound by a socket that does not listen: only the gateway's bind tells
    s = socket.socket()
    s.bind(("127.0.0.1", P["HTTP"]))
    try:
        d = Demo()
        rc = d.ended(120)
        if rc is None:
            d.ctrl_c()
        err = d.text("err")
        c.eq(rc, 1, "the status page's port bound elsewhere (the gateway cannot listen): exit status 1 (%s)" % rc)
        c.ok("did not start" in err and "listen 127.0.0.1:%d" % P["HTTP"] in err and "BMSGW_DEMO_HTTP_PORT" in err,
             "... the message has the gateway's error line and the variables (%r)" % err[-400:])
        c.ok(not d.running(), "... and no \"bmsgw demo is running\"")
        c.eq(nothing_listens(), None, "... nothing of the demo left running")
    finally:
        s.close()


def run_once(n, keep=False):
    """A run to its banner, the first admin made, Ctrl-C: the demo."""
    d = Demo(keep)
    ok = wait_until(lambda: d.running() or d.p.poll() is not None, 180, 0.2)
    if not c.ok(ok and d.running(), "run %d: \"bmsgw demo is running\"" % n):
        d.dump()
        d.ctrl_c()
        return None
    out = d.text()
    c.ok("mbpoll -m tcp -p %d " % P["MODBUS"] in out and "127.0.0.1:%d/" % P["HTTP"] in out,
         "run %d: the banner names the ports given" % n)
    return d


def daly_not_counting(d):
    path = os.path.join(STATE, "bmsgw.log")
    log = open(path, errors="replace").read() if os.path.exists(path) else ""
    c.ok(wait_until(lambda: "pack demo: the charge is not counted" in open(path, errors="replace").read()
                    if os.path.exists(path) else False, 30), "the gateway's log in the state directory")
    log = open(path, errors="replace").read() if os.path.exists(path) else log
    lines = [line for line in log.splitlines() if "pack demo: the charge is not counted" in line]
    c.eq(len(lines), 1, "the Daly pack says once why it counts no SOC (%s)" % lines)
    c.ok(lines and "no capacity" in lines[0], "... no capacity (%s)" % (lines[:1]))
    c.ok("pack van: counting the charge" in log, "... where the JBD pack counts")
    st, js = http("api/state")
    est = {p["pack"]: p["soc_estimate"] for p in js.get("packs", [])} if st == 200 else {}
    c.ok("no capacity" in (est.get("demo", {}).get("not_counting") or ""),
         "/api/state: the Daly pack's soc_estimate.not_counting says why (%s)" % est.get("demo", {}).get("not_counting"))
    c.eq(est.get("van", {}).get("not_counting", "absent"), None, "... the JBD's is null")


def runs():
    d = run_once(1)
    if not d:
        return
    daly_not_counting(d)
    st, js = first_admin()
    c.eq(st, 200, "run 1: the first admin made from the setup code (%s)" % js.get("error"))
    c.eq(d.ctrl_c(), 0, "run 1: Ctrl-C ends the demo with exit status 0")
    c.eq(nothing_listens(), None, "... nothing of it left running")
    d = run_once(2)
    if not d:
        return
    st, js = first_admin()
    c.eq(st, 200, "run 2 (a second make demo): the first admin made again (%s %s)" % (st, js.get("error")))
    c.eq(d.ctrl_c(), 0, "run 2: Ctrl-C, exit status 0")
    d = run_once(3, keep=True)
    if not d:
        return
    c.ok("https://127.0.0.1:%d/" % P["HTTP"] in d.text() and "page is on HTTPS" in d.text(),
         "run 3 (BMSGW_DEMO_KEEP=1): the admin kept, the banner names the https:// page")
    c.ok(os.path.exists(os.path.join(STATE, "users")), "... its users file kept")
    c.eq(d.ctrl_c(), 0, "run 3: Ctrl-C, exit status 0")


def main():
    try:
        port_taken()
        runs()
    finally:
        for d in DEMOS:  # one that did not end (a failed check): its whole group
            if d.p.poll() is None:
                d.dump()
                d.ctrl_c()
        shutil.rmtree(TMP, ignore_errors=True)
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
