/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_pro_bms.c - libFuzzer target: whole polls of the Pro
 * BMS smart shunt's Bluetooth LE driver (its handshake, then its stream),
 * driven the way gateway/poll/poller.c drives it (requests, listening
 * steps, retries, timeouts, reconnections); harness: fuzz_drive.h.  Beyond
 * the generic target: every request is one of the four handshake commands,
 * a frame the framer reports has its XOR right, and frames with the XOR
 * forged reach the decoder.
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address), then
 * events, by their first byte E:
 *	E == 0		a timeout of the current step (or wait)
 *	E == 0xFE	a reconnection
 *	E == 0xFF	a synthesised answer, its XOR right: the next byte K
 *			picks it (K & 3: 0 INIT's answer, 1 another type 0x03
 *			frame, 2 and 3 a stream frame whose bytes 8..47 come
 *			from the input, zero-padded; K & 4 a length byte one
 *			short); it arrives as 20-byte notifications
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>
#include <stdio.h>

#include "fuzz_drive.h"

static const char *const pb_requests[] = {
	"55aa0a0101558004077f648e682b",
	"55aa070101558040000095",
	"55aa070101558042000097",
	"55aa0901015580430000120084",
};

static void pb_request(const struct fd *s, const uint8_t *req, int n)
{
	char hex[64];
	(void)s;
	REQUIRE(n > 0 && n <= 16);
	for (int i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", req[i]);
	bool known = false;
	for (size_t i = 0; i < sizeof(pb_requests) / sizeof(pb_requests[0]); i++)
		known = known || strcmp(hex, pb_requests[i]) == 0;
	REQUIRE(known);
}

static void pb_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 8 && f[0] == 0x55 && f[1] == 0xAA && n == (size_t)f[2] + 5u);
	uint8_t x = 0;
	for (size_t i = 3; i < n - 2; i++)
		x ^= f[i];
	REQUIRE(x == f[n - 2]);
}

static void pb_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(sn->ncells == 0);
	if (sn->present & BMS_HAS_VOLTAGE)
		REQUIRE(sn->voltage > 0.0f && sn->voltage <= 655.35f);
	REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 65.535f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_TEMPS)
		REQUIRE(sn->ntemps == 1 && fabsf(sn->temp_c[0]) <= 6553.5f);
	if (sn->present & BMS_HAS_ALARMS)
		REQUIRE(sn->nraw == 1 && sn->raw_alarms[0] <= 0x7F && (sn->alarms == 0) == (sn->raw_alarms[0] == 0));
	if (sn->present & BMS_HAS_POWER)
		REQUIRE(isfinite(sn->power) && (sn->power == 0 || sn->current == 0 || (sn->power < 0) == (sn->current < 0)));
}

static size_t pb_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	size_t used = fd_ble_event(s, e, avail);
	if (used != FD_SYNTH)
		return used;
	used = 0;
	uint8_t k = p[used++];
	uint8_t f[64] = { 0x55, 0xAA, 0x08, 0x03, 0x80, 0xAA, 0x01, 0x04 };
	size_t n = 13;
	if ((k & 3) == 1)
		f[7] = 0x40;
	if ((k & 3) >= 2) {
		f[2] = 0x2D;
		f[3] = 0x04;
		f[7] = 0x70;
		n = 50;
		for (size_t i = 8; i < 48 && used < avail; i++)
			f[i] = p[used++];
	}
	if (k & 4) {
		f[2]--; /* a length byte one short: the frame ends a byte earlier */
		n--;
	}
	uint8_t x = 0;
	for (size_t i = 3; i < n - 2; i++)
		x ^= f[i];
	f[n - 2] = x;
	for (size_t off = 0; off < n; off += 20)
		fd_bytes(s, f + off, n - off < 20 ? n - off : 20);
	return used;
}

static const struct fd_target pro_bms = {
	.drv = &bms_pro_bms_driver,
	.persist_bit = true,
	.event = pb_event,
	.request = pb_request,
	.max_cells = 0,
	.max_temps = 1,
	.max_raw = 1,
	.max_state = 0,
	.never = BMS_HAS_CELLS | BMS_HAS_SOH | BMS_HAS_MOS_TEMP | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_MOSFETS |
		 BMS_HAS_BALANCE | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	.snap = pb_snap,
	.frame = pb_frame,
	/* the XOR and the length checked by scan(): values can be refused, a
	 * stream frame of another length, a frame the step does not take */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE) | FD_RC(BMS_E_SHORT),
	.step = FD_STEP_ON,
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_TEMPS |
		  BMS_HAS_ALARMS,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(pro_bms.drv) && !pro_bms.drv->listen_only && !pro_bms.drv->probe &&
		pro_bms.drv->listens != NULL);
	return fd_run(&pro_bms, data, size);
}
