/* SPDX-License-Identifier: MIT */
/* tests/unit/test_soc.c - the SOC estimator (gateway/engine/soc.h) on
 * fake-clock traces: the count (trapezoid, efficiency, threshold, offsets,
 * clamping), the full point only after full_time, the empty and rest
 * points (steep parts of the curve only, 10..40 degC), the knee point
 * (down only, once a discharge), the capacity prior (the smaller of the
 * configured and the BMS's until measured), a gap bridged or
 * lost, the learned offset, the learned capacity (median of 5, refused
 * samples), the bank of two packs with one stale, the state as a record
 * (resumed within 24 h, learned things kept when older, bad records), and
 * the direction helper. */
#include <math.h>
#include <stdlib.h>

#include "../../gateway/engine/soc.h"
#include "check.h"

static struct conf_soc C;
static double T;
static unsigned EVBITS;    /* every event of the last run() */
static struct gw_soc_ev EV; /* the last step's */

/* What a poll reads: current, lowest / highest cell, BMS SOC 50 %. */
static struct gw_soc_in poll(double i, double vmin, double vmax)
{
	return (struct gw_soc_in){ .t = T, .current = i, .cell_min_v = vmin, .cell_max_v = vmax, .cell_avg_v = NAN,
				   .bms_soc = 50, .bms_remain_ah = NAN, .bms_full_ah = NAN, .temp_min_c = NAN,
				   .temp_max_c = NAN };
}

static unsigned step_in(struct gw_soc *s, double dt, struct gw_soc_in in)
{
	T += dt;
	in.t = T;
	gw_soc_step(s, &C, 30, &in, &EV);
	return EV.bits;
}

static unsigned step(struct gw_soc *s, double dt, double i, double vmin, double vmax)
{
	return step_in(s, dt, poll(i, vmin, vmax));
}

/* secs of polls every 10 s at one current and cell voltages. */
static unsigned run(struct gw_soc *s, double secs, double i, double vmin, double vmax)
{
	EVBITS = 0;
	for (double d = 0; d < secs - 1e-9; d += 10)
		EVBITS |= step(s, 10, i, vmin, vmax);
	return EVBITS;
}

static double pct(const struct gw_soc *s)
{
	struct gw_soc_out o;
	gw_soc_output(s, &C, 50, T, &o);
	return o.soc_counted;
}

static void setup(void)
{
	conf_soc_defaults(&C, CONF_CHEM_LFP);
	C.capacity = 100;
	T = 1000;
}

#define FLAT 3.30 /* an LFP cell on its plateau */

static void test_count(void)
{
	struct gw_soc s = { 0 };
	setup();
	CHECK(step(&s, 0, 0, FLAT, FLAT) & GW_SOC_EV_START);
	CHECK_NEAR(pct(&s), 50, 1e-9); /* from the BMS's SOC */
	CHECK(!s.synced);
	/* from 0 to 10 A in 10 s: 50 As; then 10 A for an hour: 10 Ah in, 0.99 stored */
	step(&s, 10, 10, FLAT, FLAT);
	CHECK_NEAR(s.ah, 50 + 50 * 0.99 / 3600, 1e-9);
	run(&s, 3600, 10, FLAT, FLAT);
	CHECK_NEAR(s.ah, 50 + (50 + 36000) * 0.99 / 3600, 1e-9);
	double a = s.ah;
	step(&s, 10, -10, FLAT, FLAT); /* 10 to -10: 25 As in, 25 out */
	CHECK_NEAR(s.ah, a + (25 * 0.99 - 25) / 3600, 1e-9);
	a = s.ah;
	run(&s, 3600, -10, FLAT, FLAT);
	CHECK_NEAR(s.ah, a - 10, 1e-9);
	/* threshold: 0.05 A counts as 0, 0.15 A does */
	step(&s, 10, 0.05, FLAT, FLAT); /* from -10 to 0: a discharge still */
	a = s.ah;
	run(&s, 3600, 0.05, FLAT, FLAT);
	CHECK_NEAR(s.ah, a, 1e-9);
	step(&s, 10, 0.15, FLAT, FLAT);
	a = s.ah;
	run(&s, 3600, 0.15, FLAT, FLAT);
	CHECK_NEAR(s.ah, a + 0.15 * 0.99, 1e-9);
	/* the configured offset is added before the threshold */
	C.current_offset = 0.5;
	a = s.ah;
	step(&s, 10, 0, FLAT, FLAT);
	a = s.ah;
	run(&s, 3600, 0, FLAT, FLAT);
	CHECK_NEAR(s.ah, a + 0.5 * 0.99, 1e-9);
	C.current_offset = 0;
	/* efficiency 1: all of it */
	C.charge_efficiency = 1;
	a = s.ah;
	step(&s, 10, 5, FLAT, FLAT);
	a = s.ah;
	run(&s, 3600, 5, FLAT, FLAT);
	CHECK_NEAR(s.ah, a + 5, 1e-9);
	/* clamped to 0 .. capacity */
	run(&s, 3600 * 20, -10, FLAT, FLAT);
	CHECK_NEAR(s.ah, 0, 1e-9);
	run(&s, 3600 * 20, 10, FLAT, FLAT);
	CHECK_NEAR(s.ah, 100, 1e-9);
	CHECK(!s.synced); /* counting is no sync */
	/* count = false: nothing moves */
	C.count = false;
	run(&s, 3600, -10, FLAT, FLAT);
	CHECK_NEAR(s.ah, 100, 1e-9);
	struct gw_soc_out o;
	gw_soc_output(&s, &C, 42, T, &o);
	CHECK(!(o.flags & GW_SOC_F_COUNTING));
	CHECK_NEAR(o.soc, 42, 1e-9);
	CHECK(isnan(o.soc_counted));
}

