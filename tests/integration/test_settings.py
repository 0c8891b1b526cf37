#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Runtime charge settings over Modbus (offsets 150-160, bmsgw-modbus(7)
"CHARGE SETTINGS") end to end: the real bmsgw with [limits] against two
simulated Daly packs and a [bank], written and read with pymodbus.

- max_soc written by a client in control_clients: CCL 0 with reason soc
  (offsets 47 and 54), charging no longer allowed (bit 0 of offset 50),
  the CVL untouched; written back to 100 the CCL recovers; the same on the
  bank's unit;
- a client not in control_clients: 0x01; a value out of range or loosening
  0x03; half of force_charge_until or past offset 160: 0x02; nothing of a
  refused write taken; nothing is ever written to a BMS;
- a CCL cap with a short cap_lease: CCL capped, reason cap, back to the
  maximum once the lease ran out (logged);
- a restart keeps max_soc (the state file) but not the cap; a reload keeps
  them; a stale unit keeps its settings (readable, writable) and is
  fail-safe as before;
- /api/state shows each value, its origin and a cap's time left;
- the bank's max_soc reaches the inverter: a pylon-can output's 0x351 says
  CCL 0 and its 0x35C charge enable is off (read by Debian's python3-can
  over slcan).
"""
import json
import os
import signal
import struct
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Gateway, Sim, free_port, pty_pair, wait_until  # noqa: E402

from pymodbus.client import ModbusTcpClient  # noqa: E402

try:
    from test_inverter import CanReader
except ImportError:
    print("python3-can is not installed (make deps installs it)")
    print("0 passed, 1 failed")
    sys.exit(1)

BASE = 290
SET = BASE + 150
c = Checks()


def conf(gw_port, http_port, sim_port, state, can_port):
    packs = ""
    for a in (1, 2):
        packs += ("[pack.p%d]\nprotocol = daly\nport = tcp://127.0.0.1:%d\naddress = %d\nunit_id = %d\n"
                  "poll_interval = 0.5\ntimeout = 0.4\nretries = 0\n" % (a, sim_port, a, a))
    return """[gateway]
