#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A high-voltage stack speaks again as soon as its member comes back: the
real bmsgw with a bank of one 4 x 16S string of simulated Daly packs (one
series string of bmsgw-sim, 64 cells, about 211 V) feeding two outputs on
two pty pairs made by socat, pylon-hv-can and byd-hvs-can, each read by its
own decoder written from gateway/inverter/PROTOCOLS.md (§8 little endian,
§9 big endian) over Debian's python3-can slcan; the HV inverter asks 0x4200
twice a second, the BYD inverter has spoken (0x151):

- fresh: both send the bank's limits;
- member c silent: both send zero current limits (pylon-hv-can's CCL = DCL
  = raw 30000 with the communication error, byd-hvs-can's 0x110 CCL = DCL
  = 0), then nothing after failsafe_silence (0x4200 unanswered, no 0x110);
- member c back ("every pack fresh again" logged): both speak again within
  recovery_hold of the member's return (the bound this configuration sets:
  the member's next poll, the engine's tick and the inverter's request take
  a few seconds of it), while member c's own limits still recover from
  stale (/api/state, read as the answers are seen: the cause, not a time),
  their first limits 0 A without the communication error (the source is
  fresh, its limits held); byd-hvs-can with its identification first.  The
  report saw nothing for 12 s: the bank stayed fail-safe until its member's
  limits had recovered whole, hold and ramp;
- then the limits rise by the recovery rules: 0 A for at least
  recovery_hold after the member came back, never above the steady
  limits, at recovery_rate at most (over the whole rise, the answers'
  ages allowed), back at the steady limits in the end.  The other sources
  (a pack, a bank of packs, a bank of strings) are tests/unit/
  test_inv_recover.c's, on a fake clock.
"""
import os
import re
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Checks, Gateway, Sim, api_state, frames_sent, free_port, inverter_output, pty_pair,  # noqa: E402
                     wait_until)
from canreader import CanReader  # noqa: E402

try:
    from can.interfaces.slcan import slcanBus  # noqa: F401 - canreader.py uses it
except ImportError:
    print("python3-can is not installed (make deps installs it)")
    print("0 passed, 1 failed")
    sys.exit(1)

c = Checks()
HOLD = 15         # recovery_hold, s
RATE = 10         # recovery_rate, A/s
SILENCE = 4       # failsafe_silence, s
STALE = 6         # stale_after, s
MUTED = 3         # the member that goes silent (pack c, address 3)
NAME = bytes.fromhex("00474F4F44574500")  # byd: 0x151 "GOODWE", bit 0 clear


class HvInverter(CanReader):
    """Pylontech HV: 0x3010 and 0x4200 00 every `period` s."""
    RECV_S = 0.02

    def __init__(self, path):
        self.beat = 0
        super().__init__(path)

    def poll(self, kind=0):
        self.polls += 1
        self.beat = (self.beat + 1) & 0xFFFF
        self.send(0x3010, struct.pack("<H", self.beat) + bytes(6), ext=True)
        self.send(0x4200, bytes([kind, 0, 0, 0, 0, 0, 0, 0xE3]), ext=True)


class BydInverter(CanReader):
    RECV_S = 0.02


def le16(d, i):
    return struct.unpack("<H", d[i:i + 2])[0]


def be16(d, i):
    return struct.unpack(">H", d[i:i + 2])[0]


def bes16(d, i):
    return struct.unpack(">h", d[i:i + 2])[0]


def hv_limits(inv, t0):
    """[(time, ccl A, dcl A, cvl V, comm error)] of pylon-hv-can's answers
    since t0 (0x4220 with the 0x4250 of the same answer; address 0)."""
    out, comm = [], None
    for t, m in inv.since(t0):
        d = bytes(m.data)
        if m.arbitration_id == 0x4250:
            comm = bool(d[3] & 0x04)
        if m.arbitration_id == 0x4220:
            out.append([t, (le16(d, 4) - 30000) / 10, (30000 - le16(d, 6)) / 10, le16(d, 0) / 10, None])
        if m.arbitration_id == 0x4250 and out and out[-1][4] is None:
            out[-1][4] = comm
    return [tuple(x) for x in out]


def byd_limits(inv, t0):
    """[(time, ccl A, dcl A, cvl V)] of byd-hvs-can's 0x110 since t0."""
    return [(t, bes16(bytes(m.data), 6) / 10, bes16(bytes(m.data), 4) / 10, be16(bytes(m.data), 0) / 10)
            for t, m in inv.since(t0) if m.arbitration_id == 0x110]


