#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# run.sh: nice=5
"""The recorded frames of tests/fixtures/vectors.tsv, checked on their own:

- every row is well formed: a unique id, a known family, a frame of whole
  bytes (hex of even length; Pylontech-style frames as ASCII from '~';
  Sinowealth rows as "request -> response");
- every frame's checksum verifies by its family's rule (sum8, CRC-16/MODBUS,
  JK sum16, JBD 0x10000 - sum, Pylontech CHKSUM + LCHKSUM, CRC-8/SMBUS, JK02
  sum8, NEEY sum8 + 0xFF + length, SOK CRC-8/MAXIM, Topband's sum16 of its hex block, Eco-Worthy's CRC-16/MODBUS, HumsiENK's sum16, TDT's CRC-16 high byte first, Seplos BLE's CRC-XMODEM, KS48's start, length and end byte (no checksum), Basen's sum16 and CR LF, RoyPow's XOR and F5, PACEEX's CRC-16/MODBUS high byte first and 9D, Felicity's well-formed JSON with CommVer 1 (no checksum;
  requests: the module's read requests), Victron's key check byte and the set unused bits of the decrypted
  record; CAN frames carry none in their data: their ids and lengths are
  checked), so a
  fixture cannot rot unnoticed;
- every frame occurs in at least one unit test (tests/unit/test_*.c), so no
  recorded frame goes unused.  The unit tests embed frames as C string
  literals, split over several lines ("ab" "cd") and sometimes spaced
  ("A5 40 ..."); the literals are joined and compared without spaces and
  case.

Independent of the C code under test: no build needed.  Prints "ok" /
"FAIL" lines and ends with "N passed, N failed".
"""
import json
import math
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from harness import ROOT, Checks  # noqa: E402
from aes128 import victron_ctr  # noqa: E402
from fixtures import unit_literals  # noqa: E402 - tests/tools/fixtures.py, a protocol's fixtures

TSV = os.path.join(ROOT, "tests", "fixtures", "vectors.tsv")
FAMILIES = ("daly", "sino", "modbus", "jk4e57", "jkpb", "jbd", "pylon", "jk02", "victron", "can", "neey", "sok")
CAN_FRAME = re.compile(r"^([0-7][0-9A-Fa-f]{2}|[01][0-9A-Fa-f]{7})#((?:[0-9A-Fa-f]{2}){0,8})$")
HEX = re.compile(r"^[0-9a-fA-F]+$")
# the Bluetooth LE families of LiTime, Tian Power and E&J (their checks below)
FAMILIES += ("litime", "tianpwr", "ej")
FAMILIES += ("topband", "ecoworthy")
FAMILIES += ("humsienk",)
FAMILIES += ("tdt",)
FAMILIES += ("seplos2b",)
# Felicity Solar over Bluetooth LE: ASCII requests, JSON answers (their check below)
FAMILIES += ("felicity",)
# the LifePower binary RS485 family (its check below)
FAMILIES += ("lifepower",)
# ANT BMS, wired and over Bluetooth LE (ant_ok below)
FAMILIES += ("ant",)
# JBD UP16S / Eco-Worthy racks over RS485 (jbdup_ok below)
FAMILIES += ("jbdup",)
# KS48x00 / Braun Power over Bluetooth LE (ks48_ok below)
FAMILIES += ("ks48",)
# Basen over Bluetooth LE (basen_ok below)
FAMILIES += ("basen",)
# RoyPow / Epoch over Bluetooth LE (roypow_ok below)
FAMILIES += ("roypow",)
# Offgridtec Smart Pro type A over Bluetooth LE (ogt_ok below)
FAMILIES += ("ogt",)
# PACEEX (PeiCheng) over Bluetooth LE (paceex_ok below)
FAMILIES += ("paceex",)
# Saihang / Anenji over Bluetooth LE: A5 A5 + a Modbus RTU frame (saihang_ok below)
FAMILIES += ("saihang",)
# Super-B Epsilon v1 and v2 over Bluetooth LE (superb_ok below)
FAMILIES += ("superb",)
# Lithionics NeverDie / Li3 over Bluetooth LE: its stream's ASCII lines (lithionics_ok below)
FAMILIES += ("lithionics",)
# the Pro BMS smart shunt over Bluetooth LE (probms_ok below)
FAMILIES += ("probms",)
# Wattstunde Nova Core over Bluetooth LE (wattstunde_ok below)
FAMILIES += ("wattstunde",)
# CBT Power / Creabest R packs over Bluetooth LE (cbtpower_ok below)
FAMILIES += ("cbtpower",)
# the Greenway BMS (Talaria bikes) over Bluetooth LE (greenway_ok below)
FAMILIES += ("greenway",)
# Creabest VB series over Bluetooth LE (creabestvb_ok below)
FAMILIES += ("creabestvb",)
# Volta Power Systems (myVolta) over Bluetooth LE: its DLE-framed stream (myvolta_ok below)
FAMILIES += ("myvolta",)
# D-powercore DXB / TBA packs over Bluetooth LE: 20-byte pages (dpowercore_ok below)
FAMILIES += ("dpowercore",)
# the JBD Bluetooth module's PIN (jbdpin_ok below)
FAMILIES += ("jbdpin",)
# Dometic Büttner batteries over Bluetooth LE, a link of channels (dometic_ok below)
FAMILIES += ("dometic",)
# 123\\SmartBMS gen 3 over Bluetooth LE: ASCII lines (smartbms123_ok below)
FAMILIES += ("smartbms123",)
# the 123SmartBMS's 58-byte frame over Bluetooth LE (smartbms58_ok below)
FAMILIES += ("smartbms58",)
# the Saftkiste BMS over Bluetooth LE (saftkiste_ok below)
FAMILIES += ("saftkiste",)
# the Lolan BMS over Bluetooth LE (lolan_ok below)
FAMILIES += ("lolan",)
# PowerBoozt and Doerr over Bluetooth LE: E&J-style frames, the answers' check over the decoded bytes (ejbt_ok below)
FAMILIES += ("ejbt",)
# the Votronic battery computer over Bluetooth LE: 20-byte notifications, no checksum (votronic_ok below)
FAMILIES += ("votronic",)
# the high-voltage packs read listen only (bms/hvcan.h): a broadcast's frames, ids repeated, the
# family's own checks by the row's id (hvcan_ok below)
FAMILIES += ("hvcan",)


