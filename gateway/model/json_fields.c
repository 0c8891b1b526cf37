/* SPDX-License-Identifier: MIT */
/* gateway/model/json_fields.c - the pieces every unit's JSON object is made
 * of (json.h): a number or a boolean that is null where absent, the values
 * of a snapshot, the charge limits.  json.c (a pack, the bank) and
 * json_strings.c (the strings of a bank) both write their objects from
 * them, and call nothing of each other's but json.c the strings' block. */
#include <math.h>
#include <stdio.h>

#include "gw.h"
#include "json.h"

void gw_json_num(FILE *o, const char *key, double v, bool present, int prec)
{
	if (present && isfinite(v))
		fprintf(o, ",\"%s\":%.*f", key, prec, v);
	else
		fprintf(o, ",\"%s\":null", key);
}

void gw_json_bool(FILE *o, const char *key, bool v, bool present)
{
	fprintf(o, ",\"%s\":%s", key, present ? (v ? "true" : "false") : "null");
}

/* The fields every unit has: electrical values, capacities, temperatures,
 * MOSFETs, alarms.  Cells are written by the caller. */
void gw_json_snapshot_fields(FILE *o, const struct bms_snapshot *s)
{
	uint32_t h = s->present;
	gw_json_num(o, "voltage", s->voltage, h & BMS_HAS_VOLTAGE, 2);
	gw_json_num(o, "current", s->current, h & BMS_HAS_CURRENT, 2);
	gw_json_num(o, "power", s->power, h & BMS_HAS_POWER, 1);
	gw_json_num(o, "soc", s->soc, h & BMS_HAS_SOC, 1);
	gw_json_num(o, "soh", s->soh, h & BMS_HAS_SOH, 1);
	gw_json_num(o, "remaining_ah", s->remain_ah, h & BMS_HAS_REMAIN, 3);
	gw_json_num(o, "full_ah", s->full_ah, h & BMS_HAS_FULL, 3);
	gw_json_num(o, "stored_energy_wh", (double)s->voltage * s->remain_ah,
		 (h & BMS_HAS_VOLTAGE) && (h & BMS_HAS_REMAIN), 0);
	gw_json_num(o, "cycles", s->cycles, h & BMS_HAS_CYCLES, 0);
	/* a unit without a current (a balancer) that says nothing is neither
	 * charging nor idle: its state is unknown */
	if (s->state == 0 && !(h & BMS_HAS_CURRENT))
		fputs(",\"state\":null", o);
	else
		fprintf(o, ",\"state\":\"%s\"", s->state == 1 ? "charging" : s->state == 2 ? "discharging" : "idle");
	gw_json_bool(o, "charging", s->state == 1, h & BMS_HAS_CURRENT);
	gw_json_bool(o, "discharging", s->state == 2, h & BMS_HAS_CURRENT);
	fprintf(o, ",\"temps_c\":[");
	for (unsigned i = 0; i < s->ntemps && i < BMS_MAX_TEMPS; i++) {
		if (isfinite(s->temp_c[i]))
			fprintf(o, "%s%.1f", i ? "," : "", s->temp_c[i]);
		else
			fprintf(o, "%snull", i ? "," : "");
	}
	fprintf(o, "]");
	gw_json_num(o, "mos_temp_c", s->mos_temp_c, h & BMS_HAS_MOS_TEMP, 1);
	gw_json_bool(o, "charge_mos", s->chg_mos, h & BMS_HAS_MOSFETS);
	gw_json_bool(o, "discharge_mos", s->dsg_mos, h & BMS_HAS_MOSFETS);
	fprintf(o, ",\"alarms\":[");
	bool first = true;
	for (unsigned i = 0; i < BMS_AL_COUNT; i++)
		if (s->alarms & (1u << i)) {
			fprintf(o, "%s\"%s\"", first ? "" : ",", bms_alarm_name(i));
			first = false;
		}
	fprintf(o, "],\"alarm_names\":\"");
	first = true;
	for (unsigned i = 0; i < BMS_AL_COUNT; i++)
		if (s->alarms & (1u << i)) {
			fprintf(o, "%s%s", first ? "" : ", ", bms_alarm_name(i));
			first = false;
		}
	fprintf(o, "\"");
	gw_json_bool(o, "problem", s->alarms != 0, h & BMS_HAS_ALARMS);
	/* the limits the BMS itself reports (where its protocol has them) */
	gw_json_num(o, "bms_ccl_a", s->bms_ccl_a, h & BMS_HAS_CUR_LIMITS, 1);
	gw_json_num(o, "bms_dcl_a", s->bms_dcl_a, h & BMS_HAS_CUR_LIMITS, 1);
	gw_json_num(o, "bms_cvl_v", s->bms_cvl_v, h & BMS_HAS_VOLT_LIMITS, 2);
	gw_json_num(o, "bms_dvl_v", s->bms_dvl_v, h & BMS_HAS_VOLT_LIMITS, 2);
}

/* ,"limits":{...} of a pack or the bank ([limits]), or null without it;
 * the bank's also says whether one of its packs is stale. */
void gw_json_limits_fields(FILE *o, const struct gw *gw, const struct gw_limits *l, bool bank)
{
	if (!gw->conf->limits.enabled) {
		fputs(",\"limits\":null", o);
		return;
	}
	fprintf(o, ",\"limits\":{\"cvl_v\":%.2f,\"ccl_a\":%.1f,\"dcl_a\":%.1f,\"dvl_v\":%.2f", l->cvl_v, l->ccl_a,
		l->dcl_a, l->dvl_v);
	fprintf(o, ",\"charge_allowed\":%s,\"discharge_allowed\":%s,\"force_charge\":%s,\"full_charge_request\":%s",
		l->charge_allowed ? "true" : "false", l->discharge_allowed ? "true" : "false",
		l->force_charge ? "true" : "false", l->full_charge_request ? "true" : "false");
	fprintf(o, ",\"mode\":\"%s\",\"ccl_reason\":\"%s\",\"dcl_reason\":\"%s\"", gw_limits_mode_name(l->mode),
		gw_limits_reason_name(l->ccl_reason), gw_limits_reason_name(l->dcl_reason));
	const char *exc = gw_limits_exceeded_name(l->exceeded);
	fprintf(o, ",\"exceeded\":%s%s%s,\"limit_exceeded\":%s", exc ? "\"" : "", exc ? exc : "null", exc ? "\"" : "",
		exc ? "true" : "false");
	if (bank)
		fprintf(o, ",\"member_stale\":%s", l->member_stale ? "true" : "false");
	fputc('}', o);
}
