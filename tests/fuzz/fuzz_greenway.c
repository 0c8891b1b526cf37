/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_greenway.c - libFuzzer target: whole polls of the Greenway
 * driver (eleven reads, each answered 47 16 01 type len data sum), driven
 * the way gateway/poll/poller.c drives it (harness: fuzz_drive.h).
 *
 * Input: the usual two configuration bytes (fuzz_drive.h), then events, by
 * their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFE	a reconnection: the next poll is link_fresh
 *	E == 0xFF	a synthesised answer with a correct sum: the next byte K
 *			gives its type (one of the eleven, or 0x10, by K % 12),
 *			the one after its length, then its data bytes from the
 *			input (zero-padded)
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>

#include "fuzz_drive.h"

static uint8_t sum8(const uint8_t *p, size_t n)
{
	unsigned s = 0;
	for (size_t i = 0; i < n; i++)
		s += p[i];
	return (uint8_t)s;
}

/* Only its reads: 46 16 01 type len sum, the types and lengths of a poll. */
static void gw_request(const struct fd *s, const uint8_t *req, int n)
{
	static const uint8_t types[] = { 0x09, 0x0A, 0x0D, 0x0E, 0x0F, 0x17, 0x18, 0x16, 0x08, 0x24, 0x25 };
	(void)s;
	REQUIRE(n == 6 && req[0] == 0x46 && req[1] == 0x16 && req[2] == 0x01 && sum8(req, 5) == req[5]);
	REQUIRE(memchr(types, req[3], sizeof(types)) != NULL);
	REQUIRE(req[4] == (req[3] == 0x16 ? 16 : req[3] == 0x08 || req[3] >= 0x24 ? 32 : 4));
}

static void gw_frame_check(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 6 && f[0] == 0x47 && f[1] == 0x16 && f[2] == 0x01 && n == (size_t)f[4] + 6);
	REQUIRE(sum8(f, n - 1) == f[n - 1]);
}

static void gw_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && isfinite(sn->current) && isfinite(sn->remain_ah) && isfinite(sn->full_ah));
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0 && sn->soh <= 100);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(sn->temp_c[i] >= -128 && sn->temp_c[i] <= 127);
}

static void gw_ok(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(sn->ntemps == 7 && sn->nraw == 4);
	for (unsigned i = sn->ncells; i < BMS_MAX_CELLS && !s->cells_forced; i++)
		REQUIRE(sn->cell_mv[i] == 0);
}

static size_t gw_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	static const uint8_t types[] = { 0x09, 0x0A, 0x0D, 0x0E, 0x0F, 0x17, 0x18, 0x16, 0x08, 0x24, 0x25, 0x10 };
	uint8_t f[2 + FD_SYNTH_MAX];
	bool made;
	/* f[2..]: 01 type len data, then the sum */
	size_t used = fd_synth_event(s, e, p, avail, f + 2, 0x01, types, sizeof(types), &made);
	if (made) {
		size_t n = (size_t)f[4] + 6;
		f[0] = 0x47;
		f[1] = 0x16;
		f[n - 1] = sum8(f, n - 1);
		fd_bytes(s, f, n);
	}
	return used;
}

static const struct fd_target greenway = {
	.drv = &bms_greenway_driver,
	.addr_mask = 0,
	.persist_bit = false,
	.event = gw_event,
	.request = gw_request,
	.max_cells = 32,
	.max_temps = 7,
	.max_raw = 4,
	.max_state = 0,
	.never = BMS_HAS_POWER | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS | BMS_HAS_BALANCING |
		BMS_HAS_BALANCER | BMS_HAS_CELL_RES | BMS_HAS_MOS_TEMP | BMS_HAS_BALANCE | BMS_HAS_MOSFETS,
	.snap = gw_snap,
	.frame = gw_frame_check,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE) | FD_RC(BMS_E_SHORT),
	.step = FD_STEP_NEXT,
	.ok_has = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN | BMS_HAS_CYCLES |
		BMS_HAS_TEMPS | BMS_HAS_ALARMS | BMS_HAS_CELLS,
	.ok_volts = true,
	.forced_at_most = true,
	.ok = gw_ok,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(greenway.drv) && !greenway.drv->listens);
	return fd_run(&greenway, data, size);
}
