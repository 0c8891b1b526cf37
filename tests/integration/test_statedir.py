#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: uses=/var/lib/bmsgw
"""The automatic state directory end to end: the real bmsgw started by hand
as root (no systemd, so no $STATE_DIRECTORY), with neither [history] file
nor [gateway] state_file, in a private mount namespace whose /var/lib is a
fresh tmpfs (the machine's /var/lib is never touched):

- /var/lib/bmsgw missing: bmsgw makes it, mode 0750, the history gets rows,
  /api/history.csv answers 200, the state file is written (on a reload);
- /var/lib/bmsgw there with mode 0700: used as it is, its mode kept;
- /var/lib read-only, so it cannot be made: logged once, naming the keys
  that set another place, and the gateway goes on serving Modbus
  (/api/history.csv answers 503).
"""
import csv
import io
import os
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks, Proc, Sim, free_port, wait_port, wait_until, write_conf  # noqa: E402

from pymodbus.client import ModbusTcpClient  # noqa: E402

c = Checks()
BASE = 290
KEYS = ("[history] file = ... or [gateway] state_file = ..., or run under systemd with StateDirectory=")


def conf(gw_port, http_port, sim_port):
    """No state_file, no [history] file: the automatic place."""
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 3
[pack.house]
protocol = daly
port = tcp://127.0.0.1:%d
poll_interval = 0.5
timeout = 0.5
retries = 0
[http]
listen = 127.0.0.1:%d
[history]
interval = 1
""" % (gw_port, sim_port, http_port)


class NsGateway(Proc):
    """bmsgw in a mount namespace of its own: `setup` (sh) runs first, as
    root, with a tmpfs over /var/lib; no $STATE_DIRECTORY."""

    def __init__(self, setup, text, port):
        self.conf = write_conf(text)
        env = {k: v for k, v in os.environ.items() if k != "STATE_DIRECTORY"}
        script = "mount -t tmpfs -o size=4m,mode=0755 tmpfs /var/lib && %s && exec \"$@\"" % setup
        super().__init__(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
                          os.path.join(ROOT, BIN, "bmsgw"), "-c", self.conf], "bmsgw", env=env)
        self.ok = wait_port(port, 15)

    def path(self, p):
        """p in its mount namespace, seen from here."""
        return "/proc/%d/root%s" % (self.p.pid, p)


def fetch(port, path):
    """(status, body); (0, "") while the status page does not listen yet (it
    starts a moment after the Modbus port that NsGateway waits for)."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except urllib.error.URLError:
        return 0, ""


def csv_rows(port, unit):
    st, body = fetch(port, "/api/history.csv?unit=%s&range=1h" % unit)
    return list(csv.DictReader(io.StringIO(body))) if st == 200 else []


