#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench: bmsgw's CPU at idle with [influx] on (a point of 2 packs and
the bank every 10 s, the default, POSTed to a local receiver that answers
204) against the same configuration without it, each over SECONDS
(argument, default 20) after a warm-up; CPU = utime + stime of the bmsgw
process from /proc.  Figures, not assertions."""
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
from harness import Gateway, Sim, free_port, wait_until  # noqa: E402

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


def measure(sim, influx, seconds):
    gwport = free_port()
    gw = Gateway(conf(sim, gwport, influx), gwport)
    try:
        if influx:
            wait_until(lambda: POSTS[0] >= 1, 20)
        time.sleep(2)
        c0, t0 = cpu(gw.p.pid), time.time()
        time.sleep(seconds)
        return 100.0 * (cpu(gw.p.pid) - c0) / (time.time() - t0)
    finally:
        gw.stop()


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
    finally:
        sim.stop()
        srv.shutdown()


if __name__ == "__main__":
    main()
