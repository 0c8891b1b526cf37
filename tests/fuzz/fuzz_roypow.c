/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_roypow.c - libFuzzer target: whole polls of the RoyPow
 * driver (0x03 status, 0x04 pack, 0x02 cells), driven the way
 * gateway/poll/poller.c drives it (harness: fuzz_drive.h).
 *
 * Input:
 *	byte 0	bit 6 set: cells_forced = bits 0..5, else 0
 *	byte 1	bit 0 invert_current, bits 2..3 retries, bit 5 refresh,
 *		bit 6 over BLE (link_fresh on the first poll)
 *	then events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFD	the module's text "AT+STAT\r\n" arrives
 *	E == 0xFE	a reconnection: the next poll is link_fresh
 *	E == 0xFF	a synthesised frame with a correct XOR: the next byte
 *			K gives its command (0x02, 0x03, 0x04 or 0x08 by
 *			K % 4), the one after its data length (at most 251),
 *			then its data bytes come from the input (zero-padded)
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one.
 */
#include <math.h>

#include "fuzz_drive.h"

static uint8_t xor8(const uint8_t *p, size_t n)
{
	uint8_t x = 0;
	for (size_t i = 0; i < n; i++)
		x ^= p[i];
	return x;
}

/* Only the reads: EA D1 01 04 FF <0x02, 0x03, 0x04> xor F5. */
static void rp_request(const struct fd *s, const uint8_t *req, int n)
{
	(void)s;
	REQUIRE(n == 8 && req[0] == 0xEA && req[1] == 0xD1 && req[2] == 0x01 && req[3] == 4 && req[4] == 0xFF);
	REQUIRE(req[5] >= 0x02 && req[5] <= 0x04);
	REQUIRE(xor8(req + 3, 3) == req[6] && req[7] == 0xF5);
}

static void rp_frame_check(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 9 && f[0] == 0xEA && f[1] == 0xD1 && f[2] == 0x01 && n == (size_t)f[3] + 4);
	REQUIRE(xor8(f + 3, n - 5) == f[n - 2] && f[n - 1] == 0xF5);
}

static void rp_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && isfinite(sn->current) && fabsf(sn->current) <= 655.35f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(sn->temp_c[i] >= -40 && sn->temp_c[i] <= 215);
	for (unsigned i = 0; i < sn->ncells; i++)
		REQUIRE(sn->cell_mv[i] <= 6500);
	REQUIRE(sn->ncells <= 32 && sn->ntemps <= 10 && sn->balance == 0);
}

static void rp_ok(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(sn->ntemps >= 1);
	for (unsigned i = 0; i < sn->ncells; i++)
		REQUIRE(sn->cell_mv[i] > 0);
	for (unsigned i = sn->ncells; i < BMS_MAX_CELLS; i++)
		REQUIRE(sn->cell_mv[i] == 0);
}

/* E == 0xFD: the text; 0xFE: reconnect; 0xFF: a synthesised frame. */
static size_t rp_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	static const uint8_t cmds[] = { 0x02, 0x03, 0x04, 0x08 };
	static const char at[] = "AT+STAT\r\n";
	if (e == 0xFD) {
		fd_bytes(s, (const uint8_t *)at, sizeof(at) - 1);
		return 0;
	}
	uint8_t g[FD_SYNTH_MAX], f[FD_SYNTH_MAX + 4];
	bool made;
	/* g: FF cmd L data */
	size_t used = fd_synth_event(s, e, p, avail, g, 0xFF, cmds, sizeof(cmds), &made);
	if (made) {
		size_t l = g[2] > 251 ? 251 : g[2];
		f[0] = 0xEA;
		f[1] = 0xD1;
		f[2] = 0x01;
		f[3] = (uint8_t)(l + 4);
		f[4] = 0xFF;
		f[5] = g[1];
		memcpy(f + 6, g + 3, l);
		f[l + 6] = xor8(f + 3, l + 3);
		f[l + 7] = 0xF5;
		fd_bytes(s, f, l + 8);
	}
	return used;
}

static const struct fd_target roypow = {
	.drv = &bms_roypow_driver,
	.addr_mask = 0,
	.persist_bit = false,
	.event = rp_event,
	.request = rp_request,
	.max_cells = 32,
	.max_temps = 10, /* 14..23 before the MOSFET byte */
	.max_raw = 2,
	.max_state = 0,
	.never = BMS_HAS_POWER | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS | BMS_HAS_BALANCING |
		BMS_HAS_BALANCER | BMS_HAS_CELL_RES | BMS_HAS_SOH | BMS_HAS_MOS_TEMP | BMS_HAS_BALANCE,
	.snap = rp_snap,
	.frame = rp_frame_check,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE) | FD_RC(BMS_E_SHORT) |
	       FD_RC(BMS_E_HEADER),
	.step = FD_STEP_ON,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_TEMPS | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_MOSFETS | BMS_HAS_ALARMS,
	.ok_volts = true,
	.ok = rp_ok,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(roypow.drv) && !roypow.drv->listens);
	return fd_run(&roypow, data, size);
}
