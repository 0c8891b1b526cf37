/* SPDX-License-Identifier: MIT */
/* tests/tools/health_trace.c - the cell-health estimators of the daemon
 * (gateway/engine/health.c, health_ir.c, linked as they are) over a
 * history CSV with each cell's voltage: `bmsgw-sim --trace DAYS --cells`
 * (tests/sim/README.md "Battery model"), or bmsgw --history-csv of a pack
 * with cells.  Each row is a poll at its unix time (the day: its UTC
 * date); at the end, and with --daily at each new day, the figures as one
 * JSON line (the names of /api/state's).  For tests/integration/
 * test_health_model.py, which holds them against the model's truth.
 *
 *   health_trace --capacity AH [--chemistry lfp|nmc|lto] [--min-step C] [--daily] <trace.csv
 *
 * The parameters are the daemon's, made by its own function from [health]
 * ir_min_step (default 0.1) and [soc] capacity and chemistry
 * (gateway/model/health_gw.c gw_health_params_for: the step ir_min_step x
 * the capacity, both polls within 2 s, the knees of the chemistry, rest
 * 0.01 C for 1800 s). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/model/health_gw.h"

#define LINE_MAX_BYTES 8192
#define FIELDS_MAX 128

struct cols {
	int unix_s, voltage, current, cell[BMS_MAX_CELLS], ncells;
};

static int split(char *s, char **f)
{
	int k = 0;
	s[strcspn(s, "\r\n")] = '\0';
	for (char *p = s; k < FIELDS_MAX; p++) {
		f[k++] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		*p = '\0';
	}
	return k;
}

static int header(char *line, struct cols *c)
{
	char *f[FIELDS_MAX];
	int n = split(line, f);
	memset(c, 0xff, sizeof(*c));
	c->ncells = 0;
	for (int i = 0; i < n; i++) {
		int k;
		if (strcmp(f[i], "unix") == 0)
			c->unix_s = i;
		else if (strcmp(f[i], "voltage_v") == 0)
			c->voltage = i;
		else if (strcmp(f[i], "current_a") == 0)
			c->current = i;
		else if (sscanf(f[i], "cell_%d_mv", &k) == 1 && k >= 1 && k <= BMS_MAX_CELLS) {
			c->cell[k - 1] = i;
			if (k > c->ncells)
				c->ncells = k;
		}
	}
	for (int i = 0; i < c->ncells; i++)
		if (c->cell[i] < 0)
			return -1;
	return c->unix_s >= 0 && c->current >= 0 && c->ncells > 0 ? 0 : -1;
}

/* A data row into s; false for one to skip (a field empty or no number). */
static bool row(char *line, const struct cols *c, struct bms_snapshot *s, double *t)
{
	char *f[FIELDS_MAX], *end;
	int n = split(line, f);
	memset(s, 0, sizeof(*s));
	if (c->unix_s >= n || c->current >= n)
		return false;
	*t = strtod(f[c->unix_s], &end);
	s->current = strtof(f[c->current], &end);
	if (!*f[c->current] || *end)
		return false;
	s->present = BMS_HAS_CURRENT;
	if (c->voltage >= 0 && c->voltage < n && *f[c->voltage]) {
		s->voltage = strtof(f[c->voltage], &end);
		if (!*end)
			s->present |= BMS_HAS_VOLTAGE;
	}
	for (int i = 0; i < c->ncells; i++) {
		if (c->cell[i] >= n || !*f[c->cell[i]])
			return true; /* no cells in this row */
		long mv = strtol(f[c->cell[i]], &end, 10);
		if (*end || mv < 0 || mv > 65535)
			return true;
		s->cell_mv[i] = (uint16_t)mv;
	}
	s->ncells = (uint8_t)c->ncells;
	s->present |= BMS_HAS_CELLS;
	return true;
}

static void num(const char *key, double v, int prec)
{
	if (isfinite(v))
		printf(",\"%s\":%.*f", key, prec, v);
	else
		printf(",\"%s\":null", key);
}

