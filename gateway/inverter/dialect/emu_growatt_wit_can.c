/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_growatt_wit_can.c - the growatt-wit-can codec: a battery
 * for Growatt's WIT 50-100K-HU/AU, as "GROWATT BATTERY BMS CAN COMMUNICATION
 * PROTOCOL V1.1 2024.7.19" describes it through Battery-Emulator's
 * GROWATT-WIT-CAN (../PROTOCOLS.md §17).  29-bit identifiers PRI 6 . PG 2 .
 * FSN . TA . SA: the battery (SA 0xF3) sends 0x1A<FSN>FFF3 to all (TA
 * 0xFF), little endian, DLC 8:
 *
 *	100 ms  0xC3 the limits, 0xC4 the CV threshold, 0xC5 the state and the
 *	        prohibit bits, 0xC7 voltage and current, 0xCE / 0xCF the
 *	        extreme cells, 0xD8 / 0xD9 alarms and protections
 *	500 ms  0xC6 SOC, SOH, rated capacity; 0xC8 the software
 *	1 s     0xC9 / 0xCA module voltages, 0xCC / 0xCD temperatures, 0xD0
 *	        SOC of the clusters, 0xD1 energies and power
 *	2 s     0xC0 the composition
 *	0xC2, 0x80, 3 x 0x82 (product, software, serial) on each 0x1ABE
 *
 * Nothing before the inverter's first frame (0x1AB5-0x1AB8, 0x1ABE, matched
 * on the FSN as Battery-Emulator does); the stop is CCL / DCL 0 with the
 * prohibit bits of 0xC5 set. */
#include <string.h>

#include "../canframes.h"
#include "../invident.h"
#include "../invscale.h"

#define WIT_ID(fsn) (0x1A00FFF3u | ((uint32_t)(fsn) << 16))
#define WIT_CUR_MAX 10000      /* 0.1 A: 0-1000 A, the document's range */
#define WIT_VOLT_MAX 15000     /* 0.1 V: 0-1500 V */
#define WIT_CUR_OFFSET 10000   /* 0xC7: raw = 10 x I + 10000 */
#define WIT_TEMP_OFFSET 400    /* 0xCC / 0xCD: raw = 10 x T + 400 */
#define WIT_TEMP_MAX 1650      /* 0.1 degC raw: -40 to 125 degC */
#define WIT_POWER_OFFSET 32000 /* 0xD1: raw = W + 32000 */
#define WIT_THIRD_PARTY 13000  /* 0x80's DTC: a third-party battery */

/* The limits as its fields carry them (within the document's ranges). */
static void wit_limits(const struct inv_battery *b, struct inv_cf_limits *l)
{
	inv_cf_limits(b, l);
	l->ccl = l->ccl > WIT_CUR_MAX ? WIT_CUR_MAX : l->ccl;
	l->dcl = l->dcl > WIT_CUR_MAX ? WIT_CUR_MAX : l->dcl;
	l->cvl = l->cvl > WIT_VOLT_MAX ? WIT_VOLT_MAX : l->cvl;
	l->dvl = l->dvl > WIT_VOLT_MAX ? WIT_VOLT_MAX : l->dvl;
}

static void wit_encoded(const struct inv_battery *b, struct inv_encoded *e)
{
	struct inv_cf_limits l;

	wit_limits(b, &l);
	inv_cf_report(&l, e);
}

static void wit_begin(struct gw_can_frame *f, uint8_t fsn)
{
	inv_cf_begin(f, WIT_ID(fsn), 8);
	f->ext = true;
}

/* Stack, cluster, module, cell of an extreme: the source's pack and index
 * where it knows them, 1 otherwise (one stack, one cluster). */
static void wit_where(uint8_t *p, const struct inv_where *w)
{
	p[0] = p[1] = 1;
	p[2] = w->pack ? w->pack : 1;
	p[3] = w->index ? w->index : 1;
}

/* The modules in series the inverter is told: report_modules, else the
 * source's members in series, within 1-32. */
static unsigned wit_modules(const struct inv_battery *b)
{
	return inv_modules(b, b->modules ? b->modules : 1, 1, 32);
}

