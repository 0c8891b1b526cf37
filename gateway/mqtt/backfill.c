/* SPDX-License-Identifier: MIT */
/* gateway/mqtt/backfill.c - [mqtt] backfill: every history sample of each
 * unit on P/NAME/history, once, oldest first, QoS 1; after an outage of
 * the broker the ones it missed first.
 *
 * The history (a sibling output) takes its samples as always, connected
 * or not.  Each unit's samples after the last one sent (backfill.h: the
 * cursor; while connected its range follows the clock, after an outage it
 * reaches the reconnection) are read from the history through
 * gw->hist_src (model/histsrc.h: its worker thread reads the file, the
 * answer comes back on the loop, BF_FETCH samples at a time) and
 * published oldest first, QoS 1, one JSON object a message, at most
 * backfill_rate a second (a timer, BF_PERIOD) and BF_WINDOW unacknowledged
 * at most; a unit's `acked` moves on the broker's PUBACK only.  The live
 * states go on meanwhile: the backfill is a second stream that holds back
 * while the broker lags (mq_lag), never the other way round, and a
 * Modbus client never waits for any of it (nothing here blocks).
 *
 * A connection that dies silently loses nothing: what was published into
 * it stays unacknowledged with libmosquitto, which sends it again after
 * the reconnection (so does a message published as it failed: bf_send
 * counts it in flight), and the rest follows from the cursor.  Limits: the
 * cursors live in the client (a restart of the daemon, or a reload that
 * restarts the MQTT client, starts them at that moment).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../core/util.h"
#include "mqtt_int.h"

/* A question to the history: the client may be gone when it is answered. */
struct bf_ticket {
	struct gw_mqtt *m;             /* NULL: closed meanwhile */
	int unit;
	char name[CONF_NAME_MAX];
	int64_t upto;
};

static int64_t wall_now(const struct gw_mqtt *m)
{
	return (int64_t)floor(ev_now(m->gw->loop));
}

static void bf_answer(void *arg, int status, char *text, size_t len)
{
	struct bf_ticket *t = arg;
	struct gw_mqtt *m = t->m;
	if (!m) {
		free(text);
		free(t);
		return;
	}
	struct mq_bf *b = &m->bf;
	b->ticket = NULL;
	struct bf_unit *u = &b->units[t->unit];
	if (status != 200 || strcmp(u->name, t->name) != 0) {
		free(text);
		if (status != 200)
			b->retry_at = gw_mono() + 1.0; /* the database is not open: later */
	} else {
		bf_unit_answer(u, text, len);
		if (t->upto != u->upto) {
			u->exhausted = false; /* connected again meanwhile: the range grew */
			u->left = -1;
		}
	}
	free(t);
}

/* A question for the next unit that wants samples (one at a time). */
static void bf_ask(struct gw_mqtt *m)
{
	struct mq_bf *b = &m->bf;
	const struct gw_hist_source *src = &m->gw->hist_src;
	if (b->ticket || !src->ctx || gw_mono() < b->retry_at)
		return;
	for (int k = 0; k < BF_UNITS; k++) {
		int i = (b->ask_rr + k) % BF_UNITS;
		struct bf_unit *u = &b->units[i];
		if (!bf_unit_wants(u))
			continue;
		struct bf_ticket *t = calloc(1, sizeof(*t));
		if (!t)
			return;
		*t = (struct bf_ticket){ .m = m, .unit = i, .upto = u->upto };
		memcpy(t->name, u->name, sizeof(t->name));
		if (src->samples(src->ctx, u->name, u->sent, u->upto, BF_FETCH, bf_answer, t) != 0) {
			free(t);
			return;
		}
		b->ticket = t;
		b->ask_rr = i + 1;
		return;
	}
}

