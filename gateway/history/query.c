/* SPDX-License-Identifier: MIT */
/* gateway/history/query.c - the answers of the history: chart columns in
 * buckets, CSV in chunks and past samples (run by the worker on its handle,
 * or by export.c on a handle of its own).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "history_int.h"

/* A growing text (open_memstream). */
struct text {
	FILE *f;
	char *buf;
	size_t len;
};

static bool text_open(struct text *t)
{
	t->buf = NULL;
	t->len = 0;
	t->f = open_memstream(&t->buf, &t->len);
	return t->f != NULL;
}

static void text_close(struct text *t, struct gw_hresult *r)
{
	fclose(t->f);
	r->text = t->buf;
	r->len = t->len;
}

static void iso_time(char *out, size_t cap, int64_t ts)
{
	time_t t = (time_t)ts;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* column i (0-based) of st as a CSV field with prec decimals, empty when NULL */
static void csv_num(FILE *f, sqlite3_stmt *st, int i, int prec)
{
	fputc(',', f);
	if (sqlite3_column_type(st, i) != SQLITE_NULL)
		fprintf(f, "%.*f", prec, sqlite3_column_double(st, i));
}

static const struct { const char *name; int prec; } value_cols[NVALUES] = {
	{ "soc", 1 },      { "voltage", 2 },  { "current", 2 },  { "power", 1 },
	{ "cell_min", 0 }, { "cell_max", 0 }, { "cell_delta", 0 }, { "temp_min", 1 },
	{ "temp_max", 1 }, { "mos_temp", 1 }, { "alarms", 0 }, { "soc_bms", 1 },
	{ "soc_counted", 1 }, { "ccl", 1 }, { "dcl", 1 }, { "soc_band", 1 },
};

/* The file has column `name`: --history-csv reads a file read-only, which
 * a bmsgw before it may still be writing (schema 2: no current limits, no
 * cells; schema 3: no soc_band). */
static bool has_column(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = NULL;
	bool yes = sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info('samples') WHERE name = ?1", -1, &st,
				      NULL) == SQLITE_OK && sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK &&
		   sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

/* In sql, every `from` by `to` (sql has room for the longer text). */
static void replace_all(char *sql, const char *from, const char *to)
{
	size_t n = strlen(from), m = strlen(to);
	for (char *p = strstr(sql, from); p; p = strstr(p + m, from)) {
		memmove(p + m, p + n, strlen(p + n) + 1);
		memcpy(p, to, m);
	}
}

/* Prepare the rows of a query: t, span, n, online, the values, cells and
 * balance (NULL unless cells).  step 0 = the stored rows, else buckets of
 * step seconds. */
static int prepare_rows(sqlite3 *db, int64_t unit, int64_t from, int64_t to, int64_t step, int limit, bool cells,
			sqlite3_stmt **st)
{
	char sql[2048];
	if (step <= 0)
		snprintf(sql, sizeof(sql),
			 "SELECT ts, span, n, online, " VALUE_COLS ", %s FROM samples WHERE unit = %" PRId64
			 " AND ts >= %" PRId64 " AND ts < %" PRId64 " ORDER BY ts, span LIMIT %d",
			 cells ? CELL_COLS : "NULL, NULL", unit, from, to, limit);
	else
		snprintf(sql, sizeof(sql),
			 "SELECT (ts / %" PRId64 ") * %" PRId64 " AS t, max(span), sum(n), sum(online), " AGG_COLS
			 ", %s FROM samples WHERE unit = %" PRId64 " AND ts >= %" PRId64 " AND ts < %" PRId64
			 " GROUP BY t ORDER BY t LIMIT %d",
			 step, step, cells ? AGG_CELL_COLS : "NULL, NULL", unit, from, to, limit);
	if (!has_column(db, "ccl")) {  /* schema 2, read as it is: no limits */
		replace_all(sql, "min(ccl), min(dcl)", "NULL, NULL");
		replace_all(sql, "ccl, dcl", "NULL, NULL");
	}
	if (!has_column(db, "soc_band")) /* schema 3 or before, read as it is: no uncertainty */
		replace_all(sql, "soc_band", "NULL");
	return sqlite3_prepare_v2(db, sql, -1, st, NULL);
}

static bool has_cells(sqlite3 *db)
{
	return has_column(db, "cells");
}

/* The cells of unit over [from, to): the most any row has (*ncells) and
 * whether any row says which balance (*bal).  SQLite code. */
static int cells_of_range(sqlite3 *db, int64_t unit, int64_t from, int64_t to, int *ncells, bool *bal)
{
	char sql[256];
	*ncells = 0;
	*bal = false;
	if (!has_cells(db))
		return SQLITE_OK;
	snprintf(sql, sizeof(sql),
		 "SELECT max(length(cells)) / 2, max(balance IS NOT NULL) FROM samples WHERE unit = %" PRId64
		 " AND ts >= %" PRId64 " AND ts < %" PRId64, unit, from, to);
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int n = sqlite3_column_int(st, 0);
		*ncells = n < 0 ? 0 : n > BMS_MAX_CELLS ? BMS_MAX_CELLS : n;
		*bal = sqlite3_column_int(st, 1) > 0;
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* The cells columns of a CSV row: ncells voltages, then (bal) the
 * balancing bits and the balancing cells' numbers. */
static void csv_cells(FILE *f, sqlite3_stmt *st, int col, int ncells, bool bal)
{
	int mv[BMS_MAX_CELLS], n = 0;
	if (sqlite3_column_type(st, col) == SQLITE_BLOB)
		n = gw_hist_cells_decode(sqlite3_column_blob(st, col), sqlite3_column_bytes(st, col), mv);
	for (int i = 0; i < ncells; i++) {
		if (i < n && mv[i] >= 0)
			fprintf(f, ",%d", mv[i]);
		else
			fputc(',', f);
	}
	if (!bal)
		return;
	if (sqlite3_column_type(st, col + 1) == SQLITE_NULL) {
		fputs(",,", f);
		return;
	}
	int64_t bits = sqlite3_column_int64(st, col + 1);
	fprintf(f, ",%" PRId64 ",", bits);
	bool first = true;
	for (int i = 0; i < 32; i++) /* the balancing bits: cells 1-32 (bms.h) */
		if (bits & (1LL << i)) {
			fprintf(f, "%s%d", first ? "" : " ", i + 1);
			first = false;
		}
}

static void alarm_names(FILE *f, int64_t bits)
{
	bool first = true;
	for (unsigned i = 0; i < BMS_AL_COUNT; i++)
		if (bits & (1LL << i)) {
			fprintf(f, "%s%s", first ? "" : " ", bms_alarm_name(i));
			first = false;
		}
}

#define CSV_HEADER                                                                                       \
	"time,unix,unit,span_s,samples,online,soc_pct,voltage_v,current_a,power_w,cell_min_mv,cell_max_mv," \
	"cell_delta_mv,temp_min_c,temp_max_c,mos_temp_c,alarm_bits,alarms,soc_bms_pct,soc_counted_pct,ccl_a,dcl_a," \
	"soc_band_pct"

/* The header: the pack's columns, then each cell's and the balancing. */
static void csv_header(FILE *f, int ncells, bool bal)
{
	fputs(CSV_HEADER, f);
	for (int i = 0; i < ncells; i++)
		fprintf(f, ",cell_%02d_mv", i + 1);
	if (bal)
		fputs(",balance_bits,balancing", f);
	fputs("\r\n", f);
}

int gw_hist_run_csv(sqlite3 *db, int64_t unit, const char *name, int64_t from, int64_t to, int64_t step,
		    int64_t after, int rows, struct gw_hresult *r)
{
	int64_t start = after < from ? from : step > 0 ? (after / step + 1) * step : after + 1;
	int ncells;
	bool bal;
	/* the whole range's cells: every chunk has the header's columns */
	int rc = cells_of_range(db, unit, from, to, &ncells, &bal);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_stmt *st = NULL;
	rc = prepare_rows(db, unit, start, to, step, rows, ncells > 0 || bal, &st);
	if (rc != SQLITE_OK)
		return rc;
	struct text t;
	if (!text_open(&t)) {
		sqlite3_finalize(st);
		return SQLITE_NOMEM;
	}
	if (after < from)
		csv_header(t.f, ncells, bal);
	int n = 0;
	int64_t last = after;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t ts = sqlite3_column_int64(st, 0);
		char iso[32];
		iso_time(iso, sizeof(iso), ts);
		int64_t span = step > 0 ? step : sqlite3_column_int64(st, 1);
		fprintf(t.f, "%s,%" PRId64 ",%s,%" PRId64 ",%lld,%lld", iso, ts, name, span,
			(long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3));
		for (int c = 0; c < VC_ALARMS; c++)
			csv_num(t.f, st, 4 + c, value_cols[c].prec);
		if (sqlite3_column_type(st, 4 + VC_ALARMS) != SQLITE_NULL) {
			int64_t bits = sqlite3_column_int64(st, 4 + VC_ALARMS);
			fprintf(t.f, ",%" PRId64 ",", bits);
			alarm_names(t.f, bits);
		} else {
			fputs(",,", t.f);
		}
		for (int c = VC_ALARMS + 1; c < NVALUES; c++)
			csv_num(t.f, st, 4 + c, value_cols[c].prec);
		csv_cells(t.f, st, 4 + NVALUES, ncells, bal);
		fputs("\r\n", t.f);
		last = ts;
		n++;
	}
	sqlite3_finalize(st);
	text_close(&t, r);
	if (rc != SQLITE_DONE)
		return rc;
	r->next = last;
	r->done = n < rows;
	r->status = 200;
	return SQLITE_OK;
}

/* One bucket of a chart; span -1: a gap (nulls in every column). */
struct chart_row {
	int64_t t, span, n, online;
	bool have[NVALUES];
	double v[NVALUES];
	int ncells;                   /* cells in mv (-1: no value) */
	int mv[BMS_MAX_CELLS];
	int64_t balance;              /* -1: not said */
};

/* Read the buckets of st into rows (room for cap * 2 + 2): a gap row goes
 * in wherever the time between two buckets is longer than a bucket and the
 * samples' own period.  The number of rows; *rcp the last step's code. */
static int chart_rows(sqlite3_stmt *st, int64_t step, double interval, struct chart_row *rows, int cap, int *rcp)
{
	int n = 0, rc;
	int64_t prev_end = -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < cap * 2) {
		int64_t t = sqlite3_column_int64(st, 0), span = sqlite3_column_int64(st, 1);
		/* a gap longer than a bucket and the samples' own period: a null between */
		double period = interval > (double)step ? interval : (double)step;
		if (prev_end >= 0 && (double)(t - prev_end) > 1.5 * period) {
			memset(&rows[n], 0, sizeof(rows[n]));
			rows[n].t = prev_end;
			rows[n].span = -1;
			rows[n].balance = -1;
			n++;
		}
		struct chart_row *w = &rows[n++];
		w->t = t;
		w->span = span;
		w->n = sqlite3_column_int64(st, 2);
		w->online = sqlite3_column_int64(st, 3);
		for (int c = 0; c < NVALUES; c++) {
			w->have[c] = sqlite3_column_type(st, 4 + c) != SQLITE_NULL;
			w->v[c] = sqlite3_column_double(st, 4 + c);
		}
		w->ncells = gw_hist_cells_decode(sqlite3_column_blob(st, 4 + NVALUES),
						 sqlite3_column_bytes(st, 4 + NVALUES), w->mv);
		w->balance = sqlite3_column_type(st, 5 + NVALUES) == SQLITE_NULL ? -1
			     : sqlite3_column_int64(st, 5 + NVALUES);
		int64_t cover = span > step ? span : step;
		prev_end = t + cover;
	}
	*rcp = rc;
	return n;
}

