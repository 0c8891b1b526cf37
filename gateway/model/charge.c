/* gateway/model/charge.c - the charge and discharge limits of every pack
 * and of the bank, kept current: the engine (limits.c) stepped at every
 * good poll and once a second, a stale pack fail-safe within the second, a
 * change of mode or of a reason logged once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/log.h"
#include "gw.h"

/* A day's worth of seconds: the last full charge is saved this finely. */
#define FULL_SAVE_S 3600

static void log_change(const char *who, const struct gw_limits *l, unsigned changed, bool first)
{
	if (!changed)
		return;
	gw_info("%s: charge limits%s: mode %s, CVL %.2f V, CCL %.1f A (%s), DCL %.1f A (%s)", who,
		first ? "" : " now", gw_limits_mode_name(l->mode), l->cvl_v, l->ccl_a,
		gw_limits_reason_name(l->ccl_reason), l->dcl_a, gw_limits_reason_name(l->dcl_reason));
}

static void step_pack(struct gw *gw, struct gw_pack *p, double now, int64_t wall)
{
	const struct conf_limits *cfg = &gw->conf->limits;
	bool fresh = p->have_data && gw_pack_online(gw, p);
	bool first = !p->lim_st.have_prev;
	int64_t full = p->lim_st.last_full_wall;
	unsigned changed = gw_limits_step(cfg, fresh ? &p->snap : NULL, now, wall, &p->lim_st, &p->lim);
	char who[CONF_NAME_MAX + 8];
	snprintf(who, sizeof(who), "pack %s", p->cfg->name);
	log_change(who, &p->lim, changed, first);
	if (llabs(p->lim_st.last_full_wall - full) >= FULL_SAVE_S || (full == 0 && p->lim_st.last_full_wall))
		gw->state_dirty = true;
}

/* The bank from its packs' results: a pack not online (stale, or not read
 * yet: its limits were never computed) is left out, as a fail-safe one. */
static void step_bank(struct gw *gw)
{
	const struct conf_bank *b = &gw->conf->bank;
	if (!b->enabled)
		return;
	const struct gw_limits *packs[CONF_MAX_PACKS];
	for (int k = 0; k < b->npacks; k++) {
		const struct gw_pack *p = gw->packs[b->pack_idx[k]];
		packs[k] = gw_pack_online(gw, p) ? &p->lim : NULL;
	}
	struct gw_limits prev = gw->bank_lim;
	gw_limits_bank(&gw->conf->limits, packs, b->npacks, &gw->bank_lim, NULL);
	gw_limits_bank_follow(&gw->conf->limits, &gw->bank_lim_st, b->npacks, gw_mono(), &gw->bank_lim);
	log_change("bank", &gw->bank_lim, gw->bank_lim_known ? gw_limits_changes(&prev, &gw->bank_lim) : 7,
		   !gw->bank_lim_known);
	gw->bank_lim_known = true;
}

void gw_charge_polled(struct gw *gw, struct gw_pack *p)
{
	if (!gw->conf->limits.enabled)
		return;
	step_pack(gw, p, gw_mono(), (int64_t)gw_wall());
	if (gw_pack_in_bank(gw, p))
		step_bank(gw);
}

void gw_charge_tick(struct gw *gw, double now)
{
	if (!gw->conf->limits.enabled)
		return;
	int64_t wall = (int64_t)gw_wall();
	for (int i = 0; i < gw->npacks; i++)
		step_pack(gw, gw->packs[i], now, wall);
	step_bank(gw);
}

void gw_charge_reset(struct gw *gw)
{
	if (gw->conf->limits.enabled)
		return;
	/* [limits] is off (or a reload removed it): nothing is limited, and
	 * the engines start over when it comes back */
	for (int i = 0; i < gw->npacks; i++) {
		struct gw_pack *p = gw->packs[i];
		int64_t full = p->lim_st.last_full_wall;
		memset(&p->lim, 0, sizeof(p->lim));
		gw_limits_init(&p->lim_st);
		p->lim_st.last_full_wall = full;
	}
	memset(&gw->bank_lim, 0, sizeof(gw->bank_lim));
	gw_limits_bank_init(&gw->bank_lim_st);
	gw->bank_lim_known = false;
}

const struct gw_limits *gw_unit_limits(const struct gw *gw, const struct gw_unit *u)
{
	return u->pack ? &u->pack->lim : &gw->bank_lim;
}
