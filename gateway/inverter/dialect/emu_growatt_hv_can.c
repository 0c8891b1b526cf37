/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_growatt_hv_can.c - the growatt-hv-can codec: a Growatt
 * ARK HV battery as Growatt's SPH / SPA TL3 BH-UP hybrids read it
 * ("Growatt BMS CAN-Bus-protocol High Voltage V1.10 2023-11-06", as
 * Battery-Emulator quotes it; ../PROTOCOLS.md §15).  500 kbit/s, EXTENDED
 * (29-bit) identifiers, BIG endian, DLC 8, the whole set every second once
 * the inverter has spoken (its heartbeat 0x3010, control 0x3020, time
 * 0x3030, every second):
 *
 *	0x3110 CVL, CCL, DCL; byte 6 ISO detected, battery normal; byte 7 the
 *	       state (idle, charging, discharging), charge / discharge forbidden
 *	0x3120 protections and alarms (not decoded: zeros, as every source)
 *	0x3130 voltage, current (+ = charging), hottest sensor, SOC, SOH
 *	0x3140 remaining and full capacity (10 mAh), "GT", cycles
 *	0x3150 DVL, the controller's temperature, cells, modules in series
 *	0x3160 where the highest and lowest cell are, the coldest sensor
 *	0x3170 where the hottest and coldest sensor are, 50 (as every source)
 *	0x3180 "GT", strings in parallel, cells
 *	0x3190 0 (LFP, no force charge), highest and lowest cell (mV)
 *	0x3200 "GT", hardware rev 1, the cell charge cut-off (mV)
 *	0x3210 zeros (upgrade)   0x3220 the rated energy (0.1 kWh)
 *	0x3230 x 3 frames 0-2 of the serial number: zeros, battery id 0 "none"
 *	0x3240 packs 1, lifetime energies 0   0x3250-0x3290, 0x3F00 zeros
 *
 * A scheduled codec (codec.h `periods`): every frame each second, nothing
 * before the inverter's first frame; 0x3110 (the limits, the forbidden
 * marks) also at once when a limit falls or the source goes stale.  While
 * stale: CCL = DCL = 0, both forbidden, "battery normal" clear. */
#include "../canframes.h"
#include "../invident.h"
#include "../invscale.h"

#define GH_MODULES_MAX 32    /* 0x3150 modules in series: 1-32 (the document) */
#define GH_CELLS_MAX 512     /* total cells: 1-512 */

static void gh_begin(struct gw_can_frame *f, uint32_t id)
{
	inv_cf_begin(f, id, 8);
	f->ext = true;
}

/* Growatt's abbreviation of itself, "GT", at p (0x3140, 0x3180, 0x3200). */
static void gh_gt(uint8_t *p)
{
	p[0] = 'G';
	p[1] = 'T';
}

static long gh_temp(float t)
{
	return inv_scale(t, 10, INV_NEAR, -0x7FFF, 0x7FFF);
}

/* The strings in parallel: the packs over the members of a string (1 for
 * a pack or unknown). */
static long gh_parallel(const struct inv_battery *b)
{
	return b->modules && b->packs >= b->modules ? b->packs / b->modules : 1;
}

/* 0x3110: CVL (down), CCL, DCL (down; 0 not allowed); byte 6 bit 5 ISO
 * detected, bit 4 battery normal (fresh); byte 7 bits 0-1 1 idle, 2
 * charging, 3 discharging, bit 6 charge forbidden (CCL 0 or SOC 100 %), bit
 * 5 discharge forbidden (DCL 0 or SOC 0 %). */
static bool gh_3110(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;
	long i = inv_has(b, INV_HAS_CURRENT, b->current) ? inv_scale(b->current, 10, INV_NEAR, -0x7FFF, 0x7FFF) : 0;
	long soc = inv_cf_soc(b, 1, 0);

	inv_cf_limits(b, &l);
	gh_begin(f, 0x3110);
	inv_cf_put16be(f->data, l.cvl);
	inv_cf_put16be(f->data + 2, l.ccl);
	inv_cf_put16be(f->data + 4, l.dcl);
	f->data[6] = (uint8_t)(0x20 | (b->failsafe ? 0 : 0x10));
	f->data[7] = (uint8_t)((i > 0 ? 0x02 : i < 0 ? 0x03 : 0x01) | (!l.charge || soc >= 100 ? 0x40 : 0) |
			       (!l.discharge || soc <= 0 ? 0x20 : 0));
	return true;
}

static bool gh_zeros(struct gw_can_frame *f, uint32_t id)
{
	gh_begin(f, id);
	return true;
}

static bool gh_3120(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return gh_zeros(f, 0x3120);
}

/* 0x3130: voltage (u16 0.1 V), current (s16 0.1 A, + = charging), the
 * hottest sensor (s16 0.1 degC), SOC (%, down), SOH (%, 100 unknown; bit 7
 * "unsafe" never). */
