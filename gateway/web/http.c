/* SPDX-License-Identifier: MIT */
/* gateway/web/http.c - the status page, its JSON API and /metrics.
 *
 * libmicrohttpd runs in its external-epoll mode on bmsgw's loop: one ev_io
 * on MHD's epoll descriptor and one ev_timer from MHD_get_timeout(), and
 * MHD_run() after either; no thread per request, no internal thread.  A
 * slow or hostile HTTP client costs only its own connection: MHD reads and
 * writes without blocking, a connection idle for CONN_TIMEOUT seconds is
 * closed, at most max_clients connections (a quarter of them from one
 * address, but Home Assistant's ingress proxy's) are open, and when they
 * are all taken one more is accepted and the connection that gives way
 * closed (conns.h: an idle one of the address holding the most), requests have no body (anything but GET and HEAD is
 * refused, but the setup API's POSTs), and nothing an HTTP client asks for
 * waits on the disk on the
 * loop: history queries go to the history thread and the connection is
 * suspended until the answer comes back.  libmicrohttpd does not watch a
 * suspended connection's socket (0.9.75 takes it out of its epoll set), so
 * bmsgw does, in an epoll set of its own: a client that leaves while its
 * request waits (a login, a history query, the next live event) frees its
 * connection at once.
 *
 *   /                    the page (gateway/web/www/, built into the binary)
 *   /javascript/...      Debian's shared JavaScript (/usr/share/javascript,
 *                        e.g. libjs-chart.js), read-only
 *   /api/state           everything the page shows, as JSON (status.c)
 *   /api/config          the configuration in force, key by key (status.c)
 *   /api/events          the same as server-sent events, at most once a
 *                        second after a poll and at least every 5 s
 *   /api/history         chart columns of one unit over a range
 *   /api/history.csv     the samples of one unit over a range, as CSV,
 *                        streamed in chunks of CSV_ROWS rows
 *   /metrics             Prometheus text format (status.c)
 *   /api/setup/...       the Setup tab's API (setup/setup.h): its POSTs are
 *                        the only requests with a body (JSON, at most
 *                        GW_SETUP_BODY_MAX bytes, else 413)
 *
 * Every request is judged at its headers first (headers_gate()): a Host
 * that is not a name of this gateway is 421 (hosts.c: DNS rebinding), on
 * every path; a request with a body has its login, role, path and length
 * judged there too, so that a refusal is answered before a byte of the
 * body is read (libmicrohttpd then closes the connection, the body unread,
 * and sends no 100 Continue).
 *
 * With tls_cert the server speaks HTTPS only (tls.c hands each handshake
 * the certificate; a reload replaces it without closing a connection);
 * TLS 1.2 and 1.3 only.  With users_file every path asks for a login
 * (HTTP Basic, which is why users_file needs tls_cert), checked off the
 * loop (auth.c) while the request is suspended; the configuration
 * (/api/config, the setup API but its session and schema) is an admin's;
 * metrics_public lets /metrics through without one.  A plain HTTP server
 * refuses a request that carries a login: it has none, and says so.  With
 * ingress, Home Assistant's ingress proxy (ingress.c) brings its logged-in
 * users, let in as admins and allowed to frame the page; X-Ingress-Path
 * from any other address is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "creds.h"
#include "users.h"
#include "../model/gw.h"
#include "auth.h"
#include "hosts.h"
#include "ingress.h"
#include "conns.h"
#include "tls.h"
#include "../history/history.h"
#include "http.h"
#include "../model/json.h"
#include "../core/acceptor.h"
#include "../core/log.h"
#include "../core/net.h"
#include "status.h"
#include "setup/setup.h"
#include "../core/util.h"

#ifndef BMSGW_VERSION
#error "BMSGW_VERSION comes from the Makefile (VERSION)"
#endif

#define JS_DIR "/usr/share/javascript"  /* Debian's libjs-* packages */
#define RESOLV_CONF "/etc/resolv.conf"   /* this machine's domains (learn_hosts()) */
#define JS_DIR_ALT "/usr/share/nodejs"   /* where some of them point */
#define CONN_TIMEOUT 30u                 /* seconds a connection may stay idle */
#define IDLE_BUSY 5u                     /* ... with no request, when over half full */
#define SSE_MIN 1.0                      /* live state at most this often ... */
#define SSE_MAX 5.0                      /* ... and at least this often */
#define CSV_ROWS 2000                    /* rows per chunk of a CSV download */
#define CHART_POINTS 500
#define CHART_POINTS_MAX 2000
/* GnuTLS priorities: its defaults without SSL 3.0, TLS 1.0 and 1.1 */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define REALM "bmsgw"

enum req_auth { AU_NONE, AU_WAIT, AU_DONE };

enum req_kind { RQ_PLAIN, RQ_SSE, RQ_CHART, RQ_CSV, RQ_SETUP };

/* One request; freed when MHD completed it and no response reads from it. */
struct req {
	struct gw_http *h;
	struct MHD_Connection *con;
	struct req *next, *prev;       /* in h->reqs: requests that may be suspended */
	bool listed;
	enum req_kind kind;
	int refs;
	bool headers_judged;           /* its Host, and a body's login and path, judged (headers_gate()) */
	bool suspended;
	bool watched;                  /* its socket in h->hup_fd while suspended */
	bool gone;                     /* its client left while it was suspended */
	/* a history query */
	struct gw_hquery *q;
	bool answered;
	int status;
	char err[160];
	/* a streamed body */
	char *buf;
	size_t len, off;
	bool eof, fail;
	char unit[CONF_NAME_MAX];
	int64_t from, to, step, cursor; /* CSV: the chunk after `cursor` comes next */
	unsigned long seq;             /* SSE: the state event it has */
	/* its login */
	enum req_auth auth;
	int role;                      /* enum gw_role or GW_AUTH_FAIL, _BUSY, _WAIT */
	bool ingress;                  /* from Home Assistant's ingress proxy (ingress.c) */
	struct gw_auth_ask *ask;
	char user[GW_USER_NAME_MAX + 1]; /* the login's name, "" without one */
	/* a setup API request: its body, its answer owed */
	char *body;
	size_t blen;
	bool too_big;
	struct gw_setup_wait *wait;
	struct gw_setup_answer ans;
};

struct gw_http {
	struct gw *gw;
	struct conf_http cfg;          /* a copy */
	struct MHD_Daemon *d;
	ev_io io;
	ev_timer timer;
	ev_timer push;                 /* live state pace */
	double last_push;
	bool dirty;
	char *event;                   /* the newest state event */
	size_t event_len;
	unsigned long seq;
	struct req *reqs;
	struct gw_conns conns;
	int nsse;
	int hup_fd;                    /* epoll: the sockets of suspended requests */
	ev_io hup;
	ev_timer room;                 /* make_room() again: a grace ends */
	unsigned long requests, refused;
	unsigned long gave_way;        /* connections closed for a new one (make_room) */
	unsigned long address_full;    /* connections refused: their address held its share */
	unsigned long misdirected;     /* requests refused (421): their Host not a name of this gateway */
	struct gw_hosts hosts;         /* the names the page answers to (learn_hosts()) */
	struct gw_hosts cert_hosts;    /* of them, the DNS names of the certificate in force */
	bool stopping;
	bool running;                  /* inside MHD_run() */
	bool rerun;                    /* run again once it returns */
	char etag[40];
	struct gw_tls *tls;            /* NULL: plain HTTP */
	struct gw_auth *auth;          /* NULL: no logins */
	unsigned long plain_logins;    /* logins refused for plain HTTP */
};

