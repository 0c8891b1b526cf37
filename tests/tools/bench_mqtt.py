#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench, MQTT part: 16 simulated packs polled every second, each
state published after every good poll to a real Mosquitto.  Reports the
publish latency (from the end of the poll, as bmsgw's debug log stamps it,
to the subscriber's receipt) and bmsgw's CPU over the run.  Figures, not
assertions.   usage: bench_mqtt.py [SECONDS]"""
import os
import re
import statistics
import sys
import time
from datetime import datetime

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
from harness import Gateway, Sim, free_port, wait_until  # noqa: E402
from mqtt_harness import Broker, Subscriber  # noqa: E402

NPACKS = 16
TCK = os.sysconf("SC_CLK_TCK")


def cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TCK


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30
    broker = Broker()
    sims = [Sim() for _ in range(NPACKS)]
    gw_port = free_port()
    conf = "[gateway]\nlisten = 127.0.0.1:%d\nlog_level = debug\nstate_file = none\n" % gw_port
    for i, s in enumerate(sims):
        conf += "[pack.p%02d]\nprotocol = daly\nport = tcp://127.0.0.1:%d\npoll_interval = 1\n" % (i, s.port)
    conf += "[bank]\n[mqtt]\nhost = 127.0.0.1\nport = %d\nclient_id = bench\n" % broker.port
    sub = Subscriber(broker.port, topics=("bmsgw/+/state",))
    gw = Gateway(conf, gw_port)
    try:
        wait_until(lambda: len({m.topic for m in sub.all()}) >= NPACKS, 30)
        t0, c0 = time.monotonic(), cpu(gw.p.pid)
        w0 = time.time()
        time.sleep(seconds)
        t1, c1 = time.monotonic(), cpu(gw.p.pid)
        msgs = [m for m in sub.all() if m.t >= t0 and m.t <= t1 and "/bank/" not in m.topic]
        # poll ends from the debug log: "2026-11-22 10:00:00.123 bmsgw debug: pack p03: 52.60 V ..."
        ends = {}
        for line in gw.text().splitlines():
            m = re.match(r"(\S+ \S+) bmsgw debug: pack (p\d\d): [\d.]+ V ", line)
            if m:
                t = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
                if t >= w0:
                    ends.setdefault(m.group(2), []).append(t)
        lat = []
        mono_to_wall = time.time() - time.monotonic()
        for m in msgs:
            name = m.topic.split("/")[1]
            arrived = m.t + mono_to_wall
            before = [t for t in ends.get(name, []) if t <= arrived + 0.002]
            if before:
                lat.append((arrived - max(before)) * 1000)
        rate = len(msgs) / (t1 - t0)
        print("mqtt: %d packs polled every second, %d states in %.0f s (%.1f/s)" % (NPACKS, len(msgs), t1 - t0, rate))
        if lat:
            lat.sort()
            print("mqtt: publish latency poll end -> subscriber: median %.1f ms, p95 %.1f ms, max %.1f ms "
                  "(log stamps have 1 ms resolution)" % (statistics.median(lat), lat[int(len(lat) * 0.95)],
                                                        lat[-1]))
        print("mqtt: bmsgw CPU %.2f %% of one core (debug logging on)" % ((c1 - c0) / (t1 - t0) * 100))
        with open("/proc/%d/status" % gw.p.pid) as f:
            print("mqtt: " + " ".join(l.split()[0] + l.split()[1] + " kB" for l in f if l.startswith(("VmHWM", "VmRSS"))))
    finally:
        gw.stop()
        sub.close()
        for s in sims:
            s.stop()
        broker.cleanup()


if __name__ == "__main__":
    main()
