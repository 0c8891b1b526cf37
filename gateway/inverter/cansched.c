/* SPDX-License-Identifier: MIT */
/* gateway/inverter/cansched.c - the timing of a scheduled CAN codec (codec.h
 * `periods`: byd-hvs-can, sungrow-can, sofar-can, growatt-hv-can,
 * growatt-wit-can, sma-hv-can, schneider-can): which of its frames (of the
 * dialect's mode) are due when, and the queue of one whose frames keep a gap
 * between them (sma-hv-can's byd-hvs variant, 250 ms).  Pure: the output's
 * timer (invcan.c) and the tests' fake clock drive it alike. */
#include <string.h>

#include "codec.h"

/* Does frame i of a scheduled codec go in mode? */
static bool in_mode(const struct inv_can_codec *c, size_t i, uint8_t mode)
{
	return !c->periods[i].modes || (mode < 8 && (c->periods[i].modes & (1u << mode)));
}

size_t inv_can_sched(const struct inv_can_codec *c, double *due, bool urgent, double now, uint8_t mode, uint8_t *pick,
		     double *next)
{
	size_t n = 0;
	bool any = false;
	*next = now;
	for (size_t i = 0; c->periods && i < c->nframes && i < INV_CAN_MAX_FRAMES; i++) {
		bool in = in_mode(c, i, mode), is_due = now >= due[i];
		if (in && (is_due || (urgent && c->periods[i].at_once)))
			pick[n++] = (uint8_t)i;
		if (is_due) { /* (a frame of another mode keeps its beat: it joins in time with the others) */
			due[i] += c->periods[i].s;
			if (due[i] <= now) /* behind (a blocked loop): from now on, no burst */
				due[i] = now + c->periods[i].s;
		} /* (out of turn: its schedule stays) */
		if (in && (!any || due[i] < *next))
			*next = due[i];
		any = any || in;
	}
	return n;
}

void inv_can_sched_start(const struct inv_can_codec *c, struct inv_can_sched *s, double now)
{
	for (size_t i = 0; i < c->nframes && i < INV_CAN_MAX_FRAMES; i++)
		s->due[i] = now;
	s->nqueue = 0;
}

/* Queue fn once: at the tail, or at the head (moved there when it waits
 * already). */
static void enqueue(struct inv_can_sched *s, const struct inv_can_frame_fn *fn, bool head)
{
	size_t at = s->nqueue;
	for (size_t i = 0; i < s->nqueue; i++)
		if (s->queue[i] == fn) {
			at = i;
			break;
		}
	if (at == s->nqueue) {
		if (s->nqueue >= INV_CAN_MAX_FRAMES)
			return;
		if (!head) {
			s->queue[s->nqueue++] = fn;
			return;
		}
		s->nqueue++;
	} else if (!head) {
		return;
	}
	memmove(&s->queue[1], &s->queue[0], at * sizeof(s->queue[0]));
	s->queue[0] = fn;
}

size_t inv_can_sched_step(const struct inv_can_codec *c, struct inv_can_sched *s, bool ident, bool urgent, double now,
			  uint8_t mode, double last, const struct inv_can_frame_fn **go, double *next)
{
	uint8_t pick[INV_CAN_MAX_FRAMES];
	double gap = c->gap_ms / 1000.0;
	for (size_t i = 0; ident && i < c->nident; i++)
		enqueue(s, &c->ident[i], false);
	size_t n = inv_can_sched(c, s->due, urgent, now, mode, pick, next);
	for (size_t k = 0; k < n; k++)
		if (!(urgent && c->periods[pick[k]].at_once))
			enqueue(s, &c->frames[pick[k]], false);
	for (size_t k = n; k-- > 0;) /* out of turn: ahead of the others, in their own order */
		if (urgent && c->periods[pick[k]].at_once)
			enqueue(s, &c->frames[pick[k]], true);
	size_t out = 0;
	if (gap <= 0 || last <= 0 || now - last >= gap)
		while (s->nqueue > 0 && (gap <= 0 || out == 0)) {
			go[out++] = s->queue[0];
			memmove(&s->queue[0], &s->queue[1], --s->nqueue * sizeof(s->queue[0]));
		}
	if (gap > 0 && s->nqueue > 0) { /* the next of the queue when the gap allows */
		double t = (out ? now : last) + gap;
		if (t < *next)
			*next = t;
	}
	return out;
}
