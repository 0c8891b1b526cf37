/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_litime.c - libFuzzer target: whole polls of the LiTime /
 * Redodo / Power Queen Bluetooth LE driver (the status 0x13 and its
 * 105-byte answer), driven the way gateway/poll/poller.c drives it
 * (harness: fuzz_drive.h).
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address), then
 * events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFF	a synthesised answer with a correct sum: the next byte K
 *			picks it (K & 1: the status, 00 00 65 01 93 55 AA, else
 *			command K with n = K % 120 + 4), its body comes from the
 *			input (zero-padded), and it arrives as 20-byte
 *			notifications
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>

#include "fuzz_drive.h"

static void lt_request(const struct fd *s, const uint8_t *req, int n)
{
	static const uint8_t status[8] = { 0x00, 0x00, 0x04, 0x01, 0x13, 0x55, 0xAA, 0x17 };
	(void)s;
	REQUIRE(n == 8 && memcmp(req, status, 8) == 0); /* a read, never a switch or the shutdown */
}

static void lt_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 8 && n == (size_t)f[2] + 4 && f[0] == 0 && f[1] == 0 && f[3] == 1 && f[5] == 0x55 &&
		f[6] == 0xAA && (f[4] & 0x80));
	unsigned sum = 0;
	for (size_t i = 0; i + 1 < n; i++)
		sum += f[i];
	REQUIRE(f[n - 1] == (uint8_t)sum);
}

static void lt_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && isfinite(sn->current) && fabsf(sn->current) <= 3000.0f);
	REQUIRE(sn->voltage >= 0 && sn->voltage <= 100.0f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0 && sn->soh <= 100);
	if (sn->present & BMS_HAS_TEMPS)
		REQUIRE(sn->ntemps == 1 && sn->temp_c[0] >= -32768 && sn->temp_c[0] <= 32767); /* s16, as read */
	if (sn->present & BMS_HAS_MOS_TEMP)
		REQUIRE(sn->mos_temp_c >= -32768 && sn->mos_temp_c <= 32767);
}

static size_t lt_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	static uint8_t f[260];
	size_t used = 0;
	if (e != 0xFF)
		return FD_NOT_MINE;
	if (avail == 0)
		return 0;
	uint8_t k = p[used++];
	size_t nn = (k & 1) ? 0x65 : (size_t)(k % 120 + 4), len = nn + 4;
	memset(f, 0, sizeof(f));
	f[2] = (uint8_t)nn;
	f[3] = 0x01;
	f[4] = (k & 1) ? 0x93 : (uint8_t)(k | 0x80);
	f[5] = 0x55;
	f[6] = 0xAA;
	for (size_t i = 7; i + 1 < len && used < avail; i++)
		f[i] = p[used++];
	unsigned sum = 0;
	for (size_t i = 0; i + 1 < len; i++)
		sum += f[i];
	f[len - 1] = (uint8_t)sum;
	for (size_t off = 0; off < len; off += 20)
		fd_bytes(s, f + off, len - off < 20 ? len - off : 20);
	return used;
}

static const struct fd_target litime = {
	.drv = &bms_litime_driver,
	.event = lt_event,
	.request = lt_request,
	.max_cells = 16,
	.max_temps = 1,
	.max_raw = 4,
	.max_state = 0,
	.never = BMS_HAS_POWER | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS |
		 BMS_HAS_VOLT_LIMITS,
	.snap = lt_snap,
	.frame = lt_frame,
	/* scan() checked the sum: the status (or its length or a range
	 * wrong), or another command's answer */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_SHORT) | FD_RC(BMS_E_RANGE),
	.step = FD_STEP_ON,
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_ALARMS,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(litime.drv) && !litime.drv->probe);
	return fd_run(&litime, data, size);
}
