#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""byd-hvm-modbus end to end, without a Fronius: the real bmsgw with a
simulated 32-cell Daly pack (80.0-116.8 V, inside byd-hvm-modbus's 80-450 V)
and an [inverter.hv] of protocol = byd-hvm-modbus (report_capacity_ah = 50)
on a pty pair made by socat; the test plays the Fronius GEN24 with
pymodbus's serial client, a real Modbus RTU master, polling slave 21 as
Battery-Emulator and the BYD register map (PELLE8) describe it, and decodes
the registers with its own reading of gateway/inverter/PROTOCOLS.md §23:

- the port opened at 9600 baud;
- the shared checks of hv485.py: nothing before the first data, the
  counters, no answer to another slave, a bad CRC or a cut frame, the
  limits against /api/state (the power limits 306 / 307 = DCL, CCL x the
  voltage sent, in W), silence outside 80-450 V, the fail-safe timeline
  (306 = 307 = 0, standby, no voltage after the contactors, then silence,
  then answers again), --check's window, interval and extras refused;
- the values: voltage, power (+ = discharging), the charge state 130, SOC in
  0.01 %, SOH, the coldest and hottest sensor against the simulator's and
  /api/state; the energies of the capacity set (50 Ah x 32 x 3.2 V = 5120 Wh
  at 202 and 304, the remaining one from the SOC at 305); the CVL and DVL
  at 205 / 206; the identity 100-167 ("SI", "BYD", "BYD Battery-Box Premium
  HV", "5.0", "3.26", the serial number in BYD's form); zeros elsewhere;
- the writes: 400-418 read 0 before any; Fronius's control block (FC 16 at
  400-408), its watchdog (FC 06 at 401), FC 23 (read 306-307, write 401)
  and the droop law (FC 16 at 500-506) answered and read back as written
  (401 the watchdog's last value; FC 23 reading what it writes), the state,
  the CVL and the limits unchanged; a write to 300 or 205 gets exception
  02, and keeps nothing; FC 04 exception 01, a read past 29999 exception 02;
  the answer echoed back (an adapter that echoes) is not answered again;
- a bank of two strings of two 32-cell packs: the bank's voltage, current
  and limits in the answer, a member's over-voltage and a stale member.
"""
import logging
import os
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, api_state, inverter_output  # noqa: E402
import hv485  # noqa: E402

try:
    from pymodbus.client import ModbusSerialClient
    from pymodbus.pdu import ExceptionResponse
except ImportError:
    print("python3-pymodbus is not installed (make deps installs it)")
    print("0 passed, 1 failed")
    sys.exit(1)

logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
c = Checks()
SLAVE = 21


def crc(b):
    """CRC-16/MODBUS, low byte first."""
    x = 0xFFFF
    for v in b:
        x ^= v
        for _ in range(8):
            x = (x >> 1) ^ 0xA001 if x & 1 else x >> 1
    return bytes([x & 0xFF, x >> 8])


def frame(body):
    return body + crc(body)


def s16(v):
    return v - 0x10000 if v & 0x8000 else v


def text(regs):
    """ASCII two characters a register, high byte first, up to the first 0."""
    b = b"".join(struct.pack(">H", r) for r in regs)
    return b.split(b"\0")[0].decode("ascii", "replace")


class Master:
    """The Fronius: pymodbus's RTU client on the test's end of the pty pair."""

    def __init__(self, path):
        self.cl = ModbusSerialClient(path, baudrate=9600, timeout=0.6, retries=0)
        self.cl.connect()

    def regs(self, start, count, timeout=None):
        """Holding registers start..start+count of slave 21, or None."""
        self.cl.params.timeout = timeout or 0.6
        if self.cl.socket:
            self.cl.socket.timeout = self.cl.params.timeout
            self.cl.socket.reset_input_buffer()  # a late answer to a request before is not this one's
        r = self.cl.read_holding_registers(start, count, slave=SLAVE)
        return None if r.isError() else list(r.registers)

    def patient(self, seconds=3.0):
        """The timeout of the requests whose answer, not its time, is
        checked: on a loaded machine bmsgw may answer later than the
        Fronius's 0.6 s, and a late answer would then be read as the next
        request's (RTU has no transaction id)."""
        self.cl.params.timeout = seconds
        if self.cl.socket:
            self.cl.socket.timeout = seconds
            self.cl.socket.reset_input_buffer()

    def close(self):
        self.cl.close()


class Hvm(hv485.Dialect):
    """This test's reader of §23."""
    name = "byd-hvm-modbus"
    window = (80, 450)
    baud = 9600
    example = "inverter-fronius.ini"

    def open(self, path):
        return Master(path)

    def ask(self, m, timeout=1.0):
        """Fronius's poll: 200-323 in one read (124 registers)."""
        r = m.regs(200, 124, min(timeout, 0.6))
        if r is None:
            return None
        g = {200 + i: v for i, v in enumerate(r)}
        v = g[310] / 10
        a = {"regs": g, "voltage": v, "power": s16(g[311]), "soc": g[303] / 100, "cvl": g[205] / 10,
             "dvl": g[206] / 10, "ccl": g[307] / v if v else 0, "dcl": g[306] / v if v else 0}
        a["current"] = -a["power"] / v if v else 0
        return a

    def foreign(self):
        good = frame(bytes([SLAVE, 3]) + struct.pack(">HH", 300, 24))
        bad = bytearray(good)
        bad[-1] ^= 1
        return [("slave 1's request (another device)", frame(bytes([1, 3]) + struct.pack(">HH", 300, 24))),
                ("a bad checksum", bytes(bad)),
                ("a cut request", good[:5]),
                ("the broadcast address 0", frame(bytes([0, 3]) + struct.pack(">HH", 300, 24)))]

    def raw(self, m, data, timeout=0.8):
        if not m.cl.socket:
            m.cl.connect()
        s = m.cl.socket
        s.reset_input_buffer()
        s.write(data)
        got, deadline = b"", time.monotonic() + timeout
        while time.monotonic() < deadline:
            s.timeout = 0.05
            got += s.read(256)
        return got

    def check_limits(self, c_, a, lim):
        g, v = a["regs"], a["regs"][310] / 10
        c_.eq(g[205], min(4500, int(lim["cvl_v"] * 10 + 0.01)), "205: the CVL, 0.1 V down (%s)" % g[205])
        c_.ok(abs(g[206] / 10 - lim["dvl_v"]) < 0.11 and g[206] / 10 >= lim["dvl_v"] - 1e-6,
              "206: the DVL, 0.1 V up (%s; %s)" % (g[206], lim["dvl_v"]))
        for reg, key, allowed in ((307, "ccl_a", "charge_allowed"), (306, "dcl_a", "discharge_allowed")):
            want = min(30000, int(lim[key] * v + 0.01)) if lim[allowed] else 0
            c_.ok(abs(g[reg] - want) <= 1, "%d: %s x %.1f V = %d W, down (%d)" % (reg, key, v, want, g[reg]))

    def stale_marks(self, a):
        g = a["regs"]
        return [("300 = 0: standby (%d)" % g[300], g[300] == 0),
                ("308, 309 = 0: nothing after the contactors (%d, %d)" % (g[308], g[309]), g[308] == 0 and g[309] == 0)]


D = Hvm()


def test_values(env):
    print("== the registers' values (this test's reading of §23)")
    m, port, sim = env["m"], env["http"], env["sim"]
    a = hv485.ask_until(env, lambda a: True, 10)
    st = sim.state()["packs"][0]
    pk = (api_state(port).get("packs") or [{}])[0]
    if not c.ok(a is not None, "an answer to 200-323"):
        return
    g = a["regs"]
    c.eq(g[310], round(st["voltage"] * 10), "310: the voltage, 0.1 V (%s)" % g[310])
    c.eq(g[308], g[310], "308: the same after the contactors (active)")
    c.eq(g[300], 3, "300: active")
    c.ok(abs(a["power"] - (-st["current"] * g[310] / 10)) <= 1 and a["power"] > 0,
         "311: the power, + = discharging (%s W at %s A)" % (a["power"], st["current"]))
    c.eq(g[309], g[311], "309: the same")
    c.eq(g[302], 130, "302: 130, discharging")
    c.eq(g[303], max(100, int(pk["soc"] * 100 + 1e-4)), "303: the SOC in 0.01 %% (%s; /api/state %s)" % (
        g[303], pk["soc"]))
    soh = pk.get("soh")
    c.eq(g[323], 10000 if soh is None else round(soh * 100), "323: the SOH in 0.01 %% (%s; %s)" % (g[323], soh))
    temps = st["temps_c"]
    c.eq((s16(g[312]), s16(g[313])), (round(min(temps) * 10), round(max(temps) * 10)),
         "312 / 313: the coldest and hottest sensor, 0.1 degC")
    c.eq((g[202], g[304]), (5120, 5120), "202, 304: 50 Ah x 102.4 V = 5120 Wh")
    want = 50 * pk["soc"] / 100 * 102.4
    c.ok(abs(g[305] - want) <= 6, "305: the remaining energy of 50 Ah at the SOC (%s Wh, ~%.0f)" % (g[305], want))
    c.eq((g[203], g[204], g[207], g[208], g[209], g[210]), (40960, 40960, 53248, 10, 53248, 10),
         "203-210: BYD's constants")
    ident = m.regs(100, 68, 3.0)
    if c.ok(ident is not None, "an answer to 100-167"):
        c.eq((ident[0], ident[1]), (0x5349, 1), "100: \"SI\", 101: 1")
        c.eq(text(ident[2:18]), "BYD", "102-117: BYD")
        c.eq(text(ident[18:34]), "BYD Battery-Box Premium HV", "118-133: the model")
        c.eq((text(ident[34:42]), text(ident[42:50])), ("5.0", "3.26"), "134 / 142: the versions")
        sn = text(ident[50:66])
        c.ok(len(sn) == 20 and sn.startswith("P030T020Z191118") and sn[15:].isdigit(),
             "150-165: a serial number in BYD's form (%s)" % sn)
        c.eq((ident[66], ident[67]), (1, 0), "166, 167: 1, 0")
    c.eq(m.regs(1000, 100, 3.0), [0] * 100, "1000-1099 (the fault buffers): 0")


def test_writes(env):
    print("== the writes: answered as a BYD, read back as written, the limits unchanged")
    m, port = env["m"], env["http"]
    cl = m.cl
    before = hv485.ask_until(env, lambda a: True, 10)
    c.eq(m.regs(400, 19, 3.0), [0] * 19, "400-418 read 0 before any write (the watchdog 401 too)")
    m.patient()
    r = cl.write_registers(400, [2, 0x00FF, 60, 0, 0, 0x63BF, 0x9B67, 0, 1], slave=SLAVE)
    c.ok(not r.isError() and r.address == 400 and r.count == 9, "FC 16 400-408 (Fronius's control block): answered")
    c.eq(m.regs(400, 9, 3.0), [2, 0x00FF, 60, 0, 0, 0x63BF, 0x9B67, 0, 1], "400-408 read back as written")
    m.patient()
    r = cl.write_register(401, 0xFF00, slave=SLAVE)
    c.ok(not r.isError() and r.address == 401 and r.value == 0xFF00, "FC 06 401 (the watchdog): the echo")
    c.eq(m.regs(401, 1, 3.0), [0xFF00], "401 reads the watchdog's last value")
    m.patient()
    # (this pymodbus's FC 23 takes the slave as `unit`)
    r = cl.readwrite_registers(read_address=306, read_count=2, write_address=401, write_registers=[0x00FF],
                               unit=SLAVE)
    c.ok(not r.isError() and len(r.registers) == 2 and before and r.registers == [before["regs"][306],
         before["regs"][307]], "FC 23: read 306-307, write 401: the two registers (%s)" % r)
    m.patient()
    r = cl.readwrite_registers(read_address=400, read_count=3, write_address=401, write_registers=[0xFF00],
                               unit=SLAVE)
    c.ok(not r.isError() and r.registers == [2, 0xFF00, 60], "FC 23: read 400-402, write 401: the read sees the "
         "write (%s)" % r)
    m.patient()
    r = cl.write_registers(500, [1, 2, 3, 4, 5, 6, 7], slave=SLAVE)
    c.ok(not r.isError(), "FC 16 500-506 (the droop law): answered")
    c.eq(m.regs(400, 19, 3.0), [2, 0xFF00, 60, 0, 0, 0x63BF, 0x9B67, 0, 1] + [0] * 10,
         "400-418 read back as written")
    c.eq(m.regs(499, 9, 3.0), [0, 1, 2, 3, 4, 5, 6, 7, 0], "500-506 read back as written")
    after = hv485.ask_until(env, lambda a: True, 10)
    c.ok(before and after and after["regs"][300] == 3 and after["cvl"] == before["cvl"] and
         (after["regs"][306], after["regs"][307]) == (before["regs"][306], before["regs"][307]),
         "the state, the CVL and the power limits unchanged by the writes")
    m.patient()
    for what, req in (("FC 06 at 300", lambda: cl.write_register(300, 1, slave=SLAVE)),
                      ("FC 16 at 205 (the CVL)", lambda: cl.write_registers(205, [5000], slave=SLAVE)),
                      ("FC 16 across 418-419", lambda: cl.write_registers(418, [1, 2], slave=SLAVE)),
                      ("a read past 29999", lambda: cl.read_holding_registers(29999, 2, slave=SLAVE))):
        m.patient()
        r = req()
        c.ok(isinstance(r, ExceptionResponse) and r.exception_code == 2, "%s: exception 02 (%s)" % (what, r))
    c.eq(m.regs(418, 1, 3.0), [0], "418 as before the refused write across 418-419: nothing kept")
    a = hv485.ask_until(env, lambda a: True, 10)
    c.ok(a and a["regs"][300] == 3 and a["regs"][205] == before["regs"][205],
         "300 and 205 as before the refused writes (%s, %s)" % (a and a["regs"][300], a and a["regs"][205]))
    m.patient()
    r = cl.read_input_registers(300, 2, slave=SLAVE)
    c.ok(isinstance(r, ExceptionResponse) and r.exception_code == 1, "FC 04: exception 01 (%s)" % r)
    # an adapter that echoes: the FC 06 answer, heard back, is the request itself
    req = frame(bytes([SLAVE, 6]) + struct.pack(">HH", 401, 0x00FF))
    ans = D.raw(m, req)
    c.eq(ans, req, "FC 06: the answer is the request")
    o0 = inverter_output(port, "hv") or {}
    again = D.raw(m, ans)
    o1 = inverter_output(port, "hv") or {}
    c.ok(again == b"" and o1.get("echoes", 0) == o0.get("echoes", 0) + 1 and
         o1.get("answers_sent") == o0.get("answers_sent"), "its echo heard back: no answer, counted as an echo "
         "(%r, %s)" % (again, o1.get("echoes")))
    c.ok(D.ask(m) is not None, "the next poll answered")


def string_energy(c_, env):
    a = D.ask(env["m"])
    c_.ok(a is not None and a["regs"][202] > 0 and a["regs"][300] == 3, "strings: active, an energy (%s Wh)"
          % (a and a["regs"][202]))


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-bydhvm-")
    env = hv485.start(c, D, tmp, "report_capacity_ah = 50\n")
    try:
        hv485.test_line(c, env)
        hv485.test_waiting(c, env)
        hv485.test_counters(c, env)
        test_values(env)
        hv485.test_limits(c, env)
        test_writes(env)
        hv485.test_foreign(c, env)
        hv485.test_range(c, env)
        hv485.test_stale(c, env)
        hv485.test_check(c, env)
    finally:
        hv485.stop(c, env)
    hv485.test_strings(c, tmp, D, string_energy)
    sys.exit(c.report())


if __name__ == "__main__":
    main()
