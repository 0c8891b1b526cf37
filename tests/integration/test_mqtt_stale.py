#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A member of the bank that goes stale or comes back, on MQTT: never an
old value shown as current.  The real bmsgw against the simulator (two Daly
packs a and b, a bank, [limits] bank_stale = block, [mqtt] victron) and a
real Mosquitto; publish_interval = 60 s, far longer than stale_after, so
that nothing here can come from the periodic publish:

- b silent: its availability goes offline, its retained state says
  "online": false, and the bank's state is published again with b left out (packs_online 1, a's current alone), not
  at the next publish_interval;
- the bank's Victron message then says 0 A both ways (its Info: the bank is
  fail-safe with bank_stale = block), with the CVL kept: the driver keeps
  the last Info it had, so leaving Info out kept the old limits;
- b answering again with other values (SOC 90 %): its state with them is
  published before its availability says online, never the retained state
  from before the outage under an online availability.
Prints "N passed, N failed"."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Gateway, Sim, api_state, free_port, wait_until  # noqa: E402
from mqtt_harness import Broker, Subscriber  # noqa: E402

c = Checks()
P = "bmsgw"


def conf(gw_port, http_port, sim_port, broker_port):
    packs = "".join("""[pack.%s]
protocol = daly
port = tcp://127.0.0.1:%d
address = %d
cells = 16
poll_interval = 0.3
timeout = 0.4
retries = 0
""" % (name, sim_port, addr) for name, addr in (("a", 1), ("b", 2)))
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 3
state_file = none
%s[bank]
packs = a, b
[limits]
bank_stale = block
[http]
listen = 127.0.0.1:%d
[history]
file = none
[mqtt]
host = 127.0.0.1
port = %d
client_id = stale1
publish_interval = 60
victron = true
""" % (gw_port, packs, http_port, broker_port)


def info(m):
    return (m.json() or {}).get("Info") or {}


def check_member_gone(sub, sim, http):
    print("== b silent: the bank at once, its Victron Info fail-safe")
    st = sub.wait_for(P + "/bank/state", lambda m: (m.json() or {}).get("packs_online") == 2, timeout=20)
    v = sub.wait_for(P + "/bank/victron", lambda m: info(m).get("MaxChargeCurrent", 0) > 0, timeout=20)
    c.ok(st and v, "the bank's state with both packs and its Victron Info with limits")
    if not (st and v):
        return
    cvl = info(v).get("MaxChargeVoltage")
    t0 = time.monotonic()
    sim.ctl("fault 2 silent")
    off = sub.wait_for(P + "/b/availability", lambda m: m.text() == "offline", since=t0, timeout=20)
    c.ok(off, "b's availability goes offline")
    if not off:
        return
    gone = sub.wait_for(P + "/b/state", lambda m: (m.json() or {}).get("online") is False, since=t0, timeout=20)
    c.ok(gone, "b's retained state is published again with \"online\": false")
    # the same turn of the loop publishes the bank's state again: well
    # before publish_interval (60 s) would
    st = sub.wait_for(P + "/bank/state", lambda m: (m.json() or {}).get("packs_online") == 1, since=off.t - 1,
                      timeout=20)
    c.ok(st, "the bank's state is published again with b left out (packs_online 1)")
    if st:
        a = api_state(http)["packs"][0]
        c.near(st.json().get("current"), a.get("current"), 0.05, "its current is a's alone (%s A)" % a.get("current"))
    v = sub.wait_for(P + "/bank/victron", lambda m: "Info" in (m.json() or {}), since=off.t - 1, timeout=20)
    c.ok(v, "the bank's Victron message with b stale")
    if v:
        i = info(v)
        c.eq((i.get("MaxChargeCurrent"), i.get("MaxDischargeCurrent"), i.get("ChargeRequest")), (0, 0, 0),
             "its Info: 0 A both ways, no request (bank_stale = block: fail-safe)")
        c.near(i.get("MaxChargeVoltage"), cvl, 0.01, "... the CVL kept, never 0 (%s V)" % cvl)
    late = [m for m in sub.all(P + "/bank/victron", since=off.t) if info(m).get("MaxChargeCurrent", 0) > 0]
    c.eq(len(late), 0, "no bank Victron message after b went offline carries a charge current")


def check_member_back(sub, sim, http):
    print("== b back with other values: its state before its availability")
    c.eq(sim.ctl("set 2 soc 90"), "ok", "the simulator's b: SOC 90 %")
    before = sub.latest(P + "/b/state")
    c.ok(before and abs(before.json().get("soc", 0) - 90) > 5, "b's last state is from before the outage")
    t0 = time.monotonic()
    sim.ctl("fault 2 none")
    on = sub.wait_for(P + "/b/availability", lambda m: m.text() == "online", since=t0, timeout=20)
    c.ok(on, "b's availability goes online")
    if not on:
        return
    states = [m for m in sub.all(P + "/b/state") if m.t <= on.t]
    last = states[-1].json() if states else {}
    c.near(last.get("soc"), 90, 0.5, "the last state of b before its online availability has the new SOC (%s)"
           % last.get("soc"))
    st = sub.wait_for(P + "/bank/state", lambda m: (m.json() or {}).get("packs_online") == 2, since=on.t - 1,
                      timeout=20)
    c.ok(st, "the bank's state with b again, well before publish_interval")
    v = sub.wait_for(P + "/bank/victron", lambda m: info(m).get("MaxChargeCurrent") is not None, since=on.t - 1,
                     timeout=20)
    c.ok(v, "the bank's Victron message with b back")
    c.ok(wait_until(lambda: api_state(http)["packs"][1].get("online"), 10), "/api/state: b online")


def main():
    broker = Broker()
    sim = Sim("daly", packs=("address=1,cells=16,soc=55,current=10", "address=2,cells=16,soc=60,current=-4"))
    gw_port, http = free_port(), free_port()
    gw = Gateway(conf(gw_port, http, sim.port, broker.port), gw_port)
    try:
        with Subscriber(broker, (P + "/#",)) as sub:
            check_member_gone(sub, sim, http)
            check_member_back(sub, sim, http)
    finally:
        gw.stop()
        sim.stop()
        broker.cleanup()
        if c.failed:
            gw.dump(80)
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
