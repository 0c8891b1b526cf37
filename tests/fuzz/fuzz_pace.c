/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_pace.c - libFuzzer target: whole polls of the PACE v2.5
 * driver, answers for all packs with a position and a group included
 * (harness and input format: fuzz_paceic.h). */
#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"

#define FUZZ_DRIVER bms_pace_driver
#define FUZZ_VER 0x25
#define FUZZ_CID1 0x46
#define FUZZ_SOI2 '~'
#define FUZZ_NEVER (BMS_HAS_POWER | BMS_HAS_SOH | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS)
#define FUZZ_GROUP 1

struct fd;
static void fuzz_request(const struct fd *s, unsigned cid2, const uint8_t *info, unsigned n);

/* ADR 0..15 */
static bool fuzz_addr_ok(uint8_t a)
{
	return a <= 15;
}

#include "fuzz_paceic.h"

/* 0x42 / 0x44 with the pack number (all packs for ADR 0 and a position),
 * 0xC1 / 0xC2 without INFO (never for a pack behind its master), the
 * settings reads 0xD1 / 0xD3 / 0xD5 / 0xD7 / 0xB6 without INFO only when
 * due (never for a pack behind its master) */
static void fuzz_request(const struct fd *s, unsigned cid2, const uint8_t *info, unsigned n)
{
	if (cid2 == 0x42 || cid2 == 0x44) {
		REQUIRE(n == 1);
		REQUIRE(info[0] == (s->position || s->address == 0 ? 0xFF : s->address));
		return;
	}
	bool set = cid2 == 0xD1 || cid2 == 0xD3 || cid2 == 0xD5 || cid2 == 0xD7 || cid2 == 0xB6;
	REQUIRE(cid2 == 0xC1 || cid2 == 0xC2 || (set && s->poll.settings_due));
	REQUIRE(n == 0 && s->position <= 1);
}
