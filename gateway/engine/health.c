/* SPDX-License-Identifier: MIT */
/* gateway/engine/health.c - the internal resistance of each cell and of the
 * pack (health.h), and the step that feeds every estimator.
 *
 * A cell's voltage is its open-circuit voltage plus I x R.  Between two
 * polls close together (max_gap_s, 2 s: the open-circuit voltage barely
 * moves) a current step dI changes each cell's voltage by dI x R, so
 * R = dV / dI.  Only a step of at least min_step_a counts (ir_min_step x
 * the rated capacity: 0.1 C), so that the BMS's voltage resolution (1 mV)
 * is a small part of dV; a sample that is no resistance (<= 0, or over
 * 1 Ohm: a cell read between two measurements of another) is rejected and
 * counted.  A BMS measures its cells at another moment than its current,
 * and some filter their readings: single samples scatter; the estimate is
 * the median of the last 32, leaving out those further than three median
 * absolute deviations from it, as OpenDTU-OnBattery's ΔV/ΔI estimate
 * (hoylabs/OpenDTU-OnBattery PR #1466) does without the outlier rule.
 * The pack's resistance from its own voltage the same way (its cells, its
 * busbars and its MOSFETs).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "health_int.h"

#define IR_MAX_MOHM 1000.0f     /* more: not a resistance of a cell or a pack */

/* The median of sorted v[lo..hi). */
static float median_sorted(const float *v, int lo, int hi)
{
	int n = hi - lo, m = lo + n / 2;
	return n % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/* The median of the window with the samples further than 3 MADs out left
 * out; false under GW_IR_MIN_SAMPLES.  One sort (insertion: at most 32
 * values): the deviations from the median come sorted by merging both
 * sides of it, and the samples kept are a run of the sorted window. */
static bool estimate(const struct gw_ir_est *e, float *mohm)
{
	float v[GW_IR_WINDOW], d[GW_IR_WINDOW];
	int n = e->n;
	if (n < GW_IR_MIN_SAMPLES)
		return false;
	memcpy(v, e->r, sizeof(v[0]) * (size_t)n);
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			float t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	float med = median_sorted(v, 0, n);
	int l = n / 2 - 1, r = n / 2;           /* walking out from the middle */
	for (int k = 0; k < n; k++)
		d[k] = (r >= n || (l >= 0 && med - v[l] <= v[r] - med)) ? med - v[l--] : v[r++] - med;
	float mad = median_sorted(d, 0, n), lim = 3 * mad;
	int lo = 0, hi = n;
	while (lo < n && med - v[lo] > lim)
		lo++;
	while (hi > lo && v[hi - 1] - med > lim)
		hi--;
	*mohm = hi > lo ? median_sorted(v, lo, hi) : med;
	return true;
}

void gw_ir_add(struct gw_ir_est *e, float mohm)
{
	if (!(mohm > 0 && mohm <= IR_MAX_MOHM)) {
		e->rejected++;
		return;
	}
	e->r[e->next] = mohm;
	e->next = (uint8_t)((e->next + 1) % GW_IR_WINDOW);
	if (e->n < GW_IR_WINDOW)
		e->n++;
	e->samples++;
	e->have_value = estimate(e, &e->value);
}

bool gw_ir_value(const struct gw_ir_est *e, float *mohm)
{
	if (e->have_value)
		*mohm = e->value;
	return e->have_value;
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
			gw_health__knees(h, p, s, now - h->t_prev);
	}
	if (cells)
		gw_health__days(h, p, s, now, day);
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
	gw_health__weak(h, p, o);
	if (o->weak)
		o->weak_ir_rank = ir_rank(o, o->weak_cell - 1);
	gw_health__trends(h, today, o);
}
