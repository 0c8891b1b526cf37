#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make soak: bmsgw for SOAK_SECONDS (default 600) with every output live,
and its health printed each minute.  Not part of make test.

The real bmsgw (BIN, default build/: the build users run) against two
simulated Daly packs on one bus, with a bank and [limits], and around it:

- Modbus load: four pymodbus clients reading the whole map of a unit each
  in turn (about 200 requests a second in all);
- MQTT on a real Mosquitto, a subscriber counting what arrives;
- two live page streams (/api/events) and /api/state, /metrics, the
  history's CSV every few seconds; the SQLite history written each second;
- a MOSFET write (discharge off, then on) every 30 s, through Modbus, on a
  pack that allows control;
- a reload (SIGHUP) every 60 s, its configuration changed each time;
- both inverter outputs: pylon-can over slcan on a socat pty pair (the
  frames counted by a reader) and pylon-rs485 on another (a master polling
  0x61 and 0x63 twice a second);
- an upstream pusher writing the bank's registers every second to a real
  Modbus server (pymodbus, tests/integration/upstream_server.py);
- pack 2 silenced for 20 s every 2 minutes (its limits to 0, the bank's
  with them, the outputs' fail-safe while the bank lives on pack 1).

Printed each minute: VmRSS, open descriptors, warnings and errors logged
in that minute, and what each output did in it (Modbus requests answered
and exceptions, MQTT messages received by the subscriber, page events
read, history samples written, CAN frames received, RS485 answers, MOSFET
writes acknowledged, reloads, upstream pushes).  At the end a verdict: the daemon alive,
no ERROR line but the expected ones, RSS and descriptors flat after the
first minute.  "N passed, N failed".
"""
import json
import os
import re
import select
import signal
import sys
import tempfile
import threading
import time
import tty
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
os.environ.setdefault("BIN", "build")
from harness import Checks, Gateway, Proc, Sim, free_port, pty_pair, wait_port, wait_until  # noqa: E402
from test_inverter import p485_request  # noqa: E402
from mqtt_harness import Broker, Subscriber  # noqa: E402

from pymodbus.client import ModbusTcpClient  # noqa: E402

c = Checks()
stop = threading.Event()
lock = threading.Lock()
counts = {"mb_ok": 0, "mb_err": 0, "mb_stale": 0, "events": 0, "can_frames": 0, "rs_answers": 0, "rs_missed": 0,
          "writes_ok": 0, "writes_bad": 0, "reloads": 0, "http": 0}


def bump(k, n=1):
    with lock:
        counts[k] += n


def conf(gw_port, http_port, sim_port, broker_port, tmp, can_a, rs_a, up_port, n):
    """The configuration of reload n: the poll interval and the limits'
    recovery_hold alternate, so every reload changes packs and settings
    (the outputs' own settings stay: a reload must keep them running)."""
    packs = ""
    for a in (1, 2):
        packs += ("[pack.p%d]\nprotocol = daly\nport = tcp://127.0.0.1:%d\naddress = %d\nunit_id = %d\n"
                  "poll_interval = %s\ntimeout = 0.4\nretries = 0\ncontrol = %s\ncontrol_timeout = 3\n" %
                  (a, sim_port, a, a, "0.5" if n % 2 == 0 else "0.6", "true" if a == 1 else "false"))
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 4
state_file = %s/state
control_clients = 127.0.0.1
%s[bank]
unit_id = 100
[limits]
recovery_hold = %s
[http]
listen = 127.0.0.1:%d
[history]
file = %s/history.db
interval = 1
[mqtt]
host = 127.0.0.1
port = %d
client_id = soak
topic_prefix = soak
[inverter.can]
protocol = pylon-can
port = slcan://%s
source = bank
interval = 1
failsafe_silence = 10
[inverter.rs]
protocol = pylon-rs485
port = %s
source = bank
failsafe_silence = 10
[upstream.plc]
host = 127.0.0.1
port = %d
source = bank
base = 1000
interval = 1
""" % (gw_port, tmp, packs, "5" if n % 2 == 0 else "6", http_port, tmp, broker_port, can_a, rs_a, up_port)


# ------------------------------------------------------------------ loads

def modbus_load(gw_port, unit):
    cl = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    cl.connect()
    while not stop.is_set():
        try:
            rr = cl.read_holding_registers(290, 125, slave=unit)
            if not rr.isError():
                bump("mb_ok")
            else:
                bump("mb_stale" if getattr(rr, "exception_code", 0) == 0x0B else "mb_err")
        except Exception:  # noqa: BLE001 - a reconnect after a timeout
            bump("mb_err")
            cl.close()
            cl.connect()
        time.sleep(0.02)
    cl.close()


def event_stream(http_port):
    while not stop.is_set():
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/api/events" % http_port, timeout=10) as r:
                while not stop.is_set():
                    line = r.readline()
                    if not line:
                        break
                    if line.startswith(b"data:"):
                        bump("events")
        except Exception:  # noqa: BLE001 - reconnect as a browser does
            time.sleep(1)


def http_poll(http_port):
    paths = ("/api/state", "/metrics", "/api/history.csv?unit=bank&range=24h", "/")
    i = 0
    while not stop.is_set():
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (http_port, paths[i % len(paths)]),
                                        timeout=10) as r:
                r.read()
            bump("http")
        except Exception:  # noqa: BLE001
            pass
        i += 1
        stop.wait(2)


def can_reader(path):
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    buf = b""
    while not stop.is_set():
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            buf += os.read(fd, 4096)
            n = buf.count(b"\r")
            if n:
                bump("can_frames", sum(1 for l in buf.split(b"\r")[:n] if l.startswith(b"t")))
                buf = buf.split(b"\r")[-1]
                # the inverter's 0x305, as a Pylontech inverter sends it each second
                os.write(fd, b"t3058" + b"00" * 8 + b"\r")
    os.close(fd)


def rs_master(path):
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    k = 0
    while not stop.is_set():
        os.write(fd, p485_request(2, 0x61 if k % 2 == 0 else 0x63))
        k += 1
        buf = b""
        deadline = time.monotonic() + 0.5
        while not buf.endswith(b"\r") and time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                buf += os.read(fd, 4096)
        bump("rs_answers" if buf.endswith(b"\r") else "rs_missed")
        stop.wait(0.5)
    os.close(fd)


def mosfet_writes(gw_port, t0):
    """A write every 30 s from t0 + 15 s: half way between the reloads
    (t0 + 30 s + 60 s k), which fail a command still queued (0x0B: it is
    screened again under the new configuration)."""
    cl = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=8)
    cl.connect()
    on = False
    k = 0
    while not stop.wait(max(0.0, t0 + 15 + 30 * k - time.monotonic())):
        k += 1
        try:
            rr = cl.write_register(290 + 17, 1 if on else 0, slave=1)  # discharge MOSFET of p1
            bump("writes_bad" if rr.isError() else "writes_ok")
        except Exception:  # noqa: BLE001
            bump("writes_bad")
            cl.close()
            cl.connect()
        on = not on
    # leave it on
    try:
        cl.write_register(290 + 17, 1, slave=1)
    except Exception:  # noqa: BLE001
        pass
    cl.close()


# ------------------------------------------------------------- the report

def proc_figures(pid):
    with open("/proc/%d/status" % pid) as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS"))
    return rss, len(os.listdir("/proc/%d/fd" % pid))


def metrics(http_port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % http_port, timeout=10) as r:
            text = r.read().decode()
    except Exception:  # noqa: BLE001
        return {}
    out = {}
    for name in ("bmsgw_modbus_requests_total", "bmsgw_modbus_exceptions_total",
                 "bmsgw_history_samples_written_total", "bmsgw_reloads_total"):
        m = re.search(r"^%s(?:\{[^}]*\})? (\S+)$" % name, text, re.M)
        out[name] = float(m.group(1)) if m else 0
    for m in re.finditer(r'^bmsgw_inverter_sent_total\{inverter="(\w+)"[^}]*\} (\S+)$', text, re.M):
        out["inv_" + m.group(1)] = float(m.group(2))
    for m in re.finditer(r'^bmsgw_upstream_(pushes|failures)_total\{upstream="plc"\} (\S+)$', text, re.M):
        out["up_" + m.group(1)] = float(m.group(2))
    return out


def delta(m, prev, name):
    """A counter's increase; a counter the reload restarted (the history's,
    when its settings changed) counts from 0."""
    a, b = prev.get(name, 0), m.get(name, 0)
    return b - a if b >= a else b


def log_lines(gw, since):
    text = gw.text()
    return text[since:], len(text)


def main():
    seconds = float(os.environ.get("SOAK_SECONDS", "600"))
    tmp = tempfile.mkdtemp(prefix="bmsgw-soak-")
    can_a, can_b = pty_pair(tmp, "can")
    rs_a, rs_b = pty_pair(tmp, "rs")
    sim = Sim(packs=("address=1", "address=2"))
    broker = Broker()
    gw_port, http_port, up_port = free_port(), free_port(), free_port()
    ups = Proc(["/usr/bin/python3", os.path.join(HERE, "..", "integration", "upstream_server.py"), str(up_port)],
               "upstream")
    wait_port(up_port)
    args = (gw_port, http_port, sim.port, broker.port, tmp, can_a, rs_a, up_port)
    gw = Gateway(conf(*args, 0), gw_port)
    sub = Subscriber(broker.port, topics=("soak/#",))
    wait_until(lambda: json.loads(urllib.request.urlopen("http://127.0.0.1:%d/api/state" % http_port).read())
               ["gateway"]["packs_online"] == 2, 15)
    t0 = time.monotonic()  # the reloads' and the MOSFET writes' clock
    threads = [threading.Thread(target=modbus_load, args=(gw_port, u), daemon=True) for u in (1, 2, 100, 1)]
    threads += [threading.Thread(target=event_stream, args=(http_port,), daemon=True) for _ in range(2)]
    threads += [threading.Thread(target=http_poll, args=(http_port,), daemon=True),
                threading.Thread(target=can_reader, args=(can_b,), daemon=True),
                threading.Thread(target=rs_master, args=(rs_b,), daemon=True),
                threading.Thread(target=mosfet_writes, args=(gw_port, t0), daemon=True)]
    for t in threads:
        t.start()
    print("soak: %d s, bmsgw pid %d (%s)" % (seconds, gw.p.pid, os.environ["BIN"]), flush=True)
    print("%4s %8s %4s %5s %5s | %7s %4s %6s %6s %5s %6s %6s %5s %4s %4s %4s %s" % (
        "min", "rss_kB", "fds", "warn", "err", "modbus", "exc", "mqtt", "events", "hist", "can_tx", "can_rx",
        "rs485", "mos", "rld", "up", "pack 2"), flush=True)
    minute, reload_n, log_at = 0, 0, 0
    silenced = False
    prev = dict(counts)
    prev_m = metrics(http_port)
    prev_mqtt = sub.count()
    rss_series, fd_series, errors, up_minutes = [], [], [], []
    next_reload, next_silence = t0 + 30, t0 + 100  # reloads between the minutes' readings
    while time.monotonic() - t0 < seconds and gw.alive():
        now = time.monotonic()
        if now >= next_reload:
            reload_n += 1
            with open(gw.conf, "w") as f:
                f.write(conf(*args, reload_n))
            gw.p.send_signal(signal.SIGHUP)
            bump("reloads")
            next_reload += 60
        if now >= next_silence:
            if not silenced:
                sim.ctl("fault 2 silent")
                next_silence += 20
            else:
                sim.ctl("fault 2 none")
                next_silence += 100
            silenced = not silenced
        if now - t0 >= (minute + 1) * 60 or now - t0 >= seconds - 0.1:
            minute += 1
            rss, fds = proc_figures(gw.p.pid)
            tail, log_at = log_lines(gw, log_at)
            warn = len(re.findall(r" bmsgw warn: ", tail))
            err = [l for l in tail.splitlines() if " bmsgw error: " in l]
            m = metrics(http_port)
            mq = sub.count()
            with lock:
                d = {k: counts[k] - prev[k] for k in counts}
                prev = dict(counts)
            print("%4d %8d %4d %5d %5d | %7d %4d %6d %6d %5d %6d %6d %5d %4d %4d %4d %s" % (
                minute, rss, fds, warn, len(err),
                delta(m, prev_m, "bmsgw_modbus_requests_total"), delta(m, prev_m, "bmsgw_modbus_exceptions_total"),
                mq - prev_mqtt, d["events"], delta(m, prev_m, "bmsgw_history_samples_written_total"),
                delta(m, prev_m, "inv_can"), d["can_frames"], d["rs_answers"],
                d["writes_ok"], d["reloads"], delta(m, prev_m, "up_pushes"), "silent" if silenced else "-"), flush=True)
            up_minutes.append(delta(m, prev_m, "up_pushes"))
            rss_series.append(rss)
            fd_series.append(fds)
            errors += err
            prev_m, prev_mqtt = m, mq
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join(10)
    alive = gw.alive()
    gw_text = gw.text()
    rc = gw.stop()
    sub.close()
    sim.stop()
    ups.stop()
    broker.cleanup()
    c.ok(alive, "bmsgw ran the whole soak")
    c.eq(rc, 0, "it stopped cleanly on SIGTERM")
    c.ok(not errors, "no error logged (%s)" % errors[:3])
    c.ok(len(rss_series) >= 2, "at least two minutes measured")
    if len(rss_series) >= 3:
        c.ok(max(rss_series[1:]) - rss_series[1] <= 1024,
             "RSS flat after the first minute (%d -> %d kB, max %d)" % (rss_series[1], rss_series[-1],
                                                                         max(rss_series[1:])))
        c.ok(max(fd_series[1:]) - min(fd_series[1:]) <= 4, "descriptors flat (%s)" % fd_series)
    c.eq(counts["mb_err"], 0, "Modbus reads: %d answered, %d stale (0x0B while pack 2 is silent), %d failed" %
         (counts["mb_ok"], counts["mb_stale"], counts["mb_err"]))
    c.ok(counts["writes_ok"] >= 1 and counts["writes_bad"] == 0,
         "MOSFET writes: %d acknowledged, %d failed" % (counts["writes_ok"], counts["writes_bad"]))
    c.ok(counts["rs_answers"] > 0 and counts["can_frames"] > 0, "both inverter outputs worked (%d frames, %d "
         "answers, %d unanswered)" % (counts["can_frames"], counts["rs_answers"], counts["rs_missed"]))
    c.ok(len(up_minutes) >= 1 and min(up_minutes) > 0 and prev_m.get("up_failures", 0) == 0,
         "the upstream pusher pushed every minute (%s), no write failed (%d)" % (up_minutes,
                                                                               prev_m.get("up_failures", 0)))
    c.ok("AddressSanitizer" not in gw_text, "no sanitizer report")
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
