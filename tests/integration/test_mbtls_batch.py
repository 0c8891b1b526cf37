#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Modbus/TCP Security on 802: requests that come together are answered
together (issue 62 item 10), end to end with the real bmsgw and a TLS
client that sees the records on the wire (Python's ssl over memory BIOs on
a plain socket):

- ten requests, each in its own record, sent in one write (one of them
  asking for 126 registers): ten answers in order, the exception in its
  place, the reads equal to 502's, all of them in one record;
- sixty requests sent in one write (more than a client's buffer of two
  ADUs holds): sixty answers in order, in at most three records;
- partial records: a whole request with the first bytes of the next is
  answered before the rest of the next arrives, and a request whose
  record header comes in two writes is answered once it is whole;
- a client that sends requests and never reads its answers is dropped
  once its socket is full, while another client's reads are answered
  throughout: the loop never waits for a slow reader.
Prints "N passed, N failed".
"""
import os
import select
import socket
import ssl
import struct
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ROLE_EXT, SERVER_EXT, Checks, Gateway, Sim, free_port, make_ca, mbap_request,  # noqa: E402
                     mbread, wait_port, wait_until)

c = Checks()
BASE = 290
TMP = tempfile.mkdtemp(prefix="bmsgw-mbtls-batch-")
APPDATA = 23  # a TLS 1.3 record's outer content type


def read_req(tid, count=20, unit=1, addr=BASE):
    return mbap_request(tid, unit, struct.pack(">BHH", 3, addr, count))


class Client:
    """A TLS client whose records are its own: each write() is one record,
    recv_answers() counts the records that carried the answers."""

    def __init__(self, port, who="viewer"):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.load_verify_locations(os.path.join(TMP, "ca.pem"))
        ctx.load_cert_chain(os.path.join(TMP, who + ".pem"), os.path.join(TMP, who + ".key"))
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.inc, self.out)
        self.wire = b""     # received bytes not yet a whole record
        self.plain = b""    # decrypted bytes not yet a whole ADU
        self.records = 0    # application-data records received
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.sock.sendall(self.out.read())
                self._take(self.sock.recv(65536), count=False)
        self.sock.sendall(self.out.read())  # the client's Finished

    def records_of(self, payloads):
        """The bytes of one record for each payload."""
        for p in payloads:
            self.tls.write(p)
        return self.out.read()

    def _take(self, data, count=True):
        if not data:
            raise ConnectionError("closed")
        self.wire += data
        while len(self.wire) >= 5 and len(self.wire) >= 5 + (self.wire[3] << 8 | self.wire[4]):
            n = 5 + (self.wire[3] << 8 | self.wire[4])
            if count and self.wire[0] == APPDATA:
                self.records += 1
            self.inc.write(self.wire[:n])
            self.wire = self.wire[n:]

    def recv_answers(self, n, timeout=10):
        """n whole ADUs, or fewer when none comes for timeout seconds."""
        adus = []
        self.sock.settimeout(timeout)
        while len(adus) < n:
            while len(self.plain) >= 6 and len(self.plain) >= 6 + (self.plain[4] << 8 | self.plain[5]):
                al = 6 + (self.plain[4] << 8 | self.plain[5])
                adus.append(self.plain[:al])
                self.plain = self.plain[al:]
            if len(adus) >= n:
                break
            try:
                self.plain += self.tls.read(65536)
                continue
            except ssl.SSLWantReadError:
                pass
            try:
                self._take(self.sock.recv(65536))
            except (socket.timeout, ConnectionError, OSError):
                break
        return adus

    def close(self):
        self.sock.close()


def regs(adu):
    """A read's registers (bytes), or ("exception", code)."""
    if len(adu) >= 9 and adu[7] & 0x80:
        return ("exception", adu[8])
    return adu[9:]


def plain_read(gw_port, count=20):
    out = mbread(gw_port, 1, BASE, count)
    return out if out.startswith("ok") else None


def test_batch(tls_port, gw_port):
    print("== ten requests in ten records sent together: ten answers in one record")
    cl = Client(tls_port)
    reqs = [read_req(t) for t in range(1, 11)]
    reqs[4] = read_req(5, count=126)  # too many registers: 0x03 in its place

    def batch():
        before = cl.records
        cl.sock.sendall(cl.records_of(reqs))
        adus = cl.recv_answers(10)
        after = plain_read(gw_port)
        return adus, cl.records - before, after

    def as_502(adus, after):
        r = regs(adus[0]) if adus else b""
        return after is not None and len(r) == 40 and "ok " + " ".join(map(str, struct.unpack(">20H", r))) == after

    # the map moves as the pack is polled: a batch whose reads equal 502's read after it
    got = []
    same = wait_until(lambda: got.append(batch()) or as_502(got[-1][0], got[-1][2]), 15, 0.2)
    adus, records, _ = got[-1]
    c.eq(len(adus), 10, "ten answers")
    c.eq([a[0] << 8 | a[1] for a in adus], list(range(1, 11)), "in the order asked (transaction ids 1..10)")
    c.eq(regs(adus[4]), ("exception", 3), "the fifth (126 registers): exception 0x03 in its place")
    reads = [regs(a) for i, a in enumerate(adus) if i != 4]
    c.ok(all(len(r) == 40 for r in reads) and len(set(reads)) == 1, "the nine reads: 20 registers each, the same")
    c.ok(same, "the reads equal 502's read of the same registers")
    c.eq(records, 1, "all ten answers in one TLS record")

    print("== sixty requests sent together (more than the client's buffer holds)")
    before = cl.records
    cl.sock.sendall(cl.records_of([read_req(t, count=125) for t in range(100, 160)]))
    adus = cl.recv_answers(60)
    c.ok([a[0] << 8 | a[1] for a in adus] == list(range(100, 160)), "sixty answers in order (%d)" % len(adus))
    c.ok(all(len(a) == 9 + 250 for a in adus), "each with its 125 registers")
    c.ok(cl.records - before <= 3, "in %d records (a write per batch the buffer held, not per answer)"
         % (cl.records - before))
    cl.close()


