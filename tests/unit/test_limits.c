/* SPDX-License-Identifier: MIT */
/* tests/unit/test_limits.c - the charge and discharge limit engine
 * (gateway/engine/pack_limits.c): the tables in both interpolations, the CVL
 * machine (bulk, absorption, float, rebulk), the cell over-voltage rule,
 * the current limits' hold, ramp and anti-flap, FETs and alarms, the cell
 * and temperature tables on a BMS's own extremes (no cell list), a stale
 * pack, the bank rules and the flag word.  Traces run on a fake clock; the
 * expected numbers are worked out from the formulas in the comments. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../gateway/engine/pack_limits.h"
#include "check.h"

#define WALL0 ((int64_t)1700000000) /* 2023-11-14, a plausible clock */
#define ALL_CHANGED (GW_LIM_CHANGED_MODE | GW_LIM_CHANGED_CCL_REASON | GW_LIM_CHANGED_DCL_REASON)

static struct conf_limits cfg;
static struct gw_lim_state st;
static struct gw_limits out;

static void table(struct conf_table *t, int n, const double *xy)
{
	t->n = n;
	for (int i = 0; i < n; i++) {
		t->x[i] = xy[2 * i];
		t->y[i] = xy[2 * i + 1];
	}
}

/* The LFP defaults of [limits] (bmsgw.ini(5) "[limits]";
 * conf/conf.c is checked against them in test_conf_limits.c). */
static void lfp(struct conf_limits *c)
{
	static const double cc[] = { 3.375, 1, 3.400, 0.25, 3.425, 0.05, 3.450, 0.005, 3.500, 0 };
	static const double dc[] = { 3.190, 1, 3.100, 0.25, 3.000, 0.05, 2.900, 0.005, 2.800, 0 };
	static const double ct[] = { 1, 0, 3, 0.1, 5, 0.25, 10, 1, 40, 1, 45, 0.5, 50, 0.25, 55, 0 };
	static const double dt[] = { -10, 0, 0, 0.25, 5, 0.5, 10, 1, 40, 1, 45, 0.5, 50, 0.25, 55, 0 };
	static const double mt[] = { 70, 1, 80, 0.25, 90, 0 };
	memset(c, 0, sizeof(*c));
	c->enabled = true;
	c->chemistry = CONF_CHEM_LFP;
	c->max_cell_voltage = 3.45;
	c->float_cell_voltage = 3.375;
	c->min_cell_voltage = 2.90;
	c->max_charge_current = 50;
	c->max_discharge_current = 60;
	c->absorption_time = 900;
	c->absorption_cell_diff = 0.010;
	c->rebulk_soc = 80;
	c->rebulk_cell_diff = 0.080;
	table(&c->charge_cell, 5, cc);
	table(&c->discharge_cell, 5, dc);
	table(&c->charge_temp, 8, ct);
	table(&c->discharge_temp, 8, dt);
	table(&c->mos_temp, 3, mt);
	c->interpolation = CONF_INTERP_LINEAR;
	c->recovery_hold = 30;
	c->recovery_rate = 5;
	c->cvl_recovery_hold = 60;
	c->cvl_rate = 0.001;
	c->force_charge_soc = 5;
	c->full_charge_days = 30;
	c->bank_rule = CONF_BANK_MIN;
	c->bank_stale = CONF_BANK_STALE_DEGRADE;
	c->unknown_temp_fraction = 0.1;
	c->voltage_drop = 0;
	c->absorption_tolerance = 0.05;
	c->tail_current = 0;
	c->max_bulk_time = 0;
	c->table_hysteresis = 0.020;
	c->limit_exceeded = 10;
}

/* A healthy 16-cell pack: every cell at mv, sensors 25 degC, MOSFET 30
 * degC, SOC 50 %, both FETs on, no alarm. */
static void pack16(struct bms_snapshot *s, int mv)
{
	memset(s, 0, sizeof(*s));
	s->present = BMS_HAS_VOLTAGE | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP |
		     BMS_HAS_MOSFETS | BMS_HAS_SOC | BMS_HAS_ALARMS;
	s->ncells = 16;
	for (int i = 0; i < 16; i++)
		s->cell_mv[i] = (uint16_t)mv;
	s->voltage = 16 * mv / 1000.0f;
	s->ntemps = 2;
	s->temp_c[0] = s->temp_c[1] = 25;
	s->mos_temp_c = 30;
	s->soc = 50;
	s->chg_mos = s->dsg_mos = true;
}

static void fresh(void)
{
	lfp(&cfg);
	gw_limits_init(&st);
	memset(&out, 0, sizeof(out));
}

static unsigned run(double t, const struct bms_snapshot *s)
{
	return gw_limits_step(&cfg, NULL, s, t, WALL0 + (int64_t)t, &st, &out);
}

/* ---- tables ------------------------------------------------------------- */

static void test_tables(void)
{
	lfp(&cfg);
	const enum conf_interp L = CONF_INTERP_LINEAR, S = CONF_INTERP_STEP;
	const struct conf_table *cc = &cfg.charge_cell, *dc = &cfg.discharge_cell;
	/* charge cell, written ascending: below the first point the first
	 * fraction, above the last the last, at a point its own */
	CHECK_NEAR(gw_limits_table(cc, 3.200, L), 1, 1e-12);
	CHECK_NEAR(gw_limits_table(cc, 3.200, S), 1, 1e-12);
	CHECK_NEAR(gw_limits_table(cc, 3.600, L), 0, 1e-12);
	CHECK_NEAR(gw_limits_table(cc, 3.600, S), 0, 1e-12);
	CHECK_NEAR(gw_limits_table(cc, 3.400, L), 0.25, 1e-12);
	CHECK_NEAR(gw_limits_table(cc, 3.400, S), 0.25, 1e-12);
	CHECK_NEAR(gw_limits_table(cc, 3.375, S), 1, 1e-12);
	/* halfway 3.375..3.400: 1 + (0.25 - 1) * 0.5; step: the lower of the two */
	CHECK_NEAR(gw_limits_table(cc, 3.3875, L), 0.625, 1e-12);
	CHECK_NEAR(gw_limits_table(cc, 3.3875, S), 0.25, 1e-12);
	CHECK_NEAR(gw_limits_table(cc, 3.376, S), 0.25, 1e-12);
	/* 3.475: 0.005 + (0 - 0.005) * 0.5 */
	CHECK_NEAR(gw_limits_table(cc, 3.475, L), 0.0025, 1e-12);
	CHECK_NEAR(gw_limits_table(cc, 3.475, S), 0, 1e-12);
	/* discharge cell, written descending */
	CHECK_NEAR(gw_limits_table(dc, 3.300, L), 1, 1e-12);
	CHECK_NEAR(gw_limits_table(dc, 3.300, S), 1, 1e-12);
	CHECK_NEAR(gw_limits_table(dc, 2.700, L), 0, 1e-12);
	CHECK_NEAR(gw_limits_table(dc, 2.700, S), 0, 1e-12);
	CHECK_NEAR(gw_limits_table(dc, 3.145, L), 0.625, 1e-12);
	CHECK_NEAR(gw_limits_table(dc, 3.145, S), 0.25, 1e-12);
	CHECK_NEAR(gw_limits_table(dc, 3.190, S), 1, 1e-12);
	CHECK_NEAR(gw_limits_table(dc, 3.000, S), 0.05, 1e-12);
	CHECK_NEAR(gw_limits_table(dc, 2.950, L), 0.0275, 1e-12);
	CHECK_NEAR(gw_limits_table(dc, 2.950, S), 0.005, 1e-12);
	/* charge temperature: cold side rising, hot side falling */
	const struct conf_table *ct = &cfg.charge_temp, *dt = &cfg.discharge_temp;
	CHECK_NEAR(gw_limits_table(ct, -5, L), 0, 1e-12);
	CHECK_NEAR(gw_limits_table(ct, 60, S), 0, 1e-12);
	/* lfp's table moved up by a sensor's error: no charge to 1 degC, 5 %
	 * at 2 degC (was 25 %) */
	CHECK_NEAR(gw_limits_table(ct, 1, L), 0, 1e-12);
	CHECK_NEAR(gw_limits_table(ct, 1, S), 0, 1e-12);
	CHECK_NEAR(gw_limits_table(ct, 2, L), 0.05, 1e-12);
	CHECK_NEAR(gw_limits_table(ct, 2, S), 0, 1e-12);
	CHECK_NEAR(gw_limits_table(ct, 7.5, L), 0.625, 1e-12);
	CHECK_NEAR(gw_limits_table(ct, 7.5, S), 0.25, 1e-12);
	CHECK_NEAR(gw_limits_table(ct, 10, S), 1, 1e-12);
	CHECK_NEAR(gw_limits_table(ct, 25, S), 1, 1e-12);
	CHECK_NEAR(gw_limits_table(ct, 42.5, L), 0.75, 1e-12);
	CHECK_NEAR(gw_limits_table(ct, 42.5, S), 0.5, 1e-12);
	CHECK_NEAR(gw_limits_table(ct, 40, S), 1, 1e-12);
	/* discharge temperature */
	CHECK_NEAR(gw_limits_table(dt, -15, L), 0, 1e-12);
	CHECK_NEAR(gw_limits_table(dt, -5, L), 0.125, 1e-12);
	CHECK_NEAR(gw_limits_table(dt, -5, S), 0, 1e-12);
	CHECK_NEAR(gw_limits_table(dt, 0, S), 0.25, 1e-12);
	CHECK_NEAR(gw_limits_table(dt, 52, L), 0.15, 1e-12);
	CHECK_NEAR(gw_limits_table(dt, 52, S), 0, 1e-12);
	CHECK_NEAR(gw_limits_table(dt, 70, L), 0, 1e-12);
	/* MOSFET */
	const struct conf_table *mt = &cfg.mos_temp;
	CHECK_NEAR(gw_limits_table(mt, 60, L), 1, 1e-12);
	CHECK_NEAR(gw_limits_table(mt, 60, S), 1, 1e-12);
	CHECK_NEAR(gw_limits_table(mt, 75, L), 0.625, 1e-12);
	CHECK_NEAR(gw_limits_table(mt, 75, S), 0.25, 1e-12);
	CHECK_NEAR(gw_limits_table(mt, 80, S), 0.25, 1e-12);
	CHECK_NEAR(gw_limits_table(mt, 85, L), 0.125, 1e-12);
	CHECK_NEAR(gw_limits_table(mt, 95, L), 0, 1e-12);
}

static void test_tables_soc(void)
{
	lfp(&cfg);
	const enum conf_interp L = CONF_INTERP_LINEAR, S = CONF_INTERP_STEP;
	const struct conf_table *cc = &cfg.charge_cell, *dc = &cfg.discharge_cell;
	const struct conf_table *ct = &cfg.charge_temp, *dt = &cfg.discharge_temp, *mt = &cfg.mos_temp;
	/* the optional SOC tables (the examples of the [limits] section) */
	static const double sc[] = { 85, 1, 90, 0.5, 95, 0.2, 98, 0.1 };
	static const double sd[] = { 20, 1, 15, 0.5, 10, 0.2, 5, 0.1 };
	struct conf_table soc_c, soc_d;
	table(&soc_c, 4, sc);
	table(&soc_d, 4, sd);
	CHECK_NEAR(gw_limits_table(&soc_c, 80, L), 1, 1e-12);
	CHECK_NEAR(gw_limits_table(&soc_c, 92.5, L), 0.35, 1e-12);
	CHECK_NEAR(gw_limits_table(&soc_c, 92.5, S), 0.2, 1e-12);
	CHECK_NEAR(gw_limits_table(&soc_c, 99, S), 0.1, 1e-12);
	CHECK_NEAR(gw_limits_table(&soc_d, 25, S), 1, 1e-12);
	CHECK_NEAR(gw_limits_table(&soc_d, 12.5, L), 0.35, 1e-12);
	CHECK_NEAR(gw_limits_table(&soc_d, 12.5, S), 0.2, 1e-12);
	CHECK_NEAR(gw_limits_table(&soc_d, 3, L), 0.1, 1e-12);
	/* empty table, one point, not a number */
	struct conf_table none = { 0 }, one = { 1, { 10 }, { 0.4 } };
	CHECK_NEAR(gw_limits_table(&none, 3.3, L), 1, 1e-12);
	CHECK_NEAR(gw_limits_table(&one, -100, L), 0.4, 1e-12);
	CHECK_NEAR(gw_limits_table(&one, 100, S), 0.4, 1e-12);
	CHECK_NEAR(gw_limits_table(cc, NAN, L), 1, 1e-12);
	/* step never allows more than linear, on every default table */
	const struct conf_table *all[] = { cc, dc, ct, dt, mt, &soc_c, &soc_d };
	static const double lo[] = { 3.2, 2.7, -20, -20, 50, 70, 0 }, hi[] = { 3.6, 3.3, 70, 70, 100, 100, 30 };
	int bad = 0;
	for (int k = 0; k < 7; k++)
		for (int i = 0; i <= 10000; i++) {
			double v = lo[k] + (hi[k] - lo[k]) * i / 10000;
			if (gw_limits_table(all[k], v, S) > gw_limits_table(all[k], v, L) + 1e-12)
				bad++;
		}
	CHECK_EQ_INT(bad, 0);
}

