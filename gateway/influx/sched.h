/* SPDX-License-Identifier: MIT */
/* gateway/influx/sched.h - when the influx output takes its points, and the
 * second each is stamped with: pure, the clocks passed in. */
#ifndef GATEWAY_INFLUX_SCHED_H
#define GATEWAY_INFLUX_SCHED_H

#include <stdbool.h>

struct ix_sched {
	double next;        /* monotonic time the next points are due, 0 = at the first tick */
	double last_w;      /* the wall time the last points were stamped on, 0 = none yet */
	long long last_t;   /* their second */
};

/* Called at each tick (monotonic now, wall clock wall, the points every iv
 * seconds, iv >= 1): true when points are due, *t their second. */
bool ix_sched_due(struct ix_sched *s, double now, double wall, double iv, long long *t);

#endif
