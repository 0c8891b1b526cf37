/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_gobel.c - libFuzzer target: whole polls of the Gobel
 * Power driver over Bluetooth LE (harness and input format:
 * fuzz_mbtable.h). */
#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"

#define FUZZ_DRIVER bms_gobel_driver
#define FUZZ_NEVER (BMS_HAS_POWER | BMS_HAS_SETPOINT | BMS_HAS_VOLT_LIMITS | BMS_HAS_CUR_LIMITS | BMS_HAS_BALANCE)
#define FUZZ_SLAVE 0x01

static bool fuzz_addr_ok(uint8_t a)
{
	(void)a;
	return true; /* no address: the requests go to slave 1 */
}

/* the protocol's reads, and nothing else */
static bool fuzz_read_ok(uint8_t fc, unsigned start, unsigned count)
{
	return fc == 0x03 && ((start == 0x0000 && count == 0x3B) || (start == 0x00AA && count == 0x23));
}

#include "fuzz_mbtable.h"
