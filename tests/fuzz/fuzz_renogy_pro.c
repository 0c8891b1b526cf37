/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_renogy_pro.c - libFuzzer target: whole polls of the
 * Renogy Pro driver over Bluetooth LE, under both name families (harness
 * and input format: fuzz_mbtable.h). */
#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"

#define FUZZ_DRIVER bms_renogy_pro_driver
#define FUZZ_NEVER (BMS_HAS_POWER | BMS_HAS_SETPOINT | BMS_HAS_VOLT_LIMITS | BMS_HAS_SOH | BMS_HAS_MOS_TEMP | \
		    BMS_HAS_BALANCE | BMS_HAS_CUR_LIMITS)
#define FUZZ_SLAVE 0xFF
#define FUZZ_NAMES { "RNGRBP1217000794", "RNGPRO125BAT-EF036881" }

static bool fuzz_addr_ok(uint8_t a)
{
	(void)a;
	return true; /* no address: the requests go to 0xFF */
}

/* the protocol's reads, and nothing else */
static bool fuzz_read_ok(uint8_t fc, unsigned start, unsigned count)
{
	return fc == 0x03 && ((start == 5000 && count == 34) || (start == 5042 && count == 7) ||
			      (start == 5100 && count == 8) || (start == 5104 && count == 28));
}

#include "fuzz_mbtable.h"
