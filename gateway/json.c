/* gateway/json.c - one pack as one JSON object: the output of --once (and
 * the state that other outputs publish). */
#include <math.h>
#include <stdio.h>

#include "gw.h"
#include "json.h"

static void json_num(FILE *o, const char *key, double v, bool present, int prec)
{
	if (present && isfinite(v))
		fprintf(o, ",\"%s\":%.*f", key, prec, v);
	else
		fprintf(o, ",\"%s\":null", key);
}

static void json_str(FILE *o, const char *s)
{
	fputc('"', o);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(o, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(o, "\\u%04x", ch);
		else
			fputc(ch, o);
	}
	fputc('"', o);
}

void gw_pack_json(FILE *o, const struct gw_pack *p)
{
	const struct bms_snapshot *s = &p->snap;
	uint32_t h = s->present;
	fprintf(o, "{\"pack\":");
	json_str(o, p->cfg->name);
	fprintf(o, ",\"protocol\":\"%s\",\"port\":", p->drv->name);
	json_str(o, p->cfg->port);
	const struct gw_wire_stats *ws = gw_pack_wire_stats(p);
	fprintf(o, ",\"address\":%d,\"unit_id\":%d,\"ok\":%s", p->cfg->address, p->cfg->unit_id,
		p->have_data ? "true" : "false");
	fprintf(o, ",\"wire\":{\"checksum_errors\":%u,\"short_frames\":%u,\"timeouts\":%u}",
		ws->checksum_errors, ws->short_frames, ws->timeouts);
	if (!p->have_data) {
		fprintf(o, ",\"error\":");
		json_str(o, p->last_error[0] ? p->last_error : "no answer");
		fprintf(o, "}\n");
		return;
	}
	json_num(o, "voltage", s->voltage, h & BMS_HAS_VOLTAGE, 2);
	json_num(o, "current", s->current, h & BMS_HAS_CURRENT, 2);
	json_num(o, "power", s->power, h & BMS_HAS_POWER, 1);
	json_num(o, "soc", s->soc, h & BMS_HAS_SOC, 1);
	json_num(o, "soh", s->soh, h & BMS_HAS_SOH, 1);
	json_num(o, "remaining_ah", s->remain_ah, h & BMS_HAS_REMAIN, 3);
	json_num(o, "full_ah", s->full_ah, h & BMS_HAS_FULL, 3);
	json_num(o, "cycles", s->cycles, h & BMS_HAS_CYCLES, 0);
	fprintf(o, ",\"state\":\"%s\"",
		s->state == 1 ? "charging" : s->state == 2 ? "discharging" : "idle");
	fprintf(o, ",\"cell_count\":%u,\"cells_mv\":[", s->ncells);
	for (unsigned i = 0; i < s->ncells && i < BMS_MAX_CELLS; i++)
		fprintf(o, "%s%u", i ? "," : "", s->cell_mv[i]);
	fprintf(o, "]");
	struct bms_cell_stats cs;
	bms_cell_stats(s, &cs);
	if (s->ncells)
		fprintf(o, ",\"cell_min_mv\":%u,\"cell_min_index\":%u,\"cell_max_mv\":%u,"
			   "\"cell_max_index\":%u,\"cell_avg_mv\":%u,\"cell_delta_mv\":%u",
			cs.min_mv, cs.min_idx, cs.max_mv, cs.max_idx, cs.avg_mv, cs.delta_mv);
	fprintf(o, ",\"temps_c\":[");
	for (unsigned i = 0; i < s->ntemps && i < BMS_MAX_TEMPS; i++)
		fprintf(o, "%s%.1f", i ? "," : "", s->temp_c[i]);
	fprintf(o, "]");
	json_num(o, "mos_temp_c", s->mos_temp_c, h & BMS_HAS_MOS_TEMP, 1);
	if (h & BMS_HAS_MOSFETS)
		fprintf(o, ",\"charge_mos\":%s,\"discharge_mos\":%s", s->chg_mos ? "true" : "false",
			s->dsg_mos ? "true" : "false");
	else
		fprintf(o, ",\"charge_mos\":null,\"discharge_mos\":null");
	fprintf(o, ",\"balancing\":[");
	bool first = true;
	for (unsigned i = 0; i < 32; i++)
		if (s->balance & (1u << i)) {
			fprintf(o, "%s%u", first ? "" : ",", i + 1);
			first = false;
		}
	fprintf(o, "],\"alarms\":[");
	first = true;
	for (unsigned i = 0; i < BMS_AL_COUNT; i++)
		if (s->alarms & (1u << i)) {
			fprintf(o, "%s\"%s\"", first ? "" : ",", bms_alarm_name(i));
			first = false;
		}
	fprintf(o, "],\"raw_alarms\":[");
	for (unsigned i = 0; i < s->nraw && i < BMS_MAX_RAW_ALARMS; i++)
		fprintf(o, "%s%u", i ? "," : "", s->raw_alarms[i]);
	fprintf(o, "]}\n");
}

