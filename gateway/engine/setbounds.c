/* SPDX-License-Identifier: MIT */
/* gateway/engine/setbounds.c - a BMS setting's bounds and order (setbounds.h). */
#include "setbounds.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define EPS 1e-9

/* The key's own range, before the protocol's. */
static void own_range(enum bms_wkey k, enum conf_chemistry chem, double *lo, double *hi)
{
	*lo = -INFINITY;
	*hi = INFINITY;
	if (BMS_W_CELL_KEYS & BMS_W_BIT(k)) {
		conf_chem_range(chem, lo, hi);
	} else if (k == BMS_W_BALANCE_DELTA_V) {
		*lo = GW_WSET_DELTA_MIN_V;
		*hi = GW_WSET_DELTA_MAX_V;
	} else if (k == BMS_W_SOC) {
		*lo = 0;
		*hi = 100;
	} else if (bms_wkey_switch(k)) {
		*lo = 0;
		*hi = 1;
	} else {
		*lo = 1; /* capacity, the over-currents: at least 1 A or 1 Ah */
	}
}

void gw_wset_range(const struct bms_writer *w, enum bms_wkey k, enum conf_chemistry chem, double *lo, double *hi,
		   double *step)
{
	double plo, phi;
	own_range(k, chem, lo, hi);
	bms_wfield_range(&w->field[k], &plo, &phi, step);
	if (plo > *lo)
		*lo = plo;
	if (phi < *hi)
		*hi = phi;
}

/* The value the BMS last reported for partner k: 1 with *v, 0 when the
 * family does not write k (out of the chain), -1 when it was never read. */
static int partner(const struct gw_wset_ask *a, enum bms_wkey k, double *v)
{
	if (!(a->keys & BMS_W_BIT(k)))
		return 0;
	enum bms_set_key r = bms_wkey_read(k);
	if (!a->have || !bms_settings_has(a->have, r))
		return -1;
	/* what the BMS reported (a float) on the family's step: 3.4, not 3.4000001 */
	double m = fabs((double)a->w->field[k].mul);
	*v = m > 0 ? round(a->have->v[r] * m) / m : a->have->v[r];
	return 1;
}

/* a->value must be over partner k by at least gap (over: it is above k;
 * else under it by at least gap; gap 0 and strict: not equal either). */
static int keep_order(const struct gw_wset_ask *a, enum bms_wkey k, bool over, double gap, bool strict,
		      char *why, size_t wl)
{
	double v;
	int got = partner(a, k, &v);
	const char *me = bms_wkey_name(a->key), *it = bms_wkey_name(k);
	if (got == 0)
		return 0;
	if (got < 0) {
		snprintf(why, wl, "%s is kept in order with %s, which was not read from the BMS yet (settings not read "
			 "yet)", me, it);
		return 503;
	}
	double d = over ? a->value - v : v - a->value;
	if (d + EPS >= gap && (!strict || d > EPS))
		return 0;
	if (gap > 0)
		snprintf(why, wl, "%s %.3f V must be at least %.2f V %s %s %.3f V (what the BMS reports)", me, a->value,
			 gap, over ? "above" : "under", it, v);
	else
		snprintf(why, wl, "%s %.3f V must be %s %s %.3f V (what the BMS reports)", me, a->value,
			 over ? (strict ? "above" : "at or above") : (strict ? "under" : "at or under"), it, v);
	return 422;
}

/* The chain of protections, highest first. */
static const enum bms_wkey chain[] = { BMS_W_CELL_OVP_V, BMS_W_CELL_OVP_RELEASE_V, BMS_W_CELL_UVP_RELEASE_V,
				       BMS_W_CELL_UVP_V };
#define NCHAIN ((int)(sizeof(chain) / sizeof(chain[0])))

static int check_chain(const struct gw_wset_ask *a, char *why, size_t wl)
{
	int at = -1;
	for (int i = 0; i < NCHAIN; i++)
		if (chain[i] == a->key)
			at = i;
	if (at < 0)
		return 0;
	int rc = 0;
	for (int i = at - 1; i >= 0 && !rc; i--) /* the nearest one above that the family writes */
		if (a->keys & BMS_W_BIT(chain[i])) {
			rc = keep_order(a, chain[i], false, GW_WSET_GAP_V, false, why, wl);
			break;
		}
	for (int i = at + 1; i < NCHAIN && !rc; i++)
		if (a->keys & BMS_W_BIT(chain[i])) {
			rc = keep_order(a, chain[i], true, GW_WSET_GAP_V, false, why, wl);
			break;
		}
	return rc;
}

/* cell_uvp_release_v <= balance_start_v < cell_ovp_v */
static int check_balance(const struct gw_wset_ask *a, char *why, size_t wl)
{
	int rc = 0;
	switch (a->key) {
	case BMS_W_BALANCE_START_V:
		rc = keep_order(a, BMS_W_CELL_UVP_RELEASE_V, true, 0, false, why, wl);
		if (!rc)
			rc = keep_order(a, BMS_W_CELL_OVP_V, false, 0, true, why, wl);
		return rc;
	case BMS_W_CELL_OVP_V:
		return keep_order(a, BMS_W_BALANCE_START_V, true, 0, true, why, wl);
	case BMS_W_CELL_UVP_RELEASE_V:
		return keep_order(a, BMS_W_BALANCE_START_V, false, 0, false, why, wl);
	default:
		return 0;
	}
}

int gw_wset_check(const struct gw_wset_ask *a, int64_t *raw, char *why, size_t wl)
{
	const char *name = bms_wkey_name(a->key), *unit = bms_wkey_unit(a->key);
	if (!a->w || !(a->keys & BMS_W_BIT(a->key))) {
		snprintf(why, wl, "%s is not written by this protocol", name ? name : "?");
		return 422;
	}
	double lo, hi, step, olo, ohi;
	gw_wset_range(a->w, a->key, a->chem, &lo, &hi, &step);
	own_range(a->key, a->chem, &olo, &ohi);
	bool cell = (BMS_W_CELL_KEYS & BMS_W_BIT(a->key)) != 0;
	if (!isfinite(a->value)) {
		snprintf(why, wl, "%s: not a number", name);
		return 422;
	}
	if (a->value > hi + EPS || a->value < lo - EPS) {
		bool own = a->value > hi ? a->value > ohi + EPS : a->value < olo - EPS;
		char whose[32];
		snprintf(whose, sizeof(whose), "%s", own && cell ? conf_chem_name(a->chem) : own ? "its own" :
			 "the protocol's");
		if (own && cell)
			snprintf(whose + strlen(whose), sizeof(whose) - strlen(whose), "'s");
		snprintf(why, wl, "%s %g %s %s %s %s %g %s", name, a->value, unit, a->value > hi ? "above" : "under",
			 whose, a->value > hi ? "highest" : "lowest", a->value > hi ? hi : lo, unit);
		return 422;
	}
	if (bms_wfield_raw(&a->w->field[a->key], a->value, raw, why, wl) < 0)
		return 422;
	if (!cell)
		return 0;
	int rc = check_chain(a, why, wl);
	return rc ? rc : check_balance(a, why, wl);
}
