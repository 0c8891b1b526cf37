/* SPDX-License-Identifier: MIT */
/* gateway/model/json.h - a pack and the bank as JSON objects (--once, MQTT state). */
#ifndef GATEWAY_MODEL_JSON_H
#define GATEWAY_MODEL_JSON_H

#include <stdio.h>
#include <time.h>

#include "../core/jsonw.h"

#include "../engine/pack_limits.h"
#include "../engine/settings.h"

struct gw;
struct gw_pack;

/* One runtime setting's value as the state JSON and MQTT's set/result show
 * it: a cap in A with one decimal (null: none), the others as integers. */
void gw_setting_value_json(FILE *o, const struct gw_settings *s, enum gw_set_id id);

/* One line: {"pack":NAME,"protocol":...,"ok":true,"voltage":...} with every
 * decoded field (null where the protocol does not carry it), the wire's
 * error counters, the poll counters, the energy counters and the charge
 * limits ("limits", null without [limits]); or ok:false and the reason the
 * pack did not answer. */
void gw_pack_json(FILE *o, const struct gw *gw, const struct gw_pack *p);
/* One line: the bank unit as served now ({"bank":true,"packs_online":...}),
 * with the same value keys as a pack; _at: at monotonic time now. */
void gw_bank_json(FILE *o, const struct gw *gw);
void gw_bank_json_at(FILE *o, const struct gw *gw, double now);
/* ,"strings":[...] of a bank of strings ([bank] strings; json_strings.c):
 * each string with its members, values, cells and limits. */
void gw_strings_json(FILE *o, const struct gw *gw, double now);

/* The pieces every unit's object is made of (json_fields.c): ,"key":value (null
 * when absent or not a number); the values of a snapshot; ,"limits":{...}
 * (the bank's with member_stale). */
void gw_json_num(FILE *o, const char *key, double v, bool present, int prec);
void gw_json_bool(FILE *o, const char *key, bool v, bool present);
void gw_json_snapshot_fields(FILE *o, const struct bms_snapshot *s);
void gw_json_limits_fields(FILE *o, const struct gw *gw, const struct gw_limits *l, bool bank);
/* ,"cells_ir_mohm":[...],"ir_mohm":...,"weak_cell":{...},"imbalance":{...}
 * of a pack ([health]; model/health_gw.h; json.c): null and [] with
 * [health] off. */
void gw_json_health_fields(FILE *o, const struct gw *gw, const struct gw_pack *p);

#endif
