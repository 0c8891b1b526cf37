/* SPDX-License-Identifier: MIT */
/* gateway/engine/soc_step.c - one good poll through the estimator of
 * soc.h (gw_soc_step): the capacities, the charge counted since the
 * previous poll, a gap of lost polls, the resistance learned, and the
 * points whose conditions the poll completes (the points and what they
 * teach: soc.c, whose opening comment has the estimator's rules; the
 * light-load point: soc_light.c).
 *
 * Counting.  Between two good polls the charge is the trapezoid of their
 * currents on the monotonic clock, the charging part times
 * charge_efficiency (split where the current crosses zero).  The current
 * counted is the BMS's plus current_offset plus the learned offset
 * (soc.c); under current_threshold it counts as 0 (Victron's BMV / SmartShunt
 * "current threshold", https://www.victronenergy.com/media/pg/SmartShunt/en/index-en.html,
 * "Battery settings").  The count stays within 0 ... capacity.  A gap of
 * lost polls (longer than stale_after) is never integrated: its charge is
 * the change of the BMS's remaining Ah where the BMS gives one, else the
 * count is marked unsynced.
 */
#include "soc_int.h"

#include <math.h>
#include <string.h>

#define POINT_REARM 1800.0       /* s a full or empty condition must end before its point repeats */
#define KNEE_REARM 5.0           /* % the count rises over knee_soc before the next knee point (a new discharge) */

/* The rated capacity (the configured, else the BMS's) and the prior (the
 * smaller of the configured and the BMS's where both exist): an event
 * when the prior turns to the BMS's or back. */
static void capacities(struct gw_soc *s, const struct conf_soc *c, const struct gw_soc_in *in, struct gw_soc_ev *ev)
{
	double was = s->rated_ah;
	if (in->bms_full_ah > 0 && isfinite(in->bms_full_ah))
		s->bms_full_ah = in->bms_full_ah;
	if (c->capacity > 0)
		s->rated_ah = c->capacity;
	else if (s->bms_full_ah > 0)
		s->rated_ah = s->bms_full_ah;
	if (s->rated_ah != was && (ev->dropped = gw_soc_keep_samples(s)))
		ev->bits |= GW_SOC_EV_DROPPED;
	bool bms = c->capacity > 0 && s->bms_full_ah > 0 && s->bms_full_ah < c->capacity;
	s->prior_ah = bms ? s->bms_full_ah : s->rated_ah;
	if (bms != s->prior_bms && (bms || s->prior_ah > 0)) {
		ev->bits |= GW_SOC_EV_PRIOR;
		ev->prior_bms = bms;
		ev->capacity_ah = s->prior_ah;
	}
	s->prior_bms = bms;
}

/* The count follows a new capacity at the same SOC, and so does its band. */
static void rescale(struct gw_soc *s, const struct conf_soc *c, double cap)
{
	if (s->started && s->cap_ah > 0 && cap != s->cap_ah) {
		s->ah = gw_soc_clamp(s->ah * cap / s->cap_ah, 0, cap);
		gw_soc_band_rescaled(s, c, 100 * s->ah / cap, s->cap_ah, cap);
	}
	s->cap_ah = cap;
}

/* The current as counted: the BMS's, the offsets, the threshold. */
static double corrected(const struct gw_soc *s, const struct conf_soc *c, double i)
{
	double v = i + c->current_offset + s->offset_a;
	return fabs(v) < c->current_threshold ? 0 : v;
}

/* Net Ah of a straight current from a to b (A) over dt s: the charging
 * part times the efficiency, split where it crosses zero; *stored the
 * charging part so. */
static double trapezoid_ah(double a, double b, double dt, double eff, double *stored)
{
	double in, out;
	if (a >= 0 && b >= 0) {
		in = (a + b) / 2 * dt;
		out = 0;
	} else if (a <= 0 && b <= 0) {
		in = 0;
		out = (a + b) / 2 * dt;
	} else {
		double f = a / (a - b); /* the share of dt before the crossing */
		double first = a * f * dt / 2, second = b * (1 - f) * dt / 2;
		in = a > 0 ? first : second;
		out = a > 0 ? second : first;
	}
	*stored = in * eff / 3600.0;
	return (in * eff + out) / 3600.0;
}

