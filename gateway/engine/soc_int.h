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
void gw_soc_full_point(struct gw_soc *s, const struct conf_soc *c, double cap, double t, struct gw_soc_ev *ev);
void gw_soc_empty_point(struct gw_soc *s, const struct conf_soc *c, double cap, struct gw_soc_ev *ev);
void gw_soc_rest_point(struct gw_soc *s, const struct conf_soc *c, double r, double cap, struct gw_soc_ev *ev);

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
void gw_soc_sample_from_full(struct gw_soc *s, const struct conf_soc *c, double r, bool light, struct gw_soc_ev *ev);

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

#endif
