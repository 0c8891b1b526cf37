#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A Pylontech-HV inverter on a serial CAN line, for trying pylon-hv-can
without an inverter: it sends what an HV hybrid sends (0x3010 heartbeat,
0x4200 with byte 0 = 00 and 02, once a second each, as a Growatt SPH does:
bms-to-inverter issue 85) as Lawicel slcan lines, and prints each answer
decoded by gateway/inverter/PROTOCOLS.md §8 (29-bit ids, little endian,
currents on the 30000 offset, DCL = 30000 - 10 x A, temperatures on 1000,
0x4280 AA = forbidden).  Stdlib only.

    socat pty,raw,echo=0,link=/tmp/hv-gw pty,raw,echo=0,link=/tmp/hv-inv &
    build/bmsgw-sim --protocol daly --tcp 127.0.0.1:15020 --pack address=1,cells=32 &
    build/bmsgw -c my.ini   # [pack.p] daly on tcp://127.0.0.1:15020, cells = 32;
                            # [inverter.hv] protocol = pylon-hv-can, port = slcan:///tmp/hv-gw
    tests/tools/pylon_hv_inverter.py /tmp/hv-inv [seconds]

Nothing is printed while bmsgw has no data, is fail-safe-silent, or the
source measures outside 80-1000 V: that is the point.
"""
import os
import select
import struct
import sys
import time
import tty


def u16(d, i):
    return struct.unpack("<H", d[i:i + 2])[0]


def show(frames):
    """One answer {id & ~0xF: bytes} as a line."""
    a, b, f = frames.get(0x4210), frames.get(0x4220), frames.get(0x4280)
    if a and b and f:
        print("%.1f V  %+.1f A  %.1f degC  SOC %d %%  SOH %d %% | CVL %.1f V  DVL %.1f V  CCL %.1f A  DCL %.1f A | "
              "charge %s, discharge %s" % (
                  u16(a, 0) / 10, (u16(a, 2) - 30000) / 10, (u16(a, 4) - 1000) / 10, a[6], a[7], u16(b, 0) / 10,
                  u16(b, 2) / 10, (u16(b, 4) - 30000) / 10, (30000 - u16(b, 6)) / 10,
                  "forbidden" if f[0] == 0xAA else "allowed", "forbidden" if f[1] == 0xAA else "allowed"))
    e = frames.get(0x7320)
    if e:
        name = (frames.get(0x7330, b"") + frames.get(0x7340, b"")).rstrip(b"\0").decode("ascii", "replace")
        print("  %d cells, %d Ah, manufacturer %r" % (u16(e, 0), u16(e, 6), name))


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    until = time.monotonic() + float(sys.argv[2]) if len(sys.argv) > 2 else None
    beat, buf, frames, next_ask = 0, b"", {}, 0.0
    while until is None or time.monotonic() < until:
        now = time.monotonic()
        if now >= next_ask:
            if frames:
                show(frames)
            frames = {}
            beat = (beat + 1) & 0xFFFF
            os.write(fd, b"T000030108%02X%02X000000000000\r" % (beat & 0xFF, beat >> 8))
            for kind in (2, 0):
                os.write(fd, b"T000042008%02X000000000000E3\r" % kind)
            next_ask = now + 1.0
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            buf += os.read(fd, 4096)
        while b"\r" in buf:
            line, buf = buf.split(b"\r", 1)
            if line[:1] == b"T" and len(line) >= 10:
                n = int(line[9:10])
                frames[int(line[1:9], 16) & ~0xF] = bytes.fromhex(line[10:10 + 2 * n].decode())


if __name__ == "__main__":
    main()