/* A knee point: the count, above knee_soc, pulled down to it, the truth
 * within p. */
static void knee_point(struct gw_soc *s, const struct conf_soc *c, double v, struct gw_soc_span p, double cap,
		       struct gw_soc_ev *ev)
{
	ev->knee_from = 100 * s->ah / cap;
	ev->knee_v = v;
	gw_soc_band_anchor(s, c, c->knee_soc, p, cap);
	s->ah = c->knee_soc / 100 * cap;
	s->synced = true;
	s->knee_points++;
	ev->bits |= GW_SOC_EV_KNEE;
}

/* The rest point's value at this poll on the count's scale, NAN when the
 * curve cannot tell. */
static double rest_value(const struct conf_soc *c, const struct gw_soc_in *in)
{
	if (!gw_soc_curve_temp_ok(in))
		return NAN;
	return gw_soc_count_scale(c, gw_soc_rest_value(c->chemistry, gw_soc_mean_cell(in)));
}

/* The points whose conditions this poll completes, dt s counted since the
 * previous poll (0 none). */
static void points(struct gw_soc *s, const struct conf_soc *c, const struct gw_soc_in *in, double ic, double dt,
		   double cap, struct gw_soc_ev *ev)
{
	bool full = in->cell_max_v >= c->full_cell_voltage && ic <= c->tail_current * cap;
	bool empty = in->cell_min_v <= c->empty_cell_voltage && ic < 0 && -ic <= c->empty_current * cap;
	bool rest = fabs(ic) <= c->rest_current * cap;
	bool knee = c->knee_cell_voltage > c->empty_cell_voltage && in->cell_min_v <= c->knee_cell_voltage && ic < 0 &&
		    -ic <= c->empty_current * cap;
	gw_soc_light(s, c, in, ic, dt, cap, ev);
	if (s->started && 100 * s->ah / cap >= c->knee_soc + KNEE_REARM)
		s->knee_tm.taken = false; /* charged since: a new discharge */
	if (gw_soc_held_for(&s->knee_tm, knee, in->t, c->empty_time, INFINITY) && s->started &&
	    100 * s->ah / cap > c->knee_soc) {
		knee_point(s, c, in->cell_min_v, gw_soc_span_low(s, c, in, ic), cap, ev);
		s->knee_tm.taken = true;
	}
	if (gw_soc_held_for(&s->full_tm, full, in->t, c->full_time, POINT_REARM)) {
		gw_soc_full_point(s, c, gw_soc_span_full(s, c, in, ic), cap, in->t, ev);
		s->full_tm.taken = true;
	}
	if (gw_soc_held_for(&s->empty_tm, empty, in->t, c->empty_time, POINT_REARM)) {
		gw_soc_empty_point(s, c, gw_soc_span_low(s, c, in, ic), cap, ev);
		s->empty_tm.taken = true;
	}
	if (gw_soc_held_for(&s->rest_tm, rest, in->t, c->rest_time, 0)) {
		double r = rest_value(c, in);
		if (isfinite(r)) {
			gw_soc_rest_point(s, c, r, gw_soc_span_rest(s, c, in), cap, ev);
			s->rest_tm.taken = true;
		}
	}
}

/* The BMS's remaining Ah from `was` to now bridges dt s of the count (a
 * gap, a restart): d Ah, the BMS's share of its capacity of ours. */
static void bridge(struct gw_soc *s, const struct conf_soc *c, const struct gw_soc_in *in, double was, double dt,
		   double cap)
{
	double d = in->bms_remain_ah - was, pre = s->ah;
	if (in->bms_full_ah > 0)
		d *= cap / in->bms_full_ah;
	s->ah = gw_soc_clamp(s->ah + d, 0, cap);
	gw_soc_band_bridge(s, c, d, dt, cap);
	gw_soc_band_moved(s, 100 * (pre + d - s->ah) / cap);
}

/* A gap of dt s since the last good poll: the BMS's remaining Ah bridges
 * it, or the count is unsynced.  No learning run goes over a gap. */
