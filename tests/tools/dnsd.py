#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A tiny DNS server for the tests, on UDP and TCP port 53 of one address.

  dnsd.py ADDRESS --swallow          read every query and never answer (a
                                     rebooting router; TCP connections are
                                     accepted and left hanging)
  dnsd.py ADDRESS NAME=IPV4 ...      answer A queries for those names, an
                                     empty answer for other types of them,
                                     NXDOMAIN for anything else

Prints "ready" once both sockets listen, then one line per query
("query NAME TYPE"), flushed, so a test can follow it.
"""
import socket
import struct
import sys
import threading


def parse_question(msg):
    """(id, flags, name, qtype, end of question) of a query, or None."""
    if len(msg) < 12:
        return None
    qid, flags, qd = struct.unpack(">HHH", msg[:6])
    if qd < 1:
        return None
    i, labels = 12, []
    while True:
        if i >= len(msg):
            return None
        n = msg[i]
        i += 1
        if n == 0:
            break
        if n & 0xC0 or i + n > len(msg):
            return None
        labels.append(msg[i:i + n].decode("ascii", "replace"))
        i += n
    if i + 4 > len(msg):
        return None
    qtype, _qclass = struct.unpack(">HH", msg[i:i + 4])
    return qid, flags, ".".join(labels).lower(), qtype, i + 4


def answer(msg, names):
    q = parse_question(msg)
    if not q:
        return None
    qid, flags, name, qtype, qend = q
    question = msg[12:qend]
    rd = flags & 0x0100
    if name not in names:
        return struct.pack(">HHHHHH", qid, 0x8080 | rd | 3, 1, 0, 0, 0) + question
    if qtype != 1:  # A only; AAAA and the rest: no data
        return struct.pack(">HHHHHH", qid, 0x8080 | rd, 1, 0, 0, 0) + question
    rr = struct.pack(">HHHIH", 0xC00C, 1, 1, 30, 4) + socket.inet_aton(names[name])
    return struct.pack(">HHHHHH", qid, 0x8080 | rd, 1, 1, 0, 0) + question + rr


def log(msg):
    q = parse_question(msg)
    if q:
        print("query %s %d" % (q[2], q[3]), flush=True)


def serve_tcp(srv, names, swallow):
    held = []
    while True:
        conn, _ = srv.accept()
        held.append(conn)  # kept open: a swallowing server never closes them
        threading.Thread(target=tcp_client, args=(conn, None if swallow else names), daemon=True).start()


def tcp_client(conn, names):
    """Length-prefixed queries on one TCP connection; names None = never answer."""
    buf = b""
    while True:
        d = conn.recv(4096)
        if not d:
            return
        buf += d
        while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
            n = struct.unpack(">H", buf[:2])[0]
            m, buf = buf[2:2 + n], buf[2 + n:]
            log(m)
            r = answer(m, names) if names is not None else None
            if r:
                conn.sendall(struct.pack(">H", len(r)) + r)


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    addr = sys.argv[1]
    swallow = sys.argv[2] == "--swallow"
    names = {}
    if not swallow:
        for a in sys.argv[2:]:
            n, ip = a.split("=", 1)
            names[n.lower().rstrip(".")] = ip
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    udp.bind((addr, 53))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((addr, 53))
    tcp.listen(16)
    threading.Thread(target=serve_tcp, args=(tcp, names, swallow), daemon=True).start()
    print("ready", flush=True)
    while True:
        msg, peer = udp.recvfrom(4096)
        log(msg)
        if swallow:
            continue
        r = answer(msg, names)
        if r:
            udp.sendto(r, peer)


if __name__ == "__main__":
    sys.exit(main())
