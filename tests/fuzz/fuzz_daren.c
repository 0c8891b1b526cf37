/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_daren.c - libFuzzer target: whole polls of the Daren /
 * KS48100 driver, with both start characters, and 0x47 (the settings) in
 * polls marked due (harness and input format: fuzz_paceic.h). */
#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"

#define FUZZ_DRIVER bms_daren_driver
#define FUZZ_VER 0x22
#define FUZZ_CID1 0x4A
#define FUZZ_SOI2 '>'
#define FUZZ_NEVER (BMS_HAS_POWER | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS)

struct fd;
static void fuzz_request(const struct fd *s, unsigned cid2, const uint8_t *info, unsigned n);

/* ADR 1..15 */
static bool fuzz_addr_ok(uint8_t a)
{
	return a >= 1 && a <= 15;
}

#include "fuzz_paceic.h"

/* 0x42 with the address, 0x47 with the address when the settings are due,
 * 0x51 without INFO, 0xB0 module 3 */
static void fuzz_request(const struct fd *s, unsigned cid2, const uint8_t *info, unsigned n)
{
	if (cid2 == 0x42 || cid2 == 0x47) {
		REQUIRE(n == 1 && info[0] == s->address && (cid2 == 0x42 || s->poll.settings_due));
	} else if (cid2 == 0x51) {
		REQUIRE(n == 0);
	} else {
		REQUIRE(cid2 == 0xB0 && n == 5 && info[0] == s->address && info[1] == 1 && info[2] == 3 &&
			info[3] == 0xFF && info[4] == 0);
	}
}
