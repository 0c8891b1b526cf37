/* SPDX-License-Identifier: MIT */
/* gateway/history/history_int.h - what the files of the history share: the
 * database layout, the state of a running history, and the calls from one
 * file into another.  Not for use outside gateway/history/.
 *
 *	history.c  the loop side: queue, ev_async, lifecycle, stats
 *	sample.c   the pure parts: the sample of a snapshot, times, durations
 *	store.c    the worker thread: SQLite, batches, folding, retention,
 *	           a corrupt database, a full disk
 *	query.c    answers: chart buckets, CSV chunks, past samples
 *	export.c   --history-csv: the file read-only, in query.c's CSV chunks
 *	cells.c    every cell's voltage: the BLOB of a row, its SQL functions
 *
 * Schema (user_version 4; a version 1 database gains soc_bms and
 * soc_counted, a version 2 one ccl, dcl, cells and balance, a version 3
 * one soc_band, when opened):
 *
 *	units(id, name)                       a pack name, "bank" or a string of
 *	                                      the bank's ("string1" ...: [bank] strings)
 *	samples(unit, ts, span, n, online,    span 0: one sample at ts;
 *	        soc, voltage, current, power, span 900: the n samples of
 *	        cell_min, cell_max, cell_delta,       [ts, ts + 900) folded,
 *	        temp_min, temp_max, mos_temp,         `online` of them online
 *	        alarms, soc_bms, soc_counted,    the SOC the BMS says and bmsgw's count
 *	        ccl, dcl, soc_band,           (model/socunit.h), the count's uncertainty
 *	        cells, balance)               (+- %, NULL while not known); soc is the one carried;
 *	                                      ccl, dcl the unit's current limits ([limits]);
 *	                                      cells: every cell's mV (cells.c), NULL with
 *	                                      [history] cells = false; balance: bit n =
 *	                                      cell n+1 balancing, where the BMS says
 *	primary key (unit, ts, span), WITHOUT ROWID
 *
 * Averages over several rows are weighted by the online samples each row
 * holds, so a folded row counts as many samples as it folded (the count's
 * uncertainty only where every counted sample has one); lowest cell
 * and temperature are minima, highest cell, cell difference and
 * temperatures maxima, alarms the OR of every sample, the current limits
 * minima; each cell is averaged as the pack's values are, balancing is the
 * OR (a cell that balanced in the span).  A unit that is not online has no
 * values (NULL), so charts show the outage as a gap; its current limits are
 * kept (the fail-safe zeros an inverter was given are a fact, not a value
 * of the past).
 */
#ifndef GATEWAY_HISTORY_HISTORY_INT_H
#define GATEWAY_HISTORY_HISTORY_INT_H

#include <ev.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "history.h"

#define UNITS_MAX (CONF_MAX_PACKS * 4)
/* each connection's SQLite page cache, KiB (PRAGMA cache_size) */
#define GW_HIST_CACHE_KIB "512"

/* the value columns, in table order after `online` */
#define VALUE_COLS                                                                                        \
	"soc, voltage, current, power, cell_min, cell_max, cell_delta, temp_min, temp_max, mos_temp, alarms, " \
	"soc_bms, soc_counted, ccl, dcl, soc_band"
#define NVALUES 16
#define VC_ALARMS 10 /* the index of alarms among the value columns */

/* every cell, as stored and as aggregated (cells.c) */
#define CELL_COLS "cells, balance"
#define AGG_CELL_COLS "bmsgw_cells(cells, online), bmsgw_orn(balance)"
#define GW_HIST_NO_CELL 0xFFFFu

/* one weighted average over rows (see the top of the file) */
#define WAVG(c) "sum(" c " * online) / nullif(sum(CASE WHEN " c " IS NULL THEN 0 ELSE online END), 0)"
/* the count's uncertainty over rows: the weighted average, where every
 * counted sample has one (the mean truth lies within the mean count plus
 * or minus the mean band; a sample without one bounds nothing) */
#define BAND_AGG                                                                                     \
	"CASE WHEN sum(CASE WHEN soc_counted IS NULL THEN 0 ELSE online END) = "                        \
	"sum(CASE WHEN soc_band IS NULL THEN 0 ELSE online END) THEN " WAVG("soc_band") " END"
