/* SPDX-License-Identifier: MIT */
/* gateway/engine/health_ir.c - the running estimate of an internal
 * resistance (health_ir.h): each cell's and the pack's, for the cell-health
 * estimator (health.c), which gives it its samples.
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
#include <string.h>

#include "health_ir.h"

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
