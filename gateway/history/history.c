/* SPDX-License-Identifier: MIT */
/* gateway/history/history.c - samples in SQLite: the loop side.
 *
 * An ev_periodic takes one sample of every unit each interval (aligned to
 * the wall clock) and appends it to a queue; queries of the status page are
 * queued too; an ev_async brings their answers and the worker's messages
 * back to the loop.  The loop never touches the database and never waits
 * for the worker (store.c), except at gw_history_free().
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/bankstate.h"
#include "../model/gw.h"
#include "../model/strings_gw.h"
#include "history_int.h"
#include "../core/log.h"
#include "../core/statedir.h"
#include "../core/util.h"

#define QUEUE_MAX 100000          /* samples waiting for the worker before the oldest are dropped */

const struct conf_history *gw_history_conf(const struct gw_history *h)
{
	return &h->cfg;
}

static void deliver(struct gw_history *h)
{
	pthread_mutex_lock(&h->mu);
	struct hmsg *msgs = h->msgs;
	h->msgs = NULL;
	h->msgs_tail = &h->msgs;
	struct gw_hquery *done = h->done;
	h->done = NULL;
	h->done_tail = &h->done;
	pthread_mutex_unlock(&h->mu);
	while (msgs) {
		struct hmsg *m = msgs;
		msgs = m->next;
		gw_log(m->level, "%s", m->text);
		free(m);
	}
	while (done) {
		struct gw_hquery *q = done;
		done = q->next;
		if (q->kind == HQ_SAMPLES)
			q->rcb(q->arg, q->r.status, q->r.text, q->r.len); /* always: takes r.text */
		else if (!q->canceled && q->cb)
			q->cb(q->arg, &q->r); /* takes r.text */
		else
			free(q->r.text);
		free(q);
	}
}

/* Histories retired by a reload whose worker is still writing what they
 * held: reaped from the loop when their worker says it is done. */
static struct gw_history *retired;

static void reap(struct gw_history *h)
{
	for (struct gw_history **pp = &retired; *pp; pp = &(*pp)->next_retired)
		if (*pp == h) {
			*pp = h->next_retired;
			break;
		}
	h->retiring = false;
	gw_history_free(h); /* the worker has returned or is returning: the join is immediate */
}

static void wake_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_history *h = container_of(w, struct gw_history, wake);
	deliver(h);
	if (h->retiring) {
		pthread_mutex_lock(&h->mu);
		bool exited = h->exited;
		pthread_mutex_unlock(&h->mu);
		if (exited)
			reap(h);
	}
}

/* No more samples; the worker finishes what it holds and exits. */
static void ask_stop(struct gw_history *h)
{
	ev_periodic_stop(h->gw->loop, &h->sampler);
	pthread_mutex_lock(&h->mu);
	h->stop = true;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->mu);
}

void gw_history_retire(struct gw_history *h)
{
	if (!h)
		return;
	if (!h->started) {
		gw_history_free(h);
		return;
	}
	ask_stop(h);
	h->retiring = true;
	h->next_retired = retired;
	retired = h;
	/* if it exited already, its wakeup is pending and reaps it */
}

void gw_history_reap_all(void)
{
	while (retired)
		reap(retired); /* the daemon stops: waiting for their last writes is fine now */
}

static void enqueue(struct gw_history *h, const struct gw_hsample *s)
{
	if (h->nq == h->capq) {
		size_t nc = h->capq ? h->capq * 2 : 64;
		struct gw_hsample *q = realloc(h->q, nc * sizeof(*q));
		if (!q) {
			h->st.dropped++;
			return;
		}
		h->q = q;
		h->capq = nc;
	}
	h->q[h->nq++] = *s;
}

/* After a round of samples: beyond QUEUE_MAX the worker is stuck (a disk
 * that does not answer), and the oldest are lost, in one move. */
static void trim_queue(struct gw_history *h)
{
	if (h->nq > QUEUE_MAX) {
		size_t drop = h->nq - QUEUE_MAX;
		memmove(h->q, h->q + drop, QUEUE_MAX * sizeof(*h->q));
		h->nq = QUEUE_MAX;
		h->st.dropped += drop;
		if (!h->drop_logged) {
			h->drop_logged = true;
			gw_warn("history: %s: %d samples wait for the disk; the oldest are dropped", h->path, QUEUE_MAX);
		}
	}
	if (h->nq < QUEUE_MAX / 2)
		h->drop_logged = false;
	h->st.queued = h->nq;
}

/* The two SOCs of a unit into its sample: the BMS's while the unit is
 * online, the count while it counts and its uncertainty while it is known
 * (socunit.h). */