def conf(gw_port, http_port, sim_port, pty_hv, pty_byd):
    packs = "".join("[pack.%s]\nprotocol = daly\nport = tcp://127.0.0.1:%d\naddress = %d\ncells = 16\n"
                    "poll_interval = 1\ntimeout = 1\nretries = 1\n" % (n, sim_port, k + 1) for k, n in enumerate("abcd"))
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = %d
state_file = none
%s[bank]
strings = a+b+c+d
[limits]
recovery_hold = %d
recovery_rate = %d
max_charge_current = 40
max_discharge_current = 60
[http]
listen = 127.0.0.1:%d
[history]
file = none
[inverter.hv]
protocol = pylon-hv-can
port = slcan://%s
source = bank
failsafe_silence = %d
[inverter.byd]
protocol = byd-hvs-can
port = slcan://%s
source = bank
failsafe_silence = %d
""" % (gw_port, STALE, packs, HOLD, RATE, http_port, pty_hv, SILENCE, pty_byd, SILENCE)


def states(port):
    return ((inverter_output(port, "hv") or {}).get("state"), (inverter_output(port, "byd") or {}).get("state"))


def both(port, want):
    return lambda: states(port) == (want, want)


def steady(port, hv, byd):
    """The bank's limits, once both wires carry them (charge and discharge)."""
    lim = (api_state(port).get("bank") or {}).get("limits") or {}
    t = time.monotonic() - 2.5
    h, b = hv_limits(hv, t), byd_limits(byd, t)
    if not (lim.get("ccl_a") and lim.get("dcl_a") and h and b):
        return None
    ccl, dcl = lim["ccl_a"], lim["dcl_a"]
    if abs(h[-1][1] - ccl) > 0.11 or abs(h[-1][2] - dcl) > 0.11 or abs(b[-1][1] - ccl) > 0.11:
        return None
    return ccl, dcl


def member_limits(port):
    """The limits of the member that went silent, as /api/state shows them now."""
    p = next((p for p in api_state(port).get("packs") or [] if p.get("pack") == "abcd"[MUTED - 1]), {})
    return p.get("limits") or {}


