/* SPDX-License-Identifier: MIT */
/* gateway/inverter/byd_hvs_can.c - the byd-hvs-can codec: the CAN set of a
 * BYD Battery-Box Premium HVS/HVM as GoodWe, Solis, Sungrow and Deye HV
 * inverters read it (PROTOCOLS.md §9).  BYD publishes no document: the
 * layout is the one reverse-engineered between a real HVS and an inverter
 * and kept by the emulators that follow it.  Standard frames, 500 kbit/s,
 * BIG endian, DLC 8:
 *
 *	0x110 every 2 s   charge and discharge voltage limits, discharge and
 *	                  charge current limits
 *	0x150 every 10 s  SOC, SOH (0.01 %), remaining and full capacity (0.1 Ah)
 *	0x1D0 every 10 s  voltage, current (+ = charging), temperature
 *	0x210 every 10 s  highest and lowest cell temperature
 *	0x190 every 60 s  alarms (meaning unknown: a field-tested constant)
 *	0x250, 0x290, 0x2D0, 4 x 0x3D0: the identification, when the
 *	                  schedule starts and on each 0x151 with byte 0 bit 0
 *
 * No enable flag exists: a stop is CCL / DCL 0 (soc_override = deye gives
 * the SOC rule Deye and Solis follow).  The output waits for the
 * inverter's first frame (codec.h `periods`). */
#include <string.h>

#include "canframes.h"
#include "invscale.h"

static void bh_put16(uint8_t *p, long v)
{
	unsigned u = (unsigned)v & 0xFFFFu;

	p[0] = (uint8_t)(u >> 8);
	p[1] = (uint8_t)(u & 0xFFu);
}

/* 0x110: CVL (u16 0.1 V, down), DVL (u16 0.1 V, up), DCL then CCL (s16
 * 0.1 A, down; 0 when not allowed): canframes.c's fields. */
static bool bh_110(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;

	inv_cf_limits(b, &l);
	inv_cf_begin(f, 0x110, 8);
	bh_put16(f->data, l.cvl);
	bh_put16(f->data + 2, l.dvl);
	bh_put16(f->data + 4, l.dcl);
	bh_put16(f->data + 6, l.ccl);
	return true;
}

/* 0x150: SOC (down) and SOH (nearest; 100.00 % when unknown, as pylon-can's
 * 0x355) in 0.01 %, remaining and full capacity in 0.1 Ah (u16, clamped;
 * 0 unknown). */
static bool bh_150(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_begin(f, 0x150, 8);
	bh_put16(f->data, inv_cf_soc(b, 100, 0));
	bh_put16(f->data + 2, inv_has(b, INV_HAS_SOH, b->soh) ? inv_scale(b->soh, 100, INV_NEAR, 0, 10000) : 10000);
	bh_put16(f->data + 4, inv_has(b, INV_HAS_REMAIN, b->remain_ah) ?
		 inv_scale(b->remain_ah, 10, INV_NEAR, 0, 0xFFFF) : 0);
	bh_put16(f->data + 6, inv_has(b, INV_HAS_FULL, b->full_ah) ? inv_scale(b->full_ah, 10, INV_NEAR, 0, 0xFFFF) : 0);
	return true;
}

/* 0x1D0: voltage u16 0.1 V, current s16 0.1 A (+ = charging), the average
 * temperature s16 0.1 degC (0 unknown), bytes 6-7 03 08 as a real HVS. */
static bool bh_1d0(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_begin(f, 0x1D0, 8);
	bh_put16(f->data, inv_has(b, INV_HAS_VOLTAGE, b->voltage) ? inv_scale(b->voltage, 10, INV_NEAR, 0, 0xFFFF) : 0);
	bh_put16(f->data + 2, inv_has(b, INV_HAS_CURRENT, b->current) ?
		 inv_scale(b->current, 10, INV_NEAR, -0x7FFF, 0x7FFF) : 0);
	bh_put16(f->data + 4, inv_has(b, INV_HAS_TEMP, b->temp_c) ? inv_scale(b->temp_c, 10, INV_NEAR, -0x7FFF, 0x7FFF) : 0);
	f->data[6] = 0x03;
	f->data[7] = 0x08;
	return true;
}

/* 0x210: the hottest and the coldest sensor, s16 0.1 degC. */
static bool bh_210(const struct inv_battery *b, struct gw_can_frame *f)
{
	float hi, lo;

	inv_cf_temp_extremes(b, &hi, &lo);
	inv_cf_begin(f, 0x210, 8);
	bh_put16(f->data, inv_scale(hi, 10, INV_NEAR, -0x7FFF, 0x7FFF));
	bh_put16(f->data + 2, inv_scale(lo, 10, INV_NEAR, -0x7FFF, 0x7FFF));
	return true;
}

