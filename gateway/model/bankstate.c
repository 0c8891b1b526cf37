/* SPDX-License-Identifier: MIT */
/* gateway/model/bankstate.c - the bank's state, one for every reader (see
 * bankstate.h): computed here alone (by the pure rules of engine/bank.h
 * and engine/banksoc.h over the packs that are fresh), kept with what it
 * was made of (the configuration, each member's last good poll and its
 * freshness at the time), and computed again only when one of those
 * changed. */
#include "bankstate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "socunit.h"

/* What a member was when the state was computed: its poll and freshness. */
struct member_key {
	const struct gw_pack *p;
	double last_good;
	uint32_t good_polls;
	bool have_data, online, stale;
};

struct gw_bank_kept {
	struct gw_bank_view v;
	bool made;                     /* v holds a state */
	const struct conf *conf;       /* the configuration it was made from */
	int n;                         /* bank packs in key[] */
	struct member_key key[CONF_MAX_PACKS];
	struct member_key shunt;       /* the shunt's ([bank] shunt; p NULL: none) */
	uint32_t left_out_said;        /* the packs left out of the bank's SOC, as last logged */
	const struct gw_pack *shunt_said; /* the shunt whose state was last logged ... */
	int shunt_said_fresh;          /* ... as fresh (1), stale (0), or nothing said yet (-1) */
};

struct gw_bank_kept *gw_bank_kept_new(void)
{
	return calloc(1, sizeof(struct gw_bank_kept));
}

void gw_bank_kept_free(struct gw_bank_kept *k)
{
	free(k);
}

static struct member_key member_now(const struct gw *gw, const struct gw_pack *p, double now)
{
	return (struct member_key){ p, p->last_good, p->good_polls, p->have_data, gw_pack_online_at(gw, p, now),
				    gw_pack_stale_at(gw, p, now) };
}

/* The shunt's key: p NULL without one. */
static struct member_key shunt_now(const struct gw *gw, double now)
{
	const struct gw_pack *p = gw_bank_shunt(gw);
	return p ? member_now(gw, p, now) : (struct member_key){ 0 };
}

static bool key_same(const struct member_key *a, const struct member_key *b)
{
	return a->p == b->p && a->last_good == b->last_good && a->good_polls == b->good_polls &&
	       a->have_data == b->have_data && a->online == b->online && a->stale == b->stale;
}

/* Is k's state the bank at now: the same configuration, and every member
 * with the same poll and the same freshness as when it was made? */
static bool still(const struct gw *gw, const struct gw_bank_kept *k, double now)
{
	const struct conf_bank *b = &gw->conf->bank;
	if (!k->made || k->conf != gw->conf || k->n != b->npacks)
		return false;
	for (int i = 0; i < k->n; i++) {
		struct member_key m = member_now(gw, gw->packs[b->pack_idx[i]], now);
		if (!key_same(&m, &k->key[i]))
			return false;
	}
	struct member_key sh = shunt_now(gw, now);
	return key_same(&sh, &k->shunt);
}

/* The bank's warning: the fresh packs left out of its SOC (banksoc.h: no
 * capacity of the BMS's nor configured), logged as the set changes. */
static void left_out(const struct gw *gw, struct gw_bank_kept *k)
{
	const struct conf_bank *b = &gw->conf->bank;
	uint32_t now_out = k->v.bank.soc.left_out;
	if (!b->enabled || now_out == k->left_out_said)
		return;
	k->left_out_said = now_out;
	if (!now_out) {
		gw_info("bank: every fresh pack is in the bank's SOC again");
		return;
	}
	char names[512];
	size_t len = 0;
	names[0] = '\0';
	for (int i = 0; i < b->npacks && i < 32; i++)
		if (now_out & (1u << i) && len < sizeof(names))
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", len ? ", " : "",
						gw->packs[b->pack_idx[i]]->cfg->name);
	gw_warn("bank: left out of the bank's SOC, its remaining and full capacity unknown: %s (neither the BMS "
		"gives a capacity nor [soc] capacity is set)", names);
}

/* A pack's BMS SOC as socunit.c took it before the count was carried; a
 * snapshot it never saw carries none. */
static double bms_soc_of(const struct gw_pack *p)
{
	return isfinite(p->soc.bms_soc) ? p->soc.bms_soc : p->snap.present & BMS_HAS_SOC ? p->snap.soc : NAN;
}

/* The shunt's state, logged as it changes: its measurements taken, gone
 * stale (the packs' sum), taken again.  Nothing while it has not answered
 * yet and is not stale. */
