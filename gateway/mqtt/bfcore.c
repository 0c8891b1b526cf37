/* SPDX-License-Identifier: MIT */
/* gateway/mqtt/bfcore.c - the backfill's bookkeeping (backfill.h): the
 * pacing, the window of messages in flight, each unit's cursor and its
 * buffer of samples.  Pure: the clock is an argument. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backfill.h"

void bf_pace_init(struct bf_pace *p, double rate, double now)
{
	p->rate = rate;
	p->tokens = 0;
	p->last = now;
}

int bf_pace_take(struct bf_pace *p, double now, int want)
{
	/* one turn's worth and one more: the fractions of a turn add up
	 * instead of being cut off at the cap */
	double burst = p->rate * BF_PERIOD + 1;
	if (now > p->last)
		p->tokens += (now - p->last) * p->rate;
	p->last = now;
	if (p->tokens > burst)
		p->tokens = burst;
	int n = (int)p->tokens;
	if (n > want)
		n = want;
	if (n < 0)
		n = 0;
	p->tokens -= n;
	return n;
}

bool bf_window_add(struct bf_window *w, int mid, int unit, int64_t ts)
{
	if (w->n >= BF_WINDOW)
		return false;
	w->f[w->n++] = (struct bf_flight){ .mid = mid, .unit = unit, .ts = ts, .acked = false };
	return true;
}

bool bf_window_ack(struct bf_window *w, int mid, struct bf_unit *units, int n)
{
	int i = 0;
	while (i < w->n && (w->f[i].mid != mid || w->f[i].acked))
		i++;
	if (i == w->n)
		return false;
	w->f[i].acked = true;
	/* the acknowledged ones at the front leave, in the order sent */
	int k = 0;
	while (k < w->n && w->f[k].acked) {
		const struct bf_flight *f = &w->f[k];
		if (f->unit >= 0 && f->unit < n && units[f->unit].name[0] && units[f->unit].acked < f->ts)
			units[f->unit].acked = f->ts;
		k++;
	}
	memmove(w->f, w->f + k, (size_t)(w->n - k) * sizeof(w->f[0]));
	w->n -= k;
	return true;
}

int bf_window_of(const struct bf_window *w, int unit)
{
	int c = 0;
	for (int i = 0; i < w->n; i++)
		c += w->f[i].unit == unit;
	return c;
}

void bf_unit_start(struct bf_unit *u, const char *name, int64_t now)
{
	bf_unit_free(u);
	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", name);
	u->acked = u->sent = u->upto = now;
	u->left = -1;
}

bool bf_unit_idle(const struct bf_unit *u, int inflight)
{
	return u->acked >= u->upto && u->sent >= u->upto && !u->nbuf && !inflight;
}

void bf_unit_covered(struct bf_unit *u, int inflight, int64_t now)
{
	/* the history had nothing more and everything sent is acknowledged */
	if (u->exhausted && !u->nbuf && !inflight) {
		u->acked = u->sent = u->upto;
		u->exhausted = false;
		u->left = -1;
	}
	if (bf_unit_idle(u, inflight) && now > u->upto)
		u->acked = u->sent = u->upto = now;
}

void bf_unit_reconnected(struct bf_unit *u, int64_t now)
{
	if (now > u->upto) {
		u->upto = now;
		u->exhausted = false;
		u->left = -1;
	}
}

void bf_unit_answer(struct bf_unit *u, char *rows, size_t len)
{
	free(u->rows);
	u->rows = rows;
	u->next = NULL;
	u->nbuf = 0;
	if (!rows || !len || rows[len - 1] != '\n') {
		u->left = -1; /* not an answer: asked again */
		return;
	}
	char *nl = strchr(rows, '\n');
	int64_t count = strtoll(rows, NULL, 10);
	*nl = '\0';
	for (char *p = nl + 1; p < rows + len; p++)
		if (*p == '\n') {
			*p = '\0';
			u->nbuf++;
		}
	u->next = u->nbuf ? nl + 1 : NULL;
	u->left = count > u->nbuf ? count - u->nbuf : 0;
	u->exhausted = u->nbuf == 0;
}

bool bf_unit_peek(const struct bf_unit *u, int64_t *ts, const char **json)
{
	if (!u->nbuf || !u->next)
		return false;
	char *end;
	*ts = strtoll(u->next, &end, 10);
	*json = *end == ' ' ? end + 1 : end;
	return true;
}

void bf_unit_pop(struct bf_unit *u)
{
	int64_t ts;
	const char *json;
	if (!bf_unit_peek(u, &ts, &json))
		return;
	u->sent = ts;
	u->nbuf--;
	u->next = u->nbuf ? u->next + strlen(u->next) + 1 : NULL;
	if (!u->nbuf) {
		free(u->rows);
		u->rows = NULL;
		if (u->left == 0 || u->sent >= u->upto)
			u->exhausted = true; /* the history counted no more */
	}
}

bool bf_unit_wants(const struct bf_unit *u)
{
	return u->name[0] && !u->nbuf && !u->exhausted && u->sent < u->upto;
}

static int64_t estimate(int64_t span, double interval)
{
	int64_t est = interval > 0 ? (int64_t)((double)span / interval) : span;
	return est > 0 ? est : 0;
}

int64_t bf_unit_backlog(const struct bf_unit *u, int inflight, double interval, int64_t until)
{
	int64_t n = 0;
	if (bf_unit_idle(u, inflight))
		n = 0;
	else if (u->left >= 0)
		n = u->left + u->nbuf + inflight;
	else
		n = estimate(u->upto - u->sent, interval) + inflight;
	if (until > u->upto)
		n += estimate(until - u->upto, interval); /* the outage going on */
	return n;
}

void bf_unit_free(struct bf_unit *u)
{
	free(u->rows);
	u->rows = u->next = NULL;
	u->nbuf = 0;
}
