/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_saihang.c - libFuzzer target: whole polls of the Saihang
 * driver over Bluetooth LE: A5 A5 before every Modbus frame (harness and
 * input format: fuzz_mbtable.h). */
#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"

#define FUZZ_DRIVER bms_saihang_driver
#define FUZZ_NEVER (BMS_HAS_POWER | BMS_HAS_SETPOINT | BMS_HAS_VOLT_LIMITS | BMS_HAS_CUR_LIMITS | BMS_HAS_BALANCE)
#define FUZZ_SLAVE 0x00
#define FUZZ_PREFIX "\xA5\xA5"

static bool fuzz_addr_ok(uint8_t a)
{
	(void)a;
	return true; /* no address: the requests go to slave 0 */
}

/* the protocol's reads, and nothing else */
static bool fuzz_read_ok(uint8_t fc, unsigned start, unsigned count)
{
	return fc == 0x03 && start == 0x0000 && count == 0x48;
}

#include "fuzz_mbtable.h"
