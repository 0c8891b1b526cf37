/* SPDX-License-Identifier: MIT */
/* gateway/model/charge.c - the charge and discharge limits of every pack
 * and of the bank, kept current: the engine (pack_limits.c, bank_limits.c)
 * stepped at every good poll and once a second, a stale pack fail-safe
 * within the second and the bank stepped the moment one of its members goes
 * stale (a timer, so that no output serves a member gone for up to a
 * second as the bank's), a change of mode, of a reason, of a bank member's
 * freshness or of limit_exceeded logged once; and each unit's runtime
 * charge settings (engine/settings.h): written here, their leases and ends
 * run out here, each change and expiry logged with who made it, kept in
 * the state file (records "set NAME ..." and "setbank ...").
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/log.h"
#include "../core/util.h"
#include "bankstate.h"
#include "gw.h"
#include "statefile.h"
#include "strings_gw.h"

/* A day's worth of seconds: the last full charge is saved this finely. */
#define FULL_SAVE_S 3600

/* The engine's memory of a pack, and of the bank: nobody else's. */
struct gw_charge_pack {
	struct gw_lim_state st;
	struct gw_settings set;        /* its runtime settings */
};
struct gw_charge_bank {
	struct gw_lim_bank_state st;   /* the bank's limits rise slowly too */
	bool known;                    /* computed at least once (for the change log) */
	struct gw_settings set;        /* the bank's runtime settings */
	struct gw *gw;
	ev_timer stale;                /* a bank member's going stale (stale_cb) */
};

static const struct gw_set_bounds no_bounds = { .max_charge_a = 0 };

struct gw_charge_pack *gw_charge_pack_new(void)
{
	struct gw_charge_pack *m = calloc(1, sizeof(*m));
	if (m) {
		gw_limits_init(&m->st);
		gw_settings_init(&m->set, &no_bounds); /* the configuration's by gw_charge_reset() */
	}
	return m;
}

void gw_charge_pack_free(struct gw_charge_pack *m)
{
	free(m);
}

static void stale_cb(struct ev_loop *loop, ev_timer *w, int revents);

struct gw_charge_bank *gw_charge_bank_new(struct gw *gw)
{
	struct gw_charge_bank *m = calloc(1, sizeof(*m));
	if (m) {
		gw_limits_bank_init(&m->st);
		gw_settings_init(&m->set, &no_bounds);
		m->gw = gw;
		ev_timer_init(&m->stale, stale_cb, 0., 0.);
	}
	return m;
}

void gw_charge_bank_free(struct gw_charge_bank *m)
{
	if (m && m->gw->loop)
		ev_timer_stop(m->gw->loop, &m->stale);
	free(m);
}

static void log_change(const char *who, const struct gw_limits *l, unsigned changed, bool first)
{
	if (!(changed & GW_LIM_CHANGED_WORDS))
		return;
	gw_info("%s: charge limits%s: mode %s, CVL %.2f V, CCL %.1f A (%s), DCL %.1f A (%s)", who,
		first ? "" : " now", gw_limits_mode_name(l->mode), l->cvl_v, l->ccl_a,
		gw_limits_reason_name(l->ccl_reason), l->dcl_a, gw_limits_reason_name(l->dcl_reason));
}

/* limit_exceeded raised or cleared, max_bulk_time fired: once each. */
static void log_events(const char *who, const struct gw_limits *l, unsigned changed, double amps, double secs)
{
	if ((changed & GW_LIM_CHANGED_EXCEEDED) && l->exceeded != GW_LIM_EXC_NONE)
		gw_warn("%s: the current (%.1f A) has been beyond its %s limit (%.1f A) for %g s: the inverter does "
			"not follow the limits (limits.exceeded = %s)", who, amps, gw_limits_exceeded_name(l->exceeded),
			l->exceeded == GW_LIM_EXC_CHARGE ? l->ccl_a : l->dcl_a, secs,
			gw_limits_exceeded_name(l->exceeded));
	else if (changed & GW_LIM_CHANGED_EXCEEDED)
		gw_info("%s: the current is within its limits again (limits.exceeded cleared)", who);
	if (changed & GW_LIM_EVENT_BULK_TIME)
		gw_warn("%s: max_bulk_time (%g s) at the target without absorbing (cells never close enough): float",
			who, secs);
}

