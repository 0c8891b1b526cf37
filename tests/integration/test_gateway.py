#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: parts=2
"""The gateway suite, end to end: the real bmsgw against the simulated Daly
BMS (the reference protocol), read with
pymodbus (Home Assistant's library, floats decoded as HA does), libmodbus
(tests/tools/mbread) and mbpoll.  tests/run.sh runs it in parts, each with its
share of the tests below (harness.my_part)."""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BIN, ROOT, Checks, Gateway, Sim, free_port, ha_float, mbap_request,  # noqa: E402
                     mbread, my_part, raw_request, recv_adu, s16, wait_until, write_conf)

from pymodbus.client import ModbusTcpClient  # noqa: E402

BASE = 290
c = Checks()


def conf_text(gw_port, link, extra_gw="", extra_pack=""):
    return """[gateway]
listen = 127.0.0.1:%d
base = %d
stale_after = 3
idle_timeout = 30
max_clients = 8
%s
[pack.main]
protocol = daly
port = %s
unit_id = 1
poll_interval = 0.5
timeout = 0.5
retries = 1
%s
""" % (gw_port, BASE, extra_gw, link, extra_pack)


def read_all(client, unit=1):
    rr = client.read_holding_registers(BASE, 125, slave=unit)
    if rr.isError():
        return None
    return rr.registers


def online(client, unit=1):
    r = read_all(client, unit)
    return r if r and r[58] == 1 else None


def check_values(regs, st, label):
    """Compare a register image with the simulator's pack state."""
    p = st["packs"][0]
    cells = p["cells_mv"]
    c.eq(regs[0], round(p["soc"]), label + ": SOC %")
    c.eq(regs[60], round(p["soc"] * 10), label + ": SOC 0.1 %")
    c.eq(regs[1], round(p["voltage"] * 100), label + ": voltage 0.01 V")
    c.eq(s16(regs[2]), round(p["current"] * 10), label + ": current 0.1 A (signed)")
    c.near(ha_float(regs[10:12]), p["voltage"], 1e-4, label + ": voltage float (HA float32 swap word)")
    c.near(ha_float(regs[12:14]), p["current"], 1e-4, label + ": current float")
    c.near(ha_float(regs[14:16]), p["voltage"] * p["current"], 0.05, label + ": power float")
    c.eq(s16(regs[3]), round(p["voltage"] * p["current"]), label + ": power W")
    c.eq(regs[40], len(cells), label + ": cell count")
    want = (cells + [0] * 32)[:16]
    c.eq(regs[20:36], want, label + ": cells 1-16 mV")
    c.eq(regs[83:99], (cells[16:] + [0] * 16)[:16], label + ": cells 17-32 mV")
    c.eq(regs[6], max(cells), label + ": max cell")
    c.eq(regs[7], min(cells), label + ": min cell")
    c.eq(regs[4], max(cells) - min(cells), label + ": cell delta")
    c.eq(regs[44], round(p["remaining_ah"] * 10), label + ": remaining 0.1 Ah")
    c.eq(regs[17], p["dsg_mos"], label + ": discharge MOSFET")
    c.eq(regs[18], p["chg_mos"], label + ": charge MOSFET")
    temps = p["temps_c"]
    c.eq([s16(v) for v in regs[67:67 + len(temps)]], [round(t * 10) for t in temps], label + ": temperatures 0.1 C")
    c.eq(regs[67 + len(temps):75], [0x8000] * (8 - len(temps)), label + ": absent sensors read 0x8000")
    c.near(ha_float(regs[8:10]), sum(temps) / len(temps), 0.01, label + ": average temperature float")
    c.eq(regs[63] << 16 | regs[64], p["cycles"], label + ": cycles")
    c.eq(regs[58], 1, label + ": online flag")
    c.eq(regs[45], 0, label + ": failure flag clear")
    c.eq(regs[103], 1, label + ": protocol id daly")


