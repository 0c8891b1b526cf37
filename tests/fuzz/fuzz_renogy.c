/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_renogy.c - libFuzzer target: whole polls of the Renogy
 * driver (harness and input format: fuzz_mbtable.h). */
#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"

#define FUZZ_DRIVER bms_renogy_driver
#define FUZZ_NEVER (BMS_HAS_POWER | BMS_HAS_SETPOINT | BMS_HAS_VOLT_LIMITS | BMS_HAS_SOH | BMS_HAS_MOS_TEMP | \
		    BMS_HAS_BALANCE | BMS_HAS_CUR_LIMITS)

static bool fuzz_addr_ok(uint8_t a)
{
	return a >= 1 && a <= 247;
}

/* the protocol's reads, and nothing else */
static bool fuzz_read_ok(uint8_t fc, unsigned start, unsigned count)
{
	return fc == 0x03 && ((start == 5000 && count == 34) || (start == 5042 && count == 7) ||
			      (start == 5100 && count == 8) || (start == 5104 && count == 28));
}

/* the settings reads, when due */
#define FUZZ_SETTINGS_READ(fc, start, count) ((fc) == 0x03 && (start) == 5200 && (count) == 22)

#include "fuzz_mbtable.h"