/* A pack's own current ratings, else [limits]'. */
static struct gw_lim_rating rating(const struct conf_limits *cfg, const struct conf_pack *c)
{
	return (struct gw_lim_rating){ c->max_charge_current > 0 ? c->max_charge_current : cfg->max_charge_current,
				       c->max_discharge_current > 0 ? c->max_discharge_current
								    : cfg->max_discharge_current,
				       c->cells };
}

/* What ended of a unit's settings (a lease, a force charge's end): logged
 * with who had set it. */
static void expire(struct gw *gw, const char *unit, struct gw_settings *set, double now, int64_t wall, double soc)
{
	struct gw_settings was = *set;
	unsigned fell = gw_settings_expire(set, now, wall, soc, gw->conf->limits.force_charge_soc + 2);
	for (int i = 0; i < GW_SET_COUNT; i++) {
		if (!(fell & (1u << i)))
			continue;
		if (i == GW_SET_FORCE)
			gw_info("%s: force_charge set by %s ended (%s): off", unit, gw_settings_origin_name(was.origin[i]),
				was.v[GW_SET_FORCE_UNTIL] ? "its end passed" : "the SOC reached force_charge_soc + 2 %");
		else
			gw_info("%s: %s %.1f A set by %s: its lease of %lu s ran out: none", unit,
				gw_settings_name((enum gw_set_id)i), was.v[i] / 10.0, gw_settings_origin_name(was.origin[i]),
				(unsigned long)was.v[GW_SET_CAP_LEASE]);
	}
	if (fell & (1u << GW_SET_FORCE))
		gw_statefile_changed(gw);
}

/* Pack p's cells may not be held to [limits]' cell rules: they do not fit
 * its chemistry (engine/chemfit.h), or its chemistry is not [limits]' (the
 * one cell table every pack is held to; conf/warnings.c says so). */
static bool unfit(const struct gw *gw, const struct gw_pack *p)
{
	return gw_chemfit_doubt(&p->chem) || p->cfg->soc.chemistry != gw->conf->limits.chemistry;
}

static void step_pack(struct gw *gw, struct gw_pack *p, double now, int64_t wall)
{
	const struct conf_limits *cfg = &gw->conf->limits;
	bool fresh = p->have_data && gw_pack_online_at(gw, p, now);
	bool first = !p->charge->st.have_prev;
	int64_t full = p->charge->st.last_full_wall;
	struct gw_lim_rating r = rating(cfg, p->cfg);
	char who[CONF_NAME_MAX + 8];
	snprintf(who, sizeof(who), "pack %s", p->cfg->name);
	double soc = fresh && (p->snap.present & BMS_HAS_SOC) ? p->snap.soc : NAN;
	expire(gw, who, &p->charge->set, now, wall, soc);
	/* cells that do not fit the pack's chemistry, or the chemistry not
	 * [limits]': fail-safe, never another chemistry's cell rules */
	unsigned changed = fresh && unfit(gw, p)
				   ? gw_limits_step_unfit(cfg, now, &p->charge->st, &p->lim)
				   : gw_limits_step_set(cfg, &r, &p->charge->set, fresh ? &p->snap : NULL, now, wall,
							&p->charge->st, &p->lim);
	log_change(who, &p->lim, changed, first);
	log_events(who, &p->lim, changed, p->snap.current,
		   (changed & GW_LIM_EVENT_BULK_TIME) ? cfg->max_bulk_time : cfg->limit_exceeded);
	if (llabs(p->charge->st.last_full_wall - full) >= FULL_SAVE_S || (full == 0 && p->charge->st.last_full_wall))
		gw_statefile_changed(gw);
}

/* Its capacity for bank_rule = weighted: its full capacity by the one rule
 * (capacity.h: its BMS's, else its configured one, else remaining / SOC),
 * which its snapshot carries; 0 unknown. */
static double capacity(const struct gw_pack *p)
{
	const struct bms_snapshot *s = &p->snap;
	return (s->present & BMS_HAS_FULL) && s->full_ah > 0 ? s->full_ah : 0;
}

