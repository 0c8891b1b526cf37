/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_deye_can.c - the deye-can codec: Deye's "PCS-CANBUS
 * Protocol" V3.3 (2024-05-25), what a Deye or Sunsynk inverter reads from
 * Deye's own LV batteries (../PROTOCOLS.md §1d).  Not the older "DEYE CANBUS
 * Protocol" V1.2, which is Pylontech's and is pylon-can.  Little endian,
 * DLC 8 throughout:
 *
 *	0x351 CVL, CCL and DCL off grid, DVL   (Pylontech's fields)
 *	0x355 SOC (rounded down), SOH
 *	0x356 voltage 0.01 V, current 0.1 A **+ = discharging** (since
 *	      V2.5), average temperature
 *	0x359 Deye's own: protections bytes 0-1, faults byte 3, alarms 4-5
 *	0x35C request flags (Pylontech's bits)
 *	0x35E "DY", packs (3 digits), cell maker 0 (unknown), capacity 0.1 Ah
 *	0x361 highest and lowest cell (mV), hottest and coldest (0.1 degC),
 *	      left out without the cells
 *	0x364 packs normal, blocking charge, blocking discharge, lost, in
 *	      parallel
 *	0x371 CCL and DCL on grid: the same limits as 0x351's
 *
 * The inverter answers 0x305 with its time every second.  No extras. */

#include "../canframes.h"
#include "../invscale.h"

static bool dy_355(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_put355(b, f, 8);
	return true;
}

static bool dy_356(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_put356(b, f, 8, 100, true);
	return true;
}

/* Bytes 0 and 4 (protection, alarm): cell OV, cell UV, module OV, module
 * UV, charge OC, discharge OC, charge OT, charge UT. */
static uint8_t dy_level0(uint32_t a)
{
	return (uint8_t)(((a & BMS_AL_CELL_OV) ? 0x01 : 0) | ((a & BMS_AL_CELL_UV) ? 0x02 : 0) |
			 ((a & BMS_AL_PACK_OV) ? 0x04 : 0) | ((a & BMS_AL_PACK_UV) ? 0x08 : 0) |
			 ((a & BMS_AL_CHG_OC) ? 0x10 : 0) | ((a & (BMS_AL_DSG_OC | BMS_AL_SHORT)) ? 0x20 : 0) |
			 ((a & BMS_AL_CHG_OT) ? 0x40 : 0) | ((a & BMS_AL_CHG_UT) ? 0x80 : 0));
}

/* Bytes 1 and 5: discharge OT, discharge UT, cell delta V, delta T, MOS OT. */
static uint8_t dy_level1(uint32_t a)
{
	return (uint8_t)(((a & BMS_AL_DSG_OT) ? 0x01 : 0) | ((a & BMS_AL_DSG_UT) ? 0x02 : 0) |
			 ((a & BMS_AL_CELL_DIFF) ? 0x04 : 0) | ((a & BMS_AL_TEMP_DIFF) ? 0x08 : 0) |
			 ((a & BMS_AL_MOS_OT) ? 0x10 : 0));
}

/* 0x359: byte 3 the faults: temperature sampling (SENSOR), MOSFET
 * (MOS_FAULT), internal communication (COMM, either level). */
static bool dy_359(const struct inv_battery *b, struct gw_can_frame *f)
{
	uint32_t p = 0, w = 0;

	if (b->present & INV_HAS_ALARMS) {
		p = b->protect;
		w = b->warn;
	}
	inv_cf_begin(f, 0x359, 8);
	f->data[0] = dy_level0(p);
	f->data[1] = dy_level1(p);
	f->data[3] = (uint8_t)(((p & BMS_AL_SENSOR) ? 0x04 : 0) | ((p & BMS_AL_MOS_FAULT) ? 0x08 : 0) |
			       (((p | w) & BMS_AL_COMM) ? 0x20 : 0));
	f->data[4] = dy_level0(w);
	f->data[5] = dy_level1(w);
	return true;
}

static bool dy_35c(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_put35c(b, f, 8);
	return true;
}

static unsigned dy_u8(unsigned v)
{
	return v > 255 ? 255 : v;
}

/* 0x35E: "DY", the packs as three digits, cell maker 0, capacity 0.1 Ah. */
static bool dy_35e(const struct inv_battery *b, struct gw_can_frame *f)
{
	unsigned n = b->packs ? b->packs : 1;

	inv_cf_begin(f, 0x35E, 8);
	f->data[0] = 'D';
	f->data[1] = 'Y';
	n = n > 999 ? 999 : n;
	f->data[2] = (uint8_t)('0' + n / 100);
	f->data[3] = (uint8_t)('0' + n / 10 % 10);
	f->data[4] = (uint8_t)('0' + n % 10);
	inv_cf_put16(f->data + 6, inv_has(b, INV_HAS_FULL, b->full_ah) ?
		     inv_scale(b->full_ah, 10, INV_NEAR, 0, 0xFFFF) : 0);
	return true;
}

/* 0x361: cells (mV), then the hottest and coldest sensor (the average for
 * both without extremes, 0 without any). */
static bool dy_361(const struct inv_battery *b, struct gw_can_frame *f)
{
	float hi, lo;

	inv_cf_temp_extremes(b, &hi, &lo);
	if (!(b->present & INV_HAS_CELL_MINMAX))
		return false;
	inv_cf_begin(f, 0x361, 8);
	inv_cf_put16(f->data, b->cell_max_mv);
	inv_cf_put16(f->data + 2, b->cell_min_mv);
	inv_cf_put16(f->data + 4, inv_scale(hi, 10, INV_NEAR, -0x7FFF, 0x7FFF));
	inv_cf_put16(f->data + 6, inv_scale(lo, 10, INV_NEAR, -0x7FFF, 0x7FFF));
	return true;
}

/* 0x364: packs online, blocking charge, blocking discharge, offline, and
 * all configured (online + offline). */
static bool dy_364(const struct inv_battery *b, struct gw_can_frame *f)
{
	unsigned on = b->packs ? b->packs : 1;

	inv_cf_begin(f, 0x364, 8);
	f->data[0] = (uint8_t)dy_u8(on);
	f->data[1] = (uint8_t)dy_u8(b->packs_no_charge);
	f->data[2] = (uint8_t)dy_u8(b->packs_no_discharge);
	f->data[3] = (uint8_t)dy_u8(b->packs_offline);
	f->data[4] = (uint8_t)dy_u8(on + b->packs_offline);
	return true;
}

/* 0x371: the on-grid CCL and DCL: the limits of 0x351, zeroed as they are. */
static bool dy_371(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;

	inv_cf_limits(b, &l);
	inv_cf_begin(f, 0x371, 8);
	inv_cf_put16(f->data, l.ccl);
	inv_cf_put16(f->data + 2, l.dcl);
	return true;
}

static const struct inv_can_frame_fn dy_frames[] = {
	{ 0x351, inv_cf_351 }, { 0x355, dy_355 }, { 0x356, dy_356 }, { 0x359, dy_359 }, { 0x35C, dy_35c },
	{ 0x35E, dy_35e },     { 0x361, dy_361 }, { 0x364, dy_364 }, { 0x371, dy_371 },
};

const struct inv_codec inv_codec_deye_can = {
	.name = "deye-can",
	.can = {
		.frames = dy_frames,
		.nframes = sizeof(dy_frames) / sizeof(dy_frames[0]),
		.heard = inv_cf_heard_pylon,
		.limits = inv_cf_encoded,
	},
};
