/* SPDX-License-Identifier: MIT */
/* gateway/web/http.h - the read-only HTTP server: status page, JSON API,
 * server-sent events, history charts and CSV, Prometheus metrics
 * (libmicrohttpd driven by the libev loop, no thread). */
#ifndef GATEWAY_WEB_HTTP_H
#define GATEWAY_WEB_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "../model/service.h"

struct gw;
struct gw_http;
struct conf_http;
struct gw_creds;
struct gw_users;

/* The HTTP server's row of the service table (web.c). */
extern const struct gw_service gw_svc_http;

/* What section c's files hold: the certificate and key (tls_cert), the
 * users (users_file); NULL each without its key. */
struct gw_http_secrets {
	struct gw_creds *creds;
	struct gw_users *users;
};
/* Read them (at start and at every reload, even when the names did not
 * change: a certificate renewed in place): 0, or -1 with err. */
int gw_http_secrets_load(const struct conf_http *c, struct gw_http_secrets *s, char *err, size_t errlen);
void gw_http_secrets_free(struct gw_http_secrets *s);

/* Listen as section c says (enabled), with sec (taken over).  At start
 * (may_block) a listen name may go to the system resolver; at a reload
 * only an address or an /etc/hosts name.  NULL with err filled in when it
 * cannot listen. */
struct gw_http *gw_http_new(struct gw *gw, const struct conf_http *c, struct gw_http_secrets *sec, bool may_block,
			    char *err, size_t errlen);
/* A reload that keeps the server: c's live keys and new files s (taken
 * over): new handshakes get the new certificate, connections open keep
 * theirs; new users; metrics_public. */
void gw_http_take_live(struct gw_http *h, const struct conf_http *c, struct gw_http_secrets *s);
/* The [http] the server runs with (its own copy). */
const struct conf_http *gw_http_conf(const struct gw_http *h);
/* Something changed (a poll finished): live pages get the new state
 * within a second. */
void gw_http_changed(struct gw_http *h);
/* Close every connection and the listening socket; NULL is fine. */
void gw_http_free(struct gw_http *h);

struct gw_http_info {
	int clients;                   /* connections open */
	int sse_clients;               /* of them, live event streams */
	unsigned long requests;        /* requests received */
	unsigned long refused;         /* connections refused by the allowlist */
	bool https;
	unsigned long login_failures;  /* wrong user name or password */
	unsigned long plain_logins;    /* logins refused over plain HTTP */
	unsigned long gave_way;        /* connections closed, the server full, for a new one */
	unsigned long address_full;    /* connections refused: their address held its share */
	unsigned long misdirected;     /* requests refused (421): their Host not a name of this gateway */
	unsigned long redirected;      /* plain HTTP requests to the HTTPS port sent on to HTTPS */
};
void gw_http_info(const struct gw_http *h, struct gw_http_info *out);

/* The files of the page built into the binary (gateway/web/www/, see
 * gateway/web/www/embed.sh). */
struct gw_www_file {
	const char *path;              /* "/index.html" */
	const char *type;              /* Content-Type */
	const unsigned char *data;
	size_t len;
};
extern const struct gw_www_file gw_www_files[];

#endif