def crc16_modbus(b):
    crc = 0xFFFF
    for x in b:
        crc ^= x
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def modbus_ok(b):
    return len(b) >= 4 and crc16_modbus(b[:-2]) == b[-2] | b[-1] << 8


def crc8_smbus(b):
    crc = 0
    for x in b:
        crc ^= x
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def daly_ok(b):
    """One or more 13-byte frames, each with its sum8."""
    if len(b) == 0 or len(b) % 13:
        return False
    return all(f[0] == 0xA5 and f[3] == 0x08 and sum(f[:12]) & 0xFF == f[12]
               for f in (b[i:i + 13] for i in range(0, len(b), 13)))


def jk_ok(b):
    return (len(b) >= 20 and b[:2] == b"\x4e\x57" and (b[2] << 8 | b[3]) + 2 == len(b) and
            b[-5] == 0x68 and sum(b[:-4]) & 0xFFFF == b[-2] << 8 | b[-1])


def jkpb_ok(b):
    """A 300-byte 0x55AA frame (sum8 in byte 299), then optionally 0x00,
    then an 8-byte FC16 acknowledgement."""
    if len(b) < 308 or b[:4] != b"\x55\xaa\xeb\x90" or sum(b[:299]) & 0xFF != b[299]:
        return False
    rest = b[300:]
    if len(rest) == 9 and rest[0] == 0:
        rest = rest[1:]
    return len(rest) == 8 and rest[1] == 0x10 and modbus_ok(rest)


def victron_ok(key, data):
    """A Victron product advertisement (manufacturer data 0x10 ...) under
    the row's key: the key-check byte is key[0], and, decrypted with
    AES-128-CTR (counter block = the nonce, then zeros), a battery-monitor
    record has the unused bits of its last byte set, as Victron's "Extra
    manufacturer data" document asks."""
    if len(key) != 16 or len(data) < 9 or data[0] != 0x10 or data[7] != key[0]:
        return False
    plain = victron_ctr(key, data[5:7], data[8:8 + 16])
    if data[4] == 0x02 and len(plain) >= 15:
        return plain[14] >> 6 == 3  # bits 118-119
    return True


def jk02_ok(b):
    """JK02 over Bluetooth LE: a 300-byte 0x55AA record (sum8 in byte 299,
    type 1, 2, 3 or 5) or a 20-byte AA 55 90 EB request / acknowledgement
    (sum8 in byte 19), then any further 20-byte frames, then any "AT\\r\\n"
    of the BLE module, as notified."""
    if b[:4] == b"\x55\xaa\xeb\x90":
        if len(b) < 300 or sum(b[:299]) & 0xFF != b[299] or b[4] not in (1, 2, 3, 5):
            return False
        rest = b[300:]
    elif b[:4] == b"\xaa\x55\x90\xeb":
        rest = b
    else:
        return False
    while rest[:4] == b"\xaa\x55\x90\xeb":
        if len(rest) < 20 or sum(rest[:19]) & 0xFF != rest[19]:
            return False
        rest = rest[20:]
    while rest[:4] == b"AT\r\n":
        rest = rest[4:]
    return rest == b""


def neey_ok(b):
    """NEEY / Heltec over Bluetooth LE: a 55 AA 11 answer of the length its
    bytes 6-7 announce, sum8 of all but the last two bytes, then 0xFF; or a
    20-byte AA 55 11 request whose check byte is the sum or (the GW app's)
    the XOR of bytes 0-17, then 0xFF."""
    if b[:3] == b"\x55\xaa\x11":
        return len(b) >= 20 and b[6] | b[7] << 8 == len(b) and sum(b[:-2]) & 0xFF == b[-2] and b[-1] == 0xFF
    if b[:3] == b"\xaa\x55\x11" and len(b) == 20 and b[-1] == 0xFF:
        x = 0
        for v in b[:18]:
            x ^= v
        return b[18] in (sum(b[:18]) & 0xFF, x)
    return False


def crc8_maxim(b):
    crc = 0
    for x in b:
        crc ^= x
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8C if crc & 1 else crc >> 1
    return crc


