/* SPDX-License-Identifier: MIT */
/* gateway/web/http_int.h - what the files of the HTTP server share: one
 * request, the server, and the calls from one file into another.  Not for
 * use outside gateway/web/.  A file calls only those listed above it:
 *
 *	replies.c      answers: the common headers, a text, an error, a 405;
 *	               the client's address
 *	mhdloop.c      libmicrohttpd on bmsgw's loop: its epoll descriptor
 *	               and timer, a request suspended and resumed, its
 *	               client's leaving watched meanwhile
 *	www.c          the page's own files and Debian's shared JavaScript
 *	sse.c          /api/events: the newest state as server-sent events
 *	histreq.c      /api/history and /api/history.csv from the history's
 *	               thread, the CSV streamed
 *	gate.c         the gate: Home Assistant's ingress, the Host, a login
 *	               (checked off the loop by auth.c), the role, a body
 *	setupbridge.c  /api/setup/: a request handed to the setup API, its
 *	               body read, its answer (at once or later) sent
 *	secrets.c      the certificate and users file, loaded and taken over
 *	               at start and at a reload; the names the page answers to
 *	httpconn.c     the connections: admitted, counted, their idle time,
 *	               the one that gives way when the server is full
 *	door.c         with HTTPS, the listening socket: a connection's first
 *	               byte tells a TLS handshake, handed to libmicrohttpd,
 *	               from plain HTTP, answered with a redirect to HTTPS
 *	               (plainreq.c) and closed
 *	http.c         the server: a request's way through the files above,
 *	               /api/state, /api/config, /metrics, start and stop
 */
#ifndef GATEWAY_WEB_HTTP_INT_H
#define GATEWAY_WEB_HTTP_INT_H

#include <ev.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../../conf/conf.h"
#include "../core/acceptor.h"
#include "bmsapi.h"
#include "conns.h"
#include "hosts.h"
#include "http.h"
#include "http_conf.h"
#include "setup/setup.h"
#include "users.h"

#define CONN_TIMEOUT 30u                 /* seconds a connection may stay idle */

enum req_auth { AU_NONE, AU_WAIT, AU_DONE };

enum req_kind { RQ_PLAIN, RQ_SSE, RQ_CHART, RQ_CSV, RQ_SETUP };

struct gw_auth_ask;
struct gw_hquery;
struct gw_tls;
struct gw_auth;

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
	struct gw_ctl *bset;           /* a POST /api/bms-settings: its change (bmsapi.h) */
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
	/* with HTTPS, the door (door.c): it accepts, libmicrohttpd listens not */
	struct gw_acceptor door;       /* held while the server is full (http_room_check()) */
	struct door_conn *doors;       /* the connections it holds: first bytes awaited, answers */
	double handoff_since;          /* mono: when the connection it hands over was accepted */
	unsigned long redirected;      /* plain HTTP requests sent on to HTTPS (301, 308) */
};

/* The connections one address may hold, a quarter of max_clients rounded
 * up (four addresses, never one, can fill it); as many logins may wait for
 * their check at once. */
static inline int http_addr_share(const struct conf_http *c)
{
	return (c->max_clients + 3) / 4;
}

/* ---- replies.c ---- */

/* Content-Type, nosniff and, when nocache, Cache-Control: no-store. */
void http_add_common(struct MHD_Response *resp, const char *type, bool nocache);
/* Queue text (malloc'd, taken over) as the answer, with Retry-After when
 * retry is not NULL. */
enum MHD_Result http_send_retry(struct MHD_Connection *con, unsigned status, const char *type, char *text, size_t len,
				const char *retry);
enum MHD_Result http_send_owned(struct MHD_Connection *con, unsigned status, const char *type, char *text, size_t len);
/* msg as the answer: {"error": msg} or a line of text. */
enum MHD_Result http_send_msg(struct MHD_Connection *con, unsigned status, bool json, const char *retry,
			      const char *msg);
