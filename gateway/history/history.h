/* SPDX-License-Identifier: MIT */
/* gateway/history/history.h - samples of every pack and the bank in SQLite.
 *
 * Every [history] interval the loop takes one sample of each unit (SOC, V,
 * A, W, lowest / highest cell and their difference, temperatures, alarms,
 * online; with [history] cells every cell's voltage and which balance) and hands it to a worker thread, which owns the database: it
 * writes the samples batched in one transaction (WAL, synchronous=NORMAL),
 * folds samples older than raw_days into 15-minute rows, drops rows older
 * than the retention, and answers the queries of the status page (charts,
 * CSV) in chunks.  The loop never waits for the disk: it only appends to a
 * queue under a mutex.  The worker never logs; its messages come back to
 * the loop through an ev_async, with the query results.  A full disk or a
 * corrupt database is logged clearly and the gateway keeps serving (a
 * corrupt file is moved aside and a new one started).
 */
#ifndef GATEWAY_HISTORY_HISTORY_H
#define GATEWAY_HISTORY_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../../bms/bms.h"
#include "../../conf/conf.h"
#include "history_conf.h"

#include "../model/histsrc.h"
#include "../model/service.h"

struct gw;
struct gw_history;
struct gw_bank_state;

/* The history's row of the service table (output.c). */
extern const struct gw_service gw_svc_history;
/* The running history of gw, NULL when there is none (the status page's
 * charts and CSV). */
struct gw_history *gw_history_of(const struct gw *gw);

/* Seconds a folded row of old samples covers. */
#define GW_HISTORY_FOLD 900

/* One sample of one unit, as stored.  Values the unit does not give (or
 * all of them while it is not online) are absent (have bits clear). */
enum {
	GW_HS_SOC = 1u << 0, GW_HS_VOLTAGE = 1u << 1, GW_HS_CURRENT = 1u << 2, GW_HS_POWER = 1u << 3,
	GW_HS_CELLS = 1u << 4, GW_HS_TEMPS = 1u << 5, GW_HS_MOS_TEMP = 1u << 6, GW_HS_ALARMS = 1u << 7,
	GW_HS_SOC_BMS = 1u << 8, GW_HS_SOC_COUNTED = 1u << 9, GW_HS_LIMITS = 1u << 10,
	GW_HS_CELL_MV = 1u << 11,       /* cell_mv[0..ncells): every cell ([history] cells) */
	GW_HS_BALANCE = 1u << 12,       /* balance: the BMS says which cells balance */
	GW_HS_SOC_BAND = 1u << 13,      /* soc_band: the count's uncertainty (while it is known) */
};
struct gw_hsample {
	int64_t ts;                     /* unix seconds */
	char unit[CONF_NAME_MAX];       /* a pack name, "bank", or a string's ("string1" ...) */
	bool online;
	uint32_t have;                  /* GW_HS_* */
	float soc, voltage, current, power;
	float cell_min, cell_max, cell_delta; /* mV */
	float temp_min, temp_max, mos_temp;   /* degC */
	uint32_t alarms;                /* BMS_AL_* */
	float soc_bms, soc_counted;     /* %: the BMS's, bmsgw's count (set by the caller) */
	float soc_band;                 /* %: the count's uncertainty, +- (engine/soc.h; set by the caller) */
	float ccl, dcl;                 /* A: the unit's charge and discharge current limits
	                                 * ([limits]; set by the caller) */
	uint8_t ncells;                 /* GW_HS_CELL_MV: cells in cell_mv */
	uint16_t cell_mv[BMS_MAX_CELLS];
	uint32_t balance;               /* GW_HS_BALANCE: bit n = cell n+1 balancing */
};

/* Pure: the sample of a snapshot (online: the data is fresh; a unit that is
 * not online is stored as such, without values).  For the bank, cell_*
 * come from bank (its cross-pack statistics), else from the snapshot. */
void gw_history_sample(struct gw_hsample *out, int64_t ts, const char *unit, bool online,
		       const struct bms_snapshot *s, const struct gw_bank_state *bank);

/* The database file of a configuration: [history] file, else
 * $STATE_DIRECTORY/history.db, else /var/lib/bmsgw/history.db (a directory
 * gw_history_new makes when it is missing, gateway/core/statedir.h). */