def sok_ok(b):
    """SOK / ABC-BMS over Bluetooth LE: a 20-byte CC answer or a 6-byte EE
    request, CRC-8/MAXIM of all bytes but the last in the last."""
    return ((len(b) == 20 and b[0] == 0xCC) or (len(b) == 6 and b[0] == 0xEE)) and crc8_maxim(b[:-1]) == b[-1]


def jbd_ok(b):
    return (len(b) >= 7 and b[0] == 0xDD and b[-1] == 0x77 and len(b) == b[3] + 7 and
            (0x10000 - sum(b[2:-3])) & 0xFFFF == b[-3] << 8 | b[-2])


def pylon_ok(s):
    if not re.match(r"^~[0-9A-F]{16,}$", s):
        return False
    length = int(s[9:13], 16)
    lenid = length & 0x0FFF
    lchk = (-((lenid & 0xF) + (lenid >> 4 & 0xF) + (lenid >> 8 & 0xF))) & 0xF
    chk = (~sum(s[1:-4].encode()) + 1) & 0xFFFF
    return length >> 12 == lchk and len(s) == 13 + lenid + 4 and chk == int(s[-4:], 16)


def litime_ok(b):
    """00 00 n 01 cmd 55 AA ..., n + 4 bytes, the last the sum of the others."""
    return (len(b) >= 8 and b[:2] == b"\x00\x00" and b[3] == 1 and b[5:7] == b"\x55\xaa" and
            len(b) == b[2] + 4 and sum(b[:-1]) & 0xFF == b[-1])


def tianpwr_ok(b):
    """55 04 t AA (a request) or 55 14 t <16 bytes> AA: no checksum exists."""
    return (len(b) == 4 and b[:2] == b"\x55\x04" and b[3] == 0xAA) or \
        (len(b) == 20 and b[:2] == b"\x55\x14" and b[19] == 0xAA)


def ej_ok(s):
    """':' hex... '~': the length field (hex 6..9) is the frame's length, the
    checksum the sum of the characters between ':' and it, XOR 0xFF."""
    if not re.match(r"^:[0-9A-Fa-f]{12,}~$", s) or len(s) % 2:
        return False
    return int(s[7:11], 16) == len(s) and (sum(s[1:-3].encode()) & 0xFF) ^ 0xFF == int(s[-3:-1], 16)


def topband_ok(b):
    """A start byte (0x5E, 0x83, 0xB0, 0xE8) and 112 hex digits, whose block's
    bytes 54..55 are the big-endian 16-bit sum of its bytes 0..53."""
    if len(b) != 113 or b[0] not in (0x5E, 0x83, 0xB0, 0xE8) or not re.match(rb"^[0-9A-Fa-f]{112}$", b[1:]):
        return False
    d = bytes.fromhex(b[1:].decode())
    return sum(d[:54]) & 0xFFFF == d[54] << 8 | d[55]


def lifepower_ok(b):
    """7E|7C addr cmd len data 0D, len + 6 bytes; the byte before 0D is the
    XOR of SOI .. the last data byte XOR their sum (low byte)."""
    if len(b) < 6 or b[0] not in (0x7E, 0x7C) or len(b) != b[3] + 6 or b[-1] != 0x0D:
        return False
    x = 0
    for v in b[:-2]:
        x ^= v
    return x ^ (sum(b[:-2]) & 0xFF) == b[-2]


def ant_ok(b):
    """ANT: 7E A1 frames (CRC-16/MODBUS of bytes 1 .. 5 + n at 6 + n, low
    byte first, AA 55 at the end: n + 10 bytes, the device information 0x12
    n + 16), the legacy 140-byte AA 55 AA FF answer (sum16 of 4..137,
    big-endian, at 138) and the legacy requests (5A 5A / DB DB, 6 bytes,
    the sum of bytes 2..4)."""
    if len(b) >= 10 and b[:2] == b"\x7e\xa1":
        body = b[5] + 6
        if b[2] & 0x10 == 0 and b[2] != 0x23:  # a request: the length byte is what it asks
            body = 6
        total = body + 4 + (6 if b[2] == 0x12 else 0)
        return len(b) == total and b[-2:] == b"\xaa\x55" and crc16_modbus(b[1:body]) == b[body] | b[body + 1] << 8
    if len(b) == 140 and b[:4] == b"\xaa\x55\xaa\xff":
        return sum(b[4:138]) & 0xFFFF == b[138] << 8 | b[139]
    return len(b) == 6 and b[0] == b[1] and b[0] in (0x5A, 0xDB) and sum(b[2:5]) & 0xFF == b[5]


def jbdpin_ok(b):
    """The JBD module's PIN: FF AA 15 n data sum, n + 5 bytes, the sum the
    low byte of bytes 2 .. n + 3."""
    return len(b) >= 5 and b[:3] == b"\xff\xaa\x15" and len(b) == b[3] + 5 and sum(b[2:-1]) & 0xFF == b[-1]


def dometic_ok(b):
    """Dometic: no checksum exists: a stream frame is 8 bytes, 23 85, the
    battery, the index; a text of the handshake APP+ / MST+ and printable
    ASCII; the greetings and keep-alive answers one or two bytes (9B 00, 12,
    FF, DF)."""
    if len(b) == 8 and b[:2] == b"\x23\x85":
        return True
    if b[:4] in (b"APP+", b"MST+"):
        return b[:7].isascii() and b[4:7].isalpha()
    return b in (b"\x9b\x00", b"\x12", b"\xff", b"\xdf")


