/* SPDX-License-Identifier: MIT */
/* gateway/engine/health.c - the cell-health estimator of one pack
 * (health.h): each good poll's step feeds the resistances (health_ir.c:
 * a current step between two polls close together), the knees, and the
 * day's figures; the output names the weak cell and the imbalance over days.
 *
 * A cell with less capacity than the others reaches full first and empty
 * first; a cell only out of balance (a state-of-charge offset) reaches one
 * end first and the other last.  So the weak cell is the one that leads
 * into both knees most often, counted once per knee (the first cell over
 * knee_high_mv while charging, under knee_low_mv while discharging), each
 * cell's voltage less I x its resistance once that is known (a cell of high
 * resistance leads under load without lacking any capacity).  How
 * far it leads is measured, not guessed: the charge that flows from its
 * crossing until the median cell reaches the same voltage.  With F the
 * charge each cell takes to full and E the charge it gives to empty (F + E
 * = its capacity), the lead at full is F_median - F_weak and at empty
 * E_median - E_weak: their sum is the capacity the weak cell lacks, whatever
 * its balance.  A knee that ends before the median cell catches up (the BMS
 * or the inverter cut the current at the weak cell's limit) gives no lead,
 * but a bound: the lead was at least the most charge that flowed in that
 * knee.  A cell short by a few per cent of a pack balanced at the top is
 * cut off at empty before the median cell reaches the empty knee, every
 * time: its deficit is then shown as "at least" the largest such bound
 * (with the other end's measured lead, or 0 where it tied), never as a
 * measured figure.
 *
 * The median has caught up within GW_KNEE_MEET_MV (2 mV) of the voltage
 * the first cell crossed at: level cells read a millivolt apart (the BMS's
 * resolution, the I x R taken off each), and a charge that stops at the
 * knee (the BMS, the charger) would else leave such a knee unmeasured.
 * A lead under GW_KNEE_TIE of the capacity (0.25 %) is a tie: the cells
 * reached that knee together, and the knee is no evidence against the cell
 * that crossed first (it is taken off its count).  A top-balanced pack (the
 * BMS balances at the top, the usual case) is full all at once: its full
 * knee is led by whichever cell is a millivolt ahead, by a few hundredths
 * of an ampere-hour, while the low-capacity cell leads only at empty.
 * bmsgw-sim's battery model (a top-balanced pack with one cell 5 % short,
 * tests/integration/test_health_model.py) had the cell of the most capacity
 * named weak after three days of such knees before this rule.  So the
 * deficit of a cell that never led at one end where that end's knees were
 * ties takes 0 there: the cells are level at that end.
 *
 * The spread (highest - lowest cell) at full and after rest_s at rest,
 * kept per day with the pack's resistance: their trends tell an imbalance
 * that grows, and a resistance that rises, from one that does not.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"

static uint16_t median_mv(const struct bms_snapshot *s)
{
	uint16_t v[BMS_MAX_CELLS];
	unsigned n = s->ncells < BMS_MAX_CELLS ? s->ncells : BMS_MAX_CELLS;
	memcpy(v, s->cell_mv, sizeof(v[0]) * n);
	for (unsigned i = 1; i < n; i++) /* insertion sort: at most 192 cells, 18,000 steps */
		for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint16_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n % 2 ? v[n / 2] : (uint16_t)((v[n / 2 - 1] + v[n / 2]) / 2);
}

static void extremes(const struct bms_snapshot *s, int *lo, int *hi)
{
	*lo = *hi = 0;
	for (unsigned c = 1; c < s->ncells && c < BMS_MAX_CELLS; c++) {
		if (s->cell_mv[c] < s->cell_mv[*lo])
			*lo = (int)c;
		if (s->cell_mv[c] > s->cell_mv[*hi])
			*hi = (int)c;
	}
}

/* One knee: entered by the leading cell crossing `at`; its lead measured
 * once the median comes within GW_KNEE_MEET_MV of the same voltage
 * (*lead_ah); left `hyst` back, unmeasured: the most charge it took
 * (*cut_ah).  sign +1 for the full knee (voltages rising), -1 for the empty
 * one; ah the charge of this poll in the knee's direction. */
