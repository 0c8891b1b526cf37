/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_abc.c - libFuzzer target: whole polls of the SOK /
 * ABC-BMS driver (C0 name, C1 info, C2 detail with the cells, C4
 * protection), driven the way gateway/poll/poller.c drives it (harness:
 * fuzz_drive.h).
 *
 * Input:
 *	byte 0	bit 6 set: cells_forced = bits 0..5, else 0
 *	byte 1	bit 0 invert_current, bit 1 start with persist = 1 (C4 known
 *		to go unanswered), bits 2..3 retries, bit 5 refresh, bit 6
 *		over BLE (link_fresh on the first poll)
 *	then events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFE	a reconnection: the next poll is link_fresh
 *	E == 0xFF	a synthesised answer with a correct CRC: the next byte
 *			K gives its type (0xF0 + K % 11), then its 17 data
 *			bytes come from the input (zero-padded)
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one, keeping persist.
 */
#include <math.h>

#include "fuzz_drive.h"

static uint8_t crc8(const uint8_t *p, size_t n)
{
	uint8_t crc = 0;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint8_t)((crc >> 1) ^ 0x8C) : (uint8_t)(crc >> 1);
	}
	return crc;
}

static void abc_request(const struct fd *s, const uint8_t *req, int n)
{
	(void)s;
	REQUIRE(n == 6 && req[0] == 0xEE);
	REQUIRE(req[1] == 0xC0 || req[1] == 0xC1 || req[1] == 0xC2 || req[1] == 0xC4);
	REQUIRE(req[2] == 0 && req[3] == 0 && req[4] == 0 && req[5] == crc8(req, 5));
}

static void abc_frame_check(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n == 20 && f[0] == 0xCC && f[1] >= 0xF0 && f[1] <= 0xFA && f[19] == crc8(f, 19));
}

static void abc_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && isfinite(sn->current));
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(isfinite(sn->temp_c[i]));
	for (unsigned i = 0; i < sn->ncells; i++)
		REQUIRE(sn->cell_mv[i] <= 6500);
	if (sn->present & BMS_HAS_ALARMS)
		REQUIRE(sn->alarms == (sn->raw_alarms[0] ? BMS_AL_OTHER : 0u));
	REQUIRE(sn->balance == 0);
}

static void abc_ok(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	for (unsigned i = sn->ncells; i < BMS_MAX_CELLS; i++)
		REQUIRE(sn->cell_mv[i] == 0);
}

/* E == 0xFE: reconnect; E == 0xFF: a synthesised answer. */
static size_t abc_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	uint8_t f[20];
	size_t used = 0;

	if (e == 0xFE) {
		s->fresh = true;
		return 0;
	}
	if (e != 0xFF)
		return FD_NOT_MINE;
	if (avail == 0)
		return 0;
	memset(f, 0, sizeof(f));
	f[0] = 0xCC;
	f[1] = (uint8_t)(0xF0 + p[used++] % 11);
	for (size_t i = 2; i < 19 && used < avail; i++)
		f[i] = p[used++];
	f[19] = crc8(f, 19);
	fd_bytes(s, f, sizeof(f));
	return used;
}

static const struct fd_target abc = {
	.drv = &bms_abc_driver,
	.addr_mask = 0,
	.persist_bit = true,
	.event = abc_event,
	.request = abc_request,
	.max_cells = BMS_MAX_CELLS,
	.max_temps = 7,
	.max_raw = 1,
	.max_state = 0,
	.never = BMS_HAS_BALANCE | BMS_HAS_POWER | BMS_HAS_SOH | BMS_HAS_MOS_TEMP | BMS_HAS_SETPOINT |
		BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS | BMS_HAS_BALANCER | BMS_HAS_CELL_RES,
	.snap = abc_snap,
	.frame = abc_frame_check,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_MORE) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE),
	.step = FD_STEP_ON,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_TEMPS |
		BMS_HAS_MOSFETS | BMS_HAS_BALANCING,
	.ok_volts = true,
	.ok = abc_ok,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(abc.drv) && !abc.drv->listens);
	return fd_run(&abc, data, size);
}
