/* SPDX-License-Identifier: MIT */
/* gateway/model/units.c - the units: which pack or the bank a Modbus unit id
 * addresses, and whether a pack, or the bank, is fresh ("online") at a
 * given time: the one rule every output serves by (its image of
 * registers is modbus/image.c's). */
#include <string.h>

#include "gw.h"

const struct gw_bus_stats *gw_pack_bus_stats(const struct gw_pack *p)
{
	return p->bus_stats;
}

struct gw_pack *gw_find_pack(const struct gw *gw, const char *name)
{
	for (int i = 0; i < gw->npacks; i++)
		if (strcmp(gw->packs[i]->cfg->name, name) == 0)
			return gw->packs[i];
	return NULL;
}

bool gw_pack_in_bank(const struct gw *gw, const struct gw_pack *p)
{
	const struct conf_bank *b = &gw->conf->bank;
	for (int k = 0; b->enabled && k < b->npacks; k++)
		if (gw->packs[b->pack_idx[k]] == p)
			return true;
	return false;
}

const struct gw_pack *gw_bank_shunt(const struct gw *gw)
{
	const struct conf_bank *b = &gw->conf->bank;
	return b->enabled && b->shunt_idx >= 0 && b->shunt_idx < gw->npacks ? gw->packs[b->shunt_idx] : NULL;
}

bool gw_pack_feeds_bank(const struct gw *gw, const struct gw_pack *p)
{
	return gw_pack_in_bank(gw, p) || (p && p == gw_bank_shunt(gw));
}

bool gw_pack_is_balancer(const struct gw_pack *p)
{
	return !(p->drv->provides & BMS_HAS_CURRENT);
}

/* Fresh at monotonic time now: what "online" means everywhere. */
bool gw_pack_online_at(const struct gw *gw, const struct gw_pack *p, double now)
{
	return p->have_data && now - p->last_good <= conf_pack_stale_after(p->cfg, gw->conf->gw.stale_after);
}

bool gw_pack_online(const struct gw *gw, const struct gw_pack *p)
{
	return gw_pack_online_at(gw, p, gw_mono());
}

bool gw_pack_stale_at(const struct gw *gw, const struct gw_pack *p, double now)
{
	return !gw_pack_online_at(gw, p, now) && (p->have_data || now - p->created >= conf_pack_stale_after(p->cfg, gw->conf->gw.stale_after));
}

int gw_packs_online(const struct gw *gw)
{
	int n = 0;
	for (int i = 0; i < gw->npacks; i++)
		n += gw_pack_online(gw, gw->packs[i]);
	return n;
}

bool gw_unit_lookup(struct gw *gw, int unit, struct gw_unit *u)
{
	u->pack = NULL;
	u->bank = false;
	const struct conf_bank *b = &gw->conf->bank;
	if (b->enabled && (unit == 0 || unit == 255 || unit == b->unit_id)) {
		u->bank = true;
		return true;
	}
	if (unit == 0 || unit == 255) {
		if (gw->npacks != 1)
			return false;
		u->pack = gw->packs[0];
		return true;
	}
	for (int i = 0; i < gw->npacks; i++)
		if (gw->packs[i]->cfg->unit_id == unit) {
			u->pack = gw->packs[i];
			return true;
		}
	return false;
}

bool gw_unit_online_at(const struct gw *gw, const struct gw_unit *u, double now)
{
	if (u->pack)
		return gw_pack_online_at(gw, u->pack, now);
	const struct conf_bank *b = &gw->conf->bank;
	if (b->nstrings)
		return gw_strings_online_at(gw, now);
	for (int k = 0; k < b->npacks; k++)
		if (gw_pack_online_at(gw, gw->packs[b->pack_idx[k]], now))
			return true;
	return false;
}

/* A bank of strings has data while one of its strings has every member
 * fresh (bank_strings.h): a string with a member not fresh has none. */
bool gw_strings_online_at(const struct gw *gw, double now)
{
	const struct conf_bank *b = &gw->conf->bank;
	for (int s = 0; s < b->nstrings; s++) {
		bool all = true;
		for (int m = 0; m < b->string_len[s] && all; m++)
			all = gw_pack_online_at(gw, gw->packs[b->pack_idx[b->string_first[s] + m]], now);
		if (all)
			return true;
	}
	return false;
}

bool gw_unit_online(const struct gw *gw, const struct gw_unit *u)
{
	return gw_unit_online_at(gw, u, gw_mono());
}
