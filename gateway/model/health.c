/* SPDX-License-Identifier: MIT */
/* gateway/model/health.c - the internal resistance of each cell and of the
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
}

static int cmp_f(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? -1 : x > y;
}

static float median(float *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_f);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bool gw_ir_value(const struct gw_ir_est *e, float *mohm)
{
	float v[GW_IR_WINDOW], d[GW_IR_WINDOW];
	int n = e->n;
	if (n < GW_IR_MIN_SAMPLES)
		return false;
	memcpy(v, e->r, sizeof(v[0]) * (size_t)n);
	float med = median(v, n);
	for (int i = 0; i < n; i++)
		d[i] = fabsf(v[i] - med);
	float mad = median(d, n);
	int k = 0;
	for (int i = 0; i < n; i++)
		if (fabsf(v[i] - med) <= 3 * mad)
			v[k++] = v[i];
	*mohm = k ? median(v, k) : med;
	return true;
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