def test_partial(tls_port):
    print("== partial records")
    cl = Client(tls_port)
    a = cl.records_of([read_req(1)])
    b = cl.records_of([read_req(2)])
    cl.sock.sendall(a + b[:10])
    first = cl.recv_answers(1)
    c.eq([x[0] << 8 | x[1] for x in first], [1], "a whole request is answered while the next record is cut short")
    cl.sock.sendall(b[10:])
    c.eq([x[0] << 8 | x[1] for x in cl.recv_answers(1)], [2], "... and the next once its record is whole")
    d = cl.records_of([read_req(3)])
    cl.sock.sendall(d[:3])  # a part of the record header
    c.eq(cl.recv_answers(1, timeout=0.5), [], "a record with half its header: nothing yet")
    cl.sock.sendall(d[3:])
    c.eq([x[0] << 8 | x[1] for x in cl.recv_answers(1)], [3], "answered once the rest came")
    cl.close()


def hog(port, result):
    """Requests (forty to a record) sent as long as the server takes them,
    never an answer read; result: how the connection ended."""
    cl = Client(port)
    cl.sock.setblocking(False)
    chunk = cl.records_of([b"".join(read_req(t & 0xFFFF, count=125) for t in range(40))] * 25)
    deadline = time.monotonic() + 60
    pending = b""
    try:
        while time.monotonic() < deadline:
            if not pending:
                pending = chunk
            _, w, _ = select.select([], [cl.sock], [], 1.0)
            if w:
                pending = pending[cl.sock.send(pending):]
        result.append("still open after 60 s")
    except (ConnectionResetError, BrokenPipeError) as e:
        result.append(type(e).__name__)
    except OSError as e:
        result.append("error %s" % e)
    cl.sock.close()


def test_slow_reader(tls_port):
    print("== a client that never reads its answers, beside one that does")
    good = Client(tls_port, "operator")
    result = []
    th = threading.Thread(target=hog, args=(tls_port, result), daemon=True)
    th.start()
    answered, asked = 0, 0
    while True:  # reads until the other is dropped, at least one
        asked += 1
        good.sock.sendall(good.records_of([read_req(asked & 0xFFFF)]))
        got = good.recv_answers(1, timeout=5)
        answered += len(got) == 1 and (got[0][0] << 8 | got[0][1]) == asked & 0xFFFF
        if not th.is_alive():
            break
    th.join()
    c.ok(result and result[0] in ("ConnectionResetError", "BrokenPipeError"),
         "the client that does not read is dropped once its socket is full (%s)" % result)
    c.ok(asked > 0 and answered == asked, "the other client's %d reads meanwhile all answered (%d)" % (asked, answered))
    good.sock.sendall(good.records_of([read_req(7)]))
    c.eq([x[0] << 8 | x[1] for x in good.recv_answers(1)], [7], "and it reads on after")
    good.close()


def main():
    make_ca(TMP, "ca", [("server", SERVER_EXT), ("viewer", ROLE_EXT % "Viewer"),
                        ("operator", ROLE_EXT % "Operator")])
    sim = Sim()
    gw_port, tls_port = free_port(), free_port()
    gw = Gateway("[gateway]\nlisten = 127.0.0.1:%d\nstate_file = none\n"
                 "[modbus_tls]\nlisten = 127.0.0.1:%d\ncert = %s/server.pem\nkey = %s/server.key\nca = %s/ca.pem\n"
                 "write_role = Operator\n"
                 "[pack.p1]\nprotocol = daly\nport = tcp://127.0.0.1:%d\npoll_interval = 0.5\n"
                 % (gw_port, tls_port, TMP, TMP, TMP, sim.port), gw_port)
    try:
        c.ok(wait_port(tls_port), "802 listens")
        c.ok(wait_until(lambda: plain_read(gw_port) is not None, 15), "the pack is read (502 answers)")
        test_batch(tls_port, gw_port)
        test_partial(tls_port)
        test_slow_reader(tls_port)
        c.ok(gw.alive(), "bmsgw still runs")
    finally:
        if c.failed:
            gw.dump(40)
        gw.stop()
        sim.stop()
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
