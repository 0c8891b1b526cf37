# SPDX-License-Identifier: MIT
"""Clients of the status page over HTTPS, as the attacks of issue 62 item 7
use them (test_page_attacks.py checks what they get, the bench
tests/tools/bench_page_attacks.py times it).  Each connection comes from a
loopback address of its own choosing (127.0.0.2... stand for other hosts).

- fetch(): one GET on a new TLS connection, with what became of it (an
  answer, or where it failed: the TCP connect, the handshake, the answer);
- abandon(): a guess whose client gives up before its answer and closes;
- IdleHolders: EACH idle TLS connections from each of some addresses,
  opened again as soon as the server closes one;
- Guessers: threads guessing passwords, each request from the next of many
  addresses;
- start(): a bmsgw serving the page over HTTPS with logins, and the
  simulator it polls.
"""
import base64
import os
import socket
import ssl
import threading
import time

from harness import HASH_ROUNDS, Gateway, Sim, free_port, self_signed, user_line, wait_until


def tls_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def users_file(tmp, users, pw, rounds=HASH_ROUNDS):
    """A users file of (name, role) pairs, every one with password pw, its
    lines of PBKDF2 at `rounds` (harness.user_line): by default
    --hash-password's, so that a check takes the time it takes a user (the
    attacks of test_page_attacks and the bench hold connections while
    checks run)."""
    path = os.path.join(tmp, "users")
    with open(path, "w") as f:
        for name, role in users:
            f.write(user_line(name, role, pw, rounds))
    os.chmod(path, 0o600)
    return path


def start(tmp, users, pw, extra="", log_level="info", rounds=HASH_ROUNDS):
    """(sim, gw, http port): bmsgw with [http] tls_cert and users_file (of
    `users`, (name, role) pairs, each with password pw, hashed with
    `rounds`) and `extra` keys of [http], once the page answers the first
    user's login."""
    pem, key = self_signed(tmp)
    path = users_file(tmp, users, pw, rounds)
    sim = Sim()
    gw_port, http_port = free_port(), free_port()
    gw = Gateway("""[gateway]
listen = 127.0.0.1:%d
log_level = %s
state_file = none
[pack.p1]
protocol = daly
port = tcp://127.0.0.1:%d
poll_interval = 1
[history]
file = none
[http]
listen = 127.0.0.1:%d
tls_cert = %s
tls_key = %s
users_file = %s
%s""" % (gw_port, log_level, sim.port, http_port, pem, key, path, extra), gw_port)
    if not wait_until(lambda: fetch(http_port, "127.0.0.9", login=(users[0][0], pw), timeout=10).status == 200, 30):
        gw.dump()
        raise RuntimeError("the page does not answer")
    return sim, gw, http_port


def connect(port, src, timeout):
    """A TLS connection from src, its handshake done; or (None, where it failed)."""
    raw = socket.socket()
    raw.settimeout(timeout)
    try:
        raw.bind((src, 0))
        raw.connect(("127.0.0.1", port))
    except OSError as e:
        raw.close()
        return None, "connect: %s" % e.__class__.__name__
    try:
        return tls_ctx().wrap_socket(raw), None
    except (OSError, ssl.SSLError) as e:
        raw.close()
        return None, "handshake: %s" % e.__class__.__name__


def request_bytes(path, login):
    auth = ""
    if login:
        auth = "Authorization: Basic %s\r\n" % base64.b64encode(("%s:%s" % login).encode()).decode()
    return ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sConnection: close\r\n\r\n" % (path, auth)).encode()