static void test_no_capacity(void)
{
	struct gw_soc s = { 0 };
	setup();
	C.capacity = -1;
	run(&s, 600, 10, FLAT, FLAT); /* no capacity anywhere: nothing to count against */
	CHECK(!s.started);
	struct gw_soc_in in = poll(10, FLAT, FLAT);
	in.bms_full_ah = 200; /* the BMS's */
	step_in(&s, 10, in);
	CHECK(s.started);
	CHECK_NEAR(s.cap_ah, 200, 1e-9);
	CHECK_NEAR(s.rated_ah, 200, 1e-9);
	/* no current: not counted */
	double a = s.ah;
	in.current = NAN;
	step_in(&s, 10, in);
	CHECK_NEAR(s.ah, a, 1e-9);
}

static void test_full(void)
{
	struct gw_soc s = { 0 };
	setup();
	run(&s, 60, 20, FLAT, FLAT);
	/* at the target with 2 A (tail 4 A): full after 180 s, not before */
	CHECK(!(run(&s, 180, 2, 3.44, 3.46) & GW_SOC_EV_FULL)); /* its first poll, and 170 s after */
	CHECK(!s.synced);
	CHECK(step(&s, 10, 2, 3.44, 3.46) & GW_SOC_EV_FULL); /* 180 s since the first poll of the spell */
	CHECK(s.synced);
	CHECK_NEAR(pct(&s), 100, 1e-9);
	CHECK_EQ_INT(s.full_points, 1);
	/* once while it lasts */
	CHECK(!(run(&s, 3600, 2, 3.44, 3.46) & GW_SOC_EV_FULL));
	CHECK_EQ_INT(s.full_points, 1);
	/* a current over the tail, or a cell under the voltage, is no full point */
	struct gw_soc s2 = { 0 };
	run(&s2, 600, 5, 3.44, 3.46);
	run(&s2, 600, 2, 3.40, 3.44);
	CHECK_EQ_INT(s2.full_points, 0);
	/* a tail that breaks off starts the time again */
	run(&s2, 100, 2, 3.44, 3.46);
	run(&s2, 10, 30, 3.44, 3.46);
	CHECK(!(run(&s2, 180, 2, 3.44, 3.46) & GW_SOC_EV_FULL));
	CHECK(step(&s2, 10, 2, 3.44, 3.46) & GW_SOC_EV_FULL);
	/* the output: since the last full point */
	struct gw_soc_out o;
	T += 100;
	gw_soc_output(&s2, &C, 50, T, &o);
	CHECK_NEAR(o.since_full_s, 100, 1e-6);
	CHECK_EQ_INT(o.full_points, 1);
	struct gw_soc s3 = { 0 };
	gw_soc_output(&s3, &C, 50, T, &o);
	CHECK(o.since_full_s < 0);
}

static void test_empty(void)
{
	struct gw_soc s = { 0 };
	setup();
	run(&s, 60, -5, 3.0, 3.1);
	/* a strong discharge (30 A > 0.2 C) pulls a cell down: no empty point */
	CHECK(!(run(&s, 600, -30, 2.85, 3.0) & GW_SOC_EV_EMPTY));
	/* at rest under the voltage: none either */
	CHECK(!(run(&s, 600, 0, 2.85, 3.0) & GW_SOC_EV_EMPTY));
	/* a small discharge: after 60 s */
	CHECK(!(run(&s, 60, -5, 2.85, 3.0) & GW_SOC_EV_EMPTY));
	CHECK(step(&s, 10, -5, 2.85, 3.0) & GW_SOC_EV_EMPTY);
	CHECK_NEAR(pct(&s), 0, 1e-9);
	CHECK(s.synced);
	CHECK_EQ_INT(s.empty_points, 1);
	/* a noisy edge does not repeat it: off for a poll, on again */
	run(&s, 10, 0, 2.85, 3.0);
	run(&s, 120, -5, 2.85, 3.0);
	CHECK_EQ_INT(s.empty_points, 1);
	/* after half an hour off, it may */
	run(&s, 1810, 0, 2.95, 3.0);
	run(&s, 120, -5, 2.85, 3.0);
	CHECK_EQ_INT(s.empty_points, 2);
}

static unsigned rest_at(struct gw_soc *s, double secs, double v, double tmin, double tmax)
{
	EVBITS = 0;
	for (double d = 0; d < secs; d += 10) {
		struct gw_soc_in in = poll(0.05, v, v);
		in.temp_min_c = tmin;
		in.temp_max_c = tmax;
		EVBITS |= step_in(s, 10, in);
	}
	return EVBITS;
}

