/* SPDX-License-Identifier: MIT */
/* gateway/alerts/send.c - one destination of alerts: its queue and its one
 * transfer at a time through libcurl's multi interface on the daemon's
 * libev loop (core/curlev.h): name resolution (libcurl's own threaded or
 * c-ares resolver), connecting, TLS and the exchange all proceed as the
 * sockets are ready, and nothing waits on the loop, so a destination down
 * never delays a Modbus answer.
 *
 * http(s)://: a POST of the message as text/plain, with ntfy's Title,
 * Priority and Tags headers (other receivers ignore them); any answer
 * but 2xx is a failure.  smtp://: an e-mail, STARTTLS when the server
 * offers it (CURLUSESSL_TRY), required (CURLUSESSL_ALL) when a password
 * is sent, so that a password never travels in clear; smtps://: TLS from
 * the start.  A failure (refused, a timeout, an HTTP error, an SMTP reply
 * that is not a success) is counted and the message tried again after a
 * backoff of 1 s doubling to 5 min; the queue keeps AL_QUEUE_MAX messages,
 * the oldest dropped and counted.  What libcurl parses (HTTP and SMTP
 * answers) is libcurl's: nothing here reads a byte of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/clock.h"
#include "../core/curlev.h"
#include "../core/log.h"
#include "../model/gw.h"
#include "alerts_int.h"

static void start_next(struct al_dest *d);

static bool is_mail(const struct al_dest *d)
{
	return d->cfg.url.scheme == CONF_URL_SMTP || d->cfg.url.scheme == CONF_URL_SMTPS;
}

/* CURLOPT_READFUNCTION: the e-mail, as much as fits. */
static size_t read_cb(char *buf, size_t size, size_t n, void *userp)
{
	struct al_dest *d = userp;
	size_t left = d->payload_len - d->payload_off, cap = size * n;
	size_t k = left < cap ? left : cap;
	memcpy(buf, d->payload + d->payload_off, k);
	d->payload_off += k;
	return k;
}

/* HTTP answers' bodies are not read: dropped. */
static size_t write_cb(char *buf, size_t size, size_t n, void *userp)
{
	(void)buf;
	(void)userp;
	return size * n;
}

/* The e-mail of message m: its headers (RFC 5322) and its text, lines
 * ending in CRLF (libcurl escapes a leading dot). */
static void mail_payload(struct al_dest *d, const struct al_msg *m)
{
	char date[64], body[sizeof(m->body) * 2];
	time_t t = (time_t)gw_wall();
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	size_t o = 0;
	for (const char *p = m->body; *p && o + 2 < sizeof(body); p++) {
		if (*p == '\n')
			body[o++] = '\r';
		body[o++] = *p;
	}
	body[o] = '\0';
	int r = snprintf(d->payload, sizeof(d->payload),
			 "Date: %s\r\nTo: %s\r\nFrom: %s\r\nSubject: %s\r\nMessage-ID: <%lld.%lu.%s@bmsgw>\r\n"
			 "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n%s",
			 date, d->cfg.to, d->cfg.from, m->title, (long long)t, d->sent + d->failed, d->cfg.name, body);
	d->payload_len = r < 0 ? 0 : (size_t)r < sizeof(d->payload) ? (size_t)r : sizeof(d->payload) - 1;
}

/* The recipients of `to`, one each. */
static struct curl_slist *recipients(const char *to)
{
	struct curl_slist *l = NULL;
	char buf[CONF_PORT_MAX];
	snprintf(buf, sizeof(buf), "%s", to);
	for (char *save = NULL, *a = strtok_r(buf, ", ", &save); a; a = strtok_r(NULL, ", ", &save)) {
		struct curl_slist *n = curl_slist_append(l, a);
		if (!n) {
			curl_slist_free_all(l);
			return NULL;
		}
		l = n;
	}
	return l;
}

