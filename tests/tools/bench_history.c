/* SPDX-License-Identifier: MIT */
/* tests/tools/bench_history.c - the history's size on disk, and a history
 * file for the status page's cells chart.
 *
 *   bench_history                  SQLite bytes per pack-day at the default
 *                                  [history] (a sample every 60 s, 7 days in
 *                                  full, then 15-minute rows), 16 cells,
 *                                  with and without cells
 *   bench_history --write FILE [--days N] [--cells N]
 *                                  N days (default 30) up to now of one
 *                                  pack "house", written as the worker writes
 *                                  them (one transaction a sample) and folded
 *                                  as it folds after 7 days; cell 5 runs high
 *                                  (and balances at the top), cell 9 low
 *
 * The size is the pages in use (page_count - freelist_count): a running
 * history reuses the pages its folds free.
 *
 * Samples go through the history's own statement and binding (GW_HIST_INSERT,
 * gw_hist_bind) and its fold (gw_hist_fold): the bytes are those the daemon
 * would write.  A model of a day: SOC swings 20..95 % once a day, the cells
 * follow an LFP-like curve with their own offsets.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../gateway/history/history_int.h"

#define INTERVAL 60
#define RAW_DAYS 7

static double cell_of_soc(double soc)
{
	/* an LFP-like curve: knees below 10 % and above 90 % */
	double v = 3200 + 1.2 * soc;
	if (soc < 10)
		v -= (10 - soc) * 25;
	if (soc > 90)
		v += (soc - 90) * 20;
	return v;
}

static void model(struct gw_hsample *s, int64_t ts, int ncells, bool cells, uint32_t seed)
{
	memset(s, 0, sizeof(*s));
	s->ts = ts;
	snprintf(s->unit, sizeof(s->unit), "house");
	s->online = true;
	double ph = (double)(ts % 86400) / 86400.0 * 2 * M_PI;
	double soc = 57.5 + 37.5 * sin(ph);
	double cur = 20 * cos(ph);
	s->have = GW_HS_SOC | GW_HS_VOLTAGE | GW_HS_CURRENT | GW_HS_POWER | GW_HS_CELLS | GW_HS_TEMPS | GW_HS_ALARMS;
	s->soc = (float)soc;
	s->ncells = (uint8_t)ncells;
	double sum = 0, lo = 1e9, hi = 0;
	for (int i = 0; i < ncells; i++) {
		uint32_t r = (seed ^ (uint32_t)(ts * 2654435761u) ^ (uint32_t)i * 40503u) % 7;
		double v = cell_of_soc(soc) + (double)r - 3;
		if (i == 4)
			v += 12 + (soc > 90 ? (soc - 90) * 6 : 0);   /* cell 5 runs high at the top */
		if (i == 8)
			v -= 15 + (soc < 10 ? (10 - soc) * 8 : 0);   /* cell 9 runs low at the bottom */
		s->cell_mv[i] = (uint16_t)lround(v);
		sum += s->cell_mv[i];
		lo = fmin(lo, s->cell_mv[i]);
		hi = fmax(hi, s->cell_mv[i]);
	}
	s->voltage = (float)(sum / 1000.0);
	s->current = (float)cur;
	s->power = s->voltage * s->current;
	s->cell_min = (float)lo;
	s->cell_max = (float)hi;
	s->cell_delta = (float)(hi - lo);
	s->temp_min = 18.5f;
	s->temp_max = 21.0f + (float)(fabs(cur) / 10);
	if (cells) {
		s->have |= GW_HS_CELL_MV | GW_HS_BALANCE;
		s->balance = soc > 92 ? 1u << 4 : 0;
	}
}

