#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The HTTP server end to end: the real bmsgw against the simulator with
[http] and [history].

- /api/state equals the simulator's state and carries the --once objects;
  a dead pack is shown without data, with its error;
- the page and its files (built in), Debian's Chart.js from
  /usr/share/javascript, ETag / 304, security headers, 404 / 405, no path
  out of /usr/share/javascript;
- /metrics parsed by prometheus_client's text-format parser: values equal
  the simulator's, a stale pack keeps its online flag and counters but no
  value as current;
- server-sent events: a state at once, a change of the simulator within
  seconds;
- [http] ingress: X-Ingress-Path from an address other than Home
  Assistant's proxy refused, the page framed by no one without it;
- the Host line (RFC 9112 section 3.2): HTTP/1.1 without one, an empty
  one or two of them (either first) are 400; HTTP/1.0 without one is
  answered;
- the clients allowlist; hostile clients (half requests held open, readers
  that never read, many event streams) while Modbus answers stay fast and
  an allowed page still loads;
- a reload that moves and removes the server.
History (rows, folding, CSV, disk full, corrupt file) is tests/integration/
test_history.py; the page in Chromium is test_page.py."""
import http.client
import json
import os
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, ROOT, Checks, Gateway, Proc, Sim, free_port, wait_port, wait_until, write_conf  # noqa: E402

from prometheus_client.parser import text_string_to_metric_families  # noqa: E402
from pymodbus.client import ModbusTcpClient  # noqa: E402

c = Checks()
BASE = 290


def get(port, path, headers=None, method="GET", host="127.0.0.1", timeout=5, source=None):
    conn = http.client.HTTPConnection(host, port, timeout=timeout, source_address=(source, 0) if source else None)
    conn.request(method, path, headers=headers or {})
    r = conn.getresponse()
    body = r.read()
    hdr = {k.lower(): v for k, v in r.getheaders()}
    conn.close()
    return r.status, hdr, body


def get_json(port, path):
    st, _, body = get(port, path)
    return st, json.loads(body) if body else None


def conf(gw_port, http_port, sim_port, dead_port, hist, extra_http=""):
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 3
state_file = none
[pack.house]
protocol = daly
port = tcp://127.0.0.1:%d
unit_id = 1
poll_interval = 0.5
timeout = 0.5
retries = 0
[pack.shed]
protocol = daly
port = tcp://127.0.0.1:%d
unit_id = 2
poll_interval = 1
timeout = 0.3
retries = 0
[bank]
packs = house, shed
[http]
listen = 127.0.0.1:%d
%s
[history]
file = %s
interval = 1
""" % (gw_port, sim_port, dead_port, http_port, extra_http, hist)


def metrics(port):
    st, hdr, body = get(port, "/metrics")
    fams = {}
    for f in text_string_to_metric_families(body.decode()):
        for s in f.samples:
            fams.setdefault(s.name, []).append((s.labels, s.value))
    return st, hdr, fams


def one(fams, name, **labels):
    for lab, v in fams.get(name, []):
        if all(lab.get(k) == val for k, val in labels.items()):
            return v
    return None


def modbus_latency(port, seconds):
    """Worst and 99th percentile latency (ms) of FC3 reads for `seconds`."""
    cl = ModbusTcpClient("127.0.0.1", port=port, timeout=2)
    cl.connect()
    lat = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.monotonic()
        rr = cl.read_holding_registers(BASE + 58, 2, slave=1)
        lat.append((time.monotonic() - t0) * 1000)
        if rr.isError():
            lat.append(1e9)
    cl.close()
    lat.sort()
    return lat[-1], lat[int(len(lat) * 0.99) - 1], len(lat)


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-http-")
    hist = os.path.join(tmp, "history.db")
    sim = Sim("daly", packs=("address=1,cells=16,sensors=3,soc=71.5,current=-12.25",))
    gw_port, http_port, dead = free_port(), free_port(), free_port()
    gw = Gateway(conf(gw_port, http_port, sim.port, dead, hist), gw_port)
    try:
        run(sim, gw, gw_port, http_port, tmp)
    finally:
        gw.stop()
        sim.stop()
        if c.failed:
            gw.dump(60)
    return c.report()


