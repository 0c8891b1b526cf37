/* SPDX-License-Identifier: MIT */
/* gateway/history/cells.c - every cell's voltage in the history: how a
 * sample's cells are stored (one BLOB a row, history_int.h) and the SQL
 * functions that fold and bucket them as the pack's values are.
 *
 * A row's `cells` is 2 bytes a cell, little-endian, mV, cell 1 first;
 * GW_HIST_NO_CELL (0xFFFF) where a folded row has no value of that cell (a
 * unit whose cell count changed).  bmsgw_cells(cells, online) is the
 * average of each cell over the rows, weighted by the online samples each
 * row holds (as the pack's averages); bmsgw_orn(x) the OR of the balancing
 * bits, NULL when no row says.
 */
#include <math.h>
#include <string.h>

#include "history_int.h"

size_t gw_hist_cells_encode(const struct gw_hsample *s, uint8_t *out)
{
	if (!(s->have & GW_HS_CELL_MV))
		return 0;
	unsigned n = s->ncells < BMS_MAX_CELLS ? s->ncells : BMS_MAX_CELLS;
	for (unsigned i = 0; i < n; i++) {
		uint16_t v = s->cell_mv[i] == GW_HIST_NO_CELL ? GW_HIST_NO_CELL - 1 : s->cell_mv[i];
		out[2 * i] = (uint8_t)(v & 0xff);
		out[2 * i + 1] = (uint8_t)(v >> 8);
	}
	return 2 * (size_t)n;
}

int gw_hist_cells_decode(const void *blob, int bytes, int mv[BMS_MAX_CELLS])
{
	const uint8_t *b = blob;
	if (!b || bytes <= 0)
		return 0;
	int n = bytes / 2 < BMS_MAX_CELLS ? bytes / 2 : BMS_MAX_CELLS;
	for (int i = 0; i < n; i++) {
		unsigned v = (unsigned)b[2 * i] | (unsigned)b[2 * i + 1] << 8;
		mv[i] = v == GW_HIST_NO_CELL ? -1 : (int)v;
	}
	return n;
}

/* the running sums of bmsgw_cells */
struct cells_acc {
	double sum[BMS_MAX_CELLS];
	double w[BMS_MAX_CELLS];
	int n;
};

static void sql_cells_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	if (sqlite3_value_type(argv[0]) != SQLITE_BLOB)
		return;
	double w = sqlite3_value_double(argv[1]);
	if (!(w > 0))
		return;
	struct cells_acc *a = sqlite3_aggregate_context(ctx, (int)sizeof(*a));
	if (!a)
		return;
	int mv[BMS_MAX_CELLS];
	int n = gw_hist_cells_decode(sqlite3_value_blob(argv[0]), sqlite3_value_bytes(argv[0]), mv);
	for (int i = 0; i < n; i++) {
		if (mv[i] < 0)
			continue;
		a->sum[i] += w * mv[i];
		a->w[i] += w;
	}
	if (n > a->n)
		a->n = n;
}

static void sql_cells_final(sqlite3_context *ctx)
{
	struct cells_acc *a = sqlite3_aggregate_context(ctx, 0);
	if (!a || a->n == 0) {
		sqlite3_result_null(ctx);
		return;
	}
	uint8_t out[2 * BMS_MAX_CELLS];
	for (int i = 0; i < a->n; i++) {
		uint16_t v = GW_HIST_NO_CELL;
		if (a->w[i] > 0) {
			double m = round(a->sum[i] / a->w[i]);
			v = m < 0 ? 0 : m >= GW_HIST_NO_CELL ? GW_HIST_NO_CELL - 1 : (uint16_t)m;
		}
		out[2 * i] = (uint8_t)(v & 0xff);
		out[2 * i + 1] = (uint8_t)(v >> 8);
	}
	sqlite3_result_blob(ctx, out, 2 * a->n, SQLITE_TRANSIENT);
}

/* bmsgw_orn(x): the OR of x over the rows that have it, NULL if none has */
static void sql_orn_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
		return;
	sqlite3_int64 *acc = sqlite3_aggregate_context(ctx, (int)sizeof(*acc));
	if (acc)
		*acc |= sqlite3_value_int64(argv[0]);
}

static void sql_orn_final(sqlite3_context *ctx)
{
	sqlite3_int64 *acc = sqlite3_aggregate_context(ctx, 0);
	if (acc)
		sqlite3_result_int64(ctx, *acc);
	else
		sqlite3_result_null(ctx);
}

int gw_hist_cells_sql(sqlite3 *db)
{
	int rc = sqlite3_create_function(db, "bmsgw_cells", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, NULL,
					 sql_cells_step, sql_cells_final);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "bmsgw_orn", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, NULL,
					     sql_orn_step, sql_orn_final);
	return rc;
}
