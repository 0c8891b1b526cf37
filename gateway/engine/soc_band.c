/* SPDX-License-Identifier: MIT */
/* gateway/engine/soc_band.c - how sure the count of soc.h is: an error
 * budget kept beside it, published as the counted SOC +- a band (soc.h
 * gw_soc_out.band).
 *
 * What it bounds.  The true SOC: the share of the cells' whole charge
 * that is in them, as the open-circuit curve (soc_curve.c) measures it
 * from its 0 % (2.0 V a LFP cell) to its 100 %; in a pack, its weakest
 * cell's (cells in series carry the same charge, and the first one empty
 * ends it: in a top-balanced pack the lowest cell near empty, its cells
 * full together at the top).  The count's own 0 % is the empty point, a
 * little above (LFP's curve says 2.4 % at 2.90 V): the band covers that
 * too.  It is kept as an interval [lo, hi] of the truth minus the count,
 * which need not lie around 0 (at an empty point the truth is 2.1 to 2.7 %
 * over the count's 0 %), and holds on both sides (the bank weighs its
 * packs' by them; --soc-replay prints them); the band published is the
 * larger of |lo| and |hi|, rounded up to 0.1 % after the count's own
 * rounding.
 *
 * The curve.  A cell's own curve passes through the published points
 * within CELL_ERR_V and departs from the straight piece between two of
 * them by up to PIECE_ERR_V (the monotone cubic through the same points,
 * the simulator's cell: LFP's 8.9..29.7 % piece by 18 mV, 4.6 %, its
 * 1.2..2.7 % piece by 22 mV, NMC's 45.7..83.4 % piece by 26 mV): so a
 * voltage on a steep piece says the piece's value PIECE_ERR_V further,
 * never beyond the piece's end, and one on a flat piece (under STEEP_MV a
 * %) its end (gw_soc_curve_bound).
 *
 * The points.  Each point says where the truth lies, from the curve at
 * the voltage it was taken at:
 *   full   the highest cell at full_cell_voltage under at most the tail
 *          current: the mean cell's open-circuit voltage is at most
 *          FULL_DROP_V under it (the tail current's ohmic drop and
 *          polarisation, the charge's hysteresis; 2 R0 I + CELL_ERR_V
 *          where the resistance measured says more): LFP 3.45 V says
 *          98.7 % to 100 %, NMC 4.15 V (on a piece of 3 mV a %) 85.4 % to
 *          100 %;
 *   empty, knee and the light-load ceiling: the lowest cell under a light
 *          discharge: its open-circuit voltage lies between its reading
 *          less CELL_ERR_V (a discharged cell reads under its curve; at
 *          rest or charging 2 CELL_ERR_V + REST_DROP_V) and
 *          its reading plus R0 times the current and the discharge its
 *          polarisation remembers (soc_light.c) plus 2 CELL_ERR_V (its
 *          hysteresis, the reading's and the curve's errors); EMPTY_DROP_V
 *          until R0 is measured: LFP 2.90 V says 2.1 to 2.7 % (4.4 %);
 *   rest   the mean cell after rest_time at rest, or the lowest where it
 *          lies under it (at the bottom the mean cell of a pack whose
 *          other cells hold 2 % more lies a % over the weakest: read from
 *          the mean, the simulator's packs had the truth up to 0.37 %
 *          under the band's low side for hours after each empty point),
 *          within 2 CELL_ERR_V plus the polarisation remembered
 *          (REST_DROP_V until R0 is measured).
 * A full, empty, knee or rest point anchors the interval there, within
 * what the band carried to it knew (a point narrows it, never widens it;
 * where the two disagree, the point's); a light-load point lowers its top
 * to the ceiling whenever it is lower.  A chemistry without a curve (LTO)
 * has no band.
 *
 * Since the point.  The truth moves by k times what the count moves,
 * k = the capacity in use over the whole charge in the sensor's Ah:
 *   measured  each capacity sample s was taken between two points whose
 *             truths were known to within their intervals: the whole
 *             charge C lies within s / f, f the sample's share of it
 *             between its points' bounds, widened by what the sensor may
 *             have got wrong over the run (sample_flo, sample_fhi); C lies
 *             in every kept sample's range (where they disagree, in their
 *             hull): more samples, a narrower range; and within the
 *             prior's below, unless the samples contradict it.  A sample
 *             of an older bmsgw's record has the range of a full-to-empty
 *             sample under the configured voltages;
 *   the prior (the label or the BMS's capacity, until measured): an aged
 *             pack holds at least AGE_MIN of it (cycle life is rated to
 *             80 % of the initial capacity: EVE's LF304 datasheet, "end with
 *             the capacity decrease to 80% of the initial capacity",
 *             https://vehiclethermal.com/eve-cell-datasheet/eve-304ah-lifepo4-datasheet;
 *             Victron's LFP batteries, "cycle life (capacity >= 80% of
 *             nominal)", https://victronenergy.com/media/pg/Lithium_Battery_Smart/en/technical-data.html),
 *             a new one at most NEW_MAX (a rated capacity is the least a
 *             new cell delivers: "nominal discharge capacity >= 2,500mAh
 *             which complying to the minimum capacity of IEC61960", Samsung
 *             INR18650-25R, http://www.datasheetcafe.com/inr18650-25r-datasheet-lithium-battery/;
 *             5 % over it is allowed), and the sensor reads within
 *             current_gain_error of the truth.
 * On top, whatever the capacity: the sensor's offset, current_offset_error
 * amps (once an offset is learned, no more than the points' widths over
 * the runs it was learned from), and under current_threshold the
 * threshold too, over the time since the point; EFF_ERR of the charge in
 * for the charge efficiency.  A gap bridged by the BMS's remaining Ah adds
 * current_gain_error of that charge and the offset over the gap; a gap
 * lost, or a restart the BMS cannot bridge, leaves no band until the next
 * point.  The truth never lies outside 0 ... 100 %.  The current between
 * two polls is taken as the trapezoid of the two (soc_step.c): a load
 * switched on and off between polls, unseen, is outside this budget.
 *
 * What it cannot know.  Only two points at different charges measure the
 * capacity: a run from a full point back to a full point, the count
 * agreeing with it (99.x % when the full point came), says what the
 * sensor's offset is (soc.c learns it, and the offset's bound above
 * narrows), never the capacity: a pack of 80 % of its label, fed the same
 * currents, leaves the same count and comes back to full as well, 25 %
 * of the discharge lower in between, and on LFP's plateau no voltage
 * tells the two apart (a cell's reading, its hysteresis and the curve's
 * error span its 1.1 mV a %).  So a pack that never leaves the plateau
 * keeps the prior's range: at a depth d below full the band is about
 * 0.28 d (8 % in the median row of such a month on the simulator), and
 * an aged pack's first deep discharge, before its capacity is measured,
 * reaches about 20 %.
 *
 * Published only while the count is synced (soc.c): an unsynced count
 * started from the BMS's SOC says nothing of its own error.
 */
