/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_pace_modbus.c - libFuzzer target: whole polls of the PACE Modbus
 * driver (harness and input format: fuzz_mbtable.h). */
#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"

#define FUZZ_DRIVER bms_pace_modbus_driver
#define FUZZ_NEVER (BMS_HAS_POWER | BMS_HAS_SETPOINT | BMS_HAS_VOLT_LIMITS | BMS_HAS_CUR_LIMITS)

static bool fuzz_addr_ok(uint8_t a)
{
	return a >= 1 && a <= 247;
}

/* the protocol's reads, and nothing else */
static bool fuzz_read_ok(uint8_t fc, unsigned start, unsigned count)
{
	return fc == 0x03 && ((start == 0 && count == 37) || (start == 150 && count == 30));
}

/* the settings read, when due */
#define FUZZ_SETTINGS_READ(fc, start, count) ((fc) == 0x03 && (start) == 60 && (count) == 55)

#include "fuzz_mbtable.h"
