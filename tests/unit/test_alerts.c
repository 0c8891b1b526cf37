/* SPDX-License-Identifier: MIT */
/* tests/unit/test_alerts.c - the state machine of one alert condition
 * (gateway/alerts/cond.c) on a fake clock: said once when it becomes
 * true, again every `repeat` while true, once when it clears; a hold
 * before either; an unknown observation changes nothing and breaks a
 * hold; and the facts a cell-health estimator states (model/healthfacts.h). */
#include <math.h>
#include <stdbool.h>

#include "../../gateway/alerts/cond.h"
#include "../../gateway/model/healthfacts.h"
#include "check.h"

/* Steps c from t0 to t1 (inclusive) every dt with the same observation;
 * counts the events of each kind into n[]. */
static void run(struct al_cond *c, double t0, double t1, double dt, bool known, bool truth, double hold,
		double repeat, int n[4])
{
	for (int i = 0; i < 4; i++)
		n[i] = 0;
	for (double t = t0; t <= t1 + 1e-9; t += dt)
		n[al_cond_step(c, known, truth, t, hold, repeat)]++;
}

static void test_fire_clear(void)
{
	struct al_cond c;
	al_cond_init(&c);
	CHECK(!c.on);
	/* false at the start: nothing said */
	CHECK_EQ_INT(al_cond_step(&c, true, false, 0, 0, 3600), AL_EV_NONE);
	/* true: said once, at once */
	CHECK_EQ_INT(al_cond_step(&c, true, true, 1, 0, 3600), AL_EV_FIRE);
	CHECK(c.on);
	int n[4];
	run(&c, 2, 100, 1, true, true, 0, 3600, n);
	CHECK_EQ_INT(n[AL_EV_NONE], 99);
	CHECK_EQ_INT(n[AL_EV_FIRE] + n[AL_EV_REPEAT] + n[AL_EV_CLEAR], 0);
	/* cleared: once */
	CHECK_EQ_INT(al_cond_step(&c, true, false, 101, 0, 3600), AL_EV_CLEAR);
	CHECK(!c.on);
	run(&c, 102, 200, 1, true, false, 0, 3600, n);
	CHECK_EQ_INT(n[AL_EV_NONE], 99);
	/* true again: said again */
	CHECK_EQ_INT(al_cond_step(&c, true, true, 201, 0, 3600), AL_EV_FIRE);
	/* true at the very first observation: said */
	al_cond_init(&c);
	CHECK_EQ_INT(al_cond_step(&c, true, true, 0, 0, 3600), AL_EV_FIRE);
}

static void test_repeat(void)
{
	struct al_cond c;
	al_cond_init(&c);
	CHECK_EQ_INT(al_cond_step(&c, true, true, 10, 0, 60), AL_EV_FIRE);
	CHECK_EQ_INT(al_cond_step(&c, true, true, 69.5, 0, 60), AL_EV_NONE);
	CHECK_EQ_INT(al_cond_step(&c, true, true, 70, 0, 60), AL_EV_REPEAT);
	CHECK_EQ_INT(al_cond_step(&c, true, true, 71, 0, 60), AL_EV_NONE);
	int n[4];
	/* from 72 to 370: 130, 190, 250, 310, 370 */
	run(&c, 72, 370, 1, true, true, 0, 60, n);
	CHECK_EQ_INT(n[AL_EV_REPEAT], 5);
	CHECK_EQ_INT(n[AL_EV_FIRE] + n[AL_EV_CLEAR], 0);
	/* repeat 0: never again */
	al_cond_init(&c);
	CHECK_EQ_INT(al_cond_step(&c, true, true, 0, 0, 0), AL_EV_FIRE);
	run(&c, 1, 100000, 10, true, true, 0, 0, n);
	CHECK_EQ_INT(n[AL_EV_REPEAT], 0);
	/* the repeat counts from the last time it was said: after a clear
	 * and a new fire, not from the first */
	al_cond_init(&c);
	CHECK_EQ_INT(al_cond_step(&c, true, true, 0, 0, 100), AL_EV_FIRE);
	CHECK_EQ_INT(al_cond_step(&c, true, false, 50, 0, 100), AL_EV_CLEAR);
	CHECK_EQ_INT(al_cond_step(&c, true, true, 90, 0, 100), AL_EV_FIRE);
	CHECK_EQ_INT(al_cond_step(&c, true, true, 150, 0, 100), AL_EV_NONE);
	CHECK_EQ_INT(al_cond_step(&c, true, true, 190, 0, 100), AL_EV_REPEAT);
}

