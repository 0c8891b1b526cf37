/* SPDX-License-Identifier: MIT */
/* gateway/history/hcsv.c - a history CSV read line by line for
 * --soc-replay (replay.h): the header names the columns, each data line is
 * checked field by field.  Pure: a line of text in, a row or the problem
 * out.  Fields are plain (the history writes no quotes); a line ends with
 * "\r\n" (as the history writes it) or "\n".
 */
#include "replay.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../conf/conf.h"

static const char *const col_names[GW_HC_NCOLS] = {
	[GW_HC_UNIX] = "unix",           [GW_HC_SPAN] = "span_s",         [GW_HC_ONLINE] = "online",
	[GW_HC_SOC] = "soc_pct",         [GW_HC_VOLTAGE] = "voltage_v",   [GW_HC_CURRENT] = "current_a",
	[GW_HC_CELL_MIN] = "cell_min_mv", [GW_HC_CELL_MAX] = "cell_max_mv", [GW_HC_TEMP_MIN] = "temp_min_c",
	[GW_HC_TEMP_MAX] = "temp_max_c",
};

/* The ranges a value may take (beyond them the file is not a history). */
static const struct { double lo, hi; } col_range[GW_HC_NCOLS] = {
	[GW_HC_UNIX] = { 0, 1e11 },        [GW_HC_SPAN] = { 0, 1e9 },         [GW_HC_ONLINE] = { 0, 1e9 },
	[GW_HC_SOC] = { 0, 100 },          [GW_HC_VOLTAGE] = { 0, 10000 },    [GW_HC_CURRENT] = { -1e5, 1e5 },
	[GW_HC_CELL_MIN] = { 0, 10000 },   [GW_HC_CELL_MAX] = { 0, 10000 },   [GW_HC_TEMP_MIN] = { -100, 300 },
	[GW_HC_TEMP_MAX] = { -100, 300 },
};

/* The fields of a line, cut in place at the commas: their count, or -1 for too many. */
static int split(char *s, char **f)
{
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	int k = 0;
	for (char *p = s;; p++) {
		if (k == GW_HCSV_FIELDS_MAX)
			return -1;
		f[k++] = p;
		p = strchr(p, ',');
		if (!p)
			return k;
		*p = '\0';
	}
}

/* The line into buf; false (with why) if it is too long. */
static bool copy_line(char *buf, const char *line, char *why, size_t wl)
{
	size_t n = strlen(line);
	if (n >= GW_HCSV_LINE_MAX) {
		snprintf(why, wl, "a line of %zu bytes (expected at most %d)", n, GW_HCSV_LINE_MAX - 1);
		return false;
	}
	memcpy(buf, line, n + 1);
	return true;
}

int gw_hcsv_header(struct gw_hcsv *h, const char *line, char *why, size_t wl)
{
	char buf[GW_HCSV_LINE_MAX], *f[GW_HCSV_FIELDS_MAX];
	if (!copy_line(buf, line, why, wl))
		return -1;
	int n = split(buf, f);
	if (n < 0) {
		snprintf(why, wl, "more than %d columns", GW_HCSV_FIELDS_MAX);
		return -1;
	}
	for (int c = 0; c < GW_HC_NCOLS; c++)
		h->col[c] = -1;
	h->nfields = n;
	for (int i = 0; i < n; i++)
		for (int c = 0; c < GW_HC_NCOLS; c++) {
			if (strcmp(f[i], col_names[c]) != 0)
				continue;
			if (h->col[c] >= 0) {
				snprintf(why, wl, "column %s twice", col_names[c]);
				return -1;
			}
			h->col[c] = i;
		}
	if (h->col[GW_HC_UNIX] < 0 || h->col[GW_HC_CURRENT] < 0) {
		snprintf(why, wl, "no %s column (expected the header of bmsgw --history-csv: time,unix,unit,...)",
			 h->col[GW_HC_UNIX] < 0 ? "unix" : "current_a");
		return -1;
	}
	return 0;
}

/* Field text v of column c into *out (NAN when empty); false with why. */
static bool number(int c, const char *v, double *out, char *why, size_t wl)
{
	if (!*v) {
		*out = NAN;
		return true;
	}
	char *end;
	double d = strtod(v, &end);
	if (end == v || *end || !isfinite(d)) {
		snprintf(why, wl, "%s \"%.40s\" is not a number", col_names[c], v);
		return false;
	}
	if (d < col_range[c].lo || d > col_range[c].hi) {
		snprintf(why, wl, "%s %g is out of range (expected %g..%g)", col_names[c], d, col_range[c].lo,
			 col_range[c].hi);
		return false;
	}
	*out = d;
	return true;
}

int gw_hcsv_row(const struct gw_hcsv *h, const char *line, struct gw_hcsv_row *r, char *why, size_t wl)
{
	char buf[GW_HCSV_LINE_MAX], *f[GW_HCSV_FIELDS_MAX];
	if (!copy_line(buf, line, why, wl))
		return -1;
	if (buf[0] == '#' || buf[strspn(buf, "\r\n")] == '\0')
		return 0;
	int n = split(buf, f);
	if (n != h->nfields) {
		snprintf(why, wl, "%s%d fields (the header has %d)", n < 0 ? "more than " : "",
			 n < 0 ? GW_HCSV_FIELDS_MAX : n, h->nfields);
		return -1;
	}
	double v[GW_HC_NCOLS];
	for (int c = 0; c < GW_HC_NCOLS; c++)
		if (!number(c, h->col[c] >= 0 ? f[h->col[c]] : "", &v[c], why, wl))
			return -1;
	if (isnan(v[GW_HC_UNIX])) {
		snprintf(why, wl, "no time (unix is empty)");
		return -1;
	}
	r->unix_s = v[GW_HC_UNIX];
	r->span_s = isnan(v[GW_HC_SPAN]) ? 0 : v[GW_HC_SPAN];
	r->online = h->col[GW_HC_ONLINE] < 0 || (isfinite(v[GW_HC_ONLINE]) && v[GW_HC_ONLINE] > 0);
	r->soc = v[GW_HC_SOC];
	r->voltage = v[GW_HC_VOLTAGE];
	r->current = v[GW_HC_CURRENT];
	r->cell_min_mv = v[GW_HC_CELL_MIN];
	r->cell_max_mv = v[GW_HC_CELL_MAX];
	r->temp_min_c = v[GW_HC_TEMP_MIN];
	r->temp_max_c = v[GW_HC_TEMP_MAX];
	return 1;
}
