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
 * - the name less in demand goes first: its load is its recent failures
 *   plus its asks from one address after another, counted as they come
 *   (those told to come back too) and fading with NAME_ASKS_TAU.  A name
 *   guessed from many addresses is loaded at once, before any of its
 *   checks has ended, while a real user's first login from one address
 *   weighs 1 at most (its browser's requests, its retries from the same
 *   address, count once): it is not queued behind the guesses at another
 *   name.  Nothing in it depends on whether the name exists.
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
#define NAME_ASKS_TAU 10.0     /* s: a name's asks fade by e in this time */

struct budget_name {
	char name[33];         /* as asked, cut: a bucket, never shown */
	int failures;
	double until, last;
};

/* The asks of one name: a table of its own, so that a flood of asks at
 * new names never pushes a name's failures out of `names`. */
struct budget_asks {
	char name[33];
	unsigned from;         /* a hash of the address counted last */
	double n, at;          /* n asks at `at`, fading since */
};

struct gw_budget {
	double tokens, at;
	struct budget_name names[BUDGET_NAMES];
	struct budget_asks asks[BUDGET_NAMES];
};

void gw_budget_init(struct gw_budget *b, double now);
/* When a check of `name` may start (now or later). */
double gw_budget_ready(const struct gw_budget *b, const char *name, double now);
/* The recent failures of `name`. */
int gw_budget_failures(const struct gw_budget *b, const char *name, double now);
/* A login of `name` from address `from` wants a check (whether it gets a
 * place in the queue or is told to come back): counted unless the ask
 * counted last for the name came from the same address. */
void gw_budget_asked(struct gw_budget *b, const char *name, const char *from, double now);
/* The load of `name`: its recent failures plus its asks, faded; the
 * lower, the sooner its checks go. */
double gw_budget_load(const struct gw_budget *b, const char *name, double now);
/* A check starts now (the caller saw gw_budget_ready() <= now). */
void gw_budget_take(struct gw_budget *b, double now);
/* A check of `name` ended. */
void gw_budget_result(struct gw_budget *b, const char *name, bool ok, double now);

#endif
