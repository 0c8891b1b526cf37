/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_lux_can.c - the lux-can codec: Luxpower's "Battery CAN
 * BUS Protocol" V04 (2023-09-05), what LuxPower SNA / LXP and EG4 12000XP /
 * 18kPV inverters read on "Lithium brand 6" (../PROTOCOLS.md §1a).  The
 * Pylontech frames, DLC 8 throughout, with four fields of its own:
 *
 *	0x351 CVL, CCL, DCL, discharge cut voltage
 *	0x355 SOC (rounded down), SOH, highest cell mV, lowest cell mV
 *	0x356 voltage, current, highest and lowest temperature (0.1 degC)
 *	0x359 protections, alarms (Pylontech's bits), modules, capacity (Ah)
 *	0x35C request flags, -, cycle count
 *	0x35E manufacturer
 *
 * The inverter answers 0x305 (all 0) and may send 0x300 byte 0 bit 0
 * "shutdown battery": counted, logged and shown, never obeyed (a battery
 * cuts itself off only by its own BMS's protection).  No extras by
 * default. */
#include <string.h>

#include "../canframes.h"
#include "../invscale.h"

static bool lx_355(const struct inv_battery *b, struct gw_can_frame *f)
{
	bool mm = (b->present & INV_HAS_CELL_MINMAX) != 0;

	inv_cf_put355(b, f, 8);
	inv_cf_put16(f->data + 4, mm ? b->cell_max_mv : 0);
	inv_cf_put16(f->data + 6, mm ? b->cell_min_mv : 0);
	return true;
}

/* 0x356: bytes 4-5 the hottest and 6-7 the coldest sensor (0.1 degC); no
 * extremes: the average for both; no temperature: 0. */
static bool lx_356(const struct inv_battery *b, struct gw_can_frame *f)
{
	float hi, lo;

	inv_cf_temp_extremes(b, &hi, &lo);
	inv_cf_put356(b, f, 8, 100, false);
	inv_cf_put16(f->data + 4, inv_scale(hi, 10, INV_NEAR, -0x7FFF, 0x7FFF));
	inv_cf_put16(f->data + 6, inv_scale(lo, 10, INV_NEAR, -0x7FFF, 0x7FFF));
	return true;
}

/* 0x359: byte 4 modules, bytes 5-6 capacity in Ah (where Pylontech has
 * "PN", which a Luxpower reads as 20048 Ah). */
static bool lx_359(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_begin(f, 0x359, 8);
	inv_cf_alarm_bytes(b, f->data);
	f->data[4] = (uint8_t)(b->packs == 0 ? 1 : (b->packs > 255 ? 255 : b->packs));
	inv_cf_put16(f->data + 5, inv_has(b, INV_HAS_FULL, b->full_ah) ?
		     inv_scale(b->full_ah, 1, INV_NEAR, 0, 0xFFFF) : 0);
	return true;
}

/* 0x35C: request flags, bytes 2-3 the cycle count. */
static bool lx_35c(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_put35c(b, f, 8);
	inv_cf_put16(f->data + 2, (b->present & INV_HAS_CYCLES) ? (long)(b->cycles > 0xFFFF ? 0xFFFF : b->cycles) : 0);
	return true;
}

/* 0x351 and 0x35E are Pylontech's, already DLC 8. */
static const struct inv_can_frame_fn lx_frames[] = {
	{ 0x351, inv_cf_351 }, { 0x355, lx_355 }, { 0x356, lx_356 },
	{ 0x359, lx_359 },     { 0x35C, lx_35c }, { 0x35E, inv_cf_35e },
};

/* 0x305 (alive) and 0x300, the remote command: byte 0 bit 0 shutdown. */
static enum inv_rx lx_heard(const struct gw_can_frame *f, struct inv_heard *h)
{
	if (f->rtr || f->ext || f->dlc > GW_CAN_MAX_DLC || f->id != 0x300)
		return inv_cf_heard_pylon(f, h);
	h->frames++;
	if (f->dlc < 1)
		return INV_RX_BAD;
	if (!(f->data[0] & 0x01))
		return INV_RX_ALIVE;
	h->shutdowns++;
	return INV_RX_SHUTDOWN;
}

const struct inv_codec inv_codec_lux_can = {
	.name = "lux-can",
	.can = {
		.frames = lx_frames,
		.nframes = sizeof(lx_frames) / sizeof(lx_frames[0]),
		.heard = lx_heard,
		.limits = inv_cf_encoded,
	},
};
