/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_byd_hvs_can.c - the byd-hvs-can codec: the CAN set of a
 * BYD Battery-Box Premium HVS/HVM as GoodWe, Solis, Sungrow and Deye HV
 * inverters read it (../PROTOCOLS.md §9).  BYD publishes no document: the
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
#include "../bydframes.h"
#include "../canframes.h"
#include "../invscale.h"

/* 0x110: the limits (bydframes.c, as SMA's 0x358). */
static bool bh_110(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_byd_limits(b, f, 0x110);
	return true;
}

/* 0x150: SOC, SOH, remaining and full capacity (as SMA's 0x3D8). */
static bool bh_150(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_byd_soc(b, f, 0x150);
	return true;
}

/* 0x1D0: voltage, current (+ = charging), the average temperature, bytes
 * 6-7 03 08 as a real HVS (as SMA's 0x4D8, whose byte 6 is the state). */
static bool bh_1d0(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_byd_meas(b, f, 0x1D0, 0x03);
	return true;
}

/* 0x210: the hottest and the coldest sensor, s16 0.1 degC. */
static bool bh_210(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_byd_temps(b, f, 0x210);
	return true;
}

/* 0x190: the alarm frame, whose bits nobody has decoded; Battery-Emulator's
 * 00 00 03 00 ..., the most field-tested (../PROTOCOLS.md §9). */
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
	inv_cf_put16be(f->data + 4, have ? inv_scale((double)b->full_ah * b->voltage, 0.01, INV_DOWN, 0, 0xFFFF) : 0);
	f->data[6] = 0x02;
	f->data[7] = 0x09;
	return true;
}

static bool bh_290(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return inv_byd_const(f, 0x290, "\x06\x37\x10\xD9\0\0\0\0");
}

static bool bh_2d0(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return inv_byd_const(f, 0x2D0, inv_byd_vendor);
}

/* 0x3D0 x 4: sequence 0-3 and "Battery-Box Premium HVS" seven characters
 * a frame. */
static bool bh_3d0_0(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return inv_byd_const(f, 0x3D0, inv_byd_hvs_name[0]);
}

static bool bh_3d0_1(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return inv_byd_const(f, 0x3D0, inv_byd_hvs_name[1]);
}

static bool bh_3d0_2(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return inv_byd_const(f, 0x3D0, inv_byd_hvs_name[2]);
}

static bool bh_3d0_3(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return inv_byd_const(f, 0x3D0, inv_byd_hvs_name[3]);
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
