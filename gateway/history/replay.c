/* SPDX-License-Identifier: MIT */
/* gateway/history/replay.c - bmsgw --soc-replay FILE.csv: the estimator of
 * engine/soc.h over a history CSV, row by row, as the daemon runs it poll
 * by poll, so that a user sees what the count would have said over last
 * month, and long simulated traces test it in seconds.
 *
 * Every row that is online with a current is a good poll at its unix time.
 * Each row: the BMS's SOC, the count, its uncertainty (+- %, empty while
 * it is not known) and the range the true SOC lies in (the band's two
 * sides, which need not lie around the count: soc_band is the larger, the
 * count's rounding added; the low side rounded down, the high one up to
 * 0.1 %), synced, the capacity in use and what the step saw.
 *
 * The history keeps a sample every [history] interval (60 s by default)
 * and folds old ones into 15-minute rows, so a gap is a step longer than
 * stale_after, twice the usual step of the file (the median of its first
 * MEDIAN_ROWS steps) and twice the row's own span, whichever is longest.
 * The history has no remaining Ah: a gap leaves the count unsynced.  The
 * mean cell is the pack voltage over the cells the voltage and the cell
 * extremes imply, else the middle of the extremes.  Constant memory: only
 * the first rows are held, for the median.
 */
#include "replay.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../engine/soc.h"

#define MEDIAN_ROWS 1000

struct replay {
	const struct conf_soc *c;
	double stale_after;        /* [gateway]'s */
	double step;               /* the file's usual step, s */
	struct gw_soc s;
	FILE *out;
	double last_t;             /* of the row before (-inf: none) */
	int last_line;
};

/* The mean cell (V) of a row: pack voltage over the implied cells. */
static double cell_avg(const struct gw_hcsv_row *r)
{
	double mid = (r->cell_min_mv + r->cell_max_mv) / 2;
	if (!(mid > 0) || !(r->voltage > 0))
		return NAN;
	long n = lround(r->voltage * 1000 / mid);
	if (n < 1 || n > 64 || fabs(r->voltage * 1000 / (double)n - mid) > 0.1 * mid)
		return mid / 1000;
	return r->voltage / (double)n;
}

static void print_events(FILE *o, const struct gw_soc_ev *ev)
{
	const char *sep = "";
#define EV_WORD(bit, ...)                                  \
	if (ev->bits & (bit)) {                            \
		fputs(sep, o);                             \
		fprintf(o, __VA_ARGS__);                   \
		sep = " ";                                 \
	}
	EV_WORD(GW_SOC_EV_START, "start")
	EV_WORD(GW_SOC_EV_BRIDGED, "gap=%.0f", ev->gap_s)
	EV_WORD(GW_SOC_EV_LOST, "unsynced=%.0f", ev->gap_s)
	EV_WORD(GW_SOC_EV_OFFSET, "offset=%.3f", ev->offset_a)
	EV_WORD(GW_SOC_EV_SAMPLE, "sample=%.1f", ev->sample_ah)
	EV_WORD(GW_SOC_EV_REJECTED, "rejected=%.1f", ev->sample_ah)
	EV_WORD(GW_SOC_EV_FULL, "full")
	EV_WORD(GW_SOC_EV_EMPTY, "empty")
	EV_WORD(GW_SOC_EV_REST, "rest=%.1f", ev->rest_soc)
	EV_WORD(GW_SOC_EV_KNEE, "knee=%.1f", ev->knee_from)
	EV_WORD(GW_SOC_EV_LIGHT, "light=%.1f>%.1f", ev->light_from, ev->light_to)
#undef EV_WORD
}

static void num(FILE *o, double v)
{
	if (isfinite(v))
		fprintf(o, ",%.1f", v);
	else
		fputc(',', o);
}

/* A side of the true SOC's range, % rounded outwards to 0.1 % within
 * 0 ... 100 (NAN stays NAN; 1e-9 for the sum's own rounding). */
static double side(double v, bool up)
{
	double x = up ? ceil(10 * v - 1e-9) / 10 : floor(10 * v + 1e-9) / 10;
	return x < 0 ? 0 : x > 100 ? 100 : x;
}

