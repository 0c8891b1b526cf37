/* SPDX-License-Identifier: MIT */
/* bms/base/jsonmap.c - the field map of an mqtt-json pack and the mapper: one
 * JSON message in, one snapshot out (bms/jsonmap.h).  Pure: no I/O, no
 * globals; the JSON is parsed by jansson (json_loadb), never by hand.
 *
 * Only a whole valid message gives a snapshot: a value of the wrong type,
 * not finite, or outside the bounds below rejects the message whole.  The
 * bounds are the plausibility table's (bms/base/plausible.c), so that nothing
 * that could not pass it is ever converted to the snapshot's integer or
 * float members; that table still judges the snapshot after finish().
 */
#include "../jsonmap.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	char kind;
} jf_tab[BMS_JF_COUNT] = {
#define BMS_JF_TAB_(id, name, kind) {name, kind},
	BMS_JF_LIST(BMS_JF_TAB_)
#undef BMS_JF_TAB_
};

const char *bms_jf_name(enum bms_jf f)
{
	return (unsigned)f < BMS_JF_COUNT ? jf_tab[f].name : "?";
}

bool bms_jsonmap_has(const struct bms_jsonmap *m, enum bms_jf f)
{
	for (unsigned i = 0; i < m->n; i++)
		if (m->e[i].field == f)
			return true;
	return false;
}

uint64_t bms_jsonmap_settings(const struct bms_jsonmap *m)
{
	uint64_t bits = 0;
	for (unsigned i = 0; i < m->n; i++)
		if (m->e[i].field == BMS_JF_SETTING)
			bits |= BMS_SET_BIT(m->e[i].index);
	return bits;
}

/* "setting_cell_ovp_v" -> SETTING, its key (bms/settings.h); -1 when none. */
static int setting_of(const char *name, size_t n, uint8_t *index)
{
	for (int k = 0; k < BMS_SET_COUNT; k++) {
		const char *sn = bms_settings_name((enum bms_set_key)k);
		if (strlen(sn) == n - 8 && strncmp(name + 8, sn, n - 8) == 0) {
			*index = (uint8_t)k;
			return BMS_JF_SETTING;
		}
	}
	return -1;
}

/* "cell_12" -> CELL, index 11; "alarm_cell_ov" -> ALARM, its bit;
 * "setting_cell_ovp_v" -> SETTING, its key; a plain name -> its field.  -1
 * when it names none. */
static int field_of(const char *name, size_t n, uint8_t *index)
{
	*index = 0;
	if (n > 8 && strncmp(name, "setting_", 8) == 0)
		return setting_of(name, n, index);
	if (n > 6 && strncmp(name, "alarm_", 6) == 0) {
		for (unsigned b = 0; b < BMS_AL_COUNT; b++) {
			const char *an = bms_alarm_name(b);
			if (strlen(an) == n - 6 && strncmp(name + 6, an, n - 6) == 0) {
				*index = (uint8_t)b;
				return BMS_JF_ALARM;
			}
		}
		return -1;
	}
	int numbered = -1;
	unsigned max = 0;
	size_t pre = 0;
	if (n > 5 && strncmp(name, "cell_", 5) == 0 && !(n > 8 && strncmp(name, "cell_res", 8) == 0)) {
		numbered = BMS_JF_CELL, max = BMS_MAX_CELLS, pre = 5;
	} else if (n > 5 && strncmp(name, "temp_", 5) == 0 && name[5] >= '0' && name[5] <= '9') {
		numbered = BMS_JF_TEMP, max = BMS_MAX_TEMPS, pre = 5;
	}
	if (numbered >= 0) {
		unsigned v = 0;
		for (size_t i = pre; i < n; i++) {
			if (name[i] < '0' || name[i] > '9' || i - pre > 2)
				return -1;
			v = v * 10 + (unsigned)(name[i] - '0');
		}
		if (v < 1 || v > max)
			return -1;
		*index = (uint8_t)(v - 1);
		return numbered;
	}
	for (int f = 0; f < BMS_JF_COUNT; f++)
		if (f != BMS_JF_CELL && f != BMS_JF_TEMP && f != BMS_JF_ALARM && f != BMS_JF_SETTING &&
		    strlen(jf_tab[f].name) == n &&
		    strncmp(jf_tab[f].name, name, n) == 0)
			return f;
	return -1;
}

/* The text between a and b, blanks trimmed: its start, *n its length. */
static const char *trim(const char *a, const char *b, size_t *n)
{
	while (a < b && (*a == ' ' || *a == '\t'))
		a++;
	while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
		b--;
	*n = (size_t)(b - a);
	return a;
}