static bool knee_step(struct gw_knee *k, int sign, int lead, uint16_t lead_mv, uint16_t med, uint16_t at,
		      uint16_t hyst, bool moving, double ah, float *lead_ah, float *cut_ah)
{
	bool entered = false;
	int d_lead = sign * ((int)lead_mv - (int)at), d_med = sign * ((int)med - (int)k->cross_mv);
	if (!k->in) {
		if (d_lead >= 0 && moving) {
			*k = (struct gw_knee){ true, false, (uint8_t)lead, lead_mv, 0, 0 };
			entered = true;
		}
		return entered;
	}
	if (d_lead < -(int)hyst) {
		k->in = false;
		if (!k->measured)
			*cut_ah = (float)k->peak_ah;
		return false;
	}
	k->ah += ah;
	if (k->ah > k->peak_ah)
		k->peak_ah = k->ah;
	if (!k->measured && d_med >= -GW_KNEE_MEET_MV) {
		k->measured = true;
		*lead_ah = (float)k->ah;
	}
	return false;
}

/* The cells' voltages less I x R where their resistance is known: a cell
 * of high resistance reads high while charging and low while discharging,
 * which is no lead of its charge. */
static void compensate(const struct gw_health *h, const struct bms_snapshot *s, struct bms_snapshot *c)
{
	c->ncells = s->ncells;
	for (unsigned i = 0; i < s->ncells && i < BMS_MAX_CELLS; i++) {
		float r;
		double mv = s->cell_mv[i];
		if (gw_ir_value(&h->cell[i], &r))
			mv -= (double)s->current * r;
		c->cell_mv[i] = (uint16_t)(mv < 0 ? 0 : mv > 65535 ? 65535 : mv + 0.5);
	}
}

/* A knee's lead measured: a lead of the cell that crossed first, or a tie
 * (the knee taken off its count). */
static void took_lead(const struct gw_health_params *p, uint8_t cell, float lead, uint16_t *knees, float *sum,
		      uint16_t *count, uint16_t *ties)
{
	if (p->capacity_ah > 0 && lead < GW_KNEE_TIE * p->capacity_ah) {
		if (knees[cell])
			knees[cell]--;
		if (*ties < UINT16_MAX)
			(*ties)++;
		return;
	}
	sum[cell] += lead;
	if (count[cell] < UINT16_MAX)
		count[cell]++;
}

/* A poll dt seconds after the previous one with as many cells: the knees. */
static void health_knees(struct gw_health *h, const struct gw_health_params *p, const struct bms_snapshot *raw,
			 double dt)
{
	struct bms_snapshot cs;
	compensate(h, raw, &cs);
	cs.current = raw->current;
	const struct bms_snapshot *s = &cs;
	int lo, hi;
	extremes(s, &lo, &hi);
	uint16_t med = median_mv(s);
	double ah = (double)s->current * (dt > 0 && dt < 60 ? dt : 0) / 3600.0;
	float lead = NAN, cut = NAN;
	if (knee_step(&h->hi, 1, hi, s->cell_mv[hi], med, p->knee_high_mv, p->knee_hyst_mv, s->current > 0, ah,
		      &lead, &cut)) {
		h->knees_high[hi]++;
		h->knees++;
	}
	if (isfinite(lead))
		took_lead(p, h->hi.cell, lead, h->knees_high, h->lead_high_ah, h->leads_high, &h->ties_high);
	if (cut > h->cut_high_ah[h->hi.cell])
		h->cut_high_ah[h->hi.cell] = cut;
	lead = cut = NAN;
	if (knee_step(&h->lo, -1, lo, s->cell_mv[lo], med, p->knee_low_mv, p->knee_hyst_mv, s->current < 0, -ah,
		      &lead, &cut)) {
		h->knees_low[lo]++;
		h->knees++;
	}
	if (isfinite(lead))
		took_lead(p, h->lo.cell, lead, h->knees_low, h->lead_low_ah, h->leads_low, &h->ties_low);
	if (cut > h->cut_low_ah[h->lo.cell])
		h->cut_low_ah[h->lo.cell] = cut;
}

static struct gw_health_day *day_slot(struct gw_health *h, int32_t day)
{
	struct gw_health_day *d = &h->days[((day % GW_HEALTH_DAYS) + GW_HEALTH_DAYS) % GW_HEALTH_DAYS];
	if (d->day != day)
		*d = (struct gw_health_day){ .day = day };
	return d;
}

