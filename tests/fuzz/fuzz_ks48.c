/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_ks48.c - libFuzzer target: whole polls of the KS48x00 /
 * Braun Power driver (0xF4 version and 0x0B serial, 0x01 status, 0x02
 * cells, 0x03 temperatures, the settings reads 0x04 .. 0x07 when due),
 * driven the way gateway/poll/poller.c drives
 * it (harness: fuzz_drive.h).  The frames carry no checksum: whatever the
 * bytes, a sample the driver accepts holds only values within their
 * ranges.
 *
 * Input:
 *	byte 0	bit 6 set: cells_forced = bits 0..5, else 0
 *	byte 1	bit 0 invert_current, bits 2..3 retries, bit 5 refresh,
 *		bit 6 over BLE (link_fresh on the first poll), bit 7
 *		settings_due on every poll
 *	then events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFE	a reconnection: the next poll is link_fresh
 *	E == 0xFF	a synthesised frame: the next byte K gives its command
 *			(0x01, 0x02, 0x03, 0xF4, 0x0B, 0x74, 0x04, 0x05,
 *			0x06 or 0x07 by K % 10), the
 *			one after its length, then its data bytes come from
 *			the input (zero-padded), closed by 7D
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one.
 */
#include <math.h>
#include <string.h>

#include "fuzz_drive.h"

/* Only the reads: 0xF4, 0x0B, 0x01, 0x02, 0x03 with no data; the
 * settings reads 0x04 .. 0x07 (§54.4) only when due. */
static void ks_request(const struct fd *s, const uint8_t *req, int n)
{
	REQUIRE(n == 4 && req[0] == 0x7B && req[2] == 0 && req[3] == 0x7D);
	REQUIRE(req[1] == 0xF4 || req[1] == 0x0B || req[1] == 0x01 || req[1] == 0x02 || req[1] == 0x03 ||
		(req[1] >= 0x04 && req[1] <= 0x07 && s->poll.settings_due));
}

/* The settings shown are only keys the driver announces, read only when
 * due, each inside its field's range (temperatures -50 .. 150 °C). */
static void ks_handled(const struct fd *s, int rc, size_t n)
{
	(void)rc;
	(void)n;
	fd_check_due_settings(s, -50.0f, 150.0f, 0.0f, 655.35f);
}

static void ks_frame_check(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 5 && f[0] == 0x7B && n == (size_t)f[2] + 4 && f[n - 1] == 0x7D && f[2] <= 65);
}

static void ks_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && isfinite(sn->current));
	REQUIRE(sn->voltage >= 0 && sn->voltage <= 655.35f);
	REQUIRE(fabsf(sn->current) <= 327.68f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0 && sn->soh <= 100);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(sn->temp_c[i] >= -273.1f && sn->temp_c[i] <= 6280.5f);
	for (unsigned i = 0; i < sn->ncells; i++)
		REQUIRE(sn->cell_mv[i] > 0 && sn->cell_mv[i] <= 6500);
	REQUIRE(sn->ncells <= 32 && sn->ntemps <= 8);
	REQUIRE(sn->balance == 0);
}

static void ks_ok(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(sn->ntemps >= 1);
	for (unsigned i = sn->ncells; i < BMS_MAX_CELLS; i++)
		REQUIRE(sn->cell_mv[i] == 0);
}

/* E == 0xFE: reconnect; E == 0xFF: a synthesised frame, closed by 7D. */
static size_t ks_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	static const uint8_t cmds[] = { 0x01, 0x02, 0x03, 0xF4, 0x0B, 0x74, 0x04, 0x05, 0x06, 0x07 };
	uint8_t f[FD_SYNTH_MAX];
	bool made;
	size_t used = fd_synth_event(s, e, p, avail, f, 0x7B, cmds, sizeof(cmds), &made);
	if (made) {
		f[(size_t)f[2] + 3] = 0x7D;
		fd_bytes(s, f, (size_t)f[2] + 4);
	}
	return used;
}

static const struct fd_target ks48 = {
	.drv = &bms_ks48_driver,
	.addr_mask = 0,
	.persist_bit = false,
	.event = ks_event,
	.request = ks_request,
	.handled = ks_handled,
	.max_cells = 32,
	.max_temps = 8,
	.max_raw = 1,
	.max_state = 0,
	.never = BMS_HAS_POWER | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS | BMS_HAS_BALANCE |
		BMS_HAS_BALANCER | BMS_HAS_CELL_RES,
	.snap = ks_snap,
	.frame = ks_frame_check,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE) | FD_RC(BMS_E_SHORT),
	.step = FD_STEP_ON,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP |
		BMS_HAS_MOSFETS | BMS_HAS_BALANCING | BMS_HAS_ALARMS,
	.ok_volts = true,
	.ok = ks_ok,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(ks48.drv) && !ks48.drv->listens);
	return fd_run(&ks48, data, size);
}
