/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_jk.c - libFuzzer target: whole polls of the JK-Bx 0x4E57
 * driver, driven the way gateway/poll/poller.c drives it (harness: fuzz_drive.h).
 *
 * Input:
 *	byte 0	bit 6 set: cells_forced = bits 0..5, else 0
 *	byte 1	bit 0 invert_current, bits 2..3 retries
 *	then events: a length byte L; L == 0 is a timeout of the current step,
 *	otherwise the next min(L, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one.
 */
#include <math.h>

#include "fuzz_drive.h"

static const uint8_t jk_request[21] = {
	0x4E, 0x57, 0x00, 0x13, 0, 0, 0, 0, 0x06, 0x03, 0x00, 0x00, 0, 0, 0, 0, 0x68, 0, 0, 0x01, 0x29,
};

static void jk_request_ok(const struct fd *s, const uint8_t *req, int n)
{
	(void)s;
	REQUIRE(n == (int)sizeof(jk_request) && memcmp(req, jk_request, sizeof(jk_request)) == 0);
}

static void jk_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(sn->balance == 0);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(isfinite(sn->temp_c[i]));
	REQUIRE(isfinite(sn->voltage) && isfinite(sn->current) && isfinite(sn->mos_temp_c));
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_CURRENT)
		REQUIRE(fabsf(sn->current) <= 655.36f);
}

static void jk_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	(void)f;
	REQUIRE(n >= 20 && n <= 640);
}

static const struct fd_target jk = {
	.drv = &bms_jk_driver,
	.request = jk_request_ok,
	.max_cells = BMS_MAX_CELLS,
	.max_temps = 2,
	.max_raw = BMS_MAX_RAW_ALARMS,
	.max_state = 0,
	/* the protocol has no remaining capacity, SOH, balancing map or power */
	.never = BMS_HAS_SOH | BMS_HAS_REMAIN | BMS_HAS_BALANCE | BMS_HAS_POWER,
	.snap = jk_snap,
	.frame = jk_frame,
	/* scan() checked checksum, length and header */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_MORE) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE) |
	       FD_RC(BMS_E_INVALID),
	.step = FD_STEP_ON,
	.ok_has = BMS_HAS_CELLS,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fd_run(&jk, data, size);
}
