/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_basen.c - libFuzzer target: whole polls of the Basen
 * driver (0x2A status, 0x2B general, 0x24 .. 0x26 cells), driven the way
 * gateway/poll/poller.c drives it (harness: fuzz_drive.h).
 *
 * Input:
 *	byte 0	bit 6 set: cells_forced = bits 0..5, else 0
 *	byte 1	bit 0 invert_current, bits 2..3 retries, bit 5 refresh,
 *		bit 6 over BLE (link_fresh on the first poll)
 *	then events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFE	a reconnection: the next poll is link_fresh
 *	E == 0xFF	a synthesised frame with a correct sum: the next byte
 *			K gives its type (0x2A, 0x2B, 0x24, 0x25, 0x26 or
 *			0xFE by K % 6), the one after its length, then its
 *			data bytes come from the input (zero-padded); its start
 *			byte 3B when the length is odd, else 3A
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

/* Only the reads: 3A 16 <0x2A, 0x2B, 0x24..0x26> 01 00 sum CR LF. */
static void ba_request(const struct fd *s, const uint8_t *req, int n)
{
	(void)s;
	REQUIRE(n == 9 && req[0] == 0x3A && req[1] == 0x16 && req[3] == 1 && req[4] == 0);
	REQUIRE(req[2] == 0x2A || req[2] == 0x2B || (req[2] >= 0x24 && req[2] <= 0x26));
	REQUIRE(sum16(req + 1, 4) == (uint16_t)(req[5] | req[6] << 8) && req[7] == 0x0D && req[8] == 0x0A);
}

static void ba_frame_check(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 8 && (f[0] == 0x3A || f[0] == 0x3B) && f[1] == 0x16 && n == (size_t)f[3] + 8 && f[3] <= 36);
	REQUIRE(sum16(f + 1, n - 5) == (uint16_t)(f[n - 4] | f[n - 3] << 8) && f[n - 2] == 0x0D && f[n - 1] == 0x0A);
}

static void ba_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && isfinite(sn->current));
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(sn->temp_c[i] >= -128 && sn->temp_c[i] <= 127);
	for (unsigned i = 0; i < sn->ncells; i++)
		REQUIRE(sn->cell_mv[i] <= 6500);
	REQUIRE(sn->ncells <= 34 && sn->balance == 0);
}

static void ba_ok(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(sn->ntemps == 4);
	for (unsigned i = 0; i < sn->ncells; i++)
		REQUIRE(sn->cell_mv[i] > 0);
	for (unsigned i = sn->ncells; i < BMS_MAX_CELLS; i++)
		REQUIRE(sn->cell_mv[i] == 0);
}

/* E == 0xFE: reconnect; E == 0xFF: a synthesised frame. */
static size_t ba_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	static const uint8_t types[] = { 0x2A, 0x2B, 0x24, 0x25, 0x26, 0xFE };
	uint8_t f[1 + FD_SYNTH_MAX];
	bool made;
	/* f[1..]: 16 type len data, then the sum and CR LF */
	size_t used = fd_synth_event(s, e, p, avail, f + 1, 0x16, types, sizeof(types), &made);
	if (made) {
		size_t n = (size_t)f[3] + 8;
		f[0] = f[3] & 1 ? 0x3B : 0x3A;
		uint16_t sum = sum16(f + 1, n - 5);
		f[n - 4] = (uint8_t)sum;
		f[n - 3] = (uint8_t)(sum >> 8);
		f[n - 2] = 0x0D;
		f[n - 1] = 0x0A;
		fd_bytes(s, f, n);
	}
	return used;
}

static const struct fd_target basen = {
	.drv = &bms_basen_driver,
	.addr_mask = 0,
	.persist_bit = false,
	.event = ba_event,
	.request = ba_request,
	.max_cells = 34,
	.max_temps = 4,
	.max_raw = 2,
	.max_state = 0,
	.never = BMS_HAS_POWER | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS | BMS_HAS_BALANCING |
		BMS_HAS_BALANCER | BMS_HAS_CELL_RES | BMS_HAS_SOH | BMS_HAS_MOS_TEMP | BMS_HAS_BALANCE,
	.snap = ba_snap,
	.frame = ba_frame_check,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE) | FD_RC(BMS_E_SHORT),
	.step = FD_STEP_ON,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_TEMPS | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_MOSFETS | BMS_HAS_ALARMS,
	.ok_volts = true,
	.ok = ba_ok,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(basen.drv) && !basen.drv->listens);
	return fd_run(&basen, data, size);
}
