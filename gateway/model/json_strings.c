/* SPDX-License-Identifier: MIT */
/* gateway/model/json_strings.c - the strings of a bank of packs in series
 * as JSON: ,"strings":[{...}] in the bank's object (/api/state, --once,
 * MQTT's bank state).  Each string: its name ("string1" ...), its members
 * (name, unit, fresh, voltage, current, SOC, departing current), the values
 * of the string as one pack (bank_strings.h), its concatenated cells (string
 * index, and which pack and cell it is), the current deviation and its
 * own limits (the object a pack has). */
#include <math.h>
#include <stdio.h>

#include "bankstate.h"
#include "gw.h"
#include "json.h"
#include "strings_gw.h"

static void member_json(FILE *o, const struct gw *gw, const struct gw_pack *p, bool departs, double now)
{
	bool fresh = gw_pack_online_at(gw, p, now);
	const struct bms_snapshot *s = &p->snap;
	fputs("{\"name\":", o);
	gw_json_str(o, p->cfg->name);
	fprintf(o, ",\"unit_id\":%d,\"online\":%s,\"stale\":%s", p->cfg->unit_id, fresh ? "true" : "false",
		gw_pack_stale_at(gw, p, now) ? "true" : "false");
	gw_json_num(o, "voltage", s->voltage, fresh && (s->present & BMS_HAS_VOLTAGE), 2);
	gw_json_num(o, "current", s->current, fresh && (s->present & BMS_HAS_CURRENT), 2);
	gw_json_num(o, "soc", s->soc, fresh && (s->present & BMS_HAS_SOC), 1);
	gw_json_num(o, "cells", s->ncells, fresh && (s->present & BMS_HAS_CELLS), 0);
	gw_json_bool(o, "current_departs", departs, fresh);
	fputc('}', o);
}

/* ,"cells":[{"index":1,"pack":"a","cell":1,"mv":3301},...] in string order. */
static void cells_json(FILE *o, const struct gw *gw, int s, const struct gw_string_state *st)
{
	const struct conf_bank *b = &gw->conf->bank;
	fputs(",\"cells\":[", o);
	int index = 0;
	for (int m = 0; st->fresh && m < b->string_len[s]; m++) {
		const struct gw_pack *p = gw->packs[gw_string_member(gw, s, m)];
		if (!(p->snap.present & BMS_HAS_CELLS))
			continue;
		for (unsigned c = 0; c < p->snap.ncells && c < BMS_MAX_CELLS; c++) {
			fprintf(o, "%s{\"index\":%d,\"pack\":", index ? "," : "", index + 1);
			gw_json_str(o, p->cfg->name);
			fprintf(o, ",\"cell\":%u,\"mv\":%u}", c + 1, p->snap.cell_mv[c]);
			index++;
		}
	}
	fputc(']', o);
}

/* ,"cell_min":{"index":n,"pack":"a","cell":c} (null without cells; index
 * and cell null where a member's BMS gave its extremes without numbers) */
static void cell_at_json(FILE *o, const struct gw *gw, int s, const char *key, const struct gw_string_at *at)
{
	fprintf(o, ",\"%s\":", key);
	if (!at->member) {
		fputs("null", o);
		return;
	}
	if (at->string_index)
		fprintf(o, "{\"index\":%u,\"pack\":", at->string_index);
	else
		fputs("{\"index\":null,\"pack\":", o);
	gw_json_str(o, gw->packs[gw_string_member(gw, s, at->member - 1)]->cfg->name);
	gw_json_num(o, "cell", at->index, at->index > 0, 0);
	fputc('}', o);
}

/* ,"temp_max_c":38.0,"temp_max":{"pack":"b","sensor":2} (nulls without) */
static void temp_at_json(FILE *o, const struct gw *gw, int s, const char *key, float c, const struct gw_string_at *at)
{
	bool have = isfinite(c) && at->member;
	fprintf(o, ",\"%s_c\":", key);
	if (have)
		fprintf(o, "%.1f", c);
	else
		fputs("null", o);
	fprintf(o, ",\"%s\":", key);
	if (!have) {
		fputs("null", o);
		return;
	}
	fputs("{\"pack\":", o);
	gw_json_str(o, gw->packs[gw_string_member(gw, s, at->member - 1)]->cfg->name);
	fprintf(o, ",\"sensor\":%u}", at->index);
}

