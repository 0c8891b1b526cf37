/* SPDX-License-Identifier: MIT */
/* gateway/daemon/reload_plan.c - which packs and buses of the running gateway a
 * (re)build keeps, which it makes and which go (see reload_plan.h).
 *
 * A pack none of whose keys that restart it or its wire changed
 * (conf/conf.c: protocol, address, cells, invert_current, position,
 * address_any; port and baud by the wire's rule, wire/link.c) keeps its
 * snapshot, counters, freshness and daily SOC maximum, and a poll it has
 * in progress; the rest of its keys it reads live.  A wire stays open
 * while some pack still uses it.
 */
#include <stdlib.h>
#include <string.h>

#include "../../conf/section.h"
#include "../core/log.h"
#include "../poll/bmsset.h"
#include "../poll/control.h"
#include "../poll/poll.h"
#include "reload_plan.h"

bool gw_plan_same_pack(const struct conf_pack *a, const struct conf_pack *b)
{
	return strcmp(a->name, b->name) == 0 && conf_section_same(&conf_sect_pack, CONF_RESTART, a, b) &&
	       gw_link_same_wire(a, b);
}

/* A new pack and what the rooms above the model keep of it. */
static struct gw_pack *pack_new(double now)
{
	struct gw_pack *p = gw_pack_new(now);
	if (p && (!(p->ctl = gw_control_new()) || !(p->bset = gw_bset_new()) || !(p->slot = gw_poll_slot_new(now)))) {
		gw_plan_pack_free(p);
		return NULL;
	}
	return p;
}

void gw_plan_pack_free(struct gw_pack *p)
{
	if (!p)
		return;
	gw_control_free(p->ctl);
	gw_bset_free(p->bset);
	gw_poll_slot_free(p->slot);
	gw_pack_free(p);
}

void gw_plan_undo(struct gw_plan *pl)
{
	for (int i = 0; i < CONF_MAX_PACKS; i++) {
		if (pl->pack_new[i])
			gw_plan_pack_free(pl->packs[i]);
		if (pl->link_new[i])
			gw_bus_free(pl->buses[i]);
	}
}

int gw_plan_make(struct gw *gw, const struct conf *nc, struct gw_plan *pl)
{
	memset(pl, 0, sizeof(*pl));
	double now = gw_mono();
	for (int i = 0; i < nc->npacks; i++) {
		const struct conf_pack *c = &nc->packs[i];
		for (int j = 0; j < gw->npacks && !pl->packs[i]; j++)
			if (!pl->old_pack_kept[j] && gw_plan_same_pack(gw->packs[j]->cfg, c)) {
				pl->old_pack_kept[j] = true;
				pl->packs[i] = gw->packs[j];
			}
		if (!pl->packs[i]) {
			struct gw_pack *p = pack_new(now);
			if (!p)
				goto fail;
			pl->packs[i] = p;
			pl->pack_new[i] = true;
		}
		int k = 0;
		while (k < pl->nbuses && strcmp(gw_link_port(pl->buses[k]->link), c->port) != 0)
			k++;
		if (k == pl->nbuses) {
			for (int j = 0; j < gw->nbuses && !pl->buses[k]; j++)
				if (!pl->old_link_kept[j] && gw_link_same_wire(gw_link_cfg(gw->buses[j]->link), c) &&
				    gw_bus_listens_as(gw->buses[j], c)) {
					pl->old_link_kept[j] = true;
					pl->buses[k] = gw->buses[j];
				}
			if (!pl->buses[k]) {
				if (!(pl->buses[k] = gw_bus_new(gw, c)))
					goto fail;
				pl->link_new[k] = true;
			}
			pl->nbuses++;
		}
		pl->link_of[i] = k;
	}
	return 0;
fail:
	gw_plan_undo(pl);
	gw_err("out of memory");
	return -1;
}

void gw_plan_apply(struct gw *gw, struct gw_plan *pl)
{
	const struct conf *nc = gw->conf;
	/* commands of packs that go away end (their links still exist) */
	for (int j = 0; j < gw->npacks; j++)
		if (!pl->old_pack_kept[j])
			gw_control_drop(gw->packs[j]);
	/* polls of packs that go away are abandoned; links nobody uses close */
	for (int j = 0; j < gw->nbuses; j++) {
		struct gw_bus *w = gw->buses[j];
		bool cur_kept = false;
		for (int i = 0; i < nc->npacks; i++)
			cur_kept = cur_kept || (w->cur && pl->packs[i] == w->cur);
		if (pl->old_link_kept[j] && w->cur && !cur_kept)
			gw_poll_abort(w);
		if (!pl->old_link_kept[j]) {
			gw_info("link %s: closed (no pack uses it any more)", gw_link_port(w->link));
			gw_bus_free(w);
		}
	}
	for (int j = 0; j < gw->npacks; j++)
		if (!pl->old_pack_kept[j])
			gw_plan_pack_free(gw->packs[j]);
	for (int k = 0; k < pl->nbuses; k++) {
		struct gw_bus *w = pl->buses[k];
		gw_bus_detach_all(w);
		gw_link_rebind(w->link, NULL);
	}
	for (int i = 0; i < nc->npacks; i++) {
		struct gw_pack *p = pl->packs[i];
		struct gw_bus *w = pl->buses[pl->link_of[i]];
		p->cfg = &nc->packs[i];
		p->drv = p->cfg->driver;
		p->bus = w;
		p->link = w->link;
		p->bus_stats = &w->stats;
		if (!gw_link_cfg(w->link))
			gw_link_rebind(w->link, p->cfg);
		gw_bus_attach(w, p); /* appended: the packs keep their configuration order */
		/* float_order may have changed: encode the kept snapshot again */
		gw_pack_reencode(p, nc->gw.float_order);
		gw->packs[i] = p;
	}
	gw->npacks = nc->npacks;
	for (int k = 0; k < pl->nbuses; k++) {
		gw->buses[k] = pl->buses[k];
		gw_bus_packs_moved(pl->buses[k]);
	}
	gw->nbuses = pl->nbuses;
}
