#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench: the Modbus RTU server's turnaround, at 9600 and 115200 bit/s.

The real bmsgw with [rtu] on one end of a socat pty pair and a simulated
Daly pack; tests/tools/rtubench reads 10 registers (FC03) N times on the
other end and measures from the request's write() to the answer's first
and last byte.  A pty has no baud rate: the bytes cross at once, so this is
the daemon's own turnaround (the 3.5-character silence it waits at its
configured rate, its timer, the answer) without the frames' time on a real
line.  Printed beside the goal: 3.5 characters + 1 ms (11 bits a
character; t3.5 is 1.75 ms above 19200 bit/s).  Figures, not assertions.
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import BIN, ROOT, Gateway, Proc, Sim, free_port, wait_file, wait_until  # noqa: E402

BASE = 290


def t35(baud):
    return 0.00175 if baud > 19200 else 3.5 * 11.0 / baud


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    tmp = tempfile.mkdtemp(prefix="bmsgw-rtubench-")
    pty_gw, pty_master = os.path.join(tmp, "gw"), os.path.join(tmp, "master")
    socat = Proc(["socat", "PTY,link=%s,raw,echo=0" % pty_gw, "PTY,link=%s,raw,echo=0" % pty_master], "socat")
    sim = Sim()
    try:
        if not (wait_file(pty_gw) and wait_file(pty_master)):
            print("bench_rtu: socat made no pty pair")
            return 1
        for baud in (9600, 115200):
            gw_port = free_port()
            gw = Gateway("[gateway]\nlisten = 127.0.0.1:%d\nstate_file = none\nlog_level = warn\n"
                         "[pack.a]\nprotocol = daly\nport = tcp://127.0.0.1:%d\npoll_interval = 1\n"
                         "[rtu]\nport = %s\nbaud = %d\n" % (gw_port, sim.port, pty_gw, baud), gw_port)
            tool = os.path.join(ROOT, BIN, "rtubench")
            run = lambda k: subprocess.run([tool, pty_master, "1", str(BASE), "10", str(k)],  # noqa: E731
                                           capture_output=True, text=True, timeout=120).stdout.strip()
            wait_until(lambda: "errors 0" in run(1), 10)
            out = run(n)
            print("RTU %6d bit/s (goal 3.5 characters + 1 ms = %.3f ms): %s" % (baud, (t35(baud) + 0.001) * 1e3,
                                                                              out))
            gw.stop()
    finally:
        sim.stop()
        socat.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
