/* tests/unit/test_limits.c - the charge and discharge limit engine
 * (gateway/model/limits.c): the tables in both interpolations, the CVL
 * machine (bulk, absorption, float, rebulk), the cell over-voltage rule,
 * the current limits' hold, ramp and anti-flap, FETs and alarms, a stale
 * pack, the bank rules and the flag word.  Traces run on a fake clock; the
 * expected numbers are worked out from the formulas in the comments. */
#include <stdio.h>
#include <string.h>

#include "../../gateway/model/limits.h"
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

/* design.md's [limits] example: the LFP defaults. */
static void lfp(struct conf_limits *c)
{
	static const double cc[] = { 3.375, 1, 3.400, 0.25, 3.425, 0.05, 3.450, 0.005, 3.500, 0 };
	static const double dc[] = { 3.190, 1, 3.100, 0.25, 3.000, 0.05, 2.900, 0.005, 2.800, 0 };
	static const double ct[] = { 0, 0, 2, 0.25, 5, 0.5, 10, 1, 40, 1, 45, 0.5, 50, 0.25, 55, 0 };
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
	return gw_limits_step(&cfg, s, t, WALL0 + (int64_t)t, &st, &out);
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
	CHECK_NEAR(gw_limits_table(ct, 1, L), 0.125, 1e-12);
	CHECK_NEAR(gw_limits_table(ct, 1, S), 0, 1e-12);
	CHECK_NEAR(gw_limits_table(ct, 7.5, L), 0.75, 1e-12);
	CHECK_NEAR(gw_limits_table(ct, 7.5, S), 0.5, 1e-12);
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
	/* the optional SOC tables (design.md's examples) */
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
	/* the lowest sensor 1 degC: charge 0.125 -> 6.25 A, discharge
	 * 0.25 + 0.25 * 0.2 = 0.3 -> 18 A */
	fresh();
	pack16(&s, 3300);
	s.temp_c[1] = 1;
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 6.25, 1e-9);
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
	/* both sensors count: cold 3 degC (0.25 + 0.25/3) and hot 47 degC (0.4) */
	s.temp_c[1] = 3;
	fresh();
	run(0, &s);
	CHECK_NEAR(out.ccl_a, 50 * (0.25 + 0.25 / 3), 1e-9);
	CHECK_NEAR(out.dcl_a, 24, 1e-9); /* discharge at 3 degC: 0.4 too */
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

int main(void)
{
	test_tables();
	test_engine_tables();
	return check_report();
}
