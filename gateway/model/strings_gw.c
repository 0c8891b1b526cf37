/* SPDX-License-Identifier: MIT */
/* gateway/model/strings_gw.c - the strings of gw's bank ([bank] strings):
 * their members, names, current thresholds, and each string now
 * (gw_string_aggregate over its members' fresh snapshots, bank_strings.c). */
#include <math.h>
#include <stdio.h>

#include "gw.h"
#include "strings_gw.h"

int gw_string_member(const struct gw *gw, int s, int m)
{
	const struct conf_bank *b = &gw->conf->bank;
	return b->pack_idx[b->string_first[s] + m];
}

void gw_string_name(int s, char *buf, size_t cap)
{
	snprintf(buf, cap, "string%d", s + 1);
}

double gw_string_deviation_limit(const struct gw *gw, int s)
{
	const struct conf_bank *b = &gw->conf->bank;
	if (b->max_current_deviation >= 0)
		return b->max_current_deviation;
	double rated = 0;
	for (int m = 0; m < b->string_len[s]; m++) {
		const struct conf_pack *c = gw->packs[gw_string_member(gw, s, m)]->cfg;
		double r = c->max_charge_current > 0 ? c->max_charge_current : gw->conf->limits.max_charge_current;
		if (r > 0 && (rated == 0 || r < rated))
			rated = r;
	}
	return fmax(2.0, 0.05 * rated);
}

void gw_string_compute_at(const struct gw *gw, int s, double now, struct gw_string_state *out)
{
	const struct conf_bank *b = &gw->conf->bank;
	const struct bms_snapshot *fresh[CONF_MAX_PACKS] = { 0 };
	bool stale = false;
	int n = b->string_len[s];
	for (int m = 0; m < n; m++) {
		const struct gw_pack *p = gw->packs[gw_string_member(gw, s, m)];
		fresh[m] = gw_pack_online_at(gw, p, now) ? &p->snap : NULL;
		stale = stale || gw_pack_stale_at(gw, p, now);
	}
	gw_string_aggregate(fresh, n, stale, gw_string_deviation_limit(gw, s), gw->conf->soc.current_threshold, out);
}
