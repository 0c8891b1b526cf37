/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_seplos.c - libFuzzer target: whole polls of the Seplos V2
 * driver (harness and input format: fuzz_pylon.h). */
#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"

#define FUZZ_DRIVER bms_seplos_driver
#define FUZZ_VER 0x20
#define FUZZ_NEVER (BMS_HAS_POWER)
#define FUZZ_BLE_61 /* a ble:// port reads the binary 0x61 */

/* DIP address 0..15 */
static bool fuzz_addr_ok(uint8_t a)
{
	return a <= 15;
}

static uint8_t fuzz_command(uint8_t a)
{
	return a;
}

#include "fuzz_pylon.h"
