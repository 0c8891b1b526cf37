#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench, MQTT backfill part ([mqtt] backfill): the rate achieved and
the broker-side lag after an hour's outage.

An hour's outage in a few seconds: bmsgw runs with its wall clock an hour
behind (build/timeshift.so, LD_PRELOAD), connected to a real Mosquitto; the
broker stops, the clock is put right (the daemon's wall clock jumps an hour
on, its monotonic clock does not) and the hour's samples go into the
history file (SQLite, the schema bmsgw made), as the history would have
taken them; the broker starts again.  Measured at a subscriber on that
broker: the samples received (each once, oldest first), the time from the
reconnection to the last one (the lag), and the rate between the first and
the last.  Two runs: the defaults ([history] interval = 60, backfill_rate =
50) with 4 packs and the bank, and [history] interval = 1 with
backfill_rate = 1000 (one pack and the bank, 7,200 samples).  Figures, not
assertions.   usage: bench_backfill.py"""
import os
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
from harness import BIN, ROOT, Proc, Sim, api_state, free_port, wait_port, wait_until  # noqa: E402
from mqtt_harness import Broker, Subscriber  # noqa: E402

HOUR = 3600


def fill(db, units, t0, t1, interval):
    """The samples the history would have taken over (t0, t1)."""
    con = sqlite3.connect(db, timeout=30)
    with con:
        for u in units:
            con.execute("INSERT OR IGNORE INTO units(name) VALUES (?)", (u,))
            uid = con.execute("SELECT id FROM units WHERE name = ?", (u,)).fetchone()[0]
            ts = (int(t0) // interval + 1) * interval
            rows = []
            while ts < t1:
                rows.append((uid, ts, 1, 50.0 + (ts % 100) / 10, 53.2, -4.5, -239.4, 3320, 3331, 11, 18.0, 19.0,
                             0))
                ts += interval
            con.executemany("INSERT OR IGNORE INTO samples(unit, ts, span, n, online, soc, voltage, current, power,"
                            " cell_min, cell_max, cell_delta, temp_min, temp_max, alarms) VALUES "
                            "(?, ?, 0, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.close()


def run(interval, rate, npacks):
    tmp = tempfile.mkdtemp(prefix="bmsgw-bench-bf-")
    shift = os.path.join(tmp, "shift")
    with open(shift, "w") as f:
        f.write("-%d\n" % HOUR)
    broker = Broker()
    sim = Sim("daly", packs=tuple("address=%d" % (i + 1) for i in range(npacks)))
    gw_port, http_port = free_port(), free_port()
    db = os.path.join(tmp, "h.db")
    conf = "[gateway]\nlisten = 127.0.0.1:%d\nstate_file = none\nlog_level = warn\n" % gw_port
    for i in range(npacks):
        conf += "[pack.p%02d]\nprotocol = daly\nport = tcp://127.0.0.1:%d\naddress = %d\npoll_interval = 1\n" % (
            i, sim.port, i + 1)
    conf += ("[bank]\n[http]\nlisten = 127.0.0.1:%d\n[history]\nfile = %s\ninterval = %d\n[mqtt]\nhost = 127.0.0.1\n"
             "port = %d\nclient_id = bench\ntopic_prefix = bench\ndiscovery = false\nbackfill = true\n"
             "backfill_rate = %d\n" % (http_port, db, interval, broker.port, rate))
    path = os.path.join(tmp, "bmsgw.ini")
    with open(path, "w") as f:
        f.write(conf)
    env = dict(os.environ, LD_PRELOAD=os.path.join(ROOT, BIN, "timeshift.so"), TIMESHIFT_FILE=shift)
    gw = Proc([os.path.join(ROOT, BIN, "bmsgw"), "-c", path], "bmsgw", env=env)
    units = ["p%02d" % i for i in range(npacks)] + ["bank"]
    sub = None
    try:
        wait_port(http_port)
        mq = lambda: api_state(http_port).get("mqtt") or {}  # noqa: E731
        wait_until(lambda: mq().get("connected") and (api_state(http_port).get("history") or {}).get("written"), 30)
        sub = Subscriber(broker, topics=("bench/+/history",), qos=1)
        broker.stop()
        wait_until(lambda: not mq().get("connected"), 10)
        lost = time.time() - HOUR  # the daemon's wall clock at the loss
        with open(shift, "w") as f:
            f.write("0\n")
        wait_until(lambda: False, 1.0)  # the shim reads the file every 50 ms, libev the clock every 0.5 s
        fill(db, units, lost + 1, time.time() - 1, interval)
        owed = mq().get("backlog")
        broker.start()
        t_back = time.monotonic()
        sub.wait_connects(2, 15)
        wait_until(lambda: mq().get("connected"), 40)
        t_conn = time.monotonic()
        wait_until(lambda: mq().get("connected") and mq().get("backlog") == 0, 600, 0.2)
        wait_until(lambda: False, 0.5)
        msgs = sub.all()
        times = {}
        for m in msgs:
            times.setdefault(m.topic, []).append(m.json()["time"])
        once = all(len(set(t)) == len(t) and t == sorted(t) for t in times.values())
        n = len(msgs)
        if n >= 2:
            first, last = msgs[0].t, msgs[-1].t
            print("backfill: [history] interval %d s, backfill_rate %d, %d units: an hour's outage, %d samples owed "
                  "(estimated %s), %d received (each once, oldest first: %s)" % (interval, rate, len(units),
                                                                                sum(len(t) for t in times.values()),
                                                                                owed, n, "yes" if once else "NO"))
            print("backfill:   rate achieved %.0f messages/s; broker-side lag after reconnecting %.1f s (first "
                  "sample %.1f s after the broker's start, bmsgw reconnected after %.1f s)"
                  % ((n - 1) / max(last - first, 1e-6), last - t_conn, first - t_back, t_conn - t_back))
        else:
            print("backfill: interval %d, rate %d: only %d messages received" % (interval, rate, n))
            gw.dump(20)
    finally:
        if sub:
            sub.close()
        gw.stop()
        sim.stop()
        broker.cleanup()


def main():
    run(60, 50, 4)
    run(1, 1000, 1)


if __name__ == "__main__":
    main()