def smartbms123_ok(b):
    """123\\SmartBMS gen 3: no checksum exists: the ping `$`, or printable
    ASCII ending in its one CR: a command (`PW<4 digits>!`, `E!`), an answer
    (OK, NA, WRONG, KO) or a data line (a tag letter, then `_`-separated
    hex fields, a sign allowed, X for none)."""
    if b == b"$":
        return True
    if len(b) < 2 or b[-1:] != b"\r" or b"\r" in b[:-1] or any(x < 0x20 or x > 0x7E for x in b[:-1]):
        return False
    t = b[:-1].decode()
    if t in ("OK", "NA", "WRONG", "KO", "E!") or re.fullmatch(r"PW[0-9]{4}!", t):
        return True
    return re.fullmatch(r"[A-Z](_[+-]?([0-9A-Fa-f]{1,8}|X[0-9A-Fa-fX]*))+", t) is not None


def smartbms58_ok(b):
    """The 123SmartBMS's frame: 58 bytes, the last the low byte of the sum
    of the 57 before it; the current's sign '+', '-' or 'X', a cell count
    1..32 and a cell number within it, SOC at most 100."""
    return (len(b) == 58 and sum(b[:57]) & 0xFF == b[57] and b[9] in b"+-X" and 1 <= b[25] <= 32 and
            b[24] <= b[25] and b[40] <= 100)


def saftkiste_ok(b):
    """Saftkiste: F0 FF <type>, no checksum exists: the length its type
    has (aiobmsble's captures): the reads 02 / 03 (3 bytes) and their
    answers (47 / 44), the login (14) and its answers (0x00: 39, 0x10: the
    refusal F0 FF 10 00 07), the setup 0x43 (9) and its answer (107)."""
    lens = {0x00: (39,), 0x02: (3, 47), 0x03: (3, 44), 0x10: (14, 5), 0x43: (9, 107)}
    return len(b) >= 3 and b[:2] == b"\xf0\xff" and len(b) in lens.get(b[2], ())


def lolan_ok(b):
    """Lolan: no checksum exists: a request is 6 bytes (the function C5 65 or
    5B 65 and the password); an answer its type's length (0x01: 40, 0x02:
    88, byte 1 zero; a confirmation 0x21 / 0x2F / 0x35: 4), the status's
    SOC at most 100 and its floats finite, the cell count at most 16."""
    if len(b) == 6 and b[:2] in (b"\xc5\x65", b"\x5b\x65"):
        return True
    if len(b) == 4:
        return b[0] in (0x21, 0x2F, 0x35)
    if len(b) == 40 and b[:2] == b"\x01\x00":
        fl = [struct.unpack(">f", b[i:i + 4])[0] for i in (4, 8, 12, 16, 20)]
        return all(math.isfinite(x) for x in fl) and (b[38] << 8 | b[39]) <= 100
    return len(b) == 88 and b[:2] == b"\x02\x00" and 0 < b[2] <= 16


def jbdup_ok(b):
    """JBD UP16S: addr fc start end len data, len + 10 bytes, closed by the
    CRC-16/MODBUS of the bytes before it, low byte first."""
    return (len(b) >= 10 and b[1] in (0x78, 0x45) and len(b) == (b[6] << 8 | b[7]) + 10 and
            crc16_modbus(b[:-2]) == b[-2] | b[-1] << 8)


def humsienk_ok(b):
    """HumsiENK over Bluetooth LE: AA cmd len data, len + 5 bytes, closed by
    the 16-bit sum of cmd through the data, low byte first."""
    return (len(b) >= 5 and b[0] == 0xAA and len(b) == b[2] + 5 and
            sum(b[1:-2]) & 0xFFFF == b[-2] | b[-1] << 8)


def tdt_ok(b):
    """TDT over Bluetooth LE: head (7E; a request 1E too) ver addr 03 err cmd
    len16 data, len + 11 bytes, closed by the CRC-16/MODBUS of the bytes
    before it, high byte first, and 0D."""
    return (len(b) >= 11 and b[0] in (0x7E, 0x1E) and b[3] == 0x03 and len(b) == (b[6] << 8 | b[7]) + 11 and
            b[-1] == 0x0D and crc16_modbus(b[:-3]) == b[-3] << 8 | b[-2])


def crc16_xmodem(b):
    crc = 0
    for x in b:
        crc ^= x << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def seplos2b_ok(b):
    """Seplos V2 over Bluetooth LE: 7E ver adr .. len16 data, len + 10 bytes,
    closed by the CRC-16/XMODEM of bytes 1 .. n - 4, high byte first, and 0D."""
    return (len(b) >= 10 and b[0] == 0x7E and b[1] in (0x10, 0x14) and len(b) == (b[5] << 8 | b[6]) + 10 and
            b[-1] == 0x0D and crc16_xmodem(b[1:-3]) == b[-3] << 8 | b[-2])
def ks48_ok(b):
    """KS48x00 / Braun Power: 7B cmd len data 7D, len + 4 bytes; no
    checksum exists."""
    return len(b) >= 4 and b[0] == 0x7B and len(b) == b[2] + 4 and b[-1] == 0x7D


