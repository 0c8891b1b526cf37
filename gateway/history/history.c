/* gateway/history/history.c - samples in SQLite, written by a worker thread.
 *
 * The loop side: an ev_periodic takes one sample of every unit each
 * interval (aligned to the wall clock) and appends it to a queue; queries
 * of the status page are queued too; an ev_async brings their answers and
 * the worker's messages back to the loop.  The loop never touches the
 * database and never waits for the worker, except at gw_history_free().
 *
 * The worker side owns the sqlite3 handle.  Schema (user_version 1):
 *
 *	units(id, name)                       a pack name or "bank"
 *	samples(unit, ts, span, n, online,    span 0: one sample at ts;
 *	        soc, voltage, current, power, span 900: the n samples of
 *	        cell_min, cell_max, cell_delta,       [ts, ts + 900) folded,
 *	        temp_min, temp_max, mos_temp,         `online` of them online
 *	        alarms)
 *	primary key (unit, ts, span), WITHOUT ROWID
 *
 * Averages over several rows are weighted by the online samples each row
 * holds, so a folded row counts as many samples as it folded; lowest cell
 * and temperature are minima, highest cell, cell difference and
 * temperatures maxima, alarms the OR of every sample.  A unit that is not
 * online has no values (NULL), so charts show the outage as a gap.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../model/gw.h"
#include "history.h"
#include "../core/log.h"
#include "../core/util.h"

#define QUEUE_MAX 100000          /* samples waiting for the worker before the oldest are dropped */
#define MAINT_EVERY 3600.0        /* seconds between folds and prunes */
#define MAINT_FIRST 5.0           /* ... and the first, after the start */
#define REOPEN_EVERY 60.0         /* a database that could not be opened is tried again */
#define UNITS_MAX (CONF_MAX_PACKS * 4)
#define SCHEMA_VERSION 1

/* the value columns, in table order after `online` */
#define VALUE_COLS "soc, voltage, current, power, cell_min, cell_max, cell_delta, temp_min, temp_max, mos_temp, alarms"
#define NVALUES 11

/* one weighted average over rows (see the top of the file) */
#define WAVG(c) "sum(" c " * online) / nullif(sum(CASE WHEN " c " IS NULL THEN 0 ELSE online END), 0)"
/* the value columns aggregated over a group of rows */
#define AGG_COLS                                                                                       \
	WAVG("soc") ", " WAVG("voltage") ", " WAVG("current") ", " WAVG("power") ", min(cell_min), "        \
		    "max(cell_max), max(cell_delta), min(temp_min), max(temp_max), max(mos_temp), bmsgw_or(alarms)"

enum hq_kind { HQ_CHART, HQ_CSV };

struct gw_hquery {
	struct gw_hquery *next;
	enum hq_kind kind;
	char unit[CONF_NAME_MAX];
	int64_t from, to, step, after;
	int limit;                    /* chart: points; csv: rows */
	gw_history_cb cb;
	void *arg;
	bool canceled;                /* set by the loop: drop the answer */
	struct gw_hresult r;          /* filled by the worker */
};

struct hmsg {
	struct hmsg *next;
	enum conf_log_level level;
	char text[320];
};

struct unit_id {
	char name[CONF_NAME_MAX];
	int64_t id;
};

struct gw_history {
	struct gw *gw;
	struct conf_history cfg;      /* a copy: the worker reads it */
	char path[CONF_PORT_MAX];
	ev_periodic sampler;
	ev_async wake;                /* worker -> loop: answers, messages */

	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	/* under mu */
	bool stop;
	struct gw_hsample *q;         /* queued samples */
	size_t nq, capq;
	struct gw_hquery *jobs, **jobs_tail;
	struct gw_hquery *done, **done_tail;
	struct hmsg *msgs, **msgs_tail;
	struct gw_history_stats st;
	bool drop_logged;             /* queue overflow episode */

	/* worker only */
	sqlite3 *db;
	struct unit_id units[UNITS_MAX];
	int nunits;
	double next_maint, next_open;
	bool folding;                 /* a fold is under way, one day per turn */
	bool full;                    /* disk-full episode */
	unsigned long full_dropped;
	bool open_failed;             /* logged once until it opens */
};

