#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench: bmsgw's CPU while it reads a high-voltage pack's whole
broadcast (issue 101: under 1 % of one core).  For each family, its rows of
tests/fixtures/vectors.tsv (the Tesla's with its 108 bricks, 36 frames of
0x401, and 0x20A) are played by python-can on the test's end of a socat
pty pair, round after round, at 10 rounds a second or more, at least 300
frames a second (a pack's 100+); bmsgw reads them over slcan at 500 kbit/s (relion-lv 250)
(one pack, poll_interval 1 s, the status page on).  Once the pack is
online, bmsgw's CPU time over SECONDS (argument, default 10; the families
named after it alone, e.g. `bench_hv.py 10 samsung-sdi-lv`) from
/proc/PID/task/*/schedstat, against its CPU over as long on the same configuration
with the bus silent (its timers: the idle floor).  Prints the frames a
second played, the CPU share, the cells served and the checksum errors
counted (0 expected).  Figures, not assertions: it fails only where a pack
did not come online.  bench_hv.py SECONDS FAMILY...: only those families."""
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
from harness import ROOT, Checks, Gateway, api_state, free_port, pty_pair, wait_until  # noqa: E402

ROWS = (("leaf", "LEAF-01"), ("tesla-model3", "M3-01"), ("zoe1", "ZOE1-01"), ("zoe2", "ZOE2-01"),
        ("mg-zs", "MG-02"),
        ("byd-atto3", "ATTO-01"), ("bolt", "BOLT-01"), ("mach-e", "MACHE-01"), ("volvo-spa", "VOLVO-01"),
        ("foxess-in", "FOX-01"), ("byd-hvs-in", "BYDHVS-01"),
        ("solax-in", "SOLAX-01"), ("relion-lv", "RELION-01"), ("samsung-sdi-lv", "SDI-01"),
        ("growatt-ark-in", "GROWATT-ARK-01"))


def fixture(rid):
    with open(os.path.join(ROOT, "tests", "fixtures", "vectors.tsv")) as f:
        for line in f:
            if line.startswith(rid + "\t"):
                out = []
                for t in line.split("\t")[2].split():
                    i, d = t.split("#")
                    out.append((int(i, 16), len(i) == 8, bytes.fromhex(d)))
                return out
    return []


def tesla_bricks():
    """0x401's 36 frames (brick i: 3.700 V + i % 50 mV, 0.1 mV) and 0x20A."""
    fr = []
    for m in range(36):
        d = bytes([m, 0])
        for k in range(3):
            v = (37000 + (3 * m + k) % 50 * 10)
            d += bytes([v & 255, v >> 8])
        fr.append((0x401, False, d))
    return fr + [(0x20A, False, bytes.fromhex("240000000001"))]


class Feeder:
    """The frames round after round every `period` s; frames sent counted."""

    def __init__(self, path, frames, period, bitrate):
        from can.interfaces.slcan import slcanBus
        self.bus = slcanBus(path, bitrate=bitrate, sleep_after_open=0)
        self.frames, self.period = frames, period
        self.sent = 0
        self.running = True
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        from can import Message
        msgs = [Message(arbitration_id=i, data=d, is_extended_id=ext) for i, ext, d in self.frames]
        due = time.monotonic()
        while self.running:
            for m in msgs:
                self.bus.send(m)
            self.sent += len(msgs)
            due += self.period
            time.sleep(max(0.0, due - time.monotonic()))

    def close(self):
        self.running = False
        self.t.join(2)
        self.bus.shutdown()


def cpu(pid):
    """Seconds on a CPU of every thread of pid (schedstat: nanoseconds,
    where /proc/PID/stat counts 10 ms ticks)."""
    t = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                t += int(f.read().split()[0])
        except OSError:
            pass  # a thread that ended
    return t / 1e9


def conf(proto, gwport, http, path):
    return """[gateway]
listen = 127.0.0.1:%d
state_file = none
log_level = warn
[pack.ev]
protocol = %s
port = slcan://%s
poll_interval = 1
[http]
listen = 127.0.0.1:%d
[history]
file = none
""" % (gwport, proto, path, http)


def pack(http):
    return ((api_state(http) or {}).get("packs") or [{}])[0]


def family(tmp, proto, rid, seconds, c):
    frames = fixture(rid) + (tesla_bricks() if proto == "tesla-model3" else [])
    period = min(0.1, len(frames) / 300.0)
    gw_end, test_end = pty_pair(tmp, rid.lower())
    gwport, http = free_port(), free_port()
    gw = Gateway(conf(proto, gwport, http, gw_end), gwport)
    feeder = None
    try:
        pid = gw.p.pid
        a = cpu(pid)
        time.sleep(seconds)
        idle = (cpu(pid) - a) / seconds * 100
        feeder = Feeder(test_end, frames, period, 250000 if proto == "relion-lv" else 500000)
        ok = wait_until(lambda: pack(http).get("online"), 20)
        c.ok(ok, "%s: online on its broadcast" % proto)
        t0, n0, a = time.monotonic(), feeder.sent, cpu(pid)
        time.sleep(seconds)
        used, dt, n = cpu(pid) - a, time.monotonic() - t0, feeder.sent - n0
        p = pack(http)
        print("%-14s %5.0f frames/s (%2d a round), bmsgw %.2f %% of a core (idle %.2f %%), %.2f us a frame; "
              "%3d cells served, %d refused, online %s" %
              (proto, n / dt, len(frames), used / dt * 100, idle, used / max(n, 1) * 1e6, p.get("cell_count") or 0,
               (p.get("wire") or {}).get("checksum_errors", 0), "yes" if p.get("online") else "NO"))
    finally:
        if feeder:
            feeder.close()
        gw.stop()


def main():
    try:
        import can  # noqa: F401
    except ImportError:
        print("bench_hv: python3-can is not installed (make deps installs it)")
        return 0
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    only = sys.argv[2:]
    c = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        for proto, rid in ROWS:
            if not only or proto in only:
                family(tmp, proto, rid, seconds, c)
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
