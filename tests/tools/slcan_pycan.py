#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tests/tools/slcan_pycan.py - an independent reader of bmsgw's CAN output.

Builds tests/tools/slcan_dump.c (the pylon-can, lux-can and sma-can frame
sets of a known battery with every extra, as slcan lines), feeds the lines
to python-can's own slcan
interface (Debian python3-can, can.interfaces.slcan over a pyserial
loop:// port, no adapter needed) and decodes what it returns with the
layouts of gateway/inverter/PROTOCOLS.md, checking the battery's values.
Prints "N passed, N failed"; exit 1 on a failure, 77 without python3-can.

  /usr/bin/python3 tests/tools/slcan_pycan.py [CC]
"""
import os
import struct
import subprocess
import sys
import tempfile

try:
    import can  # noqa: F401 - python3-can itself, before its slcan interface
    from can.interfaces.slcan import slcanBus
except ImportError:
    print("python3-can is not installed (apt-get install python3-can)")
    sys.exit(77)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL", what)


def lines_from_dump(cc):
    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "slcan_dump")
        srcs = ["tests/tools/slcan_dump.c", "gateway/inverter/canframes.c", "gateway/inverter/dialect/emu_pylon_can.c",
                "gateway/inverter/dialect/emu_lux_can.c", "gateway/inverter/dialect/emu_sma_can.c", "gateway/wire/slcan.c"]
        subprocess.run([cc, "-std=c11", "-D_DEFAULT_SOURCE", "-I" + ROOT] + [os.path.join(ROOT, f) for f in srcs] + ["-lm", "-o", exe],
                       check=True)
        out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    return [l.split(" ", 1) for l in out.splitlines()]


def decode_with_pycan(lines):
    """The frames python-can's slcan reader makes of our lines."""
    bus = slcanBus("loop://", sleep_after_open=0)
    msgs = []
    try:
        for _, line in lines:
            bus.serialPortOrig.write(line.encode() + b"\r")
            msg = None
            for _ in range(5):  # the setup lines python-can wrote come back first
                msg = bus.recv(timeout=0.5)
                if msg is not None:
                    break
            if msg is not None:
                msgs.append(msg)
    finally:
        bus.shutdown()
    return msgs


def main():
    cc = sys.argv[1] if len(sys.argv) > 1 else "cc"
    lines = lines_from_dump(cc)
    msgs = decode_with_pycan(lines)
    check(len(msgs) == len(lines) == 15 + 15 + 14, "every line a frame (%d of %d; SMA has its own 0x35F)" %
          (len(msgs), len(lines)))
    got = {}
    for (dialect, line), m in zip(lines, msgs):
        check(not m.is_extended_id and not m.is_remote_frame, line + " is a classic 11-bit data frame")
        got[(dialect, m.arbitration_id)] = bytes(m.data)
    for d in ("pylon-can", "lux-can", "sma-can"):
        cvl, ccl, dcl, dvl = struct.unpack("<HhhH", got[(d, 0x351)])
        check((cvl, ccl, dcl, dvl) == (552, 500, 600, 464), d + " 0x351 CVL 55.2 V CCL 50 A DCL 60 A DVL 46.4 V")
        soc, soh = struct.unpack("<HH", got[(d, 0x355)][:4])
        check((soc, soh) == (81, 97), d + " 0x355 SOC 81 % (81.6 rounded down) SOH 97 %")
        v, i = struct.unpack("<hh", got[(d, 0x356)][:4])
        check((v, i) == (5313, -123), d + " 0x356 53.13 V -12.3 A")
        check(got[(d, 0x35E)] == b"PYLON   ", d + " 0x35E PYLON")
        check(struct.unpack("<H", got[(d, 0x379)][:2])[0] == 100, d + " 0x379 100 Ah installed")
        check(struct.unpack("<HHHH", got[(d, 0x373)]) == (3301, 3342, 292, 300), d + " 0x373 cells, K")
        check(got[(d, 0x374)].rstrip(b"\0") == b"P2C7" and got[(d, 0x377)].rstrip(b"\0") == b"P1T3",
              d + " 0x374 / 0x377 where")
        check(struct.unpack("<HHHH", got[(d, 0x372)]) == (2, 0, 0, 0), d + " 0x372 2 modules online")
        check(got[(d, 0x382)].rstrip(b"\0") == b"bmsgw", d + " 0x382 product")
    check(struct.unpack("<h", got[("pylon-can", 0x356)][4:6])[0] == 246, "pylon 0x356 24.6 C")
    p = got[("pylon-can", 0x359)]
    check(len(p) == 7 and p[0] == 0x02 and p[1] == 0 and p[2] == 0x02 and p[3] == 0x01 and p[4] == 2
          and p[5:7] == b"PN", "pylon 0x359 cell OV protection, OV + charge OC alarms, 2 modules, PN")
    check(got[("pylon-can", 0x35C)] == b"\xc0\x00", "pylon 0x35C charge and discharge enabled")
    check(len(got[("pylon-can", 0x355)]) == 4 and len(got[("pylon-can", 0x356)]) == 6, "pylon DLCs 4 and 6")
    check(struct.unpack("<H", got[("pylon-can", 0x35F)][4:6])[0] == 100, "pylon 0x35F 100 Ah (Victron's layout)")
    x = got[("lux-can", 0x355)]
    check(struct.unpack("<HH", x[4:8]) == (3342, 3301), "lux 0x355 highest, lowest cell")
    x = got[("lux-can", 0x356)]
    check(struct.unpack("<hh", x[4:8]) == (270, 185), "lux 0x356 hottest, coldest 0.1 C")
    x = got[("lux-can", 0x359)]
    check(x[4] == 2 and struct.unpack("<H", x[5:7])[0] == 100, "lux 0x359 2 modules, 100 Ah")
    check(struct.unpack("<H", got[("lux-can", 0x35C)][2:4])[0] == 321, "lux 0x35C 321 cycles")
    s = got[("sma-can", 0x355)]
    check(struct.unpack("<HH", s[4:8]) == (8160, 0xFFFF), "sma 0x355 HiResSOC 81.60 %, unused word invalid")
    a = got[("sma-can", 0x35A)]
    # alarm 2 (high voltage) arrives, the rest leave; warning 2 and 9 arrive
    check(a[0] & 0x0C == 0x04 and a[4] & 0x0C == 0x04 and a[6] & 0x03 == 0x01 and a[2] & 0x03 == 0x02,
          "sma 0x35A high voltage alarm and warning, charge current warning")
    check(struct.unpack("<HHHH", got[("sma-can", 0x35F)]) == (0xFFFF, 0xFFFF, 100, 0xFFFF), "sma 0x35F 100 Ah")
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