static void test_rest(void)
{
	struct gw_soc s = { 0 };
	setup();
	/* the count's scale: 0 % is the curve's value at the empty voltage */
	double e = gw_soc_curve(CONF_CHEM_LFP, C.empty_cell_voltage);
	CHECK(e > 1 && e < 4);
	CHECK_NEAR(gw_soc_curve(CONF_CHEM_LFP, 3.5981), 100, 1e-9);
	CHECK_NEAR(gw_soc_curve(CONF_CHEM_LFP, 1.0), 0, 1e-9);
	CHECK(isnan(gw_soc_rest_value(CONF_CHEM_LFP, 3.30))); /* the plateau tells nothing */
	CHECK(isnan(gw_soc_rest_value(CONF_CHEM_LFP, 3.21)));
	CHECK(isfinite(gw_soc_rest_value(CONF_CHEM_LFP, 3.20)));
	CHECK(isfinite(gw_soc_rest_value(CONF_CHEM_LFP, 3.40)));
	CHECK(isfinite(gw_soc_rest_value(CONF_CHEM_NMC, 3.70)));
	CHECK(isnan(gw_soc_rest_value(CONF_CHEM_LTO, 2.30)));
	/* on the plateau: no rest point, however long */
	CHECK(!(rest_at(&s, 7200, FLAT, NAN, NAN) & GW_SOC_EV_REST));
	CHECK_NEAR(pct(&s), 50, 0.01);
	/* in the steep part, too cold: none; at 25 degC after rest_time: the curve */
	run(&s, 60, -10, 3.1, 3.1);
	CHECK(!(rest_at(&s, 3600, 3.10, 5, 6) & GW_SOC_EV_REST));
	run(&s, 60, -10, 3.1, 3.1);
	CHECK(!(rest_at(&s, 1800, 3.10, 20, 25) & GW_SOC_EV_REST));
	CHECK(rest_at(&s, 10, 3.10, 20, 25) & GW_SOC_EV_REST);
	double want = 100 * (gw_soc_curve(CONF_CHEM_LFP, 3.10) - e) / (100 - e);
	CHECK_NEAR(EV.rest_soc, want, 1e-9);
	CHECK_NEAR(pct(&s), want, 1e-9);
	CHECK(want > 2 && want < 5);
	CHECK_EQ_INT(s.rest_points, 1);
	CHECK(!s.synced); /* only full and empty points sync */
	/* once per rest */
	CHECK(!(rest_at(&s, 3600, 3.10, 20, 25) & GW_SOC_EV_REST));
	/* no temperature given: allowed; too hot: not */
	run(&s, 60, -10, 3.1, 3.1);
	CHECK(!(rest_at(&s, 3600, 3.12, 41, 45) & GW_SOC_EV_REST));
	run(&s, 60, -10, 3.1, 3.1);
	CHECK(rest_at(&s, 1810, 3.12, NAN, NAN) & GW_SOC_EV_REST);
	/* NMC: anywhere on its curve */
	struct gw_soc n = { 0 };
	C.chemistry = CONF_CHEM_NMC;
	conf_soc_derive(&C, NULL);
	CHECK_NEAR(C.empty_cell_voltage, 3.00, 1e-9);
	CHECK(rest_at(&n, 1810, 3.70, 20, 20) & GW_SOC_EV_REST);
	CHECK(EV.rest_soc > 40 && EV.rest_soc < 50);
	/* LTO: never */
	struct gw_soc l = { 0 };
	C.chemistry = CONF_CHEM_LTO;
	conf_soc_derive(&C, NULL);
	CHECK(!(rest_at(&l, 7200, 2.0, 20, 20) & GW_SOC_EV_REST));
}

/* The knee (design 22): a light discharge with the lowest cell at or
 * under knee_cell_voltage for empty_time pulls the count down to knee_soc,
 * never up, once a discharge. */
static void test_knee(void)
{
	struct gw_soc s = { 0 };
	setup();
	CHECK_NEAR(C.knee_cell_voltage, 3.10, 1e-9);
	CHECK_NEAR(C.knee_soc, 5, 1e-9);
	run(&s, 60, -10, 3.20, 3.25); /* over the knee: nothing; 50 % from the BMS */
	CHECK_EQ_INT(s.knee_points, 0);
	/* a strong discharge (30 A > 0.2 C) pulls a cell under it: no knee */
	CHECK(!(run(&s, 600, -30, 3.05, 3.2) & GW_SOC_EV_KNEE));
	/* at rest under it: none either */
	CHECK(!(run(&s, 600, 0, 3.05, 3.2) & GW_SOC_EV_KNEE));
	double was = pct(&s);
	CHECK(was > 40);
	/* a light discharge at the knee: after empty_time (60 s), not before */
	CHECK(!(run(&s, 60, -10, 3.09, 3.2) & GW_SOC_EV_KNEE));
	CHECK(!s.synced);
	CHECK(step(&s, 10, -10, 3.09, 3.2) & GW_SOC_EV_KNEE);
	CHECK_NEAR(EV.knee_from, was - (50 + 600) / 3600.0, 1e-6); /* 0 to -10 A, then 60 s at -10 A */
	CHECK_NEAR(EV.knee_v, 3.09, 1e-9);
	CHECK_NEAR(pct(&s), 5, 1e-9);
	CHECK(s.synced); /* the knee is a sync point */
	CHECK_EQ_INT(s.knee_points, 1);
	struct gw_soc_out o;
	gw_soc_output(&s, &C, 50, T, &o);
	CHECK_EQ_INT(o.knee_points, 1);
	/* once a discharge: a little charge back (to 8 %, under knee_soc + 5), down again: not again */
	run(&s, 720, 15, 3.2, 3.25);
	CHECK(pct(&s) > 7.5 && pct(&s) < 10);
	CHECK(!(run(&s, 600, -10, 3.05, 3.2) & GW_SOC_EV_KNEE));
	CHECK_EQ_INT(s.knee_points, 1);
	CHECK(pct(&s) > 5);
	/* charged over knee_soc + 5 %: a new discharge may take one */
	run(&s, 3600, 20, 3.3, 3.35);
	CHECK(pct(&s) > 20);
	CHECK(!(run(&s, 60, -10, 3.08, 3.2) & GW_SOC_EV_KNEE));
	CHECK(step(&s, 10, -10, 3.08, 3.2) & GW_SOC_EV_KNEE);
	CHECK_NEAR(pct(&s), 5, 1e-9);
	CHECK_EQ_INT(s.knee_points, 2);
	CHECK(EV.bits & GW_SOC_EV_SAVE & GW_SOC_EV_KNEE); /* saved as a point */
	/* never up: a count under knee_soc stays, however long */
	struct gw_soc d = { 0 };
	struct gw_soc_in in = poll(-10, 3.05, 3.2);
	in.bms_soc = 3;
	for (int k = 0; k < 60; k++)
		CHECK(!(step_in(&d, 10, in) & GW_SOC_EV_KNEE));
	CHECK_NEAR(pct(&d), 3 - 59 * 100 / 3600.0, 1e-6); /* counted from the second poll on */
	CHECK_EQ_INT(d.knee_points, 0);
	CHECK(!d.synced);
	/* a knee at or under the empty point: none; knee_soc is the config's */
	struct gw_soc n = { 0 };
	C.knee_cell_voltage = C.empty_cell_voltage;
	CHECK(!(run(&n, 600, -10, 2.95, 3.2) & GW_SOC_EV_KNEE));
	C.knee_cell_voltage = 3.10;
	C.knee_soc = 8;
	CHECK(run(&n, 70, -10, 3.05, 3.2) & GW_SOC_EV_KNEE);
	CHECK_NEAR(pct(&n), 8, 1e-9);
	/* a gap starts the time again */
	struct gw_soc g = { 0 };
	run(&g, 50, -10, 3.05, 3.2);
	CHECK(!(step(&g, 100, -10, 3.05, 3.2) & GW_SOC_EV_KNEE));
	CHECK(!(run(&g, 50, -10, 3.05, 3.2) & GW_SOC_EV_KNEE));
	CHECK(step(&g, 10, -10, 3.05, 3.2) & GW_SOC_EV_KNEE);
	/* no cells read: no knee */
	struct gw_soc u = { 0 };
	CHECK(!(run(&u, 600, -10, NAN, NAN) & GW_SOC_EV_KNEE));
	/* nmc's knee: 3.40 V */
	struct gw_soc m = { 0 };
	C.chemistry = CONF_CHEM_NMC;
	C.given = 0;
	C.knee_soc = 5;
	conf_soc_derive(&C, NULL);
	CHECK(run(&m, 80, -10, 3.38, 3.5) & GW_SOC_EV_KNEE);
}