static void http_run(struct gw_http *h);

/* ------------------------------------------------------------- plumbing */

static void req_unref(struct req *r)
{
	if (--r->refs > 0)
		return;
	free(r->buf);
	free(r->body);
	free(r->ans.json);
	free(r);
}

static void req_list(struct gw_http *h, struct req *r)
{
	if (r->listed)
		return;
	r->listed = true;
	r->prev = NULL;
	r->next = h->reqs;
	if (h->reqs)
		h->reqs->prev = r;
	h->reqs = r;
}

static void req_unlist(struct gw_http *h, struct req *r)
{
	if (!r->listed)
		return;
	r->listed = false;
	if (r->prev)
		r->prev->next = r->next;
	else
		h->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->next = r->prev = NULL;
}

/* r's socket in (on) or out of the set watched for its client's leaving
 * (an end of stream or an error: EPOLLRDHUP, EPOLLHUP, EPOLLERR). */
static void watch_hangup(struct req *r, bool on)
{
	struct gw_http *h = r->h;
	if (r->watched == on || h->hup_fd < 0)
		return;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->con, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return;
	struct epoll_event ev = { .events = EPOLLRDHUP, .data.ptr = r };
	if (epoll_ctl(h->hup_fd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, ci->connect_fd, &ev) == 0 || !on)
		r->watched = on;
}

static void suspend(struct req *r)
{
	if (r->suspended)
		return;
	r->suspended = true;
	MHD_suspend_connection(r->con);
	watch_hangup(r, true);
}

static void resume(struct req *r)
{
	if (!r->suspended)
		return;
	r->suspended = false;
	watch_hangup(r, false);
	MHD_resume_connection(r->con);
}

/* r's client left while r was suspended: what it waited for is dropped,
 * and libmicrohttpd closes the connection at its next run. */
static void client_gone(struct req *r)
{
	r->gone = true;
	r->fail = true;
	gw_auth_cancel(&r->ask);
	gw_history_cancel(&r->q);
	gw_setup_cancel(&r->wait); /* an apply under way goes on; its answer has no one to go to */
	resume(r);
}

static void hup_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_http *h = container_of(w, struct gw_http, hup);
	struct epoll_event evs[32];
	int n = epoll_wait(h->hup_fd, evs, 32, 0);
	for (int i = 0; i < n; i++)
		client_gone(evs[i].data.ptr); /* resumed, none freed before http_run() */
	if (n > 0)
		http_run(h);
}

static void arm_timer(struct gw_http *h)
{
	struct ev_loop *loop = h->gw->loop;
	MHD_UNSIGNED_LONG_LONG ms;
	ev_timer_stop(loop, &h->timer);
	if (MHD_get_timeout(h->d, &ms) == MHD_YES) {
		ev_timer_set(&h->timer, (double)ms / 1000.0, 0.);
		ev_timer_start(loop, &h->timer);
	}
}

static void http_run(struct gw_http *h)
{
	if (h->running) {
		h->rerun = true;
		return;
	}
	h->running = true;
	do {
		h->rerun = false;
		MHD_run(h->d);
	} while (h->rerun);
	h->running = false;
	arm_timer(h);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	http_run(container_of(w, struct gw_http, io));
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	http_run(container_of(w, struct gw_http, timer));
}

static void add_common(struct MHD_Response *resp, const char *type, bool nocache)
{
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (nocache)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
}

/* Queue text (malloc'd, taken over) as the answer, with Retry-After when
 * retry is not NULL. */
static enum MHD_Result send_retry(struct MHD_Connection *con, unsigned status, const char *type, char *text,
				  size_t len, const char *retry)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	add_common(resp, type, true);
	if (retry)
		MHD_add_response_header(resp, "Retry-After", retry);
	enum MHD_Result rc = MHD_queue_response(con, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result send_owned(struct MHD_Connection *con, unsigned status, const char *type, char *text,
				  size_t len)
{
	return send_retry(con, status, type, text, len, NULL);
}

/* msg as the answer: {"error": msg} or a line of text. */
static enum MHD_Result send_msg(struct MHD_Connection *con, unsigned status, bool json, const char *retry,
				const char *msg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&text, &len);
	if (!o)
		return MHD_NO;
	if (json) {
		fputs("{\"error\":", o);
		gw_json_str(o, msg);
		fputs("}\n", o);
	} else {
		fprintf(o, "%s\n", msg);
	}
	fclose(o);
	return send_retry(con, status, json ? "application/json" : "text/plain; charset=utf-8", text, len, retry);
}

__attribute__((format(printf, 4, 5)))
static enum MHD_Result send_error(struct MHD_Connection *con, unsigned status, bool json, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return send_msg(con, status, json, NULL, msg);
}

/* ------------------------------------------------------------- static files */

static uint32_t fnv1a(const unsigned char *p, size_t n, uint32_t hsh)
{
	for (size_t i = 0; i < n; i++)
		hsh = (hsh ^ p[i]) * 16777619u;
	return hsh;
}

/* The page's file f; in Home Assistant's panel (ingress) it may be framed
 * by Home Assistant's own pages, which the proxy serves from one origin. */
