/* SPDX-License-Identifier: MIT */
/* gateway/model/json.c - a pack, the bank and the gateway as JSON objects: the
 * output of --once, and the state MQTT publishes (the same keys, so a user
 * who ran --once knows every field of P/NAME/state).  Every key is always
 * present; what the BMS did not give is null (Home Assistant shows null as
 * "unknown" instead of keeping an old value). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bankstate.h"
#include "gw.h"
#include "health_gw.h"
#include "json.h"

#ifndef BMSGW_VERSION
#error "BMSGW_VERSION comes from the Makefile (VERSION)"
#endif

/* ,"key":"2026-11-22T10:00:00Z" for the wall-clock time of monotonic t */
static void json_time(FILE *o, const char *key, double mono_t)
{
	fputc(',', o);
	gw_json_utc(o, key, (time_t)gw_wall() - (time_t)(gw_mono() - mono_t));
}

/* ,"settings":{...} of a unit with [limits] (engine/settings.h): each value
 * in force and its origin ("config", "modbus", "mqtt"); a cap in A (null:
 * none) and the seconds left on its lease. */
void gw_setting_value_json(FILE *o, const struct gw_settings *s, enum gw_set_id id)
{
	if (gw_settings_is_cap(id)) {
		double a = gw_settings_cap_a(s, id);
		if (a < 0)
			fputs("null", o);
		else
			fprintf(o, "%.1f", a);
	} else {
		fprintf(o, "%lu", (unsigned long)s->v[id]);
	}
}

static void settings_fields(FILE *o, const struct gw *gw, const struct gw_unit *u, double now)
{
	if (!gw->conf->limits.enabled)
		return;
	const struct gw_settings *s = gw_unit_settings(gw, u);
	fputs(",\"settings\":{", o);
	for (int i = 0; i < GW_SET_COUNT; i++) {
		enum gw_set_id id = (enum gw_set_id)i;
		fprintf(o, "%s\"%s\":{\"value\":", i ? "," : "", gw_settings_name(id));
		gw_setting_value_json(o, s, id);
		fprintf(o, ",\"origin\":\"%s\"", gw_settings_origin_name(s->origin[i]));
		if (gw_settings_is_cap(id))
			fprintf(o, ",\"left_s\":%.0f", ceil(gw_settings_cap_left(s, id, now)));
		fputc('}', o);
	}
	fputc('}', o);
}

/* What the BMS says about itself: "bms":{...} with the fields it gave,
 * nothing when it gave none. */
static void ident_fields(FILE *o, const struct bms_ident *id)
{
	if (!bms_ident_any(id))
		return;
	const struct {
		const char *key, *v;
	} f[] = {
		{ "vendor", id->vendor }, { "model", id->model }, { "firmware", id->firmware },
		{ "serial", id->serial }, { "pack_serial", id->pack_serial },
	};
	fprintf(o, ",\"bms\":{");
	bool first = true;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (!f[i].v[0])
			continue;
		fprintf(o, "%s\"%s\":", first ? "" : ",", f[i].key);
		gw_json_str(o, f[i].v);
		first = false;
	}
	fputc('}', o);
}

/* ,"settings_bms":{"cell_ovp_v":{"value":3.65,"unit":"V"},...}: every
 * setting the pack's protocol can read (can: its driver's, an mqtt-json
 * pack's map's), its value null until the BMS gave it (Home Assistant's
 * templates find every key the discovery announced); null for a protocol
 * that reads none. */
static void bms_settings_fields(FILE *o, uint64_t can, const struct bms_settings *st)
{
	if (!can && !st->have) {
		fputs(",\"settings_bms\":null", o);
		return;
	}
	fputs(",\"settings_bms\":{", o);
	bool first = true;
	for (int k = 0; k < BMS_SET_COUNT; k++) {
		bool have = st->have && bms_settings_has(st, (enum bms_set_key)k);
		if (!have && !(can & ((uint64_t)1 << k)))
			continue;
		fprintf(o, "%s\"%s\":{\"value\":", first ? "" : ",", bms_settings_name((enum bms_set_key)k));
		if (have)
			fprintf(o, "%.*f", bms_settings_decimals((enum bms_set_key)k), (double)st->v[k]);
		else
			fputs("null", o);
		fputs(",\"unit\":", o);
		gw_json_str(o, bms_settings_unit((enum bms_set_key)k));
		fputc('}', o);
		first = false;
	}
	fputc('}', o);
}

/* An active balancer's own values and the cells' resistances, null where
 * the protocol has none. */