static void log_members(const struct gw *gw, double now, bool was)
{
	const struct conf_bank *b = &gw->conf->bank;
	bool block = gw->conf->limits.bank_stale == CONF_BANK_STALE_BLOCK;
	if (gw->bank_lim.member_stale == was)
		return;
	if (!was) {
		for (int k = 0; k < b->npacks; k++) {
			const struct gw_pack *p = gw->packs[b->pack_idx[k]];
			if (!gw_pack_stale_at(gw, p, now) || gw_pack_is_balancer(p))
				continue;
			int s = 0;
			while (s + 1 < b->nstrings && k >= b->string_first[s + 1])
				s++;
			if (b->nstrings)
				gw_warn("bank: pack %s is stale but still in string%d: the string is fail-safe; %s "
					"(bank_stale = %s); a communication warning goes to every inverter", p->cfg->name,
					s + 1, block ? "the bank is fail-safe" : "the bank's CVL held at float voltage",
					block ? "block" : "degrade");
			else
				gw_warn("bank: pack %s is stale but still on the DC bus: %s (bank_stale = %s); a "
					"communication warning goes to every inverter", p->cfg->name,
					block ? "the bank is fail-safe" : "its CVL held at float voltage",
					block ? "block" : "degrade");
		}
	} else {
		gw_info("bank: every pack fresh again: the stale-member %s ends", block ? "fail-safe" : "float cap");
	}
}

/* A string's limits from its members' (bank_strings.h), and the string as a
 * member of the bank: its ratings the smallest member's, its capacity the
 * smallest full; a member that is not online makes the string fail-safe
 * and leaves it out of the bank's currents. */
static struct gw_lim_member step_string(struct gw *gw, int s, double now)
{
	const struct conf_bank *b = &gw->conf->bank;
	const struct conf_limits *cfg = &gw->conf->limits;
	const struct gw_limits *lim[CONF_MAX_PACKS];
	struct gw_lim_member sm = { NULL, false, { 0, 0, 0 }, 0 };
	bool fresh = true;
	for (int m = 0; m < b->string_len[s]; m++) {
		const struct gw_pack *p = gw->packs[gw_string_member(gw, s, m)];
		struct gw_lim_rating r = rating(cfg, p->cfg);
		lim[m] = &p->lim;
		fresh = fresh && gw_pack_online_at(gw, p, now);
		sm.stale = sm.stale || gw_pack_stale_at(gw, p, now);
		if (m == 0 || r.charge_a < sm.rating.charge_a)
			sm.rating.charge_a = r.charge_a;
		if (m == 0 || r.discharge_a < sm.rating.discharge_a)
			sm.rating.discharge_a = r.discharge_a;
		double c = fresh ? capacity(p) : 0;
		if (m == 0 || c < sm.capacity_ah)
			sm.capacity_ah = c;
	}
	gw_limits_string(lim, b->string_len[s], fresh, &gw->string_lim[s], NULL, NULL);
	sm.lim = fresh ? &gw->string_lim[s] : NULL;
	return sm;
}

/* The bank's members: its packs, or its strings ([bank] strings). */
static int bank_members(struct gw *gw, double now, struct gw_lim_member *m)
{
	const struct conf_bank *b = &gw->conf->bank;
	const struct conf_limits *cfg = &gw->conf->limits;
	if (b->nstrings) {
		for (int s = 0; s < b->nstrings; s++)
			m[s] = step_string(gw, s, now);
		return b->nstrings;
	}
	for (int k = 0; k < b->npacks; k++) {
		const struct gw_pack *p = gw->packs[b->pack_idx[k]];
		bool online = gw_pack_online_at(gw, p, now);
		/* a unit whose protocol measures no current (an active balancer
		 * beside a BMS) carries none of the bank's current: it has no
		 * share of its limits, and its going stale is no pack leaving
		 * the DC bus */
		if (gw_pack_is_balancer(p)) {
			m[k] = (struct gw_lim_member){ NULL, false, { 0, 0, 0 }, 0 };
			continue;
		}
		m[k] = (struct gw_lim_member){ online ? &p->lim : NULL, gw_pack_stale_at(gw, p, now), rating(cfg, p->cfg),
					       online ? capacity(p) : 0 };
	}
	return b->npacks;
}

/* A fresh pack of the bank that is unfit() (its cells do not fit its
 * chemistry, or that is not [limits]'): the bank's target is fail-safe,
 * reasons chemistry.  The packs share the DC bus and [limits]' one cell
 * table: the others' limits would charge that pack's cells on another
 * chemistry's rules. */