static void gap(struct gw_soc *s, const struct conf_soc *c, const struct gw_soc_in *in, double dt, double cap,
		struct gw_soc_ev *ev)
{
	s->run_full.ok = s->run_empty.ok = false;
	s->full_tm.on = s->empty_tm.on = s->rest_tm.on = s->knee_tm.on = s->light_tm.on = false;
	if (!s->started)
		return;
	ev->gap_s = dt;
	if (isfinite(in->bms_remain_ah) && isfinite(s->last_remain)) {
		bridge(s, c, in, s->last_remain, dt, cap);
		ev->bits |= GW_SOC_EV_BRIDGED;
	} else {
		s->synced = s->band.ok = false;
		ev->bits |= GW_SOC_EV_LOST;
	}
}

/* The first poll after a load: the time of the last full point is pinned
 * to the monotonic clock; a restart within stale_after goes on counting,
 * bridged by the BMS's remaining Ah where it gives one (a longer one
 * without it leaves the band unknown until the next point). */
static void after_load(struct gw_soc *s, const struct conf_soc *c, const struct gw_soc_in *in, double stale_after,
		       double cap)
{
	if (s->have_full && !s->full_pinned) {
		s->full_age_t = in->t;
		s->full_pinned = true;
	}
	if (s->have_saved_remain && s->started && isfinite(in->bms_remain_ah))
		bridge(s, c, in, s->saved_remain, s->load_gap_s, cap);
	else if (s->load_gap_s > stale_after)
		s->band.ok = false;
	else
		gw_soc_band_count(s, 0, gw_soc_band_drift(s, c, s->load_gap_s, true, 0, cap));
	s->have_saved_remain = false;
	s->load_gap_s = 0;
}

/* Start from the BMS's SOC, unsynced. */
static void start(struct gw_soc *s, const struct gw_soc_in *in, double cap, struct gw_soc_ev *ev)
{
	if (s->started || !isfinite(in->bms_soc))
		return;
	s->ah = gw_soc_clamp(in->bms_soc / 100 * cap, 0, cap);
	s->started = true;
	s->synced = s->band.ok = false;
	ev->bits |= GW_SOC_EV_START;
}

/* The charge of dt s since the previous poll, ic the current as counted
 * now: into the count, the runs and the band. */
static void count(struct gw_soc *s, const struct conf_soc *c, double ic, double dt, double cap)
{
	double was = corrected(s, c, s->last_i), stored;
	double dq = trapezoid_ah(was, ic, dt, c->charge_efficiency, &stored), pre = s->ah;
	double drift = gw_soc_band_drift(s, c, dt, was == 0 || ic == 0, stored, cap);
	s->ah = gw_soc_clamp(s->ah + dq, 0, cap);
	s->run_full.ah += dq;
	s->run_full.s += dt;
	s->run_full.drift_ah += drift;
	s->run_empty.ah += dq;
	s->run_empty.s += dt;
	s->run_empty.drift_ah += drift;
	gw_soc_band_count(s, dq, drift);
	gw_soc_band_moved(s, 100 * (pre + dq - s->ah) / cap); /* clamped */
}

void gw_soc_step(struct gw_soc *s, const struct conf_soc *c, double stale_after, const struct gw_soc_in *in,
		 struct gw_soc_ev *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (!c->count || !isfinite(in->t))
		return;
	capacities(s, c, in, ev);
	double cap = gw_soc_capacity_in_use(s, c);
	if (!(cap > 0) || !isfinite(in->current))
		return; /* no capacity, or no current: nothing to count */
	rescale(s, c, cap);
	if (!s->have_last)
		after_load(s, c, in, stale_after, cap);
	start(s, in, cap, ev);
	double ic = corrected(s, c, in->current), dt = s->have_last ? in->t - s->last_t : 0;
	if (s->have_last) {
		if (dt > stale_after || dt < 0) {
			gap(s, c, in, dt, cap, ev);
			dt = 0;
		} else {
			count(s, c, ic, dt, cap);
		}
	}
	gw_soc_ir_learn(s, c, in, dt, cap);
	points(s, c, in, ic, dt, cap, ev);
	rescale(s, c, gw_soc_capacity_in_use(s, c));
	s->have_last = true;
	s->last_t = in->t;
	s->last_i = in->current;
	s->last_vmin = in->cell_min_v;
	s->last_vmax = in->cell_max_v;
	s->last_vavg = gw_soc_mean_cell(in);
	s->last_remain = in->bms_remain_ah;
}
