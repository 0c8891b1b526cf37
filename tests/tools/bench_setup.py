#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench: the setup API (bmsgw(8) SETUP) against the real bmsgw.

- detect to reading: a Daly simulator on a pty, a daemon without a pack
  (its admin made beforehand): POST /api/setup/detect, its job polled
  until done, the pack found applied, and its first good reading over
  Modbus; the detection, the apply and the whole, the median of
  SETUP_TRIALS (default 5), the pack removed again and a new simulator
  between trials;
- apply with 16 packs: a configuration of 16 Daly packs on one simulated
  bus, every pack's poll_interval changed by one apply (the file written
  with its backup and fsync, checked whole, reloaded): the answer's time
  and the reload's own (the log's "applied in"), median and worst of
  SETUP_TRIALS.

Figures, not assertions."""
import base64
import http.client
import json
import os
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import BIN, ROOT, Proc, Sim, free_port, mbread, self_signed, wait_port, wait_until  # noqa: E402

BMSGW = os.path.join(ROOT, BIN, "bmsgw")
TMP = tempfile.mkdtemp(prefix="bmsgw-bench-setup-")
PW = "bench-Admin-7711"
TRIALS = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("SETUP_TRIALS", "5"))


class Api:
    def __init__(self, port, ca):
        self.port, self.ctx = port, ssl.create_default_context(cafile=ca)
        self.auth = "Basic " + base64.b64encode(("ada:" + PW).encode()).decode()
        self.tok = None

    def req(self, method, path, body=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=60)
        h = {"Authorization": self.auth}
        if method == "POST":
            h.update({"Content-Type": "application/json", "X-CSRF-Token": self.tok})
        conn.request(method, "/api/setup/" + path, body=json.dumps(body) if body is not None else None, headers=h)
        r = conn.getresponse()
        js = json.loads(r.read() or b"{}")
        conn.close()
        return r.status, js

    def start(self):
        self.tok = self.req("GET", "session")[1]["csrf"]


def daemon(extra):
    d = tempfile.mkdtemp(dir=TMP)
    pem, key = self_signed(d)
    users = os.path.join(d, "users")
    r = subprocess.run([BMSGW, "--hash-password", "ada", "admin"], input=PW + "\n", capture_output=True, text=True)
    with open(users, "w") as f:
        f.write(r.stdout)
    os.chmod(users, 0o600)
    gw_port, http_port = free_port(), free_port()
    conf = os.path.join(d, "bmsgw.ini")
    with open(conf, "w") as f:
        f.write("[gateway]\nlisten = 127.0.0.1:%d\nstate_file = none\nlog_level = info\n%s"
                "[http]\nlisten = 127.0.0.1:%d\ntls_cert = %s\ntls_key = %s\nusers_file = %s\n[history]\nfile = none\n"
                % (gw_port, extra, http_port, pem, key, users))
    gw = Proc([BMSGW, "-c", conf], "bmsgw-bench")
    if not (wait_port(gw_port) and wait_port(http_port)):
        gw.dump()
        raise RuntimeError("bmsgw did not start")
    api = Api(http_port, pem)
    api.start()
    return gw, api, gw_port


def sections(api):
    cfg = api.req("GET", "config")[1]
    return cfg["hash"], [{"name": s["name"], "keys": dict(s["keys"])} for s in cfg["sections"]]


def detect_to_reading():
    gw, api, gw_port = daemon("")
    rows = []
    sim = None
    try:
        for i in range(TRIALS):
            # a new simulator each time: none of the last trial's answers is still on its line
            pty = os.path.join(TMP, "bms%d" % i)
            sim = Sim("daly", tcp=False, pty_path=pty, packs=("address=1",))
            t0 = time.monotonic()
            st, a = api.req("POST", "detect", {"port": pty})
            job = a["job"]
            done = wait_until(lambda: api.req("GET", "jobs/" + job)[1]["state"] != "running", 60, 0.05)
            j = api.req("GET", "jobs/" + job)[1]
            t1 = time.monotonic()
            if not done or not j["result"]["packs"]:
                print("setup bench: the detection found nothing (%s)" % j.get("log", "")[-200:])
                return
            f = j["result"]["packs"][0]
            h, secs = sections(api)
            secs.append({"name": "pack.p", "keys": {"protocol": f["protocol"], "port": pty, "poll_interval": "1"}})
            st, a = api.req("POST", "apply", {"base_hash": h, "sections": secs})
            t2 = time.monotonic()
            wait_until(lambda: mbread(gw_port, 1, 290, 1).startswith("ok "), 30, 0.02)
            t3 = time.monotonic()
            rows.append((t1 - t0, t2 - t1, t3 - t2, t3 - t0))
            h, secs = sections(api)
            api.req("POST", "apply", {"base_hash": h, "sections": [s for s in secs if s["name"] != "pack.p"]})
            sim.stop()
            sim = None
    finally:
        gw.stop()
        if sim:
            sim.stop()
    med = [statistics.median(r[i] for r in rows) for i in range(4)]
    print("setup: detect to reading (daly on a pty, %d trials, median): detection %.2f s, apply %.0f ms, first "
          "reading %.2f s after the apply; %.2f s in all (worst %.2f s)"
          % (len(rows), med[0], med[1] * 1000, med[2], med[3], max(r[3] for r in rows)))


def apply_16():
    sim = Sim("daly", packs=tuple("address=%d" % a for a in range(1, 17)))
    packs = "".join("[pack.p%d]\nprotocol = daly\nport = tcp://127.0.0.1:%d\naddress = %d\npoll_interval = 2\n"
                    "timeout = 0.5\n" % (a, sim.port, a) for a in range(1, 17))
    gw, api, _ = daemon(packs)
    times, reloads = [], []
    try:
        for i in range(TRIALS):
            h, secs = sections(api)
            for s in secs:
                if s["name"].startswith("pack."):
                    s["keys"]["poll_interval"] = str(2 + (i + 1) % 2)
            n = gw.text().count("applied in")
            t0 = time.monotonic()
            st, a = api.req("POST", "apply", {"base_hash": h, "sections": secs})
            times.append(time.monotonic() - t0)
            if st != 200:
                print("setup bench: apply answered %d: %s" % (st, a))
                return
            wait_until(lambda: gw.text().count("applied in") > n, 10)
            m = re.findall(r"reload #\d+: applied in ([0-9.]+) ms", gw.text())
            reloads.append(float(m[-1]) if m else float("nan"))
    finally:
        gw.stop()
        sim.stop()
    print("setup: apply with 16 packs (16 keys changed, %d trials): answer median %.0f ms, worst %.0f ms (the file "
          "checked, written with its backup and fsync, reloaded); the reload itself median %.1f ms"
          % (len(times), statistics.median(times) * 1000, max(times) * 1000, statistics.median(reloads)))


try:
    detect_to_reading()
    apply_16()
finally:
    shutil.rmtree(TMP, True)