/* Every table binds through the engine, with its reason (the first fresh
 * step takes its targets as they are). */
static void test_engine_tables(void)
{
	struct bms_snapshot s;
	/* the highest cell 3.388 V: 1 - 0.75 * (0.013 / 0.025) = 0.61 -> 30.5 A */
	fresh();
	pack16(&s, 3300);
	s.cell_mv[7] = 3388;
	CHECK_EQ_INT(run(0, &s), ALL_CHANGED);
	CHECK_NEAR(out.ccl_a, 30.5, 1e-9);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_CELL_VOLTAGE);
	CHECK_NEAR(out.dcl_a, 60, 1e-9);
	CHECK_EQ_INT(out.dcl_reason, GW_LR_NONE);
	CHECK_EQ_INT(out.mode, GW_LIM_BULK);
	CHECK_NEAR(out.cvl_v, 55.2, 1e-9);
	CHECK_NEAR(out.dvl_v, 46.4, 1e-9);
	CHECK(out.volt_valid && out.enabled && !out.failsafe);
	/* the same in step mode: the lower of 1 and 0.25 */
	fresh();
	cfg.interpolation = CONF_INTERP_STEP;
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 12.5, 1e-9);
	/* the lowest cell 3.05 V: 0.05 + 0.2 * 0.5 = 0.15 -> 9 A of 60 */
	fresh();
	pack16(&s, 3300);
	s.cell_mv[3] = 3050;
	run(0, &s);
	CHECK_NEAR(out.dcl_a, 9, 1e-9);
	CHECK_EQ_INT(out.dcl_reason, GW_LR_CELL_VOLTAGE);
	CHECK_NEAR(out.ccl_a, 50, 1e-9);
	/* the lowest sensor 1 degC: charge 0 (lfp, a sensor's error of margin
	 * over 0 degC), discharge 0.25 + 0.25 * 0.2 = 0.3 -> 18 A */
	fresh();
	pack16(&s, 3300);
	s.temp_c[1] = 1;
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 0, 1e-9);
	CHECK_NEAR(out.dcl_a, 18, 1e-9);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_TEMPERATURE);
	CHECK_EQ_INT(out.dcl_reason, GW_LR_TEMPERATURE);
	/* the highest sensor 47 degC (the other at 1 degC would bind lower:
	 * set it to 25): 0.5 - 0.25 * 0.4 = 0.4 -> 20 A, 24 A */
	s.temp_c[1] = 25;
	s.temp_c[0] = 47;
	fresh();
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 20, 1e-9);
	CHECK_NEAR(out.dcl_a, 24, 1e-9);
	/* both sensors count: cold 4 degC (0.1 + 0.15/2) and hot 47 degC (0.4) */
	s.temp_c[1] = 4;
	fresh();
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 50 * (0.1 + 0.15 / 2), 1e-9);
	CHECK_NEAR(out.dcl_a, 24, 1e-9); /* discharge at 4 degC: 0.4 too */
	/* MOSFET 75 degC: 0.625 both ways */
	fresh();
	pack16(&s, 3300);
	s.mos_temp_c = 75;
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 31.25, 1e-9);
	CHECK_NEAR(out.dcl_a, 37.5, 1e-9);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_MOS_TEMPERATURE);
	CHECK_EQ_INT(out.dcl_reason, GW_LR_MOS_TEMPERATURE);
	/* without the MOS temperature bit the value is not used */
	s.present &= ~(uint32_t)BMS_HAS_MOS_TEMP;
	fresh();
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 50, 1e-9);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_NONE);
}

/* The SOC tables and the BMS's own limits through the engine. */
static void test_engine_soc_bms(void)
{
	struct bms_snapshot s;
	/* SOC tables, only when set */
	static const double sc[] = { 85, 1, 90, 0.5, 95, 0.2, 98, 0.1 };
	static const double sd[] = { 20, 1, 15, 0.5, 10, 0.2, 5, 0.1 };
	fresh();
	pack16(&s, 3300);
	s.soc = 92.5;
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 50, 1e-9); /* not set: not used */
	fresh();
	table(&cfg.soc_charge, 4, sc);
	table(&cfg.soc_discharge, 4, sd);
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 17.5, 1e-9);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_SOC);
	CHECK_NEAR(out.dcl_a, 60, 1e-9);
	s.soc = 12.5;
	fresh();
	table(&cfg.soc_charge, 4, sc);
	table(&cfg.soc_discharge, 4, sd);
	cfg.interpolation = CONF_INTERP_STEP;
	run(0, &s);
	CHECK_NEAR(out.dcl_a, 12, 1e-9);
	CHECK_EQ_INT(out.dcl_reason, GW_LR_SOC);
	/* the BMS's own limits cap; one above the max does not bind */
	fresh();
	pack16(&s, 3300);
	s.present |= BMS_HAS_CUR_LIMITS;
	s.bms_ccl_a = 20;
	s.bms_dcl_a = 100;
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 20, 1e-9);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_BMS_LIMIT);
	CHECK_NEAR(out.dcl_a, 60, 1e-9);
	CHECK_EQ_INT(out.dcl_reason, GW_LR_NONE);
	/* the lowest limit binds: cell table 30.5 A under a BMS limit of 40 A */
	fresh();
	s.bms_ccl_a = 40;
	s.cell_mv[0] = 3388;
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 30.5, 1e-9);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_CELL_VOLTAGE);
	/* the BMS's voltage limits: its CVL caps, its DVL raises */
	fresh();
	pack16(&s, 3300);
	s.present |= BMS_HAS_VOLT_LIMITS;
	s.bms_cvl_v = 54.8f;
	s.bms_dvl_v = 48;
	run(0, &s);
	CHECK_NEAR(out.cvl_v, 54.8, 1e-5);
	CHECK_NEAR(out.dvl_v, 48, 1e-9);
	s.bms_cvl_v = 58;
	s.bms_dvl_v = 40;
	run(1, &s);
	CHECK_NEAR(out.cvl_v, 55.2, 1e-9);
	CHECK_NEAR(out.dvl_v, 46.4, 1e-9);
}


/* ---- the CVL machine -------------------------------------------------------- */

/* From a step at t0 with every cell at 3.450 V (the sum at Vmax = 55.2 V,
 * spread 0): absorption, then float after 900 s.  Returns the time of the
 * first float step. */
static double to_float(double t0, struct bms_snapshot *s, float soc)
{
	pack16(s, 3450);
	s->soc = soc;
	double t = t0;
	while (out.mode != GW_LIM_FLOAT && t < t0 + 2000)
		run(t++, s);
	return t - 1;
}

static void test_cvl_machine(void)
{
	struct bms_snapshot s;
	fresh();
	pack16(&s, 3300);
	CHECK_EQ_INT(run(0, &s), ALL_CHANGED);
	CHECK_EQ_INT(out.mode, GW_LIM_BULK);
	CHECK_NEAR(out.cvl_v, 55.2, 1e-9);
	CHECK_EQ_INT(run(1, &s), 0);
	/* the sum reaches 16 x 3.45 with the cells together: absorption (and
	 * the charge cell table at 3.45 V: 0.005 x 50 A) */
	pack16(&s, 3450);
	CHECK_EQ_INT(run(2, &s), GW_LIM_CHANGED_MODE | GW_LIM_CHANGED_CCL_REASON);
	CHECK_NEAR(out.ccl_a, 0.25, 1e-9);
	CHECK_EQ_INT(out.mode, GW_LIM_ABSORPTION);
	CHECK_NEAR(out.cvl_v, 55.2, 1e-9);
	int bad = 0;
	for (int t = 3; t <= 901; t++)
		bad += run(t, &s) != 0 || out.mode != GW_LIM_ABSORPTION || fabs(out.cvl_v - 55.2) > 1e-9;
	CHECK_EQ_INT(bad, 0);
	/* 900 s after the start (t = 2): float, the CVL ramps down at
	 * 16 x 0.001 V/s from 55.2 toward 16 x 3.375 = 54.0, checked every
	 * second, but never under the battery less 0.05 V: with the cells
	 * still at 3.450 V (55.2 V) it stops at 55.15 V ... */
	CHECK_EQ_INT(run(902, &s), GW_LIM_CHANGED_MODE);
	CHECK_EQ_INT(out.mode, GW_LIM_FLOAT);
	CHECK_NEAR(out.cvl_v, 55.184, 1e-9);
	double last = out.cvl_v;
	int off = 0, jump = 0;
	for (int t = 903; t <= 950; t++) {
		run(t, &s);
		double want = fmax(55.15, 55.2 - 0.016 * (t - 901));
		off += fabs(out.cvl_v - want) > 1e-5 || out.mode != GW_LIM_FLOAT;
		jump += last - out.cvl_v > 0.016 + 1e-9 || out.cvl_v > last;
		last = out.cvl_v;
	}
	CHECK_EQ_INT(off, 0);
	CHECK_NEAR(out.cvl_v, 55.15, 1e-5); /* the pack's voltage is a float */
	CHECK_NEAR(out.ccl_a, 0.25, 1e-9); /* charging not stopped: float follows, it wants nothing lower */
	/* ... and follows the cells down as they relax: 3.400 V (54.4 V), then
	 * 3.350 V (53.6 V: under float, so the ramp ends at 54.0) */
	pack16(&s, 3400);
	for (int t = 951; t <= 1000; t++) {
		run(t, &s);
		off += fabs(out.cvl_v - fmax(54.35, 55.15 - 0.016 * (t - 950))) > 1e-5;
		jump += last - out.cvl_v > 0.016 + 1e-9 || out.cvl_v > last;
		last = out.cvl_v;
	}
	CHECK_NEAR(out.cvl_v, 54.35, 1e-5);
	pack16(&s, 3350);
	for (int t = 1001; t <= 1100; t++) {
		run(t, &s);
		off += fabs(out.cvl_v - fmax(54.0, 54.35 - 0.016 * (t - 1000))) > 1e-5 || out.mode != GW_LIM_FLOAT;
		jump += last - out.cvl_v > 0.016 + 1e-9 || out.cvl_v > last;
		last = out.cvl_v;
	}
	CHECK_EQ_INT(off, 0);
	CHECK_EQ_INT(jump, 0);
	CHECK_NEAR(out.cvl_v, 54.0, 1e-9);
	/* the SOC has been 50 % all along, never at rebulk_soc in float: the
	 * SOC rule is not armed (a BMS whose SOC stays low when full would
	 * loop through absorption) */
	CHECK_EQ_INT(out.mode, GW_LIM_FLOAT);
	s.soc = 100;
	run(1101, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_FLOAT);
	s.soc = 80;
	run(1102, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_FLOAT);
	/* below rebulk_soc: bulk; the CVL climbs from float at 0.016 V/s, no hold */
	pack16(&s, 3300);
	s.soc = 79.9f;
	CHECK_EQ_INT(run(1103, &s), GW_LIM_CHANGED_MODE);
	CHECK_EQ_INT(out.mode, GW_LIM_BULK);
	CHECK_NEAR(out.cvl_v, 54.0, 1e-9);
	off = 0;
	for (int t = 1104; t <= 1200; t++) {
		run(t, &s);
		off += fabs(out.cvl_v - fmin(55.2, 54.0 + 0.016 * (t - 1103))) > 1e-9 || out.mode != GW_LIM_BULK;
	}
	CHECK_EQ_INT(off, 0);
	CHECK(!st.cvl_limited);

	/* rebulk at a spread of 80 mV, not at 79 */
	double tf = to_float(2000, &s, 100);
	CHECK_NEAR(tf, 2900, 1e-9); /* absorption from 2000 */
	s.cell_mv[5] = 3371;
	run(tf + 1, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_FLOAT);
	s.cell_mv[5] = 3370;
	CHECK_EQ_INT(run(tf + 2, &s), GW_LIM_CHANGED_MODE);
	CHECK_EQ_INT(out.mode, GW_LIM_BULK);

	/* float entered at 70 %: the SOC rule arms only at 80 % */
	fresh();
	tf = to_float(0, &s, 70);
	CHECK_EQ_INT(out.mode, GW_LIM_FLOAT);
	s.soc = 60;
	run(tf + 1, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_FLOAT);
	s.soc = 85;
	run(tf + 2, &s);
	s.soc = 79;
	run(tf + 3, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_BULK);
}