static enum MHD_Result send_www(struct gw_http *h, struct MHD_Connection *con, const struct gw_www_file *f,
				bool ingress)
{
	const char *inm = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	struct MHD_Response *resp;
	unsigned status = MHD_HTTP_OK;
	if (inm && strcmp(inm, h->etag) == 0) {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_NOT_MODIFIED;
	} else {
		resp = MHD_create_response_from_buffer(f->len, (void *)f->data, MHD_RESPMEM_PERSISTENT);
	}
	if (!resp)
		return MHD_NO;
	add_common(resp, f->type, false);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, h->etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	/* no inline script anywhere: the page's scripts are its own files */
	MHD_add_response_header(resp, "Content-Security-Policy",
				ingress ? "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' "
					  "data:; connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
					  "frame-ancestors 'self'"
					: "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' "
					  "data:; connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
					  "frame-ancestors 'none'");
	MHD_add_response_header(resp, "X-Frame-Options", ingress ? "SAMEORIGIN" : "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	enum MHD_Result rc = MHD_queue_response(con, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static const char *js_type(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (dot && (strcmp(dot, ".js") == 0 || strcmp(dot, ".mjs") == 0))
		return "text/javascript; charset=utf-8";
	if (dot && strcmp(dot, ".css") == 0)
		return "text/css; charset=utf-8";
	if (dot && strcmp(dot, ".map") == 0)
		return "application/json";
	return NULL;
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* /javascript/REST from Debian's shared JavaScript directory. */
static enum MHD_Result send_js(struct MHD_Connection *con, const char *rest)
{
	const char *type = js_type(rest);
	bool ok = type && rest[0] && rest[0] != '/' && !strstr(rest, "..") && !strstr(rest, "//") &&
		  strlen(rest) < 200;
	for (const char *p = rest; ok && *p; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		     *p == '_' || *p == '-' || *p == '/';
	if (!ok)
		return send_error(con, MHD_HTTP_NOT_FOUND, false, "not found");
	char path[PATH_MAX], real[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", JS_DIR, rest);
	if (!realpath(path, real) || !(under(real, JS_DIR) || under(real, JS_DIR_ALT)))
		return send_error(con, MHD_HTTP_NOT_FOUND, false, "%s/%s: not found (its Debian package is missing?)",
				  JS_DIR, rest);
	int fd = open(real, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return send_error(con, MHD_HTTP_NOT_FOUND, false, "not found");
	}
	struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	if (!resp) {
		close(fd);
		return MHD_NO;
	}
	add_common(resp, type, false);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "max-age=86400");
	enum MHD_Result rc = MHD_queue_response(con, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* ---------------------------------------------------------- state, metrics */

enum state_kind { ST_STATE, ST_METRICS, ST_CONFIG };

static char *state_text(struct gw *gw, size_t *len)
{
	char *text = NULL;
	FILE *o = open_memstream(&text, len);
	if (!o)
		return NULL;
	gw_status_json(gw, o);
	if (fclose(o) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

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
		text = state_text(h->gw, &len);
	}
	if (!text)
		return MHD_NO;
	return send_owned(con, MHD_HTTP_OK,
			  kind == ST_METRICS ? "text/plain; version=0.0.4; charset=utf-8" : "application/json", text, len);
}

/* ---------------------------------------------------------- live events */

/* The newest state as one server-sent event (its JSON on one line). */
static void make_event(struct gw_http *h)
{
	size_t len = 0;
	char *js = state_text(h->gw, &len);
	if (!js)
		return;
	for (size_t i = 0; i < len; i++)
		if (js[i] == '\n' || js[i] == '\r')
			js[i] = ' ';
	char *ev = malloc(len + 32);
	if (!ev) {
		free(js);
		return;
	}
	int n = snprintf(ev, len + 32, "event: state\ndata: %.*s\n\n", (int)len, js);
	free(js);
	free(h->event);
	h->event = ev;
	h->event_len = n > 0 ? (size_t)n : 0;
	h->seq++;
	h->dirty = false;
	h->last_push = gw_mono();
}

static void push_events(struct gw_http *h)
{
	make_event(h);
	bool any = false;
	for (struct req *r = h->reqs; r; r = r->next)
		if (r->kind == RQ_SSE && r->suspended) {
			resume(r);
			any = true;
		}
	if (any)
		http_run(h);
}

static void push_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_http *h = container_of(w, struct gw_http, push);
	if (!h->nsse)
		return;
	if (h->dirty || gw_mono() - h->last_push >= SSE_MAX - 0.05)
		push_events(h);
}

void gw_http_changed(struct gw_http *h)
{
	if (h)
		h->dirty = true;
}

static ssize_t sse_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct req *r = cls;
	struct gw_http *h = r->h;
	if (h->stopping)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (r->gone)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (r->off >= r->len && r->seq != h->seq && h->event) {
		char *copy = malloc(h->event_len);
		if (!copy)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		memcpy(copy, h->event, h->event_len);
		free(r->buf);
		r->buf = copy;
		r->len = h->event_len;
		r->off = 0;
		r->seq = h->seq;
	}
	if (r->off < r->len) {
		size_t n = r->len - r->off < max ? r->len - r->off : max;
		memcpy(buf, r->buf + r->off, n);
		r->off += n;
		return (ssize_t)n;
	}
	suspend(r); /* until the next state */
	return 0;
}

static enum MHD_Result start_sse(struct gw_http *h, struct req *r)
{
	static const char hello[] = "retry: 3000\n\n";
	r->kind = RQ_SSE;
	r->buf = malloc(sizeof(hello));
	if (!r->buf)
		return MHD_NO;
	memcpy(r->buf, hello, sizeof(hello) - 1);
	r->len = sizeof(hello) - 1;
	make_event(h); /* a new page gets the state at once */
	r->seq = h->seq - 1;
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, sse_reader, r,
								      (MHD_ContentReaderFreeCallback)req_unref);
	if (!resp)
		return MHD_NO;
	r->refs++;
	add_common(resp, "text/event-stream", true);
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	enum MHD_Result rc = MHD_queue_response(r->con, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	if (rc == MHD_YES) {
		h->nsse++;
		req_list(h, r);
		if (!ev_is_active(&h->push))
			ev_timer_again(h->gw->loop, &h->push);
	}
	return rc;
}

/* ---------------------------------------------------------- history */

static void on_answer(void *arg, struct gw_hresult *res)
{
	struct req *r = arg;
	struct gw_http *h = r->h;
	r->q = NULL;
	r->answered = true;
	r->status = res->status;
	snprintf(r->err, sizeof(r->err), "%s", res->err);
	if (res->status == 200) {
		free(r->buf);
		r->buf = res->text;
		r->len = res->len;
		r->off = 0;
		r->eof = res->done;
		r->cursor = res->next;
	} else {
		free(res->text);
		r->fail = true;
	}
	res->text = NULL;
	resume(r);
	http_run(h);
}

static ssize_t csv_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct req *r = cls;
	struct gw_http *h = r->h;
	if (h->stopping || r->fail || !gw_history_of(h->gw))
		return MHD_CONTENT_READER_END_WITH_ERROR; /* the client sees a cut transfer */
	if (r->off < r->len) {
		size_t n = r->len - r->off < max ? r->len - r->off : max;
		memcpy(buf, r->buf + r->off, n);
		r->off += n;
		return (ssize_t)n;
	}
	if (r->eof)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (!r->q) {
		r->q = gw_history_csv(gw_history_of(h->gw), r->unit, r->from, r->to, r->step, r->cursor, CSV_ROWS, on_answer,
				      r);
		if (!r->q)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	suspend(r);
	return 0;
}

/* unit, range / from / to of a history request; false after an answer */
static bool history_args(struct MHD_Connection *con, struct req *r, enum MHD_Result *rc)
{
	const char *unit = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "unit");
	const char *range = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "range");
	const char *from = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "from");
	const char *to = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "to");
	int64_t now = (int64_t)time(NULL), span = 86400;
	if (!unit || !*unit || strlen(unit) >= sizeof(r->unit)) {
		*rc = send_error(con, MHD_HTTP_BAD_REQUEST, true, "unit: a pack name or bank is required");
		return false;
	}
	snprintf(r->unit, sizeof(r->unit), "%s", unit);
	if (range && strcmp(range, "all") == 0) {
		span = now; /* from the start of time */
	} else if (range && gw_history_parse_span(range, &span) < 0) {
		*rc = send_error(con, MHD_HTTP_BAD_REQUEST, true, "range: \"%s\" is not a duration (24h, 7d, 30d, all)",
				 range);
		return false;
	}
	r->to = now + 1;
	if (to && gw_history_parse_time(to, now, &r->to) < 0) {
		*rc = send_error(con, MHD_HTTP_BAD_REQUEST, true, "to: \"%s\" is not a time (unix seconds or ISO 8601)", to);
		return false;
	}
	r->from = r->to - span;
	if (from && gw_history_parse_time(from, now, &r->from) < 0) {
		*rc = send_error(con, MHD_HTTP_BAD_REQUEST, true, "from: \"%s\" is not a time (unix seconds or ISO 8601)",
				 from);
		return false;
	}
	if (r->from < 0)
		r->from = 0;
	if (r->to <= r->from) {
		*rc = send_error(con, MHD_HTTP_BAD_REQUEST, true, "the range is empty (to must be after from)");
		return false;
	}
	return true;
}