/* A poll with cells on local day `day`: the day's spreads and resistance. */
static void health_days(struct gw_health *h, const struct gw_health_params *p, const struct bms_snapshot *s,
			double now, int32_t day)
{
	int lo, hi;
	extremes(s, &lo, &hi);
	uint16_t spread = (uint16_t)(s->cell_mv[hi] - s->cell_mv[lo]);
	struct gw_health_day *d = day_slot(h, day);
	if (s->cell_mv[hi] >= p->knee_high_mv && spread > d->spread_full_mv)
		d->spread_full_mv = spread;
	if (fabs(s->current) < p->rest_a) {
		if (h->rest_since < 0)
			h->rest_since = now;
		if (now - h->rest_since >= p->rest_s)
			d->spread_rest_mv = spread;
	} else {
		h->rest_since = -1;
	}
	float ir;
	if (gw_ir_value(&h->pack, &ir))
		d->ir_mohm = ir;
}

/* A cell's mean lead at one end: its measured leads, else 0 where that
 * end's knees were ties (the cells level there), else unknown (NAN). */
static double end_lead(float sum, uint16_t count, uint16_t ties)
{
	return count ? sum / count : ties ? 0 : NAN;
}

/* The weak cell (o->cell_ir_mohm already set). */
static void health_weak(const struct gw_health *h, const struct gw_health_params *p, struct gw_health_out *o)
{
	int best = -1, second = 0;
	for (int c = 0; c < h->ncells; c++) {
		int n = h->knees_high[c] + h->knees_low[c];
		if (best < 0 || n > h->knees_high[best] + h->knees_low[best]) {
			if (best >= 0)
				second = h->knees_high[best] + h->knees_low[best];
			best = c;
		} else if (n > second) {
			second = n;
		}
	}
	o->weak_deficit_pct = o->weak_deficit_min_pct = NAN;
	if (best < 0)
		return;
	int n = h->knees_high[best] + h->knees_low[best];
	if (n < GW_WEAK_MIN_KNEES || n == second)
		return;                 /* not three knees, or another cell leads as often */
	o->weak = true;
	o->weak_cell = (uint8_t)(best + 1);
	o->weak_knees_high = h->knees_high[best];
	o->weak_knees_low = h->knees_low[best];
	if (p->capacity_ah <= 0)
		return;
	double hi = end_lead(h->lead_high_ah[best], h->leads_high[best], h->ties_high);
	double lo = end_lead(h->lead_low_ah[best], h->leads_low[best], h->ties_low);
	double d = hi + lo;
	if ((h->leads_high[best] || h->leads_low[best]) && isfinite(d)) {
		o->weak_deficit_pct = (float)(d * 100.0 / p->capacity_ah);
		return;
	}
	/* an end never measured but cut before the median caught up: at least
	 * that end's largest cut, with the other end's lead (or tie) */
	double bh = h->leads_high[best] ? hi : h->cut_high_ah[best] >= GW_KNEE_TIE * p->capacity_ah ?
		    h->cut_high_ah[best] : hi;
	double bl = h->leads_low[best] ? lo : h->cut_low_ah[best] >= GW_KNEE_TIE * p->capacity_ah ?
		    h->cut_low_ah[best] : lo;
	if (isfinite(bh + bl) && bh + bl > 0)
		o->weak_deficit_min_pct = (float)((bh + bl) * 100.0 / p->capacity_ah);
}

/* Least squares slope of y over x (mV per day), NAN under 3 points. */
static float slope(const double *x, const double *y, int n)
{
	if (n < 3)
		return NAN;
	double mx = 0, my = 0, sxx = 0, sxy = 0;
	for (int i = 0; i < n; i++)
		mx += x[i], my += y[i];
	mx /= n;
	my /= n;
	for (int i = 0; i < n; i++) {
		sxx += (x[i] - mx) * (x[i] - mx);
		sxy += (x[i] - mx) * (y[i] - my);
	}
	return sxx > 0 ? (float)(sxy / sxx) : NAN;
}

/* The spreads' and the resistance's trends over the days kept. */
static void health_trends(const struct gw_health *h, int32_t today, struct gw_health_out *o)
{
	double xf[GW_HEALTH_DAYS], yf[GW_HEALTH_DAYS], xr[GW_HEALTH_DAYS], yr[GW_HEALTH_DAYS];
	int nf = 0, nr = 0;
	int32_t last_f = 0, last_r = 0, old_day = 0;
	o->ir_30d_mohm = o->ir_rise_pct = NAN;
	for (int i = 0; i < GW_HEALTH_DAYS; i++) {
		const struct gw_health_day *d = &h->days[i];
		if (!d->day || d->day > today || today - d->day >= GW_HEALTH_DAYS)
			continue;
		if (d->spread_full_mv) {
			xf[nf] = d->day, yf[nf++] = d->spread_full_mv;
			if (d->day > last_f)
				last_f = d->day, o->spread_full_mv = d->spread_full_mv;
		}
		if (d->spread_rest_mv) {
			xr[nr] = d->day, yr[nr++] = d->spread_rest_mv;
			if (d->day > last_r)
				last_r = d->day, o->spread_rest_mv = d->spread_rest_mv;
		}
		/* 30 days ago: the oldest day kept of 25..30 days ago */
		if (d->ir_mohm > 0 && today - d->day >= 25 && (!old_day || d->day < old_day)) {
			old_day = d->day;
			o->ir_30d_mohm = d->ir_mohm;
		}
	}
	o->spread_full_trend = slope(xf, yf, nf);
	o->spread_rest_trend = slope(xr, yr, nr);
	if (isfinite(o->ir_30d_mohm) && isfinite(o->ir_mohm))
		o->ir_rise_pct = (o->ir_mohm - o->ir_30d_mohm) * 100.0f / o->ir_30d_mohm;
}