def basen_ok(b):
    """Basen: 3A|3B 16 type len data, len + 8 bytes, the 16-bit sum of
    bytes 1 .. 3 + len, low byte first, then 0D 0A."""
    return (len(b) >= 8 and b[0] in (0x3A, 0x3B) and b[1] == 0x16 and len(b) == b[3] + 8 and
            sum(b[1:-4]) & 0xFFFF == b[-4] | b[-3] << 8 and b[-2:] == b"\r\n")


def roypow_ok(b):
    """RoyPow / Epoch: EA D1 01 len FF cmd data, len + 4 bytes, the XOR of
    bytes 3 .. n - 3, then F5."""
    x = 0
    for v in b[3:-2]:
        x ^= v
    return (len(b) >= 8 and b[:3] == b"\xea\xd1\x01" and len(b) == b[3] + 4 and b[4] == 0xFF and
            x == b[-2] and b[-1] == 0xF5)
def greenway_ok(b):
    """Greenway: a request 46 16 01 type len sum (6 bytes), or an answer
    47 16 01 type len data sum (len + 6 bytes); sum: the low byte of the
    sum of every byte before it."""
    if len(b) < 6 or b[1:3] != b"\x16\x01" or (sum(b[:-1]) & 0xFF) != b[-1]:
        return False
    return len(b) == 6 if b[0] == 0x46 else b[0] == 0x47 and len(b) == b[4] + 6


def creabestvb_ok(b):
    """Creabest VB: a Pylontech-style ASCII frame with its '~' and CR:
    VER ADR CID1 CID2/RTN LENGTH INFO CHKSUM in hex digits; LENGTH's top
    digit the LCHKSUM of its 12-bit LENID (the INFO's digits), CHKSUM
    -(the sum of the characters VER .. INFO) & 0xFFFF; requests VER 0x11,
    answers VER 0x22."""
    if len(b) < 18 or b[0] != 0x7E or b[-1] != 0x0D:
        return False
    t = b[1:-1].decode("ascii", "replace")
    if not re.fullmatch(r"[0-9A-Fa-f]+", t) or t[:2] not in ("11", "22"):
        return False
    length = int(t[8:12], 16)
    lenid = length & 0xFFF
    lchk = (-((lenid & 15) + (lenid >> 4 & 15) + (lenid >> 8))) & 15
    return length >> 12 == lchk and len(t) == 16 + lenid and \
        int(t[-4:], 16) == (-sum(b[1:-5])) & 0xFFFF


def ogt_ok(b):
    """Offgridtec: one key byte (the first byte XOR '+') opens a request
    +RAA <4 hex digits> (8 bytes) or an answer +RD, <an even count of hex
    digits, at least 4> CR LF (at most 14 bytes); there is no checksum."""
    if not b:
        return False
    p = bytes(x ^ b[0] ^ ord("+") for x in b)
    hexd = set(b"0123456789ABCDEF")
    if len(b) == 8 and p.startswith(b"+RAA"):
        return all(c in hexd for c in p[4:])
    body = p[4:-2]
    return (len(b) <= 14 and p.startswith(b"+RD,") and p.endswith(b"\r\n") and len(body) >= 4 and
            len(body) % 2 == 0 and all(c in hexd for c in body))


def paceex_ok(b):
    """PACEEX: 9A, a 6-byte command, len, data, len + 11 bytes, the
    CRC-16/MODBUS of bytes 0 .. n - 4, high byte first, then 9D."""
    return (len(b) >= 11 and b[0] == 0x9A and len(b) == b[7] + 11 and b[-1] == 0x9D and
            crc16_modbus(b[:-3]) == b[-3] << 8 | b[-2])


def saihang_ok(b):
    """A5 A5, then a Modbus RTU frame: a read request of 8 bytes, or an
    answer of 5 + its byte count bytes; the CRC-16/MODBUS (low byte first)
    over the Modbus frame alone."""
    m = b[2:]
    size_ok = len(m) == 8 or (len(m) >= 5 and len(m) == 5 + m[2])
    return b[:2] == b"\xa5\xa5" and size_ok and modbus_ok(m)


def superb_v2_ok(b):
    """A Super-B Epsilon v2 read (21 54 00), or a 24-byte frame: type 0x00
    with SOC (1) and SOH (19) at most 100, or type 0x02 with the s32
    big-endian current (6..9) within 3000 A in mA and the u16 voltage
    (10..11) above 0 mV; there is no checksum."""
    if b == b"\x21\x54\x00":
        return True
    if len(b) != 24:
        return False
    if b[0] == 0x00:
        return b[1] <= 100 and b[19] <= 100
    ma, mv = struct.unpack(">iH", b[6:12])
    return b[0] == 0x02 and abs(ma) <= 3000000 and mv > 0


def superb_ok(b):
    """A Super-B Epsilon v1 frame: 20 bytes, SOC and SOH (bytes 2, 3) at
    most 100, the big-endian float32 current (8..11) 0 or normal within
    3000 A, the voltage (12..15) normal, above 0, at most 100 V; there is
    no checksum.  Or a v2 one (superb_v2_ok)."""
    if len(b) != 20:
        return superb_v2_ok(b)
    if b[2] > 100 or b[3] > 100:
        return False
    a, v = struct.unpack(">ff", b[8:16])
    normal = lambda x: math.isfinite(x) and abs(x) >= 1.1754944e-38
    return (a == 0 or normal(a)) and abs(a) <= 3000 and normal(v) and 0 < v <= 100


