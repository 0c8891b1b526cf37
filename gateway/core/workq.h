/* SPDX-License-Identifier: MIT */
/* gateway/core/workq.h - work off the loop: one thread and its queue.
 *
 * What may block must never run on the loop: a file fsync'ed on an SD
 * card (seconds), a password checked with PBKDF2 (a large part of a
 * second of CPU), a certificate made, a configuration checked with the
 * files it names.  Such work is a task handed to a queue: the queue's
 * thread runs its tasks one at a time, in the order they were posted, and
 * the queue's ev_async brings each task run back to the loop, where its
 * second half (done) runs, in the same order.  The loop never waits for
 * the thread but at gw_workq_free().  Every thread of bmsgw but the
 * history's (whose SQLite handle lives on its own thread, history/) is
 * one of these queues.
 *
 * A task is a struct gw_task inside the caller's own: run and done get it
 * back (container_of).  Its owner allocates it; done (or run, when there
 * is no done) frees it. */
#ifndef GATEWAY_CORE_WORKQ_H
#define GATEWAY_CORE_WORKQ_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>

struct gw_task {
	/* on the queue's thread */
	void (*run)(struct gw_task *t);
	/* then on the loop: the second half, which frees t; NULL: nothing goes
	 * back (run frees t) */
	void (*done)(struct gw_task *t);
	/* a task whose done will never be called (gw_workq_abandon(): not run
	 * yet, or run with no one to take it): frees t, on either thread;
	 * NULL: free(t) */
	void (*drop)(struct gw_task *t);
	struct gw_task *next;          /* the queue's */
};

struct gw_workq;

/* A queue and its thread, started; loop NULL when no task has a done.
 * NULL with the reason in why (out of memory, no thread). */
struct gw_workq *gw_workq_new(struct ev_loop *loop, char *why, size_t cap);
/* t runs after every task posted before it. */
void gw_workq_post(struct gw_workq *q, struct gw_task *t);
/* Every task posted runs (a write begun is finished), the thread is
 * joined (this waits for the disk: at the end only), the dones not called
 * yet are called here, in order; the queue is freed.  NULL is fine. */
void gw_workq_free(struct gw_workq *q);
/* The same, waiting at most limit seconds for the thread (a daemon that
 * stops never waits for ever on a task that hangs: a disk that never
 * answers): true when it ended in time, else false and the queue is given
 * up as gw_workq_abandon() gives it up (the dones not called are never
 * called).  NULL is fine (true). */
bool gw_workq_free_within(struct gw_workq *q, double limit);
/* The queue is given up without a wait (on the loop, for a thread whose
 * task may take long): the dones not called yet are never called, the
 * tasks not begun are dropped, a task running finishes on the thread,
 * which drops it, frees the queue and ends on its own.  NULL is fine. */
void gw_workq_abandon(struct gw_workq *q);

#endif
