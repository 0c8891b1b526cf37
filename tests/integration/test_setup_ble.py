#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The setup API's Bluetooth scan (POST /api/setup/ble-scan) against the
real bmsgw and the fake BlueZ of tests/ble/ on a private dbus-daemon:

- a scan of 2 s is a job (202) whose result lists every device the fake
  advertises, strongest first, with its RSSI, the protocol its name and
  services suggest (as bmsgw --ble-scan says it) and the adapter it was
  seen through; discovery is stopped at the end;
- a second scan while one runs: 409; seconds 0 or 60, an adapter that is
  no local one: 422 on their fields; a read login: 403;
- an adapter powered off: the job fails and says why;
- the daemon's loop is not held meanwhile: /api/state answers during the
  scan."""
import base64
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BIN, ROOT, Checks, Proc, control_line, free_port, self_signed, user_line,  # noqa: E402
                     wait_port, wait_until, write_conf)

c = Checks()
BMSGW = os.path.join(ROOT, BIN, "bmsgw")
TMP = tempfile.mkdtemp(prefix="bmsgw-setup-ble-")
PW = {"ada": "ada-Secret-4417", "rita": "rita-Read-8812"}


class Bus(Proc):
    def __init__(self):
        self.sock = os.path.join(TMP, "bus")
        super().__init__(["dbus-daemon", "--config-file=" + os.path.join(ROOT, "tests/ble/bus.conf"),
                          "--address=unix:path=" + self.sock, "--nofork", "--nopidfile"], "dbus")
        if not wait_until(lambda: os.path.exists(self.sock), 10):
            raise RuntimeError("dbus-daemon did not start")
        self.address = "unix:path=" + self.sock


class Fake(Proc):
    def __init__(self, devices, env):
        self.ctl_port = free_port()
        spec = write_conf(json.dumps({"adapters": [{"name": "hci0"}], "devices": devices}))
        super().__init__(["/usr/bin/python3", os.path.join(ROOT, "tests/ble/fake_bluez.py"), "--spec", spec,
                          "--control", "127.0.0.1:%d" % self.ctl_port], "fake-bluez", env=env)
        if not wait_until(lambda: "ready" in self.text() or not self.alive(), 15) or not self.alive():
            self.dump()
            raise RuntimeError("fake BlueZ did not start")
        wait_port(self.ctl_port)

    def state(self):
        return json.loads(control_line(self.ctl_port, "state"))


def api(port, ca, method, path, body=None, user="ada", token=True):
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ssl.create_default_context(cafile=ca), timeout=120)
    h = {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, PW[user])).encode()).decode()}
    if method == "POST":
        tok = api(port, ca, "GET", "session", user=user)[1]["csrf"] if token else ""
        h.update({"Content-Type": "application/json", "X-CSRF-Token": tok})
    try:
        conn.request(method, path if path.startswith("/") else "/api/setup/" + path,
                     body=json.dumps(body) if body is not None else None, headers=h)
    except OSError:
        pass  # refused at its headers, the body cut: the answer is read as curl and browsers read it
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, json.loads(data or b"{}")


def main():
    if not shutil.which("dbus-daemon") or "without Bluetooth" in subprocess.run(
            [BMSGW, "--ble-scan=1"], capture_output=True, text=True, env={"DBUS_SYSTEM_BUS_ADDRESS": "x"}).stderr:
        print("skip: no dbus-daemon, or a build without Bluetooth")
        return
    bus = Bus()
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus.address)
    devs = [{"address": "A4:C1:38:11:22:33", "name": "xiaoxiang BMS", "rssi": -58, "mode": "none",
             "uuids": ["0000ff00-0000-1000-8000-00805f9b34fb"]},
            {"address": "C8:47:8C:11:22:33", "name": "JK-B2A24S15P", "rssi": -71, "mode": "none", "paired": True,
             "uuids": ["0000ffe0-0000-1000-8000-00805f9b34fb"]},
            {"address": "00:00:00:11:22:33", "name": "SomeHeadphones", "rssi": -90, "mode": "none", "uuids": []}]
    fake = Fake(devs, env)
    pem, key = self_signed(TMP)
    users = os.path.join(TMP, "users")
    with open(users, "w") as f:
        for name, role in (("ada", "admin"), ("rita", "read")):
            f.write(user_line(name, role, PW[name]))
    os.chmod(users, 0o600)
    gw_port, http_port = free_port(), free_port()
    conf = os.path.join(TMP, "bmsgw.ini")
    with open(conf, "w") as f:
        f.write("[gateway]\nlisten = 127.0.0.1:%d\nstate_file = none\n[http]\nlisten = 127.0.0.1:%d\ntls_cert = %s\n"
                "tls_key = %s\nusers_file = %s\n[history]\nfile = none\n" % (gw_port, http_port, pem, key, users))
    gw = Proc([BMSGW, "-c", conf], "bmsgw", env=env)
    try:
        c.ok(wait_port(gw_port) and wait_port(http_port), "bmsgw starts")
        st, a = api(http_port, pem, "POST", "ble-scan", {"seconds": 2})
        c.eq(st, 202, "ble-scan 2 s: 202 (%s)" % a)
        job = a.get("job")
        st, b = api(http_port, pem, "POST", "ble-scan", {"seconds": 2})
        c.eq(st, 409, "a second scan meanwhile: 409")
        c.ok(wait_until(lambda: fake.state()["adapters"]["hci0"]["discovering"], 5), "discovery runs")
        st, _ = api(http_port, pem, "GET", "/api/state")
        c.eq(st, 200, "/api/state answers during the scan (the loop is not held)")
        c.ok(wait_until(lambda: api(http_port, pem, "GET", "jobs/" + job)[1]["state"] != "running", 15), "the job ends")
        j = api(http_port, pem, "GET", "jobs/" + job)[1]
        got = {d["address"]: d for d in j.get("result", {}).get("devices", [])}
        c.ok(j["state"] == "done" and len(got) == 3, "done, every device listed (%s)" % sorted(got))
        c.eq([d["address"] for d in j["result"]["devices"]], ["A4:C1:38:11:22:33", "C8:47:8C:11:22:33",
                                                             "00:00:00:11:22:33"], "strongest first")
        c.ok(got.get("A4:C1:38:11:22:33", {}).get("protocol") == "jbd" and got["A4:C1:38:11:22:33"]["rssi"] == -58
             and got["A4:C1:38:11:22:33"]["via"] == "hci0", "a JBD: protocol jbd, its RSSI, via hci0")
        c.ok(got.get("C8:47:8C:11:22:33", {}).get("protocol") == "jk-ble", "a JK: jk-ble")
        c.ok(got.get("00:00:00:11:22:33", {}).get("protocol") is None, "headphones: no protocol")
        c.ok(wait_until(lambda: not fake.state()["adapters"]["hci0"]["discovering"], 10), "discovery stopped at the end")
        for body, fld in (({"seconds": 0}, "seconds"), ({"seconds": 60}, "seconds"),
                          ({"seconds": 2, "adapter": "kitchen"}, "adapter")):
            st, a = api(http_port, pem, "POST", "ble-scan", body)
            c.ok(st == 422 and a["errors"][0]["key"] == fld, "%s: 422 on %s" % (body, fld))
        st, a = api(http_port, pem, "POST", "ble-scan", {"seconds": 2}, user="rita")
        c.eq(st, 403, "a read login: 403")
        control_line(fake.ctl_port, "power hci0 0")
        st, a = api(http_port, pem, "POST", "ble-scan", {"seconds": 1})
        job = a.get("job")
        c.ok(st == 202 and wait_until(lambda: api(http_port, pem, "GET", "jobs/" + job)[1]["state"] != "running", 15),
             "a scan on an adapter powered off ends")
        j = api(http_port, pem, "GET", "jobs/" + job)[1]
        c.ok(j["state"] == "failed" and "powered off" in j["log"], "... failed, and says why (%s)" % j["log"].strip())
        c.ok(gw.alive(), "bmsgw ran throughout")
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        fake.stop()
        bus.stop()


try:
    main()
finally:
    shutil.rmtree(TMP, True)
sys.exit(c.report())
