/* SPDX-License-Identifier: MIT */
/* tests/unit/test_soc_light.c - the estimator's light-load point
 * (gateway/engine/soc_light.c) on fake-clock traces of a cell whose truth
 * is known: the lowest cell's resistance from current steps (not where the
 * curve is steep, not over a slow poll), the ceiling under a light
 * discharge or at rest (the count brought down to it at most 1 % a
 * minute, never up, once a light load), nothing on the plateau, nothing
 * under a strong discharge, while charging, out of 10..40 degC or before a
 * resistance is known, the capacity sample it gives once it has brought the
 * count down (and a deeper point of the same run taking its place), the
 * record; and an aged pack's first deep cycle (262 Ah under a 280 Ah
 * label, the inverter stopping at 2.95 V) counted within 5 % of the truth
 * after its full point, where the knee point alone left 6-7 %. */
#include <math.h>
#include <stdlib.h>

#include "../../gateway/engine/soc_int.h"
#include "check.h"

static struct conf_soc C;
static struct gw_soc_ev EV;

/* The cell: its true charge against its true capacity, an open-circuit
 * voltage (the estimator's curve, so the ceiling's arithmetic is checked
 * to the mV), a hysteresis of 10 mV with the direction of the current, a
 * polarisation as large as the ohmic drop building over 10 minutes, and
 * R0. */
struct cell {
	double t, q, cap_ah, r0, vp, hyst, i, temp;
};