static void test_absorption(void)
{
	struct bms_snapshot s;
	/* the timer restarts when the spread widens beyond 10 + 3 mV */
	fresh();
	pack16(&s, 3450);
	run(0, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_ABSORPTION);
	for (int t = 1; t < 500; t++)
		run(t, &s);
	s.cell_mv[9] = 3436; /* spread 14 mV */
	run(500, &s);
	s.cell_mv[9] = 3450;
	for (int t = 501; t < 1400; t++)
		run(t, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_ABSORPTION);
	run(1400, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_FLOAT);
	/* 13 mV does not restart it */
	fresh();
	pack16(&s, 3450);
	run(0, &s);
	for (int t = 1; t < 900; t++) {
		s.cell_mv[9] = t == 500 ? 3437 : 3450;
		run(t, &s);
	}
	CHECK_EQ_INT(out.mode, GW_LIM_ABSORPTION);
	run(900, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_FLOAT);
	/* back to bulk when the sum falls 0.5 V under Vmax (54.7 V) */
	fresh();
	pack16(&s, 3450);
	run(0, &s);
	pack16(&s, 3419); /* 54.704 V */
	run(1, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_ABSORPTION);
	pack16(&s, 3418); /* 54.688 V */
	run(2, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_BULK);
	/* entry: the spread must be <= 10 mV */
	fresh();
	pack16(&s, 3452);
	s.cell_mv[0] = 3441; /* sum 55.221 V, spread 11 mV */
	run(0, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_BULK);
	s.cell_mv[0] = 3442; /* sum 55.222 V, spread 10 mV */
	run(1, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_ABSORPTION);
	/* and the sum must reach Vmax less absorption_tolerance (0.05 V per 16
	 * cells): 16 x 3.449 = 55.184 V does, 16 x 3.446 = 55.136 V does not */
	fresh();
	pack16(&s, 3449);
	run(0, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_ABSORPTION);
	fresh();
	pack16(&s, 3446);
	run(0, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_BULK);
	/* with no tolerance, Vmax exactly (dbus-serialbattery's rule) */
	fresh();
	cfg.absorption_tolerance = 0;
	pack16(&s, 3449);
	run(0, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_BULK);
	pack16(&s, 3450);
	run(1, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_ABSORPTION);
}

/* The cell over-voltage rule: down at once by the sum of the excesses,
 * back after 60 s at 16 x 0.001 V/s. */
static void test_ovp(void)
{
	struct bms_snapshot s;
	fresh();
	pack16(&s, 3440);
	s.cell_mv[4] = 3470; /* sum 55.07, excess 0.020 */
	run(0, &s);
	CHECK_NEAR(out.cvl_v, 55.05, 1e-9);
	CHECK_EQ_INT(out.mode, GW_LIM_BULK);
	pack16(&s, 3440);
	int off = 0;
	for (int t = 1; t <= 80; t++) {
		run(t, &s);
		off += fabs(out.cvl_v - fmin(55.2, 55.05 + 0.016 * fmax(0, t - 60))) > 1e-9;
	}
	CHECK_EQ_INT(off, 0);
	CHECK(!st.cvl_limited);
	/* a new excess during the ramp: down at once, the hold again */
	fresh();
	pack16(&s, 3440);
	s.cell_mv[4] = 3470;
	run(0, &s);
	pack16(&s, 3440);
	for (int t = 1; t <= 65; t++)
		run(t, &s);
	CHECK_NEAR(out.cvl_v, 55.05 + 0.016 * 5, 1e-9);
	s.cell_mv[2] = 3460; /* sum 55.06 - 0.01 */
	run(66, &s);
	CHECK_NEAR(out.cvl_v, 55.05, 1e-9);
	s.cell_mv[2] = 3440;
	off = 0;
	for (int t = 67; t <= 140; t++) {
		run(t, &s);
		off += fabs(out.cvl_v - fmin(55.2, 55.05 + 0.016 * fmax(0, t - 126))) > 1e-9;
	}
	CHECK_EQ_INT(off, 0);
	/* several cells: 55.1 - (0.010 + 0.030) */
	fresh();
	pack16(&s, 3440);
	s.cell_mv[0] = 3460;
	s.cell_mv[1] = 3480;
	run(0, &s);
	CHECK_NEAR(out.cvl_v, 55.06, 1e-9);
	/* never below 16 x 2.9 = 46.4: 46.35 - 0.15 would be 46.2 */
	fresh();
	pack16(&s, 2850);
	s.cell_mv[15] = 3600;
	run(0, &s);
	CHECK_NEAR(out.cvl_v, 46.4, 1e-9);
}

/* The cell over-voltage rule in absorption, not in float. */
static void test_ovp_modes(void)
{
	struct bms_snapshot s;
	/* in absorption too (spread 11 mV: no restart): 55.195 - 0.010 */
	fresh();
	pack16(&s, 3450);
	run(0, &s);
	pack16(&s, 3449);
	s.cell_mv[3] = 3460;
	run(1, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_ABSORPTION);
	CHECK_NEAR(out.cvl_v, 55.185, 1e-9);
	/* in float too: the lower of the ramp and the over-voltage rule
	 * (spread 60 mV: 15 cells at 3.400, one at 3.460: 54.46 - 0.010) */
	fresh();
	double tf = to_float(0, &s, 100);
	pack16(&s, 3400);
	s.cell_mv[3] = 3460;
	run(tf + 1, &s);
	run(tf + 2, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_FLOAT);
	CHECK_NEAR(out.cvl_v, 54.45, 1e-5);
	CHECK_NEAR(out.bulk_cvl_v, 54.45, 1e-5);
	/* a cell over-voltage that would put the CVL under the battery: the CVL
	 * stays at the battery less 0.05 V and charging stops through the CCL.
	 * 12 cells at 3.3 V and 4 at 3.8 V (sum 54.8 V, still absorption; the
	 * spread restarts the timer): the rule's 54.8 - 4 x 0.35 = 53.4 V */
	fresh();
	cfg.absorption_time = 10;
	pack16(&s, 3450);
	run(0, &s);
	pack16(&s, 3300);
	for (int i = 0; i < 4; i++)
		s.cell_mv[i] = 3800;
	s.voltage = 54.8f;
	run(1, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_ABSORPTION);
	CHECK_NEAR(out.cvl_v, 54.75, 1e-5);
	CHECK_NEAR(out.bulk_cvl_v, 53.4, 1e-9);
	CHECK_NEAR(out.ccl_a, 0, 1e-12);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_CELL_VOLTAGE);
	pack16(&s, 3450);
	for (int t = 2; t <= 10; t++)
		run(t, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_ABSORPTION);
	CHECK_NEAR(out.bulk_cvl_v, 53.4, 1e-9); /* held */
	CHECK_NEAR(out.cvl_v, 55.15, 1e-5);     /* at the battery, not under it */
	CHECK_NEAR(out.ccl_a, 0, 1e-12);
	run(11, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_FLOAT);
	/* relaxed to 3.300 V a cell: the float ramp (from 53.4 toward 54.0)
	 * stays under the rule's CVL held at 53.4 until its hold ends (60 s
	 * after t = 1), which then climbs at 0.016 V/s */
	pack16(&s, 3300);
	int off = 0;
	for (int t = 12; t <= 120; t++) {
		run(t, &s);
		off += fabs(out.cvl_v - fmin(54.0, 53.4 + 0.016 * fmax(0, t - 61))) > 1e-9 || out.mode != GW_LIM_FLOAT;
	}
	CHECK_EQ_INT(off, 0);
	CHECK_NEAR(out.cvl_v, 54.0, 1e-9);
}

/* ---- current limits ------------------------------------------------------- */

static void test_current_hold_ramp(void)
{
	struct bms_snapshot s;
	fresh();
	pack16(&s, 3300);
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 50, 1e-9);
	/* MOSFET 85 degC: 0.125, down at once */
	s.mos_temp_c = 85;
	CHECK_EQ_INT(run(1, &s), GW_LIM_CHANGED_CCL_REASON | GW_LIM_CHANGED_DCL_REASON);
	CHECK_NEAR(out.ccl_a, 6.25, 1e-9);
	CHECK_NEAR(out.dcl_a, 7.5, 1e-9);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_MOS_TEMPERATURE);
	/* cool again: 30 s hold from t = 2, then 5 A/s; the reason stays
	 * until the target is reached; a poll at t + 0.5 between the ticks */
	s.mos_temp_c = 30;
	int off = 0, why = 0, changes = 0;
	for (double t = 2; t <= 50; t += (t >= 33 && t < 35) ? 0.5 : 1) {
		unsigned ch = run(t, &s);
		off += fabs(out.ccl_a - fmin(50, 6.25 + 5 * fmax(0, t - 32))) > 1e-9;
		off += fabs(out.dcl_a - fmin(60, 7.5 + 5 * fmax(0, t - 32))) > 1e-9;
		why += out.ccl_reason != (t < 40.75 ? GW_LR_MOS_TEMPERATURE : GW_LR_NONE);
		why += out.dcl_reason != (t < 42.5 ? GW_LR_MOS_TEMPERATURE : GW_LR_NONE);
		if (ch)
			changes++;
	}
	CHECK_EQ_INT(off, 0);
	CHECK_EQ_INT(why, 0);
	CHECK_EQ_INT(changes, 2); /* once for the CCL reason, once for the DCL's */
	/* a fall during the hold starts it again */
	s.mos_temp_c = 85;
	run(51, &s);
	s.mos_temp_c = 30;
	for (int t = 52; t <= 60; t++)
		run(t, &s);
	s.mos_temp_c = 85;
	run(61, &s);
	s.mos_temp_c = 30;
	for (int t = 62; t <= 92; t++)
		run(t, &s);
	CHECK_NEAR(out.ccl_a, 6.25, 1e-9);
	run(93, &s);
	CHECK_NEAR(out.ccl_a, 11.25, 1e-9);
	/* recovery_rate 0: at once after the hold; recovery_hold 0: the ramp at once */
	fresh();
	cfg.recovery_rate = 0;
	pack16(&s, 3300);
	s.mos_temp_c = 85;
	run(0, &s);
	s.mos_temp_c = 30;
	run(1, &s);
	run(30, &s);
	CHECK_NEAR(out.ccl_a, 6.25, 1e-9);
	run(31, &s);
	CHECK_NEAR(out.ccl_a, 50, 1e-9);
	fresh();
	cfg.recovery_hold = 0;
	s.mos_temp_c = 85;
	run(0, &s);
	s.mos_temp_c = 30;
	run(1, &s);
	CHECK_NEAR(out.ccl_a, 6.25, 1e-9);
	run(2, &s);
	CHECK_NEAR(out.ccl_a, 11.25, 1e-9);
}

/* From 0 a limit rises only once its target is above 1.5 % of the max
 * (0.75 A of 50 A). */
static void test_antiflap(void)
{
	struct bms_snapshot s;
	fresh();
	pack16(&s, 3300);
	s.chg_mos = false;
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 0, 1e-12);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_MOSFET_OFF);
	CHECK(!out.charge_allowed && out.discharge_allowed);
	/* FET on, the highest cell at 3.46 V: 0.004 x 50 = 0.2 A: stays 0 */
	s.chg_mos = true;
	s.cell_mv[0] = 3460;
	int off = 0;
	for (int t = 1; t <= 100; t++) {
		run(t, &s);
		off += out.ccl_a != 0 || out.charge_allowed || out.ccl_reason != GW_LR_CELL_VOLTAGE;
	}
	CHECK_EQ_INT(off, 0);
	/* exactly 1.5 %: still 0 */
	s.cell_mv[0] = 3300;
	s.present |= BMS_HAS_CUR_LIMITS;
	s.bms_ccl_a = 0.75f;
	s.bms_dcl_a = 60;
	for (int t = 101; t <= 150; t++)
		run(t, &s);
	CHECK_NEAR(out.ccl_a, 0, 1e-12);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_BMS_LIMIT);
	/* above it: the hold, then the ramp (capped at the target) */
	s.bms_ccl_a = 0.8f;
	run(151, &s);
	run(180, &s);
	CHECK_NEAR(out.ccl_a, 0, 1e-12);
	run(181, &s);
	CHECK_NEAR(out.ccl_a, 0, 1e-12);
	CHECK(!out.charge_allowed);
	run(182, &s);
	CHECK_NEAR(out.ccl_a, 0.8, 1e-6);
	CHECK(out.charge_allowed);
	/* the discharge side has its own 1.5 % (0.9 A of 60 A); without the
	 * cell tables' hysteresis (test_hysteresis) */
	fresh();
	cfg.table_hysteresis = 0;
	pack16(&s, 3300);
	s.dsg_mos = false;
	run(0, &s);
	s.dsg_mos = true;
	s.cell_mv[0] = 2920; /* 0.005 + 0.045 * 0.2 = 0.014 -> 0.84 A */
	run(1, &s);
	run(100, &s);
	CHECK_NEAR(out.dcl_a, 0, 1e-12);
	s.cell_mv[0] = 2930; /* 0.0185 -> 1.11 A */
	run(101, &s);
	run(132, &s);
	CHECK_NEAR(out.dcl_a, 1.11, 1e-9);
}

