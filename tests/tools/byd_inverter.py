#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A BYD-reading high-voltage inverter (GoodWe, Solis, Sungrow, Deye HV) on
a serial CAN adapter's line, for trying a byd-hvs-can output without one:
it sends what such an inverter sends (0x151 with byte 0 bit 0, "identify
yourself", at start and every 60 s; 0x0D1, its SOC, every second) and
prints each frame of the battery decoded by gateway/inverter/PROTOCOLS.md
§9 (big endian).

    socat -d -d pty,raw,echo=0,link=/tmp/inv-a pty,raw,echo=0,link=/tmp/inv-b &
    bmsgw -c conf/inverter-byd.ini   # its [inverter] port set to slcan:///tmp/inv-a
    tests/tools/byd_inverter.py /tmp/inv-b

It speaks Lawicel slcan lines itself (t, 11-bit frames), so it needs no
python-can.  Ctrl-C ends it.
"""
import os
import select
import struct
import sys
import time
import tty


def u16(d, i):
    return struct.unpack(">H", d[i:i + 2])[0]


def s16(d, i):
    return struct.unpack(">h", d[i:i + 2])[0]


def show(ident, d):
    """One frame of the battery, as text."""
    if ident == 0x110 and len(d) == 8:
        return "limits: CVL %.1f V, DVL %.1f V, DCL %.1f A, CCL %.1f A" % (
            u16(d, 0) / 10, u16(d, 2) / 10, s16(d, 4) / 10, s16(d, 6) / 10)
    if ident == 0x150 and len(d) == 8:
        return "state: SOC %.2f %%, SOH %.2f %%, %.1f of %.1f Ah" % (
            u16(d, 0) / 100, u16(d, 2) / 100, u16(d, 4) / 10, u16(d, 6) / 10)
    if ident == 0x1D0 and len(d) == 8:
        return "measured: %.1f V, %+.1f A (+ = charging), %.1f degC" % (u16(d, 0) / 10, s16(d, 2) / 10, s16(d, 4) / 10)
    if ident == 0x210 and len(d) == 8:
        return "cell temperatures: highest %.1f, lowest %.1f degC" % (s16(d, 0) / 10, s16(d, 2) / 10)
    if ident == 0x250 and len(d) == 8:
        return "identification: firmware %02X %02X, %.1f kWh" % (d[0], d[1], u16(d, 4) / 10)
    if ident in (0x2D0, 0x3D0) and len(d) == 8:
        return "identification: %r" % d[1:].rstrip(b"\0").decode("ascii", "replace")
    return d.hex(" ")


def main():
    if len(sys.argv) != 2:
        print("usage: byd_inverter.py PTY (the other end of the output's slcan port)", file=sys.stderr)
        sys.exit(2)
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    buf, last_soc, last_ident, t0 = b"", 0.0, -1e9, time.monotonic()
    while True:
        now = time.monotonic()
        if now - last_ident >= 60:
            os.write(fd, b"t15180100000000000000\r")
            last_ident = now
        if now - last_soc >= 1:
            os.write(fd, b"t0D18" + b"0000000000000000\r")
            last_soc = now
        r, _, _ = select.select([fd], [], [], 0.2)
        if not r:
            continue
        buf += os.read(fd, 4096)
        while b"\r" in buf:
            line, buf = buf.split(b"\r", 1)
            if line[:1] != b"t" or len(line) < 5:
                continue
            try:
                ident, n = int(line[1:4], 16), int(line[4:5])
                d = bytes.fromhex(line[5:5 + 2 * n].decode())
            except ValueError:
                continue
            print("%8.3f 0x%03X %s" % (time.monotonic() - t0, ident, show(ident, d)), flush=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