static enum MHD_Result start_history(struct gw_http *h, struct req *r, bool csv)
{
	struct MHD_Connection *con = r->con;
	if (!gw_history_of(h->gw))
		return send_error(con, MHD_HTTP_NOT_FOUND, true, "history is off ([history] file = none)");
	enum MHD_Result rc = MHD_NO;
	if (!history_args(con, r, &rc))
		return rc;
	if (csv) {
		const char *step = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "step");
		if (step && strcmp(step, "0") != 0 && gw_history_parse_span(step, &r->step) < 0)
			return send_error(con, MHD_HTTP_BAD_REQUEST, true, "step: \"%s\" is not a duration (e.g. 5m, 1h)",
					  step);
		r->kind = RQ_CSV;
		r->cursor = r->from - 1;
		r->q = gw_history_csv(gw_history_of(h->gw), r->unit, r->from, r->to, r->step, r->cursor, CSV_ROWS, on_answer, r);
	} else {
		const char *pts = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "points");
		long points = CHART_POINTS;
		if (pts) {
			char *end;
			points = strtol(pts, &end, 10);
			if (*end || points < 10 || points > CHART_POINTS_MAX)
				return send_error(con, MHD_HTTP_BAD_REQUEST, true, "points: expected 10..%d",
						  CHART_POINTS_MAX);
		}
		const char *cells = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "cells");
		if (cells && strcmp(cells, "0") != 0 && strcmp(cells, "1") != 0)
			return send_error(con, MHD_HTTP_BAD_REQUEST, true, "cells: expected 0 or 1");
		r->kind = RQ_CHART;
		r->q = gw_history_chart(gw_history_of(h->gw), r->unit, r->from, r->to, (int)points,
					cells && strcmp(cells, "1") == 0, on_answer, r);
	}
	if (!r->q)
		return MHD_NO;
	req_list(h, r);
	suspend(r);
	return MHD_YES;
}

