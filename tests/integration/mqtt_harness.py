# SPDX-License-Identifier: MIT
"""A real Mosquitto broker for the tests, and MQTT clients that record.

Broker(...)      /usr/sbin/mosquitto on a free port with a configuration made
                 here: anonymous or password logins (mosquitto_passwd -b), a
                 TLS listener with a CA, server and client certificates made
                 with openssl (Certs), require_certificate, a bridge to a
                 central broker.  MQTT 5 and 3.1.1 are both accepted (that is
                 Mosquitto's default), persistence is off, everything is
                 logged to a file (text(), dump()).  stop(), kill() (SIGKILL)
                 and restart() keep the port.
bridged_pair()   a central broker and a local one bridging topics out to it,
                 returned once the bridge is up.
Blackhole        accepts TCP and never answers (a hung broker).
Forward          relays connections on a port to another, byte for byte.
Only311          a Broker behind a front that speaks MQTT 3.1.1 only: an MQTT 5
                 CONNECT is refused as a 3.1.1 broker refuses it.
Client           a connected paho-mqtt client (login, TLS, MQTT 5 or 3.1.1);
                 the constructor raises MqttError unless the broker accepts.
Subscriber       a paho-mqtt client recording every message: topic, payload,
                 retain flag, QoS, arrival time; wait_for(), latest(),
                 retained(), clear().
read_retained()  every retained message under a filter, read with a fresh
                 connection.
publish()        one message, acknowledged by the broker before returning.
try_connect()    (True, "") or (False, why) for a login attempt.

Nothing here sleeps for luck: the broker is ready when its log says it is
running (no probe connection, so the log counts only the test's own
clients), clients wait for CONNACK / SUBACK / PUBACK, and waits for messages
are condition waits with a deadline.

Works with Debian 12's python3-paho-mqtt 1.6.1 and with paho-mqtt 2.x (which
is asked for the version 2 callbacks; every callback below takes *args so
both signatures fit).
"""
import atexit
import json
import os
import selectors
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import uuid

from harness import free_port

import paho.mqtt.client as mqtt

MOSQUITTO = "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = "/usr/bin/mosquitto_passwd"
MQTTv311 = mqtt.MQTTv311
MQTTv5 = mqtt.MQTTv5
_PAHO2 = hasattr(mqtt, "CallbackAPIVersion")


class MqttError(RuntimeError):
    """A connection, subscription or publication that did not succeed."""


def _code(rc):
    """A reason / return code as an int (paho 1.6 gives ints or ReasonCodes,
    paho 2 ReasonCode objects)."""
    return int(getattr(rc, "value", rc))


def _client_id(kind):
    return "test-%s-%d-%s" % (kind, os.getpid(), uuid.uuid4().hex[:8])


# --------------------------------------------------------------- certificates