/* ------------------------------------------------------------- pure parts */

void gw_history_sample(struct gw_hsample *out, int64_t ts, const char *unit, bool online,
		       const struct bms_snapshot *s, const struct gw_bank_state *bank)
{
	memset(out, 0, sizeof(*out));
	out->ts = ts;
	snprintf(out->unit, sizeof(out->unit), "%s", unit);
	out->online = online;
	if (!online || !s)
		return;
	uint32_t p = s->present;
	if (p & BMS_HAS_SOC) {
		out->have |= GW_HS_SOC;
		out->soc = s->soc;
	}
	if (p & BMS_HAS_VOLTAGE) {
		out->have |= GW_HS_VOLTAGE;
		out->voltage = s->voltage;
	}
	if (p & BMS_HAS_CURRENT) {
		out->have |= GW_HS_CURRENT;
		out->current = s->current;
	}
	if (p & BMS_HAS_POWER) {
		out->have |= GW_HS_POWER;
		out->power = s->power;
	}
	if (bank) {
		if (bank->rb.have_cells) {
			out->have |= GW_HS_CELLS;
			out->cell_min = bank->rb.min_mv;
			out->cell_max = bank->rb.max_mv;
			out->cell_delta = (float)(bank->rb.max_mv - bank->rb.min_mv);
		}
	} else if (s->ncells > 0) {
		struct bms_cell_stats cs;
		bms_cell_stats(s, &cs);
		out->have |= GW_HS_CELLS;
		out->cell_min = cs.min_mv;
		out->cell_max = cs.max_mv;
		out->cell_delta = cs.delta_mv;
	}
	bool any = false;
	for (unsigned i = 0; i < s->ntemps && i < BMS_MAX_TEMPS; i++) {
		float t = s->temp_c[i];
		if (!isfinite(t))
			continue;
		if (!any || t < out->temp_min)
			out->temp_min = t;
		if (!any || t > out->temp_max)
			out->temp_max = t;
		any = true;
	}
	if (any)
		out->have |= GW_HS_TEMPS;
	if ((p & BMS_HAS_MOS_TEMP) && isfinite(s->mos_temp_c)) {
		out->have |= GW_HS_MOS_TEMP;
		out->mos_temp = s->mos_temp_c;
	}
	if (p & BMS_HAS_ALARMS) {
		out->have |= GW_HS_ALARMS;
		out->alarms = s->alarms;
	}
}

void gw_history_path(const struct conf_history *c, char *out, size_t cap)
{
	if (c->file[0] && strcmp(c->file, "none") != 0) {
		snprintf(out, cap, "%s", c->file);
		return;
	}
	const char *sd = getenv("STATE_DIRECTORY");
	if (sd && sd[0] == '/') {
		size_t n = strcspn(sd, ":");
		snprintf(out, cap, "%.*s/history.db", (int)n, sd);
		return;
	}
	snprintf(out, cap, "/var/lib/bmsgw/history.db");
}

bool gw_history_same(const struct conf_history *a, const struct conf_history *b)
{
	return a->enabled == b->enabled && strcmp(a->file, b->file) == 0 && a->interval == b->interval &&
	       a->retention == b->retention && a->raw_days == b->raw_days;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int gw_history_parse_time(const char *s, int64_t now, int64_t *out)
{
	if (!s || !*s)
		return -1;
	if (strcmp(s, "now") == 0) {
		*out = now;
		return 0;
	}
	if (all_digits(s) && strlen(s) <= 12) {
		*out = strtoll(s, NULL, 10);
		return 0;
	}
	int y, mo, d, hh = 0, mi = 0, ss = 0, n = 0;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -1;
	const char *p = s + 10;
	long off = 0;
	if (*p == 'T' || *p == ' ') {
		int m = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &hh, &mi, &m) != 2 || m != 5)
			return -1;
		p += 1 + m;
		if (*p == ':') {
			if (sscanf(p + 1, "%2d%n", &ss, &m) != 1 || m != 2)
				return -1;
			p += 1 + m;
		}
		if (*p == 'Z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int oh, om;
			if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &m) != 2 || m != 5)
				return -1;
			off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
			p += 1 + m;
		}
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mi > 59 || ss > 60 || y < 1970 || y > 9999)
		return -1;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = hh;
	tm.tm_min = mi;
	tm.tm_sec = ss;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = (int64_t)t - off;
	return 0;
}

