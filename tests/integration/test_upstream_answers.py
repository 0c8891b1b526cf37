#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The upstream pusher ([upstream.NAME]) against a server whose answers go
wrong, as a broken PLC or a port that is not Modbus would (a real server
cannot be made to answer so: this one is a socket of the test's, reading
bmsgw's requests as whole frames; test_bank pushes to a real pymodbus):

- exception 02 to every write: logged once as the server's refusal, not
  again for the next ones, the connection kept; the echo again: "writes
  accepted again", on the same connection;
- an answer of another transaction before the echo: passed over, the echo
  taken, the connection kept; the echo written a byte at a time: taken;
- an echo with another count, another function's answer, an exception
  without its code: each "is not FC16's" (the function, the length), the
  connection dropped and made again;
- bytes that are not Modbus TCP: dropped and made again;
- every request bmsgw sent is a whole FC16 (MBAP protocol 0, its length
  field its size) at the configured base, the transaction id new each time;
- /api/state's modbus.upstreams and /metrics' bmsgw_upstream_* say it all
  along: connected, the pushes and failures counted, the last refusal's
  code (null once a write is taken again), the source going stale.
"""
import os
import socket
import struct
import sys
import threading
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Gateway, Sim, api_state, free_port, wait_until  # noqa: E402

c = Checks()
BASE = 2000


class Server:
    """Answers each FC16 as self.mode says; counts connections and keeps
    every request it read."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.mode = "echo"
        self.lock = threading.Lock()
        self.conns = 0
        self.requests = []      # (connection number, tid, unit, function, addr, count, whole)
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                s, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns += 1
                n = self.conns
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self.serve, args=(s, n), daemon=True).start()

    def read_frame(self, s):
        buf = b""
        while len(buf) < 7 or len(buf) < 6 + struct.unpack(">H", buf[4:6])[0]:
            d = s.recv(300)
            if not d:
                return None
            buf += d
        return buf

    def serve(self, s, n):
        try:
            while True:
                f = self.read_frame(s)
                if f is None:
                    return
                tid, proto, ln, unit, fc, addr, count = struct.unpack(">HHHBBHH", f[:12])
                whole = proto == 0 and ln == len(f) - 6 and fc == 16 and f[12] == 2 * count and \
                    len(f) == 13 + 2 * count
                with self.lock:
                    self.requests.append((n, tid, unit, fc, addr, count, whole))
                    mode = self.mode
                self.answer(s, mode, tid, unit, addr, count)
        except OSError:
            return
        finally:
            s.close()

    def answer(self, s, mode, tid, unit, addr, count):
        echo = struct.pack(">HHHBBHH", tid, 0, 6, unit, 16, addr, count)
        if mode == "echo":
            s.sendall(echo)
        elif mode == "exception":
            s.sendall(struct.pack(">HHHBBB", tid, 0, 3, unit, 0x90, 2))
        elif mode == "other-first":
            s.sendall(struct.pack(">HHHBBHH", (tid - 1) & 0xFFFF, 0, 6, unit, 16, addr, count) + echo)
        elif mode == "bytewise":
            for i in range(len(echo)):
                s.sendall(echo[i:i + 1])
        elif mode == "wrong-count":
            s.sendall(struct.pack(">HHHBBHH", tid, 0, 6, unit, 16, addr, count + 1))
        elif mode == "fc03":
            s.sendall(struct.pack(">HHHBBBHH", tid, 0, 7, unit, 3, 4, 1, 2))
        elif mode == "short-exception":
            s.sendall(struct.pack(">HHHBB", tid, 0, 2, unit, 0x90))
        elif mode == "http":
            s.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    def set(self, mode):
        with self.lock:
            self.mode = mode
            return len(self.requests), self.conns

    def since(self, k):
        with self.lock:
            return self.requests[k:]


def main():
    sim = Sim(packs=("address=1,cells=16,soc=55,current=10,capacity=100",))
    srv = Server()
    gw_port, http_port = free_port(), free_port()
    conf = """[gateway]
listen = 127.0.0.1:%(gw)d
stale_after = 3
[http]
listen = 127.0.0.1:%(http)d
[pack.a]
protocol = daly
port = tcp://127.0.0.1:%(sim)d
unit_id = 1
poll_interval = 1
[upstream.plc]
host = 127.0.0.1
port = %(up)d
unit_id = 7
source = a
base = %(base)d
interval = 0.3
timeout = 3
""" % {"gw": gw_port, "http": http_port, "sim": sim.port, "up": srv.port, "base": BASE}
    gw = Gateway(conf, gw_port)
    gw.http = http_port
    try:
        run(gw, srv)
        report(gw, srv, sim)
    finally:
        gw.stop()
        sim.stop()
    return c.report()


def state(gw):
    ups = api_state(gw.http).get("modbus", {}).get("upstreams") or [{}]
    return ups[0]


