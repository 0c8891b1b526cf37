/* SPDX-License-Identifier: MIT */
/* gateway/alerts/observe.c - the conditions of [alerts.NAME] judged on the
 * model once a second, for every pack and the bank, each through its state
 * machine (cond.c); what they say becomes a message in the destination's
 * queue (send.c).
 *
 * What each condition reads (bmsgw.ini(5) "[alerts.NAME]"):
 *   alarm      a fresh pack's alarm bits the BMS raised (their names); the
 *              bank's are its packs' and are told by them
 *   stale      a pack's data stale (gw_pack_stale_at); the bank: every
 *              pack of it stale
 *   soc_below  a fresh unit's SOC under N % (true until N + 1 %)
 *   imbalance  a fresh pack's cell spread (highest - lowest cell), the
 *              bank's across its fresh packs, above imbalance_mv for
 *              imbalance_hold (and under it that long to clear)
 *   weak_cell, ir_rise  the facts the cell-health estimator states
 *              (model/healthfacts.h): unknown, never true, until it does
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../core/clock.h"
#include "../model/bankstate.h"
#include "../model/gw.h"
#include "alerts_int.h"

/* What one condition of one unit is now. */
struct al_obs {
	bool known, truth;
	char detail[160];
};

/* What a unit shows for its conditions: a pack's snapshot, or the bank's. */
struct al_view {
	const char *name;
	bool fresh;                    /* its data judged (a pack fresh, the bank with a fresh pack) */
	bool stale;
	double age;                    /* s since its last good poll, < 0 = never one */
	const struct bms_snapshot *snap;
	const struct reg_bank *rb;     /* the bank's cells across packs, NULL for a pack */
	const struct gw_health_facts *health;
};

static void obs_alarm(const struct al_view *v, struct al_obs *o)
{
	o->known = v->fresh && !v->rb && (v->snap->present & BMS_HAS_ALARMS);
	uint32_t al = o->known ? bms_own_alarms(v->snap) : 0;
	o->truth = al != 0;
	size_t n = 0;
	for (unsigned b = 0; al && b < 32 && n < sizeof(o->detail); b++)
		if (al & 1u << b) {
			const char *w = bms_alarm_name(b);
			int r = snprintf(o->detail + n, sizeof(o->detail) - n, "%s%s", n ? ", " : "", w ? w : "?");
			n += r > 0 ? (size_t)r : 0;
		}
}

static void obs_stale(const struct al_view *v, struct al_obs *o)
{
	o->known = true;
	o->truth = v->stale;
	if (v->age >= 0)
		snprintf(o->detail, sizeof(o->detail), "no good poll for %.0f s", v->age);
	else
		snprintf(o->detail, sizeof(o->detail), "never read");
}

static void obs_soc(const struct al_view *v, const struct conf_alerts *c, bool on, struct al_obs *o)
{
	o->known = v->fresh && (v->snap->present & BMS_HAS_SOC) && isfinite(v->snap->soc);
	double limit = c->on.soc_below + (on ? 1.0 : 0.0); /* 1 % of hysteresis to clear */
	o->truth = o->known && v->snap->soc < limit;
	snprintf(o->detail, sizeof(o->detail), "SOC %.1f %% (alert below %g %%)", v->snap->soc, c->on.soc_below);
}

/* A pack's lowest and highest listed cell (0-based; -1: none), the empty
 * slots passed over; the BMS's own extremes beside a list that is not every
 * cell (ubms-can's modules in parallel) where they lie beyond (-2: a cell
 * not listed). */