int gw_history_parse_span(const char *s, int64_t *out)
{
	if (!s || !*s)
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || v <= 0 || v > 100000000LL)
		return -1;
	long long mul = 1;
	if (*end == 's')
		end++;
	else if (*end == 'm')
		mul = 60, end++;
	else if (*end == 'h')
		mul = 3600, end++;
	else if (*end == 'd')
		mul = 86400, end++;
	else if (*end == 'w')
		mul = 7 * 86400, end++;
	if (*end)
		return -1;
	*out = v * mul;
	return 0;
}

/* ------------------------------------------------------------- SQL helpers */

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
static int db_setup(sqlite3 *db, bool readonly, char *err, size_t errlen)
{
	int rc = sqlite3_create_function(db, "bmsgw_or", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, NULL,
					 sql_or_step, sql_or_final);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(db, readonly ? 2000 : 200);
	if (readonly)
		return SQLITE_OK;
	static const char *const schema =
		"PRAGMA journal_mode = WAL;"
		"PRAGMA synchronous = NORMAL;"
		"CREATE TABLE IF NOT EXISTS units(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
		"CREATE TABLE IF NOT EXISTS samples(unit INTEGER NOT NULL, ts INTEGER NOT NULL,"
		" span INTEGER NOT NULL DEFAULT 0, n INTEGER NOT NULL DEFAULT 1, online INTEGER NOT NULL,"
		" soc REAL, voltage REAL, current REAL, power REAL, cell_min REAL, cell_max REAL, cell_delta REAL,"
		" temp_min REAL, temp_max REAL, mos_temp REAL, alarms INTEGER,"
		" PRIMARY KEY (unit, ts, span)) WITHOUT ROWID;";
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
		rc = db_setup(db, false, err, sizeof(err));
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

/* One transaction with every queued sample.  SQLite code. */
static int write_batch(struct gw_history *h, const struct gw_hsample *s, size_t n)
{
	int rc = sqlite3_exec(h->db, "BEGIN", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_stmt *st = NULL;
	rc = sqlite3_prepare_v2(h->db,
				"INSERT OR REPLACE INTO samples(unit, ts, span, n, online, " VALUE_COLS ") "
				"VALUES (?1, ?2, 0, 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
				-1, &st, NULL);
	for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
		int64_t id = unit_id(h, s[i].unit, true, &rc);
		if (rc != SQLITE_OK || id < 0)
			break;
		uint32_t hv = s[i].have;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, s[i].ts);
		sqlite3_bind_int(st, 3, s[i].online ? 1 : 0);
		bind_opt(st, 4, hv & GW_HS_SOC, s[i].soc, 2);
		bind_opt(st, 5, hv & GW_HS_VOLTAGE, s[i].voltage, 3);
		bind_opt(st, 6, hv & GW_HS_CURRENT, s[i].current, 3);
		bind_opt(st, 7, hv & GW_HS_POWER, s[i].power, 2);
		bind_opt(st, 8, hv & GW_HS_CELLS, s[i].cell_min, 0);
		bind_opt(st, 9, hv & GW_HS_CELLS, s[i].cell_max, 0);
		bind_opt(st, 10, hv & GW_HS_CELLS, s[i].cell_delta, 0);
		bind_opt(st, 11, hv & GW_HS_TEMPS, s[i].temp_min, 2);
		bind_opt(st, 12, hv & GW_HS_TEMPS, s[i].temp_max, 2);
		bind_opt(st, 13, hv & GW_HS_MOS_TEMP, s[i].mos_temp, 2);
		if (hv & GW_HS_ALARMS)
			sqlite3_bind_int64(st, 14, s[i].alarms);
		else
			sqlite3_bind_null(st, 14);
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
		char sql[1024];
		snprintf(sql, sizeof(sql),
			 "BEGIN;"
			 "INSERT OR REPLACE INTO samples(unit, ts, span, n, online, " VALUE_COLS ") "
			 "SELECT unit, (ts / %d) * %d AS b, %d, sum(n), sum(online), " AGG_COLS " FROM samples "
			 "WHERE ts >= %" PRId64 " AND ts < %" PRId64 " GROUP BY unit, b;"
			 "DELETE FROM samples WHERE span = 0 AND ts >= %" PRId64 " AND ts < %" PRId64 ";"
			 "COMMIT;",
			 GW_HISTORY_FOLD, GW_HISTORY_FOLD, GW_HISTORY_FOLD, lo_b, hi, lo_b, hi);
		rc = sqlite3_exec(h->db, sql, NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			(void)sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
			goto failed;
		}
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

/* ----------------------------------------------------------- query answers */

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
	{ "temp_max", 1 }, { "mos_temp", 1 }, { "alarms", 0 },
};

/* Prepare the rows of a query: t, span, n, online, the values.  step 0 =
 * the stored rows, else buckets of step seconds. */
static int prepare_rows(sqlite3 *db, int64_t unit, int64_t from, int64_t to, int64_t step, int limit,
			sqlite3_stmt **st)
{
	char sql[1024];
	if (step <= 0)
		snprintf(sql, sizeof(sql),
			 "SELECT ts, span, n, online, " VALUE_COLS " FROM samples WHERE unit = %" PRId64
			 " AND ts >= %" PRId64 " AND ts < %" PRId64 " ORDER BY ts, span LIMIT %d",
			 unit, from, to, limit);
	else
		snprintf(sql, sizeof(sql),
			 "SELECT (ts / %" PRId64 ") * %" PRId64 " AS t, max(span), sum(n), sum(online), " AGG_COLS
			 " FROM samples WHERE unit = %" PRId64 " AND ts >= %" PRId64 " AND ts < %" PRId64
			 " GROUP BY t ORDER BY t LIMIT %d",
			 step, step, unit, from, to, limit);
	return sqlite3_prepare_v2(db, sql, -1, st, NULL);
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
	"cell_delta_mv,temp_min_c,temp_max_c,mos_temp_c,alarm_bits,alarms\r\n"

/* One CSV chunk into r.  SQLite code. */
static int run_csv(sqlite3 *db, int64_t unit, const char *name, int64_t from, int64_t to, int64_t step,
		   int64_t after, int rows, struct gw_hresult *r)
{
	int64_t start = after < from ? from : step > 0 ? (after / step + 1) * step : after + 1;
	sqlite3_stmt *st = NULL;
	int rc = prepare_rows(db, unit, start, to, step, rows, &st);
	if (rc != SQLITE_OK)
		return rc;
	struct text t;
	if (!text_open(&t)) {
		sqlite3_finalize(st);
		return SQLITE_NOMEM;
	}
	if (after < from)
		fputs(CSV_HEADER, t.f);
	int n = 0;
	int64_t last = after;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t ts = sqlite3_column_int64(st, 0);
		char iso[32];
		iso_time(iso, sizeof(iso), ts);
		int64_t span = step > 0 ? step : sqlite3_column_int64(st, 1);
		fprintf(t.f, "%s,%" PRId64 ",%s,%" PRId64 ",%lld,%lld", iso, ts, name, span,
			(long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3));
		for (int c = 0; c < NVALUES - 1; c++)
			csv_num(t.f, st, 4 + c, value_cols[c].prec);
		if (sqlite3_column_type(st, 4 + NVALUES - 1) != SQLITE_NULL) {
			int64_t bits = sqlite3_column_int64(st, 4 + NVALUES - 1);
			fprintf(t.f, ",%" PRId64 ",", bits);
			alarm_names(t.f, bits);
		} else {
			fputs(",,", t.f);
		}
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

/* Chart columns into r.  SQLite code. */
static int run_chart(sqlite3 *db, int64_t unit, const char *name, int64_t from, int64_t to, int points,
		     double interval, struct gw_hresult *r)
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
	int rc = prepare_rows(db, unit, start, to, step, points + 2, &st);
	if (rc != SQLITE_OK)
		return rc;
	/* read the rows, then write column by column */
	int cap = points + 2, n = 0;
	struct row {
		int64_t t, span, n, online;
		bool have[NVALUES];
		double v[NVALUES];
	} *rows = calloc((size_t)cap * 2 + 2, sizeof(*rows));
	if (!rows) {
		sqlite3_finalize(st);
		return SQLITE_NOMEM;
	}
	int64_t prev_end = -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < cap * 2) {
		int64_t t = sqlite3_column_int64(st, 0), span = sqlite3_column_int64(st, 1);
		/* a gap longer than a bucket and the samples' own period: a null between */
		double period = interval > (double)step ? interval : (double)step;
		if (prev_end >= 0 && (double)(t - prev_end) > 1.5 * period) {
			memset(&rows[n], 0, sizeof(rows[n]));
			rows[n].t = prev_end;
			rows[n].span = -1;
			n++;
		}
		struct row *w = &rows[n++];
		w->t = t;
		w->span = span;
		w->n = sqlite3_column_int64(st, 2);
		w->online = sqlite3_column_int64(st, 3);
		for (int c = 0; c < NVALUES; c++) {
			w->have[c] = sqlite3_column_type(st, 4 + c) != SQLITE_NULL;
			w->v[c] = sqlite3_column_double(st, 4 + c);
		}
		int64_t cover = span > step ? span : step;
		prev_end = t + cover;
	}
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
	fprintf(t.f, "{\"unit\":\"%s\",\"from\":%" PRId64 ",\"to\":%" PRId64 ",\"step\":%" PRId64 ",\"t\":[", name,
		from, to, step);
	for (int i = 0; i < n; i++)
		fprintf(t.f, "%s%" PRId64, i ? "," : "", rows[i].t);
	fputs("],\"online\":[", t.f);
	for (int i = 0; i < n; i++) {
		if (rows[i].span < 0 || rows[i].n <= 0)
			fprintf(t.f, "%snull", i ? "," : "");
		else
			fprintf(t.f, "%s%.3f", i ? "," : "", (double)rows[i].online / (double)rows[i].n);
	}
	fputc(']', t.f);
	for (int c = 0; c < NVALUES; c++) {
		fprintf(t.f, ",\"%s\":[", value_cols[c].name);
		for (int i = 0; i < n; i++) {
			if (i)
				fputc(',', t.f);
			if (rows[i].span >= 0 && rows[i].have[c])
				fprintf(t.f, "%.*f", value_cols[c].prec, rows[i].v[c]);
			else
				fputs("null", t.f);
		}
		fputc(']', t.f);
	}
	fputs("}\n", t.f);
	text_close(&t, r);
	free(rows);
	r->status = 200;
	r->done = true;
	return SQLITE_OK;
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
	if (rc == SQLITE_OK && id < 0) {
		r->status = 404;
		snprintf(r->err, sizeof(r->err), "no history of unit \"%s\"", q->unit);
		return;
	}
	if (rc == SQLITE_OK)
		rc = q->kind == HQ_CSV ? run_csv(h->db, id, q->unit, q->from, q->to, q->step, q->after, q->limit, r)
				       : run_chart(h->db, id, q->unit, q->from, q->to, q->limit, h->cfg.interval, r);
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

static void *worker(void *arg)
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
	return NULL;
}

/* ----------------------------------------------------------------- loop side */

static void deliver(struct gw_history *h)
{
	pthread_mutex_lock(&h->mu);
	struct hmsg *msgs = h->msgs;
	h->msgs = NULL;
	h->msgs_tail = &h->msgs;
	struct gw_hquery *done = h->done;
	h->done = NULL;
	h->done_tail = &h->done;
	pthread_mutex_unlock(&h->mu);
	while (msgs) {
		struct hmsg *m = msgs;
		msgs = m->next;
		gw_log(m->level, "%s", m->text);
		free(m);
	}
	while (done) {
		struct gw_hquery *q = done;
		done = q->next;
		if (!q->canceled && q->cb)
			q->cb(q->arg, &q->r); /* takes r.text */
		else
			free(q->r.text);
		free(q);
	}
}

static void wake_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)loop;
	(void)revents;
	deliver(container_of(w, struct gw_history, wake));
}

