/* SPDX-License-Identifier: MIT */
/* bms/jsonmap.h - a pack whose values arrive as one JSON object a message
 * (protocol mqtt-json): the field map of its `fields =` key and the pure
 * mapper, JSON text + field map in, snapshot out (bms/base/jsonmap.c).
 *
 * `fields = voltage:v, current:i, soc:soc, cells:cells` pairs one of
 * bmsgw's fields (the names /api/state uses, below) with where the message
 * carries it: a key, or a dotted path through nested objects ("Dc.Voltage"),
 * where a segment of digits indexes an array ("cells.0").  An array field
 * (cells, cells_mv, temps_c) may instead name numbered keys with one '#'
 * ("cells:Voltages.Cell#": Cell1, Cell2, ... up to the first one missing).  The message is
 * parsed by jansson (https://jansson.readthedocs.io/, Debian's
 * libjansson-dev); every value is checked for its type, finite and its range
 * before it goes into the snapshot, and the snapshot then passes the
 * plausibility table like every other (bms_plausible()).
 */
#ifndef BMS_JSONMAP_H
#define BMS_JSONMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bms.h"

/* bmsgw's fields a message may carry.  X(ID, "name", kind): kind N a number,
 * B a boolean (true/false, 0/1, "ON"/"OFF" as ESPHome's binary sensors say
 * it), A an array of numbers; name_N (cell_1 ... cell_32, temp_1 ... temp_8)
 * are one value each. */
#define BMS_JF_LIST(X) \
	X(VOLTAGE, "voltage", 'N')               /* V */ \
	X(CURRENT, "current", 'N')               /* A, + charging */ \
	X(POWER, "power", 'N')                   /* W, + charging */ \
	X(SOC, "soc", 'N')                       /* % */ \
	X(SOH, "soh", 'N')                       /* % */ \
	X(REMAIN, "remain_ah", 'N')              /* Ah */ \
	X(FULL, "full_ah", 'N')                  /* Ah */ \
	X(CYCLES, "cycles", 'N')                 /* count, a whole number */ \
	X(CELLS, "cells", 'A')                   /* V each */ \
	X(CELLS_MV, "cells_mv", 'A')             /* mV each */ \
	X(CELL, "cell", 'N')                     /* cell_N, V */ \
	X(TEMPS, "temps_c", 'A')                 /* degC each */ \
	X(TEMP, "temp", 'N')                     /* temp_N, degC */ \
	X(MOS_TEMP, "mos_temp_c", 'N')           /* degC */ \
	X(CHG_MOS, "charge_mos", 'B')            /* the charge switch is on */ \
	X(DSG_MOS, "discharge_mos", 'B')         /* the discharge switch is on */ \
	X(BALANCING, "balancing", 'B')           /* balancing now */ \
	X(CCL, "ccl_a", 'N')                     /* the BMS's charge current limit, A */ \
	X(DCL, "dcl_a", 'N')                     /* ... discharge, A */ \
	X(ALARM, "alarm", 'B')                   /* alarm_<name>: one alarm bit (bms_alarm_name()) */ \
	X(SETTING, "setting", 'N')               /* setting_<key>: one of the BMS's own settings, in its
						  * key's unit (bms_settings_name(): setting_cell_ovp_v) */

enum bms_jf {
#define BMS_JF_ENUM_(id, name, kind) BMS_JF_##id,
	BMS_JF_LIST(BMS_JF_ENUM_)
#undef BMS_JF_ENUM_
	BMS_JF_COUNT
};

#define BMS_JSON_PATH_MAX 64    /* a path's bytes, its NUL included */
#define BMS_JSON_MAP_MAX 40     /* pairs in one map */
#define BMS_JSON_MSG_MAX 4000   /* the longest message taken (bytes) */

struct bms_jsonmap_entry {
	uint8_t field;              /* enum bms_jf */
	uint8_t index;              /* cell_N, temp_N: N - 1; alarm_<name>: its bit */
	char path[BMS_JSON_PATH_MAX];
};
struct bms_jsonmap {
	uint8_t n;
	struct bms_jsonmap_entry e[BMS_JSON_MAP_MAX];
};

/* Parse `fields =` text into m: 0, or -1 with why[0..cap) saying what is
 * wrong (an unknown field, a pair without ':', a field twice, too many). */
int bms_jsonmap_parse(const char *text, struct bms_jsonmap *m, char *why, size_t cap);
/* The same, adding text's pairs to those m holds (a `fields =` line after
 * another: a map longer than one line of the file); m unchanged on error
 * but for the pairs before the wrong one. */
int bms_jsonmap_add(const char *text, struct bms_jsonmap *m, char *why, size_t cap);
/* Does m map field f (any index)? */
bool bms_jsonmap_has(const struct bms_jsonmap *m, enum bms_jf f);
/* The name of field f ("voltage"). */
const char *bms_jf_name(enum bms_jf f);

/* The BMS settings m maps (bit k: setting_<key k>; BMS_SET_BIT). */
uint64_t bms_jsonmap_settings(const struct bms_jsonmap *m);

/* Map the message text[0..len) onto s and, where set is not NULL, the
 * settings it carries onto set (both zeroed first; a setting_<key> the
 * message lacks is absent): BMS_OK, or BMS_E_INVALID (no JSON object, a
 * required field missing: voltage, and soc or current where the map has
 * them), BMS_E_RANGE (a value of the wrong type, not finite or out of its
 * range), with why[0..cap) saying which. */
int bms_jsonmap_apply(const struct bms_jsonmap *m, const char *text, size_t len, struct bms_snapshot *s,
		      struct bms_settings *set, char *why, size_t cap);

/* A message as the MQTT transport hands it to the driver (one record):
 * BMS_MSG_MAGIC0, BMS_MSG_MAGIC1, flags, the length (little-endian 16 bit),
 * then the payload.  BMS_MSG_TOO_LONG: the message was longer than
 * BMS_JSON_MSG_MAX and is not carried (length 0): the driver rejects it. */
#define BMS_MSG_MAGIC0 0x4Du
#define BMS_MSG_MAGIC1 0x4Au
#define BMS_MSG_HDR 5
#define BMS_MSG_TOO_LONG 0x01u
/* The record of payload p[0..n) into out[0..cap): its length, 0 if cap is too small. */
size_t bms_msg_record(uint8_t *out, size_t cap, const void *p, size_t n);

#endif
