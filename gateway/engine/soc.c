/* SPDX-License-Identifier: MIT */
/* gateway/engine/soc.c - the estimator of soc.h: bmsgw's own count of a
 * pack's charge.
 *
 * A BMS's SOC drifts: Daly counts nothing under ~2.5 A, JK resets only at
 * its over-voltage, a cheap shunt reads with an offset.  The count here:
 *
 * Counting: between two good polls the trapezoid of their currents, a gap
 * bridged or marked (soc_step.c, which steps every poll through the
 * points below).
 *
 * Points.  A full point (100 %) is Victron's rule: the highest cell at or
 * over full_cell_voltage while the charge current is at or under
 * tail_current (4 % of the capacity) for full_time (3 min), its "charged
 * voltage", "tail current" and "charged detection time".  The default
 * voltage is [limits]' target (conf/check_soc.c): the voltage bmsgw's own
 * charge machine holds, not a BMS's over-voltage it never reaches.  An
 * empty point (0 %) is dbus-serialbattery's: the lowest cell at or under
 * empty_cell_voltage while discharging (at most empty_current) for
 * empty_time (soc_calculation() of
 * https://github.com/mr-manuel/venus-os_dbus-serialbattery/blob/3634fc06521c17d97224f9ca0e9a4697d22e672c/etc/dbus-serialbattery/battery.py).  A rest point:
 * after rest_time under rest_current the mean cell voltage is an
 * open-circuit voltage, and where the chemistry's curve is steep
 * (soc_curve.c) the count is set to the curve's value, put on the count's
 * scale (0 % is the curve's value at empty_cell_voltage, 100 % its top);
 * only between 10 and 40 degC where the BMS gives a temperature.  A knee
 * point: the lowest cell at or under knee_cell_voltage (where the
 * chemistry's curve turns down into its last few %, conf/check_soc.c)
 * while discharging at most at empty_current for empty_time says the pack
 * is near empty, and a count above knee_soc is pulled down to it, never
 * up (and synced).  Inverters usually stop a bank before any cell reaches
 * empty_cell_voltage (a 48.0 V cut-off is 3.00 V a cell), so an aged
 * pack's first deep cycle, counted against its rated capacity, would
 * otherwise end with the count claiming 10 % of a pack that is empty.
 * Each point is taken once while its condition lasts (a full or empty
 * point again only after its condition was off for POINT_REARM, a knee
 * point once a discharge: again only after the count rose KNEE_REARM over
 * knee_soc), and counted.  Higher up, where the curve is still steep (LFP
 * under 30 %), the light-load point (soc_light.c) holds the count under
 * what the lowest cell, its drop under the load taken back, allows.
 *
 * The learned offset.  From one full point to the next the battery went
 * from full to full: the net charge counted over the run should be nil,
 * and what is left over the run's time is the current sensor's offset,
 * which the count then subtracts.  From one empty point to the next
 * likewise.  Only runs of at least OFFSET_MIN_RUN without a gap teach it
 * (as Battery-Emulator's BYD auto-calibration waits between two
 * calibrations, https://github.com/dalathegreat/Battery-Emulator); the
 * first run whole, each later one weighed by its length against up to
 * OFFSET_MEMORY of runs before (a drift with temperature is followed, one
 * odd run does not undo the rest); the offset stays within 1 % of the
 * capacity an hour.  The runs still going and the capacity samples taken
 * are counted again with each new offset.  A gain error of the sensor
 * needs no correction: the measured capacity is in the sensor's own Ah,
 * so the SOC, their ratio, is right.
 *
 * Capacity.  The net Ah counted from a full point to the next empty point
 * (or from an empty point to the next full one) is a sample of the usable
 * capacity; so is the Ah from a full point to a rest point at least 50 %
 * away, over the share of the capacity between them, as TI's Impedance
 * Track measures its Qmax between two rested voltages
 * (https://www.ti.com/lit/an/slua364b/slua364b.pdf); so, until one is
 * measured, is the Ah to a light-load point that brought the count down
 * (soc_light.c), which a later rest or empty point of the same run
 * replaces (run_sample).  A sample outside
 * 0.5 ... 1.5 times the rated capacity is refused; the capacity in use is
 * the median of the last GW_SOC_SAMPLES samples.  Until the first, the
 * prior: the smaller of the configured capacity and the BMS's full
 * capacity where both exist (a label is the upper bound of an aged pack;
 * a BMS that learns or was told the pack's capacity knows better), else
 * whichever exists.  SOH (measured) = the capacity in use / rated (the
 * configured, else the BMS's).  Until the first sample the count is only
 * as good as the prior: at a depth d below full it is off by
 * d x (1 - measured / prior), which the light-load and knee points bound
 * where the curve tells.
 */
