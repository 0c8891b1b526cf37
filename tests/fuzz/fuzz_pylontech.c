/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_pylontech.c - libFuzzer target: whole polls of the
 * Pylontech US RS485 V3.3 driver, 0x42 / 0x44 / 0x92 / 0x47 (harness and input
 * format: fuzz_pylon.h). */
#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"

#define FUZZ_DRIVER bms_pylontech_driver
#define FUZZ_VER 0x20
#define FUZZ_CID2_92 1 /* 0x92 management info */
#define FUZZ_CID2_47 1 /* 0x47 system parameters, when the settings are due */
#define FUZZ_NEVER (BMS_HAS_SOH | BMS_HAS_MOS_TEMP | BMS_HAS_BALANCE | BMS_HAS_POWER)

/* ADR = 0x10 * group + module 0x02..0x0D */
static bool fuzz_addr_ok(uint8_t a)
{
	return (a & 0x0F) >= 0x02 && (a & 0x0F) <= 0x0D && a <= 0xFD;
}

static uint8_t fuzz_command(uint8_t a)
{
	return a;
}

#include "fuzz_pylon.h"
