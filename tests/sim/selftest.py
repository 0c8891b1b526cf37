#!/usr/bin/env python3
"""Self-test of bmsgw-sim (Daly classic).  Usage: selftest.py [PATH-TO-bmsgw-sim]

Starts the simulator on free ports / a pty in a temporary directory, talks to
it as a gateway would, and checks frames, checksums, addressing, pacing,
faults, the control port, signals and the command line.  Prints one line per
check, then "N passed, N failed", and exits 1 if any failed.  Needs only python3.
"""
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import termios
import time
import tty

SIM = sys.argv[1] if len(sys.argv) > 1 else "build/bmsgw-sim"
failures = 0
passes = 0


def check(cond, what):
    global failures, passes
    print(("PASS " if cond else "FAIL ") + what, flush=True)
    if cond:
        passes += 1
    else:
        failures += 1


def req(host, cmd, fill=0, data=None):
    b = bytes([0xA5, host, cmd, 8] + (list(data) if data else [fill] * 8))
    return b + bytes([sum(b) & 0xFF])


def frames(data):
    return [data[i:i + 13] for i in range(0, len(data), 13)]


def sum_ok(f):
    return len(f) == 13 and f[0] == 0xA5 and (sum(f[:12]) & 0xFF) == f[12]


class Sim:
    def __init__(self, *args, pty_path=None, protocol="daly"):
        cmd = [SIM, "--protocol", protocol, "--control", "127.0.0.1:0"]
        if pty_path:
            cmd += ["--pty", pty_path]
        else:
            cmd += ["--tcp", "127.0.0.1:0"]
        self.p = subprocess.Popen(cmd + list(args), stdout=subprocess.PIPE, text=True)
        self.tcp = self.pty = None
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise RuntimeError("simulator did not start")
            m = re.match(r"listening tcp 127\.0\.0\.1:(\d+)", line)
            if m:
                self.tcp = int(m.group(1))
            m = re.match(r"pty (\S+) -> (\S+)", line)
            if m:
                self.pty = m.group(2)
            m = re.match(r"control 127\.0\.0\.1:(\d+)", line)
            if m:
                self.ctlport = int(m.group(1))
                break
        self.ctlsock = socket.create_connection(("127.0.0.1", self.ctlport))
        self.ctlf = self.ctlsock.makefile("r")

    def ctl(self, line):
        self.ctlsock.sendall((line + "\n").encode())
        return self.ctlf.readline().strip()

    def state(self):
        return json.loads(self.ctl("state"))

    def stats(self):
        return json.loads(self.ctl("stats"))

    def stop(self):
        self.ctlsock.close()
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        return self.p.wait(5)


class TcpWire:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def xfer(self, b, quiet=0.15, limit=3.0):
        """Send b, collect until `quiet` s without bytes.  Returns (data, reads, t_first, t_last)."""
        self.s.sendall(b)
        t0 = time.monotonic()
        data, reads, tf, tl = b"", 0, None, None
        while True:
            now = time.monotonic()
            wait = (tl if tl else t0) + quiet - now if data else t0 + 0.5 + quiet - now
            if wait <= 0 or now - t0 > limit:
                break
            r, _, _ = select.select([self.s], [], [], wait)
            if not r:
                continue
            d = self.s.recv(4096)
            if not d:
                return data, reads, tf, "eof"
            tl = time.monotonic()
            if tf is None:
                tf = tl - t0
            data += d
            reads += 1
        return data, reads, tf, (tl - t0) if tl else None

    def close(self):
        self.s.close()


class PtyWire(TcpWire):
    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)
        termios.tcflush(self.fd, termios.TCIOFLUSH)

        class F:
            def __init__(s, fd):
                s.fd = fd

            def fileno(s):
                return s.fd

            def sendall(s, b):
                os.write(s.fd, b)

            def recv(s, n):
                return os.read(s.fd, n)

            def close(s):
                os.close(s.fd)
        self.s = F(self.fd)


