#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""kostal-rs485 end to end, without a Kostal: the real bmsgw with a
simulated 32-cell Daly pack (80.0-116.8 V, inside kostal-rs485's 80-1000 V)
and an [inverter.hv] of protocol = kostal-rs485 (report_capacity_ah = 50)
on a pty pair made by socat; the test plays the Plenticore with a Kostal
master written here from gateway/inverter/PROTOCOLS.md §24 (its own
stuffing of zeros, sum checksum and little-endian floats), sending the
requests Battery-Emulator answers (0x084A the information, 0x044A the
cyclic data, 0x0353 the status, the set-time and set-state writes):

- the port opened at 57600 baud;
- the shared checks of hv485.py: nothing before the first data, the
  counters, no answer to a bad checksum, a broken chain of zeros, another
  device's frame, the limits against /api/state (CVL, CCL, DCL as floats,
  0.1 V / 0.1 A down), silence outside 80-1000 V, the fail-safe timeline
  (CCL = DCL = 0, byte 56 = 0 and 59 = 2, then silence, then answers again),
  --check's window, interval and extras refused;
- the values: voltage, current (+ = charging), SOC, the mean, hottest and
  coldest temperature, the highest and lowest cell against the simulator's
  and /api/state; the capacity set (50 Ah) in both frames; the information:
  the nominal voltage (32 x 3.2 V = 102.4 V), the vendor "YB", 2 blocks of
  51.2 V; the status frame 08 E2 FF 02 FF 29 06 EF 00; the acknowledgement
  07 E3 FF 02 FF 29 F4 00 to set-time and set-state (none to state FF), no
  answer to 0x50 or an unknown code;
- a bank of two strings of two 32-cell packs: the bank's voltage, current
  and limits, 4 blocks, a member's over-voltage and a stale member.
"""
import os
import select
import struct
import sys
import tempfile
import time
import tty

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, api_state  # noqa: E402
import hv485  # noqa: E402

c = Checks()
HEAD = b"\xFF\x02\xFF\x29"


def checksum(u):
    return -sum(u[1:len(u) - 2]) & 0xFF


def stuff(u):
    """An unstuffed frame (byte 0 and the last 0) with its zeros stuffed."""
    out, last = bytearray(u), 0
    for i in range(1, len(u)):
        if u[i] == 0:
            out[last] = i - last
            last = i
    return bytes(out)


def unstuff(f):
    """A frame's zeros back, or None when its chain of distances is broken."""
    if len(f) < 2 or f[-1] != 0 or 0 in f[:-1]:
        return None
    u, at = bytearray(f), 0
    while at < len(f) - 1:
        nxt = at + f[at]
        u[at] = 0
        if nxt > len(f) - 1:
            return None
        at = nxt
    return bytes(u)


def request(kind, body, n):
    """A frame of n bytes: 0, kind, FF 02 FF 29, body, checksum, 0."""
    u = bytearray(n)
    u[1] = kind
    u[2:6] = HEAD
    u[6:6 + len(body)] = body
    u[n - 2] = checksum(u)
    return stuff(bytes(u))


def ask_code(code):
    return request(0x62, struct.pack("<H", code), 10)


def f32(u, at):
    return struct.unpack("<f", u[at:at + 4])[0]


class Master:
    """The Kostal: its requests on the test's end of the pty pair, each
    answer read up to its 0x00."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)

    def flush(self):
        while select.select([self.fd], [], [], 0)[0]:
            try:
                if not os.read(self.fd, 4096):
                    return
            except BlockingIOError:
                return

    def exchange(self, data, timeout=1.0, whole=True):
        """data written; the bytes back: up to the first 0x00 (whole), or all
        of them within timeout."""
        self.flush()
        os.write(self.fd, data)
        got, deadline = b"", time.monotonic() + timeout
        while time.monotonic() < deadline and not (whole and b"\0" in got):
            r, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
            if r:
                got += os.read(self.fd, 4096)
        return got

    def close(self):
        os.close(self.fd)


def answer_of(raw, n):
    """The unstuffed answer of n bytes with the battery's header and a good
    checksum, or None."""
    u = unstuff(raw) if raw and len(raw) == n else None
    return u if u and u[2:6] == HEAD and checksum(u) == u[-2] else None


class Kostal(hv485.Dialect):
    """This test's reader of §24."""
    name = "kostal-rs485"
    window = (80, 1000)
    baud = 57600
    example = "inverter-kostal.ini"

    def open(self, path):
        return Master(path)

    def ask(self, m, timeout=1.0):
        u = answer_of(m.exchange(ask_code(0x044A), timeout), 64)
        if u is None or u[1] != 0xE2:
            return None
        return {"u": u, "voltage": f32(u, 6), "cvl": f32(u, 10), "temp": f32(u, 14), "current": f32(u, 18),
                "current_mean": f32(u, 22), "dcl": f32(u, 26), "capacity": f32(u, 30), "ccl": f32(u, 34),
                "hottest": f32(u, 38), "coldest": f32(u, 42), "cell_max": f32(u, 46), "cell_min": f32(u, 50),
                "cycles": struct.unpack("<H", u[54:56])[0], "enable": u[56], "full": u[57], "soc": u[58],
                "disabled": u[59]}

    def foreign(self):
        good = bytearray(ask_code(0x044A))
        bad = bytearray(good)
        bad[8] ^= 0x01
        chain = bytearray(good)
        chain[0] = 0x05  # the first distance points at 0x29, not at a zero
        return [("a bad checksum", bytes(bad)), ("a broken chain of zeros", bytes(chain)),
                ("another device's frame: an acknowledgement", request(0xE3, b"", 8)),
                ("a read of 11 bytes", request(0x62, b"\x4A\x04\x01", 11))]

    def raw(self, m, data, timeout=0.8):
        return m.exchange(data, timeout, whole=False)

    def check_limits(self, c_, a, lim):
        c_.near(a["cvl"], int(lim["cvl_v"] * 10 + 0.01) / 10, 1e-4, "CVL (byte 10), 0.1 V down (%s)" % a["cvl"])
        ccl = int(lim["ccl_a"] * 10 + 0.01) / 10 if lim["charge_allowed"] and a["soc"] < 100 else 0
        dcl = int(lim["dcl_a"] * 10 + 0.01) / 10 if lim["discharge_allowed"] else 0
        c_.near(a["ccl"], ccl, 1e-4, "CCL (byte 34), 0.1 A down (%s; /api/state %s)" % (a["ccl"], lim["ccl_a"]))
        c_.near(a["dcl"], dcl, 1e-4, "DCL (byte 26), 0.1 A down (%s; /api/state %s)" % (a["dcl"], lim["dcl_a"]))
        c_.eq((a["enable"], a["disabled"]), (1, 0), "enabled: byte 56 = 1, byte 59 = 0")

    def stale_marks(self, a):
        return [("byte 56 = 0, byte 59 = 2: disabled (%d, %d)" % (a["enable"], a["disabled"]),
                 a["enable"] == 0 and a["disabled"] == 2)]


