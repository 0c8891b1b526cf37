/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_ecoworthy.c - libFuzzer target: whole polls of the
 * listen-only Eco-Worthy BW02 Bluetooth LE driver (v1 and v2 0xA1/0xA2
 * frames the BMS pushes), driven the way gateway/poll/poller.c drives a
 * listen_only driver (no requests; a poll takes frames until handle() says
 * BMS_OK, then finish()); harness: fuzz_drive.h.
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address), then
 * events, by their first byte E:
 *	E == 0		a timeout of the wait
 *	E == 0xFF	a synthesised frame with a right CRC: the next byte K
 *			picks its type (K & 1: 0xA1, else 0xA2), bit 1 the v2
 *			layout (six MAC bytes first), bit 2 two bytes of noise
 *			before it; its bytes after the type come from the
 *			input (zero-padded); it arrives as 20-byte
 *			notifications
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>

#include "fuzz_drive.h"

static uint16_t ew_crc(const uint8_t *p, size_t n)
{
	uint16_t c = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (uint16_t)((c >> 1) ^ 0xA001) : (uint16_t)(c >> 1);
	}
	return c;
}

static void ew_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	bool v1 = (n == 84 && f[0] == 0xA1) || (n == 102 && f[0] == 0xA2);
	bool v2 = (n == 82 && f[6] == 0xA1) || (n == 100 && f[6] == 0xA2);
	REQUIRE(v1 || v2);
	REQUIRE(ew_crc(f, n - 2) == (uint16_t)(f[n - 2] | f[n - 1] << 8));
}

static void ew_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && sn->voltage >= 0.0f && sn->voltage <= 100.0f);
	REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 3276.8f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0 && sn->soh <= 100);
	if (sn->present & BMS_HAS_FULL)
		REQUIRE(sn->full_ah > 0 && sn->full_ah <= 655.35f);
	REQUIRE(sn->ntemps <= BMS_MAX_TEMPS);
	for (int i = 0; i < sn->ntemps; i++)
		REQUIRE(sn->temp_c[i] >= -3276.8f && sn->temp_c[i] <= 3276.7f); /* s16 0.1 degC, as read */
	if (sn->present & BMS_HAS_ALARMS)
		REQUIRE(sn->nraw == 1 && (sn->alarms == 0) == (sn->raw_alarms[0] == 0));
}

static size_t ew_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	uint8_t out[110];
	size_t used = 0, len = 0;
	if (e != 0xFF)
		return FD_NOT_MINE;
	if (avail == 0)
		return 0;
	uint8_t k = p[used++];
	uint8_t type = (k & 1) ? 0xA1 : 0xA2;
	bool v2 = (k & 2) != 0;
	size_t n = v2 ? (type == 0xA1 ? 82 : 100) : (type == 0xA1 ? 84 : 102);
	size_t at = v2 ? 6 : 0;
	if (k & 4) {
		out[len++] = 0x00;
		out[len++] = 0x41;
	}
	uint8_t *f = out + len;
	memset(f, 0, n);
	for (size_t i = 0; i < n - 2; i++)
		if (i != at && used < avail)
			f[i] = p[used++];
	f[at] = type;
	uint16_t c = ew_crc(f, n - 2);
	f[n - 2] = (uint8_t)c;
	f[n - 1] = (uint8_t)(c >> 8);
	len += n;
	for (size_t off = 0; off < len; off += 20)
		fd_bytes(s, out + off, len - off < 20 ? len - off : 20);
	return used;
}

static const struct fd_target ecoworthy = {
	.drv = &bms_ecoworthy_driver,
	.event = ew_event,
	.max_cells = 32,
	.max_temps = BMS_MAX_TEMPS,
	.max_raw = 1,
	.max_state = 2,
	.never = BMS_HAS_REMAIN | BMS_HAS_CYCLES | BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_BALANCE |
		 BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	.snap = ew_snap,
	.frame = ew_frame,
	/* scan() checked the length and the CRC: only values can be refused;
	 * the first of the two frames is BMS_MORE */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_MORE) | FD_RC(BMS_E_RANGE),
	.step = FD_STEP_ANY,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_ALARMS,
	.ok_volts = true,
	/* cells = N beyond the BMS's count is not stretched (its other slots read 0xFFFF) */
	.forced_at_most = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(ecoworthy.drv) && ecoworthy.drv->listen_only && !ecoworthy.drv->probe &&
		ecoworthy.drv->next_request == NULL);
	return fd_run(&ecoworthy, data, size);
}
