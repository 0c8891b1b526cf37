/* SPDX-License-Identifier: MIT */
/* gateway/daemon/reload_plan.h - the packs and buses of a configuration: decided
 * first (nothing changes, only allocations that can be undone), then
 * carried out (reload_plan.c). */
#ifndef GATEWAY_DAEMON_PLAN_H
#define GATEWAY_DAEMON_PLAN_H

#include <stdbool.h>

#include "../model/gw.h"

/* What a (re)build decided, before anything is changed. */
struct gw_plan {
	struct gw_pack *packs[CONF_MAX_PACKS]; /* per new conf pack: kept or new */
	bool pack_new[CONF_MAX_PACKS];
	struct gw_bus *buses[CONF_MAX_PACKS]; /* per distinct port: kept or new */
	bool link_new[CONF_MAX_PACKS];
	int link_of[CONF_MAX_PACKS];           /* per new conf pack: index in buses[] */
	int nbuses;
	bool old_pack_kept[CONF_MAX_PACKS];
	bool old_link_kept[CONF_MAX_PACKS];
};

/* Same pack for a reload: its snapshot means the same thing under cfg b. */
bool gw_plan_same_pack(const struct conf_pack *a, const struct conf_pack *b);
/* Decide which packs and buses of gw carry over to nc and allocate the
 * rest.  Changes nothing in gw; -1 when out of memory (nothing allocated). */
int gw_plan_make(struct gw *gw, const struct conf *nc, struct gw_plan *pl);
/* Free what gw_plan_make() allocated (the plan is not carried out). */
void gw_plan_undo(struct gw_plan *pl);
/* Carry the plan out: gw->conf is already nc. */
void gw_plan_apply(struct gw *gw, struct gw_plan *pl);
/* Free a pack and what the plan made for it (gw_free; NULL is fine). */
void gw_plan_pack_free(struct gw_pack *p);

#endif