listen = 127.0.0.1:%d
stale_after = 3
state_file = %s
control_clients = 127.0.0.1
%s[bank]
unit_id = 100
[limits]
recovery_hold = 2
recovery_rate = 20
[http]
listen = 127.0.0.1:%d
[history]
file = none
[inverter.can]
protocol = pylon-can
port = slcan://%s
source = bank
interval = 0.5
""" % (gw_port, state, packs, http_port, can_port)


def limits(client, unit):
    """Registers 46-55 of a unit as a dict, or None."""
    rr = client.read_holding_registers(BASE + 46, 10, slave=unit)
    if rr.isError():
        return None
    r = rr.registers
    return {"cvl_v": r[0] / 100, "ccl_a": r[1] / 10, "dcl_a": r[2] / 10, "flags": r[4], "ccl_reason": r[8],
            "dcl_reason": r[9]}


def settings(client, unit):
    """Registers 150-160 of a unit, or None."""
    rr = client.read_holding_registers(SET, 11, slave=unit)
    return None if rr.isError() else rr.registers


def exc_of(rr):
    """The exception code of a pymodbus answer, or None."""
    return rr.exception_code if rr.isError() and hasattr(rr, "exception_code") else (None if not rr.isError()
                                                                                     else "error %r" % rr)


def api_settings(http_port, unit_key):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/api/state" % http_port, timeout=5) as r:
            st = json.loads(r.read().decode())
    except OSError:
        return None
    if unit_key == "bank":
        return (st.get("bank") or {}).get("settings")
    for p in st.get("packs") or []:
        if p.get("pack") == unit_key:
            return p.get("settings")
    return None


def writes(sim):
    return json.loads(sim.ctl("stats"))["writes"]


def ccl_zero_then(frames):
    """From the first 0x351 with a CCL of 0 in frames: that 0x351, the first
    0x35C after it and the CCLs of the later 0x351 over 0 (None until both
    are there)."""
    start = next((i for i, (_t, m) in enumerate(frames)
                  if m.arbitration_id == 0x351 and struct.unpack("<h", bytes(m.data)[2:4])[0] == 0), None)
    if start is None:
        return None
    after = [bytes(m.data) for _t, m in frames[start + 1:] if m.arbitration_id == 0x35C]
    if not after:
        return None
    later = [struct.unpack("<h", bytes(m.data)[2:4])[0] for _t, m in frames[start + 1:] if m.arbitration_id == 0x351]
    return {0x351: bytes(frames[start][1].data), 0x35C: after[0], "later": [x for x in later if x != 0]}


def test_max_soc(sim, client, refused, can):
    print("== max_soc: CCL 0 with reason soc")
    before = wait_until(lambda: (lambda l: l if l and l["ccl_a"] == 50 else None)(limits(client, 1)), 20)
    c.ok(before and before["flags"] & 1, "start: pack p1 CCL 50 A, charging allowed (%s)" % before)
    w0 = writes(sim)
    c.eq(exc_of(client.write_register(SET, 60, slave=1)), None, "FC06 max_soc = 60 from 127.0.0.1: taken")
    c.eq((settings(client, 1) or [None])[0], 60, "offset 150 reads 60")
    lim = wait_until(lambda: (lambda l: l if l and l["ccl_a"] == 0 else None)(limits(client, 1)), 5)
    c.ok(lim and lim["ccl_reason"] == 4 and not lim["flags"] & 1 and lim["flags"] & 2,
         "SOC 60 %% at max_soc 60: CCL 0, reason soc, charging not allowed, discharging allowed (%s)" % lim)
    c.ok(lim and before and abs(lim["cvl_v"] - before["cvl_v"]) < 0.02, "the CVL is not touched (%s -> %s)" %
         (before and before["cvl_v"], lim and lim["cvl_v"]))
    # refusals: nothing taken
    c.eq(exc_of(refused.write_register(SET, 90, slave=1)), 1, "a client not in control_clients -> 0x01")
    c.eq(exc_of(client.write_register(SET, 0, slave=1)), 3, "max_soc 0 -> 0x03")
    c.eq(exc_of(client.write_register(SET + 2, 70, slave=1)), 3, "min_soc 70 over max_soc 60 -> 0x03")
    c.eq(exc_of(client.write_register(SET + 2, 57, slave=1)), 3,
         "min_soc 57 under max_soc 60, 5 % hysteresis each (charge and discharge would both stop) -> 0x03")
    c.eq(exc_of(client.write_register(SET + 2, 70, slave=100)), 3, "the bank's min_soc 70 over p1's max_soc 60 -> 0x03")
    c.eq(exc_of(client.write_register(SET + 7, 501, slave=1)), 3, "a CCL cap of 50.1 A over the 50 A maximum -> 0x03")
    c.eq(exc_of(client.write_register(SET + 5, 1, slave=1)), 2, "half of force_charge_until -> 0x02")
    c.eq(exc_of(client.write_registers(SET + 10, [1, 1], slave=1)), 2, "a write past offset 160 -> 0x02")
    c.eq((settings(client, 1) or [None])[0], 60, "... none of them taken: offset 150 still 60")
    c.eq(exc_of(client.write_register(SET, 100, slave=1)), None, "p1's max_soc back to 100")
    back = wait_until(lambda: (lambda l: l if l and l["ccl_a"] == 50 and l["ccl_reason"] == 0 else None)(
        limits(client, 1)), 15)
    c.ok(back, "p1's CCL recovers to 50 A, reason none (%s)" % limits(client, 1))
    # the bank: its own setting on its own SOC (60 %), its packs charging
    bank = wait_until(lambda: (lambda l: l if l and l["ccl_a"] == 100 else None)(limits(client, 100)), 15)
    c.ok(bank, "the bank charges at 2 x 50 A (%s)" % bank)
    c.eq(exc_of(client.write_register(SET, 55, slave=100)), None, "the bank's max_soc = 55: taken")
    bank = wait_until(lambda: (lambda l: l if l and l["ccl_a"] == 0 else None)(limits(client, 100)), 5)
    c.ok(bank and bank["ccl_reason"] == 4 and not bank["flags"] & 1, "the bank: CCL 0, reason soc (%s)" % bank)
    # frames sent before the change may still be on their way (the pty, the
    # reader's thread): wait for the first 0x351 with CCL 0, then read the
    # 0x35C sent after it and every 0x351 after that
    t0 = time.monotonic()
    heard = wait_until(lambda: ccl_zero_then(can.since(t0)), 10)
    c.ok(heard and not heard[0x35C][0] & 0x80 and heard[0x35C][0] & 0x40 and heard["later"] == [],
         "the inverter hears it: 0x351 CCL 0, then 0x35C charge off, discharge on, no CCL over 0 after it (%s)"
         % ({hex(k) if isinstance(k, int) else k: v.hex() if isinstance(v, bytes) else v
             for k, v in heard.items()} if heard else "no 0x351 with CCL 0 in 10 s"))
    p1 = limits(client, 1)
    c.ok(p1 and p1["ccl_a"] == 50, "... its packs' own limits untouched (%s)" % p1)
    c.eq(exc_of(client.write_register(SET, 100, slave=100)), None, "the bank's max_soc back to 100")
    c.eq(writes(sim), w0, "nothing was written to a BMS (simulator's write count)")


def test_cap(sim, client, gw, http_port):
    print("== a CCL cap on a 10 s lease")
    t0 = time.monotonic()
    c.eq(exc_of(client.write_registers(SET + 7, [100, 0xFFFF, 10], slave=1)), None,
         "FC16 ccl_cap 10.0 A, dcl_cap none, cap_lease 10 s: taken")
    lim = wait_until(lambda: (lambda l: l if l and l["ccl_a"] == 10 else None)(limits(client, 1)), 5)
    c.ok(lim and lim["ccl_reason"] == 9 and lim["dcl_a"] == 60, "CCL 10 A, reason cap; DCL untouched (%s)" % lim)
    s = api_settings(http_port, "p1")
    cap = (s or {}).get("ccl_cap") or {}
    c.ok(cap.get("value") == 10.0 and cap.get("origin") == "modbus" and 0 < cap.get("left_s", 0) <= 10,
         "/api/state: ccl_cap 10 A, origin modbus, seconds left (%s)" % cap)
    c.ok((s or {}).get("max_soc", {}).get("origin") == "modbus", "/api/state: max_soc's origin modbus (%s)" %
         (s or {}).get("max_soc"))
    gone = wait_until(lambda: (settings(client, 1) or [0] * 11)[7] == 0xFFFF, 15)
    dt = time.monotonic() - t0
    c.ok(gone and dt >= 9.9, "the cap falls back to none (0xFFFF) once its lease ran out (%.1f s)" % dt)
    # (the register rounds to 0.1 A: 50.0 may still be on its ramp, reason cap)
    back = wait_until(lambda: (lambda l: l if l and l["ccl_a"] == 50 and l["ccl_reason"] == 0 else None)(
        limits(client, 1)), 10)
    c.ok(back, "CCL back to 50 A by the ramp, reason none (%s)" % limits(client, 1))
    c.ok("ccl_cap 10.0 A set by modbus: its lease of 10 s ran out" in gw.text(), "the expiry is logged with who")


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-settings-")
    state = os.path.join(tmp, "state")
    sim = Sim(packs=("address=1", "address=2"))
    gw_port, http_port = free_port(), free_port()
    can_a, can_b = pty_pair(tmp, "can")
    can = CanReader(can_b)
    text = conf(gw_port, http_port, sim.port, state, can_a)
    gw = Gateway(text, gw_port)
    client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    refused = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3, source_address=("127.0.0.2", 0))
    client.connect()
    refused.connect()
    try:
        sim.ctl("freeze")
        for a in (1, 2):
            sim.ctl("set %d soc 60" % a)
            sim.ctl("set %d current 5" % a)
        test_max_soc(sim, client, refused, can)
        test_cap(sim, client, gw, http_port)
        print("== kept: a restart keeps max_soc, not the cap; a reload keeps them")
        c.eq(exc_of(client.write_register(SET, 70, slave=1)), None, "max_soc 70")
        c.eq(exc_of(client.write_registers(SET + 7, [200, 0xFFFF, 3600], slave=1)), None,
             "ccl_cap 20 A on a lease of 3600 s")
        c.ok("max_soc 100 -> 70 by modbus (Modbus client 127.0.0.1" in gw.text(), "the change is logged with who")
        client.close()
        c.eq(gw.stop(), 0, "a clean stop")
        with open(state) as f:
            kept = f.read()
        c.ok("set p1 " in kept and "max_soc=70/modbus" in kept and "ccl_cap" not in kept,
             "the state file holds max_soc, not the cap (%r)" % [l for l in kept.splitlines() if "set" in l])
        gw = Gateway(text, gw_port)
        client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
        client.connect()
        s = wait_until(lambda: settings(client, 1), 5)
        c.ok(s and s[0] == 70 and s[7] == 0xFFFF and s[9] == 3600,
             "after the restart: max_soc 70, no cap, cap_lease 3600 kept (%s)" % s)
        gw.p.send_signal(signal.SIGHUP)
        c.ok(wait_until(lambda: "reload #1: applied" in gw.text(), 10), "a reload")
        s = settings(client, 1)
        c.ok(s and s[0] == 70, "after the reload: max_soc 70 (%s)" % s)
        lim = wait_until(lambda: (lambda l: l if l and l["ccl_a"] == 50 else None)(limits(client, 1)), 10)
        c.ok(lim, "SOC 60 under max_soc 70: charging (%s)" % lim)
        print("== a stale unit: its settings kept and writable, its outputs fail-safe as before")
        sim.ctl("fault 1 silent")
        lim = wait_until(lambda: (lambda l: l if l and l["flags"] & 0x20 else None)(limits(client, 1)), 10)
        c.ok(lim and lim["ccl_a"] == 0 and lim["dcl_a"] == 0 and lim["ccl_reason"] == 8,
             "p1 silent: fail-safe, CCL and DCL 0, reason stale (%s)" % lim)
        c.eq(exc_of(client.write_register(SET + 2, 20, slave=1)), None, "min_soc 20 written while p1 is stale")
        s = settings(client, 1)
        c.ok(s and s[0] == 70 and s[2] == 20, "its settings read back while stale (%s)" % s)
        sim.ctl("fault 1 none")
        lim = wait_until(lambda: (lambda l: l if l and l["dcl_a"] == 60 and l["ccl_a"] == 50 else None)(
            limits(client, 1)), 15)
        c.ok(lim, "back: SOC 60 between min_soc 20 and max_soc 70, both directions recover (%s)" % lim)
    finally:
        if c.failed:
            gw.dump(40)
        client.close()
        refused.close()
        gw.stop()
        can.close()
        sim.stop()
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
