#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench: bmsgw's memory with 64 packs (issue 101: a snapshot holds
192 cells where it held 32): four simulated Daly buses of 16 packs each
(16 cells), every pack polled each second, with the history, [health] and
the status page on; once every pack is online and SECONDS (argument,
default 20) have passed, VmRSS and VmHWM of the bmsgw process from
/proc.  EXE= another bmsgw binary to compare (e.g. one built before the
change).  Figures, not assertions."""
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
from harness import Checks, Gateway, Sim, api_state, free_port, wait_until  # noqa: E402

PACKS_PER_BUS = 16  # daly's addresses 1-16
BUSES = 4


def conf(sims, gwport, http, tmp):
    text = """[gateway]
listen = 127.0.0.1:%d
state_file = none
log_level = warn
[http]
listen = 127.0.0.1:%d
[history]
file = %s/h.db
[health]
""" % (gwport, http, tmp)
    for b, sim in enumerate(sims):
        for a in range(1, PACKS_PER_BUS + 1):
            text += "[pack.b%dp%d]\nprotocol = daly\nport = tcp://127.0.0.1:%d\naddress = %d\npoll_interval = 1\n" \
                % (b, a, sim.port, a)
    return text


def status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    exe = os.environ.get("EXE") or None
    tmp = tempfile.mkdtemp(prefix="bmsgw-mem-")
    sims = [Sim("daly", packs=["address=%d" % a for a in range(1, PACKS_PER_BUS + 1)],
                extra=["--latency", "1"]) for _ in range(BUSES)]
    gwport, http = free_port(), free_port()
    gw, ok = None, False
    try:
        gw = Gateway(conf(sims, gwport, http, tmp), gwport, exe=exe)

        def all_online():
            js = api_state(http)
            return js and sum(1 for p in js["packs"] if p.get("online")) == BUSES * PACKS_PER_BUS
        t0 = time.monotonic()
        ok = wait_until(all_online, 120)
        time.sleep(seconds)
        pid = gw.p.pid
        print("64 packs (16 cells each, history, health, page) %s: all online %s after %.0f s; "
              "VmRSS %d kB, VmHWM %d kB" % (exe or "bmsgw", "yes" if ok else "NO", time.monotonic() - t0 - seconds,
                                           status(pid, "VmRSS"), status(pid, "VmHWM")))
    finally:
        if gw:
            gw.stop()
        for s in sims:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    c = Checks()
    c.ok(ok, "every pack online (the figure is of the whole fleet)")
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
