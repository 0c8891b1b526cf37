/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_superb.c - libFuzzer target: whole polls of the Super-B
 * Epsilon Bluetooth LE driver, both of its GATT layouts, driven the way
 * gateway/poll/poller.c drives it; harness: fuzz_drive.h.  v1 (layout 0):
 * 20-byte frames the BMS pushes, no checksum, a step that listens (nothing
 * written).  v2 (layout 1): the read 21 54 00, then 24-byte frames of type
 * 0x00 (SOC, SOH, cycles) and 0x02 (current, voltage), no checksum; a poll
 * is whole with one of each.
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address); bit 7
 * of the second one: the v2 layout (poll.ble_layout = 1).  Then events, by
 * their first byte E:
 *	E == 0		a timeout of the wait
 *	E == 0xFF	a synthesised frame that passes the framer from the next
 *			8 bytes in[]: v1: status in[0], SOC in[2] mod 101, SOH
 *			in[3] mod 101, a current of s16 / 16 A (in[4..5]) and a
 *			voltage of u16 / 256 V (in[6..7], 0 taken as 12.8 V);
 *			v2: bit 1 of in[1] picks type 0x02 (current s16 * 64 mA
 *			from in[4..5], voltage in[6..7] mV, 0 taken as 13.2 V)
 *			or 0x00 (SOC in[2] mod 101, SOH in[3] mod 101, cycles
 *			in[0]); bit 0 of in[1]: it arrives one byte a read,
 *			else whole
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>
#include <stdio.h>

#include "fuzz_drive.h"

static float sb_f(const uint8_t *p)
{
	uint32_t u = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	float f;
	memcpy(&f, &u, sizeof(f));
	return f;
}

static void sb_put(uint8_t *p, float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof(u));
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(u >> (24 - 8 * i));
}

static void be32(uint8_t *p, uint32_t u)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(u >> (24 - 8 * i));
}

static bool v2(const struct fd *s)
{
	return s->ble_layout == 1;
}

/* The usual bytes; bit 7 of the second: the v2 layout. */
static size_t sb_config(struct fd *s, const uint8_t *data, size_t size)
{
	size_t k = fd_config(s, data, size);
	if (k)
		s->ble_layout = (data[k - 1] & 0x80) ? 1 : 0;
	return k;
}

/* What the framer hands on: v1 20 bytes whose values are measurements, v2
 * 24 bytes of type 0x00 or 0x02 with possible values. */
static void sb_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	if (v2(s)) {
		REQUIRE(n == 24 && (f[0] == 0x00 || f[0] == 0x02));
		if (f[0] == 0x00)
			REQUIRE(f[1] <= 100 && f[19] <= 100);
		else
			REQUIRE(labs((long)(int32_t)((uint32_t)f[6] << 24 | (uint32_t)f[7] << 16 |
						     (uint32_t)f[8] << 8 | f[9])) <= 3000000L &&
				(f[10] | f[11]) != 0);
		return;
	}
	REQUIRE(n == 20 && f[2] <= 100 && f[3] <= 100);
	float a = sb_f(f + 8), v = sb_f(f + 12);
	REQUIRE(isfinite(a) && fabsf(a) <= 3000.0f && isnormal(v) && v > 0.0f && v <= 100.0f);
}

static void sb_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	REQUIRE(sn->ncells == 0 && sn->ntemps == 0);
	if (sn->present & BMS_HAS_VOLTAGE)
		REQUIRE(isnormal(sn->voltage) && sn->voltage > 0.0f && sn->voltage <= 100.0f);
	if (sn->present & BMS_HAS_CURRENT)
		REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 3000.0f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100 && sn->soh >= 0 && sn->soh <= 100);
	if (sn->present & BMS_HAS_ALARMS) {
		REQUIRE(!v2(s)); /* v2 carries no status byte */
		REQUIRE(sn->nraw == 1 && sn->raw_alarms[0] <= 0xFF);
		REQUIRE((sn->alarms == 0) == ((sn->raw_alarms[0] & 1) != 0));
		REQUIRE(sn->balancing == ((sn->raw_alarms[0] & 0x80) != 0));
	}
	if (sn->present & BMS_HAS_CYCLES)
		REQUIRE(v2(s) && sn->cycles <= 0xFF);
}

