/* SPDX-License-Identifier: MIT */
/* gateway/web/web.c - the HTTP server (status page, JSON API, metrics) as
 * the daemon sees it: its row of the service table (model/service.h).
 *
 * A reload that changes a restart key of [http] (http_conf.c; adding or
 * removing tls_cert is one: HTTP and HTTPS are two servers) replaces it: a
 * new listen address is opened in prepare, so a reload to an address that
 * cannot be had fails whole; new settings on the same address restart the
 * server at commit (the old socket goes first).  Every reload reads the
 * certificate, its key and the users file again in prepare, even under
 * the same names (a certificate renewed in place): a file that is not
 * good fails the reload and the server keeps what it has; a server kept
 * takes them at commit without closing a connection.
 *
 * The setup API's state (setup/) is made with the first server and
 * outlives the servers a reload replaces (gw->setup): its detections,
 * its change log, the setup code and an answer owed are the daemon's, not
 * one server's.  It hears the [http] in force at every commit.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../core/prom.h"
#include "../model/gw.h"
#include "http.h"
#include "http_conf.h"
#include "setup/setup.h"

struct web_out {
	struct gw_http *h;             /* NULL: started at commit */
	struct gw_http_secrets sec;    /* read in prepare, taken at commit */
};

static long web_fds(const struct conf *c)
{
	/* its clients and one more (conns.h), the listening socket, MHD's
	 * epoll, its wakeup, the epoll of suspended requests; with HTTPS the
	 * spare descriptor of the door's acceptor (door.c) */
	const struct conf_http *w = gw_http_cfg(c);
	return w->enabled ? w->max_clients + 5L + (w->tls_cert[0] != '\0') : 0;
}

static int web_prepare(struct gw_svc_ctx *x)
{
	const struct web_out *cur = x->cur;
	const struct conf_http *c = gw_http_cfg(x->nc), *oc = cur ? gw_http_conf(cur->h) : NULL;
	x->next = NULL;
	if (!c->enabled)
		return 0;
	if (!x->gw->setup && !(x->gw->setup = gw_setup_new(x->gw)))
		gw_err("http: the setup API cannot start (out of memory, or no thread): the Setup tab is off");
	struct gw_http_secrets sec;
	if (gw_http_secrets_load(c, &sec, x->err, x->errlen) < 0)
		return -1;
	if (oc && conf_section_same(&gw_http_section, CONF_RESTART, oc, c)) {
		struct web_out *kept = x->cur;
		gw_http_secrets_free(&kept->sec);
		kept->sec = sec;
		x->next = x->cur;
		return 0;
	}
	struct web_out *w = calloc(1, sizeof(*w));
	if (!w) {
		gw_http_secrets_free(&sec);
		snprintf(x->err, x->errlen, "out of memory");
		return -1;
	}
	bool moved = !oc || strcmp(oc->listen_host, c->listen_host) != 0 || oc->listen_port != c->listen_port;
	if (moved && !(w->h = gw_http_new(x->gw, c, &sec, x->may_block, x->err, x->errlen))) {
		free(w);
		return -1;
	}
	w->sec = sec; /* empty when taken */
	x->next = w;
	return 0;
}

static void web_free(struct web_out *w)
{
	gw_http_free(w->h);
	gw_http_secrets_free(&w->sec);
	free(w);
}

static void web_stop(const struct gw_svc_ctx *x)
{
	web_free(x->cur);
}

static void *web_commit(const struct gw_svc_ctx *x)
{
	struct web_out *w = x->next;
	if (w)
		gw_setup_conf(x->gw->setup, gw_http_cfg(x->nc));
	if (x->cur && x->cur != w)
		web_free(x->cur); /* its history queries first */
	if (w && w->h && w == x->cur)
		gw_http_take_live(w->h, gw_http_cfg(x->nc), &w->sec);
	if (w && !w->h) {
		/* the same address with new settings: its old socket is closed now */
		char err[300];
		if (!(w->h = gw_http_new(x->gw, gw_http_cfg(x->nc), &w->sec, false, err, sizeof(err)))) {
			gw_err("%s", err);
			free(w);
			return NULL;
		}
	}
	return w;
}