def lithionics_ok(b):
    """A line of printable ASCII ending in CR LF (there is no checksum): a
    primary line (ten fields: nine integers, hex digits last), a status
    line ("&," and the remaining Ah an integer) or "ERROR"."""
    if not b.endswith(b"\r\n") or not all(0x20 <= x < 0x7F for x in b[:-2]):
        return False
    f = b[:-2].decode().split(",")
    if f == ["ERROR"]:
        return True
    if f[0] == "&":
        return len(f) >= 3 and re.fullmatch(r"-?[0-9]{1,7}", f[2]) is not None
    return len(f) == 10 and all(re.fullmatch(r"-?[0-9]{1,7}", x) for x in f[:9]) and \
        re.fullmatch(r"[0-9A-Fa-f]{1,8}", f[9]) is not None


def probms_ok(b):
    """55 AA n: a request of n + 4 bytes (byte 3 0x01) or an answer of n + 5;
    the XOR of bytes 3 .. n + 2 at n + 3."""
    if len(b) < 8 or b[:2] != b"\x55\xaa":
        return False
    n = b[2]
    x = 0
    for v in b[3:3 + n]:
        x ^= v
    return len(b) == n + (4 if b[3] == 0x01 else 5) and b[3 + n] == x


def wattstunde_ok(b):
    """The read ":015150000EFE~", or ':', an even count of hex digits (at
    least 236) and '~' whose bytes but the last, XOR byte 3 (the key),
    start 01 54 (the last byte's rule is not known: none is checked)."""
    if b == b":015150000EFE~":
        return True
    if len(b) < 238 or b[:1] != b":" or b[-1:] != b"~" or len(b) % 2:
        return False
    try:
        raw = bytes.fromhex(b[1:-1].decode("ascii"))
    except ValueError:
        return False
    return raw[0] ^ raw[3] == 0x01 and raw[1] ^ raw[3] == 0x54


def ejbt_ok(b):
    """E&J-style ':' hex '~' of PowerBoozt and Doerr (written as the hex of
    the ASCII, NUL bytes of the module's padding inside and after): the
    length field (characters 7..10) is the frame's characters without the
    NULs; a frame without data (a request) is checked as ej_ok, one with
    data by the sum of its decoded bytes but the first and the last (the
    check), XOR 0xFF."""
    s = b.rstrip(b"\x00").replace(b"\x00", b"")
    if not re.match(rb"^:[0-9A-Fa-f]{12,}~$", s) or len(s) % 2 or int(s[7:11], 16) != len(s):
        return False
    if len(s) == 14:
        return ej_ok(s.decode())
    d = bytes.fromhex(s[1:-1].decode())
    return (sum(d[1:-1]) & 0xFF) ^ 0xFF == d[-1]


def votronic_ok(b):
    """20 bytes of the battery computer (no checksum exists): the voltage
    (u16 LE at 0) 1..100 V, SOC (8) at most 100, the s24 current (10..12)
    within +-3000 A, the nominal capacity (u16 LE at 13) not 0, byte 9 0."""
    if len(b) != 20:
        return False
    ma = int.from_bytes(b[10:13], "little", signed=True)
    return 100 <= int.from_bytes(b[0:2], "little") <= 10000 and b[8] <= 100 and b[9] == 0 and abs(ma) <= 3000000 and \
        int.from_bytes(b[13:15], "little") > 0


def dpowercore_ok(b):
    """20-byte pages: byte 0 the frame bytes it carries (1..18; a request's
    one page: the frame's length + 2), byte 1 page k of n; the frame 3A,
    05 03 (an answer: len + 10 bytes) or 03 05 (a request: length 0, data
    up to its sum), cmd, len, data, the sum of cmd .. data + 8 (u16 BE),
    0D 0A."""
    if not b or len(b) % 20:
        return False
    n, frame = len(b) // 20, b""
    for k in range(n):
        p = b[20 * k:20 * k + 20]
        if p[1] != ((k + 1) << 4 | n):
            return False
        frame += p[2:2 + p[0] - (2 if p[2:5] == b"\x3a\x03\x05" else 0)]
    if len(frame) < 10 or frame[0] != 0x3A or frame[1:3] not in (b"\x05\x03", b"\x03\x05"):
        return False
    ln = int.from_bytes(frame[4:6], "big")
    if frame[1] == 0x05 and len(frame) != ln + 10:
        return False
    if frame[1] == 0x03 and (n != 1 or ln != 0):
        return False
    return frame[-2:] == b"\r\n" and int.from_bytes(frame[-4:-2], "big") == (sum(frame[3:-4]) + 8) & 0xFFFF


def cbtpower_ok(b):
    """AA 55 cmd len data sum 0D 0A (an answer) or AA 55 cmd 00 sum 0A 0D (a
    request): sum the low byte of cmd + len + data."""
    if len(b) < 7 or b[:2] != b"\xaa\x55":
        return False
    n = b[3]
    tail = b"\n\r" if n == 0 and b[-2:] == b"\n\r" else b"\r\n"
    return len(b) == n + 7 and b[-2:] == tail and sum(b[2:4 + n]) & 0xFF == b[4 + n]