/* The first answer of a history query came: the response. */
static enum MHD_Result answer_history(struct gw_http *h, struct req *r)
{
	(void)h;
	struct MHD_Connection *con = r->con;
	if (r->status != 200)
		return send_error(con, (unsigned)r->status, true, "%s", r->err);
	if (r->kind == RQ_CHART) {
		char *text = r->buf;
		r->buf = NULL;
		return send_owned(con, MHD_HTTP_OK, "application/json", text, r->len);
	}
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, csv_reader, r,
								      (MHD_ContentReaderFreeCallback)req_unref);
	if (!resp)
		return MHD_NO;
	r->refs++;
	add_common(resp, "text/csv; charset=utf-8", true);
	char cd[160], day[16];
	time_t t = (time_t)r->from;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	snprintf(cd, sizeof(cd), "attachment; filename=\"bmsgw-%s-%s.csv\"", r->unit, day);
	MHD_add_response_header(resp, "Content-Disposition", cd);
	enum MHD_Result rc = MHD_queue_response(con, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* ---------------------------------------------------------- logins */

/* A 401 with the challenge of HTTP Basic (RFC 7617). */
static enum MHD_Result challenge(struct MHD_Connection *con, const char *msg)
{
	size_t n = strlen(msg);
	char *text = malloc(n + 2);
	if (!text)
		return MHD_NO;
	memcpy(text, msg, n);
	memcpy(text + n, "\n", 2);
	struct MHD_Response *resp = MHD_create_response_from_buffer(n + 1, text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	add_common(resp, "text/plain; charset=utf-8", true);
	enum MHD_Result rc = MHD_queue_basic_auth_fail_response(con, REALM, resp);
	MHD_destroy_response(resp);
	return rc;
}

static void client_addr(struct MHD_Connection *con, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	gw_peer_host(ci ? ci->client_addr : NULL, out, len);
}

/* The answer of the login of r came (auth.c). */
static void login_answer(void *arg, int result)
{
	struct req *r = arg;
	r->ask = NULL;
	r->auth = AU_DONE;
	r->role = result;
	req_unlist(r->h, r);
	resume(r);
	http_run(r->h);
}

/* A login not checked now: 429 while the address waits after a failure,
 * 503 when too many are checked; with Retry-After, said in the body. */
static enum MHD_Result come_back(struct gw_http *h, struct MHD_Connection *con, int role, bool json)
{
	char addr[64], secs[16], msg[160];
	int n = 2;
	if (role == GW_AUTH_WAIT) {
		client_addr(con, addr, sizeof(addr));
		n = gw_auth_retry_after(h->auth, addr);
	}
	snprintf(secs, sizeof(secs), "%d", n);
	snprintf(msg, sizeof(msg), role == GW_AUTH_WAIT ? "a login from this address failed: try again in %d s"
							: "too many logins are being checked: try again in %d s", n);
	return send_msg(con, role == GW_AUTH_WAIT ? MHD_HTTP_TOO_MANY_REQUESTS : MHD_HTTP_SERVICE_UNAVAILABLE, json,
			secs, msg);
}

/* Ask auth.c about r's login: false when answered or waiting (*rc). */
static bool ask_login(struct gw_http *h, struct req *r, enum MHD_Result *rc)
{
	char *pw = NULL, addr[64];
	char *user = MHD_basic_auth_get_username_password(r->con, &pw);
	if (!user) {
		if (pw)
			MHD_free(pw);
		*rc = challenge(r->con, "a login is needed (users_file)");
		return false;
	}
	client_addr(r->con, addr, sizeof(addr));
	snprintf(r->user, sizeof(r->user), "%s", strlen(user) < sizeof(r->user) ? user : "");
	struct gw_auth_ask *q = NULL;
	size_t pwlen = pw ? strlen(pw) : 0;
	int res = gw_auth_check(h->auth, addr, user, pw ? pw : "", pwlen, login_answer, r, &q);
	if (pw) {
		explicit_bzero(pw, pwlen);
		MHD_free(pw);
	}
	MHD_free(user);
	if (res == GW_AUTH_PENDING) {
		r->ask = q;
		r->auth = AU_WAIT;
		req_list(h, r);
		suspend(r);
		*rc = MHD_YES;
		return false;
	}
	r->auth = AU_DONE;
	r->role = res;
	return true;
}

/* The length of the client's address libmicrohttpd gives (0: none). */
static socklen_t peer_len(const struct sockaddr *peer)
{
	return !peer ? 0 : peer->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* Home Assistant's ingress: r comes from its proxy (r->ingress), or from
 * elsewhere with its header, refused (false, *rc), or is any request. */
static bool ingress_gate(struct gw_http *h, struct req *r, bool json, enum MHD_Result *rc)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *peer = ci ? ci->client_addr : NULL;
	const char *hdr = MHD_lookup_connection_value(r->con, MHD_HEADER_KIND, "X-Ingress-Path");
	switch (gw_ingress_judge(h->cfg.ingress, peer, peer_len(peer), hdr)) {
	case GW_INGRESS_PROXY: /* Home Assistant's user, logged in there: an admin */
		r->ingress = true;
		r->auth = AU_DONE;
		r->role = GW_ROLE_ADMIN;
		return true;
	case GW_INGRESS_FORGED:
		*rc = send_error(r->con, MHD_HTTP_FORBIDDEN, json,
				 "X-Ingress-Path is believed only from Home Assistant's ingress proxy (%s)",
				 GW_INGRESS_PROXY_ADDR);
		return false;
	default:
		return true;
	}
}

/* What shows the configuration, or what it is made of, is an admin's: the
 * configuration in force (/api/config) and every path of the setup API
 * (the file, its changes, the ports and the packs on them, detections and
 * their results, every change) but session (who the login is, and its
 * token) and schema (the forms, the same for everyone). */
static bool for_admins(const char *url)
{
	if (strcmp(url, "/api/config") == 0)
		return true;
	return strncmp(url, "/api/setup/", 11) == 0 && strcmp(url + 11, "session") != 0 &&
	       strcmp(url + 11, "schema") != 0;
}

/* May r go on?  false when it was answered or waits for its login (*rc).
 * Home Assistant's ingress mark was judged first (headers_gate()). */
static bool gate(struct gw_http *h, struct req *r, const char *url, enum MHD_Result *rc)
{
	struct MHD_Connection *con = r->con;
	bool json = strncmp(url, "/api/", 5) == 0;
	*rc = MHD_YES;
	if (r->ingress)
		return true;
	if (!h->auth && !h->cfg.users_file[0]) {
		if (h->tls || !MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION))
			return true;
		h->plain_logins++;
		*rc = send_error(con, MHD_HTTP_FORBIDDEN, json,
				 "logins only over HTTPS: this server speaks plain HTTP ([http] has no tls_cert) and "
				 "takes no login; the password crossed the network readable");
		return false;
	}
	if (h->cfg.metrics_public && strcmp(url, "/metrics") == 0)
		return true;
	if (!h->auth) { /* users_file, but its login thread could not start: refuse, never let in */
		*rc = send_error(con, MHD_HTTP_SERVICE_UNAVAILABLE, json,
				 "no logins can be checked (the login thread could not start): nothing is served");
		return false;
	}
	if (r->auth == AU_WAIT)
		return false;
	if (r->auth == AU_NONE && !ask_login(h, r, rc))
		return false;
	if (r->role == GW_AUTH_BUSY || r->role == GW_AUTH_WAIT) {
		*rc = come_back(h, con, r->role, json);
		return false;
	}
	if (r->role == GW_AUTH_FAIL) {
		*rc = challenge(con, "wrong user name or password");
		return false;
	}
	if (for_admins(url) && r->role != GW_ROLE_ADMIN) {
		*rc = send_error(con, MHD_HTTP_FORBIDDEN, true, "%s is for a user of role admin (the configuration, and "
				 "what it is made of)", url);
		return false;
	}
	return true;
}

/* The Host r gave is a name this gateway answers to (hosts.c), or r comes
 * from Home Assistant's ingress proxy, which sends its user's Host; else
 * 421 Misdirected Request (RFC 9110), logged once an interval. */
static bool host_gate(struct gw_http *h, struct req *r, bool json, enum MHD_Result *rc)
{
	const char *host = MHD_lookup_connection_value(r->con, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	if (r->ingress || gw_hosts_ok(&h->hosts, host))
		return true;
	char shown[80], addr[64];
	size_t i = 0;
	for (; host[i] && i < sizeof(shown) - 1; i++)
		shown[i] = host[i] > ' ' && host[i] <= '~' && host[i] != '"' && host[i] != '\\' ? host[i] : '?';
	shown[i] = '\0';
	client_addr(r->con, addr, sizeof(addr));
	h->misdirected++;
	gw_log_keyed(GW_LOG_WARN, "http misdirected", "http: a request from %s for \"%s\" refused (421): not a name "
		     "of this gateway (another site's page whose name leads here, DNS rebinding; or a name of yours: "
		     "[http] allowed_hosts)", addr, shown);
	*rc = send_error(r->con, MHD_HTTP_MISDIRECTED_REQUEST, json, "\"%s\" is not a name of this gateway, which "
			 "answers only its own names and addresses (a page of another site whose name leads here is not "
			 "answered): add the name to [http] allowed_hosts if it is yours", shown);
	return false;
}

/* Does r's request carry a body: a Content-Length other than 0, or a
 * chunked one? */
static bool has_body(struct MHD_Connection *con)
{
	const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	return MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) ||
	       (cl && cl[strspn(cl, "0")]);
}

/* Its Content-Length says more than a setup POST may have. */
static bool body_too_big(struct MHD_Connection *con)
{
	const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	return cl && (strspn(cl, "0123456789") != strlen(cl) || strlen(cl) > 12 ||
		      strtoull(cl, NULL, 10) > GW_SETUP_BODY_MAX);
}

/* 405: only GET and HEAD there. */
static enum MHD_Result not_allowed(struct MHD_Connection *con)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result rc = MHD_queue_response(con, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* r at its headers, before a byte of a body is read: Home Assistant's
 * ingress mark (a forged one 403), its Host (421) and, when a body comes,
 * its login, role and path (401, 403, 405, 413).  A refusal is answered
 * at once, and libmicrohttpd then closes the connection without reading
 * the body (nor sends 100 Continue to a client that asked with Expect); a
 * login being checked suspends r, and libmicrohttpd calls again at the
 * headers once it is resumed.  false: answered, or waiting (*rc). */
static bool headers_gate(struct gw_http *h, struct req *r, const char *url, const char *method, enum MHD_Result *rc)
{
	bool json = strncmp(url, "/api/", 5) == 0;
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	*rc = MHD_YES;
	if (!ingress_gate(h, r, json, rc) || !host_gate(h, r, json, rc))
		return false;
	if (get && !has_body(r->con))
		return true; /* its login at its second call (on_request()) */
	if (!gate(h, r, url, rc))
		return false;
	if (!get && strncmp(url, "/api/setup/", 11) != 0) {
		*rc = not_allowed(r->con);
		return false;
	}
	if (body_too_big(r->con)) {
		*rc = send_error(r->con, 413, true, "a body is at most %d KiB", GW_SETUP_BODY_MAX / 1024);
		return false;
	}
	return true;
}

/* ---------------------------------------------------------- the setup API */

/* From this machine itself (127/8, ::1, ::ffff:127/104). */
static bool from_loopback(struct MHD_Connection *con)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	if (sa && sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa && sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

static enum MHD_Result send_setup(struct MHD_Connection *con, struct req *r)
{
	struct gw_setup_answer *a = &r->ans;
	char *json = a->json ? a->json : strdup("{}");
	size_t len = a->json ? a->len : 2;
	a->json = NULL;
	if (!json)
		return MHD_NO;
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, json, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(json);
		return MHD_NO;
	}
	add_common(resp, "application/json", true);
	if (a->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, a->allow);
	enum MHD_Result rc = MHD_queue_response(con, (unsigned)a->status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* The answer of a setup request that waited (the setup API calls this from the loop). */
static void setup_answered(void *arg, struct gw_setup_answer *a)
{
	struct req *r = arg;
	r->wait = NULL;
	free(r->ans.json);
	r->ans = *a;
	r->answered = true;
	req_unlist(r->h, r);
	resume(r);
	http_run(r->h);
}

static enum MHD_Result start_setup(struct gw_http *h, struct req *r, const char *url, const char *method)
{
	struct MHD_Connection *con = r->con;
	if (!h->gw->setup)
		return send_error(con, MHD_HTTP_SERVICE_UNAVAILABLE, true, "the setup API could not start (out of memory, or "
				  "no thread)");
	if (r->too_big)
		return send_error(con, 413, true, "a body is at most %d KiB",
				  GW_SETUP_BODY_MAX / 1024);
	char addr[64];
	client_addr(con, addr, sizeof(addr));
	struct gw_setup_req q = {
		.method = method, .path = url + 11, .body = r->body ? r->body : "", .len = r->blen,
		.content_type = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
		.csrf = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "X-CSRF-Token"),
		.origin = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Origin"),
		.host = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
		.user = r->ingress ? "Home Assistant" : h->auth && r->user[0] ? r->user : NULL,
		.role = r->ingress ? GW_ROLE_ADMIN : h->auth && r->user[0] ? r->role : -1,
		.tls = h->tls != NULL, .trusted = from_loopback(con) || h->cfg.clients.n > 0, .addr = addr,
		.ingress = r->ingress,
	};
	r->kind = RQ_SETUP;
	if (!gw_setup_handle(h->gw->setup, &q, &r->ans, setup_answered, r, &r->wait))
		return send_setup(con, r);
	req_list(h, r);
	suspend(r);
	return MHD_YES;
}

/* A chunk of a setup POST's body: kept up to GW_SETUP_BODY_MAX, then only counted. */
static bool take_body(struct req *r, const char *url, const char *data, size_t n)
{
	if (strncmp(url, "/api/setup/", 11) != 0 || r->too_big)
		return true;
	if (r->blen + n > GW_SETUP_BODY_MAX) {
		r->too_big = true;
		free(r->body);
		r->body = NULL;
		r->blen = 0;
		return true;
	}
	char *b = realloc(r->body, r->blen + n + 1);
	if (!b)
		return false;
	memcpy(b + r->blen, data, n);
	r->blen += n;
	b[r->blen] = '\0';
	r->body = b;
	return true;
}

/* ---------------------------------------------------------- requests */

static struct gw_conn *conn_of(struct MHD_Connection *con)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
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
	struct gw_conn *c = conn_of(con);
	if (c)
		gw_conns_busy(c, true, gw_mono()); /* never the one that gives way now */
	/* a request in progress: a slow client has the whole CONN_TIMEOUT */
	MHD_set_connection_option(con, MHD_CONNECTION_OPTION_TIMEOUT, CONN_TIMEOUT);
	return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_size, void **ctx)
{
	(void)version;
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
		if (!headers_gate(h, r, url, method, &hrc))
			return hrc;
		r->headers_judged = true;
		/* the rest from the second call: a response queued in the first
		 * makes libmicrohttpd 0.9.75 close the connection after it (no
		 * keep-alive), which over TLS costs a handshake a request */
		return MHD_YES;
	}
	if (*upload_size) {
		bool ok = take_body(r, url, upload_data, *upload_size); /* other bodies are never read */
		*upload_size = 0;
		return ok ? MHD_YES : MHD_NO;
	}
	if (r->kind == RQ_CHART || r->kind == RQ_CSV)
		return r->answered ? answer_history(h, r) : MHD_YES;
	if (r->kind == RQ_SETUP)
		return r->answered ? send_setup(con, r) : MHD_YES;
	enum MHD_Result grc;
	if (!gate(h, r, url, &grc))
		return grc;
	if (strncmp(url, "/api/setup/", 11) == 0)
		return start_setup(h, r, url, method);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return not_allowed(con);
	if (strcmp(url, "/api/state") == 0)
		return send_state(h, con, ST_STATE);
	if (strcmp(url, "/metrics") == 0)
		return send_state(h, con, ST_METRICS);
	if (strcmp(url, "/api/config") == 0)
		return send_state(h, con, ST_CONFIG);
	if (strcmp(url, "/api/events") == 0)
		return start_sse(h, r);
	if (strcmp(url, "/api/history") == 0)
		return start_history(h, r, false);
	if (strcmp(url, "/api/history.csv") == 0)
		return start_history(h, r, true);
	if (strncmp(url, "/javascript/", 12) == 0)
		return send_js(con, url + 12);
	const char *path = strcmp(url, "/") == 0 ? "/index.html" : url;
	for (const struct gw_www_file *f = gw_www_files; f->path; f++)
		if (strcmp(f->path, path) == 0)
			return send_www(h, con, f, r->ingress);
	return send_error(con, MHD_HTTP_NOT_FOUND, strncmp(url, "/api/", 5) == 0, "%s: not found", url);
}

/* A connection without a request in progress (new, or kept alive after
 * one) is the first to go when the server fills: over half of max_clients,
 * it may stay idle IDLE_BUSY s instead of CONN_TIMEOUT. */
static void idle_timeout(struct gw_http *h, struct MHD_Connection *con)
{
	unsigned secs = h->conns.n * 2 > h->cfg.max_clients ? IDLE_BUSY : CONN_TIMEOUT;
	MHD_set_connection_option(con, MHD_CONNECTION_OPTION_TIMEOUT, secs);
}

/* Over max_clients (newcomer: the connection just opened, else NULL): the
 * connection conns.c chooses goes.  Its socket is shut: libmicrohttpd
 * sees the end at once and closes it (it has no call to close one). */
static void make_room(struct gw_http *h, struct gw_conn *newcomer)
{
	struct ev_loop *loop = h->gw->loop;
	ev_timer_stop(loop, &h->room);
	if (h->stopping || gw_conns_open(&h->conns) <= h->cfg.max_clients)
		return;
	double now = gw_mono(), again = 0;
	struct gw_conn *v = gw_conns_over(&h->conns, newcomer, now, &again);
	if (!v) {
		/* none may go yet: one more until a request ends or a grace does */
		if (again > 0) {
			ev_timer_set(&h->room, again - now > 0.01 ? again - now : 0.01, 0.);
			ev_timer_start(loop, &h->room);
		}
		return;
	}
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(v->con, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci)
		shutdown(ci->connect_fd, SHUT_RDWR);
	h->rerun = true;
	h->gave_way++;
	char who[64];
	gw_peer_host((const struct sockaddr *)&v->addr, who, sizeof(who));
	/* one line of each kind per interval, whatever the addresses */
	gw_log_keyed(GW_LOG_INFO, v == newcomer ? "http full new" : "http full idle",
		     "http: full (%d connections): %s from %s gives way%s", h->cfg.max_clients,
		     v == newcomer ? "a new connection" : "an idle connection", who,
		     v == newcomer ? " (its address has its share)" : " to a new one");
}

static void room_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_http *h = container_of(w, struct gw_http, room);
	make_room(h, NULL);
	if (h->rerun)
		http_run(h);
}