static void enqueue(struct gw_history *h, const struct gw_hsample *s)
{
	if (h->nq == h->capq) {
		size_t nc = h->capq ? h->capq * 2 : 64;
		struct gw_hsample *q = realloc(h->q, nc * sizeof(*q));
		if (!q) {
			h->st.dropped++;
			return;
		}
		h->q = q;
		h->capq = nc;
	}
	h->q[h->nq++] = *s;
}

/* After a round of samples: beyond QUEUE_MAX the worker is stuck (a disk
 * that does not answer), and the oldest are lost, in one move. */
static void trim_queue(struct gw_history *h)
{
	if (h->nq > QUEUE_MAX) {
		size_t drop = h->nq - QUEUE_MAX;
		memmove(h->q, h->q + drop, QUEUE_MAX * sizeof(*h->q));
		h->nq = QUEUE_MAX;
		h->st.dropped += drop;
		if (!h->drop_logged) {
			h->drop_logged = true;
			gw_warn("history: %s: %d samples wait for the disk; the oldest are dropped", h->path, QUEUE_MAX);
		}
	}
	if (h->nq < QUEUE_MAX / 2)
		h->drop_logged = false;
	h->st.queued = h->nq;
}

static void sample_cb(struct ev_loop *loop, ev_periodic *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_history *h = container_of(w, struct gw_history, sampler);
	struct gw *gw = h->gw;
	int64_t ts = (int64_t)floor(ev_now(loop) + 0.5);
	struct gw_hsample s;
	struct gw_bank_state bs;
	if (gw->conf->bank.enabled)
		gw_bank_compute(gw, &bs); /* before the worker is held up */
	pthread_mutex_lock(&h->mu);
	for (int i = 0; i < gw->npacks; i++) {
		const struct gw_pack *p = gw->packs[i];
		bool online = p->have_data && gw_pack_online(gw, p);
		gw_history_sample(&s, ts, p->cfg->name, online, &p->snap, NULL);
		enqueue(h, &s);
	}
	if (gw->conf->bank.enabled) {
		gw_history_sample(&s, ts, "bank", bs.online > 0, &bs.snap, &bs);
		enqueue(h, &s);
	}
	trim_queue(h);
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->mu);
}

