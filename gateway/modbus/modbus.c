/* SPDX-License-Identifier: MIT */
/* gateway/modbus/modbus.c - the Modbus output as the daemon sees it: its
 * row of the service table (model/service.h): the TCP server (server.c) on
 * [gateway] listen (none when it is empty), the same server with TLS on
 * [modbus_tls] listen (Modbus/TCP Security, mbtls.c), the RTU server of [rtu] (rtu.c; both answer through request.c) and the
 * upstream pushers (upstream.c).
 *
 * A reload keeps the server and its clients; a new listen address is
 * opened in prepare (a failure refuses the reload whole), and only at
 * commit are the clients of the old address closed.  802's certificate,
 * key and CA are read again in prepare at every reload (a file that no
 * longer loads refuses the reload); the new context serves the connections
 * from the commit on, and those open keep theirs.  Pushers whose
 * settings did not change keep their connection.  The RTU port stays open
 * when no key of [rtu] that restarts it changed (its line: port, baud,
 * mode); otherwise the old port is closed at commit and the new one
 * opened.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/jsonw.h"
#include "../core/log.h"
#include "../core/net.h"
#include "../core/tlsconn.h"
#include "../core/prom.h"
#include "modbus.h"
#include "modbus_conf.h"
#include "rtu.h"
#include "server.h"
#include "upstream.h"

struct mb_out {
	struct gw_server *srv;         /* Modbus TCP ([gateway] listen), NULL = off */
	struct gw_server *tls_srv;     /* Modbus/TCP Security ([modbus_tls]), NULL = off */
	struct gw_upstream *upstreams;
	bool running;                  /* committed once (else prepare's state of a start that failed) */
	int next_fd;                   /* prepared: the new listening socket, -1 = none */
	int next_tls_fd;               /* ... of 802, -1 = none */
	struct gw_tls_ctx *next_ctx;   /* prepared: 802's context (its files read again), NULL = off */
	struct gw_rtu *rtu;            /* the RTU server, NULL without [rtu] */
	bool rtu_replace;              /* prepared: rtu gives way to next_rtu (NULL = none) */
	struct gw_rtu *next_rtu;
};

static long mb_fds(const struct conf *c)
{
	/* 502's clients are budgeted apart (max_clients); the pushers' sockets,
	 * the RTU port and its timerfd; 802's listening socket and clients (its
	 * own max_clients) */
	return gw_nupstreams(c) + (gw_rtu_cfg(c)->enabled ? 2 : 0) +
	       (gw_mbtls_cfg(c)->enabled ? c->gw.max_clients + 1 : 0);
}

/* What prepare made and commit will not take: the new sockets, the TLS
 * context and the RTU port (and the state itself, prepared at a start that
 * failed). */
static void forget(struct mb_out *m)
{
	if (m->next_fd >= 0)
		close(m->next_fd);
	if (m->next_tls_fd >= 0)
		close(m->next_tls_fd);
	m->next_fd = m->next_tls_fd = -1;
	gw_tls_ctx_free(m->next_ctx);
	m->next_ctx = NULL;
	gw_rtu_free(m->next_rtu);
	m->next_rtu = NULL;
	m->rtu_replace = false;
	if (!m->running)
		free(m);
}

/* 802: a new context for the connections from now on (every reload reads
 * the certificate, key and CA again: a renewed certificate at the same path
 * is taken), and a socket when its listen changed or it starts. */
static int prepare_tls(struct gw_svc_ctx *x, struct mb_out *m)
{
	const struct conf_modbus_tls *t = gw_mbtls_cfg(x->nc);
	m->next_ctx = NULL;
	m->next_tls_fd = -1;
	if (!t->enabled)
		return 0;
	char why[3 * CONF_PORT_MAX];
	m->next_ctx = gw_tls_server_ctx(t->cert, t->key, t->ca, why, sizeof(why));
	if (!m->next_ctx) {
		snprintf(x->err, x->errlen, "[modbus_tls]: %s", why);
		return -1;
	}
	bool moved = !m->tls_srv || !conf_section_same(&gw_mbtls_section, CONF_RESTART, gw_mbtls_cfg(x->gw->conf), t);
	if (moved && (m->next_tls_fd = gw_tcp_listen(t->listen_host, t->listen_port, x->may_block, x->err,
						     x->errlen)) < 0)
		return -1;
	return 0;
}

