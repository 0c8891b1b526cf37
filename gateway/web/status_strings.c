/* SPDX-License-Identifier: MIT */
/* gateway/web/status_strings.c - the strings of a bank of packs in series
 * ([bank] strings) in /metrics: families bmsgw_string_*, each sample
 * labelled string="string1" ...
 *
 * As for a pack, a string that is not fresh (a member not fresh) keeps its
 * online and stale flags, its membership and its limits (the fail-safe
 * ones while it is not fresh), and leaves out its value gauges: Prometheus
 * shows a gap, not a flat line.  Read from the model only (bank_strings.h). */
#include <stdio.h>

#include "../core/prom.h"
#include "../model/bankstate.h"
#include "../model/gw.h"
#include "../model/strings_gw.h"
#include "status.h"

/* name{string="stringN"} value */
static void string_sample(FILE *o, const char *name, int s, double v)
{
	char sn[16];
	gw_string_name(s, sn, sizeof(sn));
	fprintf(o, "%s{string=\"%s\"}", name, sn);
	gw_prom_value(o, v);
}

/* Which packs each string has, in series order, and its flags. */
static void membership_metrics(const struct gw *gw, FILE *o, const struct gw_string_state *st, int n)
{
	gw_prom_family(o, "bmsgw_string_member", "gauge",
		       "A pack of a string of packs in series; position 1 is the first named.");
	for (int s = 0; s < n; s++)
		for (int m = 0; m < st[s].n; m++) {
			char sn[16];
			gw_string_name(s, sn, sizeof(sn));
			fprintf(o, "bmsgw_string_member{string=\"%s\",pack=", sn);
			gw_prom_label(o, gw->packs[gw_string_member(gw, s, m)]->cfg->name);
			fprintf(o, ",position=\"%d\"} 1\n", m + 1);
		}
	static const struct { const char *name, *help; } f[] = {
		{ "bmsgw_string_online", "1 while every member of the string has fresh data." },
		{ "bmsgw_string_stale", "1 while a member of the string is stale." },
		{ "bmsgw_string_members_online", "Members of the string with fresh data." },
		{ "bmsgw_string_max_current_deviation_amperes",
		  "How far a member's current may depart from the string's mean before it is flagged." },
	};
	for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
		gw_prom_family(o, f[k].name, "gauge", f[k].help);
		for (int s = 0; s < n; s++) {
			double v[] = { st[s].fresh, st[s].stale, st[s].fresh_members, gw_string_deviation_limit(gw, s) };
			string_sample(o, f[k].name, s, v[k]);
		}
	}
}

/* The value of gauge k of a fresh string, false when it has none. */
static bool string_value(const struct gw_string_state *st, int k, double *v)
{
	const struct bms_snapshot *p = &st->snap;
	bool cells = st->cell_min_at.member != 0, cur = (p->present & BMS_HAS_CURRENT) != 0;
	switch (k) {
	case 0: *v = p->voltage; return (p->present & BMS_HAS_VOLTAGE) != 0;
	case 1: *v = p->current; return cur;
	case 2: *v = p->soc; return (p->present & BMS_HAS_SOC) != 0;
	case 3: *v = p->remain_ah; return (p->present & BMS_HAS_REMAIN) != 0;
	case 4: *v = p->full_ah; return (p->present & BMS_HAS_FULL) != 0;
	case 5: *v = st->current_deviation; return cur;
	case 6: *v = st->current_flag; return cur;
	case 7: *v = st->cell_min_mv / 1000.0; return cells;
	case 8: *v = st->cell_max_mv / 1000.0; return cells;
	case 9: *v = st->soc_spread; return st->weakest != 0;
	}
	return false;
}

/* A fresh string's values. */
static void values_metrics(FILE *o, const struct gw_string_state *st, int n)
{
	static const struct { const char *name, *help; } f[] = {
		{ "bmsgw_string_voltage_volts", "String voltage: the sum of its members'." },
		{ "bmsgw_string_current_amperes", "String current (+ = charging): the mean of its members'." },
		{ "bmsgw_string_soc_percent", "String SOC: its weakest member's." },
		{ "bmsgw_string_remaining_ah", "Remaining capacity of the string: its weakest member's." },
		{ "bmsgw_string_full_ah", "Full capacity of the string: its smallest member's." },
		{ "bmsgw_string_current_deviation_amperes",
		  "The largest departure of a member's current from the string's mean." },
		{ "bmsgw_string_current_deviation",
		  "1 while a member's current departs from the string's mean by more than the threshold "
		  "(a broken series link)." },
		{ "bmsgw_string_cell_min_volts", "Lowest cell voltage of the string." },
		{ "bmsgw_string_cell_max_volts", "Highest cell voltage of the string." },
		{ "bmsgw_string_soc_spread_percent", "SOC of the fullest member minus the emptiest's." },
	};
	for (int k = 0; k < (int)(sizeof(f) / sizeof(f[0])); k++) {
		gw_prom_family(o, f[k].name, "gauge", f[k].help);
		for (int s = 0; s < n; s++) {
			double v;
			if (st[s].fresh && string_value(&st[s], k, &v))
				string_sample(o, f[k].name, s, v);
		}
	}
}

/* Each string's own limits ([limits]): always, fail-safe while not fresh. */
static void limits_metrics(const struct gw *gw, FILE *o, int n)
{
	static const struct { const char *name, *help; } f[] = {
		{ "bmsgw_string_charge_voltage_limit_volts", "String CVL: the sum of its members' CVLs." },
		{ "bmsgw_string_charge_current_limit_amperes", "String CCL: its smallest member's; 0 = no charging." },
		{ "bmsgw_string_discharge_current_limit_amperes",
		  "String DCL: its smallest member's; 0 = no discharging." },
		{ "bmsgw_string_discharge_voltage_limit_volts", "String DVL: the sum of its members' DVLs." },
		{ "bmsgw_string_charge_allowed", "1 while every member allows charging." },
		{ "bmsgw_string_discharge_allowed", "1 while every member allows discharging." },
		{ "bmsgw_string_failsafe", "1 while the string's limits are fail-safe (a member not fresh)." },
	};
	if (!gw->conf->limits.enabled)
		return;
	for (int k = 0; k < (int)(sizeof(f) / sizeof(f[0])); k++) {
		gw_prom_family(o, f[k].name, "gauge", f[k].help);
		for (int s = 0; s < n; s++) {
			const struct gw_limits *l = &gw->string_lim[s];
			double v[] = { l->cvl_v, l->ccl_a, l->dcl_a, l->dvl_v, l->charge_allowed, l->discharge_allowed,
				       l->failsafe };
			if (k == 0 || k == 3) { /* a voltage limit not known: no sample */
				if (!l->volt_valid)
					continue;
			}
			string_sample(o, f[k].name, s, v[k]);
		}
	}
}

void gw_status_strings_metrics(const struct gw *gw, FILE *o)
{
	int n = gw->conf->bank.enabled ? gw->conf->bank.nstrings : 0;
	if (n <= 0)
		return;
	const struct gw_bank_view *v = gw_bank_at(gw, gw_mono());
	membership_metrics(gw, o, v->strings, n);
	values_metrics(o, v->strings, n);
	limits_metrics(gw, o, n);
}