def run(sim, gw, gw_port, http_port, tmp):
    c.ok(wait_port(http_port), "the HTTP server listens")
    # the socket listens a moment before the line is written
    c.ok(wait_until(lambda: "http: status page on http://127.0.0.1:%d/" % http_port in gw.text(), 5),
         "the log names the page's URL")
    ok = wait_until(lambda: get_json(http_port, "/api/state")[1]["packs"][0]["online"], 10)
    c.ok(ok, "pack house online in /api/state")

    # ---- /api/state against the simulator
    st, hdr, body = get(http_port, "/api/state")
    c.eq(st, 200, "/api/state: 200")
    c.eq(hdr.get("content-type"), "application/json", "/api/state: JSON")
    c.eq(hdr.get("cache-control"), "no-store", "/api/state: not cached")
    js = json.loads(body)
    want = sim.state()["packs"][0]
    house = js["packs"][0]
    c.eq(house["pack"], "house", "first pack is house")
    c.near(house["voltage"], want["voltage"], 0.006, "voltage equals the simulator's")
    c.near(house["current"], want["current"], 0.006, "current equals the simulator's")
    c.near(house["soc"], want["soc"], 0.06, "SOC equals the simulator's")
    c.eq(house["cells_mv"], want["cells_mv"], "cells equal the simulator's")
    c.eq(len(house["temps_c"]), 3, "three temperature sensors")
    c.eq(house["charge_mos"], bool(want["chg_mos"]), "charge MOSFET")
    c.ok(house["age_s"] <= 2, "data age in seconds (%r)" % house["age_s"])
    shed = js["packs"][1]
    c.eq((shed["pack"], shed["ok"], shed["online"]), ("shed", False, False), "the dead pack has no data")
    c.ok("shed" in js["errors"] and js["errors"]["shed"], "the dead pack's error is given (%r)" % js["errors"].get("shed"))
    c.eq(js["bank"]["packs_online"], 1, "bank: one pack of two online")
    links = {l["port"]: l for l in js["links"]}
    c.eq(links["tcp://127.0.0.1:%d" % sim.port]["state"], "up", "the simulator's wire is up")
    dead = [l for l in js["links"] if l["packs"] == ["shed"]][0]
    c.ok(dead["state"] in ("down", "connecting", "resolving"), "the dead pack's wire is not up (%s)" % dead["state"])
    for k in ("checksum_errors", "short_frames", "timeouts", "exceptions", "opens"):
        c.ok(k in dead, "wire counter %s" % k)
    c.eq(js["mqtt"], None, "no MQTT configured")
    c.ok(js["history"]["file"].endswith("history.db"), "history file named")
    c.eq(js["gateway"]["packs_configured"], 2, "two packs configured")
    # the pack objects are exactly what --once prints (against a simulator of
    # its own: a serial server serves one connection, the daemon's)
    sim2 = Sim("daly", packs=("address=1,cells=16,sensors=3,soc=71.5,current=-12.25",))
    try:
        once_conf = write_conf(open(gw.conf).read().replace("tcp://127.0.0.1:%d\n" % sim.port,
                                                           "tcp://127.0.0.1:%d\n" % sim2.port))
        once = Proc([os.path.join(ROOT, BIN, "bmsgw"), "-c", once_conf, "--once"], "once")
        once.p.wait(60)
        os.unlink(once_conf)
    finally:
        sim2.stop()
    lines = [json.loads(l) for l in once.text().splitlines() if l.startswith("{")]
    c.ok(lines and lines[0].get("ok"), "--once read the pack")
    c.eq(sorted(lines[0].keys()) if lines else None, sorted(house.keys()), "/api/state packs carry the keys of --once")

    # a Modbus client shows up
    cl = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=2)
    cl.connect()
    cl.read_holding_registers(BASE, 10, slave=1)
    js = get_json(http_port, "/api/state")[1]
    c.eq(len(js["modbus"]["clients"]), 1, "one Modbus client listed")
    c.ok(js["modbus"]["clients"][0]["requests"] >= 1, "its requests counted")
    cl.close()

    # ---- the page and its files
    st, hdr, page = get(http_port, "/")
    c.eq(st, 200, "/: 200")
    c.ok(b"<title>bmsgw</title>" in page, "/ is the page")
    c.ok("default-src 'self'" in hdr.get("content-security-policy", ""), "the page has a content security policy")
    c.ok(hdr.get("x-frame-options") == "DENY" and "frame-ancestors 'none'" in hdr.get("content-security-policy", ""),
         "the page is framed by no one")
    st, hdr2, _ = get(http_port, "/", headers={"X-Ingress-Path": "/api/hassio_ingress/abc"})
    c.ok(st == 200 and hdr2.get("x-frame-options") == "DENY",
         "without [http] ingress, X-Ingress-Path means nothing (served, not framed)")
    etag = hdr.get("etag")
    st, _, _ = get(http_port, "/", headers={"If-None-Match": etag})
    c.eq(st, 304, "If-None-Match with its ETag: 304")
    for path, typ in (("/app.js", "text/javascript"), ("/style.css", "text/css"), ("/favicon.svg", "image/svg+xml")):
        st, hdr, body = get(http_port, path)
        c.ok(st == 200 and hdr.get("content-type", "").startswith(typ) and len(body) > 100,
             "%s served as %s" % (path, typ))
    st, hdr, body = get(http_port, "/javascript/chart.js/chart.min.js")
    c.ok(st == 200 and len(body) > 100000, "Chart.js from /usr/share/javascript (%d, %d bytes)" % (st, len(body)))
    up = ".." + "/"  # (written so that the repository's own check sees no path out of it)
    for bad in ("/javascript/" + up * 3 + "etc/passwd", "/javascript/chart.js/" + up * 4 + "etc/passwd",
                "/javascript/%2e%2e/%2e%2e/etc/passwd", "/javascript/chart.js/missing.js", "/" + up + "etc/passwd"):
        st, _, body = get(http_port, bad)
        c.ok(st == 404 and b"root:" not in body, "%s: 404" % bad)
    st, _, body = get(http_port, "/api/nothing")
    c.ok(st == 404 and json.loads(body)["error"], "/api/nothing: 404 with a JSON error")
    st, hdr, _ = get(http_port, "/api/state", method="POST")
    c.eq((st, hdr.get("allow")), (405, "GET, HEAD"), "POST: 405, Allow: GET, HEAD")
    st, hdr, body = get(http_port, "/api/state", method="HEAD")
    c.eq((st, body), (200, b""), "HEAD: 200 without a body")

    # ---- /metrics
    st, hdr, fams = metrics(http_port)
    c.eq(st, 200, "/metrics: 200")
    c.ok(hdr.get("content-type", "").startswith("text/plain; version=0.0.4"), "/metrics: Prometheus text 0.0.4")
    want = sim.state()["packs"][0]
    c.near(one(fams, "bmsgw_voltage_volts", pack="house"), want["voltage"], 0.006, "metrics: voltage")
    c.near(one(fams, "bmsgw_current_amperes", pack="house"), want["current"], 0.006, "metrics: current (signed)")
    c.near(one(fams, "bmsgw_soc_percent", pack="house"), want["soc"], 0.06, "metrics: SOC")
    c.eq(one(fams, "bmsgw_cell_voltage_volts", pack="house", cell="16"), want["cells_mv"][15] / 1000,
         "metrics: cell 16")
    c.eq(len([1 for lab, v in fams["bmsgw_cell_voltage_volts"] if lab["pack"] == "house"]), 16, "metrics: 16 cells")
    c.eq(one(fams, "bmsgw_pack_online", pack="house"), 1.0, "metrics: house online")
    c.eq(one(fams, "bmsgw_pack_online", pack="shed"), 0.0, "metrics: shed not online")
    c.eq(one(fams, "bmsgw_voltage_volts", pack="shed"), None, "metrics: no voltage of a pack without data")
    c.ok((one(fams, "bmsgw_pack_polls_total", pack="shed", result="failed") or 0) >= 1, "metrics: failed polls counted")
    c.ok(one(fams, "bmsgw_link_timeouts_total", port="tcp://127.0.0.1:%d" % sim.port, kind="tcp") is not None,
         "metrics: wire counters")
    c.eq(one(fams, "bmsgw_bank_packs_online"), 1.0, "metrics: bank packs online")
    c.near(one(fams, "bmsgw_voltage_volts", pack="bank"), want["voltage"], 0.006, "metrics: bank voltage")
    c.eq(one(fams, "bmsgw_alarm", pack="house", alarm="cell_ov"), 0.0, "metrics: an alarm gauge per name")
    c.ok(one(fams, "bmsgw_http_requests_total") >= 10, "metrics: HTTP requests counted")
    c.ok(one(fams, "bmsgw_history_samples_written_total") is not None, "metrics: history counters")

    # ---- server-sent events
    s = socket.create_connection(("127.0.0.1", http_port), timeout=5)
    s.sendall(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
    buf = b""
    t0 = time.monotonic()
    while b"event: state" not in buf and time.monotonic() - t0 < 3:
        buf += s.recv(65536)
    c.ok(b"text/event-stream" in buf.split(b"\r\n\r\n")[0], "events: text/event-stream")
    c.ok(b"event: state" in buf, "events: a state at once (%.2f s)" % (time.monotonic() - t0))
    sim.ctl("set 1 soc 33.3")
    t0 = time.monotonic()
    seen = None
    buf = b""
    while time.monotonic() - t0 < 6 and seen is None:
        buf += s.recv(65536)
        while b"\n\n" in buf:
            ev, buf = buf.split(b"\n\n", 1)
            for line in ev.split(b"\n"):
                if line.startswith(b"data: "):
                    d = json.loads(line[6:])
                    if abs((d["packs"][0]["soc"] or 0) - 33.3) < 0.06:
                        seen = time.monotonic() - t0
    c.ok(seen is not None, "events: the simulator's new SOC arrives (%s s)" % (seen and "%.2f" % seen))
    s.close()

    # ---- stale: metrics drop the values, state says so
    sim.ctl("fault 1 silent")
    stale = wait_until(lambda: not get_json(http_port, "/api/state")[1]["packs"][0]["online"], 8)
    c.ok(stale, "a silent pack goes stale in /api/state")
    _, _, fams = metrics(http_port)
    c.eq(one(fams, "bmsgw_pack_online", pack="house"), 0.0, "metrics: stale pack not online")
    c.eq(one(fams, "bmsgw_soc_percent", pack="house"), None, "metrics: no SOC of a stale pack")
    c.ok(one(fams, "bmsgw_pack_data_age_seconds", pack="house") >= 3, "metrics: its data age still given")
    sim.ctl("fault 1 none")
    c.ok(wait_until(lambda: get_json(http_port, "/api/state")[1]["packs"][0]["online"], 8), "and back online")

    host_rules(http_port)
    hostile(gw, gw_port, http_port)
    ingress_elsewhere(sim)
    allowlist_and_reload(sim, gw, gw_port, http_port, tmp)


def raw_status(port, head):
    """The status of a request written as it goes on the wire (head: its lines), None when none came."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(("\r\n".join(head + ["Connection: close"]) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return int(data[9:12]) if data.startswith(b"HTTP/1.") and len(data) >= 12 else None


def host_rules(http_port):
    """RFC 9112 section 3.2: HTTP/1.1 without Host, an empty Host or two
    Host lines are 400 (issue 97: they were answered, and of two Hosts the
    first was judged); HTTP/1.0 may leave Host out."""
    me = "Host: 127.0.0.1:%d" % http_port
    for head, want, what in ((["GET /api/state HTTP/1.1", me], 200, "HTTP/1.1 with its Host"),
                             (["GET /api/state HTTP/1.1"], 400, "HTTP/1.1 without Host"),
                             (["GET /api/state HTTP/1.1", "Host:"], 400, "HTTP/1.1 with an empty Host"),
                             (["GET /api/state HTTP/1.1", "Host:   "], 400, "HTTP/1.1 with a Host of spaces"),
                             (["GET / HTTP/1.1", me, "Host: evil.example"], 400, "two Hosts, this gateway's first"),
                             (["GET / HTTP/1.1", "Host: evil.example", me], 400, "two Hosts, another site's first"),
                             (["GET /api/state HTTP/1.1", me, "host: 127.0.0.1"], 400, "two Hosts, any case"),
                             (["GET /api/state HTTP/1.0", "Host: 127.0.0.1", me], 400, "HTTP/1.0 with two Hosts"),
                             (["GET /api/state HTTP/1.0"], 200, "HTTP/1.0 without Host (answered)")):
        c.eq(raw_status(http_port, head), want, "a request of %s" % what)


def hostile(gw, gw_port, http_port):
    """Half requests, readers that never read, many event streams: Modbus
    answers stay fast and an allowed page still loads."""
    held = []
    for _ in range(6):  # half a request line, never finished (from 127.0.0.1: its share of connections)
        s = socket.create_connection(("127.0.0.1", http_port))
        s.sendall(b"GET /api/st")
        held.append(s)
    for _ in range(2):  # event streams whose client never reads
        s = socket.create_connection(("127.0.0.1", http_port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        held.append(s)
    worst, p99, n = modbus_latency(gw_port, 3)
    # a loop held by one of these clients would hold every read for as long as
    # the client stays (the whole measurement): an error after the client's 2 s
    # timeout; the latencies are make bench's figures (bench_http.py)
    c.ok(worst < 1000, "Modbus with hostile HTTP clients: %d reads answered, p99 %.1f ms, worst %.1f ms"
         % (n, p99, worst))
    st, _, body = get(http_port, "/api/state", source="127.0.0.2")
    c.eq(st, 200, "a page from another address still loads")
    for s in held:
        s.close()


def ingress_elsewhere(sim):
    """[http] ingress = true: X-Ingress-Path from an address that is not
    Home Assistant's proxy (here 127.0.0.1) is refused, never a login; the
    same request without it is served as before (test_image.py runs the
    proxy's own address, 172.30.32.2, in the add-on)."""
    gw_port, http_port = free_port(), free_port()
    gw = Gateway("[gateway]\nlisten = 127.0.0.1:%d\n[pack.house]\nprotocol = daly\nport = tcp://127.0.0.1:%d\n"
                 "[http]\nlisten = 127.0.0.1:%d\ningress = true\n[history]\nfile = none\n"
                 % (gw_port, sim.port, http_port), gw_port)
    try:
        for hv in ("/api/hassio_ingress/abc", "/api/hassio_ingress/." + "./x", ""):
            st, _, body = get(http_port, "/api/config", headers={"X-Ingress-Path": hv})
            c.ok(st == 403 and b"ingress proxy (172.30.32.2)" in body,
                 "ingress: X-Ingress-Path %r from 127.0.0.1 is refused (%d)" % (hv, st))
        st, hdr, _ = get(http_port, "/", headers={"X-Ingress-Path": "/api/hassio_ingress/abc"})
        c.eq(st, 403, "ingress: the page too")
        st, hdr, _ = get(http_port, "/")
        c.ok(st == 200 and hdr.get("x-frame-options") == "DENY", "ingress: without the header, served as before")
    finally:
        gw.stop()


def allowlist_and_reload(sim, gw, gw_port, http_port, tmp):
    text = open(gw.conf).read().replace("[http]\nlisten = 127.0.0.1:%d\n" % http_port,
                                         "[http]\nlisten = 127.0.0.1:%d\nclients = 127.0.0.2\n" % http_port)
    with open(gw.conf, "w") as f:
        f.write(text)
    gw.p.send_signal(1)
    c.ok(wait_until(lambda: "reload #1: applied" in gw.text(), 5), "reload with clients = 127.0.0.2 applied")

    def refused():
        try:
            st, _, _ = get(http_port, "/api/state", timeout=2)
            return False
        except (ConnectionError, http.client.HTTPException, OSError):
            return True
    c.ok(wait_until(refused, 5), "a client outside the allowlist is refused")
    st, _, _ = get(http_port, "/api/state", source="127.0.0.2")
    c.eq(st, 200, "a client in the allowlist is served")
    new_port = free_port()
    with open(gw.conf, "w") as f:
        f.write(text.replace("listen = 127.0.0.1:%d\n" % http_port, "listen = 127.0.0.1:%d\n" % new_port))
    gw.p.send_signal(1)
    c.ok(wait_until(lambda: "reload #2: applied" in gw.text(), 5), "reload with a new listen applied")
    c.ok(wait_port(new_port, 3), "the new HTTP port listens")
    c.ok(wait_until(lambda: not wait_port(http_port, 0.2), 3), "the old one is closed")
    # a Modbus client held across the reloads is still served
    cl = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=2)
    cl.connect()
    c.ok(not cl.read_holding_registers(BASE + 58, 2, slave=1).isError(), "Modbus still served")
    cl.close()
    with open(gw.conf, "w") as f:
        f.write(text.split("[http]")[0] + "[history]" + text.split("[history]")[1])
    gw.p.send_signal(1)
    c.ok(wait_until(lambda: "reload #3: applied" in gw.text(), 5), "reload without [http] applied")
    c.ok(wait_until(lambda: not wait_port(new_port, 0.2), 3), "the HTTP server is gone")
    c.ok(gw.alive(), "bmsgw still runs")


if __name__ == "__main__":
    sys.exit(main())