/* One pair `field:path` of text[0..len) into m. */
static int parse_pair(const char *p, size_t len, struct bms_jsonmap *m, char *why, size_t cap)
{
	const char *colon = memchr(p, ':', len);
	if (!colon) {
		snprintf(why, cap, "\"%.*s\": expected field:key", (int)len, p);
		return -1;
	}
	size_t fn, pn;
	const char *f = trim(p, colon, &fn), *path = trim(colon + 1, p + len, &pn);
	uint8_t index;
	int field = field_of(f, fn, &index);
	if (field < 0) {
		snprintf(why, cap, "\"%.*s\" is none of bmsgw's fields (bmsgw-bms(7) MQTT-JSON lists them)", (int)fn, f);
		return -1;
	}
	if (pn == 0 || pn >= BMS_JSON_PATH_MAX || path[0] == '.' || path[pn - 1] == '.' || memmem(path, pn, "..", 2)) {
		snprintf(why, cap, "%.*s: the key \"%.*s\" is empty, longer than %d characters or has an empty segment",
			 (int)fn, f, (int)pn, path, BMS_JSON_PATH_MAX - 1);
		return -1;
	}
	const char *hash = memchr(path, '#', pn);
	if (hash && (jf_tab[field].kind != 'A' || memchr(hash + 1, '#', pn - (size_t)(hash - path) - 1))) {
		snprintf(why, cap, "%.*s: # (numbered keys) is for cells, cells_mv and temps_c, once", (int)fn, f);
		return -1;
	}
	for (unsigned i = 0; i < m->n; i++)
		if (m->e[i].field == field && m->e[i].index == index) {
			snprintf(why, cap, "%.*s is mapped twice", (int)fn, f);
			return -1;
		}
	if (m->n >= BMS_JSON_MAP_MAX) {
		snprintf(why, cap, "more than %d fields", BMS_JSON_MAP_MAX);
		return -1;
	}
	struct bms_jsonmap_entry *e = &m->e[m->n++];
	e->field = (uint8_t)field;
	e->index = index;
	memcpy(e->path, path, pn);
	e->path[pn] = '\0';
	return 0;
}

int bms_jsonmap_parse(const char *text, struct bms_jsonmap *m, char *why, size_t cap)
{
	memset(m, 0, sizeof(*m));
	return bms_jsonmap_add(text, m, why, cap);
}

int bms_jsonmap_add(const char *text, struct bms_jsonmap *m, char *why, size_t cap)
{
	unsigned had = m->n;
	const char *p = text;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		size_t tn;
		trim(p, p + len, &tn);
		if (tn && parse_pair(p, len, m, why, cap) < 0)
			return -1;
		p += len + (end ? 1 : 0);
	}
	if (m->n == had) {
		snprintf(why, cap, "no fields");
		return -1;
	}
	return 0;
}

/* The value at path in root (dotted; digits index an array), or NULL. */
static json_t *at_path(json_t *root, const char *path)
{
	json_t *v = root;
	const char *p = path;
	while (v && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		char seg[BMS_JSON_PATH_MAX];
		memcpy(seg, p, n);
		seg[n] = '\0';
		if (json_is_object(v)) {
			v = json_object_get(v, seg);
		} else if (json_is_array(v) && n && n <= 3 && strspn(seg, "0123456789") == n) {
			v = json_array_get(v, (size_t)atoi(seg));
		} else {
			v = NULL;
		}
		p += n + (dot ? 1 : 0);
	}
	return v;
}

/* A number within lo..hi into *out; false when v is none (a boolean is none). */
static bool num_in(const json_t *v, double lo, double hi, double *out)
{
	if (!json_is_number(v))
		return false;
	double d = json_number_value(v);
	if (!isfinite(d) || d < lo || d > hi)
		return false;
	*out = d;
	return true;
}

/* A boolean: true/false, the numbers 0 and 1, "ON"/"OFF". */
static bool bool_of(const json_t *v, bool *out)
{
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return true;
	}
	double d;
	if (num_in(v, 0, 1, &d) && (d == 0 || d == 1)) {
		*out = d == 1;
		return true;
	}
	const char *t = json_string_value(v);
	if (t && (strcmp(t, "ON") == 0 || strcmp(t, "OFF") == 0)) {
		*out = t[1] == 'N';
		return true;
	}
	return false;
}