enum MHD_Result http_send_error(struct MHD_Connection *con, unsigned status, bool json, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* 405: only GET and HEAD there. */
enum MHD_Result http_not_allowed(struct MHD_Connection *con);
/* The client's address as text. */
void http_client_addr(struct MHD_Connection *con, char *out, size_t len);
/* The length of the client's address libmicrohttpd gives (0: none). */
socklen_t http_peer_len(const struct sockaddr *peer);

/* ---- mhdloop.c ---- */

void http_req_unref(struct req *r);
/* In h->reqs (those a reload, a stop or a new state looks for) or out. */
void http_req_list(struct gw_http *h, struct req *r);
void http_req_unlist(struct gw_http *h, struct req *r);
/* r waits (libmicrohttpd leaves it alone, bmsgw watches its client
 * leave), or goes on. */
void http_suspend(struct req *r);
void http_resume(struct req *r);
/* r's socket out of the set watched for its client's leaving. */
void http_unwatch(struct req *r);
/* libmicrohttpd's turn: what can be read, written, timed out (once more
 * when called from inside it). */
void http_run(struct gw_http *h);
/* The loop's watchers of h->d (started, its timer armed), and stopped. */
int http_loop_start(struct gw_http *h, char *err, size_t errlen);
void http_loop_stop(struct gw_http *h);

/* ---- www.c ---- */

/* The page's ETag (of every file and the version) into h->etag. */
void http_www_etag(struct gw_http *h);
/* url as one of the page's files or Debian's shared JavaScript, else
 * 404. */
enum MHD_Result http_www(struct gw_http *h, struct req *r, const char *url);

/* ---- sse.c ---- */

/* /api/state's JSON (malloc'd), NULL when out of memory. */
char *http_state_text(struct gw *gw, size_t *len);
/* /api/events: the stream of r. */
enum MHD_Result http_start_sse(struct gw_http *h, struct req *r);
/* The pace of the live state (h->push) made ready. */
void http_sse_init(struct gw_http *h);

/* ---- histreq.c ---- */

/* /api/history (csv false) or /api/history.csv: the query asked. */
enum MHD_Result http_start_history(struct gw_http *h, struct req *r, bool csv);
/* The first answer of r's query came: the response. */
enum MHD_Result http_answer_history(struct req *r);

/* ---- gate.c ---- */

/* r at its headers, before a byte of a body is read.  false: answered,
 * or waiting (*rc). */
bool http_headers_gate(struct gw_http *h, struct req *r, const char *url, const char *method, const char *version,
		       enum MHD_Result *rc);
/* May r go on?  false when it was answered or waits for its login (*rc). */
bool http_gate(struct gw_http *h, struct req *r, const char *url, enum MHD_Result *rc);
/* A request from addr for a Host that is not a name of this gateway
 * (shown: gw_hosts_shown()'s) refused 421: counted, logged once an
 * interval. */
void http_misdirected(struct gw_http *h, const char *addr, const char *shown);

/* ---- setupbridge.c ---- */

/* /api/setup/...: handed to the setup API. */
enum MHD_Result http_start_setup(struct gw_http *h, struct req *r, const char *url, const char *method);
/* The setup API's answer, once it came. */
enum MHD_Result http_send_setup(struct MHD_Connection *con, struct req *r);
/* /api/bms-settings (bmsapi.h): GET now, a POST once its change ended */
enum MHD_Result http_start_bmsapi(struct gw_http *h, struct req *r, const char *method);
/* A chunk of a setup POST's body: kept up to GW_SETUP_BODY_MAX, then only
 * counted (other bodies are never read).  false: out of memory. */
bool http_take_body(struct req *r, const char *url, const char *data, size_t n);

/* ---- secrets.c ---- */

/* The names the page answers to, learnt anew (creds: a new certificate's,
 * else those of the one in force are kept). */
void http_learn_hosts(struct gw_http *h, const struct gw_creds *creds);
/* The certificate and the users as a server holds them (taken over). */
int http_take_secrets(struct gw_http *h, struct gw_http_secrets *s, char *err, size_t errlen);

/* ---- httpconn.c ---- */

/* The connection record of con (NULL: none, out of memory). */
struct gw_conn *http_conn_of(struct MHD_Connection *con);
/* The seconds a connection without a request may stay idle now (fewer
 * when the server is over half full). */
unsigned http_idle_secs(const struct gw_http *h);
/* con has no request in progress: its idle time. */
void http_idle_timeout(struct gw_http *h, struct MHD_Connection *con);
/* The door's listening socket held while the connections (the door's
 * and libmicrohttpd's) are one over max_clients, else watched. */
void http_room_check(struct gw_http *h);
/* Over max_clients (newcomer: the connection just opened, else NULL): the
 * connection conns.c chooses goes. */
void http_make_room(struct gw_http *h, struct gw_conn *newcomer);
/* Its timer (h->room: a grace ends) made ready. */
void http_room_init(struct gw_http *h);
/* libmicrohttpd's callbacks: a connection accepted, opened or closed, a
 * line of its log. */
enum MHD_Result http_on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
void http_on_connection(void *cls, struct MHD_Connection *con, void **socket_ctx,
			enum MHD_ConnectionNotificationCode toe);
void http_on_log(void *cls, const char *fmt, va_list ap);

/* ---- door.c ---- */

/* With HTTPS: the door accepts on fd (taken over), libmicrohttpd started
 * without a listening socket. */
void http_door_start(struct gw_http *h, int fd);
/* Every connection the door holds closed, and its listening socket. */
void http_door_stop(struct gw_http *h);

#endif