static void pack_spread(const struct bms_snapshot *s, int *lo, int *hi, int *lo_mv, int *hi_mv)
{
	*lo = *hi = -1;
	for (int i = 0; i < s->ncells && i < BMS_MAX_CELLS; i++) {
		int mv = s->cell_mv[i];
		if (!mv)
			continue;
		if (*lo < 0 || mv < *lo_mv)
			*lo = i, *lo_mv = mv;
		if (*hi < 0 || mv > *hi_mv)
			*hi = i, *hi_mv = mv;
	}
	if (*lo < 0 || !(s->present & BMS_HAS_CELL_EXT) || !s->ext_min_mv || s->ext_min_mv > s->ext_max_mv)
		return;
	if (s->ext_min_mv < *lo_mv)
		*lo = -2, *lo_mv = s->ext_min_mv;
	if (s->ext_max_mv > *hi_mv)
		*hi = -2, *hi_mv = s->ext_max_mv;
}

/* "cell N" of a listed cell, else the BMS's own extreme */
static const char *cell_name(char *buf, size_t n, int i, const char *extreme)
{
	if (i >= 0)
		snprintf(buf, n, "cell %d", i + 1);
	else
		snprintf(buf, n, "the BMS's %s cell", extreme);
	return buf;
}

static void obs_imbalance(const struct al_view *v, const struct conf_alerts *c, struct al_obs *o)
{
	int lo = -1, hi = -1, lo_mv = 0, hi_mv = 0;
	if (v->rb && v->rb->have_cells) {
		lo_mv = v->rb->min_mv;
		hi_mv = v->rb->max_mv;
		lo = hi = 0;
	} else if (!v->rb && (v->snap->present & BMS_HAS_CELLS)) {
		pack_spread(v->snap, &lo, &hi, &lo_mv, &hi_mv);
	}
	o->known = v->fresh && lo != -1 && hi != -1 && (v->rb || v->snap->ncells >= 2);
	o->truth = o->known && hi_mv - lo_mv > c->imbalance_mv;
	char a[32], b[32];
	if (v->rb)
		snprintf(o->detail, sizeof(o->detail), "cell spread %d mV across the packs (%d..%d mV; alert above "
			 "%d mV)", hi_mv - lo_mv, lo_mv, hi_mv, c->imbalance_mv);
	else
		snprintf(o->detail, sizeof(o->detail), "cell spread %d mV (%s %d mV, %s %d mV; alert above %d mV)",
			 hi_mv - lo_mv, cell_name(a, sizeof(a), hi, "highest"), hi_mv,
			 cell_name(b, sizeof(b), lo, "lowest"), lo_mv, c->imbalance_mv);
}

static void obs_health(const struct al_view *v, const struct conf_alerts *c, int cond, struct al_obs *o)
{
	const struct gw_health_facts *h = v->health;
	if (cond == CONF_AL_WEAK_CELL) {
		o->known = h->known;
		o->truth = h->known && h->weak_cell > 0;
		snprintf(o->detail, sizeof(o->detail), "cell %d named weak by the cell-health estimator", h->weak_cell);
		return;
	}
	o->known = h->known && isfinite(h->ir_rise_pct);
	o->truth = o->known && h->ir_rise_pct >= c->on.ir_rise;
	snprintf(o->detail, sizeof(o->detail), "internal resistance up %.0f %% (alert at %g %%)", h->ir_rise_pct,
		 c->on.ir_rise);
}

static void observe_one(const struct al_view *v, const struct conf_alerts *c, int cond, bool on, struct al_obs *o)
{
	memset(o, 0, sizeof(*o));
	switch (cond) {
	case CONF_AL_ALARM: obs_alarm(v, o); break;
	case CONF_AL_STALE: obs_stale(v, o); break;
	case CONF_AL_SOC_BELOW: obs_soc(v, c, on, o); break;
	case CONF_AL_IMBALANCE: obs_imbalance(v, c, o); break;
	default: obs_health(v, c, cond, o); break;
	}
}

