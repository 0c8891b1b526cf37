/* SPDX-License-Identifier: MIT */
/* tests/unit/test_budget.c - the password checks' budget across addresses
 * (gateway/web/budget.c) on a fake clock: three checks at once, then one a
 * second whatever the addresses; a name's failures make its next check
 * wait 1, 2, 4, 8, 8 s; a good login or 15 minutes end that; the other
 * names are not held by them; a name's load: its asks from one address
 * after another (a browser's many from one address count once) and its
 * failures, fading, never pushed out by a flood of asks at new names. */
#include <stdio.h>

#include "../../gateway/web/budget.h"
#include "check.h"

static void rate(void)
{
	struct gw_budget b;
	gw_budget_init(&b, 1000);
	double t = 1000;
	int started = 0;
	/* rotation: a new address every time, a new wrong password: 60 s */
	while (t < 1060) {
		double at = gw_budget_ready(&b, "x", t);
		if (at <= t) {
			gw_budget_take(&b, t);
			started++;
		}
		t += 0.01;
	}
	/* 60 s of asks every 10 ms: the burst of 3, then one a second */
	CHECK(started >= 60 && started <= 63);
	if (gw_budget_ready(&b, "x", t) <= t)
		gw_budget_take(&b, t);
	CHECK(gw_budget_ready(&b, "x", t) > t); /* spent: the next check waits */
}

static void names(void)
{
	struct gw_budget b;
	gw_budget_init(&b, 0);
	static const double want[] = { 1, 2, 4, 8, 8, 8 };
	double t = 0;
	for (int i = 0; i < 6; i++) {
		gw_budget_take(&b, t);
		gw_budget_result(&b, "admin", false, t);
		double at = gw_budget_ready(&b, "admin", t);
		CHECK_NEAR(at - t, want[i], 1e-9); /* admin's next check waits */
		CHECK_EQ_INT(gw_budget_failures(&b, "admin", t), i + 1);
		CHECK(gw_budget_ready(&b, "alice", t) <= t + 1.0); /* alice is not held by them */
		CHECK_EQ_INT(gw_budget_failures(&b, "alice", t), 0);
		t = at + 5;
	}
	gw_budget_result(&b, "admin", true, t);
	/* a good login ends the name's run */
	CHECK(gw_budget_failures(&b, "admin", t) == 0 && gw_budget_ready(&b, "admin", t) <= t);
	gw_budget_result(&b, "admin", false, t);
	CHECK_EQ_INT(gw_budget_failures(&b, "admin", t + 901), 0); /* forgotten after 15 minutes */
	/* more names than slots: the one quiet longest gives way */
	for (int i = 0; i < BUDGET_NAMES + 5; i++) {
		char n[16];
		snprintf(n, sizeof(n), "u%d", i);
		gw_budget_result(&b, n, false, t + i);
	}
	/* the table is bounded: the oldest names forgotten first */
	CHECK(gw_budget_failures(&b, "u0", t + 100) == 0 && gw_budget_failures(&b, "u68", t + 100) == 1);
}

static void load(void)
{
	struct gw_budget b;
	gw_budget_init(&b, 0);
	double t = 100;
	/* a real user's browser: five requests from one address, one ask */
	for (int i = 0; i < 5; i++)
		gw_budget_asked(&b, "bob", "192.168.1.7", t);
	CHECK_NEAR(gw_budget_load(&b, "bob", t), 1.0, 1e-9);
	/* a name guessed from 50 addresses: loaded before any check of it ended */
	for (int i = 0; i < 50; i++) {
		char a[32];
		snprintf(a, sizeof(a), "10.1.0.%d", i);
		gw_budget_asked(&b, "admin", a, t);
	}
	CHECK_NEAR(gw_budget_load(&b, "admin", t), 50.0, 1e-9);
	CHECK_EQ_INT(gw_budget_failures(&b, "admin", t), 0);
	CHECK_NEAR(gw_budget_load(&b, "carol", t), 0.0, 1e-9); /* never asked */
	gw_budget_result(&b, "admin", false, t);
	CHECK_NEAR(gw_budget_load(&b, "admin", t), 51.0, 1e-9); /* a failure adds one */
	/* the asks fade (by e in NAME_ASKS_TAU), the failure stays */
	CHECK_NEAR(gw_budget_load(&b, "admin", t + NAME_ASKS_TAU), 1.0 + 50.0 / 2.718281828459045, 1e-6);
	CHECK(gw_budget_load(&b, "admin", t + 20 * NAME_ASKS_TAU) < 1.001);
	/* a flood of asks at new names, each once: the least asked give way,
	 * never the name asked most */
	for (int i = 0; i < 1000; i++) {
		char n[16], a[32];
		snprintf(n, sizeof(n), "n%d", i);
		snprintf(a, sizeof(a), "10.2.%d.%d", i / 250, i % 250);
		gw_budget_asked(&b, n, a, t + 1);
	}
	CHECK(gw_budget_load(&b, "admin", t + 1) > 40);
	CHECK(gw_budget_load(&b, "bob", t + 1) < 1.0); /* pushed out, or faded: never more */
	/* the flood's names count: one ask each */
	CHECK_NEAR(gw_budget_load(&b, "n999", t + 1), 1.0, 1e-9);
}

int main(void)
{
	rate();
	names();
	load();
	return check_report();
}
