/* SPDX-License-Identifier: MIT */
/* gateway/alerts/cond.h - the state machine of one alert condition of one
 * unit: pure, on the clock it is given (tests/unit/test_alerts.c runs it
 * on a fake one).
 *
 * A condition is said true once when it becomes true, again every
 * `repeat` seconds while it stays true (0: never again), and once when it
 * clears.  It changes only after what is observed has differed from what
 * was said for `hold` seconds without a break (0: at once); an
 * observation that is not known (the unit has no data to judge by)
 * changes nothing and breaks a hold.
 */
#ifndef GATEWAY_ALERTS_COND_H
#define GATEWAY_ALERTS_COND_H

#include <stdbool.h>

enum al_event { AL_EV_NONE = 0, AL_EV_FIRE, AL_EV_REPEAT, AL_EV_CLEAR };

struct al_cond {
	bool on;          /* said true (a FIRE without a CLEAR since) */
	double differs;   /* monotonic time the observation began to differ from `on`, < 0 = it agrees */
	double sent;      /* monotonic time it was last said true */
};

/* A condition said nothing yet (false, nothing pending). */
void al_cond_init(struct al_cond *c);
/* One observation at monotonic time now: known (false: no change), the
 * condition's truth; what is to be sent. */
enum al_event al_cond_step(struct al_cond *c, bool known, bool truth, double now, double hold, double repeat);

#endif
