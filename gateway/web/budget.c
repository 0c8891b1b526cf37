/* SPDX-License-Identifier: MIT */
/* gateway/web/budget.c - the password checks' budget (see budget.h). */
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
