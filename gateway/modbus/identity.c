/* SPDX-License-Identifier: MIT */
/* gateway/modbus/identity.c - a unit's identification and SunSpec inputs,
 * from the model.  See identity.h. */
#include <math.h>
#include <string.h>

#include "modbus_conf.h"
#include "../model/bankstate.h"
#include "../engine/pack_limits.h"
#include "../model/strings_gw.h"
#include "identity.h"

#ifndef BMSGW_VERSION
#error "BMSGW_VERSION comes from the Makefile (VERSION)"
#endif

int gw_unit_id(const struct gw *gw, const struct gw_unit *u)
{
	return u->pack ? u->pack->cfg->unit_id : gw->conf->bank.unit_id;
}

static bool pack_fresh(const struct gw *gw, struct gw_pack *p, double now)
{
	struct gw_unit u = { .pack = p, .bank = false };
	return gw_unit_online_at(gw, &u, now);
}

void gw_unit_ident(const struct gw *gw, const struct gw_unit *u, double now, struct mbid_identity *id)
{
	memset(id, 0, sizeof(*id));
	const struct bms_driver *d = u->pack ? u->pack->drv : NULL;
	id->product_code = d ? d->name : "bank";
	id->revision = BMSGW_VERSION;
	id->vendor_url = NULL; /* object 3: none (read code 4 for it: 0x02) */
	id->product_name = GW_PRODUCT_NAME;
	id->model_name = d ? d->description : "bank of parallel packs";
	id->app_name = u->pack ? u->pack->cfg->name : "bank";
	if (u->pack) {
		const struct bms_ident *b = &u->pack->ident;
		id->ext[MBID_EXT_VENDOR] = b->vendor;
		id->ext[MBID_EXT_MODEL] = b->model;
		id->ext[MBID_EXT_FIRMWARE] = b->firmware;
		id->ext[MBID_EXT_SERIAL] = b->serial;
		id->ext[MBID_EXT_PACK_SERIAL] = b->pack_serial;
	}
	id->server_id = (uint8_t)gw_unit_id(gw, u);
	id->running = gw_unit_online_at(gw, u, now);
}

/* V a cell for the ratings: the chemistry of [limits] (LFP 3.2, NMC 3.7,
 * LTO 2.4 V nominal); 0 (the ratings in Wh and W not implemented)
 * without [limits], where the chemistry is not known. */
static float cell_nominal(const struct conf_limits *l)
{
	if (!l->enabled)
		return 0;
	switch (l->chemistry) {
	case CONF_CHEM_LFP: return 3.2f;
	case CONF_CHEM_NMC: return 3.7f;
	case CONF_CHEM_LTO: return 2.4f;
	}
	return 0;
}

/* A pack's own current rating, else [limits]'. */
static double rating(const struct conf_limits *cl, const struct conf_pack *p, bool charge)
{
	double own = charge ? p->max_charge_current : p->max_discharge_current;
	return own > 0 ? own : charge ? cl->max_charge_current : cl->max_discharge_current;
}

/* The limits of [limits]: as the map's limit registers show them, zero
 * currents for a unit that is not fresh at now; the rated currents are the
 * pack's, or the sum of the bank's packs' (strings': the smallest member's
 * of each). */
static void sunspec_limits(const struct gw *gw, const struct gw_unit *u, int npacks, struct ss_unit *su)
{
	const struct conf_limits *cl = &gw->conf->limits;
	su->cell_nominal_v = cell_nominal(cl);
	su->limits = cl->enabled;
	if (!cl->enabled)
		return;
	const struct gw_limits *l = gw_unit_limits(gw, u);
	su->cvl_v = l->volt_valid ? (float)l->cvl_v : NAN;
	su->dvl_v = l->volt_valid ? (float)l->dvl_v : NAN;
	su->ccl_a = su->fresh ? (float)l->ccl_a : 0;
	su->dcl_a = su->fresh ? (float)l->dcl_a : 0;
	const struct conf_bank *b = &gw->conf->bank;
	for (int k = 0; k < npacks && (u->pack || !b->nstrings); k++) {
		const struct conf_pack *p = u->pack ? u->pack->cfg : &gw->conf->packs[b->pack_idx[k]];
		su->max_charge_a += (float)rating(cl, p, true);
		su->max_discharge_a += (float)rating(cl, p, false);
	}
	/* a string of packs in series: its smallest member's rating */
	for (int s = 0; !u->pack && s < b->nstrings && s < npacks; s++) {
		double ch = -1, dis = -1;
		for (int m = 0; m < b->string_len[s]; m++) {
			const struct conf_pack *p = gw->packs[gw_string_member(gw, s, m)]->cfg;
			double rc = rating(cl, p, true), rd = rating(cl, p, false);
			ch = ch < 0 || rc < ch ? rc : ch;
			dis = dis < 0 || rd < dis ? rd : dis;
		}
		su->max_charge_a += (float)(ch > 0 ? ch : 0);
		su->max_discharge_a += (float)(dis > 0 ? dis : 0);
	}
}