/* 0xC3: CCL, DCL (0.1 A), CVL, DVL (0.1 V). */
static bool wit_c3(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;

	wit_limits(b, &l);
	wit_begin(f, 0xC3);
	inv_cf_put16x4(f->data, l.ccl, l.dcl, l.cvl, l.dvl);
	return true;
}

/* 0xC4: bytes 4-5 the voltage where constant-voltage charging starts: the
 * CVL (Battery-Emulator sends 10 V less; ../PROTOCOLS.md §17). */
static bool wit_c4(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;

	wit_limits(b, &l);
	wit_begin(f, 0xC4);
	inv_cf_put16(f->data + 4, l.cvl);
	return true;
}

/* 0xC5: byte 0 the state (1 standby, 2 charging, 3 discharging above
 * 0.5 A, 5 fault for a stale source), byte 1 bit 0 charge prohibited, bit 1
 * force charge, byte 2 bit 0 discharge prohibited: prohibited exactly when
 * its current field is 0. */
static bool wit_c5(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;
	bool cur = inv_has(b, INV_HAS_CURRENT, b->current);

	wit_limits(b, &l);
	wit_begin(f, 0xC5);
	f->data[0] = b->failsafe ? 5 : cur && b->current > 0.5f ? 2 : cur && b->current < -0.5f ? 3 : 1;
	f->data[1] = (uint8_t)((l.ccl == 0 ? 0x01 : 0) | (l.force ? 0x02 : 0));
	f->data[2] = (uint8_t)(l.dcl == 0 ? 0x01 : 0);
	return true;
}

/* 0xC6: SOC (down) and SOH (nearest; 100 unknown; bit 7 "scrap" under 50 %,
 * as Battery-Emulator) in %, the rated capacity in 0.1 Ah (0 unknown). */
static bool wit_c6(const struct inv_battery *b, struct gw_can_frame *f)
{
	long soh = inv_cf_soh(b, 100);

	wit_begin(f, 0xC6);
	f->data[0] = (uint8_t)inv_cf_soc(b, 1, 0);
	f->data[1] = (uint8_t)(soh | (soh < 50 ? 0x80 : 0));
	inv_cf_put16(f->data + 2, inv_has(b, INV_HAS_FULL, b->full_ah) ? inv_scale(b->full_ah, 10, INV_NEAR, 0, 50000) : 0);
	return true;
}

/* 0xC7: voltage (0.1 V), current (raw 10 x I + 10000, + = charging). */
static bool wit_c7(const struct inv_battery *b, struct gw_can_frame *f)
{
	wit_begin(f, 0xC7);
	inv_cf_put16(f->data + 2, inv_has(b, INV_HAS_VOLTAGE, b->voltage) ?
		     inv_scale(b->voltage, 10, INV_NEAR, 0, WIT_VOLT_MAX) : 0);
	inv_cf_put16(f->data + 4, inv_has(b, INV_HAS_CURRENT, b->current) ?
		     inv_scale(b->current, 10, INV_NEAR, -WIT_CUR_OFFSET, 0xFFFF - WIT_CUR_OFFSET) + WIT_CUR_OFFSET :
		     WIT_CUR_OFFSET);
	return true;
}

/* 0xC8: the software: "BMGW", monitor version 1.0, boot 1, subversion 0. */
static bool wit_c8(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	wit_begin(f, 0xC8);
	memcpy(f->data, "BMGW\x01\x00\x01\x00", 8);
	return true;
}

/* A module's voltage in 0.01 V: the source's voltage over its modules. */
static long wit_module_cv(const struct inv_battery *b)
{
	return inv_has(b, INV_HAS_VOLTAGE, b->voltage) ?
	       inv_scale((double)b->voltage / wit_modules(b), 100, INV_NEAR, 0, 0xFFFF) : 0;
}

/* 0xC9: the highest module's voltage and the mean, 0.01 V; the source's
 * members in series are taken as equal (it gives no member's voltage). */
static bool wit_c9(const struct inv_battery *b, struct gw_can_frame *f)
{
	wit_begin(f, 0xC9);
	f->data[0] = f->data[1] = f->data[2] = 1;
	inv_cf_put16(f->data + 4, wit_module_cv(b));
	inv_cf_put16(f->data + 6, wit_module_cv(b));
	return true;
}