static int mb_prepare(struct gw_svc_ctx *x)
{
	const struct conf *nc = x->nc;
	struct mb_out *m = x->cur;
	if (!m) {
		if (!(m = calloc(1, sizeof(*m)))) {
			snprintf(x->err, x->errlen, "out of memory");
			return -1;
		}
		m->next_fd = m->next_tls_fd = -1;
	}
	x->next = m;
	/* a new socket when a key of [gateway] that restarts the server changed
	 * (conf/conf.c: listen); it reads the others as it goes */
	bool moved = !m->srv || !conf_section_same(&conf_sect_gateway, CONF_RESTART, &x->gw->conf->gw, &nc->gw);
	m->next_fd = -1;
	if (nc->gw.listen_port && moved &&
	    (m->next_fd = gw_server_listen(&nc->gw, x->may_block, x->err, x->errlen)) < 0) {
		forget(m);
		return -1;
	}
	if (prepare_tls(x, m) < 0) {
		forget(m);
		return -1;
	}
	/* the RTU port: kept when no key of [rtu] that restarts it changed */
	const struct conf_rtu *nr = gw_rtu_cfg(nc);
	m->rtu_replace = !(m->rtu && nr->enabled && conf_section_same(&gw_rtu_section, CONF_RESTART, gw_rtu_conf(m->rtu),
								       nr));
	m->next_rtu = NULL;
	if (m->rtu_replace && nr->enabled && !(m->next_rtu = gw_rtu_new(x->gw, nr))) {
		forget(m);
		snprintf(x->err, x->errlen, "out of memory");
		return -1;
	}
	return 0;
}

static void mb_discard(const struct gw_svc_ctx *x)
{
	forget(x->next);
}

/* One TCP server under the new configuration: started, moved, kept or
 * stopped (fd: its new socket or -1; tls: its context, 802 only). */
static struct gw_server *commit_server(struct gw *gw, const char *name, struct gw_server *srv, bool on, int fd,
				       struct gw_tls_ctx *tls)
{
	if (!on) {
		if (srv)
			gw_info("%s server stopped: its clients are closed", name);
		gw_server_free(srv);
		return NULL;
	}
	if (!srv) {
		srv = gw_server_new(gw, fd, tls); /* it owns the socket and context either way */
		if (!srv)
			gw_err("the %s server could not start: its clients are not served", name);
		return srv;
	}
	if (tls)
		gw_server_set_tls(srv, tls);
	gw_server_apply(srv, fd);
	return srv;
}

static void *mb_commit(const struct gw_svc_ctx *x)
{
	struct gw *gw = x->gw;
	struct mb_out *m = x->next;
	m->srv = commit_server(gw, "Modbus TCP", m->srv, gw->conf->gw.listen_port != 0, m->next_fd, NULL);
	m->tls_srv = commit_server(gw, "Modbus/TCP Security", m->tls_srv, gw_mbtls_cfg(gw->conf)->enabled, m->next_tls_fd,
				   m->next_ctx);
	m->next_fd = m->next_tls_fd = -1;
	m->next_ctx = NULL;
	m->running = true;
	if (m->rtu_replace) {
		gw_rtu_free(m->rtu); /* the old port is closed before the new one opens */
		m->rtu = m->next_rtu;
		m->next_rtu = NULL;
		m->rtu_replace = false;
		if (m->rtu)
			gw_rtu_start(m->rtu);
	} else if (m->rtu) {
		gw_rtu_apply(m->rtu, gw_rtu_cfg(gw->conf));
	}
	m->upstreams = gw_upstreams_apply(gw, m->upstreams);
	return m;
}

static void mb_stop(const struct gw_svc_ctx *x)
{
	struct mb_out *m = x->cur;
	gw_upstreams_free(m->upstreams);
	gw_rtu_free(m->rtu);
	gw_server_free(m->srv);
	gw_server_free(m->tls_srv);
	free(m);
}

/* The pushers' and the RTU server's copies ([gateway] is read from the
 * running configuration as the server goes). */
