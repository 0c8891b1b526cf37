#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench: bmsgw's CPU at idle with [influx] on (a point of 2 packs and
the bank every 10 s, the default, POSTed to a local receiver that answers
204) against the same configuration without it, and with all of issue 50's
fleet features on at once (site, [mqtt] to a real mosquitto with discovery,
backfill and victron, the history, [influx], /metrics scraped every 15 s as
a Prometheus agent would, and a third pack arriving as mqtt-json every 5 s),
each over SECONDS (argument, default 20) after a warm-up; CPU = utime +
stime of the bmsgw process from /proc.  Figures, not assertions."""
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
from harness import Gateway, Sim, free_port, wait_until  # noqa: E402
from mqtt_harness import Broker, publish  # noqa: E402

POSTS = [0]


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        POSTS[0] += 1
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


def conf(sim, gwport, influx):
    text = """[gateway]
listen = 127.0.0.1:%d
state_file = none
log_level = warn
[pack.p1]
protocol = daly
port = tcp://127.0.0.1:%d
address = 1
[pack.p2]
protocol = daly
port = tcp://127.0.0.1:%d
address = 2
[bank]
""" % (gwport, sim.port, sim.port)
    if influx:
        text += "[influx]\nurl = http://127.0.0.1:%d\ndatabase = bench\n" % influx
    return text


def fleet(broker, tmp, http):
    """Everything of the fleet on: the extra sections of the "all on" run."""
    return """[pack.node]
protocol = mqtt-json
topic = node/battery/state
fields = voltage:Dc.Voltage, current:Dc.Current, soc:Soc, cells:Voltages.Cell#
[mqtt]
host = 127.0.0.1
port = %d
backfill = true
victron = true
[history]
file = %s/h.db
interval = 60
[http]
listen = 127.0.0.1:%d
""" % (broker.port, tmp, http)


def node_message():
    cells = {"Cell%d" % (i + 1): 3.3 for i in range(16)}
    return json.dumps({"Dc": {"Voltage": 52.8, "Current": 4.0}, "Soc": 61, "Voltages": cells})


def measure(sim, influx, seconds, extra=None, tick=None, probe=None):
    gwport = free_port()
    text = conf(sim, gwport, influx)
    if extra:  # the fleet's: the site, and its sections after the packs
        text = text.replace("log_level = warn\n", "log_level = warn\nsite = cabin\n", 1) + extra
    gw = Gateway(text, gwport)
    try:
        if influx:
            wait_until(lambda: POSTS[0] >= 1, 20)
        if tick:
            tick()
        time.sleep(2)
        c0, t0 = cpu(gw.p.pid), time.time()
        end = t0 + seconds
        while tick and time.time() < end:
            time.sleep(min(1.0, end - time.time()))
            tick()
        time.sleep(max(0.0, end - time.time()))
        used = 100.0 * (cpu(gw.p.pid) - c0) / (time.time() - t0)
        if probe:
            probe()
        return used
    finally:
        gw.stop()


def all_on(sim, influx, seconds):
    broker = Broker()
    tmp = tempfile.mkdtemp(prefix="bmsgw-bench-fleet-")
    http = free_port()
    last = {"pub": 0.0, "scrape": 0.0}

    def tick():
        now = time.time()
        if now - last["pub"] >= 5:
            publish(broker.port, "node/battery/state", node_message(), qos=0)
            last["pub"] = now
        if now - last["scrape"] >= 15:
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/metrics" % http, timeout=5).read()
            except OSError:
                pass
            last["scrape"] = now
    def probe():  # the figure counts only if every part was working
        st = json.loads(urllib.request.urlopen("http://127.0.0.1:%d/api/state" % http, timeout=5).read())
        print("fleet run: packs online %s, mqtt connected %s, influx sent %s" % (
            [p["pack"] for p in st.get("packs", []) if p.get("online")], (st.get("mqtt") or {}).get("connected"),
            (st.get("influx") or {}).get("sent")))
    try:
        return measure(sim, influx, seconds, fleet(broker, tmp, http), tick, probe)
    finally:
        broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20
    srv = ThreadingHTTPServer(("127.0.0.1", free_port()), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    sim = Sim(packs=("address=1", "address=2"))
    try:
        on = measure(sim, srv.server_address[1], seconds)
        n = POSTS[0]
        off = measure(sim, None, seconds)
        print("influx idle: bmsgw CPU %.2f %% with [influx] (2 packs and the bank, every 10 s; %d POSTs), "
              "%.2f %% without (%.0f s each)" % (on, n, off, seconds))
        every = all_on(sim, srv.server_address[1], seconds)
        print("fleet idle: bmsgw CPU %.2f %% with all of it on (site, MQTT with discovery, backfill and victron, "
              "the history, [influx], /metrics every 15 s, an mqtt-json pack every 5 s; %.0f s)" % (every, seconds))
    finally:
        sim.stop()
        srv.shutdown()


if __name__ == "__main__":
    main()