static bool http_setup(struct al_dest *d, CURL *e, const struct al_msg *m)
{
	char h[256];
	d->payload_len = (size_t)snprintf(d->payload, sizeof(d->payload), "%s", m->body);
	struct curl_slist *l = curl_slist_append(NULL, "Content-Type: text/plain; charset=us-ascii");
	snprintf(h, sizeof(h), "Title: %s", m->title);
	l = l ? curl_slist_append(l, h) : NULL;
	l = l ? curl_slist_append(l, m->urgent ? "Priority: high" : "Priority: default") : NULL;
	l = l ? curl_slist_append(l, m->cleared ? "Tags: white_check_mark" : "Tags: warning") : NULL;
	if (!l)
		return false;
	d->headers = l;
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, l);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, d->payload);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)d->payload_len);
	curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	return true;
}

static bool mail_setup(struct al_dest *d, CURL *e, const struct al_msg *m)
{
	mail_payload(d, m);
	d->payload_off = 0;
	if (!(d->rcpt = recipients(d->cfg.to)))
		return false;
	curl_easy_setopt(e, CURLOPT_MAIL_FROM, d->cfg.from);
	curl_easy_setopt(e, CURLOPT_MAIL_RCPT, d->rcpt);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(e, CURLOPT_READDATA, d);
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	bool must = d->cfg.url.scheme == CONF_URL_SMTPS || d->cfg.password[0];
	curl_easy_setopt(e, CURLOPT_USE_SSL, must ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
	return true;
}

/* A transfer of the oldest message. */
static CURL *transfer(struct al_dest *d)
{
	const struct al_msg *m = &d->q[d->head];
	CURL *e = gw_curlev_easy(d->cfg.url.bare, "http,https,smtp,smtps", AL_CONNECT_TIMEOUT * 1000,
				 AL_TRANSFER_TIMEOUT * 1000, d->errbuf, d->cfg.ca_file);
	if (!e)
		return NULL;
	if (d->cfg.username[0])
		curl_easy_setopt(e, CURLOPT_USERNAME, d->cfg.username);
	if (d->cfg.password[0])
		curl_easy_setopt(e, CURLOPT_PASSWORD, d->cfg.password);
	if (!(is_mail(d) ? mail_setup(d, e, m) : http_setup(d, e, m))) {
		curl_easy_cleanup(e);
		return NULL;
	}
	return e;
}

/* The transfer's end: its lists freed, its handle gone. */
static void end_transfer(struct al_dest *d)
{
	gw_curlev_end(d->cev, &d->easy, &d->headers);
	curl_slist_free_all(d->rcpt);
	d->rcpt = NULL;
	explicit_bzero(d->payload, sizeof(d->payload));
}

static void on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	start_next(w->data);
}

/* Why transfer e failed, in words: libcurl's, and the server's code. */
static void failure_text(struct al_dest *d, CURL *e, CURLcode rc)
{
	long code = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	const char *what = d->errbuf[0] ? d->errbuf : curl_easy_strerror(rc);
	if (code)
		snprintf(d->last_error, sizeof(d->last_error), "%s %ld: %.200s", is_mail(d) ? "SMTP" : "HTTP", code, what);
	else
		snprintf(d->last_error, sizeof(d->last_error), "%.200s", what);
}

/* A failed transfer: counted, logged at the start of an outage and when
 * its kind changes (libcurl's code, the server's answer: not the text,
 * which carries times), tried again after the backoff. */