/* 0xCA: the lowest module's voltage. */
static bool wit_ca(const struct inv_battery *b, struct gw_can_frame *f)
{
	wit_begin(f, 0xCA);
	f->data[0] = f->data[1] = f->data[2] = 1;
	inv_cf_put16(f->data + 4, wit_module_cv(b));
	return true;
}

static long wit_temp(float t)
{
	return inv_scale(t, 10, INV_NEAR, -WIT_TEMP_OFFSET, WIT_TEMP_MAX - WIT_TEMP_OFFSET) + WIT_TEMP_OFFSET;
}

/* 0xCC: the hottest sensor and the mean of the hottest and the coldest
 * (raw 10 x T + 400). */
static bool wit_cc(const struct inv_battery *b, struct gw_can_frame *f)
{
	float hi, lo;

	inv_cf_temp_extremes(b, &hi, &lo);
	wit_begin(f, 0xCC);
	wit_where(f->data, &b->temp_max_at);
	inv_cf_put16(f->data + 4, wit_temp(hi));
	inv_cf_put16(f->data + 6, wit_temp((hi + lo) / 2));
	return true;
}

/* 0xCD: the coldest sensor; "ambient" the coldest too (as Battery-Emulator:
 * the source has no ambient sensor). */
static bool wit_cd(const struct inv_battery *b, struct gw_can_frame *f)
{
	float hi, lo;

	inv_cf_temp_extremes(b, &hi, &lo);
	wit_begin(f, 0xCD);
	wit_where(f->data, &b->temp_min_at);
	inv_cf_put16(f->data + 4, wit_temp(lo));
	inv_cf_put16(f->data + 6, wit_temp(lo));
	return true;
}

/* 0xCE: the highest cell and the mean of the highest and lowest, mV; 0xCF
 * the lowest (0 unknown). */
static bool wit_ce(const struct inv_battery *b, struct gw_can_frame *f)
{
	bool have = (b->present & INV_HAS_CELL_MINMAX) != 0;

	wit_begin(f, 0xCE);
	wit_where(f->data, &b->cell_max_at);
	inv_cf_put16(f->data + 4, have ? b->cell_max_mv : 0);
	inv_cf_put16(f->data + 6, have ? ((long)b->cell_max_mv + b->cell_min_mv + 1) / 2 : 0);
	return true;
}

static bool wit_cf(const struct inv_battery *b, struct gw_can_frame *f)
{
	wit_begin(f, 0xCF);
	wit_where(f->data, &b->cell_min_at);
	inv_cf_put16(f->data + 4, (b->present & INV_HAS_CELL_MINMAX) ? b->cell_min_mv : 0);
	return true;
}

/* 0xD0: the highest, lowest and mean SOC of the clusters: one cluster. */
static bool wit_d0(const struct inv_battery *b, struct gw_can_frame *f)
{
	wit_begin(f, 0xD0);
	f->data[0] = f->data[1] = f->data[2] = f->data[3] = 1;
	f->data[4] = f->data[5] = f->data[6] = (uint8_t)inv_cf_soc(b, 1, 0);
	return true;
}

/* 0xD1: the energies charged and discharged (u24 0.1 kWh: 0, bmsgw counts
 * none for an inverter), the power (raw W + 32000, + = charging). */
static bool wit_d1(const struct inv_battery *b, struct gw_can_frame *f)
{
	bool have = inv_has(b, INV_HAS_VOLTAGE, b->voltage) && inv_has(b, INV_HAS_CURRENT, b->current);

	wit_begin(f, 0xD1);
	inv_cf_put16(f->data + 6, have ? inv_scale((double)b->voltage * b->current, 1, INV_NEAR, -WIT_POWER_OFFSET,
						  0xFFFF - WIT_POWER_OFFSET) + WIT_POWER_OFFSET : WIT_POWER_OFFSET);
	return true;
}

/* 0xD8: charge alarms (the warnings), discharge alarms, charge
 * protections, discharge protections (the protections acting), u16 each,
 * in the bits Battery-Emulator names: charge 0 cell over-voltage, 3 too
 * cold, 4 too hot; discharge 0 cell under-voltage, 4 too hot, 6 SOC low. */