static bool gh_3130(const struct inv_battery *b, struct gw_can_frame *f)
{
	float hi, lo;

	inv_cf_temp_extremes(b, &hi, &lo);
	gh_begin(f, 0x3130);
	inv_cf_put16be(f->data, inv_has(b, INV_HAS_VOLTAGE, b->voltage) ? inv_scale(b->voltage, 10, INV_NEAR, 0, 0xFFFF) : 0);
	inv_cf_put16be(f->data + 2, inv_has(b, INV_HAS_CURRENT, b->current) ?
		       inv_scale(b->current, 10, INV_NEAR, -0x7FFF, 0x7FFF) : 0);
	inv_cf_put16be(f->data + 4, gh_temp(hi));
	f->data[6] = (uint8_t)inv_cf_soc(b, 1, 0);
	f->data[7] = (uint8_t)(inv_cf_soh(b, 100) & 0x7F);
	return true;
}

/* 0x3140: remaining and full capacity in 10 mAh (down, held at 655.35 Ah;
 * 0 unknown), "GT", cycles (held at 65535). */
static bool gh_3140(const struct inv_battery *b, struct gw_can_frame *f)
{
	gh_begin(f, 0x3140);
	inv_cf_put16be(f->data, inv_has(b, INV_HAS_REMAIN, b->remain_ah) ?
		       inv_scale(b->remain_ah, 100, INV_DOWN, 0, 0xFFFF) : 0);
	inv_cf_put16be(f->data + 2, inv_has(b, INV_HAS_FULL, b->full_ah) ? inv_scale(b->full_ah, 100, INV_DOWN, 0, 0xFFFF) : 0);
	gh_gt(f->data + 4);
	inv_cf_put16be(f->data + 6, (b->present & INV_HAS_CYCLES) ? (long)(b->cycles > 0xFFFF ? 0xFFFF : b->cycles) : 0);
	return true;
}

/* 0x3150: DVL (up), the controller's temperature (its MOSFETs', else the
 * hottest sensor), the cells in series (0 unknown), the modules in series
 * (report_modules, else the members of a string, 1 for a pack). */
static bool gh_3150(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;
	float hi, lo;
	long m = b->report_modules ? b->report_modules : b->modules ? b->modules : 1;

	inv_cf_limits(b, &l);
	inv_cf_temp_extremes(b, &hi, &lo);
	gh_begin(f, 0x3150);
	inv_cf_put16be(f->data, l.dvl);
	inv_cf_put16be(f->data + 2, gh_temp(inv_has(b, INV_HAS_MOS_TEMP, b->mos_temp_c) ? b->mos_temp_c : hi));
	inv_cf_put16be(f->data + 4, b->total_cells > GH_CELLS_MAX ? GH_CELLS_MAX : b->total_cells);
	inv_cf_put16be(f->data + 6, m > GH_MODULES_MAX ? GH_MODULES_MAX : m);
	return true;
}

/* 0x3160: fault bits 0; the module and cell of the highest, then of the
 * lowest cell (0 unknown); the coldest sensor. */
static bool gh_3160(const struct inv_battery *b, struct gw_can_frame *f)
{
	float hi, lo;
	bool at = (b->present & INV_HAS_CELL_MINMAX) != 0;

	inv_cf_temp_extremes(b, &hi, &lo);
	gh_begin(f, 0x3160);
	f->data[2] = at ? b->cell_max_at.pack : 0;
	f->data[3] = at ? b->cell_max_at.index : 0;
	f->data[4] = at ? b->cell_min_at.pack : 0;
	f->data[5] = at ? b->cell_min_at.index : 0;
	inv_cf_put16be(f->data + 6, gh_temp(lo));
	return true;
}

/* 0x3170: the module and sensor of the hottest, then of the coldest (0
 * unknown); byte 4 50, as every source sends (its unit is not known). */
static bool gh_3170(const struct inv_battery *b, struct gw_can_frame *f)
{
	bool at = (b->present & INV_HAS_TEMP_MINMAX) != 0;

	gh_begin(f, 0x3170);
	f->data[0] = at ? b->temp_max_at.pack : 0;
	f->data[1] = at ? b->temp_max_at.index : 0;
	f->data[2] = at ? b->temp_min_at.pack : 0;
	f->data[3] = at ? b->temp_min_at.index : 0;
	f->data[4] = 50;
	return true;
}

/* 0x3180: "GT", the strings in parallel, the cells in series. */
static bool gh_3180(const struct inv_battery *b, struct gw_can_frame *f)
{
	gh_begin(f, 0x3180);
	gh_gt(f->data);
	inv_cf_put16be(f->data + 2, gh_parallel(b));
	inv_cf_put16be(f->data + 4, b->total_cells > GH_CELLS_MAX ? GH_CELLS_MAX : b->total_cells);
	return true;
}

/* 0x3190: status 0 (LFP, no force charge), the highest and lowest cell
 * (mV; 0 unknown). */
static bool gh_3190(const struct inv_battery *b, struct gw_can_frame *f)
{
	bool have = (b->present & INV_HAS_CELL_MINMAX) != 0;

	gh_begin(f, 0x3190);
	inv_cf_put16be(f->data + 1, have ? b->cell_max_mv : 0);
	inv_cf_put16be(f->data + 3, have ? b->cell_min_mv : 0);
	return true;
}