/* "2026-11-26 02:40:05 UTC" of now. */
static void utc_text(char *buf, size_t cap)
{
	time_t t = (time_t)gw_wall();
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static void tell(struct al_dest *d, struct al_unit *u, int cond, enum al_event ev, const struct al_obs *o)
{
	struct al_msg m = { .urgent = ev != AL_EV_CLEAR, .cleared = ev == AL_EV_CLEAR };
	const char *w = gw_alert_words[cond];
	char when[40];
	utc_text(when, sizeof(when));
	if (ev != AL_EV_CLEAR)
		snprintf(u->detail[cond], sizeof(u->detail[cond]), "%s", o->detail);
	snprintf(m.title, sizeof(m.title), "bmsgw: %s on %s%s", w, u->name, ev == AL_EV_CLEAR ? " cleared" : "");
	if (ev == AL_EV_CLEAR)
		snprintf(m.body, sizeof(m.body), "cleared: %s on %s (it was: %s)\nat %s\n", w, u->name, u->detail[cond],
			 when);
	else
		snprintf(m.body, sizeof(m.body), "%s%s on %s: %s\nat %s\n", ev == AL_EV_REPEAT ? "still true: " : "", w,
			 u->name, o->detail, when);
	al_dest_queue(d, &m);
}

static struct al_unit *unit_named(struct al_dest *d, const char *name)
{
	for (int i = 0; i < d->nunits; i++)
		if (strcmp(d->units[i].name, name) == 0)
			return &d->units[i];
	if (d->nunits >= (int)(sizeof(d->units) / sizeof(d->units[0])))
		return NULL;
	struct al_unit *u = &d->units[d->nunits++];
	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", name);
	for (int c = 0; c < CONF_AL_NCOND; c++)
		al_cond_init(&u->cond[c]);
	return u;
}

static void judge(struct al_dest *d, const struct al_view *v, double now)
{
	const struct conf_alerts *c = &d->cfg;
	struct al_unit *u = unit_named(d, v->name);
	if (!u)
		return;
	u->used = true;
	for (int cond = 0; cond < CONF_AL_NCOND; cond++) {
		if (!(c->on.bits & 1u << cond) || (cond == CONF_AL_ALARM && v->rb))
			continue;
		struct al_obs o;
		observe_one(v, c, cond, u->cond[cond].on, &o);
		double hold = cond == CONF_AL_IMBALANCE ? c->imbalance_hold : 0;
		enum al_event ev = al_cond_step(&u->cond[cond], o.known, o.truth, now, hold, c->repeat);
		if (ev != AL_EV_NONE)
			tell(d, u, cond, ev, &o);
	}
}

/* The bank's view: its cells across its fresh packs, stale when every pack
 * of it is. */
static void judge_bank(struct al_dest *d, struct gw *gw, double now)
{
	const struct gw_bank_state *bs = &gw_bank_at(gw, now)->bank;
	bool any = false, all_stale = true;
	for (int i = 0; i < gw->npacks; i++) {
		const struct gw_pack *p = gw->packs[i];
		if (!gw_pack_in_bank(gw, p))
			continue;
		any = true;
		all_stale = all_stale && gw_pack_stale_at(gw, p, now);
	}
	struct al_view v = { .name = "bank", .fresh = bs->online > 0, .stale = any && all_stale, .age = -1,
			     .snap = &bs->snap, .rb = &bs->rb, .health = &gw->bank_health };
	judge(d, &v, now);
}

void al_observe(struct al_dest *d, double now)
{
	struct gw *gw = d->gw;
	for (int i = 0; i < d->nunits; i++)
		d->units[i].used = false;
	for (int i = 0; i < gw->npacks; i++) {
		const struct gw_pack *p = gw->packs[i];
		struct al_view v = { .name = p->cfg->name, .fresh = gw_pack_online_at(gw, p, now),
				     .stale = gw_pack_stale_at(gw, p, now), .age = p->have_data ? now - p->last_good : -1,
				     .snap = &p->snap, .health = &p->health };
		judge(d, &v, now);
	}
	if (gw->conf->bank.enabled)
		judge_bank(d, gw, now);
	/* units gone at a reload: forgotten */
	int k = 0;
	for (int i = 0; i < d->nunits; i++)
		if (d->units[i].used)
			d->units[k++] = d->units[i];
	d->nunits = k;
}