def decode_and_compare(w, host, st):
    """Read 0x90..0x98 from the wire and compare with a `state` pack."""
    got = {}
    d, *_ = w.xfer(req(host, 0x90))
    f = d[:13]
    got["voltage"] = round((f[4] << 8 | f[5]) / 10, 1)
    got["current"] = round((30000 - (f[8] << 8 | f[9])) / 10, 1)
    got["soc"] = round((f[10] << 8 | f[11]) / 10, 1)
    d, *_ = w.xfer(req(host, 0x93))
    f = d[:13]
    got["chg_mos"], got["dsg_mos"] = f[5], f[6]
    got["remaining_ah"] = int.from_bytes(f[8:12], "big") / 1000
    d, *_ = w.xfer(req(host, 0x94))
    f = d[:13]
    ncells, ntemps = f[4], f[5]
    got["cycles"] = f[9] << 8 | f[10]
    d, *_ = w.xfer(req(host, 0x95))
    cells = {}
    for fr in frames(d):
        for k in range(3):
            cells[(fr[4] - 1) * 3 + k] = fr[5 + 2 * k] << 8 | fr[6 + 2 * k]
    got["cells_mv"] = [cells[i] for i in range(ncells)]
    d, *_ = w.xfer(req(host, 0x96))
    temps = {}
    for fr in frames(d):
        for k in range(7):
            temps[(fr[4] - 1) * 7 + k] = fr[5 + k] - 40
    got["temps_c"] = [temps[i] for i in range(ntemps)]
    d, *_ = w.xfer(req(host, 0x98))
    got["alarm_bytes"] = list(d[4:12])
    bad = {k: (v, st[k]) for k, v in got.items() if v != st[k]}
    return bad


