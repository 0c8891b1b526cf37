#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: parts=3
"""[mqtt] backfill end to end: two real Mosquitto brokers, the site one
(which bmsgw publishes to) bridged to a central one, a subscriber on the
central broker.

- a minute's outage: the site broker is stopped for a minute (restarted
  just before bmsgw's backoff tries again, 61 s after the loss: the retry
  steps are 1, 2, 4 ... 30 s) and the samples the history took meanwhile
  arrive at the central broker afterwards on P/NAME/history, each once,
  oldest first, every one the history holds between the first and the last
  sent (no gap), covering the outage, values as /api/history.csv gives
  them; the backlog shows in /api/state and /metrics while owed, 0 or 1 a
  unit after (every sample goes on P/NAME/history as the history takes it,
  before, after, and the ones of the outage first);
  a Modbus client polling all along is answered every time;
- a second outage during the backfill (backfill_rate = 4, two units
  sampled every second, so it takes a while): the backfill resumes where the acknowledgements left it,
  nothing lost, nothing twice;
- --check refuses backfill without a history;
- the central broker down: the site broker bridges with bmsgw-mqtt(7)'s
  "A FLEET OF SITES" bridge.conf as the man page writes it (only the
  address and the TLS line replaced), bmsgw with [gateway] site = cabin
  publishing under its default prefix bmsgw/cabin; the central broker is
  stopped for a minute and started again, and a subscriber there with a
  persistent session (clean session false, QoS 1, reconnecting) gets every
  history sample of the outage once, in order (but for a sample of the
  bridge's reconnection, which Mosquitto 2.0 may let overtake its queue:
  bmsgw-mqtt(7) says so), no gap against /api/history.csv; bmsgw never
  lost its own broker, and a Modbus client was answered throughout.

Each part runs its own brokers and gateway (tests/run.sh runs them as
three steps).
"""
import csv
import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BIN, ROOT, Checks, Gateway, Sim, api_state, free_port, my_part, wait_until,  # noqa: E402
                     write_conf)
from mqtt_harness import Broker, Subscriber  # noqa: E402

from pymodbus.client import ModbusTcpClient  # noqa: E402

c = Checks()
UNITS = ("house", "shed")


def conf(gw_port, http_port, sim_port, broker_port, hist, rate):
    packs = "".join("[pack.%s]\nprotocol = daly\nport = tcp://127.0.0.1:%d\naddress = %d\npoll_interval = 0.5\n"
                    % (name, sim_port, i + 1) for i, name in enumerate(UNITS))
    return """[gateway]
listen = 127.0.0.1:%d
state_file = none
%s[http]
listen = 127.0.0.1:%d
[history]
file = %s
interval = 1
[mqtt]
host = 127.0.0.1
port = %d
client_id = site1
topic_prefix = fleet/site1
discovery = false
keepalive = 5
backfill = true
backfill_rate = %d
""" % (gw_port, packs, http_port, hist, broker_port, rate)


