#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench: Bluetooth LE figures, without a radio (the fake BlueZ of
tests/ble on a private dbus-daemon, bridged to bmsgw-sim).  Figures, not
assertions:

- the first poll after start (bus, BlueZ's objects, Connect, services,
  StartNotify, one JBD poll);
- reconnect: from a dropped connection to fresh data again, N times;
- Modbus latency (p50, p99, max) of a TCP serial pack and of the BLE pack
  while the BLE link flaps (a disconnect every 0.3 s) for SECONDS;
- the first reading after start of a LiTime, a Tian Power and an E&J pack,
  each alone (its own Connect, services, StartNotify and first poll: one
  request for litime, six and the identity for tianpower, two for chins, none for topband: it listens for the next pushed frame, none for ecoworthy: the next A1 and A2,
  the JSON answer and the identity for felicity),
  and of a NEEY balancer (device info, settings, cells) and a SOK (C0, C1,
  C2, C4), and of an ANT board (the 7E A1 status and the device
  information; a 2019 board: the 7E A1 try unanswered, then the legacy
  read-all), in 20-byte notifications.

    BIN=build /usr/bin/python3 tests/tools/bench_ble.py [SECONDS]
"""
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import test_ble as T  # noqa: E402
from harness import Gateway, Sim, free_port, wait_until  # noqa: E402


def pct(v, p):
    return v[min(len(v) - 1, int(len(v) * p))] * 1000 if v else float("nan")


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10
    bus = T.Bus()
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = bus.address
    sa, st = Sim(protocol="jbd"), Sim(protocol="jbd")
    fake = T.Fake([T.device(T.MAC_A, sa)])
    port = free_port()
    tcp = "[pack.wire]\nprotocol = jbd\nport = tcp://127.0.0.1:%d\nunit_id = 2\npoll_interval = 0.5\n" % st.port
    t0 = time.monotonic()
    gw = Gateway(T.gw_conf(port, [T.ble_pack("a", T.MAC_A, unit=1), tcp], extra="log_level = warn\n"), port)
    try:
        wait_until(lambda: T.online(port, 1), 30)
        print("ble: first fresh data %.0f ms after start" % ((time.monotonic() - t0) * 1000))
        rec, first = [], []
        for _ in range(5):
            wait_until(lambda: fake.dev(T.MAC_A)["notifying"], 30)
            time.sleep(0.6)
            fake.ctl("disconnect %s" % T.MAC_A)
            t1 = time.monotonic()
            wait_until(lambda: fake.dev(T.MAC_A)["notifying"] is None, 5, step=0.002)
            n0 = fake.dev(T.MAC_A)["notifies"]
            wait_until(lambda: fake.dev(T.MAC_A)["notifying"], 40, step=0.005)
            rec.append(time.monotonic() - t1)
            # the first answer on the new connection
            wait_until(lambda: fake.dev(T.MAC_A)["notifies"] > n0, 10, step=0.005)
            first.append(time.monotonic() - t1)
        rec.sort()
        first.sort()
        print("ble: reconnect after a drop (backoff 1 s first), to notifications started: median %.2f s, max %.2f s; "
              "to the first answer: median %.2f s (%d drops)" % (rec[len(rec) // 2], rec[-1], first[len(first) // 2],
                                                                len(rec)))
        lat = {1: [], 2: []}
        stop = threading.Event()

        def reader():
            while not stop.is_set():
                for unit in (1, 2):
                    lat[unit].append(T.read_raw(port, unit, 290, 125)[2])

        th = threading.Thread(target=reader)
        th.start()
        end, flaps = time.monotonic() + seconds, 0
        while time.monotonic() < end:
            fake.ctl("disconnect %s" % T.MAC_A)
            flaps += 1
            time.sleep(0.3)
        stop.set()
        th.join()
        for unit, what in ((2, "tcp pack"), (1, "ble pack (0x0B while down)")):
            v = sorted(lat[unit])
            print("ble flapping %d times in %g s: Modbus reads of the %s: %d, p50 %.2f ms, p99 %.2f ms, max %.2f ms"
                  % (flaps, seconds, what, len(v), pct(v, 0.5), pct(v, 0.99), pct(v, 1.0)))
    finally:
        gw.stop()
        fake.stop()
        sa.stop()
        st.stop()
    try:
        first_reading()
    finally:
        bus.stop()


def first_reading(only=None):
    """The BLE protocols of issue 35: start to the first fresh reading of one
    pack alone (its own Connect, services, StartNotify and first poll);
    only: those protocols alone."""
    for proto, layout, name, *opts in (("litime", "litime", "L-12100BNNA70-A09683"), ("tianpower", "tianpower", "TP_1"),
                                       ("chins", "nus", "L-12V100AH-0902"), ("neey", "neey", None), ("abc", "abc", None),
                                       ("topband", "topband", None), ("ant", "ant", "ANT-BLE16ZMUB"),
                                       ("ant", "ant", "ANT-BLE16ZMUB", "dialect=legacy"),
                                       ("ecoworthy", "ecoworthy", None),
                                       ("felicity", "felicity", None), ("humsienk", "humsienk", None)):
        if only and proto not in only:
            continue
        sim = Sim(protocol=proto, packs=tuple("address=1," + o for o in opts) or ("address=1",))
        kw = {"name": name} if name else {}
        if proto == "felicity":
            kw.update(mtu=38)  # its module notifies 35-byte pieces
        fake = T.Fake([T.device(T.MAC_A, sim, layout=layout, chunk=35 if proto == "felicity" else 20, **kw)])
        port = free_port()
        t0 = time.monotonic()
        gw = Gateway(T.gw_conf(port, [T.ble_pack("a", T.MAC_A, proto)], extra="log_level = warn\n"), port)
        try:
            ok = wait_until(lambda: T.online(port, 1), 30, step=0.005)
            print("ble: %s%s first fresh data %.0f ms after start%s" % (
                proto, " (%s)" % opts[0] if opts else "", (time.monotonic() - t0) * 1000, "" if ok else " (NOT ONLINE)"))
        finally:
            gw.stop()
            fake.stop()
            sim.stop()


if __name__ == "__main__":
    main()
