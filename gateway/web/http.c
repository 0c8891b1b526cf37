/* SPDX-License-Identifier: MIT */
/* gateway/web/http.c - the status page, its JSON API and /metrics: the
 * server's start and stop, and each request's way through the files of
 * the server (http_int.h lists them, one job each).
 *
 * libmicrohttpd runs on bmsgw's loop (mhdloop.c), no thread.  Requests
 * have no body (anything but GET and HEAD is refused, but the setup API's
 * POSTs), and nothing an HTTP client asks for waits on the disk on the
 * loop: a login, a history query, a setup change wait off the loop, their
 * request suspended until the answer comes back.
 *
 *   /                    the page (gateway/web/www/, built into the binary: www.c)
 *   /javascript/...      Debian's shared JavaScript (/usr/share/javascript,
 *                        e.g. libjs-chart.js), read-only (www.c)
 *   /api/state           everything the page shows, as JSON (status.c)
 *   /api/config          the configuration in force, key by key (status.c)
 *   /api/events          the same as server-sent events, at most once a
 *                        second after a poll and at least every 5 s (sse.c)
 *   /api/history         chart columns of one unit over a range (histreq.c)
 *   /api/history.csv     the samples of one unit over a range, as CSV,
 *                        streamed (histreq.c)
 *   /metrics             Prometheus text format (status.c)
 *   /api/setup/...       the Setup tab's API (setup/setup.h, through
 *                        setupbridge.c): its POSTs are the only requests
 *                        with a body
 *
 * Every request passes the gate (gate.c) at its headers, and again at its
 * second call, before anything is answered.  With tls_cert the server
 * speaks HTTPS only (secrets.c, tls.c); TLS 1.2 and 1.3 only: bmsgw
 * accepts on the port itself (door.c), hands a TLS connection to
 * libmicrohttpd and answers plain HTTP there with a redirect to HTTPS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/clock.h"
#include "../core/log.h"
#include "../core/net.h"
#include "../history/history.h"
#include "../model/gw.h"
#include "auth.h"
#include "http_int.h"
#include "status.h"
#include "tls.h"

/* GnuTLS priorities: its defaults without SSL 3.0, TLS 1.0 and 1.1 */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

enum state_kind { ST_STATE, ST_METRICS, ST_CONFIG };

/* /api/state, /metrics or /api/config. */
static enum MHD_Result send_state(struct gw_http *h, struct MHD_Connection *con, enum state_kind kind)
{
	char *text = NULL;
	size_t len = 0;
	if (kind != ST_STATE) {
		FILE *o = open_memstream(&text, &len);
		if (!o)
			return MHD_NO;
		if (kind == ST_METRICS)
			gw_status_metrics(h->gw, o);
		else
			gw_status_config(h->gw, o);
		fclose(o);
	} else {
		text = http_state_text(h->gw, &len);
	}
	if (!text)
		return MHD_NO;
	return http_send_owned(con, MHD_HTTP_OK,
			       kind == ST_METRICS ? "text/plain; version=0.0.4; charset=utf-8" : "application/json", text,
			       len);
}

static struct req *new_req(struct gw_http *h, struct MHD_Connection *con)
{
	struct req *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->h = h;
	r->con = con;
	r->refs = 1;
	h->requests++;
	struct gw_conn *c = http_conn_of(con);
	if (c)
		gw_conns_busy(c, true, gw_mono()); /* never the one that gives way now */
	/* a request in progress: a slow client has the whole CONN_TIMEOUT */
	MHD_set_connection_option(con, MHD_CONNECTION_OPTION_TIMEOUT, CONN_TIMEOUT);
	return r;
}

