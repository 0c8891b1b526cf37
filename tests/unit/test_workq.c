/* SPDX-License-Identifier: MIT */
/* tests/unit/test_workq.c - work off the loop (gateway/core/workq.c): the
 * tasks run on the queue's thread, never the loop's, one at a time in the
 * order posted, and their dones come back on the loop in the same order;
 * a task without a done is forgotten after its run; gw_workq_free() runs
 * what is queued and calls the dones owed before it returns;
 * gw_workq_abandon() returns at once while a task runs, never calls a
 * done again, and drops the task running and those not begun;
 * gw_workq_free_within() frees as gw_workq_free() does, or gives the queue
 * up as abandon does after its limit. */
#include <ev.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "../../gateway/core/util.h"
#include "../../gateway/core/workq.h"
#include "check.h"

#define N 50

static pthread_t loop_thread;
static int ran[N], nran;          /* written by the queue's thread only */
static int doned[N], ndone;       /* written by the loop only */
static bool off_loop = true;
static int dropped, freed_by_run;

/* the gate a task waits at (abandon()) */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool gate_open, at_gate;

struct item {
	struct gw_task t;
	int n;
	bool wait;
};

static void item_run(struct gw_task *t)
{
	struct item *it = container_of(t, struct item, t);
	if (pthread_equal(pthread_self(), loop_thread))
		off_loop = false;
	if (it->wait) {
		pthread_mutex_lock(&mu);
		at_gate = true;
		pthread_cond_broadcast(&cv);
		while (!gate_open)
			pthread_cond_wait(&cv, &mu);
		pthread_mutex_unlock(&mu);
	}
	if (nran < N)
		ran[nran++] = it->n;
	if (!it->t.done) {
		__atomic_add_fetch(&freed_by_run, 1, __ATOMIC_SEQ_CST);
		free(it);
	}
}

static void item_done(struct gw_task *t)
{
	struct item *it = container_of(t, struct item, t);
	if (ndone < N)
		doned[ndone++] = it->n;
	free(it);
}

static void item_drop(struct gw_task *t)
{
	pthread_mutex_lock(&mu);
	dropped++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	free(container_of(t, struct item, t));
}

static struct item *item(int n, bool done, bool wait)
{
	struct item *it = calloc(1, sizeof(*it));
	it->n = n;
	it->wait = wait;
	it->t.run = item_run;
	it->t.done = done ? item_done : NULL;
	it->t.drop = item_drop;
	return it;
}

static void reset(void)
{
	nran = ndone = dropped = 0;
	__atomic_store_n(&freed_by_run, 0, __ATOMIC_SEQ_CST);
}

/* In order, off the loop, their dones back on the loop in order. */
static void in_order(struct ev_loop *loop)
{
	char why[160];
	reset();
	struct gw_workq *q = gw_workq_new(loop, why, sizeof(why));
	CHECK(q != NULL);
	for (int i = 0; i < N; i++)
		gw_workq_post(q, &item(i, true, false)->t);
	while (ndone < N)
		ev_run(loop, EVRUN_ONCE); /* the queue's wakeup brings them */
	CHECK_EQ_INT(ndone, N);
	CHECK_EQ_INT(nran, N);
	bool order = true;
	for (int i = 0; i < N; i++)
		order = order && ran[i] == i && doned[i] == i;
	CHECK(order);
	CHECK(off_loop);
	gw_workq_free(q);
}

/* gw_workq_free(): what is queued runs, the dones owed are called (here,
 * in order), a task without a done is forgotten after its run. */
static void free_finishes(struct ev_loop *loop)
{
	char why[160];
	reset();
	struct gw_workq *q = gw_workq_new(loop, why, sizeof(why));
	for (int i = 0; i < 10; i++)
		gw_workq_post(q, &item(i, i % 2 == 0, false)->t);
	gw_workq_free(q);
	CHECK_EQ_INT(nran, 10);
	CHECK_EQ_INT(ndone, 5);
	CHECK_EQ_INT(__atomic_load_n(&freed_by_run, __ATOMIC_SEQ_CST), 5);
	CHECK(doned[0] == 0 && doned[1] == 2 && doned[4] == 8);
	CHECK_EQ_INT(dropped, 0);
	/* a queue without a loop: tasks without a done only */
	reset();
	q = gw_workq_new(NULL, why, sizeof(why));
	CHECK(q != NULL);
	for (int i = 0; i < 3; i++)
		gw_workq_post(q, &item(i, false, false)->t);
	gw_workq_free(q);
	CHECK_EQ_INT(nran, 3);
	gw_workq_free(NULL);
}

/* gw_workq_abandon() while a task runs: it returns at once; the task
 * running and the three not begun are dropped, no done is called. */
static void abandon(struct ev_loop *loop)
{
	char why[160];
	reset();
	gate_open = at_gate = false;
	struct gw_workq *q = gw_workq_new(loop, why, sizeof(why));
	gw_workq_post(q, &item(0, true, true)->t);
	for (int i = 1; i < 4; i++)
		gw_workq_post(q, &item(i, true, false)->t);
	pthread_mutex_lock(&mu);
	while (!at_gate)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	gw_workq_abandon(q); /* the task is still at its gate */
	pthread_mutex_lock(&mu);
	gate_open = true;
	pthread_cond_broadcast(&cv);
	while (dropped < 4)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	ev_run(loop, EVRUN_NOWAIT);
	CHECK_EQ_INT(dropped, 4);
	CHECK_EQ_INT(nran, 1);
	CHECK_EQ_INT(ndone, 0);
	gw_workq_abandon(NULL);
}

/* gw_workq_free_within(): a queue whose tasks end is freed as
 * gw_workq_free() frees it (true, the dones called); one whose task waits
 * for ever is given up after the limit (false): the stop of a daemon never
 * waits for ever on its thread (issue 97: a FIFO's open, a dead disk). */
static void free_within(struct ev_loop *loop)
{
	char why[160];
	reset();
	struct gw_workq *q = gw_workq_new(loop, why, sizeof(why));
	for (int i = 0; i < 3; i++)
		gw_workq_post(q, &item(i, true, false)->t);
	CHECK(gw_workq_free_within(q, 60));
	CHECK_EQ_INT(nran, 3);
	CHECK_EQ_INT(ndone, 3);
	reset();
	gate_open = at_gate = false;
	q = gw_workq_new(loop, why, sizeof(why));
	gw_workq_post(q, &item(0, true, true)->t);
	gw_workq_post(q, &item(1, true, false)->t);
	pthread_mutex_lock(&mu);
	while (!at_gate)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	CHECK(!gw_workq_free_within(q, 0.2)); /* the task waits at its gate: given up */
	CHECK_EQ_INT(ndone, 0);
	pthread_mutex_lock(&mu); /* let it end: the thread drops both and frees the queue */
	gate_open = true;
	pthread_cond_broadcast(&cv);
	while (dropped < 2)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	CHECK_EQ_INT(ndone, 0);
	CHECK(gw_workq_free_within(NULL, 1));
}

int main(void)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	loop_thread = pthread_self();
	in_order(loop);
	free_finishes(loop);
	abandon(loop);
	free_within(loop);
	ev_loop_destroy(loop);
	return check_report();
}