def read_answer(s):
    """(status, headers) of the answer on s, its body read to the end."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    head, _, _ = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    first = lines[0].split()
    if len(first) < 2 or not first[1].isdigit():
        return None, {}
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    try:
        while s.recv(65536):
            pass
    except (OSError, ssl.SSLError):
        pass
    return int(first[1]), headers


class Answer:
    """What became of one request: status (None: no answer), its headers,
    the seconds it took, and where it failed."""

    def __init__(self, status, headers, seconds, failed):
        self.status, self.headers, self.seconds, self.failed = status, headers, seconds, failed

    def __repr__(self):
        return "%s in %.2f s%s" % (self.status, self.seconds, " (%s)" % self.failed if self.failed else "")


def fetch(port, src, path="/api/state", login=None, timeout=60.0):
    """GET path on a new TLS connection from src."""
    t0 = time.monotonic()
    s, failed = connect(port, src, timeout)
    if not s:
        return Answer(None, {}, time.monotonic() - t0, failed)
    try:
        with s:
            s.sendall(request_bytes(path, login))
            st, headers = read_answer(s)
        return Answer(st, headers, time.monotonic() - t0, None if st else "answer: none")
    except (OSError, ssl.SSLError) as e:
        return Answer(None, {}, time.monotonic() - t0, "answer: %s" % e.__class__.__name__)


def abandon(port, src, login, patience=0.5):
    """A guess from src whose client gives up after `patience` seconds
    without its answer and closes the connection.  The status if the
    answer came in time, 0 if it did not, None if no connection."""
    s, _ = connect(port, src, 10)
    if not s:
        return None
    with s:
        try:
            s.sendall(request_bytes("/api/state", login))
            s.settimeout(patience)
            st, _ = read_answer(s)
            return st
        except (OSError, ssl.SSLError):
            return 0


class IdleHolders:
    """`each` idle TLS connections (handshake done, no request) from each
    of `addrs`, each opened again as soon as the server closes it."""

    def __init__(self, port, addrs, each):
        self.port, self.stop_ev = port, threading.Event()
        self.lock = threading.Lock()
        self.open = 0          # connections held now
        self.opened = 0        # handshakes done in all
        self.threads = [threading.Thread(target=self.hold, args=(a,), daemon=True) for a in addrs
                        for _ in range(each)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def hold(self, addr):
        while not self.stop_ev.is_set():
            s, _ = connect(self.port, addr, 5)
            if not s:
                self.stop_ev.wait(0.05)  # refused: try again (an attacker would)
                continue
            with self.lock:
                self.open += 1
                self.opened += 1
            try:
                s.settimeout(0.5)
                while not self.stop_ev.is_set():
                    try:
                        if not s.recv(1):
                            break  # closed by the server
                    except socket.timeout:
                        continue
            except (OSError, ssl.SSLError):
                pass
            finally:
                with self.lock:
                    self.open -= 1
                s.close()

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(10)


class Guessers:
    """`n` threads guessing passwords for `names`, each request from the
    next of `naddrs` addresses 127.1.N.M (a host may have a whole IPv6
    /64), each waiting for its answer.  Without `period` each asks again as
    soon as it is answered (the bench: as many as the machine can make);
    with it they ask in waves, every thread not held by an answer at each
    tick of `period` seconds, all at once (the tests: a real overload, n at
    once, at a bounded cost)."""

    def __init__(self, port, names, n=16, naddrs=200, period=None):
        self.port, self.names, self.naddrs, self.period = port, names, naddrs, period
        self.stop_ev, self.lock = threading.Event(), threading.Lock()
        self.k, self.stats = 0, {}
        self.no_retry = 0      # 429 and 503 answers without Retry-After
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(n)]

    def addr(self, k):
        i = k % self.naddrs
        return "127.1.%d.%d" % (i // 250, 1 + i % 250)

    def start(self):
        self.t0 = time.monotonic()
        for t in self.threads:
            t.start()
        return self

    def run(self):
        while not self.stop_ev.is_set():
            if self.period:  # the next tick, shared by every thread
                self.stop_ev.wait(self.period - (time.monotonic() - self.t0) % self.period)
                if self.stop_ev.is_set():
                    break
            with self.lock:
                k = self.k
                self.k += 1
            a = fetch(self.port, self.addr(k), login=(self.names[k % len(self.names)], "guess%d" % k), timeout=40)
            with self.lock:
                self.stats[a.status] = self.stats.get(a.status, 0) + 1
                if a.status in (429, 503) and "retry-after" not in a.headers:
                    self.no_retry += 1

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(60)
