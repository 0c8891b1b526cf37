/* SPDX-License-Identifier: MIT */
/* tests/unit/loop_check.h - a test's libev loop, run until a condition
 * holds, with a deadline of WAIT_S seconds (the test defines it); nothing
 * sleeps.  Shared by the tests that drive the real gateway over a wire
 * (test_poller.c, test_listener.c, test_bus_engine.c): each calls
 * loop_check_init() once, then RUN_UNTIL(cond) on its loop `loop`. */
#ifndef TESTS_LOOP_CHECK_H
#define TESTS_LOOP_CHECK_H

#include <ev.h>
#include <stdbool.h>

#include "../../gateway/core/clock.h"
#include "check.h"

static ev_timer wake;

static inline void wake_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
}

static inline void loop_check_init(void)
{
	ev_init(&wake, wake_cb);
}

/* One turn of the loop, unless the deadline has passed. */
static inline bool turn(struct ev_loop *l, double deadline)
{
	double left = deadline - gw_mono();
	if (left <= 0)
		return false;
	ev_timer_set(&wake, left, 0.);
	ev_timer_start(l, &wake);
	ev_run(l, EVRUN_ONCE);
	ev_timer_stop(l, &wake);
	return true;
}

/* Run the loop until cond holds (at most WAIT_S); then check it. */
#define RUN_UNTIL(cond) do { \
	double deadline_ = gw_mono() + WAIT_S; \
	while (!(cond) && turn(loop, deadline_)) \
		; \
	CHECK(cond); \
} while (0)

#endif