static void unfit_member(const struct gw *gw, double now, struct gw_limits *o)
{
	const struct conf_bank *b = &gw->conf->bank;
	if (!o->enabled)
		return;
	for (int k = 0; k < b->npacks; k++) {
		const struct gw_pack *p = gw->packs[b->pack_idx[k]];
		if (gw_pack_online_at(gw, p, now) && unfit(gw, p)) {
			*o = (struct gw_limits){ .enabled = true, .member_stale = o->member_stale, .failsafe = true,
						 .mode = GW_LIM_FAILSAFE, .ccl_reason = GW_LR_CHEMISTRY,
						 .dcl_reason = GW_LR_CHEMISTRY };
			return;
		}
	}
}

/* The bank from its members' results: a member not online (stale, or not
 * read yet: its limits were never computed) is left out, as a fail-safe
 * one. */
static void step_bank(struct gw *gw, double now, int64_t wall)
{
	if (!gw->conf->bank.enabled)
		return;
	const struct conf_limits *cfg = &gw->conf->limits;
	struct gw_lim_member m[CONF_MAX_PACKS];
	int n = bank_members(gw, now, m);
	const struct bms_snapshot *s = &gw_bank_at(gw, now)->bank.snap;
	struct gw_lim_bank_in in = { m, n, (s->present & BMS_HAS_VOLTAGE) != 0,
				     (s->present & BMS_HAS_CURRENT) != 0, (s->present & BMS_HAS_SOC) != 0,
				     s->voltage, s->current, s->soc };
	struct gw_limits prev = gw->bank_lim;
	expire(gw, "bank", &gw->charge->set, now, wall, in.have_soc ? in.soc : NAN);
	gw_limits_bank(cfg, &in, &gw->bank_lim, NULL);
	unfit_member(gw, now, &gw->bank_lim);
	gw_limits_bank_settings(&gw->charge->set, &in, wall, &gw->charge->st, &gw->bank_lim);
	unsigned ev = gw_limits_bank_follow(cfg, &gw->charge->st, &in, now, &gw->bank_lim);
	unsigned ch = gw->charge->known ? gw_limits_changes(&prev, &gw->bank_lim) : GW_LIM_CHANGED_WORDS;
	log_change("bank", &gw->bank_lim, ch, !gw->charge->known);
	log_events("bank", &gw->bank_lim, ev, s->current, cfg->limit_exceeded);
	log_members(gw, now, gw->charge->known && prev.member_stale);
	gw->charge->known = true;
}

static void watch_stale(struct gw *gw, double now);

void gw_charge_polled(struct gw *gw, struct gw_pack *p)
{
	if (!gw->conf->limits.enabled)
		return;
	double now = gw_mono();
	int64_t wall = (int64_t)gw_wall();
	step_pack(gw, p, now, wall);
	if (gw_pack_feeds_bank(gw, p)) {
		step_bank(gw, now, wall);
		watch_stale(gw, now); /* its freshness runs from now */
	}
}

void gw_charge_tick(struct gw *gw, double now)
{
	if (!gw->conf->limits.enabled)
		return;
	int64_t wall = (int64_t)gw_wall();
	for (int i = 0; i < gw->npacks; i++)
		step_pack(gw, gw->packs[i], now, wall);
	step_bank(gw, now, wall);
	watch_stale(gw, now);
}

/* The bank's step at the moment the first of its members goes stale: its
 * limits then leave that member out (bank_stale = degrade: its share of
 * the currents, the CVL at float; block: fail-safe) before any output
 * reads them, not at the next tick. */
static void watch_stale(struct gw *gw, double now)
{
	struct gw_charge_bank *m = gw->charge;
	if (!gw->loop || !m)
		return;
	ev_timer_stop(gw->loop, &m->stale);
	double at = gw->conf->limits.enabled ? gw_bank_next_stale(gw, now) : INFINITY;
	if (!isfinite(at))
		return;
	/* stale once past stale_after (gw_pack_online_at): just after it */
	ev_timer_set(&m->stale, fmax(at - now, 0.) + GW_CHARGE_STALE_SLACK, 0.);
	ev_timer_start(gw->loop, &m->stale);
}

void gw_charge_stale_step(struct gw *gw, double now)
{
	if (gw->conf->limits.enabled)
		step_bank(gw, now, (int64_t)gw_wall());
	watch_stale(gw, now);
}