void gw_history_path(const struct conf_history *c, char *out, size_t cap);

/* Start the worker on gw->conf->history (enabled): it opens (or creates)
 * the database and the loop starts sampling every interval.  NULL with a
 * logged error only if no thread can be started. */
struct gw_history *gw_history_new(struct gw *gw);
/* The [history] a running history was started with (its own copy). */
const struct conf_history *gw_history_conf(const struct gw_history *h);
/* Write what is queued, stop the worker, free everything; NULL is fine.
 * Queries still pending are dropped without their callbacks. */
void gw_history_free(struct gw_history *h);
/* A reload replaces h: it stops sampling now and its worker writes what
 * it holds on its own; the loop frees it when the worker says it is done
 * (never waiting for the disk).  Answers to queries still pending are
 * delivered.  NULL is fine. */
void gw_history_retire(struct gw_history *h);
/* The daemon exits (the history's at_exit hook, output.c): wait for every
 * retired history's worker and free it. */
void gw_history_reap_all(void);

/* Counters for /metrics and the status page. */
struct gw_history_stats {
	bool open;                      /* the database is open and writable */
	unsigned long written;          /* samples written */
	unsigned long dropped;          /* samples lost (queue full, disk full, no database) */
	unsigned long errors;           /* failed writes */
	unsigned long batches;          /* transactions written */
	size_t queued;                  /* samples waiting for the worker */
	double last_write_ms;           /* duration of the last batch */
	char path[CONF_PORT_MAX];
	char last_error[200];
};
void gw_history_stats(struct gw_history *h, struct gw_history_stats *out);

/* ---- queries (answered by the worker, delivered on the loop) ---- */

/* A query's answer: status 200 with text (malloc'd, the callee owns it;
 * for CSV `next` is where the next chunk starts and `done` says there is
 * none), 404 (a unit that is neither in the file nor a pack or the bank of
 * the running configuration; a known one without rows yet answers 200 with
 * no rows) or 500 (err). */
struct gw_hresult {
	int status;
	char *text;
	size_t len;
	int64_t next;
	bool done;
	char err[160];
};
typedef void (*gw_history_cb)(void *arg, struct gw_hresult *r);
struct gw_hquery;

/* Chart data of `unit` over [from, to): JSON of columns, in `points`
 * buckets at most (never finer than the samples); cells: every cell's
 * voltage and the balancing too ("cells", "balance"). */
struct gw_hquery *gw_history_chart(struct gw_history *h, const char *unit, int64_t from, int64_t to, int points,
				   bool cells, gw_history_cb cb, void *arg);
/* The next CSV chunk of `unit` over [from, to) after time `after` (from - 1
 * for the first, with the header), at most `rows` rows; step 0 = the rows
 * as stored, else buckets of step seconds. */
struct gw_hquery *gw_history_csv(struct gw_history *h, const char *unit, int64_t from, int64_t to, int64_t step,
				 int64_t after, int rows, gw_history_cb cb, void *arg);
/* The samples of `unit` with after < ts <= upto, at most max (the
 * history's side of model/histsrc.h, which says what cb gets): the
 * callback always comes, on the loop, even at gw_history_free() or after
 * a retire.  0, or -1 (no memory: no callback). */
int gw_history_samples(struct gw_history *h, const char *unit, int64_t after, int64_t upto, int max,
		       gw_hist_rows_cb cb, void *arg);
/* The caller is gone: the answer of the query in *q (if any) will be
 * dropped, and *q is NULL (call from the loop). */
void gw_history_cancel(struct gw_hquery **q);

/* --history-csv: the whole CSV of unit over [from, to) from the file of
 * `c`, written to out without the daemon (read-only).  0, or -1 with err. */
int gw_history_export(const struct conf_history *c, const char *unit, int64_t from, int64_t to, int64_t step,
		      FILE *out, char *err, size_t errlen);

/* Parse a time for the API and the command line: unix seconds, an ISO 8601
 * date or date-time (UTC unless it has an offset), or "now".  -1 if bad. */
int gw_history_parse_time(const char *s, int64_t now, int64_t *out);
/* Parse a duration: "24h", "7d", "30d", "90m", "3600" (seconds).  -1 if bad. */
int gw_history_parse_span(const char *s, int64_t *out);

#endif