/* A GET or HEAD that passed the gate, by its path. */
static enum MHD_Result route(struct gw_http *h, struct req *r, const char *url)
{
	if (strcmp(url, "/api/state") == 0)
		return send_state(h, r->con, ST_STATE);
	if (strcmp(url, "/metrics") == 0)
		return send_state(h, r->con, ST_METRICS);
	if (strcmp(url, "/api/config") == 0)
		return send_state(h, r->con, ST_CONFIG);
	if (strcmp(url, "/api/events") == 0)
		return http_start_sse(h, r);
	if (strcmp(url, "/api/history") == 0)
		return http_start_history(h, r, false);
	if (strcmp(url, "/api/history.csv") == 0)
		return http_start_history(h, r, true);
	return http_www(h, r, url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_size, void **ctx)
{
	struct gw_http *h = cls;
	struct req *r = *ctx;
	if (!r) {
		if (!(r = new_req(h, con)))
			return MHD_NO;
		*ctx = r;
	}
	if (r->gone)
		return MHD_NO; /* its client left: the connection closes */
	if (!r->headers_judged) {
		enum MHD_Result hrc;
		if (!http_headers_gate(h, r, url, method, version, &hrc))
			return hrc;
		r->headers_judged = true;
		/* the rest from the second call: a response queued in the first
		 * makes libmicrohttpd 0.9.75 close the connection after it (no
		 * keep-alive), which over TLS costs a handshake a request */
		return MHD_YES;
	}
	if (*upload_size) {
		bool ok = http_take_body(r, url, upload_data, *upload_size); /* other bodies are never read */
		*upload_size = 0;
		return ok ? MHD_YES : MHD_NO;
	}
	if (r->kind == RQ_CHART || r->kind == RQ_CSV)
		return r->answered ? http_answer_history(r) : MHD_YES;
	if (r->kind == RQ_SETUP)
		return r->answered ? http_send_setup(con, r) : MHD_YES;
	enum MHD_Result grc;
	if (!http_gate(h, r, url, &grc))
		return grc;
	if (strncmp(url, "/api/setup/", 11) == 0)
		return http_start_setup(h, r, url, method);
	if (strcmp(url, BMSAPI_PATH) == 0)
		return http_start_bmsapi(h, r, method);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return http_not_allowed(con);
	return route(h, r, url);
}

static void on_completed(void *cls, struct MHD_Connection *con, void **ctx, enum MHD_RequestTerminationCode toe)
{
	struct gw_http *h = cls;
	struct req *r = *ctx;
	struct gw_conn *c = http_conn_of(con);
	if (c)
		gw_conns_busy(c, false, gw_mono());
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
		http_idle_timeout(h, con); /* kept alive, idle now */
		http_make_room(h, NULL);
	}
	if (!r)
		return;
	*ctx = NULL;
	http_unwatch(r);
	if (r->kind == RQ_SSE && r->listed)
		h->nsse--;
	http_req_unlist(h, r);
	gw_history_cancel(&r->q);
	gw_auth_cancel(&r->ask);
	gw_setup_cancel(&r->wait);
	gw_bmsapi_cancel(&r->bset);
	r->fail = true;
	http_req_unref(r);
}

const struct conf_http *gw_http_conf(const struct gw_http *h)
{
	return &h->cfg;
}