def fetch(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
        return r.read().decode()


def history_rows(http_port, unit, t0, t1):
    """{unix time: row} of the history's samples of unit over [t0, t1)."""
    out = {}
    text = fetch(http_port, "/api/history.csv?unit=%s&from=%d&to=%d" % (unit, t0, t1))
    for r in csv.DictReader(io.StringIO(text)):
        out[int(r["unix"])] = r
    return out


class Poller(threading.Thread):
    """A Modbus client reading every 0.2 s until stopped: answers, failures
    and the slowest answer."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.ok, self.failed, self.slowest = port, 0, 0, 0.0
        self._halt = threading.Event()

    def run(self):
        cl = ModbusTcpClient("127.0.0.1", port=self.port, timeout=3)
        cl.connect()
        while not self._halt.is_set():
            t = time.monotonic()
            try:
                r = cl.read_holding_registers(290, count=10, slave=1)
                good = not r.isError()
            except Exception:  # noqa: BLE001
                good = False
                cl.close()
                cl.connect()
            self.slowest = max(self.slowest, time.monotonic() - t)
            if good:
                self.ok += 1
            else:
                self.failed += 1
            self._halt.wait(0.2)
        cl.close()

    def stop(self):
        self._halt.set()
        if self.is_alive():
            self.join(5)


def backfilled(sub, unit):
    """The times of unit's history messages at the central broker, in arrival order."""
    return [m.json()["time"] for m in sub.all("fleet/site1/%s/history" % unit)]


def crossed(sub, since):
    """Every unit has a sample taken at `since` or later at the central
    broker: bmsgw sends a unit's samples oldest first on one session, and
    the bridge forwards them in order, so every earlier one has crossed."""
    return wait_until(lambda: all(max(backfilled(sub, u) or [0]) >= since for u in UNITS), 15)


def drained(http_port):
    """Connected and caught up: the steady state owes 0 or 1 sample a unit."""
    m = api_state(http_port).get("mqtt") or {}
    return m.get("connected") and m.get("backlog", 99) <= len(UNITS)


def redelivered(msgs, t_lost):
    """QoS 1 is at least once: the messages in flight when the central broker
    stops (the bridge had no PUBACK yet, or the subscriber's PUBACK was not
    taken) come again after its restart, and on a loaded machine the bridge's
    window may reach some seconds back.  Those repeats (the same sample: its
    time already seen with the very same payload) are left out and counted;
    any other repeat (a time again with other values) stays and fails the
    checks.  t_lost: when the broker stopped, for the report."""
    first, out, again = {}, [], []
    for m in msgs:
        js = m.json()
        t = js["time"]
        if t in first and first[t] == js:
            again.append(round(t - t_lost))
            continue
        first.setdefault(t, js)
        out.append(m)
    return out, again

def check_unit(sub, http_port, unit, t_lost, t_back, what, prefix="fleet/site1", central=False):
    """Each sample of the outage arrived once, oldest first, no gap against
    the history, values as the history has them."""
    msgs = sub.all("%s/%s/history" % (prefix, unit))
    if central:
        msgs, again = redelivered(msgs, t_lost)
        c.ok(len(again) <= 40, "%s: %s: %d QoS 1 redeliveries of the messages in flight at the stop (s after it: %s)"
             % (what, unit, len(again), again))
    times = [m.json()["time"] for m in msgs]
    c.ok(len(times) > 0, "%s: %s: history messages arrived (%d)" % (what, unit, len(times)))
    if not times:
        return
    c.ok(all(m.qos == 1 for m in msgs), "%s: %s: QoS 1" % (what, unit))
    c.ok(len(set(times)) == len(times), "%s: %s: every sample once (%d, %d distinct)" %
         (what, unit, len(times), len(set(times))))
    if central:
        # Mosquitto 2.0's bridge may let a message published while it
        # reconnects overtake what it queued during the outage (seen: one
        # sample of the reconnection among the outage's); the man page says
        # so (a consumer orders by time).  Only such a sample may overtake:
        # one taken after the central broker was back, arriving before an
        # older one.
        later = [min(times[i + 1:]) for i in range(len(times) - 1)] + [float("inf")]
        ahead = [t for t, rest in zip(times, later) if t > rest]
        c.ok(all(t >= t_back - 1 for t in ahead),
             "%s: %s: in order but for samples of the bridge's reconnection (%d overtook older ones: %s s after "
             "the loss; the broker was back at %.0f s)"
             % (what, unit, len(ahead), [round(t - t_lost) for t in ahead], t_back - t_lost))
        times = sorted(times)
    back = [i for i in range(1, len(times)) if times[i] <= times[i - 1]]
    c.ok(not back, "%s: %s: times strictly increasing" % (what, unit))
    for i in back[:5]:
        print("     out of order at %d of %d: %s (s after the loss; arrived %s s after the first)"
              % (i, len(times), [round(t - t_lost) for t in times[max(0, i - 3):i + 3]],
                 [round(m.t - msgs[0].t, 1) for m in msgs[max(0, i - 3):i + 3]]))
    rows = history_rows(http_port, unit, min(times) - 5, max(times) + 5)
    want = [t for t in sorted(rows) if min(times) <= t <= max(times)]
    c.ok(want == times, "%s: %s: no gap against the history between the first and the last sent (%d vs %d)"
         % (what, unit, len(times), len(want)))
    # the outage is covered: samples from its start to its end were sent
    inside = [t for t in sorted(rows) if t_lost + 2 <= t <= t_back - 2]
    missing = sorted(set(inside) - set(times))
    c.ok(not missing, "%s: %s: every sample of the outage sent (%d in it; missing %s)"
         % (what, unit, len(inside), missing[:5]))
    # values as the history gives them
    same = True
    for m in msgs:
        p, r = m.json(), rows.get(m.json()["time"])
        if r is None or abs(float(r["voltage_v"] or 0) - p.get("voltage", 0)) > 0.011 or \
                abs(float(r["soc_pct"] or 0) - p.get("soc", 0)) > 0.11 or p.get("online") != (r["online"] == "1"):
            same = False
            print("     differs:", p, dict(r) if r else None)
            break
    c.ok(same, "%s: %s: values as /api/history.csv gives them (time, online, soc, voltage)" % (what, unit))


def reload(gw, old, new):
    """Rewrite the configuration (old -> new) and SIGHUP: the log line of the reload."""
    with open(gw.conf) as f:
        text = f.read()
    with open(gw.conf, "w") as f:
        f.write(text.replace(old, new))
    n = len(gw.text().splitlines())
    gw.p.send_signal(signal.SIGHUP)
    got = wait_until(lambda: [ln for ln in gw.text().splitlines()[n:] if re.search(r"reload #\d+: applied|reload #\d+ "
                                                                                   "failed", ln)], 10)
    return got[0] if got else ""


def toggle(gw, http_port):
    """backfill and backfill_rate are live keys: off and on again by a reload,
    the client stays connected and owes nothing for the time it was off."""
    mq = lambda: api_state(http_port).get("mqtt") or {}  # noqa: E731
    before = mq().get("connects")
    line = reload(gw, "backfill = true\n", "backfill = false\n")
    c.ok("applied" in line and wait_until(lambda: mq().get("backfill") is False, 5),
         "a reload switches backfill off (%s)" % line.strip()[-60:])
    wait_until(lambda: False, 2.5)  # samples taken while it is off
    line = reload(gw, "backfill = false\nbackfill_rate = 50\n", "backfill = true\nbackfill_rate = 200\n")
    c.ok("applied" in line and wait_until(lambda: mq().get("backfill") is True, 5), "... and on again, at 200 a second")
    c.ok(mq().get("connects") == before and mq().get("backlog", 99) <= len(UNITS),
         "the client kept its connection and owes nothing for the time it was off (%s)" % mq().get("backlog"))


def stop_clean(gw, what):
    rc = gw.stop()
    c.ok(rc == 0 and "Sanitizer" not in gw.text(), "%s: bmsgw stopped cleanly (exit %s)" % (what, rc))


def setup(tmp, rate):
    central = Broker(name="central")
    site = Broker(name="site", bridge_to=central, bridge_topics=("fleet/#",))
    site.wait_bridge()
    sub = Subscriber(central, topics=("fleet/site1/+/history",), qos=1)
    sim = Sim("daly", packs=("address=1,cells=8,soc=50,current=10", "address=2,cells=8,soc=70,current=-5"))
    gw_port, http_port = free_port(), free_port()
    hist = os.path.join(tmp, "h.db")
    gw = Gateway(conf(gw_port, http_port, sim.port, site.port, hist, rate), gw_port)
    c.ok(wait_until(lambda: (api_state(http_port).get("mqtt") or {}).get("connected"), 20), "bmsgw connected")
    return central, site, sub, sim, gw, gw_port, http_port


def outage(site, seconds):
    """Stop the site broker and start it again `seconds` later."""
    site.stop()
    t = time.time()
    time.sleep(seconds)  # the outage itself is the point: the history samples meanwhile
    site.start()
    return t, time.time()


def minute(tmp):
    central, site, sub, sim, gw, gw_port, http_port = setup(tmp, 50)
    poller = Poller(gw_port)
    try:
        # some live time, then the outage
        c.ok(wait_until(lambda: (api_state(http_port).get("history") or {}).get("written", 0) >= 6, 15),
             "history samples written before the outage")
        c.ok(wait_until(lambda: (api_state(http_port).get("gateway") or {}).get("packs_online") == len(UNITS), 10),
             "the packs are online")
        poller.start()
        t_lost = time.time()
        site.stop()
        c.ok(wait_until(lambda: not (api_state(http_port).get("mqtt") or {}).get("connected"), 10),
             "bmsgw saw the broker go")
        # restarted before the attempt 61 s after the loss (1+2+4+8+16+30)
        while time.time() < t_lost + 57:
            time.sleep(0.5)
        st = api_state(http_port).get("mqtt") or {}
        c.ok(st.get("backfill") is True and st.get("backlog", 0) >= 100,
             "during the outage /api/state mqtt.backlog counts the samples owed (%s, by unit %s)"
             % (st.get("backlog"), st.get("backlog_units")))
        met = fetch(http_port, "/metrics")
        c.ok("bmsgw_mqtt_backlog " in met, "/metrics has bmsgw_mqtt_backlog")
        site.start()
        t_back = time.time()
        site.wait_bridge()
        c.ok(wait_until(lambda: drained(http_port), 30), "connected again, the backlog drained (%.0f s)"
             % (time.time() - t_back))
        t_drained = time.time()
        c.ok(crossed(sub, t_drained), "a sample taken after the drain crossed the bridge for every unit")
        for u in UNITS:
            check_unit(sub, http_port, u, t_lost, t_back, "a minute's outage")
        n = sum(len(backfilled(sub, u)) for u in UNITS)
        st = api_state(http_port).get("mqtt") or {}
        c.ok(st.get("backfilled", 0) >= n, "mqtt.backfilled counts the acknowledged samples (%s >= %d)"
             % (st.get("backfilled"), n))
        print("     backfill: %d samples of a %.0f s outage drained %.1f s after the broker came back"
              % (n, t_back - t_lost, t_drained - t_back))
        poller.stop()
        c.ok(poller.failed == 0 and poller.ok > 100,
             "a Modbus client was answered throughout (%d answers, %d failures, slowest %.3f s)"
             % (poller.ok, poller.failed, poller.slowest))
        # live goes on after the backfill, and so do the history samples, each as taken
        subl = Subscriber(central, topics=("fleet/site1/house/state",))
        c.ok(subl.wait_for("fleet/site1/house/state", timeout=10) is not None, "live states carry on")
        subl.close()
        last = max(backfilled(sub, "house"))
        c.ok(wait_until(lambda: max(backfilled(sub, "house")) >= last + 3, 10),
             "the history samples carry on after the backfill, as the history takes them")
        t_off = time.time()
        toggle(gw, http_port)
        t_on = time.time()
        # a sample taken after it is on: one owed for the time it was off would have gone before it
        wait_until(lambda: all(max(backfilled(sub, u)) > t_on for u in UNITS), 10)
        off = [t for u in UNITS for t in backfilled(sub, u) if t_off + 1.5 < t < t_on - 1.5]
        c.ok(not off, "nothing on the history topics for the time backfill was off (%s)" % off[:5])
        after = [t for t in backfilled(sub, "house") if t > t_on]
        c.ok(len(after) >= 1, "... and the samples again once it is on (%d)" % len(after))
        if c.failed:
            gw.dump(40)
    finally:
        poller.stop()
        stop_clean(gw, "a minute's outage")
        sim.stop()
        sub.close()
        site.cleanup()
        central.cleanup()


def resume(tmp):
    central, site, sub, sim, gw, gw_port, http_port = setup(tmp, 4)
    try:
        wait_until(lambda: (api_state(http_port).get("history") or {}).get("written", 0) >= 4, 15)
        t_lost = time.time()
        site.stop()
        wait_until(lambda: not (api_state(http_port).get("mqtt") or {}).get("connected"), 10)
        while time.time() < t_lost + 13:  # the attempt 15 s after the loss (1+2+4+8)
            time.sleep(0.5)
        site.start()
        t_back = time.time()
        site.wait_bridge()
        # part of the backlog sent (4 a second, the history takes 2), then a second outage
        before = sum(len(backfilled(sub, u)) for u in UNITS)
        c.ok(wait_until(lambda: sum(len(backfilled(sub, u)) for u in UNITS) >= before + 6, 25),
             "the backfill started at 4 samples a second")
        mid = sum(len(backfilled(sub, u)) for u in UNITS)
        st = api_state(http_port).get("mqtt") or {}
        c.ok(st.get("backlog", 0) > 0, "a backlog still owed when the second outage begins (%s)" % st.get("backlog"))
        t2 = time.time()
        site.stop()
        wait_until(lambda: not (api_state(http_port).get("mqtt") or {}).get("connected"), 10)
        while time.time() < t2 + 5:  # the attempt 7 s after (1+2+4)
            time.sleep(0.5)
        site.start()
        t_back2 = time.time()
        site.wait_bridge()
        c.ok(wait_until(lambda: drained(http_port), 60), "after the second outage the backlog drained (%.0f s)"
             % (time.time() - t_back2))
        c.ok(crossed(sub, time.time()), "then a newer sample crossed the bridge for every unit")
        print("     %d samples sent before the second outage" % mid)
        for u in UNITS:
            check_unit(sub, http_port, u, t_lost, t_back, "an outage during the backfill")
            # the second outage's own samples too
            times = set(backfilled(sub, u))
            rows = history_rows(http_port, u, int(t2), int(t_back2))
            inside = [t for t in rows if t2 + 2 <= t <= t_back2 - 2]
            c.ok(all(t in times for t in inside), "%s: the second outage's samples sent too (%d)" % (u, len(inside)))
        if c.failed:
            gw.dump(60)
    finally:
        stop_clean(gw, "an outage during the backfill")
        sim.stop()
        sub.close()
        site.cleanup()
        central.cleanup()


def check_needs_history(tmp):
    path = write_conf("[gateway]\nlisten = 127.0.0.1:%d\nstate_file = none\n[pack.house]\nprotocol = daly\n"
                      "port = tcp://127.0.0.1:%d\n[mqtt]\nhost = 127.0.0.1\nbackfill = true\n"
                      % (free_port(), free_port()))
    out = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "-c", path, "--check"], capture_output=True,
                         text=True, timeout=30)
    c.ok(out.returncode != 0 and "backfill" in out.stderr and "history" in out.stderr,
         "--check refuses backfill without a history: %s" % out.stderr.strip()[:240])
    os.unlink(path)