def test_tcp():
    sim = Sim("--pack", "address=1,cycles=42,soc=55.0,current=-12.5",
              "--pack", "address=2,cells=8,sensors=9,full16=1", "--seed", "7")
    w = TcpWire(sim.tcp)
    check(sim.ctl("freeze") == "ok", "control freeze")

    d, *_ = w.xfer(req(0x40, 0x90))
    check(len(d) == 13 and sum_ok(d) and d[1] == 1 and d[2] == 0x90, "0x90 to 0x40: one 13-byte frame, checksum, address 1")
    d2, *_ = w.xfer(req(0x80, 0x90))
    check(d2 == d, "0x80 reaches board 1 (same answer)")
    check(d[8] << 8 | d[9] == 30125, "current -12.5 A -> raw 30125")
    d, *_ = w.xfer(req(0x40, 0x90, fill=0xAA))
    check(len(d) == 13 and sum_ok(d), "request with 0xAA fill answered")

    d, *_ = w.xfer(req(0x40, 0x95))
    fs = frames(d)
    check(len(d) == 78 and all(sum_ok(f) for f in fs) and [f[4] for f in fs] == [1, 2, 3, 4, 5, 6],
          "0x95 16S: 6 frames numbered 1..6")
    check(fs[5][7:11] == b"\0\0\0\0", "0x95 unused slots are 0 without junk")
    d, *_ = w.xfer(req(0x41, 0x95))
    fs = frames(d)
    check(len(fs) == 16 and all(sum_ok(f) and f[1] == 2 for f in fs) and [f[4] for f in fs] == list(range(1, 17)),
          "0x95 full16 (8 cells, board 2 via 0x41): 16 frames")
    check(any(f[5:11] != b"\0" * 6 for f in fs[3:]), "full16: junk in unused slots")
    d, *_ = w.xfer(req(0x41, 0x96))
    fs = frames(d)
    check(len(fs) == 2 and [f[4] for f in fs] == [1, 2] and fs[1][6] == 25 + 40 and fs[1][7] == 0xFF, "0x96 9 sensors: 2 frames, unused 0xFF (junk)")
    d, *_ = w.xfer(req(0x41, 0x94))
    check(d[4] == 8 and d[5] == 9, "0x94 board 2: 8 cells, 9 sensors")

    for host in (0x42, 0x81, 0x20):
        d, *_ = w.xfer(req(host, 0x90), quiet=0.2)
        check(d == b"", "no answer for host address 0x%02x" % host)

    st0 = sim.stats()
    bad = bytearray(req(0x40, 0x90))
    bad[12] ^= 0xFF
    d, *_ = w.xfer(bytes(bad), quiet=0.2)
    d2, *_ = w.xfer(req(0x40, 0x42), quiet=0.2)
    st1 = sim.stats()
    check(d == b"" and d2 == b"" and st1["bad_requests"] == st0["bad_requests"] + 2,
          "bad checksum and unknown command: no answer, counted")
    d, *_ = w.xfer(b"\x00\x11junk" + req(0x40, 0x90))
    check(len(d) == 13 and sum_ok(d), "stray bytes before a request are skipped")

    # pacing: 78 bytes at 9600 baud = 81 ms, one write per frame
    d, reads, tf, tl = w.xfer(req(0x40, 0x95))
    check(0.015 <= tf <= 0.09, "first frame after %.0f ms (20..60 ms + 13.5 ms frame)" % (tf * 1000))
    check(tl - tf >= 0.060, "6 frames spread over %.0f ms (>= 67 ms at 9600)" % ((tl - tf) * 1000))
    check(reads >= 4, "TCP: frames arrive in separate reads (%d reads)" % reads)

    # state == wire
    for addr, host in ((1, 0x40), (2, 0x41)):
        st = [p for p in sim.state()["packs"] if p["address"] == addr][0]
        diff = decode_and_compare(w, host, st)
        check(not diff, "state JSON equals the wire for pack %d %s" % (addr, diff or ""))

    # set
    for cmd in ("set 1 soc 77.7", "set 1 current 3.3", "set 1 cycles 500", "set 1 cell 3 3650",
                "set 1 temp 2 -5", "set 1 alarm 2 0x80", "set 1 chg_mos 0", "set 1 dsg_mos 0"):
        check(sim.ctl(cmd) == "ok", "control " + cmd)
    st = sim.state()["packs"][0]
    check(st["soc"] == 77.7 and st["current"] == 3.3 and st["cycles"] == 500 and st["cells_mv"][2] == 3650
          and st["temps_c"][1] == -5 and st["alarm_bytes"][2] == 0x80 and st["chg_mos"] == 0 and st["dsg_mos"] == 0,
          "state reflects set")
    check(abs(st["voltage"] - round(sum(st["cells_mv"]) / 1000, 1)) < 1e-9, "voltage = sum of cells, 0.1 V")
    diff = decode_and_compare(w, 0x40, st)
    check(not diff, "wire after set equals state %s" % (diff or ""))
    d, *_ = w.xfer(req(0x40, 0x90))
    check(d[8] << 8 | d[9] == 30000 - 33, "charging 3.3 A -> raw 29967 (< 30000)")
    d, *_ = w.xfer(req(0x40, 0xDA, data=[1, 0, 0, 0, 0, 0, 0, 0]))
    check(len(d) == 13 and d[2] == 0xDA and d[4] == 1 and sim.state()["packs"][0]["chg_mos"] == 1,
          "write 0xDA charge MOSFET on")
    for bad_cmd in ("set 9 soc 1", "set 1 soc 101", "set 1 cell 17 3000", "set 1 nope 1", "fault 1 nope",
                    "fault 1 silent 0", "bogus", "set 1 soc"):
        r = sim.ctl(bad_cmd)
        check(r.startswith("error: "), "control '%s' -> %s" % (bad_cmd, r))

    # faults
    check(sim.ctl("fault 1 silent 1") == "ok", "fault silent 1")
    d, *_ = w.xfer(req(0x40, 0x90), quiet=0.2)
    d2, *_ = w.xfer(req(0x40, 0x90))
    check(d == b"" and len(d2) == 13, "silent for one request, then answers")
    sim.ctl("fault 1 badsum 1")
    d, *_ = w.xfer(req(0x40, 0x95))
    check(len(d) == 78 and not any(sum_ok(f) for f in frames(d)), "badsum: every frame has a wrong checksum")
    sim.ctl("fault 1 truncate 1")
    d, *_ = w.xfer(req(0x40, 0x95))
    check(len(d) == 74 and d[9] == 0xA5 and all(sum_ok(f) for f in frames(d[9:])), "truncate: first frame 9 bytes, rest intact")
    sim.ctl("fault 1 garbage 1")
    d, *_ = w.xfer(req(0x40, 0x90))
    n = len(d) - 13
    check(1 <= n <= 8 and sum_ok(d[n:]), "garbage: %d junk bytes before the frame" % n)
    sim.ctl("fault 1 slow 1")
    d, reads, tf, tl = w.xfer(req(0x40, 0x95), quiet=0.3)
    check(len(d) == 78 and tl >= 0.78, "slow: 78 bytes in %.0f ms (>= 812 ms at 960 baud)" % (tl * 1000))
    sim.ctl("fault 1 echo 1")
    r = req(0x40, 0x90)
    d, *_ = w.xfer(r)
    check(d[:13] == r and len(d) == 26 and sum_ok(d[13:]), "echo: request echoed, then the answer")
    sim.ctl("fault 1 split 1")
    d, reads, tf, tl = w.xfer(req(0x40, 0x90))
    check(len(d) == 13 and sum_ok(d) and reads >= 5, "split: 13 bytes in %d reads" % reads)
    sim.ctl("fault 1 merge 1")
    d, reads, tf, tl = w.xfer(req(0x40, 0x95))
    check(len(d) == 78 and reads == 1, "merge: 6 frames in %d read(s)" % reads)
    sim.ctl("fault 1 silent")
    ok = all(w.xfer(req(0x40, 0x90), quiet=0.15)[0] == b"" for _ in range(3))
    sim.ctl("fault 1 none")
    d, *_ = w.xfer(req(0x40, 0x90))
    check(ok and len(d) == 13, "fault without COUNT lasts until 'fault ADDR none'")
    d, *_ = w.xfer(req(0x41, 0x90))
    check(len(d) == 13, "faults are per pack")
    sim.ctl("fault 1 drop 1")
    d, _, _, tl = w.xfer(req(0x40, 0x90))
    check(d == b"" and tl == "eof", "drop: connection closed")
    w.close()

    w = TcpWire(sim.tcp)
    w2 = TcpWire(sim.tcp)
    time.sleep(0.1)
    d, _, _, tl = w.xfer(b"", quiet=0.1)
    check(tl == "eof", "a new client replaces the old one")
    d, *_ = w2.xfer(req(0x40, 0x90))
    check(len(d) == 13, "the new client is served")
    st = sim.stats()
    check(st["connections"] == 3 and st["answers"] > 0 and st["requests"] >= st["answers"], "stats %s" % st)

    # a client that half-closes (printf ... | nc) still gets its answer
    h = socket.create_connection(("127.0.0.1", sim.tcp))
    h.sendall(req(0x40, 0x95))
    h.shutdown(socket.SHUT_WR)
    h.settimeout(3)
    got = b""
    while True:
        d = h.recv(4096)
        if not d:
            break
        got += d
    h.close()
    check(len(got) == 78, "half-closed client gets the answer, then EOF (%d bytes)" % len(got))
    check(sim.ctl("set 2 cells 5") == "ok" and len(sim.state()["packs"][1]["cells_mv"]) == 5, "set cells")
    w2 = TcpWire(sim.tcp)

    # movement
    sim.ctl("set 1 current 100")
    sim.ctl("set 1 capacity 1")
    sim.ctl("set 1 soc 50")
    sim.ctl("thaw")
    time.sleep(2.2)
    s = sim.state()["packs"][0]["soc"]
    check(s > 50.5, "thawed: SOC moves (50 -> %.1f, 100 A on 1 Ah)" % s)
    check(sim.ctl("freeze") == "ok", "freeze again")
    sim.ctl("set 1 soc 94.9")
    sim.ctl("thaw")
    time.sleep(1.2)
    sim.ctl("freeze")
    s = sim.state()["packs"][0]
    check(s["current"] == -100.0, "current flips sign at 95 %% SOC (%s)" % s["current"])

    c2 = socket.create_connection(("127.0.0.1", sim.ctlport))
    c2.sendall(b"quit\n")
    check(c2.makefile().readline().strip() == "ok", "quit answers ok")
    check(sim.p.wait(5) == 0, "quit exits 0")
    w2.close()


