/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_dometic.c - libFuzzer target: whole polls of the Dometic
 * Büttner Bluetooth LE driver (bms/dometic.c: a link of channels, the
 * greeting, APP+AEN with its secret, a stream of several batteries),
 * driven the way gateway/poll/poller.c drives it (harness: fuzz_drive.h,
 * sent() and what is kept across steps too).  Beyond a generic target:
 * every request is records (bms/base/gattrec.c) for the writers alone
 * (channels 0, 2, 4), each one of the protocol's writes: APP+AEN (with
 * the pin `=<pin>`, then marked a secret), APP+NET, APP+RDN=1, the
 * greeting's echo, the keep-alive answer FF or DF; a frame scan() reports
 * is one whole record.
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address; over
 * Bluetooth LE always), a byte whose bits 0..1 pick the pin (none, h0tel,
 * 1, sixteen characters), bit 2 address_any, bits 3..7 the battery (XOR
 * 0x0F), then events by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFE	a reconnection (the next poll's link_fresh)
 *	E == 0xFF	a record: the next byte K, channel K % 5, its length
 *			(K >> 3) % 13, its data from the input (zero-padded)
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>

#include "fuzz_drive.h"

static const char *const pins[4] = { NULL, "h0tel", "1", "0123456789abcdef" };

static size_t dm_config(struct fd *s, const uint8_t *d, size_t size)
{
	size_t k = fd_config(s, d, size);
	if (k == 0 || k >= size)
		return 0;
	s->link = BMS_LINK_BLE;
	s->fresh = true;
	s->cells_forced = 0; /* four cells, always (no forced count is applied) */
	s->pin = pins[d[k] & 3];
	s->address_any = (d[k] & 4) != 0;
	s->address = (uint8_t)((d[k] >> 3) ^ 0x0F);
	return k + 1;
}

static size_t dm_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	if (e == 0xFE) {
		s->fresh = true;
		return 0;
	}
	if (e != 0xFF)
		return FD_NOT_MINE;
	if (avail == 0)
		return 0;
	uint8_t k = p[0], d[12] = { 0 }, rec[BMS_CHR_HDR + 12];
	size_t len = (size_t)(k >> 3) % 13, used = avail - 1 < len ? avail - 1 : len;
	memcpy(d, p + 1, used);
	size_t n = bms_chr_record(rec, sizeof(rec), (uint8_t)(k % 5), d, len);
	REQUIRE(n == BMS_CHR_HDR + len);
	fd_bytes(s, rec, n);
	return 1 + used;
}

/* One record of a request: a writer's, one of the protocol's writes. */
static void dm_write(const struct fd *s, uint8_t k, const uint8_t *d, size_t n, bool *secret)
{
	char aen[8 + BMS_PIN_MAX + 1];
	if (k == 2) { /* the greeting echoed */
		REQUIRE(n >= 1 && n <= 8);
		return;
	}
	if (k == 4) {
		REQUIRE(n == 1 && (d[0] == 0xFF || d[0] == 0xDF));
		return;
	}
	REQUIRE(k == 0);
	snprintf(aen, sizeof(aen), "APP+AEN%s%s", s->pin ? "=" : "", s->pin ? s->pin : "");
	if (n == strlen(aen) && memcmp(d, aen, n) == 0) {
		*secret = s->pin != NULL;
		return;
	}
	REQUIRE((n == 7 && memcmp(d, "APP+NET", 7) == 0) || (n == 9 && memcmp(d, "APP+RDN=1", 9) == 0));
}

static void dm_request(const struct fd *s, const uint8_t *req, int n)
{
	size_t off = 0;
	bool secret = false;
	int recs = 0;
	while (off < (size_t)n) {
		uint8_t k;
		const uint8_t *d;
		size_t dn, used;
		REQUIRE(bms_chr_next(req + off, (size_t)n - off, &k, &d, &dn, &used));
		dm_write(s, k, d, dn, &secret);
		off += used;
		recs++;
	}
	REQUIRE(recs >= 1 && recs <= 2 && s->poll.secret_req == secret);
}

static void dm_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= BMS_CHR_HDR && f[0] == BMS_CHR_MAGIC0 && f[1] == BMS_CHR_MAGIC1 && n == BMS_CHR_HDR + f[3]);
}

static void dm_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && sn->voltage >= 0 && sn->voltage <= 655.35f);
	REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 327.68f);
	REQUIRE(sn->soc >= 0 && sn->soc <= 100 && sn->soh >= 0 && sn->soh <= 100);
	REQUIRE(sn->ncells == 0 || sn->ncells == 4);
	for (int i = 0; i < sn->ntemps; i++)
		REQUIRE(sn->temp_c[i] >= -50.0f && sn->temp_c[i] <= 6503.5f);
}

static const struct fd_target dometic = {
	.drv = &bms_dometic_driver,
	.config = dm_config,
	.event = dm_event,
	.request = dm_request,
	.no_echo = true,
	.max_cells = 4,
	.max_temps = 1,
	.max_raw = 0,
	.never = BMS_HAS_CYCLES | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS |
		 BMS_HAS_VOLT_LIMITS | BMS_HAS_ALARMS,
	.snap = dm_snap,
	.frame = dm_frame,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_MORE) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_SHORT) |
	       FD_RC(BMS_E_HEADER) | FD_RC(BMS_E_RANGE),
	.step = FD_STEP_ANY, /* a greeting moves the step on before it is whole */
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_TEMPS,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(dometic.drv) && dometic.drv->keep_rx && dometic.drv->sent);
	return fd_run(&dometic, data, size);
}