/* Publish one buffered sample of unit i; false if it could not go. */
static bool bf_send(struct gw_mqtt *m, int i)
{
	struct bf_unit *u = &m->bf.units[i];
	int64_t ts;
	const char *json;
	if (!bf_unit_peek(u, &ts, &json))
		return false;
	char topic[400];
	snprintf(topic, sizeof(topic), "%s/%s/history", mq_prefix(m), u->name);
	int mid = 0, rc;
	m->pending++;
	/* in flight also when the connection failed under it: libmosquitto
	 * sends it again after the reconnection (sending it from the cursor
	 * too made it twice) */
	if (!gw_mqs_publish(&m->sess, &mid, topic, json, strlen(json), 1, false, &rc)) {
		if (m->pending)
			m->pending--;
		gw_debug("mqtt: backfill %s: %s", topic, mosquitto_strerror(rc));
		return false;
	}
	m->queued += strlen(json) + strlen(topic) + 8;
	bf_window_add(&m->bf.win, mid, i, ts);
	bf_unit_pop(u);
	m->bf.sent_total++;
	return true;
}

/* Samples buffered, of every unit. */
static int bf_buffered(const struct mq_bf *b)
{
	int n = 0;
	for (int i = 0; i < BF_UNITS; i++)
		n += b->units[i].nbuf;
	return n;
}

static bool bf_owed(const struct mq_bf *b)
{
	for (int i = 0; i < BF_UNITS; i++)
		if (b->units[i].name[0] && !bf_unit_idle(&b->units[i], bf_window_of(&b->win, i)))
			return true;
	return false;
}

/* Ask the history, send what the rate, the window and the broker's lag
 * allow, unit after unit; the number sent. */
static int bf_pump(struct gw_mqtt *m, double now)
{
	struct mq_bf *b = &m->bf;
	bf_ask(m);
	int room = BF_WINDOW - b->win.n;
	int buffered = bf_buffered(b);
	if (mq_lag(m) > QUEUE_MAX / 2)
		room = 0; /* the broker lags: the live states first */
	int n = bf_pace_take(&b->pace, now, room < buffered ? room : buffered);
	for (int k = 0; k < n; k++) {
		bool sent = false;
		for (int j = 0; j < BF_UNITS && !sent; j++) {
			int i = (b->send_rr + j) % BF_UNITS;
			if (b->units[i].nbuf && bf_send(m, i)) {
				b->send_rr = i + 1;
				sent = true;
			}
		}
		if (!sent)
			break;
	}
	bf_ask(m); /* a unit whose buffer just ran out */
	return n;
}

/* The pacing timer. */
static void bf_run(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	struct gw_mqtt *m = container_of(w, struct gw_mqtt, bf.timer);
	struct mq_bf *b = &m->bf;
	if (!mq_up(m) || !m->cfg.backfill || (!bf_buffered(b) && !m->gw->hist_src.ctx)) {
		ev_timer_stop(loop, w); /* the tick starts it again */
		return;
	}
	double now = gw_mono();
	if (now < b->settle_until)
		return;
	if (bf_pump(m, now))
		mq_set_events(m);
	if (!bf_owed(b))
		ev_timer_stop(loop, w);
}

void mq_bf_init(struct gw_mqtt *m)
{
	ev_init(&m->bf.timer, bf_run);
	bf_pace_init(&m->bf.pace, m->cfg.backfill_rate, gw_mono());
}

/* The units: every pack and the bank, kept by name across a reload. */
void mq_bf_sync(struct gw_mqtt *m)
{
	struct mq_bf *b = &m->bf;
	const struct gw *gw = m->gw;
	const char *names[BF_UNITS];
	int n = 0;
	for (int i = 0; i < gw->npacks; i++)
		names[n++] = gw->packs[i]->cfg->name;
	if (gw->conf->bank.enabled)
		names[n++] = "bank";
	for (int i = 0; i < BF_UNITS; i++) {
		bool keep = false;
		for (int k = 0; k < n && !keep; k++)
			keep = b->units[i].name[0] && strcmp(b->units[i].name, names[k]) == 0;
		if (!keep) {
			bf_unit_free(&b->units[i]);
			b->units[i].name[0] = '\0';
		}
	}
	for (int k = 0; k < n; k++) {
		int free_slot = -1;
		bool found = false;
		for (int i = 0; i < BF_UNITS && !found; i++) {
			found = b->units[i].name[0] && strcmp(b->units[i].name, names[k]) == 0;
			if (!b->units[i].name[0] && free_slot < 0)
				free_slot = i;
		}
		if (!found && free_slot >= 0)
			bf_unit_start(&b->units[free_slot], names[k], wall_now(m));
	}
}

