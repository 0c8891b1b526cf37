#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""ferroamp-can end to end, without CAN hardware: the real bmsgw with a
simulated 32-cell Daly pack (80.0-116.8 V, inside ferroamp-can's 80-1000
V) and an [inverter.hv] of protocol = ferroamp-can (no address key: its
default 1; report_cells = 120, the steps Ferroamp expects) on a pty pair
made by socat; the test plays the Ferroamp EnergyHub with Debian's
python3-can over slcan, sending 0x4200 as Battery-Emulator's FERROAMP-CAN
reads it (byte 0 = 00 the ensemble, 02 the equipment; 01 and the
inverter's other frames heard only), and decodes every answer with its
own reader written from gateway/inverter/PROTOCOLS.md §20 (phinv.py:
Pylontech HV at address 1, 29-bit ids, little endian, currents on the
30000 offset, temperatures on the 1000 offset):

- the adapter opened at 500 kbit/s (S6);
- the shared checks of hvinv.py: nothing before the first data, nothing
  unasked, the limits against /api/state, silence outside 80-1000 V, the
  fail-safe timeline (zero limits on the offset, 0x4281 AA AA and the
  communication error; then silence; then answers again), --check's
  window, interval and extras refused;
- the values of 0x4211-0x4291 against the simulator's pack and /api/state
  (voltage, current, temperatures, SOC, SOH, the extreme cells and sensors
  and their numbers, the state discharging), nothing at address 0;
- 02: 0x7311-0x7341 (120 cells reported, one module, the capacity,
  "PYLON"); 01, the heartbeat, the charge command, the mask, sleep: no
  answer;
- a bank of two strings of two 32-cell packs: the bank's values and
  limits, 0x7321's 64 cells in 2 modules, a member's over-voltage and a
  stale member in the next answers.
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks  # noqa: E402
import hvinv  # noqa: E402
import phinv  # noqa: E402

try:
    from can.interfaces.slcan import slcanBus  # noqa: F401 - canreader.py uses it
except ImportError:
    print("python3-can is not installed (make deps installs it)")
    print("0 passed, 1 failed")
    sys.exit(1)

c = Checks()


class Ferroamp(phinv.Family):
    """This test's reader of §20: Pylontech HV at address 1."""
    name = "ferroamp-can"
    window = (80, 1000)
    example = "inverter-ferroamp.ini"
    address = 1
    cur_offset = 30000
    temp_offset = 1000


D = Ferroamp()


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-ferroamp-")
    env = hvinv.start(c, D, tmp, "report_cells = 120\n")
    try:
        hvinv.test_waiting(c, env)
        hvinv.test_unasked(c, env)
        phinv.test_values(c, env, D)
        phinv.test_kinds(c, env, D, 120, 1, 0, "PYLON")
        hvinv.test_limits(c, env)
        hvinv.test_range(c, env)
        hvinv.test_stale(c, env)
        hvinv.test_check(c, env)
    finally:
        hvinv.stop(c, env)
    hvinv.test_strings(c, tmp, D, phinv.string_equipment(D, 64, 2))
    sys.exit(c.report())


if __name__ == "__main__":
    main()
