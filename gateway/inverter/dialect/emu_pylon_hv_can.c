/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_pylon_hv_can.c - the pylon-hv-can codec: Pylontech's
 * high-voltage (Force-H) battery CAN, as Deye HV, Solis HV, GoodWe ET and
 * Sungrow read it (../PROTOCOLS.md §8).  500 kbit/s, EXTENDED (29-bit)
 * identifiers, LITTLE endian (every real battery's capture; disagreement 1
 * of §8.2), DLC 8 throughout; the last digit of the battery's identifiers
 * its address, 0 or 1 ([inverter.NAME] address):
 *
 *	0x4210 voltage, current (+30000, + = charging), temperature (+1000), SOC, SOH
 *	0x4220 charge and discharge cut-off voltages, CCL (30000 + 10 A), DCL (30000 - 10 A)
 *	0x4230 highest and lowest cell (mV) and their numbers
 *	0x4240 highest and lowest cell temperature (+1000) and their numbers
 *	0x4250 basic status, cycles, error bits, alarm bits, protection bits
 *	0x4260 highest and lowest module voltage (unknown here: 0)
 *	0x4270 highest and lowest module temperature (+1000) and their modules
 *	0x4280 charge / discharge forbidden marks (0xAA forbidden, 0x00 allowed)
 *	0x4290 fault extension (none known: 0)
 *	0x7310 versions (unknown: 0)
 *	0x7320 cells, modules (packs) in series, cells per module, voltage level, capacity
 *	0x7330, 0x7340 the manufacturer, 8 + 8 ASCII
 *
 * The battery speaks only when asked (codec.h `answers`): the inverter's
 * 0x4200 with byte 0 = 00 asks for 0x4210-0x4290 ("ensemble information"),
 * 02 for 0x7310-0x7340 ("system equipment information"); 01 (cell
 * voltages) gets no answer.  0x3010 (the inverter's heartbeat), 0x8200
 * (sleep / wake), 0x8210 (charge / discharge command) and 0x8240 (mask a
 * communication error) are heard and never obeyed.
 *
 * ferroamp-can is this codec under its own row (its address 1 by default);
 * solxpow-can (emu_solxpow_can.c) takes the frames, the parser and the answer
 * its layout shares with this one through phfamily.h. */
#include <string.h>

#include "../invscale.h"
#include "../phfamily.h"

#define PH_CUR_OFFSET 30000L /* 0.1 A: raw 30000 = 0 A */
#define PH_CCL_MAX (0xFFFFL - PH_CUR_OFFSET) /* 0.1 A a raw u16 can carry each way */
#define PH_DCL_MAX PH_CUR_OFFSET
#define PH_FORBIDDEN 0xAA


/* The limits as 0x4220 and 0x4280 carry them: pylon-can's fields and
 * enable rules (a direction allowed only with a current whose field is
 * not 0), the currents within what the offset fields carry. */
static void ph_limits(const struct inv_battery *b, struct inv_cf_limits *l)
{
	inv_cf_limits(b, l);
	if (l->ccl > PH_CCL_MAX)
		l->ccl = PH_CCL_MAX;
	if (l->dcl > PH_DCL_MAX)
		l->dcl = PH_DCL_MAX;
}

static void ph_encoded(const struct inv_battery *b, struct inv_encoded *e)
{
	struct inv_cf_limits l;

	ph_limits(b, &l);
	inv_cf_report(&l, e);
}

/* A temperature field (phfamily.h): pylon-hv-can's 0.1 degC + 1000; absent:
 * raw 0, -100.0 degC, which no inverter charges at. */
long ph_temp(bool have, float t, long offset)
{
	long lo = offset ? -offset : -0x7FFF, hi = offset ? 0xFFFF - offset : 0x7FFF;
	return have && isfinite(t) ? inv_scale(t, 10, INV_NEAR, lo, hi) + offset : offset - PH_TEMP_OFFSET;
}

static bool ph_4210(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_begin(f, 0x4210, 8);
	f->ext = true;
	inv_cf_put16(f->data, inv_has(b, INV_HAS_VOLTAGE, b->voltage) ?
		     inv_scale(b->voltage, 10, INV_NEAR, 0, 0xFFFF) : 0);
	inv_cf_put16(f->data + 2, PH_CUR_OFFSET + (inv_has(b, INV_HAS_CURRENT, b->current) ?
		     inv_scale(b->current, 10, INV_NEAR, -PH_CUR_OFFSET, PH_CCL_MAX) : 0));
	inv_cf_put16(f->data + 4, ph_temp((b->present & INV_HAS_TEMP) != 0, b->temp_c, PH_TEMP_OFFSET));
	f->data[6] = (uint8_t)inv_cf_soc(b, 1, 0);
	f->data[7] = (uint8_t)inv_cf_soh(b, 100);
	return true;
}

/* 0x4220: the cut-off voltages (CVL rounded down, DVL up) and the current
 * limits on the offset: CCL 30000 + 10 A, DCL 30000 - 10 A (the discharge
 * direction is the negative current; a real battery's 0x4220 and the
 * document's readers, disagreement 3 of §8.2). */
static bool ph_4220(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;

	ph_limits(b, &l);
	inv_cf_begin(f, 0x4220, 8);
	f->ext = true;
	inv_cf_put16x4(f->data, l.cvl, l.dvl, PH_CUR_OFFSET + l.ccl, PH_CUR_OFFSET - l.dcl);
	return true;
}

/* A cell's number counted across the packs in series (pack 1's as it is,
 * another's only when the cells a pack has are known); 0 unknown. */
long ph_cell_no(const struct inv_battery *b, struct inv_where w)
{
	return w.pack <= 1 ? w.index : b->series_cells ? (long)(w.pack - 1) * b->series_cells + w.index : 0;
}

bool ph_4230(const struct inv_battery *b, struct gw_can_frame *f)
{
	bool mm = (b->present & INV_HAS_CELL_MINMAX) != 0;

	inv_cf_begin(f, 0x4230, 8);
	f->ext = true;
	if (!mm)
		return true;
	inv_cf_put16(f->data, b->cell_max_mv);
	inv_cf_put16(f->data + 2, b->cell_min_mv);
	inv_cf_put16(f->data + 4, ph_cell_no(b, b->cell_max_at));
	inv_cf_put16(f->data + 6, ph_cell_no(b, b->cell_min_at));
	return true;
}

/* 0x4240 (cells) and 0x4270 (modules): the hottest and coldest sensor and
 * where: its number across the sensors, or its pack; without extremes the
 * average for both, numbers 0. */
void ph_temps(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id, bool modules, long offset)
{
	bool mm = (b->present & INV_HAS_TEMP_MINMAX) != 0, avg = (b->present & INV_HAS_TEMP) != 0;

	inv_cf_begin(f, id, 8);
	f->ext = true;
	inv_cf_put16(f->data, ph_temp(mm || avg, mm ? b->temp_max_c : b->temp_c, offset));
	inv_cf_put16(f->data + 2, ph_temp(mm || avg, mm ? b->temp_min_c : b->temp_c, offset));
	if (!mm)
		return;
	inv_cf_put16(f->data + 4, modules ? b->temp_max_at.pack : b->temp_max_at.pack <= 1 ? b->temp_max_at.index : 0);
	inv_cf_put16(f->data + 6, modules ? b->temp_min_at.pack : b->temp_min_at.pack <= 1 ? b->temp_min_at.index : 0);
}

static bool ph_4240(const struct inv_battery *b, struct gw_can_frame *f)
{
	ph_temps(b, f, 0x4240, false, PH_TEMP_OFFSET);
	return true;
}

/* The alarm word of bytes 4-5 (warnings) and 6-7 (protections): bit 0
 * cell low V, 1 cell high V, 2 pile low V, 3 pile high V, 4 charge low T,
 * 5 charge high T, 6 discharge low T, 7 discharge high T, 8 charge
 * over-current, 9 discharge over-current (a short circuit too). */
static long ph_alarm_word(uint32_t a)
{
	return ((a & BMS_AL_CELL_UV) ? 1L << 0 : 0) | ((a & BMS_AL_CELL_OV) ? 1L << 1 : 0) |
	       ((a & BMS_AL_PACK_UV) ? 1L << 2 : 0) | ((a & BMS_AL_PACK_OV) ? 1L << 3 : 0) |
	       ((a & BMS_AL_CHG_UT) ? 1L << 4 : 0) | ((a & BMS_AL_CHG_OT) ? 1L << 5 : 0) |
	       ((a & BMS_AL_DSG_UT) ? 1L << 6 : 0) | ((a & (BMS_AL_DSG_OT | BMS_AL_MOS_OT)) ? 1L << 7 : 0) |
	       ((a & BMS_AL_CHG_OC) ? 1L << 8 : 0) | ((a & (BMS_AL_DSG_OC | BMS_AL_SHORT)) ? 1L << 9 : 0);
}

/* 0x4250: byte 0 bits 0-2 the state from the current (1 charge, 2
 * discharge, 3 idle: a current whose field is 0, or none), bit 3 force
 * charge request (only with charging allowed), bit 4 balance (full) charge
 * request; bytes 1-2 cycles; byte 3 errors: bit 1 temperature sensor, 2
 * internal communication (a stale source, or a member's), 5 relay check
 * (a MOSFET fault), 7 other (a hardware fault). */
bool ph_4250(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;
	bool have = (b->present & INV_HAS_ALARMS) != 0;
	uint32_t p = have ? b->protect : 0, w = have ? b->warn : 0;
	long i = inv_has(b, INV_HAS_CURRENT, b->current) ? inv_scale(b->current, 10, INV_NEAR, -0x7FFF, 0x7FFF) : 0;

	ph_limits(b, &l);
	inv_cf_begin(f, 0x4250, 8);
	f->ext = true;
	f->data[0] = (uint8_t)((i > 0 ? 1 : i < 0 ? 2 : 3) | (l.force ? 0x08 : 0) | (l.full ? 0x10 : 0));
	inv_cf_put16(f->data + 1, (b->present & INV_HAS_CYCLES) ? (long)(b->cycles > 0xFFFF ? 0xFFFF : b->cycles) : 0);
	f->data[3] = (uint8_t)(((p & BMS_AL_SENSOR) ? 0x02 : 0) | (((p | w) & BMS_AL_COMM) ? 0x04 : 0) |
			       ((p & BMS_AL_MOS_FAULT) ? 0x20 : 0) | ((p & (BMS_AL_HW_FAULT | BMS_AL_OTHER)) ? 0x80 : 0));
	inv_cf_put16(f->data + 4, ph_alarm_word(w));
	inv_cf_put16(f->data + 6, ph_alarm_word(p));
	return true;
}

/* 0x4260: the module voltages (1 mV) are not in the source bmsgw reads: 0. */
bool ph_4260(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	inv_cf_begin(f, 0x4260, 8);
	f->ext = true;
	return true;
}

static bool ph_4270(const struct inv_battery *b, struct gw_can_frame *f)
{
	ph_temps(b, f, 0x4270, true, PH_TEMP_OFFSET);
	return true;
}

/* 0x4280: a direction is forbidden (0xAA) unless allowed with a current
 * whose field is not 0 (Battery-Emulator's rule, and the fail-safe's). */
bool ph_4280(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;

	ph_limits(b, &l);
	inv_cf_begin(f, 0x4280, 8);
	f->ext = true;
	f->data[0] = l.charge ? 0x00 : PH_FORBIDDEN;
	f->data[1] = l.discharge ? 0x00 : PH_FORBIDDEN;
	return true;
}

/* 0x4290: no fault extension known: 0 (as Battery-Emulator sends). */
bool ph_4290(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	inv_cf_begin(f, 0x4290, 8);
	f->ext = true;
	return true;
}

/* 0x7310: bmsgw has no hardware or software version of a battery: 0. */
bool ph_7310(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	inv_cf_begin(f, 0x7310, 8);
	f->ext = true;
	return true;
}

/* 0x7320: cells in series (the source's: a pack's, a string's sum; 0
 * unknown; report_cells), modules in series (the packs of a string; a pack
 * is one; report_modules) and cells per module (when they divide evenly,
 * else 0), the voltage level (1 V: unknown, 0) and the capacity (1 Ah,
 * rounded down; report_capacity_ah). */
bool ph_7320(const struct inv_battery *b, struct gw_can_frame *f)
{
	unsigned mod = b->report_modules ? b->report_modules : b->modules;
	unsigned per = mod ? b->total_cells / mod : 0;

	inv_cf_begin(f, 0x7320, 8);
	f->ext = true;
	inv_cf_put16(f->data, b->total_cells);
	f->data[2] = (uint8_t)(b->total_cells || b->report_modules ? mod : 0);
	f->data[3] = (uint8_t)(mod && per * mod == b->total_cells && per <= 0xFF ? per : 0);
	inv_cf_put16(f->data + 6, inv_has(b, INV_HAS_FULL, b->full_ah) ? inv_scale(b->full_ah, 1, INV_DOWN, 0, 0xFFFF) : 0);
	return true;
}

/* 0x7330 / 0x7340: the manufacturer's characters 1-8 / 9-16, padded with
 * 0 ("PYLON" unless [inverter] manufacturer says otherwise). */
static void ph_name(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id, size_t from)
{
	const char *m = b->manufacturer[0] ? b->manufacturer : "PYLON";
	size_t n = strlen(m);

	inv_cf_begin(f, id, 8);
	f->ext = true;
	for (size_t i = 0; i < 8 && from + i < n; i++)
		f->data[i] = (uint8_t)m[from + i];
}

bool ph_7330(const struct inv_battery *b, struct gw_can_frame *f)
{
	ph_name(b, f, 0x7330, 0);
	return true;
}

bool ph_7340(const struct inv_battery *b, struct gw_can_frame *f)
{
	ph_name(b, f, 0x7340, 8);
	return true;
}

static const struct inv_can_frame_fn ph_frames[] = {
	{ 0x4210, ph_4210 }, { 0x4220, ph_4220 }, { 0x4230, ph_4230 }, { 0x4240, ph_4240 },
	{ 0x4250, ph_4250 }, { 0x4260, ph_4260 }, { 0x4270, ph_4270 }, { 0x4280, ph_4280 },
	{ 0x4290, ph_4290 }, { 0x7310, ph_7310 }, { 0x7320, ph_7320 }, { 0x7330, ph_7330 },
	{ 0x7340, ph_7340 },
};

/* What the inverter sends, extended frames only: 0x4200 (byte 0 the kind
 * of request; no byte 0: unusable), and the frames it sends beside it. */
enum inv_rx ph_heard(const struct gw_can_frame *f, struct inv_heard *h)
{
	if (f->rtr || !f->ext || f->dlc > GW_CAN_MAX_DLC)
		return INV_RX_OTHER;
	switch (f->id) {
	case 0x4200:
		h->frames++;
		if (f->dlc < 1)
			return INV_RX_BAD;
		if (f->data[0] != PH_ASK_ENSEMBLE && f->data[0] != PH_ASK_EQUIPMENT)
			return INV_RX_ALIVE; /* 01: cell voltages, not answered */
		h->asked |= 1u << f->data[0];
		return INV_RX_REQUEST;
	case 0x3010: /* heartbeat */
	case 0x8200: /* sleep / wake: never obeyed */
	case 0x8210: /* charge / discharge command: never obeyed */
	case 0x8240: /* mask a communication error: not answered */
		h->frames++;
		return INV_RX_ALIVE;
	default:
		return INV_RX_OTHER;
	}
}

/* The groups asked, the address in the ids (phfamily.h). */
int ph_pick(uint32_t asked, unsigned address, struct gw_can_frame *set, int n, struct inv_encoded *e)
{
	int k = 0;
	bool limits = false;

	for (int i = 0; i < n; i++) {
		bool ensemble = (set[i].id & 0xFF00) == 0x4200;
		if (!(asked & (1u << (ensemble ? PH_ASK_ENSEMBLE : PH_ASK_EQUIPMENT))))
			continue;
		limits |= set[i].id == 0x4220;
		set[k] = set[i];
		set[k++].id += address;
	}
	if (!limits)
		e->limits = false;
	return k;
}

/* The answer: 0x42x0 for 00, 0x73x0 for 02, each frame's last digit the
 * address (pylon-hv-can 0 unless set, ferroamp-can 1 unless set). */
static int ph_answer(const struct conf_inverter *c, struct inv_heard *h, const struct inv_battery *b,
		     struct gw_can_frame *set, int n, int cap, struct inv_encoded *e)
{
	(void)b;
	(void)cap;
	return ph_pick(h->asked, (unsigned)(c->address & 1), set, n, e);
}

const struct inv_codec inv_codec_pylon_hv_can = {
	.name = "pylon-hv-can",
	.can = {
		.frames = ph_frames,
		.nframes = sizeof(ph_frames) / sizeof(ph_frames[0]),
		.answers = true,
		.heard = ph_heard,
		.answer = ph_answer,
		.limits = ph_encoded,
	},
};
