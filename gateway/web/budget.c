/* SPDX-License-Identifier: MIT */
/* gateway/web/budget.c - the password checks' budget (see budget.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "budget.h"

void gw_budget_init(struct gw_budget *b, double now)
{
	memset(b, 0, sizeof(*b));
	b->tokens = BUDGET_BURST;
	b->at = now;
}

static double tokens_at(const struct gw_budget *b, double now)
{
	double t = b->tokens + (now > b->at ? now - b->at : 0) * BUDGET_RATE;
	return t > BUDGET_BURST ? BUDGET_BURST : t;
}

/* The slot of `name` with failures not yet forgotten, or -1. */
static int find(const struct gw_budget *b, const char *name, double now)
{
	for (int i = 0; i < BUDGET_NAMES; i++) {
		const struct budget_name *n = &b->names[i];
		if (n->name[0] && strncmp(n->name, name, sizeof(n->name) - 1) == 0)
			return now - n->last > NAME_FORGET ? -1 : i;
	}
	return -1;
}

double gw_budget_ready(const struct gw_budget *b, const char *name, double now)
{
	double t = tokens_at(b, now);
	double at = t >= 1.0 ? now : now + (1.0 - t) / BUDGET_RATE;
	int i = find(b, name, now);
	return i >= 0 && b->names[i].until > at ? b->names[i].until : at;
}

int gw_budget_failures(const struct gw_budget *b, const char *name, double now)
{
	int i = find(b, name, now);
	return i >= 0 ? b->names[i].failures : 0;
}

void gw_budget_take(struct gw_budget *b, double now)
{
	b->tokens = tokens_at(b, now) - 1.0;
	b->at = now;
}

/* The slot of `name`: its own, a free one, or the one quiet longest. */
static struct budget_name *slot(struct gw_budget *b, const char *name)
{
	struct budget_name *old = &b->names[0];
	for (int i = 0; i < BUDGET_NAMES; i++) {
		struct budget_name *n = &b->names[i];
		if (n->name[0] && strncmp(n->name, name, sizeof(n->name) - 1) == 0)
			return n;
		if (!n->name[0] || (old->name[0] && n->last < old->last))
			old = n;
	}
	memset(old, 0, sizeof(*old));
	snprintf(old->name, sizeof(old->name), "%s", name);
	return old;
}

void gw_budget_result(struct gw_budget *b, const char *name, bool ok, double now)
{
	if (ok) {
		int i = find(b, name, now);
		if (i >= 0)
			memset(&b->names[i], 0, sizeof(b->names[i])); /* a good login ends the name's run */
		return;
	}
	struct budget_name *n = slot(b, name);
	if (now - n->last > NAME_FORGET)
		n->failures = 0;
	n->failures++;
	int delay = n->failures >= 5 ? NAME_DELAY_MAX : 1 << (n->failures - 1);
	n->last = now;
	n->until = now + (delay > NAME_DELAY_MAX ? NAME_DELAY_MAX : delay);
}

/* FNV-1a: the address counted last, for a name (a collision only merges
 * two addresses' asks). */
static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static double faded(const struct budget_asks *k, double now)
{
	return k->n * exp(-(now > k->at ? now - k->at : 0) / NAME_ASKS_TAU);
}

/* The slot of `name`'s asks: its own, a free one, or the one asked least
 * (a flood of asks at new names pushes out the least asked, never the
 * names asked most). */
static struct budget_asks *asks_slot(struct gw_budget *b, const char *name, double now)
{
	struct budget_asks *least = NULL;
	double least_n = 0;
	for (int i = 0; i < BUDGET_NAMES; i++) {
		struct budget_asks *k = &b->asks[i];
		if (k->name[0] && strncmp(k->name, name, sizeof(k->name) - 1) == 0)
			return k;
		double n = k->name[0] ? faded(k, now) : -1;
		if (!least || n < least_n) {
			least = k;
			least_n = n;
		}
	}
	memset(least, 0, sizeof(*least));
	snprintf(least->name, sizeof(least->name), "%s", name);
	least->at = now;
	return least;
}

void gw_budget_asked(struct gw_budget *b, const char *name, const char *from, double now)
{
	struct budget_asks *k = asks_slot(b, name, now);
	unsigned h = hash(from);
	if (k->n > 0 && k->from == h)
		return; /* the same address again: a browser's requests, a retry */
	k->n = faded(k, now) + 1;
	k->at = now;
	k->from = h;
}

double gw_budget_load(const struct gw_budget *b, const char *name, double now)
{
	double n = gw_budget_failures(b, name, now);
	for (int i = 0; i < BUDGET_NAMES; i++) {
		const struct budget_asks *k = &b->asks[i];
		if (k->name[0] && strncmp(k->name, name, sizeof(k->name) - 1) == 0)
			return n + faded(k, now);
	}
	return n;
}
