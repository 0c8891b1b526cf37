#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench: a 16-pack Bluetooth LE site through one adapter (the fake
BlueZ of tests/ble on a private dbus-daemon, each device bridged to its own
bmsgw-sim).  Figures, not assertions:

- start: the time until each pack has its first fresh data (one Connect at a
  time per adapter, so they come up in turn), the last one's;
- steady: for SECONDS, every pack's good-polls counter (offset 99-100) read
  every 25 ms: the longest time between two good polls of a pack (the longest
  age its data reached), per pack and over the site, against poll_interval;
- one link dropped: the longest age of the dropped pack's data and of the
  fifteen others while it reconnects.

    BIN=build /usr/bin/python3 tests/tools/bench_ble_site.py [SECONDS] [PROTOCOL]
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import test_ble as T  # noqa: E402
from harness import Gateway, Sim, free_port, wait_until  # noqa: E402

PACKS = 16
INTERVAL = 1.0


def good_polls(port, unit):
    regs, _, _ = T.read_raw(port, unit, 389, 2)
    return None if regs is None else regs[0] << 16 | regs[1]


class Ages:
    """Samples the good-polls counter of units 1..units; the longest gap
    between two increments per unit (the first increment opens the measure)."""

    def __init__(self, port, units=PACKS):
        self.port = port
        self.units = units
        self.last = {}
        self.seen = {}
        self.worst = {}

    def sample(self):
        now = time.monotonic()
        for unit in range(1, self.units + 1):
            n = good_polls(self.port, unit)
            if n is None:
                continue
            if unit in self.last and n != self.last[unit]:
                if unit in self.seen:
                    self.worst[unit] = max(self.worst.get(unit, 0), now - self.seen[unit])
                self.seen[unit] = now
            elif unit not in self.last and n:
                self.seen[unit] = now
            self.last[unit] = n

    def run(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.sample()
            time.sleep(0.025)
        # a unit whose last good poll is older than any gap seen counts too
        now = time.monotonic()
        for unit, t in self.seen.items():
            self.worst[unit] = max(self.worst.get(unit, 0), now - t)
        return self.worst


def mac(i):
    return "A4:C1:38:00:01:%02X" % i


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20
    proto = sys.argv[2] if len(sys.argv) > 2 else "jbd"
    bus = T.Bus()
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = bus.address
    sims = [Sim(protocol=proto) for _ in range(PACKS)]
    fake = T.Fake([T.device(mac(i + 1), s) for i, s in enumerate(sims)])
    port = free_port()
    packs = ["[pack.p%d]\nprotocol = %s\nport = ble://%s\nunit_id = %d\npoll_interval = %g\n"
             % (i, proto, mac(i), i, INTERVAL) for i in range(1, PACKS + 1)]
    t0 = time.monotonic()
    gw = Gateway(T.gw_conf(port, packs, extra="log_level = warn\n", stale=10), port)
    try:
        first = {}
        ok = wait_until(lambda: [first.setdefault(u, time.monotonic() - t0) for u in range(1, PACKS + 1)
                                 if u not in first and T.online(port, u)] is not None and len(first) == PACKS,
                        120, step=0.02)
        v = sorted(first.values())
        print("ble site (%d %s packs, one adapter, poll_interval %g s): first fresh data after start: "
              "first %.2f s, median %.2f s, last %.2f s%s" % (PACKS, proto, INTERVAL, v[0], v[len(v) // 2], v[-1],
                                                              "" if ok else " (NOT ALL ONLINE)"))
        w = Ages(port).run(seconds)
        per = sorted(w.values())
        print("ble site steady for %g s: longest age of a pack's data: median %.2f s, worst %.2f s (unit %d); "
              "poll_interval %g s" % (seconds, per[len(per) // 2], per[-1], max(w, key=w.get), INTERVAL))
        a = Ages(port)
        a.sample()
        fake.ctl("disconnect %s" % mac(1))
        w = a.run(max(seconds / 2, 8))
        others = max(v for u, v in w.items() if u != 1)
        print("ble site, unit 1's link dropped once: longest age of its data %.2f s, of the 15 others %.2f s"
              % (w.get(1, float("nan")), others))
        print("ble site memory: %s" % " ".join(
            line.split(":")[0] + " " + line.split(":")[1].strip()
            for line in open("/proc/%d/status" % gw.p.pid) if line.startswith(("VmHWM", "VmRSS"))))
    finally:
        gw.stop()
        fake.stop()
        for s in sims:
            s.stop()
        bus.stop()


if __name__ == "__main__":
    main()
