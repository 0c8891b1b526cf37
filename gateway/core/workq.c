/* SPDX-License-Identifier: MIT */
/* gateway/core/workq.c - one thread and its queue of tasks (workq.h). */
#include "workq.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

struct gw_workq {
	struct ev_loop *loop;
	ev_async wake;                 /* thread -> loop: tasks run */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	struct gw_task *todo, *todo_tail;
	struct gw_task *fin, *fin_tail; /* run, their done owed */
	bool stop;                     /* gw_workq_free(): the tasks queued still run */
	bool abandoned;                /* gw_workq_abandon(): the thread frees the queue */
};

static void drop(struct gw_task *t)
{
	if (t->drop)
		t->drop(t);
	else
		free(t);
}

static void drop_all(struct gw_task *t)
{
	while (t) {
		struct gw_task *next = t->next;
		drop(t);
		t = next;
	}
}

/* t run, its done owed to the loop (under mu). */
static void finished(struct gw_workq *q, struct gw_task *t)
{
	if (q->abandoned) {
		drop(t);
		return;
	}
	t->next = NULL;
	if (q->fin_tail)
		q->fin_tail->next = t;
	else
		q->fin = t;
	q->fin_tail = t;
	ev_async_send(q->loop, &q->wake);
}

static void *work(void *arg)
{
	struct gw_workq *q = arg;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->todo && !q->stop && !q->abandoned)
			pthread_cond_wait(&q->cv, &q->mu);
		struct gw_task *t = q->abandoned ? NULL : q->todo;
		if (!t)
			break;
		q->todo = t->next;
		if (!q->todo)
			q->todo_tail = NULL;
		bool back = t->done != NULL;
		pthread_mutex_unlock(&q->mu);
		t->run(t);
		pthread_mutex_lock(&q->mu);
		if (back)
			finished(q, t);
	}
	bool abandoned = q->abandoned;
	pthread_mutex_unlock(&q->mu);
	if (abandoned) { /* the loop is gone from this queue: its end is ours */
		drop_all(q->todo);
		pthread_mutex_destroy(&q->mu);
		pthread_cond_destroy(&q->cv);
		free(q);
	}
	return NULL;
}

/* The tasks run: their second half, on the loop. */
static void deliver(struct gw_workq *q)
{
	pthread_mutex_lock(&q->mu);
	struct gw_task *t = q->fin;
	q->fin = q->fin_tail = NULL;
	pthread_mutex_unlock(&q->mu);
	while (t) {
		struct gw_task *next = t->next;
		t->done(t);
		t = next;
	}
}

static void wake_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)loop;
	(void)revents;
	deliver(container_of(w, struct gw_workq, wake));
}

struct gw_workq *gw_workq_new(struct ev_loop *loop, char *why, size_t cap)
{
	struct gw_workq *q = calloc(1, sizeof(*q));
	if (!q) {
		snprintf(why, cap, "out of memory");
		return NULL;
	}
	q->loop = loop;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	if (loop) {
		ev_async_init(&q->wake, wake_cb);
		ev_async_start(loop, &q->wake);
	}
	int e = pthread_create(&q->thread, NULL, work, q);
	if (e != 0) {
		snprintf(why, cap, "%s", strerror(e));
		if (loop)
			ev_async_stop(loop, &q->wake);
		pthread_cond_destroy(&q->cv);
		pthread_mutex_destroy(&q->mu);
		free(q);
		return NULL;
	}
	return q;
}

void gw_workq_post(struct gw_workq *q, struct gw_task *t)
{
	t->next = NULL;
	pthread_mutex_lock(&q->mu);
	if (q->todo_tail)
		q->todo_tail->next = t;
	else
		q->todo = t;
	q->todo_tail = t;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

/* Told to stop: the tasks queued still run (a write begun is finished). */
static void tell_stop(struct gw_workq *q)
{
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

/* The thread joined: the dones owed, the queue freed. */
static void finish(struct gw_workq *q)
{
	if (q->loop) {
		ev_async_stop(q->loop, &q->wake);
		deliver(q);
	}
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

void gw_workq_free(struct gw_workq *q)
{
	if (!q)
		return;
	tell_stop(q);
	pthread_join(q->thread, NULL);
	finish(q);
}

bool gw_workq_free_within(struct gw_workq *q, double limit)
{
	if (!q)
		return true;
	tell_stop(q);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until); /* pthread_timedjoin_np()'s clock */
	until.tv_sec += (time_t)limit;
	if (pthread_timedjoin_np(q->thread, NULL, &until) != 0) {
		gw_workq_abandon(q); /* the task that waits finishes, if ever, on its thread, which then ends */
		return false;
	}
	finish(q);
	return true;
}

void gw_workq_abandon(struct gw_workq *q)
{
	if (!q)
		return;
	if (q->loop)
		ev_async_stop(q->loop, &q->wake);
	pthread_t thread = q->thread; /* q may be gone once it is unlocked */
	pthread_mutex_lock(&q->mu);
	struct gw_task *fin = q->fin;
	q->fin = q->fin_tail = NULL;
	q->abandoned = true; /* the thread frees q and what it holds */
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_detach(thread);
	drop_all(fin);
}