def bridge_recipe():
    """bmsgw-mqtt(7) "A FLEET OF SITES": the bridge.conf block, as roff gives it."""
    with open(os.path.join(ROOT, "conf", "bmsgw-mqtt.7")) as f:
        man = f.read()
    sect = man.split("\n.SH A FLEET OF SITES\n", 1)[1].split("\n.SH ", 1)[0]
    block = sect.split("\n.EX\n", 1)[1].split("\n.EE\n", 1)[0]
    return block.replace("\\-", "-").replace("\\e", "\\")


def bridge_conf(central, store):
    """The recipe for this machine: only the address and the TLS line are
    replaced (each must be there once), comments dropped; the site broker's
    persistence file goes to `store`."""
    text = bridge_recipe()
    subs = [("address central.example.net:8883", "address 127.0.0.1:%d" % central.port),
            ("bridge_cafile /etc/mosquitto/ca.pem\n", "")]
    for old, new in subs:
        c.ok(text.count(old) == 1, "the man page's bridge.conf has %r once" % old.strip())
        text = text.replace(old, new)
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return ["persistence_location %s/" % store] + lines


def persistent(broker_dir):
    store = os.path.join(broker_dir, "store")
    os.mkdir(store)
    os.chmod(store, 0o777)  # mosquitto started as root writes it as user mosquitto
    return store