static void shunt_said(const struct gw *gw, struct gw_bank_kept *k, double now)
{
	const struct gw_pack *p = gw_bank_shunt(gw);
	if (p != k->shunt_said) {
		k->shunt_said = p;
		k->shunt_said_fresh = -1;
	}
	if (!p)
		return;
	const char *name = p->cfg->name;
	if (gw_pack_online_at(gw, p, now)) {
		if (k->shunt_said_fresh == 1)
			return;
		gw_info("bank: shunt %s %s: the bank's current and power are its%s", name,
			k->shunt_said_fresh == 0 ? "answers again" : "measures the bank",
			isfinite(bms_soc_of(p)) ? ", and its SOC" : " (it gives no SOC: the SOC is the packs')");
		k->shunt_said_fresh = 1;
	} else if (gw_pack_stale_at(gw, p, now) && k->shunt_said_fresh != 0) {
		gw_warn("bank: shunt %s is stale: the bank's current, power and SOC are the packs' sum until it answers "
			"again", name);
		k->shunt_said_fresh = 0;
	}
}

/* The shunt's measurements over the bank (engine/bank_shunt.c) at now. */
static void shunt_at(const struct gw *gw, double now, struct gw_bank_state *out)
{
	const struct gw_pack *p = gw_bank_shunt(gw);
	if (!p)
		return;
	double bms = bms_soc_of(p);
	struct gw_soc_out so;
	gw_soc_output(&p->soc.est, &p->cfg->soc, bms, now, &so);
	struct gw_bank_shunt_in in = {
		.snap = gw_pack_online_at(gw, p, now) ? &p->snap : NULL,
		.bms_soc = bms,
		.capacity = p->cfg->soc.capacity,
		.counted = &so,
	};
	gw_bank_shunt_apply(&in, gw->conf->soc.current_threshold, out);
}

/* The bank's SOC and capacities by the one rule (engine/banksoc.h) at
 * now: its members from gw. */
static void bank_soc_at(const struct gw *gw, double now, struct gw_bank_soc *o)
{
	const struct conf_bank *b = &gw->conf->bank;
	struct gw_bank_member m[CONF_MAX_PACKS];
	int n = b->npacks < CONF_MAX_PACKS ? b->npacks : CONF_MAX_PACKS;
	for (int k = 0; k < n; k++) {
		const struct gw_pack *p = gw->packs[b->pack_idx[k]];
		m[k] = (struct gw_bank_member){
			.snap = gw_pack_online_at(gw, p, now) ? &p->snap : NULL,
			.bms_soc = bms_soc_of(p),
			.capacity = p->cfg->soc.capacity,
			.est = &p->soc.est,
			.balancer = gw_pack_is_balancer(p),
		};
	}
	gw_bank_soc(m, n, &gw->conf->soc, now, o);
}

void gw_bank_compute_from(const struct gw *gw, double now, const struct gw_string_state *ss,
			  struct gw_bank_state *out)
{
	const struct conf_bank *cb = &gw->conf->bank;
	if (cb->nstrings) {
		bool online[CONF_MAX_PACKS] = { 0 };
		for (int k = 0; k < cb->npacks && k < CONF_MAX_PACKS; k++)
			online[k] = gw_pack_online_at(gw, gw->packs[cb->pack_idx[k]], now);
		gw_bank_of_strings(cb, ss, online, gw->conf->soc.current_threshold, out);
		shunt_at(gw, now, out);
		return;
	}
	const struct bms_snapshot *fresh[CONF_MAX_PACKS] = { 0 };
	int n = cb->npacks < CONF_MAX_PACKS ? cb->npacks : CONF_MAX_PACKS;
	for (int k = 0; k < n; k++) {
		const struct gw_pack *p = gw->packs[cb->pack_idx[k]];
		fresh[k] = gw_pack_online_at(gw, p, now) ? &p->snap : NULL;
	}
	gw_bank_aggregate(fresh, n, cb->max_deviation, gw->conf->soc.current_threshold, out);
	/* a balancer unit gone stale is no pack missing (engine/banksoc.h) */
	for (int k = 0; k < n; k++)
		if (!fresh[k] && !gw_pack_is_balancer(gw->packs[cb->pack_idx[k]])) {
			out->missing++;
			out->missing_mask |= 1u << (k & 31);
		}
	bank_soc_at(gw, now, &out->soc);
	if (out->online)
		gw_bank_soc_apply(out);
	shunt_at(gw, now, out);
}

