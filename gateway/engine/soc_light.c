/* SPDX-License-Identifier: MIT */
/* gateway/engine/soc_light.c - the estimator's light-load point (soc.h):
 * where the open-circuit curve is steep enough to tell, the lowest cell
 * under a light discharge (or at rest) says how much charge is left at
 * most, and a count above that is brought down to it.
 *
 * Why.  Until its capacity is measured an aged pack is counted against
 * its label: 262 Ah under a 280 Ah label, its first deep discharge from a
 * full point reads 6.9 % of the discharge too high (more with a sensor that
 * reads low), 7-8 % when the knee point (soc.c) fires at about 7 %.  Under
 * 30 % the LFP curve rises 4 mV a % (3.19 to 3.28 V), no longer the 1 mV of
 * its plateau, so from there the lowest cell tells the count where it is
 * too high, hours before the knee.
 *
 * The resistance.  A loaded cell reads under its open-circuit voltage by
 * its ohmic drop I x R0, a polarisation that builds over minutes, and its
 * hysteresis.  R0 is measured as dV / dI of the mean cell (one cell's
 * reading would mix the cells: under a charge the lowest is the one of the
 * least resistance, under a discharge the one of the most) over a current
 * step of at least R_MIN_STEP C between two polls at most R_MAX_DT apart
 * (the polarisation has hardly moved; health.c measures each cell so for
 * [health]), only where no cell is on a piece of the curve steeper than
 * R_MAX_MV (near full and near empty the charge of the poll itself moves
 * the voltage, and the cells part).  R0 in use: the last GW_SOC_R_SAMPLES
 * samples weighed by their steps, those off the median by more than
 * R_OUTLIER times left out; none before R_MIN_SAMPLES.  The state file
 * keeps it.
 *
 * The ceiling.  The lowest cell's open-circuit voltage is taken as at most
 * its reading plus R0 x the discharge current now (the ohmic drop), plus
 * R0 x the discharge current its polarisation may still hold (the largest
 * of the last minutes, decaying with POL_TAU: a polarisation as large as
 * the ohmic drop, as a loaded LFP cell shows after a few minutes, which a
 * lighter load does not undo at once), plus LIGHT_HYST_V for the
 * hysteresis of a discharged cell and the curve's own error.  The curve's
 * value there, on the count's scale, is the most the pack can hold: a
 * ceiling, never a floor.  It is read only where that voltage lies on a
 * piece of the curve rising LIGHT_MIN_MV or more a % (LFP under 3.277 V,
 * 30 %; NMC everywhere but 83..95 %) and under LIGHT_MAX_SOC: on LFP's
 * plateau nothing is read.  As for the rest point, only between 10 and 40
 * degC where the BMS gives a temperature.
 *
 * The point.  While the battery is discharged at most at empty_current
 * (the knee's light discharge) or rests (at most rest_current charging),
 * for empty_time, with R0 measured: a count over the ceiling is brought
 * down to it, at most LIGHT_RATE % of the capacity a minute (no jump; the
 * count still counts), never up.  It is logged (GW_SOC_EV_LIGHT) and
 * counted once each time the light load begins to bring the count down,
 * until the light load ends.  It does not sync an unsynced count.
 *
 * The capacity.  A count LIGHT_SAMPLE_OVER or more over the ceiling says
 * the capacity in use is too large: brought down, the run from the last
 * full point gives a capacity sample as a rest point's would (the Ah over
 * the share of the capacity between the two), while none is measured yet,
 * so that the rest of the discharge, and the next charge, are no longer
 * counted against the label.  A later point of the same run (a rest or an
 * empty point, further down where the curve is steeper) takes its place
 * (soc.c).
 */
#include "soc_int.h"

#include <math.h>

#define R_MAX_DT 60.0            /* s: two polls further apart make no resistance sample */
#define R_MIN_STEP 0.02          /* C: the least current step of a resistance sample */
#define R_MAX_AHOHM 1.0          /* ohm Ah: a sample over this (over the capacity) is not a resistance */
#define R_MIN_SAMPLES 3          /* resistance samples before a light-load point */
#define R_OUTLIER 2.0            /* a sample this many times off the median is left out */
#define R_MAX_MV 20.0            /* mV a %: no sample where a cell is on a piece of the curve this steep */
#define POL_TAU 1800.0           /* s: the discharge current remembered decays with this */
#define LIGHT_HYST_V 0.010       /* V: the hysteresis of a discharged cell and the curve's error */
#define LIGHT_MIN_MV 3.0         /* mV a %: the least rise of the curve where the ceiling is read */
#define LIGHT_RATE 1.0           /* % of the capacity a minute: the fastest the count is brought down */
#define LIGHT_MAX_SOC 50.0       /* %: a ceiling over this says nothing (how empty, never how full) */
#define LIGHT_SAMPLE_OVER 1.0    /* %: a count this far over the ceiling gives a capacity sample */

/* The resistance of the samples kept: weighed by their steps, those off
 * the median by more than R_OUTLIER times left out (0: too few). */