D = Kostal()


def test_values(env):
    print("== the cyclic data's values (this test's reading of §24)")
    m, port, sim = env["m"], env["http"], env["sim"]
    a = D.ask(m)
    st = sim.state()["packs"][0]
    pk = (api_state(port).get("packs") or [{}])[0]
    if not c.ok(a is not None, "an answer to 0x044A, 64 bytes"):
        return
    c.near(a["voltage"], st["voltage"], 0.011, "byte 6: the voltage (%s)" % a["voltage"])
    c.near(a["current"], st["current"], 0.011, "byte 18: the current, + = charging (%s)" % a["current"])
    c.eq(a["current_mean"], a["current"], "byte 22: the same")
    c.eq(a["soc"], int(pk["soc"] + 1e-4), "byte 58: the SOC rounded down (%s; /api/state %s)" % (a["soc"], pk["soc"]))
    c.eq(a["full"], 0, "byte 57: 0 below 100 %")
    temps, mv = st["temps_c"], st["cells_mv"]
    c.near(a["hottest"], max(temps), 1e-3, "byte 38: the hottest sensor")
    c.near(a["coldest"], min(temps), 1e-3, "byte 42: the coldest sensor")
    c.near(a["temp"], (max(temps) + min(temps)) / 2, 1e-3, "byte 14: their mean")
    c.near(a["cell_max"], max(mv) / 1000, 1e-6, "byte 46: the highest cell, V")
    c.near(a["cell_min"], min(mv) / 1000, 1e-6, "byte 50: the lowest cell, V")
    c.eq(a["capacity"], 50.0, "byte 30: the capacity set, 50 Ah")
    u = answer_of(m.exchange(ask_code(0x084A)), 40)
    if c.ok(u is not None and u[1] == 0xE2, "0x084A: the information, 40 bytes"):
        c.near(f32(u, 6), 102.4, 1e-4, "byte 6: the nominal voltage, 32 x 3.2 V")
        c.eq(f32(u, 18), 50.0, "byte 18: the capacity set")
        c.eq(u[26:28], b"YB", "bytes 26-27: the vendor YB (BYD)")
        c.eq(struct.unpack("<H", u[32:34])[0], 2, "bytes 32-33: 2 blocks of 51.2 V")
    c.eq(m.exchange(ask_code(0x0353)), bytes.fromhex("08E2FF02FF2906EF00"), "0x0353: the status, 06")
    ack = bytes.fromhex("07E3FF02FF29F400")
    c.eq(m.exchange(request(0x63, b"\x5E\x00", 10)), ack, "set-state 00 (allow): Battery-Emulator's acknowledgement")
    c.eq(m.exchange(request(0x63, b"\x5E\x04", 10)), ack, "set-state 04 (contactor test): acknowledged")
    c.eq(m.exchange(request(0x63, b"\x47\x66\x5A\x10\x32", 14)), ack, "set-time: acknowledged")
    for what, req in (("set-state FF", request(0x63, b"\x5E\xFF", 10)), ("0x50 (reverse polarity)", ask_code(0x50)),
                      ("an unknown code", ask_code(0x1234))):
        c.eq(m.exchange(req, 0.6), b"", "%s: no answer" % what)
    b = D.ask(m)
    c.ok(b is not None and b["enable"] == 1, "the cyclic data after the writes: enabled still (kept nowhere)")


def string_blocks(c_, env):
    u = answer_of(env["m"].exchange(ask_code(0x084A)), 40)
    c_.ok(u is not None and struct.unpack("<H", u[32:34])[0] == 4, "strings: 64 cells (204.8 V) are 4 blocks (%s)"
          % (u and struct.unpack("<H", u[32:34])[0]))


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-kostal-")
    env = hv485.start(c, D, tmp, "report_capacity_ah = 50\n")
    try:
        hv485.test_line(c, env)
        hv485.test_waiting(c, env)
        hv485.test_counters(c, env)
        test_values(env)
        hv485.test_limits(c, env)
        hv485.test_foreign(c, env)
        hv485.test_range(c, env)
        hv485.test_stale(c, env)
        hv485.test_check(c, env)
    finally:
        hv485.stop(c, env)
    hv485.test_strings(c, tmp, D, string_blocks)
    sys.exit(c.report())


if __name__ == "__main__":
    main()
