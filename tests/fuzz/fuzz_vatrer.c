/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_vatrer.c - libFuzzer target: whole polls of the Vatrer
 * driver over Bluetooth LE (harness and input format: fuzz_mbtable.h). */
#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"

#define FUZZ_DRIVER bms_vatrer_driver
#define FUZZ_NEVER (BMS_HAS_POWER | BMS_HAS_SETPOINT | BMS_HAS_VOLT_LIMITS | BMS_HAS_FULL | BMS_HAS_CUR_LIMITS)
#define FUZZ_SLAVE 0x02

static bool fuzz_addr_ok(uint8_t a)
{
	(void)a;
	return true; /* no address: the requests go to slave 2 */
}

/* the protocol's reads, and nothing else */
static bool fuzz_read_ok(uint8_t fc, unsigned start, unsigned count)
{
	return fc == 0x03 && ((start == 0x00 && count == 0x14) || (start == 0x15 && count == 0x1F) ||
			      (start == 0x34 && count == 0x12));
}

#include "fuzz_mbtable.h"