static void balancer_fields(FILE *o, const struct bms_driver *drv, const struct bms_snapshot *s)
{
	bool bal = (s->present & BMS_HAS_BALANCER) != 0;
	gw_json_num(o, "balance_current_a", s->bal_current, bal, 3);
	gw_json_num(o, "balancer_status", s->bal_status, bal, 0);
	const char *state = bal && drv->balancer_state ? drv->balancer_state(s->bal_status) : NULL;
	fputs(",\"balancer_state\":", o);
	if (state)
		gw_json_str(o, state);
	else
		fputs("null", o);
	gw_json_num(o, "balancer_temp_c", s->bal_temp_c, bal, 1);
	if (!(s->present & BMS_HAS_CELL_RES)) {
		fputs(",\"cell_res_mohm\":null", o);
		return;
	}
	fputs(",\"cell_res_mohm\":[", o);
	for (unsigned i = 0; i < s->ncells && i < BMS_MAX_CELLS; i++)
		fprintf(o, "%s%.1f", i ? "," : "", s->cell_res_mohm[i]);
	fputc(']', o);
}

/* The heater the BMS drives, null where the protocol has none (or did
 * not say yet): on now, its current (null where not transmitted).  Its
 * settings (enabled, start and stop temperature) are settings_bms's
 * heater, heat_start_c and heat_stop_c. */
static void heater_fields(FILE *o, const struct bms_snapshot *s)
{
	bool h = (s->present & BMS_HAS_HEATER) != 0;
	gw_json_bool(o, "heater_on", s->heater_on, h);
	gw_json_num(o, "heater_a", s->heater_a, h && isfinite(s->heater_a), 3);
}

static void energy_fields(FILE *o, const struct gw_energy *e)
{
	fprintf(o, ",\"energy_in_kwh\":%.3f,\"energy_out_kwh\":%.3f", e->in_kwh, e->out_kwh);
}

/* ,"soc_estimate":{...}: the counted SOC beside the BMS's (socunit.h) */
static void soc_estimate(FILE *o, const struct gw_soc_out *e, double now, const char *not_counting)
{
	bool counting = e->flags & GW_SOC_F_COUNTING;
	fputs(",\"soc_estimate\":{\"source\":", o);
	gw_json_str(o, gw_soc_source_name(e));
	gw_json_num(o, "soc", e->soc, true, 1);
	gw_json_num(o, "bms", e->soc_bms, true, 1);
	gw_json_num(o, "counted", e->soc_counted, counting, 1);
	gw_json_num(o, "uncertainty", e->band, counting, 1);
	gw_json_bool(o, "counting", counting, true);
	fputs(",\"not_counting\":", o); /* why a pack that is to count has not started */
	if (not_counting)
		gw_json_str(o, not_counting);
	else
		fputs("null", o);
	gw_json_bool(o, "synced", e->flags & GW_SOC_F_SYNCED, true);
	gw_json_bool(o, "resumed", e->flags & GW_SOC_F_RESUMED, true);
	gw_json_num(o, "remaining_ah", e->remaining_ah, counting, 2);
	gw_json_num(o, "capacity_ah", e->capacity_ah, true, 2);
	gw_json_bool(o, "capacity_measured", e->flags & GW_SOC_F_MEASURED, true);
	fprintf(o, ",\"capacity_samples\":%u", e->capacity_samples);
	gw_json_num(o, "soh_measured", e->soh_measured, e->flags & GW_SOC_F_MEASURED, 1);
	if (e->since_full_s >= 0)
		json_time(o, "last_full", now - e->since_full_s);
	else
		fputs(",\"last_full\":null", o);
	fprintf(o, ",\"full_points\":%u,\"empty_points\":%u,\"rest_points\":%u,\"knee_points\":%u,"
		"\"light_points\":%u}", e->full_points, e->empty_points, e->rest_points, e->knee_points, e->light_points);
}

