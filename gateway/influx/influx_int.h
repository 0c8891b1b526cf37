/* SPDX-License-Identifier: MIT */
/* gateway/influx/influx_int.h - what the files of the influx output share.
 *
 * influx.c  its row of the service table: every interval one point per
 *           unit (each fresh pack, the bank) queued; /api/state and /metrics
 * line.c    the line protocol written (line.h)
 * sched.c   when the points are due and their second (sched.h)
 * push.c    the queue of points and its POSTs through libcurl's multi
 *           interface on the loop (core/curlev.h), one at a time, oldest
 *           points first; a failing server retried with backoff
 *           (core/retry.h)
 */
#ifndef GATEWAY_INFLUX_INFLUX_INT_H
#define GATEWAY_INFLUX_INFLUX_INT_H

#include <curl/curl.h>
#include <ev.h>
#include <stdbool.h>

#include "../../conf/conf.h"
#include "influx_conf.h"
#include "../core/retry.h"

struct gw;
struct gw_curlev;

struct ix_push {
	struct conf_influx cfg;        /* its copy of the section */
	struct ev_loop *loop;
	struct gw_curlev *cev;
	CURL *easy;                    /* the POST under way, NULL = none */
	struct curl_slist *headers;
	char url[CONF_PORT_MAX * 2];   /* .../write?db=... or .../api/v2/write?... */
	char errbuf[CURL_ERROR_SIZE];
	char answer[256];              /* the start of the server's answer to the POST */
	size_t answer_len;
	char *body;                    /* the batch under way */
	size_t body_cap;
	int inflight;                  /* its points: the oldest of the queue */
	/* the queue: q[head] is the oldest point (one line each, malloc'd) */
	char **q;
	int head, len;
	ev_timer retry;                /* the backoff after a failure */
	struct gw_retry rt;
	bool ok;                       /* the last POST went through (true before any) */
	unsigned long sent, dropped, rejected, failed;
	long refused_code;             /* the code of the last batch refused (logged once a run), 0 = none */
	double last_success;           /* wall clock, 0 = never */
	char last_error[256];
};

/* influx.c: every fresh unit's point at monotonic time now, stamped t (each
 * pack, the bank and its strings from the model's one state of them,
 * model/bankstate.h), each line (n bytes, its newline included) handed to
 * put; the tick queues them. */
typedef void (*ix_put_fn)(void *arg, const char *line, size_t n);
void ix_sample(const struct gw *gw, double now, long long t, ix_put_fn put, void *arg);

/* push.c: a pusher for section c on loop (NULL: out of memory or no
 * libcurl), and its end (the POST under way abandoned, the queue freed). */
struct ix_push *ix_push_new(struct ev_loop *loop, const struct conf_influx *c);
void ix_push_free(struct ix_push *x);
/* Queue line (n bytes, its newline included; copied): the oldest point
 * not on its way dropped (and counted) when the queue is full. */
void ix_push_queue(struct ix_push *x, const char *line, size_t n);
/* Send what is queued unless a POST or a backoff is under way. */
void ix_push_kick(struct ix_push *x);

#endif
