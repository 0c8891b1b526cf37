/* SPDX-License-Identifier: MIT */
/* gateway/history/store.c - the worker thread, which owns the database.
 *
 * It writes the queued samples batched in one transaction (WAL,
 * synchronous=NORMAL), folds samples older than raw_days into 15-minute
 * rows one day per turn, drops rows older than the retention, and runs the
 * queries the loop queued (query.c answers them).  It never logs: its
 * messages go back to the loop (post_msg).  A corrupt file is moved aside
 * and a new one started; a full disk drops samples, logged once, until
 * there is room; a file that cannot be opened is tried again every minute.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../model/gw.h"
#include "history_int.h"
#include "../core/statedir.h"

#define MAINT_EVERY 3600.0        /* seconds between folds and prunes */
#define MAINT_FIRST 5.0           /* ... and the first, after the start */
#define REOPEN_EVERY 60.0         /* a database that could not be opened is tried again */
#define SCHEMA_VERSION 4

/* Here, not in history.c: the worker opens the file and query.c reads it,
 * and neither calls back into the loop side. */
void gw_history_path(const struct conf_history *c, char *out, size_t cap)
{
	if (!gw_hist_automatic(c)) {
		snprintf(out, cap, "%s", c->file);
		return;
	}
	gw_state_path("history.db", out, cap);
}

/* ------------------------------------------------------------- SQL helpers */

/* bmsgw_or(x): the OR of the alarm bits of a group of rows */
static void sql_or_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	sqlite3_int64 *acc = sqlite3_aggregate_context(ctx, (int)sizeof(*acc));
	if (acc && sqlite3_value_type(argv[0]) != SQLITE_NULL)
		*acc |= sqlite3_value_int64(argv[0]);
}

static void sql_or_final(sqlite3_context *ctx)
{
	sqlite3_int64 *acc = sqlite3_aggregate_context(ctx, 0);
	if (acc)
		sqlite3_result_int64(ctx, *acc);
	else
		sqlite3_result_null(ctx);
}