struct gw_history *gw_history_new(struct gw *gw)
{
	struct gw_history *h = calloc(1, sizeof(*h));
	if (!h) {
		gw_err("history: out of memory");
		return NULL;
	}
	h->gw = gw;
	h->cfg = gw->conf->history;
	gw_history_path(&h->cfg, h->path, sizeof(h->path));
	snprintf(h->st.path, sizeof(h->st.path), "%s", h->path);
	h->jobs_tail = &h->jobs;
	h->done_tail = &h->done;
	h->msgs_tail = &h->msgs;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cond, NULL);
	ev_async_init(&h->wake, wake_cb);
	ev_async_start(gw->loop, &h->wake);
	int rc = pthread_create(&h->thread, NULL, worker, h);
	if (rc != 0) {
		gw_err("history: cannot start its thread: %s", strerror(rc));
		ev_async_stop(gw->loop, &h->wake);
		pthread_mutex_destroy(&h->mu);
		pthread_cond_destroy(&h->cond);
		free(h);
		return NULL;
	}
	h->started = true;
	ev_periodic_init(&h->sampler, sample_cb, 0., h->cfg.interval, NULL);
	ev_periodic_start(gw->loop, &h->sampler);
	return h;
}

void gw_history_free(struct gw_history *h)
{
	if (!h)
		return;
	ev_periodic_stop(h->gw->loop, &h->sampler);
	pthread_mutex_lock(&h->mu);
	h->stop = true;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->mu);
	if (h->started)
		pthread_join(h->thread, NULL);
	/* the last messages; answers nobody waits for any more are dropped */
	struct gw_hquery *done = h->done;
	h->done = NULL;
	while (done) {
		struct gw_hquery *q = done;
		done = q->next;
		q->canceled = true;
		q->next = NULL;
		*h->done_tail = q; /* re-queue for deliver(), which frees it */
		h->done_tail = &q->next;
	}
	deliver(h);
	ev_async_stop(h->gw->loop, &h->wake);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cond);
	free(h->q);
	free(h);
}

