#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tests/tools/busmaster.py - a bus another master polls, played onto a
pty from bus captures (bms/PROTOCOLS.md §39), for `bmsgw --detect` on such
a bus (tests/integration/test_detect.py) and its bench
(tests/tools/bench_detect.py).

- JK-PB master at DIP 0 (115200 baud), from the raw RS485 sniff of
  syssi/esphome-jk-bms#442: the master writes register 0x1620 of each
  address 1..15 with FC 16 (`<a> 10 16 20 00 01 02 00 00 CRC`); a present
  slave answers with its 300-byte 55 AA EB 90 record (byte 299 the sum of
  the others) at once followed by the FC 16 acknowledgement
  `<a> 10 16 20 00 01 CRC`; an absent one stays silent.  The master puts its
  own record on the bus too, acknowledged from address 0 (`00 10 16 20 00 01
  05 9A`).  The record is the one of that sniff.
- Seplos V3 master (19200 baud), from the dump of
  mr-manuel/venus-os_dbus-serialbattery#247 (two packs): for each slave
  FC04 0x1000 x 0x12, FC04 0x1100 x 0x1A and FC01 0x1200 x 0x90, each
  answered at once; then the master's own three answers with no request
  before them.  The frames are that dump's (slave 2), the address byte
  changed and the CRC-16/MODBUS computed again.

Pacing: a JK-PB master's slot is 0.1 s an address (a round over 15
addresses: 1.6 s); a Seplos V3 master's frames 20 ms apart.
"""
import os
import select
import threading
import time

JK_TRIGGER = bytes.fromhex("1016200001020000")  # after the address; CRC follows
JK_ACK = bytes.fromhex("1016200001")
JK_RECORD = bytes.fromhex(
    "55aaeb900205120d120d120d120d120d120d120d120d120d120d110d110d120d110d120d110d000000000000000000000000"
    "0000000000000000000000000000000000000000ffff0000120d010000074d004b004d004b004d004a004c0049004c004b00"
    "4e004c0050004e0050004e000000000000000000000000000000000000000000000000000000000000000000ce0000000000"
    "22d100000000000000000000c000c7000000000000000064aa9e040080a3040000000000df040000640000004c1f0c000101"
    "0000000000000000000000000000ff00010000009303000000000bc23f4000000000e91400000001010100060000e46d5c00"
    "00000000ce00bf00c1008d035c3e0900090000008051010000000000000000000000000000feff7fdd2f0101b0070000006c")

SV3_REQS = [bytes.fromhex("020410000012"), bytes.fromhex("02041100001a"), bytes.fromhex("020112000090")]
SV3_ANS = [bytes.fromhex(h) for h in (
    "0204241475fd9f33df4c2c040e02a903e100440cc80b570cce0cc60b5c0b5400000082008203e8",
    "0204340cc80cc90cc90cc70cc70cca0cc80cc90cc60cca0cc80ccb0cc70cc90ccb0cce0b5c0b540b560b560aab0aab0aab0aab0b510b53",
    "020112000000000000000001000000000000030000")]


def crc16(b):
    crc = 0xFFFF
    for x in b:
        crc ^= x
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def mb(body):
    """body with its CRC-16/MODBUS (low byte first)."""
    c = crc16(body)
    return bytes(body) + bytes([c & 0xFF, c >> 8])


def readdress(frame_body, addr):
    return bytes([addr]) + frame_body[1:]


def jkpb_round(packs, own=True, asks=range(1, 16), slot=0.1):
    """One round of a JK-PB master: [(bytes, seconds to wait after)]."""
    out = []
    for a in asks:
        req = mb(bytes([a]) + JK_TRIGGER)
        if a in packs:
            out += [(req, 0.01), (JK_RECORD + mb(bytes([a]) + JK_ACK), slot - 0.01)]
        else:
            out.append((req, slot))
    if own:
        out.append((JK_RECORD + mb(bytes([0]) + JK_ACK), slot))
    return out


def seplos3_round(packs, master=1, own=True, gap=0.02):
    """One round of a Seplos V3 master: [(bytes, seconds to wait after)]."""
    out = []
    for a in packs:
        for req, ans in zip(SV3_REQS, SV3_ANS):
            out += [(mb(readdress(req, a)), gap), (mb(readdress(ans, a)), gap)]
    if own:
        for ans in SV3_ANS:
            out.append((mb(readdress(ans, master)), gap))
    return out


def requests_only(rnd):
    """A round whose packs do not answer: only the master's requests."""
    return [(b, t) for b, t in rnd if not b.startswith(JK_RECORD) and not (len(b) > 8 and b[1] in (1, 4))]


class Master(threading.Thread):
    """Plays `round_()` ([(bytes, pause)]) onto the pty at `path` again and
    again while it runs (`garbage()`: bytes written between frames), and
    records every byte the other end sends (`got`)."""

    def __init__(self, path, round_, garbage=None):
        super().__init__(daemon=True)
        import termios
        import tty
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)
        termios.tcflush(self.fd, termios.TCIOFLUSH)
        self.round_, self.garbage = round_, garbage
        self.got, self.run_, self.rounds = b"", True, 0
        self.start()

    def _wait(self, secs):
        end = time.monotonic() + secs
        while self.run_:
            left = end - time.monotonic()
            if left <= 0:
                return
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    self.got += os.read(self.fd, 4096)
                except OSError:
                    time.sleep(0.01)

    def _write(self, b):
        while b and self.run_:
            try:
                b = b[os.write(self.fd, b):]
            except BlockingIOError:
                self._wait(0.005)
            except OSError:
                return

    def run(self):
        while self.run_:
            for frame, pause in self.round_():
                self._write(frame)
                if self.garbage:
                    self._write(self.garbage())
                self._wait(pause)
                if not self.run_:
                    return
            self.rounds += 1

    def stop(self):
        self.run_ = False
        self.join(5)
        os.close(self.fd)
