/* SPDX-License-Identifier: MIT */
/* gateway/history/replay.h - bmsgw --soc-replay: the SOC estimator
 * (engine/soc.h) over a history CSV, the format --history-csv and the
 * status page export (design 17, "Replay").
 *
 * hcsv.c reads the CSV: pure, a line of text in, a row out, every field
 * checked (a parser of outside input: tests/fuzz/fuzz_soc_csv.c).
 * replay.c runs the estimator over the rows and prints
 *   time,unix,soc_bms,soc_counted,soc_band,soc_low,soc_high,synced,capacity_ah,event
 * a row, then "# full N, empty N, rest N, capacity samples N, capacity AH".
 */
#ifndef GATEWAY_HISTORY_REPLAY_H
#define GATEWAY_HISTORY_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../../conf/conf.h"

/* The columns the replay reads, by their names in the header. */
enum gw_hcsv_col {
	GW_HC_UNIX = 0, GW_HC_SPAN, GW_HC_ONLINE, GW_HC_SOC, GW_HC_VOLTAGE, GW_HC_CURRENT, GW_HC_CELL_MIN,
	GW_HC_CELL_MAX, GW_HC_TEMP_MIN, GW_HC_TEMP_MAX, GW_HC_NCOLS
};
#define GW_HCSV_LINE_MAX 4096       /* bytes of one line, its end included */
#define GW_HCSV_FIELDS_MAX 256  /* a history export with every cell of a 192-cell pack (cells=1): about 225 */

/* A header read: where each column is (-1 absent) and how many fields a row has. */
struct gw_hcsv {
	int col[GW_HC_NCOLS];
	int nfields;
};
/* One row; NAN where the field is empty (or the column absent). */
struct gw_hcsv_row {
	double unix_s;
	double span_s;               /* 0: one sample; a folded row covers this many seconds */
	bool online;                 /* a row without the online column is */
	double soc, voltage, current, cell_min_mv, cell_max_mv, temp_min_c, temp_max_c;
};

/* The header line (its end of line may be there): 0, or -1 with why
 * (no unix or current_a column, a duplicate name, too many fields). */
int gw_hcsv_header(struct gw_hcsv *h, const char *line, char *why, size_t wl);
/* A data line: 1 with the row, 0 for a line to skip (empty, or starting
 * with '#'), -1 with why (a field count other than the header's, a field
 * that is not a number, a time or a value out of range). */
int gw_hcsv_row(const struct gw_hcsv *h, const char *line, struct gw_hcsv_row *r, char *why, size_t wl);

/* The replay of the CSV `in` (named `name` in messages) with the [soc]
 * keys c (its capacity required) and stale_after: the output above on
 * out.  0, or 2 with "NAME:LINE: problem" on err (a file it cannot read). */
int gw_soc_replay(FILE *in, const char *name, const struct conf_soc *c, double stale_after, FILE *out, FILE *err);

#endif