static void test_mosfet_alarms(void)
{
	struct bms_snapshot s;
	fresh();
	pack16(&s, 3300);
	s.chg_mos = false;
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 0, 1e-12);
	CHECK_NEAR(out.dcl_a, 60, 1e-9);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_MOSFET_OFF);
	CHECK_EQ_INT(gw_limits_flags(&out), GW_LIM_F_DISCHARGE | GW_LIM_F_ON);
	fresh();
	pack16(&s, 3300);
	s.dsg_mos = false;
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 50, 1e-9);
	CHECK_NEAR(out.dcl_a, 0, 1e-12);
	CHECK_EQ_INT(out.dcl_reason, GW_LR_MOSFET_OFF);
	CHECK_EQ_INT(gw_limits_flags(&out), GW_LIM_F_CHARGE | GW_LIM_F_ON);
	/* a FET state the BMS does not give is not used */
	s.present &= ~(uint32_t)BMS_HAS_MOSFETS;
	fresh();
	run(0, &s);
	CHECK_NEAR(out.dcl_a, 60, 1e-9);
	/* every alarm bit alone, on its side */
	static const uint32_t chg = BMS_AL_CELL_OV | BMS_AL_PACK_OV | BMS_AL_CHG_OT | BMS_AL_CHG_UT |
				    BMS_AL_CHG_OC | BMS_AL_SENSOR | BMS_AL_SOC_HIGH;
	static const uint32_t dsg = BMS_AL_CELL_UV | BMS_AL_PACK_UV | BMS_AL_DSG_OT | BMS_AL_DSG_UT |
				    BMS_AL_DSG_OC | BMS_AL_SHORT | BMS_AL_SOC_LOW;
	static const uint32_t both = BMS_AL_MOS_OT | BMS_AL_MOS_FAULT | BMS_AL_HW_FAULT | BMS_AL_COMM |
				     BMS_AL_PROTECTION;
	int bad = 0;
	for (unsigned b = 0; b < BMS_AL_COUNT; b++) {
		uint32_t bit = 1u << b;
		pack16(&s, 3300);
		s.alarms = bit;
		fresh();
		run(0, &s);
		bool c0 = (chg | both) & bit, d0 = (dsg | both) & bit;
		bad += (out.ccl_a == 0) != c0 || (out.dcl_a == 0) != d0;
		bad += c0 && out.ccl_reason != GW_LR_ALARM;
		bad += d0 && out.dcl_reason != GW_LR_ALARM;
		bad += !c0 && out.ccl_reason != GW_LR_NONE;
	}
	CHECK_EQ_INT(bad, 0);
	/* protection with the bit that tripped: that side only */
	CHECK_EQ_INT(gw_limits_alarm_side(BMS_AL_PROTECTION | BMS_AL_CELL_UV), GW_LIM_F_DISCHARGE);
	CHECK_EQ_INT(gw_limits_alarm_side(BMS_AL_PROTECTION | BMS_AL_CELL_OV), GW_LIM_F_CHARGE);
	CHECK_EQ_INT(gw_limits_alarm_side(BMS_AL_PROTECTION | BMS_AL_SHORT), GW_LIM_F_DISCHARGE);
	CHECK_EQ_INT(gw_limits_alarm_side(BMS_AL_PROTECTION | BMS_AL_CELL_DIFF),
		     GW_LIM_F_CHARGE | GW_LIM_F_DISCHARGE);
	CHECK_EQ_INT(gw_limits_alarm_side(BMS_AL_CELL_OV | BMS_AL_CELL_UV), GW_LIM_F_CHARGE | GW_LIM_F_DISCHARGE);
	CHECK_EQ_INT(gw_limits_alarm_side(BMS_AL_CELL_DIFF | BMS_AL_OTHER | BMS_AL_TEMP_DIFF), 0);
	/* SOC-low protection (Daly 0x98 byte 2 bit 7: soc_low + protection) is
	 * a discharge-side alarm: the pack stays chargeable; SOC-high the
	 * charge side */
	CHECK_EQ_INT(gw_limits_alarm_side(BMS_AL_PROTECTION | BMS_AL_SOC_LOW), GW_LIM_F_DISCHARGE);
	CHECK_EQ_INT(gw_limits_alarm_side(BMS_AL_PROTECTION | BMS_AL_SOC_HIGH), GW_LIM_F_CHARGE);
	pack16(&s, 3300);
	s.alarms = BMS_AL_SOC_LOW | BMS_AL_PROTECTION;
	fresh();
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 50, 1e-9);
	CHECK(out.charge_allowed && !out.discharge_allowed);
	CHECK_EQ_INT(out.dcl_reason, GW_LR_ALARM);
	/* the levels kept apart: a protection names its sided bits, a
	 * protection without a side (and no sided bit) is all of them */
	uint32_t pr, wa;
	gw_limits_alarm_levels(BMS_AL_CELL_UV, &pr, &wa);
	CHECK_EQ_INT(pr, 0);
	CHECK_EQ_INT(wa, BMS_AL_CELL_UV);
	gw_limits_alarm_levels(BMS_AL_CELL_UV | BMS_AL_CELL_DIFF | BMS_AL_PROTECTION, &pr, &wa);
	CHECK_EQ_INT(pr, BMS_AL_CELL_UV);
	CHECK_EQ_INT(wa, BMS_AL_CELL_UV | BMS_AL_CELL_DIFF);
	gw_limits_alarm_levels(BMS_AL_CELL_DIFF | BMS_AL_PROTECTION, &pr, &wa);
	CHECK_EQ_INT(pr, BMS_AL_CELL_DIFF);
	CHECK_EQ_INT(wa, BMS_AL_CELL_DIFF);
	/* an alarm and an open FET: the alarm is the reason */
	pack16(&s, 3300);
	s.alarms = BMS_AL_CHG_OT;
	s.chg_mos = false;
	fresh();
	run(0, &s);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_ALARM);
	/* alarms the BMS does not give are not used */
	s.present &= ~(uint32_t)BMS_HAS_ALARMS;
	s.chg_mos = true;
	fresh();
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 50, 1e-9);
	/* a charge alarm clears: the CCL comes back by the hold and ramp */
	pack16(&s, 3300);
	s.alarms = BMS_AL_CELL_OV;
	fresh();
	run(0, &s);
	s.alarms = 0;
	run(1, &s);
	run(31, &s);
	CHECK_NEAR(out.ccl_a, 0, 1e-12);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_ALARM);
	run(32, &s);
	CHECK_NEAR(out.ccl_a, 5, 1e-9);
}

/* A pack whose cells do not fit its chemistry (engine/chemfit.h): fail-safe
 * as a stale one, reasons chemistry (issue 62: LTO cells under lfp's cell
 * table); back, the limits recover by the hold and the ramp. */
static void test_unfit(void)
{
	struct bms_snapshot s;
	fresh();
	pack16(&s, 3300);
	for (int t = 0; t < 10; t++)
		run(t, &s);
	CHECK(out.ccl_a > 0 && out.dcl_a > 0);
	CHECK_EQ_INT(gw_limits_step_unfit(&cfg, 10, &st, &out), ALL_CHANGED);
	CHECK_NEAR(out.ccl_a, 0, 1e-12);
	CHECK_NEAR(out.dcl_a, 0, 1e-12);
	CHECK(out.failsafe && !out.charge_allowed && !out.discharge_allowed);
	CHECK_EQ_INT(out.mode, GW_LIM_FAILSAFE);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_CHEMISTRY);
	CHECK_EQ_INT(out.dcl_reason, GW_LR_CHEMISTRY);
	CHECK_STR(gw_limits_reason_name(out.ccl_reason), "chemistry");
	CHECK_EQ_INT(gw_limits_flags(&out), GW_LIM_F_ON | GW_LIM_F_FAILSAFE);
	CHECK_NEAR(out.cvl_v, 55.2, 1e-9); /* kept */
	CHECK_EQ_INT(gw_limits_step_unfit(&cfg, 11, &st, &out), 0); /* said once */
	/* stale meanwhile: the reason says so */
	CHECK_EQ_INT(run(12, NULL), GW_LIM_CHANGED_CCL_REASON | GW_LIM_CHANGED_DCL_REASON);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_STALE);
	gw_limits_step_unfit(&cfg, 13, &st, &out);
	/* the chemistry fits: the hold, then the ramp */
	CHECK_EQ_INT(run(14, &s), GW_LIM_CHANGED_MODE);
	int off = 0;
	for (int t = 14; t <= 60; t++) {
		run(t, &s);
		off += fabs(out.ccl_a - fmin(50, 5 * fmax(0, t - 44))) > 1e-9;
		off += out.ccl_reason != (t < 54 ? GW_LR_CHEMISTRY : GW_LR_NONE);
	}
	CHECK_EQ_INT(off, 0);
	/* without [limits]: off, nothing of a fail-safe */
	struct conf_limits none = cfg;
	none.enabled = false;
	gw_limits_step_unfit(&none, 61, &st, &out);
	CHECK(!out.enabled && !out.failsafe);
	CHECK_EQ_INT(out.mode, GW_LIM_OFF);
}

static void test_stale(void)
{
	struct bms_snapshot s;
	fresh();
	pack16(&s, 3300);
	for (int t = 0; t < 10; t++)
		run(t, &s);
	CHECK_EQ_INT(run(10, NULL), ALL_CHANGED);
	CHECK_NEAR(out.ccl_a, 0, 1e-12);
	CHECK_NEAR(out.dcl_a, 0, 1e-12);
	CHECK(out.failsafe && !out.charge_allowed && !out.discharge_allowed);
	CHECK_EQ_INT(out.mode, GW_LIM_FAILSAFE);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_STALE);
	CHECK_EQ_INT(out.dcl_reason, GW_LR_STALE);
	CHECK_EQ_INT(gw_limits_flags(&out), GW_LIM_F_ON | GW_LIM_F_FAILSAFE);
	CHECK_NEAR(out.cvl_v, 55.2, 1e-9); /* kept */
	CHECK_NEAR(out.dvl_v, 46.4, 1e-9);
	CHECK(out.volt_valid);
	int quiet = 0;
	for (int t = 11; t <= 20; t++)
		quiet += run(t, NULL) != 0;
	CHECK_EQ_INT(quiet, 0);
	/* back: the mode at once, the limits by the hold and the ramp */
	CHECK_EQ_INT(run(21, &s), GW_LIM_CHANGED_MODE);
	CHECK_EQ_INT(out.mode, GW_LIM_BULK);
	CHECK(!out.failsafe);
	double lc = 0, ld = 0;
	int off = 0, jump = 0;
	for (int t = 21; t <= 70; t++) {
		run(t, &s);
		off += fabs(out.ccl_a - fmin(50, 5 * fmax(0, t - 51))) > 1e-9;
		off += fabs(out.dcl_a - fmin(60, 5 * fmax(0, t - 51))) > 1e-9;
		off += out.ccl_reason != (t < 61 ? GW_LR_STALE : GW_LR_NONE);
		jump += out.ccl_a - lc > 5 + 1e-9 || out.dcl_a - ld > 5 + 1e-9;
		lc = out.ccl_a;
		ld = out.dcl_a;
	}
	CHECK_EQ_INT(off, 0);
	CHECK_EQ_INT(jump, 0);
	/* absorption is abandoned: its timer starts again after the gap */
	fresh();
	pack16(&s, 3450);
	for (int t = 0; t < 800; t++)
		run(t, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_ABSORPTION);
	run(800, NULL);
	CHECK_EQ_INT(st.mode, GW_LIM_BULK);
	run(801, &s); /* back in absorption at once, its timer from 801 */
	CHECK_EQ_INT(out.mode, GW_LIM_ABSORPTION);
	CHECK_NEAR(st.abs_since, 801, 1e-12);
	for (int t = 802; t < 1701; t++)
		run(t, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_ABSORPTION);
	run(1701, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_FLOAT);
	/* the float ramp does not jump over a gap */
	run(1702, &s);
	double before = out.cvl_v;
	for (int t = 1703; t < 1720; t++)
		run(t, NULL);
	CHECK_NEAR(out.cvl_v, before, 1e-12);
	run(1720, &s);
	CHECK_NEAR(out.cvl_v, before - 0.016, 1e-9);
	/* never fresh yet: fail-safe without voltages; the first snapshot is
	 * taken as it is */
	fresh();
	run(0, NULL);
	CHECK(out.failsafe && !out.volt_valid);
	CHECK_NEAR(out.cvl_v, 0, 1e-12);
	pack16(&s, 3300);
	run(1, &s);
	CHECK_NEAR(out.ccl_a, 50, 1e-9);
	CHECK_NEAR(out.dcl_a, 60, 1e-9);
}


