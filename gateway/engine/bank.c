/* SPDX-License-Identifier: MIT */
/* gateway/engine/bank.c - the bank unit: one virtual pack aggregating the fresh
 * packs of a parallel bank, computed from the packs' last complete snapshots
 * (so it is never fresher or staler than they are), pure: snapshots in,
 * aggregate out (bank.h).  model/bankstate.c computes the daemon's from
 * its packs and keeps it for every reader.
 *
 *   voltage   mean of the fresh packs          current, power   sum
 *   SOC, remaining, full capacity   the one rule of banksoc.h (sum of
 *             the remaining over the sum of the full Ah), which
 *             gw_bank_soc_apply adds: not the aggregate's
 *   (a unit that gives no current, an active balancer beside a BMS, adds
 *   none and is not waited for)
 *   SOH   mean    cycles   max    MOS temperature   max
 *   temperature sensor n   average temperature of bank pack n (n <= 8)
 *   MOSFETs   on only if on in every fresh pack     alarms   OR of all
 *             (and of their protections and warnings, kept apart)
 *   coldest / hottest sensor of every fresh pack, with its pack
 *   cells     min / max / mean across every cell of every fresh pack,
 *             with the pack (bank position) and cell number; a pack
 *             without a cell list adds its BMS's own highest and lowest
 *             cell (and the mean is absent: not every cell's)
 *   deviation a fresh pack whose voltage departs from the median of the
 *             other fresh packs by more than max_deviation (needs 2 packs)
 *   missing   a pack of the bank that is not fresh, a balancer unit aside
 *             (model/bankstate.c): the failure flag's missing pack
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bank.h"
#include "cellext.h"

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? -1 : x > y;
}

/* Median of v[0..n) without v[skip] (-1: all of them). */
static float median_without(const float *v, int n, int skip)
{
	float t[CONF_MAX_PACKS];
	int m = 0;
	for (int i = 0; i < n; i++)
		if (i != skip)
			t[m++] = v[i];
	qsort(t, (size_t)m, sizeof(t[0]), cmp_float);
	return m % 2 ? t[m / 2] : (t[m / 2 - 1] + t[m / 2]) / 2;
}

/* Running totals while the fresh packs are added one by one. */
struct bank_acc {
	float volts[CONF_MAX_PACKS];    /* voltages of the fresh packs that give one ... */
	int vpos[CONF_MAX_PACKS];       /* ... and their positions in the bank */
	int nv;
	double soh_sum;
	int n_soh;
	bool tset[BMS_MAX_TEMPS];       /* temperature n = bank pack n was set */
	struct gw_cell_ext cells;       /* the lowest and highest cell, the mean (cellext.h) */
};

/* Sums, maxima, the MOSFET rule and temperature n of pack k. */
static void add_values(struct bank_acc *a, struct bms_snapshot *s, int k, const struct bms_snapshot *ps)
{
	if (ps->present & BMS_HAS_VOLTAGE) {
		a->volts[a->nv] = ps->voltage;
		a->vpos[a->nv++] = k;
	}
	if (ps->present & BMS_HAS_CURRENT) {
		s->current += ps->current;
		s->present |= BMS_HAS_CURRENT;
	}
	if (ps->present & BMS_HAS_POWER) {
		s->power += ps->power;
		s->present |= BMS_HAS_POWER;
	}
	if (ps->present & BMS_HAS_SOH) {
		a->soh_sum += ps->soh;
		a->n_soh++;
	}
	gw_snapshot_merge_maxima(s, ps);
	/* temperature sensor k = the average of bank pack k's sensors */
	if ((ps->present & BMS_HAS_TEMPS) && ps->ntemps > 0 && k < BMS_MAX_TEMPS) {
		double t = 0;
		int m = 0;
		for (unsigned i = 0; i < ps->ntemps && i < BMS_MAX_TEMPS; i++)
			if (isfinite(ps->temp_c[i])) {
				t += ps->temp_c[i];
				m++;
			}
		if (m) {
			s->temp_c[k] = (float)(t / m);
			a->tset[k] = true;
		}
	}
}

/* Every sensor of pack k into the bank's coldest and hottest. */
static void add_temps(struct gw_bank_state *out, int k, const struct bms_snapshot *ps)
{
	if (!(ps->present & BMS_HAS_TEMPS))
		return;
	for (unsigned i = 0; i < ps->ntemps && i < BMS_MAX_TEMPS; i++) {
		float t = ps->temp_c[i];
		struct gw_temp_at at = { t, (uint8_t)(k + 1), (uint8_t)(i + 1) };
		if (!isfinite(t))
			continue;
		if (!out->tmin.pack || t < out->tmin.c)
			out->tmin = at;
		if (!out->tmax.pack || t > out->tmax.c)
			out->tmax = at;
	}
}

/* The cells' extremes (with their pack and cell) and their mean, once
 * every fresh pack was added. */