def test_pty():
    d = tempfile.mkdtemp()
    link = os.path.join(d, "ttyDALY")
    sim = Sim("--pack", "cells=16", pty_path=link)
    check(os.path.islink(link) and os.readlink(link) == sim.pty, "pty link %s -> %s" % (link, sim.pty))
    w = PtyWire(link)
    data, reads, tf, tl = w.xfer(req(0x40, 0x90))
    check(len(data) == 13 and sum_ok(data), "pty: 0x90 answer")
    data, reads, tf, tl = w.xfer(req(0x40, 0x95))
    check(len(data) == 78 and [f[4] for f in frames(data)] == [1, 2, 3, 4, 5, 6] and all(sum_ok(f) for f in frames(data)),
          "pty: 0x95 6 frames")
    check(tl - tf >= 0.070 and reads >= 10, "pty: bytes paced (%.0f ms, %d reads)" % ((tl - tf) * 1000, reads))
    sim.ctl("set 1 full16 1")
    data, *_ = w.xfer(req(0x40, 0x95))
    check(len(data) == 16 * 13, "pty: full16 -> 16 frames")
    sim.ctl("fault 1 drop 1")
    data, *_ = w.xfer(req(0x40, 0x90))
    check(len(data) == 13, "pty: drop is ignored")
    w.close()
    w = PtyWire(link)
    data, *_ = w.xfer(req(0x40, 0x90))
    check(len(data) == 13, "pty: reopened and served")
    w.close()
    rc = sim.stop()
    check(rc == 0 and not os.path.lexists(link), "SIGTERM: exit 0, link removed")
    os.rmdir(d)