/* The bounds of a number field (the plausibility table's). */
static void bounds(enum bms_jf f, double *lo, double *hi)
{
	switch (f) {
	case BMS_JF_VOLTAGE: *lo = 0, *hi = BMS_PLAUSIBLE_MAX_V; break;
	case BMS_JF_CURRENT: *lo = -BMS_PLAUSIBLE_MAX_A, *hi = BMS_PLAUSIBLE_MAX_A; break;
	case BMS_JF_POWER: *lo = -BMS_PLAUSIBLE_MAX_A * BMS_PLAUSIBLE_MAX_V, *hi = -*lo; break;
	case BMS_JF_SOC: case BMS_JF_SOH: *lo = 0, *hi = 100; break;
	case BMS_JF_REMAIN: case BMS_JF_FULL: *lo = 0, *hi = BMS_PLAUSIBLE_MAX_AH; break;
	case BMS_JF_CYCLES: *lo = 0, *hi = 100000; break;
	case BMS_JF_CELLS: case BMS_JF_CELL: *lo = 0, *hi = BMS_PLAUSIBLE_MAX_CELL_MV / 1000.0; break;
	case BMS_JF_CELLS_MV: *lo = 0, *hi = BMS_PLAUSIBLE_MAX_CELL_MV; break;
	case BMS_JF_TEMPS: case BMS_JF_TEMP: case BMS_JF_MOS_TEMP: *lo = BMS_PLAUSIBLE_MIN_C, *hi = BMS_PLAUSIBLE_MAX_C; break;
	case BMS_JF_CCL: case BMS_JF_DCL: *lo = 0, *hi = BMS_PLAUSIBLE_MAX_A; break;
	default: *lo = 0, *hi = 0; break;
	}
}

/* The bounds of setting k, by its unit: a cell's voltage or the pack's, a
 * current, a temperature (the plausibility table's), a delay (up to a day),
 * a capacity, a cell count (a whole number). */
static void set_bounds(enum bms_set_key k, double *lo, double *hi)
{
	const char *u = bms_settings_unit(k);
	*lo = 0;
	if (k == BMS_SET_PACK_OVP_V || k == BMS_SET_PACK_UVP_V)
		*hi = BMS_PLAUSIBLE_MAX_V;
	else if (strcmp(u, "V") == 0)
		*hi = BMS_PLAUSIBLE_MAX_CELL_MV / 1000.0;
	else if (strcmp(u, "A") == 0)
		*hi = BMS_PLAUSIBLE_MAX_A;
	else if (strcmp(u, "s") == 0)
		*hi = 86400;
	else if (strcmp(u, "Ah") == 0)
		*hi = BMS_PLAUSIBLE_MAX_AH;
	else if (k == BMS_SET_CELL_COUNT)
		*lo = 1, *hi = BMS_MAX_CELLS;
	else
		*lo = BMS_PLAUSIBLE_MIN_C, *hi = BMS_PLAUSIBLE_MAX_C; /* degC */
}

/* A number of field f into s (index: cell_N's, temp_N's). */
static void put_num(struct bms_snapshot *s, enum bms_jf f, unsigned index, double d)
{
	switch (f) {
	case BMS_JF_VOLTAGE: s->voltage = (float)d, s->present |= BMS_HAS_VOLTAGE; break;
	case BMS_JF_CURRENT: s->current = (float)d, s->present |= BMS_HAS_CURRENT; break;
	case BMS_JF_POWER: s->power = (float)d, s->present |= BMS_HAS_POWER; break;
	case BMS_JF_SOC: s->soc = (float)d, s->present |= BMS_HAS_SOC; break;
	case BMS_JF_SOH: s->soh = (float)d, s->present |= BMS_HAS_SOH; break;
	case BMS_JF_REMAIN: s->remain_ah = (float)d, s->present |= BMS_HAS_REMAIN; break;
	case BMS_JF_FULL: s->full_ah = (float)d, s->present |= BMS_HAS_FULL; break;
	case BMS_JF_CYCLES: s->cycles = (uint32_t)d, s->present |= BMS_HAS_CYCLES; break;
	case BMS_JF_CELL: case BMS_JF_CELLS: case BMS_JF_CELLS_MV:
		s->cell_mv[index] = (uint16_t)lround(f == BMS_JF_CELLS_MV ? d : d * 1000.0);
		if (s->ncells < index + 1)
			s->ncells = (uint8_t)(index + 1);
		s->present |= BMS_HAS_CELLS;
		break;
	case BMS_JF_TEMP: case BMS_JF_TEMPS:
		s->temp_c[index] = (float)d;
		if (s->ntemps < index + 1)
			s->ntemps = (uint8_t)(index + 1);
		s->present |= BMS_HAS_TEMPS;
		break;
	case BMS_JF_MOS_TEMP: s->mos_temp_c = (float)d, s->present |= BMS_HAS_MOS_TEMP; break;
	case BMS_JF_CCL: case BMS_JF_DCL:
		if (!(s->present & BMS_HAS_CUR_LIMITS))
			s->bms_ccl_a = s->bms_dcl_a = NAN; /* a limit in one direction only: the other absent */
		*(f == BMS_JF_CCL ? &s->bms_ccl_a : &s->bms_dcl_a) = (float)d;
		s->present |= BMS_HAS_CUR_LIMITS;
		break;
	default: break;
	}
}