#include "soc_int.h"

#include <math.h>

#define AGE_MIN 0.80       /* an unmeasured capacity: the pack holds at least this share of it ... */
#define NEW_MAX 1.05       /* ... and at most this */
#define EFF_ERR 0.01       /* the share of the charge in that charge_efficiency may be off by */
#define CELL_ERR_V 0.010   /* V: a cell's hysteresis, its reading's and the curve's error at a point */
#define FULL_DROP_V 0.050  /* V: a full point's mean cell over its open-circuit voltage, at least */
#define EMPTY_DROP_V 0.100 /* V: a loaded lowest cell under its open-circuit voltage until R0 is measured */
#define REST_DROP_V 0.020  /* V: a rested cell's polarisation left until R0 is measured */
#define PIECE_ERR_V 0.030  /* V: the curve's straight pieces against a cell's own curve between the published
                            * points */
#define ROUND_PCT 0.05     /* %: the published count's rounding */
#define STEEP_MV 3.0       /* mV a %: a flatter piece of the curve bounds by its ends (soc_light.c's) */

/* The curve's % at v, a bound from under (up false) or over: on a flat
 * piece (under STEEP_MV a %) its end (NAN: no curve). */
static double curve(const struct conf_soc *c, double v, bool up)
{
	return gw_soc_curve_bound(c->chemistry, v, STEEP_MV, PIECE_ERR_V, up);
}