def ecoworthy_ok(b):
    """A v1 frame: type 0xA1 (84 bytes) or 0xA2 (102 bytes); or a v2 frame:
    six MAC bytes, then type 0xA1 (82 bytes) or 0xA2 (100 bytes); closed by
    the CRC-16/MODBUS of the bytes before, low byte first."""
    v1 = {0xA1: 84, 0xA2: 102}.get(b[0]) == len(b)
    v2 = len(b) > 6 and {0xA1: 82, 0xA2: 100}.get(b[6]) == len(b)
    return (v1 or v2) and crc16_modbus(b[:-2]) == b[-2] | b[-1] << 8


FELICITY_REQUESTS = ("wifilocalMonitor:get dev real infor", "wifilocalMonitor:get dev basice infor",
                     "wifilocalMonitor:get Date")


def felicity_ok(s):
    """A read request of the module, or one JSON object of printable ASCII,
    from '{' to '}', with "CommVer": 1 (there is no checksum)."""
    if s in FELICITY_REQUESTS:
        return True
    if not (s.startswith("{") and s.endswith("}")) or not all(0x20 <= ord(ch) < 0x7F for ch in s):
        return False
    try:
        obj = json.loads(s)
    except ValueError:
        return False
    return isinstance(obj, dict) and obj.get("CommVer") == 1



def myvolta_ok(b):
    """55 55, the body, 04 04; the body unstuffed (05 before 05, 55 or 04;
    04 before 05 or 55) is a data message (16 bytes: 01 type 02 .. .. ..
    08, 8 data bytes, 0xFF ^ the low byte of the sum of bytes 1 .. 14) or
    another command's (its first byte not 01: not read)."""
    if len(b) < 5 or b[:2] != b"\x55\x55" or b[-2:] != b"\x04\x04":
        return False
    body, i, raw = bytearray(), 2, b[2:-2]
    while i - 2 < len(raw):
        x = raw[i - 2]
        if x in (0x05, 0x04):
            if i - 1 >= len(raw) or raw[i - 1] not in ((0x05, 0x55, 0x04) if x == 0x05 else (0x05, 0x55)):
                return False
            x = raw[i - 1]
            i += 1
        body.append(x)
        i += 1
    if body[:1] != b"\x01":
        return len(body) > 0
    return len(body) == 16 and body[2] == 0x02 and body[6] == 0x08 and (0xFF ^ (sum(body[1:15]) & 0xFF)) == body[15]


BLE1_CHECKS = {"litime": lambda f: litime_ok(bytes.fromhex(f)), "tianpwr": lambda f: tianpwr_ok(bytes.fromhex(f)),
               "ej": ej_ok, "topband": lambda f: topband_ok(bytes.fromhex(f)),
               "lifepower": lambda f: lifepower_ok(bytes.fromhex(f)), "ant": lambda f: ant_ok(bytes.fromhex(f)),
               "ecoworthy": lambda f: ecoworthy_ok(bytes.fromhex(f)),
               "humsienk": lambda f: humsienk_ok(bytes.fromhex(f)), "felicity": felicity_ok,
               "tdt": lambda f: tdt_ok(bytes.fromhex(f)),
               "seplos2b": lambda f: seplos2b_ok(bytes.fromhex(f)),
               "jbdup": lambda f: jbdup_ok(bytes.fromhex(f)),
               "ks48": lambda f: ks48_ok(bytes.fromhex(f)), "basen": lambda f: basen_ok(bytes.fromhex(f)),
               "roypow": lambda f: roypow_ok(bytes.fromhex(f)),
               "ogt": lambda f: ogt_ok(bytes.fromhex(f)),
               "paceex": lambda f: paceex_ok(bytes.fromhex(f)),
               "saihang": lambda f: saihang_ok(bytes.fromhex(f)),
               "superb": lambda f: superb_ok(bytes.fromhex(f)),
               "lithionics": lambda f: lithionics_ok(bytes.fromhex(f)),
               "probms": lambda f: probms_ok(bytes.fromhex(f)),
               "wattstunde": lambda f: wattstunde_ok(bytes.fromhex(f)),
               "cbtpower": lambda f: cbtpower_ok(bytes.fromhex(f)),
               "greenway": lambda f: greenway_ok(bytes.fromhex(f)),
               "creabestvb": lambda f: creabestvb_ok(bytes.fromhex(f)),
               "myvolta": lambda f: myvolta_ok(bytes.fromhex(f)),
               "dpowercore": lambda f: dpowercore_ok(bytes.fromhex(f)),
               "jbdpin": lambda f: jbdpin_ok(bytes.fromhex(f)),
               "dometic": lambda f: dometic_ok(bytes.fromhex(f)),
               "smartbms123": lambda f: smartbms123_ok(bytes.fromhex(f)),
               "smartbms58": lambda f: smartbms58_ok(bytes.fromhex(f)),
               "saftkiste": lambda f: saftkiste_ok(bytes.fromhex(f)),
               "lolan": lambda f: lolan_ok(bytes.fromhex(f)),
               "ejbt": lambda f: ejbt_ok(bytes.fromhex(f)),
               "votronic": lambda f: votronic_ok(bytes.fromhex(f))}


def rows(c):
    """(line number, id, family, frame) of every data row; comment lines
    (starting with '#') and blank lines are skipped."""
    out = []
    with open(TSV, encoding="ascii") as f:
        for no, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            if not c.ok(len(cols) == 3, "vectors.tsv:%d: three tab-separated columns" % no):
                continue
            out.append((no, cols[0], cols[1], cols[2]))
    return out


