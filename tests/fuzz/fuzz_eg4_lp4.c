/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_eg4_lp4.c - libFuzzer target: whole polls of the EG4
 * LifePower4 driver (harness and input format: fuzz_paceic.h). */
#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"

#define FUZZ_DRIVER bms_eg4_lp4_driver
#define FUZZ_VER 0x20
#define FUZZ_CID1 0x4A
#define FUZZ_SOI2 '~'
#define FUZZ_NEVER (BMS_HAS_POWER | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS)

struct fd;
static void fuzz_request(const struct fd *s, unsigned cid2, const uint8_t *info, unsigned n);

/* ADR 1..15 */
static bool fuzz_addr_ok(uint8_t a)
{
	return a >= 1 && a <= 15;
}

#include "fuzz_paceic.h"

/* 0x42, 0x44 and 0x51, never with INFO */
static void fuzz_request(const struct fd *s, unsigned cid2, const uint8_t *info, unsigned n)
{
	(void)s;
	(void)info;
	REQUIRE(n == 0);
	REQUIRE(cid2 == 0x42 || cid2 == 0x44 || cid2 == 0x51);
}
