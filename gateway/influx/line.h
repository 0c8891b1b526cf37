/* SPDX-License-Identifier: MIT */
/* gateway/influx/line.h - InfluxDB line protocol, written
 * (https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/):
 *   MEASUREMENT,site=SITE,unit=NAME field=1.5,field2=t TIMESTAMP
 * one point a line.  Pure: a buffer in, text out; the names and tags
 * escaped as the protocol asks, a value that is not finite (NaN, inf)
 * never written. */
#ifndef GATEWAY_INFLUX_LINE_H
#define GATEWAY_INFLUX_LINE_H

#include <stdbool.h>
#include <stddef.h>

#include "../../bms/bms.h"
#include "../../registers/regmap.h"

/* The longest line bmsgw writes (every field of a unit, BMS_MAX_CELLS cells:
 * 192 of "cell_192=65535," are 2,880 characters). */
#define IX_LINE_MAX 6144

/* s escaped into out (cap bytes, NUL-terminated) as a tag key, tag value or
 * field key (measurement: as a measurement name): a comma, a space and (not
 * in a measurement) an equals sign after a backslash; a byte the protocol
 * cannot carry plain (a control character, a backslash, DEL) as '_'.  The
 * length written, 0 when it does not fit whole (out is then ""). */
size_t ix_escape(char *out, size_t cap, const char *s, bool measurement);

/* One line being written. */
struct ix_line {
	char *buf;
	size_t cap, len;
	int fields;                    /* written so far */
	bool overflow;                 /* something did not fit: the line is void */
};

/* Start a line of measurement m with tags site (NULL or "": none) and unit. */
void ix_line_start(struct ix_line *l, char *buf, size_t cap, const char *m, const char *site, const char *unit);
/* A float field, skipped when v is not finite or |v| >= 1e15 (written in
 * plain decimals, at most 4 after the point, never an exponent). */
void ix_line_num(struct ix_line *l, const char *key, double v);
/* A boolean field (t / f). */
void ix_line_bool(struct ix_line *l, const char *key, bool v);
/* The fields of a snapshot that its present bits say it has: voltage,
 * current, power, soc, soh, remaining_ah, full_ah, cycles, mos_temp_c,
 * temp_01_c ..., charge_mos, discharge_mos, the cells cell_01 ... (mV)
 * and their cell_min_mv, cell_max_mv, cell_avg_mv, cell_delta_mv.  The
 * bank (rb not NULL) has no cells of its own: its cell_* from rb. */
void ix_line_snapshot(struct ix_line *l, const struct bms_snapshot *s, const struct reg_bank *rb);
/* End the line with its time (Unix seconds) and a newline: its length, or
 * 0 when it has no field or did not fit (nothing is to be sent). */
size_t ix_line_end(struct ix_line *l, long long t);

#endif