static void stale_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_charge_bank *m = container_of(w, struct gw_charge_bank, stale);
	gw_charge_stale_step(m->gw, gw_mono());
}

/* ---- runtime settings ---- */

/* What a unit's settings may not go beyond: a pack's ratings; the bank's,
 * the sum of its packs' (no bank_rule allows more). */
static struct gw_set_bounds pack_bounds(const struct gw *gw, const struct gw_pack *p)
{
	const struct conf_limits *cfg = &gw->conf->limits;
	struct gw_lim_rating r = rating(cfg, p->cfg);
	return (struct gw_set_bounds){ .max_charge_a = r.charge_a, .max_discharge_a = r.discharge_a,
				       .full_charge_days = cfg->full_charge_days };
}

static struct gw_set_bounds bank_bounds(const struct gw *gw)
{
	const struct conf_bank *b = &gw->conf->bank;
	struct gw_set_bounds sb = { .full_charge_days = gw->conf->limits.full_charge_days };
	for (int k = 0; k < b->npacks; k++) {
		struct gw_set_bounds pb = pack_bounds(gw, gw->packs[b->pack_idx[k]]);
		sb.max_charge_a += pb.max_charge_a;
		sb.max_discharge_a += pb.max_discharge_a;
	}
	return sb;
}

/* The peers of a unit's SOC window (settings.h): a pack of the bank has
 * the bank's, the bank has its packs'.  buf holds CONF_MAX_PACKS. */
static void add_peers(const struct gw *gw, const struct gw_pack *p, struct gw_set_bounds *sb,
		      const struct gw_settings **buf)
{
	const struct conf_bank *b = &gw->conf->bank;
	sb->peers = buf;
	sb->npeers = 0;
	if (!b->enabled)
		return;
	if (p) {
		if (gw_pack_in_bank(gw, p))
			buf[sb->npeers++] = &gw->charge->set;
		return;
	}
	for (int k = 0; k < b->npacks && k < CONF_MAX_PACKS; k++)
		buf[sb->npeers++] = &gw->packs[b->pack_idx[k]]->charge->set;
}

static void log_fell(const char *unit, unsigned fell)
{
	for (int i = 0; i < GW_SET_COUNT; i++)
		if (fell & (1u << i))
			gw_warn("%s: %s: not allowed by the configuration now in force: back to the configuration's",
				unit, gw_settings_name((enum gw_set_id)i));
}

/* The start and a reload: the configuration's values, and runtime ones it
 * no longer allows fall back. */
static void settings_reconfigure(struct gw *gw)
{
	char who[CONF_NAME_MAX + 8];
	const struct gw_settings *peers[CONF_MAX_PACKS];
	for (int i = 0; i < gw->npacks; i++) {
		struct gw_pack *p = gw->packs[i];
		struct gw_set_bounds b = pack_bounds(gw, p);
		add_peers(gw, p, &b, peers);
		snprintf(who, sizeof(who), "pack %s", p->cfg->name);
		log_fell(who, gw_settings_reconfigure(&p->charge->set, &b));
	}
	struct gw_set_bounds bb = bank_bounds(gw);
	add_peers(gw, NULL, &bb, peers);
	log_fell("bank", gw_settings_reconfigure(&gw->charge->set, &bb));
}

const struct gw_settings *gw_unit_settings(const struct gw *gw, const struct gw_unit *u)
{
	return u->pack ? &u->pack->charge->set : &gw->charge->set;
}

static void log_written(const char *unit, const struct gw_settings *was, const struct gw_settings *now,
			unsigned changed, const char *who)
{
	for (int i = 0; i < GW_SET_COUNT; i++)
		if (changed & (1u << i))
			gw_info("%s: %s %lu -> %lu by %s (%s)", unit, gw_settings_name((enum gw_set_id)i),
				(unsigned long)was->v[i], (unsigned long)now->v[i],
				gw_settings_origin_name(now->origin[i]), who);
}