def test_tcp():
    sim = Sim(packs=("address=1,cells=16,sensors=2,soc=55.5,current=-12.3,cycles=42",))
    gw_port = free_port()
    gw = Gateway(conf_text(gw_port, "tcp://127.0.0.1:%d" % sim.port), gw_port)
    client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    client.connect()
    try:
        regs = wait_until(lambda: online(client), 10)
        if not c.ok(regs is not None, "tcp: pack comes online"):
            gw.dump()
            sim.dump()
            return
        check_values(regs, sim.state(), "pymodbus")
        lt = time.localtime()
        c.eq(regs[41], round(sim.state()["packs"][0]["soc"]), "highest SOC today")
        c.ok(regs[42] == lt.tm_hour and abs(regs[43] - lt.tm_min) <= 1 or lt.tm_min == 0,
             "time of the highest SOC today is now (%d:%02d)" % (regs[42], regs[43]))
        c.eq(s16(regs[52]), round(lt.tm_gmtoff / 3600), "time zone register")

        # libmodbus reads the same image: between two equal pymodbus reads
        # (a poll between them changes the counters and values: read again)
        def stable():  # a libmodbus read between two equal pymodbus reads
            before = read_all(client, 1)
            o = mbread(gw_port, 1, BASE, 125)
            a = read_all(client, 1)
            if before and a and [v for i, v in enumerate(before) if i not in (51, 59)] == \
                    [v for i, v in enumerate(a) if i not in (51, 59)]:
                return o, a
            return None
        out, after = wait_until(stable, 60) or ("no two equal pymodbus reads in 60 s", None)
        c.ok(out.startswith("ok "), "libmodbus read of 125 registers: " + out[:40])
        if out.startswith("ok "):
            lm = [int(x) for x in out.split()[1:]]
            same = [i for i in range(125) if i not in (51, 59) and lm[i] != after[i]]
            c.eq(same, [], "libmodbus image equals pymodbus image (but heartbeat/age)")

        # mbpoll: float voltage at offset 10 (CDAB is mbpoll's default word order)
        mp = subprocess.run(["mbpoll", "-m", "tcp", "-p", str(gw_port), "-a", "1", "-0", "-1",
                             "-r", str(BASE + 10), "-c", "2", "-t", "4:float", "127.0.0.1"],
                            capture_output=True, text=True, timeout=10)
        m = re.search(r"\[%d\]:\s+(-?[0-9.]+)" % (BASE + 10), mp.stdout)
        want = sim.state()["packs"][0]
        c.ok(m is not None and abs(float(m.group(1)) - want["voltage"]) < 1e-3,
             "mbpoll reads voltage float %s" % (m.group(1) if m else mp.stdout[-200:]))
        m = re.search(r"\[%d\]:\s+(-?[0-9.]+)" % (BASE + 12), mp.stdout)
        c.ok(m is not None and abs(float(m.group(1)) - want["current"]) < 1e-3,
             "mbpoll reads current float (negative)")

        # unit ids: 0 and 255 serve the only pack, others 0x0A
        c.eq(mbread(gw_port, 0, BASE, 1).split()[0], "ok", "unit 0 -> the only pack")
        c.eq(mbread(gw_port, 255, BASE, 1).split()[0], "ok", "unit 255 -> the only pack")
        c.eq(mbread(gw_port, 7, BASE, 1), "exception 0x0a", "unknown unit 7 -> 0x0A")
        c.eq(mbread(gw_port, 1, BASE - 1, 2), "exception 0x02", "address below the map -> 0x02")
        c.eq(mbread(gw_port, 1, BASE + 160, 2), "exception 0x02", "read past the map -> 0x02")

        # raw requests: unsupported function and bad quantities are answered at once
        for fc, pdu, exc, what in [
                (1, bytes([1, 1, 34, 0, 2]), 1, "FC1 read coils -> 0x01"),
                (6, bytes([6, 1, 34, 0, 1]), 2, "FC6 write to offset 0 (read only) -> 0x02"),
                (6, bytes([6, 0, 0, 0, 1]), 2, "FC6 write below the map -> 0x02"),
                (16, bytes([16, 1, 34, 0, 1, 2, 0, 1]), 2, "FC16 write to offset 0 (read only) -> 0x02"),
                (6, bytes([6, 1, 51, 0, 1]), 1, "FC6 write to offset 17 of a pack without control -> 0x01"),
                (0x2B, bytes([0x2B, 0x0D, 1, 0]), 1, "FC43 MEI 0x0D (CANopen) -> 0x01"),
                (3, bytes([3, 1, 34, 0, 126]), 3, "quantity 126 -> 0x03"),
                (3, bytes([3, 1, 34, 0, 0]), 3, "quantity 0 -> 0x03")]:
            resp, dt = raw_request(gw_port, mbap_request(0x1234, 1, pdu))
            good = len(resp) == 9 and resp[7] == (fc | 0x80) and resp[8] == exc and resp[0:2] == b"\x12\x34"
            c.ok(good, "%s, not held waiting for more bytes (%.1f ms)" % (what, dt * 1000))

        # a client that sends half a request and stalls delays nobody
        stall = socket.create_connection(("127.0.0.1", gw_port))
        stall.sendall(mbap_request(1, 1, bytes([3, 1, 34, 0, 10]))[:5])
        t0 = time.monotonic()
        for _ in range(20):
            rr = client.read_holding_registers(BASE, 10, slave=1)
        dt = time.monotonic() - t0
        c.ok(not rr.isError(), "20 reads beside a stalled half request: %.1f ms" % (dt * 1000))
        stall.sendall(mbap_request(1, 1, bytes([3, 1, 34, 0, 10]))[5:])
        stall.settimeout(2)
        resp = recv_adu(stall)
        c.ok(len(resp) == 9 + 20 and resp[7] == 3, "the stalled request is answered once complete")
        # pipelined requests in one segment
        stall.sendall(mbap_request(2, 1, bytes([3, 1, 34, 0, 1])) + mbap_request(3, 1, bytes([3, 1, 34, 0, 2])))
        r1 = recv_adu(stall)
        r2 = recv_adu(stall) if len(r1) <= 11 else r1[11:]
        c.ok(r1[:2] == b"\x00\x02" and r2[:2] == b"\x00\x03", "two pipelined requests answered in order")
        stall.close()

        # garbage from a client: connection dropped, daemon fine
        with socket.create_connection(("127.0.0.1", gw_port), timeout=2) as s:
            s.sendall(b"\x00\x01\x12\x34\x00\x06\x01\x03\x01\x22\x00\x01")  # protocol id != 0
            c.eq(s.recv(100), b"", "bad MBAP protocol id: connection closed")
        with socket.create_connection(("127.0.0.1", gw_port), timeout=2) as s:
            s.sendall(b"\x00\x01\x00\x00\xff\xff\x01\x03")  # absurd length
            c.eq(s.recv(100), b"", "absurd MBAP length: connection closed")
        c.ok(gw.alive() and online(client) is not None, "daemon still serving after bad clients")

        # the wire's error counters (offsets 116-118): checksum errors, short frames, timeouts
        def wire_counters():
            r = client.read_holding_registers(BASE + 116, 3, slave=1)
            return None if r.isError() else r.registers
        w0 = wire_counters()
        for kind, idx in (("badsum", 0), ("truncate", 1), ("silent", 2)):
            before = wire_counters()
            got = None
            # a truncated first frame of a multi-frame answer (0x95) is
            # followed by the next frame and counts as a checksum error
            # instead: try again until it lands on a single-frame answer
            for _ in range(6 if kind == "truncate" else 1):
                sim.ctl("fault 1 %s 1" % kind)
                got = wait_until(lambda: (lambda w: w if w and w[idx] > before[idx] else None)(wire_counters()), 5 if kind == "truncate" else 10)
                if got:
                    break
            c.ok(got is not None, "fault %s counts in wire register %d (%s -> %s)" % (kind, 116 + idx, before, got))
            wait_until(lambda: online(client), 10)
        w1 = wire_counters()
        c.ok(w0 is not None and w1 is not None and all(b > a for a, b in zip(w0, w1)),
             "all three wire counters moved (%s -> %s)" % (w0, w1))

        # wire faults: garbage, split and merged segments, bad checksums, echo
        for fault in ("garbage", "split", "merge", "echo", "badsum 3", "truncate 3"):
            sim.ctl("fault 1 %s" % fault)
            sim.ctl("set 1 soc 61.2")
            regs = wait_until(lambda: (lambda r: r if r and r[60] == 612 else None)(online(client)), 10)
            c.ok(regs is not None, "new values arrive through fault '%s'" % fault)
            sim.ctl("fault 1 none")
            if regs:
                check_values(regs, sim.state(), fault)
            sim.ctl("set 1 soc 55.5")
            wait_until(lambda: (lambda r: r if r and r[60] == 555 else None)(online(client)), 10)

        # stale: the BMS stops answering -> 0x0B on data, status stays readable
        sim.ctl("fault 1 silent")
        stale = wait_until(lambda: mbread(gw_port, 1, BASE, 125) == "exception 0x0b", 10)
        c.ok(stale, "silent BMS -> reads of data registers get 0x0B")
        st = client.read_holding_registers(BASE + 58, 2, slave=1)
        c.ok(not st.isError() and st.registers[0] == 0 and st.registers[1] >= 3,
             "online flag 0 and data age readable while stale (%s)" % (None if st.isError() else st.registers))
        hb = client.read_holding_registers(BASE + 51, 1, slave=1)
        c.ok(not hb.isError(), "heartbeat readable while stale")
        cnt = client.read_holding_registers(BASE + 99, 4, slave=1)
        c.ok(not cnt.isError() and (cnt.registers[2] << 16 | cnt.registers[3]) > 0, "failed-poll counter counts")
        sim.ctl("fault 1 none")
        regs = wait_until(lambda: online(client), 10)
        c.ok(regs is not None, "recovers after the BMS answers again")

        # a dropped TCP serial link comes back by itself, logged once (the
        # log from here on: the silence above may have reopened the link,
        # an outage of its own)
        mark = len(gw.text())
        sim.ctl("fault 1 drop 1")  # the next request: the serial server drops the connection
        st1 = wait_until(lambda: "connection closed" in gw.text()[mark:] or "retrying" in gw.text()[mark:], 5)
        c.ok(st1, "gateway notices the dropped link")
        regs = wait_until(lambda: online(client) if "back after" in gw.text()[mark:] else None, 15)
        c.ok(regs is not None, "dropped TCP serial link reconnects and data flows")
        # each outage is one warning and one "back after" whatever its
        # reconnect attempts (a loaded machine may add an outage of its own:
        # a poll's timeouts; then it too is logged once)
        def outages():
            log = gw.text()[mark:]
            n = log.count("retrying in the background")
            return (n, log.count("back after")) if n >= 1 and n == log.count("back after") else None
        got = wait_until(outages, 15)
        c.ok(got is not None, "outage logged once (warnings, back after: %s)" % (got,))
        check_values(regs or [0] * 125, sim.state(), "after reconnect")
        # SIGHUP does not kill the daemon
        gw.p.send_signal(signal.SIGHUP)
        c.ok(wait_until(lambda: "SIGHUP" in gw.text(), 5) and gw.alive() and online(client) is not None,
             "SIGHUP is logged and the daemon keeps serving")
    finally:
        client.close()
        rc = gw.stop()
        c.eq(rc, 0, "SIGTERM: clean exit 0")
        sim.stop()