static void sample_socs(struct gw_hsample *s, const struct gw_soc_out *o)
{
	if (s->online && isfinite(o->soc_bms)) {
		s->soc_bms = (float)o->soc_bms;
		s->have |= GW_HS_SOC_BMS;
	}
	if (s->online && (o->flags & GW_SOC_F_COUNTING) && isfinite(o->soc_counted)) {
		s->soc_counted = (float)o->soc_counted;
		s->have |= GW_HS_SOC_COUNTED;
		if (isfinite(o->band)) {
			s->soc_band = (float)o->band;
			s->have |= GW_HS_SOC_BAND;
		}
	}
}

/* A unit's current limits into its sample ([limits]): kept while it is not
 * online, where they are the fail-safe zeros the inverters get. */
static void sample_limits(const struct gw *gw, struct gw_hsample *s, const struct gw_limits *l)
{
	if (!gw->conf->limits.enabled)
		return;
	s->ccl = (float)l->ccl_a;
	s->dcl = (float)l->dcl_a;
	s->have |= GW_HS_LIMITS;
}

/* Each string of the bank ([bank] strings) as a unit of its own, named as
 * every output names it ("string1" ...): its values while every member is
 * fresh (the cells and sensors of all its members), its limits. */
static void sample_strings(struct gw_history *h, int64_t ts, const struct gw_bank_view *v)
{
	const struct gw *gw = h->gw;
	for (int k = 0; gw->conf->bank.enabled && k < v->nstrings; k++) {
		const struct gw_string_state *st = &v->strings[k];
		struct gw_hsample s;
		char name[16];
		gw_string_name(k, name, sizeof(name));
		gw_history_sample(&s, ts, name, st->fresh, &st->snap, NULL);
		s.have &= ~(uint32_t)(GW_HS_CELLS | GW_HS_TEMPS); /* the snapshot's are members' means */
		if (st->fresh && st->cell_min_at.member) {
			s.have |= GW_HS_CELLS;
			s.cell_min = st->cell_min_mv;
			s.cell_max = st->cell_max_mv;
			s.cell_delta = (float)(st->cell_max_mv - st->cell_min_mv);
		}
		if (st->fresh && st->tmin_at.member) {
			s.have |= GW_HS_TEMPS;
			s.temp_min = st->tmin_c;
			s.temp_max = st->tmax_c;
		}
		sample_limits(gw, &s, &gw->string_lim[k]);
		enqueue(h, &s);
	}
}

static void sample_cb(struct ev_loop *loop, ev_periodic *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_history *h = container_of(w, struct gw_history, sampler);
	struct gw *gw = h->gw;
	int64_t ts = (int64_t)floor(ev_now(loop) + 0.5);
	struct gw_hsample s;
	struct gw_soc_out so;
	double now = gw_mono();
	const struct gw_bank_view *v = gw_bank_at(gw, now); /* before the worker is held up */
	pthread_mutex_lock(&h->mu);
	for (int i = 0; i < gw->npacks; i++) {
		const struct gw_pack *p = gw->packs[i];
		bool online = p->have_data && gw_pack_online(gw, p);
		gw_history_sample(&s, ts, p->cfg->name, online, &p->snap, NULL);
		if (!h->cfg.cells)
			s.have &= ~(uint32_t)(GW_HS_CELL_MV | GW_HS_BALANCE);
		gw_soc_pack_out(gw, p, now, &so);
		sample_socs(&s, &so);
		sample_limits(gw, &s, &p->lim);
		enqueue(h, &s);
	}
	if (gw->conf->bank.enabled) {
		gw_history_sample(&s, ts, "bank", v->bank.online > 0, &v->bank.snap, &v->bank);
		gw_bank_counted(v, now, &so);
		sample_socs(&s, &so);
		sample_limits(gw, &s, &gw->bank_lim);
		enqueue(h, &s);
	}
	sample_strings(h, ts, v);
	trim_queue(h);
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->mu);
}