/* The rows as JSON, column by column. */
static void chart_json(FILE *f, const char *name, int64_t from, int64_t to, int64_t step,
		       const struct chart_row *rows, int n)
{
	fprintf(f, "{\"unit\":\"%s\",\"from\":%" PRId64 ",\"to\":%" PRId64 ",\"step\":%" PRId64 ",\"t\":[", name,
		from, to, step);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s%" PRId64, i ? "," : "", rows[i].t);
	fputs("],\"online\":[", f);
	for (int i = 0; i < n; i++) {
		if (rows[i].span < 0 || rows[i].n <= 0)
			fprintf(f, "%snull", i ? "," : "");
		else
			fprintf(f, "%s%.3f", i ? "," : "", (double)rows[i].online / (double)rows[i].n);
	}
	fputc(']', f);
	for (int c = 0; c < NVALUES; c++) {
		fprintf(f, ",\"%s\":[", value_cols[c].name);
		for (int i = 0; i < n; i++) {
			if (i)
				fputc(',', f);
			if (rows[i].span >= 0 && rows[i].have[c])
				fprintf(f, "%.*f", value_cols[c].prec, rows[i].v[c]);
			else
				fputs("null", f);
		}
		fputc(']', f);
	}
}

/* The cells of the rows (cells: an array of each cell's column, cell 1
 * first; balance: the bits of each row, null where not said). */