/* the value columns aggregated over a group of rows */
#define AGG_COLS                                                                                       \
	WAVG("soc") ", " WAVG("voltage") ", " WAVG("current") ", " WAVG("power") ", min(cell_min), "        \
		    "max(cell_max), max(cell_delta), min(temp_min), max(temp_max), max(mos_temp), bmsgw_or(alarms), " \
		    WAVG("soc_bms") ", " WAVG("soc_counted") ", min(ccl), min(dcl), " BAND_AGG

enum hq_kind { HQ_CHART, HQ_CSV, HQ_SAMPLES };

struct gw_hquery {
	struct gw_hquery *next;
	enum hq_kind kind;
	char unit[CONF_NAME_MAX];
	int64_t from, to, step, after;
	int limit;                    /* chart: points; csv: rows */
	bool cells;                   /* chart: every cell too */
	bool known;                   /* a pack or the bank of the running
	                               * configuration: no rows yet is an empty
	                               * answer, not a 404 */
	gw_history_cb cb;
	gw_hist_rows_cb rcb;          /* HQ_SAMPLES: its answer (always delivered) */
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
	struct gw_history *next_retired; /* retired at a reload, its worker still writing */
	bool retiring;

	/* under mu */
	bool stop;
	bool exited;                  /* the worker is done (it returns right after) */
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

/* No [history] file: the automatic place (core/statedir.h). */
static inline bool gw_hist_automatic(const struct conf_history *c)
{
	return !c->file[0] || strcmp(c->file, "none") == 0;
}

/* ---- store.c (gw_history_path too: history.h) ---- */

/* The worker thread (pthread_create's start routine; arg: the history). */
void *gw_hist_worker(void *arg);
/* Schema, pragmas, functions on a freshly opened handle (readonly: the
 * functions only, for --history-csv).  SQLite code, err filled in. */
int gw_hist_db_setup(sqlite3 *db, bool readonly, char *err, size_t errlen);

/* The statement that stores one sample (?1 the unit id), and the binding
 * of a sample to it. */
#define GW_HIST_INSERT                                                                                    \
	"INSERT OR REPLACE INTO samples(unit, ts, span, n, online, " VALUE_COLS ", " CELL_COLS ") "      \
	"VALUES (?1, ?2, 0, 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)"
void gw_hist_bind(sqlite3_stmt *st, int64_t unit, const struct gw_hsample *s);
/* Fold the stored samples of [lo, hi) (multiples of GW_HISTORY_FOLD) into
 * rows of GW_HISTORY_FOLD seconds, every unit, in one transaction.  SQLite code. */
int gw_hist_fold(sqlite3 *db, int64_t lo, int64_t hi);

/* ---- query.c (run by the worker, or by export.c's --history-csv) ---- */

/* One CSV chunk of unit id `unit` (named `name`) into r: with every
 * cell's column when the range has cells.  SQLite code. */
int gw_hist_run_csv(sqlite3 *db, int64_t unit, const char *name, int64_t from, int64_t to, int64_t step,
		    int64_t after, int rows, struct gw_hresult *r);
/* Chart columns into r, never finer than `interval`; cells: every cell's
 * too.  SQLite code. */
int gw_hist_run_chart(sqlite3 *db, int64_t unit, const char *name, int64_t from, int64_t to, int points,
		      double interval, bool cells, struct gw_hresult *r);

/* The samples of unit id `unit` with after < ts <= upto as rows "TS JSON\n"
 * after their count (model/histsrc.h), at most max.  SQLite code. */
int gw_hist_run_samples(sqlite3 *db, int64_t unit, int64_t after, int64_t upto, int max, struct gw_hresult *r);

/* ---- cells.c ---- */

/* The cells of s as stored (2 bytes a cell into out, room for
 * BMS_MAX_CELLS): the byte count, 0 without GW_HS_CELL_MV. */
size_t gw_hist_cells_encode(const struct gw_hsample *s, uint8_t *out);
/* A stored cells BLOB into mv (-1: no value): the cell count. */
int gw_hist_cells_decode(const void *blob, int bytes, int mv[BMS_MAX_CELLS]);
/* bmsgw_cells() and bmsgw_orn() on a handle.  SQLite code. */
int gw_hist_cells_sql(sqlite3 *db);

#endif