static uint16_t wit_chg_bits(uint32_t a)
{
	return (uint16_t)(((a & (BMS_AL_CELL_OV | BMS_AL_PACK_OV)) ? 0x01 : 0) | ((a & BMS_AL_CHG_UT) ? 0x08 : 0) |
			  ((a & BMS_AL_CHG_OT) ? 0x10 : 0));
}

static uint16_t wit_dsg_bits(uint32_t a)
{
	return (uint16_t)(((a & (BMS_AL_CELL_UV | BMS_AL_PACK_UV)) ? 0x01 : 0) |
			  ((a & (BMS_AL_DSG_OT | BMS_AL_MOS_OT)) ? 0x10 : 0) | ((a & BMS_AL_SOC_LOW) ? 0x40 : 0));
}

static bool wit_d8(const struct inv_battery *b, struct gw_can_frame *f)
{
	bool have = (b->present & INV_HAS_ALARMS) != 0;
	uint32_t p = have ? b->protect : 0, w = have ? b->warn : 0;

	wit_begin(f, 0xD8);
	inv_cf_put16x4(f->data, wit_chg_bits(w), wit_dsg_bits(w), wit_chg_bits(p), wit_dsg_bits(p));
	return true;
}

/* 0xD9: no fault code; the generic alarm (bit 0 cell difference, 6
 * temperature difference) and protection (bit 0 cell difference). */
static bool wit_d9(const struct inv_battery *b, struct gw_can_frame *f)
{
	bool have = (b->present & INV_HAS_ALARMS) != 0;
	uint32_t p = have ? b->protect : 0, w = have ? b->warn : 0;

	wit_begin(f, 0xD9);
	inv_cf_put16(f->data + 4, ((w & BMS_AL_CELL_DIFF) ? 0x01 : 0) | ((w & BMS_AL_TEMP_DIFF) ? 0x40 : 0));
	inv_cf_put16(f->data + 6, (p & BMS_AL_CELL_DIFF) ? 0x01 : 0);
	return true;
}

/* 0xC0: one stack, one cluster of `modules` in series, each of the cells in
 * series over the modules (0 unknown, at most 32), its nominal voltage
 * (0.01 V) and the rated capacity (0.1 Ah: the cluster's modules are in
 * series). */
static bool wit_c0(const struct inv_battery *b, struct gw_can_frame *f)
{
	unsigned m = wit_modules(b);
	unsigned cells = b->total_cells / m;

	wit_begin(f, 0xC0);
	f->data[0] = f->data[1] = 1;
	f->data[2] = (uint8_t)m;
	f->data[3] = (uint8_t)(cells > 32 ? 32 : cells);
	inv_cf_put16(f->data + 4, inv_scale(inv_nominal_v(b) / m, 100, INV_NEAR, 0, 0xFFFF));
	inv_cf_put16(f->data + 6, inv_has(b, INV_HAS_FULL, b->full_ah) ? inv_scale(b->full_ah, 10, INV_NEAR, 0, 0xFFFF) : 0);
	return true;
}

/* 0xC2: the product: cell model 3 (LFP 100 Ah) or 2 (NMC 50 Ah) by the
 * chemistry, 0 for LTO (none in the list); Battery-Emulator's cell maker 5,
 * pack version 1, BMS hardware 1. */
static bool wit_c2(const struct inv_battery *b, struct gw_can_frame *f)
{
	static const uint8_t model[] = { 3, 2, 0 };

	wit_begin(f, 0xC2);
	f->data[0] = model[b->chemistry < 3 ? b->chemistry : 0];
	f->data[1] = 5;
	f->data[4] = f->data[5] = 1;
	return true;
}

/* 0x80: the BMS software "BMGW" 1.0, DTC 13000: a third-party battery. */
static bool wit_80(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	wit_begin(f, 0x80);
	memcpy(f->data, "BMGW\x01\x00", 6);
	inv_cf_put16(f->data + 6, WIT_THIRD_PARTY);
	return true;
}

