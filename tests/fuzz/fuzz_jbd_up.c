/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_jbd_up.c - libFuzzer target: whole polls of the JBD
 * UP16S / Eco-Worthy rack driver (FC 0x78: the 0x1000 status, the 0x1C00
 * identity and balancing, the 0x1800 protection parameters when the
 * settings are due), driven the way gateway/poll/poller.c drives it
 * (harness: fuzz_drive.h).
 *
 * Input: the usual configuration bytes of fuzz_drive.h (an address byte
 * & 0x1F), then events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFF	a synthesised answer with a correct CRC to the
 *			outstanding request (its address, FC, start and end),
 *			the next byte the data length, the data from the input
 *			(zero-padded)
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>
#include <string.h>

#include "fuzz_drive.h"

static bool up_addr_ok(uint8_t a)
{
	return a >= 1 && a <= 15;
}

static void up_request(const struct fd *s, const uint8_t *req, int n)
{
	REQUIRE(n == 10 && req[0] == s->address && req[1] == 0x78 && req[6] == 0 && req[7] == 0);
	REQUIRE(fd_crc16(req, 8) == (uint16_t)(req[8] | req[9] << 8));
	/* reads of the status, the identity and (when due) the protection
	 * parameters only: never FC 0x79 */
	bool status = req[2] == 0x10 && req[3] == 0x00 && req[4] == 0x10 && req[5] == 0xA0;
	bool ident = req[2] == 0x1C && req[3] == 0x00 && req[4] == 0x1C && req[5] == 0xA0;
	bool prot = req[2] == 0x18 && req[3] == 0x00 && req[4] == 0x19 && req[5] == 0x00 && s->poll.settings_due;
	REQUIRE(status || ident || prot);
}

/* The settings shown are only keys the driver announces; the protections
 * (0x1800) only when due (0x1C00's balancing comes with the identity);
 * each inside its field's range. */
static void up_handled(const struct fd *s, int rc, size_t n)
{
	(void)rc;
	(void)n;
	const struct bms_settings *st = &s->poll.kept.settings;
	const uint64_t bal = BMS_SET_BIT(BMS_SET_BALANCE_START_V) | BMS_SET_BIT(BMS_SET_BALANCE_DELTA_V);
	REQUIRE((st->have & ~s->drv->settings) == 0);
	REQUIRE(s->settings_due || (st->have & ~bal) == 0);
	for (unsigned k = 0; k < BMS_SET_COUNT; k++) {
		if (!bms_settings_has(st, (enum bms_set_key)k))
			continue;
		const char *u = bms_settings_unit((enum bms_set_key)k);
		if (strcmp(u, "°C") == 0)
			REQUIRE(st->v[k] >= -40.0f && st->v[k] <= 120.0f);
		else if (strcmp(u, "s") == 0)
			REQUIRE(st->v[k] >= 0.0f && st->v[k] <= 60.0f);
		else
			REQUIRE(st->v[k] > 0.0f && st->v[k] <= 6553.5f);
	}
}

static void up_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n > 10 && n == (size_t)(f[6] << 8 | f[7]) + 10 && n <= 522);
	REQUIRE(f[0] >= 1 && f[0] <= 15 && (f[1] == 0x78 || f[1] == 0x45));
	REQUIRE(fd_crc16(f, n - 2) == (uint16_t)(f[n - 2] | f[n - 1] << 8));
}

static void up_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && isfinite(sn->current) && isfinite(sn->soc));
	REQUIRE(sn->voltage >= 0 && sn->voltage <= 655.35f);
	REQUIRE(fabsf(sn->current) <= 42950000.0f);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(sn->temp_c[i] >= -50.0f && sn->temp_c[i] <= 6503.5f);
	REQUIRE(sn->state <= 2);
	REQUIRE((sn->balance >> 16) == 0);
}

static size_t up_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	static uint8_t f[270];
	size_t used = 0;
	if (e != 0xFF)
		return FD_NOT_MINE;
	if (avail == 0)
		return 0;
	size_t dlen = p[used++];
	memset(f, 0, sizeof(f));
	if (s->req_len == 10) {
		memcpy(f, s->req, 6);
	} else {
		static const uint8_t status[6] = { 0, 0x78, 0x10, 0x00, 0x10, 0xA0 };
		memcpy(f, status, 6);
		f[0] = s->address;
	}
	f[6] = 0;
	f[7] = (uint8_t)dlen;
	for (size_t i = 0; i < dlen && used < avail; i++)
		f[8 + i] = p[used++];
	uint16_t crc = fd_crc16(f, 8 + dlen);
	f[8 + dlen] = (uint8_t)crc;
	f[9 + dlen] = (uint8_t)(crc >> 8);
	fd_bytes(s, f, dlen + 10);
	return used;
}

static const struct fd_target jbd_up = {
	.drv = &bms_jbd_up_driver,
	.addr_mask = 0x1f,
	.event = up_event,
	.addr_ok = up_addr_ok,
	.request = up_request,
	.max_cells = 32,
	.max_temps = BMS_MAX_TEMPS,
	.max_raw = 4,
	.max_state = 2,
	.never = BMS_HAS_POWER | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_BALANCING | BMS_HAS_BALANCER |
		 BMS_HAS_CELL_RES,
	.snap = up_snap,
	.frame = up_frame,
	.handled = up_handled,
	/* a whole checked frame: the answer (or short, a count out of range),
	 * or another pack's / block's / function's */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_SHORT) | FD_RC(BMS_E_RANGE),
	.step = FD_STEP_NEXT,
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_TEMPS,
	.ok_volts = true,
	.forced_at_most = true, /* `cells = N`: at most N of the cells the BMS sends */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(!bms_ble_only(jbd_up.drv) && jbd_up.drv->probe);
	return fd_run(&jbd_up, data, size);
}