static void cycle(struct gw_soc *s, double ah);

/* Until the first capacity sample: the smaller of the configured capacity
 * (a label) and the BMS's full capacity where both exist. */
static void test_prior(void)
{
	struct gw_soc s = { 0 };
	setup();
	C.capacity = 280;
	struct gw_soc_in in = poll(0, FLAT, FLAT);
	in.bms_full_ah = 262;
	CHECK(step_in(&s, 10, in) & GW_SOC_EV_PRIOR);
	CHECK(EV.prior_bms);
	CHECK_NEAR(EV.capacity_ah, 262, 1e-9);
	CHECK_NEAR(s.cap_ah, 262, 1e-9);
	CHECK_NEAR(s.rated_ah, 280, 1e-9); /* SOH's denominator stays the label */
	CHECK_NEAR(s.ah, 131, 1e-9); /* 50 % of it */
	/* said once; a poll without it keeps the last */
	CHECK(!(step_in(&s, 10, in) & GW_SOC_EV_PRIOR));
	in.bms_full_ah = NAN;
	CHECK(!(step_in(&s, 10, in) & GW_SOC_EV_PRIOR));
	CHECK_NEAR(s.cap_ah, 262, 1e-9);
	/* the BMS's over the label: the label, and said */
	in.bms_full_ah = 300;
	CHECK(step_in(&s, 10, in) & GW_SOC_EV_PRIOR);
	CHECK(!EV.prior_bms);
	CHECK_NEAR(s.cap_ah, 280, 1e-9);
	CHECK_NEAR(pct(&s), 50, 1e-6); /* the count follows at the same SOC */
	/* no configured capacity: the BMS's, nothing to say */
	struct gw_soc b = { 0 };
	C.capacity = -1;
	in.bms_full_ah = 262;
	CHECK(!(step_in(&b, 10, in) & GW_SOC_EV_PRIOR));
	CHECK_NEAR(b.cap_ah, 262, 1e-9);
	CHECK_NEAR(b.rated_ah, 262, 1e-9);
	/* the BMS's under the label, then a sample: the measured one */
	struct gw_soc m = { 0 };
	C.capacity = 100;
	C.charge_efficiency = 1;
	in = poll(0, FLAT, FLAT);
	in.bms_full_ah = 95;
	step_in(&m, 10, in);
	CHECK_NEAR(m.cap_ah, 95, 1e-9);
	cycle(&m, 90);
	CHECK_EQ_INT(m.nsamples, 1);
	CHECK_NEAR(m.cap_ah, 90.1, 0.05);
	struct gw_soc_out o;
	gw_soc_output(&m, &C, 50, T, &o);
	CHECK_NEAR(o.soh_measured, 90.1, 0.05); /* of the label's 100 */
}

static void test_gap(void)
{
	struct gw_soc s = { 0 };
	setup();
	run(&s, 60, 0, 3.44, 3.46);
	run(&s, 200, 2, 3.44, 3.46); /* synced by a full point */
	CHECK(s.synced);
	double a = s.ah;
	/* 100 s without a poll (stale_after 30): not integrated; no remaining Ah: unsynced */
	CHECK(step(&s, 100, -50, FLAT, FLAT) & GW_SOC_EV_LOST);
	CHECK_NEAR(EV.gap_s, 100, 1e-9);
	CHECK_NEAR(s.ah, a, 1e-9);
	CHECK(!s.synced);
	CHECK(!s.run_full.ok);
	struct gw_soc_out o;
	C.source = CONF_SOC_SRC_COUNTED;
	gw_soc_output(&s, &C, 47, T, &o);
	CHECK(!(o.flags & GW_SOC_F_SOURCE));
	CHECK_NEAR(o.soc, 47, 1e-9); /* never invented: the BMS's until synced */
	/* the next polls count again */
	run(&s, 3600, -10, FLAT, FLAT);
	CHECK_NEAR(s.ah, a - 50.0 * 10 / 3600 - 10 * 3600 / 3600.0 + 40.0 * 10 / 3600 / 2 * 0, 0.2);
	/* the BMS's remaining Ah bridges a gap: its change, at our capacity's scale */
	struct gw_soc b = { 0 };
	struct gw_soc_in in = poll(0, 3.44, 3.46);
	in.bms_remain_ah = 150;
	in.bms_full_ah = 200;
	step_in(&b, 10, in);
	in.current = 2;
	for (int k = 0; k < 20; k++)
		step_in(&b, 10, in);
	CHECK(b.synced);
	a = b.ah;
	in.bms_remain_ah = 130; /* 20 of 200 Ah out: 10 % */
	in.cell_min_v = in.cell_max_v = FLAT;
	in.current = -20;
	CHECK(step_in(&b, 300, in) & GW_SOC_EV_BRIDGED);
	CHECK_NEAR(b.ah, a - 10, 1e-9); /* 10 % of our 100 Ah */
	CHECK(b.synced);
	CHECK(!b.run_full.ok); /* no learning over a gap */
	gw_soc_output(&b, &C, 65, T, &o);
	CHECK(o.flags & GW_SOC_F_SOURCE);
	CHECK_NEAR(o.soc, o.soc_counted, 1e-9);
	C.source = CONF_SOC_SRC_BMS;
}

