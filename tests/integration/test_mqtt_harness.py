#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The MQTT test harness (mqtt_harness.py) against a real Mosquitto:

- a broker starts on a free port, ready without probe connections in its log;
- publish / subscribe with QoS 0, 1, 2 and the retain flag recorded, MQTT 5
  and 3.1.1 clients side by side;
- retained messages read back with a fresh connection (SUBACK + sentinel),
  deleted, cleared;
- password logins: the right password accepted, a wrong one and an
  anonymous login refused;
- TLS with a CA and a client certificate made by openssl: accepted; no
  client certificate, one from another CA, a server checked against the
  wrong CA: refused;
- kill -9 and restart on the same port: retained messages gone (persistence
  off), a subscriber reconnects and receives again;
- a bridge: a topic published on the site broker reaches the central one,
  a topic outside the bridged patterns does not;
- the blackhole accepts TCP, reads the CONNECT and never answers;
- cleanup leaves no process and no directory behind.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks  # noqa: E402
from mqtt_harness import (MQTTv5, MQTTv311, Blackhole, Broker, MqttError, Subscriber, bridged_pair,  # noqa: E402
                          clear_retained, publish, read_retained, try_connect)

c = Checks()


def test_pubsub():
    print("== plain broker: publish, subscribe, retained")
    with Broker() as b:
        c.ok(b.alive() and b.port > 0, "mosquitto runs on port %d" % b.port)
        c.eq(b.text().count("New connection"), 0, "waiting for the broker made no connection")
        with Subscriber(b, ("t/#",)) as s, Subscriber(b, ("t/#",), protocol=MQTTv5) as s5:
            for q in (0, 1, 2):
                publish(b, "t/q%d" % q, "payload %d" % q, qos=q)
            for sub, label in ((s, "3.1.1"), (s5, "5")):
                got = [sub.wait_for("t/q%d" % q, timeout=5) for q in (0, 1, 2)]
                c.eq([(m.qos, m.text(), m.retain) if m else None for m in got],
                     [(0, "payload 0", False), (1, "payload 1", False), (2, "payload 2", False)],
                     "MQTT %s subscriber: QoS and payload recorded, live messages not retained" % label)
            t0 = time.monotonic()
            publish(b, "t/x", "1")
            publish(b, "t/x", "2")
            c.ok(s.wait_count("t/x", 2, 5, since=t0), "wait_count: two messages on t/x")
            c.eq(s.latest("t/x").text(), "2", "latest() is the last message")
            c.eq(s.wait_for("t/+", lambda m: m.text() == "1", 5, since=t0).topic, "t/x", "wait_for takes a filter")
            s.clear()
            c.eq(s.all(), [], "clear() forgets what was recorded")
            c.eq(s.wait_for("t/none", timeout=0.2), None, "wait_for gives None when nothing comes")
        with Subscriber(b, ("u/#",), protocol=MQTTv5) as s5:
            publish(b, "u/v311", "a", protocol=MQTTv311)
            c.ok(s5.wait_for("u/v311", timeout=5) is not None, "an MQTT 3.1.1 publisher reaches an MQTT 5 subscriber")

        for i in range(3):
            publish(b, "r/%d" % i, "kept %d" % i, retain=True)
        publish(b, "r/live", "not kept")
        got = read_retained(b, "r/#")
        c.eq(sorted((t, m.text()) for t, m in got.items()), [("r/%d" % i, "kept %d" % i) for i in range(3)],
             "read_retained: exactly the retained messages")
        c.eq(len(read_retained(b, "r/#", expect=3)), 3, "read_retained with an expected count")
        with Subscriber(b, ("r/1",)) as s:
            m = s.wait_for("r/1", timeout=5)
            c.ok(m is not None and m.retain and s.retained("r/1") is m, "a new subscriber gets it with the retain flag")
        publish(b, "r/1", "", retain=True)
        c.eq(sorted(read_retained(b, "r/#")), ["r/0", "r/2"], "an empty retained payload deletes it")
        c.eq(clear_retained(b, "r/#"), ["r/0", "r/2"], "clear_retained deletes what is left")
        c.eq(read_retained(b, "r/#"), {}, "... nothing retained any more")
        d = b.dir
    c.ok(not os.path.exists(d), "cleanup removes the broker's directory")


def test_auth():
    print("== passwords")
    with Broker(users={"bms": "s3cret"}) as b:
        c.eq(try_connect(b, username="bms", password="s3cret"), (True, ""), "the right password is accepted")
        ok, why = try_connect(b, username="bms", password="wrong")
        c.ok(not ok and "not auth" in why.lower(), "a wrong password is refused (%s)" % why)
        ok, why = try_connect(b)
        c.ok(not ok, "an anonymous login is refused (%s)" % why)
        ok, why = try_connect(b, username="bms", password="wrong", protocol=MQTTv5)
        c.ok(not ok, "a wrong password is refused over MQTT 5 too (%s)" % why)
        c.ok(b.wait_log("not authorised", 5), "the broker's log says why")
        with Subscriber(b, ("a/#",), username="bms", password="s3cret") as s:
            publish(b, "a/b", "x", username="bms", password="s3cret")
            c.ok(s.wait_for("a/b", timeout=5) is not None, "logged-in clients exchange messages")