static const void *mb_held(void *st, const struct conf_section *s, const char *name)
{
	const struct mb_out *m = st;
	if (s == &gw_upstream_section && name)
		return gw_upstream_conf(m->upstreams, name);
	return s == &gw_rtu_section && m->rtu ? gw_rtu_conf(m->rtu) : NULL;
}

/* One server's counters and clients, the members 502 and 802 share. */
static void server_json(const struct gw_server *srv, const char *host, int port, FILE *o)
{
	struct gw_server_info si;
	gw_server_info(srv, &si);
	bool v6 = strchr(host, ':') != NULL;
	if (port)
		fprintf(o, "\"listen\":\"%s%s%s:%d\"", v6 ? "[" : "", host, v6 ? "]" : "", port);
	else
		fprintf(o, "\"listen\":\"\"");
	fprintf(o, ",\"connections\":%lu,\"refused\":%lu,\"requests\":%lu,\"exceptions\":%lu,\"clients\":",
		si.accepted, si.refused, si.requests, si.exceptions);
	gw_server_clients_json(srv, o);
}

/* Modbus/TCP Security: 502's members, the handshakes and the role that writes. */
static void tls_json(const struct mb_out *m, const struct gw *gw, FILE *o)
{
	const struct conf_modbus_tls *t = gw_mbtls_cfg(gw->conf);
	if (!m->tls_srv) {
		fprintf(o, "null");
		return;
	}
	struct gw_server_info si;
	gw_server_info(m->tls_srv, &si);
	fputc('{', o);
	server_json(m->tls_srv, t->listen_host, t->listen_port, o);
	fprintf(o, ",\"tls\":true,\"handshakes\":%d,\"handshakes_silent\":%d,\"handshake_failed\":%lu,"
		"\"handshake_dropped\":%lu,\"write_role\":", si.handshakes, si.silent, si.hs_failed, si.hs_dropped);
	gw_json_str(o, t->write_role);
	fputc('}', o);
}

/* The upstream pushers: each one's destination, source and counters. */
static void upstreams_json(const struct mb_out *m, FILE *o)
{
	fputc('[', o);
	struct gw_upstream_info ui;
	for (const struct gw_upstream *u = m->upstreams; u; u = ui.next) {
		gw_upstream_info(u, &ui);
		const struct conf_upstream *c = ui.cfg;
		fprintf(o, "%s{\"name\":", u == m->upstreams ? "" : ",");
		gw_json_str(o, c->name);
		fprintf(o, ",\"host\":");
		gw_json_str(o, c->host);
		fprintf(o, ",\"port\":%d,\"unit_id\":%d,\"address\":%d,\"registers\":[%d,%d],\"source\":", c->port,
			c->unit_id, c->base, c->reg_first, c->reg_last);
		gw_json_str(o, c->source);
		fprintf(o, ",\"connected\":%s,\"source_stale\":%s,\"pushes\":%lu,\"failures\":%lu,\"last_exception\":",
			ui.connected ? "true" : "false", ui.source_stale ? "true" : "false", ui.pushes, ui.failures);
		if (ui.last_exception > 0)
			fprintf(o, "%d}", ui.last_exception);
		else
			fprintf(o, "null}");
	}
	fputc(']', o);
}

static void mb_status_json(void *st, const struct gw *gw, FILE *o)
{
	const struct mb_out *m = st;
	const struct conf_gateway *g = &gw->conf->gw;
	fprintf(o, "{\"base\":%d,\"max_clients\":%d,", g->base, g->max_clients);
	server_json(m->srv, g->listen_host, m->srv ? g->listen_port : 0, o);
	fprintf(o, ",\"tls\":");
	tls_json(m, gw, o);
	fprintf(o, ",\"rtu\":");
	if (m->rtu)
		gw_rtu_status_json(m->rtu, o);
	else
		fprintf(o, "null");
	fprintf(o, ",\"upstreams\":");
	upstreams_json(m, o);
	fputc('}', o);
}

