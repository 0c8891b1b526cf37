/* SPDX-License-Identifier: MIT */
/* gateway/influx/push.c - the points on their way to InfluxDB: a queue of
 * lines, oldest first, sent in POSTs of at most `batch` points, one at a
 * time, through libcurl's multi interface on the loop (core/curlev.h), so
 * that a server away never delays anything else.
 *
 * The answer, as InfluxDB documents its write endpoints (v1 /write,
 * https://docs.influxdata.com/influxdb/v1/tools/api/#write-http-endpoint;
 * v2 /api/v2/write, https://docs.influxdata.com/influxdb/v2/api/#operation/PostWrite):
 * 204 (any 2xx) the points are written; 429 (too many requests) and 5xx
 * (503 unavailable, 500 ...) or no answer at all (refused, a timeout) the
 * server could not take them now: the same points are tried again after
 * a backoff (core/retry.h, at least what Retry-After says); another 4xx
 * (400 bad line, 401 unauthorized, 404 no such database, 413 too large)
 * says these points will never be taken: the batch is dropped and counted
 * (`rejected`) and the queue goes on.  While the server is away the queue
 * keeps `queue` points, the oldest not on its way dropped first (counted:
 * `dropped`); what it kept is sent after the outage, in order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/curlev.h"
#include "../core/log.h"
#include "influx_int.h"

#define IX_WHO_MAX (CONF_PORT_MAX + 16)

static void who(const struct ix_push *x, char *buf, size_t cap)
{
	snprintf(buf, cap, "influx: %s", x->cfg.url.text);
}

/* The write URL of the section: its query's values %-encoded. */
static bool build_url(struct ix_push *x)
{
	CURL *e = curl_easy_init();
	if (!e)
		return false;
	const struct conf_influx *c = &x->cfg;
	char *a = curl_easy_escape(e, c->version == 1 ? c->database : c->org, 0);
	char *b = c->version == 2 ? curl_easy_escape(e, c->bucket, 0) : NULL;
	bool ok = a && (c->version == 1 || b);
	if (ok && c->version == 1)
		snprintf(x->url, sizeof(x->url), "%s/write?db=%s&precision=s", c->url.bare, a);
	else if (ok)
		snprintf(x->url, sizeof(x->url), "%s/api/v2/write?org=%s&bucket=%s&precision=s", c->url.bare, a, b);
	curl_free(a);
	curl_free(b);
	curl_easy_cleanup(e);
	return ok;
}

/* The server's answer: its start kept for last_error. */
static size_t write_cb(char *buf, size_t size, size_t n, void *userp)
{
	struct ix_push *x = userp;
	size_t k = size * n, room = sizeof(x->answer) - 1 - x->answer_len;
	memcpy(x->answer + x->answer_len, buf, k < room ? k : room);
	x->answer_len += k < room ? k : room;
	x->answer[x->answer_len] = '\0';
	return k;
}

/* The body of the next POST: the oldest points, batch at most. */
static bool build_body(struct ix_push *x)
{
	int k = x->len < x->cfg.batch ? x->len : x->cfg.batch;
	size_t total = 1;
	for (int i = 0; i < k; i++)
		total += strlen(x->q[(x->head + i) % x->cfg.queue]);
	if (total > x->body_cap) {
		char *nb = realloc(x->body, total);
		if (!nb)
			return false;
		x->body = nb;
		x->body_cap = total;
	}
	size_t o = 0;
	for (int i = 0; i < k; i++) {
		const char *l = x->q[(x->head + i) % x->cfg.queue];
		size_t n = strlen(l);
		memcpy(x->body + o, l, n);
		o += n;
	}
	x->body[o] = '\0';
	x->inflight = k;
	return true;
}

static bool add_headers(struct ix_push *x)
{
	struct curl_slist *l = curl_slist_append(NULL, "Content-Type: text/plain; charset=utf-8");
	l = l ? curl_slist_append(l, "Expect:") : NULL;
	if (l && x->cfg.version == 2) {
		char h[CONF_HOST_MAX + 32];
		snprintf(h, sizeof(h), "Authorization: Token %s", x->cfg.token);
		struct curl_slist *n = curl_slist_append(l, h);
		explicit_bzero(h, sizeof(h));
		if (!n)
			curl_slist_free_all(l);
		l = n;
	}
	x->headers = l;
	return l != NULL;
}

/* The POST of the oldest points. */
static CURL *transfer(struct ix_push *x)
{
	if (!build_body(x) || !add_headers(x))
		return NULL;
	long ms = (long)(x->cfg.timeout * 1000);
	CURL *e = gw_curlev_easy(x->url, "http,https", ms < 10000 ? ms : 10000L, ms, x->errbuf, x->cfg.ca_file);
	if (!e)
		return NULL;
	x->answer[0] = '\0';
	x->answer_len = 0;
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(x->body));
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	if (x->cfg.version == 1 && x->cfg.username[0]) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERNAME, x->cfg.username);
		curl_easy_setopt(e, CURLOPT_PASSWORD, x->cfg.password);
	}
	return e;
}

static void end_transfer(struct ix_push *x)
{
	gw_curlev_end(x->cev, &x->easy, &x->headers);
	x->inflight = 0;
}

/* The n oldest points gone (written, or refused for good). */
static void pop(struct ix_push *x, int n)
{
	for (int i = 0; i < n && x->len; i++) {
		free(x->q[x->head]);
		x->q[x->head] = NULL;
		x->head = (x->head + 1) % x->cfg.queue;
		x->len--;
	}
}