void gw_health_init(struct gw_health *h)
{
	memset(h, 0, sizeof(*h));
	h->rest_since = -1;
}

/* A current step between the previous poll and this one: a sample of each
 * cell and of the pack. */
static void sample_ir(struct gw_health *h, const struct gw_health_params *p, const struct bms_snapshot *s,
		      double now)
{
	double di = (double)s->current - h->i_prev;
	if (now - h->t_prev > p->max_gap_s || fabs(di) < p->min_step_a || p->min_step_a <= 0)
		return;
	if ((s->present & BMS_HAS_CELLS) && s->ncells == h->ncells)
		for (unsigned c = 0; c < s->ncells && c < BMS_MAX_CELLS; c++)
			gw_ir_add(&h->cell[c], (float)(((double)s->cell_mv[c] - h->mv_prev[c]) / di));
	if ((s->present & BMS_HAS_VOLTAGE) && h->v_prev_ok)
		gw_ir_add(&h->pack, (float)(((double)s->voltage - h->v_prev) * 1000.0 / di));
}

void gw_health_step(struct gw_health *h, const struct gw_health_params *p, const struct bms_snapshot *s,
		    double now, int32_t day)
{
	if (!(s->present & BMS_HAS_CURRENT))
		return;                 /* neither a resistance nor a charge without a current */
	bool cells = (s->present & BMS_HAS_CELLS) && s->ncells > 0;
	if (h->have_prev) {
		sample_ir(h, p, s, now);
		if (cells && s->ncells == h->ncells)
			health_knees(h, p, s, now - h->t_prev);
	}
	if (cells)
		health_days(h, p, s, now, day);
	h->have_prev = true;
	h->t_prev = now;
	h->i_prev = s->current;
	h->v_prev = s->voltage;
	h->v_prev_ok = (s->present & BMS_HAS_VOLTAGE) != 0;
	h->ncells = cells ? (uint8_t)(s->ncells < BMS_MAX_CELLS ? s->ncells : BMS_MAX_CELLS) : 0;
	if (cells)
		memcpy(h->mv_prev, s->cell_mv, sizeof(h->mv_prev[0]) * h->ncells);
}

/* The rank of cell c by resistance (1 = the highest), 0 unknown. */
static uint8_t ir_rank(const struct gw_health_out *o, int c)
{
	if (!isfinite(o->cell_ir_mohm[c]))
		return 0;
	int rank = 1;
	for (int i = 0; i < o->ncells; i++)
		if (i != c && isfinite(o->cell_ir_mohm[i]) && o->cell_ir_mohm[i] > o->cell_ir_mohm[c])
			rank++;
	return (uint8_t)rank;
}

void gw_health_output(const struct gw_health *h, const struct gw_health_params *p, int32_t today,
		      struct gw_health_out *o)
{
	memset(o, 0, sizeof(*o));
	o->ncells = h->ncells;
	for (int c = 0; c < BMS_MAX_CELLS; c++) {
		o->cell_ir_mohm[c] = NAN;
		if (c < h->ncells && !gw_ir_value(&h->cell[c], &o->cell_ir_mohm[c]))
			o->cell_ir_mohm[c] = NAN;
		o->cell_ir_samples[c] = h->cell[c].samples;
	}
	o->ir_mohm = NAN;
	if (!gw_ir_value(&h->pack, &o->ir_mohm))
		o->ir_mohm = NAN;
	o->ir_samples = h->pack.samples;
	o->knees = h->knees;
	health_weak(h, p, o);
	if (o->weak)
		o->weak_ir_rank = ir_rank(o, o->weak_cell - 1);
	health_trends(h, today, o);
}