static void test_hold(void)
{
	struct al_cond c;
	al_cond_init(&c);
	/* true for 59 s: not yet; at 60 s: said */
	CHECK_EQ_INT(al_cond_step(&c, true, true, 0, 60, 3600), AL_EV_NONE);
	CHECK_EQ_INT(al_cond_step(&c, true, true, 59, 60, 3600), AL_EV_NONE);
	CHECK_EQ_INT(al_cond_step(&c, true, true, 60, 60, 3600), AL_EV_FIRE);
	/* a dip shorter than the hold: nothing; the hold starts again */
	CHECK_EQ_INT(al_cond_step(&c, true, false, 100, 60, 3600), AL_EV_NONE);
	CHECK_EQ_INT(al_cond_step(&c, true, false, 150, 60, 3600), AL_EV_NONE);
	CHECK_EQ_INT(al_cond_step(&c, true, true, 151, 60, 3600), AL_EV_NONE);
	CHECK_EQ_INT(al_cond_step(&c, true, false, 152, 60, 3600), AL_EV_NONE);
	CHECK_EQ_INT(al_cond_step(&c, true, false, 211, 60, 3600), AL_EV_NONE);
	CHECK_EQ_INT(al_cond_step(&c, true, false, 212, 60, 3600), AL_EV_CLEAR);
	/* flapping every 10 s under a 60 s hold: never said */
	al_cond_init(&c);
	int fires = 0;
	for (int t = 0; t < 1000; t++)
		fires += al_cond_step(&c, true, (t / 10) % 2 == 0, t, 60, 3600) != AL_EV_NONE;
	CHECK_EQ_INT(fires, 0);
}

static void test_unknown(void)
{
	struct al_cond c;
	al_cond_init(&c);
	/* unknown: nothing, whatever the truth passed */
	CHECK_EQ_INT(al_cond_step(&c, false, true, 0, 0, 60), AL_EV_NONE);
	CHECK(!c.on);
	CHECK_EQ_INT(al_cond_step(&c, true, true, 1, 0, 60), AL_EV_FIRE);
	/* unknown while true: no clear and no repeat */
	int n[4];
	run(&c, 2, 500, 1, false, false, 0, 60, n);
	CHECK_EQ_INT(n[AL_EV_NONE], 499);
	CHECK(c.on);
	/* known again and still true: the repeat that was due */
	CHECK_EQ_INT(al_cond_step(&c, true, true, 501, 0, 60), AL_EV_REPEAT);
	/* an unknown observation breaks a hold */
	al_cond_init(&c);
	CHECK_EQ_INT(al_cond_step(&c, true, true, 0, 30, 60), AL_EV_NONE);
	CHECK_EQ_INT(al_cond_step(&c, false, true, 20, 30, 60), AL_EV_NONE);
	CHECK_EQ_INT(al_cond_step(&c, true, true, 31, 30, 60), AL_EV_NONE);
	CHECK_EQ_INT(al_cond_step(&c, true, true, 61, 30, 60), AL_EV_FIRE);
}

static void test_facts(void)
{
	struct gw_health_facts f;
	gw_health_forget(&f);
	CHECK(!f.known);
	CHECK(isnan(f.ir_rise_pct));
	CHECK_EQ_INT(f.weak_cell, 0);
	gw_health_state(&f, 5, 35.0, 100);
	CHECK(f.known);
	CHECK_EQ_INT(f.weak_cell, 5);
	CHECK_NEAR(f.ir_rise_pct, 35.0, 0);
	CHECK_NEAR(f.at, 100, 0);
	gw_health_state(&f, -3, NAN, 200);
	CHECK_EQ_INT(f.weak_cell, 0);
	CHECK(isnan(f.ir_rise_pct));
}

int main(void)
{
	test_fire_clear();
	test_repeat();
	test_hold();
	test_unknown();
	test_facts();
	return check_report();
}
