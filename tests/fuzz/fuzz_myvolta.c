/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_myvolta.c - libFuzzer target: whole polls of the
 * listen-only Volta Power Systems (myVolta) Bluetooth LE driver (its
 * DLE-framed stream), driven the way gateway/poll/poller.c drives a
 * listen_only driver (no requests; a poll waits for messages until
 * handle() says BMS_OK, then finish()); harness: fuzz_drive.h.  Beyond
 * the generic target: every frame the framer reports is 55 55 ... 04 04
 * of at most 36 bytes and unstuffs to exactly 16 bytes, a data message
 * with its checksum right (checked here by an unstuffing of its own); and
 * the values a sample may have.
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address), then
 * events, by their first byte E:
 *	E == 0		a timeout of the wait
 *	E == 0xFE	a reconnection
 *	E == 0xFF	a synthesised message from the next bytes: K picks the
 *			type (one of those a sample takes, or K itself when
 *			K & 0x80), then 8 data bytes; stuffed, its checksum
 *			right, it arrives as 20-byte notifications
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>
#include <stdio.h>

#include "fuzz_drive.h"

/* f[0..n) unstuffed by this target's own reading of §68.2 into m (room
 * for 32): the byte count, or -1 where the rules are broken. */
static int mv_unstuff(const uint8_t *f, size_t n, uint8_t *m)
{
	int u = 0;
	for (size_t i = 2; i + 2 < n; i++) {
		uint8_t b = f[i];
		if (b == 0x05 || b == 0x04) {
			if (i + 3 >= n)
				return -1;
			uint8_t x = f[++i];
			if (!(x == 0x05 || x == 0x55 || (b == 0x05 && x == 0x04)))
				return -1;
			b = x;
		}
		if (u == 32)
			return -1;
		m[u++] = b;
	}
	return u;
}

static void mv_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	uint8_t m[32];
	(void)s;
	REQUIRE(n >= 20 && n <= 36 && f[0] == 0x55 && f[1] == 0x55 && f[n - 2] == 0x04 && f[n - 1] == 0x04);
	REQUIRE(mv_unstuff(f, n, m) == 16);
	REQUIRE(m[0] == 0x01 && m[2] == 0x02 && m[6] == 0x08);
	unsigned sum = 0;
	for (int i = 1; i < 15; i++)
		sum += m[i];
	REQUIRE((uint8_t)(0xFF ^ sum) == m[15]);
}

static void mv_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	if (sn->present & BMS_HAS_VOLTAGE)
		REQUIRE(sn->voltage > 0.0f && sn->voltage <= 65.535f);
	REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 327.68f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	/* sensors 1..8 up to the last there; one with no sensor absent (NaN) */
	if (sn->present & BMS_HAS_TEMPS)
		REQUIRE(sn->ntemps >= 1 && sn->ntemps <= BMS_MAX_TEMPS && isfinite(sn->temp_c[sn->ntemps - 1]));
	else
		REQUIRE(sn->ntemps == 0);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(isnan(sn->temp_c[i]) ||
			(fabsf(sn->temp_c[i]) <= 3276.8f && sn->temp_c[i] != -3276.8f && sn->temp_c[i] != -54.8f));
	if (sn->present & BMS_HAS_ALARMS)
		REQUIRE(sn->nraw == 2 && sn->alarms == 0 && sn->raw_alarms[1] <= 0xFF);
	if (sn->present & BMS_HAS_CELLS)
		for (unsigned i = 0; i < sn->ncells; i++)
			REQUIRE(s->cells_forced || sn->cell_mv[i] != 0);
}

static size_t mv_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	static const uint8_t types[] = { 0x00, 0x01, 0x11, 0x12, 0x13, 0x14, 0x24, 0x25, 0x26, 0x21 };
	size_t used = fd_ble_event(s, e, avail);
	if (used != FD_SYNTH)
		return used;
	used = 0;
	uint8_t k = p[used++];
	uint8_t body[16] = { 0x01, k & 0x80 ? k : types[k % sizeof(types)], 0x02, 0, 0, 0, 0x08 };
	for (int i = 7; i < 15 && used < avail; i++)
		body[i] = p[used++];
	unsigned sum = 0;
	for (int i = 1; i < 15; i++)
		sum += body[i];
	body[15] = (uint8_t)(0xFF ^ sum);
	uint8_t out[40];
	size_t n = 0;
	out[n++] = 0x55;
	out[n++] = 0x55;
	for (int i = 0; i < 16; i++) {
		if (body[i] == 0x05 || body[i] == 0x55 || body[i] == 0x04)
			out[n++] = 0x05;
		out[n++] = body[i];
	}
	out[n++] = 0x04;
	out[n++] = 0x04;
	for (size_t off = 0; off < n; off += 20)
		fd_bytes(s, out + off, n - off < 20 ? n - off : 20);
	return used;
}

static const struct fd_target myvolta = {
	.drv = &bms_myvolta_driver,
	.event = mv_event,
	.max_cells = 16,
	.max_temps = BMS_MAX_TEMPS,
	.max_raw = 2,
	.max_state = 0,
	.never = BMS_HAS_SOH | BMS_HAS_MOS_TEMP | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_MOSFETS |
		 BMS_HAS_BALANCE | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS | BMS_HAS_REMAIN,
	.snap = mv_snap,
	.frame = mv_frame,
	/* scan() took only data messages with their checksum right: values can
	 * be refused, a sample without cells, and a message after the sample */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_MORE) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE) |
	       FD_RC(BMS_E_INVALID),
	.step = FD_STEP_ANY,
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_ALARMS,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(myvolta.drv) && myvolta.drv->listen_only && !myvolta.drv->probe &&
		myvolta.drv->next_request == NULL);
	return fd_run(&myvolta, data, size);
}