enum gw_set_result gw_unit_settings_write(struct gw *gw, const struct gw_unit *u, int first, int n,
					  const uint32_t *v, enum gw_set_origin origin, const char *who, double now)
{
	struct gw_settings *set = u->pack ? &u->pack->charge->set : &gw->charge->set;
	struct gw_set_bounds b = u->pack ? pack_bounds(gw, u->pack) : bank_bounds(gw);
	const struct gw_settings *peers[CONF_MAX_PACKS];
	add_peers(gw, u->pack, &b, peers);
	char unit[CONF_NAME_MAX + 8];
	snprintf(unit, sizeof(unit), u->pack ? "pack %s" : "bank", u->pack ? u->pack->cfg->name : "");
	struct gw_settings was = *set;
	unsigned changed;
	enum gw_set_result r = gw_settings_write(set, &b, first, n, v, origin, now, &changed);
	if (r != GW_SET_OK) {
		gw_log_refused(GW_LOG_INFO, who, "%s: settings %s..%s: refused (%s) from %s", unit,
			       gw_settings_name((enum gw_set_id)first), gw_settings_name((enum gw_set_id)(first + n - 1)),
			       gw_settings_refusal(r, u->pack != NULL), who);
		return r;
	}
	log_written(unit, &was, set, changed, who);
	if (changed & ~((1u << GW_SET_CCL_CAP) | (1u << GW_SET_DCL_CAP)))
		gw_statefile_changed(gw);
	/* the limits follow at once, not at the next second */
	if (gw->conf->limits.enabled) {
		int64_t wall = (int64_t)gw_wall();
		if (u->pack)
			step_pack(gw, u->pack, gw_mono(), wall);
		if (!u->pack || gw_pack_in_bank(gw, u->pack))
			step_bank(gw, gw_mono(), wall);
	}
	return GW_SET_OK;
}

void gw_charge_reset(struct gw *gw)
{
	settings_reconfigure(gw);
	watch_stale(gw, gw_mono()); /* the bank's members may have changed */
	if (gw->conf->limits.enabled)
		return;
	/* [limits] is off (or a reload removed it): nothing is limited, and
	 * the engines start over when it comes back */
	for (int i = 0; i < gw->npacks; i++) {
		struct gw_pack *p = gw->packs[i];
		int64_t full = p->charge->st.last_full_wall;
		memset(&p->lim, 0, sizeof(p->lim));
		gw_limits_init(&p->charge->st);
		p->charge->st.last_full_wall = full;
	}
	memset(&gw->bank_lim, 0, sizeof(gw->bank_lim));
	memset(gw->string_lim, 0, sizeof(gw->string_lim));
	gw_limits_bank_init(&gw->charge->st);
	gw->charge->known = false;
}

const struct gw_limits *gw_unit_limits(const struct gw *gw, const struct gw_unit *u)
{
	return u->pack ? &u->pack->lim : &gw->bank_lim;
}

/* The state file's record "full NAME UNIXTIME": when each pack was last
 * full (absorption or float), so that the full-charge request counts
 * full_charge_days from it across restarts. */
static bool save_full(const struct gw *gw, const struct gw_pack *p, char *out, size_t cap)
{
	(void)gw;
	if (p->charge->st.last_full_wall <= 0)
		return false;
	snprintf(out, cap, "%lld", (long long)p->charge->st.last_full_wall);
	return true;
}

static void load_full(struct gw *gw, struct gw_pack *p, const char *rest)
{
	(void)gw;
	long long t;
	if (sscanf(rest, "%lld", &t) == 1 && t > 0)
		p->charge->st.last_full_wall = (int64_t)t;
}

const struct gw_state_record gw_charge_full_record = { "full", true, save_full, load_full };

/* The state file's records "set NAME ..." (a pack's) and "setbank ..."
 * (the bank's): the runtime settings but the caps (leases), as
 * "max_soc=80/modbus ..." (engine/settings.c). */
static bool save_set(const struct gw *gw, const struct gw_pack *p, char *out, size_t cap)
{
	return gw_settings_save(p ? &p->charge->set : &gw->charge->set, out, cap);
}

static void load_set(struct gw *gw, struct gw_pack *p, const char *rest)
{
	struct gw_set_bounds b = p ? pack_bounds(gw, p) : bank_bounds(gw);
	gw_settings_load(p ? &p->charge->set : &gw->charge->set, &b, rest);
}

const struct gw_state_record gw_charge_settings_record = { "set", true, save_set, load_set };
const struct gw_state_record gw_charge_bank_settings_record = { "setbank", false, save_set, load_set };