static void finish_cells(const struct gw_cell_ext *e, struct reg_bank *b)
{
	b->have_cells = e->have;
	b->no_avg = e->bms_only; /* a pack without a cell list: not every cell's */
	if (e->have) {
		b->min_mv = e->lo.mv, b->min_pack = e->lo.member, b->min_cell = e->lo.cell;
		b->max_mv = e->hi.mv, b->max_pack = e->hi.member, b->max_cell = e->hi.cell;
	}
	if (e->n)
		b->avg_mv = (uint16_t)((e->sum + e->n / 2) / e->n);
}

/* Means and weighted values, once every fresh pack was added. */
static void finish_values(const struct bank_acc *a, struct gw_bank_state *out)
{
	struct bms_snapshot *s = &out->snap;
	s->present |= BMS_HAS_ALARMS;
	s->alarms = out->alarms;
	if (a->nv) {
		double v = 0;
		for (int i = 0; i < a->nv; i++)
			v += a->volts[i];
		s->voltage = (float)(v / a->nv);
		s->present |= BMS_HAS_VOLTAGE;
	}
	if (a->n_soh) {
		s->soh = (float)(a->soh_sum / a->n_soh);
		s->present |= BMS_HAS_SOH;
	}
	/* sensor n = bank pack n; packs without a temperature read absent (NaN) */
	unsigned last = 0;
	for (unsigned k = 0; k < BMS_MAX_TEMPS; k++)
		if (a->tset[k])
			last = k + 1;
	for (unsigned k = 0; k < last; k++)
		if (!a->tset[k])
			s->temp_c[k] = NAN;
	if (last) {
		s->ntemps = (uint8_t)last;
		s->present |= BMS_HAS_TEMPS;
	}
	finish_cells(&a->cells, &out->rb);
}

/* A pack that left a parallel bank sits at another voltage than the
 * median of the others (needs two packs with a voltage). */
static void find_deviation(const struct bank_acc *a, double max_deviation, struct reg_bank *b)
{
	for (int i = 0; a->nv >= 2 && i < a->nv; i++) {
		float med = median_without(a->volts, a->nv, i);
		if (fabsf(a->volts[i] - med) > (float)max_deviation) {
			b->deviation = true;
			b->deviation_mask |= 1u << (a->vpos[i] & 31);
		}
	}
}

void gw_bank_aggregate(const struct bms_snapshot *const fresh[], int n, double max_deviation,
		       double state_threshold, struct gw_bank_state *out)
{
	struct bank_acc a = { 0 };
	memset(out, 0, sizeof(*out));
	if (n > CONF_MAX_PACKS)
		n = CONF_MAX_PACKS;
	out->configured = (uint16_t)n;
	for (int k = 0; k < n; k++) {
		const struct bms_snapshot *ps = fresh[k];
		if (!ps)
			continue;
		out->online++;
		out->online_mask |= 1u << (k & 31);
		uint32_t protect, warn;
		gw_limits_snap_levels(ps, &protect, &warn);
		out->alarms |= ps->alarms;
		out->protect |= protect;
		out->warn |= warn;
		add_values(&a, &out->snap, k, ps);
		add_temps(out, k, ps);
		gw_cell_ext_add(&a.cells, (uint8_t)(k + 1), ps); /* its BMS's own extremes where it has no cell list */
	}
	if (out->online == 0)
		return;
	finish_values(&a, out);
	find_deviation(&a, max_deviation, &out->rb);
	bms_snapshot_derive(&out->snap);
	bms_snapshot_state(&out->snap, (float)state_threshold);
}

/* The SOC and capacities of the one rule (banksoc.h) into the bank's
 * snapshot: the SOC carried (the counted one with [soc] source = counted
 * once every fresh member's count is synced, else the BMSs'), the BMSs'
 * remaining and full capacity. */
void gw_bank_soc_apply(struct gw_bank_state *out)
{
	struct bms_snapshot *s = &out->snap;
	const struct gw_bank_soc *b = &out->soc;
	s->present &= ~(uint32_t)(BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_FULL);
	s->soc = 0;
	s->remain_ah = s->full_ah = 0;
	if (isfinite(b->counted.soc)) {
		s->soc = (float)fmin(fmax(b->counted.soc, 0), 100);
		s->present |= BMS_HAS_SOC;
	}
	if (isfinite(b->full_ah) && isfinite(b->remain_ah)) {
		s->remain_ah = (float)b->remain_ah;
		s->full_ah = (float)b->full_ah;
		s->present |= BMS_HAS_REMAIN | BMS_HAS_FULL;
	}
}

/* ---- a bank of strings (bank_strings.h): the strings are its members ---- */

/* Bank pack position (1-based) of string s's member m (1-based). */
static uint8_t bank_pos(const struct conf_bank *cb, int s, int m)
{
	return (uint8_t)(cb->string_first[s] + m);
}

/* The coldest and hottest sensor and the cells' extremes of the strings,
 * each with its bank pack and that pack's cell or sensor. */