static void chart_cells_json(FILE *f, const struct chart_row *rows, int n)
{
	int ncells = 0;
	for (int i = 0; i < n; i++)
		if (rows[i].span >= 0 && rows[i].ncells > ncells)
			ncells = rows[i].ncells;
	fprintf(f, ",\"ncells\":%d,\"cells\":[", ncells);
	for (int c = 0; c < ncells; c++) {
		fprintf(f, "%s[", c ? "," : "");
		for (int i = 0; i < n; i++) {
			const struct chart_row *w = &rows[i];
			if (i)
				fputc(',', f);
			if (w->span >= 0 && c < w->ncells && w->mv[c] >= 0)
				fprintf(f, "%d", w->mv[c]);
			else
				fputs("null", f);
		}
		fputc(']', f);
	}
	fputs("],\"balance\":[", f);
	for (int i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		if (rows[i].span >= 0 && rows[i].balance >= 0)
			fprintf(f, "%" PRId64, rows[i].balance);
		else
			fputs("null", f);
	}
	fputc(']', f);
}

int gw_hist_run_chart(sqlite3 *db, int64_t unit, const char *name, int64_t from, int64_t to, int points,
		      double interval, bool cells, struct gw_hresult *r)
{
	if (points < 10)
		points = 10;
	int64_t step = (to - from + points - 1) / points;
	if (step < (int64_t)ceil(interval))
		step = (int64_t)ceil(interval);
	if (step < 1)
		step = 1;
	int64_t start = from / step * step;
	sqlite3_stmt *st = NULL;
	int rc = prepare_rows(db, unit, start, to, step, points + 2, cells, &st);
	if (rc != SQLITE_OK)
		return rc;
	/* read the rows, then write column by column */
	int cap = points + 2;
	struct chart_row *rows = calloc((size_t)cap * 2 + 2, sizeof(*rows));
	if (!rows) {
		sqlite3_finalize(st);
		return SQLITE_NOMEM;
	}
	int n = chart_rows(st, step, interval, rows, cap, &rc);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		free(rows);
		return rc;
	}
	struct text t;
	if (!text_open(&t)) {
		free(rows);
		return SQLITE_NOMEM;
	}
	chart_json(t.f, name, from, to, step, rows, n);
	if (cells)
		chart_cells_json(t.f, rows, n);
	fputs("}\n", t.f);
	text_close(&t, r);
	free(rows);
	r->status = 200;
	r->done = true;
	return SQLITE_OK;
}