static void test_force_full(void)
{
	struct bms_snapshot s;
	/* force charge at <= 5 %, cleared at >= 7 % */
	fresh();
	pack16(&s, 3100);
	static const float soc[] = { 8, 5.1f, 5, 6, 6.9f, 7, 6, 4 };
	static const bool want[] = { false, false, true, true, true, false, false, true };
	int bad = 0;
	for (int i = 0; i < 8; i++) {
		s.soc = soc[i];
		run(i, &s);
		bad += out.force_charge != want[i];
		bad += !!(gw_limits_flags(&out) & GW_LIM_F_FORCE_CHARGE) != want[i];
	}
	CHECK_EQ_INT(bad, 0);
	run(8, NULL);
	CHECK(!out.force_charge);
	s.present &= ~(uint32_t)BMS_HAS_SOC;
	run(9, &s);
	CHECK(!out.force_charge);
	fresh();
	cfg.force_charge_soc = 0;
	pack16(&s, 3100);
	s.soc = 0;
	run(0, &s);
	CHECK(!out.force_charge);

	/* full charge: 30 days after the first step, then after the last
	 * absorption */
	fresh();
	pack16(&s, 3300);
	run(0, &s);
	CHECK_EQ_INT(st.last_full_wall, WALL0);
	run(30 * 86400 - 1, &s);
	CHECK(!out.full_charge_request);
	run(30 * 86400, &s);
	CHECK(out.full_charge_request);
	CHECK_EQ_INT(gw_limits_flags(&out), GW_LIM_F_CHARGE | GW_LIM_F_DISCHARGE | GW_LIM_F_ON |
		     GW_LIM_F_FULL_CHARGE);
	run(30 * 86400 + 1, NULL);
	CHECK(!out.full_charge_request);
	pack16(&s, 3450);
	run(30 * 86400 + 2, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_ABSORPTION);
	CHECK(!out.full_charge_request);
	CHECK_EQ_INT(st.last_full_wall, WALL0 + 30 * 86400 + 2);
	/* restored from the state file: due at once */
	fresh();
	st.last_full_wall = WALL0 - 31 * 86400;
	pack16(&s, 3300);
	run(0, &s);
	CHECK(out.full_charge_request);
	CHECK_EQ_INT(st.last_full_wall, WALL0 - 31 * 86400);
	/* full_charge_days 0: never */
	cfg.full_charge_days = 0;
	run(1, &s);
	CHECK(!out.full_charge_request);
	/* a clock not set yet (1970): nothing recorded, nothing asked */
	fresh();
	gw_limits_step(&cfg, NULL, &s, 0, 1000, &st, &out);
	CHECK_EQ_INT(st.last_full_wall, 0);
	gw_limits_step(&cfg, NULL, &s, 1, 1000 + 40 * 86400, &st, &out);
	CHECK(!out.full_charge_request);
}

/* A pack without cell voltages (a shunt, a BMS that gives none). */
static void test_no_cells(void)
{
	struct bms_snapshot s;
	fresh();
	memset(&s, 0, sizeof(s));
	s.present = BMS_HAS_VOLTAGE | BMS_HAS_TEMPS | BMS_HAS_SOC | BMS_HAS_MOSFETS;
	s.voltage = 53;
	s.ntemps = 1;
	s.temp_c[0] = 47;
	s.soc = 60;
	s.chg_mos = s.dsg_mos = true;
	run(0, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_OFF);
	CHECK(!out.volt_valid && !out.failsafe && out.enabled);
	CHECK_NEAR(out.cvl_v, 0, 1e-12);
	CHECK_NEAR(out.dvl_v, 0, 1e-12);
	CHECK_NEAR(out.ccl_a, 20, 1e-9);
	CHECK_NEAR(out.dcl_a, 24, 1e-9);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_TEMPERATURE);
	run(40 * 86400, &s);
	CHECK(!out.full_charge_request);
	/* cell voltages announced but none given count as none */
	s.present |= BMS_HAS_CELLS;
	run(40 * 86400 + 1, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_OFF);
	/* its BMS's voltage limits are published */
	s.present |= BMS_HAS_VOLT_LIMITS;
	s.bms_cvl_v = 56;
	s.bms_dvl_v = 44;
	run(40 * 86400 + 2, &s);
	CHECK(out.volt_valid);
	CHECK_NEAR(out.cvl_v, 56, 1e-9);
	CHECK_NEAR(out.dvl_v, 44, 1e-9);
	/* a CVL but no DVL (pylon-can's 0x351 without bytes 6-7, rvc): the
	 * DVL of its configured cells, else none (0) */
	s.bms_dvl_v = NAN;
	struct gw_lim_rating r16 = { cfg.max_charge_current, cfg.max_discharge_current, 16 };
	gw_limits_step(&cfg, &r16, &s, 40 * 86400 + 2.5, WALL0 + 40 * 86400 + 2, &st, &out);
	CHECK(out.volt_valid);
	CHECK_NEAR(out.dvl_v, 16 * 2.90, 1e-9);
	run(40 * 86400 + 2.6, &s);
	CHECK(out.volt_valid);
	CHECK_NEAR(out.dvl_v, 0, 1e-12);
	s.bms_dvl_v = 44;
	gw_limits_step(&cfg, &r16, &s, 40 * 86400 + 2.7, WALL0 + 40 * 86400 + 2, &st, &out);
	CHECK_NEAR(out.dvl_v, 44, 1e-9); /* the BMS's own wins */
	/* ... never under the battery: the CVL stays at it, charging stops */
	s.bms_cvl_v = 52;
	for (int t = 3; t < 6; t++)
		run(40 * 86400 + t, &s);
	CHECK_NEAR(out.cvl_v, 52.95, 1e-5);
	CHECK_NEAR(out.ccl_a, 0, 1e-12);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_BMS_LIMIT);
}

/* A BMS that sends no cell list but its highest and lowest cell (jk-can's
 * 0x4F4, pylon-can's 0x373): the cell tables read them as a list's extremes
 * (no CVL machine: no sum), its highest and lowest temperature the
 * temperature tables; a list, where there is one, wins. */
static void ext_pack(struct bms_snapshot *s, int hi, int lo)
{
	memset(s, 0, sizeof(*s));
	s->present = BMS_HAS_VOLTAGE | BMS_HAS_SOC | BMS_HAS_MOSFETS;
	s->voltage = 53;
	s->soc = 60;
	s->chg_mos = s->dsg_mos = true;
	bms_set_cell_ext(s, (unsigned)hi, 3, (unsigned)lo, 9);
	bms_set_temp_ext(s, 25, 24);
}

static void test_cell_extremes(void)
{
	struct bms_snapshot s;
	/* the highest cell 3.388 V: 30.5 A (as test_engine_tables' list) */
	fresh();
	ext_pack(&s, 3388, 3300);
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 30.5, 1e-9);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_CELL_VOLTAGE);
	CHECK_NEAR(out.dcl_a, 60, 1e-9);
	CHECK_EQ_INT(out.mode, GW_LIM_OFF); /* no list: no CVL machine */
	CHECK(!out.volt_valid);
	CHECK_EQ_INT(out.cells, 0);
	/* the lowest cell 3.05 V: 9 A of 60 */
	fresh();
	ext_pack(&s, 3300, 3050);
	run(0, &s);
	CHECK_NEAR(out.dcl_a, 9, 1e-9);
	CHECK_EQ_INT(out.dcl_reason, GW_LR_CELL_VOLTAGE);
	CHECK_NEAR(out.ccl_a, 50, 1e-9);
	/* a cell over 3.5 V stops charging at once; the hysteresis holds it
	 * until the cell is 20 mV better than where it fell */
	fresh();
	ext_pack(&s, 3520, 3300);
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 0, 1e-12);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_CELL_VOLTAGE);
	CHECK(!out.charge_allowed);
	ext_pack(&s, 3440, 3300);
	run(1, &s); /* 3.44 + 0.02 = 3.46 still worse than 3.45: 0.005 holds ... */
	CHECK(out.ccl_a <= 50 * 0.005 + 1e-9);
	/* without the extremes: no cell rule (the PYLONCAN-02 case) */
	fresh();
	ext_pack(&s, 3520, 3300);
	s.present &= ~(uint32_t)BMS_HAS_CELL_EXT;
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 50, 1e-9);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_NONE);
	/* the BMS's highest temperature 47 degC: 20 A, 24 A; its lowest 1 degC:
	 * charge 0 (no sensor of its own) */
	fresh();
	ext_pack(&s, 3300, 3300);
	bms_set_temp_ext(&s, 47, 25);
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 20, 1e-9);
	CHECK_NEAR(out.dcl_a, 24, 1e-9);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_TEMPERATURE);
	fresh();
	bms_set_temp_ext(&s, 25, 1);
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 0, 1e-9);
	/* neither sensors nor temperature extremes: unknown_temp_fraction */
	fresh();
	ext_pack(&s, 3300, 3300);
	bms_set_temp_ext(&s, NAN, NAN);
	CHECK(!(s.present & BMS_HAS_TEMP_EXT));
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 5, 1e-9);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_TEMPERATURE);
	/* a list beside them gives the cells; the BMS's own extremes within it
	 * change nothing ... */
	fresh();
	pack16(&s, 3300);
	bms_set_cell_ext(&s, 3300, 1, 3300, 2);
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 50, 1e-9);
	CHECK_EQ_INT(out.mode, GW_LIM_BULK);
	CHECK_EQ_INT(out.cells, 16);
	/* ... and beyond it they are cells too (issue 97: a list of one string
	 * of several in parallel): a cell at 3.65 V the list does not hold
	 * stops the charge, as the list's own would */
	fresh();
	pack16(&s, 3300);
	bms_set_cell_ext(&s, 3650, 0, 3300, 0);
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 0, 1e-9);
	CHECK_EQ_INT(out.cells, 16);
	fresh();
	pack16(&s, 3300);
	s.cell_mv[0] = 3650;
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 0, 1e-9);
}

static void test_disabled_words(void)
{
	struct bms_snapshot s;
	fresh();
	cfg.enabled = false;
	pack16(&s, 3300);
	run(0, &s);
	CHECK(!out.enabled && !out.charge_allowed && !out.failsafe);
	CHECK_EQ_INT(out.mode, GW_LIM_OFF);
	CHECK_NEAR(out.ccl_a, 0, 1e-12);
	CHECK_NEAR(out.cvl_v, 0, 1e-12);
	CHECK_EQ_INT(gw_limits_flags(&out), 0);
	run(1, NULL);
	CHECK_EQ_INT(out.mode, GW_LIM_OFF);
	CHECK(!out.failsafe);
	/* the flag word, bit by bit */
	struct gw_limits l = { 0 };
	l.charge_allowed = true;
	CHECK_EQ_INT(gw_limits_flags(&l), 0x01);
	l.discharge_allowed = true;
	CHECK_EQ_INT(gw_limits_flags(&l), 0x03);
	l.force_charge = true;
	CHECK_EQ_INT(gw_limits_flags(&l), 0x07);
	l.full_charge_request = true;
	CHECK_EQ_INT(gw_limits_flags(&l), 0x0F);
	l.enabled = true;
	CHECK_EQ_INT(gw_limits_flags(&l), 0x1F);
	l.failsafe = true;
	CHECK_EQ_INT(gw_limits_flags(&l), 0x3F);
	l = (struct gw_limits){ .failsafe = true };
	CHECK_EQ_INT(gw_limits_flags(&l), 0x20);
	/* the words */
	CHECK_STR(gw_limits_mode_name(GW_LIM_OFF), "off");
	CHECK_STR(gw_limits_mode_name(GW_LIM_BULK), "bulk");
	CHECK_STR(gw_limits_mode_name(GW_LIM_ABSORPTION), "absorption");
	CHECK_STR(gw_limits_mode_name(GW_LIM_FLOAT), "float");
	CHECK_STR(gw_limits_mode_name(GW_LIM_FAILSAFE), "failsafe");
	CHECK_STR(gw_limits_mode_name((enum gw_lim_mode)5), "?");
	static const char *const why[] = { "none", "cell_voltage", "temperature", "mos_temperature",
					   "soc", "mosfet_off", "alarm", "bms_limit", "stale", "cap", "chemistry" };
	for (int r = 0; r < GW_LR_COUNT; r++)
		CHECK_STR(gw_limits_reason_name((enum gw_lim_reason)r), why[r]);
	CHECK_STR(gw_limits_reason_name((enum gw_lim_reason)GW_LR_COUNT), "?");
	/* the change report */
	struct gw_limits a = { .mode = GW_LIM_BULK }, b = a;
	CHECK_EQ_INT(gw_limits_changes(&a, &b), 0);
	b.dcl_reason = GW_LR_SOC;
	CHECK_EQ_INT(gw_limits_changes(&a, &b), GW_LIM_CHANGED_DCL_REASON);
	b.mode = GW_LIM_FLOAT;
	b.ccl_a = 3; /* values are not changes */
	CHECK_EQ_INT(gw_limits_changes(&a, &b), GW_LIM_CHANGED_MODE | GW_LIM_CHANGED_DCL_REASON);
}


/* ---- issue 26: what a real inverter needs ------------------------------- */

/* Force charge only while charging is allowed; the full-charge request
 * clears at a SOC of 97 %. */
static void test_force_allowed(void)
{
	struct bms_snapshot s;
	fresh();
	pack16(&s, 3100);
	s.soc = 3;
	s.temp_c[0] = s.temp_c[1] = 0; /* no charge at 0 degC */
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 0, 1e-12);
	CHECK(!out.force_charge && !(gw_limits_flags(&out) & GW_LIM_F_FORCE_CHARGE));
	CHECK(st.force); /* wanted, not sent */
	s.temp_c[0] = s.temp_c[1] = 25;
	for (int t = 1; t <= 31; t++) {
		run(t, &s);
		CHECK(!out.force_charge || out.ccl_a > 0);
	}
	run(32, &s); /* the hold ended: 5 A/s */
	CHECK_NEAR(out.ccl_a, 5, 1e-9);
	CHECK(out.force_charge);
	s.alarms = BMS_AL_CHG_OT;
	run(33, &s);
	CHECK(!out.charge_allowed && !out.force_charge);
	s.alarms = 0;
	s.chg_mos = false;
	fresh();
	run(0, &s);
	CHECK(!out.force_charge);
	/* full charge: a step at 97 % SOC counts as full (Pylontech's rule) */
	fresh();
	pack16(&s, 3300);
	s.soc = 97;
	run(0, &s);
	run(40 * 86400, &s);
	CHECK(!out.full_charge_request);
	CHECK_EQ_INT(st.last_full_wall, WALL0 + 40 * 86400);
	s.soc = 96.9f;
	run(70 * 86400 - 1, &s);
	CHECK(!out.full_charge_request);
	run(70 * 86400, &s);
	CHECK(out.full_charge_request);
}