/* One full point, then Ah out at 20 A and back at +20 A, for the learning
 * tests: at the full voltage with 2 A for full_time. */
static unsigned full_now(struct gw_soc *s, double i)
{
	return run(s, 200, i, 3.44, 3.46);
}

static void test_offset(void)
{
	struct gw_soc s = { 0 };
	setup();
	C.charge_efficiency = 1;
	/* a sensor reading 0.3 A too much: the battery idles 12 h between two full points */
	full_now(&s, 2.3);
	CHECK_EQ_INT(s.full_points, 1);
	run(&s, 12 * 3600, 0.3, FLAT, FLAT);
	CHECK_NEAR(pct(&s), 100, 1e-9); /* clamped ... */
	CHECK_NEAR(s.run_full.ah, 0.3 * (12 * 3600 + 10) / 3600 + 2.3 * 10 / 3600 * 0, 0.05); /* ... not the run */
	full_now(&s, 2.3);
	CHECK(EVBITS & GW_SOC_EV_OFFSET);
	CHECK_NEAR(s.offset_a, -0.3, 0.01);
	/* from now on the idle battery counts nothing */
	run(&s, 3600, 0.3, FLAT, FLAT);
	double a = s.ah;
	run(&s, 12 * 3600, 0.3, FLAT, FLAT);
	CHECK_NEAR(s.ah, a, 1e-9);
	/* a run shorter than 6 h teaches nothing */
	struct gw_soc t = { 0 };
	full_now(&t, 2.3);
	run(&t, 3 * 3600, 0.3, FLAT, FLAT);
	full_now(&t, 2.3);
	CHECK(!(EVBITS & GW_SOC_EV_OFFSET));
	CHECK_NEAR(t.offset_a, 0, 1e-12);
	/* empty to empty teaches it too (a sensor reading 0.2 A too little) */
	struct gw_soc u = { 0 };
	run(&u, 120, -5.2, 2.85, 3.0);
	CHECK_EQ_INT(u.empty_points, 1);
	run(&u, 10, -0.2, 2.95, 3.0);
	run(&u, 10 * 3600, -0.2, 2.95, 3.0);
	run(&u, 120, -5.2, 2.85, 3.0);
	CHECK_EQ_INT(u.empty_points, 2);
	CHECK(EVBITS & GW_SOC_EV_OFFSET);
	CHECK_NEAR(u.offset_a, 0.2, 0.03); /* the empty points' minutes at -5 A are in the run */
	/* never beyond 1 % of the capacity an hour */
	struct gw_soc w = { 0 };
	full_now(&w, 2.3);
	run(&w, 7 * 3600, 3, FLAT, FLAT);
	full_now(&w, 2.3);
	CHECK_NEAR(w.offset_a, -1.0, 1e-9);
}

/* Full, then `ah` out at 50 A, an empty point and `ah` back in at 50 A:
 * the next full point ends an empty-to-full run of about `ah`.  Under 6 h
 * from one point to the next of its kind: no offset is learned (a real
 * battery would not go from empty to empty with another capacity). */
static unsigned CYCLE_BITS;
static void cycle(struct gw_soc *s, double ah)
{
	CYCLE_BITS = full_now(s, 2);
	CYCLE_BITS |= run(s, ah / 50 * 3600, -50, FLAT, FLAT);
	CYCLE_BITS |= run(s, 70, -5, 2.85, 3.0);
	CHECK(EVBITS & GW_SOC_EV_EMPTY);
	CYCLE_BITS |= run(s, ah / 50 * 3600, 50, FLAT, FLAT);
}

