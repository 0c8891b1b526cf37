/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_pylon_can.c - the pylon-can codec: Pylontech LV CAN V1.2
 * (../PROTOCOLS.md §1), the format most hybrid inverters read (Deye, Sunsynk,
 * Growatt, Sofar, Goodwe, Solis, a Victron GX).
 *
 *	0x351 CVL, CCL, DCL, DVL        (8 bytes, as the real battery sends)
 *	0x355 SOC (rounded down), SOH   (4)
 *	0x356 voltage, current, temperature (6)
 *	0x359 protections, alarms, modules, "PN" (7)
 *	0x35C request flags             (2)
 *	0x35E manufacturer              (8)
 *
 * DLCs are the real battery's (ArminJo/JK-BMSToPylontechCAN's comments of
 * setfirelabs' capture).  Default extras: capacity (0x35F, 0x379), which
 * ArminJo reports harmless on a Deye. */
#include "../canframes.h"

/* 0x355: SOC, SOH (1 %); no SOH: 100. */
static bool pc_355(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_put355(b, f, 4);
	return true;
}

/* 0x356: voltage (s16 0.01 V), current (s16 0.1 A, + = charging),
 * temperature (s16 0.1 degC); absent: 0. */
static bool pc_356(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_put356(b, f, 6, 100, false);
	return true;
}

/* 0x359: protection bytes 0-1, alarm bytes 2-3, modules, "PN" (DLC 7). */
static bool pc_359(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_begin(f, 0x359, 7);
	inv_cf_alarm_bytes(b, f->data);
	f->data[4] = (uint8_t)(b->packs == 0 ? 1 : (b->packs > 255 ? 255 : b->packs));
	f->data[5] = 'P';
	f->data[6] = 'N';
	return true;
}

/* 0x35C: request flags (DLC 2). */
static bool pc_35c(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_put35c(b, f, 2);
	return true;
}

static const struct inv_can_frame_fn pc_frames[] = {
	{ 0x351, inv_cf_351 }, { 0x355, pc_355 }, { 0x356, pc_356 },
	{ 0x359, pc_359 },     { 0x35C, pc_35c }, { 0x35E, inv_cf_35e },
};

const struct inv_codec inv_codec_pylon_can = {
	.name = "pylon-can",
	.can = {
		.frames = pc_frames,
		.nframes = sizeof(pc_frames) / sizeof(pc_frames[0]),
		.heard = inv_cf_heard_pylon,
		.limits = inv_cf_encoded,
	},
};
