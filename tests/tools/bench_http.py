#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench: Modbus latency while the status page is busy and the history
is written to a slow disk.

A gateway with 4 simulated packs (polled every 0.5 s), [http] and [history]
(a sample a second), read by 4 Modbus clients at 20 requests/s each (the
pace of a Home Assistant hub with several sensors, measured per request
rather than as throughput).  Phases of SECONDS each:
  quiet      nothing but the Modbus clients
  pages      plus 10 live pages (server-sent events), /metrics scraped
             every second, /api/state every second, a 30-day chart and a CSV
             export every 2 s: a busy household
  flood      10 live pages and 4 clients fetching /api/state, /metrics, a
             30-day chart and a CSV export back to back (thousands a
             second: the event loop shares its core with HTTP)
  slow disk  the same with every fsync of the history file taking 1 s and
             every write 50 ms (tests/tools/slowdisk.c as LD_PRELOAD): an SD
             card that stalls
Prints p50 / p99 / max Modbus latency per phase, HTTP requests served, and
the history's writes, queue and last write duration.  Figures, not
assertions."""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import BIN, ROOT, Gateway, Sim, free_port, wait_until  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 10


def conf(gw_port, http_port, sim_port, hist):
    packs = "".join("""[pack.p%d]
protocol = daly
port = tcp://127.0.0.1:%d
address = %d
poll_interval = 0.5
""" % (i, sim_port, i) for i in range(1, 5))
    return """[gateway]
listen = 127.0.0.1:%d
max_clients = 200
log_level = warn
state_file = none
%s[bank]
[http]
listen = 127.0.0.1:%d
max_clients = 100
[history]
file = %s
interval = 1
""" % (gw_port, packs, http_port, hist)


def mbbench(port, seconds):
    out = subprocess.run([os.path.join(ROOT, BIN, "mbbench"), "127.0.0.1", str(port), "1", "290", "60", "4",
                          str(seconds), "20"], capture_output=True, text=True)
    m = re.search(r"p50 ([\d.]+) ms p99 ([\d.]+) ms max ([\d.]+) ms, exceptions (\d+)", out.stdout)
    n = re.search(r"(\d+) requests of", out.stdout)
    return (float(m.group(1)), float(m.group(2)), float(m.group(3)), int(m.group(4)), int(n.group(1))) if m else None


class Load:
    """Live pages and HTTP clients, in threads."""

    def __init__(self, port, pause):
        self.port, self.pause = port, pause
        self.stop = False
        self.requests = 0
        self.events = 0
        self.threads = [threading.Thread(target=self.sse, daemon=True) for _ in range(10)]
        paths = [("/api/state", 1), ("/metrics", 1), ("/api/history?unit=bank&range=30d", 2),
                 ("/api/history.csv?unit=p1&range=1h", 2)]
        self.threads += [threading.Thread(target=self.fetch, args=(p, w), daemon=True) for p, w in paths]
        for t in self.threads:
            t.start()

    def sse(self):
        s = socket.create_connection(("127.0.0.1", self.port))
        s.sendall(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        s.settimeout(1)
        tail = b""
        while not self.stop:
            try:
                data = tail + s.recv(65536)
            except socket.timeout:
                continue
            self.events += data.count(b"event: state")
            tail = data[-16:].replace(b"event: state", b"")
        s.close()

    def fetch(self, path, wait):
        while not self.stop:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path), timeout=10) as r:
                r.read()
            self.requests += 1
            if self.pause:
                time.sleep(wait)

    def end(self):
        self.stop = True
        for t in self.threads:
            t.join(5)


def state(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/api/state" % port, timeout=5) as r:
        return json.loads(r.read())


def run(label, slow):
    tmp = tempfile.mkdtemp(prefix="bmsgw-bench-")
    hist = os.path.join(tmp, "history.db")
    sim = Sim("daly", packs=tuple("address=%d" % i for i in range(1, 5)), extra=("--latency", "5"))
    gw_port, http_port = free_port(), free_port()
    env_before = dict(os.environ)
    if slow:
        os.environ["LD_PRELOAD"] = os.path.join(ROOT, BIN, "slowdisk.so")
        os.environ["SLOWDISK_SYNC_MS"] = "1000"
        os.environ["SLOWDISK_WRITE_MS"] = "50"
    try:
        gw = Gateway(conf(gw_port, http_port, sim.port, hist), gw_port)
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    try:
        wait_until(lambda: state(http_port)["gateway"]["packs_online"] == 4, 15)
        time.sleep(2)  # past the start (history opening, first polls)
        rows = []
        if not slow:
            rows.append(("quiet", mbbench(gw_port, SECONDS), None))
        for name, pause in ((label + ", pages", True), (label + ", flood", False)):
            load = Load(http_port, pause)
            time.sleep(0.5)
            r = mbbench(gw_port, SECONDS)
            load.end()
            rows.append((name, r, load))
        h = state(http_port)["history"]
        for name, m, ld in rows:
            if not m:
                print("  %-30s mbbench failed" % name)
                continue
            extra = ""
            if ld:
                extra = ", HTTP %d requests (%.0f/s), %d live states" % (ld.requests, ld.requests / SECONDS,
                                                                         ld.events)
            print("  %-30s Modbus %5d reads: p50 %.2f ms, p99 %.2f ms, max %.2f ms, %d exceptions%s" %
                  (name, m[4], m[0], m[1], m[2], m[3], extra))
        print("  %-30s history: %d samples written, %d dropped, queue %d, last write %.1f ms" %
              ("", h["written"], h["dropped"], h["queued"], h["last_write_ms"]))
        print("  %-30s bmsgw RSS %s" % ("", open("/proc/%d/status" % gw.p.pid).read().split("VmRSS:")[1]
                                        .split("\n")[0].strip()))
    finally:
        gw.stop()
        sim.stop()


def main():
    print("Modbus latency (4 clients x 20 reads/s of 60 registers) with the status page and history "
          "(%g s per phase):" % SECONDS)
    run("history", False)
    run("slow disk", True)


if __name__ == "__main__":
    main()