static void replay_row(struct replay *r, const struct gw_hcsv_row *row)
{
	struct gw_soc_ev ev = { 0 };
	if (row->online && isfinite(row->current)) {
		struct gw_soc_in in = {
			.t = row->unix_s, .current = row->current, .cell_min_v = row->cell_min_mv / 1000,
			.cell_max_v = row->cell_max_mv / 1000, .cell_avg_v = cell_avg(row), .bms_soc = row->soc,
			.bms_remain_ah = NAN, .bms_full_ah = NAN, .temp_min_c = row->temp_min_c,
			.temp_max_c = row->temp_max_c,
		};
		double limit = fmax(r->stale_after, fmax(2 * r->step, 2 * row->span_s));
		gw_soc_step(&r->s, r->c, limit, &in, &ev);
	}
	struct gw_soc_out o;
	gw_soc_output(&r->s, r->c, row->online ? row->soc : NAN, row->unix_s, &o);
	char iso[32];
	time_t t = (time_t)row->unix_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(r->out, "%s,%.0f", iso, row->unix_s);
	num(r->out, o.soc_bms);
	num(r->out, o.soc_counted);
	num(r->out, o.band);
	num(r->out, side(o.soc_counted + o.band_lo, false));
	num(r->out, side(o.soc_counted + o.band_hi, true));
	fprintf(r->out, ",%d", o.flags & GW_SOC_F_SYNCED ? 1 : 0);
	num(r->out, o.capacity_ah);
	fputc(',', r->out);
	print_events(r->out, &ev);
	fputc('\n', r->out);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The median of the positive steps between the rows held, 0 for none. */
static double median_step(const struct gw_hcsv_row *rows, int n)
{
	static double d[MEDIAN_ROWS];
	int k = 0;
	for (int i = 1; i < n; i++)
		if (rows[i].unix_s > rows[i - 1].unix_s)
			d[k++] = rows[i].unix_s - rows[i - 1].unix_s;
	if (!k)
		return 0;
	qsort(d, (size_t)k, sizeof(d[0]), cmp_double);
	return d[k / 2];
}

/* The next row of in into *row: 1, 0 at the end, -1 after a message on err. */
static int next_row(FILE *in, const char *name, const struct gw_hcsv *h, int *line, struct gw_hcsv_row *row,
		    FILE *err)
{
	static char buf[GW_HCSV_LINE_MAX + 1];
	char why[256];
	for (;;) {
		if (!fgets(buf, sizeof(buf), in))
			return 0;
		++*line;
		size_t n = strlen(buf);
		if (n == sizeof(buf) - 1 && buf[n - 1] != '\n') {
			fprintf(err, "bmsgw: %s:%d: a line longer than %d bytes\n", name, *line, GW_HCSV_LINE_MAX - 1);
			return -1;
		}
		int rc = gw_hcsv_row(h, buf, row, why, sizeof(why));
		if (rc < 0)
			fprintf(err, "bmsgw: %s:%d: %s\n", name, *line, why);
		if (rc != 0)
			return rc;
	}
}

/* Row `line` in order after the one before; false after a message. */
static bool in_order(struct replay *r, const char *name, int line, const struct gw_hcsv_row *row, FILE *err)
{
	if (row->unix_s < r->last_t) {
		fprintf(err, "bmsgw: %s:%d: time %.0f is before the row of line %d (%.0f): the rows must be in "
			"time order\n", name, line, row->unix_s, r->last_line, r->last_t);
		return false;
	}
	r->last_t = row->unix_s;
	r->last_line = line;
	return true;
}

static int run_rows(struct replay *r, FILE *in, const char *name, const struct gw_hcsv *h, int line, FILE *err)
{
	static struct gw_hcsv_row held[MEDIAN_ROWS];
	int n = 0, rc = 0;
	while (n < MEDIAN_ROWS && (rc = next_row(in, name, h, &line, &held[n], err)) > 0) {
		if (!in_order(r, name, line, &held[n], err))
			return 2;
		n++;
	}
	if (n < MEDIAN_ROWS && rc < 0)
		return 2;
	r->step = median_step(held, n);
	for (int i = 0; i < n; i++)
		replay_row(r, &held[i]);
	struct gw_hcsv_row row;
	while (n == MEDIAN_ROWS && (rc = next_row(in, name, h, &line, &row, err)) > 0) {
		if (!in_order(r, name, line, &row, err))
			return 2;
		replay_row(r, &row);
	}
	if (n == MEDIAN_ROWS && rc < 0)
		return 2;
	return 0;
}

int gw_soc_replay(FILE *in, const char *name, const struct conf_soc *c, double stale_after, FILE *out, FILE *err)
{
	static char buf[GW_HCSV_LINE_MAX + 1];
	char why[256];
	struct gw_hcsv h;
	if (!fgets(buf, sizeof(buf), in)) {
		fprintf(err, "bmsgw: %s:1: %s\n", name, ferror(in) ? "cannot be read" : "empty (expected the header of "
			"bmsgw --history-csv)");
		return 2;
	}
	if (gw_hcsv_header(&h, buf, why, sizeof(why)) < 0) {
		fprintf(err, "bmsgw: %s:1: %s\n", name, why);
		return 2;
	}
	struct replay r = { .c = c, .stale_after = stale_after, .out = out, .last_t = -INFINITY };
	fputs("time,unix,soc_bms,soc_counted,soc_band,soc_low,soc_high,synced,capacity_ah,event\n", out);
	int rc = run_rows(&r, in, name, &h, 1, err);
	if (rc)
		return rc;
	if (ferror(in)) {
		fprintf(err, "bmsgw: %s:%d: cannot be read\n", name, r.last_line + 1);
		return 2;
	}
	struct gw_soc_out o;
	gw_soc_output(&r.s, c, NAN, r.last_t, &o);
	fprintf(out, "# full %u, empty %u, rest %u, knee %u, light %u, capacity samples %u, capacity %.1f\n",
		o.full_points, o.empty_points, o.rest_points, o.knee_points, o.light_points, o.capacity_samples,
		isfinite(o.capacity_ah) ? o.capacity_ah : 0.0);
	return 0;
}
