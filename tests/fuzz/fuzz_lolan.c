/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_lolan.c - libFuzzer target: whole polls of the Lolan
 * Bluetooth LE driver (bms/lolan.c: the status and the cells, the
 * password inside each request), driven the way gateway/poll/poller.c
 * drives it (harness: fuzz_drive.h).  Beyond a generic target: every
 * request is one of the two reads with the pack's password (the maker's
 * 12345678 without a pin), each marked a secret; an answer of no known
 * type is refused, the password's refusal is auth failed.
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address; over
 * Bluetooth LE always), a byte whose bits 0..1 pick the pin (none,
 * 12345678, 0, 4294967295), then events by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFE	a reconnection (the next poll's link_fresh)
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>

#include "fuzz_drive.h"

static const char *const pins[4] = { NULL, "12345678", "0", "4294967295" };
static const uint32_t pin_values[4] = { 12345678u, 12345678u, 0u, 4294967295u };
static uint8_t pin_pick;

static size_t ll_config(struct fd *s, const uint8_t *d, size_t size)
{
	size_t k = fd_config(s, d, size);
	if (k == 0 || k >= size)
		return 0;
	s->link = BMS_LINK_BLE;
	s->fresh = true;
	pin_pick = d[k] & 3;
	s->pin = pins[pin_pick];
	return k + 1;
}

static size_t ll_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	(void)p;
	(void)avail;
	if (e != 0xFE)
		return FD_NOT_MINE;
	s->fresh = true;
	return 0;
}

static void ll_request(const struct fd *s, const uint8_t *req, int n)
{
	uint32_t pw = pin_values[pin_pick];
	REQUIRE(n == 6 && ((req[0] == 0xC5 && s->poll.step == 0) || (req[0] == 0x5B && s->poll.step == 1)));
	REQUIRE(req[1] == 0x65 && bms_be32(req + 2) == pw && s->poll.secret_req);
}

static void ll_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n == 4 || (f[0] == 0x01 && n == 40) || (f[0] == 0x02 && n == 88) || (f[0] == 0x03 && n == 108));
}

static void ll_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && sn->voltage >= 0 && sn->voltage <= 1000.0f);
	REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 3000.0f);
	REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	for (int i = 0; i < sn->ntemps; i++)
		REQUIRE(sn->temp_c[i] >= -100.0f && sn->temp_c[i] <= 200.0f);
}

static void ll_handled(const struct fd *s, int rc, size_t n)
{
	if (rc == BMS_E_AUTH)
		REQUIRE(n == 4 && s->poll.step < 2);
}

static const struct fd_target lolan = {
	.drv = &bms_lolan_driver,
	.config = ll_config,
	.event = ll_event,
	.request = ll_request,
	.no_echo = true,
	.max_cells = 16,
	.max_temps = 2,
	.max_raw = 1,
	.never = BMS_HAS_SOH | BMS_HAS_FULL | BMS_HAS_REMAIN | BMS_HAS_BALANCE | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS |
		 BMS_HAS_VOLT_LIMITS,
	.snap = ll_snap,
	.frame = ll_frame,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_SHORT) | FD_RC(BMS_E_HEADER) |
	       FD_RC(BMS_E_RANGE) | FD_RC(BMS_E_AUTH),
	.step = FD_STEP_NEXT,
	.unexpected_keeps_snap = true,
	.handled = ll_handled,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_TEMPS,
	.ok_volts = true,
	.forced_at_most = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(lolan.drv));
	return fd_run(&lolan, data, size);
}
