/* SPDX-License-Identifier: MIT */
/* tests/tools/bench_limits.c - cost of the charge limit engine for `make
 * bench`: ns per gw_limits_step() of one 16-cell pack replaying a charge
 * cycle (bulk with the cell over-voltage rule, absorption, float, rebulk,
 * a hot afternoon, a stale gap), and per bank of 16 such packs (16 steps
 * and gw_limits_bank(), and the bank rule alone). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../gateway/engine/pack_limits.h"
#include "../../gateway/engine/bank_strings.h"

#define TRACE 7200 /* seconds: two hours */
#define PACKS 16

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void table(struct conf_table *t, int n, const double *xy)
{
	t->n = n;
	for (int i = 0; i < n; i++) {
		t->x[i] = xy[2 * i];
		t->y[i] = xy[2 * i + 1];
	}
}

/* The LFP defaults of [limits]. */
static void defaults(struct conf_limits *c)
{
	static const double cc[] = { 3.375, 1, 3.400, 0.25, 3.425, 0.05, 3.450, 0.005, 3.500, 0 };
	static const double dc[] = { 3.190, 1, 3.100, 0.25, 3.000, 0.05, 2.900, 0.005, 2.800, 0 };
	static const double ct[] = { 1, 0, 3, 0.1, 5, 0.25, 10, 1, 40, 1, 45, 0.5, 50, 0.25, 55, 0 };
	static const double dt[] = { -10, 0, 0, 0.25, 5, 0.5, 10, 1, 40, 1, 45, 0.5, 50, 0.25, 55, 0 };
	static const double mt[] = { 70, 1, 80, 0.25, 90, 0 };
	static const double sc[] = { 85, 1, 90, 0.5, 95, 0.2, 98, 0.1 };
	memset(c, 0, sizeof(*c));
	c->enabled = true;
	c->max_cell_voltage = 3.45;
	c->float_cell_voltage = 3.375;
	c->min_cell_voltage = 2.90;
	c->max_charge_current = 50;
	c->max_discharge_current = 60;
	c->absorption_time = 900;
	c->absorption_cell_diff = 0.010;
	c->rebulk_soc = 80;
	c->rebulk_cell_diff = 0.080;
	table(&c->charge_cell, 5, cc);
	table(&c->discharge_cell, 5, dc);
	table(&c->charge_temp, 8, ct);
	table(&c->discharge_temp, 8, dt);
	table(&c->mos_temp, 3, mt);
	table(&c->soc_charge, 4, sc);
	c->recovery_hold = 30;
	c->recovery_rate = 5;
	c->cvl_recovery_hold = 60;
	c->cvl_rate = 0.001;
	c->force_charge_soc = 5;
	c->full_charge_days = 30;
	c->bank_rule = CONF_BANK_WEIGHTED; /* the most work of the three */
	c->unknown_temp_fraction = 0.1;
	c->absorption_tolerance = 0.05;
	c->table_hysteresis = 0.020;
	c->limit_exceeded = 10;
}

/* Second t of the cycle: 40 min charging from 3.300 V a cell to 3.451 V
 * (the cells +-2 mV apart, one running 25 mV ahead near the top), 30 min
 * at the top (absorption, float), then a discharge (rebulk at 80 %);
 * sensors warm up to 46 degC; SOC follows.  Pack k is offset
 * in time so the packs of a bank differ. */
static void sample(int t, int k, struct bms_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		     BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_SOC | BMS_HAS_ALARMS;
	int u = (t + 97 * k) % TRACE;
	double base = u < 2400 ? 3300 + 151.0 * u / 2400 : u < 4200 ? 3451 : 3451 - 200.0 * (u - 4200) / 3000;
	s->ncells = 16;
	for (int i = 0; i < 16; i++) {
		double v = base + ((i * 7 + k) % 5) - 2;
		if (i == 11 && u > 2000 && u < 3000)
			v += 25.0 * (u - 2000) / 1000;
		s->cell_mv[i] = (uint16_t)lround(v);
		s->voltage += (float)(v / 1000);
	}
	s->ntemps = 4;
	for (int i = 0; i < 4; i++)
		s->temp_c[i] = (float)(25 + 21 * sin(u * M_PI / TRACE) + i);
	s->mos_temp_c = s->temp_c[0] + 10;
	s->soc = (float)(u < 4200 ? 40 + 60.0 * u / 4200 : 100 - 60.0 * (u - 4200) / 3000);
	s->chg_mos = s->dsg_mos = true;
}

/* The same 16 packs as two strings of eight in series ([bank] strings):
 * per step each string's aggregate (bank_strings.c) and limits (string_limits.c),
 * then the bank over the two strings. */
