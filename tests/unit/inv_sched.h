/* SPDX-License-Identifier: MIT */
/* tests/unit/inv_sched.h - a scheduled CAN codec (codec.h `periods`) on a
 * fake clock, for its tests (test_inv_growatt_wit_can.c,
 * test_inv_schneider_can.c, test_inv_sma_hv_can.c): the steps the output's
 * timer takes (cansched.c inv_can_sched_step(), each at the time the last
 * one named), every frame that goes recorded with its time. */
#ifndef TESTS_UNIT_INV_SCHED_H
#define TESTS_UNIT_INV_SCHED_H

#include <stdio.h>
#include <string.h>

#include "../../gateway/inverter/codec.h"

#define SCHED_T0 1000.0 /* the fake monotonic clock's start (0 is "no frame yet") */

struct sched_ev {
	double t;                              /* s after SCHED_T0 */
	const struct inv_can_frame_fn *fn;
};

/* The schedule started at SCHED_T0 (every frame due, the identification
 * with ident), stepped at each time it names until t_end s after; urgent_at
 * (s after the start, < 0: never) one step out of turn.  The frames in
 * log[0..cap); returns how many went. */
static inline int sched_run(const struct inv_can_codec *c, bool ident, double t_end, double urgent_at,
			    struct sched_ev *log, int cap)
{
	struct inv_can_sched s;
	const struct inv_can_frame_fn *go[INV_CAN_MAX_FRAMES];
	double now = SCHED_T0, next, last = 0;
	int n = 0;
	memset(&s, 0, sizeof(s));
	inv_can_sched_start(c, &s, now);
	for (int step = 0; now <= SCHED_T0 + t_end && step < 100000; step++) {
		bool urgent = urgent_at >= 0 && now >= SCHED_T0 + urgent_at;
		size_t k = inv_can_sched_step(c, &s, step == 0 && ident, urgent, now, 0, last, go, &next);
		if (urgent)
			urgent_at = -1;
		for (size_t i = 0; i < k; i++) {
			if (n < cap)
				log[n++] = (struct sched_ev){ now - SCHED_T0, go[i] };
			last = now;
		}
		if (urgent_at >= 0 && SCHED_T0 + urgent_at < next)
			next = SCHED_T0 + urgent_at;
		now = next;
	}
	return n;
}

/* How often frame fn went in log[0..n), and the least and greatest time
 * between two of it. */
static inline int sched_count(const struct sched_ev *log, int n, const struct inv_can_frame_fn *fn, double *min_gap,
			      double *max_gap)
{
	int k = 0;
	double last = -1;
	*min_gap = 1e9;
	*max_gap = 0;
	for (int i = 0; i < n; i++) {
		if (log[i].fn != fn)
			continue;
		if (last >= 0) {
			double g = log[i].t - last;
			*min_gap = g < *min_gap ? g : *min_gap;
			*max_gap = g > *max_gap ? g : *max_gap;
		}
		last = log[i].t;
		k++;
	}
	return k;
}

/* Every frame of c went each periods[i].s (within 1 us) over log. */
static inline bool sched_periodic(const struct inv_can_codec *c, const struct sched_ev *log, int n)
{
	for (size_t i = 0; i < c->nframes; i++) {
		double lo, hi;
		if (sched_count(log, n, &c->frames[i], &lo, &hi) < 2 || lo < c->periods[i].s - 1e-6 ||
		    hi > c->periods[i].s + 1e-6) {
			fprintf(stderr, "  frame %zu (0x%X): gaps %.6f..%.6f s, period %g s\n", i, (unsigned)c->frames[i].id,
				lo, hi, c->periods[i].s);
			return false;
		}
	}
	return true;
}

#endif