def wanted(family, frame):
    """The strings a unit test must contain for this row, normalised (lower
    case, no spaces); None if the frame is malformed."""
    if family == "pylon":
        return [frame.lower()] if frame.startswith("~") else None
    if family == "ej":
        return [frame.lower()] if frame.startswith(":") else None
    if family == "felicity":
        # ASCII; in a C literal every '"' is written \\"
        return [re.sub(r"\s+", "", frame).replace('"', '\\"').lower()] if frame.isascii() else None
    if family in ("can", "hvcan"):
        # the frames as the test spells them: "ID#DATA ID#DATA ..."
        return [re.sub(r"\s+", "", frame).lower()] if all(CAN_FRAME.match(f) for f in frame.split()) else None
    parts = [frame]
    if family in ("sino", "victron"):
        parts = [p.strip() for p in frame.split("->")]
        if len(parts) != 2:
            return None
    if not all(HEX.match(p) and len(p) % 2 == 0 for p in parts):
        return None
    return [p.lower() for p in parts]


def leaf_crc(d):
    """The Leaf's CRC-8: polynomial 0x85, initial 0, MSB first, of b0-b6."""
    c = 0
    for x in d[:7]:
        c ^= x
        for _ in range(8):
            c = ((c << 1) ^ 0x85) & 0xFF if c & 0x80 else (c << 1) & 0xFF
    return c


def hvcan_ok(rid, frame):
    """A high-voltage pack's broadcast: every frame well formed, and the
    checks its family's layout has (bms/PROTOCOLS.md §85-§95): the Leaf's
    CRC-8 of 0x1DB and 0x55B, BYD's NOT-sum check byte, the Zoe's 0x424
    heartbeat, the lengths of the frames they read."""
    if not all(CAN_FRAME.match(f) for f in frame.split()):
        return False
    for f in frame.split():
        i, d = f.split("#")
        i, d = int(i, 16), bytes.fromhex(d)
        if rid.startswith("LEAF-") and i in (0x1DB, 0x55B) and (len(d) != 8 or leaf_crc(d) != d[7]):
            return False
        if rid.startswith("ATTO-") and i in (0x444, 0x438, 0x447, 0x43A) and \
                (len(d) != 8 or (~sum(d[:7])) & 0xFF != d[7]):
            return False
        if rid.startswith("ZOE1-") and i == 0x424 and d[6] not in (0x55, 0xAA):
            return False
    return True


def checksum_ok(family, frame, rid=""):
    if family == "hvcan":
        return hvcan_ok(rid, frame)
    if family in BLE1_CHECKS:
        return BLE1_CHECKS[family](frame)
    if family == "pylon":
        return pylon_ok(frame)
    if family == "can":
        # no checksum in the data: every frame well formed, ids unique in the cycle
        ids = [f.split("#")[0].upper() for f in frame.split()]
        return len(ids) > 0 and all(CAN_FRAME.match(f) for f in frame.split()) and len(set(ids)) == len(ids)
    if family == "sino":
        req, rsp = (bytes.fromhex(p.strip()) for p in frame.split("->"))
        return len(req) == 3 and req[0] == 0x0A and len(rsp) == req[2] + 1 and \
            crc8_smbus(req + rsp[:-1]) == rsp[-1]
    if family == "victron":
        key, data = (bytes.fromhex(p.strip()) for p in frame.split("->"))
        return victron_ok(key, data)
    b = bytes.fromhex(frame)
    return {"daly": daly_ok, "modbus": modbus_ok, "jk4e57": jk_ok, "jkpb": jkpb_ok,
            "jbd": jbd_ok, "jk02": jk02_ok, "neey": neey_ok, "sok": sok_ok}[family](b)


def main():
    c = Checks()
    if not c.ok(os.path.exists(TSV), "tests/fixtures/vectors.tsv exists"):
        return c.report()
    data = rows(c)
    c.ok(len(data) >= 80, "%d fixture rows" % len(data))
    ids = [r[1] for r in data]
    dups = sorted({i for i in ids if ids.count(i) > 1})
    c.eq(dups, [], "fixture ids are unique")
    c.eq(sorted({r[2] for r in data} - set(FAMILIES)), [], "every family is one of %s" % ", ".join(FAMILIES))
    literals = unit_literals()
    c.ok(len(literals) >= 10, "%d unit test files read" % len(literals))
    for no, rid, family, frame in data:
        where = "vectors.tsv:%d %s" % (no, rid)
        c.ok(re.match(r"^[A-Z][A-Z0-9]*(-[A-Za-z0-9]+)+$", rid) is not None, "%s: id is well formed" % where)
        if family not in FAMILIES:
            continue
        need = wanted(family, frame)
        if not c.ok(need is not None, "%s: %s frame is well formed (whole bytes)" % (where, family)):
            continue
        c.ok(checksum_ok(family, frame, rid), "%s: checksum verifies (%s)" % (where, family))
        missing = [w for w in need if not any(w in s for lits in literals.values() for s in lits)]
        users = sorted(f for f, lits in literals.items() if all(any(w in s for s in lits) for w in need))
        c.ok(not missing and users != [], "%s: used by a unit test (%s)" % (where, ", ".join(
            os.path.basename(u) for u in users) or "none"))
    return c.report()


if __name__ == "__main__":
    sys.exit(main())