void gw_json_health_fields(FILE *o, const struct gw *gw, const struct gw_pack *p)
{
	struct gw_health_out h;
	bool on = gw_health_pack_out(gw, p, &h);
	fputs(",\"cells_ir_mohm\":[", o);
	for (int c = 0; on && c < h.ncells; c++) {
		if (isfinite(h.cell_ir_mohm[c]))
			fprintf(o, "%s%.3f", c ? "," : "", (double)h.cell_ir_mohm[c]);
		else
			fprintf(o, "%snull", c ? "," : "");
	}
	fputc(']', o);
	gw_json_num(o, "ir_mohm", h.ir_mohm, on, 3);
	gw_json_num(o, "ir_samples", h.ir_samples, on, 0);
	gw_json_num(o, "ir_30d_mohm", h.ir_30d_mohm, on, 3);
	gw_json_num(o, "ir_rise_pct", h.ir_rise_pct, on, 1);
	if (on && h.weak) {
		fprintf(o, ",\"weak_cell\":{\"cell\":%u", h.weak_cell);
		gw_json_num(o, "ir_rank", h.weak_ir_rank, h.weak_ir_rank > 0, 0);
		gw_json_num(o, "capacity_deficit_pct", h.weak_deficit_pct, true, 1);
		gw_json_num(o, "capacity_deficit_min_pct", h.weak_deficit_min_pct, true, 1);
		fprintf(o, ",\"knees_low\":%u,\"knees_high\":%u}", h.weak_knees_low, h.weak_knees_high);
	} else {
		fputs(",\"weak_cell\":null", o);
	}
	if (!on) {
		fputs(",\"imbalance\":null", o);
		return;
	}
	fputs(",\"imbalance\":{", o);
	fprintf(o, "\"knees\":%u", h.knees);
	gw_json_num(o, "spread_full_mv", h.spread_full_mv, h.spread_full_mv > 0, 0);
	gw_json_num(o, "spread_rest_mv", h.spread_rest_mv, h.spread_rest_mv > 0, 0);
	gw_json_num(o, "spread_full_trend_mv_day", h.spread_full_trend, true, 2);
	gw_json_num(o, "spread_rest_trend_mv_day", h.spread_rest_trend, true, 2);
	fputc('}', o);
}

/* ,"chemistry":"lfp","chemistry_fit":"outside","chemistry_error":"its
 * cells read ...","chemistry_fitting":"lto": the pack's chemistry, whether
 * its cells fit it (engine/chemfit.h; null before any cells), what is wrong
 * and the chemistry they point to (null: none). */
static void chemistry_fields(FILE *o, const struct gw_pack *p)
{
	const char *st = gw_chemfit_state_name(&p->chem);
	fprintf(o, ",\"chemistry\":\"%s\",\"chemistry_fit\":", conf_chem_name(p->cfg->soc.chemistry));
	if (st)
		fprintf(o, "\"%s\"", st);
	else
		fputs("null", o);
	char why[192];
	gw_chemfit_text(&p->chem, why, sizeof(why));
	fputs(",\"chemistry_error\":", o);
	if (why[0])
		gw_json_str(o, why);
	else
		fputs("null", o);
	int c = gw_chemfit_pointed(&p->chem);
	if (c >= 0)
		fprintf(o, ",\"chemistry_fitting\":\"%s\"", conf_chem_name((enum conf_chemistry)c));
	else
		fputs(",\"chemistry_fitting\":null", o);
}

/* The lowest, highest, mean and spread of a pack's cells: of its cell list,
 * else of its BMS's own highest and lowest cell ("cell_minmax_from":
 * "cells" or "bms"; no mean then, a number null where the BMS gives none;
 * "bms" too where the BMS's own lie beyond a list that is not every cell);
 * its BMS's own highest and lowest temperature. */
static void cell_stats_fields(FILE *o, const struct bms_snapshot *s)
{
	struct bms_cell_stats cs;
	bms_cell_stats(s, &cs);
	bool cells = cs.from != BMS_CELLS_NONE;
	gw_json_num(o, "cell_min_mv", cs.min_mv, cells, 0);
	gw_json_num(o, "cell_min_index", cs.min_idx, cells && cs.min_idx, 0);
	gw_json_num(o, "cell_max_mv", cs.max_mv, cells, 0);
	gw_json_num(o, "cell_max_index", cs.max_idx, cells && cs.max_idx, 0);
	gw_json_num(o, "cell_avg_mv", cs.avg_mv, cs.from == BMS_CELLS_LIST, 0);
	gw_json_num(o, "cell_delta_mv", cs.delta_mv, cells, 0);
	bool listed = cs.from == BMS_CELLS_LIST && cs.min_idx && cs.max_idx; /* none of the BMS's own beyond */
	fprintf(o, ",\"cell_minmax_from\":%s",
		listed ? "\"cells\"" : cs.from != BMS_CELLS_NONE ? "\"bms\"" : "null");
	bool t = (s->present & BMS_HAS_TEMP_EXT) != 0;
	gw_json_num(o, "bms_temp_max_c", s->ext_tmax_c, t, 1);
	gw_json_num(o, "bms_temp_min_c", s->ext_tmin_c, t, 1);
}

