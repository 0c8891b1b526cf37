/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_smartbms58.c - libFuzzer target: whole polls of the
 * 123SmartBMS 58-byte-frame driver (bms/smartbms58.c: listened to, a frame
 * a step until every cell came, the keys kept from poll to poll), driven
 * the way gateway/poll/poller.c drives it (harness: fuzz_drive.h).  Beyond
 * a generic target: nothing is ever written; a frame scan() reports is 58
 * bytes with its sum and its shape; frames with their sum forged reach
 * the decoder.
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address; over
 * Bluetooth LE always), then events by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFE	a reconnection (the next poll's link_fresh)
 *	E == 0xFF	a frame of the next 57 input bytes (zero-padded) with
 *			its sum, in notifications of 20 bytes
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>

#include "fuzz_drive.h"

static size_t sb_config(struct fd *s, const uint8_t *d, size_t size)
{
	size_t k = fd_config(s, d, size);
	if (k == 0)
		return 0;
	s->link = BMS_LINK_BLE;
	s->fresh = true;
	s->cells_forced = 0; /* the count is the frames' (no forced count is applied) */
	return k;
}

static size_t sb_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	if (e == 0xFE) {
		s->fresh = true;
		return 0;
	}
	if (e != 0xFF)
		return FD_NOT_MINE;
	uint8_t f[58] = { 0 };
	size_t used = avail < 57 ? avail : 57;
	memcpy(f, p, used);
	unsigned sum = 0;
	for (int i = 0; i < 57; i++)
		sum += f[i];
	f[57] = (uint8_t)sum;
	for (size_t off = 0; off < sizeof(f); off += 20)
		fd_bytes(s, f + off, sizeof(f) - off < 20 ? sizeof(f) - off : 20);
	return used;
}

static void sb_request(const struct fd *s, const uint8_t *req, int n)
{
	(void)s;
	(void)req;
	(void)n;
	REQUIRE(false); /* nothing is ever written */
}

static void sb_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	unsigned sum = 0;
	REQUIRE(n == 58);
	for (int i = 0; i < 57; i++)
		sum += f[i];
	REQUIRE(f[57] == (uint8_t)sum);
	REQUIRE((f[9] == '+' || f[9] == '-' || f[9] == 'X') && f[25] >= 1 && f[25] <= 32 && f[24] <= f[25] &&
		f[40] <= 100);
}

static void sb_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && sn->voltage >= 0 && sn->voltage <= 16777215.0f / 200.0f);
	REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 65535.0f * 0.125f);
	REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	REQUIRE(!(sn->present & BMS_HAS_SOH) || (sn->soh >= 0 && sn->soh <= 100));
	for (int i = 0; i < sn->ntemps; i++)
		REQUIRE(sn->temp_c[i] >= -276.0f && sn->temp_c[i] <= 65535.0f - 276.0f);
}

static const struct fd_target smartbms58 = {
	.drv = &bms_smartbms58_driver,
	.config = sb_config,
	.event = sb_event,
	.request = sb_request,
	.no_echo = true,
	.max_cells = 32,
	.max_temps = BMS_MAX_TEMPS,
	.max_raw = 2,
	.never = BMS_HAS_REMAIN | BMS_HAS_BALANCE | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	.snap = sb_snap,
	.frame = sb_frame,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_RANGE),
	.step = FD_STEP_NEXT,
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_TEMPS | BMS_HAS_ALARMS,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(smartbms58.drv));
	return fd_run(&smartbms58, data, size);
}