/* The open-circuit voltage at a SOC of % (the curve inverted). */
static double ocv(double pct)
{
	double lo = 1.0, hi = 3.7;
	for (int k = 0; k < 60; k++) {
		double mid = (lo + hi) / 2;
		if (gw_soc_curve(CONF_CHEM_LFP, mid) < pct)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

static double truth(const struct cell *c)
{
	return 100 * c->q / c->cap_ah;
}

/* The lowest cell under the current now. */
static double vmin(const struct cell *c)
{
	return ocv(truth(c)) + 0.010 * c->hyst + c->vp + c->i * c->r0;
}

/* A poll of the cell: the lowest, highest and mean cell, 25 degC. */
static struct gw_soc_in read_cell(const struct cell *c)
{
	double v = vmin(c);
	return (struct gw_soc_in){ .t = c->t, .current = c->i, .cell_min_v = v, .cell_max_v = v + 0.002,
				   .cell_avg_v = v + 0.001, .bms_soc = 50, .bms_remain_ah = NAN,
				   .bms_full_ah = NAN, .temp_min_c = c->temp, .temp_max_c = c->temp };
}

/* secs at current i, a poll every 10 s; every event seen, and the worst
 * error against the truth (%) into *worst where given. */
static unsigned drive(struct gw_soc *s, struct cell *c, double secs, double i, double *worst)
{
	unsigned bits = 0;
	for (double d = 0; d < secs - 1e-9; d += 10) {
		c->i = i;
		for (int k = 0; k < 10; k++) { /* the cell a second at a time */
			c->q = fmin(c->cap_ah, fmax(0, c->q + i / 3600));
			c->vp += (i * c->r0 - c->vp) * (1 - exp(-1 / 600.0));
			c->hyst = fmax(-1, fmin(1, c->hyst + (i > 0 ? 1 : i < 0 ? -1 : 0) * fabs(i) / 3600 / (0.02 * c->cap_ah)));
		}
		c->t += 10;
		struct gw_soc_in in = read_cell(c);
		gw_soc_step(s, &C, 30, &in, &EV);
		bits |= EV.bits;
		if (worst && s->synced)
			*worst = fmax(*worst, fabs(100 * s->ah / s->cap_ah - truth(c)));
	}
	return bits;
}

static double pct(const struct gw_soc *s)
{
	return 100 * s->ah / s->cap_ah;
}

/* A cell of cap Ah at pct % at rest, R0 = 0.08 ohm Ah over its capacity;
 * [soc] for a pack of `label` Ah. */
static struct cell setup(double cap, double pct_now, double label)
{
	conf_soc_defaults(&C, CONF_CHEM_LFP);
	C.capacity = label;
	return (struct cell){ .t = 1000, .q = cap * pct_now / 100, .cap_ah = cap, .r0 = 0.08 / cap, .hyst = -1,
			      .temp = 25 };
}

/* A discharge at i until the truth is down to pct %. */
static unsigned down_to(struct gw_soc *s, struct cell *c, double pct_to, double i)
{
	unsigned bits = 0;
	while (truth(c) > pct_to)
		bits |= drive(s, c, 10, i, NULL);
	return bits;
}

/* Load steps on the plateau (an appliance on and off): resistance samples. */
static void steps(struct gw_soc *s, struct cell *c, int n, double base, double more)
{
	for (int k = 0; k < n; k++) {
		drive(s, c, 300, base - more, NULL);
		drive(s, c, 300, base, NULL);
	}
}

static void test_resistance(void)
{
	struct gw_soc s = { 0 };
	struct cell c = setup(100, 70, 100);
	drive(&s, &c, 60, -2, NULL);
	CHECK(isnan(gw_soc_ir_value(&s)));
	steps(&s, &c, 1, -2, 10);
	CHECK(isnan(gw_soc_ir_value(&s))); /* two samples: not yet */
	steps(&s, &c, 1, -2, 10);
	double r = gw_soc_ir_value(&s);
	CHECK_NEAR(r, c.r0, 0.04 * c.r0); /* R0 (and what the polarisation adds in 10 s) */
	/* a step under the least (0.02 C) is no sample; nor one over a poll 90 s late */
	unsigned n = s.ir.n;
	drive(&s, &c, 300, -3.5, NULL);
	drive(&s, &c, 300, -2, NULL);
	CHECK_EQ_INT(s.ir.n, n);
	struct gw_soc_in in = read_cell(&c);
	in.t = c.t += 90;
	in.current = -12;
	gw_soc_step(&s, &C, 300, &in, &EV);
	CHECK_EQ_INT(s.ir.n, n);
	/* nor where a cell is on a steep piece of the curve (the top knee) */
	struct gw_soc k = { 0 };
	struct cell top = setup(100, 99.8, 100);
	steps(&k, &top, 3, 5, 10);
	CHECK_EQ_INT(k.ir.n, 0);
	/* an odd sample (a voltage that jumped with the step) is outvoted */
	gw_soc_ir_add(&s, 20 * c.r0, 10);
	CHECK_NEAR(gw_soc_ir_value(&s), r, 0.04 * c.r0);
	/* a record keeps the resistance in use */
	char buf[GW_SOC_RECORD_MAX];
	struct gw_soc l;
	CHECK(gw_soc_save(&s, c.t, 1767225600, buf, sizeof(buf)) > 0);
	CHECK_EQ_INT(gw_soc_load(&l, buf, 1767225700, 30), GW_SOC_LOAD_RESUMED);
	CHECK_NEAR(gw_soc_ir_value(&l), gw_soc_ir_value(&s), 1e-9);
}

/* Where the light-load point reads nothing. */
static void test_no_ceiling(void)
{
	struct gw_soc s = { 0 };
	struct cell c = setup(100, 60, 100);
	steps(&s, &c, 3, -2, 10);
	CHECK(isfinite(gw_soc_ir_value(&s)));
	/* the plateau: a count 50 % too high stays, under a light discharge and at rest */
	s.ah = fmin(s.cap_ah, s.ah + 45);
	double was = pct(&s), q = c.q;
	CHECK(!(drive(&s, &c, 3600, -10, NULL) & GW_SOC_EV_LIGHT));
	CHECK_NEAR(pct(&s), was - (q - c.q), 0.02); /* only what was counted (the first poll's trapezoid) */
	was = pct(&s);
	CHECK(!(drive(&s, &c, 7200, 0, NULL) & GW_SOC_EV_LIGHT));
	CHECK_NEAR(pct(&s), was, 0.02);
	CHECK_EQ_INT(s.light_points, 0);
	/* on the steep part (15 %), the count still 40 % too high: a strong
	 * discharge (0.3 C), a charge, out of 10..40 degC: nothing */
	down_to(&s, &c, 15, -10);
	s.ah = fmin(s.cap_ah, (truth(&c) + 40) / 100 * s.cap_ah);
	unsigned points = s.light_points;
	CHECK(!(drive(&s, &c, 600, -30, NULL) & GW_SOC_EV_LIGHT));
	CHECK(!(drive(&s, &c, 600, 5, NULL) & GW_SOC_EV_LIGHT));
	c.temp = 5;
	CHECK(!(drive(&s, &c, 600, -5, NULL) & GW_SOC_EV_LIGHT));
	c.temp = 45;
	CHECK(!(drive(&s, &c, 600, -5, NULL) & GW_SOC_EV_LIGHT));
	CHECK(pct(&s) - truth(&c) > 39); /* counted, nothing more */
	CHECK_EQ_INT(s.light_points, points);
	/* without a resistance: nothing either */
	struct gw_soc u = { 0 };
	struct cell d = setup(100, 15, 100);
	CHECK(!(drive(&u, &d, 1200, -10, NULL) & GW_SOC_EV_LIGHT));
	CHECK_NEAR(pct(&u), 50 - 10 / 3.0, 0.05); /* from the BMS's 50 %, 20 minutes at 10 A */
	/* LTO: no curve, no point */
	struct gw_soc l = { 0 };
	C.chemistry = CONF_CHEM_LTO;
	conf_soc_derive(&C, NULL);
	steps(&l, &d, 3, -2, 10);
	CHECK(!(drive(&l, &d, 3600, -10, NULL) & GW_SOC_EV_LIGHT));
}

/* The ceiling: down at most 1 % a minute, to it, once a light load, never up. */
static void test_ceiling(void)
{
	struct gw_soc s = { 0 };
	struct cell c = setup(100, 60, 100);
	steps(&s, &c, 3, -2, 10);
	down_to(&s, &c, 25, -10);
	s.ah = fmin(s.cap_ah, (truth(&c) + 30) / 100 * s.cap_ah);
	double e = gw_soc_curve(CONF_CHEM_LFP, C.empty_cell_voltage);
	unsigned bits = 0;
	int polls = 0, events = 0;
	double prev = pct(&s), q = c.q;
	while (polls < 400 && pct(&s) > 100 * (truth(&c) - e) / (100 - e) + 0.3) {
		unsigned b = drive(&s, &c, 10, -10, NULL);
		double moved = prev - pct(&s) - 100 * (q - c.q) / s.cap_ah;
		CHECK(moved >= -1e-9 && moved <= 1.0 / 6 + 1e-9); /* never up, at most 1 % a minute */
		prev = pct(&s);
		q = c.q;
		events += !!(b & GW_SOC_EV_LIGHT);
		bits |= b;
		polls++;
	}
	CHECK(bits & GW_SOC_EV_LIGHT);
	CHECK_EQ_INT(events, 1);
	CHECK_EQ_INT(s.light_points, 1);
	CHECK(polls > 150 && polls < 400); /* 30 % at 1 % a minute, less what the truth fell */
	/* where it settles: the curve at the truth, on the count's scale, within the mV of the reading */
	drive(&s, &c, 600, -10, NULL);
	double want = 100 * (truth(&c) - e) / (100 - e);
	CHECK(pct(&s) <= want + 0.5 && pct(&s) >= want - 1.5);
	/* never up: a count under the ceiling stays where it was counted */
	s.ah -= 0.01 * s.cap_ah;
	double was = pct(&s);
	q = c.q;
	CHECK(!(drive(&s, &c, 120, -10, NULL) & GW_SOC_EV_LIGHT));
	CHECK_NEAR(pct(&s), was - 100 * (q - c.q) / s.cap_ah, 1e-6);
	/* at rest afterwards (the polarisation and hysteresis still there,
	 * before rest_time): not up either */
	was = pct(&s);
	drive(&s, &c, 1200, 0, NULL);
	CHECK(pct(&s) <= was + 1e-9);
	CHECK(!s.synced); /* no sync */
	/* a gap ends a light load: the next one that brings the count down is
	 * another light-load point */
	drive(&s, &c, 120, -10, NULL);
	s.ah = fmin(s.cap_ah, s.ah + 0.05 * s.cap_ah);
	struct gw_soc_in in = read_cell(&c);
	in.t = c.t += 100;
	gw_soc_step(&s, &C, 30, &in, &EV);
	CHECK(!(EV.bits & GW_SOC_EV_LIGHT));
	CHECK(drive(&s, &c, 90, -10, NULL) & GW_SOC_EV_LIGHT);
	CHECK_EQ_INT(s.light_points, 2);
}

/* The capacity it shows: a light-load point that brought the count down
 * gives the run's sample; a deeper point of the same run replaces it. */
static void test_sample(void)
{
	struct gw_soc s = { 0 };
	struct cell c = setup(262, 70, 280);
	steps(&s, &c, 3, -2, 10);
	/* a full point at the truth's 100 % */
	c.q = c.cap_ah;
	CHECK(drive(&s, &c, 200, 2, NULL) & GW_SOC_EV_FULL);
	c.q = c.cap_ah;
	c.hyst = -1;
	unsigned bits = 0;
	while (truth(&c) > 15 && !(bits & GW_SOC_EV_SAMPLE))
		bits |= drive(&s, &c, 10, -39, NULL);
	CHECK(bits & GW_SOC_EV_LIGHT);
	CHECK(bits & GW_SOC_EV_SAMPLE);
	CHECK_EQ_INT(s.nsamples, 1);
	CHECK(s.run_full.sampled && s.run_full.light);
	CHECK(fabs(s.sample[0] - 262) < 0.05 * 262); /* the true capacity (on the count's scale) */
	CHECK(fabs(s.cap_ah - s.sample[0]) < 1e-9);
	double first = s.sample[0];
	/* no second one from a light-load point */
	drive(&s, &c, 1800, -39, NULL);
	CHECK_EQ_INT(s.nsamples, 1);
	/* the inverter stops at 2.95 V; after rest_time the rest point (steep) takes its place */
	while (vmin(&c) > 2.95)
		drive(&s, &c, 10, -39, NULL);
	bits = drive(&s, &c, 1900, 0, NULL);
	CHECK(bits & GW_SOC_EV_REST);
	CHECK(bits & GW_SOC_EV_SAMPLE);
	CHECK_EQ_INT(s.nsamples, 1);
	CHECK(!s.run_full.light);
	CHECK(s.sample[0] != first);
	CHECK(fabs(s.sample[0] - 262) < 0.05 * 262);
	/* the record keeps whose sample it is */
	char buf[GW_SOC_RECORD_MAX];
	struct gw_soc r;
	s.run_full.light = true;
	s.light_points = 4;
	CHECK(gw_soc_save(&s, c.t, 1767225600, buf, sizeof(buf)) > 0);
	CHECK_EQ_INT(gw_soc_load(&r, buf, 1767225610, 30), GW_SOC_LOAD_RESUMED);
	CHECK(r.run_full.light);
	CHECK_EQ_INT(r.light_points, 4);
	struct gw_soc_out o;
	gw_soc_output(&r, &C, 50, c.t, &o);
	CHECK_EQ_INT(o.light_points, 4);
}

/* An aged pack's first deep cycle: 262 Ah under a 280 Ah label, a day of
 * shallow use with load steps, a full point, then an evening at 0.15 C
 * until the inverter stops at 2.95 V a cell, then the night at rest.  The
 * worst error after the full point within 5 %; nothing read while the
 * truth is on the plateau. */
static void test_aged(void)
{
	struct gw_soc s = { 0 };
	struct cell c = setup(262, 70, 280);
	steps(&s, &c, 3, -3, 10);
	drive(&s, &c, 3600 * 3, 40, NULL); /* the sun: bulk */
	c.q = c.cap_ah;
	CHECK(drive(&s, &c, 200, 2, NULL) & GW_SOC_EV_FULL);
	double worst = 0, before = 0;
	unsigned bits = 0;
	bits |= drive(&s, &c, 3600 * 2, -3, &worst); /* the afternoon */
	steps(&s, &c, 2, -3, 13);
	while (truth(&c) > 31) {
		unsigned b = drive(&s, &c, 10, -39.3, &worst);
		CHECK(!(b & GW_SOC_EV_LIGHT)); /* on the plateau: nothing */
		bits |= b;
	}
	double after = 0;
	while (vmin(&c) > 2.95) {
		bool sampled = bits & GW_SOC_EV_SAMPLE; /* brought down */
		bits |= drive(&s, &c, 10, -39.3, sampled ? &after : &before);
	}
	bits |= drive(&s, &c, 3600 * 6, 0, &after);
	worst = fmax(worst, fmax(before, after));
	CHECK(bits & GW_SOC_EV_LIGHT);
	CHECK(worst <= 5.0);
	CHECK(before > 4); /* the label's share when the curve begins to tell */
	CHECK(after < 3); /* from the light-load point's sample on; the knee point alone: 6.4 % at 7 % */
	CHECK(fabs(s.cap_ah - 262) < 0.05 * 262);
	fprintf(stderr, "aged 262 Ah under 280: worst %.2f %% after the full point (%.2f %% before the light-load "
		"point's sample, %.2f %% after), capacity %.1f Ah\n", worst, before, after, s.cap_ah);
}

int main(void)
{
	test_resistance();
	test_no_ceiling();
	test_ceiling();
	test_sample();
	test_aged();
	return check_report();
}