def central_down(tmp):
    """The central broker stopped for a minute behind the man page's bridge."""
    central = Broker(name="central")
    central.stop()
    central._extra = ["persistence true", "persistence_location %s/" % persistent(central.dir)]
    central.start()  # the subscriber's session survives the central broker's restart
    site = Broker(name="site")
    site.stop()
    site._extra = bridge_conf(central, persistent(site.dir))
    site.start()
    c.ok(central.wait_log("New bridge connected", 20), "the site broker bridges with the man page's configuration")
    sub = Subscriber(central, topics=("bmsgw/cabin/+/history",), qos=1, client_id="fleet-history",
                     clean_session=False)
    sim = Sim("daly", packs=("address=1,cells=8,soc=50,current=10", "address=2,cells=8,soc=70,current=-5"))
    gw_port, http_port = free_port(), free_port()
    text = conf(gw_port, http_port, sim.port, site.port, os.path.join(tmp, "h3.db"), 50)
    text = text.replace("state_file = none\n", "state_file = none\nsite = cabin\n")
    text = text.replace("client_id = site1\ntopic_prefix = fleet/site1\n", "")
    gw = Gateway(text, gw_port)
    poller = Poller(gw_port)
    mq = lambda: api_state(http_port).get("mqtt") or {}  # noqa: E731
    try:
        c.ok(wait_until(lambda: mq().get("connected"), 20), "bmsgw connected to the site broker")
        c.ok(wait_until(lambda: len(sub.all("bmsgw/cabin/house/history")) >= 3, 20),
             "history samples reach the central broker under bmsgw/cabin (site = cabin)")
        connects = mq().get("connects")
        poller.start()
        t_lost = time.time()
        central.stop()
        while time.time() < t_lost + 60:
            time.sleep(0.5)  # the central broker's outage is the point
        central.start()
        t_back = time.time()
        c.ok(wait_until(lambda: all(history_rows(http_port, u, int(t_back), int(t_back) + 100)
                                    and max(backfilled_p(sub, "bmsgw/cabin", u) or [0]) >= int(t_back) + 2
                                    for u in UNITS), 45),
             "after the central broker is back, samples newer than its restart arrive (%.0f s)"
             % (time.time() - t_back))
        wait_until(lambda: False, 1.0)
        for u in UNITS:
            check_unit(sub, http_port, u, t_lost, t_back, "the central broker down", prefix="bmsgw/cabin",
                       central=True)
        c.ok(mq().get("connects") == connects and mq().get("connected"),
             "bmsgw kept its own broker throughout (connects %s)" % mq().get("connects"))
        poller.stop()
        c.ok(poller.failed == 0 and poller.ok > 100,
             "a Modbus client was answered throughout (%d answers, %d failures, slowest %.3f s)"
             % (poller.ok, poller.failed, poller.slowest))
        if c.failed:
            gw.dump(30)
            site.dump(30)
            central.dump(30)
    finally:
        poller.stop()
        stop_clean(gw, "the central broker down")
        sim.stop()
        sub.close()
        site.cleanup()
        central.cleanup()


def backfilled_p(sub, prefix, unit):
    return [m.json()["time"] for m in sub.all("%s/%s/history" % (prefix, unit))]


def main():
    import shutil
    import tempfile
    tmp = tempfile.mkdtemp(prefix="bmsgw-backfill-")
    try:
        if my_part():
            minute(tmp)
        if my_part():
            resume(tmp)
            check_needs_history(tmp)
        if my_part():
            central_down(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
