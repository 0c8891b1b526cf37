"""A real Mosquitto broker for the tests, and a recording subscriber.

Broker(...)  starts /usr/sbin/mosquitto on a free port with a generated
             configuration: anonymous or password authentication, TLS with a
             CA, server and client certificates made here with openssl, a
             bridge to another broker.  stop(), kill(), restart() keep the
             port.  It waits until the port accepts, never sleeps for luck.
Subscriber   a paho-mqtt client recording every message (topic, payload,
             retain flag, arrival time).
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from harness import free_port, wait_port, wait_until

import paho.mqtt.client as mqtt

MOSQUITTO = "/usr/sbin/mosquitto"


class Certs:
    """A CA, a server certificate for 127.0.0.1/localhost and a client
    certificate, all made with openssl in a temporary directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="bmsgw-certs-")
        os.chmod(self.dir, 0o755)  # mosquitto drops root for its own user
        d = self.dir
        self.ca, self.ca_key = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
        self.server, self.server_key = os.path.join(d, "server.pem"), os.path.join(d, "server.key")
        self.client, self.client_key = os.path.join(d, "client.pem"), os.path.join(d, "client.key")
        self.other_ca = os.path.join(d, "other-ca.pem")

        def run(*args):
            subprocess.run(["openssl"] + list(args), check=True, capture_output=True)

        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=bmsgw test CA",
            "-keyout", self.ca_key, "-out", self.ca)
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=another CA",
            "-keyout", os.path.join(d, "other.key"), "-out", self.other_ca)
        ext = os.path.join(d, "san.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        for crt, key, cn, extra in ((self.server, self.server_key, "localhost", ["-extfile", ext]),
                                    (self.client, self.client_key, "bmsgw", [])):
            csr = crt + ".csr"
            run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + cn, "-keyout", key, "-out", csr)
            run("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key, "-CAcreateserial",
                "-days", "2", "-out", crt, *extra)
        for p in (self.client_key, self.server_key):
            os.chmod(p, 0o644)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Broker:
    """mosquitto on 127.0.0.1:port.  users = {name: password} turns on
    password authentication; certs (a Certs) adds TLS on tls_port, with
    require_certificate when client_cert; bridge_to = (host, port, topics)
    bridges those topic patterns out to another broker."""

    def __init__(self, users=None, certs=None, client_cert=False, bridge_to=None, port=None):
        self.dir = tempfile.mkdtemp(prefix="bmsgw-mosq-")
        os.chmod(self.dir, 0o777)  # mosquitto started as root runs as its own user
        self.port = port or free_port()
        self.tls_port = free_port() if certs else None
        self.log = os.path.join(self.dir, "mosquitto.log")
        open(self.log, "w").close()
        os.chmod(self.log, 0o666)
        conf = ["per_listener_settings false", "persistence false", "log_dest file " + self.log,
                "log_type all", "listener %d 127.0.0.1" % self.port]
        if users:
            pw = os.path.join(self.dir, "passwd")
            open(pw, "w").close()
            for u, p in users.items():
                subprocess.run(["mosquitto_passwd", "-b", pw, u, p], check=True, capture_output=True)
            os.chmod(pw, 0o644)
            conf += ["allow_anonymous false", "password_file " + pw]
        else:
            conf += ["allow_anonymous true"]
        if certs:
            conf += ["listener %d 127.0.0.1" % self.tls_port, "cafile " + certs.ca, "certfile " + certs.server,
                     "keyfile " + certs.server_key, "tls_version tlsv1.2"]
            if client_cert:
                conf += ["require_certificate true"]
        if bridge_to:
            host, port, topics = bridge_to
            conf += ["connection central", "address %s:%d" % (host, port), "cleansession true",
                     "bridge_protocol_version mqttv311", "start_type automatic", "restart_timeout 1"]
            conf += ["topic %s out 1" % t for t in topics]
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")
        self.p = None
        self.start()

    def start(self):
        self.p = subprocess.Popen([MOSQUITTO, "-c", self.conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_port(self.port, 10):
            raise RuntimeError("mosquitto did not start: " + self.text()[-2000:])
        if self.tls_port and not wait_port(self.tls_port, 10):
            raise RuntimeError("mosquitto TLS listener did not start")

    def text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.p and self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()

    def kill(self):
        if self.p and self.p.poll() is None:
            self.p.kill()
            self.p.wait()

    def restart(self):
        self.stop()
        self.start()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Blackhole:
    """Accepts TCP connections and never answers (a hung broker)."""

    def __init__(self):
        self.port = free_port()
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", self.port))
        self.ls.listen(16)
        self.held = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                s, _ = self.ls.accept()
            except OSError:
                return
            self.held.append(s)

    def close(self):
        self.ls.close()
        for s in self.held:
            s.close()


class Msg:
    def __init__(self, topic, payload, retain, t):
        self.topic, self.payload, self.retain, self.t = topic, payload, retain, t

    def text(self):
        return self.payload.decode("utf-8", "replace")


class Subscriber:
    """Records every message on `topics` (default everything)."""

    def __init__(self, port, topics=("#",), host="127.0.0.1", **tls):
        self.msgs = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.c = mqtt.Client(client_id="test-sub-%d" % os.getpid() + str(time.monotonic_ns() % 100000),
                             clean_session=True)
        if tls:
            self.c.tls_set(**tls)
        self.c.on_message = self._on_message
        self.c.on_subscribe = lambda c, u, mid, q: self.subscribed.set()
        self.topics = topics
        self.c.on_connect = lambda c, u, f, rc: c.subscribe([(t, 0) for t in topics])
        self.c.connect(host, port, 30)
        self.c.loop_start()
        if not self.subscribed.wait(10):
            raise RuntimeError("subscriber did not subscribe")

    def _on_message(self, c, u, m):
        with self.lock:
            self.msgs.append(Msg(m.topic, m.payload, bool(m.retain), time.monotonic()))

    def all(self, topic=None, since=0.0):
        with self.lock:
            return [m for m in self.msgs if (topic is None or m.topic == topic) and m.t >= since]

    def latest(self, topic):
        got = self.all(topic)
        return got[-1] if got else None

    def wait_for(self, topic, pred=lambda m: True, timeout=10.0, since=0.0):
        return wait_until(lambda: next((m for m in reversed(self.all(topic, since)) if pred(m)), None), timeout)

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def retained(port, topic_filter, quiet=0.5, timeout=10.0):
    """Every retained message under topic_filter now: subscribe with a fresh
    client, then publish a sentinel to a private topic; messages are
    delivered in order, so everything retained has arrived once the
    sentinel comes back (no sleeping for luck)."""
    sentinel = "bmsgw-test/sentinel/%d" % time.monotonic_ns()
    s = Subscriber(port, topics=(topic_filter, sentinel))
    pub(port, sentinel, "x")
    s.wait_for(sentinel, timeout=timeout)
    got = {}
    for m in s.all():
        if m.topic != sentinel and m.retain:
            got[m.topic] = m
    s.close()
    return got


def pub(port, topic, payload, retain=False):
    c = mqtt.Client(client_id="test-pub-%d" % time.monotonic_ns())
    c.connect("127.0.0.1", port, 30)
    c.loop_start()
    info = c.publish(topic, payload, qos=1, retain=retain)
    info.wait_for_publish()
    c.loop_stop()
    c.disconnect()