static struct MHD_Daemon *start_mhd(struct gw_http *h, int fd)
{
	const struct conf_http *c = &h->cfg;
	/* one beyond max_clients, which http_make_room() settles; a quarter of
	 * them from one address (http_on_accept(), not libmicrohttpd's limit per address,
	 * which would hold Home Assistant's ingress proxy to it too) */
	struct MHD_OptionItem tls_opts[] = {
		{ MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)&gw_tls_retrieve },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES },
		{ MHD_OPTION_END, 0, NULL },
	};
	/* with HTTPS the door (door.c) listens and hands libmicrohttpd its
	 * TLS connections; without, libmicrohttpd listens on fd */
	struct MHD_OptionItem plain_opts[] = {
		{ MHD_OPTION_LISTEN_SOCKET, fd, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
			 (h->tls ? MHD_USE_TLS | MHD_USE_NO_LISTEN_SOCKET : 0);
	return MHD_start_daemon(flags, 0, http_on_accept, h, on_request, h, MHD_OPTION_CONNECTION_LIMIT,
				(unsigned)c->max_clients + 1,
				MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
				(size_t)32 * 1024, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
				MHD_OPTION_NOTIFY_CONNECTION, http_on_connection, h, MHD_OPTION_EXTERNAL_LOGGER, http_on_log, h,
				MHD_OPTION_ARRAY, h->tls ? tls_opts : plain_opts, MHD_OPTION_END);
}

struct gw_http *gw_http_new(struct gw *gw, const struct conf_http *c, struct gw_http_secrets *sec, bool may_block,
			    char *err, size_t errlen)
{
	char lerr[256];
	struct gw_http *h = calloc(1, sizeof(*h));
	if (!h) {
		gw_http_secrets_free(sec);
		snprintf(err, errlen, "http: out of memory");
		return NULL;
	}
	h->gw = gw;
	h->cfg = *c;
	h->hup_fd = -1;
	http_learn_hosts(h, sec->creds);
	int fd = gw_tcp_listen(c->listen_host, c->listen_port, may_block, lerr, sizeof(lerr));
	if (fd < 0)
		snprintf(err, errlen, "http: %s", lerr);
	else if (http_take_secrets(h, sec, err, errlen) == 0 && !(h->d = start_mhd(h, fd)))
		snprintf(err, errlen, "http: libmicrohttpd could not start on %s:%d", c->listen_host, c->listen_port);
	if (!h->d) {
		gw_http_secrets_free(sec);
		if (fd >= 0)
			close(fd);
		gw_tls_free(h->tls);
		gw_auth_free(h->auth);
		free(h);
		return NULL;
	}
	http_www_etag(h);
	if (h->tls)
		http_door_start(h, fd);
	if (http_loop_start(h, err, errlen) < 0) {
		http_door_stop(h);
		MHD_stop_daemon(h->d);
		gw_tls_free(h->tls);
		gw_auth_free(h->auth);
		free(h);
		return NULL;
	}
	http_room_init(h);
	http_sse_init(h);
	gw_info("http: status page on %s://%s%s%s:%d/ (read-only%s%s%s)", h->tls ? "https" : "http",
		strchr(c->listen_host, ':') ? "[" : "", c->listen_host, strchr(c->listen_host, ':') ? "]" : "",
		c->listen_port, c->clients.n ? ", clients allowlisted" : "", h->auth ? ", logins from " : "",
		h->auth ? c->users_file : "");
	return h;
}

void gw_http_info(const struct gw_http *h, struct gw_http_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!h)
		return;
	out->clients = h->conns.n;
	out->sse_clients = h->nsse;
	out->requests = h->requests;
	out->refused = h->refused;
	out->https = h->tls != NULL;
	out->login_failures = gw_auth_failures(h->auth);
	out->plain_logins = h->plain_logins;
	out->gave_way = h->gave_way;
	out->address_full = h->address_full;
	out->misdirected = h->misdirected;
	out->redirected = h->redirected;
}

void gw_http_free(struct gw_http *h)
{
	if (!h)
		return;
	struct ev_loop *loop = h->gw->loop;
	h->stopping = true;
	/* MHD may not be stopped with suspended connections */
	for (struct req *r = h->reqs; r; r = r->next) {
		gw_history_cancel(&r->q);
		if (r->ask) {
			gw_auth_cancel(&r->ask);
			r->auth = AU_DONE;
			r->role = GW_AUTH_BUSY;
		}
		gw_setup_cancel(&r->wait);
		gw_bmsapi_cancel(&r->bset);
		r->fail = true;
		http_resume(r);
	}
	http_door_stop(h);
	http_loop_stop(h);
	ev_timer_stop(loop, &h->room);
	ev_timer_stop(loop, &h->push);
	MHD_stop_daemon(h->d);
	gw_tls_free(h->tls);
	gw_auth_free(h->auth);
	free(h->event);
	free(h);
}
