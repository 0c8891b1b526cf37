/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_solark_can.c - the solark-can codec: "Sol-Ark CAN Bus
 * Protocol for LV Battery-Inverter Communications" rev 1.3, 2023-01-20
 * (../PROTOCOLS.md §1c).  The Pylontech identifiers, every frame DLC 8 ("the
 * Sol-Ark inverters only recognize standard CAN Bus frames containing 8
 * bytes of data"), with two differences of its own:
 *
 *	0x351 CVL, CCL, DCL, DVL          (Pylontech's)
 *	0x355 SOC (rounded down), SOH
 *	0x356 voltage in 0.1 V (not 0.01 V), current, temperature
 *	0x359 protections, alarms, modules, "PN"; alarm byte 3 bit 3 is a
 *	      "critical system error", not a communication failure
 *	0x35C request flags
 *	0x35E manufacturer
 *	0x379 bank capacity (Ah), left out without it
 *
 * The inverter answers each set with 0x305 (all 0).  No extras. */
#include "../canframes.h"

static bool sa_355(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_put355(b, f, 8);
	return true;
}

/* 0x356: voltage s16 0.1 V, current s16 0.1 A (+ = charging), 0.1 degC. */
static bool sa_356(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_put356(b, f, 8, 10, false);
	return true;
}

/* 0x359: Pylontech's bytes 0-2; byte 3 bit 0 charge high current, bit 3
 * a system error at warning level (no communication bit). */
static bool sa_359(const struct inv_battery *b, struct gw_can_frame *f)
{
	uint32_t w = (b->present & INV_HAS_ALARMS) ? b->warn : 0;

	inv_cf_begin(f, 0x359, 8);
	inv_cf_alarm_bytes(b, f->data);
	f->data[3] = (uint8_t)((f->data[3] & 0x01) | ((w & INV_CF_SYSTEM) ? 0x08 : 0));
	f->data[4] = (uint8_t)(b->packs == 0 ? 1 : (b->packs > 255 ? 255 : b->packs));
	f->data[5] = 'P';
	f->data[6] = 'N';
	return true;
}

static bool sa_35c(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_put35c(b, f, 8);
	return true;
}

static const struct inv_can_frame_fn sa_frames[] = {
	{ 0x351, inv_cf_351 }, { 0x355, sa_355 },     { 0x356, sa_356 },     { 0x359, sa_359 },
	{ 0x35C, sa_35c },     { 0x35E, inv_cf_35e }, { 0x379, inv_cf_379 },
};

const struct inv_codec inv_codec_solark_can = {
	.name = "solark-can",
	.can = {
		.frames = sa_frames,
		.nframes = sizeof(sa_frames) / sizeof(sa_frames[0]),
		.heard = inv_cf_heard_pylon,
		.limits = inv_cf_encoded,
	},
};
