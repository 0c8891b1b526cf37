/* SPDX-License-Identifier: MIT */
/* tests/tools/bench_soc.c - the cost of the SOC estimator for `make bench`:
 * ns per gw_soc_step() of one pack over a day of polls every 10 s (a
 * solar day: a charge to the full point, an evening, a night near the
 * empty point, rests), with gw_soc_output() after each step as the daemon
 * would publish it; and the bank's sum over 16 packs.  Budget 200 ns a
 * pack step.  The replay of a 30-day trace is timed by tests/bench.sh. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../gateway/engine/soc.h"

#define DAY 8640 /* polls of 10 s */
#define PACKS 16

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The [soc] defaults for LFP, 280 Ah. */
static void defaults(struct conf_soc *c)
{
	memset(c, 0, sizeof(*c));
	c->count = true;
	c->capacity = 280;
	c->chemistry = CONF_CHEM_LFP;
	c->charge_efficiency = 0.99;
	c->current_threshold = 0.1;
	c->current_gain_error = 0.02;
	c->current_offset_error = 0.3;
	c->full_cell_voltage = 3.45;
	c->tail_current = 0.04;
	c->full_time = 180;
	c->empty_cell_voltage = 2.90;
	c->empty_current = 0.2;
	c->empty_time = 60;
	c->rest_current = 0.01;
	c->rest_time = 1800;
	c->learn_capacity = true;
	c->save_interval = 300;
}

/* Poll i of the day: the current and the cells.  Morning charge to the
 * top and its tail, an afternoon at the top, an evening's discharge, the
 * night at the knee with a rest. */
static void sample(int i, struct gw_soc_in *in)
{
	double h = i / 360.0, cur, vmin, vmax;
	if (h < 6) { /* night: a rest near the bottom, then a small discharge */
		cur = h < 3 ? 0.05 : -3;
		vmin = h < 3 ? 3.05 : 2.88;
	} else if (h < 11) { /* charging */
		cur = 80 * sin((h - 6) * M_PI / 10);
		vmin = 3.25 + 0.02 * (h - 6);
	} else if (h < 14) { /* at the top: the tail */
		cur = 2;
		vmin = 3.44;
	} else { /* evening and night's discharge */
		cur = -30;
		vmin = 3.30 - 0.03 * (h - 14);
	}
	vmax = vmin + 0.012;
	*in = (struct gw_soc_in){ .current = cur + 0.2 * sin(i * 0.7), .cell_min_v = vmin, .cell_max_v = vmax,
				  .cell_avg_v = NAN, .bms_soc = 50, .bms_remain_ah = NAN, .bms_full_ah = NAN,
				  .temp_min_c = 24, .temp_max_c = 26 };
}

int main(void)
{
	static struct gw_soc_in day[DAY];
	static struct conf_soc c;
	defaults(&c);
	for (int i = 0; i < DAY; i++)
		sample(i, &day[i]);

	struct gw_soc s;
	struct gw_soc_ev ev;
	struct gw_soc_out o;
	memset(&s, 0, sizeof(s));
	long steps = 0;
	unsigned points = 0;
	double t0 = now(), t1, sum = 0;
	do {
		for (int i = 0; i < DAY; i++, steps++) {
			struct gw_soc_in in = day[i];
			in.t = 10.0 * (double)steps;
			gw_soc_step(&s, &c, 30, &in, &ev);
			gw_soc_output(&s, &c, in.bms_soc, in.t, &o);
			points += (ev.bits & (GW_SOC_EV_FULL | GW_SOC_EV_EMPTY | GW_SOC_EV_REST)) != 0;
			sum += o.soc_counted;
		}
		t1 = now();
	} while (t1 - t0 < 2.0);
	printf("soc: %.0f ns per pack step and its output (%ld steps, %u points, %u capacity samples, mean SOC "
	       "%.1f %% counted; budget 200 ns)\n", (t1 - t0) / steps * 1e9, steps, points, s.nsamples, sum / steps);

	static struct gw_soc packs[PACKS];
	const struct gw_soc *bank[PACKS];
	for (int k = 0; k < PACKS; k++) {
		packs[k] = s;
		packs[k].ah = 10 + 15 * k;
		bank[k] = &packs[k];
	}
	long rounds = 0;
	volatile double sink = 0;
	t0 = now();
	do {
		for (int i = 0; i < 100000; i++, rounds++) {
			gw_soc_bank(bank, PACKS, &c, 50, 1e6 + rounds, &o);
			sink = o.soc_counted;
		}
		t1 = now();
	} while (t1 - t0 < 1.0);
	(void)sink;
	printf("soc: %.0f ns per bank sum over %d packs\n", (t1 - t0) / rounds * 1e9, PACKS);
	return 0;
}
