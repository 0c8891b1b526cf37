#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench, listen mode: the delay from an answer on the wire to its
registers.  This script is the master of a Seplos V3 bus (a TCP serial
server's socket bmsgw connects to with tcp://): each round it polls packs 2
and 3 and writes its own answers as pack 1, as the capture of a real master
shows (mr-manuel/venus-os_dbus-serialbattery#247: FC04 0x1000 x 0x12,
FC04 0x1100 x 0x1A, FC01 0x1200 x 0x90, back to back), with a new pack
voltage every round.  The moment the last answer of a pack's round has left
the socket, a Modbus TCP client on a connection of its own reads the pack's
voltage (register offset 1) over and over until the new value is served;
that time is the delay (it includes one Modbus round trip on the loopback,
which the report also measures alone).  bmsgw never writes to this bus:
every byte it sends is counted and reported.

Figures, not assertions.   usage: bench_listen.py [ROUNDS]"""
import os
import socket
import statistics
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
from harness import Gateway, free_port  # noqa: E402

# the capture's frames of pack 2 (bms/PROTOCOLS.md section 39)
PIA_REQ = bytes.fromhex("02041000001274f4")
PIA = bytes.fromhex("0204241475fd9f33df4c2c040e02a903e100440cc80b570cce0cc60b5c0b5400000082008203e870a5")
PIB_REQ = bytes.fromhex("02041100001a74ce")
PIB = bytes.fromhex("0204340cc80cc90cc90cc70cc70cca0cc80cc90cc60cca0cc80ccb0cc70cc90ccb0cce0b5c0b540b560b560aab"
                    "0aab0aab0aab0b510b531736")
PIC_REQ = bytes.fromhex("020112000090392d")
PIC = bytes.fromhex("0201120000000000000000010000000000000300001996")
BASE = 290


def crc(b):
    c = 0xFFFF
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
    return bytes([c & 0xFF, c >> 8])


def frame(f, addr, volts_raw=None):
    body = bytearray(f[:-2])
    body[0] = addr
    if volts_raw is not None:
        body[3:5] = struct.pack(">H", volts_raw)
    return bytes(body) + crc(body)


class Reader:
    """A Modbus TCP client on a connection of its own (FC 03)."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.tid = 0

    def reg(self, unit, offset):
        self.tid = (self.tid + 1) & 0xFFFF
        self.s.sendall(struct.pack(">HHHBBHH", self.tid, 0, 6, unit, 3, BASE + offset, 1))
        b = b""
        while len(b) < 9:
            b += self.s.recv(64)
        return struct.unpack(">H", b[9:11])[0] if b[7] == 3 and len(b) >= 11 else None


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    bus = srv.getsockname()[1]
    gw_port, http = free_port(), free_port()
    conf = "[gateway]\nlisten = 127.0.0.1:%d\nstate_file = none\nstale_after = 30\n[http]\nlisten = 127.0.0.1:%d\n" % (
        gw_port, http)
    for unit, addr in ((1, 1), (2, 2), (3, 3)):
        conf += "[pack.p%d]\nprotocol = seplos3\nport = tcp://127.0.0.1:%d\naddress = %d\nunit_id = %d\nlisten = true\n" % (
            addr, bus, addr, unit)
    gw = Gateway(conf, gw_port)
    try:
        srv.settimeout(10)
        link, _ = srv.accept()
        link.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        link.setblocking(False)
        rd = Reader(gw_port)
        delays, rtts, written = [], [], 0
        for r in range(rounds):
            v = 5000 + r
            for addr in (2, 3, 1):
                own = addr == 1
                for req, ans in ((PIA_REQ, PIA), (PIB_REQ, PIB), (PIC_REQ, PIC)):
                    time.sleep(0.002)  # the master's and the packs' pace
                    if not own:
                        link.sendall(frame(req, addr))
                        time.sleep(0.002)
                    link.sendall(frame(ans, addr, v if ans is PIA else None))
                    t0 = time.perf_counter()
                # the round's last answer of this pack has left: wait for its registers
                deadline = t0 + 1.0
                got = None
                while time.perf_counter() < deadline:
                    got = rd.reg(addr, 1)
                    if got == v:
                        break
                if got == v and r >= 2:  # the first rounds learn what the master asks
                    delays.append((time.perf_counter() - t0) * 1000)
            try:
                written += len(link.recv(4096))
            except BlockingIOError:
                pass
        for _ in range(200):
            t = time.perf_counter()
            rd.reg(1, 1)
            rtts.append((time.perf_counter() - t) * 1000)
    finally:
        gw.stop()
    if not delays:
        print("listen: no delay measured (the registers never took the new values)")
        return 1
    delays.sort()
    print("listen mode (seplos3, 3 packs, the master's own data as pack 1), %d rounds:" % rounds)
    print("  answer on the wire -> registers: p50 %.2f ms, p95 %.2f ms, max %.2f ms (%d samples; goal < 5 ms)" % (
        statistics.median(delays), delays[int(0.95 * (len(delays) - 1))], delays[-1], len(delays)))
    print("  one Modbus read alone (included above): p50 %.3f ms" % statistics.median(rtts))
    print("  bytes bmsgw wrote to the bus: %d" % written)
    return 0


if __name__ == "__main__":
    sys.exit(main())
