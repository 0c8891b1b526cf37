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
#include <time.h>

#include "sim_model.h"

#define TRACE_EPOCH 1767225600.0 /* 2026-01-01T00:00:00Z */

static void row(FILE *out, const struct sim_model *m, int cells)
{
	double t = TRACE_EPOCH + m->t, vmin = 1e9, vmax = 0;
	for (int i = 0; i < m->cfg.cells; i++) {
		vmin = fmin(vmin, m->cell_v[i]);
		vmax = fmax(vmax, m->cell_v[i]);
	}
	char iso[32];
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	double v = sim_model_voltage(m), lo = round(vmin * 1000), hi = round(vmax * 1000);
	fprintf(out, "%s,%.0f,sim,0,1,1,%.1f,%.2f,%.2f,%.1f,%.0f,%.0f,%.0f,%.1f,%.1f,%.1f,0,", iso, t,
		sim_model_bms_soc(m), v, m->i_meas, v * m->i_meas, lo, hi, hi - lo, m->temp_c, m->temp_c + 0.5,
		m->temp_c + 3);
	double r = 0;
	for (int i = 0; cells && i < m->cfg.cells; i++) {
		fprintf(out, ",%ld", lround(m->cell_v[i] * 1000));
		r += m->cell_r[i];
	}
	fprintf(out, ",%.3f,%.3f,%.3f,%.3f", sim_model_true_soc(m), m->q, m->i_true, sim_model_true_ah(m));
	if (cells)
		fprintf(out, ",%.4f", r * 1000);
	fputs("\r\n", out);
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
