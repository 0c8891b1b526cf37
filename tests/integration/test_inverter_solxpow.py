#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""solxpow-can end to end, without CAN hardware: the real bmsgw with a
simulated 32-cell Daly pack (80.0-116.8 V, inside solxpow-can's 80-1000 V)
and an [inverter.hv] of protocol = solxpow-can (manufacturer = SOLXPOW,
report_capacity_ah = 50, report_modules = 2) on a pty pair made by socat;
the test plays the Solxpow X3 with Debian's python3-can over slcan,
sending 0x4200 as Battery-Emulator's SOLXPOW-CAN reads it (byte 0 = 00
the ensemble, 02 the equipment; 01 and the other frames heard only), and
decodes every answer with its own reader written from
gateway/inverter/PROTOCOLS.md §22 (phinv.py: Pylontech HV at address 0,
29-bit ids, little endian, the currents WITHOUT the 30000 offset, 0x4240
and 0x4270 plain s16 0.1 degC):

- the adapter opened at 500 kbit/s (S6);
- the shared checks of hvinv.py: nothing before the first data, nothing
  unasked, the limits against /api/state (CCL and DCL plain u16), silence
  outside 80-1000 V, the fail-safe timeline (zero limits, 0x4280 AA AA and
  the communication error; then silence; then answers again), --check's
  window, interval and extras refused;
- the values of 0x4210-0x4290 against the simulator's pack and /api/state
  (the current a plain s16, negative while discharging; the temperatures
  of 0x4240 and 0x4270 plain), nothing at address 1;
- 02: 0x7310-0x7340 (32 cells in the 2 modules set, 50 Ah set,
  "SOLXPOW"); 01, the heartbeat, the charge command, the mask, sleep: no
  answer;
- a bank of two strings of two 32-cell packs: the bank's values and
  limits, 0x7320's 64 cells in 2 modules, a member's over-voltage and a
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


class Solxpow(phinv.Family):
    """This test's reader of §22: Pylontech HV at address 0, no current
    offset, plain 0x4240 / 0x4270."""
    name = "solxpow-can"
    window = (80, 1000)
    example = "inverter-solxpow.ini"
    address = 0
    cur_offset = 0
    temp_offset = 0


D = Solxpow()


def main():
    tmp = tempfile.mkdtemp(prefix="bmsgw-solxpow-")
    env = hvinv.start(c, D, tmp, "manufacturer = SOLXPOW\nreport_capacity_ah = 50\nreport_modules = 2\n")
    try:
        hvinv.test_waiting(c, env)
        hvinv.test_unasked(c, env)
        phinv.test_values(c, env, D)
        phinv.test_kinds(c, env, D, 32, 2, 50, "SOLXPOW")
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
