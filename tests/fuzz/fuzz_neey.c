/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_neey.c - libFuzzer target: whole polls of the NEEY /
 * Heltec balancer driver (device info, settings, then the cell frame asked
 * for or listened to), driven the way gateway/poll/poller.c drives it
 * (harness: fuzz_drive.h).
 *
 * Input:
 *	byte 0	bit 6 set: cells_forced = bits 0..5, else 0
 *	byte 1	bit 0 invert_current, bit 1 start with persist = 1 (the
 *		layout known, v1, nothing else), bits 2..3 retries, bit 5
 *		refresh, bit 6 over BLE (link_fresh on the first poll)
 *	then events, by their first byte E:
 *	E == 0		a timeout of the current step (or of the listening)
 *	E == 0xFE	a reconnection: the next poll is link_fresh
 *	E == 0xFF	a synthesised answer with a correct sum and tail: the
 *			next byte K picks it (K % 4: 0 a 20-byte
 *			acknowledgement, 1 a device info, 2 a cell frame, 3
 *			settings, of 150 bytes with bit 2: the settings
 *			shown are checked), bit 3 makes its
 *			function byte 0; then up to its length - 10 bytes of
 *			its body come from the input (zero-padded), and it
 *			arrives as 20-byte notifications
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one, keeping persist.
 */
#include <math.h>

#include "fuzz_drive.h"

static void ney_request(const struct fd *s, const uint8_t *req, int n)
{
	(void)s;
	REQUIRE(n == 20);
	REQUIRE(req[0] == 0xAA && req[1] == 0x55 && req[2] == 0x11 && req[3] == 0x01);
	REQUIRE(req[4] == 0x01 || req[4] == 0x02 || req[4] == 0x04);
	REQUIRE(req[5] == 0 && req[6] == 20 && req[19] == 0xFF);
	unsigned sum = 0;
	for (int i = 0; i < 18; i++) {
		sum += req[i];
		if (i >= 7)
			REQUIRE(req[i] == 0);
	}
	REQUIRE(req[18] == (uint8_t)sum);
}

static void ney_frame_check(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 20 && n <= 300);
	REQUIRE(f[0] == 0x55 && f[1] == 0xAA && f[2] == 0x11 && f[3] <= 1);
	REQUIRE((size_t)(f[6] | f[7] << 8) == n);
	unsigned sum = 0;
	for (size_t i = 0; i < n - 2; i++)
		sum += f[i];
	REQUIRE(f[n - 2] == (uint8_t)sum && f[n - 1] == 0xFF);
}

static void ney_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && sn->voltage >= 0.0f && sn->voltage < 200.0f);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(!isinf(sn->temp_c[i])); /* a number as read, or NaN (none) */
	if (sn->present & BMS_HAS_MOS_TEMP)
		REQUIRE(isfinite(sn->mos_temp_c));
	if (sn->present & BMS_HAS_BALANCER) {
		REQUIRE(isnan(sn->bal_current) || fabsf(sn->bal_current) <= 100.0f);
		REQUIRE(isnan(sn->bal_temp_c) || (sn->bal_temp_c >= -50.0f && sn->bal_temp_c <= 150.0f));
		REQUIRE(sn->balancing == (sn->bal_status == 5));
	}
	for (unsigned i = 0; i < BMS_MAX_CELLS; i++) {
		REQUIRE(isfinite(sn->cell_res_mohm[i]) && sn->cell_res_mohm[i] >= 0.0f && sn->cell_res_mohm[i] < 60000.0f);
		if (i >= sn->ncells)
			REQUIRE(sn->cell_res_mohm[i] == 0.0f);
	}
	for (unsigned i = 0; i < sn->ncells; i++)
		REQUIRE(sn->cell_mv[i] <= 6500);
	REQUIRE(sn->balance == 0);
}

static void ney_handled(const struct fd *s, int rc, size_t n)
{
	(void)n;
	/* the settings shown (§32.7): only keys the driver announces, each a
	 * number inside its field's range */
	const struct bms_settings *st = &s->poll.kept.settings;
	REQUIRE((st->have & ~s->drv->settings) == 0);
	for (unsigned k = 0; k < BMS_SET_COUNT; k++)
		if (bms_settings_has(st, (enum bms_set_key)k))
			REQUIRE(isfinite(st->v[k]) && st->v[k] >= -50.0f && st->v[k] <= 100000.0f);
	/* a listening step is never the end of a poll, and a retry asks */
	if (rc == BMS_OK && s->poll.step == 4)
		REQUIRE(!s->drv->listens(&s->poll));
	if (s->poll.attempt > 0)
		REQUIRE(!s->drv->listens(&s->poll));
}

/* E == 0xFE: reconnect; E == 0xFF: a synthesised answer. */
static size_t ney_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	static uint8_t f[300];
	size_t used = 0;

	if (e == 0xFE) {
		s->fresh = true;
		return 0;
	}
	if (e != 0xFF)
		return FD_NOT_MINE;
	if (avail == 0)
		return 0;
	uint8_t k = p[used++];
	static const size_t lens[4] = { 20, 100, 300, 100 };
	static const uint8_t cmds[4] = { 0x05, 0x01, 0x02, 0x04 };
	size_t len = (k & 3) == 3 && (k & 4) ? 150 : lens[k & 3];
	memset(f, 0, sizeof(f));
	f[0] = 0x55;
	f[1] = 0xAA;
	f[2] = 0x11;
	f[3] = (k & 8) ? 0x00 : 0x01;
	f[4] = cmds[k & 3];
	f[6] = (uint8_t)len;
	f[7] = (uint8_t)(len >> 8);
	for (size_t i = 8; i < len - 2 && used < avail; i++)
		f[i] = p[used++];
	unsigned sum = 0;
	for (size_t i = 0; i < len - 2; i++)
		sum += f[i];
	f[len - 2] = (uint8_t)sum;
	f[len - 1] = 0xFF;
	for (size_t off = 0; off < len; off += 20)
		fd_bytes(s, f + off, len - off < 20 ? len - off : 20);
	return used;
}

static const struct fd_target neey = {
	.drv = &bms_neey_driver,
	.addr_mask = 0,
	.persist_bit = true,
	.event = ney_event,
	.request = ney_request,
	.max_cells = 24,
	.max_temps = 2,
	.max_raw = 1,
	.max_state = 0,
	/* a balancer: no pack current, SOC, capacity, MOSFETs, per-cell balance bits */
	.never = BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN | BMS_HAS_FULL |
		BMS_HAS_CYCLES | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS |
		BMS_HAS_VOLT_LIMITS,
	.snap = ney_snap,
	.frame = ney_frame_check,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_SHORT) | FD_RC(BMS_E_RANGE),
	.step = FD_STEP_ON,
	.handled = ney_handled,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_BALANCER | BMS_HAS_BALANCING | BMS_HAS_TEMPS |
		BMS_HAS_ALARMS,
	.ok_volts = true,
	.forced_at_most = true, /* 24 slots */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(neey.drv->listens && bms_ble_only(neey.drv));
	return fd_run(&neey, data, size);
}
