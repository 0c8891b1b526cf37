/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_saftkiste.c - libFuzzer target: whole polls of the
 * Saftkiste Bluetooth LE driver (bms/saftkiste.c: the login, the setup,
 * the reads 02 and 03), driven the way gateway/poll/poller.c drives it
 * (harness: fuzz_drive.h).  Beyond a generic target: every request is one
 * of the four, the login with the pack's password (the maker's ABC123
 * without a pin) and marked a secret, only on a fresh connection or after
 * a refusal; a frame scan() reports starts F0 FF and has its type's
 * length; a refused login is auth failed.
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address; over
 * Bluetooth LE always), a byte whose bits 0..1 pick the pin (none,
 * ABC123, h0T3l!, 000000), then events by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFE	a reconnection (the next poll's link_fresh)
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>

#include "fuzz_drive.h"

static const char *const pins[4] = { NULL, "ABC123", "h0T3l!", "000000" };

static size_t sk_config(struct fd *s, const uint8_t *d, size_t size)
{
	size_t k = fd_config(s, d, size);
	if (k == 0 || k >= size)
		return 0;
	s->link = BMS_LINK_BLE;
	s->fresh = true;
	s->cells_forced = 0; /* the count is the frames' (no forced count is applied) */
	s->pin = pins[d[k] & 3];
	return k + 1;
}

static size_t sk_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	(void)p;
	(void)avail;
	if (e != 0xFE)
		return FD_NOT_MINE;
	s->fresh = true;
	return 0;
}

static void sk_request(const struct fd *s, const uint8_t *req, int n)
{
	static const uint8_t setup[9] = { 0xF0, 0xFF, 0x43, 0x01, 0x01, 0xE7, 0x80, 0x69, 0x96 };
	static const uint8_t tail[5] = { 0x00, 0xE7, 0x80, 0x69, 0x48 };
	REQUIRE(n >= 3 && req[0] == 0xF0 && req[1] == 0xFF);
	if (req[2] == 0x10) {
		const char *pw = s->pin ? s->pin : "ABC123";
		REQUIRE(n == 14 && memcmp(req + 3, pw, 6) == 0 && memcmp(req + 9, tail, 5) == 0);
		REQUIRE(s->poll.secret_req && s->poll.step == 1);
		return;
	}
	REQUIRE(!s->poll.secret_req);
	if (req[2] == 0x43)
		REQUIRE(n == 9 && memcmp(req, setup, 9) == 0);
	else
		REQUIRE(n == 3 && (req[2] == 0x02 || req[2] == 0x03));
}

static void sk_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 3 && f[0] == 0xF0 && f[1] == 0xFF);
	REQUIRE((f[2] == 0x02 && n == 47) || (f[2] == 0x03 && n == 44) ||
		((f[2] == 0x00 || f[2] == 0x10 || f[2] == 0x43) && n == 3));
}

static void sk_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && sn->voltage >= 0 && sn->voltage <= 65.535f);
	REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 327.68f);
	REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	REQUIRE(sn->ncells == 0 || sn->ncells == 4);
}

static void sk_handled(const struct fd *s, int rc, size_t n)
{
	if (rc == BMS_E_AUTH)
		REQUIRE(n == 3 && s->poll.step == 1);
}

static const struct fd_target saftkiste = {
	.drv = &bms_saftkiste_driver,
	.config = sk_config,
	.event = sk_event,
	.request = sk_request,
	.no_echo = true,
	.max_cells = 4,
	.max_temps = 0,
	.max_raw = 0,
	.never = BMS_HAS_SOH | BMS_HAS_TEMPS | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_SETPOINT |
		 BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	.snap = sk_snap,
	.frame = sk_frame,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_SHORT) | FD_RC(BMS_E_HEADER) |
	       FD_RC(BMS_E_RANGE) | FD_RC(BMS_E_AUTH),
	.step = FD_STEP_NEXT,
	.unexpected_keeps_snap = true,
	.handled = sk_handled,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(saftkiste.drv));
	return fd_run(&saftkiste, data, size);
}
