#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench, wire part: for every protocol, up to 16 simulated packs on one
RS485 bus (a pty, bytes paced at the protocol's default baud, each answer
after the simulator's default BMS latency), polled by bmsgw as fast as the
wire allows (poll_interval = 0.2 s).  The simulator measures the wire; the
gateway's good-poll counters give the refresh period.  Reports per protocol:

  packs      packs on the bus
  req/poll   requests a poll sends (transactions)
  bytes      bytes on the wire per poll, both directions
  wire ms    their time at the baud rate (10 bits a byte)
  lat ms     the simulated BMS latency per poll (sum over its transactions)
  idle       silence the gateway added per transaction: from the last byte of
             an answer to the first byte of the next request (mean, p50, p95,
             max), against its budget: the wire's silence (3.5 characters, or
             the protocol's documented floor) + 1 ms
  refresh    the time in which every pack of the bus is polled once, against
             packs x (wire + latency) per poll

Protocols without bus addresses (sinowealth, jbd, jk) take one pack per
port: their polls follow poll_interval (0.2 s at the least), so their idle
includes that wait after the last transaction of a poll (p50 is the silence
within a poll where a poll has several transactions) and their refresh is
the poll interval.

Figures, not assertions.   usage: bench_wire.py [SECONDS] [PROTOCOL...]"""
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
from harness import Gateway, Sim, free_port, mbread, wait_until  # noqa: E402

# protocol: (default baud, addresses of the packs on one bus, documented
# floor before a read in seconds: bms/PROTOCOLS.md section 1.3)
PYL = [a for a in range(0x02, 0x100) if 0x02 <= (a & 0x0F) <= 0x0D][:16]
PROTOCOLS = {
    "daly": (9600, list(range(1, 17)), 0),
    "daly-modbus": (9600, list(range(1, 17)), 0),
    "topbms": (9600, list(range(1, 17)), 0),
    "seplos": (19200, list(range(0, 16)), 0),
    "pylontech": (115200, PYL, 0),
    "jk-pb": (115200, list(range(1, 16)), 0.1),
    "sinowealth": (9600, [None], 0),
    "jbd": (9600, [None], 0),
    "jk": (115200, [None], 0.1),
    # the rack batteries; pace: a bus of 8 packs at 9600 baud (issue 29's
    # goal: refreshed within 1.15 x (wire + the BMS's answer time))
    "pace": (9600, list(range(1, 9)), 0),
    "eg4-lp4": (9600, list(range(1, 16)), 0.2),
    "daren": (19200, list(range(1, 16)), 0),
    "seplos3": (19200, list(range(0, 16)), 0),
    "eg4-ll": (9600, list(range(1, 17)), 0),
    "renogy": (9600, list(range(48, 56)), 0),
    "pace-modbus": (9600, list(range(1, 17)), 0),
}


def good_polls(port, unit):
    out = mbread(port, unit, 389, 2)  # offsets 99-100: good polls, u32 high word first
    if not out.startswith("ok "):
        return None
    hi, lo = (int(x) for x in out.split()[1:3])
    return (hi << 16) | lo


def bench(protocol, seconds):
    baud, addrs, floor = PROTOCOLS[protocol]
    tmp = tempfile.mkdtemp(prefix="bmsgw-benchwire-")
    pty = os.path.join(tmp, "tty")
    specs = ["address=%d" % a if a is not None else ("cells=4" if protocol == "sinowealth" else "cells=16")
             for a in addrs]
    sim = Sim(protocol, tcp=False, pty_path=pty, packs=specs)
    gw_port = free_port()
    conf = "[gateway]\nlisten = 127.0.0.1:%d\nlog_level = warn\nstate_file = none\n" % gw_port
    for i, a in enumerate(addrs):
        conf += "[pack.p%02d]\nprotocol = %s\nport = %s\npoll_interval = 0.2\n" % (i, protocol, pty)
        if a is not None:
            conf += "address = %d\n" % a
    gw = Gateway(conf, gw_port)
    units = list(range(1, len(addrs) + 1))
    try:
        if not wait_until(lambda: all((good_polls(gw_port, u) or 0) > 0 for u in units), 60):
            print("%-12s did not poll every pack" % protocol)
            return None
        time.sleep(1)  # every pack polled: the bus is in its steady round
        sim.ctl("stats reset")
        g0 = sum(good_polls(gw_port, u) for u in units)
        t0 = time.monotonic()
        time.sleep(seconds)
        st = json.loads(sim.ctl("stats"))
        g1 = sum(good_polls(gw_port, u) for u in units)
        t1 = time.monotonic()
    finally:
        gw.stop()
        sim.stop()
    polls = g1 - g0
    if polls <= 0:
        print("%-12s no poll completed" % protocol)
        return None
    n = len(addrs)
    bytes_poll = (st["rx_bytes"] + st["tx_bytes"]) / polls
    wire = bytes_poll * 10 / baud
    lat = st["latency_ms_sum"] / 1000 / polls
    req = st["transactions"] / polls
    refresh = (t1 - t0) / (polls / n)
    ideal = n * (wire + lat)
    silence = max(3.5 * 10 / baud, floor)
    budget = silence + 0.001
    return dict(protocol=protocol, packs=n, req=req, bytes=bytes_poll, wire=wire, lat=lat,
                idle_mean=st["idle_us_mean"] / 1e6, idle_p95=st["idle_us_p95"] / 1e6,
                idle_p50=st["idle_us_p50"] / 1e6,
                idle_max=st["idle_us_max"] / 1e6, budget=budget, refresh=refresh, ideal=ideal,
                ratio=refresh / ideal if ideal else 0)


def main():
    args = sys.argv[1:]
    seconds = float(args.pop(0)) if args and args[0].replace(".", "").isdigit() else 10
    names = args or list(PROTOCOLS)
    print("wire: %g s per protocol, packs on one simulated bus (pty), polled back to back" % seconds)
    print("%-12s %5s %8s %6s %8s %7s %30s %9s %18s %6s" % (
        "protocol", "packs", "req/poll", "bytes", "wire ms", "lat ms", "idle ms mean/p50/p95/max",
        "budget", "refresh s (ideal)", "ratio"))
    for p in names:
        r = bench(p, seconds)
        if not r:
            continue
        print("%-12s %5d %8.1f %6.0f %8.1f %7.1f %30s %6.2f ms %8.2f (%5.2f) %6.3f" % (
            r["protocol"], r["packs"], r["req"], r["bytes"], r["wire"] * 1000, r["lat"] * 1000,
            "%.2f / %.2f / %.2f / %.2f" % (r["idle_mean"] * 1000, r["idle_p50"] * 1000,
                                           r["idle_p95"] * 1000, r["idle_max"] * 1000),
            r["budget"] * 1000, r["refresh"], r["ideal"], r["ratio"]))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