/* A cell's resistance as the light-load point measured it (soc_light.c's
 * field, read here), ohm; 0 none. */
static double resistance(const struct gw_soc *s)
{
	return s->ir.value > 0 ? s->ir.value : 0;
}

static struct gw_soc_span span(double lo, double hi)
{
	if (!isfinite(lo) || !isfinite(hi))
		return (struct gw_soc_span){ NAN, NAN };
	return (struct gw_soc_span){ fmin(lo, hi), fmax(lo, hi) };
}

struct gw_soc_span gw_soc_span_full(const struct gw_soc *s, const struct conf_soc *c, const struct gw_soc_in *in,
				    double ic)
{
	double v = gw_soc_mean_cell(in), r0 = resistance(s);
	if (!isfinite(v))
		v = in->cell_max_v;
	double drop = FULL_DROP_V;
	if (r0 > 0)
		drop = fmax(drop, 2 * r0 * fmax(ic, 0) + CELL_ERR_V);
	return span(curve(c, v - drop, false), curve(c, v, true) >= 0 ? 100 : NAN);
}

struct gw_soc_span gw_soc_span_low(const struct gw_soc *s, const struct conf_soc *c, const struct gw_soc_in *in,
				   double ic)
{
	double v = in->cell_min_v, r0 = resistance(s);
	double up = r0 > 0 ? r0 * (fmax(-ic, 0) + s->ir.dis_a) + 2 * CELL_ERR_V : EMPTY_DROP_V;
	/* under a discharge a cell reads under its curve; at rest or under a
	 * light charge it may still read over it by its hysteresis and
	 * polarisation */
	double down = ic < 0 ? CELL_ERR_V : 2 * CELL_ERR_V + REST_DROP_V;
	return span(curve(c, v - down, false), curve(c, v + up, true));
}

struct gw_soc_span gw_soc_span_rest(const struct gw_soc *s, const struct conf_soc *c, const struct gw_soc_in *in)
{
	/* the lowest cell where it lies under the mean (the weakest cell's
	 * charge is the pack's) */
	double v = gw_soc_mean_cell(in), r0 = resistance(s);
	if (isfinite(in->cell_min_v) && !(v <= in->cell_min_v))
		v = in->cell_min_v;
	double m = 2 * CELL_ERR_V + (r0 > 0 ? r0 * s->ir.dis_a : REST_DROP_V);
	return span(curve(c, v - m, false), curve(c, v + m, true));
}

/* The widths of a full and an empty point under the configured voltages,
 * as shares: the error of a capacity sample whose points are not known,
 * and of a learned offset (kept for the voltages they were taken for: each
 * is a few walks along the curve, and the offset's is asked at every
 * poll). */
static void point_widths(struct gw_soc *s, const struct conf_soc *c, double *full, double *empty)
{
	struct gw_soc_band *b = &s->band;
	if (!b->widths || b->w_chem != (int)c->chemistry || b->w_full_v != c->full_cell_voltage ||
	    b->w_empty_v != c->empty_cell_voltage) {
		b->widths = true;
		b->w_chem = (int)c->chemistry;
		b->w_full_v = c->full_cell_voltage;
		b->w_empty_v = c->empty_cell_voltage;
		b->w_full = (100 - curve(c, c->full_cell_voltage - FULL_DROP_V, false)) / 100;
		b->w_empty = (curve(c, c->empty_cell_voltage + EMPTY_DROP_V, true) -
			      curve(c, c->empty_cell_voltage - CELL_ERR_V, false)) / 100;
	}
	*full = b->w_full;
	*empty = b->w_empty;
}

/* A bound on the sensor's offset now, A. */
static double offset_bound(struct gw_soc *s, const struct conf_soc *c, double cap)
{
	double o = c->current_offset_error, wf, we;
	if (!(s->offset_w > 0))
		return o;
	point_widths(s, c, &wf, &we);
	double w = (wf > we ? wf : we) * cap * 3600 / s->offset_w;
	return isfinite(w) && w < o ? w : o;
}