def test_tls():
    print("== TLS with client certificates")
    with Broker(certs=True, client_cert=True) as b:
        c.ok(b.tls_port and b.tls_port != b.port, "a TLS listener on port %d" % b.tls_port)
        c.eq(try_connect(b, tls=True), (True, ""), "CA + client certificate: accepted")
        c.eq(try_connect(b, tls=True, host="localhost"), (True, ""), "the server certificate names localhost too")
        ok, why = try_connect(b, tls=True, client_cert=False)
        c.ok(not ok, "no client certificate: refused (%s)" % why)
        ok, why = try_connect(b, tls=True, client_cert="rogue")
        c.ok(not ok, "a client certificate from another CA: refused (%s)" % why)
        ok, why = try_connect(b, tls=True, ca=b.certs.other_ca)
        c.ok(not ok and "certificate" in why.lower(), "a server checked against another CA: refused (%s)" % why)
        with Subscriber(b, ("s/#",), tls=True) as s:
            publish(b, "s/x", "over TLS", tls=True, protocol=MQTTv5)
            m = s.wait_for("s/x", timeout=5)
            c.ok(m is not None and m.text() == "over TLS", "messages flow over TLS")
        certs_dir = b.certs.dir
    c.ok(not os.path.exists(certs_dir), "the certificates made for the broker are removed with it")


def test_restart():
    print("== kill -9 and restart on the same port")
    with Broker() as b:
        port = b.port
        publish(b, "k/retained", "before", retain=True)
        s = Subscriber(b, ("k/#",))
        try:
            c.ok(s.retained("k/retained") is not None or s.wait_for("k/retained", timeout=5) is not None,
                 "subscribed, with the retained message")
            old = b.p.pid
            b.kill()
            c.ok(not b.alive(), "kill(): the broker is gone")
            b.start()
            c.ok(b.alive() and b.port == port and b.p.pid != old, "start() again on the same port %d" % port)
            c.eq(read_retained(b, "k/#"), {}, "persistence is off: nothing retained survived")
            c.ok(s.wait_connects(2, 10), "the subscriber reconnected by itself")
            # connected again is not subscribed again yet: a message published
            # before the broker took the new SUBSCRIBE is not this subscriber's,
            # so publish until one arrives
            t0, got = time.monotonic(), None
            while got is None and time.monotonic() - t0 < 10:
                publish(b, "k/after", "after")
                got = s.wait_for("k/after", timeout=0.5, since=t0)
            c.ok(got is not None, "... and receives again")
            b.restart()
            c.ok(b.alive() and b.port == port, "restart() (SIGTERM) keeps the port too")
            c.ok(s.wait_connects(3, 10), "the subscriber reconnected again")
        finally:
            s.close()
        p = b.p
    c.ok(p.poll() is not None, "cleanup stops mosquitto")


def test_bridge():
    print("== a site broker bridged to a central one")
    central, site = bridged_pair(["site1/#", "homeassistant/#"])
    try:
        c.ok(site.wait_log("Connecting bridge", 1), "the site broker's log shows the bridge")
        with Subscriber(central, ("#",)) as s:
            publish(site, "other/x", "stays local")
            publish(site, "site1/bmsgw/a/state", '{"voltage": 52.1}', retain=True)
            publish(site, "homeassistant/sensor/bmsgw_site1_a/voltage/config", "{}", retain=True)
            m = s.wait_for("site1/bmsgw/a/state", timeout=10)
            c.ok(m is not None and m.json() == {"voltage": 52.1}, "the central broker gets the site's state")
            c.ok(s.wait_for("homeassistant/sensor/bmsgw_site1_a/voltage/config", timeout=10) is not None,
                 "... and its discovery")
            # the bridge keeps order: had other/x been bridged it would have come first
            c.eq(s.all("other/x"), [], "a topic outside the bridged patterns is not forwarded")
        c.ok("site1/bmsgw/a/state" in read_retained(central, "site1/#"), "the central broker retains it")
    finally:
        site.cleanup()
        central.cleanup()


def test_blackhole():
    print("== blackhole")
    h = Blackhole()
    try:
        t0 = time.monotonic()
        ok, why = try_connect(h.port, timeout=1.0)
        c.ok(not ok and "no CONNACK" in why, "an MQTT client gets no CONNACK (%s, %.1f s)" %
             (why, time.monotonic() - t0))
        c.ok(h.accepted() >= 1 and h.received() > 0, "the connection was accepted and the CONNECT read (%d bytes)"
             % h.received())
        with socket.create_connection(("127.0.0.1", h.port), timeout=2) as k:
            k.sendall(b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00")
            k.settimeout(0.3)
            try:
                data = k.recv(16)
            except socket.timeout:
                data = None
            c.eq(data, None, "nothing comes back, and the connection stays open")
    finally:
        h.close()
    try:
        socket.create_connection(("127.0.0.1", h.port), timeout=1).close()
        refused = False
    except OSError:
        refused = True
    c.ok(refused, "close() stops listening")


def test_errors():
    print("== errors are reported, not hung on")
    with Broker() as b:
        port = b.port
    ok, why = try_connect(port, timeout=2)
    c.ok(not ok and "connect" in why, "a stopped broker: connection refused (%s)" % why)
    try:
        Subscriber(port, timeout=2)
        c.ok(False, "Subscriber raises when there is no broker")
    except MqttError as e:
        c.ok(True, "Subscriber raises MqttError when there is no broker (%s)" % e)


def main():
    t0 = time.monotonic()
    for t in (test_pubsub, test_auth, test_tls, test_restart, test_bridge, test_blackhole, test_errors):
        try:
            t()
        except Exception as e:  # a crash in a test is a failure, not an abort
            import traceback
            traceback.print_exc()
            c.ok(False, "%s raised %r" % (t.__name__, e))
    took = time.monotonic() - t0
    print("   the harness self-test took %.1f s" % took)
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