class Certs:
    """A CA, a server certificate for 127.0.0.1 and localhost (CN and
    subjectAltName), a client certificate (CN bmsgw) and a client
    certificate signed by another CA (rogue_client), all made with openssl
    in a temporary directory.  Key files are world-readable because a
    mosquitto started as root drops to its own user."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="bmsgw-certs-")
        os.chmod(self.dir, 0o755)
        d = self.dir
        self.ca, self.ca_key = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
        self.other_ca, self.other_ca_key = os.path.join(d, "other-ca.pem"), os.path.join(d, "other-ca.key")
        self.server, self.server_key = os.path.join(d, "server.pem"), os.path.join(d, "server.key")
        self.client, self.client_key = os.path.join(d, "client.pem"), os.path.join(d, "client.key")
        self.rogue_client, self.rogue_client_key = os.path.join(d, "rogue.pem"), os.path.join(d, "rogue.key")
        for crt, key, cn in ((self.ca, self.ca_key, "bmsgw test CA"), (self.other_ca, self.other_ca_key, "another CA")):
            self._openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + cn,
                          "-keyout", key, "-out", crt)
        san = os.path.join(d, "server.ext")
        with open(san, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        cli = os.path.join(d, "client.ext")
        with open(cli, "w") as f:
            f.write("extendedKeyUsage=clientAuth\n")
        self._issue(self.server, self.server_key, "localhost", self.ca, self.ca_key, san)
        self._issue(self.client, self.client_key, "bmsgw", self.ca, self.ca_key, cli)
        self._issue(self.rogue_client, self.rogue_client_key, "bmsgw", self.other_ca, self.other_ca_key, cli)
        os.chmod(self.server_key, 0o644)  # mosquitto reads it as user mosquitto
        for p in (self.client_key, self.rogue_client_key):  # bmsgw refuses a key others can read
            os.chmod(p, 0o600)

    @staticmethod
    def _openssl(*args):
        r = subprocess.run(["openssl"] + list(args), capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("openssl %s: %s" % (args[0], r.stderr.strip()))

    def _issue(self, crt, key, cn, ca, ca_key, ext):
        csr = crt + ".csr"
        self._openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + cn, "-keyout", key, "-out", csr)
        self._openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                      "-days", "2", "-out", crt, "-extfile", ext)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------- broker

# every broker started and not cleaned up yet: a test that ends on an
# exception (or forgets cleanup) leaves no mosquitto running after it
_LIVE_BROKERS = []


@atexit.register
def _stop_live_brokers():
    for b in list(_LIVE_BROKERS):
        b.cleanup()


class Broker:
    """mosquitto listening on 127.0.0.1:port (plain) and, with certs, on
    127.0.0.1:tls_port (TLS 1.2+).

    users        {name: password}: allow_anonymous false and a password file
                 made with mosquitto_passwd -b (for every listener)
    certs        a Certs, or True to make one (removed by cleanup())
    client_cert  require_certificate true on the TLS listener
    bridge_to    a Broker, or (host, port, topics) as before; with a Broker
                 the topics come from bridge_topics
    bridge_topics  patterns bridged out, each written `topic PATTERN out 1`
    bridge_tls   bridge to the central broker's TLS listener with its CA and
                 client certificate; bridge_user = (name, password) logs in
    bridge_protocol  "mqttv311" (default) or "mqttv50"
    port         a fixed plain port (else a free one)
    extra_conf   more mosquitto.conf lines

    The broker is started by the constructor; `with Broker() as b:` cleans
    up.  remote_clientid is unique per broker so two sites bridging to one
    central broker do not take over each other's session."""

    def __init__(self, users=None, certs=None, client_cert=False, bridge_to=None, port=None,
                 bridge_topics=None, bridge_tls=False, bridge_user=None, bridge_protocol="mqttv311",
                 extra_conf=(), name="broker"):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="bmsgw-mosq-")
        os.chmod(self.dir, 0o755)  # mosquitto started as root runs as user mosquitto
        self._fixed_port = port
        self.port = port or free_port()
        self._own_certs = certs is True
        self.certs = Certs() if certs is True else certs
        self.client_cert = bool(client_cert)
        self.tls_port = free_port() if self.certs else None
        self.users = dict(users or {})
        self.log = os.path.join(self.dir, "mosquitto.log")
        open(self.log, "w").close()
        os.chmod(self.log, 0o666)
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        self.bridge_id = None
        self.central = None
        self._bridge = (bridge_to, bridge_topics, bridge_tls, bridge_user, bridge_protocol)
        self._extra = list(extra_conf)
        self.p = None
        self._log_start = 0
        _LIVE_BROKERS.append(self)
        self.start()

    # the configuration, written before every start (ports may change)
    def _write_conf(self):
        conf = ["per_listener_settings false", "persistence false", "log_dest file " + self.log,
                "log_type all", "connection_messages true", "listener %d 127.0.0.1" % self.port]
        if self.users:
            pw = os.path.join(self.dir, "passwd")
            open(pw, "w").close()
            for u, p in self.users.items():
                subprocess.run([MOSQUITTO_PASSWD, "-b", pw, u, p], check=True, capture_output=True)
            os.chmod(pw, 0o644)
            conf += ["allow_anonymous false", "password_file " + pw]
        else:
            conf += ["allow_anonymous true"]
        if self.certs:
            conf += ["listener %d 127.0.0.1" % self.tls_port, "cafile " + self.certs.ca,
                     "certfile " + self.certs.server, "keyfile " + self.certs.server_key,
                     "tls_version tlsv1.2"]
            if self.client_cert:
                conf += ["require_certificate true"]
        bridge_to, topics, tls, user, proto = self._bridge
        if bridge_to is not None:
            if isinstance(bridge_to, Broker):
                self.central = bridge_to
                host = "127.0.0.1"
                port = bridge_to.tls_port if tls else bridge_to.port
            else:
                host, port, topics = bridge_to
            self.bridge_id = "bridge-%s-%s" % (self.name, uuid.uuid4().hex[:8])
            conf += ["connection central", "address %s:%d" % (host, port), "remote_clientid " + self.bridge_id,
                     "cleansession true", "bridge_protocol_version " + proto, "start_type automatic",
                     "restart_timeout 1 2", "keepalive_interval 10", "notifications true"]
            if tls:
                c = bridge_to.certs
                conf += ["bridge_cafile " + c.ca, "bridge_certfile " + c.client, "bridge_keyfile " + c.client_key]
            if user:
                conf += ["remote_username " + user[0], "remote_password " + user[1]]
            conf += ["topic %s out 1" % t.strip() for t in (topics or ())]
        conf += self._extra
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")

    def start(self, timeout=10.0):
        """Start mosquitto and return once its log says it is running (the
        listening sockets are open by then).  A port taken meanwhile by
        someone else is replaced by another free one, unless fixed."""
        for attempt in range(3):
            self._write_conf()
            self._log_start = os.path.getsize(self.log)
            self.p = subprocess.Popen([MOSQUITTO, "-c", self.conf], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if " running" in self.text(since=self._log_start):
                    self._fixed_port = self.port  # later starts keep the ports
                    return self
                if self.p.poll() is not None:
                    break
                time.sleep(0.01)
            err = self.p.stderr.read().decode(errors="replace") if self.p.poll() is not None else ""
            self.kill()
            why = (err + self.text(since=self._log_start)).strip()
            if "in use" in why and not self._fixed_port and attempt < 2:
                self.port = free_port()
                if self.certs:
                    self.tls_port = free_port()
                continue
            raise RuntimeError("mosquitto did not start: %s" % why[-2000:])
        raise RuntimeError("mosquitto did not start")

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def mark(self):
        """The log's size now: pass it as `since` to text() or wait_log()."""
        return os.path.getsize(self.log)

    def text(self, since=0):
        """The broker's log (from byte offset `since`)."""
        try:
            with open(self.log, "rb") as f:
                f.seek(since)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_log(self, needle, timeout=10.0, since=0):
        """Wait until the log (from `since`) holds `needle`; True if it did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text(since):
                return True
            time.sleep(0.02)
        return needle in self.text(since)

    def dump(self, lines=40):
        t = self.text().splitlines()
        print("---- %s mosquitto log (last %d lines) ----" % (self.name, lines))
        for line in t[-lines:]:
            print("   " + line)

    def stop(self):
        """SIGTERM and wait (a clean stop: wills of clean disconnects are not sent)."""
        if self.alive():
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self._close_pipe()

    def kill(self):
        """SIGKILL: the broker vanishes without a word (TCP connections reset)."""
        if self.alive():
            self.p.kill()
            self.p.wait()
        self._close_pipe()

    def _close_pipe(self):
        if self.p is not None and self.p.stderr:
            self.p.stderr.close()

    def restart(self, kill=False):
        """Stop (or kill -9) and start again on the same ports.  Persistence
        is off, so retained messages do not survive."""
        if kill:
            self.kill()
        else:
            self.stop()
        return self.start()

    def bridge_state_topic(self):
        return "$SYS/broker/connection/%s/state" % self.bridge_id

    def wait_bridge(self, timeout=15.0):
        """Wait until this broker's bridge is connected, as the central broker
        sees it: the bridge's retained notification
        $SYS/broker/connection/<remote_clientid>/state is "1" there.  Messages
        published locally after that are forwarded."""
        if not self.central:
            raise ValueError("wait_bridge() needs bridge_to=Broker")
        topic = self.bridge_state_topic()
        with Subscriber(self.central, (topic,), **self.central._login()) as s:
            m = s.wait_for(topic, lambda m: m.payload == b"1", timeout)
        if m is None:
            raise MqttError("the bridge %s did not connect within %.0f s: %s" %
                            (self.bridge_id, timeout, self.text()[-1500:]))
        return True

    def _login(self):
        """Credentials for the test's own clients: the first user."""
        if self.users:
            u, p = next(iter(self.users.items()))
            return {"username": u, "password": p}
        return {}

    def cleanup(self):
        if self in _LIVE_BROKERS:
            _LIVE_BROKERS.remove(self)
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        if self._own_certs:
            self.certs.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()


def bridged_pair(topics, central_kw=None, local_kw=None, timeout=15.0):
    """(central, local): two brokers, the local one bridging `topics` out to
    the central one (`topic PATTERN out 1`), returned once the bridge is up
    (wait_bridge()).  Clean up both."""
    central = Broker(name="central", **(central_kw or {}))
    try:
        local = Broker(name="site", bridge_to=central, bridge_topics=topics, **(local_kw or {}))
    except Exception:
        central.cleanup()
        raise
    try:
        local.wait_bridge(timeout)
    except Exception:
        local.cleanup()
        central.cleanup()
        raise
    return central, local


# ------------------------------------------------------------------- blackhole

class Blackhole:
    """Listens on 127.0.0.1:port, accepts every connection, reads what is
    sent and never answers nor closes: a broker that hangs after accept.
    accepted() and received() tell what reached it."""

    def __init__(self):
        self.port = free_port()
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", self.port))
        self.ls.listen(16)
        self.held = []
        self._bytes = 0
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._sel = selectors.DefaultSelector()
        self._sel.register(self.ls, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._closed.is_set():
            for key, _ in self._sel.select(0.1):
                if key.fileobj is self.ls:
                    try:
                        s, _ = self.ls.accept()
                    except OSError:
                        continue
                    with self._lock:
                        self.held.append(s)
                    self._sel.register(s, selectors.EVENT_READ)
                else:
                    try:
                        data = key.fileobj.recv(65536)
                    except OSError:
                        data = b""
                    if data:
                        with self._lock:
                            self._bytes += len(data)
                    else:  # the peer gave up: forget it, still without a word
                        self._sel.unregister(key.fileobj)

    def accepted(self):
        with self._lock:
            return len(self.held)

    def received(self):
        with self._lock:
            return self._bytes

    def close(self):
        self._closed.set()
        self._thread.join(2)
        self._sel.close()
        self.ls.close()
        with self._lock:
            for s in self.held:
                s.close()


# ---------------------------------------------------------- a 3.1.1-only broker

def _packet_len(buf):
    """The length of the MQTT packet at the start of buf (fixed header and
    remaining length), or None while buf does not hold its header yet."""
    n, mult = 0, 1
    for i in range(1, 5):
        if len(buf) <= i:
            return None
        n += (buf[i] & 127) * mult
        mult *= 128
        if not buf[i] & 128:
            return 1 + i + n
    return len(buf)  # a malformed length: what came so far


def _connect_info(pkt):
    """(protocol level, client id) of a CONNECT packet (level 4: 3.1.1, 5:
    MQTT 5), or (None, None)."""
    if not pkt or pkt[0] >> 4 != 1:
        return None, None
    hdr = 2  # the fixed header: its type byte and 1 to 4 bytes of remaining length
    while hdr < 5 and pkt[hdr - 1] & 128:
        hdr += 1
    try:
        at = hdr + 2 + int.from_bytes(pkt[hdr:hdr + 2], "big")  # past the protocol name
        level = pkt[at]
        at += 4  # level, flags, keepalive
        if level == 5:  # the properties: their length (a variable byte integer), then them
            n, mult = 0, 1
            while True:
                n += (pkt[at] & 127) * mult
                mult *= 128
                at += 1
                if not pkt[at - 1] & 128:
                    break
            at += n
        idlen = int.from_bytes(pkt[at:at + 2], "big")
        return level, pkt[at + 2:at + 2 + idlen].decode("utf-8", "replace")
    except IndexError:
        return None, None


class Forward:
    """Relays every connection to lhost:port (a free port unless given) to
    rhost:rport byte for byte, each direction on a thread of its own.  A
    subclass may read the first packet before (first())."""

    def __init__(self, rport, lhost="127.0.0.1", lport=None, rhost="127.0.0.1"):
        self.port = lport or free_port()
        self.r = (rhost, rport)
        self._socks = []
        self._lock = threading.Lock()
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind((lhost, self.port))
        self.ls.listen(16)
        threading.Thread(target=self._run, daemon=True).start()

    def first(self, sock):
        """What goes ahead to the far end (b"": nothing), or None: the
        connection ends here (first() answered it)."""
        return b""

    def _run(self):
        while True:
            try:
                a, _ = self.ls.accept()
            except OSError:
                return
            with self._lock:
                self._socks.append(a)
            threading.Thread(target=self._conn, args=(a,), daemon=True).start()

    def _conn(self, a):
        try:
            head = self.first(a)
            if head is None:
                a.close()
                return
            a.settimeout(None)
            b = socket.create_connection(self.r)
            with self._lock:
                self._socks.append(b)
            if head:
                b.sendall(head)
        except OSError:
            a.close()
            return
        for x, y in ((a, b), (b, a)):
            threading.Thread(target=self._pump, args=(x, y), daemon=True).start()

    @staticmethod
    def _pump(x, y):
        try:
            while True:
                d = x.recv(65536)
                if not d:
                    break
                y.sendall(d)
        except OSError:
            pass
        for s in (x, y):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.ls.close()
        with self._lock:
            for s in self._socks:
                s.close()


class Only311(Forward):
    """A broker that speaks MQTT 3.1.1 only: a front on a port of its own
    before a Broker (mosquitto).  The first packet of each connection is
    read whole; a CONNECT of a protocol level other than 3 or 4 (3.1, 3.1.1)
    is answered as MQTT 3.1.1 section 3.1.2.2 asks of such a server
    ([MQTT-3.1.2-2]): CONNACK with return code 0x01, "unacceptable protocol
    version", and the connection closed.  Every other connection is relayed
    to the broker byte for byte.  refused and relayed list (level, client
    id) of each connection, in order.

    Why a front: Mosquitto 2.0 cannot be told to refuse MQTT 5 (a listener's
    `protocol` is mqtt or websockets; a plugin's authentication can only
    answer "not authorized"), and the 3.1.1-only broker Debian has (RabbitMQ
    3.10's MQTT plugin) is an Erlang node too heavy to start for one test."""

    def __init__(self, broker):
        self.refused = []
        self.relayed = []
        super().__init__(broker.port)

    def first(self, sock):
        buf = b""
        sock.settimeout(10)
        while True:
            need = _packet_len(buf)
            if need is not None and len(buf) >= need:
                break
            d = sock.recv(65536)
            if not d:
                return None
            buf += d
        level, cid = _connect_info(buf)
        with self._lock:
            (self.relayed if level in (3, 4) else self.refused).append((level, cid))
        if level in (3, 4):
            return buf
        sock.sendall(b"\x20\x02\x00\x01")  # CONNACK: unacceptable protocol version
        return None


# --------------------------------------------------------------------- clients

class Msg:
    """One received message.  t is time.monotonic() at arrival."""

    __slots__ = ("topic", "payload", "retain", "qos", "t", "properties")

    def __init__(self, topic, payload, retain, qos, t, properties=None):
        self.topic, self.payload, self.retain, self.qos, self.t = topic, payload, retain, qos, t
        self.properties = properties

    def text(self):
        return self.payload.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.payload)

    def __repr__(self):
        return "Msg(%r, %r, retain=%s, qos=%d)" % (self.topic, self.payload[:60], self.retain, self.qos)


def _endpoint(target, tls):
    """(port, broker or None) for a Broker or a port number."""
    if isinstance(target, Broker):
        if tls:
            if not target.tls_port:
                raise ValueError("this broker has no TLS listener")
            return target.tls_port, target
        return target.port, target
    return int(target), None


class Client:
    """A connected paho-mqtt client (its network loop in a thread of its own).

    target       a Broker or a port on 127.0.0.1
    username, password   a login
    tls          connect to the broker's TLS listener, checking its
                 certificate against the broker's CA (or `ca`) and host
    client_cert  None: present the client certificate when the broker
                 requires one; True / False: always / never;
                 "rogue": the one signed by another CA
    certfile, keyfile, ca   explicit files instead of the broker's
    protocol     MQTTv311 (default) or MQTTv5
    will         (topic, payload, qos, retain) to leave behind

    The constructor returns once the broker accepted the connection
    (CONNACK 0) and raises MqttError otherwise: refused login, TLS failure,
    connection closed, or no answer within timeout.  After a lost
    connection paho reconnects by itself (on_connect() is called again)."""

    def __init__(self, target, *, username=None, password=None, tls=False, client_cert=None, ca=None,
                 certfile=None, keyfile=None, host="127.0.0.1", protocol=MQTTv311, client_id=None,
                 keepalive=30, will=None, timeout=10.0, kind="client", clean_session=True):
        port, broker = _endpoint(target, tls)
        self.host, self.port, self.protocol = host, port, protocol
        self.client_id = client_id or _client_id(kind)
        kw = {"client_id": self.client_id, "protocol": protocol}
        if protocol != MQTTv5:
            kw["clean_session"] = clean_session  # False: a persistent session (a fixed client_id)
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, **kw) if _PAHO2 else mqtt.Client(**kw)
        self._cond = threading.Condition()
        self._connack = None      # the last CONNACK code
        self._connects = 0        # accepted connections so far
        self._lost = None         # why the connection went away before CONNACK
        self._suback = {}         # mid -> granted codes
        if username is not None:
            self.c.username_pw_set(username, password)
        if tls:
            certs = broker.certs if broker else None
            if client_cert is None:
                client_cert = bool(broker and broker.client_cert)
            if client_cert and certs and not certfile:
                if client_cert == "rogue":
                    certfile, keyfile = certs.rogue_client, certs.rogue_client_key
                else:
                    certfile, keyfile = certs.client, certs.client_key
            self.c.tls_set(ca_certs=ca or (certs.ca if certs else None), certfile=certfile, keyfile=keyfile,
                           cert_reqs=ssl.CERT_REQUIRED, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        if will:
            self.c.will_set(*will)
        self.c.reconnect_delay_set(min_delay=1, max_delay=2)
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = self._on_disconnect
        self.c.on_subscribe = self._on_subscribe
        self.c.on_message = self._on_message
        self._stop = threading.Event()
        try:
            self.c.connect(host, port, keepalive)
        except (OSError, ssl.SSLError, ValueError) as e:
            raise MqttError("connect to %s:%d: %s" % (host, port, e)) from None
        self._thread = threading.Thread(target=self._run, name="mqtt-" + kind, daemon=True)
        self._thread.start()
        with self._cond:
            ok = self._cond.wait_for(lambda: self._connack is not None or self._lost is not None, timeout)
            connack, lost = self._connack, self._lost
        if not ok or connack != 0:
            self.close()
            if connack is not None:
                raise MqttError("connection refused: %s (%d)" % (mqtt.connack_string(connack) if connack < 6
                                                                 else "reason code", connack))
            if lost is not None:
                raise MqttError("connection closed before CONNACK: %s" % lost)
            raise MqttError("no CONNACK from %s:%d within %.0f s" % (host, port, timeout))

    def _run(self):
        """paho's network loop in our thread.  paho 1.6 lets an SSL error
        (a TLS 1.3 server refusing the client's certificate after the
        handshake) escape loop_forever(); it is recorded here, so the
        constructor reports it at once, and an established session
        reconnects as after any lost connection."""
        while not self._stop.is_set():
            try:
                self.c.loop_forever(retry_first_connection=True)
                return  # disconnect() was called
            except Exception as e:
                with self._cond:
                    if self._connack is None:
                        self._lost = "%s: %s" % (type(e).__name__, e)
                    self._cond.notify_all()
                    established = self._connects > 0
                if not established or self._stop.wait(1.0):
                    return
                try:
                    self.c.reconnect()
                except Exception:
                    pass

    # paho callbacks, both callback API versions
    def _on_connect(self, client, userdata, flags, rc, *props):
        code = _code(rc)
        with self._cond:
            self._connack = code
            if code == 0:
                self._connects += 1
            self._cond.notify_all()
        if code == 0:
            self.on_connected()

    def on_connected(self):
        """Called in paho's thread after every accepted (re)connection."""

    def _on_disconnect(self, client, userdata, *args):
        rc = args[1] if _PAHO2 else args[0]
        with self._cond:
            if self._connack is None:
                self._lost = "rc %d" % _code(rc)
            self._cond.notify_all()

    def _on_subscribe(self, client, userdata, mid, granted, *props):
        codes = [_code(g) for g in (granted if isinstance(granted, (list, tuple)) else [granted])]
        with self._cond:
            self._suback[mid] = codes
            self._cond.notify_all()

    def _on_message(self, client, userdata, m):
        pass

    def connects(self):
        """How many times the broker accepted this client (reconnects add)."""
        with self._cond:
            return self._connects

    def wait_connects(self, n, timeout=10.0):
        """Wait until the client has been accepted n times (n = 2: it
        reconnected once, e.g. after a broker restart)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._connects >= n, timeout)

    def subscribe(self, topics, qos=2, timeout=10.0):
        """Subscribe and wait for the SUBACK; raises MqttError when the
        broker refuses a filter (code >= 0x80)."""
        rc, mid = self.c.subscribe([(t, qos) for t in topics])
        if rc != mqtt.MQTT_ERR_SUCCESS:
            raise MqttError("subscribe: %s" % mqtt.error_string(rc))
        with self._cond:
            if not self._cond.wait_for(lambda: mid in self._suback, timeout):
                raise MqttError("no SUBACK within %.0f s" % timeout)
            codes = self._suback.pop(mid)
        if any(c >= 0x80 for c in codes):
            raise MqttError("the broker refused the subscription %s: %s" % (list(topics), codes))
        return codes

    def publish(self, topic, payload, qos=1, retain=False, timeout=10.0):
        """Publish; with qos > 0 wait for the broker's acknowledgement."""
        info = self.c.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise MqttError("publish %s: %s" % (topic, mqtt.error_string(info.rc)))
        if qos:
            info.wait_for_publish(timeout)
            if not info.is_published():
                raise MqttError("publish %s: not acknowledged within %.0f s" % (topic, timeout))
        return info

    def close(self):
        self._stop.set()
        try:
            self.c.disconnect()
        except Exception:
            pass
        if self._thread is not threading.current_thread():
            self._thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Subscriber(Client):
    """Records every message on `topics` (default everything but $SYS).

    Subscribes with QoS 2 by default, so a message arrives with the QoS it
    was published with (Msg.qos); subscribes again after every reconnect.
    The constructor returns once the first SUBACK arrived.  Messages that
    arrive because they were retained have Msg.retain True; live ones
    False (MQTT 3.1.1, and MQTT 5 without retain-as-published).

    Subscriber(port, topics=...) keeps working: a port means an anonymous
    plain connection to 127.0.0.1."""

    def __init__(self, target, topics=("#",), qos=2, timeout=10.0, **conn):
        self.topics = tuple(topics)
        self.qos = qos
        self.msgs = []
        self._subscribed = threading.Event()
        self._sub_error = None
        super().__init__(target, timeout=timeout, kind="sub", **conn)
        if not self._subscribed.wait(timeout) or self._sub_error:
            self.close()
            raise MqttError("subscription to %s failed: %s" % (self.topics, self._sub_error or "no SUBACK"))

    def on_connected(self):
        # paho's thread: send the SUBSCRIBE, the SUBACK sets _subscribed
        self._sub_mid = self.c.subscribe([(t, self.qos) for t in self.topics])[1]

    def _on_subscribe(self, client, userdata, mid, granted, *props):
        codes = [_code(g) for g in (granted if isinstance(granted, (list, tuple)) else [granted])]
        if mid == getattr(self, "_sub_mid", None):
            if any(c >= 0x80 for c in codes):
                self._sub_error = "codes %s" % codes
            self._subscribed.set()
        super()._on_subscribe(client, userdata, mid, granted, *props)

    def _on_message(self, client, userdata, m):
        props = getattr(m, "properties", None)
        msg = Msg(m.topic, bytes(m.payload), bool(m.retain), int(m.qos), time.monotonic(), props)
        with self._cond:
            self.msgs.append(msg)
            self._cond.notify_all()

    @staticmethod
    def _match(topic, m):
        if topic is None:
            return True
        if "+" in topic or "#" in topic:
            return mqtt.topic_matches_sub(topic, m.topic)
        return m.topic == topic

    def all(self, topic=None, since=0.0):
        """Messages on `topic` (a topic or a filter; None: all) that
        arrived at or after `since` (a time.monotonic() value)."""
        with self._cond:
            return [m for m in self.msgs if m.t >= since and self._match(topic, m)]

    def topics_seen(self):
        with self._cond:
            return {m.topic for m in self.msgs}

    def latest(self, topic):
        """The last message on `topic`, or None."""
        got = self.all(topic)
        return got[-1] if got else None

    def retained(self, topic):
        """The last message on `topic` that came with the retain flag (the
        broker's stored one, sent on subscribing), or None."""
        got = [m for m in self.all(topic) if m.retain]
        return got[-1] if got else None

    def count(self, topic=None, since=0.0):
        return len(self.all(topic, since))

    def wait_for(self, topic, pred=None, timeout=10.0, since=0.0):
        """The newest message on `topic` (or filter) since `since` for which
        pred(msg) is true, waiting up to `timeout` s for one; None if none
        came.  Wakes on every arrival (no polling)."""
        pred = pred or (lambda m: True)

        def find():
            for m in reversed(self.msgs):
                if m.t >= since and self._match(topic, m) and pred(m):
                    return m
            return None
        with self._cond:
            return self._cond.wait_for(find, timeout)

    def wait_count(self, topic, n, timeout=10.0, since=0.0):
        """Wait until at least n messages on `topic` arrived since `since`."""
        with self._cond:
            return self._cond.wait_for(
                lambda: sum(1 for m in self.msgs if m.t >= since and self._match(topic, m)) >= n, timeout)

    def clear(self):
        """Forget what was recorded so far."""
        with self._cond:
            self.msgs = []


def read_retained(target, topic_filter="#", expect=None, timeout=10.0, **conn):
    """{topic: Msg} of every message retained under `topic_filter`, read with
    a fresh connection (anonymous plain by default; **conn as for Client).

    The wait rule, no sleeping: one SUBSCRIBE carries the filter and a
    private sentinel topic, both at QoS 0; after its SUBACK the same client
    publishes to the sentinel.  Mosquitto handles a client's packets in
    order, so the retained messages were queued to this client while it
    handled the SUBSCRIBE, before it read the sentinel's PUBLISH; and it
    delivers a client's QoS 0 messages in queue order (QoS 0 is never held
    back by the in-flight window).  So when the sentinel comes back every
    retained message has arrived.  With `expect`, also wait until at least
    that many retained messages are in (for state someone else is still
    publishing)."""
    sentinel = "bmsgw-test/sentinel/" + uuid.uuid4().hex
    with Subscriber(target, (topic_filter, sentinel), qos=0, timeout=timeout, **conn) as s:
        s.publish(sentinel, b"x", qos=0)
        if s.wait_for(sentinel, timeout=timeout) is None:
            raise MqttError("the sentinel did not come back within %.0f s" % timeout)
        if expect:
            s.wait_for(None, lambda m: sum(1 for x in s.msgs if x.retain and x.topic != sentinel) >= expect,
                       timeout)
        got = {}
        for m in s.all():
            if m.topic != sentinel and m.retain:
                got[m.topic] = m
    return got


def retained(target, topic_filter="#", timeout=10.0, **conn):
    """read_retained() under its former name."""
    return read_retained(target, topic_filter, timeout=timeout, **conn)


def publish(target, topic, payload, retain=False, qos=1, timeout=10.0, **conn):
    """Publish one message (e.g. homeassistant/status online, or a command)
    with a fresh connection; returns once the broker acknowledged it
    (qos 1 or 2) or, for qos 0, once it is written."""
    with Client(target, timeout=timeout, kind="pub", **conn) as c:
        info = c.publish(topic, payload, qos=qos, retain=retain, timeout=timeout)
        if not qos:
            info.wait_for_publish(timeout)
    return True


pub = publish


def clear_retained(target, topic_filter="#", **conn):
    """Delete every retained message under `topic_filter` (an empty
    retained payload each); returns the topics cleared."""
    topics = sorted(read_retained(target, topic_filter, **conn))
    if topics:
        with Client(target, kind="clear", **conn) as c:
            for t in topics:
                c.publish(t, b"", qos=1, retain=True)
    return topics


def try_connect(target, timeout=10.0, **conn):
    """(True, "") when the broker accepts the login, else (False, why)."""
    try:
        Client(target, timeout=timeout, kind="try", **conn).close()
        return True, ""
    except MqttError as e:
        return False, str(e)