void gw_bank_compute_at(const struct gw *gw, double now, struct gw_bank_state *out)
{
	static struct gw_string_state ss[CONF_MAX_PACKS]; /* large: on the loop only */
	const struct conf_bank *cb = &gw->conf->bank;
	for (int s = 0; s < cb->nstrings && s < CONF_MAX_PACKS; s++)
		gw_string_compute_at(gw, s, now, &ss[s]);
	gw_bank_compute_from(gw, now, ss, out);
}

/* The one place the bank and its strings are computed. */
static void compute(const struct gw *gw, struct gw_bank_kept *k, double now)
{
	const struct conf_bank *b = &gw->conf->bank;
	struct gw_bank_view *v = &k->v;
	v->nstrings = b->nstrings < CONF_MAX_PACKS ? b->nstrings : CONF_MAX_PACKS;
	for (int s = 0; s < v->nstrings; s++)
		gw_string_compute_at(gw, s, now, &v->strings[s]);
	gw_bank_compute_from(gw, now, v->strings, &v->bank);
	v->newest = -1;
	k->n = b->npacks < CONF_MAX_PACKS ? b->npacks : CONF_MAX_PACKS;
	for (int i = 0; i < k->n; i++) {
		const struct gw_pack *p = gw->packs[b->pack_idx[i]];
		k->key[i] = member_now(gw, p, now);
		if (p->have_data && p->last_good > v->newest)
			v->newest = p->last_good;
	}
	k->shunt = shunt_now(gw, now);
	k->conf = gw->conf;
	k->made = true;
	v->at = now;
	v->gen++;
	left_out(gw, k);
	shunt_said(gw, k, now);
}

const struct gw_bank_view *gw_bank_at(const struct gw *gw, double now)
{
	struct gw_bank_kept *k = gw->bank;
	if (!still(gw, k, now))
		compute(gw, k, now);
	return &k->v;
}

/* Member k of the bank as the limit engine counts them: its pack, NULL for
 * a balancer (with [bank] strings, every pack is a string's member and
 * none a balancer: conf/check.c). */
static const struct gw_pack *member(const struct gw *gw, int k)
{
	const struct gw_pack *p = gw->packs[gw->conf->bank.pack_idx[k]];
	return gw_pack_is_balancer(p) ? NULL : p;
}

/* A member of the bank stale at now. */
static bool member_stale_at(const struct gw *gw, double now)
{
	for (int k = 0; k < gw->conf->bank.npacks; k++) {
		const struct gw_pack *p = member(gw, k);
		if (p && gw_pack_stale_at(gw, p, now))
			return true;
	}
	return false;
}

double gw_bank_next_stale(const struct gw *gw, double now)
{
	const struct conf_bank *b = &gw->conf->bank;
	double next = INFINITY;
	for (int k = 0; b->enabled && k < b->npacks; k++) {
		const struct gw_pack *p = member(gw, k);
		if (!p || gw_pack_stale_at(gw, p, now))
			continue;
		/* fresh until last_good + stale_after; not read yet: stale
		 * from created + stale_after (gw_pack_stale_at) */
		double at = (p->have_data ? p->last_good : p->created) +
			    conf_pack_stale_after(p->cfg, gw->conf->gw.stale_after);
		next = fmin(next, at);
	}
	return next;
}

bool gw_bank_limits_fresh_at(const struct gw *gw, double now)
{
	if (gw_bank_at(gw, now)->bank.online <= 0)
		return false;
	const struct conf_limits *l = &gw->conf->limits;
	return !(l->enabled && l->bank_stale == CONF_BANK_STALE_BLOCK && member_stale_at(gw, now));
}

void gw_bank_counted(const struct gw_bank_view *v, double now, struct gw_soc_out *o)
{
	*o = v->bank.soc.counted;
	/* each member's age of its last full point runs with the clock
	 * (soc.h), and so does their largest, the bank's */
	if (o->since_full_s >= 0)
		o->since_full_s += now - v->at;
}

void gw_bank_polled(struct gw *gw, const struct gw_pack *p, bool ok, double now)
{
	if (ok && gw_pack_feeds_bank(gw, p))
		compute(gw, gw->bank, now);
	else
		gw_bank_at(gw, now);
}

void gw_bank_tick(struct gw *gw, double now)
{
	gw_bank_at(gw, now);
}

void gw_bank_reset(struct gw *gw, double now)
{
	compute(gw, gw->bank, now);
}