static void print_out(const struct gw_health *h, const struct gw_health_params *p, int32_t day, long rows)
{
	struct gw_health_out o;
	gw_health_output(h, p, day, &o);
	printf("{\"day\":%d,\"rows\":%ld,\"cells_ir_mohm\":[", (int)day, rows);
	for (int i = 0; i < o.ncells; i++)
		printf(isfinite(o.cell_ir_mohm[i]) ? "%s%.4f" : "%snull", i ? "," : "", (double)o.cell_ir_mohm[i]);
	printf("],\"cells_ir_samples\":[");
	for (int i = 0; i < o.ncells; i++)
		printf("%s%u", i ? "," : "", o.cell_ir_samples[i]);
	printf("]");
	num("ir_mohm", o.ir_mohm, 4);
	printf(",\"ir_samples\":%u", o.ir_samples);
	num("ir_30d_mohm", o.ir_30d_mohm, 4);
	num("ir_rise_pct", o.ir_rise_pct, 2);
	printf(",\"knees\":%u,\"knees_high\":[", o.knees);
	for (int i = 0; i < h->ncells; i++)
		printf("%s%u", i ? "," : "", h->knees_high[i]);
	printf("],\"knees_low\":[");
	for (int i = 0; i < h->ncells; i++)
		printf("%s%u", i ? "," : "", h->knees_low[i]);
	printf("],\"leads_high_ah\":[");
	for (int i = 0; i < h->ncells; i++)
		printf("%s%.4f/%u", i ? "\",\"" : "\"", (double)h->lead_high_ah[i], h->leads_high[i]);
	printf("\"],\"leads_low_ah\":[");
	for (int i = 0; i < h->ncells; i++)
		printf("%s%.4f/%u", i ? "\",\"" : "\"", (double)h->lead_low_ah[i], h->leads_low[i]);
	printf("\"],\"weak_cell\":");
	if (o.weak) {
		printf("{\"cell\":%u,\"ir_rank\":%u,\"knees_low\":%u,\"knees_high\":%u", o.weak_cell, o.weak_ir_rank,
		       o.weak_knees_low, o.weak_knees_high);
		num("capacity_deficit_pct", o.weak_deficit_pct, 3);
		num("capacity_deficit_min_pct", o.weak_deficit_min_pct, 3);
		printf("}");
	} else {
		printf("null");
	}
	printf(",\"spread_full_mv\":%u,\"spread_rest_mv\":%u}\n", o.spread_full_mv, o.spread_rest_mv);
	fflush(stdout);
}

static int usage(void)
{
	fputs("usage: health_trace --capacity AH [--chemistry lfp|nmc|lto] [--min-step C] [--daily] <trace.csv\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	struct conf_health ch = { .enabled = true, .ir_min_step = 0.1 };
	struct conf_soc cs = { .capacity = 0, .chemistry = CONF_CHEM_LFP };
	int daily = 0;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : "";
		if (strcmp(argv[i], "--capacity") == 0 && *v)
			cs.capacity = atof(argv[++i]);
		else if (strcmp(argv[i], "--min-step") == 0 && *v)
			ch.ir_min_step = atof(argv[++i]);
		else if (strcmp(argv[i], "--chemistry") == 0 && *v && strchr("lnL", v[0]))
			cs.chemistry = strcmp(argv[++i], "nmc") == 0 ? CONF_CHEM_NMC
				       : strcmp(v, "lto") == 0 ? CONF_CHEM_LTO : CONF_CHEM_LFP;
		else if (strcmp(argv[i], "--daily") == 0)
			daily = 1;
		else
			return usage();
	}
	if (!(cs.capacity > 0) || !(ch.ir_min_step > 0))
		return usage();
	struct gw_health_params p;
	struct bms_snapshot none = { 0 };
	gw_health_params_for(&ch, &cs, &none, &p);
	static char line[LINE_MAX_BYTES];
	static struct gw_health h;
	struct cols c;
	if (!fgets(line, sizeof(line), stdin) || header(line, &c) < 0) {
		fputs("health_trace: no header with unix, current_a and cell_NN_mv columns\n", stderr);
		return 1;
	}
	gw_health_init(&h);
	long rows = 0;
	int32_t day = 0;
	while (fgets(line, sizeof(line), stdin)) {
		struct bms_snapshot s;
		double t;
		if (line[0] == '#' || !row(line, &c, &s, &t))
			continue;
		int32_t d = (int32_t)floor(t / 86400);
		if (daily && day && d != day)
			print_out(&h, &p, day, rows);
		day = d;
		gw_health_step(&h, &p, &s, t, d);
		rows++;
	}
	print_out(&h, &p, day, rows);
	return 0;
}
