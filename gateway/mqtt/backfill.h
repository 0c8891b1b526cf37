/* SPDX-License-Identifier: MIT */
/* gateway/mqtt/backfill.h - private to the MQTT output: the bookkeeping of
 * the backfill ([mqtt] backfill), pure (bfcore.c: no loop, no broker, the
 * clock given), so that the unit tests drive it on a fake clock.
 *
 * Each unit (a pack, the bank) has a cursor on its history: `acked`, the
 * time of the last sample the broker acknowledged (PUBACK: nothing else
 * moves it), `sent`, the last one handed to libmosquitto, and `upto`, the
 * end of the range to send.  While connected `upto` follows the clock, so
 * every sample the history takes is sent once, as it takes it; after an
 * outage the range reaches the reconnection and the missed ones go first.
 * The samples of (sent, upto] not yet sent and those in flight are the
 * backlog (0 or 1 a unit in the steady state).  An outage (a silent one
 * too) leaves the messages in flight with libmosquitto (one published into
 * the failing connection among them: core/mqttsess.h gw_mqs_publish), which
 * sends them again after the reconnection (their acknowledgements advance
 * `acked` then), and the next ones follow from `sent`: nothing twice,
 * nothing lost.
 */
#ifndef GATEWAY_MQTT_BACKFILL_H
#define GATEWAY_MQTT_BACKFILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../conf/conf.h"

#define BF_WINDOW 16          /* backfill messages unacknowledged at most */
#define BF_FETCH 64           /* samples asked of the history at once */
#define BF_PERIOD 0.05        /* s between the pacing timer's turns */
#define BF_SETTLE 1.5         /* s after connecting before the first question: the
                               * sample of the reconnection's second is in the file */
#define BF_UNITS (CONF_MAX_PACKS + 1) /* the packs and the bank */

/* A token bucket: rate messages a second, a burst of one turn's worth and one. */
struct bf_pace {
	double rate;
	double tokens;
	double last;
};
void bf_pace_init(struct bf_pace *p, double rate, double now);
/* How many of `want` messages may go at time now (those are taken). */
int bf_pace_take(struct bf_pace *p, double now, int want);

/* The messages in flight, in the order sent. */
struct bf_flight {
	int mid;
	int unit;
	int64_t ts;
	bool acked;
};
struct bf_window {
	struct bf_flight f[BF_WINDOW];
	int n;
};

struct bf_unit {
	char name[CONF_NAME_MAX];     /* "" = a free slot */
	int64_t acked, sent, upto;    /* see the top of the file */
	int64_t left;                 /* samples of (sent, upto] not yet buffered, as the
	                                 history last counted them; -1 = not asked yet */
	char *rows;                   /* the last answer (malloc'd) ... */
	char *next;                   /* ... and its next line "TS JSON\n", NULL = none */
	int nbuf;                     /* lines left in rows */
	bool exhausted;               /* the history has no more of (sent, upto] */
};

/* Window: false when full; ack: mid acknowledged (false: not one of ours).
 * The acknowledged messages at the front leave it, each advancing its
 * unit's acked (units[], n of them) to its time. */
bool bf_window_add(struct bf_window *w, int mid, int unit, int64_t ts);
bool bf_window_ack(struct bf_window *w, int mid, struct bf_unit *units, int n);
int bf_window_of(const struct bf_window *w, int unit);

/* A unit starts (or backfill is switched on) at time now: nothing owed. */
void bf_unit_start(struct bf_unit *u, const char *name, int64_t now);
/* Nothing owed (the history has no sample after `sent` up to `upto`),
 * nothing buffered, nothing in flight (inflight: its messages in flight). */
bool bf_unit_idle(const struct bf_unit *u, int inflight);
/* Connected, at now: the range follows the history (reaches now once an
 * interval, a second at least, has passed since it last grew). */
void bf_unit_follow(struct bf_unit *u, int64_t now, double interval);
/* Connected again at now: the range reaches now. */
void bf_unit_reconnected(struct bf_unit *u, int64_t now);
/* The history's answer (model/histsrc.h, 200) for a question from `sent`
 * on: buffered (rows taken; count the samples of the range). */
void bf_unit_answer(struct bf_unit *u, char *rows, size_t len);
/* The next buffered sample: its time and JSON (a NUL-terminated line, in
 * the buffer); false when none.  bf_unit_pop() takes it (sent). */
bool bf_unit_peek(const struct bf_unit *u, int64_t *ts, const char **json);
void bf_unit_pop(struct bf_unit *u);
/* Buffer empty, more to ask of the history. */
bool bf_unit_wants(const struct bf_unit *u);
/* The samples not yet acknowledged: counted by the history once asked,
 * else estimated from the interval (s between samples); with those of an
 * outage going on since upto, until now (until: now while disconnected,
 * else 0). */
int64_t bf_unit_backlog(const struct bf_unit *u, int inflight, double interval, int64_t until);
void bf_unit_free(struct bf_unit *u);

#endif
