/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_seplos3.c - libFuzzer target: whole polls of the Seplos V3 (XZH)
 * driver (harness and input format: fuzz_mbtable.h). */
#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"

#define FUZZ_DRIVER bms_seplos3_driver
#define FUZZ_NEVER (BMS_HAS_POWER | BMS_HAS_SETPOINT | BMS_HAS_VOLT_LIMITS)

static bool fuzz_addr_ok(uint8_t a)
{
	return a <= 15;
}

/* the protocol's reads, and nothing else */
static bool fuzz_read_ok(uint8_t fc, unsigned start, unsigned count)
{
	return (fc == 0x04 && start == 0x1000 && count == 0x11) || (fc == 0x04 && start == 0x1100 && count == 0x1A) ||
	       (fc == 0x01 && start == 0x1200 && count == 0x90) || (fc == 0x04 && start == 0x1700 && count == 0x33);
}

/* the settings reads, when due */
#define FUZZ_SETTINGS_READ(fc, start, count) ((fc) == 0x04 && ((start) == 0x1300 || (start) == 0x1335) && (count) == 0x35)

#include "fuzz_mbtable.h"
