/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_topbms.c - libFuzzer target: whole polls of the TopBMS
 * V1.7 driver (harness and input format: fuzz_pylon.h). */
#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"

#define FUZZ_DRIVER bms_topbms_driver
#define FUZZ_VER 0x21
#define FUZZ_NEVER (BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_ALARMS | BMS_HAS_POWER)

static bool fuzz_addr_ok(uint8_t a)
{
	return a >= 1 && a <= 254;
}

/* pack command: the address for 1..16, all packs (0xFF) above */
static uint8_t fuzz_command(uint8_t a)
{
	return a <= 0x10 ? a : 0xFF;
}

#include "fuzz_pylon.h"