/* 0x190: the alarm frame, whose bits nobody has decoded; Battery-Emulator's
 * 00 00 03 00 ..., the most field-tested (PROTOCOLS.md §9). */
static bool bh_190(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	inv_cf_begin(f, 0x190, 8);
	f->data[2] = 0x03;
	return true;
}

/* 0x250: firmware 03 29, 00 66, the capacity in 0.1 kWh (full Ah times the
 * measured voltage, down; 0 unknown), 02 09. */
static bool bh_250(const struct inv_battery *b, struct gw_can_frame *f)
{
	bool have = inv_has(b, INV_HAS_FULL, b->full_ah) && inv_has(b, INV_HAS_VOLTAGE, b->voltage);

	inv_cf_begin(f, 0x250, 8);
	f->data[0] = 0x03;
	f->data[1] = 0x29;
	f->data[3] = 0x66;
	bh_put16(f->data + 4, have ? inv_scale((double)b->full_ah * b->voltage, 0.01, INV_DOWN, 0, 0xFFFF) : 0);
	f->data[6] = 0x02;
	f->data[7] = 0x09;
	return true;
}

static bool bh_const(struct gw_can_frame *f, uint32_t id, const char *bytes)
{
	inv_cf_begin(f, id, 8);
	memcpy(f->data, bytes, 8);
	return true;
}

static bool bh_290(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return bh_const(f, 0x290, "\x06\x37\x10\xD9\0\0\0\0");
}

static bool bh_2d0(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return bh_const(f, 0x2D0, "\0BYD\0\0\0\0");
}

/* 0x3D0 x 4: sequence 0-3 and "Battery-Box Premium HVS" seven characters
 * a frame. */
static bool bh_3d0_0(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return bh_const(f, 0x3D0, "\0Battery");
}

static bool bh_3d0_1(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return bh_const(f, 0x3D0, "\x01-Box Pr");
}

static bool bh_3d0_2(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return bh_const(f, 0x3D0, "\x02" "emium H");
}

static bool bh_3d0_3(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return bh_const(f, 0x3D0, "\x03VS\0\0\0\0\0");
}

static const struct inv_can_frame_fn bh_frames[] = {
	{ 0x110, bh_110 }, { 0x150, bh_150 }, { 0x1D0, bh_1d0 }, { 0x210, bh_210 }, { 0x190, bh_190 },
};

/* 0x110 carries the limits and 0x150 the SOC soc_override = deye moves: both
 * go out of turn. */
static const struct inv_can_period bh_periods[] = {
	{ 2, true, 0 }, { 10, true, 0 }, { 10, false, 0 }, { 10, false, 0 }, { 60, false, 0 },
};

static const struct inv_can_frame_fn bh_ident[] = {
	{ 0x250, bh_250 }, { 0x290, bh_290 }, { 0x2D0, bh_2d0 },
	{ 0x3D0, bh_3d0_0 }, { 0x3D0, bh_3d0_1 }, { 0x3D0, bh_3d0_2 }, { 0x3D0, bh_3d0_3 },
};

/* The inverter's frames (standard ids): 0x151 byte 0 bit 0 asks for the
 * identification (else bytes 1-7 are its name), 0x091 (its battery
 * voltage, current, temperature), 0x0D1 (its SOC), 0x111 (time), 0x191. */
static enum inv_rx bh_heard(const struct gw_can_frame *f, struct inv_heard *h)
{
	if (f->rtr || f->ext || f->dlc > GW_CAN_MAX_DLC)
		return INV_RX_OTHER;
	if (f->id != 0x151 && f->id != 0x091 && f->id != 0x0D1 && f->id != 0x111 && f->id != 0x191)
		return INV_RX_OTHER;
	h->frames++;
	if (f->id != 0x151)
		return INV_RX_ALIVE;
	if (f->dlc < 1)
		return INV_RX_BAD;
	return (f->data[0] & 0x01) ? INV_RX_IDENTIFY : INV_RX_ALIVE;
}

const struct inv_codec inv_codec_byd_hvs_can = {
	.name = "byd-hvs-can",
	.can = {
		.frames = bh_frames,
		.nframes = sizeof(bh_frames) / sizeof(bh_frames[0]),
		.heard = bh_heard,
		.limits = inv_cf_encoded,
		.periods = bh_periods,
		.ident = bh_ident,
		.nident = sizeof(bh_ident) / sizeof(bh_ident[0]),
	},
};
