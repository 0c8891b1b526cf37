/* gateway/modbus/identity.c - a unit's identification and SunSpec inputs,
 * from the model.  See identity.h. */
#include <math.h>
#include <string.h>

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

/* The limits of [limits]: as the map's limit registers show them, zero
 * currents for a unit that is not fresh at now. */
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
	su->max_charge_a = (float)(cl->max_charge_current * npacks);
	su->max_discharge_a = (float)(cl->max_discharge_current * npacks);
}

void gw_unit_sunspec(const struct gw *gw, const struct gw_unit *u, double now, struct gw_ss_scratch *sc,
		     struct ss_unit *su)
{
	memset(su, 0, sizeof(*su));
	su->bank = u->bank;
	su->version = BMSGW_VERSION;
	su->unit_id = (uint8_t)gw_unit_id(gw, u);
	if (u->pack) {
		struct gw_pack *p = u->pack;
		su->name = p->cfg->name;
		su->protocol = p->drv->name;
		su->snap = p->have_data ? &p->snap : NULL;
		su->fresh = pack_fresh(gw, p, now);
		sunspec_limits(gw, u, 1, su);
		return;
	}
	const struct conf_bank *b = &gw->conf->bank;
	const struct bms_snapshot *fresh[CONF_MAX_PACKS];
	int n = b->npacks < SS_MAX_PACKS ? b->npacks : SS_MAX_PACKS;
	for (int k = 0; k < n; k++) {
		struct gw_pack *p = gw->packs[b->pack_idx[k]];
		sc->packs[k].fresh = pack_fresh(gw, p, now);
		sc->packs[k].snap = p->have_data ? &p->snap : NULL;
		fresh[k] = sc->packs[k].fresh ? &p->snap : NULL;
	}
	gw_bank_aggregate(fresh, n, b->max_deviation, &sc->bank);
	su->name = "bank";
	su->protocol = "bank";
	su->snap = sc->bank.online ? &sc->bank.snap : NULL;
	su->fresh = sc->bank.online > 0;
	su->npacks = n;
	su->packs = sc->packs;
	sunspec_limits(gw, u, n, su);
}