/* The server's answer as text: its code, and its words (printable ASCII). */
static void answer_text(struct ix_push *x, long code, CURLcode rc)
{
	for (char *p = x->answer; *p; p++)
		if (*p < 0x20 || *p > 0x7E)
			*p = ' ';
	if (code)
		snprintf(x->last_error, sizeof(x->last_error), "HTTP %ld: %.200s", code, x->answer);
	else
		snprintf(x->last_error, sizeof(x->last_error), "%.200s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
}

static void retry_later(struct ix_push *x, double at_least)
{
	char w[IX_WHO_MAX];
	who(x, w, sizeof(w));
	x->failed++;
	x->ok = false;
	double d = gw_retry_failed(&x->rt, w, x->last_error);
	ev_timer_set(&x->retry, d > at_least ? d : at_least, 0.);
	ev_timer_start(x->loop, &x->retry);
}

static void written(struct ix_push *x, int n)
{
	char w[IX_WHO_MAX];
	double down = gw_retry_up(&x->rt);
	x->sent += (unsigned long)n;
	x->ok = true;
	x->last_success = gw_wall();
	x->last_error[0] = '\0';
	x->refused_code = 0;
	pop(x, n);
	if (down >= 0) {
		who(x, w, sizeof(w));
		gw_info("%s: written again after %.0f s, %d point%s still queued", w, down, x->len, x->len == 1 ? "" : "s");
	}
}

/* A 4xx but 429: these points will never be taken.  Logged when the
 * server's code changes (a wrong token is not logged every interval). */
static void refused(struct ix_push *x, int n, long code)
{
	char w[IX_WHO_MAX];
	who(x, w, sizeof(w));
	if (code != x->refused_code)
		gw_warn("%s: the server refused %d point%s (%s); dropped (the same answer again is logged at "
			"debug level)", w, n, n == 1 ? "" : "s", x->last_error);
	else
		gw_debug("%s: the server refused %d point%s (%s); dropped", w, n, n == 1 ? "" : "s", x->last_error);
	x->refused_code = code;
	x->rejected += (unsigned long)n;
	x->ok = false;
	pop(x, n);
}

/* A POST ended (core/curlev.h). */
static void on_done(void *arg, CURL *e, CURLcode rc)
{
	struct ix_push *x = arg;
	if (e != x->easy)
		return;
	long code = 0;
	curl_off_t after = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &after);
	int n = x->inflight;
	end_transfer(x);
	if (rc == CURLE_OK && code >= 200 && code < 300) {
		written(x, n);
		ix_push_kick(x);
		return;
	}
	answer_text(x, rc == CURLE_OK ? code : 0, rc);
	if (rc != CURLE_OK || code == 429 || code >= 500)
		retry_later(x, after > 0 && after < 3600 ? (double)after : 0);
	else {
		refused(x, n, code);
		ix_push_kick(x);
	}
}

void ix_push_kick(struct ix_push *x)
{
	if (x->easy || !x->len || ev_is_active(&x->retry))
		return;
	if (!(x->easy = transfer(x)) || !gw_curlev_add(x->cev, x->easy, on_done, x)) {
		if (x->easy)
			curl_easy_cleanup(x->easy);
		x->easy = NULL;
		end_transfer(x);
		snprintf(x->last_error, sizeof(x->last_error), "libcurl could not start a transfer");
		retry_later(x, 0);
	}
}

static void on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	ix_push_kick(w->data);
}

void ix_push_queue(struct ix_push *x, const char *line, size_t n)
{
	if (x->len == x->cfg.queue) {
		x->dropped++;
		if (x->inflight >= x->len)
			return; /* every point held is on its way: the new one goes */
		/* the oldest not on its way goes; those on their way move up one */
		int cap = x->cfg.queue;
		free(x->q[(x->head + x->inflight) % cap]);
		for (int i = x->inflight; i > 0; i--)
			x->q[(x->head + i) % cap] = x->q[(x->head + i - 1) % cap];
		x->q[x->head] = NULL;
		x->head = (x->head + 1) % cap;
		x->len--;
	}
	char *p = malloc(n + 1);
	if (!p) {
		x->dropped++;
		return;
	}
	memcpy(p, line, n);
	p[n] = '\0';
	x->q[(x->head + x->len) % x->cfg.queue] = p;
	x->len++;
}

struct ix_push *ix_push_new(struct ev_loop *loop, const struct conf_influx *c)
{
	struct ix_push *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->cfg = *c;
	x->loop = loop;
	x->ok = true;
	gw_retry_init(&x->rt);
	ev_timer_init(&x->retry, on_retry, 0., 0.);
	x->retry.data = x;
	if (!(x->q = calloc((size_t)c->queue, sizeof(*x->q))) || !(x->cev = gw_curlev_new(loop)) || !build_url(x)) {
		ix_push_free(x);
		return NULL;
	}
	return x;
}

void ix_push_free(struct ix_push *x)
{
	if (!x)
		return;
	ev_timer_stop(x->loop, &x->retry);
	end_transfer(x);
	gw_curlev_free(x->cev);
	if (x->q)
		pop(x, x->len);
	free(x->q);
	free(x->body);
	explicit_bzero(x->cfg.password, sizeof(x->cfg.password));
	explicit_bzero(x->cfg.token, sizeof(x->cfg.token));
	free(x);
}