/* voltage_drop, absorption_tolerance, tail_current, max_bulk_time. */
static void test_absorption_entry(void)
{
	struct bms_snapshot s;
	/* voltage_drop: on the published CVL only; entry compares the cells */
	fresh();
	cfg.voltage_drop = 0.2;
	pack16(&s, 3300);
	run(0, &s);
	CHECK_NEAR(out.cvl_v, 55.4, 1e-9);
	CHECK_NEAR(out.bulk_cvl_v, 55.4, 1e-9);
	pack16(&s, 3447); /* 55.152 V: within 0.05 V of 55.2 */
	run(1, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_ABSORPTION);
	CHECK_NEAR(out.cvl_v, 55.4, 1e-9);
	/* tail_current: at the CVL with the cells apart (29 mV), absorption
	 * once the charge current is under 2 A */
	fresh();
	cfg.tail_current = 2;
	pack16(&s, 3449);
	s.cell_mv[7] = 3420; /* 55.155 V */
	s.present |= BMS_HAS_CURRENT;
	s.current = 5;
	run(0, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_BULK);
	s.current = 1.5f;
	run(1, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_ABSORPTION);
	/* ... not below the CVL: 30 mV lower */
	fresh();
	cfg.tail_current = 2;
	pack16(&s, 3447);
	s.cell_mv[7] = 3390;
	s.present |= BMS_HAS_CURRENT;
	s.current = 0.5f;
	run(0, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_BULK);
	/* max_bulk_time: at the target, never together: float after 600 s */
	fresh();
	cfg.max_bulk_time = 600;
	pack16(&s, 3449);
	s.cell_mv[7] = 3420;
	unsigned ev = 0;
	for (int t = 0; t < 600; t++)
		ev |= run(t, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_BULK);
	CHECK(!(ev & GW_LIM_EVENT_BULK_TIME));
	ev = run(600, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_FLOAT);
	CHECK(ev & GW_LIM_EVENT_BULK_TIME);
	CHECK(out.absorbed);
	/* the timer runs only at the target: 0.5 V under it, it stops */
	fresh();
	cfg.max_bulk_time = 600;
	pack16(&s, 3449);
	s.cell_mv[7] = 3420;
	run(0, &s);
	pack16(&s, 3400); /* 54.4 V: 0.8 V under */
	run(300, &s);
	pack16(&s, 3449);
	s.cell_mv[7] = 3420;
	run(301, &s);
	run(700, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_BULK);
	run(901, &s);
	CHECK_EQ_INT(out.mode, GW_LIM_FLOAT);
}

/* No temperature known: unknown_temp_fraction of the charge current. */
static void test_unknown_temp(void)
{
	struct bms_snapshot s;
	fresh();
	pack16(&s, 3300);
	s.present &= ~(uint32_t)BMS_HAS_TEMPS;
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 5, 1e-9);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_TEMPERATURE);
	CHECK_NEAR(out.dcl_a, 60, 1e-9);
	CHECK_EQ_INT(out.dcl_reason, GW_LR_NONE);
	fresh();
	pack16(&s, 3300);
	s.temp_c[0] = s.temp_c[1] = NAN; /* sensors that read nothing */
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 5, 1e-9);
	fresh();
	cfg.unknown_temp_fraction = 0;
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 0, 1e-12);
	CHECK(!out.charge_allowed);
	s.temp_c[1] = 20; /* one reads: its table */
	fresh();
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 50, 1e-9);
}

/* Sensors that read outside -50..150 degC (bms_sensor_faults): absent,
 * and the sensor fault the gateway flags stops no current: the sensors
 * left rule, none left is a pack without sensors.  The BMS's own sensor
 * alarm still stops charging. */
static void test_sensor_faults(void)
{
	struct bms_snapshot s;
	fresh();
	pack16(&s, 3300);
	s.temp_c[0] = s.temp_c[1] = -56; /* EG4-LL's 0xC8 */
	bms_sensor_faults(&s, NULL);
	CHECK(s.alarms & BMS_AL_SENSOR);
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 5, 1e-9); /* unknown_temp_fraction, as test_unknown_temp */
	CHECK_EQ_INT(out.ccl_reason, GW_LR_TEMPERATURE);
	CHECK(out.charge_allowed);
	CHECK_NEAR(out.dcl_a, 60, 1e-9);
	CHECK_EQ_INT(out.dcl_reason, GW_LR_NONE);
	/* one sensor left: its table */
	fresh();
	pack16(&s, 3300);
	s.temp_c[1] = -56;
	bms_sensor_faults(&s, NULL);
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 50, 1e-9);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_NONE);
	/* the BMS says so itself: its alarm stops charging */
	fresh();
	pack16(&s, 3300);
	s.alarms = BMS_AL_SENSOR;
	s.temp_c[1] = -56;
	bms_sensor_faults(&s, NULL);
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 0, 1e-12);
	CHECK_EQ_INT(out.ccl_reason, GW_LR_ALARM);
	/* its levels: a warning, never a protection (the inverters' words) */
	uint32_t pr, wa;
	pack16(&s, 3300);
	s.alarms = BMS_AL_CELL_UV | BMS_AL_PROTECTION;
	s.temp_c[1] = -56;
	bms_sensor_faults(&s, NULL);
	gw_limits_snap_levels(&s, &pr, &wa);
	CHECK_EQ_INT(pr, BMS_AL_CELL_UV);
	CHECK_EQ_INT(wa, BMS_AL_CELL_UV | BMS_AL_SENSOR);
	pack16(&s, 3300);
	s.alarms = BMS_AL_SENSOR | BMS_AL_PROTECTION; /* the BMS's own */
	gw_limits_snap_levels(&s, &pr, &wa);
	CHECK_EQ_INT(pr, BMS_AL_SENSOR);
}

/* A pack's own ratings. */
static void test_rating(void)
{
	struct bms_snapshot s;
	struct gw_lim_rating r = { 100, 30, 0 };
	fresh();
	pack16(&s, 3300);
	gw_limits_step(&cfg, &r, &s, 0, WALL0, &st, &out);
	CHECK_NEAR(out.ccl_a, 100, 1e-9);
	CHECK_NEAR(out.dcl_a, 30, 1e-9);
	s.temp_c[0] = 47; /* 0.4 of its own */
	gw_limits_step(&cfg, &r, &s, 1, WALL0 + 1, &st, &out);
	CHECK_NEAR(out.ccl_a, 40, 1e-9);
	CHECK_NEAR(out.dcl_a, 12, 1e-9);
}

/* The knee of a cell table with and without table_hysteresis (at once: no
 * hold, no ramp). */
static void test_hysteresis(void)
{
	struct bms_snapshot s;
	static const int up[] = { 3400, 3390, 3375, 3360, 3350 };
	/* the highest cell falls to 3.400 V (0.25), then rises back */
	static const double with[] = { 12.5, 12.5, 20, 42.5, 50 };
	static const double without[] = { 12.5, 27.5, 50, 50, 50 };
	for (int h = 0; h < 2; h++) {
		fresh();
		cfg.recovery_hold = 0;
		cfg.recovery_rate = 0;
		cfg.table_hysteresis = h ? 0.020 : 0;
		int bad = 0;
		for (int i = 0; i < 5; i++) {
			pack16(&s, 3300);
			s.cell_mv[2] = (uint16_t)up[i];
			run(i, &s);
			bad += fabs(out.ccl_a - (h ? with : without)[i]) > 1e-9;
		}
		CHECK_EQ_INT(bad, 0);
	}
	/* the discharge side: the lowest cell back up from 3.100 V (0.25) */
	fresh();
	cfg.recovery_hold = 0;
	cfg.recovery_rate = 0;
	static const int dn[] = { 3100, 3110, 3120, 3130, 3100 };
	static const double dwant[] = { 15, 15, 15, 20, 15 };
	int bad = 0;
	for (int i = 0; i < 5; i++) {
		pack16(&s, 3300);
		s.cell_mv[9] = (uint16_t)dn[i];
		run(i, &s);
		bad += fabs(out.dcl_a - dwant[i]) > 1e-6;
	}
	CHECK_EQ_INT(bad, 0);
}

/* limit_exceeded: 10 s beyond by max(5 A, 10 %), cleared after 10 s within. */
static void test_exceeded(void)
{
	struct bms_snapshot s;
	fresh();
	pack16(&s, 3300);
	s.present |= BMS_HAS_CURRENT;
	s.current = 55; /* CCL 50: 5 A over, not beyond */
	for (int t = 0; t <= 20; t++)
		run(t, &s);
	CHECK_EQ_INT(out.exceeded, GW_LIM_EXC_NONE);
	s.current = 55.5f;
	unsigned ev = 0;
	for (int t = 21; t <= 30; t++)
		ev |= run(t, &s);
	CHECK_EQ_INT(out.exceeded, GW_LIM_EXC_NONE);
	CHECK(!(ev & GW_LIM_CHANGED_EXCEEDED));
	ev = run(31, &s);
	CHECK_EQ_INT(out.exceeded, GW_LIM_EXC_CHARGE);
	CHECK(ev & GW_LIM_CHANGED_EXCEEDED);
	CHECK(gw_limits_flags(&out) & GW_LIM_F_EXCEEDED);
	CHECK_STR(gw_limits_exceeded_name(out.exceeded), "charge");
	s.current = 10;
	for (int t = 32; t <= 41; t++)
		CHECK(!(run(t, &s) & GW_LIM_CHANGED_EXCEEDED));
	CHECK_EQ_INT(out.exceeded, GW_LIM_EXC_CHARGE);
	CHECK(run(42, &s) & GW_LIM_CHANGED_EXCEEDED);
	CHECK_EQ_INT(out.exceeded, GW_LIM_EXC_NONE);
	/* discharge: DCL 60, beyond 66 A */
	s.current = -67;
	for (int t = 43; t <= 53; t++)
		run(t, &s);
	CHECK_EQ_INT(out.exceeded, GW_LIM_EXC_DISCHARGE);
	/* stale: not judged */
	CHECK(run(54, NULL) & GW_LIM_CHANGED_EXCEEDED);
	CHECK_EQ_INT(out.exceeded, GW_LIM_EXC_NONE);
	/* 0 = off */
	fresh();
	cfg.limit_exceeded = 0;
	pack16(&s, 3300);
	s.present |= BMS_HAS_CURRENT;
	s.current = 200;
	for (int t = 0; t <= 100; t++)
		run(t, &s);
	CHECK_EQ_INT(out.exceeded, GW_LIM_EXC_NONE);
}

/* ---- the bank --------------------------------------------------------------- */

static struct gw_limits mk(double cvl, double ccl, double dcl, double dvl, enum gw_lim_mode mode,
			   enum gw_lim_reason rc, enum gw_lim_reason rd)
{
	struct gw_limits l = { .enabled = true, .volt_valid = true, .cvl_v = cvl, .ccl_a = ccl,
			       .dcl_a = dcl, .dvl_v = dvl, .mode = mode, .ccl_reason = rc, .dcl_reason = rd,
			       .cells = 16, .bulk_cvl_v = cvl, .absorbed = mode == GW_LIM_FLOAT };
	l.charge_allowed = ccl > 0;
	l.discharge_allowed = dcl > 0;
	return l;
}

/* The bank of n packs (NULL = not fresh, not stale), [limits]' ratings, no
 * measurement. */
static void bank(const struct gw_limits *const p[], int n, struct gw_limits *o, struct gw_lim_binding *b)
{
	struct gw_lim_member m[8];
	for (int i = 0; i < n && i < 8; i++)
		m[i] = (struct gw_lim_member){ p[i], false, { cfg.max_charge_current, cfg.max_discharge_current, 0 }, 0 };
	struct gw_lim_bank_in in = { m, n < 8 ? n : 8, false, false, false, 0, 0, 0 };
	gw_limits_bank(&cfg, &in, o, b);
}

/* The bank's follow step for two packs of [limits]' ratings, no measurement. */
static void follow(struct gw_lim_bank_state *bst, double now, struct gw_limits *o)
{
	struct gw_lim_rating r = { cfg.max_charge_current, cfg.max_discharge_current, 0 };
	struct gw_lim_member m[2] = { { NULL, false, r, 0 }, { NULL, false, r, 0 } };
	struct gw_lim_bank_in in = { m, 2, false, false, false, 0, 0, 0 };
	gw_limits_bank_follow(&cfg, bst, &in, now, o);
}