/* The corruption codes: the file is not usable as it is. */
static bool is_corrupt(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

static bool is_full(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_FULL;
}

/* Schema, pragmas, functions on a freshly opened handle.  SQLite code. */
int gw_hist_db_setup(sqlite3 *db, bool readonly, char *err, size_t errlen)
{
	int rc = sqlite3_create_function(db, "bmsgw_or", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, NULL,
					 sql_or_step, sql_or_final);
	if (rc == SQLITE_OK)
		rc = gw_hist_cells_sql(db);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(db, readonly ? 2000 : 200);
	/* the page cache a connection keeps: SQLite's default (2,000 KiB)
	 * would follow the file for weeks (bmsgw(8) RESOURCES AND LOGS) */
	rc = sqlite3_exec(db, "PRAGMA cache_size = -" GW_HIST_CACHE_KIB, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	if (readonly)
		return SQLITE_OK;
	static const char *const schema =
		"PRAGMA journal_mode = WAL;"
		"PRAGMA synchronous = NORMAL;"
		"CREATE TABLE IF NOT EXISTS units(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
		"CREATE TABLE IF NOT EXISTS samples(unit INTEGER NOT NULL, ts INTEGER NOT NULL,"
		" span INTEGER NOT NULL DEFAULT 0, n INTEGER NOT NULL DEFAULT 1, online INTEGER NOT NULL,"
		" soc REAL, voltage REAL, current REAL, power REAL, cell_min REAL, cell_max REAL, cell_delta REAL,"
		" temp_min REAL, temp_max REAL, mos_temp REAL, alarms INTEGER, soc_bms REAL, soc_counted REAL,"
		" ccl REAL, dcl REAL, cells BLOB, balance INTEGER, soc_band REAL, PRIMARY KEY (unit, ts, span))"
		" WITHOUT ROWID;";
	char *msg = NULL;
	rc = sqlite3_exec(db, schema, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return rc;
	}
	/* a database of a newer bmsgw is left alone */
	sqlite3_stmt *st = NULL;
	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	int ver = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	if (ver > SCHEMA_VERSION) {
		snprintf(err, errlen, "written by a newer bmsgw (schema %d, this one knows %d)", ver, SCHEMA_VERSION);
		return SQLITE_MISMATCH;
	}
	if (ver == 1) {
		/* version 2 added the two SOCs: NULL in the rows before */
		rc = sqlite3_exec(db, "ALTER TABLE samples ADD COLUMN soc_bms REAL;"
				  "ALTER TABLE samples ADD COLUMN soc_counted REAL;", NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			goto fail;
	}
	if (ver >= 1 && ver <= 2) {
		/* version 3 added the current limits and every cell: NULL in the rows before */
		rc = sqlite3_exec(db, "ALTER TABLE samples ADD COLUMN ccl REAL;"
				  "ALTER TABLE samples ADD COLUMN dcl REAL;"
				  "ALTER TABLE samples ADD COLUMN cells BLOB;"
				  "ALTER TABLE samples ADD COLUMN balance INTEGER;", NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			goto fail;
	}
	if (ver >= 1 && ver <= 3) {
		/* version 4 added the count's uncertainty: NULL in the rows before */
		rc = sqlite3_exec(db, "ALTER TABLE samples ADD COLUMN soc_band REAL;", NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			goto fail;
	}
	if (ver < SCHEMA_VERSION) {
		char q[64];
		snprintf(q, sizeof(q), "PRAGMA user_version = %d", SCHEMA_VERSION);
		rc = sqlite3_exec(db, q, NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			goto fail;
	}
	return SQLITE_OK;
fail:
	snprintf(err, errlen, "%s", sqlite3_errmsg(db));
	return rc;
}

/* ------------------------------------------------------------- worker side */

__attribute__((format(printf, 3, 4)))
static void post_msg(struct gw_history *h, enum conf_log_level level, const char *fmt, ...)
{
	struct hmsg *m = calloc(1, sizeof(*m));
	if (!m)
		return;
	m->level = level;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->text, sizeof(m->text), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&h->mu);
	if (level <= CONF_LOG_WARN)
		snprintf(h->st.last_error, sizeof(h->st.last_error), "%.199s", m->text);
	*h->msgs_tail = m;
	h->msgs_tail = &m->next;
	pthread_mutex_unlock(&h->mu);
	ev_async_send(h->gw->loop, &h->wake);
}

static void db_close(struct gw_history *h)
{
	if (h->db)
		sqlite3_close_v2(h->db);
	h->db = NULL;
	h->nunits = 0;
	pthread_mutex_lock(&h->mu);
	h->st.open = false;
	pthread_mutex_unlock(&h->mu);
}

/* The file is not a usable database: move it (and its WAL) aside. */
static void move_aside(struct gw_history *h, const char *why)
{
	db_close(h);
	char stamp[32], to[CONF_PORT_MAX + 48];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(to, sizeof(to), "%s.corrupt-%s", h->path, stamp);
	if (rename(h->path, to) == 0) {
		post_msg(h, CONF_LOG_ERROR, "history: %s is not a usable database (%s): moved aside to %s; "
			 "a new one is started", h->path, why, to);
	} else {
		post_msg(h, CONF_LOG_ERROR, "history: %s is not a usable database (%s) and cannot be moved "
			 "aside (%s): history is off until it is removed", h->path, why, strerror(errno));
		h->next_open = 1e300;
		return;
	}
	for (const char *suf = "-wal"; suf; suf = strcmp(suf, "-wal") == 0 ? "-shm" : NULL) {
		char a[CONF_PORT_MAX + 8], b[CONF_PORT_MAX + 56];
		snprintf(a, sizeof(a), "%s%s", h->path, suf);
		snprintf(b, sizeof(b), "%s%s", to, suf);
		(void)rename(a, b);
	}
	h->next_open = 0;
}

/* Open (or create) the database.  On failure it is tried again later. */
static void db_open(struct gw_history *h, double now)
{
	char err[200] = "";
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(h->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc == SQLITE_OK)
		rc = gw_hist_db_setup(db, false, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "%s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	if (rc == SQLITE_OK) {
		/* a damaged file often opens; the first look inside tells */
		sqlite3_stmt *st = NULL;
		rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL);
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(st);
			if (rc == SQLITE_ROW) {
				const char *r = (const char *)sqlite3_column_text(st, 0);
				if (r && strcmp(r, "ok") != 0) {
					snprintf(err, sizeof(err), "quick_check: %s", r);
					rc = SQLITE_CORRUPT;
				} else {
					rc = SQLITE_OK;
				}
			} else if (rc != SQLITE_DONE) {
				snprintf(err, sizeof(err), "%s", sqlite3_errmsg(db));
			} else {
				rc = SQLITE_OK;
			}
			sqlite3_finalize(st);
		} else {
			snprintf(err, sizeof(err), "%s", sqlite3_errmsg(db));
		}
	}
	if (rc != SQLITE_OK) {
		if (db)
			sqlite3_close_v2(db);
		if (is_corrupt(rc)) {
			h->db = NULL;
			move_aside(h, err);
			return;
		}
		h->next_open = now + REOPEN_EVERY;
		if (!h->open_failed)
			post_msg(h, CONF_LOG_ERROR, "history: cannot open %s: %s; samples are dropped, trying "
				 "again every %.0f s", h->path, err, REOPEN_EVERY);
		h->open_failed = true;
		return;
	}
	h->db = db;
	h->nunits = 0;
	pthread_mutex_lock(&h->mu);
	h->st.open = true;
	pthread_mutex_unlock(&h->mu);
	post_msg(h, CONF_LOG_INFO, "history: %s: a sample of every unit every %g s, %g days in full, 15-minute "
		 "rows up to %g days", h->path, h->cfg.interval, h->cfg.raw_days, h->cfg.retention);
	h->open_failed = false;
}

/* After a failed statement: corruption moves the file aside, other errors are counted. */
static void db_failed(struct gw_history *h, int rc, const char *what)
{
	if (is_corrupt(rc) && h->db) {
		char why[160];
		snprintf(why, sizeof(why), "%s: %s", what, sqlite3_errmsg(h->db));
		move_aside(h, why);
	}
}

/* The id of unit `name`, created if new; -1 on error. */
static int64_t unit_id(struct gw_history *h, const char *name, bool create, int *rcp)
{
	for (int i = 0; i < h->nunits; i++)
		if (strcmp(h->units[i].name, name) == 0)
			return h->units[i].id;
	sqlite3_stmt *st = NULL;
	int64_t id = -1;
	int rc;
	if (create) {
		rc = sqlite3_prepare_v2(h->db, "INSERT OR IGNORE INTO units(name) VALUES (?1)", -1, &st, NULL);
		if (rc == SQLITE_OK) {
			sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
			rc = sqlite3_step(st);
			rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_OK) {
			*rcp = rc;
			return -1;
		}
	}
	rc = sqlite3_prepare_v2(h->db, "SELECT id FROM units WHERE name = ?1", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			id = sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			rc = SQLITE_OK; /* unknown */
		}
	}
	sqlite3_finalize(st);
	*rcp = rc;
	if (id >= 0 && h->nunits < UNITS_MAX) {
		snprintf(h->units[h->nunits].name, sizeof(h->units[h->nunits].name), "%s", name);
		h->units[h->nunits++].id = id;
	}
	return id;
}

/* v rounded to `decimals` (the float of the snapshot as the decimal the BMS
 * sent, 52.7 rather than 52.70000076), or NULL */
static void bind_opt(sqlite3_stmt *st, int idx, bool have, double v, int decimals)
{
	static const double scale[] = { 1, 10, 100, 1000, 10000 };
	if (have && isfinite(v))
		sqlite3_bind_double(st, idx, round(v * scale[decimals]) / scale[decimals]);
	else
		sqlite3_bind_null(st, idx);
}

void gw_hist_bind(sqlite3_stmt *st, int64_t unit, const struct gw_hsample *s)
{
	uint32_t hv = s->have;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, unit);
	sqlite3_bind_int64(st, 2, s->ts);
	sqlite3_bind_int(st, 3, s->online ? 1 : 0);
	bind_opt(st, 4, hv & GW_HS_SOC, s->soc, 2);
	bind_opt(st, 5, hv & GW_HS_VOLTAGE, s->voltage, 3);
	bind_opt(st, 6, hv & GW_HS_CURRENT, s->current, 3);
	bind_opt(st, 7, hv & GW_HS_POWER, s->power, 2);
	bind_opt(st, 8, hv & GW_HS_CELLS, s->cell_min, 0);
	bind_opt(st, 9, hv & GW_HS_CELLS, s->cell_max, 0);
	bind_opt(st, 10, hv & GW_HS_CELLS, s->cell_delta, 0);
	bind_opt(st, 11, hv & GW_HS_TEMPS, s->temp_min, 2);
	bind_opt(st, 12, hv & GW_HS_TEMPS, s->temp_max, 2);
	bind_opt(st, 13, hv & GW_HS_MOS_TEMP, s->mos_temp, 2);
	if (hv & GW_HS_ALARMS)
		sqlite3_bind_int64(st, 14, s->alarms);
	else
		sqlite3_bind_null(st, 14);
	bind_opt(st, 15, hv & GW_HS_SOC_BMS, s->soc_bms, 2);
	bind_opt(st, 16, hv & GW_HS_SOC_COUNTED, s->soc_counted, 2);
	bind_opt(st, 17, hv & GW_HS_LIMITS, s->ccl, 1);
	bind_opt(st, 18, hv & GW_HS_LIMITS, s->dcl, 1);
	bind_opt(st, 19, hv & GW_HS_SOC_BAND, s->soc_band, 1);
	uint8_t cells[2 * BMS_MAX_CELLS];
	size_t nb = s->online ? gw_hist_cells_encode(s, cells) : 0;
	if (nb)
		sqlite3_bind_blob(st, 20, cells, (int)nb, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 20);
	if (s->online && (hv & GW_HS_BALANCE))
		sqlite3_bind_int64(st, 21, s->balance);
	else
		sqlite3_bind_null(st, 21);
}

/* One transaction with every queued sample.  SQLite code. */
static int write_batch(struct gw_history *h, const struct gw_hsample *s, size_t n)
{
	int rc = sqlite3_exec(h->db, "BEGIN", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_stmt *st = NULL;
	rc = sqlite3_prepare_v2(h->db, GW_HIST_INSERT, -1, &st, NULL);
	for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
		int64_t id = unit_id(h, s[i].unit, true, &rc);
		if (rc != SQLITE_OK || id < 0)
			break;
		gw_hist_bind(st, id, &s[i]);
		rc = sqlite3_step(st);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		(void)sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static void write_samples(struct gw_history *h, struct gw_hsample *s, size_t n)
{
	if (!n)
		return;
	if (!h->db) {
		pthread_mutex_lock(&h->mu);
		h->st.dropped += n;
		pthread_mutex_unlock(&h->mu);
		return;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = write_batch(h, s, n);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	pthread_mutex_lock(&h->mu);
	h->st.last_write_ms = ms;
	if (rc == SQLITE_OK) {
		h->st.written += n;
		h->st.batches++;
	} else {
		h->st.dropped += n;
		h->st.errors++;
	}
	pthread_mutex_unlock(&h->mu);
	if (rc == SQLITE_OK) {
		if (h->full) {
			post_msg(h, CONF_LOG_INFO, "history: %s: writing again (%lu samples were lost while the disk "
				 "was full)", h->path, h->full_dropped);
			h->full = false;
			h->full_dropped = 0;
		}
		return;
	}
	if (is_full(rc)) {
		if (!h->full)
			post_msg(h, CONF_LOG_ERROR, "history: the disk holding %s is full: samples are dropped "
				 "until there is room (logged once; the gateway goes on serving)", h->path);
		h->full = true;
		h->full_dropped += n;
		return;
	}
	if (is_corrupt(rc)) {
		db_failed(h, rc, "writing samples");
		return;
	}
	post_msg(h, CONF_LOG_WARN, "history: %s: writing %zu samples failed: %s", h->path, n,
		 sqlite3_errstr(rc));
}

int gw_hist_fold(sqlite3 *db, int64_t lo, int64_t hi)
{
	char sql[2048];
	snprintf(sql, sizeof(sql),
		 "BEGIN;"
		 "INSERT OR REPLACE INTO samples(unit, ts, span, n, online, " VALUE_COLS ", " CELL_COLS ") "
		 "SELECT unit, (ts / %d) * %d AS b, %d, sum(n), sum(online), " AGG_COLS ", " AGG_CELL_COLS
		 " FROM samples WHERE ts >= %" PRId64 " AND ts < %" PRId64 " GROUP BY unit, b;"
		 "DELETE FROM samples WHERE span = 0 AND ts >= %" PRId64 " AND ts < %" PRId64 ";"
		 "COMMIT;",
		 GW_HISTORY_FOLD, GW_HISTORY_FOLD, GW_HISTORY_FOLD, lo, hi, lo, hi);
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* One turn of maintenance: fold one day of old samples, or prune. */
static void maintain(struct gw_history *h, double now)
{
	int64_t wall = (int64_t)time(NULL);
	int64_t cutoff = (wall - (int64_t)(h->cfg.raw_days * 86400)) / GW_HISTORY_FOLD * GW_HISTORY_FOLD;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(h->db, "SELECT min(ts) FROM samples WHERE span = 0 AND ts < ?1", -1, &st, NULL);
	int64_t lo = -1;
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, cutoff);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			if (sqlite3_column_type(st, 0) != SQLITE_NULL)
				lo = sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		goto failed;
	if (lo >= 0) {
		/* fold [lo_b, hi): every unit, one day at most per turn */
		int64_t lo_b = (lo >= 0 ? lo : lo - GW_HISTORY_FOLD + 1) / GW_HISTORY_FOLD * GW_HISTORY_FOLD;
		int64_t hi = lo_b + 86400 < cutoff ? lo_b + 86400 : cutoff;
		rc = gw_hist_fold(h->db, lo_b, hi);
		if (rc != SQLITE_OK)
			goto failed;
		h->folding = true; /* more may be left: the next turn looks again */
		return;
	}
	h->folding = false;
	char sql[256];
	int64_t keep = wall - (int64_t)(h->cfg.retention * 86400);
	snprintf(sql, sizeof(sql), "DELETE FROM samples WHERE unit IN (SELECT id FROM units) AND ts < %" PRId64,
		 keep);
	rc = sqlite3_exec(h->db, sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h->db, "PRAGMA wal_checkpoint(PASSIVE)", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto failed;
	h->next_maint = now + MAINT_EVERY;
	return;
failed:
	h->folding = false;
	h->next_maint = now + MAINT_EVERY;
	if (is_corrupt(rc))
		db_failed(h, rc, "folding old samples");
	else if (!is_full(rc))
		post_msg(h, CONF_LOG_WARN, "history: %s: folding and pruning old samples failed: %s", h->path,
			 sqlite3_errstr(rc));
}

static void run_query(struct gw_history *h, struct gw_hquery *q)
{
	struct gw_hresult *r = &q->r;
	if (!h->db) {
		r->status = 503;
		snprintf(r->err, sizeof(r->err), "the history database is not open (see the log)");
		return;
	}
	int rc = SQLITE_OK;
	int64_t id = unit_id(h, q->unit, false, &rc);
	/* a known unit without rows yet (before its first sample is written):
	 * the answer of no rows, the CSV's header alone; past samples of a
	 * unit without rows: none */
	if (rc == SQLITE_OK && id < 0 && !q->known && q->kind != HQ_SAMPLES) {
		r->status = 404;
		snprintf(r->err, sizeof(r->err), "no history of unit \"%s\"", q->unit);
		return;
	}
	if (rc == SQLITE_OK && q->kind == HQ_SAMPLES)
		rc = gw_hist_run_samples(h->db, id, q->from, q->to, q->limit, r);
	else if (rc == SQLITE_OK && q->kind == HQ_CSV)
		rc = gw_hist_run_csv(h->db, id, q->unit, q->from, q->to, q->step, q->after, q->limit, r);
	else if (rc == SQLITE_OK)
		rc = gw_hist_run_chart(h->db, id, q->unit, q->from, q->to, q->limit, h->cfg.interval, q->cells, r);
	if (rc != SQLITE_OK) {
		free(r->text);
		r->text = NULL;
		r->len = 0;
		r->status = 500;
		snprintf(r->err, sizeof(r->err), "history query failed: %s", sqlite3_errstr(rc));
		if (is_corrupt(rc))
			db_failed(h, rc, "reading");
	}
}

void *gw_hist_worker(void *arg)
{
	struct gw_history *h = arg;
	double now = gw_mono();
	h->next_maint = now + MAINT_FIRST;
	db_open(h, now);
	struct gw_hsample *batch = NULL;
	size_t cap = 0;
	pthread_mutex_lock(&h->mu);
	for (;;) {
		now = gw_mono();
		double wake = h->folding ? now : h->next_maint;
		if (!h->db && h->next_open < wake)
			wake = h->next_open;
		if (!h->stop && !h->nq && !h->jobs && wake > now) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			double until = (double)ts.tv_sec + ts.tv_nsec / 1e9 + (wake - now > 3600 ? 3600 : wake - now);
			ts.tv_sec = (time_t)until;
			ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
			pthread_cond_timedwait(&h->cond, &h->mu, &ts);
			continue;
		}
		/* take the queued samples (swap buffers) and the jobs */
		struct gw_hsample *s = h->q;
		size_t n = h->nq;
		h->q = batch;
		h->nq = 0;
		batch = s;
		size_t bcap = h->capq;
		h->capq = cap;
		cap = bcap;
		h->st.queued = 0;
		struct gw_hquery *jobs = h->jobs;
		h->jobs = NULL;
		h->jobs_tail = &h->jobs;
		bool stop = h->stop;
		pthread_mutex_unlock(&h->mu);

		now = gw_mono();
		if (!h->db && now >= h->next_open)
			db_open(h, now);
		write_samples(h, batch, n);
		while (jobs) {
			struct gw_hquery *q = jobs;
			jobs = q->next;
			q->next = NULL;
			run_query(h, q);
			pthread_mutex_lock(&h->mu);
			*h->done_tail = q;
			h->done_tail = &q->next;
			pthread_mutex_unlock(&h->mu);
			ev_async_send(h->gw->loop, &h->wake);
		}
		if (!stop && h->db && (h->folding || gw_mono() >= h->next_maint))
			maintain(h, gw_mono());

		pthread_mutex_lock(&h->mu);
		if (h->stop && !h->nq && !h->jobs)
			break;
	}
	pthread_mutex_unlock(&h->mu);
	free(batch);
	if (h->db)
		(void)sqlite3_exec(h->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	db_close(h);
	/* a retired history is reaped by the loop once told (history.c) */
	pthread_mutex_lock(&h->mu);
	h->exited = true;
	pthread_mutex_unlock(&h->mu);
	ev_async_send(h->gw->loop, &h->wake);
	return NULL;
}