static void on_completed(void *cls, struct MHD_Connection *con, void **ctx, enum MHD_RequestTerminationCode toe)
{
	struct gw_http *h = cls;
	struct req *r = *ctx;
	struct gw_conn *c = conn_of(con);
	if (c)
		gw_conns_busy(c, false, gw_mono());
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
		idle_timeout(h, con); /* kept alive, idle now */
		make_room(h, NULL);
	}
	if (!r)
		return;
	*ctx = NULL;
	watch_hangup(r, false);
	if (r->kind == RQ_SSE && r->listed)
		h->nsse--;
	req_unlist(h, r);
	gw_history_cancel(&r->q);
	gw_auth_cancel(&r->ask);
	gw_setup_cancel(&r->wait);
	r->fail = true;
	req_unref(r);
}

static void on_connection(void *cls, struct MHD_Connection *con, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct gw_http *h = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		struct gw_conn *c = calloc(1, sizeof(*c));
		*socket_ctx = c;
		if (!c) {
			MHD_set_connection_option(con, MHD_CONNECTION_OPTION_TIMEOUT, 1u); /* out of memory: it goes soon */
			return;
		}
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		c->con = con;
		gw_conns_add(&h->conns, c, ci ? ci->client_addr : NULL, gw_mono());
		c->proxy = h->cfg.ingress && ci && gw_ingress_proxy_peer(ci->client_addr, peer_len(ci->client_addr));
		idle_timeout(h, con);
		if (h->tls)
			gw_tls_conn_started(h->tls, &c->tls);
		make_room(h, c);
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		struct gw_conn *c = *socket_ctx;
		if (c) {
			if (h->tls)
				gw_tls_conn_closed(&c->tls);
			gw_conns_remove(&h->conns, c);
			free(c);
			*socket_ctx = NULL;
		}
		/* At max_clients libmicrohttpd takes the listening socket out of its
		 * epoll set, and puts it back only at the start of a later MHD_run():
		 * after the last close nothing would wake one, and the page would
		 * never accept again.  Run it once more now. */
		h->rerun = true;
	}
}

