/* SPDX-License-Identifier: MIT */
/* gateway/web/budget.h - the password checks' budget, across addresses.
 *
 * The wait after a failure is per address (auth.c); an attacker with many
 * addresses (a host has a whole IPv6 /64) would not feel it.  On top of it:
 *
 * - all addresses together: at most BUDGET_BURST checks at once, then one
 *   a second (a token bucket), whatever the addresses;
 * - per user name: after a failure for a name, the next check of that name
 *   waits 1 s, then 2, 4, up to NAME_DELAY_MAX s; a good login or
 *   NAME_FORGET s without a failure ends it;
 * - a name with fewer recent failures goes first: a real user's login is
 *   not queued behind the guesses at another name.
 *
 * Pure: the time is an argument, no loop, no log. */
#ifndef GW_WEB_BUDGET_H
#define GW_WEB_BUDGET_H

#include <stdbool.h>

#define BUDGET_RATE 1.0        /* checks a second, all addresses together */
#define BUDGET_BURST 3.0
#define BUDGET_NAMES 64
#define NAME_DELAY_MAX 8
#define NAME_FORGET 900.0

struct budget_name {
	char name[33];         /* as asked, cut: a bucket, never shown */
	int failures;
	double until, last;
};

struct gw_budget {
	double tokens, at;
	struct budget_name names[BUDGET_NAMES];
};

void gw_budget_init(struct gw_budget *b, double now);
/* When a check of `name` may start (now or later). */
double gw_budget_ready(const struct gw_budget *b, const char *name, double now);
/* The recent failures of `name`: the lower, the sooner it goes. */
int gw_budget_failures(const struct gw_budget *b, const char *name, double now);
/* A check starts now (the caller saw gw_budget_ready() <= now). */
void gw_budget_take(struct gw_budget *b, double now);
/* A check of `name` ended. */
void gw_budget_result(struct gw_budget *b, const char *name, bool ok, double now);

#endif
