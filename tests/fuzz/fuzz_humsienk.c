/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_humsienk.c - libFuzzer target: whole polls of the
 * HumsiENK driver (0x11 model and 0xF5 version, 0x20 status, 0x21 info,
 * 0x22 cells, 0x58 settings), driven the way gateway/poll/poller.c drives it (harness:
 * fuzz_drive.h).
 *
 * Input:
 *	byte 0	bit 6 set: cells_forced = bits 0..5, else 0
 *	byte 1	bit 0 invert_current, bits 2..3 retries, bit 5 refresh,
 *		bit 6 over BLE (link_fresh on the first poll), bit 7
 *		settings_due on every poll (0x58 asked after the cells)
 *	then events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFE	a reconnection: the next poll is link_fresh
 *	E == 0xFF	a synthesised frame with a correct sum: the next byte
 *			K gives its command (0x11, 0xF5, 0x20, 0x21, 0x22,
 *			0x23 or 0x58 by K % 7), the one after its length, then its
 *			data bytes come from the input (zero-padded)
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one.
 */
#include <math.h>

#include "fuzz_drive.h"

static uint16_t sum16(const uint8_t *p, size_t n)
{
	uint16_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint16_t)(s + p[i]);
	return s;
}

/* Only the reads: 0x11, 0xF5, 0x20, 0x21, 0x22, 0x58 (only when the
 * settings are due), len 0; never 0x00 nor 0x50..0x53. */
static void hs_request(const struct fd *s, const uint8_t *req, int n)
{
	REQUIRE(n == 5 && req[0] == 0xAA && req[2] == 0);
	REQUIRE(req[1] == 0x11 || req[1] == 0xF5 || req[1] == 0x20 || req[1] == 0x21 || req[1] == 0x22 ||
		(req[1] == 0x58 && s->poll.settings_due));
	REQUIRE(req[3] == req[1] && req[4] == 0);
}

static void hs_frame_check(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 5 && f[0] == 0xAA && n == (size_t)f[2] + 5);
	REQUIRE(sum16(f + 1, n - 3) == (uint16_t)(f[n - 2] | f[n - 1] << 8));
}

static void hs_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && isfinite(sn->current));
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0 && sn->soh <= 100);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(sn->temp_c[i] >= -128 && sn->temp_c[i] <= 127);
	for (unsigned i = 0; i < sn->ncells; i++)
		REQUIRE(sn->cell_mv[i] > 0 && sn->cell_mv[i] <= 6500);
	REQUIRE(sn->ncells <= 24);
	if (sn->present & BMS_HAS_ALARMS)
		REQUIRE(sn->alarms == 0 || sn->alarms == BMS_AL_OTHER);
}

static void hs_ok(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(sn->ntemps == 5);
	for (unsigned i = sn->ncells; i < BMS_MAX_CELLS; i++)
		REQUIRE(sn->cell_mv[i] == 0);
}

/* E == 0xFE: reconnect; E == 0xFF: a synthesised frame, closed by its sum. */
static size_t hs_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	static const uint8_t cmds[] = { 0x11, 0xF5, 0x20, 0x21, 0x22, 0x23, 0x58 };
	uint8_t f[FD_SYNTH_MAX];
	bool made;
	size_t used = fd_synth_event(s, e, p, avail, f, 0xAA, cmds, sizeof(cmds), &made);
	if (made) {
		size_t n = (size_t)f[2] + 5;
		uint16_t sum = sum16(f + 1, n - 3);
		f[n - 2] = (uint8_t)sum;
		f[n - 1] = (uint8_t)(sum >> 8);
		fd_bytes(s, f, n);
	}
	return used;
}

static const struct fd_target humsienk = {
	.drv = &bms_humsienk_driver,
	.addr_mask = 0,
	.persist_bit = false,
	.event = hs_event,
	.request = hs_request,
	.max_cells = 24,
	.max_temps = 5,
	.max_raw = 4,
	.max_state = 0,
	.never = BMS_HAS_POWER | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS | BMS_HAS_BALANCING |
		BMS_HAS_BALANCER | BMS_HAS_CELL_RES,
	.snap = hs_snap,
	.frame = hs_frame_check,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE) | FD_RC(BMS_E_SHORT),
	.step = FD_STEP_ON,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_TEMPS |
		BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS,
	.ok_volts = true,
	.ok = hs_ok,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(humsienk.drv) && !humsienk.drv->listens);
	return fd_run(&humsienk, data, size);
}