static void tls_metrics(const struct mb_out *m, FILE *o)
{
	struct gw_server_info si;
	gw_server_info(m->tls_srv, &si);
	const struct gw_prom_metric mm[] = {
		{ "bmsgw_modbus_tls_clients", "gauge", "Modbus/TCP Security clients connected (handshakes included).",
		  si.clients },
		{ "bmsgw_modbus_tls_connections_total", "counter", "Modbus/TCP Security connections served.",
		  (double)si.accepted },
		{ "bmsgw_modbus_tls_refused_total", "counter",
		  "Modbus/TCP Security connections closed at once (max_clients, descriptors).", (double)si.refused },
		{ "bmsgw_modbus_tls_requests_total", "counter", "Modbus/TCP Security requests answered.",
		  (double)si.requests },
		{ "bmsgw_modbus_tls_exceptions_total", "counter",
		  "Modbus/TCP Security requests answered with an exception.", (double)si.exceptions },
		{ "bmsgw_modbus_tls_handshakes", "gauge", "Modbus/TCP Security TLS handshakes in flight.", si.handshakes },
		{ "bmsgw_modbus_tls_handshakes_silent", "gauge",
		  "Modbus/TCP Security handshakes in flight whose client has sent nothing yet (no TLS state).", si.silent },
		{ "bmsgw_modbus_tls_handshake_failed_total", "counter",
		  "Modbus/TCP Security handshakes refused (certificate, protocol), timed out or closed by the client.", (double)si.hs_failed },
		{ "bmsgw_modbus_tls_handshake_dropped_total", "counter",
		  "Modbus/TCP Security unfinished handshakes dropped for new connections.", (double)si.hs_dropped },
	};
	gw_prom_singles(o, mm, sizeof(mm) / sizeof(mm[0]));
}

/* bmsgw_upstream_*{upstream="NAME"}: a family, a sample a pusher. */
static void upstreams_metrics(const struct mb_out *m, FILE *o)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "bmsgw_upstream_up", "gauge", "Upstream pusher: 1 while its connection to the server is up." },
		{ "bmsgw_upstream_pushes_total", "counter", "Upstream pushes whose every write the server took." },
		{ "bmsgw_upstream_failures_total", "counter",
		  "Upstream writes refused, not answered or answered with what is not their echo." },
	};
	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		gw_prom_family(o, fam[f].name, fam[f].type, fam[f].help);
		struct gw_upstream_info ui;
		for (const struct gw_upstream *u = m->upstreams; u; u = ui.next) {
			gw_upstream_info(u, &ui);
			fprintf(o, "%s{upstream=", fam[f].name);
			gw_prom_label(o, ui.cfg->name);
			fputc('}', o);
			gw_prom_value(o, f == 0 ? ui.connected : f == 1 ? (double)ui.pushes : (double)ui.failures);
		}
	}
}

static void mb_metrics(void *st, const struct gw *gw, FILE *o)
{
	(void)gw;
	const struct mb_out *m = st;
	struct gw_server_info si;
	gw_server_info(m->srv, &si);
	const struct gw_prom_metric mm[] = {
		{ "bmsgw_modbus_clients", "gauge", "Modbus TCP clients connected.", si.clients },
		{ "bmsgw_modbus_connections_total", "counter", "Modbus TCP connections served.", (double)si.accepted },
		{ "bmsgw_modbus_refused_total", "counter",
		  "Modbus TCP connections closed at once (max_clients, descriptors).", (double)si.refused },
		{ "bmsgw_modbus_requests_total", "counter", "Modbus requests answered.", (double)si.requests },
		{ "bmsgw_modbus_exceptions_total", "counter", "Modbus requests answered with an exception.",
		  (double)si.exceptions },
	};
	gw_prom_singles(o, mm, sizeof(mm) / sizeof(mm[0]));
	if (m->tls_srv)
		tls_metrics(m, o);
	if (m->rtu)
		gw_rtu_metrics(m->rtu, o);
	if (m->upstreams)
		upstreams_metrics(m, o);
}

static const struct conf_section *const sections[] = { &gw_upstream_section, &gw_sunspec_section,
	&gw_rtu_section, &gw_mbtls_section, NULL };

const struct gw_service gw_svc_modbus = {
	.name = "modbus",
	.sections = sections,
	.fds = mb_fds,
	.prepare = mb_prepare,
	.commit = mb_commit,
	.discard = mb_discard,
	.stop = mb_stop,
	.held = mb_held,
	.status_json = mb_status_json,
	.metrics = mb_metrics,
};