#include "soc_int.h"

#include <math.h>
#include <string.h>

#define OFFSET_MIN_RUN 21600.0   /* s: a full-to-full or empty-to-empty run shorter than this teaches no offset */
#define OFFSET_MEMORY 259200.0   /* s of runs the offset learned weighs as at most (3 days) */
#define OFFSET_MAX_C 0.01        /* the learned offset stays within this share of the capacity an hour */
#define SAMPLE_MIN 0.5           /* a capacity sample is used within these times the rated capacity */
#define SAMPLE_MAX 1.5
#define REST_AWAY 50.0           /* %: a rest point this far from full gives a capacity sample */
#define REST_TEMP_MIN 10.0       /* degC: the open-circuit curve is trusted within these */
#define REST_TEMP_MAX 40.0

enum gw_soc_dir gw_soc_direction(double current, double threshold)
{
	if (!isfinite(current) || fabs(current) < threshold || current == 0)
		return GW_SOC_IDLE;
	return current > 0 ? GW_SOC_CHARGING : GW_SOC_DISCHARGING;
}

/* The median of the samples kept. */
static double samples_median(const struct gw_soc *s)
{
	unsigned n = s->nsamples < GW_SOC_SAMPLES ? s->nsamples : GW_SOC_SAMPLES;
	double v[GW_SOC_SAMPLES];
	for (unsigned i = 0; i < n; i++) {
		unsigned j = i;
		for (; j > 0 && v[j - 1] > s->sample[i]; j--)
			v[j] = v[j - 1];
		v[j] = s->sample[i];
	}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double gw_soc_capacity_in_use(const struct gw_soc *s, const struct conf_soc *c)
{
	if (c->learn_capacity && s->nsamples)
		return samples_median(s);
	return s->prior_ah > 0 ? s->prior_ah : NAN;
}

/* Whether a capacity sample of ah fits the rated capacity. */
static bool sample_fits(const struct gw_soc *s, double ah)
{
	return ah >= SAMPLE_MIN * s->rated_ah && ah <= SAMPLE_MAX * s->rated_ah;
}

unsigned gw_soc_keep_samples(struct gw_soc *s)
{
	unsigned n = s->nsamples < GW_SOC_SAMPLES ? s->nsamples : GW_SOC_SAMPLES, k = 0;
	unsigned first = s->nsamples < GW_SOC_SAMPLES ? 0 : s->nsamples % GW_SOC_SAMPLES; /* the oldest */
	double ah[GW_SOC_SAMPLES], sec[GW_SOC_SAMPLES], flo[GW_SOC_SAMPLES], fhi[GW_SOC_SAMPLES];
	for (unsigned i = 0; i < n; i++) {
		unsigned j = (first + i) % GW_SOC_SAMPLES;
		if (sample_fits(s, s->sample[j])) {
			ah[k] = s->sample[j];
			flo[k] = s->sample_flo[j];
			fhi[k] = s->sample_fhi[j];
			sec[k++] = s->sample_s[j];
		}
	}
	if (k == n)
		return 0;
	for (unsigned i = 0; i < GW_SOC_SAMPLES; i++) {
		s->sample[i] = i < k ? ah[i] : 0;
		s->sample_s[i] = i < k ? sec[i] : 0;
		s->sample_flo[i] = i < k ? flo[i] : 0;
		s->sample_fhi[i] = i < k ? fhi[i] : 0;
	}
	s->nsamples = k;
	/* the run's light-load sample may be among those dropped: the last
	 * one kept is no longer its to replace */
	s->run_full.light = s->run_empty.light = false;
	return n - k;
}

/* A capacity sample of ah over a run of run_s seconds (< 0: a discharge),
 * f its share of the whole charge (soc_band.c). */
static void add_sample(struct gw_soc *s, const struct conf_soc *c, double ah, double run_s, const double f[2],
		       struct gw_soc_ev *ev)
{
	ev->sample_ah = ah;
	if (!sample_fits(s, ah)) {
		ev->bits |= GW_SOC_EV_REJECTED;
		return;
	}
	s->sample[s->nsamples % GW_SOC_SAMPLES] = ah;
	s->sample_s[s->nsamples % GW_SOC_SAMPLES] = run_s;
	s->sample_flo[s->nsamples % GW_SOC_SAMPLES] = f[0];
	s->sample_fhi[s->nsamples % GW_SOC_SAMPLES] = f[1];
	s->nsamples++;
	ev->bits |= GW_SOC_EV_SAMPLE;
	ev->capacity_ah = gw_soc_capacity_in_use(s, c);
}

/* The offset the run since a point of the same kind (full to full, empty
 * to empty: the battery back where it was) shows: what it counted over
 * its time.  Runs are weighed by their length against OFFSET_MEMORY of
 * what was learned before; the runs still going are counted again with
 * the new offset. */
static void learn_offset(struct gw_soc *s, const struct gw_soc_run *run, double cap, struct gw_soc_ev *ev)
{
	if (!run->ok || run->s < OFFSET_MIN_RUN)
		return;
	double e = run->ah * 3600.0 / run->s, lim = OFFSET_MAX_C * cap;
	double old = s->offset_a, w = run->s / (run->s + s->offset_w);
	s->offset_a = gw_soc_clamp(old - w * e, -lim, lim);
	s->offset_w = fmin(s->offset_w + run->s, OFFSET_MEMORY);
	double d = (s->offset_a - old) / 3600.0;
	s->run_full.ah += d * s->run_full.s;
	s->run_empty.ah += d * s->run_empty.s;
	for (unsigned i = 0; i < GW_SOC_SAMPLES && i < s->nsamples; i++)
		s->sample[i] += d * s->sample_s[i];
	ev->bits |= GW_SOC_EV_OFFSET;
	ev->offset_a = s->offset_a;
}

/* The capacity sample ah of a run of run_s s (< 0: a discharge), f its
 * share of the whole charge, from a light-load point or not: one a run,
 * but a light-load point's gives way to a later point's of the same run
 * (deeper: the curve's error weighs less), in its place. */
static void run_sample(struct gw_soc *s, const struct conf_soc *c, struct gw_soc_run *run, double ah, double run_s,
		       const double f[2], bool light, struct gw_soc_ev *ev)
{
	if (!run->ok || !c->learn_capacity || (run->sampled && (!run->light || light)))
		return;
	if (run->sampled) { /* a light-load point's, the last one taken */
		if (!sample_fits(s, ah)) {
			ev->sample_ah = ah;
			ev->bits |= GW_SOC_EV_REJECTED;
			run->light = false; /* it stands */
			return;
		}
		s->nsamples--;
	}
	add_sample(s, c, ah, run_s, f, ev);
	run->sampled = true;
	run->light = light;
}

/* A point of one kind (at 100 % with sign 1, at 0 % with -1), the truth
 * within p: what its run since the last one taught, the capacity sample
 * of the other kind's run (full to empty, empty to full), then its own run
 * starts anew, and the band there. */
static void point_runs(struct gw_soc *s, const struct conf_soc *c, struct gw_soc_run *own, struct gw_soc_run *other,
		       double sign, struct gw_soc_span p, double cap, struct gw_soc_ev *ev)
{
	double f[2], at = sign > 0 ? 100 : 0;
	learn_offset(s, own, cap, ev);
	gw_soc_sample_share(other, 100 - at, p, at, &f[0], &f[1]);
	run_sample(s, c, other, sign * other->ah, sign * other->s, f, false, ev);
	bool known = isfinite(p.lo) && isfinite(p.hi);
	*own = (struct gw_soc_run){ .ok = true, .p_lo = known ? p.lo : 0, .p_hi = known ? p.hi : 0 };
	gw_soc_band_anchor(s, c, at, p, cap);
}

void gw_soc_full_point(struct gw_soc *s, const struct conf_soc *c, struct gw_soc_span p, double cap, double t,
		       struct gw_soc_ev *ev)
{
	point_runs(s, c, &s->run_full, &s->run_empty, 1, p, cap, ev);
	s->ah = cap;
	s->started = s->synced = true;
	s->full_points++;
	s->have_full = true;
	s->full_age = 0;
	s->full_age_t = t;
	s->full_pinned = true;
	ev->bits |= GW_SOC_EV_FULL;
}

void gw_soc_empty_point(struct gw_soc *s, const struct conf_soc *c, struct gw_soc_span p, double cap,
			struct gw_soc_ev *ev)
{
	point_runs(s, c, &s->run_empty, &s->run_full, -1, p, cap, ev);
	s->ah = 0;
	s->started = s->synced = true;
	s->empty_points++;
	ev->bits |= GW_SOC_EV_EMPTY;
}

void gw_soc_sample_from_full(struct gw_soc *s, const struct conf_soc *c, double r, struct gw_soc_span p, bool light,
			     struct gw_soc_ev *ev)
{
	struct gw_soc_run *run = &s->run_full;
	double f[2];
	if (r > 100 - REST_AWAY)
		return;
	gw_soc_sample_share(run, 100, p, r, &f[0], &f[1]);
	run_sample(s, c, run, -run->ah / (1 - r / 100), -run->s / (1 - r / 100), f, light, ev);
}

void gw_soc_rest_point(struct gw_soc *s, const struct conf_soc *c, double r, struct gw_soc_span p, double cap,
		       struct gw_soc_ev *ev)
{
	gw_soc_sample_from_full(s, c, r, p, false, ev);
	gw_soc_band_anchor(s, c, r, p, cap);
	s->ah = r / 100 * cap;
	s->started = true;
	s->rest_points++;
	ev->bits |= GW_SOC_EV_REST;
	ev->rest_soc = r;
}

bool gw_soc_held_for(struct gw_soc_timer *tm, bool cond, double t, double need, double rearm)
{
	if (!cond) {
		if (tm->on) {
			tm->on = false;
			tm->off_since = t;
		}
		if (tm->taken && t - tm->off_since >= rearm)
			tm->taken = false;
		return false;
	}
	if (!tm->on) {
		tm->on = true;
		tm->since = t;
	}
	return !tm->taken && t - tm->since >= need;
}

bool gw_soc_curve_temp_ok(const struct gw_soc_in *in)
{
	return !(isfinite(in->temp_min_c) && in->temp_min_c < REST_TEMP_MIN) &&
	       !(isfinite(in->temp_max_c) && in->temp_max_c > REST_TEMP_MAX);
}

double gw_soc_count_scale(const struct conf_soc *c, double r)
{
	if (!isfinite(r))
		return r;
	double e = gw_soc_curve(c->chemistry, c->empty_cell_voltage);
	if (!(e >= 0 && e < 100))
		return r;
	return gw_soc_clamp(100 * (r - e) / (100 - e), 0, 100);
}

void gw_soc_output(const struct gw_soc *s, const struct conf_soc *c, double bms_soc, double t, struct gw_soc_out *o)
{
	memset(o, 0, sizeof(*o));
	bool counting = c->count && s->started && s->cap_ah > 0;
	o->soc_bms = bms_soc;
	o->soc_counted = counting ? gw_soc_clamp(100 * s->ah / s->cap_ah, 0, 100) : NAN; /* 100.00000000000001 */
	o->remaining_ah = counting ? s->ah : NAN;
	o->capacity_ah = s->cap_ah > 0 ? s->cap_ah : NAN;
	o->flags = (counting ? GW_SOC_F_COUNTING : 0u) | (counting && s->synced ? GW_SOC_F_SYNCED : 0u) |
		   (s->resumed ? GW_SOC_F_RESUMED : 0u) | (c->learn_capacity && s->nsamples ? GW_SOC_F_MEASURED : 0u);
	if (c->source == CONF_SOC_SRC_COUNTED && (o->flags & GW_SOC_F_SYNCED))
		o->flags |= GW_SOC_F_SOURCE;
	o->soc = o->flags & GW_SOC_F_SOURCE ? o->soc_counted : bms_soc;
	o->soh_measured = o->flags & GW_SOC_F_MEASURED && s->rated_ah > 0 ? 100 * s->cap_ah / s->rated_ah : 0;
	o->capacity_samples = s->nsamples;
	o->since_full_s = !s->have_full ? -1 : s->full_age + (s->full_pinned ? t - s->full_age_t : 0);
	o->full_points = s->full_points;
	o->empty_points = s->empty_points;
	o->rest_points = s->rest_points;
	o->knee_points = s->knee_points;
	o->light_points = s->light_points;
	gw_soc_band_out(s, o->flags & GW_SOC_F_SYNCED ? o->soc_counted : NAN, o);
}

void gw_soc_bank(const struct gw_soc *const *packs, int n, const struct conf_soc *c, double bms_soc, double t,
		 struct gw_soc_out *o)
{
	double ah = 0, cap = 0, rated = 0, blo = 0, bhi = 0;
	bool banded = n > 0;
	unsigned all = n > 0 ? GW_SOC_F_COUNTING | GW_SOC_F_SYNCED | GW_SOC_F_RESUMED | GW_SOC_F_MEASURED : 0;
	struct gw_soc_out m, sum = { .capacity_samples = ~0u, .full_points = ~0u, .empty_points = ~0u,
				     .rest_points = ~0u, .since_full_s = 0 };
	for (int i = 0; i < n; i++) {
		gw_soc_output(packs[i], c, NAN, t, &m);
		all &= m.flags;
		ah += packs[i]->ah;
		cap += packs[i]->cap_ah;
		rated += packs[i]->rated_ah;
		banded = banded && isfinite(m.band);
		blo += m.band_lo * packs[i]->cap_ah; /* the truth's Ah off the count's */
		bhi += m.band_hi * packs[i]->cap_ah;
		sum.capacity_samples = m.capacity_samples < sum.capacity_samples ? m.capacity_samples : sum.capacity_samples;
		sum.full_points = m.full_points < sum.full_points ? m.full_points : sum.full_points;
		sum.empty_points = m.empty_points < sum.empty_points ? m.empty_points : sum.empty_points;
		sum.rest_points = m.rest_points < sum.rest_points ? m.rest_points : sum.rest_points;
		if (m.since_full_s < 0 || sum.since_full_s < 0)
			sum.since_full_s = -1;
		else if (m.since_full_s > sum.since_full_s)
			sum.since_full_s = m.since_full_s;
	}
	*o = n > 0 ? sum : (struct gw_soc_out){ .since_full_s = -1 };
	bool counting = all & GW_SOC_F_COUNTING;
	o->flags = all;
	o->soc_bms = bms_soc;
	o->soc_counted = counting ? gw_soc_clamp(100 * ah / cap, 0, 100) : NAN;
	o->remaining_ah = counting ? ah : NAN;
	o->capacity_ah = cap > 0 ? cap : NAN;
	if (c->source == CONF_SOC_SRC_COUNTED && (all & GW_SOC_F_SYNCED))
		o->flags |= GW_SOC_F_SOURCE;
	o->soc = o->flags & GW_SOC_F_SOURCE ? o->soc_counted : bms_soc;
	o->soh_measured = all & GW_SOC_F_MEASURED && rated > 0 ? 100 * cap / rated : 0;
	o->band = o->band_lo = o->band_hi = NAN;
	if (banded && counting && (all & GW_SOC_F_SYNCED) && cap > 0) {
		o->band_lo = blo / cap;
		o->band_hi = bhi / cap;
		o->band = gw_soc_band_round(fmax(fabs(o->band_lo), fabs(o->band_hi)));
	}
}