static void web_discard(const struct gw_svc_ctx *x)
{
	if (x->next && x->next != x->cur)
		web_free(x->next);
	else if (x->next)
		gw_http_secrets_free(&((struct web_out *)x->next)->sec); /* the server keeps what it has */
}

static void web_at_exit(const struct gw_svc_ctx *x)
{
	gw_setup_free(x->gw->setup);
	x->gw->setup = NULL;
}

static const void *web_held(void *st, const struct conf_section *s, const char *name)
{
	(void)name;
	const struct web_out *w = st;
	return s == &gw_http_section && w->h ? gw_http_conf(w->h) : NULL;
}

static void web_status_json(void *st, const struct gw *gw, FILE *o)
{
	(void)gw;
	struct gw_http_info hi;
	gw_http_info(((struct web_out *)st)->h, &hi);
	fprintf(o, "{\"clients\":%d,\"event_streams\":%d,\"requests\":%lu,\"refused\":%lu,\"https\":%s,"
		"\"login_failures\":%lu,\"plain_logins\":%lu,\"gave_way\":%lu,\"address_full\":%lu,"
		"\"misdirected\":%lu,\"redirected\":%lu}", hi.clients, hi.sse_clients, hi.requests, hi.refused,
		hi.https ? "true" : "false", hi.login_failures, hi.plain_logins, hi.gave_way, hi.address_full,
		hi.misdirected, hi.redirected);
}

static void web_metrics(void *st, const struct gw *gw, FILE *o)
{
	(void)gw;
	struct gw_http_info hi;
	gw_http_info(((struct web_out *)st)->h, &hi);
	const struct gw_prom_metric mm[] = {
		{ "bmsgw_http_clients", "gauge", "HTTP connections open.", hi.clients },
		{ "bmsgw_http_event_streams", "gauge", "Live pages (server-sent event streams) open.", hi.sse_clients },
		{ "bmsgw_http_requests_total", "counter", "HTTP requests.", (double)hi.requests },
		{ "bmsgw_http_refused_total", "counter", "HTTP connections refused (clients allowlist).",
		  (double)hi.refused },
		{ "bmsgw_http_login_failures_total", "counter", "HTTP logins refused (wrong user name or password).",
		  (double)hi.login_failures },
		{ "bmsgw_http_plain_logins_total", "counter", "HTTP requests with a login refused over plain HTTP.",
		  (double)hi.plain_logins },
		{ "bmsgw_http_gave_way_total", "counter",
		  "HTTP connections closed, all max_clients taken, to make room for a new one.", (double)hi.gave_way },
		{ "bmsgw_http_address_full_total", "counter",
		  "HTTP connections refused: their address held a quarter of max_clients already.",
		  (double)hi.address_full },
		{ "bmsgw_http_misdirected_total", "counter",
		  "HTTP requests refused (421): their Host is not a name of this gateway (DNS rebinding).",
		  (double)hi.misdirected },
		{ "bmsgw_http_redirected_total", "counter",
		  "Plain HTTP requests to the HTTPS port answered with a redirect to HTTPS (301, 308).",
		  (double)hi.redirected },
	};
	gw_prom_singles(o, mm, sizeof(mm) / sizeof(mm[0]));
}

static void web_polled(void *st, struct gw_pack *p, bool ok)
{
	(void)p;
	(void)ok;
	gw_http_changed(((struct web_out *)st)->h);
}

static const struct conf_section *const sections[] = { &gw_http_section, NULL };

const struct gw_service gw_svc_http = {
	.name = "http",
	.sections = sections,
	.fds = web_fds,
	.prepare = web_prepare,
	.commit = web_commit,
	.discard = web_discard,
	.stop = web_stop,
	.at_exit = web_at_exit,
	.held = web_held,
	.status_json = web_status_json,
	.metrics = web_metrics,
	.polled = web_polled,
};
