/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_trace.c - bmsgw-sim --trace DAYS: the battery model
 * (sim_model.c) run for DAYS and sampled every --step seconds into a
 * history CSV, the columns and precision of bmsgw --history-csv (what
 * bmsgw --soc-replay reads), with the truth after them: true_soc_pct,
 * true_ah, true_current_a and true_capacity_ah.  As fast as the CPU goes:
 * no real time.  The first row is at 2026-01-01T00:00:00Z plus the
 * model's start_hour.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_model.h"

#define TRACE_EPOCH 1767225600.0 /* 2026-01-01T00:00:00Z */

/* printf's "%.Nf" (N <= 4) of x at p, its end returned: the same characters,
 * at a fifth of its CPU (fprintf's rounding of the exact binary value was
 * four fifths of a trace's time: 1.4 million rows of a month at 2 s).  The
 * value scaled by 10^N is rounded here where it lies clear of a tie (its
 * error, under 2^-22 below 2e9, cannot move it across one), by snprintf
 * where it does not, or is too large or not a number. */
static char *put_fixed(char *p, double x, int n)
{
	static const double scale[] = { 1, 10, 100, 1000, 10000 };
	double a = fabs(x) * scale[n], whole = floor(a), frac = a - whole;
	if (!(a < 2e9) || fabs(frac - 0.5) < 1e-6)
		return p + sprintf(p, "%.*f", n, x);
	unsigned long v = (unsigned long)whole + (frac > 0.5);
	char digits[24];
	int k = 0;
	do {
		digits[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v || k <= n);
	if (signbit(x))
		*p++ = '-';
	while (k > n)
		*p++ = digits[--k];
	if (n)
		*p++ = '.';
	while (k)
		*p++ = digits[--k];
	return p;
}

/* "," and x with n decimals */
static char *put_col(char *p, double x, int n)
{
	*p++ = ',';
	return put_fixed(p, x, n);
}

static void row(FILE *out, const struct sim_model *m, int cells)
{
	double t = TRACE_EPOCH + m->t, vmin = 1e9, vmax = 0;
	for (int i = 0; i < m->cfg.cells; i++) {
		vmin = fmin(vmin, m->cell_v[i]);
		vmax = fmax(vmax, m->cell_v[i]);
	}
	char line[64 + 20 * (SIM_MODEL_CELLS + 24)], *p = line;
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	p += strftime(p, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	double v = sim_model_voltage(m), lo = round(vmin * 1000), hi = round(vmax * 1000);
	p = put_col(p, t, 0);
	memcpy(p, ",sim,0,1,1", 10);
	p += 10;
	p = put_col(p, sim_model_bms_soc(m), 1);
	p = put_col(p, v, 2);
	p = put_col(p, m->i_meas, 2);
	p = put_col(p, v * m->i_meas, 1);
	p = put_col(p, lo, 0);
	p = put_col(p, hi, 0);
	p = put_col(p, hi - lo, 0);
	p = put_col(p, m->temp_c, 1);
	p = put_col(p, m->temp_c + 0.5, 1);
	p = put_col(p, m->temp_c + 3, 1);
	memcpy(p, ",0,", 3);
	p += 3;
	double r = 0;
	for (int i = 0; cells && i < m->cfg.cells; i++) {
		p = put_col(p, (double)lround(m->cell_v[i] * 1000), 0);
		r += m->cell_r[i];
	}
	p = put_col(p, sim_model_true_soc(m), 3);
	p = put_col(p, m->q, 3);
	p = put_col(p, m->i_true, 3);
	p = put_col(p, sim_model_true_ah(m), 3);
	if (cells)
		p = put_col(p, r * 1000, 4);
	memcpy(p, "\r\n", 2);
	fwrite(line, 1, (size_t)(p + 2 - line), out);
}

/* '# truth NAME,v,v,...': each cell's capacity (Ah) or resistance (mOhm). */
static void truth_cells(FILE *out, const struct sim_model *m, const char *name, int what)
{
	fprintf(out, "# truth %s", name);
	for (int i = 0; i < m->cfg.cells; i++)
		fprintf(out, what == 0 ? ",%.4f" : ",%.5f",
			what == 0 ? sim_model_cell_ah(m, i) : 1000 * (what == 1 ? m->cell_r0[i] : m->cell_r[i]));
	fputs("\r\n", out);
}

int sim_trace_write(const struct sim_model_cfg *c, double days, double step, int cells, FILE *out)
{
	static struct sim_model m;
	sim_model_init(&m, c);
	fputs("time,unix,unit,span_s,samples,online,soc_pct,voltage_v,current_a,power_w,cell_min_mv,cell_max_mv,"
	      "cell_delta_mv,temp_min_c,temp_max_c,mos_temp_c,alarm_bits,alarms", out);
	for (int i = 0; cells && i < m.cfg.cells; i++)
		fprintf(out, ",cell_%02d_mv", i + 1);
	fputs(",true_soc_pct,true_ah,true_current_a,true_capacity_ah", out);
	fputs(cells ? ",true_r_mohm\r\n" : "\r\n", out);
	long n = lround(days * 86400 / step);
	for (long i = 0; i < n; i++) {
		row(out, &m, cells);
		sim_model_run(&m, step);
	}
	if (cells) {
		truth_cells(out, &m, "cell_ah", 0);
		truth_cells(out, &m, "cell_r0_mohm", 1);
		truth_cells(out, &m, "cell_r_mohm", 2);
	}
	return fflush(out) == 0 ? 0 : -1;
}