void gw_history_stats(struct gw_history *h, struct gw_history_stats *out)
{
	pthread_mutex_lock(&h->mu);
	*out = h->st;
	pthread_mutex_unlock(&h->mu);
}

static struct gw_hquery *submit(struct gw_history *h, struct gw_hquery *q)
{
	pthread_mutex_lock(&h->mu);
	*h->jobs_tail = q;
	h->jobs_tail = &q->next;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->mu);
	return q;
}

static struct gw_hquery *query_new(enum hq_kind kind, const char *unit, int64_t from, int64_t to, gw_history_cb cb,
				   void *arg)
{
	struct gw_hquery *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->kind = kind;
	snprintf(q->unit, sizeof(q->unit), "%s", unit);
	q->from = from;
	q->to = to;
	q->cb = cb;
	q->arg = arg;
	return q;
}

struct gw_hquery *gw_history_chart(struct gw_history *h, const char *unit, int64_t from, int64_t to, int points,
				   gw_history_cb cb, void *arg)
{
	struct gw_hquery *q = query_new(HQ_CHART, unit, from, to, cb, arg);
	if (!q)
		return NULL;
	q->limit = points;
	return submit(h, q);
}

struct gw_hquery *gw_history_csv(struct gw_history *h, const char *unit, int64_t from, int64_t to, int64_t step,
				 int64_t after, int rows, gw_history_cb cb, void *arg)
{
	struct gw_hquery *q = query_new(HQ_CSV, unit, from, to, cb, arg);
	if (!q)
		return NULL;
	q->step = step;
	q->after = after;
	q->limit = rows;
	return submit(h, q);
}