def metrics(gw):
    """bmsgw_upstream_*{upstream="plc"} as a dict of their values."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % gw.http, timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("bmsgw_upstream_") and '{upstream="plc"}' in line:
            out[line.split("{")[0]] = float(line.split()[-1])
    return out


def report(gw, srv, sim):
    """What /api/state and /metrics say: connected and counting, a refusal
    and its end, the source going stale."""
    srv.set("echo")
    st = {}
    c.ok(wait_until(lambda: st.update(state(gw)) or (st.get("connected") and st.get("pushes", 0) > 0), 15),
         "/api/state: the pusher connected, pushes counted")
    c.eq((st.get("name"), st.get("host"), st.get("port"), st.get("unit_id"), st.get("address"), st.get("source"),
          st.get("last_exception"), st.get("source_stale")),
         ("plc", "127.0.0.1", srv.port, 7, BASE, "a", None, False), "/api/state: its destination and source")
    c.eq(st.get("registers"), [0, 124], "/api/state: the offsets pushed")
    m = metrics(gw)
    c.eq(m.get("bmsgw_upstream_up"), 1.0, "/metrics: bmsgw_upstream_up 1")
    c.ok(m.get("bmsgw_upstream_pushes_total", 0) >= st["pushes"], "/metrics: the pushes (%s)"
         % m.get("bmsgw_upstream_pushes_total"))
    f0 = st.get("failures", 0)
    c.ok(f0 >= 4, "/api/state: the failures of the broken answers counted (%d)" % f0)
    srv.set("exception")
    c.ok(wait_until(lambda: st.update(state(gw)) or st.get("last_exception") == 2, 15),
         "/api/state: a refusal's code 2")
    p0, f1 = st["pushes"], st["failures"]
    c.ok(wait_until(lambda: st.update(state(gw)) or st["failures"] >= f1 + 3, 15), "/api/state: refusals counted")
    c.eq(st["pushes"], p0, "a push refused is not counted")
    c.ok(metrics(gw).get("bmsgw_upstream_failures_total", 0) >= st["failures"], "/metrics: the failures")
    srv.set("echo")
    c.ok(wait_until(lambda: st.update(state(gw)) or (st.get("last_exception") is None and st["pushes"] > p0), 15),
         "/api/state: a write taken again: no last exception, pushes counted again")
    sim.stop()
    c.ok(wait_until(lambda: st.update(state(gw)) or st.get("source_stale"), 20),
         "/api/state: the source stale")
    c.ok(wait_until(lambda: "pushing only the failure flag" in gw.text(), 5), "logged")


def log_count(gw, text):
    return gw.text().count(text)


def answered(srv, k, conn=None, n=3):
    """n requests after the k-th, all on connection conn when given."""
    r = srv.since(k)
    return len(r) >= n and (conn is None or all(q[0] == conn for q in r))


def run(gw, srv):
    if not c.ok(wait_until(lambda: len(srv.since(0)) >= 3, 20), "the pusher writes to the server"):
        gw.dump()
        return
    # exception 02 to every write: one line, the connection kept
    k, conn = srv.set("exception")
    refused = "the server refused the write to"
    c.ok(wait_until(lambda: answered(srv, k, n=6), 20), "writes go on while the server refuses them")
    c.eq(log_count(gw, refused), 1, "a refusal is logged once (%s)" % refused)
    c.ok("exception 0x02" in gw.text(), "its exception code logged")
    c.ok(all(q[0] == conn for q in srv.since(k)), "the connection kept through refusals")
    k, _ = srv.set("echo")
    c.ok(wait_until(lambda: "writes accepted again" in gw.text(), 10), "the echo again: writes accepted again")
    c.ok(wait_until(lambda: answered(srv, k, conn), 10), "the same connection")
    for mode, what in (("other-first", "an answer of another transaction first is passed over"),
                       ("bytewise", "an echo a byte at a time is taken")):
        k, _ = srv.set(mode)
        c.ok(wait_until(lambda: answered(srv, k, conn, 4), 15), "%s: writes go on" % what)
        c.ok(srv.conns == conn, "%s: the connection kept" % what)
    # answers that are not the write's: dropped, made again, each logged
    for mode, what in (("wrong-count", "function 0x10, 12 bytes"), ("fc03", "function 0x03, 13 bytes"),
                       ("short-exception", "function 0x90, 8 bytes"), ("http", None)):
        k, conns = srv.set(mode)
        line = "is not FC16's (%s)" % what if what else "the answer is not Modbus TCP"
        c.ok(wait_until(lambda: line in gw.text(), 15), "%s: logged (%s)" % (mode, line))
        srv.set("echo")
        c.ok(wait_until(lambda: srv.conns > conns, 15), "%s: the connection dropped and made again" % mode)
        c.ok(wait_until(lambda: "connected to 127.0.0.1:%d again" % srv.port in gw.text().split(line)[-1], 15),
             "%s: connected again, logged" % mode)
        k2, _ = srv.set("echo")
        c.ok(wait_until(lambda: answered(srv, k2, srv.conns), 15), "%s: writes go on after it" % mode)
    reqs = srv.since(0)
    c.ok(all(q[6] for q in reqs), "every request a whole FC16 (%d)" % len(reqs))
    c.ok(all(q[2] == 7 and BASE <= q[4] < BASE + 200 for q in reqs), "at unit 7, from the base %d" % BASE)
    tids = [q[1] for q in reqs]
    c.ok(all(a != b for a, b in zip(tids, tids[1:])), "a new transaction id each time")
    c.ok(gw.alive(), "bmsgw runs")


if __name__ == "__main__":
    sys.exit(main())