struct gw_history *gw_history_new(struct gw *gw)
{
	struct gw_history *h = calloc(1, sizeof(*h));
	if (!h) {
		gw_err("history: out of memory");
		return NULL;
	}
	h->gw = gw;
	h->cfg = *gw_history_cfg(gw->conf);
	gw_history_path(&h->cfg, h->path, sizeof(h->path));
	snprintf(h->st.path, sizeof(h->st.path), "%s", h->path);
	h->jobs_tail = &h->jobs;
	h->done_tail = &h->done;
	h->msgs_tail = &h->msgs;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cond, NULL);
	ev_async_init(&h->wake, wake_cb);
	ev_async_start(gw->loop, &h->wake);
	if (gw_hist_automatic(&h->cfg))
		gw_state_dir_prepare(); /* started by hand: nobody made /var/lib/bmsgw */
	int rc = pthread_create(&h->thread, NULL, gw_hist_worker, h);
	if (rc != 0) {
		gw_err("history: cannot start its thread: %s", strerror(rc));
		ev_async_stop(gw->loop, &h->wake);
		pthread_mutex_destroy(&h->mu);
		pthread_cond_destroy(&h->cond);
		free(h);
		return NULL;
	}
	h->started = true;
	ev_periodic_init(&h->sampler, sample_cb, 0., h->cfg.interval, NULL);
	ev_periodic_start(gw->loop, &h->sampler);
	return h;
}

void gw_history_free(struct gw_history *h)
{
	if (!h)
		return;
	ask_stop(h);
	if (h->started)
		pthread_join(h->thread, NULL);
	/* the last messages; answers nobody waits for any more are dropped */
	struct gw_hquery *done = h->done;
	h->done = NULL;
	h->done_tail = &h->done; /* else the first one re-queued went after the old last, out of reach */
	while (done) {
		struct gw_hquery *q = done;
		done = q->next;
		q->canceled = q->kind != HQ_SAMPLES; /* whose answers always come */
		q->next = NULL;
		*h->done_tail = q; /* re-queue for deliver(), which frees it */
		h->done_tail = &q->next;
	}
	deliver(h);
	ev_async_stop(h->gw->loop, &h->wake);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cond);
	free(h->q);
	free(h);
}

void gw_history_stats(struct gw_history *h, struct gw_history_stats *out)
{
	pthread_mutex_lock(&h->mu);
	*out = h->st;
	pthread_mutex_unlock(&h->mu);
}

static struct gw_hquery *submit(struct gw_history *h, struct gw_hquery *q)
{
	pthread_mutex_lock(&h->mu);
	*h->jobs_tail = q;
	h->jobs_tail = &q->next;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->mu);
	return q;
}

/* unit is a pack, the bank or a string of the running configuration (on
 * the loop) */
static bool unit_known(const struct gw *gw, const char *unit)
{
	if (gw->conf->bank.enabled && strcmp(unit, "bank") == 0)
		return true;
	for (int k = 0; gw->conf->bank.enabled && k < gw->conf->bank.nstrings; k++) {
		char name[16];
		gw_string_name(k, name, sizeof(name));
		if (strcmp(unit, name) == 0)
			return true;
	}
	for (int i = 0; i < gw->npacks; i++)
		if (strcmp(gw->packs[i]->cfg->name, unit) == 0)
			return true;
	return false;
}

static struct gw_hquery *query_new(const struct gw_history *h, enum hq_kind kind, const char *unit, int64_t from,
				   int64_t to, gw_history_cb cb, void *arg)
{
	struct gw_hquery *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->kind = kind;
	snprintf(q->unit, sizeof(q->unit), "%s", unit);
	q->known = unit_known(h->gw, unit);
	q->from = from;
	q->to = to;
	q->cb = cb;
	q->arg = arg;
	return q;
}

struct gw_hquery *gw_history_chart(struct gw_history *h, const char *unit, int64_t from, int64_t to, int points,
				   bool cells, gw_history_cb cb, void *arg)
{
	struct gw_hquery *q = query_new(h, HQ_CHART, unit, from, to, cb, arg);
	if (!q)
		return NULL;
	q->limit = points;
	q->cells = cells;
	return submit(h, q);
}

struct gw_hquery *gw_history_csv(struct gw_history *h, const char *unit, int64_t from, int64_t to, int64_t step,
				 int64_t after, int rows, gw_history_cb cb, void *arg)
{
	struct gw_hquery *q = query_new(h, HQ_CSV, unit, from, to, cb, arg);
	if (!q)
		return NULL;
	q->step = step;
	q->after = after;
	q->limit = rows;
	return submit(h, q);
}

int gw_history_samples(struct gw_history *h, const char *unit, int64_t after, int64_t upto, int max,
		       gw_hist_rows_cb cb, void *arg)
{
	struct gw_hquery *q = query_new(h, HQ_SAMPLES, unit, after, upto, NULL, arg);
	if (!q)
		return -1;
	q->rcb = cb;
	q->limit = max;
	submit(h, q);
	return 0;
}

void gw_history_cancel(struct gw_hquery **handle)
{
	struct gw_hquery *q = *handle;
	*handle = NULL;
	if (q)
		q->canceled = true;
}
