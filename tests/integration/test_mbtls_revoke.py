#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Modbus/TCP Security: a CA removed by a reload ends the sessions it
trusted (issue 51 item 7), end to end with the real bmsgw:

- [modbus_tls] ca holds two CAs; an Operator of CA 2 and a Viewer of CA 1
  are connected and read;
- CA 2 is removed from the file and bmsgw is sent SIGHUP: the Operator's
  open session is closed (its next write is never answered) and the log
  says why; the Viewer of CA 1 keeps its session and reads on;
- a new connection with CA 2's certificate is refused in its handshake.
A changed write_role needs nothing more: each write is checked against it.

And the Operator is always served (issue 51 item 2): with max_clients = 4
held by four idle Viewers, the Operator's connection is served (the Viewer
idle longest gives way) and a fifth Viewer is closed after its handshake.
Prints "N passed, N failed".
"""
import os
import signal
import socket
import ssl
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ROLE_EXT, SERVER_EXT, Checks, Gateway, Sim, free_port, make_ca, mbap_request,  # noqa: E402
                     recv_adu, wait_until)

c = Checks()
BASE = 290
TMP = tempfile.mkdtemp(prefix="bmsgw-revoke-")


def make_certs():
    make_ca(TMP, "ca1", [("server", SERVER_EXT), ("viewer", ROLE_EXT % "Viewer")])
    make_ca(TMP, "ca2", [("operator", ROLE_EXT % "Operator")])
    bundle(("ca1", "ca2"))


def bundle(cas):
    with open(os.path.join(TMP, "trusted.pem"), "w") as f:
        for ca in cas:
            with open(os.path.join(TMP, ca + ".pem")) as g:
                f.write(g.read())


def connect(port, cert):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(os.path.join(TMP, "ca1.pem"))
    ctx.load_cert_chain(os.path.join(TMP, cert + ".pem"), os.path.join(TMP, cert + ".key"))
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    s = ctx.wrap_socket(raw)
    s.do_handshake()
    return s


def read(s):
    """A whole answer to a read of one register, or None (closed)."""
    try:
        s.sendall(mbap_request(1, 1, struct.pack(">BHH", 3, BASE + 58, 1)))
        r = recv_adu(s)
        return r if len(r) >= 9 else None
    except (OSError, ssl.SSLError):
        return None


def operator_served():
    print("== max_clients held by Viewers: the Operator is served")
    sim = Sim()
    gw_port, tls_port = free_port(), free_port()
    gw = Gateway("[gateway]\nlisten = 127.0.0.1:%d\nmax_clients = 4\n"
                 "[modbus_tls]\nlisten = 127.0.0.1:%d\ncert = %s/server.pem\nkey = %s/server.key\n"
                 "ca = %s/trusted.pem\n"
                 "[pack.p1]\nprotocol = daly\nport = tcp://127.0.0.1:%d\npoll_interval = 0.5\n"
                 % (gw_port, tls_port, TMP, TMP, TMP, sim.port), gw_port)
    try:
        c.ok(wait_port_tls(tls_port), "802 listens")
        viewers = [connect(tls_port, "viewer") for _ in range(4)]
        c.ok(all(read(v) is not None for v in viewers[1:]), "four Viewers connected (the first one idle longest)")
        op = connect(tls_port, "operator")
        c.ok(read(op) is not None, "the Operator is served beside them")
        c.eq(read(viewers[0]), None, "the Viewer idle longest gave way")
        late = connect(tls_port, "viewer")
        c.eq(read(late), None, "a fifth Viewer is closed after its handshake")
        c.ok(read(op) is not None, "the Operator still reads")
    finally:
        if c.failed:
            gw.dump()
        gw.stop()
        sim.stop()


def main():
    make_certs()
    sim = Sim()
    gw_port, tls_port = free_port(), free_port()
    gw = Gateway("[gateway]\nlisten = 127.0.0.1:%d\n"
                 "[modbus_tls]\nlisten = 127.0.0.1:%d\ncert = %s/server.pem\nkey = %s/server.key\n"
                 "ca = %s/trusted.pem\n"
                 "[pack.p1]\nprotocol = daly\nport = tcp://127.0.0.1:%d\npoll_interval = 0.5\n"
                 % (gw_port, tls_port, TMP, TMP, TMP, sim.port), gw_port)
    try:
        c.ok(wait_port_tls(tls_port), "802 listens")
        op, vw = connect(tls_port, "operator"), connect(tls_port, "viewer")
        c.ok(read(op) is not None and read(vw) is not None, "the Operator (CA 2) and the Viewer (CA 1) read")
        bundle(("ca1",))
        n0 = gw.text().count("reload #")
        gw.p.send_signal(signal.SIGHUP)
        c.ok(wait_until(lambda: gw.text().count("reload #") > n0, 10), "the reload is applied")
        c.ok(wait_until(lambda: "closed at the reload: its certificate is no longer trusted" in gw.text(), 10),
             "the log says the Operator's session was closed, and why")
        c.eq(read(op), None, "the Operator's open session is closed: nothing more is answered on it")
        c.ok(read(vw) is not None, "the Viewer of CA 1 keeps its session")
        try:
            s = connect(tls_port, "operator")
            refused = read(s) is None
        except (OSError, ssl.SSLError):
            refused = True
        c.ok(refused, "a new connection with CA 2's certificate is refused")
    finally:
        if c.failed:
            gw.dump()
        gw.stop()
        sim.stop()
    bundle(("ca1", "ca2"))
    operator_served()
    return c.report()


def wait_port_tls(port):
    def up():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False
    return wait_until(up, 10)


if __name__ == "__main__":
    sys.exit(main())
