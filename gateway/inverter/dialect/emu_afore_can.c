/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_afore_can.c - the afore-can codec: a battery as Afore's
 * hybrids read it ("Afore 2.3 CAN standard", 2023-08-07, as
 * Battery-Emulator's AFORE-CAN sends it; ../PROTOCOLS.md §21).  500 kbit/s,
 * STANDARD (11-bit) identifiers, LITTLE endian, DLC 8:
 *
 *	0x350 voltage (0.1 V), current (0.1 A + 5000, + = charging), the hottest
 *	      sensor (0.1 degC + 1000)
 *	0x351 SOC, SOH, SOC max 100, SOC min 1, the enables and the BMS state,
 *	      the cells in series
 *	0x352 CCL, DCL (0.1 A), CVL, DVL (0.1 V)
 *	0x353 faults H, faults L (bit words)
 *	0x354 highest and lowest cell (mV) and their numbers
 *	0x355 hottest and coldest sensor (0.1 degC + 1000) and their numbers
 *	0x356 a cell's over- and under-voltage protection (mV)
 *	0x357 warnings (a bit word)
 *	0x358 zeros
 *	0x359, 0x35A the serial number, 8 + 8 ASCII
 *
 * The battery speaks only when asked (codec.h `answers`): each 0x305 of
 * the inverter (about once a second: its brand, 5 ASCII, and its state in
 * byte 7) gets the whole set.  bmsgw sends the battery's real cells;
 * Battery-Emulator squeezes a non-LFP pack's into 2.5-3.4 V ("Afore only
 * supports LFP"). */
#include <string.h>

#include "../invident.h"
#include "../invscale.h"
#include "../phfamily.h"

#define AF_REQUEST_ID 0x305
#define AF_CUR_OFFSET 5000L  /* 0.1 A: raw 5000 = 0 A */
#define AF_TEMP_OFFSET 1000L /* 0.1 degC: raw 1000 = 0 degC */
#define AF_SOC_MAX 100       /* 0x351 byte 2, as Battery-Emulator */
#define AF_SOC_MIN 1         /* 0x351 byte 3 */
#define AF_STATE_NORMAL 1    /* 0x351 byte 4 bits 5-7 */
#define AF_STATE_FAULT 4

static void af_begin(struct gw_can_frame *f, uint32_t id)
{
	inv_cf_begin(f, id, 8);
}

/* A fault the inverter is told of: the source stale, or a protection of the
 * BMS's hardware (0x351's state 4, both enables cleared). */
static bool af_fault(const struct inv_battery *b)
{
	return b->failsafe || ((b->present & INV_HAS_ALARMS) && (b->protect & INV_CF_SYSTEM));
}

/* The limits as 0x351 and 0x352 carry them: inv_cf_limits, and as
 * Battery-Emulator clears the enables, no charge at a SOC of 100 %, no
 * discharge at 0 % and neither on a fault; the current of a direction
 * cleared is 0 too, so that the enable and the current always agree. */
static void af_limits(const struct inv_battery *b, struct inv_cf_limits *l)
{
	long soc = inv_cf_soc(b, 1, -1);

	inv_cf_limits(b, l);
	if (af_fault(b) || soc >= 100)
		l->ccl = 0;
	if (af_fault(b) || soc == 0)
		l->dcl = 0;
	l->charge = l->ccl > 0;
	l->discharge = l->dcl > 0;
}

static void af_encoded(const struct inv_battery *b, struct inv_encoded *e)
{
	struct inv_cf_limits l;

	af_limits(b, &l);
	inv_cf_report(&l, e);
}

/* A frame of Pylontech HV's layout (phfamily.h) made ours: id, 11 bits. */
static bool af_std(struct gw_can_frame *f, uint32_t id)
{
	f->id = id;
	f->ext = false;
	return true;
}

/* 0x350: voltage (u16 0.1 V), current (0.1 A + 5000, + = charging), the
 * hottest sensor (as Battery-Emulator: "battery temperature"; 0.1 degC +
 * 1000, Pylontech HV's field; absent: raw 0, -100.0 degC, at which no
 * inverter charges). */
static bool af_350(const struct inv_battery *b, struct gw_can_frame *f)
{
	bool mm = (b->present & INV_HAS_TEMP_MINMAX) != 0, avg = (b->present & INV_HAS_TEMP) != 0;

	af_begin(f, 0x350);
	inv_cf_put16(f->data, inv_has(b, INV_HAS_VOLTAGE, b->voltage) ?
		     inv_scale(b->voltage, 10, INV_NEAR, 0, 0xFFFF) : 0);
	inv_cf_put16(f->data + 2, AF_CUR_OFFSET + (inv_has(b, INV_HAS_CURRENT, b->current) ?
		     inv_scale(b->current, 10, INV_NEAR, -AF_CUR_OFFSET, 0xFFFF - AF_CUR_OFFSET) : 0));
	inv_cf_put16(f->data + 4, ph_temp(mm || avg, mm ? b->temp_max_c : b->temp_c, AF_TEMP_OFFSET));
	return true;
}

/* 0x351: SOC (down), SOH (100 without one), SOC max 100, SOC min 1; byte 4
 * bit 0 charge enable, bit 1 discharge enable (af_limits), bits 5-7 the
 * BMS state (1 normal, 4 fault); bytes 6-7 the cells in series (0
 * unknown; never overridden: afore-can takes no report_cells, 0x356
 * divides by them). */
static bool af_351(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;

	af_limits(b, &l);
	af_begin(f, 0x351);
	f->data[0] = (uint8_t)inv_cf_soc(b, 1, 0);
	f->data[1] = (uint8_t)inv_cf_soh(b, 100);
	f->data[2] = AF_SOC_MAX;
	f->data[3] = AF_SOC_MIN;
	f->data[4] = (uint8_t)((l.charge ? 0x01 : 0) | (l.discharge ? 0x02 : 0) |
			       (af_fault(b) ? AF_STATE_FAULT : AF_STATE_NORMAL) << 5);
	inv_cf_put16(f->data + 6, b->total_cells);
	return true;
}

/* 0x352: CCL, DCL (0.1 A, down), CVL (0.1 V, down), DVL (0.1 V, up): the
 * operating limits where Battery-Emulator puts the pack's design voltages. */
static bool af_352(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;

	af_limits(b, &l);
	af_begin(f, 0x352);
	inv_cf_put16x4(f->data, l.ccl, l.dcl, l.cvl, l.dvl);
	return true;
}

/* 0x353: the protections acting as Afore's faults.  H: bit 0 cell
 * over-voltage, 1 cell under-voltage, 2 over-voltage, 3 under-voltage, 4
 * over-temperature, 5 under-temperature, 7 charge over-current, 8
 * discharge over-current (a short too), 9 SOC too low, 10 internal
 * communication (a stale source too), 13 relay (a MOSFET fault).  L: bit 9
 * system failure (hardware, sensor, other), 15 cell unbalance. */
static bool af_353(const struct inv_battery *b, struct gw_can_frame *f)
{
	uint32_t p = (b->present & INV_HAS_ALARMS) ? b->protect : 0;
	long h = ((p & BMS_AL_CELL_OV) ? 1L << 0 : 0) | ((p & BMS_AL_CELL_UV) ? 1L << 1 : 0) |
		 ((p & BMS_AL_PACK_OV) ? 1L << 2 : 0) | ((p & BMS_AL_PACK_UV) ? 1L << 3 : 0) |
		 ((p & (BMS_AL_CHG_OT | BMS_AL_DSG_OT | BMS_AL_MOS_OT)) ? 1L << 4 : 0) |
		 ((p & (BMS_AL_CHG_UT | BMS_AL_DSG_UT)) ? 1L << 5 : 0) | ((p & BMS_AL_CHG_OC) ? 1L << 7 : 0) |
		 ((p & (BMS_AL_DSG_OC | BMS_AL_SHORT)) ? 1L << 8 : 0) | ((p & BMS_AL_SOC_LOW) ? 1L << 9 : 0) |
		 ((p & BMS_AL_COMM) || b->failsafe ? 1L << 10 : 0) | ((p & BMS_AL_MOS_FAULT) ? 1L << 13 : 0);
	long l = ((p & (BMS_AL_HW_FAULT | BMS_AL_SENSOR | BMS_AL_OTHER)) ? 1L << 9 : 0) |
		 ((p & BMS_AL_CELL_DIFF) ? 1L << 15 : 0);

	af_begin(f, 0x353);
	inv_cf_put16(f->data, h);
	inv_cf_put16(f->data + 2, l);
	return true;
}

/* 0x354: the highest and lowest cell (mV) and their numbers across the
 * string (0 unknown; Battery-Emulator sends 1 and 2): Pylontech HV's
 * 0x4230. */
static bool af_354(const struct inv_battery *b, struct gw_can_frame *f)
{
	ph_4230(b, f);
	return af_std(f, 0x354);
}

/* 0x355: the hottest and coldest sensor (0.1 degC + 1000; without
 * extremes the average for both; none: raw 0) and their numbers (a pack's
 * sensor; 0 for a bank's or unknown): Pylontech HV's 0x4240. */
static bool af_355(const struct inv_battery *b, struct gw_can_frame *f)
{
	ph_temps(b, f, 0x355, false, AF_TEMP_OFFSET);
	return af_std(f, 0x355);
}

/* 0x356: a cell's over- and under-voltage protection (mV): the CVL and the
 * DVL over the cells in series (down, up), as pylon-rs485's 0x47; 0 without
 * limits or cells. */
static bool af_356(const struct inv_battery *b, struct gw_can_frame *f)
{
	unsigned n = b->total_cells;
	bool have = (b->present & INV_HAS_LIMITS) && n;

	af_begin(f, 0x356);
	if (!have)
		return true;
	inv_cf_put16(f->data, inv_scale(b->cvl_v / n, 1000, INV_DOWN, 0, 0xFFFF));
	inv_cf_put16(f->data + 2, inv_scale(b->dvl_v / n, 1000, INV_UP, 0, 0xFFFF));
	return true;
}

/* 0x357: the warnings.  Bit 0 cell over-voltage, 1 cell under-voltage, 2
 * over-voltage, 3 under-voltage, 4 cell over-temperature, 5 cell
 * under-temperature, 6 other over-temperature (the MOSFETs), 8 charge
 * over-current, 10 SOC low. */
static bool af_357(const struct inv_battery *b, struct gw_can_frame *f)
{
	uint32_t w = (b->present & INV_HAS_ALARMS) ? b->warn : 0;

	af_begin(f, 0x357);
	inv_cf_put16(f->data, ((w & BMS_AL_CELL_OV) ? 1L << 0 : 0) | ((w & BMS_AL_CELL_UV) ? 1L << 1 : 0) |
		     ((w & BMS_AL_PACK_OV) ? 1L << 2 : 0) | ((w & BMS_AL_PACK_UV) ? 1L << 3 : 0) |
		     ((w & (BMS_AL_CHG_OT | BMS_AL_DSG_OT)) ? 1L << 4 : 0) |
		     ((w & (BMS_AL_CHG_UT | BMS_AL_DSG_UT)) ? 1L << 5 : 0) | ((w & BMS_AL_MOS_OT) ? 1L << 6 : 0) |
		     ((w & BMS_AL_CHG_OC) ? 1L << 8 : 0) | ((w & BMS_AL_SOC_LOW) ? 1L << 10 : 0));
	return true;
}

static bool af_358(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	af_begin(f, 0x358);
	return true;
}

/* 0x359 / 0x35A: characters 1-8 / 9-16 of the battery's serial number
 * (../PROTOCOLS.md §10a: "BMSGW00", the machine's tag; Battery-Emulator
 * writes "battery-" "emulator" there). */
static void af_serial(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id, size_t from)
{
	uint8_t s[21];

	for (unsigned part = 0; part < 3; part++)
		inv_serial_part(b, 0, part, s + 7 * part);
	af_begin(f, id);
	memcpy(f->data, s + from, 8);
}

static bool af_359(const struct inv_battery *b, struct gw_can_frame *f)
{
	af_serial(b, f, 0x359, 0);
	return true;
}

static bool af_35a(const struct inv_battery *b, struct gw_can_frame *f)
{
	af_serial(b, f, 0x35A, 8);
	return true;
}

static const struct inv_can_frame_fn af_frames[] = {
	{ 0x350, af_350 }, { 0x351, af_351 }, { 0x352, af_352 }, { 0x353, af_353 }, { 0x354, af_354 },
	{ 0x355, af_355 }, { 0x356, af_356 }, { 0x357, af_357 }, { 0x358, af_358 }, { 0x359, af_359 },
	{ 0x35A, af_35a },
};

/* The inverter's 0x305 (11 bits, any length: its arrival is the request;
 * Battery-Emulator answers every one): the set.  Nothing else is the
 * inverter's. */
static enum inv_rx af_heard(const struct gw_can_frame *f, struct inv_heard *h)
{
	if (f->rtr || f->ext || f->id != AF_REQUEST_ID || f->dlc > GW_CAN_MAX_DLC)
		return INV_RX_OTHER;
	h->frames++;
	return INV_RX_REQUEST;
}

const struct inv_codec inv_codec_afore_can = {
	.name = "afore-can",
	.can = {
		.frames = af_frames,
		.nframes = sizeof(af_frames) / sizeof(af_frames[0]),
		.answers = true,
		.heard = af_heard,
		.limits = af_encoded,
	},
};