def test_outage_once():
    """The serial server is down for a while: one warning, not one per poll."""
    gw_port = free_port()
    dead = free_port()
    gw = Gateway(conf_text(gw_port, "tcp://127.0.0.1:%d" % dead), gw_port)
    try:
        wait_until(lambda: "retrying" in gw.text(), 5)
        # several polls and reconnects happen within 4 s (poll 0.5 s, backoff 1, 2 s)
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            mbread(gw_port, 1, BASE + 99, 4)
            time.sleep(0.2)
        out = mbread(gw_port, 1, BASE + 99, 4).split()
        c.ok(out[0] == "ok" and int(out[4]) >= 3, "polls fail and are counted while the link is down (%s)" % out)
        c.eq(gw.text().count("retrying in the background"), 1, "unreachable server: logged once")
        c.eq(mbread(gw_port, 1, BASE, 10), "exception 0x0b", "never-polled pack -> 0x0B")
    finally:
        gw.stop()


def test_pty():
    d = tempfile.mkdtemp(prefix="bmsgw-pty-")
    path = os.path.join(d, "ttyDALY")
    sim = Sim(tcp=False, pty_path=path, packs=("address=1,cells=8,sensors=1,soc=20.0,current=7.5",))
    gw_port = free_port()
    gw = Gateway(conf_text(gw_port, path, extra_pack="baud = 9600"), gw_port)
    client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    client.connect()
    try:
        regs = wait_until(lambda: online(client), 15)
        if c.ok(regs is not None, "pty: pack comes online"):
            check_values(regs, sim.state(), "pty")
        # "unplug the adapter": the pty vanishes, then comes back under the same name
        sim.stop()
        # whichever way it shows first (a hangup, a read or a write that fails), the link's outage is logged
        c.ok(wait_until(lambda: "retrying in the background" in gw.text(), 10), "pty: the vanished device is noticed")
        c.ok(any(w in gw.text() for w in ("hung up", "read:", "write:")), "... with what failed")
        sim = Sim(tcp=False, pty_path=path, packs=("address=1,cells=8,sensors=1,soc=30.0,current=7.5",))
        regs = wait_until(lambda: (lambda r: r if r and r[60] == 300 else None)(online(client)), 20)
        c.ok(regs is not None, "pty: re-plugged device is reopened without a restart")
        c.ok(gw.text().count("retrying in the background") == 1 and "back after" in gw.text(),
             "pty: outage logged once, recovery logged")
    finally:
        client.close()
        gw.stop()
        sim.stop()