/* The connections one address may hold, a quarter of max_clients rounded
 * up (four addresses, never one, can fill it); as many logins may wait for
 * their check at once. */
static int addr_share(const struct conf_http *c)
{
	return (c->max_clients + 3) / 4;
}

/* A connection from addr: refused outside [http] clients, and from an
 * address that holds its share already, but Home Assistant's ingress proxy
 * when [http] ingress is on: every user of Home Assistant comes from its
 * address (the server's limit and make_room() still hold). */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct gw_http *h = cls;
	if (h->cfg.clients.n && !conf_nets_match(&h->cfg.clients, addr)) {
		h->refused++;
		gw_debug("http: a client outside [http] clients refused");
		return MHD_NO;
	}
	if (h->cfg.ingress && gw_ingress_proxy_peer(addr, addrlen))
		return MHD_YES;
	if (gw_conns_of(&h->conns, addr) >= addr_share(&h->cfg)) {
		h->address_full++;
		gw_debug("http: a connection refused: its address holds a quarter of max_clients");
		return MHD_NO;
	}
	return MHD_YES;
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	if (gw_log_threshold < GW_LOG_DEBUG)
		return;
	char msg[256];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	gw_debug("http: %s", msg);
}

/* ---------------------------------------------------------- lifecycle */

static void log_cert(struct gw_http *h, const struct gw_creds *c)
{
	gw_info("http: certificate %s (%s)", h->cfg.tls_cert, c->about);
}

const struct conf_http *gw_http_conf(const struct gw_http *h)
{
	return &h->cfg;
}

int gw_http_secrets_load(const struct conf_http *c, struct gw_http_secrets *s, char *err, size_t errlen)
{
	char why[CONF_PORT_MAX * 2 + 200];
	memset(s, 0, sizeof(*s));
	if (c->tls_cert[0] && !(s->creds = gw_creds_load(c->tls_cert, c->tls_key, why, sizeof(why)))) {
		snprintf(err, errlen, "http: tls_cert: %s", why);
		return -1;
	}
	if (c->users_file[0]) {
		if (!(s->users = malloc(sizeof(*s->users))) || gw_users_load(c->users_file, s->users, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "http: users_file: %s", s->users ? why : "out of memory");
			gw_http_secrets_free(s);
			return -1;
		}
	}
	return 0;
}

void gw_http_secrets_free(struct gw_http_secrets *s)
{
	gw_creds_free(s->creds);
	free(s->users);
	memset(s, 0, sizeof(*s));
}

static struct MHD_Daemon *start_mhd(struct gw_http *h, int fd)
{
	const struct conf_http *c = &h->cfg;
	/* one beyond max_clients, which make_room() settles; a quarter of them
	 * from one address (on_accept(), not libmicrohttpd's limit per address,
	 * which would hold Home Assistant's ingress proxy to it too) */
	struct MHD_OptionItem tls_opts[] = {
		{ MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)&gw_tls_retrieve },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES },
		{ MHD_OPTION_END, 0, NULL },
	};
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | (h->tls ? MHD_USE_TLS : 0);
	return MHD_start_daemon(flags, 0, on_accept, h, on_request, h, MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)c->max_clients + 1,
				MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
				(size_t)32 * 1024, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, h, MHD_OPTION_EXTERNAL_LOGGER, on_log, h,
				MHD_OPTION_ARRAY, h->tls ? tls_opts : tls_opts + 2, MHD_OPTION_END);
}