static void put_bool(struct bms_snapshot *s, enum bms_jf f, unsigned index, bool b)
{
	if (f == BMS_JF_CHG_MOS || f == BMS_JF_DSG_MOS) {
		*(f == BMS_JF_CHG_MOS ? &s->chg_mos : &s->dsg_mos) = b;
		s->present |= BMS_HAS_MOSFETS;
	} else if (f == BMS_JF_BALANCING) {
		s->balancing = b;
		s->present |= BMS_HAS_BALANCING;
	} else if (f == BMS_JF_ALARM) {
		if (b)
			s->alarms |= 1u << index;
		s->present |= BMS_HAS_ALARMS;
	}
}

/* An array of numbers (cells, temps) into s. */
static int put_array(struct bms_snapshot *s, enum bms_jf f, const json_t *v, char *why, size_t cap)
{
	unsigned max = f == BMS_JF_TEMPS ? BMS_MAX_TEMPS : BMS_MAX_CELLS;
	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > max) {
		snprintf(why, cap, "%s: not an array of 1 to %u numbers", bms_jf_name(f), max);
		return BMS_E_RANGE;
	}
	double lo, hi, d;
	bounds(f, &lo, &hi);
	for (unsigned i = 0; i < json_array_size(v); i++) {
		if (!num_in(json_array_get(v, i), lo, hi, &d)) {
			snprintf(why, cap, "%s: item %u is no number within %g..%g", bms_jf_name(f), i + 1, lo, hi);
			return BMS_E_RANGE;
		}
		put_num(s, f, i, d);
	}
	return BMS_OK;
}

/* An array field whose path holds '#' (cells:Voltages.Cell#): the values
 * at the path with # = 1, 2, ... up to the first one the message lacks. */
static int put_numbered(struct bms_snapshot *s, enum bms_jf f, json_t *root, const char *path, char *why, size_t cap)
{
	unsigned max = f == BMS_JF_TEMPS ? BMS_MAX_TEMPS : BMS_MAX_CELLS;
	const char *hash = strchr(path, '#');
	double lo, hi, d;
	bounds(f, &lo, &hi);
	for (unsigned i = 0; i < max; i++) {
		char p[BMS_JSON_PATH_MAX + 4];
		snprintf(p, sizeof(p), "%.*s%u%s", (int)(hash - path), path, i + 1, hash + 1);
		json_t *v = at_path(root, p);
		if (!v || json_is_null(v))
			break;
		if (!num_in(v, lo, hi, &d)) {
			snprintf(why, cap, "%s (%s): no number within %g..%g", bms_jf_name(f), p, lo, hi);
			return BMS_E_RANGE;
		}
		put_num(s, f, i, d);
	}
	return BMS_OK;
}

/* A setting_<key> pair's value v into set (NULL: not wanted). */
static int put_setting(const struct bms_jsonmap_entry *e, const json_t *v, struct bms_settings *set, char *why,
		       size_t cap)
{
	enum bms_set_key k = (enum bms_set_key)e->index;
	double lo, hi, d;
	set_bounds(k, &lo, &hi);
	if (!num_in(v, lo, hi, &d) || (k == BMS_SET_CELL_COUNT && d != floor(d))) {
		snprintf(why, cap, "setting_%s (%s): no number within %g..%g", bms_settings_name(k), e->path, lo, hi);
		return BMS_E_RANGE;
	}
	if (set)
		bms_settings_put(set, k, (float)d);
	return BMS_OK;
}