static void test_bank(void)
{
	lfp(&cfg);
	struct gw_limits a = mk(55.2, 50, 60, 46.4, GW_LIM_BULK, GW_LR_NONE, GW_LR_NONE);
	struct gw_limits b = mk(55.0, 30, 60, 46.4, GW_LIM_ABSORPTION, GW_LR_TEMPERATURE, GW_LR_NONE);
	struct gw_limits c = mk(55.1, 40, 20, 47.0, GW_LIM_FLOAT, GW_LR_CELL_VOLTAGE, GW_LR_SOC);
	const struct gw_limits *p[4] = { &a, &b, &c, NULL };
	struct gw_limits o;
	struct gw_lim_binding bind;

	/* min: 3 fresh packs x the lowest */
	bank(p, 4, &o, &bind);
	CHECK_NEAR(o.ccl_a, 90, 1e-9);
	CHECK_NEAR(o.dcl_a, 60, 1e-9);
	CHECK_NEAR(o.cvl_v, 55.0, 1e-9);
	CHECK_NEAR(o.dvl_v, 47.0, 1e-9);
	CHECK_EQ_INT(bind.cvl, 1);
	CHECK_EQ_INT(bind.dvl, 2);
	CHECK_EQ_INT(bind.ccl, 1);
	CHECK_EQ_INT(bind.dcl, 2);
	CHECK_EQ_INT(o.mode, GW_LIM_ABSORPTION); /* pack b binds the CVL */
	CHECK_EQ_INT(o.ccl_reason, GW_LR_TEMPERATURE);
	CHECK_EQ_INT(o.dcl_reason, GW_LR_SOC);
	CHECK(o.charge_allowed && o.discharge_allowed && !o.failsafe && o.volt_valid && o.enabled);
	CHECK_EQ_INT(gw_limits_flags(&o), 0x13);
	/* sum */
	cfg.bank_rule = CONF_BANK_SUM;
	bank(p, 4, &o, &bind);
	CHECK_NEAR(o.ccl_a, 120, 1e-9);
	CHECK_NEAR(o.dcl_a, 140, 1e-9);
	CHECK_EQ_INT(o.ccl_reason, GW_LR_TEMPERATURE);
	/* a pack that does not allow charging blocks the bank, under both rules */
	c.ccl_a = 0;
	c.charge_allowed = false;
	c.ccl_reason = GW_LR_MOSFET_OFF;
	bank(p, 4, &o, &bind);
	CHECK_NEAR(o.ccl_a, 0, 1e-12);
	CHECK(!o.charge_allowed && o.discharge_allowed);
	CHECK_EQ_INT(o.ccl_reason, GW_LR_MOSFET_OFF);
	CHECK_EQ_INT(bind.ccl, 2);
	CHECK_NEAR(o.dcl_a, 140, 1e-9);
	cfg.bank_rule = CONF_BANK_MIN;
	bank(p, 4, &o, NULL);
	CHECK_NEAR(o.ccl_a, 0, 1e-12);
	CHECK_EQ_INT(o.ccl_reason, GW_LR_MOSFET_OFF);
	/* a pack that reports allowed = false with a current above 0 still blocks */
	struct gw_limits d = mk(55.2, 50, 60, 46.4, GW_LIM_BULK, GW_LR_NONE, GW_LR_NONE);
	d.discharge_allowed = false;
	const struct gw_limits *pd[2] = { &a, &d };
	cfg.bank_rule = CONF_BANK_SUM;
	bank(pd, 2, &o, NULL);
	CHECK_NEAR(o.dcl_a, 0, 1e-12);
	cfg.bank_rule = CONF_BANK_MIN;
	/* packs dropping out: the others carry the bank */
	c.ccl_a = 40;
	c.charge_allowed = true;
	p[1] = NULL;
	bank(p, 4, &o, &bind);
	CHECK_NEAR(o.ccl_a, 80, 1e-9); /* 2 x 40 */
	CHECK_NEAR(o.cvl_v, 55.1, 1e-9);
	CHECK_EQ_INT(o.mode, GW_LIM_BULK); /* one charge machine: pack a has not absorbed */
	CHECK_EQ_INT(bind.cvl, 2);
	/* a fail-safe result counts as not fresh */
	struct gw_limits f = mk(50, 0, 0, 40, GW_LIM_FAILSAFE, GW_LR_STALE, GW_LR_STALE);
	f.failsafe = true;
	p[1] = &f;
	bank(p, 4, &o, &bind);
	CHECK_NEAR(o.ccl_a, 80, 1e-9);
	CHECK_NEAR(o.cvl_v, 55.1, 1e-9);
	CHECK(!o.failsafe);
	/* flags of the packs: any force charge, any full-charge request */
	a.force_charge = true;
	c.full_charge_request = true;
	bank(p, 4, &o, NULL);
	CHECK(o.force_charge && o.full_charge_request);
	CHECK_EQ_INT(gw_limits_flags(&o), 0x1F);
	/* a pack without voltages does not set the bank's CVL/DVL */
	c.volt_valid = false;
	c.cvl_v = c.dvl_v = 0;
	bank(p, 4, &o, &bind);
	CHECK_NEAR(o.cvl_v, 55.2, 1e-9);
	CHECK_NEAR(o.dvl_v, 46.4, 1e-9);
	CHECK_EQ_INT(bind.cvl, 0);
	CHECK_EQ_INT(o.mode, GW_LIM_BULK);
	a.volt_valid = false;
	bank(p, 4, &o, &bind);
	CHECK(!o.volt_valid);
	CHECK_EQ_INT(bind.cvl, -1);
	CHECK_EQ_INT(o.mode, GW_LIM_BULK); /* the first fresh pack's */
	CHECK_NEAR(o.ccl_a, 80, 1e-9);
}

/* No fresh pack: fail-safe; no [limits]: off. */
static void test_bank_failsafe(void)
{
	lfp(&cfg);
	struct gw_limits o, a = mk(55.2, 50, 60, 46.4, GW_LIM_BULK, GW_LR_NONE, GW_LR_NONE);
	struct gw_limits f = mk(50, 0, 0, 40, GW_LIM_FAILSAFE, GW_LR_STALE, GW_LR_STALE);
	struct gw_lim_binding bind;
	f.failsafe = true;
	const struct gw_limits *p[2] = { &a, &f };
	const struct gw_limits *none[3] = { NULL, &f, NULL };
	bank(none, 3, &o, &bind);
	CHECK(o.failsafe && !o.charge_allowed && !o.discharge_allowed && o.enabled);
	CHECK_EQ_INT(o.mode, GW_LIM_FAILSAFE);
	CHECK_EQ_INT(o.ccl_reason, GW_LR_STALE);
	CHECK_EQ_INT(o.dcl_reason, GW_LR_STALE);
	CHECK_NEAR(o.ccl_a, 0, 1e-12);
	CHECK_EQ_INT(gw_limits_flags(&o), 0x30);
	CHECK_EQ_INT(bind.ccl, -1);
	bank(none, 0, &o, NULL);
	CHECK(o.failsafe);
	/* without [limits]: all 0, off */
	cfg.enabled = false;
	bank(p, 2, &o, NULL);
	CHECK_EQ_INT(o.mode, GW_LIM_OFF);
	CHECK_EQ_INT(gw_limits_flags(&o), 0);
	CHECK_NEAR(o.ccl_a, 0, 1e-12);
	CHECK(!o.failsafe);
}

/* Two packs from the engine, one hot: the bank follows it; a gap of the
 * hot one drops it out, and its return waits for its hold. */
static void test_bank_engine(void)
{
	struct gw_limits o;
	struct gw_lim_binding bind;
	lfp(&cfg);
	struct bms_snapshot s1, s2;
	struct gw_lim_state st1, st2;
	struct gw_limits o1, o2;
	gw_limits_init(&st1);
	gw_limits_init(&st2);
	pack16(&s1, 3300);
	pack16(&s2, 3300);
	s2.temp_c[0] = 47; /* 20 A, 24 A */
	const struct gw_limits *pp[2] = { &o1, &o2 };
	gw_limits_step(&cfg, NULL, &s1, 0, WALL0, &st1, &o1);
	gw_limits_step(&cfg, NULL, &s2, 0, WALL0, &st2, &o2);
	bank(pp, 2, &o, &bind);
	CHECK_NEAR(o.ccl_a, 40, 1e-9);
	CHECK_NEAR(o.dcl_a, 48, 1e-9);
	CHECK_EQ_INT(o.ccl_reason, GW_LR_TEMPERATURE);
	CHECK_EQ_INT(bind.ccl, 1);
	gw_limits_step(&cfg, NULL, NULL, 1, WALL0 + 1, &st2, &o2);
	pp[1] = NULL; /* not fresh */
	bank(pp, 2, &o, &bind);
	CHECK_NEAR(o.ccl_a, 50, 1e-9);
	CHECK_EQ_INT(o.ccl_reason, GW_LR_NONE);
	pp[1] = &o2;
	gw_limits_step(&cfg, NULL, &s2, 2, WALL0 + 2, &st2, &o2);
	bank(pp, 2, &o, &bind);
	/* pack 2 is back but its limits still recover (0 A, reason stale): it
	 * joins the bank only once they did, so its 0 A does not stop the bank */
	CHECK_NEAR(o2.ccl_a, 0, 1e-12);
	CHECK_NEAR(o.ccl_a, 50, 1e-9);
	CHECK_EQ_INT(o.ccl_reason, GW_LR_NONE);
	CHECK(o.charge_allowed);
	for (int t = 3; t <= 40; t++)
		gw_limits_step(&cfg, NULL, &s2, t, WALL0 + t, &st2, &o2);
	bank(pp, 2, &o, &bind);
	CHECK_NEAR(o.ccl_a, 40, 1e-9); /* recovered: 2 x 20 A */
}

/* The bank's own hold and ramp: a lower target at once, a higher one after
 * recovery_hold at recovery_rate; no fresh pack: 0 at once, then from 0
 * by the hold and the ramp; the CVL down at once, up at cvl_rate a cell. */
static void test_bank_follow(void)
{
	lfp(&cfg);
	struct gw_lim_bank_state bst;
	gw_limits_bank_init(&bst);
	struct gw_limits t = { .enabled = true, .volt_valid = true, .cvl_v = 55.2, .dvl_v = 46.4, .ccl_a = 100,
			       .dcl_a = 120, .mode = GW_LIM_BULK };
	struct gw_limits o = t;
	follow(&bst, 0, &o);
	CHECK_NEAR(o.ccl_a, 100, 1e-9); /* the first: as it is */
	o = t;
	o.ccl_a = 20;
	o.ccl_reason = GW_LR_TEMPERATURE;
	follow(&bst, 1, &o);
	CHECK_NEAR(o.ccl_a, 20, 1e-9); /* falls at once */
	CHECK_EQ_INT(o.ccl_reason, GW_LR_TEMPERATURE);
	for (int s = 2; s <= 31; s++) {
		o = t;
		follow(&bst, s, &o);
		CHECK_NEAR(o.ccl_a, 20, 1e-9); /* held for recovery_hold (30 s) */
	}
	o = t;
	follow(&bst, 33, &o);
	CHECK_NEAR(o.ccl_a, 25, 1e-9); /* then 5 A/s: risen at 2 s, held to 32, 1 s of ramp */
	CHECK(o.charge_allowed);
	o = t;
	o.failsafe = true;
	o.ccl_a = o.dcl_a = 0;
	o.mode = GW_LIM_FAILSAFE;
	o.volt_valid = false;
	o.cvl_v = o.dvl_v = 0;
	follow(&bst, 34, &o);
	CHECK_NEAR(o.ccl_a, 0, 1e-12);
	CHECK(o.failsafe && o.volt_valid); /* no fresh pack: the last CVL and DVL kept */
	CHECK_NEAR(o.cvl_v, 55.2, 1e-9);
	CHECK_NEAR(o.dvl_v, t.dvl_v, 1e-9);
	o = t;
	follow(&bst, 35, &o);
	CHECK_NEAR(o.ccl_a, 0, 1e-12); /* back: from 0, held */
	CHECK(!o.charge_allowed);
	/* CVL: a lower target at once, then up at 0.001 V x 16 cells a second */
	o = t;
	o.cvl_v = 54.0;
	follow(&bst, 36, &o);
	CHECK_NEAR(o.cvl_v, 54.0, 1e-9);
	o = t;
	follow(&bst, 46, &o);
	CHECK_NEAR(o.cvl_v, 54.0 + 0.001 * 16 * 10, 1e-9);
}


/* The bank of two engine packs, stepped with their snapshots at t. */
struct two {
	struct gw_lim_state st[2];
	struct gw_limits lim[2];
	struct gw_lim_member m[2];
	struct gw_lim_bank_state bst;
	struct gw_limits o;
};

static void two_init(struct two *b)
{
	memset(b, 0, sizeof(*b));
	for (int k = 0; k < 2; k++) {
		gw_limits_init(&b->st[k]);
		b->m[k] = (struct gw_lim_member){ &b->lim[k], false, { cfg.max_charge_current, cfg.max_discharge_current, 0 },
						  0 };
	}
	gw_limits_bank_init(&b->bst);
}

static void two_step(struct two *b, double t, const struct bms_snapshot *a, const struct bms_snapshot *c)
{
	const struct bms_snapshot *s[2] = { a, c };
	double v = 0;
	for (int k = 0; k < 2; k++) {
		gw_limits_step(&cfg, NULL, s[k], t, WALL0 + (int64_t)t, &b->st[k], &b->lim[k]);
		v += s[k] ? s[k]->voltage : 0;
	}
	struct gw_lim_bank_in in = { b->m, 2, true, false, false, v / 2, 0, 0 };
	gw_limits_bank(&cfg, &in, &b->o, NULL);
	gw_limits_bank_follow(&cfg, &b->bst, &in, t, &b->o);
}

