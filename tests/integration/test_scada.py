#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""SCADA and EMS conventions end to end: the real bmsgw with two simulated
Daly packs, a [bank], [limits], [sunspec] and [rtu], read by real clients
(Debian's pymodbus, mbpoll) over Modbus TCP and over Modbus RTU through a
socat pty pair.

- FC04 equals FC03 at every offset of every unit, with FC03's rules;
- FC 0x2B / MEI 0x0E (basic, regular, one object, a bad object -> 0x02, a
  bad read code -> 0x03) and FC 0x11 (run indicator 0xFF fresh, 0x00 once
  the pack is silenced in the simulator);
- a SunSpec walker from "SunS" to the end model, each model's length
  against the model definitions (tests/fixtures/sunspec/*.tsv, from
  sunspec/models) and the values against the simulator's and the map's;
  SN with this machine's id; a stale pack's block walked whole (its data
  not implemented, State 1 disconnected, Evt1 communication error, the
  currents 0) while the map answers 0x0B; the bank's Evt1 says a pack of
  it is stale; 0x01 for writes, 0x02 across the map and the block or past
  its end;
- RTU: pymodbus's serial client and `mbpoll -m rtu`; a bad CRC, a foreign
  unit and broadcasts get silence and are counted (/api/state, /metrics);
  control = false refuses a MOSFET write with 0x01, control = true carries
  it out; a reload with the same line keeps the port (a client polling
  through it gets every answer), a new mode reopens it; the port reopened
  after it went away.
"""
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tty
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BIN, ROOT, Checks, Gateway, Proc, Sim, free_port, mbap_request, raw_request,  # noqa: E402
                     wait_file, wait_until)

from pymodbus.client import ModbusSerialClient, ModbusTcpClient  # noqa: E402
from pymodbus.mei_message import ReadDeviceInformationRequest  # noqa: E402
from pymodbus.other_message import ReportSlaveIdRequest  # noqa: E402

BASE = 39839  # the map (161 registers) ends at 39999: the SunSpec block follows it at once
SS = 40000
MAP = 125  # one read: offsets 0-124
c = Checks()
TMP = tempfile.mkdtemp(prefix="bmsgw-scada-")
PTY_GW = os.path.join(TMP, "rtu-gw")          # bmsgw's end of the RS485 "bus"
PTY_MASTER = os.path.join(TMP, "rtu-master")  # the master's end
VERSION = subprocess.run([os.path.join(ROOT, BIN, "bmsgw"), "--version"], capture_output=True,
                         text=True).stdout.split()[1]
NI16, NI_S16, NI32 = 0xFFFF, 0x8000, 0xFFFFFFFF


def machine_tag():
    """The first 8 digits of this machine's id, as bmsgw puts them in SN."""
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            with open(path) as f:
                t = f.read().strip()[:8].lower()
        except OSError:
            continue
        if re.fullmatch(r"[0-9a-f]{8}", t):
            return t
    return ""


def sn(name, unit):
    m = machine_tag()
    return "%s-%d-%s" % (name, unit, m) if m else "%s-%d" % (name, unit)


def conf(gw_port, http_port, sim_port, poll=0.3, control="false", mode="8N1"):
    packs = ""
    for a in (1, 2):
        packs += ("[pack.p%d]\nprotocol = daly\nport = tcp://127.0.0.1:%d\naddress = %d\nunit_id = %d\n"
                  "poll_interval = %s\ntimeout = 0.4\nretries = 0\ncontrol = true\n" % (a, sim_port, a, a, poll))
    return """[gateway]
listen = 127.0.0.1:%d
base = %d
stale_after = 2
state_file = none
%s[bank]
unit_id = 100
[limits]
max_charge_current = 40
max_discharge_current = 60
[sunspec]
base = %d
[rtu]
port = %s
baud = 115200
mode = %s
control = %s
[http]
listen = 127.0.0.1:%d
[history]
file = none
""" % (gw_port, BASE, packs, SS, PTY_GW, mode, control, http_port)


# ---------------------------------------------------------------- helpers

def fetch(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
        return r.read().decode()


def rtu_state(http_port):
    return json.loads(fetch(http_port, "/api/state"))["modbus"]["rtu"]


def tcp_read(client, unit, addr, count, fc=3):
    """Registers, or the exception code (int), or None."""
    f = client.read_holding_registers if fc == 3 else client.read_input_registers
    rr = f(addr, count, slave=unit)
    if rr.isError():
        return getattr(rr, "exception_code", None)
    return list(rr.registers)


def read_many(read, unit, addr, count):
    """count registers through read(unit, addr, n) in reads of 125 at most;
    the first failed read's result when one fails."""
    out = []
    while count > 0:
        n = min(count, 125)
        r = read(unit, addr, n)
        if not isinstance(r, list):
            return r
        out += r
        addr += n
        count -= n
    return out


def tcp_read_many(client, unit, addr, count, fc=3):
    return read_many(lambda u, a, n: tcp_read(client, u, a, n, fc), unit, addr, count)


def raw_exc(port, unit, pdu):
    """The exception code of a raw request over TCP, or None if answered."""
    resp, _ = raw_request(port, mbap_request(0x4242, unit, pdu))
    if len(resp) >= 9 and resp[7] & 0x80:
        return resp[8]
    return None


def crc16(b):
    crc = 0xFFFF
    for x in b:
        crc ^= x
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return bytes([crc & 255, crc >> 8])


class RawMaster:
    """A bare RTU master on the pty: frames out, answers in (until 30 ms of
    silence), and what arrived unasked."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)

    def close(self):
        os.close(self.fd)

    def pending(self):
        try:
            return os.read(self.fd, 4096)
        except BlockingIOError:
            return b""

    def send(self, frame):
        os.write(self.fd, frame)

    def ask(self, unit, pdu, timeout=3.0):
        self.pending()
        self.send(bytes([unit]) + pdu + crc16(bytes([unit]) + pdu))
        buf, deadline = b"", time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.fd], [], [], 0.03 if buf else max(0, deadline - time.monotonic()))
            if not r:
                if buf:
                    break
                continue
            buf += self.pending()
        return buf


def serial_client(timeout=2):
    """pymodbus's RTU client.  Always 8N1: a pty carries no parity bits (and
    refuses pyserial's parity setting), whatever [rtu] mode bmsgw set on
    its end."""
    cl = ModbusSerialClient(port=PTY_MASTER, baudrate=115200, timeout=timeout)
    cl.connect()
    return cl


class Socat(Proc):
    def __init__(self):
        for p in (PTY_GW, PTY_MASTER):
            if os.path.lexists(p):
                os.unlink(p)
        super().__init__(["socat", "-d", "PTY,link=%s,raw,echo=0" % PTY_GW, "PTY,link=%s,raw,echo=0" % PTY_MASTER],
                         "socat")
        if not (wait_file(PTY_GW) and wait_file(PTY_MASTER)):
            raise RuntimeError("socat made no pty pair")


def reload(gw, text):
    before = len(gw.text().splitlines())
    with open(gw.conf, "w") as f:
        f.write(text)
    gw.p.send_signal(signal.SIGHUP)
    got = wait_until(lambda: [l for l in gw.text().splitlines()[before:]
                              if re.search(r"reload #\d+: applied|reload #\d+ failed", l)], 5)
    return bool(got) and "applied" in got[0]


def starts_logged(gw):
    """Lines saying an RTU server started on the port (each mode's its own
    line, so that the log's folding of repeats never hides one)."""
    return [l for l in gw.text().splitlines() if "Modbus RTU server on %s" % PTY_GW in l]


# --------------------------------------------------------- SunSpec models

def load_model(mid):
    """{name: (group, offset, size, type, sf)} and the string group's size."""
    pts, ssize = {}, 0
    with open(os.path.join(ROOT, "tests", "fixtures", "sunspec", "model_%d.tsv" % mid)) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            g, name, off, size, typ, sf = line.split("\t")[:6]
            pts[(g == "string", name)] = (int(off), int(size), typ, None if sf == "-" else sf)
            if g == "string":
                ssize = max(ssize, int(off) + int(size))
    return pts, ssize


MODELS = {m: load_model(m) for m in (1, 802, 803)}


def fixed_len(mid):
    pts = MODELS[mid][0]
    return max(o + s for (st, _), (o, s, _, _) in pts.items() if not st) - 2


class Model:
    """One model's registers as read, points by name (803's strings too)."""

    def __init__(self, mid, regs):
        self.mid, self.r = mid, regs
        self.pts, self.ssize = MODELS[mid]

    def raw(self, name, string=None):
        off, size, typ, _ = self.pts[(string is not None, name)]
        if string is not None:
            off += fixed_len(self.mid) + 2 + self.ssize * (string - 1)
        v = 0
        for w in self.r[off:off + size]:
            v = v << 16 | w
        if typ == "string":
            return b"".join(bytes([w >> 8, w & 255]) for w in self.r[off:off + size]).rstrip(b"\0").decode()
        if typ in ("int16", "sunssf") and v >= 0x8000:
            v -= 0x10000
        return v

    def val(self, name, string=None):
        """The value with its scale factor applied; None if not implemented."""
        off, size, typ, sf = self.pts[(string is not None, name)]
        v = self.raw(name, string)
        if (typ == "int16" and v == -0x8000) or (typ in ("uint16", "enum16") and v == NI16) or \
                (typ in ("uint32", "bitfield32") and v == NI32):
            return None
        return v * 10.0 ** self.raw(sf) if sf else v


def walk(read, unit, what):
    """Walk the block of a unit: "SunS", models to the end model.  The models
    by id, or None."""
    if not c.eq(read(unit, SS, 2), [0x5375, 0x6E53], "%s unit %d: \"SunS\" at %d" % (what, unit, SS)):
        return None
    addr, models, order = SS + 2, {}, []
    for _ in range(8):
        hdr = read(unit, addr, 2)
        if not isinstance(hdr, list):
            c.ok(False, "%s unit %d: model header at %d read (%r)" % (what, unit, addr, hdr))
            return None
        mid, length = hdr
        if mid == 0xFFFF:
            c.eq(length, 0, "%s unit %d: end model 0xFFFF with L = 0 at %d" % (what, unit, addr))
            c.eq(read(unit, addr, 3), 2, "%s unit %d: a read past the end model -> 0x02" % (what, unit))
            break
        regs = read_many(read, unit, addr, length + 2)
        if not isinstance(regs, list) or mid not in MODELS:
            c.ok(False, "%s unit %d: model %d at %d read (a known model)" % (what, unit, mid, addr))
            return None
        m = Model(mid, regs)
        want = fixed_len(mid) + (MODELS[mid][1] * m.raw("NStr") if mid == 803 else 0)
        c.eq(length, want, "%s unit %d: model %d at %d has L = its definition's" % (what, unit, mid, addr))
        models[mid] = m
        order.append(mid)
        addr += length + 2
    c.eq(order, [1, 802, 803] if unit == 100 else [1, 802], "%s unit %d: models in order" % (what, unit))
    return models


# ------------------------------------------------------------------ tests

def check_fc04(client, gw_port):
    for unit in (1, 2, 100, 0, 255):
        a = tcp_read(client, unit, BASE, MAP, 3)
        b = tcp_read(client, unit, BASE, MAP, 4)
        a2 = tcp_read(client, unit, BASE, MAP, 3)
        ok = all(isinstance(x, list) for x in (a, b, a2))
        bad = [i for i in range(MAP) if ok and b[i] not in (a[i], a2[i])]
        c.ok(ok and not bad, "FC04 = FC03 at every offset 0-124 of unit %d (differ: %s)" % (unit, bad[:5]))
        n = 228 if unit in (100, 0, 255) else 136
        s3 = tcp_read_many(client, unit, SS, n, 3)
        s4 = tcp_read_many(client, unit, SS, n, 4)
        # the SunSpec block has no clock in it: the two reads match outright
        c.ok(isinstance(s3, list) and s3 == s4, "FC04 = FC03 over the %d SunSpec registers of unit %d" % (n, unit))
    for pdu, exc, what in [(bytes([4]) + (BASE).to_bytes(2, "big") + bytes([0, 126]), 3, "quantity 126 -> 0x03"),
                           (bytes([4]) + (BASE + 155).to_bytes(2, "big") + bytes([0, 10]), 2,
                            "from the map into the SunSpec block -> 0x02"),
                           (bytes([4]) + (BASE - 1).to_bytes(2, "big") + bytes([0, 2]), 2, "below the map -> 0x02")]:
        c.eq(raw_exc(gw_port, 1, pdu), exc, "FC04 " + what)
    c.eq(raw_exc(gw_port, 9, bytes([4]) + BASE.to_bytes(2, "big") + bytes([0, 1])), 0x0A, "FC04 unknown unit -> 0x0A")
    out = subprocess.run(["mbpoll", "-m", "tcp", "-p", str(gw_port), "-a", "1", "-0", "-t", "3", "-r", str(BASE),
                          "-c", "10", "-1", "127.0.0.1"], capture_output=True, text=True, timeout=10).stdout
    got = [int(v) for v in re.findall(r"^\[\d+\]:\s+(-?\d+)", out, re.M)]
    c.eq(got, tcp_read(client, 1, BASE, 10, 3), "mbpoll -t 3 (FC04) reads what FC03 reads")


def rdi(client, unit, code, obj):
    return client.execute(ReadDeviceInformationRequest(read_code=code, object_id=obj, unit=unit))


def check_ident(client, what="TCP"):
    r = rdi(client, 1, 1, 0)
    c.eq(getattr(r, "information", None), {0: b"bmsgw", 1: b"daly", 2: VERSION.encode()},
         "%s FC 0x2B basic: VendorName, ProductCode, MajorMinorRevision" % what)
    c.eq(getattr(r, "conformity", None), 0x82, "%s conformity level 0x82" % what)
    r = rdi(client, 2, 2, 0)
    info = getattr(r, "information", {}) or {}
    c.eq(sorted(info), [0, 1, 2, 4, 5, 6], "%s FC 0x2B regular: objects 0-2 and 4-6 (no VendorUrl)" % what)
    c.eq(info.get(6), b"p2", "%s UserApplicationName is the pack's name" % what)
    c.ok(info.get(5, b"").startswith(b"Daly"), "%s ModelName is the protocol's description (%r)" % (what, info.get(5)))
    c.eq(getattr(rdi(client, 1, 4, 6), "information", None), {6: b"p1"}, "%s FC 0x2B individual object 6" % what)
    c.eq(getattr(rdi(client, 100, 4, 1), "information", None), {1: b"bank"}, "%s bank unit: ProductCode bank" % what)
    for obj in (3, 0x80):
        r = rdi(client, 1, 4, obj)
        c.eq(getattr(r, "exception_code", None), 2, "%s FC 0x2B object 0x%02X -> 0x02" % (what, obj))
    r = rdi(client, 1, 5, 0)
    c.eq(getattr(r, "exception_code", None), 3, "%s FC 0x2B read code 5 -> 0x03" % what)


def server_id(client, unit):
    r = client.execute(ReportSlaveIdRequest(unit=unit))
    ident = getattr(r, "identifier", None)
    return (ident[0], ident[1], ident[2:].decode()) if ident and len(ident) >= 2 else None


def check_sunspec_pack(m, unit, pack, limits):
    """802 and 1 of a pack's unit against the simulator's pack and the map's limits."""
    name = "p%d" % unit
    c.eq([m[1].raw(x) for x in ("Mn", "Md", "Opt", "Vr", "SN", "DA")], ["bmsgw", "daly", name, VERSION,
         sn(name, unit), unit], "unit %d model 1: Mn Md Opt Vr SN DA (SN with the machine id)" % unit)
    b = m[802]
    cells = pack["cells_mv"]
    c.near(b.val("SoC"), pack["soc"], 0.05, "unit %d 802 SoC" % unit)
    c.near(b.val("V"), pack["voltage"], 0.005, "unit %d 802 V" % unit)
    c.near(b.val("A"), -pack["current"], 0.05, "unit %d 802 A (+ = discharging)" % unit)
    c.near(b.val("W"), -pack["voltage"] * pack["current"], 1.0, "unit %d 802 W (+ = discharging)" % unit)
    c.eq([b.raw("CellVMax"), b.raw("CellVMin"), b.raw("CellVMaxStr"), b.raw("CellVMaxMod")],
         [max(cells), min(cells), 1, 1], "unit %d 802 CellVMax / CellVMin (mV, CellV_SF -3), string, module" % unit)
    c.near(b.val("CellVAvg"), sum(cells) / len(cells) / 1000, 0.0011, "unit %d 802 CellVAvg" % unit)
    c.eq(b.raw("NCyc"), pack["cycles"], "unit %d 802 NCyc" % unit)
    c.eq([b.raw("Typ"), b.raw("State"), b.raw("ChaSt"), b.raw("Evt1")],
         [4, 3, 4 if pack["current"] > 0 else 3, 0], "unit %d 802 Typ lithium-ion, State, ChaSt, Evt1" % unit)
    # a Daly reports a remaining but no full capacity: the one rule's remaining over SOC
    # (bmsgw-modbus(7) "Capacities"); no SOH
    ah = b.val("AHRtg")
    c.ok(ah is not None and abs(ah - pack["remaining_ah"] * 100 / pack["soc"]) <= 0.11,
         "unit %d 802 AHRtg the Daly's remaining over its SOC (%r)" % (unit, ah))
    c.eq(b.val("SoH"), None, "unit %d 802 SoH not implemented (Daly has none)" % unit)
    c.near(b.val("WChaRteMax"), 40 * len(cells) * 3.2, 0.5, "unit %d 802 WChaRteMax (40 A x 16 x 3.2 V)" % unit)
    for pt, key in (("VMax", "cvl"), ("AChaMax", "ccl"), ("ADisChaMax", "dcl"), ("VMin", "dvl")):
        lo, hi = min(limits[0][key], limits[1][key]), max(limits[0][key], limits[1][key])
        v = b.val(pt)
        c.ok(v is not None and lo - 1e-6 <= v <= hi + 1e-6, "unit %d 802 %s = the map's %s (%r, map %r..%r)" %
             (unit, pt, key.upper(), v, lo, hi))


def map_limits(client, unit):
    r = tcp_read(client, unit, BASE + 46, 4)
    return {"cvl": r[0] / 100, "ccl": r[1] / 10, "dcl": r[2] / 10, "dvl": r[3] / 100}


def check_sunspec_bank(m, packs, bank_map):
    c.eq([m[1].raw(x) for x in ("Md", "Opt", "SN", "DA")], ["bank", "bank", sn("bank", 100), 100],
         "bank model 1: Md Opt SN DA")
    b, s = m[802], m[803]
    c.eq(b.raw("V"), bank_map[1], "bank 802 V = the bank map's voltage (0.01 V)")
    c.near(b.val("SoC"), bank_map[60] / 10, 0.05, "bank 802 SoC = the bank map's SOC")
    c.near(b.val("A"), -sum(p["current"] for p in packs), 0.51, "bank 802 A (A_SF one decade coarser)")
    c.eq(b.raw("A_SF"), 0, "bank 802 A_SF = -1 + ceil(log10(2 packs))")
    allc = [(v, k + 1) for k, p in enumerate(packs) for v in p["cells_mv"]]
    c.eq([b.raw("CellVMax"), b.raw("CellVMaxStr"), b.raw("CellVMin"), b.raw("CellVMinStr")],
         [max(allc)[0], max(allc)[1], min(allc)[0], min(allc)[1]], "bank 802 cell extremes and their packs")
    c.eq([s.raw("NStr"), s.raw("NStrCon")], [2, 2], "bank 803 NStr, NStrCon")
    for k, p in enumerate(packs, 1):
        c.near(s.val("StrSoC", k), p["soc"], 0.05, "bank 803 string %d StrSoC" % k)
        c.near(s.val("StrA", k), -p["current"], 0.05, "bank 803 string %d StrA" % k)
        c.eq([s.raw("StrCellVMax", k), s.raw("StrCellVMin", k), s.raw("StrNMod", k), s.raw("StrEvt1", k)],
             [max(p["cells_mv"]), min(p["cells_mv"]), 1, 0], "bank 803 string %d cells, modules, events" % k)
        c.near(s.val("StrModTmpMax", k), max(p["temps_c"]), 0.05, "bank 803 string %d StrModTmpMax" % k)


def check_sunspec(client, sim):
    read = lambda u, a, n: tcp_read(client, u, a, n)  # noqa: E731
    packs = sim.state()["packs"]
    for unit in (1, 2):
        lim0 = map_limits(client, unit)
        m = walk(read, unit, "TCP")
        lim1 = map_limits(client, unit)
        if m:
            check_sunspec_pack(m, unit, packs[unit - 1], (lim0, lim1))
    bank_map = tcp_read(client, 100, BASE, MAP)
    m = walk(read, 100, "TCP")
    if m:
        check_sunspec_bank(m, packs, bank_map)


def check_writes(gw_port):
    soc_rsv = SS + 2 + 68 + 10  # 802 SoCRsvMin: RW in the model, read-only here
    for unit, pdu, what in [(1, bytes([6]) + soc_rsv.to_bytes(2, "big") + bytes([0, 50]), "FC06 802 SoCRsvMin"),
                            (100, bytes([6]) + soc_rsv.to_bytes(2, "big") + bytes([0, 50]), "FC06 bank 802"),
                            (1, bytes([16]) + SS.to_bytes(2, "big") + bytes([0, 2, 4, 0, 0, 0, 0]), "FC16 \"SunS\"")]:
        c.eq(raw_exc(gw_port, unit, pdu), 1, "%s -> 0x01 (the SunSpec block is read-only)" % what)
    c.eq(raw_exc(gw_port, 1, bytes([3]) + (SS + 130).to_bytes(2, "big") + bytes([0, 10])), 2,
         "a read past a pack's block (136 registers) -> 0x02")
    c.eq(raw_exc(gw_port, 100, bytes([3]) + (SS + 130).to_bytes(2, "big") + bytes([0, 10])), None,
         "the same read of the bank's longer block is served")
    c.eq(raw_exc(gw_port, 1, bytes([3]) + (SS - 5).to_bytes(2, "big") + bytes([0, 10])), 2,
         "a read across the map's end into \"SunS\" -> 0x02")


def check_stale(client, sim, gw_port):
    c.eq(server_id(client, 2), (2, 0xFF, "bmsgw %s p2 daly" % VERSION), "FC 0x11 unit 2: id, run 0xFF, text")
    c.eq(server_id(client, 0), (100, 0xFF, "bmsgw %s bank bank" % VERSION), "FC 0x11 unit 0 reaches the bank")
    sim.ctl("fault 2 silent")
    stale = wait_until(lambda: tcp_read(client, 2, BASE, 1) == 0x0B, 6)
    c.ok(stale, "pack 2 silenced: map data -> 0x0B")
    soc = SS + 2 + 68 + 11
    c.eq([tcp_read(client, 2, soc, 1, fc) for fc in (3, 4)], [[NI16], [NI16]],
         "stale: 802 SoC answered, not implemented, by FC03 and FC04 (no 0x0B in the SunSpec block)")
    c.eq(server_id(client, 2), (2, 0x00, "bmsgw %s p2 daly" % VERSION), "FC 0x11 unit 2 stale: run indicator 0x00")
    for fc in (3, 4):
        p = walk(lambda u, a, n: tcp_read(client, u, a, n, fc), 2, "TCP FC%02d, pack 2 stale," % fc)
        if not p:
            continue
        b = p[802]
        c.eq([p[1].raw("Md"), p[1].raw("SN"), p[1].raw("DA")], ["daly", sn("p2", 2), 2],
             "FC%02d stale pack 2: model 1 as always" % fc)
        c.eq([b.raw("State"), b.raw("Evt1"), b.raw("SetOp"), b.raw("SetInvState")], [1, 1, 1, 3],
             "FC%02d stale pack 2: State 1 disconnected, Evt1 communication error, SetOp 1, SetInvState 3" % fc)
        c.eq([b.val(x) for x in ("SoC", "V", "A", "W", "NCyc", "CellVMax", "VMax", "VMin", "ChaSt")], [None] * 9,
             "FC%02d stale pack 2: no old value (SoC V A W NCyc CellVMax VMax VMin ChaSt not implemented)" % fc)
        c.eq([b.raw("AChaMax"), b.raw("ADisChaMax"), b.raw("V_SF")], [0, 0, -2],
             "FC%02d stale pack 2: AChaMax = ADisChaMax = 0, the scale factors kept" % fc)
    m = walk(lambda u, a, n: tcp_read(client, u, a, n), 100, "TCP, pack 2 stale,")
    if m:
        c.eq([m[803].raw("NStrCon"), m[803].raw("StrEvt1", 2), m[803].raw("StrSoC", 2)], [1, 1, NI16],
             "bank 803: string 2 lost (COMMUNICATION_ERROR, no old SoC), one string connected")
        c.eq([m[802].raw("Evt1") & 1, m[802].raw("State")], [1, 3],
             "bank 802 with a stale pack: Evt1 communication error, State still connected")
    sim.ctl("fault 2 none")
    c.ok(wait_until(lambda: isinstance(tcp_read(client, 2, BASE, 1), list), 6), "pack 2 fresh again")


def check_rtu_clients(client, http_port):
    cl = serial_client()
    for fc, f in ((3, cl.read_holding_registers), (4, cl.read_input_registers)):
        rr = f(BASE, 40, slave=1)
        c.eq(None if rr.isError() else list(rr.registers), tcp_read(client, 1, BASE, 40),
             "RTU FC%02d unit 1 reads what TCP reads" % fc)
    rr = cl.read_holding_registers(SS, 70, slave=100)
    c.eq(None if rr.isError() else list(rr.registers), tcp_read(client, 100, SS, 70),
         "RTU: the bank's \"SunS\" and model 1 as over TCP")
    c.eq(server_id(cl, 1), (1, 0xFF, "bmsgw %s p1 daly" % VERSION), "RTU FC 0x11 unit 1")
    check_ident(cl, "RTU")
    rr = cl.write_register(BASE + 17, 0, slave=1)
    c.eq(getattr(rr, "exception_code", None), 1, "RTU control = false: a MOSFET write -> 0x01")
    cl.close()
    out = subprocess.run(["mbpoll", "-m", "rtu", "-b", "115200", "-P", "none", "-a", "1", "-0", "-r", str(BASE),
                          "-c", "10", "-1", PTY_MASTER], capture_output=True, text=True, timeout=10).stdout
    got = [int(v) for v in re.findall(r"^\[\d+\]:\s+(-?\d+)", out, re.M)]
    c.eq(got, tcp_read(client, 1, BASE, 10), "mbpoll -m rtu reads what TCP reads")


def check_rtu_silence(http_port, sim):
    m = RawMaster(PTY_MASTER)
    read = bytes([3]) + BASE.to_bytes(2, "big") + bytes([0, 2])
    c.eq(len(m.ask(1, read)), 3 + 4 + 2, "raw RTU read answered (address, FC, count, 2 registers, CRC)")
    st0 = rtu_state(http_port)
    # an adapter that hears itself hands the answer back as it goes out:
    # not a request (answered, it would start an exchange with ourselves)
    m.send(bytes([1]) + read + crc16(bytes([1]) + read))
    answer, deadline = b"", time.monotonic() + 3
    while len(answer) < 9 and time.monotonic() < deadline:
        select.select([m.fd], [], [], 0.5)
        answer += m.pending()
    # late on purpose: a read's answer cannot be a request, so it is an echo
    # however late a loaded loop reads it (only an FC06 answer, which
    # repeats its request, must come back within its wire time + 20 ms)
    time.sleep(0.1)
    m.send(answer)
    c.ok(wait_until(lambda: rtu_state(http_port)["echoes"] > st0["echoes"], 3),
         "our answer's echo is recognised, 100 ms late")
    c.eq(m.pending(), b"", "the echo gets silence")
    writes0 = json.loads(sim.ctl("stats"))["writes"]
    for key, frame, what in [
            ("bad_crc", bytes([1]) + read + b"\x00\x00", "a bad CRC"),
            ("foreign_unit", bytes([9]) + read + crc16(bytes([9]) + read), "unit 9 (not served)"),
            ("broadcasts", bytes([0]) + read + crc16(bytes([0]) + read), "a broadcast read")]:
        m.send(frame)
        moved = wait_until(lambda: rtu_state(http_port)[key] > st0[key], 3)
        c.ok(moved, "%s is counted in /api/state rtu.%s" % (what, key))
        c.eq(m.pending(), b"", "%s gets silence" % what)
    mos = bytes([6]) + (BASE + 17).to_bytes(2, "big") + bytes([0, 0])
    m.send(bytes([0]) + mos + crc16(bytes([0]) + mos))
    c.ok(wait_until(lambda: rtu_state(http_port)["broadcasts"] >= st0["broadcasts"] + 2, 3),
         "a broadcast MOSFET write is counted")
    c.eq(m.pending(), b"", "a broadcast MOSFET write gets silence")
    c.eq(json.loads(sim.ctl("stats"))["writes"], writes0, "... and switches nothing")
    m.close()
    metrics = fetch(http_port, "/metrics")
    for name in ("bmsgw_rtu_bad_crc_total", "bmsgw_rtu_foreign_unit_total", "bmsgw_rtu_broadcasts_total",
                 "bmsgw_rtu_frames_total", "bmsgw_rtu_answered_total"):
        mm = re.search(r"^%s (\d+)" % name, metrics, re.M)
        c.ok(mm and int(mm.group(1)) >= 1, "/metrics %s counts (%s)" % (name, mm.group(1) if mm else None))


def poll_through(stop, result):
    """A client polling over RTU until stop is set: answers and failures.
    Every request is to be answered, however late a loaded machine runs the
    reload: a lost answer fails, a slow one does not (10 s)."""
    cl = serial_client(timeout=10)
    while not stop.is_set():
        rr = cl.read_holding_registers(BASE, 10, slave=1)
        result["ok" if not rr.isError() else "failed"] += 1
    cl.close()


def check_late_answer(gw, sim, http_port):
    """A master that gives up on a MOSFET write and asks something else: the
    write goes on, its late answer is never sent into the new exchange."""
    m = RawMaster(PTY_MASTER)
    off = bytes([6]) + (BASE + 17).to_bytes(2, "big") + bytes([0, 0])
    read = bytes([3]) + BASE.to_bytes(2, "big") + bytes([0, 2])
    # commands confirmed, by the daemon's own counter (the log folds a line
    # said again within 10 s into a later "(repeated N times)")
    done = lambda: sum(float(l.rsplit(" ", 1)[1]) for l in fetch(http_port, "/metrics").splitlines()  # noqa: E731
                       if l.startswith("bmsgw_pack_control_commands_total{") and 'result="done"' in l)
    done0 = done()
    st0 = rtu_state(http_port)

    def queued():
        # queued = it reached the BMS with no answer yet (the answer waits
        # for the read-back); a command a second per pack: 0x06 means "again
        # later".  Decided by the simulator's count of writes, not by how
        # fast an answer comes (a loaded machine answers late).
        w0 = sim.state()["packs"][0]["writes"]
        m.pending()
        m.send(bytes([1]) + off + crc16(bytes([1]) + off))
        if wait_until(lambda: sim.state()["packs"][0]["writes"] > w0, 2, 0.02):
            return m.pending() == b""
        return False
    c.ok(wait_until(queued, 8, 0.2), "RTU MOSFET write queued (no answer yet)")
    c.eq(len(m.ask(1, read)), 9, "the master moves on: its read is answered")
    c.ok(rtu_state(http_port)["late_answers"] > st0["late_answers"], "the write's answer is given up (late_answers)")
    c.ok(wait_until(lambda: done() > done0, 5), "the write itself goes on to the BMS and is confirmed")
    c.eq(m.pending(), b"", "its late answer is never sent")
    m.close()
    cl = serial_client()
    rr = wait_until(lambda: (lambda r: r if getattr(r, "exception_code", None) != 6 else None)(
        cl.write_register(BASE + 17, 1, slave=1)), 5, 0.2)
    c.ok(rr is not None and not rr.isError(), "discharge MOSFET back on")
    cl.close()


def check_reloads(gw, sim, http_port, ports):
    result = {"ok": 0, "failed": 0}
    stop = threading.Event()
    t = threading.Thread(target=poll_through, args=(stop, result))
    t.start()
    wait_until(lambda: result["ok"] >= 5, 5)
    st0 = rtu_state(http_port)
    applied = reload(gw, conf(*ports, poll=0.35))
    n0 = result["ok"]
    wait_until(lambda: result["ok"] >= n0 + 10, 5)
    stop.set()
    t.join()
    c.ok(applied, "reload with [rtu] unchanged applied")
    c.ok(result["ok"] >= 15 and result["failed"] == 0, "a client polling over RTU through the reload gets every "
         "answer (%d answered, %d failed)" % (result["ok"], result["failed"]))
    st = rtu_state(http_port)
    # kept through the reload: no open since st0 (a port whose peer was not
    # there yet at start may have been opened again before it); the one
    # request in flight when st0 was read may be counted in st0 and in the
    # answers after n0 alike (a loaded machine ran the client late: 16 frames
    # for 17 answers once)
    c.ok(st["opens"] == st0["opens"] and st["frames"] >= st0["frames"] + result["ok"] - n0 - 1,
         "the port was kept: not opened again, its counters run on (opens %d -> %d, %d -> %d frames, %d answered "
         "after the reload)" % (st0["opens"], st["opens"], st0["frames"], st["frames"], result["ok"] - n0))
    c.eq(len(starts_logged(gw)), 1, "no new RTU server in the log")

    c.ok(reload(gw, conf(*ports, control="true")), "reload: [rtu] control = true, the same line")
    c.eq(len(starts_logged(gw)), 1, "control changed: the port stays open")
    cl = serial_client()
    for value in (0, 1):
        def write():
            rr = cl.write_register(BASE + 17, value, slave=1)
            return rr if getattr(rr, "exception_code", None) != 6 else None  # busy: one command a second
        rr = wait_until(write, 5, 0.2)
        c.ok(rr is not None and not rr.isError() and rr.value == value,
             "RTU control = true: discharge MOSFET %s confirmed (%r)" % (("off", "on")[value], rr))
        c.eq(sim.state()["packs"][0]["dsg_mos"], value, "the simulated pack's discharge MOSFET is %d" % value)
    cl.close()
    check_late_answer(gw, sim, http_port)

    st0 = rtu_state(http_port)
    c.ok(reload(gw, conf(*ports, control="true", mode="8E1")), "reload: [rtu] mode = 8E1")
    c.ok("8E1" in "".join(starts_logged(gw)[1:]), "a new line: a new RTU server on the port")
    st = wait_until(lambda: (lambda x: x if x["open"] else None)(rtu_state(http_port)), 3) or {}
    c.ok(st.get("mode") == "8E1" and st.get("opens") == 1 and st.get("frames", 1 << 30) < st0["frames"],
         "/api/state rtu: mode 8E1, the port reopened, counters from 0 (%r)" % st)
    cl = serial_client()
    rr = cl.read_holding_registers(BASE, 2, slave=1)
    c.ok(not rr.isError(), "RTU read after the reopen")
    cl.close()


def check_port_lost(socat, http_port):
    socat.stop()
    c.ok(wait_until(lambda: not rtu_state(http_port)["open"], 5), "socat gone: the RTU port is down")
    socat = Socat()
    c.ok(wait_until(lambda: rtu_state(http_port)["open"], 8), "a new pty: the port reopened (backoff)")
    cl = serial_client()
    rr = wait_until(lambda: (lambda r: None if r.isError() else r)(cl.read_holding_registers(BASE, 2, slave=1)), 3)
    c.ok(rr is not None, "RTU answers on the reopened port")
    cl.close()
    return socat


def main():
    t0 = time.monotonic()
    sim = Sim(packs=("address=1,current=5", "address=2,current=-12.5,soc=40,cycles=17"))
    socat = Socat()
    gw_port, http_port = free_port(), free_port()
    ports = (gw_port, http_port, sim.port)
    gw = Gateway(conf(*ports), gw_port)
    client = ModbusTcpClient("127.0.0.1", port=gw_port, timeout=3)
    try:
        client.connect()
        up = wait_until(lambda: all(tcp_read(client, u, BASE + 58, 1) == [1] for u in (1, 2)), 10)
        c.ok(up, "both packs online")
        check_fc04(client, gw_port)
        check_ident(client)
        check_sunspec(client, sim)
        check_writes(gw_port)
        check_stale(client, sim, gw_port)
        check_rtu_clients(client, http_port)
        check_rtu_silence(http_port, sim)
        check_reloads(gw, sim, http_port, ports)
        socat = check_port_lost(socat, http_port)
        c.ok(gw.alive(), "bmsgw still running")
    finally:
        client.close()
        if c.failed:
            gw.dump(40)
        gw.stop()
        socat.stop()
        sim.stop()
        shutil.rmtree(TMP, True)
    print("runtime %.1f s" % (time.monotonic() - t0))
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
