/* SPDX-License-Identifier: MIT */
/* gateway/alerts/alerts_int.h - what the files of the alerts output share.
 *
 * alerts.c   its row of the service table: one destination per
 *            [alerts.NAME], kept across a reload that leaves its section
 *            as it was; /api/state and /metrics
 * observe.c  the conditions of every unit judged on the model, each
 *            through its state machine (cond.c), and the messages made
 * send.c     a destination's queue and its one transfer at a time through
 *            libcurl's multi interface on libev (core/curlev.h: no call
 *            that blocks the loop), retried with backoff
 */
#ifndef GATEWAY_ALERTS_ALERTS_INT_H
#define GATEWAY_ALERTS_ALERTS_INT_H

#include <curl/curl.h>
#include <ev.h>
#include <stdbool.h>

#include "alerts_conf.h"
#include "cond.h"

struct gw;
struct gw_curlev;

/* The messages a destination holds while it cannot send: the oldest is
 * dropped (and counted) for a new one. */
#define AL_QUEUE_MAX 32
/* Backoff after a failed transfer: 1 s doubling to 5 min. */
#define AL_RETRY_MIN 1.0
#define AL_RETRY_MAX 300.0
/* One transfer's limits (s): connecting, and the whole of it. */
#define AL_CONNECT_TIMEOUT 10L
#define AL_TRANSFER_TIMEOUT 30L

struct al_msg {
	char title[160];               /* ntfy's Title, the e-mail's Subject */
	char body[768];
	bool urgent;                   /* a condition became true (ntfy Priority high) */
	bool cleared;
};

/* What a destination said of one unit's conditions: the unit by name
 * ("bank" for the bank), so that a reload that moves packs keeps it. */
struct al_unit {
	char name[CONF_NAME_MAX];
	bool used;                     /* seen at the last tick */
	struct al_cond cond[CONF_AL_NCOND];
	char detail[CONF_AL_NCOND][160]; /* what made it true, for its "cleared" */
};

struct al_dest {
	struct conf_alerts cfg;        /* its copy of the section */
	struct ev_loop *loop;
	struct gw *gw;
	struct gw_curlev *cev;         /* libcurl's multi handle on the loop (core/curlev.h) */
	CURL *easy;                    /* the transfer under way, NULL = none */
	ev_timer retry;                /* the backoff after a failure */
	double backoff;
	struct al_msg q[AL_QUEUE_MAX]; /* ring: q[head] is the oldest */
	int head, len;
	unsigned long sent, failed, dropped;
	bool ok;                       /* the last transfer went through (true before any) */
	bool outage_logged;
	double down_since;
	char last_error[256];
	int last_rc;                   /* the last failure's CURLcode ... */
	long last_code;                /* ... and the server's answer to it (0: none) */
	/* the transfer under way */
	char payload[2048];
	size_t payload_len, payload_off;
	struct curl_slist *headers, *rcpt;
	char errbuf[CURL_ERROR_SIZE];
	/* the conditions */
	int nunits;
	struct al_unit units[CONF_MAX_PACKS + 1];
};

/* send.c: a destination for section c on gw's loop (NULL when libcurl
 * cannot start one), and its end (the transfer under way abandoned). */
struct al_dest *al_dest_new(struct gw *gw, const struct conf_alerts *c);
void al_dest_free(struct al_dest *d);
/* Queue a message (the oldest dropped when full) and send it when the
 * destination is free. */
void al_dest_queue(struct al_dest *d, const struct al_msg *m);

/* observe.c: every unit judged at monotonic time now, the messages queued. */
void al_observe(struct al_dest *d, double now);

#endif
