/* SPDX-License-Identifier: MIT */
/* tests/unit/test_history_store.c - the history's store with every cell, on
 * a real SQLite database in memory: the BLOB of a row's cells, samples
 * written with the worker's statement, folded as the worker folds (each cell
 * the weighted mean of the online samples, balancing the OR), the chart and
 * CSV answers with the cells, and a schema 2 database opened (it gains the
 * columns, its rows keep theirs); the count's uncertainty beside the count
 * (a schema 3 database gains its column). */
#include <stdlib.h>
#include <string.h>

#include "../../gateway/history/history_int.h"
#include "check.h"

static sqlite3 *open_db(void)
{
	sqlite3 *db = NULL;
	char err[200] = "";
	CHECK_EQ_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
	CHECK_EQ_INT(gw_hist_db_setup(db, false, err, sizeof(err)), SQLITE_OK);
	CHECK_STR(err, "");
	CHECK_EQ_INT(sqlite3_exec(db, "INSERT INTO units(id, name) VALUES (1, 'a')", NULL, NULL, NULL), SQLITE_OK);
	return db;
}

/* a sample of 4 cells at ts: cell i = base + i * 10, balance bits */
static void put(sqlite3 *db, int64_t ts, bool online, int base, int64_t balance)
{
	struct gw_hsample s;
	memset(&s, 0, sizeof(s));
	s.ts = ts;
	s.online = online;
	s.have = GW_HS_VOLTAGE | GW_HS_CELL_MV | (balance >= 0 ? GW_HS_BALANCE : 0);
	s.voltage = 13.2f;
	s.ncells = 4;
	for (int i = 0; i < 4; i++)
		s.cell_mv[i] = (uint16_t)(base + i * 10);
	s.balance = balance >= 0 ? (uint32_t)balance : 0;
	sqlite3_stmt *st = NULL;
	CHECK_EQ_INT(sqlite3_prepare_v2(db, GW_HIST_INSERT, -1, &st, NULL), SQLITE_OK);
	gw_hist_bind(st, 1, &s);
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* the cells of the row of (ts, span): the count, -2 if no row */
static int row_cells(sqlite3 *db, int64_t ts, int span, int mv[BMS_MAX_CELLS], int64_t *bal)
{
	sqlite3_stmt *st = NULL;
	CHECK_EQ_INT(sqlite3_prepare_v2(db, "SELECT cells, balance FROM samples WHERE ts = ?1 AND span = ?2", -1, &st,
					NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, ts);
	sqlite3_bind_int(st, 2, span);
	int n = -2;
	if (sqlite3_step(st) == SQLITE_ROW) {
		n = gw_hist_cells_decode(sqlite3_column_blob(st, 0), sqlite3_column_bytes(st, 0), mv);
		*bal = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return n;
}

static void blob_tests(void)
{
	struct gw_hsample s;
	memset(&s, 0, sizeof(s));
	uint8_t b[2 * BMS_MAX_CELLS];
	CHECK_EQ_INT(gw_hist_cells_encode(&s, b), 0); /* no GW_HS_CELL_MV */
	s.have = GW_HS_CELL_MV;
	s.ncells = 3;
	s.cell_mv[0] = 3300, s.cell_mv[1] = 0x1234, s.cell_mv[2] = 0xFFFF;
	CHECK_EQ_INT(gw_hist_cells_encode(&s, b), 6);
	CHECK(b[0] == (3300 & 0xff) && b[1] == 3300 >> 8 && b[2] == 0x34 && b[3] == 0x12);
	int mv[BMS_MAX_CELLS];
	CHECK_EQ_INT(gw_hist_cells_decode(b, 6, mv), 3);
	CHECK_EQ_INT(mv[0], 3300);
	CHECK_EQ_INT(mv[1], 0x1234);
	CHECK_EQ_INT(mv[2], 0xFFFE); /* a reading of 65535 is never "no value" */
	CHECK_EQ_INT(gw_hist_cells_decode(b, 5, mv), 2); /* an odd length: whole cells only */
	CHECK_EQ_INT(gw_hist_cells_decode(NULL, 0, mv), 0);
	uint8_t big[2 * BMS_MAX_CELLS + 8];
	memset(big, 1, sizeof(big));
	CHECK_EQ_INT(gw_hist_cells_decode(big, (int)sizeof(big), mv), BMS_MAX_CELLS);
	s.ncells = 200; /* never beyond BMS_MAX_CELLS (192) */
	CHECK_EQ_INT(gw_hist_cells_encode(&s, b), 2 * BMS_MAX_CELLS);
}

static void fold_tests(void)
{
	sqlite3 *db = open_db();
	/* [900, 1800): 15 samples a minute apart, the odd ones offline */
	for (int i = 0; i < 15; i++)
		put(db, 900 + 60 * i, !(i % 2), 3300 + i, i == 4 ? 0x1 : i == 8 ? 0x8 : 0);
	put(db, 1800, true, 3400, -1); /* the next bucket: no balancing said */
	int mv[BMS_MAX_CELLS];
	int64_t bal;
	CHECK_EQ_INT(row_cells(db, 960, 0, mv, &bal), 0); /* offline: stored without cells */
	CHECK_EQ_INT(bal, -1);
	CHECK_EQ_INT(row_cells(db, 1140, 0, mv, &bal), 4);
	CHECK_EQ_INT(mv[1], 3314);
	CHECK_EQ_INT(bal, 0x1);
	CHECK_EQ_INT(gw_hist_fold(db, 900, 2700), SQLITE_OK);
	CHECK_EQ_INT(row_cells(db, 900, 0, mv, &bal), -2); /* the raw rows are gone */
	CHECK_EQ_INT(row_cells(db, 900, GW_HISTORY_FOLD, mv, &bal), 4);
	/* online: i = 0, 2, ... 14, mean 3307 */
	CHECK_EQ_INT(mv[0], 3307);
	CHECK_EQ_INT(mv[3], 3337);
	CHECK_EQ_INT(bal, 0x9);
	CHECK_EQ_INT(row_cells(db, 1800, GW_HISTORY_FOLD, mv, &bal), 4);
	CHECK_EQ_INT(mv[0], 3400);
	CHECK_EQ_INT(bal, -1); /* not said stays not said */

	/* a folded row counts as the samples it holds: a 1-hour bucket over a
	 * folded row (8 online at 3307) and 4 raw ones at 3500 */
	for (int i = 0; i < 4; i++)
		put(db, 2700 + 60 * i, true, 3500, 0);
	struct gw_hresult r;
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(gw_hist_run_csv(db, 1, "a", 0, 3600, 3600, -1, 100, &r), SQLITE_OK);
	CHECK(r.text && strstr(r.text, ",cell_01_mv,cell_02_mv,cell_03_mv,cell_04_mv,balance_bits,balancing\r\n"));
	/* (8 * 3307 + 1 * 3400 + 4 * 3500) / 13 = 3373.5 */
	CHECK(r.text && strstr(r.text, ",3374,3384,3394,3404,9,1 4\r\n"));
	free(r.text);

	/* the chart: one column a cell, the balancing, gaps as null */
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(gw_hist_run_chart(db, 1, "a", 900, 3000, 100, 60, true, &r), SQLITE_OK);
	CHECK(r.text && strstr(r.text, "\"ncells\":4,\"cells\":[["));
	CHECK(r.text && strstr(r.text, "\"balance\":["));
	free(r.text);
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(gw_hist_run_chart(db, 1, "a", 900, 3000, 100, 60, false, &r), SQLITE_OK);
	CHECK(r.text && !strstr(r.text, "\"cells\""));
	free(r.text);
	sqlite3_close(db);
}

static void csv_tests(void)
{
	sqlite3 *db = open_db();
	put(db, 100, true, 3300, 0x6);
	put(db, 101, false, 3300, 0x6); /* offline: stored without cells */
	struct gw_hresult r;
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(gw_hist_run_csv(db, 1, "a", 0, 1000, 0, -1, 100, &r), SQLITE_OK);
	CHECK(r.text && strstr(r.text, ",3300,3310,3320,3330,6,2 3\r\n"));
	CHECK(r.text && strstr(r.text, ",,,,,,\r\n")); /* the offline row: empty cells and balancing */
	free(r.text);
	/* a chunk after the header keeps the header's columns */
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(gw_hist_run_csv(db, 1, "a", 0, 1000, 0, 100, 100, &r), SQLITE_OK);
	CHECK(r.text && !strstr(r.text, "time,") && strstr(r.text, ",,,,,,\r\n"));
	free(r.text);
	/* a range without cells: the pack's columns alone */
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(gw_hist_run_csv(db, 1, "a", 101, 1000, 0, 100, 100, &r), SQLITE_OK);
	CHECK(r.text && strstr(r.text, "soc_counted_pct,ccl_a,dcl_a,soc_band_pct\r\n") && !strstr(r.text, "cell_01_mv"));
	free(r.text);
	sqlite3_close(db);
}

/* a database of schema 2 (as a bmsgw before the cells wrote it) */
static void schema2(sqlite3 *db)
{
	CHECK_EQ_INT(sqlite3_exec(db,
				  "CREATE TABLE units(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
				  "CREATE TABLE samples(unit INTEGER NOT NULL, ts INTEGER NOT NULL,"
				  " span INTEGER NOT NULL DEFAULT 0, n INTEGER NOT NULL DEFAULT 1, online INTEGER NOT NULL,"
				  " soc REAL, voltage REAL, current REAL, power REAL, cell_min REAL, cell_max REAL,"
				  " cell_delta REAL, temp_min REAL, temp_max REAL, mos_temp REAL, alarms INTEGER,"
				  " soc_bms REAL, soc_counted REAL, PRIMARY KEY (unit, ts, span)) WITHOUT ROWID;"
				  "INSERT INTO units VALUES (1, 'a');"
				  "INSERT INTO samples(unit, ts, online, voltage) VALUES (1, 50, 1, 13.3);"
				  "PRAGMA user_version = 2;", NULL, NULL, NULL), SQLITE_OK);
}

/* a database of schema 2 gains cells and balance; its rows keep their values */
static void upgrade_tests(void)
{
	sqlite3 *db = NULL;
	CHECK_EQ_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
	schema2(db);
	char err[200] = "";
	/* read as --history-csv reads it (no upgrade): the CSV without cells,
	 * the current limits empty */
	CHECK_EQ_INT(gw_hist_db_setup(db, true, err, sizeof(err)), SQLITE_OK);
	struct gw_hresult r;
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(gw_hist_run_csv(db, 1, "a", 0, 1000, 0, -1, 100, &r), SQLITE_OK);
	CHECK(r.text && strstr(r.text, "soc_counted_pct,ccl_a,dcl_a,soc_band_pct\r\n") && strstr(r.text, ",a,0,1,1,,13.30,"));
	free(r.text);
	CHECK_EQ_INT(gw_hist_db_setup(db, false, err, sizeof(err)), SQLITE_OK);
	put(db, 60, true, 3300, 1);
	int mv[BMS_MAX_CELLS];
	int64_t bal;
	CHECK_EQ_INT(row_cells(db, 50, 0, mv, &bal), 0);
	CHECK_EQ_INT(bal, -1);
	CHECK_EQ_INT(row_cells(db, 60, 0, mv, &bal), 4);
	sqlite3_stmt *st = NULL;
	CHECK_EQ_INT(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_EQ_INT(sqlite3_column_int(st, 0), 4);
	sqlite3_finalize(st);
	/* opened again: nothing more to add */
	CHECK_EQ_INT(gw_hist_db_setup(db, false, err, sizeof(err)), SQLITE_OK);
	sqlite3_close(db);
}

static int pragma_int(sqlite3 *db, const char *q)
{
	sqlite3_stmt *st = NULL;
	int v = 0;
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* every connection's page cache is bounded at GW_HIST_CACHE_KIB (SQLite's
 * default of 2,000 KiB would follow the file), the writer's and a reader's */
static void cache_tests(void)
{
	sqlite3 *db = NULL;
	char err[200] = "";
	CHECK_EQ_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
	CHECK_EQ_INT(gw_hist_db_setup(db, true, err, sizeof(err)), SQLITE_OK);
	CHECK_EQ_INT(pragma_int(db, "PRAGMA cache_size"), -atoi(GW_HIST_CACHE_KIB));
	sqlite3_close(db);
	db = open_db();
	CHECK_EQ_INT(pragma_int(db, "PRAGMA cache_size"), -512);
	sqlite3_close(db);
}

/* a sample of the counted SOC at ts with its band (band < 0: not known) */
static void put_soc(sqlite3 *db, int64_t ts, double counted, double band)
{
	struct gw_hsample s;
	memset(&s, 0, sizeof(s));
	s.ts = ts;
	s.online = true;
	s.have = GW_HS_SOC_COUNTED | (band >= 0 ? GW_HS_SOC_BAND : 0);
	s.soc_counted = (float)counted;
	s.soc_band = (float)(band >= 0 ? band : 0);
	sqlite3_stmt *st = NULL;
	CHECK_EQ_INT(sqlite3_prepare_v2(db, GW_HIST_INSERT, -1, &st, NULL), SQLITE_OK);
	gw_hist_bind(st, 1, &s);
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* The count's uncertainty: stored beside the count (NULL while not known),
 * in the CSV's soc_band_pct and the chart's soc_band, folded as the count
 * is (the weighted mean: the mean truth lies within the mean count plus or
 * minus the mean band); a database of schema 3 gains the column, and read
 * as it is (--history-csv of a file an older bmsgw still writes) gives an
 * empty one. */
static void band_tests(void)
{
	sqlite3 *db = open_db();
	put_soc(db, 900, 60.0, 1.5);
	put_soc(db, 960, 59.0, 2.5);
	put_soc(db, 1020, 58.0, -1);
	struct gw_hresult r;
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(gw_hist_run_csv(db, 1, "a", 0, 3600, 0, -1, 100, &r), SQLITE_OK);
	CHECK(r.text && strstr(r.text, ",soc_counted_pct,ccl_a,dcl_a,soc_band_pct\r\n"));
	CHECK(r.text && strstr(r.text, ",60.0,,,1.5\r\n") && strstr(r.text, ",59.0,,,2.5\r\n") &&
	      strstr(r.text, ",58.0,,,\r\n"));
	free(r.text);
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(gw_hist_run_chart(db, 1, "a", 900, 1080, 100, 60, false, &r), SQLITE_OK);
	CHECK(r.text && strstr(r.text, "\"soc_band\":[1.5,2.5,null]"));
	free(r.text);
	put_soc(db, 1800, 50.0, 1.0);
	put_soc(db, 1860, 49.0, 3.0);
	CHECK_EQ_INT(gw_hist_fold(db, 900, 2700), SQLITE_OK);
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(gw_hist_run_csv(db, 1, "a", 0, 3600, 0, -1, 100, &r), SQLITE_OK);
	CHECK(r.text && strstr(r.text, ",59.0,,,\r\n"));   /* a sample without one: none */
	CHECK(r.text && strstr(r.text, ",49.5,,,2.0\r\n")); /* the mean */
	free(r.text);
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(gw_hist_run_csv(db, 1, "a", 0, 3600, 3600, -1, 100, &r), SQLITE_OK); /* in buckets */
	CHECK(r.text && strstr(r.text, ",55.2,,,\r\n")); /* (3 x 59 + 2 x 49.5) / 5; one without a band */
	free(r.text);
	sqlite3_close(db);

	/* schema 3: the columns before the band */
	CHECK_EQ_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
	schema2(db);
	CHECK_EQ_INT(sqlite3_exec(db, "ALTER TABLE samples ADD COLUMN ccl REAL; ALTER TABLE samples ADD COLUMN dcl REAL;"
				  "ALTER TABLE samples ADD COLUMN cells BLOB; ALTER TABLE samples ADD COLUMN balance "
				  "INTEGER; UPDATE samples SET soc_counted = 61.0; PRAGMA user_version = 3;", NULL, NULL,
				  NULL), SQLITE_OK);
	char err[200] = "";
	CHECK_EQ_INT(gw_hist_db_setup(db, true, err, sizeof(err)), SQLITE_OK);
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(gw_hist_run_csv(db, 1, "a", 0, 1000, 0, -1, 100, &r), SQLITE_OK);
	CHECK(r.text && strstr(r.text, ",soc_band_pct\r\n") && strstr(r.text, ",61.0,,,\r\n"));
	free(r.text);
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(gw_hist_run_csv(db, 1, "a", 0, 1000, 60, -1, 100, &r), SQLITE_OK); /* in buckets */
	CHECK(r.text && strstr(r.text, ",61.0,,,\r\n"));
	free(r.text);
	CHECK_EQ_INT(gw_hist_db_setup(db, false, err, sizeof(err)), SQLITE_OK);
	CHECK_EQ_INT(pragma_int(db, "PRAGMA user_version"), 4);
	put_soc(db, 60, 61.5, 3.0);
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(gw_hist_run_csv(db, 1, "a", 0, 1000, 0, -1, 100, &r), SQLITE_OK);
	CHECK(r.text && strstr(r.text, ",61.0,,,\r\n") && strstr(r.text, ",61.5,,,3.0\r\n"));
	free(r.text);
	sqlite3_close(db);
}

int main(void)
{
	cache_tests();
	blob_tests();
	fold_tests();
	csv_tests();
	upgrade_tests();
	band_tests();
	return check_report();
}