static void test_capacity(void)
{
	struct gw_soc s = { 0 };
	setup();
	C.charge_efficiency = 1;
	struct gw_soc_out o;
	gw_soc_output(&s, &C, 50, T, &o);
	CHECK_EQ_INT(o.capacity_samples, 0);
	CHECK(isnan(o.capacity_ah)); /* nothing counted yet */
	cycle(&s, 90); /* full to empty: 90 Ah and the minute of the empty point at -5 A */
	CHECK_EQ_INT(s.nsamples, 1);
	gw_soc_output(&s, &C, 50, T, &o);
	CHECK_NEAR(o.capacity_ah, 90.1, 0.05);
	CHECK(o.flags & GW_SOC_F_MEASURED);
	CHECK_NEAR(o.soh_measured, o.capacity_ah, 1e-9); /* of the rated 100 Ah */
	CHECK_EQ_INT(o.capacity_samples, 1);
	/* the next full point: 100 % of the measured capacity, and the
	 * empty-to-full run is a sample too */
	full_now(&s, 2);
	CHECK_NEAR(s.ah, s.cap_ah, 1e-9);
	CHECK_EQ_INT(s.nsamples, 2);
	CHECK_NEAR(s.sample[1], 90.1, 0.1);
	/* samples outside 0.5 .. 1.5 x rated are refused */
	cycle(&s, 40);
	CHECK(CYCLE_BITS & GW_SOC_EV_REJECTED);
	CHECK_EQ_INT(s.nsamples, 2);
	/* the median of the last five: 89 89 93 93 87 (each cycle also ends
	 * the empty-to-full run of the one before) */
	double ah[] = { 92, 88, 91, 89, 93, 87 };
	for (int i = 0; i < 6; i++)
		cycle(&s, ah[i]);
	gw_soc_output(&s, &C, 50, T, &o);
	CHECK_NEAR(o.capacity_ah, 89.1, 0.1);
	CHECK_EQ_INT(o.capacity_samples, 13);
	CHECK_NEAR(s.offset_a, 0, 1e-12);
	/* learn_capacity = false: the configured one */
	C.learn_capacity = false;
	gw_soc_output(&s, &C, 50, T, &o);
	CHECK(!(o.flags & GW_SOC_F_MEASURED));
	CHECK_NEAR(o.soh_measured, 0, 1e-9);
	C.learn_capacity = true;
	/* a rest point at least 50 % from full: the Ah out over the share */
	struct gw_soc r = { 0 };
	full_now(&r, 2);
	run(&r, 4.5 * 3600, -20, FLAT, FLAT);
	EVBITS = 0;
	rest_at(&r, 1810, 3.10, 25, 25);
	CHECK(EVBITS & GW_SOC_EV_SAMPLE);
	double e = gw_soc_curve(CONF_CHEM_LFP, C.empty_cell_voltage);
	double share = 1 - (gw_soc_curve(CONF_CHEM_LFP, 3.10) - e) / (100 - e);
	CHECK_NEAR(r.sample[0], 90 / share, 0.3);
	/* the learned offset counts the samples again */
	step(&s, 10, 0, FLAT, FLAT); /* (the clock went on for r: a gap) */
	double before = s.sample[0];
	s.run_full = (struct gw_soc_run){ .ah = -0.5 * 8, .s = 8 * 3600, .ok = true };
	full_now(&s, 2); /* 8 h from full to full, 4 Ah missing: the sensor reads 0.5 A too little */
	CHECK(EVBITS & GW_SOC_EV_OFFSET);
	CHECK_NEAR(s.offset_a, 0.5, 0.02); /* the full point's own 190 s at 2 A count in the run */
	CHECK_NEAR(s.sample[0], before + s.offset_a * s.sample_s[0] / 3600, 1e-6);
	CHECK(s.sample_s[0] != 0);
}

static void test_bank(void)
{
	struct gw_soc a = { 0 }, b = { 0 };
	const struct gw_soc *bank[] = { &a, &b };
	struct gw_soc_out o;
	setup();
	gw_soc_bank(bank, 2, &C, 55, T, &o);
	CHECK(!(o.flags & GW_SOC_F_COUNTING)); /* neither counts yet */
	CHECK_NEAR(o.soc, 55, 1e-9);
	run(&a, 10, 0, FLAT, FLAT); /* a: 50 of 100 Ah */
	gw_soc_bank(bank, 2, &C, 55, T, &o);
	CHECK(!(o.flags & GW_SOC_F_COUNTING)); /* b has no count */
	C.capacity = 200;
	run(&b, 10, 0, FLAT, FLAT); /* b: 100 of 200 */
	run(&b, 3600, -40, FLAT, FLAT); /* 60 of 200 */
	gw_soc_bank(bank, 2, &C, 55, T, &o);
	CHECK(o.flags & GW_SOC_F_COUNTING);
	CHECK_NEAR(o.soc_counted, 100.0 * (50 + 60) / 300, 0.05); /* the step from 0 to -40 A aside */
	CHECK_NEAR(o.remaining_ah, 110, 0.1);
	CHECK_NEAR(o.capacity_ah, 300, 1e-9);
	/* b goes stale (no more steps): it keeps its last count, a goes on */
	C.capacity = 100;
	run(&a, 3600, -10, FLAT, FLAT);
	gw_soc_bank(bank, 2, &C, 55, T, &o);
	CHECK_NEAR(o.soc_counted, 100.0 * (40 + 60) / 300, 0.1);
	/* synced only when both are; since the last full: the longest, never if one never */
	full_now(&a, 2);
	gw_soc_bank(bank, 2, &C, 55, T, &o);
	CHECK(!(o.flags & GW_SOC_F_SYNCED));
	CHECK(o.since_full_s < 0);
	CHECK_EQ_INT(o.full_points, 0);
	C.capacity = 200;
	run(&b, 200, 2, 3.44, 3.46);
	C.capacity = 100;
	gw_soc_bank(bank, 2, &C, 55, T, &o);
	CHECK(o.flags & GW_SOC_F_SYNCED);
	CHECK_NEAR(o.soc_counted, 100, 1e-6);
	CHECK_NEAR(o.since_full_s, 200, 11);
	CHECK_EQ_INT(o.full_points, 1);
	C.source = CONF_SOC_SRC_COUNTED;
	gw_soc_bank(bank, 2, &C, 55, T, &o);
	CHECK(o.flags & GW_SOC_F_SOURCE);
	CHECK_NEAR(o.soc, 100, 1e-6);
	C.source = CONF_SOC_SRC_BMS;
	gw_soc_bank(bank, 0, &C, 55, T, &o);
	CHECK_EQ_INT(o.flags, 0);
}

/* line without its " key=value" field */
static void drop_field(char *line, const char *key)
{
	char pat[32];
	snprintf(pat, sizeof(pat), " %s=", key);
	char *p = strstr(line, pat);
	if (!p)
		return;
	char *end = strchr(p + 1, ' ');
	if (end)
		memmove(p, end, strlen(end) + 1);
	else
		*p = '\0';
}

