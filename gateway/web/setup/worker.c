/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/worker.c - the setup API's file work as tasks of its
 * queue (core/workq.h: one thread, the tasks in order, their second half
 * back on the loop): the configuration read, written with its backups and
 * fsync'ed, secrets, the users file, a certificate made, a configuration
 * checked (which reads the files it names).  An SD card's fsync can take
 * seconds: the loop only hands tasks over and takes them back. */
#include "../../core/util.h"
#include "setup_int.h"

static void task_run(struct gw_task *q)
{
	struct setup_task *t = container_of(q, struct setup_task, q);
	t->work(t);
}

static void task_done(struct gw_task *q)
{
	struct setup_task *t = container_of(q, struct setup_task, q);
	t->done(t->s, t);
}

void setup_worker_post(struct gw_setup *s, struct setup_task *t)
{
	t->s = s;
	t->q.run = task_run;
	t->q.done = task_done;
	gw_workq_post(s->work, &t->q);
}
