/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/worker.c - the setup API's file work on a thread of its
 * own: the configuration read, written with its backups and fsync'ed,
 * secrets, the users file, a certificate made, a configuration checked
 * (which reads the files it names).  An SD card's fsync can take seconds:
 * the loop only hands tasks over and takes them back through an ev_async,
 * in order, one at a time. */
#include <stdlib.h>

#include "../../core/util.h"
#include "../../model/gw.h"
#include "setup_int.h"

static void *run(void *arg)
{
	struct gw_setup *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->todo && !s->stop)
			pthread_cond_wait(&s->cv, &s->mu);
		struct setup_task *t = s->todo;
		if (!t)
			break;
		s->todo = t->next;
		if (!s->todo)
			s->todo_tail = NULL;
		pthread_mutex_unlock(&s->mu);
		t->work(t);
		pthread_mutex_lock(&s->mu);
		t->next = NULL;
		if (s->fin_tail)
			s->fin_tail->next = t;
		else
			s->fin = t;
		s->fin_tail = t;
		ev_async_send(s->gw->loop, &s->wake);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* The tasks done: their second half, on the loop. */
static void finish(struct gw_setup *s)
{
	pthread_mutex_lock(&s->mu);
	struct setup_task *t = s->fin;
	s->fin = s->fin_tail = NULL;
	pthread_mutex_unlock(&s->mu);
	while (t) {
		struct setup_task *next = t->next;
		t->done(s, t);
		t = next;
	}
}

static void wake_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)loop;
	(void)revents;
	finish(container_of(w, struct gw_setup, wake));
}

int setup_worker_start(struct gw_setup *s)
{
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	ev_async_init(&s->wake, wake_cb);
	ev_async_start(s->gw->loop, &s->wake);
	if (pthread_create(&s->thread, NULL, run, s) != 0) {
		ev_async_stop(s->gw->loop, &s->wake);
		return -1;
	}
	s->started = true;
	return 0;
}

void setup_worker_post(struct gw_setup *s, struct setup_task *t)
{
	t->next = NULL;
	pthread_mutex_lock(&s->mu);
	if (s->todo_tail)
		s->todo_tail->next = t;
	else
		s->todo = t;
	s->todo_tail = t;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void setup_worker_stop(struct gw_setup *s)
{
	if (!s->started)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true; /* the tasks queued still run: a write begun is finished */
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	s->started = false;
	ev_async_stop(s->gw->loop, &s->wake);
	finish(s);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
}
