#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench: Modbus/TCP Security under a flood of silent connections
(issue 89 item 4), the rig of tests/integration/mbtls_rig.py: 32 addresses
(127.0.1.1-32) each holding 8 TCP connections to 802 that send nothing,
reopened as soon as the server closes them, while a good Operator (a
certificate with the role Operator) connects anew from 127.0.0.2 and reads
one register every 50 ms for SECONDS: how many of its connections
succeed, their times (median, 95th percentile, the longest), why the others
failed, what the flood made (connections opened, closed by bmsgw) and
bmsgw's CPU meanwhile (and per flood connection).  RUNS runs, each with a
gateway of its own, for each delay of HELLO_AFTER (seconds between the
Operator's connect and its ClientHello: a client descheduled on a loaded
machine, or far away; default 0 and 0.02).

`bench_mbtls_flood.py [SECONDS [RUNS]]`; BMSGW=path runs another binary
(main's, to compare); ADDRS, EACH the flood's shape.  Figures, not
assertions (test_mbtls_flood.py asserts the success rate, with a margin)."""
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import (ROLE_EXT, SERVER_EXT, Gateway, Sim, free_port, make_ca, wait_until)  # noqa: E402
import mbtls_rig  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 6.0
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
ADDRS = int(os.environ.get("ADDRS", "32"))
EACH = int(os.environ.get("EACH", "8"))
HELLO_AFTER = [float(x) for x in os.environ.get("HELLO_AFTER", "0,0.02").split(",")]


def cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(tmp, k, hello_after):
    sim = Sim()
    gw_port, tls_port = free_port(), free_port()
    gw = Gateway("[gateway]\nlisten = 127.0.0.1:%d\nlog_level = warn\n"
                 "[modbus_tls]\nlisten = 127.0.0.1:%d\ncert = %s/server.pem\nkey = %s/server.key\nca = %s/ca.pem\n"
                 "[pack.p1]\nprotocol = daly\nport = tcp://127.0.0.1:%d\npoll_interval = 0.5\n"
                 % (gw_port, tls_port, tmp, tmp, tmp, sim.port), gw_port, exe=os.environ.get("BMSGW"))
    ctx = mbtls_rig.client_ctx(tmp, "operator")
    flood = None
    try:
        if not wait_until(lambda: mbtls_rig.operator_read(tls_port, ctx)[0], 20):
            print("  run %d: no good read before the flood" % k)
            return None
        flood = mbtls_rig.SilentFlood(tls_port, mbtls_rig.loopback_addrs(ADDRS), EACH)
        time.sleep(1.0)  # (the flood settles: the attack's steady state)
        c0, t0 = cpu(gw.p.pid), time.monotonic()
        got = mbtls_rig.operator_series(tls_port, ctx, SECONDS, timeout=10.0, hello_after=hello_after)
        used = cpu(gw.p.pid) - c0
        load = used / (time.monotonic() - t0)
        st = flood.stop()
        flood = None
        ok = [s for good, s, _ in got if good]
        why = {}
        for good, _, w in got:
            if not good:
                why[w] = why.get(w, 0) + 1
        ok.sort()
        print("  run %d: %d of %d good connections succeeded (%.1f %%); their time: median %.1f ms, 95th "
              "percentile %.1f ms, longest %.1f ms; bmsgw's CPU %.0f %% (%.1f us a flood connection); the flood: %s connections opened, %s "
              "closed by bmsgw, %s reset before it saw them open, %s connects failed, %s held at the end"
              % (k, len(ok), len(got), 100.0 * len(ok) / max(1, len(got)),
                 1000 * statistics.median(ok) if ok else 0, 1000 * ok[int(0.95 * (len(ok) - 1))] if ok else 0,
                 1000 * ok[-1] if ok else 0, 100 * load,
                 1e6 * used / max(1, st.get("opened", 0) + st.get("reset", 0)), st.get("opened", "?"), st.get("closed", "?"),
                 st.get("reset", "?"), st.get("failed", "?"), st.get("held", "?")))
        for w, n in sorted(why.items(), key=lambda x: -x[1]):
            print("     failed %d x: %s" % (n, w))
        return len(ok), len(got)
    finally:
        if flood:
            flood.stop()
        gw.stop()
        sim.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-mbflood-")
    make_ca(tmp, "ca", [("server", SERVER_EXT), ("operator", ROLE_EXT % "Operator")])
    for late in HELLO_AFTER:
        print("Modbus/TCP Security, %d addresses x %d silent connections; a good Operator connecting and reading "
              "every 50 ms for %.0f s, its ClientHello %.0f ms after each connection (%s)"
              % (ADDRS, EACH, SECONDS, 1000 * late, os.environ.get("BMSGW", "build/bmsgw")))
        tot = [0, 0]
        for k in range(1, RUNS + 1):
            r = one_run(tmp, k, late)
            if r:
                tot[0] += r[0]
                tot[1] += r[1]
        print("  all runs: %d of %d (%.1f %%)" % (tot[0], tot[1], 100.0 * tot[0] / max(1, tot[1])))


if __name__ == "__main__":
    main()