/* With [bank] strings: 803's strings are the bank's strings of packs in
 * series, each its members' modules (engine/bank_strings.h); n of them. */
static void bank_strings(const struct gw_bank_view *v, struct gw_ss_scratch *sc, int n)
{
	for (int s = 0; s < n; s++) {
		const struct gw_string_state *st = &v->strings[s];
		struct ss_series *r = &sc->series[s];
		memset(r, 0, sizeof(*r));
		r->nmod = (uint16_t)st->n;
		r->ncells = st->cells;
		r->have_cells = st->fresh && st->cell_min_at.member;
		r->cell_max_mv = st->cell_max_mv, r->cell_max_mod = st->cell_max_at.member;
		r->cell_min_mv = st->cell_min_mv, r->cell_min_mod = st->cell_min_at.member;
		r->cell_avg_mv = st->cell_avg_mv;
		r->have_temps = st->fresh && st->tmin_at.member && st->tmax_at.member;
		r->tmax_c = st->tmax_c, r->tmax_mod = st->tmax_at.member;
		r->tmin_c = st->tmin_c, r->tmin_mod = st->tmin_at.member;
		sc->packs[s].fresh = st->fresh;
		sc->packs[s].snap = &st->snap;
		sc->packs[s].series = r;
		bool al = st->fresh && (st->snap.present & BMS_HAS_ALARMS);
		sc->packs[s].protect = al ? st->protect | (st->alarms & BMS_AL_PROTECTION) : 0;
		sc->packs[s].warn = al ? st->warn : 0;
	}
}

/* A pack's alarms by level (engine/pack_limits.h); the BMS's own protection
 * flag is a protection too. */
static void pack_levels(const struct gw_pack *p, uint32_t *protect, uint32_t *warn)
{
	*protect = *warn = 0;
	if (!p->have_data || !(p->snap.present & BMS_HAS_ALARMS))
		return;
	gw_limits_snap_levels(&p->snap, protect, warn);
	*protect |= p->snap.alarms & BMS_AL_PROTECTION;
}

/* The bank's: the OR of its fresh packs' levels; with [limits], a pack's
 * protection is the bank's where the bank's own limit is 0 too, a warning
 * where the bank still charges or discharges (as the inverter outputs). */
static void bank_levels(const struct gw *gw, const struct gw_bank_state *bs, struct ss_unit *su)
{
	su->protect = bs->protect;
	su->warn = bs->warn;
	if (gw->conf->limits.enabled)
		gw_limits_bank_alarm_levels(&gw->bank_lim, &su->protect, &su->warn);
}

void gw_unit_sunspec(const struct gw *gw, const struct gw_unit *u, double now, struct gw_ss_scratch *sc,
		     struct ss_unit *su)
{
	memset(su, 0, sizeof(*su));
	su->bank = u->bank;
	su->version = BMSGW_VERSION;
	su->unit_id = (uint8_t)gw_unit_id(gw, u);
	su->serial = gw_sunspec_cfg(gw->conf)->serial;
	su->machine = gw->machine;
	if (u->pack) {
		struct gw_pack *p = u->pack;
		su->name = p->cfg->name;
		su->protocol = p->drv->name;
		su->snap = p->have_data ? &p->snap : NULL;
		su->fresh = pack_fresh(gw, p, now);
		pack_levels(p, &su->protect, &su->warn);
		sunspec_limits(gw, u, 1, su);
		return;
	}
	const struct conf_bank *b = &gw->conf->bank;
	int n = b->npacks < SS_MAX_PACKS ? b->npacks : SS_MAX_PACKS;
	for (int k = 0; k < n && !b->nstrings; k++) {
		struct gw_pack *p = gw->packs[b->pack_idx[k]];
		sc->packs[k].fresh = pack_fresh(gw, p, now);
		sc->packs[k].snap = p->have_data ? &p->snap : NULL;
		sc->packs[k].series = NULL;
		pack_levels(p, &sc->packs[k].protect, &sc->packs[k].warn);
	}
	/* the bank as every output has it (model/bankstate.h): its SOC and
	 * capacities by the one rule (engine/banksoc.h), not a sum of its own */
	const struct gw_bank_view *v = gw_bank_at(gw, now);
	int ns = v->nstrings < SS_MAX_PACKS ? v->nstrings : SS_MAX_PACKS;
	bank_strings(v, sc, ns);
	su->name = "bank";
	su->protocol = "bank";
	su->snap = v->bank.online ? &v->bank.snap : NULL;
	su->fresh = v->bank.online > 0;
	/* a balancer unit gone stale is no pack missing */
	for (int k = 0; k < n; k++) {
		const struct gw_pack *p = gw->packs[b->pack_idx[k]];
		su->comm_warning = su->comm_warning || (gw_pack_stale_at(gw, p, now) && !gw_pack_is_balancer(p));
	}
	bank_levels(gw, &v->bank, su);
	su->npacks = b->nstrings ? ns : n;
	su->packs = sc->packs;
	sunspec_limits(gw, u, su->npacks, su);
}