void gw_pack_json(FILE *o, const struct gw *gw, const struct gw_pack *p)
{
	const struct bms_snapshot *s = &p->snap;
	fprintf(o, "{\"pack\":");
	gw_json_str(o, p->cfg->name);
	fprintf(o, ",\"protocol\":\"%s\",\"port\":", p->drv->name);
	gw_json_str(o, p->cfg->port);
	const struct gw_bus_stats *ws = gw_pack_bus_stats(p);
	fprintf(o, ",\"address\":%d,\"unit_id\":%d,\"ok\":%s", p->cfg->address, p->cfg->unit_id,
		p->have_data ? "true" : "false");
	fprintf(o, ",\"online\":%s", gw_pack_online(gw, p) ? "true" : "false");
	if (p->drv->ble && p->drv->ble->pin && p->cfg->is_ble) /* its PIN: taken or refused, never itself */
		fprintf(o, ",\"auth\":\"%s\"", p->auth == GW_AUTH_FAILED ? "failed" : p->auth == GW_AUTH_OK ? "ok" :
			"unknown");
	fprintf(o, ",\"wire\":{\"checksum_errors\":%u,\"short_frames\":%u,\"timeouts\":%u,\"exceptions\":%u,"
		"\"implausible\":%u}",
		ws->checksum_errors, ws->short_frames, ws->timeouts, ws->exceptions, ws->implausible);
	if (p->drv->messages) /* mqtt-json: its messages that were bad (its topic is its own wire) */
	{
		fputs(",\"topic\":", o);
		gw_json_str(o, p->cfg->topic);
		fprintf(o, ",\"bad_messages\":%u", ws->bad_messages);
	}
	ident_fields(o, &p->ident);
	bms_settings_fields(o, p->drv->settings | (p->cfg->is_mqtt ? bms_jsonmap_settings(&p->cfg->fields.map) : 0),
			    &p->settings);
	fprintf(o, ",\"good_polls\":%u,\"failed_polls\":%u", p->good_polls, p->failed_polls);
	energy_fields(o, &p->energy);
	struct gw_soc_out so;
	double now = gw_mono();
	gw_soc_pack_out(gw, p, now, &so);
	soc_estimate(o, &so, now, gw_soc_idle_text(p->soc.idle));
	chemistry_fields(o, p);
	gw_json_limits_fields(o, gw, &p->lim, false); /* status: a stale pack shows its fail-safe */
	settings_fields(o, gw, &(struct gw_unit){ .pack = (struct gw_pack *)p }, now);
	if (!p->have_data) {
		fprintf(o, ",\"error\":");
		gw_json_str(o, p->last_error[0] ? p->last_error : "no answer");
		fprintf(o, "}\n");
		return;
	}
	json_time(o, "updated", p->last_good);
	fprintf(o, ",\"age_s\":%.0f", gw_mono() - p->last_good);
	gw_json_snapshot_fields(o, s);
	fprintf(o, ",\"cell_count\":%u,\"cells_mv\":[", s->ncells);
	for (unsigned i = 0; i < s->ncells && i < BMS_MAX_CELLS; i++)
		fprintf(o, "%s%u", i ? "," : "", s->cell_mv[i]);
	fprintf(o, "]");
	cell_stats_fields(o, s);
	fprintf(o, ",\"balancing\":[");
	bool first = true;
	for (unsigned i = 0; i < 32; i++)
		if (s->balance & (1u << i)) {
			fprintf(o, "%s%u", first ? "" : ",", i + 1);
			first = false;
		}
	fprintf(o, "]");
	gw_json_bool(o, "balancing_any", s->balance != 0 || ((s->present & BMS_HAS_BALANCING) && s->balancing),
		  s->present & (BMS_HAS_BALANCE | BMS_HAS_BALANCING));
	balancer_fields(o, p->drv, s);
	heater_fields(o, s);
	gw_json_health_fields(o, gw, p);
	fprintf(o, ",\"raw_alarms\":[");
	for (unsigned i = 0; i < s->nraw && i < BMS_MAX_RAW_ALARMS; i++)
		fprintf(o, "%s%u", i ? "," : "", s->raw_alarms[i]);
	fprintf(o, "]}\n");
}

