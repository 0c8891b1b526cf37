/* SPDX-License-Identifier: MIT */
/* gateway/engine/bank_strings.c - a string of packs in series, from its members'
 * snapshots (gw_string_aggregate, pure; model/strings_gw.c holds gw's).  The rules are bank_strings.h's; why: no peer
 * aggregates separately managed packs in series correctly
 * (gateway/inverter/PROTOCOLS.md §10): bms-to-inverter averages a series
 * string's voltage over the packs, dbus-aggregate-batteries has no series
 * mode.  In series one current flows through every member, so each
 * measures the same current, the string is empty when its weakest member
 * is, and a member's limit is the string's.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank_strings.h"
#include "cellext.h"

/* Totals while the members are added one by one. */
struct str_acc {
	double volts, amps[CONF_MAX_PACKS], power, soh;
	int nv, ni, nsoh, nmembers_v;
	struct gw_cell_ext cells;      /* the lowest and highest cell, the mean (cellext.h) */
	double soc_min, soc_max;
	int nsoc, nfull;
};

void gw_snapshot_merge_maxima(struct bms_snapshot *s, const struct bms_snapshot *ps)
{
	if (ps->present & BMS_HAS_CYCLES) {
		if (!(s->present & BMS_HAS_CYCLES) || ps->cycles > s->cycles)
			s->cycles = ps->cycles;
		s->present |= BMS_HAS_CYCLES;
	}
	if (ps->present & BMS_HAS_MOS_TEMP) {
		if (!(s->present & BMS_HAS_MOS_TEMP) || ps->mos_temp_c > s->mos_temp_c)
			s->mos_temp_c = ps->mos_temp_c;
		s->present |= BMS_HAS_MOS_TEMP;
	}
	/* a MOSFET reads on only if it is on in every member */
	if (ps->present & BMS_HAS_MOSFETS) {
		bool first = !(s->present & BMS_HAS_MOSFETS);
		s->chg_mos = first ? ps->chg_mos : (s->chg_mos && ps->chg_mos);
		s->dsg_mos = first ? ps->dsg_mos : (s->dsg_mos && ps->dsg_mos);
		s->present |= BMS_HAS_MOSFETS;
	}
}

static void add_state(struct str_acc *a, struct gw_string_state *o, int m, const struct bms_snapshot *ps)
{
	struct bms_snapshot *s = &o->snap;
	if (ps->present & BMS_HAS_VOLTAGE) {
		a->volts += ps->voltage;
		a->nv++;
	}
	a->amps[m] = NAN;
	if (ps->present & BMS_HAS_CURRENT) {
		a->amps[m] = ps->current;
		a->ni++;
	}
	if (ps->present & BMS_HAS_POWER) {
		a->power += ps->power;
		s->present |= BMS_HAS_POWER;
	}
	if (ps->present & BMS_HAS_SOH) {
		a->soh = a->nsoh ? fmin(a->soh, ps->soh) : ps->soh;
		a->nsoh++;
	}
	gw_snapshot_merge_maxima(s, ps);
}

/* The weakest member's SOC and remaining Ah, the smallest full Ah (each
 * member's by the one rule, capacity.h: its snapshot carries them). */
static void add_soc(struct str_acc *a, struct gw_string_state *o, int m, const struct bms_snapshot *ps)
{
	struct bms_snapshot *s = &o->snap;
	if (ps->present & BMS_HAS_SOC) {
		if (!a->nsoc || ps->soc < a->soc_min) {
			a->soc_min = ps->soc;
			o->weakest = (uint8_t)(m + 1);
		}
		if (!a->nsoc || ps->soc > a->soc_max)
			a->soc_max = ps->soc;
		a->nsoc++;
	}
	if (!(ps->present & BMS_HAS_FULL))
		return;
	a->nfull++;
	if (!(s->present & BMS_HAS_FULL) || ps->full_ah < s->full_ah) {
		s->full_ah = ps->full_ah;
		s->present |= BMS_HAS_FULL;
	}
}

/* Every sensor of member m: into the extremes, and into the string's
 * sensors after the members before it (as many as a snapshot holds: the
 * others are in the extremes only). */