/* 0x3200: "GT", hardware revision 1 (A), the cell charge cut-off: the CVL
 * over the cells in series (mV, down; 0 unknown). */
static bool gh_3200(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;

	inv_cf_limits(b, &l);
	gh_begin(f, 0x3200);
	gh_gt(f->data);
	f->data[2] = 0x01;
	inv_cf_put16be(f->data + 6, b->total_cells ? inv_scale(l.cvl * 100.0 / b->total_cells, 1, INV_DOWN, 0, 0xFFFF) : 0);
	return true;
}

static bool gh_3210(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return gh_zeros(f, 0x3210);
}

/* 0x3220: no derating, no fault, no forced mark; bytes 5-6 the rated
 * energy in 0.1 kWh (down; 0 unknown). */
static bool gh_3220(const struct inv_battery *b, struct gw_can_frame *f)
{
	gh_begin(f, 0x3220);
	inv_cf_put16be(f->data + 5, inv_scale(inv_full_wh(b), 0.01, INV_FLOOR, 0, 0xFFFF));
	return true;
}

/* 0x3230 frame k: battery id 0 ("invalid": no serial number claimed) and
 * zeros, as every source sends. */
static bool gh_3230(struct gw_can_frame *f, uint8_t k)
{
	gh_begin(f, 0x3230);
	f->data[0] = k;
	return true;
}

static bool gh_3230_0(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return gh_3230(f, 0);
}

static bool gh_3230_1(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return gh_3230(f, 1);
}

static bool gh_3230_2(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return gh_3230(f, 2);
}

/* 0x3240: pack 1, lifetime discharged energy 0 (not counted), pack 1,
 * lifetime charged energy 0. */
static bool gh_3240(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	gh_begin(f, 0x3240);
	f->data[0] = 0x01;
	f->data[4] = 0x01;
	return true;
}

#define GH_ZERO_FRAME(id)                                                                                          \
	static bool gh_##id(const struct inv_battery *b, struct gw_can_frame *f)                                    \
	{                                                                                                           \
		(void)b;                                                                                            \
		return gh_zeros(f, 0x##id);                                                                         \
	}
GH_ZERO_FRAME(3250)
GH_ZERO_FRAME(3260)
GH_ZERO_FRAME(3270)
GH_ZERO_FRAME(3280)
GH_ZERO_FRAME(3290)
GH_ZERO_FRAME(3F00)

static const struct inv_can_frame_fn gh_frames[] = {
	{ 0x3110, gh_3110 }, { 0x3120, gh_3120 }, { 0x3130, gh_3130 }, { 0x3140, gh_3140 },
	{ 0x3150, gh_3150 }, { 0x3160, gh_3160 }, { 0x3170, gh_3170 }, { 0x3180, gh_3180 },
	{ 0x3190, gh_3190 }, { 0x3200, gh_3200 }, { 0x3210, gh_3210 }, { 0x3220, gh_3220 },
	{ 0x3230, gh_3230_0 }, { 0x3230, gh_3230_1 }, { 0x3230, gh_3230_2 }, { 0x3240, gh_3240 },
	{ 0x3250, gh_3250 }, { 0x3260, gh_3260 }, { 0x3270, gh_3270 }, { 0x3280, gh_3280 },
	{ 0x3290, gh_3290 }, { 0x3F00, gh_3F00 },
};
#define GH_NFRAMES (sizeof(gh_frames) / sizeof(gh_frames[0]))

/* Every frame every second; 0x3110 also out of turn. */
static const struct inv_can_period gh_periods[GH_NFRAMES] = {
	{ 1, true, 0 }, { 1, false, 0 }, { 1, false, 0 }, { 1, false, 0 }, { 1, false, 0 }, { 1, false, 0 },
	{ 1, false, 0 }, { 1, false, 0 }, { 1, false, 0 }, { 1, false, 0 }, { 1, false, 0 }, { 1, false, 0 },
	{ 1, false, 0 }, { 1, false, 0 }, { 1, false, 0 }, { 1, false, 0 }, { 1, false, 0 }, { 1, false, 0 },
	{ 1, false, 0 }, { 1, false, 0 }, { 1, false, 0 }, { 1, false, 0 },
};

/* The inverter's heartbeat 0x3010, control 0x3020 and time 0x3030 (29
 * bits): the inverter is there; their content is not needed. */
static enum inv_rx gh_heard(const struct gw_can_frame *f, struct inv_heard *h)
{
	if (f->rtr || !f->ext || f->dlc > GW_CAN_MAX_DLC || (f->id != 0x3010 && f->id != 0x3020 && f->id != 0x3030))
		return INV_RX_OTHER;
	h->frames++;
	return INV_RX_ALIVE;
}

const struct inv_codec inv_codec_growatt_hv_can = {
	.name = "growatt-hv-can",
	.can = {
		.frames = gh_frames,
		.nframes = GH_NFRAMES,
		.heard = gh_heard,
		.limits = inv_cf_encoded, /* as 0x3110 carries them */
		.periods = gh_periods,
	},
};