static void test_record(void)
{
	struct gw_soc s = { 0 }, r;
	char buf[GW_SOC_RECORD_MAX];
	setup();
	C.charge_efficiency = 1;
	cycle(&s, 90);
	full_now(&s, 2);
	run(&s, 3600, -10, FLAT, FLAT);
	s.offset_a = -0.25;
	s.offset_w = 3600;
	int64_t wall = 1767225600;
	int n = gw_soc_save(&s, T, wall, buf, sizeof(buf));
	CHECK(n > 0 && (size_t)n < sizeof(buf));
	CHECK(strncmp(buf, "1 saved=1767225600 ", 19) == 0);
	CHECK(gw_soc_save(&s, T, wall, buf, 40) < 0); /* too small */
	gw_soc_save(&s, T, wall, buf, sizeof(buf));
	/* within 24 h: resumed as it was, synced, learning runs kept over a short restart */
	CHECK_EQ_INT(gw_soc_load(&r, buf, wall + 10, 30), GW_SOC_LOAD_RESUMED);
	CHECK(r.resumed && r.started && r.synced);
	CHECK_NEAR(r.ah, s.ah, 1e-6);
	CHECK_NEAR(r.cap_ah, s.cap_ah, 1e-6);
	CHECK_NEAR(r.offset_a, -0.25, 1e-9);
	CHECK_EQ_INT(r.nsamples, s.nsamples);
	CHECK_NEAR(r.sample[0], s.sample[0], 1e-6);
	CHECK_EQ_INT(r.full_points, s.full_points);
	CHECK_EQ_INT(r.empty_points, s.empty_points);
	CHECK(r.run_full.ok);
	CHECK_NEAR(r.run_full.ah, s.run_full.ah, 1e-6);
	/* every field came back: what was loaded saves as the same record, but
	 * for the last full point's age, 10 s on */
	char again[GW_SOC_RECORD_MAX];
	CHECK(gw_soc_save(&r, T, wall, again, sizeof(again)) > 0);
	CHECK(strstr(buf, " full_age=") != NULL && strstr(buf, " light_points=") != NULL);
	drop_field(buf, "full_age");
	drop_field(again, "full_age");
	CHECK_STR(again, buf);
	gw_soc_save(&s, T, wall, buf, sizeof(buf));
	struct gw_soc_out o;
	double t0 = T;
	gw_soc_output(&s, &C, 50, t0, &o);
	double age = o.since_full_s;
	/* the first poll after the restart pins the last full point's age to the clock */
	T = 50; /* a new process: another monotonic clock */
	step(&r, 0, -10, FLAT, FLAT);
	gw_soc_output(&r, &C, 50, T + 100, &o);
	CHECK_NEAR(o.since_full_s, age + 10 + 100, 1e-6);
	CHECK(o.flags & GW_SOC_F_RESUMED);
	CHECK(o.flags & GW_SOC_F_SYNCED);
	/* a longer restart: resumed, but no learning run goes over it */
	CHECK_EQ_INT(gw_soc_load(&r, buf, wall + 3600, 30), GW_SOC_LOAD_RESUMED);
	CHECK(!r.run_full.ok);
	/* older than 24 h: what was learned, not the count */
	CHECK_EQ_INT(gw_soc_load(&r, buf, wall + 86401, 30), GW_SOC_LOAD_OLD);
	CHECK(!r.started && !r.synced && !r.resumed);
	CHECK_NEAR(r.offset_a, -0.25, 1e-9);
	CHECK_EQ_INT(r.nsamples, s.nsamples);
	CHECK_EQ_INT(r.full_points, s.full_points);
	step(&r, 10, 0, FLAT, FLAT);
	CHECK(EV.bits & GW_SOC_EV_START); /* from the BMS's SOC */
	CHECK_NEAR(pct(&r), 50, 1e-9);
	CHECK_EQ_INT(gw_soc_load(&r, buf, wall - 10, 30), GW_SOC_LOAD_OLD); /* saved in the future */
	/* the restart's charge from the BMS's remaining Ah */
	struct gw_soc_in in = poll(-10, FLAT, FLAT);
	in.bms_remain_ah = 80;
	in.bms_full_ah = 100;
	step_in(&s, 10, in);
	gw_soc_save(&s, T, wall, buf, sizeof(buf));
	CHECK_EQ_INT(gw_soc_load(&r, buf, wall + 5, 30), GW_SOC_LOAD_RESUMED);
	in.bms_remain_ah = 75;
	double was = r.ah;
	step_in(&r, 10, in);
	CHECK_NEAR(r.ah, was - 5 * r.cap_ah / 100, 1e-6);
	/* bad records: nothing taken */
	static const char *const bad[] = {
		"", "2 saved=1767225600", "1", "1 saved=x", "1 ah=1", "garbage",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(gw_soc_load(&r, bad[i], wall, 30), GW_SOC_LOAD_BAD);
	char tampered[GW_SOC_RECORD_MAX];
	gw_soc_save(&s, T, wall, buf, sizeof(buf));
	/* a field out of its range, not a number, missing; an unknown one is skipped */
	snprintf(tampered, sizeof(tampered), "%s", buf);
	char *p = strstr(tampered, " ah=");
	CHECK(p != NULL);
	if (p) {
		memcpy(p, " ah=-", 5);
		CHECK_EQ_INT(gw_soc_load(&r, tampered, wall, 30), GW_SOC_LOAD_BAD);
		memcpy(p, " ah=n", 5);
		CHECK_EQ_INT(gw_soc_load(&r, tampered, wall, 30), GW_SOC_LOAD_BAD);
		memcpy(p, " xh=", 4);
		CHECK_EQ_INT(gw_soc_load(&r, tampered, wall, 30), GW_SOC_LOAD_BAD);
	}
	snprintf(tampered, sizeof(tampered), "%.900s later=7", buf);
	CHECK_EQ_INT(gw_soc_load(&r, tampered, wall, 30), GW_SOC_LOAD_RESUMED);
	/* the knee points are kept; a record of a bmsgw before them (no
	 * knee_points) is still taken, with none */
	s.knee_points = 3;
	gw_soc_save(&s, T, wall, buf, sizeof(buf));
	CHECK_EQ_INT(gw_soc_load(&r, buf, wall, 30), GW_SOC_LOAD_RESUMED);
	CHECK_EQ_INT(r.knee_points, 3);
	char *k = strstr(buf, " knee_points=3");
	CHECK(k != NULL);
	if (k) {
		memmove(k, k + 14, strlen(k + 14) + 1);
		CHECK_EQ_INT(gw_soc_load(&r, buf, wall, 30), GW_SOC_LOAD_RESUMED);
		CHECK_EQ_INT(r.knee_points, 0);
		CHECK_EQ_INT(r.full_points, s.full_points);
	}
	char longer[GW_SOC_RECORD_MAX + 10];
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	CHECK_EQ_INT(gw_soc_load(&r, longer, wall, 30), GW_SOC_LOAD_BAD);
}

static void test_direction(void)
{
	CHECK_EQ_INT(gw_soc_direction(5, 0.1), GW_SOC_CHARGING);
	CHECK_EQ_INT(gw_soc_direction(-5, 0.1), GW_SOC_DISCHARGING);
	CHECK_EQ_INT(gw_soc_direction(0.05, 0.1), GW_SOC_IDLE);
	CHECK_EQ_INT(gw_soc_direction(0.1, 0.1), GW_SOC_CHARGING); /* never idle while a current flows */
	CHECK_EQ_INT(gw_soc_direction(NAN, 0.1), GW_SOC_IDLE);
	CHECK_EQ_INT(gw_soc_direction(-0.01, 0), GW_SOC_DISCHARGING);
}

/* Samples of another rated capacity: configured anew for another battery,
 * or a state file's outside its own record's range; the counted SOC at its
 * capacity never over 100 % (found by fuzz_soc_state). */
static void test_other_capacity(void)
{
	struct gw_soc s = { 0 };
	setup();
	C.charge_efficiency = 1;
	double ah[] = { 92, 88, 91 };
	for (int i = 0; i < 3; i++)
		cycle(&s, ah[i]);
	CHECK_EQ_INT(s.nsamples, 5); /* each cycle also ends the empty-to-full run of the one before */
	/* 110 Ah: the samples still fit (55 .. 165 Ah), kept */
	C.capacity = 110;
	CHECK(!(step(&s, 10, 0, FLAT, FLAT) & GW_SOC_EV_DROPPED));
	CHECK_EQ_INT(s.nsamples, 5);
	/* 280 Ah: another battery (140 .. 420 Ah), none fits: dropped, the
	 * configured capacity in use until measured again */
	C.capacity = 280;
	CHECK(step(&s, 10, 0, FLAT, FLAT) & GW_SOC_EV_DROPPED);
	CHECK_EQ_INT(EV.dropped, 5);
	CHECK_EQ_INT(s.nsamples, 0);
	struct gw_soc_out o;
	gw_soc_output(&s, &C, 50, T, &o);
	CHECK_NEAR(o.capacity_ah, 280, 1e-9);
	CHECK(!(o.flags & GW_SOC_F_MEASURED));
	/* some fit, some not: the oldest first, the ring starting again after them */
	struct gw_soc r = { .rated_ah = 100, .nsamples = 7 };
	double ring[] = { 270, 95, 265, 268, 100 }; /* samples 5, 6, then 2, 3, 4 (the oldest at 7 % 5) */
	for (int i = 0; i < 5; i++)
		r.sample[i] = ring[i], r.sample_s[i] = -1000 * (i + 1);
	CHECK(step(&r, 10, 0, FLAT, FLAT) & GW_SOC_EV_DROPPED);
	CHECK_EQ_INT(EV.dropped, 2);
	CHECK_EQ_INT(r.nsamples, 3);
	CHECK(r.sample[0] == 265 && r.sample[1] == 268 && r.sample[2] == 270 && r.sample[3] == 0 &&
	      r.sample_s[0] == -3000 && r.sample_s[2] == -1000);
	CHECK(!(step(&r, 10, 0, FLAT, FLAT) & GW_SOC_EV_DROPPED));
	/* a state file's record: a sample of ten times its rated capacity is not read */
	char buf[GW_SOC_RECORD_MAX];
	struct gw_soc l = { .started = true, .synced = true, .ah = 280, .cap_ah = 280, .rated_ah = 280, .nsamples = 2,
			    .sample = { 270.1, 2749.7 }, .run_full = { .ok = true, .sampled = true, .light = true } };
	int64_t wall = 1767225600;
	CHECK(gw_soc_save(&l, T, wall, buf, sizeof(buf)) > 0);
	CHECK_EQ_INT(gw_soc_load(&r, buf, wall + 10, 30), GW_SOC_LOAD_RESUMED);
	CHECK(r.nsamples == 1 && r.sample[0] == 270.1);
	/* the run goes on (saved 10 s ago), but its light-load sample may be the
	 * one dropped: no longer replaced (it would take the last one kept) */
	CHECK(r.run_full.ok && r.run_full.sampled && !r.run_full.light);
	/* at its capacity the count says 100 %, not 100.00000000000001 */
	setup();
	C.capacity = 280;
	step(&r, 10, 0, FLAT, FLAT);
	CHECK(r.ah == r.cap_ah);
	CHECK(pct(&r) <= 100);
	double median = (270.1 + 2749.7) / 2; /* 100 * median / median is 100.00000000000001 */
	struct gw_soc u = { .started = true, .ah = median, .cap_ah = median, .rated_ah = median };
	CHECK(pct(&u) == 100);
}

int main(void)
{
	test_count();
	test_no_capacity();
	test_full();
	test_empty();
	test_rest();
	test_knee();
	test_prior();
	test_gap();
	test_offset();
	test_capacity();
	test_bank();
	test_record();
	test_other_capacity();
	test_direction();
	return check_report();
}