/* A reload gave the client its keys: the rate, and a backfill switched on
 * starts from now (what it did not track before is not owed). */
void mq_bf_reloaded(struct gw_mqtt *m, bool was_on)
{
	bf_pace_init(&m->bf.pace, m->cfg.backfill_rate, gw_mono());
	if (m->cfg.backfill && !was_on)
		for (int i = 0; i < BF_UNITS; i++)
			if (m->bf.units[i].name[0])
				bf_unit_start(&m->bf.units[i], m->bf.units[i].name, wall_now(m));
}

void mq_bf_connected(struct gw_mqtt *m)
{
	struct mq_bf *b = &m->bf;
	int64_t now = wall_now(m);
	for (int i = 0; i < BF_UNITS; i++)
		if (b->units[i].name[0])
			bf_unit_reconnected(&b->units[i], now);
	b->settle_until = gw_mono() + BF_SETTLE;
	bf_pace_init(&b->pace, m->cfg.backfill_rate, gw_mono());
}

void mq_bf_lost(struct gw_mqtt *m)
{
	ev_timer_stop(m->gw->loop, &m->bf.timer);
}

/* From libmosquitto's on_publish (inside its read; io_cb sets the write
 * interest after it): the window has room again, and what the rate
 * allows goes now rather than at the next turn (a high rate is not held
 * to BF_WINDOW a turn). */
void mq_bf_acked(struct gw_mqtt *m, int mid)
{
	if (!bf_window_ack(&m->bf.win, mid, m->bf.units, BF_UNITS))
		return;
	m->bf.acked_total++;
	if (mq_up(m) && m->cfg.backfill && ev_is_active(&m->bf.timer) && gw_mono() >= m->bf.settle_until)
		bf_pump(m, gw_mono());
}

/* Once a second while connected: each unit's range follows the history,
 * and the timer runs while something is owed. */
void mq_bf_tick(struct gw_mqtt *m)
{
	struct mq_bf *b = &m->bf;
	int64_t now = wall_now(m);
	for (int i = 0; i < BF_UNITS; i++) {
		struct bf_unit *u = &b->units[i];
		if (!u->name[0])
			continue;
		if (!m->cfg.backfill)
			bf_unit_start(u, u->name, now); /* off: nothing owed */
		else
			bf_unit_follow(u, now, m->gw->hist_src.interval);
	}
	if (m->cfg.backfill && bf_owed(b) && !ev_is_active(&b->timer) && (m->gw->hist_src.ctx || bf_buffered(b))) {
		ev_timer_set(&b->timer, BF_PERIOD, BF_PERIOD);
		ev_timer_start(m->gw->loop, &b->timer);
	}
}

void mq_bf_close(struct gw_mqtt *m)
{
	struct mq_bf *b = &m->bf;
	ev_timer_stop(m->gw->loop, &b->timer);
	if (b->ticket)
		b->ticket->m = NULL; /* its answer frees it */
	b->ticket = NULL;
	for (int i = 0; i < BF_UNITS; i++)
		bf_unit_free(&b->units[i]);
}

int64_t mq_bf_backlog(const struct gw_mqtt *m, int unit)
{
	const struct mq_bf *b = &m->bf;
	if (!m->cfg.backfill)
		return 0;
	double interval = m->gw->hist_src.interval;
	int64_t until = mq_up(m) ? 0 : wall_now(m);
	int64_t n = 0;
	for (int i = 0; i < BF_UNITS; i++)
		if (b->units[i].name[0] && (unit < 0 || unit == i))
			n += bf_unit_backlog(&b->units[i], bf_window_of(&b->win, i), interval, until);
	return n;
}