static void add_temps(struct gw_string_state *o, int m, const struct bms_snapshot *ps)
{
	if (!(ps->present & BMS_HAS_TEMPS))
		return;
	for (unsigned i = 0; i < ps->ntemps && i < BMS_MAX_TEMPS; i++) {
		float t = ps->temp_c[i];
		struct gw_string_at at = { (uint8_t)(m + 1), (uint8_t)(i + 1), 0 };
		if (!isfinite(t))
			continue;
		if (!o->tmin_at.member || t < o->tmin_c)
			o->tmin_c = t, o->tmin_at = at;
		if (!o->tmax_at.member || t > o->tmax_c)
			o->tmax_c = t, o->tmax_at = at;
		if (o->snap.ntemps < BMS_MAX_TEMPS) {
			o->snap.temp_c[o->snap.ntemps++] = t;
			o->snap.present |= BMS_HAS_TEMPS;
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The common current (the members' mean), and the members that depart
 * from the others: judged against their median, so that one bypassed
 * member among four is the one named (against the mean, its own current
 * would pull the others away too). */
static void find_current(const struct str_acc *a, int n, double max_dev, struct gw_string_state *o)
{
	if (a->ni == 0)
		return;
	double sum = 0, v[CONF_MAX_PACKS];
	int k = 0;
	for (int m = 0; m < n; m++)
		if (isfinite(a->amps[m])) {
			sum += a->amps[m];
			v[k++] = a->amps[m];
		}
	qsort(v, (size_t)k, sizeof(v[0]), cmp_double);
	double med = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
	o->snap.current = (float)(sum / a->ni);
	o->snap.present |= BMS_HAS_CURRENT;
	o->deviation_limit = max_dev;
	for (int m = 0; m < n; m++) {
		if (!isfinite(a->amps[m]))
			continue;
		double d = fabs(a->amps[m] - med);
		if (d > o->current_deviation)
			o->current_deviation = d;
		if (d > max_dev) {
			o->current_flag = true;
			o->deviation_mask |= 1u << (m & 31);
		}
	}
}

/* The cells' extremes, numbered in their member and in the string (none
 * there for a member's BMS's own extremes: the members' count is then
 * unknown, and so is the mean), once every member is in. */
static void finish_cells(const struct gw_cell_ext *e, struct gw_string_state *o)
{
	if (e->have) {
		o->cell_min_mv = e->lo.mv;
		o->cell_min_at = (struct gw_string_at){ e->lo.member, e->lo.cell, e->lo.pos };
		o->cell_max_mv = e->hi.mv;
		o->cell_max_at = (struct gw_string_at){ e->hi.member, e->hi.cell, e->hi.pos };
	}
	o->cell_ext = e->bms_only;
	o->cells = e->listed;
	if (e->n && !o->cell_ext)
		o->cell_avg_mv = (uint16_t)((e->sum + e->n / 2) / e->n);
}

/* The sums and the weakest member once every member is in. */
static void finish(const struct str_acc *a, const struct bms_snapshot *const fresh[], int n,
		   struct gw_string_state *o)
{
	struct bms_snapshot *s = &o->snap;
	s->present |= BMS_HAS_ALARMS;
	s->alarms = o->alarms;
	if (a->nv == n) {              /* a sum needs every member's voltage */
		s->voltage = (float)a->volts;
		s->present |= BMS_HAS_VOLTAGE;
	}
	if (s->present & BMS_HAS_POWER)
		s->power = (float)a->power;
	if (a->nsoh) {
		s->soh = (float)a->soh;
		s->present |= BMS_HAS_SOH;
	}
	if (a->nfull != n) {           /* the smallest needs every member's */
		s->full_ah = 0;
		s->present &= ~(uint32_t)BMS_HAS_FULL;
	}
	if (o->weakest) {
		const struct bms_snapshot *w = fresh[o->weakest - 1];
		s->soc = w->soc;
		s->present |= BMS_HAS_SOC;
		if (w->present & BMS_HAS_REMAIN) {
			s->remain_ah = w->remain_ah;
			s->present |= BMS_HAS_REMAIN;
		}
		o->soc_spread = a->soc_max - a->soc_min;
	}
	finish_cells(&a->cells, o);
}

void gw_string_aggregate(const struct bms_snapshot *const fresh[], int n, bool stale, double max_dev,
			 double state_threshold, struct gw_string_state *out)
{
	struct str_acc a = { 0 };
	memset(out, 0, sizeof(*out));
	if (n > CONF_MAX_PACKS)
		n = CONF_MAX_PACKS;
	out->n = n;
	out->stale = stale;
	for (int i = 0; i < BMS_MAX_TEMPS; i++)
		out->snap.temp_c[i] = NAN;   /* a member without a sensor reads absent */
	for (int m = 0; m < n; m++)
		if (fresh[m])
			out->fresh_members++;
	out->fresh = n > 0 && out->fresh_members == n;
	if (!out->fresh)
		return;
	for (int m = 0; m < n; m++) {
		const struct bms_snapshot *ps = fresh[m];
		uint32_t protect, warn;
		gw_limits_snap_levels(ps, &protect, &warn);
		out->alarms |= ps->alarms;
		out->protect |= protect;
		out->warn |= warn;
		add_state(&a, out, m, ps);
		add_soc(&a, out, m, ps);
		add_temps(out, m, ps);
		gw_cell_ext_add(&a.cells, (uint8_t)(m + 1), ps); /* numbered on from the members before it */
	}
	find_current(&a, n, max_dev, out);
	finish(&a, fresh, n, out);
	bms_snapshot_derive(&out->snap);
	bms_snapshot_state(&out->snap, (float)state_threshold);
}