def check_rise(what, rows, t_back, ccl):
    """Rows [(time, ccl, ...)] since the member came back: 0 A for
    recovery_hold at least, never above the steady CCL, at recovery_rate at
    most over the rise (an answer carries the engine's step of up to a
    second before it: 2 s allowed), back at the steady CCL."""
    first = next((r for r in rows if r[1] > 0), None)
    top = next((r for r in rows if abs(r[1] - ccl) <= 0.11), None)
    if not c.ok(first is not None and top is not None, "%s: the charge limit rises back to %.1f A" % (what, ccl)):
        return
    c.ok(first[0] - t_back >= HOLD, "%s: 0 A for recovery_hold at least (the first rise %.1f s after the member "
         "came back, hold %d s)" % (what, first[0] - t_back, HOLD))
    c.ok(all(r[1] <= ccl + 0.11 for r in rows), "%s: never above the steady %.1f A" % (what, ccl))
    c.ok(top[1] - first[1] <= RATE * (top[0] - first[0] + 2.0),
         "%s: at recovery_rate at most (%.1f A more in %.1f s, %d A/s)" % (what, top[1] - first[1],
                                                                          top[0] - first[0], RATE))
    c.ok(all(b[1] >= a[1] - 0.11 for a, b in zip(rows, rows[1:]) if a[0] >= first[0]),
         "%s: rising only, while the source stays fresh" % what)


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-recover-")
    hv_a, hv_b = pty_pair(tmp, "hv")
    byd_a, byd_b = pty_pair(tmp, "byd")
    sim = Sim(packs=tuple("address=%d,cells=16,sensors=2,string=1,soc=60,current=-3" % (k + 1) for k in range(4)))
    hv, byd = HvInverter(hv_b), BydInverter(byd_b)
    gw_port, http_port = free_port(), free_port()
    gw = Gateway(conf(gw_port, http_port, sim.port, hv_a, byd_a), gw_port)
    try:
        print("== fresh: both outputs send the bank's limits")
        hv.period = 0.5
        c.ok(wait_until(both(http_port, "sending"), 40), "both outputs sending (%s)" % (states(http_port),))
        byd.send(0x151, NAME)
        got = wait_until(lambda: steady(http_port, hv, byd), 40, 0.5)
        if not c.ok(got is not None, "both wires carry the bank's steady limits (%s)" % (got,)):
            return
        ccl, dcl = got
        cvl = hv_limits(hv, time.monotonic() - 2)[-1][3]
        c.ok(ccl > 5 and dcl > 5 and cvl > 200, "real limits: CCL %.1f A, DCL %.1f A, CVL %.1f V" % (ccl, dcl, cvl))

        print("== member c silent: zero current limits, then silence")
        t_mute = time.monotonic()
        sim.ctl("fault %d silent" % MUTED)
        c.ok(wait_until(lambda: any(r[1] == 0 and r[2] == 0 and r[4] for r in hv_limits(hv, t_mute)), STALE + 15),
             "pylon-hv-can: CCL = DCL = 0 with the communication error")
        c.ok(wait_until(lambda: any(r[1] == 0 and r[2] == 0 and r[3] > 200 for r in byd_limits(byd, t_mute)),
                        STALE + 15), "byd-hvs-can: 0x110 CCL = DCL = 0, the charge voltage kept")
        c.ok(wait_until(both(http_port, "silent"), STALE + SILENCE + 20), "both silent after failsafe_silence (%s)"
             % (states(http_port),))
        sent = lambda: frames_sent(http_port, "hv", "byd")  # noqa: E731
        wait_until(lambda: not byd.since(time.monotonic() - 1.0), 11)  # what it wrote before may be on its way
        heard, (n0, n1), asked, t_si = hv.silent(sent, seconds=3.0)
        c.ok(asked >= 4 and (heard, len(byd.since(t_si))) == (0, 0) and None not in n0 and n1 == n0,
             "silent: no answer to %d requests, no frame of byd-hvs-can (heard %d and %d; frames_sent %s, then %s)"
             % (asked, heard, len(byd.since(t_si)), n0, n1))

        print("== member c back: both speak again at once, the limits recovering")
        t_back = time.monotonic()
        sim.ctl("fault %d none" % MUTED)
        spoke = wait_until(lambda: hv_limits(hv, t_back) and byd_limits(byd, t_back), HOLD)
        member = member_limits(http_port)
        c.ok(spoke, "both speak again within recovery_hold (%d s) of the member's return" % HOLD)
        c.ok(member.get("ccl_reason") == "stale" and member.get("ccl_a") == 0,
             "... while member c's own limits still recover from stale (%s)" % member)
        c.ok(wait_until(lambda: re.search(r"bank: every pack fresh again", gw.text()), 10),
             "\"every pack fresh again\" logged")
        h, b = hv_limits(hv, t_back), byd_limits(byd, t_back)
        c.ok(h and h[0][1] == 0 and h[0][2] == 0 and h[0][4] is False and h[0][3] > 200,
             "pylon-hv-can answers again before recovery_hold ran out: its first answer 0 A, the CVL, no "
             "communication error (%s)" % (h and h[0][1:],))
        c.ok(b and b[0][1] == 0 and b[0][3] > 200, "byd-hvs-can sends 0x110 again before recovery_hold ran out: 0 A, "
             "the CVL (%s)" % (b and b[0][1:],))
        first_byd = next((m.arbitration_id for t, m in byd.since(t_back)), None)
        c.eq(first_byd and hex(first_byd), "0x250", "byd-hvs-can: the identification first")
        c.eq(states(http_port), ("sending", "sending"), "both sending")

        print("== the limits rise by the recovery rules")
        wait_until(lambda: any(abs(r[1] - ccl) <= 0.11 for r in hv_limits(hv, t_back)) and
                   any(abs(r[1] - ccl) <= 0.11 for r in byd_limits(byd, t_back)), HOLD + 4 * (ccl / RATE) + 40, 0.5)
        check_rise("pylon-hv-can", hv_limits(hv, t_back), t_back, ccl)
        check_rise("byd-hvs-can", byd_limits(byd, t_back), t_back, ccl)
        log = gw.text()
        for name in ("hv", "byd"):
            c.eq(len(re.findall(r"inverter %s: source bank fresh again" % name, log)), 1,
                 "%s: \"fresh again\" logged once" % name)
        c.ok(gw.alive() and "runtime error" not in log and "AddressSanitizer" not in log,
             "the daemon ran through it, sanitizers quiet")
    finally:
        if c.failed:
            gw.dump(80)
        hv.period = None
        gw.stop()
        sim.stop()
        hv.close()
        byd.close()
    sys.exit(c.report())


if __name__ == "__main__":
    main()
