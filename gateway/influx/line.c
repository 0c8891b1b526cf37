/* SPDX-License-Identifier: MIT */
/* gateway/influx/line.c - InfluxDB line protocol, written (line.h).
 * Escaping as the line protocol reference says: in a measurement a comma
 * and a space, in tag keys, tag values and field keys a comma, an equals
 * sign and a space, each after a backslash.  A newline ends a point and
 * cannot be escaped, and a backslash before one of those characters would
 * change what follows: bmsgw's names never hold them ([a-z0-9_-] packs, a
 * site of [A-Za-z0-9_-]), so such a byte becomes '_' rather than a line
 * the server would cut or read otherwise. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "line.h"

size_t ix_escape(char *out, size_t cap, const char *s, bool measurement)
{
	size_t o = 0;
	if (!cap)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned c = *p;
		bool esc = c == ',' || c == ' ' || (c == '=' && !measurement);
		if (c < 0x20 || c == 0x7F || c == '\\')
			c = '_';
		if (o + (esc ? 2 : 1) >= cap) {
			out[0] = '\0';
			return 0;
		}
		if (esc)
			out[o++] = '\\';
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return o;
}

/* Text appended, or the line void. */
static void put(struct ix_line *l, const char *s, size_t n)
{
	if (l->overflow || l->len + n >= l->cap) {
		l->overflow = true;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	l->buf[l->len] = '\0';
}

/* An escaped name or tag. */
static void put_escaped(struct ix_line *l, const char *s, bool measurement)
{
	char e[256];
	size_t n = ix_escape(e, sizeof(e), s, measurement);
	if (!n)
		l->overflow = true;
	put(l, e, n);
}

void ix_line_start(struct ix_line *l, char *buf, size_t cap, const char *m, const char *site, const char *unit)
{
	*l = (struct ix_line){ .buf = buf, .cap = cap };
	if (cap)
		buf[0] = '\0';
	put_escaped(l, m, true);
	if (site && site[0]) {
		put(l, ",site=", 6);
		put_escaped(l, site, false);
	}
	put(l, ",unit=", 6);
	put_escaped(l, unit, false);
}

/* " key=" or ",key=" */
static void field_key(struct ix_line *l, const char *key)
{
	put(l, l->fields ? "," : " ", 1);
	put_escaped(l, key, false);
	put(l, "=", 1);
	l->fields++;
}

void ix_line_num(struct ix_line *l, const char *key, double v)
{
	if (!isfinite(v) || fabs(v) >= 1e15)
		return;
	char num[64];
	int n = snprintf(num, sizeof(num), "%.4f", v);
	if (n <= 0 || (size_t)n >= sizeof(num)) {
		l->overflow = true;
		return;
	}
	while (n > 1 && num[n - 1] == '0')
		n--;
	if (num[n - 1] == '.')
		n--;
	if (n == 2 && num[0] == '-' && num[1] == '0') /* -0.00001 */
		num[0] = '0', n = 1;
	field_key(l, key);
	put(l, num, (size_t)n);
}

void ix_line_bool(struct ix_line *l, const char *key, bool v)
{
	field_key(l, key);
	put(l, v ? "t" : "f", 1);
}

/* The cell statistics of a pack from its cells (else its BMS's own highest
 * and lowest, no mean), of the bank from rb. */
static void cells(struct ix_line *l, const struct bms_snapshot *s, const struct reg_bank *rb)
{
	char key[32];
	if (rb) {
		if (!rb->have_cells)
			return;
		ix_line_num(l, "cell_min_mv", rb->min_mv);
		ix_line_num(l, "cell_max_mv", rb->max_mv);
		if (!rb->no_avg)
			ix_line_num(l, "cell_avg_mv", rb->avg_mv);
		ix_line_num(l, "cell_delta_mv", rb->max_mv - rb->min_mv);
		return;
	}
	unsigned n = s->ncells < BMS_MAX_CELLS ? s->ncells : BMS_MAX_CELLS;
	for (unsigned i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "cell_%02u", i + 1);
		ix_line_num(l, key, s->cell_mv[i]);
	}
	struct bms_cell_stats cs;
	bms_cell_stats(s, &cs);
	if (cs.from == BMS_CELLS_NONE)
		return;
	ix_line_num(l, "cell_min_mv", cs.min_mv);
	ix_line_num(l, "cell_max_mv", cs.max_mv);
	if (cs.from == BMS_CELLS_LIST)
		ix_line_num(l, "cell_avg_mv", cs.avg_mv);
	ix_line_num(l, "cell_delta_mv", cs.delta_mv);
}

void ix_line_snapshot(struct ix_line *l, const struct bms_snapshot *s, const struct reg_bank *rb)
{
	static const struct { const char *key; uint32_t bit; size_t off; } nums[] = {
		{ "voltage", BMS_HAS_VOLTAGE, offsetof(struct bms_snapshot, voltage) },
		{ "current", BMS_HAS_CURRENT, offsetof(struct bms_snapshot, current) },
		{ "power", BMS_HAS_POWER, offsetof(struct bms_snapshot, power) },
		{ "soc", BMS_HAS_SOC, offsetof(struct bms_snapshot, soc) },
		{ "soh", BMS_HAS_SOH, offsetof(struct bms_snapshot, soh) },
		{ "remaining_ah", BMS_HAS_REMAIN, offsetof(struct bms_snapshot, remain_ah) },
		{ "full_ah", BMS_HAS_FULL, offsetof(struct bms_snapshot, full_ah) },
		{ "mos_temp_c", BMS_HAS_MOS_TEMP, offsetof(struct bms_snapshot, mos_temp_c) },
	};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (s->present & nums[i].bit) {
			float v;
			memcpy(&v, (const char *)s + nums[i].off, sizeof(v));
			ix_line_num(l, nums[i].key, v);
		}
	if (s->present & BMS_HAS_CYCLES)
		ix_line_num(l, "cycles", s->cycles);
	char key[32];
	for (unsigned i = 0; i < s->ntemps && i < BMS_MAX_TEMPS; i++) {
		snprintf(key, sizeof(key), "temp_%02u_c", i + 1);
		ix_line_num(l, key, s->temp_c[i]);
	}
	if (s->present & BMS_HAS_MOSFETS) {
		ix_line_bool(l, "charge_mos", s->chg_mos);
		ix_line_bool(l, "discharge_mos", s->dsg_mos);
	}
	cells(l, s, rb);
}

size_t ix_line_end(struct ix_line *l, long long t)
{
	char ts[32];
	int n = snprintf(ts, sizeof(ts), " %lld\n", t);
	put(l, ts, (size_t)n);
	if (l->overflow || !l->fields) {
		if (l->cap)
			l->buf[0] = '\0';
		return 0;
	}
	return l->len;
}