static double ir_of(const struct gw_soc_ir *ir)
{
	unsigned n = ir->n < GW_SOC_R_SAMPLES ? ir->n : GW_SOC_R_SAMPLES;
	if (ir->n < R_MIN_SAMPLES)
		return 0;
	double v[GW_SOC_R_SAMPLES], sum = 0, wsum = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned j = i;
		for (; j > 0 && v[j - 1] > ir->r[i]; j--)
			v[j] = v[j - 1];
		v[j] = ir->r[i];
	}
	double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	for (unsigned i = 0; i < n; i++) {
		if (ir->r[i] < med / R_OUTLIER || ir->r[i] > med * R_OUTLIER)
			continue;
		sum += ir->r[i] * ir->w[i];
		wsum += ir->w[i];
	}
	return wsum > 0 ? sum / wsum : med;
}

double gw_soc_ir_value(const struct gw_soc *s)
{
	return s->ir.value > 0 ? s->ir.value : NAN;
}

void gw_soc_ir_add(struct gw_soc *s, double r, double w)
{
	s->ir.r[s->ir.n % GW_SOC_R_SAMPLES] = r;
	s->ir.w[s->ir.n % GW_SOC_R_SAMPLES] = w;
	s->ir.n++;
	s->ir.value = ir_of(&s->ir);
}

void gw_soc_ir_seed(struct gw_soc *s, double r)
{
	if (!(r > 0))
		return;
	s->ir.n = 0;
	for (unsigned i = 0; i < R_MIN_SAMPLES; i++)
		gw_soc_ir_add(s, r, 1);
}

void gw_soc_ir_learn(struct gw_soc *s, const struct conf_soc *c, const struct gw_soc_in *in, double dt,
		     double cap)
{
	double dis = in->current < 0 ? -in->current : 0;
	if (s->ir.dis_a > dis && dt > 0) { /* 1 / (1 + x) for exp(-x): a little slower, never faster */
		double kept = s->ir.dis_a / (1 + dt / POL_TAU);
		dis = kept > dis ? kept : dis;
	} else if (s->ir.dis_a > dis) {
		dis = s->ir.dis_a;
	}
	s->ir.dis_a = dis;
	double di = in->current - s->last_i;
	if (!(dt > 0 && dt <= R_MAX_DT) || !(fabs(di) >= R_MIN_STEP * cap))
		return;
	double dv = gw_soc_mean_cell(in) - s->last_vavg;
	enum conf_chemistry ch = c->chemistry;
	if (!isfinite(dv) || !(gw_soc_curve_mv(ch, in->cell_min_v) <= R_MAX_MV) ||
	    !(gw_soc_curve_mv(ch, in->cell_max_v) <= R_MAX_MV) || !(gw_soc_curve_mv(ch, s->last_vmin) <= R_MAX_MV) ||
	    !(gw_soc_curve_mv(ch, s->last_vmax) <= R_MAX_MV))
		return;
	double r = dv / di;
	if (r > 0 && r * cap <= R_MAX_AHOHM)
		gw_soc_ir_add(s, r, fabs(di));
}

/* The most the pack holds by its lowest cell, % on the count's scale (NAN:
 * the curve cannot tell here). */
static double ceiling(const struct gw_soc *s, const struct conf_soc *c, const struct gw_soc_in *in, double ic,
		      double r0)
{
	double v = in->cell_min_v + r0 * (fmax(-ic, 0) + s->ir.dis_a) + LIGHT_HYST_V;
	return gw_soc_count_scale(c, gw_soc_steep_value(c->chemistry, v, LIGHT_MIN_MV));
}

void gw_soc_light(struct gw_soc *s, const struct conf_soc *c, const struct gw_soc_in *in, double ic, double dt,
		  double cap, struct gw_soc_ev *ev)
{
	double r0 = s->ir.value;
	bool light = s->started && r0 > 0 && ic >= -c->empty_current * cap && ic <= c->rest_current * cap &&
		     isfinite(in->cell_min_v) && gw_soc_curve_temp_ok(in);
	if (!s->light_tm.on)
		s->light_on = s->light_over = false; /* none held until now (ended, or a gap): a new one */
	if (!gw_soc_held_for(&s->light_tm, light, in->t, c->empty_time, 0))
		return;
	gw_soc_band_ceiling(s, c, in, ic, cap);
	double to = ceiling(s, c, in, ic, r0), soc = 100 * s->ah / cap;
	if (!(to <= LIGHT_MAX_SOC) || soc <= to || !(dt > 0))
		return;
	if (!s->light_on) {
		s->light_on = true;
		s->light_points++;
		ev->bits |= GW_SOC_EV_LIGHT;
		ev->light_from = soc;
		ev->light_to = to;
		ev->light_v = in->cell_min_v;
		ev->light_a = ic;
	}
	if (soc - to >= LIGHT_SAMPLE_OVER)
		s->light_over = true;
	double step = LIGHT_RATE * dt / 60;
	if (soc - to <= step && s->light_over && !s->nsamples) {
		/* brought down: the capacity it shows */
		gw_soc_sample_from_full(s, c, to, gw_soc_span_low(s, c, in, ic), true, ev);
		s->light_over = false;
	}
	s->ah = fmax(0, soc - fmin(soc - to, step)) / 100 * cap;
	gw_soc_band_moved(s, soc - 100 * s->ah / cap);
}