/* The names the page answers to (hosts.c): this machine's (gethostname(),
 * under .local and the domains of /etc/resolv.conf), [http] listen's when
 * it is a name, allowed_hosts, and the certificate's DNS names (creds:
 * a new certificate's, else those of the one in force).  Read at start and
 * at every reload: a host renamed, a DHCP lease's new search domain. */
static void learn_hosts(struct gw_http *h, const struct gw_creds *creds)
{
	char name[GW_HOSTS_NAME] = "", resolv[4096] = "";
	if (creds) {
		gw_hosts_clear(&h->cert_hosts);
		for (int i = 0; i < creds->nnames; i++)
			gw_hosts_add(&h->cert_hosts, creds->names[i]);
	}
	gw_hosts_clear(&h->hosts);
	if (gethostname(name, sizeof(name) - 1) != 0)
		name[0] = '\0';
	FILE *f = fopen(RESOLV_CONF, "re");
	if (f) {
		resolv[fread(resolv, 1, sizeof(resolv) - 1, f)] = '\0';
		fclose(f);
	}
	gw_hosts_add_machine(&h->hosts, name, resolv);
	gw_hosts_add(&h->hosts, h->cfg.listen_host); /* an address or none is left out */
	gw_hosts_add_list(&h->hosts, h->cfg.allowed_hosts);
	for (int i = 0; i < h->cert_hosts.n; i++)
		gw_hosts_add(&h->hosts, h->cert_hosts.name[i]);
}

/* The certificate and the users as a server holds them (taken over). */
static int take_secrets(struct gw_http *h, struct gw_http_secrets *s, char *err, size_t errlen)
{
	if (s->creds)
		log_cert(h, s->creds);
	if (s->creds && !(h->tls = gw_tls_new(s->creds))) {
		s->creds = NULL;
		snprintf(err, errlen, "http: out of memory");
		return -1;
	}
	s->creds = NULL;
	if (s->users && !(h->auth = gw_auth_new(h->gw->loop, s->users, addr_share(&h->cfg)))) {
		s->users = NULL;
		snprintf(err, errlen, "http: cannot start the login thread");
		return -1;
	}
	s->users = NULL;
	return 0;
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
	learn_hosts(h, sec->creds);
	int fd = gw_tcp_listen(c->listen_host, c->listen_port, may_block, lerr, sizeof(lerr));
	if (fd < 0)
		snprintf(err, errlen, "http: %s", lerr);
	else if (take_secrets(h, sec, err, errlen) == 0 && !(h->d = start_mhd(h, fd)))
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
	uint32_t hsh = 2166136261u;
	for (const struct gw_www_file *f = gw_www_files; f->path; f++)
		hsh = fnv1a(f->data, f->len, hsh);
	snprintf(h->etag, sizeof(h->etag), "\"%s-%08" PRIx32 "\"", BMSGW_VERSION, hsh);
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!di) {
		MHD_stop_daemon(h->d);
		gw_tls_free(h->tls);
		gw_auth_free(h->auth);
		free(h);
		snprintf(err, errlen, "http: libmicrohttpd has no epoll descriptor");
		return NULL;
	}
	ev_io_init(&h->io, io_cb, di->epoll_fd, EV_READ);
	ev_io_start(gw->loop, &h->io);
	/* without it (out of descriptors) a suspended request's client is
	 * seen leaving only when the request is resumed, as before */
	h->hup_fd = epoll_create1(EPOLL_CLOEXEC);
	if (h->hup_fd >= 0) {
		ev_io_init(&h->hup, hup_cb, h->hup_fd, EV_READ);
		ev_io_start(gw->loop, &h->hup);
	} else {
		gw_warn("http: epoll_create1: %s: a client leaving a waiting request is seen only when it is answered",
			strerror(errno));
	}
	ev_init(&h->timer, timer_cb);
	ev_init(&h->room, room_cb);
	ev_init(&h->push, push_cb);
	h->push.repeat = SSE_MIN;
	arm_timer(h);
	gw_info("http: status page on %s://%s%s%s:%d/ (read-only%s%s%s)", h->tls ? "https" : "http",
		strchr(c->listen_host, ':') ? "[" : "", c->listen_host, strchr(c->listen_host, ':') ? "]" : "",
		c->listen_port, c->clients.n ? ", clients allowlisted" : "", h->auth ? ", logins from " : "",
		h->auth ? c->users_file : "");
	return h;
}

void gw_http_take_live(struct gw_http *h, const struct conf_http *c, struct gw_http_secrets *s)
{
	/* first: a request resumed below passes the gate on the new keys */
	memcpy(h->cfg.tls_cert, c->tls_cert, sizeof(h->cfg.tls_cert));
	memcpy(h->cfg.tls_key, c->tls_key, sizeof(h->cfg.tls_key));
	memcpy(h->cfg.users_file, c->users_file, sizeof(h->cfg.users_file));
	h->cfg.metrics_public = c->metrics_public;
	h->cfg.setup = c->setup;
	memcpy(h->cfg.allowed_hosts, c->allowed_hosts, sizeof(h->cfg.allowed_hosts));
	learn_hosts(h, s->creds);
	if (s->creds && h->tls) {
		if (strcmp(s->creds->about, gw_tls_about(h->tls)) != 0)
			log_cert(h, s->creds);
		gw_tls_set(h->tls, s->creds);
		s->creds = NULL;
	}
	if (s->users && h->auth) {
		int n = s->users->n;
		if (gw_auth_users(h->auth, s->users))
			gw_info("http: %d user%s from %s", n, n == 1 ? "" : "s", c->users_file);
		s->users = NULL;
	} else if (s->users && !h->auth) {
		if ((h->auth = gw_auth_new(h->gw->loop, s->users, addr_share(&h->cfg))))
			gw_info("http: logins from %s from now on", c->users_file);
		else
			gw_err("http: cannot start the login thread: no logins, every request refused");
		s->users = NULL;
	} else if (!s->users && h->auth) {
		/* a request waiting for its login goes on without one */
		bool any = false;
		for (struct req *r = h->reqs; r; r = r->next)
			if (r->ask) {
				gw_auth_cancel(&r->ask);
				r->auth = AU_NONE;
				resume(r);
				any = true;
			}
		gw_auth_free(h->auth);
		h->auth = NULL;
		gw_info("http: no logins from now on (no users_file)");
		if (any)
			http_run(h);
	}
	gw_http_secrets_free(s);
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
		r->fail = true;
		resume(r);
	}
	ev_io_stop(loop, &h->io);
	ev_timer_stop(loop, &h->timer);
	ev_timer_stop(loop, &h->room);
	ev_timer_stop(loop, &h->push);
	if (h->hup_fd >= 0) {
		ev_io_stop(loop, &h->hup);
		close(h->hup_fd);
	}
	MHD_stop_daemon(h->d);
	gw_tls_free(h->tls);
	gw_auth_free(h->auth);
	free(h->event);
	free(h);
}