/* ------------------------------------------------- past samples, one by one */

/* The number of stored samples of unit with after < ts <= upto; -1 on error. */
static int64_t count_samples(sqlite3 *db, int64_t unit, int64_t after, int64_t upto, int *rcp)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;
	int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM samples WHERE unit = ?1 AND span = 0 AND ts > ?2 "
				    "AND ts <= ?3", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, unit);
		sqlite3_bind_int64(st, 2, after);
		sqlite3_bind_int64(st, 3, upto);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			n = sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	*rcp = rc;
	return n;
}

/* One sample as a JSON object: time, online, the values it has (absent
 * ones left out), every cell and the balancing when stored. */
static void sample_json(FILE *f, sqlite3_stmt *st)
{
	fprintf(f, "{\"time\":%" PRId64 ",\"online\":%s", (int64_t)sqlite3_column_int64(st, 0),
		sqlite3_column_int64(st, 1) ? "true" : "false");
	for (int c = 0; c < NVALUES; c++) {
		if (sqlite3_column_type(st, 2 + c) == SQLITE_NULL)
			continue;
		if (c == VC_ALARMS)
			fprintf(f, ",\"alarms\":%" PRId64, (int64_t)sqlite3_column_int64(st, 2 + c));
		else
			fprintf(f, ",\"%s\":%.*f", value_cols[c].name, value_cols[c].prec, sqlite3_column_double(st, 2 + c));
	}
	int mv[BMS_MAX_CELLS];
	int n = 0;
	if (sqlite3_column_type(st, 2 + NVALUES) == SQLITE_BLOB)
		n = gw_hist_cells_decode(sqlite3_column_blob(st, 2 + NVALUES), sqlite3_column_bytes(st, 2 + NVALUES), mv);
	if (n > 0) {
		fputs(",\"cells\":[", f);
		for (int i = 0; i < n; i++) {
			if (mv[i] >= 0)
				fprintf(f, "%s%d", i ? "," : "", mv[i]);
			else
				fprintf(f, "%snull", i ? "," : "");
		}
		fputc(']', f);
	}
	if (sqlite3_column_type(st, 3 + NVALUES) != SQLITE_NULL)
		fprintf(f, ",\"balance\":%" PRId64, (int64_t)sqlite3_column_int64(st, 3 + NVALUES));
	fputc('}', f);
}

