#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench: ESPHome Bluetooth proxies, without a radio (the fake proxy
tests/ble/fake_esphome.py, each device bridged to its own bmsgw-sim; JBD
packs).  Figures, not assertions:

- the first reading through a proxy after start (bmsgw started to the
  pack's registers online: the API session, the device's advertisement,
  connect, services, notifications, the first poll), plaintext and Noise;
- a poll's round trip (its start to its end, bmsgw -v's "(NNN ms)" of each
  good poll) of the same JBD pack through the proxy and through BlueZ (the
  fake BlueZ on a private dbus-daemon, as bench_ble.py; skipped without
  dbus-daemon or a Bluetooth build), at the simulator's latency and at
  --latency 0 (where the path's own cost would show), and BlueZ's first
  reading beside the proxy's;
- N packs through one slot (--slots 1 on the fake, N = 2, 4, 8): the
  round's length (round_s of /api/state ble_proxies[]) and each pack's
  longest data age (its good-polls counter, as bench_ble_site.py);
- memory (VmHWM, VmRSS) of bmsgw with 3 proxies of 3 slots and 12 packs
  (4 a proxy), plaintext and Noise.

    BIN=build /usr/bin/python3 tests/tools/bench_esphome.py [SECONDS] [first|trip|slot|memory ...]
"""
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)
import test_ble as T  # noqa: E402
from bench_ble_site import Ages  # noqa: E402
from esp_harness import EspFake, new_key  # noqa: E402
from harness import Gateway, Sim, api_state, free_port, wait_until  # noqa: E402

INTERVAL = 1.0


def mac(i):
    return "A4:C1:38:00:02:%02X" % i


def memory(gw):
    return " ".join(line.split(":")[0] + " " + line.split(":")[1].strip()
                    for line in open("/proc/%d/status" % gw.p.pid) if line.startswith(("VmHWM", "VmRSS")))


def median(v):
    v = sorted(v)
    return v[len(v) // 2] if v else float("nan")


class Site:
    """Proxies (each a fake with its packs' simulators) and the bmsgw that
    reads them through them; stop() ends them all."""

    def __init__(self):
        self.sims, self.fakes, self.gw = [], [], None
        self.port, self.http = free_port(), free_port()

    def proxy(self, npacks, key=None, slots=3, sim_extra=()):
        """A proxy with npacks JBD devices; their [pack] sections."""
        first = len(self.sims) + 1
        sims = [Sim(protocol="jbd", extra=sim_extra) for _ in range(npacks)]
        self.sims += sims
        spec = {"devices": [T.device(mac(first + i), s) for i, s in enumerate(sims)]}
        fake = EspFake(spec, key, extra=["--slots", str(slots)])
        self.fakes.append(fake)
        name = "px%d" % len(self.fakes)
        text = "[ble_proxy.%s]\nhost = 127.0.0.1\nport = %d\n%s" % (
            name, fake.port, "encryption_key = %s\n" % key if key else "")
        for u in range(first, first + npacks):
            text += "[pack.p%d]\nprotocol = jbd\nport = ble://%s\nunit_id = %d\npoll_interval = %g\nadapter = %s\n" % (
                u, mac(u), u, INTERVAL, name)
        return text

    def start(self, sections, extra=()):
        conf = T.gw_conf(self.port, [sections], extra="log_level = warn\n", stale=30) + \
            "[http]\nlisten = 127.0.0.1:%d\n" % self.http
        self.gw = Gateway(conf, self.port, extra)
        return self.gw

    def online(self, t0, timeout=60):
        """Seconds from t0 until every pack is online, or None."""
        units = range(1, len(self.sims) + 1)
        ok = wait_until(lambda: all(T.online(self.port, u) for u in units), timeout, step=0.005)
        return time.monotonic() - t0 if ok else None

    def stop(self):
        for p in ([self.gw] if self.gw else []) + self.fakes + self.sims:
            p.stop()


def first_reading():
    """Start to the first reading, plaintext and Noise, three times each."""
    for key in (None, new_key()):
        took, mem = [], ""
        for _ in range(3):
            s = Site()
            try:
                sections = s.proxy(1, key)
                t0 = time.monotonic()
                s.start(sections)
                took.append(s.online(t0, 40) or float("nan"))
                mem = memory(s.gw)
            finally:
                s.stop()
        print("esphome proxy (%s): first reading %.0f ms after start (median of %d; max %.0f ms); "
              "memory with one proxy and one pack: %s" % ("Noise" if key else "plaintext", median(took) * 1000,
                                                          len(took), max(took) * 1000, mem))


def poll_times(gw, since=0):
    """The (NNN ms) of each good poll bmsgw -v logged after `since` lines."""
    lines = gw.text().splitlines()[since:]
    return [float(m.group(1)) for m in (re.search(r"pack \S+: .* \((\d+) ms\)$", l) for l in lines) if m]


def steady_polls(gw, port, seconds):
    wait_until(lambda: len(poll_times(gw)) >= 2, 40)  # past the first poll (connect and services)
    since = len(gw.text().splitlines())
    time.sleep(seconds)
    return sorted(poll_times(gw, since))


def report_polls(what, v, latency):
    what += ", simulator latency %s" % ("%s ms" % latency[1] if latency else "20-50 ms")
    if not v:
        print("esphome poll round trip via %s: no poll logged" % what)
        return
    print("esphome poll round trip via %s (JBD, start to end of a poll): %d polls, median %.0f ms, "
          "p90 %.0f ms, max %.0f ms" % (what, len(v), median(v), v[min(len(v) - 1, int(len(v) * 0.9))], v[-1]))


def round_trip_proxy(seconds, latency):
    s = Site()
    try:
        sections = s.proxy(1, sim_extra=latency)
        s.start(sections, ["-v"])
        report_polls("the proxy", steady_polls(s.gw, s.port, seconds), latency)
    finally:
        s.stop()


def have_bluez():
    r = subprocess.run([T.EXE, "--ble-scan=1"], capture_output=True, text=True)
    return subprocess.run(["sh", "-c", "command -v dbus-daemon"], capture_output=True).returncode == 0 and \
        "without Bluetooth" not in r.stdout + r.stderr


def round_trip_bluez(seconds, latency):
    if not have_bluez():
        print("esphome poll round trip via BlueZ: skipped (no dbus-daemon or no Bluetooth in this build)")
        return
    bus = T.Bus()
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = bus.address
    sim = Sim(protocol="jbd", extra=latency)
    fake = T.Fake([T.device(T.MAC_A, sim)])
    port = free_port()
    pack = T.ble_pack("a", T.MAC_A, extra="poll_interval = %g\n" % INTERVAL).replace("poll_interval = 0.5\n", "")
    gw = None
    try:
        t0 = time.monotonic()
        gw = Gateway(T.gw_conf(port, [pack], extra="log_level = warn\n", stale=30), port, ["-v"])
        if wait_until(lambda: T.online(port, 1), 40, step=0.005) and not latency:
            print("esphome, for comparison: first reading via BlueZ %.0f ms after start"
                  % ((time.monotonic() - t0) * 1000))
        report_polls("BlueZ", steady_polls(gw, port, seconds), latency)
    finally:
        for p in (gw, fake, sim, bus):
            if p:
                p.stop()


def proxy_state(s):
    st = api_state(s.http) or {}
    return (st.get("ble_proxies") or [{}])[0]


def one_slot(n, seconds):
    """n packs through one slot: the round's length and each pack's
    longest data age over `seconds` (at least three rounds)."""
    s = Site()
    try:
        sections = s.proxy(n, slots=1)
        t0 = time.monotonic()
        s.start(sections)
        up = s.online(t0, 30 + 5 * n)
        rounds = []
        ages = Ages(s.port, n)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ages.run(0.5)
            rounds.append(proxy_state(s).get("round_s"))
        w = ages.run(0)
        r = [x for x in rounds if x]
        per = sorted(w.values()) or [float("nan")]
        links = s.fakes[0].state().get("max_connected")
        print("esphome %d packs through one slot (poll_interval %g s, %g s): all online %s after start; round_s "
              "median %.1f s, max %.1f s; longest age of a pack's data: median %.2f s, worst %.2f s; "
              "BLE links at once: %s" % (n, INTERVAL, seconds, "%.1f s" % up if up is not None else "NEVER",
                                         median(r) if r else float("nan"), max(r) if r else float("nan"),
                                         per[len(per) // 2], per[-1], links))
    finally:
        s.stop()


def memory_site(seconds, key=None):
    """3 proxies of 3 slots, 4 packs each."""
    s = Site()
    try:
        sections = "".join(s.proxy(4, key, slots=3) for _ in range(3))
        t0 = time.monotonic()
        s.start(sections)
        up = s.online(t0, 90)
        time.sleep(seconds)
        online = sum(T.online(s.port, u) for u in range(1, 13))
        print("esphome site (3 %s proxies of 3 slots, 12 packs): all online %s after start; %g s later %d/12 "
              "online; memory %s" % ("Noise" if key else "plaintext", "%.1f s" % up if up is not None else "NEVER",
                                     seconds, online, memory(s.gw)))
    finally:
        s.stop()


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20
    only = sys.argv[2:]
    if not only or "first" in only:
        first_reading()
    if not only or "trip" in only:
        for latency in ((), ("--latency", "0")):
            round_trip_proxy(seconds, latency)
            round_trip_bluez(seconds, latency)
    for n in (2, 4, 8):
        if not only or "slot" in only:
            one_slot(n, max(seconds, 3 * n))
    if not only or "memory" in only:
        memory_site(seconds)
        memory_site(seconds, new_key())


if __name__ == "__main__":
    main()