def mode(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return stat.S_IMODE(st.st_mode) if stat.S_ISDIR(st.st_mode) else None


def reload(gw, n):
    gw.p.send_signal(signal.SIGHUP)
    return wait_until(lambda: "reload #%d: applied" % n in gw.text(), 10)


def main():
    if os.geteuid() != 0 or subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode:
        print("SKIPPED: needs root and mount namespaces (unshare -m)")
        return c.report()
    host_had = os.path.lexists("/var/lib/bmsgw")
    sim = Sim("daly", packs=("address=1,cells=8,sensors=2,soc=50,current=10",))
    try:
        missing(sim)
        existing(sim)
        read_only(sim)
    finally:
        sim.stop()
    c.eq(os.path.lexists("/var/lib/bmsgw"), host_had, "the machine's /var/lib is left alone")
    return c.report()


def missing(sim):
    gw_port, http_port = free_port(), free_port()
    gw = NsGateway("true", conf(gw_port, http_port, sim.port), gw_port)
    try:
        c.ok(gw.ok, "bmsgw runs with /var/lib/bmsgw missing")
        d = gw.path("/var/lib/bmsgw")
        c.eq(mode(d), 0o750, "/var/lib/bmsgw is made, mode 0750")
        c.ok("created the state directory /var/lib/bmsgw (mode 0750)" in gw.text(), "its creation is logged")
        # rows of the pack online (the first ones may come before its first answer)
        rows = wait_until(lambda: (lambda r: r if len(r) >= 3 and any(x["online"] == "1" for x in r) else None)(
            csv_rows(http_port, "house")), 30)
        c.ok(rows, "the history gets rows (%d)" % len(rows or []))
        c.ok(os.path.isfile(d + "/history.db"), "in /var/lib/bmsgw/history.db")
        want = sim.state()["packs"][0]
        on = [r for r in rows or [] if r["online"] == "1"]
        c.ok(on and abs(float(on[-1]["voltage_v"]) - want["voltage"]) < 0.006,
             "with the simulator's voltage (%s)" % (on and on[-1]["voltage_v"]))
        st, body = fetch(http_port, "/api/history.csv?unit=house&range=1h")
        c.eq(st, 200, "/api/history.csv answers 200")
        c.ok(reload(gw, 1), "a reload")
        c.ok(wait_until(lambda: os.path.isfile(d + "/state"), 5), "the state file is written to /var/lib/bmsgw/state")
        c.eq(mode(d), 0o750, "its mode stays 0750")
        text = gw.text()
        c.ok("unable to open database file" not in text and "cannot write" not in text,
             "no error opening the history or writing the state")
        c.ok(KEYS not in text, "nothing to complain about")
    finally:
        gw.stop()
        if c.failed:
            gw.dump(30)


def existing(sim):
    gw_port, http_port = free_port(), free_port()
    gw = NsGateway("mkdir -m 0700 /var/lib/bmsgw", conf(gw_port, http_port, sim.port), gw_port)
    try:
        c.ok(gw.ok, "bmsgw runs with /var/lib/bmsgw there, mode 0700")
        d = gw.path("/var/lib/bmsgw")
        c.ok(wait_until(lambda: csv_rows(http_port, "house"), 15), "the history gets rows")
        c.ok(os.path.isfile(d + "/history.db"), "in the directory that was there")
        c.ok(reload(gw, 1), "a reload")
        c.eq(mode(d), 0o700, "an existing directory keeps its mode (0700)")
        c.ok("created the state directory" not in gw.text(), "and nothing is said about making it")
    finally:
        gw.stop()
        if c.failed:
            gw.dump(30)


def read_only(sim):
    gw_port, http_port = free_port(), free_port()
    gw = NsGateway("mount -o remount,ro /var/lib", conf(gw_port, http_port, sim.port), gw_port)
    try:
        c.ok(gw.ok, "bmsgw runs with a read-only /var/lib")
        c.ok(wait_until(lambda: "cannot create the state directory /var/lib/bmsgw" in gw.text(), 10),
             "the failure is logged")
        line = [l for l in gw.text().splitlines() if "cannot create the state directory" in l]
        c.ok(line and "Read-only file system" in line[0] and KEYS in line[0],
             "naming the cause and the keys: %s" % (line[0] if line else ""))
        cl = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=2)
        cl.connect()
        c.ok(wait_until(lambda: not cl.read_holding_registers(BASE + 58, 2, slave=1).isError(), 10),
             "Modbus answers")
        c.ok(reload(gw, 1), "a reload")
        t0, bad, n = time.monotonic(), 0, 0
        while time.monotonic() - t0 < 2:
            n += 1
            if cl.read_holding_registers(BASE + 58, 2, slave=1).isError():
                bad += 1
        c.eq(bad, 0, "Modbus keeps answering (%d reads)" % n)
        cl.close()
        st, body = fetch(http_port, "/api/history.csv?unit=house&range=1h")
        c.eq(st, 503, "/api/history.csv answers 503 (%s)" % body.strip()[:80])
        c.eq(gw.text().count("cannot create the state directory"), 1, "logged once (start, reload)")
        c.ok(mode(gw.path("/var/lib/bmsgw")) is None, "no directory was made")
        c.ok(gw.alive(), "bmsgw still runs")
    finally:
        gw.stop()
        if c.failed:
            gw.dump(30)


if __name__ == "__main__":
    sys.exit(main())
