#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench: [venus] on a private dbus-daemon (a com.victronenergy.settings
of tests/integration/venus_settings.py beside it).

1. A pack's change on D-Bus after its poll: the simulator's SOC of a pack
   set anew TRIALS times (argument 2, default 10); for each, the time from
   the poll that read it (its end: /metrics bmsgw_pack_data_age_seconds read
   at once after the signal, taken off the moment it was read) to the
   PropertiesChanged of /Soc that venus_watch.py received (the goal: within
   1 s).
2. bmsgw's CPU with 16 packs' services and the bank's (16 Daly packs on
   one simulated RS485 bus, polled as fast as the bus goes, each pack's
   current set anew every second so that every poll changes its current,
   power and cells) over
   SECONDS (argument 1, default 20) after a warm-up, against the same
   configuration without [venus]: the difference is the services' (the
   goal: at most 2 % of one core); the dbus-daemon's CPU beside it.
CPU = utime + stime from /proc.  Figures, not assertions."""
import json
import os
import re
import statistics
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
from harness import BIN, ROOT, RUN_DIR, Gateway, Proc, Sim, control_line, free_port, wait_until  # noqa: E402
from venus_bus import SVC, Bus, Client, Watch  # noqa: E402

PY = "/usr/bin/python3"


def cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


def conf(sim_port, gw, http, npacks, bus):
    text = "[gateway]\nlisten = 127.0.0.1:%d\nstate_file = none\nlog_level = warn\nstale_after = 30\n" % gw
    for i in range(1, npacks + 1):
        text += ("[pack.p%d]\nprotocol = daly\nport = tcp://127.0.0.1:%d\naddress = %d\npoll_interval = 1\n"
                 "timeout = 0.3\nretries = 1\n" % (i, sim_port, i))
    text += "[bank]\n[limits]\nchemistry = lfp\n[http]\nlisten = 127.0.0.1:%d\n" % http
    if bus:
        text += "[venus]\nbus = %s\n" % bus.address
    return text


def moving_sim(npacks):
    """The simulator with its values moving (no --static), each cell's
    resistance making its voltage follow the current that churn() moves:
    every poll changes the current, the power and every cell."""
    port, ctl = free_port(), free_port()
    args = [os.path.join(ROOT, BIN, "bmsgw-sim"), "--protocol", "daly", "--control", "127.0.0.1:%d" % ctl,
            "--tcp", "127.0.0.1:%d" % port]
    for i in range(1, npacks + 1):
        args += ["--pack", "address=%d,cells=16,soc=%d,current=%d,capacity=100,r_mohm=3" % (i, 40 + i, i - 8)]
    p = Proc(args, "sim")
    p.port, p.ctl_port = port, ctl
    wait_until(lambda: os.path.exists("/proc/%d" % p.p.pid), 5)
    return p


def churn(sim, npacks, k):
    """Every pack's current anew (k: the round)."""
    for i in range(1, npacks + 1):
        control_line(sim.ctl_port, "set %d current %g" % (i, ((i * 7 + k * 3) % 40) - 20 + 0.1 * k))


def age(http, pack):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % http, timeout=5) as r:
        text = r.read().decode()
    t = time.monotonic()
    m = re.search(r'^bmsgw_pack_data_age_seconds\{pack="%s"\} (\S+)$' % pack, text, re.M)
    return float(m.group(1)), t


def latency(trials):
    bus = Bus(os.path.join(RUN_DIR, "bench-bus.sock"))
    Proc([PY, os.path.join(ROOT, "tests/integration/venus_settings.py"), bus.address], "settings")
    sim = Sim(packs=("address=1,cells=16,soc=50,current=-5,capacity=100",))
    gw_port, http = free_port(), free_port()
    text = conf(sim.port, gw_port, http, 1, bus).replace("[bank]\n", "")
    watch = Watch(bus.address)
    gw = Gateway(text, gw_port)
    cl = Client(bus.address)
    wait_until(lambda: cl.names() == [SVC + "p1"], 20)
    owner = cl.owner(SVC + "p1")
    got = []
    for k in range(trials):
        soc = 20.0 + k
        t0 = time.monotonic()
        sim.ctl("set 1 soc %g" % soc)

        def seen():
            return watch.find(lambda d: d["sig"] == "P" and d["sender"] == owner and d["path"] == "/Soc"
                              and d["value"] == soc, t0)
        if not wait_until(seen, 10, step=0.005):
            continue
        a, t_read = age(http, "p1")
        got.append((seen()["t"] - (t_read - a)) * 1000)
    gw.stop()
    bus.stop()
    if got:
        print("venus: a pack's change on D-Bus after its poll: median %.1f ms, max %.1f ms over %d polls "
              "(goal: within 1 s)" % (statistics.median(got), max(got), len(got)))


def cpu_run(npacks, seconds, with_venus):
    bus = Bus(os.path.join(RUN_DIR, "bench-bus2.sock")) if with_venus else None
    if bus:
        Proc([PY, os.path.join(ROOT, "tests/integration/venus_settings.py"), bus.address], "settings")
    sim = moving_sim(npacks)
    gw_port, http = free_port(), free_port()
    gw = Gateway(conf(sim.port, gw_port, http, npacks, bus), gw_port)
    try:
        if bus:
            cl = Client(bus.address)
            wait_until(lambda: len(cl.names()) == npacks + 1, 60)
            services = len(cl.names())
        def state():
            return json.loads(urllib.request.urlopen("http://127.0.0.1:%d/api/state" % http, timeout=5).read())
        wait_until(lambda: sum(1 for p in state()["packs"] if p.get("online")) == npacks, 60)
        time.sleep(2)
        st = state()
        online = sum(1 for p in st["packs"] if p.get("online"))
        dpid = bus.p.pid if bus else None
        c0, d0, t0 = cpu(gw.p.pid), cpu(dpid) if dpid else 0, time.time()
        k = 0
        while time.time() < t0 + seconds:
            churn(sim, npacks, k)
            k += 1
            time.sleep(max(0.0, min(1.0, t0 + seconds - time.time())))
        dt = time.time() - t0
        used = 100.0 * (cpu(gw.p.pid) - c0) / dt
        dused = 100.0 * (cpu(dpid) - d0) / dt if dpid else 0
        sig = sum(u["signals"] for u in (st.get("venus") or {}).get("services", []))
        if bus:
            st2 = state()
            sig = sum(u["signals"] for u in st2["venus"]["services"]) - sig
            return used, dused, online, services, sig / dt
        return used, 0, online, 0, 0
    finally:
        gw.stop()
        sim.stop()
        if bus:
            bus.stop()


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20
    trials = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    latency(trials)
    off, _, online0, _, _ = cpu_run(16, seconds, False)
    on, dbusd, online1, services, rate = cpu_run(16, seconds, True)
    print("venus: bmsgw's CPU with 16 packs polled every second: %.2f %% of a core without [venus], %.2f %% with "
          "its %d services (the services: %.2f %%; goal: at most 2 %%), %.0f signals a second; the dbus-daemon "
          "%.2f %% (packs online %d, %d)" % (off, on, services, on - off, rate, dbusd, online0, online1))


if __name__ == "__main__":
    main()
