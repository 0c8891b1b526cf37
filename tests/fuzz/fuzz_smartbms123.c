/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_smartbms123.c - libFuzzer target: whole polls of the
 * 123\SmartBMS gen 3 Bluetooth LE driver (bms/smartbms123.c: the ping, its
 * PIN, E!, a line a ping), driven the way gateway/poll/poller.c drives it
 * (harness: fuzz_drive.h, sent() and what is kept across steps too).
 * Beyond a generic target: every request is the ping, `PW<pin>!` CR (only
 * with a pin, marked a secret) or `E!` CR; a frame scan() reports is
 * printable ASCII ending in its one CR; a refusal is auth failed only
 * while PW or E! waits for its answer.
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address; over
 * Bluetooth LE always), a byte whose bits 0..1 pick the pin (none, 1234,
 * 0000, 9999), then events by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFE	a reconnection (the next poll's link_fresh)
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>

#include "fuzz_drive.h"

static const char *const pins[4] = { NULL, "1234", "0000", "9999" };

static size_t sm_config(struct fd *s, const uint8_t *d, size_t size)
{
	size_t k = fd_config(s, d, size);
	if (k == 0 || k >= size)
		return 0;
	s->link = BMS_LINK_BLE;
	s->fresh = true;
	s->cells_forced = 0; /* the count is the lines' (no forced count is applied) */
	s->pin = pins[d[k] & 3];
	return k + 1;
}

static size_t sm_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	(void)p;
	(void)avail;
	if (e != 0xFE)
		return FD_NOT_MINE;
	s->fresh = true;
	return 0;
}

static void sm_request(const struct fd *s, const uint8_t *req, int n)
{
	if (n == 1) {
		REQUIRE(req[0] == '$' && !s->poll.secret_req);
		return;
	}
	if (n == 3) {
		REQUIRE(memcmp(req, "E!\r", 3) == 0 && !s->poll.secret_req);
		return;
	}
	REQUIRE(s->pin && n == 8 && memcmp(req, "PW", 2) == 0 && memcmp(req + 2, s->pin, 4) == 0);
	REQUIRE(memcmp(req + 6, "!\r", 2) == 0 && s->poll.secret_req);
}

static void sm_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 2 && n <= 121 && f[n - 1] == '\r');
	for (size_t i = 0; i + 1 < n; i++)
		REQUIRE(f[i] >= 0x20 && f[i] <= 0x7E);
}

static void sm_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && sn->voltage >= 0 && sn->voltage <= 4294967295.0f * 0.005f);
	REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 4294967295.0f * 0.05f);
	REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	REQUIRE(sn->soh >= 0 && sn->soh <= 100);
}

static void sm_handled(const struct fd *s, int rc, size_t n)
{
	(void)n;
	if (rc == BMS_E_AUTH)
		REQUIRE(s->poll.step == 2 || s->poll.step == 4); /* PW, E! */
}

static const struct fd_target smartbms123 = {
	.drv = &bms_smartbms123_driver,
	.config = sm_config,
	.event = sm_event,
	.request = sm_request,
	.no_echo = true,
	.max_cells = 32,
	.max_temps = BMS_MAX_TEMPS,
	.max_raw = 0,
	.never = BMS_HAS_FULL | BMS_HAS_REMAIN | BMS_HAS_CYCLES | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_SETPOINT |
		 BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	.snap = sm_snap,
	.frame = sm_frame,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_SHORT) | FD_RC(BMS_E_HEADER) |
	       FD_RC(BMS_E_RANGE) | FD_RC(BMS_E_AUTH),
	.step = FD_STEP_NEXT,
	.unexpected_keeps_snap = true,
	.handled = sm_handled,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_TEMPS,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(smartbms123.drv));
	return fd_run(&smartbms123, data, size);
}
