/* SPDX-License-Identifier: MIT */
/* gateway/influx/sched.c - when the influx output takes its points, and the
 * second each is stamped with.
 *
 * The once-a-second tick that calls it comes a little late by varying
 * amounts (more on a loaded machine). Two rules keep such jitter from
 * losing points at an interval of one tick:
 * - points are due from half a second before their time on the schedule
 *   (a tick a little less late than the last one is not a tick early);
 * - their stamp is their slot on the schedule (the last stamp + the
 *   interval) while the wall clock agrees with it within a second, so two
 *   ticks on either side of a second's boundary still get seconds of their
 *   own (the clock's floor would give both the same second: the second
 *   point would overwrite the first in InfluxDB, one second would have
 *   none). A late loop, the first points and a step of the wall clock take
 *   the wall clock's second again.
 */
#include <math.h>

#include "sched.h"

bool ix_sched_due(struct ix_sched *s, double now, double wall, double iv, long long *t)
{
	if (s->next > 0 && now < s->next - 0.5)
		return false;
	s->next = s->next > 0 && now - s->next < iv ? s->next + iv : now + iv;
	double slot = s->last_w + iv;
	double w = s->last_w > 0 && fabs(wall - slot) < 1.0 ? slot : wall;
	long long sec = (long long)floor(w);
	if (s->last_w > 0 && sec == s->last_t)
		return false; /* the wall clock stepped back by about the interval: its second has its points */
	s->last_w = w;
	s->last_t = sec;
	*t = sec;
	return true;
}
