/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_paceex.c - libFuzzer target: whole polls of the PACEEX
 * driver (0x0A00 system data, 0x0A02 pack 1's cells), driven the way
 * gateway/poll/poller.c drives it (harness: fuzz_drive.h).
 *
 * Input:
 *	byte 0	bit 6 set: cells_forced = bits 0..5, else 0
 *	byte 1	bit 0 invert_current, bits 2..3 retries, bit 5 refresh,
 *		bit 6 over BLE (link_fresh on the first poll)
 *	then events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFE	a reconnection: the next poll is link_fresh
 *	E == 0xFF	a synthesised frame with a correct CRC: the next byte
 *			K gives its command (0x0A00, 0x0A02, 0x0001 or 0x0A03
 *			by K % 4), the one after its length, then its data
 *			bytes come from the input (zero-padded)
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one.
 */
#include <math.h>

#include "fuzz_drive.h"

/* Only the reads: 9A 00 00 0A 00 00 00 00 crc 9D, 9A 00 00 0A 02 00 00 02
 * 01 01 crc 9D. */
static void px_request(const struct fd *s, const uint8_t *req, int n)
{
	static const uint8_t sys[] = { 0x9A, 0, 0, 0x0A, 0, 0, 0, 0, 0x19, 0x51, 0x9D };
	static const uint8_t cel[] = { 0x9A, 0, 0, 0x0A, 2, 0, 0, 2, 1, 1, 0x28, 0x9C, 0x9D };
	(void)s;
	REQUIRE((n == (int)sizeof(sys) && memcmp(req, sys, sizeof(sys)) == 0) ||
		(n == (int)sizeof(cel) && memcmp(req, cel, sizeof(cel)) == 0));
}

static void px_frame_check(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 11 && f[0] == 0x9A && n == (size_t)f[7] + 11 && f[n - 1] == 0x9D);
	REQUIRE(fd_crc16(f, n - 3) == (uint16_t)(f[n - 3] << 8 | f[n - 2]));
}

static void px_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && isfinite(sn->current));
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0 && sn->soh <= 100);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(sn->temp_c[i] >= -273.1f && sn->temp_c[i] <= 6280.4f);
	for (unsigned i = 0; i < sn->ncells; i++)
		REQUIRE(sn->cell_mv[i] <= 6500);
	REQUIRE(sn->ncells <= 32 && sn->ntemps <= BMS_MAX_TEMPS && sn->balance == 0);
}

static void px_ok(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	for (unsigned i = 0; i < sn->ncells; i++)
		REQUIRE(sn->cell_mv[i] > 0);
	for (unsigned i = sn->ncells; i < BMS_MAX_CELLS; i++)
		REQUIRE(sn->cell_mv[i] == 0);
}

/* E == 0xFE: reconnect; E == 0xFF: a synthesised frame. */
static size_t px_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	static const uint8_t cmds[] = { 0x00, 0x02, 0x01, 0x03 };
	uint8_t g[FD_SYNTH_MAX], f[FD_SYNTH_MAX + 11];
	bool made;
	/* g: 9A cmd-byte L data */
	size_t used = fd_synth_event(s, e, p, avail, g, 0x9A, cmds, sizeof(cmds), &made);
	if (made) {
		size_t l = g[2];
		f[0] = 0x9A;
		f[1] = 0;
		f[2] = 0;
		f[3] = g[1] == 0x01 ? 0x00 : 0x0A;
		f[4] = g[1] == 0x01 ? 0x01 : g[1];
		f[5] = 0;
		f[6] = 0;
		f[7] = (uint8_t)l;
		memcpy(f + 8, g + 3, l);
		uint16_t c = fd_crc16(f, l + 8);
		f[l + 8] = (uint8_t)(c >> 8);
		f[l + 9] = (uint8_t)c;
		f[l + 10] = 0x9D;
		fd_bytes(s, f, l + 11);
	}
	return used;
}

static const struct fd_target paceex = {
	.drv = &bms_paceex_driver,
	.addr_mask = 0,
	.persist_bit = false,
	.event = px_event,
	.request = px_request,
	.max_cells = 32,
	.max_temps = BMS_MAX_TEMPS,
	.max_raw = 0,
	.max_state = 0,
	.never = BMS_HAS_POWER | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS | BMS_HAS_BALANCING |
		BMS_HAS_BALANCER | BMS_HAS_CELL_RES | BMS_HAS_MOS_TEMP | BMS_HAS_BALANCE | BMS_HAS_MOSFETS |
		BMS_HAS_ALARMS,
	.snap = px_snap,
	.frame = px_frame_check,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE) | FD_RC(BMS_E_SHORT),
	.step = FD_STEP_ON,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CYCLES,
	.ok_volts = true,
	.ok = px_ok,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(paceex.drv) && !paceex.drv->listens);
	return fd_run(&paceex, data, size);
}