/* ["rack1","shed"] of the bank packs whose bit is set in mask */
static void pack_names(FILE *o, const struct gw *gw, const char *key, uint32_t mask)
{
	const struct conf_bank *b = &gw->conf->bank;
	fprintf(o, ",\"%s\":[", key);
	bool first = true;
	for (int k = 0; k < b->npacks && k < 32; k++)
		if (mask & (1u << k)) {
			fprintf(o, "%s", first ? "" : ",");
			gw_json_str(o, gw->packs[b->pack_idx[k]]->cfg->name);
			first = false;
		}
	fprintf(o, "]");
}

/* "rack1", the bank pack at 1-based position pos, or null */
static void pack_at(FILE *o, const struct gw *gw, const char *key, int pos)
{
	const struct conf_bank *b = &gw->conf->bank;
	fprintf(o, ",\"%s\":", key);
	if (pos >= 1 && pos <= b->npacks)
		gw_json_str(o, gw->packs[b->pack_idx[pos - 1]]->cfg->name);
	else
		fprintf(o, "null");
}

/* Where the bank's current and SOC come from ([bank] shunt): "shunt" (its
 * name, null without), "current_from" and "soc_from" ("shunt" or
 * "packs"), "shunt_fresh". */
static void shunt_fields(FILE *o, const struct gw *gw, const struct gw_bank_state *b, double now)
{
	const struct gw_pack *sh = gw_bank_shunt(gw);
	fprintf(o, ",\"shunt\":");
	if (sh)
		gw_json_str(o, sh->cfg->name);
	else
		fprintf(o, "null");
	fprintf(o, ",\"current_from\":\"%s\",\"soc_from\":\"%s\"", b->shunt.current ? "shunt" : "packs",
		b->shunt.soc ? "shunt" : "packs");
	gw_json_bool(o, "shunt_fresh", sh && gw_pack_online_at(gw, sh, now), sh != NULL);
}

void gw_bank_json_at(FILE *o, const struct gw *gw, double now)
{
	const struct gw_bank_view *v = gw_bank_at(gw, now);
	const struct gw_bank_state *b = &v->bank;
	fprintf(o, "{\"bank\":true,\"unit_id\":%d,\"ok\":%s,\"online\":%s", gw->conf->bank.unit_id,
		b->online ? "true" : "false", b->online ? "true" : "false");
	fprintf(o, ",\"packs_online\":%u,\"packs_configured\":%u", b->online, b->configured);
	gw_json_bool(o, "pack_missing", b->missing > 0, true); /* a balancer unit is never a missing pack */
	pack_names(o, gw, "online_packs", b->online_mask);
	pack_names(o, gw, "missing_packs", b->missing_mask);
	pack_names(o, gw, "soc_left_out", b->soc.left_out);
	shunt_fields(o, gw, b, now);
	gw_json_bool(o, "deviation", b->rb.deviation, b->online > 0);
	pack_names(o, gw, "deviating_packs", b->rb.deviation_mask);
	energy_fields(o, &gw->bank_energy);
	struct gw_soc_out so;
	gw_bank_counted(v, now, &so);
	soc_estimate(o, &so, now, NULL);
	gw_json_limits_fields(o, gw, &gw->bank_lim, true);
	settings_fields(o, gw, &(struct gw_unit){ .bank = true }, now);
	/* the bank's data is as new as its freshest pack */
	if (v->newest >= 0) {
		json_time(o, "updated", v->newest);
		fprintf(o, ",\"age_s\":%.0f", now - v->newest);
	}
	gw_json_snapshot_fields(o, &b->snap);
	bool cells = b->rb.have_cells;
	gw_json_num(o, "cell_min_mv", b->rb.min_mv, cells, 0);
	pack_at(o, gw, "cell_min_pack", cells ? b->rb.min_pack : 0);
	gw_json_num(o, "cell_min_index", b->rb.min_cell, cells && b->rb.min_cell, 0);
	gw_json_num(o, "cell_max_mv", b->rb.max_mv, cells, 0);
	pack_at(o, gw, "cell_max_pack", cells ? b->rb.max_pack : 0);
	gw_json_num(o, "cell_max_index", b->rb.max_cell, cells && b->rb.max_cell, 0);
	gw_json_num(o, "cell_avg_mv", b->rb.avg_mv, cells && !b->rb.no_avg, 0);
	gw_json_num(o, "cell_delta_mv", b->rb.max_mv - b->rb.min_mv, cells, 0);
	if (gw->conf->bank.nstrings)
		gw_strings_json(o, gw, now);
	fprintf(o, "}\n");
}

void gw_bank_json(FILE *o, const struct gw *gw)
{
	gw_bank_json_at(o, gw, gw_mono());
}