int gw_hist_run_samples(sqlite3 *db, int64_t unit, int64_t after, int64_t upto, int max, struct gw_hresult *r)
{
	struct text t;
	if (!text_open(&t))
		return SQLITE_NOMEM;
	int rc = SQLITE_OK;
	int64_t total = unit < 0 ? 0 : count_samples(db, unit, after, upto, &rc);
	sqlite3_stmt *st = NULL;
	if (rc == SQLITE_OK && total > 0) {
		char sql[512];
		snprintf(sql, sizeof(sql),
			 "SELECT ts, online, " VALUE_COLS ", %s FROM samples WHERE unit = ?1 AND span = 0 AND ts > ?2 "
			 "AND ts <= ?3 ORDER BY ts LIMIT ?4", has_cells(db) ? CELL_COLS : "NULL, NULL");
		rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	}
	fprintf(t.f, "%" PRId64 "\n", total < 0 ? 0 : total);
	if (st) {
		sqlite3_bind_int64(st, 1, unit);
		sqlite3_bind_int64(st, 2, after);
		sqlite3_bind_int64(st, 3, upto);
		sqlite3_bind_int(st, 4, max);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			fprintf(t.f, "%" PRId64 " ", (int64_t)sqlite3_column_int64(st, 0));
			sample_json(t.f, st);
			fputc('\n', t.f);
		}
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
		sqlite3_finalize(st);
	}
	text_close(&t, r);
	r->status = 200;
	return rc;
}
