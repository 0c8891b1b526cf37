/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_topband.c - libFuzzer target: whole polls of the
 * listen-only Topband Bluetooth LE driver (v1 ASCII frames the BMS pushes),
 * driven the way gateway/poll/poller.c drives a listen_only driver (no
 * requests; a poll waits for a frame until handle() says BMS_OK, then
 * finish()); harness: fuzz_drive.h.
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address), then
 * events, by their first byte E:
 *	E == 0		a timeout of the wait
 *	E == 0xFF	a synthesised frame with a right sum: the next byte K
 *			picks its start byte (K & 3: 0x5E, 0x83, 0xB0, 0xE8),
 *			bit 2 lower-case digits, bit 3 two bytes of noise
 *			before it; its 54 bytes come from the input (zero-
 *			padded); it arrives as 20-byte notifications
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>

#include "fuzz_drive.h"

static bool tb_is_sof(uint8_t c)
{
	return c == 0x5E || c == 0x83 || c == 0xB0 || c == 0xE8;
}

static void tb_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n == 113 && tb_is_sof(f[0]));
	for (size_t i = 1; i < n; i++)
		REQUIRE(isxdigit(f[i]));
}

static void tb_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && sn->voltage >= 0.0f && sn->voltage <= 100.0f);
	REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 2000.0f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_TEMPS)
		REQUIRE(sn->ntemps == 1 && sn->temp_c[0] >= -273.2f && sn->temp_c[0] <= 6280.4f); /* u16 0.1 K, as read */
	else
		REQUIRE(sn->ntemps == 0);
	if (sn->present & BMS_HAS_ALARMS)
		REQUIRE(sn->nraw == 1 && sn->raw_alarms[0] <= 0xFF && (sn->alarms == 0) == (sn->raw_alarms[0] == 0));
}

static size_t tb_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	static const uint8_t sofs[4] = { 0x5E, 0x83, 0xB0, 0xE8 };
	uint8_t b[56], out[120];
	size_t used = 0, len = 0;
	if (e != 0xFF)
		return FD_NOT_MINE;
	if (avail == 0)
		return 0;
	uint8_t k = p[used++];
	memset(b, 0, sizeof(b));
	for (size_t i = 0; i < 54 && used < avail; i++)
		b[i] = p[used++];
	unsigned sum = 0;
	for (size_t i = 0; i < 54; i++)
		sum += b[i];
	b[54] = (uint8_t)(sum >> 8);
	b[55] = (uint8_t)sum;
	if (k & 8) {
		out[len++] = 'R';
		out[len++] = 0x00;
	}
	out[len++] = sofs[k & 3];
	for (size_t i = 0; i < 56; i++) {
		char h[3];
		snprintf(h, sizeof(h), (k & 4) ? "%02x" : "%02X", b[i]);
		out[len++] = (uint8_t)h[0];
		out[len++] = (uint8_t)h[1];
	}
	for (size_t off = 0; off < len; off += 20)
		fd_bytes(s, out + off, len - off < 20 ? len - off : 20);
	return used;
}

static const struct fd_target topband = {
	.drv = &bms_topband_driver,
	.event = tb_event,
	.max_cells = 16,
	.max_temps = 1,
	.max_raw = 1,
	.max_state = 2,
	.never = BMS_HAS_POWER | BMS_HAS_SOH | BMS_HAS_MOS_TEMP | BMS_HAS_FULL | BMS_HAS_MOSFETS | BMS_HAS_BALANCE |
		 BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	.snap = tb_snap,
	.frame = tb_frame,
	/* scan() checked the digits and the sum: only values can be refused,
	 * and a second frame after the poll's */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE),
	.step = FD_STEP_ANY,
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_CYCLES,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(topband.drv) && topband.drv->listen_only && !topband.drv->probe &&
		topband.drv->next_request == NULL);
	return fd_run(&topband, data, size);
}