static void failed(struct al_dest *d, CURL *e, CURLcode rc)
{
	d->failed++;
	d->ok = false;
	long code = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	bool same = d->outage_logged && d->last_rc == (int)rc && d->last_code == code;
	d->last_rc = (int)rc;
	d->last_code = code;
	failure_text(d, e, rc);
	if (!same)
		gw_warn("alerts.%s: %s: %s; tried again in %.0f s (then every %.0f s at most), %d message%s queued",
			d->cfg.name, d->cfg.url.text, d->last_error, d->backoff, AL_RETRY_MAX, d->len,
			d->len == 1 ? "" : "s");
	if (!d->outage_logged)
		d->down_since = gw_mono();
	d->outage_logged = true;
	end_transfer(d);
	ev_timer_set(&d->retry, d->backoff, 0.);
	ev_timer_start(d->loop, &d->retry);
	d->backoff = d->backoff * 2 < AL_RETRY_MAX ? d->backoff * 2 : AL_RETRY_MAX;
}

static void succeeded(struct al_dest *d)
{
	d->sent++;
	d->ok = true;
	d->backoff = AL_RETRY_MIN;
	if (d->outage_logged)
		gw_info("alerts.%s: %s: sent again after %.0f s", d->cfg.name, d->cfg.url.text, gw_mono() - d->down_since);
	d->outage_logged = false;
	d->last_error[0] = '\0';
	end_transfer(d);
	d->head = (d->head + 1) % AL_QUEUE_MAX;
	d->len--;
	start_next(d);
}

/* A transfer ended (core/curlev.h). */
static void on_done(void *arg, CURL *e, CURLcode rc)
{
	struct al_dest *d = arg;
	if (e != d->easy)
		return;
	if (rc == CURLE_OK)
		succeeded(d);
	else
		failed(d, e, rc);
}

/* The oldest message on its way, unless one is, or a backoff runs. */
static void start_next(struct al_dest *d)
{
	if (d->easy || !d->len || ev_is_active(&d->retry))
		return;
	if (!(d->easy = transfer(d)) || !gw_curlev_add(d->cev, d->easy, on_done, d)) {
		snprintf(d->last_error, sizeof(d->last_error), "libcurl could not start a transfer");
		if (d->easy)
			curl_easy_cleanup(d->easy);
		d->easy = NULL;
		end_transfer(d);
		d->failed++;
		ev_timer_set(&d->retry, d->backoff, 0.);
		ev_timer_start(d->loop, &d->retry);
	}
}

void al_dest_queue(struct al_dest *d, const struct al_msg *m)
{
	if (d->len == AL_QUEUE_MAX) {
		/* full: the oldest goes, unless it is on its way (then the next) */
		int drop = d->easy ? (d->head + 1) % AL_QUEUE_MAX : d->head;
		if (drop != d->head)
			for (int i = drop; i != (d->head + d->len - 1) % AL_QUEUE_MAX; i = (i + 1) % AL_QUEUE_MAX)
				d->q[i] = d->q[(i + 1) % AL_QUEUE_MAX];
		else
			d->head = (d->head + 1) % AL_QUEUE_MAX;
		d->len--;
		d->dropped++;
	}
	d->q[(d->head + d->len) % AL_QUEUE_MAX] = *m;
	d->len++;
	gw_debug("alerts.%s: %s", d->cfg.name, m->title);
	start_next(d);
}

struct al_dest *al_dest_new(struct gw *gw, const struct conf_alerts *c)
{
	struct al_dest *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->cfg = *c;
	d->gw = gw;
	d->loop = gw->loop;
	d->ok = true;
	d->backoff = AL_RETRY_MIN;
	if (!(d->cev = gw_curlev_new(d->loop))) {
		free(d);
		return NULL;
	}
	ev_timer_init(&d->retry, on_retry, 0., 0.);
	d->retry.data = d;
	return d;
}

void al_dest_free(struct al_dest *d)
{
	if (!d)
		return;
	ev_timer_stop(d->loop, &d->retry);
	end_transfer(d); /* its sockets' watchers go with CURL_POLL_REMOVE */
	gw_curlev_free(d->cev);
	explicit_bzero(d->cfg.password, sizeof(d->cfg.password));
	explicit_bzero(d->cfg.url.pass, sizeof(d->cfg.url.pass));
	free(d);
}
