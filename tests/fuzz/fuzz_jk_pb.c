/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_jk_pb.c - libFuzzer target: whole polls of the JK-PB RS485
 * driver (0x1620 / 0x161E / 0x161C triggers -> 0x55AA status / settings /
 * device-info frames + FC16 acks), driven the way gateway/poll/poller.c drives it (harness: fuzz_drive.h).
 *
 * Input:
 *	byte 0	DIP address (& 0x1f: 0 and 16..31 are invalid)
 *	byte 1	bit 6 set: cells_forced = bits 0..5, else 0
 *	byte 2	bit 0 invert_current, bits 2..3 retries
 *	then events: a length byte L; L == 0 is a timeout of the current step,
 *	otherwise the next min(L, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one.
 */
#include <math.h>

#include "fuzz_drive.h"

static bool pb_addr_ok(uint8_t a)
{
	return a >= 1 && a <= 15;
}

static void pb_request(const struct fd *s, const uint8_t *req, int n)
{
	REQUIRE(n == 11);
	uint16_t c = fd_crc16(req, 9);
	/* the status (0x1620), settings (0x161E) or device-info (0x161C) trigger */
	REQUIRE(req[0] == s->address && req[1] == 0x10 && req[2] == 0x16 &&
		(req[3] == 0x20 || req[3] == 0x1E || req[3] == 0x1C) &&
		req[4] == 0 && req[5] == 1 && req[6] == 2 && req[7] == 0 && req[8] == 0 &&
		req[9] == (uint8_t)c && req[10] == (uint8_t)(c >> 8));
}

static void pb_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(sn->balance == 0);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(isfinite(sn->temp_c[i]) && fabsf(sn->temp_c[i]) <= 3276.8f);
	REQUIRE(isfinite(sn->voltage) && isfinite(sn->current));
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0 && sn->soh <= 100);
	if (sn->present & BMS_HAS_REMAIN)
		REQUIRE(sn->remain_ah >= 0);
	/* the heater: u16 mA; its temperatures s8 (284 / 285) or the charge
	 * UTP's (s32 0.1 degC within jk_record_settings()'s range), or NaN */
	if (sn->present & BMS_HAS_HEATER)
		REQUIRE(sn->heater_a >= 0 && sn->heater_a <= 65.535f);
	if (sn->present & BMS_HAS_HEATER_SET)
		REQUIRE((isnan(sn->heat_start_c) || fabsf(sn->heat_start_c) <= 3276.8f) &&
			(isnan(sn->heat_stop_c) || fabsf(sn->heat_stop_c) <= 3276.8f));
}

static void pb_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	(void)f;
	REQUIRE(n == 5 || n == 8 || n == 300);
}

static void pb_handled(const struct fd *s, int rc, size_t n)
{
	(void)s;
	if (rc == BMS_E_HEADER)
		REQUIRE(n == 5); /* our pack's exception */
}

static const struct fd_target jk_pb = {
	.drv = &bms_jk_pb_driver,
	.addr_mask = 0x1f,
	.addr_ok = pb_addr_ok,
	.request = pb_request,
	.max_cells = BMS_MAX_CELLS,
	.max_temps = 4,
	.max_raw = BMS_MAX_RAW_ALARMS,
	.max_state = 0,
	.never = BMS_HAS_BALANCE | BMS_HAS_POWER,
	.snap = pb_snap,
	.frame = pb_frame,
	/* scan() checked sums and lengths */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_MORE) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_HEADER) | FD_RC(BMS_E_REFUSED),
	.step = FD_STEP_ON,
	.handled = pb_handled,
	.ok_has = BMS_HAS_CELLS,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fd_run(&jk_pb, data, size);
}