def test_cmdline():
    for args in ([], ["--protocol", "daly"], ["--protocol", "nope", "--tcp", "127.0.0.1:0"],
                 ["--protocol", "daly", "--tcp", "x"], ["--protocol", "daly", "--tcp", "127.0.0.1:0", "--pty", "/tmp/x"],
                 ["--protocol", "daly", "--tcp", "127.0.0.1:0", "--pack", "cells=99"],
                 ["--protocol", "daly", "--tcp", "127.0.0.1:0", "--pack", "address=1", "--pack", "address=1"],
                 ["--protocol", "daly", "--tcp", "127.0.0.1:0", "--bogus"]):
        p = subprocess.run([SIM] + args, capture_output=True, text=True, timeout=5)
        check(p.returncode == 2 and "usage:" in p.stderr, "bad command line %s -> exit 2 + usage" % args)
    p = subprocess.Popen([SIM, "--protocol", "daly", "--tcp", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    p.send_signal(signal.SIGINT)
    check(line.startswith("listening tcp 127.0.0.1:") and p.wait(5) == 0, "SIGINT: exit 0")


def crc16(b):
    crc = 0xFFFF
    for x in b:
        crc ^= x
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return b + bytes([crc & 0xFF, crc >> 8])


def jbd_write(mask):
    body = bytes([0xE1, 2, 0, mask])
    chk = (0x10000 - sum(body)) & 0xFFFF
    return bytes([0xDD, 0x5A]) + body + bytes([chk >> 8, chk & 0xFF, 0x77])


def test_control():
    """MOSFET writes in each control mode (normal, refuse, noswitch, silent)."""
    sim = Sim("--static")
    w = TcpWire(sim.tcp)
    data, *_ = w.xfer(req(0x40, 0xD9, data=[0] * 8))
    st = sim.state()["packs"][0]
    check(sum_ok(data) and data[2] == 0xD9 and data[4] == 0 and st["dsg_mos"] == 0 and st["dsg_set"] == 0
          and st["writes"] == 1, "daly: 0xD9 off -> answer D0 = 0, discharge MOSFET off")
    check(sim.ctl("control 1 refuse") == "ok", "control 1 refuse")
    data, *_ = w.xfer(req(0x40, 0xD9, data=[1] + [0] * 7))
    st = sim.state()["packs"][0]
    check(sum_ok(data) and data[4] == 0 and st["dsg_mos"] == 0 and st["control"] == "refuse",
          "daly refuse: answer D0 = the unchanged state (0), nothing switched")
    sim.ctl("control 1 noswitch")
    data, *_ = w.xfer(req(0x40, 0xD9, data=[1] + [0] * 7))
    st = sim.state()["packs"][0]
    check(sum_ok(data) and data[4] == 1 and st["dsg_set"] == 1 and st["dsg_mos"] == 0,
          "daly noswitch: acknowledged (D0 = 1), the setting changes, the MOSFET stays off")
    sim.ctl("control 1 silent")
    data, *_ = w.xfer(req(0x40, 0xDA, data=[0] * 8))
    st = sim.state()["packs"][0]
    check(data == b"" and st["chg_mos"] == 1 and st["chg_set"] == 1, "daly silent: no answer, nothing changes")
    check(sim.stats()["writes"] == 4, "stats: writes counts every MOSFET write (%s)" % sim.stats()["writes"])
    check(sim.ctl("control 1 bogus").startswith("error:") and sim.ctl("control 9 normal").startswith("error:"),
          "control: unknown mode or address is an error")
    check(sim.ctl("set 1 chg_set 0") == "ok" and sim.state()["packs"][0]["chg_set"] == 0, "set chg_set")
    w.close()
    sim.stop()

    sim = Sim("--static", protocol="daly-modbus")
    w = TcpWire(sim.tcp)
    data, *_ = w.xfer(crc16(bytes([0x81, 0x06, 0x01, 0x21, 0x00, 0x00])))
    check(data == crc16(bytes([0x51, 0x06, 0x01, 0x21, 0x00, 0x00])) and sim.state()["packs"][0]["chg_mos"] == 0,
          "daly-modbus: FC06 0x121 = 0 echoed from 0x51, charge MOSFET off")
    sim.ctl("control 1 refuse")
    data, *_ = w.xfer(crc16(bytes([0x81, 0x06, 0x01, 0x21, 0x00, 0x01])))
    check(data == crc16(bytes([0x51, 0x86, 0x04])) and sim.state()["packs"][0]["chg_mos"] == 0,
          "daly-modbus refuse: exception 0x86 / 0x04, nothing switched")
    w.close()
    sim.stop()

    sim = Sim("--static", protocol="jbd")
    w = TcpWire(sim.tcp)
    data, *_ = w.xfer(jbd_write(0x02))
    st = sim.state()["packs"][0]
    check(data == bytes.fromhex("dde10000000077") and st["dsg_mos"] == 0 and st["chg_mos"] == 1,
          "jbd: 0xE1 mask 2 -> acknowledged, discharge off, charge on")
    sim.ctl("control 1 refuse")
    data, *_ = w.xfer(jbd_write(0x00))
    check(data == bytes.fromhex("dde18000ff8077") and sim.state()["packs"][0]["dsg_mos"] == 0,
          "jbd refuse: DD E1 80 00 FF 80 77, nothing switched")
    w.close()
    sim.stop()

    sim = Sim("--static", protocol="jk-pb")
    w = TcpWire(sim.tcp)
    data, *_ = w.xfer(crc16(bytes([0x01, 0x10, 0x10, 0x74, 0x00, 0x02, 0x04, 0, 0, 0, 0])))
    check(data == crc16(bytes([0x01, 0x10, 0x10, 0x74, 0x00, 0x02])) and sim.state()["packs"][0]["dsg_mos"] == 0,
          "jk-pb: FC16 0x1074 = 0 acknowledged, discharge MOSFET off")
    sim.ctl("control 1 refuse")
    data, *_ = w.xfer(crc16(bytes([0x01, 0x10, 0x10, 0x74, 0x00, 0x02, 0x04, 0, 0, 0, 1])))
    check(data == crc16(bytes([0x01, 0x90, 0x04])) and sim.state()["packs"][0]["dsg_mos"] == 0,
          "jk-pb refuse: exception 0x90 / 0x04, nothing switched")
    w.close()
    sim.stop()


test_cmdline()
test_control()
test_tcp()
test_pty()
print("%d passed, %d failed" % (passes, failures))
sys.exit(1 if failures else 0)