/* the bytes of the pages in use */
static long used_bytes(sqlite3 *db)
{
	long v[3] = { 0, 0, 0 };
	const char *q[3] = { "PRAGMA page_count", "PRAGMA freelist_count", "PRAGMA page_size" };
	for (int i = 0; i < 3; i++) {
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(db, q[i], -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
			v[i] = (long)sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return (v[0] - v[1]) * v[2];
}

/* days of samples ending at `end` into a new file, each day folded once it
 * is older than RAW_DAYS (as the worker does).  The bytes in use, or -1. */
static long write_file(const char *path, int days, int ncells, bool cells, int64_t end)
{
	unlink(path);
	char wal[600];
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
	sqlite3 *db = NULL;
	char err[200];
	if (sqlite3_open(path, &db) != SQLITE_OK || gw_hist_db_setup(db, false, err, sizeof(err)) != SQLITE_OK ||
	    sqlite3_exec(db, "INSERT INTO units(id, name) VALUES (1, 'house')", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_history: %s: %s\n", path, sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_stmt *st = NULL;
	sqlite3_prepare_v2(db, GW_HIST_INSERT, -1, &st, NULL);
	int64_t start = (end - (int64_t)days * 86400) / INTERVAL * INTERVAL;
	int64_t folded = start / GW_HISTORY_FOLD * GW_HISTORY_FOLD;
	for (int64_t ts = start; ts < end; ts += INTERVAL) {
		struct gw_hsample s;
		model(&s, ts, ncells, cells, 1);
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		gw_hist_bind(st, 1, &s);
		if (sqlite3_step(st) != SQLITE_DONE) {
			fprintf(stderr, "bench_history: %s\n", sqlite3_errmsg(db));
			return -1;
		}
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		/* the worker folds a day at a time once it is older than raw_days */
		if (folded + 86400 <= ts + INTERVAL - (int64_t)RAW_DAYS * 86400) {
			gw_hist_fold(db, folded, folded + 86400);
			folded += 86400;
		}
	}
	int64_t cutoff = (end - RAW_DAYS * 86400) / GW_HISTORY_FOLD * GW_HISTORY_FOLD;
	if (folded < cutoff)
		gw_hist_fold(db, folded, cutoff);
	sqlite3_finalize(st);
	sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	long n = used_bytes(db);
	sqlite3_close(db);
	return n;
}

static int bench(void)
{
	char dir[] = "/tmp/bench-history-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	char path[600];
	snprintf(path, sizeof(path), "%s/h.db", dir);
	int64_t end = (int64_t)time(NULL);
	printf("history size on disk: one pack, 16 cells, a sample every %d s (the default)\n", INTERVAL);
	for (int cells = 0; cells <= 1; cells++) {
		/* full days: RAW_DAYS as stored; 30 days: 7 in full and 23 folded */
		long raw = write_file(path, RAW_DAYS, 16, cells, end);
		long all = write_file(path, 30, 16, cells, end);
		long empty = write_file(path, 0, 16, cells, end);
		if (raw < 0 || all < 0 || empty < 0)
			return 1;
		double per_raw = (double)(raw - empty) / RAW_DAYS;
		double per_fold = (double)(all - raw) / (30 - RAW_DAYS);
		printf("  %-14s %7.0f bytes/pack-day in full (%.1f bytes a sample), %6.0f bytes/pack-day folded, "
		       "30 days: %ld bytes\n", cells ? "with cells" : "without cells", per_raw,
		       per_raw / (86400.0 / INTERVAL), per_fold, all);
	}
	unlink(path);
	rmdir(dir);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 1)
		return bench();
	const char *file = NULL;
	int days = 30, ncells = 16;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--write") == 0 && i + 1 < argc)
			file = argv[++i];
		else if (strcmp(argv[i], "--days") == 0 && i + 1 < argc)
			days = atoi(argv[++i]);
		else if (strcmp(argv[i], "--cells") == 0 && i + 1 < argc)
			ncells = atoi(argv[++i]);
		else
			file = NULL, i = argc;
	}
	if (!file || days < 1 || days > 3650 || ncells < 1 || ncells > BMS_MAX_CELLS) {
		fprintf(stderr, "usage: bench_history [--write FILE [--days N] [--cells N]]\n");
		return 2;
	}
	long n = write_file(file, days, ncells, true, (int64_t)time(NULL));
	if (n < 0)
		return 1;
	printf("%s: %d days of %d cells of pack house, %ld bytes in use\n", file, days, ncells, n);
	return 0;
}