def test_pty_settings():
    """The termios fallback (ptys) restores the port settings it changed, and
    leaves a port another program has locked untouched."""
    import fcntl
    import termios
    d = tempfile.mkdtemp(prefix="bmsgw-pty-")
    path = os.path.join(d, "ttyKEEP")
    sim = Sim(tcp=False, pty_path=path, packs=("address=1,cells=8,sensors=1",))
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        t = termios.tcgetattr(fd)
        t[4] = t[5] = termios.B19200        # ispeed, ospeed
        t[3] |= termios.ICANON | termios.ECHO  # lflag: cooked, as a getty leaves it
        termios.tcsetattr(fd, termios.TCSANOW, t)
        before = termios.tcgetattr(fd)
        gw_port = free_port()
        gw = Gateway(conf_text(gw_port, path, extra_pack="baud = 9600"), gw_port)
        client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
        client.connect()
        try:
            c.ok(wait_until(lambda: online(client), 15) is not None, "pty settings: pack online")
            during = termios.tcgetattr(fd)
            c.ok(during[4] == termios.B9600 and not during[3] & termios.ICANON,
                 "pty settings: raw 9600 while bmsgw has the port")
        finally:
            client.close()
            gw.stop()
        c.eq(termios.tcgetattr(fd), before, "pty settings: restored when bmsgw closes the port")

        # another program holds the port: bmsgw must not touch its settings
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        gw_port = free_port()
        gw = Gateway(conf_text(gw_port, path, extra_pack="baud = 9600"), gw_port)
        try:
            c.ok(wait_until(lambda: "busy" in gw.text().lower(), 5), "pty settings: a locked port is reported busy")
            c.eq(termios.tcgetattr(fd), before, "pty settings: a locked port's settings are left alone")
        finally:
            gw.stop()
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
        sim.stop()


