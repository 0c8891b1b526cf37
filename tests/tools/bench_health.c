/* SPDX-License-Identifier: MIT */
/* tests/tools/bench_health.c - the cost of the cell-health estimators for
 * `make bench`: ns per gw_health_step() of one 16-cell pack polled once a
 * second, its current stepped by 0.3 C every poll (each poll a resistance
 * sample of every cell: the worst case), its cells crossing both knees
 * (the weak cell's compensated voltages), and ns per gw_health_output()
 * (the medians of 17 windows, as /api/state, MQTT and /metrics ask). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../gateway/engine/health.h"

#define CELLS 16
#define POLLS 20000

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Poll i: the current steps between +-30 A; the cells sweep the whole
 * curve in 2000 polls, cell 9 ahead at both ends, cell 5 of 2.5 mOhm. */
static void poll(int i, struct bms_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->present = BMS_HAS_CURRENT | BMS_HAS_VOLTAGE | BMS_HAS_CELLS;
	s->current = (i % 2 ? 30.0f : -30.0f) * (i % 2000 < 1000 ? 1 : 0.8f);
	double phase = (i % 2000) / 1000.0;                /* 0..2: up, then down */
	double ocv = 2950 + 550 * (phase < 1 ? phase : 2 - phase);
	s->ncells = CELLS;
	double v = 0;
	for (int c = 0; c < CELLS; c++) {
		double mv = ocv + (c == 8 ? (phase < 1 ? 30 : -30) : 0) + s->current * (c == 4 ? 2.5 : 1.0);
		s->cell_mv[c] = (uint16_t)lround(mv);
		v += mv;
	}
	s->voltage = (float)(v / 1000.0);
}

int main(void)
{
	static struct bms_snapshot polls[POLLS];
	for (int i = 0; i < POLLS; i++)
		poll(i, &polls[i]);
	struct gw_health_params p = { .min_step_a = 28, .max_gap_s = 2, .knee_high_mv = 3450, .knee_low_mv = 3000,
				      .knee_hyst_mv = 100, .rest_a = 2.8, .rest_s = 1800, .capacity_ah = 280 };
	static struct gw_health h;
	gw_health_init(&h);
	long steps = 0;
	double t0 = now(), t1;
	do {
		for (int i = 0; i < POLLS; i++, steps++)
			gw_health_step(&h, &p, &polls[i], (double)steps, 20418 + (int32_t)(steps / 86400));
		t1 = now();
	} while (t1 - t0 < 2.0);
	double step_ns = (t1 - t0) / steps * 1e9;

	/* a poll without a step (the usual one): no sample, the knees and the day */
	long quiet = 0;
	t0 = now();
	do {
		for (int i = 0; i < POLLS; i += 2, quiet++) {
			struct bms_snapshot s = polls[i];
			s.current = -30;
			gw_health_step(&h, &p, &s, (double)(steps + quiet), 20418 + (int32_t)(steps / 86400));
		}
		t1 = now();
	} while (t1 - t0 < 1.0);
	double quiet_ns = (t1 - t0) / quiet * 1e9;

	struct gw_health_out o;
	long outs = 0;
	volatile float sink = 0;
	t0 = now();
	do {
		for (int i = 0; i < 1000; i++, outs++) {
			gw_health_output(&h, &p, 20418 + (int32_t)(steps / 86400), &o);
			sink = o.ir_mohm;
		}
		t1 = now();
	} while (t1 - t0 < 1.0);
	(void)sink;
	printf("health: %.0f ns per step of a %d-cell pack with a current step (a sample of every cell: %ld steps, "
	       "%u knees, weak cell %d), %.0f ns without one, %.0f ns per output (cell 5 %.2f mOhm, pack %.2f mOhm)\n",
	       step_ns, CELLS, steps, h.knees, o.weak ? o.weak_cell : 0, quiet_ns, (t1 - t0) / outs * 1e9,
	       (double)o.cell_ir_mohm[4], (double)o.ir_mohm);
	return 0;
}