static void strings_extremes(const struct conf_bank *cb, const struct gw_string_state *ss, struct gw_bank_state *out)
{
	uint32_t sum = 0, n = 0;
	memset(&out->tmin, 0, sizeof(out->tmin));
	memset(&out->tmax, 0, sizeof(out->tmax));
	for (int s = 0; s < cb->nstrings; s++) {
		const struct gw_string_state *t = &ss[s];
		if (!t->fresh)
			continue;
		if (t->tmin_at.member && (!out->tmin.pack || t->tmin_c < out->tmin.c))
			out->tmin = (struct gw_temp_at){ t->tmin_c, bank_pos(cb, s, t->tmin_at.member), t->tmin_at.index };
		if (t->tmax_at.member && (!out->tmax.pack || t->tmax_c > out->tmax.c))
			out->tmax = (struct gw_temp_at){ t->tmax_c, bank_pos(cb, s, t->tmax_at.member), t->tmax_at.index };
		if (!t->cell_min_at.member)
			continue;
		struct reg_bank *b = &out->rb;
		if (!b->have_cells || t->cell_min_mv < b->min_mv) {
			b->min_mv = t->cell_min_mv;
			b->min_pack = bank_pos(cb, s, t->cell_min_at.member);
			b->min_cell = t->cell_min_at.index;
		}
		if (!b->have_cells || t->cell_max_mv > b->max_mv) {
			b->max_mv = t->cell_max_mv;
			b->max_pack = bank_pos(cb, s, t->cell_max_at.member);
			b->max_cell = t->cell_max_at.index;
		}
		b->have_cells = true;
		b->no_avg = b->no_avg || t->cell_ext;
		sum += (uint32_t)t->cell_avg_mv * t->cells;
		n += t->cells;
	}
	if (n)
		out->rb.avg_mv = (uint16_t)((sum + n / 2) / n);
}

/* The voltage the strings' median; the SOC the sum of their remaining Ah
 * over the sum of their full Ah (each string's the weakest member's), else
 * their mean SOC without capacities; the bank carries no count of its own
 * (each member's count is its pack's). */
static void strings_soc(const struct conf_bank *cb, const struct gw_string_state *ss, struct gw_bank_state *out)
{
	float v[CONF_MAX_PACKS];
	int nv = 0, nsoc = 0;
	bool caps = true;
	double r = 0, f = 0, soc = 0;
	for (int s = 0; s < cb->nstrings; s++) {
		const struct bms_snapshot *t = &ss[s].snap;
		if (!ss[s].fresh)
			continue;
		if (t->present & BMS_HAS_VOLTAGE)
			v[nv++] = t->voltage;
		caps = caps && (t->present & (BMS_HAS_REMAIN | BMS_HAS_FULL)) == (BMS_HAS_REMAIN | BMS_HAS_FULL);
		r += t->remain_ah;
		f += t->full_ah;
		if (t->present & BMS_HAS_SOC) {
			soc += t->soc;
			nsoc++;
		}
	}
	if (nv)
		out->snap.voltage = median_without(v, nv, -1);
	struct gw_bank_soc *b = &out->soc;
	memset(b, 0, sizeof(*b));
	b->soc_bms = b->remain_ah = b->full_ah = NAN;
	b->counted.soc = b->counted.soc_bms = b->counted.soc_counted = NAN;
	b->counted.remaining_ah = b->counted.capacity_ah = NAN;
	b->counted.since_full_s = -1;
	if (caps && f > 0) {
		b->remain_ah = r;
		b->full_ah = f;
		b->soc_bms = b->counted.soc = b->counted.soc_bms = r * 100.0 / f;
		b->counted.capacity_ah = f;
	} else if (nsoc) {
		b->soc_bms = b->counted.soc = b->counted.soc_bms = soc / nsoc;
	}
}

/* A string departing from the others' voltage: every member of it. */
static uint32_t strings_dev_mask(const struct conf_bank *cb, uint32_t by_string)
{
	uint32_t mask = 0;
	for (int s = 0; s < cb->nstrings; s++)
		if (by_string & (1u << (s & 31)))
			for (int m = 0; m < cb->string_len[s]; m++)
				mask |= 1u << ((cb->string_first[s] + m) & 31);
	return mask;
}

void gw_bank_of_strings(const struct conf_bank *cb, const struct gw_string_state *ss, const bool online[],
			double state_threshold, struct gw_bank_state *out)
{
	const struct bms_snapshot *fresh[CONF_MAX_PACKS] = { 0 };
	for (int s = 0; s < cb->nstrings; s++)
		fresh[s] = ss[s].fresh ? &ss[s].snap : NULL;
	gw_bank_aggregate(fresh, cb->nstrings, cb->max_deviation, state_threshold, out);
	bool any = out->online > 0;
	out->rb.deviation_mask = strings_dev_mask(cb, out->rb.deviation_mask);
	out->online = 0;
	out->online_mask = 0;
	out->configured = (uint16_t)cb->npacks;
	for (int k = 0; k < cb->npacks && k < CONF_MAX_PACKS; k++) {
		if (online[k]) {
			out->online_mask |= 1u << (k & 31);
			if (any)
				out->online++;
		} else {
			out->missing++;
			out->missing_mask |= 1u << (k & 31);
		}
	}
	if (!any)
		return;
	strings_extremes(cb, ss, out);
	strings_soc(cb, ss, out);
	gw_bank_soc_apply(out);
}