/* 0x82 x 3: byte 0 the frame 0-2, bytes 1-7 the serial (invident.h). */
static bool wit_82(const struct inv_battery *b, struct gw_can_frame *f, unsigned part)
{
	wit_begin(f, 0x82);
	f->data[0] = (uint8_t)part;
	inv_serial_part(b, 0, part, f->data + 1);
	return true;
}

static bool wit_82_0(const struct inv_battery *b, struct gw_can_frame *f)
{
	return wit_82(b, f, 0);
}

static bool wit_82_1(const struct inv_battery *b, struct gw_can_frame *f)
{
	return wit_82(b, f, 1);
}

static bool wit_82_2(const struct inv_battery *b, struct gw_can_frame *f)
{
	return wit_82(b, f, 2);
}

/* Battery-Emulator's order within each period. */
static const struct inv_can_frame_fn wit_frames[] = {
	{ WIT_ID(0xC3), wit_c3 }, { WIT_ID(0xC4), wit_c4 }, { WIT_ID(0xC5), wit_c5 }, { WIT_ID(0xC7), wit_c7 },
	{ WIT_ID(0xCE), wit_ce }, { WIT_ID(0xCF), wit_cf }, { WIT_ID(0xD8), wit_d8 }, { WIT_ID(0xD9), wit_d9 },
	{ WIT_ID(0xC6), wit_c6 }, { WIT_ID(0xC8), wit_c8 },
	{ WIT_ID(0xC9), wit_c9 }, { WIT_ID(0xCA), wit_ca }, { WIT_ID(0xCC), wit_cc }, { WIT_ID(0xCD), wit_cd },
	{ WIT_ID(0xD0), wit_d0 }, { WIT_ID(0xD1), wit_d1 },
	{ WIT_ID(0xC0), wit_c0 },
};

/* 0xC3 (the limits) and 0xC5 (the prohibit bits, the fault state) go out
 * of turn. */
static const struct inv_can_period wit_periods[] = {
	{ 0.1, true, 0 }, { 0.1, false, 0 }, { 0.1, true, 0 }, { 0.1, false, 0 },
	{ 0.1, false, 0 }, { 0.1, false, 0 }, { 0.1, false, 0 }, { 0.1, false, 0 },
	{ 0.5, false, 0 }, { 0.5, false, 0 },
	{ 1, false, 0 }, { 1, false, 0 }, { 1, false, 0 }, { 1, false, 0 }, { 1, false, 0 }, { 1, false, 0 },
	{ 2, false, 0 },
};

static const struct inv_can_frame_fn wit_ident[] = {
	{ WIT_ID(0xC2), wit_c2 }, { WIT_ID(0x80), wit_80 },
	{ WIT_ID(0x82), wit_82_0 }, { WIT_ID(0x82), wit_82_1 }, { WIT_ID(0x82), wit_82_2 },
};

/* The inverter's frames (29-bit, matched on the FSN): 0x1AB5 heartbeat,
 * 0x1AB6 time, 0x1AB7 its state, 0x1AB8 its bus voltage (bytes 0-1 each at
 * least), 0x1ABE its product, which asks for ours. */
static enum inv_rx wit_heard(const struct gw_can_frame *f, struct inv_heard *h)
{
	if (f->rtr || !f->ext || f->dlc > GW_CAN_MAX_DLC)
		return INV_RX_OTHER;
	unsigned fsn = (f->id >> 16) & 0xFFu;
	if ((fsn < 0xB5 || fsn > 0xB8) && fsn != 0xBE)
		return INV_RX_OTHER;
	h->frames++;
	if (f->dlc < 2)
		return INV_RX_BAD;
	return fsn == 0xBE ? INV_RX_IDENTIFY : INV_RX_ALIVE;
}

const struct inv_codec inv_codec_growatt_wit_can = {
	.name = "growatt-wit-can",
	.can = {
		.frames = wit_frames,
		.nframes = sizeof(wit_frames) / sizeof(wit_frames[0]),
		.heard = wit_heard,
		.limits = wit_encoded,
		.periods = wit_periods,
		.ident = wit_ident,
		.nident = sizeof(wit_ident) / sizeof(wit_ident[0]),
		.start = INV_START_HEARD,
		.ident_when_asked = true,
	},
};