static void bench_strings(const struct conf_limits *cfg, struct bms_snapshot trace[PACKS][TRACE],
			  const struct gw_limits bout[PACKS])
{
	enum { NS = 2, LEN = PACKS / NS };
	static struct gw_limits slim[NS], bank;
	struct gw_lim_member m[NS];
	struct gw_lim_bank_state bank_st;
	gw_limits_bank_init(&bank_st);
	long steps = 0;
	double sum_v = 0, t0 = now(), t1;
	do {
		for (int i = 0; i < TRACE; i++, steps++) {
			double v = 0;
			for (int s = 0; s < NS; s++) {
				const struct bms_snapshot *f[LEN];
				const struct gw_limits *l[LEN];
				for (int k = 0; k < LEN; k++) {
					f[k] = &trace[s * LEN + k][i];
					l[k] = &bout[s * LEN + k];
				}
				struct gw_string_state st;
				gw_string_aggregate(f, LEN, false, 2.0, 0.1, &st);
				gw_limits_string(l, LEN, true, &slim[s], NULL, NULL);
				m[s] = (struct gw_lim_member){ &slim[s], false, { cfg->max_charge_current,
										  cfg->max_discharge_current, 0 }, 100 };
				v = st.snap.voltage;
			}
			struct gw_lim_bank_in in = { m, NS, true, true, true, v, 20.0, 60.0 };
			gw_limits_bank(cfg, &in, &bank, NULL);
			gw_limits_bank_follow(cfg, &bank_st, &in, (double)steps, &bank);
			sum_v += bank.cvl_v;
		}
		t1 = now();
	} while (t1 - t0 < 2.0);
	printf("limits: %.0f ns per step of a bank of 2 strings x 8 packs (each string's aggregate and limits, "
	       "the bank over strings; mean bank CVL %.1f V)\n", (t1 - t0) / steps * 1e9, sum_v / steps);
}

int main(void)
{
	static struct bms_snapshot trace[PACKS][TRACE];
	static struct conf_limits cfg;
	defaults(&cfg);
	for (int k = 0; k < PACKS; k++)
		for (int t = 0; t < TRACE; t++)
			sample(t, k, &trace[k][t]);

	/* one pack: a step per second, a stale gap of 20 s every 2 hours */
	struct gw_lim_state st;
	struct gw_limits out;
	gw_limits_init(&st);
	long steps = 0;
	unsigned changes = 0;
	double t0 = now(), t1;
	do {
		for (int i = 0; i < TRACE; i++, steps++) {
			const struct bms_snapshot *s = i >= 3000 && i < 3020 ? NULL : &trace[0][i];
			changes += gw_limits_step(&cfg, NULL, s, (double)steps, 1700000000 + steps, &st, &out) != 0;
		}
		t1 = now();
	} while (t1 - t0 < 2.0);
	printf("limits: %.0f ns per pack step (16 cells, %ld steps, %u mode/reason changes; budget 1000 ns)\n",
	       (t1 - t0) / steps * 1e9, steps, changes);

	/* a bank of 16: 16 steps and the bank's step (its target and what it
	 * publishes) per second */
	static struct gw_lim_state bst[PACKS];
	static struct gw_limits bout[PACKS], bank;
	static struct gw_lim_member m[PACKS];
	struct gw_lim_bank_state bank_st;
	gw_limits_bank_init(&bank_st);
	for (int k = 0; k < PACKS; k++) {
		gw_limits_init(&bst[k]);
		m[k] = (struct gw_lim_member){ &bout[k], false, { cfg.max_charge_current, cfg.max_discharge_current, 0 },
					       100 + 20 * k };
	}
	struct gw_lim_bank_in in = { m, PACKS, true, true, true, 53.0, 20.0, 60.0 };
	long rounds = 0;
	double sum = 0;
	t0 = now();
	do {
		for (int i = 0; i < TRACE; i++, rounds++) {
			for (int k = 0; k < PACKS; k++)
				gw_limits_step(&cfg, NULL, &trace[k][i], (double)rounds, 1700000000 + rounds, &bst[k],
					       &bout[k]);
			in.volts = trace[0][i].voltage;
			gw_limits_bank(&cfg, &in, &bank, NULL);
			gw_limits_bank_follow(&cfg, &bank_st, &in, (double)rounds, &bank);
			sum += bank.ccl_a;
		}
		t1 = now();
	} while (t1 - t0 < 2.0);
	printf("limits: %.0f ns per bank second (16 pack steps + the bank rule, mean bank CCL %.1f A)\n",
	       (t1 - t0) / rounds * 1e9, sum / rounds);
	long banks = 0;
	volatile double sink = 0;
	t0 = now();
	do {
		for (int i = 0; i < 100000; i++, banks++) {
			gw_limits_bank(&cfg, &in, &bank, NULL);
			gw_limits_bank_follow(&cfg, &bank_st, &in, (double)rounds + banks / 100000.0, &bank);
			sink = bank.cvl_v;
		}
		t1 = now();
	} while (t1 - t0 < 1.0);
	(void)sink;
	double bank_ns = (t1 - t0) / banks * 1e9;
	printf("limits: %.0f ns per bank step over 16 packs (budget 5000 ns), weighted rule %s\n", bank_ns,
	       cfg.bank_rule == CONF_BANK_WEIGHTED ? "on" : "off");
	bench_strings(&cfg, trace, bout);
	return 0;
}
