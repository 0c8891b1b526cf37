/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_superb.c - libFuzzer target: whole polls of the
 * listen-only Super-B Epsilon (v1) Bluetooth LE driver (20-byte frames the
 * BMS pushes, no checksum), driven the way gateway/poll/poller.c drives a
 * listen_only driver (no requests; a poll waits for a frame until
 * handle() says BMS_OK, then finish()); harness: fuzz_drive.h.
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address), then
 * events, by their first byte E:
 *	E == 0		a timeout of the wait
 *	E == 0xFF	a synthesised frame that passes the framer: the next
 *			bytes give its status, SOC (mod 101), SOH (mod 101) and
 *			a current of s16 / 16 A and a voltage of u16 / 256 V
 *			(0 taken as 12.8 V); bit 0 of the status byte's
 *			companion K: it arrives one byte a read, else whole
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

/* What the framer hands on: 20 bytes whose values are measurements. */
static void sb_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n == 20 && f[2] <= 100 && f[3] <= 100);
	float a = sb_f(f + 8), v = sb_f(f + 12);
	REQUIRE(isfinite(a) && fabsf(a) <= 3000.0f && isnormal(v) && v > 0.0f && v <= 100.0f);
}

static void sb_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(sn->ncells == 0 && sn->ntemps == 0);
	if (sn->present & BMS_HAS_VOLTAGE)
		REQUIRE(isnormal(sn->voltage) && sn->voltage > 0.0f && sn->voltage <= 100.0f);
	if (sn->present & BMS_HAS_CURRENT)
		REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 3000.0f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100 && sn->soh >= 0 && sn->soh <= 100);
	if (sn->present & BMS_HAS_ALARMS) {
		REQUIRE(sn->nraw == 1 && sn->raw_alarms[0] <= 0xFF);
		REQUIRE((sn->alarms == 0) == ((sn->raw_alarms[0] & 1) != 0));
		REQUIRE(sn->balancing == ((sn->raw_alarms[0] & 0x80) != 0));
	}
}

static size_t sb_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	uint8_t in[8] = { 0 }, f[20];
	size_t used = 0;
	if (e != 0xFF)
		return FD_NOT_MINE;
	while (used < sizeof(in) && used < avail) {
		in[used] = p[used];
		used++;
	}
	memset(f, 0, sizeof(f));
	f[1] = in[0];
	f[2] = (uint8_t)(in[2] % 101);
	f[3] = (uint8_t)(in[3] % 101);
	sb_put(f + 8, (float)(int16_t)(in[4] << 8 | in[5]) / 16.0f);
	unsigned v = (unsigned)(in[6] << 8 | in[7]);
	sb_put(f + 12, (float)(v ? v : 3277u) / 256.0f);
	if (in[1] & 1)
		for (size_t i = 0; i < sizeof(f); i++)
			fd_bytes(s, f + i, 1);
	else
		fd_bytes(s, f, sizeof(f));
	return used;
}

static const struct fd_target superb = {
	.drv = &bms_superb_driver,
	.event = sb_event,
	.max_cells = 0,
	.max_temps = 0,
	.max_raw = 1,
	.max_state = 0,
	.never = BMS_HAS_POWER | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP | BMS_HAS_REMAIN | BMS_HAS_FULL |
		 BMS_HAS_CYCLES | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS |
		 BMS_HAS_VOLT_LIMITS | BMS_HAS_BALANCER | BMS_HAS_CELL_RES,
	.snap = sb_snap,
	.frame = sb_frame,
	/* scan() checked every value: only a second frame after the poll's */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED),
	.step = FD_STEP_ANY,
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_ALARMS | BMS_HAS_BALANCING,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(superb.drv->ble_only && superb.drv->listen_only && !superb.drv->probe &&
		superb.drv->next_request == NULL && superb.drv->ble_gatt[0].write == NULL);
	return fd_run(&superb, data, size);
}
