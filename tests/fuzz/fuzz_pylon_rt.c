/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_pylon_rt.c - libFuzzer target: whole polls of the
 * Pylontech RT driver over Bluetooth LE (harness and input format:
 * fuzz_mbtable.h).  No cell list: a sample has its voltage, current, SOC,
 * SOH and the two temperatures, and never a cell. */
#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"

#define FUZZ_DRIVER bms_pylon_rt_driver
#define FUZZ_NEVER (BMS_HAS_POWER | BMS_HAS_SETPOINT | BMS_HAS_VOLT_LIMITS | BMS_HAS_CUR_LIMITS | BMS_HAS_CELLS | \
		    BMS_HAS_MOSFETS | BMS_HAS_ALARMS | BMS_HAS_BALANCE | BMS_HAS_MOS_TEMP | BMS_HAS_REMAIN | \
		    BMS_HAS_CYCLES)
#define FUZZ_SLAVE 0x01
#define FUZZ_OK_HAS (BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_TEMPS)

static bool fuzz_addr_ok(uint8_t a)
{
	(void)a;
	return true; /* no address: the requests go to slave 1 */
}

/* the protocol's reads, and nothing else */
static bool fuzz_read_ok(uint8_t fc, unsigned start, unsigned count)
{
	return fc == 0x03 && ((start == 0x1016 && count == 13) || (start == 0x2000 && count == 8));
}

#include "fuzz_mbtable.h"
