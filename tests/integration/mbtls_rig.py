# SPDX-License-Identifier: MIT
"""The silent-handshake flood on Modbus/TCP Security (issue 89 item 4),
shared by tests/integration/test_mbtls_flood.py and make bench
(tests/tools/bench_mbtls_flood.py):

- SilentFlood: from each of `addrs` (127.0.1.1 ... on the loopback), `each`
  TCP connections to 802 that send nothing, each opened again as soon as the
  server closes it (or a connect fails), in a process of its own (a
  single-threaded selector loop: its work never holds the good client's
  interpreter back);
- operator_read(): a good client, a new connection each time: the TLS
  handshake with a client certificate, one FC 3 read, its answer; what
  failed and why.
"""
import json
import os
import signal
import socket
import ssl
import struct
import subprocess
import sys
import time

from harness import mbap_request, recv_adu

BASE = 290

FLOOD = r"""
import errno, json, selectors, signal, socket, sys
port, each, addrs = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(",")
sel = selectors.DefaultSelector()
st = {"connects": 0, "opened": 0, "closed": 0, "reset": 0, "failed": 0, "held": 0}
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))

def start(addr):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.bind((addr, 0))
        st["connects"] += 1
        s.connect_ex(("127.0.0.1", port))
    except OSError:
        s.close()
        st["failed"] += 1
        return False
    sel.register(s, selectors.EVENT_WRITE, [addr, False])
    return True

for a in addrs:
    for _ in range(each):
        start(a)
waiting = []  # addresses whose socket could not even be made: tried again next turn
while not stop:
    for a in waiting[:]:
        if start(a):
            waiting.remove(a)
    for key, ev in sel.select(0.05 if waiting else 0.5):
        s, (addr, up) = key.fileobj, key.data
        gone = False
        if not up:
            e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if e:  # closed (with a reset) before this loop saw it open, or refused
                st["reset" if e == errno.ECONNRESET else "failed"] += 1
                gone = True
            else:
                st["opened"] += 1
                st["held"] += 1
                key.data[1] = True
                sel.modify(s, selectors.EVENT_READ, key.data)
        else:
            try:
                gone = not s.recv(4096)  # a silent client reads whatever comes, sends nothing
            except BlockingIOError:
                continue
            except OSError:
                gone = True
            if gone:
                st["closed"] += 1
                st["held"] -= 1
        if gone:
            sel.unregister(s)
            s.close()
            if not start(addr):
                waiting.append(addr)
print(json.dumps(st), flush=True)
"""


class SilentFlood:
    """`each` silent connections to 127.0.0.1:port from each of addrs,
    reopened as soon as they close."""

    def __init__(self, port, addrs, each):
        self.p = subprocess.Popen([sys.executable, "-c", FLOOD, str(port), str(each), ",".join(addrs)],
                                  stdout=subprocess.PIPE, text=True)

    def stop(self):
        """End it: what it counted (connects made, opened, closed by the
        server, failed, held at the end)."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            out = self.p.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            self.p.kill()
            out = self.p.communicate()[0]
        try:
            return json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return {}


def client_ctx(tmp, name):
    """A TLS client context with tmp/name.pem as its certificate, trusting tmp/ca.pem."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(os.path.join(tmp, "ca.pem"))
    ctx.load_cert_chain(os.path.join(tmp, name + ".pem"), os.path.join(tmp, name + ".key"))
    return ctx


def operator_read(port, ctx, src="127.0.0.2", timeout=10.0, hello_after=0.0):
    """A new connection from src, its handshake and one read (FC 3, one
    register of unit 1): (True, seconds, "") or (False, seconds, why).
    timeout bounds each step (connect, the handshake's, the answer's);
    hello_after s between the connection and its ClientHello (a client
    descheduled, or far away)."""
    t0 = time.monotonic()
    try:
        with socket.socket() as raw:
            raw.bind((src, 0))
            raw.settimeout(timeout)
            raw.connect(("127.0.0.1", port))
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as Modbus clients do (libmodbus)
            if hello_after:
                time.sleep(hello_after)
            with ctx.wrap_socket(raw) as s:
                s.sendall(mbap_request(1, 1, struct.pack(">BHH", 3, BASE + 58, 1)))
                r = recv_adu(s)
                if len(r) >= 9 and r[7] == 3:
                    return True, time.monotonic() - t0, ""
                return False, time.monotonic() - t0, "answer %r" % r[:16]
    except (OSError, ssl.SSLError) as e:
        return False, time.monotonic() - t0, repr(e)[:120]


def operator_series(port, ctx, seconds, period=0.05, src="127.0.0.2", timeout=10.0, hello_after=0.0, count=None):
    """operator_read() anew every `period` seconds (the next starts period
    after the last one started, or at once when it took longer) for
    `seconds`, or `count` times: the list of its results."""
    out = []
    end = time.monotonic() + seconds if seconds else None
    while (end is None or time.monotonic() < end) and (count is None or len(out) < count):
        t = time.monotonic()
        out.append(operator_read(port, ctx, src, timeout, hello_after))
        left = t + period - time.monotonic()
        if left > 0:
            time.sleep(left)  # the client's own pace, not a wait for the server
    return out


def loopback_addrs(n, net="127.0.1"):
    """n source addresses of the loopback: net.1 ... net.n."""
    return ["%s.%d" % (net, i) for i in range(1, n + 1)]