/* The range of the whole charge, in the sensor's Ah, the kept samples
 * allow (where they disagree, their hull); false: none measured. */
static bool samples_range(struct gw_soc *s, const struct conf_soc *c, double *lo, double *hi)
{
	unsigned n = s->nsamples < GW_SOC_SAMPLES ? s->nsamples : GW_SOC_SAMPLES;
	double ilo = 0, ihi = INFINITY, hlo = INFINITY, hhi = 0, wf, we;
	if (!c->learn_capacity || !n)
		return false;
	point_widths(s, c, &wf, &we);
	for (unsigned i = 0; i < n; i++) {
		double flo = s->sample_flo[i], fhi = s->sample_fhi[i];
		if (!(flo > 0 && fhi >= flo)) { /* none kept: a full-to-empty sample's */
			flo = 1 - wf - we;
			fhi = 1;
		}
		if (!(flo > 0))
			return false;
		double a = s->sample[i] / fhi, b = s->sample[i] / flo;
		ilo = fmax(ilo, a);
		ihi = fmin(ihi, b);
		hlo = fmin(hlo, a);
		hhi = fmax(hhi, b);
	}
	*lo = ilo <= ihi ? ilo : hlo;
	*hi = ilo <= ihi ? ihi : hhi;
	return *lo > 0;
}

/* The truth's change over the count's, its bounds, at the capacity cap:
 * the whole charge within what the prior allows (an aged or a new pack,
 * the sensor's gain), and within what the samples allow where they say
 * more (where they contradict the prior, they are measured: theirs). */
static void scale(struct gw_soc *s, const struct conf_soc *c, double cap, double *klo, double *khi)
{
	double g = fmin(fmax(c->current_gain_error, 0), 0.5), prior = s->prior_ah > 0 ? s->prior_ah : cap;
	double lo = AGE_MIN * (1 - g) * prior, hi = NEW_MAX * (1 + g) * prior, mlo, mhi;
	if (samples_range(s, c, &mlo, &mhi)) {
		bool meet = mlo <= hi && mhi >= lo;
		lo = meet ? fmax(lo, mlo) : mlo;
		hi = meet ? fmin(hi, mhi) : mhi;
	}
	*klo = cap / hi;
	*khi = cap / lo;
}

void gw_soc_band_anchor(struct gw_soc *s, const struct conf_soc *c, double pct, struct gw_soc_span p, double cap)
{
	struct gw_soc_band *b = &s->band;
	if (!isfinite(p.lo) || !isfinite(p.hi) || !(cap > 0)) {
		b->ok = false;
		return;
	}
	if (b->ok && s->started && s->cap_ah > 0) {
		/* what the band knew until now holds too: the truth within both
		 * (where they disagree, the point's) */
		double was = 100 * s->ah / s->cap_ah, lo, hi;
		gw_soc_band_now(s, was, s->cap_ah, &lo, &hi);
		if (was + lo <= p.hi && was + hi >= p.lo)
			p = (struct gw_soc_span){ fmax(p.lo, was + lo), fmin(p.hi, was + hi) };
	}
	bool widths = b->widths;
	int chem = b->w_chem;
	double fv = b->w_full_v, ev = b->w_empty_v, wf = b->w_full, we = b->w_empty;
	*b = (struct gw_soc_band){ .ok = true, .lo = p.lo - pct, .hi = p.hi - pct, .widths = widths, .w_chem = chem,
				   .w_full_v = fv, .w_empty_v = ev, .w_full = wf, .w_empty = we };
	scale(s, c, cap, &b->klo, &b->khi);
}

/* (plain comparisons: fmin() and fmax() are calls, and this runs at every output) */
void gw_soc_band_now(const struct gw_soc *s, double pct, double cap, double *lo, double *hi)
{
	const struct gw_soc_band *b = &s->band;
	double per = 100 / cap, n = b->net_ah * per, d = b->drift_ah * per;
	double a = (b->klo - 1) * n, z = (b->khi - 1) * n;
	double l = b->lo + (a < z ? a : z) - d, h = b->hi + (a < z ? z : a) + d;
	h = h < 100 - pct ? h : 100 - pct;
	l = l > -pct ? l : -pct;
	*lo = l < h ? l : h;
	*hi = h;
}

