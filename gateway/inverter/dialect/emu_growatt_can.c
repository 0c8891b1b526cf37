/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_growatt_can.c - the growatt-can codec: Growatt's "BMS
 * CAN-Bus-protocol-low-voltage" Rev_04 (V1.04, 2019-02-22), what Growatt's
 * low-voltage inverters read (../PROTOCOLS.md §7).  Standard frames, 500
 * kbit/s, BIG endian ("the high byte of data is stored in the low byte of
 * the address"), DLC 8 throughout:
 *
 *	0x311 charge voltage, charge and discharge current limits, status word
 *	0x312 protections, warnings, packs, manufacturer code, total cells
 *	0x313 voltage, current, highest cell temperature, SOC, SOH
 *	0x314 remaining and full capacity (10 mAh), cell delta (mV), cycles
 *	0x315-0x318 cells 1-16 (mV; a single pack's only)
 *	0x319 request flags and chemistry, highest and lowest cell, their numbers
 *	0x320 manufacturer abbreviation, versions, date (unknown: 0)
 *	0x321 remote-upgrade status (0: normal)
 *
 * The battery speaks only when asked: the inverter sends 0x301 about every
 * second and the set is its answer (the output sends nothing unasked:
 * codec.h `answers`).  The charge voltage goes out within 41-63 V: above,
 * 63 V; below, 41 V with no charge current (a charge voltage the field
 * cannot carry stops charging instead). */
#include <string.h>

#include "../canframes.h"
#include "../invscale.h"

#define GC_CV_MIN 410     /* 0.1 V: the charge voltage Growatt accepts (Battery-Emulator's "MIN 41V, MAX 63V") */
#define GC_CV_MAX 630
#define GC_CUR_MAX 0x7FFF /* 0.1 A: u16 in the document, kept readable as s16 */

static void gc_put16(uint8_t *p, long v)
{
	unsigned u = (unsigned)v & 0xFFFFu;

	p[0] = (uint8_t)(u >> 8);
	p[1] = (uint8_t)(u & 0xFFu);
}

/* The limits as 0x311 and 0x319 carry them: pylon-can's fields and enable
 * rules (an enable bit only with a current), then the charge voltage held
 * within 41-63 V toward the safe side. */
static void gc_limits(const struct inv_battery *b, struct inv_cf_limits *l)
{
	inv_cf_limits(b, l);
	if (!(b->present & INV_HAS_LIMITS))
		return;
	if (l->ccl > GC_CUR_MAX)
		l->ccl = GC_CUR_MAX;
	if (l->dcl > GC_CUR_MAX)
		l->dcl = GC_CUR_MAX;
	if (l->cvl > GC_CV_MAX)
		l->cvl = GC_CV_MAX;
	if (l->cvl < GC_CV_MIN) {
		l->cvl = GC_CV_MIN;
		l->ccl = 0;
		l->charge = l->force = false;
	}
}

static void gc_encoded(const struct inv_battery *b, struct inv_encoded *e)
{
	struct inv_cf_limits l;

	gc_limits(b, &l);
	inv_cf_report(&l, e);
}

/* 0x311 status word (table 1): bits 0-1 and 10-11 the battery's state from
 * its current (01 standby, 10 charging, 11 discharging: a current whose
 * field is 0, or none, is standby), bit 2 "error byte valid" with alarms,
 * bit 5 discharge and bit 6 charge enabled (0x319's bits), bits 8-9
 * parallel with more than one pack. */
static long gc_status(const struct inv_battery *b, const struct inv_cf_limits *l)
{
	long i = inv_has(b, INV_HAS_CURRENT, b->current) ? inv_scale(b->current, 10, INV_NEAR, -0x7FFF, 0x7FFF) : 0;
	long st = i > 0 ? 2 : i < 0 ? 3 : 1;

	return st | st << 10 | ((b->present & INV_HAS_ALARMS) ? 1L << 2 : 0) | (l->discharge ? 1L << 5 : 0) |
	       (l->charge ? 1L << 6 : 0) | (b->packs > 1 ? 1L << 8 : 0);
}

static bool gc_311(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;

	gc_limits(b, &l);
	inv_cf_begin(f, 0x311, 8);
	gc_put16(f->data, l.cvl);
	gc_put16(f->data + 2, l.ccl);
	gc_put16(f->data + 4, l.dcl);
	gc_put16(f->data + 6, gc_status(b, &l));
	return true;
}

#define GC_SYS (BMS_AL_HW_FAULT | BMS_AL_MOS_FAULT | BMS_AL_SENSOR | BMS_AL_OTHER)
#define GC_OTD (BMS_AL_DSG_OT | BMS_AL_MOS_OT)

/* Tables 1 and 3 (byte 0 protections, byte 2 warnings): bit 1 module UV,
 * 2 module OV, 3 cell UV, 4 cell OV, 5 short circuit (table 1 only: a
 * short-circuit warning is a discharge over-current one), 6 charge OC, 7
 * discharge OC. */
static uint8_t gc_volt_current(uint32_t a, bool protection)
{
	return (uint8_t)(((a & BMS_AL_PACK_UV) ? 0x02 : 0) | ((a & BMS_AL_PACK_OV) ? 0x04 : 0) |
			 ((a & BMS_AL_CELL_UV) ? 0x08 : 0) | ((a & BMS_AL_CELL_OV) ? 0x10 : 0) |
			 (protection && (a & BMS_AL_SHORT) ? 0x20 : 0) | ((a & BMS_AL_CHG_OC) ? 0x40 : 0) |
			 ((a & BMS_AL_DSG_OC) || (!protection && (a & BMS_AL_SHORT)) ? 0x80 : 0));
}

/* Tables 2 and 4 (bytes 1 and 3): bit 2 delta V, 4 UTC, 5 UTD, 6 OTC, 7
 * OTD; byte 1 bit 3 system error; byte 3 bit 0 internal communication. */
static uint8_t gc_temp(uint32_t a)
{
	return (uint8_t)(((a & BMS_AL_CELL_DIFF) ? 0x04 : 0) | ((a & BMS_AL_CHG_UT) ? 0x10 : 0) |
			 ((a & BMS_AL_DSG_UT) ? 0x20 : 0) | ((a & BMS_AL_CHG_OT) ? 0x40 : 0) | ((a & GC_OTD) ? 0x80 : 0));
}

/* The first two characters of the manufacturer, in capitals ("PYLON":
 * "PY"). */
static void gc_abbrev(const struct inv_battery *b, uint8_t *p)
{
	const char *m = b->manufacturer[0] ? b->manufacturer : "PYLON";
	size_t n = strnlen(m, 2);

	for (size_t i = 0; i < 2; i++) {
		char ch = i < n ? m[i] : ' ';
		p[i] = (uint8_t)(ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
	}
}

static bool gc_312(const struct inv_battery *b, struct gw_can_frame *f)
{
	bool have = (b->present & INV_HAS_ALARMS) != 0;
	uint32_t p = have ? b->protect : 0, w = have ? b->warn : 0;

	inv_cf_begin(f, 0x312, 8);
	f->data[0] = gc_volt_current(p, true);
	f->data[1] = (uint8_t)(gc_temp(p) | ((p & GC_SYS) ? 0x08 : 0));
	f->data[2] = gc_volt_current(w, false);
	f->data[3] = (uint8_t)(gc_temp(w) | (((p | w) & BMS_AL_COMM) ? 0x01 : 0));
	f->data[4] = (uint8_t)(b->packs == 0 ? 1 : (b->packs > 254 ? 254 : b->packs));
	gc_abbrev(b, f->data + 5);
	f->data[7] = (uint8_t)((b->present & INV_HAS_CELLS) && b->packs <= 1 ? (b->ncells > 254 ? 254 : b->ncells) : 0);
	return true;
}

/* 0x313: voltage s16 0.01 V, current s16 0.1 A (+ = charging), the highest
 * cell temperature s16 0.1 degC (the average without extremes), SOC u8
 * (rounded down), SOH bits 0-6. */
static bool gc_313(const struct inv_battery *b, struct gw_can_frame *f)
{
	bool mm = (b->present & INV_HAS_TEMP_MINMAX) && isfinite(b->temp_max_c);
	float t = mm ? b->temp_max_c : b->temp_c;

	inv_cf_begin(f, 0x313, 8);
	gc_put16(f->data, inv_has(b, INV_HAS_VOLTAGE, b->voltage) ? inv_scale(b->voltage, 100, INV_NEAR, 0, 0x7FFF) : 0);
	gc_put16(f->data + 2, inv_has(b, INV_HAS_CURRENT, b->current) ?
		 inv_scale(b->current, 10, INV_NEAR, -0x7FFF, 0x7FFF) : 0);
	gc_put16(f->data + 4, mm || inv_has(b, INV_HAS_TEMP, b->temp_c) ? inv_scale(t, 10, INV_NEAR, -0x7FFF, 0x7FFF) : 0);
	f->data[6] = (uint8_t)inv_cf_soc(b, 1, 0);
	f->data[7] = (uint8_t)inv_cf_soh(b, 100); /* 100 without one, as the other dialects */
	return true;
}

/* 0x314: remaining and full capacity in 10 mAh (u16: at most 655.35 Ah),
 * the cell delta (mV), cycles. */
static bool gc_314(const struct inv_battery *b, struct gw_can_frame *f)
{
	bool mm = (b->present & INV_HAS_CELL_MINMAX) && b->cell_max_mv >= b->cell_min_mv;

	inv_cf_begin(f, 0x314, 8);
	gc_put16(f->data, inv_has(b, INV_HAS_REMAIN, b->remain_ah) ? inv_scale(b->remain_ah, 100, INV_NEAR, 0, 0xFFFF) : 0);
	gc_put16(f->data + 2, inv_has(b, INV_HAS_FULL, b->full_ah) ? inv_scale(b->full_ah, 100, INV_NEAR, 0, 0xFFFF) : 0);
	gc_put16(f->data + 4, mm ? b->cell_max_mv - b->cell_min_mv : 0);
	gc_put16(f->data + 6, (b->present & INV_HAS_CYCLES) ? (long)(b->cycles > 0xFFFF ? 0xFFFF : b->cycles) : 0);
	return true;
}

/* 0x315-0x318: cells 4k+1 .. 4k+4 of a single pack ("do not need to be
 * reported when the battery is connected in parallel"); a frame only with
 * its first cell. */
static bool gc_cells(const struct inv_battery *b, struct gw_can_frame *f, unsigned k)
{
	if (!(b->present & INV_HAS_CELLS) || b->packs > 1 || b->ncells <= 4 * k)
		return false;
	inv_cf_begin(f, 0x315 + k, 8);
	for (unsigned i = 0; i < 4 && 4 * k + i < b->ncells; i++)
		gc_put16(f->data + 2 * i, b->cell_mv[4 * k + i]);
	return true;
}

static bool gc_315(const struct inv_battery *b, struct gw_can_frame *f)
{
	return gc_cells(b, f, 0);
}

static bool gc_316(const struct inv_battery *b, struct gw_can_frame *f)
{
	return gc_cells(b, f, 1);
}

static bool gc_317(const struct inv_battery *b, struct gw_can_frame *f)
{
	return gc_cells(b, f, 2);
}

static bool gc_318(const struct inv_battery *b, struct gw_can_frame *f)
{
	return gc_cells(b, f, 3);
}

/* A cell's number counted across the packs (the note to 0x319): pack 1's
 * cell as it is; another pack's only with the cells a pack has; 0
 * unknown. */
static uint8_t gc_cell_no(const struct inv_battery *b, struct inv_where w)
{
	long n = w.pack <= 1 ? w.index : b->series_cells ? (long)(w.pack - 1) * b->series_cells + w.index : 0;

	return (uint8_t)(n > 255 ? 0 : n);
}

/* 0x319: byte 0 b7 charge enable, b6 discharge enable, b5 force charge (b4
 * "NULL"), b0-1 chemistry (00 LFP, 01 NMC, 10 LTO); highest and lowest
 * cell (mV) and their numbers; byte 7 the faulty pack (0: none known). */
static bool gc_319(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;
	bool mm = (b->present & INV_HAS_CELL_MINMAX) != 0;

	gc_limits(b, &l);
	inv_cf_begin(f, 0x319, 8);
	f->data[0] = (uint8_t)((l.charge ? 0x80 : 0) | (l.discharge ? 0x40 : 0) | (l.force ? 0x20 : 0) |
			       (b->chemistry & 0x03));
	gc_put16(f->data + 1, mm ? b->cell_max_mv : 0);
	gc_put16(f->data + 3, mm ? b->cell_min_mv : 0);
	f->data[5] = mm ? gc_cell_no(b, b->cell_max_at) : 0;
	f->data[6] = mm ? gc_cell_no(b, b->cell_min_at) : 0;
	return true;
}

/* 0x320: the manufacturer's abbreviation; versions and date unknown: 0. */
static bool gc_320(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_begin(f, 0x320, 8);
	gc_abbrev(b, f->data);
	return true;
}

/* 0x321: no upgrade in progress, all 0 ("normal"). */
static bool gc_321(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	inv_cf_begin(f, 0x321, 8);
	return true;
}

static const struct inv_can_frame_fn gc_frames[] = {
	{ 0x311, gc_311 }, { 0x312, gc_312 }, { 0x313, gc_313 }, { 0x314, gc_314 },
	{ 0x315, gc_315 }, { 0x316, gc_316 }, { 0x317, gc_317 }, { 0x318, gc_318 },
	{ 0x319, gc_319 }, { 0x320, gc_320 }, { 0x321, gc_321 },
};

/* The inverter's 0x301 (standard frame, any payload; the document's
 * example 11 22 33 44 55 66 77 88): the request the set answers. */
static enum inv_rx gc_heard(const struct gw_can_frame *f, struct inv_heard *h)
{
	if (f->rtr || f->ext || f->dlc > GW_CAN_MAX_DLC || f->id != 0x301)
		return INV_RX_OTHER;
	h->frames++;
	return INV_RX_REQUEST;
}

const struct inv_codec inv_codec_growatt_can = {
	.name = "growatt-can",
	.can = {
		.frames = gc_frames,
		.nframes = sizeof(gc_frames) / sizeof(gc_frames[0]),
		.answers = true,
		.heard = gc_heard,
		.limits = gc_encoded,
	},
};
