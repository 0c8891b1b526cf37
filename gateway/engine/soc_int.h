/* SPDX-License-Identifier: MIT */
/* gateway/engine/soc_int.h - between soc.c (the points and what they
 * teach: capacity samples, the learned offset), soc_step.c (one poll
 * through them) and soc_light.c (the light-load point): what they share.
 * Not for other files: soc.h is the estimator's interface. */
#ifndef GATEWAY_ENGINE_SOC_INT_H
#define GATEWAY_ENGINE_SOC_INT_H

#include <math.h>

#include "soc.h"

static inline double gw_soc_clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* An interval of the true SOC, % of the cells' whole charge (soc_band.c;
 * NAN: the chemistry has no curve). */
struct gw_soc_span {
	double lo, hi;
};

/* The capacity in use: the samples' median once measured, else the prior
 * (NAN unknown). */
double gw_soc_capacity_in_use(const struct gw_soc *s, const struct conf_soc *c);
/* Drops the capacity samples kept that lie outside 0.5..1.5 x the rated
 * capacity (a state file's, or those of a capacity configured before); how
 * many (soc.c). */
unsigned gw_soc_keep_samples(struct gw_soc *s);
/* The points (soc.c), at the capacity in use cap: a full point at t
 * (100 %), an empty point (0 %), a rest point of r % on the count's scale;
 * each what its run since the last one taught. */
void gw_soc_full_point(struct gw_soc *s, const struct conf_soc *c, struct gw_soc_span p, double cap, double t,
		       struct gw_soc_ev *ev);
void gw_soc_empty_point(struct gw_soc *s, const struct conf_soc *c, struct gw_soc_span p, double cap,
			struct gw_soc_ev *ev);
void gw_soc_rest_point(struct gw_soc *s, const struct conf_soc *c, double r, struct gw_soc_span p, double cap,
		       struct gw_soc_ev *ev);

/* Has a condition held for `need` s at t?  True once: the point, once
 * taken (the caller sets tm->taken), is taken again only after the
 * condition has been off for `rearm` s (soc.c). */
bool gw_soc_held_for(struct gw_soc_timer *tm, bool cond, double t, double need, double rearm);
/* The mean cell, V: the BMS's, else the middle of the extremes (NAN none). */
static inline double gw_soc_mean_cell(const struct gw_soc_in *in)
{
	return isfinite(in->cell_avg_v) ? in->cell_avg_v : (in->cell_min_v + in->cell_max_v) / 2;
}
/* Whether the open-circuit curve may be read at this poll's temperatures
 * (10..40 degC where the BMS gives one). */
bool gw_soc_curve_temp_ok(const struct gw_soc_in *in);
/* The curve's % r on the count's scale: 0 % is the curve's value at
 * empty_cell_voltage, 100 % its top (NAN stays NAN). */
double gw_soc_count_scale(const struct conf_soc *c, double r);

/* A capacity sample from the last full point to a point that says r %
 * (on the count's scale) where it is at least 50 % away, the run unbroken
 * and not sampled yet; a light-load point's (light) gives way to a later
 * point's of the same run (soc.c). */
void gw_soc_sample_from_full(struct gw_soc *s, const struct conf_soc *c, double r, struct gw_soc_span p, bool light,
			     struct gw_soc_ev *ev);

/* A poll dt s after the previous good one (0: the first, or after a gap):
 * a resistance sample where the current stepped, the discharge current
 * remembered (soc_light.c). */
void gw_soc_ir_learn(struct gw_soc *s, const struct conf_soc *c, const struct gw_soc_in *in, double dt,
		     double cap);
/* The light-load point of this poll (soc_light.c): ic the current as
 * counted, dt s counted since the previous poll (0 none). */
void gw_soc_light(struct gw_soc *s, const struct conf_soc *c, const struct gw_soc_in *in, double ic, double dt,
		  double cap, struct gw_soc_ev *ev);
/* A cell's resistance in use, ohm (NAN: not measured yet). */
double gw_soc_ir_value(const struct gw_soc *s);
/* A resistance sample r (ohm) of a current step of w A. */
void gw_soc_ir_add(struct gw_soc *s, double r, double w);
/* The resistance of a state file in use again (r > 0; else nothing): it
 * stands for as many samples as a point needs, until new ones outvote it. */
void gw_soc_ir_seed(struct gw_soc *s, double r);

/* The count's uncertainty (soc_band.c).  Where the truth lies at a full
 * point (the mean cell at the tail current ic), under a light discharge
 * or at rest by the lowest cell (an empty, knee or light-load point), and
 * at a rest point (the mean cell). */
struct gw_soc_span gw_soc_span_full(const struct gw_soc *s, const struct conf_soc *c, const struct gw_soc_in *in,
				    double ic);
struct gw_soc_span gw_soc_span_low(const struct gw_soc *s, const struct conf_soc *c, const struct gw_soc_in *in,
				   double ic);
struct gw_soc_span gw_soc_span_rest(const struct gw_soc *s, const struct conf_soc *c, const struct gw_soc_in *in);
/* A point set the count to pct %, the truth within p: the band starts
 * there (ok unless p is unknown), the capacity cap in use. */
void gw_soc_band_anchor(struct gw_soc *s, const struct conf_soc *c, double pct, struct gw_soc_span p, double cap);
/* The truth minus the count (pct % of cap) now: within [*lo, *hi]. */
void gw_soc_band_now(const struct gw_soc *s, double pct, double cap, double *lo, double *hi);
/* The capacity in use went from cap_was to cap, the count kept at pct %. */
void gw_soc_band_rescaled(struct gw_soc *s, const struct conf_soc *c, double pct, double cap_was, double cap);
/* A light-load poll (the lowest cell under a light discharge or at rest,
 * its resistance measured): the truth is under its ceiling. */
void gw_soc_band_ceiling(struct gw_soc *s, const struct conf_soc *c, const struct gw_soc_in *in, double ic,
			 double cap);
/* The count was moved down by pct % (up where < 0) without counting. */
void gw_soc_band_moved(struct gw_soc *s, double pct);
/* The Ah the sensor may have got wrong over dt s (dead: the current
 * counted as 0 under current_threshold), in_ah charged. */
double gw_soc_band_drift(struct gw_soc *s, const struct conf_soc *c, double dt, bool dead, double in_ah,
			 double cap);
/* dq Ah counted, drift Ah of it the sensor may have got wrong. */
void gw_soc_band_count(struct gw_soc *s, double dq, double drift);
/* A gap of gap_s bridged by d_ah of the BMS's remaining Ah. */
void gw_soc_band_bridge(struct gw_soc *s, const struct conf_soc *c, double d_ah, double gap_s, double cap);
/* A capacity sample of the run that began at a point of count `from` %
 * (its truth run->p_lo..p_hi) to a point of count to_pct %, the truth
 * within `to`: the sample's share of the whole charge, its bounds (0, 0:
 * not known). */
void gw_soc_sample_share(const struct gw_soc_run *run, double from, struct gw_soc_span to, double to_pct,
			 double *flo, double *fhi);
/* The band published for a count of pct % (o->band, band_lo, band_hi). */
void gw_soc_band_out(const struct gw_soc *s, double pct, struct gw_soc_out *o);
/* A band of m % as published: the count's rounding added, up to 0.1 %. */
double gw_soc_band_round(double m);

#endif