def served_connection(port):
    """A connection whose first request is answered, or None."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(2)
    try:
        s.sendall(mbap_request(1, 1, bytes([3, 1, 34, 0, 1])))
        if len(recv_adu(s)) == 11:
            return s
    except OSError:
        pass
    s.close()
    return None


def test_flag_policy_and_limits():
    sim = Sim(packs=("address=1,cells=4,sensors=1",))
    gw_port = free_port()
    text = conf_text(gw_port, "tcp://127.0.0.1:%d" % sim.port,
                     extra_gw="stale_policy = flag\nfloat_order = abcd\n").replace(
        "max_clients = 8", "max_clients = 2").replace("idle_timeout = 30", "idle_timeout = 1")
    gw = Gateway(text, gw_port)
    client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    try:
        client.connect()
        regs = wait_until(lambda: online(client), 10)
        c.ok(regs is not None, "flag policy: online")
        if regs:
            v = sim.state()["packs"][0]["voltage"]
            c.near(ha_float(regs[10:12], swap_word=False), v, 1e-4, "float_order abcd: voltage big-endian words")
        sim.ctl("fault 1 silent")
        r = wait_until(lambda: (lambda x: x if x and x[58] == 0 else None)(read_all(client)), 10)
        c.ok(r is not None and r[45] == 1 and r[1] > 0, "stale_policy=flag: last values, online 0, failure 1")
        sim.ctl("fault 1 none")
        client.close()
        # max_clients = 2: the third connection is closed at once
        # (the gateway may not have seen the earlier clients' close yet: retry until served)
        a = wait_until(lambda: served_connection(gw_port), 5)
        b = wait_until(lambda: served_connection(gw_port), 5)
        c.ok(a is not None and b is not None, "max_clients: two connections served")
        third = socket.create_connection(("127.0.0.1", gw_port))
        third.settimeout(2)
        try:
            data = third.recv(10)
        except OSError:
            data = b""
        c.eq(data, b"", "max_clients: third connection closed at once")
        third.close()
        # idle_timeout = 1: an idle client is dropped
        a.settimeout(5)
        t0 = time.monotonic()
        try:
            data = a.recv(10)
        except OSError:
            data = None
        c.ok(data == b"", "idle client dropped after idle_timeout (%.1f s)" % (time.monotonic() - t0))
        a.close()
        b.close()
    finally:
        gw.stop()
        sim.stop()


def test_once_and_check():
    sim = Sim(packs=("address=1,cells=16,sensors=2,soc=42.0,current=3.0",))
    conf = write_conf(conf_text(free_port(), "tcp://127.0.0.1:%d" % sim.port))
    exe = os.path.join(ROOT, BIN, "bmsgw")
    try:
        out = subprocess.run([exe, "-c", conf, "--once"], capture_output=True, text=True, timeout=30)
        c.eq(out.returncode, 0, "--once exit 0 when every pack answered")
        import json
        try:
            js = json.loads(out.stdout.strip().splitlines()[0])
        except Exception:
            js = {}
        p = sim.state()["packs"][0]
        c.eq(js.get("pack"), "main", "--once: pack name")
        c.near(js.get("voltage"), p["voltage"], 0.005, "--once: voltage")
        c.near(js.get("current"), p["current"], 0.005, "--once: current")
        c.near(js.get("soc"), p["soc"], 0.05, "--once: soc")
        c.eq(js.get("cells_mv"), p["cells_mv"], "--once: every cell")
        c.eq(js.get("temps_c"), [float(t) for t in p["temps_c"]], "--once: temperatures")
        c.eq(js.get("cycles"), p["cycles"], "--once: cycles")
        c.eq(js.get("soh"), None, "--once: SOH absent on Daly classic -> null")
        c.eq(sorted(js.get("wire", {}).keys()), ["checksum_errors", "exceptions", "implausible", "short_frames", "timeouts"],
             "--once: the wire's error counters")
        c.ok("bms" not in js, "--once: no \"bms\" identity for a protocol without identity commands")
        sim.ctl("fault 1 silent")
        out = subprocess.run([exe, "-c", conf, "--once"], capture_output=True, text=True, timeout=60)
        c.eq(out.returncode, 1, "--once exit 1 when a pack is silent")
        c.ok('"ok":false' in out.stdout and '"error"' in out.stdout, "--once reports the error")
        out = subprocess.run([exe, "-c", conf, "--check"], capture_output=True, text=True, timeout=10)
        c.ok(out.returncode == 0 and "main" in out.stdout and "daly" in out.stdout, "--check prints a summary")
        c.ok("warning" not in out.stderr, "--check: no warning for this configuration (%s)" % out.stderr.strip())
    finally:
        sim.stop()
    bad = write_conf("[gateway]\nlisten = 127.0.0.1:1502\n[pack.x]\nprotocol = daly\nport = /dev/ttyUSB0\nbaud = fast\n")
    out = subprocess.run([exe, "-c", bad, "--check"], capture_output=True, text=True, timeout=10)
    c.ok(out.returncode == 1 and (":6:" in out.stderr) and "baud" in out.stderr,
         "bad config: exit 1, message names line and key: " + out.stderr.strip())
    trap = write_conf("[gateway]\nlisten = 127.0.0.1:1502\nstale_after = 5\n\n[pack.sv3]\nprotocol = seplos3\n"
                      "port = /dev/ttyUSB0\n")
    out = subprocess.run([exe, "-c", trap, "--check"], capture_output=True, text=True, timeout=10)
    c.ok(out.returncode == 0 and "bmsgw: warning: %s:5: [pack.sv3]: stale_after = 5 s" % trap in out.stderr
         and "at least 8 s" in out.stderr,
         "stale_after 5 beside poll_interval 5: --check warns with file:line, exit 0: " + out.stderr.strip())
    out = subprocess.run([exe, "-c", "/nonexistent.ini"], capture_output=True, text=True, timeout=10)
    c.ok(out.returncode == 1 and "nonexistent" in out.stderr, "missing config file: clear error")
    out = subprocess.run([exe, "--bogus"], capture_output=True, text=True, timeout=10)
    c.eq(out.returncode, 2, "unknown option: exit 2")


if __name__ == "__main__":
    for t in (test_tcp, test_outage_once, test_pty, test_pty_settings, test_flag_policy_and_limits,
              test_once_and_check):
        if not my_part():
            continue
        print("== " + t.__name__, flush=True)
        try:
            t()
        except Exception as e:  # a crash in a test is a failure, not an abort
            import traceback
            traceback.print_exc()
            c.ok(False, "%s raised %r" % (t.__name__, e))
    sys.exit(c.report())