/* The one request: v2's read 21 54 00 (v1 is never written to). */
static void sb_request(const struct fd *s, const uint8_t *req, int n)
{
	REQUIRE(v2(s) && n == 3 && req[0] == 0x21 && req[1] == 0x54 && req[2] == 0x00);
}

/* A whole poll: v1 with its status byte, v2 with its cycles. */
static void sb_ok(const struct fd *s, const struct bms_snapshot *sn)
{
	uint32_t own = v2(s) ? BMS_HAS_CYCLES : BMS_HAS_ALARMS | BMS_HAS_BALANCING;
	REQUIRE((sn->present & own) == own);
}

static void sb_frame1(const uint8_t *in, uint8_t *f)
{
	memset(f, 0, 20);
	f[1] = in[0];
	f[2] = (uint8_t)(in[2] % 101);
	f[3] = (uint8_t)(in[3] % 101);
	sb_put(f + 8, (float)(int16_t)(in[4] << 8 | in[5]) / 16.0f);
	unsigned v = (unsigned)(in[6] << 8 | in[7]);
	sb_put(f + 12, (float)(v ? v : 3277u) / 256.0f);
}

static void sb_frame2(const uint8_t *in, uint8_t *f)
{
	memset(f, 0, 24);
	if (in[1] & 2) {
		f[0] = 0x02;
		be32(f + 6, (uint32_t)((int32_t)(int16_t)(in[4] << 8 | in[5]) * 64));
		unsigned mv = (unsigned)(in[6] << 8 | in[7]);
		mv = mv ? mv : 13200u;
		f[10] = (uint8_t)(mv >> 8);
		f[11] = (uint8_t)mv;
	} else {
		f[0] = 0x00;
		f[1] = (uint8_t)(in[2] % 101);
		f[18] = in[0];
		f[19] = (uint8_t)(in[3] % 101);
	}
}

static size_t sb_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	uint8_t in[8] = { 0 }, f[24];
	size_t used = 0, n = v2(s) ? 24 : 20;
	if (e != 0xFF)
		return FD_NOT_MINE;
	while (used < sizeof(in) && used < avail) {
		in[used] = p[used];
		used++;
	}
	if (v2(s))
		sb_frame2(in, f);
	else
		sb_frame1(in, f);
	if (in[1] & 1)
		for (size_t i = 0; i < n; i++)
			fd_bytes(s, f + i, 1);
	else
		fd_bytes(s, f, n);
	return used;
}

static const struct fd_target superb = {
	.drv = &bms_superb_driver,
	.config = sb_config,
	.event = sb_event,
	.request = sb_request,
	.max_cells = 0,
	.max_temps = 0,
	.max_raw = 1,
	.max_state = 0,
	.never = BMS_HAS_POWER | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP | BMS_HAS_REMAIN | BMS_HAS_FULL |
		 BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS |
		 BMS_HAS_BALANCER | BMS_HAS_CELL_RES,
	.snap = sb_snap,
	.frame = sb_frame,
	/* scan() checked every value: a frame of the poll (v2: the first of
	 * its two, BMS_MORE), or one after the poll's */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_MORE) | FD_RC(BMS_E_UNEXPECTED),
	.step = FD_STEP_ANY,
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH,
	.ok_volts = true,
	.ok = sb_ok,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(superb.drv) && !superb.drv->listen_only && !superb.drv->probe &&
		superb.drv->listens && superb.drv->next_request && superb.drv->ble->gatt[0].write == NULL &&
		superb.drv->ble->gatt[1].notify2 != NULL);
	return fd_run(&superb, data, size);
}