static void string_json(FILE *o, const struct gw *gw, int s, double now)
{
	const struct gw_string_state *st = &gw_bank_at(gw, now)->strings[s];
	char name[16];
	gw_string_name(s, name, sizeof(name));
	fprintf(o, "%s{\"name\":\"%s\",\"members\":[", s ? "," : "", name);
	for (int m = 0; m < st->n; m++) {
		if (m)
			fputc(',', o);
		member_json(o, gw, gw->packs[gw_string_member(gw, s, m)], (st->deviation_mask >> (m & 31)) & 1u, now);
	}
	fprintf(o, "],\"online\":%s,\"stale\":%s,\"members_online\":%d", st->fresh ? "true" : "false",
		st->stale ? "true" : "false", st->fresh_members);
	gw_json_snapshot_fields(o, &st->snap);
	if (!st->fresh)
		fputs(",\"weakest\":null", o);
	else {
		fputs(",\"weakest\":", o);
		if (st->weakest)
			gw_json_str(o, gw->packs[gw_string_member(gw, s, st->weakest - 1)]->cfg->name);
		else
			fputs("null", o);
	}
	gw_json_num(o, "soc_spread", st->soc_spread, st->fresh && st->weakest, 1);
	temp_at_json(o, gw, s, "temp_min", st->fresh ? st->tmin_c : NAN, &st->tmin_at);
	temp_at_json(o, gw, s, "temp_max", st->fresh ? st->tmax_c : NAN, &st->tmax_at);
	gw_json_num(o, "current_deviation_a", st->current_deviation, st->fresh && (st->snap.present & BMS_HAS_CURRENT), 2);
	gw_json_num(o, "max_current_deviation_a", gw_string_deviation_limit(gw, s), true, 2);
	gw_json_bool(o, "current_deviation", st->current_flag, st->fresh && (st->snap.present & BMS_HAS_CURRENT));
	bool cells = st->fresh && st->cell_min_at.member;
	gw_json_num(o, "cell_count", st->cells, cells && !st->cell_ext, 0);
	gw_json_num(o, "cell_min_mv", st->cell_min_mv, cells, 0);
	cell_at_json(o, gw, s, "cell_min", cells ? &st->cell_min_at : &(struct gw_string_at){ 0, 0, 0 });
	gw_json_num(o, "cell_max_mv", st->cell_max_mv, cells, 0);
	cell_at_json(o, gw, s, "cell_max", cells ? &st->cell_max_at : &(struct gw_string_at){ 0, 0, 0 });
	gw_json_num(o, "cell_avg_mv", st->cell_avg_mv, cells && !st->cell_ext, 0);
	gw_json_num(o, "cell_delta_mv", st->cell_max_mv - st->cell_min_mv, cells, 0);
	cells_json(o, gw, s, st);
	/* a member gone stale since the engine's last step (within the second):
	 * the string's limits as they are now, fail-safe */
	struct gw_limits l = gw->string_lim[s];
	if (!st->fresh && l.enabled && !l.failsafe) {
		const struct gw_limits *lim[CONF_MAX_PACKS];
		for (int m = 0; m < st->n; m++)
			lim[m] = &gw->packs[gw_string_member(gw, s, m)]->lim;
		gw_limits_string(lim, st->n, false, &l, NULL, NULL);
	}
	gw_json_limits_fields(o, gw, &l, false);
	fputc('}', o);
}

void gw_strings_json(FILE *o, const struct gw *gw, double now)
{
	fputs(",\"strings\":[", o);
	for (int s = 0; s < gw->conf->bank.nstrings; s++)
		string_json(o, gw, s, now);
	fputc(']', o);
}