/* One pair of the map: its value in root into s or set (absent: nothing). */
static int apply_one(const struct bms_jsonmap_entry *e, json_t *root, struct bms_snapshot *s, struct bms_settings *set,
		     char *why, size_t cap)
{
	enum bms_jf f = (enum bms_jf)e->field;
	if (jf_tab[f].kind == 'A' && strchr(e->path, '#'))
		return put_numbered(s, f, root, e->path, why, cap);
	json_t *v = at_path(root, e->path);
	if (!v || json_is_null(v))
		return BMS_OK; /* not in this message: absent */
	if (f == BMS_JF_SETTING)
		return put_setting(e, v, set, why, cap);
	if (jf_tab[f].kind == 'A')
		return put_array(s, f, v, why, cap);
	if (jf_tab[f].kind == 'B') {
		bool b;
		if (!bool_of(v, &b)) {
			snprintf(why, cap, "%s (%s): not a boolean", bms_jf_name(f), e->path);
			return BMS_E_RANGE;
		}
		put_bool(s, f, e->index, b);
		return BMS_OK;
	}
	double lo, hi, d;
	bounds(f, &lo, &hi);
	if (!num_in(v, lo, hi, &d) || (f == BMS_JF_CYCLES && d != floor(d))) {
		snprintf(why, cap, "%s (%s): no number within %g..%g", bms_jf_name(f), e->path, lo, hi);
		return BMS_E_RANGE;
	}
	put_num(s, f, e->index, d);
	return BMS_OK;
}

/* The fields a message must carry: voltage, and soc and current where the map has them. */
static int required(const struct bms_jsonmap *m, const struct bms_snapshot *s, char *why, size_t cap)
{
	static const struct {
		enum bms_jf f;
		uint32_t has;
	} req[] = { { BMS_JF_VOLTAGE, BMS_HAS_VOLTAGE }, { BMS_JF_SOC, BMS_HAS_SOC }, { BMS_JF_CURRENT, BMS_HAS_CURRENT } };
	for (unsigned i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		if ((req[i].f == BMS_JF_VOLTAGE || bms_jsonmap_has(m, req[i].f)) && !(s->present & req[i].has)) {
			snprintf(why, cap, "%s missing", bms_jf_name(req[i].f));
			return BMS_E_INVALID;
		}
	return BMS_OK;
}

/* Every cell from 1 to ncells given (cell_N mapped one by one may leave a gap). */
static int cells_whole(const struct bms_snapshot *s, char *why, size_t cap)
{
	for (unsigned i = 0; i < s->ncells; i++)
		if (!s->cell_mv[i]) {
			snprintf(why, cap, "cell %u missing (cells 1 to %u mapped one by one)", i + 1, s->ncells);
			return BMS_E_INVALID;
		}
	return BMS_OK;
}

int bms_jsonmap_apply(const struct bms_jsonmap *m, const char *text, size_t len, struct bms_snapshot *s,
		      struct bms_settings *set, char *why, size_t cap)
{
	memset(s, 0, sizeof(*s));
	if (set)
		memset(set, 0, sizeof(*set));
	json_error_t err;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (!root || !json_is_object(root)) {
		snprintf(why, cap, "%s", root ? "not a JSON object" : err.text[0] ? err.text : "no JSON");
		json_decref(root);
		return BMS_E_INVALID;
	}
	for (unsigned i = 0; i < BMS_MAX_TEMPS; i++)
		s->temp_c[i] = NAN; /* temp_N not in the message: absent (NaN), not 0 degC */
	int rc = BMS_OK;
	for (unsigned i = 0; i < m->n && rc == BMS_OK; i++)
		rc = apply_one(&m->e[i], root, s, set, why, cap);
	json_decref(root);
	if (rc == BMS_OK)
		rc = required(m, s, why, cap);
	if (rc == BMS_OK)
		rc = cells_whole(s, why, cap);
	for (unsigned i = s->ntemps; i < BMS_MAX_TEMPS; i++)
		s->temp_c[i] = 0; /* beyond the sensors: as every driver leaves them */
	if (rc != BMS_OK) {
		memset(s, 0, sizeof(*s)); /* only a whole valid message gives a snapshot */
		if (set)
			memset(set, 0, sizeof(*set));
	}
	return rc;
}

size_t bms_msg_record(uint8_t *out, size_t cap, const void *p, size_t n)
{
	bool too_long = n > BMS_JSON_MSG_MAX;
	size_t body = too_long ? 0 : n;
	if (cap < BMS_MSG_HDR + body)
		return 0;
	out[0] = BMS_MSG_MAGIC0;
	out[1] = BMS_MSG_MAGIC1;
	out[2] = too_long ? BMS_MSG_TOO_LONG : 0;
	out[3] = (uint8_t)(body & 0xFF);
	out[4] = (uint8_t)(body >> 8);
	if (body)
		memcpy(out + BMS_MSG_HDR, p, body);
	return BMS_MSG_HDR + body;
}