void gw_history_cancel(struct gw_hquery *q)
{
	if (q)
		q->canceled = true;
}

/* ------------------------------------------------------------ the command line */

int gw_history_export(const struct conf_history *c, const char *unit, int64_t from, int64_t to, int64_t step,
		      FILE *out, char *err, size_t errlen)
{
	char path[CONF_PORT_MAX];
	gw_history_path(c, path, sizeof(path));
	if (access(path, R_OK) != 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		rc = db_setup(db, true, err, errlen);
	else
		snprintf(err, errlen, "%s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	if (rc != SQLITE_OK) {
		sqlite3_close_v2(db);
		return -1;
	}
	sqlite3_stmt *st = NULL;
	int64_t id = -1;
	rc = sqlite3_prepare_v2(db, "SELECT id FROM units WHERE name = ?1", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, unit, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			id = sqlite3_column_int64(st, 0);
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_OK && id < 0) {
		snprintf(err, errlen, "no history of unit \"%s\"", unit);
		sqlite3_close_v2(db);
		return -1;
	}
	int64_t after = from - 1;
	while (rc == SQLITE_OK) {
		struct gw_hresult r;
		memset(&r, 0, sizeof(r));
		rc = run_csv(db, id, unit, from, to, step, after, 5000, &r);
		if (rc == SQLITE_OK) {
			fwrite(r.text, 1, r.len, out);
			after = r.next;
		}
		free(r.text);
		if (rc != SQLITE_OK || r.done)
			break;
	}
	if (rc != SQLITE_OK)
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
	sqlite3_close_v2(db);
	return rc == SQLITE_OK ? 0 : -1;
}
