/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_tdt.c - libFuzzer target: whole polls of the TDT driver
 * (0x8C analog, 0x8D warnings, 0x92 identity on a new connection; the
 * request head 0x7E or 0x1E), driven the way gateway/poll/poller.c drives
 * it (harness: fuzz_drive.h).
 *
 * Input:
 *	byte 0	bit 6 set: cells_forced = bits 0..5, else 0
 *	byte 1	bit 0 invert_current, bit 1 start with the 0x1E head
 *		(poll.persist = 1), bits 2..3 retries, bit 5 refresh, bit 6
 *		over BLE (link_fresh on the first poll)
 *	then events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFE	a reconnection: the next poll is link_fresh
 *	E == 0xFF	a synthesised frame with a correct CRC: the next byte
 *			K gives its command (0x8C, 0x8D, 0x92 or 0x06 by K % 4;
 *			K & 4: an error code in byte 4), the one after its
 *			length, then its data bytes come from the input
 *			(zero-padded)
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one.
 */
#include <math.h>

#include "fuzz_drive.h"

/* Only the reads 0x8C, 0x8D, 0x92, head 0x7E or 0x1E, no data; never a
 * write (0x06). */
static void tdt_request(const struct fd *s, const uint8_t *req, int n)
{
	(void)s;
	REQUIRE(n == 11 && (req[0] == 0x7E || req[0] == 0x1E));
	REQUIRE(req[1] == 0 && req[2] == 1 && req[3] == 3 && req[4] == 0 && req[6] == 0 && req[7] == 0);
	REQUIRE(req[5] == 0x8C || req[5] == 0x8D || req[5] == 0x92);
	REQUIRE(fd_crc16(req, 8) == (uint16_t)(req[8] << 8 | req[9]) && req[10] == 0x0D);
}

static void tdt_frame_check(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n > 11 && f[0] == 0x7E && n == (size_t)(f[6] << 8 | f[7]) + 11 && f[3] == 3);
	REQUIRE(fd_crc16(f, n - 3) == (uint16_t)(f[n - 3] << 8 | f[n - 2]) && f[n - 1] == 0x0D);
}

static void tdt_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && isfinite(sn->current));
	REQUIRE(fabsf(sn->current) <= 16383.0f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0 && sn->soh <= 100);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(sn->temp_c[i] >= -273.2f && sn->temp_c[i] <= 6280.5f);
	if (sn->present & BMS_HAS_ALARMS)
		REQUIRE(sn->alarms == 0 || sn->alarms == BMS_AL_OTHER);
}

static void tdt_ok(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	for (unsigned i = sn->ncells; i < BMS_MAX_CELLS; i++)
		REQUIRE(sn->cell_mv[i] == 0);
}

/* E == 0xFE: reconnect; E == 0xFF: a synthesised frame. */
static size_t tdt_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	static const uint8_t cmds[] = { 0x8C, 0x8D, 0x92, 0x06 };
	uint8_t f[255 + 11];
	size_t used = 0;

	size_t r = fd_ble_event(s, e, avail);
	if (r != FD_SYNTH)
		return r;
	memset(f, 0, sizeof(f));
	f[0] = 0x7E;
	f[2] = 0x01;
	f[3] = 0x03;
	f[4] = (p[used] & 4) ? 0x01 : 0x00;
	f[5] = cmds[p[used++] % sizeof(cmds)];
	f[7] = p[used++];
	for (size_t i = 0; i < f[7] && used < avail; i++)
		f[8 + i] = p[used++];
	size_t n = (size_t)f[7] + 11;
	uint16_t crc = fd_crc16(f, n - 3);
	f[n - 3] = (uint8_t)(crc >> 8);
	f[n - 2] = (uint8_t)crc;
	f[n - 1] = 0x0D;
	fd_bytes(s, f, n);
	return used;
}

static const struct fd_target tdt = {
	.drv = &bms_tdt_driver,
	.addr_mask = 0,
	.persist_bit = true,
	.event = tdt_event,
	.request = tdt_request,
	.max_cells = 32,
	.max_temps = BMS_MAX_TEMPS,
	.max_raw = 3,
	.max_state = 0,
	.never = BMS_HAS_POWER | BMS_HAS_MOS_TEMP | BMS_HAS_BALANCE | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS |
		BMS_HAS_VOLT_LIMITS | BMS_HAS_BALANCING | BMS_HAS_BALANCER | BMS_HAS_CELL_RES,
	.snap = tdt_snap,
	.frame = tdt_frame_check,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE) | FD_RC(BMS_E_SHORT) |
		FD_RC(BMS_E_REFUSED),
	.step = FD_STEP_ON,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_TEMPS |
		BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_MOSFETS | BMS_HAS_ALARMS,
	.ok_volts = true,
	.ok = tdt_ok,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(tdt.drv) && !tdt.drv->listens);
	return fd_run(&tdt, data, size);
}
