/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_lifepower.c - libFuzzer target: whole polls of the
 * LifePower binary RS485 driver (0x01 general information, the identity
 * 0x33; SOI 0x7E or 0x7C), driven the way gateway/poll/poller.c drives it
 * (harness: fuzz_drive.h).
 *
 * Input: the usual configuration bytes of fuzz_drive.h (an address byte
 * & 0x1F, persist = the 0x7C SOI), then events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFF	a synthesised answer with a correct checksum to the
 *			outstanding request (its SOI, address and command), the
 *			next byte the data length, the data from the input
 *			(zero-padded)
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>

#include "fuzz_drive.h"

static uint8_t lp_sum(const uint8_t *p, size_t n)
{
	uint8_t x = 0, s = 0;
	for (size_t i = 0; i < n; i++) {
		x ^= p[i];
		s = (uint8_t)(s + p[i]);
	}
	return (uint8_t)(x ^ s);
}

static bool lp_addr_ok(uint8_t a)
{
	return a >= 1 && a <= 15;
}

static void lp_request(const struct fd *s, const uint8_t *req, int n)
{
	REQUIRE(n == 6 && (req[0] == 0x7E || req[0] == 0x7C) && req[1] == s->address && req[3] == 0 &&
		req[5] == 0x0D && req[4] == lp_sum(req, 4));
	REQUIRE(req[2] == 0x01 || req[2] == 0x33); /* reads only */
}

static void lp_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 7 && n == (size_t)f[3] + 6 && (f[0] == 0x7E || f[0] == 0x7C) && f[n - 1] == 0x0D);
	REQUIRE(f[n - 2] == lp_sum(f, n - 2));
}

static void lp_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && isfinite(sn->current) && fabsf(sn->current) <= 400.0f);
	REQUIRE(sn->voltage >= 0 && sn->voltage <= 655.35f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0 && sn->soh <= 100);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(sn->temp_c[i] >= -50.0f && sn->temp_c[i] <= 205.0f);
	for (unsigned i = 0; i < sn->ncells; i++)
		REQUIRE(sn->cell_mv[i] <= 0x3FFF);
	REQUIRE(sn->state <= 2);
}

static size_t lp_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	static uint8_t f[262];
	size_t used = 0;
	if (e != 0xFF)
		return FD_NOT_MINE;
	if (avail == 0)
		return 0;
	size_t dlen = p[used++];
	memset(f, 0, sizeof(f));
	f[0] = s->req_len == 6 ? s->req[0] : 0x7E;
	f[1] = s->req_len == 6 ? s->req[1] : s->address;
	f[2] = s->req_len == 6 ? s->req[2] : 0x01;
	f[3] = (uint8_t)dlen;
	for (size_t i = 0; i < dlen && used < avail; i++)
		f[4 + i] = p[used++];
	f[4 + dlen] = lp_sum(f, 4 + dlen);
	f[5 + dlen] = 0x0D;
	fd_bytes(s, f, dlen + 6);
	return used;
}

static const struct fd_target lifepower = {
	.drv = &bms_lifepower_driver,
	.addr_mask = 0x1f,
	.persist_bit = true,
	.event = lp_event,
	.addr_ok = lp_addr_ok,
	.request = lp_request,
	.max_cells = 32,
	.max_temps = BMS_MAX_TEMPS,
	.max_raw = 4,
	.max_state = 2,
	.never = BMS_HAS_POWER | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_REMAIN | BMS_HAS_SETPOINT |
		 BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	.snap = lp_snap,
	.frame = lp_frame,
	/* a whole checked frame: the answer (or its groups short, a count out
	 * of range, no layout, an error code), or another pack's / command's */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_SHORT) | FD_RC(BMS_E_RANGE) |
	       FD_RC(BMS_E_HEADER) | FD_RC(BMS_E_REFUSED),
	.step = FD_STEP_ON,
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE,
	.ok_volts = true,
	.forced_at_most = true, /* `cells = N`: at most N of the cells the BMS sends */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(!bms_ble_only(lifepower.drv) && lifepower.drv->probe);
	return fd_run(&lifepower, data, size);
}