/* One charge machine: pack A absorbs and floats first; the bank keeps the
 * bulk CVL (never A's float CVL) until B has absorbed too, then floats. */
static void test_bank_machine(void)
{
	struct two b;
	struct bms_snapshot sa, sb;
	lfp(&cfg);
	cfg.absorption_time = 100;
	two_init(&b);
	pack16(&sa, 3450);          /* A at the target, together: absorption */
	pack16(&sb, 3430);          /* B: 54.88 V, bulk */
	two_step(&b, 0, &sa, &sb);
	CHECK_EQ_INT(b.lim[0].mode, GW_LIM_ABSORPTION);
	CHECK_EQ_INT(b.o.mode, GW_LIM_ABSORPTION);
	CHECK_NEAR(b.o.cvl_v, 55.2, 1e-9);
	int bad = 0;
	for (int t = 1; t <= 300; t++) {
		two_step(&b, t, &sa, &sb);
		bad += fabs(b.o.cvl_v - 55.2) > 1e-9 || b.o.mode == GW_LIM_FLOAT || b.o.absorbed;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(b.lim[0].mode, GW_LIM_FLOAT);    /* A floats ... */
	CHECK(b.lim[0].absorbed && !b.lim[1].absorbed);
	CHECK_NEAR(b.lim[0].bulk_cvl_v, 55.2, 1e-9);  /* ... its bulk CVL is what the bank reads */
	CHECK_EQ_INT(b.o.mode, GW_LIM_BULK);
	/* a cell of A over the target lowers the bank's CVL through A's rule */
	sa.cell_mv[0] = 3470;
	sa.voltage = 55.22f;
	two_step(&b, 301, &sa, &sb);
	CHECK_NEAR(b.o.cvl_v, 55.2, 1e-5);            /* 55.22 - 0.02, over the floor (55.15) */
	CHECK_NEAR(b.lim[0].bulk_cvl_v, 55.2, 1e-5);
	sa.cell_mv[0] = 3450;
	sa.voltage = 55.2f;
	/* B reaches the target: absorption, then the bank floats with it */
	pack16(&sb, 3450);
	two_step(&b, 302, &sa, &sb);
	CHECK_EQ_INT(b.lim[1].mode, GW_LIM_ABSORPTION);
	CHECK_EQ_INT(b.o.mode, GW_LIM_ABSORPTION);
	for (int t = 303; t <= 402; t++)
		two_step(&b, t, &sa, &sb);
	CHECK_EQ_INT(b.lim[1].mode, GW_LIM_FLOAT);
	CHECK_EQ_INT(b.o.mode, GW_LIM_FLOAT);
	CHECK(b.o.absorbed);
	CHECK_NEAR(b.o.cvl_v, 55.15, 1e-5);           /* at the battery, not under it */
	/* both relax: the bank's CVL follows them down to float */
	pack16(&sa, 3340);
	pack16(&sb, 3340);
	for (int t = 403; t <= 600; t++)
		two_step(&b, t, &sa, &sb);
	CHECK_NEAR(b.o.cvl_v, 54.0, 1e-9);
	/* full-charge request: cleared while the bank floats */
	b.lim[1].full_charge_request = true;
	struct gw_lim_bank_in in = { b.m, 2, true, false, false, 53.44, 0, 0 };
	gw_limits_bank(&cfg, &in, &b.o, NULL);
	CHECK(!b.o.full_charge_request);
	b.lim[1].absorbed = false;
	b.lim[1].mode = GW_LIM_BULK;
	gw_limits_bank(&cfg, &in, &b.o, NULL);
	CHECK(b.o.full_charge_request && b.o.mode == GW_LIM_BULK);
	in.have_soc = true;
	in.soc = 97;
	gw_limits_bank(&cfg, &in, &b.o, NULL);
	CHECK(!b.o.full_charge_request); /* or at 97 % */
}

/* A stale member: degrade caps the CVL at float and flags it; block is
 * fail-safe; a pack not read yet is neither. */
static void test_bank_stale(void)
{
	lfp(&cfg);
	struct gw_limits a = mk(55.2, 50, 60, 46.4, GW_LIM_BULK, GW_LR_NONE, GW_LR_NONE);
	struct gw_lim_rating r = { 50, 60, 0 };
	struct gw_lim_member m[2] = { { &a, false, r, 0 }, { NULL, false, r, 0 } };
	struct gw_lim_bank_in in = { m, 2, true, false, false, 53.0, 0, 0 };
	struct gw_limits o;
	gw_limits_bank(&cfg, &in, &o, NULL);
	CHECK(!o.member_stale);
	CHECK_NEAR(o.cvl_v, 55.2, 1e-9);
	CHECK_NEAR(o.ccl_a, 50, 1e-9);
	m[1].stale = true;
	gw_limits_bank(&cfg, &in, &o, NULL);
	CHECK(o.member_stale && !o.failsafe);
	CHECK_NEAR(o.cvl_v, 54.0, 1e-9); /* 16 x 3.375 */
	CHECK_NEAR(o.ccl_a, 50, 1e-9);
	CHECK_EQ_INT(gw_limits_flags(&o), GW_LIM_F_CHARGE | GW_LIM_F_DISCHARGE | GW_LIM_F_ON | GW_LIM_F_MEMBER_STALE);
	/* the battery above float: the CVL stays at it, charging stops */
	in.volts = 54.6;
	gw_limits_bank(&cfg, &in, &o, NULL);
	CHECK_NEAR(o.cvl_v, 54.55, 1e-9);
	CHECK_NEAR(o.ccl_a, 0, 1e-12);
	CHECK_EQ_INT(o.ccl_reason, GW_LR_STALE);
	CHECK(o.discharge_allowed);
	/* block: fail-safe */
	cfg.bank_stale = CONF_BANK_STALE_BLOCK;
	gw_limits_bank(&cfg, &in, &o, NULL);
	CHECK(o.failsafe && o.member_stale && !o.charge_allowed && !o.discharge_allowed);
	CHECK_EQ_INT(gw_limits_flags(&o), GW_LIM_F_ON | GW_LIM_F_FAILSAFE | GW_LIM_F_MEMBER_STALE);
	m[1].stale = false; /* not read yet at start: not stale */
	gw_limits_bank(&cfg, &in, &o, NULL);
	CHECK(!o.failsafe && !o.member_stale);
}

/* bank_rule = weighted, by capacity, else by rating; per-pack ratings in
 * the anti-flap threshold. */
static void test_bank_weighted(void)
{
	lfp(&cfg);
	cfg.bank_rule = CONF_BANK_WEIGHTED;
	struct gw_limits a = mk(55.2, 50, 60, 46.4, GW_LIM_BULK, GW_LR_NONE, GW_LR_NONE);
	struct gw_limits c = mk(55.2, 140, 168, 46.4, GW_LIM_BULK, GW_LR_NONE, GW_LR_NONE);
	struct gw_lim_member m[2] = { { &a, false, { 50, 60, 0 }, 100 }, { &c, false, { 140, 168, 0 }, 280 } };
	struct gw_lim_bank_in in = { m, 2, false, false, false, 0, 0, 0 };
	struct gw_limits o;
	struct gw_lim_binding bind;
	gw_limits_bank(&cfg, &in, &o, &bind);
	CHECK_NEAR(o.ccl_a, 190, 1e-9); /* 50 / (100/380) = 140 / (280/380) */
	CHECK_NEAR(o.dcl_a, 228, 1e-9);
	c.ccl_a = 100;                   /* the big pack's cells are warm */
	c.ccl_reason = GW_LR_TEMPERATURE;
	gw_limits_bank(&cfg, &in, &o, &bind);
	CHECK_NEAR(o.ccl_a, 100 * 380.0 / 280, 1e-9);
	CHECK_EQ_INT(bind.ccl, 1);
	CHECK_EQ_INT(o.ccl_reason, GW_LR_TEMPERATURE);
	/* min of the same packs: 2 x 50; sum: 150 */
	cfg.bank_rule = CONF_BANK_MIN;
	gw_limits_bank(&cfg, &in, &o, &bind);
	CHECK_NEAR(o.ccl_a, 100, 1e-9);
	cfg.bank_rule = CONF_BANK_SUM;
	gw_limits_bank(&cfg, &in, &o, &bind);
	CHECK_NEAR(o.ccl_a, 150, 1e-9);
	/* no capacity for one: weights by rating (50 : 140) */
	cfg.bank_rule = CONF_BANK_WEIGHTED;
	m[0].capacity_ah = 0;
	gw_limits_bank(&cfg, &in, &o, &bind);
	CHECK_NEAR(o.ccl_a, fmin(50 * 190.0 / 50, 100 * 190.0 / 140), 1e-9);
}

/* The bank's alarm levels; its CVL never under the battery; its force
 * charge only while it may charge. */
static void test_bank_levels(void)
{
	lfp(&cfg);
	struct gw_limits l = mk(55.2, 50, 0, 46.4, GW_LIM_BULK, GW_LR_NONE, GW_LR_ALARM);
	uint32_t p = BMS_AL_CELL_UV | BMS_AL_CELL_DIFF | BMS_AL_CHG_OT, w = BMS_AL_CELL_DIFF;
	gw_limits_bank_alarm_levels(&l, &p, &w);
	CHECK_EQ_INT(p, BMS_AL_CELL_UV); /* the bank still charges: UV stays, the rest warns */
	CHECK_EQ_INT(w, BMS_AL_CELL_UV | BMS_AL_CELL_DIFF | BMS_AL_CHG_OT);
	l = mk(55.2, 0, 0, 46.4, GW_LIM_BULK, GW_LR_ALARM, GW_LR_ALARM);
	p = BMS_AL_CELL_UV | BMS_AL_CELL_DIFF | BMS_AL_HW_FAULT;
	w = 0;
	gw_limits_bank_alarm_levels(&l, &p, &w);
	CHECK_EQ_INT(p, BMS_AL_CELL_UV | BMS_AL_CELL_DIFF | BMS_AL_HW_FAULT);
	l = mk(55.2, 50, 60, 46.4, GW_LIM_BULK, GW_LR_NONE, GW_LR_NONE);
	p = BMS_AL_HW_FAULT | BMS_AL_CELL_OV;
	w = 0;
	gw_limits_bank_alarm_levels(&l, &p, &w);
	CHECK_EQ_INT(p, 0);
	CHECK_EQ_INT(w, BMS_AL_HW_FAULT | BMS_AL_CELL_OV);
	/* a bulk CVL under the battery (a pack's over-voltage rule): held up at
	 * the battery, charging stopped */
	struct gw_limits a = mk(54.0, 50, 60, 46.4, GW_LIM_BULK, GW_LR_NONE, GW_LR_NONE);
	a.force_charge = true;
	struct gw_lim_member m[1] = { { &a, false, { 50, 60, 0 }, 0 } };
	struct gw_lim_bank_in in = { m, 1, true, false, false, 55.0, 0, 0 };
	struct gw_limits o;
	gw_limits_bank(&cfg, &in, &o, NULL);
	CHECK_NEAR(o.cvl_v, 54.95, 1e-9);
	CHECK_NEAR(o.ccl_a, 0, 1e-12);
	CHECK_EQ_INT(o.ccl_reason, GW_LR_CELL_VOLTAGE);
	CHECK(!o.force_charge); /* the pack's force, but the bank may not charge */
	in.volts = 53.0;
	gw_limits_bank(&cfg, &in, &o, NULL);
	CHECK_NEAR(o.cvl_v, 54.0, 1e-9);
	CHECK(o.force_charge);
	/* the bank's exceeded, from its current */
	struct gw_lim_bank_state bst;
	gw_limits_bank_init(&bst);
	in.have_i = true;
	in.amps = 60; /* CCL 50 */
	unsigned ch = 0;
	for (int t = 0; t <= 11; t++) { /* the first step is taken as it is: 10 s from t = 1 */
		gw_limits_bank(&cfg, &in, &o, NULL);
		ch |= gw_limits_bank_follow(&cfg, &bst, &in, t, &o);
	}
	CHECK_EQ_INT(o.exceeded, GW_LIM_EXC_CHARGE);
	CHECK(ch & GW_LIM_CHANGED_EXCEEDED);
}

int main(void)
{
	test_tables();
	test_tables_soc();
	test_engine_tables();
	test_engine_soc_bms();
	test_cvl_machine();
	test_absorption();
	test_ovp();
	test_ovp_modes();
	test_current_hold_ramp();
	test_antiflap();
	test_mosfet_alarms();
	test_stale();
	test_unfit();
	test_force_full();
	test_no_cells();
	test_cell_extremes();
	test_disabled_words();
	test_force_allowed();
	test_absorption_entry();
	test_unknown_temp();
	test_sensor_faults();
	test_rating();
	test_hysteresis();
	test_exceeded();
	test_bank();
	test_bank_failsafe();
	test_bank_engine();
	test_bank_follow();
	test_bank_machine();
	test_bank_stale();
	test_bank_weighted();
	test_bank_levels();
	return check_report();
}
