#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench: from a cell over-voltage on the BMS wire to CCL = 0 in the
registers.

A simulated Daly pack (TCP, 9600 baud pacing, the BMS's latency) behind the
real bmsgw with [limits]; a Modbus client reads offsets 0-55 in one request
as fast as it can.  N times: the simulator pins cell 3 at 3.600 V; the
first read that shows the cell (max cell, offset 6) must already show
CCL = 0 (offset 47): the limits are computed in the poll that read the cell
and swapped in with its snapshot.  Printed: in how many trials that held,
the time from the simulator's change to the first read showing CCL = 0
(mostly the wait for the next poll), and the time between the last read
showing the old cell and the first showing CCL = 0 (bounds the delay after
the poll, by the read rate).  Figures, not assertions.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Gateway, Sim, free_port, mbap_request, recv_adu, wait_until  # noqa: E402

BASE = 290


def read56(s, tid):
    s.sendall(mbap_request(tid & 0xffff, 1, bytes([3, BASE >> 8, BASE & 255, 0, 56])))
    r = recv_adu(s)
    if len(r) < 9 + 112 or r[7] != 3:
        return None
    return [r[9 + 2 * i] << 8 | r[10 + 2 * i] for i in range(56)]


def main():
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    sim = Sim()
    gw_port = free_port()
    gw = Gateway("[gateway]\nlisten = 127.0.0.1:%d\nstale_after = 5\nstate_file = none\nlog_level = warn\n"
                 "[pack.a]\nprotocol = daly\nport = tcp://127.0.0.1:%d\npoll_interval = 0.5\n"
                 "[limits]\nrecovery_hold = 0\nrecovery_rate = 1000\n" % (gw_port, sim.port), gw_port)
    same, delays, gaps = 0, [], []
    try:
        sim.ctl("freeze")
        s = socket.create_connection(("127.0.0.1", gw_port), timeout=3)
        tid = 0
        for _ in range(trials):
            sim.ctl("set 1 cell 3 auto")
            wait_until(lambda: (lambda r: r if r and r[6] < 3500 and r[47] > 0 else None)(read56(s, 1)), 10)
            t0 = time.monotonic()
            sim.ctl("set 1 cell 3 3600")
            last_old = t0
            while time.monotonic() - t0 < 10:
                tid += 1
                r = read56(s, tid)
                if r is None:
                    continue
                if r[6] != 3600:
                    last_old = time.monotonic()
                    continue
                t1 = time.monotonic()
                same += r[47] == 0
                delays.append(t1 - t0)
                gaps.append(t1 - last_old)
                break
        s.close()
    finally:
        gw.stop()
        sim.stop()
    n = len(delays)
    if not n:
        print("limits on the wire: no trial completed")
        return 0
    delays.sort()
    gaps.sort()
    print("cell over-voltage -> CCL 0 in the registers: %d/%d trials had CCL = 0 in the first read showing the "
          "cell; change to visible median %.0f ms (max %.0f ms, one poll is 0.5 s); read gap around it median %.2f "
          "ms, max %.2f ms" % (same, n, delays[n // 2] * 1000, delays[-1] * 1000, gaps[n // 2] * 1000,
                                gaps[-1] * 1000))
    return 0


if __name__ == "__main__":
    sys.exit(main())
