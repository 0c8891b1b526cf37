/* SPDX-License-Identifier: MIT */
/* gateway/engine/wbudget.c - a pack's budget of BMS settings writes (wbudget.h). */
#include "wbudget.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Forget what left the window; a time ahead of now counts as now. */
static void expire(struct gw_wbudget *b, int64_t now)
{
	int keep = 0;
	for (int i = 0; i < b->n; i++) {
		int64_t t = b->at[i] > now ? now : b->at[i];
		if (now - t < GW_WBUDGET_WINDOW)
			b->at[keep++] = t;
	}
	b->n = keep;
}

long gw_wbudget_wait(struct gw_wbudget *b, int per_day, int64_t now)
{
	expire(b, now);
	if (per_day < 1)
		per_day = 1;
	if (b->n < per_day)
		return 0;
	/* the write whose leaving the window brings the count under per_day */
	int64_t w = b->at[b->n - per_day] + GW_WBUDGET_WINDOW - now;
	return w < 1 ? 1 : (long)w;
}

void gw_wbudget_spend(struct gw_wbudget *b, int64_t now)
{
	expire(b, now);
	if (b->n == GW_WBUDGET_MAX) {
		memmove(b->at, b->at + 1, sizeof(b->at[0]) * (size_t)(GW_WBUDGET_MAX - 1));
		b->n--;
	}
	b->at[b->n++] = now;
}

size_t gw_wbudget_format(const struct gw_wbudget *b, char *out, size_t cap)
{
	size_t len = 0;
	if (cap)
		out[0] = '\0';
	for (int i = 0; i < b->n; i++) {
		int w = snprintf(out + len, cap - len, "%s%lld", i ? " " : "", (long long)b->at[i]);
		if (w < 0 || (size_t)w >= cap - len) {
			out[len] = '\0';
			break;
		}
		len += (size_t)w;
	}
	return len;
}

void gw_wbudget_parse(struct gw_wbudget *b, const char *text, int64_t now)
{
	b->n = 0;
	const char *s = text;
	while (b->n < GW_WBUDGET_MAX) {
		char *end;
		long long t = strtoll(s, &end, 10); /* (blanks before it skipped) */
		if (end == s || (*end && *end != ' ' && *end != '\t' && *end != '\n'))
			break;
		if (t > 0 && now - t < GW_WBUDGET_WINDOW && (b->n == 0 || t >= b->at[b->n - 1]))
			b->at[b->n++] = t;
		s = end;
	}
	expire(b, now);
}

void gw_wbudget_say(long s, char *out, size_t cap)
{
	if (s >= 3600)
		snprintf(out, cap, "%ld h %ld min", s / 3600, (s % 3600) / 60);
	else if (s >= 60)
		snprintf(out, cap, "%ld min %ld s", s / 60, s % 60);
	else
		snprintf(out, cap, "%ld s", s);
}