/* The interval now becomes the run's start, at the capacity cap (the
 * scale of the capacity in use then). */
static void fold(struct gw_soc *s, const struct conf_soc *c, double pct, double cap_was, double cap)
{
	struct gw_soc_band *b = &s->band;
	gw_soc_band_now(s, pct, cap_was, &b->lo, &b->hi);
	b->net_ah = b->drift_ah = 0;
	scale(s, c, cap, &b->klo, &b->khi);
}

void gw_soc_band_rescaled(struct gw_soc *s, const struct conf_soc *c, double pct, double cap_was, double cap)
{
	if (s->band.ok && cap_was > 0 && cap > 0)
		fold(s, c, pct, cap_was, cap);
}

void gw_soc_band_ceiling(struct gw_soc *s, const struct conf_soc *c, const struct gw_soc_in *in, double ic,
			 double cap)
{
	if (!s->band.ok)
		return;
	double top = gw_soc_span_low(s, c, in, ic).hi, pct = 100 * s->ah / cap, lo, hi;
	if (!isfinite(top))
		return;
	gw_soc_band_now(s, pct, cap, &lo, &hi);
	if (top - pct >= hi)
		return;
	fold(s, c, pct, cap, cap);
	s->band.hi = fmax(top - pct, s->band.lo);
}

void gw_soc_band_moved(struct gw_soc *s, double pct)
{
	s->band.lo += pct;
	s->band.hi += pct;
}

double gw_soc_band_drift(struct gw_soc *s, const struct conf_soc *c, double dt, bool dead, double in_ah,
			 double cap)
{
	double a = offset_bound(s, c, cap) + (dead ? c->current_threshold : 0);
	return a * dt / 3600 + (in_ah > 0 ? EFF_ERR * in_ah : 0);
}

void gw_soc_band_count(struct gw_soc *s, double dq, double drift)
{
	s->band.net_ah += dq;
	s->band.drift_ah += drift;
}

void gw_soc_band_bridge(struct gw_soc *s, const struct conf_soc *c, double d_ah, double gap_s, double cap)
{
	double g = fmin(fmax(c->current_gain_error, 0), 0.5);
	gw_soc_band_count(s, d_ah, g * fabs(d_ah) + gw_soc_band_drift(s, c, gap_s, true, 0, cap));
}

void gw_soc_sample_share(const struct gw_soc_run *run, double from, struct gw_soc_span to, double to_pct,
			 double *flo, double *fhi)
{
	double dc = fabs(from - to_pct), moved = fabs(run->ah);
	*flo = *fhi = 0;
	if (!(run->p_hi > 0) || !isfinite(to.lo) || !isfinite(to.hi) || !(dc > 0) || !(moved > 0))
		return;
	bool down = from > to_pct;
	double lo = down ? run->p_lo - to.hi : to.lo - run->p_hi, hi = down ? run->p_hi - to.lo : to.hi - run->p_lo;
	double w = run->drift_ah / moved;
	*flo = fmax(lo / dc * (1 - w), 0);
	*fhi = hi / dc * (1 + w);
	if (!(*flo > 0 && *fhi <= 10)) /* nothing said (the record keeps a share within 0..10) */
		*flo = *fhi = 0;
}

void gw_soc_band_out(const struct gw_soc *s, double pct, struct gw_soc_out *o)
{
	o->band = o->band_lo = o->band_hi = NAN;
	if (!s->band.ok || !isfinite(pct) || !(s->cap_ah > 0))
		return;
	gw_soc_band_now(s, pct, s->cap_ah, &o->band_lo, &o->band_hi);
	double l = fabs(o->band_lo), h = fabs(o->band_hi);
	o->band = gw_soc_band_round(l > h ? l : h);
}

double gw_soc_band_round(double m)
{
	double x = 10 * (m + ROUND_PCT) - 1e-9;
	if (!(x < 1e15)) /* beyond any band: as it is (and NAN stays NAN) */
		return m;
	double k = (double)(long long)x; /* up to a tenth, as ceil() without its call */
	return (k < x ? k + 1 : k) / 10;
}
