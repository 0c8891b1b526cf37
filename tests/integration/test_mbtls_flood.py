#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Modbus/TCP Security under a handshake flood from many addresses (issue 51
item 6), end to end with the real bmsgw:

- 96 flooders, each connection from the next of 120 loopback addresses,
  open TLS connections that send half a ClientHello (or nothing) and stall,
  keeping the 64 handshake slots full for the whole run;
- meanwhile a good client (a Viewer's certificate; at a raised priority,
  as a client on a machine of its own) connects 100 times in a row,
  finishes its handshake and reads: at least 98 of them succeed (the
  handshake that gives way to a new connection is the one that moved least
  recently, a stalled one, not the oldest started, which was often a good
  client's).
Prints "N passed, N failed".
"""
import os
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ROLE_EXT, SERVER_EXT, Checks, Gateway, Sim, free_port, make_ca, mbap_request,  # noqa: E402
                     raise_priority, recv_adu, restore_priority, wait_until)

c = Checks()
BASE = 290
TMP = tempfile.mkdtemp(prefix="bmsgw-hsflood-")
# a ClientHello's first bytes: a TLS record header and the start of its body
HALF_HELLO = bytes.fromhex("16030100c8010000c40303") + os.urandom(16)


FLOOD = """
import signal, socket, sys, threading
port, hello = int(sys.argv[1]), bytes.fromhex(sys.argv[2])
stop, lock, n = threading.Event(), threading.Lock(), [0]
def flooder():
    while not stop.is_set():
        with lock:
            k = n[0]
            n[0] += 1
        s = socket.socket()
        try:
            s.bind(("127.0.1.%d" % (1 + k % 120), 0))
            s.settimeout(15)
            s.connect(("127.0.0.1", port))
            if k % 2:
                s.sendall(hello)
            while not stop.is_set() and s.recv(4096):
                pass
        except OSError:
            pass
        finally:
            s.close()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
ts = [threading.Thread(target=flooder, daemon=True) for _ in range(96)]
for t in ts:
    t.start()
stop.wait()
print(n[0])
"""


def good_read(port, why=None):
    """A good client's connection, handshake and read; what failed goes
    into why (a list) when given."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(os.path.join(TMP, "ca.pem"))
    ctx.load_cert_chain(os.path.join(TMP, "viewer.pem"), os.path.join(TMP, "viewer.key"))
    try:
        with socket.socket() as raw:
            raw.bind(("127.0.0.2", 0))
            raw.settimeout(10)
            raw.connect(("127.0.0.1", port))
            with ctx.wrap_socket(raw) as s:
                s.sendall(mbap_request(1, 1, struct.pack(">BHH", 3, BASE + 58, 1)))
                r = recv_adu(s)
                return len(r) >= 9 and r[7] == 3
    except (OSError, ssl.SSLError) as e:
        if why is not None:
            why.append(repr(e)[:120])
        return False


def main():
    make_ca(TMP, "ca", [("server", SERVER_EXT), ("viewer", ROLE_EXT % "Viewer")])
    sim = Sim()
    gw_port, tls_port = free_port(), free_port()
    gw = Gateway("[gateway]\nlisten = 127.0.0.1:%d\n"
                 "[modbus_tls]\nlisten = 127.0.0.1:%d\ncert = %s/server.pem\nkey = %s/server.key\nca = %s/ca.pem\n"
                 "[pack.p1]\nprotocol = daly\nport = tcp://127.0.0.1:%d\npoll_interval = 0.5\n"
                 % (gw_port, tls_port, TMP, TMP, TMP, sim.port), gw_port)
    flood = None
    try:
        c.ok(wait_until(lambda: good_read(tls_port), 20), "a good client reads on 802")
        # the flood in a process of its own (its threads would hold the good
        # client's interpreter back, not the gateway)
        flood = subprocess.Popen([sys.executable, "-c", FLOOD, str(tls_port), HALF_HELLO.hex()],
                                 stdout=subprocess.PIPE, text=True)
        c.ok(wait_until(lambda: "TLS handshakes in flight" in gw.text(), 20), "the flood fills the handshake slots")
        why = []
        # the good client stands for one on a machine of its own: at a raised
        # priority, not waiting its turn behind the flood and the other steps
        # (descheduled between its connect and its ClientHello for longer than
        # the flood takes to fill the slots anew, it lost its handshake)
        tid = threading.get_native_id()
        how = raise_priority(tid)
        print("   the good client at %s" % how)
        try:
            ok = sum(1 for _ in range(100) if good_read(tls_port, why))
        finally:
            restore_priority(tid, how)
        flood.terminate()
        n = (flood.communicate(timeout=20)[0] or "?").strip()
        print("   figures: %d of 100 good connections succeeded during a handshake flood (%s flood connections)%s"
              % (ok, n, "".join("\n   failed: " + w for w in why)))
        c.ok(ok >= 98, "at least 98 %% of good connections succeed (%d)" % ok)
    finally:
        if flood and flood.poll() is None:
            flood.kill()
        if c.failed:
            gw.dump()
        gw.stop()
        sim.stop()
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
